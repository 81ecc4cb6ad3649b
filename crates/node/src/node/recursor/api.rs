//! The resolver's part of the management API (on the HTTP listener):
//!
//! - `GET /api/v1/resolve?name=NAME`: the client resolution of seed 003 §14.2 as JSON
//!   (the shape of §5.4 step 3, with flags); 404 when the name does not exist, 502 when
//!   every lookup failed. The lookups go through the node's own answering path, so
//!   names in its zones are answered from them and the rest by recursion.
//! - `POST /api/v1/resolver/flush-negative[?zone=ZONE]`: empties the negative cache, or
//!   its entries at and below ZONE (seed 003 §12.2 rule 3: topology change, new peer,
//!   ZDNS_UPDATE hint); answers `{"flushed": N}`; 404 when recursion is off.
//! - `GET /api/v1/resolver/nta`, `POST /api/v1/resolver/nta?name=NAME`, `DELETE
//!   /api/v1/resolver/nta?name=NAME`: the negative trust anchors (RFC 7646) of the
//!   validator, listed, added or removed; each answers
//!   `{"negative_trust_anchors": [...]}`; 404 when validation is off.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use lib_dns::message::Edns;
use lib_dns::{Message, Name, Rtype};
use serde::Serialize;
use zdns_auth::{Outcome, QueryContext, Transport};
use zdns_resolver::Answer;
use zdns_resolver::client::{Resolution, ResolveError, lookups};

use super::Recursor;
use super::upstream::now;
use crate::node::SharedAnswerer;

#[derive(Clone)]
struct ApiState {
    answerer: SharedAnswerer,
    recursor: Option<Arc<Recursor>>,
}

/// The routes, over the node's answerer and its recursor (if recursion is on).
pub fn router(answerer: SharedAnswerer, recursor: Option<Arc<Recursor>>) -> Router {
    Router::new()
        .route("/api/v1/resolve", get(resolve))
        .route("/api/v1/resolver/flush-negative", post(flush_negative))
        .route(
            "/api/v1/resolver/nta",
            get(list_nta).post(add_nta).delete(remove_nta),
        )
        .with_state(ApiState { answerer, recursor })
}

/// The value of `key` in the query string, percent-decoding not needed for DNS names.
fn query_param(uri: &Uri, key: &str) -> Option<String> {
    uri.query()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_owned())
}

fn json(
    status: StatusCode,
    body: String,
) -> (StatusCode, [(header::HeaderName, &'static str); 1], String) {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body + "\n",
    )
}

fn error(
    status: StatusCode,
    message: &str,
) -> (StatusCode, [(header::HeaderName, &'static str); 1], String) {
    let body = serde_json::json!({ "error": message }).to_string();
    json(status, body)
}

async fn resolve(State(state): State<ApiState>, uri: Uri) -> impl IntoResponse {
    let Some(text) = query_param(&uri, "name") else {
        return error(StatusCode::BAD_REQUEST, "missing ?name=");
    };
    let name = match Name::parse(&text) {
        Ok(name) => name,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("bad name `{text}`: {e}")),
    };
    let answerer = Arc::clone(&state.answerer);
    let lookup_name = name.clone();
    let answers = tokio::task::spawn_blocking(move || ask_all(&answerer, &lookup_name)).await;
    let Ok(answers) = answers else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "resolution task failed");
    };
    match Resolution::assemble(&name, &answers) {
        Ok(resolution) => json(StatusCode::OK, to_json(&resolution)),
        Err(e @ ResolveError::NotFound) => error(StatusCode::NOT_FOUND, &e.to_string()),
        Err(e @ ResolveError::Failed) => error(StatusCode::BAD_GATEWAY, &e.to_string()),
    }
}

/// Asks the node's answering path every lookup of `name`, as a local TCP client would
/// (so a recursive miss is waited for).
fn ask_all(answerer: &SharedAnswerer, name: &Name) -> Vec<(Rtype, Answer)> {
    let ctx = QueryContext {
        client: SocketAddr::from(([127, 0, 0, 1], 0)),
        transport: Transport::Stream,
        now: now(),
    };
    let answerer = answerer.load();
    lookups(name)
        .into_iter()
        .enumerate()
        .map(|(i, (qname, rtype))| {
            let mut query = Message::query(i as u16, qname, rtype);
            query.edns = Some(Edns::default());
            let mut out = Vec::new();
            let answer = match query.to_wire(512) {
                Ok(wire) if answerer.answer(&wire, &ctx, &mut out) == Outcome::Reply => {
                    match Message::parse(&out) {
                        Ok(response) => Answer::from_response(&response),
                        Err(_) => Answer::servfail(0, "unreadable answer"),
                    }
                }
                _ => Answer::servfail(0, "no answer"),
            };
            (rtype, answer)
        })
        .collect()
}

async fn flush_negative(State(state): State<ApiState>, uri: Uri) -> impl IntoResponse {
    let Some(recursor) = state.recursor else {
        return error(StatusCode::NOT_FOUND, "recursion is off");
    };
    let cache = recursor.resolver.cache();
    let validator = recursor.resolver.validator();
    let flushed = match query_param(&uri, "zone") {
        Some(text) => match Name::parse(&text) {
            Ok(zone) => {
                // Validated NSEC chains are negative data too (RFC 8198).
                if let Some(v) = validator {
                    v.flush_denials(Some(&zone));
                }
                cache.flush_negative_zone(&zone)
            }
            Err(e) => return error(StatusCode::BAD_REQUEST, &format!("bad zone `{text}`: {e}")),
        },
        None => {
            if let Some(v) = validator {
                v.flush_denials(None);
            }
            cache.flush_negative()
        }
    };
    json(
        StatusCode::OK,
        serde_json::json!({ "flushed": flushed }).to_string(),
    )
}

/// What a negative trust anchor request does.
#[derive(Clone, Copy)]
enum NtaChange {
    List,
    Add,
    Remove,
}

fn nta(
    state: ApiState,
    uri: &Uri,
    change: NtaChange,
) -> (StatusCode, [(header::HeaderName, &'static str); 1], String) {
    let Some(validator) = state.recursor.as_ref().and_then(|r| r.resolver.validator()) else {
        return error(StatusCode::NOT_FOUND, "DNSSEC validation is off");
    };
    if !matches!(change, NtaChange::List) {
        let Some(text) = query_param(uri, "name") else {
            return error(StatusCode::BAD_REQUEST, "missing ?name=");
        };
        let name = match Name::parse(&text) {
            Ok(name) => name,
            Err(e) => return error(StatusCode::BAD_REQUEST, &format!("bad name `{text}`: {e}")),
        };
        match change {
            NtaChange::Add => {
                validator.add_negative_anchor(name.clone());
                tracing::warn!(%name, "negative trust anchor added: not validated");
            }
            _ => {
                if !validator.remove_negative_anchor(&name) {
                    return error(
                        StatusCode::NOT_FOUND,
                        &format!("no negative trust anchor {name}"),
                    );
                }
                tracing::info!(%name, "negative trust anchor removed");
            }
        }
    }
    let names: Vec<String> = validator
        .negative_anchors()
        .iter()
        .map(ToString::to_string)
        .collect();
    json(
        StatusCode::OK,
        serde_json::json!({ "negative_trust_anchors": names }).to_string(),
    )
}

async fn list_nta(State(state): State<ApiState>, uri: Uri) -> impl IntoResponse {
    nta(state, &uri, NtaChange::List)
}

async fn add_nta(State(state): State<ApiState>, uri: Uri) -> impl IntoResponse {
    nta(state, &uri, NtaChange::Add)
}

async fn remove_nta(State(state): State<ApiState>, uri: Uri) -> impl IntoResponse {
    nta(state, &uri, NtaChange::Remove)
}

#[derive(Serialize)]
struct JsonResolution<'a> {
    name: &'a str,
    identity: JsonIdentity<'a>,
    endpoints: Vec<JsonEndpoint<'a>>,
    protocols: &'a [String],
    ttl: u32,
    flags: JsonFlags,
}

#[derive(Serialize)]
struct JsonIdentity<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<&'a str>,
    node_id: Option<&'a str>,
    public_key: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonEndpoint<'a> {
    host: &'a str,
    port: Option<u16>,
    priority: u16,
    weight: u16,
    source: &'static str,
}

#[derive(Serialize)]
struct JsonFlags {
    stale: bool,
    contested: bool,
    degraded: bool,
    tofu: bool,
    external: bool,
}

/// The JSON of seed 003 §5.4 step 3, with the flags of §14.2.
pub fn to_json(r: &Resolution) -> String {
    let value = JsonResolution {
        name: &r.name,
        identity: JsonIdentity {
            identity: r.identity.identity.as_deref(),
            node_id: r.identity.node_id.as_deref(),
            public_key: r.identity.public_key.as_deref(),
        },
        endpoints: r
            .endpoints
            .iter()
            .map(|e| JsonEndpoint {
                host: &e.host,
                port: e.port,
                priority: e.priority,
                weight: e.weight,
                source: e.source.as_str(),
            })
            .collect(),
        protocols: &r.protocols,
        ttl: r.ttl,
        flags: JsonFlags {
            stale: r.flags.stale,
            contested: r.flags.contested,
            degraded: r.flags.degraded,
            tofu: r.flags.tofu,
            external: r.flags.external,
        },
    };
    serde_json::to_string_pretty(&value).unwrap_or_else(|_| "{}".to_owned())
}
