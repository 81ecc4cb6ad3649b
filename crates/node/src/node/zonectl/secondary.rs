//! The refresh task of a secondary zone: it follows the zone's
//! [`RefreshTimers`](zdns_auth::secondary::RefreshTimers), asks the primaries for
//! their SOA in order, transfers (IXFR from our serial, falling back to AXFR) when
//! theirs is newer, commits the result durably, and stops serving the zone when it
//! expires. A NOTIFY wakes it at once.

use std::sync::Arc;
use std::time::Duration;

use zdns_auth::secondary::{SoaVerdict, Step};
use zdns_auth::xfr_in::Transfer;

use super::{ZoneControl, ZoneEntry, client, now_secs};
use crate::config::ZoneSource;

/// Runs until the zone is removed (the task is aborted then).
pub async fn run(ctl: Arc<ZoneControl>, entry: std::sync::Weak<ZoneEntry>) {
    loop {
        let Some(e) = entry.upgrade() else { return };
        let now = now_secs();
        let step = {
            let mut s = e.lock();
            let Some(timers) = &s.timers else { return };
            let step = timers.step(now);
            if s.data.is_some() && timers.expired(now) {
                tracing::warn!(zone = %s.origin, "zone expired: no successful refresh within the SOA EXPIRE time; not served until one succeeds");
                s.data = None;
                ctl.publish(&s);
            }
            step
        };
        match step {
            Step::WaitUntil(at) => {
                let wait = Duration::from_secs(at.saturating_sub(now));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = e.wake.notified() => {
                        if let Some(t) = e.lock().timers.as_mut() {
                            t.notified(now_secs());
                        }
                    }
                }
            }
            Step::CheckSoa => refresh(&ctl, &e).await,
        }
    }
}

/// One refresh: SOA check at each primary in turn until one answers, and a transfer
/// when it has a newer serial.
async fn refresh(ctl: &Arc<ZoneControl>, e: &Arc<ZoneEntry>) {
    let (origin, primaries) = {
        let s = e.lock();
        let ZoneSource::Primaries(p) = &s.config.source else {
            return;
        };
        (s.origin.clone(), p.clone())
    };
    for primary in &primaries {
        let key = match &primary.key {
            Some(name) => match ctl.key(name) {
                Some(k) => Some(k),
                None => {
                    tracing::warn!(zone = %origin, key = %name, "primary's key is not configured");
                    continue;
                }
            },
            None => None,
        };
        let serial = match client::soa_serial_of(primary.addr, &origin, key.as_ref()).await {
            Ok(s) => s,
            Err(err) => {
                tracing::warn!(zone = %origin, primary = %primary.addr, error = %err, "SOA check failed");
                continue;
            }
        };
        let (verdict, our_soa) = {
            let mut s = e.lock();
            let soa = s.data.as_ref().and_then(|d| d.soa());
            let Some(timers) = s.timers.as_mut() else {
                return;
            };
            (timers.soa_answer(serial, now_secs()), soa)
        };
        let SoaVerdict::Transfer { from } = verdict else {
            tracing::debug!(zone = %origin, serial, "up to date");
            return;
        };
        let mut attempt = match from {
            Some(_) => {
                client::transfer(primary.addr, &origin, from, our_soa.as_ref(), key.as_ref()).await
            }
            None => client::transfer(primary.addr, &origin, None, None, key.as_ref()).await,
        };
        if from.is_some() {
            let ixfr_ok = match attempt {
                Ok(t) => apply(ctl, e, t).await,
                Err(err) => {
                    tracing::info!(zone = %origin, primary = %primary.addr, error = %err, "IXFR failed; trying AXFR");
                    false
                }
            };
            if ixfr_ok {
                return;
            }
            attempt = client::transfer(primary.addr, &origin, None, None, key.as_ref()).await;
        }
        match attempt {
            Ok(t) => {
                if apply(ctl, e, t).await {
                    return;
                }
            }
            Err(err) => {
                tracing::warn!(zone = %origin, primary = %primary.addr, error = %err, "AXFR failed");
                ctl.metrics.count_control("transfer_in", "failed");
            }
        }
    }
    if let Some(t) = e.lock().timers.as_mut() {
        t.failed(now_secs());
    }
}

/// Commits a transfer's result; false when it could not be applied.
async fn apply(ctl: &Arc<ZoneControl>, e: &Arc<ZoneEntry>, transfer: Transfer) -> bool {
    let work = {
        let ctl = Arc::clone(ctl);
        let e = Arc::clone(e);
        move || {
            let mut s = e.lock();
            let kind = match &transfer {
                Transfer::UpToDate => "up_to_date",
                Transfer::Full(_) => "axfr",
                Transfer::Incremental(_) => "ixfr",
            };
            let result = match transfer {
                Transfer::UpToDate => Ok(()),
                Transfer::Full(records) => s.replace(records).map(|_| ()),
                Transfer::Incremental(diffs) => {
                    diffs.into_iter().try_for_each(|d| s.commit(d).map(|_| ()))
                }
            };
            match result {
                Ok(()) => {
                    let soa = s.data.as_ref().and_then(|d| d.soa());
                    if let (Some(soa), Some(t)) = (soa, s.timers.as_mut()) {
                        t.transferred(&soa, now_secs());
                    }
                    ctl.publish(&s);
                    tracing::info!(zone = %s.origin, serial = ?s.serial(), kind, "transfer in applied");
                    ctl.metrics.count_control("transfer_in", kind);
                    true
                }
                Err(err) => {
                    // Diffs committed before the failing one stay (each is durable and
                    // whole); the rest comes with the next (AXFR) attempt.
                    ctl.publish(&s);
                    tracing::warn!(zone = %s.origin, error = %err, kind, "transfer in not applied");
                    ctl.metrics.count_control("transfer_in", "failed");
                    false
                }
            }
        }
    };
    let ok = ctl.blocking(work).await.unwrap_or(false);
    if ok {
        ctl.report();
        ctl.send_notifies(e);
    }
    ok
}
