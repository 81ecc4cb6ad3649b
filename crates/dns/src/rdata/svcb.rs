//! Service binding: SVCB and HTTPS (RFC 9460), one generic type for both (RFC 9460 §9).
//!
//! SvcParams are typed for the registered keys (RFC 9460 §7, RFC 9461 `dohpath`,
//! RFC 9540 `ohttp`) and kept as bytes for the others. Every way in (wire, text, [`new`])
//! sorts or checks the keys into strictly increasing order and enforces RFC 9460 §2.2
//! and §8: no duplicate keys, each value in its key's format, `mandatory` not listing
//! itself and naming only keys present, and `no-default-alpn` only beside `alpn`
//! (§7.1.1). AliasMode records (priority 0) may carry parameters, which recipients ignore
//! (§2.4.2); BIND 9.18 keeps and prints them, and so do we.
//!
//! Printing follows BIND 9.18: `alpn` quoted, `mandatory` by name, and `dohpath` and
//! `ohttp`, which BIND 9.18 reads but does not name, in the generic `keyNNNNN` form.
//!
//! [`new`]: ServiceBinding::new

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::RecordData;
use crate::encoding;
use crate::name::{self, Name};
use crate::text::{Fields, TextError, Token, write_char_string};
use crate::types::Rtype;
use crate::wire::{NameKind, WireError, WireReader, WireWriter};

/// A SvcParamKey (RFC 9460 §14.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SvcParamKey(pub u16);

impl SvcParamKey {
    /// `mandatory` (RFC 9460 §8).
    pub const MANDATORY: SvcParamKey = SvcParamKey(0);
    /// `alpn` (RFC 9460 §7.1).
    pub const ALPN: SvcParamKey = SvcParamKey(1);
    /// `no-default-alpn` (RFC 9460 §7.1).
    pub const NO_DEFAULT_ALPN: SvcParamKey = SvcParamKey(2);
    /// `port` (RFC 9460 §7.2).
    pub const PORT: SvcParamKey = SvcParamKey(3);
    /// `ipv4hint` (RFC 9460 §7.3).
    pub const IPV4HINT: SvcParamKey = SvcParamKey(4);
    /// `ech` (RFC 9460 §14.3.2).
    pub const ECH: SvcParamKey = SvcParamKey(5);
    /// `ipv6hint` (RFC 9460 §7.3).
    pub const IPV6HINT: SvcParamKey = SvcParamKey(6);
    /// `dohpath` (RFC 9461 §5).
    pub const DOHPATH: SvcParamKey = SvcParamKey(7);
    /// `ohttp` (RFC 9540 §4).
    pub const OHTTP: SvcParamKey = SvcParamKey(8);

    const NAMES: [(&'static str, SvcParamKey); 9] = [
        ("mandatory", SvcParamKey::MANDATORY),
        ("alpn", SvcParamKey::ALPN),
        ("no-default-alpn", SvcParamKey::NO_DEFAULT_ALPN),
        ("port", SvcParamKey::PORT),
        ("ipv4hint", SvcParamKey::IPV4HINT),
        ("ech", SvcParamKey::ECH),
        ("ipv6hint", SvcParamKey::IPV6HINT),
        ("dohpath", SvcParamKey::DOHPATH),
        ("ohttp", SvcParamKey::OHTTP),
    ];

    /// Reads a key name (lower case, as BIND) or `keyNNNNN` without leading zeros
    /// (RFC 9460 §2.1).
    pub fn from_text(text: &[u8]) -> Option<SvcParamKey> {
        if let Some(&(_, key)) = Self::NAMES.iter().find(|(n, _)| n.as_bytes() == text) {
            return Some(key);
        }
        let digits = text.strip_prefix(b"key")?;
        let leading_zero = digits.len() > 1 && digits.first() == Some(&b'0');
        if digits.is_empty() || leading_zero || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits)
            .ok()?
            .parse()
            .ok()
            .map(SvcParamKey)
    }
}

impl fmt::Display for SvcParamKey {
    /// The names BIND 9.18 prints (keys 0–6), `keyNNNNN` for the others.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Self::NAMES.get(usize::from(self.0)) {
            Some((name, _)) if self.0 <= 6 => f.write_str(name),
            _ => write!(f, "key{}", self.0),
        }
    }
}

/// One SvcParam: a key and its value, typed for the registered keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SvcParam {
    /// Keys the client must understand to use the record (RFC 9460 §8); non-empty.
    Mandatory(Vec<SvcParamKey>),
    /// ALPN protocol identifiers (RFC 9460 §7.1); non-empty, each 1–255 bytes.
    Alpn(Vec<Vec<u8>>),
    /// The default ALPN is not supported (RFC 9460 §7.1).
    NoDefaultAlpn,
    /// The TCP or UDP port (RFC 9460 §7.2).
    Port(u16),
    /// IPv4 addresses of the target (RFC 9460 §7.3); non-empty.
    Ipv4Hint(Vec<Ipv4Addr>),
    /// An ECHConfigList (RFC 9460 §14.3.2), opaque here.
    Ech(Vec<u8>),
    /// IPv6 addresses of the target (RFC 9460 §7.3); non-empty.
    Ipv6Hint(Vec<Ipv6Addr>),
    /// A DNS over HTTPS URI template relative to the target (RFC 9461 §5): starts with
    /// `/` and contains `{?dns}`, as BIND checks.
    DohPath(String),
    /// The service is an Oblivious HTTP gateway (RFC 9540 §4).
    Ohttp,
    /// Any other key, with its value in wire form.
    Unknown(SvcParamKey, Vec<u8>),
}

impl SvcParam {
    /// The key of this parameter.
    pub fn key(&self) -> SvcParamKey {
        match self {
            SvcParam::Mandatory(_) => SvcParamKey::MANDATORY,
            SvcParam::Alpn(_) => SvcParamKey::ALPN,
            SvcParam::NoDefaultAlpn => SvcParamKey::NO_DEFAULT_ALPN,
            SvcParam::Port(_) => SvcParamKey::PORT,
            SvcParam::Ipv4Hint(_) => SvcParamKey::IPV4HINT,
            SvcParam::Ech(_) => SvcParamKey::ECH,
            SvcParam::Ipv6Hint(_) => SvcParamKey::IPV6HINT,
            SvcParam::DohPath(_) => SvcParamKey::DOHPATH,
            SvcParam::Ohttp => SvcParamKey::OHTTP,
            SvcParam::Unknown(key, _) => *key,
        }
    }

    /// Decodes the wire form of a value, typed by its key.
    pub fn from_wire(key: SvcParamKey, value: &[u8]) -> Result<SvcParam, &'static str> {
        match key {
            SvcParamKey::MANDATORY => {
                let (chunks, rest) = value.as_chunks::<2>();
                if chunks.is_empty() || !rest.is_empty() {
                    return Err("SVCB mandatory value must be a non-empty list of keys");
                }
                let keys: Vec<SvcParamKey> = chunks
                    .iter()
                    .map(|&c| SvcParamKey(u16::from_be_bytes(c)))
                    .collect();
                if !keys.is_sorted_by(|a, b| a < b) {
                    return Err("SVCB mandatory keys repeated or not in increasing order");
                }
                if keys.contains(&SvcParamKey::MANDATORY) {
                    return Err("SVCB mandatory must not list itself");
                }
                Ok(SvcParam::Mandatory(keys))
            }
            SvcParamKey::ALPN => {
                let mut r = WireReader::new(value);
                let mut ids = Vec::new();
                while !r.is_empty() {
                    let id = r
                        .char_string()
                        .map_err(|_| "SVCB alpn value is truncated")?;
                    if id.is_empty() {
                        return Err("SVCB alpn identifier is empty");
                    }
                    ids.push(id.to_vec());
                }
                if ids.is_empty() {
                    return Err("SVCB alpn value is empty");
                }
                Ok(SvcParam::Alpn(ids))
            }
            SvcParamKey::NO_DEFAULT_ALPN if value.is_empty() => Ok(SvcParam::NoDefaultAlpn),
            SvcParamKey::NO_DEFAULT_ALPN => Err("SVCB no-default-alpn value must be empty"),
            SvcParamKey::PORT => match value {
                &[hi, lo] => Ok(SvcParam::Port(u16::from_be_bytes([hi, lo]))),
                _ => Err("SVCB port value must be 2 bytes"),
            },
            SvcParamKey::IPV4HINT => {
                let (chunks, rest) = value.as_chunks::<4>();
                if chunks.is_empty() || !rest.is_empty() {
                    return Err("SVCB ipv4hint value must be a non-empty list of addresses");
                }
                let addrs = chunks.iter().map(|&c| Ipv4Addr::from(c)).collect();
                Ok(SvcParam::Ipv4Hint(addrs))
            }
            SvcParamKey::ECH => Ok(SvcParam::Ech(value.to_vec())),
            SvcParamKey::IPV6HINT => {
                let (chunks, rest) = value.as_chunks::<16>();
                if chunks.is_empty() || !rest.is_empty() {
                    return Err("SVCB ipv6hint value must be a non-empty list of addresses");
                }
                let addrs = chunks.iter().map(|&c| Ipv6Addr::from(c)).collect();
                Ok(SvcParam::Ipv6Hint(addrs))
            }
            SvcParamKey::DOHPATH => {
                let path =
                    std::str::from_utf8(value).map_err(|_| "SVCB dohpath value is not UTF-8")?;
                if !path.starts_with('/') || !path.contains("{?dns}") {
                    return Err("SVCB dohpath must start with '/' and contain '{?dns}'");
                }
                Ok(SvcParam::DohPath(path.to_owned()))
            }
            SvcParamKey::OHTTP if value.is_empty() => Ok(SvcParam::Ohttp),
            SvcParamKey::OHTTP => Err("SVCB ohttp value must be empty"),
            _ => Ok(SvcParam::Unknown(key, value.to_vec())),
        }
    }

    /// The wire form of the value.
    pub fn value_wire(&self) -> Vec<u8> {
        match self {
            SvcParam::Mandatory(keys) => keys.iter().flat_map(|k| k.0.to_be_bytes()).collect(),
            SvcParam::Alpn(ids) => {
                let mut out = Vec::new();
                for id in ids {
                    out.push(id.len().min(255) as u8);
                    out.extend_from_slice(id);
                }
                out
            }
            SvcParam::NoDefaultAlpn | SvcParam::Ohttp => Vec::new(),
            SvcParam::Port(port) => port.to_be_bytes().to_vec(),
            SvcParam::Ipv4Hint(addrs) => addrs.iter().flat_map(|a| a.octets()).collect(),
            SvcParam::Ipv6Hint(addrs) => addrs.iter().flat_map(|a| a.octets()).collect(),
            SvcParam::Ech(v) | SvcParam::Unknown(_, v) => v.clone(),
            SvcParam::DohPath(path) => path.as_bytes().to_vec(),
        }
    }

    /// Reads the presentation value (`None` when the key stood alone) after the
    /// character-string escapes were decoded (RFC 9460 §2.1, Appendix A). In the generic
    /// `keyNNNNN` form the value is the wire format, whatever the key (RFC 9460 §2.1).
    fn from_text(
        key: SvcParamKey,
        generic: bool,
        value: Option<&[u8]>,
    ) -> Result<SvcParam, String> {
        if generic {
            return Ok(SvcParam::from_wire(key, value.unwrap_or_default())?);
        }
        let required = || {
            value
                .filter(|v| !v.is_empty())
                .ok_or(format!("{key} needs a value"))
        };
        let param = match key {
            SvcParamKey::MANDATORY => {
                let mut keys = split_list(required()?)?
                    .into_iter()
                    .map(|item| {
                        SvcParamKey::from_text(&item).ok_or_else(|| {
                            format!(
                                "unknown key '{}' in mandatory",
                                String::from_utf8_lossy(&item)
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                keys.sort_unstable();
                SvcParam::Mandatory(keys)
            }
            SvcParamKey::ALPN => {
                let ids = split_escaped_list(required()?)?;
                if ids.iter().any(|id| id.len() > 255) {
                    return Err("alpn identifier longer than 255 bytes".into());
                }
                SvcParam::Alpn(ids)
            }
            SvcParamKey::PORT => {
                let v = required()?;
                let port = std::str::from_utf8(v)
                    .ok()
                    .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|s| s.parse().ok())
                    .ok_or("port must be a number from 0 to 65535")?;
                SvcParam::Port(port)
            }
            SvcParamKey::IPV4HINT => SvcParam::Ipv4Hint(parse_addrs(required()?, "IPv4")?),
            SvcParamKey::IPV6HINT => SvcParam::Ipv6Hint(parse_addrs(required()?, "IPv6")?),
            SvcParamKey::ECH => {
                let mut out = Vec::new();
                encoding::base64_decode(value.unwrap_or_default(), &mut out)
                    .map_err(|e| format!("ech: {e} in Base64 data"))?;
                SvcParam::Ech(out)
            }
            SvcParamKey::DOHPATH => SvcParam::from_wire(key, required()?)?,
            // The keys whose value must be empty.
            _ => SvcParam::from_wire(key, value.unwrap_or_default())?,
        };
        // The checks of the wire format apply too (repeated or self-listing mandatory).
        Ok(SvcParam::from_wire(key, &param.value_wire())?)
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.key();
        match self {
            SvcParam::Mandatory(keys) => {
                write!(f, "{key}=")?;
                write_list(keys, f)
            }
            SvcParam::Alpn(ids) => {
                let mut list = Vec::new();
                for (i, id) in ids.iter().enumerate() {
                    if i > 0 {
                        list.push(b',');
                    }
                    for &b in id {
                        if b == b',' || b == b'\\' {
                            list.push(b'\\');
                        }
                        list.push(b);
                    }
                }
                write!(f, "{key}=")?;
                write_alpn_list(&list, f)
            }
            SvcParam::NoDefaultAlpn => write!(f, "{key}"),
            SvcParam::Port(port) => write!(f, "{key}={port}"),
            SvcParam::Ipv4Hint(addrs) => {
                write!(f, "{key}=")?;
                write_list(addrs, f)
            }
            SvcParam::Ipv6Hint(addrs) => {
                write!(f, "{key}=")?;
                write_list(addrs, f)
            }
            SvcParam::Ech(v) if v.is_empty() => write!(f, "{key}"),
            SvcParam::Ech(v) => {
                write!(f, "{key}=")?;
                encoding::base64_encode(v, f)
            }
            SvcParam::DohPath(_) | SvcParam::Ohttp | SvcParam::Unknown(..) => {
                let value = self.value_wire();
                write!(f, "{key}")?;
                if value.is_empty() {
                    return Ok(());
                }
                f.write_str("=")?;
                write_char_string(&value, f)
            }
        }
    }
}

/// Writes the escaped alpn list as a quoted character-string, as BIND 9.18 does: like
/// any character-string, but with spaces as `\032`.
fn write_alpn_list(list: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("\"")?;
    for &b in list {
        match b {
            b'"' | b'\\' => write!(f, "\\{}", char::from(b))?,
            0x21..=0x7e => write!(f, "{}", char::from(b))?,
            _ => write!(f, "\\{b:03}")?,
        }
    }
    f.write_str("\"")
}

fn write_list<T: fmt::Display>(items: &[T], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

/// Splits a comma-separated list whose items contain no `,` or `\` (RFC 9460 Appendix
/// A.1); items must not be empty.
fn split_list(value: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let items: Vec<Vec<u8>> = value.split(|&b| b == b',').map(<[u8]>::to_vec).collect();
    if items.iter().any(Vec::is_empty) {
        return Err("empty item in comma-separated list".into());
    }
    Ok(items)
}

/// Splits a comma-separated list in which `\,` and `\\` stand for `,` and `\` (RFC 9460
/// Appendix A.1); items must not be empty.
fn split_escaped_list(value: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut items = Vec::new();
    let mut item = Vec::new();
    let mut bytes = value.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b',' => items.push(std::mem::take(&mut item)),
            b'\\' => match bytes.next() {
                Some(&c @ (b',' | b'\\')) => item.push(c),
                _ => return Err("in a list only '\\,' and '\\\\' may be escaped".into()),
            },
            _ => item.push(b),
        }
    }
    items.push(item);
    if items.iter().any(Vec::is_empty) {
        return Err("empty item in comma-separated list".into());
    }
    Ok(items)
}

fn parse_addrs<A: std::str::FromStr>(value: &[u8], family: &str) -> Result<Vec<A>, String> {
    split_list(value)?
        .iter()
        .map(|item| {
            std::str::from_utf8(item)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    format!(
                        "expected {family} address, found '{}'",
                        String::from_utf8_lossy(item)
                    )
                })
        })
        .collect()
}

/// Decodes the character-string escapes `\X` and `\DDD` (RFC 1035 §5.1).
fn unescape(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0usize;
    while let Some(&c) = raw.get(i) {
        i += 1;
        if c == b'\\' {
            let (b, used) = name::unescape(raw.get(i..).unwrap_or_default()).ok()?;
            out.push(b);
            i += used;
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Service binding data (RFC 9460 §2.2). `T` is the type code: [`Svcb`] or [`Https`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceBinding<const T: u16> {
    /// 0 for AliasMode, otherwise ServiceMode with lower values preferred.
    pub priority: u16,
    /// The alias target or service host; `.` means the owner name (RFC 9460 §2.5).
    /// Never compressed and never lowercased (RFC 9460 §2.2).
    pub target: Name,
    params: Vec<SvcParam>,
}

/// SVCB record data (RFC 9460 §2).
pub type Svcb = ServiceBinding<{ Rtype::SVCB.0 }>;
/// HTTPS record data (RFC 9460 §9).
pub type Https = ServiceBinding<{ Rtype::HTTPS.0 }>;

impl<const T: u16> ServiceBinding<T> {
    /// Data with the given parameters, in any order: they are sorted by key and checked
    /// as the module documentation describes.
    pub fn new(
        priority: u16,
        target: Name,
        params: Vec<SvcParam>,
    ) -> Result<ServiceBinding<T>, &'static str> {
        let mut checked = params
            .into_iter()
            .map(|p| {
                let p = match p {
                    SvcParam::Mandatory(mut keys) => {
                        keys.sort_unstable();
                        SvcParam::Mandatory(keys)
                    }
                    other => other,
                };
                if matches!(&p, SvcParam::Alpn(ids) if ids.iter().any(|id| id.len() > 255)) {
                    return Err("SVCB alpn identifier longer than 255 bytes");
                }
                SvcParam::from_wire(p.key(), &p.value_wire())
            })
            .collect::<Result<Vec<_>, _>>()?;
        checked.sort_by_key(SvcParam::key);
        let data = ServiceBinding {
            priority,
            target,
            params: checked,
        };
        data.check()?;
        Ok(data)
    }

    /// The parameters, in increasing key order.
    pub fn params(&self) -> &[SvcParam] {
        &self.params
    }

    /// The parameter with key `key`.
    pub fn param(&self, key: SvcParamKey) -> Option<&SvcParam> {
        self.params.iter().find(|p| p.key() == key)
    }

    /// Whether this is an AliasMode record (RFC 9460 §2.4.2).
    pub fn is_alias(&self) -> bool {
        self.priority == 0
    }

    /// The checks across parameters (RFC 9460 §2.2, §7.1.1, §8), on sorted parameters.
    fn check(&self) -> Result<(), &'static str> {
        if !self.params.is_sorted_by(|a, b| a.key() < b.key()) {
            return Err("SVCB parameter keys repeated or not in increasing order");
        }
        if let Some(SvcParam::Mandatory(keys)) = self.param(SvcParamKey::MANDATORY)
            && keys.iter().any(|&k| self.param(k).is_none())
        {
            return Err("SVCB mandatory lists a key that is not present");
        }
        if self.param(SvcParamKey::NO_DEFAULT_ALPN).is_some()
            && self.param(SvcParamKey::ALPN).is_none()
        {
            return Err("SVCB no-default-alpn requires alpn");
        }
        let too_long = self.params.iter().any(|p| p.value_wire().len() > 65535);
        if too_long {
            return Err("SVCB parameter value longer than 65535 bytes");
        }
        Ok(())
    }

    /// Reads one `key[=value]` parameter starting at token `t`.
    fn parse_param(t: Token<'_>, f: &mut Fields<'_>) -> Result<SvcParam, TextError> {
        let (key_text, raw) = match t.text.iter().position(|&b| b == b'=') {
            Some(eq) => (
                t.text.get(..eq).unwrap_or_default(),
                Some(t.text.get(eq + 1..).unwrap_or_default()),
            ),
            None => (t.text, None),
        };
        let key = SvcParamKey::from_text(key_text).ok_or_else(|| {
            t.error(format!(
                "unknown SvcParamKey '{}'",
                String::from_utf8_lossy(key_text)
            ))
        })?;
        // `key="value"`: the lexer ends the word at the quote, so the value is the quoted
        // token that follows with no space between.
        let raw = match (raw, f.peek()) {
            (Some(b""), Some(q))
                if q.quoted
                    && q.pos.line == t.pos.line
                    && usize::try_from(q.pos.col).ok()
                        == usize::try_from(t.pos.col).ok().map(|c| c + t.text.len()) =>
            {
                f.token("parameter value")?;
                Some(q.text)
            }
            (raw, _) => raw,
        };
        let value = match raw {
            Some(raw) => Some(unescape(raw).ok_or_else(|| t.error("bad escape sequence"))?),
            None => None,
        };
        let generic = key_text.starts_with(b"key");
        SvcParam::from_text(key, generic, value.as_deref())
            .map_err(|e| t.error(format!("bad SvcParam '{}': {e}", t.lossy())))
    }
}

impl<const T: u16> RecordData for ServiceBinding<T> {
    const RTYPE: Rtype = Rtype(T);

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let priority = r.u16()?;
        let target = r.name()?;
        let mut params = Vec::new();
        while !r.is_empty() {
            let at = r.pos();
            let key = SvcParamKey(r.u16()?);
            let len = r.u16()?;
            let value = r.bytes(usize::from(len))?;
            let param = SvcParam::from_wire(key, value)
                .map_err(|reason| WireError::BadRdata { at, reason })?;
            params.push(param);
        }
        let data = ServiceBinding {
            priority,
            target,
            params,
        };
        data.check()
            .map_err(|reason| WireError::BadRdata { at, reason })?;
        Ok(data)
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u16(self.priority)?;
        w.put_name(&self.target, NameKind::Plain)?;
        for p in &self.params {
            let value = p.value_wire();
            let len = u16::try_from(value.len()).map_err(|_| WireError::BadRdata {
                at: w.len(),
                reason: "SVCB parameter value longer than 65535 bytes",
            })?;
            w.put_u16(p.key().0)?;
            w.put_u16(len)?;
            w.put_bytes(&value)?;
        }
        Ok(())
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let priority = f.u16("SvcPriority")?;
        let target = f.name("TargetName")?;
        let mut params: Vec<SvcParam> = Vec::new();
        while !f.is_empty() {
            let t = f.word("SvcParam")?;
            let param = Self::parse_param(t, f)?;
            if params.iter().any(|p| p.key() == param.key()) {
                return Err(t.error(format!("SvcParamKey {} appears twice", param.key())));
            }
            params.push(param);
        }
        params.sort_by_key(SvcParam::key);
        let data = ServiceBinding {
            priority,
            target,
            params,
        };
        data.check().map_err(|e| f.error(e))?;
        Ok(data)
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.priority, self.target)?;
        for p in &self.params {
            f.write_str(" ")?;
            p.fmt_text(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_round_trip, assert_text_rejected, assert_wire_rejected};
    use super::*;
    use crate::rdata::RData;

    fn name_wire(text: &str) -> Vec<u8> {
        Name::parse(text).unwrap().as_wire().to_vec()
    }

    fn rdata(priority: u16, target: &str, params: &[u8]) -> Vec<u8> {
        let mut out = priority.to_be_bytes().to_vec();
        out.extend_from_slice(&name_wire(target));
        out.extend_from_slice(params);
        out
    }

    #[test]
    fn rfc9460_appendix_d_vectors() {
        // D.1, Figure 2: AliasMode.
        let wire = assert_round_trip(Rtype::HTTPS, "0 foo.example.com.", None);
        assert_eq!(wire, rdata(0, "foo.example.com.", b""));
        // D.2, Figure 3: TargetName ".".
        let wire = assert_round_trip(Rtype::SVCB, "1 .", None);
        assert_eq!(wire, [0, 1, 0]);
        // Figure 4: a port.
        let wire = assert_round_trip(Rtype::SVCB, "16 foo.example.com. port=53", None);
        assert_eq!(
            wire,
            rdata(16, "foo.example.com.", b"\x00\x03\x00\x02\x00\x35")
        );
        // Figure 5: a generic key, printed quoted as BIND does.
        let wire = assert_round_trip(
            Rtype::SVCB,
            "1 foo.example.com. key667=hello",
            Some("1 foo.example.com. key667=\"hello\""),
        );
        assert_eq!(wire, rdata(1, "foo.example.com.", b"\x02\x9b\x00\x05hello"));
        // Figure 6: a generic key with a decimal escape.
        let wire = assert_round_trip(
            Rtype::SVCB,
            r#"1 foo.example.com. key667="hello\210qoo""#,
            None,
        );
        assert_eq!(
            wire,
            rdata(1, "foo.example.com.", b"\x02\x9b\x00\x09hello\xd2qoo")
        );
        // Figure 7: two IPv6 hints.
        let wire = assert_round_trip(
            Rtype::SVCB,
            r#"1 foo.example.com. ( ipv6hint="2001:db8::1,2001:db8::53:1" )"#,
            Some("1 foo.example.com. ipv6hint=2001:db8::1,2001:db8::53:1"),
        );
        let mut params = b"\x00\x06\x00\x20".to_vec();
        params.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        params.extend_from_slice(&"2001:db8::53:1".parse::<Ipv6Addr>().unwrap().octets());
        assert_eq!(wire, rdata(1, "foo.example.com.", &params));
        // Figure 8: an IPv6 hint in embedded IPv4 form.
        let wire = assert_round_trip(
            Rtype::SVCB,
            r#"1 example.com. ( ipv6hint="2001:db8:122:344::192.0.2.33" )"#,
            Some("1 example.com. ipv6hint=2001:db8:122:344::c000:221"),
        );
        let mut params = b"\x00\x06\x00\x10".to_vec();
        params.extend_from_slice(&[
            0x20, 0x01, 0x0d, 0xb8, 0x01, 0x22, 0x03, 0x44, 0, 0, 0, 0, 0xc0, 0x00, 0x02, 0x21,
        ]);
        assert_eq!(wire, rdata(1, "example.com.", &params));
        // Figure 9: keys sorted, mandatory list sorted.
        let wire = assert_round_trip(
            Rtype::SVCB,
            "16 foo.example.org. ( alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1 )",
            Some(
                "16 foo.example.org. mandatory=alpn,ipv4hint alpn=\"h2,h3-19\" \
                 ipv4hint=192.0.2.1",
            ),
        );
        let params = b"\x00\x00\x00\x04\x00\x01\x00\x04\
            \x00\x01\x00\x09\x02h2\x05h3-19\
            \x00\x04\x00\x04\xc0\x00\x02\x01";
        assert_eq!(wire, rdata(16, "foo.example.org.", params));
        // Figure 10: escaped commas and backslashes in alpn, in both spellings.
        let expected = rdata(
            16,
            "foo.example.org.",
            b"\x00\x01\x00\x0c\x08f\\oo,bar\x02h2",
        );
        let printed = r#"16 foo.example.org. alpn="f\\\\oo\\,bar,h2""#;
        for text in [
            r#"16 foo.example.org. ( alpn="f\\\\oo\\,bar,h2" )"#,
            r#"16 foo.example.org. ( alpn=f\\\092oo\092,bar,h2 )"#,
        ] {
            assert_eq!(
                assert_round_trip(Rtype::SVCB, text, Some(printed)),
                expected
            );
        }
    }

    #[test]
    fn rfc9460_appendix_d3_failures() {
        for text in [
            "1 foo.example.com. key123=abc key123=def",
            "1 foo.example.com. mandatory",
            "1 foo.example.com. alpn",
            "1 foo.example.com. port",
            "1 foo.example.com. ipv4hint",
            "1 foo.example.com. ipv6hint",
            "1 foo.example.com. no-default-alpn=abc",
            "1 foo.example.com. mandatory=key123",
            "1 foo.example.com. mandatory=mandatory",
            "1 foo.example.com. ( mandatory=key123,key123 key123=abc )",
        ] {
            assert_text_rejected(Rtype::SVCB, text);
        }
    }

    #[test]
    fn bind_forms() {
        // As named-compilezone 9.18 prints them.
        assert_round_trip(
            Rtype::HTTPS,
            "1 . alpn=h2 no-default-alpn ech=AQID port=443 dohpath=/dns-query{?dns}",
            Some("1 . alpn=\"h2\" no-default-alpn port=443 ech=AQID key7=\"/dns-query{?dns}\""),
        );
        assert_round_trip(
            Rtype::SVCB,
            "1 . dohpath=/q{?dns} ipv4hint=1.2.3.4,5.6.7.8 ohttp",
            Some("1 . ipv4hint=1.2.3.4,5.6.7.8 key7=\"/q{?dns}\" key8"),
        );
        assert_round_trip(Rtype::SVCB, "1 . key667= port=5", Some("1 . port=5 key667"));
        assert_round_trip(Rtype::SVCB, "1 . key65535", None);
        assert_round_trip(Rtype::SVCB, "1 . key3=\\000\\001", Some("1 . port=1"));
        assert_round_trip(Rtype::SVCB, "1 . key1=\\002h2", Some("1 . alpn=\"h2\""));
        assert_round_trip(
            Rtype::SVCB,
            "1 . key0=\\000\\003 port=1",
            Some("1 . mandatory=port port=1"),
        );
        assert_round_trip(Rtype::SVCB, "1 . key5=\\000", Some("1 . ech=AA=="));
        assert_round_trip(Rtype::SVCB, r#"1 . key667="a\"b c""#, None);
        assert_round_trip(
            Rtype::SVCB,
            r#"1 . alpn="a\"b,c d\009" key9="\000\255 x""#,
            Some(r#"1 . alpn="a\"b,c\032d\009" key9="\000\255 x""#),
        );
        assert_round_trip(
            Rtype::SVCB,
            "1 . no-default-alpn=\"\" alpn=h2",
            Some("1 . alpn=\"h2\" no-default-alpn"),
        );
        assert_round_trip(Rtype::SVCB, "1 . ech", None);
        assert_round_trip(Rtype::SVCB, "1 . ech=\"\"", Some("1 . ech"));
        assert_round_trip(
            Rtype::SVCB,
            "1 . mandatory=key7 key7=/q{?dns}",
            Some("1 . mandatory=key7 key7=\"/q{?dns}\""),
        );
        assert_round_trip(Rtype::SVCB, "1 . ipv6hint=::ffff:1.2.3.4", None);
        // AliasMode keeps its parameters, as BIND does.
        assert_round_trip(Rtype::HTTPS, "0 . alpn=h2", Some("0 . alpn=\"h2\""));
        // Maximal port, relative target.
        assert_round_trip(
            Rtype::HTTPS,
            "65535 svc port=65535",
            Some("65535 svc.example. port=65535"),
        );
    }

    #[test]
    fn text_rejects() {
        for text in [
            "1 . no-default-alpn",
            "1 . mandatory=port",
            "1 . mandatory=alpn,alpn alpn=h2",
            "1 . port=1 port=2",
            "1 . port=65536",
            "1 . port=0x1",
            "1 . port=",
            "1 . alpn=",
            "1 . alpn=\"\"",
            "1 . alpn=h2,",
            "1 . alpn=,h2",
            "1 . alpn=a\\\\b",
            "1 . ipv4hint=",
            "1 . ipv4hint=1.2.3.4,",
            "1 . ipv6hint=1.2.3.4",
            "1 . ech=AQ",
            "1 . key03=1",
            "1 . key65536",
            "1 . ALPN=h2",
            "1 . foo=1",
            "1 . \"port=1\"",
            "1 . key667= \"x\"",
            "1 . dohpath=/q",
            "1 . dohpath=q{?dns}",
            "1 . key7=/\\255{?dns}",
            "1 . ohttp=1",
            "1 . key1=\\001",
            "1 . key3=\\001",
            "1 . key0=\\000",
            "1",
            "65536 .",
        ] {
            assert_text_rejected(Rtype::SVCB, text);
        }
        let long = "a".repeat(256);
        assert_text_rejected(Rtype::SVCB, &format!("1 . alpn={long}"));
    }

    #[test]
    fn wire_rejects() {
        let with = |params: &[u8]| rdata(1, ".", params);
        // Keys out of order and repeated.
        assert_wire_rejected(
            Rtype::SVCB,
            &with(b"\x00\x03\x00\x02\x00\x35\x00\x01\x00\x03\x02h2"),
        );
        assert_wire_rejected(
            Rtype::SVCB,
            &with(b"\x00\x03\x00\x02\x00\x35\x00\x03\x00\x02\x00\x35"),
        );
        // Value runs past the data; truncated key.
        assert_wire_rejected(Rtype::SVCB, &with(b"\x00\x03\x00\x03\x00\x35"));
        assert_wire_rejected(Rtype::SVCB, &with(b"\x00"));
        // Bad values.
        assert_wire_rejected(Rtype::SVCB, &with(b"\x00\x03\x00\x01\x00"));
        assert_wire_rejected(Rtype::SVCB, &with(b"\x00\x01\x00\x00"));
        assert_wire_rejected(Rtype::SVCB, &with(b"\x00\x01\x00\x01\x00"));
        assert_wire_rejected(Rtype::SVCB, &with(b"\x00\x04\x00\x03\x01\x02\x03"));
        assert_wire_rejected(Rtype::SVCB, &with(b"\x00\x06\x00\x04\x01\x02\x03\x04"));
        assert_wire_rejected(Rtype::SVCB, &with(b"\x00\x08\x00\x01\x00"));
        // Mandatory: unsorted, self, missing key; no-default-alpn alone.
        assert_wire_rejected(
            Rtype::SVCB,
            &with(
                b"\x00\x00\x00\x04\x00\x03\x00\x01\x00\x01\x00\x03\x02h2\x00\x03\x00\x02\x00\x35",
            ),
        );
        assert_wire_rejected(Rtype::SVCB, &with(b"\x00\x00\x00\x02\x00\x00"));
        assert_wire_rejected(Rtype::SVCB, &with(b"\x00\x00\x00\x02\x00\x03"));
        assert_wire_rejected(Rtype::SVCB, &with(b"\x00\x02\x00\x00"));
        // No target name.
        assert_wire_rejected(Rtype::HTTPS, &[0, 1]);
    }

    #[test]
    fn constructor_sorts_and_checks() {
        let target = Name::root();
        let svcb = Svcb::new(
            1,
            target.clone(),
            vec![
                SvcParam::Port(443),
                SvcParam::Mandatory(vec![SvcParamKey::PORT, SvcParamKey::ALPN]),
                SvcParam::Unknown(SvcParamKey::ALPN, b"\x02h3".to_vec()),
            ],
        )
        .unwrap();
        assert_eq!(
            RData::from(svcb.clone()).to_string(),
            "1 . mandatory=alpn,port alpn=\"h3\" port=443"
        );
        assert_eq!(
            svcb.param(SvcParamKey::ALPN),
            Some(&SvcParam::Alpn(vec![b"h3".to_vec()]))
        );
        assert!(!svcb.is_alias());
        assert!(Https::new(1, target.clone(), vec![SvcParam::NoDefaultAlpn]).is_err());
        assert!(
            Https::new(
                1,
                target.clone(),
                vec![SvcParam::Port(1), SvcParam::Port(2)]
            )
            .is_err()
        );
        assert!(Https::new(1, target.clone(), vec![SvcParam::Alpn(vec![])]).is_err());
        assert!(
            Https::new(
                1,
                target.clone(),
                vec![SvcParam::Alpn(vec![vec![b'a'; 256]])]
            )
            .is_err()
        );
        assert!(Https::new(1, target, vec![SvcParam::DohPath("/x".into())]).is_err());
    }

    #[test]
    fn key_names() {
        assert_eq!(
            SvcParamKey::from_text(b"key0"),
            Some(SvcParamKey::MANDATORY)
        );
        assert_eq!(
            SvcParamKey::from_text(b"key65535"),
            Some(SvcParamKey(65535))
        );
        assert_eq!(SvcParamKey::from_text(b"key"), None);
        assert_eq!(SvcParamKey::from_text(b"key00"), None);
        assert_eq!(SvcParamKey::from_text(b"ohttp"), Some(SvcParamKey::OHTTP));
        assert_eq!(SvcParamKey::IPV6HINT.to_string(), "ipv6hint");
        assert_eq!(SvcParamKey::DOHPATH.to_string(), "key7");
    }
}
