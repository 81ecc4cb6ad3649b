//! The Google certificate-transparency test data in `shared/testdata/ct/certs`: SCTs
//! issued by a real log for certificates and precertificates (direct, through a
//! precertificate signing certificate, through an intermediate), embedded SCTs in the
//! final certificates, and an embedded SCT whose signature is invalid.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::PathBuf;

use zdns_ct::cert::{embedded_scts, is_precertificate, precert_entry};
use zdns_ct::entry::SignedEntry;
use zdns_ct::keys::{LogKey, LogPublicKey, SignatureError};
use zdns_ct::pem::decode_label;
use zdns_ct::sct::{Sct, SctError};

struct Data(PathBuf);

impl Data {
    fn open() -> Option<Data> {
        common::testdata("certs").map(Data)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn cert(&self, name: &str) -> Vec<u8> {
        let text = std::fs::read_to_string(self.path(name)).unwrap();
        decode_label(&text, "CERTIFICATE").unwrap().remove(0)
    }

    fn sct(&self, name: &str) -> Sct {
        Sct::from_bytes(&std::fs::read(self.path(name)).unwrap()).unwrap()
    }

    fn log_key(&self) -> LogPublicKey {
        let text = std::fs::read_to_string(self.path("ct-server-key-public.pem")).unwrap();
        LogPublicKey::from_spki_der(&decode_label(&text, "PUBLIC KEY").unwrap()[0]).unwrap()
    }
}

#[test]
fn certificate_sct_verifies() {
    let Some(d) = Data::open() else { return };
    let key = d.log_key();
    for (cert, proof) in [
        ("test-cert.pem", "test-cert.proof"),
        ("test-intermediate-cert.pem", "test-intermediate-cert.proof"),
    ] {
        let der = d.cert(cert);
        assert!(!is_precertificate(&der).unwrap());
        let sct = d.sct(proof);
        assert_eq!(sct.log_id, *key.log_id());
        let entry = SignedEntry::X509(der.clone());
        sct.verify(&key, &entry).unwrap();
        // Any change to the certificate breaks it.
        let mut other = der;
        let last = other.len() - 1;
        other[last] ^= 1;
        assert!(matches!(
            sct.verify(&key, &SignedEntry::X509(other)),
            Err(SctError::Signature(SignatureError::Invalid))
        ));
    }
}

#[test]
fn precertificate_scts_verify() {
    let Some(d) = Data::open() else { return };
    let key = d.log_key();
    // (precertificate, final issuer, precertificate signing certificate, SCT)
    let cases = [
        (
            "test-embedded-pre-cert.pem",
            "ca-cert.pem",
            None,
            "test-embedded-pre-cert.proof",
        ),
        (
            "test-embedded-with-preca-pre-cert.pem",
            "ca-cert.pem",
            Some("ca-pre-cert.pem"),
            "test-embedded-with-preca-pre-cert.proof",
        ),
        (
            "test-embedded-with-intermediate-pre-cert.pem",
            "intermediate-cert.pem",
            None,
            "test-embedded-with-intermediate-pre-cert.proof",
        ),
        (
            "test-embedded-with-intermediate-preca-pre-cert.pem",
            "intermediate-cert.pem",
            Some("intermediate-pre-cert.pem"),
            "test-embedded-with-intermediate-preca-pre-cert.proof",
        ),
    ];
    for (precert, issuer, pre_issuer, proof) in cases {
        let der = d.cert(precert);
        assert!(is_precertificate(&der).unwrap(), "{precert}");
        let pre = pre_issuer.map(|p| d.cert(p));
        let entry = precert_entry(&der, &d.cert(issuer), pre.as_deref()).unwrap();
        d.sct(proof)
            .verify(&key, &SignedEntry::Precert(entry.clone()))
            .unwrap_or_else(|e| panic!("{proof}: {e}"));
        // The wrong issuer key hash fails.
        let mut wrong = entry;
        wrong.issuer_key_hash[0] ^= 1;
        assert!(
            d.sct(proof)
                .verify(&key, &SignedEntry::Precert(wrong))
                .is_err()
        );
    }
    // A precertificate signing certificate without the CT EKU is refused.
    let der = d.cert("test-embedded-with-preca-pre-cert.pem");
    assert!(precert_entry(&der, &d.cert("ca-cert.pem"), Some(&d.cert("ca-cert.pem"))).is_err());
    // A certificate without poison is not a precertificate.
    assert!(precert_entry(&d.cert("test-cert.pem"), &d.cert("ca-cert.pem"), None).is_err());
}

#[test]
fn embedded_scts_verify_and_match_the_precertificate() {
    let Some(d) = Data::open() else { return };
    let key = d.log_key();
    for (cert, issuer, precert, pre_issuer) in [
        (
            "test-embedded-cert.pem",
            "ca-cert.pem",
            "test-embedded-pre-cert.pem",
            None,
        ),
        (
            "test-embedded-with-preca-cert.pem",
            "ca-cert.pem",
            "test-embedded-with-preca-pre-cert.pem",
            Some("ca-pre-cert.pem"),
        ),
        (
            "test-embedded-with-intermediate-cert.pem",
            "intermediate-cert.pem",
            "test-embedded-with-intermediate-pre-cert.pem",
            None,
        ),
        (
            "test-embedded-with-intermediate-preca-cert.pem",
            "intermediate-cert.pem",
            "test-embedded-with-intermediate-preca-pre-cert.pem",
            Some("intermediate-pre-cert.pem"),
        ),
    ] {
        let (entry, scts) = embedded_scts(&d.cert(cert), &d.cert(issuer)).unwrap();
        assert!(!scts.is_empty());
        for sct in &scts {
            sct.verify(&key, &SignedEntry::Precert(entry.clone()))
                .unwrap_or_else(|e| panic!("{cert}: {e}"));
        }
        // The final certificate minus its SCT list is the precertificate minus its
        // poison (with the issuer rewritten for a precertificate signing certificate).
        let pre = pre_issuer.map(|p| d.cert(p));
        let from_precert =
            precert_entry(&d.cert(precert), &d.cert(issuer), pre.as_deref()).unwrap();
        assert_eq!(entry, from_precert, "{cert}");
    }
}

#[test]
fn invalid_embedded_sct_is_rejected() {
    let Some(d) = Data::open() else { return };
    let key = d.log_key();
    let (entry, scts) = embedded_scts(
        &d.cert("test-invalid-embedded-cert.pem"),
        &d.cert("ca-cert.pem"),
    )
    .unwrap();
    assert!(!scts.is_empty());
    for sct in scts {
        assert!(matches!(
            sct.verify(&key, &SignedEntry::Precert(entry.clone())),
            Err(SctError::Signature(SignatureError::Invalid))
        ));
    }
}

#[test]
fn the_test_log_key_signs_what_its_public_key_verifies() {
    let Some(d) = Data::open() else { return };
    let text = std::fs::read_to_string(d.path("ct-server-key.pem")).unwrap();
    let key = LogKey::from_sec1_der(&decode_label(&text, "EC PRIVATE KEY").unwrap()[0]).unwrap();
    assert_eq!(key.public(), &d.log_key());
    let entry = SignedEntry::X509(d.cert("test-cert.pem"));
    let (sct, te) = Sct::issue(&key, 1_700_000_000_000, entry.clone(), 42).unwrap();
    sct.verify(&d.log_key(), &entry).unwrap();
    assert_eq!(te.timestamp, sct.timestamp);
    assert_eq!(sct.leaf_index().unwrap(), Some(42));
    // The RFC 6962 log's SCT signed exactly the Merkle tree leaf of its entry, and has
    // no leaf_index (it predates static-ct-api).
    let orig = d.sct("test-cert.proof");
    let leaf = zdns_ct::entry::TimestampedEntry {
        timestamp: orig.timestamp,
        entry: entry.clone(),
        extensions: orig.extensions.clone(),
    };
    assert_eq!(
        orig.signed_data(&entry).unwrap(),
        leaf.merkle_tree_leaf().unwrap()
    );
    assert_eq!(orig.leaf_index().unwrap(), None);
}

#[test]
fn rsa_scts_decode_but_are_not_ecdsa() {
    let Some(d) = Data::open() else { return };
    let sct = d.sct("rsa/test-cert-rsa.proof");
    assert_eq!(sct.signature.signature_algorithm, 1);
    assert!(matches!(
        sct.verify(&d.log_key(), &SignedEntry::X509(d.cert("test-cert.pem"))),
        Err(SctError::WrongLog)
    ));
    // Even under the right log ID, an RSA signature is refused: the log only speaks
    // ECDSA P-256.
    let mut relabelled = sct;
    relabelled.log_id = *d.log_key().log_id();
    assert!(matches!(
        relabelled.verify(&d.log_key(), &SignedEntry::X509(d.cert("test-cert.pem"))),
        Err(SctError::Signature(SignatureError::Algorithm {
            hash: 4,
            signature: 1
        }))
    ));
}

#[test]
fn truncated_and_corrupted_certificates_are_errors_not_panics() {
    let Some(d) = Data::open() else { return };
    let cert = d.cert("test-embedded-cert.pem");
    let precert = d.cert("test-embedded-pre-cert.pem");
    let issuer = d.cert("ca-cert.pem");
    for len in 0..cert.len() {
        assert!(embedded_scts(&cert[..len], &issuer).is_err());
    }
    for len in 0..precert.len() {
        assert!(precert_entry(&precert[..len], &issuer, None).is_err());
    }
    // Flipping each byte of the certificate never panics.
    for i in 0..cert.len() {
        let mut c = cert.clone();
        c[i] ^= 0xff;
        let _ = embedded_scts(&c, &issuer);
        let _ = precert_entry(&c, &issuer, Some(&issuer));
    }
}
