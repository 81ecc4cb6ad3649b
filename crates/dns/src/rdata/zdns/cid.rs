//! Content identifiers (CIDs) as IPFS defines them: CIDv0, a bare SHA-256 multihash, and
//! CIDv1, `<version><codec><multihash>` in unsigned varints. Printed in the forms IPFS
//! prints: CIDv0 in base58btc (`Qm...`), CIDv1 in multibase base32 (`b...`).

use std::fmt;

use super::fields::InvalidData;

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
const BASE58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Multihash function codes whose digest length is fixed, with that length.
const FIXED_DIGESTS: [(u64, usize); 6] = [
    (0x12, 32),   // sha2-256
    (0x13, 64),   // sha2-512
    (0x14, 64),   // sha3-512
    (0x16, 32),   // sha3-256
    (0x20, 48),   // sha2-384
    (0xb220, 32), // blake2b-256
];

/// Longest CID accepted, in bytes: far more than any real hash needs.
const MAX_CID_LEN: usize = 512;

/// A checked content identifier, kept in binary form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cid(Vec<u8>);

impl Cid {
    /// Checks binary CID bytes: a CIDv0 (`0x12 0x20` and 32 bytes of SHA-256) or a CIDv1
    /// whose multihash digest has the length it declares, and the fixed length of its
    /// hash function where that is known.
    pub fn from_bytes(bytes: &[u8]) -> Result<Cid, InvalidData> {
        if bytes.len() > MAX_CID_LEN {
            return Err(InvalidData("content identifier longer than 512 bytes"));
        }
        if bytes.first() == Some(&0x12) {
            return if bytes.len() == 34 && bytes.get(1) == Some(&0x20) {
                Ok(Cid(bytes.to_vec()))
            } else {
                Err(InvalidData("CIDv0 must be a 34-byte SHA-256 multihash"))
            };
        }
        let mut rest = bytes;
        let version = varint(&mut rest)?;
        if version != 1 {
            return Err(InvalidData("unsupported CID version (only 0 and 1 exist)"));
        }
        let _codec = varint(&mut rest)?;
        let code = varint(&mut rest)?;
        let len = varint(&mut rest)?;
        if usize::try_from(len).ok() != Some(rest.len()) {
            return Err(InvalidData(
                "multihash digest length does not match the data",
            ));
        }
        let fixed = FIXED_DIGESTS.iter().find(|&&(c, _)| c == code);
        if fixed.is_some_and(|&(_, l)| l != rest.len()) {
            return Err(InvalidData(
                "multihash digest has the wrong length for its hash function",
            ));
        }
        if rest.is_empty() && code != 0 {
            return Err(InvalidData("empty multihash digest"));
        }
        Ok(Cid(bytes.to_vec()))
    }

    /// The binary form.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// 0 or 1.
    pub fn version(&self) -> u8 {
        u8::from(self.0.first() != Some(&0x12))
    }

    /// Reads the text forms IPFS uses: base58btc `Qm...` (CIDv0), or a multibase string
    /// with prefix `b`/`B` (base32), `z` (base58btc) or `f`/`F` (hexadecimal).
    pub fn from_text(text: &[u8]) -> Result<Cid, InvalidData> {
        let bad = InvalidData("not a valid content identifier encoding");
        if text.len() > 2 * MAX_CID_LEN {
            return Err(InvalidData("content identifier longer than 512 bytes"));
        }
        let bytes = match text {
            [b'Q', b'm', ..] if text.len() == 46 => base58_decode(text).ok_or(bad)?,
            [b'b', rest @ ..] => base32_decode(rest, false).ok_or(bad)?,
            [b'B', rest @ ..] => base32_decode(rest, true).ok_or(bad)?,
            [b'z', rest @ ..] => base58_decode(rest).ok_or(bad)?,
            [b'f' | b'F', rest @ ..] => {
                let mut out = Vec::new();
                crate::encoding::hex_decode(rest, &mut out).map_err(|_| bad)?;
                out
            }
            _ => {
                return Err(InvalidData(
                    "expected a CID: Qm... (v0) or multibase b... (base32), z... or f...",
                ));
            }
        };
        let cid = Cid::from_bytes(&bytes)?;
        // Only the CIDv0 text form may carry a v0 CID (the multibase forms are v1 only).
        if cid.version() == 0 && !text.starts_with(b"Qm") {
            return Err(InvalidData("a CIDv0 must be written in base58btc (Qm...)"));
        }
        Ok(cid)
    }
}

impl fmt::Display for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.version() == 0 {
            base58_encode(&self.0, f)
        } else {
            f.write_str("b")?;
            base32_encode(&self.0, f)
        }
    }
}

/// Reads an unsigned LEB128 varint of at most 9 bytes in minimal form (multiformats).
fn varint(rest: &mut &[u8]) -> Result<u64, InvalidData> {
    let mut value = 0u64;
    for i in 0..9 {
        let (&b, tail) = rest
            .split_first()
            .ok_or(InvalidData("content identifier ends inside a varint"))?;
        *rest = tail;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            if b == 0 && i > 0 {
                return Err(InvalidData("varint in the CID is not minimal"));
            }
            return Ok(value);
        }
    }
    Err(InvalidData("varint in the CID is longer than 9 bytes"))
}

fn base32_encode(data: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut acc = 0u32;
    let mut bits = 0u32;
    let sym = |i: u32| char::from(BASE32.get(i as usize & 31).copied().unwrap_or(b'a'));
    for &b in data {
        acc = (acc << 8 | u32::from(b)) & 0xffff;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            fmt::Write::write_char(f, sym(acc >> bits))?;
        }
    }
    if bits > 0 {
        fmt::Write::write_char(f, sym(acc << (5 - bits)))?;
    }
    Ok(())
}

fn base32_decode(text: &[u8], upper: bool) -> Option<Vec<u8>> {
    if matches!(text.len() % 8, 1 | 3 | 6) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    if upper && text.iter().any(u8::is_ascii_lowercase) {
        return None;
    }
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &c in text {
        let c = if upper { c.to_ascii_lowercase() } else { c };
        let v = BASE32.iter().position(|&s| s == c)?;
        acc = (acc << 5 | v as u32) & 0xffff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    // Leftover bits must be zero for the encoding to be canonical.
    (acc & ((1 << bits) - 1) == 0).then_some(out)
}

fn base58_encode(data: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let zeros = data.iter().take_while(|&&b| b == 0).count();
    // Little-endian base-58 digits of the number.
    let mut digits: Vec<u8> = Vec::with_capacity(data.len() * 138 / 100 + 1);
    for &b in data.get(zeros..).unwrap_or_default() {
        let mut carry = u32::from(b);
        for d in digits.iter_mut() {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let sym = |i: u8| char::from(BASE58.get(usize::from(i)).copied().unwrap_or(b'1'));
    for _ in 0..zeros {
        fmt::Write::write_char(f, '1')?;
    }
    for &d in digits.iter().rev() {
        fmt::Write::write_char(f, sym(d))?;
    }
    Ok(())
}

fn base58_decode(text: &[u8]) -> Option<Vec<u8>> {
    let zeros = text.iter().take_while(|&&c| c == b'1').count();
    // Little-endian base-256 bytes of the number.
    let mut bytes: Vec<u8> = Vec::with_capacity(text.len());
    for &c in text.get(zeros..).unwrap_or_default() {
        let mut carry = BASE58.iter().position(|&s| s == c)? as u32;
        for b in bytes.iter_mut() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; zeros];
    out.extend(bytes.iter().rev());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipfs_examples() {
        // The CIDv0 and CIDv1 of the same content, from the IPFS documentation.
        let v0 = "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR";
        let v1 = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
        let cid0 = Cid::from_text(v0.as_bytes()).unwrap();
        assert_eq!(cid0.version(), 0);
        assert_eq!(cid0.to_string(), v0);
        let cid1 = Cid::from_text(v1.as_bytes()).unwrap();
        assert_eq!(cid1.version(), 1);
        assert_eq!(cid1.to_string(), v1);
        // Same digest: the v1 form ends with the v0 multihash.
        assert!(cid1.as_bytes().ends_with(cid0.as_bytes()));
        assert_eq!(cid1.as_bytes().get(..2), Some(&[0x01, 0x70][..]));
        // Other multibase forms of the same CID read back to it.
        let upper = v1.to_ascii_uppercase();
        assert_eq!(Cid::from_text(upper.as_bytes()).unwrap(), cid1);
        let hex = format!("f{}", crate::encoding::hex_string(cid1.as_bytes()));
        assert_eq!(Cid::from_text(hex.as_bytes()).unwrap(), cid1);
    }

    #[test]
    fn rejects() {
        for bad in [
            "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMn0", // '0' is not base58
            "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzd", // truncated
            "bAFYbeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", // mixed case
            "x123",
            "",
        ] {
            assert!(Cid::from_text(bad.as_bytes()).is_err(), "{bad}");
        }
        // CIDv1 with a sha2-256 digest of 31 bytes.
        let mut short = vec![0x01, 0x55, 0x12, 0x1f];
        short.extend([7u8; 31]);
        assert!(Cid::from_bytes(&short).is_err());
        short[3] = 0x20;
        assert!(Cid::from_bytes(&short).is_err());
        short.push(7);
        assert!(Cid::from_bytes(&short).is_ok());
        // Version 2, non-minimal varint, CIDv0 of the wrong size.
        assert!(Cid::from_bytes(&[0x02, 0x55, 0x00, 0x00]).is_err());
        assert!(Cid::from_bytes(&[0x81, 0x00, 0x55, 0x00, 0x00]).is_err());
        assert!(Cid::from_bytes(&[0x12, 0x20, 1, 2]).is_err());
        // An identity multihash may be empty.
        assert!(Cid::from_bytes(&[0x01, 0x55, 0x00, 0x00]).is_ok());
    }
}
