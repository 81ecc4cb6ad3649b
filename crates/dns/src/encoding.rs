//! Base16, Base32hex and Base64 (RFC 4648) as record data presentation formats use them.
//!
//! Hand-written so that the core has no dependencies; decoders ignore nothing and reject
//! anything that is not canonical enough to round-trip.

use std::fmt;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32HEX: &[u8; 32] = b"0123456789ABCDEFGHIJKLMNOPQRSTUV";
const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Why an encoded string could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// A character outside the alphabet.
    BadCharacter,
    /// A length that no encoding produces, or misplaced padding.
    BadLength,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecodeError::BadCharacter => "invalid character",
            DecodeError::BadLength => "invalid length or padding",
        })
    }
}

impl std::error::Error for DecodeError {}

/// The alphabet symbol at `i` (always in range: callers mask `i`).
fn symbol(alphabet: &[u8], i: usize) -> char {
    char::from(alphabet.get(i).copied().unwrap_or(b'='))
}

/// Base64 with padding (RFC 4648 §4).
pub fn base64_encode(data: &[u8], out: &mut impl fmt::Write) -> fmt::Result {
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = (n >> (18 - 6 * i)) & 63;
                out.write_char(symbol(B64, idx as usize))?;
            } else {
                out.write_char('=')?;
            }
        }
    }
    Ok(())
}

/// Base64 as a `String`.
pub fn base64_string(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    let _ = base64_encode(data, &mut s);
    s
}

fn b64_value(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// Decodes Base64 with padding, appending to `out`.
pub fn base64_decode(text: &[u8], out: &mut Vec<u8>) -> Result<(), DecodeError> {
    if !text.len().is_multiple_of(4) {
        return Err(DecodeError::BadLength);
    }
    let quads = text.len() / 4;
    for (qi, quad) in text.chunks(4).enumerate() {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && qi + 1 != quads) {
            return Err(DecodeError::BadLength);
        }
        let mut n = 0u32;
        for (i, &c) in quad.iter().enumerate() {
            let v = if i >= 4 - pad {
                0
            } else {
                b64_value(c).ok_or(DecodeError::BadCharacter)?
            };
            n = n << 6 | v;
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(bytes.get(1..4 - pad).unwrap_or_default());
    }
    Ok(())
}

/// Base32 with the extended hex alphabet, no padding (RFC 4648 §7, as NSEC3 uses it).
pub fn base32hex_encode(data: &[u8], out: &mut impl fmt::Write) -> fmt::Result {
    let mut acc = 0u64;
    let mut bits = 0u32;
    for &b in data {
        acc = acc << 8 | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.write_char(symbol(B32HEX, ((acc >> bits) & 31) as usize))?;
        }
    }
    if bits > 0 {
        out.write_char(symbol(B32HEX, ((acc << (5 - bits)) & 31) as usize))?;
    }
    Ok(())
}

/// Decodes unpadded Base32hex (either case), appending to `out`.
pub fn base32hex_decode(text: &[u8], out: &mut Vec<u8>) -> Result<(), DecodeError> {
    // Lengths that unpadded Base32 never produces.
    if matches!(text.len() % 8, 1 | 3 | 6) {
        return Err(DecodeError::BadLength);
    }
    let mut acc = 0u64;
    let mut bits = 0u32;
    for &c in text {
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'V' => c - b'A' + 10,
            b'a'..=b'v' => c - b'a' + 10,
            _ => return Err(DecodeError::BadCharacter),
        };
        acc = acc << 5 | u64::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(())
}

/// Upper-case hexadecimal, as BIND prints record data.
pub fn hex_encode(data: &[u8], out: &mut impl fmt::Write) -> fmt::Result {
    for &b in data {
        out.write_char(symbol(HEX, usize::from(b >> 4)))?;
        out.write_char(symbol(HEX, usize::from(b & 15)))?;
    }
    Ok(())
}

/// Hexadecimal as a `String`.
pub fn hex_string(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len() * 2);
    let _ = hex_encode(data, &mut s);
    s
}

/// Decodes hexadecimal (either case, even length), appending to `out`.
pub fn hex_decode(text: &[u8], out: &mut Vec<u8>) -> Result<(), DecodeError> {
    if !text.len().is_multiple_of(2) {
        return Err(DecodeError::BadLength);
    }
    for pair in text.chunks(2) {
        let hi = hex_value(pair.first().copied().unwrap_or(b'x'))?;
        let lo = hex_value(pair.get(1).copied().unwrap_or(b'x'))?;
        out.push(hi << 4 | lo);
    }
    Ok(())
}

fn hex_value(c: u8) -> Result<u8, DecodeError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(DecodeError::BadCharacter),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4648 §10 test vectors.
    const VECTORS: [(&str, &str, &str, &str); 7] = [
        ("", "", "", ""),
        ("f", "Zg==", "CO", "66"),
        ("fo", "Zm8=", "CPNG", "666F"),
        ("foo", "Zm9v", "CPNMU", "666F6F"),
        ("foob", "Zm9vYg==", "CPNMUOG", "666F6F62"),
        ("fooba", "Zm9vYmE=", "CPNMUOJ1", "666F6F6261"),
        ("foobar", "Zm9vYmFy", "CPNMUOJ1E8", "666F6F626172"),
    ];

    #[test]
    fn rfc4648_vectors() {
        for (plain, b64, b32, hex) in VECTORS {
            assert_eq!(base64_string(plain.as_bytes()), b64);
            let mut s = String::new();
            base32hex_encode(plain.as_bytes(), &mut s).unwrap();
            assert_eq!(s, b32);
            assert_eq!(hex_string(plain.as_bytes()), hex);

            let mut out = Vec::new();
            base64_decode(b64.as_bytes(), &mut out).unwrap();
            assert_eq!(out, plain.as_bytes());
            out.clear();
            base32hex_decode(b32.to_lowercase().as_bytes(), &mut out).unwrap();
            assert_eq!(out, plain.as_bytes());
            out.clear();
            hex_decode(hex.as_bytes(), &mut out).unwrap();
            assert_eq!(out, plain.as_bytes());
        }
    }

    #[test]
    fn bad_input() {
        let mut out = Vec::new();
        assert_eq!(base64_decode(b"Zg=", &mut out), Err(DecodeError::BadLength));
        assert_eq!(
            base64_decode(b"Zg==Zg==", &mut out),
            Err(DecodeError::BadLength)
        );
        assert_eq!(
            base64_decode(b"Z!==", &mut out),
            Err(DecodeError::BadCharacter)
        );
        assert_eq!(hex_decode(b"abc", &mut out), Err(DecodeError::BadLength));
        assert_eq!(hex_decode(b"zz", &mut out), Err(DecodeError::BadCharacter));
        assert_eq!(
            base32hex_decode(b"W", &mut out),
            Err(DecodeError::BadLength)
        );
        assert_eq!(
            base32hex_decode(b"WW", &mut out),
            Err(DecodeError::BadCharacter)
        );
    }
}
