//! Backups and rollback that can neither lose nor misplace data: the backup directory and
//! its sets are never followed through links, only what the tool made is cleaned up, set
//! names sort in the order they were made and are never reused, a manifest cannot send a
//! rollback outside the root or through a link, an unusable set is never skipped quietly,
//! and edits made after setup are not thrown away unless asked.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use crate::common::*;

const KEY_B: &str = "sk-or-v1-SENTINELKEY0123456789abcdef";

fn user_files(root: &Path) -> std::collections::BTreeMap<String, Entry> {
    snapshot(root)
        .into_iter()
        .filter(|(k, e)| !k.starts_with(".gaterouter") && !matches!(e, Entry::Dir { .. }))
        .collect()
}

/// Runs setup with `key`; returns the backup set it announced.
fn setup_with(s: &Scenario, key: &str) -> PathBuf {
    let v = s
        .then()
        .args(["--offline", "--yes", "--json", key])
        .root_arg()
        .run()
        .code(0)
        .json();
    PathBuf::from(v["backup"].as_str().expect("a backup was announced"))
}

fn rollback(s: &Scenario, extra: &[&str]) -> Run {
    s.then()
        .arg("rollback")
        .args(extra)
        .root_arg()
        .run()
        .no_key()
        .no_key_of(KEY_B)
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

fn set_names(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root.join(".gaterouter-backup"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A folder of someone else's things, to point links at: three subdirectories without a
/// manifest (what the old sweep deleted) and a 0644 file.
fn stuff(tmp: &Path) -> (PathBuf, std::collections::BTreeMap<String, Entry>) {
    let s = tmp.join("stuff");
    for d in ["photos", "taxes", "20200101T000000Z"] {
        std::fs::create_dir_all(s.join(d)).unwrap();
        std::fs::write(s.join(d).join("keep.txt"), d).unwrap();
    }
    std::fs::write(s.join("note.txt"), "mine").unwrap();
    let snap = snapshot(&s);
    (s, snap)
}

#[test]
fn a_symlinked_backup_dir_is_refused_and_what_it_points_to_is_untouched() {
    let s = Scenario::case("onboarded");
    let root = s.root();
    let (stuff, before) = stuff(s.tmp());
    symlink(&stuff, root.join(".gaterouter-backup")).unwrap();
    let files = user_files(root);
    s.then()
        .args(["--offline", "--yes", KEY_B])
        .root_arg()
        .run()
        .code(1)
        .stderr_has(".gaterouter-backup")
        .stderr_has("symlink");
    assert_eq!(snapshot(&stuff), before, "the link's target was changed");
    assert_eq!(user_files(root), files, "setup wrote without a backup");
    // Rollback and --list do not read through the link either.
    for args in [&["--yes"][..], &["--list"][..]] {
        rollback(&s, args).code(1);
    }
    assert_eq!(snapshot(&stuff), before);
}

#[test]
fn only_what_the_tool_made_is_cleaned_up_in_the_backup_dir() {
    let s = Scenario::case("onboarded");
    let base = s.root().join(".gaterouter-backup");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o700)).unwrap();
    // A folder a user keeps there, one named like an old set but without a manifest, and
    // links named like a set and like a half-built set, pointing at someone else's things.
    let (stuff, stuff_before) = stuff(s.tmp());
    std::fs::create_dir_all(base.join("my-notes/sub")).unwrap();
    std::fs::write(base.join("my-notes/sub/a.txt"), "a").unwrap();
    std::fs::create_dir_all(base.join("20200101T000000Z")).unwrap();
    std::fs::write(base.join("20200101T000000Z/readme"), "r").unwrap();
    symlink(&stuff, base.join("20200102T000000Z")).unwrap();
    symlink(
        &stuff,
        base.join(".gaterouter-partial-20200103T000000Z-000001"),
    )
    .unwrap();
    // A half-built set of our own, left by a killed run: that one goes.
    let partial = base.join(".gaterouter-partial-20200104T000000Z-000001");
    std::fs::create_dir_all(partial.join("agents")).unwrap();
    std::fs::write(partial.join(".env"), "X=1\n").unwrap();
    let keep: Vec<String> = [
        "my-notes/sub/a.txt",
        "20200101T000000Z/readme",
        "20200102T000000Z",
        ".gaterouter-partial-20200103T000000Z-000001",
    ]
    .map(String::from)
    .to_vec();
    let before = snapshot(&base);

    for key in [KEY, KEY_B, KEY] {
        setup_with(&s, key);
    }
    let after = snapshot(&base);
    for k in &keep {
        assert_eq!(after.get(k), before.get(k), "{k} was changed or removed");
    }
    assert!(!partial.exists(), "our own half-built set was not swept");
    assert_eq!(snapshot(&stuff), stuff_before);
}

#[test]
fn many_applies_in_a_row_get_ordered_new_names_and_the_newest_are_kept() {
    let s = Scenario::case("onboarded");
    let root = s.root();
    let base = root.join(".gaterouter-backup");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o700)).unwrap();
    // Sets an older version made within one second, in the future (a clock that was
    // ahead): `…Z-10` must sort after `…Z-2`, and new sets after all of them.
    let stamp = "20991231T235959Z";
    for n in 1..=10 {
        let d = base.join(if n == 1 {
            stamp.to_owned()
        } else {
            format!("{stamp}-{n}")
        });
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("manifest.json"),
            r#"{"version":1,"kind":"setup","files":[]}"#,
        )
        .unwrap();
    }
    let mut announced: Vec<String> = Vec::new();
    let mut states = vec![user_files(root)];
    for i in 0..12 {
        let key = if i % 2 == 0 { KEY } else { KEY_B };
        let set = setup_with(&s, key);
        let n = name(&set);
        assert!(
            set.join("manifest.json").is_file(),
            "{n} announced but gone"
        );
        assert!(!announced.contains(&n), "the name {n} was used twice");
        assert!(
            announced.last().is_none_or(|last| *last < n),
            "{n} does not sort after {announced:?}"
        );
        announced.push(n);
        states.push(user_files(root));
    }
    assert_eq!(announced[0], format!("{stamp}-000011"));
    // The newest ten are kept: exactly the last ten announced.
    assert_eq!(set_names(root), announced[2..].to_vec());

    // --list is newest first, in the order the sets were made.
    let v = rollback(&s, &["--list", "--json"]).json();
    let listed: Vec<&str> = v["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["stamp"].as_str().unwrap())
        .collect();
    assert_eq!(listed, announced[2..]);

    // Rollback undoes the last run, not some other one.
    rollback(&s, &["--yes"]).code(0);
    assert_eq!(user_files(root), states[11]);
}

/// Makes the newest set's manifest name `files` (and writes `copies` into it), as an
/// attacker with write access to the backup directory, or a corrupted disk, could.
fn forge(set: &Path, files: serde_json::Value, copies: &[(&str, &str)]) {
    for (rel, body) in copies {
        let p = set.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    let m = serde_json::json!({"version": 2, "kind": "setup", "files": files});
    std::fs::write(set.join("manifest.json"), m.to_string()).unwrap();
}

#[test]
fn a_manifest_cannot_send_a_rollback_outside_the_root() {
    let outside_dir = tempfile::tempdir().unwrap();
    let victim = outside_dir.path().join("victim.json");
    let abs = victim.to_str().unwrap().to_owned();
    let hostile: Vec<(&str, serde_json::Value)> = vec![
        (
            "absolute path, v1 style",
            serde_json::json!([{"path": abs, "backup": "x.json", "existed": true, "mode": "644"}]),
        ),
        (
            "absolute path, not a config",
            serde_json::json!([{"path": format!("{abs}.sh"), "kind": "env", "existed": true, "mode": "644",
                "target": format!("{abs}.sh"), "written": {"sha256": null}}]),
        ),
        (
            "absolute config path with an unrecorded target",
            serde_json::json!([{"path": abs, "kind": "config", "existed": true, "mode": "644",
                "written": {"sha256": null}}]),
        ),
        (
            "parent climb",
            serde_json::json!([{"path": "../victim.json", "existed": true, "mode": "644"}]),
        ),
        (
            "climb in the middle",
            serde_json::json!([{"path": "agents/../../victim.json", "existed": true, "mode": "644"}]),
        ),
        (
            "copy named elsewhere",
            serde_json::json!([{"path": "openclaw.json", "backup": "../../../../etc/hostname", "existed": true, "mode": "644"}]),
        ),
        (
            "our own bookkeeping",
            serde_json::json!([{"path": ".gaterouter-backup/x", "existed": false, "mode": null}]),
        ),
        (
            "a mode that is not one",
            serde_json::json!([{"path": "openclaw.json", "existed": true, "mode": "nonsense"}]),
        ),
        (
            "same file twice",
            serde_json::json!([{"path": ".env", "existed": false, "mode": null},
                               {"path": ".env", "existed": false, "mode": null}]),
        ),
    ];
    for (what, files) in hostile {
        let s = Scenario::case("onboarded").label(what);
        let set = setup_with(&s, KEY);
        std::fs::write(&victim, "untouched").unwrap();
        let copies = [
            ("x.json", "PWNED"),
            ("external/victim.json", "PWNED"),
            ("openclaw.json", "{}"),
        ];
        forge(&set, files, &copies);
        let tree = user_files(s.root());
        for args in [&["--yes"][..], &["--yes", "--force"][..]] {
            rollback(&s, args).code(1).stderr_has(&name(&set));
            assert_eq!(
                std::fs::read_to_string(&victim).unwrap(),
                "untouched",
                "{what}"
            );
            assert_eq!(user_files(s.root()), tree, "{what}");
        }
    }
}

#[test]
fn a_symlink_inside_a_set_is_not_followed() {
    let s = Scenario::case("onboarded");
    let set = setup_with(&s, KEY);
    let other = s.tmp().join("other.env");
    std::fs::write(&other, "SOMETHING_ELSE=1\n").unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::remove_file(set.join(".env")).unwrap();
    symlink(&other, set.join(".env")).unwrap();
    let tree = user_files(s.root());
    rollback(&s, &["--yes"]).code(1).stderr_has("symlink");
    assert_eq!(user_files(s.root()), tree);

    // A linked directory in the set, and a set that is itself a link, likewise.
    let s = Scenario::case("onboarded");
    let set = setup_with(&s, KEY);
    let elsewhere = s.tmp().join("elsewhere");
    std::fs::rename(set.join("agents"), &elsewhere).unwrap();
    symlink(&elsewhere, set.join("agents")).unwrap();
    let tree = user_files(s.root());
    rollback(&s, &["--yes"]).code(1);
    assert_eq!(user_files(s.root()), tree);

    let s = Scenario::case("onboarded");
    let set = setup_with(&s, KEY);
    let moved = s.tmp().join("moved-set");
    std::fs::rename(&set, &moved).unwrap();
    symlink(&moved, &set).unwrap();
    rollback(&s, &["--yes"]).code(1);
    assert_eq!(user_files(s.root()), tree);
}

#[test]
fn a_link_changed_since_setup_does_not_redirect_the_rollback() {
    let s = Scenario::case("onboarded");
    let root = s.root();
    setup_with(&s, KEY);
    // Same bytes as setup wrote, but now reached through a link to outside the root.
    let outside = s.tmp().join("outside.json");
    std::fs::rename(root.join("openclaw.json"), &outside).unwrap();
    symlink(&outside, root.join("openclaw.json")).unwrap();
    let written = std::fs::read(&outside).unwrap();
    for args in [&["--yes"][..], &["--yes", "--force"][..]] {
        rollback(&s, args).code(1).stderr_has("link");
        assert_eq!(std::fs::read(&outside).unwrap(), written);
    }
}

#[test]
fn an_unusable_newest_set_stops_rollback_instead_of_being_skipped() {
    for damage in ["corrupt", "missing", "link"] {
        let s = Scenario::case("onboarded").label(damage);
        let root = s.root();
        let original = user_files(root);
        let first = setup_with(&s, KEY);
        let second = setup_with(&s, KEY_B);
        let m = second.join("manifest.json");
        match damage {
            "corrupt" => std::fs::write(&m, "{\"files\": [tru").unwrap(),
            "missing" => std::fs::remove_file(&m).unwrap(),
            _ => {
                let real = s.tmp().join("m.json");
                std::fs::rename(&m, &real).unwrap();
                symlink(&real, &m).unwrap();
            }
        }
        let tree = user_files(root);
        rollback(&s, &["--yes"])
            .code(1)
            .stderr_has(&name(&second))
            .stderr_has("--to");
        assert_eq!(user_files(root), tree, "{damage}");

        rollback(&s, &["--list"])
            .stdout_has(&name(&second))
            .stdout_has("UNUSABLE");

        // Asked for by name, the older set is used, and the skipped one is named loudly;
        // what the unreadable run wrote cannot be told from an edit, so it takes --force.
        rollback(&s, &["--yes", "--to", &name(&first)]).code(1);
        rollback(&s, &["--yes", "--force", "--to", &name(&first)])
            .code(0)
            .stderr_has(&name(&second))
            .stderr_has("skipped");
        assert_eq!(user_files(root), original, "{damage}");
    }
}

#[test]
fn edits_made_after_setup_are_not_discarded_without_force() {
    let s = Scenario::case("onboarded");
    let root = s.root();
    let original = user_files(root);
    setup_with(&s, KEY);
    let config = root.join("openclaw.json");
    let edited = std::fs::read_to_string(&config)
        .unwrap()
        .replace("\"gaterouter/auto\"", "\"openrouter/my-own-choice\"");
    std::fs::write(&config, &edited).unwrap();

    rollback(&s, &["--yes"])
        .code(1)
        .stderr_has("openclaw.json")
        .stderr_has("changed since")
        .stderr_has("--force");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), edited);

    // A dry run shows what would be lost, and writes nothing.
    rollback(&s, &["--dry-run"])
        .code(0)
        .stdout_has("my-own-choice");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), edited);

    rollback(&s, &["--yes", "--force"])
        .code(0)
        .stderr_has("--force")
        .stderr_has("openclaw.json");
    assert_eq!(user_files(root), original);
}

#[test]
fn rollback_to_a_chosen_set_undoes_it_and_everything_after() {
    let s = Scenario::case("onboarded");
    let root = s.root();
    let original = user_files(root);
    let first = setup_with(&s, KEY);
    let after_first = user_files(root);
    let second = setup_with(&s, KEY_B);
    assert_ne!(user_files(root), after_first);

    // To before the second run: the first run's result.
    rollback(&s, &["--yes", "--to", &name(&second)]).code(0);
    assert_eq!(user_files(root), after_first);

    // To before the first: the original, through the later sets (the rollback's own set
    // included), with no complaint that files changed since.
    rollback(&s, &["--yes", "--to", &name(&first)]).code(0);
    assert_eq!(user_files(root), original);

    // A name that is not there, or a prefix of several, is a clear error.
    for bad in ["20000101T000000Z-000001", "2"] {
        let err = rollback(&s, &["--yes", "--to", bad]).code(1).stderr();
        assert!(
            err.contains("--list") || err.contains("whole name"),
            "{err}"
        );
    }
    assert_eq!(user_files(root), original);
}

#[test]
fn backup_sets_are_made_complete_or_not_at_all() {
    // A set only ever appears under its final name with its manifest: a failure at any
    // step of the backup leaves no set rollback could pick, and the next run cleans up.
    use gaterouter_setup::txn::apply::{self, ApplyOptions, Faults};
    let plan_for = |root: &Path| {
        let r = gaterouter_setup::openclaw::root::discover(root, None, None).unwrap();
        let key = gaterouter_setup::plan::KeyChoice::Set(
            gaterouter_setup::gaterouter::key::ApiKey::parse(KEY).unwrap(),
        );
        gaterouter_setup::plan::plan(
            &r,
            &key,
            &gaterouter_setup::gaterouter::templates::Settings::builtin().unwrap(),
        )
        .unwrap()
    };
    let total = {
        let (_tmp, root) = root_from("two-agents");
        let opts = ApplyOptions::default();
        apply::apply_with(&plan_for(&root), &Default::default(), &opts).unwrap();
        opts.faults.steps()
    };
    for n in 1..=total {
        let (_tmp, root) = root_from("two-agents");
        let opts = ApplyOptions {
            faults: Faults::fail_at(n),
            ..ApplyOptions::default()
        };
        if apply::apply_with(&plan_for(&root), &Default::default(), &opts).is_ok() {
            continue;
        }
        let base = root.join(".gaterouter-backup");
        if base.exists() {
            for s in set_names(&root) {
                if !s.starts_with(".gaterouter-partial-") {
                    assert!(
                        base.join(&s).join("manifest.json").is_file(),
                        "step {n}: {s} has a final name but no manifest"
                    );
                }
            }
        }
        let opts = ApplyOptions::default();
        apply::apply_with(&plan_for(&root), &Default::default(), &opts).unwrap();
        assert!(
            set_names(&root)
                .iter()
                .all(|s| !s.starts_with(".gaterouter-partial-")),
            "step {n}: a half-built set was left after the next run"
        );
    }
}

#[test]
fn doctor_names_an_untrusted_backup_dir_and_unusable_sets() {
    let s = Scenario::case("onboarded");
    let second = {
        setup_with(&s, KEY);
        setup_with(&s, KEY_B)
    };
    std::fs::write(second.join("manifest.json"), "not json").unwrap();
    s.then()
        .arg("doctor")
        .root_arg()
        .run()
        .stdout_has(&name(&second))
        .stdout_has("cannot be used");

    let s = Scenario::case("onboarded");
    setup_with(&s, KEY);
    let (stuff, _) = stuff(s.tmp());
    let base = s.root().join(".gaterouter-backup");
    std::fs::rename(&base, s.tmp().join("old-backups")).unwrap();
    symlink(&stuff, &base).unwrap();
    s.then()
        .arg("doctor")
        .root_arg()
        .run()
        .code(1)
        .stdout_has("symlink");
}
