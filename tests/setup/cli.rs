//! End-to-end behaviour of the binary: modes, exit codes, key sources, refusals, secrets.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use crate::common::*;

fn run(tmp: &std::path::Path, args: &[&str]) -> std::process::Output {
    cmd(tmp).args(args).output().unwrap()
}

#[test]
fn check_exits_2_when_pending_and_0_when_configured() {
    let (tmp, root) = root_from("onboarded");
    let r = root.to_str().unwrap();
    let out = run(tmp.path(), &["--offline", "--check", KEY, r]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("would change"));
    let (tmp2, root2) = root_from("configured");
    let out = run(
        tmp2.path(),
        &["--offline", "--check", root2.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Already configured"));
}

#[test]
fn without_yes_and_without_a_terminal_nothing_is_written() {
    let (tmp, root) = root_from("onboarded");
    let before = snapshot(&root);
    let out = run(tmp.path(), &["--offline", KEY, root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("pass --yes"), "{err}");
    // The diff was still shown, so the user can see what --yes would do.
    assert!(text(&out.stdout).contains("+++ b/openclaw.json"));
    assert_eq!(snapshot(&root), before);
}

#[test]
fn json_report_is_one_document_with_redacted_diffs() {
    let (tmp, root) = root_from("crlf-env");
    let out = run(
        tmp.path(),
        &[
            "--offline",
            "--dry-run",
            "--json",
            KEY,
            root.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_no_key(&out, KEY);
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(v["version"], 1);
    assert_eq!(v["mode"], "dry-run");
    assert_eq!(v["status"], "pending");
    assert_eq!(v["changed"], true);
    assert_eq!(v["applied"], false);
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["probe"]["status"], "skipped");
    let files = v["files"].as_array().unwrap();
    let env = files.iter().find(|f| f["path"] == ".env").unwrap();
    assert_eq!(env["action"], "modify");
    let diff = env["diff"].as_str().unwrap();
    // The new key, the key it replaces, and the neighbours' secrets are all masked.
    assert!(
        diff.contains("+export GATEROUTER_API_KEY=sk-or-…abcd # rotated 2026-10"),
        "{diff}"
    );
    assert!(
        !diff.contains("sk-or-v1-old-key-000000000000000000"),
        "{diff}"
    );
    assert!(!diff.contains("ABCdefGhIJKlmNoPQRsTUVwxyZ"), "{diff}");
    assert!(
        !diff.contains("sk-ant-api03-crlf-00000000000000000000"),
        "{diff}"
    );
}

#[test]
fn json_report_on_error_names_the_file() {
    let (tmp, root) = root_from("broken-json");
    let out = run(
        tmp.path(),
        &["--offline", "--yes", "--json", KEY, root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "error");
    assert_eq!(v["exit_code"], 1);
    assert!(
        v["error"]["path"]
            .as_str()
            .unwrap()
            .ends_with("openclaw.json")
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains(":7:3: not valid JSON5")
    );
}

#[test]
fn key_from_stdin_and_from_the_environment() {
    let (tmp, root) = root_from("fresh");
    let mut child = cmd(tmp.path())
        .args(["--offline", "--yes", "--init", "--api-key-stdin"])
        .arg(&root)
        .write_stdin(format!("{KEY}\n"))
        .output()
        .unwrap();
    assert_eq!(child.status.code(), Some(0), "{}", text(&child.stderr));
    assert_eq!(
        std::fs::read_to_string(root.join(".env")).unwrap(),
        format!("GATEROUTER_API_KEY={KEY}\n")
    );
    assert_no_key(&child, KEY);

    let (tmp, root) = root_from("fresh");
    child = cmd(tmp.path())
        .env("GATEROUTER_API_KEY", KEY)
        .args(["--offline", "--yes", "--init"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(child.status.code(), Some(0), "{}", text(&child.stderr));
    assert_eq!(
        std::fs::read_to_string(root.join(".env")).unwrap(),
        format!("GATEROUTER_API_KEY={KEY}\n")
    );
}

#[test]
fn no_key_keeps_the_one_in_env_file_or_fails_clearly() {
    let (tmp, root) = root_from("configured");
    let out = run(tmp.path(), &["--offline", "--yes", root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let (tmp, root) = root_from("onboarded");
    let before = snapshot(&root);
    let out = run(tmp.path(), &["--offline", "--yes", root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no API key given"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(snapshot(&root), before);
}

#[test]
fn bad_keys_are_refused_without_being_echoed() {
    let (tmp, root) = root_from("fresh");
    for bad in [
        "sk-or-v1 with-space",
        "sk-or-v1-#hash-0000",
        "sk-or-v1-$dollar-000",
        "sk-or-v1-\"quote\"-0",
    ] {
        let out = run(
            tmp.path(),
            &["--offline", "--yes", "--init", bad, root.to_str().unwrap()],
        );
        assert_eq!(out.status.code(), Some(1), "{bad}");
        let err = text(&out.stderr);
        assert!(err.contains("the API key contains"), "{err}");
        assert!(!err.contains(bad), "{err}");
    }
    assert!(snapshot(&root).is_empty());
}

#[test]
fn a_missing_root_or_a_file_as_root_is_an_input_error() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let out = run(
        tmp.path(),
        &["--offline", "--yes", KEY, missing.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("does not exist"),
        "{}",
        text(&out.stderr)
    );
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let out = run(
        tmp.path(),
        &["--offline", "--yes", KEY, file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is not a directory"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn default_root_follows_openclaw_env_vars() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let out = cmd(tmp.path())
        .env("OPENCLAW_STATE_DIR", &state)
        .args(["--offline", "--yes", "--init", KEY])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(state.join("openclaw.json").is_file());

    // With no state dir: $HOME/.openclaw-<profile>.
    let prof = tmp.path().join(".openclaw-work");
    std::fs::create_dir(&prof).unwrap();
    let out = cmd(tmp.path())
        .env("OPENCLAW_PROFILE", "work")
        .args(["--offline", "--yes", "--init", KEY])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(prof.join(".env").is_file());
}

#[test]
fn a_lone_directory_argument_is_the_root() {
    let (tmp, root) = root_from("configured");
    let out = run(
        tmp.path(),
        &["--offline", "--check", root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn primary_and_fallbacks_can_be_overridden() {
    let (tmp, root) = root_from("onboarded");
    let out = run(
        tmp.path(),
        &[
            "--offline",
            "--yes",
            "--primary",
            "gaterouter/anthropic/claude-sonnet-4.6",
            "--fallback",
            "gaterouter/openai/gpt-5.4",
            KEY,
            root.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("openclaw.json")).unwrap())
            .unwrap();
    assert_eq!(
        cfg["agents"]["defaults"]["model"],
        serde_json::json!({
            "primary": "gaterouter/anthropic/claude-sonnet-4.6",
            "fallbacks": ["gaterouter/openai/gpt-5.4", "anthropic/claude-opus-4-6"]
        })
    );
    let out = run(
        tmp.path(),
        &[
            "--offline",
            "--yes",
            "--primary",
            "auto",
            KEY,
            root.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("is not a model ref"));
}

#[test]
fn agent_flag_limits_models_json_to_one_agent() {
    let (tmp, root) = root_from("two-agents");
    let out = run(
        tmp.path(),
        &[
            "--offline",
            "--yes",
            "--agent",
            "work",
            KEY,
            root.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(root.join("agents/work/agent/models.json").is_file());
    let main = std::fs::read_to_string(root.join("agents/main/agent/models.json")).unwrap();
    assert!(!main.contains("gaterouter"), "main agent was touched");
}

fn config_of(root: &std::path::Path) -> serde_json::Value {
    let t = std::fs::read_to_string(root.join("openclaw.json")).unwrap();
    jsonc_parser::cst::CstRootNode::parse(&t, &Default::default())
        .unwrap()
        .to_serde_value()
        .unwrap()
}

/// `--agent ID` is "one agent only" (README): that agent's own model moves to GateRouter
/// (its previous one kept as its last fallback, given back by uninstall) and the default
/// model, which every other agent runs on, stays. It used to change `agents.defaults.model`
/// too. An agent the config does not declare has no model of its own to set: refused, with
/// nothing written. OpenClaw's validator accepts the result.
#[test]
fn agent_flag_moves_that_agent_only() {
    for (case, id, before_model) in [
        ("two-agents", "work", serde_json::Value::Null),
        (
            "agent-own-model",
            "thomas",
            serde_json::json!("openai-codex/gpt-5.4"),
        ),
    ] {
        let (tmp, root) = root_from(case);
        let before = config_of(&root);
        let out = run(
            tmp.path(),
            &[
                "--offline",
                "--yes",
                "--agent",
                id,
                KEY,
                root.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{case}: {}", text(&out.stderr));
        let after = config_of(&root);
        assert_eq!(
            after["agents"]["defaults"]["model"], before["agents"]["defaults"]["model"],
            "{case}: the default model changed"
        );
        let model = &after["agents"]["entries"][id]["model"];
        assert_eq!(model["primary"], "gaterouter/auto", "{case}: {model}");
        if let Some(old) = before_model.as_str() {
            assert_eq!(model["fallbacks"].as_array().unwrap().last().unwrap(), old);
        }
        for (other, entry) in after["agents"]["entries"].as_object().unwrap() {
            if other != id {
                assert_eq!(
                    entry, &before["agents"]["entries"][other],
                    "{case}: {other}"
                );
            }
        }
        if let Some(c) = openclaw_cache().filter(|c| c.join("validate").is_file()) {
            let v = std::process::Command::new("bash")
                .arg(c.join("validate"))
                .arg(root.join("openclaw.json"))
                .env("GATEROUTER_API_KEY", KEY)
                .output()
                .unwrap();
            assert!(
                v.status.success(),
                "{case}: OpenClaw rejects: {}",
                text(&v.stdout)
            );
        }
        let out = run(tmp.path(), &["uninstall", "--yes", root.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{case}: {}", text(&out.stderr));
        let back = config_of(&root);
        assert_eq!(back["agents"], before["agents"], "{case}: uninstall");
    }
    // Not declared (a directory under agents/ only): refused, nothing written.
    let (tmp, root) = root_from("onboarded");
    std::fs::create_dir_all(root.join("agents/work/agent")).unwrap();
    let before = snapshot(&root);
    let out = run(
        tmp.path(),
        &[
            "--offline",
            "--yes",
            "--agent",
            "work",
            KEY,
            root.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("does not declare agent work"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(snapshot(&root), before);
}

#[test]
fn readonly_config_is_refused_before_writing() {
    for var in ["OPENCLAW_CONFIG_READONLY", "OPENCLAW_NIX_MODE"] {
        let (tmp, root) = root_from("onboarded");
        let before = snapshot(&root);
        let out = cmd(tmp.path())
            .env(var, "1")
            .args(["--offline", "--yes", KEY])
            .arg(&root)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stderr).contains(var), "{}", text(&out.stderr));
        assert_eq!(snapshot(&root), before);
    }
}

#[test]
fn loose_env_mode_is_tightened_and_shown() {
    let (tmp, root) = root_from("onboarded");
    std::fs::set_permissions(root.join(".env"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(
        tmp.path(),
        &["--offline", "--dry-run", KEY, root.to_str().unwrap()],
    );
    let stdout = text(&out.stdout);
    // Git records 644 and 600 alike, so the change is a note, not a git mode header (which
    // would make `git apply` refuse the whole patch).
    assert!(
        stdout.contains("mode 644 → 600: .env (chmod 600"),
        "{stdout}"
    );
    assert!(!stdout.contains("old mode"), "{stdout}");
    assert!(stdout.contains("mode 644 → 600"), "{stdout}");
    let out = run(
        tmp.path(),
        &["--offline", "--yes", KEY, root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0));
    let mode = std::fs::metadata(root.join(".env"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    // The backup of .env holds the key too: never looser than 0600.
    let backups = root.join(".gaterouter-backup");
    let set = std::fs::read_dir(&backups)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let m = std::fs::metadata(set.join(".env"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(m, 0o600);
}

#[test]
fn symlinked_config_is_written_through_to_its_target() {
    let (tmp, root) = root_from("onboarded");
    let real = tmp.path().join("dotfiles/openclaw.json");
    std::fs::create_dir_all(real.parent().unwrap()).unwrap();
    std::fs::rename(root.join("openclaw.json"), &real).unwrap();
    std::os::unix::fs::symlink(&real, root.join("openclaw.json")).unwrap();
    let out = run(
        tmp.path(),
        &["--offline", "--yes", KEY, root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        std::fs::symlink_metadata(root.join("openclaw.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&real)
            .unwrap()
            .contains("gaterouter/auto")
    );
}

#[test]
fn backups_hold_the_originals_and_a_manifest() {
    let (tmp, root) = root_from("onboarded");
    let before = snapshot(&root);
    let out = run(
        tmp.path(),
        &["--offline", "--yes", KEY, root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0));
    let set = std::fs::read_dir(root.join(".gaterouter-backup"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for rel in [".env", "openclaw.json", "agents/main/agent/models.json"] {
        let Entry::File { bytes, .. } = &before[rel] else {
            panic!()
        };
        assert_eq!(&std::fs::read(set.join(rel)).unwrap(), bytes, "{rel}");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(set.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["files"].as_array().unwrap().len(), 3);
}

#[test]
fn a_different_key_in_the_shell_is_warned_about() {
    let (tmp, root) = root_from("fresh");
    let out = cmd(tmp.path())
        .env("GATEROUTER_API_KEY", "sk-or-v1-some-other-key-000000000000")
        .args(["--offline", "--dry-run", "--init", KEY])
        .arg(&root)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(err.contains("process environment win"), "{err}");
    assert!(!err.contains("sk-or-v1-some-other-key-000000000000"));
}

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(run(tmp.path(), &["--no-such-flag"]).status.code(), Some(1));
    assert_eq!(
        run(tmp.path(), &["--dry-run", "--check"]).status.code(),
        Some(1)
    );
    let help = run(tmp.path(), &["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("Exit codes"));
    let _ = std::io::stdout().flush();
}

#[test]
fn pathological_nesting_is_an_error_not_a_crash() {
    let (tmp, root) = root_from("fresh");
    for body in [
        format!("{{\"a\": {}1{}}}", "[".repeat(100_000), "]".repeat(100_000)),
        // The scanner gives up early on the hex number; the depth guard must still hold.
        format!(
            "{{\"h\": 0x1F, \"a\": {}1{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
    ] {
        std::fs::write(root.join("openclaw.json"), &body).unwrap();
        let out = run(
            tmp.path(),
            &["--offline", "--yes", KEY, root.to_str().unwrap()],
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("nested more than 512 levels deep"),
            "{}",
            text(&out.stderr)
        );
        assert!(!root.join(".env").exists());
    }
}

#[test]
fn wrong_types_are_named_with_file_path_and_line() {
    let cases = [
        (
            "{\n  \"agents\": { \"defaults\": { \"model\": 42 } }\n}\n",
            "`agents.defaults.model` must be a string or an object {primary, fallbacks}, but it is the number 42",
        ),
        (
            "{\n  \"models\": {\n    \"providers\": [1, 2]\n  }\n}\n",
            "openclaw.json:3: `models.providers` must be an object, but it is an array",
        ),
        (
            "{ \"auth\": { \"profiles\": { \"gaterouter:default\": \"x\" } } }",
            "`auth.profiles[\"gaterouter:default\"]` must be an object, but it is a string",
        ),
        (
            "{ \"agents\": { \"defaults\": { \"model\": { \"fallbacks\": [\"a/b\", 7] } } } }",
            "`agents.defaults.model.fallbacks[1]` must be a string, but it is the number 7",
        ),
        (
            "[\"not\", \"an\", \"object\"]",
            "`(top level)` must be an object, but it is an array",
        ),
        (
            "{ \"a\": 1, \"a\": 2, \"agents\": {}, \"agents\": {} }",
            "`agents` appears more than once",
        ),
    ];
    for (body, want) in cases {
        let (tmp, root) = root_from("onboarded");
        std::fs::write(root.join("openclaw.json"), body).unwrap();
        let before = snapshot(&root);
        let out = run(
            tmp.path(),
            &["--offline", "--yes", KEY, root.to_str().unwrap()],
        );
        assert_eq!(out.status.code(), Some(1), "{body}");
        let err = text(&out.stderr);
        assert!(err.contains(want), "for {body}\nwant {want}\ngot  {err}");
        assert!(err.contains("openclaw.json"), "{err}");
        assert_eq!(snapshot(&root), before, "{body}");
    }
}

#[test]
fn a_bad_models_json_names_the_agent_file() {
    let (tmp, root) = root_from("two-agents");
    std::fs::write(
        root.join("agents/work/agent/models.json"),
        "{ \"providers\": { \"gaterouter\": { \"models\": {} } } }",
    )
    .unwrap();
    let before = snapshot(&root);
    let out = run(
        tmp.path(),
        &["--offline", "--yes", KEY, root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("agents/work/agent/models.json")
            && err.contains("`providers.gaterouter.models` must be an array"),
        "{err}"
    );
    assert_eq!(snapshot(&root), before);
}

#[test]
fn unreadable_or_non_utf8_files_are_refused() {
    let (tmp, root) = root_from("onboarded");
    std::fs::write(root.join("openclaw.json"), b"{\"a\": \"caf\xe9\"}").unwrap();
    let out = run(
        tmp.path(),
        &["--offline", "--yes", KEY, root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is not UTF-8 text (invalid byte at offset 10, line 1)"),
        "{}",
        text(&out.stderr)
    );

    let (tmp, root) = root_from("onboarded");
    std::fs::remove_file(root.join(".env")).unwrap();
    std::fs::create_dir(root.join(".env")).unwrap();
    let out = run(
        tmp.path(),
        &["--offline", "--yes", KEY, root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(".env: is a directory where a file was expected"),
        "{}",
        text(&out.stderr)
    );

    let (tmp, root) = root_from("onboarded");
    std::os::unix::fs::symlink(
        tmp.path().join("gone.json"),
        root.join("agents/main/agent/x"),
    )
    .unwrap();
    std::fs::remove_file(root.join("openclaw.json")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("gone.json"), root.join("openclaw.json")).unwrap();
    let out = run(
        tmp.path(),
        &["--offline", "--yes", KEY, root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is a symlink to"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn include_and_variables_are_kept_verbatim() {
    let (tmp, root) = root_from("include-and-vars");
    let shared = std::fs::read(root.join("shared.json5")).unwrap();
    let out = run(
        tmp.path(),
        &["--offline", "--yes", KEY, root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let cfg = std::fs::read_to_string(root.join("openclaw.json")).unwrap();
    for kept in [
        "\"$include\": \"./shared.json5\"",
        "\"${OPENCLAW_WORKSPACE}\"",
        "\"$${NOT_EXPANDED}\"",
    ] {
        assert!(cfg.contains(kept), "{kept} missing from:\n{cfg}");
    }
    assert_eq!(
        std::fs::read(root.join("shared.json5")).unwrap(),
        shared,
        "an included file was touched"
    );
}

/// Runs the binary on a pseudo-terminal (util-linux `script`), typing `answer` at the prompt.
fn on_a_terminal(root: &std::path::Path, answer: &str) -> (Option<i32>, String) {
    let bin = assert_cmd::cargo::cargo_bin("gaterouter-setup");
    let command = format!("{} --offline {KEY} {}", bin.display(), root.display());
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(answer.as_bytes())?;
            c.wait_with_output()
        })
        .expect("util-linux `script` is needed to test the prompt on a terminal");
    (out.status.code(), text(&out.stdout))
}

#[test]
fn on_a_terminal_it_asks_and_defaults_to_no() {
    let (_tmp, root) = root_from("onboarded");
    let before = snapshot(&root);
    let (code, screen) = on_a_terminal(&root, "\n");
    assert!(
        screen.contains("Apply these changes to 3 files? [y/N]"),
        "{screen}"
    );
    assert!(
        screen.contains("\u{1b}[32m+"),
        "a terminal gets a coloured diff:\n{screen}"
    );
    assert!(!screen.contains(KEY), "{screen}");
    assert_eq!(code, Some(1));
    assert_eq!(
        snapshot(&root),
        before,
        "answering the default wrote something"
    );

    let (code, screen) = on_a_terminal(&root, "y\n");
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("Wrote 3 files"), "{screen}");
    assert!(
        std::fs::read_to_string(root.join("openclaw.json"))
            .unwrap()
            .contains("gaterouter/auto")
    );
}

#[test]
fn quiet_prints_nothing_but_errors() {
    let (tmp, root) = root_from("onboarded");
    let out = run(
        tmp.path(),
        &["--offline", "--yes", "-q", KEY, root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        std::fs::read_to_string(root.join("openclaw.json"))
            .unwrap()
            .contains("gaterouter/auto")
    );
    let (tmp, root) = root_from("broken-json");
    let out = run(
        tmp.path(),
        &["--offline", "--yes", "-q", KEY, root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("not valid JSON5"));
}

#[test]
fn verbose_lists_the_requests_without_the_key() {
    let server = crate::common::stand_in::StandIn::healthy(KEY);
    let (tmp, root) = root_from("onboarded");
    let out = run(
        tmp.path(),
        &[
            "--dry-run",
            "-v",
            "--base-url",
            &server.base_url(),
            KEY,
            root.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("GET {}/models → 200 in", server.base_url())),
        "{err}"
    );
    assert!(
        err.contains("POST") && err.contains("/chat/completions → 200"),
        "{err}"
    );
    assert_no_key(&out, KEY);
}

#[test]
fn completions_and_man_page() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = run(tmp.path(), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let s = text(&out.stdout);
        assert!(
            s.contains("gaterouter-setup") && s.contains("rollback"),
            "{shell}: {s}"
        );
    }
    let man = run(tmp.path(), &["man"]);
    assert_eq!(man.status.code(), Some(0));
    assert!(
        text(&man.stdout).starts_with(".ie") || text(&man.stdout).contains(".TH gaterouter-setup"),
        "{}",
        text(&man.stdout)
    );
}

#[test]
fn a_template_dir_replaces_the_built_in_templates() {
    let (tmp, root) = root_from("onboarded");
    let t = tmp.path().join("tpl");
    std::fs::create_dir(&t).unwrap();
    std::fs::write(
        t.join("provider.json"),
        r#"{ "baseUrl": "https://gw.example.com/openai/v1", "api": "openai-completions", "models": [ { "id": "auto", "name": "Company Auto" } ] }"#,
    )
    .unwrap();
    let out = run(
        tmp.path(),
        &[
            "--offline",
            "--yes",
            "--template-dir",
            t.to_str().unwrap(),
            KEY,
            root.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let m = std::fs::read_to_string(root.join("agents/main/agent/models.json")).unwrap();
    assert!(
        m.contains("https://gw.example.com/openai/v1") && m.contains("Company Auto"),
        "{m}"
    );
    // The defaults of the other template still apply.
    assert!(
        std::fs::read_to_string(root.join("openclaw.json"))
            .unwrap()
            .contains("gaterouter/auto")
    );

    std::fs::write(
        t.join("provider.json"),
        r#"{ "baseUrl": "x", "api": "openai-completions", "models": [ { "id": "auto" } ] }"#,
    )
    .unwrap();
    let out = run(
        tmp.path(),
        &[
            "--offline",
            "--yes",
            "--template-dir",
            t.to_str().unwrap(),
            KEY,
            root.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("models[0] needs a non-empty `id` and `name`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn colour_follows_the_terminal_and_the_usual_variables() {
    let (tmp, root) = root_from("onboarded");
    let r = root.to_str().unwrap();
    let esc = |o: &std::process::Output| o.stdout.contains(&0x1b);
    // Piped: plain, even without NO_COLOR.
    let plain = cmd(tmp.path())
        .env_remove("NO_COLOR")
        .args(["--offline", "--dry-run", KEY, r])
        .output()
        .unwrap();
    assert!(!esc(&plain), "piped output must be plain");
    let forced = cmd(tmp.path())
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .args(["--offline", "--dry-run", KEY, r])
        .output()
        .unwrap();
    assert!(esc(&forced), "CLICOLOR_FORCE=1 colours piped output");
    let no = cmd(tmp.path())
        .env("NO_COLOR", "1")
        .env("CLICOLOR_FORCE", "1")
        .args(["--offline", "--dry-run", KEY, r])
        .output()
        .unwrap();
    assert!(!esc(&no), "NO_COLOR wins");
    let always = cmd(tmp.path())
        .args(["--offline", "--dry-run", "--color", "always", KEY, r])
        .output()
        .unwrap();
    assert!(esc(&always), "--color always colours");
    assert!(
        text(&always.stdout).contains("\u{1b}[36m@@"),
        "cyan hunk headers"
    );
}

#[test]
fn a_missing_root_is_never_mistaken_for_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("not-yet");
    // The lone argument is a path: it is the root (and it does not exist), never the key.
    let out = cmd(tmp.path())
        .env("GATEROUTER_API_KEY", KEY)
        .args(["--offline", "--yes"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("does not exist"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !tmp.path().join(".openclaw").exists(),
        "the default root was written to"
    );
    // Two arguments in the wrong order: the "key" is a path.
    let (tmp, root) = root_from("onboarded");
    let out = run(
        tmp.path(),
        &["--offline", "--yes", root.to_str().unwrap(), KEY],
    );
    assert_eq!(out.status.code(), Some(1));
    // Both halves are recognised: the root's place holds a key, so they look swapped.
    assert!(
        text(&out.stderr).contains("look swapped"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn probe_without_a_key_uses_the_one_in_the_default_root() {
    let server = crate::common::stand_in::StandIn::healthy(KEY);
    let (tmp, root) = root_from("configured");
    let out = cmd(tmp.path())
        .env("OPENCLAW_STATE_DIR", &root)
        .args(["probe", "--base-url", &server.base_url()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        server.hits()[0].authorization.as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
    // Nowhere to find one: a clear usage error naming where it looked.
    let empty = tempfile::tempdir().unwrap();
    let out = cmd(empty.path())
        .args(["probe", "--base-url", &server.base_url()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("probe needs an API key")
            && text(&out.stderr).contains(".openclaw/.env"),
        "{}",
        text(&out.stderr)
    );
}

/// The primary is checked by one rule wherever it comes from: `--primary ID` and a template
/// naming the same ID agree (written when the live catalog lists it, refused alike when it
/// does not; offline, a warning for both). A template's primary in the live catalog but not in
/// the bundled one used to be refused as "not in GateRouter's bundled (--offline) model list"
/// on an online run.
#[test]
fn the_primary_is_checked_alike_from_a_flag_and_from_a_template() {
    let server = crate::common::stand_in::StandIn::healthy(KEY);
    for (id, live) in [("deepseek/deepseek-v3.2", true), ("nosuch/model-9", false)] {
        let r = format!("gaterouter/{id}");
        for offline in [false, true] {
            let mut verdicts = Vec::new();
            for via_template in [false, true] {
                let (tmp, root) = root_from("onboarded");
                let t = tmp.path().join("tpl");
                std::fs::create_dir(&t).unwrap();
                // A copy of templates/ (as the README says), with another primary.
                let mut tpl: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(
                        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                            .join("templates/openclaw.json"),
                    )
                    .unwrap(),
                )
                .unwrap();
                tpl["agents"]["defaults"]["model"]["primary"] = r.clone().into();
                std::fs::write(t.join("openclaw.json"), tpl.to_string()).unwrap();
                let base = server.base_url();
                let mut args = vec!["--yes", "--base-url", &base];
                if offline {
                    args.push("--offline");
                }
                if via_template {
                    args.extend(["--template-dir", t.to_str().unwrap()]);
                } else {
                    args.extend(["--primary", &r]);
                }
                args.extend([KEY, root.to_str().unwrap()]);
                let out = run(tmp.path(), &args);
                let config = std::fs::read_to_string(root.join("openclaw.json")).unwrap();
                let written = config.contains(&format!("\"primary\": \"{r}\""));
                let err = text(&out.stderr);
                let listed_as = if err.contains("bundled (--offline)") {
                    "bundled"
                } else if err.contains("live model list") {
                    "live"
                } else {
                    "-"
                };
                verdicts.push((out.status.code(), written, listed_as));
            }
            assert_eq!(
                verdicts[0], verdicts[1],
                "{id} offline={offline}: --primary vs template"
            );
            let want = match (offline, live) {
                (false, true) => (Some(0), true, "-"),
                (false, false) => (Some(1), false, "live"),
                (true, _) => (Some(0), true, "bundled"),
            };
            assert_eq!(verdicts[0], want, "{id} offline={offline}");
        }
    }
}
