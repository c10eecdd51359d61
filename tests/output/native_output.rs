//! What setup writes is what OpenClaw itself accepts without objections (issue 11): the key
//! is a SecretRef (never a string OpenClaw expands into a plaintext key), models.json holds
//! no `apiKey`, a fallback is only added for a provider that has credentials, and doctor
//! agrees. Checked over every fixture root, so any root shape that breaks a rule shows up.

use std::path::Path;

use crate::common::*;
use serde_json::{Value, json};

fn secret_ref() -> Value {
    json!({"source": "env", "provider": "default", "id": "GATEROUTER_API_KEY"})
}

/// Every fixture that setup accepts, set up offline; `(case, run)`, the run holding its root.
fn set_up_every_fixture(extra: &[&str]) -> Vec<(String, Run)> {
    let mut out = Vec::new();
    for case in cases() {
        if fixtures().join(&case).join("expected-error.txt").exists() {
            continue;
        }
        let run = Scenario::case(&case)
            .args(["--offline", "--yes", KEY])
            .root_arg()
            .args(case_args(&case))
            .args(extra)
            .label(&case)
            .run()
            .code(0);
        out.push((case, run));
    }
    assert!(out.len() >= 10);
    out
}

/// A JSON5 file as a value; a missing file is `{}`.
fn json5(path: &Path) -> Value {
    let Ok(t) = std::fs::read_to_string(path) else {
        return json!({});
    };
    jsonc_parser::cst::CstRootNode::parse(t.trim_start_matches('\u{feff}'), &Default::default())
        .unwrap()
        .to_serde_value()
        .unwrap()
}

/// Whether OpenClaw (before 2026.8) writes `apiKey: "GATEROUTER_API_KEY"` into models.json
/// itself in this fixture root (its config says which release last wrote it).
fn openclaw_writes_the_name(case: &str) -> bool {
    let cfg = json5(&fixtures().join(case).join("input/openclaw.json"));
    gaterouter_setup::openclaw::version::Version::of_config(&cfg)
        .is_some_and(|v| v.rewrites_models_json_api_key())
}

/// Every models.json of a root (per agent, or the root-level one).
fn models_files(root: &Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    if root.join("models.json").is_file() {
        v.push(root.join("models.json"));
    }
    if let Ok(rd) = std::fs::read_dir(root.join("agents")) {
        for a in rd {
            let f = a.unwrap().path().join("agent/models.json");
            if f.is_file() {
                v.push(f);
            }
        }
    }
    v
}

/// Walks a JSON value, calling `f` with each JSON pointer and value.
fn walk(v: &Value, at: &str, f: &mut dyn FnMut(&str, &Value)) {
    f(at, v);
    match v {
        Value::Object(o) => o.iter().for_each(|(k, x)| walk(x, &format!("{at}/{k}"), f)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| walk(x, &format!("{at}/{i}"), f)),
        _ => {}
    }
}

/// The key reaches OpenClaw through a SecretRef to the environment, in every root; no file
/// we write holds a string naming the variable that OpenClaw would expand or audit.
#[test]
fn the_key_is_a_secret_ref_and_no_json_file_names_it() {
    for (case, set) in set_up_every_fixture(&[]) {
        let root = set.root();
        let cfg = json5(&root.join("openclaw.json"));
        assert_eq!(
            cfg["models"]["providers"]["gaterouter"]["apiKey"],
            secret_ref(),
            "{case}"
        );
        let mut files = if openclaw_writes_the_name(&case) {
            Vec::new()
        } else {
            models_files(root)
        };
        files.push(root.join("openclaw.json"));
        for f in files {
            walk(&json5(&f), "", &mut |at, v| {
                if let Value::String(s) = v
                    && at != "/models/providers/gaterouter/apiKey/id"
                {
                    assert!(
                        !s.contains("GATEROUTER_API_KEY") && !s.contains(KEY),
                        "{case}: {}{at} is the string {s:?}",
                        f.display()
                    );
                }
            });
        }
    }
}

/// models.json's gaterouter entry has no `apiKey` (it authenticates nothing there and
/// `openclaw secrets audit` reports it), in every root.
#[test]
fn models_json_has_no_api_key() {
    for (case, set) in set_up_every_fixture(&[]) {
        let files = models_files(set.root());
        assert!(!files.is_empty(), "{case}");
        for f in files {
            let v = json5(&f);
            let p = &v["providers"]["gaterouter"];
            assert!(p.is_object(), "{case}: {}", f.display());
            if openclaw_writes_the_name(&case) {
                // Before 2026.8 OpenClaw writes it back itself: left as OpenClaw has it.
                assert!(
                    p.get("apiKey").is_none_or(|k| k == "GATEROUTER_API_KEY"),
                    "{case}: {p}"
                );
            } else {
                assert!(p.get("apiKey").is_none(), "{case}: {}: {p}", f.display());
            }
        }
    }
}

/// A root set up by an earlier version (`"${GATEROUTER_API_KEY}"` in openclaw.json, the
/// variable's name in models.json) is migrated, and doctor says why before it is.
#[test]
fn the_old_string_forms_are_migrated_and_doctor_flags_them() {
    let s = Scenario::case("legacy-string-key");
    let root = s.root();
    let before = std::fs::read_to_string(root.join("openclaw.json")).unwrap();
    assert!(
        before.contains("\"${GATEROUTER_API_KEY}\""),
        "fixture changed"
    );
    s.then()
        .arg("doctor")
        .root_arg()
        .run()
        .code(1)
        .stdout_has("counts as a plaintext key")
        .stdout_has("has an apiKey");

    s.then()
        .args(["--offline", "--yes", KEY])
        .root_arg()
        .run()
        .code(0);
    let cfg = json5(&root.join("openclaw.json"));
    assert_eq!(
        cfg["models"]["providers"]["gaterouter"]["apiKey"],
        secret_ref()
    );
    let m = json5(&root.join("agents/main/agent/models.json"));
    assert!(m["providers"]["gaterouter"].get("apiKey").is_none());
    // Migrated once: a second run has nothing to do.
    s.then()
        .args(["--offline", "--check", KEY])
        .root_arg()
        .run()
        .code(0);
}

/// An `apiKey` in models.json that setup did not write (a SecretRef of the user's) stays.
#[test]
fn a_users_own_models_json_key_is_kept() {
    let s = Scenario::case("fresh");
    let f = s.root().join("agents/main/agent/models.json");
    std::fs::create_dir_all(f.parent().unwrap()).unwrap();
    std::fs::write(
        &f,
        r#"{"providers": {"gaterouter": {"apiKey": {"source": "file", "provider": "vault", "id": "/gr"}}}}"#,
    )
    .unwrap();
    s.then()
        .args(["--offline", "--yes", KEY])
        .root_arg()
        .run()
        .code(0);
    assert_eq!(
        json5(&f)["providers"]["gaterouter"]["apiKey"],
        json!({"source": "file", "provider": "vault", "id": "/gr"})
    );
}

/// Every model ref in a config: the default model (string or primary + fallbacks), the
/// allowlist map's keys and `modelPolicy.allow`.
fn refs(cfg: &Value) -> Vec<String> {
    let d = &cfg["agents"]["defaults"];
    let mut out: Vec<String> = Vec::new();
    match &d["model"] {
        Value::String(s) => out.push(s.clone()),
        m => {
            out.extend(m["primary"].as_str().map(str::to_owned));
            for f in m["fallbacks"].as_array().into_iter().flatten() {
                out.extend(f.as_str().map(str::to_owned));
            }
        }
    }
    out.extend(
        d["models"]
            .as_object()
            .into_iter()
            .flat_map(|o| o.keys().cloned()),
    );
    for a in d["modelPolicy"]["allow"].as_array().into_iter().flatten() {
        out.extend(a.as_str().map(str::to_owned));
    }
    out
}

/// Where OpenRouter's credentials may be; setup must add the OpenRouter fallback with any
/// of them and without all of them, in every fixture root, and say so when it leaves it out.
#[test]
fn the_openrouter_fallback_is_added_exactly_where_openrouter_has_credentials() {
    #[derive(Debug, Clone, Copy)]
    enum Cred {
        None,
        ProcessEnv,
        RootEnv,
        GatewayEnv,
    }
    let or = "openrouter/anthropic/claude-sonnet-4.6";
    for cred in [
        Cred::None,
        Cred::ProcessEnv,
        Cred::RootEnv,
        Cred::GatewayEnv,
    ] {
        for case in cases() {
            if fixtures().join(&case).join("expected-error.txt").exists() {
                continue;
            }
            let s = Scenario::case(&case);
            let root = s.root();
            let input = json5(&root.join("openclaw.json"));
            // Already there (the user's own, or from an earlier version): kept, not added.
            let there = refs(&input).iter().any(|r| r == or);
            let in_config = input["auth"]["profiles"]
                .as_object()
                .is_some_and(|p| p.keys().any(|k| k.starts_with("openrouter:")))
                || input["models"]["providers"].get("openrouter").is_some();
            let mut c = s.then().label(format!("{case} with {cred:?}"));
            match cred {
                Cred::None => {}
                Cred::ProcessEnv => {
                    c = c.env("OPENROUTER_API_KEY", "sk-or-v1-other");
                }
                Cred::RootEnv => {
                    let f = root.join(".env");
                    let mut t = std::fs::read_to_string(&f).unwrap_or_default();
                    if !t.is_empty() && !t.ends_with('\n') {
                        t.push('\n');
                    }
                    t.push_str("OPENROUTER_API_KEY=sk-or-v1-other\n");
                    std::fs::write(&f, t).unwrap();
                }
                Cred::GatewayEnv => {
                    let d = s.tmp().join(".config/openclaw");
                    std::fs::create_dir_all(&d).unwrap();
                    std::fs::write(d.join("gateway.env"), "OPENROUTER_API_KEY=sk-or-v1-x\n")
                        .unwrap();
                }
            }
            let o = c
                .args(["--offline", "--yes", KEY])
                .root_arg()
                .args(case_args(&case))
                .run()
                .code(0);
            let has = refs(&json5(&root.join("openclaw.json")))
                .iter()
                .any(|r| r.starts_with("openrouter/"));
            let should = in_config || !matches!(cred, Cred::None);
            assert_eq!(has, should || there, "{case} with {cred:?}");
            let said = format!("{}{}", o.stdout(), o.stderr());
            assert_eq!(
                said.contains(&format!("fallback {or} left out")),
                !should && !there,
                "{case} with {cred:?}: {said}"
            );
            assert_eq!(
                said.contains(&format!("fallback {or} is already in the config and stays")),
                !should && there,
                "{case} with {cred:?}: {said}"
            );
        }
    }
}

/// Uninstall takes out every ref setup added, also after the user made another model the
/// primary: what remains is the user's own refs and their new primary.
#[test]
fn uninstall_removes_what_setup_added_after_the_primary_changed() {
    for case in cases() {
        // Roots wired to GateRouter before setup (by it, or another way: their refs become
        // gaterouter ones, which uninstall removes) have no "before" to compare with.
        let wired = std::fs::read_to_string(fixtures().join(&case).join("input/openclaw.json"))
            .is_ok_and(|c| c.to_ascii_lowercase().contains("gaterouter.ai"));
        if fixtures().join(&case).join("expected-error.txt").exists()
            || wired
            || case == "openclaw-2026-7"
        {
            continue;
        }
        let s = Scenario::case(&case);
        let root = s.root();
        let before = refs(&json5(&root.join("openclaw.json")));
        s.then()
            .env("OPENROUTER_API_KEY", "sk-or-v1-other")
            .args(["--offline", "--yes", KEY])
            .root_arg()
            .args(case_args(&case))
            .label(&case)
            .run()
            .code(0);
        let cfg = root.join("openclaw.json");
        let t = std::fs::read_to_string(&cfg).unwrap();
        let changed = [
            "\"primary\": \"gaterouter/auto\"",
            "primary: 'gaterouter/auto'",
        ]
        .iter()
        .find(|p| t.contains(**p))
        .map(|p| t.replace(p, &p.replace("gaterouter/auto", "openai/gpt-5.4")))
        .unwrap_or_else(|| panic!("{case}: no primary to change in\n{t}"));
        std::fs::write(&cfg, changed).unwrap();
        s.then()
            .args(["uninstall", "--yes"])
            .root_arg()
            .label(&case)
            .run()
            .code(0);
        let after = refs(&json5(&cfg));
        for r in &after {
            assert!(
                before.contains(r) || r == "openai/gpt-5.4",
                "{case}: {r} was added by setup and is still there after uninstall: {after:?}"
            );
        }
    }
}

/// After a successful setup doctor finds no problem, in every fixture root, and nothing to
/// warn about in what setup wrote: a warning may only name a fallback the user had before
/// or an agent that keeps its own model.
#[test]
fn doctor_is_clean_after_every_successful_setup() {
    for (case, set) in set_up_every_fixture(&[]) {
        let before = refs(&json5(&fixtures().join(&case).join("input/openclaw.json")));
        let v = set
            .then()
            .args(["doctor", "--json"])
            .root_arg()
            .run()
            .json();
        assert_eq!(v["healthy"], true, "{case}: {v:#}");
        for c in v["checks"].as_array().unwrap() {
            if c["status"] == "warn" {
                let what = c["what"].as_str().unwrap();
                // The user's own fallbacks, and agents with their own model (the plan named
                // them; --all-agents would move them).
                assert!(
                    before
                        .iter()
                        .any(|r| what.starts_with(&format!("fallback {r}:")))
                        || (what.starts_with("agent ") && what.contains("has its own model")),
                    "{case}: {what}"
                );
            }
        }
    }
}

/// Doctor and setup read openclaw.json with the same reader: whatever setup refuses to
/// parse, doctor reports as a problem with the same position, and whatever setup parses,
/// doctor does not call broken. Differential, over one-character damage to every fixture.
#[test]
fn doctor_and_setup_agree_on_what_parses() {
    use gaterouter_setup::openclaw::root;
    use gaterouter_setup::ops::doctor;
    use gaterouter_setup::plan;
    let env = root::Env::from_pairs([("HOME", "/nonexistent")]);
    let settings = gaterouter_setup::gaterouter::templates::Settings::builtin().unwrap();
    let key = plan::KeyChoice::Set(gaterouter_setup::gaterouter::key::ApiKey::parse(KEY).unwrap());
    let mut texts: Vec<String> = Vec::new();
    for case in cases() {
        if let Ok(t) = std::fs::read_to_string(fixtures().join(&case).join("input/openclaw.json")) {
            texts.push(t);
        }
    }
    let (mut broken, mut fine) = (0, 0);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("root");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".env"), format!("GATEROUTER_API_KEY={KEY}\n")).unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    const CHARS: &[char] = &[',', '}', '{', '"', '\'', ':', '[', ']', '/', 'x', ' ', '\n'];
    for t in &texts {
        for _ in 0..40 {
            let chars: Vec<char> = t.chars().collect();
            let i = next(chars.len());
            let mut m: Vec<char> = chars.clone();
            if next(2) == 0 {
                m.remove(i);
            } else {
                m.insert(i, CHARS[next(CHARS.len())]);
            }
            let m: String = m.into_iter().collect();
            std::fs::write(dir.join("openclaw.json"), &m).unwrap();
            let r = root::discover(&dir, None, None).unwrap();
            let planned = plan::plan(&r, &key, &settings);
            let checks = doctor::run(&r, &env, &Default::default());
            let doctor_parse_fail = checks.iter().find(|c| {
                c.status == doctor::Status::Problem && c.what.contains("not valid JSON5")
            });
            match planned {
                Err(gaterouter_setup::error::Error::Parse { line, column, .. }) => {
                    broken += 1;
                    let c = doctor_parse_fail
                        .unwrap_or_else(|| panic!("setup refuses, doctor passes:\n{m}"));
                    assert!(
                        c.what.contains(&format!("openclaw.json:{line}:{column}:")),
                        "{} vs {line}:{column}",
                        c.what
                    );
                    assert!(!checks.iter().any(|c| c.what.ends_with("parses")));
                }
                _ => {
                    fine += 1;
                    assert!(
                        doctor_parse_fail.is_none(),
                        "setup parses, doctor does not: {doctor_parse_fail:?}\n{m}"
                    );
                }
            }
        }
    }
    assert!(broken > 50 && fine > 50, "broken {broken}, fine {fine}");
}

/// The fixtures setup refuses (a broken or wrongly typed openclaw.json) fail doctor too.
#[test]
fn doctor_fails_every_root_setup_refuses() {
    for case in cases() {
        if !fixtures().join(&case).join("expected-error.txt").exists() {
            continue;
        }
        Scenario::case(&case)
            .arg("doctor")
            .root_arg()
            .label(&case)
            .run()
            .code(1)
            .stdout_lacks("openclaw.json parses");
    }
}

fn model_of(root: &Path) -> Value {
    json5(&root.join("openclaw.json"))["agents"]["defaults"]["model"].clone()
}

/// A gaterouter ref that GateRouter's live catalog does not have is refused, naming the
/// nearest ids, and nothing is written; with --offline (the bundled catalog) it is a warning.
#[test]
fn a_ref_outside_the_catalog_is_refused_live_and_warned_about_offline() {
    let gr = crate::common::stand_in::StandIn::healthy(KEY);
    for (flag, bad) in [
        ("--primary", "gaterouter/openai/gpt-9"),
        ("--fallback", "gaterouter/openai/gpt-9"),
    ] {
        let s = Scenario::case("onboarded");
        s.then()
            .args(["--yes", "--base-url", &gr.base_url(), KEY, flag, bad])
            .root_arg()
            .label(flag)
            .run()
            .code(1)
            .stderr_has(&format!(
                "{flag} {bad} is not in GateRouter's live model list"
            ))
            .stderr_has("nearest ids are gaterouter/openai/gpt-5.4")
            .unchanged();

        s.then()
            .args(["--offline", "--yes", KEY, flag, bad])
            .root_arg()
            .label(flag)
            .run()
            .code(0)
            .stderr_has("bundled (--offline) model list");
    }
}

/// Re-running setup does not carry a gaterouter ref the catalog lacks into the fallbacks
/// (it used to move a bad primary there, where doctor kept failing).
#[test]
fn a_stale_gaterouter_ref_is_not_carried_over() {
    let s = Scenario::case("onboarded");
    let root = s.root();
    let cfg = root.join("openclaw.json");
    let t = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        t.replace(
            "\"anthropic/claude-opus-4-6\"",
            "\"gaterouter/openai/gpt-9\"",
        ),
    )
    .unwrap();
    s.then()
        .args(["--offline", "--yes", KEY])
        .root_arg()
        .run()
        .code(0)
        .stderr_has("gaterouter/openai/gpt-9 is not in GateRouter's model list");
    assert!(
        !model_of(root).to_string().contains("gpt-9"),
        "{}",
        model_of(root)
    );
    s.then().arg("doctor").root_arg().run().code(0);
}

/// --replace-fallbacks makes the fallbacks exactly the --fallback refs.
#[test]
fn fallbacks_can_be_replaced_rather_than_merged() {
    let s = Scenario::case("existing-fallbacks");
    let root = s.root();
    s.then()
        .args(["--offline", "--yes", KEY, "--replace-fallbacks"])
        .args(["--fallback", "gaterouter/openai/gpt-5.4"])
        .root_arg()
        .run()
        .code(0);
    assert_eq!(
        model_of(root),
        json!({"primary": "gaterouter/auto", "fallbacks": ["gaterouter/openai/gpt-5.4"]})
    );
    // None at all.
    s.then()
        .args(["--offline", "--yes", "--replace-fallbacks"])
        .root_arg()
        .run()
        .code(0);
    assert_eq!(model_of(root), json!({"primary": "gaterouter/auto"}));
}

/// Where GateRouter's `/models` gives a context window or an output limit, OpenClaw gets
/// it (`contextWindow`, `maxTokens`) in both files; an entry already there gains what it
/// lacks, and a value the user set stays.
#[test]
fn live_limits_are_carried_into_the_catalog() {
    let gr = crate::common::stand_in::StandIn::healthy(KEY);
    let s = Scenario::case("onboarded");
    let root = s.root();
    // The user tuned gpt-5.4's window already; sonnet is listed without limits.
    let cfg = root.join("openclaw.json");
    let t = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        t.replacen(
            "\"gateway\"",
            r#""models": {"providers": {"gaterouter": {"baseUrl": "http://x/openai/v1", "models": [
                {"id": "openai/gpt-5.4", "name": "Mine", "contextWindow": 1234},
                {"id": "anthropic/claude-sonnet-4.6", "name": "Sonnet"}]}}},
            "gateway""#,
            1,
        ),
    )
    .unwrap();
    s.then()
        .args(["--yes", "--base-url", &gr.base_url(), KEY])
        .root_arg()
        .run()
        .code(0);
    let by_id = |v: &Value, id: &str| -> Value {
        v.as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} missing from {v}"))
    };
    let c = &json5(&cfg)["models"]["providers"]["gaterouter"]["models"];
    let sonnet = by_id(c, "anthropic/claude-sonnet-4.6");
    assert_eq!(
        (
            sonnet["contextWindow"].as_u64(),
            sonnet["maxTokens"].as_u64()
        ),
        (Some(1_000_000), Some(64_000))
    );
    let gpt = by_id(c, "openai/gpt-5.4");
    assert_eq!(
        (gpt["contextWindow"].as_u64(), gpt["maxTokens"].as_u64()),
        (Some(1234), Some(128_000))
    );
    assert!(by_id(c, "auto").get("contextWindow").is_none());
    let m =
        &json5(&root.join("agents/main/agent/models.json"))["providers"]["gaterouter"]["models"];
    let gpt = by_id(m, "openai/gpt-5.4");
    assert_eq!(
        (gpt["contextWindow"].as_u64(), gpt["maxTokens"].as_u64()),
        (Some(400_000), Some(128_000))
    );
    // And again: nothing to do.
    s.then()
        .args(["--check", "--base-url", &gr.base_url(), KEY])
        .root_arg()
        .run()
        .code(0);
}

/// An agent with its own model ignores the default: the plan and doctor name it,
/// --all-agents moves it (its model kept last), and uninstall gives its model back.
#[test]
fn agents_with_their_own_model_are_named_moved_on_request_and_restored() {
    let s = Scenario::case("agent-own-model");
    let root = s.root();
    let o = s
        .then()
        .args(["--offline", "--yes", KEY])
        .root_arg()
        .run()
        .code(0);
    let said = format!("{}{}", o.stdout(), o.stderr());
    assert!(
        said.contains("agent thomas has its own model (openai-codex/gpt-5.4)"),
        "{said}"
    );
    // models.json goes where OpenClaw reads it: the declared agent's, not agents/main.
    assert!(root.join("agents/thomas/agent/models.json").is_file());
    assert!(!root.join("agents/main").exists());
    s.then().arg("doctor").root_arg().run().stdout_has(
        "warn  agent thomas has its own model (openai-codex/gpt-5.4, at agents.entries.thomas)",
    );

    s.then()
        .args(["--offline", "--yes", "--all-agents"])
        .root_arg()
        .run()
        .code(0);
    let thomas =
        || json5(&root.join("openclaw.json"))["agents"]["entries"]["thomas"]["model"].clone();
    assert_eq!(
        thomas(),
        json!({"primary": "gaterouter/auto", "fallbacks": ["gaterouter/anthropic/claude-sonnet-4.6", "openai-codex/gpt-5.4"]})
    );
    s.then()
        .arg("doctor")
        .root_arg()
        .run()
        .stdout_has("ok    agent thomas uses gaterouter/auto");

    s.then()
        .args(["uninstall", "--yes"])
        .root_arg()
        .run()
        .code(0);
    assert_eq!(thomas(), json!("openai-codex/gpt-5.4"));
}
