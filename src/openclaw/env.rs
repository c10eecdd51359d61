//! The environment OpenClaw reads, as a snapshot: the variables that steer where a root is
//! and how it is read, and OpenClaw's rules for its home and its path variables. Apart from
//! the root so that what reads the environment (credentials, the root) need not read each
//! other.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The environment variables that steer discovery, snapshotted so tests can supply their own.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, OsString>,
}

/// `p` made absolute against the working directory, lexically (`std::path::absolute`).
pub fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

impl Env {
    const NAMES: &'static [&'static str] = &[
        "HOME",
        "OPENCLAW_HOME",
        "OPENCLAW_STATE_DIR",
        "OPENCLAW_PROFILE",
        "OPENCLAW_CONFIG_PATH",
        "OPENCLAW_CONFIG_READONLY",
        "OPENCLAW_NIX_MODE",
        crate::gaterouter::key::ENV_VAR,
    ];

    /// The variables above, and every `*_API_KEY` (doctor checks fallback providers' keys).
    pub fn from_process() -> Self {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v)))
            .filter(|(k, _)| Self::NAMES.contains(&k.as_str()) || k.ends_with("_API_KEY"))
            .collect();
        Env { vars }
    }

    /// This snapshot plus every other variable of the process: `verify` follows a key
    /// reference to whatever name it gives (a SecretRef `id`, a `${VAR}`), as OpenClaw does.
    pub fn with_rest_of_process(&self) -> Self {
        let mut vars = self.vars.clone();
        for (k, v) in std::env::vars_os() {
            if let Ok(k) = k.into_string() {
                vars.entry(k).or_insert(v);
            }
        }
        Env { vars }
    }

    /// This snapshot with `HOME` as the account the run switched to has it
    /// ([`crate::sys::privilege::RunAs::home`]; `None`: no home, `HOME` unset), so `~` and
    /// `~/.config/openclaw/gateway.env` are the owner's, as for OpenClaw run by the owner.
    pub fn with_home(&self, home: Option<&Path>) -> Self {
        let mut vars = self.vars.clone();
        match home {
            Some(h) => vars.insert("HOME".into(), h.as_os_str().to_owned()),
            None => vars.remove("HOME"),
        };
        Env { vars }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let vars = pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        Env { vars }
    }

    /// A variable's value; set-but-empty counts as unset, as in OpenClaw.
    pub fn get(&self, name: &str) -> Option<&OsString> {
        self.vars.get(name).filter(|v| !v.is_empty())
    }

    /// The names of the variables held that are set (and not empty).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, _)| k.as_str())
    }

    /// The variable that makes OpenClaw's config read-only, if any is set (to a true value).
    pub fn readonly_var(&self) -> Option<&'static str> {
        ["OPENCLAW_CONFIG_READONLY", "OPENCLAW_NIX_MODE"]
            .into_iter()
            .find(|v| {
                self.get(v)
                    .is_some_and(|v| matches!(v.to_str(), Some("1" | "true" | "yes")))
            })
    }

    /// OpenClaw's effective home: `OPENCLAW_HOME` (itself `~`-expanded), else `HOME`, as an
    /// absolute path (the working directory when neither is set, as OpenClaw falls back).
    pub(crate) fn home(&self) -> PathBuf {
        let os_home = self.get("HOME").map(PathBuf::from);
        let home = match self
            .get("OPENCLAW_HOME")
            .and_then(|h| h.to_str())
            .map(str::trim)
        {
            Some(h) if !h.is_empty() => expand_home(h, os_home.as_deref()),
            _ => os_home.unwrap_or_else(|| PathBuf::from(".")),
        };
        absolute(&home)
    }

    /// A path variable as OpenClaw resolves it (`resolveUserPath`): trimmed, a leading `~`
    /// expanded with the effective home, then made absolute against the working directory.
    /// Without this a relative or `~/…` value named a different file than OpenClaw uses.
    pub(crate) fn path(&self, name: &str) -> Option<PathBuf> {
        let v = self.get(name)?.to_str()?.trim();
        if v.is_empty() {
            return None;
        }
        let p = if v.starts_with('~') {
            expand_home(v, Some(&self.home()))
        } else {
            PathBuf::from(v)
        };
        Some(absolute(&p))
    }
}

/// `~` or `~/rest` → `home/rest`; `~user` is left as it is (OpenClaw does the same).
fn expand_home(v: &str, home: Option<&Path>) -> PathBuf {
    match (v.strip_prefix('~'), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            home.join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(v),
    }
}
