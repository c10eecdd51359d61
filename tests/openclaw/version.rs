//! Which OpenClaw release setup writes for: the config's version stamp, and `openclaw
//! --version` from PATH when there is one (it reads the config next, so it wins). Stub
//! `openclaw` scripts stand in for the binary: old and new releases, one older than any
//! checked, one that hangs, one that fails, one that prints no version.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{KEY, cmd, text};
use serde_json::{Value, json};

/// A root whose models.json holds what OpenClaw before 2026.8 writes into our entry itself:
/// `<tmp>/.openclaw`, the default state dir of an `openclaw` run with HOME=`tmp` (as `cmd`
/// sets it), so the binary on PATH is the one that reads it next.
fn root(tmp: &Path, stamp: Option<&str>) -> PathBuf {
    root_at(&tmp.join(".openclaw"), stamp)
}

fn root_at(root: &Path, stamp: Option<&str>) -> PathBuf {
    let root = root.to_path_buf();
    let agent = root.join("agents/main/agent");
    std::fs::create_dir_all(&agent).unwrap();
    let mut c =
        json!({"agents": {"defaults": {"model": {"primary": "anthropic/claude-sonnet-4-6"}}}});
    if let Some(v) = stamp {
        c["meta"] = json!({"lastTouchedVersion": v});
    }
    std::fs::write(root.join("openclaw.json"), c.to_string()).unwrap();
    std::fs::write(
        agent.join("models.json"),
        json!({"providers": {"gaterouter": {"baseUrl": "https://gaterouter.ai/openai/v1", "apiKey": "GATEROUTER_API_KEY", "models": []}}})
            .to_string(),
    )
    .unwrap();
    root
}

/// A directory holding an `openclaw` script with `body`; it records its environment in
/// `<dir>/env` first, so the test can see what the child was given.
fn stub(tmp: &Path, body: &str) -> PathBuf {
    let dir = tmp.join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("openclaw");
    std::fs::write(
        &p,
        format!("#!/bin/sh\nenv > '{}'\n{body}\n", dir.join("env").display()),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// `setup --offline --json` with `bin` first on PATH and the key in the environment (where
/// a child could see it if we passed it on); the report, and how long it took.
fn setup(tmp: &Path, root: &Path, bin: Option<&Path>) -> (Value, Duration) {
    let mut path =
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect::<Vec<_>>();
    if let Some(b) = bin {
        path.insert(0, b.to_path_buf());
    }
    let started = Instant::now();
    let o = cmd(tmp)
        .env("PATH", std::env::join_paths(path).unwrap())
        .env("GATEROUTER_API_KEY", KEY)
        .args(["--offline", "--json", "--dry-run", KEY])
        .arg(root)
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    (serde_json::from_slice(&o.stdout).unwrap(), took)
}

fn models_after(report: &Value) -> Value {
    let f = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "models")
        .unwrap();
    // Unchanged: no `after` in the report; the file as it is.
    match f["after"].as_str() {
        Some(a) => serde_json::from_str(a).unwrap(),
        None => json!({"providers": {"gaterouter": {"apiKey": "GATEROUTER_API_KEY"}}}),
    }
}

fn keeps_openclaws_key(report: &Value) -> bool {
    models_after(report)["providers"]["gaterouter"]
        .get("apiKey")
        .is_some()
}

fn warnings(report: &Value) -> String {
    report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_binary_on_path_decides_and_the_plan_says_so() {
    // (stamp, binary's output, keeps OpenClaw's models.json apiKey, a note that must appear)
    for (stamp, says, keeps, note) in [
        // No stamp: the binary alone decides.
        (
            None,
            "OpenClaw 2026.7.35 (abc1234)",
            true,
            "OpenClaw 2026.7.35 assumed",
        ),
        (
            None,
            "OpenClaw 2026.9.6 (eb377ac)",
            false,
            "no version stamp",
        ),
        // Upgraded binary, config still stamped by the old release: written for the new one.
        (
            Some("2026.7.35"),
            "2026.9.6",
            false,
            "is what reads it next",
        ),
        // Downgraded: the old binary writes the name back, so it is left alone.
        (
            Some("2026.9.6"),
            "OpenClaw 2026.7.35",
            true,
            "is what reads it next",
        ),
        (
            Some("2026.8.2"),
            "OpenClaw 2026.8.2",
            false,
            "as does the config's version stamp",
        ),
        // Older than any release checked: said, with what to do.
        (None, "OpenClaw 2026.3.1", true, "older than any release"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let root = root(tmp.path(), stamp);
        let bin = stub(tmp.path(), &format!("echo '{says}'"));
        let (r, _) = setup(tmp.path(), &root, Some(&bin));
        let w = warnings(&r);
        assert_eq!(keeps_openclaws_key(&r), keeps, "{stamp:?} {says}: {w}");
        assert!(w.contains(note), "{stamp:?} {says}: {w}");
        assert!(
            w.contains(&bin.join("openclaw").display().to_string()),
            "{w}"
        );
        // The child saw PATH and HOME, nothing else: never the key.
        let env = std::fs::read_to_string(bin.join("env")).unwrap();
        assert!(!env.contains(KEY) && !env.contains("GATEROUTER"), "{env}");
        let names: Vec<&str> = env.lines().filter_map(|l| l.split('=').next()).collect();
        assert!(
            names
                .iter()
                .all(|n| ["PATH", "HOME", "PWD", "SHLVL", "_", "OLDPWD"].contains(n)),
            "{names:?}"
        );
    }
}

/// A root that is not the binary's default state dir (a container's, one of a fleet's) may
/// be read by another install: its own stamp decides, and the plan says why; with no stamp
/// the binary still fills in.
#[test]
fn elsewhere_the_stamp_decides_over_the_binary() {
    for (stamp, says, keeps, note) in [
        (
            Some("2026.7.35"),
            "OpenClaw 2026.9.6",
            true,
            "not its default state dir",
        ),
        (
            Some("2026.9.6"),
            "OpenClaw 2026.7.35",
            false,
            "not its default state dir",
        ),
        (None, "OpenClaw 2026.7.35", true, "no version stamp"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let root = root_at(&tmp.path().join("srv/openclaw-1"), stamp);
        let bin = stub(tmp.path(), &format!("echo '{says}'"));
        let (r, _) = setup(tmp.path(), &root, Some(&bin));
        let w = warnings(&r);
        assert_eq!(keeps_openclaws_key(&r), keeps, "{stamp:?} {says}: {w}");
        assert!(w.contains(note), "{stamp:?} {says}: {w}");
    }
}

#[test]
fn without_a_binary_the_stamp_decides_and_nothing_is_said() {
    for (stamp, keeps) in [
        (Some("2026.7.35"), true),
        (Some("2026.9.6"), false),
        (None, false),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let root = root(tmp.path(), stamp);
        let (r, _) = setup(tmp.path(), &root, None);
        assert_eq!(keeps_openclaws_key(&r), keeps, "{stamp:?}");
        assert!(!warnings(&r).contains("assumed"), "{}", warnings(&r));
    }
}

#[test]
fn a_binary_that_hangs_fails_or_babbles_falls_back_to_the_stamp() {
    for (body, why) in [
        // A wrapper whose child keeps the pipe open: stopped with its whole group.
        ("sleep 60 & sleep 60", "did not answer within"),
        ("echo 'boom' >&2; exit 3", "exited with"),
        ("echo 'usage: openclaw [options]'", "not a version"),
    ] {
        for (stamp, keeps) in [(Some("2026.7.35"), true), (None, false)] {
            let tmp = tempfile::tempdir().unwrap();
            let root = root(tmp.path(), stamp);
            let bin = stub(tmp.path(), body);
            let (r, took) = setup(tmp.path(), &root, Some(&bin));
            let w = warnings(&r);
            assert_eq!(keeps_openclaws_key(&r), keeps, "{body} {stamp:?}: {w}");
            assert!(w.contains(why), "{body}: {w}");
            assert!(took < Duration::from_secs(20), "{body}: {took:?}");
        }
    }
}
