//! Message bytes as TSIG sees them: finding the TSIG record by walking the sections,
//! feeding the digest components of RFC 8945 §4.3, and appending a TSIG record.

use super::TsigError;
use super::algorithm::MacState;
use crate::name::Name;
use crate::rdata::{RData, Tsig};
use crate::record::Record;
use crate::types::{Class, Rtype};
use crate::wire::{WireReader, WireWriter};

/// Length of the message header (RFC 1035 §4.1.1).
pub(crate) const HEADER_LEN: usize = 12;
/// Offset of ARCOUNT in the header.
const ARCOUNT_AT: usize = 10;

/// A TSIG record as found in a message: its owner (the key name) and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsigRecord {
    /// The key name.
    pub key_name: Name,
    /// The record data.
    pub data: Tsig,
}

/// A message's TSIG record and the offset where it starts.
pub(crate) struct Located {
    /// Offset of the TSIG record: the message before it is what was signed.
    pub(crate) start: usize,
    /// The record.
    pub(crate) record: TsigRecord,
}

/// The message ID and ARCOUNT.
pub(crate) fn id_and_arcount(msg: &[u8]) -> Result<(u16, u16), TsigError> {
    let header = msg
        .get(..HEADER_LEN)
        .ok_or(TsigError::Malformed("message shorter than its header"))?;
    let u16_at = |i: usize| {
        header
            .get(i..i + 2)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map_or(0, u16::from_be_bytes)
    };
    Ok((u16_at(0), u16_at(ARCOUNT_AT)))
}

/// Finds the TSIG record, which must be the last record of the additional section and
/// the only TSIG (RFC 8945 §5.2); `None` if the message has none. Every other layout,
/// and any byte after the last record, is malformed (FORMERR).
pub(crate) fn locate(msg: &[u8]) -> Result<Option<Located>, TsigError> {
    let bad = |_| TsigError::Malformed("message is truncated or malformed");
    let mut r = WireReader::new(msg);
    let mut counts = [0u16; 4];
    r.bytes(4).map_err(bad)?;
    for c in &mut counts {
        *c = r.u16().map_err(bad)?;
    }
    let [qd, an, ns, ar] = counts;
    for _ in 0..qd {
        r.name().map_err(bad)?;
        r.bytes(4).map_err(bad)?;
    }
    let total = u32::from(an) + u32::from(ns) + u32::from(ar);
    let mut found = None;
    for i in 0..total {
        let start = r.pos();
        r.name().map_err(bad)?;
        let rtype = Rtype(r.u16().map_err(bad)?);
        r.bytes(6).map_err(bad)?;
        let len = r.u16().map_err(bad)?;
        r.sub(usize::from(len)).map_err(bad)?;
        if rtype == Rtype::TSIG {
            if i + 1 != total || ar == 0 {
                return Err(TsigError::Malformed(
                    "TSIG record is not the last record of the additional section",
                ));
            }
            found = Some(start);
        }
    }
    r.finish()
        .map_err(|_| TsigError::Malformed("data after the last record"))?;
    let Some(start) = found else {
        return Ok(None);
    };
    let mut rr = WireReader::at(msg, start, msg.len() - start).map_err(bad)?;
    let record = Record::parse_wire(&mut rr)
        .map_err(|_| TsigError::Malformed("TSIG record data is malformed"))?;
    // RFC 8945 §4.2: CLASS ANY, TTL 0.
    if record.class != Class::ANY {
        return Err(TsigError::Malformed("TSIG record class is not ANY"));
    }
    if record.ttl != 0 {
        return Err(TsigError::Malformed("TSIG record TTL is not 0"));
    }
    let RData::Tsig(data) = record.data else {
        return Err(TsigError::Malformed("TSIG record data is malformed"));
    };
    Ok(Some(Located {
        start,
        record: TsigRecord {
            key_name: record.owner,
            data: *data,
        },
    }))
}

/// Feeds a prior MAC: its length and bytes (RFC 8945 §4.3.1, §5.3.1).
pub(crate) fn digest_prior_mac(mac: &mut MacState, prior: &[u8]) {
    let len = u16::try_from(prior.len()).unwrap_or(u16::MAX);
    mac.update(&len.to_be_bytes());
    mac.update(prior);
}

/// Feeds `msg[..end]` as RFC 8945 §4.3.2 has it: `original_id` in place of the ID and
/// `arcount` (the count without the TSIG record) in place of ARCOUNT.
pub(crate) fn digest_message(
    mac: &mut MacState,
    msg: &[u8],
    end: usize,
    original_id: u16,
    arcount: u16,
) {
    mac.update(&original_id.to_be_bytes());
    mac.update(msg.get(2..ARCOUNT_AT).unwrap_or_default());
    mac.update(&arcount.to_be_bytes());
    mac.update(msg.get(HEADER_LEN..end).unwrap_or_default());
}

/// Feeds the TSIG variables of RFC 8945 §4.3.3 in canonical form: key name and algorithm
/// name lowercased and uncompressed, class ANY, TTL 0, time, fudge, error, other data.
pub(crate) fn digest_variables(mac: &mut MacState, key_name: &Name, tsig: &Tsig) {
    mac.update(key_name.to_lowercase().as_wire());
    mac.update(&Class::ANY.0.to_be_bytes());
    mac.update(&0u32.to_be_bytes());
    mac.update(tsig.algorithm.to_lowercase().as_wire());
    digest_timers(mac, tsig);
    mac.update(&tsig.error.0.to_be_bytes());
    let other_len = u16::try_from(tsig.other.len()).unwrap_or(u16::MAX);
    mac.update(&other_len.to_be_bytes());
    mac.update(&tsig.other);
}

/// Feeds the TSIG timers only: time signed and fudge (RFC 8945 §4.3.3, §5.3.1).
pub(crate) fn digest_timers(mac: &mut MacState, tsig: &Tsig) {
    let time = tsig.time_signed.secs().to_be_bytes();
    mac.update(time.get(2..).unwrap_or_default());
    mac.update(&tsig.fudge.to_be_bytes());
}

/// `msg` with the TSIG record appended and ARCOUNT raised by one.
pub(crate) fn append(msg: &[u8], record: &TsigRecord) -> Result<Vec<u8>, TsigError> {
    let (_, arcount) = id_and_arcount(msg)?;
    let arcount = arcount
        .checked_add(1)
        .ok_or(TsigError::Malformed("additional section is full"))?;
    let rr = Record {
        owner: record.key_name.clone(),
        class: Class::ANY,
        ttl: 0,
        data: RData::from(record.data.clone()),
    };
    let mut w = WireWriter::plain();
    rr.write_wire(&mut w).map_err(TsigError::Wire)?;
    let mut out = Vec::with_capacity(msg.len() + w.len());
    out.extend_from_slice(msg);
    out.extend_from_slice(w.as_bytes());
    if let Some(slot) = out.get_mut(ARCOUNT_AT..ARCOUNT_AT + 2) {
        slot.copy_from_slice(&arcount.to_be_bytes());
    }
    Ok(out)
}

/// The question section of `msg`, names uncompressed: QDCOUNT and the bytes. `None` if
/// it cannot be read.
pub(crate) fn question_section(msg: &[u8]) -> Option<(u16, Vec<u8>)> {
    let mut r = WireReader::new(msg);
    r.bytes(4).ok()?;
    let qdcount = r.u16().ok()?;
    r.bytes(6).ok()?;
    let mut out = Vec::new();
    for _ in 0..qdcount {
        out.extend_from_slice(r.name().ok()?.as_wire());
        out.extend_from_slice(r.bytes(4).ok()?);
    }
    Some((qdcount, out))
}
