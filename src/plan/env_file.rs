//! Setting `GATEROUTER_API_KEY` in `<root>/.env` without disturbing anything else. The file
//! is parsed with the grammar OpenClaw's dotenv uses (`dotenv.rs`), and edits replace the
//! byte spans of the parsed entries: every other byte (comments, blanks, `export`, a BOM,
//! CRLF or CR-only endings, other values, even text inside another entry's multi-line
//! value) stays as it was. Every edit is checked by parsing the result again: our name
//! must read as the key (or be gone) and every other entry must read exactly as before.
//!
//! Several assignments of our name: all of them get the new key (uninstall removes all).
//! OpenClaw uses the last, but other readers of the same file (a shell's `source`, systemd's
//! `EnvironmentFile`, docker's `--env-file`) may use the first; a careful user expects none
//! of them to keep a stale key, and expects lines they wrote to stay rather than vanish.

use std::ops::Range;
use std::path::Path;

use crate::error::{Error, Result};
use crate::format::dotenv::{self, Entry, MAX_BYTES};
use crate::gaterouter::key::{ApiKey, ENV_VAR};

/// 1-based line of a byte offset, counting line breaks as dotenv does (`\r\n`, `\r`, `\n`).
fn line_of(text: &str, at: usize) -> usize {
    let before = &text[..at];
    1 + before.matches('\n').count() + before.matches('\r').count() - before.matches("\r\n").count()
}

/// `is`: "is" for the file as found, "would be" for an edit's result.
fn too_big(path: &Path, text: &str, is: &str) -> Result<()> {
    if text.len() > MAX_BYTES {
        return Err(Error::Unreadable {
            path: path.to_path_buf(),
            what: format!(
                "{is} {} bytes, and OpenClaw ignores a .env over 1 MB ({} bytes) as a whole, so the key would not be seen; trim it and run again",
                text.len(),
                dotenv::MAX_BYTES_TEXT
            ),
        });
    }
    Ok(())
}

/// The value `GATEROUTER_API_KEY` has in this `.env` now as OpenClaw's dotenv reads it (the
/// last assignment), if any.
pub fn current_key(path: &Path, text: &str) -> Result<Option<String>> {
    too_big(path, text, "is")?;
    Ok(dotenv::parse(text)
        .into_iter()
        .rev()
        .find(|e| e.name == ENV_VAR)
        .map(|e| e.value))
}

/// The value as written in the file: bare when every reader agrees on its meaning,
/// single-quoted (literal in every dotenv dialect) otherwise. `ApiKey` has no quotes,
/// backslashes, `#`, `$` or whitespace, so `'…'` cannot close early or run on.
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

/// The line break the file already uses (the first one), `\n` for a file without one.
fn line_ending(text: &str) -> &'static str {
    match text.find(['\n', '\r']) {
        Some(i) if text[i..].starts_with("\r\n") => "\r\n",
        Some(i) if text[i..].starts_with('\r') => "\r",
        _ => "\n",
    }
}

/// Every entry other than ours, as dotenv reads them, in order.
fn others(entries: &[Entry]) -> Vec<(&str, &str)> {
    entries
        .iter()
        .filter(|e| e.name != ENV_VAR)
        .map(|e| (e.name.as_str(), e.value.as_str()))
        .collect()
}

/// `out` reads as `before` did, except that our name reads as `key` everywhere (or, with
/// `None`, is gone).
fn reads_right(before: &[Entry], out: &str, key: Option<&str>) -> bool {
    let after = dotenv::parse(out);
    let ours: Vec<&Entry> = after.iter().filter(|e| e.name == ENV_VAR).collect();
    let ours_ok = match key {
        Some(k) => !ours.is_empty() && ours.iter().all(|e| e.value == k),
        None => ours.is_empty(),
    };
    ours_ok && others(before) == others(&after)
}

/// `text` with the range `edit` gives for each of our entries replaced (ranges sorted and
/// disjoint).
fn splice(text: &str, ours: &[&Entry], edit: impl Fn(&Entry) -> (Range<usize>, String)) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut last = 0;
    for (r, with) in ours.iter().map(|e| edit(e)) {
        out.push_str(&text[last..r.start]);
        out.push_str(&with);
        last = r.end;
    }
    out.push_str(&text[last..]);
    out
}

fn would_change_others(path: &Path, text: &str, at: usize, what: &str) -> Error {
    Error::EnvSyntax {
        path: path.to_path_buf(),
        line: line_of(text, at),
        message: format!(
            "{what} would change how OpenClaw's dotenv reads other lines of the file (an unclosed quote or a `NAME:` without a value nearby?); make that change by hand"
        ),
    }
}

/// The new `.env` text: the value of every `GATEROUTER_API_KEY` entry replaced, else one
/// entry appended.
pub fn set_key(path: &Path, before: Option<&str>, key: &ApiKey) -> Result<String> {
    let text = before.unwrap_or("");
    too_big(path, text, "is")?;
    let entries = dotenv::parse(text);
    let ours: Vec<&Entry> = entries.iter().filter(|e| e.name == ENV_VAR).collect();
    // The plainest form first; single quotes also end the value before a U+2028 that a bare
    // value would run through.
    let mut forms = vec![quote(key.expose())];
    if !forms[0].starts_with('\'') {
        forms.push(format!("'{}'", key.expose()));
    }
    let mut candidates = Vec::new();
    for value in &forms {
        if ours.is_empty() {
            let eol = line_ending(text);
            let open = !text.is_empty() && !text.ends_with(['\n', '\r']);
            let line = format!("{ENV_VAR}={value}{eol}");
            let joint = if open { eol } else { "" };
            // A blank line first, should the file end in something that would take our line
            // as its value (`NAME:` at the end of the last line does); failing that, first in
            // the file (after a BOM), where nothing before it can take it.
            let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
            candidates.push(format!("{text}{joint}{line}"));
            candidates.push(format!("{text}{joint}{eol}{line}"));
            candidates.push(format!("{}{line}{}", &text[..bom], &text[bom..]));
        } else {
            candidates.push(splice(text, &ours, |e| {
                // A value that starts on a later line than the name (`NAME=` then `'v'` on
                // the next line): the separator goes too, so the new value sits on the
                // name's line. An empty value there ends at the separator, not at the start
                // of the next line (`NAME:` then `# c`: the comment stays on its line).
                if text[e.name_span.end..e.value_span.start].contains(dotenv::js_line_break) {
                    (e.name_span.end..value_end(text, e), format!("={value}"))
                } else {
                    (e.value_span.clone(), value.clone())
                }
            }));
        }
    }
    let at = ours.first().map_or(text.len(), |e| e.start);
    let out = candidates
        .into_iter()
        .find(|out| reads_right(&entries, out, Some(key.expose())))
        .ok_or_else(|| would_change_others(path, text, at, &format!("setting {ENV_VAR}")))?;
    too_big(path, &out, "would be")?;
    Ok(out)
}

/// Where the entry's own text ends: after its value, or just after its `=` or `:` when the
/// value is empty (which may be placed on the line after it, so a comment on the next line
/// is not taken as part of it).
fn value_end(text: &str, e: &Entry) -> usize {
    if e.value_span.is_empty() {
        text[..e.value_span.start]
            .trim_end_matches(dotenv::js_space)
            .len()
    } else {
        e.value_span.end
    }
}

/// Where the line holding `at` starts (a BOM at the start of the file is not part of it).
fn line_start(text: &str, at: usize) -> usize {
    let s = text[..at].rfind(dotenv::js_line_break).map_or(0, |i| {
        i + text[i..].chars().next().map_or(1, char::len_utf8)
    });
    if s == 0 && text.starts_with('\u{feff}') {
        3
    } else {
        s
    }
}

/// Just past the line break that ends the line holding `at` (or the end of the text).
fn line_end(text: &str, at: usize) -> usize {
    match text[at..].find(dotenv::js_line_break) {
        Some(i) if text[at + i..].starts_with("\r\n") => at + i + 2,
        Some(i) => at + i + text[at + i..].chars().next().map_or(1, char::len_utf8),
        None => text.len(),
    }
}

/// The `.env` text without any `GATEROUTER_API_KEY` entry: each goes with its lines (and
/// their inline comment); if that would change another entry, only the entry's own text;
/// failing that, all but the value's quotes.
pub fn remove_key(path: &Path, before: &str) -> Result<String> {
    let entries = dotenv::parse(before);
    let ours: Vec<&Entry> = entries.iter().filter(|e| e.name == ENV_VAR).collect();
    let Some(first) = ours.first() else {
        return Ok(before.to_owned());
    };
    let lines = splice(before, &ours, |e| {
        let end = line_end(before, value_end(before, e));
        (line_start(before, e.start)..end, String::new())
    });
    let own = splice(before, &ours, |e| {
        (e.start..value_end(before, e), String::new())
    });
    // Last resort: the name goes, and of the value only its quotes stay, so a quote
    // elsewhere in the file still pairs as it did (no secret is left behind).
    let hollow = splice(before, &ours, |e| {
        let (open, _, close) = dotenv::quotes(&before[e.value_span.clone()]);
        (e.start..e.value_span.end, format!("{open}{close}"))
    });
    [lines, own, hollow]
        .into_iter()
        .find(|out| reads_right(&entries, out, None))
        .ok_or_else(|| {
            would_change_others(path, before, first.start, &format!("removing {ENV_VAR}"))
        })
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
    fn an_unclosed_quote_on_our_line_is_replaced() {
        // dotenv reads `"sk-or-v1-abc` (quote included): the value to replace.
        assert_eq!(
            set(Some("A=1\nGATEROUTER_API_KEY=\"sk-or-v1-abc\n")),
            "A=1\nGATEROUTER_API_KEY=sk-or-v1-abcdef0123456789\n"
        );
    }

    #[test]
    fn a_name_inside_another_value_is_not_an_assignment() {
        for q in ['"', '\'', '`'] {
            let before = format!("PEM={q}-----BEGIN\nGATEROUTER_API_KEY=old-key-123\nEND{q}\n");
            assert_eq!(
                set(Some(&before)),
                format!("{before}GATEROUTER_API_KEY=sk-or-v1-abcdef0123456789\n")
            );
            assert_eq!(current_key(Path::new(P), &before).unwrap(), None);
            assert_eq!(remove_key(Path::new(P), &before).unwrap(), before);
        }
    }

    #[test]
    fn bom_cr_only_and_colon_assignments_are_ours() {
        let k = "sk-or-v1-abcdef0123456789";
        assert_eq!(
            set(Some("\u{feff}GATEROUTER_API_KEY=old-key-123\nA=1\n")),
            format!("\u{feff}GATEROUTER_API_KEY={k}\nA=1\n")
        );
        assert_eq!(
            set(Some("A=1\rGATEROUTER_API_KEY=old-key-123\rB=2")),
            format!("A=1\rGATEROUTER_API_KEY={k}\rB=2")
        );
        assert_eq!(
            set(Some("A=1\rB=2")),
            format!("A=1\rB=2\rGATEROUTER_API_KEY={k}\r")
        );
        assert_eq!(
            set(Some("GATEROUTER_API_KEY: old-key-123 # c\n")),
            format!("GATEROUTER_API_KEY: {k} # c\n")
        );
        assert_eq!(
            set(Some("GATEROUTER_API_KEY=\n'old-key-123'\nB=2\n")),
            format!("GATEROUTER_API_KEY={k}\nB=2\n")
        );
        let p = Path::new(P);
        assert_eq!(
            remove_key(p, "\u{feff}GATEROUTER_API_KEY=old\nA=1\n").unwrap(),
            "\u{feff}A=1\n"
        );
        assert_eq!(
            remove_key(p, "A=1\rGATEROUTER_API_KEY: x\rB=2").unwrap(),
            "A=1\rB=2"
        );
    }

    #[test]
    fn our_line_is_not_swallowed_by_a_dangling_colon() {
        // `I:` then a line break takes the next line as its value: a blank line keeps ours apart.
        let out = set(Some("I:\n"));
        assert_eq!(out, "I:\n\nGATEROUTER_API_KEY=sk-or-v1-abcdef0123456789\n");
    }

    #[test]
    fn a_file_ending_in_a_bare_colon_gets_our_line_first() {
        // `I:` with nothing after it is no entry; anything appended would make it one.
        let k = "sk-or-v1-abcdef0123456789";
        assert_eq!(set(Some("I:")), format!("GATEROUTER_API_KEY={k}\nI:"));
        assert_eq!(
            set(Some("\u{feff}I:")),
            format!("\u{feff}GATEROUTER_API_KEY={k}\nI:")
        );
    }

    #[test]
    fn a_line_separator_after_the_value_gets_quotes() {
        // A bare value would run on through U+2028; a quoted one ends before it.
        let before = "GATEROUTER_API_KEY='old-key-123'\u{2028}tail\n";
        assert_eq!(
            set(Some(before)),
            "GATEROUTER_API_KEY='sk-or-v1-abcdef0123456789'\u{2028}tail\n"
        );
    }

    #[test]
    fn an_edit_that_would_pass_one_mib_is_refused() {
        let near = format!("#{}\n", "x".repeat(MAX_BYTES - 12));
        let err = set_key(Path::new(P), Some(&near), &key())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(".env: would be "), "{err}");
        let over = format!("{near}{}", "#".repeat(20));
        let err = current_key(Path::new(P), &over).unwrap_err().to_string();
        assert!(err.starts_with(".env: is "), "{err}");
    }

    #[test]
    fn an_empty_value_before_a_comment_line_keeps_the_comment() {
        // `NAME:` and a line break: dotenv's match runs on over `# c`, the entry does not.
        let k = "sk-or-v1-abcdef0123456789";
        let before = "GATEROUTER_API_KEY:\n# c\nB=1\n";
        assert_eq!(
            set(Some(before)),
            format!("GATEROUTER_API_KEY={k}\n# c\nB=1\n")
        );
        assert_eq!(remove_key(Path::new(P), before).unwrap(), "# c\nB=1\n");
    }

    #[test]
    fn second_run_is_a_fixed_point() {
        let once = set(Some("A=1\n"));
        assert_eq!(set(Some(&once)), once);
    }
}
