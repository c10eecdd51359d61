//! The command line: parse arguments, run the pipeline, print, and map to an exit code.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::apply::{self, Applied};
use crate::diff;
use crate::error::{Error, Result, exit};
use crate::key::{self, ApiKey};
use crate::plan::{self, KeyChoice, Plan};
use crate::probe::ProbeOutcome;
use crate::report::{self, Mode, Outcome};
use crate::root::{self, Env};
use crate::templates::{self, Settings};

const AFTER_HELP: &str = "\
Examples:
  gaterouter-setup sk-or-v1-… ~/.openclaw            show the diff, ask, then write
  gaterouter-setup --dry-run sk-or-v1-… ~/.openclaw  only show what would change
  GATEROUTER_API_KEY=… gaterouter-setup --yes --json /srv/openclaw   CI: no prompt, JSON report
  gaterouter-setup --check ~/.openclaw               exit 2 if the root is not configured (drift check)

Files (under the OpenClaw root, default $OPENCLAW_STATE_DIR or ~/.openclaw):
  .env                            GATEROUTER_API_KEY=<key>  (mode 0600)
  openclaw.json                   default model gaterouter/auto + fallbacks, auth profile, provider
  agents/<id>/agent/models.json   the gaterouter provider (apiKey is the variable name, never the key)
Originals are backed up to <root>/.gaterouter-backup/<UTC time>/ before anything is written.

Exit codes: 0 done or nothing to do; 1 usage or input error; 2 changes pending (--check);
            3 GateRouter probe failed; 4 apply failed and was rolled back.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Wire an OpenClaw installation to GateRouter: key in .env, the gaterouter provider in
/// models.json, gaterouter/auto as the default model in openclaw.json. Shows a diff first.
#[derive(Debug, Parser)]
#[command(name = "gaterouter-setup", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// GateRouter API key. In CI prefer --api-key-stdin or the GATEROUTER_API_KEY variable,
    /// so the key is not on a command line. Omitted: keep the key already in <root>/.env.
    #[arg(value_name = "API_KEY")]
    pub api_key: Option<String>,

    /// The OpenClaw root (state directory). Default: $OPENCLAW_STATE_DIR, else ~/.openclaw
    /// (honouring OPENCLAW_HOME, OPENCLAW_PROFILE and OPENCLAW_CONFIG_PATH).
    #[arg(value_name = "OPENCLAW_ROOT")]
    pub root: Option<PathBuf>,

    /// The OpenClaw root, as a flag (then a lone positional is the key).
    #[arg(long = "root", value_name = "DIR", conflicts_with = "root")]
    pub root_flag: Option<PathBuf>,

    /// Read the API key from standard input (one line).
    #[arg(long)]
    pub api_key_stdin: bool,

    /// Show the diff and write nothing.
    #[arg(long, conflicts_with_all = ["check", "yes"])]
    pub dry_run: bool,

    /// Like --dry-run, but exit 2 when changes are pending (a CI drift check).
    #[arg(long, conflicts_with = "yes")]
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

    /// Only edit this agent's models.json (agents/<ID>/agent/models.json).
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,

    /// GateRouter's OpenAI-compatible base URL.
    #[arg(long, value_name = "URL", env = "GATEROUTER_BASE_URL")]
    pub base_url: Option<String>,

    /// Colour the diff: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
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
    let root = cli.root_flag.clone().or_else(|| cli.root.clone());
    match (&cli.api_key, &cli.root, &cli.root_flag) {
        (Some(k), None, None) if PathBuf::from(k).is_dir() => (None, Some(PathBuf::from(k))),
        _ => (cli.api_key.clone(), root),
    }
}

fn key_choice(cli: &Cli, arg: Option<String>, env: &Env) -> Result<KeyChoice> {
    if cli.api_key_stdin {
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

fn settings(cli: &Cli) -> Result<Settings> {
    let mut s = Settings::builtin()?;
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
    if let Some(url) = &cli.base_url {
        let url = url.trim_end_matches('/');
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(Error::Usage(format!(
                "--base-url {url:?} must start with https:// (for example https://api.gaterouter.ai/openai/v1)"
            )));
        }
        s.patch_provider(&serde_json::json!({ "baseUrl": url }))?;
    }
    Ok(s)
}

/// Everything up to the plan; errors here have written nothing.
fn prepare(
    cli: &Cli,
    env: &Env,
    secrets: &mut Vec<String>,
) -> Result<(PathBuf, ProbeOutcome, Plan, Vec<String>)> {
    let (key_arg, root_arg) = positionals(cli);
    if let Some(k) = &key_arg {
        secrets.push(k.clone());
    }
    let key = key_choice(cli, key_arg, env)?;
    if let KeyChoice::Set(k) = &key {
        secrets.push(k.expose().to_owned());
    }
    let settings = settings(cli)?;
    let (dir, config_override) = root::resolve(root_arg.as_deref(), env);
    let root = root::discover(&dir, config_override.as_deref(), cli.agent.as_deref())?;
    let probe = ProbeOutcome::Skipped {
        reason: if cli.offline {
            "--offline".into()
        } else {
            "not available in this build; using the bundled model catalog".into()
        },
    };
    let plan = plan::plan(&root, &key, &settings)?;
    let mut warnings = Vec::new();
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
        warnings.push(format!("{var}=1 is set: OpenClaw's configuration is read-only here, so applying would be refused"));
    }
    Ok((dir, probe, plan, warnings))
}

fn confirm(n: usize) -> bool {
    eprint!(
        "Apply these changes to {n} file{}? [y/N] ",
        if n == 1 { "" } else { "s" }
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// Runs one invocation and returns its exit code.
pub fn run(cli: &Cli, env: &Env) -> i32 {
    let mode = cli.mode();
    let mut secrets = Vec::new();
    let prepared = prepare(cli, env, &mut secrets);
    let (dir, probe, plan, warnings) = match prepared {
        Ok(p) => p,
        Err(e) => return fail(cli, mode, None, None, None, &e, &[], &secrets),
    };
    let stdout_tty = std::io::stdout().is_terminal();
    let color = use_color(cli.color, stdout_tty);
    let mut out = anstream::AutoStream::new(
        std::io::stdout(),
        if color {
            anstream::ColorChoice::Always
        } else {
            anstream::ColorChoice::Never
        },
    );

    if !cli.json {
        let _ = write!(out, "{}", report::summary(&plan, &probe));
        for w in warnings.iter().chain(&plan.warnings) {
            eprintln!("warning: {w}");
        }
        if !plan.is_empty() {
            let _ = writeln!(out);
            let _ = write!(out, "{}", diff::render_plan(&plan, color));
        }
    }

    let pending = plan.pending().count();
    let finish = |applied: Option<&Applied>, code: i32| {
        if cli.json {
            println!(
                "{}",
                report::json(&Outcome {
                    mode,
                    root: Some(&dir),
                    probe: Some(&probe),
                    plan: Some(&plan),
                    applied,
                    error: None,
                    warnings: &warnings,
                    exit_code: code,
                    secrets: &secrets,
                })
            );
        }
        code
    };

    if pending == 0 {
        if !cli.json {
            println!("Already configured: nothing to change.");
        }
        return finish(None, exit::OK);
    }
    match mode {
        Mode::DryRun => {
            if !cli.json {
                println!("Dry run: nothing was written. Run again without --dry-run to apply.");
            }
            return finish(None, exit::OK);
        }
        Mode::Check => {
            if !cli.json {
                println!(
                    "{pending} file{} would change (exit 2).",
                    if pending == 1 { "" } else { "s" }
                );
            }
            return finish(None, exit::PENDING);
        }
        Mode::Apply => {}
    }
    if !cli.yes {
        if cli.api_key_stdin || !std::io::stdin().is_terminal() {
            return fail(
                cli,
                mode,
                Some(&dir),
                Some(&probe),
                Some(&plan),
                &Error::NotInteractive,
                &warnings,
                &secrets,
            );
        }
        if !confirm(pending) {
            eprintln!("Cancelled: nothing was written.");
            return finish(None, exit::INPUT);
        }
    }
    match apply::apply(&plan, env) {
        Ok(applied) => {
            if !cli.json {
                println!(
                    "Wrote {} file{}.{}",
                    applied.written.len(),
                    if applied.written.len() == 1 { "" } else { "s" },
                    applied
                        .backup
                        .as_ref()
                        .map(|b| format!(" Originals backed up in {}", b.display()))
                        .unwrap_or_default()
                );
                println!(
                    "Restart the OpenClaw gateway (openclaw gateway restart) to pick up the new model."
                );
            }
            finish(Some(&applied), exit::OK)
        }
        Err(e) => fail(
            cli,
            mode,
            Some(&dir),
            Some(&probe),
            Some(&plan),
            &e,
            &warnings,
            &secrets,
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn fail(
    cli: &Cli,
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
    if cli.json {
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
