//! The log's HTTP API (axum), to mount at the root of the node's HTTP listener:
//! - RFC 6962 §4 under `/ct/v1/`: `add-chain`, `add-pre-chain`, `get-roots`, `get-sth`,
//!   `get-sth-consistency`, `get-proof-by-hash`, `get-entries`, `get-entry-and-proof`,
//!   the proofs computed from the tiles;
//! - static-ct-api under `/ct/`: `checkpoint`, `tile/...`, `issuer/<fingerprint>`, and
//!   `log.json`, the log's entry as a log list v3 describes it;
//! - the node's own API under `/api/v1/ct/`: `logs`, `add-chain`, `get-sth`,
//!   `get-entries`, `certificates/{fingerprint}` (status `logged`, `pending`, `missing`,
//!   or `revoked` when one of the log's CRLs lists it, see [`crate::crl`]).
//!
//! The node mounts it beside its own routes:
//!
//! ```no_run
//! # async fn mount(node_routes: axum::Router, data_dir: std::path::PathBuf) -> Result<axum::Router, zdns_ct::log::LogError> {
//! use std::sync::Arc;
//! use zdns_ct::log::{Log, LogConfig};
//! let log = Arc::new(Log::open_local(LogConfig::embedded(data_dir.join("ct"))).await?);
//! Ok(node_routes.merge(zdns_ct::http::router(log)))
//! # }
//! ```

use std::borrow::Cow;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::chain::{ChainError, ChainKind, MAX_CHAIN_LEN};
use crate::entry::SignedEntry;
use crate::log::{AddError, LeafStatus, Log, ReadError};
use crate::merkle::Hash;
use crate::sct::Sct;
use crate::storage::hex;
use crate::tiles::data::TileLeaf;
use crate::tls::put_vec;

/// The most entries one `get-entries` answers (at most one data tile's worth).
pub const MAX_ENTRIES: u64 = 256;

/// The routes of one log, for the node to merge into its router.
pub fn router(log: Arc<Log>) -> Router {
    Router::new()
        .route("/ct/v1/add-chain", post(add_chain))
        .route("/ct/v1/add-pre-chain", post(add_pre_chain))
        .route("/ct/v1/get-roots", get(get_roots))
        .route("/ct/v1/get-sth", get(get_sth))
        .route("/ct/v1/get-sth-consistency", get(get_sth_consistency))
        .route("/ct/v1/get-proof-by-hash", get(get_proof_by_hash))
        .route("/ct/v1/get-entries", get(get_entries))
        .route("/ct/v1/get-entry-and-proof", get(get_entry_and_proof))
        .route("/ct/checkpoint", get(checkpoint))
        .route("/ct/tile/{*path}", get(tile))
        .route("/ct/issuer/{fingerprint}", get(issuer))
        .route("/ct/log.json", get(log_json))
        .route("/api/v1/ct/logs", get(api_logs))
        .route("/api/v1/ct/add-chain", post(api_add_chain))
        .route("/api/v1/ct/get-sth", get(get_sth))
        .route("/api/v1/ct/get-entries", get(api_get_entries))
        .route(
            "/api/v1/ct/certificates/{fingerprint}",
            get(api_certificate),
        )
        .with_state(log)
}

/// An error response with a JSON body `{"error": …}`.
struct ApiError {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn bad(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            retry_after: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Json(json!({ "error": self.message }))).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<AddError> for ApiError {
    fn from(e: AddError) -> Self {
        let (status, retry_after) = match &e {
            AddError::Chain(_) | AddError::Cert(_) => (StatusCode::BAD_REQUEST, None),
            AddError::Busy { retry_after } => (
                StatusCode::SERVICE_UNAVAILABLE,
                Some(retry_after.as_secs().max(1)),
            ),
            AddError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, Some(1)),
        };
        ApiError {
            status,
            message: e.to_string(),
            retry_after,
        }
    }
}

impl From<ReadError> for ApiError {
    fn from(e: ReadError) -> Self {
        let status = match e {
            ReadError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ReadError::NotFound => StatusCode::NOT_FOUND,
            ReadError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError {
            status,
            message: e.to_string(),
            retry_after: None,
        }
    }
}

type ApiResult = Result<Response, ApiError>;

/// The body of `add-chain` and `add-pre-chain` (RFC 6962 §4.1), its strings borrowed
/// from the request body (owned only when JSON escapes had to be undone).
#[derive(Deserialize)]
struct ChainBody<'a> {
    #[serde(borrow)]
    chain: Vec<Cow<'a, str>>,
}

/// Parses an add-chain body and decodes its certificates, each straight from the
/// request bytes into a buffer of its decoded size.
fn decode_chain(body: &[u8]) -> Result<Vec<Vec<u8>>, ApiError> {
    let parsed: ChainBody<'_> = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad(format!("the body is not {{\"chain\": [...]}}: {e}")))?;
    if parsed.chain.is_empty() || parsed.chain.len() > MAX_CHAIN_LEN {
        return Err(AddError::Chain(ChainError::Length(parsed.chain.len())).into());
    }
    parsed
        .chain
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut der = vec![0; base64::decoded_len_estimate(c.len())];
            let len = STANDARD
                .decode_slice(c.as_bytes(), &mut der)
                .map_err(|e| ApiError::bad(format!("chain[{i}] is not base64: {e}")))?;
            der.truncate(len);
            Ok(der)
        })
        .collect()
}

/// The JSON of an SCT (RFC 6962 §4.1), with the node API's extra fields.
#[derive(Serialize)]
struct SctJson {
    sct_version: u8,
    id: String,
    timestamp: u64,
    extensions: String,
    signature: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    leaf_index: Option<Option<u64>>,
}

impl SctJson {
    fn new(sct: &Sct) -> Result<Self, ApiError> {
        let signature = sct.signature.to_bytes().map_err(internal)?;
        Ok(SctJson {
            sct_version: 0,
            id: STANDARD.encode(sct.log_id),
            timestamp: sct.timestamp,
            extensions: STANDARD.encode(&sct.extensions),
            signature: STANDARD.encode(signature),
            log_id: None,
            leaf_index: None,
        })
    }
}

async fn submit(log: &Log, body: &[u8], kind: ChainKind) -> ApiResult {
    let chain = decode_chain(body)?;
    let sct = log.add_chain_owned(chain, kind).await?;
    Ok(Json(SctJson::new(&sct)?).into_response())
}

async fn add_chain(State(log): State<Arc<Log>>, body: Bytes) -> ApiResult {
    submit(&log, &body, ChainKind::Certificate).await
}

async fn add_pre_chain(State(log): State<Arc<Log>>, body: Bytes) -> ApiResult {
    submit(&log, &body, ChainKind::Precertificate).await
}

async fn get_roots(State(log): State<Arc<Log>>) -> ApiResult {
    let certs: Vec<String> = log
        .roots()
        .certs()
        .iter()
        .map(|c| STANDARD.encode(c))
        .collect();
    Ok(Json(json!({ "certificates": certs })).into_response())
}

fn internal(e: impl ToString) -> ApiError {
    ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: e.to_string(),
        retry_after: None,
    }
}

async fn get_sth(State(log): State<Arc<Log>>) -> ApiResult {
    let head = log.head();
    let signature = head.sth.signature.to_bytes().map_err(internal)?;
    Ok(Json(json!({
        "tree_size": head.sth.size,
        "timestamp": head.sth.timestamp,
        "sha256_root_hash": STANDARD.encode(head.sth.root.0),
        "tree_head_signature": STANDARD.encode(signature),
    }))
    .into_response())
}

fn proof_json(proof: &[Hash]) -> Vec<String> {
    proof.iter().map(|h| STANDARD.encode(h.0)).collect()
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    first: u64,
    second: u64,
}

async fn get_sth_consistency(
    State(log): State<Arc<Log>>,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult {
    let proof = if q.first == q.second && q.second <= log.head().sth.size {
        Vec::new()
    } else {
        log.consistency_proof(q.first, q.second).await?
    };
    Ok(Json(json!({ "consistency": proof_json(&proof) })).into_response())
}

#[derive(Deserialize)]
struct ProofByHashQuery {
    hash: String,
    tree_size: u64,
}

async fn get_proof_by_hash(
    State(log): State<Arc<Log>>,
    Query(q): Query<ProofByHashQuery>,
) -> ApiResult {
    let bytes = STANDARD
        .decode(&q.hash)
        .map_err(|e| ApiError::bad(format!("hash is not base64: {e}")))?;
    let hash = Hash::try_from(bytes.as_slice()).map_err(|e| ApiError::bad(e.to_string()))?;
    let index = log.index_of(&hash).ok_or(ApiError {
        status: StatusCode::NOT_FOUND,
        message: "no entry with that leaf hash".into(),
        retry_after: None,
    })?;
    if index >= q.tree_size {
        return Err(ApiError::bad(format!(
            "the entry ({index}) is not in the tree of {}",
            q.tree_size
        )));
    }
    let proof = log.inclusion_proof(index, q.tree_size).await?;
    Ok(Json(json!({ "leaf_index": index, "audit_path": proof_json(&proof) })).into_response())
}

/// `leaf_input` and `extra_data` of an entry (RFC 6962 §4.6).
fn entry_json(leaf: &TileLeaf, chain: &[Vec<u8>]) -> Result<(String, String), ApiError> {
    let leaf_input = leaf.entry.merkle_tree_leaf().map_err(internal)?;
    let mut certs = Vec::new();
    for c in chain {
        put_vec(&mut certs, 3, 1, c, "ASN.1Cert").map_err(internal)?;
    }
    let mut extra = Vec::new();
    if let (SignedEntry::Precert(_), Some(pre)) = (&leaf.entry.entry, &leaf.pre_certificate) {
        put_vec(&mut extra, 3, 1, pre, "pre_certificate").map_err(internal)?;
    }
    put_vec(&mut extra, 3, 0, &certs, "certificate_chain").map_err(internal)?;
    Ok((STANDARD.encode(leaf_input), STANDARD.encode(extra)))
}

#[derive(Deserialize)]
struct EntriesQuery {
    start: u64,
    end: u64,
}

fn clamp(q: &EntriesQuery) -> Result<(u64, u64), ApiError> {
    if q.end < q.start {
        return Err(ApiError::bad("end is before start"));
    }
    Ok((q.start, q.end.min(q.start.saturating_add(MAX_ENTRIES - 1))))
}

async fn get_entries(State(log): State<Arc<Log>>, Query(q): Query<EntriesQuery>) -> ApiResult {
    let (start, end) = clamp(&q)?;
    let mut entries = Vec::new();
    for (leaf, chain) in log.entries(start, end).await? {
        let (leaf_input, extra_data) = entry_json(&leaf, &chain)?;
        entries.push(json!({ "leaf_input": leaf_input, "extra_data": extra_data }));
    }
    Ok(Json(json!({ "entries": entries })).into_response())
}

#[derive(Deserialize)]
struct EntryAndProofQuery {
    leaf_index: u64,
    tree_size: u64,
}

async fn get_entry_and_proof(
    State(log): State<Arc<Log>>,
    Query(q): Query<EntryAndProofQuery>,
) -> ApiResult {
    if q.leaf_index >= q.tree_size {
        return Err(ApiError::bad("leaf_index is not within tree_size"));
    }
    let proof = log.inclusion_proof(q.leaf_index, q.tree_size).await?;
    let (leaf, chain) = log
        .entries(q.leaf_index, q.leaf_index)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| internal("the entry vanished"))?;
    let (leaf_input, extra_data) = entry_json(&leaf, &chain)?;
    Ok(Json(json!({
        "leaf_input": leaf_input,
        "extra_data": extra_data,
        "audit_path": proof_json(&proof),
    }))
    .into_response())
}

fn object(bytes: Vec<u8>, content_type: &'static str, immutable: bool) -> Response {
    let cache = if immutable {
        "public, max-age=604800, immutable"
    } else {
        "no-store"
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response()
}

async fn checkpoint(State(log): State<Arc<Log>>) -> ApiResult {
    let bytes = log.read_object("checkpoint").await?;
    Ok(object(bytes, "text/plain; charset=utf-8", false))
}

async fn tile(State(log): State<Arc<Log>>, Path(path): Path<String>) -> ApiResult {
    let bytes = log.read_object(&format!("tile/{path}")).await?;
    Ok(object(bytes, "application/octet-stream", true))
}

async fn issuer(State(log): State<Arc<Log>>, Path(fp): Path<String>) -> ApiResult {
    let bytes = log.read_object(&format!("issuer/{fp}")).await?;
    Ok(object(bytes, "application/pkix-cert", true))
}

fn log_entry(log: &Log) -> Value {
    let config = log.config();
    let key = log.key().public();
    json!({
        "description": config.description,
        "log_id": STANDARD.encode(key.log_id()),
        "key": STANDARD.encode(key.spki_der()),
        "url": config.submission_url,
        "submission_url": config.submission_url,
        "monitoring_url": config.monitoring_url,
        "mmd": config.mmd,
    })
}

async fn log_json(State(log): State<Arc<Log>>) -> ApiResult {
    Ok(Json(log_entry(&log)).into_response())
}

async fn api_logs(State(log): State<Arc<Log>>) -> ApiResult {
    let mut entry = log_entry(&log);
    let head = log.head();
    if let Some(map) = entry.as_object_mut() {
        map.insert("tree_size".into(), json!(head.sth.size));
        map.insert("origin".into(), json!(log.config().origin));
    }
    Ok(Json(json!([entry])).into_response())
}

/// The node API's `add-chain`: a certificate or a precertificate (chosen by the
/// poison extension), answered with the SCT, its log ID and leaf index.
async fn api_add_chain(State(log): State<Arc<Log>>, body: Bytes) -> ApiResult {
    let chain = decode_chain(&body)?;
    let leaf = chain.first().ok_or_else(|| ApiError::bad("empty chain"))?;
    let kind = match crate::cert::is_precertificate(leaf) {
        Ok(true) => ChainKind::Precertificate,
        Ok(false) => ChainKind::Certificate,
        Err(e) => return Err(ApiError::bad(e.to_string())),
    };
    let sct = log.add_chain_owned(chain, kind).await?;
    let mut out = SctJson::new(&sct)?;
    out.log_id = Some(out.id.clone());
    out.leaf_index = Some(sct.leaf_index().ok().flatten());
    Ok(Json(out).into_response())
}

async fn api_get_entries(State(log): State<Arc<Log>>, Query(q): Query<EntriesQuery>) -> ApiResult {
    let (start, end) = clamp(&q)?;
    let mut out = Vec::new();
    for (i, (leaf, chain)) in (start..).zip(log.entries(start, end).await?) {
        let (kind, cert) = match (&leaf.entry.entry, &leaf.pre_certificate) {
            (SignedEntry::Precert(_), Some(pre)) => ("precert", pre.as_slice()),
            (SignedEntry::Precert(p), None) => ("precert", p.tbs_certificate.as_slice()),
            (SignedEntry::X509(c), _) => ("x509", c.as_slice()),
        };
        out.push(json!({
            "leaf_index": i,
            "timestamp": leaf.entry.timestamp,
            "entry_type": kind,
            "fingerprint": hex(&crate::chain::fingerprint(cert)),
            "certificate": STANDARD.encode(cert),
            "chain": chain.iter().map(|c| STANDARD.encode(c)).collect::<Vec<_>>(),
        }));
    }
    Ok(Json(out).into_response())
}

/// `GET /api/v1/ct/certificates/{fingerprint}` (seed §7.2): a submitted leaf's status by
/// the SHA-256 of its DER.
async fn api_certificate(State(log): State<Arc<Log>>, Path(fp): Path<String>) -> ApiResult {
    let bytes = parse_hex32(&fp).ok_or_else(|| {
        ApiError::bad("the fingerprint must be 64 hex digits (SHA-256 of the DER)")
    })?;
    let body = match log.status(&bytes) {
        LeafStatus::Logged {
            precert,
            leaf_index,
            timestamp,
        } => json!({
            "fingerprint": hex(&bytes),
            "status": match log.revoked(leaf_index).await? {
                true => "revoked",
                false => "logged",
            },
            "entry_type": if precert { "precert" } else { "x509" },
            "leaf_index": leaf_index,
            "timestamp": timestamp,
            "log_id": STANDARD.encode(log.key().public().log_id()),
        }),
        LeafStatus::Pending { precert } => json!({
            "fingerprint": hex(&bytes),
            "status": "pending",
            "entry_type": if precert { "precert" } else { "x509" },
        }),
        LeafStatus::Missing => json!({ "fingerprint": hex(&bytes), "status": "missing" }),
    };
    Ok(Json(body).into_response())
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *o = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_chain_reads_borrowed_and_escaped_strings() {
        // "/+8=" is [0xff, 0xef]; JSON may escape the slash.
        for body in [
            br#"{"chain": ["/+8=", "AAE="]}"#.as_slice(),
            br#"{"chain": ["\/+8=", "AAE="]}"#.as_slice(),
        ] {
            let chain = decode_chain(body).unwrap_or_default();
            assert_eq!(chain, vec![vec![0xff, 0xef], vec![0x00, 0x01]]);
        }
    }

    #[test]
    fn decode_chain_refuses_what_is_not_a_chain() {
        let too_long = format!(
            r#"{{"chain": [{}]}}"#,
            vec![r#""AAE=""#; MAX_CHAIN_LEN + 1].join(",")
        );
        for body in [
            br#"{"chain": []}"#.as_slice(),
            too_long.as_bytes(),
            br#"{"chain": ["!!"]}"#.as_slice(),
            br#"{"chain": ["AAE"]}"#.as_slice(),
            br#"{"nope": 1}"#.as_slice(),
            br#"{"chain": "AAE="}"#.as_slice(),
            b"not json".as_slice(),
            b"".as_slice(),
        ] {
            let e = decode_chain(body).err();
            assert_eq!(
                e.map(|e| e.status),
                Some(StatusCode::BAD_REQUEST),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
