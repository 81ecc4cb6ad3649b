//! Round trips, documented examples and rejections for the ZDNS record types.

use crate::encoding::{base64_string, hex_string};
use crate::name::Name;
use crate::rdata::tests::{assert_round_trip, assert_text_rejected, assert_wire_rejected};
use crate::rdata::{Pqs, RData};
use crate::types::Rtype;

const DOC: &str = include_str!("../../../../../docs/zdns-records.md");

/// The entries of the fenced blocks of `lang` in the document: (type, record data).
fn doc_entries(lang: &str) -> Vec<(String, String)> {
    let fence = format!("```{lang}");
    let mut out = Vec::new();
    let mut inside = false;
    for line in DOC.lines() {
        if line == fence {
            inside = true;
        } else if line == "```" {
            inside = false;
        } else if inside {
            // owner TTL class type rdata...
            let mut rest = line;
            let mut fields = Vec::new();
            for _ in 0..4 {
                let (field, tail) = rest.split_once(' ').unwrap();
                fields.push(field);
                rest = tail;
            }
            assert_eq!(fields[2], "IN", "{line}");
            out.push((fields[3].to_string(), rest.to_string()));
        }
    }
    out
}

fn parse(rtype: Rtype, text: &str) -> RData {
    let origin = Name::parse("sovereign.").unwrap();
    RData::parse_str(rtype, text, Some(&origin)).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn documented_examples_print_as_documented() {
    let entries = doc_entries("zone");
    let mut seen = Vec::new();
    for (type_text, rdata) in &entries {
        let rtype = Rtype::from_mnemonic(type_text.as_bytes()).unwrap();
        assert!((65281..=65293).contains(&rtype.0), "{type_text}");
        assert_round_trip(rtype, rdata, None);
        seen.push(rtype.0);
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(
        seen,
        (65281..=65293).collect::<Vec<_>>(),
        "one example per type"
    );
}

#[test]
fn documented_generic_form() {
    let generic = doc_entries("generic");
    let (type_text, rdata) = generic.first().unwrap();
    let rtype = Rtype::from_mnemonic(type_text.as_bytes()).unwrap();
    assert_eq!(rtype, Rtype::MESH);
    let (_, typed) = doc_entries("zone")
        .into_iter()
        .find(|(t, _)| t == "MESH")
        .unwrap();
    let from_generic = parse(rtype, rdata);
    assert_eq!(from_generic, parse(Rtype::MESH, &typed));
    assert_eq!(from_generic.to_string(), typed);
    assert_eq!(from_generic.to_generic_string().unwrap(), *rdata);
    // As BIND 9.18's named-compilezone prints it back: hex broken into chunks.
    let bind = r"\# 29 000A00640110F17E90F8B9563E3A6169CBB3E62D0B8E0124750A2A01 05";
    assert_eq!(parse(rtype, bind), from_generic);
}

#[test]
fn mesh_endpoints() {
    let wire = assert_round_trip(Rtype::MESH, "10 100 QUIC 7F3A8B2C 10.42.1.5:9333", None);
    assert_eq!(
        wire,
        [
            0, 10, 0, 100, 1, 4, 0x7f, 0x3a, 0x8b, 0x2c, 1, 0x24, 0x75, 10, 42, 1, 5
        ]
    );
    assert_round_trip(
        Rtype::MESH,
        "1 0 quic 7f3a8b2c [FD00:42:0:0::5]:443",
        Some("1 0 QUIC 7F3A8B2C [fd00:42::5]:443"),
    );
    // A relative host is completed with the origin; the name is written uncompressed and
    // keeps its case.
    let wire = assert_round_trip(
        Rtype::MESH,
        "1 0 TCP 01 Node1:53",
        Some("1 0 TCP 01 Node1.example.:53"),
    );
    assert!(wire.ends_with(b"\x03\x00\x35\x05Node1\x07example\x00"));
    assert_round_trip(Rtype::MESH, "1 0 9 01 1.2.3.4.:53", None);
    assert_round_trip(Rtype::MESH, "65535 65535 250 01 [::]:0", None);
    let max_id = "AB".repeat(255);
    assert_round_trip(Rtype::MESH, &format!("0 0 QUIC {max_id} 10.0.0.1:1"), None);
    assert_round_trip(Rtype::WEB4MESH, "0 1 UDP \"h3\" [2001:db8::1]:8443", None);
    assert_round_trip(
        Rtype::WEB4MESH,
        "5 5 QUIC zhtp @:9333",
        Some("5 5 QUIC \"zhtp\" example.:9333"),
    );
    assert_round_trip(Rtype::WEB4DHT, "IPFS 1220AA 192.0.2.7:4001", None);
    assert_round_trip(Rtype::WEB4DHT, "7 01 [2001:db8::7]:4001", None);
}

#[test]
fn mesh_rejects() {
    for text in [
        "10 100 QUIC 7F3A8B2C 10.42.1.5",
        "10 100 QUIC 7F3A8B2C 10.42.1.5:65536",
        "10 100 QUIC 7F3A8B2C 10.42.1.5:",
        "10 100 QUIC 7F3A8B2C [fd00::1:9333",
        "10 100 QUIC 7F3A8B2C [fd00::g]:9333",
        "10 100 QUIC 7F3A8B2 10.42.1.5:9333",
        "10 100 QUIC XX 10.42.1.5:9333",
        "10 100 QUIC - 10.42.1.5:9333",
        "10 100 RAW 7F3A8B2C 10.42.1.5:9333",
        "10 100 QUIC 7F3A8B2C 10.42.1.5:9333 extra",
        "10 100 QUIC 7F3A8B2C",
    ] {
        assert_text_rejected(Rtype::MESH, text);
    }
    let too_long = "AB".repeat(256);
    assert!(
        assert_text_rejected(Rtype::MESH, &format!("0 0 QUIC {too_long} 10.0.0.1:1"))
            .contains("1 to 255 bytes")
    );
    assert_text_rejected(Rtype::WEB4MESH, "1 1 QUIC \"\" 10.0.0.1:1");
    assert_text_rejected(Rtype::WEB4DHT, "ZHTP 01 10.0.0.1");
    // Empty node id, unknown endpoint kind, truncated address, trailing byte.
    assert_wire_rejected(Rtype::MESH, &[0, 1, 0, 1, 1, 0, 1, 0, 53, 10, 0, 0, 1]);
    assert_wire_rejected(Rtype::MESH, &[0, 1, 0, 1, 1, 1, 9, 4, 0, 53, 10, 0, 0, 1]);
    assert_wire_rejected(Rtype::MESH, &[0, 1, 0, 1, 1, 1, 9, 2, 0, 53, 10, 0, 0, 1]);
    assert_wire_rejected(
        Rtype::MESH,
        &[0, 1, 0, 1, 1, 1, 9, 1, 0, 53, 10, 0, 0, 1, 0],
    );
    // Names in ZDNS data may not be compressed.
    assert_wire_rejected(Rtype::WEB4DHT, &[1, 1, 9, 3, 0, 53, 0xc0, 0]);
    assert_wire_rejected(Rtype::WEB4MESH, &[0, 1, 0, 1, 1, 0, 1, 0, 53, 10, 0, 0, 1]);
}

#[test]
fn proofs() {
    let proof = base64_string(&[0x5a; 256]);
    assert_round_trip(Rtype::ZK, &format!("PLONK 00 {proof}"), None);
    assert_round_trip(Rtype::ZK, &format!("99 ABCD {proof}"), None);
    // Base64 may be split across lines and tokens.
    assert_round_trip(
        Rtype::ZK,
        "halo2 01 ( AAEC AwQF )",
        Some("HALO2 01 AAECAwQF"),
    );
    assert_round_trip(
        Rtype::WEB4OWNER,
        &format!("STARK 1768608000 0102 {proof}"),
        Some(&format!("STARK 20260117000000 0102 {proof}")),
    );
    assert_text_rejected(Rtype::ZK, "GROTH16 01");
    assert_text_rejected(Rtype::ZK, "GROTH16 01 ====");
    assert_text_rejected(Rtype::ZK, "GROTH16 AAECAwQF");
    assert_text_rejected(Rtype::WEB4OWNER, "GROTH16 2026-01-17 01 AAECAwQF");
    assert_text_rejected(Rtype::WEB4OWNER, "GROTH16 20261317000000 01 AAECAwQF");
    assert_wire_rejected(Rtype::ZK, &[1, 1, 0xaa]);
    assert_wire_rejected(Rtype::ZK, &[1, 0, 0xaa]);
    assert_wire_rejected(Rtype::ZK, &[1, 5, 0xaa]);
    assert_wire_rejected(Rtype::WEB4OWNER, &[1, 0, 0, 0, 1, 1, 0xaa]);
    assert_wire_rejected(Rtype::WEB4OWNER, &[1, 0, 0, 0, 1, 0, 0xaa]);
}

#[test]
fn identities() {
    let ed448 = base64_string(&[7; 57]);
    assert_round_trip(
        Rtype::ID,
        &format!("assert ED448 did:zhtp:alice {ed448}"),
        Some(&format!("ASSERT ED448 \"did:zhtp:alice\" {ed448}")),
    );
    let mlkem = base64_string(&[3; 1184]);
    assert_round_trip(
        Rtype::ID,
        &format!("AGREE MLKEM768 \"did:zhtp:alice#kem\" {mlkem}"),
        None,
    );
    let mldsa = base64_string(&[9; 1952]);
    assert_round_trip(
        Rtype::ID,
        &format!("INVOKE MLDSA65 \"acct:7f3a\" {mldsa}"),
        None,
    );
    // Unregistered values are kept and carry no restriction.
    assert_round_trip(Rtype::ID, "AGREE 99 \"x\" AQ==", None);
    assert_round_trip(
        Rtype::ID,
        "9 MLKEM512 \"x\" AQ==",
        Some("9 MLKEM512 \"x\" AQ=="),
    );
    assert!(assert_text_rejected(Rtype::ID, "AUTH MLKEM768 \"x\" AQ==").contains("AGREE"));
    assert!(assert_text_rejected(Rtype::ID, "AGREE ED25519 \"x\" AQ==").contains("key-agreement"));
    assert_text_rejected(Rtype::ID, "AUTH ED25519 \"\" AQ==");
    assert_text_rejected(Rtype::ID, "AUTH ED25519 \"x\"");
    assert_text_rejected(Rtype::ID, "OWNER ED25519 \"x\" AQ==");
    assert_wire_rejected(Rtype::ID, &[1, 15, 1, b'x']);
    assert_wire_rejected(Rtype::ID, &[1, 15, 0, 1]);
    assert_wire_rejected(Rtype::ID, &[1, 212, 1, b'x', 1]);
}

#[test]
fn multisig() {
    let k = |b: u8| hex_string(&[b; 32]);
    assert_round_trip(Rtype::MULTISIG, &format!("1 ED25519 {}", k(1)), None);
    let wire = assert_round_trip(
        Rtype::MULTISIG,
        &format!("3 ed25519 {} mldsa87 {} 200 {}", k(1), k(2), k(3)),
        Some(&format!(
            "3 ED25519 {} MLDSA87 {} MLDSA44 {}",
            k(1),
            k(2),
            k(3)
        )),
    );
    assert_eq!(wire.len(), 1 + 3 * 34);
    // The same key identifier under two algorithms is two signers.
    assert_round_trip(
        Rtype::MULTISIG,
        &format!("2 ED25519 {} ED448 {}", k(1), k(1)),
        None,
    );
    let many: String = (0..=254u8).map(|i| format!(" 15 {i:02X}")).collect();
    let printed: String = (0..=254u8).map(|i| format!(" ED25519 {i:02X}")).collect();
    assert_round_trip(
        Rtype::MULTISIG,
        &format!("255{many}"),
        Some(&format!("255{printed}")),
    );
    assert!(
        assert_text_rejected(Rtype::MULTISIG, &format!("256{many} 15 FF")).contains("threshold")
    );
    assert!(
        assert_text_rejected(Rtype::MULTISIG, &format!("2 ED25519 {}", k(1)))
            .contains("exceeds the number of signers")
    );
    assert!(
        assert_text_rejected(Rtype::MULTISIG, &format!("0 ED25519 {}", k(1)))
            .contains("at least 1")
    );
    assert!(
        assert_text_rejected(
            Rtype::MULTISIG,
            &format!("1 ED25519 {} ED25519 {}", k(1), k(1))
        )
        .contains("twice")
    );
    assert!(
        assert_text_rejected(Rtype::MULTISIG, &format!("1 X25519 {}", k(1)))
            .contains("cannot sign")
    );
    assert_text_rejected(Rtype::MULTISIG, "1");
    assert_text_rejected(Rtype::MULTISIG, "1 ED25519");
    assert_wire_rejected(Rtype::MULTISIG, &[1]);
    assert_wire_rejected(Rtype::MULTISIG, &[2, 15, 1, 0xaa]);
    assert_wire_rejected(Rtype::MULTISIG, &[0, 15, 1, 0xaa]);
    assert_wire_rejected(Rtype::MULTISIG, &[1, 15, 0]);
    assert_wire_rejected(Rtype::MULTISIG, &[1, 15, 2, 0xaa]);
    assert_wire_rejected(Rtype::MULTISIG, &[1, 15, 1, 0xaa, 15]);
}

#[test]
fn post_quantum_signatures() {
    // Full-size ML-DSA-65 signature (3309 bytes, FIPS 204).
    let sig = base64_string(&(0..3309u32).map(|i| (i * 7) as u8).collect::<Vec<_>>());
    let text = format!("AAAA MLDSA65 3 3600 20260217000000 20260117000000 40312 Sovereign. {sig}");
    let wire = assert_round_trip(Rtype::PQS, &text, None);
    assert_eq!(wire.get(..4), Some(&[0, 28, 201, 3][..]));
    assert_eq!(wire.len(), 18 + 11 + 3309);
    // As RRSIG: seconds are accepted, the TTL may have units, unknown types covered.
    assert_round_trip(
        Rtype::PQS,
        "TYPE65286 mldsa44 0 1h 1771286400 1768608000 0 . AQID",
        Some("CONTENT MLDSA44 0 3600 20260217000000 20260117000000 0 . AQID"),
    );
    assert_round_trip(
        Rtype::PQS,
        "TYPE65280 250 1 0 21060207062815 19700101000000 65535 a.example. AQID",
        None,
    );
    // The signed data starts with the record data, signer name in lower case.
    let RData::Pqs(pqs) = parse(Rtype::PQS, &text) else {
        panic!("not PQS")
    };
    let pqs: Pqs = *pqs;
    let prefix = pqs.signed_data_prefix().unwrap();
    assert_eq!(prefix.get(18..), Some(&b"\x09sovereign\x00"[..]));
    assert!(wire.starts_with(prefix.get(..18).unwrap()));
    assert_eq!(pqs.signature().len(), 3309);

    assert!(
        assert_text_rejected(
            Rtype::PQS,
            "A MLKEM768 2 300 20260217000000 20260117000000 1 sovereign. AQID"
        )
        .contains("cannot sign")
    );
    assert_text_rejected(
        Rtype::PQS,
        "A MLDSA65 2 300 20260217000000 20260117000000 1 sovereign.",
    );
    assert_text_rejected(
        Rtype::PQS,
        "BOGUS MLDSA65 2 300 20260217000000 20260117000000 1 sovereign. AQID",
    );
    assert_text_rejected(
        Rtype::PQS,
        "A MLDSA65 2 300 20260230000000 20260117000000 1 sovereign. AQID",
    );
    assert_text_rejected(
        Rtype::PQS,
        "A MLDSA65 256 300 20260217000000 20260117000000 1 sovereign. AQID",
    );
    let mut w = vec![0, 1, 201, 2, 0, 0, 1, 44, 0, 0, 0, 2, 0, 0, 0, 1, 0, 1, 0];
    assert_wire_rejected(Rtype::PQS, &w);
    w.push(0xaa);
    assert_round_trip(
        Rtype::PQS,
        &RData::parse_wire(Rtype::PQS, &mut crate::wire::WireReader::new(&w))
            .unwrap()
            .to_string(),
        None,
    );
    w[2] = 211;
    assert_wire_rejected(Rtype::PQS, &w);
    assert_wire_rejected(Rtype::PQS, &w[..10]);
}

#[test]
fn governance() {
    assert_round_trip(
        Rtype::DAO,
        "quadratic 0.01% 100% 7d 0 dao.sovereign",
        Some("QUADRATIC 0.01% 100% 604800 0 \"dao.sovereign\""),
    );
    assert_round_trip(Rtype::DAO, "COUNCIL 66.67% 66.67% 1 4294967295 \"c\"", None);
    assert!(assert_text_rejected(Rtype::DAO, "TOKEN 20% 50% 0 0 \"d\"").contains("voting period"));
    assert_text_rejected(Rtype::DAO, "TOKEN 20 50% 1 0 \"d\"");
    assert_text_rejected(Rtype::DAO, "TOKEN 101% 50% 1 0 \"d\"");
    assert_text_rejected(Rtype::DAO, "TOKEN 20% 50% 1 0 \"\"");
    assert_text_rejected(Rtype::DAO, "TOKEN 20% 50% 1 0");
    assert_wire_rejected(
        Rtype::DAO,
        &[1, 0x27, 0x11, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, b'd'],
    );
    assert_wire_rejected(
        Rtype::DAO,
        &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, b'd'],
    );

    let wire = assert_round_trip(Rtype::ECON, "0 0 365d ZHTP", Some("0 0 31536000 \"ZHTP\""));
    assert_eq!(wire.len(), 8 + 8 + 4 + 5);
    assert_round_trip(
        Rtype::ECON,
        "18446744073709551615 1 1 \"USDC\" 100% \"alice\"",
        None,
    );
    assert!(
        assert_text_rejected(Rtype::ECON, "1 1 1 \"Z\" 60% \"a\" 40.01% \"b\"")
            .contains("more than 100%")
    );
    assert!(assert_text_rejected(Rtype::ECON, "1 1 1 \"Z\" 50% \"a\" 50% \"a\"").contains("twice"));
    assert!(assert_text_rejected(Rtype::ECON, "1 1 1 \"Z\" 0% \"a\"").contains("0%"));
    assert_text_rejected(Rtype::ECON, "1 1 1 \"Z\" 50%");
    assert_text_rejected(Rtype::ECON, "1 1 1 \"Z\" 50% \"\"");
    assert_text_rejected(Rtype::ECON, "1 1 1 \"\"");
    assert_text_rejected(Rtype::ECON, "18446744073709551616 1 1 \"Z\"");
    let mut w = vec![0; 20];
    w.extend([1, b'Z', 0x27, 0x10, 1, b'a']);
    assert_round_trip(
        Rtype::ECON,
        &RData::parse_wire(Rtype::ECON, &mut crate::wire::WireReader::new(&w))
            .unwrap()
            .to_string(),
        None,
    );
    w.push(0);
    assert_wire_rejected(Rtype::ECON, &w);
}

#[test]
fn content() {
    // CIDv1 raw-codec blake3 (variable length: 32 bytes here).
    let mut raw = vec![0x01, 0x55, 0x1e, 0x20];
    raw.extend([0x42; 32]);
    let hex = hex_string(&raw);
    let data = parse(Rtype::CONTENT, &format!("IPFS f{hex}"));
    let printed = data.to_string();
    assert!(printed.starts_with("IPFS bafkr"), "{printed}");
    assert_round_trip(Rtype::CONTENT, &printed, None);
    assert_round_trip(
        Rtype::CONTENT,
        "ipfs zdj7Wic6KcJAfWz1c9o4M6kq9Lwd5BfbxkVafnrojaaGiSFxM",
        Some("IPFS bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"),
    );
    assert_text_rejected(Rtype::CONTENT, "IPFS");
    assert_text_rejected(Rtype::CONTENT, "IPFS Qm");
    assert_text_rejected(
        Rtype::CONTENT,
        "IPFS bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzd",
    );
    assert_text_rejected(
        Rtype::CONTENT,
        &format!("IPFS f{}", hex_string(&[0x12, 0x20])),
    );
    assert_wire_rejected(Rtype::CONTENT, &[2]);
    assert_wire_rejected(Rtype::CONTENT, &[2, 0x01, 0x55, 0x12, 0x01, 0xaa]);

    let sha512 = hex_string(&[0xee; 64]);
    assert_round_trip(
        Rtype::WEB4CONTENT,
        &format!("sha512 /a/b.css \"\" {sha512}"),
        Some(&format!("SHA512 \"/a/b.css\" \"\" {sha512}")),
    );
    assert_round_trip(
        Rtype::WEB4CONTENT,
        "77 \"/\" \"application/octet-stream\" 01",
        None,
    );
    assert_round_trip(
        Rtype::WEB4CONTENT,
        "BLAKE3 \"/\" \"text/plain\" ( 0000000000000000000000000000000000000000000000000000000000000000 )",
        Some(&format!("BLAKE3 \"/\" \"text/plain\" {}", "0".repeat(64))),
    );
    assert!(
        assert_text_rejected(Rtype::WEB4CONTENT, &format!("SHA256 \"/\" \"\" {sha512}"))
            .contains("digest length")
    );
    assert_text_rejected(Rtype::WEB4CONTENT, "SHA256 \"index.html\" \"\" 00");
    assert_text_rejected(Rtype::WEB4CONTENT, "77 \"/\" \"\"");
    assert_wire_rejected(Rtype::WEB4CONTENT, &[77, 1, b'/', 0]);
    assert_wire_rejected(Rtype::WEB4CONTENT, &[77, 1, b'x', 0, 1]);
    assert_wire_rejected(Rtype::WEB4CONTENT, &[1, 1, b'/', 0, 1]);

    assert_round_trip(
        Rtype::WEB4,
        "0 0 1 \"o\"",
        Some("0 19700101000000 19700101000001 \"o\""),
    );
    assert_round_trip(
        Rtype::WEB4,
        "65535 20260117000000 21060207062815 \"acct:1\" \"k=\" \"a=b=c\"",
        None,
    );
    assert!(
        assert_text_rejected(Rtype::WEB4, "0 20270117000000 20260117000000 \"o\"")
            .contains("after the registration")
    );
    assert_text_rejected(Rtype::WEB4, "0 1 2 \"o\" \"=v\"");
    assert_text_rejected(Rtype::WEB4, "0 1 2 \"o\" \"novalue\"");
    assert_text_rejected(Rtype::WEB4, "0 1 2 \"\"");
    assert_text_rejected(Rtype::WEB4, "65536 1 2 \"o\"");
    assert_wire_rejected(Rtype::WEB4, &[0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 1, b'o']);
    assert_wire_rejected(
        Rtype::WEB4,
        &[0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 1, b'o', 1, b'x'],
    );
}

#[test]
fn generic_form_decodes_to_typed_data() {
    let data = parse(Rtype::WEB4DHT, r"\# 10 01 01AA 01 0FA1 C0000207");
    assert_eq!(data.to_string(), "ZHTP AA 192.0.2.7:4001");
    // Generic data that the type rejects is rejected.
    assert!(
        assert_text_rejected(Rtype::MULTISIG, r"\# 4 02 0F 01 AA").contains("not valid MULTISIG")
    );
}
