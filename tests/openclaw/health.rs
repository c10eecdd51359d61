//! OpenClaw's config health check against what we write (issue 22): every write of ours
//! (setup, uninstall, rollback) must survive OpenClaw's next loads and `doctor --fix`, and
//! keep the user's own OpenClaw edits. OpenClaw (2026.9.6) restores `openclaw.json.bak` over
//! a config that shrank below half of its last-known-good (from 512 bytes), keeping the
//! file as `openclaw.json.clobbered.*`, and logs "Config observe anomaly" where it does not
//! restore (a config with `$include`).
//!
//! One test, scenarios in turn, so OpenClaw onboards once: the onboarded root is kept aside
//! and copied back to the same path before each scenario (OpenClaw's config and database
//! hold absolute paths). Each scenario runs as few OpenClaw commands as it needs.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::common::openclaw::{OpenClaw, openclaw_or_skip};
use crate::common::*;
use serde_json::Value;

/// One OpenClaw command that loads the config (the issue's reproduction uses this one).
fn load(oc: &OpenClaw) -> String {
    let out = oc.run(&["models", "status", "--json"]);
    format!("{}\n{}", text(&out.stdout), text(&out.stderr))
}

/// What OpenClaw prints when its health check acts on the config.
fn assert_kept(what: &str, output: &str) {
    for sign in [
        "Config auto-restored",
        "Config observe anomaly",
        "Config write rejected",
    ] {
        assert!(
            !output.contains(sign),
            "{what}: OpenClaw's health check acted on our write:\n{output}"
        );
    }
}

/// Files OpenClaw set aside beside the config.
fn set_aside(state: &Path) -> Vec<String> {
    std::fs::read_dir(state)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".clobbered.") || n.contains(".rejected."))
        .collect()
}

fn config(oc: &OpenClaw) -> Value {
    let t = std::fs::read_to_string(oc.state.join("openclaw.json")).unwrap();
    serde_json::from_str(&t).unwrap_or_else(|e| panic!("{e}:\n{t}"))
}

/// Nothing of GateRouter left where OpenClaw reads it: the config, any models.json, `.env`.
fn assert_no_gaterouter(what: &str, oc: &OpenClaw) {
    let mut files = vec![oc.state.join("openclaw.json"), oc.state.join(".env")];
    if let Ok(agents) = std::fs::read_dir(oc.state.join("agents")) {
        files.extend(agents.flatten().map(|a| a.path().join("agent/models.json")));
    }
    for f in files {
        if let Ok(t) = std::fs::read_to_string(&f) {
            assert!(
                !t.to_ascii_lowercase().contains("gaterouter"),
                "{what}: {} still has gaterouter:\n{t}",
                f.display()
            );
        }
    }
}

fn ours(oc: &OpenClaw, args: &[&str]) -> std::process::Output {
    let out = cmd(&oc.home).args(args).arg(&oc.state).output().unwrap();
    assert_no_key(&out, KEY);
    out
}

fn ours_ok(oc: &OpenClaw, args: &[&str]) {
    let out = ours(oc, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "gaterouter-setup {args:?}:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn setup(oc: &OpenClaw) {
    ours_ok(oc, &["--offline", "--yes", KEY]);
}

fn port(oc: &OpenClaw) -> Value {
    config(oc)["gateway"]["port"].clone()
}

fn set_port(oc: &OpenClaw) {
    let out = oc.run(&["config", "set", "gateway.port", "18790"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(port(oc), 18790);
}

/// Puts the kept copy of a root back at OpenClaw's path.
fn reset(oc: &OpenClaw, pristine: &Path) {
    if oc.state.exists() {
        std::fs::remove_dir_all(&oc.state).unwrap();
    }
    copy_tree(pristine, &oc.state);
}

/// A hand-written config of about 600 bytes: after setup our block is most of it, so
/// uninstall shrinks it to well under half (and OpenClaw has a `.bak` and a health row for
/// it once its own `config set` has written it).
fn small_config(log: &Path, include: bool) -> String {
    let include = if include {
        "\n  \"$include\": \"./extra.json5\","
    } else {
        ""
    };
    let c = format!(
        r#"{{{include}
  "logging": {{ "file": "{}" }},
  "agents": {{
    "defaults": {{
      "model": {{ "primary": "anthropic/claude-opus-5" }}
    }}
  }},
  "meta": {{ "lastTouchedVersion": "2026.9.6" }},
  "gateway": {{
    "mode": "local",
    "port": 18789,
    "bind": "loopback",
    "auth": {{ "mode": "token", "token": "0123456789abcdef0123456789abcdef0123456789abcdef" }},
    "tailscale": {{ "mode": "off" }}
  }},
  "tools": {{ "profile": "full" }},
  "auth": {{ "profiles": {{ "anthropic:default": {{ "provider": "anthropic", "mode": "api_key" }} }} }}
}}
"#,
        log.display()
    );
    let pad = 600usize.saturating_sub(c.len());
    c.replacen(
        "\n}\n",
        &format!(",\n  \"ui\": {{}}{}\n}}\n", " ".repeat(pad)),
        1,
    )
}

#[test]
fn openclaw_keeps_our_writes_and_the_users_edits() {
    let _heavy = heavy();
    let started = Instant::now();
    let base = tempfile::tempdir().unwrap();
    let _locks = OpenClawLocks(base.path().to_path_buf());
    let Some(oc) = openclaw_or_skip(base.path(), "openclaw_keeps_our_writes_and_the_users_edits")
    else {
        return;
    };
    let log = base.path().join("openclaw.log");
    oc.onboard(&log);
    let pristine: PathBuf = base.path().join("onboarded");
    copy_tree(&oc.state, &pristine);
    let onboarded = std::fs::read(oc.state.join("openclaw.json")).unwrap();

    // 1. The issue's reproduction: the user's port edit between setup and uninstall stays,
    // and OpenClaw's loads and doctor --fix keep the uninstalled config.
    setup(&oc);
    assert_kept("load after setup", &load(&oc));
    set_port(&oc);
    ours_ok(&oc, &["uninstall", "--yes"]);
    let mut seen = load(&oc);
    seen += &load(&oc);
    assert_kept("loads after uninstall", &seen);
    let fix = oc.run(&["doctor", "--fix", "--non-interactive"]);
    assert!(fix.status.success(), "{}", text(&fix.stderr));
    assert_kept("doctor --fix after uninstall", &text(&fix.stderr));
    assert_no_gaterouter("uninstall", &oc);
    assert_eq!(port(&oc), 18790, "the user's edit was lost");
    assert_eq!(set_aside(&oc.state), Vec::<String>::new());
    // Our doctor agrees: nothing of OpenClaw's health check to report.
    let d = ours(&oc, &["doctor", "--json"]);
    let d: Value = serde_json::from_slice(&d.stdout).unwrap();
    assert!(
        !d.to_string().contains("clobbered"),
        "our doctor after uninstall: {d:#}"
    );

    // 2. rollback --force over OpenClaw's own edit: the files as before setup, kept so.
    // (OpenClaw's `config set` is itself a load: it records the setup's file first.)
    reset(&oc, &pristine);
    setup(&oc);
    set_port(&oc);
    ours_ok(&oc, &["rollback", "--yes", "--force"]);
    assert_kept("load after rollback --force", &load(&oc));
    assert_eq!(
        std::fs::read(oc.state.join("openclaw.json")).unwrap(),
        onboarded,
        "rollback --force did not stay"
    );
    assert_no_gaterouter("rollback --force", &oc);
    assert_eq!(set_aside(&oc.state), Vec::<String>::new());

    // 3. A plain rollback right after setup (doctor --fix takes a minute on a busy machine:
    // scenario 1 runs it, the others load with `models status`).
    reset(&oc, &pristine);
    setup(&oc);
    assert_kept("load after setup", &load(&oc));
    ours_ok(&oc, &["rollback", "--yes"]);
    assert_kept("load after rollback", &load(&oc));
    assert_no_gaterouter("rollback", &oc);
    assert_eq!(set_aside(&oc.state), Vec::<String>::new());

    // 4. Without OpenClaw's state database its baseline is `.bak`, which we cannot move
    // with it: the plan says what OpenClaw will do and uninstall refuses; with --force it
    // writes, and OpenClaw does exactly what the plan said.
    reset(&oc, &pristine);
    setup(&oc);
    std::fs::remove_dir_all(oc.state.join("state")).unwrap();
    let refused = ours(&oc, &["uninstall", "--yes"]);
    let said = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{said}");
    assert!(
        said.contains("size-drop-vs-last-good:") && said.contains("--force"),
        "{said}"
    );
    ours_ok(&oc, &["uninstall", "--yes", "--force"]);
    assert!(
        load(&oc).contains("Config auto-restored from backup"),
        "OpenClaw did not do what the plan said"
    );
    assert_eq!(set_aside(&oc.state).len(), 1);
    let d = ours(&oc, &["doctor", "--json"]);
    let d: Value = serde_json::from_slice(&d.stdout).unwrap();
    assert!(
        d.to_string().contains(".clobbered."),
        "our doctor does not name the clobbered copy: {d:#}"
    );

    // 5. A ~600-byte config OpenClaw has written once (its `.bak` and health row exist):
    // setup makes our block most of it, uninstall takes it back out.
    std::fs::remove_dir_all(&oc.state).unwrap();
    std::fs::create_dir_all(&oc.state).unwrap();
    let small = small_config(&log, false);
    assert!((590..=620).contains(&small.len()), "{}", small.len());
    std::fs::write(oc.state.join("openclaw.json"), &small).unwrap();
    set_port(&oc);
    setup(&oc);
    let after_setup = std::fs::metadata(oc.state.join("openclaw.json"))
        .unwrap()
        .len();
    assert_kept("load after setup", &load(&oc));
    ours_ok(&oc, &["uninstall", "--yes"]);
    let after = std::fs::metadata(oc.state.join("openclaw.json"))
        .unwrap()
        .len();
    assert!(
        after < after_setup / 2,
        "{after_setup} -> {after}: not a shrink past half"
    );
    assert_kept("load after uninstall", &load(&oc));
    assert_no_gaterouter("small config", &oc);
    assert_eq!(port(&oc), 18790, "the user's edit was lost");
    assert_eq!(set_aside(&oc.state), Vec::<String>::new());

    // 6. The same with `$include`: OpenClaw never restores such a config, but it flags the
    // shrink on every load and never takes it as its baseline again unless we record it.
    std::fs::remove_dir_all(&oc.state).unwrap();
    std::fs::create_dir_all(&oc.state).unwrap();
    std::fs::write(oc.state.join("extra.json5"), "{ ui: {} }\n").unwrap();
    std::fs::write(oc.state.join("openclaw.json"), small_config(&log, true)).unwrap();
    setup(&oc);
    assert_kept("load after setup", &load(&oc));
    ours_ok(&oc, &["uninstall", "--yes"]);
    assert_kept("load after uninstall", &load(&oc));
    assert_no_gaterouter("$include", &oc);
    assert!(
        std::fs::read_to_string(oc.state.join("openclaw.json"))
            .unwrap()
            .contains("\"$include\": \"./extra.json5\"")
    );
    assert_eq!(set_aside(&oc.state), Vec::<String>::new());

    eprintln!(
        "openclaw_keeps_our_writes_and_the_users_edits: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
