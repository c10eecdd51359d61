//! Speed for large configs without giving up the CST: a fast, iterative JSON5 scanner
//! checks the whole text and replaces the big subtrees we never touch (other providers'
//! catalogs, agent entries, channels…) with placeholders. The CST editor then works on the
//! small remainder, and the original bytes are spliced back after rendering, untouched.
//!
//! The scanner only has to be *sound*: whatever it accepts, jsonc-parser accepts too. When
//! it meets anything unusual it gives up (`None`), and the caller parses the full text with
//! jsonc-parser, which is slower but exact (and produces the precise error message).

use std::ops::Range;

const PREFIX: &str = "__gaterouter_elided_";
/// Smaller subtrees are not worth a placeholder.
const MIN_ELIDE: usize = 48;
/// Deeper nesting is refused (the CST parser recurses; this keeps it off the stack limit).
pub const MAX_DEPTH: usize = 512;

pub struct Elided {
    pub text: String,
    pieces: Vec<Range<usize>>,
    /// Part of every placeholder (see `restore`).
    nonce: String,
    /// Style votes over the *whole* text, elided parts included (see `json_edit::Style`).
    pub counts: Counts,
}

/// How keys and strings are written: bare or quoted keys, single or double quotes.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Counts {
    pub word_keys: usize,
    pub quoted_keys: usize,
    pub single: usize,
    pub double: usize,
}

impl Elided {
    /// Puts the original bytes back where the placeholders are. A placeholder is only ever
    /// recognised with this parse's random nonce, which no file, argument, template or server
    /// answer can know, so text we insert cannot be taken for one. Anything unexpected (an
    /// index out of order) is left as it is: the gate before writing (`plan::gate`) parses
    /// every new file back and refuses it.
    pub fn restore(&self, rendered: &str, original: &str) -> String {
        if self.pieces.is_empty() {
            return rendered.to_owned();
        }
        let marker = format!("\"{PREFIX}{}_", self.nonce);
        let mut out = String::with_capacity(original.len() + rendered.len());
        let mut rest = rendered;
        let mut next = 0;
        while let Some(i) = rest.find(&marker) {
            let tail = &rest[i + marker.len()..];
            let index = tail
                .find("__\"")
                .and_then(|end| Some((tail[..end].parse::<usize>().ok()?, end)));
            match index {
                Some((n, end)) if n == next && n < self.pieces.len() => {
                    out.push_str(&rest[..i]);
                    out.push_str(&original[self.pieces[n].clone()]);
                    rest = &tail[end + 3..];
                    next += 1;
                }
                _ => {
                    out.push_str(&rest[..i + marker.len()]);
                    rest = tail;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// 128 unpredictable bits, new for every parse: `RandomState` is seeded from the OS's
/// randomness once per process and differs per instance; mixing in the time and a counter
/// keeps two parses in one process apart even so.
fn nonce() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut words = [0u64; 2];
    for (i, w) in words.iter_mut().enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u128(t);
        h.write_usize(i);
        *w = h.finish();
    }
    format!("{:016x}{:016x}", words[0], words[1])
}

/// Why the scanner gave up; only nesting depth is reported to the user, everything else
/// falls back to the full parser.
#[derive(Debug, PartialEq)]
pub enum GiveUp {
    TooDeep { line: usize, column: usize },
    Unsure,
}

/// Scans `src` and elides every object or array value that is not on one of `keep`'s paths.
/// A container *on* a path (a prefix of a keep path) is kept with its other members elided;
/// the value *at* a keep path is kept whole.
pub fn elide(src: &str, keep: &[&[&str]]) -> Result<Elided, GiveUp> {
    let nonce = nonce();
    if src.contains(&nonce) {
        return Err(GiveUp::Unsure);
    }
    let mut s = Scanner {
        b: src.as_bytes(),
        i: 0,
        src,
        counts: Counts::default(),
    };
    let mut cuts: Vec<Range<usize>> = Vec::new();
    s.ws()?;
    if s.i >= s.b.len() {
        return Ok(Elided {
            text: src.to_owned(),
            pieces: Vec::new(),
            nonce,
            counts: s.counts,
        });
    }
    // Explicit stack: (is_object, path of this container, whether it is on a keep path).
    struct Frame {
        object: bool,
        path: Vec<String>,
        on_path: bool,
        members: usize,
    }
    let mut stack: Vec<Frame> = Vec::new();
    // The root value.
    let status = |path: &[String]| -> (bool, bool) {
        // (on a keep path: descend; at a keep path: keep whole)
        let mut on = false;
        let mut at = false;
        for k in keep {
            if k.len() >= path.len() && k.iter().zip(path).all(|(a, b)| *a == b) {
                on = true;
                if k.len() == path.len() {
                    at = true;
                }
            }
        }
        (on, at)
    };
    let mut pending_value: Option<(Vec<String>, bool)> = Some((Vec::new(), true));
    loop {
        if let Some((path, parent_on)) = pending_value.take() {
            // A value starts here.
            s.ws()?;
            let start = s.i;
            match s.peek() {
                Some(b'{') | Some(b'[') => {
                    let object = s.peek() == Some(b'{');
                    let (on, at) = if parent_on {
                        status(&path)
                    } else {
                        (false, false)
                    };
                    if !on || at {
                        // Not ours to descend into: skip it whole (still validated).
                        s.skip_container()?;
                        if !on && parent_on && s.i - start >= MIN_ELIDE {
                            cuts.push(start..s.i);
                        }
                    } else {
                        s.i += 1;
                        if stack.len() >= MAX_DEPTH {
                            return Err(s.too_deep());
                        }
                        stack.push(Frame {
                            object,
                            path,
                            on_path: true,
                            members: 0,
                        });
                        continue;
                    }
                }
                _ => s.scalar()?,
            }
        } else {
            // Inside a kept container: next member or its end.
            let Some(top) = stack.last_mut() else { break };
            s.ws()?;
            let close = if top.object { b'}' } else { b']' };
            if s.peek() == Some(close) {
                s.i += 1;
                stack.pop();
            } else {
                if top.members > 0 {
                    if s.peek() != Some(b',') {
                        return Err(GiveUp::Unsure);
                    }
                    s.i += 1;
                    s.ws()?;
                    if s.peek() == Some(close) {
                        continue; // trailing comma
                    }
                }
                top.members += 1;
                let mut path = top.path.clone();
                let on = top.on_path;
                if top.object {
                    let key = s.key()?.to_owned();
                    s.ws()?;
                    if s.peek() != Some(b':') {
                        return Err(GiveUp::Unsure);
                    }
                    s.i += 1;
                    path.push(key);
                } else {
                    path.push(String::from("[]"));
                }
                pending_value = Some((path, on));
                continue;
            }
        }
        // After a value: finished when the stack is empty.
        if stack.is_empty() {
            break;
        }
    }
    s.ws()?;
    if s.i != s.b.len() {
        return Err(GiveUp::Unsure);
    }
    let mut text = String::with_capacity(src.len().min(1 << 16));
    let mut last = 0;
    for (n, r) in cuts.iter().enumerate() {
        text.push_str(&src[last..r.start]);
        text.push('"');
        text.push_str(PREFIX);
        text.push_str(&nonce);
        text.push('_');
        text.push_str(&n.to_string());
        text.push_str("__\"");
        last = r.end;
    }
    text.push_str(&src[last..]);
    Ok(Elided {
        text,
        pieces: cuts,
        nonce,
        counts: s.counts,
    })
}

/// The deepest nesting in `src` beyond `MAX_DEPTH`, as (line, column), ignoring brackets in
/// strings and comments. Unlike the scanner it never gives up, so it guards the full parser
/// (which recurses) on inputs the scanner declined.
pub fn too_deep(src: &str) -> Option<(usize, usize)> {
    let b = src.as_bytes();
    let (mut i, mut depth) = (0, 0usize);
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = src[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 1);
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    let s = Scanner {
                        b,
                        i,
                        src,
                        counts: Counts::default(),
                    };
                    let GiveUp::TooDeep { line, column } = s.too_deep() else {
                        unreachable!()
                    };
                    return Some((line, column));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    src: &'a str,
    counts: Counts,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn too_deep(&self) -> GiveUp {
        let before = &self.src[..self.i];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |p| p + 1);
        let column = before[line_start..].chars().count() + 1;
        GiveUp::TooDeep { line, column }
    }

    /// Whitespace and comments (ASCII only; anything else is left to the full parser).
    fn ws(&mut self) -> Result<(), GiveUp> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.i += 1,
                Some(b'/') => match self.b.get(self.i + 1) {
                    Some(b'/') => {
                        while let Some(c) = self.peek() {
                            if c == b'\n' || c == b'\r' {
                                break;
                            }
                            self.i += 1;
                        }
                    }
                    Some(b'*') => {
                        let rest = &self.src[self.i + 2..];
                        let end = rest.find("*/").ok_or(GiveUp::Unsure)?;
                        self.i += 2 + end + 2;
                    }
                    _ => return Err(GiveUp::Unsure),
                },
                _ => return Ok(()),
            }
        }
    }

    fn string(&mut self) -> Result<(), GiveUp> {
        let q = self.b[self.i];
        if q == b'\'' {
            self.counts.single += 1;
        } else {
            self.counts.double += 1;
        }
        self.i += 1;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                _ if c == q => return Ok(()),
                b'\n' | b'\r' => return Err(GiveUp::Unsure),
                b'\\' => {
                    let e = self.peek().ok_or(GiveUp::Unsure)?;
                    self.i += 1;
                    match e {
                        b'"' | b'\'' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => self.hex(4)?,
                        _ => return Err(GiveUp::Unsure),
                    }
                }
                c if c < 0x20 => return Err(GiveUp::Unsure),
                _ => {}
            }
        }
        Err(GiveUp::Unsure)
    }

    fn hex(&mut self, n: usize) -> Result<(), GiveUp> {
        for _ in 0..n {
            if !self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                return Err(GiveUp::Unsure);
            }
            self.i += 1;
        }
        Ok(())
    }

    /// An object key: a string, or a plain ASCII identifier. Borrowed, so skipping a large
    /// subtree allocates nothing.
    fn key(&mut self) -> Result<&str, GiveUp> {
        let start = self.i;
        match self.peek() {
            Some(b'"' | b'\'') => {
                self.counts.quoted_keys += 1;
                self.string()?;
                let raw = &self.src[start + 1..self.i - 1];
                // Keys with escapes are compared decoded; leave those to the full parser.
                if raw.contains('\\') {
                    return Err(GiveUp::Unsure);
                }
                Ok(raw)
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$')
                {
                    self.i += 1;
                }
                self.counts.word_keys += 1;
                Ok(&self.src[start..self.i])
            }
            _ => Err(GiveUp::Unsure),
        }
    }

    /// A string, number, true, false or null.
    fn scalar(&mut self) -> Result<(), GiveUp> {
        match self.peek() {
            Some(b'"' | b'\'') => self.string(),
            Some(b't') => self.word("true"),
            Some(b'f') => self.word("false"),
            Some(b'n') => self.word("null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(GiveUp::Unsure),
        }
    }

    fn word(&mut self, w: &str) -> Result<(), GiveUp> {
        if self.src[self.i..].starts_with(w)
            && !self
                .b
                .get(self.i + w.len())
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$')
        {
            self.i += w.len();
            Ok(())
        } else {
            Err(GiveUp::Unsure)
        }
    }

    /// Plain JSON numbers only; hex, Infinity, `.5` and friends go to the full parser.
    fn number(&mut self) -> Result<(), GiveUp> {
        let digits = |s: &mut Self| -> Result<(), GiveUp> {
            if !s.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(GiveUp::Unsure);
            }
            while s.peek().is_some_and(|c| c.is_ascii_digit()) {
                s.i += 1;
            }
            Ok(())
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        if self.peek() == Some(b'0') {
            self.i += 1;
        } else {
            digits(self)?;
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            digits(self)?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            digits(self)?;
        }
        if self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_')
        {
            return Err(GiveUp::Unsure);
        }
        Ok(())
    }

    /// Skips a whole object or array, validating it, without building anything.
    fn skip_container(&mut self) -> Result<(), GiveUp> {
        // Each entry: (closing byte, members seen).
        let mut stack: Vec<(u8, usize)> = Vec::new();
        let open = |c: u8| if c == b'{' { b'}' } else { b']' };
        stack.push((open(self.b[self.i]), 0));
        self.i += 1;
        while let Some(&(close, members)) = stack.last() {
            self.ws()?;
            if self.peek() == Some(close) {
                self.i += 1;
                stack.pop();
                continue;
            }
            if members > 0 {
                if self.peek() != Some(b',') {
                    return Err(GiveUp::Unsure);
                }
                self.i += 1;
                self.ws()?;
                if self.peek() == Some(close) {
                    continue;
                }
            }
            stack.last_mut().expect("non-empty").1 += 1;
            if close == b'}' {
                self.key()?;
                self.ws()?;
                if self.peek() != Some(b':') {
                    return Err(GiveUp::Unsure);
                }
                self.i += 1;
                self.ws()?;
            }
            match self.peek() {
                Some(c @ (b'{' | b'[')) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(self.too_deep());
                    }
                    stack.push((open(c), 0));
                    self.i += 1;
                }
                _ => self.scalar()?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEEP: &[&[&str]] = &[
        &["agents", "defaults"],
        &["models", "providers", "gaterouter"],
    ];

    #[test]
    fn elides_untouched_subtrees_and_restores_them_byte_for_byte() {
        let src = "{\n  // c\n  agents: { defaults: { model: 'a/b' }, entries: { main: { identity: { name: 'Clawd the assistant', theme: 'x' } } } },\n  models: { providers: { big: { models: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] } } },\n}\n";
        let e = elide(src, KEEP).unwrap();
        assert!(!e.text.contains("Clawd"), "{}", e.text);
        assert!(!e.text.contains("13, 14"), "{}", e.text);
        assert!(e.text.contains("model: 'a/b'"));
        assert_eq!(e.restore(&e.text, src), src);
    }

    #[test]
    fn inserted_text_cannot_pass_for_a_placeholder() {
        let src = "{\n  agents: { defaults: { model: 'a/b' } },\n  channels: { telegram: { token: 'not-ours-0123456789', enabled: true, extra: [1, 2, 3] } },\n}\n";
        let e = elide(src, KEEP).unwrap();
        assert!(!e.text.contains("telegram"), "{}", e.text);
        // Whatever an argument, a template or a server says, without this parse's nonce it
        // stays text: every index, every guess at the old fixed format.
        for forged in [
            "__gaterouter_elided_0__".to_string(),
            "\"__gaterouter_elided_0__\"".to_string(),
            "__gaterouter_elided_7__".to_string(),
            format!("\"{PREFIX}0000000000000000_0__\""),
        ] {
            let rendered = e.text.replace("'a/b'", &format!("'{forged}'"));
            let out = e.restore(&rendered, src);
            assert!(out.contains(&forged), "{forged}: {out}");
            assert!(out.contains("telegram"), "{out}");
            assert_eq!(out.matches("telegram").count(), 1, "{out}");
        }
        assert_ne!(elide(src, KEEP).unwrap().nonce, e.nonce);
    }

    #[test]
    fn gives_up_on_what_it_does_not_know() {
        for src in [
            "{a: 0x1F}",
            "{a: .5}",
            "{a: 'x\\q'}",
            "{a: 1 b: 2}",
            "{a: Infinity}",
            "{\"a\\u0041\": 1}",
            "{a: [1,,2]}",
        ] {
            assert!(elide(src, KEEP).is_err(), "{src}");
        }
        assert!(elide("{a: [1, 2,], b: {c: 'd',},}", KEEP).is_ok());
    }

    #[test]
    fn refuses_deep_nesting_with_a_position() {
        let src = format!(
            "{{\"x\": {}{}}}",
            "[".repeat(MAX_DEPTH + 5),
            "]".repeat(MAX_DEPTH + 5)
        );
        assert!(matches!(
            elide(&src, KEEP),
            Err(GiveUp::TooDeep { line: 1, .. })
        ));
    }
}
