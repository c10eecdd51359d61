//! The editor must read a file as OpenClaw does. OpenClaw parses with npm `json5`; our
//! editor edits jsonc-parser's CST, and the two disagree on corners of JSON5 (a U+2028 ends
//! a `//` comment for json5 only; json5 refuses a raw CR in a string, jsonc-parser takes
//! it; …). So every document the editor opens is also read by our faithful json5 reader
//! (`json5`), and:
//! - what json5 rejects is a parse error at json5's own position (OpenClaw would not load
//!   the file, and we must not "fix" it into something else);
//! - what json5 accepts but jsonc-parser cannot parse, or reads differently on the paths
//!   the planner reads or edits, is refused with one paragraph saying where and why.
//!
//! Only the kept paths (the planner's `keep`) are compared, so a large config costs one
//! validating scan, not a second tree.

use std::path::Path;

use jsonc_parser::cst::{CstNode, CstRootNode};

use crate::error::{Error, Result};
use crate::format::json5::{self, Object, Value};

/// OpenClaw's reading of the kept paths of `text`, or `None` for a blank text (a missing
/// or empty file, which the editor treats as an empty object and OpenClaw as no config).
pub fn reference(path: &Path, text: &str, keep: &[&[&str]]) -> Result<Option<Value>> {
    if json5::is_blank(text) {
        return Ok(None);
    }
    match json5::parse_projected(text, keep) {
        Ok(v) => Ok(Some(v.unwrap_or(Value::Null))),
        Err(e) => Err(Error::Parse {
            path: path.to_path_buf(),
            line: e.line,
            column: e.column,
            message: e.explain(),
        }),
    }
}

/// json5 accepted `text`, jsonc-parser did not (it stopped at `line:column`).
pub fn editor_cannot_parse(
    path: &Path,
    text: &str,
    line: usize,
    column: usize,
    why: &str,
) -> Error {
    Error::Misread {
        path: path.to_path_buf(),
        line: Some(line),
        pointer: None,
        what: format!(
            "at column {column} the editor cannot parse this ({why}), though it is valid JSON5"
        ),
        fix: fix(text),
    }
}

/// Compares the editor's reading of the kept paths with OpenClaw's.
pub fn check(
    path: &Path,
    text: &str,
    root: &CstRootNode,
    keep: &[&[&str]],
    reference: &Value,
    line_of: impl Fn(&[String]) -> Option<usize>,
) -> Result<()> {
    // `None`: the editor sees no value at all (say, a comment it thinks runs to the end).
    let mine = root
        .value()
        .and_then(|v| cst_value(&v))
        .and_then(|v| json5::project(&v, keep));
    let Some(mine) = mine else {
        return Err(Error::Misread {
            path: path.to_path_buf(),
            line: None,
            pointer: None,
            what: format!(
                "OpenClaw would read {} where the editor sees no value at all",
                reference.describe()
            ),
            fix: fix(text),
        });
    };
    if &mine == reference {
        return Ok(());
    }
    let first = json5::diff(reference, &mine)
        .into_iter()
        .next()
        .unwrap_or_default();
    let keys: Vec<String> = first
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let theirs = reference.pointer(&first).map(Value::describe);
    let ours = mine.pointer(&first).map(Value::describe);
    let what = format!(
        "OpenClaw would read {} where the editor sees {}",
        theirs.unwrap_or_else(|| "nothing there".into()),
        ours.unwrap_or_else(|| "nothing there".into())
    );
    Err(Error::Misread {
        path: path.to_path_buf(),
        line: line_of(&keys),
        pointer: Some(display_path(&keys)),
        what,
        fix: fix(text),
    })
}

/// `agents.defaults.model`, `auth.profiles["gaterouter:default"]`.
fn display_path(keys: &[String]) -> String {
    if keys.is_empty() {
        return "(top level)".into();
    }
    let mut s = String::new();
    for k in keys {
        let ident = k
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
        if ident {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(k);
        } else {
            s.push_str(&format!("[{}]", serde_json::Value::from(k.as_str())));
        }
    }
    s
}

/// The fix: name the first character the two readers are known to treat differently.
fn fix(text: &str) -> String {
    let mut line = 1;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (n, &(i, c)) in chars.iter().enumerate() {
        let name = match c {
            '\n' => {
                line += 1;
                continue;
            }
            '\u{2028}' => "a U+2028 LINE SEPARATOR (for OpenClaw it ends a // comment and a line)",
            '\u{2029}' => {
                "a U+2029 PARAGRAPH SEPARATOR (for OpenClaw it ends a // comment and a line)"
            }
            '\r' if chars.get(n + 1).map(|x| x.1) != Some('\n') => {
                "a carriage return not followed by a line feed (for OpenClaw it ends a // comment)"
            }
            '\u{feff}' if i > 0 => "a byte-order mark (U+FEFF) inside the file",
            '\u{b}' | '\u{c}' => "a vertical tab or form feed",
            '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}' => "a non-breaking or other Unicode space",
            _ => continue,
        };
        return format!(
            "Line {line} has {name}: replace it with a plain space or newline (or write that part as plain JSON)"
        );
    }
    "Write that part as plain JSON (double-quoted keys and strings, decimal numbers, ordinary escapes)".into()
}

/// How the CST reads a node; `None` when it cannot say (a string it cannot decode, a word
/// or number that is not a JSON5 number on its own). Numbers are taken from their text, as
/// the editor never reads them, only carries them.
fn cst_value(n: &CstNode) -> Option<Value> {
    if let Some(o) = n.as_object() {
        let mut obj = Object::new();
        for p in o.properties() {
            let name = p.decoded_name()?;
            obj.insert(name.into(), cst_value(&p.value()?)?);
        }
        Some(Value::Object(obj))
    } else if let Some(a) = n.as_array() {
        a.elements()
            .iter()
            .map(cst_value)
            .collect::<Option<_>>()
            .map(Value::Array)
    } else if let Some(s) = n.as_string_lit() {
        s.decoded_value().ok().map(|s| Value::String(s.into()))
    } else if let Some(b) = n.as_boolean_lit() {
        Some(Value::Bool(b.value()))
    } else if n.as_null_keyword().is_some() {
        Some(Value::Null)
    } else if n.as_number_lit().is_some() || n.as_word_lit().is_some() {
        match json5::parse(&n.to_string()) {
            Ok(v @ Value::Number(_)) => Some(v),
            _ => None,
        }
    } else {
        None
    }
}

/// The editor's reading of the whole document (kept paths only when elided).
pub fn editor_value(root: &CstRootNode) -> Option<Value> {
    root.value().and_then(|v| cst_value(&v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::json_edit::Doc;

    fn refusal(text: &str) -> String {
        match Doc::parse(Path::new("t.json"), text, &[&[]]) {
            Ok(_) => panic!("accepted {text:?}"),
            Err(e @ Error::Misread { .. }) => e.to_string(),
            Err(e) => panic!("{text:?}: not a Misread: {e}"),
        }
    }

    #[test]
    fn a_different_reading_names_the_path_both_readings_and_the_cause() {
        let e = refusal("{\n  a: {\n    b: 1, // c\u{2029}b: 2,\n  },\n}");
        assert!(e.starts_with("t.json:3: `a.b`: OpenClaw would read the number 2 where the editor sees the number 1;"), "{e}");
        assert!(e.contains("Line 3 has a U+2029 PARAGRAPH SEPARATOR"), "{e}");
    }

    #[test]
    fn what_only_the_editor_cannot_parse_is_refused_not_called_invalid() {
        for text in ["{a\\u0062: 1}", "{a: 1}\u{feff}", "{a: '\\uD800'}"] {
            let e = refusal(text);
            assert!(e.contains("though it is valid JSON5"), "{e}");
        }
    }

    #[test]
    fn large_documents_are_checked_too() {
        // Past the size where json5 reads on a second thread.
        let pad = format!("pad: [{}],\n", "'xxxxxxxxxxxxxxxx', ".repeat(20_000));
        let hidden = format!("{{\n{pad}  a: {{ b: 1, // c\u{2028}b: 2\n  }},\n}}");
        assert!(refusal(&hidden).contains("`a.b`"));
        let raw_cr = format!("{{\n{pad}  a: 'x\ry',\n}}");
        assert!(matches!(
            Doc::parse(Path::new("t.json"), &raw_cr, &[&["a"]]),
            Err(Error::Parse { line: 3, .. })
        ));
        let fine = format!("{{\n{pad}  a: {{ b: 1 }},\n}}");
        assert!(Doc::parse(Path::new("t.json"), &fine, &[&["a"]]).is_ok());
    }

    #[test]
    fn only_kept_paths_are_compared() {
        // The hidden key is outside what the planner reads: nothing to refuse.
        let text = "{x: {y: 1, // c\u{2028}y: 2\n}, a: {b: 1}}";
        assert!(Doc::parse(Path::new("t.json"), text, &[&["a"]]).is_ok());
        assert!(Doc::parse(Path::new("t.json"), text, &[&["x"]]).is_err());
    }
}
