//! Backup sets: what they are called, where they live, what their manifest says, and how
//! they are read. This module alone decides what counts as a set, so setup (writing,
//! pruning, sweeping) and rollback (listing, reading) agree, and nothing else a user keeps
//! under `.gaterouter-backup` is ever touched.
//!
//! Every path in here is opened without following symlinks: the backup directory, a set,
//! its manifest and its copies must be what this tool made (a real directory or regular
//! file), or they are refused, loudly.

use std::fmt;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::openclaw::files::FileKind;

/// The directory under the root that holds the backup sets.
pub const BACKUP_DIR: &str = ".gaterouter-backup";

/// A set is built under this prefix and renamed to its final name once its manifest is on
/// disk, so a final name always means a complete set, and a killed run leaves a directory
/// the next run recognises as its own leftover (and nothing else is ever swept).
pub const PARTIAL_PREFIX: &str = ".gaterouter-partial-";

/// Manifests are a few KB; anything this large is not one of ours.
const MAX_MANIFEST: u64 = 4_000_000;

/// The order of a set: its UTC second, then a sequence number within it. Set names are
/// `20261124T182745Z-000001`: fixed-width, so the names sort the same way as text (`ls`) and
/// as keys. Names of older versions (`…Z`, `…Z-2`, `…Z-10`) parse too, and sort by number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SetName {
    stamp: String,
    seq: u64,
}

impl SetName {
    /// The key of a directory name, or `None` when the name is not one this tool gives.
    pub fn parse(name: &str) -> Option<SetName> {
        let (stamp, seq) = match name.split_once('-') {
            Some((s, n)) => {
                if n.is_empty() || n.len() > 18 || !n.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let seq: u64 = n.parse().ok()?;
                if seq == 0 {
                    return None;
                }
                (s, seq)
            }
            // The first set of a second, as older versions named it.
            None => (name, 0),
        };
        let b = stamp.as_bytes();
        let shape = b.len() == 16
            && b[8] == b'T'
            && b[15] == b'Z'
            && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit);
        shape.then(|| SetName {
            stamp: stamp.to_owned(),
            seq,
        })
    }

    /// The name for a new set: later than every existing one (so the newest set is always
    /// the last one made, even when the clock stepped back), and therefore never a name that
    /// was used before while any set remains.
    pub fn next<'a>(existing: impl IntoIterator<Item = &'a SetName>, now: SystemTime) -> SetName {
        let stamp = utc_stamp(now);
        match existing.into_iter().max() {
            Some(newest) if newest.stamp >= stamp => SetName {
                stamp: newest.stamp.clone(),
                seq: newest.seq + 1,
            },
            _ => SetName { stamp, seq: 1 },
        }
    }
}

impl fmt::Display for SetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:06}", self.stamp, self.seq)
    }
}

/// `20261124T182745Z`: sortable, and safe in a file name on every platform.
pub fn utc_stamp(t: SystemTime) -> String {
    // Whole seconds: a set's order within a second is its sequence number.
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let t = time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Where a file's copy goes inside a backup set. A file outside the root (a config found
/// through OPENCLAW_CONFIG_PATH) has an absolute `rel`, and `set.join(absolute)` would be the
/// original itself: such copies go under `external/`.
pub fn backup_name(rel: &str) -> String {
    match rel.strip_prefix('/') {
        Some(abs) => format!("external/{abs}"),
        None => rel.to_owned(),
    }
}

fn refuse(path: &Path, what: impl Into<String>) -> Error {
    Error::Unreadable {
        path: path.to_path_buf(),
        what: what.into(),
    }
}

/// The backup directory, if there is one, after checking it is one this tool made: a real
/// directory (not a link to somewhere else), owned by us, root, or the root's owner, and not
/// writable by other users. Anything else is refused before a file in it is touched.
pub fn checked_base(root: &Path) -> Result<Option<PathBuf>> {
    let base = root.join(BACKUP_DIR);
    let meta = match std::fs::symlink_metadata(&base) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&base, e)),
    };
    if meta.file_type().is_symlink() {
        let to = std::fs::read_link(&base).unwrap_or_default();
        return Err(refuse(
            &base,
            format!(
                "is a symlink (to {}), not the directory gaterouter-setup made; backups are never written or cleaned up through a link. Move it away (e.g. rename it) and run again",
                to.display()
            ),
        ));
    }
    if !meta.is_dir() {
        return Err(refuse(
            &base,
            "is not a directory; gaterouter-setup keeps its backups there. Move it away and run again",
        ));
    }
    let me = rustix::process::geteuid().as_raw();
    let root_owner = std::fs::metadata(root).map(|m| m.uid()).ok();
    if meta.uid() != me && meta.uid() != 0 && Some(meta.uid()) != root_owner {
        return Err(refuse(
            &base,
            format!(
                "belongs to user id {}, neither you nor the owner of the OpenClaw root, so it was not made by gaterouter-setup; move it away and run again",
                meta.uid()
            ),
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(refuse(
            &base,
            format!(
                "is writable by other users (mode {:o}), so its backups cannot be trusted; chmod 700 it and run again",
                meta.mode() & 0o7777
            ),
        ));
    }
    Ok(Some(base))
}

/// One directory entry of the backup directory whose name is a set name.
#[derive(Debug, Clone)]
pub struct SetEntry {
    /// The directory name as it is on disk.
    pub name: String,
    pub key: SetName,
    pub dir: PathBuf,
}

/// Every entry under `base` named like a set (whatever it is), oldest first. Other names
/// are not ours and are left alone.
pub fn set_entries(base: &Path) -> Result<Vec<SetEntry>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(base).map_err(|e| Error::io(base, e))? {
        let e = e.map_err(|e| Error::io(base, e))?;
        let Some(name) = e.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if let Some(key) = SetName::parse(&name) {
            out.push(SetEntry {
                dir: e.path(),
                name,
                key,
            });
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// Every entry under `base` named [`PARTIAL_PREFIX`] followed by a set name (whatever it
/// is), with the set name it reserves: a new name is never one a leftover holds.
pub fn partials(base: &Path) -> Vec<(SetName, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(base) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let key = SetName::parse(e.file_name().to_str()?.strip_prefix(PARTIAL_PREFIX)?)?;
            Some((key, e.path()))
        })
        .collect()
}

/// Removes sets a killed run left half-built: only real directories among [`partials`]
/// (nothing a user would make), never through a link (`remove_dir_all` removes a link
/// itself, not what it points to, at every level).
pub fn sweep_partial(base: &Path) {
    for (_, dir) in partials(base) {
        if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// Whether `dir` is a real directory holding a regular `manifest.json` (a complete set).
pub fn is_complete(dir: &Path) -> bool {
    let real_dir = std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir());
    real_dir && std::fs::symlink_metadata(dir.join("manifest.json")).is_ok_and(|m| m.is_file())
}

/// What a run does. Recorded in its backup set's manifest, so a rollback never picks the
/// safety copy it made itself as the state to go back to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    /// Also the kind of a version 1 manifest, which recorded none.
    #[default]
    Setup,
    Rollback,
    Uninstall,
}

impl RunKind {
    /// The name in a manifest, `rollback --list` and the report.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Setup => "setup",
            RunKind::Rollback => "rollback",
            RunKind::Uninstall => "uninstall",
        }
    }
}

/// The version of the manifests this version writes.
pub const MANIFEST_VERSION: u32 = 2;

/// A set's `manifest.json`, written by apply and read by rollback and uninstall. Every
/// field added since version 1 has a default, so the sets older versions made still read:
/// version 1 without `kind` (setup was the only run then), `meta`, a file's `kind`,
/// `backup`, `target` or `written`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// 1: before/after copies only; 2: also each file's resolved target and what was written.
    #[serde(default = "one")]
    pub version: u32,
    #[serde(default)]
    pub kind: RunKind,
    pub files: Vec<ManifestFile>,
    /// The run's own records (setup's previous model, what it added, [`CREATED_DIRS`]).
    #[serde(default)]
    pub meta: serde_json::Map<String, serde_json::Value>,
}

fn one() -> u32 {
    1
}

/// The manifest `meta` key listing the directories a run created (relative to the root).
pub const CREATED_DIRS: &str = "created_dirs";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Relative to the root, or absolute for a config outside it (OPENCLAW_CONFIG_PATH).
    pub path: String,
    /// By its name in the table (version 2); [`ManifestFile::kind`] guesses older ones.
    #[serde(default, with = "kind_name", skip_serializing_if = "Option::is_none")]
    pub kind: Option<FileKind>,
    /// The copy's name inside the set; rollback derives it from `path` and checks this.
    #[serde(default)]
    pub backup: Option<String>,
    pub existed: bool,
    /// Octal text (`"600"`), `None` for a file that did not exist.
    pub mode: Option<String>,
    /// Where the bytes were written: the path with its directory (and a final symlink)
    /// resolved (version 2), so a rollback can tell a link that changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<PathBuf>,
    /// What the run wrote (version 2), so a rollback can tell a file edited since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written: Option<Written>,
}

impl ManifestFile {
    /// The recorded kind, or (version 1) the kind of the file at its path.
    pub fn kind(&self) -> FileKind {
        self.kind.unwrap_or_else(|| FileKind::at(&self.path))
    }
}

/// A file kind as its name in the table of managed files ([`FileKind::name`]).
mod kind_name {
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error};

    use crate::openclaw::files::FileKind;

    pub fn serialize<S: Serializer>(k: &Option<FileKind>, s: S) -> Result<S::Ok, S::Error> {
        k.map(FileKind::name).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<FileKind>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|n| {
                FileKind::from_name(&n)
                    .ok_or_else(|| D::Error::custom(format!("unknown kind {n:?}")))
            })
            .transpose()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    /// SHA-256 of the bytes written, hex; `None` when the run removed the file.
    pub sha256: Option<String>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// `target` with its directory resolved (and the file itself when it is a symlink), the
/// form recorded in a manifest and compared at rollback. A directory that does not exist
/// (yet) is kept as written.
pub fn resolved(target: &Path) -> PathBuf {
    if let Ok(t) = std::fs::canonicalize(target) {
        return t;
    }
    match (target.parent(), target.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or_else(|_| target.to_path_buf()),
        _ => target.to_path_buf(),
    }
}

/// Why a relative path from a manifest cannot be one this tool wrote, if it cannot.
pub fn bad_relative(rel: &str) -> Option<&'static str> {
    if rel.is_empty() {
        return Some("is empty");
    }
    if rel.contains('\0') {
        return Some("contains a NUL byte");
    }
    let p = Path::new(rel);
    if p.is_absolute() {
        return Some("is absolute");
    }
    if !p.components().all(|c| matches!(c, Component::Normal(_))) || rel.ends_with('/') {
        return Some("is not a plain relative path (`..`, `.` or an empty part)");
    }
    None
}

/// Reads the regular file `rel` inside the set `dir`, refusing a symlink at any level (the
/// set itself included) and anything that is not a regular file: a copy must be the one we
/// wrote, not whatever a link points to now.
pub fn read_in_set(dir: &Path, rel: &str, max: u64) -> std::result::Result<Vec<u8>, String> {
    if let Some(why) = bad_relative(rel) {
        return Err(format!("names a copy that {why} ({rel:?})"));
    }
    let mut at = dir.to_path_buf();
    let check_dir = |p: &Path| -> std::result::Result<(), String> {
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.file_type().is_symlink() => Err(format!("{} is a symlink", p.display())),
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(format!("{} is not a directory", p.display())),
            Err(e) => Err(format!("{}: {e}", p.display())),
        }
    };
    check_dir(&at)?;
    let parts: Vec<_> = Path::new(rel).components().collect();
    for (i, c) in parts.iter().enumerate() {
        at.push(c);
        if i + 1 < parts.len() {
            check_dir(&at)?;
        }
    }
    let io = |e: std::io::Error| format!("{}: {e}", at.display());
    let meta = std::fs::symlink_metadata(&at).map_err(io)?;
    if meta.file_type().is_symlink() {
        return Err(format!(
            "{} is a symlink, not the copy gaterouter-setup wrote",
            at.display()
        ));
    }
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", at.display()));
    }
    // A copy with another name elsewhere can be changed through that name: not ours.
    if meta.nlink() > 1 {
        return Err(format!(
            "{} has other hard links, so it is not the copy gaterouter-setup wrote",
            at.display()
        ));
    }
    if meta.len() > max {
        return Err(format!(
            "{} is {} bytes, too large",
            at.display(),
            meta.len()
        ));
    }
    let mut f = std::fs::File::open(&at).map_err(io)?;
    // The file opened must be the one just checked (not one swapped in between).
    let opened = f.metadata().map_err(io)?;
    if (opened.dev(), opened.ino()) != (meta.dev(), meta.ino()) {
        return Err(format!("{} changed while being read", at.display()));
    }
    let mut bytes = Vec::new();
    f.by_ref()
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Ok(bytes)
}

impl Manifest {
    /// The bytes of `manifest.json` (pretty JSON, fields in declaration order).
    pub fn to_bytes(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec_pretty(self)
    }

    /// Reads a manifest, of this version or an older one.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Manifest, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("manifest.json is not valid: {e}"))
    }
}

/// The manifest of the set `dir`, or why it cannot be used.
pub fn read_manifest(dir: &Path) -> std::result::Result<Manifest, String> {
    Manifest::from_bytes(&read_in_set(dir, "manifest.json", MAX_MANIFEST)?)
}

/// One backup set, as `rollback --list` shows it.
#[derive(Debug, Clone)]
pub struct BackupSet {
    pub dir: PathBuf,
    /// The directory name: the UTC time it was made, and its number within that second.
    pub stamp: String,
    /// `None` when the set cannot be read.
    pub kind: Option<RunKind>,
    pub files: Vec<String>,
    /// Why the set cannot be used, when it cannot.
    pub problem: Option<String>,
    pub manifest: Option<Manifest>,
}

/// Every entry of the backup directory named like a set, oldest first (by the name's
/// time and number, not as text), readable or not: a set that cannot be read is listed
/// with its problem, never silently left out.
pub fn list(root: &Path) -> Result<Vec<BackupSet>> {
    let Some(base) = checked_base(root)? else {
        return Ok(Vec::new());
    };
    let sets = set_entries(&base)?.into_iter().map(|e| {
        let (manifest, problem) = match read_manifest(&e.dir) {
            Ok(m) => (Some(m), None),
            Err(why) => (None, Some(why)),
        };
        BackupSet {
            kind: manifest.as_ref().map(|m| m.kind),
            files: manifest
                .iter()
                .flat_map(|m| m.files.iter().map(|f| f.path.clone()))
                .collect(),
            stamp: e.name,
            dir: e.dir,
            problem,
            manifest,
        }
    });
    Ok(sets.collect())
}

/// The manifests of the readable sets setup made, oldest first; none when the backup
/// directory cannot be read.
pub fn setup_manifests(root: &Path) -> Vec<Manifest> {
    let sets = list(root).unwrap_or_default().into_iter();
    sets.filter(|s| s.kind == Some(RunKind::Setup))
        .filter_map(|s| s.manifest)
        .collect()
}

/// Every directory (relative to the root) that a setup run recorded creating.
pub fn dirs_created_by_setup(root: &Path) -> Vec<String> {
    setup_manifests(root)
        .iter()
        .filter_map(|m| m.meta.get(CREATED_DIRS)?.as_array())
        .flatten()
        .filter_map(|d| d.as_str().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    #[test]
    fn stamps_are_utc_and_sortable() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_545_600 + 3_661);
        assert_eq!(utc_stamp(t), "20261124T194101Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(utc_stamp(leap), "20000229T000000Z");
    }

    #[test]
    fn old_and_new_names_parse_and_others_do_not() {
        let k = |s: &str| SetName::parse(s).map(|n| (n.stamp, n.seq));
        assert_eq!(k("20261124T182745Z"), Some(("20261124T182745Z".into(), 0)));
        assert_eq!(
            k("20261124T182745Z-10"),
            Some(("20261124T182745Z".into(), 10))
        );
        assert_eq!(
            k("20261124T182745Z-000003"),
            Some(("20261124T182745Z".into(), 3))
        );
        for bad in [
            "",
            "photos",
            "20261124T182745Z-",
            "20261124T182745Z-0",
            "20261124T182745Z-+1",
            "20261124T182745Z-1-2",
            "2026112xT182745Z",
            "20261124T182745",
            "../x",
            ".gaterouter-partial-20261124T182745Z-000001",
            "20261124T182745Z-1234567890123456789",
        ] {
            assert_eq!(k(bad), None, "{bad}");
        }
    }

    #[test]
    fn legacy_numbered_names_sort_by_number() {
        let mut v: Vec<SetName> = [
            "20261124T182745Z-10",
            "20261124T182745Z-2",
            "20261124T182745Z",
        ]
        .iter()
        .map(|s| SetName::parse(s).unwrap())
        .collect();
        v.sort();
        let seqs: Vec<u64> = v.iter().map(|n| n.seq).collect();
        assert_eq!(seqs, [0, 2, 10]);
    }

    /// The bytes the previous writer (a `json!` value in `apply.rs`) made for this set.
    const WRITTEN_BEFORE: &str = r#"{
  "version": 2,
  "kind": "uninstall",
  "files": [
    {
      "path": ".env",
      "kind": "env",
      "backup": ".env",
      "existed": true,
      "mode": "600",
      "target": "/r/.env",
      "written": {
        "sha256": "ab"
      }
    },
    {
      "path": "agents/main/agent/models.json",
      "kind": "models",
      "backup": "agents/main/agent/models.json",
      "existed": false,
      "mode": null,
      "target": "/r/agents/main/agent/models.json",
      "written": {
        "sha256": null
      }
    }
  ],
  "meta": {
    "created_dirs": [
      "agents/main/agent"
    ]
  }
}"#;

    fn file(path: &str, kind: FileKind, mode: Option<&str>, sha256: Option<&str>) -> ManifestFile {
        ManifestFile {
            path: path.into(),
            kind: Some(kind),
            backup: Some(path.into()),
            existed: mode.is_some(),
            mode: mode.map(Into::into),
            target: Some(Path::new("/r").join(path)),
            written: Some(Written {
                sha256: sha256.map(Into::into),
            }),
        }
    }

    #[test]
    fn a_manifest_is_written_as_before_and_reads_back() {
        let m = Manifest {
            version: MANIFEST_VERSION,
            kind: RunKind::Uninstall,
            files: vec![
                file(".env", FileKind::Env, Some("600"), Some("ab")),
                file(
                    "agents/main/agent/models.json",
                    FileKind::Models,
                    None,
                    None,
                ),
            ],
            meta: serde_json::json!({CREATED_DIRS: ["agents/main/agent"]})
                .as_object()
                .unwrap()
                .clone(),
        };
        let bytes = m.to_bytes().unwrap();
        assert_eq!(std::str::from_utf8(&bytes).unwrap(), WRITTEN_BEFORE);
        let back = Manifest::from_bytes(&bytes).unwrap();
        assert_eq!(back.to_bytes().unwrap(), bytes);
    }

    /// What older versions wrote: version 1 without a run kind, then with one, then with
    /// `meta`; never a file's kind, copy name, target or hash.
    #[test]
    fn manifests_of_older_versions_read() {
        let files = r#""files": [{"path": ".env", "existed": true, "mode": "600"},
            {"path": "agents/a/agent/models.json", "existed": false, "mode": null},
            {"path": "/etc/oc/custom.json5", "existed": true, "mode": "644"}]"#;
        for old in [
            format!(r#"{{"version": 1, {files}}}"#),
            format!(r#"{{"version": 1, "kind": "setup", {files}}}"#),
            format!(
                r#"{{"version": 1, "kind": "setup", {files}, "meta": {{"previous_model": "x"}}}}"#
            ),
        ] {
            let m = Manifest::from_bytes(old.as_bytes()).unwrap();
            assert_eq!((m.version, m.kind), (1, RunKind::Setup), "{old}");
            let kinds: Vec<FileKind> = m.files.iter().map(ManifestFile::kind).collect();
            assert_eq!(kinds, [FileKind::Env, FileKind::Models, FileKind::Config]);
            assert!(
                m.files
                    .iter()
                    .all(|f| f.backup.is_none() && f.target.is_none())
            );
            assert!(m.files.iter().all(|f| f.written.is_none()));
            assert_eq!(m.files[1].mode, None);
        }
        let kinds = ["setup", "rollback", "uninstall"];
        for (name, kind) in
            kinds
                .iter()
                .zip([RunKind::Setup, RunKind::Rollback, RunKind::Uninstall])
        {
            let m =
                Manifest::from_bytes(format!(r#"{{"kind": "{name}", "files": []}}"#).as_bytes());
            assert_eq!(m.unwrap().kind, kind);
            assert_eq!(kind.as_str(), *name);
        }
    }

    /// A kind no version wrote makes the manifest unusable (listed as such), not guessed.
    #[test]
    fn unknown_kinds_are_refused() {
        for bad in [
            r#"{"kind": "migrate", "files": []}"#,
            r#"{"files": [{"path": "x", "kind": "script", "existed": false, "mode": null}]}"#,
            r#"{"files": [{"path": "x", "existed": false}], "kind": "Setup"}"#,
        ] {
            let e = Manifest::from_bytes(bad.as_bytes()).unwrap_err();
            assert!(e.contains("manifest.json is not valid"), "{bad}: {e}");
        }
    }

    proptest! {
        /// Whatever the clock does (still, forward, backward), each new name is greater than
        /// every name before it, as a key and as text, and is new.
        #[test]
        fn new_names_always_sort_last_and_are_never_reused(
            steps in proptest::collection::vec(-3i64..4, 1..60),
            start in 0u64..4_000_000_000,
        ) {
            let mut names: Vec<SetName> = Vec::new();
            let mut t = start as i64;
            for d in steps {
                t = (t + d).max(0);
                let now = UNIX_EPOCH + Duration::from_secs(t as u64);
                let n = SetName::next(&names, now);
                let text = n.to_string();
                prop_assert_eq!(SetName::parse(&text), Some(n.clone()));
                for old in &names {
                    prop_assert!(*old < n);
                    prop_assert!(old.to_string() < text, "{} !< {}", old, text);
                }
                names.push(n);
            }
        }
    }
}
