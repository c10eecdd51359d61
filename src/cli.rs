//! The command line: parse arguments, run the pipeline, print, and map to an exit code.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::apply::{self, Applied};
use crate::diff;
use crate::error::{Error, Result, exit};
use crate::key::{self, ApiKey};
use crate::plan::{self, KeyChoice, Plan};
use crate::probe::{self, AutoRouting, ProbeConfig, ProbeOutcome, ProbeReport};
use crate::report::{self, Mode, Outcome};
use crate::rollback;
use crate::root::{self, Env};
use crate::templates::{self, Settings};

const AFTER_HELP: &str = "\
Examples:
  gaterouter-setup sk-or-v1-… ~/.openclaw              check GateRouter, show the diff, ask, write
  gaterouter-setup --dry-run sk-or-v1-… ~/.openclaw    only show what would change
  gaterouter-setup --check ~/.openclaw                 CI drift check: exit 2 if changes are pending
  GATEROUTER_API_KEY=… gaterouter-setup --yes --json /srv/openclaw   CI: no prompt, JSON report
  printf %s \"$KEY\" | gaterouter-setup --api-key-stdin --yes      key never on a command line
  gaterouter-setup --offline sk-or-v1-… ~/.openclaw    no network: bundled model catalog
  gaterouter-setup --roots-from roots.txt --yes        many roots, one probe
  gaterouter-setup probe sk-or-v1-…                    only check GateRouter (exit 3 if setup would fail)
  gaterouter-setup doctor ~/.openclaw                  read-only health check with fixes
  gaterouter-setup rollback ~/.openclaw                undo the last setup (--list shows backups)
  gaterouter-setup uninstall ~/.openclaw               remove GateRouter, restore your model

Files (under the OpenClaw root, default $OPENCLAW_STATE_DIR or ~/.openclaw):
  .env                            GATEROUTER_API_KEY=<key>  (mode 0600)
  openclaw.json                   default model gaterouter/auto + fallbacks, auth profile, provider
  agents/<id>/agent/models.json   the gaterouter provider (apiKey is the variable name, never the key)
Originals are backed up to <root>/.gaterouter-backup/<UTC time>/ before anything is written.

Exit codes: 0 done or nothing to do; 1 usage or input error; 2 changes pending (--check);
            3 GateRouter check failed; 4 write failed and every file was restored.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Wire an OpenClaw installation to GateRouter: key in .env, the gaterouter provider in
/// models.json, gaterouter/auto as the default model in openclaw.json. Shows a diff first.
#[derive(Debug, Parser)]
#[command(
    name = "gaterouter-setup",
    version,
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// GateRouter API key. In CI prefer --api-key-stdin or the GATEROUTER_API_KEY variable,
    /// so the key is not on a command line. Omitted: keep the key already in <root>/.env.
    #[arg(value_name = "API_KEY")]
    pub api_key: Option<String>,

    /// The OpenClaw root (state directory). Default: $OPENCLAW_STATE_DIR, else ~/.openclaw
    /// (honouring OPENCLAW_HOME, OPENCLAW_PROFILE and OPENCLAW_CONFIG_PATH).
    #[arg(value_name = "OPENCLAW_ROOT")]
    pub root: Option<PathBuf>,

    /// An OpenClaw root, as a flag (then a lone positional is the key). Repeat it to set up
    /// several roots in one run: one probe for all, a plan and a result per root.
    #[arg(long = "root", value_name = "DIR")]
    pub root_flags: Vec<PathBuf>,

    /// Read more roots from FILE, one path per line (blank lines and # comments skipped).
    #[arg(long, value_name = "FILE")]
    pub roots_from: Option<PathBuf>,

    /// With several roots: stop at the first root that fails instead of going on.
    #[arg(long)]
    pub fail_fast: bool,

    /// Read the API key from standard input (one line).
    #[arg(long)]
    pub api_key_stdin: bool,

    /// Show the diff and write nothing (wins over --yes).
    #[arg(long, conflicts_with = "check")]
    pub dry_run: bool,

    /// Like --dry-run, but exit 2 when changes are pending (a CI drift check).
    #[arg(long)]
    pub check: bool,

    /// Apply without asking (required when standard input is not a terminal).
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Print one JSON report on standard output instead of the summary and diff.
    #[arg(long)]
    pub json: bool,

    /// Do not contact GateRouter; use the bundled model catalog.
    #[arg(long)]
    pub offline: bool,

    /// The default model (default: gaterouter/auto).
    #[arg(long, value_name = "REF")]
    pub primary: Option<String>,

    /// A fallback model; repeat for several (default: gaterouter/anthropic/claude-sonnet-4.6,
    /// openrouter/anthropic/claude-sonnet-4.6).
    #[arg(long = "fallback", value_name = "REF")]
    pub fallbacks: Vec<String>,

    /// Use provider.json and/or openclaw.json from DIR instead of the built-in templates
    /// (start from a copy of the repository's templates/).
    #[arg(long, value_name = "DIR")]
    pub template_dir: Option<PathBuf>,

    /// Only edit this agent's models.json (agents/<ID>/agent/models.json).
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,

    #[command(flatten)]
    pub probe: ProbeArgs,

    /// Seconds to wait for another gaterouter-setup (or OpenClaw itself) to finish writing.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub lock_timeout: u64,

    /// Print errors only (no summary, diff or warnings).
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Also print the requests made to GateRouter (URL, status, latency; never the key).
    #[arg(short, long)]
    pub verbose: bool,

    /// Colour the diff: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Only check GateRouter: reachable, key accepted, auto routing on, live models.
    /// Exit 0 when setup would work, 3 when it would not.
    Probe {
        /// GateRouter API key (else --api-key-stdin or GATEROUTER_API_KEY).
        #[arg(value_name = "API_KEY")]
        api_key: Option<String>,
        /// Read the API key from standard input (one line).
        #[arg(long)]
        api_key_stdin: bool,
        /// Print the probe report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        probe: ProbeArgs,
    },
    /// Put back the files as they were before the last setup (from <root>/.gaterouter-backup).
    Rollback(RollbackArgs),
    /// Remove what setup added (key, provider, auth profile, our model refs) and restore the
    /// default model you had before; format-preserving, diff first.
    Uninstall(UninstallArgs),
    /// Print a shell completion script: gaterouter-setup completions bash > /etc/bash_completion.d/gaterouter-setup
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): gaterouter-setup man | man -l -
    Man,
    /// Check a root without changing it: a line per check, a fix for each problem.
    /// Exit 0 when healthy, 1 when something needs fixing.
    Doctor {
        /// The OpenClaw root (default as for setup).
        #[arg(value_name = "OPENCLAW_ROOT")]
        root: Option<PathBuf>,
        /// Check only this agent's models.json.
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
        /// Print the checks as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// How rollback and uninstall review and write (as setup does).
#[derive(Debug, Clone, Args)]
pub struct ReviewArgs {
    /// Write without asking.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Show the diff and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print one JSON report on standard output.
    #[arg(long)]
    pub json: bool,
    /// Seconds to wait for another run (or OpenClaw) to finish writing.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub lock_timeout: u64,
    /// Colour the diff: auto, always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The OpenClaw root (default as for setup).
    #[arg(value_name = "OPENCLAW_ROOT")]
    pub root: Option<PathBuf>,
    /// List the backup sets instead of restoring one.
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub review: ReviewArgs,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// The OpenClaw root (default as for setup).
    #[arg(value_name = "OPENCLAW_ROOT")]
    pub root: Option<PathBuf>,
    #[command(flatten)]
    pub review: ReviewArgs,
}

/// How GateRouter is reached; shared by setup and `probe`.
#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    /// GateRouter's OpenAI-compatible base URL (default https://api.gaterouter.ai/openai/v1).
    #[arg(long, value_name = "URL", env = "GATEROUTER_BASE_URL")]
    pub base_url: Option<String>,

    /// Seconds each probe request may take, retries included.
    #[arg(long, value_name = "SECS", default_value_t = 15)]
    pub timeout: u64,

    /// Fail (exit 3) when auto routing is not enabled, instead of falling back to a fixed model.
    #[arg(long)]
    pub require_auto: bool,
}

impl Cli {
    fn mode(&self) -> Mode {
        if self.check {
            Mode::Check
        } else if self.dry_run {
            Mode::DryRun
        } else {
            Mode::Apply
        }
    }
}

/// Entry point for `main.rs`: never panics on bad input, always returns an exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit::OK
                }
                _ => exit::INPUT,
            };
        }
    };
    run(&cli, &Env::from_process())
}

fn use_color(choice: ColorChoice, tty: bool) -> bool {
    let set = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty() && x != "0");
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set("NO_COLOR") => false,
        ColorChoice::Auto if set("CLICOLOR_FORCE") => true,
        ColorChoice::Auto => tty,
    }
}

/// Splits the positionals: a lone positional naming an existing directory is the root
/// (a key is never a directory), otherwise positionals are `API_KEY [ROOT]`.
fn positionals(cli: &Cli) -> (Option<String>, Option<PathBuf>) {
    let root = cli.root_flags.first().cloned().or_else(|| cli.root.clone());
    match (&cli.api_key, &cli.root, cli.root_flags.is_empty()) {
        (Some(k), None, true) if PathBuf::from(k).is_dir() => (None, Some(PathBuf::from(k))),
        _ => (cli.api_key.clone(), root),
    }
}

/// Every root named: the positional one, each --root, and the lines of --roots-from.
fn all_roots(cli: &Cli) -> Result<Vec<PathBuf>> {
    let (_, positional) = positionals(cli);
    let mut roots: Vec<PathBuf> = Vec::new();
    if cli.root_flags.is_empty() {
        roots.extend(positional);
    } else {
        roots.extend(cli.root.clone());
        roots.extend(cli.root_flags.iter().cloned());
    }
    if let Some(f) = &cli.roots_from {
        let text = fs_err::read_to_string(f).map_err(|e| Error::io(f, e))?;
        roots.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(PathBuf::from),
        );
    }
    Ok(roots)
}

fn key_choice(stdin: bool, arg: Option<String>, env: &Env) -> Result<KeyChoice> {
    if stdin {
        if arg.is_some() {
            return Err(Error::Usage(
                "the API key was given both as an argument and with --api-key-stdin; pass it one way".into(),
            ));
        }
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            Error::Usage(format!("--api-key-stdin: cannot read standard input: {e}"))
        })?;
        let line = s.strip_suffix('\n').unwrap_or(&s);
        let line = line.strip_suffix('\r').unwrap_or(line);
        return Ok(KeyChoice::Set(ApiKey::parse(line)?));
    }
    if let Some(k) = arg {
        return Ok(KeyChoice::Set(ApiKey::parse(&k)?));
    }
    if let Some(k) = env.get(key::ENV_VAR) {
        let k = k
            .to_str()
            .ok_or_else(|| Error::InvalidKey("in GATEROUTER_API_KEY is not valid UTF-8".into()))?;
        return Ok(KeyChoice::Set(ApiKey::parse(k)?));
    }
    Ok(KeyChoice::KeepExisting)
}

/// The probe configuration: `--base-url` (or `GATEROUTER_BASE_URL`), else `default` (the
/// template's baseUrl), and a warning when its path looks wrong.
fn probe_config(args: &ProbeArgs, default: &str) -> Result<(ProbeConfig, Option<String>)> {
    let raw = args.base_url.as_deref().unwrap_or(default);
    let (url, warning) = probe::normalize_base_url(raw).map_err(Error::Usage)?;
    let mut cfg = ProbeConfig::new(&url);
    cfg.timeout = std::time::Duration::from_secs(args.timeout.max(1));
    Ok((cfg, warning))
}

fn settings(cli: &Cli) -> Result<Settings> {
    let mut s = match &cli.template_dir {
        None => Settings::builtin()?,
        Some(dir) => {
            let read = |name: &str, builtin: &str| -> Result<String> {
                let p = dir.join(name);
                match fs_err::read_to_string(&p) {
                    Ok(t) => Ok(t),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(builtin.to_owned()),
                    Err(e) => Err(Error::io(&p, e)),
                }
            };
            if !dir.is_dir() {
                return Err(Error::Usage(format!(
                    "--template-dir {} is not a directory",
                    dir.display()
                )));
            }
            Settings::from_templates(
                &read("provider.json", templates::PROVIDER_JSON)?,
                &read("openclaw.json", templates::OPENCLAW_JSON)?,
            )
            .map_err(|e| Error::Template(format!("{} ({})", e, dir.display())))?
        }
    };
    if let Some(p) = &cli.primary {
        templates::check_ref(p, "--primary")?;
        s.primary = p.clone();
    }
    if !cli.fallbacks.is_empty() {
        for f in &cli.fallbacks {
            templates::check_ref(f, "--fallback")?;
        }
        s.fallbacks = cli.fallbacks.clone();
    }
    Ok(s)
}

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
    if let Some(k) = &key_arg {
        secrets.push(k.clone());
    }
    let key = key_choice(cli.api_key_stdin, key_arg, env)?;
    if let KeyChoice::Set(k) = &key {
        secrets.push(k.expose().to_owned());
    }
    let mut settings = settings(cli)?;
    let (cfg, url_warning) = probe_config(&cli.probe, settings.base_url())?;
    settings.patch_provider(&serde_json::json!({ "baseUrl": cfg.base_url }))?;
    let mut warnings: Vec<String> = url_warning.into_iter().collect();
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
fn probe_with_feedback(cli: &Cli, key: &ApiKey, cfg: &ProbeConfig) -> ProbeReport {
    let spinner = (!cli.quiet && !cli.json && std::io::stderr().is_terminal()).then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_message(format!("Checking GateRouter at {}…", cfg.base_url));
        pb.enable_steady_tick(std::time::Duration::from_millis(80));
        pb
    });
    let report = probe::run(key, cfg);
    if let Some(pb) = spinner {
        pb.finish_and_clear();
    }
    if cli.verbose {
        for r in &report.requests {
            eprintln!(
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
fn apply_probe(
    cli: &Cli,
    report: &ProbeReport,
    settings: &mut Settings,
    warnings: &mut Vec<String>,
) -> Result<()> {
    if let Some(models) = &report.models {
        let compat = serde_json::json!({ "maxTokensField": "max_completion_tokens" });
        let list: Vec<serde_json::Value> = models
            .iter()
            .map(|m| serde_json::json!({ "id": m.id, "name": m.name, "compat": compat }))
            .collect();
        settings.patch_provider(&serde_json::json!({ "models": list }))?;
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

/// Asks on the terminal (stderr), defaulting to No; any failure to ask is a No.
fn confirm(question: &str) -> bool {
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .wait_for_newline(true)
        .interact_opt()
        .ok()
        .flatten()
        .unwrap_or(false)
}

fn files(n: usize) -> String {
    format!("{n} file{}", if n == 1 { "" } else { "s" })
}

/// Runs one invocation and returns its exit code.
pub fn run(cli: &Cli, env: &Env) -> i32 {
    if let Some(Command::Probe {
        api_key,
        api_key_stdin,
        json,
        probe,
    }) = &cli.command
    {
        return run_probe(api_key.clone(), *api_key_stdin, *json, probe, env);
    }
    if let Some(Command::Rollback(a)) = &cli.command {
        return run_rollback(a, env);
    }
    if let Some(Command::Completions { shell }) = &cli.command {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(*shell, &mut cmd, "gaterouter-setup", &mut std::io::stdout());
        return exit::OK;
    }
    if let Some(Command::Man) = &cli.command {
        let cmd = <Cli as clap::CommandFactory>::command();
        return match clap_mangen::Man::new(cmd).render(&mut std::io::stdout()) {
            Ok(()) => exit::OK,
            Err(e) => {
                eprintln!("error: {e}");
                exit::INPUT
            }
        };
    }
    if let Some(Command::Uninstall(a)) = &cli.command {
        return run_uninstall(a, env);
    }
    if let Some(Command::Doctor { root, agent, json }) = &cli.command {
        return run_doctor(root.as_deref(), agent.as_deref(), *json, env);
    }
    match all_roots(cli) {
        Ok(roots) if roots.len() > 1 || cli.roots_from.is_some() => {
            return run_many(cli, env, &roots);
        }
        Ok(_) => {}
        Err(e) => return fail(cli.json, cli.mode(), None, None, None, &e, &[], &[]),
    }
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
    };
    review_and_apply(&review, &plan, env)
}

/// How a plan is shown, confirmed and applied; shared by setup and rollback.
struct Review<'a> {
    json: bool,
    quiet: bool,
    mode: Mode,
    yes: bool,
    can_prompt: bool,
    color: ColorChoice,
    lock_timeout: u64,
    kind: &'static str,
    dir: &'a std::path::Path,
    probe: Option<&'a ProbeOutcome>,
    warnings: &'a [String],
    secrets: &'a [String],
    nothing_to_do: &'static str,
    done_hint: &'static str,
}

/// Summary and diff (or the JSON report), then: nothing to do, dry run, check, or confirm
/// and apply. Returns the exit code.
fn review_and_apply(r: &Review, plan: &Plan, env: &Env) -> i32 {
    let color = use_color(r.color, std::io::stdout().is_terminal());
    let mut out = anstream::AutoStream::new(
        std::io::stdout(),
        if color {
            anstream::ColorChoice::Always
        } else {
            anstream::ColorChoice::Never
        },
    );
    if !r.json && !r.quiet {
        let _ = write!(out, "{}", report::summary(plan, r.probe));
        for w in r.warnings.iter().chain(&plan.warnings) {
            eprintln!("warning: {w}");
        }
        if !plan.is_empty() {
            let _ = writeln!(out);
            let _ = write!(out, "{}", diff::render_plan(plan, color));
        }
    }
    let pending = plan.pending().count();
    let finish = |applied: Option<&Applied>, code: i32| {
        if r.json {
            println!(
                "{}",
                report::json(&Outcome {
                    mode: r.mode,
                    root: Some(r.dir),
                    probe: r.probe,
                    plan: Some(plan),
                    applied,
                    error: None,
                    warnings: r.warnings,
                    exit_code: code,
                    secrets: r.secrets,
                })
            );
        }
        code
    };
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
            println!("{}", r.nothing_to_do);
        }
        return finish(None, exit::OK);
    }
    match r.mode {
        Mode::DryRun => {
            if !r.json && !r.quiet {
                println!("Dry run: nothing was written. Run again without --dry-run to apply.");
            }
            return finish(None, exit::OK);
        }
        Mode::Check => {
            if !r.json && !r.quiet {
                println!(
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
            eprintln!("Cancelled: nothing was written.");
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
                println!(
                    "Wrote {} file{}.{}",
                    applied.written.len(),
                    if applied.written.len() == 1 { "" } else { "s" },
                    applied
                        .backup
                        .as_ref()
                        .map(|b| format!(" Previous contents backed up in {}", b.display()))
                        .unwrap_or_default()
                );
                println!("{}", r.done_hint);
            }
            finish(Some(&applied), exit::OK)
        }
        Err(e) => fail_with(&e),
    }
}

/// `gaterouter-setup rollback`: put back the newest backup set made by setup.
fn run_rollback(a: &RollbackArgs, env: &Env) -> i32 {
    let r = &a.review;
    let mode = if r.dry_run { Mode::DryRun } else { Mode::Apply };
    let (dir, _) = root::resolve(a.root.as_deref(), env);
    let prepared = (|| -> Result<Option<(rollback::BackupSet, Plan)>> {
        if !dir.is_dir() {
            root::discover(&dir, None, None)?;
        }
        if a.list {
            return Ok(None);
        }
        let set = rollback::newest(&dir)?;
        let plan = rollback::plan(&dir, &set)?;
        Ok(Some((set, plan)))
    })();
    let (set, plan) = match prepared {
        Ok(Some(p)) => p,
        Ok(None) => return list_backups(&dir, r.json),
        Err(e) => return fail(r.json, mode, Some(&dir), None, None, &e, &[], &[]),
    };
    if !r.json {
        println!(
            "Rolling back to the backup made at {} ({})",
            set.stamp,
            set.dir.display()
        );
    }
    let review = Review {
        json: r.json,
        quiet: false,
        mode,
        yes: r.yes,
        can_prompt: std::io::stdin().is_terminal(),
        color: r.color,
        lock_timeout: r.lock_timeout,
        kind: "rollback",
        dir: &dir,
        probe: None,
        warnings: &[],
        secrets: &[],
        nothing_to_do: "Nothing to roll back: the files already match the backup.",
        done_hint: "Restart the OpenClaw gateway (openclaw gateway restart) to pick up the restored configuration.",
    };
    review_and_apply(&review, &plan, env)
}

/// `gaterouter-setup uninstall`: remove what setup added, restoring the previous model.
fn run_uninstall(a: &UninstallArgs, env: &Env) -> i32 {
    let r = &a.review;
    let mode = if r.dry_run { Mode::DryRun } else { Mode::Apply };
    let (dir, config_override) = root::resolve(a.root.as_deref(), env);
    let prepared = (|| -> Result<Plan> {
        let root = root::discover(&dir, config_override.as_deref(), None)?;
        let (previous, added) = rollback::recorded(&dir)?;
        plan::plan_uninstall(&root, previous.as_ref(), &added)
    })();
    let plan = match prepared {
        Ok(p) => p,
        Err(e) => return fail(r.json, mode, Some(&dir), None, None, &e, &[], &[]),
    };
    let review = Review {
        json: r.json,
        quiet: false,
        mode,
        yes: r.yes,
        can_prompt: std::io::stdin().is_terminal(),
        color: r.color,
        lock_timeout: r.lock_timeout,
        kind: "uninstall",
        dir: &dir,
        probe: None,
        warnings: &[],
        secrets: &[],
        nothing_to_do: "Nothing to uninstall: no GateRouter settings found.",
        done_hint: "Restart the OpenClaw gateway (openclaw gateway restart) to pick up the change.",
    };
    review_and_apply(&review, &plan, env)
}

/// `gaterouter-setup doctor`: read-only checks; exit 0 healthy, 1 problems.
fn run_doctor(
    root_arg: Option<&std::path::Path>,
    agent: Option<&str>,
    json: bool,
    env: &Env,
) -> i32 {
    let (dir, config_override) = root::resolve(root_arg, env);
    let root = match root::discover(&dir, config_override.as_deref(), agent) {
        Ok(r) => r,
        Err(e) => return fail(json, Mode::DryRun, Some(&dir), None, None, &e, &[], &[]),
    };
    let checks = crate::doctor::run(&root, env);
    let problems = checks
        .iter()
        .filter(|c| c.status == crate::doctor::Status::Problem)
        .count();
    let code = if problems == 0 { exit::OK } else { exit::INPUT };
    if json {
        let v = serde_json::json!({
            "version": report::REPORT_VERSION,
            "root": dir,
            "healthy": problems == 0,
            "problems": problems,
            "checks": checks,
            "exit_code": code,
        });
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
        return code;
    }
    println!("OpenClaw root: {}", dir.display());
    for c in &checks {
        let tag = match c.status {
            crate::doctor::Status::Ok => "ok  ",
            crate::doctor::Status::Warn => "warn",
            crate::doctor::Status::Problem => "FAIL",
        };
        match &c.fix {
            Some(fix) => println!("  {tag}  {} → {fix}", c.what),
            None => println!("  {tag}  {}", c.what),
        }
    }
    if problems == 0 {
        println!("Healthy: OpenClaw is set up for GateRouter.");
    } else {
        println!(
            "{problems} problem{} found.",
            if problems == 1 { "" } else { "s" }
        );
    }
    code
}

fn list_backups(dir: &std::path::Path, json: bool) -> i32 {
    let sets = match rollback::list(dir) {
        Ok(s) => s,
        Err(e) => return fail(json, Mode::DryRun, Some(dir), None, None, &e, &[], &[]),
    };
    if json {
        let v: Vec<serde_json::Value> = sets
            .iter()
            .map(|s| serde_json::json!({"stamp": s.stamp, "kind": s.kind, "dir": s.dir, "files": s.files}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"version": report::REPORT_VERSION, "backups": v})
            )
            .expect("json")
        );
        return exit::OK;
    }
    if sets.is_empty() {
        println!("No backups in {}", dir.join(apply::BACKUP_DIR).display());
    }
    for s in sets.iter().rev() {
        println!("{}  {:<8}  {}", s.stamp, s.kind, s.files.join(", "));
    }
    exit::OK
}

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
fn run_many(cli: &Cli, env: &Env, roots: &[PathBuf]) -> i32 {
    let mode = cli.mode();
    let mut secrets = Vec::new();
    let (key_arg, _) = positionals(cli);
    if let Some(k) = &key_arg {
        secrets.push(k.clone());
    }
    let shared = (|| -> Result<(KeyChoice, Settings, ProbeConfig, Vec<String>)> {
        let key = key_choice(cli.api_key_stdin, key_arg, env)?;
        let mut settings = settings(cli)?;
        let (cfg, url_warning) = probe_config(&cli.probe, settings.base_url())?;
        settings.patch_provider(&serde_json::json!({ "baseUrl": cfg.base_url }))?;
        Ok((key, settings, cfg, url_warning.into_iter().collect()))
    })();
    let (key, mut settings, cfg, mut warnings) = match shared {
        Ok(s) => s,
        Err(e) => return fail(cli.json, mode, None, None, None, &e, &[], &secrets),
    };
    if let KeyChoice::Set(k) = &key {
        secrets.push(k.expose().to_owned());
    }
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
        if let Some(f) = &report.blocking {
            let e = Error::Probe {
                message: f.message.clone(),
            };
            return fail(
                cli.json,
                mode,
                None,
                Some(&probe),
                None,
                &e,
                &warnings,
                &secrets,
            );
        }
        warnings.extend(report.warnings.iter().cloned());
        if let Err(e) = apply_probe(cli, report, &mut settings, &mut warnings) {
            return fail(
                cli.json,
                mode,
                None,
                Some(&probe),
                None,
                &e,
                &warnings,
                &secrets,
            );
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

    let color = use_color(cli.color, std::io::stdout().is_terminal());
    if !cli.json && !cli.quiet {
        let mut out = anstream::AutoStream::new(
            std::io::stdout(),
            if color {
                anstream::ColorChoice::Always
            } else {
                anstream::ColorChoice::Never
            },
        );
        for w in &warnings {
            eprintln!("warning: {w}");
        }
        for r in &runs {
            match (&r.plan, &r.error) {
                (Some(p), _) => {
                    let _ = write!(out, "{}", report::summary(p, Some(&probe)));
                    if !p.is_empty() {
                        let _ = write!(out, "{}", diff::render_plan(p, color));
                    }
                }
                (None, Some(e)) => {
                    let all: Vec<&str> = secrets.iter().map(String::as_str).collect();
                    eprintln!(
                        "error: {}: {}",
                        r.dir.display(),
                        key::redact_all(&e.to_string(), &all)
                    );
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
        } else {
            if !confirm(&format!(
                "Apply these changes to {} in {changed_roots} roots?",
                files(pending)
            )) {
                eprintln!("Cancelled: nothing was written.");
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
                eprintln!(
                    "error: {}: {}",
                    r.dir.display(),
                    key::redact_all(&e.to_string(), &all)
                );
            }
        }
    }
    if let Some(e) = &refused
        && !cli.json
        && matches!(e, Error::NotInteractive)
    {
        eprintln!("error: {e}");
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
        let all: Vec<&str> = secrets.iter().map(String::as_str).collect();
        println!(
            "{}",
            key::redact_all(&serde_json::to_string_pretty(&doc).expect("json"), &all)
        );
    } else if !cli.quiet {
        let failed = runs.iter().filter(|r| r.error.is_some()).count();
        let applied = runs.iter().filter(|r| r.applied.is_some()).count();
        println!(
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

/// `gaterouter-setup probe`: the probe alone, printed or as JSON; exit 0 or 3.
fn run_probe(key_arg: Option<String>, stdin: bool, json: bool, args: &ProbeArgs, env: &Env) -> i32 {
    let mut secrets: Vec<String> = key_arg.iter().cloned().collect();
    let result = (|| -> Result<(ProbeReport, Vec<String>)> {
        let key = match key_choice(stdin, key_arg, env)? {
            KeyChoice::Set(k) => k,
            KeyChoice::KeepExisting => {
                return Err(Error::Usage(
                    "probe needs an API key: pass it as an argument, with --api-key-stdin, or in GATEROUTER_API_KEY".into(),
                ));
            }
        };
        secrets.push(key.expose().to_owned());
        let (cfg, warning) = probe_config(args, probe::DEFAULT_BASE_URL)?;
        Ok((probe::run(&key, &cfg), warning.into_iter().collect()))
    })();
    let all: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let (report, warnings) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}", key::redact_all(&e.to_string(), &all));
            return e.exit_code();
        }
    };
    let auto_missing = args.require_auto && report.auto_routing != AutoRouting::On;
    let code = if report.blocking.is_some() || auto_missing {
        exit::PROBE
    } else {
        exit::OK
    };
    if json {
        let mut v = serde_json::to_value(&report).expect("report serialises");
        v["version"] = serde_json::json!(report::REPORT_VERSION);
        v["exit_code"] = serde_json::json!(code);
        let mut w = warnings.clone();
        w.extend(report.warnings.iter().cloned());
        v["warnings"] = serde_json::json!(w);
        let text = serde_json::to_string_pretty(&v).expect("json");
        println!("{}", key::redact_all(&text, &all));
        return code;
    }
    println!("GateRouter: {}", report.base_url);
    for r in &report.requests {
        let status = r.status.map_or("no answer".to_owned(), |s| s.to_string());
        println!(
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
    println!("Result: {}", report.summary());
    for w in warnings.iter().chain(&report.warnings) {
        eprintln!("warning: {w}");
    }
    if let Some(f) = &report.blocking {
        eprintln!("error: {}", f.message);
    } else if auto_missing {
        eprintln!(
            "error: auto routing is not enabled (--require-auto); switch it on in the dashboard (Dashboard → routing settings → enable Auto Routing)"
        );
    }
    code
}

#[allow(clippy::too_many_arguments)]
fn fail(
    json: bool,
    mode: Mode,
    root: Option<&std::path::Path>,
    probe: Option<&ProbeOutcome>,
    plan: Option<&Plan>,
    e: &Error,
    warnings: &[String],
    secrets: &[String],
) -> i32 {
    let code = e.exit_code();
    let all: Vec<&str> = secrets
        .iter()
        .map(String::as_str)
        .chain(
            plan.into_iter()
                .flat_map(|p| p.secrets.iter().map(String::as_str)),
        )
        .collect();
    eprintln!("error: {}", key::redact_all(&e.to_string(), &all));
    if json {
        println!(
            "{}",
            report::json(&Outcome {
                mode,
                root,
                probe,
                plan,
                applied: None,
                error: Some(e),
                warnings,
                exit_code: code,
                secrets,
            })
        );
    }
    code
}
