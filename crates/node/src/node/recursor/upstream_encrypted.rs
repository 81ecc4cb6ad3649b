//! Encrypted upstreams of forward zones: DNS over TLS (RFC 7858), HTTPS (RFC 8484) and
//! QUIC (RFC 9250), through the clients of `zdns_transport::client`.
//!
//! A forward zone's upstreams are written beside plain `ADDR:PORT` ones as
//! `tls://ADDR[:PORT][#NAME]` (port 853), `https://ADDR[:PORT][/PATH][#NAME]` (port 443,
//! path `/dns-query`) or `quic://ADDR[:PORT][#NAME]` (port 853). `ADDR` is an IP
//! address (IPv6 in brackets); `NAME` is the name the certificate must carry (RFC 8310
//! §8.1, default the address), checked against the zone's `tls_ca` file or `tls_pin`
//! (RFC 7858 §4.2), one of which is required: a forwarder does not send its clients'
//! questions to a server it cannot authenticate.
//!
//! The resolver core sees only the addresses, and chooses among a zone's upstreams as
//! among any servers: by smoothed RTT, going on to the next after an error or a
//! timeout (fallback). [`EncryptedNetwork`] carries a query for an encrypted upstream's
//! address over its transport and any other over UDP/TCP ([`Network`]). Each encrypted
//! upstream keeps a few open connections ([`MAX_IDLE`]) for the next queries.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use zdns_resolver::Transmit;
use zdns_transport::client::{Client, ClientError, Protocol, Upstream as ClientUpstream};
use zdns_transport::tls::{self, Verify};

use super::settings::ForwardSettings;
use super::upstream::{Exchange, Network, Upstream};

/// Open connections kept per encrypted upstream for later queries.
pub const MAX_IDLE: usize = 8;
/// The longest one exchange may take, connection set-up included. The resolver's own
/// timeout is shorter for a known server; an exchange it gives up on goes on to this
/// bound, so a handshake cut short still leaves a connection for the next query.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);
/// The default path of DoH upstreams.
const DEFAULT_DOH_PATH: &str = "/dns-query";

/// How an encrypted upstream's certificate is checked, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertCheck {
    /// The chain must lead to a certificate of this PEM file and name the server.
    Ca(PathBuf),
    /// The end-entity certificate's SPKI SHA-256 must be this (base64).
    Pin(String),
}

/// An upstream reached over an encrypted transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedUpstream {
    /// Its address.
    pub addr: SocketAddr,
    /// The transport.
    pub protocol: Protocol,
    /// The name its certificate must carry (and the SNI).
    pub server_name: String,
    /// How its certificate is checked.
    pub check: CertCheck,
}

/// One upstream as written in a forward zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardUpstream {
    /// UDP, and TCP when the answer is truncated.
    Plain(SocketAddr),
    /// DoT, DoH or DoQ.
    Encrypted(EncryptedUpstream),
}

impl ForwardUpstream {
    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        match self {
            ForwardUpstream::Plain(addr) => *addr,
            ForwardUpstream::Encrypted(e) => e.addr,
        }
    }
}

/// Parses one upstream of a forward zone; `check` is the zone's certificate check,
/// required for encrypted upstreams.
pub fn parse_upstream(text: &str, check: Option<&CertCheck>) -> Result<ForwardUpstream, String> {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text
            .parse()
            .map(ForwardUpstream::Plain)
            .map_err(|_| format!("`{text}` is neither ADDR:PORT nor tls://, https:// or quic://"));
    };
    let (protocol, default_port) = match scheme {
        "tls" => (Protocol::Tls, 853),
        "https" => (
            Protocol::Https {
                path: DEFAULT_DOH_PATH.to_owned(),
            },
            443,
        ),
        "quic" => (Protocol::Quic, 853),
        _ => return Err(format!("`{text}`: unknown scheme `{scheme}`")),
    };
    let (rest, name) = match rest.split_once('#') {
        Some((rest, name)) if !name.is_empty() => (rest, Some(name)),
        Some(_) => return Err(format!("`{text}`: empty name after `#`")),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let protocol = match protocol {
        Protocol::Https { .. } if !path.is_empty() => Protocol::Https {
            path: path.to_owned(),
        },
        Protocol::Https { .. } => protocol,
        _ if !path.is_empty() => return Err(format!("`{text}`: only https:// takes a path")),
        _ => protocol,
    };
    let addr = address(authority, default_port).ok_or_else(|| {
        format!("`{text}`: the server must be an IP address, with an optional port")
    })?;
    let Some(check) = check else {
        return Err(format!(
            "`{text}`: an encrypted upstream needs tls_ca or tls_pin to check its certificate"
        ));
    };
    if let CertCheck::Pin(pin) = check {
        tls::parse_pin(pin).map_err(|e| format!("tls_pin: {e}"))?;
    }
    Ok(ForwardUpstream::Encrypted(EncryptedUpstream {
        addr,
        protocol,
        server_name: name.map_or_else(|| addr.ip().to_string(), str::to_owned),
        check: check.clone(),
    }))
}

/// `ADDR`, `ADDR:PORT`, `[V6]` or `[V6]:PORT`.
fn address(text: &str, default_port: u16) -> Option<SocketAddr> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr);
    }
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    let ip: IpAddr = bare.parse().ok()?;
    Some(SocketAddr::new(ip, default_port))
}

/// The network the recursor sends through: [`Network`] alone when no forward zone has
/// an encrypted upstream, else an [`EncryptedNetwork`] over them. Certificate files are
/// read here, so a bad one stops the start. An address stands for one upstream (the
/// resolver core knows servers by address only).
pub fn network(forward: &[ForwardSettings]) -> Result<Arc<dyn Upstream>, String> {
    let mut seen: HashMap<SocketAddr, &ForwardUpstream> = HashMap::new();
    let mut by_addr = HashMap::new();
    for zone in forward {
        for upstream in &zone.upstreams {
            if let Some(other) = seen.insert(upstream.addr(), upstream)
                && other != upstream
            {
                return Err(format!(
                    "resolver.forward `{}`: {} is written as two different upstreams",
                    zone.zone,
                    upstream.addr()
                ));
            }
            let ForwardUpstream::Encrypted(e) = upstream else {
                continue;
            };
            if by_addr.contains_key(&e.addr) {
                continue;
            }
            let verify = match &e.check {
                CertCheck::Ca(path) => Verify::ca_file(path),
                CertCheck::Pin(pin) => Verify::pin(pin),
            }
            .map_err(|err| format!("resolver.forward `{}`: {err}", zone.zone))?;
            let client = ClientUpstream {
                addr: e.addr,
                server_name: e.server_name.clone(),
                protocol: e.protocol.clone(),
                verify,
                timeout: EXCHANGE_TIMEOUT,
            };
            // Fail now on a bad name rather than on the first query.
            Client::new(client.clone())
                .map_err(|err| format!("resolver.forward `{}`: {err}", zone.zone))?;
            by_addr.insert(e.addr, Arc::new(Connections::new(client)));
        }
    }
    if by_addr.is_empty() {
        return Ok(Arc::new(Network));
    }
    Ok(Arc::new(EncryptedNetwork { by_addr }))
}

/// Encrypted upstreams by address, and the plain network for every other server.
pub struct EncryptedNetwork {
    by_addr: HashMap<SocketAddr, Arc<Connections>>,
}

impl Upstream for EncryptedNetwork {
    fn exchange(&self, t: Transmit) -> Exchange {
        match self.by_addr.get(&t.server) {
            Some(connections) => Box::pin(Arc::clone(connections).exchange(t.message)),
            None => Network.exchange(t),
        }
    }
}

/// The open connections of one encrypted upstream, each a [`Client`] not in use.
struct Connections {
    upstream: ClientUpstream,
    idle: Mutex<Vec<Client>>,
}

impl Connections {
    fn new(upstream: ClientUpstream) -> Connections {
        Connections {
            upstream,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Client>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One query on an idle connection, or on a new one; the connection is kept for
    /// the next query when it worked. Runs as its own task, so a caller that stops
    /// waiting does not cut a handshake or an exchange short (they are bounded by
    /// [`EXCHANGE_TIMEOUT`]).
    async fn exchange(self: Arc<Self>, query: Vec<u8>) -> io::Result<Vec<u8>> {
        let addr = self.upstream.addr;
        let task = tokio::spawn(async move {
            let popped = self.lock().pop();
            let mut client = match popped {
                Some(client) => client,
                None => Client::new(self.upstream.clone())?,
            };
            let answer = client.query(&query).await?;
            let mut idle = self.lock();
            if idle.len() < MAX_IDLE {
                idle.push(client);
            }
            Ok::<_, ClientError>(answer)
        });
        match task.await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => Err(io::Error::other(format!("{addr}: {e}"))),
            Err(e) => Err(io::Error::other(format!("{addr}: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIN: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    fn pin() -> CertCheck {
        CertCheck::Pin(PIN.to_owned())
    }

    fn encrypted(text: &str) -> EncryptedUpstream {
        match parse_upstream(text, Some(&pin())) {
            Ok(ForwardUpstream::Encrypted(e)) => e,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn upstreams_are_addresses_or_urls_of_the_three_transports() {
        assert_eq!(
            parse_upstream("192.0.2.1:53", None),
            Ok(ForwardUpstream::Plain("192.0.2.1:53".parse().unwrap()))
        );
        let t = encrypted("tls://192.0.2.1");
        assert_eq!(t.addr, "192.0.2.1:853".parse().unwrap());
        assert_eq!(t.protocol, Protocol::Tls);
        assert_eq!(t.server_name, "192.0.2.1");
        let q = encrypted("quic://[2001:db8::1]:8853#dns.example");
        assert_eq!(q.addr, "[2001:db8::1]:8853".parse().unwrap());
        assert_eq!(q.protocol, Protocol::Quic);
        assert_eq!(q.server_name, "dns.example");
        let h = encrypted("https://192.0.2.1");
        assert_eq!(h.addr, "192.0.2.1:443".parse().unwrap());
        assert_eq!(
            h.protocol,
            Protocol::Https {
                path: "/dns-query".to_owned()
            }
        );
        let h = encrypted("https://[::1]:8443/q#resolver.example");
        assert_eq!(h.addr, "[::1]:8443".parse().unwrap());
        assert_eq!(
            h.protocol,
            Protocol::Https {
                path: "/q".to_owned()
            }
        );
        assert_eq!(h.server_name, "resolver.example");
        assert_eq!(h.check, pin());
    }

    #[test]
    fn bad_upstreams_are_explained() {
        for (text, why) in [
            ("192.0.2.1", "neither"),
            ("udp://192.0.2.1", "unknown scheme"),
            ("tls://dns.example", "IP address"),
            ("tls://192.0.2.1/path", "only https://"),
            ("quic://192.0.2.1#", "empty name"),
        ] {
            let err = parse_upstream(text, Some(&pin())).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
        let err = parse_upstream("tls://192.0.2.1", None).unwrap_err();
        assert!(err.contains("tls_ca or tls_pin"), "{err}");
        let bad_pin = CertCheck::Pin("not a pin".to_owned());
        assert!(parse_upstream("tls://192.0.2.1", Some(&bad_pin)).is_err());
    }

    #[test]
    fn only_encrypted_upstreams_make_an_encrypted_network() {
        let zone = |upstreams| ForwardSettings {
            zone: "example.".to_owned(),
            upstreams,
            scope: None,
        };
        let plain = vec![ForwardUpstream::Plain("192.0.2.1:53".parse().unwrap())];
        assert!(network(&[zone(plain)]).is_ok());
        let with_missing_ca = vec![ForwardUpstream::Encrypted(EncryptedUpstream {
            addr: "192.0.2.1:853".parse().unwrap(),
            protocol: Protocol::Tls,
            server_name: "192.0.2.1".to_owned(),
            check: CertCheck::Ca("/nonexistent/ca.pem".into()),
        })];
        let err = network(&[zone(with_missing_ca)]).err().unwrap();
        assert!(err.contains("ca.pem"), "{err}");
        let tls = parse_upstream("tls://192.0.2.1:853", Some(&pin())).unwrap();
        let quic = parse_upstream("quic://192.0.2.1:853", Some(&pin())).unwrap();
        assert!(network(&[zone(vec![tls.clone()]), zone(vec![tls.clone()])]).is_ok());
        let err = network(&[zone(vec![tls, quic])]).err().unwrap();
        assert!(err.contains("two different upstreams"), "{err}");
    }
}
