//! A DNS hierarchy served by our own authoritative engine, in process: a root, TLDs and
//! leaf zones, each on its own 127.0.0.x address, and a driver that runs a
//! [`Iteration`](zdns_resolver::Iteration) against them with injected time and no sockets. Servers can be taken
//! down and their replies tampered with, to test failure and hostile answers.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lib_dns::zone::{NoIncludes, Zone};
use lib_dns::{Class, Name, Rtype};
use zdns_auth::{Answerer, AuthServer, Catalog, Outcome, QueryContext, ServerConfig};
use zdns_resolver::{
    Answer, Cache, CacheConfig, Resolver, ResolverConfig, Step, Transmit, Transport,
};

pub const T0: u64 = 1_800_000_000;

pub const ROOT: &str = "
$TTL 86400
.               SOA a.root. hostmaster.root. 1 1800 900 604800 86400
.               NS  a.root.
a.root.         A   127.0.0.1
test.           NS  ns.test.
ns.test.        A   127.0.0.2
other.          NS  ns.nic.other.
ns.nic.other.   A   127.0.0.5
";

pub const TEST: &str = "
$TTL 3600
test.               SOA ns.test. hostmaster.test. 1 1800 900 604800 600
test.               NS  ns.test.
ns.test.            A   127.0.0.2
example.test.       NS  ns1.example.test.
example.test.       NS  ns2.example.test.
ns1.example.test.   A   127.0.0.3
ns2.example.test.   A   127.0.0.4
glueless.test.      NS  ns.hosting.other.
";

pub const EXAMPLE: &str = "
$TTL 300
@       SOA ns1 hostmaster 2026120101 1800 900 604800 120
@       NS  ns1
@       NS  ns2
ns1     A   127.0.0.3
ns2     A   127.0.0.4
www     A   192.0.2.1
www     A   192.0.2.2
alias   CNAME www
ext     CNAME www.example.other.
deep    CNAME alias
old     DNAME example.other.
mail    MX  10 www
fast 1  A   192.0.2.9
big     TXT ( \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"
          \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"
          \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"
          \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" )
big     TXT ( \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"
          \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"
          \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"
          \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\" )
big     TXT ( \"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\"
          \"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\"
          \"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\" )
";

pub const OTHER: &str = "
$TTL 600
other.              SOA ns.nic.other. hostmaster.nic.other. 7 1800 900 604800 300
other.              NS  ns.nic.other.
ns.nic.other.       A   127.0.0.5
www.example.other.  A   192.0.2.50
ns.hosting.other.   A   127.0.0.6
";

pub const GLUELESS: &str = "
$TTL 300
glueless.test.      SOA ns.hosting.other. hostmaster.glueless.test. 1 1800 900 604800 60
glueless.test.      NS  ns.hosting.other.
host.glueless.test. A   192.0.2.60
";

pub fn name(text: &str) -> Name {
    Name::parse(text).unwrap()
}

pub fn addr(last: u8) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, last], 53))
}

pub fn zone(origin: &str, text: &str) -> Zone {
    let loaded = Zone::read(
        name(origin),
        Class::IN,
        "test",
        text.as_bytes(),
        &mut NoIncludes,
    );
    assert!(!loaded.has_errors(), "{origin}: {:?}", loaded.diagnostics);
    loaded.zone
}

pub fn server(zones: &[Zone]) -> Arc<AuthServer> {
    Arc::new(AuthServer::new(
        Catalog::build(zones.iter()).unwrap(),
        ServerConfig::default(),
    ))
}

/// Rewrites a reply (query bytes, reply bytes) → new reply bytes.
pub type Tamper = Box<dyn Fn(&[u8], Vec<u8>) -> Vec<u8>>;

/// The servers of the hierarchy by address.
pub struct Net {
    pub servers: HashMap<SocketAddr, Arc<AuthServer>>,
    pub down: HashSet<SocketAddr>,
    pub tamper: HashMap<SocketAddr, Tamper>,
    /// Every query sent, in order.
    pub sent: Vec<Transmit>,
}

impl Net {
    /// root on .1, test. on .2, example.test. on .3 and .4, other. on .5,
    /// glueless.test. on .6.
    pub fn hierarchy() -> Net {
        let example = server(&[zone("example.test.", EXAMPLE)]);
        let servers = HashMap::from([
            (addr(1), server(&[zone(".", ROOT)])),
            (addr(2), server(&[zone("test.", TEST)])),
            (addr(3), example.clone()),
            (addr(4), example),
            (addr(5), server(&[zone("other.", OTHER)])),
            (addr(6), server(&[zone("glueless.test.", GLUELESS)])),
        ]);
        Net {
            servers,
            down: HashSet::new(),
            tamper: HashMap::new(),
            sent: Vec::new(),
        }
    }

    /// The reply of the server at `t.server`, or `None` if it is down or unknown.
    pub fn exchange(&mut self, t: &Transmit, now: u64) -> Option<Vec<u8>> {
        self.sent.push(t.clone());
        if self.down.contains(&t.server) {
            return None;
        }
        let server = self.servers.get(&t.server)?;
        let ctx = QueryContext {
            client: SocketAddr::from(([127, 0, 0, 100], 40000)),
            transport: match t.transport {
                Transport::Udp => zdns_auth::Transport::Udp,
                Transport::Tcp => zdns_auth::Transport::Stream,
            },
            now,
        };
        let mut out = Vec::new();
        if server.answer(&t.message, &ctx, &mut out) == Outcome::Drop {
            return None;
        }
        match self.tamper.get(&t.server) {
            Some(f) => Some(f(&t.message, out)),
            None => Some(out),
        }
    }

    /// Resolves (`qname`, `qtype`) to the end.
    pub fn resolve(&mut self, r: &Resolver, qname: &str, qtype: Rtype, now: u64) -> Answer {
        let mut resolution = r.resolve(name(qname), qtype);
        let mut step = resolution.start(r, now);
        let mut rounds = 0;
        loop {
            rounds += 1;
            assert!(rounds < 1000, "resolution does not end");
            step = match step {
                Step::Done(answer) => return answer,
                Step::Wait => panic!("the harness never sends stray replies"),
                Step::Send(t) => match self.exchange(&t, now) {
                    Some(reply) => resolution.on_reply(r, &reply, Duration::from_millis(2), now),
                    None => resolution.on_timeout(r, now),
                },
            };
        }
    }

    /// The questions sent, as (server's last octet, name, type) triples.
    pub fn questions(&self) -> Vec<(u8, String, Rtype)> {
        self.sent
            .iter()
            .map(|t| {
                let m = lib_dns::Message::parse(&t.message).unwrap();
                let q = m.question().unwrap();
                let last = match t.server.ip() {
                    std::net::IpAddr::V4(v4) => v4.octets()[3],
                    std::net::IpAddr::V6(_) => 0,
                };
                (last, q.qname.to_string(), q.qtype)
            })
            .collect()
    }
}

pub fn resolver(config: ResolverConfig) -> Resolver {
    Resolver::new(config, Cache::new(CacheConfig::default()))
}

pub fn config() -> ResolverConfig {
    ResolverConfig {
        root_hints: vec![addr(1)],
        ..ResolverConfig::default()
    }
}
