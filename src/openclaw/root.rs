//! Discover an OpenClaw root: which files we will touch, and their exact current state.
//! Everything is read once here; later stages work on these bytes only.

use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::json5;
use crate::openclaw::credentials::Ambient;
pub use crate::openclaw::env::{Env, absolute};

/// Which root the user means: an explicit directory wins; otherwise OpenClaw's own rules.
/// Returns the root and, when `OPENCLAW_CONFIG_PATH` applies, the config file it names.
pub fn resolve(explicit: Option<&Path>, env: &Env) -> (PathBuf, Option<PathBuf>) {
    if let Some(dir) = explicit {
        // Absolute from here on (not canonical: a symlinked root stays as named), so a path
        // recorded in a backup manifest and one checked at rollback compare alike, whatever
        // the working directory (a relative root whose agents/ was gone looked "moved
        // through a symlink").
        return (absolute(dir), None);
    }
    let config = env.path("OPENCLAW_CONFIG_PATH");
    if let Some(dir) = env.path("OPENCLAW_STATE_DIR") {
        return (dir, config);
    }
    let home = env.home();
    let dir = match env
        .get("OPENCLAW_PROFILE")
        .and_then(|p| p.to_str())
        .map(str::trim)
    {
        Some(profile) if !profile.is_empty() && profile != "default" => {
            home.join(format!(".openclaw-{profile}"))
        }
        _ => current_or_legacy(home.join(".openclaw"), home.join(".clawdbot"), Path::is_dir),
    };
    (dir, config)
}

/// OpenClaw's name for a file or directory, or its legacy (clawdbot) name when only that
/// exists (as `is` says).
fn current_or_legacy(current: PathBuf, legacy: PathBuf, is: fn(&Path) -> bool) -> PathBuf {
    if !current.exists() && is(&legacy) {
        legacy
    } else {
        current
    }
}

/// Whether `dir` looks like an OpenClaw state directory: it has OpenClaw's config
/// (`openclaw.json`, the legacy `clawdbot.json`, or the file `OPENCLAW_CONFIG_PATH` names),
/// an `agents/<id>/agent/` directory, or a `.env` naming OpenClaw's or GateRouter's variables. What
/// `openclaw onboard` leaves behind always has the first two.
pub fn looks_like_state_dir(dir: &Path, config_override: Option<&Path>) -> bool {
    let exists = |p: &Path| std::fs::symlink_metadata(p).is_ok();
    if exists(&dir.join("openclaw.json"))
        || exists(&dir.join("clawdbot.json"))
        || config_override.is_some_and(exists)
    {
        return true;
    }
    // `agents/` alone is a common folder name (a source checkout's `agents/planner/…`):
    // OpenClaw's own layout is `agents/<id>/agent/`.
    let agent_dirs = std::fs::read_dir(dir.join("agents")).into_iter().flatten();
    if agent_dirs
        .flatten()
        .any(|e| e.path().join("agent").is_dir())
    {
        return true;
    }
    let env =
        crate::sys::fsx::read_regular(&dir.join(".env"), crate::format::dotenv::MAX_BYTES as u64);
    matches!(env, Ok(Some((bytes, _))) if {
        let t = String::from_utf8_lossy(&bytes);
        t.contains("OPENCLAW_") || t.contains(crate::gaterouter::key::ENV_VAR)
    })
}

/// Refuses to set up a directory that is not an OpenClaw root, unless `init` (`--init`)
/// says to create OpenClaw's files there: `gaterouter-setup KEY .` in a source checkout
/// planned openclaw.json, .env and agents/ in it, and `--yes` wrote them. A default root
/// (`explicit` false) that does not exist means OpenClaw was never set up: say how to.
/// An explicit root that does not exist is left to `discover`, which names it.
pub fn check_state_dir(
    dir: &Path,
    config_override: Option<&Path>,
    init: bool,
    explicit: bool,
) -> Result<()> {
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound && !explicit => Err(Error::NoDefaultRoot {
            path: dir.to_path_buf(),
        }),
        Ok(m) if m.is_dir() && !init && !looks_like_state_dir(dir, config_override) => {
            Err(Error::NotARoot {
                path: dir.to_path_buf(),
            })
        }
        _ => Ok(()),
    }
}

/// Larger files are refused (while reading: a device or a growing file reports no size).
pub const MAX_FILE: u64 = 16_000_000;

/// One paragraph for a file we cannot read: what it is, where, and what to do.
pub fn read_error(path: PathBuf, via: Option<&Path>, e: crate::sys::fsx::ReadError) -> Error {
    use crate::sys::fsx::ReadError;
    let link = via
        .map(|t| format!(" (a symlink to {})", t.display()))
        .unwrap_or_default();
    let what = match e {
        ReadError::NotRegular {
            what: "a directory",
        } => format!("is a directory{link} where a file was expected"),
        ReadError::NotRegular { what } => format!(
            "is {what}{link}, not a regular file; gaterouter-setup reads and writes only regular files (it would block on a pipe, read a device without end, or replace the device node), so replace it with a plain file or remove it"
        ),
        ReadError::TooLarge { limit, size } => format!(
            "is {}{link}; gaterouter-setup edits files up to {} MB (OpenClaw's files are normally a few KB), so this is probably not the right file",
            size.map_or_else(
                || format!("larger than {} MB", limit / 1_000_000),
                |s| format!("{:.1} MB", s as f64 / 1e6)
            ),
            limit / 1_000_000
        ),
        ReadError::Io(e) => return Error::io(&path, e),
    };
    Error::Unreadable { path, what }
}

/// What a file that we may rewrite looks like right now.
#[derive(Debug, Clone)]
pub struct FileState {
    /// The path as addressed (inside the root), used in diffs and messages.
    pub path: PathBuf,
    /// Where writes go: the symlink's final target, or `path` itself.
    pub target: PathBuf,
    /// `path` relative to the root, for diff headers and reports.
    pub rel: String,
    /// The exact bytes; `None` when the file does not exist yet.
    pub bytes: Option<Vec<u8>>,
    /// Permission bits (`0o600`...), `None` for a new file.
    pub mode: Option<u32>,
    pub symlink: bool,
    /// Hard links to the file (1 for a plain file): writing replaces the file, so the other
    /// names keep the old contents, which the plan says.
    pub links: u64,
}

impl FileState {
    /// Reads `path` fully, following symlinks. A missing file is a state, not an error.
    pub fn read(root: &Path, path: PathBuf) -> Result<FileState> {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        let symlink = std::fs::symlink_metadata(&path)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false);
        let target = if symlink {
            match std::fs::canonicalize(&path) {
                Ok(t) => t,
                Err(_) => {
                    let link = std::fs::read_link(&path).unwrap_or_default();
                    return Err(Error::DanglingSymlink { path, target: link });
                }
            }
        } else {
            path.clone()
        };
        let (bytes, mode, links) = match crate::sys::fsx::read_regular(&target, MAX_FILE) {
            Ok(None) => (None, None, 0),
            Ok(Some((bytes, meta))) => (
                Some(bytes),
                Some(meta.permissions().mode() & 0o7777),
                std::os::unix::fs::MetadataExt::nlink(&meta),
            ),
            Err(e) => return Err(read_error(path, symlink.then_some(target.as_path()), e)),
        };
        Ok(FileState {
            path,
            target,
            rel,
            bytes,
            mode,
            symlink,
            links,
        })
    }

    /// The contents as text. Non-UTF-8 bytes are refused with their offset: silently
    /// re-encoding would corrupt the file on write.
    pub fn text(&self) -> Result<Option<&str>> {
        let Some(b) = &self.bytes else {
            return Ok(None);
        };
        let line = |at: usize| b[..at].iter().filter(|&&c| c == b'\n').count() + 1;
        let what = match (memchr::memchr(0, b), std::str::from_utf8(b)) {
            (Some(at), _) => format!(
                "contains a NUL byte (offset {at}, line {}), so it is not a text file; remove it and run again",
                line(at)
            ),
            (None, Ok(t)) => return Ok(Some(t)),
            (None, Err(e)) => format!(
                "is not UTF-8 text (invalid byte at offset {}, line {}); save it as UTF-8",
                e.valid_up_to(),
                line(e.valid_up_to())
            ),
        };
        Err(Error::Unreadable {
            path: self.path.clone(),
            what,
        })
    }
}

/// Everything the planners need from one OpenClaw root.
#[derive(Debug, Clone)]
pub struct Root {
    pub dir: PathBuf,
    pub config: FileState,
    pub env: FileState,
    /// Every models.json we will edit (one per agent, or the root-level one).
    pub models: Vec<FileState>,
    /// What the plan should say about the root (an agent directory outside it, skipped;
    /// which OpenClaw release the files are written for).
    pub notes: Vec<String>,
    /// The OpenClaw release the files are written for, and where that was learnt; `None`:
    /// nothing says, and the current release is assumed.
    pub openclaw: Option<crate::openclaw::version::Assumed>,
    /// What the plan should say about `$include`d files that may override its settings.
    pub includes: Vec<String>,
    /// Why OpenClaw would refuse to load the config for its `$include`s (a path outside the
    /// config's directory, a missing or irregular file, a cycle): setup refuses it, doctor
    /// reports it.
    pub include_refused: Option<crate::openclaw::include::Refused>,
    /// The variables OpenClaw running on this root inherits from outside it (names only:
    /// its environment and `~/.config/openclaw/gateway.env`), where a fallback provider's
    /// key may be. Discovery reads only the root, so this is empty until the run that
    /// knows the environment sets it ([`Ambient::from_env`], as `ops::setup` does).
    pub ambient: Ambient,
}

/// Reads the root's files. `agent` limits models.json to that agent.
pub fn discover(dir: &Path, config_override: Option<&Path>, agent: Option<&str>) -> Result<Root> {
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(Error::RootMissing {
                path: dir.to_path_buf(),
            });
        }
        Err(e) => return Err(Error::io(dir, e)),
        Ok(m) if !m.is_dir() => {
            return Err(Error::RootNotDir {
                path: dir.to_path_buf(),
            });
        }
        Ok(_) => {}
    }
    let config_path = match config_override {
        Some(p) => p.to_path_buf(),
        None => current_or_legacy(
            dir.join("openclaw.json"),
            dir.join("clawdbot.json"),
            Path::is_file,
        ),
    };
    let config = FileState::read(dir, config_path)?;
    let env = FileState::read(dir, dir.join(".env"))?;
    let head = Head::of(&config);
    let mut notes = Vec::new();
    let models = model_files(dir, agent, &head.agents, &mut notes)?
        .into_iter()
        .map(|p| FileState::read(dir, p))
        .collect::<Result<Vec<_>>>()?;
    let (openclaw, mut version_notes) = crate::openclaw::version::assume(
        head.stamp,
        &crate::openclaw::version::binary_answer(),
        is_default_root(dir),
    );
    notes.append(&mut version_notes);
    let includes = include_notes(&config, head.includes, dir);
    let include_refused = match config.text() {
        Ok(Some(t)) => crate::openclaw::include::check(&config.path, t).err(),
        _ => None,
    };
    Ok(Root {
        dir: dir.to_path_buf(),
        config,
        env,
        models,
        notes,
        openclaw,
        includes,
        include_refused,
        ambient: Ambient::default(),
    })
}

/// Whether `dir` is the state dir the `openclaw` on PATH uses when none is named
/// (`$OPENCLAW_STATE_DIR`, else `~/.openclaw` or its profile): the one it reads next.
fn is_default_root(dir: &Path) -> bool {
    let (default, _) = resolve(None, &Env::from_process());
    match (std::fs::canonicalize(dir), std::fs::canonicalize(&default)) {
        (Ok(a), Ok(b)) => a == b,
        _ => dir == default,
    }
}

/// What discovery reads of the config, from one reading that builds only these parts: the
/// agents it declares, the release that last wrote it, and its `$include`s.
#[derive(Default)]
struct Head {
    agents: Vec<crate::openclaw::agents::Agent>,
    stamp: Option<crate::openclaw::version::Version>,
    includes: Vec<String>,
}

impl Head {
    /// Parts the config cannot be read for are left empty: the planner reports why, with
    /// the position.
    fn of(config: &FileState) -> Head {
        // A cheap scan first: most configs lack most of what is looked for.
        const WORDS: [&str; 3] = ["agents", "Version", crate::openclaw::include::KEY];
        let Some(text) = config.text().ok().flatten() else {
            return Head::default();
        };
        if !WORDS.iter().any(|w| json5::may_hold(text, w)) {
            return Head::default();
        }
        const AGENTS: [&[&str]; 2] = [&["agents", "entries"], &["agents", "list"]];
        // The stamp sits in `meta` or `wizard`.
        const STAMP: [&[&str]; 2] = [&["meta"], &["wizard"]];
        let keep = [
            AGENTS[0],
            AGENTS[1],
            STAMP[0],
            STAMP[1],
            &[crate::openclaw::include::KEY],
        ];
        let Ok(read) = json5::Document::parse(text, Some(&keep)) else {
            return Head::default();
        };
        let top = read.root.to_value();
        let includes = match top
            .as_ref()
            .and_then(|t| t.get(crate::openclaw::include::KEY))
        {
            Some(json5::Value::String(s)) => s.as_str().map(str::to_owned).into_iter().collect(),
            Some(json5::Value::Array(a)) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        if !read.hidden.is_empty() {
            // A `//` comment ended by U+2028 hides part of the text from the editor, which
            // refuses a config where that changes what it reads: read each part as it does.
            let part = |keep: &[&[&str]]| {
                let d = crate::format::json_edit::Doc::parse(&config.path, text, keep).ok()?;
                d.serde(d.root_object())
            };
            return Head {
                agents: part(&AGENTS)
                    .map(|v| crate::openclaw::agents::declared(&v))
                    .unwrap_or_default(),
                stamp: part(&STAMP).and_then(|v| crate::openclaw::version::Version::of_config(&v)),
                includes,
            };
        }
        let settings = top
            .filter(|t| matches!(t, json5::Value::Object(_)))
            .map(|t| t.to_serde());
        Head {
            agents: settings
                .as_ref()
                .map(crate::openclaw::agents::declared)
                .unwrap_or_default(),
            stamp: settings
                .as_ref()
                .and_then(crate::openclaw::version::Version::of_config),
            includes,
        }
    }
}

/// `agents/<id>/agent`: where OpenClaw keeps an agent's files when its `agentDir` says nothing.
fn default_agent_dir(root: &Path, id: &str) -> PathBuf {
    root.join("agents").join(id).join("agent")
}

/// An agent's `agentDir` as a path, when it is inside the root (we touch nothing outside).
fn agent_dir(root: &Path, a: &crate::openclaw::agents::Agent) -> Option<PathBuf> {
    let Some(d) = &a.dir else {
        return Some(default_agent_dir(root, &a.id));
    };
    if d.starts_with('~')
        || Path::new(d)
            .components()
            .any(|c| c == std::path::Component::ParentDir)
    {
        return None;
    }
    let p = root.join(d); // an absolute `d` replaces `root`
    if p.starts_with(root) {
        return Some(p);
    }
    // The root may be named through another path (a symlink): compare real paths.
    let real_root = std::fs::canonicalize(root).ok()?;
    let mut existing = p.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        rest.push(existing.file_name()?.to_owned());
        existing = existing.parent()?;
    }
    let real = std::fs::canonicalize(existing).ok()?;
    if !real.starts_with(&real_root) {
        return None;
    }
    // Address it through the root as given, so relative names in messages stay short.
    let mut inside = root.join(real.strip_prefix(&real_root).ok()?);
    for r in rest.iter().rev() {
        inside.push(r);
    }
    Some(inside)
}

/// The models.json of the one agent `--agent ID` names, which must be an agent the root has:
/// declared in openclaw.json (then its `agentDir`), a directory under `agents/`, or the
/// agent OpenClaw runs by default. A typo used to create `agents/<typo>/agent/models.json`,
/// an agent nobody runs, and report success.
fn one_agent(dir: &Path, id: &str, declared: &[crate::openclaw::agents::Agent]) -> Result<PathBuf> {
    if let Some(a) = declared.iter().find(|a| a.id.eq_ignore_ascii_case(id)) {
        return match agent_dir(dir, a) {
            Some(d) => Ok(d.join("models.json")),
            None => Err(Error::Usage(format!(
                "--agent {id}: that agent ({}) keeps its files in {}, outside the root {}, and gaterouter-setup touches nothing outside the root; nothing was done",
                a.at,
                a.dir.as_deref().unwrap_or_default(),
                dir.display()
            ))),
        };
    }
    let default = crate::openclaw::agents::default_id(declared);
    if dir.join("agents").join(id).is_dir() || id.eq_ignore_ascii_case(&default) {
        return Ok(default_agent_dir(dir, id).join("models.json"));
    }
    let mut known: Vec<String> = declared.iter().map(|a| a.id.clone()).collect();
    known.extend(agent_dirs(dir).unwrap_or_default());
    known.push(default);
    known.sort();
    known.dedup();
    Err(Error::Usage(format!(
        "--agent {id}: {} has no such agent (openclaw.json does not declare it and there is no agents/{id}/), so nothing was done; its agents: {}. Create the agent with OpenClaw first (openclaw agents add {id}), or pick one of those",
        dir.display(),
        known.join(", ")
    )))
}

/// The names of the directories under `agents/` (through links, hidden ones left out); none
/// when there is no `agents/`.
fn agent_dirs(dir: &Path) -> Result<Vec<String>> {
    let agents = dir.join("agents");
    let entries = match std::fs::read_dir(&agents) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(&agents, e)),
    };
    let mut ids = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(&agents, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !name.starts_with('.') {
            ids.push(name);
        }
    }
    Ok(ids)
}

/// `models.json` in every agent directory under `agents/` and in every declared agent's
/// `agentDir` (sorted, so plans are stable); when there is neither, a root-level
/// `models.json` when the root has one, else the main agent's.
fn model_files(
    dir: &Path,
    agent: Option<&str>,
    declared: &[crate::openclaw::agents::Agent],
    notes: &mut Vec<String>,
) -> Result<Vec<PathBuf>> {
    let per_agent = |id: &str| default_agent_dir(dir, id).join("models.json");
    if let Some(id) = agent {
        if id.is_empty() || id.contains('/') || id.starts_with('.') {
            return Err(Error::Usage(format!(
                "--agent {id:?} is not an agent id (a directory name under agents/)"
            )));
        }
        // The one check of the file's way for a link out of the root, whichever way
        // `one_agent` found it.
        let file = one_agent(dir, id, declared)?;
        if let Some(note) = link_out(dir, &file) {
            return Err(Error::Usage(format!(
                "--agent {id}: {note}; nothing was done"
            )));
        }
        return Ok(vec![file]);
    }
    let mut files: Vec<PathBuf> = agent_dirs(dir)?.iter().map(|id| per_agent(id)).collect();
    for a in declared {
        match agent_dir(dir, a) {
            Some(d) => files.push(d.join("models.json")),
            None => notes.push(format!(
                "agent {} ({}) keeps its files in {}, outside the root: its models.json was not touched",
                a.id,
                a.at,
                a.dir.as_deref().unwrap_or_default()
            )),
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        let root_level = dir.join("models.json");
        files.push(if root_level.exists() {
            root_level
        } else {
            per_agent("main")
        });
    }
    // A directory on the way that links out of the root (`agents`, `agents/main/agent`)
    // would have models.json read and written elsewhere, as an `agentDir` outside would.
    files.retain(|f| match link_out(dir, f) {
        Some(note) => {
            notes.push(note);
            false
        }
        None => true,
    });
    Ok(files)
}

/// When a directory between `root` and `file` (a path under it) is a symlink leading
/// outside the root's real path, the plan's note: which link, where to, and that the file is
/// left alone. A dangling link counts as leading out (where it would be created is not ours
/// to decide).
fn link_out(root: &Path, file: &Path) -> Option<String> {
    let rel = file.parent()?.strip_prefix(root).ok()?;
    let real_root = std::fs::canonicalize(root).ok()?;
    let mut at = root.to_path_buf();
    for c in rel.components() {
        at.push(c);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::canonicalize(&at).unwrap_or_else(|_| {
                    let t = std::fs::read_link(&at).unwrap_or_default();
                    at.parent().map_or(t.clone(), |p| p.join(&t))
                });
                if !to.starts_with(&real_root) || !to.exists() {
                    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
                    return Some(format!(
                        "{} is a symlink to {}, outside the root: {} was not touched (gaterouter-setup reads and writes nothing outside the root through a directory link, as for an agentDir outside it)",
                        rel(&at),
                        to.display(),
                        rel(file)
                    ));
                }
            }
            Ok(_) => {}
            // Missing from here on: created as plain directories inside the root.
            Err(_) => return None,
        }
    }
    None
}

/// Read at discovery, so planning stays pure. `$include`d files (`includes`, as the config
/// names them) are merged into the config by OpenClaw; we edit only openclaw.json, so
/// say when an included file also defines `models` or `agents` (it could override ours).
fn include_notes(config: &FileState, includes: Vec<String>, dir: &Path) -> Vec<String> {
    let base = config.path.parent().unwrap_or(dir);
    let mut out = Vec::new();
    for inc in includes {
        let path = base.join(&inc);
        // Read as OpenClaw reads an include (the one reader, `include::read`); a missing
        // one is OpenClaw's problem to report, we only lose this warning.
        let included = match crate::openclaw::include::read(&path, &config.path) {
            Ok(serde_json::Value::Object(o)) => o,
            Ok(_) => continue,
            Err(_) if !path.exists() => continue,
            Err(e) => {
                out.push(format!(
                    "{} (included by openclaw.json) was not checked for settings that override gaterouter's: {e}",
                    path.display()
                ));
                continue;
            }
        };
        let keys: Vec<&str> = ["models", "agents", "auth"]
            .into_iter()
            .filter(|k| included.contains_key(*k))
            .collect();
        if !keys.is_empty() {
            out.push(format!(
                "{} (included by openclaw.json) also defines {}; only openclaw.json was edited, so check that the included file does not override the gaterouter settings",
                path.display(),
                keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" and ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_dir_wins_over_home_and_profile_picks_a_suffixed_dir() {
        let env = Env::from_pairs([("HOME", "/h"), ("OPENCLAW_STATE_DIR", "/s")]);
        assert_eq!(resolve(None, &env).0, PathBuf::from("/s"));
        let env = Env::from_pairs([("HOME", "/h"), ("OPENCLAW_PROFILE", "work")]);
        assert_eq!(resolve(None, &env).0, PathBuf::from("/h/.openclaw-work"));
        let env = Env::from_pairs([("HOME", "/h"), ("OPENCLAW_HOME", "/oc")]);
        assert_eq!(resolve(None, &env).0, PathBuf::from("/oc/.openclaw"));
        let env = Env::from_pairs([("HOME", "/h"), ("OPENCLAW_CONFIG_PATH", " /c/x.json ")]);
        assert_eq!(
            resolve(None, &env),
            (
                PathBuf::from("/h/.openclaw"),
                Some(PathBuf::from("/c/x.json"))
            )
        );
        assert_eq!(
            resolve(Some(Path::new("/r")), &env),
            (PathBuf::from("/r"), None)
        );
    }

    #[test]
    fn path_variables_resolve_like_openclaw() {
        let cwd = std::env::current_dir().unwrap();
        let env = Env::from_pairs([("HOME", "/h"), ("OPENCLAW_CONFIG_PATH", "~/cfg.json")]);
        assert_eq!(resolve(None, &env).1, Some(PathBuf::from("/h/cfg.json")));
        let env = Env::from_pairs([("HOME", "/h"), ("OPENCLAW_CONFIG_PATH", "cfg/x.json")]);
        assert_eq!(resolve(None, &env).1, Some(cwd.join("cfg/x.json")));
        let env = Env::from_pairs([("HOME", "/h"), ("OPENCLAW_HOME", "~/oc")]);
        assert_eq!(resolve(None, &env).0, PathBuf::from("/h/oc/.openclaw"));
        let env = Env::from_pairs([("HOME", "/h"), ("OPENCLAW_STATE_DIR", "~")]);
        assert_eq!(resolve(None, &env).0, PathBuf::from("/h"));
        let env = Env::from_pairs([("HOME", "/h"), ("OPENCLAW_STATE_DIR", "  ")]);
        assert_eq!(resolve(None, &env).0, PathBuf::from("/h/.openclaw"));
    }

    fn head(text: &str) -> Head {
        Head::of(&FileState {
            path: "openclaw.json".into(),
            target: "openclaw.json".into(),
            rel: "openclaw.json".into(),
            bytes: Some(text.as_bytes().to_vec()),
            mode: Some(0o600),
            symlink: false,
            links: 1,
        })
    }

    fn ids(h: &Head) -> Vec<&str> {
        h.agents.iter().map(|a| a.id.as_str()).collect()
    }

    /// Discovery reads the config once for all it needs, as json5 reads it: a key spelled
    /// with escapes is the key it spells, a part the config lacks is empty, and a config
    /// that does not parse (or is no object) yields nothing but never fails discovery.
    #[test]
    fn the_head_is_read_as_json5_reads_it() {
        let plain = head(
            r#"{ meta: { lastTouchedVersion: "2026.3.1" }, agents: { list: [{ id: "a" }] }, $include: ["x.json5", 3] }"#,
        );
        assert_eq!(ids(&plain), ["a"]);
        assert!(plain.stamp.is_some());
        assert_eq!(plain.includes, ["x.json5"]);
        let escaped = head(
            r#"{ "\u0061gents": { entries: { b: {} } }, "\u0024include": "y.json5", wizard: { "lastRun\u0056ersion": "2026.3.1" } }"#,
        );
        assert_eq!(ids(&escaped), ["b"]);
        assert!(escaped.stamp.is_some());
        assert_eq!(escaped.includes, ["y.json5"]);
        let none = head(r#"{ gateway: { port: 1 } }"#);
        assert!(none.agents.is_empty() && none.stamp.is_none() && none.includes.is_empty());
        for bad in ["{ agents: ", "[{ agents: {} }]", "", "// only a comment"] {
            let h = head(bad);
            assert!(h.agents.is_empty() && h.stamp.is_none(), "{bad:?}");
        }
        // An include is OpenClaw's whatever the editor makes of the rest.
        assert_eq!(head(r#""$include""#).includes, Vec::<String>::new());
    }

    /// A `//` comment ended by U+2028 that changes the agents makes them unreadable to the
    /// editor (the planner says why); one that changes only `meta` leaves the agents read.
    #[test]
    fn a_hidden_part_spoils_only_what_it_hides() {
        let agents = head("{ // x\u{2028} agents: { list: [{ id: \"a\" }] }\n}");
        assert!(agents.agents.is_empty());
        let meta = head(
            "{ agents: { list: [{ id: \"a\" }] }, // x\u{2028} meta: { lastTouchedVersion: \"2026.3.1\" }\n}",
        );
        assert_eq!(ids(&meta), ["a"]);
        assert!(meta.stamp.is_none());
    }

    #[test]
    fn readonly_flags() {
        assert_eq!(
            Env::from_pairs([("OPENCLAW_NIX_MODE", "1")]).readonly_var(),
            Some("OPENCLAW_NIX_MODE")
        );
        assert_eq!(
            Env::from_pairs([("OPENCLAW_CONFIG_READONLY", "0")]).readonly_var(),
            None
        );
    }
}
