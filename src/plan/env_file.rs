//! Setting `GATEROUTER_API_KEY` in `<root>/.env` without disturbing anything else:
//! every other line, comment, blank, `export` prefix, inline comment, order and line ending
//! stays exactly as it was. dotenv has no writer we could reuse, so edits work on raw lines
//! and dotenvy (the reader) checks that what we wrote reads back as the key.

use std::path::Path;

use crate::error::{Error, Result};
use crate::key::{ApiKey, ENV_VAR};

/// One `NAME=value` line, split so the value can be swapped (or masked) and the rest kept.
/// The one parser of assignment lines: the editor and the diff redactor both use it, so they
/// always agree on where a value starts and ends.
pub struct Assignment<'a> {
    pub name: &'a str,
    /// Indentation, `export `, the name and `=` (with any spaces around it).
    pub head: &'a str,
    /// The value as written, quotes included.
    pub value: &'a str,
    /// What follows the value on the line: spaces and an inline `# comment`.
    pub tail: &'a str,
    /// The value opens a quote that the line does not close.
    pub unclosed: bool,
    /// The whole line without its line ending (for dotenvy).
    pub line: &'a str,
}

impl<'a> Assignment<'a> {
    /// Splits `NAME=value` (optionally `export NAME=value`); `None` for comments, blanks and
    /// anything else.
    pub fn parse(line: &'a str) -> Option<Assignment<'a>> {
        let body = line.trim_start();
        let after_export = body
            .strip_prefix("export")
            .filter(|r| r.starts_with([' ', '\t']))
            .map(str::trim_start)
            .unwrap_or(body);
        let name_len = after_export
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
            .unwrap_or(after_export.len());
        let name = &after_export[..name_len];
        if name.is_empty() {
            return None;
        }
        let rest = after_export[name_len..].trim_start_matches([' ', '\t']);
        let value_and_tail = rest.strip_prefix('=')?;
        let value = value_and_tail.trim_start_matches([' ', '\t']);
        let value_start = line.len() - value.len();
        let (value_len, unclosed) = match value.chars().next() {
            Some(q @ ('"' | '\'' | '`')) => match value[1..].find(q) {
                Some(end) => (end + 2, false),
                None => (value.len(), true),
            },
            // Unquoted: the value ends where an inline comment (whitespace then `#`) starts.
            _ => (
                value
                    .find([' ', '\t'])
                    .filter(|&i| {
                        value[i..].trim_start().starts_with('#') || value[i..].trim().is_empty()
                    })
                    .unwrap_or(value.len()),
                false,
            ),
        };
        Some(Assignment {
            name,
            head: &line[..value_start],
            value: &line[value_start..value_start + value_len],
            tail: &line[value_start + value_len..],
            unclosed,
            line,
        })
    }
}

/// The assignment of our variable on this line, if it is one.
fn parse_line<'a>(path: &Path, lineno: usize, line: &'a str) -> Result<Option<Assignment<'a>>> {
    let Some(a) = Assignment::parse(line).filter(|a| a.name == ENV_VAR) else {
        return Ok(None);
    };
    if a.unclosed {
        return Err(Error::EnvSyntax {
            path: path.to_path_buf(),
            line: lineno,
            message: format!(
                "the {ENV_VAR} value opens a quote that is not closed on the same line; \
                 make it one line (or delete it) and run again"
            ),
        });
    }
    Ok(Some(a))
}

/// Splits into (line without ending, ending) pairs, keeping `\r\n` / `\n` / none.
fn lines(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.split_inclusive('\n').map(|l| {
        if let Some(s) = l.strip_suffix("\r\n") {
            (s, "\r\n")
        } else if let Some(s) = l.strip_suffix('\n') {
            (s, "\n")
        } else {
            (l, "")
        }
    })
}

fn read_value(path: &Path, lineno: usize, line: &str) -> Result<String> {
    let bad = |message: String| Error::EnvSyntax {
        path: path.to_path_buf(),
        line: lineno,
        message,
    };
    let mut items = dotenvy::from_read_iter(line.trim_start().as_bytes());
    match items.next() {
        Some(Ok((_, v))) => Ok(v),
        // dotenvy's messages can quote the value; say where, not what.
        Some(Err(_)) | None => Err(bad(format!(
            "the {ENV_VAR} line cannot be read as dotenv (unbalanced quotes or a stray character?)"
        ))),
    }
}

/// The value `GATEROUTER_API_KEY` has in this `.env` now (the last assignment, as OpenClaw's
/// dotenv reads it), if any.
pub fn current_key(path: &Path, text: &str) -> Result<Option<String>> {
    let mut found = None;
    for (i, (line, _)) in lines(text).enumerate() {
        if let Some(a) = parse_line(path, i + 1, line)? {
            found = Some(read_value(path, i + 1, a.line)?);
        }
    }
    Ok(found)
}

/// The value as written in the file: bare when every reader agrees on its meaning,
/// single-quoted (literal in every dotenv dialect) otherwise.
fn quote(key: &str) -> String {
    let bare = key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.~+/=:@,%".contains(c));
    if bare {
        key.to_owned()
    } else {
        format!("'{key}'")
    }
}

/// The new `.env` text. Every assignment of the key is rewritten in place (dotenv
/// dialects disagree on whether the first or the last one wins), else one line is appended.
pub fn set_key(path: &Path, before: Option<&str>, key: &ApiKey) -> Result<String> {
    let text = before.unwrap_or("");
    let eol = match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    };
    let value = quote(key.expose());
    let mut out = String::with_capacity(text.len() + value.len() + 32);
    let mut replaced = false;
    for (i, (line, ending)) in lines(text).enumerate() {
        match parse_line(path, i + 1, line)? {
            Some(a) => {
                out.push_str(a.head);
                out.push_str(&value);
                out.push_str(a.tail);
                replaced = true;
            }
            None => out.push_str(line),
        }
        out.push_str(ending);
    }
    if !replaced {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(eol);
        }
        out.push_str(ENV_VAR);
        out.push('=');
        out.push_str(&value);
        out.push_str(eol);
    }
    // Check our own work: the file must read back as exactly this key.
    match current_key(path, &out)? {
        Some(v) if v == key.expose() => Ok(out),
        _ => Err(Error::EnvSyntax {
            path: path.to_path_buf(),
            line: 0,
            message: format!(
                "the edited {ENV_VAR} line would not read back as the key; edit it by hand"
            ),
        }),
    }
}

/// The `.env` text without any assignment of the key (each such line and its ending go).
pub fn remove_key(path: &Path, before: &str) -> Result<String> {
    let mut out = String::with_capacity(before.len());
    for (i, (line, ending)) in lines(before).enumerate() {
        if parse_line(path, i + 1, line)?.is_none() {
            out.push_str(line);
            out.push_str(ending);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = ".env";

    fn key() -> ApiKey {
        ApiKey::parse("sk-or-v1-abcdef0123456789").unwrap()
    }

    fn set(before: Option<&str>) -> String {
        set_key(Path::new(P), before, &key()).unwrap()
    }

    #[test]
    fn creates_and_appends() {
        assert_eq!(set(None), "GATEROUTER_API_KEY=sk-or-v1-abcdef0123456789\n");
        assert_eq!(
            set(Some("# mine\nA=1")),
            "# mine\nA=1\nGATEROUTER_API_KEY=sk-or-v1-abcdef0123456789\n"
        );
    }

    #[test]
    fn replaces_in_place_keeping_export_crlf_quotes_and_comments() {
        let before =
            "A=1\r\nexport GATEROUTER_API_KEY=\"old-key-123\" # from dashboard\r\n\r\nB='x'\r\n";
        assert_eq!(
            set(Some(before)),
            "A=1\r\nexport GATEROUTER_API_KEY=sk-or-v1-abcdef0123456789 # from dashboard\r\n\r\nB='x'\r\n"
        );
    }

    #[test]
    fn every_assignment_is_rewritten() {
        let out = set(Some(
            "GATEROUTER_API_KEY=a1234567\nX=1\n  GATEROUTER_API_KEY = b1234567\n",
        ));
        assert_eq!(
            out,
            "GATEROUTER_API_KEY=sk-or-v1-abcdef0123456789\nX=1\n  GATEROUTER_API_KEY = sk-or-v1-abcdef0123456789\n"
        );
    }

    #[test]
    fn similar_names_are_left_alone() {
        let before = "GATEROUTER_API_KEY_OLD=x\n#GATEROUTER_API_KEY=y\n";
        assert_eq!(
            set(Some(before)),
            format!("{before}GATEROUTER_API_KEY=sk-or-v1-abcdef0123456789\n")
        );
    }

    #[test]
    fn unusual_keys_are_single_quoted_and_read_back() {
        let k = ApiKey::parse("sk-ab!cd&ef;gh").unwrap();
        let out = set_key(Path::new(P), None, &k).unwrap();
        assert_eq!(out, "GATEROUTER_API_KEY='sk-ab!cd&ef;gh'\n");
        assert_eq!(
            current_key(Path::new(P), &out).unwrap().unwrap(),
            "sk-ab!cd&ef;gh"
        );
    }

    #[test]
    fn unclosed_quote_is_an_error_naming_the_line() {
        let err = set_key(
            Path::new(P),
            Some("A=1\nGATEROUTER_API_KEY=\"abc\n"),
            &key(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with(".env:2: "), "{err}");
    }

    #[test]
    fn second_run_is_a_fixed_point() {
        let once = set(Some("A=1\n"));
        assert_eq!(set(Some(&once)), once);
    }
}
