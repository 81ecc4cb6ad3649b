//! The node's configuration: the TOML file (`docs/zdns.example.toml` documents every key),
//! the command-line flags that override it, and the embedded default when neither is given.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lib_dns::Name;
use lib_dns::tsig::{Algorithm, TsigKey, parse_key_file};
use serde::Deserialize;
use zdns_auth::acl::{Acl, Prefix, Rule};
use zdns_transport::tls::MinVersion;

use crate::node::recursor::settings::{ResolverFile, ResolverSettings};

/// The bundled example zone served by `zdns serve` with no zone configured (seed 003 §5.3).
pub const EMBEDDED_ZONE: &str = include_str!("../../../zones/sovereign.zone");
/// The origin of [`EMBEDDED_ZONE`].
pub const EMBEDDED_ORIGIN: &str = "sovereign.";
/// DNS over UDP and TCP in the embedded default.
pub const DEFAULT_DNS_LISTEN: &str = "127.0.0.1:5353";
/// The HTTP listener (metrics, management API) in the embedded default.
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:8053";
/// The data directory in the embedded default, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "zdns-data";
/// DNS over TLS in the embedded default (tcp) and DNS over QUIC (udp, same port).
pub const DEFAULT_DOT_DOQ_LISTEN: &str = "127.0.0.1:8853";
/// DNS over HTTPS in the embedded default (HTTP/2 and 1.1 on tcp, HTTP/3 on udp), at
/// [`zdns_transport::doh::DEFAULT_PATH`].
pub const DEFAULT_DOH_LISTEN: &str = "127.0.0.1:8443";

/// The configuration file as written (every key optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<Vec<SocketAddr>>,
    http: Option<SocketAddr>,
    threads: Option<usize>,
    data_dir: Option<PathBuf>,
    #[serde(default)]
    tcp: TcpFileConfig,
    tls: Option<TlsFileConfig>,
    #[serde(default)]
    zone: Vec<ZoneFileConfig>,
    #[serde(default)]
    key: Vec<KeyFileConfig>,
    resolver: Option<ResolverFile>,
}

/// One `[[key]]` entry: a TSIG key given inline or read from a BIND key file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFileConfig {
    name: Option<String>,
    algorithm: Option<String>,
    secret: Option<String>,
    file: Option<PathBuf>,
}

/// One address or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// One access rule as written: `{ address = "192.0.2.0/24", key = "name." }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFileConfig {
    address: Option<OneOrMany>,
    key: Option<String>,
}

/// A remote server as written: `{ address = "192.0.2.1:53", key = "name." }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoteFileConfig {
    address: SocketAddr,
    key: Option<String>,
}

/// The `[tls]` table: certificate, encrypted listeners and their limits.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFileConfig {
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    min_version: Option<String>,
    #[serde(default)]
    dot: Vec<SocketAddr>,
    #[serde(default)]
    doq: Vec<SocketAddr>,
    #[serde(default)]
    doh: Vec<SocketAddr>,
    #[serde(default)]
    doh3: Vec<SocketAddr>,
    doh_path: Option<String>,
    max_connections: Option<usize>,
    idle_timeout_ms: Option<u64>,
    handshake_timeout_ms: Option<u64>,
    max_streams: Option<u32>,
}

/// The `[tcp]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TcpFileConfig {
    idle_timeout_ms: Option<u64>,
    max_connections: Option<usize>,
    max_message_size: Option<u16>,
}

/// One `[[zone]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneFileConfig {
    origin: String,
    file: Option<PathBuf>,
    #[serde(default)]
    primaries: Vec<RemoteFileConfig>,
    #[serde(default)]
    notify: Vec<RemoteFileConfig>,
    #[serde(default)]
    allow_transfer: Vec<RuleFileConfig>,
    #[serde(default)]
    allow_update: Vec<RuleFileConfig>,
    allow_notify: Option<Vec<RuleFileConfig>>,
}

/// Where a zone's data comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneSource {
    /// A zone file, re-read on every reload (we are its primary).
    File(PathBuf),
    /// The bundled [`EMBEDDED_ZONE`].
    Embedded,
    /// Transfers from these primaries (we are a secondary).
    Primaries(Vec<Remote>),
}

/// Another server: a primary to transfer from, or a secondary to notify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// Its address.
    pub addr: SocketAddr,
    /// The TSIG key that signs what we send it and what it sends us.
    pub key: Option<Name>,
}

/// Who may do what to a zone, and whom it tells about changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZoneAccess {
    /// Clients allowed to transfer the zone (AXFR, IXFR).
    pub transfer: Acl,
    /// Clients allowed to send dynamic updates (RFC 2136).
    pub update: Acl,
    /// Servers allowed to NOTIFY us of changes (secondary zones; by default the
    /// primaries' addresses).
    pub notify_from: Acl,
    /// Secondaries to NOTIFY when the zone changes (RFC 1996).
    pub notify: Vec<Remote>,
}

/// A zone to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneConfig {
    /// The zone's origin as written (absolute or not; a final dot is implied).
    pub origin: String,
    /// Its data.
    pub source: ZoneSource,
    /// Transfers, updates and notifies.
    pub access: ZoneAccess,
}

impl ZoneConfig {
    /// A zone read from `source` with no transfers, updates or notifies allowed.
    pub fn new(origin: impl Into<String>, source: ZoneSource) -> ZoneConfig {
        ZoneConfig {
            origin: origin.into(),
            source,
            access: ZoneAccess::default(),
        }
    }
}

/// Limits of DNS over TCP (RFC 7766 §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpLimits {
    /// A connection with no query in progress and nothing to write is closed after this.
    pub idle_timeout: Duration,
    /// Connections beyond this many are refused (accepted and closed at once).
    pub max_connections: usize,
    /// A length prefix above this closes the connection.
    pub max_message_size: u16,
}

impl Default for TcpLimits {
    fn default() -> TcpLimits {
        TcpLimits {
            idle_timeout: Duration::from_secs(10),
            max_connections: 1000,
            max_message_size: u16::MAX,
        }
    }
}

/// The encrypted transports: DoT (RFC 7858), DoH (RFC 8484), DoQ (RFC 9250).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// Certificate chain and key files (PEM); `None` for the self-signed certificate the
    /// node makes under `<data dir>/tls/`.
    pub identity: Option<(PathBuf, PathBuf)>,
    /// The lowest TLS version of DoT and DoH (DoQ is always TLS 1.3).
    pub min_version: MinVersion,
    /// DoT listeners (TCP).
    pub dot: Vec<SocketAddr>,
    /// DoQ listeners (UDP).
    pub doq: Vec<SocketAddr>,
    /// DoH listeners (TCP: HTTP/2 and HTTP/1.1).
    pub doh: Vec<SocketAddr>,
    /// DoH over HTTP/3 listeners (UDP).
    pub doh3: Vec<SocketAddr>,
    /// The URI path of DoH.
    pub doh_path: String,
    /// Connections per transport beyond this many are refused.
    pub max_connections: usize,
    /// An encrypted connection idle this long is closed.
    pub idle_timeout: Duration,
    /// A TLS or QUIC handshake, or a DoQ query stream, not done within this is
    /// abandoned.
    pub handshake_timeout: Duration,
    /// Concurrent HTTP/2 or QUIC streams per connection.
    pub max_streams: u32,
}

impl TlsSettings {
    /// The settings of the `[tls]` table; `None` (no table) means no encrypted listener,
    /// unless `embedded`, when the embedded default's listeners are used.
    fn from_file(
        table: Option<TlsFileConfig>,
        embedded: bool,
        resolve: impl Fn(PathBuf) -> PathBuf,
    ) -> Result<TlsSettings, String> {
        let table = match table {
            Some(t) => t,
            None if embedded => TlsFileConfig {
                dot: vec![default_addr(DEFAULT_DOT_DOQ_LISTEN)],
                doq: vec![default_addr(DEFAULT_DOT_DOQ_LISTEN)],
                doh: vec![default_addr(DEFAULT_DOH_LISTEN)],
                doh3: vec![default_addr(DEFAULT_DOH_LISTEN)],
                ..TlsFileConfig::default()
            },
            None => TlsFileConfig::default(),
        };
        let identity = match (table.cert_file, table.key_file) {
            (Some(cert), Some(key)) => Some((resolve(cert), resolve(key))),
            (None, None) => None,
            _ => return Err("tls.cert_file and tls.key_file go together".to_owned()),
        };
        let doh_path = table
            .doh_path
            .unwrap_or_else(|| zdns_transport::doh::DEFAULT_PATH.to_owned());
        if !doh_path.starts_with('/') {
            return Err(format!(
                "tls.doh_path must start with `/`, got `{doh_path}`"
            ));
        }
        Ok(TlsSettings {
            identity,
            min_version: table
                .min_version
                .as_deref()
                .map_or(Ok(MinVersion::Tls13), MinVersion::parse)
                .map_err(|e| format!("tls.min_version: {e}"))?,
            dot: table.dot,
            doq: table.doq,
            doh: table.doh,
            doh3: table.doh3,
            doh_path,
            max_connections: table.max_connections.unwrap_or(1000),
            idle_timeout: Duration::from_millis(table.idle_timeout_ms.unwrap_or(10_000)),
            handshake_timeout: Duration::from_millis(table.handshake_timeout_ms.unwrap_or(5_000)),
            max_streams: table.max_streams.unwrap_or(100).max(1),
        })
    }

    /// Whether the listeners and their limits (which change only at restart) are equal.
    pub fn same_listeners(&self, other: &TlsSettings) -> bool {
        TlsSettings {
            identity: None,
            min_version: MinVersion::Tls13,
            ..self.clone()
        } == TlsSettings {
            identity: None,
            min_version: MinVersion::Tls13,
            ..other.clone()
        }
    }
}

/// Everything the node needs to start, after merging file, flags and defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// DNS listeners, each on UDP and TCP.
    pub listen: Vec<SocketAddr>,
    /// The HTTP listener.
    pub http: SocketAddr,
    /// UDP worker threads per listener.
    pub threads: usize,
    /// The data directory, created if missing.
    pub data_dir: PathBuf,
    /// TCP limits.
    pub tcp: TcpLimits,
    /// The encrypted transports.
    pub tls: TlsSettings,
    /// The zones to serve.
    pub zones: Vec<ZoneConfig>,
    /// TSIG keys (RFC 8945) for transfers, updates and notifies.
    pub keys: Vec<TsigKey>,
    /// Recursion for names outside the zones.
    pub resolver: ResolverSettings,
}

/// The command-line flags that override the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--listen`, repeatable.
    pub listen: Vec<SocketAddr>,
    /// `--zone ORIGIN=PATH`, repeatable.
    pub zones: Vec<ZoneConfig>,
    /// `--threads`.
    pub threads: Option<usize>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--http`.
    pub http: Option<SocketAddr>,
}

impl Overrides {
    /// Reads the config file, if any, and applies the flags over it. Called at start-up
    /// and again on every reload.
    pub fn settings(&self) -> Result<Settings, String> {
        let (file, base) = match &self.config {
            Some(path) => (read_file(path)?, path.parent().map(Path::to_path_buf)),
            None => (FileConfig::default(), None),
        };
        let resolve = |p: PathBuf| match &base {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p,
        };
        let keys = read_keys(&file.key, &resolve)?;
        let file_zones = file
            .zone
            .into_iter()
            .map(|z| zone_config(z, &keys, &resolve))
            .collect::<Result<Vec<ZoneConfig>, String>>()?;
        let zones = if !self.zones.is_empty() {
            self.zones.clone()
        } else if self.config.is_some() {
            file_zones
        } else {
            vec![embedded_zone()]
        };
        let listen = if self.listen.is_empty() {
            file.listen
                .unwrap_or_else(|| vec![default_addr(DEFAULT_DNS_LISTEN)])
        } else {
            self.listen.clone()
        };
        if listen.is_empty() {
            return Err("no DNS listener: `listen` is empty".to_owned());
        }
        let threads = self
            .threads
            .or(file.threads)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
        if threads == 0 {
            return Err("threads must be at least 1".to_owned());
        }
        let defaults = TcpLimits::default();
        let tcp = TcpLimits {
            idle_timeout: file
                .tcp
                .idle_timeout_ms
                .map_or(defaults.idle_timeout, Duration::from_millis),
            max_connections: file.tcp.max_connections.unwrap_or(defaults.max_connections),
            max_message_size: file
                .tcp
                .max_message_size
                .unwrap_or(defaults.max_message_size),
        };
        if tcp.max_message_size < 12 {
            return Err("tcp.max_message_size must be at least 12 (a DNS header)".to_owned());
        }
        // The embedded default's extras (encrypted listeners on fixed ports, recursion from
        // the root servers) come only with the embedded default itself: quick flags name
        // what to serve and where, so several such nodes can run side by side.
        let embedded = self.config.is_none() && self.listen.is_empty() && self.zones.is_empty();
        let tls = TlsSettings::from_file(file.tls, embedded, resolve)?;
        Ok(Settings {
            listen,
            http: self
                .http
                .or(file.http)
                .unwrap_or_else(|| default_addr(DEFAULT_HTTP_LISTEN)),
            threads,
            data_dir: self
                .data_dir
                .clone()
                .or(file.data_dir.map(resolve))
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            tcp,
            tls,
            zones,
            keys,
            resolver: ResolverSettings::from_file(file.resolver, embedded)?,
        })
    }
}

/// The embedded default's zone: the bundled example, which loopback clients may
/// transfer (so `dig @127.0.0.1 -p 5353 sovereign. AXFR` shows it whole).
fn embedded_zone() -> ZoneConfig {
    let loopback = ["127.0.0.0/8", "::1"]
        .iter()
        .filter_map(|p| p.parse::<Prefix>().ok())
        .collect();
    let mut zone = ZoneConfig::new(EMBEDDED_ORIGIN, ZoneSource::Embedded);
    zone.access.transfer = Acl::new(vec![Rule {
        from: loopback,
        key: None,
    }]);
    zone
}

/// The `[[key]]` entries: inline keys and the keys of BIND key files.
fn read_keys(
    entries: &[KeyFileConfig],
    resolve: &dyn Fn(PathBuf) -> PathBuf,
) -> Result<Vec<TsigKey>, String> {
    let mut keys = Vec::new();
    for (i, k) in entries.iter().enumerate() {
        let at = format!("key #{}", i + 1);
        match (&k.file, &k.name, &k.algorithm, &k.secret) {
            (Some(file), None, None, None) => {
                let path = resolve(file.clone());
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{at}: cannot read {}: {e}", path.display()))?;
                let found = parse_key_file(&text).map_err(|e| format!("{}:{e}", path.display()))?;
                keys.extend(found);
            }
            (None, Some(name), algorithm, Some(secret)) => {
                let name =
                    Name::parse(name).map_err(|e| format!("{at}: bad name `{name}`: {e}"))?;
                let alg_text = algorithm.as_deref().unwrap_or("hmac-sha256");
                let algorithm = Algorithm::from_mnemonic(alg_text)
                    .ok_or_else(|| format!("{at}: unknown TSIG algorithm `{alg_text}`"))?;
                let mut bytes = Vec::new();
                lib_dns::encoding::base64_decode(secret.as_bytes(), &mut bytes)
                    .map_err(|e| format!("{at}: secret is not base64: {e}"))?;
                keys.push(TsigKey::new(name, algorithm, bytes).map_err(|e| format!("{at}: {e}"))?);
            }
            _ => {
                return Err(format!(
                    "{at}: give either `file` or `name`, `secret` (and `algorithm`)"
                ));
            }
        }
    }
    Ok(keys)
}

/// A key name that must be one of the configured keys.
fn key_name(text: &str, keys: &[TsigKey], at: &str) -> Result<Name, String> {
    let name = Name::parse(text).map_err(|e| format!("{at}: bad key name `{text}`: {e}"))?;
    if keys.iter().any(|k| k.name() == &name) {
        Ok(name)
    } else {
        Err(format!("{at}: no [[key]] named `{text}`"))
    }
}

fn acl(rules: &[RuleFileConfig], keys: &[TsigKey], at: &str) -> Result<Acl, String> {
    let mut out = Vec::new();
    for r in rules {
        let texts: Vec<&str> = match &r.address {
            None => Vec::new(),
            Some(OneOrMany::One(a)) => vec![a.as_str()],
            Some(OneOrMany::Many(v)) => v.iter().map(String::as_str).collect(),
        };
        let from = texts
            .iter()
            .map(|t| t.parse::<Prefix>().map_err(|e| format!("{at}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let key = r
            .key
            .as_deref()
            .map(|k| key_name(k, keys, at))
            .transpose()?;
        if from.is_empty() && key.is_none() {
            return Err(format!(
                "{at}: a rule needs an `address`, a `key` or both (to allow everyone, say address = \"0.0.0.0/0\")"
            ));
        }
        out.push(Rule { from, key });
    }
    Ok(Acl::new(out))
}

fn remotes(list: &[RemoteFileConfig], keys: &[TsigKey], at: &str) -> Result<Vec<Remote>, String> {
    list.iter()
        .map(|r| {
            Ok(Remote {
                addr: r.address,
                key: r
                    .key
                    .as_deref()
                    .map(|k| key_name(k, keys, at))
                    .transpose()?,
            })
        })
        .collect()
}

/// A `[[zone]]` entry, checked against the keys.
fn zone_config(
    z: ZoneFileConfig,
    keys: &[TsigKey],
    resolve: &dyn Fn(PathBuf) -> PathBuf,
) -> Result<ZoneConfig, String> {
    let at = format!("zone {}", z.origin);
    let primaries = remotes(&z.primaries, keys, &format!("{at}: primaries"))?;
    let source = match (z.file, primaries.is_empty()) {
        (Some(file), true) => ZoneSource::File(resolve(file)),
        (None, false) => ZoneSource::Primaries(primaries.clone()),
        (Some(_), false) => {
            return Err(format!(
                "{at}: give `file` (we are the primary) or `primaries` (we are a secondary), not both"
            ));
        }
        (None, true) => return Err(format!("{at}: needs `file` or `primaries`")),
    };
    let notify_from = match &z.allow_notify {
        Some(rules) => acl(rules, keys, &format!("{at}: allow_notify"))?,
        None => Acl::new(
            primaries
                .iter()
                .filter_map(|p| {
                    Some(Rule {
                        from: vec![Prefix::new(
                            p.addr.ip(),
                            if p.addr.is_ipv4() { 32 } else { 128 },
                        )?],
                        key: p.key.clone(),
                    })
                })
                .collect(),
        ),
    };
    Ok(ZoneConfig {
        origin: z.origin,
        source,
        access: ZoneAccess {
            transfer: acl(&z.allow_transfer, keys, &format!("{at}: allow_transfer"))?,
            update: acl(&z.allow_update, keys, &format!("{at}: allow_update"))?,
            notify_from,
            notify: remotes(&z.notify, keys, &format!("{at}: notify"))?,
        },
    })
}

/// Parses a `--zone ORIGIN=PATH` flag.
pub fn parse_zone_flag(text: &str) -> Result<ZoneConfig, String> {
    let (origin, path) = text
        .split_once('=')
        .ok_or_else(|| format!("expected ORIGIN=PATH, got `{text}`"))?;
    if origin.is_empty() || path.is_empty() {
        return Err(format!("expected ORIGIN=PATH, got `{text}`"));
    }
    Ok(ZoneConfig::new(
        origin,
        ZoneSource::File(PathBuf::from(path)),
    ))
}

fn read_file(path: &Path) -> Result<FileConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("config {}: {e}", path.display()))
}

/// The address constants above are valid; this keeps the conversion panic-free anyway.
fn default_addr(text: &str) -> SocketAddr {
    text.parse()
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 5353)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_flags_no_file_is_the_embedded_default() {
        let s = Overrides::default().settings().unwrap();
        assert_eq!(s.listen, vec![default_addr(DEFAULT_DNS_LISTEN)]);
        assert_eq!(s.http.to_string(), DEFAULT_HTTP_LISTEN);
        assert_eq!(s.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(s.zones.len(), 1);
        assert_eq!(s.zones[0].source, ZoneSource::Embedded);
        assert_eq!(s.tcp, TcpLimits::default());
        assert_eq!(s.tls.dot, vec![default_addr(DEFAULT_DOT_DOQ_LISTEN)]);
        assert_eq!(s.tls.doq, vec![default_addr(DEFAULT_DOT_DOQ_LISTEN)]);
        assert_eq!(s.tls.doh[0].to_string(), DEFAULT_DOH_LISTEN);
        assert_eq!(s.tls.doh3, s.tls.doh);
        assert_eq!(s.tls.doh_path, "/dns-query");
        assert_eq!(s.tls.identity, None);
        assert_eq!(s.tls.min_version, MinVersion::Tls13);
    }

    #[test]
    fn quick_flags_leave_out_the_embedded_extras() {
        for o in [
            Overrides {
                listen: vec![default_addr("127.0.0.2:5300")],
                ..Overrides::default()
            },
            Overrides {
                zones: vec![embedded_zone()],
                ..Overrides::default()
            },
        ] {
            let s = o.settings().unwrap();
            assert!(s.tls.dot.is_empty() && s.tls.doq.is_empty() && s.tls.doh.is_empty());
            assert!(!s.resolver.enabled);
        }
        let s = Overrides::default().settings().unwrap();
        assert!(s.resolver.enabled);
    }

    #[test]
    fn tls_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zdns.toml");
        let o = Overrides {
            config: Some(path.clone()),
            ..Overrides::default()
        };
        std::fs::write(&path, "").unwrap();
        let s = o.settings().unwrap();
        assert!(s.tls.dot.is_empty() && s.tls.doq.is_empty() && s.tls.doh.is_empty());
        std::fs::write(
            &path,
            "[tls]\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\nmin_version = \"1.2\"\n\
             dot = [\"127.0.0.1:9853\"]\nidle_timeout_ms = 700\n",
        )
        .unwrap();
        let s = o.settings().unwrap();
        assert_eq!(
            s.tls.identity,
            Some((dir.path().join("c.pem"), dir.path().join("k.pem")))
        );
        assert_eq!(s.tls.min_version, MinVersion::Tls12);
        assert_eq!(s.tls.dot[0].port(), 9853);
        assert!(s.tls.doh.is_empty());
        assert_eq!(s.tls.idle_timeout, Duration::from_millis(700));
        for bad in [
            "[tls]\ncert_file = \"c.pem\"\n",
            "[tls]\nmin_version = \"1.1\"\n",
            "[tls]\ndoh_path = \"dns-query\"\n",
            "[tls]\nbogus = 1\n",
        ] {
            std::fs::write(&path, bad).unwrap();
            assert!(o.settings().is_err(), "{bad}");
        }
    }

    #[test]
    fn file_is_read_and_flags_override_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zdns.toml");
        std::fs::write(
            &path,
            "listen = [\"127.0.0.1:5300\"]\nthreads = 3\n[tcp]\nidle_timeout_ms = 500\n\
             [[zone]]\norigin = \"example.\"\nfile = \"example.zone\"\n",
        )
        .unwrap();
        let mut o = Overrides {
            config: Some(path),
            ..Overrides::default()
        };
        let s = o.settings().unwrap();
        assert_eq!(s.listen[0].port(), 5300);
        assert_eq!(s.threads, 3);
        assert_eq!(s.tcp.idle_timeout, Duration::from_millis(500));
        assert_eq!(
            s.zones[0].source,
            ZoneSource::File(dir.path().join("example.zone"))
        );
        o.threads = Some(1);
        o.zones = vec![parse_zone_flag("other.=/x/other.zone").unwrap()];
        let s = o.settings().unwrap();
        assert_eq!(s.threads, 1);
        assert_eq!(s.zones[0].origin, "other.");
    }

    #[test]
    fn the_annotated_example_is_valid() {
        let path = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/zdns.example.toml"
        ));
        let s = Overrides {
            config: Some(path.clone()),
            ..Overrides::default()
        }
        .settings()
        .unwrap();
        assert_eq!(s.listen, vec![default_addr(DEFAULT_DNS_LISTEN)]);
        assert_eq!(s.tcp, TcpLimits::default());
        assert_eq!(s.keys.len(), 1);
        let key = Name::parse("transfer.").unwrap();
        assert!(
            s.zones[0]
                .access
                .transfer
                .allows("127.0.0.1".parse().unwrap(), Some(&key))
        );
        assert!(
            !s.zones[0]
                .access
                .transfer
                .allows("127.0.0.1".parse().unwrap(), None)
        );
        let ZoneSource::File(zone) = &s.zones[0].source else {
            panic!("file zone expected");
        };
        assert!(zone.exists(), "{}", zone.display());
    }

    #[test]
    fn keys_rules_primaries_and_notify_targets() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("k.key"),
            "key \"file-key.\" { algorithm hmac-sha512; secret \"AAAAAAAAAAAAAAAAAAAAAA==\"; };\n",
        )
        .unwrap();
        let path = dir.path().join("zdns.toml");
        let write = |zone: &str| {
            std::fs::write(
                &path,
                format!(
                    "[[key]]\nname = \"k.\"\nsecret = \"AAAAAAAAAAAAAAAAAAAAAA==\"\n\
                     [[key]]\nfile = \"k.key\"\n[[zone]]\norigin = \"example.\"\n{zone}"
                ),
            )
            .unwrap();
        };
        let o = Overrides {
            config: Some(path.clone()),
            ..Overrides::default()
        };
        write(
            "primaries = [{ address = \"192.0.2.1:53\", key = \"k.\" }]\n\
             allow_transfer = [{ address = [\"10.0.0.0/8\", \"::1\"] }, { key = \"file-key.\" }]\n",
        );
        let s = o.settings().unwrap();
        assert_eq!(s.keys.len(), 2);
        let z = &s.zones[0];
        let ZoneSource::Primaries(p) = &z.source else {
            panic!("secondary expected")
        };
        assert_eq!(p[0].key, Some(Name::parse("k.").unwrap()));
        let k = Name::parse("k.").unwrap();
        assert!(
            z.access
                .notify_from
                .allows("192.0.2.1".parse().unwrap(), Some(&k))
        );
        assert!(
            !z.access
                .notify_from
                .allows("192.0.2.1".parse().unwrap(), None)
        );
        assert!(
            !z.access
                .notify_from
                .allows("192.0.2.2".parse().unwrap(), Some(&k))
        );
        assert!(z.access.transfer.allows("10.1.2.3".parse().unwrap(), None));
        let fk = Name::parse("file-key.").unwrap();
        assert!(
            z.access
                .transfer
                .allows("192.0.2.9".parse().unwrap(), Some(&fk))
        );
        for (zone, complaint) in [
            (
                "file = \"z\"\nprimaries = [{ address = \"192.0.2.1:53\" }]\n",
                "not both",
            ),
            ("", "needs `file` or `primaries`"),
            (
                "file = \"z\"\nallow_update = [{ key = \"nokey.\" }]\n",
                "no [[key]] named `nokey.`",
            ),
            (
                "file = \"z\"\nallow_update = [{ address = \"10.0.0.0/33\" }]\n",
                "10.0.0.0/33",
            ),
            ("file = \"z\"\nallow_update = [{ }]\n", "needs an `address`"),
        ] {
            write(zone);
            let e = o.settings().unwrap_err();
            assert!(e.contains(complaint), "{zone}: {e}");
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zdns.toml");
        std::fs::write(&path, "listne = []\n").unwrap();
        let o = Overrides {
            config: Some(path.clone()),
            ..Overrides::default()
        };
        assert!(o.settings().unwrap_err().contains("listne"));
        std::fs::write(&path, "threads = 0\n").unwrap();
        assert!(o.settings().unwrap_err().contains("threads"));
        assert!(parse_zone_flag("example.").is_err());
        assert!(parse_zone_flag("=x").is_err());
    }
}
