//! Zone differences (RFC 1995 §4) and their application to a zone's records, with the
//! serial number arithmetic of RFC 1982 that orders zone versions.
//!
//! A [`ZoneDiff`] is one "difference sequence" of an IXFR: the old SOA and the records
//! removed, then the new SOA and the records added. Records are compared as RFC 2136
//! §1.1.1 compares RRs: owner, class, type and data, not TTL.

use std::collections::HashMap;
use std::fmt;

use lib_dns::name::Name;
use lib_dns::rdata::RData;
use lib_dns::record::Record;
use lib_dns::types::Rtype;
use lib_dns::wire::WireWriter;

/// Half the serial number space: RFC 1982 §3.1 allows adding at most `2^31 - 1`.
const SERIAL_HALF: u32 = 1 << 31;

/// Whether serial `a` is greater than serial `b` in RFC 1982 §3.2 arithmetic. Serials
/// exactly half the space apart are not ordered, so neither is greater.
pub fn serial_gt(a: u32, b: u32) -> bool {
    (a < b && b - a > SERIAL_HALF) || (a > b && a - b < SERIAL_HALF)
}

/// `s + n` in RFC 1982 §3.1 arithmetic, or `None` when `n` is above `2^31 - 1`, which
/// the RFC leaves undefined.
pub fn serial_add(s: u32, n: u32) -> Option<u32> {
    (n < SERIAL_HALF).then(|| s.wrapping_add(n))
}

/// Why a diff could not be built or applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffError {
    /// A side of the diff does not start with a SOA record.
    MissingSoa,
    /// A SOA record appears among the removed or added records after the first.
    ExtraSoa,
    /// The zone has no SOA record.
    ZoneWithoutSoa,
    /// The zone's serial is not the one the diff starts from.
    SerialMismatch {
        /// The serial the diff starts from.
        expected: u32,
        /// The zone's serial.
        found: u32,
    },
    /// A record the diff removes is not in the zone (in presentation form).
    NotPresent(String),
    /// A changed zone whose serial did not increase (RFC 1982).
    SerialNotIncreased {
        /// The old serial.
        from: u32,
        /// The new serial.
        to: u32,
    },
}

impl fmt::Display for DiffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiffError::MissingSoa => f.write_str("a side of the diff does not start with a SOA"),
            DiffError::ExtraSoa => f.write_str("a SOA record inside the diff's records"),
            DiffError::ZoneWithoutSoa => f.write_str("the zone has no SOA record"),
            DiffError::SerialMismatch { expected, found } => write!(
                f,
                "the diff starts from serial {expected} but the zone has serial {found}"
            ),
            DiffError::NotPresent(r) => write!(f, "the diff removes a record not in the zone: {r}"),
            DiffError::SerialNotIncreased { from, to } => write!(
                f,
                "the zone changed but its serial went from {from} to {to}, not up"
            ),
        }
    }
}

impl std::error::Error for DiffError {}

/// One RFC 1995 difference sequence: the zone at `from_serial` becomes the zone at
/// `to_serial` by removing [`ZoneDiff::removed`] and adding [`ZoneDiff::added`]. The
/// first removed record is the old SOA and the first added record is the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneDiff {
    from_serial: u32,
    to_serial: u32,
    removed: Vec<Record>,
    added: Vec<Record>,
}

/// The serial of a SOA record.
pub fn soa_serial(record: &Record) -> Option<u32> {
    match &record.data {
        RData::Soa(soa) => Some(soa.serial),
        _ => None,
    }
}

impl ZoneDiff {
    /// A diff from its two sides, each starting with its SOA (the old one for `removed`,
    /// the new one for `added`) and holding no other SOA.
    pub fn new(removed: Vec<Record>, added: Vec<Record>) -> Result<ZoneDiff, DiffError> {
        let from_serial = removed.first().and_then(soa_serial);
        let to_serial = added.first().and_then(soa_serial);
        let (Some(from_serial), Some(to_serial)) = (from_serial, to_serial) else {
            return Err(DiffError::MissingSoa);
        };
        let extra = |side: &[Record]| side.iter().skip(1).any(|r| r.rtype() == Rtype::SOA);
        if extra(&removed) || extra(&added) {
            return Err(DiffError::ExtraSoa);
        }
        Ok(ZoneDiff {
            from_serial,
            to_serial,
            removed,
            added,
        })
    }

    /// The serial of the zone this diff applies to.
    pub fn from_serial(&self) -> u32 {
        self.from_serial
    }

    /// The serial of the zone this diff produces.
    pub fn to_serial(&self) -> u32 {
        self.to_serial
    }

    /// The old SOA, then the records removed.
    pub fn removed(&self) -> &[Record] {
        &self.removed
    }

    /// The new SOA, then the records added.
    pub fn added(&self) -> &[Record] {
        &self.added
    }

    /// Applies the diff to a zone's records: the zone's SOA must carry
    /// [`ZoneDiff::from_serial`], every removed record must be present (all copies of it
    /// go), and an added record already present only takes the new TTL. The result's SOA
    /// is the diff's new SOA, so its serial is [`ZoneDiff::to_serial`]. The input is not
    /// changed, so on error the caller still has the zone as it was.
    pub fn apply(&self, records: &[Record]) -> Result<Vec<Record>, DiffError> {
        let soa_at = records
            .iter()
            .position(|r| r.rtype() == Rtype::SOA)
            .ok_or(DiffError::ZoneWithoutSoa)?;
        let found = records
            .get(soa_at)
            .and_then(soa_serial)
            .ok_or(DiffError::ZoneWithoutSoa)?;
        if found != self.from_serial {
            return Err(DiffError::SerialMismatch {
                expected: self.from_serial,
                found,
            });
        }
        // Only the owners the diff touches need an index.
        let mut by_owner: HashMap<&Name, Vec<usize>> = HashMap::new();
        for r in self.removed.iter().chain(&self.added).skip(1) {
            by_owner.entry(&r.owner).or_default();
        }
        for (i, r) in records.iter().enumerate() {
            if let Some(list) = by_owner.get_mut(&r.owner) {
                list.push(i);
            }
        }
        let mut out = records.to_vec();
        let mut gone = vec![false; out.len()];
        for r in self.removed.iter().skip(1) {
            let mut hit = false;
            for &i in by_owner.get(&r.owner).map_or(&[][..], Vec::as_slice) {
                if out.get(i).is_some_and(|o| same_rr(o, r))
                    && let Some(g) = gone.get_mut(i)
                {
                    hit |= !*g;
                    *g = true;
                }
            }
            if !hit {
                return Err(DiffError::NotPresent(r.to_string()));
            }
        }
        if let (Some(slot), Some(new_soa)) = (out.get_mut(soa_at), self.added.first()) {
            *slot = new_soa.clone();
        }
        let mut appended = Vec::new();
        for r in self.added.iter().skip(1) {
            let existing = by_owner.get(&r.owner).and_then(|list| {
                list.iter().copied().find(|&i| {
                    !gone.get(i).copied().unwrap_or(true)
                        && out.get(i).is_some_and(|o| same_rr(o, r))
                })
            });
            let slot = match existing {
                Some(i) => out.get_mut(i),
                None => appended.iter_mut().find(|a| same_rr(a, r)),
            };
            match slot {
                Some(o) => o.ttl = r.ttl,
                None => appended.push(r.clone()),
            }
        }
        let mut keep = gone.iter().map(|g| !g);
        out.retain(|_| keep.next().unwrap_or(true));
        out.extend(appended);
        Ok(out)
    }
}

/// The difference that turns zone `old` into zone `new` (for an edited zone file, so
/// that secondaries can still transfer incrementally, as BIND's
/// `ixfr-from-differences` does). A record whose TTL changed is removed and added
/// again. `None` when the two hold the same records; an error when either has no SOA
/// or the serial does not increase (RFC 1982).
pub fn between(old: &[Record], new: &[Record]) -> Result<Option<ZoneDiff>, DiffError> {
    let soa = |z: &[Record]| z.iter().find(|r| r.rtype() == Rtype::SOA).cloned();
    let (Some(old_soa), Some(new_soa)) = (soa(old), soa(new)) else {
        return Err(DiffError::MissingSoa);
    };
    // Canonical form (RFC 4034 §6.2) with the TTL: equal exactly when the records are.
    let key = |r: &Record| {
        let mut w = WireWriter::canonical();
        // A record that cannot be written cannot be in a zone we loaded; a partial key
        // keeps the function total.
        let _ = r.write_wire(&mut w);
        w.into_bytes()
    };
    let mut counts: HashMap<Vec<u8>, isize> = HashMap::with_capacity(new.len());
    for r in new.iter().filter(|r| r.rtype() != Rtype::SOA) {
        *counts.entry(key(r)).or_default() += 1;
    }
    let mut removed = vec![old_soa];
    for r in old.iter().filter(|r| r.rtype() != Rtype::SOA) {
        match counts.get_mut(&key(r)) {
            Some(n) if *n > 0 => *n -= 1,
            _ => removed.push(r.clone()),
        }
    }
    let mut old_counts: HashMap<Vec<u8>, isize> = HashMap::with_capacity(old.len());
    for r in old.iter().filter(|r| r.rtype() != Rtype::SOA) {
        *old_counts.entry(key(r)).or_default() += 1;
    }
    let mut added = vec![new_soa];
    for r in new.iter().filter(|r| r.rtype() != Rtype::SOA) {
        match old_counts.get_mut(&key(r)) {
            Some(n) if *n > 0 => *n -= 1,
            _ => added.push(r.clone()),
        }
    }
    let diff = ZoneDiff::new(removed, added)?;
    if diff.removed.len() == 1 && diff.added.len() == 1 && diff.removed == diff.added {
        return Ok(None);
    }
    if !serial_gt(diff.to_serial, diff.from_serial) {
        return Err(DiffError::SerialNotIncreased {
            from: diff.from_serial,
            to: diff.to_serial,
        });
    }
    Ok(Some(diff))
}

/// Whether two records are the same RR in the sense of RFC 2136 §1.1.1: owner, class,
/// type and data equal (names compared without case), TTL ignored.
pub fn same_rr(a: &Record, b: &Record) -> bool {
    a.owner == b.owner && a.class == b.class && a.data == b.data
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use lib_dns::rdata::Soa;
    use lib_dns::types::Class;
    use lib_dns::zone::{NoIncludes, Zone};

    pub(crate) fn name(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    pub(crate) fn soa(serial: u32) -> Record {
        Record::new(
            name("example."),
            3600,
            Soa {
                mname: name("ns.example."),
                rname: name("hostmaster.example."),
                serial,
                refresh: 7200,
                retry: 900,
                expire: 1209600,
                minimum: 300,
            },
        )
    }

    /// Records of one zone from presentation text (origin `example.`).
    pub(crate) fn records(text: &str) -> Vec<Record> {
        let loaded = Zone::read(
            name("example."),
            Class::IN,
            "test",
            format!("$ORIGIN example.\n$TTL 300\n{text}").as_bytes(),
            &mut NoIncludes,
        );
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        loaded.zone.records().to_vec()
    }

    pub(crate) fn base() -> Vec<Record> {
        records(
            "@ SOA ns hostmaster 1 7200 900 1209600 300\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\nwww A 192.0.2.3\n",
        )
    }

    fn sorted(mut v: Vec<Record>) -> Vec<String> {
        let mut s: Vec<String> = v.drain(..).map(|r| r.to_string()).collect();
        s.sort();
        s
    }

    #[test]
    fn between_two_versions_of_a_zone() {
        let old = base();
        let mut new = records(
            "@ SOA ns hostmaster 2 7200 900 1209600 300\n@ NS ns\nns A 192.0.2.1\nwww 60 A 192.0.2.2\nnew A 192.0.2.9\n",
        );
        let d = between(&old, &new).unwrap().unwrap();
        assert_eq!((d.from_serial(), d.to_serial()), (1, 2));
        assert_eq!(
            sorted(d.removed()[1..].to_vec()),
            sorted(records("www A 192.0.2.2\nwww A 192.0.2.3\n"))
        );
        assert_eq!(
            sorted(d.added()[1..].to_vec()),
            sorted(records("www 60 A 192.0.2.2\nnew A 192.0.2.9\n"))
        );
        let applied = d.apply(&old).unwrap();
        assert_eq!(sorted(applied), sorted(new.clone()));
        assert_eq!(between(&old, &old), Ok(None));
        new[0] = base()[0].clone();
        assert!(matches!(
            between(&old, &new),
            Err(DiffError::SerialNotIncreased { from: 1, to: 1 })
        ));
    }

    #[test]
    fn serial_arithmetic_follows_rfc1982() {
        assert!(serial_gt(2, 1));
        assert!(!serial_gt(1, 2));
        assert!(!serial_gt(5, 5));
        // Wrap-around: 0 follows 0xffffffff.
        assert!(serial_gt(0, u32::MAX));
        assert!(serial_gt(10, 0xffff_fff0));
        assert!(!serial_gt(0xffff_fff0, 10));
        // Exactly half the space apart: undefined, neither is greater (§3.2).
        assert!(!serial_gt(0, SERIAL_HALF));
        assert!(!serial_gt(SERIAL_HALF, 0));
        assert!(serial_gt(SERIAL_HALF - 1, 0));
        assert_eq!(serial_add(u32::MAX, 1), Some(0));
        assert_eq!(serial_add(7, SERIAL_HALF - 1), Some(7 + SERIAL_HALF - 1));
        assert_eq!(serial_add(7, SERIAL_HALF), None);
    }

    #[test]
    fn new_requires_soa_first_and_only_first() {
        assert_eq!(
            ZoneDiff::new(vec![], vec![soa(2)]),
            Err(DiffError::MissingSoa)
        );
        let a = records("x A 192.0.2.9\n");
        assert_eq!(
            ZoneDiff::new(a.clone(), vec![soa(2)]),
            Err(DiffError::MissingSoa)
        );
        assert_eq!(
            ZoneDiff::new(vec![soa(1), soa(3)], vec![soa(2)]),
            Err(DiffError::ExtraSoa)
        );
        let d = ZoneDiff::new(vec![soa(1)], vec![soa(2)]).unwrap();
        assert_eq!((d.from_serial(), d.to_serial()), (1, 2));
    }

    #[test]
    fn apply_removes_adds_and_replaces_the_soa() {
        let mut removed = vec![soa(1)];
        removed.extend(records("www A 192.0.2.2\n"));
        let mut added = vec![soa(2)];
        added.extend(records("www A 192.0.2.4\nnew TXT \"hello\"\n"));
        let d = ZoneDiff::new(removed, added).unwrap();
        let out = d.apply(&base()).unwrap();
        let mut expected = records(
            "@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.3\nwww A 192.0.2.4\nnew TXT \"hello\"\n",
        );
        expected.push(soa(2));
        assert_eq!(sorted(out.clone()), sorted(expected));
        let serial = out.iter().find_map(soa_serial).unwrap();
        assert_eq!(serial, d.to_serial());
    }

    #[test]
    fn removal_ignores_ttl_and_case_and_adding_existing_updates_ttl() {
        let mut removed = vec![soa(1)];
        removed.extend(records("WWW 9 A 192.0.2.2\n"));
        let mut added = vec![soa(2)];
        added.extend(records("www 60 A 192.0.2.3\n"));
        let out = ZoneDiff::new(removed, added)
            .unwrap()
            .apply(&base())
            .unwrap();
        let www: Vec<&Record> = out
            .iter()
            .filter(|r| r.owner == name("www.example."))
            .collect();
        assert_eq!(www.len(), 1);
        assert_eq!(www[0].ttl, 60);
        assert_eq!(www[0].to_string(), "www.example.\t60\tIN\tA\t192.0.2.3");
    }

    #[test]
    fn removing_an_absent_record_is_an_error() {
        let mut removed = vec![soa(1)];
        removed.extend(records("www A 192.0.2.99\n"));
        let err = ZoneDiff::new(removed, vec![soa(2)])
            .unwrap()
            .apply(&base())
            .unwrap_err();
        assert_eq!(
            err,
            DiffError::NotPresent("www.example.\t300\tIN\tA\t192.0.2.99".into())
        );
    }

    #[test]
    fn removing_the_same_record_twice_is_an_error() {
        let mut removed = vec![soa(1)];
        removed.extend(records("ns A 192.0.2.1\nns A 192.0.2.1\n"));
        let err = ZoneDiff::new(removed, vec![soa(2)])
            .unwrap()
            .apply(&base())
            .unwrap_err();
        assert!(matches!(err, DiffError::NotPresent(_)));
    }

    #[test]
    fn serial_must_match_and_zone_needs_a_soa() {
        let d = ZoneDiff::new(vec![soa(5)], vec![soa(6)]).unwrap();
        assert_eq!(
            d.apply(&base()),
            Err(DiffError::SerialMismatch {
                expected: 5,
                found: 1
            })
        );
        assert_eq!(
            d.apply(&records("x A 192.0.2.1\n")),
            Err(DiffError::ZoneWithoutSoa)
        );
    }

    #[test]
    fn adding_the_same_new_record_twice_keeps_one() {
        let mut added = vec![soa(2)];
        added.extend(records("n 10 A 192.0.2.7\nn 20 A 192.0.2.7\n"));
        let out = ZoneDiff::new(vec![soa(1)], added)
            .unwrap()
            .apply(&base())
            .unwrap();
        let n: Vec<&Record> = out
            .iter()
            .filter(|r| r.owner == name("n.example."))
            .collect();
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].ttl, 20);
    }
}
