//! Setup of one root: prepare (discover, check inputs, probe, plan), then review and apply.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::*;

/// A run that stopped before anything was written, with what it knew by then.
struct Stopped {
    error: Error,
    root: Option<PathBuf>,
    probe: Option<Box<ProbeOutcome>>,
}

impl From<Error> for Box<Stopped> {
    fn from(error: Error) -> Self {
        Box::new(Stopped {
            error,
            root: None,
            probe: None,
        })
    }
}

struct Prepared {
    dir: PathBuf,
    probe: ProbeOutcome,
    plan: Plan,
    warnings: Vec<String>,
}

/// Everything up to the plan; errors here have written nothing.
fn prepare(cli: &Cli, env: &Env, secrets: &mut Vec<String>) -> Result<Prepared, Box<Stopped>> {
    let (key_arg, root_arg) = positionals(cli);
    let Inputs {
        key,
        mut settings,
        probe: cfg,
        mut warnings,
    } = inputs(cli, env, key_arg, secrets)?;
    let (dir, config_override) = root::resolve(root_arg.as_deref(), env);
    let root = root::discover(&dir, config_override.as_deref(), cli.agent.as_deref())?;
    let stop = |error: Error, probe: Option<ProbeOutcome>| {
        Box::new(Stopped {
            error,
            root: Some(dir.clone()),
            probe: probe.map(Box::new),
        })
    };

    // Input errors (a broken config, a bad type) are found in milliseconds by planning; do
    // that before the probe, so nobody waits on the network to learn about a typo.
    if !cli.offline {
        plan::plan(&root, &key, &settings).map_err(|e| stop(e, None))?;
    }
    let probe = if cli.offline {
        ProbeOutcome::Skipped {
            reason: "--offline".into(),
        }
    } else {
        let k = plan::effective_key(&root, &key).map_err(|e| stop(e, None))?;
        secrets.push(k.expose().to_owned());
        ProbeOutcome::Done(probe_with_feedback(cli, &k, &cfg))
    };
    if let Some(report) = probe.report() {
        if let Some(f) = &report.blocking {
            let e = Error::Probe {
                message: f.message.clone(),
            };
            return Err(stop(e, Some(probe)));
        }
        warnings.extend(report.warnings.iter().cloned());
        apply_probe(cli, report, &mut settings, &mut warnings)
            .map_err(|e| stop(e, Some(probe.clone())))?;
    }

    let plan = plan::plan(&root, &key, &settings).map_err(|e| stop(e, Some(probe.clone())))?;
    if let (Some(shell), KeyChoice::Set(k)) = (env.get(key::ENV_VAR), &key)
        && shell.to_str() != Some(k.expose())
    {
        warnings.push(
            "GATEROUTER_API_KEY is also set in this shell's environment with a different value; \
             OpenClaw lets the process environment win over .env, so unset or update it"
                .to_owned(),
        );
    }
    if let Some(var) = env.readonly_var()
        && cli.mode() != Mode::Apply
    {
        warnings.push(format!(
            "{var}=1 is set: OpenClaw's configuration is read-only here, so applying would be refused"
        ));
    }
    Ok(Prepared {
        dir,
        probe,
        plan,
        warnings,
    })
}

/// Runs the probe with a spinner on a terminal (stderr, so piped output stays clean), and
/// with -v prints each request made.
pub(super) fn probe_with_feedback(cli: &Cli, key: &ApiKey, cfg: &ProbeConfig) -> ProbeReport {
    let spinner = (!cli.quiet && !cli.json && crate::output::stderr_is_terminal()).then(|| {
        let pb =
            indicatif::ProgressBar::new_spinner().with_finish(indicatif::ProgressFinish::AndClear);
        pb.set_message(format!("Checking GateRouter at {}…", cfg.base_url));
        pb.enable_steady_tick(std::time::Duration::from_millis(80));
        pb
    });
    let interrupt = spinner
        .as_ref()
        .map(|_| crate::output::interruptible(crate::output::Interruptible::Spinner));
    let report = probe::run(key, cfg);
    drop(interrupt);
    if let Some(pb) = spinner {
        pb.finish_and_clear();
    }
    if cli.verbose {
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
    report
}

/// What the probe changes in the plan: the live catalog, and a fixed primary when auto
/// routing is off (unless the user asked for a primary, or for auto to be required).
pub(super) fn apply_probe(
    cli: &Cli,
    report: &ProbeReport,
    settings: &mut Settings,
    warnings: &mut Vec<String>,
) -> Result<()> {
    if let Some(models) = &report.models {
        let compat = serde_json::json!({ "maxTokensField": "max_completion_tokens" });
        let list: Vec<serde_json::Value> = models
            .iter()
            .map(|m| {
                let mut e = serde_json::json!({ "id": m.id, "name": m.name });
                // OpenClaw budgets prompts and replies with these; without them it assumes
                // its defaults for every model.
                if let Some(n) = m.context_window {
                    e["contextWindow"] = n.into();
                }
                if let Some(n) = m.max_tokens {
                    e["maxTokens"] = n.into();
                }
                e["compat"] = compat.clone();
                e
            })
            .collect();
        settings.patch_provider(&serde_json::json!({ "models": list }))?;
        settings.catalog_live = true;
    }
    if report.auto_routing == AutoRouting::Off {
        if cli.probe.require_auto {
            return Err(Error::Probe {
                message: "auto routing is not enabled for this GateRouter account and --require-auto was given; switch it on in the dashboard (Dashboard → routing settings → enable Auto Routing)".into(),
            });
        }
        let fixed = settings
            .fallbacks
            .iter()
            .find(|f| f.starts_with("gaterouter/") && f.as_str() != "gaterouter/auto")
            .cloned();
        match (&cli.primary, fixed) {
            (Some(p), _) => warnings.push(format!(
                "auto routing is not enabled for this GateRouter account; keeping --primary {p} as asked. Switch it on in the dashboard (Dashboard → routing settings → enable Auto Routing)"
            )),
            (None, Some(f)) => {
                warnings.push(format!(
                    "auto routing is not enabled for this GateRouter account, so the primary model will be {f} instead of gaterouter/auto; switch it on in the dashboard (Dashboard → routing settings → enable Auto Routing) and run again to use auto"
                ));
                settings.primary = f;
            }
            (None, None) => warnings.push(
                "auto routing is not enabled for this GateRouter account; switch it on in the dashboard (Dashboard → routing settings → enable Auto Routing)".into(),
            ),
        }
    }
    Ok(())
}

/// One root: prepare, review, confirm, apply.
pub(super) fn run_setup(cli: &Cli, env: &Env) -> i32 {
    let mode = cli.mode();
    let mut secrets = Vec::new();
    let Prepared {
        dir,
        probe,
        plan,
        warnings,
    } = match prepare(cli, env, &mut secrets) {
        Ok(p) => p,
        Err(s) => {
            return fail(
                cli.json,
                mode,
                s.root.as_deref(),
                s.probe.as_deref(),
                None,
                &s.error,
                &[],
                &secrets,
            );
        }
    };
    let review = Review {
        json: cli.json,
        quiet: cli.quiet,
        verbose: cli.verbose,
        mode,
        yes: cli.yes,
        can_prompt: !cli.api_key_stdin && std::io::stdin().is_terminal(),
        color: cli.color,
        lock_timeout: cli.lock_timeout,
        kind: "setup",
        dir: &dir,
        probe: Some(&probe),
        warnings: &warnings,
        secrets: &secrets,
        nothing_to_do: "Already configured: nothing to change.",
        done_hint: "Restart the OpenClaw gateway (openclaw gateway restart) to pick up the new model.",
        verify: cli.verify.then(|| super::verify::After {
            config: root::resolve(positionals(cli).1.as_deref(), env).1,
            timeout: cli.probe.timeout,
        }),
    };
    review_and_apply(&review, &plan, env)
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

/// How a plan is shown, confirmed and applied; shared by setup and rollback.
pub(super) struct Review<'a> {
    pub(super) json: bool,
    pub(super) quiet: bool,
    /// `-v`: the diff in full (the models catalog is folded otherwise).
    pub(super) verbose: bool,
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
    /// `--verify`: check the root once it is configured.
    pub(super) verify: Option<super::verify::After>,
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
            verbose: false,
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
            verify: None,
        }
    }
}

/// Summary and diff (or the JSON report), then: nothing to do, dry run, check, or confirm
/// and apply. Returns the exit code.
pub(super) fn review_and_apply(r: &Review, plan: &Plan, env: &Env) -> i32 {
    let color = use_color(r.color, crate::output::stdout_is_terminal());
    if !r.json && !r.quiet {
        crate::output::out(&report::summary(plan, r.probe));
        for w in r.warnings.iter().chain(&plan.warnings) {
            crate::output::warning(w);
        }
        if !plan.is_empty() {
            crate::outln!();
            print_diff(&diff::render_review(plan, color, r.verbose), color);
        }
    }
    let pending = plan.pending().count();
    let finish_with = |applied: Option<&Applied>, code: i32, extra: &[String]| {
        // `--verify`: only once the root is configured (written now, or already).
        let verified = match &r.verify {
            Some(after) if code == exit::OK && r.mode == Mode::Apply => Some(
                super::verify::after_setup(after, r.dir, env, r.json || r.quiet),
            ),
            _ => None,
        };
        let code = match &verified {
            Some((c, _)) if *c != exit::OK => *c,
            _ => code,
        };
        if r.json {
            let warnings: Vec<String> = r.warnings.iter().chain(extra).cloned().collect();
            let mut v = report::value(&Outcome {
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
            if let Some((_, result)) = verified {
                v["verify"] = result;
            }
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
                if let Some(line) = report::recap(plan) {
                    crate::outln!("{line}");
                }
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
        if let Some(e) = unreviewed(r.json, r.quiet) {
            return fail_with(&e);
        }
        before_prompt(plan, r);
        let answer = {
            let _interrupt = crate::output::interruptible(crate::output::Interruptible::Prompt);
            confirm(&format!("Apply these changes to {}?", files(pending)))
        };
        if !answer {
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
                crate::outln!("{}", r.done_hint);
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

/// A prompt must never ask about changes the user was not shown: `-q` and `--json` show no
/// diff, so without `--yes` they are refused (exit 1, nothing written) rather than asking
/// blind. Showing the diff anyway would break the promise of `-q` (quiet) and of `--json`
/// (one document, nothing else); refusing costs one re-run with the flag the user meant.
pub(super) fn unreviewed(json: bool, quiet: bool) -> Option<Error> {
    let flag = match (json, quiet) {
        (true, _) => "--json",
        (_, true) => "-q",
        _ => return None,
    };
    Some(Error::Usage(format!(
        "{flag} shows no diff, so there is nothing to confirm and nothing was written; pass --yes to apply without reviewing, or run without {flag} to review the changes and be asked"
    )))
}

/// Right above the prompt: the one-line recap, after the diff has reached the screen. When
/// standard output is a file (or /dev/null) the review went there unseen, so it is shown on
/// standard error, the terminal the prompt is on.
fn before_prompt(plan: &Plan, r: &Review) {
    let recap = report::recap(plan);
    match crate::output::stdout_to() {
        crate::output::StdoutTo::Elsewhere => {
            let color = use_color(r.color, crate::output::stderr_is_terminal());
            crate::output::err(&report::summary(plan, r.probe));
            crate::output::err("\n");
            let d = diff::render_review(plan, color, r.verbose);
            if color {
                crate::output::err_styled(&d);
            } else {
                crate::output::err(&d);
            }
            if let Some(line) = &recap {
                crate::errln!("{line}");
            }
        }
        _ => {
            if let Some(line) = &recap {
                crate::outln!("{line}");
            }
            crate::output::settle_stdout();
        }
    }
}
