//! Chain validation against the CT reference implementation's test certificates, with
//! the edge cases ruled as `zdns_ct::chain` documents, and chains made with rcgen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::Path;

use zdns_ct::chain::{ChainError, ChainKind, Roots, validate};
use zdns_ct::entry::SignedEntry;
use zdns_ct::keys::LogPublicKey;
use zdns_ct::pem::decode_label;
use zdns_ct::sct::Sct;

fn pems(dir: &Path, name: &str) -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    decode_label(&text, "CERTIFICATE").unwrap()
}

fn roots(dir: &Path, names: &[&str]) -> Roots {
    let mut roots = Roots::new();
    for n in names {
        let text = std::fs::read_to_string(dir.join(n)).unwrap();
        roots.add_pem(&text).unwrap();
    }
    roots
}

fn chain_of(dir: &Path, names: &[&str]) -> Vec<Vec<u8>> {
    names.iter().flat_map(|n| pems(dir, n)).collect()
}

#[test]
fn reference_chains_validate_and_their_scts_verify() {
    let Some(dir) = common::testdata("certs") else {
        return;
    };
    let ca = roots(&dir, &["ca-cert.pem"]);
    let log_key = {
        let text = std::fs::read_to_string(dir.join("ct-server-key-public.pem")).unwrap();
        LogPublicKey::from_spki_der(&decode_label(&text, "PUBLIC KEY").unwrap()[0]).unwrap()
    };
    // (chain files, kind, SCT proof file)
    let cases: &[(&[&str], ChainKind, &str)] = &[
        (
            &["test-cert.pem"],
            ChainKind::Certificate,
            "test-cert.proof",
        ),
        (
            &["test-intermediate-cert.pem", "intermediate-cert.pem"],
            ChainKind::Certificate,
            "test-intermediate-cert.proof",
        ),
        (
            &["test-embedded-pre-cert.pem"],
            ChainKind::Precertificate,
            "test-embedded-pre-cert.proof",
        ),
        (
            &["test-embedded-with-preca-pre-cert.pem", "ca-pre-cert.pem"],
            ChainKind::Precertificate,
            "test-embedded-with-preca-pre-cert.proof",
        ),
        (
            &[
                "test-embedded-with-intermediate-pre-cert.pem",
                "intermediate-cert.pem",
            ],
            ChainKind::Precertificate,
            "test-embedded-with-intermediate-pre-cert.proof",
        ),
        (
            &[
                "test-embedded-with-intermediate-preca-pre-cert.pem",
                "intermediate-pre-cert.pem",
                "intermediate-cert.pem",
            ],
            ChainKind::Precertificate,
            "test-embedded-with-intermediate-preca-pre-cert.proof",
        ),
    ];
    for (files, kind, proof) in cases {
        let chain = chain_of(&dir, files);
        let valid = validate(&chain, &ca, *kind).unwrap_or_else(|e| panic!("{files:?}: {e}"));
        assert_eq!(valid.kind(), *kind);
        // The root was appended.
        assert_eq!(
            valid.issuers().last().unwrap(),
            &pems(&dir, "ca-cert.pem")[0]
        );
        let (entry, pre) = valid.entry().unwrap();
        assert_eq!(pre.is_some(), *kind == ChainKind::Precertificate);
        // The reference log's SCT signs exactly the entry we derive.
        let sct = Sct::from_bytes(&std::fs::read(dir.join(proof)).unwrap()).unwrap();
        sct.verify(&log_key, &entry)
            .unwrap_or_else(|e| panic!("{files:?}: {e}"));
        // Submitting the root too changes nothing.
        let mut with_root = chain.clone();
        with_root.extend(pems(&dir, "ca-cert.pem"));
        assert_eq!(validate(&with_root, &ca, *kind).unwrap(), valid);
        // The other endpoint refuses it.
        let other = match kind {
            ChainKind::Certificate => ChainKind::Precertificate,
            ChainKind::Precertificate => ChainKind::Certificate,
        };
        assert!(matches!(
            validate(&chain, &ca, other),
            Err(ChainError::WrongKind { .. })
        ));
        // Without the root trusted, nothing validates.
        assert!(matches!(
            validate(&chain, &Roots::new(), *kind),
            Err(ChainError::NoRoot)
        ));
    }
    // An intermediate missing from the chain: no root issued the leaf.
    let missing = chain_of(&dir, &["test-intermediate-cert.pem"]);
    assert_eq!(
        validate(&missing, &ca, ChainKind::Certificate),
        Err(ChainError::NoRoot)
    );
}

#[test]
fn edge_case_chains() {
    let Some(dir) = common::testdata("certs") else {
        return;
    };
    // The v1 root without basicConstraints, self-signed with MD2, is a trust anchor.
    let no_bc = chain_of(&dir, &["test-no-bc-cert-chain.pem"]);
    let no_bc_root = roots(&dir, &["test-no-bc-ca-cert.pem"]);
    let valid = validate(&no_bc, &no_bc_root, ChainKind::Certificate).unwrap();
    assert_eq!(valid.issuers().len(), 3);
    // The same chain without its root still reaches it.
    let valid = validate(&no_bc[..3], &no_bc_root, ChainKind::Certificate).unwrap();
    assert_eq!(valid.issuers().last().unwrap(), &no_bc[3]);

    // A certificate "issued" by an end-entity certificate is refused.
    let no_ca = chain_of(&dir, &["test-no-ca-cert-chain.pem"]);
    let ca = roots(&dir, &["ca-cert.pem"]);
    assert_eq!(
        validate(&no_ca, &ca, ChainKind::Certificate),
        Err(ChainError::NotCa(1))
    );

    // Two roots with the same name and key: either anchors the chain, both together too.
    let collision = chain_of(&dir, &["test-issuer-collision-chain.pem"]);
    for names in [
        &["test-colliding-root1.pem"][..],
        &["test-colliding-root2.pem"],
        &["test-colliding-roots.pem"],
    ] {
        let r = roots(&dir, names);
        let valid = validate(&collision, &r, ChainKind::Certificate)
            .unwrap_or_else(|e| panic!("{names:?}: {e}"));
        assert!(r.contains(valid.issuers().last().unwrap()));
    }

    // An intermediate signed with MD2 by the root: verified, and accepted.
    let md2 = chain_of(&dir, &["test-md2-chain.pem"]);
    let valid = validate(&md2, &no_bc_root, ChainKind::Certificate).unwrap();
    assert_eq!(valid.issuers().len(), 2);

    // A corrupted certificate is malformed, not a panic.
    let corrupted = std::fs::read_to_string(dir.join("test-corrupted.pem")).unwrap();
    if let Ok(ders) = decode_label(&corrupted, "CERTIFICATE") {
        assert!(validate(&ders, &ca, ChainKind::Certificate).is_err());
    }
}

#[test]
fn tampered_and_misordered_chains_are_refused() {
    let Some(dir) = common::testdata("certs") else {
        return;
    };
    let ca = roots(&dir, &["ca-cert.pem"]);
    let chain = chain_of(
        &dir,
        &["test-intermediate-cert.pem", "intermediate-cert.pem"],
    );
    let mut flipped = chain.clone();
    flipped.reverse();
    assert!(validate(&flipped, &ca, ChainKind::Certificate).is_err());
    // Flip a bit of the leaf's signature.
    let mut bad = chain.clone();
    let last = bad[0].len() - 1;
    bad[0][last] ^= 1;
    assert!(matches!(
        validate(&bad, &ca, ChainKind::Certificate),
        Err(ChainError::Signature { index: 0, .. })
    ));
    assert_eq!(
        validate(&[], &ca, ChainKind::Certificate),
        Err(ChainError::Length(0))
    );
    let long = vec![chain[0].clone(); 17];
    assert_eq!(
        validate(&long, &ca, ChainKind::Certificate),
        Err(ChainError::Length(17))
    );
    assert!(matches!(
        validate(&[vec![0x30, 0x00]], &ca, ChainKind::Certificate),
        Err(ChainError::Malformed { index: 0, .. })
    ));
    // The embedded certificate (final, with SCTs) is a certificate, not a precertificate.
    let embedded = chain_of(&dir, &["test-embedded-cert.pem"]);
    let valid = validate(&embedded, &ca, ChainKind::Certificate).unwrap();
    assert!(matches!(valid.entry().unwrap().0, SignedEntry::X509(_)));
}

mod generated {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, CustomExtension, IsCa, KeyPair,
        PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_RSA_SHA256, SignatureAlgorithm,
    };

    fn ca_params(name: &str) -> CertificateParams {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, name);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p
    }

    /// A self-signed CA: its DER and an issuer that signs with its key.
    fn ca(
        alg: &'static SignatureAlgorithm,
        name: &str,
    ) -> (Vec<u8>, rcgen::Issuer<'static, KeyPair>) {
        let key = KeyPair::generate_for(alg).unwrap();
        let der = ca_params(name).self_signed(&key).unwrap().der().to_vec();
        (der, rcgen::Issuer::new(ca_params(name), key))
    }

    #[test]
    fn ecdsa_chains() {
        for alg in [&PKCS_ECDSA_P256_SHA256, &PKCS_ECDSA_P384_SHA384] {
            let (root, issuer) = ca(alg, "Root");
            let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
            let leaf = CertificateParams::new(vec!["a.example".into()])
                .unwrap()
                .signed_by(&leaf_key, &issuer)
                .unwrap();
            let mut roots = Roots::new();
            roots.add_der(root).unwrap();
            let chain = vec![leaf.der().to_vec()];
            validate(&chain, &roots, ChainKind::Certificate).unwrap();

            // A precertificate: the same with the poison extension.
            let mut p = CertificateParams::new(vec!["b.example".into()]).unwrap();
            let mut poison =
                CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 11129, 2, 4, 3], vec![5, 0]);
            poison.set_criticality(true);
            p.custom_extensions.push(poison);
            let pre = p.signed_by(&leaf_key, &issuer).unwrap();
            let valid = validate(&[pre.der().to_vec()], &roots, ChainKind::Precertificate).unwrap();
            assert!(matches!(valid.entry().unwrap().0, SignedEntry::Precert(_)));

            // A leaf signed by another key with the root's name is refused.
            let (_, forged_issuer) = ca(alg, "Root");
            let forged = CertificateParams::new(vec!["c.example".into()])
                .unwrap()
                .signed_by(&leaf_key, &forged_issuer)
                .unwrap();
            assert!(matches!(
                validate(&[forged.der().to_vec()], &roots, ChainKind::Certificate),
                Err(ChainError::Signature { index: 0, .. })
            ));
        }
    }

    /// An intermediate's signature is checked once, then remembered: the next chain
    /// through it costs only the leaf's check. A tampered copy of the intermediate is
    /// still checked, and refused.
    #[test]
    fn intermediate_signatures_are_remembered() {
        let (root, root_issuer) = ca(&PKCS_ECDSA_P256_SHA256, "Root");
        let mid_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mid = ca_params("Mid")
            .signed_by(&mid_key, &root_issuer)
            .unwrap()
            .der()
            .to_vec();
        let mid_issuer = rcgen::Issuer::new(ca_params("Mid"), mid_key);
        let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let leaf = |name: &str| {
            CertificateParams::new(vec![name.into()])
                .unwrap()
                .signed_by(&leaf_key, &mid_issuer)
                .unwrap()
                .der()
                .to_vec()
        };
        let mut roots = Roots::new();
        roots.add_der(root.clone()).unwrap();
        assert_eq!(roots.verified_signatures(), 0);
        for name in ["a.example", "b.example", "c.example"] {
            let valid =
                validate(&[leaf(name), mid.clone()], &roots, ChainKind::Certificate).unwrap();
            assert_eq!(valid.issuers(), &[mid.clone(), root.clone()]);
            // Only the intermediate-by-root signature is remembered, not the leaves'.
            assert_eq!(roots.verified_signatures(), 1);
        }
        // The intermediate with a flipped signature bit is checked afresh and refused.
        let mut tampered = mid.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(matches!(
            validate(
                &[leaf("d.example"), tampered],
                &roots,
                ChainKind::Certificate
            ),
            Err(ChainError::Signature { index: 1, .. })
        ));
    }

    #[test]
    fn rsa_root_from_openssl() {
        // rcgen cannot generate RSA keys without aws-lc; use a key made by openssl.
        let dir = std::env::temp_dir().join(format!("zdns-ct-rsa-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("k.pem");
        let ok = std::process::Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
            ])
            .arg(&key)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("notice: openssl unavailable; skipping");
            return;
        }
        let pem = std::fs::read_to_string(&key).unwrap();
        let root_key = KeyPair::from_pem_and_sign_algo(&pem, &PKCS_RSA_SHA256).unwrap();
        let root = ca_params("RSA Root").self_signed(&root_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params("RSA Root"), root_key);
        let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let leaf = CertificateParams::new(vec!["rsa.example".into()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let mut roots = Roots::new();
        roots.add_der(root.der().to_vec()).unwrap();
        validate(&[leaf.der().to_vec()], &roots, ChainKind::Certificate).unwrap();
        // A flipped bit in the RSA signature is refused (by ring, then by the `rsa` crate).
        let mut tampered = leaf.der().to_vec();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(matches!(
            validate(&[tampered], &roots, ChainKind::Certificate),
            Err(ChainError::Signature { index: 0, .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
