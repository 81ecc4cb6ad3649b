//! ML-DSA-44 (FIPS 204) as a DNSSEC algorithm in the private space: PRIVATEOID,
//! algorithm 254 (RFC 4034 Appendix A.1.1). The DNSKEY public key field and the RRSIG
//! signature field each begin with a length byte and the DER-encoded OID of ML-DSA-44
//! (2.16.840.1.101.3.4.3.17), followed by the FIPS 204 encodings: the 1,312-byte public
//! key and the 2,420-byte signature. Signing is the deterministic variant of
//! ML-DSA.Sign with an empty context string (FIPS 204 Algorithm 2), so the same key
//! signs the same data the same way. The format is written up in `docs/dnssec.md`.

use lib_dns::rdata::Algorithm;
use ml_dsa::{EncodedVerifyingKey, MlDsa44, Signature, VerifyingKey};

use crate::verify::SigError;

/// PRIVATEOID (RFC 4034 Appendix A.1.1).
pub const PRIVATEOID: Algorithm = Algorithm(254);

/// The DER encoding (without tag and length) of id-ml-dsa-44, 2.16.840.1.101.3.4.3.17
/// (NIST Computer Security Objects Register).
pub const ML_DSA_44_OID: [u8; 9] = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x11];

/// The FIPS 204 public key size of ML-DSA-44.
pub const PUBLIC_KEY_LEN: usize = 1312;
/// The FIPS 204 signature size of ML-DSA-44.
pub const SIGNATURE_LEN: usize = 2420;

/// The field prefix: the OID's length, then the OID.
fn prefix() -> [u8; 10] {
    let mut p = [0u8; 10];
    if let Some((len, oid)) = p.split_first_mut() {
        *len = ML_DSA_44_OID.len() as u8;
        oid.copy_from_slice(&ML_DSA_44_OID);
    }
    p
}

/// `field` without its OID prefix, if the prefix names ML-DSA-44.
pub fn strip_oid(field: &[u8]) -> Option<&[u8]> {
    field.strip_prefix(&prefix())
}

fn with_oid(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(10 + body.len());
    out.extend_from_slice(&prefix());
    out.extend_from_slice(body);
    out
}

/// An ML-DSA-44 signing key, from its 32-byte seed (FIPS 204 ML-DSA.KeyGen_internal).
pub struct MlDsaKey {
    key: Box<ml_dsa::ExpandedSigningKey<MlDsa44>>,
    public: Vec<u8>,
}

impl MlDsaKey {
    /// The key of a seed.
    pub fn from_seed(seed: &[u8; 32]) -> MlDsaKey {
        let key = Box::new(ml_dsa::ExpandedSigningKey::<MlDsa44>::from_seed(
            &(*seed).into(),
        ));
        let public = with_oid(&key.verifying_key().encode());
        MlDsaKey { key, public }
    }

    /// The DNSKEY public key field: OID prefix and the encoded public key.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// The RRSIG signature field over `data`: OID prefix and the encoded signature.
    pub fn sign(&self, data: &[u8]) -> Result<Vec<u8>, crate::key::KeyError> {
        let sig = self
            .key
            .sign_deterministic(data, &[])
            .map_err(|e| crate::key::KeyError::Sign(format!("ML-DSA: {e}")))?;
        Ok(with_oid(&sig.encode()))
    }
}

/// Verifies an RRSIG signature field over `data` with a DNSKEY public key field, both
/// of algorithm PRIVATEOID; an OID other than ML-DSA-44's is unsupported.
pub fn verify(public_key: &[u8], data: &[u8], signature: &[u8]) -> Result<(), SigError> {
    let (Some(pk), Some(sig)) = (strip_oid(public_key), strip_oid(signature)) else {
        return Err(SigError::UnsupportedAlgorithm(PRIVATEOID.0));
    };
    let pk = EncodedVerifyingKey::<MlDsa44>::try_from(pk).map_err(|_| SigError::BadKey)?;
    let sig = Signature::<MlDsa44>::try_from(sig).map_err(|_| SigError::BadSignature)?;
    if VerifyingKey::<MlDsa44>::decode(&pk).verify_with_context(data, &[], &sig) {
        Ok(())
    } else {
        Err(SigError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use fips204::traits::{KeyGen, SerDes, Signer, Verifier};

    use super::*;

    /// The fips204 crate, from the same seed, makes the same public key and the same
    /// deterministic signature (FIPS 204: rnd = 0^32), and each verifies the other's.
    #[test]
    fn agrees_with_fips204() {
        for seed in [[0u8; 32], [0x5a; 32], *b"zdns ML-DSA-44 cross-check seed!"] {
            let ours = MlDsaKey::from_seed(&seed);
            let (pk, sk) = fips204::ml_dsa_44::KG::keygen_from_seed(&seed);
            assert_eq!(
                strip_oid(ours.public_key()),
                Some(&pk.clone().into_bytes()[..])
            );
            let data = b"RRSIG RDATA and the RRset in canonical form";
            let theirs = sk.try_sign_with_seed(&[0; 32], data, &[]).unwrap();
            let mine = ours.sign(data).unwrap();
            assert_eq!(strip_oid(&mine), Some(&theirs[..]));
            assert!(pk.verify(
                data,
                &<[u8; SIGNATURE_LEN]>::try_from(strip_oid(&mine).unwrap()).unwrap(),
                &[]
            ));
            // A hedged (randomized) fips204 signature verifies with ours too.
            let hedged = sk.try_sign_with_seed(&[9; 32], data, &[]).unwrap();
            verify(ours.public_key(), data, &with_oid(&hedged)).unwrap();
        }
    }

    #[test]
    fn sizes_prefix_and_round_trip() {
        let k = MlDsaKey::from_seed(&[7; 32]);
        assert_eq!(k.public_key().len(), 10 + PUBLIC_KEY_LEN);
        assert_eq!(k.public_key().get(..10), Some(&prefix()[..]));
        let sig = k.sign(b"data").unwrap();
        assert_eq!(sig.len(), 10 + SIGNATURE_LEN);
        // Deterministic: the same data signs the same way.
        assert_eq!(sig, k.sign(b"data").unwrap());
        verify(k.public_key(), b"data", &sig).unwrap();
        assert_eq!(
            verify(k.public_key(), b"Data", &sig),
            Err(SigError::BadSignature)
        );
        let mut bad = sig.clone();
        bad[100] ^= 1;
        assert_eq!(
            verify(k.public_key(), b"data", &bad),
            Err(SigError::BadSignature)
        );
        // Another OID, a cut key or signature.
        let mut other = k.public_key().to_vec();
        other[9] = 0x12;
        assert_eq!(
            verify(&other, b"data", &sig),
            Err(SigError::UnsupportedAlgorithm(254))
        );
        assert_eq!(
            verify(&k.public_key()[..500], b"data", &sig),
            Err(SigError::BadKey)
        );
        assert_eq!(
            verify(k.public_key(), b"data", &sig[..2000]),
            Err(SigError::BadSignature)
        );
    }
}
