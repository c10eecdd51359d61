//! Review before apply, in a real terminal (a pseudo-terminal driven by
//! `tests/support/pty_drive.py`): the recap right above the prompt, the prompt after a piped
//! diff, never a prompt about changes that were not shown, Ctrl-C at the prompt or during
//! the probe's spinner.

use std::path::Path;
use std::process::Command;

use crate::common::*;

struct Run {
    /// Everything the terminal showed.
    screen: String,
    /// `exit=N` or `signal=N`.
    status: String,
}

/// Runs `sh -c script` on a pseudo-terminal with the test environment; `$BIN` is the tool.
/// Once `wait` shows up, types `send`.
fn on_terminal(home: &Path, script: &str, wait: &str, send: &str) -> Run {
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/pty_drive.py");
    // A lone command runs as in a person's terminal: the tool itself in the foreground, not
    // under a `sh` that the terminal's Ctrl-C would kill first (dash does not wait for it).
    let single = script.starts_with("\"$BIN\"") && !script.contains(['|', '>', ';', '&']);
    let script = &if single {
        format!("exec {script}")
    } else {
        script.to_owned()
    };
    let out = Command::new("python3")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env("BIN", env!("CARGO_BIN_EXE_gaterouter-setup"))
        .arg(driver)
        .args([wait, send, "sh", "-c", script])
        .output()
        .expect("python3 runs");
    let run = Run {
        screen: text(&out.stdout),
        status: text(&out.stderr),
    };
    assert!(
        !run.screen.contains(KEY),
        "the key was shown:\n{}",
        run.screen
    );
    run
}

fn quoted(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

const PROMPT: &str = "Apply these changes to";

#[test]
fn the_recap_is_the_line_right_above_the_prompt() {
    let (tmp, root) = root_from("two-agents");
    let before = snapshot(&root);
    let script = format!("\"$BIN\" --offline {KEY} {}", quoted(&root));
    let run = on_terminal(tmp.path(), &script, PROMPT, "n\n");
    assert_eq!(run.status, "exit=1", "{}", run.screen);
    let lines: Vec<&str> = run.screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(PROMPT))
        .expect("a prompt");
    assert!(
        lines[at - 1].starts_with("Plan: 4 files (2 new, 2 changed): .env +key; openclaw.json default model, fallbacks, auth profile, provider (7 models);"),
        "{}",
        run.screen
    );
    // The catalog is folded: one line per file instead of 49.
    assert_eq!(
        run.screen.matches("… 7 models (49 lines): auto, ").count(),
        3,
        "{}",
        run.screen
    );
    assert!(!run.screen.contains("GateRouter Auto"), "{}", run.screen);
    assert_eq!(
        snapshot(&root),
        before,
        "answered no, yet something was written"
    );
}

/// `| tee log`: the diff reaches the screen through another process, later than our own
/// writes; the prompt must still come after it, and the log must hold the review.
#[test]
fn with_stdout_piped_the_prompt_comes_after_the_diff() {
    let (tmp, root) = root_from("two-agents");
    let log = tmp.path().join("log");
    let script = format!(
        "\"$BIN\" --offline {KEY} {} | tee {}",
        quoted(&root),
        quoted(&log)
    );
    let run = on_terminal(tmp.path(), &script, PROMPT, "n\n");
    let prompt = run.screen.find(PROMPT).expect("a prompt");
    let recap = run.screen.find("Plan: 4 files").expect("a recap");
    let last_diff_line = run.screen.rfind("+}").expect("the diff");
    assert!(
        last_diff_line < recap && recap < prompt,
        "prompt before the review:\n{}",
        run.screen
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("Plan: 4 files"), "{logged}");
    assert!(
        !logged.contains(PROMPT),
        "the prompt went to stdout:\n{logged}"
    );
}

/// `> file`: the review went where nobody sees it, so it is shown on the terminal (standard
/// error) before asking.
#[test]
fn with_stdout_in_a_file_the_review_is_shown_on_the_terminal() {
    let (tmp, root) = root_from("two-agents");
    let file = tmp.path().join("out.txt");
    let script = format!(
        "\"$BIN\" --offline {KEY} {} > {}",
        quoted(&root),
        quoted(&file)
    );
    let run = on_terminal(tmp.path(), &script, PROMPT, "n\n");
    let prompt = run.screen.find(PROMPT).expect("a prompt");
    let diff = run
        .screen
        .find("+++ b/openclaw.json")
        .expect("the diff, on the terminal");
    let recap = run.screen.find("Plan: 4 files").expect("the recap");
    assert!(diff < recap && recap < prompt, "{}", run.screen);
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("+++ b/openclaw.json")
    );
}

/// `-q` and `--json` show no diff: without `--yes` they are refused, not asked about.
#[test]
fn quiet_or_json_without_yes_refuses_instead_of_asking_blind() {
    for (flag, redirect) in [("-q", ""), ("--json", " > report.json")] {
        let (tmp, root) = root_from("two-agents");
        let before = snapshot(&root);
        let script = format!(
            "cd {} && \"$BIN\" --offline {flag} {KEY} {}{redirect}",
            quoted(tmp.path()),
            quoted(&root)
        );
        // Typing "y" must not matter: nothing may ask.
        let run = on_terminal(tmp.path(), &script, "", "y\n");
        assert_eq!(run.status, "exit=1", "{flag}: {}", run.screen);
        assert!(
            !run.screen.contains(PROMPT),
            "{flag} asked:\n{}",
            run.screen
        );
        assert!(
            run.screen.contains(&format!("{flag} shows no diff")) && run.screen.contains("--yes"),
            "{flag}: {}",
            run.screen
        );
        assert_eq!(snapshot(&root), before, "{flag} wrote");
        if flag == "--json" {
            let report = std::fs::read_to_string(tmp.path().join("report.json")).unwrap();
            let v: serde_json::Value = serde_json::from_str(&report).unwrap();
            assert_eq!(v["status"], "error", "{report}");
            assert_eq!(v["applied"], false, "{report}");
        }
    }
}

/// Ctrl-C at the prompt: the cursor (hidden by the prompt) is shown again, the run says it
/// wrote nothing, exits 130, and indeed wrote nothing.
#[test]
fn ctrl_c_at_the_prompt_restores_the_cursor_and_writes_nothing() {
    let (tmp, root) = root_from("two-agents");
    let before = snapshot(&root);
    let script = format!("\"$BIN\" --offline {KEY} {}", quoted(&root));
    let run = on_terminal(tmp.path(), &script, PROMPT, "\\x03");
    assert_eq!(run.status, "exit=130", "{}", run.screen);
    // Whatever hid the cursor, it is shown again last.
    let shown = run
        .screen
        .rfind("\x1b[?25h")
        .expect("the cursor is shown again");
    assert!(
        run.screen
            .rfind("\x1b[?25l")
            .is_none_or(|hidden| hidden < shown),
        "{:?}",
        run.screen
    );
    assert!(
        run.screen.trim_end().ends_with("aborted, nothing written"),
        "{:?}",
        run.screen
    );
    assert_eq!(snapshot(&root), before);
}

/// Ctrl-D at the prompt is an answer (no): exit 1, nothing written, no hang. So is a line
/// that is not `y`/`yes` (`yes please` is not applied on its `y`).
#[test]
fn ctrl_d_or_another_answer_at_the_prompt_is_no() {
    for send in ["\\x04", "yes please\\n", "\\n"] {
        let (tmp, root) = root_from("two-agents");
        let before = snapshot(&root);
        let script = format!("\"$BIN\" --offline {KEY} {}", quoted(&root));
        let run = on_terminal(tmp.path(), &script, PROMPT, send);
        assert_eq!(run.status, "exit=1", "{send}: {}", run.screen);
        assert!(run.screen.contains("Cancelled"), "{send}: {}", run.screen);
        assert_eq!(snapshot(&root), before, "{send}");
    }
    let (tmp, root) = root_from("two-agents");
    let script = format!("\"$BIN\" --offline {KEY} {}", quoted(&root));
    let run = on_terminal(tmp.path(), &script, PROMPT, "YES\\n");
    assert_eq!(run.status, "exit=0", "{}", run.screen);
}

/// Ctrl-C while the probe's spinner turns: its line is cleared, same message and code.
#[test]
fn ctrl_c_during_the_spinner_clears_its_line() {
    let server = stand_in::StandIn::start(|_| {
        stand_in::Reply::json(200, serde_json::json!({"data": []}))
            .after(std::time::Duration::from_secs(20))
    });
    let (tmp, root) = root_from("two-agents");
    let before = snapshot(&root);
    let script = format!(
        // `exec`: Ctrl-C signals the whole foreground group, the shell too.
        "exec \"$BIN\" --base-url {} --timeout 30 {KEY} {}",
        server.base_url(),
        quoted(&root)
    );
    let run = on_terminal(tmp.path(), &script, "Checking GateRouter", "\\x03");
    assert_eq!(run.status, "exit=130", "{:?}", run.screen);
    let tail = &run.screen[run.screen.rfind("Checking GateRouter").unwrap()..];
    assert!(tail.contains("\r\x1b[2K"), "spinner line left:\n{tail:?}");
    assert!(
        run.screen.trim_end().ends_with("aborted, nothing written"),
        "{:?}",
        run.screen
    );
    assert_eq!(snapshot(&root), before);
}

/// The summary and the recap name only what changes: a new primary is "default model,
/// fallbacks" (the old primary becomes the last fallback), not the provider or the auth
/// profile that stay as they are; a dry run ends with the recap and says "would".
#[test]
fn a_dry_run_names_only_what_changes_and_says_would() {
    let (tmp, root) = root_from("configured");
    std::fs::set_permissions(
        root.join(".env"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let out = cmd(tmp.path())
        .args([
            "--offline",
            "--dry-run",
            "--primary",
            "gaterouter/openai/gpt-5.4",
        ])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("~ openclaw.json                  default model, fallbacks\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("= agents/main/agent/models.json  unchanged"),
        "{stdout}"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[lines.len() - 2],
        "Plan: 2 files (1 changed, 1 mode only): .env mode 644 → 600; openclaw.json default model, fallbacks",
        "{stdout}"
    );
    assert!(lines[lines.len() - 1].starts_with("Dry run: nothing was written."));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("it would be made 0600"), "{stderr}");
    assert!(!stderr.contains("will be made"), "{stderr}");
}

/// `-v` shows the catalog line by line.
#[test]
fn verbose_shows_the_whole_catalog() {
    let (tmp, root) = root_from("two-agents");
    let run = |v: bool| {
        let mut c = cmd(tmp.path());
        c.args(["--offline", "--dry-run", KEY]).arg(&root);
        if v {
            c.arg("-v");
        }
        text(&c.output().unwrap().stdout)
    };
    let (short, full) = (run(false), run(true));
    assert!(short.contains("… 7 models (49 lines)"), "{short}");
    assert!(!full.contains("… 7 models"), "{full}");
    assert_eq!(
        full.matches("\"name\": \"GateRouter Auto\"").count(),
        3,
        "{full}"
    );
}

/// Many roots: the same rule, `-q` without `--yes` asks nothing and writes nothing; without
/// `-q`, Ctrl-C at the prompt exits 130.
#[test]
fn many_roots_never_ask_blind_and_stop_on_ctrl_c() {
    let tmp = tempfile::tempdir().unwrap();
    let roots: Vec<std::path::PathBuf> = ["a", "b"]
        .iter()
        .map(|n| {
            let r = tmp.path().join(n);
            copy_tree(&fixtures().join("two-agents/input"), &r);
            r
        })
        .collect();
    let before: Vec<_> = roots.iter().map(|r| snapshot(r)).collect();
    let flags: String = roots
        .iter()
        .map(|r| format!(" --root {}", quoted(r)))
        .collect();
    let run = on_terminal(
        tmp.path(),
        &format!("\"$BIN\" --offline -q {KEY}{flags}"),
        "",
        "y\n",
    );
    assert_eq!(run.status, "exit=1", "{}", run.screen);
    assert!(run.screen.contains("-q shows no diff"), "{}", run.screen);
    assert!(
        !run.screen.contains("Apply these changes"),
        "{}",
        run.screen
    );
    let run = on_terminal(
        tmp.path(),
        &format!("\"$BIN\" --offline {KEY}{flags}"),
        PROMPT,
        "\\x03",
    );
    assert_eq!(run.status, "exit=130", "{}", run.screen);
    assert!(
        run.screen.contains("aborted, nothing written"),
        "{}",
        run.screen
    );
    let after: Vec<_> = roots.iter().map(|r| snapshot(r)).collect();
    assert_eq!(after, before, "something was written");
}
