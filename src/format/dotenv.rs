//! `.env` read exactly as OpenClaw reads it, with the byte span of every entry, so that the
//! editor (`env_file`) and the diff redactor (`redact`) work on what OpenClaw sees rather
//! than on lines that look like assignments.
//!
//! How OpenClaw 2026.9.6 reads `<root>/.env` (checked in its `dist/`):
//! - `dotenv-global-*.mjs` (`src/infra/dotenv-global-core.ts`): `fs.realpathSync`, then a
//!   regular file of at most 1,048,576 bytes (a larger file is not read at all: no entry of
//!   it is used), passed as a `Buffer` to `parse` of the npm package `dotenv` 17.4.2.
//! - `parse` decodes the buffer as UTF-8 *keeping* a byte order mark, turns `\r\n` and a
//!   lone `\r` into `\n`, and runs one global multi-line JavaScript regex over the text
//!   ([`PATTERN`] is that regex, translated). Every match is an entry: `^\s*(export\s+)?NAME`
//!   then `=` (spaces around it allowed) or `:` plus at least one whitespace, then a value
//!   that is `'…'`, `"…"` or `` `…` `` (which may span lines, and may start on a following
//!   line), else the rest of the line up to `#`. Since JavaScript's `\s` includes U+FEFF, a
//!   BOM is just leading whitespace; since `\s` includes newlines, `NAME=`, `export` or `NAME:`
//!   at a line end can take their value from the next line. Lines that match nothing are
//!   ignored. The value is trimmed, one pair of surrounding quotes removed, and in values that
//!   started with `"` the two-character sequences `\n` and `\r` become a newline and a CR.
//!   No `${}` expansion.
//! - A name that appears twice: the last value wins (`obj[key] = value`), at the position of
//!   the first. OpenClaw then keeps only portable names (`^[A-Za-z_][A-Za-z0-9_]*$`);
//!   `__proto__` never becomes an entry (assigning a string to it is a no-op in JavaScript).
//! - The process environment wins: a variable already set is not overridden, and a `.env` in
//!   the working directory is read before `<root>/.env` (first one wins); neither is a
//!   property of this file, so [`effective`] is what the file contributes.
//!
//! JavaScript's `^`/`$`/`.` also treat U+2028 and U+2029 as line breaks; the regex engine here
//! knows only `\n` and `\r`, so the text it runs on has those two characters replaced by `\r`
//! (which dotenv's own normalisation has already removed, so it is free), and every span is
//! mapped back to the original bytes.

use std::ops::Range;
use std::sync::LazyLock;

use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};

/// OpenClaw's `MAX_DOTENV_FILE_BYTES`: a larger `.env` is ignored as a whole.
/// (`src/infra/dotenv-global-core.ts`, see above). Setup, verify and root discovery all use it.
pub const MAX_BYTES: usize = 1_048_576;
/// [`MAX_BYTES`] as messages write it.
pub const MAX_BYTES_TEXT: &str = "1,048,576";

/// JavaScript's `\s`, which is also what `String.prototype.trim` removes.
const S: &str = r"[\t\n\x0B\x0C\r \xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}]";

/// dotenv 17.4.2's `LINE`:
/// `(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)`
/// with `\s` and `\w` spelled out as JavaScript defines them, `.` as `[^\n\r]`, `^` done by
/// starting an anchored search at each line start, and `$` as a group that takes the line
/// break (or the end), so the match can end where JavaScript's does. On the normalised text
/// (see the module doc) `\r` stands for U+2028/U+2029, which `[^#\r\n]` does match: hence
/// `[^#\n]`. The leftmost-first semantics of `regex-automata` pick the same match and
/// captures as JavaScript's backtracking (there are no backreferences or look-arounds).
static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    let p = format!(
        r#"{S}*(?:export{S}+)?([A-Za-z0-9_.\-]+)({S}*={S}*?|:{S}+?)({S}*'(?:\\'|[^'])*'|{S}*"(?:\\"|[^"])*"|{S}*`(?:\\`|[^`])*`|[^#\n]+)?{S}*(?:#[^\n\r]*)?(\z|[\n\r])"#
    );
    Regex::new(&p).expect("the dotenv pattern compiles")
});

/// One entry as dotenv parses it. Spans are byte offsets into the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// The value as dotenv returns it (trimmed, unquoted, `\n` expanded in `"…"`).
    pub value: String,
    /// Where the entry's own text starts: `export` or the name (after leading whitespace).
    pub start: usize,
    pub name_span: Range<usize>,
    /// The value as written, quotes included, without surrounding whitespace. Empty (at the
    /// end of the separator) when there is no value.
    pub value_span: Range<usize>,
    /// Where dotenv's match ends: after any trailing whitespace and comment, before the line
    /// break.
    pub end: usize,
}

/// JavaScript's `\s` / `trim()` set.
pub fn js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// A line break for JavaScript's `^`, `$` and `.`.
pub fn js_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// A value as written, split into its opening quote, what the quotes hold and its closing
/// quote; a side without a quote is empty (an unquoted value, a quote never closed).
pub fn quotes(raw: &str) -> (&str, &str, &str) {
    match raw.chars().next().filter(|c| matches!(c, '"' | '\'' | '`')) {
        Some(q) if raw.len() >= 2 && raw.ends_with(q) => {
            (&raw[..1], &raw[1..raw.len() - 1], &raw[raw.len() - 1..])
        }
        Some(_) => (&raw[..1], &raw[1..], ""),
        None => ("", raw, ""),
    }
}

/// The text the pattern runs on, and the way back to the original offsets.
struct Normalized {
    text: String,
    /// (offset in `text`, bytes the original has in excess up to and including it).
    shifts: Vec<(usize, usize)>,
}

impl Normalized {
    fn new(orig: &str) -> Normalized {
        let mut text = String::with_capacity(orig.len());
        let mut shifts = Vec::new();
        let mut excess = 0;
        let mut chars = orig.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\r' if chars.peek() == Some(&'\n') => {
                    chars.next();
                    excess += 1;
                    shifts.push((text.len(), excess));
                    text.push('\n');
                }
                '\r' => text.push('\n'),
                '\u{2028}' | '\u{2029}' => {
                    excess += 2;
                    shifts.push((text.len(), excess));
                    text.push('\r');
                }
                c => text.push(c),
            }
        }
        Normalized { text, shifts }
    }

    /// The original offset of a boundary in `text`.
    fn orig(&self, at: usize) -> usize {
        let k = self.shifts.partition_point(|&(p, _)| p < at);
        at + if k == 0 { 0 } else { self.shifts[k - 1].1 }
    }
}

/// Every entry of `text`, in file order (a name may appear more than once).
pub fn parse(text: &str) -> Vec<Entry> {
    let n = Normalized::new(text);
    let t = n.text.as_str();
    let re = &*PATTERN;
    let mut caps = re.create_captures();
    let mut entries = Vec::new();
    // `^`: the search starts at 0 and after every line break, never before `lastIndex`.
    let starts: Vec<usize> = std::iter::once(0)
        .chain(t.match_indices(['\n', '\r']).map(|(i, _)| i + 1))
        .collect();
    let mut k = 0;
    while let Some(&p) = starts.get(k) {
        let blank_end = p + t[p..].len() - t[p..].trim_start_matches(js_space).len();
        // After `\s*` comes `export` or the name: a comment or other line fails right there.
        let may_match = t[blank_end..]
            .starts_with(|c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if may_match {
            re.search_captures(&Input::new(t).range(p..).anchored(Anchored::Yes), &mut caps);
        } else {
            caps.clear();
        }
        let (Some(m), Some(name), Some(sep), Some(stop)) = (
            caps.get_match(),
            caps.get_group(1),
            caps.get_group(2),
            caps.get_group(4),
        ) else {
            // `\s*` took every blank line after `p` and failed after them: every line start
            // among those blanks fails the same way (skipping them keeps a file of blank lines
            // linear, where JavaScript's engine is quadratic).
            k = starts.partition_point(|&s| s <= blank_end).max(k + 1);
            continue;
        };
        let start = m.start() + t[m.start()..].find(|c: char| !js_space(c)).unwrap_or(0);
        let (value_span, raw) = match caps.get_group(3) {
            Some(v) => {
                let raw = &t[v.range()];
                let trimmed = raw.trim_start_matches(js_space);
                let a = v.end - trimmed.len();
                let b = a + trimmed.trim_end_matches(js_space).len();
                (if a < b { a..b } else { v.start..v.start }, v.range())
            }
            None => (sep.end..sep.end, sep.end..sep.end),
        };
        let orig = |r: Range<usize>| n.orig(r.start)..n.orig(r.end);
        entries.push(Entry {
            name: t[name.range()].to_owned(),
            value: decode(&text[orig(raw)]),
            start: n.orig(start),
            name_span: orig(name.range()),
            value_span: orig(value_span),
            end: n.orig(stop.start),
        });
        // JavaScript's `lastIndex`: the next match starts at or after it.
        k = starts.partition_point(|&s| s < stop.start);
    }
    entries
}

/// dotenv's value post-processing, on the value as written (line breaks not yet normalised).
fn decode(raw: &str) -> String {
    let v = raw.replace("\r\n", "\n").replace('\r', "\n");
    let v = v.trim_matches(js_space);
    let double = v.starts_with('"');
    let v = strip_quotes(v);
    if double {
        v.replace("\\n", "\n").replace("\\r", "\r")
    } else {
        v
    }
}

/// `value.replace(/^(['"`])([\s\S]*)\1$/mg, '$2')`: at every line start that holds a quote,
/// the longest stretch up to the same quote at a line end loses the two quotes.
fn strip_quotes(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut copied = 0;
    let mut i = 0;
    while let Some(c) = v[i..].chars().next() {
        let line_start = v[..i].chars().next_back().is_none_or(js_line_break);
        if line_start && matches!(c, '\'' | '"' | '`') {
            let close = v[i + 1..]
                .char_indices()
                .rev()
                .map(|(k, q)| (i + 1 + k, q))
                .find(|&(k, q)| q == c && v[k + 1..].chars().next().is_none_or(js_line_break));
            if let Some((k, _)) = close {
                out.push_str(&v[copied..i]);
                out.push_str(&v[i + 1..k]);
                i = k + 1;
                copied = i;
                continue;
            }
        }
        i += c.len_utf8();
    }
    out.push_str(&v[copied..]);
    out
}

/// What the file gives OpenClaw, in OpenClaw's order: each portable name once, with its last
/// value; `None` when the file is too large to be read at all.
pub fn effective(text: &str) -> Option<Vec<(String, String)>> {
    if text.len() > MAX_BYTES {
        return None;
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for e in parse(text) {
        let portable = e
            .name
            .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && e.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !portable || e.name == "__proto__" {
            continue;
        }
        match out.iter_mut().find(|(k, _)| *k == e.name) {
            Some(slot) => slot.1 = e.value,
            None => out.push((e.name, e.value)),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text).into_iter().map(|e| (e.name, e.value)).collect()
    }

    fn p(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // Each expectation below is what OpenClaw 2026.9.6 (dotenv 17.4.2) returns.
    #[test]
    fn reads_what_openclaw_reads() {
        let text = "\u{feff}A=1\nB: 2\nC:3\nD=\"x\nE=5\ny\"\nexport F = 'f' # c\nG=\n'g'\nH\n=h\nI:\nJ=1\n";
        assert_eq!(
            pairs(text),
            p(&[
                ("A", "1"),
                ("B", "2"),
                ("D", "x\nE=5\ny"),
                ("F", "f"),
                ("G", "g"),
                ("H", "h"),
                ("I", "J=1"),
            ])
        );
        assert_eq!(
            pairs("A=1\rB=2\r\nC=\"a\\\\nb\"\u{2028}D=4"),
            p(&[("A", "1"), ("B", "2"), ("C", "a\\\nb"), ("D", "4")])
        );
        assert_eq!(pairs("A='x\nB=\"y\\\"\n"), p(&[("A", "'x"), ("B", "y\\")]));
    }

    #[test]
    fn spans_point_at_the_original_bytes() {
        let text = "\u{feff}X=1\r\n  export KEY = \"a\r\nb\" # c\r\nZ=\n";
        let e = &parse(text)[1];
        assert_eq!(&text[e.name_span.clone()], "KEY");
        assert_eq!(&text[e.value_span.clone()], "\"a\r\nb\"");
        assert_eq!(&text[e.start..e.name_span.start], "export ");
        assert_eq!(&text[e.value_span.end..e.end], " # c");
        assert_eq!(e.value, "a\nb");
        let z = &parse(text)[2];
        assert_eq!(z.value_span, text.len() - 1..text.len() - 1);
    }

    #[test]
    fn last_value_wins_at_the_first_position() {
        assert_eq!(
            effective("A=1\nB=2\nA=3\n1X=4\n__proto__=5\n").unwrap(),
            p(&[("A", "3"), ("B", "2")])
        );
        assert_eq!(effective(&"#".repeat(MAX_BYTES + 1)), None);
    }

    #[test]
    fn a_megabyte_reads_in_linear_time() {
        let lines = "A=1\nexport B = 'x y' # c\n# note\n\n".repeat(MAX_BYTES / 40);
        for text in [
            lines,
            "\n".repeat(MAX_BYTES),
            "  \r\n".repeat(MAX_BYTES / 4),
        ] {
            let t = std::time::Instant::now();
            let n = parse(&text).len();
            // Debug build on a loaded machine: generous, but far from quadratic.
            assert!(
                t.elapsed().as_secs() < 20,
                "{n} entries took {:?}",
                t.elapsed()
            );
        }
    }
}
