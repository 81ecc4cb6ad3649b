//! The data an RRSIG signs (RFC 4034 §3.1.8.1): the RRSIG RDATA without its signature,
//! then every record of the RRset in canonical form (RFC 4034 §6.2) and canonical order
//! (§6.3), duplicates removed, with the original TTL and, for a wildcard expansion,
//! the wildcard owner (§3.1.3, RFC 4035 §5.3.2).

use lib_dns::Name;
use lib_dns::rdata::{RData, Rrsig};
use lib_dns::types::Class;
use lib_dns::wire::{NameKind, WireError, WireWriter};

/// The RRSIG RDATA fields before the signature, signer name in canonical form.
pub fn rrsig_prefix(sig: &Rrsig, w: &mut WireWriter) -> Result<(), WireError> {
    w.put_u16(sig.type_covered.0)?;
    w.put_u8(sig.algorithm.0)?;
    w.put_u8(sig.labels)?;
    w.put_u32(sig.original_ttl)?;
    w.put_u32(sig.expiration)?;
    w.put_u32(sig.inception)?;
    w.put_u16(sig.key_tag)?;
    w.put_name(&sig.signer, NameKind::Canonical)
}

/// The canonical RDATA of each record, sorted and without duplicates (RFC 4034 §6.3).
pub fn canonical_rdatas<'a>(
    rdatas: impl IntoIterator<Item = &'a RData>,
) -> Result<Vec<Vec<u8>>, WireError> {
    let mut out = rdatas
        .into_iter()
        .map(RData::to_canonical_wire)
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The owner an RRSIG with `labels` labels covers at `owner`: the owner itself, or the
/// wildcard it was expanded from (RFC 4035 §5.3.2). `None` if `labels` is more than the
/// owner has.
pub fn signed_owner(owner: &Name, labels: u8) -> Option<Name> {
    let labels = usize::from(labels);
    let count = owner.label_count() - usize::from(owner.is_wildcard());
    match labels.cmp(&count) {
        std::cmp::Ordering::Greater => None,
        std::cmp::Ordering::Equal => Some(owner.clone()),
        std::cmp::Ordering::Less => owner.suffix(labels).child(b"*").ok(),
    }
}

/// The number for an RRSIG's Labels field at `owner` (RFC 4034 §3.1.3).
pub fn rrsig_labels(owner: &Name) -> u8 {
    let count = owner.label_count() - usize::from(owner.is_wildcard());
    u8::try_from(count).unwrap_or(u8::MAX)
}

/// The bytes `sig` signs over the RRset at `owner` with the given canonical RDATAs
/// (from [`canonical_rdatas`]). Fails if the RRSIG's Labels field is larger than the
/// owner's label count.
pub fn signed_data(
    sig: &Rrsig,
    owner: &Name,
    class: Class,
    rdatas: &[Vec<u8>],
) -> Result<Vec<u8>, WireError> {
    let owner = signed_owner(owner, sig.labels).ok_or(WireError::BadRdata {
        at: 0,
        reason: "RRSIG labels field larger than the owner's label count",
    })?;
    let mut w = WireWriter::canonical();
    rrsig_prefix(sig, &mut w)?;
    for rdata in rdatas {
        w.put_owner(&owner)?;
        w.put_u16(sig.type_covered.0)?;
        w.put_u16(class.0)?;
        w.put_u32(sig.original_ttl)?;
        let len = u16::try_from(rdata.len()).map_err(|_| WireError::BadRdata {
            at: 0,
            reason: "record data longer than 65535 bytes",
        })?;
        w.put_u16(len)?;
        w.put_bytes(rdata)?;
    }
    Ok(w.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_owners() {
        let n = Name::parse("a.b.example.").unwrap();
        assert_eq!(signed_owner(&n, 3), Some(n.clone()));
        assert_eq!(
            signed_owner(&n, 1),
            Some(Name::parse("*.example.").unwrap())
        );
        assert_eq!(signed_owner(&n, 4), None);
        let w = Name::parse("*.example.").unwrap();
        assert_eq!(rrsig_labels(&w), 1);
        assert_eq!(signed_owner(&w, 1), Some(w.clone()));
        assert_eq!(rrsig_labels(&Name::root()), 0);
    }
}
