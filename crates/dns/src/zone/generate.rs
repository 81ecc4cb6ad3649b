//! `$GENERATE` templates (BIND's extension): `$` is the iterator, `${offset,width,base}`
//! formats it, `$$` and `\$` are a literal dollar sign.

use std::fmt::Write as _;

use crate::text::{TextError, Token};

/// How `${…}` prints the value (BIND's bases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    /// `d`: decimal.
    Decimal,
    /// `o`: octal.
    Octal,
    /// `x`: lower-case hexadecimal.
    Hex,
    /// `X`: upper-case hexadecimal.
    HexUpper,
    /// `n`: nibbles, lower case, least significant first, dot-separated (reverse zones).
    Nibble,
    /// `N`: nibbles in upper case.
    NibbleUpper,
}

#[derive(Debug, Clone)]
enum Segment {
    /// Text copied as is (escapes kept for the field parser).
    Literal(Vec<u8>),
    /// The iterator, shifted by `offset`, printed at least `width` wide.
    Counter {
        offset: i64,
        width: usize,
        base: Base,
    },
}

/// A parsed `lhs` or `rhs` template.
#[derive(Debug, Clone)]
pub(super) struct Template {
    segments: Vec<Segment>,
}

impl Template {
    /// Parses a template token; errors point into the token.
    pub(super) fn parse(t: &Token<'_>) -> Result<Template, TextError> {
        let text = t.text;
        let at = |i: usize| {
            let mut pos = t.pos;
            pos.col = pos
                .col
                .saturating_add(u32::try_from(i).unwrap_or(u32::MAX))
                .saturating_add(u32::from(t.quoted));
            pos
        };
        let mut segments = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0usize;
        while let Some(&c) = text.get(i) {
            match c {
                b'\\' => {
                    lit.push(c);
                    if let Some(&n) = text.get(i + 1) {
                        lit.push(n);
                    }
                    i += 2;
                }
                b'$' if text.get(i + 1) == Some(&b'$') => {
                    lit.extend_from_slice(b"\\$");
                    i += 2;
                }
                b'$' => {
                    if !lit.is_empty() {
                        segments.push(Segment::Literal(std::mem::take(&mut lit)));
                    }
                    if text.get(i + 1) == Some(&b'{') {
                        let rest = text.get(i + 2..).unwrap_or_default();
                        let close = rest
                            .iter()
                            .position(|&b| b == b'}')
                            .ok_or_else(|| TextError::new(at(i), "'${' without a closing '}'"))?;
                        let inner = rest.get(..close).unwrap_or_default();
                        segments.push(parse_modifier(inner).ok_or_else(|| {
                            TextError::new(
                                at(i),
                                format!(
                                    "bad $GENERATE modifier '${{{}}}': expected \
                                     ${{offset[,width[,base]]}} with base d, o, x, X, n or N",
                                    String::from_utf8_lossy(inner)
                                ),
                            )
                        })?);
                        i += close + 3;
                    } else {
                        segments.push(Segment::Counter {
                            offset: 0,
                            width: 0,
                            base: Base::Decimal,
                        });
                        i += 1;
                    }
                }
                _ => {
                    lit.push(c);
                    i += 1;
                }
            }
        }
        if !lit.is_empty() {
            segments.push(Segment::Literal(lit));
        }
        Ok(Template { segments })
    }

    /// Writes the template for iterator value `value` into `out` (cleared first).
    /// Fails if an offset takes the value below zero or past `i64`.
    pub(super) fn expand(&self, value: u32, out: &mut Vec<u8>) -> Result<(), String> {
        out.clear();
        for seg in &self.segments {
            match seg {
                Segment::Literal(l) => out.extend_from_slice(l),
                Segment::Counter {
                    offset,
                    width,
                    base,
                } => {
                    let v = i64::from(value)
                        .checked_add(*offset)
                        .filter(|v| *v >= 0)
                        .ok_or_else(|| {
                            format!("$GENERATE offset {offset} takes {value} below zero")
                        })?;
                    let v = v.unsigned_abs();
                    write_counter(v, *width, *base, out);
                }
            }
        }
        Ok(())
    }
}

/// `offset[,width[,base]]`, offset with an optional sign.
fn parse_modifier(inner: &[u8]) -> Option<Segment> {
    let text = std::str::from_utf8(inner).ok()?;
    let mut parts = text.split(',');
    let offset: i64 = parts.next()?.trim_start_matches('+').parse().ok()?;
    let width: usize = match parts.next() {
        Some(w) => w.parse().ok().filter(|w| *w <= 255)?,
        None => 0,
    };
    let base = match parts.next() {
        None | Some("d") => Base::Decimal,
        Some("o") => Base::Octal,
        Some("x") => Base::Hex,
        Some("X") => Base::HexUpper,
        Some("n") => Base::Nibble,
        Some("N") => Base::NibbleUpper,
        Some(_) => return None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(Segment::Counter {
        offset,
        width,
        base,
    })
}

struct ByteSink<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for ByteSink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn write_counter(v: u64, width: usize, base: Base, out: &mut Vec<u8>) {
    let mut sink = ByteSink(out);
    // Writing into a Vec cannot fail.
    let _ = match base {
        Base::Decimal => write!(sink, "{v:0width$}"),
        Base::Octal => write!(sink, "{v:0width$o}"),
        Base::Hex => write!(sink, "{v:0width$x}"),
        Base::HexUpper => write!(sink, "{v:0width$X}"),
        Base::Nibble | Base::NibbleUpper => {
            write_nibbles(v, width, base == Base::NibbleUpper, sink.0);
            Ok(())
        }
    };
}

/// BIND's `nibbles()` (lib/dns/master.c): nibbles from the least significant, each
/// followed by a dot while digits remain or the width (which counts the dots) is not
/// reached.
fn write_nibbles(mut v: u64, mut width: usize, upper: bool, out: &mut Vec<u8>) {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    loop {
        let d = usize::try_from(v & 0xf).unwrap_or(0);
        out.push(digits.get(d).copied().unwrap_or(b'0'));
        v >>= 4;
        width = width.saturating_sub(1);
        if width > 0 || v != 0 {
            out.push(b'.');
            width = width.saturating_sub(1);
        }
        if v == 0 && width == 0 {
            break;
        }
    }
}

/// The range `start-stop[/step]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Range {
    /// First value.
    pub start: u32,
    /// Last value (inclusive).
    pub stop: u32,
    /// Increment, at least 1.
    pub step: u32,
}

impl Range {
    /// Parses `start-stop[/step]`.
    pub(super) fn parse(t: &Token<'_>) -> Result<Range, TextError> {
        let bad = || {
            t.error(format!(
                "expected $GENERATE range start-stop[/step], found '{}'",
                t.lossy()
            ))
        };
        let text = std::str::from_utf8(t.text).map_err(|_| bad())?;
        let (range, step) = match text.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().map_err(|_| bad())?),
            None => (text, 1),
        };
        let (start, stop) = range.split_once('-').ok_or_else(bad)?;
        let start: u32 = start.parse().map_err(|_| bad())?;
        let stop: u32 = stop.parse().map_err(|_| bad())?;
        if step == 0 {
            return Err(t.error("$GENERATE step must be at least 1"));
        }
        if start > stop {
            return Err(t.error(format!("$GENERATE range {start}-{stop} runs backwards")));
        }
        Ok(Range { start, stop, step })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Pos;

    fn tok(text: &str) -> Token<'_> {
        Token {
            text: text.as_bytes(),
            quoted: false,
            pos: Pos { line: 1, col: 10 },
        }
    }

    fn expand(t: &str, v: u32) -> String {
        let mut out = Vec::new();
        Template::parse(&tok(t))
            .unwrap()
            .expand(v, &mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn modifiers_as_bind() {
        // Expected values from named-compilezone 9.18.
        assert_eq!(expand("h${0,3,x}-${+1,2,X}-${-1,0,n}", 1), "h001-02-0");
        assert_eq!(expand("h${0,4,N}", 10), "hA.0.");
        assert_eq!(expand("k${0,3,N}", 11), "kB.0");
        assert_eq!(expand("${0,6,n}", 10), "a.0.0.");
        assert_eq!(expand("m${0,0,x}.${0,1,N}.${0,5,N}", 254), "mfe.E.F.E.F.0");
        assert_eq!(expand("${1,2,o}", 7), "10");
        assert_eq!(expand("${5}", 1), "6");
        assert_eq!(expand("a$$b\\$c$", 3), "a\\$b\\$c3");
    }

    #[test]
    fn bad_templates() {
        let e = Template::parse(&tok("ab${1,2")).unwrap_err();
        assert_eq!(
            (e.pos.col, e.message.as_str()),
            (12, "'${' without a closing '}'")
        );
        let e = Template::parse(&tok("${1,2,q}")).unwrap_err();
        assert!(e.message.starts_with("bad $GENERATE modifier '${1,2,q}'"));
        let mut out = Vec::new();
        let t = Template::parse(&tok("${-5}")).unwrap();
        assert!(t.expand(4, &mut out).is_err());
        assert!(t.expand(5, &mut out).is_ok());
    }

    #[test]
    fn ranges() {
        assert_eq!(
            Range::parse(&tok("1-10/3")).unwrap(),
            Range {
                start: 1,
                stop: 10,
                step: 3
            }
        );
        assert!(Range::parse(&tok("10-1")).is_err());
        assert!(Range::parse(&tok("1-2/0")).is_err());
        assert!(Range::parse(&tok("1")).is_err());
        assert!(Range::parse(&tok("a-b")).is_err());
    }
}
