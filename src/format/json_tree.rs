//! The tree the editor changes: the parts of a [`json5::Document`] an edit reaches, opened
//! into their tokens and trivia, beside the original text. A part never opened stays one
//! span of original bytes; rendering yields splices (a byte range of the original and its
//! new text), so bytes outside a splice are never re-serialised.
//!
//! The layout rules (where a member goes, its indentation, commas, when a container is
//! spread over lines) are those of jsonc-parser's CST editor, which wrote these files
//! before: the same edit gives the same bytes.

use std::collections::VecDeque;
use std::ops::Range;

use super::json5::{self, Kind, Node};

pub type Id = usize;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum K {
    Root,
    Obj,
    Arr,
    Prop,
    Tok(u8),
    Ws,
    Nl,
    Comment,
    /// A quoted key or a string value.
    Str,
    /// A bare key.
    Word,
    /// A new `null`, boolean or number.
    Lit,
    /// An original value not opened (a scalar, a skipped part, or a container).
    Closed,
}

#[derive(Debug)]
pub struct Nd {
    pub k: K,
    /// The text of a new or changed leaf.
    text: Option<String>,
    /// Where it is in the original text.
    orig: Option<Range<usize>>,
    pub children: Vec<Id>,
    parent: Option<Id>,
    /// A closed value's reading (taken when it is opened).
    node: Option<Node>,
    /// A key's or a new string's decoded text.
    pub decoded: Option<String>,
    /// A key as read, unpaired surrogates kept (`decoded` is its lossy text).
    js: Option<json5::JsString>,
}

/// A value to insert (what the planners build from serde_json values).
#[derive(Debug, Clone)]
pub enum Input {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Input>),
    Object(Vec<(String, Input)>),
}

impl Input {
    fn force_multiline(&self) -> bool {
        match self {
            Input::Array(v) => v.iter().any(|v| match v {
                Input::Array(a) => !a.is_empty(),
                Input::Object(o) => !o.is_empty(),
                _ => false,
            }),
            Input::Object(v) => !v.is_empty(),
            _ => false,
        }
    }
}

pub enum Ins<'a> {
    Value(Input),
    Prop(&'a str, Input),
}

#[derive(Debug, Clone)]
pub struct Indents {
    current: String,
    single: String,
}

impl Indents {
    /// `level` times `single`.
    fn repeat(single: String, level: usize) -> Indents {
        Indents {
            current: single.repeat(level),
            single,
        }
    }

    fn indent(&self) -> Indents {
        Indents {
            current: format!("{}{}", self.current, self.single),
            single: self.single.clone(),
        }
    }
}

#[derive(Clone, Copy)]
struct StyleInfo {
    crlf: bool,
    trailing_commas: bool,
}

pub struct Tree {
    pub src: String,
    pub n: Vec<Nd>,
    pub root: Id,
    crlf: Option<bool>,
}

impl Tree {
    /// The tree of a parsed document (`None`: a blank text, an empty root).
    pub fn new(src: &str, doc: Option<Node>) -> Tree {
        let mut t = Tree {
            src: src.to_owned(),
            n: Vec::new(),
            root: 0,
            crlf: None,
        };
        t.root = t.add(K::Root, None, Some(0..src.len()));
        let mut at = 0;
        if let Some(node) = doc {
            let span = node.span.clone();
            t.trivia(t.root, 0, span.start);
            let v = t.closed(node);
            t.push(t.root, v);
            at = span.end;
        }
        t.trivia(t.root, at, src.len());
        t
    }

    fn add(&mut self, k: K, text: Option<String>, orig: Option<Range<usize>>) -> Id {
        self.n.push(Nd {
            k,
            text,
            orig,
            children: Vec::new(),
            parent: None,
            node: None,
            decoded: None,
            js: None,
        });
        self.n.len() - 1
    }

    fn closed(&mut self, node: Node) -> Id {
        let id = self.add(K::Closed, None, Some(node.span.clone()));
        self.n[id].node = Some(node);
        id
    }

    fn push(&mut self, parent: Id, child: Id) {
        let mut i = self.n[parent].children.len();
        self.insert(parent, &mut i, child);
    }

    fn insert(&mut self, parent: Id, index: &mut usize, child: Id) {
        self.n[parent].children.insert(*index, child);
        self.n[child].parent = Some(parent);
        *index += 1;
    }

    fn insert_new(&mut self, parent: Id, index: &mut usize, k: K, text: &str) -> Id {
        let id = self.add(k, Some(text.to_owned()), None);
        self.insert(parent, index, id);
        id
    }

    /// The original text between `from` and `to` (whitespace, line breaks, comments) as
    /// leaves of `parent`.
    fn trivia(&mut self, parent: Id, from: usize, to: usize) {
        for (k, r) in lex_trivia(&self.src, from, to) {
            let id = self.add(k, None, Some(r));
            self.push(parent, id);
        }
    }

    /// The original text from `from` to the token at `at` (trivia), then the token, as
    /// leaves of `parent`; returns where the token ends.
    fn trivia_then_token(&mut self, parent: Id, from: usize, at: usize) -> usize {
        self.trivia(parent, from, at);
        let t = self.add(K::Tok(self.src.as_bytes()[at]), None, Some(at..at + 1));
        self.push(parent, t);
        at + 1
    }

    /// Whether `id` is an original object or array not yet opened.
    fn closed_container(&self, id: Id) -> bool {
        matches!(
            self.node(id).map(|n| &n.kind),
            Some(Kind::Object(_) | Kind::Array(_))
        )
    }

    /// Opens a closed object or array into its tokens, trivia and members.
    pub fn open(&mut self, id: Id) {
        if !self.closed_container(id) {
            return;
        }
        let node = self.n[id].node.take().expect("closed");
        let (k, entries) = match node.kind {
            Kind::Object(e) => (K::Obj, e),
            Kind::Array(e) => (K::Arr, e),
            _ => unreachable!(),
        };
        let span = node.span;
        self.n[id].k = k;
        let mut at = self.trivia_then_token(id, span.start, span.start);
        for e in entries {
            let start = e.key.as_ref().map_or(e.value.span.start, |(_, r)| r.start);
            self.trivia(id, at, start);
            let end = e.value.span.end;
            let item = match e.key {
                Some((name, r)) => {
                    let p = self.add(K::Prop, None, Some(r.start..end));
                    let quoted = matches!(self.src.as_bytes()[r.start], b'"' | b'\'');
                    let key =
                        self.add(if quoted { K::Str } else { K::Word }, None, Some(r.clone()));
                    self.n[key].decoded = Some(name.to_lossy());
                    self.n[key].js = Some(name);
                    self.push(p, key);
                    let after = self.trivia_then_token(p, r.end, e.colon);
                    self.trivia(p, after, e.value.span.start);
                    let v = self.closed(e.value);
                    self.push(p, v);
                    p
                }
                None => self.closed(e.value),
            };
            self.push(id, item);
            at = end;
            if let Some(c) = e.comma {
                at = self.trivia_then_token(id, at, c);
            }
        }
        self.trivia_then_token(id, at, span.end - 1);
    }

    /// The children, opening a closed container first.
    pub fn kids(&mut self, id: Id) -> Vec<Id> {
        self.open(id);
        self.n[id].children.clone()
    }

    pub fn kind(&self, id: Id) -> K {
        self.n[id].k
    }

    pub fn node(&self, id: Id) -> Option<&Node> {
        self.n[id].node.as_ref()
    }

    pub fn is_container(&self, id: Id) -> bool {
        match self.n[id].k {
            K::Root | K::Obj | K::Arr | K::Prop => true,
            K::Closed => self.closed_container(id),
            _ => false,
        }
    }

    pub fn is_object(&self, id: Id) -> bool {
        self.n[id].k == K::Obj || self.node(id).is_some_and(Node::is_object)
    }

    pub fn is_array(&self, id: Id) -> bool {
        self.n[id].k == K::Arr
            || self
                .node(id)
                .is_some_and(|n| matches!(n.kind, Kind::Array(_)))
    }

    fn is_trivia(&self, id: Id) -> bool {
        matches!(self.n[id].k, K::Ws | K::Nl | K::Comment)
    }

    /// A member, an element or a value: neither trivia nor a token.
    fn is_item(&self, id: Id) -> bool {
        !self.is_trivia(id) && !matches!(self.n[id].k, K::Tok(_))
    }

    fn is(&self, id: Id, k: K) -> bool {
        self.n[id].k == k
    }

    pub fn text(&self, id: Id) -> &str {
        match (&self.n[id].text, &self.n[id].orig) {
            (Some(t), _) => t,
            (None, Some(r)) => &self.src[r.clone()],
            _ => "",
        }
    }

    pub fn set_text(&mut self, id: Id, text: String) {
        self.n[id].text = Some(text);
    }

    /// Rewrites a string (a value or a quoted key) as `raw`, quotes included.
    pub fn set_string(&mut self, id: Id, raw: String, decoded: &str) {
        let n = &mut self.n[id];
        if n.k == K::Closed {
            n.k = K::Str;
            n.node = None;
        }
        n.text = Some(raw);
        n.decoded = Some(decoded.to_owned());
        n.js = None;
    }

    pub fn parent(&self, id: Id) -> Option<Id> {
        self.n[id].parent
    }

    pub fn orig(&self, id: Id) -> Option<Range<usize>> {
        self.n[id].orig.clone()
    }

    fn index(&self, id: Id) -> usize {
        let p = self.n[id].parent.expect("attached");
        self.n[p]
            .children
            .iter()
            .position(|&c| c == id)
            .expect("a child")
    }

    fn siblings(&self, id: Id, before: bool) -> Vec<Id> {
        let Some(p) = self.n[id].parent else {
            return Vec::new();
        };
        let i = self.index(id);
        let c = &self.n[p].children;
        if before {
            c[..i].iter().rev().copied().collect()
        } else {
            c[i + 1..].to_vec()
        }
    }

    pub fn detach(&mut self, id: Id) {
        if let Some(p) = self.n[id].parent.take() {
            self.n[p].children.retain(|&c| c != id);
        }
    }

    fn ancestors(&self, id: Id) -> Vec<Id> {
        let mut out = Vec::new();
        let mut cur = self.n[id].parent;
        while let Some(p) = cur {
            out.push(p);
            cur = self.n[p].parent;
        }
        out
    }

    /// A container's members (objects) or elements (arrays).
    pub fn items(&mut self, id: Id) -> Vec<Id> {
        self.kids(id)
            .into_iter()
            .filter(|&c| self.is_item(c))
            .collect()
    }

    /// A member's value.
    pub fn value(&self, prop: Id) -> Option<Id> {
        let c = &self.n[prop].children;
        let colon = c.iter().position(|&x| self.is(x, K::Tok(b':')))?;
        c[colon + 1..].iter().copied().find(|&x| self.is_item(x))
    }

    pub fn key(&self, prop: Id) -> Option<Id> {
        self.n[prop].children.first().copied()
    }

    pub fn name(&self, prop: Id) -> Option<String> {
        self.key(prop).and_then(|k| self.n[k].decoded.clone())
    }

    pub fn root_value(&self) -> Option<Id> {
        self.n[self.root]
            .children
            .iter()
            .copied()
            .find(|&c| !self.is_trivia(c))
    }

    /// What json5 reads at `id` (edits included).
    pub fn read(&self, id: Id) -> Option<json5::Value> {
        use json5::Value as V;
        match self.n[id].k {
            K::Closed => self.node(id)?.to_value(),
            K::Str => Some(V::String(self.n[id].decoded.clone()?.into())),
            K::Lit => json5::parse(self.text(id)).ok(),
            K::Arr => self.n[id]
                .children
                .iter()
                .filter(|&&c| self.is_item(c))
                .map(|&c| self.read(c))
                .collect::<Option<_>>()
                .map(V::Array),
            K::Obj => {
                let mut o = json5::Object::new();
                for &p in self.n[id].children.iter().filter(|&&c| self.is(c, K::Prop)) {
                    // A skipped member is not part of this reading.
                    if let Some(v) = self.read(self.value(p)?) {
                        let k = self.key(p)?;
                        let decoded = || self.n[k].decoded.clone().map(Into::into);
                        let name = self.n[k].js.clone().or_else(decoded)?;
                        o.insert(name, v);
                    }
                }
                Some(V::Object(o))
            }
            _ => None,
        }
    }

    fn indent_text(&self, id: Id) -> Option<String> {
        let mut last: Option<String> = None;
        for s in self.siblings(id, true) {
            match self.n[s].k {
                K::Nl => return last,
                K::Ws => last = Some(format!("{}{}", self.text(s), last.unwrap_or_default())),
                K::Comment => last = None,
                _ => return None,
            }
        }
        last
    }

    fn indents(&mut self, id: Id) -> Indents {
        let mut level = 0;
        let mut stored = self.indent_text(id);
        let anc = self.ancestors(id);
        let mut i = anc.iter().take_while(|&&a| self.is(a, K::Prop)).count();
        while i < anc.len() {
            let a = anc[i];
            i += 1;
            if self.is(a, K::Root) {
                break;
            }
            if anc.get(i).is_some_and(|&p| self.is(p, K::Prop)) {
                continue;
            }
            level += 1;
            match (self.indent_text(a), stored.take()) {
                (Some(t), Some(last)) => {
                    if let Some(single) = last.strip_prefix(&t) {
                        return Indents {
                            current: format!("{last}{}", single.repeat(level - 1)),
                            single: single.to_owned(),
                        };
                    }
                }
                (Some(t), None) => stored = Some(t),
                (None, _) => {}
            }
        }
        if level == 1
            && let Some(t) = self.indent_text(id)
        {
            return Indents::repeat(t, 1);
        }
        if let Some(rv) = self.root_value() {
            for c in self.kids(rv) {
                if let Some(single) = self.indent_text(c) {
                    return Indents::repeat(single, level);
                }
            }
        }
        Indents::repeat("  ".into(), level)
    }

    pub fn trailing_comma(&self, id: Id) -> Option<Id> {
        let next = self
            .siblings(id, false)
            .into_iter()
            .find(|&s| !self.is_trivia(s));
        next.filter(|&s| self.is(s, K::Tok(b',')))
    }

    fn uses_trailing_commas(&mut self, id: Id) -> bool {
        if !self.is_container(id) {
            return false;
        }
        let mut q = VecDeque::from([id]);
        while let Some(c) = q.pop_front() {
            let kids = self.kids(c);
            if matches!(self.n[c].k, K::Obj | K::Arr) && kids.iter().any(|&x| self.is(x, K::Ws)) {
                let items: Vec<Id> = self.items(c);
                if let Some(&last) = items.last() {
                    return self.trailing_comma(last).is_some();
                }
            }
            q.extend(kids.into_iter().filter(|&x| self.is_container(x)));
        }
        false
    }

    fn crlf(&mut self) -> bool {
        if let Some(c) = self.crlf {
            return c;
        }
        let mut q = VecDeque::from([self.root]);
        let mut found = false;
        'bfs: while let Some(c) = q.pop_front() {
            for x in self.kids(c) {
                if self.is(x, K::Nl) {
                    found = self.text(x) == "\r\n";
                    break 'bfs;
                }
                if self.is_container(x) {
                    q.push_back(x);
                }
            }
        }
        self.crlf = Some(found);
        found
    }

    fn style_info(&mut self, of: Id) -> StyleInfo {
        StyleInfo {
            crlf: self.crlf(),
            trailing_commas: self.uses_trailing_commas(of),
        }
    }

    fn newline(&mut self, parent: Id, index: &mut usize, s: StyleInfo) {
        self.insert_new(parent, index, K::Nl, if s.crlf { "\r\n" } else { "\n" });
    }

    fn line_start(&mut self, parent: Id, index: &mut usize, s: StyleInfo, indent: &str) {
        self.newline(parent, index, s);
        self.insert_new(parent, index, K::Ws, indent);
    }
}

/// The whitespace, line breaks and comments between `from` and `to`, as leaves.
fn lex_trivia(src: &str, from: usize, to: usize) -> Vec<(K, Range<usize>)> {
    let b = src.as_bytes();
    let nl = |i: usize| b[i] == b'\n' || (b[i] == b'\r' && b.get(i + 1) == Some(&b'\n'));
    let mut out = Vec::new();
    let mut i = from;
    while i < to {
        let start = i;
        let k = if nl(i) {
            i += if b[i] == b'\r' { 2 } else { 1 };
            K::Nl
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            i = comment_end(src, i + 2).min(to);
            K::Comment
        } else if b[i] == b'/' {
            i = src[i + 2..to].find("*/").map_or(to, |p| i + 2 + p + 2);
            K::Comment
        } else {
            while i < to && !nl(i) && b[i] != b'/' {
                i += 1;
            }
            K::Ws
        };
        out.push((k, start..i));
    }
    out
}

/// Where a `//` comment whose text starts at `from` ends, before its line break (json5's:
/// LF, CR, U+2028 or U+2029).
fn comment_end(src: &str, from: usize) -> usize {
    src[from..]
        .find(['\n', '\r', '\u{2028}', '\u{2029}'])
        .map_or(src.len(), |p| from + p)
}

/// A string literal as jsonc-parser writes one.
pub fn escaped(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    s.push('"');
    for ch in value.chars() {
        match ch {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\u{08}' => s.push_str("\\b"),
            '\u{0c}' => s.push_str("\\f"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if c.is_control() => s.push_str(&format!("\\u{:04x}", c as u32)),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// The edits, as jsonc-parser makes them.
impl Tree {
    /// Writes `value` as new nodes into `parent` at `index`.
    fn insert_value(
        &mut self,
        parent: Id,
        index: &mut usize,
        value: Ins,
        s: StyleInfo,
        ind: &Indents,
    ) {
        match value {
            Ins::Prop(name, v) => {
                let p = self.add(K::Prop, None, None);
                self.insert(parent, index, p);
                let k = self.insert_new(p, &mut 0, K::Str, &escaped(name));
                self.n[k].decoded = Some(name.to_owned());
                let mut i = 1;
                self.insert_new(p, &mut i, K::Tok(b':'), ":");
                self.insert_new(p, &mut i, K::Ws, " ");
                self.insert_value(p, &mut i, Ins::Value(v), s, ind);
            }
            Ins::Value(v) => {
                let multiline = v.force_multiline();
                let (k, text) = match &v {
                    Input::Null => (K::Lit, "null".to_owned()),
                    Input::Bool(b) => (K::Lit, b.to_string()),
                    Input::Number(n) => (K::Lit, n.clone()),
                    Input::String(t) => (K::Str, escaped(t)),
                    Input::Array(_) => (K::Arr, String::new()),
                    Input::Object(_) => (K::Obj, String::new()),
                };
                if !matches!(k, K::Arr | K::Obj) {
                    let id = self.insert_new(parent, index, k, &text);
                    if let Input::String(t) = v {
                        self.n[id].decoded = Some(t);
                    }
                    return;
                }
                let c = self.add(k, None, None);
                self.insert(parent, index, c);
                match v {
                    Input::Array(e) => {
                        self.fill(c, e.into_iter().map(Ins::Value), multiline, s, ind)
                    }
                    Input::Object(props) => {
                        let (names, values): (Vec<_>, Vec<_>) = props.into_iter().unzip();
                        let members = names.iter().zip(values).map(|(n, v)| Ins::Prop(n, v));
                        self.fill(c, members, multiline, s, ind);
                    }
                    _ => unreachable!(),
                }
            }
        }
    }

    /// The brackets and items of a new array or object `c`, spread over lines when
    /// `multiline` (a new object is, unless empty).
    fn fill<'b>(
        &mut self,
        c: Id,
        items: impl ExactSizeIterator<Item = Ins<'b>>,
        multiline: bool,
        s: StyleInfo,
        ind: &Indents,
    ) {
        let (open, close) = if self.is(c, K::Obj) {
            ("{", "}")
        } else {
            ("[", "]")
        };
        let inner = ind.indent();
        let mut i = 0;
        self.insert_new(c, &mut i, K::Tok(open.as_bytes()[0]), open);
        let n = items.len();
        for (j, e) in items.enumerate() {
            if multiline {
                self.line_start(c, &mut i, s, &inner.current);
            }
            self.insert_value(c, &mut i, e, s, &inner);
            if (s.trailing_commas && multiline) || j + 1 < n {
                self.insert_new(c, &mut i, K::Tok(b','), ",");
                if !multiline {
                    self.insert_new(c, &mut i, K::Ws, " ");
                }
            }
        }
        if multiline {
            self.line_start(c, &mut i, s, &ind.current);
        }
        self.insert_new(c, &mut i, K::Tok(close.as_bytes()[0]), close);
    }

    /// Whether the line ends after `id`: a line break comes before anything but whitespace
    /// and comments.
    fn line_ends_after(&self, id: Id) -> bool {
        let next = (self.siblings(id, false).into_iter())
            .find(|&s| !self.is(s, K::Ws) && !self.is(s, K::Comment));
        next.is_some_and(|s| self.is(s, K::Nl))
    }

    fn trailing_comments_same_line(&self, id: Id) -> Option<Id> {
        let next = self.siblings(id, false);
        let run = (next.iter())
            .take_while(|&&s| self.is(s, K::Comment) || self.is(s, K::Ws))
            .count();
        if next.get(run).is_some_and(|&s| !self.is(s, K::Nl)) {
            return None;
        }
        next[..run]
            .iter()
            .copied()
            .rfind(|&s| self.is(s, K::Comment))
    }

    /// Inserts `value` among the items of `container` at `index` (`None`: at the end).
    pub fn insert_item(&mut self, container: Id, index: Option<usize>, value: Ins) -> Id {
        if self.is_object(container) {
            self.ensure_multiline(container);
        }
        self.trim_blank_lines(container);
        let items = self.items(container);
        let children = self.kids(container);
        let index = index.unwrap_or(items.len()).min(items.len());
        let next = items.get(index).copied();
        let prev = index.checked_sub(1).map(|i| items[i]);
        let s = self.style_info(container);
        let ind = self.indents(container);
        let child_ind = match items.first() {
            Some(&f) => self.indents(f),
            None => ind.indent(),
        };
        let multiline = children.iter().any(|&c| self.is(c, K::Nl))
            || match &value {
                Ins::Value(v) => v.force_multiline(),
                Ins::Prop(..) => true,
            };
        let mut at = if let Some(prev) = prev {
            if self.trailing_comma(prev).is_none() {
                let mut i = self.index(prev) + 1;
                self.insert_new(container, &mut i, K::Tok(b','), ",");
            }
            let comma = self.trailing_comma(prev).expect("just made");
            let mut at = self.index(self.trailing_comments_same_line(comma).unwrap_or(comma)) + 1;
            if !multiline {
                self.insert_new(container, &mut at, K::Ws, " ");
            }
            at
        } else if items.is_empty() {
            let last = *children.last().expect("a closing bracket");
            let run = children
                .iter()
                .rev()
                .skip(1)
                .take_while(|&&c| self.is(c, K::Ws) || self.is(c, K::Nl))
                .last();
            self.index(*run.unwrap_or(&last))
        } else {
            self.index(children[0]) + 1
        };
        if multiline {
            self.line_start(container, &mut at, s, &child_ind.current);
        }
        self.insert_value(container, &mut at, value, s, &child_ind);
        let inserted = self.n[container].children[at - 1];
        if prev.is_none() && multiline && next.is_none() && !self.line_ends_after(inserted) {
            self.line_start(container, &mut at, s, &ind.current);
        }
        if next.is_some() {
            let comma = self.insert_new(container, &mut at, K::Tok(b','), ",");
            if !multiline {
                self.insert_new(container, &mut at, K::Ws, " ");
            } else if !self.line_ends_after(comma) {
                self.line_start(container, &mut at, s, &ind.current);
            }
        } else if s.trailing_commas && multiline {
            self.insert_new(container, &mut at, K::Tok(b','), ",");
        }
        inserted
    }

    /// Drops blank lines just inside the brackets.
    fn trim_blank_lines(&mut self, id: Id) {
        let children = self.kids(id);
        if children.len() < 2 {
            return;
        }
        let inner = &children[1..children.len() - 1];
        let rest = self.trim_run(inner.iter().copied());
        let rest: Vec<Id> = inner[inner.len() - rest..].to_vec();
        self.trim_run(rest.into_iter().rev());
    }

    /// Removes the line breaks after the first in a run of trivia (with the whitespace
    /// before each); returns how many children of the run were not looked at.
    fn trim_run(&mut self, run: impl ExactSizeIterator<Item = Id>) -> usize {
        let mut run = run;
        let mut found = false;
        for c in run.by_ref() {
            if self.is(c, K::Nl) {
                found = true;
                break;
            } else if !self.is(c, K::Ws) {
                return run.len();
            }
        }
        if !found {
            return 0;
        }
        let mut pending = Vec::new();
        for c in run.by_ref() {
            if self.is(c, K::Ws) {
                pending.push(c);
            } else if self.is(c, K::Nl) {
                self.detach(c);
                for p in pending.drain(..) {
                    self.detach(p);
                }
            } else {
                break;
            }
        }
        run.len()
    }

    /// Spreads a container written on one line over lines, one item per line.
    pub fn ensure_multiline(&mut self, id: Id) {
        let children = self.kids(id);
        if children.iter().any(|&c| self.is(c, K::Nl)) {
            return;
        }
        let ind = self.indents(id);
        let inner = ind.indent();
        let s = StyleInfo {
            crlf: self.crlf(),
            trailing_commas: false,
        };
        let mut index = 1;
        let mut it = children[1..children.len() - 1].iter().copied();
        while let Some(c) = it.next() {
            if self.is(c, K::Ws) {
                self.detach(c);
                continue;
            }
            self.line_start(id, &mut index, s, &inner.current);
            index += 1;
            let mut trailing = Vec::new();
            for next in it.by_ref() {
                if self.is(next, K::Ws) {
                    trailing.push(next);
                } else {
                    index += 1 + trailing.len();
                    trailing.clear();
                    if self.is(next, K::Tok(b',')) {
                        break;
                    }
                }
            }
            for t in trailing {
                self.detach(t);
            }
        }
        self.newline(id, &mut index, s);
        if !ind.current.is_empty() {
            self.insert_new(id, &mut index, K::Ws, &ind.current);
        }
    }

    /// Removes an item with its comma and what is left of its line.
    pub fn remove_item(&mut self, id: Id) {
        let parent = self.parent(id).expect("attached");
        let comma = self.trailing_comma(id);
        let to_next_line = comma.is_none_or(|c| self.line_ends_after(c));
        for p in self.siblings(id, true) {
            if self.is(p, K::Ws) || self.is(p, K::Comment) {
                self.detach(p);
            } else {
                break;
            }
        }
        let mut found_newline = false;
        if comma.is_some() {
            for next in self.siblings(id, false) {
                found_newline |= self.is(next, K::Nl);
                self.detach(next);
                if self.is(next, K::Tok(b',')) {
                    break;
                }
            }
        } else if let Some(c) = self
            .siblings(id, true)
            .into_iter()
            .find(|&c| self.is(c, K::Tok(b',')))
        {
            self.detach(c);
        }
        if to_next_line && !found_newline {
            let next = self.siblings(id, false);
            for (j, &s) in next.iter().enumerate() {
                if !self.is_trivia(s) {
                    break;
                }
                if self.is(s, K::Nl) {
                    self.detach(s);
                    break;
                }
                if self.is(s, K::Ws) && next.get(j + 1).is_some_and(|&n| !self.is_trivia(n)) {
                    break;
                }
                self.detach(s);
            }
        }
        self.detach(id);
        let children = self.n[parent].children.clone();
        if children.len() >= 2
            && children[1..children.len() - 1]
                .iter()
                .all(|&c| self.is(c, K::Ws) || self.is(c, K::Nl))
        {
            for c in children {
                if self.is(c, K::Ws) || self.is(c, K::Nl) {
                    self.detach(c);
                }
            }
        }
    }

    /// Gives the last item of `id`, and of every container in it, a trailing comma when
    /// the container spans lines.
    pub fn set_trailing_commas(&mut self, id: Id) {
        let items = self.items(id);
        if let Some(&last) = items.last()
            && self.trailing_comma(last).is_none()
            && self.n[id].children.iter().any(|&c| self.is(c, K::Nl))
        {
            let mut i = self.index(last) + 1;
            self.insert_new(id, &mut i, K::Tok(b','), ",");
        }
        for e in items {
            let v = if self.is(e, K::Prop) {
                self.value(e)
            } else {
                Some(e)
            };
            if let Some(v) = v.filter(|&v| self.is_object(v) || self.is_array(v)) {
                self.set_trailing_commas(v);
            }
        }
    }

    /// Replaces a member's value.
    pub fn set_value(&mut self, prop: Id, v: Input) -> Id {
        let old = self.value(prop);
        let mut at = old.map_or(self.n[prop].children.len(), |o| self.index(o));
        let ind = self.indents(prop);
        let s = self.style_info(old.unwrap_or(prop));
        if let Some(o) = old {
            self.detach(o);
        }
        self.insert_value(prop, &mut at, Ins::Value(v), s, &ind);
        self.n[prop].children[at - 1]
    }

    /// A blank document's root becomes `{}`.
    pub fn set_empty_root(&mut self) {
        let s = self.style_info(self.root);
        let ind = self.indents(self.root);
        let children = self.n[self.root].children.clone();
        let mut at = match children.last() {
            Some(&l) if self.is(l, K::Nl) => children.len() - 1,
            _ => children.len(),
        };
        if at > 0 && self.is(children[at - 1], K::Comment) {
            self.newline(self.root, &mut at, s);
        }
        if at == self.n[self.root].children.len() {
            self.newline(self.root, &mut at, s);
            at -= 1;
        }
        self.insert_value(
            self.root,
            &mut at,
            Ins::Value(Input::Object(Vec::new())),
            s,
            &ind,
        );
    }

    /// The edits as splices on the original text, in order.
    pub fn splices(&self) -> Vec<(Range<usize>, String)> {
        let mut out = Vec::new();
        let mut at = 0;
        let mut pending = String::new();
        self.emit(self.root, &mut at, &mut pending, &mut out);
        if at < self.src.len() || !pending.is_empty() {
            out.push((at..self.src.len(), pending));
        }
        out
    }

    fn emit(
        &self,
        id: Id,
        at: &mut usize,
        pending: &mut String,
        out: &mut Vec<(Range<usize>, String)>,
    ) {
        let nd = &self.n[id];
        let leaf = nd.children.is_empty() && !matches!(nd.k, K::Obj | K::Arr | K::Prop | K::Root);
        match (&nd.orig, &nd.text) {
            (Some(r), None) if leaf || nd.k == K::Closed => {
                if r.start != *at || !pending.is_empty() {
                    out.push((*at..r.start, std::mem::take(pending)));
                }
                *at = r.end;
            }
            _ if leaf => pending.push_str(self.text(id)),
            _ => {
                for &c in &nd.children {
                    self.emit(c, at, pending, out);
                }
            }
        }
    }

    /// One node's text as it now reads.
    pub fn render_node(&self, id: Id) -> String {
        let mut s = String::new();
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            if self.n[n].children.is_empty() {
                s.push_str(self.text(n));
            } else {
                stack.extend(self.n[n].children.iter().rev());
            }
        }
        s
    }

    pub fn render(&self) -> String {
        let mut s = String::with_capacity(self.src.len() + 256);
        let mut last = 0;
        for (r, t) in self.splices() {
            s.push_str(&self.src[last..r.start]);
            s.push_str(&t);
            last = r.end;
        }
        s.push_str(&self.src[last..]);
        s
    }
}
