//! `gaterouter-setup doctor`: read-only checks of a root, one line each, with a fix for every
//! problem. It also recognises a half-configured root (an interrupted or hand-edited setup).
//!
//! The root is read once into a context; `CHECKS` is a table of small functions, each
//! returning its findings (a [`Check`]: status, what, fix). The command renders them.

use serde::Serialize;
use serde_json::Value;

use crate::format::json_edit;
use crate::gaterouter::key::{self, ApiKey};
use crate::gaterouter::templates::{PROFILE_ID, PROVIDER_ID};
use crate::openclaw::root::{Env, FileState, Root};
use crate::ops::rollback::BackupSet;
use crate::plan::{env_file, openclaw_json};
use crate::redact::secrets::Redactor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Ok,
    Warn,
    Problem,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub status: Status,
    pub what: String,
    pub fix: Option<String>,
}

fn ok(what: impl Into<String>) -> Check {
    Check {
        status: Status::Ok,
        what: what.into(),
        fix: None,
    }
}

fn problem(what: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        status: Status::Problem,
        what: what.into(),
        fix: Some(fix.into()),
    }
}

fn warn(what: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        status: Status::Warn,
        ..problem(what, fix)
    }
}

const SETUP: &str = "run gaterouter-setup (it changes only what is missing)";
/// The fix for a piece setup writes that OpenClaw does not need.
const OPTIONAL: &str = "run gaterouter-setup to add it (optional: OpenClaw works without it)";
/// The fix for a file that does not parse.
const UNPARSED: &str = "fix the file, or restore it with gaterouter-setup rollback";

/// A JSON5 file as a value; `Err` is the parse error as a user would read it. Read with
/// the planners' own reader (`json_edit::Doc::parse`), so doctor passes exactly the files
/// setup can edit and OpenClaw can load: a file setup refuses is a failure here too.
fn value(f: &FileState) -> Result<Option<Value>, String> {
    let Some(t) = f.text().map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    // Keep everything: doctor reads the whole config, nothing is elided.
    let doc = json_edit::Doc::parse(&f.path, t, &[&[]]).map_err(|e| e.to_string())?;
    Ok(Some(
        doc.serde(doc.root_object())
            .unwrap_or(Value::Object(Default::default())),
    ))
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

/// Our provider entry in a models.json.
fn models_entry(v: &Value) -> Option<&Value> {
    v.pointer(&format!("/providers/{PROVIDER_ID}"))
}

/// What every check reads, read once: the root's files parsed, the key in `.env`.
struct Ctx<'a> {
    root: &'a Root,
    env: &'a Env,
    secrets: &'a Redactor,
    /// The key in `.env`, or the finding that says why there is none.
    key: Result<ApiKey, Check>,
    config: Result<Option<Value>, String>,
    /// Each models.json, in `root.models` order.
    models: Vec<Result<Option<Value>, String>>,
    /// The backup sets, oldest first (see [`crate::ops::rollback::list`]).
    backups: Result<Vec<BackupSet>, String>,
}

impl Ctx<'_> {
    fn config(&self) -> Option<&Value> {
        self.config.as_ref().ok().and_then(Option::as_ref)
    }

    /// Our provider entry in openclaw.json, when it is an object.
    fn provider(&self) -> Option<&Value> {
        self.config()?
            .pointer(&format!("/models/providers/{PROVIDER_ID}"))
            .filter(|p| p.is_object())
    }

    fn base_url(&self) -> Option<&str> {
        self.provider().and_then(|p| str_at(p, "/baseUrl"))
    }

    /// The model ids our provider lists.
    fn gr_models(&self) -> Vec<String> {
        self.provider()
            .and_then(|p| p["models"].as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|m| m["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// One check: the findings it makes on the root (none when it does not apply). Most read
/// openclaw.json: they do not apply when it is missing or broken (`config_parses` says so).
enum CheckFn {
    OnRoot(fn(&Ctx) -> Vec<Check>),
    OnConfig(fn(&Ctx, &Value) -> Vec<Check>),
}

/// Every check, in the order they are shown.
const CHECKS: &[CheckFn] = &[
    CheckFn::OnRoot(env_key),
    CheckFn::OnRoot(env_mode),
    CheckFn::OnRoot(shell_key),
    CheckFn::OnRoot(config_parses),
    CheckFn::OnRoot(includes),
    CheckFn::OnConfig(provider_entry),
    CheckFn::OnConfig(auth_profile),
    CheckFn::OnConfig(default_model),
    CheckFn::OnConfig(agent_models),
    CheckFn::OnConfig(fallback_providers),
    CheckFn::OnRoot(models_json),
    CheckFn::OnRoot(half_configured),
    CheckFn::OnRoot(backups),
    CheckFn::OnRoot(openclaw_health),
];

/// Runs every check on `root`: a line each, a fix for every problem.
/// Every secret met (the key in `.env`, a resolved SecretRef) is added to `secrets`, the
/// run's redactor.
pub fn run(root: &Root, env: &Env, secrets: &Redactor) -> Vec<Check> {
    let ctx = Ctx {
        root,
        env,
        secrets,
        key: read_key(root, secrets),
        config: value(&root.config),
        models: root.models.iter().map(value).collect(),
        backups: crate::ops::rollback::list(&root.dir).map_err(|e| e.to_string()),
    };
    let findings = |check: &CheckFn| match (check, ctx.config()) {
        (CheckFn::OnRoot(f), _) => f(&ctx),
        (CheckFn::OnConfig(f), Some(config)) => f(&ctx, config),
        (CheckFn::OnConfig(_), None) => Vec::new(),
    };
    CHECKS.iter().flat_map(findings).collect()
}

/// Whether OpenClaw can use GateRouter on `root` as it is: no check finds a problem.
pub fn healthy(root: &Root, env: &Env, secrets: &Redactor) -> bool {
    run(root, env, secrets)
        .iter()
        .all(|c| c.status != Status::Problem)
}

fn read_key(root: &Root, secrets: &Redactor) -> Result<ApiKey, Check> {
    let text = match root.env.text() {
        Err(e) => {
            return Err(problem(
                format!(".env cannot be read: {e}"),
                "fix or remove the file",
            ));
        }
        Ok(None) => {
            return Err(problem(
                ".env does not exist, so OpenClaw has no GATEROUTER_API_KEY",
                SETUP,
            ));
        }
        Ok(Some(t)) => t,
    };
    match env_file::current_key(&root.env.path, text) {
        Err(e) => Err(problem(
            e.to_string(),
            "make .env smaller than 1 MB (OpenClaw ignores a larger one as a whole)",
        )),
        Ok(None) => Err(problem(".env has no GATEROUTER_API_KEY", SETUP)),
        Ok(Some(k)) => {
            secrets.add(&k);
            ApiKey::parse(&k)
        }
        .map_err(|e| {
            problem(
                format!(".env: {e}"),
                "run gaterouter-setup with the key copied again",
            )
        }),
    }
}

/// `.env` holds a usable GATEROUTER_API_KEY.
fn env_key(c: &Ctx) -> Vec<Check> {
    vec![match &c.key {
        Ok(k) => ok(format!(".env has GATEROUTER_API_KEY ({})", k.redacted())),
        Err(finding) => finding.clone(),
    }]
}

/// `.env` holds a secret: only its owner may read it.
fn env_mode(c: &Ctx) -> Vec<Check> {
    let Some(m) = c.root.env.mode else {
        return Vec::new();
    };
    vec![if m & 0o077 == 0 {
        ok(format!(".env is private (mode {m:o})"))
    } else {
        problem(
            format!(".env is readable by other users (mode {m:o})"),
            format!("chmod 600 {}", c.root.env.path.display()),
        )
    }]
}

/// The process environment wins over `.env` in OpenClaw: a different key there is the one used.
fn shell_key(c: &Ctx) -> Vec<Check> {
    let (Some(shell), Ok(k)) = (c.env.get(key::ENV_VAR), &c.key) else {
        return Vec::new();
    };
    vec![if shell.to_str() == Some(k.expose()) {
        ok("GATEROUTER_API_KEY in this shell matches .env")
    } else {
        problem(
            "GATEROUTER_API_KEY in this shell's environment differs from .env, and OpenClaw lets the process environment win",
            "unset GATEROUTER_API_KEY in the shell (or the service unit) that starts OpenClaw, or set it to the same key",
        )
    }]
}

/// openclaw.json exists, parses, and holds nothing setup would refuse.
fn config_parses(c: &Ctx) -> Vec<Check> {
    vec![match &c.config {
        Err(e) => problem(e.clone(), UNPARSED),
        Ok(None) => problem(
            format!("{} does not exist", c.root.config.path.display()),
            SETUP,
        ),
        Ok(Some(_)) => {
            // What setup would refuse (a value of the wrong type where it edits), doctor
            // reports: the planner itself is asked, so the two cannot disagree.
            let text = c.root.config.text().ok().flatten();
            match crate::gaterouter::templates::Settings::builtin()
                .and_then(|s| openclaw_json::plan(&c.root.config.path, text, &s))
            {
                Ok(_) => ok(format!("{} parses", c.root.config.rel)),
                Err(e) => problem(
                    e.to_string(),
                    "fix that value (OpenClaw's schema refuses it too), or restore the file with gaterouter-setup rollback",
                ),
            }
        }
    }]
}

/// The config's `$include`s resolve as OpenClaw resolves them (the rule setup and verify use).
fn includes(c: &Ctx) -> Vec<Check> {
    match &c.root.include_refused {
        None => Vec::new(),
        Some(r) => vec![problem(
            format!(
                "{}: {}; OpenClaw does not load this config at all",
                r.path.display(),
                r.what
            ),
            "keep every included file inside the config's directory (a regular file, no cycle), then run gaterouter-setup",
        )],
    }
}

/// The gaterouter provider in openclaw.json: a baseUrl, models, and its key by SecretRef.
fn provider_entry(c: &Ctx, config: &Value) -> Vec<Check> {
    let Some(p) = c.provider() else {
        let urls = [crate::gaterouter::probe::DEFAULT_BASE_URL];
        let foreign = crate::plan::migrate::foreign_ids(config.pointer("/models/providers"), &urls);
        return vec![if foreign.is_empty() {
            problem("openclaw.json has no models.providers.gaterouter", SETUP)
        } else {
            problem(
                format!(
                    "openclaw.json has no models.providers.gaterouter, but provider {} points at GateRouter under another id",
                    foreign.join(", ")
                ),
                "run gaterouter-setup: it migrates that provider to gaterouter (refs, profiles and entry; rollback puts it back)",
            )
        }];
    };
    let mut out = Vec::new();
    let base_url = c.base_url();
    let gr_models = c.gr_models();
    let want = crate::gaterouter::templates::env_secret_ref(key::ENV_VAR);
    // The rule verify and --base-url follow: OpenClaw would send the key to it in clear.
    // A `${VAR}` URL is judged by verify, which expands it.
    let insecure = base_url.filter(|u| !u.contains("${")).and_then(|u| {
        crate::gaterouter::probe::key_safe_url(u.trim(), "the gaterouter baseUrl").err()
    });
    match (base_url, p.get("apiKey")) {
        (None, _) => out.push(problem("the gaterouter provider in openclaw.json has no baseUrl", SETUP)),
        (Some(_), _) if insecure.is_some() => out.push(problem(
            insecure.unwrap_or_default(),
            "set models.providers.gaterouter.baseUrl to https://api.gaterouter.ai/openai/v1 (gaterouter-setup KEY ROOT does), or pass --base-url with an https:// URL",
        )),
        (Some(u), Some(k)) if *k == want && !gr_models.is_empty() => out.push(ok(format!(
            "openclaw.json has the gaterouter provider ({u}, {} models, key from the environment's GATEROUTER_API_KEY)",
            gr_models.len()
        ))),
        (Some(_), Some(k)) if *k == want => out.push(problem("the gaterouter provider in openclaw.json lists no models", SETUP)),
        (Some(_), Some(Value::String(s))) if crate::gaterouter::templates::env_placeholder(s).is_some() => out.push(problem(
            format!("the gaterouter apiKey in openclaw.json is the string {s:?}: OpenClaw expands it when loading, so it counts as a plaintext key (`openclaw doctor --lint` flags it, `openclaw doctor --fix` copies the key into OpenClaw's own store)"),
            "run gaterouter-setup: it writes the SecretRef {\"source\": \"env\", \"provider\": \"default\", \"id\": \"GATEROUTER_API_KEY\"} instead",
        )),
        (Some(_), Some(Value::Object(r))) if r.get("source").is_some_and(|s| s != "env") => {
            out.push(secret_ref_check(c));
        }
        (Some(_), _) => out.push(problem(
            "the gaterouter provider in openclaw.json does not take its key from the SecretRef to GATEROUTER_API_KEY",
            SETUP,
        )),
    }
    if let Some(u) = base_url
        && !u.trim_end_matches('/').ends_with("/openai/v1")
    {
        out.push(warn(
            format!("the gaterouter baseUrl {u} does not end in /openai/v1"),
            "use https://api.gaterouter.ai/openai/v1 (a wrong path answers \"404 page not found\")",
        ));
    }
    out
}

/// The auth profile gaterouter:default, an api_key profile of our provider.
fn auth_profile(_: &Ctx, config: &Value) -> Vec<Check> {
    let at = crate::format::json5::pointer(&["auth", "profiles", PROFILE_ID]);
    vec![match config
        .pointer(&at)
        .map(|p| (str_at(p, "/provider"), str_at(p, "/mode")))
    {
        Some((Some(PROVIDER_ID), Some("api_key"))) => {
            ok(format!("auth profile {PROFILE_ID} (api_key)"))
        }
        Some(_) => problem(
            format!(
                "auth.profiles[\"{PROFILE_ID}\"] is not {{provider: {PROVIDER_ID}, mode: api_key}}"
            ),
            SETUP,
        ),
        // Metadata only (OPENCLAW.md): the provider's apiKey carries the key, and a root
        // wired by `openclaw config patch` has none and works.
        None => warn(
            format!(
                "openclaw.json has no auth profile {PROFILE_ID} (OpenClaw does not need it: the provider's apiKey carries the key)"
            ),
            "run gaterouter-setup to add it, so `openclaw models status` lists the profile",
        ),
    }]
}

/// An agent with its own model ignores the default: GateRouter does not reach it.
fn agent_models(_: &Ctx, config: &Value) -> Vec<Check> {
    let mut out = Vec::new();
    for a in crate::openclaw::agents::declared(config) {
        let Some(m) = &a.model else { continue };
        let refs = crate::openclaw::agents::refs(m);
        match refs.first() {
            Some(p) if crate::gaterouter::templates::is_our_ref(p) => {
                out.push(ok(format!("agent {} uses {p}", a.id)))
            }
            p => out.push(warn(
                format!(
                    "agent {} has its own model ({}, at {}) and does not use GateRouter",
                    a.id,
                    p.map_or("?", String::as_str),
                    a.at
                ),
                "run gaterouter-setup --all-agents to move it too (its model kept as its last fallback)",
            )),
        }
    }
    out
}

/// A `file`, `exec` or `store` SecretRef for the key: what verify finds behind it (the same
/// resolver, so doctor and verify agree).
fn secret_ref_check(c: &Ctx) -> Check {
    use crate::ops::verify::resolve::KeyState;
    let fix = "fix secrets.providers in openclaw.json (see `openclaw secrets audit`), or run gaterouter-setup to use the key in .env instead";
    // Read-only: an exec provider's program is not run here (verify runs it).
    let env = c.env.with_rest_of_process();
    match crate::ops::verify::resolve::resolve_with(c.root, &env, None, false, c.secrets) {
        Ok(r) => match r.key {
            KeyState::Found { from, .. } => ok(format!(
                "the gaterouter key comes from the SecretRef {} and resolves (from {})",
                r.key_info.reference,
                from.describe()
            )),
            KeyState::Unchecked { message } => warn(
                message,
                "run gaterouter-setup verify (it resolves file and exec refs; --with-openclaw has OpenClaw itself use the key)",
            ),
            KeyState::Missing { message } => problem(message, fix),
        },
        Err(e) => problem(e.to_string(), fix),
    }
}

/// Each agent's models.json has the gaterouter provider, as openclaw.json has it.
fn models_json(c: &Ctx) -> Vec<Check> {
    // Before 2026.8 OpenClaw writes the variable's name into models.json itself (the release
    // as setup assumes it: `openclaw --version`, else the config's stamp).
    let version = c.root.openclaw.as_ref().map(|a| a.version);
    let base_url = c.base_url();
    let each = c.root.models.iter().zip(&c.models);
    each.map(|(m, v)| match v {
        Err(e) => problem(e.clone(), UNPARSED),
        // OpenClaw works from openclaw.json's entry alone (OPENCLAW.md): an agent's
        // models.json without ours is setup's copy missing, not a broken root. One that
        // disagrees with openclaw.json (below) is: its baseUrl wins.
        Ok(None) => warn(
            format!("{} does not exist (OpenClaw uses openclaw.json's gaterouter entry)", m.rel),
            OPTIONAL,
        ),
        Ok(Some(v)) => match models_entry(v) {
            None => warn(
                format!("{} has no gaterouter provider (OpenClaw uses openclaw.json's)", m.rel),
                OPTIONAL,
            ),
            Some(p) => {
                let url = str_at(p, "/baseUrl");
                if base_url.is_some() && url != base_url {
                    problem(
                        format!(
                            "{}: gaterouter baseUrl {} differs from openclaw.json's {}",
                            m.rel,
                            url.unwrap_or("(none)"),
                            base_url.unwrap_or_default()
                        ),
                        SETUP,
                    )
                } else if p.get("apiKey").is_some_and(|k| {
                    !k.as_str()
                        .is_some_and(|k| crate::plan::models_json::openclaws(k, version))
                }) {
                    problem(
                        format!("{}: the gaterouter entry has an apiKey; there it authenticates nothing and `openclaw secrets audit` reports it (the key comes from openclaw.json's SecretRef)", m.rel),
                        "run gaterouter-setup (it removes the one it wrote), or delete that apiKey line",
                    )
                } else {
                    ok(format!("{} has the gaterouter provider", m.rel))
                }
            }
        },
    })
    .collect()
}

/// Some of what OpenClaw needs to use GateRouter present and the rest missing: an
/// interrupted or hand-undone setup. What OpenClaw needs is the key and openclaw.json's
/// provider entry; the auth profile and models.json's copy are setup's extras, so a root
/// wired another way (`openclaw config patch`, which OpenClaw validates and runs on) without
/// them is configured, not half so. A models.json entry without openclaw.json's is half:
/// from models.json alone OpenClaw finds no key.
fn half_configured(c: &Ctx) -> Vec<Check> {
    let mut configured = Vec::new();
    let mut missing = Vec::new();
    if c.key.is_ok() {
        configured.push(".env key")
    } else {
        missing.push(".env key")
    }
    if c.config().is_some() {
        if c.provider().is_some() {
            configured.push("provider in openclaw.json");
        } else {
            missing.push("provider in openclaw.json");
        }
    }
    let models_have_ours = c
        .models
        .iter()
        .any(|v| matches!(v, Ok(Some(v)) if models_entry(v).is_some()));
    if models_have_ours {
        configured.push("models.json provider");
    }
    if configured.is_empty() || missing.is_empty() {
        return Vec::new();
    }
    vec![problem(
        format!(
            "the root is half configured (present: {}; missing: {}): a setup was interrupted or undone by hand",
            configured.join(", "),
            missing.join(", ")
        ),
        "run gaterouter-setup again to finish, or gaterouter-setup rollback to go back",
    )]
}

/// Backups hold the key: they must be private too. And a backup directory or set that
/// setup and rollback would refuse is worth knowing about before one is needed.
fn backups(c: &Ctx) -> Vec<Check> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let sets = match &c.backups {
        Ok(sets) => sets,
        Err(e) => {
            return vec![problem(
                e.clone(),
                "move .gaterouter-backup away; the next setup makes a new one",
            )];
        }
    };
    for s in sets.iter().filter(|s| s.problem.is_some()) {
        out.push(warn(
            format!(
                "the backup set {} cannot be used: {}",
                s.dir.display(),
                s.problem.as_deref().unwrap_or_default()
            ),
            "rollback stops at it when it is the newest; pick another with rollback --to, or remove it",
        ));
    }
    for s in sets.iter().filter(|s| s.problem.is_none()) {
        let f = s.dir.join(".env");
        if let Ok(m) = std::fs::symlink_metadata(&f)
            && m.permissions().mode() & 0o077 != 0
        {
            out.push(problem(
                format!("the backup {} is readable by other users", f.display()),
                format!("chmod 600 {}", f.display()),
            ));
        }
    }
    out
}

/// What OpenClaw's config health check did or will do to the config: a `.clobbered.*` or
/// `.rejected.*` made after our last write (it took a write back, or refused one), and a
/// config that its next load would find suspicious (and restore `.bak` over).
fn openclaw_health(c: &Ctx) -> Vec<Check> {
    let mut out = Vec::new();
    let config = &c.root.config.path;
    let mut usable = c.backups.iter().flatten().filter(|s| s.problem.is_none());
    let newest = usable.next_back().and_then(|s| {
        std::fs::metadata(s.dir.join("manifest.json"))
            .and_then(|m| m.modified())
            .ok()
            .map(|t| (&s.stamp, t))
    });
    if let Some((stamp, since)) = &newest {
        for a in crate::openclaw::health::set_aside(config)
            .into_iter()
            .filter(|a| a.modified > *since)
        {
            let what = match a.kind {
                crate::openclaw::health::SetAsideKind::Clobbered => format!(
                    "OpenClaw set the config aside as {} after gaterouter-setup's last write (backup set {stamp}) and restored its .bak over it: that write, or an edit after it, may be undone",
                    a.path.display()
                ),
                crate::openclaw::health::SetAsideKind::Rejected => format!(
                    "OpenClaw refused a config write after gaterouter-setup's last write (backup set {stamp}) and kept it as {}",
                    a.path.display()
                ),
            };
            out.push(problem(
                what,
                format!(
                    "compare it with the config (diff {} {}); if it holds what you want, run the gaterouter-setup command again (setup, rollback or uninstall: each records its result in OpenClaw's health state), then remove it",
                    a.path.display(),
                    config.display()
                ),
            ));
        }
    }
    if let Some(raw) = &c.root.config.bytes
        && let Some(s) = crate::openclaw::health::standing(&c.root.dir, config, raw)
        && !s.reasons.is_empty()
    {
        let why = s.reasons.join(", ");
        if s.restores {
            out.push(problem(
                format!(
                    "OpenClaw's next load would take {} for clobbered ({why}) and restore {} over it",
                    config.display(),
                    crate::openclaw::health::ring::slot(config, 0).display()
                ),
                "copy the config aside now if it is what you want; changes made with gaterouter-setup are recorded in OpenClaw's health state, so run gaterouter-setup (or rollback/uninstall) again rather than editing by hand",
            ));
        } else {
            out.push(warn(
                format!(
                    "OpenClaw finds {} suspicious ({why}){}: it keeps it, but will not take it as its last-known-good",
                    config.display(),
                    if s.seen { " and has logged it" } else { "" }
                ),
                "nothing is lost: OpenClaw never restores over a config that uses $include, or from a .bak without gateway.mode; to make it the baseline again, let gaterouter-setup write the config (its writes record themselves)",
            ));
        }
    }
    out
}

/// Every ref's provider must be something OpenClaw can authenticate to: a configured
/// provider, an auth profile for it, or its `<PROVIDER>_API_KEY` in .env or the environment.
/// Otherwise that fallback fails when it is needed (a warning: OpenClaw has built-in
/// providers we cannot see from here).
fn fallback_providers(c: &Ctx, config: &Value) -> Vec<Check> {
    use crate::openclaw::credentials::{self, Ambient, ConfigFacts, Outside};
    let mut out = Vec::new();
    let refs = crate::openclaw::agents::refs(&config["agents"]["defaults"]["model"]);
    let facts = ConfigFacts::from_value(config);
    let ambient = Ambient::from_env(c.env);
    let outside = Outside {
        root_env: c.root.env.text().ok().flatten(),
        ambient: &ambient,
    };
    let mut seen = Vec::new();
    for r in &refs {
        let Some((provider, _)) = r.split_once('/') else {
            continue;
        };
        if provider == PROVIDER_ID || seen.contains(&provider) {
            continue;
        }
        seen.push(provider);
        if credentials::source(provider, &facts, outside).is_none() {
            let var = credentials::env_var_for(provider);
            out.push(warn(
                format!("fallback {r}: {}; that fallback will fail when it is needed", credentials::missing(provider)),
                format!("set {var} in .env, run `openclaw onboard` for {provider}, or remove it from agents.defaults.model.fallbacks (gaterouter-setup --replace-fallbacks --fallback REF… sets them exactly)"),
            ));
        }
    }
    out
}

/// The default model and the allowlists: every gaterouter ref names a listed model, and
/// non-empty allowlists admit every configured ref.
fn default_model(c: &Ctx, config: &Value) -> Vec<Check> {
    let mut out = Vec::new();
    let gr_models = c.gr_models();
    let defaults = &config["agents"]["defaults"];
    // `refs` lists the primary first, when the model has one, then the fallbacks.
    let refs = crate::openclaw::agents::refs(&defaults["model"]);
    let has_primary = defaults["model"].is_string() || defaults["model"]["primary"].is_string();
    let (primary, fallbacks) = match refs.split_first() {
        Some((p, rest)) if has_primary => (Some(p), rest),
        _ => (None, &refs[..]),
    };
    match primary {
        Some(p) => out.push(ok(format!(
            "default model {p}{}",
            if fallbacks.is_empty() {
                String::new()
            } else {
                format!(" (fallbacks: {})", fallbacks.join(", "))
            }
        ))),
        None => out.push(problem("agents.defaults.model has no primary", SETUP)),
    }
    for r in &refs {
        if let Some(id) = crate::gaterouter::templates::our_model_id(r)
            && !gr_models.is_empty()
            && !gr_models.iter().any(|m| m == id)
        {
            out.push(problem(
                format!("{r} is not in the gaterouter provider's model list"),
                "use a listed id (provider/model-name, dots in versions), or run gaterouter-setup to refresh the list",
            ));
        }
    }
    // Only the releases where the map is an allowlist refuse a ref missing from it.
    let map_restricts = c
        .root
        .openclaw
        .as_ref()
        .is_some_and(|a| a.version.models_map_restricts());
    if let Some(map) = defaults["models"]
        .as_object()
        .filter(|m| map_restricts && !m.is_empty())
    {
        for r in &refs {
            if !map.contains_key(r.as_str()) {
                out.push(problem(format!("{r} is not in the agents.defaults.models allowlist (\"Model … is not allowed\")"), SETUP));
            }
        }
    }
    if let Some(allow) = defaults["modelPolicy"]["allow"]
        .as_array()
        .filter(|a| !a.is_empty())
    {
        let allow: Vec<&str> = allow.iter().filter_map(Value::as_str).collect();
        for r in &refs {
            let wildcard = format!("{}/*", r.split('/').next().unwrap_or_default());
            if !allow.iter().any(|a| a == r || *a == wildcard) {
                out.push(problem(
                    format!("{r} is not admitted by agents.defaults.modelPolicy.allow"),
                    SETUP,
                ));
            }
        }
    }
    out
}
