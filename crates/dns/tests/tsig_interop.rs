//! TSIG against real peers: dig (BIND 9) and kdig (Knot) sign a query, we verify it and
//! answer with a response signed by us, and the peer checks our signature. A response
//! with a corrupted MAC must be rejected by the peer.
//!
//! Without dig/kdig the tests print a notice and pass, unless `ZDNS_REQUIRE_PEERS=1`.
#![cfg(feature = "tsig")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::UdpSocket;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lib_dns::name::Name;
use lib_dns::rdata::RData;
use lib_dns::tsig::{Algorithm, Keyring, TsigKey, VerifyError, error_response, verify_request};
use lib_dns::types::Rtype;

const KEY_NAME: &str = "interop.key.";
/// Base64 of 32 bytes, as `tsig-keygen` makes them.
const SECRET_B64: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Whether `tool` can be run; if not, a notice (or a failure under ZDNS_REQUIRE_PEERS=1).
fn available(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var("ZDNS_REQUIRE_PEERS").as_deref() != Ok("1"),
            "{tool} is required (ZDNS_REQUIRE_PEERS=1) but cannot be run"
        );
        eprintln!("NOTICE: {tool} not found; skipping TSIG interop with it");
    }
    found
}

/// A response to `request`: its ID, RD and question, QR and AA set, one A record.
fn answer(request: &[u8]) -> Vec<u8> {
    let mut end = 12;
    while request[end] != 0 {
        end += 1 + usize::from(request[end]);
    }
    end += 1 + 4;
    let mut out = vec![request[0], request[1], 0x84 | (request[2] & 0x01), 0];
    out.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 0]);
    out.extend_from_slice(&request[12..end]);
    out.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4, 192, 0, 2, 1]);
    out
}

/// Runs `tool` against a socket of ours, verifies its query, answers with a signed
/// response (with the MAC's first byte flipped if `corrupt`), and returns its output.
fn exchange(tool: &str, algorithm: Algorithm, corrupt: bool) -> String {
    let key_arg = format!(
        "{}:{}:{}",
        algorithm,
        KEY_NAME.trim_end_matches('.'),
        SECRET_B64
    );
    let (socket, port) = bind();
    let child = Command::new(tool)
        .args(["-y", &key_arg, "@127.0.0.1", "-p", &port.to_string()])
        .args(["+retry=0", "+timeout=2", "example.com", "A"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    serve(&socket, tool, algorithm, corrupt);
    let Output { stdout, stderr, .. } = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    eprintln!("--- {tool} {algorithm} corrupt={corrupt}:\n{text}");
    text
}

fn bind() -> (UdpSocket, u16) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

/// Answers one signed query on `socket`.
fn serve(socket: &UdpSocket, tool: &str, algorithm: Algorithm, corrupt: bool) {
    let mut buf = [0u8; 4096];
    let (len, peer) = socket.recv_from(&mut buf).unwrap();
    let request = &buf[..len];
    let key = TsigKey::new(Name::parse(KEY_NAME).unwrap(), algorithm, SECRET.to_vec()).unwrap();
    let keys: Keyring = [key].into_iter().collect();
    let verified = verify_request(request, &keys, now())
        .unwrap_or_else(|e| panic!("{tool}'s signed query does not verify: {e}"));
    assert_eq!(verified.record.key_name.to_string(), KEY_NAME);

    let signed = verified
        .sign_response(&answer(request), now(), 300)
        .unwrap();
    let mut response = signed.message;
    if corrupt {
        let mac_at = response
            .windows(signed.mac.len())
            .rposition(|w| w == signed.mac.as_slice())
            .unwrap();
        response[mac_at] ^= 0xff;
    }
    socket.send_to(&response, peer).unwrap();
}

/// The TSIG record data printed in the peer's TSIG pseudosection.
fn printed_tsig(out: &str) -> RData {
    let line = out
        .lines()
        .skip_while(|l| !l.starts_with(";; TSIG PSEUDOSECTION:"))
        .nth(1)
        .unwrap_or_else(|| panic!("no TSIG pseudosection in {out}"));
    let text = line.rsplit('\t').next().unwrap();
    RData::parse_str(Rtype::TSIG, text, None)
        .unwrap_or_else(|e| panic!("cannot read the printed TSIG '{text}': {e}"))
}

#[test]
fn dig_accepts_our_signature() {
    if !available("dig") {
        return;
    }
    for algorithm in [Algorithm::HmacSha256, Algorithm::HmacSha512] {
        let out = exchange("dig", algorithm, false);
        assert!(out.contains("192.0.2.1"), "{out}");
        assert!(!out.contains("Couldn't verify signature"), "{out}");
        assert!(!out.contains("Some TSIG could not be validated"), "{out}");
        // dig prints the record as BIND does (the long MAC broken in two, and a trailing
        // space); we read that back, and print the same but for those.
        let data = printed_tsig(&out);
        let RData::Tsig(t) = &data else {
            unreachable!()
        };
        assert_eq!(t.algorithm, algorithm.name());
        assert_eq!(t.mac.len(), algorithm.output_len());
        if algorithm == Algorithm::HmacSha256 {
            let line = out.lines().find(|l| l.contains("\tTSIG\t")).unwrap();
            assert_eq!(
                line.rsplit('\t').next().unwrap().trim_end(),
                data.to_string()
            );
        }
    }
}

#[test]
fn dig_rejects_a_corrupted_signature() {
    if !available("dig") {
        return;
    }
    let out = exchange("dig", Algorithm::HmacSha256, true);
    assert!(
        out.contains(";; Couldn't verify signature: tsig verify failure"),
        "{out}"
    );
    assert!(
        out.contains(";; WARNING -- Some TSIG could not be validated"),
        "{out}"
    );
}

#[test]
fn kdig_accepts_our_signature() {
    if !available("kdig") {
        return;
    }
    for algorithm in [Algorithm::HmacSha256, Algorithm::HmacSha384] {
        let out = exchange("kdig", algorithm, false);
        assert!(out.contains("192.0.2.1"), "{out}");
        assert!(!out.contains("failed to verify TSIG"), "{out}");
        assert!(matches!(printed_tsig(&out), RData::Tsig(_)), "{out}");
    }
}

#[test]
fn kdig_rejects_a_corrupted_signature() {
    if !available("kdig") {
        return;
    }
    let out = exchange("kdig", Algorithm::HmacSha256, true);
    assert!(out.contains("(failed to verify TSIG)"), "{out}");
}

/// dnspython signs a query with `use_tsig`, we answer, and it validates our response
/// (raising on a bad MAC).
fn dnspython(algorithm: Algorithm, corrupt: bool) -> Option<String> {
    let script = format!(
        "import sys, dns.message, dns.query, dns.tsigkeyring\n\
         kr = dns.tsigkeyring.from_text({{'{KEY_NAME}': ('{algorithm}', '{SECRET_B64}')}})\n\
         q = dns.message.make_query('example.com.', 'A')\n\
         q.use_tsig(kr, algorithm='{algorithm}')\n\
         try:\n    r = dns.query.udp(q, '127.0.0.1', port=int(sys.argv[1]), timeout=5)\n\
         except Exception as e:\n    print('FAILED', type(e).__name__); sys.exit(0)\n\
         print('OK', r.answer[0][0], r.had_tsig)\n"
    );
    let ok = Command::new("python3")
        .args(["-c", "import dns.tsig"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("ZDNS_REQUIRE_PEERS").as_deref() != Ok("1"),
            "dnspython is required (ZDNS_REQUIRE_PEERS=1) but cannot be imported"
        );
        eprintln!("NOTICE: python3 with dnspython not found; skipping");
        return None;
    }
    let (socket, port) = bind();
    let child = Command::new("python3")
        .args(["-c", &script, &port.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    serve(&socket, "dnspython", algorithm, corrupt);
    let out = child.wait_with_output().unwrap();
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn dnspython_accepts_our_signature_and_rejects_a_corrupted_one() {
    let Some(out) = dnspython(Algorithm::HmacSha256, false) else {
        return;
    };
    assert_eq!(out.trim(), "OK 192.0.2.1 True");
    let out = dnspython(Algorithm::HmacSha512, false).unwrap();
    assert_eq!(out.trim(), "OK 192.0.2.1 True");
    let out = dnspython(Algorithm::HmacSha256, true).unwrap();
    assert_eq!(out.trim(), "FAILED BadSignature");
}

/// Our clock is off by `skew`: the query fails the time check and we send the BADTIME
/// error response of RFC 8945 §5.3.2, signed, with our time in other data.
fn badtime_exchange(tool: &str, skew: u64) -> String {
    let key_arg = format!(
        "hmac-sha256:{}:{SECRET_B64}",
        KEY_NAME.trim_end_matches('.')
    );
    let (socket, port) = bind();
    let child = Command::new(tool)
        .args(["-y", &key_arg, "@127.0.0.1", "-p", &port.to_string()])
        .args(["+retry=0", "+timeout=2", "example.com", "A"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 4096];
    let (len, peer) = socket.recv_from(&mut buf).unwrap();
    let key = TsigKey::new(
        Name::parse(KEY_NAME).unwrap(),
        Algorithm::HmacSha256,
        SECRET.to_vec(),
    )
    .unwrap();
    let keys: Keyring = [key].into_iter().collect();
    let late = now() + skew;
    let e = verify_request(&buf[..len], &keys, late).unwrap_err();
    assert!(matches!(e, VerifyError::BadTime(_)), "{e}");
    let response = error_response(&buf[..len], &e, late, 300).unwrap();
    socket.send_to(&response, peer).unwrap();
    let Output { stdout, stderr, .. } = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    eprintln!("--- {tool} BADTIME:\n{text}");
    text
}

#[test]
fn dig_reads_our_badtime_response() {
    if !available("dig") {
        return;
    }
    let out = badtime_exchange("dig", 1000);
    assert!(out.contains("status: NOTAUTH"), "{out}");
    assert!(out.contains(" BADTIME 6 "), "{out}");
    // BIND checks the MAC first, then reports the peer's BADTIME as clock skew.
    assert!(
        out.contains(";; Couldn't verify signature: clocks are unsynchronized"),
        "{out}"
    );
    assert!(!out.contains("tsig verify failure"), "{out}");
}

#[test]
fn kdig_reads_our_badtime_response() {
    if !available("kdig") {
        return;
    }
    let out = badtime_exchange("kdig", 1000);
    // kdig shows the TSIG error as the status and our time from the other data.
    assert!(out.contains("status: BADTIME"), "{out}");
    assert!(out.contains("(TSIG out of time window)"), "{out}");
    assert!(!out.contains("failed to verify TSIG"), "{out}");
}
