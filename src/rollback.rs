//! Rollback: turn a backup set back into a plan (the current files → their backed-up
//! contents, files setup created → removed), which the normal review and apply then run.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::apply::BACKUP_DIR;
use crate::error::{Error, Result};
use crate::plan::{FileChange, FileKind, NEW_FILE_MODE, Plan, env_file};
use crate::root::FileState;

#[derive(Debug, Clone, Deserialize)]
struct ManifestFile {
    /// Relative to the root, or absolute for a file outside it (OPENCLAW_CONFIG_PATH).
    path: String,
    /// The copy's name inside the set (older sets: derived from `path`).
    backup: Option<String>,
    existed: bool,
    mode: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Manifest {
    #[serde(default = "setup_kind")]
    kind: String,
    files: Vec<ManifestFile>,
    #[serde(default)]
    meta: serde_json::Map<String, serde_json::Value>,
}

fn setup_kind() -> String {
    "setup".into()
}

/// One backup set, as `--list` shows it.
#[derive(Debug, Clone)]
pub struct BackupSet {
    pub dir: PathBuf,
    /// The directory name: the UTC time it was made.
    pub stamp: String,
    pub kind: String,
    pub files: Vec<String>,
}

/// Every readable backup set under the root, oldest first.
pub fn list(root: &Path) -> Result<Vec<BackupSet>> {
    let base = root.join(BACKUP_DIR);
    let entries = match std::fs::read_dir(&base) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(&base, e)),
    };
    let mut sets = Vec::new();
    for entry in entries {
        let dir = entry.map_err(|e| Error::io(&base, e))?.path();
        let Some(m) = read_manifest(&dir) else {
            continue;
        };
        sets.push(BackupSet {
            stamp: dir
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            kind: m.kind,
            files: m.files.into_iter().map(|f| f.path).collect(),
            dir,
        });
    }
    sets.sort_by(|a, b| a.stamp.cmp(&b.stamp));
    Ok(sets)
}

fn read_manifest(dir: &Path) -> Option<Manifest> {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).ok()?).ok()
}

/// The set a rollback restores: the newest one made by setup (a rollback's own safety copy
/// is skipped, so rolling back twice is a no-op, not a toggle).
pub fn newest(root: &Path) -> Result<BackupSet> {
    list(root)?
        .into_iter()
        .rev()
        .find(|s| s.kind == "setup")
        .ok_or_else(|| Error::Usage(format!(
            "there is no backup to roll back to in {}; gaterouter-setup makes one each time it changes files",
            root.join(BACKUP_DIR).display()
        )))
}

fn kind_of(rel: &str) -> FileKind {
    match rel {
        ".env" => FileKind::Env,
        r if r.ends_with("models.json") => FileKind::Models,
        _ => FileKind::Config,
    }
}

/// The plan that puts `set` back.
pub fn plan(root: &Path, set: &BackupSet) -> Result<Plan> {
    let manifest = read_manifest(&set.dir).ok_or_else(|| Error::Unreadable {
        path: set.dir.join("manifest.json"),
        what: "cannot be read as a backup manifest".into(),
    })?;
    let mut files = Vec::new();
    let mut secrets = Vec::new();
    for f in &manifest.files {
        let backup = f
            .backup
            .clone()
            .unwrap_or_else(|| crate::apply::backup_name(&f.path));
        let climbs = |p: &str| p.split('/').any(|c| c == "..");
        if climbs(&f.path) || climbs(&backup) || Path::new(&backup).is_absolute() {
            return Err(Error::Unreadable {
                path: set.dir.join("manifest.json"),
                what: format!("names a file it cannot have written ({:?})", f.path),
            });
        }
        // `join` keeps an absolute path as it is: a config outside the root.
        let current = FileState::read(root, root.join(&f.path))?;
        let after = if f.existed {
            let b = set.dir.join(&backup);
            Some(fs_err::read(&b).map_err(|e| Error::io(&b, e))?)
        } else {
            None
        };
        let mode_after = f
            .mode
            .as_deref()
            .and_then(|m| u32::from_str_radix(m, 8).ok())
            .or(current.mode)
            .unwrap_or(NEW_FILE_MODE);
        let kind = kind_of(&f.path);
        if kind == FileKind::Env {
            for bytes in [current.bytes.as_deref(), after.as_deref()]
                .into_iter()
                .flatten()
            {
                if let Ok(t) = std::str::from_utf8(bytes)
                    && let Ok(Some(k)) = env_file::current_key(&current.path, t)
                {
                    secrets.push(k);
                }
            }
        }
        files.push(FileChange {
            kind,
            path: current.path.clone(),
            target: current.target.clone(),
            rel: f.path.clone(),
            before: current.bytes.clone(),
            after,
            mode_before: current.mode,
            mode_after,
            symlink: current.symlink,
        });
    }
    Ok(Plan {
        root: root.to_path_buf(),
        files,
        warnings: Vec::new(),
        secrets,
        meta: serde_json::Map::new(),
    })
}

/// What setup recorded in its backups: the model the user had before (newest record first;
/// setup records it only while the model is not a gaterouter one) and every allowlist entry
/// any setup added.
pub fn recorded(
    root: &Path,
) -> Result<(Option<serde_json::Value>, crate::plan::openclaw_json::Added)> {
    let mut model = None;
    let mut added = crate::plan::openclaw_json::Added::default();
    for set in list(root)?.iter().rev() {
        let Some(m) = read_manifest(&set.dir) else {
            continue;
        };
        if model.is_none() {
            model = m.meta.get("previous_model").cloned();
        }
        let strings = |k: &str| -> Vec<String> {
            m.meta
                .get("added")
                .and_then(|a| a.get(k))
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        added.allowlist_map.extend(strings("allowlist_map"));
        added.policy_allow.extend(strings("policy_allow"));
        added.fallbacks.extend(strings("fallbacks"));
        // Newest record first: the model an agent had before the setup that moved it.
        if let Some(a) = m.meta.get("agent_models").and_then(|a| a.as_object()) {
            for (id, prev) in a {
                added.agent_models.entry(id.clone()).or_insert(prev.clone());
            }
        }
    }
    Ok((model, added))
}
