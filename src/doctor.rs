//! `gaterouter-setup doctor`: read-only checks of a root, one line each, with a fix for every
//! problem. It also recognises a half-configured root (an interrupted or hand-edited setup).

use serde::Serialize;
use serde_json::Value;

use crate::key::{self, ApiKey};
use crate::plan::env_file;
use crate::root::{Env, FileState, Root};
use crate::templates::{PROFILE_ID, PROVIDER_ID};

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
        what: what.into(),
        fix: Some(fix.into()),
    }
}

const SETUP: &str = "run gaterouter-setup (it changes only what is missing)";

/// A JSON5 file as a value; `Err` is the parse error as a user would read it.
fn value(f: &FileState) -> Result<Option<Value>, String> {
    let Some(t) = f.text().map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let t = t.trim_start_matches('\u{feff}');
    let root = jsonc_parser::cst::CstRootNode::parse(t, &Default::default()).map_err(|e| {
        format!(
            "{}:{}:{}: not valid JSON5: {}",
            f.path.display(),
            e.line_display(),
            e.column_display(),
            e.kind()
        )
    })?;
    Ok(Some(
        root.to_serde_value()
            .unwrap_or(Value::Object(Default::default())),
    ))
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

pub fn run(root: &Root, env: &Env) -> Vec<Check> {
    let mut out = Vec::new();
    let mut configured = Vec::new(); // which of our pieces are present, for the mixed-state check
    let mut missing = Vec::new();

    // .env and the key.
    let env_key = match root.env.text() {
        Err(e) => {
            out.push(problem(
                format!(".env cannot be read: {e}"),
                "fix or remove the file",
            ));
            None
        }
        Ok(None) => {
            out.push(problem(
                ".env does not exist, so OpenClaw has no GATEROUTER_API_KEY",
                SETUP,
            ));
            None
        }
        Ok(Some(t)) => match env_file::current_key(&root.env.path, t) {
            Err(e) => {
                out.push(problem(
                    e.to_string(),
                    "make .env smaller than 1 MB (OpenClaw ignores a larger one as a whole)",
                ));
                None
            }
            Ok(None) => {
                out.push(problem(".env has no GATEROUTER_API_KEY", SETUP));
                None
            }
            Ok(Some(k)) => match ApiKey::parse(&k) {
                Ok(k) => {
                    out.push(ok(format!(
                        ".env has GATEROUTER_API_KEY ({})",
                        k.redacted()
                    )));
                    Some(k)
                }
                Err(e) => {
                    out.push(problem(
                        format!(".env: {e}"),
                        "run gaterouter-setup with the key copied again",
                    ));
                    None
                }
            },
        },
    };
    if env_key.is_some() {
        configured.push(".env key")
    } else {
        missing.push(".env key")
    }
    if let Some(m) = root.env.mode {
        if m & 0o077 == 0 {
            out.push(ok(format!(".env is private (mode {m:o})")));
        } else {
            out.push(problem(
                format!(".env is readable by other users (mode {m:o})"),
                format!("chmod 600 {}", root.env.path.display()),
            ));
        }
    }
    if let (Some(shell), Some(k)) = (env.get(key::ENV_VAR), &env_key) {
        if shell.to_str() == Some(k.expose()) {
            out.push(ok("GATEROUTER_API_KEY in this shell matches .env"));
        } else {
            out.push(problem(
                "GATEROUTER_API_KEY in this shell's environment differs from .env, and OpenClaw lets the process environment win",
                "unset GATEROUTER_API_KEY in the shell (or the service unit) that starts OpenClaw, or set it to the same key",
            ));
        }
    }

    // openclaw.json.
    let config = match value(&root.config) {
        Err(e) => {
            out.push(problem(
                e,
                "fix the file, or restore it with gaterouter-setup rollback",
            ));
            None
        }
        Ok(None) => {
            out.push(problem(
                format!("{} does not exist", root.config.path.display()),
                SETUP,
            ));
            None
        }
        Ok(Some(v)) => {
            out.push(ok(format!("{} parses", root.config.rel)));
            Some(v)
        }
    };
    let mut base_url = None;
    let mut gr_models: Vec<String> = Vec::new();
    if let Some(c) = &config {
        let p = c.pointer(&format!("/models/providers/{PROVIDER_ID}"));
        match p {
            Some(p) if p.is_object() => {
                configured.push("provider in openclaw.json");
                base_url = str_at(p, "/baseUrl").map(str::to_owned);
                gr_models = p["models"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|m| m["id"].as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let key_ref = str_at(p, "/apiKey");
                match (&base_url, key_ref) {
                    (None, _) => out.push(problem("the gaterouter provider in openclaw.json has no baseUrl", SETUP)),
                    (Some(_), Some("${GATEROUTER_API_KEY}")) if !gr_models.is_empty() => out.push(ok(format!(
                        "openclaw.json has the gaterouter provider ({}, {} models)",
                        base_url.as_deref().unwrap_or_default(),
                        gr_models.len()
                    ))),
                    (Some(_), Some("${GATEROUTER_API_KEY}")) => out.push(problem("the gaterouter provider in openclaw.json lists no models", SETUP)),
                    (Some(_), _) => out.push(problem(
                        "the gaterouter provider in openclaw.json does not take its key from ${GATEROUTER_API_KEY}",
                        SETUP,
                    )),
                }
                if let Some(u) = &base_url
                    && !u.trim_end_matches('/').ends_with("/openai/v1")
                {
                    out.push(warn(format!("the gaterouter baseUrl {u} does not end in /openai/v1"), "use https://api.gaterouter.ai/openai/v1 (a wrong path answers \"404 page not found\")"));
                }
            }
            _ => {
                missing.push("provider in openclaw.json");
                out.push(problem(
                    "openclaw.json has no models.providers.gaterouter",
                    SETUP,
                ));
            }
        }
        let profile = c.pointer(&format!(
            "/auth/profiles/{}",
            PROFILE_ID.replace('~', "~0").replace('/', "~1")
        ));
        match profile.map(|p| (str_at(p, "/provider"), str_at(p, "/mode"))) {
            Some((Some("gaterouter"), Some("api_key"))) => {
                configured.push("auth profile");
                out.push(ok("auth profile gaterouter:default (api_key)"));
            }
            Some(_) => out.push(problem("auth.profiles[\"gaterouter:default\"] is not {provider: gaterouter, mode: api_key}", SETUP)),
            None => {
                missing.push("auth profile");
                out.push(problem("openclaw.json has no auth profile gaterouter:default", SETUP));
            }
        }
        check_models(c, &gr_models, &mut out);
        check_providers(c, root, env, &mut out);
    }

    // Each agent's models.json.
    for m in &root.models {
        match value(m) {
            Err(e) => out.push(problem(
                e,
                "fix the file, or restore it with gaterouter-setup rollback",
            )),
            Ok(None) => {
                missing.push("models.json provider");
                out.push(problem(format!("{} does not exist", m.rel), SETUP));
            }
            Ok(Some(v)) => match v.pointer(&format!("/providers/{PROVIDER_ID}")) {
                None => {
                    missing.push("models.json provider");
                    out.push(problem(
                        format!("{} has no gaterouter provider", m.rel),
                        SETUP,
                    ));
                }
                Some(p) => {
                    configured.push("models.json provider");
                    let url = str_at(p, "/baseUrl");
                    if base_url.is_some() && url != base_url.as_deref() {
                        out.push(problem(
                            format!(
                                "{}: gaterouter baseUrl {} differs from openclaw.json's {}",
                                m.rel,
                                url.unwrap_or("(none)"),
                                base_url.as_deref().unwrap_or_default()
                            ),
                            SETUP,
                        ));
                    } else if str_at(p, "/apiKey").is_some_and(|k| k != key::ENV_VAR) {
                        out.push(problem(format!("{}: the gaterouter apiKey should be the variable name GATEROUTER_API_KEY", m.rel), SETUP));
                    } else {
                        out.push(ok(format!("{} has the gaterouter provider", m.rel)));
                    }
                }
            },
        }
    }

    if !configured.is_empty() && !missing.is_empty() {
        missing.dedup();
        out.push(problem(
            format!(
                "the root is half configured (present: {}; missing: {}): a setup was interrupted or undone by hand",
                configured.join(", "),
                missing.join(", ")
            ),
            "run gaterouter-setup again to finish, or gaterouter-setup rollback to go back",
        ));
    }

    // Backups hold the key: they must be private too.
    if let Ok(sets) = crate::rollback::list(&root.dir) {
        use std::os::unix::fs::PermissionsExt;
        for s in sets {
            let f = s.dir.join(".env");
            if let Ok(m) = std::fs::metadata(&f)
                && m.permissions().mode() & 0o077 != 0
            {
                out.push(problem(
                    format!("the backup {} is readable by other users", f.display()),
                    format!("chmod 600 {}", f.display()),
                ));
            }
        }
    }
    out
}

/// Every ref's provider must be something OpenClaw can authenticate to: a configured
/// provider, an auth profile for it, or its `<PROVIDER>_API_KEY` in .env or the environment.
/// Otherwise that fallback fails when it is needed (a warning: OpenClaw has built-in
/// providers we cannot see from here).
fn check_providers(c: &Value, root: &Root, env: &Env, out: &mut Vec<Check>) {
    let model = &c["agents"]["defaults"]["model"];
    let refs: Vec<&str> = match model {
        Value::String(s) => vec![s.as_str()],
        Value::Object(o) => o
            .get("primary")
            .and_then(Value::as_str)
            .into_iter()
            .chain(
                o.get("fallbacks")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str),
            )
            .collect(),
        _ => Vec::new(),
    };
    let env_text = root.env.text().ok().flatten().unwrap_or_default();
    let mut seen = Vec::new();
    for r in refs {
        let Some((provider, _)) = r.split_once('/') else {
            continue;
        };
        if provider == PROVIDER_ID || seen.contains(&provider) {
            continue;
        }
        seen.push(provider);
        let var = format!(
            "{}_API_KEY",
            provider.to_ascii_uppercase().replace('-', "_")
        );
        let configured = c
            .pointer(&format!("/models/providers/{provider}"))
            .is_some()
            || c["auth"]["profiles"]
                .as_object()
                .is_some_and(|p| p.values().any(|v| v["provider"] == provider))
            || env.get(&var).is_some()
            || crate::plan::dotenv::parse(env_text)
                .iter()
                .any(|e| e.name == var);
        if !configured {
            out.push(warn(
                format!("fallback provider {provider} ({r}) has no provider entry, auth profile or {var}; that fallback will fail when it is needed"),
                format!("set {var} in .env, run `openclaw onboard` for {provider}, or drop the fallback with --fallback"),
            ));
        }
    }
}

/// The default model and the allowlists: every gaterouter ref names a listed model, and
/// non-empty allowlists admit every configured ref.
fn check_models(c: &Value, gr_models: &[String], out: &mut Vec<Check>) {
    let model = &c["agents"]["defaults"]["model"];
    let (primary, fallbacks): (Option<&str>, Vec<&str>) = match model {
        Value::String(s) => (Some(s), Vec::new()),
        Value::Object(o) => (
            o.get("primary").and_then(Value::as_str),
            o.get("fallbacks")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default(),
        ),
        _ => (None, Vec::new()),
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
    let refs: Vec<&str> = primary
        .into_iter()
        .chain(fallbacks.iter().copied())
        .collect();
    for r in &refs {
        if let Some(id) = r.strip_prefix("gaterouter/")
            && !gr_models.is_empty()
            && !gr_models.iter().any(|m| m == id)
        {
            out.push(problem(
                format!("{r} is not in the gaterouter provider's model list"),
                "use a listed id (provider/model-name, dots in versions), or run gaterouter-setup to refresh the list",
            ));
        }
    }
    if let Some(map) = c["agents"]["defaults"]["models"]
        .as_object()
        .filter(|m| !m.is_empty())
    {
        for r in &refs {
            if !map.contains_key(*r) {
                out.push(problem(format!("{r} is not in the agents.defaults.models allowlist (\"Model … is not allowed\")"), SETUP));
            }
        }
    }
    if let Some(allow) = c["agents"]["defaults"]["modelPolicy"]["allow"]
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
}
