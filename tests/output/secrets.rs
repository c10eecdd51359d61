//! The key is a secret everywhere: every command and mode is run with a sentinel key, and
//! the whole key must appear in no stdout, stderr, JSON report, diff or backup file name.
//! CI never needs it on a command line (environment or stdin work for every mode).

use crate::common::stand_in::{Reply, StandIn, healthy_reply};
use crate::common::*;

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

/// The user's own credentials in the files setup edits: inside URLs (a Slack webhook's
/// path, userinfo, a query token) and under names of the whole family, plural included.
/// None of them may show in the text diff (`-v`: every line), the `--json` report's
/// `before`/`after`/`diff` (what the Ansible module's `--diff` renders), or a doctor run.
#[test]
fn the_users_other_credentials_show_nowhere() {
    let (tmp, root) = root_from("onboarded");
    let config = root.join("openclaw.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    // Each secret is one no mask of ours leaves a piece of 8 characters of.
    let secrets = [
        "WEBHOOKPATH7Qx2Lm9Zr4Kd",
        "Hunter2Password8",
        "QUERYTOKEN3Vb7Nc1Xz5",
        "SESSIONTOK-Aa11Bb22Cc33",
        "SESSIONTOK-Dd44Ee55Ff66",
        "PASSWORDS-Gg77Hh88Ii99",
        "NESTEDSECRET-Jj00Kk11",
        "APIKEYSVAL-Ll22Mm33Nn44",
        "SIGNATURE5Op6Qr7St8Uv9",
    ];
    v["channels"] = serde_json::json!({
        "slack": {
            "webhookUrl": format!("https://hooks.example/services/T0123ABCD/B0456EFGH/{}", secrets[0]),
            "botUrl": format!("https://bot:{}@example.com/x?token={}&x=1", secrets[1], secrets[2]),
            "linkUrl": format!("https://s3.example/o?X-Amz-Expires=60&X-Amz-Signature={}", secrets[8]),
        }
    });
    v["sessionTokens"] = serde_json::json!([secrets[3], secrets[4]]);
    v["gateway"]["auth"] =
        serde_json::json!({"passwords": [secrets[5]], "secrets": {"a": secrets[6]}});
    v["plugins"] = serde_json::json!({"x": {"apiKeys": [secrets[7]], "maxTokens": 8192}});
    std::fs::write(&config, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let r = root.to_str().unwrap();
    let runs: [&[&str]; 3] = [
        &["--offline", "--dry-run", "-v", SENTINEL, r],
        &["--offline", "--dry-run", "--json", SENTINEL, r],
        &["doctor", "--json", r],
    ];
    for args in runs {
        let out = cmd(tmp.path()).args(args).output().unwrap();
        clean(&out, &args.join(" "));
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        for s in secrets {
            for piece in s.as_bytes().windows(8) {
                let piece = std::str::from_utf8(piece).unwrap();
                assert!(
                    !all.contains(piece),
                    "{args:?}: {piece} of {s} shows:\n{all}"
                );
            }
        }
        if args.contains(&"--json") && args[0] != "doctor" {
            let rep: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let after = rep["files"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["path"].as_str().unwrap().ends_with("openclaw.json"))
                .map(|f| f["after"].as_str().unwrap().to_owned())
                .unwrap();
            // The URLs still say where they point; a count is not a credential.
            assert!(
                after.contains("https://hooks.example/services/T0123ABCD/B0456EFGH/…"),
                "{after}"
            );
            assert!(after.contains("\"maxTokens\": 8192"), "{after}");
        }
    }
}
