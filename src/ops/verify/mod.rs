//! `verify`: prove that a configured root answers, the way OpenClaw will call it.
//!
//! [`resolve`] reads from the files on disk exactly what OpenClaw will use (model refs,
//! provider entry, the key through its reference, the allowlist); [`ask`] sends one tiny
//! streaming completion per model checked, concurrently; [`openclaw`] optionally lets the
//! real OpenClaw CLI make one completion on the root. A ref that does not go through
//! GateRouter, is refused by the allowlist, or has no key is reported without a request.

pub mod ask;
pub mod gateway;
pub mod openclaw;
pub mod resolve;

use std::time::Duration;

use serde::Serialize;

use crate::gaterouter::probe::{Failure, FailureKind};
pub use resolve::{KeySource, Resolved, resolve};

#[derive(Debug, Clone)]
pub struct Options {
    /// Check every gaterouter fallback too, even when the primary answers.
    pub all: bool,
    /// Per request, retries included.
    pub timeout: Duration,
    pub retries: u32,
    pub backoff: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            all: false,
            timeout: Duration::from_secs(30),
            retries: 2,
            backoff: crate::gaterouter::probe::FIRST_BACKOFF,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Primary,
    Fallback,
}

/// One model ref and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    #[serde(rename = "ref")]
    pub model_ref: String,
    pub role: Role,
    /// Whether a request was sent.
    pub checked: bool,
    pub ok: bool,
    /// The model that actually answered, as the response's `model` says.
    pub answered_by: Option<String>,
    pub status: Option<u16>,
    pub attempts: u32,
    pub ttft_ms: Option<u64>,
    pub total_ms: Option<u64>,
    pub usage: Option<ask::Usage>,
    pub failure: Option<Failure>,
    /// Why a ref was not checked (not GateRouter, not asked for).
    pub note: Option<String>,
}

impl ModelResult {
    fn unchecked(model_ref: &str, role: Role) -> ModelResult {
        ModelResult {
            model_ref: model_ref.to_owned(),
            role,
            checked: false,
            ok: false,
            answered_by: None,
            status: None,
            attempts: 0,
            ttft_ms: None,
            total_ms: None,
            usage: None,
            failure: None,
            note: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub root: std::path::PathBuf,
    pub agent: Option<String>,
    pub model_from: String,
    pub base_url: Option<String>,
    pub base_url_from: Option<String>,
    pub key: resolve::KeyInfo,
    pub results: Vec<ModelResult>,
    /// The primary answered.
    pub ok: bool,
    /// When the primary did not answer: whether a checked fallback did.
    pub fallback_ok: Option<bool>,
    /// `--with-openclaw`: OpenClaw's own completion on this root.
    pub openclaw: Option<openclaw::OpenClawRun>,
    /// `--via-gateway`: the message through the Gateway running for the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<gateway::GatewayRun>,
    pub warnings: Vec<String>,
}

/// `provider/model` → (`provider`, `model`), split on the first `/` as OpenClaw does.
fn split_ref(r: &str) -> (&str, &str) {
    r.split_once('/').unwrap_or(("", r))
}

/// What stops a ref before any request, if anything.
fn precheck(r: &Resolved, model_ref: &str) -> Result<(), Failure> {
    let (provider, _) = split_ref(model_ref);
    if provider != resolve::PROVIDER {
        return Err(Failure {
            kind: FailureKind::NotGaterouter,
            message: format!(
                "{model_ref} does not go through GateRouter (provider {provider:?}), so nothing was sent to it; run gaterouter-setup KEY ROOT to make gaterouter/auto the default (or pass --primary)"
            ),
        });
    }
    if !r.allowed(model_ref) {
        let (at, _) = r
            .allow
            .as_ref()
            .expect("allowed() is false only with a list");
        return Err(Failure {
            kind: FailureKind::NotAllowed,
            message: format!(
                "{model_ref} is not allowed by {at}, so OpenClaw refuses to use it; add \"{}/*\" (or the ref itself) to {at}, as gaterouter-setup KEY ROOT does",
                resolve::PROVIDER
            ),
        });
    }
    if let Err(f) = &r.provider {
        return Err(f.clone());
    }
    if let resolve::KeyState::Missing { message } = &r.key {
        return Err(Failure {
            kind: FailureKind::KeyMissing,
            message: message.clone(),
        });
    }
    Ok(())
}

/// Runs the checks. Never fails: every problem is in the report.
pub fn run(r: &Resolved, opts: &Options) -> VerifyReport {
    let mut results = prechecked(r, &model_refs(r));
    let capped = cap_fallbacks(&mut results);
    let primary_ok = crate::gaterouter::probe::block_on(send_checks(r, opts, &mut results));
    for res in &mut results {
        if !res.checked && res.failure.is_none() && res.note.is_none() {
            res.note = Some("not checked (--all checks every fallback)".into());
        }
    }
    let fallback_ok = (!primary_ok).then(|| {
        results
            .iter()
            .any(|res| res.role == Role::Fallback && res.ok)
    });
    let (base_url, base_url_from) = match &r.provider {
        Ok(p) => (Some(p.base_url.clone()), Some(p.base_url_from.clone())),
        Err(_) => (None, None),
    };
    VerifyReport {
        root: r.root.clone(),
        agent: r.agent.clone(),
        model_from: r.model_from.clone(),
        base_url,
        base_url_from,
        key: r.key_info.clone(),
        results,
        ok: primary_ok,
        fallback_ok,
        openclaw: None,
        gateway: None,
        warnings: warnings(r, capped),
    }
}

/// The refs OpenClaw may use, in its order: the primary, then each fallback once.
fn model_refs(r: &Resolved) -> Vec<(String, Role)> {
    let mut refs: Vec<(String, Role)> = Vec::new();
    if let Some(p) = &r.primary {
        refs.push((p.clone(), Role::Primary));
    }
    for f in &r.fallbacks {
        if !refs.iter().any(|(x, _)| x == f) {
            refs.push((f.clone(), Role::Fallback));
        }
    }
    refs
}

/// A result per ref, with what stops it before any request already filled in. A fallback
/// elsewhere than GateRouter is only noted: it is not ours to check, nor a failure.
fn prechecked(r: &Resolved, refs: &[(String, Role)]) -> Vec<ModelResult> {
    refs.iter()
        .map(|(m, role)| {
            let mut res = ModelResult::unchecked(m, *role);
            if let Err(f) = precheck(r, m) {
                if f.kind == FailureKind::NotGaterouter && *role == Role::Fallback {
                    res.note = Some(format!(
                        "not checked: {} is not GateRouter, nothing was sent to it",
                        split_ref(m).0
                    ));
                } else {
                    res.failure = Some(f);
                }
            } else if let resolve::KeyState::Unchecked { message } = &r.key {
                // Not missing: verify cannot read that key, OpenClaw can.
                res.note = Some(message.clone());
            }
            res
        })
        .collect()
}

/// Notes the sendable fallbacks past [`MAX_FALLBACKS`] instead of sending them; returns how
/// many.
fn cap_fallbacks(results: &mut [ModelResult]) -> usize {
    let mut fallbacks = 0;
    let mut capped = 0;
    for res in results.iter_mut().filter(|r| r.role == Role::Fallback) {
        if res.failure.is_none() && res.note.is_none() {
            fallbacks += 1;
            if fallbacks > MAX_FALLBACKS {
                capped += 1;
                res.note = Some(format!(
                    "not checked: verify checks the first {MAX_FALLBACKS} gaterouter fallbacks (each is a billed completion)"
                ));
            }
        }
    }
    capped
}

/// Sends what is sendable and returns whether the primary answered. First the primary (and
/// with --all every fallback) at once; then, when the primary did not answer, the
/// fallbacks, to say whether OpenClaw's fallback would have saved the turn.
async fn send_checks(r: &Resolved, opts: &Options, results: &mut [ModelResult]) -> bool {
    let sendable = |res: &ModelResult| res.failure.is_none() && res.note.is_none() && !res.checked;
    let first: Vec<usize> = (0..results.len())
        .filter(|&i| sendable(&results[i]) && (opts.all || results[i].role == Role::Primary))
        .collect();
    send_all(r, opts, results, &first).await;
    let primary_ok = results
        .first()
        .is_some_and(|p| p.role == Role::Primary && p.ok);
    if !primary_ok && !opts.all {
        let rest: Vec<usize> = (0..results.len())
            .filter(|&i| sendable(&results[i]))
            .collect();
        send_all(r, opts, results, &rest).await;
    }
    primary_ok
}

/// The resolver's warnings, plus the capped fallbacks and a missing default model.
fn warnings(r: &Resolved, capped: usize) -> Vec<String> {
    let mut warnings = r.warnings.clone();
    if capped > 0 {
        warnings.push(format!(
            "{capped} more gaterouter fallbacks were not checked: verify checks the first {MAX_FALLBACKS} (each check is a billed completion, {CONCURRENCY} at a time); OpenClaw tries fallbacks in that order"
        ));
    }
    if r.primary.is_none() {
        warnings.push(format!(
            "no model is configured at {} (nor agents.defaults.model.primary), so OpenClaw has no default model; run gaterouter-setup KEY ROOT",
            r.model_from
        ));
    }
    warnings
}

/// Sends the refs at `which` (when there is a provider and a key) and records each answer.
async fn send_all(r: &Resolved, opts: &Options, results: &mut [ModelResult], which: &[usize]) {
    let (Ok(provider), resolve::KeyState::Found { key, .. }) = (&r.provider, &r.key) else {
        return;
    };
    if which.is_empty() {
        return;
    }
    let client = match crate::gaterouter::probe::client(opts.timeout, &provider.base_url) {
        Ok(c) => c,
        Err(f) => {
            for &i in which {
                results[i].failure = Some(f.clone());
            }
            return;
        }
    };
    // At most CONCURRENCY requests in flight, the next ref sent when one is answered (a long
    // fallback list is not one burst of billed completions, nor a self-inflicted wave of
    // "could not connect"). Each ask is a task of its own, so one that fails is that ref's.
    let mut pending = which.iter();
    let mut tasks = tokio::task::JoinSet::new();
    let mut task_ref = std::collections::HashMap::new();
    loop {
        while tasks.len() < CONCURRENCY
            && let Some(&i) = pending.next()
        {
            let call = ask::Call {
                client: client.clone(),
                provider: provider.clone(),
                key: key.clone(),
                model: split_ref(&results[i].model_ref).1.to_owned(),
                timeout: opts.timeout,
                retries: opts.retries,
                backoff: opts.backoff,
            };
            task_ref.insert(tasks.spawn(ask::ask(call)).id(), i);
        }
        let (id, answer) = match tasks.join_next_with_id().await {
            None => break,
            Some(Ok((id, a))) => (id, Ok(a)),
            Some(Err(e)) => (e.id(), Err(e.to_string())),
        };
        record(&mut results[task_ref[&id]], answer);
    }
}

/// Records the answer for a ref, or why its task gave none.
fn record(res: &mut ModelResult, answer: Result<ask::Answer, String>) {
    res.checked = true;
    match answer {
        Ok(a) => {
            res.ok = a.failure.is_none();
            res.answered_by = a.answered_by;
            res.status = a.status;
            res.attempts = a.attempts;
            res.ttft_ms = a.ttft_ms;
            res.total_ms = Some(a.total_ms);
            res.usage = a.usage;
            res.failure = a.failure;
        }
        Err(e) => {
            res.failure = Some(Failure {
                kind: FailureKind::Unexpected,
                message: format!("the request task failed: {e}"),
            });
        }
    }
}

/// Requests in flight at once.
pub const CONCURRENCY: usize = 4;
/// The most fallbacks one verify checks (each check is a billed completion); the rest are
/// reported as not checked, with a warning. OpenClaw tries fallbacks in order, so the first
/// ones are those that matter.
pub const MAX_FALLBACKS: usize = 20;

/// `--with-openclaw` on a key only OpenClaw can resolve (a `store` SecretRef, a plugin's
/// exec): our request was not sent (the primary is unchecked, with no failure), so OpenClaw's
/// own completion answering is the proof that the primary answers. Counted as such, and said.
pub fn credit_openclaw(r: &mut VerifyReport) {
    let unprovable_by_us = r
        .results
        .iter()
        .find(|m| m.role == Role::Primary)
        .is_some_and(|m| !m.checked && m.failure.is_none());
    if !r.ok && unprovable_by_us && r.openclaw.as_ref().is_some_and(|o| o.ok) {
        r.ok = true;
        r.fallback_ok = None;
        r.warnings.push(
            "the key is one only OpenClaw resolves, so verify sent nothing itself; OpenClaw's own completion answered through this root, which proves the primary answers"
                .into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(primary: ModelResult, openclaw_ok: Option<bool>) -> VerifyReport {
        VerifyReport {
            root: "/r".into(),
            agent: None,
            model_from: "agents.defaults.model".into(),
            base_url: None,
            base_url_from: None,
            key: resolve::KeyInfo {
                reference: "store:default:GATEROUTER_API_KEY".into(),
                found_in: None,
            },
            results: vec![primary],
            ok: false,
            fallback_ok: None,
            gateway: None,
            openclaw: openclaw_ok.map(|ok| openclaw::OpenClawRun {
                command: "openclaw agent --local".into(),
                ok,
                exit_code: Some(if ok { 0 } else { 1 }),
                ms: 1,
                answer: ok.then(|| "hi".into()),
                error: None,
            }),
            warnings: Vec::new(),
        }
    }

    /// Only an unchecked primary without a failure is proven by OpenClaw's answer; a failed
    /// one, or OpenClaw failing or not asked, is not.
    #[test]
    fn openclaw_proves_only_what_verify_could_not_send() {
        let unchecked = ModelResult::unchecked("gaterouter/auto", Role::Primary);
        let mut failed = unchecked.clone();
        failed.failure = Some(Failure {
            kind: FailureKind::KeyMissing,
            message: "no key".into(),
        });
        for (primary, oc, proven) in [
            (unchecked.clone(), Some(true), true),
            (unchecked.clone(), Some(false), false),
            (unchecked, None, false),
            (failed, Some(true), false),
        ] {
            let mut r = report(primary, oc);
            credit_openclaw(&mut r);
            assert_eq!(r.ok, proven);
            assert_eq!(crate::ops::setup::verify_exit_code(&r) == 0, proven);
        }
    }

    #[test]
    fn refs_split_on_the_first_slash() {
        assert_eq!(
            split_ref("gaterouter/anthropic/claude-sonnet-4.6"),
            ("gaterouter", "anthropic/claude-sonnet-4.6")
        );
        assert_eq!(split_ref("auto"), ("", "auto"));
    }
}
