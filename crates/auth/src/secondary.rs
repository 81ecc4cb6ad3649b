//! The refresh schedule of a secondary zone (RFC 1034 §4.3.5, RFC 1996 §3.11), as a
//! state machine over time passed in (seconds since the epoch).
//!
//! The secondary checks the primary's SOA every REFRESH seconds, every RETRY seconds
//! after a failed check, and at once when a NOTIFY arrives; when the primary's serial
//! is newer it transfers. A zone that has not been refreshed for EXPIRE seconds stops
//! being served (the edge answers SERVFAIL for it) until a refresh succeeds.

use lib_dns::rdata::{RData, Soa};
use lib_dns::record::Record;

use crate::diff::serial_gt;

/// Timers used before the zone's own SOA is known (first transfer not yet done).
const BOOTSTRAP_RETRY: u64 = 10;
/// Bounds on the SOA timers we obey, so a hostile or mistaken SOA cannot make us poll
/// every second or never (similar to Knot's `refresh-min-interval`/`-max-interval`).
const MIN_INTERVAL: u64 = 2;
const MAX_INTERVAL: u64 = 24 * 3600;

/// What the edge should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing until this time (or until a NOTIFY).
    WaitUntil(u64),
    /// Ask a primary for its SOA.
    CheckSoa,
}

/// What to do with the serial a primary reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoaVerdict {
    /// We are up to date: the refresh counted as successful.
    UpToDate,
    /// Transfer: IXFR from our serial when we have data, AXFR otherwise.
    Transfer {
        /// Our serial, to ask an IXFR from.
        from: Option<u32>,
    },
}

/// The refresh state of one secondary zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTimers {
    serial: Option<u32>,
    refresh: u64,
    retry: u64,
    expire: u64,
    next_check: u64,
    expires_at: Option<u64>,
}

fn bounded(v: u32) -> u64 {
    u64::from(v).clamp(MIN_INTERVAL, MAX_INTERVAL)
}

impl RefreshTimers {
    /// A zone with no data yet: check at once.
    pub fn empty(now: u64) -> RefreshTimers {
        RefreshTimers {
            serial: None,
            refresh: BOOTSTRAP_RETRY,
            retry: BOOTSTRAP_RETRY,
            expire: u64::MAX,
            next_check: now,
            expires_at: None,
        }
    }

    /// A zone whose data (with this SOA) was last refreshed at `refreshed_at`, as found
    /// on disk at start: served until `refreshed_at + EXPIRE`, checked at once.
    pub fn loaded(soa: &Record, refreshed_at: u64, now: u64) -> RefreshTimers {
        let mut t = RefreshTimers::empty(now);
        t.adopt(soa, refreshed_at);
        t.next_check = now;
        t
    }

    /// The serial of the data we hold.
    pub fn serial(&self) -> Option<u32> {
        self.serial
    }

    /// What to do at `now`.
    pub fn step(&self, now: u64) -> Step {
        if now >= self.next_check {
            Step::CheckSoa
        } else {
            Step::WaitUntil(self.next_check)
        }
    }

    /// Whether the data has expired (or there is none): the zone must not be served.
    pub fn expired(&self, now: u64) -> bool {
        self.expires_at.is_none_or(|at| now >= at)
    }

    /// A NOTIFY arrived (RFC 1996 §3.11): check at once.
    pub fn notified(&mut self, now: u64) {
        self.next_check = now;
    }

    /// A primary reported `serial` at `now`.
    pub fn soa_answer(&mut self, serial: u32, now: u64) -> SoaVerdict {
        match self.serial {
            Some(ours) if !serial_gt(serial, ours) => {
                self.succeeded(now);
                SoaVerdict::UpToDate
            }
            ours => SoaVerdict::Transfer { from: ours },
        }
    }

    /// A transfer (or an up-to-date answer) brought the zone to `soa` at `now`: the
    /// timers restart from the new SOA.
    pub fn transferred(&mut self, soa: &Record, now: u64) {
        self.adopt(soa, now);
    }

    /// No primary could be reached, or the transfer failed: try again after RETRY.
    pub fn failed(&mut self, now: u64) {
        self.next_check = now.saturating_add(self.retry);
    }

    fn succeeded(&mut self, now: u64) {
        self.next_check = now.saturating_add(self.refresh);
        self.expires_at = Some(now.saturating_add(self.expire));
    }

    fn adopt(&mut self, soa: &Record, now: u64) {
        if let RData::Soa(soa) = &soa.data {
            let Soa {
                serial,
                refresh,
                retry,
                expire,
                ..
            } = **soa;
            self.serial = Some(serial);
            self.refresh = bounded(refresh);
            self.retry = bounded(retry);
            // RFC 1912 §2.2: EXPIRE is well above REFRESH; never expire before a retry.
            self.expire = u64::from(expire).max(self.refresh + self.retry);
        }
        self.succeeded(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::tests::soa;

    #[test]
    fn refresh_retry_expire_and_notify() {
        // soa(): refresh 7200, retry 900, expire 1209600.
        let mut t = RefreshTimers::empty(1000);
        assert!(t.expired(1000));
        assert_eq!(t.step(1000), Step::CheckSoa);
        assert_eq!(t.soa_answer(5, 1000), SoaVerdict::Transfer { from: None });
        t.failed(1000);
        assert_eq!(t.step(1001), Step::WaitUntil(1010));
        t.transferred(&soa(5), 1010);
        assert_eq!(t.serial(), Some(5));
        assert!(!t.expired(1010));
        assert_eq!(t.step(1011), Step::WaitUntil(1010 + 7200));
        // Up to date at refresh time: timers restart.
        assert_eq!(t.soa_answer(5, 8210), SoaVerdict::UpToDate);
        assert_eq!(t.step(8210), Step::WaitUntil(8210 + 7200));
        // A NOTIFY makes the check immediate; a newer serial asks for IXFR.
        t.notified(9000);
        assert_eq!(t.step(9000), Step::CheckSoa);
        assert_eq!(
            t.soa_answer(6, 9000),
            SoaVerdict::Transfer { from: Some(5) }
        );
        // Primary unreachable from then on: retry every 900 s, expire after 1209600 s
        // from the last successful refresh.
        let mut now = 9000;
        for _ in 0..5 {
            t.failed(now);
            now += 900;
            assert_eq!(t.step(now), Step::CheckSoa);
        }
        assert!(!t.expired(8210 + 1_209_599));
        assert!(t.expired(8210 + 1_209_600));
        // Serial arithmetic: 0 is newer than 0xffffffff (RFC 1982).
        t.transferred(&soa(u32::MAX), now);
        assert_eq!(
            t.soa_answer(0, now),
            SoaVerdict::Transfer {
                from: Some(u32::MAX)
            }
        );
    }

    #[test]
    fn loaded_data_is_served_until_it_expires_and_checked_at_once() {
        let t = RefreshTimers::loaded(&soa(3), 100, 5000);
        assert_eq!(t.serial(), Some(3));
        assert_eq!(t.step(5000), Step::CheckSoa);
        assert!(!t.expired(5000));
        assert!(t.expired(100 + 1_209_600));
    }
}
