//! OpenClaw is strict about its config (an unknown key or a wrong type stops the Gateway), so
//! every openclaw.json we produce is checked with OpenClaw's own validator, as are the fixture
//! inputs (a fixture OpenClaw would reject proves nothing about real roots).
//!
//! The validator (npm `openclaw` plus a Node 24 binary) is installed by
//! `scripts/openclaw-validator.sh`, which `.ci/run` calls. Under CI=true a missing validator
//! fails the test; elsewhere the test says why it skipped.

use std::path::PathBuf;
use std::process::Command;

use crate::common::*;

fn validator() -> Option<PathBuf> {
    let cache = openclaw_cache()?;
    let v = cache.join("validate");
    v.is_file().then_some(v)
}

#[test]
fn openclaw_accepts_every_config_we_write() {
    let Some(validate) = validator() else {
        assert!(
            !in_ci(),
            "CI=true but OpenClaw's validator is not installed: .ci/run must call scripts/openclaw-validator.sh"
        );
        eprintln!(
            "SKIPPED openclaw_accepts_every_config_we_write: run scripts/openclaw-validator.sh to install OpenClaw's validator"
        );
        return;
    };
    let mut files = Vec::new();
    for case in cases() {
        let dir = fixtures().join(&case);
        if dir.join("expected-error.txt").exists() {
            continue;
        }
        for sub in ["input", "expected"] {
            let f = dir.join(sub).join("openclaw.json");
            if f.exists() {
                files.push(f);
            }
        }
    }
    assert!(files.len() >= 12, "too few configs to validate: {files:?}");
    // ~2 s each in Node: run them side by side.
    let results: Vec<(PathBuf, std::process::Output)> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .iter()
            .map(|f| {
                let validate = validate.clone();
                s.spawn(move || {
                    let out = Command::new("bash")
                        .arg(&validate)
                        .arg(f)
                        .env("GATEROUTER_API_KEY", KEY)
                        .output()
                        .expect("run the validator");
                    (f.clone(), out)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut bad = Vec::new();
    for (f, out) in &results {
        let stdout = text(&out.stdout);
        let json_start = stdout.find('{').unwrap_or(0);
        let verdict: serde_json::Value = serde_json::from_str(&stdout[json_start..])
            .unwrap_or_else(|e| {
                panic!(
                    "{}: validator printed no JSON ({e}):\n{stdout}\n{}",
                    f.display(),
                    text(&out.stderr)
                )
            });
        if verdict["valid"] != serde_json::Value::Bool(true) || !out.status.success() {
            bad.push(format!("{}: {}", f.display(), verdict["issues"]));
        }
        if let Some(w) = verdict["warnings"].as_array().filter(|w| !w.is_empty()) {
            eprintln!("{}: warnings {w:?}", f.display());
        }
    }
    assert!(bad.is_empty(), "OpenClaw rejects:\n{}", bad.join("\n"));
    eprintln!("OpenClaw validated {} configs", results.len());
}
