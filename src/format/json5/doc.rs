//! A document as json5 reads it, with where each part is: every value's byte span, and for
//! each member of an object or array its key's span, its `:` and its comma. The spans are
//! what edits are made of (`json_edit` splices new text into the original), so a reader and
//! an editor see one reading.

use std::ops::Range;

use super::value::{JsString, Object, Value};

/// A parsed text: its top-level value, and how its keys and strings are written.
#[derive(Debug, Clone)]
pub struct Document {
    pub root: Node,
    pub counts: Counts,
    /// Where a U+2028 or U+2029 ends a `//` comment (json5 reads on after it).
    pub hidden: Vec<usize>,
}

/// How keys and strings are written: bare or quoted keys, single or double quotes. The
/// editor writes what it inserts the way most of the file is written.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Counts {
    pub word_keys: usize,
    pub quoted_keys: usize,
    pub single: usize,
    pub double: usize,
}

/// One value and its span in the text.
#[derive(Debug, Clone)]
pub struct Node {
    pub span: Range<usize>,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub enum Kind {
    /// A scalar as json5 reads it.
    Scalar(Value),
    Array(Vec<Entry>),
    /// Members in the order written, duplicates included (json5 keeps the last value).
    Object(Vec<Entry>),
    /// Checked but not built (off the paths a partial read keeps).
    Skipped,
}

/// A member of an object (with its key) or an element of an array.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: Option<(JsString, Range<usize>)>,
    /// Where the `:` is (objects only).
    pub colon: usize,
    pub value: Node,
    /// Where the comma after it is.
    pub comma: Option<usize>,
}

impl Node {
    /// The members or elements, for an object or an array.
    pub fn entries(&self) -> Option<&[Entry]> {
        match &self.kind {
            Kind::Array(e) | Kind::Object(e) => Some(e),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self.kind, Kind::Object(_))
    }

    /// The member `key` json5 reads (the last one written).
    pub fn get(&self, key: &str) -> Option<&Node> {
        let Kind::Object(e) = &self.kind else {
            return None;
        };
        let m = e
            .iter()
            .rev()
            .find(|m| m.key.as_ref().is_some_and(|(k, _)| k == key));
        m.map(|m| &m.value)
    }

    /// The node at `keys` (members of nested objects).
    pub fn at(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    /// The value json5 reads, without the parts that were skipped (`None` when this is).
    pub fn to_value(&self) -> Option<Value> {
        Some(match &self.kind {
            Kind::Scalar(v) => v.clone(),
            Kind::Skipped => return None,
            Kind::Array(items) => {
                Value::Array(items.iter().filter_map(|e| e.value.to_value()).collect())
            }
            Kind::Object(members) => {
                let mut o = Object::new();
                for m in members {
                    if let (Some((k, _)), Some(v)) = (&m.key, m.value.to_value()) {
                        o.insert(k.clone(), v);
                    }
                }
                Value::Object(o)
            }
        })
    }
}
