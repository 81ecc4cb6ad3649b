//! BIND key files, as `tsig-keygen` writes them (and `named.conf` `key` statements):
//!
//! ```text
//! key "name" {
//!     algorithm hmac-sha256;
//!     secret "base64";
//! };
//! ```
//!
//! Comments in the three styles of `named.conf` (`#`, `//`, `/* */`) are skipped. An
//! algorithm such as `hmac-sha256-128` asks for MACs truncated to that many bits.

use super::{Algorithm, TsigKey};
use crate::encoding;
use crate::name::Name;
use crate::text::{Pos, TextError};

/// Reads every `key` statement of a key file.
pub fn parse_key_file(text: &str) -> Result<Vec<TsigKey>, TextError> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens: &tokens,
        next: 0,
        end: end_pos(text),
    };
    let mut keys = Vec::new();
    while let Some(t) = p.peek() {
        if t.quoted || !t.text.eq_ignore_ascii_case("key") {
            return Err(TextError::new(
                t.pos,
                format!("expected 'key', found '{}'", t.text),
            ));
        }
        p.next += 1;
        keys.push(p.key()?);
    }
    Ok(keys)
}

/// One token: a word, a quoted string (quotes removed) or one of `{ } ;`.
struct Tok {
    text: String,
    quoted: bool,
    pos: Pos,
}

fn end_pos(text: &str) -> Pos {
    let line = text.lines().count().max(1);
    let col = text.lines().last().map_or(0, str::len) + 1;
    Pos {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        col: u32::try_from(col).unwrap_or(u32::MAX),
    }
}

fn tokenize(text: &str) -> Result<Vec<Tok>, TextError> {
    let mut out = Vec::new();
    let mut in_block: Option<Pos> = None;
    for (line_no, line) in text.lines().enumerate() {
        let line_no = u32::try_from(line_no + 1).unwrap_or(u32::MAX);
        let bytes = line.as_bytes();
        let pos = |i: usize| Pos {
            line: line_no,
            col: u32::try_from(i + 1).unwrap_or(u32::MAX),
        };
        let mut i = 0usize;
        while let Some(&c) = bytes.get(i) {
            if in_block.is_some() {
                if bytes.get(i..i + 2) == Some(b"*/") {
                    in_block = None;
                    i += 2;
                } else {
                    i += 1;
                }
                continue;
            }
            match c {
                b' ' | b'\t' | b'\r' => i += 1,
                b'#' => break,
                b'/' if bytes.get(i + 1) == Some(&b'/') => break,
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    in_block = Some(pos(i));
                    i += 2;
                }
                b'{' | b'}' | b';' => {
                    out.push(Tok {
                        text: char::from(c).to_string(),
                        quoted: false,
                        pos: pos(i),
                    });
                    i += 1;
                }
                b'"' => {
                    let len = bytes
                        .get(i + 1..)
                        .and_then(|rest| rest.iter().position(|&b| b == b'"'))
                        .ok_or_else(|| TextError::new(pos(i), "unterminated quoted string"))?;
                    out.push(Tok {
                        text: line.get(i + 1..i + 1 + len).unwrap_or_default().to_owned(),
                        quoted: true,
                        pos: pos(i),
                    });
                    i += len + 2;
                }
                _ => {
                    let start = i;
                    while let Some(&c) = bytes.get(i) {
                        if matches!(c, b' ' | b'\t' | b'\r' | b'{' | b'}' | b';' | b'"' | b'#') {
                            break;
                        }
                        i += 1;
                    }
                    out.push(Tok {
                        text: line.get(start..i).unwrap_or_default().to_owned(),
                        quoted: false,
                        pos: pos(start),
                    });
                }
            }
        }
    }
    match in_block {
        Some(p) => Err(TextError::new(p, "unterminated /* comment")),
        None => Ok(out),
    }
}

struct Parser<'a> {
    tokens: &'a [Tok],
    next: usize,
    end: Pos,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Tok> {
        self.tokens.get(self.next)
    }

    fn token(&mut self, what: &str) -> Result<&'a Tok, TextError> {
        let t = self
            .peek()
            .ok_or_else(|| TextError::new(self.end, format!("expected {what}")))?;
        self.next += 1;
        Ok(t)
    }

    fn punct(&mut self, p: &str) -> Result<(), TextError> {
        let t = self.token(&format!("'{p}'"))?;
        if t.quoted || t.text != p {
            return Err(TextError::new(
                t.pos,
                format!("expected '{p}', found '{}'", t.text),
            ));
        }
        Ok(())
    }

    /// `"name" { algorithm ...; secret "..."; };` after the `key` keyword.
    fn key(&mut self) -> Result<TsigKey, TextError> {
        let name_tok = self.token("key name")?;
        let name = Name::parse(&name_tok.text).map_err(|e| {
            TextError::new(
                name_tok.pos,
                format!("bad key name '{}': {e}", name_tok.text),
            )
        })?;
        self.punct("{")?;
        let mut algorithm: Option<(Algorithm, Option<usize>)> = None;
        let mut secret: Option<Vec<u8>> = None;
        loop {
            let t = self.token("'algorithm', 'secret' or '}'")?;
            match (t.quoted, t.text.to_ascii_lowercase().as_str()) {
                (false, "}") => break,
                (false, "algorithm") if algorithm.is_none() => {
                    let a = self.token("algorithm")?;
                    algorithm = Some(parse_algorithm(a)?);
                }
                (false, "secret") if secret.is_none() => {
                    let s = self.token("secret")?;
                    let mut out = Vec::new();
                    encoding::base64_decode(s.text.as_bytes(), &mut out).map_err(|e| {
                        TextError::new(s.pos, format!("secret is not valid Base64: {e}"))
                    })?;
                    secret = Some(out);
                }
                (false, "algorithm" | "secret") => {
                    return Err(TextError::new(t.pos, format!("'{}' given twice", t.text)));
                }
                _ => {
                    return Err(TextError::new(
                        t.pos,
                        format!("expected 'algorithm', 'secret' or '}}', found '{}'", t.text),
                    ));
                }
            }
            self.punct(";")?;
        }
        self.punct(";")?;
        let (algorithm, mac_len) =
            algorithm.ok_or_else(|| TextError::new(name_tok.pos, "key has no 'algorithm'"))?;
        let secret = secret.ok_or_else(|| TextError::new(name_tok.pos, "key has no 'secret'"))?;
        let key = TsigKey::new(name, algorithm, secret)
            .map_err(|e| TextError::new(name_tok.pos, e.to_string()))?;
        match mac_len {
            Some(len) => key
                .with_mac_len(len)
                .map_err(|e| TextError::new(name_tok.pos, e.to_string())),
            None => Ok(key),
        }
    }
}

/// `hmac-sha256` or `hmac-sha256-128` (MAC truncated to 128 bits, a multiple of 8).
fn parse_algorithm(t: &Tok) -> Result<(Algorithm, Option<usize>), TextError> {
    if let Some(a) = Algorithm::from_mnemonic(&t.text) {
        return Ok((a, None));
    }
    let truncated = t.text.rsplit_once('-').and_then(|(base, bits)| {
        let a = Algorithm::from_mnemonic(base)?;
        let bits: usize = bits.parse().ok()?;
        bits.is_multiple_of(8).then_some((a, Some(bits / 8)))
    });
    truncated.ok_or_else(|| {
        TextError::new(
            t.pos,
            format!(
                "unsupported algorithm '{}' (hmac-sha1, hmac-sha224, hmac-sha256, \
                 hmac-sha384 or hmac-sha512, optionally with -BITS)",
                t.text
            ),
        )
    })
}
