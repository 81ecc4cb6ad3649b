//! Published test vectors: RFC 8080 §6 (Ed25519, deterministic: DNSKEY, DS and RRSIG
//! reproduced byte for byte, as corrected by erratum 4935) and RFC 6605 §6 (ECDSA,
//! randomized: DNSKEY and DS reproduced, the published RRSIG verified, ours verified).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use lib_dns::rdata::{Ds, RData, Rrsig};
use lib_dns::record::Record;
use lib_dns::types::{Class, Rtype};
use lib_dns::{Name, rdata::Dnskey};
use zdns_dnssec::bind;
use zdns_dnssec::canonical::{canonical_rdatas, signed_data};
use zdns_dnssec::ds::{DIGEST_SHA256, DIGEST_SHA384, ds, ds_matches};
use zdns_dnssec::key::{FLAGS_KSK, SigningKey};
use zdns_dnssec::sign::{SignOptions, sign_rrset};
use zdns_dnssec::verify::{RrsetRef, SigError, verify_rrsig};

fn rdata(rtype: Rtype, text: &str, origin: &Name) -> RData {
    RData::parse_str(rtype, text, Some(origin)).unwrap()
}

fn key_from(private: &str, zone: &Name, dnskey_text: &str) -> (SigningKey, Dnskey) {
    let RData::Dnskey(dnskey) = rdata(Rtype::DNSKEY, dnskey_text, zone) else {
        panic!("not a DNSKEY")
    };
    let public = format!("{zone} 3600 IN DNSKEY {dnskey_text}");
    let (z, key) = bind::load(&public, private).unwrap();
    assert_eq!(&z, zone);
    assert_eq!(key.dnskey(), dnskey, "derived public key differs");
    (key, dnskey)
}

fn rrsig(text: &str, zone: &Name) -> Rrsig {
    match rdata(Rtype::RRSIG, text, zone) {
        RData::Rrsig(s) => *s,
        _ => panic!("not an RRSIG"),
    }
}

fn parse_ds(text: &str, zone: &Name) -> Ds {
    match rdata(Rtype::DS, text, zone) {
        RData::Ds(d) => d,
        _ => panic!("not a DS"),
    }
}

fn ed25519_case(private_key: &str, public_key: &str, tag: u16, ds_hex: &str, sig_b64: &str) {
    let zone = Name::parse("example.com.").unwrap();
    let private =
        format!("Private-key-format: v1.2\nAlgorithm: 15 (ED25519)\nPrivateKey: {private_key}\n");
    let (key, dnskey) = key_from(&private, &zone, &format!("257 3 15 {public_key}"));
    assert_eq!(key.key_tag(), tag);
    let want_ds = parse_ds(&format!("{tag} 15 2 {ds_hex}"), &zone);
    assert_eq!(ds(&zone, &dnskey, DIGEST_SHA256).unwrap(), want_ds);
    assert!(ds_matches(&zone, &dnskey, &want_ds));

    let mx = [rdata(Rtype::MX, "10 mail.example.com.", &zone)];
    let opts = SignOptions {
        inception: 1438207200,
        expiration: 1440021600,
        jitter: 0,
        ..SignOptions::new(0)
    };
    let set = RrsetRef {
        owner: &zone,
        class: Class::IN,
        rtype: Rtype::MX,
        rdatas: &mx,
    };
    let sigs = sign_rrset(set, 3600, &zone, &[&key], &opts).unwrap();
    let want = rrsig(
        &format!("MX 15 2 3600 1440021600 1438207200 {tag} example.com. {sig_b64}"),
        &zone,
    );
    let [
        Record {
            data: RData::Rrsig(got),
            ..
        },
    ] = sigs.as_slice()
    else {
        panic!("one RRSIG expected: {sigs:?}")
    };
    assert_eq!(**got, want, "RRSIG differs from RFC 8080");
    verify_rrsig(set, &want, &zone, &[dnskey], 1439000000).unwrap();
}

#[test]
fn rfc8080_example_1() {
    ed25519_case(
        "ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=",
        "l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=",
        3613,
        "3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b",
        "oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg==",
    );
}

#[test]
fn rfc8080_example_2() {
    ed25519_case(
        "DSSF3o0s0f+ElWzj9E/Osxw8hLpk55chkmx0LYN5WiY=",
        "zPnZ/QwEe7S8C5SPz2OfS5RR40ATk2/rYnE9xHIEijs=",
        35217,
        "401781b934e392de492ec77ae2e15d70f6575a1c0bc59c5275c04ebe80c6614c",
        "zXQ0bkYgQTEFyfLyi9QoiY6D8ZdYo4wyUhVioYZXFdT410QPRITQSqJSnzQoSm5poJ7gD7AQR0O7KuI5k2pcBg==",
    );
}

fn ecdsa_case(
    alg: u8,
    mnemonic: &str,
    private_key: &str,
    public_key: &str,
    ds_text: &str,
    digest: u8,
    rrsig_text: &str,
) {
    let zone = Name::parse("example.net.").unwrap();
    let private = format!(
        "Private-key-format: v1.2\nAlgorithm: {alg} ({mnemonic})\nPrivateKey: {private_key}\n"
    );
    let (key, dnskey) = key_from(&private, &zone, &format!("257 3 {alg} {public_key}"));
    assert_eq!(key.flags(), FLAGS_KSK);
    let want_ds = parse_ds(ds_text, &zone);
    assert_eq!(ds(&zone, &dnskey, digest).unwrap(), want_ds);

    let owner = Name::parse("www.example.net.").unwrap();
    let a = [rdata(Rtype::A, "192.0.2.1", &zone)];
    let theirs = rrsig(rrsig_text, &zone);
    let set = RrsetRef {
        owner: &owner,
        class: Class::IN,
        rtype: Rtype::A,
        rdatas: &a,
    };
    let keys = [dnskey.clone()];
    verify_rrsig(set, &theirs, &zone, &keys, theirs.inception + 10).unwrap();
    // Outside the validity period, or one bit off, it fails.
    assert_eq!(
        verify_rrsig(set, &theirs, &zone, &keys, theirs.expiration + 1),
        Err(SigError::Expired)
    );
    assert_eq!(
        verify_rrsig(set, &theirs, &zone, &keys, theirs.inception - 1),
        Err(SigError::NotYetValid)
    );
    let mut bad = theirs.clone();
    bad.signature[5] ^= 1;
    assert_eq!(
        verify_rrsig(set, &bad, &zone, &keys, theirs.inception + 10),
        Err(SigError::BadSignature)
    );

    // Our signature over the same data verifies with their key, and has the fixed size.
    let opts = SignOptions {
        inception: theirs.inception,
        expiration: theirs.expiration,
        jitter: 0,
        ..SignOptions::new(0)
    };
    let ours = sign_rrset(set, 3600, &zone, &[&key], &opts).unwrap();
    let [
        Record {
            data: RData::Rrsig(ours),
            ..
        },
    ] = ours.as_slice()
    else {
        panic!("one RRSIG expected")
    };
    assert_eq!(ours.signature.len(), theirs.signature.len());
    let mut without = (**ours).clone();
    without.signature = theirs.signature.clone();
    assert_eq!(without, theirs, "RRSIG fields differ");
    verify_rrsig(set, ours, &zone, &keys, theirs.inception + 10).unwrap();
    // The signed data is the same bytes for both.
    let rd = canonical_rdatas(&a).unwrap();
    assert_eq!(
        signed_data(ours, &owner, Class::IN, &rd).unwrap(),
        signed_data(&theirs, &owner, Class::IN, &rd).unwrap()
    );
}

#[test]
fn rfc6605_p256() {
    ecdsa_case(
        13,
        "ECDSAP256SHA256",
        "GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=",
        "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
        "55648 13 2 b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17",
        DIGEST_SHA256,
        "A 13 3 3600 20100909100439 20100812100439 55648 example.net. \
         qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==",
    );
}

#[test]
fn rfc6605_p384() {
    ecdsa_case(
        14,
        "ECDSAP384SHA384",
        "WURgWHCcYIYUPWgeLmiPY2DJJk02vgrmTfitxgqcL4vwW7BOrbawVmVe0d9V94SR",
        "xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/egsXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8/uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40",
        "10771 14 4 72d7b62976ce06438e9c0bf319013cf801f09ecc84b8d7e9495f27e305c6a9b0563a9b5f4d288405c3008a946df983d6",
        DIGEST_SHA384,
        "A 14 3 3600 20100909102025 20100812102025 10771 example.net. \
         /L5hDKIvGDyI1fcARX3z65qrmPsVz73QD1Mr5CEqOiLP95hxQouuroGCeZOvzFaxsT8Glr74hbavRKayJNuydCuzWTSSPdz7wnqXL5bdcJzusdnI0RSMROxxwGipWcJm",
    );
}
