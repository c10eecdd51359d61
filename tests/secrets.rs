//! The key is a secret everywhere: every command and mode is run with a sentinel key, and
//! the whole key must appear in no stdout, stderr, JSON report, diff or backup file name.
//! CI never needs it on a command line (environment or stdin work for every mode).

mod common;

use common::stand_in::{Reply, StandIn, healthy_reply};
use common::*;

const SENTINEL: &str = "sk-or-v1-SENTINEL-7f3a9c2e5b1d4086";

fn clean(out: &std::process::Output, what: &str) {
    for (name, s) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !text(s).contains(SENTINEL),
            "{what}: the key leaked into {name}:\n{}",
            text(s)
        );
    }
}

fn names_clean(root: &std::path::Path) {
    for (rel, _) in snapshot(root) {
        assert!(
            !rel.contains(SENTINEL),
            "a file name carries the key: {rel}"
        );
    }
}

/// (what, arguments, an environment variable, standard input)
type Run<'a> = (
    &'a str,
    Vec<String>,
    Option<(&'a str, &'a str)>,
    Option<String>,
);

#[test]
fn no_mode_of_setup_prints_the_key() {
    let server = StandIn::healthy(SENTINEL);
    let disabled = StandIn::start(|r| {
        if r.method == "POST" {
            Reply::error(400, "auto routing is not enabled")
        } else {
            healthy_reply(r, SENTINEL)
        }
    });
    let rejecting = StandIn::healthy("sk-or-v1-another-key-0000000000000");
    let (tmp, root) = root_from("crlf-env");
    let r = root.to_str().unwrap();
    // An old key in .env gets replaced: it must not show either.
    let old = "sk-or-v1-old-key-000000000000000000";
    let runs: Vec<Run> = vec![
        (
            "no --yes",
            vec!["--offline".into(), SENTINEL.into(), r.into()],
            None,
            None,
        ),
        (
            "dry-run",
            vec![
                "--offline".into(),
                "--dry-run".into(),
                SENTINEL.into(),
                r.into(),
            ],
            None,
            None,
        ),
        (
            "check",
            vec![
                "--offline".into(),
                "--check".into(),
                SENTINEL.into(),
                r.into(),
            ],
            None,
            None,
        ),
        (
            "json dry-run",
            vec![
                "--offline".into(),
                "--json".into(),
                "--dry-run".into(),
                SENTINEL.into(),
                r.into(),
            ],
            None,
            None,
        ),
        (
            "json via env",
            vec![
                "--offline".into(),
                "--json".into(),
                "--check".into(),
                r.into(),
            ],
            Some(("GATEROUTER_API_KEY", SENTINEL)),
            None,
        ),
        (
            "stdin",
            vec![
                "--offline".into(),
                "--check".into(),
                "--api-key-stdin".into(),
                r.into(),
            ],
            None,
            Some(format!("{SENTINEL}\n")),
        ),
        (
            "probe ok",
            vec![
                "--dry-run".into(),
                "--base-url".into(),
                server.base_url(),
                SENTINEL.into(),
                r.into(),
            ],
            None,
            None,
        ),
        (
            "probe auto off",
            vec![
                "--dry-run".into(),
                "--json".into(),
                "--base-url".into(),
                disabled.base_url(),
                SENTINEL.into(),
                r.into(),
            ],
            None,
            None,
        ),
        (
            "probe rejected",
            vec![
                "--yes".into(),
                "--json".into(),
                "--base-url".into(),
                rejecting.base_url(),
                SENTINEL.into(),
                r.into(),
            ],
            None,
            None,
        ),
        (
            "probe subcommand",
            vec![
                "probe".into(),
                "--json".into(),
                "--base-url".into(),
                server.base_url(),
                SENTINEL.into(),
            ],
            None,
            None,
        ),
        (
            "probe subcommand rejected",
            vec![
                "probe".into(),
                "--base-url".into(),
                rejecting.base_url(),
                SENTINEL.into(),
            ],
            None,
            None,
        ),
        (
            "apply",
            vec![
                "--offline".into(),
                "--yes".into(),
                "--json".into(),
                SENTINEL.into(),
                r.into(),
            ],
            None,
            None,
        ),
        (
            "second run",
            vec![
                "--offline".into(),
                "--yes".into(),
                SENTINEL.into(),
                r.into(),
            ],
            None,
            None,
        ),
        (
            "rollback dry-run",
            vec!["rollback".into(), "--dry-run".into(), r.into()],
            None,
            None,
        ),
        (
            "rollback json",
            vec!["rollback".into(), "--yes".into(), "--json".into(), r.into()],
            None,
            None,
        ),
        (
            "rollback list",
            vec!["rollback".into(), "--list".into(), r.into()],
            None,
            None,
        ),
        (
            "bad key",
            vec![
                "--offline".into(),
                "--yes".into(),
                format!("{SENTINEL} x"),
                r.into(),
            ],
            None,
            None,
        ),
    ];
    for (what, args, env, stdin) in runs {
        let mut c = cmd(tmp.path());
        c.args(&args);
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        if let Some(s) = stdin {
            c.write_stdin(s);
        }
        let out = c.output().unwrap();
        clean(&out, what);
        assert!(
            !text(&out.stdout).contains(old) && !text(&out.stderr).contains(old),
            "{what}: the replaced key leaked"
        );
        // Each run did something real (no silent no-op): it printed a result.
        assert!(
            !out.stdout.is_empty() || !out.stderr.is_empty(),
            "{what}: printed nothing"
        );
    }
    names_clean(&root);
    // The backups that hold the key are private.
    use std::os::unix::fs::PermissionsExt;
    for (rel, e) in snapshot(&root) {
        if rel.ends_with(".env")
            && let Entry::File { mode, .. } = e
        {
            assert_eq!(mode & 0o077, 0, "{rel} is readable by others ({mode:o})");
        }
    }
    let _ = std::fs::Permissions::from_mode(0o600);
}

#[test]
fn a_broken_config_error_does_not_print_the_key() {
    let (tmp, root) = root_from("broken-json");
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", "--json", SENTINEL])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    clean(&out, "broken config");
}
