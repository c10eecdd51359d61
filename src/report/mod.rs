//! The review stage's words: the summary shown before the diff, and one root's JSON report
//! value (the `--json` schema, docs/json-report.md). Built here, printed by the CLI through
//! its output sink, which redacts every known secret on the way out.

pub mod diff;

use std::path::Path;

use serde::Serialize;

use crate::txn::apply::Applied;
use crate::txn::backup::RunKind;

use crate::error::Error;
use crate::gaterouter::probe::ProbeOutcome;
use crate::gaterouter::templates::{PROFILE_ID, PROVIDER_ID};
use crate::openclaw::files::{Syntax, pointer};
use crate::plan::{FileChange, FileKind, Plan};
use crate::redact::text::one_line;

/// Bumped when a field changes meaning or disappears; new fields do not bump it.
pub const REPORT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Apply,
    DryRun,
    Check,
}

#[derive(Serialize)]
struct FileReport {
    path: String,
    kind: FileKind,
    action: &'static str,
    changed: bool,
    mode_before: Option<String>,
    mode_after: String,
    symlink: bool,
    diff: Option<String>,
    /// The whole file before and after, redacted like `diff`; `null` when the file is
    /// unchanged or does not exist on that side. For tools that render their own diff.
    before: Option<String>,
    after: Option<String>,
}

#[derive(Serialize)]
struct ErrorReport {
    message: String,
    path: Option<String>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    tool_version: &'static str,
    mode: Mode,
    status: &'static str,
    root: Option<String>,
    changed: bool,
    applied: bool,
    exit_code: i32,
    probe: Option<&'a ProbeOutcome>,
    files: Vec<FileReport>,
    backup: Option<String>,
    warnings: Vec<String>,
    error: Option<ErrorReport>,
    /// The account a run as root switched to (the root's owner), `null` when it did not.
    run_as: Option<&'static crate::sys::privilege::RunAs>,
}

/// Everything one run has to say.
pub struct Outcome<'a> {
    pub mode: Mode,
    pub root: Option<&'a Path>,
    pub probe: Option<&'a ProbeOutcome>,
    pub plan: Option<&'a Plan>,
    pub applied: Option<&'a Applied>,
    pub error: Option<&'a Error>,
    pub warnings: &'a [String],
    pub exit_code: i32,
    /// What the run does (`setup`, `rollback`, `uninstall`): an empty plan says a different
    /// thing for each.
    pub kind: RunKind,
}

fn action(f: &FileChange) -> &'static str {
    if !f.changed() {
        "unchanged"
    } else if f.is_new() {
        "create"
    } else if f.is_removal() {
        "delete"
    } else if f.content_changed() {
        "modify"
    } else {
        "chmod"
    }
}

fn status(o: &Outcome) -> &'static str {
    match (o.error, o.plan, o.applied) {
        (Some(_), _, _) => "error",
        (None, _, Some(a)) if !a.written.is_empty() => "applied",
        (None, Some(p), _) if p.is_empty() => nothing_to_do(o.kind),
        (None, Some(_), _) => "pending",
        (None, None, _) => "error",
    }
}

/// The status of a run that has nothing to do: setup finds the root configured, uninstall
/// finds nothing of GateRouter's (it was never set up, or already removed), rollback finds
/// the files as the backup holds them.
pub fn nothing_to_do(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Uninstall => "not-configured",
        RunKind::Rollback => "already-restored",
        RunKind::Setup => "already-configured",
    }
}

/// The report of one run (or of one root, for the many-roots document) as a value, built
/// from the typed outcome. The files' contents are masked here where it takes knowing the
/// format (a secret-named field in a JSON file, the key in `.env`); every secret the run
/// knows is masked in every string by the output sink's redactor, which everything printed
/// passes through: redaction by value happens in that one place.
pub fn value(o: &Outcome) -> serde_json::Value {
    let file = |f: &FileChange| {
        let whole = |b: &Option<Vec<u8>>| {
            let b = b.as_deref().filter(|_| f.changed());
            b.map(|b| diff::redacted_text(f.kind, b))
        };
        FileReport {
            path: f.rel.clone(),
            kind: f.kind,
            action: action(f),
            changed: f.changed(),
            mode_before: f.mode_before.map(|m| format!("{m:04o}")),
            mode_after: format!("{:04o}", f.mode_after),
            symlink: f.symlink,
            diff: f.changed().then(|| diff::render(f, false)),
            before: whole(&f.before),
            after: whole(&f.after),
        }
    };
    let files = o
        .plan
        .map_or_else(Vec::new, |p| p.files.iter().map(file).collect());
    let mut warnings: Vec<String> = o.warnings.to_vec();
    warnings.extend(o.plan.iter().flat_map(|p| p.warnings.iter().cloned()));
    let report = JsonReport {
        version: REPORT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION"),
        mode: o.mode,
        status: status(o),
        root: o.root.map(|r| r.display().to_string()),
        changed: o.plan.is_some_and(|p| !p.is_empty()),
        applied: o.applied.is_some_and(|a| !a.written.is_empty()),
        exit_code: o.exit_code,
        probe: o.probe,
        files,
        backup: o
            .applied
            .and_then(|a| a.backup.as_ref())
            .map(|b| b.display().to_string()),
        warnings,
        error: o.error.map(|e| ErrorReport {
            message: e.to_string(),
            path: e.path().map(|p| p.display().to_string()),
        }),
        run_as: crate::sys::privilege::current(),
    };
    // Every field is a plain string, number, bool or map: serialising cannot fail.
    serde_json::to_value(&report).unwrap_or_default()
}

/// What changes in a file, in words, derived from the change itself (the parsed documents
/// compared leaf by leaf, the `.env` entries compared by name), so that neither the summary
/// nor the recap ever names a setting that stays as it was. A difference outside the places
/// setup manages (which the gate refuses before writing) is named by its JSON pointer rather
/// than left out.
pub fn changes(f: &FileChange) -> &[String] {
    f.words.get_or_init(|| read_changes(f))
}

fn read_changes(f: &FileChange) -> Vec<String> {
    let mut parts = Vec::new();
    if f.content_changed() && !f.is_removal() {
        let [before, after] =
            [&f.before, &f.after].map(|b| diff::text(b.as_deref().unwrap_or_default()));
        match f.kind.spec().syntax {
            Syntax::Dotenv => env_changes(&before, &after, &mut parts),
            Syntax::Json => json_changes(f.kind, &before, &after, &mut parts),
        }
        if parts.is_empty() {
            // Same settings, other bytes (a line break, a comment, a BOM).
            parts.push("layout only".to_owned());
        }
    }
    if f.mode_changed() && !f.is_new() {
        parts.push(format!(
            "mode {:o} → {:o}",
            f.mode_before.unwrap_or(0),
            f.mode_after
        ));
    }
    parts
}

fn env_changes(before: &str, after: &str, parts: &mut Vec<String>) {
    use crate::format::dotenv::{Entry, parse};
    let (old, new) = (parse(before), parse(after));
    // dotenv keeps the last of repeated names.
    fn get<'e>(v: &'e [Entry], n: &str) -> Option<&'e String> {
        v.iter().rev().find(|e| e.name == n).map(|e| &e.value)
    }
    let mut seen = std::collections::HashSet::new();
    let names = old.iter().chain(&new).map(|e| e.name.as_str());
    for n in names.filter(|n| seen.insert(*n)) {
        let what = if n == crate::gaterouter::key::ENV_VAR {
            "key"
        } else {
            n
        };
        match (get(&old, n), get(&new, n)) {
            (None, Some(_)) => parts.push(format!("+{what}")),
            (Some(_), None) => parts.push(format!("-{what}")),
            (Some(a), Some(b)) if a != b => parts.push(format!("{what} replaced")),
            _ => {}
        }
    }
}

fn json_changes(kind: FileKind, before: &str, after: &str, parts: &mut Vec<String>) {
    use crate::format::json5::{self, Value};
    let parse = |t: &str| {
        if json5::is_blank(t) {
            Some(Value::Object(Default::default()))
        } else {
            json5::parse(t).ok()
        }
    };
    let (Some(old), Some(new)) = (parse(before), parse(after)) else {
        parts.push("contents".to_owned());
        return;
    };
    let provider = kind.spec().provider().map(pointer).unwrap_or_default();
    let mut labels: Vec<String> = Vec::new();
    let mut push = |l: String| {
        if !labels.contains(&l) {
            labels.push(l);
        }
    };
    // Each difference with what each side holds there, so a one-sided container is opened
    // from its value rather than looked up again by pointer.
    let mut work: Vec<(String, Option<&Value>, Option<&Value>)> = json5::differences(&old, &new)
        .iter()
        .rev()
        .map(|d| (d.pointer(), d.old, d.new))
        .collect();
    while let Some((p, a, b)) = work.pop() {
        let found = json_label(kind, &p, &provider, &old, &new);
        if !found.is_empty() {
            found.into_iter().for_each(&mut push);
            continue;
        }
        // A container brought or taken away whole: judged by what it holds.
        match (a, b) {
            (Some(Value::Object(o)), None) | (None, Some(Value::Object(o))) => {
                let taken = a.is_some();
                let children = o.iter_js().into_iter().rev().map(|(k, v)| {
                    let at = format!("{p}{}", json5::pointer(&[k.to_lossy()]));
                    if taken {
                        (at, Some(v), None)
                    } else {
                        (at, None, Some(v))
                    }
                });
                work.extend(children);
            }
            _ => push(if p.is_empty() { "/".to_owned() } else { p }),
        }
    }
    parts.extend(labels);
}

/// The words for a changed JSON pointer under a place setup manages; none for a pointer
/// that only leads there (a container created on the way) or lies elsewhere.
fn json_label(
    kind: FileKind,
    p: &str,
    provider: &str,
    old: &crate::format::json5::Value,
    new: &crate::format::json5::Value,
) -> Vec<String> {
    let under = |prefix: &str| p == prefix || p.starts_with(&format!("{prefix}/"));
    let profile = format!("/auth/profiles/{PROFILE_ID}");
    // A provider that pointed at GateRouter under another id, migrated (see plan::migrate).
    let container = provider.trim_end_matches(PROVIDER_ID);
    if let Some(id) = p.strip_prefix(container).and_then(|r| r.split('/').next())
        && id != PROVIDER_ID
    {
        let entry = format!("{container}{id}");
        if old.pointer(&entry).is_some() && new.pointer(&entry).is_none() {
            return vec![format!("provider {id} migrated to gaterouter")];
        }
    }
    if p.starts_with("/auth/profiles/") && !under(&profile) {
        return vec!["its auth profile".to_owned()];
    }
    if under(provider) {
        let catalog = format!("{provider}/models");
        let list = |v: &crate::format::json5::Value| v.pointer(&catalog).cloned();
        let models = new
            .pointer(&catalog)
            .and_then(|v| v.as_array())
            .map(<[_]>::len);
        return vec![match models {
            Some(n) if list(old) != list(new) => format!("provider ({})", plural(n, "model")),
            _ => "provider".to_owned(),
        }];
    }
    if kind == FileKind::Models {
        return Vec::new();
    }
    let model = "/agents/defaults/model";
    if under(&format!("{model}/fallbacks")) {
        return vec!["fallbacks".to_owned()];
    }
    if p == model {
        // A string became an object (or back): say which of its parts really differ.
        fn primary<'v>(v: &'v crate::format::json5::Value, at: &str) -> Option<&'v str> {
            v.pointer(at).and_then(|m| {
                m.as_str()
                    .or_else(|| m.get("primary").and_then(|x| x.as_str()))
            })
        }
        let fallbacks =
            |v: &crate::format::json5::Value| v.pointer(&format!("{model}/fallbacks")).cloned();
        let (pd, fd) = (
            primary(old, model) != primary(new, model),
            fallbacks(old) != fallbacks(new),
        );
        return match (pd, fd) {
            (true, true) => vec!["default model".to_owned(), "fallbacks".to_owned()],
            (false, true) => vec!["fallbacks".to_owned()],
            _ => vec!["default model".to_owned()],
        };
    }
    let label = if under(model) {
        "default model"
    } else if under("/agents/defaults/models") && p.len() > "/agents/defaults/models".len() {
        "model allowlist"
    } else if under("/agents/defaults/modelPolicy/allow") {
        "allowlist policy"
    } else if (p.starts_with("/agents/list/") || p.starts_with("/agents/entries/"))
        && p.split('/').nth(4) == Some("model")
    {
        "agent models"
    } else if under(&profile) {
        "auth profile"
    } else {
        return Vec::new();
    };
    vec![label.to_owned()]
}

/// `1 file`, `2 files`.
pub fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// What each file gets, in words, for the summary before the diff.
fn what(f: &FileChange) -> String {
    changes(f).join(", ")
}

/// How many of `pending` each action is: `["1 new", "2 changed"]`.
fn kinds(pending: &[&FileChange]) -> Vec<String> {
    let count = |a: &str| pending.iter().filter(|f| action(f) == a).count();
    [
        ("create", "new"),
        ("modify", "changed"),
        ("chmod", "mode only"),
        ("delete", "deleted"),
    ]
    .iter()
    .filter_map(|(a, word)| {
        let n = count(a);
        (n > 0).then(|| format!("{n} {word}"))
    })
    .collect()
}

/// The one line right above the prompt (and at the end of a dry run), like terraform's
/// closing "Plan: …": how many files, and what changes in each. `None` when nothing does.
pub fn recap(plan: &Plan) -> Option<String> {
    let pending: Vec<&FileChange> = plan.pending().collect();
    if pending.is_empty() {
        return None;
    }
    let kinds = kinds(&pending);
    let each: Vec<String> = pending
        .iter()
        .map(|f| {
            let name = one_line(&f.rel, usize::MAX);
            if f.is_removal() {
                format!("{name} deleted")
            } else {
                format!("{name} {}", what(f))
            }
        })
        .collect();
    Some(format!(
        "Plan: {} ({}): {}",
        plural(pending.len(), "file"),
        kinds.join(", "),
        each.join("; ")
    ))
}

/// The many-roots recap, one line above the prompt and after a dry run: how many roots
/// change and how many files, and the roots that need nothing or failed. `None` when no
/// root changes. (Each root's own lines are in its block above.)
pub fn recap_many(plans: &[Option<&Plan>], failed: usize) -> Option<String> {
    let pending: Vec<&FileChange> = plans.iter().flatten().flat_map(|p| p.pending()).collect();
    let changing = plans
        .iter()
        .flatten()
        .filter(|p| p.pending().next().is_some())
        .count();
    if changing == 0 {
        return None;
    }
    let unchanged = plans.iter().flatten().count() - changing;
    let kinds = kinds(&pending);
    let mut line = format!(
        "Plan: {} change{}, {} ({})",
        plural(changing, "root"),
        if changing == 1 { "s" } else { "" },
        plural(pending.len(), "file"),
        kinds.join(", ")
    );
    if unchanged > 0 {
        line.push_str(&format!(
            "; {} already configured",
            plural(unchanged, "root")
        ));
    }
    if failed > 0 {
        line.push_str(&format!(
            "; {} failed (nothing is written there)",
            plural(failed, "root")
        ));
    }
    Some(line)
}

/// The lines shown before the diff: root, probe result, each file and what it gets.
pub fn summary(plan: &Plan, probe: Option<&ProbeOutcome>) -> String {
    let root = one_line(&plan.root.display().to_string(), usize::MAX);
    let mut out = format!("OpenClaw root: {root}\n");
    if let Some(a) = crate::sys::privilege::current() {
        out.push_str(&format!("Note: {}.\n", one_line(&a.sentence(), usize::MAX)));
    }
    if let Some(p) = probe {
        let s = one_line(&p.summary(), usize::MAX);
        out.push_str(&format!("GateRouter probe: {s}\n"));
    }
    let width = plan.files.iter().map(|f| f.rel.len()).max().unwrap_or(0);
    for f in &plan.files {
        let (mark, label) = match action(f) {
            "unchanged" => ("=", "unchanged".to_owned()),
            "create" => ("+", format!("create: {}", what(f))),
            "delete" => ("-", "delete (setup created it)".to_owned()),
            _ => ("~", what(f)),
        };
        // A file name is one line of the summary, whatever bytes it holds.
        let name = one_line(&f.rel, usize::MAX);
        out.push_str(&format!("  {mark} {name:width$}  {label}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The parts of a config setup may change, each present or not, with a few values.
    #[derive(Debug, Clone)]
    struct Parts {
        primary: Option<u8>,
        fallbacks: Option<Vec<u8>>,
        auth: Option<u8>,
        base: Option<u8>,
        models: Option<Vec<u8>>,
        other: Option<u8>,
    }

    fn parts() -> impl Strategy<Value = Parts> {
        let small = || prop::option::of(0u8..2);
        let list = || prop::option::of(prop::collection::vec(0u8..3, 0..3));
        (small(), list(), small(), small(), list(), small()).prop_map(
            |(primary, fallbacks, auth, base, models, other)| Parts {
                primary,
                fallbacks,
                auth,
                base,
                models,
                other,
            },
        )
    }

    fn config(p: &Parts) -> String {
        let mut v = serde_json::json!({});
        if p.primary.is_some() || p.fallbacks.is_some() {
            let mut m = serde_json::json!({});
            if let Some(n) = p.primary {
                m["primary"] = format!("gaterouter/m{n}").into();
            }
            if let Some(f) = &p.fallbacks {
                m["fallbacks"] = f.iter().map(|n| format!("gaterouter/m{n}")).collect();
            }
            v["agents"] = serde_json::json!({ "defaults": { "model": m } });
        }
        if let Some(n) = p.auth {
            v["auth"] = serde_json::json!({"profiles": {"gaterouter:default": {"provider": "gaterouter", "mode": format!("api_key{n}")}}});
        }
        if p.base.is_some() || p.models.is_some() {
            let mut g = serde_json::json!({});
            if let Some(n) = p.base {
                g["baseUrl"] = format!("https://h{n}/v1").into();
            }
            if let Some(ms) = &p.models {
                g["models"] = ms
                    .iter()
                    .map(|n| serde_json::json!({"id": format!("m{n}")}))
                    .collect();
            }
            v["models"] = serde_json::json!({"providers": {"gaterouter": g}});
        }
        if let Some(n) = p.other {
            v["channels"] = serde_json::json!({ "x": n });
        }
        serde_json::to_string_pretty(&v).unwrap()
    }

    fn file(kind: FileKind, before: Option<&str>, after: &str) -> FileChange {
        FileChange {
            kind,
            path: "f".into(),
            target: "f".into(),
            rel: "f".into(),
            before: before.map(|b| b.as_bytes().to_vec()),
            after: Some(after.as_bytes().to_vec()),
            mode_before: before.map(|_| 0o600),
            mode_after: 0o600,
            symlink: false,
            words: Default::default(),
        }
    }

    proptest! {
        /// The words name exactly the parts that differ, each once.
        #[test]
        fn changes_name_exactly_what_differs(a in parts(), b in parts()) {
            let got = changes(&file(FileKind::Config, Some(&config(&a)), &config(&b))).to_vec();
            let mut want: Vec<String> = Vec::new();
            if a.primary != b.primary {
                want.push("default model".into());
            }
            if a.fallbacks != b.fallbacks {
                want.push("fallbacks".into());
            }
            if a.auth != b.auth {
                want.push("auth profile".into());
            }
            if a.base != b.base || a.models != b.models {
                want.push(match &b.models {
                    Some(m) if a.models != b.models => {
                        format!("provider ({} model{})", m.len(), if m.len() == 1 { "" } else { "s" })
                    }
                    _ => "provider".into(),
                });
            }
            if a.other != b.other {
                want.push("/channels/x".into());
            }
            if want.is_empty() && config(&a) != config(&b) {
                want.push("layout only".into());
            }
            let mut sorted = got.clone();
            sorted.sort();
            want.sort();
            prop_assert_eq!(sorted, want, "{:?}", got);
        }
    }

    #[test]
    fn env_changes_say_what_happened_to_the_key() {
        let k = "GATEROUTER_API_KEY";
        let env = |before: Option<&str>, after: &str| {
            changes(&file(FileKind::Env, before, after)).to_vec()
        };
        assert_eq!(env(None, &format!("{k}=sk-a\n")), ["+key"]);
        assert_eq!(env(Some("A=1\n"), &format!("A=1\n{k}=sk-a\n")), ["+key"]);
        assert_eq!(
            env(Some(&format!("{k}=sk-a\n")), &format!("{k}=sk-b\n")),
            ["key replaced"]
        );
        assert_eq!(env(Some(&format!("{k}=sk-a\nB=2\n")), "B=2\n"), ["-key"]);
        assert_eq!(
            env(Some(&format!("{k}=sk-a")), &format!("{k}=sk-a\n")),
            ["layout only"]
        );
    }

    #[test]
    fn recap_counts_files_by_what_happens_to_them() {
        let plan = Plan {
            root: "/r".into(),
            files: vec![
                file(FileKind::Env, None, "GATEROUTER_API_KEY=sk-a\n"),
                file(
                    FileKind::Models,
                    Some("{}"),
                    "{\"providers\": {\"gaterouter\": {\"models\": [{\"id\": \"auto\"}]}}}",
                ),
                file(FileKind::Config, Some("{}"), "{}"),
            ],
            warnings: vec![],
            secrets: vec![],
            meta: Default::default(),
            openclaw_undo: None,
        };
        assert_eq!(
            recap(&plan).unwrap(),
            "Plan: 2 files (1 new, 1 changed): f +key; f provider (1 model)"
        );
    }
}
