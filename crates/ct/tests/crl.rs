//! CRLs made by OpenSSL (`openssl ca -gencrl`), for CAs with an ECDSA P-256 and an RSA
//! key, with certificates OpenSSL issued: the serial numbers a CA's CRL lists are
//! revoked, others and other CAs' certificates are not, in PEM and in DER.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;
use std::process::{Command, Stdio};

use zdns_ct::crl::{Crl, Crls};

/// Runs openssl in `dir`; `false` if it is not installed.
fn openssl(dir: &Path, args: &[&str]) -> bool {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match status {
        Ok(s) => {
            assert!(s.success(), "openssl {}", args.join(" "));
            true
        }
        Err(_) => {
            assert!(
                std::env::var("ZDNS_REQUIRE_PEERS").as_deref() != Ok("1"),
                "openssl not found and ZDNS_REQUIRE_PEERS=1"
            );
            eprintln!("notice: openssl not found; skipping");
            false
        }
    }
}

fn der_of_pem(path: &Path) -> Vec<u8> {
    let text = std::fs::read_to_string(path).unwrap();
    zdns_ct::pem::decode_all(&text).unwrap().remove(0).der
}

/// A CA named `name` with a key made by `newkey` (openssl req's `-newkey` and options),
/// certificates with serials 0x03E9 and 0x03EA, and a CRL revoking 0x03E9. Returns the
/// CA, both certificates and the CRL as PEM text.
fn ca_with_crl(dir: &Path, name: &str, newkey: &[&str]) -> Option<(Vec<u8>, [Vec<u8>; 2], String)> {
    std::fs::create_dir_all(dir).unwrap();
    let subject = format!("/CN={name}");
    let mut req = vec!["req", "-x509", "-nodes", "-days", "30", "-subj", &subject];
    req.extend_from_slice(newkey);
    req.extend_from_slice(&["-keyout", "ca.key", "-out", "ca.pem"]);
    if !openssl(dir, &req) {
        return None;
    }
    let mut leaves = Vec::new();
    for serial in ["0x03E9", "0x03EA"] {
        let (key, csr, pem) = (
            format!("{serial}.key"),
            format!("{serial}.csr"),
            format!("{serial}.pem"),
        );
        let subj = format!("/CN=leaf{serial}.example");
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-nodes",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-subj",
                &subj,
                "-keyout",
                &key,
                "-out",
                &csr,
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                serial,
                "-days",
                "30",
                "-out",
                &pem,
            ],
        );
        leaves.push(der_of_pem(&dir.join(&pem)));
    }
    std::fs::write(
        dir.join("index.txt"),
        "R\t301231000000Z\t260101000000Z\t03E9\tunknown\t/CN=leaf0x03E9.example\n",
    )
    .unwrap();
    std::fs::write(dir.join("crlnumber"), "01\n").unwrap();
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\ncrlnumber = crlnumber\n\
         default_md = sha256\ndefault_crl_days = 30\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "ca", "-gencrl", "-batch", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert",
            "ca.pem", "-out", "crl.pem",
        ],
    );
    let ca = der_of_pem(&dir.join("ca.pem"));
    let crl = std::fs::read_to_string(dir.join("crl.pem")).unwrap();
    let [a, b]: [Vec<u8>; 2] = leaves.try_into().unwrap();
    Some((ca, [a, b], crl))
}

#[test]
fn openssl_crls_revoke_what_they_list() {
    let base = std::env::temp_dir().join(format!("zdns-ct-crl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let Some((ec_ca, [ec_revoked, ec_kept], ec_crl)) = ca_with_crl(
        &base.join("ec"),
        "OpenSSL EC CA",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    ) else {
        return;
    };
    let (rsa_ca, [rsa_revoked, rsa_kept], rsa_crl) = ca_with_crl(
        &base.join("rsa"),
        "OpenSSL RSA CA",
        &["-newkey", "rsa:2048"],
    )
    .unwrap();

    let crls = Crls::from_pem(&format!("{ec_crl}{rsa_crl}")).unwrap();
    assert_eq!(crls.iter().count(), 2);
    let ec_chain = vec![ec_ca.clone()];
    let rsa_chain = vec![rsa_ca.clone()];
    assert!(crls.is_revoked(&ec_revoked, &ec_chain).unwrap());
    assert!(!crls.is_revoked(&ec_kept, &ec_chain).unwrap());
    assert!(crls.is_revoked(&rsa_revoked, &rsa_chain).unwrap());
    assert!(!crls.is_revoked(&rsa_kept, &rsa_chain).unwrap());
    // Each CRL speaks only for its own CA.
    let ec_only = Crls::from_pem(&ec_crl).unwrap();
    assert!(!ec_only.is_revoked(&rsa_revoked, &rsa_chain).unwrap());

    // The same CRL in DER (openssl crl -outform DER).
    let dir = base.join("ec");
    assert!(openssl(
        &dir,
        &[
            "crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der"
        ]
    ));
    let der = std::fs::read(dir.join("crl.der")).unwrap();
    let crl = Crl::parse(der).unwrap();
    assert_eq!(crl.der(), der_of_pem(&dir.join("crl.pem")).as_slice());
    let mut from_der = Crls::new();
    assert!(from_der.add(crl));
    assert!(from_der.is_revoked(&ec_revoked, &ec_chain).unwrap());
    std::fs::remove_dir_all(&base).unwrap();
}
