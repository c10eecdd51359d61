//! Several roots in one run: one probe, a plan and a result per root.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::setup::{apply_probe, probe_with_feedback};
use super::*;

/// The worst of two exit codes: apply failed > probe failed > input error > pending > ok.
fn worst(a: i32, b: i32) -> i32 {
    let rank = |c: i32| match c {
        exit::APPLY => 4,
        exit::PROBE => 3,
        exit::INPUT => 2,
        exit::PENDING => 1,
        _ => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// One root's part in a many-roots run.
struct RootRun {
    dir: PathBuf,
    plan: Option<Plan>,
    error: Option<Error>,
    applied: Option<Applied>,
}

/// Several roots in one run: one probe for all, a plan and a result per root; a root that
/// fails is reported and the others go on (unless --fail-fast).
pub(super) fn run_many(cli: &Cli, env: &Env, roots: &[PathBuf]) -> i32 {
    let mode = cli.mode();
    let mut secrets = Vec::new();
    let (key_arg, _) = positionals(cli);
    let Inputs {
        key,
        mut settings,
        probe: cfg,
        mut warnings,
    } = match inputs(cli, env, key_arg, &mut secrets) {
        Ok(i) => i,
        Err(e) => return fail(cli.json, mode, None, None, None, &e, &[], &secrets),
    };
    if roots.is_empty() {
        let e = Error::Usage("no OpenClaw roots given (the --roots-from file lists none)".into());
        return fail(cli.json, mode, None, None, None, &e, &[], &secrets);
    }

    // Input errors first, per root, before anything touches the network.
    let mut runs: Vec<RootRun> = Vec::new();
    let mut found: Vec<Option<root::Root>> = Vec::new();
    for dir in roots {
        let r = root::discover(dir, None, cli.agent.as_deref())
            .and_then(|r| plan::plan(&r, &key, &settings).map(|_| r));
        let failed = r.is_err();
        match r {
            Ok(r) => {
                found.push(Some(r));
                runs.push(RootRun {
                    dir: dir.clone(),
                    plan: None,
                    error: None,
                    applied: None,
                });
            }
            Err(e) => {
                found.push(None);
                runs.push(RootRun {
                    dir: dir.clone(),
                    plan: None,
                    error: Some(e),
                    applied: None,
                });
            }
        }
        if failed && cli.fail_fast {
            break;
        }
    }

    let probe = if cli.offline {
        ProbeOutcome::Skipped {
            reason: "--offline".into(),
        }
    } else {
        let probe_key = match &key {
            KeyChoice::Set(k) => Some(k.clone()),
            KeyChoice::KeepExisting => found
                .iter()
                .flatten()
                .find_map(|r| plan::effective_key(r, &key).ok()),
        };
        match probe_key {
            Some(k) => {
                secrets.push(k.expose().to_owned());
                ProbeOutcome::Done(probe_with_feedback(cli, &k, &cfg))
            }
            None => ProbeOutcome::Skipped {
                reason: "no API key to probe with".into(),
            },
        }
    };
    if let Some(report) = probe.report() {
        let stopped = |e: Error, warnings: &[String]| {
            fail(
                cli.json,
                mode,
                None,
                Some(&probe),
                None,
                &e,
                warnings,
                &secrets,
            )
        };
        if let Some(f) = &report.blocking {
            let message = f.message.clone();
            return stopped(Error::Probe { message }, &warnings);
        }
        warnings.extend(report.warnings.iter().cloned());
        if let Err(e) = apply_probe(cli, report, &mut settings, &mut warnings) {
            return stopped(e, &warnings);
        }
    }

    // Plan every root that is still in the running, side by side.
    let jobs: Vec<(usize, &root::Root)> = found
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().map(|r| (i, r)))
        .collect();
    let plans = crate::par::map(
        &jobs,
        |_| 16 * 1024,
        |(_, r)| plan::plan(r, &key, &settings),
    );
    for ((i, _), p) in jobs.iter().zip(plans) {
        match p {
            Ok(p) => runs[*i].plan = Some(p),
            Err(e) => runs[*i].error = Some(e),
        }
    }

    let color = use_color(cli.color, crate::output::stdout_is_terminal());
    if !cli.json && !cli.quiet {
        for w in &warnings {
            crate::output::warning(w);
        }
        for r in &runs {
            match (&r.plan, &r.error) {
                (Some(p), _) => {
                    crate::output::out(&report::summary(p, Some(&probe)));
                    if !p.is_empty() {
                        print_diff(&diff::render_review(p, color, cli.verbose), color);
                    }
                }
                (None, Some(e)) => {
                    let all: Vec<&str> = secrets.iter().map(String::as_str).collect();
                    crate::output::error(&format!(
                        "{}: {}",
                        r.dir.display(),
                        key::redact_all(&e.to_string(), &all)
                    ));
                }
                (None, None) => {}
            }
        }
    }
    let pending: usize = runs
        .iter()
        .filter_map(|r| r.plan.as_ref())
        .map(|p| p.pending().count())
        .sum();
    let changed_roots = runs
        .iter()
        .filter(|r| r.plan.as_ref().is_some_and(|p| !p.is_empty()))
        .count();

    // --fail-fast: one bad root stops the whole run before anything is written.
    let stop = cli.fail_fast && runs.iter().any(|r| r.error.is_some());
    let mut may_apply = mode == Mode::Apply && pending > 0 && !stop;
    let mut refused = None;
    if may_apply && !cli.yes {
        if cli.api_key_stdin || !std::io::stdin().is_terminal() {
            refused = Some(Error::NotInteractive);
            may_apply = false;
        } else if let Some(e) = super::setup::unreviewed(cli.json, cli.quiet) {
            crate::output::error(&e.to_string());
            refused = Some(e);
            may_apply = false;
        } else {
            crate::output::settle_stdout();
            let _interrupt = crate::output::interruptible(crate::output::Interruptible::Prompt);
            if !confirm(&format!(
                "Apply these changes to {} in {changed_roots} roots?",
                files(pending)
            )) {
                crate::errln!("Cancelled: nothing was written.");
                refused = Some(Error::Usage("cancelled".into()));
                may_apply = false;
            }
        }
    }
    if may_apply {
        // Each root is its own transaction with its own lock, so they can go side by side:
        // most of the time is the disk syncing, which overlaps well.
        let todo: Vec<usize> = (0..runs.len())
            .filter(|&i| {
                runs[i].error.is_none() && runs[i].plan.as_ref().is_some_and(|p| !p.is_empty())
            })
            .collect();
        let results = crate::par::map(
            &todo,
            |_| 64 * 1024,
            |&i| {
                let opts = apply::ApplyOptions {
                    lock_timeout: std::time::Duration::from_secs(cli.lock_timeout),
                    kind: "setup",
                    faults: apply::Faults::from_env(),
                };
                apply::apply_with(runs[i].plan.as_ref().expect("filtered above"), env, &opts)
            },
        );
        for (i, r) in todo.into_iter().zip(results) {
            match r {
                Ok(a) => runs[i].applied = Some(a),
                Err(e) => runs[i].error = Some(e),
            }
        }
    }

    // Exit code: the worst over all roots.
    let mut code = exit::OK;
    let mut root_codes = Vec::new();
    for r in &runs {
        let c = match (&r.error, &r.plan) {
            (Some(e), _) => e.exit_code(),
            (None, Some(p)) if !p.is_empty() && r.applied.is_none() && mode == Mode::Check => {
                exit::PENDING
            }
            (None, Some(p)) if !p.is_empty() && r.applied.is_none() && mode == Mode::Apply => {
                refused.as_ref().map_or(exit::OK, Error::exit_code)
            }
            _ => exit::OK,
        };
        root_codes.push(c);
        code = worst(code, c);
    }
    if cli.quiet && !cli.json {
        let all: Vec<&str> = secrets.iter().map(String::as_str).collect();
        for r in &runs {
            if let Some(e) = &r.error {
                crate::output::error(&format!(
                    "{}: {}",
                    r.dir.display(),
                    key::redact_all(&e.to_string(), &all)
                ));
            }
        }
    }
    if let Some(e) = &refused
        && !cli.json
        && matches!(e, Error::NotInteractive)
    {
        crate::output::error(&e.to_string());
    }

    if cli.json {
        let per_root: Vec<serde_json::Value> = runs
            .iter()
            .zip(&root_codes)
            .map(|(r, c)| {
                report::value(&Outcome {
                    mode,
                    root: Some(&r.dir),
                    probe: None,
                    plan: r.plan.as_ref(),
                    applied: r.applied.as_ref(),
                    error: r.error.as_ref(),
                    warnings: &[],
                    exit_code: *c,
                    secrets: &secrets,
                })
            })
            .collect();
        let doc = serde_json::json!({
            "version": report::REPORT_VERSION,
            "tool_version": env!("CARGO_PKG_VERSION"),
            "mode": mode,
            "probe": probe,
            "roots": per_root,
            "changed": changed_roots,
            "failed": runs.iter().filter(|r| r.error.is_some()).count(),
            "warnings": warnings,
            "exit_code": code,
        });
        crate::output::json(&doc);
    } else if !cli.quiet {
        let failed = runs.iter().filter(|r| r.error.is_some()).count();
        let applied = runs.iter().filter(|r| r.applied.is_some()).count();
        crate::outln!(
            "{} roots: {} already configured, {} {}, {} failed.",
            runs.len(),
            runs.iter()
                .filter(|r| r.plan.as_ref().is_some_and(Plan::is_empty))
                .count(),
            if may_apply { applied } else { changed_roots },
            if may_apply {
                "written"
            } else {
                "with changes pending"
            },
            failed
        );
    }
    code
}
