//! `gaterouter-setup verify`: the thin part. Resolve and check in [`crate::ops::verify`], print
//! here (a line per model, a cause and fix per failure) or as one JSON document.

use super::*;
use crate::ops::setup::Verified;
use crate::ops::verify::{self, ModelResult, VerifyReport};

/// Runs verify on one root; exit 0 when the primary answered, 3 when not, 1 when the root
/// cannot be read.
pub(super) fn run_verify(a: &VerifyArgs, cx: &Ctx) -> i32 {
    let sink = cx.sink;
    // The key reference may name any variable, not only the ones setup snapshots.
    let env = &cx.env.with_rest_of_process();
    // The owner's exec SecretRef runs, and its file SecretRef is read, as the owner.
    Ctx { env, ..*cx }.in_owned_root(a.root.as_deref(), a.json, Mode::DryRun, |o| {
        let config = o.config.as_deref();
        let root = root::discover(&o.dir, config, a.agent.as_deref())?;
        let resolved = verify::resolve(&root, &o.env, a.agent.as_deref(), sink.secrets())?;
        let opts = verify::Options {
            all: a.all,
            timeout: std::time::Duration::from_secs(a.timeout),
            ..verify::Options::default()
        };
        let mut report = verify::run(&resolved, &opts);
        openclaw_runs(a, &o.dir, config, &mut report);
        verify::credit_openclaw(&mut report);
        let code = crate::ops::setup::verify_exit_code(&report);
        if a.json {
            let mut v = serde_json::to_value(&report).unwrap_or_default();
            v["version"] = serde_json::json!(report::REPORT_VERSION);
            v["exit_code"] = serde_json::json!(code);
            v["run_as"] = run_as_json();
            sink.json(&v);
        } else {
            print(sink, &report, cx.quiet);
        }
        Ok(code)
    })
}

/// What `--with-openclaw` and `--via-gateway` add to the report: OpenClaw's own run of the
/// model and the tiny message through the running Gateway, each skipped with a reason when
/// there is no `openclaw` on PATH.
fn openclaw_runs(a: &VerifyArgs, dir: &Path, config: Option<&Path>, report: &mut VerifyReport) {
    if !(a.with_openclaw || a.via_gateway) {
        return;
    }
    // Found as the version check finds it (an executable file, absolute PATH entries only).
    let bin = crate::openclaw::version::find_binary(std::env::var_os("PATH").as_deref());
    if a.with_openclaw {
        match &bin {
            Some(bin) => {
                let limit = std::time::Duration::from_secs(a.timeout.saturating_mul(10));
                report.openclaw = Some(verify::openclaw::run(
                    bin,
                    dir,
                    config,
                    a.agent.as_deref(),
                    limit,
                ));
            }
            None => report.warnings.push(
                "--with-openclaw: no `openclaw` on PATH, so OpenClaw's own run was skipped".into(),
            ),
        }
    }
    if a.via_gateway {
        report.gateway = Some(match &bin {
            Some(bin) => {
                let root = root::discover(dir, config, None).ok();
                let env_file = root.as_ref().map_or((dir.join(".env"), None), |r| {
                    (r.env.target.clone(), r.env.bytes.clone())
                });
                verify::gateway::run(
                    bin,
                    dir,
                    config,
                    (&env_file.0, env_file.1.as_deref()),
                    a.agent.as_deref(),
                    std::time::Duration::from_secs(a.timeout),
                )
            }
            None => verify::gateway::GatewayRun::not_run(
                "--via-gateway: no `openclaw` on PATH to send the message with",
            ),
        });
    }
}

/// The report as lines; `quiet`: the errors only.
fn print(sink: &Sink, r: &VerifyReport, quiet: bool) {
    if !quiet {
        print_lines(sink, r);
    }
    print_errors(sink, r);
    if !quiet {
        print_verdict(sink, r);
    }
}

fn print_lines(sink: &Sink, r: &VerifyReport) {
    outln!(sink, "OpenClaw root: {}", r.root.display());
    if let Some(a) = crate::sys::privilege::current() {
        outln!(sink, "Note: {}.", a.sentence());
    }
    outln!(sink, "Models from {}", r.model_from);
    if let (Some(u), Some(from)) = (&r.base_url, &r.base_url_from) {
        outln!(sink, "GateRouter: {u} (from {from})");
    }
    // A key only OpenClaw can read (a store SecretRef) is not "not found": the results say why.
    let unchecked = r.results.iter().any(|m| {
        m.note
            .as_deref()
            .is_some_and(|n| n.contains("not checked by verify"))
    });
    let found = match r.key.found_in {
        Some(s) => format!("found in {}", s.describe()),
        None if unchecked => "not checked by verify".to_owned(),
        None => "not found".to_owned(),
    };
    outln!(sink, "Key: {} ({found})", r.key.reference);
    for m in &r.results {
        outln!(sink, "  {}", line(m));
    }
    if let Some(o) = &r.openclaw {
        let tag = if o.ok { "ok  " } else { "FAIL" };
        outln!(sink, "  {tag}  {} ({} ms)", o.command, o.ms);
    }
    if let Some(g) = &r.gateway {
        let tag = if g.ok { "ok  " } else { "FAIL" };
        let via = match (g.pid, &g.provider, &g.model) {
            (Some(pid), Some(p), Some(m)) => {
                format!(" — the Gateway (pid {pid}) answered through {p}/{m}")
            }
            (Some(pid), _, _) => format!(" — the Gateway (pid {pid})"),
            _ => String::new(),
        };
        outln!(sink, "  {tag}  {} ({} ms){via}", g.command, g.ms);
    }
    for w in &r.warnings {
        sink.warning(w);
    }
}

fn print_errors(sink: &Sink, r: &VerifyReport) {
    for m in &r.results {
        if let Some(f) = &m.failure {
            sink.error(&format!("{}: {}", m.model_ref, f.message));
        }
    }
    if let Some(o) = r.openclaw.as_ref().filter(|o| !o.ok) {
        errln!(
            sink,
            "error: OpenClaw's own run ({}) gave no answer{}:\n{}",
            o.command,
            o.exit_code
                .map(|c| format!(" (exit {c})"))
                .unwrap_or_default(),
            o.error.as_deref().unwrap_or_default()
        );
    }
    if let Some(g) = r.gateway.as_ref().filter(|g| !g.ok) {
        sink.error(&format!(
            "the message through the running Gateway did not come back from GateRouter: {}",
            g.error.as_deref().unwrap_or("no answer")
        ));
    }
}

fn print_verdict(sink: &Sink, r: &VerifyReport) {
    let verdict = match (r.ok, r.gateway.as_ref().map(|g| g.ok)) {
        (true, Some(true)) => {
            "Verified: the default model answers through GateRouter, and so does the running Gateway."
        }
        (true, Some(false)) => {
            "The default model answers through GateRouter when asked directly, but not through the running Gateway."
        }
        (true, None) => "Verified: the default model answers through GateRouter.",
        (false, _) if r.fallback_ok == Some(true) => {
            "The primary did not answer; a fallback did, so OpenClaw would still reply (after its retries)."
        }
        (false, _) => "The primary did not answer, and no gaterouter fallback would have either.",
    };
    outln!(sink, "{verdict}");
}

fn line(m: &ModelResult) -> String {
    if !m.checked {
        let why = m
            .failure
            .as_ref()
            .map(|f| crate::gaterouter::probe::kind_word(f.kind).to_owned())
            .or_else(|| m.note.clone())
            .unwrap_or_default();
        let tag = if m.failure.is_some() { "FAIL" } else { "skip" };
        return format!("{tag}  {}  {why}", m.model_ref);
    }
    let tag = if m.ok { "ok  " } else { "FAIL" };
    let mut s = format!("{tag}  {}  {}", m.model_ref, status_word(m.status));
    if let Some(by) = &m.answered_by {
        s.push_str(&format!("  answered by {by}"));
    }
    if let Some(t) = m.ttft_ms {
        s.push_str(&format!("  first token {t} ms"));
    }
    if let Some(t) = m.total_ms {
        s.push_str(&format!(", total {t} ms"));
    }
    if let Some(n) = m.usage.as_ref().and_then(|u| u.total_tokens) {
        s.push_str(&format!(", {n} tokens"));
    }
    s.push_str(&attempts_note(m.attempts));
    if let Some(f) = &m.failure {
        s.push_str(&format!(
            "  {}",
            crate::gaterouter::probe::kind_word(f.kind)
        ));
    }
    s
}

/// `setup --verify`, shown: the verify report after the setup's (unless `silent`); a root
/// that could not be read back is an error line either way.
pub(super) fn show_after_setup(sink: &Sink, v: &Verified, silent: bool) {
    match v {
        Verified::Done(report) if !silent => {
            outln!(sink);
            print(sink, report, false);
        }
        Verified::Done(_) => {}
        Verified::Failed(e) => errln!(sink, "error: verify: {e}"),
    }
}

/// `setup --verify` in the JSON report: the `verify` field of a root (a `{error}` object
/// when the root could not be read back).
pub(super) fn after_setup_json(v: &Verified) -> serde_json::Value {
    let code = v.exit_code();
    match v {
        Verified::Done(report) => {
            let mut v = serde_json::to_value(report).unwrap_or_default();
            v["exit_code"] = serde_json::json!(code);
            v
        }
        Verified::Failed(e) => {
            serde_json::json!({"error": {"message": e.to_string()}, "exit_code": code})
        }
    }
}
