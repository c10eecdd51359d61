//! Several roots in one run, rendered: the run itself is [`crate::ops::setup`] (one probe, a plan
//! and a result per root); here is the many-roots text and JSON report.

use std::path::PathBuf;

use super::setup::{Term, View, request, root_error};
use super::*;
use crate::ops::setup::{self, Target};

/// Several roots in one run: one probe for all, a plan and a result per root; a root that
/// fails is reported and the others go on (unless --fail-fast).
pub(super) fn run_many(cli: &Cli, env: &Env, roots: &[PathBuf], secrets: &Redactor) -> i32 {
    let mode = cli.mode();
    let targets = roots
        .iter()
        .map(|dir| Target {
            dir: dir.clone(),
            config: None,
        })
        .collect();
    let (req, env) = match request(cli, env, targets, secrets) {
        Ok(r) => r,
        Err(e) => return fail(cli.json, mode, None, None, None, &e, &[]),
    };
    if roots.is_empty() {
        let e = Error::Usage("no OpenClaw roots given (the --roots-from file lists none)".into());
        return fail(cli.json, mode, None, None, None, &e, &[]);
    }
    let view = View::setup(cli, true);
    let run = setup::run(req, &env, &mut Term::new(&view));
    // The probe is not made when no root is left to set up; the report still says why.
    let probe = run.probe.clone().unwrap_or_else(|| ProbeOutcome::Skipped {
        reason: if cli.offline {
            "--offline"
        } else {
            "no root left to set up"
        }
        .into(),
    });
    if let Some(e) = &run.stopped {
        return fail(cli.json, mode, None, Some(&probe), None, e, &run.warnings);
    }
    let code = run.exit_code();
    if cli.quiet && !cli.json {
        for r in &run.roots {
            root_error(r);
        }
    }
    if let Some(e @ (Error::NotInteractive | Error::Unreviewed { .. })) = &run.refused
        && !cli.json
    {
        crate::output::error(&e.to_string());
    }

    if cli.json {
        let per_root: Vec<serde_json::Value> = run
            .roots
            .iter()
            .map(|r| {
                let mut v = report::value(&Outcome {
                    mode,
                    root: Some(&r.target.dir),
                    probe: None,
                    plan: r.plan.as_ref(),
                    applied: r.applied.as_ref(),
                    error: r.error.as_ref(),
                    warnings: &[],
                    exit_code: r.exit_code,
                    kind: run.kind,
                });
                if let Some(verified) = &r.verify {
                    v["verify"] = super::verify::after_setup_json(verified);
                }
                if run.kind == "setup" {
                    v["configured"] = super::setup::configured_json(r);
                }
                if let Some(g) = &r.gateway {
                    v["gateway"] = g.value(r.restarted.as_ref(), r.applied.is_some());
                }
                v
            })
            .collect();
        let doc = serde_json::json!({
            "version": report::REPORT_VERSION,
            "tool_version": env!("CARGO_PKG_VERSION"),
            "mode": mode,
            "probe": probe,
            "roots": per_root,
            "changed": run.changed_roots(),
            "failed": run.failed_roots(),
            "warnings": run.warnings,
            "run_as": run_as_json(),
            "exit_code": code,
        });
        crate::output::json(&doc);
    } else if !cli.quiet {
        // A root that failed after the review (its apply: a backup directory that is a link,
        // a file changed since planning) has had no word yet; the others were shown with their
        // plan or error in the review.
        for r in run.roots.iter().filter(|r| r.plan.is_some()) {
            root_error(r);
        }
        let applied = run.roots.iter().filter(|r| r.applied.is_some()).count();
        crate::outln!(
            "{} roots: {} already configured, {} {}, {} failed.",
            run.roots.len(),
            run.roots
                .iter()
                .filter(|r| r.plan.as_ref().is_some_and(Plan::is_empty))
                .count(),
            if run.applying {
                applied
            } else {
                run.changed_roots()
            },
            if run.applying {
                "written"
            } else {
                "with changes pending"
            },
            run.failed_roots()
        );
    }
    for r in &run.roots {
        if let (Some(g), Some(_), false) = (&r.gateway, &r.applied, cli.json || cli.quiet) {
            for line in g.after(r.restarted.as_ref()) {
                crate::outln!("{}: {line}", r.target.dir.display());
            }
        }
        if let Some(v) = &r.verify {
            super::verify::show_after_setup(v, cli.json || cli.quiet);
        }
    }
    code
}
