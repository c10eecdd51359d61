//! Can OpenClaw authenticate to a provider? A fallback to a provider without credentials can
//! only fail (and `openclaw doctor --fix` even switches that provider's plugin on), so setup
//! adds a template's fallback only for a provider that has some, and doctor warns about any
//! other. One rule for both, here.
//!
//! OpenClaw finds a provider's credentials in: a `models.providers.<id>` entry, an auth
//! profile for it (`auth.profiles["<id>:…"]`, whose secret lives in OpenClaw's own store),
//! or `<ID>_API_KEY` in its environment: the process environment, `<root>/.env`,
//! `~/.config/openclaw/gateway.env`, and the config's `env.vars`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

use crate::openclaw::env::Env;

/// The names of variables OpenClaw inherits from outside the root: the process environment
/// and `gateway.env`. Names only; values are never kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ambient {
    names: BTreeSet<String>,
}

impl Ambient {
    pub fn from_env(env: &Env) -> Ambient {
        let mut names: BTreeSet<String> = env.names().map(str::to_owned).collect();
        if let Some(text) = gateway_env(env).and_then(|p| std::fs::read_to_string(p).ok()) {
            names.extend(dotenv_names(&text));
        }
        Ambient { names }
    }
}

/// `~/.config/openclaw/gateway.env` (`OPENCLAW_HOME` replaces `HOME`, as in OpenClaw).
fn gateway_env(env: &Env) -> Option<PathBuf> {
    let home = env.get("OPENCLAW_HOME").or_else(|| env.get("HOME"))?;
    Some(PathBuf::from(home).join(".config/openclaw/gateway.env"))
}

/// The variables a dotenv text assigns, read with OpenClaw's dotenv grammar.
pub fn dotenv_names(text: &str) -> impl Iterator<Item = String> + '_ {
    crate::format::dotenv::parse(text)
        .into_iter()
        .map(|e| e.name)
}

/// `openrouter` → `OPENROUTER_API_KEY`.
pub fn env_var_for(provider: &str) -> String {
    format!(
        "{}_API_KEY",
        provider.to_ascii_uppercase().replace('-', "_")
    )
}

/// What of openclaw.json tells about credentials: the provider ids under
/// `models.providers`, the auth profiles (id → provider) and the `env.vars` names.
#[derive(Debug, Default, Clone)]
pub struct ConfigFacts {
    pub providers: Vec<String>,
    pub profiles: Vec<(String, Option<String>)>,
    pub env_vars: Vec<String>,
}

impl ConfigFacts {
    pub fn from_value(c: &Value) -> ConfigFacts {
        let keys = |v: &Value| -> Vec<String> {
            v.as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        };
        ConfigFacts {
            providers: keys(&c["models"]["providers"]),
            profiles: c["auth"]["profiles"]
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| (k.clone(), v["provider"].as_str().map(str::to_owned)))
                        .collect()
                })
                .unwrap_or_default(),
            env_vars: keys(&c["env"]["vars"]),
        }
    }
}

/// Where OpenClaw finds a provider's key besides the config: the root's `.env` and what it
/// inherits from outside the root.
#[derive(Clone, Copy)]
pub struct Outside<'a> {
    /// The root's `.env` text.
    pub root_env: Option<&'a str>,
    pub ambient: &'a Ambient,
}

impl Outside<'_> {
    /// Nothing outside the config (a root without a `.env`, nothing inherited).
    pub fn none() -> Outside<'static> {
        static NOTHING: Ambient = Ambient {
            names: BTreeSet::new(),
        };
        Outside {
            root_env: None,
            ambient: &NOTHING,
        }
    }
}

/// Why `provider` has credentials, or `None` when OpenClaw would find none.
pub fn source(provider: &str, config: &ConfigFacts, outside: Outside) -> Option<String> {
    let Outside { root_env, ambient } = outside;
    if config.providers.iter().any(|p| p == provider) {
        return Some(format!("models.providers.{provider}"));
    }
    if let Some((id, _)) = config.profiles.iter().find(|(id, p)| {
        id.split_once(':').is_some_and(|(p, _)| p == provider) || p.as_deref() == Some(provider)
    }) {
        return Some(format!("auth profile {id}"));
    }
    let var = env_var_for(provider);
    if config.env_vars.contains(&var) {
        return Some(format!("env.vars.{var}"));
    }
    if root_env.is_some_and(|t| dotenv_names(t).any(|n| n == var)) {
        return Some(format!("{var} in .env"));
    }
    ambient
        .names
        .contains(&var)
        .then(|| format!("{var} in the environment"))
}

/// The sentence that says why a provider's fallback is useless here.
pub fn missing(provider: &str) -> String {
    format!(
        "{provider} has no provider entry, no `{provider}:*` auth profile and no {} in .env, the environment, gateway.env or env.vars",
        env_var_for(provider)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn o<'a>(root_env: Option<&'a str>, ambient: &'a Ambient) -> Outside<'a> {
        Outside { root_env, ambient }
    }

    #[test]
    fn every_source_counts_and_nothing_else() {
        let none = ConfigFacts::default();
        let amb = Ambient::default();
        assert_eq!(source("openrouter", &none, o(None, &amb)), None);
        assert_eq!(
            source(
                "openrouter",
                &none,
                o(Some("# OPENROUTER_API_KEY=x\nA=1\n"), &amb)
            ),
            None
        );
        let c = |v: Value| ConfigFacts::from_value(&v);
        for cfg in [
            json!({"models": {"providers": {"openrouter": {}}}}),
            json!({"auth": {"profiles": {"openrouter:default": {"provider": "openrouter", "mode": "api_key"}}}}),
            json!({"auth": {"profiles": {"work": {"provider": "openrouter", "mode": "token"}}}}),
            json!({"env": {"vars": {"OPENROUTER_API_KEY": "x"}}}),
        ] {
            assert!(
                source("openrouter", &c(cfg.clone()), o(None, &amb)).is_some(),
                "{cfg}"
            );
        }
        assert!(
            source(
                "openrouter",
                &none,
                o(Some("export OPENROUTER_API_KEY=x\n"), &amb)
            )
            .is_some()
        );
        assert!(
            source(
                "openrouter",
                &none,
                o(
                    None,
                    &Ambient {
                        names: BTreeSet::from(["OPENROUTER_API_KEY".to_owned()])
                    }
                )
            )
            .is_some()
        );
        // Another provider's credentials do not count.
        let other = c(
            json!({"models": {"providers": {"openrouterx": {}}}, "auth": {"profiles": {"anthropic:openrouter": {"provider": "anthropic"}}}}),
        );
        assert_eq!(source("openrouter", &other, o(None, &amb)), None);
        assert_eq!(env_var_for("z-ai"), "Z_AI_API_KEY");
    }
}
