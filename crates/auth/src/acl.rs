//! Access control for zone transfers, updates and notifies: who may do what to a zone.
//!
//! A rule matches a client address range and, when it names a key, a request signed
//! with that TSIG key (RFC 8945); the request's signature is verified before the rules
//! are consulted, so here a key name is a proven fact. An empty list allows nothing,
//! as Knot's and NSD's defaults do.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use lib_dns::Name;

/// An address range: a network address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

/// Why an address range did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixError(String);

impl fmt::Display for PrefixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PrefixError {}

impl Prefix {
    /// The range of `len` leading bits of `addr`; `None` if `len` exceeds the address.
    pub fn new(addr: IpAddr, len: u8) -> Option<Prefix> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (len <= max).then_some(Prefix { addr, len })
    }

    /// Whether `ip` lies in the range. IPv4-mapped IPv6 clients match IPv4 ranges.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Prefix {
    type Err = PrefixError;

    /// `ADDR` (a single host) or `ADDR/LEN`.
    fn from_str(text: &str) -> Result<Prefix, PrefixError> {
        let bad = || PrefixError(format!("`{text}` is not an address or ADDR/LEN range"));
        let (addr, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let len = match len {
            Some(l) => l.parse().map_err(|_| bad())?,
            None if addr.is_ipv4() => 32,
            None => 128,
        };
        Prefix::new(addr, len).ok_or_else(bad)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// One rule: requests from `from` (signed with `key`, when it is set) are allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The address ranges the rule covers; empty means any address.
    pub from: Vec<Prefix>,
    /// The TSIG key the request must be signed with; `None` accepts unsigned requests
    /// (and signed ones, whose signature was verified anyway).
    pub key: Option<Name>,
}

/// A list of rules; a request is allowed when any rule matches it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acl {
    rules: Vec<Rule>,
}

impl Acl {
    /// An access list of these rules.
    pub fn new(rules: Vec<Rule>) -> Acl {
        Acl { rules }
    }

    /// Whether the list is empty (allows nothing).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether a request from `client`, signed with the verified key `key` (or unsigned),
    /// is allowed.
    pub fn allows(&self, client: IpAddr, key: Option<&Name>) -> bool {
        self.rules.iter().any(|rule| {
            let address_ok = rule.from.is_empty() || rule.from.iter().any(|p| p.contains(client));
            let key_ok = match &rule.key {
                None => true,
                Some(required) => key == Some(required),
            };
            address_ok && key_ok
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn prefixes_parse_and_match() {
        let p: Prefix = "192.0.2.0/24".parse().unwrap();
        assert!(p.contains(ip("192.0.2.77")));
        assert!(!p.contains(ip("192.0.3.1")));
        assert!(p.contains(ip("::ffff:192.0.2.9")));
        let host: Prefix = "127.0.0.1".parse().unwrap();
        assert!(host.contains(ip("127.0.0.1")) && !host.contains(ip("127.0.0.2")));
        let any: Prefix = "0.0.0.0/0".parse().unwrap();
        assert!(any.contains(ip("203.0.113.5")) && !any.contains(ip("2001:db8::1")));
        let v6: Prefix = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")) && !v6.contains(ip("2001:db9::1")));
        for bad in ["192.0.2.0/33", "::/129", "example", "1.2.3.4/x", ""] {
            assert!(bad.parse::<Prefix>().is_err(), "{bad}");
        }
        assert_eq!(p.to_string(), "192.0.2.0/24");
    }

    #[test]
    fn rules_need_address_and_key() {
        let key = Name::parse("xfr.").unwrap();
        let other = Name::parse("other.").unwrap();
        let acl = Acl::new(vec![
            Rule {
                from: vec!["127.0.0.0/8".parse().unwrap()],
                key: None,
            },
            Rule {
                from: Vec::new(),
                key: Some(key.clone()),
            },
        ]);
        assert!(acl.allows(ip("127.0.0.9"), None));
        assert!(!acl.allows(ip("192.0.2.1"), None));
        assert!(acl.allows(ip("192.0.2.1"), Some(&key)));
        assert!(!acl.allows(ip("192.0.2.1"), Some(&other)));
        assert!(!Acl::default().allows(ip("127.0.0.1"), Some(&key)));
    }
}
