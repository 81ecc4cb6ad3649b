//! BIND key files (`K*.key`, `K*.private`), which `zdns key import` and the signer read
//! from disk: no input may panic, and a key that loads writes back to files that load
//! to the same key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zdns_dnssec::bind;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = bind::parse_public(text);
    let _ = bind::parse_private(text);
    // A pair: the text up to the first blank line as the public file, the rest private.
    let (public, private) = text.split_once("\n\n").unwrap_or((text, ""));
    if let Ok((zone, key)) = bind::load(public, private) {
        let again = bind::load(&bind::write_public(&zone, &key), &bind::write_private(&key))
            .expect("a key that loaded must write files that load");
        assert_eq!(again.0, zone);
        assert_eq!(
            bind::write_private(&again.1),
            bind::write_private(&key),
            "the key changed on its way through the files"
        );
    }
});
