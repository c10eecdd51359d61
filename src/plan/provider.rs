//! The `gaterouter` provider entry, as both openclaw.json (`models.providers`) and each
//! agent's models.json (`providers`) hold it. Fields we own are set; models are merged by
//! id, so models the user added or tuned (contextWindow, cost…) are kept as they are.

use serde_json::{Map, Value};

use super::gate::{Intent, under};
use crate::error::Result;
use crate::format::json_edit::{Doc, JsonPath, Obj, to_input};
use crate::format::json_tree::Input;

/// Merges `want` into the entry `id` of the provider map `providers` (at `container`, as
/// segments, and `at`), and says what it set there (see `gate`).
pub fn merge(
    doc: &Doc,
    providers: Obj,
    (container, at): (&[&str], &JsonPath),
    id: &str,
    want: &Map<String, Value>,
) -> Result<Vec<Intent>> {
    let base = under(container, id);
    let Some(existing) = doc.object(providers, at, id)? else {
        doc.append(providers, id, to_input(&Value::Object(want.clone())));
        return Ok(vec![Intent::set(&base, Value::Object(want.clone()))]);
    };
    let at = at.key(id);
    let mut intents = Vec::new();
    for (field, value) in want {
        match (field.as_str(), value) {
            ("models", Value::Array(models)) => {
                let models_at = under(&base, field);
                intents.extend(merge_models(doc, existing, (&models_at, &at), models)?);
                continue;
            }
            (_, Value::String(s)) => doc.set_string(existing, &at, field, s)?,
            _ => match doc.prop(existing, &at, field)? {
                Some(p) if doc.serde(p).as_ref() == Some(value) => {}
                Some(p) => doc.replace(p, to_input(value)),
                None => {
                    doc.append(existing, field, to_input(value));
                }
            },
        }
        intents.push(Intent::set(&under(&base, field), value.clone()));
    }
    Ok(intents)
}

/// The budget fields OpenClaw reads (see `probe::Model`): carried into a model entry that
/// is already there but lacks them; a value the user set is never changed.
const LIMITS: [&str; 2] = ["contextWindow", "maxTokens"];

/// Merges `want` into the provider's `models` (at `base`, as segments; `at` is the
/// provider's), by id: a missing model is appended, one there gets the limits it lacks.
fn merge_models(
    doc: &Doc,
    provider: Obj,
    (base, at): (&[String], &JsonPath),
    want: &[Value],
) -> Result<Vec<Intent>> {
    let Some(arr) = doc.array(provider, at, "models")? else {
        let models = Input::Array(want.iter().map(to_input).collect());
        doc.append(provider, "models", models);
        return Ok(vec![Intent::set(base, Value::Array(want.to_vec()))]);
    };
    let at = at.key("models");
    let mut intents = Vec::new();
    let mut next = doc.elements(arr).len();
    let mut have = Vec::new();
    for (i, e) in doc.elements(arr).into_iter().enumerate() {
        let Some(obj) = doc.as_object(e) else {
            return Err(doc.wrong_type(&at.index(i), "an object with `id` and `name`", e));
        };
        let id_at = at.index(i);
        if let Some(p) = doc.prop(obj, &id_at, "id")? {
            let v = doc.value_of(p);
            match doc.as_string(v) {
                Some(s) => have.push((i, obj, s)),
                None => return Err(doc.wrong_type(&id_at.key("id"), "a string", v)),
            }
        }
    }
    for m in want {
        let id = m.get("id").and_then(Value::as_str).unwrap_or_default();
        let Some(&(i, obj, _)) = have.iter().find(|(_, _, h)| h == id) else {
            doc.push_value(arr, to_input(m));
            intents.push(Intent::set(&under(base, &next.to_string()), m.clone()));
            next += 1;
            continue;
        };
        let el = under(base, &i.to_string());
        for f in LIMITS {
            if let Some(v) = m.get(f)
                && doc.prop(obj, &at.index(i), f)?.is_none()
            {
                doc.append(obj, f, to_input(v));
                intents.push(Intent::set(&under(&el, f), v.clone()));
            }
        }
    }
    Ok(intents)
}
