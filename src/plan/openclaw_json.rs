//! `openclaw.json`: the default model, the auth profile, allowlists, and the provider.
//! Strings such as `${VAR}` and `$include` entries are never expanded: we edit the text
//! OpenClaw will expand, not the expanded result.

use std::path::Path;

use serde_json::{Value, json};

use super::gate::{Edit, Intent, under};
use super::provider;
use crate::error::{Error, Result};
use crate::format::json_edit::{Arr, Before, Doc, JsonPath, Obj, Prop, to_input};
use crate::format::json_tree::Input;
use crate::gaterouter::templates::{self, PROFILE_ID, PROVIDER_ID, Settings, is_our_ref};
use crate::openclaw::credentials::{self, ConfigFacts, Outside};

/// The subtrees this planner reads or edits; the rest of a (possibly huge) config is
/// carried through untouched without entering the CST.
pub const KEEP: &[&[&str]] = &[
    &["agents", "defaults"],
    &["auth", "profiles"],
    &["models", "providers", PROVIDER_ID],
    &["env", "vars"],
    &["agents", "entries"],
    &["agents", "list"],
];

/// Where the defaults are, as segments (for the gate's intents).
const DEFAULTS: &[&str] = &["agents", "defaults"];

/// [`plan_recording`] for a root without a `.env`, inheriting nothing.
pub fn plan(path: &Path, before: Option<&str>, s: &Settings) -> Result<String> {
    Ok(plan_recording(path, before, s, Outside::none())?.0.text)
}

/// The new openclaw.json, and what setup should record for uninstall. `outside` is where
/// else a fallback provider's key may be (the root's `.env`, what OpenClaw inherits).
pub fn plan_recording<'a>(
    path: &Path,
    before: impl Into<Before<'a>>,
    s: &Settings,
    outside: Outside,
) -> Result<(Edit, Record)> {
    plan_keeping(path, before.into(), s, KEEP, outside)
}

fn plan_keeping(
    path: &Path,
    before: Before,
    s: &Settings,
    keep: &[&[&str]],
    outside: Outside,
) -> Result<(Edit, Record)> {
    let doc = Doc::open(path, before, keep)?;
    let root = doc.root_object();
    let mut record = Record::default();
    let catalog = catalog(&doc, root, s);
    let listed = check_catalog(s, &catalog, &mut record.notes)?;
    let (fallbacks, unusable) =
        usable_fallbacks(&doc, root, s, &listed, outside, &mut record.notes);
    let (defaults, at) = doc.ensure_path(root, DEFAULTS)?;
    let mut intents = Vec::new();
    let s = &Settings {
        fallbacks,
        ..s.clone()
    };
    if let Some(id) = &s.only_agent {
        // One agent only: its own model, recorded for uninstall; the default stays.
        intents.push(one_agent_model(&doc, root, id, s, &catalog, &mut record)?);
    } else {
        record.previous_model = previous_model(&doc, defaults, &at)?;
        let model = set_model(&doc, defaults, &at, s, &catalog, &mut record)?;
        intents.push(Intent::set(&under(DEFAULTS, "model"), model));
        note_unusable_in_place(&doc, defaults, &at, &unusable, &mut record.notes);
    }
    let refs = s.refs();
    intents.extend(allow_refs(&doc, defaults, &at, &refs, &mut record.added)?);
    if s.only_agent.is_none() {
        intents.extend(own_models(&doc, root, s, &catalog, &mut record)?);
    }
    intents.extend(set_profile(&doc, root, s)?);
    let (providers, at) = doc.ensure_path(root, &["models", "providers"])?;
    intents.extend(provider::merge(
        &doc,
        providers,
        (&["models", "providers"], &at),
        PROVIDER_ID,
        &s.provider_entry(Some(&s.config_api_key)),
    )?);
    let text = doc.render();
    Ok((Edit { text, intents }, record))
}

/// Our auth profile: added whole, or its string fields set in the one there.
fn set_profile(doc: &Doc, root: Obj, s: &Settings) -> Result<Vec<Intent>> {
    let base = ["auth", "profiles", PROFILE_ID];
    let (profiles, at) = doc.ensure_path(root, &base[..2])?;
    let Some(p) = doc.object(profiles, &at, PROFILE_ID)? else {
        let profile = Value::Object(s.profile.clone());
        doc.append(profiles, PROFILE_ID, to_input(&profile));
        return Ok(vec![Intent::set(&base, profile)]);
    };
    let at = at.key(PROFILE_ID);
    let mut intents = Vec::new();
    for (k, v) in &s.profile {
        if let Some(v) = v.as_str() {
            doc.set_string(p, &at, k, v)?;
            intents.push(Intent::set(&under(&base, k), v.into()));
        }
    }
    Ok(intents)
}

/// An agent of the config's list: its id, its object, and its path (also as segments).
type Agent = (String, Obj, JsonPath, Vec<String>);

/// Each agent of the config's list (`agents.entries` or `agents.list`).
fn agent_objects(doc: &Doc, root: Obj) -> Result<Vec<Agent>> {
    let mut out = Vec::new();
    let Some((agents, at)) = doc.find_path(root, &["agents"])? else {
        return Ok(out);
    };
    if let Some(entries) = doc.object(agents, &at, "entries")? {
        let eat = at.key("entries");
        for p in doc.props(entries) {
            let (Some(id), Some(o)) = (doc.name(p), doc.as_object(doc.value_of(p))) else {
                continue;
            };
            let pat = eat.key(&id);
            let segs = vec!["agents".into(), "entries".into(), id.clone()];
            out.push((id, o, pat, segs));
        }
    }
    if let Some(list) = doc.array(agents, &at, "list")? {
        let lat = at.key("list");
        for (i, e) in doc.elements(list).into_iter().enumerate() {
            let Some(o) = doc.as_object(e) else { continue };
            if let Some(id) = doc.string(o, &lat.index(i), "id")? {
                let segs = vec!["agents".into(), "list".into(), i.to_string()];
                out.push((id, o, lat.index(i), segs));
            }
        }
    }
    Ok(out)
}

/// `--agent ID`: that agent's own `model` moves to GateRouter as the default would (its
/// previous one, `null` when it had none, recorded so uninstall gives it back). An agent
/// the config does not declare has no entry to hold a model of its own and runs on the
/// default: refused rather than changing every agent's default (or creating an entry,
/// which can change which agent OpenClaw runs by default). Says what it set.
fn one_agent_model(
    doc: &Doc,
    root: Obj,
    id: &str,
    s: &Settings,
    catalog: &[String],
    record: &mut Record,
) -> Result<Intent> {
    let found = agent_objects(doc, root)?
        .into_iter()
        .find(|(a, _, _, _)| a.eq_ignore_ascii_case(id));
    let Some((id, obj, at, segs)) = found else {
        return Err(Error::Usage(format!(
            "--agent {id}: openclaw.json does not declare agent {id} (agents.entries or agents.list), so it runs on agents.defaults.model like every undeclared agent and has no model of its own to set; nothing was changed. Declare it first (openclaw agents add {id}), or run without --agent to set the default for every agent"
        )));
    };
    let prev = doc
        .prop(obj, &at, "model")?
        .and_then(|p| doc.serde(p))
        .unwrap_or(Value::Null);
    let already_ours = crate::openclaw::agents::refs(&prev)
        .first()
        .is_some_and(|p| is_our_ref(p));
    if !already_ours {
        record.added.agent_models.insert(id.clone(), prev);
    }
    let model = set_model(doc, obj, &at, s, catalog, record)?;
    Ok(Intent::set(&under(&segs, "model"), model))
}

/// Agents with their own `model` do not use the default. With `--all-agents` each moves to
/// GateRouter the way the default does (its old model kept as its last fallback, recorded
/// for uninstall); otherwise the plan names them. Says what it set.
fn own_models(
    doc: &Doc,
    root: Obj,
    s: &Settings,
    catalog: &[String],
    record: &mut Record,
) -> Result<Vec<Intent>> {
    let mut intents = Vec::new();
    for (id, obj, at, segs) in agent_objects(doc, root)? {
        let Some(model) = doc.prop(obj, &at, "model")?.and_then(|p| doc.serde(p)) else {
            continue;
        };
        let refs = crate::openclaw::agents::refs(&model);
        if refs.first().is_some_and(|p| is_our_ref(p)) {
            continue;
        }
        if !s.all_agents {
            record.notes.push(format!(
                "agent {id} has its own model ({}) and does not use the default; --all-agents moves it to GateRouter too, its model kept as its last fallback",
                refs.first().map_or("?", String::as_str)
            ));
            continue;
        }
        // Not ours (see above): the model uninstall gives back.
        record.added.agent_models.insert(id, model);
        let model = set_model(doc, obj, &at, s, catalog, record)?;
        intents.push(Intent::set(&under(&segs, "model"), model));
    }
    Ok(intents)
}

/// The model ids the provider will list after setup: those already configured in
/// `models.providers.gaterouter.models` and the catalog setup adds (merged by id).
fn catalog(doc: &Doc, root: Obj, s: &Settings) -> Vec<String> {
    let mut ids = s.model_ids();
    if let Ok(Some((p, at))) = doc.find_path(root, &["models", "providers", PROVIDER_ID])
        && let Ok(Some(arr)) = doc.array(p, &at, "models")
    {
        for e in doc.elements(arr) {
            if let Some(id) = doc
                .serde(e)
                .and_then(|v| v["id"].as_str().map(str::to_owned))
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
    }
    ids
}

/// Every gaterouter ref setup is asked to configure must be in the catalog: OpenClaw
/// refuses a ref its provider does not list. The primary (flag or template) and a
/// `--fallback` are refused when
/// the catalog is GateRouter's live one (with `--offline` it is the bundled one, which may
/// be out of date: a warning); a template's fallback that is missing is left out.
fn check_catalog(s: &Settings, catalog: &[String], notes: &mut Vec<String>) -> Result<Vec<String>> {
    let explain = |r: &str, id: &str| {
        let nearest: Vec<String> = templates::nearest(id, catalog)
            .iter()
            .map(|n| templates::our_ref(n))
            .collect();
        format!(
            "{r} is not in GateRouter's {} model list; the nearest ids are {}",
            if s.catalog_live {
                "live"
            } else {
                "bundled (--offline)"
            },
            nearest.join(", ")
        )
    };
    let asked = |flag: &str, r: &str, id: &str, notes: &mut Vec<String>| {
        let why = explain(r, id);
        if s.catalog_live {
            return Err(Error::Usage(format!("{flag} {why}; nothing was changed")));
        }
        notes.push(format!("{why}; written as asked, check the id"));
        Ok(())
    };
    if let Some(id) = missing(&s.primary, catalog) {
        let flag = if s.primary_given {
            "--primary"
        } else {
            "the template's primary"
        };
        // The primary is asked for, from the command line or a template alike: one rule
        // for both (a template's used to be refused by the first, bundled-catalog plan of
        // an online run, before the live catalog was known).
        asked(flag, &s.primary, id, notes)?;
    }
    let mut kept = Vec::new();
    for f in &s.fallbacks {
        if let Some(id) = missing(f, catalog) {
            if !s.fallbacks_given {
                notes.push(format!("fallback left out: {}", explain(f, id)));
                continue;
            }
            asked("--fallback", f, id, notes)?;
        }
        kept.push(f.clone());
    }
    Ok(kept)
}

/// The model id of `r` when it is a gaterouter ref the catalog does not list. Such a ref
/// (an earlier bad --primary, a retired model) can only fail.
fn missing<'r>(r: &'r str, catalog: &[String]) -> Option<&'r str> {
    templates::our_model_id(r).filter(|id| !catalog.iter().any(|c| c == id))
}

/// What of the config says where credentials are; read leniently (a part of the wrong type
/// is simply not a source), as OpenClaw's own checks report such a config anyway.
fn config_facts(doc: &Doc, root: Obj) -> ConfigFacts {
    let props = |keys: &[&str]| match doc.find_path(root, keys) {
        Ok(Some((o, _))) => doc.props(o),
        _ => Vec::new(),
    };
    let names = |keys: &[&str]| -> Vec<String> {
        props(keys)
            .into_iter()
            .filter_map(|p| doc.name(p))
            .collect()
    };
    let provider = |p: Prop| doc.serde(p)?.get("provider")?.as_str().map(str::to_owned);
    ConfigFacts {
        providers: names(&["models", "providers"]),
        profiles: props(&["auth", "profiles"])
            .into_iter()
            .filter_map(|p| Some((doc.name(p)?, provider(p))))
            .collect(),
        env_vars: names(&["env", "vars"]),
    }
}

/// The template's fallbacks (`listed`: those the catalog lists) that can work here, and those
/// that cannot: a fallback to a provider without credentials only fails (and `openclaw
/// doctor --fix` switches that provider's plugin on). Fallbacks given with `--fallback` are
/// kept, with a warning.
fn usable_fallbacks(
    doc: &Doc,
    root: Obj,
    s: &Settings,
    listed: &[String],
    outside: Outside,
    notes: &mut Vec<String>,
) -> (Vec<String>, Vec<String>) {
    let facts = config_facts(doc, root);
    let (mut keep, mut unusable) = (Vec::new(), Vec::new());
    for f in listed {
        let provider = f.split('/').next().unwrap_or_default();
        if provider == PROVIDER_ID || credentials::source(provider, &facts, outside).is_some() {
            keep.push(f.clone());
        } else if s.fallbacks_given {
            notes.push(format!(
                "fallback {f} is kept as asked, but {}; it will fail when it is needed",
                credentials::missing(provider)
            ));
            keep.push(f.clone());
        } else {
            unusable.push(f.clone());
        }
    }
    (keep, unusable)
}

/// Says why each unusable fallback was left out. One the config already has (the user's,
/// or one an earlier version of setup added) stays where it is, since nothing of the
/// user's is taken away, but the plan says it cannot work.
fn note_unusable_in_place(
    doc: &Doc,
    defaults: Obj,
    at: &JsonPath,
    unusable: &[String],
    notes: &mut Vec<String>,
) {
    let model = doc
        .prop(defaults, at, "model")
        .ok()
        .flatten()
        .and_then(|p| doc.serde(p));
    let present = model
        .as_ref()
        .and_then(|m| m.get("fallbacks"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>())
        .unwrap_or_default();
    for u in unusable {
        let provider = u.split('/').next().unwrap_or_default();
        notes.push(if present.contains(&u.as_str()) {
            format!(
                "fallback {u} is already in the config and stays, but it will fail when it is needed: {}; remove it from agents.defaults.model.fallbacks unless you set that up",
                credentials::missing(provider)
            )
        } else {
            format!(
                "fallback {u} left out: {}",
                credentials::missing(provider)
            )
        });
    }
}

fn previous_model(doc: &Doc, defaults: Obj, at: &JsonPath) -> Result<Option<Value>> {
    let v = doc.prop(defaults, at, "model")?.and_then(|p| doc.serde(p));
    let primary = match &v {
        Some(Value::Object(o)) => o.get("primary"),
        v => v.as_ref(),
    };
    let ours = primary.and_then(Value::as_str).is_some_and(is_our_ref);
    Ok((!ours).then(|| v.unwrap_or(Value::Null)))
}

/// The fallback list setup wants: ours first, then the user's own in their order, then the
/// user's previous primary, never the primary itself and never twice. When the primary is
/// already ours and all our fallbacks are there, the user's order is left as it is.
pub fn merge_fallbacks(
    primary: &str,
    ours: &[String],
    current: &[String],
    old_primary: Option<&str>,
) -> Vec<String> {
    if old_primary == Some(primary)
        && ours
            .iter()
            .filter(|f| *f != primary)
            .all(|f| current.contains(f))
        && !current.iter().any(|c| c == primary)
    {
        return current.to_vec();
    }
    let mut out: Vec<String> = Vec::new();
    let old = old_primary.map(str::to_owned);
    for f in ours.iter().chain(current).chain(old.iter()) {
        if f != primary && !out.contains(f) {
            out.push(f.clone());
        }
    }
    out
}

/// A fallback list we write is one ref per line: easier to read and to diff later.
fn spread_fallbacks(doc: &Doc, model: Prop) {
    let Some(m) = doc.as_object(doc.value_of(model)) else {
        return;
    };
    let fallbacks = doc
        .props(m)
        .into_iter()
        .rfind(|&p| doc.name(p).as_deref() == Some("fallbacks"));
    if let Some(a) = fallbacks.and_then(|p| doc.as_array(doc.value_of(p))) {
        doc.spread(a);
    }
}

/// Moves the `model` of `defaults` (or of an agent) to ours; returns the value it is to hold.
fn set_model(
    doc: &Doc,
    defaults: Obj,
    at: &JsonPath,
    s: &Settings,
    catalog: &[String],
    record: &mut Record,
) -> Result<Value> {
    let mut edit = ModelEdit { s, catalog, record };
    let Some(prop) = doc.prop(defaults, at, "model")? else {
        let model = edit.whole(None);
        let p = doc.append(defaults, "model", to_input(&model));
        spread_fallbacks(doc, p);
        return Ok(model);
    };
    let at = at.key("model");
    let value = doc.value_of(prop);
    if let Some(old) = doc.as_string(value) {
        // `"model": "anthropic/…"` becomes `{primary, fallbacks}`, the old model kept last.
        let old_kept = edit.fresh(std::slice::from_ref(&old)).pop();
        let model = edit.whole(old_kept.as_deref());
        if old == s.primary && model.get("fallbacks").is_none() {
            return Ok(Value::String(old));
        }
        doc.replace(prop, to_input(&model));
        spread_fallbacks(doc, prop);
        return Ok(model);
    }
    let Some(model) = doc.as_object(value) else {
        return Err(doc.wrong_type(&at, "a string or an object {primary, fallbacks}", value));
    };
    edit.object(doc, model, &at)
}

/// [`set_model`]'s settings and what it records on the way.
struct ModelEdit<'a> {
    s: &'a Settings,
    catalog: &'a [String],
    record: &'a mut Record,
}

impl ModelEdit<'_> {
    /// `refs` without the ones GateRouter does not list (not carried over into the
    /// fallbacks), each of those said in the notes.
    fn fresh(&mut self, refs: &[String]) -> Vec<String> {
        let (catalog, notes) = (self.catalog, &mut self.record.notes);
        refs.iter()
            .filter(|r| {
                let bad = missing(r, catalog).is_some();
                if bad {
                    notes.push(format!(
                        "{r} is not in GateRouter's model list and was taken out of the default model"
                    ));
                }
                !bad
            })
            .cloned()
            .collect()
    }

    /// A new model object: our primary, and our fallbacks with `old` last (no empty list).
    fn whole(&mut self, old: Option<&str>) -> Value {
        let primary = self.s.primary.as_str();
        let fallbacks = merge_fallbacks(primary, &self.s.fallbacks, &[], old);
        self.note_added(&[], &fallbacks);
        let mut v = json!({ "primary": primary });
        if !fallbacks.is_empty() {
            v["fallbacks"] = json!(fallbacks);
        }
        v
    }

    /// Fallbacks setup adds that are not gaterouter refs: recorded, so uninstall can take
    /// them out again even after the user changed the primary.
    fn note_added(&mut self, current: &[String], desired: &[String]) {
        for f in desired {
            let added = &mut self.record.added.fallbacks;
            if !is_our_ref(f) && !current.contains(f) && !added.contains(f) {
                added.push(f.clone());
            }
        }
    }

    /// The model object `{primary, fallbacks}` at `at`: our primary, the fallbacks merged.
    /// Returns the object it is to be.
    fn object(&mut self, doc: &Doc, model: Obj, at: &JsonPath) -> Result<Value> {
        // OpenClaw's schema for this object is strict: anything else stops the Gateway.
        for p in doc.props(model) {
            let name = doc.name(p).unwrap_or_default();
            if name != "primary" && name != "fallbacks" {
                return Err(Error::WrongType {
                    path: doc.path().to_path_buf(),
                    line: doc.line_of(&at.key(&name)),
                    pointer: at.key(&name).to_string(),
                    expected: "absent (the model object takes only `primary` and `fallbacks`)",
                    found: "present".into(),
                });
            }
        }
        let (s, primary) = (self.s, self.s.primary.as_str());
        let old_primary = doc.string(model, at, "primary")?;
        let (arr, current) = strings_at(doc, model, at, "fallbacks")?;
        let desired = if s.replace_fallbacks {
            merge_fallbacks(primary, &s.fallbacks, &[], None)
        } else {
            let kept = self.fresh(&current);
            let old_kept = old_primary
                .as_ref()
                .and_then(|o| self.fresh(std::slice::from_ref(o)).pop());
            merge_fallbacks(primary, &s.fallbacks, &kept, old_kept.as_deref())
        };
        self.note_added(&current, &desired);
        if old_primary.is_none() {
            doc.insert(model, 0, "primary", Input::String(primary.to_owned()));
        } else {
            doc.set_string(model, at, "primary", primary)?;
        }
        let mut planned = json!({ "primary": primary });
        match arr {
            // Nothing left (--replace-fallbacks with none): no empty list either.
            Some(_) if desired.is_empty() && !current.is_empty() => {
                doc.remove(model, at, "fallbacks")?;
            }
            Some(a) => {
                doc.sync_strings(a, &current, &desired);
                planned["fallbacks"] = json!(desired);
            }
            None if !desired.is_empty() => {
                let p = doc.append(model, "fallbacks", to_input(&json!(desired)));
                if let Some(a) = doc.as_array(doc.value_of(p)) {
                    doc.spread(a);
                }
                planned["fallbacks"] = json!(desired);
            }
            None => {}
        }
        Ok(planned)
    }
}

/// The array of strings at `key` of `o` (itself at `at`), and what it holds (nothing when
/// there is none).
fn strings_at(doc: &Doc, o: Obj, at: &JsonPath, key: &str) -> Result<(Option<Arr>, Vec<String>)> {
    let Some(arr) = doc.array(o, at, key)? else {
        return Ok((None, Vec::new()));
    };
    Ok((Some(arr), doc.strings(arr, &at.key(key))?))
}

/// Makes sure OpenClaw's allowlists admit every ref we configure. A non-empty
/// `agents.defaults.models` map is the (legacy) allowlist: add our refs as keys. A non-empty
/// `modelPolicy.allow` is the newer one: add `gaterouter/*`, and any other ref of ours it
/// does not admit yet. Empty or absent lists permit everything, so they are left alone.
/// Says what it set.
fn allow_refs(
    doc: &Doc,
    defaults: Obj,
    at: &JsonPath,
    refs: &[String],
    added: &mut Added,
) -> Result<Vec<Intent>> {
    let mut intents = Vec::new();
    if let Some(map) = doc.object(defaults, at, "models")?
        && !doc.props(map).is_empty()
    {
        let mat = at.key("models");
        for r in refs {
            if doc.prop(map, &mat, r)?.is_none() {
                doc.append(map, r, Input::Object(Vec::new()));
                added.allowlist_map.push(r.clone());
                intents.push(Intent::set(
                    &[DEFAULTS, &["models", r.as_str()]].concat(),
                    json!({}),
                ));
            }
        }
    }
    let Some(policy) = doc.object(defaults, at, "modelPolicy")? else {
        return Ok(intents);
    };
    let (Some(allow), mut have) = strings_at(doc, policy, &at.key("modelPolicy"), "allow")? else {
        return Ok(intents);
    };
    if have.is_empty() {
        return Ok(intents);
    }
    let wildcard = format!("{PROVIDER_ID}/*");
    let admits = |have: &[String], r: &str| {
        let provider = r.split('/').next().unwrap_or_default();
        have.iter().any(|h| h == r || *h == format!("{provider}/*"))
    };
    let mut wanted = vec![wildcard];
    wanted.extend(refs.iter().cloned());
    let before = have.len();
    for r in wanted {
        if !admits(&have, &r) {
            doc.push_string(allow, &r);
            added.policy_allow.push(r.clone());
            have.push(r);
        }
    }
    if have.len() > before {
        let allow_at = [DEFAULTS, &["modelPolicy", "allow"]].concat();
        intents.push(Intent::set(&allow_at, json!(have)));
    }
    Ok(intents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::json5;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn fallbacks_ours_first_then_users_then_old_primary() {
        let ours = v(&["g/s", "o/s"]);
        assert_eq!(
            merge_fallbacks("g/auto", &ours, &v(&["x/y"]), Some("a/opus")),
            v(&["g/s", "o/s", "x/y", "a/opus"])
        );
        assert_eq!(
            merge_fallbacks("g/auto", &ours, &[], Some("g/s")),
            v(&["g/s", "o/s"])
        );
        assert_eq!(
            merge_fallbacks("g/auto", &ours, &v(&["g/auto", "o/s"]), None),
            v(&["g/s", "o/s"])
        );
    }

    /// Eliding untouched subtrees is an optimisation only: the bytes must be identical to
    /// planning on the full CST, for every fixture and for a large generated config.
    #[test]
    fn elision_never_changes_the_output() {
        let settings = Settings::builtin().unwrap();
        let all: &[&[&str]] = &[&[]];
        let mut inputs = Vec::new();
        let roots = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/roots");
        for case in std::fs::read_dir(&roots).unwrap() {
            let f = case.unwrap().path().join("input/openclaw.json");
            if let Ok(t) = std::fs::read_to_string(&f) {
                inputs.push(t);
            }
        }
        let mut big =
            String::from("{\n  // big\n  agents: { defaults: { model: 'a/b' }, entries: {\n");
        for i in 0..200 {
            big.push_str(&format!(
                "    a{i}: {{ identity: {{ name: 'Agent {i}', emoji: '🦞' }} }},\n"
            ));
        }
        big.push_str("  } },\n  models: { providers: { x: { baseUrl: 'http://h', models: [\n");
        for i in 0..500 {
            big.push_str(&format!(
                "    {{ id: 'm{i}', name: \"M {i}\", cost: {{ input: 1.5e-3, output: -2 }} }},\n"
            ));
        }
        big.push_str("  ] } } },\n  channels: { telegram: { enabled: true, allowFrom: [\"1\", \"2\"] } },\n}\n");
        inputs.push(big);
        assert!(inputs.len() >= 10);
        let p = Path::new("openclaw.json");
        let same = |a: Result<(Edit, Record)>, b: Result<(Edit, Record)>, text: &str| match (a, b) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "elided and full plans differ for:\n{text}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("one path failed: {:?} vs {:?}", a.err(), b.err()),
        };
        for text in &inputs {
            let full = plan_keeping(
                p,
                Some(text.as_str()).into(),
                &settings,
                all,
                Outside::none(),
            );
            same(
                plan_recording(p, Some(text.as_str()), &settings, Outside::none()),
                full,
                text,
            );
        }
        // The plan's one reading of a file, shared with migration, keeps more than the
        // planner: the same plan, and the same refusal when a comment ended by U+2028 hides
        // from the editor a part the planner keeps (and only then).
        let shared = crate::plan::reads(crate::openclaw::files::FileKind::Config);
        for hidden in [
            "providers: { x: { apiKey: 'k' } }",
            "models: { providers: {} }",
            "agents: {}",
        ] {
            inputs.push(format!("{{ gateway: {{}}, // note\u{2028} {hidden}\n}}"));
        }
        for text in &inputs {
            let read = Before {
                text: Some(text),
                read: Some(json5::Document::parse(text, Some(&shared))),
            };
            let once = plan_keeping(p, read, &settings, KEEP, Outside::none());
            same(
                plan_recording(p, Some(text.as_str()), &settings, Outside::none()),
                once,
                text,
            );
        }
    }

    #[test]
    fn a_user_reordering_is_kept_once_configured() {
        let ours = v(&["g/s", "o/s"]);
        let cur = v(&["x/y", "o/s", "g/s"]);
        assert_eq!(merge_fallbacks("g/auto", &ours, &cur, Some("g/auto")), cur);
    }
}

/// What uninstall removes besides gaterouter refs: refs setup added to the allowlists.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Added {
    pub allowlist_map: Vec<String>,
    pub policy_allow: Vec<String>,
    /// Fallbacks that are not gaterouter refs (a template's other provider, the old primary).
    pub fallbacks: Vec<String>,
    /// The model each agent had before `--all-agents` (or `--agent`) moved it (agent id →
    /// model); the manifest keeps it beside `added`, not in it.
    pub agent_models: serde_json::Map<String, Value>,
}

/// What setup records (in the backup manifest) so uninstall can undo exactly its edits: the
/// model it replaced (JSON `null` when there was none; absent when it was already a
/// gaterouter one, so the original survives repeated setups), and what it added to the
/// allowlists. Noted while editing, at no extra cost.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Record {
    pub previous_model: Option<Value>,
    pub added: Added,
    /// What the plan should tell the user (a fallback left out, and why).
    pub notes: Vec<String>,
}

/// Undoes setup: the auth profile and the provider go, our refs leave the allowlists and
/// fallbacks, and the model is what it was before setup (`previous`, recorded then), or
/// else the first fallback that is not ours.
pub fn unplan(
    path: &Path,
    before: Option<&str>,
    previous: Option<&Value>,
    added: &Added,
) -> Result<Edit> {
    let doc = Doc::parse(path, before.unwrap_or(""), KEEP)?;
    let root = doc.root_object();
    let mut intents = Vec::new();
    if let Some((defaults, at)) = doc.find_path(root, DEFAULTS)? {
        let model = under(DEFAULTS, "model");
        intents.extend(unset_model(
            &doc,
            defaults,
            &at,
            &model,
            previous,
            &added.fallbacks,
        )?);
        intents.extend(unallow(&doc, defaults, &at, added)?);
    }
    for (id, obj, at, segs) in agent_objects(&doc, root)? {
        intents.extend(unset_model(
            &doc,
            obj,
            &at,
            &under(&segs, "model"),
            added.agent_models.get(&id),
            &added.fallbacks,
        )?);
    }
    for (outer, inner, id) in [
        ("auth", "profiles", PROFILE_ID),
        ("models", "providers", PROVIDER_ID),
    ] {
        intents.push(Intent::absent(&[outer, inner, id]));
        if let Some((container, at)) = doc.find_path(root, &[outer, inner])?
            && doc.remove(container, &at, id)?
            && doc.props(container).is_empty()
        {
            // Containers setup created only for its own entry go too.
            let (parent, pat) = doc.find_path(root, &[outer])?.expect("just walked it");
            doc.remove(parent, &pat, inner)?;
            if doc.props(parent).is_empty() {
                doc.remove(root, &JsonPath::root(), outer)?;
            }
        }
    }
    let text = doc.render();
    Ok(Edit { text, intents })
}

/// Our refs, and those setup added, leave the allowlists of `defaults`; says what is left.
fn unallow(doc: &Doc, defaults: Obj, at: &JsonPath, added: &Added) -> Result<Vec<Intent>> {
    let mut intents = Vec::new();
    if let Some(map) = doc.object(defaults, at, "models")? {
        for p in doc.props(map) {
            if let Some(n) = doc.name(p)
                && (is_our_ref(&n) || added.allowlist_map.contains(&n))
            {
                doc.delete(p);
                intents.push(Intent::absent(
                    &[DEFAULTS, &["models", n.as_str()]].concat(),
                ));
            }
        }
    }
    if let Some(policy) = doc.object(defaults, at, "modelPolicy")?
        && let (Some(allow), current) = strings_at(doc, policy, &at.key("modelPolicy"), "allow")?
    {
        let keep: Vec<String> = current
            .iter()
            .filter(|r| !is_our_ref(r) && !added.policy_allow.contains(r))
            .cloned()
            .collect();
        doc.sync_strings(allow, &current, &keep);
        let allow_at = [DEFAULTS, &["modelPolicy", "allow"]].concat();
        intents.push(Intent::set(&allow_at, json!(keep)));
    }
    Ok(intents)
}

/// Gives the `model` of `defaults` (or of an agent; at `model`, as segments) back; says
/// what it is to hold.
fn unset_model(
    doc: &Doc,
    defaults: Obj,
    at: &JsonPath,
    model: &[String],
    previous: Option<&Value>,
    added_fallbacks: &[String],
) -> Result<Vec<Intent>> {
    let Some(prop) = doc.prop(defaults, at, "model")? else {
        return Ok(Vec::new());
    };
    let mat = at.key("model");
    let value = doc.value_of(prop);
    let (primary, fallbacks, arr, obj) = if let Some(s) = doc.as_string(value) {
        (Some(s), Vec::new(), None, None)
    } else if let Some(o) = doc.as_object(value) {
        let (arr, fallbacks) = strings_at(doc, o, &mat, "fallbacks")?;
        (doc.string(o, &mat, "primary")?, fallbacks, arr, Some(o))
    } else {
        return Err(doc.wrong_type(&mat, "a string or an object {primary, fallbacks}", value));
    };
    let theirs: Vec<String> = fallbacks
        .iter()
        .filter(|f| !is_our_ref(f) && !added_fallbacks.contains(f))
        .cloned()
        .collect();
    let fallbacks_at = under(model, "fallbacks");
    if !primary.as_deref().is_some_and(is_our_ref) {
        // The primary is the user's own: only the fallbacks setup added leave.
        let Some((a, o)) = arr.zip(obj) else {
            return Ok(Vec::new());
        };
        if theirs.is_empty() && !fallbacks.is_empty() {
            doc.remove(o, &mat, "fallbacks")?;
            return Ok(vec![Intent::absent(&fallbacks_at)]);
        }
        doc.sync_strings(a, &fallbacks, &theirs);
        return Ok(vec![Intent::set(&fallbacks_at, json!(theirs))]);
    }
    let mut intents = Vec::new();
    match (previous, theirs.split_first(), obj) {
        // There was no model before setup: none again (OpenClaw uses its own default).
        (Some(Value::Null), _, _) => doc.delete(prop),
        (Some(prev), _, _) => {
            doc.replace(prop, to_input(prev));
            return Ok(vec![Intent::set(model, prev.clone())]);
        }
        (None, Some((first, rest)), Some(o)) => {
            doc.set_string(o, &mat, "primary", first)?;
            intents.push(Intent::set(&under(model, "primary"), first.as_str().into()));
            if let Some(a) = arr {
                if rest.is_empty() {
                    doc.remove(o, &mat, "fallbacks")?;
                    intents.push(Intent::absent(&fallbacks_at));
                } else {
                    doc.sync_strings(a, &fallbacks, rest);
                    intents.push(Intent::set(&fallbacks_at, json!(rest)));
                }
            }
            return Ok(intents);
        }
        _ => doc.delete(prop),
    }
    Ok(vec![Intent::absent(model)])
}
