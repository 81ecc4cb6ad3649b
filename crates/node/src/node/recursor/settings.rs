//! The `[resolver]` table of the config file and what it becomes.
//!
//! Recursion is on in the embedded default (no config file): names outside the node's
//! zones are resolved from the IANA root servers for clients on loopback. With a config
//! file it is on only when the file has a `[resolver]` table (and `enabled` is not
//! false), so an authoritative-only configuration stays authoritative-only.
//!
//! DNSSEC validation is on when there are trust anchors: those of `trust_anchors`
//! (records inline) and `trust_anchor_files`, or, when the root hints are the IANA
//! ones and none are given, the root KSK from Debian's `dns-root-data`
//! (`/usr/share/dns/root.key`, else `root.ds`). A private root (root hints of one's
//! own) is not validated unless anchors for it are given. `dnssec_validation = false`
//! turns validation off; `true` makes missing anchors an error.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use lib_dns::Name;
use serde::Deserialize;
use zdns_resolver::scope::Scope;
use zdns_resolver::validator::ValidationConfig;
use zdns_resolver::validator::anchor::{
    DEBIAN_ROOT_DS, DEBIAN_ROOT_KEY, TrustAnchor, merge_anchors, parse_anchors,
};

use super::upstream_encrypted::{CertCheck, ForwardUpstream, parse_upstream};

/// The IPv4 addresses of the root servers a–m (IANA root hints, 2023 and later).
pub const IANA_ROOT_HINTS: [&str; 13] = [
    "198.41.0.4:53",
    "170.247.170.2:53",
    "192.33.4.12:53",
    "199.7.91.13:53",
    "192.203.230.10:53",
    "192.5.5.241:53",
    "192.112.36.4:53",
    "198.97.190.53:53",
    "192.36.148.17:53",
    "192.58.128.30:53",
    "193.0.14.129:53",
    "199.7.83.42:53",
    "202.12.27.33:53",
];

/// The `[resolver]` table as written (every key optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolverFile {
    enabled: Option<bool>,
    root_hints: Option<Vec<SocketAddr>>,
    allow: Option<Vec<String>>,
    qname_minimisation: Option<bool>,
    upstream_port: Option<u16>,
    max_cache_rrsets: Option<usize>,
    max_stale_serve_time_s: Option<u64>,
    #[serde(default)]
    forward: Vec<ForwardFile>,
    dnssec_validation: Option<bool>,
    trust_anchors: Option<Vec<String>>,
    trust_anchor_files: Option<Vec<PathBuf>>,
    negative_trust_anchors: Option<Vec<String>>,
}

/// One `[[resolver.forward]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ForwardFile {
    zone: String,
    /// `ADDR:PORT`, or `tls://`, `https://`, `quic://` ([`super::upstream_encrypted`]).
    upstreams: Vec<String>,
    scope: Option<String>,
    /// Trust anchors (PEM) of the encrypted upstreams' certificates.
    tls_ca: Option<PathBuf>,
    /// Or the SPKI pin (base64 SHA-256) of their certificate.
    tls_pin: Option<String>,
}

/// A network in CIDR form: clients inside may ask for recursion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `ADDR/PREFIX` (or a bare address, a single host).
    pub fn parse(text: &str) -> Result<Network, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("resolver.allow: `{text}` is not an address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= max)
                .ok_or_else(|| format!("resolver.allow: bad prefix length in `{text}`"))?,
            None => max,
        };
        Ok(Network { addr, prefix })
    }

    /// Whether `ip` is inside (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// A forward zone as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardSettings {
    /// The zone (names at or below it are forwarded).
    pub zone: String,
    /// Its upstreams, plain or encrypted.
    pub upstreams: Vec<ForwardUpstream>,
    /// The zone's scope (seed 003 §16.1), when configured; `local` also says the
    /// upstreams are inside the partition.
    pub scope: Option<Scope>,
}

/// The resolver's settings after defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverSettings {
    /// Whether the node recurses at all.
    pub enabled: bool,
    /// Root server addresses.
    pub root_hints: Vec<SocketAddr>,
    /// Clients that may ask for recursion; others get the authoritative answer (REFUSED
    /// outside the node's zones).
    pub allow: Vec<Network>,
    /// QNAME minimisation (RFC 9156).
    pub qname_minimisation: bool,
    /// The port of name servers learned from referrals (53 except in tests).
    pub upstream_port: u16,
    /// The positive cache's size bound in RRsets.
    pub max_cache_rrsets: usize,
    /// How long expired data may be served when upstreams fail (seconds).
    pub max_stale_serve_time: u64,
    /// Forward zones.
    pub forward: Vec<ForwardSettings>,
    /// DNSSEC validation with its trust anchors, or `None` when off.
    pub validation: Option<ValidationConfig>,
}

/// Reads trust anchors from `path`.
fn anchors_from_file(path: &Path) -> Result<Vec<TrustAnchor>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("resolver.trust_anchor_files: {}: {e}", path.display()))?;
    parse_anchors(&text, &path.display().to_string())
}

/// The validation settings of `file`; `iana_root` says whether the root hints are the
/// IANA root servers (so the IANA root KSK applies).
fn validation(file: &ResolverFile, iana_root: bool) -> Result<Option<ValidationConfig>, String> {
    if file.dnssec_validation == Some(false) {
        return Ok(None);
    }
    let mut anchors = Vec::new();
    for text in file.trust_anchors.iter().flatten() {
        anchors.extend(parse_anchors(text, "resolver.trust_anchors")?);
    }
    for path in file.trust_anchor_files.iter().flatten() {
        anchors.extend(anchors_from_file(path)?);
    }
    if anchors.is_empty() && iana_root {
        let debian = [DEBIAN_ROOT_KEY, DEBIAN_ROOT_DS]
            .into_iter()
            .map(Path::new)
            .find(|p| p.exists());
        if let Some(path) = debian {
            anchors = anchors_from_file(path)?;
        }
    }
    if anchors.is_empty() {
        if file.dnssec_validation == Some(true) {
            return Err("resolver: dnssec_validation = true but no trust anchors \
                 (trust_anchors, trust_anchor_files, or Debian's dns-root-data)"
                .to_owned());
        }
        return Ok(None);
    }
    let negative_anchors = file
        .negative_trust_anchors
        .iter()
        .flatten()
        .map(|text| {
            Name::parse(text).map_err(|e| format!("resolver.negative_trust_anchors `{text}`: {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Some(ValidationConfig {
        anchors: merge_anchors(anchors),
        negative_anchors,
    }))
}

impl ResolverSettings {
    /// The settings for the `[resolver]` table `file`, or for its absence. `embedded`
    /// says whether the node runs without a config file.
    pub fn from_file(file: Option<ResolverFile>, embedded: bool) -> Result<Self, String> {
        let enabled_default = embedded || file.is_some();
        let file = file.unwrap_or_default();
        let validation = validation(&file, file.root_hints.is_none())?;
        let allow = file
            .allow
            .unwrap_or_else(|| vec!["127.0.0.0/8".to_owned(), "::1/128".to_owned()])
            .iter()
            .map(|text| Network::parse(text))
            .collect::<Result<Vec<_>, _>>()?;
        let root_hints = match file.root_hints {
            Some(hints) => hints,
            None => IANA_ROOT_HINTS
                .iter()
                .filter_map(|h| h.parse().ok())
                .collect(),
        };
        let enabled = file.enabled.unwrap_or(enabled_default);
        if enabled && root_hints.is_empty() && file.forward.is_empty() {
            return Err("resolver: no root hints and no forward zones".to_owned());
        }
        Ok(ResolverSettings {
            enabled,
            root_hints,
            allow,
            qname_minimisation: file.qname_minimisation.unwrap_or(true),
            upstream_port: file.upstream_port.unwrap_or(53),
            max_cache_rrsets: file.max_cache_rrsets.unwrap_or(200_000),
            max_stale_serve_time: file
                .max_stale_serve_time_s
                .unwrap_or(zdns_resolver::cache::DEFAULT_MAX_STALE_SERVE_TIME),
            forward: file
                .forward
                .into_iter()
                .map(|f| {
                    let scope = match &f.scope {
                        Some(text) => Some(Scope::parse(&format!("class={text}")).ok_or_else(
                            || format!("resolver.forward `{}`: scope `{text}` is not local, federated or external", f.zone),
                        )?),
                        None => None,
                    };
                    Ok(ForwardSettings {
                        upstreams: forward_upstreams(&f)?,
                        zone: f.zone,
                        scope,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?,
            validation,
        })
    }
}

/// The upstreams of a forward zone, checked.
fn forward_upstreams(f: &ForwardFile) -> Result<Vec<ForwardUpstream>, String> {
    let check = match (&f.tls_ca, &f.tls_pin) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "resolver.forward `{}`: tls_ca or tls_pin, not both",
                f.zone
            ));
        }
        (Some(ca), None) => Some(CertCheck::Ca(ca.clone())),
        (None, Some(pin)) => Some(CertCheck::Pin(pin.clone())),
        (None, None) => None,
    };
    f.upstreams
        .iter()
        .map(|text| {
            parse_upstream(text, check.as_ref())
                .map_err(|e| format!("resolver.forward `{}`: {e}", f.zone))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let lo = Network::parse("127.0.0.0/8").unwrap();
        assert!(lo.contains("127.1.2.3".parse().unwrap()));
        assert!(lo.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!lo.contains("128.0.0.1".parse().unwrap()));
        assert!(!lo.contains("::1".parse().unwrap()));
        let host = Network::parse("::1").unwrap();
        assert!(host.contains("::1".parse().unwrap()));
        assert!(!host.contains("::2".parse().unwrap()));
        let all = Network::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        assert!(Network::parse("10.0.0.0/33").is_err());
        assert!(Network::parse("nonsense/8").is_err());
    }

    #[test]
    fn forward_zone_scopes() {
        let text =
            "[[forward]]\nzone = \"venue.\"\nupstreams = [\"127.0.0.1:53\"]\nscope = \"local\"\n";
        let file: ResolverFile = toml::from_str(text).unwrap();
        let s = ResolverSettings::from_file(Some(file), false).unwrap();
        assert_eq!(s.forward[0].scope, Some(Scope::Local));
        let bad: ResolverFile = toml::from_str(&text.replace("local", "galactic")).unwrap();
        let err = ResolverSettings::from_file(Some(bad), false).unwrap_err();
        assert!(err.contains("galactic"), "{err}");
    }

    #[test]
    fn forward_zones_take_encrypted_upstreams_with_a_ca_or_a_pin() {
        let pin = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        let text = format!(
            "[[forward]]\nzone = \"example.\"\ntls_pin = \"{pin}\"\n\
             upstreams = [\"192.0.2.1:53\", \"tls://192.0.2.2\", \"quic://192.0.2.3\"]\n"
        );
        let file: ResolverFile = toml::from_str(&text).unwrap();
        let s = ResolverSettings::from_file(Some(file), false).unwrap();
        let kinds: Vec<bool> = s.forward[0]
            .upstreams
            .iter()
            .map(|u| matches!(u, ForwardUpstream::Encrypted(_)))
            .collect();
        assert_eq!(kinds, vec![false, true, true]);
        let no_check: ResolverFile =
            toml::from_str(&text.replace(&format!("tls_pin = \"{pin}\""), "")).unwrap();
        let err = ResolverSettings::from_file(Some(no_check), false).unwrap_err();
        assert!(
            err.contains("example.") && err.contains("tls_ca or tls_pin"),
            "{err}"
        );
        let both: ResolverFile = toml::from_str(&format!("{text}tls_ca = \"ca.pem\"\n")).unwrap();
        let err = ResolverSettings::from_file(Some(both), false).unwrap_err();
        assert!(err.contains("not both"), "{err}");
    }

    #[test]
    fn trust_anchor_settings() {
        let ds =
            ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D";
        let text = format!(
            "root_hints = [\"127.0.0.1:53\"]\ntrust_anchors = [\"{ds}\"]\n\
             negative_trust_anchors = [\"broken.example.\"]\n"
        );
        let file: ResolverFile = toml::from_str(&text).unwrap();
        let s = ResolverSettings::from_file(Some(file), false).unwrap();
        let v = s.validation.unwrap();
        assert_eq!(v.anchors.len(), 1);
        assert_eq!(v.anchors[0].ds[0].key_tag, 20326);
        assert_eq!(
            v.negative_anchors,
            vec![Name::parse("broken.example.").unwrap()]
        );
        // A private root without anchors is not validated; asking for it is an error.
        let private: ResolverFile = toml::from_str("root_hints = [\"127.0.0.1:53\"]\n").unwrap();
        let s = ResolverSettings::from_file(Some(private), false).unwrap();
        assert!(s.validation.is_none());
        let forced: ResolverFile =
            toml::from_str("root_hints = [\"127.0.0.1:53\"]\ndnssec_validation = true\n").unwrap();
        assert!(ResolverSettings::from_file(Some(forced), false).is_err());
        let off: ResolverFile =
            toml::from_str(&format!("{text}dnssec_validation = false\n")).unwrap();
        assert!(
            ResolverSettings::from_file(Some(off), false)
                .unwrap()
                .validation
                .is_none()
        );
        let bad: ResolverFile = toml::from_str("trust_anchors = [\". IN A 192.0.2.1\"]\n").unwrap();
        assert!(ResolverSettings::from_file(Some(bad), false).is_err());
    }

    #[test]
    fn defaults() {
        let embedded = ResolverSettings::from_file(None, true).unwrap();
        assert!(embedded.enabled);
        assert_eq!(embedded.root_hints.len(), 13);
        let with_file = ResolverSettings::from_file(None, false).unwrap();
        assert!(
            !with_file.enabled,
            "a config file without [resolver] does not recurse"
        );
        let table = ResolverSettings::from_file(Some(ResolverFile::default()), false).unwrap();
        assert!(table.enabled);
        assert_eq!(table.max_stale_serve_time, 7 * 24 * 3600);
    }
}
