//! `verify --via-gateway`: the proof from the process that will serve the user. One tiny
//! message through the Gateway running for the root (`openclaw agent` without `--local`, in
//! a session of its own so the user's conversations stay as they were); it passes when the
//! Gateway answered through GateRouter. The Gateway uses its own environment and what it
//! read from `.env` when it started, which is exactly what a direct request cannot show.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::openclaw::gateway::{self, KeyHeld};

/// The session the message goes to: its own, not the user's main one.
pub const SESSION: &str = "gaterouter-setup-verify";

#[derive(Debug, Clone, Default, Serialize)]
pub struct GatewayRun {
    /// The Gateway's pid and port, when one runs for the root.
    pub pid: Option<u32>,
    pub port: Option<u16>,
    /// What it holds for `GATEROUTER_API_KEY` against `.env` now.
    pub key: Option<KeyHeld>,
    /// The command run (its arguments hold no secret).
    pub command: String,
    pub ok: bool,
    pub exit_code: Option<i32>,
    pub ms: u64,
    /// The provider and model that answered, as the Gateway reports them.
    pub provider: Option<String>,
    pub model: Option<String>,
    /// The start of the answer.
    pub answer: Option<String>,
    pub error: Option<String>,
}

impl GatewayRun {
    /// Nothing could be sent: `why`.
    pub fn not_run(why: &str) -> GatewayRun {
        GatewayRun {
            error: Some(why.to_owned()),
            ..GatewayRun::default()
        }
    }
}

/// Sends the message through the Gateway of `root`, within `timeout`.
pub fn run(
    bin: &Path,
    root: &Path,
    config: Option<&Path>,
    env_file: (&Path, Option<&[u8]>),
    agent: Option<&str>,
    timeout: Duration,
) -> GatewayRun {
    let args = agent_args(agent.unwrap_or("main"), timeout);
    let command = format!("openclaw {}", args.join(" "));
    let start = Instant::now();
    let running = gateway::find(root);
    let mut out = GatewayRun {
        pid: running.as_ref().map(|r| r.pid),
        port: running.as_ref().and_then(|r| r.port),
        key: running.as_ref().map(|r| r.key_now(env_file.0, env_file.1)),
        command: command.clone(),
        ..GatewayRun::default()
    };
    if running.is_none() {
        out.error = Some(format!(
            "no Gateway runs for {} (no live {} under its tmp/ directory): start it (openclaw gateway run, or openclaw gateway start for the service) and verify again",
            root.display(),
            gateway::STATE_LOCK
        ));
        return out;
    }
    // The CLI's own start and the Gateway's turn, on top of the model's time.
    let limit = timeout + Duration::from_secs(60);
    // Nothing of ours in its environment: the Gateway answers with its own, which is the point.
    let mut c = gateway::cli(bin, root, config);
    c.args(&args);
    let done = crate::sys::child::run_full(c, limit, 4 << 20);
    out.ms = start.elapsed().as_millis() as u64;
    match done {
        Ok(done) => read_reply(&mut out, &done),
        Err(e) => out.error = Some(format!("{command}: {e}")),
    }
    out
}

/// `openclaw agent` with the prompt, in our own session of `agent`, as JSON.
fn agent_args(agent: &str, timeout: Duration) -> Vec<String> {
    let session = format!("agent:{agent}:{SESSION}");
    let secs = timeout.as_secs().max(1).to_string();
    [
        "agent",
        "--agent",
        agent,
        "--session-key",
        &session,
        "--message",
        super::ask::PROMPT,
        "--json",
        "--timeout",
        &secs,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Fills `out` from the CLI's JSON reply: it passes when the Gateway answered through
/// GateRouter; otherwise `out.error` says why.
fn read_reply(out: &mut GatewayRun, done: &crate::sys::child::Output) {
    out.exit_code = done.status.code();
    let v = gateway::first_json(&done.stdout);
    let meta = v.as_ref().map(|v| &v["result"]["meta"]["agentMeta"]);
    out.provider = text_at(meta.map(|m| &m["provider"]));
    out.model = text_at(meta.map(|m| &m["model"]));
    out.answer = text_at(v.as_ref().map(|v| &v["result"]["payloads"][0]["text"]))
        .map(|a| a.chars().take(200).collect());
    let status_ok = v.as_ref().is_some_and(|v| v["status"] == "ok");
    out.ok = done.status.success()
        && status_ok
        && out.provider.as_deref() == Some(super::resolve::PROVIDER)
        && out.answer.is_some();
    if !out.ok {
        out.error = Some(failure(out, v.as_ref(), status_ok, &done.stderr));
    }
}

/// Why the run did not pass: another provider answered (the Gateway has not applied our
/// config), or the CLI's own error, else the end of its stderr. A Gateway whose own
/// environment shadows `.env`'s key is named, since that is the likely cause.
fn failure(
    out: &GatewayRun,
    v: Option<&serde_json::Value>,
    status_ok: bool,
    stderr: &[u8],
) -> String {
    let e = match (&out.provider, status_ok) {
        (Some(p), true) => format!(
            "the Gateway answered through {p}/{}, not GateRouter: it has not applied the GateRouter config (it hot-reloads within seconds of a change; a config it rejected is in its log)",
            out.model.as_deref().unwrap_or("?")
        ),
        _ => text_at(v.map(|v| &v["error"]["message"]))
            .or_else(|| text_at(v.map(|v| &v["summary"])))
            .unwrap_or_else(|| super::openclaw::last_lines(&String::from_utf8_lossy(stderr), 4)),
    };
    if out.key == Some(KeyHeld::Shadowed) {
        return format!(
            "{e} (its own environment sets another GATEROUTER_API_KEY, which wins over .env)"
        );
    }
    e
}

/// The string at `x`, if it is one.
fn text_at(x: Option<&serde_json::Value>) -> Option<String> {
    x.and_then(|x| x.as_str()).map(str::to_owned)
}
