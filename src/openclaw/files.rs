//! The files gaterouter-setup manages in a root, as one table ([`MANAGED`]): per kind, its
//! name in a backup manifest, where it lives, the JSON paths we own in it, where our
//! provider's model catalog sits, the mode of a new file and its syntax (how it is read,
//! gated and masked). A new managed kind is a row here and a planner in `plan/`.

use std::path::PathBuf;

use serde::Serialize;

pub use crate::format::Syntax;
use crate::gaterouter::templates::{PROFILE_ID, PROVIDER_ID};

/// A JSON pointer pattern: literal segments, `*` for any one segment.
pub type Pattern = &'static [&'static str];

/// Mode for files we create; OpenClaw writes its own files 0600 too.
pub const NEW_FILE_MODE: u32 = 0o600;

/// A managed file's kind; its facts are its row of [`MANAGED`] ([`FileKind::spec`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    Env,
    Config,
    Models,
}

/// Where a kind's files are in a root.
#[derive(Debug)]
pub enum Location {
    /// This name, at the root.
    Root(&'static str),
    /// This name at the root, unless `OPENCLAW_CONFIG_PATH` names another file (of any name).
    Config(&'static str),
    /// This name in each agent's directory (or at the root).
    Agents(&'static str),
}

#[derive(Debug)]
pub struct ManagedFile {
    pub kind: FileKind,
    /// The kind's name in a backup manifest.
    pub name: &'static str,
    pub location: Location,
    /// What setup, uninstall and migration may change (JSON files; see `plan::gate`).
    pub owned: &'static [Pattern],
    /// Our provider's model list, when the file has one.
    pub catalog: Option<Pattern>,
    /// Mode of a new file.
    pub mode: u32,
    /// Holds the key: never looser than `mode` (a looser file is tightened, its backup
    /// copy is `mode` whatever the file's).
    pub private: bool,
    pub syntax: Syntax,
}

/// Every managed kind, in plan order (the index is the kind's discriminant).
pub static MANAGED: [ManagedFile; 3] = [
    ManagedFile {
        kind: FileKind::Env,
        name: "env",
        location: Location::Root(".env"),
        owned: &[],
        catalog: None,
        mode: NEW_FILE_MODE,
        private: true,
        syntax: Syntax::Dotenv,
    },
    ManagedFile {
        kind: FileKind::Config,
        name: "config",
        location: Location::Config("openclaw.json"),
        owned: &[
            &["agents", "defaults", "model"],
            // Our refs in the allowlist map, and the allowlist policy.
            &["agents", "defaults", "models", "*"],
            &["agents", "defaults", "modelPolicy", "allow"],
            // Agents with a model of their own, moved to GateRouter on request.
            &["agents", "list", "*", "model"],
            &["agents", "entries", "*", "model"],
            &["auth", "profiles", PROFILE_ID],
            &["models", "providers", PROVIDER_ID],
        ],
        catalog: Some(&["models", "providers", PROVIDER_ID, "models"]),
        mode: NEW_FILE_MODE,
        private: false,
        syntax: Syntax::Json,
    },
    ManagedFile {
        kind: FileKind::Models,
        name: "models",
        location: Location::Agents("models.json"),
        owned: &[&["providers", PROVIDER_ID]],
        catalog: Some(&["providers", PROVIDER_ID, "models"]),
        mode: NEW_FILE_MODE,
        private: false,
        syntax: Syntax::Json,
    },
];

impl FileKind {
    pub const fn spec(self) -> &'static ManagedFile {
        &MANAGED[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn from_name(name: &str) -> Option<FileKind> {
        MANAGED.iter().find(|m| m.name == name).map(|m| m.kind)
    }

    /// The kind of the file at `rel` (relative to the root, as a manifest records it): the
    /// config unless another row's location names it (`OPENCLAW_CONFIG_PATH` may give the
    /// config any name).
    pub fn at(rel: &str) -> FileKind {
        let named = |m: &&ManagedFile| match m.location {
            Location::Root(n) => rel == n,
            Location::Agents(n) => rel.ends_with(n),
            Location::Config(_) => false,
        };
        MANAGED
            .iter()
            .find(named)
            .map_or(FileKind::Config, |m| m.kind)
    }
}

pub use crate::format::json5::pointer;

impl ManagedFile {
    /// The mode of a backup copy of a file that had mode `before`.
    pub fn backup_mode(&self, before: Option<u32>) -> u32 {
        match before {
            Some(m) if !self.private => m,
            _ => self.mode,
        }
    }

    /// Our provider's entry: the catalog's parent.
    pub fn provider(&self) -> Option<Pattern> {
        self.catalog.map(|c| &c[..c.len() - 1])
    }
}

/// One file's before and after. `before == None`: the file is created; `after == None`: it
/// is removed (a rollback of a file that setup created).
#[derive(Debug, Clone)]
pub struct FileChange {
    pub kind: FileKind,
    /// The path as addressed, inside the root.
    pub path: PathBuf,
    /// Where the bytes are written (a symlink's target).
    pub target: PathBuf,
    pub rel: String,
    pub before: Option<Vec<u8>>,
    pub after: Option<Vec<u8>>,
    pub mode_before: Option<u32>,
    pub mode_after: u32,
    pub symlink: bool,
    /// What changes, in words: read once from both sides by the report (the summary and
    /// the recap both name it, and reading a 1 MB config whole twice more was most of a
    /// dry run's reading).
    pub words: std::sync::OnceLock<Vec<String>>,
}

impl FileChange {
    pub fn content_changed(&self) -> bool {
        self.before != self.after
    }

    pub fn mode_changed(&self) -> bool {
        self.after.is_some() && self.mode_before != Some(self.mode_after)
    }

    pub fn changed(&self) -> bool {
        self.content_changed() || self.mode_changed()
    }

    pub fn is_new(&self) -> bool {
        self.before.is_none()
    }

    pub fn is_removal(&self) -> bool {
        self.after.is_none() && self.before.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_indexed_by_kind_and_named_once() {
        for (i, m) in MANAGED.iter().enumerate() {
            assert_eq!(m.kind as usize, i);
            assert_eq!(FileKind::from_name(m.name), Some(m.kind));
            // The report's JSON names a kind as the manifest does.
            assert_eq!(serde_json::to_value(m.kind).unwrap(), m.name);
        }
        assert_eq!(FileKind::from_name("nope"), None);
    }

    #[test]
    fn kind_at_a_path() {
        assert_eq!(FileKind::at(".env"), FileKind::Env);
        assert_eq!(FileKind::at("agents/a/agent/models.json"), FileKind::Models);
        assert_eq!(FileKind::at("models.json"), FileKind::Models);
        assert_eq!(FileKind::at("openclaw.json"), FileKind::Config);
        assert_eq!(FileKind::at("/etc/x.json5"), FileKind::Config);
    }
}
