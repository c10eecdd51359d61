//! Crash safety with real processes: gaterouter-setup is SIGKILLed at every filesystem step
//! of an apply. Afterwards each file is exactly its old or its new content (never torn),
//! doctor explains a half-configured root, and running setup again finishes the job.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::common::*;
use gaterouter_setup::txn::apply::{self, ApplyOptions, PAUSE_ENV};

const CASE: &str = "two-agents";

/// The files setup writes, with their contents before and after (from the golden output).
fn old_and_new() -> BTreeMap<String, (Option<Vec<u8>>, Vec<u8>)> {
    let input = fixtures().join(CASE).join("input");
    let expected = fixtures().join(CASE).join("expected");
    let mut out = BTreeMap::new();
    for (rel, e) in snapshot(&expected) {
        if let Entry::File { bytes, .. } = e {
            out.insert(rel.clone(), (std::fs::read(input.join(&rel)).ok(), bytes));
        }
    }
    out
}

fn total_steps() -> usize {
    let (_tmp, root) = root_from(CASE);
    let r = gaterouter_setup::openclaw::root::discover(&root, None, None).unwrap();
    let key = gaterouter_setup::plan::KeyChoice::Set(
        gaterouter_setup::gaterouter::key::ApiKey::parse(KEY).unwrap(),
    );
    let plan = gaterouter_setup::plan::plan(
        &r,
        &key,
        &gaterouter_setup::gaterouter::templates::Settings::builtin().unwrap(),
    )
    .unwrap();
    let opts = ApplyOptions::default();
    apply::apply_with(&plan, &Default::default(), &opts).unwrap();
    opts.faults.steps()
}

/// `setup --yes --json` on `root`, paused at apply step `n` for `secs` (announced on stderr,
/// which is read up to that line; the rest of it is the reader's).
fn paused_at(
    n: usize,
    secs: u64,
    home: &std::path::Path,
    root: &std::path::Path,
) -> (std::process::Child, BufReader<std::process::ChildStderr>) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("gaterouter-setup"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env(PAUSE_ENV, n.to_string())
        .env(apply::PAUSE_SECS_ENV, secs.to_string())
        .args(["--offline", "--yes", "--json", KEY])
        .arg(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Warnings (e.g. a fallback left out) may come first: wait for the pause line.
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while err.read_line(&mut line).unwrap() > 0 && !line.contains("test pause at step") {
        line.clear();
    }
    assert!(
        line.contains(&format!("test pause at step {n}")),
        "step {n}: {line}"
    );
    (child, err)
}

#[test]
fn sigkill_at_every_step_never_tears_a_file() {
    let files = old_and_new();
    let total = total_steps();
    assert!(total >= 30, "expected dozens of steps, got {total}");
    let mut mixed_seen = 0;
    for n in 1..=total {
        let (tmp, root) = root_from(CASE);
        let (mut child, _err) = paused_at(n, 600, tmp.path(), &root);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let mut new = 0;
        for (rel, (old, fresh)) in &files {
            let now = std::fs::read(root.join(rel)).ok();
            if now.as_deref() == Some(fresh.as_slice()) {
                new += 1;
            } else {
                assert_eq!(
                    &now, old,
                    "step {n}: {rel} is neither its old nor its new content"
                );
            }
        }
        let doctor = cmd(tmp.path())
            .args(["doctor"])
            .arg(&root)
            .output()
            .unwrap();
        let report = text(&doctor.stdout);
        let is_new = |rel: &str| {
            files.get(rel).is_some_and(|(_, fresh)| {
                std::fs::read(root.join(rel)).ok().as_ref() == Some(fresh)
            })
        };
        if new > 0 && new < files.len() {
            mixed_seen += 1;
            if is_new(".env") && is_new("openclaw.json") {
                // What OpenClaw needs is written (the key, openclaw.json's entry): it works,
                // and doctor names each agent's models.json still without our copy.
                assert_eq!(doctor.status.code(), Some(0), "step {n}: {report}");
                for (rel, _) in files.iter().filter(|(r, _)| r.ends_with("models.json")) {
                    if !is_new(rel) {
                        assert!(
                            report
                                .lines()
                                .any(|l| l.contains("warn") && l.contains(rel.as_str())),
                            "step {n}: doctor did not name {rel}:\n{report}"
                        );
                    }
                }
            } else {
                assert_eq!(doctor.status.code(), Some(1), "step {n}: {report}");
                assert!(
                    report.contains("half configured"),
                    "step {n}: doctor did not explain the mixed state:\n{report}"
                );
            }
        } else if new == files.len() {
            assert_eq!(doctor.status.code(), Some(0), "step {n}: {report}");
        }

        // Running again finishes the job and leaves no temp file behind.
        let again = cmd(tmp.path())
            .args(["--offline", "--yes", KEY])
            .arg(&root)
            .output()
            .unwrap();
        assert_eq!(
            again.status.code(),
            Some(0),
            "step {n}: {}",
            text(&again.stderr)
        );
        for (rel, (_, fresh)) in &files {
            assert_eq!(
                &std::fs::read(root.join(rel)).unwrap(),
                fresh,
                "step {n}: {rel} after re-run"
            );
        }
        let litter: Vec<String> = snapshot(&root)
            .into_keys()
            .filter(|k| k.contains(".gaterouter-tmp-"))
            .collect();
        assert!(
            litter.is_empty(),
            "step {n}: temp files left after the re-run: {litter:?}"
        );
    }
    assert!(
        mixed_seen > 0,
        "no kill point left a mixed state, so doctor's explanation went untested"
    );
}

/// Ctrl-C, SIGTERM or SIGHUP while files are being replaced wait for the transaction: the
/// report comes, then the process dies of the signal, with every file new (never the mix a
/// SIGKILL can leave) and no lock left.
/// Sent at several steps spread over the apply, each signal each time.
#[test]
fn a_signal_during_apply_waits_for_the_transaction() {
    use std::os::unix::process::ExitStatusExt;
    let files = old_and_new();
    let total = total_steps();
    for n in [2, total / 3, total / 2, total - 1] {
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            let (tmp, root) = root_from(CASE);
            let (mut child, mut err) = paused_at(n, 1, tmp.path(), &root);
            // SAFETY: signalling our own child.
            unsafe { libc::kill(child.id() as libc::pid_t, sig) };
            let mut stdout = String::new();
            std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
            let mut rest = String::new();
            std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
            let status = child.wait().unwrap();
            assert_eq!(status.signal(), Some(sig), "step {n}: {status:?} {rest}");
            // The report of what was written still comes, the signal is named, and the
            // lock is released and removed as after any run.
            let v: serde_json::Value = serde_json::from_str(&stdout)
                .unwrap_or_else(|e| panic!("step {n}: {e}: {stdout} {rest}"));
            assert_eq!(v["applied"], true, "{v:#}");
            assert!(
                rest.contains("came while files were being written"),
                "{rest}"
            );
            assert!(
                !root.join(".gaterouter.lock").exists(),
                "step {n}: lock left"
            );
            for (rel, (_, fresh)) in &files {
                assert_eq!(
                    &std::fs::read(root.join(rel)).unwrap(),
                    fresh,
                    "step {n}, signal {sig}: {rel} is not its new content"
                );
            }
        }
    }
}
