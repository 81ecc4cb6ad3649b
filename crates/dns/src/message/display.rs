//! Printing a message as `dig` (BIND 9.18) does: the header lines, the OPT pseudosection,
//! then each non-empty section with its records in tab-aligned columns.

use std::fmt::{self, Write};

use super::option::{ClientSubnet, EdnsOption, ede_name};
use super::{Edns, Message};
use crate::record::Record;

/// Columns of the TTL, class, type and data fields, with 8-column tabs, as BIND's
/// `dns_master_style_debug` lays them out.
const TTL_COLUMN: usize = 24;
const CLASS_COLUMN: usize = 32;
const TYPE_COLUMN: usize = 40;
const RDATA_COLUMN: usize = 48;
const TAB_WIDTH: usize = 8;

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = self.header();
        writeln!(
            f,
            ";; ->>HEADER<<- opcode: {}, status: {}, id: {}",
            self.opcode, self.rcode, self.id
        )?;
        f.write_str(";; flags:")?;
        for name in self.flags.names() {
            write!(f, " {name}")?;
        }
        // The reserved Z bit, shown as dig does: the flag word's bits 4-6 that must be zero.
        if self.flags.z {
            f.write_str("; MBZ: 0x4")?;
        }
        writeln!(
            f,
            "; QUERY: {}, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: {}",
            h.qdcount, h.ancount, h.nscount, h.arcount
        )?;
        writeln!(f)?;
        if let Some(edns) = &self.edns {
            write_edns(edns, f)?;
        }
        if !self.questions.is_empty() {
            writeln!(f, ";; QUESTION SECTION:")?;
            for q in &self.questions {
                let mut line = Columns::default();
                write!(line, ";{}", q.qname)?;
                line.indent(CLASS_COLUMN);
                write!(line, "{}", q.qclass)?;
                line.indent(TYPE_COLUMN);
                write!(line, "{}", q.qtype)?;
                writeln!(f, "{}", line.text)?;
            }
            writeln!(f)?;
        }
        for (title, records) in [
            ("ANSWER", &self.answers),
            ("AUTHORITY", &self.authority),
            ("ADDITIONAL", &self.additional),
        ] {
            if records.is_empty() {
                continue;
            }
            writeln!(f, ";; {title} SECTION:")?;
            for r in records {
                write_record(r, f)?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// One record in dig's columns.
fn write_record(r: &Record, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut line = Columns::default();
    write!(line, "{}", r.owner)?;
    line.indent(TTL_COLUMN);
    write!(line, "{}", r.ttl)?;
    line.indent(CLASS_COLUMN);
    write!(line, "{}", r.class)?;
    line.indent(TYPE_COLUMN);
    write!(line, "{}", r.rtype())?;
    line.indent(RDATA_COLUMN);
    write!(line, "{}", r.data)?;
    writeln!(f, "{}", line.text)
}

/// A line being laid out in columns.
#[derive(Default)]
struct Columns {
    text: String,
    column: usize,
}

impl Columns {
    /// Moves to column `to` with tabs (and spaces if needed), or writes one space when
    /// already at or past it, as BIND's `indent()` does.
    fn indent(&mut self, to: usize) {
        if self.column >= to {
            self.text.push(' ');
            self.column += 1;
            return;
        }
        let tabs = to / TAB_WIDTH - self.column / TAB_WIDTH;
        if tabs > 0 {
            self.text.extend(std::iter::repeat_n('\t', tabs));
            self.column = to / TAB_WIDTH * TAB_WIDTH;
        }
        self.text
            .extend(std::iter::repeat_n(' ', to.saturating_sub(self.column)));
        self.column = to;
    }
}

impl fmt::Write for Columns {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.text.push_str(s);
        self.column += s.chars().count();
        Ok(())
    }
}

/// The OPT pseudosection.
fn write_edns(edns: &Edns, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(f, ";; OPT PSEUDOSECTION:")?;
    write!(f, "; EDNS: version: {}, flags:", edns.version)?;
    if edns.flags & 0x8000 != 0 {
        f.write_str(" do")?;
    }
    // CO, "compact answers OK" (draft-ietf-dnsop-compact-denial-of-existence).
    if edns.flags & 0x4000 != 0 {
        f.write_str(" co")?;
    }
    f.write_str("; ")?;
    let mbz = edns.flags & 0x3fff;
    if mbz != 0 {
        write!(f, "MBZ: 0x{mbz:04x}, ")?;
    }
    writeln!(f, "udp: {}", edns.udp_payload_size)?;
    for option in &edns.options {
        write_option(option, f)?;
    }
    Ok(())
}

fn write_option(option: &EdnsOption, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match option {
        EdnsOption::Nsid(data) => {
            f.write_str("; NSID:")?;
            write_bytes(data, f)?;
        }
        EdnsOption::ClientSubnet(s) => write_subnet(s, f)?,
        EdnsOption::Cookie(c) => {
            f.write_str("; COOKIE: ")?;
            for b in c.client().iter().chain(c.server().unwrap_or_default()) {
                write!(f, "{b:02x}")?;
            }
        }
        EdnsOption::TcpKeepalive(t) => {
            f.write_str("; TCP KEEPALIVE:")?;
            if let Some(t) = t {
                write!(f, " {}.{} secs", t / 10, t % 10)?;
            }
        }
        EdnsOption::Padding(p) => {
            f.write_str("; PAD:")?;
            if !p.is_empty() {
                write!(f, " ({} bytes)", p.len())?;
            }
        }
        EdnsOption::ExtendedError(e) => {
            write!(f, "; EDE: {}", e.info_code)?;
            if let Some(name) = ede_name(e.info_code) {
                write!(f, " ({name})")?;
            }
            if !e.text.is_empty() {
                write!(f, ": ({})", e.text)?;
            }
        }
        EdnsOption::Unknown { code, data } => {
            write!(f, "; OPT={code}:")?;
            write_bytes(data, f)?;
        }
    }
    writeln!(f)
}

fn write_subnet(s: &ClientSubnet, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "; CLIENT-SUBNET: {s}")
}

/// ` xx xx (".."):` hex bytes then the printable rendering, as dig shows opaque options.
fn write_bytes(data: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if data.is_empty() {
        return Ok(());
    }
    for b in data {
        write!(f, " {b:02x}")?;
    }
    f.write_str(" (\"")?;
    for &b in data {
        f.write_char(if (0x20..0x7f).contains(&b) {
            char::from(b)
        } else {
            '.'
        })?;
    }
    f.write_str("\")")
}
