//! Checkpoints (C2SP tlog-checkpoint): the note text naming a log's origin, tree size and
//! root hash ([`Checkpoint`]); the signed-note format they travel in ([`note`]); and the
//! static-ct-api `RFC6962NoteSignature` a CT log signs them with ([`rfc6962`]).

pub mod note;
pub mod rfc6962;

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::merkle::Hash;
use note::{NoteError, check_text};

/// The body of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line (for static-ct-api, the submission prefix without scheme
    /// or trailing slash).
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The tree hash at that size.
    pub root: Hash,
    /// Extension lines, each non-empty (a static-ct-api checkpoint has none).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text: origin, size, base64 root, extension lines, each ending in a
    /// newline. Fails if a line is empty or holds a newline or control character.
    pub fn to_text(&self) -> Result<String, NoteError> {
        let mut text = String::new();
        for (what, line) in [("origin", &self.origin)]
            .into_iter()
            .chain(self.extensions.iter().map(|e| ("extension line", e)))
        {
            if line.is_empty() || line.contains('\n') {
                return Err(NoteError::Malformed(format!(
                    "{what} {line:?} is empty or spans lines"
                )));
            }
        }
        text.push_str(&self.origin);
        text.push('\n');
        text.push_str(&self.size.to_string());
        text.push('\n');
        text.push_str(&STANDARD.encode(self.root.0));
        text.push('\n');
        for e in &self.extensions {
            text.push_str(e);
            text.push('\n');
        }
        check_text(&text)?;
        Ok(text)
    }

    /// Parses checkpoint note text strictly (tlog-checkpoint "Note text").
    pub fn parse_text(text: &str) -> Result<Self, NoteError> {
        check_text(text)?;
        let body = text.strip_suffix('\n').unwrap_or(text);
        let mut lines = body.split('\n');
        let bad = |why: String| NoteError::Malformed(why);
        let origin = lines.next().unwrap_or("");
        if origin.is_empty() {
            return Err(bad("empty origin line".into()));
        }
        let size_line = lines
            .next()
            .ok_or_else(|| bad("no tree size line".into()))?;
        let canonical = !size_line.is_empty()
            && size_line.bytes().all(|b| b.is_ascii_digit())
            && (size_line == "0" || !size_line.starts_with('0'));
        let size = canonical
            .then(|| size_line.parse::<u64>().ok())
            .flatten()
            .ok_or_else(|| {
                bad(format!(
                    "tree size {size_line:?} is not a canonical decimal"
                ))
            })?;
        let root_line = lines
            .next()
            .ok_or_else(|| bad("no root hash line".into()))?;
        let root = STANDARD
            .decode(root_line)
            .ok()
            .and_then(|b| Hash::try_from(b.as_slice()).ok())
            .ok_or_else(|| bad(format!("root hash {root_line:?} is not 32 bytes of base64")))?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(bad("empty extension line".into()));
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }
}

impl fmt::Display for Checkpoint {
    /// A one-line summary for logs and errors (not the note text).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} size {} root {}", self.origin, self.size, self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::note::SignedNote;

    /// The example from C2SP tlog-checkpoint.
    const EXAMPLE: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

    #[test]
    fn parses_spec_example() {
        let note = SignedNote::parse(EXAMPLE).unwrap();
        let c = Checkpoint::parse_text(&note.text).unwrap();
        assert_eq!(c.origin, "example.com/behind-the-sofa");
        assert_eq!(c.size, 20_852_163);
        assert!(c.extensions.is_empty());
        assert_eq!(c.to_text().unwrap(), note.text);
    }

    #[test]
    fn extension_lines_round_trip() {
        let c = Checkpoint {
            origin: "o".into(),
            size: 0,
            root: crate::merkle::empty_root(),
            extensions: vec!["ext one".into(), "two".into()],
        };
        let text = c.to_text().unwrap();
        assert_eq!(
            text,
            "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next one\ntwo\n"
        );
        assert_eq!(Checkpoint::parse_text(&text).unwrap(), c);
    }

    #[test]
    fn rejects_bad_text() {
        let root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        for bad in [
            format!("o\n01\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            format!("\n1\n{root}\n"),
            format!("o\n1\n{root}"),
            format!("o\n1\n{root}\n\next\n"),
            "o\n1\nAAAA\n".to_string(),
            "o\n1\n".to_string(),
            format!("o\n1\n{root}\nbad\rline\n"),
        ] {
            assert!(Checkpoint::parse_text(&bad).is_err(), "{bad:?}");
        }
        let mut c = Checkpoint::parse_text(&format!("o\n1\n{root}\n")).unwrap();
        c.extensions.push(String::new());
        assert!(c.to_text().is_err());
        c.extensions = vec!["a\nb".into()];
        assert!(c.to_text().is_err());
    }
}
