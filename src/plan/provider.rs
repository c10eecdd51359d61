//! The `gaterouter` provider entry, as both openclaw.json (`models.providers`) and each
//! agent's models.json (`providers`) hold it. Fields we own are set; models are merged by
//! id, so models the user added or tuned (contextWindow, cost…) are kept as they are.

use serde_json::{Map, Value};

use crate::error::Result;
use crate::format::json_edit::{Arr, Doc, JsonPath, Obj, to_input};
use crate::format::json_tree::Input;

pub fn merge(
    doc: &Doc,
    providers: Obj,
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
            ("models", Value::Array(models)) => merge_models(doc, existing, &at, models)?,
            (_, Value::String(s)) => doc.set_string(existing, &at, field, s)?,
            _ => match doc.prop(existing, &at, field)? {
                Some(p) if doc.serde(p).as_ref() == Some(value) => {}
                Some(p) => doc.replace(p, to_input(value)),
                None => {
                    doc.append(existing, field, to_input(value));
                }
            },
        }
    }
    Ok(())
}

/// The budget fields OpenClaw reads (see `probe::Model`): carried into a model entry that
/// is already there but lacks them; a value the user set is never changed.
const LIMITS: [&str; 2] = ["contextWindow", "maxTokens"];

fn add_limits(doc: &Doc, arr: Arr, i: usize, at: &JsonPath, m: &Value) -> Result<()> {
    let Some(obj) = doc.elements(arr).get(i).and_then(|&e| doc.as_object(e)) else {
        return Ok(());
    };
    for f in LIMITS {
        if let Some(v) = m.get(f)
            && doc.prop(obj, at, f)?.is_none()
        {
            doc.append(obj, f, to_input(v));
        }
    }
    Ok(())
}

fn merge_models(doc: &Doc, provider: Obj, at: &JsonPath, want: &[Value]) -> Result<()> {
    let Some(arr) = doc.array(provider, at, "models")? else {
        let models = Input::Array(want.iter().map(to_input).collect());
        doc.append(provider, "models", models);
        return Ok(());
    };
    let at = at.key("models");
    let mut have = Vec::new();
    for (i, e) in doc.elements(arr).into_iter().enumerate() {
        let Some(obj) = doc.as_object(e) else {
            return Err(doc.wrong_type(&at.index(i), "an object with `id` and `name`", e));
        };
        let id_at = at.index(i);
        if let Some(p) = doc.prop(obj, &id_at, "id")? {
            let v = doc.value_of(p);
            match doc.as_string(v) {
                Some(s) => have.push((i, s)),
                None => return Err(doc.wrong_type(&id_at.key("id"), "a string", v)),
            }
        }
    }
    for m in want {
        let id = m.get("id").and_then(Value::as_str).unwrap_or_default();
        match have.iter().find(|(_, h)| h == id) {
            None => doc.push_value(arr, to_input(m)),
            Some((i, _)) => add_limits(doc, arr, *i, &at.index(*i), m)?,
        }
    }
    Ok(())
}
