//! The built-in templates, and the settings the planners take from them.

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

pub const PROVIDER_ID: &str = "gaterouter";
pub const PROFILE_ID: &str = "gaterouter:default";
pub const PROVIDER_JSON: &str = include_str!("../../templates/provider.json");
pub const OPENCLAW_JSON: &str = include_str!("../../templates/openclaw.json");

/// What setup writes, resolved from the templates and the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub primary: String,
    pub fallbacks: Vec<String>,
    /// `--fallback` was given: the fallbacks are the user's choice, kept even for a provider
    /// without credentials (with a warning). The template's are added only where they work.
    pub fallbacks_given: bool,
    /// `--primary` was given.
    pub primary_given: bool,
    /// `--all-agents`: agents with their own model move to GateRouter too.
    pub all_agents: bool,
    /// `--agent ID`: only this agent moves to GateRouter (its own `model`); the default
    /// model and the other agents stay as they are.
    pub only_agent: Option<String>,
    /// `--replace-fallbacks`: the fallbacks are exactly `fallbacks`, not merged.
    pub replace_fallbacks: bool,
    /// The provider's model list is GateRouter's live catalog (else the bundled one): a
    /// gaterouter ref missing from it is refused, not only warned about.
    pub catalog_live: bool,
    /// `auth.profiles["gaterouter:default"]`.
    pub profile: Map<String, Value>,
    /// The provider entry without `apiKey`: `baseUrl`, `api`, `models`.
    pub provider: Map<String, Value>,
    /// `apiKey` as written in openclaw.json: a SecretRef, never a string (see [`secret_ref`]).
    pub config_api_key: Value,
}

impl Settings {
    pub fn builtin() -> Result<Settings> {
        Settings::from_templates(PROVIDER_JSON, OPENCLAW_JSON)
    }

    /// Parses and checks the two templates, so a bad customised template fails here with a
    /// clear message rather than producing a config OpenClaw rejects.
    pub fn from_templates(provider_json: &str, openclaw_json: &str) -> Result<Settings> {
        let bad = |what: &str| Error::Template(format!("template: {what}"));
        let provider: Value = serde_json::from_str(provider_json)
            .map_err(|e| bad(&format!("provider.json is not JSON: {e}")))?;
        let fragment: Value = serde_json::from_str(openclaw_json)
            .map_err(|e| bad(&format!("openclaw.json is not JSON: {e}")))?;
        let Value::Object(mut provider) = provider else {
            return Err(bad("provider.json must be an object"));
        };
        provider.shift_remove("apiKey");
        for field in ["baseUrl", "api"] {
            if !provider.get(field).is_some_and(Value::is_string) {
                return Err(bad(&format!("provider.json needs a string `{field}`")));
            }
        }
        check_models(provider.get("models"))?;
        let model = &fragment["agents"]["defaults"]["model"];
        let primary = model["primary"]
            .as_str()
            .ok_or_else(|| bad("openclaw.json needs agents.defaults.model.primary"))?
            .to_owned();
        let fallbacks = match &model["fallbacks"] {
            Value::Null => Vec::new(),
            Value::Array(a) => a
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad("fallbacks must be strings"))?,
            _ => return Err(bad("agents.defaults.model.fallbacks must be an array")),
        };
        let profile = fragment["auth"]["profiles"][PROFILE_ID]
            .as_object()
            .cloned()
            .ok_or_else(|| {
                bad(&format!(
                    "openclaw.json needs auth.profiles[\"{PROFILE_ID}\"]"
                ))
            })?;
        let config_api_key = secret_ref(&fragment["models"]["providers"][PROVIDER_ID]["apiKey"])
            .map_err(|e| {
                bad(&format!(
                    "openclaw.json models.providers.gaterouter.apiKey: {e}"
                ))
            })?;
        Ok(Settings {
            primary,
            fallbacks,
            fallbacks_given: false,
            primary_given: false,
            all_agents: false,
            only_agent: None,
            replace_fallbacks: false,
            catalog_live: false,
            profile,
            provider,
            config_api_key,
        })
    }

    /// Applies overrides to the provider with an RFC 7396 merge (`{"baseUrl": …}`,
    /// `{"models": […]}` from the live catalog), then re-checks the result.
    pub fn patch_provider(&mut self, patch: &Value) -> Result<()> {
        let mut v = Value::Object(std::mem::take(&mut self.provider));
        json_patch::merge(&mut v, patch);
        let Value::Object(m) = v else {
            unreachable!("merge keeps an object an object")
        };
        self.provider = m;
        check_models(self.provider.get("models"))
    }

    pub fn base_url(&self) -> &str {
        self.provider["baseUrl"].as_str().unwrap_or_default()
    }

    /// The provider entry for one file, `apiKey` (when given) placed after `baseUrl` as
    /// OpenClaw's docs show it. models.json gets none: see `plan::models_json`.
    pub fn provider_entry(&self, api_key: Option<&Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (k, v) in &self.provider {
            out.insert(k.clone(), v.clone());
            if let (Some(key), "baseUrl") = (api_key, k.as_str()) {
                out.insert("apiKey".into(), key.clone());
            }
        }
        if let Some(key) = api_key {
            out.entry("apiKey").or_insert_with(|| key.clone());
        }
        out
    }

    /// The ids of the provider's model list (the catalog).
    pub fn model_ids(&self) -> Vec<String> {
        self.provider["models"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["id"].as_str().map(str::to_owned))
            .collect()
    }

    /// Every model ref setup configures: the primary, then the fallbacks, without duplicates.
    pub fn refs(&self) -> Vec<String> {
        let mut out = vec![self.primary.clone()];
        for f in &self.fallbacks {
            if !out.contains(f) {
                out.push(f.clone());
            }
        }
        out
    }
}

/// The SecretRef OpenClaw resolves from its environment at use time.
pub fn env_secret_ref(var: &str) -> Value {
    json!({ "source": "env", "provider": "default", "id": var })
}

/// `apiKey` for openclaw.json, always a SecretRef. A `"${VAR}"` string (what setup wrote
/// before, and what an older customised template may hold) is expanded by OpenClaw when the
/// config loads, so OpenClaw treats the result as a plaintext key: `doctor --lint` flags it
/// and `doctor --fix` copies the real key into its own store. It becomes the equivalent
/// SecretRef. Any other string would be a key in plain text in a JSON file: refused. Absent
/// means the default, `GATEROUTER_API_KEY` from the environment.
pub fn secret_ref(v: &Value) -> std::result::Result<Value, String> {
    match v {
        Value::Null => Ok(env_secret_ref(crate::gaterouter::key::ENV_VAR)),
        Value::String(s) => match env_placeholder(s) {
            Some(var) => Ok(env_secret_ref(var)),
            None => Err(
                "a plain string would put a key into openclaw.json in plain text; write a SecretRef such as {\"source\": \"env\", \"provider\": \"default\", \"id\": \"GATEROUTER_API_KEY\"}".into(),
            ),
        },
        Value::Object(o) => {
            let field = |k: &str| o.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
            match (field("source"), field("provider"), field("id")) {
                (Some("env" | "file" | "exec" | "store"), Some(_), Some(_)) if o.len() == 3 => {
                    Ok(v.clone())
                }
                _ => Err("a SecretRef is {\"source\": \"env\"|\"file\"|\"exec\"|\"store\", \"provider\": …, \"id\": …} and nothing else".into()),
            }
        }
        _ => Err("must be a SecretRef object".into()),
    }
}

/// `VAR` when `s` is exactly `${VAR}` with an OpenClaw variable name.
pub fn env_placeholder(s: &str) -> Option<&str> {
    let var = s.strip_prefix("${")?.strip_suffix('}')?;
    is_var_name(var).then_some(var)
}

/// Whether OpenClaw expands `${name}`: uppercase letters, digits and `_`, not starting
/// with a digit.
pub fn is_var_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn check_models(models: Option<&Value>) -> Result<()> {
    let bad = |what: String| Error::Template(format!("template: {what}"));
    let Some(Value::Array(models)) = models else {
        return Err(bad("the provider needs a `models` array".into()));
    };
    for (i, m) in models.iter().enumerate() {
        let ok = |f: &str| {
            m.get(f)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
        };
        if !ok("id") || !ok("name") {
            return Err(bad(format!(
                "models[{i}] needs a non-empty `id` and `name` (OpenClaw refuses a model without either)"
            )));
        }
        let id = m.get("id").and_then(Value::as_str).unwrap_or_default();
        if !model_id_ok(id) {
            return Err(bad(format!(
                "models[{i}].id {} is not a model id (letters, digits and . _ - : @ + /, at most {MAX_ID_LEN} characters)",
                quoted(id)
            )));
        }
    }
    Ok(())
}

/// Whether a model ref names our provider (`gaterouter/…`): split on the first `/`, as
/// OpenClaw does.
pub fn is_our_ref(r: &str) -> bool {
    our_model_id(r).is_some()
}

/// The model id of one of our refs (`gaterouter/auto` → `auto`); `None` for another
/// provider's. The one place the `gaterouter/` prefix is spelled, from [`PROVIDER_ID`].
pub fn our_model_id(r: &str) -> Option<&str> {
    r.split_once('/')
        .and_then(|(p, id)| (p == PROVIDER_ID).then_some(id))
}

/// Our ref for a model id: `auto` → `gaterouter/auto`.
pub fn our_ref(id: &str) -> String {
    format!("{PROVIDER_ID}/{id}")
}

/// The longest model id we accept (GateRouter's are under 64 characters).
pub const MAX_ID_LEN: usize = 128;

/// Whether `id` can be a model id we write: the characters model ids use (letters, digits,
/// `. _ - : @ +` and `/` between parts), bounded in length. Anything else (quotes, `$`,
/// braces, spaces, control characters) could change what OpenClaw reads (`${VAR}` is
/// expanded at load time) or what a terminal shows, and is no model id.
pub fn model_id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && !id.starts_with('/')
        && !id.ends_with('/')
        && !id.contains("//")
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:@+/".contains(&b))
}

/// Up to three ids of `catalog` closest to `id` (edit distance), closest first: what the
/// user probably meant.
pub fn nearest<'a>(id: &str, catalog: &'a [String]) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = catalog
        .iter()
        .map(|c| (strsim::levenshtein(id, c), c.as_str()))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// Checks a model ref given on the command line: `provider/model`, split on the first `/`.
pub fn check_ref(r: &str, flag: &str) -> Result<()> {
    match r.split_once('/') {
        Some((p, m)) if model_id_ok(p) && model_id_ok(m) && !p.contains(['/', ':', '@', '+']) => {
            Ok(())
        }
        _ => Err(Error::Usage(format!(
            "{flag} {} is not a model ref; write provider/model using letters, digits and . _ - : @ + (e.g. gaterouter/anthropic/claude-sonnet-4.6)",
            crate::gaterouter::templates::quoted(r)
        ))),
    }
}

/// `s` quoted for a message, control characters escaped and cut at 80 characters.
pub fn quoted(s: &str) -> String {
    let cut: String = s.chars().take(80).collect();
    let more = if cut.len() < s.len() { "…" } else { "" };
    format!("{:?}{more}", cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_are_valid() {
        let s = Settings::builtin().unwrap();
        assert_eq!(s.primary, "gaterouter/auto");
        assert_eq!(
            s.fallbacks,
            [
                "gaterouter/anthropic/claude-sonnet-4.6",
                "openrouter/anthropic/claude-sonnet-4.6"
            ]
        );
        assert_eq!(s.base_url(), "https://api.gaterouter.ai/openai/v1");
        let entry = s.provider_entry(Some(&s.config_api_key));
        let keys: Vec<&str> = entry.keys().map(String::as_str).collect();
        assert_eq!(keys, ["baseUrl", "apiKey", "api", "models"]);
        assert_eq!(
            entry["apiKey"],
            json!({"source": "env", "provider": "default", "id": "GATEROUTER_API_KEY"})
        );
        assert!(!s.provider_entry(None).contains_key("apiKey"));
    }

    #[test]
    fn patching_checks_the_result() {
        let mut s = Settings::builtin().unwrap();
        s.patch_provider(&json!({"baseUrl": "http://127.0.0.1:9/openai/v1"}))
            .unwrap();
        assert_eq!(s.base_url(), "http://127.0.0.1:9/openai/v1");
        assert!(s.patch_provider(&json!({"models": [{"id": "x"}]})).is_err());
    }

    /// Whatever a (customised) template says, openclaw.json gets a SecretRef: the `${VAR}`
    /// string we used to write becomes one, and a literal key is refused.
    #[test]
    fn the_config_key_is_always_a_secret_ref() {
        let with = |k: Value| {
            let mut frag: Value = serde_json::from_str(OPENCLAW_JSON).unwrap();
            frag["models"]["providers"][PROVIDER_ID]["apiKey"] = k;
            Settings::from_templates(PROVIDER_JSON, &frag.to_string())
        };
        let want = env_secret_ref("GATEROUTER_API_KEY");
        assert_eq!(
            with(json!("${GATEROUTER_API_KEY}")).unwrap().config_api_key,
            want
        );
        assert_eq!(with(Value::Null).unwrap().config_api_key, want);
        assert_eq!(
            with(json!("${MY_KEY_2}")).unwrap().config_api_key,
            env_secret_ref("MY_KEY_2")
        );
        let file = json!({"source": "file", "provider": "vault", "id": "/gaterouter"});
        assert_eq!(with(file.clone()).unwrap().config_api_key, file);
        for bad in [
            json!("sk-or-v1-literal-key"),
            json!("${lower}"),
            json!("prefix ${GATEROUTER_API_KEY}"),
            json!({"source": "env", "id": "X"}),
            json!({"source": "env", "provider": "default", "id": "X", "extra": 1}),
            json!(42),
        ] {
            assert!(with(bad.clone()).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn nearest_ids_come_first() {
        let cat: Vec<String> = [
            "auto",
            "openai/gpt-5.4",
            "openai/gpt-5.4-mini",
            "anthropic/claude-sonnet-4.6",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(nearest("openai/gpt-9", &cat)[0], "openai/gpt-5.4");
        assert_eq!(
            nearest("anthropic/claude-sonnet-4-6", &cat)[0],
            "anthropic/claude-sonnet-4.6"
        );
    }

    #[test]
    fn refs_must_name_a_provider() {
        assert!(check_ref("gaterouter/auto", "--primary").is_ok());
        assert!(check_ref("auto", "--primary").is_err());
        assert!(check_ref("/x", "--fallback").is_err());
    }
}
