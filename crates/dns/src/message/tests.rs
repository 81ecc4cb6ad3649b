//! Unit tests of messages: parsing, writing with compression and truncation, EDNS and
//! its options, the query view and dig-style printing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::option::{self, ede_name};
use super::*;
use crate::rdata::{A, Aaaa, Ns, Txt};

fn name(s: &str) -> Name {
    Name::parse(s).unwrap()
}

fn a(owner: &str, ttl: u32, addr: [u8; 4]) -> Record {
    Record::new(name(owner), ttl, A(Ipv4Addr::from(addr)))
}

/// The typical response of the benchmark: one A answer, NS authority, A/AAAA glue, OPT.
fn typical_response() -> Message {
    let mut m = Message::query(4660, name("www.example.com."), Rtype::A);
    m.flags.qr = true;
    m.flags.aa = true;
    m.answers.push(a("www.example.com.", 300, [192, 0, 2, 1]));
    m.authority.push(Record::new(
        name("example.com."),
        3600,
        Ns(name("ns1.example.com.")),
    ));
    m.additional
        .push(a("ns1.example.com.", 3600, [192, 0, 2, 53]));
    m.additional.push(Record::new(
        name("ns1.example.com."),
        3600,
        Aaaa("2001:db8::53".parse().unwrap()),
    ));
    let mut edns = Edns::default();
    edns.set_dnssec_ok(true);
    m.edns = Some(edns);
    m
}

#[test]
fn round_trip_with_compression() {
    let m = typical_response();
    let wire = m.to_wire(65535).unwrap();
    assert_eq!(Message::parse(&wire).unwrap(), m);
    // Every name after the question ends in a pointer: the question name is written once.
    let www = b"\x03www\x07example\x03com\x00";
    assert_eq!(wire.windows(www.len()).filter(|w| w == www).count(), 1);
    // Header 12, question 21, answer 2+10+4, NS 2+10+6, A 2+10+4, AAAA 2+10+16, OPT 11.
    assert_eq!(wire.len(), 12 + 21 + 16 + 18 + 16 + 28 + 11);
}

#[test]
fn header_counts_and_flags_written() {
    let m = typical_response();
    let wire = m.to_wire(512).unwrap();
    let h = Header::from_bytes(&wire).unwrap();
    assert_eq!(h.id, 4660);
    assert!(h.flags.qr && h.flags.aa && h.flags.rd && !h.flags.tc);
    assert_eq!((h.qdcount, h.ancount, h.nscount, h.arcount), (1, 1, 1, 3));
}

#[test]
fn parse_decompresses_a_hand_built_message() {
    // Query id 0xabcd for www.example.com/A and an answer whose owner is a pointer to 12.
    let mut msg = vec![0xab, 0xcd, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
    msg.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
    msg.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1]);
    let m = Message::parse(&msg).unwrap();
    assert_eq!(m.answers, [a("www.example.com.", 3600, [192, 0, 2, 1])]);
    assert!(m.flags.qr && m.flags.rd && m.flags.ra);
    // Forward pointer in the answer owner.
    let mut bad = msg.clone();
    let at = bad.len() - 16;
    bad[at + 1] = 200;
    assert!(matches!(
        Message::parse(&bad),
        Err(WireError::BadPointer { .. })
    ));
}

#[test]
fn counts_larger_than_data_rejected() {
    let m = typical_response();
    let mut wire = m.to_wire(512).unwrap();
    wire[7] = 2; // ANCOUNT 2, but only one answer follows (the NS is read as answer 2).
    assert!(Message::parse(&wire).is_err());
    let mut wire = m.to_wire(512).unwrap();
    wire[11] = 9; // ARCOUNT 9.
    assert!(matches!(
        Message::parse(&wire),
        Err(WireError::ShortBuffer { .. })
    ));
    // A header alone claiming 65535 questions: rejected without a large allocation.
    let wire = [0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0];
    assert!(Message::parse(&wire).is_err());
    assert!(Message::parse(&wire[..11]).is_err());
}

#[test]
fn trailing_garbage_rejected() {
    let mut wire = typical_response().to_wire(512).unwrap();
    wire.push(0);
    assert!(matches!(
        Message::parse(&wire),
        Err(WireError::TrailingData { .. })
    ));
}

/// Raw OPT record bytes: root owner unless `owner` is given.
fn opt_record(owner: &[u8], ttl: u32, rdata: &[u8]) -> Vec<u8> {
    let mut v = owner.to_vec();
    v.extend_from_slice(&[0, 41, 0x04, 0xd0]);
    v.extend_from_slice(&ttl.to_be_bytes());
    v.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    v.extend_from_slice(rdata);
    v
}

fn query_with_additional(arcount: u8, additional: &[u8]) -> Vec<u8> {
    let mut msg = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, arcount];
    msg.extend_from_slice(b"\x07example\x00\x00\x01\x00\x01");
    msg.extend_from_slice(additional);
    msg
}

#[test]
fn duplicate_opt_rejected() {
    let mut add = opt_record(&[0], 0, &[]);
    add.extend(opt_record(&[0], 0, &[]));
    let msg = query_with_additional(2, &add);
    assert_eq!(
        Message::parse(&msg),
        Err(WireError::BadMessage {
            reason: "more than one OPT record"
        })
    );
    assert!(QueryView::parse(&msg).is_err());
    let one = query_with_additional(1, &opt_record(&[0], 0, &[]));
    assert!(Message::parse(&one).unwrap().edns.is_some());
    assert!(QueryView::parse(&one).unwrap().edns.is_some());
}

#[test]
fn opt_not_at_root_rejected() {
    let msg = query_with_additional(1, &opt_record(b"\x01a\x00", 0, &[]));
    assert_eq!(
        Message::parse(&msg),
        Err(WireError::BadMessage {
            reason: "OPT record owner is not the root"
        })
    );
    assert!(QueryView::parse(&msg).is_err());
}

#[test]
fn opt_outside_additional_rejected() {
    let mut msg = query_with_additional(0, &opt_record(&[0], 0, &[]));
    msg[7] = 1; // ANCOUNT 1.
    assert!(Message::parse(&msg).is_err());
    assert!(QueryView::parse(&msg).is_err());
}

#[test]
fn extended_rcode_and_badvers_fields() {
    // Extended rcode 1, version 1, DO and one unknown flag bit.
    let msg = query_with_additional(1, &opt_record(&[0], 0x0101_8001, &[]));
    let m = Message::parse(&msg).unwrap();
    assert_eq!(m.rcode, Rcode::BADVERS);
    let edns = m.edns.as_ref().unwrap();
    assert_eq!(edns.version, 1);
    assert!(edns.dnssec_ok());
    assert_eq!(edns.flags, 0x8001);
    assert_eq!(edns.udp_payload_size, 1232);
    // The same fields come back out.
    let wire = m.to_wire(512).unwrap();
    assert_eq!(wire, msg);
    let v = QueryView::parse(&msg).unwrap().edns.unwrap();
    assert_eq!((v.ext_rcode, v.version, v.flags), (1, 1, 0x8001));
    assert!(v.dnssec_ok());

    // BADVERS needs EDNS to be sent.
    let mut m = typical_response();
    m.rcode = Rcode::BADVERS;
    let wire = m.to_wire(512).unwrap();
    assert_eq!(wire[3] & 0x0f, 0);
    assert_eq!(Message::parse(&wire).unwrap().rcode, Rcode::BADVERS);
    m.edns = None;
    assert!(m.to_wire(512).is_err());
}

fn big_txt(owner: &str, len: usize) -> Record {
    Record::new(name(owner), 60, Txt::new(&[vec![b'x'; len]]).unwrap())
}

#[test]
fn truncation_drops_whole_rrsets_and_keeps_opt() {
    let mut m = typical_response();
    m.answers = vec![
        a("www.example.com.", 300, [192, 0, 2, 1]),
        a("www.example.com.", 300, [192, 0, 2, 2]),
        big_txt("www.example.com.", 230),
        big_txt("www.example.com.", 230),
    ];
    let wire = m.to_wire(512).unwrap();
    assert!(wire.len() <= 512);
    let got = Message::parse(&wire).unwrap();
    assert!(got.flags.tc);
    // The A RRset fits, the TXT RRset (two records) does not: neither TXT is sent.
    assert_eq!(got.answers, m.answers[..2]);
    assert!(got.authority.is_empty() && got.additional.is_empty());
    assert_eq!(got.edns, m.edns);

    // With room for everything, nothing is dropped and TC stays clear.
    let full = Message::parse(&m.to_wire(4096).unwrap()).unwrap();
    assert!(!full.flags.tc);
    assert_eq!(full, m);
}

#[test]
fn truncation_in_authority_sets_tc() {
    let mut m = typical_response();
    m.authority.push(big_txt("example.com.", 250));
    m.authority.push(big_txt("example.com.", 250));
    let got = Message::parse(&m.to_wire(512).unwrap()).unwrap();
    assert!(got.flags.tc);
    assert_eq!(got.answers, m.answers);
    assert_eq!(got.authority, m.authority[..1]);
    assert!(got.edns.is_some());
}

#[test]
fn additional_dropped_without_tc() {
    let mut m = typical_response();
    m.additional.push(big_txt("x.example.com.", 255));
    m.additional.push(big_txt("y.example.com.", 255));
    let got = Message::parse(&m.to_wire(512).unwrap()).unwrap();
    assert!(!got.flags.tc);
    assert_eq!(got.additional, m.additional[..3]);
    assert!(got.edns.is_some());
}

#[test]
fn opt_space_reserved_and_too_small_limit_fails() {
    let mut m = typical_response();
    let mut edns = Edns::default();
    edns.options.push(EdnsOption::padding(450));
    m.edns = Some(edns);
    let wire = m.to_wire(512).unwrap();
    let got = Message::parse(&wire).unwrap();
    assert!(got.flags.tc && got.answers.is_empty());
    assert_eq!(got.edns, m.edns);
    assert!(m.to_wire(480).is_err());
    assert!(m.to_wire(11).is_err());
}

fn round_trip_option(o: EdnsOption) -> Vec<u8> {
    let mut w = WireWriter::plain();
    o.write_wire(&mut w).unwrap();
    let bytes = w.into_bytes();
    assert_eq!(bytes.len(), 4 + o.data_len());
    let mut r = WireReader::new(&bytes);
    assert_eq!(EdnsOption::parse_wire(&mut r).unwrap(), o);
    assert!(r.is_empty());
    bytes
}

fn option_rejected(code: u16, data: &[u8]) {
    let mut bytes = code.to_be_bytes().to_vec();
    bytes.extend_from_slice(&(data.len() as u16).to_be_bytes());
    bytes.extend_from_slice(data);
    let got = EdnsOption::parse_wire(&mut WireReader::new(&bytes));
    assert!(got.is_err(), "option {code} {data:02x?} accepted: {got:?}");
}

#[test]
fn cookie_option() {
    let client = [1, 2, 3, 4, 5, 6, 7, 8];
    let bytes = round_trip_option(EdnsOption::Cookie(Cookie::client_only(client)));
    assert_eq!(bytes, [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
    for n in [8, 16, 32] {
        let c = Cookie::new(client, &vec![9; n]).unwrap();
        assert_eq!(c.server().unwrap().len(), n);
        round_trip_option(EdnsOption::Cookie(c));
    }
    assert!(Cookie::new(client, &[1; 7]).is_none());
    assert!(Cookie::new(client, &[1; 33]).is_none());
    for len in [0, 1, 7, 9, 15, 41] {
        option_rejected(option::COOKIE, &vec![0; len]);
    }
}

#[test]
fn client_subnet_option() {
    // RFC 7871 §6 example shape: 192.0.2.0/24, scope 0 → three address bytes.
    let s = ClientSubnet::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 77)), 24, 0).unwrap();
    assert_eq!(s.address(), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 0)));
    assert_eq!(s.to_string(), "192.0.2.0/24/0");
    let bytes = round_trip_option(EdnsOption::ClientSubnet(s));
    assert_eq!(bytes, [0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2]);
    // Odd prefixes: /20 keeps 3 bytes with the last nibble cleared.
    let s = ClientSubnet::new(IpAddr::V4(Ipv4Addr::new(10, 1, 255, 1)), 20, 16).unwrap();
    assert_eq!(s.address(), IpAddr::V4(Ipv4Addr::new(10, 1, 240, 0)));
    round_trip_option(EdnsOption::ClientSubnet(s));
    let s = ClientSubnet::new(IpAddr::V6("2001:db8:ffff::1".parse().unwrap()), 33, 0).unwrap();
    assert_eq!(s.address(), IpAddr::V6("2001:db8:8000::".parse().unwrap()));
    round_trip_option(EdnsOption::ClientSubnet(s));
    let s = ClientSubnet::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0, 0).unwrap();
    assert_eq!(round_trip_option(EdnsOption::ClientSubnet(s)).len(), 8);
    assert!(ClientSubnet::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 33, 0).is_none());
    assert!(s.with_scope(129).is_none());

    // Unknown family, prefix too long, too many / too few address bytes, stray bits.
    option_rejected(option::CLIENT_SUBNET, &[0, 3, 0, 0]);
    option_rejected(option::CLIENT_SUBNET, &[0, 1, 33, 0, 1, 2, 3, 4, 5]);
    option_rejected(option::CLIENT_SUBNET, &[0, 1, 24, 33, 1, 2, 3]);
    option_rejected(option::CLIENT_SUBNET, &[0, 1, 24, 0, 1, 2, 3, 4]);
    option_rejected(option::CLIENT_SUBNET, &[0, 1, 24, 0, 1, 2]);
    option_rejected(option::CLIENT_SUBNET, &[0, 1, 20, 0, 10, 1, 0x0f]);
    option_rejected(option::CLIENT_SUBNET, &[0, 1, 0]);
}

#[test]
fn extended_error_option() {
    let e = ExtendedError::new(18, "blocked by policy");
    assert_eq!(e.name(), Some("Prohibited"));
    let bytes = round_trip_option(EdnsOption::ExtendedError(e));
    assert_eq!(&bytes[..6], [0, 15, 0, 19, 0, 18]);
    round_trip_option(EdnsOption::ExtendedError(ExtendedError::new(3, "")));
    assert_eq!(ede_name(0), Some("Other"));
    assert_eq!(ede_name(29), Some("Synthesized"));
    assert_eq!(ede_name(1000), None);
    option_rejected(option::EXTENDED_ERROR, &[0]);
    option_rejected(option::EXTENDED_ERROR, &[0, 1, 0xff, 0xfe]);
}

#[test]
fn keepalive_padding_nsid_unknown_options() {
    round_trip_option(EdnsOption::TcpKeepalive(None));
    assert_eq!(
        round_trip_option(EdnsOption::TcpKeepalive(Some(100))),
        [0, 11, 0, 2, 0, 100]
    );
    option_rejected(option::TCP_KEEPALIVE, &[1]);
    option_rejected(option::TCP_KEEPALIVE, &[1, 2, 3]);
    assert_eq!(
        round_trip_option(EdnsOption::padding(3)),
        [0, 12, 0, 3, 0, 0, 0]
    );
    round_trip_option(EdnsOption::Nsid(Vec::new()));
    round_trip_option(EdnsOption::Nsid(b"ns1".to_vec()));
    round_trip_option(EdnsOption::Unknown {
        code: 65001,
        data: vec![1, 2],
    });
    // An option whose length runs past the data.
    assert!(EdnsOption::parse_wire(&mut WireReader::new(&[0, 3, 0, 2, 1])).is_err());
}

#[test]
fn options_kept_in_order() {
    let options = vec![
        EdnsOption::Unknown {
            code: 65001,
            data: vec![],
        },
        EdnsOption::Cookie(Cookie::client_only([7; 8])),
        EdnsOption::Nsid(vec![]),
        EdnsOption::Unknown {
            code: 9,
            data: vec![0, 0, 0, 1],
        },
    ];
    let mut m = Message::query(1, name("example."), Rtype::SOA);
    m.edns = Some(Edns {
        options: options.clone(),
        ..Edns::default()
    });
    let got = Message::parse(&m.to_wire(512).unwrap()).unwrap();
    assert_eq!(got.edns.unwrap().options, options);
}

#[test]
fn query_view_reads_question_and_edns() {
    let mut q = Message::query(77, name("WWW.Example.COM."), Rtype::AAAA);
    let mut edns = Edns::default();
    edns.set_dnssec_ok(true);
    edns.options
        .push(EdnsOption::Cookie(Cookie::client_only([1; 8])));
    q.edns = Some(edns);
    let wire = q.to_wire(512).unwrap();
    let v = QueryView::parse(&wire).unwrap();
    assert_eq!(v.header.id, 77);
    assert_eq!(v.qname_wire(), b"\x03WWW\x07Example\x03COM\x00");
    assert_eq!(v.qname_lower(), b"\x03www\x07example\x03com\x00");
    assert_eq!((v.qtype, v.qclass), (Rtype::AAAA, Class::IN));
    let e = v.edns.unwrap();
    assert_eq!(e.udp_payload_size, 1232);
    assert!(e.dnssec_ok() && !e.other_options);
    assert_eq!(e.cookie, Some(&[1u8; 8][..]));

    // Without EDNS.
    let plain = Message::query(1, name("."), Rtype::NS)
        .to_wire(512)
        .unwrap();
    let v = QueryView::parse(&plain).unwrap();
    assert!(v.edns.is_none());
    assert_eq!(v.qname_lower(), [0]);

    // Other options flagged; a bad cookie rejected.
    let mut q2 = q.clone();
    q2.edns
        .as_mut()
        .unwrap()
        .options
        .push(EdnsOption::Nsid(vec![]));
    let wire2 = q2.to_wire(512).unwrap();
    assert!(
        QueryView::parse(&wire2)
            .unwrap()
            .edns
            .unwrap()
            .other_options
    );
    let bad = query_with_additional(1, &opt_record(&[0], 0, &[0, 10, 0, 3, 1, 2, 3]));
    assert!(QueryView::parse(&bad).is_err());
    assert!(Message::parse(&bad).is_err());
}

#[test]
fn query_view_rejections() {
    let wire = typical_response().to_wire(512).unwrap();
    // A full response is walked fine (answers and authority skipped).
    assert_eq!(QueryView::parse(&wire).unwrap().qtype, Rtype::A);
    let mut two = wire.clone();
    two[5] = 2;
    assert!(QueryView::parse(&two).is_err());
    let mut zero = wire.clone();
    zero[5] = 0;
    assert!(QueryView::parse(&zero).is_err());
    let mut trailing = wire.clone();
    trailing.push(0);
    assert!(QueryView::parse(&trailing).is_err());
    // Compressed question name.
    let msg = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 1, 0, 1];
    assert!(QueryView::parse(&msg).is_err());
    assert!(QueryView::parse(&wire[..wire.len() - 1]).is_err());
}

#[test]
fn response_to_copies_what_it_should() {
    let mut q = Message::query(9, name("a.example."), Rtype::MX);
    q.flags.cd = true;
    q.flags.ad = true;
    let r = Message::response_to(&q);
    assert_eq!(r.id, 9);
    assert_eq!(r.questions, q.questions);
    assert!(r.flags.qr && r.flags.rd && r.flags.cd && !r.flags.ad);
}

#[test]
fn dig_style_display() {
    let mut m = typical_response();
    m.flags.ra = true;
    m.answers.push(a("www.example.com.", 300, [192, 0, 2, 2]));
    let edns = m.edns.as_mut().unwrap();
    edns.options = vec![
        EdnsOption::Cookie(Cookie::new([1, 2, 3, 4, 5, 6, 7, 8], &[0xa1; 8]).unwrap()),
        EdnsOption::ClientSubnet(
            ClientSubnet::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 0)), 24, 0).unwrap(),
        ),
        EdnsOption::ExtendedError(ExtendedError::new(18, "blocked here")),
        EdnsOption::ExtendedError(ExtendedError::new(3, "")),
        EdnsOption::Nsid(b"ns1.x".to_vec()),
        EdnsOption::TcpKeepalive(Some(100)),
        EdnsOption::padding(3),
        EdnsOption::Unknown {
            code: 65001,
            data: vec![0xab, 0xcd],
        },
    ];
    let expected = "\
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4660
;; flags: qr aa rd ra; QUERY: 1, ANSWER: 2, AUTHORITY: 1, ADDITIONAL: 3

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags: do; udp: 1232
; COOKIE: 0102030405060708a1a1a1a1a1a1a1a1
; CLIENT-SUBNET: 192.0.2.0/24/0
; EDE: 18 (Prohibited): (blocked here)
; EDE: 3 (Stale Answer)
; NSID: 6e 73 31 2e 78 (\"ns1.x\")
; TCP KEEPALIVE: 10.0 secs
; PAD: (3 bytes)
; OPT=65001: ab cd (\"..\")
;; QUESTION SECTION:
;www.example.com.\t\tIN\tA

;; ANSWER SECTION:
www.example.com.\t300\tIN\tA\t192.0.2.1
www.example.com.\t300\tIN\tA\t192.0.2.2

;; AUTHORITY SECTION:
example.com.\t\t3600\tIN\tNS\tns1.example.com.

;; ADDITIONAL SECTION:
ns1.example.com.\t3600\tIN\tA\t192.0.2.53
ns1.example.com.\t3600\tIN\tAAAA\t2001:db8::53

";
    assert_eq!(m.to_string(), expected);
}

#[test]
fn dig_style_long_names_and_flags() {
    let mut m = Message::new(8187);
    m.flags.qr = true;
    m.rcode = Rcode::BADVERS;
    m.questions.push(Question::new(
        name("averyveryverylongname.example.com."),
        Rtype::TXT,
    ));
    m.answers.push(Record::new(
        name("averyveryverylongname.example.com."),
        300,
        Txt::new(&[b"hi"]).unwrap(),
    ));
    m.edns = Some(Edns {
        udp_payload_size: 512,
        flags: 0x4001,
        ..Edns::default()
    });
    let text = m.to_string();
    assert!(text.contains(";; ->>HEADER<<- opcode: QUERY, status: BADVERS, id: 8187\n"));
    assert!(text.contains(";; flags: qr; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1\n"));
    assert!(text.contains("; EDNS: version: 0, flags: co; MBZ: 0x0001, udp: 512\n"));
    assert!(text.contains("\n;averyveryverylongname.example.com. IN\tTXT\n"));
    assert!(text.contains("\naveryveryverylongname.example.com. 300 IN TXT\t\"hi\"\n"));
    let none = Message::new(1).to_string();
    assert!(none.contains(";; flags:; QUERY: 0,"));
}

/// Edge cases checked against dig 9.18 printing responses built by dnspython.
#[test]
fn dig_style_edge_cases() {
    let mut m = Message::new(2);
    m.flags = Flags::from_bits(0x82d0);
    let text = m.to_string();
    assert!(
        text.contains(";; flags: qr tc ra cd; MBZ: 0x4; QUERY: 0,"),
        "{text}"
    );
    m.edns = Some(Edns {
        options: vec![
            EdnsOption::ExtendedError(ExtendedError::new(49, "x")),
            EdnsOption::ExtendedError(ExtendedError::new(0, "caf\u{e9}")),
            EdnsOption::TcpKeepalive(None),
            EdnsOption::Nsid(vec![]),
            EdnsOption::Unknown {
                code: 65002,
                data: vec![],
            },
            EdnsOption::ClientSubnet(
                ClientSubnet::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, 0).unwrap(),
            ),
            EdnsOption::ClientSubnet(
                ClientSubnet::new(IpAddr::V4(Ipv4Addr::new(10, 1, 240, 0)), 20, 32).unwrap(),
            ),
            EdnsOption::padding(0),
        ],
        ..Edns::default()
    });
    let text = m.to_string();
    let opt: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("; EDNS"))
        .skip(1)
        .collect();
    assert_eq!(
        opt,
        [
            "; EDE: 49: (x)",
            "; EDE: 0 (Other): (caf\u{e9})",
            "; TCP KEEPALIVE:",
            "; NSID:",
            "; OPT=65002:",
            "; CLIENT-SUBNET: 0.0.0.0/0/0",
            "; CLIENT-SUBNET: 10.1.240.0/20/32",
            "; PAD:",
        ]
    );
}

#[test]
fn edns_record_conversion() {
    let mut e = Edns {
        version: 1,
        ..Edns::default()
    };
    e.set_dnssec_ok(true);
    e.options.push(EdnsOption::Nsid(b"x".to_vec()));
    let rec = e.to_record(Rcode::BADCOOKIE);
    assert_eq!(rec.ttl, 0x0101_8000);
    assert_eq!(rec.class, Class(1232));
    let (back, ext) = Edns::from_record(&rec).unwrap();
    assert_eq!(back, e);
    assert_eq!(
        Rcode::from_parts(Rcode::BADCOOKIE.header_bits(), ext),
        Rcode::BADCOOKIE
    );
    // The record and the direct writer agree, and the length is known up front.
    let mut w1 = WireWriter::plain();
    rec.write_wire(&mut w1).unwrap();
    let mut w2 = WireWriter::plain();
    e.write_wire(Rcode::BADCOOKIE, &mut w2).unwrap();
    assert_eq!(w1.as_bytes(), w2.as_bytes());
    assert_eq!(w2.len(), e.wire_len());

    let mut not_root = rec.clone();
    not_root.owner = name("a.");
    assert!(Edns::from_record(&not_root).is_err());
    assert!(Edns::from_record(&a("a.", 1, [1, 2, 3, 4])).is_err());
    e.set_dnssec_ok(false);
    assert_eq!(e.flags, 0);
}

#[test]
fn question_wire_round_trip() {
    let q = Question {
        qname: name("Example.ORG."),
        qtype: Rtype::CAA,
        qclass: Class::CH,
    };
    let mut w = WireWriter::message(512);
    q.write_wire(&mut w).unwrap();
    q.write_wire(&mut w).unwrap();
    let bytes = w.into_bytes();
    assert_eq!(bytes.len(), 13 + 4 + 2 + 4);
    let mut r = WireReader::new(&bytes);
    assert_eq!(Question::parse_wire(&mut r).unwrap(), q);
    assert_eq!(Question::parse_wire(&mut r).unwrap(), q);
    assert!(r.is_empty());
}

#[test]
fn update_delete_rrset_with_empty_data() {
    // UPDATE for zone example.: delete the A RRset of www (class ANY, no data).
    let mut msg = vec![0, 1, 0x28, 0, 0, 1, 0, 0, 0, 1, 0, 0];
    msg.extend_from_slice(b"\x07example\x00\x00\x06\x00\x01");
    msg.extend_from_slice(&[
        3, b'w', b'w', b'w', 0xc0, 12, 0, 1, 0, 255, 0, 0, 0, 0, 0, 0,
    ]);
    let m = Message::parse(&msg).unwrap();
    assert_eq!(m.opcode, Opcode::UPDATE);
    let rec = &m.authority[0];
    assert_eq!((rec.rtype(), rec.class), (Rtype::A, Class::ANY));
    assert_eq!(m.to_wire(512).unwrap(), msg);
    // The "RRset does not exist" prerequisite (RFC 2136 §2.4.3): class NONE, no data.
    let at = msg.len() - 7;
    msg[at] = 254;
    let m = Message::parse(&msg).unwrap();
    assert_eq!(m.authority[0].class, Class::NONE);
    assert_eq!(m.to_wire(512).unwrap(), msg);
    // Empty A data in class IN is still an error.
    msg[at] = 1;
    assert!(Message::parse(&msg).is_err());
}
