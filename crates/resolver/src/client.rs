//! The client resolution contract (seed 003 §14.2): a name resolved once into an
//! identity, every endpoint, a TTL and flags, for applications that connect to it.
//!
//! A resolution is made of several DNS lookups ([`lookups`]): the name's A, AAAA, TXT,
//! HTTPS and ID records and the `_zhtp._quic` SRV records under it. However the caller
//! gets their [`Answer`]s (the node asks its own answering path, which serves its zones
//! and recurses for the rest), [`Resolution::assemble`] turns them into the structure of
//! seed 003 §5.4 step 3, with nothing chosen for the caller: every endpoint is listed
//! with its priority and weight, and endpoint selection stays with the system (§14.1
//! rule 6).
//!
//! - identity: the ID record (seed 003 §3.3 of `docs/zdns-records.md`), else the
//!   `pubkey=` TXT string; `node_id=` TXT gives the node id.
//! - endpoints: `mesh_endpoint=HOST:PORT,priority=N` TXT strings, SRV targets, HTTPS
//!   targets and hints, and the name's own addresses (with the HTTPS port when given).
//! - flags: `stale` and `contested` when any lookup was; `degraded` when a lookup
//!   failed (SERVFAIL) but others answered; `tofu` whenever an identity is returned, as
//!   no signature over it is verified yet (trust on first use); `external` when data
//!   comes from an external-scope zone (seed 003 §16.1).

use std::net::IpAddr;

use lib_dns::encoding::base64_string;
use lib_dns::rdata::SvcParam;
use lib_dns::{Name, RData, Rcode, Record, Rtype};

use crate::answer::Answer;

/// The labels of the service whose SRV records are looked up under the name.
pub const SERVICE_LABELS: [&[u8]; 2] = [b"_quic", b"_zhtp"];

/// Who the name belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The identity of the ID record (a DID), if any.
    pub identity: Option<String>,
    /// The node id (`node_id=` TXT).
    pub node_id: Option<String>,
    /// The public key as `ALGORITHM:BASE64` (ID record) or as the `pubkey=` TXT says.
    pub public_key: Option<String>,
}

impl Identity {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.identity.is_none() && self.node_id.is_none() && self.public_key.is_none()
    }
}

/// Where an endpoint came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointSource {
    /// A `mesh_endpoint=` TXT string.
    MeshEndpoint,
    /// An SRV record of the service.
    Srv,
    /// An HTTPS record (target or address hint).
    Https,
    /// The name's own A or AAAA record.
    Address,
}

impl EndpointSource {
    /// A short lowercase label.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointSource::MeshEndpoint => "mesh_endpoint",
            EndpointSource::Srv => "srv",
            EndpointSource::Https => "https",
            EndpointSource::Address => "address",
        }
    }
}

/// One way to reach the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// An address or a host name.
    pub host: String,
    /// The port, when the records say.
    pub port: Option<u16>,
    /// Lower first (SRV and HTTPS priority, mesh_endpoint priority; 0 for addresses).
    pub priority: u16,
    /// Relative weight among equal priorities (SRV; 0 otherwise).
    pub weight: u16,
    /// Which record it came from.
    pub source: EndpointSource,
}

/// How far to trust the result (seed 003 §14.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResolutionFlags {
    /// Expired data served while upstreams are unreachable.
    pub stale: bool,
    /// Contradicted or claimed by several owners.
    pub contested: bool,
    /// Some lookups failed; the rest is partial.
    pub degraded: bool,
    /// The identity is unverified: trust on first use.
    pub tofu: bool,
    /// Some data comes from an external-scope zone (seed 003 §16.1 class C).
    pub external: bool,
}

/// A resolved name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The name, without the final dot.
    pub name: String,
    /// Who it belongs to.
    pub identity: Identity,
    /// Every endpoint, in record order within each source.
    pub endpoints: Vec<Endpoint>,
    /// Application protocols (HTTPS `alpn`).
    pub protocols: Vec<String>,
    /// Seconds the whole result stays valid: the smallest TTL used.
    pub ttl: u32,
    /// Trust flags.
    pub flags: ResolutionFlags,
}

/// Why a name could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// The name does not exist (in this resolver's current view, seed 003 §12.1).
    NotFound,
    /// Every lookup failed.
    Failed,
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ResolveError::NotFound => "name not found",
            ResolveError::Failed => "resolution failed",
        })
    }
}

impl std::error::Error for ResolveError {}

/// The lookups a resolution of `name` is made of.
pub fn lookups(name: &Name) -> Vec<(Name, Rtype)> {
    let mut list: Vec<(Name, Rtype)> = [Rtype::A, Rtype::AAAA, Rtype::TXT, Rtype::HTTPS, Rtype::ID]
        .into_iter()
        .map(|t| (name.clone(), t))
        .collect();
    let service = SERVICE_LABELS
        .iter()
        .try_fold(name.clone(), |n, label| n.child(label));
    if let Ok(service) = service {
        list.push((service, Rtype::SRV));
    }
    list
}

impl Resolution {
    /// Builds the resolution of `name` from the answers to its [`lookups`] (in any order;
    /// the question of each answer is given with it).
    pub fn assemble(name: &Name, answers: &[(Rtype, Answer)]) -> Result<Resolution, ResolveError> {
        let failed = answers
            .iter()
            .filter(|(_, a)| a.rcode == Rcode::SERVFAIL)
            .count();
        if answers.is_empty() || failed == answers.len() {
            return Err(ResolveError::Failed);
        }
        let own: Vec<&(Rtype, Answer)> = answers.iter().filter(|(t, _)| *t != Rtype::SRV).collect();
        if !own.is_empty() && own.iter().all(|(_, a)| a.rcode == Rcode::NXDOMAIN) {
            return Err(ResolveError::NotFound);
        }
        let records = |rtype: Rtype| {
            answers
                .iter()
                .filter(move |(t, a)| *t == rtype && a.rcode == Rcode::NOERROR)
                .flat_map(move |(_, a)| a.answers.iter().filter(move |r| r.rtype() == rtype))
        };
        let used: Vec<&Record> = [
            Rtype::A,
            Rtype::AAAA,
            Rtype::TXT,
            Rtype::HTTPS,
            Rtype::ID,
            Rtype::SRV,
        ]
        .into_iter()
        .flat_map(records)
        .collect();

        let mut identity = Identity::default();
        let mut endpoints = Vec::new();
        for record in records(Rtype::ID) {
            if let RData::Id(id) = &record.data
                && identity.identity.is_none()
            {
                identity.identity = Some(String::from_utf8_lossy(id.identity()).into_owned());
                identity.public_key = Some(format!(
                    "{}:{}",
                    id.algorithm().to_string().to_lowercase(),
                    base64_string(id.public_key())
                ));
            }
        }
        for record in records(Rtype::TXT) {
            let RData::Txt(txt) = &record.data else {
                continue;
            };
            let text: String = txt
                .strings()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect();
            if let Some(id) = text.strip_prefix("node_id=") {
                identity.node_id.get_or_insert_with(|| id.to_owned());
            } else if let Some(key) = text.strip_prefix("pubkey=") {
                identity.public_key.get_or_insert_with(|| key.to_owned());
            } else if let Some(spec) = text.strip_prefix("mesh_endpoint=") {
                endpoints.extend(mesh_endpoint(spec));
            }
        }
        for record in records(Rtype::SRV) {
            if let RData::Srv(srv) = &record.data
                && !srv.target.is_root()
            {
                endpoints.push(Endpoint {
                    host: presentation(&srv.target),
                    port: Some(srv.port),
                    priority: srv.priority,
                    weight: srv.weight,
                    source: EndpointSource::Srv,
                });
            }
        }
        let mut protocols = Vec::new();
        let mut https_port = None;
        for record in records(Rtype::HTTPS) {
            let RData::Https(https) = &record.data else {
                continue;
            };
            if https.is_alias() {
                continue;
            }
            let port = https.params().iter().find_map(|p| match p {
                SvcParam::Port(port) => Some(*port),
                _ => None,
            });
            https_port = https_port.or(port);
            for param in https.params() {
                match param {
                    SvcParam::Alpn(ids) => {
                        for id in ids {
                            let id = String::from_utf8_lossy(id).into_owned();
                            if !protocols.contains(&id) {
                                protocols.push(id);
                            }
                        }
                    }
                    SvcParam::Ipv4Hint(hints) => endpoints.extend(hints.iter().map(|ip| {
                        https_endpoint(IpAddr::V4(*ip).to_string(), port, https.priority)
                    })),
                    SvcParam::Ipv6Hint(hints) => endpoints.extend(hints.iter().map(|ip| {
                        https_endpoint(IpAddr::V6(*ip).to_string(), port, https.priority)
                    })),
                    _ => {}
                }
            }
            if !https.target.is_root() {
                endpoints.push(https_endpoint(
                    presentation(&https.target),
                    port,
                    https.priority,
                ));
            }
        }
        for record in records(Rtype::A).chain(records(Rtype::AAAA)) {
            let ip = match &record.data {
                RData::A(a) => IpAddr::V4(a.0),
                RData::Aaaa(a) => IpAddr::V6(a.0),
                _ => continue,
            };
            endpoints.push(Endpoint {
                host: ip.to_string(),
                port: https_port,
                priority: 0,
                weight: 0,
                source: EndpointSource::Address,
            });
        }

        let all = answers.iter().map(|(_, a)| a);
        let flags = ResolutionFlags {
            stale: all.clone().any(|a| a.stale),
            contested: all.clone().any(|a| a.contested),
            degraded: failed > 0,
            tofu: !identity.is_empty(),
            external: all.clone().any(|a| a.external),
        };
        Ok(Resolution {
            name: presentation(name),
            identity,
            endpoints,
            protocols,
            ttl: used.iter().map(|r| r.ttl).min().unwrap_or(0),
            flags,
        })
    }
}

fn https_endpoint(host: String, port: Option<u16>, priority: u16) -> Endpoint {
    Endpoint {
        host,
        port,
        priority,
        weight: 0,
        source: EndpointSource::Https,
    }
}

/// `HOST:PORT[,priority=N]` (HOST may be `[v6]`); `None` if malformed.
fn mesh_endpoint(spec: &str) -> Option<Endpoint> {
    let mut parts = spec.split(',');
    let address = parts.next()?.trim();
    let (host, port) = address.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port: u16 = port.parse().ok()?;
    let mut priority = 0;
    for part in parts {
        if let Some(value) = part.trim().strip_prefix("priority=") {
            priority = value.parse().ok()?;
        }
    }
    Some(Endpoint {
        host: host.to_owned(),
        port: Some(port),
        priority,
        weight: 0,
        source: EndpointSource::MeshEndpoint,
    })
}

/// The name as text without the final dot (`.` stays `.`).
fn presentation(name: &Name) -> String {
    let text = name.to_string();
    match text.strip_suffix('.') {
        Some(stripped) if !stripped.is_empty() => stripped.to_owned(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use lib_dns::zone::{NoIncludes, Zone};
    use lib_dns::{Class, Message};
    use zdns_auth::{
        Answerer, AuthServer, Catalog, Outcome, QueryContext, ServerConfig, Transport,
    };

    use super::*;

    /// The answers for `name`'s lookups from the bundled sovereign. zone.
    fn sovereign_answers(name: &str) -> Vec<(Rtype, Answer)> {
        let text = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../zones/sovereign.zone"
        ))
        .unwrap();
        let zone = Zone::read(
            Name::parse("sovereign.").unwrap(),
            Class::IN,
            "z",
            &text[..],
            &mut NoIncludes,
        );
        assert!(!zone.has_errors(), "{:?}", zone.diagnostics);
        let server = AuthServer::new(
            Catalog::build([&zone.zone]).unwrap(),
            ServerConfig::default(),
        );
        let ctx = QueryContext {
            client: "127.0.0.1:1".parse().unwrap(),
            transport: Transport::Stream,
            now: 0,
        };
        lookups(&Name::parse(name).unwrap())
            .into_iter()
            .map(|(qname, rtype)| {
                let q = Message::query(1, qname, rtype);
                let mut out = Vec::new();
                assert_eq!(
                    server.answer(&q.to_wire(512).unwrap(), &ctx, &mut out),
                    Outcome::Reply
                );
                (rtype, Answer::from_response(&Message::parse(&out).unwrap()))
            })
            .collect()
    }

    #[test]
    fn alice_of_the_seed() {
        let answers = sovereign_answers("alice.sovereign.");
        let r = Resolution::assemble(&Name::parse("alice.sovereign.").unwrap(), &answers).unwrap();
        assert_eq!(r.name, "alice.sovereign");
        assert_eq!(r.identity.node_id.as_deref(), Some("0x7f3a8b2c..."));
        assert!(r.identity.public_key.is_some());
        assert_eq!(r.protocols, vec!["h3", "h2"]);
        assert_eq!(r.ttl, 300);
        assert!(r.flags.tofu && !r.flags.stale && !r.flags.contested && !r.flags.degraded);
        let srv: Vec<_> = r
            .endpoints
            .iter()
            .filter(|e| e.source == EndpointSource::Srv)
            .collect();
        assert_eq!(srv.len(), 2);
        assert_eq!(
            (srv[0].port, srv[0].priority, srv[0].weight),
            (Some(9333), 10, 100)
        );
        let mesh: Vec<_> = r
            .endpoints
            .iter()
            .filter(|e| e.source == EndpointSource::MeshEndpoint)
            .map(|e| (e.host.as_str(), e.port, e.priority))
            .collect();
        assert_eq!(
            mesh,
            vec![
                ("10.42.1.5", Some(9333), 1),
                ("10.42.2.7", Some(9333), 2),
                ("10.42.3.2", Some(9333), 3)
            ]
        );
        let addresses: Vec<_> = r
            .endpoints
            .iter()
            .filter(|e| e.source == EndpointSource::Address)
            .map(|e| (e.host.as_str(), e.port))
            .collect();
        assert_eq!(
            addresses,
            vec![
                ("10.42.1.5", Some(9333)),
                ("fd00:6d65:7368:1::5", Some(9333))
            ]
        );
    }

    #[test]
    fn missing_failed_and_degraded() {
        let answers = sovereign_answers("nobody.sovereign.");
        assert_eq!(
            Resolution::assemble(&Name::parse("nobody.sovereign.").unwrap(), &answers),
            Err(ResolveError::NotFound)
        );
        let name = Name::parse("alice.sovereign.").unwrap();
        let failed: Vec<(Rtype, Answer)> = lookups(&name)
            .into_iter()
            .map(|(_, t)| (t, Answer::servfail(0, "")))
            .collect();
        assert_eq!(
            Resolution::assemble(&name, &failed),
            Err(ResolveError::Failed)
        );
        let mut partial = sovereign_answers("alice.sovereign.");
        partial[1].1 = Answer::servfail(0, "");
        partial[0].1.stale = true;
        let r = Resolution::assemble(&name, &partial).unwrap();
        assert!(r.flags.degraded && r.flags.stale);
    }

    #[test]
    fn mesh_endpoint_strings() {
        assert_eq!(
            mesh_endpoint("[fd00::1]:53,priority=4").unwrap().host,
            "fd00::1"
        );
        assert_eq!(mesh_endpoint("10.0.0.1:80").unwrap().priority, 0);
        assert!(mesh_endpoint("10.0.0.1").is_none());
        assert!(mesh_endpoint("10.0.0.1:x").is_none());
        assert!(mesh_endpoint("10.0.0.1:80,priority=high").is_none());
    }
}
