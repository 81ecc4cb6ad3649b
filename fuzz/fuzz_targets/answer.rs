//! The answering core on raw packets: whatever arrives, it must not panic, and every
//! response it sends must be a well-formed message that echoes the query's ID.
//!
//! The server answers from `crates/auth/tests/data/example.test.zone` (CNAME chains,
//! DNAME, wildcards, delegations, truncation) with cookies and rate limiting on; the
//! first byte of the input picks UDP or TCP and the clock.
#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;

use lib_dns::message::Message;
use lib_dns::zone::{NoIncludes, Zone};
use lib_dns::{Class, Name};
use libfuzzer_sys::fuzz_target;
use zdns_auth::{
    Answerer, AuthServer, Catalog, CookieSecret, Outcome, QueryContext, RrlConfig, ServerConfig,
    Transport,
};

const ZONE: &str = include_str!("../../crates/auth/tests/data/example.test.zone");

fn server() -> &'static AuthServer {
    static SERVER: OnceLock<AuthServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let origin = Name::parse("example.test.").expect("origin");
        let loaded = Zone::read(
            origin,
            Class::IN,
            "example.test.zone",
            ZONE.as_bytes(),
            &mut NoIncludes,
        );
        let catalog = Catalog::build([&loaded.zone]).expect("zone builds");
        let config = ServerConfig {
            cookie_secret: Some(CookieSecret::new([7; 16])),
            rrl: Some(RrlConfig {
                rate: 1000,
                slip: 2,
                table_size: 256,
            }),
            ..ServerConfig::default()
        };
        AuthServer::new(catalog, config)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, query)) = data.split_first() else {
        return;
    };
    let ctx = QueryContext {
        client: SocketAddr::from(([192, 0, 2, mode], 5353)),
        transport: if mode & 1 == 0 {
            Transport::Udp
        } else {
            Transport::Stream
        },
        now: 1_700_000_000 + u64::from(mode >> 1),
    };
    let mut out = Vec::new();
    if server().answer(query, &ctx, &mut out) == Outcome::Reply {
        let response = Message::parse(&out).expect("our response parses");
        assert_eq!(&out[..2], &query[..2], "ID echoed");
        assert!(response.flags.qr);
        if ctx.transport == Transport::Udp {
            assert!(out.len() <= 1232, "UDP response within our limit");
        }
    }
});
