//! Pins the JSON report's field names (docs/json-report.md): a rename or removal fails here.

use std::collections::BTreeSet;

use crate::common::*;

fn keys(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(xs: &[&str]) -> BTreeSet<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

#[test]
fn one_root_report_fields() {
    let (tmp, root) = root_from("crlf-env");
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", "--json", KEY])
        .arg(&root)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        keys(&v),
        set(&[
            "version",
            "tool_version",
            "mode",
            "status",
            "root",
            "changed",
            "applied",
            "exit_code",
            "probe",
            "files",
            "backup",
            "warnings",
            "error",
            "run_as",
            "configured"
        ])
    );
    assert_eq!(v["version"], 1);
    assert_eq!(keys(&v["probe"]), set(&["status", "reason"]));
    for f in v["files"].as_array().unwrap() {
        assert_eq!(
            keys(f),
            set(&[
                "path",
                "kind",
                "action",
                "changed",
                "mode_before",
                "mode_after",
                "symlink",
                "diff",
                "before",
                "after"
            ])
        );
    }
    assert!(
        v["backup"]
            .as_str()
            .unwrap()
            .contains(".gaterouter-backup/")
    );

    let (tmp, root) = root_from("broken-json");
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", "--json", KEY])
        .arg(&root)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(keys(&v["error"]), set(&["message", "path"]));
}

#[test]
fn probe_fields() {
    let server = crate::common::stand_in::StandIn::healthy(KEY);
    let tmp = tempfile::tempdir().unwrap();
    let out = cmd(tmp.path())
        .args(["probe", "--json", "--base-url", &server.base_url(), KEY])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        keys(&v),
        set(&[
            "version",
            "exit_code",
            "warnings",
            "base_url",
            "reachable",
            "key_accepted",
            "auto_routing",
            "models",
            "requests",
            "blocking"
        ])
    );
    for r in v["requests"].as_array().unwrap() {
        assert_eq!(
            keys(r),
            set(&[
                "method",
                "url",
                "status",
                "attempts",
                "latency_ms",
                "failure"
            ])
        );
    }
}

#[test]
fn many_roots_and_doctor_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    copy_tree(&fixtures().join("onboarded/input"), &a);
    copy_tree(&fixtures().join("onboarded/input"), &b);
    let out = cmd(tmp.path())
        .args(["--offline", "--check", "--json", KEY, "--root"])
        .arg(&a)
        .arg("--root")
        .arg(&b)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        keys(&v),
        set(&[
            "version",
            "tool_version",
            "mode",
            "probe",
            "roots",
            "changed",
            "failed",
            "warnings",
            "run_as",
            "exit_code"
        ])
    );
    assert_eq!(v["roots"].as_array().unwrap().len(), 2);

    let out = cmd(tmp.path())
        .args(["doctor", "--json"])
        .arg(&a)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        keys(&v),
        set(&[
            "version",
            "root",
            "healthy",
            "problems",
            "checks",
            "run_as",
            "exit_code"
        ])
    );
    for c in v["checks"].as_array().unwrap() {
        assert_eq!(keys(c), set(&["status", "what", "fix"]));
    }
}
