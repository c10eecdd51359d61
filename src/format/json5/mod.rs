//! A JSON5 reader faithful to the `json5` npm library (2.2.3), the parser OpenClaw loads
//! `openclaw.json` with: the same set of accepted texts, the same values, and the same error
//! positions and messages (`invalid character 'x' at 3:7`).
//!
//! It is the one reader of JSON5 text: the editor (`json_edit`) splices on its spans, the
//! read-only commands and the diff use its values, and redaction reads with its tolerant
//! mode ([`tolerant`]), which never fails. It is differentially tested against the real
//! library (`tests/formats/json5_differential.rs`).
//!
//! What json5 does, and so what this does:
//! - whitespace: TAB VT FF SP NBSP BOM (anywhere, not only at the start) LF CR U+2028
//!   U+2029 and every Space_Separator; `//` comments end at LF, CR, U+2028 or U+2029;
//! - strings: single or double quoted; a raw LF or CR is an error, raw U+2028/U+2029 and
//!   other control characters are not; escapes `\b \f \n \r \t \v \0 \xHH \uHHHH`, a line
//!   continuation (backslash + LF, CR, CRLF, U+2028 or U+2029), `\1`–`\9` and `\0` before a
//!   digit are errors, any other escaped character stands for itself (`\a` is `a`); `\u`
//!   escapes may leave unpaired surrogates ([`JsString`] keeps them);
//! - numbers: `+`/`-` signs, leading or trailing decimal point, hex, `Infinity`, `NaN`, all
//!   as JavaScript doubles (`-0` stays negative zero);
//! - keys: strings or ECMAScript identifiers (Unicode ID_Start/ID_Continue as of the
//!   library's tables, `\uHHHH` escapes allowed); duplicates: the last value wins, in the
//!   first one's place; `__proto__` is an ordinary key;
//! - any value at the top level; empty input is an error.
//!
//! One deliberate difference: nesting deeper than [`MAX_DEPTH`] is refused (json5 has no
//! limit), so that no caller's recursion can overflow the stack. The parser itself is
//! iterative.

mod diff;
mod doc;
pub mod tolerant;
#[rustfmt::skip]
mod unicode;
mod value;

pub use diff::{Difference, Step, diff, differences, pointer};
pub use doc::{Counts, Document, Entry, Kind, Node};
pub use value::{JsString, Object, Value, js_number, same_number};

/// Whether a JSON5 text may hold `word` in a key or a string. A plain search is sound only
/// where no escape could spell it (`\u0024include` is `$include`), so any backslash counts
/// as maybe.
pub fn may_hold(text: &str, word: &str) -> bool {
    text.contains(word) || text.contains('\\')
}

use std::fmt;
use std::ops::Range;

/// Deeper nesting is refused (the same limit as the editor's scanner).
pub const MAX_DEPTH: usize = 512;

/// Why json5 rejects a text, and where: `line` and `column` exactly as json5 reports them
/// (lines count LF only; columns count UTF-16 code units, starting at 1; a rejected LF is
/// reported at column 0 of the next line, as json5 does).
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub kind: ErrorKind,
    pub line: usize,
    pub column: usize,
    /// Byte offset of the offending character in the text.
    pub offset: usize,
    /// What json5's message leaves out and a person needs, such as where an unclosed
    /// string or comment began (not part of json5's message, `Display`).
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    InvalidChar(char),
    InvalidEnd,
    InvalidIdentifier,
    TooDeep,
}

impl SyntaxError {
    /// [`SyntaxError::reason`] with the note, for people.
    pub fn explain(&self) -> String {
        match &self.note {
            Some(n) => format!("{} ({n})", self.reason()),
            None => self.reason(),
        }
    }

    /// What is wrong, without the position: `invalid character '\n'`.
    pub fn reason(&self) -> String {
        match &self.kind {
            ErrorKind::InvalidChar(c) => format!("invalid character '{}'", format_char(*c)),
            ErrorKind::InvalidEnd => "invalid end of input".into(),
            ErrorKind::InvalidIdentifier => "invalid identifier character".into(),
            ErrorKind::TooDeep => format!("nested more than {MAX_DEPTH} levels deep"),
        }
    }
}

/// json5's own message: `JSON5: invalid character 'x' at 1:2`.
impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "JSON5: {} at {}:{}",
            self.reason(),
            self.line,
            self.column
        )
    }
}

impl std::error::Error for SyntaxError {}

/// json5's `formatChar`: how a character is quoted in a message.
fn format_char(c: char) -> String {
    match c {
        '\'' => "\\'".into(),
        '"' => "\\\"".into(),
        '\\' => "\\\\".into(),
        '\u{8}' => "\\b".into(),
        '\u{c}' => "\\f".into(),
        '\n' => "\\n".into(),
        '\r' => "\\r".into(),
        '\t' => "\\t".into(),
        '\u{b}' => "\\v".into(),
        '\0' => "\\0".into(),
        '\u{2028}' => "\\u2028".into(),
        '\u{2029}' => "\\u2029".into(),
        c if (c as u32) < 0x20 => format!("\\x{:02x}", c as u32),
        c => c.to_string(),
    }
}

/// Whether `text` is nothing but json5 whitespace (no comments): the one kind of text
/// json5 rejects that the editor takes as an empty document (a missing or emptied file).
pub fn is_blank(text: &str) -> bool {
    text.chars().all(is_space)
}

/// json5's whitespace.
fn is_space(c: char) -> bool {
    if c.is_ascii() {
        ascii_is(c as u8, SPACE_B)
    } else {
        is_unicode_space(c)
    }
}

/// `JSON5.parse(text)`.
pub fn parse(text: &str) -> Result<Value, SyntaxError> {
    Ok(Document::parse(text, None)?
        .root
        .to_value()
        .unwrap_or(Value::Null))
}

/// Checks all of `text` exactly as [`parse`] does, but builds only the parts on `keep`'s
/// paths (see [`Document::parse`]); `None` when the top level is dropped (no keep paths).
pub fn parse_projected(text: &str, keep: &[&[&str]]) -> Result<Option<Value>, SyntaxError> {
    Ok(Document::parse(text, Some(keep))?.root.to_value())
}

/// The part of `v` that [`parse_projected`] would have built for `keep`.
pub fn project(v: &Value, keep: &[&[&str]]) -> Option<Value> {
    fn go(v: &Value, keep: &[&[&str]], path: &mut Vec<String>) -> Value {
        let Value::Object(o) = v else {
            return v.clone();
        };
        let mut out = Object::new();
        for (k, child) in o.iter() {
            let Some(key) = k.as_str() else { continue };
            match status(keep, path, key) {
                Mode::Skip => {}
                Mode::Full => out.insert(k.clone(), child.clone()),
                Mode::OnPath => {
                    path.push(key.to_owned());
                    out.insert(k.clone(), go(child, keep, path));
                    path.pop();
                }
            }
        }
        Value::Object(out)
    }
    match root_mode(Some(keep)) {
        Mode::Skip => None,
        Mode::Full => Some(v.clone()),
        Mode::OnPath => Some(go(v, keep, &mut Vec::new())),
    }
}

impl Document {
    /// Reads `text` as [`parse`] does, keeping every node's span. With `keep`, only the
    /// values on its paths are built: an object on the way to a keep path lists all its
    /// members, those off the way as [`Kind::Skipped`] (checked, not built); the value at a
    /// keep path, and an array or scalar met on the way, are whole. A keep path of no keys
    /// keeps everything.
    pub fn parse(text: &str, keep: Option<&[&[&str]]>) -> Result<Document, SyntaxError> {
        let mut p = Parser::new(text, keep);
        let root = p.run().map_err(|e| *e)?;
        Ok(Document {
            root,
            counts: p.counts,
            hidden: p.hidden,
        })
    }
}

/// What to build of a value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Build it whole.
    Full,
    /// Validate only.
    Skip,
    /// An object on the way to a keep path: build the members on the way.
    OnPath,
}

fn root_mode(keep: Option<&[&[&str]]>) -> Mode {
    match keep {
        None => Mode::Full,
        Some(k) if k.iter().any(|p| p.is_empty()) => Mode::Full,
        Some([]) => Mode::Skip,
        Some(_) => Mode::OnPath,
    }
}

/// The mode of member `key` of the on-path object at `path`.
fn status(keep: &[&[&str]], path: &[String], key: &str) -> Mode {
    let n = path.len();
    let mut mode = Mode::Skip;
    for k in keep {
        if k.len() > n && k[n] == key && k[..n].iter().zip(path).all(|(a, b)| *a == b) {
            if k.len() == n + 1 {
                return Mode::Full;
            }
            mode = Mode::OnPath;
        }
    }
    mode
}

const ID_START_B: u8 = 1;
const ID_CONT_B: u8 = 2;
const SPACE_B: u8 = 4;

/// json5's classes of the ASCII bytes, for the hot loops.
static ASCII: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        if b.is_ascii_alphabetic() || b == b'$' || b == b'_' {
            t[c] = ID_START_B | ID_CONT_B;
        } else if b.is_ascii_digit() {
            t[c] = ID_CONT_B;
        } else if matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            t[c] = SPACE_B;
        }
        c += 1;
    }
    t
};

fn ascii_is(b: u8, class: u8) -> bool {
    b < 0x80 && ASCII[b as usize] & class != 0
}

/// Whether `cp` is in one of `table`'s ranges (sorted, disjoint, ends included).
fn in_table(table: &[(u32, u32)], cp: u32) -> bool {
    let i = table.partition_point(|&(_, hi)| hi < cp);
    table.get(i).is_some_and(|&(lo, _)| lo <= cp)
}

/// Whether `cp` may start (`first`) or continue an identifier.
fn is_id(cp: u32, first: bool) -> bool {
    match (cp < 0x80, first) {
        (true, true) => ascii_is(cp as u8, ID_START_B),
        (true, false) => ascii_is(cp as u8, ID_CONT_B),
        (false, true) => in_table(&unicode::ID_START, cp),
        (false, false) => in_table(&unicode::ID_CONTINUE, cp),
    }
}

/// json5's whitespace outside ASCII.
fn is_unicode_space(c: char) -> bool {
    matches!(c, '\u{a0}' | '\u{feff}' | '\u{2028}' | '\u{2029}')
        || in_table(&unicode::SPACE_SEPARATOR, c as u32)
}

/// A string being decoded: UTF-8 until an escape yields a surrogate, UTF-16 from then on.
#[derive(Default)]
struct StrBuf {
    s: String,
    units: Option<Vec<u16>>,
}

impl StrBuf {
    fn push_str(&mut self, t: &str) {
        match &mut self.units {
            None => self.s.push_str(t),
            Some(u) => u.extend(t.encode_utf16()),
        }
    }

    fn push_char(&mut self, c: char) {
        self.push_str(c.encode_utf8(&mut [0; 4]));
    }

    fn push_unit(&mut self, unit: u16) {
        match char::from_u32(u32::from(unit)) {
            Some(c) if self.units.is_none() => self.s.push(c),
            _ => {
                let u = self
                    .units
                    .get_or_insert_with(|| self.s.encode_utf16().collect());
                u.push(unit);
            }
        }
    }

    fn finish(self) -> JsString {
        match self.units {
            None => JsString::from(self.s),
            Some(u) => JsString::from_units(u),
        }
    }
}

/// An object or array being built.
struct Frame {
    object: bool,
    start: usize,
    items: Vec<Entry>,
    mode: Mode,
    /// Keys of the on-path objects down to this one.
    path: Vec<String>,
    /// The member being read: its key, the key's span and where its `:` is.
    key: Option<((JsString, Range<usize>), usize)>,
}

enum State {
    /// A value starts here (whitespace not yet skipped).
    Value(Mode),
    /// A value ended.
    After(Node),
    BeforeKey,
    BeforeElement,
}

/// Where [`Parser::skip_container`] is.
#[derive(Clone, Copy)]
enum Skip {
    Value,
    BeforeKey,
    BeforeElement,
    After,
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    keep: Option<&'a [&'a [&'a str]]>,
    counts: Counts,
    hidden: Vec<usize>,
}

/// Boxed inside the parser: a small `Result` keeps the hot paths cheap.
type R<T> = Result<T, Box<SyntaxError>>;

impl<'a> Parser<'a> {
    fn new(s: &'a str, keep: Option<&'a [&'a [&'a str]]>) -> Self {
        Parser {
            s,
            b: s.as_bytes(),
            i: 0,
            keep,
            counts: Counts::default(),
            hidden: Vec::new(),
        }
    }

    fn char_at(&self, i: usize) -> Option<char> {
        match self.b.get(i) {
            None => None,
            Some(&b) if b < 0x80 => Some(b as char),
            Some(_) => self.s[i..].chars().next(),
        }
    }

    /// The error for the character at `at` (or the end of input), positioned as json5
    /// positions it: just after reading that character.
    #[cold]
    fn error_at(&self, at: usize, kind: Option<ErrorKind>) -> Box<SyntaxError> {
        let ch = self.char_at(at);
        let kind = kind.unwrap_or(match ch {
            Some(c) => ErrorKind::InvalidChar(c),
            None => ErrorKind::InvalidEnd,
        });
        let (mut line, mut column) = self.position(at);
        if ch == Some('\n') {
            (line, column) = (line + 1, 0);
        } else {
            column += ch.map_or(1, char::len_utf16) - 1;
        }
        if kind == ErrorKind::InvalidIdentifier {
            column -= 5;
        }
        Box::new(SyntaxError {
            kind,
            line,
            column,
            offset: at,
            note: None,
        })
    }

    /// json5's line and column of the character at `at` (before reading it).
    fn position(&self, at: usize) -> (usize, usize) {
        let before = &self.s[..at];
        let line = 1 + before.bytes().filter(|&b| b == b'\n').count();
        let line_start = before.rfind('\n').map_or(0, |p| p + 1);
        (line, before[line_start..].encode_utf16().count() + 1)
    }

    /// An error that says where the unclosed construct at `opened` began.
    #[cold]
    fn unclosed(&self, what: &str, opened: usize) -> Box<SyntaxError> {
        let mut e = self.invalid();
        let (line, column) = self.position(opened);
        e.note = Some(format!("{what} opened at {line}:{column} is not closed"));
        e
    }

    #[cold]
    fn invalid(&self) -> Box<SyntaxError> {
        self.error_at(self.i, None)
    }

    /// Skips whitespace and comments. This and [`Parser::skip_container`] are the hot loop
    /// of checking a large config, hence the byte-level fast paths.
    #[inline]
    fn skip_ws(&mut self) -> R<()> {
        // Most calls find a token right away, or after one space.
        let mut i = self.i;
        if self.b.get(i) == Some(&b' ') {
            i += 1;
        }
        match self.b.get(i) {
            Some(&c) if c < 0x80 && c != b'/' && !ascii_is(c, SPACE_B) => {
                self.i = i;
                Ok(())
            }
            _ => self.skip_ws_slow(),
        }
    }

    fn skip_ws_slow(&mut self) -> R<()> {
        let b = self.b;
        let mut i = self.i;
        loop {
            while b.get(i).is_some_and(|&c| ascii_is(c, SPACE_B)) {
                i += 1;
            }
            match b.get(i) {
                Some(b'/') => match b.get(i + 1) {
                    Some(b'/') => {
                        i = line_comment_end(b, i + 2);
                        // A U+2028 or U+2029 ended it: json5 reads on where a person
                        // (and most editors) see the comment go on.
                        if b[i - 1] & 0xfe == 0xa8 && b[i - 2] == 0x80 && b[i - 3] == 0xe2 {
                            self.hidden.push(i - 3);
                        }
                    }
                    Some(b'*') => match self.s[i + 2..].find("*/") {
                        Some(p) => i += 2 + p + 2,
                        None => {
                            self.i = b.len();
                            return Err(self.unclosed("the /* comment", i));
                        }
                    },
                    _ => {
                        self.i = i + 1;
                        return Err(self.invalid());
                    }
                },
                Some(&c) if c >= 0x80 => {
                    let ch = self.char_at(i).expect("in bounds");
                    if !is_unicode_space(ch) {
                        break;
                    }
                    i += ch.len_utf8();
                }
                _ => break,
            }
        }
        self.i = i;
        Ok(())
    }

    fn run(&mut self) -> R<Node> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut state = State::Value(root_mode(self.keep));
        loop {
            state = match state {
                State::Value(mode) => {
                    self.skip_ws()?;
                    let start = self.i;
                    match self.b.get(self.i) {
                        Some(b'{' | b'[') if mode == Mode::Skip => {
                            self.skip_container(stack.len())?;
                            State::After(Node {
                                span: start..self.i,
                                kind: Kind::Skipped,
                            })
                        }
                        Some(b'{' | b'[') => self.open(&mut stack, mode)?,
                        Some(_) => {
                            let v = self.scalar(mode != Mode::Skip)?;
                            State::After(Node {
                                span: start..self.i,
                                kind: v.map_or(Kind::Skipped, Kind::Scalar),
                            })
                        }
                        None => return Err(self.invalid()),
                    }
                }
                State::BeforeElement => {
                    self.skip_ws()?;
                    match self.b.get(self.i) {
                        Some(b']') => self.close(&mut stack),
                        None => return Err(self.invalid()),
                        Some(_) => State::Value(
                            stack.last().expect("elements are read inside arrays").mode,
                        ),
                    }
                }
                State::BeforeKey => self.before_key(&mut stack)?,
                State::After(node) => {
                    let Some(top) = stack.last_mut() else {
                        self.skip_ws()?;
                        if self.i < self.b.len() {
                            return Err(self.invalid());
                        }
                        return Ok(node);
                    };
                    let (key, colon) = top.key.take().unzip();
                    top.items.push(Entry {
                        key,
                        colon: colon.unwrap_or(0),
                        value: node,
                        comma: None,
                    });
                    let close = if top.object { b'}' } else { b']' };
                    self.skip_ws()?;
                    match self.b.get(self.i) {
                        Some(b',') => {
                            top.items.last_mut().expect("just pushed").comma = Some(self.i);
                            self.i += 1;
                            if top.object {
                                State::BeforeKey
                            } else {
                                State::BeforeElement
                            }
                        }
                        Some(&c) if c == close => self.close(&mut stack),
                        _ => return Err(self.invalid()),
                    }
                }
            };
        }
    }

    /// An object or array that is built (on a keep path, or everything is kept).
    fn open(&mut self, stack: &mut Vec<Frame>, mode: Mode) -> R<State> {
        if stack.len() >= MAX_DEPTH {
            return Err(self.error_at(self.i, Some(ErrorKind::TooDeep)));
        }
        let object = self.b[self.i] == b'{';
        let mut path = Vec::new();
        if let Some(Frame {
            path: p,
            key: Some(((k, _), _)),
            mode: Mode::OnPath,
            ..
        }) = stack.last()
            && mode == Mode::OnPath
        {
            path = p.clone();
            path.push(k.to_lossy());
        }
        // An array on the way to a keep path is built whole.
        let mode = if !object && mode == Mode::OnPath {
            Mode::Full
        } else {
            mode
        };
        stack.push(Frame {
            object,
            start: self.i,
            items: Vec::new(),
            mode,
            path,
            key: None,
        });
        self.i += 1;
        Ok(if object {
            State::BeforeKey
        } else {
            State::BeforeElement
        })
    }

    fn close(&mut self, stack: &mut Vec<Frame>) -> State {
        self.i += 1;
        let f = stack.pop().expect("a container is open");
        let kind = if f.object {
            Kind::Object(f.items)
        } else {
            Kind::Array(f.items)
        };
        State::After(Node {
            span: f.start..self.i,
            kind,
        })
    }

    fn before_key(&mut self, stack: &mut Vec<Frame>) -> R<State> {
        self.skip_ws()?;
        if self.b.get(self.i) == Some(&b'}') {
            return Ok(self.close(stack));
        }
        let top = stack.last_mut().expect("keys are read inside objects");
        let start = self.i;
        let name = self.key(true)?.expect("built");
        let span = start..self.i;
        let child = match (top.mode, name.as_str()) {
            (Mode::OnPath, Some(s)) => status(self.keep.unwrap_or(&[]), &top.path, s),
            (Mode::OnPath, None) => Mode::Skip,
            (m, _) => m,
        };
        self.skip_ws()?;
        if self.b.get(self.i) != Some(&b':') {
            return Err(self.invalid());
        }
        top.key = Some(((name, span), self.i));
        self.i += 1;
        Ok(State::Value(child))
    }

    /// Checks the object or array starting here, building nothing: the same grammar and
    /// errors as [`Parser::run`], without its values, for the bulk of a large config that
    /// nobody reads. `depth` containers are already open around it.
    fn skip_container(&mut self, depth: usize) -> R<()> {
        // The closing bracket of each open container.
        let mut open: Vec<u8> = Vec::new();
        let mut st = Skip::Value;
        loop {
            let Some(&close) = open.last() else {
                if let Skip::After = st {
                    return Ok(());
                }
                st = self.skip_value(&mut open, depth)?;
                continue;
            };
            self.skip_ws()?;
            let c = self.b.get(self.i).copied();
            st = match st {
                Skip::Value => self.skip_value(&mut open, depth)?,
                Skip::BeforeElement | Skip::BeforeKey | Skip::After if c == Some(close) => {
                    self.i += 1;
                    open.pop();
                    Skip::After
                }
                Skip::BeforeElement if c.is_some() => Skip::Value,
                Skip::BeforeKey => {
                    self.key(false)?;
                    self.skip_ws()?;
                    if self.b.get(self.i) != Some(&b':') {
                        return Err(self.invalid());
                    }
                    self.i += 1;
                    Skip::Value
                }
                Skip::After if c == Some(b',') => {
                    self.i += 1;
                    if close == b']' {
                        Skip::BeforeElement
                    } else {
                        Skip::BeforeKey
                    }
                }
                Skip::BeforeElement | Skip::After => return Err(self.invalid()),
            };
        }
    }

    /// A value inside a skipped container: a scalar checked, or a container opened.
    #[inline]
    fn skip_value(&mut self, open: &mut Vec<u8>, depth: usize) -> R<Skip> {
        self.skip_ws()?;
        match self.b.get(self.i) {
            Some(&c @ (b'{' | b'[')) => {
                if depth + open.len() >= MAX_DEPTH {
                    return Err(self.error_at(self.i, Some(ErrorKind::TooDeep)));
                }
                self.i += 1;
                open.push(if c == b'{' { b'}' } else { b']' });
                Ok(if c == b'{' {
                    Skip::BeforeKey
                } else {
                    Skip::BeforeElement
                })
            }
            Some(_) => {
                self.scalar(false)?;
                Ok(Skip::After)
            }
            None => Err(self.invalid()),
        }
    }

    /// A property name: a string or an identifier.
    fn key(&mut self, build: bool) -> R<Option<JsString>> {
        match self.b.get(self.i) {
            Some(&q @ (b'"' | b'\'')) => {
                self.counts.quoted_keys += 1;
                self.i += 1;
                self.string(q, build)
            }
            _ => {
                self.counts.word_keys += 1;
                self.identifier(build)
            }
        }
    }

    fn identifier(&mut self, build: bool) -> R<Option<JsString>> {
        let mut buf = String::new();
        let mut first = true;
        loop {
            // Runs of ASCII identifier characters, the usual case, byte by byte.
            let run = self.i;
            let class = if first { ID_START_B } else { ID_CONT_B };
            if self.b.get(run).is_some_and(|&c| ascii_is(c, class)) {
                first = false;
                let rest = &self.b[run + 1..];
                let n = rest
                    .iter()
                    .position(|&c| !ascii_is(c, ID_CONT_B))
                    .unwrap_or(rest.len());
                self.i = run + 1 + n;
            }
            if build && self.i > run {
                buf.push_str(&self.s[run..self.i]);
            }
            let Some(c) = self.char_at(self.i) else {
                if first {
                    return Err(self.invalid());
                }
                break;
            };
            let c = if c == '\\' {
                self.i += 1;
                if self.b.get(self.i) != Some(&b'u') {
                    return Err(self.invalid());
                }
                self.i += 1;
                let unit = self.hex_digits(4)?;
                if !is_id(unit, first) {
                    return Err(self.error_at(self.i - 1, Some(ErrorKind::InvalidIdentifier)));
                }
                char::from_u32(unit).expect("tables hold no surrogates")
            } else if is_id(c as u32, first) {
                self.i += c.len_utf8();
                c
            } else if first {
                return Err(self.invalid());
            } else {
                break;
            };
            if build {
                buf.push(c);
            }
            first = false;
        }
        Ok(build.then(|| JsString::from(buf)))
    }

    /// `n` hex digits (`\xHH`, `\uHHHH`), as a number.
    fn hex_digits(&mut self, n: usize) -> R<u32> {
        let mut v = 0;
        for _ in 0..n {
            match self.b.get(self.i).and_then(|&b| (b as char).to_digit(16)) {
                Some(d) => v = v * 16 + d,
                None => return Err(self.invalid()),
            }
            self.i += 1;
        }
        Ok(v)
    }

    /// The rest of a string after its opening quote `q`.
    fn string(&mut self, q: u8, build: bool) -> R<Option<JsString>> {
        let opened = self.i - 1;
        if q == b'\'' {
            self.counts.single += 1;
        } else {
            self.counts.double += 1;
        }
        let mut buf = StrBuf::default();
        loop {
            let start = self.i;
            // Runs of ordinary bytes: only the quote, a backslash, LF and CR matter (every
            // other character, U+2028 and control characters included, is taken as is).
            let rest = &self.b[start..];
            let n = rest
                .iter()
                .position(|&b| b == q || b == b'\\' || b == b'\n' || b == b'\r')
                .unwrap_or(rest.len());
            if build && n > 0 {
                buf.push_str(&self.s[start..start + n]);
            }
            self.i += n;
            match self.b.get(self.i) {
                Some(&b) if b == q => {
                    self.i += 1;
                    return Ok(build.then(|| buf.finish()));
                }
                Some(b'\\') => {
                    self.i += 1;
                    self.escape(&mut buf, build)?;
                }
                // A raw line break or the end: the string is not closed on its line.
                _ => return Err(self.unclosed("the string", opened)),
            }
        }
    }

    /// One escape, after its backslash.
    fn escape(&mut self, buf: &mut StrBuf, build: bool) -> R<()> {
        let Some(c) = self.char_at(self.i) else {
            return Err(self.invalid());
        };
        self.i += c.len_utf8();
        let out = match c {
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\u{b}',
            '0' if self.b.get(self.i).is_some_and(u8::is_ascii_digit) => {
                return Err(self.invalid());
            }
            '0' => '\0',
            'x' => char::from_u32(self.hex_digits(2)?).expect("below 0x100"),
            'u' => {
                let v = self.hex_digits(4)?;
                if build {
                    buf.push_unit(v as u16);
                }
                return Ok(());
            }
            // Line continuations.
            '\n' | '\u{2028}' | '\u{2029}' => return Ok(()),
            '\r' => {
                if self.b.get(self.i) == Some(&b'\n') {
                    self.i += 1;
                }
                return Ok(());
            }
            '1'..='9' => return Err(self.error_at(self.i - 1, None)),
            c => c,
        };
        if build {
            buf.push_char(out);
        }
        Ok(())
    }

    /// Expects `word` at the current position (its first character already matched).
    fn literal(&mut self, word: &str) -> R<()> {
        for &w in &word.as_bytes()[1..] {
            self.i += 1;
            if self.b.get(self.i) != Some(&w) {
                return Err(self.invalid());
            }
        }
        self.i += 1;
        Ok(())
    }

    /// A value that is not an object or array (json5's `value` lexer state).
    fn scalar(&mut self, build: bool) -> R<Option<Value>> {
        let v = match self.b[self.i] {
            b'n' => {
                self.literal("null")?;
                Value::Null
            }
            b't' => {
                self.literal("true")?;
                Value::Bool(true)
            }
            b'f' => {
                self.literal("false")?;
                Value::Bool(false)
            }
            q @ (b'"' | b'\'') => {
                self.i += 1;
                return Ok(self.string(q, build)?.map(Value::String));
            }
            b'+' | b'-' => {
                let sign = if self.b[self.i] == b'-' { -1.0 } else { 1.0 };
                self.i += 1;
                match self.b.get(self.i) {
                    Some(b'.' | b'0'..=b'9' | b'I' | b'N') => {
                        Value::Number(sign * self.number(build)?)
                    }
                    _ => return Err(self.invalid()),
                }
            }
            b'.' | b'0'..=b'9' | b'I' | b'N' => Value::Number(self.number(build)?),
            _ => return Err(self.invalid()),
        };
        Ok(build.then_some(v))
    }

    /// Passes the bytes of `class`.
    fn pass(&mut self, class: impl Fn(&u8) -> bool) {
        let rest = &self.b[self.i..];
        self.i += rest.iter().position(|c| !class(c)).unwrap_or(rest.len());
    }

    /// Passes the bytes of `class`, at least one.
    fn pass_some(&mut self, class: impl Fn(&u8) -> bool) -> R<()> {
        if !self.b.get(self.i).is_some_and(&class) {
            return Err(self.invalid());
        }
        self.pass(class);
        Ok(())
    }

    /// An unsigned number, `Infinity` or `NaN`, as JavaScript's `Number()` reads it (its
    /// value only when `build`: a dropped number is only checked).
    fn number(&mut self, build: bool) -> R<f64> {
        let start = self.i;
        match self.b[self.i] {
            b'I' => {
                self.literal("Infinity")?;
                return Ok(f64::INFINITY);
            }
            b'N' => {
                self.literal("NaN")?;
                return Ok(f64::NAN);
            }
            b'.' => {
                self.i += 1;
                self.pass_some(u8::is_ascii_digit)?;
            }
            b'0' => {
                self.i += 1;
                match self.b.get(self.i) {
                    Some(b'x' | b'X') => {
                        self.i += 1;
                        let from = self.i;
                        self.pass_some(u8::is_ascii_hexdigit)?;
                        return Ok(if build {
                            hex_to_f64(&self.b[from..self.i])
                        } else {
                            0.0
                        });
                    }
                    Some(b'.') => {
                        self.i += 1;
                        self.pass(u8::is_ascii_digit);
                    }
                    _ => {}
                }
            }
            _ => {
                self.pass(u8::is_ascii_digit);
                if self.b.get(self.i) == Some(&b'.') {
                    self.i += 1;
                    self.pass(u8::is_ascii_digit);
                }
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            self.pass_some(u8::is_ascii_digit)?;
        }
        if !build {
            return Ok(0.0);
        }
        Ok(self.s[start..self.i]
            .parse::<f64>()
            .expect("a JSON5 decimal literal is a Rust float literal"))
    }
}

/// Where a `//` comment whose text starts at `from` ends: just after its LF, CR, U+2028 or
/// U+2029, or at the end of the input.
fn line_comment_end(b: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(p) = memchr::memchr3(b'\n', b'\r', 0xe2, &b[i..]) {
        i += p;
        if b[i] != 0xe2 {
            return i + 1;
        }
        // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
        if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xa8 | 0xa9)) {
            return i + 3;
        }
        i += 1;
    }
    b.len()
}

/// Hex digits as a double, rounded to nearest, ties to even (as `Number("0x…")`).
fn hex_to_f64(digits: &[u8]) -> f64 {
    let digits = match digits.iter().position(|&d| d != b'0') {
        Some(p) => &digits[p..],
        None => return 0.0,
    };
    let val = |d: u8| u64::from((d as char).to_digit(16).expect("hex digit"));
    if digits.len() <= 16 {
        // `as` rounds to nearest, ties to even.
        return digits.iter().fold(0u64, |a, &d| a * 16 + val(d)) as f64;
    }
    let m = digits[..16].iter().fold(0u64, |a, &d| a * 16 + val(d));
    let sticky_tail = digits[16..].iter().any(|&d| d != b'0');
    let shift = 4 * (digits.len() - 16) as i32;
    let bits = 64 - m.leading_zeros();
    let drop = bits - 53;
    let mut mantissa = m >> drop;
    let rem = m & ((1u64 << drop) - 1);
    let half = 1u64 << (drop - 1);
    if rem > half || (rem == half && (sticky_tail || mantissa & 1 == 1)) {
        mantissa += 1;
    }
    let exp = drop as i32 + shift;
    if exp > 1023 {
        return f64::INFINITY;
    }
    mantissa as f64 * f64::from_bits(((exp + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests;
