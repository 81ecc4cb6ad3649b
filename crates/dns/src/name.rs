//! Domain names (RFC 1034 §3.1, RFC 1035 §3.1).
//!
//! A [`Name`] is always absolute and is stored in uncompressed wire form, with the case of
//! every letter as it was given. Comparison and hashing are ASCII case-insensitive
//! (RFC 4343); [`Ord`] is the DNSSEC canonical order of RFC 4034 §6.1.
//!
//! The presentation form follows RFC 1035 §5.1: `\.` escapes a dot inside a label, `\DDD`
//! is a byte in decimal, and `\X` is the character X. Relative names are completed with an
//! origin by [`Name::parse_relative`].

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// Longest label, in bytes (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;
/// Longest name in wire form, length octets and root label included (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;

/// Why a name could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// A label is longer than 63 bytes.
    LabelTooLong,
    /// The name is longer than 255 bytes in wire form.
    NameTooLong,
    /// An empty label inside a name (`a..b`), or a name that is empty.
    EmptyLabel,
    /// A `\` escape is incomplete or a `\DDD` value is above 255.
    BadEscape,
    /// Wire form that is not a sequence of labels ending in the root label.
    BadWire,
    /// A relative name was given where no origin is known.
    RelativeWithoutOrigin,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameError::LabelTooLong => "label longer than 63 bytes",
            NameError::NameTooLong => "name longer than 255 bytes",
            NameError::EmptyLabel => "empty label in name",
            NameError::BadEscape => "bad escape in name",
            NameError::BadWire => "malformed name in wire form",
            NameError::RelativeWithoutOrigin => "relative name but no origin",
        })
    }
}

impl std::error::Error for NameError {}

/// An absolute domain name in uncompressed wire form.
#[derive(Clone)]
pub struct Name {
    wire: Storage,
}

/// Names up to this many wire bytes are stored inline, without a heap allocation; that
/// covers most names in real traffic (`www.example.com.` is 17 bytes).
const INLINE_LEN: usize = 22;

/// The bytes of a name: inline when short, on the heap otherwise. 24 bytes either way.
#[derive(Clone)]
enum Storage {
    Inline { len: u8, bytes: [u8; INLINE_LEN] },
    Heap(Box<[u8]>),
}

impl Storage {
    fn new(wire: &[u8]) -> Storage {
        let mut bytes = [0u8; INLINE_LEN];
        match bytes.get_mut(..wire.len()) {
            Some(dst) => {
                dst.copy_from_slice(wire);
                Storage::Inline {
                    len: wire.len() as u8,
                    bytes,
                }
            }
            None => Storage::Heap(wire.into()),
        }
    }

    fn from_vec(wire: Vec<u8>) -> Storage {
        if wire.len() <= INLINE_LEN {
            Storage::new(&wire)
        } else {
            Storage::Heap(wire.into_boxed_slice())
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            Storage::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Storage::Heap(b) => b,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        match self {
            Storage::Inline { len, bytes } => {
                bytes.get_mut(..usize::from(*len)).unwrap_or_default()
            }
            Storage::Heap(b) => b,
        }
    }
}

impl Name {
    /// The root name, `.`.
    pub fn root() -> Name {
        Name {
            wire: Storage::new(&[0u8]),
        }
    }

    /// Builds a name from its uncompressed wire form, checking every length.
    pub fn from_wire(wire: &[u8]) -> Result<Name, NameError> {
        validate_wire(wire)?;
        Ok(Name {
            wire: Storage::new(wire),
        })
    }

    /// Builds a name from a byte vector already known to be valid uncompressed wire form.
    ///
    /// Used by the wire reader and other code of this crate after validating.
    pub(crate) fn from_valid_wire(wire: Vec<u8>) -> Name {
        debug_assert!(validate_wire(&wire).is_ok());
        Name {
            wire: Storage::from_vec(wire),
        }
    }

    /// Builds a name from a slice already known to be valid uncompressed wire form,
    /// without an allocation when it is short.
    pub(crate) fn from_valid_slice(wire: &[u8]) -> Name {
        debug_assert!(validate_wire(wire).is_ok());
        Name {
            wire: Storage::new(wire),
        }
    }

    /// Parses an absolute name in presentation form. A name without a trailing dot is
    /// taken as absolute too (as `dig` does); use [`Name::parse_relative`] in zone files.
    pub fn parse(text: &str) -> Result<Name, NameError> {
        Name::parse_relative(text.as_bytes(), Some(&Name::root()))
    }

    /// Parses a name in presentation form; a name without a trailing dot is completed
    /// with `origin`. `@` alone is the origin itself.
    pub fn parse_relative(text: &[u8], origin: Option<&Name>) -> Result<Name, NameError> {
        if text == b"@" {
            return origin.cloned().ok_or(NameError::RelativeWithoutOrigin);
        }
        if text == b"." {
            return Ok(Name::root());
        }
        if text.is_empty() {
            return Err(NameError::EmptyLabel);
        }
        let mut wire = NameBuf::new();
        let mut label_start = 0usize;
        wire.push(0)?;
        let mut i = 0usize;
        let mut absolute = false;
        while let Some(&c) = text.get(i) {
            i += 1;
            match c {
                b'.' => {
                    wire.close_label(label_start)?;
                    if i == text.len() {
                        absolute = true;
                    } else {
                        label_start = wire.len;
                        wire.push(0)?;
                    }
                }
                b'\\' => {
                    let (byte, used) = unescape(text.get(i..).unwrap_or_default())?;
                    i += used;
                    wire.push(byte)?;
                }
                _ => wire.push(c)?,
            }
        }
        if !absolute {
            wire.close_label(label_start)?;
        }
        match (absolute, origin) {
            (true, _) => wire.push(0)?,
            (false, Some(origin)) => wire.extend(origin.wire.as_slice())?,
            (false, None) => return Err(NameError::RelativeWithoutOrigin),
        }
        Ok(Name::from_valid_slice(wire.as_slice()))
    }

    /// The uncompressed wire form, case preserved.
    pub fn as_wire(&self) -> &[u8] {
        self.wire.as_slice()
    }

    /// Length of the wire form in bytes.
    pub fn wire_len(&self) -> usize {
        self.wire.as_slice().len()
    }

    /// Whether this is the root name.
    pub fn is_root(&self) -> bool {
        self.wire.as_slice().len() == 1
    }

    /// Whether the first label is `*` (RFC 4592).
    pub fn is_wildcard(&self) -> bool {
        self.wire.as_slice().starts_with(&[1, b'*'])
    }

    /// Number of labels, not counting the root label (RFC 4034 §3.1.3 `Labels` minus one
    /// for wildcards is the caller's business).
    pub fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// The labels from the leftmost to the rightmost, root excluded.
    pub fn labels(&self) -> Labels<'_> {
        Labels {
            rest: self.wire.as_slice(),
        }
    }

    /// The name with its leftmost label removed, or `None` for the root.
    pub fn parent(&self) -> Option<Name> {
        let first = usize::from(*self.wire.as_slice().first()?);
        if first == 0 {
            return None;
        }
        let rest = self.wire.as_slice().get(first + 1..)?;
        Some(Name {
            wire: Storage::new(rest),
        })
    }

    /// The name made of the `n` rightmost labels of this one (`n` = 0 is the root).
    pub fn suffix(&self, n: usize) -> Name {
        let total = self.label_count();
        let mut wire: &[u8] = self.wire.as_slice();
        for _ in n..total {
            let len = usize::from(wire.first().copied().unwrap_or(0));
            wire = wire.get(len + 1..).unwrap_or(&[0]);
        }
        Name {
            wire: Storage::new(wire),
        }
    }

    /// `label.self`: the child of this name with the given leftmost label.
    pub fn child(&self, label: &[u8]) -> Result<Name, NameError> {
        if label.is_empty() {
            return Err(NameError::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(NameError::LabelTooLong);
        }
        let mut wire = Vec::with_capacity(label.len() + 1 + self.wire.as_slice().len());
        wire.push(label.len() as u8);
        wire.extend_from_slice(label);
        wire.extend_from_slice(self.wire.as_slice());
        if wire.len() > MAX_NAME_LEN {
            return Err(NameError::NameTooLong);
        }
        Ok(Name::from_valid_wire(wire))
    }

    /// Whether this name equals `other` or lies below it.
    pub fn is_subdomain_of(&self, other: &Name) -> bool {
        let Some(start) = self
            .wire
            .as_slice()
            .len()
            .checked_sub(other.wire.as_slice().len())
        else {
            return false;
        };
        let tail = self.wire.as_slice().get(start..).unwrap_or_default();
        if !tail.eq_ignore_ascii_case(other.wire.as_slice()) {
            return false;
        }
        // The tail must begin on a label boundary.
        let mut pos = 0usize;
        while pos < start {
            pos += usize::from(self.wire.as_slice().get(pos).copied().unwrap_or(0)) + 1;
        }
        pos == start
    }

    /// The same name with ASCII letters in lower case (RFC 4034 §6.2 canonical form).
    pub fn to_lowercase(&self) -> Name {
        let mut wire = self.wire.clone();
        lowercase_wire(wire.as_mut_slice());
        Name { wire }
    }

    /// Case-insensitive equality that also compares label boundaries (identical to `==`).
    pub fn eq_ignore_case(&self, other: &Name) -> bool {
        self.wire
            .as_slice()
            .eq_ignore_ascii_case(other.wire.as_slice())
    }

    /// Case-sensitive equality: same name, same letters.
    pub fn eq_exact(&self, other: &Name) -> bool {
        self.wire.as_slice() == other.wire.as_slice()
    }

    /// Writes the presentation form (always absolute, trailing dot).
    pub fn write_text(&self, out: &mut impl fmt::Write) -> fmt::Result {
        if self.is_root() {
            return out.write_char('.');
        }
        for label in self.labels() {
            write_label(label, out)?;
            out.write_char('.')?;
        }
        Ok(())
    }
}

/// Writes one label in presentation form, escaping as BIND does.
pub fn write_label(label: &[u8], out: &mut impl fmt::Write) -> fmt::Result {
    for &b in label {
        match b {
            b'.' | b';' | b'\\' | b'(' | b')' | b'"' | b'@' | b'$' => {
                out.write_char('\\')?;
                out.write_char(char::from(b))?;
            }
            0x21..=0x7e => out.write_char(char::from(b))?,
            _ => write!(out, "\\{b:03}")?,
        }
    }
    Ok(())
}

/// Decodes the escape after a `\`: `\DDD` or `\X`. Returns the byte and how many input bytes
/// were used after the backslash.
pub(crate) fn unescape(after: &[u8]) -> Result<(u8, usize), NameError> {
    match after {
        [a, b, c, ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            let v = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
            u8::try_from(v)
                .map(|v| (v, 3))
                .map_err(|_| NameError::BadEscape)
        }
        [d, ..] if d.is_ascii_digit() => Err(NameError::BadEscape),
        [x, ..] => Ok((*x, 1)),
        [] => Err(NameError::BadEscape),
    }
}

/// A name being assembled from text, on the stack.
struct NameBuf {
    bytes: [u8; MAX_NAME_LEN],
    len: usize,
}

impl NameBuf {
    fn new() -> NameBuf {
        NameBuf {
            bytes: [0; MAX_NAME_LEN],
            len: 0,
        }
    }

    fn push(&mut self, b: u8) -> Result<(), NameError> {
        *self.bytes.get_mut(self.len).ok_or(NameError::NameTooLong)? = b;
        self.len += 1;
        Ok(())
    }

    fn extend(&mut self, b: &[u8]) -> Result<(), NameError> {
        self.bytes
            .get_mut(self.len..self.len + b.len())
            .ok_or(NameError::NameTooLong)?
            .copy_from_slice(b);
        self.len += b.len();
        Ok(())
    }

    /// Writes the length octet of the label that starts at `label_start`.
    fn close_label(&mut self, label_start: usize) -> Result<(), NameError> {
        let len = self.len - label_start - 1;
        if len == 0 {
            return Err(NameError::EmptyLabel);
        }
        if len > MAX_LABEL_LEN {
            return Err(NameError::LabelTooLong);
        }
        if let Some(slot) = self.bytes.get_mut(label_start) {
            *slot = len as u8;
        }
        Ok(())
    }

    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

fn validate_wire(wire: &[u8]) -> Result<(), NameError> {
    if wire.len() > MAX_NAME_LEN {
        return Err(NameError::NameTooLong);
    }
    let mut pos = 0usize;
    loop {
        let len = usize::from(*wire.get(pos).ok_or(NameError::BadWire)?);
        if len == 0 {
            return if pos + 1 == wire.len() {
                Ok(())
            } else {
                Err(NameError::BadWire)
            };
        }
        if len > MAX_LABEL_LEN {
            return Err(NameError::LabelTooLong);
        }
        pos += len + 1;
    }
}

pub(crate) fn lowercase_wire(wire: &mut [u8]) {
    // Length octets are at most 63, so never ASCII upper case letters: lowercasing the
    // whole buffer is safe.
    wire.make_ascii_lowercase();
}

/// Iterator over the labels of a [`Name`], leftmost first.
pub struct Labels<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, tail) = self.rest.split_first()?;
        let len = usize::from(len);
        if len == 0 {
            return None;
        }
        let label = tail.get(..len)?;
        self.rest = tail.get(len..).unwrap_or_default();
        Some(label)
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.eq_ignore_case(other)
    }
}

impl Eq for Name {}

impl Hash for Name {
    /// Hashes the lower-cased wire form (names compare case-insensitively, RFC 4343),
    /// handed to the hasher 32 octets at a time: one `write` per chunk instead of one
    /// per octet, which SipHash makes costly.
    fn hash<H: Hasher>(&self, state: &mut H) {
        const CHUNK: usize = 32;
        let mut lower = [0u8; CHUNK];
        for chunk in self.wire.as_slice().chunks(CHUNK) {
            for (to, from) in lower.iter_mut().zip(chunk) {
                *to = from.to_ascii_lowercase();
            }
            state.write(lower.get(..chunk.len()).unwrap_or_default());
        }
    }
}

impl Ord for Name {
    /// RFC 4034 §6.1: compare label by label from the right, each label as a lower-cased
    /// byte string, a shorter label sorting first when one is a prefix of the other.
    fn cmp(&self, other: &Name) -> Ordering {
        let mut a = label_offsets(self.wire.as_slice());
        let mut b = label_offsets(other.wire.as_slice());
        loop {
            match (a.pop(), b.pop()) {
                (None, None) => return Ordering::Equal,
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
                (Some(x), Some(y)) => {
                    let la = label_at(self.wire.as_slice(), x);
                    let lb = label_at(other.wire.as_slice(), y);
                    let ord = la
                        .iter()
                        .map(u8::to_ascii_lowercase)
                        .cmp(lb.iter().map(u8::to_ascii_lowercase));
                    if ord != Ordering::Equal {
                        return ord;
                    }
                }
            }
        }
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Label start offsets, at most 128 of them: a stack buffer keeps ordering allocation-free.
struct Offsets {
    offs: [u8; 128],
    len: usize,
}

impl Offsets {
    fn pop(&mut self) -> Option<u8> {
        self.len = self.len.checked_sub(1)?;
        self.offs.get(self.len).copied()
    }
}

fn label_offsets(wire: &[u8]) -> Offsets {
    let mut o = Offsets {
        offs: [0; 128],
        len: 0,
    };
    let mut pos = 0usize;
    while let Some(&len) = wire.get(pos) {
        if len == 0 {
            break;
        }
        if let Some(slot) = o.offs.get_mut(o.len) {
            *slot = pos as u8;
            o.len += 1;
        }
        pos += usize::from(len) + 1;
    }
    o
}

fn label_at(wire: &[u8], off: u8) -> &[u8] {
    let off = usize::from(off);
    let len = usize::from(wire.get(off).copied().unwrap_or(0));
    wire.get(off + 1..off + 1 + len).unwrap_or_default()
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

impl std::str::FromStr for Name {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Name, NameError> {
        Name::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    #[test]
    fn parse_and_print() {
        assert_eq!(n("www.Example.COM.").to_string(), "www.Example.COM.");
        assert_eq!(n("www.example.com").to_string(), "www.example.com.");
        assert_eq!(n(".").to_string(), ".");
        assert_eq!(n("a\\.b.c.").label_count(), 2);
        assert_eq!(n("a\\.b.c.").to_string(), "a\\.b.c.");
        assert_eq!(n("\\065\\032b.").to_string(), "A\\032b.");
        assert_eq!(n("a\\@b.").to_string(), "a\\@b.");
    }

    #[test]
    fn errors() {
        assert_eq!(Name::parse("a..b."), Err(NameError::EmptyLabel));
        assert_eq!(Name::parse(&"a".repeat(64)), Err(NameError::LabelTooLong));
        assert!(Name::parse(&"a".repeat(63)).is_ok());
        let long = vec!["abcdefghi"; 26].join(".");
        assert_eq!(Name::parse(&long), Err(NameError::NameTooLong));
        assert_eq!(Name::parse("a\\256."), Err(NameError::BadEscape));
        assert_eq!(Name::parse("a\\2"), Err(NameError::BadEscape));
        assert_eq!(Name::parse("a\\"), Err(NameError::BadEscape));
        assert_eq!(
            Name::parse_relative(b"www", None),
            Err(NameError::RelativeWithoutOrigin)
        );
    }

    #[test]
    fn longest_name_fits() {
        // 4 labels of 63 = 256 bytes of labels, too long; 3×63 + 61 = 254 + root = 255.
        let name = format!(
            "{}.{}.{}.{}.",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61)
        );
        assert_eq!(n(&name).wire_len(), 255);
        let too_long = format!(
            "{}.{}.{}.{}.",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(62)
        );
        assert_eq!(Name::parse(&too_long), Err(NameError::NameTooLong));
    }

    #[test]
    fn relative() {
        let origin = n("example.com.");
        let r = Name::parse_relative(b"www", Some(&origin)).unwrap();
        assert_eq!(r.to_string(), "www.example.com.");
        assert_eq!(Name::parse_relative(b"@", Some(&origin)).unwrap(), origin);
    }

    #[test]
    fn case_insensitive() {
        assert_eq!(n("WWW.example.com."), n("www.EXAMPLE.com."));
        assert!(!n("WWW.example.com.").eq_exact(&n("www.EXAMPLE.com.")));
        assert!(n("a.b.example.").is_subdomain_of(&n("EXAMPLE.")));
        assert!(!n("ab.example.").is_subdomain_of(&n("b.example.")));
        assert!(n("x.").is_subdomain_of(&Name::root()));
    }

    #[test]
    fn equal_names_hash_alike_in_any_case_and_length() {
        use std::hash::BuildHasher;
        let hasher = std::collections::hash_map::RandomState::new();
        // Short, exactly one 32-octet chunk, and several chunks.
        let long = format!("{}.example.", "Ab".repeat(30));
        for (a, b) in [
            ("WWW.example.com.", "www.EXAMPLE.com."),
            (
                "abcdefghijklmnopqrstuvwxyz01234.",
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234.",
            ),
            (long.as_str(), long.to_lowercase().as_str()),
        ] {
            assert_eq!(hasher.hash_one(n(a)), hasher.hash_one(n(b)), "{a}");
        }
        assert_ne!(
            hasher.hash_one(n("a.example.")),
            hasher.hash_one(n("b.example."))
        );
    }

    #[test]
    fn canonical_order_rfc4034() {
        // The example list of RFC 4034 §6.1, in order.
        let names = [
            "example.",
            "a.example.",
            "yljkjljk.a.example.",
            "Z.a.example.",
            "zABC.a.EXAMPLE.",
            "z.example.",
            "\\001.z.example.",
            "*.z.example.",
            "\\200.z.example.",
        ];
        let parsed: Vec<Name> = names.iter().map(|s| n(s)).collect();
        let mut sorted = parsed.clone();
        sorted.reverse();
        sorted.sort();
        for (a, b) in sorted.iter().zip(parsed.iter()) {
            assert!(a.eq_exact(b), "{a} vs {b}");
        }
    }

    #[test]
    fn parent_suffix_child() {
        let name = n("a.b.c.");
        assert_eq!(name.parent().unwrap(), n("b.c."));
        assert_eq!(name.suffix(1), n("c."));
        assert_eq!(name.suffix(0), Name::root());
        assert_eq!(name.suffix(3), name);
        assert_eq!(n("c.").child(b"x").unwrap(), n("x.c."));
        assert!(Name::root().parent().is_none());
        assert!(n("*.a.").is_wildcard());
    }

    #[test]
    fn from_wire_checks() {
        assert!(Name::from_wire(&[1, b'a', 0]).is_ok());
        assert_eq!(Name::from_wire(&[1, b'a']), Err(NameError::BadWire));
        assert_eq!(Name::from_wire(&[1, b'a', 0, 0]), Err(NameError::BadWire));
        assert_eq!(Name::from_wire(&[64]), Err(NameError::LabelTooLong));
    }
}
