//! `gaterouter-setup doctor`: read-only, a line per check, a fix for each problem.

mod common;

use common::*;

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
    // As if setup had been interrupted after the config but before this agent's file.
    std::fs::write(
        root.join("agents/work/agent/models.json"),
        "{\"providers\": {}}\n",
    )
    .unwrap();
    let (code, out, _) = doctor(tmp.path(), &root, &[]);
    assert_eq!(code, Some(1));
    assert!(
        out.contains("agents/work/agent/models.json has no gaterouter provider"),
        "{out}"
    );
    assert!(
        out.contains("half configured") && out.contains("gaterouter-setup rollback"),
        "{out}"
    );
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
