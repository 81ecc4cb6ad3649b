//! dnspython as an oracle for messages: it builds varied messages (EDNS options,
//! compression, many record types), our parse must see the same header, sections and
//! EDNS, and dnspython must read our re-encoding as the same message.
//!
//! Skipped with a notice when python3 or dnspython is missing, unless the environment
//! sets `ZDNS_REQUIRE_PEERS=1`, in which case that is a failure.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};

use lib_dns::Message;
use lib_dns::wire::WireWriter;

/// Builds the messages and prints, for each, its wire form and a description of what it
/// holds; with `check`, reads pairs of hex messages and compares them.
const SCRIPT: &str = r#"
import sys, dns.update, dns.message, dns.edns, dns.rrset, dns.flags, dns.rcode, dns.opcode, dns.name

def rr(name, ttl, rdtype, *rdatas, rdclass="IN"):
    return dns.rrset.from_text(name, ttl, rdclass, rdtype, *rdatas)

def build():
    msgs = []
    q = dns.message.make_query("www.example.com.", "A", use_edns=0, want_dnssec=True,
        options=[dns.edns.GenericOption(10, bytes(range(8)))])
    q.id = 1
    msgs.append(q)

    r = dns.message.make_response(q)
    r.flags |= dns.flags.AA | dns.flags.RA
    r.answer.append(rr("www.example.com.", 300, "CNAME", "web.Example.com."))
    r.answer.append(rr("web.Example.com.", 300, "A", "192.0.2.1", "192.0.2.2"))
    r.authority.append(rr("example.com.", 3600, "NS", "ns1.example.com.", "ns2.example.net."))
    r.additional.append(rr("ns1.example.com.", 3600, "A", "192.0.2.53"))
    r.additional.append(rr("ns1.example.com.", 3600, "AAAA", "2001:db8::53"))
    r.use_edns(0, dns.flags.DO, 1232, options=[
        dns.edns.GenericOption(10, bytes(range(8)) + bytes(range(100, 116))),
        dns.edns.ECSOption("192.0.2.0", 24, 20),
        dns.edns.ECSOption("2001:db8:ff00::", 41, 0),
        dns.edns.EDEOption(18, "blocked by policy"),
        dns.edns.EDEOption(6),
        dns.edns.GenericOption(3, b"ns1.example"),
        dns.edns.GenericOption(11, b"\x01\x2c"),
        dns.edns.GenericOption(12, bytes(17)),
        dns.edns.GenericOption(9, b"\x00\x00\x0e\x10"),
        dns.edns.GenericOption(65001, b"\xde\xad"),
    ])
    msgs.append(r)

    nx = dns.message.make_response(dns.message.make_query("nope.example.org.", "MX"))
    nx.set_rcode(dns.rcode.NXDOMAIN)
    nx.authority.append(rr("example.org.", 900, "SOA",
        "ns.example.org. hostmaster.example.org. 2024010101 7200 3600 1209600 900"))
    msgs.append(nx)

    bv = dns.message.make_response(dns.message.make_query("example.", "SOA", use_edns=0))
    bv.use_edns(0, 0, 4096)
    bv.set_rcode(dns.rcode.BADVERS)
    msgs.append(bv)

    many = dns.message.make_response(dns.message.make_query("example.", "ANY", use_edns=0))
    many.flags |= dns.flags.AD | dns.flags.CD
    for t, d in [
        ("MX", "10 mail.example."), ("TXT", '"v=spf1 -all" "second string"'),
        ("SPF", '"v=spf1 -all"'), ("PTR", "host.example."), ("DNAME", "other.example."),
        ("HINFO", '"PC" "Linux"'), ("SRV", "0 5 5060 sip.example."),
        ("NAPTR", '100 10 "S" "SIP+D2U" "" _sip._udp.example.'),
        ("DS", "12345 13 2 " + "ab" * 32),
        ("DNSKEY", "257 3 13 " + "AwEAAag="),
        ("RRSIG", "SOA 13 1 3600 20300101000000 20200101000000 12345 example. AAAA"),
        ("NSEC", "a.example. A NS SOA RRSIG NSEC DNSKEY"),
        ("NSEC3", "1 0 10 aabbccdd 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG"),
        ("NSEC3PARAM", "1 0 10 aabbccdd"),
        ("TLSA", "3 1 1 " + "cd" * 32), ("SSHFP", "4 2 " + "ef" * 32),
        ("CAA", '0 issue "ca.example.net"'), ("URI", '10 1 "https://example.com/"'),
        ("LOC", "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m"),
        ("SVCB", "1 svc.example. alpn=h2,h3 port=8443"),
        ("HTTPS", "1 . alpn=h2"),
        ("TYPE65280", r"\# 3 abcdef"),
    ]:
        many.answer.append(rr("example.", 60, t, d))
    many.use_edns(0, 0, 1400)
    msgs.append(many)

    up = dns.update.UpdateMessage("example.", id=8)
    up.present("must-exist", "A")
    up.absent("must-not-exist")
    up.add("new", 300, "AAAA", "2001:db8::1")
    up.delete("old", "MX")
    up.delete("gone", "A", "192.0.2.9")
    up.delete("everything")
    msgs.append(up)

    upd = dns.message.Message(id=7)
    upd.set_opcode(dns.opcode.NOTIFY)
    upd.flags |= dns.flags.AA
    upd.question.append(dns.rrset.RRset(dns.name.from_text("example."), 1, 6))
    upd.answer.append(rr("example.", 3600, "SOA", "ns. host. 5 1 2 3 4"))
    msgs.append(upd)
    return msgs

def describe(m):
    out = ["HDR %d %d %d %d" % (m.id, m.opcode(), m.rcode(), m.flags & 0x87f0)]
    for q in m.question:
        out.append("Q %s %d %d" % (q.name.to_text(), q.rdtype, q.rdclass))
    for title, sec in (("AN", m.answer), ("NS", m.authority), ("AR", m.additional)):
        for rrset in sec:
            # In UPDATE, dnspython keeps the wire class ANY/NONE in `deleting`.
            rdclass = rrset.deleting if rrset.deleting is not None else rrset.rdclass
            if len(rrset) == 0:
                out.append("%s %s %d %d %d \\# 0" % (title, rrset.name.to_text(), rrset.ttl,
                    rdclass, rrset.rdtype))
            for rd in rrset:
                out.append("%s %s %d %d %d %s" % (title, rrset.name.to_text(), rrset.ttl,
                    rdclass, rrset.rdtype, rd.to_generic().to_text().lower()))
    if m.edns >= 0:
        out.append("EDNS %d %d %d" % (m.edns, m.payload, m.ednsflags & 0xffff))
        for o in m.options:
            out.append("OPT %d %s" % (o.otype, o.to_wire().hex()))
    return out

if sys.argv[1] == "gen":
    for m in build():
        wire = m.to_wire()
        print("MSG " + wire.hex())
        # Described as read back: compression is case-insensitive, so the wire may
        # spell a name with the case of an earlier one.
        for line in describe(dns.message.from_wire(wire)):
            print(line)
        print("END")
else:
    for i, line in enumerate(sys.stdin):
        theirs, ours = line.split()
        a = dns.message.from_wire(bytes.fromhex(theirs))
        b = dns.message.from_wire(bytes.fromhex(ours))
        if a == b and describe(a) == describe(b) and a.to_text() == b.to_text():
            print("OK %d" % i)
        else:
            print("DIFF %d\n%s\n----\n%s" % (i, a.to_text(), b.to_text()))
"#;

fn python(args: &[&str], input: Option<&str>) -> Option<String> {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    stdin.write_all(input.unwrap_or_default().as_bytes()).ok()?;
    drop(stdin);
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        eprintln!("python3: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    String::from_utf8(out.stdout).ok()
}

fn have_dnspython() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import dns.message, dns.edns"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("ZDNS_REQUIRE_PEERS").as_deref() != Ok("1"),
            "python3 with dnspython is required (ZDNS_REQUIRE_PEERS=1)"
        );
        eprintln!("skipping the dnspython oracle test: python3 or dnspython is missing");
    }
    ok
}

/// Our view of a message in the script's `describe` format.
fn describe(m: &Message) -> Vec<String> {
    let bits = m.flags.to_bits();
    let mut out = vec![format!(
        "HDR {} {} {} {}",
        m.id,
        m.opcode.value(),
        m.rcode.0,
        bits
    )];
    for q in &m.questions {
        out.push(format!("Q {} {} {}", q.qname, q.qtype.0, q.qclass.0));
    }
    for (title, sec) in [
        ("AN", &m.answers),
        ("NS", &m.authority),
        ("AR", &m.additional),
    ] {
        for r in sec {
            out.push(format!(
                "{title} {} {} {} {} {}",
                r.owner,
                r.ttl,
                r.class.0,
                r.rtype().0,
                r.data.to_generic_string().unwrap().to_lowercase()
            ));
        }
    }
    if let Some(e) = &m.edns {
        out.push(format!(
            "EDNS {} {} {}",
            e.version, e.udp_payload_size, e.flags
        ));
        for o in &e.options {
            let mut w = WireWriter::plain();
            o.write_wire(&mut w).unwrap();
            let mut hex = String::new();
            for b in w.as_bytes().get(4..).unwrap() {
                write!(hex, "{b:02x}").unwrap();
            }
            out.push(format!("OPT {} {hex}", o.code()));
        }
    }
    out
}

fn from_hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn dnspython_agrees() {
    if !have_dnspython() {
        return;
    }
    let generated = python(&["gen"], None).expect("dnspython script failed");
    let mut pairs = String::new();
    let mut count = 0;
    let mut lines = generated.lines();
    while let Some(line) = lines.next() {
        let hex = line.strip_prefix("MSG ").expect("MSG line");
        let expected: Vec<String> = lines
            .by_ref()
            .take_while(|l| *l != "END")
            .map(str::to_owned)
            .collect();
        let wire = from_hex(hex);
        let msg = Message::parse(&wire)
            .unwrap_or_else(|e| panic!("message {count} from dnspython rejected: {e}"));
        assert_eq!(describe(&msg), expected, "message {count} read differently");
        let ours = msg.to_wire(65535).unwrap();
        assert!(
            ours.len() <= wire.len(),
            "message {count}: our encoding ({}) is longer than dnspython's ({})",
            ours.len(),
            wire.len()
        );
        let mut ours_hex = String::new();
        for b in &ours {
            write!(ours_hex, "{b:02x}").unwrap();
        }
        writeln!(pairs, "{hex} {ours_hex}").unwrap();
        count += 1;
    }
    assert!(count >= 6, "only {count} messages generated");
    let verdict = python(&["check"], Some(&pairs)).expect("dnspython check failed");
    let bad: Vec<&str> = verdict.lines().filter(|l| !l.starts_with("OK ")).collect();
    assert!(
        bad.is_empty(),
        "dnspython reads our output differently:\n{verdict}"
    );
    assert_eq!(verdict.lines().count(), count);
}
