//! ZONEMD digests (RFC 8976): the SIMPLE scheme with SHA-384 over the zone's records in
//! canonical form and order, leaving out the apex ZONEMD RRset and its signatures
//! (§3.3.1), duplicates removed.

use lib_dns::Name;
use lib_dns::rdata::{RData, Zonemd};
use lib_dns::record::Record;
use lib_dns::types::Rtype;
use lib_dns::wire::{WireError, WireWriter};
use ring::digest;

/// Whether a record is left out of the digest: the apex ZONEMD RRset and the RRSIGs
/// that cover it (RFC 8976 §3.3.1.1).
fn excluded(r: &Record, apex: &Name) -> bool {
    if r.owner != *apex {
        return false;
    }
    match &r.data {
        RData::Zonemd(_) => true,
        RData::Rrsig(s) => s.type_covered == Rtype::ZONEMD,
        _ => false,
    }
}

/// The SHA-384 SIMPLE digest of the zone at `apex` over `records` (in any order).
pub fn zone_digest(apex: &Name, records: &[Record]) -> Result<Vec<u8>, WireError> {
    let mut wires: Vec<(Name, Rtype, Vec<u8>)> = Vec::with_capacity(records.len());
    for r in records.iter().filter(|r| !excluded(r, apex)) {
        if !r.owner.is_subdomain_of(apex) {
            continue;
        }
        wires.push((r.owner.clone(), r.rtype(), canonical_record(r)?));
    }
    wires.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.cmp(&b.1))
            .then_with(|| rdata_of(&a.2).cmp(rdata_of(&b.2)))
    });
    wires.dedup_by(|a, b| a.0 == b.0 && a.2 == b.2);
    let mut ctx = digest::Context::new(&digest::SHA384);
    for (_, _, wire) in &wires {
        ctx.update(wire);
    }
    Ok(ctx.finish().as_ref().to_vec())
}

/// The RDATA part of a record in canonical wire form (after the 10 fixed bytes that
/// follow the owner name).
fn rdata_of(wire: &[u8]) -> &[u8] {
    // Owner name: walk its labels.
    let mut pos = 0;
    while let Some(&len) = wire.get(pos) {
        pos += usize::from(len) + 1;
        if len == 0 {
            break;
        }
    }
    wire.get(pos + 10..).unwrap_or_default()
}

fn canonical_record(r: &Record) -> Result<Vec<u8>, WireError> {
    let mut w = WireWriter::canonical();
    r.write_wire(&mut w)?;
    Ok(w.into_bytes())
}

/// The ZONEMD record data for the zone (SOA serial `serial`), SIMPLE and SHA-384.
pub fn zonemd(apex: &Name, serial: u32, records: &[Record]) -> Result<Zonemd, WireError> {
    let digest = zone_digest(apex, records)?;
    Zonemd::new(serial, Zonemd::SCHEME_SIMPLE, Zonemd::SHA384, digest)
        .map_err(|reason| WireError::BadRdata { at: 0, reason })
}

/// Whether the apex ZONEMD record(s) in `records` hold the right SIMPLE/SHA-384
/// digest: `Some(true)` if one does, `Some(false)` if none does, `None` if there is no
/// SIMPLE/SHA-384 ZONEMD to check.
pub fn check_zonemd(apex: &Name, records: &[Record]) -> Result<Option<bool>, WireError> {
    let candidates: Vec<&Zonemd> = records
        .iter()
        .filter(|r| r.owner == *apex)
        .filter_map(|r| match &r.data {
            RData::Zonemd(z)
                if z.scheme() == Zonemd::SCHEME_SIMPLE && z.hash_algorithm() == Zonemd::SHA384 =>
            {
                Some(z)
            }
            _ => None,
        })
        .collect();
    if candidates.is_empty() {
        return Ok(None);
    }
    let digest = zone_digest(apex, records)?;
    Ok(Some(candidates.iter().any(|z| z.digest() == digest)))
}
