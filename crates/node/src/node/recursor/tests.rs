use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};

use lib_dns::rdata::A;
use lib_dns::{Rcode, Record};
use zdns_resolver::Transmit;
use zdns_resolver::cache::Rank;

use super::settings::ResolverFile;
use super::upstream::Exchange;
use super::*;

/// A transport that counts every use and never delivers.
#[derive(Default)]
struct Counting(AtomicUsize);

impl Upstream for Arc<Counting> {
    fn exchange(&self, _: Transmit) -> Exchange {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Err(std::io::Error::other("no network in this test")) })
    }
}

fn settings() -> ResolverSettings {
    let mut s = ResolverSettings::from_file(Some(ResolverFile::default()), false).unwrap();
    s.root_hints = vec![SocketAddr::from(([127, 0, 0, 1], 1))];
    s
}

fn ctx(client: [u8; 4], transport: Transport) -> QueryContext {
    QueryContext {
        client: SocketAddr::from((client, 40000)),
        transport,
        now: now(),
    }
}

fn ask(a: &dyn Answerer, name: &str, rd: bool, ctx: &QueryContext) -> (Outcome, Option<Message>) {
    let mut q = Message::query(99, Name::parse(name).unwrap(), Rtype::A);
    q.flags.rd = rd;
    let mut out = Vec::new();
    let outcome = a.answer(&q.to_wire(512).unwrap(), ctx, &mut out);
    (outcome, Message::parse(&out).ok())
}

fn auth_only() -> Arc<dyn Answerer> {
    crate::node::answerer::auth_server()
}

#[test]
fn cache_hit_never_touches_the_transport() {
    let counting = Arc::new(Counting::default());
    let recursor = Recursor::with_upstream(&settings(), Arc::new(counting.clone())).unwrap();
    let answerer = recursor.wrap(auth_only(), Vec::new(), Vec::new());
    let owner = Name::parse("www.example.test.").unwrap();
    recursor.resolver.cache().insert(
        vec![Record::new(owner, 300, A(Ipv4Addr::new(192, 0, 2, 1)))],
        Rank::Answer,
        now(),
    );
    for transport in [Transport::Udp, Transport::Stream] {
        let (outcome, reply) = ask(
            &*answerer,
            "www.example.test.",
            true,
            &ctx([127, 0, 0, 1], transport),
        );
        assert_eq!(outcome, Outcome::Reply);
        let reply = reply.unwrap();
        assert_eq!(reply.rcode, Rcode::NOERROR);
        assert!(reply.flags.ra);
        assert_eq!(reply.answers.len(), 1);
    }
    assert_eq!(
        counting.0.load(Ordering::SeqCst),
        0,
        "a cache hit used the transport"
    );

    // A miss does use it (so the counter above would have seen a hit that did).
    let (outcome, reply) = ask(
        &*answerer,
        "miss.example.test.",
        true,
        &ctx([127, 0, 0, 1], Transport::Stream),
    );
    assert_eq!(outcome, Outcome::Reply);
    assert_eq!(reply.unwrap().rcode, Rcode::SERVFAIL);
    assert!(counting.0.load(Ordering::SeqCst) > 0);
}

#[test]
fn recursion_only_for_allowed_clients_rd_and_names_outside_the_zones() {
    let counting = Arc::new(Counting::default());
    let recursor = Recursor::with_upstream(&settings(), Arc::new(counting.clone())).unwrap();
    let zones = vec![Name::parse("example.test.").unwrap()];
    let answerer = recursor.wrap(auth_only(), zones, Vec::new());
    // Not on the allow list: the authoritative answer (REFUSED, no zone here).
    let (_, reply) = ask(
        &*answerer,
        "www.other.test.",
        true,
        &ctx([192, 0, 2, 9], Transport::Stream),
    );
    assert_eq!(reply.unwrap().rcode, Rcode::REFUSED);
    // No RD: authoritative.
    let (_, reply) = ask(
        &*answerer,
        "www.other.test.",
        false,
        &ctx([127, 0, 0, 1], Transport::Stream),
    );
    assert_eq!(reply.unwrap().rcode, Rcode::REFUSED);
    // Inside a served zone: authoritative, even with RD.
    let (_, reply) = ask(
        &*answerer,
        "www.example.test.",
        true,
        &ctx([127, 0, 0, 1], Transport::Stream),
    );
    assert_eq!(reply.unwrap().rcode, Rcode::REFUSED);
    assert_eq!(counting.0.load(Ordering::SeqCst), 0);
    // Garbage goes to the authoritative engine, which drops it.
    let mut out = Vec::new();
    assert_eq!(
        answerer.answer(&[1, 2, 3], &ctx([127, 0, 0, 1], Transport::Udp), &mut out),
        Outcome::Drop
    );
}

#[test]
fn udp_miss_is_deferred_and_answered_from_the_listener_socket() {
    let counting = Arc::new(Counting::default());
    let recursor = Recursor::with_upstream(&settings(), Arc::new(counting)).unwrap();
    let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    recursor.set_udp_replies(vec![listener.try_clone().unwrap()]);
    let answerer = recursor.wrap(auth_only(), Vec::new(), Vec::new());
    let mut q = Message::query(4242, Name::parse("miss.example.test.").unwrap(), Rtype::A);
    q.flags.rd = true;
    let mut out = Vec::new();
    let ctx = QueryContext {
        client: client.local_addr().unwrap(),
        transport: Transport::Udp,
        now: now(),
    };
    assert_eq!(
        answerer.answer(&q.to_wire(512).unwrap(), &ctx, &mut out),
        Outcome::Drop
    );
    let mut buf = [0u8; 512];
    let (len, from) = client.recv_from(&mut buf).unwrap();
    assert_eq!(from, listener.local_addr().unwrap());
    let reply = Message::parse(&buf[..len]).unwrap();
    assert_eq!(reply.id, 4242);
    assert_eq!(reply.rcode, Rcode::SERVFAIL);
}

#[test]
fn hot_names_are_counted_and_metrics_encoded() {
    let counting = Arc::new(Counting::default());
    let recursor = Recursor::with_upstream(&settings(), Arc::new(counting)).unwrap();
    let answerer = recursor.wrap(auth_only(), Vec::new(), Vec::new());
    let owner = Name::parse("hot.example.test.").unwrap();
    recursor.resolver.cache().insert(
        vec![Record::new(owner, 300, A(Ipv4Addr::new(192, 0, 2, 1)))],
        Rank::Answer,
        now(),
    );
    // 25 queries within at most two seconds: one second holds more than 10.
    for _ in 0..25 {
        ask(
            &*answerer,
            "hot.example.test.",
            true,
            &ctx([127, 0, 0, 1], Transport::Udp),
        );
    }
    assert!(recursor.metrics.hot_names.load(Ordering::Relaxed) >= 1);
    assert_eq!(recursor.metrics.cache_hits.load(Ordering::Relaxed), 25);
    let mut registry = Registry::default();
    recursor.register_metrics(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(
        text.contains("zdns_resolver_answers_total{source=\"cache\"} 25"),
        "{text}"
    );
    assert!(text.contains("zdns_resolver_cache_rrsets 1"), "{text}");
    assert!(text.contains("zdns_resolver_hot_names_total"), "{text}");
}

#[test]
fn local_scope_from_the_zones_keeps_names_in_the_partition() {
    let counting = Arc::new(Counting::default());
    let recursor = Recursor::with_upstream(&settings(), Arc::new(counting.clone())).unwrap();
    let zone_scopes = zdns_resolver::scope::scopes_in(&[Record::new(
        Name::parse("_scope.venue.test.").unwrap(),
        300,
        lib_dns::rdata::Txt::new(&["class=local"]).unwrap(),
    )]);
    let answerer = recursor.wrap(auth_only(), Vec::new(), zone_scopes);
    let (_, reply) = ask(
        &*answerer,
        "printer.venue.test.",
        true,
        &ctx([127, 0, 0, 1], Transport::Stream),
    );
    assert_eq!(reply.unwrap().rcode, Rcode::SERVFAIL);
    assert_eq!(
        counting.0.load(Ordering::SeqCst),
        0,
        "a local-scope name was sent upstream"
    );
}

/// A transport that counts, waits a while, and never delivers.
struct Slow(AtomicUsize);

impl Upstream for Arc<Slow> {
    fn exchange(&self, _: Transmit) -> Exchange {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err(std::io::Error::other("no network in this test"))
        })
    }
}

#[test]
fn concurrent_misses_for_one_name_share_one_resolution() {
    let slow = Arc::new(Slow(AtomicUsize::new(0)));
    let recursor = Recursor::with_upstream(&settings(), Arc::new(slow.clone())).unwrap();
    let runtime = runtime().unwrap();
    let name = Name::parse("burst.example.test.").unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let recursor = Arc::clone(&recursor);
            let name = name.clone();
            runtime.spawn(async move { recursor.answer_client(name, Rtype::A).await })
        })
        .collect();
    for task in tasks {
        let answer = runtime.block_on(task).unwrap();
        assert_eq!(answer.rcode, Rcode::SERVFAIL);
    }
    // One resolution: its queries to the single root hint (two tries), not twenty times
    // that.
    let sent = slow.0.load(Ordering::SeqCst);
    assert!(sent <= 2, "{sent} upstream queries for one name");
    assert_eq!(recursor.inflight.len(), 0);
    assert!(recursor.metrics.coalesced.load(Ordering::Relaxed) >= 1);
}
