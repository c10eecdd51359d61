//! `--with-openclaw`: the proof from the real client. Runs OpenClaw's own one-shot
//! completion on the root (`openclaw infer model run --prompt …`; releases without `infer`
//! get `openclaw agent --local --message …`) with `OPENCLAW_STATE_DIR` set to the root, and
//! reports whether an answer came back.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The most of OpenClaw's stdout and of its stderr that is kept.
const MAX_OUTPUT: u64 = 4_000_000;

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct OpenClawRun {
    /// The command run (arguments only: none of them is a secret).
    pub command: String,
    pub ok: bool,
    pub exit_code: Option<i32>,
    pub ms: u64,
    /// The start of OpenClaw's answer.
    pub answer: Option<String>,
    /// Why it failed: the last lines OpenClaw printed, or why it could not run.
    pub error: Option<String>,
}

/// Runs OpenClaw's completion on `root`. `config` is an `OPENCLAW_CONFIG_PATH` to pass on.
pub fn run(
    bin: &Path,
    root: &Path,
    config: Option<&Path>,
    agent: Option<&str>,
    timeout: Duration,
) -> OpenClawRun {
    let prompt = super::ask::PROMPT;
    let agent = agent.unwrap_or("main");
    // `--local`: no Gateway needed (and none is started).
    let infer = [
        "infer", "model", "run", "--local", "--agent", agent, "--prompt", prompt,
    ];
    let first = exec(bin, root, config, &infer, timeout);
    let unknown = first.error.as_deref().is_some_and(|e| {
        let e = e.to_ascii_lowercase();
        e.contains("unknown command") && e.contains("infer")
    });
    if !unknown {
        return first;
    }
    let turn = ["agent", "--local", "--agent", agent, "--message", prompt];
    exec(bin, root, config, &turn, timeout)
}

fn exec(
    bin: &Path,
    root: &Path,
    config: Option<&Path>,
    args: &[&str],
    timeout: Duration,
) -> OpenClawRun {
    let command = format!("openclaw {}", args.join(" "));
    let mut c = Command::new(bin);
    // The environment is the user's own, TMPDIR included: this is their OpenClaw on their
    // root, so its lock files (`/tmp/openclaw-state-locks-<uid>/`, a fixed place TMPDIR does
    // not move) belong where every other run of it puts them.
    c.args(args)
        .env("OPENCLAW_STATE_DIR", root)
        .env("NO_COLOR", "1");
    if let Some(p) = config {
        c.env("OPENCLAW_CONFIG_PATH", p);
    }
    let start = Instant::now();
    let failed = |error: String| OpenClawRun {
        command: command.clone(),
        ms: start.elapsed().as_millis() as u64,
        error: Some(error),
        ..OpenClawRun::default()
    };
    // Its own process group, stopped at the limit with everything OpenClaw started, and
    // bounded reads (`child`): a worker it leaves holding the pipes cannot keep us past it.
    let out = match crate::sys::child::run_with(
        c,
        None,
        timeout,
        MAX_OUTPUT,
        Some(MAX_OUTPUT),
        crate::sys::child::Leftovers::Stop,
    ) {
        Ok(o) => o,
        Err(crate::sys::child::Failure::Spawn(e)) => {
            return failed(format!("could not run {}: {e}", bin.display()));
        }
        Err(crate::sys::child::Failure::Timeout(_)) => {
            return failed(format!(
                "{command} did not finish within {} s and was stopped",
                timeout.as_secs()
            ));
        }
    };
    let status = out.status;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let answer = stdout.trim();
    let ok = status.success() && !answer.is_empty();
    OpenClawRun {
        command: command.clone(),
        ok,
        exit_code: status.code(),
        ms: start.elapsed().as_millis() as u64,
        answer: (!answer.is_empty()).then(|| answer.chars().take(200).collect()),
        error: (!ok).then(|| match last_lines(&stderr, 5) {
            t if t.is_empty() => last_lines(&stdout, 5),
            t => t,
        }),
    }
}

/// The last `n` lines of a CLI's output, where its error is.
pub(super) fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.trim().lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
