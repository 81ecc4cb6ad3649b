//! Server cookies (RFC 7873 §4.2, in the interoperable form of RFC 9018 §4):
//! version 1, three reserved bytes, a 32-bit timestamp, and SipHash-2-4 over the client
//! cookie, those 8 bytes and the client's address, keyed by a server secret.

use std::hash::Hasher;
use std::net::IpAddr;

use siphasher::sip::SipHasher24;

/// How old a server cookie may be and still be accepted (RFC 9018 §4.3: one hour).
const MAX_AGE: u64 = 3600;
/// How far in the future a timestamp may lie (RFC 9018 §4.3: five minutes).
const MAX_SKEW: u64 = 300;

/// What a query's COOKIE option says about its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieCheck {
    /// No COOKIE option.
    Absent,
    /// A client cookie only, or a server cookie we did not make or that expired.
    ClientOnly,
    /// A server cookie we made for this client, still fresh (RFC 7873 §5.2.5).
    Valid,
}

/// The server-cookie secret (RFC 9018 §4.4: shared by all servers of an anycast set).
#[derive(Clone)]
pub struct CookieSecret([u8; 16]);

impl CookieSecret {
    /// A secret from 16 bytes of key material.
    pub fn new(key: [u8; 16]) -> CookieSecret {
        CookieSecret(key)
    }

    /// The 16-byte server cookie for `client_cookie` from `client` at time `now`.
    pub fn server_cookie(&self, client_cookie: &[u8; 8], client: IpAddr, now: u64) -> [u8; 16] {
        let mut head = [0u8; 8];
        head[0] = 1;
        head[4..].copy_from_slice(&(now as u32).to_be_bytes());
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&head);
        out[8..].copy_from_slice(&self.hash(client_cookie, &head, client).to_le_bytes());
        out
    }

    fn hash(&self, client_cookie: &[u8; 8], head: &[u8; 8], client: IpAddr) -> u64 {
        let mut h = SipHasher24::new_with_key(&self.0);
        h.write(client_cookie);
        h.write(head);
        match client {
            IpAddr::V4(a) => h.write(&a.octets()),
            IpAddr::V6(a) => h.write(&a.octets()),
        }
        // The SipHash output goes on the wire little-endian, as the reference code writes it.
        h.finish()
    }

    /// Checks a COOKIE option's data (length already checked: 8, or 16 to 40 bytes).
    pub fn check(&self, option: Option<&[u8]>, client: IpAddr, now: u64) -> CookieCheck {
        let Some(data) = option else {
            return CookieCheck::Absent;
        };
        let (Some(cc), Some(sc)) = (data.get(..8), data.get(8..)) else {
            return CookieCheck::ClientOnly;
        };
        let (Ok(cc), Ok(sc)) = (<&[u8; 8]>::try_from(cc), <&[u8; 16]>::try_from(sc)) else {
            return CookieCheck::ClientOnly;
        };
        let Ok(head) = <[u8; 8]>::try_from(&sc[..8]) else {
            return CookieCheck::ClientOnly;
        };
        if head[..4] != [1, 0, 0, 0] {
            return CookieCheck::ClientOnly;
        }
        let stamp = u64::from(u32::from_be_bytes([head[4], head[5], head[6], head[7]]));
        // Serial-number arithmetic would allow wrap-around; plain u64 seconds do not wrap
        // before 2106, when a u32 stamp does, so compare in the 32-bit window.
        let now32 = u64::from(now as u32);
        let fresh = if stamp <= now32 {
            now32 - stamp <= MAX_AGE
        } else {
            stamp - now32 <= MAX_SKEW
        };
        let hash =
            u64::from_le_bytes([sc[8], sc[9], sc[10], sc[11], sc[12], sc[13], sc[14], sc[15]]);
        if fresh && hash == self.hash(cc, &head, client) {
            CookieCheck::Valid
        } else {
            CookieCheck::ClientOnly
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9018 Appendix A.1: the server cookie for a client cookie from 198.51.100.100
    /// at 2019-03-31 11:50:55 UTC (1559731985) with secret e5e973e5a6b2a43f48e7dc849e37bfcf.
    #[test]
    fn rfc9018_vector() {
        let secret = CookieSecret::new([
            0xe5, 0xe9, 0x73, 0xe5, 0xa6, 0xb2, 0xa4, 0x3f, 0x48, 0xe7, 0xdc, 0x84, 0x9e, 0x37,
            0xbf, 0xcf,
        ]);
        let client = [0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57];
        let ip: IpAddr = "198.51.100.100".parse().unwrap();
        let sc = secret.server_cookie(&client, ip, 1559731985);
        assert_eq!(
            sc,
            [
                0x01, 0x00, 0x00, 0x00, 0x5c, 0xf7, 0x9f, 0x11, 0x1f, 0x81, 0x30, 0xc3, 0xee, 0xe2,
                0x94, 0x80
            ]
        );
        let mut opt = client.to_vec();
        opt.extend_from_slice(&sc);
        assert_eq!(
            secret.check(Some(&opt), ip, 1559731985 + 10),
            CookieCheck::Valid
        );
        assert_eq!(
            secret.check(Some(&opt), ip, 1559731985 + 3601),
            CookieCheck::ClientOnly
        );
        assert_eq!(
            secret.check(Some(&opt), "198.51.100.101".parse().unwrap(), 1559731985),
            CookieCheck::ClientOnly
        );
        assert_eq!(secret.check(Some(&client), ip, 0), CookieCheck::ClientOnly);
        assert_eq!(secret.check(None, ip, 0), CookieCheck::Absent);
    }
}
