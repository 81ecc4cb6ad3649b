//! TSIG outcomes: good signatures, every failure of RFC 8945 §5.2, error responses,
//! multi-message streams, key files, and vectors produced by dnspython.

use super::message::{self, TsigRecord};
use super::*;
use crate::encoding::hex_decode;
use crate::name::Name;
use crate::types::Rcode;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const NOW: u64 = 1_700_000_000;

fn hex(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    hex_decode(s.as_bytes(), &mut out).unwrap();
    out
}

fn key(name: &str, algorithm: Algorithm) -> TsigKey {
    TsigKey::new(Name::parse(name).unwrap(), algorithm, SECRET.to_vec()).unwrap()
}

fn ring(keys: Vec<TsigKey>) -> Keyring {
    keys.into_iter().collect()
}

/// `example.com. IN A`, ID 0x1234, RD.
fn query() -> Vec<u8> {
    hex("123401000001000000000000076578616d706c6503636f6d0000010001")
}

/// A response to [`query`] with one A record.
fn response() -> Vec<u8> {
    hex("123485000001000100000000076578616d706c6503636f6d0000010001\
         c00c000100010000012c0004c0000201")
}

/// The message with its TSIG record rewritten by `f`.
fn retsig(msg: &[u8], f: impl FnOnce(&mut TsigRecord)) -> Vec<u8> {
    let located = message::locate(msg).unwrap().unwrap();
    let mut bare = msg[..located.start].to_vec();
    let (_, ar) = message::id_and_arcount(&bare).unwrap();
    bare[10..12].copy_from_slice(&(ar - 1).to_be_bytes());
    let mut record = located.record;
    f(&mut record);
    message::append(&bare, &record).unwrap()
}

// dnspython 2.9 `use_tsig` output at time 1700000000, key `Key.Example.` (mixed case:
// the digest lowercases it), hmac-sha256, and its signed response.
const DNSPYTHON_QUERY: &str = "123401000001000000000001076578616d706c6503636f6d0000010001\
    034b6579074578616d706c650000fa00ff00000000003d0b686d61632d7368613235360000006553f100\
    012c0020f8387721e81429c197ba40b90eb40ecf82535d27f24088b9e8cf87b9441534dc123400000000";
const DNSPYTHON_RESPONSE: &str = "123485000001000100000001076578616d706c6503636f6d00000100\
    01c00c000100010000012c0004c0000201034b6579074578616d706c650000fa00ff00000000003d0b68\
    6d61632d7368613235360000006553f100012c00207f50eccf404a225e428f894e2ea541e99747fcea53\
    695e0b9ae2213408ab880b123400000000";
const DNSPYTHON_SHA1_QUERY: &str = "123401000001000000000001076578616d706c6503636f6d000001\
    0001036b6579076578616d706c650000fa00ff00000000002f09686d61632d736861310000006553f100\
    012c00142972d7399a874f35cb6b8885a73d3584013b1f38123400000000";

#[test]
fn dnspython_vectors() {
    let k = key("Key.Example.", Algorithm::HmacSha256);
    let signed = sign_request(&query(), &k, NOW, 300).unwrap();
    assert_eq!(signed.message, hex(DNSPYTHON_QUERY));
    let v = verify_request(&hex(DNSPYTHON_QUERY), &ring(vec![k.clone()]), NOW).unwrap();
    assert_eq!(v.record.key_name.to_string(), "Key.Example.");
    assert_eq!(v.mac(), signed.mac.as_slice());
    // Our response over the same request equals dnspython's.
    let ours = v.sign_response(&response(), NOW, 300).unwrap();
    assert_eq!(ours.message, hex(DNSPYTHON_RESPONSE));
    verify_response(&hex(DNSPYTHON_RESPONSE), &k, v.mac(), NOW).unwrap();
    // The key name is found case-insensitively.
    let lower = key("key.example.", Algorithm::HmacSha256);
    verify_request(&hex(DNSPYTHON_QUERY), &ring(vec![lower]), NOW).unwrap();
}

#[test]
fn sha1_verifies_but_does_not_sign() {
    let k = key("key.example.", Algorithm::HmacSha1);
    verify_request(&hex(DNSPYTHON_SHA1_QUERY), &ring(vec![k.clone()]), NOW).unwrap();
    let e = sign_request(&query(), &k, NOW, 300).unwrap_err();
    assert_eq!(e, TsigError::SigningRefused(Algorithm::HmacSha1));
    assert!(e.to_string().contains("verification only"));
    assert!(sign_response(&response(), &k, &[1; 20], NOW, 300).is_err());
    assert!(StreamSigner::new(k, &[1; 20], 300).is_err());
}

#[test]
fn every_signing_algorithm_round_trips() {
    for alg in Algorithm::ALL.into_iter().filter(|a| a.can_sign()) {
        let k = key("k.", alg);
        assert_eq!(Algorithm::from_name(&alg.name()), Some(alg));
        let req = sign_request(&query(), &k, NOW, 300).unwrap();
        assert_eq!(req.mac.len(), alg.output_len());
        let v = verify_request(&req.message, &ring(vec![k.clone()]), NOW).unwrap();
        let resp = v.sign_response(&response(), NOW + 1, 300).unwrap();
        let rv = verify_response(&resp.message, &k, &req.mac, NOW + 2).unwrap();
        assert_eq!(rv.mac(), resp.mac.as_slice());
        // A response must be verified over the request MAC.
        assert!(matches!(
            verify_response(&resp.message, &k, &[0; 32], NOW),
            Err(VerifyError::BadSig(_))
        ));
    }
    assert_eq!(
        Algorithm::from_name(&Name::parse("HMAC-SHA384.").unwrap()),
        Some(Algorithm::HmacSha384)
    );
    assert_eq!(
        Algorithm::from_name(&Name::parse("hmac-md5.sig-alg.reg.int.").unwrap()),
        None
    );
}

#[test]
fn badsig_on_any_mac_byte_or_message_byte() {
    let k = key("k.", Algorithm::HmacSha256);
    let keys = ring(vec![k.clone()]);
    let req = sign_request(&query(), &k, NOW, 300).unwrap();
    for i in 0..req.mac.len() {
        let bad = retsig(&req.message, |r| r.data.mac[i] ^= 0x01);
        assert!(
            matches!(
                verify_request(&bad, &keys, NOW),
                Err(VerifyError::BadSig(_))
            ),
            "MAC byte {i}"
        );
    }
    // The question name, the flags, the time, the fudge and the original ID are covered.
    for at in [2, 13, 19] {
        let mut bad = req.message.clone();
        bad[at] ^= 0x20;
        let r = verify_request(&bad, &keys, NOW);
        assert!(matches!(r, Err(VerifyError::BadSig(_))), "{at}: {r:?}");
    }
    for change in [
        (|r: &mut TsigRecord| r.data.fudge += 1) as fn(&mut TsigRecord),
        |r| r.data.original_id ^= 1,
        |r| r.data.time_signed = crate::rdata::Time48::new(NOW + 1).unwrap(),
        |r| r.data.other = vec![0],
    ] {
        let bad = retsig(&req.message, change);
        assert!(matches!(
            verify_request(&bad, &keys, NOW),
            Err(VerifyError::BadSig(_))
        ));
    }
    // Case of the key name and algorithm name is not covered (canonical form).
    let upper = retsig(&req.message, |r| {
        r.key_name = Name::parse("K.").unwrap();
        r.data.algorithm = Name::parse("HMAC-SHA256.").unwrap();
    });
    verify_request(&upper, &keys, NOW).unwrap();
    // A different secret.
    let other = TsigKey::new(Name::parse("k.").unwrap(), Algorithm::HmacSha256, vec![1]).unwrap();
    assert!(matches!(
        verify_request(&req.message, &ring(vec![other]), NOW),
        Err(VerifyError::BadSig(_))
    ));
}

#[test]
fn badkey() {
    let k = key("k.", Algorithm::HmacSha256);
    let req = sign_request(&query(), &k, NOW, 300).unwrap();
    for keys in [
        ring(vec![]),
        ring(vec![key("other.", Algorithm::HmacSha256)]),
        ring(vec![key("k.", Algorithm::HmacSha512)]),
    ] {
        let e = verify_request(&req.message, &keys, NOW).unwrap_err();
        assert!(matches!(e, VerifyError::BadKey(_)));
        assert_eq!(e.tsig_error(), Some(Rcode::BADKEY));
        assert_eq!(e.rcode(), Rcode::NOTAUTH);
    }
    let md5 = retsig(&req.message, |r| {
        r.data.algorithm = Name::parse("hmac-md5.sig-alg.reg.int.").unwrap();
    });
    assert!(matches!(
        verify_request(&md5, &ring(vec![k.clone()]), NOW),
        Err(VerifyError::BadKey(_))
    ));
    // A response from another key.
    assert!(matches!(
        verify_response(&req.message, &key("x.", Algorithm::HmacSha256), &[], NOW),
        Err(VerifyError::BadKey(_))
    ));
}

#[test]
fn badtime_both_sides_of_the_fudge() {
    let k = key("k.", Algorithm::HmacSha256);
    let keys = ring(vec![k.clone()]);
    let req = sign_request(&query(), &k, NOW, 300).unwrap();
    verify_request(&req.message, &keys, NOW + 300).unwrap();
    verify_request(&req.message, &keys, NOW - 300).unwrap();
    for now in [NOW + 301, NOW - 301, 0, u64::MAX] {
        let e = verify_request(&req.message, &keys, now).unwrap_err();
        assert!(matches!(e, VerifyError::BadTime(_)), "{now}: {e}");
    }
    // The MAC is checked before the time: a bad MAC out of time is BADSIG.
    let bad = retsig(&req.message, |r| r.data.mac[0] ^= 1);
    assert!(matches!(
        verify_request(&bad, &keys, NOW + 1000),
        Err(VerifyError::BadSig(_))
    ));
    let zero_fudge = sign_request(&query(), &k, NOW, 0).unwrap();
    verify_request(&zero_fudge.message, &keys, NOW).unwrap();
    assert!(verify_request(&zero_fudge.message, &keys, NOW + 1).is_err());
    assert_eq!(
        sign_request(&query(), &k, 1 << 48, 300),
        Err(TsigError::TimeOutOfRange(1 << 48))
    );
}

#[test]
fn truncated_macs() {
    let full = key("k.", Algorithm::HmacSha256);
    let short = full.clone().with_mac_len(16).unwrap();
    assert!(full.clone().with_mac_len(15).is_err());
    assert!(full.clone().with_mac_len(33).is_err());
    // HMAC-SHA1: half is 10 bytes, so 10 is the floor; HMAC-SHA224: 14.
    assert_eq!(Algorithm::HmacSha1.min_mac_len(), 10);
    assert_eq!(Algorithm::HmacSha224.min_mac_len(), 14);
    assert_eq!(Algorithm::HmacSha512.min_mac_len(), 32);

    let req = sign_request(&query(), &short, NOW, 300).unwrap();
    assert_eq!(req.mac.len(), 16);
    verify_request(&req.message, &ring(vec![short.clone()]), NOW).unwrap();
    // A key that wants full MACs answers BADTRUNC, after the MAC and time checks.
    let e = verify_request(&req.message, &ring(vec![full.clone()]), NOW).unwrap_err();
    assert!(matches!(e, VerifyError::BadTrunc(_)), "{e}");
    assert!(matches!(
        verify_request(&req.message, &ring(vec![full.clone()]), NOW + 301),
        Err(VerifyError::BadTime(_))
    ));
    // Shorter than half the hash, longer than the hash, or empty: FORMERR.
    let full_req = sign_request(&query(), &full, NOW, 300).unwrap();
    for len in [0, 10, 15] {
        let cut = retsig(&full_req.message, |r| r.data.mac.truncate(len));
        let e = verify_request(&cut, &ring(vec![short.clone()]), NOW).unwrap_err();
        assert_eq!(e.rcode(), Rcode::FORMERR, "{len}: {e}");
    }
    let long = retsig(&full_req.message, |r| r.data.mac.push(0));
    assert_eq!(
        verify_request(&long, &ring(vec![full.clone()]), NOW)
            .unwrap_err()
            .rcode(),
        Rcode::FORMERR
    );
    // A truncated MAC that is wrong is still BADSIG.
    let wrong = retsig(&req.message, |r| r.data.mac[15] ^= 1);
    assert!(matches!(
        verify_request(&wrong, &ring(vec![short]), NOW),
        Err(VerifyError::BadSig(_))
    ));
}

#[test]
fn format_errors() {
    let k = key("k.", Algorithm::HmacSha256);
    let keys = ring(vec![k.clone()]);
    assert_eq!(
        verify_request(&query(), &keys, NOW),
        Err(VerifyError::Unsigned)
    );
    let req = sign_request(&query(), &k, NOW, 300).unwrap().message;
    // Two TSIG records.
    let twice = sign_request(&req, &k, NOW, 300).unwrap().message;
    assert!(matches!(
        verify_request(&twice, &keys, NOW),
        Err(VerifyError::Malformed(_))
    ));
    // A record after the TSIG.
    let mut after = req.clone();
    after[11] += 1;
    after.extend_from_slice(&hex("00000100010000012c0004c0000201"));
    assert!(matches!(
        verify_request(&after, &keys, NOW),
        Err(VerifyError::Malformed(_))
    ));
    // TSIG counted in the answer section.
    let mut in_answer = req.clone();
    in_answer[7] = 1;
    in_answer[11] = 0;
    assert!(matches!(
        verify_request(&in_answer, &keys, NOW),
        Err(VerifyError::Malformed(_))
    ));
    // Trailing bytes, truncation anywhere, class other than ANY.
    let mut trailing = req.clone();
    trailing.push(0);
    assert!(matches!(
        verify_request(&trailing, &keys, NOW),
        Err(VerifyError::Malformed(_))
    ));
    for cut in 0..req.len() {
        assert!(verify_request(&req[..cut], &keys, NOW).is_err());
    }
    let at = message::locate(&req).unwrap().unwrap().start + 3 + 2;
    let mut class_in = req.clone();
    class_in[at + 1] = 1;
    assert_eq!(
        verify_request(&class_in, &keys, NOW),
        Err(VerifyError::Malformed("TSIG record class is not ANY"))
    );
    assert!(sign_request(&[0; 11], &k, NOW, 300).is_err());
}

#[test]
fn error_responses() {
    let k = key("k.", Algorithm::HmacSha256);
    let req = sign_request(&query(), &k, NOW, 300).unwrap();

    // BADKEY: unsigned TSIG with the error, RCODE NOTAUTH.
    let e = verify_request(&req.message, &ring(vec![]), NOW).unwrap_err();
    let resp = error_response(&req.message, &e, NOW, 300).unwrap();
    assert_eq!(resp[..2], [0x12, 0x34]);
    assert_eq!(resp[2] & 0x80, 0x80);
    assert_eq!(resp[3] & 0x0f, 9);
    let rec = message::locate(&resp).unwrap().unwrap().record;
    assert!(rec.data.mac.is_empty());
    assert_eq!(rec.data.error, Rcode::BADKEY);
    assert_eq!(
        verify_response(&resp, &k, &req.mac, NOW),
        Err(VerifyError::Peer {
            error: Rcode::BADKEY,
            other: Vec::new()
        })
    );

    // BADSIG: likewise unsigned.
    let bad = retsig(&req.message, |r| r.data.mac[0] ^= 1);
    let e = verify_request(&bad, &ring(vec![k.clone()]), NOW).unwrap_err();
    let resp = error_response(&bad, &e, NOW, 300).unwrap();
    assert!(matches!(
        verify_response(&resp, &k, &req.mac, NOW),
        Err(VerifyError::Peer {
            error: Rcode::BADSIG,
            ..
        })
    ));

    // BADTIME: signed over the request MAC, request time, server time in other data.
    let late = NOW + 1000;
    let e = verify_request(&req.message, &ring(vec![k.clone()]), late).unwrap_err();
    let resp = error_response(&req.message, &e, late, 300).unwrap();
    let rec = message::locate(&resp).unwrap().unwrap().record;
    assert_eq!(rec.data.time_signed.secs(), NOW);
    assert_eq!(rec.data.other, late.to_be_bytes()[2..].to_vec());
    assert_eq!(rec.data.mac.len(), 32);
    assert_eq!(
        verify_response(&resp, &k, &req.mac, NOW),
        Err(VerifyError::Peer {
            error: Rcode::BADTIME,
            other: late.to_be_bytes()[2..].to_vec()
        })
    );
    // Its MAC is checked: a forged BADTIME is BADSIG.
    let forged = retsig(&resp, |r| r.data.mac[3] ^= 1);
    assert!(matches!(
        verify_response(&forged, &k, &req.mac, NOW),
        Err(VerifyError::BadSig(_))
    ));

    // BADTRUNC: signed.
    let short = k.clone().with_mac_len(16).unwrap();
    let sreq = sign_request(&query(), &short, NOW, 300).unwrap();
    let e = verify_request(&sreq.message, &ring(vec![k.clone()]), NOW).unwrap_err();
    let resp = error_response(&sreq.message, &e, NOW, 300).unwrap();
    assert!(matches!(
        verify_response(&resp, &short, &sreq.mac, NOW),
        Err(VerifyError::Peer {
            error: Rcode::BADTRUNC,
            ..
        })
    ));

    // FORMERR: no TSIG, question kept.
    let e = VerifyError::Malformed("test");
    let resp = error_response(&req.message, &e, NOW, 300).unwrap();
    assert_eq!(resp[3] & 0x0f, 1);
    assert!(message::locate(&resp).unwrap().is_none());
    assert_eq!(resp[12..], query()[12..]);
}

/// Five messages of a zone transfer: signed, unsigned, unsigned, signed, signed.
fn stream(k: &TsigKey, request_mac: &[u8]) -> Vec<Vec<u8>> {
    let mut signer = StreamSigner::new(k.clone(), request_mac, 300).unwrap();
    let mut out = Vec::new();
    for (i, sign) in [true, false, false, true, true].into_iter().enumerate() {
        let mut msg = response();
        let last = msg.len() - 1;
        msg[last] = i as u8;
        if sign {
            out.push(signer.sign(&msg, NOW + i as u64).unwrap().message);
        } else {
            signer.skip(&msg).unwrap();
            out.push(msg);
        }
    }
    out
}

#[test]
fn multi_message_streams() {
    let k = key("k.", Algorithm::HmacSha256);
    let req = sign_request(&query(), &k, NOW, 300).unwrap();
    let msgs = stream(&k, &req.mac);
    let mut v = StreamVerifier::new(k.clone(), &req.mac);
    let kinds: Vec<bool> = msgs
        .iter()
        .map(|m| matches!(v.verify(m, NOW).unwrap(), StreamMessage::Signed(_)))
        .collect();
    assert_eq!(kinds, [true, false, false, true, true]);
    v.finish().unwrap();

    // The first message is an ordinary response.
    verify_response(&msgs[0], &k, &req.mac, NOW).unwrap();
    // Later ones are not.
    assert!(verify_response(&msgs[3], &k, &req.mac, NOW).is_err());

    // A tampered unsigned message breaks the next signature.
    let mut v = StreamVerifier::new(k.clone(), &req.mac);
    v.verify(&msgs[0], NOW).unwrap();
    let mut tampered = msgs[1].clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x80;
    v.verify(&tampered, NOW).unwrap();
    v.verify(&msgs[2], NOW).unwrap();
    assert!(matches!(
        v.verify(&msgs[3], NOW),
        Err(VerifyError::BadSig(_))
    ));

    // Dropping or reordering messages is detected.
    let mut v = StreamVerifier::new(k.clone(), &req.mac);
    v.verify(&msgs[0], NOW).unwrap();
    v.verify(&msgs[2], NOW).unwrap();
    assert!(v.verify(&msgs[3], NOW).is_err());
    let mut v = StreamVerifier::new(k.clone(), &req.mac);
    v.verify(&msgs[0], NOW).unwrap();
    assert!(v.verify(&msgs[4], NOW).is_err());

    // A tampered signed middle message.
    let mut v = StreamVerifier::new(k.clone(), &req.mac);
    for m in &msgs[..3] {
        v.verify(m, NOW).unwrap();
    }
    let bad = retsig(&msgs[3], |r| r.data.mac[0] ^= 1);
    assert!(matches!(v.verify(&bad, NOW), Err(VerifyError::BadSig(_))));

    // Ending unsigned, or starting unsigned.
    let mut v = StreamVerifier::new(k.clone(), &req.mac);
    for m in &msgs[..3] {
        v.verify(m, NOW).unwrap();
    }
    assert_eq!(v.finish(), Err(VerifyError::UnsignedRun));
    let mut v = StreamVerifier::new(k.clone(), &req.mac);
    assert_eq!(v.verify(&msgs[1], NOW), Err(VerifyError::Unsigned));
    let mut s = StreamSigner::new(k.clone(), &req.mac, 300).unwrap();
    assert_eq!(s.skip(&response()), Err(TsigError::UnsignedRun));

    // Time is checked on every signed message.
    let mut v = StreamVerifier::new(k, &req.mac);
    v.verify(&msgs[0], NOW).unwrap();
    v.verify(&msgs[1], NOW).unwrap();
    v.verify(&msgs[2], NOW).unwrap();
    assert!(matches!(
        v.verify(&msgs[3], NOW + 400),
        Err(VerifyError::BadTime(_))
    ));
}

#[test]
fn at_most_99_unsigned_in_a_row() {
    let k = key("k.", Algorithm::HmacSha512);
    let request_mac = [7u8; 64];
    let mut s = StreamSigner::new(k.clone(), &request_mac, 300).unwrap();
    let mut v = StreamVerifier::new(k.clone(), &request_mac);
    v.verify(&s.sign(&response(), NOW).unwrap().message, NOW)
        .unwrap();
    for _ in 0..MAX_UNSIGNED_RUN {
        s.skip(&response()).unwrap();
        assert_eq!(v.verify(&response(), NOW), Ok(StreamMessage::Unsigned));
    }
    assert_eq!(s.skip(&response()), Err(TsigError::UnsignedRun));
    // The 99-message run verifies once signed.
    let signed = s.sign(&response(), NOW).unwrap().message;
    let mut v2 = v_clone_after_run(&k, &request_mac);
    v2.verify(&signed, NOW).unwrap();
    v2.finish().unwrap();
    // The 100th unsigned message is refused.
    assert_eq!(v.verify(&response(), NOW), Err(VerifyError::UnsignedRun));
}

/// A verifier that has seen the first signed message and 99 unsigned ones.
fn v_clone_after_run(k: &TsigKey, request_mac: &[u8]) -> StreamVerifier {
    let mut s = StreamSigner::new(k.clone(), request_mac, 300).unwrap();
    let mut v = StreamVerifier::new(k.clone(), request_mac);
    v.verify(&s.sign(&response(), NOW).unwrap().message, NOW)
        .unwrap();
    for _ in 0..MAX_UNSIGNED_RUN {
        s.skip(&response()).unwrap();
        v.verify(&response(), NOW).unwrap();
    }
    v
}

#[test]
fn key_files() {
    let text = "# generated\nkey \"k1.example\" {\n\talgorithm hmac-sha256;\n\
                \tsecret \"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\";\n};\n\
                /* a\n block */ key k2. { secret \"AAEC\"; algorithm HMAC-SHA512-256; }; // end\n";
    let keys = parse_key_file(text).unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], key("k1.example.", Algorithm::HmacSha256));
    assert_eq!(keys[1].name().to_string(), "k2.");
    assert_eq!(keys[1].algorithm(), Algorithm::HmacSha512);
    assert_eq!(keys[1].mac_len(), 32);
    assert_eq!(keys[1].secret(), [0, 1, 2]);
    assert!(!format!("{:?}", keys[0]).contains("MDEy"));
    assert_eq!(parse_key_file("").unwrap(), Vec::new());

    let err = |t: &str| parse_key_file(t).unwrap_err().to_string();
    assert_eq!(
        err("key \"k\" {\n  algorithm hmac-md5;\n  secret \"AAEC\";\n};"),
        "2:13: unsupported algorithm 'hmac-md5' (hmac-sha1, hmac-sha224, hmac-sha256, \
         hmac-sha384 or hmac-sha512, optionally with -BITS)"
    );
    assert_eq!(
        err("key \"k\" {\n  algorithm hmac-sha256;\n};"),
        "1:5: key has no 'secret'"
    );
    assert_eq!(
        err("key \"k\" { algorithm hmac-sha256; secret \"A!AA\"; };"),
        "1:41: secret is not valid Base64: invalid character"
    );
    assert!(err("key \"k\" { algorithm hmac-sha256; secret \"AAEC; };").contains("1:41"));
    assert!(err("key \"k\" { algorithm hmac-sha256; secret \"AAEC\" };").contains("1:48"));
    assert!(err("key \"k\" { algorithm hmac-sha256; secret \"AAEC\"; }").contains("expected ';'"));
    assert!(err("options { };").starts_with("1:1: expected 'key'"));
    assert!(
        err("key \"k\" { algorithm hmac-sha256-64; secret \"AAEC\"; };").contains("8-byte MAC")
    );
    assert!(err("key \"k\" { algorithm hmac-sha256; algorithm hmac-sha256; };").contains("twice"));
    assert!(err("/* open").contains("unterminated"));
    assert!(err("key \"k\" { secret \"\"; algorithm hmac-sha256; };").contains("empty"));
}
