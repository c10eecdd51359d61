//! The commands besides setup: probe, rollback, uninstall, doctor.

use super::setup::{Review, review_and_apply};
use super::*;
use crate::gaterouter::policy::AutoOff;

/// `gaterouter-setup rollback`: put back the newest backup set made by setup.
pub(super) fn run_rollback(
    a: &RollbackArgs,
    quiet: bool,
    as_invoker: bool,
    env: &Env,
    secrets: &Redactor,
) -> i32 {
    let r = &a.review;
    let mode = if r.dry_run { Mode::DryRun } else { Mode::Apply };
    if let Some(Err(e)) = a.root.as_deref().map(|p| check_root_arg(p, false, secrets)) {
        return fail(r.json, mode, None, None, None, &e, &[]);
    }
    let (dir, _) = root::resolve(a.root.as_deref(), env);
    // The backup set is the owner's to edit, so it is read and restored with the owner's
    // rights: a copy changed by the owner can only go where the owner could write anyway.
    let env = &match as_owner(std::slice::from_ref(&dir), as_invoker, env) {
        Ok(e) => e,
        Err(e) => return fail(r.json, mode, Some(&dir), None, None, &e, &[]),
    };
    let prepared = (|| -> Result<Option<(rollback::BackupSet, Plan)>> {
        if !dir.is_dir() {
            root::discover(&dir, None, None)?;
        }
        if a.list {
            return Ok(None);
        }
        // A dry run writes nothing, so it may show what a rollback over edits would discard.
        let force = a.force || r.dry_run;
        let (set, mut plan) = rollback::prepare(&dir, a.to.as_deref(), force)?;
        plan.check_openclaw_health();
        if !force {
            plan.refuse_openclaw_undo()?;
        }
        Ok(Some((set, plan)))
    })();
    let (set, plan) = match prepared {
        Ok(Some(p)) => p,
        Ok(None) => return list_backups(&dir, r.json),
        Err(e) => return fail(r.json, mode, Some(&dir), None, None, &e, &[]),
    };
    if !r.json && !quiet {
        crate::outln!(
            "Rolling back to the files saved in backup set {} ({})",
            set.stamp,
            set.dir.display()
        );
    }
    let mut review = Review::for_command(
        r,
        "rollback",
        &dir,
        "Nothing to roll back: the files already match the backup.",
        "Restart the OpenClaw gateway (openclaw gateway restart) to pick up the restored configuration.",
        secrets,
    );
    review.view.quiet = quiet;
    review_and_apply(&review, &plan, env)
}

/// `gaterouter-setup uninstall`: remove what setup added, restoring the previous model.
pub(super) fn run_uninstall(
    a: &UninstallArgs,
    quiet: bool,
    as_invoker: bool,
    env: &Env,
    secrets: &Redactor,
) -> i32 {
    let r = &a.review;
    let mode = if r.dry_run { Mode::DryRun } else { Mode::Apply };
    if let Some(Err(e)) = a.root.as_deref().map(|p| check_root_arg(p, false, secrets)) {
        return fail(r.json, mode, None, None, None, &e, &[]);
    }
    let (dir, config_override) = root::resolve(a.root.as_deref(), env);
    let env = &match as_owner(std::slice::from_ref(&dir), as_invoker, env) {
        Ok(e) => e,
        Err(e) => return fail(r.json, mode, Some(&dir), None, None, &e, &[]),
    };
    let prepared = (|| -> Result<Plan> {
        let root = root::discover(&dir, config_override.as_deref(), None)?;
        let (previous, added) = rollback::recorded(&dir)?;
        let env_created = rollback::created_by_setup(&dir, ".env");
        let mut plan = plan::plan_uninstall(&root, previous.as_ref(), &added, env_created)?;
        apply::check_writable(&plan)?;
        plan.check_openclaw_health();
        if !(a.force || r.dry_run) {
            plan.refuse_openclaw_undo()?;
        }
        Ok(plan)
    })();
    let plan = match prepared {
        Ok(p) => p,
        Err(e) => return fail(r.json, mode, Some(&dir), None, None, &e, &[]),
    };
    let mut review = Review::for_command(
        r,
        "uninstall",
        &dir,
        "Nothing to uninstall: no GateRouter settings found.",
        "Restart the OpenClaw gateway (openclaw gateway restart) to pick up the change.",
        secrets,
    );
    review.view.quiet = quiet;
    review_and_apply(&review, &plan, env)
}

/// `gaterouter-setup doctor`: read-only checks; exit 0 healthy, 1 problems.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_doctor(
    root_arg: Option<&std::path::Path>,
    agent: Option<&str>,
    json: bool,
    quiet: bool,
    color: bool,
    as_invoker: bool,
    env: &Env,
    secrets: &Redactor,
) -> i32 {
    if let Some(Err(e)) = root_arg.map(|p| check_root_arg(p, false, secrets)) {
        return fail(json, Mode::DryRun, None, None, None, &e, &[]);
    }
    let (dir, config_override) = root::resolve(root_arg, env);
    let env = &match as_owner(std::slice::from_ref(&dir), as_invoker, env) {
        Ok(e) => e,
        Err(e) => return fail(json, Mode::DryRun, Some(&dir), None, None, &e, &[]),
    };
    let root = match root::discover(&dir, config_override.as_deref(), agent) {
        Ok(r) => r,
        Err(e) => return fail(json, Mode::DryRun, Some(&dir), None, None, &e, &[]),
    };
    let checks = crate::ops::doctor::run(&root, env, secrets);
    let problems = checks
        .iter()
        .filter(|c| c.status == crate::ops::doctor::Status::Problem)
        .count();
    let code = if problems == 0 { exit::OK } else { exit::INPUT };
    if json {
        let v = serde_json::json!({
            "version": report::REPORT_VERSION,
            "root": dir,
            "healthy": problems == 0,
            "problems": problems,
            "checks": checks,
            "run_as": run_as_json(),
            "exit_code": code,
        });
        crate::output::json(&v);
        return code;
    }
    print_doctor(&dir, &checks, problems, quiet, color);
    code
}

/// Doctor's text: the root, a line per check (with its fix), and the verdict; `quiet`: the
/// problems only (a healthy root prints nothing).
fn print_doctor(
    dir: &Path,
    checks: &[crate::ops::doctor::Check],
    problems: usize,
    quiet: bool,
    color: bool,
) {
    if quiet {
        for c in checks
            .iter()
            .filter(|c| c.status == crate::ops::doctor::Status::Problem)
        {
            crate::output::styled_line(&doctor_line(c, color));
        }
        return;
    }
    crate::outln!("OpenClaw root: {}", dir.display());
    if let Some(a) = crate::sys::privilege::current() {
        crate::outln!("Note: {}.", a.sentence());
    }
    for c in checks {
        crate::output::styled_line(&doctor_line(c, color));
    }
    if problems == 0 {
        crate::outln!("Healthy: OpenClaw is set up for GateRouter.");
    } else {
        crate::outln!(
            "{problems} problem{} found.",
            if problems == 1 { "" } else { "s" }
        );
    }
}

/// One check as a line: its mark (coloured when `color`), what was checked and the fix. The
/// text is made one escaped line before the colour is added, so only our SGR codes reach
/// the terminal, whatever a file name in it holds.
fn doctor_line(c: &crate::ops::doctor::Check, color: bool) -> String {
    use crate::redact::text::Style;
    let (tag, style) = match c.status {
        crate::ops::doctor::Status::Ok => ("ok  ", Style::Good),
        crate::ops::doctor::Status::Warn => ("warn", Style::Warn),
        crate::ops::doctor::Status::Problem => ("FAIL", Style::Bad),
    };
    let tag = crate::redact::text::paint(tag, style, color);
    let what = crate::redact::text::one_line(&c.what, usize::MAX);
    match &c.fix {
        Some(fix) => format!(
            "  {tag}  {what} → {}",
            crate::redact::text::one_line(fix, usize::MAX)
        ),
        None => format!("  {tag}  {what}"),
    }
}

fn list_backups(dir: &std::path::Path, json: bool) -> i32 {
    let sets = match rollback::list(dir) {
        Ok(s) => s,
        Err(e) => return fail(json, Mode::DryRun, Some(dir), None, None, &e, &[]),
    };
    if json {
        let v: Vec<serde_json::Value> = sets
            .iter()
            .map(|s| serde_json::json!({"stamp": s.stamp, "kind": s.kind, "dir": s.dir, "files": s.files, "problem": s.problem}))
            .collect();
        crate::output::json(&serde_json::json!({"version": report::REPORT_VERSION, "backups": v}));
        return exit::OK;
    }
    if sets.is_empty() {
        crate::outln!("No backups in {}", dir.join(apply::BACKUP_DIR).display());
    }
    for s in sets.iter().rev() {
        match &s.problem {
            None => crate::outln!("{}  {:<9}  {}", s.stamp, s.kind, s.files.join(", ")),
            // Listed, not hidden: a set rollback cannot use must be visible.
            Some(why) => crate::outln!("{}  {:<9}  {why}", s.stamp, "UNUSABLE"),
        }
    }
    exit::OK
}

/// `gaterouter-setup probe`: the probe alone, printed or as JSON; exit 0 or 3.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_probe(
    key_arg: Option<String>,
    stdin: bool,
    json: bool,
    quiet: bool,
    as_invoker: bool,
    args: &ProbeArgs,
    env: &Env,
    secrets: &Redactor,
) -> i32 {
    let result = (|| -> Result<(ProbeReport, Vec<String>)> {
        let key = match key_choice(stdin, key_arg, env, secrets)? {
            KeyChoice::Set(k) => k,
            // No key given: the one setup wrote to the default root's .env, if any.
            KeyChoice::KeepExisting => {
                let (dir, config) = root::resolve(None, env);
                as_owner(std::slice::from_ref(&dir), as_invoker, env)?;
                root::discover(&dir, config.as_deref(), None)
                    .and_then(|r| plan::effective_key(&r, &KeyChoice::KeepExisting))
                    .map_err(|_| {
                        Error::Usage(format!(
                            "probe needs an API key: pass it as an argument, with --api-key-stdin, or in GATEROUTER_API_KEY (none found in {})",
                            dir.join(".env").display()
                        ))
                    })?
            }
        };
        secrets.add(key.expose());
        let (cfg, warning) = probe_config(args, probe::DEFAULT_BASE_URL)?;
        Ok((probe::run(&key, &cfg), warning.into_iter().collect()))
    })();
    let (report, mut warnings) = match result {
        Ok(r) => r,
        Err(e) => {
            crate::output::error(&e.to_string());
            return e.exit_code();
        }
    };
    let auto_missing = args.require_auto && report.auto_routing != AutoRouting::On;
    // Without --require-auto, setup goes on with a fixed model when auto routing is off, so
    // probe still says "setup would work" (exit 0), but never without the fix.
    if report.blocking.is_none() && !auto_missing && report.auto_routing == AutoRouting::Off {
        warnings.push(AutoOff::ProbeWouldFallBack.message());
    }
    let code = if report.blocking.is_some() || auto_missing {
        exit::PROBE
    } else {
        exit::OK
    };
    if json {
        let mut v = serde_json::to_value(&report).unwrap_or_default();
        v["version"] = serde_json::json!(report::REPORT_VERSION);
        v["exit_code"] = serde_json::json!(code);
        let mut w = warnings.clone();
        w.extend(report.warnings.iter().cloned());
        v["warnings"] = serde_json::json!(w);
        crate::output::json(&v);
        return code;
    }
    if quiet {
        // Errors only: the failure (or the missing auto routing) and nothing else.
        if let Some(f) = &report.blocking {
            crate::output::error(&f.message);
        } else if auto_missing {
            crate::output::error(&AutoOff::ProbeRequired.message());
        }
        return code;
    }
    crate::outln!("GateRouter: {}", report.base_url);
    for r in &report.requests {
        let status = r.status.map_or("no answer".to_owned(), |s| s.to_string());
        crate::outln!(
            "  {} {}  {status}  {} ms{}",
            r.method,
            r.url,
            r.latency_ms,
            if r.attempts > 1 {
                format!(" ({} attempts)", r.attempts)
            } else {
                String::new()
            }
        );
    }
    crate::outln!("Result: {}", report.summary());
    for w in warnings.iter().chain(&report.warnings) {
        crate::output::warning(w);
    }
    if let Some(f) = &report.blocking {
        crate::output::error(&f.message);
    } else if auto_missing {
        crate::output::error(&AutoOff::ProbeRequired.message());
    }
    code
}
