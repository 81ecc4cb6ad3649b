//! The harness shared by the node's integration tests: `zdns serve` on free loopback
//! ports with a temporary directory, HTTP requests to it, and peers found or skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    dead_code
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const ZDNS: &str = env!("CARGO_BIN_EXE_zdns");

/// A peer program by name, or `None` (with a notice) when it is not installed; fails
/// the test instead when `ZDNS_REQUIRE_PEERS=1` (as `.ci/run` sets).
pub fn peer(test: &str, names: &[&str]) -> Option<PathBuf> {
    for name in names {
        for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"] {
            let p = PathBuf::from(dir).join(name);
            if p.exists() {
                return Some(p);
            }
        }
    }
    assert!(
        std::env::var("ZDNS_REQUIRE_PEERS").as_deref() != Ok("1"),
        "{test}: {names:?} not found and ZDNS_REQUIRE_PEERS=1"
    );
    eprintln!("{test}: skipped, {names:?} not installed");
    None
}

/// Whether every one of the peer programs `names` is installed ([`peer`] for each, so a
/// missing one is reported, or fails the test under `ZDNS_REQUIRE_PEERS=1`).
pub fn all_peers(test: &str, names: &[&str]) -> bool {
    names.iter().all(|name| peer(test, &[name]).is_some())
}

/// A running `zdns serve`, killed when dropped.
pub struct Server {
    /// The server process.
    pub child: Child,
    /// Its directory: config, zone files, `data/`, `log`.
    pub dir: tempfile::TempDir,
    /// DNS over UDP and TCP.
    pub dns: SocketAddr,
    /// The HTTP listener.
    pub http: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free on 127.0.0.1 for both TCP and UDP (at the time of asking).
pub fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Starts the server with a config file holding `config` (listen, http and data_dir are
/// added) and the zone files `zones` (origin, file name, text) written in its directory.
pub fn start(config: &str, zones: &[(&str, &str, &str)]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{config}\n");
    for (origin, file, zone) in zones {
        std::fs::write(dir.path().join(file), zone).unwrap();
        text.push_str(&format!(
            "[[zone]]\norigin = \"{origin}\"\nfile = \"{file}\"\n"
        ));
    }
    let dns = SocketAddr::from(([127, 0, 0, 1], free_port()));
    start_in(dir, dns, &text)
}

/// Starts the server in `dir` (which holds any zone files the config names) on `dns`,
/// with `config` after the listen, http, data_dir and threads keys.
pub fn start_in(dir: tempfile::TempDir, dns: SocketAddr, config: &str) -> Server {
    let http = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let text = format!(
        "listen = [\"{dns}\"]\nhttp = \"{http}\"\ndata_dir = \"data\"\nthreads = 2\n{config}\n"
    );
    std::fs::write(dir.path().join("zdns.toml"), text).unwrap();
    let mut server = Server {
        child: spawn(dir.path()),
        dir,
        dns,
        http,
    };
    server.wait_ready();
    server
}

/// Sends `query` over UDP and returns the reply.
pub fn udp_exchange(to: SocketAddr, query: &lib_dns::Message) -> lib_dns::Message {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.send_to(&query.to_wire(512).unwrap(), to).unwrap();
    let mut buf = [0u8; 4096];
    let n = s.recv(&mut buf).unwrap();
    lib_dns::Message::parse(&buf[..n]).unwrap()
}

/// Starts `zdns serve --config zdns.toml` in `dir`, logging (appending) to `dir/log`.
fn spawn(dir: &std::path::Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("log"))
        .unwrap();
    Command::new(ZDNS)
        .args(["serve", "--config", "zdns.toml"])
        .current_dir(dir)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

impl Server {
    /// Waits until the HTTP listener answers (the node is serving).
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while http_request(self.http, "GET", "/metrics").is_err() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("zdns serve exited with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "zdns serve not ready:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(self.dir.path().join("data").is_dir());
    }

    /// Kills the server with SIGKILL (no chance to clean up) and starts it again on
    /// the same directory, config and ports.
    pub fn kill_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.child = spawn(self.dir.path());
        self.wait_ready();
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// The `/metrics` text.
    pub fn metrics(&self) -> String {
        http_request(self.http, "GET", "/metrics").unwrap().1
    }

    /// Polls the metrics until one line equals `line`.
    pub fn wait_metric(&self, line: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let m = self.metrics();
            if m.lines().any(|l| l == line) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no `{line}` in\n{m}\nlog:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `zdns query @server ARGS`.
    pub fn query(&self, args: &[&str]) -> Output {
        let at = format!("@{}", self.dns);
        Command::new(ZDNS)
            .arg("query")
            .arg(at)
            .args(args)
            .arg("+timeout=5")
            .output()
            .unwrap()
    }
}

/// One HTTP/1.1 request; returns status and body.
pub fn http_request(addr: SocketAddr, method: &str, path: &str) -> std::io::Result<(u16, String)> {
    http_exchange(addr, method, path, None)
}

/// A POST with a JSON body; returns the status and the body.
pub fn http_post_json(addr: SocketAddr, path: &str, json: &str) -> std::io::Result<(u16, String)> {
    http_exchange(addr, "POST", path, Some(json))
}

/// One HTTP/1.1 request on its own connection; returns the status and the body.
pub fn http_exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    json: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = json.unwrap_or("");
    let content_type = if json.is_some() {
        "Content-Type: application/json\r\n"
    } else {
        ""
    };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{content_type}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    s.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_owned()))
}
