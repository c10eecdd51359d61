//! Setup as the command line shows it: builds the [`run::Request`] from the flags, is the
//! run's [`run::Ui`] (spinner, diff, question), and renders the one-root report. Also the
//! review of rollback and uninstall, which plan one root without a probe.

use std::io::IsTerminal;

use std::path::{Path, PathBuf};

use super::*;
use crate::ops::setup::{self, Approval, Request, RunReport, Target};

/// The validated request of a setup run over `targets`: the key (collected into `secrets` for
/// redaction as soon as it is known), the settings from the templates and flags, and how to
/// reach GateRouter (with a warning when the base URL looks wrong), all checked before any
/// root is read. Then, the admin's inputs read, the run becomes the roots' owner when run as
/// root ([`crate::sys::privilege`]); returns the environment to run with (the owner's `HOME`).
pub(super) fn request(
    cli: &Cli,
    env: &Env,
    targets: Vec<Target>,
    secrets: &Redactor,
) -> Result<(Request, Env)> {
    let (key_arg, _) = positionals(cli);
    let key = key_choice(cli.api_key_stdin, key_arg, env, secrets)?;
    let mut settings = settings(cli)?;
    let (probe, url_warning) = probe_config(&cli.probe, settings.base_url())?;
    settings.patch_provider(&serde_json::json!({ "baseUrl": probe.base_url }))?;
    let dirs: Vec<PathBuf> = targets.iter().map(|t| t.dir.clone()).collect();
    let env = as_owner(&dirs, cli.as_invoker, env)?;
    let req = Request {
        targets,
        key,
        settings,
        probe: (!cli.offline).then_some(probe),
        require_auto: cli.probe.require_auto,
        agent: cli.agent.clone(),
        init: cli.init,
        mode: cli.mode(),
        force: cli.force,
        warnings: url_warning.into_iter().collect(),
        tail: setup::Tail {
            yes: cli.yes,
            fail_fast: cli.fail_fast,
            lock_timeout: std::time::Duration::from_secs(cli.lock_timeout),
            kind: RunKind::Setup,
            verify: cli
                .verify
                .then(|| std::time::Duration::from_secs(cli.probe.timeout)),
            restart_gateway: restart_gateway(cli.restart_gateway, cli.no_restart_gateway),
            redactor: secrets.clone(),
        },
    };
    Ok((req, env))
}

/// How a run is shown on the terminal: the flags of the command that started it.
pub(super) struct View<'a> {
    /// Where everything is printed, masked by the run's redactor.
    pub(super) sink: &'a Sink,
    pub(super) json: bool,
    pub(super) quiet: bool,
    pub(super) verbose: bool,
    pub(super) color: ColorChoice,
    /// Whether the question can be asked (a terminal on stdin that is not the key's pipe).
    pub(super) can_prompt: bool,
    /// The many-roots rendering (a block per root and one question for all).
    pub(super) many: bool,
    /// Said when the one root needs no change.
    pub(super) nothing_to_do: &'static str,
    /// Said after writing.
    pub(super) done_hint: &'static str,
}

impl<'a> View<'a> {
    /// Setup's view, from its flags.
    pub(super) fn setup(cli: &Cli, many: bool, sink: &'a Sink) -> View<'a> {
        View {
            sink,
            json: cli.json,
            quiet: cli.quiet,
            verbose: cli.verbose,
            color: cli.color,
            can_prompt: !cli.api_key_stdin && std::io::stdin().is_terminal(),
            many,
            nothing_to_do: "Already configured: nothing to change.",
            done_hint: SETUP_DONE,
        }
    }

    fn shown(&self) -> bool {
        !self.json && !self.quiet
    }
}

/// The terminal side of a run: a spinner while probing (stderr, so piped output stays
/// clean), the requests with -v, and the review: the summary and diff, then the question.
pub(super) struct Term<'a> {
    view: &'a View<'a>,
    spinner: Option<indicatif::ProgressBar>,
    /// Ctrl-C while the spinner runs: the cursor back, the line cleared, exit 130.
    interrupt: Option<output::InterruptGuard>,
}

impl<'a> Term<'a> {
    pub(super) fn new(view: &'a View<'a>) -> Self {
        Term {
            view,
            spinner: None,
            interrupt: None,
        }
    }
}

impl setup::Ui for Term<'_> {
    fn probing(&mut self, cfg: &ProbeConfig) {
        self.spinner = (self.view.shown() && output::stderr_is_terminal()).then(|| {
            // Cleared when dropped too, so an early exit leaves no spinner line behind.
            let pb = indicatif::ProgressBar::new_spinner()
                .with_finish(indicatif::ProgressFinish::AndClear);
            pb.set_message(format!("Checking GateRouter at {}…", cfg.base_url));
            pb.enable_steady_tick(std::time::Duration::from_millis(80));
            pb
        });
        // An earlier guard goes first, so the previous handler it saved is restored in order.
        self.interrupt = None;
        self.interrupt = self
            .spinner
            .as_ref()
            .map(|_| output::interruptible(output::Interruptible::Spinner));
    }

    fn probed(&mut self, report: &ProbeReport) {
        self.interrupt = None;
        if let Some(pb) = self.spinner.take() {
            pb.finish_and_clear();
        }
        if self.view.verbose {
            let sink = self.view.sink;
            for r in &report.requests {
                errln!(
                    sink,
                    "{} {} → {} in {} ms{}",
                    r.method,
                    r.url,
                    status_word(r.status),
                    r.latency_ms,
                    attempts_note(r.attempts)
                );
            }
        }
    }

    fn review(&mut self, run: &RunReport, ask: Option<setup::Ask>) -> Approval {
        let (sink, verbose) = (self.view.sink, self.view.verbose);
        let color = use_color(self.view.color, output::stdout_is_terminal());
        match self.one_plan(run) {
            _ if !self.view.shown() => {}
            Some(plan) => {
                show_plan(sink, plan, run, color, verbose);
                if ask.is_none() {
                    self.show_verdict(run, plan);
                }
            }
            None if self.view.many => {
                show_many(sink, run, color, verbose);
                if ask.is_none()
                    && run.mode != Mode::Apply
                    && let Some(line) = recap_many(run)
                {
                    outln!(sink, "{line}");
                }
            }
            None => {}
        }
        match ask {
            None => Approval::Yes,
            Some(ask) => self.ask(run, ask),
        }
    }
}

impl Term<'_> {
    /// One root's plan not applied (or needing nothing): what a dry run or a check found.
    fn show_verdict(&self, run: &RunReport, plan: &Plan) {
        let sink = self.view.sink;
        let pending = plan.pending().count();
        let note = match run.mode {
            _ if pending == 0 => self.view.nothing_to_do.to_owned(),
            Mode::Apply => return,
            Mode::DryRun => {
                "Dry run: nothing was written. Run again without --dry-run to apply.".to_owned()
            }
            Mode::Check => format!("{} would change (exit 2).", plural(pending, "file")),
        };
        if pending > 0 {
            if let Some(line) = report::recap(plan) {
                outln!(sink, "{line}");
            }
            if run.roots.first().is_some_and(|r| r.wired) {
                outln!(sink, "{WIRED}");
            }
        }
        outln!(sink, "{note}");
    }

    /// The plan of the one-root rendering (none in the many-roots one).
    fn one_plan<'r>(&self, run: &'r RunReport) -> Option<&'r Plan> {
        let plan = run.roots.first().and_then(|r| r.plan.as_ref());
        plan.filter(|_| !self.view.many)
    }

    /// The question, once the review has reached the screen; or why it cannot be asked.
    /// Right above it, the one-line recap, after the diff has reached the screen. When
    /// standard output is a file (or /dev/null) one root's review went there unseen, so it is
    /// shown on standard error, the terminal the prompt is on.
    fn ask(&self, run: &RunReport, ask: setup::Ask) -> Approval {
        let sink = self.view.sink;
        if !self.view.can_prompt {
            return Approval::CannotAsk;
        }
        if !self.view.shown() {
            return Approval::Unreviewed {
                json: self.view.json,
            };
        }
        let plan = self.one_plan(run);
        let recap = plan.map_or_else(|| recap_many(run), report::recap);
        match plan.filter(|_| output::stdout_unseen()) {
            Some(plan) => {
                let color = use_color(self.view.color, output::stderr_is_terminal());
                sink.err(&report::summary(plan, run.probe.as_ref()));
                sink.err("\n");
                sink.err_diff(&diff::render_review(plan, color, self.view.verbose), color);
                if let Some(line) = &recap {
                    errln!(sink, "{line}");
                }
            }
            None => {
                if let Some(line) = &recap {
                    outln!(sink, "{line}");
                }
                output::settle_stdout();
            }
        }
        let roots = if self.view.many {
            format!(" in {} roots", ask.roots)
        } else {
            String::new()
        };
        let question = format!(
            "Apply these changes to {}{roots}?",
            plural(ask.files, "file")
        );
        let answer = {
            let _interrupt = output::interruptible(output::Interruptible::Prompt);
            confirm(sink, &question)
        };
        if answer {
            Approval::Yes
        } else {
            errln!(sink, "Cancelled: nothing was written.");
            Approval::Cancelled
        }
    }
}

/// The many-roots review: the run's warnings, then each root's summary and diff, or its error.
fn show_many(sink: &Sink, run: &RunReport, color: bool, verbose: bool) {
    for w in &run.warnings {
        sink.warning(w);
    }
    for r in &run.roots {
        match (&r.plan, &r.error) {
            (Some(p), _) => {
                sink.out(&report::summary(p, run.probe.as_ref()));
                if !p.is_empty() {
                    sink.out_diff(&diff::render_review(p, color, verbose), color);
                }
            }
            (None, Some(_)) => root_error(sink, r),
            (None, None) => {}
        }
    }
}

/// The many-roots recap line of a run (see `report::recap_many`).
fn recap_many(run: &RunReport) -> Option<String> {
    let plans: Vec<Option<&Plan>> = run.roots.iter().map(|r| r.plan.as_ref()).collect();
    let failed = run.roots.iter().filter(|r| r.error.is_some()).count();
    report::recap_many(&plans, failed)
}

/// One root's error, named by its directory.
pub(super) fn root_error(sink: &Sink, r: &setup::RootRun) {
    if let Some(e) = &r.error {
        sink.error(&format!("{}: {e}", r.target.dir.display()));
    }
}

/// A plan before it is applied: the summary, the run's and the plan's warnings, the diff.
fn show_plan(sink: &Sink, plan: &Plan, run: &RunReport, color: bool, verbose: bool) {
    sink.out(&report::summary(plan, run.probe.as_ref()));
    for w in run.warnings.iter().chain(&plan.warnings) {
        sink.warning(w);
    }
    if !plan.is_empty() {
        outln!(sink);
        sink.out_diff(&diff::render_review(plan, color, verbose), color);
    }
}

/// What was written, and where the previous contents went.
fn show_applied(sink: &Sink, applied: &Applied) {
    outln!(
        sink,
        "Wrote {}.{}",
        plural(applied.written.len(), "file"),
        applied
            .backup
            .as_ref()
            .map(|b| format!(" Previous contents backed up in {}", b.display()))
            .unwrap_or_default()
    );
}

/// Said of a root OpenClaw can already use GateRouter on, when setup would still change it.
const WIRED: &str = "Configured: OpenClaw already uses GateRouter here (doctor finds no problem); these changes complete it the way gaterouter-setup writes it.";

const SETUP_DONE: &str =
    "Restart the OpenClaw gateway (openclaw gateway restart) to pick up the new model.";

/// One root, `target`: the run, rendered as the one-root report.
pub(super) fn run_setup(cli: &Cli, env: &Env, target: Target, sink: &Sink) -> i32 {
    let dir = target.dir.clone();
    let (req, env) = match request(cli, env, vec![target], sink.secrets()) {
        Ok(r) => r,
        Err(e) => return fail(sink, cli.json, cli.mode(), None, &e),
    };
    let view = View::setup(cli, false, sink);
    let run = setup::run(req, &env, &mut Term::new(&view));
    render_one(&view, &dir, &run)
}

/// A one-root run, rendered: what was written, the verify, the JSON report; or the error.
/// Returns the exit code.
pub(super) fn render_one(view: &View, dir: &Path, run: &RunReport) -> i32 {
    let sink = view.sink;
    let mode = run.mode;
    let probe = run.probe.as_ref();
    let fail_here = |plan: Option<&Plan>, e: &Error| {
        // Warnings belong with a plan that was shown; before one, there is nothing to warn on.
        let warnings: &[String] = if plan.is_some() { &run.warnings } else { &[] };
        let outcome = Outcome {
            probe,
            plan,
            warnings,
            ..failed(mode, Some(dir), e)
        };
        fail_with(sink, view.json, outcome, e)
    };
    if let Some(e) = &run.stopped {
        return fail_here(None, e);
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
    if let Some(e @ (Error::NotInteractive | Error::Unreviewed { .. })) = &run.refused {
        return fail_here(Some(plan), e);
    }
    if let Some(a) = r.applied.as_ref().filter(|_| view.shown()) {
        show_applied(sink, a);
        // What the running Gateway does with it replaces the generic hint.
        let hints = match &r.gateway {
            Some(g) => g.after(r.restarted.as_ref()),
            None => vec![view.done_hint.to_owned()],
        };
        for line in hints {
            outln!(sink, "{line}");
        }
    }
    let note = (r.applied.is_some() && run.kind == RunKind::Uninstall)
        .then(|| backups_hold_the_key(dir))
        .flatten();
    if let Some(n) = note.as_ref().filter(|_| !view.json) {
        errln!(sink, "note: {n}");
    }
    if let Some(v) = &r.verify {
        super::verify::show_after_setup(sink, v, !view.shown());
    }
    if view.json {
        let warnings: Vec<String> = run.warnings.iter().chain(&note).cloned().collect();
        sink.json(&root_json(run, r, probe, &warnings));
    }
    r.exit_code
}

/// One root's JSON report: the outcome, and what verify, the Gateway and (for setup) the
/// `configured` verdict add to it. The one-root report and each entry of the many-roots one.
pub(super) fn root_json(
    run: &RunReport,
    r: &setup::RootRun,
    probe: Option<&ProbeOutcome>,
    warnings: &[String],
) -> serde_json::Value {
    let mut v = report::value(&Outcome {
        mode: run.mode,
        root: Some(&r.target.dir),
        probe,
        plan: r.plan.as_ref(),
        applied: r.applied.as_ref(),
        error: r.error.as_ref(),
        warnings,
        exit_code: r.exit_code,
        kind: run.kind,
    });
    if let Some(verified) = &r.verify {
        v["verify"] = super::verify::after_setup_json(verified);
    }
    if run.kind == RunKind::Setup {
        // OpenClaw can use GateRouter on the root: it was already, it needs nothing, or it
        // was just written.
        let done = r.error.is_none()
            && (r.wired || r.applied.is_some() || r.plan.as_ref().is_some_and(Plan::is_empty));
        v["configured"] = done.into();
    }
    if let Some(g) = &r.gateway {
        v["gateway"] = g.value(r.restarted.as_ref(), r.applied.is_some());
    }
    v
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

/// Rollback and uninstall: `plan` of `root` (made without a probe) through the run's review →
/// apply stages with the review flags of their command, rendered as the one-root report.
/// `said`: what is said when the plan needs nothing, and after writing. Returns the exit code.
pub(super) fn review_and_apply(
    r: &ReviewArgs,
    kind: RunKind,
    root: &OwnedRoot,
    plan: Plan,
    [nothing_to_do, done_hint]: [&'static str; 2],
    cx: &Ctx,
) -> i32 {
    let sink = cx.sink;
    let view = View {
        sink,
        json: r.json,
        quiet: cx.quiet,
        verbose: false,
        color: r.color,
        can_prompt: std::io::stdin().is_terminal(),
        many: false,
        nothing_to_do,
        done_hint,
    };
    let tail = setup::Tail {
        yes: r.yes,
        fail_fast: false,
        lock_timeout: std::time::Duration::from_secs(r.lock_timeout),
        kind,
        verify: None,
        restart_gateway: restart_gateway(r.restart_gateway, r.no_restart_gateway),
        redactor: sink.secrets().clone(),
    };
    let target = Target {
        dir: root.dir.clone(),
        config: None,
    };
    let run = setup::run_plan(
        target,
        plan,
        r.mode(),
        &tail,
        &root.env,
        &mut Term::new(&view),
    );
    render_one(&view, &root.dir, &run)
}
