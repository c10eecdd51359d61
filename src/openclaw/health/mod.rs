//! Taking part in OpenClaw's config health model, so that what we write stays written.
//!
//! OpenClaw (2026.9.6) fingerprints `openclaw.json` on every load and compares it with a
//! baseline: the `lastKnownGood` of its health row in `state/openclaw.sqlite`, else the
//! file `openclaw.json.bak`. A config that shrank below half of a ≥ 512-byte baseline, lost
//! `meta` or lost `gateway.mode` is "suspicious": the load restores `.bak` over it (keeping
//! it as `.clobbered.*`), unless the config uses `$include` or `.bak` has no `gateway.mode`.
//! A load that finds nothing suspicious records the file as the new `lastKnownGood`.
//!
//! Our writes do what OpenClaw's own writer and its next healthy load do, inside our
//! transaction (see `apply`): the `.bak` ring is rotated with the previous file ([`ring`]),
//! and the new file is recorded as `lastKnownGood` ([`store`]), so OpenClaw's next load
//! compares the file with itself. Where the row cannot be written (no database, another
//! schema, not writable) the `.bak` is the baseline and [`would_undo`] says, before the
//! prompt, whether OpenClaw would take the write back; setup, rollback and uninstall then
//! refuse unless `--force`. Details and the reasons for this design: docs/architecture.md.

pub mod fingerprint;
pub mod ring;
pub mod store;
pub mod undo;

pub use undo::Undo;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::openclaw::files::{FileChange, FileKind};
use fingerprint::Baseline;

/// Of a plan's files, the config change that leaves a config behind (not its removal).
pub fn config_change(files: &[FileChange]) -> Option<&FileChange> {
    files
        .iter()
        .find(|f| f.kind == FileKind::Config && f.content_changed() && f.after.is_some())
}

/// Whether OpenClaw's next load would undo (or refuse to trust) the config a plan of `root`
/// writes (of its `files`), given that our transaction cannot record it in OpenClaw's health
/// state. `None`: it will keep it (the health row will be written, or nothing suspicious is
/// seen).
pub fn would_undo(root: &Path, files: &[FileChange]) -> Option<Undo> {
    let f = config_change(files)?;
    let why = match store::open(root) {
        store::Availability::Ready(_) => return None,
        store::Availability::Missing(p) => {
            format!("no OpenClaw state database at {}", p.display())
        }
        store::Availability::Unusable { path, why } => format!("{} {why}", path.display()),
    };
    let after = f.after.as_deref()?;
    // Without a row the baseline is `.bak`; after our rotation that is the file we replace.
    // No `.bak` at all: OpenClaw has nothing to compare with or restore.
    let bak = ring::slot(&f.path, 0);
    if !std::fs::symlink_metadata(&bak).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let before = f.before.as_deref()?;
    let baseline = fingerprint::of_backup(before);
    let new = Baseline::from(&fingerprint::of_file(&f.path, after, None));
    let parsed = fingerprint::parsed(after);
    let reasons = fingerprint::suspicious(&baseline, &new, &parsed);
    if reasons.is_empty() {
        return None;
    }
    Some(Undo {
        config: f.path.clone(),
        reasons,
        why,
        restores: baseline.gateway_mode.is_some() && !contains_include(&parsed),
    })
}

/// OpenClaw skips its restore for a config with `$include` anywhere
/// (`containsConfigIncludeDirective`).
pub fn contains_include(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(o) => {
            o.contains_key(crate::openclaw::include::KEY) || o.values().any(contains_include)
        }
        serde_json::Value::Array(a) => a.iter().any(contains_include),
        _ => false,
    }
}

/// The baseline OpenClaw's next load uses for `config` now: its row's `lastKnownGood`,
/// else `.bak`. `Err`: the row could not be read.
pub fn current_baseline(
    store: Option<&store::Store>,
    config: &Path,
) -> Result<Option<Baseline>, String> {
    if let Some(s) = store
        && let Some(row) = s.row_for(config)?
        && let Some(b) = row
            .last_known_good_json
            .as_deref()
            .and_then(Baseline::from_json)
    {
        return Ok(Some(b));
    }
    Ok(std::fs::read(ring::slot(config, 0))
        .ok()
        .map(|b| fingerprint::of_backup(&b)))
}

/// `2026-12-02T03:17:32.826Z`, as JavaScript's `toISOString`.
pub fn iso_millis(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let dt = time::OffsetDateTime::from_unix_timestamp(d.as_secs() as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        d.subsec_millis()
    )
}

/// Milliseconds since the epoch (`Date.now()`).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// What OpenClaw leaves beside the config when it takes a write back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SetAsideKind {
    /// `<config>.clobbered.<time>`: a load found the config suspicious and restored `.bak`
    /// over it; this is the config it replaced.
    Clobbered,
    /// `<config>.rejected.<time>`: OpenClaw's own writer refused a write that looked like a
    /// clobber; this is what it would have written.
    Rejected,
}

#[derive(Debug, Clone)]
pub struct SetAside {
    pub path: PathBuf,
    pub kind: SetAsideKind,
    pub modified: SystemTime,
}

/// Every `.clobbered.*` and `.rejected.*` file OpenClaw made beside `config`, oldest first.
pub fn set_aside(config: &Path) -> Vec<SetAside> {
    let Some(name) = config.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let dir = config.parent().unwrap_or(Path::new("."));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<SetAside> = entries
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let rest = n.strip_prefix(&name)?;
            let (_, kind) = [
                (".clobbered.", SetAsideKind::Clobbered),
                (".rejected.", SetAsideKind::Rejected),
            ]
            .into_iter()
            .find(|(suffix, _)| rest.starts_with(suffix))?;
            let m = std::fs::symlink_metadata(e.path())
                .ok()
                .filter(|m| m.is_file())?;
            Some(SetAside {
                path: e.path(),
                kind,
                modified: m.modified().ok()?,
            })
        })
        .collect();
    out.sort_by_key(|s| s.modified);
    out
}

/// How OpenClaw's next load judges the config as it is on disk now.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    /// Why it finds the file suspicious (empty: it does not).
    pub reasons: Vec<String>,
    /// It would restore `.bak` over the file.
    pub restores: bool,
    /// It has seen exactly this already (its `lastObservedSuspiciousSignature`) and leaves it.
    pub seen: bool,
}

/// [`Standing`] of `config` (bytes `raw`) in the state dir `root`; `None` when OpenClaw has
/// no baseline for it (nothing to compare with).
pub fn standing(root: &Path, config: &Path, raw: &[u8]) -> Option<Standing> {
    let store = match store::open(root) {
        store::Availability::Ready(s) => Some(s),
        _ => None,
    };
    let baseline = current_baseline(store.as_ref(), config).ok()??;
    let stat = std::fs::metadata(config).ok();
    let current = fingerprint::of_file(config, raw, stat.as_ref());
    let parsed = fingerprint::parsed(raw);
    let reasons = fingerprint::suspicious(&baseline, &Baseline::from(&current), &parsed);
    let signature = format!("{}:{}", current.hash, reasons.join(","));
    let seen = store
        .and_then(|s| s.row_for(config).ok().flatten())
        .and_then(|r| r.last_observed_suspicious_signature)
        .is_some_and(|s| s == signature);
    let bak_has_mode = std::fs::read(ring::slot(config, 0))
        .ok()
        .is_some_and(|b| fingerprint::of_backup(&b).gateway_mode.is_some());
    Some(Standing {
        restores: !reasons.is_empty() && !seen && bak_has_mode && !contains_include(&parsed),
        reasons,
        seen,
    })
}
