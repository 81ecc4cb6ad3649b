//! Splitting PEM text (RFC 7468) into labelled DER blocks, for certificates and keys
//! handed to the log as PEM.

use core::fmt;

/// Why PEM text could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemError {
    /// The 1-based line where the bad block starts.
    pub line: usize,
    /// What was wrong.
    pub reason: String,
}

impl fmt::Display for PemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PEM line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for PemError {}

/// One decoded PEM block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// The label, e.g. `CERTIFICATE`.
    pub label: String,
    /// The decoded bytes.
    pub der: Vec<u8>,
}

/// Every PEM block in `text`, in order. Text outside blocks is ignored (as OpenSSL
/// ignores it); a block that is not well formed is an error.
pub fn decode_all(text: &str) -> Result<Vec<PemBlock>, PemError> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((start, line)) = lines.next() {
        let Some(label) = line
            .trim_end()
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end_line = format!("-----END {label}-----");
        let mut block = String::new();
        block.push_str(line.trim_end());
        block.push('\n');
        let mut closed = false;
        for (_, l) in lines.by_ref() {
            block.push_str(l.trim_end());
            block.push('\n');
            if l.trim_end() == end_line {
                closed = true;
                break;
            }
        }
        let err = |reason: String| PemError {
            line: start + 1,
            reason,
        };
        if !closed {
            return Err(err(format!("no {end_line}")));
        }
        let (label, der) =
            pem_rfc7468::decode_vec(block.as_bytes()).map_err(|e| err(e.to_string()))?;
        out.push(PemBlock {
            label: label.to_string(),
            der,
        });
    }
    Ok(out)
}

/// The DER bytes of every block labelled `label`, in order.
pub fn decode_label(text: &str, label: &str) -> Result<Vec<Vec<u8>>, PemError> {
    Ok(decode_all(text)?
        .into_iter()
        .filter(|b| b.label == label)
        .map(|b| b.der)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_labels() {
        let text = "junk\n-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n\
                    -----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
        let blocks = decode_all(text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "EC PARAMETERS");
        assert_eq!(
            decode_label(text, "CERTIFICATE").unwrap(),
            vec![vec![1, 2, 3]]
        );
    }

    #[test]
    fn rejects_broken_blocks() {
        assert!(decode_all("-----BEGIN CERTIFICATE-----\nAQID\n").is_err());
        assert!(
            decode_all("-----BEGIN CERTIFICATE-----\nA!ID\n-----END CERTIFICATE-----\n").is_err()
        );
        assert!(decode_all("").unwrap().is_empty());
    }
}
