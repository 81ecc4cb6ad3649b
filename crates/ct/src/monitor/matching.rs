//! Which log entries a domain watch matches: the DNS names of a certificate or
//! precertificate entry, and whether a name is the domain or one of its subdomains.

use crate::entry::SignedEntry;
use crate::tiles::data::TileLeaf;

/// Whether `name` (as in a certificate: possibly a wildcard) is `domain` or a name
/// under it, ignoring ASCII case and a trailing dot.
pub fn covers(domain: &str, name: &str) -> bool {
    let domain = domain.trim_end_matches('.');
    let name = name.trim_end_matches('.');
    if domain.is_empty() || name.len() < domain.len() {
        return false;
    }
    let split = name.len() - domain.len();
    let (head, tail) = name.split_at_checked(split).unwrap_or(("", ""));
    tail.eq_ignore_ascii_case(domain) && (head.is_empty() || head.ends_with('.'))
}

/// The DNS names of a log entry (SAN dNSNames and subject CN); none if it cannot be
/// parsed.
pub fn entry_names(leaf: &TileLeaf) -> Vec<String> {
    let names = match &leaf.entry.entry {
        SignedEntry::X509(cert) => crate::cert::dns_names(cert, false),
        SignedEntry::Precert(pre) => crate::cert::dns_names(&pre.tbs_certificate, true),
    };
    names.unwrap_or_default()
}

/// The names of `names` that `domain` covers.
pub fn matching(domain: &str, names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| covers(domain, n))
        .cloned()
        .collect()
}

/// Whether `domain` is a plausible DNS name to watch: 1 to 253 characters, labels of
/// 1 to 63 letters, digits, hyphens or underscores, not starting or ending with a
/// hyphen.
pub fn valid_domain(domain: &str) -> bool {
    let d = domain.trim_end_matches('.');
    !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_covers_itself_and_its_subdomains_only() {
        assert!(covers("example.com", "example.com"));
        assert!(covers("example.com", "WWW.Example.COM."));
        assert!(covers("example.com.", "a.b.example.com"));
        assert!(covers("example.com", "*.example.com"));
        assert!(!covers("example.com", "badexample.com"));
        assert!(!covers("example.com", "example.com.evil"));
        assert!(!covers("example.com", "com"));
        assert!(!covers("", "example.com"));
        assert!(!covers("exämple.com", "ä.com"));
        assert_eq!(
            matching("b.example", &["a.example".into(), "x.b.example".into()]),
            vec!["x.b.example"]
        );
    }

    #[test]
    fn domains_are_checked() {
        for good in ["example.com", "a-b.example.", "_acme.example", "x"] {
            assert!(valid_domain(good), "{good}");
        }
        let long = "a".repeat(64);
        for bad in [
            "",
            ".",
            "a..b",
            "-a.example",
            "a-.example",
            "ex ample",
            "é.example",
            &long,
        ] {
            assert!(!valid_domain(bad), "{bad}");
        }
    }
}
