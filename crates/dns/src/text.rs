//! The presentation format's lexical layer (RFC 1035 §5.1): splitting an entry into
//! tokens, and reading typed fields from those tokens.
//!
//! [`EntryLexer`] takes a zone file one line at a time and collects one entry, which may
//! span lines inside parentheses. Tokens keep their escapes (`\.`, `\DDD`) so that each
//! field reader can interpret them: a name treats `\.` as a dot inside a label, a
//! character-string as a plain dot. [`Fields`] reads the record data fields of an entry
//! and reports errors at the line and column of the offending token.

use std::fmt;

use crate::encoding::{self, DecodeError};
use crate::name::{self, Name, NameError};

/// A position in the text: 1-based line and column (in bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line number, from 1.
    pub line: u32,
    /// Column number, from 1.
    pub col: u32,
}

/// An error in presentation-format text, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError {
    /// Where it is.
    pub pos: Pos,
    /// What was wrong or expected.
    pub message: String,
}

impl TextError {
    /// An error at `pos`.
    pub fn new(pos: Pos, message: impl Into<String>) -> TextError {
        TextError {
            pos,
            message: message.into(),
        }
    }
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.pos.line, self.pos.col, self.message)
    }
}

impl std::error::Error for TextError {}

/// One token: its raw text (escapes kept, quotes removed) and where it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// The raw bytes between the delimiters.
    pub text: &'a [u8],
    /// Whether the token was a quoted string.
    pub quoted: bool,
    /// Where the token started (the opening quote for quoted strings).
    pub pos: Pos,
}

impl Token<'_> {
    /// The text with escapes decoded (`\DDD` and `\X`), as a character-string needs.
    pub fn unescaped(&self) -> Result<Vec<u8>, TextError> {
        let mut out = Vec::with_capacity(self.text.len());
        let mut i = 0usize;
        while let Some(&c) = self.text.get(i) {
            i += 1;
            if c == b'\\' {
                let (b, used) = name::unescape(self.text.get(i..).unwrap_or_default())
                    .map_err(|_| self.error("bad escape sequence"))?;
                out.push(b);
                i += used;
            } else {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// The text as UTF-8, for error messages.
    pub fn lossy(&self) -> String {
        String::from_utf8_lossy(self.text).into_owned()
    }

    /// An error located at this token.
    pub fn error(&self, message: impl Into<String>) -> TextError {
        TextError::new(self.pos, message)
    }
}

#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    quoted: bool,
    pos: Pos,
}

/// Collects the tokens of one entry, line by line.
#[derive(Default)]
pub struct EntryLexer {
    buf: Vec<u8>,
    spans: Vec<Span>,
    depth: u32,
    leading_blank: bool,
    first_line: u32,
    end: Pos,
}

impl EntryLexer {
    /// An empty lexer.
    pub fn new() -> EntryLexer {
        EntryLexer::default()
    }

    /// Forgets the current entry (keeping allocations).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.spans.clear();
        self.depth = 0;
        self.leading_blank = false;
        self.first_line = 0;
    }

    /// Adds one line (without its line terminator). Returns `true` when the entry is
    /// complete, that is when no parenthesis is open at the end of the line.
    pub fn feed_line(&mut self, line: &[u8], line_no: u32) -> Result<bool, TextError> {
        if self.depth == 0 && self.spans.is_empty() {
            self.first_line = line_no;
            self.leading_blank = matches!(line.first(), Some(b' ' | b'\t'));
        }
        let base = self.buf.len();
        self.buf.extend_from_slice(line);
        let at = |i: usize| Pos {
            line: line_no,
            col: u32::try_from(i + 1).unwrap_or(u32::MAX),
        };
        let mut i = 0usize;
        while let Some(&c) = line.get(i) {
            match c {
                b' ' | b'\t' | b'\r' => i += 1,
                b';' => break,
                b'(' => {
                    self.depth += 1;
                    i += 1;
                }
                b')' => {
                    if self.depth == 0 {
                        return Err(TextError::new(at(i), "')' without matching '('"));
                    }
                    self.depth -= 1;
                    i += 1;
                }
                b'"' => {
                    let start = i + 1;
                    let mut j = start;
                    loop {
                        match line.get(j) {
                            None => {
                                return Err(TextError::new(at(i), "unterminated quoted string"));
                            }
                            Some(b'\\') => j += 2,
                            Some(b'"') => break,
                            Some(_) => j += 1,
                        }
                    }
                    self.spans.push(Span {
                        start: base + start,
                        end: base + j,
                        quoted: true,
                        pos: at(i),
                    });
                    i = j + 1;
                }
                _ => {
                    let start = i;
                    while let Some(&c) = line.get(i) {
                        match c {
                            b' ' | b'\t' | b'\r' | b';' | b'(' | b')' | b'"' => break,
                            b'\\' => i = (i + 2).min(line.len()),
                            _ => i += 1,
                        }
                    }
                    self.spans.push(Span {
                        start: base + start,
                        end: base + i,
                        quoted: false,
                        pos: at(start),
                    });
                }
            }
        }
        self.end = at(line.len());
        Ok(self.depth == 0)
    }

    /// Whether a parenthesis is still open (an entry runs past the end of input).
    pub fn is_open(&self) -> bool {
        self.depth > 0
    }

    /// Whether the entry's first line began with a blank (the owner is inherited).
    pub fn leading_blank(&self) -> bool {
        self.leading_blank
    }

    /// The line the entry started on.
    pub fn first_line(&self) -> u32 {
        self.first_line
    }

    /// Position just past the last byte fed, for "expected X" errors at the end.
    pub fn end_pos(&self) -> Pos {
        self.end
    }

    /// Number of tokens in the entry.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the entry has no tokens (a blank or comment-only line).
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The `i`-th token.
    pub fn token(&self, i: usize) -> Option<Token<'_>> {
        let span = self.spans.get(i)?;
        Some(Token {
            text: self.buf.get(span.start..span.end).unwrap_or_default(),
            quoted: span.quoted,
            pos: span.pos,
        })
    }

    /// A field reader over the tokens from index `from` on.
    pub fn fields<'a>(&'a self, from: usize, origin: Option<&'a Name>) -> Fields<'a> {
        Fields {
            lexer: self,
            next: from,
            origin,
        }
    }
}

/// Reads typed fields from the tokens of an entry, in order.
pub struct Fields<'a> {
    lexer: &'a EntryLexer,
    next: usize,
    origin: Option<&'a Name>,
}

impl<'a> Fields<'a> {
    /// The origin relative names are completed with.
    pub fn origin(&self) -> Option<&'a Name> {
        self.origin
    }

    /// The next token without consuming it.
    pub fn peek(&self) -> Option<Token<'a>> {
        self.lexer.token(self.next)
    }

    /// Whether all tokens were read.
    pub fn is_empty(&self) -> bool {
        self.next >= self.lexer.len()
    }

    /// Where the next token is, or the end of the entry.
    pub fn pos(&self) -> Pos {
        self.peek().map_or(self.lexer.end_pos(), |t| t.pos)
    }

    /// An error at the next token (or the end of the entry).
    pub fn error(&self, message: impl Into<String>) -> TextError {
        TextError::new(self.pos(), message)
    }

    /// The next token; `what` names the field for the error if there is none.
    pub fn token(&mut self, what: &str) -> Result<Token<'a>, TextError> {
        let t = self
            .lexer
            .token(self.next)
            .ok_or_else(|| TextError::new(self.lexer.end_pos(), format!("expected {what}")))?;
        self.next += 1;
        Ok(t)
    }

    /// The next token, which must not be quoted.
    pub fn word(&mut self, what: &str) -> Result<Token<'a>, TextError> {
        let t = self.token(what)?;
        if t.quoted {
            return Err(t.error(format!("expected {what}, found a quoted string")));
        }
        Ok(t)
    }

    /// A decimal integer of type `T`.
    pub fn int<T: std::str::FromStr>(&mut self, what: &str) -> Result<T, TextError> {
        let t = self.word(what)?;
        parse_int(&t).ok_or_else(|| t.error(format!("expected {what}, found '{}'", t.lossy())))
    }

    /// A decimal u8.
    pub fn u8(&mut self, what: &str) -> Result<u8, TextError> {
        self.int(what)
    }

    /// A decimal u16.
    pub fn u16(&mut self, what: &str) -> Result<u16, TextError> {
        self.int(what)
    }

    /// A decimal u32.
    pub fn u32(&mut self, what: &str) -> Result<u32, TextError> {
        self.int(what)
    }

    /// A time value: seconds, or BIND's unit form (`1h30m`, `2w`).
    pub fn ttl(&mut self, what: &str) -> Result<u32, TextError> {
        let t = self.word(what)?;
        parse_ttl(t.text).ok_or_else(|| {
            t.error(format!(
                "expected {what} (seconds or units like 1h30m), found '{}'",
                t.lossy()
            ))
        })
    }

    /// A domain name, completed with the origin if relative.
    pub fn name(&mut self, what: &str) -> Result<Name, TextError> {
        let t = self.word(what)?;
        Name::parse_relative(t.text, self.origin).map_err(|e| name_error(&t, what, e))
    }

    /// A `<character-string>` (quoted or not), at most 255 bytes.
    pub fn char_string(&mut self, what: &str) -> Result<Vec<u8>, TextError> {
        let t = self.token(what)?;
        let s = t.unescaped()?;
        if s.len() > 255 {
            return Err(t.error(format!("{what} longer than 255 bytes")));
        }
        Ok(s)
    }

    /// All remaining tokens concatenated, Base64-decoded (keys, signatures).
    pub fn base64_rest(&mut self, what: &str) -> Result<Vec<u8>, TextError> {
        self.decode_rest(what, encoding::base64_decode, "Base64")
    }

    /// All remaining tokens concatenated, hex-decoded (digests, certificate data).
    pub fn hex_rest(&mut self, what: &str) -> Result<Vec<u8>, TextError> {
        self.decode_rest(what, encoding::hex_decode, "hexadecimal")
    }

    fn decode_rest(
        &mut self,
        what: &str,
        decode: fn(&[u8], &mut Vec<u8>) -> Result<(), DecodeError>,
        alphabet: &str,
    ) -> Result<Vec<u8>, TextError> {
        let first = self.word(what)?;
        let mut text = first.text.to_vec();
        while let Some(t) = self.peek() {
            if t.quoted {
                return Err(t.error(format!("unexpected quoted string in {what}")));
            }
            text.extend_from_slice(t.text);
            self.next += 1;
        }
        let mut out = Vec::with_capacity(text.len());
        decode(&text, &mut out)
            .map_err(|e| first.error(format!("{what}: {e} in {alphabet} data")))?;
        Ok(out)
    }

    /// Fails unless every token was read.
    pub fn finish(&self) -> Result<(), TextError> {
        match self.peek() {
            None => Ok(()),
            Some(t) => Err(t.error(format!(
                "unexpected '{}' after the end of the record data",
                t.lossy()
            ))),
        }
    }
}

/// Parses a whole token as a decimal integer.
pub fn parse_int<T: std::str::FromStr>(t: &Token<'_>) -> Option<T> {
    if t.text.is_empty() || !t.text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(t.text).ok()?.parse().ok()
}

/// Parses a TTL or time interval: decimal seconds, or numbers with the units `w`, `d`,
/// `h`, `m`, `s` in any case (`1h30m`, `2W`), as BIND accepts them. Fails on overflow.
pub fn parse_ttl(text: &[u8]) -> Option<u32> {
    if text.is_empty() {
        return None;
    }
    if text.iter().all(u8::is_ascii_digit) {
        return std::str::from_utf8(text).ok()?.parse().ok();
    }
    let mut total = 0u32;
    let mut value: Option<u32> = None;
    for &c in text {
        if c.is_ascii_digit() {
            let v = value
                .unwrap_or(0)
                .checked_mul(10)?
                .checked_add(u32::from(c - b'0'))?;
            value = Some(v);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            b'w' => 604_800,
            b'd' => 86_400,
            b'h' => 3_600,
            b'm' => 60,
            b's' => 1,
            _ => return None,
        };
        total = total.checked_add(value.take()?.checked_mul(unit)?)?;
    }
    // A trailing bare number after units counts as seconds (BIND: "1h30").
    total.checked_add(value.unwrap_or(0))
}

/// Converts a name error into a text error at the token.
pub fn name_error(t: &Token<'_>, what: &str, e: NameError) -> TextError {
    t.error(format!("bad {what} '{}': {e}", t.lossy()))
}

/// Writes a `<character-string>` in quotes, escaping `"` and `\` and non-printable bytes.
pub fn write_char_string(s: &[u8], out: &mut impl fmt::Write) -> fmt::Result {
    out.write_char('"')?;
    for &b in s {
        match b {
            b'"' | b'\\' => {
                out.write_char('\\')?;
                out.write_char(char::from(b))?;
            }
            0x20..=0x7e => out.write_char(char::from(b))?,
            _ => write!(out, "\\{b:03}")?,
        }
    }
    out.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(lines: &[&str]) -> EntryLexer {
        let mut l = EntryLexer::new();
        for (i, line) in lines.iter().enumerate() {
            let done = l.feed_line(line.as_bytes(), i as u32 + 1).unwrap();
            assert_eq!(done, i + 1 == lines.len());
        }
        l
    }

    #[test]
    fn tokens_quotes_comments_parens() {
        let l = lex(&["@ IN SOA ns1 admin ( ; comment", "  1 2 3 4 5 )  ; end"]);
        let texts: Vec<_> = (0..l.len()).map(|i| l.token(i).unwrap().lossy()).collect();
        assert_eq!(
            texts,
            ["@", "IN", "SOA", "ns1", "admin", "1", "2", "3", "4", "5"]
        );
        assert_eq!(l.token(5).unwrap().pos, Pos { line: 2, col: 3 });

        let l = lex(&[r#"x TXT "a \"quoted\" ; not a comment" b\;c"#]);
        assert_eq!(l.token(2).unwrap().text, br#"a \"quoted\" ; not a comment"#);
        assert!(l.token(2).unwrap().quoted);
        assert_eq!(l.token(3).unwrap().text, br"b\;c");
        assert_eq!(
            l.token(2).unwrap().unescaped().unwrap(),
            br#"a "quoted" ; not a comment"#
        );
    }

    #[test]
    fn lexer_errors() {
        let mut l = EntryLexer::new();
        let e = l.feed_line(b"x TXT \"open", 7).unwrap_err();
        assert_eq!(e.pos, Pos { line: 7, col: 7 });
        let mut l = EntryLexer::new();
        assert!(l.feed_line(b"x )", 1).is_err());
    }

    #[test]
    fn fields() {
        let origin = Name::parse("example.").unwrap();
        let l = lex(&["10 mail AQID BA=="]);
        let mut f = l.fields(0, Some(&origin));
        assert_eq!(f.u16("preference").unwrap(), 10);
        assert_eq!(f.name("exchange").unwrap().to_string(), "mail.example.");
        assert_eq!(f.base64_rest("key").unwrap(), [1, 2, 3, 4]);
        f.finish().unwrap();
        let e = f.u8("flags").unwrap_err();
        assert_eq!(e.message, "expected flags");

        let l = lex(&["70000"]);
        let e = l.fields(0, None).u16("port").unwrap_err();
        assert_eq!(e.message, "expected port, found '70000'");
        assert_eq!(e.pos, Pos { line: 1, col: 1 });
    }

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl(b"3600"), Some(3600));
        assert_eq!(parse_ttl(b"1h30m"), Some(5400));
        assert_eq!(parse_ttl(b"2w"), Some(1_209_600));
        assert_eq!(parse_ttl(b"1D2h3M4s"), Some(93_784));
        assert_eq!(parse_ttl(b"1h30"), Some(3630));
        assert_eq!(parse_ttl(b"h"), None);
        assert_eq!(parse_ttl(b"1x"), None);
        assert_eq!(parse_ttl(b"4294967296"), None);
        assert_eq!(parse_ttl(b"100000w"), None);
    }

    #[test]
    fn char_string_output() {
        let mut s = String::new();
        write_char_string(b"a\"b\\c\x01 d", &mut s).unwrap();
        assert_eq!(s, r#""a\"b\\c\001 d""#);
    }
}
