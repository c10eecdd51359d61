//! The review stage's words: the summary shown before the diff, and one root's JSON report
//! value (the `--json` schema, docs/json-report.md). Built here, printed by the CLI through
//! [`crate::output`], which redacts every known secret on the way out.

use std::path::Path;

use serde::Serialize;

use crate::apply::Applied;
use crate::diff;
use crate::error::Error;
use crate::plan::{FileChange, FileKind, Plan};
use crate::probe::ProbeOutcome;

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
    /// Secrets known before a plan exists (the key from the command line).
    pub secrets: &'a [String],
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
        (None, Some(p), _) if p.is_empty() => "already-configured",
        (None, Some(_), _) => "pending",
        (None, None, _) => "error",
    }
}

/// The JSON report as text: stable field names, every secret redacted (by `json_text`).
pub fn json(o: &Outcome) -> String {
    crate::output::json_text(&value(o))
}

/// The report of one run (or of one root, for the many-roots document) as a value, built
/// from the typed outcome. The files' contents are masked here where it takes knowing the
/// format (a secret-named field in a JSON file, the key in `.env`); every known secret is
/// registered, and [`crate::output::json`], which everything printed passes through, masks
/// it in every string: redaction by value happens in that one place.
pub fn value(o: &Outcome) -> serde_json::Value {
    let mut secrets: Vec<&str> = o.secrets.iter().map(String::as_str).collect();
    if let Some(p) = o.plan {
        secrets.extend(p.secrets.iter().map(String::as_str));
    }
    let files = o
        .plan
        .map(|p| {
            p.files
                .iter()
                .map(|f| FileReport {
                    path: f.rel.clone(),
                    kind: f.kind,
                    action: action(f),
                    changed: f.changed(),
                    mode_before: f.mode_before.map(|m| format!("{m:04o}")),
                    mode_after: format!("{:04o}", f.mode_after),
                    symlink: f.symlink,
                    diff: f.changed().then(|| diff::render(f, &secrets, false)),
                    before: f
                        .before
                        .as_deref()
                        .filter(|_| f.changed())
                        .map(|b| diff::redacted_text(f.kind, b, &secrets)),
                    after: f
                        .after
                        .as_deref()
                        .filter(|_| f.changed())
                        .map(|b| diff::redacted_text(f.kind, b, &secrets)),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut warnings: Vec<String> = o.warnings.to_vec();
    if let Some(p) = o.plan {
        warnings.extend(p.warnings.iter().cloned());
    }
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
    };
    for s in &secrets {
        crate::secrets::register(s);
    }
    // Every field is a plain string, number, bool or map: serialising cannot fail.
    serde_json::to_value(&report).unwrap_or_default()
}

/// What each file gets, in words, for the summary before the diff.
fn what(f: &FileChange) -> String {
    let mut parts = Vec::new();
    if f.content_changed() {
        parts.push(match f.kind {
            FileKind::Env => "GATEROUTER_API_KEY".to_owned(),
            FileKind::Config => "default model, auth profile, gaterouter provider".to_owned(),
            FileKind::Models => "gaterouter provider".to_owned(),
        });
    }
    if f.mode_changed() && !f.is_new() {
        parts.push(format!(
            "mode {:o} → {:o}",
            f.mode_before.unwrap_or(0),
            f.mode_after
        ));
    }
    parts.join("; ")
}

/// The lines shown before the diff: root, probe result, each file and what it gets.
pub fn summary(plan: &Plan, probe: Option<&ProbeOutcome>) -> String {
    let root = crate::output::one_line(&plan.root.display().to_string(), usize::MAX);
    let mut out = format!("OpenClaw root: {root}\n");
    if let Some(p) = probe {
        let s = crate::output::one_line(&p.summary(), usize::MAX);
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
        let name = crate::output::one_line(&f.rel, usize::MAX);
        out.push_str(&format!("  {mark} {name:width$}  {label}\n"));
    }
    out
}
