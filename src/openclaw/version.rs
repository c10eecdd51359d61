//! Which OpenClaw release a config belongs to, and what that release accepts.
//!
//! OpenClaw stamps the config it writes: `meta.lastTouchedVersion` (all releases checked),
//! else `wizard.lastRunVersion` (up to 2026.7). Versions are compared as numbers
//! (`2026.7.35` < `2026.8.1`), never as dates or strings. See docs/openclaw-versions.md.
//!
//! The stamp says who wrote the config last; `openclaw` on PATH is who reads it next. When
//! it answers `--version`, its release is the one setup writes for (see [`assume`]).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

/// 2026.8: `agents.entries` and `modelPolicy` arrive, and OpenClaw stops writing
/// `apiKey: "<VAR>"` back into a custom provider's models.json entry.
pub const GEN_2026_8: Version = Version(2026, 8, 0);

/// From here on the `agents.defaults.models` map no longer restricts (see
/// [`Version::models_map_restricts`]).
pub const MODELS_MAP_OPEN: Version = Version(2026, 5, 0);

/// The releases gaterouter-setup's output was checked against by running them.
pub const OLDEST_CHECKED: Version = Version(2026, 4, 29);
pub const NEWEST_CHECKED: Version = Version(2026, 9, 6);

/// How long `openclaw --version` may take (it answers in about 0.2 s).
pub const BINARY_TIMEOUT: Duration = Duration::from_secs(5);

impl Version {
    /// `2026.9.6`, `2026.9.1-beta.1` (a pre-release counts as its release), `v2026.8.2`.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches('v');
        let core = s.split(['-', '+', ' ']).next()?;
        let mut n = core.split('.').map(|p| p.parse::<u32>().ok());
        let v = Version(n.next()??, n.next()??, n.next().unwrap_or(Some(0))?);
        n.next().is_none().then_some(v)
    }

    /// The release that last wrote `config`, when it says.
    pub fn of_config(config: &Value) -> Option<Version> {
        ["/meta/lastTouchedVersion", "/wizard/lastRunVersion"]
            .iter()
            .find_map(|p| {
                config
                    .pointer(p)
                    .and_then(Value::as_str)
                    .and_then(Version::parse)
            })
    }

    /// The version in `openclaw --version`'s output: `OpenClaw 2026.9.6 (eb377ac)`, or a
    /// bare `2026.9.6`.
    pub fn of_cli_output(out: &str) -> Option<Version> {
        out.lines()
            .next()?
            .split_whitespace()
            .find_map(Version::parse)
    }

    /// Whether a non-empty `agents.defaults.models` map also restricts which models may be
    /// used (observed in 2026.4.29, not in 2026.5.28 to 2026.9.6, whose allowlist is
    /// `modelPolicy.allow`): a ref missing from the map breaks nothing on later releases.
    pub fn models_map_restricts(self) -> bool {
        self < MODELS_MAP_OPEN
    }

    /// Releases before 2026.8 write `apiKey: "<VAR>"` back into models.json themselves:
    /// there that value is OpenClaw's, not a leftover of ours.
    pub fn rewrites_models_json_api_key(self) -> bool {
        self < GEN_2026_8
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// Where the release setup writes for was learnt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `meta.lastTouchedVersion` / `wizard.lastRunVersion` in the config.
    Stamp,
    /// `openclaw --version` of this binary (found on PATH).
    Binary(PathBuf),
}

/// The OpenClaw release setup writes for, where that was learnt, and what the plan should
/// say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assumed {
    pub version: Version,
    pub from: Source,
}

/// What `openclaw` on PATH said when asked for its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BinaryAnswer {
    /// No `openclaw` on PATH.
    Absent,
    Version(PathBuf, Version),
    /// It is there but gave no version: why (timed out, failed, printed something else).
    Failed(PathBuf, String),
}

/// Which release to write for, from the config's stamp and the binary's answer, and the
/// notes for the plan. For the binary's own state dir (`binary_reads_it`: the default root,
/// `$OPENCLAW_STATE_DIR` or `~/.openclaw`) the binary wins: it is what reads the config next
/// (after an upgrade the stamp still names the old release until OpenClaw rewrites the
/// config). Any other root (a container's, a fleet's) may be read by another install, so
/// there its own stamp decides, and the binary only fills in when there is none.
pub fn assume(
    stamp: Option<Version>,
    binary: &BinaryAnswer,
    binary_reads_it: bool,
) -> (Option<Assumed>, Vec<String>) {
    let mut notes = Vec::new();
    let stamped = stamp.map(|version| Assumed {
        version,
        from: Source::Stamp,
    });
    let assumed = match binary {
        BinaryAnswer::Version(bin, v) if !binary_reads_it && stamp.is_some_and(|s| s != *v) => {
            notes.push(format!(
                "OpenClaw {} assumed from the config's version stamp; `{} --version` says {v}, but this root is not its default state dir, so another install may read it",
                stamp.expect("checked above"),
                bin.display()
            ));
            stamped
        }
        BinaryAnswer::Version(bin, v) => {
            let mut note = format!(
                "OpenClaw {v} assumed: `{} --version` said so",
                bin.display()
            );
            match stamp {
                Some(s) if s != *v => note.push_str(&format!(
                    "; the config was last written by {s}, but {v} is what reads it next, so the files are written for {v}"
                )),
                Some(_) => note.push_str(", as does the config's version stamp"),
                None => note.push_str(" (the config has no version stamp)"),
            }
            notes.push(note);
            Some(Assumed {
                version: *v,
                from: Source::Binary(bin.clone()),
            })
        }
        BinaryAnswer::Failed(bin, why) => {
            notes.push(format!(
                "`{} --version` gave no version ({why}); {}",
                bin.display(),
                match stamp {
                    Some(s) => format!("OpenClaw {s} assumed from the config's version stamp"),
                    None =>
                        "the config has no version stamp either, so the current OpenClaw is assumed"
                            .to_owned(),
                }
            ));
            stamped
        }
        BinaryAnswer::Absent => stamped,
    };
    if let Some(a) = &assumed {
        if a.version < OLDEST_CHECKED {
            notes.push(format!(
                "OpenClaw {} is older than any release gaterouter-setup was checked against ({OLDEST_CHECKED}); whether it accepts the SecretRef apiKey is unknown: upgrade OpenClaw, or check with `openclaw config validate`",
                a.version
            ));
        } else if a.version > NEWEST_CHECKED {
            notes.push(format!(
                "OpenClaw {} is newer than any release gaterouter-setup was checked against ({NEWEST_CHECKED}); the files are written as for {NEWEST_CHECKED}",
                a.version
            ));
        }
    }
    (assumed, notes)
}

/// `openclaw` on `path` (a PATH value), the way a shell finds it: the first executable file.
/// Unlike a shell, an empty or relative entry (`PATH=…:` means the working directory) is
/// skipped: every command that reads a root asks the binary, and a `./openclaw` in whatever
/// directory the user happens to be in is not ours to run.
pub fn find_binary(path: Option<&OsStr>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path?)
        .filter(|d| d.is_absolute())
        .map(|d| d.join("openclaw"))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Asks `bin` for its version, within [`BINARY_TIMEOUT`]. The child gets only PATH and HOME:
/// nothing else of ours (the API key above all) is its business.
fn run_version(bin: &Path, path: Option<&OsStr>, home: Option<&OsStr>) -> Result<Version, String> {
    let mut c = Command::new(bin);
    c.arg("--version")
        .env_clear()
        .env("PATH", path.unwrap_or_default());
    if let Some(h) = home {
        c.env("HOME", h);
    }
    let (status, out) =
        crate::sys::child::run(c, None, BINARY_TIMEOUT, 64 * 1024).map_err(|e| e.to_string())?;
    let out = String::from_utf8_lossy(&out);
    if !status.success() {
        return Err(format!("it exited with {status}"));
    }
    Version::of_cli_output(&out).ok_or_else(|| {
        let first: String = out.lines().next().unwrap_or("").chars().take(80).collect();
        format!("it printed {first:?}, not a version")
    })
}

/// `openclaw --version` of the `openclaw` on PATH, asked once per process: every root of a
/// run is read by the same binary.
pub fn binary_answer() -> BinaryAnswer {
    static ANSWER: std::sync::OnceLock<BinaryAnswer> = std::sync::OnceLock::new();
    ANSWER
        .get_or_init(|| {
            let path = std::env::var_os("PATH");
            let Some(bin) = find_binary(path.as_deref()) else {
                return BinaryAnswer::Absent;
            };
            match run_version(&bin, path.as_deref(), std::env::var_os("HOME").as_deref()) {
                Ok(v) => BinaryAnswer::Version(bin, v),
                Err(why) => BinaryAnswer::Failed(bin, why),
            }
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_compare_as_numbers() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("2026.7.35") < v("2026.8.1"));
        assert!(v("2026.10.1") > v("2026.9.6"));
        assert_eq!(v("2026.9.1-beta.1"), Version(2026, 9, 1));
        assert_eq!(v("v2026.8"), Version(2026, 8, 0));
        for bad in ["", "x", "2026", "2026.x.1", "2026.1.2.3"] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
        assert!(v("2026.7.35").rewrites_models_json_api_key());
        assert!(!v("2026.8.1").rewrites_models_json_api_key());
    }

    #[test]
    fn the_stamp_is_read_where_openclaw_writes_it() {
        let c = json!({"meta": {"lastTouchedVersion": "2026.9.6"}, "wizard": {"lastRunVersion": "2026.7.1"}});
        assert_eq!(Version::of_config(&c), Some(Version(2026, 9, 6)));
        let c = json!({"wizard": {"lastRunVersion": "2026.5.28"}});
        assert_eq!(Version::of_config(&c), Some(Version(2026, 5, 28)));
        assert_eq!(Version::of_config(&json!({})), None);
    }

    #[test]
    fn the_cli_output_is_read_as_openclaw_prints_it() {
        let v = Version::of_cli_output;
        assert_eq!(
            v("OpenClaw 2026.9.6 (eb377ac)\n"),
            Some(Version(2026, 9, 6))
        );
        assert_eq!(v("2026.7.35\n"), Some(Version(2026, 7, 35)));
        assert_eq!(v("usage: openclaw [options]\n2026.9.6"), None);
        assert_eq!(v(""), None);
    }

    #[test]
    fn only_absolute_path_entries_are_searched() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("openclaw");
        std::fs::write(&bin, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        // The same directory named relative to the working directory (`../../tmp/…`):
        // a shell would find it there; we must not. (No chdir: tests share the process.)
        let here = std::env::current_dir().unwrap();
        let up = "../".repeat(here.components().count() - 1);
        let relative = format!(
            "{up}{}",
            tmp.path().display().to_string().trim_start_matches('/')
        );
        assert!(std::path::Path::new(&relative).join("openclaw").is_file());
        assert_eq!(find_binary(Some(OsStr::new(&relative))), None);
        assert_eq!(find_binary(Some(OsStr::new(&format!("{relative}:")))), None);
        let abs = tmp.path().as_os_str();
        assert_eq!(find_binary(Some(abs)), Some(bin));
    }

    #[test]
    fn the_binary_wins_over_the_stamp_and_either_alone_decides() {
        let bin = BinaryAnswer::Version("/b/openclaw".into(), Version(2026, 9, 6));
        let (a, notes) = assume(Some(Version(2026, 7, 35)), &bin, true);
        assert_eq!(a.unwrap().version, Version(2026, 9, 6));
        assert!(notes[0].contains("reads it next"), "{notes:?}");
        // Another root: its stamp decides; with no stamp, the binary still fills in.
        let (a, notes) = assume(Some(Version(2026, 7, 35)), &bin, false);
        assert_eq!(a.unwrap().version, Version(2026, 7, 35));
        assert!(notes[0].contains("not its default state dir"), "{notes:?}");
        let (a, _) = assume(Some(Version(2026, 9, 6)), &bin, false);
        assert_eq!(a.unwrap().from, Source::Binary("/b/openclaw".into()));
        let (a, _) = assume(None, &bin, false);
        assert_eq!(a.unwrap().version, Version(2026, 9, 6));
        let (a, notes) = assume(Some(Version(2026, 7, 35)), &BinaryAnswer::Absent, true);
        assert_eq!(a.unwrap().from, Source::Stamp);
        assert!(notes.is_empty());
        assert_eq!(
            assume(None, &BinaryAnswer::Absent, true),
            (None, Vec::new())
        );
        let failed = BinaryAnswer::Failed("/b/openclaw".into(), "it exited with 1".into());
        let (a, notes) = assume(None, &failed, true);
        assert_eq!(a, None);
        assert!(
            notes[0].contains("current OpenClaw is assumed"),
            "{notes:?}"
        );
    }
}
