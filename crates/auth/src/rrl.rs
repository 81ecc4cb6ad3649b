//! Response rate limiting (as BIND's and Knot's RRL): responses to UDP clients are
//! counted per client network (/24 for IPv4, /56 for IPv6), response kind and name, in
//! one-second windows. Past `rate` responses in a second, answers are dropped, except
//! every `slip`-th, which goes out truncated (TC) so a real client retries over TCP.
//!
//! The table is a fixed array of atomic buckets chosen by hash: memory is bounded and
//! no lock is taken; two keys landing in one bucket take it from each other, which only
//! ever resets a count (a limited client gets through, never the reverse).

use std::hash::Hasher;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use siphasher::sip::SipHasher13;

/// What kind of response is being limited: each kind has its own budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    /// Data in the answer section.
    Answer,
    /// NODATA (or a referral): empty answer, NOERROR.
    Empty,
    /// NXDOMAIN, counted per zone rather than per name (as BIND does).
    NxDomain,
    /// REFUSED, FORMERR and other errors.
    Error,
}

/// Rate-limiting settings, chosen by the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RrlConfig {
    /// Responses per second allowed per (network, kind, name).
    pub rate: u32,
    /// Every `slip`-th limited response is sent truncated; 0 drops them all.
    pub slip: u32,
    /// Number of buckets (rounded up to a power of two); 8 bytes each.
    pub table_size: usize,
}

impl Default for RrlConfig {
    /// 20 responses per second, slip 2, 2^16 buckets (512 KiB).
    fn default() -> RrlConfig {
        RrlConfig {
            rate: 20,
            slip: 2,
            table_size: 1 << 16,
        }
    }
}

/// What to do with one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Send it.
    Send,
    /// Send a truncated empty response instead (slip).
    Slip,
    /// Send nothing.
    Drop,
}

/// The bucket table.
pub struct Rrl {
    config: RrlConfig,
    seed: [u8; 16],
    buckets: Box<[AtomicU64]>,
}

// A bucket: key tag (16 bits) | second (24 bits) | count in that second (24 bits).
const COUNT_BITS: u32 = 24;
const SECOND_BITS: u32 = 24;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
const SECOND_MASK: u64 = (1 << SECOND_BITS) - 1;

impl Rrl {
    /// A table for `config`; `seed` keys the bucket hash so clients cannot aim at a
    /// bucket.
    pub fn new(config: RrlConfig, seed: [u8; 16]) -> Rrl {
        let size = config.table_size.max(1).next_power_of_two();
        Rrl {
            config,
            seed,
            buckets: (0..size).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// The settings.
    pub fn config(&self) -> RrlConfig {
        self.config
    }

    /// Counts a response to `client` of `kind` about `name` (lowercase wire form; the
    /// zone apex for NXDOMAIN) at `now` (seconds) and says what to do with it.
    pub fn check(&self, client: IpAddr, kind: ResponseKind, name: &[u8], now: u64) -> Verdict {
        let mut h = SipHasher13::new_with_key(&self.seed);
        match client {
            IpAddr::V4(a) => h.write(a.octets().get(..3).unwrap_or_default()),
            IpAddr::V6(a) => h.write(a.octets().get(..7).unwrap_or_default()),
        }
        h.write_u8(kind as u8);
        h.write(name);
        let hash = h.finish();
        let mask = self.buckets.len() - 1;
        let Some(bucket) = self.buckets.get(hash as usize & mask) else {
            return Verdict::Send;
        };
        let tag = hash >> 48;
        let second = now & SECOND_MASK;
        let mut old = bucket.load(Ordering::Relaxed);
        let count = loop {
            let same = old >> 48 == tag && (old >> COUNT_BITS) & SECOND_MASK == second;
            let count = if same { (old & COUNT_MASK) + 1 } else { 1 };
            let new = tag << 48 | second << COUNT_BITS | count.min(COUNT_MASK);
            match bucket.compare_exchange_weak(old, new, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break count,
                Err(seen) => old = seen,
            }
        };
        let rate = u64::from(self.config.rate);
        if count <= rate {
            return Verdict::Send;
        }
        let slip = u64::from(self.config.slip);
        if slip != 0 && (count - rate) % slip == 0 {
            Verdict::Slip
        } else {
            Verdict::Drop
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_second_with_slip() {
        let rrl = Rrl::new(
            RrlConfig {
                rate: 3,
                slip: 2,
                table_size: 64,
            },
            [7; 16],
        );
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let same_net: IpAddr = "192.0.2.200".parse().unwrap();
        let other: IpAddr = "198.51.100.1".parse().unwrap();
        let v: Vec<_> = (0..3)
            .map(|_| rrl.check(a, ResponseKind::Answer, b"\0", 10))
            .collect();
        assert_eq!(v, [Verdict::Send; 3]);
        assert_eq!(
            rrl.check(same_net, ResponseKind::Answer, b"\0", 10),
            Verdict::Drop
        );
        assert_eq!(rrl.check(a, ResponseKind::Answer, b"\0", 10), Verdict::Slip);
        assert_eq!(rrl.check(a, ResponseKind::Answer, b"\0", 10), Verdict::Drop);
        assert_eq!(
            rrl.check(other, ResponseKind::Answer, b"\0", 10),
            Verdict::Send
        );
        assert_eq!(
            rrl.check(a, ResponseKind::NxDomain, b"\0", 10),
            Verdict::Send
        );
        // A new second refills the budget.
        assert_eq!(rrl.check(a, ResponseKind::Answer, b"\0", 11), Verdict::Send);
    }

    #[test]
    fn slip_zero_drops_all() {
        let rrl = Rrl::new(
            RrlConfig {
                rate: 1,
                slip: 0,
                table_size: 8,
            },
            [0; 16],
        );
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(rrl.check(a, ResponseKind::Error, b"\0", 5), Verdict::Send);
        for _ in 0..5 {
            assert_eq!(rrl.check(a, ResponseKind::Error, b"\0", 5), Verdict::Drop);
        }
    }
}
