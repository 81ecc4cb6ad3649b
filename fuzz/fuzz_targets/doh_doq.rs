//! The encrypted transports' request parsing: DoH GET query strings and POST bodies
//! (RFC 8484 §4.1), the `application/dns-json` form, and DoQ stream framing (RFC 9250
//! §4.2). No input may panic; a query that comes out must be one the input carried.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zdns_transport::{doh, doq};

fuzz_target!(|data: &[u8]| {
    if let Ok(query) = doq::query_of_stream(data) {
        assert_eq!(data.get(2..), Some(query));
    }
    let _ = doq::is_transfer(data);
    let _ = doq::replayable(data);
    let _ = doh::freshness(data);
    let post = doh::query_from_post(
        Some(b"application/dns-message"),
        bytes::Bytes::copy_from_slice(data),
    );
    if let Ok(query) = post {
        assert_eq!(query, data);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = doh::query_from_get(Some(text));
        let _ = zdns_transport::doh_json::query_from_params(text);
    }
});
