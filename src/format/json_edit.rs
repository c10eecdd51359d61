//! The format-preserving JSON/JSON5 editor both JSON planners share.
//!
//! Edits go through jsonc-parser's CST, so comments, trailing commas, unquoted keys, quote
//! style, indentation (spaces or tabs), CRLF and key order of everything we do not touch stay
//! byte-for-byte as they were, and a diff shows only what really changed. Every read checks
//! the type it expects and reports a wrong one with the file, the JSON path and the line.

use std::fmt;
use std::path::{Path, PathBuf};

use jsonc_parser::ParseOptions;
use jsonc_parser::common::Ranged;
use std::cell::RefCell;

use jsonc_parser::cst::{
    CstArray, CstInputValue, CstNode, CstObject, CstObjectProp, CstRootNode, ObjectPropName,
    TrailingCommaMode,
};

use super::{elide, json5};
use crate::error::{Error, Result};
use crate::plan::agree;

const BOM: &str = "\u{feff}";

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

/// JSON5 as OpenClaw reads it. Missing commas are a jsonc extension JSON5 does not allow;
/// accepting them would let us "fix" a file OpenClaw itself rejects.
fn parse_options() -> ParseOptions {
    ParseOptions {
        allow_missing_commas: false,
        ..ParseOptions::default()
    }
}

/// How a hand-written JSON5 file writes things, so what we insert reads like the rest.
#[derive(Debug, Default, Clone, Copy)]
struct Style {
    word_keys: bool,
    single_quotes: bool,
    trailing_commas: bool,
}

impl Style {
    /// Votes over the whole document. With elision the scanner has already counted every
    /// token (the CST only sees the remainder); otherwise the CST is walked.
    fn detect(root: &CstObject, counts: Option<elide::Counts>) -> Style {
        let c = counts.unwrap_or_else(|| {
            let mut c = elide::Counts::default();
            walk(&root.clone().into(), &mut c);
            c
        });
        // jsonc-parser judges trailing commas by the first multi-line container, breadth
        // first: the top-level object whenever it spans lines, and that one is never elided.
        let props = root.properties();
        let multiline = root.children().iter().any(|c| c.is_newline());
        Style {
            word_keys: c.word_keys > c.quoted_keys,
            single_quotes: c.single > c.double,
            trailing_commas: multiline
                && props.last().is_some_and(|p| p.trailing_comma().is_some()),
        }
    }

    /// Rewrites an inserted node (a property or a value) in this style.
    fn apply(&self, n: &CstNode) {
        if let Some(p) = n.as_object_prop() {
            // Check the raw text first: a subtree can be visited twice, and jsonc-parser
            // panics (rather than erring) when decoding a name already made bare.
            if let (true, Some(ObjectPropName::String(name))) = (self.word_keys, p.name())
                && name.raw_value().starts_with('"')
                && let Ok(decoded) = name.decoded_value()
            {
                if is_json5_ident(&decoded) {
                    name.set_raw_value(decoded);
                } else if self.single_quotes && !decoded.contains(['\'', '\\', '\n', '\r']) {
                    name.set_raw_value(format!("'{decoded}'"));
                }
            }
            if let Some(v) = p.value() {
                self.apply(&v);
            }
        } else if let Some(o) = n.as_object() {
            for p in o.properties() {
                self.apply(&p.into());
            }
            if self.trailing_commas {
                o.set_trailing_commas(TrailingCommaMode::IfMultiline);
            }
        } else if let Some(a) = n.as_array() {
            for e in a.elements() {
                self.apply(&e);
            }
            if self.trailing_commas {
                a.set_trailing_commas(TrailingCommaMode::IfMultiline);
            }
        } else if let Some(s) = n.as_string_lit()
            && self.single_quotes
            && s.raw_value().starts_with('"')
            && let Ok(d) = s.decoded_value()
            && !d.contains(['\'', '\\', '\n', '\r'])
        {
            s.set_raw_value(format!("'{d}'"));
        }
    }
}

fn count_quote(raw: &str, c: &mut elide::Counts) {
    if raw.starts_with('\'') {
        c.single += 1;
    } else {
        c.double += 1;
    }
}

fn walk(n: &CstNode, c: &mut elide::Counts) {
    if let Some(o) = n.as_object() {
        for p in o.properties() {
            match p.name() {
                Some(ObjectPropName::Word(_)) => c.word_keys += 1,
                Some(ObjectPropName::String(s)) => {
                    c.quoted_keys += 1;
                    count_quote(&s.raw_value(), c);
                }
                None => {}
            }
            if let Some(v) = p.value() {
                walk(&v, c);
            }
        }
    } else if let Some(a) = n.as_array() {
        for e in a.elements() {
            walk(&e, c);
        }
    } else if let Some(s) = n.as_string_lit() {
        count_quote(&s.raw_value(), c);
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

/// Texts this long are read by the json5 check on a second thread while the editor parses
/// them (openclaw.json is the longest job of a plan); shorter ones are not worth a thread.
const PARALLEL_FROM: usize = 256 * 1024;

/// One parsed document being edited.
pub struct Doc {
    root: CstRootNode,
    path: PathBuf,
    source: String,
    bom: bool,
    style: Style,
    /// What we inserted, restyled to the file's own style when rendering (not earlier:
    /// lookups during planning rely on the nodes as the CST created them).
    inserted: RefCell<Vec<CstNode>>,
    elided: Option<elide::Elided>,
}

impl Doc {
    /// Parses `text` (an empty or missing file is an empty object). The top level must be
    /// an object. `keep` names the subtrees the caller will read or edit; everything else
    /// may be elided from the CST (see `elide`) and is written back byte for byte.
    pub fn parse(path: &Path, text: &str, keep: &[&[&str]]) -> Result<Doc> {
        if text.len() < PARALLEL_FROM {
            let reference = agree::reference(path, text, keep);
            return Self::parse_checked(path, text, keep, move || reference);
        }
        std::thread::scope(|s| {
            let reading = s.spawn(|| agree::reference(path, text, keep));
            Self::parse_checked(path, text, keep, move || {
                reading
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))
            })
        })
    }

    /// [`Doc::parse`], given OpenClaw's reading of the kept paths (see `agree`), which is
    /// asked for only once the editor has parsed.
    fn parse_checked(
        path: &Path,
        text: &str,
        keep: &[&[&str]],
        reference: impl FnOnce() -> Result<Option<json5::Value>>,
    ) -> Result<Doc> {
        let (bom, body) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let elided = elide::elide(body, keep);
        let deep = match &elided {
            Ok(_) => None,
            Err(elide::GiveUp::TooDeep { line, column }) => Some((*line, *column)),
            Err(elide::GiveUp::Unsure) => elide::too_deep(body),
        };
        let elided = elided.ok();
        // The editor's parse; `Err(None)`: the elided text failed but the whole one parses.
        let cst = match (deep, &elided) {
            (Some(_), _) => None,
            (None, Some(e)) => Some(
                CstRootNode::parse(&e.text, &parse_options())
                    .map_err(|_| CstRootNode::parse(body, &parse_options()).err()),
            ),
            (None, None) => Some(CstRootNode::parse(body, &parse_options()).map_err(Some)),
        };
        // OpenClaw's reading decides first: what json5 rejects is an error at json5's
        // position, whatever the editor made of it.
        let reference = reference()?;
        if let Some((line, column)) = deep {
            return Err(Error::Parse {
                path: path.to_path_buf(),
                line,
                column,
                message: format!("nested more than {} levels deep", elide::MAX_DEPTH),
            });
        }
        let root = match cst.expect("parsed unless too deep") {
            Ok(root) => root,
            // Positions point into the user's file, not the elided text.
            Err(Some(e)) => {
                return Err(match reference {
                    // json5 accepts it, so the problem is the editor's.
                    Some(_) => agree::editor_cannot_parse(
                        path,
                        body,
                        e.line_display(),
                        e.column_display(),
                        &e.kind().to_string(),
                    ),
                    None => Error::Parse {
                        path: path.to_path_buf(),
                        line: e.line_display(),
                        column: e.column_display(),
                        message: e.kind().to_string(),
                    },
                });
            }
            Err(None) => {
                return Err(Error::Template(
                    "internal: elided text did not parse".into(),
                ));
            }
        };
        let style = root
            .object_value()
            .map(|o| Style::detect(&o, elided.as_ref().map(|e| e.counts)))
            .unwrap_or_default();
        let doc = Doc {
            root,
            path: path.to_path_buf(),
            source: body.to_owned(),
            bom,
            style,
            inserted: RefCell::new(Vec::new()),
            elided,
        };
        if let Some(reference) = &reference {
            agree::check(path, body, &doc.root, keep, reference, |keys| {
                let at = keys.iter().fold(JsonPath::root(), |p, k| p.key(k));
                doc.line_of(&at)
            })?;
        }
        match doc.root.value() {
            None => {
                doc.root.object_value_or_set();
            }
            Some(v) if v.as_object().is_none() => {
                return Err(doc.wrong_type(&JsonPath::root(), "an object", &v));
            }
            Some(_) => {}
        }
        Ok(doc)
    }

    /// The editor's reading of the document as a JSON5 value (of the kept paths, when the
    /// rest was elided); `Null` for an empty document.
    pub fn value(&self) -> json5::Value {
        agree::editor_value(&self.root).unwrap_or(json5::Value::Null)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn root_object(&self) -> CstObject {
        self.root.object_value_or_set()
    }

    /// The document as text, in the file's own style.
    pub fn render(&self) -> String {
        for n in self.inserted.borrow_mut().drain(..) {
            self.style.apply(&n);
        }
        let mut body = self.root.to_string();
        if let Some(e) = &self.elided {
            body = e.restore(&body, &self.source);
        }
        if self.bom {
            format!("{BOM}{body}")
        } else {
            body
        }
    }

    /// Appends `key: value` to `obj`. An inserted value is written multi-line, and an
    /// enclosing object written on one line (`"agents": { "defaults": { … } }`) is spread
    /// over lines too, so the result never mixes the two styles in one construct.
    pub fn append(&self, obj: &CstObject, key: &str, value: CstInputValue) -> CstObjectProp {
        let p = obj.append(key, value);
        expand(obj);
        self.inserted.borrow_mut().push(p.clone().into());
        p
    }

    /// Like [`Doc::append`], at position `index`.
    pub fn insert(
        &self,
        obj: &CstObject,
        index: usize,
        key: &str,
        value: CstInputValue,
    ) -> CstObjectProp {
        let p = obj.insert(index, key, value);
        expand(obj);
        self.inserted.borrow_mut().push(p.clone().into());
        p
    }

    /// Replaces a property's value, expanding enclosing objects as [`Doc::append`] does.
    pub fn replace(&self, prop: &CstObjectProp, value: CstInputValue) {
        prop.set_value(value);
        if let Some(obj) = prop.parent().and_then(|p| p.as_object()) {
            expand(&obj);
        }
        if let Some(v) = prop.value() {
            self.inserted.borrow_mut().push(v);
        }
    }

    /// The property `key` of `obj`; more than one is an error, since OpenClaw would read
    /// only the last and our edit might land on the wrong one.
    pub fn prop(&self, obj: &CstObject, at: &JsonPath, key: &str) -> Result<Option<CstObjectProp>> {
        let mut found = None;
        for p in obj.properties() {
            if p.decoded_name().as_deref() == Some(key) {
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
    pub fn object(&self, obj: &CstObject, at: &JsonPath, key: &str) -> Result<Option<CstObject>> {
        let Some(p) = self.prop(obj, at, key)? else {
            return Ok(None);
        };
        let v = self.value_of(&p, &at.key(key))?;
        v.as_object()
            .map(Some)
            .ok_or_else(|| self.wrong_type(&at.key(key), "an object", &v))
    }

    /// `obj[key]` as an object, created (empty) when absent.
    pub fn ensure_object(&self, obj: &CstObject, at: &JsonPath, key: &str) -> Result<CstObject> {
        match self.object(obj, at, key)? {
            Some(o) => Ok(o),
            None => {
                let p = self.append(obj, key, CstInputValue::Object(Vec::new()));
                Ok(p.object_value().expect("just inserted an object"))
            }
        }
    }

    /// Walks (and creates) nested objects: `ensure_path(root, ["agents", "defaults"])`.
    pub fn ensure_path(&self, obj: &CstObject, keys: &[&str]) -> Result<(CstObject, JsonPath)> {
        let mut cur = obj.clone();
        let mut at = JsonPath::root();
        for k in keys {
            cur = self.ensure_object(&cur, &at, k)?;
            at = at.key(k);
        }
        Ok((cur, at))
    }

    /// Walks nested objects without creating any: `None` as soon as one is absent.
    pub fn find_path(
        &self,
        obj: &CstObject,
        keys: &[&str],
    ) -> Result<Option<(CstObject, JsonPath)>> {
        let mut cur = obj.clone();
        let mut at = JsonPath::root();
        for k in keys {
            match self.object(&cur, &at, k)? {
                Some(o) => cur = o,
                None => return Ok(None),
            }
            at = at.key(k);
        }
        Ok(Some((cur, at)))
    }

    /// Removes `obj[key]` (with its comma), if present.
    pub fn remove(&self, obj: &CstObject, at: &JsonPath, key: &str) -> Result<bool> {
        Ok(match self.prop(obj, at, key)? {
            Some(p) => {
                p.remove();
                true
            }
            None => false,
        })
    }

    /// `obj[key]` as a string, `None` when absent.
    pub fn string(&self, obj: &CstObject, at: &JsonPath, key: &str) -> Result<Option<String>> {
        let Some(p) = self.prop(obj, at, key)? else {
            return Ok(None);
        };
        let v = self.value_of(&p, &at.key(key))?;
        string_value(&v)
            .map(Some)
            .ok_or_else(|| self.wrong_type(&at.key(key), "a string", &v))
    }

    /// `obj[key]` as an array, `None` when absent.
    pub fn array(&self, obj: &CstObject, at: &JsonPath, key: &str) -> Result<Option<CstArray>> {
        let Some(p) = self.prop(obj, at, key)? else {
            return Ok(None);
        };
        let v = self.value_of(&p, &at.key(key))?;
        v.as_array()
            .map(Some)
            .ok_or_else(|| self.wrong_type(&at.key(key), "an array", &v))
    }

    /// The strings of an array of strings; any other element is a type error.
    pub fn strings(&self, arr: &CstArray, at: &JsonPath) -> Result<Vec<String>> {
        arr.elements()
            .iter()
            .enumerate()
            .map(|(i, e)| {
                string_value(e).ok_or_else(|| self.wrong_type(&at.index(i), "a string", e))
            })
            .collect()
    }

    /// Sets `obj[key]` to a string, touching nothing when it already has that value.
    pub fn set_string(&self, obj: &CstObject, at: &JsonPath, key: &str, value: &str) -> Result<()> {
        match self.prop(obj, at, key)? {
            Some(p) => {
                let v = self.value_of(&p, &at.key(key))?;
                if string_value(&v).as_deref() != Some(value) {
                    self.replace(&p, CstInputValue::String(value.to_owned()));
                }
            }
            None => {
                self.append(obj, key, CstInputValue::String(value.to_owned()));
            }
        }
        Ok(())
    }

    /// Makes the array hold exactly `desired`. When the current strings are a subsequence of
    /// `desired` the missing ones are inserted in place (the diff shows only new lines);
    /// otherwise the array is rewritten, keeping it multi-line if it was.
    pub fn sync_strings(&self, arr: &CstArray, current: &[String], desired: &[String]) {
        if current == desired {
            return;
        }
        if is_subsequence(desired, current) {
            // Only removals: drop the extra elements, leaving the rest as written.
            let elements = arr.elements();
            let mut di = 0;
            for (ci, c) in current.iter().enumerate() {
                if di < desired.len() && &desired[di] == c {
                    di += 1;
                } else {
                    elements[ci].clone().remove();
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
                    let n = arr.insert(di, CstInputValue::String(d.clone()));
                    self.inserted.borrow_mut().push(n);
                }
            }
            return;
        }
        let multiline = arr.to_string().contains('\n');
        for e in arr.elements() {
            e.remove();
        }
        for d in desired {
            let n = arr.append(CstInputValue::String(d.clone()));
            self.inserted.borrow_mut().push(n);
        }
        if multiline {
            arr.ensure_multiline();
        }
    }

    fn value_of(&self, p: &CstObjectProp, at: &JsonPath) -> Result<CstNode> {
        p.value().ok_or_else(|| Error::Parse {
            path: self.path.clone(),
            line: self.line_of(at).unwrap_or(0),
            column: 0,
            message: format!("`{at}` has no value"),
        })
    }

    pub fn wrong_type(&self, at: &JsonPath, expected: &'static str, found: &CstNode) -> Error {
        Error::WrongType {
            path: self.path.clone(),
            line: self.line_of(at),
            pointer: at.to_string(),
            expected,
            found: describe(found),
        }
    }

    /// The 1-based line where `at` starts in the original text. Only errors need it, so
    /// the CST (which has no positions) is not burdened with it: we re-parse to an AST.
    pub fn line_of(&self, at: &JsonPath) -> Option<usize> {
        use jsonc_parser::ast::Value;
        let parsed = jsonc_parser::parse_to_ast(
            &self.source,
            &jsonc_parser::CollectOptions::default(),
            &parse_options(),
        )
        .ok()?;
        let mut cur = parsed.value?;
        let mut start = cur.start();
        for seg in &at.0 {
            cur = match (seg, cur) {
                (Seg::Key(k), Value::Object(o)) => {
                    let prop = o.properties.into_iter().rfind(|p| p.name.as_str() == k)?;
                    start = prop.range.start;
                    prop.value
                }
                (Seg::Index(i), Value::Array(a)) => {
                    let v = a.elements.into_iter().nth(*i)?;
                    start = v.start();
                    v
                }
                _ => return None,
            };
        }
        Some(self.source[..start].matches('\n').count() + 1)
    }
}

/// Spreads `obj` and every object or array around it over lines (a no-op for those that
/// already are).
fn expand(obj: &CstObject) {
    obj.ensure_multiline();
    for a in obj.ancestors() {
        if let Some(o) = a.as_object() {
            o.ensure_multiline();
        } else if let Some(arr) = a.as_array() {
            arr.ensure_multiline();
        }
    }
}

/// Appends a string to an array, in the file's style.
impl Doc {
    pub fn push_string(&self, arr: &CstArray, value: &str) {
        self.push_value(arr, CstInputValue::String(value.to_owned()));
    }

    pub fn push_value(&self, arr: &CstArray, value: CstInputValue) {
        let n = arr.append(value);
        self.inserted.borrow_mut().push(n);
    }
}

/// A string literal's decoded value (a bare word is not a string in JSON5 values).
pub fn string_value(n: &CstNode) -> Option<String> {
    n.as_string_lit().and_then(|s| s.decoded_value().ok())
}

fn describe(n: &CstNode) -> String {
    if n.as_object().is_some() {
        "an object".into()
    } else if n.as_array().is_some() {
        "an array".into()
    } else if n.as_string_lit().is_some() {
        "a string".into()
    } else if let Some(b) = n.as_boolean_lit() {
        format!("the boolean {}", b.value())
    } else if n.as_null_keyword().is_some() {
        "null".into()
    } else if let Some(num) = n.as_number_lit() {
        format!("the number {num}")
    } else {
        format!("`{n}`")
    }
}

fn is_subsequence(sub: &[String], of: &[String]) -> bool {
    let mut it = of.iter();
    sub.iter().all(|s| it.any(|o| o == s))
}

/// serde_json → CST input, keeping key order (serde_json is built with `preserve_order`).
pub fn to_input(v: &serde_json::Value) -> CstInputValue {
    use serde_json::Value as V;
    match v {
        V::Null => CstInputValue::Null,
        V::Bool(b) => CstInputValue::Bool(*b),
        V::Number(n) => CstInputValue::Number(n.to_string()),
        V::String(s) => CstInputValue::String(s.clone()),
        V::Array(a) => CstInputValue::Array(a.iter().map(to_input).collect()),
        V::Object(o) => {
            CstInputValue::Object(o.iter().map(|(k, v)| (k.clone(), to_input(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keep everything: these tests exercise the editor, not the elision.
    const ALL: &[&[&str]] = &[&[]];

    fn doc(text: &str) -> Doc {
        Doc::parse(Path::new("t.json"), text, ALL).unwrap()
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
            .ensure_path(&d.root_object(), &["agents", "defaults"])
            .unwrap();
        let err = d.string(&defaults, &at, "model").unwrap_err().to_string();
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
            // OpenClaw's position and words (json5's), not jsonc-parser's.
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
            d.prop(&d.root_object(), &JsonPath::root(), "a"),
            Err(Error::DuplicateKey { .. })
        ));
    }

    #[test]
    fn sync_inserts_in_place_when_possible() {
        let d = doc("{\n  \"f\": [\n    \"x\",\n    \"y\"\n  ]\n}\n");
        let arr = d
            .array(&d.root_object(), &JsonPath::root(), "f")
            .unwrap()
            .unwrap();
        let cur = d.strings(&arr, &JsonPath::root().key("f")).unwrap();
        d.sync_strings(
            &arr,
            &cur,
            &["a".into(), "x".into(), "y".into(), "z".into()],
        );
        assert_eq!(
            d.render(),
            "{\n  \"f\": [\n    \"a\",\n    \"x\",\n    \"y\",\n    \"z\"\n  ]\n}\n"
        );
    }

    #[test]
    fn bom_is_kept() {
        let d = doc("\u{feff}{\"a\": 1}\n");
        d.set_string(&d.root_object(), &JsonPath::root(), "b", "c")
            .unwrap();
        assert!(d.render().starts_with('\u{feff}'));
    }
}
