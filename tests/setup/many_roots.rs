//! Many roots in one run: one probe for all, a plan and a result per root.

use crate::common::stand_in::StandIn;
use crate::common::*;

/// `--root R` for each of `roots`.
fn root_args(roots: &[std::path::PathBuf]) -> Vec<String> {
    roots
        .iter()
        .flat_map(|r| ["--root".to_owned(), r.display().to_string()])
        .collect()
}

fn three(tmp: &std::path::Path) -> Vec<std::path::PathBuf> {
    ["onboarded", "json5", "broken-json"]
        .iter()
        .map(|c| {
            let dst = tmp.join(c);
            copy_tree(&fixtures().join(c).join("input"), &dst);
            dst
        })
        .collect()
}

#[test]
fn one_broken_root_fails_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let roots = three(tmp.path());
    let broken_before = snapshot(&roots[2]);
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", "--json", KEY])
        .args(root_args(&roots))
        .output()
        .unwrap();
    assert_no_key(&out, KEY);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let per: Vec<(&str, i64)> = v["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap(),
                r["exit_code"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(per, [("applied", 0), ("applied", 0), ("error", 1)]);
    assert_eq!(v["failed"], 1);
    assert!(
        std::fs::read_to_string(roots[0].join("openclaw.json"))
            .unwrap()
            .contains("gaterouter/auto")
    );
    assert!(
        std::fs::read_to_string(roots[1].join("openclaw.json"))
            .unwrap()
            .contains("gaterouter/auto")
    );
    assert_eq!(snapshot(&roots[2]), broken_before);
}

#[test]
fn fail_fast_writes_nothing_when_a_root_is_bad() {
    let tmp = tempfile::tempdir().unwrap();
    let roots = three(tmp.path());
    let before: Vec<_> = roots.iter().map(|r| snapshot(r)).collect();
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", "--fail-fast", KEY])
        .args(root_args(&roots))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    for (r, b) in roots.iter().zip(before) {
        assert_eq!(
            snapshot(r),
            b,
            "{} was written despite --fail-fast",
            r.display()
        );
    }
}

#[test]
fn roots_from_a_file_with_one_probe_and_check_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut roots = Vec::new();
    for i in 0..5 {
        let dst = tmp.path().join(format!("r{i}"));
        copy_tree(&fixtures().join("onboarded").join("input"), &dst);
        roots.push(dst);
    }
    let list = tmp.path().join("roots.txt");
    let mut body = String::from("# fleet\n\n");
    for r in &roots {
        body.push_str(&format!("{}\n", r.display()));
    }
    std::fs::write(&list, body).unwrap();
    let server = StandIn::healthy(KEY);
    let base = server.base_url();

    let check = cmd(tmp.path())
        .args(["--check", "--base-url", &base, "--roots-from"])
        .arg(&list)
        .arg(KEY)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(2), "{}", text(&check.stderr));
    assert_eq!(server.hits().len(), 2, "one probe for all roots");

    let apply = cmd(tmp.path())
        .args(["--yes", "--base-url", &base, "--roots-from"])
        .arg(&list)
        .arg(KEY)
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));
    assert!(
        text(&apply.stdout).contains("5 roots: 0 already configured, 5 written, 0 failed."),
        "{}",
        text(&apply.stdout)
    );

    // Checked the way it was applied (the live catalog and this base URL); the key comes
    // from each root's .env now.
    let again = cmd(tmp.path())
        .args(["--check", "--base-url", &base, "--roots-from"])
        .arg(&list)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("5 roots: 5 already configured"),
        "{}",
        text(&again.stdout)
    );
}

#[test]
fn quiet_many_roots_print_only_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let roots = three(tmp.path());
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", "-q", KEY])
        .args(root_args(&roots))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("broken-json") && err.contains("not valid JSON5"),
        "{err}"
    );
}

/// GateRouter is asked only when a root is left to set up: N broken roots (one, or many)
/// stop before the probe, whatever N is, and say why in the report.
#[test]
fn no_probe_when_no_root_is_left() {
    let s = StandIn::healthy(KEY);
    for n in 1..=3 {
        let tmp = tempfile::tempdir().unwrap();
        let roots: Vec<_> = (0..n)
            .map(|i| {
                let dst = tmp.path().join(format!("broken{i}"));
                copy_tree(&fixtures().join("broken-json/input"), &dst);
                dst
            })
            .collect();
        let out = cmd(tmp.path())
            .args(["--yes", "--json", "--base-url"])
            .arg(s.base_url())
            .arg(KEY)
            .args(root_args(&roots))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        if n == 1 {
            // One root: the one-root report, which has no probe when it never got there.
            assert!(v["probe"].is_null(), "{v:#}");
        } else {
            assert_eq!(v["probe"]["status"], "skipped", "{v:#}");
            assert_eq!(v["probe"]["reason"], "no root left to set up", "{v:#}");
            assert_eq!(v["failed"], n);
        }
    }
    assert!(s.hits().is_empty(), "{:?}", s.hits());
}

/// A dry run and a check over many roots end with one recap line: the roots that change and
/// their files, the ones already configured, the ones that failed; and it is true.
#[test]
fn many_roots_end_with_a_recap_line() {
    let tmp = tempfile::tempdir().unwrap();
    let roots = three(tmp.path());
    // The json5 root is set up first: "already configured" afterwards.
    let first = cmd(tmp.path())
        .args(["--offline", "--yes", KEY])
        .arg(&roots[1])
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    for mode in ["--dry-run", "--check"] {
        let out = cmd(tmp.path())
            .args([mode, "--offline", KEY])
            .args(root_args(&roots))
            .output()
            .unwrap();
        let stdout = text(&out.stdout);
        let recap: Vec<&str> = stdout.lines().filter(|l| l.starts_with("Plan: ")).collect();
        assert_eq!(recap.len(), 1, "{mode}: {stdout}");
        assert!(
            recap[0].starts_with("Plan: 1 root changes, ")
                && recap[0].contains("; 1 root already configured; 1 root failed"),
            "{mode}: {}",
            recap[0]
        );
    }
}

/// Every failing root says why, whatever stage it failed at (a broken file found while
/// planning, a backup directory that is a link found while applying), in text as in JSON;
/// "1 failed." alone said nothing.
#[test]
fn every_failing_root_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let mut roots = three(tmp.path());
    let linked = tmp.path().join("linked");
    copy_tree(&fixtures().join("onboarded/input"), &linked);
    std::fs::create_dir(tmp.path().join("elsewhere")).unwrap();
    std::os::unix::fs::symlink(
        tmp.path().join("elsewhere"),
        linked.join(".gaterouter-backup"),
    )
    .unwrap();
    roots.push(linked.clone());
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", KEY])
        .args(root_args(&roots))
        .output()
        .unwrap();
    assert_no_key(&out, KEY);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        text(&out.stdout).contains("4 roots: 0 already configured, 2 written, 2 failed."),
        "{}",
        text(&out.stdout)
    );
    for (root, why) in [(&roots[2], "not valid JSON5"), (&linked, "is a symlink")] {
        let lines: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("error:") && l.contains(&root.display().to_string()))
            .collect();
        assert_eq!(lines.len(), 1, "{}: {err}", root.display());
        assert!(lines[0].contains(why), "{}: {err}", root.display());
    }
    // The same reasons in the JSON report, one per failed root.
    for r in &roots[..2] {
        std::fs::remove_dir_all(r).unwrap();
    }
    copy_tree(&fixtures().join("onboarded/input"), &roots[0]);
    copy_tree(&fixtures().join("json5/input"), &roots[1]);
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", "--json", KEY])
        .args(root_args(&roots))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<String> = v["roots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "error")
        .map(|r| {
            r["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(errors.len(), 2, "{v:#}");
    assert!(errors[0].contains("not valid JSON5"), "{errors:?}");
    assert!(errors[1].contains("is a symlink"), "{errors:?}");
}

/// A relative line of a `--roots-from` file is relative to the file's directory, whatever
/// the working directory (the list moves with the fleet it names); from a pipe, where there
/// is no such directory, relative to the working directory. `--help` says which.
#[test]
fn roots_from_relative_lines_are_relative_to_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let fleet = tmp.path().join("fleet");
    for r in ["a", "sub/b"] {
        copy_tree(&fixtures().join("onboarded/input"), &fleet.join(r));
    }
    std::fs::write(fleet.join("roots.txt"), "a\n./sub/b\n").unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let out = cmd(tmp.path())
        .current_dir(&elsewhere)
        .args([
            "--offline",
            "--yes",
            "--json",
            "--roots-from",
            "../fleet/roots.txt",
            KEY,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let roots: Vec<&str> = v["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["root"].as_str().unwrap())
        .collect();
    let want: Vec<String> = ["a", "sub/b"]
        .iter()
        .map(|r| fleet.join(r).display().to_string())
        .collect();
    assert_eq!(roots, want);
    assert!(std::fs::read_dir(&elsewhere).unwrap().next().is_none());
    // A pipe: the working directory.
    let out = cmd(tmp.path())
        .current_dir(&fleet)
        .args([
            "--offline",
            "--dry-run",
            "--json",
            "--roots-from",
            "/dev/stdin",
            KEY,
        ])
        .write_stdin("a\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["roots"][0]["root"].as_str(),
        Some(fleet.join("a").display().to_string().as_str())
    );
    let help = cmd(tmp.path()).arg("--help").output().unwrap();
    assert!(
        text(&help.stdout).contains("relative to FILE's directory"),
        "{}",
        text(&help.stdout)
    );
}
