//! Whole messages: the owned parser and the zero-allocation query view on arbitrary
//! bytes. A message that parses must write and parse back to the same message.
#![no_main]

use lib_dns::Message;
use lib_dns::message::QueryView;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(view) = QueryView::parse(data) {
        // The view's lowercase name is the wire name, lowercased.
        assert_eq!(view.qname_lower(), view.qname_wire().to_ascii_lowercase());
    }
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    let _ = msg.to_string();
    let wire = msg.to_wire(65535).expect("a parsed message must write");
    let again = Message::parse(&wire).expect("a written message must parse");
    assert_eq!(again, msg);
});
