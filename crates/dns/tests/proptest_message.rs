//! Property tests of messages: arbitrary valid messages survive the wire, and arbitrary
//! bytes never make the parsers panic.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use lib_dns::message::{
    ClientSubnet, Cookie, Edns, EdnsOption, ExtendedError, Flags, QueryView, Question,
};
use lib_dns::rdata::{A, Aaaa, Cname, Mx, Ns, Soa, Txt, UnknownRdata};
use lib_dns::{Class, Message, Name, Opcode, RData, Rcode, Record, Rtype};
use proptest::prelude::*;

/// Names from a small pool (so that compression has work to do) or built at random.
fn arb_name() -> impl Strategy<Value = Name> {
    let pool = prop::sample::select(vec![
        ".",
        "example.",
        "www.example.",
        "WWW.Example.",
        "ns1.example.",
        "mail.example.org.",
        "a.b.c.d.example.org.",
    ])
    .prop_map(|s| Name::parse(s).unwrap());
    let random = prop::collection::vec("[a-zA-Z0-9-]{1,20}", 0..5).prop_map(|labels| {
        Name::parse(&format!("{}.", labels.join("."))).unwrap_or_else(|_| Name::root())
    });
    prop_oneof![3 => pool, 1 => random]
}

fn arb_rdata() -> impl Strategy<Value = RData> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|a| RData::from(A(Ipv4Addr::from(a)))),
        any::<[u8; 16]>().prop_map(|a| RData::from(Aaaa(Ipv6Addr::from(a)))),
        arb_name().prop_map(|n| RData::from(Ns(n))),
        arb_name().prop_map(|n| RData::from(Cname(n))),
        (any::<u16>(), arb_name()).prop_map(|(preference, exchange)| RData::from(Mx {
            preference,
            exchange
        })),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..4)
            .prop_map(|s| RData::from(Txt::new(&s).unwrap())),
        (arb_name(), arb_name(), any::<[u32; 5]>()).prop_map(|(mname, rname, t)| {
            RData::from(Soa {
                mname,
                rname,
                serial: t[0],
                refresh: t[1],
                retry: t[2],
                expire: t[3],
                minimum: t[4],
            })
        }),
        (65400u16..65500, prop::collection::vec(any::<u8>(), 0..30)).prop_map(|(t, data)| {
            RData::Unknown(UnknownRdata {
                rtype: Rtype(t),
                data,
            })
        }),
    ]
}

fn arb_record() -> impl Strategy<Value = Record> {
    (arb_name(), any::<u16>(), any::<u32>(), arb_rdata()).prop_map(|(owner, class, ttl, data)| {
        Record {
            owner,
            class: Class(class),
            ttl,
            data,
        }
    })
}

fn arb_option() -> impl Strategy<Value = EdnsOption> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..20).prop_map(EdnsOption::Nsid),
        (any::<[u8; 4]>(), 0u8..=32, 0u8..=32).prop_map(|(a, s, t)| {
            EdnsOption::ClientSubnet(
                ClientSubnet::new(IpAddr::V4(Ipv4Addr::from(a)), s, t).unwrap(),
            )
        }),
        (any::<[u8; 16]>(), 0u8..=128, 0u8..=128).prop_map(|(a, s, t)| {
            EdnsOption::ClientSubnet(
                ClientSubnet::new(IpAddr::V6(Ipv6Addr::from(a)), s, t).unwrap(),
            )
        }),
        (
            any::<[u8; 8]>(),
            prop::option::of(prop::collection::vec(any::<u8>(), 8..=32))
        )
            .prop_map(|(c, s)| EdnsOption::Cookie(match s {
                None => Cookie::client_only(c),
                Some(s) => Cookie::new(c, &s).unwrap(),
            })),
        prop::option::of(any::<u16>()).prop_map(EdnsOption::TcpKeepalive),
        (0usize..40).prop_map(EdnsOption::padding),
        (any::<u16>(), ".{0,10}")
            .prop_map(|(c, t)| EdnsOption::ExtendedError(ExtendedError::new(c, t))),
        (65001u16..65100, prop::collection::vec(any::<u8>(), 0..10))
            .prop_map(|(code, data)| EdnsOption::Unknown { code, data }),
    ]
}

fn arb_edns() -> impl Strategy<Value = Edns> {
    (
        any::<u16>(),
        any::<u8>(),
        any::<u16>(),
        prop::collection::vec(arb_option(), 0..5),
    )
        .prop_map(|(udp_payload_size, version, flags, options)| Edns {
            udp_payload_size,
            version,
            flags,
            options,
        })
}

fn arb_message() -> impl Strategy<Value = Message> {
    let records = || prop::collection::vec(arb_record(), 0..5);
    (
        any::<u16>(),
        prop::sample::select(vec![0u8, 1, 2, 4, 5, 6, 15]),
        any::<u16>(),
        prop::collection::vec((arb_name(), any::<u16>(), any::<u16>()), 0..3),
        (records(), records(), records()),
        prop::option::of(arb_edns()),
        0u16..4096,
    )
        .prop_map(|(id, op, bits, qs, (an, ns, ar), edns, rcode)| Message {
            id,
            opcode: Opcode::new(op),
            flags: Flags::from_bits(bits),
            rcode: if edns.is_some() {
                Rcode(rcode)
            } else {
                Rcode(rcode & 0x0f)
            },
            questions: qs
                .into_iter()
                .map(|(qname, t, c)| Question {
                    qname,
                    qtype: Rtype(t),
                    qclass: Class(c),
                })
                .collect(),
            answers: an,
            authority: ns,
            additional: ar,
            edns,
        })
}

proptest! {
    #[test]
    fn message_round_trip(m in arb_message()) {
        let wire = m.to_wire(65535).unwrap();
        let got = Message::parse(&wire).unwrap();
        prop_assert_eq!(&got, &m);
        // Writing again gives the same bytes.
        prop_assert_eq!(got.to_wire(65535).unwrap(), wire);
    }

    #[test]
    fn truncated_output_is_a_valid_prefix(m in arb_message(), limit in 12usize..600) {
        if let Ok(wire) = m.to_wire(limit) {
            prop_assert!(wire.len() <= limit);
            let got = Message::parse(&wire).unwrap();
            prop_assert_eq!(&got.edns, &m.edns);
            prop_assert_eq!(&got.questions, &m.questions);
            prop_assert!(m.answers.starts_with(&got.answers));
            prop_assert!(m.authority.starts_with(&got.authority));
            prop_assert!(m.additional.starts_with(&got.additional));
            let complete = got.answers.len() == m.answers.len()
                && got.authority.len() == m.authority.len();
            prop_assert_eq!(got.flags.tc, m.flags.tc || !complete);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Message::parse(&bytes);
        let _ = QueryView::parse(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic(
        m in arb_message(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut wire = m.to_wire(65535).unwrap();
        for (at, b) in edits {
            let i = at.index(wire.len());
            wire[i] = b;
        }
        if let Ok(parsed) = Message::parse(&wire) {
            // Whatever parses can be printed and written again.
            let _ = parsed.to_string();
            let _ = parsed.to_wire(65535);
        }
        let _ = QueryView::parse(&wire);
    }
}
