//! Iterative resolution (RFC 1034 §5.3.3) as a state machine, in the manner of
//! quinn-proto: the machine never touches a socket or a clock. It says "send these bytes
//! to this server over this transport and wait at most this long" ([`Step::Send`]); the
//! edge sends, then reports the reply with the measured round trip
//! ([`Iteration::on_reply`]) or the timeout ([`Iteration::on_timeout`]), passing the
//! current time, until the machine returns [`Step::Done`]. One query is outstanding at a
//! time.
//!
//! The machine starts at the closest zone cut it has name servers for (a forward zone,
//! a cached NS RRset, or the root hints) and follows referrals down. Along the way:
//!
//! - QNAME minimisation (RFC 9156): a server is asked about one label more than its
//!   zone, type A, until the full name is reached; a server that fails a minimised
//!   query is asked the full question instead (§2.3 fallback).
//! - Every response goes through [`classify`]: bailiwick checks, glue checks, referrals
//!   strictly downwards. Whatever fails them is never cached.
//! - CNAME and DNAME chains are followed, within a response when in bailiwick, else by
//!   starting again at the target.
//! - Name servers without glue have their addresses looked up by nested frames.
//! - TC over UDP → the same server over TCP; FORMERR/NOTIMP/BADVERS to an EDNS query →
//!   the same server without EDNS, remembered (RFC 6891 §7).
//! - Limits ([`Limits`](crate::Limits)) on upstream queries, referrals, chain length and
//!   nesting depth end any query that would loop or amplify.
//! - When every server failed, serve-stale (RFC 8767) is tried before SERVFAIL.
//! - With validation on ([`crate::validator`]), queries carry DO; the RRSIG, NSEC and
//!   NSEC3 records of each response are kept with the answer, which is judged before
//!   it is cached or returned. A missing link of a chain of trust (a DS from a parent,
//!   a zone's DNSKEY RRset) is fetched by a nested frame, unless a referral on the way
//!   down already carried it. Bogus data is never cached.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use lib_dns::message::{Edns, ExtendedError, Message};
use lib_dns::{Class, Name, RData, Rcode, Record, Rtype};

use crate::answer::{Answer, EDE_NO_REACHABLE_AUTHORITY, EDE_OTHER};
use crate::cache::{CacheKey, NegativeInsert, NegativeKind, Rank, Signed};
use crate::classify::{Classified, classify, rrsets};
use crate::nxmeta::NxMetadata;
use crate::resolver::Resolver;
use crate::scope::Policy;
use crate::servers::TCP_TIMEOUT;
use crate::validator::{Ede, Evidence, Failure, Fetch, Reply, Security, Verdict};

/// How often one DS or DNSKEY RRset may be fetched for one answer before validation
/// gives up on it (a DS is fetched again after each zone cut found above it).
const MAX_FETCHES_OF_ONE: u8 = 4;

/// The transport of one upstream query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP (the first try).
    Udp,
    /// TCP (after a truncated UDP answer), with the RFC 1035 §4.2.2 length prefix added
    /// by the edge.
    Tcp,
}

/// A query the edge must send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where to.
    pub server: SocketAddr,
    /// How.
    pub transport: Transport,
    /// The query message.
    pub message: Vec<u8>,
    /// How long to wait for the reply before calling [`Iteration::on_timeout`].
    pub timeout: Duration,
}

/// What the machine wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this query and report what happens.
    Send(Transmit),
    /// The reply did not belong to the outstanding query (wrong id or question): keep
    /// waiting for the real one until the same deadline.
    Wait,
    /// Resolution finished.
    Done(Answer),
}

/// One upstream server within a frame.
#[derive(Debug, Clone)]
struct Server {
    addr: SocketAddr,
    /// Failures so far at this zone cut.
    failures: u8,
    tcp: bool,
    /// Whether it was asked at this zone cut (for NXDOMAIN coverage).
    asked: bool,
}

/// What a frame is resolving for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Goal {
    /// The client's question.
    Client,
    /// Addresses of a name server of the frame below.
    NsAddress,
    /// A DS or DNSKEY RRset the validator needs ([`Frame::fetch`]).
    Fetch,
}

/// The resolution of one (name, type): the client's, or a name server's address.
#[derive(Debug)]
struct Frame {
    goal: Goal,
    qname: Name,
    qtype: Rtype,
    /// Aliases followed so far.
    chain: Vec<Record>,
    /// The zone cut the servers are authoritative for.
    zone: Name,
    servers: Vec<Server>,
    /// Name servers of `zone` whose addresses are not known yet.
    unresolved_ns: Vec<Name>,
    forwarding: bool,
    /// While minimising, how many labels of `qname` are sent.
    minimise: Option<usize>,
    /// A server to ask again at once (after TC or an EDNS failure).
    retry: Option<usize>,
    /// The name is of a local-scope zone and no upstream inside the partition serves it:
    /// nothing may be asked (seed 003 §16.1 class A).
    confined: bool,
    /// With validation on: the RRSIG, NSEC and NSEC3 records of the responses the
    /// answer is made of.
    proof: Vec<Record>,
    /// The zone cuts of the servers that gave those responses.
    zones: Vec<Name>,
    /// For a [`Goal::Fetch`] frame, what the validator asked for.
    fetch: Option<Fetch>,
}

impl Frame {
    fn question(&self) -> (Name, Rtype) {
        match self.minimise {
            Some(labels) if labels < self.qname.label_count() => {
                (self.qname.suffix(labels), Rtype::A)
            }
            _ => (self.qname.clone(), self.qtype),
        }
    }

    fn minimising(&self) -> bool {
        self.minimise
            .is_some_and(|labels| labels < self.qname.label_count())
    }
}

/// The query in flight.
#[derive(Debug)]
struct Outstanding {
    id: u16,
    server: usize,
    addr: SocketAddr,
    transport: Transport,
    edns: bool,
    qname: Name,
    qtype: Rtype,
    timeout: Duration,
}

/// The resolution of one client question. Drive it with [`Iteration::start`], then
/// [`Iteration::on_reply`] / [`Iteration::on_timeout`] for every [`Step::Send`].
#[derive(Debug)]
pub struct Iteration {
    qname: Name,
    qtype: Rtype,
    frames: Vec<Frame>,
    outstanding: Option<Outstanding>,
    queries: u32,
    referrals: u32,
    done: bool,
    /// The client's answer while it is being validated.
    pending: Option<Pending>,
    /// DS RRsets (or their denials) that came with referrals: child zone, answer
    /// records, proof records.
    referral_ds: Vec<(Name, Vec<Record>, Vec<Record>)>,
    /// How often each DS or DNSKEY RRset was fetched for this answer.
    fetched: Vec<(Fetch, u8)>,
}

/// A client answer waiting for its validation.
#[derive(Debug)]
struct Pending {
    answer: Answer,
    proof: Vec<Record>,
    zones: Vec<Name>,
}

impl Iteration {
    pub(crate) fn new(qname: Name, qtype: Rtype) -> Iteration {
        Iteration {
            qname,
            qtype,
            frames: Vec::new(),
            outstanding: None,
            queries: 0,
            referrals: 0,
            done: false,
            pending: None,
            referral_ds: Vec::new(),
            fetched: Vec::new(),
        }
    }

    /// How many queries were sent upstream so far.
    pub fn queries_sent(&self) -> u32 {
        self.queries
    }

    /// Starts: a cached answer ends it at once, else the first query.
    pub fn start(&mut self, r: &Resolver, now: u64) -> Step {
        if let Some(hit) = r.from_cache(&self.qname, self.qtype, now) {
            return self.finish(hit.answer);
        }
        // RFC 8198: a denial the validated NSEC chain already proves needs no query.
        if let Some(answer) = r.synthesised(&self.qname, self.qtype, now) {
            return self.finish(answer);
        }
        let frame = new_frame(r, Goal::Client, self.qname.clone(), self.qtype, now);
        self.frames.push(frame);
        self.advance(r, now)
    }

    /// Starts without looking in the cache first: a prefetch or forced refresh.
    pub fn start_fresh(&mut self, r: &Resolver, now: u64) -> Step {
        let frame = new_frame(r, Goal::Client, self.qname.clone(), self.qtype, now);
        self.frames.push(frame);
        self.advance(r, now)
    }

    /// The outstanding query timed out.
    pub fn on_timeout(&mut self, r: &Resolver, now: u64) -> Step {
        if let Some(out) = self.outstanding.take() {
            r.servers().record_timeout(out.addr, out.timeout);
            tracing::debug!(server = %out.addr, qname = %out.qname, "upstream timeout");
            self.fail_server(out.server);
        }
        self.advance(r, now)
    }

    /// The outstanding query's server replied `reply` after `rtt`.
    pub fn on_reply(&mut self, r: &Resolver, reply: &[u8], rtt: Duration, now: u64) -> Step {
        let Some(out) = self.outstanding.take() else {
            return self.advance(r, now);
        };
        let msg = match Message::parse(reply) {
            Ok(msg) => msg,
            Err(error) => {
                tracing::debug!(server = %out.addr, %error, "malformed upstream reply");
                self.fail_server(out.server);
                return self.advance(r, now);
            }
        };
        if !answers_query(&msg, &out) {
            self.outstanding = Some(out);
            return Step::Wait;
        }
        r.servers().record_rtt(out.addr, rtt);
        let Some(frame) = self.frames.last_mut() else {
            return self.advance(r, now);
        };
        if msg.flags.tc {
            if out.transport == Transport::Udp
                && let Some(server) = frame.servers.get_mut(out.server)
            {
                server.tcp = true;
                frame.retry = Some(out.server);
            } else {
                self.fail_server(out.server);
            }
            return self.advance(r, now);
        }
        let edns_refused = matches!(msg.rcode, Rcode::FORMERR | Rcode::NOTIMP | Rcode::BADVERS);
        if edns_refused && out.edns {
            r.servers().set_no_edns(out.addr);
            frame.retry = Some(out.server);
            return self.advance(r, now);
        }
        if msg.rcode != Rcode::NOERROR && msg.rcode != Rcode::NXDOMAIN {
            if frame.minimising() {
                // RFC 9156 §2.3: some servers fail minimised queries; ask in full.
                frame.minimise = None;
                frame.retry = Some(out.server);
            } else {
                self.fail_server(out.server);
            }
            return self.advance(r, now);
        }
        self.on_response(r, &msg, &out, now)
    }

    fn on_response(&mut self, r: &Resolver, msg: &Message, out: &Outstanding, now: u64) -> Step {
        let Some(frame) = self.frames.last_mut() else {
            return self.advance(r, now);
        };
        let minimising = frame.minimising();
        let classified = classify(msg, &frame.zone, &out.qname, out.qtype, frame.forwarding);
        let authoritative = msg.flags.aa || frame.forwarding;
        let validating = r.validator().is_some();
        // With validation, the client's answer is cached once judged; fetched DS and
        // DNSKEY RRsets live in the validator; name server addresses, not validated,
        // are cached only for the resolver's own use (never as answers to clients).
        let defer_cache = validating && frame.goal != Goal::NsAddress;
        let rank = if validating {
            Rank::Additional
        } else {
            Rank::Answer
        };
        match classified {
            Classified::Lame(reason) => {
                tracing::debug!(server = %out.addr, qname = %out.qname, reason, "unusable reply");
                self.fail_server(out.server);
                self.advance(r, now)
            }
            Classified::Referral { zone, ns, glue } => {
                self.referrals += 1;
                if self.referrals > r.config().limits.max_referrals {
                    return self.fail(r, now, EDE_OTHER, "too many referrals");
                }
                let cache = r.cache();
                cache.insert(ns.clone(), Rank::Authority, now);
                for set in rrsets(glue.iter().cloned()) {
                    cache.insert(set, Rank::Additional, now);
                }
                if validating {
                    // RFC 4035 §3.1.4: a signed referral carries the child's DS RRset
                    // or the proof that there is none; keep it for the chain of trust.
                    let (ds, proof) = referral_proof(msg, &frame.zone, &zone);
                    if !ds.is_empty() || !proof.is_empty() {
                        self.referral_ds.retain(|(z, _, _)| *z != zone);
                        self.referral_ds.push((zone.clone(), ds, proof));
                    }
                }
                let Some(frame) = self.frames.last_mut() else {
                    return self.advance(r, now);
                };
                let (servers, unresolved) = name_servers(r, &zone, &ns, &glue, now);
                frame.zone = zone;
                frame.servers = servers;
                frame.unresolved_ns = unresolved;
                frame.retry = None;
                if frame.minimise.is_some() {
                    frame.minimise = Some(frame.zone.label_count() + 1);
                }
                self.advance(r, now)
            }
            Classified::Negative {
                kind: NegativeKind::NxDomain,
                chain,
                soa,
            } if minimising && chain.is_empty() => {
                // RFC 8020: nothing exists below a name that does not exist.
                if validating {
                    keep_proof(frame, msg);
                }
                let qname = frame.qname.clone();
                self.negative(r, qname, NegativeKind::NxDomain, soa, out.addr, now)
            }
            _ if minimising => {
                // The name so far exists (with or without data): one label more.
                frame.minimise = frame.minimise.map(|labels| labels + 1);
                self.advance(r, now)
            }
            Classified::Answer { chain, rrset } => {
                if !authoritative {
                    self.fail_server(out.server);
                    return self.advance(r, now);
                }
                if validating {
                    keep_proof(frame, msg);
                }
                if !defer_cache {
                    cache_chain(r, &chain, rank, now);
                    r.cache().insert(rrset.clone(), rank, now);
                }
                frame.chain.extend(chain);
                let mut answers = std::mem::take(&mut frame.chain);
                if answers.len() > r.config().limits.max_cname_chain {
                    return self.fail(r, now, EDE_OTHER, "CNAME chain too long");
                }
                answers.extend(rrset);
                self.complete(r, now, positive_answer(answers))
            }
            Classified::Alias { chain, target } => {
                if !authoritative {
                    self.fail_server(out.server);
                    return self.advance(r, now);
                }
                if validating {
                    keep_proof(frame, msg);
                }
                if !defer_cache {
                    cache_chain(r, &chain, rank, now);
                }
                frame.chain.extend(chain);
                if frame.chain.len() > r.config().limits.max_cname_chain {
                    return self.fail(r, now, EDE_OTHER, "CNAME chain too long");
                }
                self.restart_at(r, target, now)
            }
            Classified::Negative { kind, chain, soa } => {
                if !authoritative {
                    self.fail_server(out.server);
                    return self.advance(r, now);
                }
                if validating {
                    keep_proof(frame, msg);
                }
                if !defer_cache {
                    cache_chain(r, &chain, rank, now);
                }
                let name = chain_end(&chain).unwrap_or_else(|| frame.qname.clone());
                frame.chain.extend(chain);
                self.negative(r, name, kind, soa, out.addr, now)
            }
        }
    }

    /// Finishes the top frame with a negative answer for `name`, caching it unless it
    /// contradicts cached data (then the contested positive data is the answer).
    fn negative(
        &mut self,
        r: &Resolver,
        name: Name,
        kind: NegativeKind,
        soa: Option<Record>,
        responder: SocketAddr,
        now: u64,
    ) -> Step {
        let Some(frame) = self.frames.last_mut() else {
            return self.advance(r, now);
        };
        let metadata = (kind == NegativeKind::NxDomain).then(|| {
            let asked = frame.servers.iter().filter(|s| s.asked).count();
            NxMetadata::from_server(responder.ip(), asked, frame.servers.len())
        });
        let key = CacheKey::new(name.clone(), frame.qtype);
        // With validation, a negative answer is cached once judged (and one for a name
        // server's address, not validated, not at all).
        if r.validator().is_none()
            && let Some(soa) = &soa
            && let NegativeInsert::Contested { .. } =
                r.cache()
                    .insert_negative_with(&key, kind, soa, metadata.clone(), now)
            && let Some(hit) = r.from_cache(&name, frame.qtype, now)
        {
            let mut answer = hit.answer;
            let mut answers = std::mem::take(&mut frame.chain);
            answers.append(&mut answer.answers);
            answer.answers = answers;
            return self.complete(r, now, answer);
        }
        let answer = Answer {
            rcode: match kind {
                NegativeKind::NxDomain => Rcode::NXDOMAIN,
                NegativeKind::NoData => Rcode::NOERROR,
            },
            answers: std::mem::take(&mut frame.chain),
            authority: soa.into_iter().collect(),
            stale: false,
            contested: false,
            external: false,
            extended_error: None,
            nx_metadata: metadata,
            security: Security::Indeterminate,
            rrsigs: Vec::new(),
            proof: Vec::new(),
        };
        self.complete(r, now, answer)
    }

    /// Continues the top frame at `target` (the end of an alias chain).
    fn restart_at(&mut self, r: &Resolver, target: Name, now: u64) -> Step {
        let Some(frame) = self.frames.last_mut() else {
            return self.advance(r, now);
        };
        if let Some(hit) = r.from_cache(&target, frame.qtype, now) {
            let mut answer = hit.answer;
            let mut answers = std::mem::take(&mut frame.chain);
            answers.append(&mut answer.answers);
            answer.answers = answers;
            return self.complete(r, now, answer);
        }
        let chain = std::mem::take(&mut frame.chain);
        let mut fresh = new_frame(r, frame.goal, target, frame.qtype, now);
        fresh.chain = chain;
        fresh.proof = std::mem::take(&mut frame.proof);
        fresh.zones = std::mem::take(&mut frame.zones);
        fresh.fetch = frame.fetch.take();
        *frame = fresh;
        self.advance(r, now)
    }

    /// Ends the top frame with `answer`: the client's answer, or addresses for the frame
    /// below.
    fn complete(&mut self, r: &Resolver, now: u64, answer: Answer) -> Step {
        let Some(frame) = self.frames.pop() else {
            return self.finish(answer);
        };
        match frame.goal {
            Goal::Client => {
                if r.validator().is_some() && answer.rcode != Rcode::SERVFAIL && !answer.stale {
                    let mut proof = frame.proof;
                    proof.extend(answer.rrsigs.iter().cloned());
                    proof.extend(answer.proof.iter().cloned());
                    self.pending = Some(Pending {
                        answer,
                        proof,
                        zones: frame.zones,
                    });
                    return self.validate(r, now);
                }
                let mut answer = answer;
                r.mark_external(&mut answer);
                self.finish(answer)
            }
            Goal::Fetch => {
                if let (Some(validator), Some(fetch)) = (r.validator(), &frame.fetch) {
                    let mut proof = frame.proof;
                    proof.extend(answer.rrsigs.iter().cloned());
                    proof.extend(answer.proof.iter().cloned());
                    let reply = (answer.rcode != Rcode::SERVFAIL).then_some(Reply {
                        rcode: answer.rcode,
                        answers: &answer.answers,
                        proof: &proof,
                    });
                    validator.learn(fetch, reply, &|n: &Name| r.is_cut(n, now), now);
                }
                self.validate(r, now)
            }
            Goal::NsAddress => {
                if let Some(parent) = self.frames.last_mut() {
                    let port = r.config().upstream_port;
                    for addr in addresses(&answer.answers, r.config().use_ipv6) {
                        add_server(&mut parent.servers, SocketAddr::new(addr, port));
                    }
                }
                self.advance(r, now)
            }
        }
    }

    /// Picks the next query to send, or gives up.
    fn advance(&mut self, r: &Resolver, now: u64) -> Step {
        let limits = &r.config().limits;
        loop {
            if self.done {
                return Step::Done(Answer::servfail(EDE_OTHER, "resolution already finished"));
            }
            if self.queries >= limits.max_upstream_queries {
                return self.fail(r, now, EDE_OTHER, "upstream query budget exhausted");
            }
            let depth = self.frames.len();
            let Some(frame) = self.frames.last_mut() else {
                return self.fail(r, now, EDE_OTHER, "nothing to resolve");
            };
            let pick = frame.retry.take().or_else(|| {
                let eligible: Vec<usize> = (0..frame.servers.len())
                    .filter(|&i| {
                        frame
                            .servers
                            .get(i)
                            .is_some_and(|s| s.failures < limits.max_tries_per_server)
                    })
                    .collect();
                let addrs: Vec<SocketAddr> = eligible
                    .iter()
                    .filter_map(|&i| frame.servers.get(i).map(|s| s.addr))
                    .collect();
                let chosen = r.servers().choose(&addrs, r.random())?;
                eligible.get(chosen).copied()
            });
            if let Some(index) = pick
                && let Some(server) = frame.servers.get(index).cloned()
            {
                return self.send(r, index, &server);
            }
            if let Some(ns) = frame.unresolved_ns.pop() {
                if let Some(hit) = r.from_cache(&ns, Rtype::A, now) {
                    let port = r.config().upstream_port;
                    for addr in addresses(&hit.answer.answers, r.config().use_ipv6) {
                        add_server(&mut frame.servers, SocketAddr::new(addr, port));
                    }
                    continue;
                }
                let looping = self
                    .frames
                    .iter()
                    .any(|f| f.qname == ns && f.qtype == Rtype::A);
                if depth <= limits.max_ns_lookup_depth && !looping {
                    let child = new_frame(r, Goal::NsAddress, ns, Rtype::A, now);
                    self.frames.push(child);
                }
                continue;
            }
            // Every server of this frame failed.
            let failed = self.frames.pop();
            if let Some(f) = &failed
                && f.goal == Goal::Fetch
            {
                if let (Some(validator), Some(fetch)) = (r.validator(), &f.fetch) {
                    validator.learn(fetch, None, &|n: &Name| r.is_cut(n, now), now);
                }
                return self.validate(r, now);
            }
            if failed
                .as_ref()
                .is_some_and(|f| f.confined && f.goal == Goal::Client)
            {
                return self.fail(
                    r,
                    now,
                    EDE_OTHER,
                    "local-scope zone: not resolved outside the partition",
                );
            }
            if self.frames.is_empty() || failed.is_some_and(|f| f.goal == Goal::Client) {
                return self.fail(
                    r,
                    now,
                    EDE_NO_REACHABLE_AUTHORITY,
                    "no authoritative server answered",
                );
            }
        }
    }

    fn send(&mut self, r: &Resolver, index: usize, server: &Server) -> Step {
        let Some(frame) = self.frames.last() else {
            return Step::Done(Answer::servfail(EDE_OTHER, "nothing to resolve"));
        };
        let (qname, qtype) = frame.question();
        let id = r.random().next_id();
        let mut query = Message::query(id, qname.clone(), qtype);
        query.flags.rd = frame.forwarding;
        let edns = !r.servers().no_edns(server.addr);
        if edns {
            let mut opt = Edns {
                udp_payload_size: r.config().edns_udp_size,
                ..Edns::default()
            };
            // RFC 4035 §4.1: a validating resolver sets DO. A forwarder is asked with CD
            // too, so that it hands over data it finds bogus and we judge it ourselves
            // (RFC 4035 §4.9.3 does not apply: it is not a stub).
            if r.validator().is_some() {
                opt.set_dnssec_ok(true);
                query.flags.cd = frame.forwarding;
            }
            query.edns = Some(opt);
        }
        let message = match query.to_wire(512) {
            Ok(bytes) => bytes,
            Err(_) => return Step::Done(Answer::servfail(EDE_OTHER, "query not writable")),
        };
        let (transport, timeout) = if server.tcp {
            (Transport::Tcp, TCP_TIMEOUT)
        } else {
            (Transport::Udp, r.servers().timeout(server.addr))
        };
        self.queries += 1;
        if let Some(asked) = self
            .frames
            .last_mut()
            .and_then(|f| f.servers.get_mut(index))
        {
            asked.asked = true;
        }
        self.outstanding = Some(Outstanding {
            id,
            server: index,
            addr: server.addr,
            transport,
            edns,
            qname,
            qtype,
            timeout,
        });
        Step::Send(Transmit {
            server: server.addr,
            transport,
            message,
            timeout,
        })
    }

    fn fail_server(&mut self, index: usize) {
        if let Some(server) = self
            .frames
            .last_mut()
            .and_then(|f| f.servers.get_mut(index))
        {
            server.failures = server.failures.saturating_add(1);
        }
    }

    /// Resolution failed: a stale answer if the cache has one (RFC 8767), else SERVFAIL.
    fn fail(&mut self, r: &Resolver, now: u64, info_code: u16, text: &str) -> Step {
        tracing::debug!(qname = %self.qname, qtype = %self.qtype, reason = text, "resolution failed");
        let answer = r
            .stale(&self.qname, self.qtype, now)
            .unwrap_or_else(|| Answer::servfail(info_code, text));
        self.finish(answer)
    }

    fn finish(&mut self, answer: Answer) -> Step {
        self.done = true;
        self.frames.clear();
        self.outstanding = None;
        Step::Done(answer)
    }

    /// Judges the pending client answer, or starts the fetch of the DS or DNSKEY RRset
    /// the judgement needs (taken from a referral seen on the way down when there is
    /// one, with no query).
    fn validate(&mut self, r: &Resolver, now: u64) -> Step {
        let Some(validator) = r.validator() else {
            return match self.pending.take() {
                Some(p) => self.finish(p.answer),
                None => self.advance(r, now),
            };
        };
        let is_cut = |n: &Name| r.is_cut(n, now);
        loop {
            let Some(pending) = &self.pending else {
                return self.advance(r, now);
            };
            let evidence = Evidence {
                qname: &self.qname,
                qtype: self.qtype,
                rcode: pending.answer.rcode,
                answers: &pending.answer.answers,
                authority: &pending.answer.authority,
                proof: &pending.proof,
                zones: &pending.zones,
            };
            let fetch = match validator.judge(&evidence, &is_cut, now) {
                Ok(verdict) => return self.conclude(r, verdict, now),
                Err(fetch) => fetch,
            };
            if let Fetch::Ds(zone) = &fetch
                && let Some(at) = self.referral_ds.iter().position(|(z, _, _)| z == zone)
            {
                let (_, ds, proof) = self.referral_ds.swap_remove(at);
                let reply = Reply {
                    rcode: Rcode::NOERROR,
                    answers: &ds,
                    proof: &proof,
                };
                validator.learn(&fetch, Some(reply), &is_cut, now);
                continue;
            }
            let times = match self.fetched.iter_mut().find(|(f, _)| *f == fetch) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    self.fetched.push((fetch.clone(), 1));
                    1
                }
            };
            if times > MAX_FETCHES_OF_ONE {
                let failure = Failure {
                    security: Security::Bogus,
                    ede: Ede::DnssecIndeterminate,
                    reason: "the chain of trust could not be built",
                };
                return self.conclude(r, Verdict::from(failure), now);
            }
            let (qname, qtype) = fetch.question();
            let mut frame = new_frame(r, Goal::Fetch, qname, qtype, now);
            frame.fetch = Some(fetch);
            self.frames.push(frame);
            return self.advance(r, now);
        }
    }

    /// Ends the resolution with the pending answer as `verdict` says: Bogus goes out
    /// with its Extended DNS Error (as SERVFAIL, unless the client set CD) and is not
    /// cached; anything else is cached with its signatures and status.
    fn conclude(&mut self, r: &Resolver, verdict: Verdict, now: u64) -> Step {
        let Some(pending) = self.pending.take() else {
            return self.advance(r, now);
        };
        let mut answer = pending.answer;
        let proof = pending.proof;
        answer.security = verdict.security;
        answer.rrsigs = rrsets(answer.answers.iter().cloned())
            .iter()
            .filter_map(|set| set.first())
            .flat_map(|first| rrsigs_of(&proof, &first.owner, first.rtype()))
            .collect();
        answer.proof = proof
            .iter()
            .filter(|p| {
                is_denial(p)
                    || answer.authority.iter().any(|a| {
                        a.owner == p.owner
                            && matches!(&p.data, RData::Rrsig(s) if s.type_covered == a.rtype())
                    })
            })
            .cloned()
            .collect();
        match (verdict.security, verdict.failure) {
            (Security::Bogus, failure) => {
                let (code, reason) = failure.map_or((Ede::DnssecBogus.code(), "bogus"), |f| {
                    (f.ede.code(), f.reason)
                });
                tracing::info!(qname = %self.qname, qtype = %self.qtype, ede = code, reason, "DNSSEC validation failed");
                answer.extended_error = Some(ExtendedError::new(code, reason));
            }
            (security, failure) => {
                if answer.extended_error.is_none()
                    && let Some(f) = failure
                {
                    // RFC 8914: why an answer is not Secure (an unsupported algorithm,
                    // too many NSEC3 iterations) may go with it.
                    answer.extended_error = Some(ExtendedError::new(f.ede.code(), f.reason));
                }
                if security == Security::Secure
                    && negative_of(&answer, &self.qname, self.qtype).is_some()
                    && let Some(soa) = answer.authority.iter().find(|a| a.rtype() == Rtype::SOA)
                    && let Some(validator) = r.validator()
                {
                    validator.remember_denial(&soa.owner, soa, &answer.proof, now);
                }
                if let Some(contested) = self.cache_validated(r, &answer, &proof, security, now) {
                    answer = contested;
                }
            }
        }
        r.mark_external(&mut answer);
        self.finish(answer)
    }

    /// Caches a validated (not Bogus) answer with its signatures: each RRset of the
    /// answer section but the CNAMEs synthesised from a DNAME, and the negative answer
    /// with its proof. Returns the contested positive data instead when the negative
    /// answer contradicts the cache (seed 003 §12.2 rule 5).
    fn cache_validated(
        &self,
        r: &Resolver,
        answer: &Answer,
        proof: &[Record],
        security: Security,
        now: u64,
    ) -> Option<Answer> {
        let denial: Vec<Record> = proof.iter().filter(|p| is_denial(p)).cloned().collect();
        let mut follows_dname = false;
        for set in rrsets(answer.answers.iter().cloned()) {
            let Some(first) = set.first() else {
                continue;
            };
            let (owner, rtype) = (first.owner.clone(), first.rtype());
            let synthesised = follows_dname && rtype == Rtype::CNAME;
            follows_dname = rtype == Rtype::DNAME;
            if synthesised {
                continue;
            }
            let mut rrsigs = rrsigs_of(proof, &owner, rtype);
            if expanded(proof, &owner, rtype) {
                rrsigs.extend(denial.iter().cloned());
            }
            let signed = Signed {
                rrsigs: rrsigs.into(),
                security,
            };
            r.cache().insert_signed(set, signed, Rank::Answer, now);
        }
        let (name, kind) = negative_of(answer, &self.qname, self.qtype)?;
        let soa = answer.authority.iter().find(|a| a.rtype() == Rtype::SOA)?;
        let signed = Signed {
            rrsigs: answer.proof.clone().into(),
            security,
        };
        let key = CacheKey::new(name.clone(), self.qtype);
        let inserted = r.cache().insert_negative_signed(
            &key,
            kind,
            soa,
            answer.nx_metadata.clone(),
            signed,
            now,
        );
        if !matches!(inserted, NegativeInsert::Contested { .. }) {
            return None;
        }
        let mut hit = r.from_cache(&name, self.qtype, now)?.answer;
        let mut answers: Vec<Record> = answer
            .answers
            .iter()
            .filter(|a| a.owner != name)
            .cloned()
            .collect();
        answers.append(&mut hit.answers);
        hit.answers = answers;
        Some(hit)
    }
}

/// A frame for (`qname`, `qtype`) at the closest cut with known servers.
fn new_frame(r: &Resolver, goal: Goal, qname: Name, qtype: Rtype, now: u64) -> Frame {
    let config = r.config();
    let forward = config
        .forward_zones
        .iter()
        .filter(|f| qname.is_subdomain_of(&f.zone))
        .max_by_key(|f| f.zone.label_count());
    // Seed 003 §16.1: a local-scope name goes only to upstreams inside the partition.
    let confined =
        r.policy(&qname) == Policy::PartitionOnly && !forward.is_some_and(|f| f.in_partition);
    let (zone, servers, unresolved_ns, forwarding) = match forward {
        _ if confined => (qname.clone(), Vec::new(), Vec::new(), false),
        Some(f) => (f.zone.clone(), servers_at(&f.upstreams), Vec::new(), true),
        None => {
            // RFC 4035 §4.2: a DS RRset is the parent's; start above the child's cut.
            let start = match qtype {
                Rtype::DS => qname.parent().unwrap_or_else(Name::root),
                _ => qname.clone(),
            };
            let (zone, servers, unresolved) = closest_cut(r, &start, now);
            (zone, servers, unresolved, false)
        }
    };
    let minimise = (config.qname_minimisation && !forwarding).then(|| zone.label_count() + 1);
    Frame {
        goal,
        qname,
        qtype,
        chain: Vec::new(),
        zone,
        servers,
        unresolved_ns,
        forwarding,
        minimise,
        retry: None,
        confined,
        proof: Vec::new(),
        zones: Vec::new(),
        fetch: None,
    }
}

/// The deepest ancestor of `qname` (itself included) with a cached NS RRset whose
/// servers can be reached, else the root hints.
fn closest_cut(r: &Resolver, qname: &Name, now: u64) -> (Name, Vec<Server>, Vec<Name>) {
    let mut name = qname.clone();
    loop {
        if let Some(ns) = r.cache().get(&CacheKey::new(name.clone(), Rtype::NS), now) {
            let (servers, unresolved) = name_servers(r, &name, &ns.records, &[], now);
            if !servers.is_empty() || !unresolved.is_empty() {
                return (name, servers, unresolved);
            }
        }
        match name.parent() {
            Some(parent) => name = parent,
            None => break,
        }
    }
    (Name::root(), servers_at(&r.config().root_hints), Vec::new())
}

/// The servers of `zone` from its NS records: addresses from `glue` and the cache; NS
/// names with no address known are returned to be looked up, unless they lie inside
/// `zone` itself (they would need glue, and looking them up would ask the very servers
/// we cannot reach).
fn name_servers(
    r: &Resolver,
    zone: &Name,
    ns: &[Record],
    glue: &[Record],
    now: u64,
) -> (Vec<Server>, Vec<Name>) {
    let config = r.config();
    let mut servers = Vec::new();
    let mut unresolved = Vec::new();
    for target in ns.iter().filter_map(|r| match &r.data {
        RData::Ns(n) => Some(&n.0),
        _ => None,
    }) {
        let mut found = false;
        let glued = glue.iter().filter(|g| g.owner == *target).cloned();
        let mut records: Vec<Record> = glued.collect();
        for rtype in [Rtype::A, Rtype::AAAA] {
            if let Some(hit) = r.cache().get(&CacheKey::new(target.clone(), rtype), now) {
                records.extend(hit.records);
            }
        }
        for addr in addresses(&records, config.use_ipv6) {
            add_server(&mut servers, SocketAddr::new(addr, config.upstream_port));
            found = true;
        }
        if !found && !target.is_subdomain_of(zone) && !unresolved.contains(target) {
            unresolved.push(target.clone());
        }
    }
    (servers, unresolved)
}

fn servers_at(addrs: &[SocketAddr]) -> Vec<Server> {
    let mut servers = Vec::new();
    for addr in addrs {
        add_server(&mut servers, *addr);
    }
    servers
}

fn add_server(servers: &mut Vec<Server>, addr: SocketAddr) {
    if !servers.iter().any(|s| s.addr == addr) {
        servers.push(Server {
            addr,
            failures: 0,
            tcp: false,
            asked: false,
        });
    }
}

/// The addresses in A (and, when allowed, AAAA) records.
fn addresses(records: &[Record], ipv6: bool) -> Vec<IpAddr> {
    records
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::Aaaa(aaaa) if ipv6 => Some(IpAddr::V6(aaaa.0)),
            _ => None,
        })
        .collect()
}

/// Whether `msg` is the reply to `out`: same id, QR set, the same question.
fn answers_query(msg: &Message, out: &Outstanding) -> bool {
    msg.id == out.id
        && msg.flags.qr
        && msg.questions.len() == 1
        && msg
            .question()
            .is_some_and(|q| q.qname == out.qname && q.qtype == out.qtype && q.qclass == Class::IN)
}

/// Caches the CNAME and DNAME records of a chain (not the synthesised CNAMEs, which a
/// DNAME's cache entry stands for) with `rank`.
fn cache_chain(r: &Resolver, chain: &[Record], rank: Rank, now: u64) {
    let mut follows_dname = false;
    for record in chain {
        let synthesised = follows_dname && record.rtype() == Rtype::CNAME;
        follows_dname = record.rtype() == Rtype::DNAME;
        if !synthesised {
            r.cache().insert(vec![record.clone()], rank, now);
        }
    }
}

/// Where a chain of aliases leads.
fn chain_end(chain: &[Record]) -> Option<Name> {
    chain.iter().rev().find_map(|r| match &r.data {
        RData::Cname(c) => Some(c.0.clone()),
        _ => None,
    })
}

fn positive_answer(answers: Vec<Record>) -> Answer {
    Answer::positive(answers)
}

/// Whether `r` is DNSSEC proof material: an RRSIG, NSEC or NSEC3 record.
fn is_proof(r: &Record) -> bool {
    matches!(r.rtype(), Rtype::RRSIG | Rtype::NSEC | Rtype::NSEC3)
}

/// Whether `r` is an NSEC or NSEC3 record or an RRSIG over one.
fn is_denial(r: &Record) -> bool {
    match &r.data {
        RData::Nsec(_) | RData::Nsec3(_) => true,
        RData::Rrsig(sig) => matches!(sig.type_covered, Rtype::NSEC | Rtype::NSEC3),
        _ => false,
    }
}

/// Keeps the proof material of a response the frame's answer is made of: RRSIG, NSEC
/// and NSEC3 records of the answer and authority sections, in the bailiwick of the
/// server's zone (or any, from a forwarder).
fn keep_proof(frame: &mut Frame, msg: &Message) {
    let zone = &frame.zone;
    let forwarding = frame.forwarding;
    frame.proof.extend(
        msg.answers
            .iter()
            .chain(&msg.authority)
            .filter(|r| r.class == Class::IN && is_proof(r))
            .filter(|r| forwarding || r.owner.is_subdomain_of(zone))
            .cloned(),
    );
    if !frame.zones.contains(&frame.zone) {
        frame.zones.push(frame.zone.clone());
    }
}

/// The DS RRset of `child` in a referral from `parent`'s servers, and the RRSIG, NSEC
/// and NSEC3 records of the authority section in `parent`'s bailiwick.
fn referral_proof(msg: &Message, parent: &Name, child: &Name) -> (Vec<Record>, Vec<Record>) {
    let usable = |r: &&Record| r.class == Class::IN && r.owner.is_subdomain_of(parent);
    let ds = msg
        .authority
        .iter()
        .filter(usable)
        .filter(|r| r.owner == *child && r.rtype() == Rtype::DS)
        .cloned()
        .collect();
    let proof = msg
        .authority
        .iter()
        .filter(usable)
        .filter(|r| is_proof(r))
        .cloned()
        .collect();
    (ds, proof)
}

/// The RRSIGs in `proof` over the RRset (`owner`, `rtype`).
fn rrsigs_of(proof: &[Record], owner: &Name, rtype: Rtype) -> Vec<Record> {
    proof
        .iter()
        .filter(|r| r.owner == *owner)
        .filter(|r| matches!(&r.data, RData::Rrsig(sig) if sig.type_covered == rtype))
        .cloned()
        .collect()
}

/// Whether the RRset (`owner`, `rtype`) was expanded from a wildcard, by its RRSIGs'
/// Labels field (RFC 4034 §3.1.3).
fn expanded(proof: &[Record], owner: &Name, rtype: Rtype) -> bool {
    !owner.is_wildcard()
        && rrsigs_of(proof, owner, rtype)
            .iter()
            .any(|r| match &r.data {
                RData::Rrsig(sig) => usize::from(sig.labels) < owner.label_count(),
                _ => false,
            })
}

/// The name and kind of a negative answer to (`qname`, `qtype`), with its SOA, or
/// `None` for a positive one.
fn negative_of(answer: &Answer, qname: &Name, qtype: Rtype) -> Option<(Name, NegativeKind)> {
    let end = chain_end(&answer.answers).unwrap_or_else(|| qname.clone());
    match answer.rcode {
        Rcode::NXDOMAIN => Some((end, NegativeKind::NxDomain)),
        Rcode::NOERROR
            if !answer
                .answers
                .iter()
                .any(|r| r.owner == end && r.rtype() == qtype) =>
        {
            Some((end, NegativeKind::NoData))
        }
        _ => None,
    }
}
