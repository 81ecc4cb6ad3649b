//! The connection point between the network edge and the answering core of
//! `crates/auth`.
//!
//! Every listener answers through the `Arc<dyn Answerer>` that [`build_answerer`] returns,
//! swapped atomically on reload.

use std::io::Read;
use std::sync::{Arc, OnceLock};

use lib_dns::zone::Zone;
use zdns_auth::{Answerer, AuthServer, Catalog, CookieSecret, ServedZone, ServerConfig};

/// Builds the authoritative answerer for the loaded (and checked) zones. A zone that the
/// engine cannot build is left out and logged; the others are served.
pub fn build_answerer(zones: Vec<Zone>) -> Arc<dyn Answerer> {
    let mut catalog = Catalog::new();
    for zone in &zones {
        match ServedZone::build(zone) {
            Ok(served) => catalog = catalog.with_zone(Arc::new(served)),
            Err(e) => tracing::error!(zone = %zone.origin(), error = %e, "zone not served"),
        }
    }
    let config = ServerConfig {
        cookie_secret: Some(CookieSecret::new(*secret())),
        ..ServerConfig::default()
    };
    Arc::new(AuthServer::new(catalog, config))
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
    use lib_dns::zone::NoIncludes;
    use lib_dns::{Class, Message, Name, Rcode, Rtype};
    use zdns_auth::{Outcome, QueryContext, Transport};

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
        let a = build_answerer(vec![loaded.zone]);
        let r = ask(&*a, "NS.example.", Rtype::A);
        assert_eq!(r.rcode, Rcode::NOERROR);
        assert!(r.flags.aa);
        assert_eq!(r.answers.len(), 1);
        assert_eq!(ask(&*a, "other.test.", Rtype::A).rcode, Rcode::REFUSED);
        let empty = build_answerer(Vec::new());
        assert_eq!(ask(&*empty, "example.", Rtype::SOA).rcode, Rcode::REFUSED);
        let mut out = Vec::new();
        assert_eq!(empty.answer(&[0; 3], &ctx(), &mut out), Outcome::Drop);
    }
}
