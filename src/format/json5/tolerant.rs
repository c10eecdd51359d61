//! JSON5 read without ever failing, for text that may not parse: a line of a diff, a
//! broken file. Tokens are where json5 sees them (its whitespace, comments and string
//! ends); the structure is taken from the brackets as they come, and a key is a string or
//! word that a `:` follows. On a text json5 accepts this yields the strings, numbers and
//! keys [`super::Document`] reads (a property test in `redact` holds the two together).

use std::borrow::Cow;
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
}

pub struct Reader<'a> {
    p: Parser<'a>,
    /// The key read last, until the value it names.
    key: Option<Cow<'a, str>>,
    /// Every `/` passed over, so that a comment's text (a setting commented out) reads as
    /// if it were not commented.
    through_comments: bool,
    /// The comments passed so far, their markers included.
    pub comments: Vec<Range<usize>>,
}

impl<'a> Iterator for Reader<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            self.skip_ws();
            let c = *self.p.b.get(self.p.i)?;
            if let b'{' | b'[' | b'}' | b']' | b',' | b':' = c {
                self.p.i += 1;
            }
            match c {
                b'{' | b'[' => {
                    let key = self.key.take();
                    return Some(Event::Open {
                        key,
                        object: c == b'{',
                    });
                }
                b'}' | b']' => {
                    self.key = None;
                    return Some(Event::Close);
                }
                b',' | b':' => self.key = None,
                _ => {
                    let (raw, span, string) = self.token();
                    self.skip_ws();
                    if self.p.b.get(self.p.i) != Some(&b':') {
                        let key = self.key.take();
                        return Some(Event::Scalar { key, span, string });
                    }
                    self.p.i += 1;
                    self.key = Some(key_name(self.p.s, raw, span));
                }
            }
        }
    }
}

impl Reader<'_> {
    pub fn new(text: &str, through_comments: bool) -> Reader<'_> {
        Reader {
            p: Parser::new(text, None),
            key: None,
            through_comments,
            comments: Vec::new(),
        }
    }

    /// Skips whitespace and comments as json5 does; a lone `/` is passed over.
    fn skip_ws(&mut self) {
        let p = &mut self.p;
        loop {
            while let Some(c) = p.char_at(p.i).filter(|&c| super::is_space(c)) {
                p.i += c.len_utf8();
            }
            let start = p.i;
            p.i = match (p.b.get(p.i), p.b.get(p.i + 1)) {
                (Some(b'/'), _) if self.through_comments => p.i + 1,
                (Some(b'/'), Some(b'/')) => super::line_comment_end(p.b, p.i + 2),
                (Some(b'/'), Some(b'*')) => {
                    p.s[p.i + 2..].find("*/").map_or(p.b.len(), |n| p.i + n + 4)
                }
                (Some(b'/'), _) => p.i + 1,
                _ => return,
            };
            if p.i > start + 1 {
                self.comments.push(start..p.i);
            }
        }
    }

    /// A string or a word at the current position: its text as written, its span as an
    /// [`Event::Scalar`] gives it, whether it is a string.
    fn token(&mut self) -> (Range<usize>, Range<usize>, bool) {
        let p = &mut self.p;
        let start = p.i;
        let q = p.b[start];
        if q != b'"' && q != b'\'' {
            // A word ends where json5 would see anything else begin.
            let mut i = start;
            while let Some(c) = p.char_at(i) {
                if i > start && (super::is_space(c) || ",:{}[]\"'/".contains(c)) {
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
            i += p.b[i..]
                .iter()
                .position(|&b| b == q || b == b'\\' || b == b'\n' || b == b'\r')
                .unwrap_or(p.b.len() - i);
            match p.b.get(i) {
                Some(b'\\') if p.b.get(i + 1..i + 3) == Some(&b"\r\n"[..]) => i += 3,
                Some(b'\\') => i += 1 + p.char_at(i + 1).map_or(0, char::len_utf8),
                Some(&b) if b == q => {
                    p.i = i + 1;
                    return (start..i + 1, start + 1..i, true);
                }
                _ => {
                    p.i = i;
                    return (start..i, start + 1..i, true);
                }
            }
        }
    }
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
