//! The last gate before anything is written: every new JSON file is parsed back, and the
//! difference between what it held and what it will hold must lie entirely inside the paths
//! gaterouter-setup owns. Whatever went wrong upstream (a forged placeholder, a reader that
//! disagreed with OpenClaw's, a bug in an edit), a file whose other settings would change is
//! refused here, as a bug, with nothing written.

use std::path::Path;

use crate::error::{Error, Result};
use crate::format::json5::{self, Value};
use crate::gaterouter::templates::{PROFILE_ID, PROVIDER_ID};

/// A JSON pointer pattern: literal segments, `*` for any one segment.
type Pattern = &'static [&'static str];

/// What setup, uninstall and migration may change in openclaw.json.
pub const CONFIG_OWNED: &[Pattern] = &[
    &["agents", "defaults", "model"],
    // Our refs in the allowlist map, and the allowlist policy.
    &["agents", "defaults", "models", "*"],
    &["agents", "defaults", "modelPolicy", "allow"],
    // Agents with a model of their own, moved to GateRouter on request.
    &["agents", "list", "*", "model"],
    &["agents", "entries", "*", "model"],
    &["auth", "profiles", PROFILE_ID],
    &["models", "providers", PROVIDER_ID],
];

/// What setup may change in a models.json.
pub const MODELS_OWNED: &[Pattern] = &[&["providers", PROVIDER_ID]];

/// Checks `after` against `before` (both the full text of one file): `after` must parse, and
/// every changed value must be under one of `owned`. `allowlist_keys` limits the `*` of the
/// allowlist map to the refs setup manages (another model's entry is not ours to touch).
pub fn check(
    path: &Path,
    before: Option<&str>,
    after: &str,
    owned: &[Pattern],
    our_ref: &dyn Fn(&str) -> bool,
) -> Result<()> {
    check_with(path, before, after, owned, &[], our_ref)
}

/// [`check`], with `also`: paths this one plan owns besides the patterns (a migration's, see
/// `migrate`), each with everything under it.
pub fn check_with(
    path: &Path,
    before: Option<&str>,
    after: &str,
    owned: &[Pattern],
    also: &[Vec<String>],
    our_ref: &dyn Fn(&str) -> bool,
) -> Result<()> {
    let bug = |what: String| Error::Internal {
        path: path.to_path_buf(),
        what,
    };
    let old = match before {
        Some(t) if !t.trim_start_matches('\u{feff}').trim().is_empty() => {
            read(t).map_err(|e| bug(format!("the current file no longer parses ({e})")))?
        }
        _ => Value::Object(Default::default()),
    };
    let new = read(after).map_err(|e| bug(format!("the new contents would not parse ({e})")))?;
    let mut changed = Vec::new();
    diff(&old, &new, &mut Vec::new(), &mut changed);
    for p in changed {
        if !owns(owned, &p, our_ref) && !also.iter().any(|a| p.starts_with(a)) {
            return Err(bug(format!(
                "the new contents would change `{}`, which gaterouter-setup does not own",
                pointer(&p)
            )));
        }
    }
    Ok(())
}

/// Reads a JSON5 document exactly as OpenClaw does (its `json5` library, see `json5`).
fn read(text: &str) -> std::result::Result<Value, String> {
    json5::parse(text).map_err(|e| e.to_string())
}

/// Every place where `a` and `b` differ, down to the leaves: a member present on one side
/// only is listed with every leaf under it, so an added `auth` object is judged by the paths
/// it brings (`auth/profiles/gaterouter:default/...`), not as one opaque change.
fn diff(a: &Value, b: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x.iter_js() {
                at.push(k.to_lossy());
                match y.get_js(k) {
                    Some(w) => diff(v, w, at, out),
                    None => leaves(v, at, out),
                }
                at.pop();
            }
            for (k, w) in y.iter_js() {
                if x.get_js(k).is_none() {
                    at.push(k.to_lossy());
                    leaves(w, at, out);
                    at.pop();
                }
            }
        }
        _ if a == b => {}
        _ => out.push(at.clone()),
    }
}

/// An empty object brought or taken away holds no setting (setup creates the containers on
/// the way to its paths, uninstall may leave them empty), so it is no leaf.
fn leaves(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) => {
            for (k, w) in m.iter_js() {
                at.push(k.to_lossy());
                leaves(w, at, out);
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

/// RFC 6901: `~` as `~0`, `/` as `~1`.
pub fn pointer(p: &[String]) -> String {
    p.iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(r: &str) -> bool {
        r.starts_with("gaterouter/")
    }

    fn gate(before: &str, after: &str) -> Result<()> {
        check(
            Path::new("openclaw.json"),
            Some(before),
            after,
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
}
