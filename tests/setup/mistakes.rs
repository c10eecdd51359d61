//! Mistakes newcomers make (issue 14): a mistyped subcommand, a pasted `NAME=value` line or
//! anything else that cannot be a key, a directory that is not an OpenClaw root, an agent
//! the config does not have, and advice that would make things worse. Each is refused
//! before any network request or write, with one paragraph saying what to do.

use std::path::Path;

use crate::common::{KEY, cmd, root_from, snapshot, text};
use proptest::prelude::*;

const SUBCOMMANDS: &[&str] = &[
    "probe",
    "rollback",
    "uninstall",
    "verify",
    "completions",
    "man",
    "doctor",
];

fn run(home: &Path, args: &[&str]) -> std::process::Output {
    cmd(home).args(args).output().unwrap()
}

/// An unreachable base URL: were any of these mistakes to reach the network, the run
/// would fail with exit 3 and a probe message instead of the input error asserted.
const NO_NETWORK: &str = "http://127.0.0.1:9/openai/v1";

#[test]
fn a_mistyped_subcommand_is_suggested_not_taken_as_the_key() {
    let (tmp, root) = root_from("onboarded");
    let before = snapshot(&root);
    for (typed, meant) in [
        ("doctr", "doctor"),
        ("uninstll", "uninstall"),
        ("rolback", "rollback"),
        ("Verify", "verify"),
        ("porbe", "probe"),
        ("completion", "completions"),
    ] {
        for offline in [true, false] {
            let mut args = vec!["--base-url", NO_NETWORK, "--yes", typed];
            let r = root.to_str().unwrap();
            args.push(r);
            if offline {
                args.insert(0, "--offline");
            }
            let out = run(tmp.path(), &args);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{typed}: {err}");
            assert!(
                err.contains(&format!("did you mean `gaterouter-setup {meant}`?")),
                "{typed}: {err}"
            );
        }
    }
    assert_eq!(snapshot(&root), before, "nothing may be written");
}

#[test]
fn a_pasted_env_line_a_url_or_a_word_never_becomes_the_key() {
    let (tmp, root) = root_from("onboarded");
    let before = snapshot(&root);
    let pasted = format!("GATEROUTER_API_KEY={KEY}");
    let export = format!("export GATEROUTER_API_KEY={KEY}");
    for (bad, says) in [
        (pasted.as_str(), "NAME=value"),
        (export.as_str(), "NAME=value"),
        ("https://api.gaterouter.ai/openai/v1", "URL"),
        ("hello-world", "too short"),
        (
            "sk-or-v1-abc!def;0123456789xyz",
            "character no GateRouter key has",
        ),
    ] {
        let out = run(
            tmp.path(),
            &["--offline", "--yes", bad, root.to_str().unwrap()],
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{bad}: {err}");
        assert!(err.contains(says), "{bad}: {err}");
        assert!(err.contains("at least 20 letters, digits"), "{err}");
        assert!(!err.contains(bad), "the refused text is echoed: {err}");
        assert!(
            !err.contains(KEY),
            "the key in the pasted line leaked: {err}"
        );
    }
    // The same from the environment and from standard input.
    let out = cmd(tmp.path())
        .env("GATEROUTER_API_KEY", &pasted)
        .args(["--offline", "--yes"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("NAME=value"));
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", "--api-key-stdin"])
        .arg(&root)
        .write_stdin(format!("{pasted}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("NAME=value"));
    assert!(!text(&out.stderr).contains(KEY));
    assert_eq!(snapshot(&root), before, "nothing may be written");
}

/// One edit (insert, delete, substitute, swap) of a lowercase letter.
fn one_edit() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(SUBCOMMANDS),
        0usize..4,
        any::<prop::sample::Index>(),
        proptest::char::range('a', 'z'),
    )
        .prop_map(|(name, kind, at, c)| {
            let mut v: Vec<char> = name.chars().collect();
            let i = at.index(v.len());
            match kind {
                0 => v.insert(i, c),
                1 if v.len() > 3 => {
                    v.remove(i);
                }
                2 => v[i] = c,
                _ if i + 1 < v.len() => v.swap(i, i + 1),
                _ => v[i] = c,
            }
            v.into_iter().collect()
        })
        .prop_filter("still a subcommand", |s: &String| {
            !SUBCOMMANDS.contains(&s.as_str())
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Any subcommand name with one edit gets a suggestion (of some subcommand: an edit can
    /// land nearer another) and exits 1 with nothing written.
    #[test]
    fn any_one_edit_of_a_subcommand_is_suggested(typed in one_edit()) {
        let tmp = tempfile::tempdir().unwrap();
        let out = run(tmp.path(), &["--offline", "--yes", &typed]);
        let err = text(&out.stderr);
        prop_assert_eq!(out.status.code(), Some(1), "{}", err);
        prop_assert!(err.contains("did you mean `gaterouter-setup "), "{}: {}", typed, err);
        prop_assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    }
}

#[test]
fn a_directory_that_is_not_an_openclaw_root_needs_init() {
    let tmp = tempfile::tempdir().unwrap();
    // A source checkout: what `gaterouter-setup --offline KEY .` used to fill with
    // openclaw.json, .env and agents/.
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    std::fs::write(repo.join("Cargo.toml"), "[package]\n").unwrap();
    std::fs::write(repo.join(".env"), "DATABASE_URL=postgres://x\n").unwrap();
    let before = snapshot(&repo);
    for mode in ["--dry-run", "--yes", "--check"] {
        let out = cmd(tmp.path())
            .current_dir(&repo)
            .args(["--offline", mode, KEY, "."])
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{mode}: {err}");
        assert!(
            err.contains("does not look like an OpenClaw state directory"),
            "{err}"
        );
        assert!(err.contains("--init"), "{err}");
        assert!(text(&out.stdout).is_empty(), "no plan is shown");
    }
    // Many roots: that root fails, the OpenClaw one is set up.
    let (_t, good) = root_from("onboarded");
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", KEY, "--root"])
        .arg(&good)
        .arg("--root")
        .arg(&repo)
        .output()
        .unwrap();
    let all = text(&out.stdout) + &text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("does not look like an OpenClaw state directory"),
        "{all}"
    );
    assert!(good.join(".env").is_file(), "{all}");
    assert_eq!(snapshot(&repo), before, "nothing may be written");

    // --init says to create one there.
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", "--init", KEY])
        .arg(&repo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(repo.join("openclaw.json").is_file());
}

#[test]
fn what_makes_a_directory_an_openclaw_root() {
    let tmp = tempfile::tempdir().unwrap();
    type Seed<'a> = (&'a str, &'a dyn Fn(&Path));
    let seeds: [Seed; 4] = [
        ("openclaw.json", &|r| {
            std::fs::write(r.join("openclaw.json"), "{}\n").unwrap()
        }),
        ("clawdbot.json", &|r| {
            std::fs::write(r.join("clawdbot.json"), "{}\n").unwrap()
        }),
        ("agents/<id>/agent/", &|r| {
            std::fs::create_dir_all(r.join("agents/work/agent")).unwrap()
        }),
        (".env with the key", &|r| {
            std::fs::write(r.join(".env"), format!("GATEROUTER_API_KEY={KEY}\n")).unwrap()
        }),
    ];
    for (i, (what, seed)) in seeds.iter().enumerate() {
        let r = tmp.path().join(format!("r{i}"));
        std::fs::create_dir(&r).unwrap();
        seed(&r);
        let out = run(
            tmp.path(),
            &["--offline", "--dry-run", KEY, r.to_str().unwrap()],
        );
        assert_eq!(out.status.code(), Some(0), "{what}: {}", text(&out.stderr));
    }
    // A source checkout's `agents/` folder (no `agents/<id>/agent/`) is not OpenClaw's.
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join("agents/planner")).unwrap();
    std::fs::write(repo.join("agents/planner/main.py"), "x\n").unwrap();
    let before = snapshot(&repo);
    let out = run(
        tmp.path(),
        &["--offline", "--yes", KEY, repo.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(snapshot(&repo), before);
}

#[test]
fn a_missing_default_root_points_to_openclaw_onboard() {
    let tmp = tempfile::tempdir().unwrap();
    for env in [None, Some(tmp.path().join("state"))] {
        let mut c = cmd(tmp.path());
        if let Some(s) = &env {
            c.env("OPENCLAW_STATE_DIR", s);
        }
        let out = c
            .args(["--offline", "--yes", "--init", KEY])
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("openclaw onboard"), "{err}");
        assert!(err.contains("no OpenClaw state directory"), "{err}");
    }
    // The other commands, on a default root that is not there.
    for sub in ["doctor", "verify", "rollback", "uninstall"] {
        let out = run(tmp.path(), &[sub]);
        let all = text(&out.stdout) + &text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{sub}: {all}");
        assert!(all.contains("openclaw onboard"), "{sub}: {all}");
    }
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn agent_must_be_one_the_root_has() {
    let (tmp, root) = root_from("two-agents");
    let before = snapshot(&root);
    for cmdline in [
        vec!["--offline", "--yes", "--agent", "nosuch", KEY],
        vec!["doctor", "--agent", "nosuch"],
        vec!["verify", "--agent", "nosuch"],
    ] {
        let out = cmd(tmp.path()).args(&cmdline).arg(&root).output().unwrap();
        let all = text(&out.stdout) + &text(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{cmdline:?}: {all}");
        assert!(all.contains("--agent nosuch"), "{cmdline:?}: {all}");
        assert!(all.contains("main, work"), "{cmdline:?}: {all}");
    }
    assert_eq!(snapshot(&root), before, "no agent may be created");
    for id in ["work", "main"] {
        let out = run(
            tmp.path(),
            &[
                "--offline",
                "--yes",
                "--agent",
                id,
                KEY,
                root.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{id}: {}", text(&out.stderr));
    }
    // A fresh root has OpenClaw's default agent only, declared nowhere: it runs on the
    // default model, so `--agent main` (one agent only) has no model of its own to set and
    // says so, writing nothing; without --agent the default is set.
    let (tmp, root) = root_from("fresh");
    let before = snapshot(&root);
    let out = run(
        tmp.path(),
        &[
            "--offline",
            "--yes",
            "--init",
            "--agent",
            "main",
            KEY,
            root.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("run without --agent"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(snapshot(&root), before);
}

/// The advice after a failed check: `--offline` only where GateRouter is down, never where
/// it would write the rejected key or the wrong URL; a 404 hint that fits the URL given.
#[test]
fn advice_after_a_failed_check_does_not_make_it_worse() {
    use crate::common::stand_in::{Reply, StandIn};
    let s = StandIn::healthy(KEY);
    let auto_off = StandIn::start(|r| {
        if r.path.ends_with("/chat/completions") {
            Reply::error(400, "auto routing is not enabled for this account")
        } else {
            crate::common::stand_in::healthy_reply(r, KEY)
        }
    });
    let other_key = "sk-or-v1-some-other-key-000000000000";
    let cases: Vec<(Vec<String>, &str, &str)> = vec![
        (
            vec!["--base-url".into(), s.base_url(), other_key.into()],
            "rejected the API key",
            "",
        ),
        (
            vec![
                "--base-url".into(),
                format!("{}/v1", s.root_url()),
                KEY.into(),
            ],
            "must end in /openai/v1",
            "",
        ),
        (
            vec![
                "--base-url".into(),
                format!("{}/gr/openai/v1", s.root_url()),
                KEY.into(),
            ],
            "has the right path",
            "must end in",
        ),
        (
            vec![
                "--base-url".into(),
                auto_off.base_url(),
                "--require-auto".into(),
                KEY.into(),
            ],
            "auto routing is not enabled",
            "",
        ),
    ];
    for (args, says, not) in cases {
        let (tmp, root) = root_from("onboarded");
        let out = cmd(tmp.path())
            .arg("--yes")
            .args(&args)
            .arg(&root)
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("--offline"), "{args:?}: {err}");
        assert!(not.is_empty() || !err.contains(not), "{args:?}: {err}");
    }
    // A pasted endpoint URL is refused before any request.
    let (tmp, root) = root_from("onboarded");
    let endpoint = format!("{}/chat/completions", s.base_url());
    let out = cmd(tmp.path())
        .args(["--yes", "--base-url", &endpoint, KEY])
        .arg(&root)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("--base-url {}", s.base_url())),
        "{err}"
    );
    // Unreachable: there --offline is worth saying, with its condition.
    let out = cmd(tmp.path())
        .args(["--yes", "--timeout", "2", "--base-url", NO_NETWORK, KEY])
        .arg(&root)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("sure of the key and the base URL"), "{err}");
}

/// `--check` with no key given and none in `.env`: the root is not configured, exit 2 as
/// the README and docs/ci.md say (a drift check then runs setup with the key); without
/// `--check` it stays an input error.
#[test]
fn check_with_no_key_anywhere_is_not_configured() {
    let (tmp, root) = root_from("onboarded");
    let before = snapshot(&root);
    for extra in [&["--offline"][..], &["--base-url", NO_NETWORK][..]] {
        let out = cmd(tmp.path())
            .arg("--check")
            .args(extra)
            .arg(&root)
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains("not configured"), "{err}");
        let out = cmd(tmp.path())
            .args(["--check", "--json"])
            .args(extra)
            .arg(&root)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["exit_code"], 2, "{v:#}");
        assert_eq!(out.status.code(), Some(2));
    }
    // Many roots: each unconfigured root is 2 as well, so the fleet's code is 2, not 1.
    let second = tmp.path().join("second");
    crate::common::copy_tree(&root, &second);
    let out = cmd(tmp.path())
        .args(["--check", "--offline", "--json", "--root"])
        .arg(&root)
        .arg("--root")
        .arg(&second)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(2), "{v:#}");
    for r in v["roots"].as_array().unwrap() {
        assert_eq!(r["exit_code"], 2, "{v:#}");
    }
    let out = run(
        tmp.path(),
        &["--offline", "--dry-run", root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(snapshot(&root), before);
}
