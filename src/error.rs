//! One error type for the whole pipeline. Every variant names the file, JSON path or
//! setting involved, so the one-paragraph message a user sees says what and where.

use std::path::PathBuf;

/// Process exit codes (see DESIGN.md, "Modes and exit codes").
pub mod exit {
    pub const OK: i32 = 0;
    pub const INPUT: i32 = 1;
    pub const PENDING: i32 = 2;
    pub const PROBE: i32 = 3;
    pub const APPLY: i32 = 4;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Command-line usage that clap cannot catch (conflicting sources of the key, ...).
    #[error("{0}")]
    Usage(String),

    /// An I/O failure, always with its path: fs-err puts it into `source`'s message, a plain
    /// `std` call does not ("Not a directory (os error 20)" said nothing of where).
    #[error("{}", io_message(.path, .source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the OpenClaw root {} does not exist; pass the directory that holds openclaw.json (usually ~/.openclaw), or set up OpenClaw first with `openclaw onboard`", path.display())]
    RootMissing { path: PathBuf },

    /// No root was named and OpenClaw's default state directory does not exist.
    #[error("there is no OpenClaw state directory at {} (the default root: $OPENCLAW_STATE_DIR, else ~/.openclaw), so nothing was done; set up OpenClaw first with `openclaw onboard`, or name the root: gaterouter-setup KEY ROOT", path.display())]
    NoDefaultRoot { path: PathBuf },

    /// A directory that holds nothing of OpenClaw's, named without `--init`.
    #[error("{} does not look like an OpenClaw state directory (no openclaw.json, no agents/, no .env with OpenClaw's variables), so nothing was done. Name the directory OpenClaw uses (usually ~/.openclaw; `openclaw onboard` creates it), or pass --init to create OpenClaw's files in this one", path.display())]
    NotARoot { path: PathBuf },

    /// A key where the root goes (`gaterouter-setup ROOT KEY`, `doctor KEY`): the argument is
    /// never echoed, not even in the JSON report's `error.path`.
    #[error("{}", key_as_root_message(*.swapped))]
    KeyAsRoot { swapped: bool },

    #[error("the OpenClaw root {} is not a directory; pass the directory that holds openclaw.json, not the file itself", path.display())]
    RootNotDir { path: PathBuf },

    #[error("{}: is a symlink to {}, which does not exist; fix or remove the link, then run again", path.display(), target.display())]
    DanglingSymlink { path: PathBuf, target: PathBuf },

    /// A file or directory refused as it is: unreadable, too large, not a regular file, or
    /// a backup directory that is not the one this tool made (a link, a file, someone else's).
    #[error("{}: {what}; nothing was changed", path.display())]
    Unreadable { path: PathBuf, what: String },

    /// Whose rights a run would use on a root is not settled (src/privilege.rs): several
    /// owners, a third user's link on the way, someone else's root without --as-invoker.
    #[error("{}: {message}", path.display())]
    RunAs { path: PathBuf, message: String },

    #[error("{}:{line}:{column}: not valid JSON5: {message}; fix the file (or restore it from a backup) and run again, nothing was changed", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{}{}: `{pointer}` must be {expected}, but it is {found}; fix that value and run again, nothing was changed", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    WrongType {
        path: PathBuf,
        line: Option<usize>,
        pointer: String,
        expected: &'static str,
        found: String,
    },

    #[error("{}{}: `{pointer}` appears more than once; OpenClaw reads only one of them, so remove the duplicate and run again, nothing was changed", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    DuplicateKey {
        path: PathBuf,
        line: Option<usize>,
        pointer: String,
    },

    /// OpenClaw's JSON5 reader (npm json5) and our editor (jsonc-parser) would read the file
    /// differently: editing it could change what OpenClaw loads without us seeing it.
    #[error("{}{}: {}{what}; OpenClaw reads this file with the json5 library and gaterouter-setup's editor does not read it the same way, so to be safe nothing was changed. {fix}, then run again", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default(), pointer.as_deref().map(|p| format!("`{p}`: ")).unwrap_or_default())]
    Misread {
        path: PathBuf,
        line: Option<usize>,
        pointer: Option<String>,
        what: String,
        fix: String,
    },

    #[error("{}:{line}: {message}; nothing was changed", path.display())]
    EnvSyntax {
        path: PathBuf,
        line: usize,
        message: String,
    },

    #[error(
        "the API key {0}; copy the key again from the GateRouter dashboard (Console → Settings → API keys)"
    )]
    InvalidKey(String),

    #[error("no API key given and none found in {}; pass it as the first argument, with --api-key-stdin, or in the GATEROUTER_API_KEY environment variable", env_path.display())]
    NoKey { env_path: PathBuf },

    #[error("{0}")]
    Template(String),

    /// The GateRouter probe says setup would not work; the message is the cause and fix.
    /// Its message says when --offline is worth trying: only when GateRouter is down, never
    /// for a rejected key or a wrong URL, which --offline would write unchecked.
    #[error("{message}; nothing was written")]
    Probe { message: String },

    #[error(
        "{var}=1 is set, so OpenClaw's configuration is read-only here and nothing was written; unset {var} to let gaterouter-setup apply changes (--dry-run still shows them)"
    )]
    ReadOnly { var: &'static str },

    #[error(
        "standard input is not a terminal, so there is nobody to confirm the changes and nothing was written; pass --yes to apply without asking, or --dry-run to only see the diff"
    )]
    NotInteractive,

    /// A running Gateway would hot-apply the switch to GateRouter before it has the key
    /// (it reads `.env` only when it starts): refused unless the user chose how (issue 22).
    #[error(
        "a Gateway runs for {} (pid {pid}) without GATEROUTER_API_KEY: it would switch to GateRouter within seconds of the write and fail every message until restarted, because it reads .env only when it starts; nothing was written. Pass --restart-gateway to write .env, restart it (openclaw gateway restart) and only then switch the model, or --no-restart-gateway to write anyway and restart it yourself",
        root.display()
    )]
    GatewayWithoutKey { root: PathBuf, pid: u32 },

    #[error(
        "interrupted (a signal came while another root was being written) before {} was changed; nothing was written to it",
        root.display()
    )]
    Interrupted { root: PathBuf },

    /// A prompt must never ask about changes that were not shown: `-q` and `--json` show no
    /// diff, so without `--yes` they are refused rather than asking blind. Showing the diff
    /// anyway would break the promise of `-q` (quiet) and of `--json` (one document, nothing
    /// else); refusing costs one re-run with the flag the user meant.
    #[error(
        "{flag} shows no diff, so there is nothing to confirm and nothing was written; pass --yes to apply without reviewing, or run without {flag} to review the changes and be asked"
    )]
    Unreviewed { flag: &'static str },

    #[error("another gaterouter-setup is running (pid {}) and held {} for {waited_secs}s; nothing was written. Wait for it to finish and run again (or raise --lock-timeout)", holder.as_deref().unwrap_or("unknown"), path.display())]
    Locked {
        path: PathBuf,
        /// The pid in the lock file: ASCII digits only, else `None` (see `txn::apply`).
        holder: Option<String>,
        waited_secs: u64,
    },

    #[error("OpenClaw is writing its configuration right now ({} is fresh) and was still at it after {waited_secs}s; nothing was written. Run again in a moment", path.display())]
    OpenClawBusy { path: PathBuf, waited_secs: u64 },

    #[error("{} changed on disk after the plan was made (another program wrote it), so nothing was written; run gaterouter-setup again to plan against the new contents", path.display())]
    ChangedOnDisk { path: PathBuf },

    /// A check that must never fail did: a bug of ours, caught before anything was written.
    #[error("{}: internal error: {what}; nothing was written. This is a bug in gaterouter-setup: please report it with this message", path.display())]
    Internal { path: PathBuf, what: String },

    /// A backup set that cannot be used as it is: a rollback refuses it rather than guess.
    #[error("the backup set {}: {what}; nothing was changed", set.display())]
    BadBackup { set: PathBuf, what: String },

    /// Files edited since the run a rollback would undo: rolling back would discard that.
    #[error("{} changed since gaterouter-setup wrote {} (backup set {stamp}), so rolling back would throw those edits away; nothing was changed. See what would be lost with `rollback --dry-run`, and pass --force to roll back anyway", list_paths(.paths), if .paths.len() == 1 { "it" } else { "them" })]
    ChangedSinceSetup { paths: Vec<PathBuf>, stamp: String },

    /// OpenClaw's config health check would take this write back, and its health state
    /// cannot be told otherwise (see `health::would_undo`; `message` is its `Undo`'s).
    #[error("{message}; nothing was changed. Pass --force to write it anyway")]
    OpenClawWouldUndo { config: PathBuf, message: String },

    #[error("{}", apply_message(.failed, .source, .restored, .restore_errors, .backup.as_deref()))]
    ApplyFailed {
        failed: PathBuf,
        #[source]
        source: std::io::Error,
        restored: Vec<PathBuf>,
        restore_errors: Vec<String>,
        /// The backup set holding the originals, when one was made.
        backup: Option<PathBuf>,
    },
}

fn io_message(path: &std::path::Path, source: &std::io::Error) -> String {
    let text = source.to_string();
    let shown = path.display().to_string();
    if shown.is_empty() || text.contains(&shown) {
        text
    } else {
        format!("{shown}: {text}")
    }
}

fn key_as_root_message(swapped: bool) -> String {
    if swapped {
        "the API key and the OpenClaw root look swapped: the argument in the root's place looks like an API key and is not a directory (so it is not shown here), and nothing was done. The key comes first: gaterouter-setup KEY ROOT".into()
    } else {
        "the argument given as the OpenClaw root looks like an API key and is not a directory (so it is not shown here); nothing was done. Pass the OpenClaw root there, the directory that holds openclaw.json (usually ~/.openclaw). Setup takes the key first (gaterouter-setup KEY ROOT) or from GATEROUTER_API_KEY; doctor, rollback and uninstall take no key".into()
    }
}

fn list_paths(paths: &[PathBuf]) -> String {
    let v: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    v.join(", ")
}

fn apply_message(
    failed: &std::path::Path,
    source: &std::io::Error,
    restored: &[PathBuf],
    restore_errors: &[String],
    backup: Option<&std::path::Path>,
) -> String {
    let mut msg = format!("writing {} failed: {source}. ", failed.display());
    if restored.is_empty() && restore_errors.is_empty() {
        msg.push_str("No file had been replaced yet, so everything is as it was.");
    } else if !restored.is_empty() {
        msg.push_str(&format!(
            "Restored the files already replaced to their previous contents: {}.",
            list_paths(restored)
        ));
    }
    if !restore_errors.is_empty() {
        msg.push_str(&format!(
            " Could NOT restore: {}; copies of the originals are in {}.",
            restore_errors.join("; "),
            backup.map_or(
                "the newest backup set under .gaterouter-backup/".to_owned(),
                |b| { format!("the backup set {}", b.display()) }
            )
        ));
    }
    msg
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::ApplyFailed { .. } => exit::APPLY,
            Error::Probe { .. } => exit::PROBE,
            _ => exit::INPUT,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The file this error is about, for the JSON report.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Error::Io { path, .. }
            | Error::RootMissing { path }
            | Error::NoDefaultRoot { path }
            | Error::NotARoot { path }
            | Error::RootNotDir { path }
            | Error::DanglingSymlink { path, .. }
            | Error::Unreadable { path, .. }
            | Error::RunAs { path, .. }
            | Error::Internal { path, .. }
            | Error::Parse { path, .. }
            | Error::WrongType { path, .. }
            | Error::DuplicateKey { path, .. }
            | Error::Misread { path, .. }
            | Error::EnvSyntax { path, .. }
            | Error::Locked { path, .. }
            | Error::OpenClawBusy { path, .. }
            | Error::ChangedOnDisk { path } => Some(path),
            Error::BadBackup { set, .. } => Some(set),
            Error::ChangedSinceSetup { paths, .. } => paths.first().map(PathBuf::as_path),
            Error::OpenClawWouldUndo { config, .. } => Some(config),
            Error::NoKey { env_path } => Some(env_path),
            Error::ApplyFailed { failed, .. } => Some(failed),
            _ => None,
        }
    }
}

/// Lets fs-err results flow into `Error` with `?`: its messages already carry the path.
impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Self {
        Error::io(PathBuf::new(), source)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
