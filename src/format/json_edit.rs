//! The format-preserving JSON/JSON5 editor both JSON planners share, over the one reader
//! (`json5`, OpenClaw's reading, with spans). An edit is a list of splices on the original
//! text (see `json_tree`): comments, trailing commas, unquoted keys, quote style,
//! indentation, CRLF and key order of everything we do not touch stay byte for byte, and
//! what we insert is written in the file's own style. Every read checks the type it expects
//! and reports a wrong one with the file, the JSON path and the line.

use std::cell::RefCell;
use std::fmt;
use std::path::{Path, PathBuf};

use super::json_tree::{Id, Input, Ins, K, Tree};
use super::json5::{self, Kind};
use crate::error::{Error, Result};

/// Handles into a [`Doc`]: an object, an array, a member, or any value.
pub type Obj = Id;
pub type Arr = Id;
pub type Prop = Id;
pub type Item = Id;

/// A path into a document, shown the way OpenClaw's validator shows paths:
/// `agents.defaults.model.fallbacks[1]`, `auth.profiles["gaterouter:default"]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonPath(Vec<Seg>);

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

impl JsonPath {
    pub fn root() -> Self {
        JsonPath(Vec::new())
    }

    pub fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_owned()));
        p
    }

    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(f, "(top level)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if is_json5_ident(k) => {
                    if i > 0 {
                        write!(f, ".")?;
                    }
                    write!(f, "{k}")?;
                }
                Seg::Key(k) => write!(f, "[{}]", serde_json::Value::from(k.as_str()))?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// How a hand-written JSON5 file writes things, so what we insert reads like the rest.
#[derive(Debug, Default, Clone, Copy)]
struct Style {
    word_keys: bool,
    single_quotes: bool,
    trailing_commas: bool,
}

/// Whether a string can be written between single quotes as it is.
fn plain(s: &str) -> bool {
    !s.contains(['\'', '\\', '\n', '\r'])
}

impl Style {
    /// Rewrites an inserted node (a member or a value) in this style.
    fn apply(&self, t: &mut Tree, n: Id) {
        match t.kind(n) {
            K::Prop => {
                if let Some(k) = t.key(n)
                    && self.word_keys
                    && t.text(k).starts_with('"')
                    && let Some(d) = t.n[k].decoded.clone()
                {
                    if is_json5_ident(&d) {
                        t.set_text(k, d);
                    } else if self.single_quotes && plain(&d) {
                        t.set_text(k, format!("'{d}'"));
                    }
                }
                if let Some(v) = t.value(n) {
                    self.apply(t, v);
                }
            }
            K::Obj | K::Arr => {
                for c in t.items(n) {
                    self.apply(t, c);
                }
                if self.trailing_commas {
                    t.set_trailing_commas(n);
                }
            }
            K::Str if self.single_quotes && t.text(n).starts_with('"') => {
                if let Some(d) = t.n[n].decoded.clone().filter(|d| plain(d)) {
                    t.set_text(n, format!("'{d}'"));
                }
            }
            _ => {}
        }
    }
}

/// An identifier JSON5 accepts as a bare key (ASCII subset).
fn is_json5_ident(k: &str) -> bool {
    let mut chars = k.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// json5's reading of a text (see [`Doc::read`]).
pub type Reading = std::result::Result<json5::Document, json5::SyntaxError>;

/// What a planner edits: a file's text (`None`: the file is new) and, when the plan has
/// already read it for its other readers, that reading (keeping at least what the planner
/// keeps), so that the file is read once.
pub struct Before<'a> {
    pub text: Option<&'a str>,
    pub read: Option<Reading>,
}

impl<'a> From<Option<&'a str>> for Before<'a> {
    fn from(text: Option<&'a str>) -> Before<'a> {
        Before { text, read: None }
    }
}

/// One parsed document being edited.
pub struct Doc {
    t: RefCell<Tree>,
    path: PathBuf,
    style: Style,
    /// What we inserted, restyled to the file's own style when rendering (not earlier:
    /// lookups during planning rely on the nodes as they were inserted).
    inserted: RefCell<Vec<Id>>,
}

impl Doc {
    /// Reads `text` as OpenClaw does (an empty or missing file is an empty object); the top
    /// level must be an object. `keep` names the subtrees the caller will read or edit;
    /// the rest is checked, not built, and written back byte for byte.
    pub fn parse(path: &Path, text: &str, keep: &[&[&str]]) -> Result<Doc> {
        Doc::read(path, text, json5::Document::parse(text, Some(keep)), keep)
    }

    /// [`Doc::parse`] of what a planner edits, reading it only if no reading was made.
    pub fn open(path: &Path, before: Before, keep: &[&[&str]]) -> Result<Doc> {
        let text = before.text.unwrap_or("");
        match before.read {
            Some(read) => Doc::read(path, text, read, keep),
            None => Doc::parse(path, text, keep),
        }
    }

    /// [`Doc::parse`] from a reading of `text` already made (shared with other readers of
    /// the file): `read` must keep at least `keep`.
    pub fn read(path: &Path, text: &str, read: Reading, keep: &[&[&str]]) -> Result<Doc> {
        let parse_error = |e: json5::SyntaxError| Error::Parse {
            path: path.to_path_buf(),
            line: e.line,
            column: e.column,
            message: e.explain(),
        };
        let read = match read {
            Ok(d) => Some(d),
            Err(_) if json5::is_blank(text) => None,
            Err(e) => return Err(parse_error(e)),
        };
        let counts = read.as_ref().map(|d| d.counts).unwrap_or_default();
        let hidden = read.as_ref().map(|d| d.hidden.clone()).unwrap_or_default();
        let mut t = Tree::new(text, read.map(|d| d.root));
        if t.root_value().is_none() {
            t.set_empty_root();
        }
        let doc = Doc {
            t: RefCell::new(t),
            path: path.to_path_buf(),
            style: Style::default(),
            inserted: RefCell::new(Vec::new()),
        };
        let root = doc.t.borrow().root_value().expect("set");
        if !doc.t.borrow().is_object(root) {
            return Err(doc.wrong_type(&JsonPath::root(), "an object", root));
        }
        if !hidden.is_empty() {
            doc.check_hidden(text, keep, &hidden)?;
        }
        let style = {
            let mut t = doc.t.borrow_mut();
            let props = t.items(root);
            Style {
                word_keys: counts.word_keys > counts.quoted_keys,
                single_quotes: counts.single > counts.double,
                trailing_commas: t.kids(root).iter().any(|&c| t.kind(c) == K::Nl)
                    && props.last().is_some_and(|&p| t.trailing_comma(p).is_some()),
            }
        };
        Ok(Doc { style, ..doc })
    }

    /// OpenClaw's reading of the document (of the kept paths); `Null` for an empty one.
    pub fn value(&self) -> json5::Value {
        let t = self.t.borrow();
        t.root_value()
            .and_then(|r| t.read(r))
            .unwrap_or(json5::Value::Null)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn root_object(&self) -> Obj {
        self.t.borrow().root_value().expect("an object")
    }

    /// The document as text, in the file's own style.
    pub fn render(&self) -> String {
        let mut t = self.t.borrow_mut();
        for n in self.inserted.borrow_mut().drain(..) {
            self.style.apply(&mut t, n);
        }
        t.render()
    }

    fn inserted(&self, n: Id) -> Id {
        self.inserted.borrow_mut().push(n);
        n
    }

    /// Spreads `obj` and every object or array around it over lines, so an inserted value
    /// (always multi-line) never shares a construct with one-line ones.
    fn expand(&self, obj: Obj) {
        let mut t = self.t.borrow_mut();
        let mut cur = Some(obj);
        while let Some(c) = cur {
            if matches!(t.kind(c), K::Obj | K::Arr) {
                t.ensure_multiline(c);
            }
            cur = t.parent(c);
        }
    }

    /// Appends `key: value` to `obj`.
    pub fn append(&self, obj: Obj, key: &str, value: Input) -> Prop {
        self.insert(obj, usize::MAX, key, value)
    }

    /// Inserts `key: value` into `obj` at `index`.
    pub fn insert(&self, obj: Obj, index: usize, key: &str, value: Input) -> Prop {
        let index = (index != usize::MAX).then_some(index);
        let p = self
            .t
            .borrow_mut()
            .insert_item(obj, index, Ins::Prop(key, value));
        self.expand(obj);
        self.inserted(p)
    }

    /// Replaces a member's value, expanding the objects around it as [`Doc::append`] does.
    pub fn replace(&self, prop: Prop, value: Input) {
        let v = self.t.borrow_mut().set_value(prop, value);
        let obj = self.t.borrow().parent(prop);
        if let Some(obj) = obj {
            self.expand(obj);
        }
        self.inserted(v);
    }

    /// The members of an object.
    pub fn props(&self, obj: Obj) -> Vec<Prop> {
        self.t.borrow_mut().items(obj)
    }

    /// The elements of an array.
    pub fn elements(&self, arr: Arr) -> Vec<Item> {
        self.t.borrow_mut().items(arr)
    }

    pub fn name(&self, prop: Prop) -> Option<String> {
        self.t.borrow().name(prop)
    }

    /// A member's value.
    pub fn value_of(&self, prop: Prop) -> Item {
        self.t.borrow().value(prop).expect("a member has a value")
    }

    /// A member's key, or a value, as json5 reads it (serde_json's terms).
    pub fn serde(&self, n: Item) -> Option<serde_json::Value> {
        let t = self.t.borrow();
        let n = if t.kind(n) == K::Prop { t.value(n)? } else { n };
        t.read(n).map(|v| v.to_serde())
    }

    pub fn as_object(&self, n: Item) -> Option<Obj> {
        self.t.borrow().is_object(n).then_some(n)
    }

    pub fn as_array(&self, n: Item) -> Option<Arr> {
        self.t.borrow().is_array(n).then_some(n)
    }

    /// A string value (a key is not one).
    pub fn as_string(&self, n: Item) -> Option<String> {
        let t = self.t.borrow();
        match t.kind(n) {
            K::Str => t.n[n].decoded.clone(),
            K::Closed => match &t.node(n)?.kind {
                Kind::Scalar(json5::Value::String(s)) => Some(s.to_lossy()),
                _ => None,
            },
            _ => None,
        }
    }

    /// The key of `prop` when written as a string (not a bare word).
    pub fn quoted_key(&self, prop: Prop) -> Option<Item> {
        let t = self.t.borrow();
        t.key(prop).filter(|&k| t.kind(k) == K::Str)
    }

    /// Rewrites a string (a value or a quoted key) as `raw`, quotes included.
    pub fn set_raw(&self, n: Item, raw: String, decoded: &str) {
        self.t.borrow_mut().set_string(n, raw, decoded);
    }

    /// Removes a member or an element, with its comma.
    pub fn delete(&self, n: Item) {
        self.t.borrow_mut().remove_item(n);
    }

    /// Spreads an array over lines, one element per line.
    pub fn spread(&self, arr: Arr) {
        self.t.borrow_mut().ensure_multiline(arr);
    }

    /// The member `key` of `obj`; more than one is an error, since OpenClaw would read
    /// only the last and our edit might land on the wrong one.
    pub fn prop(&self, obj: Obj, at: &JsonPath, key: &str) -> Result<Option<Prop>> {
        let mut found = None;
        for p in self.props(obj) {
            if self.name(p).as_deref() == Some(key) {
                if found.is_some() {
                    let pointer = at.key(key);
                    return Err(Error::DuplicateKey {
                        path: self.path.clone(),
                        line: self.line_of(&pointer),
                        pointer: pointer.to_string(),
                    });
                }
                found = Some(p);
            }
        }
        Ok(found)
    }

    /// `obj[key]` as an object, `None` when absent.
    pub fn object(&self, obj: Obj, at: &JsonPath, key: &str) -> Result<Option<Obj>> {
        let Some(p) = self.prop(obj, at, key)? else {
            return Ok(None);
        };
        let v = self.value_of(p);
        self.as_object(v)
            .map(Some)
            .ok_or_else(|| self.wrong_type(&at.key(key), "an object", v))
    }

    /// `obj[key]` as an object, created (empty) when absent.
    pub fn ensure_object(&self, obj: Obj, at: &JsonPath, key: &str) -> Result<Obj> {
        match self.object(obj, at, key)? {
            Some(o) => Ok(o),
            None => {
                let p = self.append(obj, key, Input::Object(Vec::new()));
                Ok(self.value_of(p))
            }
        }
    }

    /// Walks (and creates) nested objects: `ensure_path(root, ["agents", "defaults"])`.
    pub fn ensure_path(&self, obj: Obj, keys: &[&str]) -> Result<(Obj, JsonPath)> {
        let mut cur = obj;
        let mut at = JsonPath::root();
        for k in keys {
            cur = self.ensure_object(cur, &at, k)?;
            at = at.key(k);
        }
        Ok((cur, at))
    }

    /// Walks nested objects without creating any: `None` as soon as one is absent.
    pub fn find_path(&self, obj: Obj, keys: &[&str]) -> Result<Option<(Obj, JsonPath)>> {
        let mut cur = obj;
        let mut at = JsonPath::root();
        for k in keys {
            match self.object(cur, &at, k)? {
                Some(o) => cur = o,
                None => return Ok(None),
            }
            at = at.key(k);
        }
        Ok(Some((cur, at)))
    }

    /// Removes `obj[key]` (with its comma), if present.
    pub fn remove(&self, obj: Obj, at: &JsonPath, key: &str) -> Result<bool> {
        let p = self.prop(obj, at, key)?;
        if let Some(p) = p {
            self.delete(p);
        }
        Ok(p.is_some())
    }

    /// `obj[key]` as a string, `None` when absent.
    pub fn string(&self, obj: Obj, at: &JsonPath, key: &str) -> Result<Option<String>> {
        let Some(p) = self.prop(obj, at, key)? else {
            return Ok(None);
        };
        let v = self.value_of(p);
        self.as_string(v)
            .map(Some)
            .ok_or_else(|| self.wrong_type(&at.key(key), "a string", v))
    }

    /// `obj[key]` as an array, `None` when absent.
    pub fn array(&self, obj: Obj, at: &JsonPath, key: &str) -> Result<Option<Arr>> {
        let Some(p) = self.prop(obj, at, key)? else {
            return Ok(None);
        };
        let v = self.value_of(p);
        self.as_array(v)
            .map(Some)
            .ok_or_else(|| self.wrong_type(&at.key(key), "an array", v))
    }

    /// The strings of an array of strings; any other element is a type error.
    pub fn strings(&self, arr: Arr, at: &JsonPath) -> Result<Vec<String>> {
        self.elements(arr)
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                self.as_string(e)
                    .ok_or_else(|| self.wrong_type(&at.index(i), "a string", e))
            })
            .collect()
    }

    /// Sets `obj[key]` to a string, touching nothing when it already has that value.
    pub fn set_string(&self, obj: Obj, at: &JsonPath, key: &str, value: &str) -> Result<()> {
        match self.prop(obj, at, key)? {
            Some(p) => {
                if self.as_string(self.value_of(p)).as_deref() != Some(value) {
                    self.replace(p, Input::String(value.to_owned()));
                }
            }
            None => {
                self.append(obj, key, Input::String(value.to_owned()));
            }
        }
        Ok(())
    }

    /// Makes the array hold exactly `desired`. When the current strings are a subsequence of
    /// `desired` the missing ones are inserted in place (the diff shows only new lines),
    /// when `desired` is one of the current strings only the extra ones go; otherwise the
    /// array is rewritten, keeping it multi-line if it was.
    pub fn sync_strings(&self, arr: Arr, current: &[String], desired: &[String]) {
        if current == desired {
            return;
        }
        let elements = self.elements(arr);
        if is_subsequence(desired, current) {
            let mut di = 0;
            for (ci, c) in current.iter().enumerate() {
                if di < desired.len() && &desired[di] == c {
                    di += 1;
                } else {
                    self.delete(elements[ci]);
                }
            }
            return;
        }
        if is_subsequence(current, desired) {
            let mut ci = 0;
            for (di, d) in desired.iter().enumerate() {
                if ci < current.len() && &current[ci] == d {
                    ci += 1;
                } else {
                    let v = Ins::Value(Input::String(d.clone()));
                    let n = self.t.borrow_mut().insert_item(arr, Some(di), v);
                    self.inserted(n);
                }
            }
            return;
        }
        let multiline = self.t.borrow().render_node(arr).contains('\n');
        for e in elements {
            self.delete(e);
        }
        for d in desired {
            self.push_string(arr, d);
        }
        if multiline {
            self.spread(arr);
        }
    }

    /// Appends a string to an array, in the file's style.
    pub fn push_string(&self, arr: Arr, value: &str) {
        self.push_value(arr, Input::String(value.to_owned()));
    }

    pub fn push_value(&self, arr: Arr, value: Input) {
        let n = self
            .t
            .borrow_mut()
            .insert_item(arr, None, Ins::Value(value));
        self.inserted(n);
    }

    pub fn wrong_type(&self, at: &JsonPath, expected: &'static str, found: Item) -> Error {
        Error::WrongType {
            path: self.path.clone(),
            line: self.line_of(at),
            pointer: at.to_string(),
            expected,
            found: self.describe(found),
        }
    }

    fn describe(&self, n: Item) -> String {
        let t = self.t.borrow();
        if t.is_object(n) {
            return "an object".into();
        }
        if t.is_array(n) {
            return "an array".into();
        }
        match t.read(n) {
            Some(json5::Value::String(_)) => "a string".into(),
            Some(json5::Value::Bool(b)) => format!("the boolean {b}"),
            Some(json5::Value::Null) => "null".into(),
            Some(json5::Value::Number(_)) => format!("the number {}", t.text(n)),
            _ => format!("`{}`", t.text(n)),
        }
    }

    /// The 1-based line where `at` starts in the original text (the last member of a
    /// repeated name, as json5 reads it).
    pub fn line_of(&self, at: &JsonPath) -> Option<usize> {
        let mut t = self.t.borrow_mut();
        let mut cur = t.root_value()?;
        let mut start = t.orig(cur)?.start;
        for seg in &at.0 {
            let items = t.items(cur);
            let found = match seg {
                Seg::Key(k) if t.is_object(cur) => items
                    .into_iter()
                    .rfind(|&p| t.orig(p).is_some() && t.name(p).as_deref() == Some(k))?,
                Seg::Index(i) if t.is_array(cur) => items.into_iter().nth(*i)?,
                _ => return None,
            };
            start = t.orig(found)?.start;
            cur = if t.kind(found) == K::Prop {
                t.value(found)?
            } else {
                found
            };
        }
        Some(t.src[..start].matches('\n').count() + 1)
    }

    /// A `//` comment ended by U+2028 or U+2029 hides, from a person and from editors that
    /// end comments at line breaks only, what json5 (and so OpenClaw) reads after it. When
    /// that changes a kept path, the file is refused rather than edited under the hidden
    /// value.
    fn check_hidden(&self, text: &str, keep: &[&[&str]], hidden: &[usize]) -> Result<()> {
        let mut seen = text.as_bytes().to_vec();
        for &h in hidden {
            let end = text[h..].find('\n').map_or(text.len(), |p| h + p);
            seen[h..end].fill(b' ');
        }
        let seen = String::from_utf8(seen).expect("whole characters replaced");
        let line = 1 + text[..hidden[0]].matches('\n').count();
        let sep = if text[hidden[0]..].starts_with('\u{2028}') {
            "a U+2028 LINE SEPARATOR"
        } else {
            "a U+2029 PARAGRAPH SEPARATOR"
        };
        let fix = format!(
            "Line {line} has {sep} (for OpenClaw it ends a // comment and a line): replace it with a plain space or newline (or write that part as plain JSON)"
        );
        let misread = |line, pointer, what| Error::Misread {
            path: self.path.clone(),
            line,
            pointer,
            what,
            fix: fix.clone(),
        };
        // The reading may keep more than `keep` (see `Doc::read`): compare `keep`'s parts.
        let theirs = json5::project(&self.value(), keep).unwrap_or(json5::Value::Null);
        let mine = match json5::parse_projected(&seen, keep) {
            Ok(v) => v.unwrap_or(json5::Value::Null),
            Err(e) => {
                let what = format!(
                    "at column {} the editor cannot parse this ({}), though it is valid JSON5",
                    e.column,
                    e.reason()
                );
                return Err(misread(Some(e.line), None, what));
            }
        };
        let differences = json5::differences(&theirs, &mine);
        let Some(first) = differences.first() else {
            return Ok(());
        };
        let at = (first.path.iter()).fold(JsonPath::root(), |p, s| p.key(&s.segment()));
        let describe =
            |v: Option<&json5::Value>| v.map_or_else(|| "nothing there".into(), |v| v.describe());
        let what = format!(
            "OpenClaw would read {} where the editor sees {}",
            describe(first.old),
            describe(first.new)
        );
        Err(misread(self.line_of(&at), Some(at.to_string()), what))
    }
}

fn is_subsequence(sub: &[String], of: &[String]) -> bool {
    let mut it = of.iter();
    sub.iter().all(|s| it.any(|o| o == s))
}

/// serde_json → a value to insert, keeping key order (serde_json is built with
/// `preserve_order`).
pub fn to_input(v: &serde_json::Value) -> Input {
    use serde_json::Value as V;
    match v {
        V::Null => Input::Null,
        V::Bool(b) => Input::Bool(*b),
        V::Number(n) => Input::Number(n.to_string()),
        V::String(s) => Input::String(s.clone()),
        V::Array(a) => Input::Array(a.iter().map(to_input).collect()),
        V::Object(o) => Input::Object(o.iter().map(|(k, v)| (k.clone(), to_input(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keep everything: these tests exercise the editor, not the partial read.
    const ALL: &[&[&str]] = &[&[]];

    fn doc(text: &str) -> Doc {
        Doc::parse(Path::new("t.json"), text, ALL).unwrap()
    }

    fn refusal(text: &str, keep: &[&[&str]]) -> String {
        match Doc::parse(Path::new("t.json"), text, keep) {
            Ok(_) => panic!("accepted {text:?}"),
            Err(e @ Error::Misread { .. }) => e.to_string(),
            Err(e) => panic!("{text:?}: not a Misread: {e}"),
        }
    }

    #[test]
    fn paths_read_like_openclaw_paths() {
        let p = JsonPath::root()
            .key("auth")
            .key("profiles")
            .key("gaterouter:default");
        assert_eq!(p.to_string(), r#"auth.profiles["gaterouter:default"]"#);
        assert_eq!(JsonPath::root().key("a").index(2).to_string(), "a[2]");
    }

    #[test]
    fn wrong_type_names_path_and_line() {
        let d = doc("{\n  // c\n  agents: {\n    defaults: { model: 5 },\n  },\n}\n");
        let (defaults, at) = d
            .ensure_path(d.root_object(), &["agents", "defaults"])
            .unwrap();
        let err = d.string(defaults, &at, "model").unwrap_err().to_string();
        assert!(
            err.starts_with(
                "t.json:4: `agents.defaults.model` must be a string, but it is the number 5"
            ),
            "{err}"
        );
    }

    #[test]
    fn parse_errors_carry_line_and_column() {
        let err = Doc::parse(Path::new("t.json"), "{\n  \"a\": 1\n  \"b\": 2\n}", ALL)
            .err()
            .unwrap()
            .to_string();
        assert!(
            // OpenClaw's position and words (json5's).
            err.starts_with("t.json:3:3: not valid JSON5: invalid character '\\\"'"),
            "{err}"
        );
    }

    #[test]
    fn top_level_must_be_an_object() {
        let err = Doc::parse(Path::new("t.json"), "[1]", ALL)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("`(top level)` must be an object, but it is an array"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let d = doc("{\"a\": 1, \"a\": 2}");
        assert!(matches!(
            d.prop(d.root_object(), &JsonPath::root(), "a"),
            Err(Error::DuplicateKey { .. })
        ));
    }

    #[test]
    fn sync_inserts_in_place_when_possible() {
        let d = doc("{\n  \"f\": [\n    \"x\",\n    \"y\"\n  ]\n}\n");
        let arr = d
            .array(d.root_object(), &JsonPath::root(), "f")
            .unwrap()
            .unwrap();
        let cur = d.strings(arr, &JsonPath::root().key("f")).unwrap();
        d.sync_strings(arr, &cur, &["a".into(), "x".into(), "y".into(), "z".into()]);
        assert_eq!(
            d.render(),
            "{\n  \"f\": [\n    \"a\",\n    \"x\",\n    \"y\",\n    \"z\"\n  ]\n}\n"
        );
    }

    #[test]
    fn bom_is_kept() {
        let d = doc("\u{feff}{\"a\": 1}\n");
        d.set_string(d.root_object(), &JsonPath::root(), "b", "c")
            .unwrap();
        assert!(d.render().starts_with('\u{feff}'));
    }

    /// Only the changed bytes are new: everything else is spliced back as it was.
    #[test]
    fn an_edit_is_splices_on_the_original() {
        let text = "{\n  // keep\n  a: { x: 1 },\n  b: 'two',\n}\n";
        let d = doc(text);
        d.set_string(d.root_object(), &JsonPath::root(), "b", "three")
            .unwrap();
        let t = d.t.borrow();
        let splices = t.splices();
        assert_eq!(splices.len(), 1, "{splices:?}");
        assert_eq!(&text[splices[0].0.clone()], "'two'");
    }

    /// A `//` comment ended by U+2028 or U+2029 hides what json5 reads after it: refused
    /// with the path, both readings and the cause, in a large file too, and only where the
    /// caller reads.
    #[test]
    fn a_member_hidden_behind_a_line_separator_is_refused() {
        let e = refusal("{\n  a: {\n    b: 1, // c\u{2029}b: 2,\n  },\n}", ALL);
        assert!(e.starts_with("t.json:3: `a.b`: OpenClaw would read the number 2 where the editor sees the number 1;"), "{e}");
        assert!(e.contains("Line 3 has a U+2029 PARAGRAPH SEPARATOR"), "{e}");
        let pad = format!("pad: [{}],\n", "'xxxxxxxxxxxxxxxx', ".repeat(20_000));
        let hidden = format!("{{\n{pad}  a: {{ b: 1, // c\u{2028}b: 2\n  }},\n}}");
        assert!(refusal(&hidden, &[&["a"]]).contains("`a.b`"));
        let text = "{x: {y: 1, // c\u{2028}y: 2\n}, a: {b: 1}}";
        assert!(Doc::parse(Path::new("t.json"), text, &[&["a"]]).is_ok());
        assert!(refusal(text, &[&["x"]]).contains("`x.y`"));
    }
}
