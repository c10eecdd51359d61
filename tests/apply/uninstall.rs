//! `gaterouter-setup uninstall`: remove what setup added and give the user back their model.

use std::path::Path;

use crate::common::*;

fn json(path: &Path) -> serde_json::Value {
    let t = std::fs::read_to_string(path).unwrap();
    jsonc_parser::cst::CstRootNode::parse(t.trim_start_matches('\u{feff}'), &Default::default())
        .unwrap()
        .to_serde_value()
        .unwrap_or_default()
}

fn run(tmp: &Path, args: &[&str], root: &Path) -> std::process::Output {
    let out = cmd(tmp).args(args).arg(root).output().unwrap();
    assert_no_key(&out, KEY);
    out
}

#[test]
fn setup_then_uninstall_gives_back_every_user_file() {
    for case in cases() {
        let dir = fixtures().join(&case);
        // Error cases, and roots already wired to GateRouter before setup (by an earlier
        // setup, OpenClaw's `config patch`, its onboarding): uninstall removes GateRouter
        // from those, so their input does not come back.
        let wired = std::fs::read_to_string(dir.join("input/openclaw.json"))
            .is_ok_and(|c| c.to_ascii_lowercase().contains("gaterouter.ai"));
        // openclaw-2026-7's models.json holds only what setup wrote (uninstall removes it).
        if dir.join("expected-error.txt").exists() || wired || case == "openclaw-2026-7" {
            continue;
        }
        let (tmp, root) = root_from(&case);
        let before = snapshot(&root);
        let out = cmd(tmp.path())
            .args(["--offline", "--yes", KEY])
            .arg(&root)
            .args(case_args(&case))
            .output()
            .unwrap();
        assert_no_key(&out, KEY);
        assert_eq!(out.status.code(), Some(0), "{case}: {}", text(&out.stderr));
        let out = run(tmp.path(), &["uninstall", "--yes"], &root);
        assert_eq!(out.status.code(), Some(0), "{case}: {}", text(&out.stderr));

        for (rel, entry) in &before {
            let Entry::File { bytes, .. } = entry else {
                continue;
            };
            let now = root.join(rel);
            assert!(now.exists(), "{case}: {rel} was removed");
            if rel == ".env" {
                let was = text(bytes);
                let keep: Vec<&str> = was
                    .lines()
                    .filter(|l| !l.contains("GATEROUTER_API_KEY"))
                    .collect();
                let got = std::fs::read_to_string(&now).unwrap();
                assert_eq!(got.lines().collect::<Vec<_>>(), keep, "{case}: .env");
            } else if rel.ends_with(".json") {
                assert_eq!(
                    json(&now),
                    json(&fixtures().join(&case).join("input").join(rel)),
                    "{case}: {rel} differs in meaning"
                );
            } else {
                assert_eq!(&std::fs::read(&now).unwrap(), bytes, "{case}: {rel}");
            }
        }
        // Files setup created for itself are gone again (openclaw.json may stay: it is the
        // user's config now, just without our entries).
        for (rel, entry) in snapshot(&root) {
            if matches!(entry, Entry::File { .. })
                && !before.contains_key(&rel)
                && !rel.starts_with(".gaterouter")
            {
                assert_eq!(rel, "openclaw.json", "{case}: {rel} was left behind");
                let v = json(&root.join(&rel));
                assert!(!v.to_string().contains("gaterouter"), "{case}: {v}");
            }
        }
    }
}

#[test]
fn a_plain_onboarded_root_comes_back_byte_for_byte() {
    let (tmp, root) = root_from("onboarded");
    let before = snapshot(&root);
    run(tmp.path(), &["--offline", "--yes", KEY], &root);
    run(tmp.path(), &["uninstall", "--yes"], &root);
    let now: std::collections::BTreeMap<_, _> = snapshot(&root)
        .into_iter()
        .filter(|(k, _)| !k.starts_with(".gaterouter"))
        .collect();
    assert_eq!(now, before);
}

#[test]
fn without_a_record_the_first_fallback_that_is_not_ours_becomes_primary() {
    let (tmp, root) = root_from("existing-fallbacks");
    run(tmp.path(), &["--offline", "--yes", KEY], &root);
    std::fs::remove_dir_all(root.join(".gaterouter-backup")).unwrap();
    let out = run(tmp.path(), &["uninstall", "--yes"], &root);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        json(&root.join("openclaw.json"))["agents"]["defaults"]["model"],
        serde_json::json!({
            "primary": "openai/gpt-5.4",
            "fallbacks": ["openrouter/anthropic/claude-sonnet-4.6", "anthropic/claude-opus-4-6"]
        })
    );
}

#[test]
fn uninstall_shows_the_diff_and_needs_consent() {
    let (tmp, root) = root_from("onboarded");
    run(tmp.path(), &["--offline", "--yes", KEY], &root);
    let configured = snapshot(&root);
    let out = run(tmp.path(), &["uninstall"], &root);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("-        \"primary\": \"gaterouter/auto\","),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).contains("-GATEROUTER_API_KEY=sk-or-…abcd"),
        "{}",
        text(&out.stdout)
    );
    let out = run(tmp.path(), &["uninstall", "--dry-run"], &root);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(snapshot(&root), configured);
}

#[test]
fn nothing_to_uninstall() {
    let (tmp, root) = root_from("onboarded");
    let out = run(tmp.path(), &["uninstall", "--yes"], &root);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Nothing to uninstall"),
        "{}",
        text(&out.stdout)
    );
}

/// Nothing to do says what is true for the command: uninstall on a root setup never touched
/// is `not-configured` (it said `already-configured`), a rollback to files that already
/// match is `already-restored`, setup on a configured root stays `already-configured`.
#[test]
fn nothing_to_do_is_reported_as_what_it_is() {
    let (tmp, root) = root_from("onboarded");
    let before = snapshot(&root);
    let out = run(tmp.path(), &["uninstall", "--yes", "--json"], &root);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "not-configured", "{v:#}");
    assert_eq!(v["changed"], false);
    assert_eq!(snapshot(&root), before);
    let out = run(tmp.path(), &["uninstall", "--yes"], &root);
    assert!(
        text(&out.stdout).contains("Nothing to uninstall"),
        "{}",
        text(&out.stdout)
    );
    let (tmp, root) = root_from("configured");
    let out = run(tmp.path(), &["--offline", "--yes", "--json", KEY], &root);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "already-configured", "{v:#}");
}

/// `--json` promises one report on stdout: a command line that cannot be parsed gets one
/// too (status `error`, clap's reason as the message), besides the message on stderr.
#[test]
fn a_usage_error_with_json_is_a_json_report() {
    let (tmp, root) = root_from("onboarded");
    for args in [
        vec!["--json", "--timeout", "0", KEY],
        vec!["--json", "--no-such-flag", KEY],
        vec!["uninstall", "--json", "--no-such-flag"],
    ] {
        let out = run(tmp.path(), &args, &root);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_no_key(&out, KEY);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: no JSON ({e}): {}", text(&out.stdout)));
        assert_eq!(v["status"], "error", "{args:?}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(
            !msg.is_empty() && !msg.starts_with("error:") && text(&out.stderr).contains(msg),
            "{args:?}: {msg}"
        );
    }
}
