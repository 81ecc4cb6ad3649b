//! Proves that the prepared path answers without allocating: positive answers,
//! NODATA, NXDOMAIN, referrals and wildcard answers, with and without EDNS and cookies,
//! counted by a global allocator that counts the current thread's allocations.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
// A global allocator can only be written with `unsafe impl GlobalAlloc`; it forwards to
// the system allocator unchanged.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::SocketAddr;

use lib_dns::message::{Cookie, Edns, EdnsOption, Message};
use lib_dns::zone::{NoIncludes, Zone};
use lib_dns::{Class, Name, Rcode, Rtype};
use zdns_auth::{
    Answerer, AuthServer, Catalog, CookieSecret, Outcome, QueryContext, ServerConfig, Transport,
};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (out, ALLOCATIONS.with(Cell::get) - before)
}

fn server() -> AuthServer {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/example.test.zone");
    let text = std::fs::read(path).unwrap();
    let loaded = Zone::read(
        Name::parse("example.test.").unwrap(),
        Class::IN,
        path,
        &text[..],
        &mut NoIncludes,
    );
    assert!(!loaded.has_errors());
    let config = ServerConfig {
        cookie_secret: Some(CookieSecret::new([9; 16])),
        ..ServerConfig::default()
    };
    AuthServer::new(Catalog::build([&loaded.zone]).unwrap(), config)
}

#[test]
fn prepared_answers_do_not_allocate() {
    let server = server();
    let ctx = QueryContext {
        client: SocketAddr::from(([192, 0, 2, 1], 5353)),
        transport: Transport::Udp,
        now: 1_700_000_000,
    };
    let cases = [
        ("www.example.test.", Rtype::A, Rcode::NOERROR, 2),
        ("WWW.Example.TEST.", Rtype::AAAA, Rcode::NOERROR, 1),
        ("example.test.", Rtype::MX, Rcode::NOERROR, 1),
        ("example.test.", Rtype::NS, Rcode::NOERROR, 2),
        ("_sip._tcp.example.test.", Rtype::SRV, Rcode::NOERROR, 1),
        ("www.example.test.", Rtype::MX, Rcode::NOERROR, 0),
        ("c.ent.example.test.", Rtype::A, Rcode::NOERROR, 0),
        ("nothere.example.test.", Rtype::A, Rcode::NXDOMAIN, 0),
        (
            "a.b.c.nothere.example.test.",
            Rtype::AAAA,
            Rcode::NXDOMAIN,
            0,
        ),
        ("www.child.example.test.", Rtype::A, Rcode::NOERROR, 0),
        ("child.example.test.", Rtype::NS, Rcode::NOERROR, 0),
        ("foo.wild.example.test.", Rtype::A, Rcode::NOERROR, 1),
        ("a.b.wild.example.test.", Rtype::TXT, Rcode::NOERROR, 1),
        ("foo.mxw.example.test.", Rtype::MX, Rcode::NOERROR, 1),
        ("foo.wild.example.test.", Rtype::MX, Rcode::NOERROR, 0),
        ("cn.example.test.", Rtype::A, Rcode::NOERROR, 3),
        ("Cn.Example.Test.", Rtype::AAAA, Rcode::NOERROR, 2),
        ("cnout.example.test.", Rtype::A, Rcode::NOERROR, 1),
        ("cn2.example.test.", Rtype::CNAME, Rcode::NOERROR, 1),
    ];
    let mut out = Vec::with_capacity(65535);
    // The first query of a thread registers it with the catalog's ArcSwap (one
    // allocation per thread, ever); count from the second on.
    let warm = Message::query(1, Name::parse("www.example.test.").unwrap(), Rtype::A);
    server.answer(&warm.to_wire(512).unwrap(), &ctx, &mut out);
    for (name, rtype, rcode, answers) in cases {
        for variant in 0..3 {
            let mut q = Message::query(7, Name::parse(name).unwrap(), rtype);
            if variant > 0 {
                let mut e = Edns::default();
                if variant == 2 {
                    e.options
                        .push(EdnsOption::Cookie(Cookie::client_only([1; 8])));
                }
                q.edns = Some(e);
            }
            let wire = q.to_wire(512).unwrap();
            let (outcome, n) = allocations_during(|| server.answer(&wire, &ctx, &mut out));
            assert_eq!(outcome, Outcome::Reply);
            assert_eq!(n, 0, "{name} {rtype} variant {variant} allocated {n} times");
            let m = Message::parse(&out).unwrap();
            assert_eq!(m.rcode, rcode, "{name} {rtype}");
            assert_eq!(m.answers.len(), answers, "{name} {rtype}");
            assert_eq!(
                m.questions[0].qname.as_wire(),
                Name::parse(name).unwrap().as_wire()
            );
            assert_eq!(m.edns.is_some(), variant > 0);
        }
    }
}
