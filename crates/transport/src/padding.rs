//! EDNS(0) padding (RFC 7830) with the block-length policy of RFC 8467 §4.1: clients pad
//! queries to multiples of 128 bytes, servers pad responses to multiples of 468 bytes,
//! and a server pads only responses to queries that carried a padding option
//! (RFC 7830 §4).

use lib_dns::Rtype;

use crate::walk::{Section, records};

/// The option code of Padding (RFC 7830 §3).
pub const PADDING_OPTION: u16 = 12;
/// The block length for responses (RFC 8467 §4.1).
pub const RESPONSE_BLOCK: usize = 468;
/// The block length for queries (RFC 8467 §4.1).
pub const QUERY_BLOCK: usize = 128;

/// The largest DNS message on a stream transport.
const MAX_MESSAGE: usize = 65535;
/// An EDNS option's code and length fields.
const OPTION_HEADER: usize = 4;

/// Whether `query`'s OPT record holds a padding option. A message that cannot be walked
/// has none.
pub fn requested(query: &[u8]) -> bool {
    let Ok((_, places)) = records(query) else {
        return false;
    };
    places
        .iter()
        .filter(|p| p.section == Section::Additional && p.rtype == Rtype::OPT.0)
        .any(|p| {
            let mut options = query.get(p.rdata.clone()).unwrap_or_default();
            while let [c0, c1, l0, l1, rest @ ..] = options {
                if u16::from_be_bytes([*c0, *c1]) == PADDING_OPTION {
                    return true;
                }
                let len = usize::from(u16::from_be_bytes([*l0, *l1]));
                options = rest.get(len..).unwrap_or_default();
            }
            false
        })
}

/// Pads `response` when `query` asked for it (RFC 7830 §4). Returns whether it did.
pub fn pad_response(query: &[u8], response: &mut Vec<u8>) -> bool {
    requested(query) && pad(response, RESPONSE_BLOCK)
}

/// Adds a padding option to the OPT record of `msg` so that its length becomes a
/// multiple of `block`. Nothing is changed, and `false` returned, when the message has
/// no OPT record, when the OPT record is not the last record (a TSIG signature after it
/// covers the bytes, RFC 8945 §5.3), when it already holds padding, or when the padded
/// message would exceed 65535 bytes.
pub fn pad(msg: &mut Vec<u8>, block: usize) -> bool {
    let Ok((_, places)) = records(msg) else {
        return false;
    };
    let Some(opt) = places
        .last()
        .filter(|p| p.section == Section::Additional && p.rtype == Rtype::OPT.0)
    else {
        return false;
    };
    if opt.rdata.end != msg.len() || block == 0 {
        return false;
    }
    let mut options = msg.get(opt.rdata.clone()).unwrap_or_default();
    while let [c0, c1, l0, l1, rest @ ..] = options {
        if u16::from_be_bytes([*c0, *c1]) == PADDING_OPTION {
            return false;
        }
        let len = usize::from(u16::from_be_bytes([*l0, *l1]));
        options = rest.get(len..).unwrap_or_default();
    }
    let unpadded = msg.len() + OPTION_HEADER;
    let fill = (block - unpadded % block) % block;
    let new_rdlength = opt.rdata.len() + OPTION_HEADER + fill;
    let (Ok(fill16), Ok(rdlength16)) = (u16::try_from(fill), u16::try_from(new_rdlength)) else {
        return false;
    };
    if unpadded + fill > MAX_MESSAGE {
        return false;
    }
    let Some(rdlength) = msg.get_mut(opt.rdlength_at..opt.rdlength_at + 2) else {
        return false;
    };
    rdlength.copy_from_slice(&rdlength16.to_be_bytes());
    msg.extend_from_slice(&PADDING_OPTION.to_be_bytes());
    msg.extend_from_slice(&fill16.to_be_bytes());
    msg.resize(unpadded + fill, 0);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use lib_dns::message::{Edns, EdnsOption};
    use lib_dns::{Message, Name};

    fn query(padded: bool) -> Vec<u8> {
        let mut q = Message::query(1, Name::parse("example.").unwrap(), Rtype::A);
        let mut edns = Edns::default();
        if padded {
            edns.options.push(EdnsOption::padding(0));
        }
        q.edns = Some(edns);
        q.to_wire(65535).unwrap()
    }

    #[test]
    fn pads_to_the_block_and_stays_a_valid_message() {
        let mut msg = query(false);
        let before = Message::parse(&msg).unwrap();
        assert!(pad(&mut msg, RESPONSE_BLOCK));
        assert_eq!(msg.len(), RESPONSE_BLOCK);
        let after = Message::parse(&msg).unwrap();
        assert_eq!(after.questions, before.questions);
        let options = &after.edns.unwrap().options;
        assert!(
            matches!(options.last(), Some(EdnsOption::Padding(p)) if p.iter().all(|&b| b == 0))
        );
        // Already padded: left alone.
        assert!(!pad(&mut msg, RESPONSE_BLOCK));
        let mut q = query(false);
        assert!(pad(&mut q, QUERY_BLOCK));
        assert_eq!(q.len() % QUERY_BLOCK, 0);
    }

    #[test]
    fn only_when_the_query_asked() {
        let mut response = query(false);
        assert!(!pad_response(&query(false), &mut response));
        assert!(pad_response(&query(true), &mut response));
        assert_eq!(response.len() % RESPONSE_BLOCK, 0);
        assert!(requested(&query(true)));
    }

    #[test]
    fn messages_without_opt_or_broken_are_left_alone() {
        let mut plain = Message::query(1, Name::parse("example.").unwrap(), Rtype::A)
            .to_wire(512)
            .unwrap();
        let copy = plain.clone();
        assert!(!pad(&mut plain, RESPONSE_BLOCK));
        assert_eq!(plain, copy);
        for junk in [&b""[..], &[0u8; 5], &[0xff; 40]] {
            let mut m = junk.to_vec();
            assert!(!pad(&mut m, RESPONSE_BLOCK));
            assert_eq!(m, junk);
            assert!(!requested(junk));
        }
        // A record after the OPT record (as TSIG would be): no padding.
        let mut q = query(false);
        let mut header = lib_dns::message::Header::from_bytes(&q).unwrap();
        header.arcount += 1;
        q[..12].copy_from_slice(&header.to_bytes());
        q.extend_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1]);
        assert!(!pad(&mut q, RESPONSE_BLOCK));
    }
}
