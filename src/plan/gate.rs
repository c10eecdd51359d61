//! The last gate before anything is written: every new JSON file is parsed back, and the
//! difference between what it held and what it will hold must lie entirely inside the paths
//! gaterouter-setup owns. Whatever went wrong upstream (a forged placeholder, a reader that
//! disagreed with OpenClaw's, a bug in an edit), a file whose other settings would change is
//! refused here, as a bug, with nothing written. The second half is the postcondition: each
//! path a planner set ([`Intent`]) holds exactly what it planned, so a splice that lands a
//! wrong value under a path we own is refused too.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::error::{Error, Result};
use crate::format::json5::{self, Document, Entry, JsString, Kind, Node, Object, Value};
use crate::openclaw::files::{Pattern, pointer};

/// What a planner set at one path (as segments, an array element by its index): the value
/// the new text must hold there, exactly, or `None` when the planner took the path away.
#[derive(Debug, Clone, PartialEq)]
pub struct Intent {
    pub path: Vec<String>,
    pub value: Option<serde_json::Value>,
}

impl Intent {
    pub fn set<S: AsRef<str>>(path: &[S], value: serde_json::Value) -> Intent {
        Intent {
            path: segments(path),
            value: Some(value),
        }
    }

    pub fn absent<S: AsRef<str>>(path: &[S]) -> Intent {
        Intent {
            path: segments(path),
            value: None,
        }
    }
}

fn segments<S: AsRef<str>>(path: &[S]) -> Vec<String> {
    path.iter().map(|s| s.as_ref().to_owned()).collect()
}

/// `base` and then `key`.
pub fn under<S: AsRef<str>>(base: &[S], key: &str) -> Vec<String> {
    let mut p = segments(base);
    p.push(key.to_owned());
    p
}

/// What a JSON planner returns: the new text and what it set in it. The gate takes the
/// intents with the text, so a planner's edit is never written unchecked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Edit {
    pub text: String,
    pub intents: Vec<Intent>,
}

impl Edit {
    /// A text the gate does not read (`.env`): nothing to hold it to.
    pub fn text_only(text: String) -> Edit {
        Edit {
            text,
            intents: Vec::new(),
        }
    }
}

/// Checks `after` against `before` (both the full text of one file): `after` must parse,
/// every changed value must be under one of `owned`, and every intent must hold in it.
/// `our_ref` limits the `*` of the allowlist map to the refs setup manages (another model's
/// entry is not ours to touch).
pub fn check(
    path: &Path,
    before: Option<&str>,
    after: &str,
    intents: &[Intent],
    owned: &[Pattern],
    our_ref: &dyn Fn(&str) -> bool,
) -> Result<()> {
    check_with(path, before, after, intents, owned, &[], our_ref)
}

/// [`check`], with `also`: paths this one plan owns besides the patterns (a migration's, see
/// `migrate`), each with everything under it.
pub fn check_with(
    path: &Path,
    before: Option<&str>,
    after: &str,
    intents: &[Intent],
    owned: &[Pattern],
    also: &[Vec<String>],
    our_ref: &dyn Fn(&str) -> bool,
) -> Result<()> {
    let bug = |what: String| Error::Internal {
        path: path.to_path_buf(),
        what,
    };
    let keep = kept(owned, also);
    let keep: Vec<&[&str]> = keep.iter().map(Vec::as_slice).collect();
    // One skip-mode reading of `after` serves both halves: everything we own is built in it.
    let new = Document::parse(after, Some(&keep));
    let shown = match (before, &new) {
        (Some(before), Ok(new)) => quick_check(before, after, new, &keep, owned, also, our_ref),
        _ => false,
    };
    if !shown {
        check_owned(before, after, owned, also, our_ref).map_err(bug)?;
    }
    let new = new.map_err(|e| bug(format!("the new contents would not parse ({e})")))?;
    holds(&new.root, after, intents).map_err(bug)
}

/// The full reading of the ownership check: both sides built whole, every change named.
fn check_owned(
    before: Option<&str>,
    after: &str,
    owned: &[Pattern],
    also: &[Vec<String>],
    our_ref: &dyn Fn(&str) -> bool,
) -> std::result::Result<(), String> {
    let old = match before {
        Some(t) if !t.trim_start_matches('\u{feff}').trim().is_empty() => {
            json5::parse(t).map_err(|e| format!("the current file no longer parses ({e})"))?
        }
        _ => Value::Object(Default::default()),
    };
    let new = json5::parse(after).map_err(|e| format!("the new contents would not parse ({e})"))?;
    for p in changes(&old, &new) {
        if !owns(owned, &p, our_ref) && !also.iter().any(|a| p.starts_with(a)) {
            return Err(format!(
                "the new contents would change `{}`, which gaterouter-setup does not own",
                pointer(&p)
            ));
        }
    }
    Ok(())
}

/// The changes the ownership check judges, from json5's differences: down to the leaves, so
/// a member present on one side only is listed with every leaf under it, and an added `auth`
/// object is judged by the paths it brings (`auth/profiles/gaterouter:default/...`), not as
/// one opaque change. Arrays of one length are compared element by element
/// (`agents/list/1/model`: an agent of the older `agents.list` is owned at its `model`
/// only); a longer or shorter array is one change where it sits.
fn changes(old: &Value, new: &Value) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    'next: for d in json5::differences(old, new) {
        let (mut a, mut b) = (Some(old), Some(new));
        let mut at = Vec::with_capacity(d.path.len());
        for step in &d.path {
            if let (Some(Value::Array(x)), Some(Value::Array(y))) = (a, b)
                && x.len() != y.len()
            {
                if out.last() != Some(&at) {
                    out.push(at);
                }
                continue 'next;
            }
            (a, b) = (child(a, step), child(b, step));
            at.push(step.segment());
        }
        let in_array = d.path.iter().any(|s| matches!(s, json5::Step::Index(_)));
        match (d.old, d.new) {
            (Some(v), None) | (None, Some(v)) => leaves(v, &mut at, &mut out, in_array),
            _ => out.push(at),
        }
    }
    out
}

fn child<'v>(v: Option<&'v Value>, step: &json5::Step) -> Option<&'v Value> {
    match (v?, step) {
        (Value::Object(m), json5::Step::Key(k)) => m.get_js(k),
        (Value::Array(e), json5::Step::Index(i)) => e.get(*i),
        _ => None,
    }
}

/// The paths a skip-mode reading keeps: each owned pattern up to its first `*`, and `also`.
fn kept<'a>(owned: &[Pattern], also: &'a [Vec<String>]) -> Vec<Vec<&'a str>> {
    owned
        .iter()
        .map(|p| p.iter().copied().take_while(|s| *s != "*").collect())
        .chain(also.iter().map(|a| a.iter().map(String::as_str).collect()))
        .collect()
}

/// The postcondition: every intent holds in `root` (a reading of `text`), or the first that
/// does not is named where it differs, with what is there and what was planned.
fn holds(root: &Node, text: &str, intents: &[Intent]) -> std::result::Result<(), String> {
    for i in intents {
        let held = value_at(root, text, &i.path);
        let planned = i.value.as_ref().map(from_serde);
        if held == planned {
            continue;
        }
        let mut at = i.path.clone();
        let (h, p) = first_difference(held.as_ref(), planned.as_ref(), &mut at);
        return Err(format!(
            "the new contents would hold {} at `{}`, planned {}",
            shown(h, &at),
            pointer(&at),
            shown(p, &at)
        ));
    }
    Ok(())
}

/// The value json5 reads at `path` in `root`; a part the skip mode did not build is read
/// from its own text.
fn value_at(root: &Node, text: &str, path: &[String]) -> Option<Value> {
    let mut n = root;
    for (i, seg) in path.iter().enumerate() {
        n = match &n.kind {
            Kind::Object(m) => member(m, &JsString::from(seg.as_str()))?,
            Kind::Array(e) => &e.get(seg.parse::<usize>().ok()?)?.value,
            Kind::Skipped => {
                let v = json5::parse(&text[n.span.clone()]).ok()?;
                return v.pointer(&pointer(&path[i..])).cloned();
            }
            Kind::Scalar(_) => return None,
        };
    }
    whole(n).or_else(|| json5::parse(&text[n.span.clone()]).ok())
}

/// Where two values first differ, below `at` (which it extends): the two parts there.
fn first_difference<'a>(
    a: Option<&'a Value>,
    b: Option<&'a Value>,
    at: &mut Vec<String>,
) -> (Option<&'a Value>, Option<&'a Value>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys = x.iter_js().into_iter().chain(y.iter_js()).map(|(k, _)| k);
            for k in keys {
                let (v, w) = (x.get_js(k), y.get_js(k));
                if v != w {
                    at.push(k.to_lossy());
                    return first_difference(v, w, at);
                }
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            if let Some(i) = (0..x.len()).find(|&i| x[i] != y[i]) {
                at.push(i.to_string());
                return first_difference(Some(&x[i]), Some(&y[i]), at);
            }
        }
        _ => {}
    }
    (a, b)
}

/// A value as an error names it; a key is never shown.
fn shown(v: Option<&Value>, at: &[String]) -> String {
    match v {
        None => "nothing".into(),
        Some(Value::String(_)) if at.last().is_some_and(|k| k == "apiKey") => {
            "a string (not shown)".into()
        }
        Some(v) => v.describe(),
    }
}

/// A planned value as json5 would read it back.
fn from_serde(v: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        J::String(s) => Value::String(s.as_str().into()),
        J::Array(a) => Value::Array(a.iter().map(from_serde).collect()),
        J::Object(m) => {
            let mut o = Object::new();
            for (k, v) in m {
                o.insert(k.as_str().into(), from_serde(v));
            }
            Value::Object(o)
        }
    }
}

/// The common case, without building the whole of either side: both texts read in the
/// skip mode, keeping only the objects on the way to the owned paths (`keep`; `new` is
/// `after` read so); a value off those paths must be the same bytes on both sides (the
/// same bytes read as the same value). `true` when every change is owned; `false` when
/// that is not shown this way (a parse error, a skipped value written differently, a change
/// we do not own), and the full reading decides and names the path.
fn quick_check(
    before: &str,
    after: &str,
    new: &Document,
    keep: &[&[&str]],
    owned: &[Pattern],
    also: &[Vec<String>],
    our_ref: &dyn Fn(&str) -> bool,
) -> bool {
    let Ok(old) = Document::parse(before, Some(keep)) else {
        return false;
    };
    let sides = Sides { before, after };
    let mut changed = Vec::new();
    sides.diff(&old.root, &new.root, &mut Vec::new(), &mut changed, false)
        && changed
            .iter()
            .all(|p| owns(owned, p, our_ref) || also.iter().any(|a| p.starts_with(a)))
}

/// The two texts [`quick_check`] compares, for the bytes of skipped values.
struct Sides<'a> {
    before: &'a str,
    after: &'a str,
}

impl Sides<'_> {
    /// [`changes`] over the two skip-mode trees; `false` when it cannot tell (a skipped value
    /// that differs, or is present on one side only).
    fn diff(
        &self,
        a: &Node,
        b: &Node,
        at: &mut Vec<String>,
        out: &mut Vec<Vec<String>>,
        in_array: bool,
    ) -> bool {
        match (&a.kind, &b.kind) {
            (Kind::Object(x), Kind::Object(y)) => {
                let (x, y) = (read_members(x), read_members(y));
                let in_y: HashMap<_, _> = y.iter().copied().collect();
                let in_x: HashSet<_> = x.iter().map(|(k, _)| *k).collect();
                for &(k, v) in &x {
                    at.push(k.to_lossy());
                    let ok = match in_y.get(k) {
                        Some(w) => self.diff(v, w, at, out, in_array),
                        None => whole(v).is_some_and(|v| {
                            leaves(&v, at, out, in_array);
                            true
                        }),
                    };
                    at.pop();
                    if !ok {
                        return false;
                    }
                }
                for &(k, w) in &y {
                    if !in_x.contains(k) {
                        at.push(k.to_lossy());
                        let Some(w) = whole(w) else { return false };
                        leaves(&w, at, out, in_array);
                        at.pop();
                    }
                }
                true
            }
            (Kind::Array(x), Kind::Array(y)) if x.len() == y.len() => {
                for (i, (v, w)) in x.iter().zip(y).enumerate() {
                    at.push(i.to_string());
                    let ok = self.diff(&v.value, &w.value, at, out, true);
                    at.pop();
                    if !ok {
                        return false;
                    }
                }
                true
            }
            (Kind::Skipped, Kind::Skipped) => {
                self.before[a.span.clone()] == self.after[b.span.clone()]
            }
            (Kind::Skipped, _) | (_, Kind::Skipped) => false,
            // `to_value` leaves skipped parts out, so a value that is not whole on both
            // sides (an array on a kept path, say) cannot be compared here.
            _ => match (whole(a), whole(b)) {
                (Some(x), Some(y)) => {
                    if x != y {
                        out.push(at.clone());
                    }
                    true
                }
                _ => false,
            },
        }
    }
}

/// The value of `n` when nothing in it was skipped.
fn whole(n: &Node) -> Option<Value> {
    fn built(n: &Node) -> bool {
        match &n.kind {
            Kind::Skipped => false,
            Kind::Scalar(_) => true,
            Kind::Array(e) | Kind::Object(e) => e.iter().all(|e| built(&e.value)),
        }
    }
    built(n).then(|| n.to_value()).flatten()
}

/// The members json5 keeps: for each key, its last value (in the order of those last
/// occurrences), found in one pass: comparing two large objects is not quadratic.
fn read_members(m: &[Entry]) -> Vec<(&JsString, &Node)> {
    let mut kept = Vec::with_capacity(m.len());
    let mut seen = HashSet::with_capacity(m.len());
    for e in m.iter().rev() {
        if let Some((k, _)) = &e.key
            && seen.insert(k)
        {
            kept.push((k, &e.value));
        }
    }
    kept.into_iter().rev().collect()
}

/// The value json5 keeps for `key`.
fn member<'a>(m: &'a [Entry], key: &JsString) -> Option<&'a Node> {
    m.iter()
        .rev()
        .find(|e| e.key.as_ref().is_some_and(|(k, _)| k == key))
        .map(|e| &e.value)
}

/// An empty object brought or taken away holds no setting (setup creates the containers on
/// the way to its paths, uninstall may leave them empty), so it is no leaf; but not below an
/// array's element, where no path of ours creates one and an agent's `{}` block may mean
/// something to OpenClaw.
fn leaves(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>, in_array: bool) {
    match v {
        Value::Object(m) if !(in_array && m.is_empty()) => {
            for (k, w) in m.iter_js() {
                at.push(k.to_lossy());
                leaves(w, at, out, in_array);
                at.pop();
            }
        }
        _ => out.push(at.clone()),
    }
}

/// Whether the change at `p` is ours: at or under an owned pattern.
fn owns(owned: &[Pattern], p: &[String], our_ref: &dyn Fn(&str) -> bool) -> bool {
    owned.iter().any(|pat| {
        let n = pat.len().min(p.len());
        let prefix_matches = pat[..n]
            .iter()
            .zip(&p[..n])
            .all(|(s, seg)| *s == "*" || s == seg);
        if !prefix_matches {
            return false;
        }
        // The allowlist map: only entries for refs setup manages.
        if pat.len() == 4 && pat[..3] == ["agents", "defaults", "models"] && p.len() >= 4 {
            return our_ref(&p[3]);
        }
        p.len() >= pat.len()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG_OWNED: &[Pattern] = crate::plan::FileKind::Config.spec().owned;

    fn ours(r: &str) -> bool {
        r.starts_with("gaterouter/")
    }

    fn gate(before: &str, after: &str) -> Result<()> {
        check(
            Path::new("openclaw.json"),
            Some(before),
            after,
            &[],
            CONFIG_OWNED,
            &ours,
        )
    }

    #[test]
    fn our_paths_may_change_and_appear() {
        gate("{}", "{auth: {profiles: {'gaterouter:default': {provider: 'gaterouter'}}}, models: {providers: {gaterouter: {baseUrl: 'x'}}}}").unwrap();
        gate(
            "{agents: {defaults: {model: 'a/b', models: {'a/b': {}}}}}",
            "{agents: {defaults: {model: {primary: 'gaterouter/auto'}, models: {'a/b': {}, 'gaterouter/auto': {}}}}}",
        )
        .unwrap();
    }

    #[test]
    fn anything_else_is_refused_with_its_pointer() {
        let e = gate("{channels: {a: 1}}", "{channels: {a: 2}}").unwrap_err();
        assert!(e.to_string().contains("`/channels/a`"), "{e}");
        let e = gate("{}", "{injected: true}").unwrap_err();
        assert!(e.to_string().contains("`/injected`"), "{e}");
        // Another model's allowlist entry is not ours.
        let e = gate(
            "{agents: {defaults: {models: {'a/b': {alias: 'x'}}}}}",
            "{agents: {defaults: {models: {'a/b': {alias: 'y'}}}}}",
        )
        .unwrap_err();
        assert!(e.to_string().contains("a~1b"), "{e}");
        // A file that would no longer parse.
        let e = gate("{}", "{a: ").unwrap_err();
        assert!(e.to_string().contains("would not parse"), "{e}");
    }

    /// OpenClaw's older agent list is an array: an agent's `model` is ours, its other
    /// members and the list's length are not. Both readings agree on it.
    #[test]
    fn an_agent_of_the_older_agent_list_is_owned_at_its_model_only() {
        let list = |second: &str| format!("{{agents: {{list: [{{id: 'main'}}, {second}]}}}}");
        let before = list("{id: 't', model: 'a/b'}");
        let after = list("{id: 't', model: {primary: 'gaterouter/auto', fallbacks: ['a/b']}}");
        gate(&before, &after).unwrap();
        let changed = changes(
            &json5::parse(&before).unwrap(),
            &json5::parse(&after).unwrap(),
        );
        assert_eq!(changed, [["agents", "list", "1", "model"]]);
        let e = gate(&before, &list("{id: 'u', model: 'a/b'}")).unwrap_err();
        assert!(e.to_string().contains("`/agents/list/1/id`"), "{e}");
        let e = gate(&before, "{agents: {list: [{id: 'main'}]}}").unwrap_err();
        assert!(e.to_string().contains("`/agents/list`"), "{e}");
        // An empty block brought to or taken from an agent is a change there too.
        let e = gate(&before, &list("{id: 't', model: 'a/b', tools: {}}")).unwrap_err();
        assert!(e.to_string().contains("`/agents/list/1/tools`"), "{e}");
        let e = gate(&list("{id: 't', tools: {}}"), &list("{id: 't'}")).unwrap_err();
        assert!(e.to_string().contains("`/agents/list/1/tools`"), "{e}");
        // Reordered agents are other agents at each index, so not ours either.
        let e = gate(
            &before,
            "{agents: {list: [{id: 't', model: 'a/b'}, {id: 'main'}]}}",
        )
        .unwrap_err();
        assert!(e.to_string().contains("`/agents/list/0/id`"), "{e}");
    }

    #[test]
    fn the_quick_check_agrees_and_leaves_refusals_to_the_full_reading() {
        let q = |b: &str, a: &str| {
            let keep = kept(CONFIG_OWNED, &[]);
            let keep: Vec<&[&str]> = keep.iter().map(Vec::as_slice).collect();
            Document::parse(a, Some(&keep))
                .is_ok_and(|new| quick_check(b, a, &new, &keep, CONFIG_OWNED, &[], &ours))
        };
        let big = "{channels: {a: [1, 2, {b: 'c'}]}, // note\n models: {providers: {x: {y: 1}}}}";
        assert!(q(big, &big.replace("x: {", "gaterouter: {z: 2}, x: {")));
        // The same value written otherwise, off our paths: not shown this way.
        assert!(!q(big, &big.replace("[1, 2", "[1,2")));
        assert!(!q(big, &big.replace("y: 1", "y: 2")));
        assert!(!q("{a: 1}", "{a: 1, b: 2}"));
        // A repeated key is read as json5 reads it: the last one holds.
        assert!(q(
            "{auth: {profiles: {a: 1, a: 2}}}",
            "{auth: {profiles: {a: 2}}}"
        ));
        assert!(!q(
            "{auth: {profiles: {a: 2, a: 1}}}",
            "{auth: {profiles: {a: 2}}}"
        ));
        assert!(!q("{a: 1}", "{a: "));
        // A new object on the way to our paths brings what is off them too.
        assert!(!q(
            "{}",
            "{auth: {x: 1, profiles: {'gaterouter:default': {}}}}"
        ));
        assert!(q(
            "{agents: {defaults: {models: {'a/b': {}}}}}",
            "{agents: {defaults: {models: {'a/b': {}, 'gaterouter/auto': {}}}}}"
        ));
        // Where a kept path meets an array or a scalar, what lies below is not read whole:
        // a change there must go to the full reading (which refuses it), never pass.
        for (before, after) in [
            ("{auth: [1, {a: 2}]}", "{auth: [1, {a: 3}]}"),
            (
                "{auth: [{profiles: {x: 1}}]}",
                "{auth: [{profiles: {x: 2}}]}",
            ),
            ("{models: [{providers: 1}]}", "{models: {providers: 1}}"),
            (
                "{auth: {profiles: [{a: 1}]}}",
                "{auth: {profiles: [{a: 2}]}}",
            ),
        ] {
            assert!(!q(before, after), "{before} -> {after}");
            assert!(
                check_with(
                    Path::new("c"),
                    Some(before),
                    after,
                    &[],
                    CONFIG_OWNED,
                    &[],
                    &ours
                )
                .is_err(),
                "{before} -> {after}"
            );
        }
    }

    fn held_to(before: &str, after: &str, intents: &[Intent]) -> Result<()> {
        check(
            Path::new("openclaw.json"),
            Some(before),
            after,
            intents,
            CONFIG_OWNED,
            &ours,
        )
    }

    #[test]
    fn a_wrong_value_under_an_owned_path_is_caught_by_the_postcondition() {
        let before = "{agents: {defaults: {model: 'a/b'}}}";
        // A splice that lands another value than the planned one, under a path we own.
        let after = "{agents: {defaults: {model: {primary: 'gaterouter/wrong'}}}}";
        let planned = [Intent::set(
            &["agents", "defaults", "model"],
            serde_json::json!({"primary": "gaterouter/auto"}),
        )];
        // The ownership half alone lets it through.
        held_to(before, after, &[]).unwrap();
        let e = held_to(before, after, &planned).unwrap_err().to_string();
        assert!(
            e.contains(
                "would hold the string \"gaterouter/wrong\" at `/agents/defaults/model/primary`, planned the string \"gaterouter/auto\""
            ),
            "{e}"
        );
        held_to(
            before,
            "{agents: {defaults: {model: {primary: \"gaterouter/auto\"}}}}",
            &planned,
        )
        .unwrap();
    }

    #[test]
    fn an_intent_for_a_missing_path_or_one_left_behind_is_caught() {
        let profile = ["auth", "profiles", "gaterouter:default"];
        let set = [Intent::set(
            &profile,
            serde_json::json!({"provider": "gaterouter"}),
        )];
        let e = held_to("{}", "{auth: {profiles: {}}}", &set)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("would hold nothing at `/auth/profiles/gaterouter:default`, planned an object with 1 key(s)"),
            "{e}"
        );
        let gone = [Intent::absent(&profile)];
        let with = "{auth: {profiles: {'gaterouter:default': {provider: 'gaterouter'}}}}";
        let e = held_to(with, with, &gone).unwrap_err().to_string();
        assert!(
            e.contains(
                "an object with 1 key(s) at `/auth/profiles/gaterouter:default`, planned nothing"
            ),
            "{e}"
        );
        // Absent with all its containers is absent too.
        held_to(with, "{}", &gone).unwrap();
        // Numbers compare as json5 reads them; a key that differs is never shown.
        let key = ["models", "providers", "gaterouter", "apiKey"];
        let after = "{models: {providers: {gaterouter: {n: 1e3, apiKey: 'sk-secret'}}}}";
        let n = Intent::set(
            &key[..3],
            serde_json::json!({"n": 1000, "apiKey": {"source": "env"}}),
        );
        let e = held_to("{}", after, &[n]).unwrap_err().to_string();
        assert!(
            e.contains("a string (not shown) at `/models/providers/gaterouter/apiKey`"),
            "{e}"
        );
        assert!(!e.contains("sk-secret"), "{e}");
        // An agent of `agents.list` is found by its index.
        let list = "{agents: {list: [{id: 'a', model: 'gaterouter/auto'}]}}";
        let model = |v: &str| [Intent::set(&["agents", "list", "0", "model"], v.into())];
        held_to(list, list, &model("gaterouter/auto")).unwrap();
        let e = held_to(list, list, &model("x/y")).unwrap_err().to_string();
        assert!(e.contains("at `/agents/list/0/model`"), "{e}");
        // A path off those the skip mode builds is read from its own text.
        let off = |v| [Intent::set(&["channels", "a"], v)];
        let text = "{channels: {a: [1, {b: 2}]}}";
        held_to(text, text, &off(serde_json::json!([1, 2]))).unwrap_err();
        held_to(text, text, &off(serde_json::json!([1, {"b": 2}]))).unwrap();
    }

    /// Every fixture's config and models.json, planned (and the plan undone): the gate takes
    /// each planner's own intents, and refuses each of them once it is made wrong.
    #[test]
    fn every_planned_fixture_holds_its_intents_and_none_can_be_wrong_unseen() {
        use crate::plan::{models_json, openclaw_json};
        let s = crate::gaterouter::templates::Settings::builtin().unwrap();
        let refs = s.refs();
        let ours =
            |r: &str| crate::gaterouter::templates::is_our_ref(r) || refs.iter().any(|x| x == r);
        let roots = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/roots");
        let mut texts = Vec::new();
        for case in std::fs::read_dir(&roots).unwrap() {
            let dir = case.unwrap().path();
            for side in ["input", "expected"] {
                for f in ["openclaw.json", "agents/main/agent/models.json"] {
                    if let Ok(t) = std::fs::read_to_string(dir.join(side).join(f)) {
                        texts.push((f.ends_with("models.json"), t));
                    }
                }
            }
        }
        let mut checked = 0;
        for (models, before) in &texts {
            let p = Path::new("f");
            let (kind, edits) = if *models {
                let Ok(e) = models_json::plan_for(p, Some(before.as_str()), &s, None) else {
                    continue;
                };
                let undo = models_json::unplan(p, Some(&e.text)).unwrap();
                (
                    crate::plan::FileKind::Models,
                    vec![(before.clone(), e.clone()), (e.text, undo)],
                )
            } else {
                let Ok((e, r)) = openclaw_json::plan_recording(
                    p,
                    Some(before.as_str()),
                    &s,
                    crate::openclaw::credentials::Outside::none(),
                ) else {
                    continue;
                };
                let undo =
                    openclaw_json::unplan(p, Some(&e.text), r.previous_model.as_ref(), &r.added)
                        .unwrap();
                (
                    crate::plan::FileKind::Config,
                    vec![(before.clone(), e.clone()), (e.text, undo)],
                )
            };
            let owned = kind.spec().owned;
            for (from, edit) in edits {
                let gate =
                    |intents: &[Intent]| check(p, Some(&from), &edit.text, intents, owned, &ours);
                gate(&edit.intents).unwrap_or_else(|e| panic!("{e}\n{from}\n->\n{}", edit.text));
                for i in 0..edit.intents.len() {
                    let mut wrong = edit.intents.clone();
                    wrong[i].value = match &wrong[i].value {
                        Some(serde_json::Value::String(_)) => Some(serde_json::json!(["x"])),
                        _ => Some(serde_json::json!("x")),
                    };
                    let e = gate(&wrong).unwrap_err().to_string();
                    assert!(e.contains(&format!("`{}`", pointer(&wrong[i].path))), "{e}");
                }
                checked += 1;
            }
        }
        assert!(checked >= 40, "{checked}");
    }

    /// The gate's own recursive walk, as it was before it read json5's differences: the
    /// reference [`changes`] is held to.
    fn reference(
        a: &Value,
        b: &Value,
        at: &mut Vec<String>,
        out: &mut Vec<Vec<String>>,
        in_array: bool,
    ) {
        match (a, b) {
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (v, w)) in x.iter().zip(y).enumerate() {
                    at.push(i.to_string());
                    reference(v, w, at, out, true);
                    at.pop();
                }
            }
            (Value::Object(x), Value::Object(y)) => {
                for (k, v) in x.iter_js() {
                    at.push(k.to_lossy());
                    match y.get_js(k) {
                        Some(w) => reference(v, w, at, out, in_array),
                        None => leaves(v, at, out, in_array),
                    }
                    at.pop();
                }
                for (k, w) in y.iter_js() {
                    if x.get_js(k).is_none() {
                        at.push(k.to_lossy());
                        leaves(w, at, out, in_array);
                        at.pop();
                    }
                }
            }
            _ if a == b => {}
            _ => out.push(at.clone()),
        }
    }

    fn arb_json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::Value as J;
        let leaf = prop_oneof![
            Just(J::Null),
            any::<bool>().prop_map(J::Bool),
            (0..3u8).prop_map(J::from),
            "[ab]{0,1}".prop_map(J::String),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
                proptest::collection::vec(("[abc0]", inner), 0..4)
                    .prop_map(|m| J::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Whatever two documents are, the changes judged are those of the gate's old walk,
        /// in the same order: reading json5's differences changed no verdict and no message.
        #[test]
        fn changes_are_the_old_walks(a in arb_json(), b in arb_json()) {
            let (a, b) = (from_serde(&a), from_serde(&b));
            let mut expected = Vec::new();
            reference(&a, &b, &mut Vec::new(), &mut expected, false);
            expected.dedup();
            let mut got = changes(&a, &b);
            got.dedup();
            proptest::prop_assert_eq!(got, expected);
        }
    }
}
