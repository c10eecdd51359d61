//! Our side of OpenClaw's config health state, without OpenClaw (tests/openclaw/health.rs
//! runs the real one): a root with OpenClaw's `.bak` ring and its state database (the
//! table as 2026.9.6 creates it). Every write turns the ring and records the new config as
//! last-known-good; a failure at any step puts ring, row and files back; without a
//! database the plan predicts the restore and refuses unless `--force`; doctor reports
//! what OpenClaw set aside or would undo.

use std::path::{Path, PathBuf};

use crate::common::*;
use gaterouter_setup::gaterouter::key::ApiKey;
use gaterouter_setup::gaterouter::templates::Settings;
use gaterouter_setup::openclaw::health;
use gaterouter_setup::openclaw::root::{self, Env};
use gaterouter_setup::plan::{self, KeyChoice, Plan};
use gaterouter_setup::txn::apply::{self, ApplyOptions, Faults};
use serde_json::Value;

/// The table exactly as OpenClaw 2026.9.6's state schema creates it.
const SCHEMA: &str = "CREATE TABLE config_health_entries (
  config_path TEXT NOT NULL PRIMARY KEY,
  last_known_good_json TEXT,
  last_promoted_good_json TEXT,
  last_observed_suspicious_signature TEXT,
  updated_at_ms INTEGER NOT NULL
) STRICT;";

fn db(root: &Path) -> PathBuf {
    root.join("state/openclaw.sqlite")
}

type Row = (String, Option<String>, Option<String>, Option<String>, i64);

fn rows(root: &Path) -> Vec<Row> {
    let c = rusqlite::Connection::open(db(root)).unwrap();
    let mut st = c
        .prepare("SELECT * FROM config_health_entries ORDER BY config_path")
        .unwrap();
    st.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn sha256(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// The onboarded fixture as OpenClaw leaves a root it has written: a full `.bak` ring and a
/// health row whose last-known-good is the config now on disk (observed, as OpenClaw's
/// healthy load records it), with a signature and a promoted fingerprint to keep.
fn openclaw_root() -> (tempfile::TempDir, PathBuf) {
    openclaw_root_with(None)
}

/// [`openclaw_root`] whose recorded last-known-good claims `bytes` (a larger file than the
/// one on disk: then every write of ours needs its record, or OpenClaw restores `.bak`).
fn openclaw_root_with(bytes: Option<usize>) -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = root_from("onboarded");
    let config = root.join("openclaw.json");
    for n in 0..=4 {
        std::fs::write(
            health::ring::slot(&config, n),
            format!("{{\"bak\": {n}}}\n"),
        )
        .unwrap();
    }
    std::fs::create_dir_all(root.join("state")).unwrap();
    let c = rusqlite::Connection::open(db(&root)).unwrap();
    c.execute_batch(&format!("PRAGMA journal_mode=WAL; {SCHEMA}"))
        .unwrap();
    let raw = std::fs::read(&config).unwrap();
    let lkg = serde_json::json!({
        "hash": sha256(&raw), "bytes": bytes.unwrap_or(raw.len()), "hasMeta": true, "gatewayMode": "local",
        "observedAt": "2026-12-01T00:00:00.000Z"
    });
    c.execute(
        "INSERT INTO config_health_entries VALUES (?1, ?2, '{\"hash\":\"promoted\"}', NULL, 1)",
        rusqlite::params![config.to_string_lossy(), lkg.to_string()],
    )
    .unwrap();
    drop(c);
    (tmp, root)
}

fn plan_for(root: &Path) -> Plan {
    let r = root::discover(root, None, None).unwrap();
    let key = KeyChoice::Set(ApiKey::parse(KEY).unwrap());
    plan::plan(&r, &key, &Settings::builtin().unwrap()).unwrap()
}

/// Everything but our own bookkeeping and the database file (compared as rows).
fn tree(root: &Path) -> std::collections::BTreeMap<String, Entry> {
    snapshot(root)
        .into_iter()
        .filter(|(k, _)| !k.starts_with(".gaterouter") && !k.starts_with("state"))
        .collect()
}

fn ring(root: &Path) -> Vec<Option<Vec<u8>>> {
    let config = root.join("openclaw.json");
    (0..=4)
        .map(|n| std::fs::read(health::ring::slot(&config, n)).ok())
        .collect()
}

/// The row's last-known-good is exactly the file on disk, and nothing suspicious is seen.
fn assert_recorded(root: &Path, what: &str) {
    let config = root.join("openclaw.json");
    let raw = std::fs::read(&config).unwrap();
    let r = rows(root);
    assert_eq!(r.len(), 1, "{what}: {r:?}");
    let lkg: Value = serde_json::from_str(r[0].1.as_deref().unwrap()).unwrap();
    assert_eq!(lkg["hash"], sha256(&raw), "{what}");
    assert_eq!(lkg["bytes"], raw.len(), "{what}");
    assert_eq!(lkg["hasMeta"], true, "{what}");
    assert_eq!(lkg["gatewayMode"], "local", "{what}");
    assert_eq!(
        lkg["ino"],
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&config).unwrap()).to_string()
    );
    // OpenClaw's promoted copy is not ours to touch; the signature is cleared.
    assert_eq!(r[0].2.as_deref(), Some("{\"hash\":\"promoted\"}"), "{what}");
    assert_eq!(r[0].3, None, "{what}");
    let s = health::standing(root, &config, &raw).expect("a baseline");
    assert!(s.reasons.is_empty(), "{what}: {s:?}");
}

#[test]
fn every_write_turns_the_ring_and_records_itself() {
    let (_tmp, root) = openclaw_root();
    let config = root.join("openclaw.json");
    let before = std::fs::read(&config).unwrap();
    let ring0 = ring(&root);
    let out = cmd(&root)
        .args(["--offline", "--yes", KEY])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // As OpenClaw's writer: the replaced file is `.bak`, each older one a slot further.
    let ring1 = ring(&root);
    assert_eq!(ring1[0].as_deref(), Some(before.as_slice()));
    assert_eq!(&ring1[1..], &ring0[..4]);
    assert_recorded(&root, "setup");

    // Uninstall shrinks the config far below half of what setup left: OpenClaw would
    // restore `.bak` over it, were the new file not its baseline.
    let set_up = std::fs::read(&config).unwrap();
    let out = cmd(&root)
        .args(["uninstall", "--yes"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let after = std::fs::read(&config).unwrap();
    assert!(
        after.len() < set_up.len() / 2,
        "{} -> {}",
        set_up.len(),
        after.len()
    );
    assert_eq!(ring(&root)[0].as_deref(), Some(set_up.as_slice()));
    assert_recorded(&root, "uninstall");
    let d = cmd(&root)
        .args(["doctor", "--json"])
        .arg(&root)
        .output()
        .unwrap();
    let d: Value = serde_json::from_slice(&d.stdout).unwrap();
    assert!(!d.to_string().contains("clobbered"), "{d:#}");

    // Rollback (to before setup) is a write like the others.
    let out = cmd(&root)
        .args(["rollback", "--yes"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&config).unwrap(), before);
    assert_recorded(&root, "rollback");
}

/// Each filesystem and database step of an apply, failed in turn: the files, the ring and
/// the health row are as before.
#[test]
fn a_failure_at_any_step_puts_the_ring_and_the_row_back() {
    let root_needing_the_record = || openclaw_root_with(Some(100_000));
    let (_tmp, root) = root_needing_the_record();
    let opts = ApplyOptions::default();
    apply::apply_with(&plan_for(&root), &Env::default(), &opts).unwrap();
    let total = opts.faults.steps();
    let mut saw_ring = false;
    for n in 1..=total {
        let (_tmp, root) = root_needing_the_record();
        let plan = plan_for(&root);
        let (files, rows0) = (tree(&root), rows(&root));
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
        saw_ring |= err.to_string().contains("rotate OpenClaw's .bak ring")
            || err
                .to_string()
                .contains("record in OpenClaw's health state");
        assert_eq!(tree(&root), files, "step {n}: not put back ({err})");
        assert_eq!(rows(&root), rows0, "step {n}: the row changed ({err})");
    }
    assert!(saw_ring, "no step of the ring or the record was failed");
}

/// No database: `.bak` is OpenClaw's baseline. A write it would find suspicious is named in
/// the plan and refused unless --force; one it would not (setup grows the file) goes ahead.
#[test]
fn without_a_database_the_plan_predicts_the_restore_and_refuses() {
    let (_tmp, root) = openclaw_root();
    std::fs::remove_dir_all(root.join("state")).unwrap();
    let out = cmd(&root)
        .args(["--offline", "--yes", KEY])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let config = std::fs::read(root.join("openclaw.json")).unwrap();

    let dry = cmd(&root)
        .args(["uninstall", "--dry-run"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(dry.status.code(), Some(0));
    let said = text(&dry.stderr);
    assert!(
        said.contains("size-drop-vs-last-good:") && said.contains("--force"),
        "{said}"
    );

    let refused = cmd(&root)
        .args(["uninstall", "--yes"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let said = text(&refused.stderr);
    assert!(
        said.contains("restore")
            && said.contains("openclaw.json.bak")
            && said.contains("no OpenClaw state database"),
        "{said}"
    );
    assert_eq!(
        std::fs::read(root.join("openclaw.json")).unwrap(),
        config,
        "written anyway"
    );

    let json = cmd(&root)
        .args(["uninstall", "--yes", "--json"])
        .arg(&root)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(v.to_string().contains("size-drop-vs-last-good"), "{v:#}");

    let forced = cmd(&root)
        .args(["uninstall", "--yes", "--force"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced.stderr));
}

/// What OpenClaw set aside after our last write, and a config its next load would restore
/// over, are doctor problems.
#[test]
fn doctor_reports_what_openclaw_set_aside_or_would_undo() {
    let (_tmp, root) = openclaw_root();
    let out = cmd(&root)
        .args(["--offline", "--yes", KEY])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doctor = || -> Value {
        let d = cmd(&root)
            .args(["doctor", "--json"])
            .arg(&root)
            .output()
            .unwrap();
        serde_json::from_slice(&d.stdout).unwrap()
    };
    assert!(!doctor().to_string().contains("OpenClaw"), "{:#}", doctor());

    // A clobbered copy from after our write (as OpenClaw names it).
    let clobbered = root.join("openclaw.json.clobbered.2026-12-02T03-19-01-645Z");
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&clobbered, "{}").unwrap();
    let d = doctor();
    assert_eq!(d["healthy"], false);
    assert!(
        d.to_string()
            .contains("openclaw.json.clobbered.2026-12-02T03-19-01-645Z"),
        "{d:#}"
    );
    std::fs::remove_file(&clobbered).unwrap();

    // An edit by hand that OpenClaw's next load takes for a clobber.
    std::fs::write(
        root.join("openclaw.json"),
        "{\"meta\": {}, \"gateway\": {\"mode\": \"local\"}}\n",
    )
    .unwrap();
    let d = doctor();
    assert_eq!(d["healthy"], false, "{d:#}");
    let s = d.to_string();
    assert!(
        s.contains("size-drop-vs-last-good") && s.contains("restore"),
        "{d:#}"
    );
}

/// The uninstall of a set-up root (a shrink past half), each step failed in turn: the
/// record made before the rename (so a Gateway reloading 300 ms after the rename never sees
/// the new file against the old baseline) is put back with everything else.
#[test]
fn an_uninstall_failing_at_any_step_puts_the_early_record_back() {
    let set_up = || {
        let (tmp, root) = openclaw_root();
        let out = cmd(&root)
            .args(["--offline", "--yes", KEY])
            .arg(&root)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        (tmp, root)
    };
    let uninstall_plan = |root: &Path| {
        let r = root::discover(root, None, None).unwrap();
        let (previous, added) = gaterouter_setup::ops::rollback::recorded(root).unwrap();
        let env_created = gaterouter_setup::ops::rollback::created_by_setup(root, ".env");
        plan::plan_uninstall(&r, previous.as_ref(), &added, env_created).unwrap()
    };
    let (_tmp, root) = set_up();
    let opts = ApplyOptions::default();
    apply::apply_with(&uninstall_plan(&root), &Env::default(), &opts).unwrap();
    assert_recorded(&root, "uninstall");
    let total = opts.faults.steps();
    let mut saw_early = false;
    for n in 1..=total {
        let (_tmp, root) = set_up();
        let plan = uninstall_plan(&root);
        let (files, rows0) = (tree(&root), rows(&root));
        let opts = ApplyOptions {
            faults: Faults::fail_at(n),
            ..ApplyOptions::default()
        };
        match apply::apply_with(&plan, &Env::default(), &opts) {
            Err(err) => {
                saw_early |= err.to_string().contains("before the rename");
                assert_eq!(tree(&root), files, "step {n}: not put back ({err})");
                assert_eq!(rows(&root), rows0, "step {n}: the row changed ({err})");
            }
            // Only the last record may fail without failing the run: the early one holds.
            Ok(_) => {
                assert_eq!(n, total, "step {n} failed silently");
                let raw = std::fs::read(root.join("openclaw.json")).unwrap();
                let s = health::standing(&root, &root.join("openclaw.json"), &raw).unwrap();
                assert!(s.reasons.is_empty(), "{s:?}");
            }
        }
    }
    assert!(saw_early, "no failure of the early record");
}
