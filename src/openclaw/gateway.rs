//! The OpenClaw Gateway running for a root (issue 22): whether one runs, what our writes do
//! to it, whether it holds the key, and restarting it.
//!
//! Observed with OpenClaw 2026.9.6 and `openclaw gateway run`: the Gateway hot-applies the
//! paths we write in `openclaw.json` within seconds (0.5 s idle, 6 s on two busy cores), but reads `<root>/.env` only when
//! it starts. `openclaw secrets reload` re-resolves SecretRefs from the environment it
//! already has (it does not read `.env`). An in-process restart (what `openclaw gateway
//! restart` does to a Gateway no service manager supervises) reads `.env` again, but only
//! for names its environment does not have yet: a changed key needs a new process. A
//! supervised Gateway (systemd, launchd) restarts as a new process and reads `.env` afresh,
//! except names its service environment sets, which win over `.env` every time.
//!
//! So a first setup under a running Gateway would switch it to `gaterouter/auto` before it
//! has the key ("[SECRETS_DEGRADED] cold provider:gaterouter"), and every message fails until
//! it restarts. The one order without that window is: `.env`, then a restart, then the
//! config (`txn::apply::apply_staged`); without a restart, setup refuses.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::gaterouter::key::ENV_VAR;
use crate::openclaw::files::{FileChange, FileKind};

/// The Gateway's state ownership lock: `<state dir>/tmp/openclaw-<uid>/gateway.state.lock`,
/// JSON `{pid, stateDir, configPath, port, startTime, createdAt}` followed by padding,
/// rewritten at every (re)start and removed on shutdown (2026.9.6 `resolveGatewayLockDir`;
/// docs/gateway/gateway-lock.md). One per state directory, so it names the Gateway of this
/// root and no other; a Gateway killed hard leaves it behind, hence the pid check.
pub const LOCK_PARENT: &str = "tmp";
pub const LOCK_DIR_PREFIX: &str = "openclaw-";
pub const STATE_LOCK: &str = "gateway.state.lock";

/// The `openclaw.json` paths setup writes. OpenClaw's reload rules ("Agent & models":
/// `agents`, `models`, `auth.order`, `auth.profiles`; docs/gateway/configuration/hot-reload.md)
/// hot-apply every one of them: no restart, the change is live within seconds.
pub const HOT_PATHS: [&str; 4] = [
    "agents.defaults.model",
    "agents.defaults.models",
    "auth.profiles",
    "models.providers.gaterouter",
];

/// Environment names by which OpenClaw knows a service manager supervises its Gateway
/// (2026.9.6 `supervisor-markers`: `SUPERVISOR_HINTS`), and which one.
const SUPERVISORS: [(&str, &[&str]); 2] = [
    (
        "systemd",
        &[
            "OPENCLAW_SYSTEMD_UNIT",
            "INVOCATION_ID",
            "SYSTEMD_EXEC_PID",
            "JOURNAL_STREAM",
        ],
    ),
    (
        "launchd",
        &[
            "OPENCLAW_LAUNCHD_LABEL",
            "LAUNCH_JOB_LABEL",
            "LAUNCH_JOB_NAME",
            "XPC_SERVICE_NAME",
        ],
    ),
];

/// A lock file is a few hundred bytes; anything bigger is not one.
const LOCK_MAX: u64 = 64 * 1024;
/// A process environment is at most a few hundred KB (ARG_MAX shares it with argv).
const ENVIRON_MAX: u64 = 4 * 1024 * 1024;
/// `openclaw gateway restart` waits for the Gateway to be healthy again (about 20 s on two
/// busy cores); a service's drain may take longer.
pub const RESTART_TIMEOUT: Duration = Duration::from_secs(240);

/// A Gateway that runs for a root.
#[derive(Debug, Clone)]
pub struct Running {
    pub pid: u32,
    pub port: Option<u16>,
    /// When it last (re)started: the moment it last read `.env` (the lock's mtime).
    pub since: Option<SystemTime>,
    /// `systemd`, `launchd`, or `None`: a foreground or otherwise unsupervised process.
    pub supervisor: Option<&'static str>,
    /// Its own `GATEROUTER_API_KEY` (inherited at exec, not from `.env`), when its
    /// environment could be read; `Err` says why not.
    own_key: Result<Option<String>, String>,
}

/// What the Gateway has for `GATEROUTER_API_KEY` compared with what `.env` will hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyHeld {
    /// The key `.env` will hold (from its own environment, or from `.env` when it started).
    Same,
    /// None at all: it reads the key at its next start (an in-process restart too).
    Missing,
    /// An older key, read from `.env` when it started: only a new process reads the new one.
    Older,
    /// Its own environment sets another key, which wins over `.env` at every start.
    Shadowed,
    /// `.env` changed after it started, so what it read then is not known.
    Unsure,
    /// Its environment cannot be read (another user's process, or no /proc).
    Unknown,
}

/// One root's Gateway as the plan meets it.
#[derive(Debug, Clone)]
pub struct Outlook {
    pub running: Running,
    pub key: KeyHeld,
    /// The plan changes `openclaw.json` or a `models.json`: live within seconds.
    pub config_changes: bool,
    /// The plan changes the key in `.env`.
    pub key_changes: bool,
    /// After the write the config needs the key (setup, or a rollback to a set-up state).
    pub needs_key: bool,
}

/// The Gateway running for `root` (a state directory), found by its own lock, or `None`.
pub fn find(root: &Path) -> Option<Running> {
    let base = root.join(LOCK_PARENT);
    let real_root = std::fs::canonicalize(root).ok()?;
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&base)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(LOCK_DIR_PREFIX))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .find_map(|d| read_lock(&d.join(STATE_LOCK), &real_root))
}

fn read_lock(path: &Path, real_root: &Path) -> Option<Running> {
    // Never through a link: the lock is OpenClaw's file in our root.
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() > LOCK_MAX {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    // The JSON document is followed by whitespace padding: read the first value only.
    let lock: serde_json::Value = serde_json::Deserializer::from_slice(&bytes)
        .into_iter()
        .next()?
        .ok()?;
    let pid = u32::try_from(lock["pid"].as_u64()?).ok()?;
    if let Some(dir) = lock["stateDir"].as_str()
        && std::fs::canonicalize(dir).ok().as_deref() != Some(real_root)
    {
        return None;
    }
    if !alive(pid, lock["startTime"].as_u64()) {
        return None;
    }
    let environ = read_environ(pid);
    Some(Running {
        pid,
        port: lock["port"].as_u64().and_then(|p| u16::try_from(p).ok()),
        since: meta.modified().ok(),
        supervisor: environ.as_ref().ok().and_then(|vars| supervisor(vars)),
        own_key: environ.map(|vars| {
            vars.into_iter()
                .find(|(k, _)| k == ENV_VAR)
                .map(|(_, v)| v.to_string_lossy().into_owned())
        }),
    })
}

/// Whether `pid` is the process that wrote the lock: alive, and (where /proc says) started
/// at the recorded clock tick, so a pid reused by another program is not taken for it.
fn alive(pid: u32, start: Option<u64>) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
    match (stat, start) {
        (Ok(s), Some(want)) => start_time(&s) == Some(want),
        (Ok(_), None) => true,
        (Err(_), _) => rustix::process::Pid::from_raw(pid as i32)
            .is_some_and(|p| rustix::process::test_kill_process(p).is_ok()),
    }
}

/// A process's start time in clock ticks, from its `/proc/<pid>/stat`: field 22, counted
/// after the `(comm)` field, which may hold spaces.
fn start_time(stat: &str) -> Option<u64> {
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()
}

/// The environment `pid` was started with, as `(name, value)` pairs.
fn read_environ(pid: u32) -> Result<Vec<(String, OsString)>, String> {
    use std::io::Read;
    use std::os::unix::ffi::OsStringExt;
    let path = format!("/proc/{pid}/environ");
    let mut b = Vec::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(ENVIRON_MAX).read_to_end(&mut b))
        .map_err(|e| format!("{path}: {e}"))?;
    Ok(b.split(|&c| c == 0)
        .filter_map(|kv| {
            let i = kv.iter().position(|&c| c == b'=')?;
            let k = String::from_utf8(kv[..i].to_vec()).ok()?;
            Some((k, OsString::from_vec(kv[i + 1..].to_vec())))
        })
        .collect())
}

fn supervisor(vars: &[(String, OsString)]) -> Option<&'static str> {
    SUPERVISORS.iter().find_map(|(name, marks)| {
        vars.iter()
            .any(|(k, v)| marks.contains(&k.as_str()) && !v.is_empty())
            .then_some(*name)
    })
}

/// The key a `.env` of these bytes gives OpenClaw (its last assignment; none from a file too
/// large to be read).
fn env_key(bytes: Option<&[u8]>) -> Option<String> {
    let vars = crate::format::dotenv::effective(&String::from_utf8_lossy(bytes?))?;
    vars.into_iter().find(|(k, _)| k == ENV_VAR).map(|(_, v)| v)
}

/// The Gateway of `root` and what a plan's `files` do to it; `None` when none runs.
pub fn outlook(root: &Path, files: &[FileChange]) -> Option<Outlook> {
    let running = find(root)?;
    let env = files.iter().find(|f| f.kind == FileKind::Env);
    let before = env.and_then(|f| env_key(f.before.as_deref()));
    let after = env.map_or_else(|| before.clone(), |f| env_key(f.after.as_deref()));
    // When `.env` last changed before this write: after the Gateway's start, it may hold
    // something else than what `.env` holds now.
    let env_changed_since = env.is_some_and(|f| changed_since(&f.target, running.since));
    let key = key_held(
        &running,
        before.as_deref(),
        after.as_deref(),
        env_changed_since,
    );
    Some(Outlook {
        key,
        config_changes: files
            .iter()
            .filter(|f| f.changed())
            .any(|f| matches!(f.kind, FileKind::Config | FileKind::Models)),
        key_changes: before != after,
        needs_key: after.is_some(),
        running,
    })
}

/// Whether the file at `path` was modified after `since` (the Gateway's last start).
fn changed_since(path: &Path, since: Option<SystemTime>) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .zip(since)
        .is_some_and(|(modified, since)| modified > since)
}

/// What `running` holds for the key, when `.env` held `before` at its last start (unless
/// `.env` changed since) and will hold `after`.
fn key_held(
    running: &Running,
    before: Option<&str>,
    after: Option<&str>,
    env_changed_since: bool,
) -> KeyHeld {
    match &running.own_key {
        Err(_) => KeyHeld::Unknown,
        Ok(Some(own)) if after == Some(own.as_str()) => KeyHeld::Same,
        Ok(Some(_)) => KeyHeld::Shadowed,
        Ok(None) if env_changed_since => KeyHeld::Unsure,
        Ok(None) => match before {
            None => KeyHeld::Missing,
            Some(b) if Some(b) == after => KeyHeld::Same,
            Some(_) => KeyHeld::Older,
        },
    }
}

impl Running {
    /// What it holds compared with the key `.env` (at `env_path`, with these bytes) holds
    /// now: for `verify --via-gateway`, where nothing is about to change.
    pub fn key_now(&self, env_path: &Path, env_bytes: Option<&[u8]>) -> KeyHeld {
        let now = env_key(env_bytes);
        let changed = changed_since(env_path, self.since);
        key_held(self, now.as_deref(), now.as_deref(), changed)
    }
}

impl Outlook {
    /// The write would switch the Gateway to GateRouter while it has no key at all: every
    /// message fails until it restarts. (`Unsure` may be that too; it is warned about.)
    pub fn window(&self) -> bool {
        self.config_changes && self.needs_key && self.key == KeyHeld::Missing
    }

    /// Whether a restart gives the Gateway the key `.env` will hold.
    pub fn restart_helps(&self) -> bool {
        self.needs_key
            && match self.key {
                KeyHeld::Missing | KeyHeld::Unsure => true,
                KeyHeld::Older => self.running.supervisor.is_some(),
                KeyHeld::Same | KeyHeld::Shadowed | KeyHeld::Unknown => false,
            }
    }

    /// A restart is worth running: it gives the key, or the key changes and a restart is
    /// the only way it might reach the Gateway.
    pub fn restart_wanted(&self) -> bool {
        self.restart_helps() || (self.needs_key && self.key_changes && self.key != KeyHeld::Same)
    }

    /// What the plan means for the Gateway, said before anything is written. `restart`:
    /// `--restart-gateway` (`Some(true)`), `--no-restart-gateway` (`Some(false)`), neither.
    pub fn before(&self, restart: Option<bool>) -> Vec<String> {
        let r = &self.running;
        let hot = if self.config_changes {
            format!(
                "; it hot-applies the config changes ({}) within seconds, no restart needed, \
                 and reads .env only when it starts",
                HOT_PATHS.join(", ")
            )
        } else {
            "; it reads .env only when it starts".to_owned()
        };
        let who = format!(
            "A Gateway runs for this root (pid {}{}{}){hot}.",
            r.pid,
            r.port.map(|p| format!(", port {p}")).unwrap_or_default(),
            r.supervisor
                .map(|s| format!(", under {s}"))
                .unwrap_or_default()
        );
        let key = match self.key {
            KeyHeld::Same => "It already holds this GATEROUTER_API_KEY, so it switches over with the key: no restart needed.".to_owned(),
            KeyHeld::Missing if !self.needs_key => return vec![who],
            KeyHeld::Missing => match restart {
                Some(true) => "It has no GATEROUTER_API_KEY yet. --restart-gateway: .env is written first, then the Gateway restarts (openclaw gateway restart) and reads it, and only then the config switches it to GateRouter, so no message finds it without the key.".to_owned(),
                Some(false) => "It has no GATEROUTER_API_KEY yet, and --no-restart-gateway was given: from the config write until you restart it (openclaw gateway restart), every message through it fails (\"Secret owner provider:gaterouter is configured but unavailable\").".to_owned(),
                None => "It has no GATEROUTER_API_KEY yet: it would switch to GateRouter within seconds and fail every message until restarted. Pass --restart-gateway (write .env, restart it, then the config), or --no-restart-gateway to write anyway and restart it yourself.".to_owned(),
            },
            KeyHeld::Older if r.supervisor.is_some() => format!(
                "It holds an older GATEROUTER_API_KEY, read from .env when it started, and sends that until it restarts{}.",
                if restart == Some(true) { " (--restart-gateway: it restarts as a new process, which reads the new one)" } else { "; --restart-gateway restarts it as a new process, which reads the new one" }
            ),
            KeyHeld::Older => "It holds an older GATEROUTER_API_KEY, read from .env when it started, and sends that until it is stopped and started again: openclaw gateway restart restarts a Gateway no service manager supervises in-process, which keeps the key it has (OpenClaw 2026.9.6).".to_owned(),
            KeyHeld::Shadowed => "Its own environment sets another GATEROUTER_API_KEY, which wins over .env at every start, so it keeps sending that key whatever setup writes: change or unset it where the Gateway is started (its service unit or shell), then restart it.".to_owned(),
            KeyHeld::Unsure => format!(
                ".env changed after it started, so whether it holds this GATEROUTER_API_KEY is not known{}.",
                if restart == Some(true) { "; --restart-gateway: .env first, then a restart, then the config" } else { "; --restart-gateway writes .env, restarts it, then the config" }
            ),
            KeyHeld::Unknown => format!(
                "Its environment cannot be read ({}), so whether it holds GATEROUTER_API_KEY is not known; if it does not, restart it (openclaw gateway restart) after setup.",
                r.own_key.as_ref().err().map_or("", String::as_str)
            ),
        };
        vec![who, key]
    }

    /// What took effect, said after the write.
    pub fn after(&self, restarted: Option<&Restarted>) -> Vec<String> {
        let mut out = Vec::new();
        if self.config_changes {
            out.push(format!(
                "The running Gateway (pid {}) applies the new config now ({}: hot reload, no restart).",
                self.running.pid,
                HOT_PATHS.join(", ")
            ));
        }
        match restarted {
            Some(r) if r.ok => out.push(format!(
                "Restarted the Gateway ({}) before the config was written, so it read .env{}.",
                r.command,
                if self.key == KeyHeld::Older && self.running.supervisor.is_none() {
                    "; it was restarted in-process and keeps the older key it had: stop it and start it again to use the new one"
                } else {
                    " and holds the key"
                }
            )),
            Some(r) => out.push(format!(
                "The Gateway restart failed ({}): {}",
                r.command, r.message
            )),
            None => match self.key {
                KeyHeld::Same => {
                    out.push("It already holds this GATEROUTER_API_KEY: nothing to restart.".into())
                }
                KeyHeld::Missing if self.needs_key => out.push(
                    "It has no GATEROUTER_API_KEY until it restarts: run openclaw gateway restart now; every message fails until then.".into(),
                ),
                KeyHeld::Older | KeyHeld::Unsure if self.needs_key && self.key_changes => out.push(
                    "It reads the new GATEROUTER_API_KEY from .env only when it starts again (openclaw gateway restart; a Gateway started by hand: stop it and start it again).".into(),
                ),
                KeyHeld::Shadowed if self.needs_key => out.push(
                    "Its own environment sets another GATEROUTER_API_KEY, which it keeps sending: change it where the Gateway is started.".into(),
                ),
                _ => {}
            },
        }
        out
    }

    /// The report's `gateway` value.
    pub fn value(&self, restarted: Option<&Restarted>, after: bool) -> serde_json::Value {
        let r = &self.running;
        let mut v = serde_json::json!({
            "running": true,
            "pid": r.pid,
            "port": r.port,
            "supervisor": r.supervisor,
            "key": self.key,
            "hot_reload": if self.config_changes { HOT_PATHS.to_vec() } else { Vec::new() },
            "window": self.window(),
            "restart": restarted,
        });
        v["notes"] = if after {
            self.after(restarted).into()
        } else {
            self.before(None).into()
        };
        v
    }
}

/// How `openclaw gateway restart` went.
#[derive(Debug, Clone, Serialize)]
pub struct Restarted {
    /// The command run (its arguments hold no secret).
    pub command: String,
    pub ok: bool,
    pub message: String,
}

/// The OpenClaw CLI run for `root` (its Gateway's commands): the child gets PATH, HOME,
/// the root as its state dir and the config path: nothing else of ours, the key least of
/// all, so what it reports about the key is the Gateway's own.
pub fn cli(bin: &Path, root: &Path, config: Option<&Path>) -> Command {
    let mut c = Command::new(bin);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("OPENCLAW_STATE_DIR", root)
        .env("NO_COLOR", "1");
    if let Some(p) = config {
        c.env("OPENCLAW_CONFIG_PATH", p);
    }
    // The run already acts as the root's owner (`privilege`), HOME included: so does this
    // child, and OpenClaw finds that user's Gateway.
    for k in ["HOME", "USER", "LOGNAME"] {
        if let Some(v) = std::env::var_os(k) {
            c.env(k, v);
        }
    }
    c
}

/// Runs `openclaw gateway restart --json` for `root` within [`RESTART_TIMEOUT`], as the
/// run's user (the root's owner, see `privilege`), through [`cli`].
pub fn restart(bin: &Path, root: &Path, config: Option<&Path>) -> Restarted {
    const ARGS: [&str; 3] = ["gateway", "restart", "--json"];
    let command = format!("openclaw {}", ARGS.join(" "));
    let mut c = cli(bin, root, config);
    c.args(ARGS);
    let out = match crate::sys::child::run_full(c, RESTART_TIMEOUT, 1 << 20) {
        Ok(o) => o,
        Err(e) => {
            return Restarted {
                message: format!("{command}: {e}"),
                command,
                ok: false,
            };
        }
    };
    let answer = first_json(&out.stdout);
    let said = |k: &str| {
        answer
            .as_ref()
            .and_then(|a| a.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let ok =
        out.status.success() && answer.as_ref().and_then(|a| a.get("ok")) == Some(&true.into());
    let message = said("message")
        .or_else(|| said("error"))
        .unwrap_or_else(|| last_lines(&String::from_utf8_lossy(&out.stderr), 3));
    Restarted {
        command,
        ok,
        message: crate::redact::text::one_line(&message, 300),
    }
}

/// The first JSON document in an OpenClaw command's `--json` output: OpenClaw may print log
/// lines (plugin notes, warnings) before it.
pub fn first_json(stdout: &[u8]) -> Option<serde_json::Value> {
    let text = String::from_utf8_lossy(stdout);
    let at = text.find('{')?;
    serde_json::Deserializer::from_str(&text[at..])
        .into_iter()
        .next()?
        .ok()
}

fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.trim().lines().collect();
    lines[lines.len().saturating_sub(n)..].join(" / ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock_for(dir: &Path, pid: u32, start: Option<u64>, state: &Path) {
        let d = dir.join(LOCK_PARENT).join("openclaw-0");
        std::fs::create_dir_all(&d).unwrap();
        let mut v = serde_json::json!({"pid": pid, "stateDir": state, "port": 18789});
        if let Some(s) = start {
            v["startTime"] = s.into();
        }
        // Padded the way OpenClaw pads it.
        std::fs::write(d.join(STATE_LOCK), format!("{v:#}\n\t \t  \t")).unwrap();
    }

    fn own_start() -> Option<u64> {
        start_time(&std::fs::read_to_string("/proc/self/stat").ok()?)
    }

    #[test]
    fn a_live_lock_for_this_root_is_its_gateway() {
        let tmp = tempfile::tempdir().unwrap();
        lock_for(tmp.path(), std::process::id(), own_start(), tmp.path());
        let r = find(tmp.path()).expect("our own process holds the lock");
        assert_eq!(r.pid, std::process::id());
        assert_eq!(r.port, Some(18789));
    }

    #[test]
    fn a_stale_reused_or_foreign_lock_is_no_gateway() {
        let tmp = tempfile::tempdir().unwrap();
        // A pid that started at another tick is another process that got the same pid.
        if let Some(s) = own_start() {
            lock_for(tmp.path(), std::process::id(), Some(s + 1), tmp.path());
            assert!(find(tmp.path()).is_none());
        }
        // The lock of another state directory.
        let other = tempfile::tempdir().unwrap();
        lock_for(tmp.path(), std::process::id(), own_start(), other.path());
        assert!(find(tmp.path()).is_none());
        // A process that is gone (pid_max is at most 2^22).
        lock_for(tmp.path(), (1 << 22) + 7, None, tmp.path());
        assert!(find(tmp.path()).is_none());
        // Not JSON at all.
        std::fs::write(
            tmp.path()
                .join(LOCK_PARENT)
                .join("openclaw-0")
                .join(STATE_LOCK),
            "garbage",
        )
        .unwrap();
        assert!(find(tmp.path()).is_none());
    }
}
