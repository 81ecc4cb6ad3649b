//! `zdns key` and `zdns zone sign|verify` as an operator runs them, checked by peers:
//! zones signed by zdns pass BIND's `dnssec-verify` and `ldns-verify-zone` for each
//! algorithm with NSEC, NSEC3 and NSEC3 opt-out; keys made by `dnssec-keygen` import and
//! sign; zones signed by `dnssec-signzone` pass `zdns zone verify`, and damaged ones fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{ZDNS, peer};

const ZONE: &str = "\
$ORIGIN example.
$TTL 3600
@        IN SOA ns1 hostmaster 2026120101 7200 3600 1209600 300
@        IN NS  ns1
@        IN MX  10 mail
ns1      IN A   192.0.2.1
mail     IN A   192.0.2.2
         IN AAAA 2001:db8::2
*.wild   IN TXT \"wildcard\"
a.b.c    IN A   192.0.2.3
secure   IN NS  ns.secure
secure   IN DS  12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
ns.secure IN A  192.0.2.4
insecure IN NS  ns.insecure
ns.insecure IN A 192.0.2.5
Upper    IN A   192.0.2.6
";

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn zdns(dir: &Path, args: &[&str]) -> Output {
    run(Command::new(ZDNS).current_dir(dir).args(args))
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("example.zone"), ZONE).unwrap();
    dir
}

fn key_files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

#[test]
fn generated_keys_are_private_and_print_ds() {
    let dir = setup();
    let out = zdns(
        dir.path(),
        &[
            "key", "generate", "--zone", "example.", "--alg", "ed25519", "--ksk", "--dir", "ring",
        ],
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let ring = dir.path().join("ring");
    let private = key_files(&ring, "private");
    assert_eq!(private.len(), 1);
    let mode = fs::metadata(&private[0]).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // The DS lines name the key, SHA-256 and SHA-384; the private key is not printed.
    let secret = fs::read_to_string(&private[0]).unwrap();
    let secret = secret
        .lines()
        .find_map(|l| l.strip_prefix("PrivateKey: "))
        .unwrap();
    assert!(!stdout.contains(secret));
    let ds: Vec<&str> = stdout.lines().filter(|l| l.contains("\tDS\t")).collect();
    assert_eq!(ds.len(), 2, "{stdout}");
    assert!(
        ds[0].contains(" 15 2 ") && ds[1].contains(" 15 4 "),
        "{stdout}"
    );
    // The DS digest matches BIND's for the same key file.
    if let Some(dsfromkey) = peer(
        "generated_keys_are_private_and_print_ds",
        &["dnssec-dsfromkey"],
    ) {
        let key = &key_files(&ring, "key")[0];
        let bind = run(Command::new(dsfromkey).arg("-2").arg(key));
        let bind = String::from_utf8(bind.stdout).unwrap();
        let digest = bind.split_whitespace().last().unwrap().to_ascii_uppercase();
        assert!(ds[0].ends_with(&digest), "{bind} vs {}", ds[0]);
    }
    // A second key into the same keyring, then an unknown algorithm is refused.
    zdns(
        dir.path(),
        &[
            "key",
            "generate",
            "--zone",
            "example.",
            "--alg",
            "ecdsap256",
            "--dir",
            "ring",
        ],
    );
    assert_eq!(key_files(&ring, "key").len(), 2);
    let bad = Command::new(ZDNS)
        .current_dir(dir.path())
        .args([
            "key", "generate", "--zone", "example.", "--alg", "dsa", "--dir", "ring",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown algorithm"));
}

/// Signs the zone with a fresh KSK and ZSK of `alg`, with each denial mode, and has
/// BIND and ldns verify the result.
fn sign_and_verify_with_peers(test: &str, alg: &str) {
    let Some(verify) = peer(test, &["dnssec-verify"]) else {
        return;
    };
    let Some(ldns) = peer(test, &["ldns-verify-zone"]) else {
        return;
    };
    let dir = setup();
    let d = dir.path();
    zdns(
        d,
        &[
            "key", "generate", "--zone", "example.", "--alg", alg, "--ksk", "--dir", "ring",
        ],
    );
    zdns(
        d,
        &[
            "key", "generate", "--zone", "example.", "--alg", alg, "--dir", "ring",
        ],
    );
    for (name, extra) in [
        ("nsec", &[][..]),
        ("nsec3", &["--nsec3"][..]),
        ("optout", &["--nsec3", "--opt-out"][..]),
    ] {
        let out = format!("{name}.signed");
        let mut args = vec![
            "zone",
            "sign",
            "example.zone",
            "--origin",
            "example.",
            "--keys",
            "ring",
            "-o",
            &out,
            "--zonemd",
            "--cds",
        ];
        args.extend_from_slice(extra);
        zdns(d, &args);
        run(Command::new(&verify)
            .current_dir(d)
            .args(["-o", "example.", &out]));
        run(Command::new(&ldns).current_dir(d).args(["-ZZ", &out]));
        let ours = zdns(d, &["zone", "verify", &out, "--origin", "example."]);
        assert!(String::from_utf8_lossy(&ours.stdout).contains("verified"));
    }
}

#[test]
fn ed25519_signed_zones_pass_bind_and_ldns() {
    sign_and_verify_with_peers("ed25519_signed_zones_pass_bind_and_ldns", "ed25519");
}

#[test]
fn ecdsa_signed_zones_pass_bind_and_ldns() {
    sign_and_verify_with_peers("ecdsa_signed_zones_pass_bind_and_ldns", "ecdsap256");
}

#[test]
fn rsa_signed_zones_pass_bind_and_ldns() {
    sign_and_verify_with_peers("rsa_signed_zones_pass_bind_and_ldns", "rsasha256");
}

#[test]
fn bind_keys_import_sign_and_bind_signed_zones_verify() {
    let test = "bind_keys_import_sign_and_bind_signed_zones_verify";
    let (Some(keygen), Some(signzone), Some(verify)) = (
        peer(test, &["dnssec-keygen"]),
        peer(test, &["dnssec-signzone"]),
        peer(test, &["dnssec-verify"]),
    ) else {
        return;
    };
    for alg in ["ECDSAP256SHA256", "ED25519", "RSASHA256"] {
        let dir = setup();
        let d = dir.path();
        fs::create_dir(d.join("bind")).unwrap();
        run(Command::new(&keygen)
            .current_dir(d)
            .args(["-q", "-K", "bind", "-a", alg, "-f", "KSK", "example."]));
        run(Command::new(&keygen)
            .current_dir(d)
            .args(["-q", "-K", "bind", "-a", alg, "example."]));
        // Import: the keyring gets both pairs; signing with it passes dnssec-verify.
        let mut args: Vec<String> = ["key", "import", "--dir", "ring"]
            .map(String::from)
            .to_vec();
        args.extend(
            key_files(&d.join("bind"), "key")
                .iter()
                .map(|p| p.display().to_string()),
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        zdns(d, &args);
        assert_eq!(key_files(&d.join("ring"), "private").len(), 2);
        zdns(
            d,
            &[
                "zone",
                "sign",
                "example.zone",
                "--origin",
                "example.",
                "--keys",
                "ring",
                "-o",
                "ours.signed",
            ],
        );
        run(Command::new(&verify)
            .current_dir(d)
            .args(["-o", "example.", "ours.signed"]));
        // BIND signs with the same keys; zdns verifies BIND's zone, NSEC and NSEC3.
        for (out, extra) in [
            ("bind.signed", &[][..]),
            ("bind3.signed", &["-3", "-", "-H", "0"][..]),
        ] {
            let mut args = vec![
                "-q", "-O", "full", "-o", "example.", "-K", "bind", "-S", "-f", out,
            ];
            args.extend_from_slice(extra);
            args.push("example.zone");
            run(Command::new(&signzone).current_dir(d).args(&args));
            zdns(d, &["zone", "verify", out, "--origin", "example."]);
            // One changed character in a signature: zdns finds it.
            let text = fs::read_to_string(d.join(out)).unwrap();
            let line = text.lines().find(|l| l.contains("RRSIG\tMX ")).unwrap();
            let sig_start = line.rfind("example. ").unwrap() + "example. ".len();
            let mut bad_line = line.to_string();
            let c = if &line[sig_start + 3..sig_start + 4] == "A" {
                "B"
            } else {
                "A"
            };
            bad_line.replace_range(sig_start + 3..sig_start + 4, c);
            fs::write(d.join("bad.signed"), text.replace(line, &bad_line)).unwrap();
            let bad = Command::new(ZDNS)
                .current_dir(d)
                .args(["zone", "verify", "bad.signed", "--origin", "example."])
                .output()
                .unwrap();
            assert_eq!(bad.status.code(), Some(1), "{alg} {out}");
            assert!(String::from_utf8_lossy(&bad.stderr).contains("signature does not verify"));
        }
    }
}

#[test]
fn ml_dsa_keys_sign_and_verify() {
    let dir = setup();
    let d = dir.path();
    let out = zdns(
        d,
        &[
            "key", "generate", "--zone", "example.", "--alg", "mldsa44", "--ksk", "--dir", "ring",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(" 254 2 "));
    zdns(
        d,
        &[
            "key", "generate", "--zone", "example.", "--alg", "mldsa44", "--dir", "ring",
        ],
    );
    zdns(
        d,
        &[
            "zone",
            "sign",
            "example.zone",
            "--keys",
            "ring",
            "-o",
            "pq.signed",
            "--nsec3",
        ],
    );
    let text = fs::read_to_string(d.join("pq.signed")).unwrap();
    assert!(text.contains("\tRRSIG\tA 254 2 "));
    zdns(d, &["zone", "verify", "pq.signed", "--origin", "example."]);
}
