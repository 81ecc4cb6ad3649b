//! What a CT log and its witness read from the network: certificates (DER) and their
//! parts, PEM chains, signed notes and checkpoints, and tlog-witness `add-checkpoint`
//! request bodies. None of them may panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zdns_ct::cert::{self, CertView};
use zdns_ct::chain::Roots;
use zdns_ct::checkpoint::Checkpoint;
use zdns_ct::checkpoint::note::SignedNote;
use zdns_ct::witness::AddCheckpoint;

fuzz_target!(|data: &[u8]| {
    if let Ok(view) = CertView::parse(data) {
        // The fields a parsed certificate hands out lie inside it.
        let inside = |part: &[u8]| data.as_ptr_range().contains(&part.as_ptr()) || part.is_empty();
        assert!(inside(view.subject) && inside(view.spki));
    }
    let _ = cert::tbs_certificate(data);
    let _ = cert::dns_names(data, false);
    let _ = cert::dns_names(data, true);
    let _ = cert::is_precertificate(data);
    let _ = cert::is_precert_signing_cert(data);
    let _ = cert::not_before(data);
    let _ = cert::issuer_key_hash(data);
    // The first half as the certificate, the second as its issuer.
    let (leaf, issuer) = data.split_at(data.len() / 2);
    let _ = cert::embedded_scts(leaf, issuer);
    let _ = AddCheckpoint::parse(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Roots::from_pem(text);
        let _ = SignedNote::parse(text);
        if let Ok(checkpoint) = Checkpoint::parse_text(text) {
            // A checkpoint that parses writes back to the same text.
            assert_eq!(checkpoint.to_text().as_deref(), Ok(text));
        }
    }
});
