//! Where two documents differ, as RFC 6901 JSON pointers: the check, before writing, that a
//! new file reads back with only the paths we own changed.

use super::value::{JsString, Value};

/// The JSON pointers (RFC 6901: `~` is written `~0`, `/` is `~1`) of every difference
/// between `a` and `b`, in document order (JavaScript key order, `a`'s keys first). A
/// member or element present on one side only is one difference at its own pointer; values
/// of different types, or unequal scalars, are one difference where they sit (`""` for the
/// whole document). Numbers compare as `Object.is` does (`NaN` equals `NaN`, `0` is not
/// `-0`). Iterative, so no depth overflows the stack.
pub fn diff(a: &Value, b: &Value) -> Vec<String> {
    differences(a, b).iter().map(Difference::pointer).collect()
}

/// One place where two documents differ: the steps to it and what each side holds there
/// (`None` for a member or element present on the other side only).
#[derive(Debug)]
pub struct Difference<'v> {
    pub path: Vec<Step<'v>>,
    pub old: Option<&'v Value>,
    pub new: Option<&'v Value>,
}

/// A step into a document: a member by its key (as json5 read it, unpaired surrogates and
/// all) or an element by its index.
#[derive(Debug, Clone, Copy)]
pub enum Step<'v> {
    Key(&'v JsString),
    Index(usize),
}

impl Step<'_> {
    /// The step as a path segment (a key with unpaired surrogates reads them as U+FFFD).
    pub fn segment(&self) -> String {
        match self {
            Step::Key(k) => k.to_lossy(),
            Step::Index(i) => i.to_string(),
        }
    }
}

impl Difference<'_> {
    /// Where it is, as an RFC 6901 pointer.
    pub fn pointer(&self) -> String {
        let segments: Vec<String> = self.path.iter().map(Step::segment).collect();
        pointer(&segments)
    }
}

/// `segments` as a JSON pointer (RFC 6901: `~` as `~0`, `/` as `~1`).
pub fn pointer<S: AsRef<str>>(segments: &[S]) -> String {
    segments
        .iter()
        .map(|s| format!("/{}", s.as_ref().replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// [`diff`], with each difference's steps and values.
pub fn differences<'v>(a: &'v Value, b: &'v Value) -> Vec<Difference<'v>> {
    let mut out = Vec::new();
    let mut work = vec![(Vec::new(), Some(a), Some(b))];
    while let Some((path, a, b)) = work.pop() {
        let (Some(a), Some(b)) = (a, b) else {
            out.push(Difference {
                path,
                old: a,
                new: b,
            });
            continue;
        };
        let mut children = Vec::new();
        let mut child = |step, x, y| {
            let mut p = path.clone();
            p.push(step);
            children.push((p, x, y));
        };
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for (k, va) in x.iter_js() {
                    child(Step::Key(k), Some(va), y.get_js(k));
                }
                for (k, vb) in y.iter_js() {
                    if x.get_js(k).is_none() {
                        child(Step::Key(k), None, Some(vb));
                    }
                }
            }
            (Value::Array(x), Value::Array(y)) => {
                for i in 0..x.len().max(y.len()) {
                    child(Step::Index(i), x.get(i), y.get(i));
                }
            }
            _ => {
                if a != b {
                    out.push(Difference {
                        path,
                        old: Some(a),
                        new: Some(b),
                    });
                }
            }
        }
        // Reversed, so the stack pops them in document order.
        work.extend(children.into_iter().rev());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn d(a: &str, b: &str) -> Vec<String> {
        diff(&parse(a).unwrap(), &parse(b).unwrap())
    }

    #[test]
    fn equal_documents_have_no_differences() {
        assert!(
            d(
                "{a: [1, {b: 'x'}], c: null}",
                "{c: null, a: [1, {b: \"x\"}]}"
            )
            .is_empty()
        );
        assert!(d("NaN", "NaN").is_empty());
    }

    #[test]
    fn changed_added_and_removed_members() {
        assert_eq!(
            d("{a: 1, b: {c: 2, d: 3}}", "{a: 1, b: {c: 5, e: 3}}"),
            ["/b/c", "/b/d", "/b/e"]
        );
        assert_eq!(d("{a: 1}", "{}"), ["/a"]);
        assert_eq!(d("{}", "{a: {b: 1}}"), ["/a"]);
    }

    #[test]
    fn arrays_by_index() {
        assert_eq!(d("[1, 2, 3]", "[1, 5]"), ["/1", "/2"]);
        assert_eq!(d("{x: [[1]]}", "{x: [[1, 2]]}"), ["/x/0/1"]);
    }

    #[test]
    fn type_changes_and_the_whole_document() {
        assert_eq!(d("{a: [1]}", "{a: {'0': 1}}"), ["/a"]);
        assert_eq!(d("1", "'1'"), [""]);
        assert_eq!(d("0", "-0"), [""]);
        assert_eq!(d("{a: 0}", "{a: -0}"), ["/a"]);
    }

    #[test]
    fn pointers_are_escaped() {
        assert_eq!(
            d("{'a/b': 1, 'm~n': 1, '': 1}", "{'a/b': 2, 'm~n': 2, '': 2}"),
            ["/a~1b", "/m~0n", "/"]
        );
        let v = parse("{'a/b': {'m~n': 7}}").unwrap();
        assert!(matches!(v.pointer("/a~1b/m~0n"), Some(Value::Number(n)) if *n == 7.0));
    }

    #[test]
    fn deep_documents_do_not_overflow() {
        let deep = format!("{}1{}", "[".repeat(500), "]".repeat(500));
        let other = format!("{}2{}", "[".repeat(500), "]".repeat(500));
        let p = d(&deep, &other);
        assert_eq!(p, ["/0".repeat(500)]);
    }
}
