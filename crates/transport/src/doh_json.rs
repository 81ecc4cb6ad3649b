//! The JSON form of DNS over HTTPS that public resolvers offer (Google's and
//! Cloudflare's `application/dns-json`, not an RFC): `GET ?name=NAME&type=TYPE`, with
//! `do=1` for the DO bit and `cd=1` for CD, answered with an object holding `Status`
//! (the rcode), the header flags, `Question`, and `Answer`/`Authority`/`Additional` as
//! lists of `{name, type, TTL, data}` with the data in presentation format.

use std::fmt::Write;

use hyper::StatusCode;
use lib_dns::message::Edns;
use lib_dns::{Message, Name, Record, Rtype};

use crate::doh::Rejection;

/// The media type of the JSON form.
pub const DNS_JSON: &str = "application/dns-json";

/// Whether a GET query string asks for the JSON form: `name=` without `dns=`.
pub fn wanted(query_string: Option<&str>) -> bool {
    let pairs = || query_string.unwrap_or_default().split('&');
    pairs().any(|p| p.starts_with("name=")) && !pairs().any(|p| p.starts_with("dns="))
}

/// The DNS query (ID 0, RD set, EDNS) of a JSON-form query string.
pub fn query_from_params(query_string: &str) -> Result<Vec<u8>, Rejection> {
    let bad = |reason| Rejection {
        status: StatusCode::BAD_REQUEST,
        reason,
    };
    let mut name = None;
    let mut rtype = Rtype::A;
    let (mut dnssec_ok, mut checking_disabled) = (false, false);
    for pair in query_string.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value).ok_or(bad("bad percent-encoding"))?;
        match key {
            "name" => name = Some(Name::parse(&value).map_err(|_| bad("bad name"))?),
            "type" => {
                rtype = Rtype::from_mnemonic(value.as_bytes())
                    .or_else(|| value.parse().ok().map(Rtype))
                    .ok_or(bad("bad type"))?;
            }
            "do" => dnssec_ok = matches!(value.as_str(), "1" | "true"),
            "cd" => checking_disabled = matches!(value.as_str(), "1" | "true"),
            _ => {}
        }
    }
    let name = name.ok_or(bad("missing name parameter"))?;
    let mut query = Message::query(0, name, rtype);
    query.flags.rd = true;
    query.flags.cd = checking_disabled;
    let mut edns = Edns::default();
    edns.set_dnssec_ok(dnssec_ok);
    query.edns = Some(edns);
    query
        .to_wire(65535)
        .map_err(|_| bad("query cannot be built"))
}

/// `%XX` decoding (and `+` as space) of one query-string value; `None` when malformed.
fn percent_decode(text: &str) -> Option<String> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let hex = [bytes.next()?, bytes.next()?];
                let hex = std::str::from_utf8(&hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
            }
            b'+' => out.push(b' '),
            _ => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

/// The JSON text of a response, or `None` when it cannot be parsed.
pub fn to_json(response: &[u8]) -> Option<String> {
    let m = Message::parse(response).ok()?;
    let mut out = String::new();
    let _ = write!(
        out,
        "{{\"Status\":{},\"TC\":{},\"RD\":{},\"RA\":{},\"AD\":{},\"CD\":{},\"Question\":[",
        m.rcode.0, m.flags.tc, m.flags.rd, m.flags.ra, m.flags.ad, m.flags.cd
    );
    for (i, q) in m.questions.iter().enumerate() {
        let comma = if i == 0 { "" } else { "," };
        let _ = write!(
            out,
            "{comma}{{\"name\":{},\"type\":{}}}",
            json_string(&q.qname.to_string()),
            q.qtype.0
        );
    }
    out.push(']');
    for (key, records) in [
        ("Answer", &m.answers),
        ("Authority", &m.authority),
        ("Additional", &m.additional),
    ] {
        if !records.is_empty() {
            let _ = write!(out, ",\"{key}\":{}", records_json(records));
        }
    }
    out.push('}');
    Some(out)
}

fn records_json(records: &[Record]) -> String {
    let items: Vec<String> = records
        .iter()
        .map(|r| {
            format!(
                "{{\"name\":{},\"type\":{},\"TTL\":{},\"data\":{}}}",
                json_string(&r.owner.to_string()),
                r.rtype().0,
                r.ttl,
                json_string(&r.data.to_string())
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// A JSON string literal (RFC 8259 §7).
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lib_dns::rdata::{A, Txt};

    #[test]
    fn params_make_a_query() {
        assert!(wanted(Some("name=example.com&type=AAAA")));
        assert!(!wanted(Some("dns=AAAB")));
        assert!(!wanted(None));
        let q = Message::parse(&query_from_params("name=example.com&type=aaaa&do=1&cd=1").unwrap())
            .unwrap();
        assert_eq!(q.questions[0].qname, Name::parse("example.com.").unwrap());
        assert_eq!(q.questions[0].qtype, Rtype::AAAA);
        assert!(q.flags.rd && q.flags.cd);
        assert!(q.edns.unwrap().dnssec_ok());
        let q = Message::parse(&query_from_params("name=x%2Eexample&type=16").unwrap()).unwrap();
        assert_eq!(q.questions[0].qname, Name::parse("x.example.").unwrap());
        assert_eq!(q.questions[0].qtype, Rtype::TXT);
        for bad in ["type=A", "name=a..b", "name=x&type=NOPE", "name=%zz"] {
            let e = query_from_params(bad).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{bad}");
        }
    }

    #[test]
    fn responses_become_json() {
        let name = Name::parse("example.com.").unwrap();
        let q = Message::query(0, name.clone(), Rtype::A);
        let mut r = Message::response_to(&q);
        r.flags.ra = true;
        r.answers.push(Record::new(
            name.clone(),
            300,
            A(std::net::Ipv4Addr::new(192, 0, 2, 1)),
        ));
        r.additional
            .push(Record::new(name, 60, Txt::new(&["a\"b"]).unwrap()));
        let json = to_json(&r.to_wire(65535).unwrap()).unwrap();
        assert!(
            json.starts_with("{\"Status\":0,\"TC\":false,\"RD\":true,\"RA\":true,"),
            "{json}"
        );
        assert!(
            json.contains("\"Question\":[{\"name\":\"example.com.\",\"type\":1}]"),
            "{json}"
        );
        assert!(
            json.contains("\"Answer\":[{\"name\":\"example.com.\",\"type\":1,\"TTL\":300,\"data\":\"192.0.2.1\"}]"),
            "{json}"
        );
        let txt = format!("\"TTL\":60,\"data\":{}", json_string("\"a\\\"b\""));
        assert!(json.contains(&txt), "{json}");
        assert_eq!(json_string("q\"\\\n"), "\"q\\\"\\\\\\u000a\"");
        assert!(!json.contains("Authority"));
        assert!(to_json(b"junk").is_none());
    }
}
