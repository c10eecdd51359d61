//! Everything printed goes through one layer (src/cli/output.rs): no secret, no raw control
//! character, no panic when the reader goes away. Each test drives the binary end to end
//! with hostile input from a different source (a server, a file name, a lock file, the
//! command line, a closed pipe) and checks the bytes that came out.

use std::io::Write;
use std::process::{Command as StdCommand, Output, Stdio};

use crate::common::stand_in::{Reply, StandIn, healthy_reply};
use crate::common::*;

const SENTINEL: &str = "sk-or-v1-SENTINELKEY0123456789abcdef";
/// The part of the key no redaction ever shows.
const SECRET_MIDDLE: &str = "SENTINELKEY";

/// Bytes a terminal acts on: C0 controls other than \n and \t, DEL, C1 (as UTF-8), and the
/// bidi / zero-width characters that reorder or hide text.
fn raw_controls(s: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(s);
    text.char_indices()
        .filter(|(_, c)| {
            (c.is_control() && *c != '\n' && *c != '\t')
                || matches!(*c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}')
        })
        .map(|(i, c)| {
            let from = text[..i].char_indices().rev().nth(20).map_or(0, |(j, _)| j);
            format!("U+{:04X} after {:?}", c as u32, &text[from..i])
        })
        .collect()
}

/// No raw control character, no piece of the key, no panic.
fn assert_hygienic(out: &Output, what: &str) {
    for (name, s) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let bad = raw_controls(s);
        assert!(
            bad.is_empty(),
            "{what}: raw control characters in {name}: {bad:?}"
        );
        assert!(
            !text(s).contains(SECRET_MIDDLE),
            "{what}: the key leaked into {name}:\n{}",
            text(s)
        );
    }
    assert_ne!(out.status.code(), Some(101), "{what}: panicked");
    assert!(!text(&out.stderr).contains("panicked"), "{what}: panicked");
}

#[test]
fn a_servers_error_message_is_escaped_and_its_key_fragment_masked() {
    // A hostile (or just sloppy) server: terminal escapes in its message, and the key echoed
    // back truncated, with and without its prefix.
    let message = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[31mIncorrect API key sk-or-v1-SENTINELKEY0123****cdef \u{202e}(SENTINELKEY0123)\r\u{9b}31m";
    let server = StandIn::start(move |_| Reply::error(401, message));
    let (tmp, root) = root_from("onboarded");
    for (what, args) in [
        (
            "probe",
            vec!["probe", "--base-url", &server.base_url(), SENTINEL],
        ),
        (
            "probe json",
            vec![
                "probe",
                "--json",
                "--base-url",
                &server.base_url(),
                SENTINEL,
            ],
        ),
        (
            "setup",
            vec![
                "--dry-run",
                "--base-url",
                &server.base_url(),
                SENTINEL,
                root.to_str().unwrap(),
            ],
        ),
        (
            "setup json",
            vec![
                "--json",
                "--dry-run",
                "--base-url",
                &server.base_url(),
                SENTINEL,
                root.to_str().unwrap(),
            ],
        ),
        (
            "setup -v",
            vec![
                "-v",
                "--dry-run",
                "--base-url",
                &server.base_url(),
                SENTINEL,
                root.to_str().unwrap(),
            ],
        ),
    ] {
        let out = cmd(tmp.path()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{what}: {}", text(&out.stderr));
        assert_hygienic(&out, what);
        if what.contains("json") {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", text(&out.stdout)));
            assert!(!v.to_string().contains(SECRET_MIDDLE), "{what}: {v}");
        }
    }
}

#[test]
fn a_file_name_with_escapes_is_printed_inert_even_in_colour() {
    let (tmp, root) = root_from("onboarded");
    let evil = "ev\u{1b}[2J\u{1b}]0;x\u{7}il\u{202e}";
    copy_tree(&root.join("agents/main"), &root.join("agents").join(evil));
    let r = root.to_str().unwrap();
    let out = cmd(tmp.path())
        .args(["--offline", "--dry-run", SENTINEL, r])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_hygienic(&out, "dry-run");
    assert!(
        text(&out.stdout).contains("ev\\x1b[2J"),
        "{}",
        text(&out.stdout)
    );

    // With colour on, the only ESC bytes are our own SGR colour codes.
    let out = cmd(tmp.path())
        .args(["--offline", "--dry-run", "--color", "always", SENTINEL, r])
        .output()
        .unwrap();
    let s = text(&out.stdout);
    for (i, _) in s.match_indices('\u{1b}') {
        let rest = &s[i + 1..];
        let n = rest.strip_prefix('[').map(|r| {
            r.bytes()
                .take_while(|b| b.is_ascii_digit() || *b == b';')
                .count()
        });
        assert!(
            n.is_some_and(|n| rest.as_bytes().get(n + 1) == Some(&b'm')),
            "a non-colour escape in coloured output: {:?}",
            &s[i..(i + 12).min(s.len())]
        );
    }
    assert!(!s.contains('\u{7}') && !s.contains('\u{202e}'));
}

#[test]
fn a_lock_files_content_is_printed_inert() {
    let (tmp, root) = root_from("onboarded");
    let lock = root.join(".gaterouter.lock");
    let mut f = std::fs::File::create(&lock).unwrap();
    f.write_all(b"\x1b]0;owned\x07\x1b[2J4242\r").unwrap();
    f.lock().unwrap();
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", "--lock-timeout", "0", SENTINEL])
        .arg(&root)
        .output()
        .unwrap();
    drop(f);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("another gaterouter-setup is running"));
    assert_hygienic(&out, "locked");
}

/// Runs the binary with its standard output already closed by the reader (`… | head -0`).
fn with_closed_stdout<S: AsRef<std::ffi::OsStr>>(home: &std::path::Path, args: &[S]) -> Output {
    with_closed_stdout_env(home, args, &[])
}

fn with_closed_stdout_env<S: AsRef<std::ffi::OsStr>>(
    home: &std::path::Path,
    args: &[S],
    env: &[(&str, String)],
) -> Output {
    let mut c = StdCommand::new(env!("CARGO_BIN_EXE_gaterouter-setup"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(home)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_stdout_ends_no_command_with_a_panic() {
    let server = StandIn::start(|r| healthy_reply(r, SENTINEL));
    let (tmp, root) = root_from("onboarded");
    let r = root.to_str().unwrap();
    let url = server.base_url();
    let runs: Vec<(Vec<&str>, i32)> = vec![
        (vec!["--offline", "--dry-run", SENTINEL, r], 0),
        (vec!["--offline", "--check", SENTINEL, r], 2),
        (vec!["--offline", "--json", "--dry-run", SENTINEL, r], 0),
        (vec!["--base-url", &url, "--dry-run", "-v", SENTINEL, r], 0),
        (vec!["probe", "--base-url", &url, SENTINEL], 0),
        (vec!["probe", "--json", "--base-url", &url, SENTINEL], 0),
        (vec!["--offline", "--yes", SENTINEL, r], 0),
        (vec!["--offline", "--yes", SENTINEL, r], 0),
        (vec!["doctor", r], 0),
        (vec!["doctor", "--json", r], 0),
        (vec!["rollback", "--list", r], 0),
        (vec!["rollback", "--list", "--json", r], 0),
        (vec!["rollback", "--dry-run", r], 0),
        (vec!["rollback", "--yes", r], 0),
        (vec!["--offline", "--yes", "--json", SENTINEL, r], 0),
        (vec!["uninstall", "--dry-run", r], 0),
        (vec!["uninstall", "--yes", r], 0),
        (vec!["completions", "bash"], 0),
        (vec!["man"], 0),
        (vec!["--help"], 0),
        (vec!["--version"], 0),
        (vec!["--no-such-flag"], 1),
    ];
    for (args, code) in runs {
        let out = with_closed_stdout(tmp.path(), &args);
        let what = args.join(" ");
        assert_hygienic(&out, &what);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{what}: {}",
            text(&out.stderr)
        );
    }
    // The run went on to the end: setup wrote, rollback and uninstall undid.
    let env = std::fs::read_to_string(root.join(".env")).unwrap();
    assert!(!env.contains(SENTINEL), "uninstall ran: {env}");
}

#[test]
fn a_closed_stdout_does_not_stop_an_apply_half_way() {
    let (tmp, root) = root_from("onboarded");
    let out = with_closed_stdout(
        tmp.path(),
        &["--offline", "--yes", SENTINEL, root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        std::fs::read_to_string(root.join(".env"))
            .unwrap()
            .contains(SENTINEL)
    );
    // Warnings may go to stderr (still open); no error, no panic.
    let err = text(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.lines().any(|l| l.starts_with("error")),
        "{err}"
    );
}

// ---------- any command line: no panic, nothing printed raw, nothing odd created ----------

mod any_command_line {
    use super::*;
    use proptest::prelude::*;

    /// Values a hostile or careless user passes: the key where a path goes, numbers that
    /// overflow, newlines and escapes, paths that climb, placeholders, expansions.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(SENTINEL.to_owned()),
            Just("ROOT".to_owned()),
            Just("ROOTS_FILE".to_owned()),
            Just(format!("{SENTINEL} x")),
            Just("openclaw-prod".to_owned()),
            Just("a\nb".to_owned()),
            Just("\u{1b}[2J\u{1b}]0;t\u{7}".to_owned()),
            Just("\u{202e}evil".to_owned()),
            Just("..".to_owned()),
            Just("9223372036854775807".to_owned()),
            Just("18446744073709551616".to_owned()),
            Just("-1".to_owned()),
            Just("0".to_owned()),
            Just("x".repeat(300)),
            Just("gaterouter/__gaterouter_elided_0__".to_owned()),
            Just("${HOME}".to_owned()),
            Just("~".to_owned()),
            Just(String::new()),
            "[a-z0-9/._-]{1,12}",
            "[\\x01-\\x1f\\x7f\u{80}-\u{9f}\u{202a}-\u{202e}a-z/]{1,10}",
        ]
    }

    fn flag() -> impl Strategy<Value = Vec<String>> {
        let number = prop_oneof![
            Just("9223372036854775807".to_owned()),
            Just("18446744073709551615".to_owned()),
            Just("18446744073709551616".to_owned()),
            Just("-1".to_owned()),
            Just("0".to_owned()),
            Just("1".to_owned()),
            any::<u64>().prop_map(|n| n.to_string()),
        ];
        let id = prop_oneof![
            Just("a\nb".to_owned()),
            Just("work\n".to_owned()),
            Just("..".to_owned()),
            Just("x/y".to_owned()),
            Just("\u{1b}[2J".to_owned()),
            Just("main".to_owned()),
            value(),
        ];
        let with_value = prop_oneof![
            2 => (prop_oneof![Just("--timeout"), Just("--lock-timeout")], number),
            2 => (Just("--agent"), id),
            3 => (
                prop_oneof![
                    Just("--primary"),
                    Just("--fallback"),
                    Just("--base-url"),
                    Just("--root"),
                    Just("--roots-from"),
                    Just("--template-dir"),
                    Just("--color"),
                ],
                value()
            ),
        ];
        let switch = prop_oneof![
            Just("--offline"),
            Just("--dry-run"),
            Just("--check"),
            Just("--yes"),
            Just("--json"),
            Just("-q"),
            Just("-v"),
            Just("--require-auto"),
            Just("--list"),
            Just("--api-key-stdin"),
            Just("--fail-fast"),
        ];
        prop_oneof![
            3 => with_value.prop_map(|(f, v)| vec![f.to_owned(), v]),
            3 => switch.prop_map(|s| vec![s.to_owned()]),
            1 => value().prop_map(|v| vec![v]),
        ]
    }

    fn command_line() -> impl Strategy<Value = Vec<String>> {
        let sub = prop_oneof![
            Just(None),
            Just(None),
            Just(Some("probe")),
            Just(Some("doctor")),
            Just(Some("rollback")),
            Just(Some("uninstall")),
            Just(Some("completions")),
            Just(Some("man")),
        ];
        // Mostly the shape people type (`[SUB] [FLAGS] KEY ROOT`), so runs get past argument
        // parsing into the probe, the plan and the write.
        let positionals = prop_oneof![
            4 => Just(vec!["KEY", "ROOT"]),
            1 => Just(vec!["ROOT"]),
            1 => Just(vec!["KEY"]),
            1 => Just(vec!["ROOT", "KEY"]),
            1 => Just(vec![]),
        ];
        (sub, prop::collection::vec(flag(), 0..4), positionals).prop_map(|(sub, flags, pos)| {
            sub.map(str::to_owned)
                .into_iter()
                .chain(flags.into_iter().flatten())
                .chain(pos.into_iter().map(|p| match p {
                    "KEY" => SENTINEL.to_owned(),
                    p => p.to_owned(),
                }))
                .collect()
        })
    }

    /// Every path under `dir` whose name holds a control character.
    fn odd_names(dir: &std::path::Path) -> Vec<String> {
        snapshot(dir)
            .into_keys()
            .filter(|p| p.chars().any(|c| c.is_control()))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
        ))]

        #[test]
        fn no_command_line_panics_leaks_or_prints_raw_controls(
            args in command_line(),
            closed_stdout in proptest::bool::weighted(0.3),
        ) {
            let server = StandIn::start(|r| {
                if r.method == "POST" {
                    Reply::error(401, "\u{1b}[2Jbad key sk-or-v1-SENTINELKEY01****")
                } else {
                    healthy_reply(r, SENTINEL)
                }
            });
            let (tmp, root) = root_from("onboarded");
            let roots_file = tmp.path().join("roots.txt");
            std::fs::write(&roots_file, format!("{}\n{SENTINEL}\n\u{1b}[2J\n", root.display())).unwrap();
            let args: Vec<String> = args
                .into_iter()
                .map(|a| match a.as_str() {
                    "ROOT" => root.display().to_string(),
                    "ROOTS_FILE" => roots_file.display().to_string(),
                    _ => a,
                })
                .collect();
            // Some runs with the reader already gone (`… | head -0`): the same promises hold.
            let out = if closed_stdout {
                with_closed_stdout_env(tmp.path(), &args, &[("GATEROUTER_BASE_URL", server.base_url())])
            } else {
                cmd(tmp.path())
                    .current_dir(tmp.path())
                    .env("GATEROUTER_BASE_URL", server.base_url())
                    .args(&args)
                    .write_stdin("")
                    .timeout(std::time::Duration::from_secs(60))
                    .output()
                    .unwrap()
            };
            let what = format!("{args:?} (stdout closed: {closed_stdout})");
            assert_hygienic(&out, &what);
            prop_assert!(odd_names(tmp.path()).is_empty(), "{what}: created {:?}", odd_names(tmp.path()));
        }
    }
}

// ---------- secrets: in the root's place, in diff context ----------

#[test]
fn a_key_where_the_root_goes_is_called_swapped_and_never_printed() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        vec!["openclaw-prod", SENTINEL],
        vec!["--json", "openclaw-prod", SENTINEL],
        vec!["--offline", "--yes", "openclaw-prod", SENTINEL],
        vec!["doctor", SENTINEL],
        vec!["doctor", "--json", SENTINEL],
        vec!["rollback", SENTINEL],
        vec!["rollback", "--json", SENTINEL],
        vec!["rollback", "--list", SENTINEL],
        vec!["uninstall", SENTINEL],
        vec!["uninstall", "--json", "--yes", SENTINEL],
        vec!["--offline", "--root", SENTINEL],
    ] {
        let what = args.join(" ");
        let out = cmd(tmp.path()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out.stderr));
        assert_hygienic(&out, &what);
        let err = text(&out.stderr);
        assert!(
            err.contains("look swapped") || err.contains("looks like an API key"),
            "{what}: {err}"
        );
        if args.contains(&"--json") {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert!(v["error"]["path"].is_null(), "{what}: {v}");
            assert!(v["error"]["message"].as_str().unwrap().contains("API key"));
        }
    }
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "something was created"
    );
}

#[test]
fn secrets_in_json_diff_context_are_masked_by_structure() {
    let (tmp, root) = root_from("onboarded");
    std::fs::write(
        root.join("openclaw.json"),
        r#"{
  agents: {
    defaults: {
      apiKey:
        "sk-ant-NEXTLINESECRET0123456789",
      model: "anthropic/claude-opus-4-6",
      apiKeys: ["ARRAYSECRET0123456789xyz", 'ARRAYSECRET9876543210abc'],
      CORP_TOKEN_VALUE: "CORPSECRETabc0123456789",
    },
  },
}
"#,
    )
    .unwrap();
    for args in [
        vec!["--offline", "--dry-run", SENTINEL],
        vec!["--offline", "--dry-run", "--json", SENTINEL],
        vec!["--offline", "--dry-run", "--color", "always", SENTINEL],
    ] {
        let what = args.join(" ");
        let out = cmd(tmp.path()).args(&args).arg(&root).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{what}: {}", text(&out.stderr));
        let shown = text(&out.stdout);
        assert!(
            shown.contains("apiKeys"),
            "{what}: the context is not in the diff:\n{shown}"
        );
        for secret in ["NEXTLINESECRET", "ARRAYSECRET", "CORPSECRET"] {
            assert!(!shown.contains(secret), "{what}: {secret} shown:\n{shown}");
        }
    }
}

#[test]
fn uninstall_says_the_backups_still_hold_the_key() {
    let (tmp, root) = root_from("onboarded");
    let r = root.to_str().unwrap();
    let setup = cmd(tmp.path())
        .args(["--offline", "--yes", SENTINEL, r])
        .output()
        .unwrap();
    assert_eq!(setup.status.code(), Some(0), "{}", text(&setup.stderr));
    let out = cmd(tmp.path())
        .args(["uninstall", "--yes", r])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("still hold") && err.contains("rm -r"), "{err}");
    assert_hygienic(&out, "uninstall");

    let setup = cmd(tmp.path())
        .args(["--offline", "--yes", SENTINEL, r])
        .output()
        .unwrap();
    assert_eq!(setup.status.code(), Some(0));
    let out = cmd(tmp.path())
        .args(["uninstall", "--yes", "--json", r])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["warnings"]
            .to_string()
            .contains("still hold copies of .env with the API key"),
        "{v}"
    );
}

/// The sentinel idea of tests/output/secrets.rs over every command and mode, on a root full of
/// hostile content (secrets in JSON context, an old key in .env, an agent directory whose
/// name is an escape sequence) and against a server that answers with escapes and a piece
/// of the key: nothing printed may carry a secret or a raw control character.
#[test]
fn every_command_and_mode_on_a_hostile_root_prints_clean_output() {
    let good = StandIn::start(|r| healthy_reply(r, SENTINEL));
    let hostile = StandIn::start(|r| {
        if r.method == "POST" {
            Reply::error(
                400,
                "\u{1b}[2J\u{1b}]0;x\u{7}key sk-or-v1-SENTINELKEY0123**** is odd \u{202e}",
            )
        } else {
            healthy_reply(r, SENTINEL)
        }
    });
    let (tmp, root) = root_from("onboarded");
    std::fs::write(
        root.join("openclaw.json"),
        "{\n  agents: {\n    defaults: {\n      apiKey:\n        \"sk-ant-NEXTLINESECRET0123456789\",\n      model: \"anthropic/claude-opus-4-6\",\n      apiKeys: [\"ARRAYSECRET0123456789xyz\"],\n      CORP_TOKEN_VALUE: \"CORPSECRETabc0123456789\",\n    },\n  },\n}\n",
    )
    .unwrap();
    std::fs::write(
        root.join(".env"),
        "OPENAI_API_KEY=sk-proj-OLDENVSECRET0123456789\nGATEROUTER_API_KEY=sk-or-v1-OLDGATESECRET0123456789ab\n",
    )
    .unwrap();
    copy_tree(
        &root.join("agents/main"),
        &root.join("agents/ev\u{1b}[2Jil"),
    );
    let (tmp2, root2) = root_from("onboarded");
    let roots_file = tmp.path().join("roots.txt");
    std::fs::write(
        &roots_file,
        format!("{}\n{}\n", root.display(), root2.display()),
    )
    .unwrap();
    let r = root.to_str().unwrap();
    let rf = roots_file.to_str().unwrap();
    let (g, h) = (good.base_url(), hostile.base_url());
    let runs: Vec<Vec<&str>> = vec![
        vec!["--offline", SENTINEL, r],
        vec!["--offline", "--dry-run", SENTINEL, r],
        vec!["--offline", "--check", SENTINEL, r],
        vec!["--offline", "--json", "--check", SENTINEL, r],
        vec!["--offline", "-q", "--check", SENTINEL, r],
        vec!["--offline", "--dry-run", "--color", "always", SENTINEL, r],
        vec!["-v", "--dry-run", "--base-url", &g, SENTINEL, r],
        vec!["-v", "--dry-run", "--base-url", &h, SENTINEL, r],
        vec!["--json", "--dry-run", "--base-url", &h, SENTINEL, r],
        vec!["--offline", "--dry-run", "--roots-from", rf, SENTINEL],
        vec![
            "--offline",
            "--json",
            "--dry-run",
            "--roots-from",
            rf,
            SENTINEL,
        ],
        vec!["--dry-run", "--base-url", &h, "--roots-from", rf, SENTINEL],
        vec!["probe", "--base-url", &h, SENTINEL],
        vec!["probe", "--json", "--base-url", &h, SENTINEL],
        vec!["probe", "-v", "--base-url", &g, SENTINEL],
        vec!["--offline", "--yes", SENTINEL, r],
        vec!["doctor", r],
        vec!["doctor", "--json", r],
        vec!["rollback", "--list", r],
        vec!["rollback", "--list", "--json", r],
        vec!["rollback", "--dry-run", r],
        vec!["rollback", "--yes", "--json", r],
        vec!["--offline", "--yes", "--json", SENTINEL, r],
        vec!["uninstall", "--dry-run", r],
        vec!["uninstall", "--dry-run", "--color", "always", r],
        vec!["uninstall", "--yes", "--json", r],
    ];
    for args in runs {
        let what = args.join(" ");
        let out = cmd(tmp.path()).args(&args).output().unwrap();
        assert!(
            args.contains(&"-q") || !out.stdout.is_empty() || !out.stderr.is_empty(),
            "{what}: printed nothing"
        );
        if !args.contains(&"always") {
            assert_hygienic(&out, &what);
        } else {
            assert_ne!(out.status.code(), Some(101), "{what}");
        }
        for (name, s) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let s = text(s);
            for secret in [
                "NEXTLINESECRET",
                "ARRAYSECRET",
                "CORPSECRET",
                "OLDENVSECRET",
                "OLDGATESECRET",
                SECRET_MIDDLE,
            ] {
                assert!(!s.contains(secret), "{what}: {secret} in {name}:\n{s}");
            }
        }
    }
    drop(tmp2);
}

/// A newline is harmless to a terminal but forges a line of ours: a server's message, a
/// file name or an argument must not be able to print `warning: …` or `error: …` on its own.
#[test]
fn outside_text_cannot_start_a_line_of_its_own() {
    let forged = "FORGED all good";
    let server = StandIn::start(move |_| {
        Reply::error(401, &format!("bad\nwarning: {forged}\rerror: {forged}"))
    });
    let (tmp, root) = root_from("onboarded");
    copy_tree(
        &root.join("agents/main"),
        &root.join(format!("agents/x\nwarning: {forged}")),
    );
    let r = root.to_str().unwrap();
    let line = format!("x\nwarning: {forged}");
    let url = server.base_url();
    let runs: Vec<Vec<&str>> = vec![
        vec!["probe", "--base-url", &url, SENTINEL],
        vec!["--dry-run", "--base-url", &url, SENTINEL, r],
        vec!["--offline", "--dry-run", SENTINEL, r],
        vec!["--offline", "--dry-run", "--primary", &line, SENTINEL, r],
        vec!["--offline", "--dry-run", "--root", &line, SENTINEL],
        vec!["doctor", "--agent", &line, r],
        vec!["doctor", r],
        vec!["--offline", "--yes", SENTINEL, r],
        vec!["rollback", "--list", r],
        vec!["rollback", "--dry-run", r],
        vec!["uninstall", "--dry-run", r],
        vec!["--no-such-flag", &line],
    ];
    for args in runs {
        let what = args.join(" ");
        let out = cmd(tmp.path()).args(&args).output().unwrap();
        assert_hygienic(&out, &what);
        for s in [&out.stdout, &out.stderr] {
            let s = text(s);
            assert!(
                !s.lines()
                    .any(|l| l.trim_start().starts_with("warning: FORGED")
                        || l.starts_with("error: FORGED")),
                "{what}: a forged line:\n{s}"
            );
        }
    }
}

// ---------- the layer's functions over open input spaces ----------

mod layer_properties {
    use gaterouter_setup::redact;
    use gaterouter_setup::redact::secrets;
    use gaterouter_setup::redact::text;
    use proptest::prelude::*;

    /// The part of a key no redaction shows (what a leak would reveal).
    const KEY: &str = "sk-or-v1-PROPSECRET0123456789abcdefXY";
    const HIDDEN: &str = "v1-PROPSECRET0123456789abcdef";

    fn fragments_of_hidden(s: &str) -> Vec<&'static str> {
        (0..=HIDDEN.len() - 8)
            .map(|i| &HIDDEN[i..i + 8])
            .filter(|f| s.contains(f))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Any text that carries the key, or any piece of it 8+ long, around any other text:
        /// after redaction no 8 consecutive hidden characters remain, and redacting again
        /// changes nothing.
        #[test]
        fn no_piece_of_a_known_key_survives(
            before in "\\PC{0,20}",
            after in "\\PC{0,20}",
            start in 0usize..HIDDEN.len() - 8,
            len in 8usize..30,
            sep in prop_oneof![Just(""), Just(" "), Just("*"), Just("\u{1b}"), Just("\"")],
        ) {
            let r = secrets::Redactor::of([KEY]);
            let piece = &KEY[start..(start + len).min(KEY.len())];
            let text = format!("{before}{sep}{piece}{sep}{after} and {KEY}.");
            let out = r.text(&text);
            let leaked = fragments_of_hidden(&out);
            // `before`/`after` are random; only fragments they did not bring count.
            let own: Vec<&str> = fragments_of_hidden(&format!("{before}{after}"));
            prop_assert!(leaked.iter().all(|f| own.contains(f)), "{text:?} -> {out:?}");
            prop_assert_eq!(r.text(&out), out.clone());
        }

        /// Escaping leaves no character a terminal acts on, and JSON output stays the same
        /// value.
        #[test]
        fn escaped_text_is_inert_and_json_round_trips(s in "\\PC*|[\\x00-\\x1f\\x7f\u{80}-\u{9f}\u{200b}-\u{200f}\u{202a}-\u{202e}\u{2066}-\u{2069}a ]{0,30}") {
            let e = text::escape(&s);
            prop_assert!(!e.chars().any(|c| (c.is_control() && c != '\n' && c != '\t')
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')), "{e:?}");
            let one = text::one_line(&s, usize::MAX);
            prop_assert!(!one.contains('\n'));
            let v = serde_json::json!({ "m": s.clone() });
            // What the sink prints after redaction: valid JSON with the same value, always.
            let t = text::json_inert(&v);
            prop_assert!(!t.chars().any(text::dangerous), "{t:?}");
            let back: serde_json::Value = serde_json::from_str(&t).unwrap();
            prop_assert_eq!(back, v);
        }
    }

    /// A secret value placed under a secret-looking name at some depth, written in one of
    /// several JSON5 layouts (same line, next line, in an array, nested deeper).
    fn document() -> impl Strategy<Value = (String, String)> {
        let name = prop_oneof![
            Just("apiKey"),
            Just("\"apiKeys\""),
            Just("CORP_TOKEN_VALUE"),
            Just("'x-api-key'"),
            Just("clientSecret"),
            Just("credentials"),
            Just("db_password"),
        ];
        let secret = "[A-Za-z0-9]{12,30}".prop_map(|s| format!("SECRETVAL{s}"));
        let layout = 0usize..5;
        let depth = 0usize..4;
        let crlf = any::<bool>();
        (name, secret, layout, depth, crlf).prop_map(|(name, secret, layout, depth, crlf)| {
            let value = match layout {
                0 => format!("\"{secret}\""),
                1 => format!("\n      '{secret}'"),
                2 => format!("[\"x\", \n \"{secret}\"]"),
                3 => format!("{{ inner: {{ deeper: \"{secret}\" }} }}"),
                _ => format!("\"{}\\\n{}\"", &secret[..6], &secret[6..]),
            };
            let mut doc =
                format!("{{\n  // c\n  {name}: {value},\n  primary: \"gaterouter/auto\",\n}}\n");
            for i in 0..depth {
                doc = format!("{{\n  level{i}: {doc},\n  other: 1,\n}}\n");
            }
            if crlf {
                doc = doc.replace('\n', "\r\n");
            }
            (doc, secret)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Masked by structure: no line shows the secret (or its continued tail), the line
        /// count is the file's, and what is not secret stays visible.
        #[test]
        fn json_secrets_are_masked_wherever_they_sit((doc, secret) in document()) {
            let lines = redact::json_lines(&doc);
            prop_assert_eq!(lines.len(), doc.split_inclusive('\n').count());
            let shown: Vec<String> = lines
                .iter()
                .map(|l| redact::line(gaterouter_setup::format::Syntax::Json, l))
                .collect();
            let all = shown.join("\n");
            prop_assert!(!all.contains(&secret[6..]), "{doc}\n->\n{all}");
            prop_assert!(all.contains("gaterouter/auto") && all.contains("// c"), "{all}");
        }
    }
}
