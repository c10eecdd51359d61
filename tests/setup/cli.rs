//! End-to-end behaviour of the binary: modes, exit codes, key sources, refusals, secrets.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use crate::common::*;

#[test]
fn check_exits_2_when_pending_and_0_when_configured() {
    Scenario::case("onboarded")
        .args(["--offline", "--check", KEY])
        .root_arg()
        .run()
        .code(2)
        .stdout_has("would change");
    Scenario::case("configured")
        .args(["--offline", "--check"])
        .root_arg()
        .run()
        .code(0)
        .stdout_has("Already configured");
}

#[test]
fn without_yes_and_without_a_terminal_nothing_is_written() {
    Scenario::case("onboarded")
        .args(["--offline", KEY])
        .root_arg()
        .run()
        .code(1)
        .stderr_has("pass --yes")
        // The diff was still shown, so the user can see what --yes would do.
        .stdout_has("+++ b/openclaw.json")
        .unchanged();
}

#[test]
fn json_report_is_one_document_with_redacted_diffs() {
    let v = Scenario::case("crlf-env")
        .args(["--offline", "--dry-run", "--json", KEY])
        .root_arg()
        .run()
        .code(0)
        .no_key()
        .json();
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
    let v = Scenario::case("broken-json")
        .args(["--offline", "--yes", "--json", KEY])
        .root_arg()
        .run()
        .code(1)
        .json();
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
    let run = Scenario::case("fresh")
        .args(["--offline", "--yes", "--init", "--api-key-stdin"])
        .root_arg()
        .stdin(format!("{KEY}\n"))
        .run()
        .code(0)
        .no_key();
    assert_eq!(
        std::fs::read_to_string(run.root().join(".env")).unwrap(),
        format!("GATEROUTER_API_KEY={KEY}\n")
    );

    let run = Scenario::case("fresh")
        .env("GATEROUTER_API_KEY", KEY)
        .args(["--offline", "--yes", "--init"])
        .root_arg()
        .run()
        .code(0);
    assert_eq!(
        std::fs::read_to_string(run.root().join(".env")).unwrap(),
        format!("GATEROUTER_API_KEY={KEY}\n")
    );
}

#[test]
fn no_key_keeps_the_one_in_env_file_or_fails_clearly() {
    Scenario::case("configured")
        .args(["--offline", "--yes"])
        .root_arg()
        .run()
        .code(0);
    Scenario::case("onboarded")
        .args(["--offline", "--yes"])
        .root_arg()
        .run()
        .code(1)
        .stderr_has("no API key given")
        .unchanged();
}

#[test]
fn bad_keys_are_refused_without_being_echoed() {
    let fresh = Scenario::case("fresh");
    for bad in [
        "sk-or-v1 with-space",
        "sk-or-v1-#hash-0000",
        "sk-or-v1-$dollar-000",
        "sk-or-v1-\"quote\"-0",
    ] {
        fresh
            .then()
            .args(["--offline", "--yes", "--init", bad])
            .root_arg()
            .label(bad)
            .run()
            .code(1)
            .stderr_has("the API key contains")
            .stderr_lacks(bad);
    }
    assert!(snapshot(fresh.root()).is_empty());
}

#[test]
fn a_missing_root_or_a_file_as_root_is_an_input_error() {
    let home = Scenario::empty();
    home.then()
        .args(["--offline", "--yes", KEY])
        .arg(home.tmp().join("nope"))
        .run()
        .code(1)
        .stderr_has("does not exist");
    let file = home.tmp().join("file");
    std::fs::write(&file, "x").unwrap();
    home.then()
        .args(["--offline", "--yes", KEY])
        .arg(&file)
        .run()
        .code(1)
        .stderr_has("is not a directory");
}

#[test]
fn default_root_follows_openclaw_env_vars() {
    let home = Scenario::empty();
    let state = home.tmp().join("state");
    std::fs::create_dir(&state).unwrap();
    home.then()
        .env("OPENCLAW_STATE_DIR", &state)
        .args(["--offline", "--yes", "--init", KEY])
        .run()
        .code(0);
    assert!(state.join("openclaw.json").is_file());

    // With no state dir: $HOME/.openclaw-<profile>.
    let prof = home.tmp().join(".openclaw-work");
    std::fs::create_dir(&prof).unwrap();
    home.then()
        .env("OPENCLAW_PROFILE", "work")
        .args(["--offline", "--yes", "--init", KEY])
        .run()
        .code(0);
    assert!(prof.join(".env").is_file());
}

#[test]
fn a_lone_directory_argument_is_the_root() {
    Scenario::case("configured")
        .args(["--offline", "--check"])
        .root_arg()
        .run()
        .code(0);
}

#[test]
fn primary_and_fallbacks_can_be_overridden() {
    let run = Scenario::case("onboarded")
        .args([
            "--offline",
            "--yes",
            "--primary",
            "gaterouter/anthropic/claude-sonnet-4.6",
            "--fallback",
            "gaterouter/openai/gpt-5.4",
            KEY,
        ])
        .root_arg()
        .run()
        .code(0);
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.root().join("openclaw.json")).unwrap())
            .unwrap();
    assert_eq!(
        cfg["agents"]["defaults"]["model"],
        serde_json::json!({
            "primary": "gaterouter/anthropic/claude-sonnet-4.6",
            "fallbacks": ["gaterouter/openai/gpt-5.4", "anthropic/claude-opus-4-6"]
        })
    );
    run.then()
        .args(["--offline", "--yes", "--primary", "auto", KEY])
        .root_arg()
        .run()
        .code(1)
        .stderr_has("is not a model ref");
}

#[test]
fn agent_flag_limits_models_json_to_one_agent() {
    let run = Scenario::case("two-agents")
        .args(["--offline", "--yes", "--agent", "work", KEY])
        .root_arg()
        .run()
        .code(0);
    assert!(run.root().join("agents/work/agent/models.json").is_file());
    let main = std::fs::read_to_string(run.root().join("agents/main/agent/models.json")).unwrap();
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
        let s = Scenario::case(case);
        let root = s.root();
        let before = config_of(root);
        s.then()
            .args(["--offline", "--yes", "--agent", id, KEY])
            .root_arg()
            .label(case)
            .run()
            .code(0);
        let after = config_of(root);
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
        s.then()
            .args(["uninstall", "--yes"])
            .root_arg()
            .label(case)
            .run()
            .code(0);
        let back = config_of(root);
        assert_eq!(back["agents"], before["agents"], "{case}: uninstall");
    }
    // Not declared (a directory under agents/ only): refused, nothing written.
    let s = Scenario::case("onboarded");
    std::fs::create_dir_all(s.root().join("agents/work/agent")).unwrap();
    s.args(["--offline", "--yes", "--agent", "work", KEY])
        .root_arg()
        .run()
        .code(1)
        .stderr_has("does not declare agent work")
        .unchanged();
}

#[test]
fn readonly_config_is_refused_before_writing() {
    for var in ["OPENCLAW_CONFIG_READONLY", "OPENCLAW_NIX_MODE"] {
        Scenario::case("onboarded")
            .env(var, "1")
            .args(["--offline", "--yes", KEY])
            .root_arg()
            .run()
            .code(1)
            .stderr_has(var)
            .unchanged();
    }
}

#[test]
fn loose_env_mode_is_tightened_and_shown() {
    let s = Scenario::case("onboarded");
    let root = s.root();
    std::fs::set_permissions(root.join(".env"), std::fs::Permissions::from_mode(0o644)).unwrap();
    s.then()
        .args(["--offline", "--dry-run", KEY])
        .root_arg()
        .run()
        // Git records 644 and 600 alike, so the change is a note, not a git mode header (which
        // would make `git apply` refuse the whole patch).
        .stdout_has("mode 644 → 600: .env (chmod 600")
        .stdout_lacks("old mode")
        .stdout_has("mode 644 → 600");
    s.then()
        .args(["--offline", "--yes", KEY])
        .root_arg()
        .run()
        .code(0);
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
    let s = Scenario::case("onboarded");
    let root = s.root();
    let real = s.tmp().join("dotfiles/openclaw.json");
    std::fs::create_dir_all(real.parent().unwrap()).unwrap();
    std::fs::rename(root.join("openclaw.json"), &real).unwrap();
    std::os::unix::fs::symlink(&real, root.join("openclaw.json")).unwrap();
    s.then()
        .args(["--offline", "--yes", KEY])
        .root_arg()
        .run()
        .code(0);
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
    let s = Scenario::case("onboarded");
    let root = s.root();
    let before = snapshot(root);
    s.then()
        .args(["--offline", "--yes", KEY])
        .root_arg()
        .run()
        .code(0);
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
    Scenario::case("fresh")
        .env("GATEROUTER_API_KEY", "sk-or-v1-some-other-key-000000000000")
        .args(["--offline", "--dry-run", "--init", KEY])
        .root_arg()
        .run()
        .stderr_has("process environment win")
        .stderr_lacks("sk-or-v1-some-other-key-000000000000");
}

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let home = Scenario::empty();
    home.then().arg("--no-such-flag").run().code(1);
    home.then().args(["--dry-run", "--check"]).run().code(1);
    home.then()
        .arg("--help")
        .run()
        .code(0)
        .stdout_has("Exit codes");
    let _ = std::io::stdout().flush();
}

#[test]
fn pathological_nesting_is_an_error_not_a_crash() {
    let s = Scenario::case("fresh");
    let root = s.root();
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
        s.then()
            .args(["--offline", "--yes", KEY])
            .root_arg()
            .run()
            .code(1)
            .stderr_has("nested more than 512 levels deep");
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
        let s = Scenario::case("onboarded");
        std::fs::write(s.root().join("openclaw.json"), body).unwrap();
        s.args(["--offline", "--yes", KEY])
            .root_arg()
            .label(body)
            .run()
            .code(1)
            .stderr_has(want)
            .stderr_has("openclaw.json")
            .unchanged();
    }
}

#[test]
fn a_bad_models_json_names_the_agent_file() {
    let s = Scenario::case("two-agents");
    std::fs::write(
        s.root().join("agents/work/agent/models.json"),
        "{ \"providers\": { \"gaterouter\": { \"models\": {} } } }",
    )
    .unwrap();
    s.args(["--offline", "--yes", KEY])
        .root_arg()
        .run()
        .code(1)
        .stderr_has("agents/work/agent/models.json")
        .stderr_has("`providers.gaterouter.models` must be an array")
        .unchanged();
}

#[test]
fn unreadable_or_non_utf8_files_are_refused() {
    let s = Scenario::case("onboarded");
    std::fs::write(s.root().join("openclaw.json"), b"{\"a\": \"caf\xe9\"}").unwrap();
    s.args(["--offline", "--yes", KEY])
        .root_arg()
        .run()
        .code(1)
        .stderr_has("is not UTF-8 text (invalid byte at offset 10, line 1)");

    let s = Scenario::case("onboarded");
    std::fs::remove_file(s.root().join(".env")).unwrap();
    std::fs::create_dir(s.root().join(".env")).unwrap();
    s.args(["--offline", "--yes", KEY])
        .root_arg()
        .run()
        .code(1)
        .stderr_has(".env: is a directory where a file was expected");

    let s = Scenario::case("onboarded");
    let (tmp, root) = (s.tmp(), s.root());
    std::os::unix::fs::symlink(tmp.join("gone.json"), root.join("agents/main/agent/x")).unwrap();
    std::fs::remove_file(root.join("openclaw.json")).unwrap();
    std::os::unix::fs::symlink(tmp.join("gone.json"), root.join("openclaw.json")).unwrap();
    s.then()
        .args(["--offline", "--yes", KEY])
        .root_arg()
        .run()
        .code(1)
        .stderr_has("is a symlink to");
}

#[test]
fn include_and_variables_are_kept_verbatim() {
    let s = Scenario::case("include-and-vars");
    let root = s.root();
    let shared = std::fs::read(root.join("shared.json5")).unwrap();
    s.then()
        .args(["--offline", "--yes", KEY])
        .root_arg()
        .run()
        .code(0);
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
    let run = Scenario::case("onboarded")
        .args(["--offline", "--yes", "-q", KEY])
        .root_arg()
        .run()
        .code(0)
        .stdout_empty()
        .stderr_empty();
    assert!(
        std::fs::read_to_string(run.root().join("openclaw.json"))
            .unwrap()
            .contains("gaterouter/auto")
    );
    Scenario::case("broken-json")
        .args(["--offline", "--yes", "-q", KEY])
        .root_arg()
        .run()
        .code(1)
        .stdout_empty()
        .stderr_has("not valid JSON5");
}

#[test]
fn verbose_lists_the_requests_without_the_key() {
    let server = crate::common::stand_in::StandIn::healthy(KEY);
    let base = server.base_url();
    Scenario::case("onboarded")
        .args(["--dry-run", "-v", "--base-url", &base, KEY])
        .root_arg()
        .run()
        .code(0)
        .stderr_has(&format!("GET {base}/models → 200 in"))
        .stderr_has("POST")
        .stderr_has("/chat/completions → 200")
        .no_key();
}

#[test]
fn completions_and_man_page() {
    let home = Scenario::empty();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        home.then()
            .args(["completions", shell])
            .label(shell)
            .run()
            .code(0)
            .stdout_has("gaterouter-setup")
            .stdout_has("rollback");
    }
    let man = home.then().arg("man").run().code(0).stdout();
    assert!(
        man.starts_with(".ie") || man.contains(".TH gaterouter-setup"),
        "{man}"
    );
}

#[test]
fn a_template_dir_replaces_the_built_in_templates() {
    let s = Scenario::case("onboarded");
    let root = s.root();
    let t = s.tmp().join("tpl");
    std::fs::create_dir(&t).unwrap();
    std::fs::write(
        t.join("provider.json"),
        r#"{ "baseUrl": "https://gw.example.com/openai/v1", "api": "openai-completions", "models": [ { "id": "auto", "name": "Company Auto" } ] }"#,
    )
    .unwrap();
    let template_run = || {
        s.then()
            .args([
                "--offline",
                "--yes",
                "--template-dir",
                t.to_str().unwrap(),
                KEY,
            ])
            .root_arg()
            .run()
    };
    template_run().code(0);
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
    template_run()
        .code(1)
        .stderr_has("models[0] needs a non-empty `id` and `name`");
}

#[test]
fn colour_follows_the_terminal_and_the_usual_variables() {
    let s = Scenario::case("onboarded");
    let dry = || s.then().args(["--offline", "--dry-run", KEY]).root_arg();
    let esc = |r: &Run| r.output().stdout.contains(&0x1b);
    // Piped: plain, even without NO_COLOR.
    let plain = dry().env_remove("NO_COLOR").run();
    assert!(!esc(&plain), "piped output must be plain");
    let forced = dry()
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .run();
    assert!(esc(&forced), "CLICOLOR_FORCE=1 colours piped output");
    let no = dry().env("NO_COLOR", "1").env("CLICOLOR_FORCE", "1").run();
    assert!(!esc(&no), "NO_COLOR wins");
    let always = s
        .then()
        .args(["--offline", "--dry-run", "--color", "always", KEY])
        .root_arg()
        .run();
    assert!(esc(&always), "--color always colours");
    assert!(
        always.stdout().contains("\u{1b}[36m@@"),
        "cyan hunk headers"
    );
}

#[test]
fn a_missing_root_is_never_mistaken_for_the_key() {
    let home = Scenario::empty();
    let missing = home.tmp().join("not-yet");
    // The lone argument is a path: it is the root (and it does not exist), never the key.
    home.then()
        .env("GATEROUTER_API_KEY", KEY)
        .args(["--offline", "--yes"])
        .arg(&missing)
        .run()
        .code(1)
        .stderr_has("does not exist");
    assert!(
        !home.tmp().join(".openclaw").exists(),
        "the default root was written to"
    );
    // Two arguments in the wrong order: the "key" is a path.
    Scenario::case("onboarded")
        .args(["--offline", "--yes"])
        .root_arg()
        .arg(KEY)
        .run()
        .code(1)
        // Both halves are recognised: the root's place holds a key, so they look swapped.
        .stderr_has("look swapped");
}

#[test]
fn probe_without_a_key_uses_the_one_in_the_default_root() {
    let server = crate::common::stand_in::StandIn::healthy(KEY);
    let base = server.base_url();
    let s = Scenario::case("configured");
    s.then()
        .env("OPENCLAW_STATE_DIR", s.root())
        .args(["probe", "--base-url", &base])
        .run()
        .code(0);
    assert_eq!(
        server.hits()[0].authorization.as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
    // Nowhere to find one: a clear usage error naming where it looked.
    Scenario::empty()
        .args(["probe", "--base-url", &base])
        .run()
        .code(1)
        .stderr_has("probe needs an API key")
        .stderr_has(".openclaw/.env");
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
                let s = Scenario::case("onboarded");
                let t = s.tmp().join("tpl");
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
                args.push(KEY);
                let out = s.then().args(&args).root_arg().run();
                let config = std::fs::read_to_string(s.root().join("openclaw.json")).unwrap();
                let written = config.contains(&format!("\"primary\": \"{r}\""));
                let err = out.stderr();
                let listed_as = if err.contains("bundled (--offline)") {
                    "bundled"
                } else if err.contains("live model list") {
                    "live"
                } else {
                    "-"
                };
                verdicts.push((out.output().status.code(), written, listed_as));
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
