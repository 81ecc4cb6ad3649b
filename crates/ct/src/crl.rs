//! Certificate revocation lists (RFC 5280 §5), for the `revoked` status of the node API's
//! `/api/v1/ct/certificates/{fingerprint}` (seed §4.2 `CTStatus`, §7.2).
//!
//! A CT log knows nothing of revocation by itself, so the operator gives it CRLs
//! (`zdns ct crl add FILE`, kept in `<data dir>/ct/crls.pem`). A logged certificate is
//! revoked when a CRL of its certification authority lists its serial number:
//! - the CRL's issuer is the CA's subject: the certificate's issuer, or for a
//!   precertificate issued by a precertificate signing certificate (RFC 6962 §3.1), the
//!   issuer of that signing certificate, whose name the final certificate carries;
//! - the CRL's signature verifies with the key of that CA as the entry's logged chain
//!   holds it, so a CRL cannot revoke for a CA it was not signed by.
//!
//! Names and serial numbers are compared as encoded (DER), as chain validation compares
//! names. Every listed serial counts as revoked, whatever its reason code, and a CRL
//! stays in force once added: CT status is about whether a certificate was ever
//! revoked, not whether a CRL is current.

use core::fmt;
use std::collections::HashSet;

use der::{Decode, Tag};

use crate::cert::{CertView, children, is_precert_signing_cert};
use crate::chain::fingerprint;
use crate::sig::verify_signature;

/// Why a CRL was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlError(pub String);

impl fmt::Display for CrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CRL: {}", self.0)
    }
}

impl std::error::Error for CrlError {}

fn err(what: impl fmt::Display) -> CrlError {
    CrlError(what.to_string())
}

/// One parsed CRL: what its signature covers and the serial numbers it lists.
#[derive(Debug, Clone)]
pub struct Crl {
    der: Vec<u8>,
    tbs: Vec<u8>,
    algorithm: Vec<u8>,
    signature: Vec<u8>,
    issuer: Vec<u8>,
    serials: HashSet<Vec<u8>>,
}

impl Crl {
    /// Parses a DER `CertificateList` (RFC 5280 §5.1).
    pub fn parse(der: Vec<u8>) -> Result<Crl, CrlError> {
        let (tbs, algorithm, bits) =
            match children(&der, "CertificateList").map_err(err)?.as_slice() {
                [
                    (Tag::Sequence, tbs),
                    (Tag::Sequence, alg),
                    (Tag::BitString, bits),
                ] => (tbs.to_vec(), alg.to_vec(), *bits),
                _ => {
                    return Err(err(
                        "not a CertificateList SEQUENCE of TBS, algorithm, signature",
                    ));
                }
            };
        let signature = der::asn1::BitStringRef::from_der(bits)
            .map_err(|e| err(format!("signature: {e}")))?
            .as_bytes()
            .ok_or_else(|| err("the signature is not a whole number of bytes"))?
            .to_vec();
        let fields = children(&tbs, "TBSCertList").map_err(err)?;
        // version INTEGER OPTIONAL, then signature, issuer, thisUpdate (§5.1.2).
        let base = usize::from(matches!(fields.first(), Some((Tag::Integer, _))));
        let (inner_alg, issuer) = match (fields.get(base), fields.get(base + 1)) {
            (Some((Tag::Sequence, alg)), Some((Tag::Sequence, issuer))) => (*alg, *issuer),
            _ => return Err(err("TBSCertList has no signature algorithm and issuer")),
        };
        // §5.1.1.2: the inner signature algorithm MUST equal the outer one.
        if inner_alg != algorithm.as_slice() {
            return Err(err("the inner and outer signature algorithms differ"));
        }
        let mut serials = HashSet::new();
        // After thisUpdate: nextUpdate Time OPTIONAL, revokedCertificates SEQUENCE OF
        // OPTIONAL, crlExtensions [0] OPTIONAL; only the list is a SEQUENCE.
        for (tag, raw) in fields.iter().skip(base + 3) {
            if *tag != Tag::Sequence {
                continue;
            }
            for (_, entry) in children(raw, "revokedCertificates").map_err(err)? {
                match children(entry, "revoked certificate").map_err(err)?.first() {
                    Some((Tag::Integer, serial)) => {
                        serials.insert(serial.to_vec());
                    }
                    _ => return Err(err("a revoked certificate entry has no serial number")),
                }
            }
        }
        Ok(Crl {
            issuer: issuer.to_vec(),
            der,
            tbs,
            algorithm,
            signature,
            serials,
        })
    }

    /// The CRL, DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The raw issuer `Name`.
    pub fn issuer(&self) -> &[u8] {
        &self.issuer
    }

    /// Whether the CRL lists the raw `serialNumber` INTEGER `serial`.
    pub fn lists(&self, serial: &[u8]) -> bool {
        self.serials.contains(serial)
    }

    /// Whether the CRL's signature verifies with the raw `SubjectPublicKeyInfo` `spki`.
    pub fn signed_by(&self, spki: &[u8]) -> bool {
        verify_signature(&self.tbs, &self.algorithm, &self.signature, spki).is_ok()
    }
}

/// The CRLs a log knows.
#[derive(Debug, Clone, Default)]
pub struct Crls {
    crls: Vec<Crl>,
    fingerprints: HashSet<[u8; 32]>,
}

impl Crls {
    /// No CRLs.
    pub fn new() -> Self {
        Crls::default()
    }

    /// The CRLs of a PEM text of `X509 CRL` blocks.
    pub fn from_pem(text: &str) -> Result<Self, CrlError> {
        let mut crls = Crls::new();
        crls.add_pem(text)?;
        Ok(crls)
    }

    /// Adds the `X509 CRL` blocks of a PEM text; returns how many were new. Nothing is
    /// added if one is malformed.
    pub fn add_pem(&mut self, text: &str) -> Result<usize, CrlError> {
        let parsed = crate::pem::decode_label(text, "X509 CRL")
            .map_err(err)?
            .into_iter()
            .map(Crl::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(parsed.into_iter().map(|c| usize::from(self.add(c))).sum())
    }

    /// Adds one parsed CRL; `false` if it was already there.
    pub fn add(&mut self, crl: Crl) -> bool {
        if !self.fingerprints.insert(fingerprint(&crl.der)) {
            return false;
        }
        self.crls.push(crl);
        true
    }

    /// The CRLs, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = &Crl> {
        self.crls.iter()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.crls.is_empty()
    }

    /// Whether `cert` (a DER certificate or precertificate) is revoked, given its chain
    /// as logged (DER issuers, its own issuer first).
    pub fn is_revoked(&self, cert: &[u8], chain: &[Vec<u8>]) -> Result<bool, CrlError> {
        if self.crls.is_empty() {
            return Ok(false);
        }
        let leaf = CertView::parse(cert).map_err(err)?;
        let Some(first) = chain.first() else {
            return Ok(false);
        };
        let ca = if is_precert_signing_cert(first).map_err(err)? {
            match chain.get(1) {
                Some(ca) => ca,
                None => return Ok(false),
            }
        } else {
            first
        };
        let ca = CertView::parse(ca).map_err(err)?;
        Ok(self
            .crls
            .iter()
            .filter(|c| c.issuer == ca.subject && c.lists(leaf.serial))
            .any(|c| c.signed_by(ca.spki)))
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{
        BasicConstraints, CertificateParams, CertificateRevocationListParams, IsCa, KeyIdMethod,
        KeyPair, PKCS_ECDSA_P256_SHA256, RevokedCertParams, SerialNumber, date_time_ymd,
    };

    use super::*;

    fn ca(name: &str) -> (Vec<u8>, rcgen::Issuer<'static, KeyPair>) {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, name);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let der = p.self_signed(&key).unwrap().der().to_vec();
        (der, rcgen::Issuer::new(p, key))
    }

    fn leaf(serial: u64, issuer: &rcgen::Issuer<'static, KeyPair>) -> Vec<u8> {
        let mut p = CertificateParams::new(vec!["r.example".into()]).unwrap();
        p.serial_number = Some(SerialNumber::from(serial));
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        p.signed_by(&key, issuer).unwrap().der().to_vec()
    }

    fn crl(serials: &[u64], issuer: &rcgen::Issuer<'static, KeyPair>) -> Vec<u8> {
        CertificateRevocationListParams {
            this_update: date_time_ymd(2026, 1, 1),
            next_update: date_time_ymd(2026, 2, 1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|&s| RevokedCertParams {
                    serial_number: SerialNumber::from(s),
                    revocation_time: date_time_ymd(2026, 1, 1),
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(issuer)
        .unwrap()
        .der()
        .to_vec()
    }

    #[test]
    fn a_listed_serial_of_the_signing_ca_is_revoked() {
        let (ca_der, issuer) = ca("CRL CA");
        let (_, impostor) = ca("CRL CA");
        let (other_der, other) = ca("Other CA");
        let revoked = leaf(1001, &issuer);
        let kept = leaf(1002, &issuer);
        let elsewhere = leaf(1001, &other);
        let chain = vec![ca_der];
        let mut crls = Crls::new();
        assert!(!crls.is_revoked(&revoked, &chain).unwrap());
        // A CRL with the CA's name but another key revokes nothing.
        assert!(crls.add(Crl::parse(crl(&[1001, 1002], &impostor)).unwrap()));
        assert!(!crls.is_revoked(&revoked, &chain).unwrap());
        assert!(!crls.is_revoked(&kept, &chain).unwrap());
        // The CA's own CRL revokes what it lists, and only for that CA.
        let good = crl(&[1001], &issuer);
        assert!(crls.add(Crl::parse(good.clone()).unwrap()));
        assert!(!crls.add(Crl::parse(good).unwrap()));
        assert!(crls.is_revoked(&revoked, &chain).unwrap());
        assert!(!crls.is_revoked(&kept, &chain).unwrap());
        assert!(!crls.is_revoked(&elsewhere, &[other_der]).unwrap());
        assert!(!crls.is_revoked(&revoked, &[]).unwrap());
    }

    #[test]
    fn pem_tampered_and_malformed_crls() {
        let (ca_der, issuer) = ca("PEM CA");
        let spki = CertView::parse(&ca_der).unwrap().spki.to_vec();
        let serial = |n| CertView::parse(&leaf(n, &issuer)).unwrap().serial.to_vec();
        let der = crl(&[7, 8], &issuer);
        let pem =
            pem_rfc7468::encode_string("X509 CRL", pem_rfc7468::LineEnding::LF, &der).unwrap();
        let crls = Crls::from_pem(&pem).unwrap();
        let parsed = crls.iter().next().unwrap();
        assert_eq!(parsed.der(), der.as_slice());
        assert_eq!(parsed.issuer(), CertView::parse(&ca_der).unwrap().subject);
        assert!(parsed.lists(&serial(7)) && parsed.lists(&serial(8)));
        assert!(!parsed.lists(&serial(9)));
        assert!(parsed.signed_by(&spki));
        // A flipped bit in the signature: still a CRL, no longer the CA's.
        let mut tampered = der.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(!Crl::parse(tampered).unwrap().signed_by(&spki));
        for bad in [
            Vec::new(),
            vec![0x30, 0x00],
            der[..der.len() - 1].to_vec(),
            vec![0x30, 0x03, 0x02, 0x01, 0x00],
        ] {
            assert!(Crl::parse(bad).is_err());
        }
        assert!(
            Crls::from_pem("-----BEGIN X509 CRL-----\nAQID\n-----END X509 CRL-----\n").is_err()
        );
        assert!(Crls::from_pem("").unwrap().is_empty());
    }
}
