//! The certificate surgery CT needs, done on the DER bytes so that every field the log
//! does not change keeps its exact encoding: the `TBSCertificate` of a precertificate
//! without its poison extension (RFC 6962 §3.1–3.2), with the issuer and authority key
//! identifier rewritten when a precertificate signing certificate issued it; the same
//! `TBSCertificate` recovered from a final certificate by removing its embedded SCT list
//! (§3.3); the issuer key hash; and the embedded SCTs themselves.

use core::fmt;

use der::asn1::{ObjectIdentifier, OctetStringRef};
use der::{Decode, Encode, Header, Length, Reader, SliceReader, Tag};
use sha2::{Digest, Sha256};

use crate::entry::PreCert;
use crate::sct::{Sct, decode_sct_list};

/// The `notBefore` of a certificate or precertificate (RFC 5280 §4.1.2.5), in seconds
/// since the Unix epoch. The sequencer gives submissions issued long ago a lower priority.
pub fn not_before(cert: &[u8]) -> Result<u64, CertError> {
    let tbs = tbs_certificate(cert)?;
    let validity = Tbs::parse(tbs)?.field(3)?;
    let validity = x509_cert::time::Validity::<x509_cert::certificate::Rfc5280>::from_der(validity)
        .map_err(der_err("validity"))?;
    Ok(validity.not_before.to_unix_duration().as_secs())
}

/// Subject alternative name (RFC 5280 §4.2.1.6).
pub const SUBJECT_ALT_NAME_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");

/// The DNS names a certificate (`tbs = false`) or a bare `TBSCertificate` (`tbs =
/// true`, as a precertificate entry holds) is for: the subject alternative name's
/// dNSName entries and the subject's common name, lowercased, without duplicates.
pub fn dns_names(der: &[u8], tbs: bool) -> Result<Vec<String>, CertError> {
    let tbs = if tbs { der } else { tbs_certificate(der)? };
    let view = Tbs::parse(tbs)?;
    let mut names: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    };
    let subject = x509_cert::name::Name::from_der(view.field(4)?).map_err(der_err("subject"))?;
    if let Ok(Some(cn)) = subject.common_name() {
        add(&String::from(cn));
    }
    for raw in view.extensions()?.map(|e| e.items).unwrap_or_default() {
        let ext = Ext::parse(raw)?;
        if ext.oid != SUBJECT_ALT_NAME_OID {
            continue;
        }
        let san = x509_cert::ext::pkix::SubjectAltName::from_der(ext.value)
            .map_err(der_err("subjectAltName"))?;
        for general in &san.0 {
            if let x509_cert::ext::pkix::name::GeneralName::DnsName(n) = general {
                add(n.as_str());
            }
        }
    }
    Ok(names)
}

/// The precertificate poison extension (RFC 6962 §3.1).
pub const POISON_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.3");
/// The embedded SCT list extension (RFC 6962 §3.3).
pub const SCT_LIST_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");
/// The extended key usage of a precertificate signing certificate (RFC 6962 §3.1).
pub const PRECERT_SIGNING_EKU: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.4");
/// Authority key identifier (RFC 5280 §4.2.1.1).
pub const AUTHORITY_KEY_ID_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
/// Extended key usage (RFC 5280 §4.2.1.12).
pub const EXTENDED_KEY_USAGE_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");

/// Why a certificate could not be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertError(pub String);

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "certificate: {}", self.0)
    }
}

impl std::error::Error for CertError {}

fn err(what: impl Into<String>) -> CertError {
    CertError(what.into())
}

fn der_err(what: &'static str) -> impl Fn(der::Error) -> CertError {
    move |e| CertError(format!("{what}: {e}"))
}

/// The raw TLVs inside a constructed DER value (which must be exactly `tlv`).
pub(crate) fn children<'a>(
    tlv: &'a [u8],
    what: &'static str,
) -> Result<Vec<(Tag, &'a [u8])>, CertError> {
    let mut outer = SliceReader::new(tlv).map_err(der_err(what))?;
    let header = Header::decode(&mut outer).map_err(der_err(what))?;
    if !header.tag().is_constructed() {
        return Err(err(format!("{what} is not constructed")));
    }
    let content = outer.read_slice(header.length()).map_err(der_err(what))?;
    if !outer.is_finished() {
        return Err(err(format!("{what} has trailing bytes")));
    }
    let mut r = SliceReader::new(content).map_err(der_err(what))?;
    let mut out = Vec::new();
    while !r.is_finished() {
        let tag = Tag::peek(&r).map_err(der_err(what))?;
        out.push((tag, r.tlv_bytes().map_err(der_err(what))?));
    }
    Ok(out)
}

/// A constructed TLV with tag `tag` around `parts`.
fn build(tag: Tag, parts: &[&[u8]]) -> Result<Vec<u8>, CertError> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let length = Length::try_from(len).map_err(der_err("length"))?;
    let mut out = Vec::with_capacity(len + 6);
    Header::new(tag, length)
        .encode_to_vec(&mut out)
        .map_err(der_err("header"))?;
    for p in parts {
        out.extend_from_slice(p);
    }
    Ok(out)
}

/// The raw `TBSCertificate` of a DER certificate.
pub fn tbs_certificate(cert: &[u8]) -> Result<&[u8], CertError> {
    let parts = children(cert, "Certificate")?;
    match parts.as_slice() {
        [
            (Tag::Sequence, tbs),
            (Tag::Sequence, _),
            (Tag::BitString, _),
        ] => Ok(tbs),
        _ => Err(err(
            "not a Certificate SEQUENCE of TBS, algorithm, signature",
        )),
    }
}

/// The parts of a `TBSCertificate` CT works with.
struct Tbs<'a> {
    parts: Vec<(Tag, &'a [u8])>,
    /// Offset of `serialNumber` (1 when a version is present).
    base: usize,
}

const EXTENSIONS_TAG: u8 = 0xa3;

/// The extensions of a `TBSCertificate`: where the `[3]` field is, and each raw
/// `Extension`.
struct ExtList<'a> {
    at: usize,
    items: Vec<&'a [u8]>,
}

impl<'a> Tbs<'a> {
    fn parse(tbs: &'a [u8]) -> Result<Self, CertError> {
        let parts = children(tbs, "TBSCertificate")?;
        let base =
            usize::from(matches!(parts.first(), Some((_, raw)) if raw.first() == Some(&0xa0)));
        if parts.len() < base + 6 {
            return Err(err("TBSCertificate has too few fields"));
        }
        Ok(Tbs { parts, base })
    }

    fn field(&self, i: usize) -> Result<&'a [u8], CertError> {
        self.parts
            .get(self.base + i)
            .map(|(_, b)| *b)
            .ok_or_else(|| err("TBSCertificate field missing"))
    }

    fn issuer(&self) -> Result<&'a [u8], CertError> {
        self.field(2)
    }

    fn spki(&self) -> Result<&'a [u8], CertError> {
        self.field(5)
    }

    /// The extensions (raw `Extension` TLVs) and the index of the `[3]` field.
    fn extensions(&self) -> Result<Option<ExtList<'a>>, CertError> {
        let Some(at) = self
            .parts
            .iter()
            .position(|(_, raw)| raw.first() == Some(&EXTENSIONS_TAG))
        else {
            return Ok(None);
        };
        let outer = self.parts.get(at).map(|(_, b)| *b).unwrap_or(&[]);
        let inner = match children(outer, "extensions")?.as_slice() {
            [(Tag::Sequence, seq)] => *seq,
            _ => return Err(err("extensions is not one SEQUENCE")),
        };
        let exts = children(inner, "extensions")?
            .into_iter()
            .map(|(_, b)| b)
            .collect();
        Ok(Some(ExtList { at, items: exts }))
    }

    /// Re-encodes with `issuer` in place of the issuer and `exts` in place of the
    /// extensions field at `ext_at` (dropping the field when `exts` is empty).
    fn rebuild(
        &self,
        issuer: &[u8],
        ext_at: usize,
        exts: &[Vec<u8>],
    ) -> Result<Vec<u8>, CertError> {
        let ext_field = if exts.is_empty() {
            None
        } else {
            let refs: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();
            let seq = build(Tag::Sequence, &refs)?;
            let tag = self
                .parts
                .get(ext_at)
                .map(|(t, _)| *t)
                .ok_or_else(|| err("extensions field vanished"))?;
            Some(build(tag, &[&seq])?)
        };
        let mut parts: Vec<&[u8]> = Vec::with_capacity(self.parts.len());
        for (i, (_, raw)) in self.parts.iter().enumerate() {
            if i == self.base + 2 {
                parts.push(issuer);
            } else if i == ext_at {
                if let Some(f) = &ext_field {
                    parts.push(f);
                }
            } else {
                parts.push(raw);
            }
        }
        build(Tag::Sequence, &parts)
    }
}

/// One extension's parts.
struct Ext<'a> {
    oid: ObjectIdentifier,
    critical: bool,
    /// The contents of `extnValue`.
    value: &'a [u8],
    /// The raw TLVs of `extnID`, `critical` (when encoded) and `extnValue`.
    oid_tlv: &'a [u8],
    critical_tlv: Option<&'a [u8]>,
    value_tlv: &'a [u8],
}

impl<'a> Ext<'a> {
    fn parse(tlv: &'a [u8]) -> Result<Self, CertError> {
        let (oid_tlv, critical_tlv, value_tlv) = match children(tlv, "Extension")?.as_slice() {
            [(Tag::ObjectIdentifier, oid), (Tag::OctetString, value)] => (*oid, None, *value),
            [
                (Tag::ObjectIdentifier, oid),
                (Tag::Boolean, crit),
                (Tag::OctetString, value),
            ] => (*oid, Some(*crit), *value),
            _ => return Err(err("malformed Extension")),
        };
        let critical = match critical_tlv {
            Some(c) => bool::from_der(c).map_err(der_err("critical"))?,
            None => false,
        };
        Ok(Ext {
            oid: ObjectIdentifier::from_der(oid_tlv).map_err(der_err("extension OID"))?,
            critical,
            value: <&OctetStringRef>::from_der(value_tlv)
                .map_err(der_err("extension value"))?
                .as_bytes(),
            oid_tlv,
            critical_tlv,
            value_tlv,
        })
    }
}

/// The value (contents of the `extnValue` OCTET STRING) and criticality of extension
/// `oid` of a certificate, if present; an error if it appears twice.
pub fn extension(cert: &[u8], oid: ObjectIdentifier) -> Result<Option<(bool, &[u8])>, CertError> {
    let tbs = Tbs::parse(tbs_certificate(cert)?)?;
    let mut found = None;
    for raw in tbs.extensions()?.map(|e| e.items).unwrap_or_default() {
        let ext = Ext::parse(raw)?;
        if ext.oid == oid {
            if found.is_some() {
                return Err(err(format!("extension {oid} appears twice")));
            }
            found = Some((ext.critical, ext.value));
        }
    }
    Ok(found)
}

/// Whether the certificate is a precertificate (carries the poison extension).
pub fn is_precertificate(cert: &[u8]) -> Result<bool, CertError> {
    Ok(extension(cert, POISON_OID)?.is_some())
}

/// Whether the certificate is a precertificate signing certificate (has the CT
/// extended key usage).
pub fn is_precert_signing_cert(cert: &[u8]) -> Result<bool, CertError> {
    let Some((_, eku)) = extension(cert, EXTENDED_KEY_USAGE_OID)? else {
        return Ok(false);
    };
    let seq = children(eku, "ExtendedKeyUsage")?;
    for (tag, raw) in seq {
        if tag == Tag::ObjectIdentifier
            && ObjectIdentifier::from_der(raw).map_err(der_err("EKU OID"))? == PRECERT_SIGNING_EKU
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// SHA-256 of the DER `SubjectPublicKeyInfo` of `issuer` (RFC 6962 §3.2 `issuer_key_hash`).
pub fn issuer_key_hash(issuer: &[u8]) -> Result<[u8; 32], CertError> {
    let tbs = Tbs::parse(tbs_certificate(issuer)?)?;
    Ok(Sha256::digest(tbs.spki()?).into())
}

/// The `PreCert` an SCT for precertificate `precert` signs (RFC 6962 §3.2): its
/// `TBSCertificate` without the poison extension, and the key hash of the final
/// `issuer`. When a precertificate signing certificate `pre_issuer` issued it, the
/// issuer name becomes `pre_issuer`'s issuer and the authority key identifier becomes
/// `pre_issuer`'s (removed if it has none), as the final certificate will have them.
pub fn precert_entry(
    precert: &[u8],
    issuer: &[u8],
    pre_issuer: Option<&[u8]>,
) -> Result<PreCert, CertError> {
    let tbs = Tbs::parse(tbs_certificate(precert)?)?;
    let ExtList { at, items: exts } = tbs
        .extensions()?
        .ok_or_else(|| err("a precertificate has no extensions"))?;
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(exts.len());
    let mut poison = 0;
    for raw in &exts {
        let ext = Ext::parse(raw)?;
        if ext.oid == POISON_OID {
            if !ext.critical || ext.value != [0x05, 0x00] {
                return Err(err("the poison extension must be critical and NULL"));
            }
            poison += 1;
        } else {
            out.push(raw.to_vec());
        }
    }
    if poison != 1 {
        return Err(err(format!(
            "expected one poison extension, found {poison}"
        )));
    }
    let mut new_issuer = tbs.issuer()?;
    if let Some(pre) = pre_issuer {
        if !is_precert_signing_cert(pre)? {
            return Err(err(
                "the precertificate's issuer is not a precertificate signing certificate",
            ));
        }
        let pre_tbs = Tbs::parse(tbs_certificate(pre)?)?;
        new_issuer = pre_tbs.issuer()?;
        out = rewrite_authority_key_id(out, &pre_tbs)?;
    }
    Ok(PreCert {
        issuer_key_hash: issuer_key_hash(issuer)?,
        tbs_certificate: tbs.rebuild(new_issuer, at, &out)?,
    })
}

/// The extensions `exts` with the authority key identifier made that of the
/// precertificate signing certificate `pre` (RFC 6962 §3.2): its value replaced (keeping
/// the criticality), removed if `pre` has none, added at the end if only `pre` has one.
fn rewrite_authority_key_id(exts: Vec<Vec<u8>>, pre: &Tbs<'_>) -> Result<Vec<Vec<u8>>, CertError> {
    let mut pre_aki = None;
    for raw in pre.extensions()?.map(|e| e.items).unwrap_or_default() {
        let ext = Ext::parse(raw)?;
        if ext.oid == AUTHORITY_KEY_ID_OID {
            pre_aki = Some(ext);
        }
    }
    let mut replaced = false;
    let mut out = Vec::with_capacity(exts.len() + 1);
    for raw in exts {
        let ext = Ext::parse(&raw)?;
        if ext.oid != AUTHORITY_KEY_ID_OID {
            out.push(raw.clone());
            continue;
        }
        replaced = true;
        if let Some(aki) = &pre_aki {
            let mut parts = vec![ext.oid_tlv];
            parts.extend(ext.critical_tlv);
            parts.push(aki.value_tlv);
            out.push(build(Tag::Sequence, &parts)?);
        }
    }
    if let (false, Some(aki)) = (replaced, &pre_aki) {
        out.push(build(Tag::Sequence, &[aki.oid_tlv, aki.value_tlv])?);
    }
    Ok(out)
}

/// The embedded SCTs of a final certificate and the `PreCert` they sign (RFC 6962
/// §3.3): the `TBSCertificate` without the SCT list extension, with the key hash of
/// `issuer`.
pub fn embedded_scts(cert: &[u8], issuer: &[u8]) -> Result<(PreCert, Vec<Sct>), CertError> {
    let tbs = Tbs::parse(tbs_certificate(cert)?)?;
    let ExtList { at, items: exts } = tbs
        .extensions()?
        .ok_or_else(|| err("the certificate has no extensions"))?;
    let mut kept = Vec::with_capacity(exts.len());
    let mut list = None;
    for raw in &exts {
        let ext = Ext::parse(raw)?;
        if ext.oid == SCT_LIST_OID {
            if list.is_some() {
                return Err(err("two SCT list extensions"));
            }
            list = Some(ext.value);
        } else {
            kept.push(raw.to_vec());
        }
    }
    let list = list.ok_or_else(|| err("no embedded SCT list"))?;
    let tls = <&OctetStringRef>::from_der(list)
        .map_err(der_err("SCT list OCTET STRING"))?
        .as_bytes();
    let scts = decode_sct_list(tls).map_err(|e| err(e.to_string()))?;
    Ok((
        PreCert {
            issuer_key_hash: issuer_key_hash(issuer)?,
            tbs_certificate: tbs.rebuild(tbs.issuer()?, at, &kept)?,
        },
        scts,
    ))
}

/// The fields of a DER certificate that chain validation reads, borrowed from it: the
/// raw bytes, so that signatures are checked over exactly what was signed and names are
/// compared as encoded (RFC 5280 §4.1).
#[derive(Debug, Clone)]
pub struct CertView<'a> {
    /// The whole certificate.
    pub der: &'a [u8],
    /// The raw `TBSCertificate`, what the issuer signed.
    pub tbs: &'a [u8],
    /// The raw `serialNumber` INTEGER (RFC 5280 §4.1.2.2).
    pub serial: &'a [u8],
    /// The raw outer `signatureAlgorithm` (`AlgorithmIdentifier` TLV).
    pub signature_algorithm: &'a [u8],
    /// The signature bits (the BIT STRING contents after its unused-bits byte).
    pub signature: &'a [u8],
    /// The raw issuer `Name`.
    pub issuer: &'a [u8],
    /// The raw subject `Name`.
    pub subject: &'a [u8],
    /// The raw `SubjectPublicKeyInfo`.
    pub spki: &'a [u8],
    /// Each extension: OID, criticality, and the contents of `extnValue`.
    pub extensions: Vec<(ObjectIdentifier, bool, &'a [u8])>,
}

impl<'a> CertView<'a> {
    /// Splits a DER certificate into its fields; an error names what is malformed.
    pub fn parse(der: &'a [u8]) -> Result<Self, CertError> {
        let parts = children(der, "Certificate")?;
        let (tbs, signature_algorithm, bits) = match parts.as_slice() {
            [
                (Tag::Sequence, tbs),
                (Tag::Sequence, alg),
                (Tag::BitString, bits),
            ] => (*tbs, *alg, *bits),
            _ => {
                return Err(err(
                    "not a Certificate SEQUENCE of TBS, algorithm, signature",
                ));
            }
        };
        let bits = der::asn1::BitStringRef::from_der(bits).map_err(der_err("signature"))?;
        let signature = bits
            .as_bytes()
            .ok_or_else(|| err("the signature is not a whole number of bytes"))?;
        let view = Tbs::parse(tbs)?;
        let mut extensions = Vec::new();
        for raw in view.extensions()?.map(|e| e.items).unwrap_or_default() {
            let ext = Ext::parse(raw)?;
            if extensions.iter().any(|(oid, _, _)| *oid == ext.oid) {
                return Err(err(format!("extension {} appears twice", ext.oid)));
            }
            extensions.push((ext.oid, ext.critical, ext.value));
        }
        Ok(CertView {
            der,
            tbs,
            serial: view.field(0)?,
            signature_algorithm,
            signature,
            issuer: view.issuer()?,
            subject: view.field(4)?,
            spki: view.spki()?,
            extensions,
        })
    }

    /// The contents of extension `oid` and its criticality, if present.
    pub fn extension(&self, oid: ObjectIdentifier) -> Option<(bool, &'a [u8])> {
        self.extensions
            .iter()
            .find(|(o, _, _)| *o == oid)
            .map(|(_, critical, value)| (*critical, *value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_certificates() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x00],
            &[0x04, 0x00],
            &[0x30, 0x81],
        ] {
            assert!(tbs_certificate(bad).is_err());
            assert!(issuer_key_hash(bad).is_err());
            assert!(embedded_scts(bad, bad).is_err());
        }
        // A SEQUENCE of the right shape around a TBS with too few fields.
        let tbs = build(Tag::Sequence, &[&[0x02, 0x01, 0x01]]).unwrap();
        let alg = build(Tag::Sequence, &[]).unwrap();
        let cert = build(Tag::Sequence, &[&tbs, &alg, &[0x03, 0x01, 0x00]]).unwrap();
        assert_eq!(tbs_certificate(&cert).unwrap(), tbs.as_slice());
        assert!(issuer_key_hash(&cert).is_err());
        assert!(not_before(&cert).is_err());
    }

    #[test]
    fn reads_not_before() {
        let mut params = rcgen::CertificateParams::new(vec!["a.example".into()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2001, 2, 3);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        // 2001-02-03T00:00:00Z
        assert_eq!(not_before(cert.der()).unwrap(), 981_158_400);
    }

    #[test]
    fn reads_dns_names_of_certificates_and_tbs() {
        let mut params =
            rcgen::CertificateParams::new(vec!["A.Example".into(), "*.b.example".into()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "cn.example");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let want = vec!["cn.example", "a.example", "*.b.example"];
        assert_eq!(dns_names(cert.der(), false).unwrap(), want);
        let tbs = tbs_certificate(cert.der()).unwrap();
        assert_eq!(dns_names(tbs, true).unwrap(), want);
        assert!(dns_names(&[0x30, 0x00], false).is_err());
        assert!(dns_names(tbs, false).is_err());
    }
}
