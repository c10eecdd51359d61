//! Several roots in one run, rendered: the run itself is [`crate::ops::setup`] (one probe, a plan
//! and a result per root); here is the many-roots text and JSON report.

use std::path::PathBuf;

use super::setup::{Term, View, request, root_error, root_json};
use super::*;
use crate::ops::setup::{self, RunReport, Target};

/// Several roots in one run: one probe for all, a plan and a result per root; a root that
/// fails is reported and the others go on (unless --fail-fast).
pub(super) fn run_many(cli: &Cli, env: &Env, roots: &[PathBuf], sink: &Sink) -> i32 {
    let mode = cli.mode();
    let targets = roots
        .iter()
        .map(|dir| Target {
            dir: dir.clone(),
            config: None,
        })
        .collect();
    let (req, env) = match request(cli, env, targets, sink.secrets()) {
        Ok(r) => r,
        Err(e) => return fail(sink, cli.json, mode, None, &e),
    };
    if roots.is_empty() {
        let e = Error::Usage("no OpenClaw roots given (the --roots-from file lists none)".into());
        return fail(sink, cli.json, mode, None, &e);
    }
    let view = View::setup(cli, true, sink);
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
        let outcome = Outcome {
            probe: Some(&probe),
            warnings: &run.warnings,
            ..failed(mode, None, e)
        };
        return fail_with(sink, cli.json, outcome, e);
    }
    if cli.quiet && !cli.json {
        for r in &run.roots {
            root_error(sink, r);
        }
    }
    if let Some(e @ (Error::NotInteractive | Error::Unreviewed { .. })) = &run.refused
        && !cli.json
    {
        sink.error(&e.to_string());
    }
    if cli.json {
        sink.json(&many_json(&run, &probe));
    } else if !cli.quiet {
        show_tally(sink, &run);
    }
    for r in &run.roots {
        if let (Some(g), Some(_), false) = (&r.gateway, &r.applied, cli.json || cli.quiet) {
            for line in g.after(r.restarted.as_ref()) {
                outln!(sink, "{}: {line}", r.target.dir.display());
            }
        }
        if let Some(v) = &r.verify {
            super::verify::show_after_setup(sink, v, cli.json || cli.quiet);
        }
    }
    run.exit_code()
}

/// The many-roots JSON report: the one probe, an entry per root, the tallies.
fn many_json(run: &RunReport, probe: &ProbeOutcome) -> serde_json::Value {
    let per_root: Vec<serde_json::Value> = run
        .roots
        .iter()
        .map(|r| root_json(run, r, None, &[]))
        .collect();
    serde_json::json!({
        "version": report::REPORT_VERSION,
        "tool_version": env!("CARGO_PKG_VERSION"),
        "mode": run.mode,
        "probe": probe,
        "roots": per_root,
        "changed": run.changed_roots(),
        "failed": run.failed_roots(),
        "warnings": run.warnings,
        "run_as": run_as_json(),
        "exit_code": run.exit_code(),
    })
}

/// The closing text: the error of a root that failed after the review (its apply: a backup
/// directory that is a link, a file changed since planning; the others were shown with their
/// plan or error in the review), then one line of tallies.
fn show_tally(sink: &Sink, run: &RunReport) {
    for r in run.roots.iter().filter(|r| r.plan.is_some()) {
        root_error(sink, r);
    }
    let count = |f: &dyn Fn(&setup::RootRun) -> bool| run.roots.iter().filter(|r| f(r)).count();
    let done = count(&|r| r.plan.as_ref().is_some_and(Plan::is_empty));
    let (changed, verb) = if run.applying {
        (count(&|r| r.applied.is_some()), "written")
    } else {
        (run.changed_roots(), "with changes pending")
    };
    outln!(
        sink,
        "{} roots: {done} already configured, {changed} {verb}, {} failed.",
        run.roots.len(),
        run.failed_roots()
    );
}
