//! Setup as the command line shows it: builds the [`run::Request`] from the flags, is the
//! run's [`run::Ui`] (spinner, diff, question), and renders the one-root report. Also the
//! review of rollback and uninstall, which plan one root without a probe.

use std::io::IsTerminal;

use super::*;
use crate::run::{self, Approval, Request, RunReport, Target};

/// The validated request of a setup run over `targets`: the key, the settings and how to
/// reach GateRouter, all checked before any root is read.
pub(super) fn request(
    cli: &Cli,
    env: &Env,
    targets: Vec<Target>,
    secrets: &mut Vec<String>,
) -> Result<Request> {
    let (key_arg, _) = positionals(cli);
    let Inputs {
        key,
        settings,
        probe,
        warnings,
    } = inputs(cli, env, key_arg, secrets)?;
    Ok(Request {
        targets,
        key,
        settings,
        probe: (!cli.offline).then_some(probe),
        require_auto: cli.probe.require_auto,
        agent: cli.agent.clone(),
        mode: cli.mode(),
        yes: cli.yes,
        fail_fast: cli.fail_fast,
        verify: cli
            .verify
            .then(|| std::time::Duration::from_secs(cli.probe.timeout)),
        lock_timeout: std::time::Duration::from_secs(cli.lock_timeout),
        warnings,
        secrets: secrets.clone(),
    })
}

/// The terminal side of a setup run: a spinner while probing (stderr, so piped output stays
/// clean), the requests with -v, and the review: the summary and diff, then the question.
pub(super) struct Term<'a> {
    pub(super) cli: &'a Cli,
    /// The many-roots rendering (a block per root and one question for all).
    pub(super) many: bool,
    spinner: Option<indicatif::ProgressBar>,
}

impl<'a> Term<'a> {
    pub(super) fn new(cli: &'a Cli, many: bool) -> Self {
        Term {
            cli,
            many,
            spinner: None,
        }
    }

    fn shown(&self) -> bool {
        !self.cli.json && !self.cli.quiet
    }
}

impl run::Ui for Term<'_> {
    fn probing(&mut self, cfg: &ProbeConfig) {
        self.spinner = (self.shown() && crate::output::stderr_is_terminal()).then(|| {
            let pb = indicatif::ProgressBar::new_spinner();
            pb.set_message(format!("Checking GateRouter at {}…", cfg.base_url));
            pb.enable_steady_tick(std::time::Duration::from_millis(80));
            pb
        });
    }

    fn probed(&mut self, report: &ProbeReport) {
        if let Some(pb) = self.spinner.take() {
            pb.finish_and_clear();
        }
        if self.cli.verbose {
            for r in &report.requests {
                crate::errln!(
                    "{} {} → {} in {} ms{}",
                    r.method,
                    r.url,
                    r.status.map_or("no answer".to_owned(), |s| s.to_string()),
                    r.latency_ms,
                    if r.attempts > 1 {
                        format!(" ({} attempts)", r.attempts)
                    } else {
                        String::new()
                    }
                );
            }
        }
    }

    fn review(&mut self, run: &RunReport, ask: Option<run::Ask>) -> Approval {
        let color = use_color(self.cli.color, crate::output::stdout_is_terminal());
        if self.many {
            if self.shown() {
                show_many(run, color);
            }
        } else if let Some(plan) = run.roots.first().and_then(|r| r.plan.as_ref()) {
            let shown = self.shown();
            show_plan(shown, plan, run.probe.as_ref(), &run.warnings, color);
            if shown && ask.is_none() {
                let pending = plan.pending().count();
                let note = match run.mode {
                    _ if pending == 0 => Some("Already configured: nothing to change.".to_owned()),
                    Mode::DryRun => Some(
                        "Dry run: nothing was written. Run again without --dry-run to apply."
                            .to_owned(),
                    ),
                    Mode::Check => Some(format!(
                        "{pending} file{} would change (exit 2).",
                        if pending == 1 { "" } else { "s" }
                    )),
                    Mode::Apply => None,
                };
                if let Some(n) = note {
                    crate::outln!("{n}");
                }
            }
        }
        let Some(ask) = ask else {
            return Approval::Yes;
        };
        let can_prompt = !self.cli.api_key_stdin && std::io::stdin().is_terminal();
        if !can_prompt {
            return Approval::CannotAsk;
        }
        let question = if self.many {
            format!(
                "Apply these changes to {} in {} roots?",
                files(ask.files),
                ask.roots
            )
        } else {
            format!("Apply these changes to {}?", files(ask.files))
        };
        if confirm(&question) {
            Approval::Yes
        } else {
            crate::errln!("Cancelled: nothing was written.");
            Approval::Cancelled
        }
    }
}

/// The many-roots review: the run's warnings, then each root's summary and diff, or its error.
fn show_many(run: &RunReport, color: bool) {
    for w in &run.warnings {
        crate::output::warning(w);
    }
    for r in &run.roots {
        match (&r.plan, &r.error) {
            (Some(p), _) => {
                crate::output::out(&report::summary(p, run.probe.as_ref()));
                if !p.is_empty() {
                    print_diff(&diff::render_plan(p, color), color);
                }
            }
            (None, Some(_)) => root_error(run, r),
            (None, None) => {}
        }
    }
}

/// One root's error, named by its directory, every secret of the run redacted.
pub(super) fn root_error(run: &RunReport, r: &run::RootRun) {
    if let Some(e) = &r.error {
        let all: Vec<&str> = run.secrets.iter().map(String::as_str).collect();
        crate::output::error(&format!(
            "{}: {}",
            r.target.dir.display(),
            key::redact_all(&e.to_string(), &all)
        ));
    }
}

/// A plan before it is applied: the summary, the warnings, and the diff.
fn show_plan(
    shown: bool,
    plan: &Plan,
    probe: Option<&ProbeOutcome>,
    warnings: &[String],
    color: bool,
) {
    if !shown {
        return;
    }
    crate::output::out(&report::summary(plan, probe));
    for w in warnings.iter().chain(&plan.warnings) {
        crate::output::warning(w);
    }
    if !plan.is_empty() {
        crate::outln!();
        print_diff(&diff::render_plan(plan, color), color);
    }
}

/// What was written, and where the previous contents went.
fn show_applied(applied: &Applied, done_hint: &str) {
    crate::outln!(
        "Wrote {} file{}.{}",
        applied.written.len(),
        if applied.written.len() == 1 { "" } else { "s" },
        applied
            .backup
            .as_ref()
            .map(|b| format!(" Previous contents backed up in {}", b.display()))
            .unwrap_or_default()
    );
    crate::outln!("{done_hint}");
}

const SETUP_DONE: &str =
    "Restart the OpenClaw gateway (openclaw gateway restart) to pick up the new model.";

/// One root: the run, rendered as the one-root report.
pub(super) fn run_setup(cli: &Cli, env: &Env) -> i32 {
    let mode = cli.mode();
    let mut secrets = Vec::new();
    let (_, root_arg) = positionals(cli);
    let (dir, config) = root::resolve(root_arg.as_deref(), env);
    let target = Target {
        dir: dir.clone(),
        config,
    };
    let req = match request(cli, env, vec![target], &mut secrets) {
        Ok(r) => r,
        Err(e) => return fail(cli.json, mode, None, None, None, &e, &[], &secrets),
    };
    let run = run::run(req, env, &mut Term::new(cli, false));
    let secrets = &run.secrets;
    let probe = run.probe.as_ref();
    let fail_here = |plan: Option<&Plan>, e: &Error| {
        // Warnings belong with a plan that was shown; before one, there is nothing to warn on.
        let warnings: &[String] = if plan.is_some() { &run.warnings } else { &[] };
        fail(
            cli.json,
            mode,
            Some(&dir),
            probe,
            plan,
            e,
            warnings,
            secrets,
        )
    };
    if let Some(e) = &run.stopped {
        return fail(cli.json, mode, Some(&dir), probe, None, e, &[], secrets);
    }
    let Some(r) = run.roots.first() else {
        return exit::INPUT;
    };
    if let Some(e) = &r.error {
        return fail_here(r.plan.as_ref(), e);
    }
    let Some(plan) = &r.plan else {
        return exit::INPUT;
    };
    if let Some(e @ Error::NotInteractive) = &run.refused {
        return fail_here(Some(plan), e);
    }
    if let Some(a) = &r.applied
        && !cli.json
        && !cli.quiet
    {
        show_applied(a, SETUP_DONE);
    }
    if let Some(v) = &r.verify {
        super::verify::show_after_setup(v, cli.json || cli.quiet);
    }
    if cli.json {
        let mut v = report::value(&Outcome {
            mode,
            root: Some(&dir),
            probe,
            plan: Some(plan),
            applied: r.applied.as_ref(),
            error: None,
            warnings: &run.warnings,
            exit_code: r.exit_code,
            secrets,
        });
        if let Some(verified) = &r.verify {
            v["verify"] = super::verify::after_setup_json(verified);
        }
        crate::output::json(&v);
    }
    r.exit_code
}

/// After uninstall the key is gone from the root, but every backup set (setup's, and the one
/// uninstall just made) still holds a copy of `.env` with it: say so, and how to delete them.
fn backups_hold_the_key(dir: &std::path::Path) -> Option<String> {
    let backups = dir.join(apply::BACKUP_DIR);
    if !backups.is_dir() {
        return None;
    }
    let quoted = format!("'{}'", backups.display().to_string().replace('\'', "'\\''"));
    Some(format!(
        "the backup sets in {} still hold copies of .env with the API key (including the one just made). Once you no longer need `gaterouter-setup rollback`, delete them: rm -r -- {quoted}",
        backups.display()
    ))
}

/// How one plan without a probe is shown, confirmed and applied: rollback and uninstall.
pub(super) struct Review<'a> {
    pub(super) json: bool,
    pub(super) quiet: bool,
    pub(super) mode: Mode,
    pub(super) yes: bool,
    pub(super) can_prompt: bool,
    pub(super) color: ColorChoice,
    pub(super) lock_timeout: u64,
    pub(super) kind: &'static str,
    pub(super) dir: &'a std::path::Path,
    pub(super) probe: Option<&'a ProbeOutcome>,
    pub(super) warnings: &'a [String],
    pub(super) secrets: &'a [String],
    pub(super) nothing_to_do: &'static str,
    pub(super) done_hint: &'static str,
}

impl<'a> Review<'a> {
    /// Rollback and uninstall: the review flags of their command, nothing probed.
    pub(super) fn for_command(
        r: &ReviewArgs,
        kind: &'static str,
        dir: &'a std::path::Path,
        nothing_to_do: &'static str,
        done_hint: &'static str,
    ) -> Review<'a> {
        Review {
            json: r.json,
            quiet: false,
            mode: if r.dry_run { Mode::DryRun } else { Mode::Apply },
            yes: r.yes,
            can_prompt: std::io::stdin().is_terminal(),
            color: r.color,
            lock_timeout: r.lock_timeout,
            kind,
            dir,
            probe: None,
            warnings: &[],
            secrets: &[],
            nothing_to_do,
            done_hint,
        }
    }
}

/// Summary and diff (or the JSON report), then: nothing to do, dry run, check, or confirm
/// and apply. Returns the exit code.
pub(super) fn review_and_apply(r: &Review, plan: &Plan, env: &Env) -> i32 {
    let color = use_color(r.color, crate::output::stdout_is_terminal());
    show_plan(!r.json && !r.quiet, plan, r.probe, r.warnings, color);
    let pending = plan.pending().count();
    let finish_with = |applied: Option<&Applied>, code: i32, extra: &[String]| {
        if r.json {
            let warnings: Vec<String> = r.warnings.iter().chain(extra).cloned().collect();
            let v = report::value(&Outcome {
                mode: r.mode,
                root: Some(r.dir),
                probe: r.probe,
                plan: Some(plan),
                applied,
                error: None,
                warnings: &warnings,
                exit_code: code,
                secrets: r.secrets,
            });
            crate::output::json(&v);
        }
        code
    };
    let finish = |applied: Option<&Applied>, code: i32| finish_with(applied, code, &[]);
    let fail_with = |e: &Error| {
        fail(
            r.json,
            r.mode,
            Some(r.dir),
            r.probe,
            Some(plan),
            e,
            r.warnings,
            r.secrets,
        )
    };

    if pending == 0 {
        if !r.json && !r.quiet {
            crate::outln!("{}", r.nothing_to_do);
        }
        return finish(None, exit::OK);
    }
    match r.mode {
        Mode::DryRun => {
            if !r.json && !r.quiet {
                crate::outln!(
                    "Dry run: nothing was written. Run again without --dry-run to apply."
                );
            }
            return finish(None, exit::OK);
        }
        Mode::Check => {
            if !r.json && !r.quiet {
                crate::outln!(
                    "{pending} file{} would change (exit 2).",
                    if pending == 1 { "" } else { "s" }
                );
            }
            return finish(None, exit::PENDING);
        }
        Mode::Apply => {}
    }
    if !r.yes {
        if !r.can_prompt {
            return fail_with(&Error::NotInteractive);
        }
        if !confirm(&format!("Apply these changes to {}?", files(pending))) {
            crate::errln!("Cancelled: nothing was written.");
            return finish(None, exit::INPUT);
        }
    }
    let opts = apply::ApplyOptions {
        lock_timeout: std::time::Duration::from_secs(r.lock_timeout),
        kind: r.kind,
        faults: apply::Faults::from_env(),
    };
    match apply::apply_with(plan, env, &opts) {
        Ok(applied) => {
            if !r.json && !r.quiet {
                show_applied(&applied, r.done_hint);
            }
            let note: Vec<String> = (r.kind == "uninstall")
                .then(|| backups_hold_the_key(r.dir))
                .flatten()
                .into_iter()
                .collect();
            if !r.json {
                for n in &note {
                    crate::errln!("note: {n}");
                }
            }
            finish_with(Some(&applied), exit::OK, &note)
        }
        Err(e) => fail_with(&e),
    }
}
