//! Tests of the zone reader, checks and writer, on zones held in memory.

use std::collections::HashMap;
use std::io::{BufRead, Cursor};

use super::*;
use crate::rdata::{A, RData};

/// `$INCLUDE` files from a map, named as written.
#[derive(Default)]
struct MemIncludes(HashMap<String, String>);

impl IncludeSource for MemIncludes {
    fn resolve(&self, path: &str, _from: &str) -> String {
        path.to_owned()
    }

    fn open(&mut self, resolved: &str) -> Result<Box<dyn BufRead>, String> {
        self.0
            .get(resolved)
            .map(|t| Box::new(Cursor::new(t.clone().into_bytes())) as Box<dyn BufRead>)
            .ok_or_else(|| "no such file".to_owned())
    }
}

const HEAD: &str = "$ORIGIN example.\n$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n";

fn origin() -> Name {
    Name::parse("example.").unwrap()
}

fn read_with(text: &str, includes: &mut MemIncludes) -> Loaded {
    Zone::read(origin(), Class::IN, "z", Cursor::new(text), includes)
}

fn read(text: &str) -> Loaded {
    read_with(text, &mut MemIncludes::default())
}

/// `owner ttl class type data` lines of the records as read, in order.
fn lines(text: &str) -> Vec<String> {
    let loaded = read(text);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    loaded
        .zone
        .records()
        .iter()
        .map(|r| r.to_string())
        .collect()
}

/// The diagnostics as `FILE:LINE:COL: message` lines.
fn diags(text: &str) -> Vec<String> {
    read(text)
        .diagnostics
        .iter()
        .map(|d| d.to_string())
        .collect()
}

/// The check findings of a zone read without errors.
fn check(text: &str) -> Vec<String> {
    let mut loaded = read(text);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    loaded.zone.check().iter().map(|d| d.to_string()).collect()
}

#[test]
fn origin_owner_inheritance_and_at() {
    let got = lines(
        "$ORIGIN example.\n$TTL 60\n@ A 192.0.2.1\n\tTXT x\nsub A 192.0.2.2\n$ORIGIN sub\nwww A 192.0.2.3\n  A 192.0.2.4\n@ TXT y\nabs.example. A 192.0.2.5\n",
    );
    assert_eq!(
        got,
        [
            "example.\t60\tIN\tA\t192.0.2.1",
            "example.\t60\tIN\tTXT\t\"x\"",
            "sub.example.\t60\tIN\tA\t192.0.2.2",
            "www.sub.example.\t60\tIN\tA\t192.0.2.3",
            "www.sub.example.\t60\tIN\tA\t192.0.2.4",
            "sub.example.\t60\tIN\tTXT\t\"y\"",
            "abs.example.\t60\tIN\tA\t192.0.2.5",
        ]
    );
}

#[test]
fn ttl_and_class_in_either_order_and_units() {
    let got = lines(
        "$TTL 1h\n$ORIGIN example.\na 1h30m IN A 192.0.2.1\nb IN 2w A 192.0.2.2\nc in 1D2H A 192.0.2.3\nd CLASS1 A 192.0.2.4\ne A 192.0.2.5\n",
    );
    let ttls: Vec<&str> = got.iter().map(|l| l.split('\t').nth(1).unwrap()).collect();
    assert_eq!(ttls, ["5400", "1209600", "93600", "3600", "3600"]);
}

#[test]
fn default_ttl_rules_as_bind() {
    // No $TTL, SOA without TTL: its minimum becomes the default (RFC 2308 §4), and
    // stays the default after explicit TTLs.
    let got = lines("$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\nns 20 A 192.0.2.1\nx A 192.0.2.2\n");
    assert_eq!(got[1].split('\t').nth(1), Some("20"));
    assert_eq!(got[2].split('\t').nth(1), Some("5"));
    let l = read("$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\n");
    assert_eq!(
        l.diagnostics[0].to_string(),
        "z:2:1: warning: no TTL specified; using SOA MINTTL instead"
    );
    // No $TTL, explicit SOA TTL: RFC 1035 semantics, the last explicit TTL.
    let got = lines(
        "$ORIGIN example.\n@ 30 SOA ns hm 1 2 3 4 5\n@ NS ns\nns 20 A 192.0.2.1\nx A 192.0.2.2\n",
    );
    let ttls: Vec<&str> = got.iter().map(|l| l.split('\t').nth(1).unwrap()).collect();
    assert_eq!(ttls, ["30", "30", "20", "20"]);
    // Nothing to go by.
    assert_eq!(
        diags("$ORIGIN example.\nx A 192.0.2.1\n"),
        ["z:2:1: no TTL specified: give one, or a $TTL before this record"]
    );
    // Above 2^31-1: zero, with a warning (RFC 2181 §8).
    let l = read("$ORIGIN example.\nx 2147483648 A 192.0.2.1\n");
    assert_eq!(l.zone.records()[0].ttl, 0);
    assert!(
        l.diagnostics[0]
            .to_string()
            .starts_with("z:2:3: warning: TTL 2147483648")
    );
}

#[test]
fn parentheses_comments_and_quotes() {
    let got = lines(&format!(
        "{HEAD}x ( TXT ; comment\n \"a;b\" ( \"c\\\"d\" )\n ) ; done\ny MX ( 10\n\n  mail )\n"
    ));
    assert_eq!(got[3], "x.example.\t300\tIN\tTXT\t\"a;b\" \"c\\\"d\"");
    assert_eq!(got[4], "y.example.\t300\tIN\tMX\t10 mail.example.");
}

#[test]
fn generic_and_unknown_types() {
    let got = lines(&format!(
        "{HEAD}g TYPE65534 \\# 3 010203\ng TYPE1 \\# 4 C0000201\ng CLASS1 TYPE65535 \\# 0\n"
    ));
    assert_eq!(got[3], "g.example.\t300\tIN\tTYPE65534\t\\# 3 010203");
    assert_eq!(got[4], "g.example.\t300\tIN\tA\t192.0.2.1");
    assert_eq!(got[5], "g.example.\t300\tIN\tTYPE65535\t\\# 0");
}

#[test]
fn generate_expands_lazily_with_modifiers() {
    let got = lines(&format!(
        "{HEAD}$GENERATE 1-5/2 h${{0,2,x}} 60 IN A 192.0.2.$\n$GENERATE 10-11 ${{0,3,N}} PTR p$$\\$\n$GENERATE 2-2 t TXT \"v ${{-1}}\"\n"
    ));
    assert_eq!(
        &got[3..],
        [
            "h01.example.\t60\tIN\tA\t192.0.2.1",
            "h03.example.\t60\tIN\tA\t192.0.2.3",
            "h05.example.\t60\tIN\tA\t192.0.2.5",
            "A.0.example.\t300\tIN\tPTR\tp\\$\\$.example.",
            "B.0.example.\t300\tIN\tPTR\tp\\$\\$.example.",
            // As BIND: the quotes only keep the template one token; the expanded text
            // is read again, so it holds two strings.
            "t.example.\t300\tIN\tTXT\t\"v\" \"1\"",
        ]
    );
    // A million-record range is not expanded up front.
    let mut includes = MemIncludes::default();
    let text = format!("{HEAD}$GENERATE 0-4000000000 h$ A 192.0.2.1\n");
    let mut reader = ZoneReader::new(origin(), Class::IN, "z", Cursor::new(text), &mut includes);
    assert_eq!(reader.by_ref().take(10).filter(Result::is_ok).count(), 10);
}

#[test]
fn generate_errors() {
    assert_eq!(
        diags(&format!("{HEAD}$GENERATE 1-3 h${{0,1,z}} A 192.0.2.$\n")),
        [
            "z:6:16: bad $GENERATE modifier '${0,1,z}': expected ${offset[,width[,base]]} with base d, o, x, X, n or N"
        ]
    );
    assert_eq!(
        diags(&format!("{HEAD}$GENERATE 255-256 h$ A 192.0.2.$\n")),
        ["z:6:24: $GENERATE data for 256: expected IPv4 address, found '192.0.2.256'"]
    );
    assert_eq!(
        diags(&format!("{HEAD}$GENERATE 1 h$ A 192.0.2.$\n")),
        ["z:6:11: expected $GENERATE range start-stop[/step], found '1'"]
    );
    assert_eq!(
        diags(&format!("{HEAD}$GENERATE 1-2 h$ A 192.0.2.$ extra\n")),
        ["z:6:30: unexpected 'extra' after the end of the record data"]
    );
}

#[test]
fn include_with_origin_restores_origin_and_owner() {
    let mut inc = MemIncludes::default();
    inc.0
        .insert("a.inc".into(), "www A 192.0.2.7\n$INCLUDE b.inc\n".into());
    inc.0.insert("b.inc".into(), "deep TXT b\nbad A 1\n".into());
    let l = read_with(
        &format!("{HEAD}x TXT before\n$INCLUDE a.inc sub\n\tTXT after\n"),
        &mut inc,
    );
    let got: Vec<String> = l.zone.records().iter().map(|r| r.to_string()).collect();
    assert_eq!(
        &got[3..],
        [
            "x.example.\t300\tIN\tTXT\t\"before\"",
            "www.sub.example.\t300\tIN\tA\t192.0.2.7",
            "deep.sub.example.\t300\tIN\tTXT\t\"b\"",
            "x.example.\t300\tIN\tTXT\t\"after\"",
        ]
    );
    let d: Vec<String> = l.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(d, ["b.inc:2:7: expected IPv4 address, found '1'"]);
    let s = l.zone.source(5).unwrap();
    assert_eq!((l.zone.file_name(s.file), s.line, s.col), ("b.inc", 1, 1));
}

#[test]
fn include_errors() {
    let mut inc = MemIncludes::default();
    inc.0
        .insert("self.inc".into(), "$INCLUDE self.inc\n".into());
    let l = read_with("$INCLUDE self.inc\n$INCLUDE none.inc\n$INCLUDE\n", &mut inc);
    let d: Vec<String> = l.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        d,
        [
            "self.inc:1:10: $INCLUDE loop: 'self.inc' is already being read",
            "z:2:10: cannot open 'none.inc': no such file",
            "z:3:9: expected file name",
        ]
    );
}

#[test]
fn entry_errors_with_locations() {
    let cases: &[(&str, &str)] = &[
        (
            "x foo A 192.0.2.1",
            "z:6:3: expected TTL, class or type, found 'foo'",
        ),
        ("x 60 foo", "z:6:6: expected class or type, found 'foo'"),
        (
            "x IN IN A 192.0.2.1",
            "z:6:6: expected TTL or type, found 'IN'",
        ),
        ("x 60 IN 60 A 192.0.2.1", "z:6:9: expected type, found '60'"),
        ("x", "z:6:2: expected TTL, class or type"),
        (
            "x CH A 192.0.2.1",
            "z:6:3: class CH does not match the zone's class IN",
        ),
        (
            "x 1y A 192.0.2.1",
            "z:6:3: expected TTL (seconds or units like 1h30m), found '1y'",
        ),
        ("x OPT \\# 0", "z:6:3: type OPT cannot appear in zone data"),
        (
            "\"x\" A 192.0.2.1",
            "z:6:1: expected owner name, found a quoted string",
        ),
        (
            "x A 192.0.2.1 (",
            "z:6:16: expected ')' before the end of the file",
        ),
        ("x A 192.0.2.1 )", "z:6:15: ')' without matching '('"),
        ("$TTL", "z:6:5: expected TTL"),
        (
            "$TTL 1 2",
            "z:6:8: unexpected '2' after the end of the record data",
        ),
        (
            "$ORIGIN a..b",
            "z:6:9: bad origin 'a..b': empty label in name",
        ),
        (
            "$WHAT",
            "z:6:1: unknown directive '$WHAT': expected $ORIGIN, $TTL, $INCLUDE or $GENERATE",
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(diags(&format!("{HEAD}{line}\n")), [*expected], "{line}");
    }
}

#[test]
fn keeps_going_after_errors_up_to_the_cap() {
    let text = format!("{HEAD}a A 1\nb A 192.0.2.2\nc A 3\n");
    let l = read(&text);
    let d: Vec<String> = l.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        d,
        [
            "z:6:5: expected IPv4 address, found '1'",
            "z:8:5: expected IPv4 address, found '3'",
        ]
    );
    assert_eq!(l.zone.records().len(), 4);

    let many = format!("{HEAD}{}", "x A 1\n".repeat(500));
    let l = read(&many);
    assert_eq!(l.diagnostics.len(), DEFAULT_MAX_ERRORS);
    assert!(
        l.diagnostics[99]
            .message
            .ends_with("(stopping after 100 errors)")
    );
}

#[test]
fn crlf_and_missing_final_newline() {
    let got = lines("$ORIGIN example.\r\n$TTL 1\r\nx A 192.0.2.1\r\ny A 192.0.2.2");
    assert_eq!(got.len(), 2);
}

#[test]
fn out_of_zone_is_dropped_with_a_warning() {
    let l = read(&format!("{HEAD}x.other. A 192.0.2.1\n"));
    assert_eq!(l.zone.records().len(), 3);
    assert_eq!(
        l.diagnostics[0].to_string(),
        "z:6:1: warning: ignoring out-of-zone data (x.other.)"
    );
}

#[test]
fn checks_as_named_checkzone() {
    assert!(check(HEAD).is_empty());
    assert_eq!(
        check(&format!(
            "{HEAD}www CNAME ns\nwww A 192.0.2.2\nwww RRSIG CNAME 13 2 300 20260101000000 20250101000000 12345 example. AAAA\n"
        )),
        ["z:7:1: www.example.: CNAME and other data"]
    );
    assert_eq!(
        check(&format!(
            "{HEAD}www CNAME ns\nwww CNAME ns.example.\nwww CNAME x\n"
        )),
        ["z:8:1: www.example.: multiple RRs of singleton type CNAME"]
    );
    assert_eq!(
        check(&format!(
            "{HEAD}x SOA ns hm 1 2 3 4 5\n@ SOA ns hm 9 2 3 4 5\n"
        )),
        [
            "z:6:1: SOA record not at top of zone (x.example.)",
            "z:7:1: example.: multiple RRs of singleton type SOA",
        ]
    );
    assert_eq!(
        check("$ORIGIN example.\n$TTL 1\nx A 192.0.2.1\n"),
        [
            "z:3:1: zone example.: has no SOA record at the apex",
            "z:3:1: zone example.: has no NS records at the apex",
        ]
    );
    assert_eq!(
        check(&format!("{HEAD}@ NS ns2\n@ NS ns.elsewhere.\n")),
        ["z:6:1: NS 'ns2.example.' has no address records (A or AAAA)"]
    );
    assert_eq!(
        check(&format!(
            "{HEAD}sub NS ns.sub\nsub NS ns2.sub\nns.sub A 192.0.2.9\nsub TXT x\nw.sub TXT y\n"
        )),
        [
            "z:6:1: warning: sub.example.: data other than NS and DS at a delegation point is occluded",
            "z:7:1: warning: sub.example./NS 'ns2.sub.example.' (below a delegation) has no glue (A or AAAA)",
            "z:10:1: warning: w.sub.example.: occluded by the delegation at sub.example.",
        ]
    );
    assert_eq!(
        check(&format!("{HEAD}d DNAME x.\na.d A 192.0.2.4\n")),
        ["z:7:1: warning: a.d.example.: occluded by the DNAME at d.example."]
    );
}

#[test]
fn ttl_mismatch_takes_the_first_ttl() {
    let mut l = read(&format!("{HEAD}a 600 A 192.0.2.1\na 60 A 192.0.2.2\n"));
    let d: Vec<String> = l.zone.check().iter().map(|d| d.to_string()).collect();
    assert_eq!(d, ["z:7:1: warning: TTL set to prior TTL (600)"]);
    assert!(l.zone.records().iter().skip(3).all(|r| r.ttl == 600));
}

#[test]
fn canonical_output_sorted_and_deduplicated() {
    let text = format!(
        "{HEAD}b A 192.0.2.2\nB A 192.0.2.2\nb A 192.0.2.10\na TXT z\n*.a MX 10 ns\nb.a A 192.0.2.1\n"
    );
    let mut l = read(&text);
    l.zone.check();
    let mut out = Vec::new();
    l.zone.write_canonical(&mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "example.\t300\tIN\tNS\tns.example.\n\
         example.\t300\tIN\tSOA\tns.example. hm.example. 1 2 3 4 5\n\
         a.example.\t300\tIN\tTXT\t\"z\"\n\
         *.a.example.\t300\tIN\tMX\t10 ns.example.\n\
         b.a.example.\t300\tIN\tA\t192.0.2.1\n\
         b.example.\t300\tIN\tA\t192.0.2.2\n\
         b.example.\t300\tIN\tA\t192.0.2.10\n\
         ns.example.\t300\tIN\tA\t192.0.2.1\n"
    );
}

#[test]
fn records_carry_their_source() {
    let mut includes = MemIncludes::default();
    let text = "$ORIGIN example.\n$TTL 5\n\n  ; c\nx A 192.0.2.1\n  A 192.0.2.2\n";
    let reader = ZoneReader::new(
        origin(),
        Class::IN,
        "f.zone",
        Cursor::new(text),
        &mut includes,
    );
    let got: Vec<(u32, u32, RData)> = reader
        .map(|r| r.unwrap())
        .map(|r| (r.source.line, r.source.col, r.record.data))
        .collect();
    assert_eq!(
        got,
        [
            (5, 1, RData::A(A("192.0.2.1".parse().unwrap()))),
            (6, 3, RData::A(A("192.0.2.2".parse().unwrap()))),
        ]
    );
    let l = read("$ORIGIN example.\n@ 1 SOA ns hm 1 2 3 4 5\n");
    assert!(matches!(
        &l.zone.records()[0].data,
        RData::Soa(soa) if soa.serial == 1
    ));
}

#[test]
fn zone_from_records_is_checked_like_a_read_zone() {
    let l = read("$ORIGIN example.\n$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n");
    let records = l.zone.records().to_vec();
    let mut z = Zone::from_records(l.zone.origin().clone(), l.zone.class(), records.clone());
    assert!(z.check().is_empty());
    assert_eq!(z.records(), records.as_slice());
    // Without the address of the in-zone name server, the check names the record.
    let mut z = Zone::from_records(
        l.zone.origin().clone(),
        l.zone.class(),
        records[..2].to_vec(),
    );
    let d = z.check();
    assert!(
        d.iter()
            .any(|d| d.is_error() && d.to_string().starts_with("example.:2:")),
        "{d:?}"
    );
}
