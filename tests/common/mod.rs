//! Shared helpers for the end-to-end tests: fixture roots copied into temp dirs, a whole-tree
//! snapshot (bytes and modes) to prove what changed and what did not, and the binary run
//! with a clean environment so the developer's own OpenClaw setup cannot leak in.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub mod openclaw;
pub mod registry;
pub mod scenario;
pub mod stand_in;

pub use scenario::{Run, Scenario};

/// The key every fixture run uses; long enough to be redacted as `sk-or-…abcd`.
pub const KEY: &str = "sk-or-v1-fixture-SENTINEL-00000000abcd";

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/roots")
}

/// Every fixture case, sorted.
pub fn cases() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Copies a directory tree (files, dirs and symlinks), skipping `.keep` placeholders that only
/// exist because git cannot hold an empty directory.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let (src, dst) = (entry.path(), to.join(&name));
        let ft = entry.file_type().unwrap();
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if ft.is_dir() {
            copy_tree(&src, &dst);
        } else if name != ".keep" {
            std::fs::copy(&src, &dst).unwrap();
            // git checks files out 0644; OpenClaw keeps .env at 0600, so a fixture root does
            // too (the loose-mode case is tested on its own). JSON files keep 0644, which
            // proves their modes are preserved.
            if name == ".env" {
                std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o600)).unwrap();
            }
        }
    }
}

/// The flags a fixture case is run with (`fixtures/roots/<case>/args`): `--init` for the
/// fresh root, which holds nothing of OpenClaw's yet.
pub fn case_args(case: &str) -> Vec<String> {
    std::fs::read_to_string(fixtures().join(case).join("args"))
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// A temp dir holding a copy of `fixtures/roots/<case>/input`, as `<tmp>/root`.
pub fn root_from(case: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    copy_tree(&fixtures().join(case).join("input"), &root);
    (tmp, root)
}

#[derive(Debug, PartialEq, Eq, Clone)]
pub enum Entry {
    File {
        bytes: Vec<u8>,
        mode: u32,
    },
    Dir {
        mode: u32,
    },
    Link(PathBuf),
    /// A FIFO, device or socket: never opened (a FIFO would block the test).
    Special {
        mode: u32,
    },
}

/// Path → content and mode of everything under `root`.
pub fn snapshot(root: &Path) -> BTreeMap<String, Entry> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Entry>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.file_type().is_symlink() {
                out.insert(rel, Entry::Link(std::fs::read_link(&path).unwrap()));
            } else if meta.is_dir() {
                out.insert(rel, Entry::Dir { mode });
                walk(base, &path, out);
            } else if !meta.is_file() {
                out.insert(rel, Entry::Special { mode });
            } else {
                out.insert(
                    rel,
                    Entry::File {
                        bytes: std::fs::read(&path).unwrap(),
                        mode,
                    },
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// The binary, with an environment holding nothing of the developer's: HOME points into the
/// temp dir and no OPENCLAW_* / GATEROUTER_* variable is inherited.
pub fn cmd(home: &Path) -> Command {
    let mut c = Command::cargo_bin("gaterouter-setup").unwrap();
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("NO_COLOR", "1");
    c
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts the sentinel key appears nowhere in a run's output.
pub fn assert_no_key(out: &Output, key: &str) {
    for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let s = text(stream);
        assert!(!s.contains(key), "the full key leaked into {name}:\n{s}");
    }
}

/// Where scripts/openclaw-validator.sh installs OpenClaw (and its Node 24), as it computes it.
pub fn openclaw_cache() -> Option<PathBuf> {
    std::env::var_os("GATEROUTER_VALIDATOR_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(|c| Path::new(&c).join("gaterouter-setup/openclaw"))
        })
        .or_else(|| {
            std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/gaterouter-setup/openclaw"))
        })
}

/// Under CI a missing OpenClaw or ansible install is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Taken by the tests that run OpenClaw or npm for real under a time limit (a Gateway start,
/// onboarding, a registry and `npm install`): one of them at a time, so that two never share
/// the cores and miss their limits, while the other test thread goes on with the light tests.
/// A test that failed holding it does not stop the others.
pub fn heavy() -> std::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    HEAVY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Where OpenClaw keeps its state-database lock files: `/tmp/openclaw-state-locks-<uid>`.
/// The directory is fixed in OpenClaw (`resolveStateLifecycleRuntimeDirectory`: `/tmp` on
/// every platform but Windows, not TMPDIR or `os.tmpdir()`), so a test cannot move them
/// into its temp dir; it removes its own instead (see [`OpenClawLocks`]).
pub fn openclaw_lock_dir() -> PathBuf {
    Path::new("/tmp").join(format!(
        "openclaw-state-locks-{}",
        rustix::process::getuid().as_raw()
    ))
}

/// The lock files OpenClaw made for databases under `dir`. Each is named
/// `<kind>.<first 8 hex digits of sha256(real path of the database)>.lock.sqlite`, so the
/// hashes of every file under `dir` identify them without touching anyone else's.
pub fn openclaw_locks_of(dir: &Path) -> Vec<PathBuf> {
    openclaw_locks_in(&openclaw_lock_dir(), dir)
}

/// The lock files in `lock_dir` for databases under `dir` (an OpenClaw run as another uid,
/// such as in a user namespace, keeps them in that uid's `/tmp/openclaw-state-locks-<uid>`).
pub fn openclaw_locks_in(lock_dir: &Path, dir: &Path) -> Vec<PathBuf> {
    use sha2::Digest;
    fn walk(d: &Path, out: &mut std::collections::HashSet<String>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                walk(&e.path(), out);
            } else if ft.is_file()
                && let Ok(real) = std::fs::canonicalize(e.path())
            {
                let h = sha2::Sha256::digest(real.to_string_lossy().as_bytes());
                let hex: String = h.iter().take(4).map(|b| format!("{b:02x}")).collect();
                out.insert(hex);
            }
        }
    }
    let mut hashes = std::collections::HashSet::new();
    walk(dir, &mut hashes);
    let Ok(rd) = std::fs::read_dir(lock_dir) else {
        return Vec::new();
    };
    rd.flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.ends_with(".lock.sqlite")
                && name.split('.').nth(1).is_some_and(|h| hashes.contains(h))
        })
        .collect()
}

/// Removes, when dropped (a failing test too), the lock files OpenClaw left in
/// [`openclaw_lock_dir`] for databases under this temp dir; drop it after every OpenClaw
/// process of the test has ended (declare it after the temp dir, so it goes first).
pub struct OpenClawLocks(pub PathBuf);

impl Drop for OpenClawLocks {
    fn drop(&mut self) {
        for p in openclaw_locks_of(&self.0) {
            let _ = std::fs::remove_file(p);
        }
    }
}
