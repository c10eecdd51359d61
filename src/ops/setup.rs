//! One run of setup, for any number of roots (one is not a special case):
//! discover → probe (once) → plan (per root) → review → apply → verify, returning one
//! typed [`RunReport`]. The library never prompts or prints: what a person sees (a spinner,
//! the diff, the question) is the caller's [`Ui`], and the caller renders the report.
//!
//! Input errors are found per root before the network is touched (discovery and a first
//! plan take milliseconds); the probe then runs once for all roots, and only roots that are
//! still in the running are planned with what it found. A root that fails is reported and
//! the others go on, unless `fail_fast`, which stops the run before anything is written.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result, exit};
use crate::gaterouter::key;
use crate::gaterouter::policy::AutoOff;
use crate::gaterouter::probe::{self, AutoRouting, ProbeConfig, ProbeOutcome, ProbeReport};
use crate::gaterouter::templates::{self, Settings};
use crate::openclaw::credentials::Ambient;
use crate::openclaw::gateway;
use crate::openclaw::root::{self, Env, Root};
use crate::ops::verify::{self, VerifyReport};
use crate::plan::{self, KeyChoice, Plan};
use crate::redact::secrets::Redactor;
use crate::report::Mode;
use crate::txn::apply::{self, Applied};
use crate::txn::backup::RunKind;

/// One root to set up: its directory, and the config path when it is not `<dir>/openclaw.json`
/// (`OPENCLAW_CONFIG_PATH`, see [`root::resolve`]).
#[derive(Debug, Clone)]
pub struct Target {
    pub dir: PathBuf,
    pub config: Option<PathBuf>,
}

/// Validated inputs of one run: everything is checked before any root is looked at.
pub struct Request {
    pub targets: Vec<Target>,
    pub key: KeyChoice,
    pub settings: Settings,
    /// How to reach GateRouter; `None`: offline (the bundled catalog, nothing sent).
    pub probe: Option<ProbeConfig>,
    /// Auto routing off is an error, not a fallback to a fixed primary.
    pub require_auto: bool,
    /// Only this agent's models.json.
    pub agent: Option<String>,
    /// `--init`: a directory that does not look like an OpenClaw root may become one.
    pub init: bool,
    pub mode: Mode,
    /// Write even when OpenClaw's config health check would take the write back
    /// (`health::would_undo`).
    pub force: bool,
    /// Found while validating the inputs (a base URL that looks wrong).
    pub warnings: Vec<String>,
    /// The review, apply and verify, as for a plan made elsewhere (`kind`: setup).
    pub tail: Tail,
}

/// What the person running it is asked to approve.
#[derive(Debug, Clone, Copy)]
pub struct Ask {
    pub files: usize,
    pub roots: usize,
}

/// The answer of the review step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    Yes,
    /// Asked, and the answer was no.
    Cancelled,
    /// Nobody can be asked (no terminal) and `yes` was not given.
    CannotAsk,
    /// The changes were not shown (`-q`, or `--json` when `json`) and `yes` was not given:
    /// nothing is asked about what nobody saw.
    Unreviewed {
        json: bool,
    },
}

/// The caller's side of a run: feedback while probing, and the review of the plans.
pub trait Ui {
    fn probing(&mut self, _cfg: &ProbeConfig) {}
    fn probed(&mut self, _report: &ProbeReport) {}
    /// Every root is planned: show the plans; when `ask` is given, also ask whether to apply.
    fn review(&mut self, run: &RunReport, ask: Option<Ask>) -> Approval;
}

/// How `--verify` went for one root.
#[derive(Debug)]
pub enum Verified {
    Done(Box<VerifyReport>),
    /// The root could not be read back for verifying.
    Failed(Error),
}

impl Verified {
    pub fn exit_code(&self) -> i32 {
        match self {
            Verified::Done(r) => verify_exit_code(r),
            Verified::Failed(e) => e.exit_code(),
        }
    }
}

/// 0 when the primary answered (and OpenClaw did too, when it was asked), else 3.
pub fn verify_exit_code(r: &VerifyReport) -> i32 {
    if r.ok && r.openclaw.as_ref().is_none_or(|o| o.ok) && r.gateway.as_ref().is_none_or(|g| g.ok) {
        exit::OK
    } else {
        exit::PROBE
    }
}

/// One root's part in a run.
#[derive(Debug)]
pub struct RootRun {
    pub target: Target,
    pub plan: Option<Plan>,
    /// Why this root stopped (discovery, planning or apply); nothing was written to it
    /// unless `applied` says so.
    pub error: Option<Error>,
    pub applied: Option<Applied>,
    pub verify: Option<Verified>,
    pub exit_code: i32,
    /// Before this run, OpenClaw could already use GateRouter here (doctor finds no
    /// problem): pending changes complete the root, they do not make it work. A root wired by
    /// `openclaw config patch` is one.
    pub wired: bool,
    /// The Gateway running for this root, as the plan met it.
    pub gateway: Option<gateway::Outlook>,
    /// The restart `--restart-gateway` ran between `.env` and the config.
    pub restarted: Option<gateway::Restarted>,
}

impl RootRun {
    fn new(target: Target) -> Self {
        RootRun {
            target,
            plan: None,
            error: None,
            applied: None,
            verify: None,
            exit_code: exit::OK,
            wired: false,
            gateway: None,
            restarted: None,
        }
    }

    /// Configured now: nothing was pending, or it was written.
    fn configured(&self) -> bool {
        self.error.is_none()
            && (self.applied.is_some() || self.plan.as_ref().is_some_and(Plan::is_empty))
    }
}

/// Everything one run has to say.
#[derive(Debug)]
pub struct RunReport {
    pub mode: Mode,
    /// `None`: the run never got as far as the probe (no root was left to set up).
    pub probe: Option<ProbeOutcome>,
    pub warnings: Vec<String>,
    pub roots: Vec<RootRun>,
    /// The run stopped for every root (the probe failed): nothing was planned or written.
    pub stopped: Option<Error>,
    /// The review did not approve ([`Error::NotInteractive`], or cancelled).
    pub refused: Option<Error>,
    /// Whether the apply stage ran.
    pub applying: bool,
    /// What the run does (`setup`, `rollback`, `uninstall`), as the backup manifest records it.
    pub kind: RunKind,
}

impl RunReport {
    /// The worst exit code over the roots (or the stop's).
    pub fn exit_code(&self) -> i32 {
        if let Some(e) = &self.stopped {
            return e.exit_code();
        }
        self.roots.iter().map(|r| r.exit_code).fold(exit::OK, worst)
    }

    /// Files that would change (or changed), over all roots.
    pub fn pending(&self) -> usize {
        self.plans().map(|p| p.pending().count()).sum()
    }

    /// Roots with changes.
    pub fn changed_roots(&self) -> usize {
        self.plans().filter(|p| !p.is_empty()).count()
    }

    pub fn failed_roots(&self) -> usize {
        self.roots.iter().filter(|r| r.error.is_some()).count()
    }

    fn plans(&self) -> impl Iterator<Item = &Plan> {
        self.roots.iter().filter_map(|r| r.plan.as_ref())
    }
}

/// The worst of two exit codes: apply failed > probe failed > input error > pending > ok.
pub fn worst(a: i32, b: i32) -> i32 {
    let rank = |c: i32| match c {
        exit::APPLY => 4,
        exit::PROBE => 3,
        exit::INPUT => 2,
        exit::PENDING => 1,
        _ => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// Runs the whole pipeline over `req.targets`.
pub fn run(req: Request, env: &Env, ui: &mut dyn Ui) -> RunReport {
    let Request {
        targets,
        key,
        settings,
        probe: probe_cfg,
        require_auto,
        agent,
        init,
        mode,
        force,
        mut warnings,
        tail,
    } = req;
    let mut planner = Planner {
        key: &key,
        settings,
        // `~/.config/openclaw/gateway.env` is the owner's: `env` is the owner's already.
        ambient: Ambient::from_env(env),
        // Only a write is refused; a dry run or a check shows the warning.
        gate: mode == Mode::Apply && !force,
        redactor: &tail.redactor,
    };
    let (mut runs, found) = planner.first(targets, init, agent.as_deref(), tail.fail_fast);
    let stop_early = tail.fail_fast && runs.iter().any(|r| r.error.is_some());
    let probe = match &probe_cfg {
        // Nothing left to set up: the run never gets as far as the probe.
        _ if found.iter().all(Option::is_none) || stop_early => None,
        None => Some(ProbeOutcome::Skipped {
            reason: "--offline".into(),
        }),
        Some(cfg) => Some(probe_with(cfg, &key, &found, &tail.redactor, ui)),
    };
    let probed = probe.as_ref().and_then(ProbeOutcome::report);
    let stopped = probed
        .and_then(|p| apply_probe(p, require_auto, &mut planner.settings, &mut warnings).err());
    if stopped.is_none() {
        // When the probe changed nothing (offline), the first plans are the plans.
        planner.again(found, probed.is_some(), &mut runs, env);
        warnings.extend(env_warnings(env, &key, mode));
    }
    let report = RunReport {
        mode,
        probe,
        warnings,
        roots: runs,
        stopped,
        refused: None,
        applying: false,
        kind: tail.kind,
    };
    if report.stopped.is_some() {
        return report;
    }
    review_apply_verify(report, &tail, env, ui)
}

/// What every root is planned with: the key, the settings (the templates', then with what
/// the probe found), whether a write OpenClaw would undo is refused, the run's redactor.
struct Planner<'a> {
    key: &'a KeyChoice,
    settings: Settings,
    /// What OpenClaw inherits from outside each root (see [`Root::ambient`]).
    ambient: Ambient,
    gate: bool,
    redactor: &'a Redactor,
}

impl Planner<'_> {
    /// Discover each root and plan it once with the template settings: input errors (a
    /// broken config, a bad type) come in milliseconds, before anybody waits on the network
    /// for them. A root that fails stops alone, or the run with `fail_fast`.
    fn first(
        &self,
        targets: Vec<Target>,
        init: bool,
        agent: Option<&str>,
        fail_fast: bool,
    ) -> (Vec<RootRun>, Vec<Option<(Root, Plan)>>) {
        let mut runs = Vec::new();
        let mut found = Vec::new();
        for t in targets {
            let mut r = RootRun::new(t);
            let (dir, config) = (&r.target.dir, r.target.config.as_deref());
            let planned = root::check_state_dir(dir, config, init, true)
                .and_then(|()| root::discover(dir, config, agent))
                .map(|root| Root {
                    ambient: self.ambient.clone(),
                    ..root
                })
                .and_then(|root| self.plan(&root).map(|p| (root, p)));
            let failed = planned.is_err();
            match planned {
                Ok(p) => found.push(Some(p)),
                Err(e) => {
                    found.push(None);
                    r.error = Some(e);
                }
            }
            runs.push(r);
            if failed && fail_fast {
                break;
            }
        }
        (runs, found)
    }

    /// Plan every root still in the running, side by side, with what the probe found
    /// (`replan`), and note which roots OpenClaw can already use GateRouter on.
    fn again(
        &self,
        found: Vec<Option<(Root, Plan)>>,
        replan: bool,
        runs: &mut [RootRun],
        env: &Env,
    ) {
        let (roots, firsts): (Vec<(usize, Root)>, Vec<Plan>) = found
            .into_iter()
            .enumerate()
            .filter_map(|(i, r)| r.map(|(root, p)| ((i, root), p)))
            .unzip();
        // The first plans are moved, not copied, and dropped before any replan: with many
        // roots, two sets of plans alive at once were most of the peak memory.
        let plans: Vec<Result<Plan>> = if replan {
            drop(firsts);
            crate::sys::par::map(&roots, |_| 16 * 1024, |(_, root)| self.plan(root))
        } else {
            firsts.into_iter().map(Ok).collect()
        };
        for ((i, root), p) in roots.iter().zip(plans) {
            match p {
                Ok(p) => {
                    // Read-only and local (doctor's checks); only worth it when changes pend.
                    runs[*i].wired = !p.is_empty()
                        && may_be_wired(root)
                        && crate::ops::doctor::healthy(root, env, self.redactor);
                    runs[*i].plan = Some(p);
                }
                Err(e) => runs[*i].error = Some(e),
            }
        }
    }

    /// One root's plan, its secrets known to the redactor, checked writable and against
    /// what OpenClaw would undo.
    fn plan(&self, root: &Root) -> Result<Plan> {
        let mut p = plan::plan(root, self.key, &self.settings)?;
        for s in &p.secrets {
            self.redactor.add(s);
        }
        apply::check_writable(&p)?;
        p.check_openclaw_health();
        if self.gate {
            p.refuse_openclaw_undo()?;
        }
        Ok(p)
    }
}

/// The probe, with the key given or, keeping the existing one, the first root's.
fn probe_with(
    cfg: &ProbeConfig,
    key: &KeyChoice,
    found: &[Option<(Root, Plan)>],
    redactor: &Redactor,
    ui: &mut dyn Ui,
) -> ProbeOutcome {
    let probe_key = match key {
        KeyChoice::Set(k) => Some(k.clone()),
        KeyChoice::KeepExisting => found
            .iter()
            .flatten()
            .find_map(|(r, _)| plan::effective_key(r, key).ok()),
    };
    let Some(k) = probe_key else {
        return ProbeOutcome::Skipped {
            reason: "no API key to probe with".into(),
        };
    };
    redactor.add(k.expose());
    ui.probing(cfg);
    let report = probe::run(&k, cfg);
    ui.probed(&report);
    ProbeOutcome::Done(report)
}

/// How the stages after planning go: review, apply, verify.
#[derive(Debug, Clone)]
pub struct Tail {
    /// Apply without asking the [`Ui`].
    pub yes: bool,
    /// One failed root stops the run before anything is written.
    pub fail_fast: bool,
    pub lock_timeout: Duration,
    /// Recorded in the backup manifest (`setup`, `rollback`, `uninstall`).
    pub kind: RunKind,
    /// Verify each root once configured, each request within this time.
    pub verify: Option<Duration>,
    /// `--restart-gateway` (`Some(true)`) / `--no-restart-gateway` (`Some(false)`): what to
    /// do about a Gateway running for a root (see [`crate::openclaw::gateway`]).
    pub restart_gateway: Option<bool>,
    /// The run's redactor (made by the caller, which prints): every secret a stage meets
    /// (a key in `.env`, the keys a plan replaces, a resolved SecretRef) is added to it.
    pub redactor: Redactor,
}

/// A run of one plan made elsewhere (rollback's, uninstall's): nothing to discover or
/// probe, the same review → apply → verify.
pub fn run_plan(
    target: Target,
    plan: Plan,
    mode: Mode,
    tail: &Tail,
    env: &Env,
    ui: &mut dyn Ui,
) -> RunReport {
    let mut root = RootRun::new(target);
    for s in &plan.secrets {
        tail.redactor.add(s);
    }
    root.plan = Some(plan);
    let report = RunReport {
        mode,
        probe: None,
        warnings: Vec::new(),
        roots: vec![root],
        stopped: None,
        refused: None,
        applying: false,
        kind: tail.kind,
    };
    review_apply_verify(report, tail, env, ui)
}

/// The stages after planning: the review (always shown; asked only when something would be
/// written), the apply, each root's exit code, and the verify.
fn review_apply_verify(
    mut report: RunReport,
    tail: &Tail,
    env: &Env,
    ui: &mut dyn Ui,
) -> RunReport {
    let mode = report.mode;
    let openclaw = gateway_review(&mut report.roots, mode, tail.restart_gateway);
    // Roots refused for their Gateway are not asked about.
    let pending: usize = report
        .roots
        .iter()
        .filter(|r| r.error.is_none())
        .filter_map(|r| r.plan.as_ref())
        .map(|p| p.pending().count())
        .sum();
    let stop = tail.fail_fast && report.roots.iter().any(|r| r.error.is_some());
    let may_apply = mode == Mode::Apply && pending > 0 && !stop;
    let ask = (may_apply && !tail.yes).then(|| Ask {
        files: pending,
        roots: report.changed_roots(),
    });
    let approval = ui.review(&report, ask);
    report.refused = match (ask, approval) {
        (None, _) | (Some(_), Approval::Yes) => None,
        (Some(_), Approval::Cancelled) => Some(Error::Usage("cancelled".into())),
        (Some(_), Approval::CannotAsk) => Some(Error::NotInteractive),
        (Some(_), Approval::Unreviewed { json }) => Some(Error::Unreviewed {
            flag: if json { "--json" } else { "-q" },
        }),
    };
    report.applying = may_apply && report.refused.is_none();

    if report.applying {
        let restart = (tail.restart_gateway == Some(true))
            .then_some(openclaw.as_deref())
            .flatten();
        apply_all(&mut report.roots, env, tail, restart);
    }
    for r in &mut report.roots {
        r.exit_code = match (&r.error, &r.plan) {
            // `--check` on a root with no key anywhere: not configured, which is what exit 2
            // says to a drift check (the same as one root, see `cli::fail`).
            (Some(Error::NoKey { .. }), _) if mode == Mode::Check => exit::PENDING,
            (Some(e), _) => e.exit_code(),
            (None, Some(p)) if !p.is_empty() && r.applied.is_none() => match mode {
                Mode::Check => exit::PENDING,
                Mode::Apply => report.refused.as_ref().map_or(exit::OK, Error::exit_code),
                Mode::DryRun => exit::OK,
            },
            _ => exit::OK,
        };
    }
    // A signal during the apply: report what was written, verify nothing more.
    if let (Some(timeout), Mode::Apply, None) = (tail.verify, mode, crate::sys::signals::pending())
    {
        verify_all(&mut report.roots, env, timeout, &tail.redactor);
    }
    report
}

/// Finds the Gateway running for each planned root and says in its plan what the write does
/// to it. Applying is refused for a root whose Gateway would switch to GateRouter without
/// the key, unless `--restart-gateway` or `--no-restart-gateway` chose; with
/// `--restart-gateway` and no `openclaw` to restart it with, too. Returns that `openclaw`.
fn gateway_review(runs: &mut [RootRun], mode: Mode, restart: Option<bool>) -> Option<PathBuf> {
    let bin = crate::openclaw::version::find_binary(std::env::var_os("PATH").as_deref());
    for r in runs.iter_mut().filter(|r| r.error.is_none()) {
        let Some(plan) = r.plan.as_mut() else {
            continue;
        };
        let Some(o) = gateway::outlook(&plan.root, &plan.files) else {
            continue;
        };
        if !plan.is_empty() {
            plan.warnings.extend(o.before(restart));
        }
        let applies = mode == Mode::Apply && !plan.is_empty();
        if applies && o.window() && restart.is_none() {
            r.error = Some(Error::GatewayWithoutKey {
                root: plan.root.clone(),
                pid: o.running.pid,
            });
        } else if applies && restart == Some(true) && o.restart_wanted() && bin.is_none() {
            r.error = Some(Error::Usage(
                "--restart-gateway: openclaw is not on PATH, so the running Gateway cannot be restarted; nothing was written".into(),
            ));
        }
        r.gateway = Some(o);
    }
    bin
}

/// Each root is its own transaction with its own lock, so they go side by side: most of
/// the time is the disk syncing, which overlaps well.
fn apply_all(runs: &mut [RootRun], env: &Env, tail: &Tail, restart: Option<&std::path::Path>) {
    let todo: Vec<usize> = (0..runs.len())
        .filter(|&i| {
            runs[i].error.is_none() && runs[i].plan.as_ref().is_some_and(|p| !p.is_empty())
        })
        .collect();
    // Installed before the workers start; each apply holds a critical section while it
    // changes its root, so a signal then waits for the transaction (see `signals`).
    let _deferred = (!todo.is_empty()).then(crate::sys::signals::Deferred::install);
    let results = crate::sys::par::map(
        &todo,
        |_| 64 * 1024,
        |&i| {
            let opts = apply::ApplyOptions {
                lock_timeout: tail.lock_timeout,
                kind: tail.kind,
                faults: apply::Faults::from_env(),
            };
            let plan = runs[i].plan.as_ref().expect("filtered above");
            let restart = restart.filter(|_| {
                runs[i]
                    .gateway
                    .as_ref()
                    .is_some_and(gateway::Outlook::restart_wanted)
            });
            let Some(bin) = restart else {
                return (apply::apply_with(plan, env, &opts), None);
            };
            // `.env`, then the restart, then the config: the Gateway has the key before
            // anything switches it to GateRouter.
            let restarted = std::sync::Mutex::new(None);
            let step = || {
                let r = gateway::restart(bin, &plan.root, runs[i].target.config.as_deref());
                let ok = r.ok;
                let why = format!("the Gateway did not restart ({}: {})", r.command, r.message);
                *restarted.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                if ok { Ok(()) } else { Err(why) }
            };
            let applied = apply::apply_staged(plan, env, &opts, Some(&step));
            let restarted = restarted.into_inner().unwrap_or_else(|e| e.into_inner());
            (applied, restarted)
        },
    );
    for (i, (r, restarted)) in todo.into_iter().zip(results) {
        runs[i].restarted = restarted;
        match r {
            Ok(a) => runs[i].applied = Some(a),
            Err(e) => runs[i].error = Some(e),
        }
    }
}

/// Verify every root that is configured now (written, or already), side by side; a root
/// whose primary does not answer gets the verify's exit code (3).
fn verify_all(runs: &mut [RootRun], env: &Env, timeout: Duration, secrets: &Redactor) {
    // The key reference may name any variable, not only the ones setup snapshots.
    let env = env.with_rest_of_process();
    let todo: Vec<usize> = (0..runs.len())
        .filter(|&i| runs[i].exit_code == exit::OK && runs[i].configured())
        .collect();
    let results = crate::sys::par::map(
        &todo,
        |_| 64 * 1024,
        |&i| verify_root(&runs[i].target, &env, timeout, secrets),
    );
    for (i, v) in todo.into_iter().zip(results) {
        let c = v.exit_code();
        if c != exit::OK {
            runs[i].exit_code = c;
        }
        runs[i].verify = Some(v);
    }
}

/// Whether doctor could find OpenClaw already using GateRouter on `root`. A config whose
/// text names no `gaterouter` (and could not hide it in an escape or an `$include`) has no
/// `models.providers.gaterouter`, which doctor counts as a problem; it is not asked, since
/// it reads the whole config (most of the time and memory of planning a large one).
fn may_be_wired(root: &Root) -> bool {
    match root.config.text() {
        Ok(Some(t)) => {
            use crate::format::json5::may_hold;
            may_hold(t, templates::PROVIDER_ID) || may_hold(t, crate::openclaw::include::KEY)
        }
        _ => true,
    }
}

/// The verify stage for one root: read it back as OpenClaw will, then one tiny request.
pub fn verify_root(t: &Target, env: &Env, timeout: Duration, secrets: &Redactor) -> Verified {
    let opts = verify::Options {
        timeout,
        ..verify::Options::default()
    };
    match root::discover(&t.dir, t.config.as_deref(), None)
        .and_then(|r| verify::resolve(&r, env, None, secrets))
    {
        Ok(r) => Verified::Done(Box::new(verify::run(&r, &opts))),
        Err(e) => Verified::Failed(e),
    }
}

/// Warnings about the environment the run happens in, not about any root.
fn env_warnings(env: &Env, key: &KeyChoice, mode: Mode) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(shell), KeyChoice::Set(k)) = (env.get(key::ENV_VAR), key)
        && shell.to_str() != Some(k.expose())
    {
        out.push(
            "GATEROUTER_API_KEY is also set in this shell's environment with a different value; \
             OpenClaw lets the process environment win over .env, so unset or update it"
                .to_owned(),
        );
    }
    if let Some(var) = env.readonly_var()
        && mode != Mode::Apply
    {
        out.push(format!(
            "{var}=1 is set: OpenClaw's configuration is read-only here, so applying would be refused"
        ));
    }
    out
}

/// What the probe changes in the settings: the live catalog, and a fixed primary when auto
/// routing is off (unless a primary was asked for). Its error stops the run for every root:
/// the probe failed, or auto routing is required and off. Otherwise the probe's warnings
/// join the run's.
fn apply_probe(
    report: &ProbeReport,
    require_auto: bool,
    settings: &mut Settings,
    warnings: &mut Vec<String>,
) -> Result<()> {
    if let Some(f) = &report.blocking {
        return Err(Error::Probe {
            message: f.message.clone(),
        });
    }
    warnings.extend(report.warnings.iter().cloned());
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
        if require_auto {
            return Err(Error::Probe {
                message: AutoOff::SetupRequired.message(),
            });
        }
        let auto = templates::our_ref("auto");
        let fixed = settings
            .fallbacks
            .iter()
            .find(|f| templates::is_our_ref(f) && **f != auto)
            .cloned();
        match (
            settings.primary_given.then(|| settings.primary.clone()),
            fixed,
        ) {
            (Some(p), _) => warnings.push(AutoOff::KeepingPrimary(&p).message()),
            (None, Some(f)) => {
                warnings.push(
                    AutoOff::FixedPrimary {
                        fixed: &f,
                        auto: &auto,
                    }
                    .message(),
                );
                settings.primary = f;
            }
            (None, None) => warnings.push(AutoOff::NoFixedModel.message()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &str = "sk-or-v1-fixture-SENTINEL-00000000abcd";

    /// Doctor is skipped only where it must find a problem: a config that cannot name our
    /// provider, however it is written.
    #[test]
    fn only_a_config_that_cannot_name_our_provider_skips_doctor() {
        let at = |config: Option<&str>| {
            let tmp = tempfile::tempdir().unwrap();
            std::fs::create_dir(tmp.path().join("agents")).unwrap();
            if let Some(c) = config {
                std::fs::write(tmp.path().join("openclaw.json"), c).unwrap();
            }
            may_be_wired(&root::discover(tmp.path(), None, None).unwrap())
        };
        assert!(!at(Some(
            "{agents: {defaults: {model: 'anthropic/claude'}}}"
        )));
        assert!(at(Some("{models: {providers: {gaterouter: {}}}}")));
        assert!(at(Some(
            "{agents: {defaults: {model: 'gate\\u0072outer/auto'}}}"
        )));
        assert!(at(Some("{$include: './more.json5'}")));
        assert!(at(None));
    }

    /// A Ui that answers as told and records what it was asked.
    struct Scripted {
        answer: Approval,
        reviews: usize,
        asked: Option<Ask>,
    }

    impl Ui for Scripted {
        fn review(&mut self, _run: &RunReport, ask: Option<Ask>) -> Approval {
            self.reviews += 1;
            self.asked = ask;
            self.answer
        }
    }

    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let dst = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &dst);
            } else {
                std::fs::copy(e.path(), &dst).unwrap();
            }
        }
    }

    /// A `.env` of `size` bytes holding the key, and nothing else to change in it.
    fn root_with_env_of(size: usize) -> (tempfile::TempDir, Root) {
        let tmp = tempfile::tempdir().unwrap();
        let line = format!("GATEROUTER_API_KEY={KEY}\n");
        let env = format!("{line}#{}\n", "x".repeat(size - line.len() - 2));
        assert_eq!(env.len(), size);
        std::fs::write(tmp.path().join(".env"), env).unwrap();
        std::fs::write(tmp.path().join("openclaw.json"), "{}").unwrap();
        let r = root::discover(tmp.path(), None, None).unwrap();
        (tmp, r)
    }

    /// OpenClaw's limit, byte for byte: setup plans a `.env` of exactly 1,048,576 bytes (so
    /// that verify, which reads it, finds the key; see `verify::resolve`) and refuses one more.
    #[test]
    fn a_dotenv_at_openclaw_limit_is_set_up_and_one_byte_more_is_refused() {
        let settings = Settings::builtin().unwrap();
        let max = crate::format::dotenv::MAX_BYTES;
        assert_eq!(max, 1_048_576);
        let (_t, r) = root_with_env_of(max);
        plan::plan(&r, &KeyChoice::KeepExisting, &settings).unwrap();
        let (_t, r) = root_with_env_of(max + 1);
        let err = plan::plan(&r, &KeyChoice::KeepExisting, &settings)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                ".env: is 1048577 bytes, and OpenClaw ignores a .env over 1 MB (1,048,576 bytes) as a whole, so the key would not be seen; trim it and run again;"
            ),
            "{err}"
        );
    }

    const CASES: [&str; 3] = ["fresh", "configured", "broken-json"];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Any mix of roots (fresh, configured, broken; one or several), any mode and
        /// answer: the review is shown once; the question is asked exactly when something
        /// would be written and nobody said yes; only an approved apply writes, and only
        /// roots that planned; the run's code is the worst of its roots'.
        #[test]
        fn one_run_for_any_number_of_roots(
            cases in proptest::collection::vec(0..CASES.len(), 1..4),
            mode in prop_oneof![Just(Mode::Apply), Just(Mode::DryRun), Just(Mode::Check)],
            yes in any::<bool>(),
            fail_fast in any::<bool>(),
            answer in prop_oneof![Just(Approval::Yes), Just(Approval::Cancelled), Just(Approval::CannotAsk), Just(Approval::Unreviewed { json: false })],
        ) {
            let tmp = tempfile::tempdir().unwrap();
            let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/roots");
            let targets: Vec<Target> = cases
                .iter()
                .enumerate()
                .map(|(i, &c)| {
                    let dir = tmp.path().join(format!("{i}-{}", CASES[c]));
                    copy(&fixtures.join(CASES[c]).join("input"), &dir);
                    Target { dir, config: None }
                })
                .collect();
            let req = Request {
                targets,
                key: KeyChoice::Set(crate::gaterouter::key::ApiKey::parse(KEY).unwrap()),
                settings: Settings::builtin().unwrap(),
                probe: None,
                require_auto: false,
                agent: None,
                // The cases include the fresh root, which only --init may set up.
                init: true,
                mode,
                force: false,
                warnings: Vec::new(),
                tail: Tail {
                    yes,
                    fail_fast,
                    lock_timeout: Duration::from_secs(5),
                    kind: RunKind::Setup,
                    verify: None,
                    restart_gateway: None,
                    redactor: Redactor::new(),
                },
            };
            let mut ui = Scripted { answer, reviews: 0, asked: None };
            let env = Env::from_pairs([]);
            let run = run(req, &env, &mut ui);

            prop_assert_eq!(ui.reviews, 1);
            let broken = run.roots.iter().any(|r| r.error.is_some());
            let pending = run.pending();
            let would_write = mode == Mode::Apply && pending > 0 && !(fail_fast && broken);
            prop_assert_eq!(ui.asked.is_some(), would_write && !yes);
            let approved = would_write && (yes || answer == Approval::Yes);
            prop_assert_eq!(run.applying, approved);
            for r in &run.roots {
                let changed = r.plan.as_ref().is_some_and(|p| !p.is_empty());
                prop_assert_eq!(r.applied.is_some(), approved && changed && r.error.is_none());
                prop_assert!(r.plan.is_some() || r.error.is_some());
            }
            prop_assert_eq!(
                run.exit_code(),
                run.roots.iter().map(|r| r.exit_code).fold(exit::OK, worst)
            );
            if fail_fast && broken {
                // Stopped at the first broken root: none after it was looked at.
                let first = cases.iter().position(|&c| CASES[c] == "broken-json").unwrap();
                prop_assert_eq!(run.roots.len(), first + 1);
            } else {
                prop_assert_eq!(run.roots.len(), cases.len());
            }
        }

        /// `worst` is the maximum of a total order: the run's code does not depend on the
        /// order of its roots.
        #[test]
        fn worst_is_a_maximum(codes in proptest::collection::vec(prop_oneof![
            Just(exit::OK), Just(exit::INPUT), Just(exit::PENDING), Just(exit::PROBE), Just(exit::APPLY)
        ], 0..6)) {
            let w = codes.iter().copied().fold(exit::OK, worst);
            let mut rev = codes.clone();
            rev.reverse();
            prop_assert_eq!(rev.iter().copied().fold(exit::OK, worst), w);
            prop_assert!(codes.is_empty() || codes.contains(&w));
            for c in &codes {
                prop_assert_eq!(worst(w, *c), w);
            }
        }
    }
}
