//! A directory on the way to a managed file that is a symlink out of the root (`agents`,
//! `agents/main/agent`): nothing is read or written through it, as for an `agentDir` outside
//! the root, and the plan names the link. A link that stays inside the root is followed.

use std::os::unix::fs::symlink;
use std::path::Path;

use crate::common::*;

fn setup(home: &Path, root: &Path, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = cmd(home)
        .args(["--offline", "--yes", "--json"])
        .args(extra)
        .arg(KEY)
        .arg(root)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
    (out.status.code(), v)
}

fn warnings(v: &serde_json::Value) -> String {
    v["warnings"].to_string()
}

#[test]
fn agents_linked_out_of_the_root_is_left_alone_and_named() {
    let (tmp, root) = root_from("onboarded");
    let outside = tmp.path().join("elsewhere");
    std::fs::rename(root.join("agents"), &outside).unwrap();
    symlink(&outside, root.join("agents")).unwrap();
    let before = snapshot(&outside);
    let (code, v) = setup(tmp.path(), &root, &[]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(snapshot(&outside), before, "written through the link");
    let w = warnings(&v);
    assert!(
        w.contains("agents is a symlink to") && w.contains("outside the root"),
        "{w}"
    );
    assert!(
        !v["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "models")
    );
}

#[test]
fn an_agent_dir_linked_out_gets_no_models_json_there() {
    for dangling in [false, true] {
        let (tmp, root) = root_from("onboarded");
        let outside = tmp.path().join("out-agent");
        if !dangling {
            std::fs::create_dir(&outside).unwrap();
        }
        std::fs::remove_dir_all(root.join("agents/main/agent")).unwrap();
        symlink(&outside, root.join("agents/main/agent")).unwrap();
        let (code, v) = setup(tmp.path(), &root, &[]);
        assert_eq!(code, Some(0), "{v}");
        assert!(
            !outside.join("models.json").exists(),
            "created outside (dangling: {dangling})"
        );
        assert!(
            warnings(&v).contains("agents/main/agent is a symlink to"),
            "{v}"
        );
        // Named with --agent, it is refused.
        let (code, v) = setup(tmp.path(), &root, &["--agent", "main"]);
        assert_eq!(code, Some(1), "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("outside the root"),
            "{v}"
        );
        assert!(!outside.join("models.json").exists());
    }
}

#[test]
fn a_directory_link_inside_the_root_is_followed() {
    let (tmp, root) = root_from("onboarded");
    std::fs::rename(root.join("agents/main/agent"), root.join("shared-agent")).unwrap();
    symlink("../../shared-agent", root.join("agents/main/agent")).unwrap();
    let (code, v) = setup(tmp.path(), &root, &[]);
    assert_eq!(code, Some(0), "{v}");
    let models = std::fs::read_to_string(root.join("shared-agent/models.json")).unwrap();
    assert!(models.contains("gaterouter"), "{models}");
}
