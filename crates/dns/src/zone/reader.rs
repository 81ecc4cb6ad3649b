//! The streaming zone file reader (RFC 1035 §5, with BIND's extensions).
//!
//! Lines are read one at a time into a reused buffer and collected into entries by
//! [`EntryLexer`]; each entry is a directive or a record, and each record is handed out
//! as soon as it is read. An error skips the entry it is in, and reading goes on with
//! the next one.

use std::io::BufRead;
use std::sync::Arc;

use super::diagnostic::{Diagnostic, Severity};
use super::generate::{Range, Template};
use super::include::IncludeSource;
use crate::name::Name;
use crate::rdata::RData;
use crate::record::Record;
use crate::text::{self, EntryLexer, Pos, TextError, Token};
use crate::types::{Class, Rtype};

/// How many errors [`ZoneReader`] reports before it gives up.
pub const DEFAULT_MAX_ERRORS: usize = 100;

/// How deep `$INCLUDE`s may nest.
const MAX_INCLUDE_DEPTH: usize = 16;

/// The largest TTL (RFC 2181 §8); larger values are taken as zero, as BIND does.
const MAX_TTL: u32 = 0x7fff_ffff;

/// Where a record was read: a file (an index into the reader's file names), a line and
/// the column of the entry's first token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Source {
    /// Index of the file among those the reader opened (0 is the main file).
    pub file: u32,
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub col: u32,
}

/// A record and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    /// The record.
    pub record: Record,
    /// Where it came from.
    pub source: Source,
}

/// One open file.
struct Frame<'a> {
    input: Box<dyn BufRead + 'a>,
    file: u32,
    line: u32,
    /// The origin and owner of the including file, restored when this one ends.
    saved: Option<(Name, Vec<u8>)>,
}

/// The TTL defaults of RFC 1035 §5.1 and RFC 2308 §4, applied as BIND does.
#[derive(Default)]
struct TtlState {
    /// From `$TTL`, or the SOA minimum when the SOA had no TTL and no `$TTL` was seen.
    default: Option<u32>,
    /// The last explicit TTL (RFC 1035: an omitted TTL is the previous one).
    last: Option<u32>,
    /// Whether the RFC 1035 fallback was reported already.
    warned_1035: bool,
}

/// A `$GENERATE` in progress.
struct Generate {
    range: Range,
    next: Option<u32>,
    lhs: Template,
    rhs: Template,
    rtype: Rtype,
    ttl: u32,
    origin: Name,
    source: Source,
    rhs_pos: Pos,
}

/// Reads the records of a zone file one at a time: an iterator of records and errors.
///
/// Warnings (which do not stop a record from being read) are kept aside; see
/// [`ZoneReader::take_warnings`].
pub struct ZoneReader<'a> {
    zone_origin: Name,
    class: Class,
    includes: &'a mut dyn IncludeSource,
    files: Vec<Arc<str>>,
    main: Option<Box<dyn BufRead + 'a>>,
    main_line: u32,
    frames: Vec<Frame<'a>>,
    origin: Name,
    /// The last owner name in wire form (empty before the first), kept in a reused
    /// buffer: only records that inherit it build a name from it.
    owner: Vec<u8>,
    ttl: TtlState,
    lexer: EntryLexer,
    line: Vec<u8>,
    generate: Option<Generate>,
    gen_lexer: EntryLexer,
    gen_buf: Vec<u8>,
    warnings: Vec<Diagnostic>,
    errors: usize,
    max_errors: usize,
    done: bool,
}

/// What one step of reading produced.
enum Step {
    Record(SourceRecord),
    Error(Diagnostic),
    Nothing,
    End,
}

/// An error in the current entry, before its file is attached.
type EntryResult<T> = Result<T, TextError>;

impl<'a> ZoneReader<'a> {
    /// A reader of the zone `origin` in `class`, reading `input`, whose name (for
    /// diagnostics and relative `$INCLUDE` paths) is `file`.
    pub fn new(
        origin: Name,
        class: Class,
        file: &str,
        input: impl BufRead + 'a,
        includes: &'a mut dyn IncludeSource,
    ) -> ZoneReader<'a> {
        ZoneReader {
            zone_origin: origin.clone(),
            class,
            includes,
            files: vec![Arc::from(file)],
            main: Some(Box::new(input)),
            main_line: 0,
            frames: Vec::new(),
            origin,
            owner: Vec::new(),
            ttl: TtlState::default(),
            lexer: EntryLexer::new(),
            line: Vec::with_capacity(256),
            generate: None,
            gen_lexer: EntryLexer::new(),
            gen_buf: Vec::new(),
            warnings: Vec::new(),
            errors: 0,
            max_errors: DEFAULT_MAX_ERRORS,
            done: false,
        }
    }

    /// Sets how many errors are reported before reading stops (at least 1).
    pub fn with_max_errors(mut self, max: usize) -> Self {
        self.max_errors = max.max(1);
        self
    }

    /// The warnings found so far, removed from the reader.
    pub fn take_warnings(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.warnings)
    }

    /// The names of the files read so far; [`Source::file`] indexes them.
    pub fn files(&self) -> &[Arc<str>] {
        &self.files
    }

    /// The names of the files read, giving up the reader.
    pub fn into_files(self) -> Vec<Arc<str>> {
        self.files
    }

    fn current_file(&self) -> u32 {
        self.frames.last().map_or(0, |f| f.file)
    }

    fn file_arc(&self, file: u32) -> Arc<str> {
        usize::try_from(file)
            .ok()
            .and_then(|i| self.files.get(i))
            .cloned()
            .unwrap_or_else(|| Arc::from("?"))
    }

    fn diagnostic(&self, file: u32, pos: Pos, severity: Severity, message: String) -> Diagnostic {
        Diagnostic {
            file: self.file_arc(file),
            line: pos.line,
            col: pos.col,
            severity,
            message,
        }
    }

    fn warn(&mut self, pos: Pos, message: String) {
        let d = self.diagnostic(self.current_file(), pos, Severity::Warning, message);
        self.warnings.push(d);
    }

    /// Reads the next line of the innermost open file into `self.line`; `None` at the
    /// end of all input. Ends of included files are handled here.
    fn read_line(&mut self) -> Option<Result<u32, Diagnostic>> {
        loop {
            self.line.clear();
            let (input, line_no, file) = match self.frames.last_mut() {
                Some(f) => (&mut f.input, &mut f.line, f.file),
                None => (self.main.as_mut()?, &mut self.main_line, 0),
            };
            match input.read_until(b'\n', &mut self.line) {
                Ok(0) => {
                    let unclosed = self.lexer.is_open().then(|| self.lexer.end_pos());
                    self.lexer.clear();
                    self.end_file();
                    if let Some(pos) = unclosed {
                        return Some(Err(self.diagnostic(
                            file,
                            pos,
                            Severity::Error,
                            "expected ')' before the end of the file".to_owned(),
                        )));
                    }
                }
                Ok(_) => {
                    *line_no = line_no.saturating_add(1);
                    if self.line.last() == Some(&b'\n') {
                        self.line.pop();
                    }
                    if self.line.last() == Some(&b'\r') {
                        self.line.pop();
                    }
                    return Some(Ok(*line_no));
                }
                Err(e) => {
                    let pos = Pos {
                        line: line_no.saturating_add(1),
                        col: 1,
                    };
                    self.lexer.clear();
                    self.end_file();
                    return Some(Err(self.diagnostic(
                        file,
                        pos,
                        Severity::Error,
                        format!("cannot read: {e}"),
                    )));
                }
            }
        }
    }

    /// Closes the innermost file, restoring the including file's origin and owner.
    fn end_file(&mut self) {
        match self.frames.pop() {
            Some(f) => {
                if let Some((origin, owner)) = f.saved {
                    self.origin = origin;
                    self.owner = owner;
                }
            }
            None => self.main = None,
        }
    }

    fn step(&mut self) -> Step {
        if self.generate.is_some() {
            return self.next_generated();
        }
        let line_no = match self.read_line() {
            None => return Step::End,
            Some(Err(d)) => return Step::Error(d),
            Some(Ok(n)) => n,
        };
        match self.lexer.feed_line(&self.line, line_no) {
            Err(e) => {
                self.lexer.clear();
                return Step::Error(self.diagnostic(
                    self.current_file(),
                    e.pos,
                    Severity::Error,
                    e.message,
                ));
            }
            Ok(false) => return Step::Nothing,
            Ok(true) => {}
        }
        if self.lexer.is_empty() {
            self.lexer.clear();
            return Step::Nothing;
        }
        let file = self.current_file();
        let result = self.entry(file);
        self.lexer.clear();
        match result {
            Ok(Some(r)) => Step::Record(r),
            Ok(None) => Step::Nothing,
            Err(e) => Step::Error(self.diagnostic(file, e.pos, Severity::Error, e.message)),
        }
    }

    /// Handles one complete entry of the file `file`.
    fn entry(&mut self, file: u32) -> EntryResult<Option<SourceRecord>> {
        let lexer = &self.lexer;
        let Some(first) = lexer.token(0) else {
            return Ok(None);
        };
        if !lexer.leading_blank() && !first.quoted && first.text.first() == Some(&b'$') {
            return self.directive(file);
        }
        let mut next = 0usize;
        let owner_pos = first.pos;
        let owner = if lexer.leading_blank() {
            Name::from_wire(&self.owner).map_err(|_| {
                first.error("no owner name: the first record must not start with a blank")
            })?
        } else {
            next = 1;
            let owner = parse_name(&first, "owner name", &self.origin)?;
            self.owner.clear();
            self.owner.extend_from_slice(owner.as_wire());
            owner
        };
        let head = ttl_class_type(lexer, next)?;
        self.check_class(&head)?;
        let mut fields = lexer.fields(head.next, Some(&self.origin));
        let data = RData::parse_text(head.rtype, &mut fields)?;
        fields.finish()?;
        let ttl = self.resolve_ttl(head.ttl, &data, owner_pos)?;
        if !owner.is_subdomain_of(&self.zone_origin) {
            self.warn(owner_pos, format!("ignoring out-of-zone data ({owner})"));
            return Ok(None);
        }
        Ok(Some(SourceRecord {
            record: Record {
                owner,
                class: self.class,
                ttl,
                data,
            },
            source: Source {
                file,
                line: owner_pos.line,
                col: owner_pos.col,
            },
        }))
    }

    fn check_class(&self, head: &Head) -> EntryResult<()> {
        match head.class {
            Some((class, pos)) if class != self.class => Err(TextError::new(
                pos,
                format!(
                    "class {class} does not match the zone's class {}",
                    self.class
                ),
            )),
            _ => Ok(()),
        }
    }

    /// The TTL of a record: explicit, else `$TTL` (or the SOA minimum standing in for
    /// it), else the previous explicit TTL (RFC 1035 §5.1), else for an SOA its minimum
    /// (RFC 2308 §4), as BIND decides.
    fn resolve_ttl(
        &mut self,
        explicit: Option<(u32, Pos)>,
        data: &RData,
        pos: Pos,
    ) -> EntryResult<u32> {
        let ttl = match explicit {
            Some((ttl, ttl_pos)) => {
                let ttl = self.clamp_ttl(ttl, ttl_pos);
                self.ttl.last = Some(ttl);
                ttl
            }
            None => match (self.ttl.default, self.ttl.last, data) {
                (Some(d), _, _) => d,
                (None, Some(last), _) => {
                    if !self.ttl.warned_1035 {
                        self.ttl.warned_1035 = true;
                        self.warn(pos, "using RFC1035 TTL semantics".to_owned());
                    }
                    last
                }
                (None, None, RData::Soa(soa)) => {
                    self.warn(pos, "no TTL specified; using SOA MINTTL instead".to_owned());
                    let ttl = self.clamp_ttl(soa.minimum, pos);
                    self.ttl.default = Some(ttl);
                    ttl
                }
                (None, None, _) => {
                    return Err(TextError::new(
                        pos,
                        "no TTL specified: give one, or a $TTL before this record",
                    ));
                }
            },
        };
        Ok(ttl)
    }

    fn clamp_ttl(&mut self, ttl: u32, pos: Pos) -> u32 {
        if ttl > MAX_TTL {
            self.warn(
                pos,
                format!("TTL {ttl} > MAXTTL, setting TTL to 0 (RFC 2181 §8)"),
            );
            0
        } else {
            ttl
        }
    }

    fn directive(&mut self, file: u32) -> EntryResult<Option<SourceRecord>> {
        let lexer = &self.lexer;
        let mut f = lexer.fields(0, Some(&self.origin));
        let d = f.word("directive")?;
        if d.text.eq_ignore_ascii_case(b"$ORIGIN") {
            let origin = f.name("origin")?;
            f.finish()?;
            self.origin = origin;
        } else if d.text.eq_ignore_ascii_case(b"$TTL") {
            let t = f.word("TTL")?;
            let ttl = parse_ttl_token(&t)?;
            f.finish()?;
            let ttl = self.clamp_ttl(ttl, t.pos);
            self.ttl.default = Some(ttl);
        } else if d.text.eq_ignore_ascii_case(b"$INCLUDE") {
            let path_token = f.token("file name")?;
            let path = path_token.unescaped()?;
            let pos = path_token.pos;
            let origin = if f.is_empty() {
                None
            } else {
                Some(f.name("origin")?)
            };
            f.finish()?;
            self.include(file, pos, &path, origin)?;
        } else if d.text.eq_ignore_ascii_case(b"$GENERATE") {
            self.start_generate(file)?;
        } else {
            return Err(d.error(format!(
                "unknown directive '{}': expected $ORIGIN, $TTL, $INCLUDE or $GENERATE",
                d.lossy()
            )));
        }
        Ok(None)
    }

    fn include(
        &mut self,
        file: u32,
        pos: Pos,
        path: &[u8],
        origin: Option<Name>,
    ) -> EntryResult<()> {
        let path = String::from_utf8_lossy(path);
        let from = self.file_arc(file);
        let resolved = self.includes.resolve(&path, &from);
        if self.frames.len() >= MAX_INCLUDE_DEPTH {
            return Err(TextError::new(
                pos,
                format!("$INCLUDE nested more than {MAX_INCLUDE_DEPTH} levels deep"),
            ));
        }
        let open_files = std::iter::once(0).chain(self.frames.iter().map(|f| f.file));
        if open_files
            .filter_map(|i| self.files.get(usize::try_from(i).ok()?))
            .any(|f| **f == *resolved)
        {
            return Err(TextError::new(
                pos,
                format!("$INCLUDE loop: '{resolved}' is already being read"),
            ));
        }
        let input = self
            .includes
            .open(&resolved)
            .map_err(|e| TextError::new(pos, format!("cannot open '{resolved}': {e}")))?;
        let index = u32::try_from(self.files.len()).unwrap_or(u32::MAX);
        self.files.push(Arc::from(resolved));
        let saved = Some((self.origin.clone(), self.owner.clone()));
        if let Some(origin) = origin {
            self.origin = origin;
        }
        self.frames.push(Frame {
            input,
            file: index,
            line: 0,
            saved,
        });
        Ok(())
    }

    /// `$GENERATE range lhs [ttl] [class] type rhs`.
    fn start_generate(&mut self, file: u32) -> EntryResult<()> {
        let lexer = &self.lexer;
        let mut f = lexer.fields(1, Some(&self.origin));
        let range = Range::parse(&f.word("$GENERATE range")?)?;
        let lhs_token = f.token("$GENERATE owner template")?;
        let lhs = Template::parse(&lhs_token)?;
        let head = ttl_class_type(lexer, 3)?;
        self.check_class(&head)?;
        let mut f = lexer.fields(head.next, Some(&self.origin));
        let rhs_token = f.token("$GENERATE data template")?;
        let rhs = Template::parse(&rhs_token)?;
        f.finish()?;
        let (lhs_pos, rhs_pos) = (lhs_token.pos, rhs_token.pos);
        let ttl = match head.ttl {
            Some((ttl, pos)) => {
                let ttl = self.clamp_ttl(ttl, pos);
                self.ttl.last = Some(ttl);
                ttl
            }
            None => self
                .ttl
                .default
                .or(self.ttl.last)
                .ok_or_else(|| TextError::new(lhs_pos, "no TTL specified for $GENERATE"))?,
        };
        self.generate = Some(Generate {
            range,
            next: Some(range.start),
            lhs,
            rhs,
            rtype: head.rtype,
            ttl,
            origin: self.origin.clone(),
            source: Source {
                file,
                line: lhs_pos.line,
                col: lhs_pos.col,
            },
            rhs_pos,
        });
        Ok(())
    }

    /// The next record of the running `$GENERATE`. An error ends the `$GENERATE`.
    fn next_generated(&mut self) -> Step {
        let Some(g) = self.generate.as_mut() else {
            return Step::Nothing;
        };
        let Some(value) = g.next else {
            self.generate = None;
            return Step::Nothing;
        };
        g.next = value
            .checked_add(g.range.step)
            .filter(|v| *v <= g.range.stop);
        let source = g.source;
        let result = expand_one(g, value, &mut self.gen_buf, &mut self.gen_lexer);
        let class = self.class;
        match result {
            Ok(record_parts) => {
                let (owner, data, ttl) = record_parts;
                if !owner.is_subdomain_of(&self.zone_origin) {
                    let pos = Pos {
                        line: source.line,
                        col: source.col,
                    };
                    self.warn(pos, format!("ignoring out-of-zone data ({owner})"));
                    return Step::Nothing;
                }
                Step::Record(SourceRecord {
                    record: Record {
                        owner,
                        class,
                        ttl,
                        data,
                    },
                    source,
                })
            }
            Err(e) => {
                self.generate = None;
                Step::Error(self.diagnostic(source.file, e.pos, Severity::Error, e.message))
            }
        }
    }
}

/// Expands one `$GENERATE` value into owner, data and TTL.
fn expand_one(
    g: &Generate,
    value: u32,
    buf: &mut Vec<u8>,
    lexer: &mut EntryLexer,
) -> EntryResult<(Name, RData, u32)> {
    let lhs_pos = Pos {
        line: g.source.line,
        col: g.source.col,
    };
    g.lhs
        .expand(value, buf)
        .map_err(|e| TextError::new(lhs_pos, e))?;
    let owner = Name::parse_relative(buf, Some(&g.origin)).map_err(|e| {
        TextError::new(
            lhs_pos,
            format!(
                "$GENERATE owner '{}' for {value}: {e}",
                String::from_utf8_lossy(buf)
            ),
        )
    })?;
    g.rhs
        .expand(value, buf)
        .map_err(|e| TextError::new(g.rhs_pos, e))?;
    lexer.clear();
    let in_rhs = |e: TextError| {
        TextError::new(
            g.rhs_pos,
            format!("$GENERATE data for {value}: {}", e.message),
        )
    };
    let complete = lexer.feed_line(buf, g.rhs_pos.line).map_err(in_rhs)?;
    if !complete {
        return Err(TextError::new(
            g.rhs_pos,
            "unbalanced '(' in $GENERATE data",
        ));
    }
    let mut f = lexer.fields(0, Some(&g.origin));
    let data = RData::parse_text(g.rtype, &mut f).map_err(in_rhs)?;
    f.finish().map_err(in_rhs)?;
    Ok((owner, data, g.ttl))
}

impl Iterator for ZoneReader<'_> {
    type Item = Result<SourceRecord, Diagnostic>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            match self.step() {
                Step::Record(r) => return Some(Ok(r)),
                Step::Nothing => {}
                Step::End => {
                    self.done = true;
                    return None;
                }
                Step::Error(mut d) => {
                    self.errors += 1;
                    if self.errors >= self.max_errors {
                        self.done = true;
                        d.message
                            .push_str(&format!(" (stopping after {} errors)", self.max_errors));
                    }
                    return Some(Err(d));
                }
            }
        }
    }
}

/// The optional TTL and class and the type that start a record, in either order.
struct Head {
    ttl: Option<(u32, Pos)>,
    class: Option<(Class, Pos)>,
    rtype: Rtype,
    /// Index of the first record data token.
    next: usize,
}

fn ttl_class_type(lexer: &EntryLexer, mut i: usize) -> EntryResult<Head> {
    let mut ttl = None;
    let mut class = None;
    loop {
        let expected = match (ttl.is_some(), class.is_some()) {
            (false, false) => "TTL, class or type",
            (true, false) => "class or type",
            (false, true) => "TTL or type",
            (true, true) => "type",
        };
        let Some(t) = lexer.token(i) else {
            return Err(TextError::new(
                lexer.end_pos(),
                format!("expected {expected}"),
            ));
        };
        i += 1;
        if !t.quoted {
            let starts_digit = t.text.first().is_some_and(u8::is_ascii_digit);
            if ttl.is_none() && starts_digit {
                ttl = Some((parse_ttl_token(&t)?, t.pos));
                continue;
            }
            if class.is_none()
                && let Some(c) = Class::from_mnemonic(t.text)
            {
                class = Some((c, t.pos));
                continue;
            }
            if let Some(rtype) = Rtype::from_mnemonic(t.text) {
                if rtype.is_meta() {
                    return Err(t.error(format!("type {rtype} cannot appear in zone data")));
                }
                return Ok(Head {
                    ttl,
                    class,
                    rtype,
                    next: i,
                });
            }
        }
        return Err(t.error(format!("expected {expected}, found '{}'", t.lossy())));
    }
}

fn parse_ttl_token(t: &Token<'_>) -> EntryResult<u32> {
    text::parse_ttl(t.text).ok_or_else(|| {
        t.error(format!(
            "expected TTL (seconds or units like 1h30m), found '{}'",
            t.lossy()
        ))
    })
}

fn parse_name(t: &Token<'_>, what: &str, origin: &Name) -> EntryResult<Name> {
    if t.quoted {
        return Err(t.error(format!("expected {what}, found a quoted string")));
    }
    Name::parse_relative(t.text, Some(origin)).map_err(|e| text::name_error(t, what, e))
}
