//! `gaterouter-setup doctor`: read-only, a line per check, a fix for each problem.

use crate::common::*;

fn doctor(
    tmp: &std::path::Path,
    root: &std::path::Path,
    extra: &[(&str, &str)],
) -> (Option<i32>, String, serde_json::Value) {
    let before = snapshot(tmp);
    let mut c = cmd(tmp);
    for (k, v) in extra {
        c.env(k, v);
    }
    let human = c.args(["doctor"]).arg(root).output().unwrap();
    assert_no_key(&human, KEY);
    let mut c = cmd(tmp);
    for (k, v) in extra {
        c.env(k, v);
    }
    let json = c.args(["doctor", "--json"]).arg(root).output().unwrap();
    assert_eq!(snapshot(tmp), before, "doctor wrote something");
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        v["exit_code"].as_i64().map(|c| c as i32),
        json.status.code()
    );
    (human.status.code(), text(&human.stdout), v)
}

fn configured() -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, root) = root_from("two-agents");
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", KEY])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    (tmp, root)
}

#[test]
fn a_configured_root_is_healthy() {
    let (tmp, root) = configured();
    let (code, out, v) = doctor(tmp.path(), &root, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Healthy"), "{out}");
    assert_eq!(v["healthy"], true);
    assert!(v["checks"].as_array().unwrap().len() >= 7);
}

#[test]
fn an_untouched_root_lists_what_is_missing_with_fixes() {
    let (tmp, root) = root_from("onboarded");
    let (code, out, v) = doctor(tmp.path(), &root, &[]);
    assert_eq!(code, Some(1));
    assert!(
        out.contains("FAIL  .env has no GATEROUTER_API_KEY → run gaterouter-setup"),
        "{out}"
    );
    assert!(
        out.contains("FAIL  openclaw.json has no models.providers.gaterouter"),
        "{out}"
    );
    assert!(
        !out.contains("half configured"),
        "nothing of ours is there: {out}"
    );
    assert_eq!(v["healthy"], false);
}

#[test]
fn a_half_configured_root_is_explained() {
    let (tmp, root) = configured();
    // As if setup had been interrupted after .env and the agents' files but before the
    // config: the key is there, and OpenClaw has no provider to send it to.
    let (_before_tmp, onboarded) = root_from("two-agents");
    std::fs::copy(onboarded.join("openclaw.json"), root.join("openclaw.json")).unwrap();
    let (code, out, _) = doctor(tmp.path(), &root, &[]);
    assert_eq!(code, Some(1));
    assert!(
        out.contains("half configured") && out.contains("gaterouter-setup rollback"),
        "{out}"
    );
    assert!(out.contains("missing: provider in openclaw.json"), "{out}");
}

/// An agent's models.json without our entry is setup's copy missing, not a broken root:
/// OpenClaw uses openclaw.json's entry (OPENCLAW.md). A warning, and still healthy; a
/// models.json entry that disagrees with openclaw.json stays a problem (its baseUrl wins).
#[test]
fn a_missing_models_json_entry_is_a_warning() {
    let (tmp, root) = configured();
    std::fs::write(
        root.join("agents/work/agent/models.json"),
        "{\"providers\": {}}\n",
    )
    .unwrap();
    let (code, out, _) = doctor(tmp.path(), &root, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("warn  agents/work/agent/models.json has no gaterouter provider"),
        "{out}"
    );
    assert!(!out.contains("half configured"), "{out}");
}

/// A root wired to GateRouter with OpenClaw's own `openclaw config patch` (made by OpenClaw
/// 2026.9.6: fixtures/roots/config-patch, see its SOURCE.md) is configured: OpenClaw validates
/// it and runs turns on it. doctor said FAIL ("half configured … a setup was interrupted"),
/// which made docs/ci.md's entrypoint run setup at every start. doctor is healthy (the
/// pieces OpenClaw does not need are warnings); `--check` says configured while it shows what
/// setup would add (exit 2: changes pending), in text and JSON.
#[test]
fn a_root_wired_by_openclaw_config_patch_is_configured() {
    let (tmp, root) = root_from("config-patch");
    let (code, out, v) = doctor(tmp.path(), &root, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Healthy"), "{out}");
    assert!(
        !out.contains("FAIL") && !out.contains("half configured"),
        "{out}"
    );
    assert_eq!(v["healthy"], true);
    let check = cmd(tmp.path())
        .args(["--check", "--offline"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(2));
    assert!(
        text(&check.stdout).contains("Configured: OpenClaw already uses GateRouter here"),
        "{}",
        text(&check.stdout)
    );
    let json = cmd(tmp.path())
        .args(["--check", "--offline", "--json"])
        .arg(&root)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        (v["status"].as_str(), v["configured"].as_bool()),
        (Some("pending"), Some(true))
    );
    // An onboarded root that never saw GateRouter is not.
    let (tmp, root) = root_from("onboarded");
    let json = cmd(tmp.path())
        .args(["--dry-run", "--offline", "--json", KEY])
        .arg(&root)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["configured"], false, "{v:#}");
}

#[test]
fn a_different_key_in_the_shell_shadows_env_file() {
    let (tmp, root) = configured();
    let (code, out, _) = doctor(
        tmp.path(),
        &root,
        &[("GATEROUTER_API_KEY", "sk-or-v1-other-0000000000000000")],
    );
    assert_eq!(code, Some(1));
    assert!(out.contains("differs from .env"), "{out}");
    assert!(!out.contains("sk-or-v1-other-0000000000000000"), "{out}");
}

#[test]
fn broken_files_and_inconsistencies_are_named() {
    let (tmp, root) = configured();
    std::fs::write(
        root.join("agents/main/agent/models.json"),
        "{ \"providers\": ",
    )
    .unwrap();
    let cfg = std::fs::read_to_string(root.join("openclaw.json")).unwrap();
    std::fs::write(
        root.join("openclaw.json"),
        cfg.replace("\"gaterouter/auto\",", "\"gaterouter/not-a-model\","),
    )
    .unwrap();
    let (code, out, _) = doctor(tmp.path(), &root, &[]);
    assert_eq!(code, Some(1));
    assert!(
        out.contains("agents/main/agent/models.json:1:") && out.contains("not valid JSON5"),
        "{out}"
    );
    assert!(
        out.contains("gaterouter/not-a-model is not in the gaterouter provider's model list"),
        "{out}"
    );
}

#[test]
fn a_fallback_provider_without_credentials_is_warned_about() {
    let (tmp, root) = configured();
    // Setup adds no such fallback itself; a user (or an earlier version) did.
    let cfg = std::fs::read_to_string(root.join("openclaw.json")).unwrap();
    std::fs::write(
        root.join("openclaw.json"),
        cfg.replacen(
            "\"fallbacks\": [",
            "\"fallbacks\": [\"openrouter/anthropic/claude-sonnet-4.6\",",
            1,
        ),
    )
    .unwrap();
    let (code, out, _) = doctor(tmp.path(), &root, &[]);
    assert_eq!(code, Some(0), "a warning is not a problem: {out}");
    assert!(out.contains("warn  fallback openrouter/"), "{out}");
    let (_, out, _) = doctor(tmp.path(), &root, &[("OPENROUTER_API_KEY", "sk-or-x")]);
    assert!(!out.contains("fallback openrouter/"), "{out}");
}

/// One `$include` rule (src/include.rs, OpenClaw's) for setup, doctor and verify: a config
/// OpenClaw refuses to load for its includes is refused by setup (exit 1, nothing written),
/// a FAIL in doctor and an error in verify, whichever way the include breaks the rule and
/// wherever in the config it sits. Doctor said "Healthy" and setup exited 0 on an include out
/// of the config's directory. OpenClaw's own validator agrees on the first variant.
#[test]
fn an_include_openclaw_refuses_is_refused_everywhere() {
    use std::os::unix::fs::symlink;
    type Make = fn(&std::path::Path, &std::path::Path);
    let variants: &[(&str, &str, Make)] = &[
        (
            "../outside.json5",
            "outside the config's directory",
            |_, _| {},
        ),
        (
            "/tmp/../etc/hostname",
            "outside the config's directory",
            |_, _| {},
        ),
        ("link.json5", "symlink", |root, out| {
            symlink(out.join("outside.json5"), root.join("link.json5")).unwrap()
        }),
        ("missing.json5", "does not exist", |_, _| {}),
        ("loop.json5", "cycle", |root, _| {
            std::fs::write(root.join("loop.json5"), r#"{"$include": "./loop.json5"}"#).unwrap()
        }),
        ("fifo.json5", "not a regular file", |root, _| {
            let p = std::ffi::CString::new(root.join("fifo.json5").to_str().unwrap()).unwrap();
            assert_eq!(unsafe { libc::mkfifo(p.as_ptr(), 0o644) }, 0);
        }),
        ("hard.json5", "hard link", |root, _| {
            std::fs::hard_link(root.join("shared.json5"), root.join("hard.json5")).unwrap()
        }),
    ];
    let mut checked = 0;
    let (_configured_tmp, configured_root) = configured();
    for (i, (inc, why, make)) in variants.iter().enumerate() {
        // At the top; the first also nested under `agents` and as one item of a list.
        let places: &[&str] = if i == 0 {
            &["top", "nested", "list"]
        } else {
            &["top"]
        };
        for place in places {
            let tmp = tempfile::tempdir().unwrap();
            let root = tmp.path().join("root");
            copy_tree(&configured_root, &root);
            std::fs::copy(
                fixtures().join("include-and-vars/input/shared.json5"),
                root.join("shared.json5"),
            )
            .unwrap();
            std::fs::write(tmp.path().join("outside.json5"), "{}").unwrap();
            make(&root, tmp.path());
            let cfg = std::fs::read_to_string(root.join("openclaw.json")).unwrap();
            let cfg = match *place {
                "top" => cfg.replacen('{', &format!("{{\n  \"$include\": {inc:?},"), 1),
                "nested" => cfg.replacen(
                    "\"agents\": {",
                    &format!("\"agents\": {{\n    \"$include\": {inc:?},"),
                    1,
                ),
                _ => cfg.replacen(
                    '{',
                    &format!("{{\n  \"$include\": [\"./shared.json5\", {inc:?}],"),
                    1,
                ),
            };
            std::fs::write(root.join("openclaw.json"), &cfg).unwrap();
            let before = snapshot(&root);
            let out = cmd(tmp.path())
                .args(["--offline", "--yes", KEY])
                .arg(&root)
                .timeout(std::time::Duration::from_secs(20))
                .output()
                .unwrap();
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{inc} {place}: setup: {err}");
            assert!(
                err.contains(why) && err.contains("OpenClaw does not load"),
                "{inc} {place}: {err}"
            );
            assert_eq!(snapshot(&root), before, "{inc} {place}: setup wrote");
            let (code, human, v) = doctor(tmp.path(), &root, &[]);
            assert_eq!(code, Some(1), "{inc} {place}: doctor: {human}");
            assert!(
                human.lines().any(|l| l.contains("FAIL") && l.contains(why)),
                "{inc} {place}: {human}"
            );
            assert_eq!(v["healthy"], false);
            let out = cmd(tmp.path())
                .args(["verify", "--json"])
                .arg(&root)
                .timeout(std::time::Duration::from_secs(20))
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(1), "{inc} {place}: verify");
            assert!(
                text(&out.stderr).contains(why),
                "{inc} {place}: verify: {}",
                text(&out.stderr)
            );
            if checked == 0
                && let Some(c) = openclaw_cache().filter(|c| c.join("validate").is_file())
            {
                let v = std::process::Command::new("bash")
                    .arg(c.join("validate"))
                    .arg(root.join("openclaw.json"))
                    .output()
                    .unwrap();
                assert!(
                    !v.status.success(),
                    "OpenClaw accepted {inc}: {}",
                    text(&v.stdout)
                );
                let out = text(&v.stdout);
                let verdict: serde_json::Value =
                    serde_json::from_str(&out[out.find('{').unwrap_or(0)..]).unwrap();
                assert_eq!(verdict["valid"], false, "{out}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, variants.len() + 2);
}
