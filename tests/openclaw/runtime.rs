//! OpenClaw itself, running real agent turns against what setup wrote (issue 11): no mock of
//! OpenClaw, only a GateRouter stand-in on 127.0.0.1 that streams like GateRouter.
//!
//! One root, onboarded by OpenClaw offline, goes through: setup (probing the stand-in) →
//! a turn that must reach GateRouter as `model: "auto"` with the key from `.env` and print
//! the stand-in's reply → a turn with `auto` failing that the gaterouter fallback answers →
//! `openclaw doctor --lint` and `openclaw secrets audit` with nothing about gaterouter or
//! openrouter → `openclaw doctor --fix`, after which the key is in no file but `.env` → our
//! uninstall, after which OpenClaw lists no gaterouter credential.
//!
//! What OpenClaw writes (state, logs, temp files) stays in the test's temp dir: HOME,
//! OPENCLAW_STATE_DIR and TMPDIR point there and `logging.file` is set before the first
//! command. The one exception is OpenClaw's own: empty SQLite lock files in
//! `/tmp/openclaw-state-locks-<uid>/`, a path it hard-codes (2026.9.6). OpenClaw
//! (npm `openclaw` + Node 24) comes from `scripts/openclaw-validator.sh`'s cache; under
//! CI=true a missing install fails the test, elsewhere it is SKIPPED with the reason.

use std::path::{Path, PathBuf};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::common::openclaw::{OpenClaw, openclaw_or_skip};
use crate::common::stand_in::{Reply, StandIn, healthy_reply};
use crate::common::*;
use serde_json::Value;

const AUTO_SAYS: &str = "gaterouter-auto-answers-42";
const SONNET_SAYS: &str = "gaterouter-sonnet-answers-17";
/// GateRouter as OpenClaw meets it: streams when asked to, and `auto` can be made to fail
/// the way GateRouter does when auto routing is off (a 400 OpenClaw falls back on).
fn stand_in(auto_fails: Arc<AtomicBool>) -> StandIn {
    StandIn::start(move |r| {
        if r.method != "POST" || r.path != "/openai/v1/chat/completions" {
            return healthy_reply(r, KEY);
        }
        if r.authorization != Some(&format!("Bearer {KEY}")) {
            return Reply::error(401, "invalid api key");
        }
        let body: Value = serde_json::from_str(r.body).unwrap_or_default();
        if body["stream"] != true {
            return healthy_reply(r, KEY);
        }
        match body["model"].as_str() {
            Some("auto") if auto_fails.load(Ordering::SeqCst) => {
                Reply::error(400, "auto routing is not enabled")
            }
            Some("auto") => Reply::sse("deepseek.v3-v1:0", AUTO_SAYS),
            Some("anthropic/claude-sonnet-4.6") => {
                Reply::sse("anthropic/claude-sonnet-4.6", SONNET_SAYS)
            }
            _ => Reply::error(400, "provider routing is not configured"),
        }
    })
}

/// The streamed completions OpenClaw sent, as `(authorization, body)`.
fn turns(s: &StandIn) -> Vec<(Option<String>, Value)> {
    s.hits()
        .into_iter()
        .filter(|h| h.method == "POST" && h.path == "/openai/v1/chat/completions")
        .map(|h| {
            (
                h.authorization,
                serde_json::from_str(&h.body).unwrap_or_default(),
            )
        })
        .filter(|(_, b): &(Option<String>, Value)| b["stream"] == true)
        .collect()
}

fn agent_turn(oc: &OpenClaw, message: &str) -> (Value, String) {
    let out = oc.run(&[
        "agent",
        "--local",
        "--agent",
        "main",
        "--message",
        message,
        "--json",
    ]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "the agent turn failed (exit {:?}):\n{stdout}\n{}",
        out.status.code(),
        text(&out.stderr)
    );
    let start = stdout.find('{').expect("agent --json prints JSON");
    let v: Value = serde_json::from_str(&stdout[start..]).unwrap();
    (v, stdout)
}

/// Every file under `dir` whose bytes contain `needle` (SQLite databases included).
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            out.extend(files_containing(&p, needle));
        } else if ft.is_file()
            && std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
        {
            out.push(p);
        }
    }
    out
}

/// The findings of `doctor --lint --json` / `secrets audit --json` that concern us.
fn ours(findings: &Value) -> Vec<Value> {
    findings
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| {
            let s = f.to_string().to_ascii_lowercase();
            s.contains("gaterouter") || s.contains("openrouter") || s.contains("models.json")
        })
        .cloned()
        .collect()
}

#[test]
fn openclaw_runs_real_turns_through_what_setup_wrote() {
    let _heavy = heavy();
    let started = Instant::now();
    let base = tempfile::tempdir().unwrap();
    // OpenClaw's lock files for the databases in `base` go with it (they are in /tmp).
    let _locks = OpenClawLocks(base.path().to_path_buf());
    let Some(oc) = openclaw_or_skip(
        base.path(),
        "openclaw_runs_real_turns_through_what_setup_wrote",
    ) else {
        return;
    };
    let log = base.path().join("openclaw.log");
    oc.onboard(&log);

    // Setup, probing the stand-in (the key given once, on the command line).
    let auto_fails = Arc::new(AtomicBool::new(false));
    let gr = stand_in(auto_fails.clone());
    let setup = cmd(&oc.home)
        .args(["--yes", "--base-url", &gr.base_url(), KEY])
        .arg(&oc.state)
        .output()
        .unwrap();
    assert_no_key(&setup, KEY);
    assert_eq!(
        setup.status.code(),
        Some(0),
        "{}\n{}",
        text(&setup.stdout),
        text(&setup.stderr)
    );
    let doctor = cmd(&oc.home)
        .args(["doctor", "--json"])
        .arg(&oc.state)
        .output()
        .unwrap();
    let d: Value = serde_json::from_slice(&doctor.stdout).unwrap();
    assert_eq!(d["healthy"], true, "our doctor after setup: {d:#}");

    // 1. A real turn reaches GateRouter as `auto`, with the key from .env (OpenClaw's own
    // environment does not have it), streaming, and OpenClaw prints the reply.
    let (_, stdout) = agent_turn(&oc, "Say hello.");
    assert!(
        stdout.contains(AUTO_SAYS),
        "OpenClaw did not print the reply:\n{stdout}"
    );
    let sent = turns(&gr);
    assert!(!sent.is_empty(), "OpenClaw sent GateRouter nothing");
    for (auth, body) in &sent {
        assert_eq!(auth.as_deref(), Some(format!("Bearer {KEY}").as_str()));
        assert_eq!(body["model"], "auto", "{body}");
        assert!(body.get("max_completion_tokens").is_some(), "{body}");
        assert!(body.get("max_tokens").is_none(), "{body}");
    }

    // 2. `auto` fails: OpenClaw falls back to gaterouter/anthropic/claude-sonnet-4.6.
    auto_fails.store(true, Ordering::SeqCst);
    let n = turns(&gr).len();
    let (_, stdout) = agent_turn(&oc, "Say hello again.");
    assert!(
        stdout.contains(SONNET_SAYS),
        "the fallback did not answer:\n{stdout}"
    );
    // What GateRouter saw is the evidence (OpenClaw's own trace of attempts differs
    // between releases): `auto` first, then the fallback.
    let models: Vec<String> = turns(&gr)[n..]
        .iter()
        .map(|(_, b)| b["model"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(models.contains(&"auto".to_owned()), "{models:?}");
    assert_eq!(
        models.last().map(String::as_str),
        Some("anthropic/claude-sonnet-4.6")
    );
    auto_fails.store(false, Ordering::SeqCst);

    // 3. OpenClaw's own checks have nothing to say about what we wrote.
    let (lint, audit) = std::thread::scope(|s| {
        let l = s.spawn(|| oc.json(&["doctor", "--lint", "--json"]));
        let a = s.spawn(|| oc.json(&["secrets", "audit", "--json"]));
        (l.join().unwrap(), a.join().unwrap())
    });
    assert!(lint["findings"].is_array(), "{lint:#}");
    assert_eq!(
        ours(&lint["findings"]),
        Vec::<Value>::new(),
        "doctor --lint"
    );
    assert!(audit["findings"].is_array(), "{audit:#}");
    assert_eq!(
        ours(&audit["findings"]),
        Vec::<Value>::new(),
        "secrets audit"
    );

    // 4. doctor --fix copies the key nowhere: it stays in .env alone.
    let fix = oc.run(&["doctor", "--fix", "--non-interactive"]);
    assert!(
        fix.status.success(),
        "{}\n{}",
        text(&fix.stdout),
        text(&fix.stderr)
    );
    assert!(!text(&fix.stdout).contains(KEY) && !text(&fix.stderr).contains(KEY));
    let holders = files_containing(base.path(), KEY.as_bytes());
    assert_eq!(
        holders,
        vec![oc.state.join(".env")],
        "the key is in other files"
    );

    // 5. After our uninstall OpenClaw lists no gaterouter credential.
    let un = cmd(&oc.home)
        .args(["uninstall", "--yes"])
        .arg(&oc.state)
        .output()
        .unwrap();
    assert_eq!(un.status.code(), Some(0), "{}", text(&un.stderr));
    let status = oc.json(&["models", "status", "--json"]);
    let providers = &status["auth"]["providers"];
    assert!(providers.is_array(), "{status:#}");
    assert!(
        !providers.to_string().contains("gaterouter"),
        "OpenClaw still has a gaterouter credential: {providers:#}"
    );
    assert!(
        files_containing(base.path(), KEY.as_bytes())
            .iter()
            .all(|p| p.starts_with(oc.state.join(".gaterouter-backup")))
    );

    // Everything OpenClaw wrote stayed in the temp dir: its log is where we put it.
    assert!(log.is_file(), "logging.file was not used");
    eprintln!(
        "openclaw_runs_real_turns_through_what_setup_wrote: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
