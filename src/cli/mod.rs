//! The command line, thin over the library: parse and validate arguments into a
//! [`crate::ops::setup::Request`] (or a command's inputs), run, render the report (text or
//! `--json`), and map it to an exit code. `setup` renders one root and is the run's `Ui`;
//! `many` renders many roots; `commands` holds probe, rollback, uninstall and doctor;
//! `verify` the verify command.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::{Args, ColorChoice, Parser, Subcommand};

mod build_info;
mod commands;
mod man;
mod many;
pub(crate) mod output;
mod setup;
mod verify;

use crate::error::{Error, Result, exit};
use crate::gaterouter::key::{self, ApiKey};
use crate::gaterouter::probe::{self, ProbeConfig, ProbeOutcome, ProbeReport};
use crate::gaterouter::templates::{self, Settings};
use crate::openclaw::root::{self, Env};
use crate::ops::rollback;
use crate::plan::{self, KeyChoice, Plan};
use crate::redact::secrets::Redactor;
use crate::report::diff;
use crate::report::{self, Mode, Outcome, plural};
use crate::txn::apply::{self, Applied};
use crate::txn::backup::RunKind;
use output::{Sink, errln, outln};

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
  gaterouter-setup verify ~/.openclaw                  prove it answers as OpenClaw calls it (one tiny request per model checked)
  gaterouter-setup rollback ~/.openclaw                undo the last setup (--list shows backups)
  gaterouter-setup uninstall ~/.openclaw               remove GateRouter, restore your model

Files (under the OpenClaw root, default $OPENCLAW_STATE_DIR or ~/.openclaw):
  .env                            GATEROUTER_API_KEY=<key>  (mode 0600)
  openclaw.json                   default model gaterouter/auto + fallbacks, auth profile, provider
                                  (its apiKey a SecretRef to the env var GATEROUTER_API_KEY)
  agents/<id>/agent/models.json   the gaterouter provider, without any apiKey
Originals are backed up to <root>/.gaterouter-backup/<UTC time>/ before anything is written.

Exit codes: 0 done or nothing to do; 1 usage or input error; 2 changes pending or not
            configured, no key anywhere (--check);
            3 GateRouter check failed; 4 write failed and every file was restored.";

/// The longest any wait may be (a day). Bounded so that `now + timeout` can never overflow:
/// a huge `--timeout` was a panic, not an error.
const MAX_WAIT_SECS: u64 = 86_400;

/// An agent id as OpenClaw accepts it (`VALID_ID_RE` in its dist: `^[a-z0-9][a-z0-9_-]{0,63}$`,
/// case-insensitive). It becomes a directory name under `agents/`, so anything else (a
/// newline, `..`, a slash, an escape sequence) is refused before it reaches the disk.
fn agent_id(s: &str) -> Result<String, String> {
    let ok = s.len() <= 64
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err("an agent id is 1 to 64 letters, digits, `_` or `-`, starting with a letter or digit (the name of a directory under agents/)".into())
    }
}

/// Wire an OpenClaw installation to GateRouter: key in .env, the gaterouter provider in
/// models.json, gaterouter/auto as the default model in openclaw.json. Shows a diff first.
#[derive(Debug, Parser)]
#[command(
    name = "gaterouter-setup",
    version = crate::cli::build_info::long(),
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
    /// A relative path is relative to FILE's directory (to the working directory when FILE
    /// is a pipe).
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

    /// Write even when OpenClaw's config health check would restore its `.bak` over the
    /// new config and its health state cannot be updated (the plan says so first).
    #[arg(long)]
    pub force: bool,

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
    /// and openrouter/anthropic/claude-sonnet-4.6 when OpenRouter has credentials). Merged
    /// with the fallbacks already configured, unless --replace-fallbacks.
    #[arg(long = "fallback", value_name = "REF")]
    pub fallbacks: Vec<String>,

    /// Also move agents that have their own model (they ignore the default) to GateRouter,
    /// each keeping its old model as its last fallback.
    #[arg(long)]
    pub all_agents: bool,

    /// The fallbacks become exactly the --fallback refs (none without any), instead of being
    /// merged with those already configured.
    #[arg(long)]
    pub replace_fallbacks: bool,

    /// Use provider.json and/or openclaw.json from DIR instead of the built-in templates
    /// (start from a copy of the repository's templates/).
    #[arg(long, value_name = "DIR")]
    pub template_dir: Option<PathBuf>,

    /// Create OpenClaw's files in a root that has none yet (no openclaw.json, no agents/).
    /// Without it such a directory is refused, so that a mistyped path or a source checkout
    /// is not turned into an OpenClaw root.
    #[arg(long)]
    pub init: bool,

    /// One agent only: this agent's own model moves to GateRouter and only its models.json is
    /// edited; the default model and the other agents stay. It must be declared in openclaw.json.
    #[arg(long, value_name = "ID", value_parser = agent_id)]
    pub agent: Option<String>,

    #[command(flatten)]
    pub probe: ProbeArgs,

    /// Seconds to wait for another gaterouter-setup (or OpenClaw itself) to finish writing.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=MAX_WAIT_SECS))]
    pub lock_timeout: u64,

    /// After a successful apply (or when already configured), run `verify` on the root:
    /// one tiny streaming request to the primary model (see `verify --help`). Exit 3 when it
    /// does not answer; with --json its result is the report's `verify` field. With many
    /// roots, each root is verified (its entry's `verify` field).
    #[arg(long)]
    pub verify: bool,

    /// When a Gateway runs for the root and lacks the key (it reads .env only when it
    /// starts): write .env, restart it with `openclaw gateway restart` (as the root's owner),
    /// and only then the config it hot-applies, so no message finds it without the key.
    #[arg(long, conflicts_with = "no_restart_gateway")]
    pub restart_gateway: bool,

    /// Write even though a running Gateway would switch to GateRouter without the key; you
    /// restart it yourself (every message through it fails until then).
    #[arg(long)]
    pub no_restart_gateway: bool,

    // -q, -v and --color are global: every subcommand takes them, before or after its name
    // (`probe -v`, `rollback -q`); a subcommand with its own `--color` reads that one.
    /// Print errors only (no summary, diff, check lines or warnings); the exit code says
    /// the rest.
    #[arg(short, long, conflicts_with = "verbose", global = true)]
    pub quiet: bool,

    /// Also print the requests made to GateRouter (URL, status, latency; never the key).
    /// `probe` and `verify` always list theirs.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Colour the diff, doctor's marks, warnings and errors: auto (on a terminal, unless
    /// NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", global = true)]
    pub color: ColorChoice,

    /// On a root another user owns, act with your own rights instead of refusing. Run as
    /// root, gaterouter-setup always acts as the root's owner (as OpenClaw runs there), with
    /// or without this flag; run as anyone else it cannot become the owner, so without this
    /// flag it refuses: with it, what the owner put in the root (a symlinked .env or
    /// openclaw.json, a SecretRef program or file) is read, written or run as you.
    #[arg(long, global = true)]
    pub as_invoker: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Only check GateRouter: reachable, key accepted, auto routing on, live models.
    /// Exit 0 when setup would work, 3 when it would not.
    Probe(ProbeCommandArgs),
    /// Put back the files as they were before the last setup (from <root>/.gaterouter-backup).
    Rollback(RollbackArgs),
    /// Remove what setup added (key, provider, auth profile, our model refs) and restore the
    /// default model you had before; format-preserving, diff first.
    Uninstall(UninstallArgs),
    /// Prove the root answers, the way OpenClaw will call it: resolve the default model,
    /// the gaterouter provider, the key (through its reference, with OpenClaw's precedence)
    /// and the allowlist from the files on disk, then send one tiny streaming chat
    /// completion (a fixed short prompt, at most 16 tokens) per model checked: the primary,
    /// the gaterouter fallbacks too with --all or when the primary fails. That is the cost:
    /// one tiny request per model checked. Non-gaterouter refs get nothing.
    /// Exit 0 when the primary answered, 3 when it did not, 1 when the root cannot be read.
    Verify(VerifyArgs),
    /// Print a shell completion script: gaterouter-setup completions bash > /etc/bash_completion.d/gaterouter-setup
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): gaterouter-setup man | man -l -; a subcommand's page:
    /// gaterouter-setup man doctor | man -l -; all pages: gaterouter-setup man --dir DIR
    Man(ManArgs),
    /// Check a root without changing it: a line per check, a fix for each problem.
    /// Exit 0 when healthy, 1 when something needs fixing.
    Doctor(DoctorArgs),
}

#[derive(Debug, Args)]
pub struct ProbeCommandArgs {
    /// GateRouter API key (else --api-key-stdin or GATEROUTER_API_KEY).
    #[arg(value_name = "API_KEY")]
    pub api_key: Option<String>,
    /// Read the API key from standard input (one line).
    #[arg(long)]
    pub api_key_stdin: bool,
    /// Print the probe report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub probe: ProbeArgs,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The OpenClaw root (default as for setup).
    #[arg(value_name = "OPENCLAW_ROOT")]
    pub root: Option<PathBuf>,
    /// Check only this agent's models.json.
    #[arg(long, value_name = "ID", value_parser = agent_id)]
    pub agent: Option<String>,
    /// Print the checks as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Print this subcommand's page (gaterouter-setup-SUBCOMMAND(1)) instead.
    #[arg(value_name = "SUBCOMMAND", conflicts_with = "dir")]
    pub command: Option<String>,
    /// Write every page into DIR (gaterouter-setup.1 and gaterouter-setup-SUBCOMMAND.1),
    /// e.g. /usr/local/share/man/man1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
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
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=MAX_WAIT_SECS))]
    pub lock_timeout: u64,
    /// Colour the diff: auto, always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// As for setup: a Gateway running for the root that lacks the key the restored files
    /// need gets `.env` first, then `openclaw gateway restart`, then the config.
    #[arg(long, conflicts_with = "no_restart_gateway")]
    pub restart_gateway: bool,
    /// As for setup: write even though a running Gateway would switch to GateRouter
    /// without the key.
    #[arg(long)]
    pub no_restart_gateway: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The OpenClaw root (default as for setup).
    #[arg(value_name = "OPENCLAW_ROOT")]
    pub root: Option<PathBuf>,
    /// List the backup sets instead of restoring one.
    #[arg(long)]
    pub list: bool,
    /// Go back to before the backup set NAME (from --list; a unique prefix will do),
    /// undoing that run and every later one. Default: the newest set made by setup.
    #[arg(long, value_name = "NAME", conflicts_with = "list")]
    pub to: Option<String>,
    /// Roll back even files edited since gaterouter-setup wrote them (those edits are lost),
    /// and even when OpenClaw's config health check would restore its `.bak` over the result
    /// and its health state cannot be updated.
    #[arg(long, conflicts_with = "list")]
    pub force: bool,
    #[command(flatten)]
    pub review: ReviewArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The OpenClaw root (default as for setup).
    #[arg(value_name = "OPENCLAW_ROOT")]
    pub root: Option<PathBuf>,
    /// Check this agent's model (an agent with its own model ignores the default).
    /// Default: the agent OpenClaw runs by default.
    #[arg(long, value_name = "ID", value_parser = agent_id)]
    pub agent: Option<String>,
    /// Also check the gaterouter fallbacks (one more tiny request each, a billed completion):
    /// 4 at a time, the first 20 of them.
    #[arg(long)]
    pub all: bool,
    /// Also run OpenClaw's own one-shot completion on this root (`openclaw infer model run`,
    /// or `openclaw agent --local` on releases without it) when `openclaw` is on PATH.
    #[arg(long)]
    pub with_openclaw: bool,
    /// Also send the tiny message through the Gateway running for the root (`openclaw
    /// agent` without `--local`, in a session of its own), so the proof comes from the
    /// process that serves you, with its own environment; exit 3 when it does not answer
    /// through GateRouter (or no Gateway runs).
    #[arg(long)]
    pub via_gateway: bool,
    /// Seconds each request may take, retries included (OpenClaw's run: ten times this).
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=MAX_WAIT_SECS))]
    pub timeout: u64,
    /// Print one JSON document on standard output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// The OpenClaw root (default as for setup).
    #[arg(value_name = "OPENCLAW_ROOT")]
    pub root: Option<PathBuf>,
    /// Write even when OpenClaw's config health check would restore its `.bak` over the
    /// result and its health state cannot be updated (the plan says so first).
    #[arg(long)]
    pub force: bool,
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
    #[arg(long, value_name = "SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=MAX_WAIT_SECS))]
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

impl ReviewArgs {
    fn mode(&self) -> Mode {
        if self.dry_run {
            Mode::DryRun
        } else {
            Mode::Apply
        }
    }
}

/// `--restart-gateway` / `--no-restart-gateway` / neither.
fn restart_gateway(restart: bool, no_restart: bool) -> Option<bool> {
    (restart || no_restart).then_some(restart)
}

/// Whether the command line asks for `--json` (before any `--`), read without clap: for a
/// command line clap could not parse.
fn json_asked(args: &[std::ffi::OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json")
}

/// The JSON report of a command line that could not be parsed.
fn json_usage_error(sink: &Sink, message: &str) {
    let e = Error::Usage(message.to_owned());
    sink.json(&report::value(&Outcome {
        exit_code: e.exit_code(),
        ..failed(Mode::Apply, None, &e)
    }));
}

/// Entry point for `main.rs`: never panics on bad input, always returns an exit code.
pub fn main() -> i32 {
    // The run's sink exists before the arguments are read: clap's own message may quote
    // the key, and goes through the same redactor as everything else.
    let sink = &Sink::new(Redactor::new());
    // A crash test's pause line names a step, never a secret: a sink of its own, as the
    // hook outlives no run and captures nothing.
    apply::announce_pauses(|line| errln!(Sink::new(Redactor::new()), "{line}"));
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let refuse = |e: Error| {
        sink.error(&e.to_string());
        if json_asked(&args) {
            json_usage_error(sink, &e.to_string());
        }
        e.exit_code()
    };
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            // clap's message would quote the argument with the control character in it.
            if let Err(bad) = no_control_characters(&args, None) {
                return refuse(bad);
            }
            // clap quotes the offending argument, which may be the key or hold control
            // characters: its message goes through the output layer like everything else.
            let text = e.render().to_string();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    sink.out(&text);
                    exit::OK
                }
                _ => {
                    sink.err(&text);
                    // `--json` promises one report on stdout, and a caller reading only that
                    // (the Ansible module) must get the reason too, not an empty stdout.
                    if json_asked(&args) {
                        let first = text.lines().next().unwrap_or_default();
                        let message = first.strip_prefix("error: ").unwrap_or(first);
                        json_usage_error(sink, message.trim());
                    }
                    exit::INPUT
                }
            };
        }
    };
    let color = match &cli.command {
        Some(Command::Rollback(RollbackArgs { review, .. }))
        | Some(Command::Uninstall(UninstallArgs { review, .. })) => review.color,
        _ => cli.color,
    };
    sink.set_stderr_color(use_color(color, output::stderr_is_terminal()));
    // The key argument is checked by `ApiKey::parse`, which says what is wrong with it.
    let key = match &cli.command {
        Some(Command::Probe(p)) => p.api_key.as_deref(),
        _ => cli.api_key.as_deref(),
    };
    if let Err(e) =
        no_control_characters(&args, key).and_then(|()| no_subcommand_after_options(&cli))
    {
        return refuse(e);
    }
    let code = run(&cli, &Env::from_process(), sink);
    // A signal held back while files were written ends the process now, after the report.
    crate::sys::signals::act_on_pending(|name| {
        errln!(
            sink,
            "{name} came while files were being written: they were finished first (above); stopping now"
        );
    });
    code
}

/// `gaterouter-setup -q rollback ROOT` parses as setup with the key `rollback` (options of
/// setup may not be followed by a subcommand): it would probe and write that word into .env.
/// A key is never a subcommand's name, so that is refused with where the options go.
fn no_subcommand_after_options(cli: &Cli) -> Result<()> {
    let Some(word) = cli.api_key.as_deref().filter(|_| cli.command.is_none()) else {
        return Ok(());
    };
    let cmd = <Cli as clap::CommandFactory>::command();
    if cmd.get_subcommands().any(|s| s.get_name() == word) {
        return Err(Error::Usage(format!(
            "`{word}` is a subcommand, but it came after an option, where setup reads its API key; nothing was done. Put the subcommand first and its options after it: gaterouter-setup {word} [OPTIONS] (e.g. gaterouter-setup {word} -q)"
        )));
    }
    Ok(())
}

/// No argument we take (a key, a path, a model ref, a URL, an agent id) has a control or
/// text-reordering character in it, and one that does would be echoed by clap's errors or
/// end up in a file or directory name: refuse it up front, without showing it.
fn no_control_characters(args: &[std::ffi::OsString], key: Option<&str>) -> Result<()> {
    for (i, a) in args.iter().enumerate().skip(1) {
        if key.is_some() && a.to_str() == key {
            continue;
        }
        let a = a.to_string_lossy();
        if let Some((j, c)) = a
            .chars()
            .enumerate()
            .find(|(_, c)| crate::redact::text::dangerous(*c) || *c == '\n' || *c == '\t')
        {
            return Err(Error::Usage(format!(
                "argument {} has a control character (U+{:04X}) at character {}, so it is not shown here and nothing was done; no argument of gaterouter-setup (key, path, model, URL, agent id) may contain one. A stray newline or escape sequence in a pasted value?",
                i,
                c as u32,
                j + 1
            )));
        }
    }
    Ok(())
}

/// Once the admin's inputs are read: switch to the owner of `dirs` when the rule says so
/// ([`crate::sys::privilege`]), before anything in them is read. Returns the environment to go on
/// with (the owner's `HOME` after a switch).
fn as_owner(dirs: &[PathBuf], as_invoker: bool, env: &Env) -> Result<Env> {
    Ok(match crate::sys::privilege::enter(dirs, as_invoker)? {
        Some(a) => env.with_home(a.home.as_deref()),
        None => env.clone(),
    })
}

/// The JSON value of [`crate::sys::privilege::current`], for every report.
fn run_as_json() -> serde_json::Value {
    serde_json::to_value(crate::sys::privilege::current()).unwrap_or_default()
}

const BIN: &str = "gaterouter-setup";

/// clap_complete's bash script names each subcommand's case one way where it computes the
/// command (`gaterouter__setup__subcmd__doctor`) and another where it completes its options
/// (`gaterouter__subcmd__setup__subcmd__doctor`: the `-` in the binary's name turned into a
/// subcommand separator), so no subcommand option was ever offered. The second spelling is
/// put right here; it cannot occur otherwise, as no subcommand of ours is called `setup`.
fn completion_script(shell: clap_complete::Shell, script: Vec<u8>) -> Vec<u8> {
    if shell != clap_complete::Shell::Bash {
        return script;
    }
    let wrong = format!("{}__subcmd__", BIN.replace('-', "__subcmd__"));
    let right = format!("{}__subcmd__", BIN.replace('-', "__"));
    String::from_utf8_lossy(&script)
        .replace(&wrong, &right)
        .into_bytes()
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
        (Some(k), None, true) if looks_like_a_root(k) => (None, Some(PathBuf::from(k))),
        _ => (cli.api_key.clone(), root),
    }
}

/// A lone positional is the root when it names a directory, or is written like a path
/// (`/…`, `./…`, `../…`, `~…`): a key never is, and taking a missing root for a key would
/// write the path into .env as the key.
fn looks_like_a_root(arg: &str) -> bool {
    PathBuf::from(arg).is_dir() || arg.starts_with(['/', '.', '~'])
}

/// The first positional when it is a subcommand name mistyped (`doctr`, `Uninstall`,
/// `rolback`): without this it was taken for the key, refused as too short or, worse,
/// sent to GateRouter. Said before any network or write. An existing directory of that name
/// is a root, not a typo.
fn mistyped_subcommand(arg: &str) -> Option<Error> {
    if Path::new(arg).is_dir() {
        return None;
    }
    let typed = arg.to_ascii_lowercase();
    let cmd = <Cli as clap::CommandFactory>::command();
    let name = cmd
        .get_subcommands()
        .map(|c| c.get_name())
        .map(|n| (strsim::osa_distance(&typed, n), n))
        .filter(|&(d, n)| d <= if n.len() <= 4 { 1 } else { 2 })
        .min()?
        .1;
    Some(Error::Usage(format!(
        "`{}` is not a subcommand of gaterouter-setup, nor an API key; did you mean `gaterouter-setup {name}`? Nothing was done (see gaterouter-setup --help)",
        crate::redact::text::one_line(arg, 40)
    )))
}

/// Refuses a root argument that does not exist and looks like an API key (the key typed in
/// the root's place), before anything prints it: a missing root is otherwise named in the
/// error. `swapped` says a key argument was given too, so the two look exchanged.
fn check_root_arg(root: &std::path::Path, swapped: bool, secrets: &Redactor) -> Result<()> {
    if std::fs::symlink_metadata(root).is_ok() {
        return Ok(());
    }
    let mut keyish = root
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .filter(|c| secrets.looks_like_key(c))
        .peekable();
    if keyish.peek().is_none() {
        return Ok(());
    }
    keyish.for_each(|k| secrets.add(k));
    Err(Error::KeyAsRoot { swapped })
}

/// Every root named: the positional one, each --root, and the lines of --roots-from, each
/// once; and whether more than one was named (the many-roots report, even when two names
/// turn out to be one root).
fn all_roots(cli: &Cli, secrets: &Redactor) -> Result<(Vec<PathBuf>, bool)> {
    let (key_arg, positional) = positionals(cli);
    let mut roots: Vec<PathBuf> = Vec::new();
    if cli.root_flags.is_empty() {
        roots.extend(positional);
    } else {
        roots.extend(cli.root.clone());
        roots.extend(cli.root_flags.iter().cloned());
    }
    if let Some(f) = &cli.roots_from {
        let text = read_roots_list(f)?;
        let base = roots_list_base(f);
        roots.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| base.join(l)),
        );
    }
    for r in &roots {
        check_root_arg(r, key_arg.is_some(), secrets)?;
    }
    let named = roots.len();
    let roots = roots.iter().map(|r| root::absolute(r)).collect();
    Ok((dedupe_roots(roots), named > 1))
}

/// The same root named twice (also through a symlink or `a/../a`) is one root: two plans of
/// one directory would race each other, and the second would find the first's changes.
fn dedupe_roots(roots: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut seen = std::collections::HashSet::new();
    roots
        .into_iter()
        .filter(|r| seen.insert(std::fs::canonicalize(r).unwrap_or_else(|_| r.clone())))
        .collect()
}

/// What a relative line of the `--roots-from` list is relative to: the list's own directory
/// when it is a file (as includes and file lists are in most tools, so the list can move with
/// the roots it names, and the run gives the same roots from any working directory); for a
/// pipe (`<(ls -d …)`, `/dev/stdin`) there is no such directory: the working directory (an
/// empty path, which a line joined to is that line).
fn roots_list_base(f: &Path) -> PathBuf {
    let regular = std::fs::metadata(f).is_ok_and(|m| m.is_file());
    match root::absolute(f).parent() {
        // The directory as named (the list itself may be a link), without its `..`.
        Some(dir) if regular => std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned()),
        _ => PathBuf::new(),
    }
}

/// The `--roots-from` list. A pipe is fine (`--roots-from <(ls -d /srv/*/.openclaw)`), but
/// the read is bounded, so `/dev/zero` or a runaway producer ends in an error, not in memory.
fn read_roots_list(f: &Path) -> Result<String> {
    const LIMIT: u64 = 4_000_000;
    let file = fs_err::File::open(f).map_err(|e| Error::io(f, e))?;
    let mut bytes = Vec::new();
    file.take(LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(f, e))?;
    if bytes.len() as u64 > LIMIT {
        return Err(Error::Unreadable {
            path: f.to_path_buf(),
            what: format!(
                "is longer than {} MB; --roots-from takes a list of root directories, one per line",
                LIMIT / 1_000_000
            ),
        });
    }
    String::from_utf8(bytes).map_err(|e| Error::Unreadable {
        path: f.to_path_buf(),
        what: format!(
            "is not UTF-8 text (invalid byte at offset {}); --roots-from takes a list of root directories, one per line",
            e.utf8_error().valid_up_to()
        ),
    })
}

/// The key is added to `secrets` (the run's redactor), and so is whatever of a refused one may
/// be a secret (see [`ApiKey::refused_secret`]).
fn key_choice(
    stdin: bool,
    arg: Option<String>,
    env: &Env,
    secrets: &Redactor,
) -> Result<KeyChoice> {
    let from_user = |raw: &str| {
        let key = ApiKey::from_user(raw);
        match &key {
            Ok(k) => secrets.add(k.expose()),
            Err(_) => ApiKey::refused_secret(raw)
                .into_iter()
                .for_each(|s| secrets.add(s)),
        }
        key.map(KeyChoice::Set)
    };
    match (stdin, arg) {
        (true, Some(_)) => Err(Error::Usage(
            "the API key was given both as an argument and with --api-key-stdin; pass it one way"
                .into(),
        )),
        (true, None) => from_user(&key_line(std::io::stdin().lock())?),
        (false, Some(k)) => from_user(&k),
        (false, None) => match env.get(key::ENV_VAR) {
            Some(k) => from_user(k.to_str().ok_or_else(|| {
                Error::InvalidKey("in GATEROUTER_API_KEY is not valid UTF-8".into())
            })?),
            None => Ok(KeyChoice::KeepExisting),
        },
    }
}

/// The most `--api-key-stdin` reads: a key is a few hundred bytes at most.
const MAX_KEY_LINE: u64 = 4096;

/// The first line of `r` (without its `\n`/`\r\n`), read no further than that line or
/// `MAX_KEY_LINE` bytes: `yes KEY |` gives its first line at once, and `/dev/zero` or a
/// stream with no line break is refused after 4 KB rather than read until memory runs out.
fn key_line(r: impl std::io::BufRead) -> Result<String> {
    use std::io::BufRead as _;
    let mut buf = Vec::new();
    let mut r = r.take(MAX_KEY_LINE + 1);
    r.read_until(b'\n', &mut buf)
        .map_err(|e| Error::Usage(format!("--api-key-stdin: cannot read standard input: {e}")))?;
    let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
    if line.len() as u64 > MAX_KEY_LINE {
        return Err(Error::Usage(format!(
            "--api-key-stdin: the first line of standard input is longer than {MAX_KEY_LINE} bytes, which no API key is; pass the key alone on one line (printf %s \"$KEY\" | gaterouter-setup --api-key-stdin …)"
        )));
    }
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8(line.to_vec())
        .map_err(|_| Error::InvalidKey("from standard input is not valid UTF-8".into()))
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
        s.primary_given = true;
    }
    s.all_agents = cli.all_agents;
    s.only_agent = cli.agent.clone();
    for f in &cli.fallbacks {
        templates::check_ref(f, "--fallback")?;
    }
    if cli.replace_fallbacks || !cli.fallbacks.is_empty() {
        s.replace_fallbacks |= cli.replace_fallbacks;
        s.fallbacks = cli.fallbacks.clone();
        s.fallbacks_given = true;
    }
    Ok(s)
}

/// Asks on the terminal (stderr), defaulting to No; any failure to ask is a No.
/// Asks on the terminal, one line: `y` or `yes` applies, anything else (Enter alone, `n`,
/// Ctrl-D, a closed terminal) does not. A line read, not single keys: `yes please` is not
/// applied on its `y` with the rest typed into the shell, and Ctrl-D is an answer (no), not
/// a key to ignore while the prompt hangs. Ctrl-C is the prompt's interrupt handler's.
fn confirm(sink: &Sink, question: &str) -> bool {
    use std::io::BufRead;
    sink.err(&format!("{question} [y/N] "));
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => {
            // Ctrl-D leaves the cursor after the question: end its line.
            sink.err("\n");
            false
        }
        Ok(_) => matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes"),
    }
}

/// A request's HTTP status, or `no answer`.
fn status_word(status: Option<u16>) -> String {
    status.map_or("no answer".to_owned(), |s| s.to_string())
}

/// ` (3 attempts)` for a request that took more than one, else nothing.
fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" ({attempts} attempts)")
    } else {
        String::new()
    }
}

/// What every command takes from the global flags: how much to say, whose rights to run
/// with, the environment, and this run's redactor.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    quiet: bool,
    as_invoker: bool,
    env: &'a Env,
    sink: &'a Sink,
}

/// The root a command other than setup works on, and the environment to work on it with.
struct OwnedRoot {
    dir: PathBuf,
    /// `OPENCLAW_CONFIG_PATH`, when it names the config.
    config: Option<PathBuf>,
    /// The owner's environment once the run has become the owner (see [`as_owner`]).
    env: Env,
}

impl Ctx<'_> {
    /// The command's root argument checked, resolved and entered with its owner's rights,
    /// then `f` run on it: the root's files, backup sets and SecretRefs are the owner's, read
    /// and run as the owner, as OpenClaw does, and never with more rights than the owner
    /// has. Returns `f`'s exit code; on failure (`f`'s too) the error is said (and given as
    /// the JSON report) and its exit code returned.
    fn in_owned_root(
        &self,
        root_arg: Option<&Path>,
        json: bool,
        mode: Mode,
        f: impl FnOnce(OwnedRoot) -> Result<i32>,
    ) -> i32 {
        if let Some(Err(e)) = root_arg.map(|p| check_root_arg(p, false, self.sink.secrets())) {
            return fail(self.sink, json, mode, None, &e);
        }
        let (dir, config) = root::resolve(root_arg, self.env);
        let owned =
            as_owner(std::slice::from_ref(&dir), self.as_invoker, self.env).and_then(|env| {
                let dir = dir.clone();
                f(OwnedRoot { dir, config, env })
            });
        owned.unwrap_or_else(|e| fail(self.sink, json, mode, Some(&dir), &e))
    }
}

/// Runs one invocation and returns its exit code. Everything it prints goes to `sink`,
/// whose redactor every stage that may meet a secret is handed.
pub fn run(cli: &Cli, env: &Env, sink: &Sink) -> i32 {
    let cx = Ctx {
        quiet: cli.quiet,
        as_invoker: cli.as_invoker,
        env,
        sink,
    };
    match &cli.command {
        Some(Command::Probe(a)) => return commands::run_probe(a, &cx),
        Some(Command::Rollback(a)) => return commands::run_rollback(a, &cx),
        Some(Command::Completions { shell }) => {
            // Rendered into memory first: clap_complete panics when its writer fails, and a
            // closed pipe (`completions bash | head`) must not.
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut cmd, BIN, &mut script);
            output::out_generated(&completion_script(*shell, script));
            return exit::OK;
        }
        Some(Command::Man(a)) => return man::run(a, sink),
        Some(Command::Verify(a)) => return verify::run_verify(a, &cx),
        Some(Command::Uninstall(a)) => return commands::run_uninstall(a, &cx),
        Some(Command::Doctor(a)) => {
            let color = use_color(cli.color, output::stdout_is_terminal());
            return commands::run_doctor(a, color, &cx);
        }
        None => {}
    }
    if let Some(e) = cli.api_key.as_deref().and_then(mistyped_subcommand) {
        return fail(sink, cli.json, cli.mode(), None, &e);
    }
    match all_roots(cli, sink.secrets()) {
        Ok((roots, many)) if many || cli.roots_from.is_some() => {
            return many::run_many(cli, env, &roots, sink);
        }
        Ok(_) => {}
        Err(e) => return fail(sink, cli.json, cli.mode(), None, &e),
    }
    let root_arg = positionals(cli).1;
    let (dir, config) = root::resolve(root_arg.as_deref(), env);
    if let Err(e) = root::check_state_dir(&dir, config.as_deref(), cli.init, root_arg.is_some()) {
        return fail(sink, cli.json, cli.mode(), Some(&dir), &e);
    }
    setup::run_setup(cli, env, crate::ops::setup::Target { dir, config }, sink)
}

/// An error before any probe or plan: said on standard error, and as the JSON report.
fn fail(sink: &Sink, json: bool, mode: Mode, root: Option<&Path>, e: &Error) -> i32 {
    fail_with(sink, json, failed(mode, root, e), e)
}

/// The report of a run that ended in `e`; the caller adds what it had (a probe, a plan).
fn failed<'a>(mode: Mode, root: Option<&'a Path>, e: &'a Error) -> Outcome<'a> {
    Outcome {
        mode,
        root,
        probe: None,
        plan: None,
        applied: None,
        error: Some(e),
        warnings: &[],
        exit_code: 0,
        kind: RunKind::Setup,
    }
}

fn fail_with(sink: &Sink, json: bool, outcome: Outcome, e: &Error) -> i32 {
    // `--check` with no key anywhere: the root is not configured, which is what exit 2
    // means to a drift check (README, docs/ci.md); it is not an error in the check itself.
    let not_configured = outcome.mode == Mode::Check && matches!(e, Error::NoKey { .. });
    let (code, note) = if not_configured {
        (exit::PENDING, " (--check: not configured, exit 2)")
    } else {
        (e.exit_code(), "")
    };
    sink.error(&format!("{e}{note}"));
    if json {
        sink.json(&report::value(&Outcome {
            exit_code: code,
            ..outcome
        }));
    }
    code
}
