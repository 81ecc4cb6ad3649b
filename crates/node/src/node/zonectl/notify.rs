//! NOTIFY (RFC 1996) in and out. In: a secondary zone's `allow_notify` list (by
//! default its primaries) may tell us to check the SOA now. Out: after a change, each
//! configured secondary is told, over UDP, retried with backoff until it acknowledges.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lib_dns::Name;
use lib_dns::message::Message;
use lib_dns::record::Record;
use lib_dns::tsig::TsigKey;
use lib_dns::types::Rcode;
use zdns_auth::QueryContext;
use zdns_auth::notify::{self, MAX_ATTEMPTS};

use super::{ZoneControl, client, status};

/// How long the first NOTIFY waits for its acknowledgement; doubled at each retry.
const FIRST_TIMEOUT: Duration = Duration::from_secs(1);

/// Handles a NOTIFY and returns the response.
pub fn receive(
    ctl: &Arc<ZoneControl>,
    msg: &Message,
    ctx: &QueryContext,
    key: Option<&Name>,
) -> Vec<u8> {
    let note = match notify::read(msg) {
        Ok(n) => n,
        Err(rcode) => return status(msg, rcode),
    };
    let Some(entry) = ctl.find(&note.zone) else {
        ctl.metrics.count_control("notify_in", "notauth");
        return encode(msg, Rcode::NOTAUTH);
    };
    {
        let mut state = entry.lock();
        if state.timers.is_none() {
            // We are this zone's primary: nobody needs to tell us it changed.
            ctl.metrics.count_control("notify_in", "refused");
            return encode(msg, Rcode::REFUSED);
        }
        if !state.config.access.notify_from.allows(ctx.client.ip(), key) {
            tracing::warn!(zone = %note.zone, client = %ctx.client, "NOTIFY refused by allow_notify");
            ctl.metrics.count_control("notify_in", "refused");
            return encode(msg, Rcode::REFUSED);
        }
        if let Some(timers) = state.timers.as_mut() {
            timers.notified(ctx.now);
        }
    }
    tracing::info!(zone = %note.zone, client = %ctx.client, serial = ?note.serial, "NOTIFY received");
    ctl.metrics.count_control("notify_in", "accepted");
    entry.wake.notify_one();
    encode(msg, Rcode::NOERROR)
}

fn encode(msg: &Message, rcode: Rcode) -> Vec<u8> {
    notify::response(msg, rcode)
        .to_wire(usize::from(u16::MAX))
        .unwrap_or_default()
}

/// Sends the NOTIFY for `zone` to `to` until it is acknowledged or the attempts run
/// out (RFC 1996 §3.6). Returns whether it was acknowledged.
pub async fn send(
    to: SocketAddr,
    zone: &Name,
    soa: Option<&Record>,
    key: Option<&TsigKey>,
) -> bool {
    let mut wait = FIRST_TIMEOUT;
    for attempt in 1..=MAX_ATTEMPTS {
        let id = client::random_id();
        let msg = notify::request(id, zone, soa);
        match client::exchange_udp(to, &msg, key, wait).await {
            Ok(reply) if notify::acknowledges(&reply, id, zone) => {
                if reply.rcode == Rcode::NOERROR {
                    tracing::info!(zone = %zone, secondary = %to, "NOTIFY acknowledged");
                } else {
                    tracing::warn!(zone = %zone, secondary = %to, rcode = %reply.rcode, "NOTIFY answered with an error");
                }
                return reply.rcode == Rcode::NOERROR;
            }
            Ok(_) => tracing::debug!(zone = %zone, secondary = %to, "NOTIFY reply does not match"),
            Err(e) => {
                tracing::debug!(zone = %zone, secondary = %to, attempt, error = %e, "NOTIFY not acknowledged")
            }
        }
        wait *= 2;
    }
    tracing::warn!(zone = %zone, secondary = %to, "NOTIFY gave up after {MAX_ATTEMPTS} attempts");
    false
}
