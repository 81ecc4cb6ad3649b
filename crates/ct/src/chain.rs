//! Submission chain validation as a CT log does it (RFC 6962 §3.1, §4.1–4.2): each
//! certificate must be signed by the next, up to one of the log's trusted roots, with
//! the root appended when the submitter left it out. Expiry is not checked and weak
//! hashes are verified rather than refused, because a log must accept every chain that
//! reaches its roots; what is checked is what makes an entry attributable to a root.
//!
//! Rulings on the edge cases:
//! - a certificate that signs another must be a CA (`basicConstraints` `cA`, RFC 5280
//!   §4.2.1.9), so a chain "issued" by an end-entity certificate is refused;
//! - a trusted root is a trust anchor: neither its own signature nor its constraints
//!   are checked (RFC 5280 §6.1.1(d)), so a v1 root without `basicConstraints`, or one
//!   self-signed with MD2, anchors chains;
//! - two roots with the same name and key (a re-issued root) both anchor the chain: the
//!   first that verifies is used;
//! - a precertificate (critical poison extension) goes only to `add-pre-chain`, a
//!   certificate only to `add-chain`; a precertificate signing certificate (CT EKU) may
//!   issue only the precertificate, directly, and must itself be issued by a CA in the
//!   chain or a root.
//!
//! Issuers recur: most submissions come through a few intermediates. [`Roots`] keeps a
//! bounded set of the issuer signatures it has seen verify (an intermediate by its
//! issuer, or a certificate by a root), so a chain usually costs one signature check,
//! the leaf's.

use core::fmt;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use der::Decode;
use sha2::{Digest, Sha256};
use x509_cert::ext::pkix::BasicConstraints;

use crate::cert::{self, CertError, CertView, POISON_OID};
use crate::entry::{PreCert, SignedEntry};
use crate::pem;
use crate::sig::{SigError, verify_signature};

/// The most certificates a submitted chain may hold (leaf included).
pub const MAX_CHAIN_LEN: usize = 16;

const BASIC_CONSTRAINTS_OID: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("2.5.29.19");

/// Why a chain was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainError {
    /// The chain is empty or longer than [`MAX_CHAIN_LEN`].
    Length(usize),
    /// Certificate `index` of the chain is malformed.
    Malformed {
        /// Position in the submitted chain (0 is the leaf).
        index: usize,
        /// What is wrong.
        error: CertError,
    },
    /// Certificate `index` is not issued by the next one (names differ).
    NameMismatch(usize),
    /// The signature on certificate `index` does not verify with its issuer's key.
    Signature {
        /// Position in the chain.
        index: usize,
        /// Why.
        error: SigError,
    },
    /// Certificate `index` signs another but is not a CA.
    NotCa(usize),
    /// No trusted root issued the last certificate.
    NoRoot,
    /// A precertificate was submitted to `add-chain`, or a certificate to
    /// `add-pre-chain`.
    WrongKind {
        /// Whether the leaf is a precertificate.
        precert: bool,
    },
    /// A precertificate signing certificate is misplaced or lacks its issuer.
    PrecertSigning(String),
    /// A root could not be loaded.
    Root(String),
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::Length(n) => {
                write!(f, "a chain of {n} certificates (1 to {MAX_CHAIN_LEN})")
            }
            ChainError::Malformed { index, error } => write!(f, "chain[{index}]: {error}"),
            ChainError::NameMismatch(i) => write!(
                f,
                "chain[{i}]'s issuer is not the subject of chain[{}]",
                i + 1
            ),
            ChainError::Signature { index, error } => write!(f, "chain[{index}]: {error}"),
            ChainError::NotCa(i) => write!(f, "chain[{i}] issues a certificate but is not a CA"),
            ChainError::NoRoot => write!(f, "the chain does not reach a trusted root"),
            ChainError::WrongKind { precert: true } => {
                write!(f, "a precertificate belongs in add-pre-chain")
            }
            ChainError::WrongKind { precert: false } => {
                write!(
                    f,
                    "add-pre-chain needs a precertificate (with the poison extension)"
                )
            }
            ChainError::PrecertSigning(why) => {
                write!(f, "precertificate signing certificate: {why}")
            }
            ChainError::Root(why) => write!(f, "root: {why}"),
        }
    }
}

impl std::error::Error for ChainError {}

/// SHA-256 of a DER certificate: its fingerprint, as data tiles and `issuer/` use.
pub fn fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// The most issuer signatures [`Roots`] remembers as verified; when full, it forgets
/// them all and starts again.
pub const VERIFIED_CACHE_SIZE: usize = 10_000;

/// Issuer signatures known to verify: SHA-256 of the issuer's `SubjectPublicKeyInfo`
/// and the whole certificate it signed (TBS, algorithm and signature), so that a
/// certificate differing in any byte, or another key, is checked afresh.
#[derive(Debug, Default)]
struct VerifiedCache(Mutex<HashSet<[u8; 32]>>);

impl VerifiedCache {
    fn key(cert: &CertView<'_>, issuer_spki: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update((issuer_spki.len() as u64).to_be_bytes());
        h.update(issuer_spki);
        h.update(cert.der);
        h.finalize().into()
    }

    fn contains(&self, key: &[u8; 32]) -> bool {
        self.0.lock().is_ok_and(|set| set.contains(key))
    }

    fn insert(&self, key: [u8; 32]) {
        if let Ok(mut set) = self.0.lock() {
            if set.len() >= VERIFIED_CACHE_SIZE {
                set.clear();
            }
            set.insert(key);
        }
    }

    fn len(&self) -> usize {
        self.0.lock().map_or(0, |set| set.len())
    }
}

impl Clone for VerifiedCache {
    fn clone(&self) -> Self {
        VerifiedCache(Mutex::new(
            self.0.lock().map(|set| set.clone()).unwrap_or_default(),
        ))
    }
}

/// The log's trusted roots, indexed by subject, with the issuer signatures seen to
/// verify in chains validated against them.
#[derive(Debug, Clone, Default)]
pub struct Roots {
    certs: Vec<Vec<u8>>,
    /// Each root's `SubjectPublicKeyInfo`, by the index of `certs`.
    spkis: Vec<Vec<u8>>,
    by_fingerprint: HashMap<[u8; 32], usize>,
    by_subject: HashMap<Vec<u8>, Vec<usize>>,
    verified: VerifiedCache,
}

impl Roots {
    /// No roots.
    pub fn new() -> Self {
        Roots::default()
    }

    /// The roots in a PEM text of `CERTIFICATE` blocks.
    pub fn from_pem(text: &str) -> Result<Self, ChainError> {
        let mut roots = Roots::new();
        roots.add_pem(text)?;
        Ok(roots)
    }

    /// Adds the `CERTIFICATE` blocks of a PEM text; returns how many were new. Nothing
    /// is added if one is malformed.
    pub fn add_pem(&mut self, text: &str) -> Result<usize, ChainError> {
        let ders =
            pem::decode_label(text, "CERTIFICATE").map_err(|e| ChainError::Root(e.to_string()))?;
        for der in &ders {
            CertView::parse(der).map_err(|e| ChainError::Root(e.to_string()))?;
        }
        let mut added = 0;
        for der in ders {
            added += usize::from(self.add_der(der)?);
        }
        Ok(added)
    }

    /// Adds one DER root; `false` if it was already there.
    pub fn add_der(&mut self, der: Vec<u8>) -> Result<bool, ChainError> {
        let fp = fingerprint(&der);
        if self.by_fingerprint.contains_key(&fp) {
            return Ok(false);
        }
        let view = CertView::parse(&der).map_err(|e| ChainError::Root(e.to_string()))?;
        let (subject, spki) = (view.subject.to_vec(), view.spki.to_vec());
        let at = self.certs.len();
        self.certs.push(der);
        self.spkis.push(spki);
        self.by_fingerprint.insert(fp, at);
        self.by_subject.entry(subject).or_default().push(at);
        Ok(true)
    }

    /// The roots, DER, in the order added.
    pub fn certs(&self) -> &[Vec<u8>] {
        &self.certs
    }

    /// Whether `der` is one of the roots.
    pub fn contains(&self, der: &[u8]) -> bool {
        self.by_fingerprint.contains_key(&fingerprint(der))
    }

    /// How many issuer signatures are remembered as verified (at most
    /// [`VERIFIED_CACHE_SIZE`]).
    pub fn verified_signatures(&self) -> usize {
        self.verified.len()
    }

    /// Checks that `issuer_spki`'s key signed certificate `index` of a chain. An issuer
    /// certificate's signature (`index > 0`) is remembered once it verifies; a leaf's is
    /// not, since leaves do not recur (a resubmitted leaf is rare and deduplicated).
    fn verify(
        &self,
        index: usize,
        view: &CertView<'_>,
        issuer_spki: &[u8],
    ) -> Result<(), SigError> {
        if index == 0 {
            return verify_signature(
                view.tbs,
                view.signature_algorithm,
                view.signature,
                issuer_spki,
            );
        }
        let key = VerifiedCache::key(view, issuer_spki);
        if self.verified.contains(&key) {
            return Ok(());
        }
        verify_signature(
            view.tbs,
            view.signature_algorithm,
            view.signature,
            issuer_spki,
        )?;
        self.verified.insert(key);
        Ok(())
    }

    /// Whether the parsed certificate is one of the roots: compared with the roots of
    /// its subject, so that no fingerprint needs computing.
    fn is_root(&self, view: &CertView<'_>) -> bool {
        self.with_subject(view.subject)
            .any(|(root, _)| root == view.der)
    }

    /// The roots whose subject is `name` (raw DER), with their `SubjectPublicKeyInfo`.
    fn with_subject(&self, name: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.by_subject
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|&i| Some((self.certs.get(i)?.as_slice(), self.spkis.get(i)?.as_slice())))
    }
}

/// What a submission endpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainKind {
    /// `add-chain`: a certificate.
    Certificate,
    /// `add-pre-chain`: a precertificate.
    Precertificate,
}

/// A validated chain: the submitted certificates up to and including a trusted root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidChain {
    kind: ChainKind,
    certs: Vec<Vec<u8>>,
}

impl ValidChain {
    /// Whether the leaf is a certificate or a precertificate.
    pub fn kind(&self) -> ChainKind {
        self.kind
    }

    /// The leaf (certificate or precertificate as submitted).
    pub fn leaf(&self) -> &[u8] {
        self.certs.first().map(Vec::as_slice).unwrap_or(&[])
    }

    /// The issuers, leaf's issuer first, ending with the root.
    pub fn issuers(&self) -> &[Vec<u8>] {
        self.certs.get(1..).unwrap_or(&[])
    }

    /// The entry the log stores and the SCT signs (RFC 6962 §3.1–3.2), and for a
    /// precertificate the submitted precertificate.
    pub fn entry(&self) -> Result<(SignedEntry, Option<Vec<u8>>), CertError> {
        match self.kind {
            ChainKind::Certificate => Ok((SignedEntry::X509(self.leaf().to_vec()), None)),
            ChainKind::Precertificate => Ok((
                SignedEntry::Precert(self.precert()?),
                Some(self.leaf().to_vec()),
            )),
        }
    }

    /// What [`ValidChain::entry`] gives, and the issuers, taking the chain apart
    /// rather than copying its certificates.
    pub fn into_parts(self) -> Result<ChainParts, CertError> {
        let pre = match self.kind {
            ChainKind::Certificate => None,
            ChainKind::Precertificate => Some(self.precert()?),
        };
        let mut certs = self.certs.into_iter();
        let leaf = certs
            .next()
            .ok_or_else(|| CertError("an empty chain".into()))?;
        let issuers = certs.collect();
        Ok(match pre {
            None => (SignedEntry::X509(leaf), None, issuers),
            Some(pre) => (SignedEntry::Precert(pre), Some(leaf), issuers),
        })
    }

    /// The `PreCert` of a precertificate chain (RFC 6962 §3.2).
    fn precert(&self) -> Result<PreCert, CertError> {
        let issuers = self.issuers();
        let first = issuers
            .first()
            .ok_or_else(|| CertError("a precertificate without an issuer".into()))?;
        if cert::is_precert_signing_cert(first)? {
            let ca = issuers.get(1).ok_or_else(|| {
                CertError("a precertificate signing certificate without an issuer".into())
            })?;
            cert::precert_entry(self.leaf(), ca, Some(first))
        } else {
            cert::precert_entry(self.leaf(), first, None)
        }
    }
}

/// A validated chain taken apart ([`ValidChain::into_parts`]): the entry, for a
/// precertificate the precertificate as submitted, and the issuers (leaf's issuer
/// first, ending with the root).
pub type ChainParts = (SignedEntry, Option<Vec<u8>>, Vec<Vec<u8>>);

fn is_ca(view: &CertView<'_>) -> Result<bool, CertError> {
    match view.extension(BASIC_CONSTRAINTS_OID) {
        None => Ok(false),
        Some((_, value)) => BasicConstraints::from_der(value)
            .map(|bc| bc.ca)
            .map_err(|e| CertError(format!("basicConstraints: {e}"))),
    }
}

/// Validates a submitted chain (leaf first) against `roots` for endpoint `kind`.
pub fn validate(
    chain: &[Vec<u8>],
    roots: &Roots,
    kind: ChainKind,
) -> Result<ValidChain, ChainError> {
    if chain.is_empty() || chain.len() > MAX_CHAIN_LEN {
        return Err(ChainError::Length(chain.len()));
    }
    validate_owned(chain.to_vec(), roots, kind)
}

/// [`validate`] for a chain the caller hands over: the [`ValidChain`] keeps its
/// certificates rather than copies.
pub fn validate_owned(
    mut chain: Vec<Vec<u8>>,
    roots: &Roots,
    kind: ChainKind,
) -> Result<ValidChain, ChainError> {
    let (precert, used, root) = check_chain(&chain, roots, kind)?;
    chain.truncate(used);
    if let Some(root) = root {
        chain.push(root.to_vec());
    }
    if precert
        && chain.len() == 2
        && let Some(issuer) = chain.get(1)
        && cert::is_precert_signing_cert(issuer)
            .map_err(|error| ChainError::Malformed { index: 1, error })?
    {
        return Err(ChainError::PrecertSigning(
            "a trusted root cannot be a precertificate signing certificate".into(),
        ));
    }
    Ok(ValidChain {
        kind: if precert {
            ChainKind::Precertificate
        } else {
            ChainKind::Certificate
        },
        certs: chain,
    })
}

/// The checks of [`validate`]: whether the leaf is a precertificate, how many of the
/// submitted certificates the valid chain keeps (up to the first trusted root), and the
/// root to append when the submitter left it out.
fn check_chain<'r>(
    chain: &[Vec<u8>],
    roots: &'r Roots,
    kind: ChainKind,
) -> Result<(bool, usize, Option<&'r [u8]>), ChainError> {
    if chain.is_empty() || chain.len() > MAX_CHAIN_LEN {
        return Err(ChainError::Length(chain.len()));
    }
    let views = chain
        .iter()
        .enumerate()
        .map(|(index, der)| {
            CertView::parse(der).map_err(|error| ChainError::Malformed { index, error })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let leaf = views.first().ok_or(ChainError::Length(0))?;
    let precert = match leaf.extension(POISON_OID) {
        Some((true, [0x05, 0x00])) => true,
        Some(_) => {
            return Err(ChainError::Malformed {
                index: 0,
                error: CertError("the poison extension must be critical and NULL".into()),
            });
        }
        None => false,
    };
    if precert != (kind == ChainKind::Precertificate) {
        return Err(ChainError::WrongKind { precert });
    }
    for (index, view) in views.iter().enumerate() {
        if roots.is_root(view) {
            return Ok((precert, index + 1, None));
        }
        let malformed = |error| ChainError::Malformed { index, error };
        if index > 0 {
            if !is_ca(view).map_err(malformed)? {
                return Err(ChainError::NotCa(index));
            }
            let signing = cert::is_precert_signing_cert(view.der).map_err(malformed)?;
            if signing && !(index == 1 && precert) {
                return Err(ChainError::PrecertSigning(format!(
                    "chain[{index}] may only issue a precertificate directly"
                )));
            }
        }
        match views.get(index + 1) {
            Some(issuer) => {
                if issuer.subject != view.issuer {
                    return Err(ChainError::NameMismatch(index));
                }
                roots
                    .verify(index, view, issuer.spki)
                    .map_err(|error| ChainError::Signature { index, error })?;
            }
            None => {
                let mut last = None;
                for (root, spki) in roots.with_subject(view.issuer) {
                    match roots.verify(index, view, spki) {
                        Ok(()) => return Ok((precert, index + 1, Some(root))),
                        Err(error) => last = Some(error),
                    }
                }
                return Err(match last {
                    Some(error) => ChainError::Signature { index, error },
                    None => ChainError::NoRoot,
                });
            }
        }
    }
    Err(ChainError::NoRoot)
}
