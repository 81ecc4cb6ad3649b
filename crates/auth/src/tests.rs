//! Behaviour of the answering core as a whole: message-level rules (FORMERR, NOTIMP,
//! BADVERS, TC), cookies, rate limiting, catalog swaps, and the prepared path giving
//! exactly what the general path gives.

use std::net::SocketAddr;

use lib_dns::message::{Cookie, Edns, EdnsOption, Message};
use lib_dns::zone::{NoIncludes, Zone};
use lib_dns::{Class, Name, Opcode, Rcode, Rtype};

use crate::resolve;
use crate::response::{self, Echo, OptOut};
use crate::{
    Answerer, AuthServer, Catalog, CookieSecret, Outcome, QueryContext, RrlConfig, ServerConfig,
    Transport,
};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");

fn zone(origin: &str) -> Zone {
    let path = format!("{DATA}{origin}zone");
    let text = std::fs::read(&path).unwrap();
    let loaded = Zone::read(
        Name::parse(origin).unwrap(),
        Class::IN,
        &path,
        &text[..],
        &mut NoIncludes,
    );
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    loaded.zone
}

fn catalog() -> Catalog {
    let zones = [
        zone("example.test."),
        zone("other.test."),
        zone("sub.other.test."),
    ];
    Catalog::build(zones.iter()).unwrap()
}

fn udp() -> QueryContext {
    QueryContext {
        client: SocketAddr::from(([192, 0, 2, 1], 5353)),
        transport: Transport::Udp,
        now: 1_700_000_000,
    }
}

fn ask(server: &AuthServer, wire: &[u8], ctx: &QueryContext) -> Option<Message> {
    let mut out = Vec::new();
    match server.answer(wire, ctx, &mut out) {
        Outcome::Reply => Some(Message::parse(&out).unwrap()),
        Outcome::Drop => None,
        Outcome::Defer => panic!("deferred to zone control"),
    }
}

fn query(name: &str, rtype: Rtype) -> Message {
    let mut q = Message::query(0x1234, Name::parse(name).unwrap(), rtype);
    q.flags.rd = false;
    q
}

fn wire(m: &Message) -> Vec<u8> {
    m.to_wire(65535).unwrap()
}

#[test]
fn unreadable_and_response_messages_are_dropped() {
    let server = AuthServer::new(catalog(), ServerConfig::default());
    let mut out = Vec::new();
    assert_eq!(server.answer(&[1, 2, 3], &udp(), &mut out), Outcome::Drop);
    let mut response = wire(&query("www.example.test.", Rtype::A));
    response[2] |= 0x80;
    assert_eq!(server.answer(&response, &udp(), &mut out), Outcome::Drop);
    assert!(out.is_empty());
}

#[test]
fn malformed_queries_get_formerr() {
    let server = AuthServer::new(catalog(), ServerConfig::default());
    let mut two = query("www.example.test.", Rtype::A);
    two.questions.push(two.questions[0].clone());
    let mut cut = wire(&query("www.example.test.", Rtype::A));
    cut.truncate(cut.len() - 3);
    let opt_query = query("www.example.test.", Rtype::OPT);
    for bad in [wire(&two), cut, wire(&opt_query)] {
        let m = ask(&server, &bad, &udp()).unwrap();
        assert_eq!(m.rcode, Rcode::FORMERR);
        assert_eq!(m.id, 0x1234);
        assert!(m.flags.qr && !m.flags.aa);
    }
}

#[test]
fn transfers_updates_notifies_and_signed_messages_are_deferred() {
    let server = AuthServer::new(catalog(), ServerConfig::default());
    let mut out = vec![1];
    let mut deferred = |q: &Message| {
        let outcome = server.answer(&wire(q), &udp(), &mut out);
        (outcome, out.is_empty())
    };
    for op in [Opcode::NOTIFY, Opcode::UPDATE] {
        let mut q = query("example.test.", Rtype::SOA);
        q.opcode = op;
        assert_eq!(deferred(&q), (Outcome::Defer, true));
    }
    for t in [Rtype::AXFR, Rtype::IXFR] {
        assert_eq!(deferred(&query("example.test.", t)), (Outcome::Defer, true));
    }
    let key = lib_dns::tsig::TsigKey::new(
        Name::parse("k.").unwrap(),
        lib_dns::tsig::Algorithm::HmacSha256,
        vec![7; 32],
    )
    .unwrap();
    let signed =
        lib_dns::tsig::sign_request(&wire(&query("example.test.", Rtype::SOA)), &key, 1, 300)
            .unwrap()
            .message;
    assert_eq!(server.answer(&signed, &udp(), &mut out), Outcome::Defer);
}

#[test]
fn opcodes_other_than_query_are_not_implemented() {
    let server = AuthServer::new(catalog(), ServerConfig::default());
    for op in [Opcode::STATUS, Opcode::new(9)] {
        let mut q = query("example.test.", Rtype::SOA);
        q.opcode = op;
        let m = ask(&server, &wire(&q), &udp()).unwrap();
        assert_eq!(m.rcode, Rcode::NOTIMP);
        assert_eq!(m.opcode, op);
        assert!(m.answers.is_empty());
    }
}

#[test]
fn badvers_and_edns_negotiation() {
    let server = AuthServer::new(catalog(), ServerConfig::default());
    let mut q = query("www.example.test.", Rtype::A);
    q.edns = Some(Edns {
        version: 1,
        ..Edns::default()
    });
    let m = ask(&server, &wire(&q), &udp()).unwrap();
    assert_eq!(m.rcode, Rcode::BADVERS);
    assert_eq!(m.edns.as_ref().unwrap().version, 0);
    assert!(m.answers.is_empty());

    let mut q = query("www.example.test.", Rtype::A);
    let mut e = Edns {
        udp_payload_size: 4096,
        ..Edns::default()
    };
    e.set_dnssec_ok(true);
    q.edns = Some(e);
    let m = ask(&server, &wire(&q), &udp()).unwrap();
    let e = m.edns.unwrap();
    assert_eq!(e.udp_payload_size, 1232);
    assert!(e.dnssec_ok());
    // No OPT in the query, none in the response.
    let m = ask(
        &server,
        &wire(&query("www.example.test.", Rtype::A)),
        &udp(),
    )
    .unwrap();
    assert!(m.edns.is_none());
}

#[test]
fn truncation_over_udp_only() {
    let server = AuthServer::new(catalog(), ServerConfig::default());
    let q = wire(&query("big.example.test.", Rtype::TXT));
    let m = ask(&server, &q, &udp()).unwrap();
    assert!(m.flags.tc && m.flags.aa);
    assert!(m.answers.is_empty());
    assert_eq!(m.questions.len(), 1);
    let stream = QueryContext {
        transport: Transport::Stream,
        ..udp()
    };
    let m = ask(&server, &q, &stream).unwrap();
    assert!(!m.flags.tc);
    assert_eq!(m.answers.len(), 8);
}

#[test]
fn cookies() {
    let secret = CookieSecret::new([3; 16]);
    let config = ServerConfig {
        cookie_secret: Some(secret.clone()),
        ..ServerConfig::default()
    };
    let server = AuthServer::new(catalog(), config.clone());
    let with_cookie = |cookie: Cookie| {
        let mut q = query("www.example.test.", Rtype::A);
        let mut e = Edns::default();
        e.options.push(EdnsOption::Cookie(cookie));
        q.edns = Some(e);
        wire(&q)
    };
    let m = ask(&server, &with_cookie(Cookie::client_only([5; 8])), &udp()).unwrap();
    let back = m.edns.unwrap().cookie().cloned().unwrap();
    assert_eq!(back.client(), &[5; 8]);
    let sc = back.server().unwrap().to_vec();
    assert_eq!(sc.len(), 16);
    assert_eq!(m.answers.len(), 2);

    // Requiring cookies: a client cookie alone gets BADCOOKIE and a fresh cookie; the
    // cookie we made is accepted.
    let strict = AuthServer::new(
        catalog(),
        ServerConfig {
            require_cookie: true,
            ..config
        },
    );
    let m = ask(&strict, &with_cookie(Cookie::client_only([5; 8])), &udp()).unwrap();
    assert_eq!(m.rcode, Rcode::BADCOOKIE);
    assert!(m.answers.is_empty());
    assert!(m.edns.unwrap().cookie().unwrap().server().is_some());
    let valid = with_cookie(Cookie::new([5; 8], &sc).unwrap());
    let m = ask(&strict, &valid, &udp()).unwrap();
    assert_eq!(m.rcode, Rcode::NOERROR);
    assert_eq!(m.answers.len(), 2);
    // A forged server cookie is not valid.
    let m = ask(
        &strict,
        &with_cookie(Cookie::new([5; 8], &[7; 16]).unwrap()),
        &udp(),
    )
    .unwrap();
    assert_eq!(m.rcode, Rcode::BADCOOKIE);
    // Over TCP the source address is proven: no BADCOOKIE.
    let stream = QueryContext {
        transport: Transport::Stream,
        ..udp()
    };
    let m = ask(&strict, &with_cookie(Cookie::client_only([5; 8])), &stream).unwrap();
    assert_eq!(m.rcode, Rcode::NOERROR);
}

#[test]
fn rate_limiting_with_slip() {
    let config = ServerConfig {
        rrl: Some(RrlConfig {
            rate: 2,
            slip: 2,
            table_size: 1024,
        }),
        ..ServerConfig::default()
    };
    let server = AuthServer::new(catalog(), config);
    let q = wire(&query("www.example.test.", Rtype::A));
    let got: Vec<_> = (0..6).map(|_| ask(&server, &q, &udp())).collect();
    assert!(got[0].is_some() && got[1].is_some());
    assert!(got[2].is_none());
    let slipped = got[3].as_ref().unwrap();
    assert!(slipped.flags.tc && slipped.answers.is_empty());
    assert_eq!(slipped.questions.len(), 1);
    assert!(got[4].is_none());
    // Another second, another budget; TCP is never limited.
    let later = QueryContext {
        now: udp().now + 1,
        ..udp()
    };
    assert!(ask(&server, &q, &later).is_some());
    let stream = QueryContext {
        transport: Transport::Stream,
        ..udp()
    };
    for _ in 0..5 {
        assert!(!ask(&server, &q, &stream).unwrap().flags.tc);
    }
}

#[test]
fn catalog_swap_is_atomic_and_visible() {
    let server = AuthServer::new(Catalog::new(), ServerConfig::default());
    let q = wire(&query("www.other.test.", Rtype::A));
    assert_eq!(ask(&server, &q, &udp()).unwrap().rcode, Rcode::REFUSED);
    let before = server.catalog();
    server.set_catalog(catalog());
    let m = ask(&server, &q, &udp()).unwrap();
    assert_eq!(m.answers.len(), 1);
    assert!(before.zones().next().is_none());
    let without = server
        .catalog()
        .without_zone(Name::parse("other.test.").unwrap().as_wire());
    server.set_catalog(without);
    // other.test. is gone; sub.other.test. is still served.
    assert_eq!(ask(&server, &q, &udp()).unwrap().rcode, Rcode::REFUSED);
    let sub = wire(&query("www.sub.other.test.", Rtype::A));
    assert_eq!(ask(&server, &sub, &udp()).unwrap().answers.len(), 1);
}

#[test]
fn chains_loops_and_long_dname_targets() {
    let server = AuthServer::new(catalog(), ServerConfig::default());
    let m = ask(
        &server,
        &wire(&query("loop1.example.test.", Rtype::A)),
        &udp(),
    )
    .unwrap();
    assert_eq!(m.rcode, Rcode::NOERROR);
    assert_eq!(m.answers.len(), 2);
    let m = ask(
        &server,
        &wire(&query("cn3.example.test.", Rtype::A)),
        &udp(),
    )
    .unwrap();
    assert_eq!(m.answers.len(), 5);
    // RFC 6672 §2.2: a substituted name longer than 255 bytes gives YXDOMAIN (the
    // query name is 255 bytes, the DNAME target one longer than its owner).
    let long = format!(
        "abcd.{}dn2.example.test.",
        "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstu.".repeat(4)
    );
    let m = ask(&server, &wire(&query(&long, Rtype::A)), &udp()).unwrap();
    assert_eq!(m.rcode, Rcode::YXDOMAIN);
    assert_eq!(m.answers.len(), 1);
    let m = ask(&server, &wire(&query("www.example.com.", Rtype::A)), &udp()).unwrap();
    assert_eq!(m.rcode, Rcode::REFUSED);
    assert!(!m.flags.aa);
}

/// Every answer the prepared path gives is byte for byte what the general path writes
/// for the same question (the relocation of compression pointers included).
#[test]
fn prepared_path_equals_general_path() {
    let catalog = catalog();
    let server = AuthServer::new(catalog.clone(), ServerConfig::default());
    let names = [
        "example.test.",
        "www.example.test.",
        "WWW.example.TEST.",
        "mail.example.test.",
        "multi.example.test.",
        "_sip._tcp.example.test.",
        "mx2.example.test.",
        "c.ent.example.test.",
        "x.b.c.ent.example.test.",
        "nothere.example.test.",
        "a.b.nothere.example.test.",
        "child.example.test.",
        "www.child.example.test.",
        "ns1.child.example.test.",
        "a.b.c.child.example.test.",
        "deleg2.example.test.",
        "x.deleg2.example.test.",
        "outdeleg.example.test.",
        "foo.wild.example.test.",
        "a.b.wild.example.test.",
        "FOO.MXW.example.test.",
        "abc.mxw.example.test.",
        "host.wild.example.test.",
        "x.host.wild.example.test.",
        "bigns.example.test.",
        "x.bigns.example.test.",
        "manymx.example.test.",
        "www.other.test.",
        "nx.other.test.",
        "sub.other.test.",
        "nx.sub.other.test.",
    ];
    let types = [
        Rtype::A,
        Rtype::AAAA,
        Rtype::MX,
        Rtype::NS,
        Rtype::SOA,
        Rtype::TXT,
        Rtype::SRV,
        Rtype::DS,
        Rtype::PTR,
    ];
    let mut fast = 0;
    for name in names {
        for rtype in types {
            let q = query(name, rtype);
            let qw = wire(&q);
            let mut out = Vec::new();
            assert_eq!(server.answer(&qw, &udp(), &mut out), Outcome::Reply);
            let qname = Name::parse(name).unwrap();
            let lower = qname.to_lowercase();
            if catalog.fast(lower.as_wire(), rtype, Class::IN).is_some() {
                fast += 1;
            }
            let res = resolve::resolve(&catalog, &qname, rtype, Class::IN, false);
            let echo = Echo {
                id: q.id,
                opcode: Opcode::QUERY,
                rd: false,
                cd: false,
                question: Some((qname.as_wire(), rtype, Class::IN)),
            };
            let mut general = Vec::new();
            response::write(&mut general, &echo, &res, 512, None::<&OptOut>);
            assert_eq!(
                Message::parse(&out).unwrap(),
                Message::parse(&general).unwrap(),
                "{name} {rtype}"
            );
        }
    }
    assert!(fast > 150, "only {fast} questions took the prepared path");
}
