//! Rollback: turn backup sets back into a plan (the current files → their backed-up
//! contents, files setup created → removed), which the normal review and apply then run.
//!
//! A manifest is data on disk, not an instruction: every path in it is checked to be one
//! setup could have written (inside the root, or the external config it recorded, reached
//! through the same links as then), every copy is read without following links, a set that
//! cannot be read stops the rollback instead of being skipped quietly, and files edited
//! since the run being undone are not overwritten unless asked (`--force`).

use std::path::Path;

use crate::error::{Error, Result};
use crate::openclaw::root::{FileState, MAX_FILE};
use crate::plan::{FileChange, FileKind, NEW_FILE_MODE, Plan, env_file};
use crate::txn::apply::LOCK_FILE;
use crate::txn::backup::{
    self, BACKUP_DIR, Manifest, ManifestFile, RunKind, backup_name, bad_relative,
};
pub use crate::txn::backup::{BackupSet, list};

/// The set a plain `rollback` undoes: the newest one made by setup (a rollback's own
/// safety copy is passed over, so rolling back twice is a no-op, not a toggle). A set that
/// cannot be read stops the search: going on would quietly restore an older one.
fn newest_setup(root: &Path, sets: &[BackupSet]) -> Result<usize> {
    for (i, s) in sets.iter().enumerate().rev() {
        if let Some(why) = &s.problem {
            return Err(Error::BadBackup {
                set: s.dir.clone(),
                what: format!(
                    "cannot be used ({why}). It is the newest set, so rollback stops rather than quietly restore an older one; `rollback --list` shows the sets, and `rollback --to NAME` restores a chosen one"
                ),
            });
        }
        if s.kind == Some(RunKind::Setup) {
            return Ok(i);
        }
    }
    Err(Error::Usage(format!(
        "there is no backup to roll back to in {}; gaterouter-setup makes one each time it changes files",
        root.join(BACKUP_DIR).display()
    )))
}

/// The set `--to NAME` means: its exact directory name, or the only set whose name starts
/// with NAME (a bare `20261124T182745Z` when that second has one set).
fn named(root: &Path, sets: &[BackupSet], name: &str) -> Result<usize> {
    let hits: Vec<usize> = match sets.iter().position(|s| s.stamp == name) {
        Some(i) => vec![i],
        None if name.is_empty() => Vec::new(),
        None => (0..sets.len())
            .filter(|&i| sets[i].stamp.starts_with(name))
            .collect(),
    };
    match hits.as_slice() {
        [i] => match &sets[*i].problem {
            Some(why) => Err(Error::BadBackup {
                set: sets[*i].dir.clone(),
                what: format!("cannot be used ({why})"),
            }),
            None => Ok(*i),
        },
        [] => Err(Error::Usage(format!(
            "there is no backup set named {name:?} in {}; `gaterouter-setup rollback --list` shows them",
            root.join(BACKUP_DIR).display()
        ))),
        many => Err(Error::Usage(format!(
            "--to {name:?} matches {} backup sets ({}); give the whole name",
            many.len(),
            many.iter()
                .map(|&i| sets[i].stamp.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// What a rollback will do: the set it goes back to (undoing it and every later run), and
/// the plan that does it.
pub fn prepare(root: &Path, to: Option<&str>, force: bool) -> Result<(BackupSet, Plan)> {
    let sets = list(root)?;
    let at = match to {
        None => newest_setup(root, &sets)?,
        Some(name) => named(root, &sets, name)?,
    };
    let plan = plan(root, &sets[at..], force)?;
    Ok((sets[at].clone(), plan))
}

/// One file of a manifest, checked.
#[derive(Clone)]
struct Entry<'a> {
    set: &'a BackupSet,
    file: &'a ManifestFile,
}

/// The most a rollback gives back of a recorded mode: read/write bits only, never group-
/// or world-writable, never setuid/setgid/sticky or executable (these are data files).
/// The manifest sits where the root's owner can edit it, so it cannot widen access.
const MODE_CAP: u32 = 0o644;

/// Checks a manifest's files are ones setup could have written: a plain relative path
/// outside our own bookkeeping, or one absolute config path (OPENCLAW_CONFIG_PATH) whose
/// resolved target the set recorded; each named once, its copy where setup puts it.
fn checked<'a>(set: &'a BackupSet, m: &'a Manifest) -> Result<Vec<Entry<'a>>> {
    let bad = |what: String| Error::BadBackup {
        set: set.dir.clone(),
        what,
    };
    let mut out: Vec<Entry> = Vec::new();
    for f in &m.files {
        if let Some(abs) = f.path.strip_prefix('/') {
            let json = [".json", ".json5"].iter().any(|x| f.path.ends_with(x));
            let recorded = f.target.is_some() && m.version >= 2;
            if abs.is_empty() || f.kind() != FileKind::Config || !json || !recorded {
                return Err(bad(format!(
                    "names {:?}, a path outside the root that is not a config file setup recorded; a rollback only writes inside the root (or to the recorded config)",
                    f.path
                )));
            }
            if bad_relative(abs).is_some() {
                return Err(bad(format!(
                    "names {:?}, which is not a plain path",
                    f.path
                )));
            }
            if out.iter().any(|e| e.file.path.starts_with('/')) {
                return Err(bad("names more than one file outside the root".into()));
            }
        } else if let Some(why) = bad_relative(&f.path) {
            return Err(bad(format!(
                "names {:?}, a path that {why}; a rollback only writes inside the root",
                f.path
            )));
        } else {
            let first = f.path.split('/').next().unwrap_or_default();
            if first == BACKUP_DIR || first == LOCK_FILE {
                return Err(bad(format!(
                    "names {:?}, which is gaterouter-setup's own bookkeeping, not a file it configures",
                    f.path
                )));
            }
        }
        if let Some(b) = &f.backup
            && *b != backup_name(&f.path)
        {
            return Err(bad(format!(
                "says the copy of {:?} is {b:?}, not where setup puts it",
                f.path
            )));
        }
        if out.iter().any(|e| e.file.path == f.path) {
            return Err(bad(format!("names {:?} twice", f.path)));
        }
        out.push(Entry { set, file: f });
    }
    Ok(out)
}

/// Whether `rel`'s current location is one a rollback may write: where the newest set
/// recorded writing it, or (older sets, which recorded nothing) inside the root, links
/// resolved. So a link added or changed since cannot redirect the write elsewhere.
fn check_location(root: &Path, canon_root: &Path, newest: &Entry, path: &Path) -> Result<()> {
    let now = backup::resolved(path);
    let inside = !newest.file.path.starts_with('/') && now.starts_with(canon_root);
    if inside || newest.file.target.as_ref() == Some(&now) {
        return Ok(());
    }
    Err(Error::BadBackup {
        set: newest.set.dir.clone(),
        what: format!(
            "restores {}, which now leads (through a symlink) to {}, {}; a rollback never writes through a link that changed since. Fix the link, or copy the file back by hand from {}",
            path.display(),
            now.display(),
            match &newest.file.target {
                Some(t) => format!("not to {}, where gaterouter-setup wrote it", t.display()),
                None => format!("outside the root {}", root.display()),
            },
            newest
                .set
                .dir
                .join(backup_name(&newest.file.path))
                .display()
        ),
    })
}

/// The plan that puts every file back as it was before `sets[0]`, undoing that run and
/// every later one in `sets` (sets that cannot be read are skipped, with a warning). Each
/// file gets the copy from the oldest set that saved it, and must still hold what the
/// newest set that touched it wrote: a file edited since is refused unless `force`.
pub fn plan(root: &Path, sets: &[BackupSet], force: bool) -> Result<Plan> {
    let mut warnings = Vec::new();
    let entries = oldest_and_newest(sets, &mut warnings)?;
    let canon_root = std::fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
    let mut files = Vec::new();
    let mut changed = Vec::new();
    for (oldest, newest) in &entries {
        // `join` keeps an absolute path as it is: the config outside the root.
        let path = root.join(&oldest.file.path);
        check_location(root, &canon_root, newest, &path)?;
        let current = FileState::read(root, path)?;
        if edited_since(oldest, newest, &current, &mut warnings) {
            changed.push(current.path.clone());
        }
        files.push(give_back(oldest, current, &mut warnings)?);
    }
    if !changed.is_empty() {
        let stamp = sets.first().map(|s| s.stamp.clone()).unwrap_or_default();
        if !force {
            return Err(Error::ChangedSinceSetup {
                paths: changed,
                stamp,
            });
        }
        let list: Vec<String> = changed.iter().map(|p| p.display().to_string()).collect();
        warnings.push(format!(
            "--force: {} changed after gaterouter-setup wrote it; the rollback discards those edits",
            list.join(", ")
        ));
    }
    Ok(Plan {
        root: root.to_path_buf(),
        secrets: env_keys(&files),
        files,
        warnings,
        meta: serde_json::Map::new(),
        openclaw_undo: None,
    })
}

/// Per file the sets name: the entry of the oldest set that saved it, and of the newest
/// that touched it.
fn oldest_and_newest<'a>(
    sets: &'a [BackupSet],
    warnings: &mut Vec<String>,
) -> Result<Vec<(Entry<'a>, Entry<'a>)>> {
    let mut entries: Vec<(Entry, Entry)> = Vec::new();
    for s in sets {
        let Some(m) = &s.manifest else {
            warnings.push(format!(
                "the backup set {} cannot be read ({}) and was skipped: files only it changed are not rolled back",
                s.dir.display(),
                s.problem.as_deref().unwrap_or("no manifest")
            ));
            continue;
        };
        for e in checked(s, m)? {
            match entries.iter_mut().find(|(o, _)| o.file.path == e.file.path) {
                Some(slot) => slot.1 = e,
                None => entries.push((e.clone(), e)),
            }
        }
    }
    Ok(entries)
}

/// Whether the file no longer holds what the newest set that touched it wrote. A set of an
/// older version recorded nothing to tell: that is said, not refused.
fn edited_since(
    oldest: &Entry,
    newest: &Entry,
    current: &FileState,
    warnings: &mut Vec<String>,
) -> bool {
    match &newest.file.written {
        Some(w) => current.bytes.as_deref().map(backup::sha256_hex) != w.sha256,
        None => {
            if current.bytes.is_some() || oldest.file.existed {
                warnings.push(format!(
                    "cannot tell whether {} was edited after {} (that backup was made by an older gaterouter-setup); check the diff",
                    current.path.display(),
                    newest.set.stamp
                ));
            }
            false
        }
    }
}

/// The change that gives `current` back its copy in the oldest set (or removes it, when
/// that set says it did not exist), with the recorded mode capped.
fn give_back(oldest: &Entry, current: FileState, warnings: &mut Vec<String>) -> Result<FileChange> {
    let f = oldest.file;
    let rel = &f.path;
    let bad = |what: String| Error::BadBackup {
        set: oldest.set.dir.clone(),
        what,
    };
    let after = f
        .existed
        .then(|| backup::read_in_set(&oldest.set.dir, &backup_name(rel), MAX_FILE))
        .transpose()
        .map_err(|what| bad(format!("cannot give back {rel}: {what}")))?;
    let parse_mode = |m: &str| {
        let mode = u32::from_str_radix(m, 8).ok().filter(|m| *m <= 0o7777);
        mode.ok_or_else(|| {
            bad(format!(
                "gives {rel} the mode {m:?}, which is not a file mode"
            ))
        })
    };
    let recorded_mode = f.mode.as_deref().map(parse_mode).transpose()?;
    // A manifest lives in a directory the root's owner can write: what it records is
    // capped (see `MODE_CAP`), and a cap that took something away is said.
    if let Some(m) = recorded_mode
        && m & !MODE_CAP != 0
    {
        warnings.push(format!(
            "the backup set {} records mode {m:04o} for {rel}; restored as {:04o} (a rollback restores at most {MODE_CAP:04o}: never group/world-writable, executable or setuid)",
            oldest.set.dir.display(),
            m & MODE_CAP,
        ));
    }
    Ok(FileChange {
        kind: f.kind(),
        rel: rel.clone(),
        after,
        mode_after: recorded_mode
            .map(|m| m & MODE_CAP)
            .or(current.mode)
            .unwrap_or(NEW_FILE_MODE),
        mode_before: current.mode,
        symlink: current.symlink,
        target: current.target,
        before: current.bytes,
        path: current.path,
        words: Default::default(),
    })
}

/// The keys in the `.env` files before and after, for the redactor.
fn env_keys(files: &[FileChange]) -> Vec<String> {
    let env = files.iter().filter(|f| f.kind == FileKind::Env);
    env.flat_map(|f| [(f, f.before.as_deref()), (f, f.after.as_deref())])
        .filter_map(|(f, bytes)| {
            let text = std::str::from_utf8(bytes?).ok()?;
            env_file::current_key(&f.path, text).ok().flatten()
        })
        .collect()
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
        let Some(m) = &set.manifest else {
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

/// Whether setup created `rel` (the oldest surviving record of it says it did not exist).
/// Unknown (no record left) counts as no: uninstall then keeps the file rather than delete
/// something the user may have had before.
pub fn created_by_setup(root: &Path, rel: &str) -> bool {
    backup::setup_manifests(root)
        .iter()
        .find_map(|m| m.files.iter().find(|f| f.path == rel))
        .is_some_and(|f| !f.existed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::PathBuf;

    fn set_with(paths: &[String]) -> BackupSet {
        let files = paths
            .iter()
            .map(|p| ManifestFile {
                path: p.clone(),
                kind: None,
                backup: None,
                existed: true,
                mode: Some("600".into()),
                target: None,
                written: None,
            })
            .collect();
        BackupSet {
            dir: PathBuf::from("/r/.gaterouter-backup/20261124T182745Z-000001"),
            stamp: "20261124T182745Z-000001".into(),
            kind: Some(RunKind::Setup),
            files: paths.to_vec(),
            problem: None,
            manifest: Some(Manifest {
                version: 1,
                kind: RunKind::Setup,
                files,
                meta: Default::default(),
            }),
        }
    }

    /// `root.join(p)` with `.` and `..` applied as text, as the kernel would once no link
    /// is involved.
    fn lexical(root: &Path, p: &str) -> Option<PathBuf> {
        let mut out = root.to_path_buf();
        for c in Path::new(p).components() {
            match c {
                std::path::Component::Normal(n) => out.push(n),
                std::path::Component::ParentDir => {
                    if !out.pop() {
                        return None;
                    }
                }
                std::path::Component::CurDir => {}
                _ => out = PathBuf::from("/"),
            }
        }
        Some(out)
    }

    proptest! {
        /// Whatever paths a manifest names, every one a rollback accepts lands inside the
        /// root, outside the tool's own bookkeeping (an absolute path needs a recorded
        /// target, which these manifests lack, so it is always refused).
        #[test]
        fn accepted_paths_stay_inside_the_root(
            parts in proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![
                        Just(""), Just("."), Just(".."), Just("a"), Just("openclaw.json"),
                        Just(".env"), Just(BACKUP_DIR), Just(LOCK_FILE), Just("/"), Just("agents"),
                    ],
                    1..6,
                ),
                1..4,
            )
        ) {
            let paths: Vec<String> = parts.iter().map(|p| p.join("/")).collect();
            let set = set_with(&paths);
            let root = Path::new("/r");
            if let Ok(entries) = checked(&set, set.manifest.as_ref().unwrap()) {
                for e in entries {
                    let at = lexical(root, &e.file.path);
                    prop_assert!(at.as_ref().is_some_and(|a| a.starts_with(root) && a != root), "{:?}", e.file.path);
                    let at = at.unwrap();
                    prop_assert!(!at.starts_with(root.join(BACKUP_DIR)), "{:?}", e.file.path);
                    prop_assert!(at != root.join(LOCK_FILE), "{:?}", e.file.path);
                    prop_assert!(!e.file.path.starts_with('/'));
                }
            }
        }
    }
}
