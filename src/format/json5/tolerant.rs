//! JSON5 read without ever failing, for text that may not parse: a line of a diff, a
//! broken file. The lexical rules are the parser's own (its whitespace and comments, its
//! string ends), so a token is where json5 sees it; the structure is taken from the
//! brackets as they come, and a key is a string or word that a `:` follows. On a text json5
//! accepts this yields its strings, numbers and keys exactly as [`super::Document`] reads
//! them (a property test in `redact` holds the two together).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::ops::Range;

use super::Parser;

/// What the reading meets, in the text's order.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    /// A `{` or `[`, the value of `key` when a key came right before it.
    Open {
        key: Option<Cow<'a, str>>,
        object: bool,
    },
    /// A `}` or `]`.
    Close,
    /// A string (`span` inside its quotes; an unclosed one ends at its line's end) or a
    /// word (a number, literal or stray identifier, whole), the value of `key` if any.
    Scalar {
        key: Option<Cow<'a, str>>,
        span: Range<usize>,
        string: bool,
    },
    /// The text of a `//` or `/* */` comment, without its markers.
    Comment(Range<usize>),
}

/// The events of `text`.
pub fn read(text: &str) -> Reader<'_> {
    Reader {
        p: Parser::new(text, None),
        key: None,
        comments: Some(VecDeque::new()),
    }
}

/// [`read`] with every `/` passed over, so that what a comment holds (a setting commented
/// out) reads as if it were not commented; no [`Event::Comment`] then.
pub fn read_through_comments(text: &str) -> Reader<'_> {
    Reader {
        comments: None,
        ..read(text)
    }
}

pub struct Reader<'a> {
    p: Parser<'a>,
    /// The key read last, until the value it names.
    key: Option<Cow<'a, str>>,
    /// Comments met while looking past a token for its `:` (`None`: `/` is whitespace).
    comments: Option<VecDeque<Event<'a>>>,
}

impl<'a> Iterator for Reader<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            self.skip_ws();
            if let Some(c) = self.comments.as_mut().and_then(VecDeque::pop_front) {
                return Some(c);
            }
            let p = &mut self.p;
            let c = *p.b.get(p.i)?;
            p.i += 1;
            match c {
                b'{' | b'[' => {
                    return Some(Event::Open {
                        key: self.key.take(),
                        object: c == b'{',
                    });
                }
                b'}' | b']' => {
                    self.key = None;
                    return Some(Event::Close);
                }
                b',' | b':' => self.key = None,
                _ => {
                    p.i -= 1;
                    let (raw, span, string) = self.token();
                    self.skip_ws();
                    if self.p.b.get(self.p.i) == Some(&b':') {
                        self.p.i += 1;
                        self.key = Some(key_name(self.p.s, raw, span));
                        continue;
                    }
                    return Some(Event::Scalar {
                        key: self.key.take(),
                        span,
                        string,
                    });
                }
            }
        }
    }
}

impl<'a> Reader<'a> {
    /// Skips whitespace and comments as json5 does, keeping the comments for
    /// [`Iterator::next`]; a lone `/` is passed over.
    fn skip_ws(&mut self) {
        let p = &mut self.p;
        loop {
            while let Some(c) = p.char_at(p.i).filter(|&c| super::is_space(c)) {
                p.i += c.len_utf8();
            }
            let Some(comments) = &mut self.comments else {
                if p.b.get(p.i) != Some(&b'/') {
                    return;
                }
                p.i += 1;
                continue;
            };
            let body = match (p.b.get(p.i), p.b.get(p.i + 1)) {
                (Some(b'/'), Some(b'/')) => {
                    let end = super::line_comment_end(p.b, p.i + 2);
                    let body = p.i + 2..body_end(p.s, end);
                    p.i = end;
                    body
                }
                (Some(b'/'), Some(b'*')) => {
                    let from = p.i + 2;
                    let (body, end) = match p.s[from..].find("*/") {
                        Some(n) => (from..from + n, from + n + 2),
                        None => (from..p.s.len(), p.s.len()),
                    };
                    p.i = end;
                    body
                }
                (Some(b'/'), _) => {
                    p.i += 1;
                    continue;
                }
                _ => return,
            };
            comments.push_back(Event::Comment(body));
        }
    }

    /// A string or a word at the current position: its text with quotes, its span as an
    /// [`Event::Scalar`] gives it, whether it is a string.
    fn token(&mut self) -> (Range<usize>, Range<usize>, bool) {
        let p = &mut self.p;
        let start = p.i;
        let q = p.b[start];
        if q != b'"' && q != b'\'' {
            // A word ends where json5 would see anything else begin.
            let mut i = start;
            while let Some(c) = p.char_at(i) {
                let delimiter = matches!(c, ',' | ':' | '{' | '}' | '[' | ']' | '"' | '\'' | '/')
                    || super::is_space(c);
                if delimiter && i > start {
                    break;
                }
                i += c.len_utf8();
            }
            p.i = i;
            return (start..i, start..i, false);
        }
        // As the parser reads a string: only the quote, a backslash (with the character
        // it escapes, a CR LF as one) and a raw line break matter.
        let mut i = start + 1;
        loop {
            let rest = &p.b[i..];
            i += rest
                .iter()
                .position(|&b| b == q || b == b'\\' || b == b'\n' || b == b'\r')
                .unwrap_or(rest.len());
            match p.b.get(i) {
                Some(&b) if b == q => {
                    p.i = i + 1;
                    return (start..i + 1, start + 1..i, true);
                }
                Some(b'\\') => {
                    i += 1;
                    if p.b.get(i..i + 2) == Some(b"\r\n") {
                        i += 2;
                    } else {
                        i += p.char_at(i).map_or(0, char::len_utf8);
                    }
                }
                _ => {
                    p.i = i;
                    return (start..i, start + 1..i, true);
                }
            }
        }
    }
}

/// Where a `//` comment's text ends, before the line break that ends it (`end` is after it).
fn body_end(s: &str, end: usize) -> usize {
    s[..end]
        .char_indices()
        .next_back()
        .filter(|(_, c)| matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}'))
        .map_or(end, |(i, _)| i)
}

/// A key as json5 names it: escapes decoded when it has any and json5 would read it (the
/// text as written otherwise).
fn key_name<'a>(s: &'a str, raw: Range<usize>, inner: Range<usize>) -> Cow<'a, str> {
    let text = &s[raw];
    if text.contains('\\') {
        let mut p = Parser::new(text, None);
        if let Ok(Some(k)) = p.key(true)
            && p.i == text.len()
        {
            return Cow::Owned(k.to_lossy());
        }
    }
    Cow::Borrowed(&s[inner])
}
