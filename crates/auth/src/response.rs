//! Writing a response: header, the question as the client sent it, the sections with
//! name compression, truncation (RFC 2181 §9) and the OPT record (RFC 6891 §6.1.1).

use lib_dns::message::{HEADER_LEN, Header};
use lib_dns::types::{Class, Opcode, Rcode, Rtype};
use lib_dns::wire::WireWriter;
use lib_dns::{Name, Record};

use crate::resolve::Resolution;

/// The parts of a query a response repeats.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Echo<'a> {
    /// The query's ID.
    pub id: u16,
    /// The query's opcode.
    pub opcode: Opcode,
    /// RD as received (RFC 1035 §4.1.1: copied into the response).
    pub rd: bool,
    /// CD as received (RFC 4035 §3.1.6).
    pub cd: bool,
    /// The question, if the query had one we could read: the name as received.
    pub question: Option<(&'a [u8], Rtype, Class)>,
}

/// The OPT record of a response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OptOut {
    /// Our UDP payload size.
    pub udp_size: u16,
    /// The DO bit, copied from the query (RFC 3225 §3).
    pub dnssec_ok: bool,
    /// The COOKIE option's data: client cookie and our server cookie.
    pub cookie: Option<[u8; 24]>,
}

impl OptOut {
    /// Bytes the OPT record takes.
    pub fn wire_len(&self) -> usize {
        11 + if self.cookie.is_some() { 4 + 24 } else { 0 }
    }

    /// Appends the OPT record with the upper bits of `rcode`.
    pub fn write(&self, rcode: Rcode, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0, 0, 41]);
        out.extend_from_slice(&self.udp_size.to_be_bytes());
        out.push(rcode.extended_bits());
        out.push(0);
        out.extend_from_slice(&(if self.dnssec_ok { 0x8000u16 } else { 0 }).to_be_bytes());
        match &self.cookie {
            Some(c) => {
                out.extend_from_slice(&28u16.to_be_bytes());
                out.extend_from_slice(&10u16.to_be_bytes());
                out.extend_from_slice(&24u16.to_be_bytes());
                out.extend_from_slice(c);
            }
            None => out.extend_from_slice(&[0, 0]),
        }
    }
}

/// Header bits of a response: QR, opcode, AA, TC, RD and CD as given, rcode low bits.
pub(crate) fn header_bits(echo: &Echo<'_>, aa: bool, tc: bool, rcode: Rcode) -> u16 {
    let bit = |set: bool, mask: u16| if set { mask } else { 0 };
    0x8000
        | u16::from(echo.opcode.value()) << 11
        | bit(aa, 0x0400)
        | bit(tc, 0x0200)
        | bit(echo.rd, 0x0100)
        | bit(echo.cd, 0x0010)
        | u16::from(rcode.header_bits())
}

/// Writes the response for `res` into `out`, at most `limit` bytes in all. When the
/// answer or authority section does not fit, the response carries TC and no records
/// (what Knot does); when required glue does not fit, TC is set and the answer and
/// authority are kept; other additional records that do not fit are left out.
pub(crate) fn write(
    out: &mut Vec<u8>,
    echo: &Echo<'_>,
    res: &Resolution,
    limit: usize,
    opt: Option<&OptOut>,
) {
    out.clear();
    let opt_len = opt.map_or(0, OptOut::wire_len);
    let mut w = WireWriter::message_into(std::mem::take(out), limit.saturating_sub(opt_len));
    let header_ok = w.put_bytes(&[0u8; HEADER_LEN]).is_ok();
    let mut qdcount = 0u16;
    let mut counts = [0u16; 3];
    let mut tc = !header_ok;
    if let Some((qname, qtype, qclass)) = echo.question
        && let Ok(name) = Name::from_wire(qname)
    {
        let start = w.len();
        let ok = w
            .put_name(&name, lib_dns::wire::NameKind::Compressible)
            .is_ok()
            && w.put_u16(qtype.0).is_ok()
            && w.put_u16(qclass.0).is_ok();
        if ok {
            qdcount = 1;
        } else {
            w.truncate(start);
            tc = true;
        }
        let after_question = w.len();
        for (i, section) in [&res.answer, &res.authority].into_iter().enumerate() {
            if tc {
                break;
            }
            match put_all(&mut w, section) {
                Some(n) => {
                    if let Some(c) = counts.get_mut(i) {
                        *c = n;
                    }
                }
                None => {
                    w.truncate(after_question);
                    counts = [0; 3];
                    tc = true;
                }
            }
        }
        if !tc {
            let mark = w.len();
            match put_all(&mut w, &res.glue) {
                Some(n) => counts[2] = n + put_fitting(&mut w, &res.additional),
                None => {
                    // Glue that does not fit: truncated, the rest kept (RFC 9471 §3).
                    w.truncate(mark);
                    tc = true;
                }
            }
        }
    }
    let mut buf = w.into_bytes();
    let header = Header {
        id: echo.id,
        opcode: echo.opcode,
        flags: lib_dns::message::Flags::from_bits(header_bits(echo, res.aa, tc, res.rcode)),
        rcode_low: res.rcode.header_bits(),
        qdcount,
        ancount: counts[0],
        nscount: counts[1],
        arcount: counts[2] + u16::from(opt.is_some()),
    };
    if let Some(h) = buf.get_mut(..HEADER_LEN) {
        h.copy_from_slice(&header.to_bytes());
    }
    if let Some(opt) = opt {
        opt.write(res.rcode, &mut buf);
    }
    *out = buf;
}

/// Writes every record or none (`None` when they do not fit).
fn put_all(w: &mut WireWriter, records: &[Record]) -> Option<u16> {
    let mut n = 0u16;
    for r in records {
        r.write_wire(w).ok()?;
        n = n.saturating_add(1);
    }
    Some(n)
}

/// Writes the records that fit, skipping the others.
fn put_fitting(w: &mut WireWriter, records: &[Record]) -> u16 {
    let mut n = 0u16;
    for r in records {
        let mark = w.len();
        if r.write_wire(w).is_ok() {
            n = n.saturating_add(1);
        } else {
            w.truncate(mark);
        }
    }
    n
}
