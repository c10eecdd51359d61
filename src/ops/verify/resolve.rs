//! What OpenClaw will use, read from the files on disk: the model refs (the default agent's
//! own `model`, else `agents.defaults.model`), the gaterouter provider entry (its `baseUrl`
//! overridden by a non-empty one in the agent's models.json, as OpenClaw does), the key behind
//! the provider's `apiKey` (SecretRef or `${VAR}`), looked up with OpenClaw's precedence, and
//! the allowlist. Nothing here touches the network.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::gaterouter::key::{self, ApiKey};
use crate::gaterouter::probe::{self, Failure, FailureKind};
use crate::openclaw::agents;
use crate::openclaw::root::{Env, FileState, Root};
use crate::redact::secrets::Redactor;

pub use crate::gaterouter::templates::PROVIDER_ID as PROVIDER;

// The SecretRef defaults and limits below are OpenClaw's, not ours: verify must read a
// secret exactly where and as far as OpenClaw would, or it would pass a key OpenClaw fails.

/// OpenClaw's default `maxBytes` of a `file` secrets provider: 1 MiB (`DEFAULT_FILE_MAX_BYTES`
/// in its `src/secrets/resolve.ts`). The same number as the dotenv limit
/// ([`crate::format::dotenv::MAX_BYTES`]), but a separate setting of OpenClaw's.
const FILE_MAX_BYTES: u64 = 1_048_576;
/// The only ref id of a `mode: "singleValue"` file provider (`SINGLE_VALUE_FILE_REF_ID` in
/// OpenClaw's `src/secrets/ref-contract.ts`).
const SINGLE_VALUE_ID: &str = "value";
/// OpenClaw's default `timeoutMs` of an `exec` secrets provider (`DEFAULT_EXEC_TIMEOUT_MS` in
/// its `src/secrets/resolve.ts`).
const EXEC_TIMEOUT_MS: u64 = 5_000;
/// The largest `timeoutMs` OpenClaw's config accepts for an `exec` secrets provider
/// (`SecretsExecProviderSchema` in its `src/config/zod-schema.core.ts`).
const EXEC_MAX_TIMEOUT_MS: u64 = 120_000;
/// OpenClaw's default `maxOutputBytes` of an `exec` secrets provider: 1 MiB
/// (`DEFAULT_EXEC_MAX_OUTPUT_BYTES` in its `src/secrets/resolve.ts`).
const EXEC_MAX_OUTPUT_BYTES: u64 = 1_048_576;
/// OpenClaw's default `jsonOnly` of an `exec` secrets provider (`resolveExecRefs` in its
/// `src/secrets/resolve.ts`): only a protocol answer counts.
const EXEC_JSON_ONLY: bool = true;
/// The `protocolVersion` of the exec secrets protocol, in the request and required in the
/// answer (`resolveExecRefs` and `parseExecValues` in OpenClaw's `src/secrets/resolve.ts`).
const EXEC_PROTOCOL_VERSION: u64 = 1;

/// Where the key was found, in OpenClaw's order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeySource {
    /// The process environment (it always wins).
    Environment,
    /// `<root>/.env`.
    RootEnv,
    /// `~/.config/openclaw/gateway.env`.
    GatewayEnv,
    /// The config's `env.vars` (or `env.<NAME>`).
    ConfigEnv,
    /// A literal key in openclaw.json (plaintext).
    Config,
    /// A `file` SecretRef: the file its `secrets.providers` entry names.
    SecretFile,
    /// An `exec` SecretRef: the command its `secrets.providers` entry names.
    SecretExec,
}

impl KeySource {
    pub fn describe(self) -> &'static str {
        match self {
            KeySource::Environment => "the process environment",
            KeySource::RootEnv => "<root>/.env",
            KeySource::GatewayEnv => "~/.config/openclaw/gateway.env",
            KeySource::ConfigEnv => "env in openclaw.json",
            KeySource::Config => "openclaw.json itself (plaintext)",
            KeySource::SecretFile => "the file of a file SecretRef",
            KeySource::SecretExec => "the output of an exec SecretRef's command",
        }
    }
}

/// The key, or why there is none.
#[derive(Debug, Clone)]
pub enum KeyState {
    Found {
        key: ApiKey,
        from: KeySource,
    },
    Missing {
        message: String,
    },
    /// OpenClaw resolves it at runtime in a way verify does not repeat (a `store` SecretRef):
    /// not known to be missing, just not checked.
    Unchecked {
        message: String,
    },
}

/// The key reference as written: `env:GATEROUTER_API_KEY`, `${GATEROUTER_API_KEY}`, …
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub reference: String,
    pub found_in: Option<KeySource>,
}

impl KeyInfo {
    fn new(reference: impl Into<String>, found_in: Option<KeySource>) -> KeyInfo {
        KeyInfo {
            reference: reference.into(),
            found_in,
        }
    }
}

/// The gaterouter provider as OpenClaw will call it.
#[derive(Debug, Clone)]
pub struct Provider {
    pub base_url: String,
    /// Where `base_url` came from (`models.providers.gaterouter.baseUrl` or a models.json).
    pub base_url_from: String,
    pub api: String,
    pub headers: Vec<(String, String)>,
    /// `compat.maxTokensField`: `max_completion_tokens` unless the provider says otherwise.
    pub max_tokens_field: String,
    /// OpenClaw asks for streamed usage on loopback hosts and with `supportsUsageInStreaming`.
    pub usage_in_stream: bool,
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub root: PathBuf,
    /// The agent whose model is used, when it has its own.
    pub agent: Option<String>,
    /// Where the refs were read: `agents.defaults.model`, `agents.entries.ops.model`.
    pub model_from: String,
    pub primary: Option<String>,
    pub fallbacks: Vec<String>,
    /// `Err` holds the cause+fix of a missing or unusable provider entry.
    pub provider: Result<Provider, Failure>,
    pub key: KeyState,
    pub key_info: KeyInfo,
    /// The non-empty allowlist in force and where it is, if any.
    pub allow: Option<(String, Vec<String>)>,
    pub warnings: Vec<String>,
}

impl Resolved {
    /// Whether the allowlist lets `r` through: exact refs, `provider/*` and `prefix*`.
    pub fn allowed(&self, r: &str) -> bool {
        self.allow.as_ref().is_none_or(|(_, list)| {
            list.iter().any(|p| match p.strip_suffix('*') {
                Some(prefix) => r.starts_with(prefix),
                None => p == r,
            })
        })
    }
}

/// Reads what OpenClaw will use from `root`. `agent` picks an agent (else the default one).
/// An `exec` SecretRef's program is run, as OpenClaw runs it.
/// Every secret met (the key's value, wherever it came from) is added to `secrets`, the
/// run's redactor, before anything can mention it.
pub fn resolve(
    root: &Root,
    env: &Env,
    agent: Option<&str>,
    secrets: &Redactor,
) -> Result<Resolved> {
    resolve_with(root, env, agent, true, secrets)
}

/// [`resolve`] for a read-only caller (doctor): with `run_programs` false an `exec`
/// SecretRef is reported as not checked instead of being run. A secret manager's program
/// may prompt, write an audit log or count against a rate limit, and doctor runs at every
/// container start (docs/ci.md); `verify`, which sends requests anyway, runs it.
pub fn resolve_with(
    root: &Root,
    env: &Env,
    agent: Option<&str>,
    run_programs: bool,
    secrets: &Redactor,
) -> Result<Resolved> {
    let config = read_config(&root.config)?;
    let mut warnings = Vec::new();
    let declared = agents::declared(&config);
    let id = agent.map_or_else(|| agents::default_id(&declared), str::to_owned);
    let me = declared.iter().find(|a| a.id == id);
    if agent.is_some() && me.is_none() && id != "main" {
        warnings.push(format!(
            "agent {id} is not declared in agents.entries or agents.list; it uses the defaults"
        ));
    }
    // The agent's own model, if it has one.
    let own = me.and_then(|a| Some((a, a.model.as_ref()?)));
    let (own_primary, own_fallbacks) = own.map(|(_, m)| split_model(m)).unwrap_or_default();
    let (def_primary, def_fallbacks) = split_model(&config["agents"]["defaults"]["model"]);
    let model_from = own.map_or_else(
        || "agents.defaults.model".to_owned(),
        |(a, _)| format!("{}.model", a.at),
    );
    let primary = own_primary.or(def_primary);
    let fallbacks = own_fallbacks.unwrap_or(def_fallbacks.unwrap_or_default());

    let mut lookup = Lookup::new(root, env, &config, &mut warnings);
    lookup.run_programs = run_programs;
    lookup.secrets = secrets.clone();
    let entry = &config["models"]["providers"][PROVIDER];
    let agent_dir = agent_dir(&root.dir, me.and_then(|a| a.dir.as_deref()), &id);
    let provider = provider(entry, root, &agent_dir, &lookup);
    let (key, key_info) = key(entry, &lookup);
    let allow = allowlist(&config, me);
    Ok(Resolved {
        root: root.dir.clone(),
        agent: own.map(|_| id.clone()),
        model_from,
        primary,
        fallbacks,
        provider,
        key,
        key_info,
        allow,
        warnings,
    })
}

fn read_config(f: &FileState) -> Result<Value> {
    let Some(text) = f.text()? else {
        return Err(Error::Unreadable {
            path: f.path.clone(),
            what: "does not exist, so OpenClaw has no model configured here; run gaterouter-setup KEY ROOT first".into(),
        });
    };
    // OpenClaw's own reader (json5), so what verify sees is what OpenClaw loads: with its
    // `$include`s merged in.
    crate::openclaw::include::load(&f.path, text)
}

/// `{primary, fallbacks}` or a plain string; fallbacks `None` when not given.
fn split_model(m: &Value) -> (Option<String>, Option<Vec<String>>) {
    match m {
        Value::String(s) => (Some(s.clone()), None),
        Value::Object(o) => (
            o.get("primary").and_then(Value::as_str).map(str::to_owned),
            o.get("fallbacks").and_then(strings),
        ),
        _ => (None, None),
    }
}

fn agent_dir(root: &Path, dir: Option<&str>, id: &str) -> PathBuf {
    match dir {
        Some(d) if d.starts_with("~/") => std::env::var_os("HOME")
            .map_or_else(|| PathBuf::from(d), |h| PathBuf::from(h).join(&d[2..])),
        Some(d) => root.join(d),
        None => root.join("agents").join(id).join("agent"),
    }
}

/// The modelPolicy allowlist that applies: the agent's own, else the defaults'; only a
/// non-empty list restricts.
fn allowlist(config: &Value, agent: Option<&agents::Agent>) -> Option<(String, Vec<String>)> {
    let c = &config["agents"];
    // The agent's entry, found as `agents::declared` finds it: `entries` before `list`.
    let entry = |a: &agents::Agent| {
        let listed = || c["list"].as_array()?.iter().find(|e| e["id"] == *a.id);
        c["entries"].get(&a.id).or_else(listed)
    };
    let own = agent.and_then(|a| Some((format!("{}.modelPolicy.allow", a.at), entry(a)?)));
    let defaults = (
        "agents.defaults.modelPolicy.allow".to_owned(),
        &c["defaults"],
    );
    own.into_iter().chain([defaults]).find_map(|(at, v)| {
        let list = strings(&v["modelPolicy"]["allow"])?;
        (!list.is_empty()).then_some((at, list))
    })
}

/// The strings of an array (anything else in it skipped); `None` when `v` is no array.
fn strings(v: &Value) -> Option<Vec<String>> {
    let a = v.as_array()?;
    Some(
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
    )
}

/// Variable lookup with OpenClaw's precedence: process environment, `<root>/.env`,
/// `gateway.env`, then the config's `env`.
struct Lookup<'a> {
    env: &'a Env,
    root_env: Vec<(String, String)>,
    gateway_env: Vec<(String, String)>,
    config: &'a Value,
    /// Whether an `exec` SecretRef's program may be run (see [`resolve_with`]).
    run_programs: bool,
    /// The run's redactor: every value read as the key joins it.
    secrets: Redactor,
}

impl<'a> Lookup<'a> {
    fn new(root: &Root, env: &'a Env, config: &'a Value, warnings: &mut Vec<String>) -> Self {
        let root_env = match (&root.env.bytes, root.env.text()) {
            (Some(b), _) if b.len() > crate::format::dotenv::MAX_BYTES => {
                warnings.push(format!(
                    "{} is over 1 MB, so OpenClaw does not read it",
                    root.env.path.display()
                ));
                Vec::new()
            }
            (_, Ok(Some(t))) => dotenv_pairs(t),
            _ => Vec::new(),
        };
        let gateway_env = gateway_env_path(env)
            .and_then(|p| {
                crate::sys::fsx::read_regular(&p, crate::format::dotenv::MAX_BYTES as u64)
                    .ok()
                    .flatten()
            })
            .and_then(|(b, _)| String::from_utf8(b).ok())
            .map(|t| dotenv_pairs(&t))
            .unwrap_or_default();
        Lookup {
            env,
            root_env,
            gateway_env,
            config,
            run_programs: true,
            secrets: Redactor::new(),
        }
    }

    fn get(&self, name: &str) -> Option<(String, KeySource)> {
        // A dotenv's last non-empty line for `name` counts.
        let last = |pairs: &[(String, String)]| {
            pairs
                .iter()
                .rev()
                .find(|(k, v)| k == name && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        let e = &self.config["env"];
        let config = e["vars"][name].as_str().or_else(|| e[name].as_str());
        let process = self.env.get(name).and_then(|v| v.to_str());
        // OpenClaw's precedence; the process environment wins even when empty.
        [
            (process, KeySource::Environment),
            (last(&self.root_env).as_deref(), KeySource::RootEnv),
            (last(&self.gateway_env).as_deref(), KeySource::GatewayEnv),
            (config.filter(|v| !v.is_empty()), KeySource::ConfigEnv),
        ]
        .into_iter()
        .find_map(|(v, from)| Some((v?.to_owned(), from)))
    }

    /// The key `value` of `var`, read from `from`, or why it is no key; it joins the run's
    /// redactor either way.
    fn usable(&self, value: &str, var: &str, from: KeySource) -> KeyState {
        self.secrets.add(value);
        match ApiKey::parse(value) {
            Ok(key) => KeyState::Found { key, from },
            Err(e) => KeyState::Missing {
                message: format!(
                    "the value of {var} in {} is not a usable key: {e}",
                    from.describe()
                ),
            },
        }
    }

    /// OpenClaw's `${VAR}` substitution (uppercase names; `$${` escapes). The names it
    /// could not find are returned, with the text as OpenClaw would leave it.
    fn expand(&self, s: &str) -> (String, Vec<String>, Option<KeySource>) {
        let (mut out, mut missing, mut from) = (String::new(), Vec::new(), None);
        let mut rest = s;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            if let Some(t) = tail.strip_prefix("$${") {
                out.push_str("${");
                rest = t;
                continue;
            }
            let name_end = tail.strip_prefix("${").and_then(|t| {
                let end = t.find('}')?;
                let name = &t[..end];
                crate::gaterouter::templates::is_var_name(name).then_some((name, end))
            });
            match name_end {
                Some((name, end)) => {
                    match self.get(name) {
                        Some((v, src)) => {
                            out.push_str(&v);
                            from.get_or_insert(src);
                        }
                        None => {
                            out.push_str(&tail[..end + 3]);
                            missing.push(name.to_owned());
                        }
                    }
                    rest = &tail[end + 3..];
                }
                None => {
                    out.push('$');
                    rest = &tail[1..];
                }
            }
        }
        out.push_str(rest);
        (out, missing, from)
    }
}

/// `~/.config/openclaw/gateway.env` (`OPENCLAW_HOME` replaces `HOME`).
fn gateway_env_path(env: &Env) -> Option<PathBuf> {
    let home = env.get("OPENCLAW_HOME").or_else(|| env.get("HOME"))?;
    Some(PathBuf::from(home).join(".config/openclaw/gateway.env"))
}

/// Every `NAME=value` of a dotenv text, in order, exactly as OpenClaw's dotenv reads them
/// (no `${}` expansion: it does none; multi-line and `NAME: value` entries included).
fn dotenv_pairs(text: &str) -> Vec<(String, String)> {
    crate::format::dotenv::parse(text)
        .into_iter()
        .map(|e| (e.name, e.value))
        .collect()
}

/// The gaterouter provider entry as OpenClaw will call it, or why it cannot.
fn provider(
    entry: &Value,
    root: &Root,
    agent_dir: &Path,
    lookup: &Lookup,
) -> Result<Provider, Failure> {
    if !entry.is_object() {
        return Err(Failure {
            kind: FailureKind::NoProvider,
            message: format!(
                "{} has no models.providers.{PROVIDER} entry, so OpenClaw cannot reach GateRouter; run gaterouter-setup KEY ROOT to add it",
                root.config.path.display()
            ),
        });
    }
    let (raw, from) = base_url_source(entry, root, agent_dir)?;
    let (base_url, loopback) = checked_base_url(&raw, &from, lookup)?;
    let api = supported_api(entry)?;
    let compat = &entry["compat"];
    let max_tokens_field = compat["maxTokensField"]
        .as_str()
        .unwrap_or("max_completion_tokens")
        .to_owned();
    Ok(Provider {
        base_url,
        base_url_from: from,
        api,
        headers: expanded_headers(entry, lookup),
        max_tokens_field,
        usage_in_stream: loopback || compat["supportsUsageInStreaming"] == true,
    })
}

/// The baseUrl as written and where: a non-empty one in the agent's models.json wins over
/// openclaw.json's, as in OpenClaw.
fn base_url_source(
    entry: &Value,
    root: &Root,
    agent_dir: &Path,
) -> Result<(String, String), Failure> {
    let models_json = agent_dir.join("models.json");
    match (
        models_json_base_url(root, &models_json),
        entry["baseUrl"].as_str(),
    ) {
        (Some(u), _) => Ok((
            u,
            format!(
                "providers.{PROVIDER}.baseUrl in {} (it wins over openclaw.json's)",
                models_json.display()
            ),
        )),
        (None, Some(u)) => Ok((u.to_owned(), format!("models.providers.{PROVIDER}.baseUrl"))),
        (None, None) => Err(Failure {
            kind: FailureKind::NoProvider,
            message: format!(
                "models.providers.{PROVIDER} in {} has no baseUrl; run gaterouter-setup KEY ROOT to repair it",
                root.config.path.display()
            ),
        }),
    }
}

/// The non-blank `providers.gaterouter.baseUrl` of `models_json`, if any. The root has
/// already read the models.json files it found; only another agent's is read here.
fn models_json_base_url(root: &Root, models_json: &Path) -> Option<String> {
    root.models
        .iter()
        .find(|f| f.path == models_json)
        .cloned()
        .or_else(|| FileState::read(&root.dir, models_json.to_path_buf()).ok())
        .and_then(|f| f.text().ok().flatten().map(str::to_owned))
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| {
            v["providers"][PROVIDER]["baseUrl"]
                .as_str()
                .filter(|s| !s.trim().is_empty())
                .map(str::to_owned)
        })
}

/// The baseUrl OpenClaw will call (`${VAR}`s expanded, no trailing `/`) and whether its
/// host is loopback; refused when a variable is unset or the URL would expose the key.
fn checked_base_url(raw: &str, from: &str, lookup: &Lookup) -> Result<(String, bool), Failure> {
    let (expanded, missing, _) = lookup.expand(raw);
    if !missing.is_empty() {
        return Err(Failure {
            kind: FailureKind::NoProvider,
            message: format!(
                "the baseUrl ({from}) uses ${{{}}}, which is not set where OpenClaw looks (the environment, <root>/.env, gateway.env, env in openclaw.json)",
                missing.join("}, ${")
            ),
        });
    }
    let base_url = expanded.trim().trim_end_matches('/').to_owned();
    // The rule `--base-url` follows: a baseUrl someone wrote into the files is no safer.
    let parsed = probe::key_safe_url(&base_url, &format!("the baseUrl ({from})"))
        .map_err(|e| Failure {
            kind: FailureKind::InsecureUrl,
            message: format!(
                "{e}; verify sent nothing to it. Run gaterouter-setup KEY ROOT (or pass --base-url with an https:// URL) to repair it"
            ),
        })?;
    let loopback = probe::is_loopback(&parsed);
    Ok((base_url, loopback))
}

/// The entry's `api`, which must be the one GateRouter serves.
fn supported_api(entry: &Value) -> Result<String, Failure> {
    let api = entry["api"]
        .as_str()
        .unwrap_or("openai-completions")
        .to_owned();
    if api != "openai-completions" {
        return Err(Failure {
            kind: FailureKind::UnsupportedApi,
            message: format!(
                "models.providers.{PROVIDER}.api is {api:?}: OpenClaw would not call /chat/completions, the only API GateRouter serves; set it to \"openai-completions\" (gaterouter-setup KEY ROOT does)"
            ),
        });
    }
    Ok(api)
}

/// The entry's string `headers`, `${VAR}`s expanded as OpenClaw sends them.
fn expanded_headers(entry: &Value, lookup: &Lookup) -> Vec<(String, String)> {
    entry["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| Some((k.clone(), lookup.expand(v.as_str()?).0)))
                .collect()
        })
        .unwrap_or_default()
}

/// Where OpenClaw looks for a key variable, as the messages name it.
const KEY_WHERE: &str =
    "the process environment, <root>/.env, ~/.config/openclaw/gateway.env or env in openclaw.json";
/// The fix for a key OpenClaw cannot find.
const KEY_FIX: &str = "run gaterouter-setup KEY ROOT (it writes the key to <root>/.env), or export it in the environment OpenClaw runs in";

/// The key behind `apiKey`: a SecretRef `{source: "env", id}`, a `${VAR}` string, a literal,
/// or (absent) `GATEROUTER_API_KEY` from the environment.
fn key(entry: &Value, lookup: &Lookup) -> (KeyState, KeyInfo) {
    match &entry["apiKey"] {
        Value::Object(o) => ref_key(o, lookup),
        Value::String(s) if s.contains("${") => template_key(s, lookup),
        Value::String(s) if !s.is_empty() => (
            lookup.usable(s, "apiKey", KeySource::Config),
            KeyInfo::new("a plaintext key in openclaw.json", Some(KeySource::Config)),
        ),
        _ => var_key(
            key::ENV_VAR,
            format!("{} (no apiKey in the provider entry)", key::ENV_VAR),
            lookup,
        ),
    }
}

/// The key in variable `var`, looked up with OpenClaw's precedence; `reference` is how the
/// report names it.
fn var_key(var: &str, reference: String, lookup: &Lookup) -> (KeyState, KeyInfo) {
    match lookup.get(var) {
        Some((v, from)) => (
            lookup.usable(&v, var, from),
            KeyInfo::new(reference, Some(from)),
        ),
        None => (
            KeyState::Missing {
                message: format!(
                    "the key variable {var} is not set where OpenClaw looks ({KEY_WHERE}), so OpenClaw stops the turn before any request; {KEY_FIX}"
                ),
            },
            KeyInfo::new(reference, None),
        ),
    }
}

/// A SecretRef `apiKey` (`{source, provider, id}`). An `env` one is a variable lookup unless
/// its provider's allowlist refuses it; the other sources go through [`secret_ref`].
fn ref_key(o: &serde_json::Map<String, Value>, lookup: &Lookup) -> (KeyState, KeyInfo) {
    let field = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("");
    let (source, alias, id) = (field("source"), field("provider"), field("id"));
    let reference = format!("{source}:{alias}:{id}");
    if source == "env" && !id.is_empty() {
        if let Some(message) = env_policy(lookup.config, alias, id) {
            return (KeyState::Missing { message }, KeyInfo::new(reference, None));
        }
        return var_key(id, format!("env:{id}"), lookup);
    }
    let (state, found_in) = match secret_ref(lookup, source, alias, id) {
        Ok((v, from)) => (
            lookup.usable(&v, &format!("the {source} SecretRef"), from),
            Some(from),
        ),
        Err(state) => (state, None),
    };
    (state, KeyInfo::new(reference, found_in))
}

/// A `${VAR}` `apiKey`: expanded when OpenClaw loads the config, so an unset variable leaves
/// the literal text, which OpenClaw would send as the key.
fn template_key(s: &str, lookup: &Lookup) -> (KeyState, KeyInfo) {
    let (v, missing, from) = lookup.expand(s);
    let info = |found| KeyInfo::new(s, found);
    if !missing.is_empty() {
        return (
            KeyState::Missing {
                message: format!(
                    "the key variable {} is not set where OpenClaw looks ({KEY_WHERE}), so OpenClaw would send the literal text {s:?} as the key; {KEY_FIX}",
                    missing.join(", ")
                ),
            },
            info(None),
        );
    }
    let from = from.unwrap_or(KeySource::Config);
    (lookup.usable(&v, "apiKey", from), info(Some(from)))
}

/// A `secrets.providers` env entry's allowlist refusing `id` (OpenClaw then stops the turn).
fn env_policy(config: &Value, alias: &str, id: &str) -> Option<String> {
    let pc = &config["secrets"]["providers"][alias];
    let list = pc["allowlist"]
        .as_array()
        .filter(|_| pc["source"] == "env")?;
    (!list.iter().any(|v| v == id)).then(|| format!(
        "models.providers.{PROVIDER}.apiKey names the variable {id}, which secrets.providers.{alias}.allowlist does not list, so OpenClaw refuses to read it; add {id} to that allowlist"
    ))
}

/// A `file`, `exec` or `store` SecretRef resolved as OpenClaw resolves it (its
/// `src/secrets/resolve.ts`, 2026.9.6): the value and where it came from, or the state to
/// report. `store` is OpenClaw's own encrypted store: read only by OpenClaw.
fn secret_ref(
    lookup: &Lookup,
    source: &str,
    alias: &str,
    id: &str,
) -> Result<(String, KeySource), KeyState> {
    let r = format!("{source}:{alias}:{id}");
    let missing = |why: String| KeyState::Missing {
        message: format!(
            "models.providers.{PROVIDER}.apiKey is a {source} SecretRef ({r}) that OpenClaw cannot resolve: {why}, so OpenClaw stops the turn before any request"
        ),
    };
    let unchecked = |message: String| Err(KeyState::Unchecked { message });
    let pc = &lookup.config["secrets"]["providers"][alias];
    match source {
        "store" => {
            return unchecked(format!(
                "the key comes from a store SecretRef ({r}): not checked by verify, OpenClaw resolves it at runtime from its own secret store; verify --with-openclaw has OpenClaw itself use it"
            ));
        }
        "file" | "exec" => {}
        other => {
            return Err(missing(format!(
                "OpenClaw knows the sources env, file, exec and store, not {other:?}"
            )));
        }
    }
    if !pc.is_object() {
        return Err(missing(format!(
            "secrets.providers.{alias} is not configured in openclaw.json"
        )));
    }
    if pc["source"] != source {
        return Err(missing(format!(
            "secrets.providers.{alias} has source {}, not {source:?}",
            pc["source"]
        )));
    }
    if source == "file" {
        return secret_file(pc, alias, id, lookup).map_err(missing);
    }
    if pc.get("pluginIntegration").is_some() {
        return unchecked(format!(
            "the key comes from an exec SecretRef ({r}) served by a plugin integration: not checked by verify, OpenClaw resolves it at runtime; verify --with-openclaw has OpenClaw itself use it"
        ));
    }
    if !lookup.run_programs {
        return unchecked(format!(
            "the key comes from an exec SecretRef ({r}): doctor does not run programs; `gaterouter-setup verify` runs it as OpenClaw does"
        ));
    }
    secret_exec(pc, alias, id, lookup).map_err(missing)
}

/// A path as OpenClaw's `resolveUserPath` makes it: `~` is the home, relative is against
/// the working directory.
fn user_path(p: &str, lookup: &Lookup) -> PathBuf {
    let home = lookup.env.get("HOME").map(PathBuf::from);
    match (p.strip_prefix('~'), home) {
        (Some(rest), Some(h)) if rest.is_empty() || rest.starts_with('/') => {
            h.join(rest.trim_start_matches('/'))
        }
        _ => std::path::absolute(p).unwrap_or_else(|_| PathBuf::from(p)),
    }
}

/// Refuses what OpenClaw's secure-file checks refuse: a symlink, a non-file, a file others
/// may read (`read_ok`: only writing counts) or write, one owned by someone else.
fn secure_file(path: &Path, what: &str, others_may_read: bool) -> Result<(), String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let m = std::fs::symlink_metadata(path)
        .map_err(|e| format!("{what} {} cannot be read: {e}", path.display()))?;
    if m.file_type().is_symlink() {
        return Err(format!(
            "{what} {} is a symlink, which OpenClaw refuses",
            path.display()
        ));
    }
    if !m.is_file() {
        return Err(format!("{what} {} is not a regular file", path.display()));
    }
    let mode = m.permissions().mode() & 0o777;
    let open = if others_may_read { 0o022 } else { 0o077 };
    if mode & open != 0 {
        return Err(format!(
            "{what} {} has mode {mode:o}, too open for OpenClaw (chmod {} it)",
            path.display(),
            if others_may_read { "go-w" } else { "600" }
        ));
    }
    let me = rustix::process::geteuid().as_raw();
    if m.uid() != me {
        return Err(format!(
            "{what} {} is owned by uid {}, not by the user running OpenClaw (uid {me})",
            path.display(),
            m.uid()
        ));
    }
    Ok(())
}

/// `secrets.providers.<alias>` with `source: "file"`: the whole file (`mode: "singleValue"`,
/// id `value`) or a JSON pointer into a JSON object (`mode: "json"`, the default).
fn secret_file(
    pc: &Value,
    alias: &str,
    id: &str,
    lookup: &Lookup,
) -> Result<(String, KeySource), String> {
    let path = user_path(pc["path"].as_str().unwrap_or(""), lookup);
    let what = format!("secrets.providers.{alias}.path");
    secure_file(&path, &what, false)?;
    let max = pc["maxBytes"].as_u64().unwrap_or(FILE_MAX_BYTES);
    let bytes = match crate::sys::fsx::read_regular(&path, max) {
        Ok(Some((b, _))) => b,
        Ok(None) => return Err(format!("{what} {} does not exist", path.display())),
        Err(crate::sys::fsx::ReadError::TooLarge { .. }) => {
            return Err(format!(
                "{what} {} is over its maxBytes ({max})",
                path.display()
            ));
        }
        Err(e) => return Err(format!("{what} {} cannot be read: {e:?}", path.display())),
    };
    let text = String::from_utf8_lossy(&bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if pc["mode"] == "singleValue" {
        if id != SINGLE_VALUE_ID {
            return Err(format!(
                "secrets.providers.{alias} is a singleValue file, whose only id is {SINGLE_VALUE_ID:?}, not {id:?}"
            ));
        }
        let v = text
            .strip_suffix('\n')
            .map_or(text, |t| t.strip_suffix('\r').unwrap_or(t));
        return Ok((v.to_owned(), KeySource::SecretFile));
    }
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| format!("{what} {} is not JSON ({e})", path.display()))?;
    if !doc.is_object() {
        return Err(format!(
            "{what} {} does not hold a JSON object",
            path.display()
        ));
    }
    match doc.pointer(id) {
        Some(Value::String(v)) => Ok((v.clone(), KeySource::SecretFile)),
        Some(_) => Err(format!("{id} in {} is not a string", path.display())),
        None => Err(format!("{} has nothing at {id}", path.display())),
    }
}

/// `secrets.providers.<alias>` with `source: "exec"`: the command run as OpenClaw runs it
/// (its args; an environment of only `passEnv` and `env`; the request
/// `{"protocolVersion": 1, "provider", "ids"}` on stdin, never on argv; its timeout) and its
/// answer read as OpenClaw reads it.
fn secret_exec(
    pc: &Value,
    alias: &str,
    id: &str,
    lookup: &Lookup,
) -> Result<(String, KeySource), String> {
    let what = format!("secrets.providers.{alias}.command");
    let cmd = trusted_command(pc, &what, lookup)?;
    let out = exec_output(pc, cmd, alias, id, &what, lookup)?;
    let json_only = pc["jsonOnly"].as_bool().unwrap_or(EXEC_JSON_ONLY);
    exec_answer(&out, id, json_only, &what).map(|v| (v, KeySource::SecretExec))
}

/// The provider's `command`, refused where OpenClaw refuses to run it: not absolute, not a
/// secure file (others may read it, not write it), or outside a non-empty `trustedDirs`.
fn trusted_command<'a>(pc: &'a Value, what: &str, lookup: &Lookup) -> Result<&'a Path, String> {
    let cmd = pc["command"].as_str().unwrap_or("");
    if !cmd.starts_with('/') {
        return Err(format!("{what} {cmd:?} is not an absolute path"));
    }
    let cmd = Path::new(cmd);
    secure_file(cmd, what, true)?;
    if let Some(dirs) = pc["trustedDirs"].as_array().filter(|d| !d.is_empty())
        && !dirs
            .iter()
            .filter_map(Value::as_str)
            .any(|d| cmd.starts_with(user_path(d, lookup)))
    {
        return Err(format!(
            "{what} {} is outside its trustedDirs",
            cmd.display()
        ));
    }
    Ok(cmd)
}

/// The command with its args, in its own directory, with an environment of only `passEnv`
/// (looked up like any variable) and `env`: nothing of ours leaks into a secret manager.
fn exec_command(pc: &Value, cmd: &Path, lookup: &Lookup) -> std::process::Command {
    let mut c = std::process::Command::new(cmd);
    c.env_clear()
        .current_dir(cmd.parent().unwrap_or(Path::new("/")));
    for a in pc["args"].as_array().into_iter().flatten() {
        c.arg(a.as_str().unwrap_or_default());
    }
    for name in pc["passEnv"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if let Some((v, _)) = lookup.get(name) {
            c.env(name, v);
        }
    }
    for (k, v) in pc["env"].as_object().into_iter().flatten() {
        c.env(k, v.as_str().unwrap_or_default());
    }
    c
}

/// Runs the command with the request for `id` on stdin, within its `timeoutMs`, and returns
/// its stdout: refused past `maxOutputBytes` or on a failed exit, as OpenClaw refuses it.
fn exec_output(
    pc: &Value,
    cmd: &Path,
    alias: &str,
    id: &str,
    what: &str,
    lookup: &Lookup,
) -> Result<Vec<u8>, String> {
    let ms = pc["timeoutMs"]
        .as_u64()
        .unwrap_or(EXEC_TIMEOUT_MS)
        .clamp(1, EXEC_MAX_TIMEOUT_MS);
    let max = pc["maxOutputBytes"]
        .as_u64()
        .unwrap_or(EXEC_MAX_OUTPUT_BYTES);
    let input = serde_json::json!({"protocolVersion": EXEC_PROTOCOL_VERSION, "provider": alias, "ids": [id]});
    // One byte over the limit is enough to know it was exceeded.
    let (status, out) = crate::sys::child::run(
        exec_command(pc, cmd, lookup),
        Some(input.to_string().into_bytes()),
        std::time::Duration::from_millis(ms),
        max + 1,
    )
    .map_err(|e| format!("{what} {}: {e}", cmd.display()))?;
    if out.len() as u64 > max {
        return Err(format!(
            "{what} printed more than its maxOutputBytes ({max})"
        ));
    }
    if !status.success() {
        return Err(format!("{what} {} exited with {status}", cmd.display()));
    }
    Ok(out)
}

/// The value for `id` in the command's output, read as OpenClaw reads it: the protocol's
/// `{"protocolVersion": 1, "values", "errors"}`, or without `jsonOnly` the raw output or a
/// bare JSON string.
fn exec_answer(out: &[u8], id: &str, json_only: bool, what: &str) -> Result<String, String> {
    let text = String::from_utf8_lossy(out);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(format!("{what} printed nothing"));
    }
    let parsed: Value = match serde_json::from_str(trimmed) {
        Ok(v) => v,
        // One id and not jsonOnly: the raw output is the value.
        Err(_) if !json_only => return Ok(trimmed.to_owned()),
        Err(_) => return Err(format!("{what} printed something that is not JSON")),
    };
    if let (false, Value::String(v)) = (json_only, &parsed) {
        return Ok(v.clone());
    }
    if parsed["protocolVersion"] != EXEC_PROTOCOL_VERSION {
        return Err(format!(
            "{what}'s answer lacks \"protocolVersion\": {EXEC_PROTOCOL_VERSION}"
        ));
    }
    if let Some(e) = parsed["errors"].get(id) {
        return Err(format!(
            "{what} answered an error for {id:?}: {}",
            e["code"].as_str().unwrap_or("(no code)")
        ));
    }
    match parsed["values"].get(id) {
        Some(Value::String(v)) => Ok(v.clone()),
        Some(_) => Err(format!(
            "{what} answered a value for {id:?} that is not a string"
        )),
        None => Err(format!("{what}'s answer has no value for {id:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn root_with(config: &Value, env: &str) -> (tempfile::TempDir, Root) {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("openclaw.json"), config.to_string()).unwrap();
        std::fs::write(tmp.path().join(".env"), env).unwrap();
        let r = crate::openclaw::root::discover(tmp.path(), None, None).unwrap();
        (tmp, r)
    }

    fn provider(extra: Value) -> Value {
        let mut p = json!({"baseUrl": "https://gr.example/openai/v1", "models": []});
        json_patch::merge(&mut p, &extra);
        p
    }

    #[test]
    fn variables_expand_like_openclaw_and_the_last_dotenv_line_wins() {
        let c = json!({"env": {"vars": {"B": "from-config"}, "C": "flat"}});
        let (_t, r) = root_with(&c, "A=first\nexport A='second'\n# A=commented\n");
        let env = Env::from_pairs([("D", "proc")]);
        let mut w = Vec::new();
        let l = Lookup::new(&r, &env, &c, &mut w);
        let (s, missing, from) = l.expand("${A}/${B}/${C}/${D}/$${A}/${lower}/$X/${NOPE}");
        assert_eq!(s, "second/from-config/flat/proc/${A}/${lower}/$X/${NOPE}");
        assert_eq!(missing, ["NOPE"]);
        assert_eq!(from, Some(KeySource::RootEnv));
    }

    #[test]
    fn a_dotenv_is_read_up_to_openclaws_limit_and_not_a_byte_beyond() {
        // setup writes a `.env` of up to MAX_BYTES; verify must read the same file, or it
        // would report a key it just wrote as missing.
        let c = json!({});
        let line = "GATEROUTER_API_KEY=sk-or-v1-unit-0000000000000000\n";
        for (size, read) in [
            (crate::format::dotenv::MAX_BYTES, true),
            (crate::format::dotenv::MAX_BYTES + 1, false),
        ] {
            let env = format!("{line}#{}\n", "x".repeat(size - line.len() - 2));
            assert_eq!(env.len(), size);
            let (_t, r) = root_with(&c, &env);
            let (penv, mut w) = (Env::default(), Vec::new());
            let l = Lookup::new(&r, &penv, &c, &mut w);
            let (s, missing, _) = l.expand("${GATEROUTER_API_KEY}");
            assert_eq!(missing.is_empty(), read, "{size} bytes");
            assert_eq!(s == "sk-or-v1-unit-0000000000000000", read, "{size} bytes");
            assert_eq!(
                w.iter().any(|w| w.contains("over 1 MB")),
                !read,
                "{size} bytes: {w:?}"
            );
        }
    }

    #[test]
    fn the_agent_model_and_the_models_json_base_url_are_what_openclaw_uses() {
        let c = json!({
            "agents": {
                "defaults": {"model": {"primary": "gaterouter/auto", "fallbacks": ["gaterouter/x/y"]},
                             "modelPolicy": {"allow": ["gaterouter/*"]}},
                "entries": {"ops": {"default": true, "model": {"primary": "gaterouter/a/b"},
                                    "modelPolicy": {"allow": ["gaterouter/a/b"]}}}
            },
            "models": {"providers": {"gaterouter": provider(json!({"apiKey": "${GATEROUTER_API_KEY}", "compat": {"maxTokensField": "max_tokens"}}))}}
        });
        let (t, _) = root_with(&c, "GATEROUTER_API_KEY=sk-or-v1-unit-0000000000000000\n");
        let mj = t.path().join("agents/ops/agent");
        std::fs::create_dir_all(&mj).unwrap();
        std::fs::write(
            mj.join("models.json"),
            r#"{"providers":{"gaterouter":{"baseUrl":"https://mj.example/openai/v1/"}}}"#,
        )
        .unwrap();
        let r = crate::openclaw::root::discover(t.path(), None, None).unwrap();
        let v = resolve(&r, &Env::default(), None, &Redactor::new()).unwrap();
        assert_eq!(v.agent.as_deref(), Some("ops"));
        assert_eq!(v.model_from, "agents.entries.ops.model");
        assert_eq!(v.primary.as_deref(), Some("gaterouter/a/b"));
        // Fallbacks not given by the agent: the defaults'.
        assert_eq!(v.fallbacks, ["gaterouter/x/y"]);
        let p = v.provider.as_ref().unwrap();
        assert_eq!(p.base_url, "https://mj.example/openai/v1");
        assert_eq!(p.max_tokens_field, "max_tokens");
        assert!(matches!(
            v.key,
            KeyState::Found {
                from: KeySource::RootEnv,
                ..
            }
        ));
        // The agent's own allowlist applies, not the defaults'.
        assert!(v.allowed("gaterouter/a/b"));
        assert!(!v.allowed("gaterouter/x/y"));
        // --agent main: the defaults.
        let v = resolve(&r, &Env::default(), Some("main"), &Redactor::new()).unwrap();
        assert_eq!(v.primary.as_deref(), Some("gaterouter/auto"));
        assert!(v.allowed("gaterouter/x/y"));
    }

    #[test]
    fn an_agent_of_agents_list_has_its_own_allowlist() {
        let c = json!({
            "agents": {
                "defaults": {"modelPolicy": {"allow": ["gaterouter/*"]}},
                "list": [{"id": "other"}, {"id": "ops", "modelPolicy": {"allow": ["gaterouter/a/b"]}}]
            },
            "models": {"providers": {"gaterouter": provider(json!({}))}}
        });
        let (_t, r) = root_with(&c, "");
        let v = resolve(&r, &Env::default(), Some("ops"), &Redactor::new()).unwrap();
        let (at, list) = v.allow.as_ref().unwrap();
        assert_eq!(
            (at.as_str(), list.as_slice()),
            (
                "agents.list[1].modelPolicy.allow",
                &["gaterouter/a/b".to_owned()][..]
            )
        );
        assert!(!v.allowed("gaterouter/x/y"));
        // An agent without a list of its own: the defaults'.
        let v = resolve(&r, &Env::default(), Some("other"), &Redactor::new()).unwrap();
        assert_eq!(v.allow.unwrap().0, "agents.defaults.modelPolicy.allow");
    }

    #[test]
    fn a_key_reference_that_cannot_be_followed_says_why() {
        for (api_key, needle) in [
            (
                json!({"source": "file", "provider": "f", "id": "/k"}),
                "secrets.providers.f is not configured",
            ),
            (
                json!({"source": "env", "provider": "default", "id": "GATEROUTER_API_KEY"}),
                "not set where OpenClaw looks",
            ),
            (json!("${GATEROUTER_API_KEY}"), "literal text"),
            (Value::Null, "GATEROUTER_API_KEY is not set"),
            (
                json!({"source": "vault", "provider": "default", "id": "X"}),
                "not \"vault\"",
            ),
        ] {
            let c = json!({"models": {"providers": {"gaterouter": provider(json!({"apiKey": api_key}))}}});
            let (_t, r) = root_with(&c, "OTHER=1\n");
            let v = resolve(&r, &Env::default(), None, &Redactor::new()).unwrap();
            match &v.key {
                KeyState::Missing { message } => assert!(message.contains(needle), "{message}"),
                other => panic!("{api_key}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_provider_openclaw_cannot_use_for_gaterouter_is_named() {
        use crate::gaterouter::probe::FailureKind;
        for (p, kind) in [
            (Value::Null, FailureKind::NoProvider),
            (json!({"models": []}), FailureKind::NoProvider),
            (
                provider(json!({"api": "openai-responses"})),
                FailureKind::UnsupportedApi,
            ),
            (
                json!({"baseUrl": "${GR_URL}", "models": []}),
                FailureKind::NoProvider,
            ),
        ] {
            let c = json!({"models": {"providers": {"gaterouter": p}}});
            let (_t, r) = root_with(&c, "");
            let v = resolve(&r, &Env::default(), None, &Redactor::new()).unwrap();
            assert_eq!(v.provider.as_ref().unwrap_err().kind, kind, "{p}");
        }
    }

    #[test]
    fn an_env_provider_allowlist_is_obeyed() {
        let r = json!({"source": "env", "provider": "locked", "id": "GATEROUTER_API_KEY"});
        for (allow, found) in [
            (json!(["GATEROUTER_API_KEY"]), true),
            (json!(["OTHER"]), false),
        ] {
            let c = json!({
                "models": {"providers": {"gaterouter": provider(json!({"apiKey": r}))}},
                "secrets": {"providers": {"locked": {"source": "env", "allowlist": allow}}}
            });
            let (_t, root) = root_with(&c, "GATEROUTER_API_KEY=sk-or-v1-unit-0000000000000000\n");
            let v = resolve(&root, &Env::default(), None, &Redactor::new()).unwrap();
            match (&v.key, found) {
                (KeyState::Found { .. }, true) => {}
                (KeyState::Missing { message }, false) => {
                    assert!(message.contains("allowlist"), "{message}")
                }
                (other, _) => panic!("{allow}: {other:?}"),
            }
        }
    }
}
