//! Trust anchors (RFC 4033 §2, RFC 4035 §4.4): the DS or DNSKEY records a validator
//! trusts without proof, from which every chain of trust starts.
//!
//! They are read from zone-file text, one record a line, in either form: Debian's
//! `dns-root-data` ships the root KSK as `/usr/share/dns/root.key` (DNSKEY) and
//! `/usr/share/dns/root.ds` (DS), and a configuration may give anchors inline. Reading
//! files is the node's business; this module parses text.

use lib_dns::rdata::{Dnskey, Ds};
use lib_dns::zone::{NoIncludes, Zone};
use lib_dns::{Class, Name, RData};

/// Debian's root trust anchor as a DNSKEY record (package `dns-root-data`).
pub const DEBIAN_ROOT_KEY: &str = "/usr/share/dns/root.key";

/// Debian's root trust anchor as a DS record (package `dns-root-data`).
pub const DEBIAN_ROOT_DS: &str = "/usr/share/dns/root.ds";

/// The trust anchors of one zone: DS digests of its key-signing keys, or the keys
/// themselves. Either form is enough (RFC 4035 §4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchor {
    /// The zone whose DNSKEY RRset the anchor authenticates.
    pub zone: Name,
    /// DS-form anchors.
    pub ds: Vec<Ds>,
    /// DNSKEY-form anchors.
    pub dnskeys: Vec<Dnskey>,
}

/// Parses trust anchors from zone-file text (`owner [TTL] [IN] DS|DNSKEY …`, one record
/// a line, relative names taken from the root). Records of other types are an error,
/// so that a wrong file is not silently taken for an empty one; so is text without a
/// single anchor. `source` names the text in error messages.
pub fn parse_anchors(text: &str, source: &str) -> Result<Vec<TrustAnchor>, String> {
    // Anchor records often come without a TTL (Debian's root.ds has none); a TTL means
    // nothing for an anchor, so give the reader a default.
    let text = format!("$TTL 3600\n{text}");
    let loaded = Zone::read(
        Name::root(),
        Class::IN,
        source,
        text.as_bytes(),
        &mut NoIncludes,
    );
    if let Some(error) = loaded.diagnostics.iter().find(|d| d.is_error()) {
        return Err(format!("trust anchors in {source}: {error}"));
    }
    let mut anchors: Vec<TrustAnchor> = Vec::new();
    for record in loaded.zone.records() {
        let at = match anchors.iter().position(|a| a.zone == record.owner) {
            Some(i) => i,
            None => {
                anchors.push(TrustAnchor {
                    zone: record.owner.to_lowercase(),
                    ds: Vec::new(),
                    dnskeys: Vec::new(),
                });
                anchors.len() - 1
            }
        };
        let Some(anchor) = anchors.get_mut(at) else {
            continue;
        };
        match &record.data {
            RData::Ds(ds) => anchor.ds.push(ds.clone()),
            RData::Dnskey(key) => anchor.dnskeys.push(key.clone()),
            _ => {
                return Err(format!(
                    "trust anchors in {source}: {} {} is neither DS nor DNSKEY",
                    record.owner,
                    record.rtype()
                ));
            }
        }
    }
    if anchors.is_empty() {
        return Err(format!("trust anchors in {source}: no DS or DNSKEY record"));
    }
    Ok(anchors)
}

/// Merges anchors for the same zone into one entry each.
pub fn merge_anchors(anchors: Vec<TrustAnchor>) -> Vec<TrustAnchor> {
    let mut merged: Vec<TrustAnchor> = Vec::new();
    for anchor in anchors {
        match merged.iter_mut().find(|m| m.zone == anchor.zone) {
            Some(m) => {
                m.ds.extend(anchor.ds);
                m.dnskeys.extend(anchor.dnskeys);
            }
            None => merged.push(anchor),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The root KSK-2017 as Debian's `dns-root-data` ships it (root.ds, root.key).
    const ROOT_DS: &str =
        ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n";
    const ROOT_KEY: &str = ". 172800 IN DNSKEY 257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=\n";

    #[test]
    fn debian_root_anchor_files() {
        let ds = parse_anchors(ROOT_DS, "root.ds").unwrap();
        assert_eq!(ds.len(), 1);
        assert!(ds[0].zone.is_root());
        assert_eq!(ds[0].ds[0].key_tag, 20326);
        let key = parse_anchors(ROOT_KEY, "root.key").unwrap();
        assert_eq!(key[0].dnskeys[0].key_tag(), 20326);
        let both = merge_anchors([ds, key].concat());
        assert_eq!(both.len(), 1);
        assert_eq!((both[0].ds.len(), both[0].dnskeys.len()), (1, 1));
    }

    #[test]
    fn wrong_text_is_an_error() {
        assert!(parse_anchors("", "empty").is_err());
        assert!(parse_anchors(". IN A 192.0.2.1\n", "a").is_err());
        assert!(parse_anchors(". IN DS nonsense\n", "bad").is_err());
    }
}
