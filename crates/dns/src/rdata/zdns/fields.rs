//! Field types shared by several ZDNS record types: endpoints, percentages, timestamps,
//! and the readers for hex and length-prefixed byte fields.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::encoding;
use crate::name::Name;
use crate::text::{Fields, Pos, TextError, Token, name_error};
use crate::wire::{NameKind, WireError, WireReader, WireWriter};

/// Why a record's fields are inconsistent (threshold above the signer count, a digest of
/// the wrong length, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidData(pub &'static str);

impl fmt::Display for InvalidData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for InvalidData {}

impl InvalidData {
    /// As a wire error at offset `at`.
    pub(crate) fn at_wire(self, at: usize) -> WireError {
        WireError::BadRdata { at, reason: self.0 }
    }

    /// As a text error at `pos`.
    pub(crate) fn at_text(self, pos: Pos) -> TextError {
        TextError::new(pos, self.0)
    }
}

/// Reads a one-byte-length-prefixed byte string that must not be empty.
pub(crate) fn read_short_bytes(
    r: &mut WireReader<'_>,
    empty: &'static str,
) -> Result<Vec<u8>, WireError> {
    let at = r.pos();
    let b = r.char_string()?;
    if b.is_empty() {
        return Err(WireError::BadRdata { at, reason: empty });
    }
    Ok(b.to_vec())
}

/// Reads everything left as a byte string that must not be empty.
pub(crate) fn read_rest_nonempty(
    r: &mut WireReader<'_>,
    empty: &'static str,
) -> Result<Vec<u8>, WireError> {
    let at = r.pos();
    let b = r.rest();
    if b.is_empty() {
        return Err(WireError::BadRdata { at, reason: empty });
    }
    Ok(b.to_vec())
}

/// Reads one token of hexadecimal, 1 to 255 bytes once decoded.
pub(crate) fn hex_word(f: &mut Fields<'_>, what: &str) -> Result<Vec<u8>, TextError> {
    let t = f.word(what)?;
    let mut out = Vec::with_capacity(t.text.len() / 2);
    encoding::hex_decode(t.text, &mut out)
        .map_err(|e| t.error(format!("{what}: {e} in hexadecimal data")))?;
    if out.is_empty() || out.len() > 255 {
        return Err(t.error(format!("{what} must be 1 to 255 bytes")));
    }
    Ok(out)
}

/// A transport endpoint: an IP address or a host name, and a port.
///
/// Wire: a one-byte address type (1 IPv4, 2 IPv6, 3 host name, as IPSECKEY's gateway
/// type of RFC 4025 §2.3), the port, then 4 or 16 address bytes or an uncompressed name.
/// Text: one token, `192.0.2.1:443`, `[2001:db8::1]:443` or `node1.example.:443`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// An IP address and port.
    Ip(SocketAddr),
    /// A host name (resolved with A/AAAA) and port.
    Host {
        /// The host.
        name: Name,
        /// The port.
        port: u16,
    },
}

const ENDPOINT_V4: u8 = 1;
const ENDPOINT_V6: u8 = 2;
const ENDPOINT_NAME: u8 = 3;

impl Endpoint {
    /// The port.
    pub fn port(&self) -> u16 {
        match self {
            Endpoint::Ip(a) => a.port(),
            Endpoint::Host { port, .. } => *port,
        }
    }

    pub(crate) fn parse_wire(r: &mut WireReader<'_>) -> Result<Endpoint, WireError> {
        let at = r.pos();
        let kind = r.u8()?;
        let port = r.u16()?;
        Ok(match kind {
            ENDPOINT_V4 => Endpoint::Ip(SocketAddr::new(
                Ipv4Addr::from(r.array::<4>()?).into(),
                port,
            )),
            ENDPOINT_V6 => Endpoint::Ip(SocketAddr::new(
                Ipv6Addr::from(r.array::<16>()?).into(),
                port,
            )),
            ENDPOINT_NAME => Endpoint::Host {
                name: r.name()?,
                port,
            },
            _ => {
                return Err(WireError::BadRdata {
                    at,
                    reason: "unknown endpoint address type",
                });
            }
        })
    }

    pub(crate) fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        match self {
            Endpoint::Ip(SocketAddr::V4(a)) => {
                w.put_u8(ENDPOINT_V4)?;
                w.put_u16(a.port())?;
                w.put_bytes(&a.ip().octets())
            }
            Endpoint::Ip(SocketAddr::V6(a)) => {
                w.put_u8(ENDPOINT_V6)?;
                w.put_u16(a.port())?;
                w.put_bytes(&a.ip().octets())
            }
            Endpoint::Host { name, port } => {
                w.put_u8(ENDPOINT_NAME)?;
                w.put_u16(*port)?;
                w.put_name(name, NameKind::Plain)
            }
        }
    }

    pub(crate) fn parse_field(f: &mut Fields<'_>, what: &str) -> Result<Endpoint, TextError> {
        let t = f.word(what)?;
        Endpoint::parse_token(&t, what, f.origin())
    }

    fn parse_token(
        t: &Token<'_>,
        what: &str,
        origin: Option<&Name>,
    ) -> Result<Endpoint, TextError> {
        let bad = || {
            t.error(format!(
                "expected {what} as address:port, [IPv6]:port or name:port, found '{}'",
                t.lossy()
            ))
        };
        let colon = t.text.iter().rposition(|&c| c == b':').ok_or_else(bad)?;
        let host = t.text.get(..colon).unwrap_or_default();
        let port_text = t.text.get(colon + 1..).unwrap_or_default();
        let port: u16 = std::str::from_utf8(port_text)
            .ok()
            .filter(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| t.error(format!("bad port in {what} '{}'", t.lossy())))?;
        if let Some(inner) = host.strip_prefix(b"[") {
            let v6 = inner
                .strip_suffix(b"]")
                .and_then(|s| std::str::from_utf8(s).ok())
                .and_then(|s| s.parse::<Ipv6Addr>().ok())
                .ok_or_else(bad)?;
            return Ok(Endpoint::Ip(SocketAddr::new(v6.into(), port)));
        }
        if let Some(v4) = std::str::from_utf8(host)
            .ok()
            .and_then(|s| s.parse::<Ipv4Addr>().ok())
        {
            return Ok(Endpoint::Ip(SocketAddr::new(v4.into(), port)));
        }
        let name = Name::parse_relative(host, origin).map_err(|e| name_error(t, what, e))?;
        Ok(Endpoint::Host { name, port })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Ip(a) => write!(f, "{a}"),
            Endpoint::Host { name, port } => write!(f, "{name}:{port}"),
        }
    }
}

/// A share or ratio in basis points (hundredths of a percent), 0 to 10000.
///
/// Wire: a u16. Text: a percentage with up to two decimals, `25%`, `12.5%`, `0.01%`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BasisPoints(u16);

impl BasisPoints {
    /// All of it: 100%.
    pub const FULL: BasisPoints = BasisPoints(10_000);

    /// A share of `bp` basis points; `None` above 10000.
    pub fn new(bp: u16) -> Option<BasisPoints> {
        (bp <= 10_000).then_some(BasisPoints(bp))
    }

    /// The value in basis points.
    pub fn get(self) -> u16 {
        self.0
    }

    pub(crate) fn parse_wire(r: &mut WireReader<'_>) -> Result<BasisPoints, WireError> {
        let at = r.pos();
        BasisPoints::new(r.u16()?).ok_or(WireError::BadRdata {
            at,
            reason: "percentage above 100%",
        })
    }

    pub(crate) fn parse_field(f: &mut Fields<'_>, what: &str) -> Result<BasisPoints, TextError> {
        let t = f.word(what)?;
        BasisPoints::from_text(t.text).ok_or_else(|| {
            t.error(format!(
                "expected {what} as a percentage from 0% to 100% with at most two decimals, \
                 found '{}'",
                t.lossy()
            ))
        })
    }

    fn from_text(text: &[u8]) -> Option<BasisPoints> {
        let digits = text.strip_suffix(b"%")?;
        let (whole, frac) = match digits.iter().position(|&c| c == b'.') {
            Some(dot) => (digits.get(..dot)?, digits.get(dot + 1..)?),
            None => (digits, &b""[..]),
        };
        let all_digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
        if whole.is_empty() || whole.len() > 3 || frac.len() > 2 || !all_digits(whole) {
            return None;
        }
        if digits.contains(&b'.') && frac.is_empty() || !all_digits(frac) {
            return None;
        }
        let whole: u16 = std::str::from_utf8(whole).ok()?.parse().ok()?;
        let mut cents = 0u16;
        for (i, &c) in frac.iter().enumerate() {
            cents += u16::from(c - b'0') * if i == 0 { 10 } else { 1 };
        }
        BasisPoints::new(whole.checked_mul(100)?.checked_add(cents)?)
    }
}

impl fmt::Display for BasisPoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, cents) = (self.0 / 100, self.0 % 100);
        match cents {
            0 => write!(f, "{whole}%"),
            c if c % 10 == 0 => write!(f, "{whole}.{}%", c / 10),
            c => write!(f, "{whole}.{c:02}%"),
        }
    }
}

/// Reads a time stamp as RRSIG does (RFC 4034 §3.2): `YYYYMMDDHHmmSS` in UTC, or a
/// decimal number of seconds since 1970.
pub(crate) fn parse_time(f: &mut Fields<'_>, what: &str) -> Result<u32, TextError> {
    let t = f.word(what)?;
    time_from_text(t.text).ok_or_else(|| {
        t.error(format!(
            "expected {what} as YYYYMMDDHHmmSS (UTC, 1970-2106) or seconds, found '{}'",
            t.lossy()
        ))
    })
}

fn time_from_text(text: &[u8]) -> Option<u32> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let s = std::str::from_utf8(text).ok()?;
    if text.len() != 14 {
        return s.parse().ok();
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|p| p.parse::<u32>().ok());
    let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hour, minute, second) = (num(8..10)?, num(10..12)?, num(12..14)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 || year < 1970 {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    u32::try_from(secs).ok()
}

/// Writes `secs` since 1970 as `YYYYMMDDHHmmSS` (UTC).
pub(crate) fn write_time(secs: u32, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let days = i64::from(secs / 86_400);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    write!(
        f,
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Time(u32);
    impl fmt::Display for Time {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_time(self.0, f)
        }
    }

    #[test]
    fn times() {
        assert_eq!(time_from_text(b"19700101000000"), Some(0));
        assert_eq!(time_from_text(b"20260117000000"), Some(1_768_608_000));
        assert_eq!(time_from_text(b"21060207062815"), Some(u32::MAX));
        assert_eq!(time_from_text(b"21060207062816"), None);
        assert_eq!(time_from_text(b"20240229120000"), Some(1_709_208_000));
        assert_eq!(time_from_text(b"20230229120000"), None);
        assert_eq!(time_from_text(b"20261301000000"), None);
        assert_eq!(time_from_text(b"20260101240000"), None);
        assert_eq!(time_from_text(b"1768608000"), Some(1_768_608_000));
        assert_eq!(time_from_text(b"2026-01-17"), None);
        for secs in [0, 1_709_208_000, 1_768_608_000, u32::MAX] {
            let text = Time(secs).to_string();
            assert_eq!(time_from_text(text.as_bytes()), Some(secs), "{text}");
        }
        assert_eq!(Time(u32::MAX).to_string(), "21060207062815");
    }

    #[test]
    fn percentages() {
        for (text, bp, printed) in [
            ("0%", 0, "0%"),
            ("100%", 10_000, "100%"),
            ("12.5%", 1250, "12.5%"),
            ("12.50%", 1250, "12.5%"),
            ("0.01%", 1, "0.01%"),
            ("33.33%", 3333, "33.33%"),
        ] {
            let v = BasisPoints::from_text(text.as_bytes()).unwrap();
            assert_eq!(v.get(), bp);
            assert_eq!(v.to_string(), printed);
        }
        for bad in [
            "100.01%", "101%", "5", "5.%", ".5%", "1.234%", "-1%", "%", "1e2%",
        ] {
            assert_eq!(BasisPoints::from_text(bad.as_bytes()), None, "{bad}");
        }
    }
}
