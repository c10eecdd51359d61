//! The `gaterouter` provider entry, as both openclaw.json (`models.providers`) and each
//! agent's models.json (`providers`) hold it. Fields we own are set; models are merged by
//! id, so models the user added or tuned (contextWindow, cost…) are kept as they are.

use jsonc_parser::cst::{CstInputValue, CstObject};
use serde_json::{Map, Value};

use crate::error::Result;
use crate::format::json_edit::{Doc, JsonPath, string_value, to_input};

pub fn merge(
    doc: &Doc,
    providers: &CstObject,
    at: &JsonPath,
    id: &str,
    want: &Map<String, Value>,
) -> Result<()> {
    let Some(existing) = doc.object(providers, at, id)? else {
        doc.append(providers, id, to_input(&Value::Object(want.clone())));
        return Ok(());
    };
    let at = at.key(id);
    for (field, value) in want {
        match (field.as_str(), value) {
            ("models", Value::Array(models)) => merge_models(doc, &existing, &at, models)?,
            (_, Value::String(s)) => doc.set_string(&existing, &at, field, s)?,
            _ => match doc.prop(&existing, &at, field)? {
                Some(p) if p.to_serde_value().as_ref() == Some(value) => {}
                Some(p) => doc.replace(&p, to_input(value)),
                None => {
                    doc.append(&existing, field, to_input(value));
                }
            },
        }
    }
    Ok(())
}

/// The budget fields OpenClaw reads (see `probe::Model`): carried into a model entry that
/// is already there but lacks them; a value the user set is never changed.
const LIMITS: [&str; 2] = ["contextWindow", "maxTokens"];

fn add_limits(
    doc: &Doc,
    arr: &jsonc_parser::cst::CstArray,
    i: usize,
    at: &JsonPath,
    m: &Value,
) -> Result<()> {
    let Some(obj) = arr.elements().get(i).and_then(|e| e.as_object()) else {
        return Ok(());
    };
    for f in LIMITS {
        if let Some(v) = m.get(f)
            && doc.prop(&obj, at, f)?.is_none()
        {
            doc.append(&obj, f, to_input(v));
        }
    }
    Ok(())
}

fn merge_models(doc: &Doc, provider: &CstObject, at: &JsonPath, want: &[Value]) -> Result<()> {
    let Some(arr) = doc.array(provider, at, "models")? else {
        let models = CstInputValue::Array(want.iter().map(to_input).collect());
        doc.append(provider, "models", models);
        return Ok(());
    };
    let at = at.key("models");
    let mut have = Vec::new();
    for (i, e) in arr.elements().iter().enumerate() {
        let Some(obj) = e.as_object() else {
            return Err(doc.wrong_type(&at.index(i), "an object with `id` and `name`", e));
        };
        let id_at = at.index(i);
        if let Some(v) = doc.prop(&obj, &id_at, "id")?.and_then(|p| p.value()) {
            match string_value(&v) {
                Some(s) => have.push((i, s)),
                None => return Err(doc.wrong_type(&id_at.key("id"), "a string", &v)),
            }
        }
    }
    for m in want {
        let id = m.get("id").and_then(Value::as_str).unwrap_or_default();
        match have.iter().find(|(_, h)| h == id) {
            None => doc.push_value(&arr, to_input(m)),
            Some((i, _)) => add_limits(doc, &arr, *i, &at.index(*i), m)?,
        }
    }
    Ok(())
}
