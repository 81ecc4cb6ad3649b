//! The answering core the network edge calls: message checks, EDNS, cookies, rate
//! limiting, and the choice between a prepared answer and the general path.

use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use lib_dns::Name;
use lib_dns::message::{HEADER_LEN, QueryView};
use lib_dns::types::{Opcode, Rcode, Rtype};

use crate::catalog::Catalog;
use crate::cookie::{CookieCheck, CookieSecret};
use crate::resolve::{self, Resolution};
use crate::response::{self, Echo, OptOut};
use crate::rrl::{ResponseKind, Rrl, RrlConfig, Verdict};
use crate::{Answerer, Outcome, QueryContext, Transport};

/// The UDP payload size we offer and use when nothing else is said (DNS Flag Day 2020).
pub const DEFAULT_UDP_SIZE: u16 = 1232;
/// A DNS message over UDP without EDNS is at most 512 bytes (RFC 1035 §4.2.1).
const PLAIN_UDP_SIZE: usize = 512;

/// Settings of the answering core.
#[derive(Clone)]
pub struct ServerConfig {
    /// The largest UDP response we send (and announce in OPT).
    pub max_udp_size: u16,
    /// The server-cookie secret; `None` turns server cookies off.
    pub cookie_secret: Option<CookieSecret>,
    /// Answer UDP queries without a valid server cookie with BADCOOKIE (RFC 7873
    /// §5.2.3, the "require cookies" policy); off by default.
    pub require_cookie: bool,
    /// Response rate limiting for UDP; `None` (the default) turns it off.
    pub rrl: Option<RrlConfig>,
    /// Seeds the rate limiter's bucket hash.
    pub rrl_seed: [u8; 16],
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            max_udp_size: DEFAULT_UDP_SIZE,
            cookie_secret: None,
            require_cookie: false,
            rrl: None,
            rrl_seed: [0; 16],
        }
    }
}

/// The authoritative answering core over a swappable [`Catalog`].
pub struct AuthServer {
    catalog: ArcSwap<Catalog>,
    config: ServerConfig,
    rrl: Option<Rrl>,
}

impl AuthServer {
    /// A server answering from `catalog` with `config`.
    pub fn new(catalog: Catalog, config: ServerConfig) -> AuthServer {
        let rrl = config.rrl.map(|c| Rrl::new(c, config.rrl_seed));
        AuthServer {
            catalog: ArcSwap::from_pointee(catalog),
            config,
            rrl,
        }
    }

    /// The catalog in use.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.load_full()
    }

    /// Replaces the catalog atomically: each query sees the old one or the new one.
    pub fn set_catalog(&self, catalog: Catalog) {
        self.catalog.store(Arc::new(catalog));
    }
}

/// What a query told us, beyond its question.
struct Facts<'a> {
    echo: Echo<'a>,
    limit: usize,
    opt: Option<OptOut>,
    cookie: CookieCheck,
}

impl Answerer for AuthServer {
    fn answer(&self, query: &[u8], ctx: &QueryContext, out: &mut Vec<u8>) -> Outcome {
        out.clear();
        let Some(&[id_hi, id_lo, bits_hi, bits_lo]) =
            query.get(..4).and_then(|b| <&[u8; 4]>::try_from(b).ok())
        else {
            return Outcome::Drop;
        };
        if query.len() < HEADER_LEN || bits_hi & 0x80 != 0 {
            // No header, or a response: never answered (RFC 1035 §7.3).
            return Outcome::Drop;
        }
        let mut echo = Echo {
            id: u16::from_be_bytes([id_hi, id_lo]),
            opcode: Opcode::new((bits_hi >> 3) & 0x0f),
            rd: bits_hi & 0x01 != 0,
            cd: bits_lo & 0x10 != 0,
            question: None,
        };
        let Ok(view) = QueryView::parse(query) else {
            response::write(
                out,
                &echo,
                &Resolution::status(Rcode::FORMERR),
                PLAIN_UDP_SIZE,
                None,
            );
            return self.limit(ctx, ResponseKind::Error, b"\0", out);
        };
        echo.question = Some((view.qname_wire(), view.qtype, view.qclass));
        let facts = self.facts(&view, echo, ctx);
        let status = |rcode| Resolution::status(rcode);
        if let Some(edns) = &view.edns
            && edns.version > 0
        {
            // RFC 6891 §6.1.3: an unknown version gets BADVERS.
            let opt = facts.opt.as_ref();
            response::write(out, &facts.echo, &status(Rcode::BADVERS), facts.limit, opt);
            return self.limit(ctx, ResponseKind::Error, b"\0", out);
        }
        if view.signed
            || matches!(facts.echo.opcode, Opcode::NOTIFY | Opcode::UPDATE)
            || (facts.echo.opcode == Opcode::QUERY
                && matches!(view.qtype, Rtype::AXFR | Rtype::IXFR))
        {
            return Outcome::Defer;
        }
        if facts.echo.opcode != Opcode::QUERY {
            let opt = facts.opt.as_ref();
            response::write(out, &facts.echo, &status(Rcode::NOTIMP), facts.limit, opt);
            return self.limit(ctx, ResponseKind::Error, b"\0", out);
        }
        if self.config.require_cookie
            && self.config.cookie_secret.is_some()
            && ctx.transport == Transport::Udp
            && facts.cookie != CookieCheck::Valid
            && facts.cookie != CookieCheck::Absent
        {
            let opt = facts.opt.as_ref();
            response::write(
                out,
                &facts.echo,
                &status(Rcode::BADCOOKIE),
                facts.limit,
                opt,
            );
            return Outcome::Reply;
        }
        if matches!(view.qtype, Rtype::OPT | Rtype::TSIG | Rtype::TKEY) {
            let opt = facts.opt.as_ref();
            response::write(out, &facts.echo, &status(Rcode::FORMERR), facts.limit, opt);
            return self.limit(ctx, ResponseKind::Error, b"\0", out);
        }
        let catalog = self.catalog.load();
        let lower = view.qname_lower();
        // DO for a signed zone: the general path adds RRSIGs and denial proofs. The zone
        // is the one that answers: for the DS of a child apex we also serve, the parent
        // (RFC 4035 §3.1.4.1), whose proof of no DS a validator needs even when the
        // child is unsigned.
        let dnssec = facts.opt.as_ref().is_some_and(|o| o.dnssec_ok)
            && resolve::zone_for_question(&catalog, lower, view.qtype)
                .is_some_and(|z| z.is_signed());
        if !dnssec
            && let Some(hit) = catalog.fast(lower, view.qtype, view.qclass)
            && write_prepared(out, &facts, &view, &hit)
        {
            let kind = kind_of(hit.rcode, hit.sections.counts[0]);
            let key = if kind == ResponseKind::NxDomain {
                apex_of(&catalog, lower)
            } else {
                lower
            };
            return self.limit_with(ctx, kind, key, facts.cookie, out);
        }
        let res = match Name::from_wire(view.qname_wire()) {
            Ok(qname) => resolve::resolve(&catalog, &qname, view.qtype, view.qclass, dnssec),
            Err(_) => status(Rcode::FORMERR),
        };
        response::write(out, &facts.echo, &res, facts.limit, facts.opt.as_ref());
        let kind = kind_of(res.rcode, res.answer.len() as u16);
        let key = if kind == ResponseKind::NxDomain {
            apex_of(&catalog, lower)
        } else {
            lower
        };
        self.limit_with(ctx, kind, key, facts.cookie, out)
    }
}

impl AuthServer {
    /// Reads the EDNS and cookie facts of a query.
    fn facts<'a>(&self, view: &QueryView<'a>, echo: Echo<'a>, ctx: &QueryContext) -> Facts<'a> {
        let Some(edns) = &view.edns else {
            let limit = match ctx.transport {
                Transport::Udp => PLAIN_UDP_SIZE,
                Transport::Stream => usize::from(u16::MAX),
            };
            return Facts {
                echo,
                limit,
                opt: None,
                cookie: CookieCheck::Absent,
            };
        };
        let limit = match ctx.transport {
            // RFC 6891 §6.2.5: sizes below 512 are treated as 512.
            Transport::Udp => {
                usize::from(edns.udp_payload_size.min(self.config.max_udp_size)).max(PLAIN_UDP_SIZE)
            }
            Transport::Stream => usize::from(u16::MAX),
        };
        let client: IpAddr = ctx.client.ip();
        let (cookie, server_cookie) = match (&self.config.cookie_secret, edns.cookie) {
            (Some(secret), Some(data)) => {
                let check = secret.check(Some(data), client, ctx.now);
                let cc = data
                    .get(..8)
                    .and_then(|c| <[u8; 8]>::try_from(c).ok())
                    .unwrap_or_default();
                let mut both = [0u8; 24];
                both[..8].copy_from_slice(&cc);
                both[8..].copy_from_slice(&secret.server_cookie(&cc, client, ctx.now));
                (check, Some(both))
            }
            _ => (CookieCheck::Absent, None),
        };
        Facts {
            echo,
            limit,
            opt: Some(OptOut {
                udp_size: self.config.max_udp_size,
                dnssec_ok: edns.dnssec_ok(),
                cookie: server_cookie,
            }),
            cookie,
        }
    }

    fn limit(
        &self,
        ctx: &QueryContext,
        kind: ResponseKind,
        key: &[u8],
        out: &mut Vec<u8>,
    ) -> Outcome {
        self.limit_with(ctx, kind, key, CookieCheck::Absent, out)
    }

    /// Applies response rate limiting to the response in `out` (UDP only; a valid
    /// server cookie proves the source address, RFC 7873 §5.4, and is never limited).
    fn limit_with(
        &self,
        ctx: &QueryContext,
        kind: ResponseKind,
        key: &[u8],
        cookie: CookieCheck,
        out: &mut Vec<u8>,
    ) -> Outcome {
        let Some(rrl) = &self.rrl else {
            return Outcome::Reply;
        };
        if ctx.transport != Transport::Udp || cookie == CookieCheck::Valid {
            return Outcome::Reply;
        }
        match rrl.check(ctx.client.ip(), kind, key, ctx.now) {
            Verdict::Send => Outcome::Reply,
            Verdict::Drop => {
                out.clear();
                Outcome::Drop
            }
            Verdict::Slip => {
                slip(out);
                Outcome::Reply
            }
        }
    }
}

/// Cuts a response down to header and question with TC set (the RRL "slip").
fn slip(out: &mut Vec<u8>) {
    let qd = out
        .get(4..6)
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map_or(0, u16::from_be_bytes);
    let mut end = HEADER_LEN;
    if qd == 1 {
        while let Some(&len) = out.get(end) {
            end += usize::from(len) + 1;
            if len == 0 {
                break;
            }
        }
        end += 4;
    }
    out.truncate(end.min(out.len()));
    if let Some(b) = out.get_mut(2) {
        *b |= 0x02;
    }
    if let Some(b) = out.get_mut(3) {
        *b &= 0xf0;
    }
    if let Some(counts) = out.get_mut(6..12) {
        counts.fill(0);
    }
}

/// Writes a prepared answer; `false` when it does not fit (the general path then
/// truncates properly).
fn write_prepared(
    out: &mut Vec<u8>,
    facts: &Facts<'_>,
    view: &QueryView<'_>,
    hit: &crate::catalog::Hit<'_>,
) -> bool {
    let p = &hit.sections;
    let opt_len = facts.opt.as_ref().map_or(0, OptOut::wire_len);
    let qname = view.qname_wire();
    let chain_len = hit.chain.as_ref().map_or(0, |c| c.bytes.len());
    let total = HEADER_LEN + qname.len() + 4 + p.bytes.len() + chain_len + opt_len;
    if total > facts.limit {
        return false;
    }
    out.clear();
    out.reserve(total);
    let bits = response::header_bits(&facts.echo, p.aa, false, hit.rcode);
    let ar = p.counts[2] + u16::from(facts.opt.is_some());
    let an = p.counts[0] + hit.chain.as_ref().map_or(0, |c| c.counts[0]);
    for word in [facts.echo.id, bits, 1, an, p.counts[1], ar] {
        out.extend_from_slice(&word.to_be_bytes());
    }
    out.extend_from_slice(qname);
    out.extend_from_slice(&view.qtype.0.to_be_bytes());
    out.extend_from_slice(&view.qclass.0.to_be_bytes());
    let cname_target = out.len() + 12;
    if !p.append(hit.delta, hit.wildcard, out) {
        return false;
    }
    if let Some(chain) = &hit.chain
        && !append_chain(chain, cname_target, out)
    {
        return false;
    }
    if let Some(opt) = &facts.opt {
        opt.write(hit.rcode, out);
    }
    true
}

/// Appends plain records (see `catalog::is_direct`) with their owner pointers aimed at
/// `owner` (the CNAME target written at that offset).
fn append_chain(chain: &crate::prepared::Sections<'_>, owner: usize, out: &mut Vec<u8>) -> bool {
    let Ok(owner) = u16::try_from(owner) else {
        return false;
    };
    if owner >= 0x4000 {
        return false;
    }
    let base = out.len();
    out.extend_from_slice(chain.bytes);
    let mut at = base;
    while at < out.len() {
        let Some(rdlen) = out
            .get(at + 10..at + 12)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
        else {
            return false;
        };
        if let Some(slot) = out.get_mut(at..at + 2) {
            slot.copy_from_slice(&(0xc000 | owner).to_be_bytes());
        }
        at += 12 + usize::from(u16::from_be_bytes(rdlen));
    }
    at == out.len()
}

/// The rate-limiting kind of a response.
fn kind_of(rcode: Rcode, answers: u16) -> ResponseKind {
    match rcode {
        Rcode::NOERROR if answers > 0 => ResponseKind::Answer,
        Rcode::NOERROR => ResponseKind::Empty,
        Rcode::NXDOMAIN => ResponseKind::NxDomain,
        _ => ResponseKind::Error,
    }
}

/// The apex of the zone of a name (NXDOMAIN responses are limited per zone), or the
/// name itself.
fn apex_of<'a>(catalog: &'a Catalog, lower: &'a [u8]) -> &'a [u8] {
    catalog
        .zone_for(lower)
        .map_or(lower, |z| z.apex().as_wire())
}
