//! Apply: the only stage that writes. One transaction over every file of a plan:
//! lock, re-check, back up, then for each file temp-write + fsync + rename + fsync(dir);
//! on any failure the files already replaced are put back.

use std::cell::Cell;
use std::fs::{File, TryLockError};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::error::{Error, Result};
use crate::openclaw::health::fingerprint::{self, Baseline};
use crate::openclaw::health::{self, ring, store};
use crate::openclaw::root::Env;
use crate::plan::{FileChange, FileKind, Plan};
use crate::sys::fsx::parent_dir;
use crate::txn::backup::{
    self, CREATED_DIRS, Manifest, ManifestFile, RunKind, SetName, Written, backup_name,
};

pub const LOCK_FILE: &str = ".gaterouter.lock";
pub use crate::txn::backup::BACKUP_DIR;

#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// The backup set made for this run: copies of the files replaced, and a manifest
    /// naming the files created (so a rollback can remove them).
    pub backup: Option<PathBuf>,
    pub written: Vec<PathBuf>,
}

/// Fault injection for tests: fails the Nth filesystem step of an apply (backup writes,
/// temp file creation, write, chmod, fsync, rename, directory fsync), so every failure point
/// can be shown to leave the tree as it was. `Faults::default()` is what real runs use.
#[derive(Debug, Default)]
pub struct Faults {
    fail_at: Option<usize>,
    pause_at: Option<usize>,
    /// How long the pause lasts (600 s: until killed; shorter to let a run go on).
    pause_secs: u64,
    count: Cell<usize>,
}

/// Test hook: makes a real process stop at a given step, announce it on stderr and wait to
/// be killed, so crash tests can SIGKILL it at an exact point. A deliberately unwieldy name.
pub const PAUSE_ENV: &str = "GATEROUTER_SETUP_TEST_PAUSE_AT_STEP";
/// Test hook: how long that pause lasts, in seconds (default 600).
pub const PAUSE_SECS_ENV: &str = "GATEROUTER_SETUP_TEST_PAUSE_SECS";

/// Where a pause is announced: set once by the CLI (the printer), so this layer never
/// writes to a terminal and a library caller's pause is silent.
static PAUSE_ANNOUNCE: std::sync::OnceLock<fn(&str)> = std::sync::OnceLock::new();

/// Sets where the crash-test pause is announced (the first call wins).
pub fn announce_pauses(to: fn(&str)) {
    let _ = PAUSE_ANNOUNCE.set(to);
}

impl Faults {
    pub fn fail_at(n: usize) -> Self {
        Faults {
            fail_at: Some(n),
            ..Faults::default()
        }
    }

    /// Real runs: no faults, unless the crash-test hook is set in the environment.
    pub fn from_env() -> Self {
        Faults {
            pause_at: std::env::var(PAUSE_ENV).ok().and_then(|v| v.parse().ok()),
            pause_secs: std::env::var(PAUSE_SECS_ENV)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(600),
            ..Faults::default()
        }
    }

    /// How many steps ran (to size a sweep over every failure point).
    pub fn steps(&self) -> usize {
        self.count.get()
    }

    fn step(&self, what: &str) -> std::io::Result<()> {
        let n = self.count.get() + 1;
        self.count.set(n);
        if self.fail_at == Some(n) {
            return Err(std::io::Error::other(format!(
                "injected fault at step {n} ({what})"
            )));
        }
        if self.pause_at == Some(n) {
            if let Some(announce) = PAUSE_ANNOUNCE.get() {
                announce(&format!(
                    "gaterouter-setup: test pause at step {n} ({what})"
                ));
            }
            std::thread::sleep(Duration::from_secs(self.pause_secs));
        }
        Ok(())
    }
}

/// How an apply runs. `Default` is what real runs use.
#[derive(Debug)]
pub struct ApplyOptions {
    /// How long to wait for another gaterouter-setup, or OpenClaw itself, to finish writing.
    pub lock_timeout: Duration,
    /// Recorded in the backup manifest.
    pub kind: RunKind,
    pub faults: Faults,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            lock_timeout: Duration::from_secs(10),
            kind: RunKind::Setup,
            faults: Faults::default(),
        }
    }
}

/// OpenClaw holds `openclaw.json.lock` while it writes its config; a lock file older than
/// this is left over from a crash, not a writer at work.
const OPENCLAW_LOCK_FRESH: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

/// Holds `<root>/.gaterouter.lock` for as long as it lives, and removes it when dropped, so
/// no lock file is left in the root.
///
/// Removing a lock file is safe only together with the check in [`lock`]: a run waiting on
/// the file we unlink gets the flock of an inode no path names any more, sees that, and
/// opens the path again (creating a new file). Without the check it would hold that orphan
/// lock while a third run locks the new file: two holders.
struct Lock {
    file: File,
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Unlinked while still held (the flock is released when `file` closes after this),
        // and only if the path is still our file.
        if same_file(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Whether `path` (not followed if a link) names the file `file` has open.
fn same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Takes our lock, waiting up to `timeout` for another run to finish; then waits (within the
/// same budget) while OpenClaw's own config lock is fresh.
fn lock(root: &Path, config: &Path, timeout: Duration) -> Result<Lock> {
    let path = root.join(LOCK_FILE);
    let start = Instant::now();
    // Never through a symlink: a planted link would make us truncate its target.
    let open = || {
        crate::sys::fsx::open_owned_file(&path).map_err(|e| Error::Unreadable {
            path: path.clone(),
            what: e.to_string(),
        })
    };
    let mut file = open()?;
    loop {
        match file.try_lock() {
            // The run before us may have removed the file as it finished (see `Lock`): the
            // lock counts only if the path still names the file we locked.
            Ok(()) if same_file(&file, &path) => break,
            Ok(()) => file = open()?,
            Err(TryLockError::WouldBlock) if start.elapsed() < timeout => std::thread::sleep(POLL),
            Err(TryLockError::WouldBlock) => {
                // Only a pid is ever written there: anything else is not shown.
                let mut text = String::new();
                let _ = (&file).take(32).read_to_string(&mut text);
                let holder = Some(text.trim().to_owned())
                    .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
                return Err(Error::Locked {
                    path,
                    holder,
                    waited_secs: start.elapsed().as_secs(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
    }
    // From here on an early return drops the lock, which removes the file.
    let mut held = Lock {
        file,
        path: path.clone(),
    };
    // The pid is for the next run's message (and a person looking); the lock is the flock.
    let _ = held.file.set_len(0);
    let _ = writeln!(held.file, "{}", std::process::id());

    let theirs = config.with_file_name(format!(
        "{}.lock",
        config
            .file_name()
            .map_or("openclaw.json".into(), |n| n.to_string_lossy())
    ));
    loop {
        // Fresh means modified within the window on either side of now: a clock that jumped,
        // or a file stamped in the future, must not block us forever.
        let fresh = std::fs::symlink_metadata(&theirs)
            .and_then(|m| m.modified())
            .is_ok_and(|t| {
                t.elapsed().unwrap_or_else(|ahead| ahead.duration()) < OPENCLAW_LOCK_FRESH
            });
        if !fresh {
            break;
        }
        if start.elapsed() >= timeout {
            return Err(Error::OpenClawBusy {
                path: theirs,
                waited_secs: start.elapsed().as_secs(),
            });
        }
        std::thread::sleep(POLL);
    }
    Ok(held)
}

/// Writes the plan. Nothing is written when the config is read-only, the lock is held, or a
/// file changed since it was planned; a failure mid-way restores what was already replaced.
pub fn apply(plan: &Plan, env: &Env) -> Result<Applied> {
    apply_with(plan, env, &ApplyOptions::default())
}

/// [`apply`] with options (lock timeout, fault injection).
pub fn apply_with(plan: &Plan, env: &Env, opts: &ApplyOptions) -> Result<Applied> {
    apply_staged(plan, env, opts, None)
}

/// A step between the two stages of [`apply_staged`]; its `Err` is why it failed.
pub type Between<'a> = &'a dyn Fn() -> std::result::Result<(), String>;

/// [`apply_with`], in two stages when `between` is given: `.env` first, then `between`
/// (the running Gateway's restart, so it reads the key), then the other files (the config
/// that switches it to the key). One lock, one backup set, one transaction: when `between`
/// fails, `.env` is restored too and nothing is left changed.
pub fn apply_staged(
    plan: &Plan,
    env: &Env,
    opts: &ApplyOptions,
    between: Option<Between>,
) -> Result<Applied> {
    if let Some(var) = env.readonly_var() {
        return Err(Error::ReadOnly { var });
    }
    let mut pending: Vec<&FileChange> = plan.pending().collect();
    if between.is_some() {
        // Stable: the files keep their order within each stage.
        pending.sort_by_key(|f| f.kind != FileKind::Env);
    }
    let first_stage = pending
        .iter()
        .take_while(|f| between.is_some() && f.kind == FileKind::Env)
        .count();
    if pending.is_empty() {
        return Ok(Applied::default());
    }
    let config = plan
        .files
        .iter()
        .find(|f| f.kind == FileKind::Config)
        .map_or_else(|| plan.root.join("openclaw.json"), |f| f.target.clone());
    let _lock = lock(&plan.root, &config, opts.lock_timeout)?;
    // From here to the end the root is being changed: Ctrl-C or SIGTERM waits until every
    // file is written or restored (see `signals`).
    let Some(_critical) = crate::sys::signals::Critical::enter() else {
        return Err(Error::Interrupted {
            root: plan.root.clone(),
        });
    };
    recheck(plan, &pending, opts.kind)?;
    let new_dirs = dirs_to_create(&pending);
    let backup = backup_for(plan, &pending, &new_dirs, opts)?;
    // OpenClaw's side of the config write (see `health`): what its next load compares the
    // new config with must be the new config, whatever its size.
    let health = HealthStep::prepare(plan);
    let mut txn = Txn {
        root: &plan.root,
        pending: &pending,
        new_dirs,
        backup,
        health: health.as_ref(),
        rotation: None,
        faults: &opts.faults,
        done: 0,
    };
    txn.write_all(first_stage, between)?;
    remove_emptied_dirs(&plan.root, &pending);
    // Only after success: a failed run keeps every set it might need.
    if let Some(set) = &txn.backup {
        prune_backups(&plan.root, KEEP_BACKUPS, set);
    }
    Ok(Applied {
        backup: txn.backup,
        written: pending.iter().map(|f| f.path.clone()).collect(),
    })
}

/// Under the lock, before anything is written: the files are still writable and still what
/// the plan was made from, and what killed runs left (temp files, partial sets) is gone.
fn recheck(plan: &Plan, pending: &[&FileChange], kind: RunKind) -> Result<()> {
    // Read-only files refuse here too, not only in the run (a caller may plan and apply
    // itself); rollback puts back what was there, whatever its mode.
    if kind != RunKind::Rollback {
        check_writable(plan)?;
    }
    sweep_temp_files(pending);
    // Refused before anything is written when it is a link or not ours.
    if let Some(base) = backup::checked_base(&plan.root)? {
        backup::sweep_partial(&base);
    }
    for f in pending {
        unchanged_since_plan(f).map_err(|e| match e.kind() {
            std::io::ErrorKind::Other => Error::ChangedOnDisk {
                path: f.path.clone(),
            },
            _ => Error::io(&f.path, e),
        })?;
    }
    Ok(())
}

/// The run's backup set, recording the directories it creates, so that a rollback removing
/// the files in them can remove them too (only ours, only when empty). One that cannot be
/// written (disk full, ...) is a failed write like any other (exit 4): nothing has been
/// replaced yet, and the message says so.
fn backup_for(
    plan: &Plan,
    pending: &[&FileChange],
    new_dirs: &[PathBuf],
    opts: &ApplyOptions,
) -> Result<Option<PathBuf>> {
    let mut meta = plan.meta.clone();
    let created: Vec<serde_json::Value> = new_dirs
        .iter()
        .filter_map(|d| d.strip_prefix(&plan.root).ok())
        .map(|d| d.to_string_lossy().into_owned().into())
        .collect();
    if !created.is_empty() {
        meta.insert(CREATED_DIRS.into(), created.into());
    }
    backup(&plan.root, pending, opts.kind, meta, &opts.faults).map_err(|e| match e {
        Error::Io { path, source } => Error::ApplyFailed {
            failed: path,
            source,
            restored: Vec::new(),
            restore_errors: Vec::new(),
            backup: None,
        },
        other => other,
    })
}

/// The writing part of one apply, and what undoing it needs.
struct Txn<'a> {
    root: &'a Path,
    pending: &'a [&'a FileChange],
    new_dirs: Vec<PathBuf>,
    backup: Option<PathBuf>,
    health: Option<&'a HealthStep>,
    rotation: Option<ring::Rotation>,
    faults: &'a Faults,
    /// How many of `pending` may have been replaced: each counts from before its write,
    /// since the step that fails may come after its rename.
    done: usize,
}

impl Txn<'_> {
    /// Every file in turn, with `between` after the first `first_stage` (`.env`); then the
    /// directories synced and the config recorded in OpenClaw's health state.
    fn write_all(&mut self, first_stage: usize, between: Option<Between>) -> Result<()> {
        let pending = self.pending;
        for (i, f) in pending.iter().enumerate() {
            if i == first_stage
                && let Some(step) = between
            {
                let staged = pending[..i].iter().map(|f| parent_dir(&f.target));
                sync_dirs(staged, self.faults).map_err(|source| self.undo(self.root, source))?;
                self.between(i, step)?;
            }
            self.done = i + 1;
            self.write(f)?;
        }
        sync_dirs(pending.iter().map(|f| parent_dir(&f.target)), self.faults)
            .map_err(|source| self.undo(self.root, source))?;
        if let Some(h) = self.health {
            h.record(self.faults)
                .map_err(|source| self.undo(&h.store_path, source))?;
        }
        // Only `.env` changes (a new key): the step comes after it.
        match between {
            Some(step) if first_stage == pending.len() => self.between(first_stage, step),
            _ => Ok(()),
        }
    }

    /// Runs the step between the stages, once the first `staged` files are on disk.
    fn between(&mut self, staged: usize, step: Between) -> Result<()> {
        let at = self.pending[..staged].last().map_or(self.root, |f| &f.path);
        step().map_err(|why| self.undo(at, std::io::Error::other(why)))
    }

    /// One file; for the config, OpenClaw's `.bak` ring turns and an early record is made
    /// first, as OpenClaw's writer turns it right before the new config goes in.
    fn write(&mut self, f: &FileChange) -> Result<()> {
        let faults = self.faults;
        if let Some(h) = self.health.filter(|h| h.config == f.path) {
            if let Some(before) = &f.before
                && ring::slot(&f.path, 0).is_file()
            {
                let rotated = faults.step("rotate OpenClaw's .bak ring").and_then(|()| {
                    ring::rotate(&f.path, before, &|p, b, m| write_file(p, b, m, faults))
                });
                self.rotation = Some(rotated.map_err(|source| self.undo(&f.path, source))?);
            }
            h.pre_record(faults)
                .map_err(|source| self.undo(&h.store_path, source))?;
        }
        write_one(f, faults).map_err(|source| self.undo(&f.path, source))
    }

    /// Undoes a partial apply: every file back as it was, directories we created removed,
    /// OpenClaw's ring turned back and an early record put back.
    fn undo(&mut self, failed: &Path, source: std::io::Error) -> Error {
        let (restored, restore_errors) = restore(&self.pending[..self.done]);
        for d in &self.new_dirs {
            let _ = std::fs::remove_dir(d);
        }
        if let Some(r) = self.rotation.take() {
            let none = Faults::default();
            let _ = r.undo(&|p, b, m| write_file(p, b, m, &none));
        }
        if let Some(h) = self.health {
            h.put_back();
        }
        Error::ApplyFailed {
            failed: failed.to_path_buf(),
            source,
            restored,
            restore_errors,
            backup: self.backup.clone(),
        }
    }
}

/// Recording the new config in OpenClaw's health state (see `health::store`), last in the
/// transaction, after every file is on disk.
struct HealthStep {
    config: PathBuf,
    after: Vec<u8>,
    store: Option<store::Store>,
    store_path: PathBuf,
    /// Without the record OpenClaw's next load would find the new config suspicious: a
    /// failed record fails the transaction. Otherwise the record is a courtesy (OpenClaw
    /// would record it itself) and a busy database is no reason to undo the run.
    needed: bool,
    /// Record before the rename too (see [`HealthStep::pre_record`]): the write needs the
    /// record, and the file it replaces is no clobber next to the new one.
    early: bool,
    /// The rows as they were before an early record, to put back if the run fails.
    recorded_early: std::cell::RefCell<Option<store::Before>>,
}

impl HealthStep {
    fn prepare(plan: &Plan) -> Option<HealthStep> {
        let f = health::config_change(&plan.files)?;
        let after = f.after.clone()?;
        let (store, store_path) = match store::open(&plan.root) {
            store::Availability::Ready(s) => {
                let p = s.path.clone();
                (Some(s), p)
            }
            store::Availability::Missing(p) | store::Availability::Unusable { path: p, .. } => {
                (None, p)
            }
        };
        // What OpenClaw would compare the new file with if we recorded nothing: its row's
        // baseline, else the `.bak` our rotation leaves (the file we replace).
        let new = Baseline::from(&fingerprint::of_file(&f.path, &after, None));
        let parsed = fingerprint::parsed(&after);
        let baseline = health::current_baseline(store.as_ref(), &f.path).unwrap_or_else(|_| {
            // Unreadable now (busy): assume the record matters.
            Some(Baseline {
                bytes: u64::MAX,
                has_meta: true,
                gateway_mode: Some(String::new()),
            })
        });
        let after_rotation = f
            .before
            .as_deref()
            .filter(|_| ring::slot(&f.path, 0).is_file())
            .map(fingerprint::of_backup);
        let needed = [baseline, after_rotation]
            .iter()
            .flatten()
            .any(|b| !fingerprint::suspicious(b, &new, &parsed).is_empty());
        // A load of the old file between an early record and our rename compares it with
        // the new file: safe when the old one is no clobber of the new (a shrinking write).
        let early = needed
            && store.is_some()
            && f.before.as_deref().is_some_and(|old| {
                let old_parsed = fingerprint::parsed(old);
                let old_fp = fingerprint::of_file(&f.path, old, None);
                fingerprint::suspicious(&new, &Baseline::from(&old_fp), &old_parsed).is_empty()
            });
        Some(HealthStep {
            config: f.path.clone(),
            after,
            store,
            store_path,
            needed,
            early,
            recorded_early: std::cell::RefCell::new(None),
        })
    }

    /// A running Gateway reloads the config 300 ms after it changes (2026.9.6's fixed
    /// debounce) and restores `.bak` over one it finds suspicious: a write that needs the
    /// record (a shrink) is recorded before its rename as well, so no load ever sees the new
    /// file against the old baseline. The stat fields are filled in by [`HealthStep::record`].
    fn pre_record(&self, faults: &Faults) -> std::io::Result<()> {
        let Some(store) = self.store.as_ref().filter(|_| self.early) else {
            return Ok(());
        };
        let step = "record in OpenClaw's health state before the rename";
        let before = self.record_in(store, None, step, faults)?;
        *self.recorded_early.borrow_mut() = Some(before);
        Ok(())
    }

    /// Undoes an early record (the run failed after it).
    fn put_back(&self) {
        if let (Some(store), Some(before)) = (&self.store, self.recorded_early.borrow_mut().take())
        {
            let _ = store.put_back(&before);
        }
    }

    fn record(&self, faults: &Faults) -> std::io::Result<()> {
        let Some(store) = &self.store else {
            // Nothing to write to: the plan said what OpenClaw will do (`health::would_undo`).
            return Ok(());
        };
        let stat = std::fs::metadata(&self.config).ok();
        match self.record_in(
            store,
            stat.as_ref(),
            "record in OpenClaw's health state",
            faults,
        ) {
            // Recorded before the rename already: the baseline is right without the stat.
            Err(e) if self.needed && self.recorded_early.borrow().is_none() => Err(e),
            _ => Ok(()),
        }
    }

    /// The new config (with `stat`, once it is on disk) as OpenClaw's last-known-good, after
    /// the fault step `step`; the rows as they were.
    fn record_in(
        &self,
        store: &store::Store,
        stat: Option<&std::fs::Metadata>,
        step: &str,
        faults: &Faults,
    ) -> std::io::Result<store::Before> {
        let fp = fingerprint::of_file(&self.config, &self.after, stat);
        let json = serde_json::to_string(&fp).expect("a fingerprint serialises");
        faults.step(step)?;
        store
            .record(&self.config, &json, health::now_ms())
            .map_err(|e| {
                std::io::Error::other(format!(
                    "could not record the new config as OpenClaw's last-known-good: {e}"
                ))
            })
    }
}

/// Directories that new files need and that do not exist yet, deepest first, so a failure
/// can remove them again.
fn dirs_to_create(pending: &[&FileChange]) -> Vec<PathBuf> {
    let mut new_dirs: Vec<PathBuf> = Vec::new();
    for f in pending.iter().filter(|f| f.is_new()) {
        let mut d = f.target.parent();
        while let Some(dir) = d.filter(|d| !d.exists()) {
            if !new_dirs.iter().any(|n| n == dir) {
                new_dirs.push(dir.to_path_buf());
            }
            d = dir.parent();
        }
    }
    new_dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    new_dirs
}

/// After files were removed (a rollback of a setup that created them): each directory
/// above them that a setup run recorded creating, and that is now empty, is removed too,
/// deepest first. A directory that existed before setup is never in that record, and
/// `remove_dir` refuses one that holds anything, so nothing of the user's goes.
fn remove_emptied_dirs(root: &Path, pending: &[&FileChange]) {
    let created = backup::dirs_created_by_setup(root);
    if created.is_empty() {
        return;
    }
    for f in pending.iter().filter(|f| f.after.is_none()) {
        let mut d = f.target.parent();
        while let Some(dir) = d.filter(|d| *d != root && d.starts_with(root)) {
            let rel = dir.strip_prefix(root).unwrap_or(dir);
            if !created.iter().any(|c| Path::new(c) == rel) || std::fs::remove_dir(dir).is_err() {
                break;
            }
            d = dir.parent();
        }
    }
}

/// Backup sets kept; older ones are removed after each successful apply.
pub const KEEP_BACKUPS: usize = 10;

/// Removes all but the newest `keep` complete backup sets, oldest first by their name's
/// key (not as text: an older version's `…Z-10` sorts after `…Z-2`). The set this run just
/// made and announced is never removed, whatever the clock says. Only real directories named
/// like a set are considered, so nothing else in the directory is touched. Best effort: a
/// set that cannot be removed costs disk space, not correctness.
fn prune_backups(root: &Path, keep: usize, just_made: &Path) {
    let Ok(Some(base)) = backup::checked_base(root) else {
        return;
    };
    let Ok(entries) = backup::set_entries(&base) else {
        return;
    };
    let sets: Vec<_> = entries
        .into_iter()
        .filter(|e| backup::is_complete(&e.dir))
        .collect();
    let excess = sets.len().saturating_sub(keep.max(1));
    for old in sets[..excess].iter().filter(|e| e.dir != just_made) {
        let _ = std::fs::remove_dir_all(&old.dir);
    }
}

/// Removes temp files a killed run left beside the files we write. Safe: we hold the lock,
/// so no other gaterouter-setup is writing, and the names are ours alone.
fn sweep_temp_files(pending: &[&FileChange]) {
    let mut dirs: Vec<&Path> = pending.iter().filter_map(|f| f.target.parent()).collect();
    dirs.dedup();
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(d) else {
            continue;
        };
        for e in entries.flatten() {
            // Only what we create: our prefix, tempfile's six random characters, a regular
            // file (never a link or a directory someone named alike).
            let name = e.file_name();
            let ours = name
                .to_str()
                .and_then(|n| n.strip_prefix(TEMP_PREFIX))
                .is_some_and(|r| r.len() == 6 && r.bytes().all(|b| b.is_ascii_alphanumeric()));
            if ours && e.file_type().is_ok_and(|t| t.is_file()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

const TEMP_PREFIX: &str = ".gaterouter-tmp-";

/// Copies every existing file about to change into a new backup set under
/// `<root>/.gaterouter-backup/`, with a manifest saying which files existed (so a rollback
/// also removes files we created), where each was written and what (so a rollback can tell
/// an edit made since). The set is built under a partial name and renamed to its final name
/// only when complete, and that rename is on disk before any original is replaced.
fn backup(
    root: &Path,
    pending: &[&FileChange],
    kind: RunKind,
    meta: serde_json::Map<String, serde_json::Value>,
    faults: &Faults,
) -> Result<Option<PathBuf>> {
    let base = root.join(BACKUP_DIR);
    let base_is_new = backup::checked_base(root)?.is_none();
    create_private_dir(&base)?;
    // Checked again now that it exists (something may have raced us to the name).
    backup::checked_base(root)?;
    let mut taken: Vec<SetName> = backup::set_entries(&base)?
        .into_iter()
        .map(|e| e.key)
        .collect();
    taken.extend(backup::partials(&base).into_iter().map(|(key, _)| key));
    let name = SetName::next(&taken, SystemTime::now()).to_string();
    let dir = base.join(format!("{}{name}", backup::PARTIAL_PREFIX));
    let done = base.join(&name);
    create_private_dir(&dir)?;
    let mut written: Vec<PathBuf> = Vec::new();
    for f in pending {
        let Some(before) = &f.before else { continue };
        let dest = dir.join(backup_name(&f.rel));
        if let Some(parent) = dest.parent() {
            create_private_dir(parent)?;
        }
        // Backups of .env hold the key: never looser than 0600 whatever the original was.
        let mode = f.kind.spec().backup_mode(f.mode_before);
        write_file(&dest, before, mode, faults).map_err(|e| Error::io(&dest, e))?;
        written.push(dest);
    }
    let mpath = dir.join("manifest.json");
    let manifest = Manifest {
        version: backup::MANIFEST_VERSION,
        kind,
        files: pending.iter().map(|f| manifest_entry(f)).collect(),
        meta,
    };
    // Only a path that is not UTF-8 fails (JSON has no way to record it).
    let manifest = manifest
        .to_bytes()
        .map_err(|e| Error::io(&mpath, std::io::Error::other(e)))?;
    // The copies must be on disk before any original is replaced. Until the rename below
    // the set is partial (a later run sweeps it), so its files need not be on disk in any
    // order among themselves: copies, manifest and their directories are synced once, then
    // the rename that names the set, then the backup directory holding it (and the root's
    // entry for the backup directory when this run made it).
    write_file(&mpath, &manifest, 0o600, faults).map_err(|e| Error::io(&mpath, e))?;
    // Every directory from a copy up to the set: `agents/` and `agents/main/` hold the
    // entries on the way to `agents/main/agent/models.json` as much as its own directory.
    let dirs = written
        .iter()
        .flat_map(|p| p.ancestors().skip(1).take_while(|a| a.starts_with(&dir)))
        .chain([dir.as_path()]);
    sync_dirs(dirs, faults).map_err(|e| Error::io(&dir, e))?;
    faults
        .step("name the backup set")
        .map_err(|e| Error::io(&done, e))?;
    // Under our lock the name is new; a rename onto an existing empty directory would
    // succeed silently, so make sure nothing appeared there.
    if std::fs::symlink_metadata(&done).is_ok() {
        return Err(Error::Unreadable {
            path: done,
            what: "appeared while the backup was being made (another program is writing there)"
                .into(),
        });
    }
    std::fs::rename(&dir, &done).map_err(|e| Error::io(&done, e))?;
    sync_dirs([base.as_path()], faults).map_err(|e| Error::io(&base, e))?;
    if base_is_new {
        sync_dirs([root], faults).map_err(|e| Error::io(root, e))?;
    }
    Ok(Some(done))
}

/// What the manifest records of a file: where it was written, and what was there before.
fn manifest_entry(f: &FileChange) -> ManifestFile {
    ManifestFile {
        path: f.rel.clone(),
        kind: Some(f.kind),
        backup: Some(backup_name(&f.rel)),
        existed: !f.is_new(),
        mode: f.mode_before.map(|m| format!("{m:o}")),
        target: Some(backup::resolved(&f.target)),
        written: Some(Written {
            sha256: f.after.as_deref().map(backup::sha256_hex),
        }),
    }
}

/// 0700 whatever the umask, owned like the directory it is made in (see `fsx`).
fn create_private_dir(dir: &Path) -> Result<()> {
    crate::sys::fsx::create_dirs(dir)
        .map(drop)
        .map_err(|e| Error::io(dir, e))
}

/// The file is still what the plan was made from: the same bytes, a regular file (or still
/// absent), and a symlink still pointing where it pointed. An `Other` error means it changed.
fn unchanged_since_plan(f: &FileChange) -> std::io::Result<()> {
    let changed = || std::io::Error::other("changed on disk since the plan was made");
    let relinked = if f.symlink {
        std::fs::canonicalize(&f.path).ok().as_ref() != Some(&f.target)
    } else {
        std::fs::symlink_metadata(&f.path).is_ok_and(|m| m.file_type().is_symlink())
    };
    if relinked {
        return Err(changed());
    }
    match crate::sys::fsx::read_regular(&f.target, crate::openclaw::root::MAX_FILE) {
        Ok(now) if now.as_ref().map(|(b, _)| b) == f.before.as_ref() => Ok(()),
        Err(crate::sys::fsx::ReadError::Io(e)) => Err(e),
        _ => Err(changed()),
    }
}

fn write_one(f: &FileChange, faults: &Faults) -> std::io::Result<()> {
    let Some(after) = &f.after else {
        faults.step("remove")?;
        unchanged_since_plan(f)?;
        return std::fs::remove_file(&f.target);
    };
    if !f.content_changed() {
        faults.step("chmod")?;
        // Only the mode changes (a loose .env): no need to rewrite the bytes.
        return std::fs::set_permissions(&f.target, std::fs::Permissions::from_mode(f.mode_after));
    }
    if let Some(parent) = f.target.parent()
        && !parent.exists()
    {
        faults.step("create directory")?;
        crate::sys::fsx::create_dirs(parent)?;
    }
    // Checked again right before the rename, so a writer that ignores OpenClaw's lock has
    // the smallest window in which its update could be lost.
    write_file_checked(&f.target, after, f.mode_after, faults, &|| {
        unchanged_since_plan(f)
    })
}

/// [`write_file_checked`] with nothing to re-check (backups, restores).
fn write_file(path: &Path, bytes: &[u8], mode: u32, faults: &Faults) -> std::io::Result<()> {
    write_file_checked(path, bytes, mode, faults, &|| Ok(()))
}

/// Temp file beside `path`, with the owner of the file it replaces (or of the directory, for
/// a new file) when we are root, fsync, `check`, rename over `path`: a reader sees the old or
/// the new file, never a torn one. The rename is made durable by `sync_dirs` on the
/// directory, once per directory per phase.
fn write_file_checked(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    faults: &Faults,
    check: &dyn Fn() -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = parent_dir(path);
    let owner = std::fs::metadata(path)
        .or_else(|_| std::fs::metadata(dir))
        .ok()
        .map(|m| (m.uid(), m.gid()));
    faults.step("create temp file")?;
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)?;
    faults.step("write")?;
    tmp.write_all(bytes)?;
    faults.step("chmod")?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    if let Some((uid, gid)) = owner {
        // Running as root on a user's files must not leave them owned by root.
        crate::sys::fsx::own_as(tmp.as_file(), uid, gid);
    }
    faults.step("fsync")?;
    tmp.as_file().sync_all()?;
    check()?;
    faults.step("rename")?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// fsyncs each directory once (renames and new entries in it become durable).
fn sync_dirs<'a>(dirs: impl IntoIterator<Item = &'a Path>, faults: &Faults) -> std::io::Result<()> {
    let mut seen: Vec<&Path> = Vec::new();
    for d in dirs {
        if seen.contains(&d) {
            continue;
        }
        seen.push(d);
        faults.step("fsync directory")?;
        File::open(d)?.sync_all()?;
    }
    Ok(())
}

/// Puts back files that may have been replaced: old bytes and mode, or removal of a file we
/// created. A file still as it was is left alone (and not reported).
fn restore(done: &[&FileChange]) -> (Vec<PathBuf>, Vec<String>) {
    let mut restored = Vec::new();
    let mut errors = Vec::new();
    let none = Faults::default();
    for f in done.iter().rev() {
        let now = std::fs::read(&f.target).ok();
        let mode_now = std::fs::metadata(&f.target)
            .ok()
            .map(|m| m.permissions().mode() & 0o7777);
        if now == f.before && (f.before.is_none() || mode_now == f.mode_before) {
            continue;
        }
        let r = match (&f.before, f.mode_before) {
            (Some(b), m) => write_file(&f.target, b, m.unwrap_or(0o600), &none),
            (None, _) => std::fs::remove_file(&f.target),
        };
        match r {
            Ok(()) => restored.push(f.path.clone()),
            Err(e) => errors.push(format!("{}: {e}", f.path.display())),
        }
    }
    // A directory the failed run never got to create has nothing to sync.
    if let Err(e) = sync_dirs(
        done.iter()
            .map(|f| parent_dir(&f.target))
            .filter(|d| d.exists()),
        &none,
    ) {
        errors.push(format!("syncing the restored files to disk: {e}"));
    }
    (restored, errors)
}

/// Refuses a plan that would write a file (or create one in a directory) marked read-only:
/// as root the write would succeed anyway, overriding a protection someone set on purpose.
/// The run checks this right after planning (so a dry run says it too), uninstall likewise;
/// rollback does not (it puts back what was there).
pub fn check_writable(plan: &Plan) -> Result<()> {
    plan.pending().try_for_each(file_writable)
}

/// One file of [`check_writable`]: its own mode, or the nearest existing directory's.
fn file_writable(f: &FileChange) -> Result<()> {
    if let Some(mode) = f.mode_before
        && mode & 0o200 == 0
    {
        return Err(Error::Unreadable {
            path: f.path.clone(),
            what: format!(
                "is read-only (mode {mode:o}); make it writable (chmod u+w) if it should be changed, nothing was written"
            ),
        });
    }
    let mut dir = f.target.parent();
    while let Some(d) = dir {
        match std::fs::metadata(d) {
            Ok(m) if m.permissions().mode() & 0o200 == 0 => {
                return Err(Error::Unreadable {
                    path: d.to_path_buf(),
                    what: format!(
                        "is a read-only directory (mode {:o}); {} cannot be written there, nothing was written",
                        m.permissions().mode() & 0o7777,
                        f.rel
                    ),
                });
            }
            // Writes go to a temp file beside the target, renamed over it: the directory
            // must be writable by whoever this run is (after a switch, the root's owner).
            Ok(_) => return dir_writable_by_us(d, f),
            Err(_) => dir = d.parent(),
        }
    }
    Ok(())
}

/// `dir` is writable by this process (`access(2)`: the real ids, which a switch to the
/// root's owner sets too), or the plan is refused before anything is written.
fn dir_writable_by_us(dir: &Path, f: &FileChange) -> Result<()> {
    match rustix::fs::access(dir, rustix::fs::Access::WRITE_OK) {
        Err(e) if e == rustix::io::Errno::ACCESS || e == rustix::io::Errno::PERM => {
            let who = crate::sys::privilege::current().map_or_else(
                || format!("uid {}", rustix::process::getuid().as_raw()),
                |a| format!("{}, the owner of the root, as whom this run acts", a.who()),
            );
            Err(Error::Unreadable {
                path: dir.to_path_buf(),
                what: format!(
                    "is not writable by {who}, so {} cannot be written there: a symlink (or OPENCLAW_CONFIG_PATH) may lead a file where its owner cannot write, but nothing writes there for the owner",
                    f.rel
                ),
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Runs that take the lock, remove it as they finish, and take it again, never hold it
    /// at the same time, and no lock file is left behind. Without the check that the path
    /// still names the locked file, a waiter on an unlinked file overlaps the next run.
    #[test]
    fn the_lock_excludes_even_though_each_holder_removes_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let config = root.join("openclaw.json");
        let inside = AtomicUsize::new(0);
        let overlaps = AtomicUsize::new(0);
        let taken = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    for _ in 0..40 {
                        let held = lock(root, &config, Duration::from_secs(60)).unwrap();
                        if inside.fetch_add(1, Ordering::SeqCst) != 0 {
                            overlaps.fetch_add(1, Ordering::SeqCst);
                        }
                        std::thread::sleep(Duration::from_micros(300));
                        inside.fetch_sub(1, Ordering::SeqCst);
                        taken.fetch_add(1, Ordering::SeqCst);
                        drop(held);
                    }
                });
            }
        });
        assert_eq!(taken.load(Ordering::SeqCst), 240);
        assert_eq!(overlaps.load(Ordering::SeqCst), 0, "two holders at once");
        assert!(!root.join(LOCK_FILE).exists(), "the lock file was left");
    }
}
