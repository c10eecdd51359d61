//! Golden tests: every fixture root, run through the real binary, must produce exactly the
//! bytes in `fixtures/roots/<case>/expected/` (or exactly the error in `expected-error.txt`,
//! leaving the tree untouched); a second run must change nothing.
//!
//! `UPDATE_GOLDEN=1 cargo test --test suite golden::` rewrites `expected/` from the current output;
//! review the diff of that before committing it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::*;

/// Files the tool keeps for itself; everything else in the root must match `expected/`.
fn ours(rel: &str) -> bool {
    rel.starts_with(".gaterouter-backup") || rel == ".gaterouter.lock"
}

fn check_case(case: &str) {
    let dir = fixtures().join(case);
    let (tmp, root) = root_from(case);
    let before = snapshot(&root);
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", KEY])
        .arg(&root)
        .args(case_args(case))
        .output()
        .unwrap();
    assert_no_key(&out, KEY);

    if let Ok(expected) = std::fs::read_to_string(dir.join("expected-error.txt")) {
        assert_eq!(out.status.code(), Some(1), "{case}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(expected.trim()),
            "{case}: stderr does not contain {:?}:\n{stderr}",
            expected.trim()
        );
        assert_eq!(
            stderr.lines().count(),
            1,
            "{case}: one paragraph, got:\n{stderr}"
        );
        assert_eq!(
            snapshot(&root),
            before,
            "{case}: a failed run touched the tree"
        );
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{case}: {}", text(&out.stderr));

    let expected_dir = dir.join("expected");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let _ = std::fs::remove_dir_all(&expected_dir);
        for (rel, e) in snapshot(&root) {
            if ours(&rel) {
                continue;
            }
            let dst = expected_dir.join(&rel);
            match e {
                Entry::File { bytes, .. } => {
                    std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
                    std::fs::write(dst, bytes).unwrap();
                }
                Entry::Dir { .. } => std::fs::create_dir_all(dst).unwrap(),
                Entry::Link(_) | Entry::Special { .. } => {}
            }
        }
    }
    let got = snapshot(&root);
    let want = snapshot(&expected_dir);
    let files = |m: &std::collections::BTreeMap<String, Entry>| -> Vec<String> {
        m.iter()
            .filter(|(r, e)| matches!(e, Entry::File { .. }) && !ours(r) && !r.ends_with(".keep"))
            .map(|(r, _)| r.clone())
            .collect()
    };
    assert_eq!(
        files(&got),
        files(&want),
        "{case}: the set of files differs"
    );
    for rel in files(&want) {
        let (Entry::File { bytes: g, mode }, Entry::File { bytes: w, .. }) =
            (&got[&rel], &want[&rel])
        else {
            unreachable!()
        };
        assert!(
            g == w,
            "{case}: {rel} differs from expected:\n--- got\n{}\n--- want\n{}",
            text(g),
            text(w)
        );
        if rel == ".env" {
            assert_eq!(mode & 0o777, 0o600, "{case}: .env mode");
        }
        let was_new = !before.contains_key(&rel);
        if was_new {
            assert_eq!(mode & 0o777, 0o600, "{case}: new file {rel} must be 0600");
        } else if rel != ".env" {
            let Entry::File { mode: old, .. } = before[&rel] else {
                unreachable!()
            };
            assert_eq!(*mode, old, "{case}: {rel} mode must be kept");
        }
    }

    // Idempotent: a second run plans nothing and touches nothing.
    let after_first = snapshot(&root);
    let again = cmd(tmp.path())
        .args(["--offline", "--yes", KEY])
        .arg(&root)
        .args(case_args(case))
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{case}: {}",
        text(&again.stderr)
    );
    assert!(
        text(&again.stdout).contains("Already configured"),
        "{case}: second run was not a no-op:\n{}",
        text(&again.stdout)
    );
    assert_eq!(
        snapshot(&root),
        after_first,
        "{case}: second run changed the tree"
    );
}

#[test]
fn every_fixture_matches_its_golden_output() {
    let cases = cases();
    assert!(cases.len() >= 12, "fixtures went missing: {cases:?}");
    for case in &cases {
        check_case(case);
    }
}

#[test]
fn dry_run_writes_nothing_anywhere() {
    for case in cases() {
        let (tmp, root) = root_from(&case);
        let before = snapshot(tmp.path());
        let out = cmd(tmp.path())
            .args(["--offline", "--dry-run", KEY])
            .arg(&root)
            .output()
            .unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{case}");
        assert_no_key(&out, KEY);
        assert_eq!(
            snapshot(tmp.path()),
            before,
            "{case}: --dry-run changed the tree"
        );
    }
}

#[test]
fn expected_outputs_exist_for_every_success_case() {
    for case in cases() {
        let dir = fixtures().join(&case);
        assert!(
            dir.join("expected").is_dir() || dir.join("expected-error.txt").is_file(),
            "{case} has neither expected/ nor expected-error.txt"
        );
        assert!(
            Path::new(&dir.join("input")).is_dir(),
            "{case} has no input/"
        );
    }
    let _ = std::fs::Permissions::from_mode(0o600);
}
