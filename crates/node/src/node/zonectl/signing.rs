//! Online signing at the edge: one task per signed zone that re-signs it when
//! something is due ([`ZoneState::resign`](super::store::ZoneState::resign)): at
//! start and after every reload (keys or policy may have changed), then whenever the
//! earliest signature comes within the refresh time of its expiration. UPDATEs and
//! transfers in are re-signed where they are committed (`store`).

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::{ZoneControl, ZoneEntry, now_secs};

/// The longest the task sleeps without looking again (clock steps, suspended hosts).
const MAX_SLEEP: u64 = 3600;

/// Runs until the zone is dropped or no longer signed.
pub async fn run(ctl: Arc<ZoneControl>, entry: Weak<ZoneEntry>) {
    loop {
        let Some(e) = entry.upgrade() else { return };
        if e.lock().signer.is_none() {
            return;
        }
        let work = {
            let e = Arc::clone(&e);
            let ctl = Arc::clone(&ctl);
            move || {
                let mut s = e.lock();
                let changed = match s.resign(now_secs()) {
                    Ok(changed) => changed,
                    Err(err) => {
                        tracing::error!(zone = %s.origin, error = %err, "re-signing failed");
                        false
                    }
                };
                if changed {
                    tracing::info!(zone = %s.origin, serial = ?s.serial(), "zone re-signed");
                    ctl.publish(&s);
                }
                (changed, s.resign_due(now_secs()))
            }
        };
        let Some((changed, due)) = ctl.blocking(work).await else {
            return;
        };
        if changed {
            ctl.report();
            ctl.send_notifies(&e);
        }
        let now = now_secs();
        let wait = due.map_or(MAX_SLEEP, |at| at.saturating_sub(now).clamp(1, MAX_SLEEP));
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(wait)) => {}
            () = e.resign.notified() => {}
        }
    }
}
