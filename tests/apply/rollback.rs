//! `gaterouter-setup rollback`: back to exactly what was there before setup.

use std::os::unix::fs::PermissionsExt;

use crate::common::*;

fn user_files(root: &std::path::Path) -> std::collections::BTreeMap<String, Entry> {
    snapshot(root)
        .into_iter()
        .filter(|(k, e)| !k.starts_with(".gaterouter") && !matches!(e, Entry::Dir { .. }))
        .collect()
}

fn setup(s: &Scenario) {
    setup_with(s, &[]);
}

fn setup_with(s: &Scenario, extra: &[String]) {
    s.then()
        .args(["--offline", "--yes", KEY])
        .root_arg()
        .args(extra)
        .run()
        .code(0);
}

/// `rollback ARGS ROOT`.
fn rollback(s: &Scenario, args: &[&str]) -> Run {
    s.then().arg("rollback").args(args).root_arg().run()
}

#[test]
fn rollback_restores_every_file_and_removes_what_setup_created() {
    for case in ["onboarded", "fresh", "two-agents", "crlf-env"] {
        let s = Scenario::case(case).label(case);
        let root = s.root();
        std::fs::set_permissions(root.join("."), std::fs::Permissions::from_mode(0o755)).unwrap();
        let before = user_files(root);
        setup_with(&s, &case_args(case));
        assert_ne!(user_files(root), before, "{case}: setup changed nothing");

        rollback(&s, &["--yes"]).code(0).no_key();
        assert_eq!(
            user_files(root),
            before,
            "{case}: rollback did not restore the tree"
        );

        // Rolling back again is a no-op, not a toggle back to the configured state.
        rollback(&s, &["--yes"])
            .code(0)
            .stdout_has("Nothing to roll back");
        assert_eq!(user_files(root), before);
    }
}

#[test]
fn rollback_shows_the_diff_first_and_needs_consent() {
    let s = Scenario::case("onboarded");
    setup(&s);
    let configured = user_files(s.root());
    rollback(&s, &[])
        .code(1)
        .stdout_has("-    \"gaterouter\": {")
        .stderr_has("pass --yes")
        .no_key();
    rollback(&s, &["--dry-run"]).code(0);
    assert_eq!(user_files(s.root()), configured);
}

#[test]
fn list_shows_setup_and_rollback_sets() {
    let s = Scenario::case("onboarded");
    setup(&s);
    rollback(&s, &["--yes"]).code(0);
    let v = rollback(&s, &["--list", "--json"]).code(0).json();
    let kinds: Vec<&str> = v["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["setup", "rollback"]);
}

#[test]
fn rollback_without_backups_says_so() {
    rollback(&Scenario::case("onboarded"), &["--yes"])
        .code(1)
        .stderr_has("there is no backup to roll back to");
}

#[test]
fn only_the_newest_ten_sets_are_kept() {
    let s = Scenario::case("onboarded");
    let base = s.root().join(".gaterouter-backup");
    std::fs::create_dir_all(&base).unwrap();
    for i in 0..12 {
        let d = base.join(format!("2020010{}T00000{}Z", i / 10 + 1, i % 10));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("manifest.json"),
            r#"{"version":1,"kind":"setup","files":[]}"#,
        )
        .unwrap();
    }
    setup(&s);
    let mut sets: Vec<String> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    sets.sort();
    assert_eq!(sets.len(), 10, "{sets:?}");
    assert!(
        !sets.iter().any(|s| s == "20200101T000000Z"),
        "the oldest set was kept: {sets:?}"
    );
    assert!(sets.last().unwrap().starts_with("20"), "{sets:?}");
}

#[test]
fn a_config_outside_the_root_is_backed_up_and_rolled_back_too() {
    // OPENCLAW_CONFIG_PATH may point anywhere; its backup must not land on itself.
    let s = Scenario::case("onboarded");
    let root = s.root();
    let elsewhere = s.tmp().join("etc/openclaw.json");
    std::fs::create_dir_all(elsewhere.parent().unwrap()).unwrap();
    std::fs::rename(root.join("openclaw.json"), &elsewhere).unwrap();
    let original = std::fs::read(&elsewhere).unwrap();
    s.then()
        .env("OPENCLAW_STATE_DIR", root)
        .env("OPENCLAW_CONFIG_PATH", &elsewhere)
        .args(["--offline", "--yes", KEY])
        .run()
        .code(0);
    assert!(
        std::fs::read_to_string(&elsewhere)
            .unwrap()
            .contains("gaterouter/auto")
    );
    rollback(&s, &["--yes"]).code(0);
    assert_eq!(
        std::fs::read(&elsewhere).unwrap(),
        original,
        "the config outside the root was not restored"
    );
}

/// A root named by a relative path: setup, rollback, and a second rollback (nothing left to
/// roll back) behave as with the absolute path. The second used to fail with "leads
/// (through a symlink)": a relative target whose directory was gone was compared with an
/// absolute one.
#[test]
fn a_relative_root_rolls_back_like_an_absolute_one() {
    let home = Scenario::empty();
    let run = |args: &[&str]| home.then().current_dir(home.tmp()).args(args).run();
    std::fs::create_dir(home.tmp().join("rb")).unwrap();
    run(&["--offline", "--yes", "-q", "--init", KEY, "rb"]).code(0);
    run(&["rollback", "--yes", "-q", "rb"]).code(0);
    assert!(!home.tmp().join("rb/agents").exists());
    run(&["rollback", "--yes", "rb"])
        .code(0)
        .stdout_has("Nothing to roll back");
}

/// The newest backup set of `root` (one setup ran).
fn newest_set(root: &std::path::Path) -> std::path::PathBuf {
    let mut sets: Vec<_> = std::fs::read_dir(root.join(".gaterouter-backup"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("manifest.json").is_file())
        .collect();
    sets.sort();
    sets.pop().unwrap()
}

/// A manifest can be edited by whoever owns the root: the modes it records are capped at
/// 0644 (never group/world-writable, executable or setuid), and the cap is said.
#[test]
fn a_tampered_manifest_cannot_widen_a_mode() {
    for mode in ["666", "777", "4755", "2664", "1646", "622"] {
        let s = Scenario::case("onboarded").label(mode);
        let root = s.root();
        setup(&s);
        let m = newest_set(root).join("manifest.json");
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
        for f in v["files"].as_array_mut().unwrap() {
            f["mode"] = mode.into();
        }
        std::fs::write(&m, v.to_string()).unwrap();
        let out = rollback(&s, &["--yes"]).code(0);
        let want = u32::from_str_radix(mode, 8).unwrap() & 0o644;
        for rel in [".env", "openclaw.json", "agents/main/agent/models.json"] {
            let got = std::fs::metadata(root.join(rel))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777;
            assert_eq!(got, want, "{mode}: {rel} is {got:o}");
        }
        let all = format!("{}{}", out.stdout(), out.stderr());
        assert!(
            all.contains(&format!("restored as {want:04o}")),
            "{mode}: {all}"
        );
    }
}

/// A copy (or manifest) in a set with another hard link can be changed through the other
/// name while the rollback reads it: refused, as the lock and `$include` files are, and
/// nothing is written.
#[test]
fn a_hard_linked_copy_in_a_set_is_refused() {
    for copy in ["openclaw.json", ".env", "manifest.json"] {
        let s = Scenario::case("onboarded").label(copy);
        setup(&s);
        let set = newest_set(s.root());
        std::fs::hard_link(set.join(copy), s.tmp().join("elsewhere")).unwrap();
        let before = user_files(s.root());
        rollback(&s, &["--yes"])
            .code_not(0)
            .stderr_has("hard links");
        assert_eq!(user_files(s.root()), before, "{copy}: the rollback wrote");
    }
}

/// A root already wired to GateRouter under another provider id (OpenClaw's custom-api-key
/// onboarding, plaintext and SecretRef; a hand-made `gr` in another spelling of the URL) is
/// migrated to `gaterouter`: the plan says so, no ref to the old id and no second GateRouter
/// provider is left in any file, the old entry's key is never printed, and the run's backup
/// set is the way back: rollback gives every file back byte for byte. (Setup used to add
/// `gaterouter` beside the old provider.)
#[test]
fn a_provider_wired_to_gaterouter_another_way_is_migrated_with_a_way_back() {
    for (case, old) in [
        ("custom-onboard", "custom-api-gaterouter-ai"),
        ("custom-onboard-ref", "custom-api-gaterouter-ai"),
        ("hand-made-gaterouter", "gr"),
    ] {
        let s = Scenario::case(case).label(case);
        let root = s.root();
        let before = snapshot(root);
        s.then()
            .arg("doctor")
            .root_arg()
            .run()
            .stdout_has(&format!("provider {old} points at GateRouter"));
        let out = s
            .then()
            .args(["--offline", "--yes", "--json", KEY])
            .root_arg()
            .run()
            .code(0);
        let all = out.stdout() + &out.stderr();
        assert!(
            !all.contains("sk-or-v1-onboardkey0000000000000000"),
            "{case}: old key shown"
        );
        let v = out.json();
        let warnings = v["warnings"].to_string();
        assert!(
            warnings.contains(&format!("provider {old} points at GateRouter"))
                && warnings.contains("migrated to `gaterouter`"),
            "{case}: {warnings}"
        );
        for (rel, e) in snapshot(root) {
            let Entry::File { bytes, .. } = e else {
                continue;
            };
            if rel.starts_with(".gaterouter-backup") || !rel.ends_with(".json") {
                continue;
            }
            let t = text(&bytes);
            assert!(
                !t.contains(&format!("\"{old}/")),
                "{case}: {rel} keeps a ref:\n{t}"
            );
            assert!(
                !t.contains(&format!("{old}:")),
                "{case}: {rel} keeps a profile:\n{t}"
            );
            assert_eq!(
                t.to_ascii_lowercase().matches("gaterouter.ai").count(),
                1,
                "{case}: {rel}: one GateRouter provider:\n{t}"
            );
        }
        rollback(&s, &["--yes"]).code(0);
        let mut after = snapshot(root);
        after.retain(|rel, _| !rel.starts_with(".gaterouter-backup"));
        let mut want = before.clone();
        want.retain(|rel, _| !rel.starts_with(".gaterouter-backup"));
        assert_eq!(after, want, "{case}: rollback");
    }
}

/// Sets older versions made still roll back: their manifests as those versions wrote them
/// (version 1, first without a run kind, then with one, then with `meta`; no file kinds,
/// copy names, targets or hashes), rewritten from the one this setup made.
#[test]
fn manifests_of_older_versions_still_roll_back() {
    for case in ["onboarded", "fresh"] {
        for shape in ["no kind", "kind", "kind and meta"] {
            let s = Scenario::case(case).label(format!("{case}, {shape}"));
            let root = s.root();
            let before = user_files(root);
            setup_with(&s, &case_args(case));
            let m = newest_set(root).join("manifest.json");
            let now: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&m).unwrap()).unwrap();
            let files: Vec<serde_json::Value> = now["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    serde_json::json!({"path": f["path"], "existed": f["existed"], "mode": f["mode"]})
                })
                .collect();
            let old = match shape {
                "no kind" => serde_json::json!({ "version": 1, "files": files }),
                "kind" => serde_json::json!({ "version": 1, "kind": "setup", "files": files }),
                _ => serde_json::json!({ "version": 1, "kind": "setup", "files": files,
                    "meta": now["meta"] }),
            };
            std::fs::write(&m, serde_json::to_vec_pretty(&old).unwrap()).unwrap();
            let out = rollback(&s, &["--yes"]).code(0);
            assert_eq!(user_files(root), before, "{case}, {shape}");
            let all = format!("{}{}", out.stdout(), out.stderr());
            assert!(
                all.contains("made by an older gaterouter-setup"),
                "{case}, {shape}: {all}"
            );
        }
    }
}
