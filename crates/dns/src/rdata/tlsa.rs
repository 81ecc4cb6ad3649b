//! Certificate associations: TLSA (RFC 6698) and SMIMEA (RFC 8162), which share one
//! format.

use std::fmt;

use super::RecordData;
use crate::encoding;
use crate::text::{Fields, TextError};
use crate::types::Rtype;
use crate::wire::{WireError, WireReader, WireWriter};

/// Declares a certificate association type (RFC 6698 §2.1; RFC 8162 §2 reuses it).
macro_rules! association {
    ($(#[$doc:meta])* $ty:ident, $rtype:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $ty {
            usage: u8,
            selector: u8,
            matching_type: u8,
            data: Vec<u8>,
        }

        impl $ty {
            /// An association; `None` if `data` is empty (BIND requires data).
            pub fn new(usage: u8, selector: u8, matching_type: u8, data: Vec<u8>) -> Option<$ty> {
                (!data.is_empty()).then_some($ty {
                    usage,
                    selector,
                    matching_type,
                    data,
                })
            }

            /// The certificate usage (RFC 6698 §2.1.1: 0 PKIX-TA ... 3 DANE-EE).
            pub fn usage(&self) -> u8 {
                self.usage
            }

            /// Which part of the certificate is matched (0 full, 1 SubjectPublicKeyInfo).
            pub fn selector(&self) -> u8 {
                self.selector
            }

            /// How it is matched (0 exact, 1 SHA-256, 2 SHA-512).
            pub fn matching_type(&self) -> u8 {
                self.matching_type
            }

            /// The certificate association data.
            pub fn data(&self) -> &[u8] {
                &self.data
            }
        }

        impl RecordData for $ty {
            const RTYPE: Rtype = $rtype;

            fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
                let (usage, selector, matching_type) = (r.u8()?, r.u8()?, r.u8()?);
                let at = r.pos();
                $ty::new(usage, selector, matching_type, r.rest().to_vec()).ok_or(
                    WireError::BadRdata {
                        at,
                        reason: "certificate association without data",
                    },
                )
            }

            fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
                w.put_u8(self.usage)?;
                w.put_u8(self.selector)?;
                w.put_u8(self.matching_type)?;
                w.put_bytes(&self.data)
            }

            fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
                Ok($ty {
                    usage: f.u8("certificate usage")?,
                    selector: f.u8("selector")?,
                    matching_type: f.u8("matching type")?,
                    data: f.hex_rest("certificate association data")?,
                })
            }

            fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} {} {} ", self.usage, self.selector, self.matching_type)?;
                encoding::hex_encode(&self.data, f)
            }
        }
    };
}

association!(
    /// A TLS server certificate association (RFC 6698 §2).
    Tlsa, Rtype::TLSA
);
association!(
    /// An S/MIME certificate association (RFC 8162 §2).
    Smimea, Rtype::SMIMEA
);

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_round_trip, assert_text_rejected, assert_wire_rejected};
    use crate::types::Rtype;

    #[test]
    fn round_trips() {
        for rtype in [Rtype::TLSA, Rtype::SMIMEA] {
            // RFC 6698 §2.3 examples.
            assert_round_trip(
                rtype,
                "0 0 1 d2abde240d7cd3ee6b4b28c54df034b97983a1d16e8a410e4561cb106618e971",
                Some("0 0 1 D2ABDE240D7CD3EE6B4B28C54DF034B97983A1D16E8A410E4561CB106618E971"),
            );
            assert_round_trip(
                rtype,
                "1 1 2 92003ba34942dc74152e2f2c408d29eca5a520e7f2e06bb944f4dca346baf63c \
                 1b177615d466f6c4b71c216a50292bd58c9ebdd2f74e38fe51ffd48c43326cbc",
                Some(
                    "1 1 2 92003BA34942DC74152E2F2C408D29ECA5A520E7F2E06BB944F4DCA346BAF63C\
                     1B177615D466F6C4B71C216A50292BD58C9EBDD2F74E38FE51FFD48C43326CBC",
                ),
            );
            assert_round_trip(rtype, "3 1 1 0 1", Some("3 1 1 01"));
            assert_round_trip(rtype, "255 255 255 AB", None);

            for bad in ["3 1 1", "256 1 1 01", "3 1 1 0", "3 1 1 0g", "3 1 1 \"01\""] {
                assert_text_rejected(rtype, bad);
            }
            assert_wire_rejected(rtype, &[3, 1, 1]);
            assert_wire_rejected(rtype, &[3, 1]);
        }
    }
}
