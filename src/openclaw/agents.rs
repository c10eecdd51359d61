//! The agents a config declares. An agent with its own `model` ignores
//! `agents.defaults.model`, so setup's default does not reach it; and OpenClaw reads each
//! declared agent's models.json from its `agentDir`, not necessarily `agents/main`.
//!
//! The list's key depends on the release: `agents.list` (an array of `{id, …}`) up to
//! 2026.7, `agents.entries` (a map id → `{…}`) from 2026.8. Both are read, neither is
//! created: setup never writes the other generation's key.

use serde_json::Value;

/// One declared agent.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub id: String,
    /// `agentDir` as written (absolute, or relative to the root).
    pub dir: Option<String>,
    /// Its own `model`, when it has one.
    pub model: Option<Value>,
    pub default: bool,
    /// Where it sits, for messages: `agents.entries.thomas` or `agents.list[0]`.
    pub at: String,
}

/// The agents of a config value (or of the `agents` part of one), in the config's order.
pub fn declared(config: &Value) -> Vec<Agent> {
    let a = &config["agents"];
    let one = |id: &str, e: &Value, at: String| Agent {
        id: id.to_owned(),
        dir: e["agentDir"].as_str().map(str::to_owned),
        model: e.get("model").filter(|m| !m.is_null()).cloned(),
        default: e["default"] == true,
        at,
    };
    let mut out = Vec::new();
    if let Some(m) = a["entries"].as_object() {
        for (id, e) in m {
            out.push(one(id, e, format!("agents.entries.{id}")));
        }
    }
    if let Some(l) = a["list"].as_array() {
        for (i, e) in l.iter().enumerate() {
            if let Some(id) = e["id"].as_str() {
                out.push(one(id, e, format!("agents.list[{i}]")));
            }
        }
    }
    out
}

/// The id of the agent OpenClaw runs by default: the one marked `default`, else the first
/// declared, else `main`.
pub fn default_id(agents: &[Agent]) -> String {
    agents
        .iter()
        .find(|a| a.default)
        .or_else(|| agents.first())
        .map_or_else(|| "main".to_owned(), |a| a.id.clone())
}

/// The model refs an agent's own `model` names (a string, or `{primary, fallbacks}`).
pub fn refs(model: &Value) -> Vec<String> {
    match model {
        Value::String(s) => vec![s.clone()],
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
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_generations_are_read() {
        let new = json!({"agents": {"entries": {
            "thomas": {"agentDir": "/s/agents/thomas/agent", "model": "openai-codex/gpt-5.4"},
            "ops": {"default": true}
        }}});
        let a = declared(&new);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].model, Some(json!("openai-codex/gpt-5.4")));
        assert_eq!(a[0].at, "agents.entries.thomas");
        assert_eq!(default_id(&a), "ops");
        let old = json!({"agents": {"list": [{"id": "thomas", "model": {"primary": "x/y"}}, {"name": "no id"}]}});
        let a = declared(&old);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].at, "agents.list[0]");
        assert_eq!(default_id(&a), "thomas");
        assert_eq!(default_id(&[]), "main");
        assert_eq!(
            refs(&json!({"primary": "a/b", "fallbacks": ["c/d"]})),
            ["a/b", "c/d"]
        );
    }
}
