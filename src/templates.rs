//! The built-in templates, and the settings the planners take from them.

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

pub const PROVIDER_ID: &str = "gaterouter";
pub const PROFILE_ID: &str = "gaterouter:default";
pub const PROVIDER_JSON: &str = include_str!("../templates/provider.json");
pub const OPENCLAW_JSON: &str = include_str!("../templates/openclaw.json");

/// What setup writes, resolved from the templates and the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub primary: String,
    pub fallbacks: Vec<String>,
    /// `auth.profiles["gaterouter:default"]`.
    pub profile: Map<String, Value>,
    /// The provider entry without `apiKey`: `baseUrl`, `api`, `models`.
    pub provider: Map<String, Value>,
    /// `apiKey` as written in openclaw.json (`${GATEROUTER_API_KEY}`).
    pub config_api_key: String,
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
        let config_api_key = fragment["models"]["providers"][PROVIDER_ID]["apiKey"]
            .as_str()
            .unwrap_or("${GATEROUTER_API_KEY}")
            .to_owned();
        Ok(Settings {
            primary,
            fallbacks,
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

    /// The provider entry for one file, `apiKey` placed after `baseUrl` as OpenClaw's docs show it.
    pub fn provider_entry(&self, api_key: &str) -> Map<String, Value> {
        let mut out = Map::new();
        for (k, v) in &self.provider {
            out.insert(k.clone(), v.clone());
            if k == "baseUrl" {
                out.insert("apiKey".into(), json!(api_key));
            }
        }
        out.entry("apiKey").or_insert_with(|| json!(api_key));
        out
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
    r.split_once('/').is_some_and(|(p, _)| p == PROVIDER_ID)
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

/// Checks a model ref given on the command line: `provider/model`, split on the first `/`.
pub fn check_ref(r: &str, flag: &str) -> Result<()> {
    match r.split_once('/') {
        Some((p, m)) if model_id_ok(p) && model_id_ok(m) && !p.contains(['/', ':', '@', '+']) => {
            Ok(())
        }
        _ => Err(Error::Usage(format!(
            "{flag} {} is not a model ref; write provider/model using letters, digits and . _ - : @ + (e.g. gaterouter/anthropic/claude-sonnet-4.6)",
            crate::templates::quoted(r)
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
        let entry = s.provider_entry("${GATEROUTER_API_KEY}");
        let keys: Vec<&str> = entry.keys().map(String::as_str).collect();
        assert_eq!(keys, ["baseUrl", "apiKey", "api", "models"]);
    }

    #[test]
    fn patching_checks_the_result() {
        let mut s = Settings::builtin().unwrap();
        s.patch_provider(&json!({"baseUrl": "http://127.0.0.1:9/openai/v1"}))
            .unwrap();
        assert_eq!(s.base_url(), "http://127.0.0.1:9/openai/v1");
        assert!(s.patch_provider(&json!({"models": [{"id": "x"}]})).is_err());
    }

    #[test]
    fn refs_must_name_a_provider() {
        assert!(check_ref("gaterouter/auto", "--primary").is_ok());
        assert!(check_ref("auto", "--primary").is_err());
        assert!(check_ref("/x", "--fallback").is_err());
    }
}
