//! The values `json5.parse` can produce, as a JavaScript program would see them.

use std::collections::HashMap;
use std::fmt;

/// A JavaScript string. JSON5 escapes can produce lone UTF-16 surrogates (`"\uD800"`), which
/// a Rust `String` cannot hold; those (and only those) are kept as UTF-16 code units, so
/// two equal JavaScript strings always have the same representation.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct JsString(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Utf8(String),
    /// Not valid UTF-16 (holds an unpaired surrogate).
    Units(Vec<u16>),
}

impl JsString {
    /// From UTF-16 code units, normalised to UTF-8 when they are well formed.
    pub fn from_units(units: Vec<u16>) -> Self {
        match String::from_utf16(&units) {
            Ok(s) => JsString(Repr::Utf8(s)),
            Err(_) => JsString(Repr::Units(units)),
        }
    }

    /// The string, unless it holds a lone surrogate.
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Repr::Utf8(s) => Some(s),
            Repr::Units(_) => None,
        }
    }

    /// The UTF-16 code units, as JavaScript sees them.
    pub fn to_units(&self) -> Vec<u16> {
        match &self.0 {
            Repr::Utf8(s) => s.encode_utf16().collect(),
            Repr::Units(u) => u.clone(),
        }
    }

    /// The string with any lone surrogate replaced by U+FFFD.
    pub fn to_lossy(&self) -> String {
        match &self.0 {
            Repr::Utf8(s) => s.clone(),
            Repr::Units(u) => String::from_utf16_lossy(u),
        }
    }

    /// Whether JavaScript orders this key as an array index (a canonical integer below
    /// 2^32 - 1): such keys come first, ascending, in an object's key order.
    pub fn array_index(&self) -> Option<u32> {
        let s = self.as_str()?;
        if s.is_empty() || (s.len() > 1 && s.starts_with('0')) || s.len() > 10 {
            return None;
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u64 = s.parse().ok()?;
        (n < u64::from(u32::MAX)).then_some(n as u32)
    }
}

impl From<String> for JsString {
    fn from(s: String) -> Self {
        JsString(Repr::Utf8(s))
    }
}

impl From<&str> for JsString {
    fn from(s: &str) -> Self {
        JsString(Repr::Utf8(s.to_owned()))
    }
}

impl PartialEq<str> for JsString {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl fmt::Debug for JsString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Utf8(s) => write!(f, "{s:?}"),
            Repr::Units(u) => write!(f, "utf16{u:x?}"),
        }
    }
}

impl fmt::Display for JsString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_lossy())
    }
}

/// A JavaScript object as json5 builds it: a later duplicate key replaces the value but
/// keeps the first one's place; `__proto__` is an ordinary own key (json5 defines
/// properties, it does not assign them).
#[derive(Clone, Default)]
pub struct Object {
    entries: Vec<(JsString, Value)>,
    /// Built once an object is big enough that linear lookups would make parsing quadratic.
    index: Option<HashMap<JsString, usize>>,
}

const INDEX_FROM: usize = 16;

impl Object {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key`, as `Object.defineProperty` does: in place when it exists.
    pub fn insert(&mut self, key: JsString, value: Value) {
        if let Some(i) = self.position(&key) {
            self.entries[i].1 = value;
            return;
        }
        if self.index.is_none() && self.entries.len() >= INDEX_FROM {
            let keys = self.entries.iter().enumerate();
            self.index = Some(keys.map(|(i, (k, _))| (k.clone(), i)).collect());
        }
        if let Some(ix) = &mut self.index {
            ix.insert(key.clone(), self.entries.len());
        }
        self.entries.push((key, value));
    }

    fn position(&self, key: &JsString) -> Option<usize> {
        match &self.index {
            Some(ix) => ix.get(key).copied(),
            None => self.entries.iter().position(|(k, _)| k == key),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.get_js(&JsString::from(key))
    }

    pub fn get_js(&self, key: &JsString) -> Option<&Value> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keys in creation order.
    pub fn iter(&self) -> impl Iterator<Item = (&JsString, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Keys in JavaScript's order (`Object.keys`): array indices ascending, then the rest in
    /// creation order. This is the order OpenClaw iterates in.
    pub fn iter_js(&self) -> Vec<(&JsString, &Value)> {
        let mut out: Vec<_> = self.iter().collect();
        // Stable: keys that are not indices keep their creation order.
        out.sort_by_key(|(k, _)| k.array_index().unwrap_or(u32::MAX));
        out
    }
}

/// Equal as JavaScript values: the same keys with equal values (order is not a value).
impl PartialEq for Object {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .entries
                .iter()
                .all(|(k, v)| other.get_js(k).is_some_and(|o| o == v))
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Everything `json5.parse` can return. Numbers are JavaScript doubles: `Infinity`, `NaN`
/// and `-0` included, big or long literals rounded as JavaScript rounds them.
#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(JsString),
    Array(Vec<Value>),
    Object(Object),
}

/// `Object.is` semantics for numbers: `NaN` equals `NaN`, `0` differs from `-0`.
pub fn same_number(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => same_number(*a, *b),
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => a == b,
            (Value::Object(a), Value::Object(b)) => a == b,
            _ => false,
        }
    }
}

impl Value {
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => s.as_str(),
            _ => None,
        }
    }

    /// `self[key]` when `self` is an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }

    /// The value at an RFC 6901 JSON pointer (`/agents/defaults/model`).
    pub fn pointer(&self, pointer: &str) -> Option<&Value> {
        if pointer.is_empty() {
            return Some(self);
        }
        let mut cur = self;
        for raw in pointer.strip_prefix('/')?.split('/') {
            let seg = raw.replace("~1", "/").replace("~0", "~");
            cur = match cur {
                Value::Object(o) => o.get(&seg)?,
                Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// A short description for messages: "the string \"x\"", "an object", …
    pub fn describe(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(b) => format!("the boolean {b}"),
            Value::Number(n) => format!("the number {}", js_number(*n)),
            Value::String(s) => format!("the string {:?}", s.to_lossy()),
            Value::Array(a) => format!("an array of {} element(s)", a.len()),
            Value::Object(o) => format!("an object with {} key(s)", o.len()),
        }
    }

    /// As serde_json, for code that reads plain JSON data: keys in JavaScript order,
    /// non-finite numbers become `null` and lone surrogates U+FFFD (as `JSON.stringify`
    /// would, except for the surrogates).
    pub fn to_serde(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 && !is_neg_zero(*n) {
                    J::from(*n as i64)
                } else {
                    serde_json::Number::from_f64(*n).map_or(J::Null, J::Number)
                }
            }
            Value::String(s) => J::String(s.to_lossy()),
            Value::Array(a) => J::Array(a.iter().map(Value::to_serde).collect()),
            Value::Object(o) => J::Object(
                o.iter_js()
                    .into_iter()
                    .map(|(k, v)| (k.to_lossy(), v.to_serde()))
                    .collect(),
            ),
        }
    }
}

fn is_neg_zero(n: f64) -> bool {
    n == 0.0 && n.is_sign_negative()
}

/// A number roughly as JavaScript prints it (for messages only).
pub fn js_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if is_neg_zero(n) {
        "-0".into()
    } else {
        format!("{n}")
    }
}
