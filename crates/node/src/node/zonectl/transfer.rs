//! Zone transfers out: AXFR (RFC 5936) and IXFR (RFC 1995) to clients the zone's
//! `allow_transfer` list admits, each message signed when the request was (RFC 8945
//! §5.3.1). The messages are produced on a blocking thread from a snapshot of the zone
//! and its journal and handed to the connection through a small channel, so a large
//! zone is never held twice and a slow reader slows only its own transfer.

use std::sync::Arc;

use lib_dns::Name;
use lib_dns::message::Message;
use lib_dns::tsig::{DEFAULT_FUDGE, StreamSigner, Verified};
use lib_dns::types::{Rcode, Rtype};
use tokio::sync::mpsc;
use zdns_auth::diff::ZoneDiff;
use zdns_auth::xfr::{self, IxfrPlan};
use zdns_auth::{QueryContext, Transport};

use super::{Reply, ZoneControl, status};

/// Room left in each transfer message for the TSIG record: owner and algorithm names
/// (at most 255 bytes each), the fixed fields and a 64-byte MAC.
const TSIG_RESERVE: usize = 255 + 255 + 10 + 16 + 64 + 6;
/// Messages buffered between the producer and the connection.
const IN_FLIGHT: usize = 4;

/// The plan of an IXFR with the journal's diffs copied out of the zone's lock.
enum OwnedPlan {
    UpToDate,
    Full,
    Incremental(Vec<ZoneDiff>),
}

/// Answers an AXFR or IXFR query.
pub fn respond(
    ctl: &Arc<ZoneControl>,
    msg: &Message,
    ctx: &QueryContext,
    key: Option<&Name>,
    verified: Option<Verified>,
) -> Reply {
    let sign_one = |bytes: Vec<u8>| match &verified {
        Some(v) => v
            .sign_response(&bytes, ctx.now, DEFAULT_FUDGE)
            .map_or(bytes, |s| s.message),
        None => bytes,
    };
    let Some(q) = msg.question().cloned() else {
        return Reply::One(sign_one(status(msg, Rcode::FORMERR)));
    };
    let Some(entry) = ctl.find(&q.qname) else {
        // RFC 5936 §2.2.1: not authoritative for the zone.
        return Reply::One(sign_one(status(msg, Rcode::NOTAUTH)));
    };
    let (served, soa, plan) = {
        let state = entry.lock();
        if !state.config.access.transfer.allows(ctx.client.ip(), key) {
            tracing::warn!(zone = %state.origin, client = %ctx.client, key = ?key.map(ToString::to_string), "transfer refused by allow_transfer");
            ctl.metrics.count_control("transfer_out", "refused");
            return Reply::One(sign_one(status(msg, Rcode::REFUSED)));
        }
        let Some((data, soa)) = state.data.as_ref().and_then(|d| Some((d, d.soa()?))) else {
            ctl.metrics.count_control("transfer_out", "no_data");
            return Reply::One(sign_one(status(msg, Rcode::SERVFAIL)));
        };
        let plan = if q.qtype == Rtype::IXFR {
            let Some(serial) = xfr::ixfr_client_serial(msg) else {
                return Reply::One(sign_one(status(msg, Rcode::FORMERR)));
            };
            match xfr::ixfr_plan(serial, std::slice::from_ref(&soa), &state.journal) {
                Ok(IxfrPlan::UpToDate) => Some(OwnedPlan::UpToDate),
                Ok(IxfrPlan::Full) => Some(OwnedPlan::Full),
                Ok(IxfrPlan::Incremental(d)) => {
                    Some(OwnedPlan::Incremental(d.into_iter().cloned().collect()))
                }
                Err(_) => return Reply::One(sign_one(status(msg, Rcode::SERVFAIL))),
            }
        } else {
            None
        };
        (Arc::clone(&data.served), soa, plan)
    };
    // The whole zone is decoded from the tree only when it is sent whole.
    let records = move |plan: &Option<OwnedPlan>| match plan {
        None | Some(OwnedPlan::Full) => served.tree().to_records(),
        Some(_) => vec![soa.clone()],
    };
    if ctx.transport == Transport::Udp {
        // RFC 5936 §4.2: no AXFR over UDP. RFC 1995 §2: IXFR over UDP gets the whole
        // answer when it fits, else our SOA alone (retry over TCP).
        let Some(plan) = plan else {
            return Reply::One(sign_one(status(msg, Rcode::FORMERR)));
        };
        let reserve = if verified.is_some() { TSIG_RESERVE } else { 0 };
        let limit = msg
            .edns
            .as_ref()
            .map_or(512, |e| usize::from(e.udp_payload_size.clamp(512, 1232)));
        let plan = Some(plan);
        let zone = records(&plan);
        let result = match &plan {
            Some(plan) => with_plan(plan, |p| xfr::ixfr_udp(msg, p, &zone, limit, reserve)),
            None => return Reply::Nothing,
        };
        ctl.metrics.count_control("transfer_out", "udp");
        return match result {
            Ok(bytes) => Reply::One(sign_one(bytes)),
            Err(_) => Reply::One(sign_one(status(msg, Rcode::SERVFAIL))),
        };
    }
    tracing::info!(zone = %q.qname, client = %ctx.client, kind = %q.qtype, "transfer out");
    let (tx, rx) = mpsc::channel(IN_FLIGHT);
    let query = msg.clone();
    let now = ctx.now;
    let metrics = Arc::clone(&ctl.metrics);
    tokio::task::spawn_blocking(move || {
        let mut signer = match verified {
            Some(v) => match StreamSigner::new(v.key.clone(), v.mac(), DEFAULT_FUDGE) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot sign the transfer");
                    return;
                }
            },
            None => None,
        };
        let reserve = if signer.is_some() { TSIG_RESERVE } else { 0 };
        let zone = records(&plan);
        let ok = match &plan {
            None => match xfr::axfr(&query, &zone, reserve) {
                Ok(packer) => stream(packer, &mut signer, now, &tx),
                Err(e) => {
                    tracing::error!(error = %e, "AXFR cannot be produced");
                    false
                }
            },
            Some(plan) => with_plan(plan, |p| match xfr::ixfr(&query, p, &zone, reserve) {
                Ok(packer) => stream(packer, &mut signer, now, &tx),
                Err(e) => {
                    tracing::error!(error = %e, "IXFR cannot be produced");
                    false
                }
            }),
        };
        metrics.count_control("transfer_out", if ok { "done" } else { "aborted" });
    });
    Reply::Stream(rx)
}

/// Runs `f` with the borrowed form of an owned plan.
fn with_plan<T>(plan: &OwnedPlan, f: impl FnOnce(IxfrPlan<'_>) -> T) -> T {
    match plan {
        OwnedPlan::UpToDate => f(IxfrPlan::UpToDate),
        OwnedPlan::Full => f(IxfrPlan::Full),
        OwnedPlan::Incremental(diffs) => f(IxfrPlan::Incremental(diffs.iter().collect())),
    }
}

/// Signs and sends each message; false when production failed or the reader left.
fn stream(
    packer: xfr::Packer<'_>,
    signer: &mut Option<StreamSigner>,
    now: u64,
    tx: &mpsc::Sender<Vec<u8>>,
) -> bool {
    for msg in packer {
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "transfer message cannot be written");
                return false;
            }
        };
        let msg = match signer {
            Some(s) => match s.sign(&msg, now) {
                Ok(signed) => signed.message,
                Err(e) => {
                    tracing::error!(error = %e, "transfer message cannot be signed");
                    return false;
                }
            },
            None => msg,
        };
        if tx.blocking_send(msg).is_err() {
            return false;
        }
    }
    true
}
