//! The connection point between the network edge and the answering core of
//! `crates/auth`.
//!
//! Every listener answers through the `Arc<dyn Answerer>` made from [`auth_server`];
//! zone control swaps its catalog atomically when zones load or change.

use std::io::Read;
use std::sync::{Arc, OnceLock};

use zdns_auth::{AuthServer, Catalog, CookieSecret, ServerConfig};

/// The authoritative answering core, with no zones yet (zone control publishes them)
/// and a per-process server-cookie secret.
pub fn auth_server() -> Arc<AuthServer> {
    let config = ServerConfig {
        cookie_secret: Some(CookieSecret::new(*secret())),
        ..ServerConfig::default()
    };
    Arc::new(AuthServer::new(Catalog::new(), config))
}

/// The server-cookie secret (RFC 9018 §3): random, and the same for the life of the
/// process so that reloads do not invalidate the cookies clients hold.
fn secret() -> &'static [u8; 16] {
    static SECRET: OnceLock<[u8; 16]> = OnceLock::new();
    SECRET.get_or_init(|| {
        let mut key = [0u8; 16];
        let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut key));
        if let Err(e) = read {
            // Without randomness, cookies are still well-formed but guessable; say so.
            tracing::warn!(error = %e, "cannot read /dev/urandom: server cookies use a fixed key");
        }
        key
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lib_dns::zone::{NoIncludes, Zone};
    use lib_dns::{Class, Message, Name, Rcode, Rtype};
    use zdns_auth::{Answerer, Outcome, QueryContext, Transport};

    fn ctx() -> QueryContext {
        QueryContext {
            client: "127.0.0.1:1".parse().unwrap(),
            transport: Transport::Udp,
            now: 0,
        }
    }

    fn ask(a: &dyn Answerer, name: &str, rtype: Rtype) -> Message {
        let q = Message::query(77, Name::parse(name).unwrap(), rtype);
        let mut out = Vec::new();
        assert_eq!(
            a.answer(&q.to_wire(512).unwrap(), &ctx(), &mut out),
            Outcome::Reply
        );
        Message::parse(&out).unwrap()
    }

    #[test]
    fn answers_from_the_zones_and_refuses_the_rest() {
        let text = "$ORIGIN example.\n$TTL 300\n@ SOA ns hm 7 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n";
        let loaded = Zone::read(
            Name::parse("example.").unwrap(),
            Class::IN,
            "example.zone",
            text.as_bytes(),
            &mut NoIncludes,
        );
        let a = auth_server();
        a.set_catalog(Catalog::build([&loaded.zone]).unwrap());
        let a: &dyn Answerer = &*a;
        let r = ask(a, "NS.example.", Rtype::A);
        assert_eq!(r.rcode, Rcode::NOERROR);
        assert!(r.flags.aa);
        assert_eq!(r.answers.len(), 1);
        assert_eq!(ask(a, "other.test.", Rtype::A).rcode, Rcode::REFUSED);
        let empty = auth_server();
        assert_eq!(ask(&*empty, "example.", Rtype::SOA).rcode, Rcode::REFUSED);
        let mut out = Vec::new();
        assert_eq!(empty.answer(&[0; 3], &ctx(), &mut out), Outcome::Drop);
    }
}
