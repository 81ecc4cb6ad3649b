//! Dynamic UPDATE (RFC 2136) at the edge: the zone's `allow_update` list, then
//! evaluation by `zdns_auth::update`, then the change made durable in the journal
//! before NOERROR is sent (RFC 2136 §3.6 with the journal's fsync), published to the
//! answering core and announced to secondaries.

use std::sync::Arc;

use lib_dns::Name;
use lib_dns::message::Message;
use lib_dns::types::Rcode;
use zdns_auth::QueryContext;
use zdns_auth::update::{UpdateOutcome, evaluate};

use super::{ZoneControl, status};
use crate::config::ZoneSource;

/// Handles one UPDATE and returns the response.
pub async fn receive(
    ctl: &Arc<ZoneControl>,
    msg: Message,
    ctx: &QueryContext,
    key: Option<&Name>,
) -> Vec<u8> {
    let Some(q) = msg.question().cloned() else {
        return status(&msg, Rcode::FORMERR);
    };
    let Some(entry) = ctl.find(&q.qname) else {
        // RFC 2136 §3.1.1: not a zone we are authoritative for.
        ctl.metrics.count_control("update", "notauth");
        return status(&msg, Rcode::NOTAUTH);
    };
    {
        let state = entry.lock();
        if !state.config.access.update.allows(ctx.client.ip(), key) {
            tracing::warn!(zone = %state.origin, client = %ctx.client, key = ?key.map(ToString::to_string), "update refused by allow_update");
            ctl.metrics.count_control("update", "refused");
            return status(&msg, Rcode::REFUSED);
        }
        if matches!(state.config.source, ZoneSource::Primaries(_)) {
            // RFC 2136 §6 lets a secondary forward; we do not (yet): the client must
            // send its update to the primary.
            ctl.metrics.count_control("update", "refused");
            return status(&msg, Rcode::REFUSED);
        }
    }
    let client = ctx.client;
    let request = msg.clone();
    let work = {
        let ctl = Arc::clone(ctl);
        let entry = Arc::clone(&entry);
        move || {
            let mut state = entry.lock();
            let Some(data) = &state.data else {
                return (Rcode::SERVFAIL, false);
            };
            let records = data.records();
            let outcome = evaluate(&msg, &state.origin.clone(), q.qclass, &records);
            drop(records);
            let result = match outcome {
                Err(rcode) => (rcode, false),
                Ok(UpdateOutcome::Unchanged) => (Rcode::NOERROR, false),
                Ok(UpdateOutcome::Changed(diff)) => match state.commit(diff) {
                    Ok(data) => {
                        let serial = data.serial;
                        state.dynamic = true;
                        tracing::info!(zone = %q.qname, %client, serial, "update applied");
                        ctl.publish(&state);
                        (Rcode::NOERROR, true)
                    }
                    Err(e) => {
                        tracing::error!(zone = %q.qname, %client, error = %e, "update not applied");
                        (Rcode::SERVFAIL, false)
                    }
                },
            };
            drop(state);
            result
        }
    };
    let Some((rcode, changed)) = ctl.blocking(work).await else {
        return status(&request, Rcode::SERVFAIL);
    };
    ctl.metrics.count_control(
        "update",
        if rcode == Rcode::NOERROR {
            "ok"
        } else {
            "rejected"
        },
    );
    if changed {
        ctl.report();
        ctl.send_notifies(&entry);
    }
    status(&request, rcode)
}
