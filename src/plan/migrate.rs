//! A root already wired to GateRouter under another provider id (`openclaw onboard
//! --auth-choice custom-api-key` writes `custom-api-gaterouter-ai`, people write `gr` by
//! hand): every provider whose `baseUrl` is GateRouter's is migrated to `gaterouter`, so the
//! root ends with one GateRouter provider instead of two side by side. Pure text edits,
//! run before the planners: model refs `<old>/<model>` become `gaterouter/<model>` wherever a
//! ref is held (any `model`, `primary`, `fallbacks`, `*Model` value, `allow` lists, the keys
//! of a `models` map), auth profiles of the old provider go (setup adds `gaterouter:default`),
//! and the old entry is renamed to `gaterouter` (or, when there already is one, removed with
//! its models carried over). What changed is returned as JSON paths, which the last gate
//! (`gate`) then accepts as this plan's own. The backup set of the run is the way back.

use std::path::Path;

use serde_json::Value;

use super::gate::{Intent, under};
use crate::error::Result;
use crate::format::json_edit::{Doc, Item, JsonPath, Obj, to_input};
use crate::gaterouter::templates::{PROFILE_ID, PROVIDER_ID};

/// Whether two base URLs name the same endpoint: scheme and host as URLs compare them
/// (case, default port), the path without trailing slashes.
pub fn same_endpoint(a: &str, b: &str) -> bool {
    /// Scheme, host, port, path, query.
    type Endpoint = (String, String, Option<u16>, String, Option<String>);
    fn norm(u: &str) -> Option<Endpoint> {
        let u = url::Url::parse(u.trim()).ok()?;
        Some((
            u.scheme().to_owned(),
            u.host_str()?.to_ascii_lowercase(),
            u.port_or_known_default(),
            u.path().trim_end_matches('/').to_owned(),
            u.query().map(str::to_owned),
        ))
    }
    matches!((norm(a), norm(b)), (Some(x), Some(y)) if x == y)
}

/// The providers of `providers` (a `models.providers` or models.json `providers` map)
/// other than ours whose `baseUrl` is one of `gaterouter_urls`.
pub fn foreign_ids(providers: Option<&Value>, gaterouter_urls: &[&str]) -> Vec<String> {
    let Some(map) = providers.and_then(Value::as_object) else {
        return Vec::new();
    };
    map.iter()
        .filter(|(id, p)| {
            *id != PROVIDER_ID
                && p["baseUrl"]
                    .as_str()
                    .is_some_and(|u| gaterouter_urls.iter().any(|g| same_endpoint(u, g)))
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// What a migration changed in one file.
#[derive(Debug, Default)]
pub struct Migrated {
    pub text: String,
    /// Every JSON path that changed (as segments), for the gate.
    pub paths: Vec<Vec<String>>,
    /// What it took away for good (the old entry, profiles, `auth.order` entries), for the
    /// gate's postcondition: the planners after it must not bring them back.
    pub intents: Vec<Intent>,
    /// How many refs were rewritten.
    pub refs: usize,
}

/// Keys whose string values (or arrays of strings) are model refs.
fn holds_refs(key: &str) -> bool {
    matches!(key, "model" | "primary" | "fallbacks" | "allow") || key.ends_with("Model")
}

/// `<old>/<rest>` as `gaterouter/<rest>` (`<old>/*` included), when `r` is one of `ids`'.
fn rewritten(r: &str, ids: &[String]) -> Option<String> {
    let (provider, rest) = r.split_once('/')?;
    ids.iter()
        .any(|i| i == provider)
        .then(|| format!("{PROVIDER_ID}/{rest}"))
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

struct Walk<'a> {
    doc: &'a Doc,
    ids: &'a [String],
    paths: Vec<Vec<String>>,
    refs: usize,
}

impl Walk<'_> {
    fn node(&mut self, n: Item, at: &mut Vec<String>, refs_here: bool) {
        let doc = self.doc;
        if let Some(o) = doc.as_object(n) {
            self.object(o, at);
        } else if let Some(a) = doc.as_array(n) {
            let mut seen: Vec<String> = Vec::new();
            let mut changed = false;
            for (i, e) in doc.elements(a).into_iter().enumerate() {
                match doc.as_string(e).filter(|_| refs_here) {
                    Some(mut value) => {
                        if let Some(new) = rewritten(&value, self.ids) {
                            doc.set_raw(e, quoted(&new), &new);
                            self.refs += 1;
                            changed = true;
                            value = new;
                        }
                        if seen.contains(&value) {
                            // Twice once rewritten (`old/x` beside `gaterouter/x`): once is
                            // enough.
                            doc.delete(e);
                            changed = true;
                        } else {
                            seen.push(value);
                        }
                    }
                    None => {
                        at.push(i.to_string());
                        self.node(e, at, refs_here);
                        at.pop();
                    }
                }
            }
            // The gate compares arrays element by element: the whole array is this change.
            if changed {
                self.paths.push(at.clone());
            }
        } else if refs_here
            && let Some(new) = doc.as_string(n).and_then(|s| rewritten(&s, self.ids))
        {
            doc.set_raw(n, quoted(&new), &new);
            self.refs += 1;
            self.paths.push(at.clone());
        }
    }

    fn object(&mut self, o: Obj, at: &mut Vec<String>) {
        let doc = self.doc;
        let in_models_map = at.last().is_some_and(|k| k == "models");
        let props = doc.props(o);
        let names: Vec<String> = props.iter().filter_map(|&p| doc.name(p)).collect();
        for p in props {
            let Some(name) = doc.name(p) else {
                continue;
            };
            if in_models_map && let Some(new) = rewritten(&name, self.ids) {
                // An allowlist key: renamed, or dropped when the new one is there already.
                self.paths.push([at.clone(), vec![name.clone()]].concat());
                self.paths.push([at.clone(), vec![new.clone()]].concat());
                self.refs += 1;
                if names.contains(&new) {
                    doc.delete(p);
                    continue;
                }
                if let Some(k) = doc.quoted_key(p) {
                    doc.set_raw(k, quoted(&new), &new);
                }
            }
            at.push(name.clone());
            self.node(doc.value_of(p), at, holds_refs(&name));
            at.pop();
        }
    }
}

/// openclaw.json (or a models.json, `models_json`) with the providers `ids` migrated.
pub fn migrate(path: &Path, text: &str, ids: &[String], models_json: bool) -> Result<Migrated> {
    let doc = Doc::parse(path, text, &[&[]])?;
    let root = doc.root_object();
    let mut walk = Walk {
        doc: &doc,
        ids,
        paths: Vec::new(),
        refs: 0,
    };
    let mut intents = Vec::new();
    if !models_json {
        walk.object(root, &mut Vec::new());
        // The old provider's auth profiles (and its `auth.order` entry) go.
        if let Some((profiles, at)) = doc.find_path(root, &["auth", "profiles"])? {
            for p in doc.props(profiles) {
                let provider = doc
                    .serde(p)
                    .and_then(|v| v["provider"].as_str().map(str::to_owned));
                let name = doc.name(p).unwrap_or_default();
                if provider.is_some_and(|pr| ids.contains(&pr)) {
                    let path = under(&["auth", "profiles"], &name);
                    // Setup adds its own profile under this name again.
                    if name != PROFILE_ID {
                        intents.push(Intent::absent(&path));
                    }
                    walk.paths.push(path);
                    doc.remove(profiles, &at, &name)?;
                }
            }
        }
        if let Some((order, at)) = doc.find_path(root, &["auth", "order"])? {
            for id in ids {
                if doc.remove(order, &at, id)? {
                    let path = under(&["auth", "order"], id);
                    intents.push(Intent::absent(&path));
                    walk.paths.push(path);
                }
            }
        }
    }
    let container: &[&str] = if models_json {
        &["providers"]
    } else {
        &["models", "providers"]
    };
    if let Some((providers, at)) = doc.find_path(root, container)? {
        for id in ids {
            let Some(p) = doc.prop(providers, &at, id)? else {
                continue;
            };
            let path = under(container, id);
            intents.push(Intent::absent(&path));
            walk.paths.push(path);
            match doc.object(providers, &at, PROVIDER_ID)? {
                None => {
                    if let Some(k) = doc.quoted_key(p) {
                        doc.set_raw(k, quoted(PROVIDER_ID), PROVIDER_ID);
                    } else {
                        let v = doc.serde(p).unwrap_or(Value::Null);
                        doc.delete(p);
                        doc.append(providers, PROVIDER_ID, to_input(&v));
                    }
                }
                Some(ours) => {
                    carry_models(&doc, ours, &at.key(PROVIDER_ID), &doc.serde(p))?;
                    doc.delete(p);
                }
            }
        }
    }
    Ok(Migrated {
        text: doc.render(),
        paths: walk.paths,
        intents,
        refs: walk.refs,
    })
}

/// The old entry's models that ours lacks (by id) join ours: refs now point at them.
fn carry_models(doc: &Doc, ours: Obj, at: &JsonPath, old: &Option<Value>) -> Result<()> {
    let Some(models) = old.as_ref().and_then(|o| o["models"].as_array()) else {
        return Ok(());
    };
    let Some(arr) = doc.array(ours, at, "models")? else {
        return Ok(());
    };
    let have: Vec<String> = doc
        .elements(arr)
        .into_iter()
        .filter_map(|e| doc.serde(e)?.get("id")?.as_str().map(str::to_owned))
        .collect();
    for m in models {
        if m["id"]
            .as_str()
            .is_some_and(|id| !have.iter().any(|h| h == id))
        {
            doc.push_value(arr, to_input(m));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Any old id, any spelling of GateRouter's URL, refs in any of the places a ref is
        /// held, with or without a `gaterouter` entry already there: after the migration and
        /// setup's planner no ref or profile of the old id is left, one GateRouter provider
        /// remains, and the last gate accepts every change.
        #[test]
        fn any_foreign_gaterouter_provider_migrates_cleanly(
            id in "[a-z][a-z0-9-]{0,12}".prop_filter("not ours", |i| i != PROVIDER_ID),
            url in prop::sample::select(vec![
                "https://api.gaterouter.ai/openai/v1",
                "https://API.GATEROUTER.AI/openai/v1/",
                "https://api.gaterouter.ai:443/openai/v1",
            ]),
            places in prop::collection::vec(0usize..6, 1..6),
            ours_too in any::<bool>(),
            model in prop::sample::select(vec!["auto", "anthropic/claude-sonnet-4.6", "openai/gpt-5.4"]),
        ) {
            let r = format!("{id}/{model}");
            let mut c = serde_json::json!({
                "agents": {"defaults": {"model": {"primary": "anthropic/x"}}, "entries": {"w": {"name": "w"}}},
                "auth": {"profiles": {format!("{id}:default"): {"provider": id, "mode": "api_key"}}},
                "models": {"providers": {id.clone(): {"baseUrl": url, "api": "openai-completions",
                    "models": [{"id": model, "name": "M"}]}}},
            });
            for p in &places {
                let d = &mut c["agents"]["defaults"];
                match p {
                    0 => d["model"]["primary"] = r.clone().into(),
                    1 => d["model"]["fallbacks"] = serde_json::json!([r, "anthropic/y"]),
                    2 => d["models"] = serde_json::json!({r.clone(): {}}),
                    3 => d["modelPolicy"] = serde_json::json!({"allow": [format!("{id}/*")]}),
                    4 => d["imageModel"] = r.clone().into(),
                    _ => c["agents"]["entries"]["w"]["model"] = r.clone().into(),
                }
            }
            if ours_too {
                c["models"]["providers"]["gaterouter"] = serde_json::json!({
                    "baseUrl": "https://api.gaterouter.ai/openai/v1", "models": [{"id": "auto", "name": "A"}]});
            }
            let text = serde_json::to_string_pretty(&c).unwrap();
            let ids = vec![id.clone()];
            let m = migrate(Path::new("openclaw.json"), &text, &ids, false).unwrap();
            let s = crate::gaterouter::templates::Settings::builtin().unwrap();
            let (edit, _) = crate::plan::openclaw_json::plan_recording(Path::new("openclaw.json"), Some(m.text.as_str()), &s, crate::openclaw::credentials::Outside::none()).unwrap();
            let after = edit.text;
            let v = crate::format::json5::parse(&after).unwrap().to_serde();
            let flat = v.to_string();
            prop_assert!(!flat.contains(&format!("\"{id}/")), "{flat}");
            prop_assert!(!flat.contains(&format!("\"{id}:")), "{flat}");
            let providers = v["models"]["providers"].as_object().unwrap();
            prop_assert_eq!(providers.keys().collect::<Vec<_>>(), vec!["gaterouter"]);
            let listed: Vec<&str> = providers["gaterouter"]["models"].as_array().unwrap()
                .iter().filter_map(|m| m["id"].as_str()).collect();
            prop_assert!(listed.contains(&model), "{listed:?}");
            let ours = |x: &str| x.starts_with("gaterouter/");
            let intents = [edit.intents, m.intents].concat();
            crate::plan::gate::check_with(
                Path::new("openclaw.json"), Some(&text), &after, &intents,
                crate::plan::FileKind::Config.spec().owned, &m.paths, &ours,
            ).unwrap();
        }
    }

    #[test]
    fn endpoints_compare_as_urls() {
        let g = "https://api.gaterouter.ai/openai/v1";
        for same in [
            "https://api.gaterouter.ai/openai/v1/",
            "HTTPS://API.GateRouter.ai:443/openai/v1",
            " https://api.gaterouter.ai/openai/v1// ",
        ] {
            assert!(same_endpoint(same, g), "{same}");
        }
        for other in [
            "https://api.gaterouter.ai/v1",
            "http://api.gaterouter.ai/openai/v1",
            "https://api.gaterouter.ai:8443/openai/v1",
            "https://evil.example/openai/v1",
            "not a url",
        ] {
            assert!(!same_endpoint(other, g), "{other}");
        }
    }

    #[test]
    fn refs_profiles_and_the_entry_move_to_gaterouter() {
        let ids = vec!["gr".to_owned()];
        let text = r#"{
  // mine
  agents: {
    defaults: {
      model: {primary: "gr/auto", fallbacks: ["gr/openai/gpt-5.4", "gaterouter/openai/gpt-5.4", "anthropic/x"]},
      imageModel: "gr/google/gemini-3-flash-preview",
      models: {"gr/auto": {alias: "a"}, "gaterouter/openai/gpt-5.4": {}, "gr/openai/gpt-5.4": {}},
      modelPolicy: {allow: ["gr/*", "anthropic/*"]},
    },
    entries: {work: {model: "gr/anthropic/claude-sonnet-4.6", workspace: "gr/notes"}},
  },
  auth: {profiles: {"gr:default": {provider: "gr", mode: "api_key"}, "a:b": {provider: "anthropic", mode: "api_key"}}},
  models: {providers: {gr: {baseUrl: "https://api.gaterouter.ai/openai/v1/", apiKey: "${GR}", models: [{id: "auto", name: "A"}]}}},
}"#;
        let m = migrate(Path::new("openclaw.json"), text, &ids, false).unwrap();
        let v = crate::format::json5::parse(&m.text).unwrap().to_serde();
        let d = &v["agents"]["defaults"];
        assert_eq!(d["model"]["primary"], "gaterouter/auto");
        assert_eq!(
            d["model"]["fallbacks"],
            serde_json::json!(["gaterouter/openai/gpt-5.4", "anthropic/x"])
        );
        assert_eq!(d["imageModel"], "gaterouter/google/gemini-3-flash-preview");
        assert_eq!(
            d["models"],
            serde_json::json!({"gaterouter/auto": {"alias": "a"}, "gaterouter/openai/gpt-5.4": {}})
        );
        assert_eq!(
            d["modelPolicy"]["allow"],
            serde_json::json!(["gaterouter/*", "anthropic/*"])
        );
        let work = &v["agents"]["entries"]["work"];
        assert_eq!(work["model"], "gaterouter/anthropic/claude-sonnet-4.6");
        assert_eq!(work["workspace"], "gr/notes", "a path is no ref");
        assert_eq!(
            v["auth"]["profiles"],
            serde_json::json!({"a:b": {"provider": "anthropic", "mode": "api_key"}})
        );
        assert!(v["models"]["providers"]["gr"].is_null());
        assert_eq!(v["models"]["providers"]["gaterouter"]["apiKey"], "${GR}");
        assert!(m.text.contains("// mine"));
        // Every change is inside a path the migration names.
        let ours = |r: &str| r.starts_with("gaterouter/") || r.starts_with("gr/");
        let owned: Vec<Vec<String>> = m.paths.clone();
        crate::plan::gate::check_with(
            Path::new("openclaw.json"),
            Some(text),
            &m.text,
            &m.intents,
            crate::plan::FileKind::Config.spec().owned,
            &owned,
            &ours,
        )
        .unwrap();
    }
}
