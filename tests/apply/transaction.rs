//! The apply transaction, driven through the library: what it refuses, and how it undoes
//! a partial write.

use std::fs::OpenOptions;

use crate::common::*;
use gaterouter_setup::error::Error;
use gaterouter_setup::gaterouter::key::ApiKey;
use gaterouter_setup::gaterouter::templates::Settings;
use gaterouter_setup::openclaw::root::{self, Env};
use gaterouter_setup::plan::{self, KeyChoice, Plan};
use gaterouter_setup::txn::apply::{self, ApplyOptions, Faults, LOCK_FILE};

fn plan_for(root: &std::path::Path) -> Plan {
    let r = root::discover(root, None, None).unwrap();
    let key = KeyChoice::Set(ApiKey::parse(KEY).unwrap());
    plan::plan(&r, &key, &Settings::builtin().unwrap()).unwrap()
}

/// The tree without the tool's own bookkeeping (backups, lock file).
fn user_files(root: &std::path::Path) -> std::collections::BTreeMap<String, Entry> {
    snapshot(root)
        .into_iter()
        .filter(|(k, _)| !k.starts_with(".gaterouter"))
        .collect()
}

#[test]
fn a_file_changed_after_planning_stops_everything() {
    let (_tmp, root) = root_from("onboarded");
    let plan = plan_for(&root);
    std::fs::write(root.join("openclaw.json"), "{\n  // edited meanwhile\n}\n").unwrap();
    let before = user_files(&root);
    let err = apply::apply(&plan, &Env::default()).unwrap_err();
    assert!(matches!(err, Error::ChangedOnDisk { .. }), "{err}");
    assert!(
        err.to_string().contains("openclaw.json changed on disk"),
        "{err}"
    );
    assert_eq!(user_files(&root), before);
}

fn quick_lock() -> ApplyOptions {
    ApplyOptions {
        lock_timeout: std::time::Duration::from_millis(300),
        ..ApplyOptions::default()
    }
}

#[test]
fn a_held_lock_stops_a_second_run_naming_the_holder() {
    let (_tmp, root) = root_from("onboarded");
    let plan = plan_for(&root);
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join(LOCK_FILE))
        .unwrap();
    f.try_lock().unwrap();
    std::io::Write::write_all(&mut f, b"4242\n").unwrap();
    let before = user_files(&root);
    let err = apply::apply_with(&plan, &Env::default(), &quick_lock()).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("another gaterouter-setup is running (pid 4242)"),
        "{err}"
    );
    assert_eq!(user_files(&root), before);
    drop(f);
    apply::apply(&plan, &Env::default()).unwrap();
}

#[test]
fn a_lock_released_while_waiting_lets_the_run_go_on() {
    let (_tmp, root) = root_from("onboarded");
    let plan = plan_for(&root);
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join(LOCK_FILE))
        .unwrap();
    f.try_lock().unwrap();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(f);
    });
    let applied = apply::apply(&plan, &Env::default()).unwrap();
    releaser.join().unwrap();
    assert_eq!(applied.written.len(), 3);
}

#[test]
fn a_fresh_openclaw_lock_is_waited_for_and_a_stale_one_ignored() {
    let (_tmp, root) = root_from("onboarded");
    let plan = plan_for(&root);
    std::fs::write(root.join("openclaw.json.lock"), "").unwrap();
    let before = user_files(&root);
    let err = apply::apply_with(&plan, &Env::default(), &quick_lock()).unwrap_err();
    assert!(matches!(err, Error::OpenClawBusy { .. }), "{err}");
    assert_eq!(user_files(&root), before);
    // A lock file an hour old is a leftover from a crash.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(root.join("openclaw.json.lock"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    apply::apply_with(&plan, &Env::default(), &quick_lock()).unwrap();
}

#[test]
fn a_failure_at_any_step_leaves_every_user_file_as_it_was() {
    sweep("two-agents");
    sweep("fresh");
}

/// Learns how many filesystem steps a full apply takes, then fails each one in turn.
fn sweep(case: &str) {
    let (_tmp, root) = root_from(case);
    let opts = ApplyOptions::default();
    apply::apply_with(&plan_for(&root), &Env::default(), &opts).unwrap();
    let total = opts.faults.steps();
    assert!(
        total >= 20,
        "{case}: an apply should take dozens of steps, took {total}"
    );

    let mut saw_restore = false;
    for n in 1..=total {
        let (_tmp, root) = root_from(case);
        let plan = plan_for(&root);
        let before = user_files(&root);
        let opts = ApplyOptions {
            faults: Faults::fail_at(n),
            ..ApplyOptions::default()
        };
        let err = apply::apply_with(&plan, &Env::default(), &opts).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("injected fault at step {n}")),
            "{err}"
        );
        if let Error::ApplyFailed {
            restored,
            restore_errors,
            backup,
            ..
        } = &err
        {
            assert_eq!(err.exit_code(), 4);
            assert!(restore_errors.is_empty(), "step {n}: {err}");
            saw_restore |= !restored.is_empty();
            // Once a file was replaced, the error names the backup set holding the originals.
            if !restored.is_empty() {
                assert!(
                    backup.as_ref().is_some_and(|b| b.is_dir()),
                    "step {n}: {err}"
                );
            }
        }
        assert_eq!(
            user_files(&root),
            before,
            "{case} step {n}: the tree was not put back ({err})"
        );
        let leftovers: Vec<String> = snapshot(&root)
            .into_keys()
            .filter(|k| k.contains(".gaterouter-tmp-"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "step {n}: temp files left behind: {leftovers:?}"
        );
    }
    assert!(saw_restore, "{case}: no failure point exercised a restore");
}

#[test]
fn an_already_configured_plan_writes_nothing_not_even_a_backup() {
    let (_tmp, root) = root_from("configured");
    let plan = plan_for(&root);
    assert!(plan.is_empty());
    let applied = apply::apply(&plan, &Env::default()).unwrap();
    assert!(applied.written.is_empty() && applied.backup.is_none());
    assert!(!root.join(".gaterouter-backup").exists());
}
