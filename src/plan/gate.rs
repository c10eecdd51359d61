//! The last gate before anything is written: every new JSON file is parsed back, and the
//! difference between what it held and what it will hold must lie entirely inside the paths
//! gaterouter-setup owns. Whatever went wrong upstream (a forged placeholder, a reader that
//! disagreed with OpenClaw's, a bug in an edit), a file whose other settings would change is
//! refused here, as a bug, with nothing written.

use std::path::Path;

use crate::error::{Error, Result};
use crate::format::json5::{self, Entry, JsString, Kind, Node, Value};
use crate::openclaw::files::{Pattern, pointer};

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
    if let Some(before) = before
        && quick_check(before, after, owned, also, our_ref)
    {
        return Ok(());
    }
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

/// The common case, without building the whole of either side: both texts read in the
/// skip mode, keeping only the objects on the way to the owned paths; a value off those
/// paths must be the same bytes on both sides (the same bytes read as the same value).
/// `true` when every change is owned; `false` when that is not shown this way (a parse
/// error, a skipped value written differently, a change we do not own), and the full
/// reading above decides and names the path.
fn quick_check(
    before: &str,
    after: &str,
    owned: &[Pattern],
    also: &[Vec<String>],
    our_ref: &dyn Fn(&str) -> bool,
) -> bool {
    let keep: Vec<Vec<&str>> = owned
        .iter()
        .map(|p| p.iter().copied().take_while(|s| *s != "*").collect())
        .chain(also.iter().map(|a| a.iter().map(String::as_str).collect()))
        .collect();
    let keep: Vec<&[&str]> = keep.iter().map(Vec::as_slice).collect();
    let (Ok(old), Ok(new)) = (
        json5::Document::parse(before, Some(&keep)),
        json5::Document::parse(after, Some(&keep)),
    ) else {
        return false;
    };
    let sides = Sides { before, after };
    let mut changed = Vec::new();
    sides.diff(&old.root, &new.root, &mut Vec::new(), &mut changed)
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
    /// [`diff`] over the two skip-mode trees; `false` when it cannot tell (a skipped value
    /// that differs, or is present on one side only).
    fn diff(&self, a: &Node, b: &Node, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) -> bool {
        match (&a.kind, &b.kind) {
            (Kind::Object(x), Kind::Object(y)) => {
                for (k, v) in read_members(x) {
                    at.push(k.to_lossy());
                    let ok = match member(y, k) {
                        Some(w) => self.diff(v, w, at, out),
                        None => whole(v).is_some_and(|v| {
                            leaves(&v, at, out);
                            true
                        }),
                    };
                    at.pop();
                    if !ok {
                        return false;
                    }
                }
                for (k, w) in read_members(y) {
                    if member(x, k).is_none() {
                        at.push(k.to_lossy());
                        let Some(w) = whole(w) else { return false };
                        leaves(&w, at, out);
                        at.pop();
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

/// The members json5 keeps: for each key, its last value.
fn read_members(m: &[Entry]) -> impl Iterator<Item = (&JsString, &Node)> {
    m.iter().enumerate().filter_map(|(i, e)| {
        let (k, _) = e.key.as_ref()?;
        let later = m[i + 1..]
            .iter()
            .any(|f| f.key.as_ref().is_some_and(|(l, _)| l == k));
        (!later).then_some((k, &e.value))
    })
}

/// The value json5 keeps for `key`.
fn member<'a>(m: &'a [Entry], key: &JsString) -> Option<&'a Node> {
    m.iter()
        .rev()
        .find(|e| e.key.as_ref().is_some_and(|(k, _)| k == key))
        .map(|e| &e.value)
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

    #[test]
    fn the_quick_check_agrees_and_leaves_refusals_to_the_full_reading() {
        let q = |b: &str, a: &str| quick_check(b, a, CONFIG_OWNED, &[], &ours);
        let big = "{channels: {a: [1, 2, {b: 'c'}]}, // note\n models: {providers: {x: {y: 1}}}}";
        assert!(q(big, &big.replace("x: {", "gaterouter: {z: 2}, x: {")));
        // The same value written otherwise, off our paths: not shown this way.
        assert!(!q(big, &big.replace("[1, 2", "[1,2")));
        assert!(!q(big, &big.replace("y: 1", "y: 2")));
        assert!(!q("{a: 1}", "{a: 1, b: 2}"));
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
                    CONFIG_OWNED,
                    &[],
                    &ours
                )
                .is_err(),
                "{before} -> {after}"
            );
        }
    }
}
