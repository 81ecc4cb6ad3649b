//! The record types of RFC 1035 and RFC 3596: A, AAAA, NS, CNAME, PTR, SOA, MX, TXT, and
//! their close relatives DNAME (RFC 6672) and SPF (RFC 7208 §3.1).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::RecordData;
use crate::name::Name;
use crate::text::{Fields, TextError, write_char_string};
use crate::types::Rtype;
use crate::wire::{NameKind, WireError, WireReader, WireWriter};

/// An IPv4 address (RFC 1035 §3.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct A(pub Ipv4Addr);

impl RecordData for A {
    const RTYPE: Rtype = Rtype::A;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        Ok(A(Ipv4Addr::from(r.array::<4>()?)))
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_bytes(&self.0.octets())
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let t = f.word("IPv4 address")?;
        std::str::from_utf8(t.text)
            .ok()
            .and_then(|s| s.parse().ok())
            .map(A)
            .ok_or_else(|| t.error(format!("expected IPv4 address, found '{}'", t.lossy())))
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An IPv6 address (RFC 3596 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aaaa(pub Ipv6Addr);

impl RecordData for Aaaa {
    const RTYPE: Rtype = Rtype::AAAA;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        Ok(Aaaa(Ipv6Addr::from(r.array::<16>()?)))
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_bytes(&self.0.octets())
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let t = f.word("IPv6 address")?;
        std::str::from_utf8(t.text)
            .ok()
            .and_then(|s| s.parse().ok())
            .map(Aaaa)
            .ok_or_else(|| t.error(format!("expected IPv6 address, found '{}'", t.lossy())))
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Declares a record type whose data is a single domain name.
macro_rules! single_name {
    ($(#[$doc:meta])* $ty:ident, $rtype:expr, $kind:expr, $what:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $ty(pub Name);

        impl RecordData for $ty {
            const RTYPE: Rtype = $rtype;

            fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
                Ok($ty(r.name()?))
            }

            fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
                w.put_name(&self.0, $kind)
            }

            fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
                Ok($ty(f.name($what)?))
            }

            fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

single_name!(
    /// An authoritative name server (RFC 1035 §3.3.11).
    Ns, Rtype::NS, NameKind::Compressible, "name server"
);
single_name!(
    /// The canonical name of an alias (RFC 1035 §3.3.1).
    Cname, Rtype::CNAME, NameKind::Compressible, "canonical name"
);
single_name!(
    /// A pointer to another name (RFC 1035 §3.3.12).
    Ptr, Rtype::PTR, NameKind::Compressible, "pointer target"
);
single_name!(
    /// A redirection of a whole subtree (RFC 6672). Not compressed (RFC 6672 §2.5), but
    /// lowercased in canonical form (RFC 4034 §6.2).
    Dname, Rtype::DNAME, NameKind::Canonical, "DNAME target"
);

/// Start of a zone of authority (RFC 1035 §3.3.13).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Soa {
    /// The primary name server.
    pub mname: Name,
    /// The mailbox of the person responsible, as a name.
    pub rname: Name,
    /// Version of the zone, compared in RFC 1982 serial arithmetic.
    pub serial: u32,
    /// Seconds between refreshes by secondaries.
    pub refresh: u32,
    /// Seconds before a failed refresh is retried.
    pub retry: u32,
    /// Seconds after which a secondary stops answering without a refresh.
    pub expire: u32,
    /// The negative caching TTL (RFC 2308 §4).
    pub minimum: u32,
}

impl RecordData for Soa {
    const RTYPE: Rtype = Rtype::SOA;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        Ok(Soa {
            mname: r.name()?,
            rname: r.name()?,
            serial: r.u32()?,
            refresh: r.u32()?,
            retry: r.u32()?,
            expire: r.u32()?,
            minimum: r.u32()?,
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_name(&self.mname, NameKind::Compressible)?;
        w.put_name(&self.rname, NameKind::Compressible)?;
        for v in [
            self.serial,
            self.refresh,
            self.retry,
            self.expire,
            self.minimum,
        ] {
            w.put_u32(v)?;
        }
        Ok(())
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        Ok(Soa {
            mname: f.name("primary name server")?,
            rname: f.name("responsible mailbox")?,
            serial: f.u32("serial")?,
            refresh: f.ttl("refresh")?,
            retry: f.ttl("retry")?,
            expire: f.ttl("expire")?,
            minimum: f.ttl("minimum")?,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {} {}",
            self.mname,
            self.rname,
            self.serial,
            self.refresh,
            self.retry,
            self.expire,
            self.minimum
        )
    }
}

/// A mail exchange (RFC 1035 §3.3.9).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mx {
    /// Lower is preferred.
    pub preference: u16,
    /// The host.
    pub exchange: Name,
}

impl RecordData for Mx {
    const RTYPE: Rtype = Rtype::MX;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        Ok(Mx {
            preference: r.u16()?,
            exchange: r.name()?,
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u16(self.preference)?;
        w.put_name(&self.exchange, NameKind::Compressible)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        Ok(Mx {
            preference: f.u16("preference")?,
            exchange: f.name("mail exchange")?,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.preference, self.exchange)
    }
}

/// Declares a type whose data is one or more `<character-string>`s, kept in wire form.
macro_rules! char_strings {
    ($(#[$doc:meta])* $ty:ident, $rtype:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $ty {
            /// The strings in wire form: each a length byte and that many bytes.
            wire: Vec<u8>,
        }

        impl $ty {
            /// Data made of the given strings; each must be at most 255 bytes and there
            /// must be at least one.
            pub fn new<S: AsRef<[u8]>>(strings: &[S]) -> Option<$ty> {
                if strings.is_empty() {
                    return None;
                }
                let mut wire = Vec::new();
                for s in strings {
                    let s = s.as_ref();
                    wire.push(u8::try_from(s.len()).ok()?);
                    wire.extend_from_slice(s);
                }
                Some($ty { wire })
            }

            /// The strings, in order.
            pub fn strings(&self) -> impl Iterator<Item = &[u8]> {
                CharStrings { rest: &self.wire }
            }

            /// All strings joined, as SPF and DKIM read them (RFC 7208 §3.3).
            pub fn joined(&self) -> Vec<u8> {
                self.strings().flatten().copied().collect()
            }
        }

        impl RecordData for $ty {
            const RTYPE: Rtype = $rtype;

            fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
                let at = r.pos();
                let wire = r.rest();
                if wire.is_empty() {
                    return Err(WireError::BadRdata { at, reason: "no character-string" });
                }
                // Check that the lengths tile the data exactly.
                let mut check = WireReader::new(wire);
                while !check.is_empty() {
                    check.char_string().map_err(|_| WireError::ShortBuffer { at })?;
                }
                Ok($ty { wire: wire.to_vec() })
            }

            fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
                w.put_bytes(&self.wire)
            }

            fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
                let mut wire = Vec::new();
                loop {
                    let s = f.char_string("character-string")?;
                    wire.push(s.len() as u8);
                    wire.extend_from_slice(&s);
                    if f.is_empty() {
                        break;
                    }
                }
                Ok($ty { wire })
            }

            fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for (i, s) in self.strings().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write_char_string(s, f)?;
                }
                Ok(())
            }
        }
    };
}

char_strings!(
    /// Free text (RFC 1035 §3.3.14).
    Txt, Rtype::TXT
);
char_strings!(
    /// Sender Policy Framework data (RFC 7208 §3.1; type 99 is deprecated but still read).
    Spf, Rtype::SPF
);

/// Iterator over `<character-string>`s in wire form that were checked on construction.
struct CharStrings<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for CharStrings<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, tail) = self.rest.split_first()?;
        let len = usize::from(len);
        let s = tail.get(..len)?;
        self.rest = tail.get(len..).unwrap_or_default();
        Some(s)
    }
}
