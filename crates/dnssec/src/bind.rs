//! BIND key files: `K<zone>+<alg>+<tag>.key` (the DNSKEY record) and `.private`
//! (`Private-key-format: v1.3`), the format `dnssec-keygen` writes and `dnssec-signzone`
//! reads. zdns keeps its keyring in the same format, so keys move both ways.

use std::fmt::{self, Write as _};

use lib_dns::Name;
use lib_dns::encoding::{base64_decode, base64_string};
use lib_dns::rdata::{Dnskey, RData};
use lib_dns::types::Rtype;

use crate::key::{KeyError, PrivateKey, RsaPrivate, SignAlgorithm, SigningKey};

/// Why a key file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindKeyError {
    /// A line of the file is malformed (line number, 1-based, and what is wrong).
    Syntax(usize, String),
    /// A field the algorithm needs is missing.
    Missing(&'static str),
    /// The key material itself was rejected.
    Key(KeyError),
    /// The `.key` and `.private` files do not describe the same key.
    Mismatch,
}

impl fmt::Display for BindKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindKeyError::Syntax(line, what) => write!(f, "line {line}: {what}"),
            BindKeyError::Missing(field) => write!(f, "missing field '{field}'"),
            BindKeyError::Key(e) => write!(f, "{e}"),
            BindKeyError::Mismatch => {
                f.write_str("the public and private key files are of different keys")
            }
        }
    }
}

impl std::error::Error for BindKeyError {}

/// The file name stem BIND uses: `K<zone>+<alg>+<tag>` (the zone with its final dot).
pub fn file_stem(zone: &Name, key: &SigningKey) -> String {
    let zone = zone.to_lowercase().to_string();
    format!(
        "K{zone}+{:03}+{:05}",
        key.algorithm().number().0,
        key.key_tag()
    )
}

/// The `.key` file: a comment and the DNSKEY record.
pub fn write_public(zone: &Name, key: &SigningKey) -> String {
    let kind = if key.is_ksk() {
        "key-signing"
    } else {
        "zone-signing"
    };
    format!(
        "; This is a {kind} key, keyid {}, for {zone}\n{zone} IN DNSKEY {}\n",
        key.key_tag(),
        RData::from(key.dnskey())
    )
}

/// The `.private` file (`Private-key-format: v1.3`).
pub fn write_private(key: &SigningKey) -> String {
    let alg = key.algorithm();
    let mut out = format!(
        "Private-key-format: v1.3\nAlgorithm: {} ({})\n",
        alg.number().0,
        alg.mnemonic()
    );
    let mut field = |name: &str, value: &[u8]| {
        let _ = writeln!(out, "{name}: {}", base64_string(value));
    };
    match key.private() {
        PrivateKey::Ed25519(seed) => field("PrivateKey", seed),
        PrivateKey::Ecdsa(scalar) => field("PrivateKey", scalar),
        PrivateKey::MlDsa(seed) => field("PrivateKey", seed),
        PrivateKey::Rsa(k) => {
            field("Modulus", &k.n);
            field("PublicExponent", &k.e);
            field("PrivateExponent", &k.d);
            field("Prime1", &k.p);
            field("Prime2", &k.q);
            field("Exponent1", &k.dp);
            field("Exponent2", &k.dq);
            field("Coefficient", &k.qinv);
        }
    }
    out
}

/// Reads a `.key` file: the owner and DNSKEY of its first DNSKEY record.
pub fn parse_public(text: &str) -> Result<(Name, Dnskey), BindKeyError> {
    for (i, line) in text.lines().enumerate() {
        let line = line.split(';').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let syntax = |what: String| BindKeyError::Syntax(i + 1, what);
        let mut words = line.split_whitespace();
        let owner = words.next().unwrap_or_default();
        let owner = Name::parse(owner).map_err(|e| syntax(format!("bad owner name: {e}")))?;
        // Optional TTL and class, then the type.
        let rest: Vec<&str> = words.collect();
        let Some(at) = rest.iter().position(|w| w.eq_ignore_ascii_case("DNSKEY")) else {
            return Err(syntax("expected a DNSKEY record".into()));
        };
        let rdata = rest.get(at + 1..).unwrap_or_default().join(" ");
        return match RData::parse_str(Rtype::DNSKEY, &rdata, Some(&owner)) {
            Ok(RData::Dnskey(k)) => Ok((owner, k)),
            Ok(_) => Err(syntax("expected a DNSKEY record".into())),
            Err(e) => Err(syntax(e.to_string())),
        };
    }
    Err(BindKeyError::Missing("DNSKEY"))
}

/// Reads a `.private` file into the algorithm and private key it holds.
pub fn parse_private(text: &str) -> Result<(SignAlgorithm, PrivateKey), BindKeyError> {
    let mut fields: Vec<(&str, &str, usize)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(BindKeyError::Syntax(
                i + 1,
                "expected 'Field: value'".into(),
            ));
        };
        fields.push((name.trim(), value.trim(), i + 1));
    }
    let get = |name: &'static str| {
        fields
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, v, line)| (v, line))
            .ok_or(BindKeyError::Missing(name))
    };
    let (format, line) = get("Private-key-format")?;
    if !format.starts_with("v1.") {
        return Err(BindKeyError::Syntax(
            line,
            format!("unsupported private key format '{format}'"),
        ));
    }
    let (alg, line) = get("Algorithm")?;
    let number: u8 = alg
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| BindKeyError::Syntax(line, format!("bad algorithm '{alg}'")))?;
    let algorithm = SignAlgorithm::from_number(lib_dns::rdata::Algorithm(number))
        .ok_or(BindKeyError::Key(KeyError::UnsupportedAlgorithm(number)))?;
    let bytes = |name: &'static str| -> Result<Vec<u8>, BindKeyError> {
        let (v, line) = get(name)?;
        let mut out = Vec::new();
        base64_decode(v.as_bytes(), &mut out)
            .map_err(|e| BindKeyError::Syntax(line, format!("{name}: bad base64: {e}")))?;
        Ok(out)
    };
    let private = match algorithm {
        SignAlgorithm::Ed25519 => {
            let seed = bytes("PrivateKey")?;
            let seed: [u8; 32] = seed.try_into().map_err(|_| {
                BindKeyError::Key(KeyError::Rejected(
                    "Ed25519 private key is not 32 bytes".into(),
                ))
            })?;
            PrivateKey::Ed25519(seed)
        }
        SignAlgorithm::EcdsaP256Sha256 | SignAlgorithm::EcdsaP384Sha384 => {
            PrivateKey::Ecdsa(bytes("PrivateKey")?)
        }
        SignAlgorithm::MlDsa44 => {
            let seed: [u8; 32] = bytes("PrivateKey")?.try_into().map_err(|_| {
                BindKeyError::Key(KeyError::Rejected("ML-DSA seed is not 32 bytes".into()))
            })?;
            PrivateKey::MlDsa(seed)
        }
        SignAlgorithm::RsaSha256 => PrivateKey::Rsa(Box::new(RsaPrivate {
            n: bytes("Modulus")?,
            e: bytes("PublicExponent")?,
            d: bytes("PrivateExponent")?,
            p: bytes("Prime1")?,
            q: bytes("Prime2")?,
            dp: bytes("Exponent1")?,
            dq: bytes("Exponent2")?,
            qinv: bytes("Coefficient")?,
        })),
    };
    Ok((algorithm, private))
}

/// A key from its `.key` and `.private` files: the zone it is for and the key, checked
/// to be one key (the public key derived from the private one must match).
pub fn load(public: &str, private: &str) -> Result<(Name, SigningKey), BindKeyError> {
    let (zone, dnskey) = parse_public(public)?;
    let (algorithm, secret) = parse_private(private)?;
    if algorithm.number() != dnskey.algorithm {
        return Err(BindKeyError::Mismatch);
    }
    let key =
        SigningKey::from_private(algorithm, dnskey.flags, secret).map_err(BindKeyError::Key)?;
    if key.public_key() != dnskey.public_key.as_slice() {
        return Err(BindKeyError::Mismatch);
    }
    Ok((zone, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{FLAGS_KSK, FLAGS_ZSK};

    #[test]
    fn written_files_load_back() {
        let zone = Name::parse("Example.COM.").unwrap();
        for alg in [
            SignAlgorithm::Ed25519,
            SignAlgorithm::EcdsaP256Sha256,
            SignAlgorithm::EcdsaP384Sha384,
            SignAlgorithm::MlDsa44,
        ] {
            let key = SigningKey::generate(alg, FLAGS_KSK).unwrap();
            let (z, back) = load(&write_public(&zone, &key), &write_private(&key)).unwrap();
            assert_eq!(z, zone);
            assert_eq!(back.dnskey(), key.dnskey());
            assert!(back.is_ksk());
            assert!(
                file_stem(&zone, &key)
                    .starts_with(&format!("Kexample.com.+{:03}+", alg.number().0))
            );
        }
    }

    #[test]
    fn mismatched_pairs_and_bad_files_are_rejected() {
        let zone = Name::parse("example.").unwrap();
        let a = SigningKey::generate(SignAlgorithm::Ed25519, FLAGS_ZSK).unwrap();
        let b = SigningKey::generate(SignAlgorithm::Ed25519, FLAGS_ZSK).unwrap();
        assert_eq!(
            load(&write_public(&zone, &a), &write_private(&b)).unwrap_err(),
            BindKeyError::Mismatch
        );
        let c = SigningKey::generate(SignAlgorithm::EcdsaP256Sha256, FLAGS_ZSK).unwrap();
        assert_eq!(
            load(&write_public(&zone, &a), &write_private(&c)).unwrap_err(),
            BindKeyError::Mismatch
        );
        assert!(matches!(
            parse_private("Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\n"),
            Err(BindKeyError::Missing("PrivateKey"))
        ));
        assert!(matches!(
            parse_private("Private-key-format: v1.3\nAlgorithm: 15\nPrivateKey: AAAA\n"),
            Err(BindKeyError::Key(_))
        ));
        assert!(matches!(
            parse_private("Private-key-format: v1.3\nAlgorithm: 5\nPrivateKey: AAAA\n"),
            Err(BindKeyError::Key(KeyError::UnsupportedAlgorithm(5)))
        ));
        assert!(matches!(
            parse_private("Private-key-format: v1.3\nAlgorithm: 15\nPrivateKey: !!\n"),
            Err(BindKeyError::Syntax(3, _))
        ));
        assert!(matches!(
            parse_private("garbage"),
            Err(BindKeyError::Syntax(1, _))
        ));
        assert!(parse_public("; only a comment\n").is_err());
        assert!(parse_public("example. IN A 192.0.2.1\n").is_err());
        assert!(parse_public("example. IN DNSKEY 256 3 15\n").is_err());
    }
}
