//! The commands besides setup: probe, rollback, uninstall, doctor.

use super::setup::review_and_apply;
use super::*;
use crate::ops::doctor::{self, Check, Status};
use crate::redact::text::{Style, one_line, paint};

/// `gaterouter-setup rollback`: put back the newest backup set made by setup.
pub(super) fn run_rollback(a: &RollbackArgs, cx: &Ctx) -> i32 {
    let r = &a.review;
    // The backup set is the owner's to edit, so it is read and restored with the owner's
    // rights: a copy changed by the owner can only go where the owner could write anyway.
    cx.in_owned_root(a.root.as_deref(), r.json, r.mode(), |o| {
        let dir = &o.dir;
        if !dir.is_dir() {
            root::discover(dir, None, None)?;
        }
        if a.list {
            return Ok(list_backups(cx.sink, dir, r.json));
        }
        // A dry run writes nothing, so it may show what a rollback over edits would discard.
        let force = a.force || r.dry_run;
        let (set, mut plan) = rollback::prepare(dir, a.to.as_deref(), force)?;
        plan.check_openclaw_health();
        if !force {
            plan.refuse_openclaw_undo()?;
        }
        if !r.json && !cx.quiet {
            outln!(
                cx.sink,
                "Rolling back to the files saved in backup set {} ({})",
                set.stamp,
                set.dir.display()
            );
        }
        let said = [
            "Nothing to roll back: the files already match the backup.",
            "Restart the OpenClaw gateway (openclaw gateway restart) to pick up the restored configuration.",
        ];
        Ok(review_and_apply(r, RunKind::Rollback, &o, plan, said, cx))
    })
}

/// `gaterouter-setup uninstall`: remove what setup added, restoring the previous model.
pub(super) fn run_uninstall(a: &UninstallArgs, cx: &Ctx) -> i32 {
    let r = &a.review;
    cx.in_owned_root(a.root.as_deref(), r.json, r.mode(), |o| {
        let dir = &o.dir;
        let root = root::discover(dir, o.config.as_deref(), None)?;
        let (previous, added) = rollback::recorded(dir)?;
        let env_created = rollback::created_by_setup(dir, ".env");
        let mut plan = plan::plan_uninstall(&root, previous.as_ref(), &added, env_created)?;
        apply::check_writable(&plan)?;
        plan.check_openclaw_health();
        if !(a.force || r.dry_run) {
            plan.refuse_openclaw_undo()?;
        }
        let said = [
            "Nothing to uninstall: no GateRouter settings found.",
            "Restart the OpenClaw gateway (openclaw gateway restart) to pick up the change.",
        ];
        Ok(review_and_apply(r, RunKind::Uninstall, &o, plan, said, cx))
    })
}

/// `gaterouter-setup doctor`: read-only checks; exit 0 healthy, 1 problems.
pub(super) fn run_doctor(a: &DoctorArgs, color: bool, cx: &Ctx) -> i32 {
    let Ctx { quiet, sink, .. } = *cx;
    cx.in_owned_root(a.root.as_deref(), a.json, Mode::DryRun, |o| {
        let root = root::discover(&o.dir, o.config.as_deref(), a.agent.as_deref())?;
        let checks = doctor::run(&root, &o.env, sink.secrets());
        let problems = checks
            .iter()
            .filter(|c| c.status == Status::Problem)
            .count();
        let code = if problems == 0 { exit::OK } else { exit::INPUT };
        if a.json {
            sink.json(&serde_json::json!({
                "version": report::REPORT_VERSION,
                "root": o.dir,
                "healthy": problems == 0,
                "problems": problems,
                "checks": checks,
                "run_as": run_as_json(),
                "exit_code": code,
            }));
        } else {
            print_doctor(sink, &o.dir, &checks, problems, quiet, color);
        }
        Ok(code)
    })
}

/// Doctor's text: the root, a line per check (with its fix), and the verdict; `quiet`: the
/// problems only (a healthy root prints nothing).
fn print_doctor(
    sink: &Sink,
    dir: &Path,
    checks: &[Check],
    problems: usize,
    quiet: bool,
    color: bool,
) {
    if !quiet {
        outln!(sink, "OpenClaw root: {}", dir.display());
        if let Some(a) = crate::sys::privilege::current() {
            outln!(sink, "Note: {}.", a.sentence());
        }
    }
    for c in checks
        .iter()
        .filter(|c| !quiet || c.status == Status::Problem)
    {
        sink.styled_line(&doctor_line(c, color));
    }
    match problems {
        _ if quiet => {}
        0 => outln!(sink, "Healthy: OpenClaw is set up for GateRouter."),
        n => outln!(sink, "{} found.", plural(n, "problem")),
    }
}

/// One check as a line: its mark (coloured when `color`), what was checked and the fix. The
/// text is made one escaped line before the colour is added, so only our SGR codes reach
/// the terminal, whatever a file name in it holds.
fn doctor_line(c: &Check, color: bool) -> String {
    let (tag, style) = match c.status {
        Status::Ok => ("ok  ", Style::Good),
        Status::Warn => ("warn", Style::Warn),
        Status::Problem => ("FAIL", Style::Bad),
    };
    let tag = paint(tag, style, color);
    let what = one_line(&c.what, usize::MAX);
    match &c.fix {
        Some(fix) => format!("  {tag}  {what} → {}", one_line(fix, usize::MAX)),
        None => format!("  {tag}  {what}"),
    }
}

fn list_backups(sink: &Sink, dir: &std::path::Path, json: bool) -> i32 {
    let sets = match rollback::list(dir) {
        Ok(s) => s,
        Err(e) => return fail(sink, json, Mode::DryRun, Some(dir), &e),
    };
    if json {
        let v: Vec<serde_json::Value> = sets
            .iter()
            .map(|s| serde_json::json!({"stamp": s.stamp, "kind": s.kind.map_or("", RunKind::as_str), "dir": s.dir, "files": s.files, "problem": s.problem}))
            .collect();
        sink.json(&serde_json::json!({"version": report::REPORT_VERSION, "backups": v}));
        return exit::OK;
    }
    if sets.is_empty() {
        outln!(
            sink,
            "No backups in {}",
            dir.join(apply::BACKUP_DIR).display()
        );
    }
    for s in sets.iter().rev() {
        match &s.problem {
            None => outln!(
                sink,
                "{}  {:<9}  {}",
                s.stamp,
                s.kind.map_or("", RunKind::as_str),
                s.files.join(", ")
            ),
            // Listed, not hidden: a set rollback cannot use must be visible.
            Some(why) => outln!(sink, "{}  {:<9}  {why}", s.stamp, "UNUSABLE"),
        }
    }
    exit::OK
}

/// `gaterouter-setup probe`: the probe alone, printed or as JSON; exit 0 or 3.
pub(super) fn run_probe(p: &ProbeCommandArgs, cx: &Ctx) -> i32 {
    let sink = cx.sink;
    let result = (|| -> Result<crate::ops::probe::ProbeRun> {
        let key = match key_choice(p.api_key_stdin, p.api_key.clone(), cx.env, sink.secrets())? {
            KeyChoice::Set(k) => k,
            KeyChoice::KeepExisting => {
                let (dir, config) = root::resolve(None, cx.env);
                as_owner(std::slice::from_ref(&dir), cx.as_invoker, cx.env)?;
                crate::ops::probe::saved_key(&dir, config.as_deref())?
            }
        };
        sink.secrets().add(key.expose());
        let (cfg, warning) = probe_config(&p.probe, probe::DEFAULT_BASE_URL)?;
        let warnings = warning.into_iter().collect();
        Ok(crate::ops::probe::run(
            &key,
            &cfg,
            p.probe.require_auto,
            warnings,
        ))
    })();
    let run = match result {
        Ok(r) => r,
        Err(e) => {
            sink.error(&e.to_string());
            return e.exit_code();
        }
    };
    if p.json {
        let mut v = serde_json::to_value(&run.report).unwrap_or_default();
        v["version"] = serde_json::json!(report::REPORT_VERSION);
        v["exit_code"] = serde_json::json!(run.exit_code);
        v["warnings"] = serde_json::json!(run.warnings);
        sink.json(&v);
        return run.exit_code;
    }
    // Quiet: errors only, the failure (or the missing auto routing) and nothing else.
    if !cx.quiet {
        show_probe(sink, &run);
    }
    if let Some(message) = run.error() {
        sink.error(&message);
    }
    run.exit_code
}

/// The probe's text: where, each request with its status and time, the verdict, warnings.
fn show_probe(sink: &Sink, run: &crate::ops::probe::ProbeRun) {
    let report = &run.report;
    outln!(sink, "GateRouter: {}", report.base_url);
    for r in &report.requests {
        outln!(
            sink,
            "  {} {}  {}  {} ms{}",
            r.method,
            r.url,
            status_word(r.status),
            r.latency_ms,
            attempts_note(r.attempts)
        );
    }
    outln!(sink, "Result: {}", report.summary());
    for w in &run.warnings {
        sink.warning(w);
    }
}
