//! The GateRouter probe: before anything is written, find out whether GateRouter will work
//! for this key. Two requests run concurrently, `GET {base}/models` (reachable, key accepted,
//! live catalog) and a tiny `POST {base}/chat/completions` with `model: "auto"` (auto routing
//! on or off). Every failure becomes a cause and a fix, in one paragraph.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Value, json};

use crate::gaterouter::key::ApiKey;
use crate::gaterouter::policy;
use crate::redact::secrets::Redactor;

pub const DEFAULT_BASE_URL: &str = "https://api.gaterouter.ai/openai/v1";
const EXPECTED_SUFFIX: &str = "/openai/v1";

/// How the probe runs; the defaults are what the CLI uses.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    pub base_url: String,
    /// Total time for one request including its retries.
    pub timeout: Duration,
    /// Retries after the first attempt, for 429, 5xx and connection errors.
    pub retries: u32,
    /// First backoff; doubles each retry, with jitter.
    pub backoff: Duration,
}

impl ProbeConfig {
    pub fn new(base_url: &str) -> Self {
        ProbeConfig {
            base_url: base_url.to_owned(),
            timeout: Duration::from_secs(15),
            retries: 3,
            backoff: FIRST_BACKOFF,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AutoRouting {
    On,
    Off,
    #[default]
    Unknown,
}

/// What went wrong, as a category a script can match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    KeyRejected,
    WrongBaseUrl,
    AutoRoutingDisabled,
    BadModelId,
    MaxTokensUnsupported,
    RateLimited,
    ServerError,
    Timeout,
    Dns,
    Tls,
    Connect,
    NotJson,
    Html,
    Unexpected,
    // Found by `verify` before (or instead of) a request: what OpenClaw would trip over.
    /// The key's variable is set nowhere OpenClaw looks (or holds an unusable value).
    KeyMissing,
    /// The model is outside the configured allowlist (`modelPolicy.allow`).
    NotAllowed,
    /// The model's provider is not gaterouter: nothing was sent.
    NotGaterouter,
    /// openclaw.json has no usable `models.providers.gaterouter`.
    NoProvider,
    /// The provider's `api` is one GateRouter does not serve.
    UnsupportedApi,
    /// The base URL would carry the key in clear (plain http to a host off this machine).
    InsecureUrl,
    /// A 200 answer that carried no reply.
    NoAnswer,
}

#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub kind: FailureKind,
    /// One paragraph: what happened, where, and what to do.
    pub message: String,
}

/// One of the two requests, as it went.
#[derive(Debug, Clone, Serialize)]
pub struct RequestReport {
    pub method: &'static str,
    pub url: String,
    pub status: Option<u16>,
    pub attempts: u32,
    pub latency_ms: u64,
    pub failure: Option<Failure>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Model {
    pub id: String,
    pub name: String,
    /// The context window in tokens, when `/models` gives one (OpenClaw's `contextWindow`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// The most output tokens per reply, when `/models` gives it (OpenClaw's `maxTokens`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
}

/// The first positive integer among `paths` (JSON pointers) of a `/models` entry. Catalogs
/// spell limits differently (OpenAI-style, OpenRouter-style `context_length` and
/// `top_provider.max_completion_tokens`, camelCase); anything else is ignored, never guessed.
fn limit(m: &Value, paths: &[&str]) -> Option<u64> {
    paths
        .iter()
        .find_map(|p| m.pointer(p).and_then(Value::as_u64).filter(|n| *n > 0))
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ProbeReport {
    pub base_url: String,
    pub reachable: bool,
    pub key_accepted: Option<bool>,
    pub auto_routing: AutoRouting,
    pub models: Option<Vec<Model>>,
    pub requests: Vec<RequestReport>,
    pub warnings: Vec<String>,
    /// Set when setup must not go on (key rejected, service unreachable, wrong base URL).
    pub blocking: Option<Failure>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum ProbeOutcome {
    /// No request was made (`--offline`); the templates' model catalog is used.
    Skipped {
        reason: String,
    },
    Done(ProbeReport),
}

impl ProbeOutcome {
    pub fn summary(&self) -> String {
        match self {
            ProbeOutcome::Skipped { reason } => format!("skipped ({reason})"),
            ProbeOutcome::Done(r) => r.summary(),
        }
    }

    pub fn report(&self) -> Option<&ProbeReport> {
        match self {
            ProbeOutcome::Done(r) => Some(r),
            ProbeOutcome::Skipped { .. } => None,
        }
    }
}

impl ProbeReport {
    pub fn summary(&self) -> String {
        if let Some(f) = &self.blocking {
            return format!("FAILED ({})", kind_word(f.kind));
        }
        let latency = self
            .requests
            .iter()
            .map(|r| r.latency_ms)
            .max()
            .unwrap_or(0);
        let models = self.models.as_ref().map_or(0, Vec::len);
        let auto = match self.auto_routing {
            AutoRouting::On => "auto routing on",
            AutoRouting::Off => "auto routing OFF",
            AutoRouting::Unknown => "auto routing unknown",
        };
        format!("reachable, key accepted, {auto}, {models} models ({latency} ms)")
    }
}

pub(crate) fn kind_word(k: FailureKind) -> &'static str {
    match k {
        FailureKind::KeyRejected => "key rejected",
        FailureKind::WrongBaseUrl => "wrong base URL",
        FailureKind::AutoRoutingDisabled => "auto routing disabled",
        FailureKind::BadModelId => "bad model id",
        FailureKind::MaxTokensUnsupported => "max_tokens unsupported",
        FailureKind::RateLimited => "rate limited",
        FailureKind::ServerError => "server error",
        FailureKind::Timeout => "timed out",
        FailureKind::Dns => "DNS lookup failed",
        FailureKind::Tls => "TLS failed",
        FailureKind::Connect => "connection failed",
        FailureKind::NotJson => "not JSON",
        FailureKind::Html => "HTML instead of JSON",
        FailureKind::Unexpected => "unexpected answer",
        FailureKind::KeyMissing => "key not found",
        FailureKind::NotAllowed => "not allowed",
        FailureKind::NotGaterouter => "not GateRouter",
        FailureKind::NoProvider => "no provider entry",
        FailureKind::InsecureUrl => "key not sent (plain http)",
        FailureKind::UnsupportedApi => "unsupported api",
        FailureKind::NoAnswer => "no answer",
    }
}

/// Checks and normalises a base URL: no trailing `/`; `https://` unless the host is loopback.
/// Returns the URL and a warning when its path does not end in `/openai/v1`.
pub fn normalize_base_url(raw: &str) -> Result<(String, Option<String>), String> {
    let url = raw.trim().trim_end_matches('/').to_owned();
    let parsed = key_safe_url(&url, "--base-url")?;
    if let Some(e) = ENDPOINTS
        .iter()
        .find(|e| parsed.path().trim_end_matches('/').ends_with(*e))
    {
        let base = url.strip_suffix(e).unwrap_or(&url);
        return Err(format!(
            "--base-url {url} ends in {e}, an endpoint OpenClaw appends itself; pass the base URL without it: --base-url {base}"
        ));
    }
    let warning = (!parsed.path().trim_end_matches('/').ends_with(EXPECTED_SUFFIX)).then(|| {
        format!(
            "the base URL {url} does not end in {EXPECTED_SUFFIX}; GateRouter serves its OpenAI-compatible API under {EXPECTED_SUFFIX} (not /v1), and a wrong path is the usual cause of \"404 page not found\""
        )
    });
    Ok((url, warning))
}

/// The one rule for where the key may be sent, whoever names the URL (`--base-url`, a
/// `baseUrl` in the root's files, doctor's reading of them): `https://`, or plain `http://`
/// to a loopback host only, since anything else carries the key in clear over a network.
/// `what` names the URL's origin in the message (`--base-url`, `the baseUrl (from …)`).
pub fn key_safe_url(url: &str, what: &str) -> Result<reqwest::Url, String> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| format!("{what} {url:?} is not a URL ({e})"))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        "http" => Err(format!(
            "{what} {url} uses plain http://, which would send the API key unencrypted; use https:// (plain http is allowed only for 127.0.0.1, ::1 and localhost)"
        )),
        other => Err(format!(
            "{what} {url}: unsupported scheme {other}://; use https://"
        )),
    }
}

/// Whether `u` names this machine: `localhost`, 127.0.0.0/8 or ::1. Such a URL is sent
/// neither in clear over a network nor through a proxy (see `client`).
pub(crate) fn is_loopback(u: &reqwest::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A readable name for a model id: `anthropic/claude-sonnet-4.6` → `Claude Sonnet 4.6`.
pub fn display_name(id: &str) -> String {
    if id == "auto" {
        return "GateRouter Auto".into();
    }
    let model = id.split_once('/').map_or(id, |(_, m)| m);
    model
        .split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| match w.to_ascii_lowercase().as_str() {
            "gpt" | "glm" | "llm" | "ai" => w.to_ascii_uppercase(),
            _ => {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs the probe on a current-thread runtime. Never fails: every problem is in the report.
pub fn run(key: &ApiKey, cfg: &ProbeConfig) -> ProbeReport {
    let client = match client(cfg.timeout, &cfg.base_url) {
        Ok(c) => c,
        Err(failure) => {
            return ProbeReport {
                base_url: cfg.base_url.clone(),
                blocking: Some(failure),
                ..ProbeReport::default()
            };
        }
    };
    let models_url = format!("{}/models", cfg.base_url);
    let chat_url = format!("{}/chat/completions", cfg.base_url);
    // `max_completion_tokens`, never `max_tokens`: some models behind GateRouter reject it.
    let chat_body = json!({
        "model": "auto",
        "messages": [{"role": "user", "content": "ping"}],
        "max_completion_tokens": 16
    });
    let (models, chat) = block_on(async {
        tokio::join!(
            send(&client, key, cfg, "GET", &models_url, None),
            send(&client, key, cfg, "POST", &chat_url, Some(&chat_body)),
        )
    });
    assemble(cfg, key, models, chat)
}

/// Runs `fut` to completion on a current-thread runtime: the probe's and verify's requests
/// overlap on one thread, and nothing of tokio outlives the call.
pub(crate) fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime can always be built")
        .block_on(fut)
}

/// A response's `content-type`, empty when absent or not text.
pub(crate) fn content_type(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The HTTP client both the probe and `verify` use, for requests to `base_url`.
///
/// A loopback base URL bypasses every proxy (`HTTP(S)_PROXY`, `ALL_PROXY`, either case):
/// a stand-in or tunnel on this machine is reached directly, and a plain-http request to
/// it must not hand its `Authorization` header to a proxy in clear. Other hosts go
/// through the proxies the environment names, as curl does.
pub(crate) fn client(timeout: Duration, base_url: &str) -> Result<reqwest::Client, Failure> {
    // The process's TLS provider: ring (see Cargo.toml). Installing twice is refused, and
    // harmless: the first one stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("gaterouter-setup/", env!("CARGO_PKG_VERSION")));
    // Unparsable: no request will be made to it anyway, so the proxies do not matter.
    if reqwest::Url::parse(base_url).map_or(true, |u| is_loopback(&u)) {
        builder = builder.no_proxy();
    }
    builder.build().map_err(|e| Failure {
        kind: FailureKind::Unexpected,
        message: format!("could not set up the HTTP client: {e}"),
    })
}

/// One request after its retries: its report, and its last answer read whole or the
/// transport failure that ended it (the key taken out of both).
struct Sent {
    report: RequestReport,
    answer: Result<Reply, Failure>,
}

impl Sent {
    /// The cause and fix for this request's (non-success) HTTP answer `r`.
    fn http_failure(&self, r: &Reply) -> Failure {
        let q = &self.report;
        http_failure(
            q.method,
            &q.url,
            r.status,
            &r.content_type,
            &r.text,
            q.attempts,
        )
    }
}

/// Sends one request, retrying 429, 5xx and connection errors with backoff while the
/// retries and `cfg.timeout` (the budget for all attempts together) last.
async fn send(
    client: &reqwest::Client,
    key: &ApiKey,
    cfg: &ProbeConfig,
    method: &'static str,
    url: &str,
    body: Option<&Value>,
) -> Sent {
    let start = Instant::now();
    let deadline = start + cfg.timeout;
    let (result, attempts) = retrying(
        || attempt(client, key, url, body, deadline),
        |r| (r.status, r.retry_after),
        (cfg.retries, cfg.backoff, deadline),
    )
    .await;
    // The report leaves here without the key, whoever keeps or prints it.
    let secrets = Redactor::of([key.expose()]);
    let answer = match result {
        Ok(reply) => Ok(Reply {
            text: secrets.text(&reply.text),
            ..reply
        }),
        Err(e) => {
            let f = transport_failure(&e, method, url, cfg.timeout, attempts);
            Err(Failure {
                message: secrets.text(&f.message),
                ..f
            })
        }
    };
    let report = RequestReport {
        method,
        url: url.to_owned(),
        status: answer.as_ref().ok().map(|r| r.status),
        attempts,
        latency_ms: start.elapsed().as_millis() as u64,
        failure: answer.as_ref().err().cloned(),
    };
    Sent { report, answer }
}

/// An HTTP answer, read whole.
struct Reply {
    status: u16,
    /// `Retry-After` in seconds, for the next attempt's wait.
    retry_after: Option<u64>,
    content_type: String,
    text: String,
}

/// One attempt, read whole: a POST of `body`, else a GET.
async fn attempt(
    client: &reqwest::Client,
    key: &ApiKey,
    url: &str,
    body: Option<&Value>,
    deadline: Instant,
) -> Result<Reply, reqwest::Error> {
    let req = match body {
        Some(b) => client.post(url).json(b),
        None => client.get(url),
    };
    let resp = authorized(req, key, "application/json", deadline)
        .send()
        .await?;
    let status = resp.status().as_u16();
    let retry_after = retry_after(resp.headers());
    let content_type = content_type(resp.headers());
    let text = resp.text().await?;
    Ok(Reply {
        status,
        retry_after,
        content_type,
        text,
    })
}

/// `req` with the key, the `accept` wanted, and what is left before `deadline` as the
/// attempt's own timeout, so that the attempts together never outlast the budget.
pub(crate) fn authorized(
    req: reqwest::RequestBuilder,
    key: &ApiKey,
    accept: &str,
    deadline: Instant,
) -> reqwest::RequestBuilder {
    let remaining = deadline.saturating_duration_since(Instant::now());
    req.bearer_auth(key.expose())
        .header("accept", accept)
        .timeout(remaining.max(Duration::from_millis(1)))
}

/// Makes `attempt` until one is the last, sleeping between them; `status` reads an answer's
/// status and `Retry-After` seconds. Returns the last attempt's result and how many were
/// made. An attempt is the last when it is not worth another try (only 429, 5xx and
/// [`retryable`] transport errors are), the retries are spent, or the wait would end past
/// the deadline (then the answer we have beats a cut-off attempt). The server's
/// `Retry-After` is obeyed up to [`MAX_RETRY_AFTER`]; otherwise the backoff is jittered.
/// The one retry rule of the probe's requests and verify's.
pub(crate) async fn retrying<T, F: Future<Output = reqwest::Result<T>>>(
    mut attempt: impl FnMut() -> F,
    status: impl Fn(&T) -> (u16, Option<u64>),
    (retries, backoff, deadline): (u32, Duration, Instant),
) -> (reqwest::Result<T>, u32) {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result = attempt().await;
        let (worth, hinted) = match result.as_ref().map(&status) {
            Ok((code, hint)) => (code == 429 || code >= 500, hint),
            Err(e) => (retryable(e), None),
        };
        let now = Instant::now();
        let wait = hinted.map_or_else(
            || jittered(backoff, attempts),
            |secs| Duration::from_secs(secs).min(MAX_RETRY_AFTER),
        );
        if !worth || attempts > retries || now + wait >= deadline {
            return (result, attempts);
        }
        tokio::time::sleep(wait).await;
    }
}

/// A transport error worth another attempt: the connection failed, not the time. A
/// certificate the client refuses is refused again on every attempt: not retried.
fn retryable(e: &reqwest::Error) -> bool {
    let chain = source_chain(e).to_ascii_lowercase();
    (e.is_connect() || e.is_request() && !e.is_timeout())
        && !chain.contains("certificate")
        && unreadable_answer(&chain).is_none()
}

/// hyper's words for an answer that is not HTTP it can read (its parse errors), each with
/// what it means to a user. The server answered, so this is no connection failure, and the
/// same server gives the same answer again: not retried.
const UNREADABLE: &[(&str, &str)] = &[
    (
        "message head is too large",
        "its response headers are larger than an HTTP client accepts (hundreds of KB or more)",
    ),
    (
        "invalid http header",
        "it sent a response header that is not valid HTTP",
    ),
    (
        "invalid http version",
        "its answer is not HTTP (no HTTP/1.x status line)",
    ),
    (
        "http/0.9",
        "its answer is not HTTP (no HTTP/1.x status line)",
    ),
    (
        "invalid http status",
        "its answer has no valid HTTP status code",
    ),
    (
        "invalid content-length",
        "its answer has an invalid Content-Length",
    ),
    (
        "transfer-encoding",
        "its answer has an invalid Transfer-Encoding",
    ),
];

/// What an unreadable answer means, when the error chain is one (see [`UNREADABLE`]).
fn unreadable_answer(chain_lowercase: &str) -> Option<&'static str> {
    UNREADABLE
        .iter()
        .find(|(needle, _)| chain_lowercase.contains(needle))
        .map(|(_, meaning)| *meaning)
}

/// The first wait before a retry, for the probe and for verify's requests.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// The longest `Retry-After` obeyed, for the probe and for verify's requests.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Exponential backoff with ±50% jitter (no rand crate: the clock's nanoseconds are noise
/// enough to keep a fleet of installers from retrying in lockstep).
fn jittered(base: Duration, attempt: u32) -> Duration {
    let exp = base
        .saturating_mul(1 << (attempt - 1).min(6))
        .min(Duration::from_secs(5));
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let factor = 0.5 + f64::from(nanos % 1000) / 1000.0;
    exp.mul_f64(factor)
}

fn source_chain(e: &dyn std::error::Error) -> String {
    std::iter::successors(Some(e), |e| e.source())
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

/// Maps a transport error (no HTTP answer, or one that could not be read) to a cause and
/// a fix.
pub(crate) fn transport_failure(
    e: &reqwest::Error,
    method: &str,
    url: &str,
    timeout: Duration,
    attempts: u32,
) -> Failure {
    let chain = source_chain(e);
    let lower = chain.to_ascii_lowercase();
    let says = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    let tries = if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    };
    let (kind, message) = if e.is_timeout() {
        (
            FailureKind::Timeout,
            format!(
                "{method} {url} timed out after {}s{tries}; GateRouter did not answer in time. Check your network or proxy (HTTPS_PROXY/NO_PROXY), or allow more time with --timeout",
                timeout.as_secs()
            ),
        )
    } else if says(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
    ]) {
        (
            FailureKind::Dns,
            format!(
                "{method} {url}: the host name could not be resolved (DNS){tries}; check the --base-url spelling and this machine's DNS or proxy settings"
            ),
        )
    } else if let Some(meaning) = unreadable_answer(&lower) {
        (
            FailureKind::Unexpected,
            format!(
                "{method} {url}: the server answered, but {meaning} ({chain}); not retried. This is not GateRouter's answer: check --base-url, and any proxy or gateway between this machine and GateRouter"
            ),
        )
    } else if says(&["certificate", "tls", "handshake"]) {
        (
            FailureKind::Tls,
            format!(
                "{method} {url}: the TLS connection failed{tries} ({chain}); a proxy intercepting HTTPS, a wrong system clock or a missing CA certificate is the usual cause"
            ),
        )
    } else {
        (
            FailureKind::Connect,
            format!(
                "{method} {url}: could not connect{tries} ({chain}); check that GateRouter is reachable from this machine (firewall, proxy: HTTPS_PROXY/NO_PROXY)"
            ),
        )
    };
    Failure { kind, message }
}

/// The `error.message` of an OpenAI-style error body, else the body itself (trimmed); on one
/// line and bounded, since it is quoted inside our own messages.
fn error_message(body: &str) -> String {
    let message = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("message"))
                .or_else(|| v.get("error"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| body.trim().chars().take(200).collect::<String>());
    crate::redact::text::one_line(&message, 300)
}

pub(crate) fn is_html(content_type: &str, body: &str) -> bool {
    content_type.contains("text/html") || body.trim_start().starts_with('<')
}

/// When setup's check fails: --offline is advice only where the cause is GateRouter or the
/// network being down for now. For a rejected key, a wrong URL or auto routing being off,
/// --offline would write that key or URL unchecked, so it is not suggested.
pub fn offline_advice(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::Timeout
        | FailureKind::Connect
        | FailureKind::RateLimited
        | FailureKind::ServerError => {
            ". If GateRouter cannot be reached from here for now and you are sure of the key and the base URL, gaterouter-setup --offline sets up without this check"
        }
        _ => "",
    }
}

/// The endpoints OpenClaw appends to a base URL: a base URL ending in one was the endpoint
/// pasted whole.
const ENDPOINTS: &[&str] = &["/chat/completions", "/completions", "/models"];

/// What to do about a 404 for `url` (a base URL plus the endpoint asked). "Must end in
/// /openai/v1" was said also when it did, and when an endpoint URL had been pasted.
fn not_found_fix(url: &str) -> String {
    let base = ENDPOINTS
        .iter()
        .find_map(|e| url.strip_suffix(e))
        .unwrap_or(url);
    if let Some(stripped) = ENDPOINTS.iter().find_map(|e| base.strip_suffix(e)) {
        return format!(
            "the base URL {base} is an endpoint's URL; pass the base URL without the endpoint: --base-url {stripped}"
        );
    }
    if base.ends_with(EXPECTED_SUFFIX) {
        return format!(
            "the base URL {base} has the right path ({EXPECTED_SUFFIX}), so the host does not serve GateRouter's API there; check the host name in --base-url (GateRouter's is {DEFAULT_BASE_URL}) or the proxy in between"
        );
    }
    format!(
        "the base URL {base} must end in {EXPECTED_SUFFIX} (e.g. {DEFAULT_BASE_URL}), not /v1 or a bare host"
    )
}

/// Maps an HTTP answer that is not a success to a cause and a fix. Two different 404s
/// share a kind but not a paragraph.
pub(crate) fn http_failure(
    method: &str,
    url: &str,
    status: u16,
    content_type: &str,
    body: &str,
    attempts: u32,
) -> Failure {
    let msg = error_message(body);
    let lower = msg.to_ascii_lowercase();
    let kind = http_kind(status, &lower, content_type, body);
    let tries = if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    };
    let message = match kind {
        FailureKind::KeyRejected => format!(
            "GateRouter rejected the API key ({method} {url} answered {status}: {msg}); check that the whole key was copied, or create a new one in the GateRouter dashboard (Console → Settings → API keys)"
        ),
        FailureKind::AutoRoutingDisabled => policy::AutoOff::ProbeFailure.message(),
        FailureKind::BadModelId => format!(
            "GateRouter does not know the model asked for ({msg}); model ids are provider/model-name with dots in versions, e.g. anthropic/claude-sonnet-4.6"
        ),
        FailureKind::MaxTokensUnsupported => format!(
            "{method} {url}: {msg}; requests must use max_completion_tokens instead of max_tokens (the models written by setup set compat.maxTokensField accordingly)"
        ),
        // Go's plain "404 page not found": nothing is served at that path.
        FailureKind::WrongBaseUrl if lower.contains("404 page not found") => format!(
            "{method} {url} answered \"404 page not found\": {}",
            not_found_fix(url)
        ),
        // A 404 with a body of its own.
        FailureKind::WrongBaseUrl => format!(
            "{method} {url} answered 404 ({msg}); {}",
            not_found_fix(url)
        ),
        FailureKind::Html => format!(
            "{method} {url} answered {status} with an HTML page instead of JSON{tries}; something other than GateRouter (a proxy, captive portal or load balancer error page) answered. Check --base-url and any proxy"
        ),
        FailureKind::RateLimited => format!(
            "{method} {url} is rate limited (429{tries}: {msg}); wait a minute and run again"
        ),
        FailureKind::ServerError => format!(
            "{method} {url} answered {status}{tries}: {msg}; GateRouter is having trouble, try again later"
        ),
        _ => format!("{method} {url} answered {status}: {msg}"),
    };
    Failure { kind, message }
}

/// What a non-success answer is. The order of the checks is the precedence: 401/403 is
/// the key whatever the body says; then the server's own words (`lower_msg`) beat the
/// status (a 404 that names auto routing is about auto routing), and an HTML page is told
/// apart before the status codes that a proxy's error page also carries.
fn http_kind(status: u16, lower_msg: &str, content_type: &str, body: &str) -> FailureKind {
    if status == 401 || status == 403 {
        FailureKind::KeyRejected
    } else if lower_msg.contains(policy::SERVER_SAYS_AUTO_OFF) {
        FailureKind::AutoRoutingDisabled
    } else if lower_msg.contains("provider routing is not configured") {
        FailureKind::BadModelId
    } else if lower_msg.contains("unsupported parameter") && lower_msg.contains("max_tokens") {
        FailureKind::MaxTokensUnsupported
    } else if status == 404 && lower_msg.contains("404 page not found") {
        FailureKind::WrongBaseUrl
    } else if is_html(content_type, body) {
        FailureKind::Html
    } else if status == 429 {
        FailureKind::RateLimited
    } else if status >= 500 {
        FailureKind::ServerError
    } else if status == 404 {
        FailureKind::WrongBaseUrl
    } else {
        FailureKind::Unexpected
    }
}

/// More models than GateRouter has (25+) by two orders of magnitude: beyond this the list
/// is cut, so a hostile or broken server cannot make us write a config we cannot read back.
pub const MAX_CATALOG: usize = 2000;

/// A display name from the server, made safe to write: control characters dropped, at most
/// 100 characters, and `${` escaped as `$${` (OpenClaw's escape) so it is never expanded as
/// a variable reference when OpenClaw loads the config.
fn catalog_name(n: &str) -> String {
    n.chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .take(100)
        .collect::<String>()
        .replace("${", "$${")
}

/// Bidirectional overrides and isolates: invisible, and they reorder what a terminal shows.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// A `Retry-After` header in seconds (the form GateRouter sends), if any.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

fn parse_models(body: &str) -> Option<Vec<Model>> {
    let v: Value = serde_json::from_str(body).ok()?;
    let data = v.get("data").or_else(|| v.get("models"))?.as_array()?;
    let mut out: Vec<Model> = Vec::new();
    for m in data {
        let id = match m {
            Value::String(s) => s.clone(),
            _ => m.get("id")?.as_str()?.to_owned(),
        };
        // The server's text goes into the user's config: only well-formed ids, and names
        // made inert (see `catalog_name`). A catalog larger than any real one is cut.
        if !crate::gaterouter::templates::model_id_ok(&id) || out.iter().any(|o| o.id == id) {
            continue;
        }
        if out.len() >= MAX_CATALOG {
            break;
        }
        let name = m
            .get("name")
            .and_then(Value::as_str)
            .map(catalog_name)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| display_name(&id));
        let context_window = limit(
            m,
            &[
                "/context_window",
                "/context_length",
                "/contextWindow",
                "/max_context_length",
                "/top_provider/context_length",
            ],
        );
        let max_tokens = limit(
            m,
            &[
                "/max_output_tokens",
                "/max_completion_tokens",
                "/maxTokens",
                "/top_provider/max_completion_tokens",
            ],
        );
        out.push(Model {
            id,
            name,
            context_window,
            max_tokens,
        });
    }
    if !out.iter().any(|m| m.id == "auto") {
        out.insert(
            0,
            Model {
                id: "auto".into(),
                name: display_name("auto"),
                ..Model::default()
            },
        );
    }
    Some(out)
}

/// The report from the two answers: `/models` first, since what it finds (a rejected key,
/// a wrong URL) outranks what the chat request adds.
fn assemble(cfg: &ProbeConfig, key: &ApiKey, models: Sent, chat: Sent) -> ProbeReport {
    let mut r = ProbeReport {
        base_url: cfg.base_url.clone(),
        ..ProbeReport::default()
    };
    r.read_models(&models);
    r.auto_routing = r.read_chat(&chat);
    r.requests = vec![models.report, chat.report];
    r.redacted(key)
}

impl ProbeReport {
    /// GET /models decides reachability, the key, and the catalog.
    fn read_models(&mut self, models: &Sent) {
        match &models.answer {
            Err(f) => self.blocking = Some(f.clone()),
            Ok(r) if (200..300).contains(&r.status) => {
                self.reachable = true;
                self.key_accepted = Some(true);
                match catalog(&models.report.url, r) {
                    Ok(list) => self.models = Some(list),
                    Err(f) => self.blocking = Some(f),
                }
            }
            Ok(r) => {
                let f = models.http_failure(r);
                // An HTML page or a 404 came from something, but not from GateRouter's API.
                self.reachable = !matches!(f.kind, FailureKind::Html | FailureKind::WrongBaseUrl);
                if f.kind == FailureKind::KeyRejected {
                    self.key_accepted = Some(false);
                }
                self.blocking = Some(f);
            }
        }
    }

    /// POST /chat/completions with model "auto" decides auto routing. Of its failures only
    /// a rejected key blocks setup; any other leaves auto routing unknown, said in a warning.
    fn read_chat(&mut self, chat: &Sent) -> AutoRouting {
        let f = match &chat.answer {
            Ok(r) if (200..300).contains(&r.status) => return AutoRouting::On,
            Ok(r) => chat.http_failure(r),
            // A transport failure: never one of the two kinds below.
            Err(f) => f.clone(),
        };
        match f.kind {
            FailureKind::AutoRoutingDisabled => return AutoRouting::Off,
            FailureKind::KeyRejected => {
                self.key_accepted = Some(false);
                if self.blocking.is_none() {
                    self.blocking = Some(f);
                }
            }
            _ => self.unsure(&f.message),
        }
        AutoRouting::Unknown
    }

    /// Warns that auto routing could not be told, unless setup is blocked anyway (then the
    /// blocking failure is the news, and a second complaint would only bury it).
    fn unsure(&mut self, why: &str) {
        if self.blocking.is_none() {
            self.warnings
                .push(format!("could not tell whether auto routing is on: {why}"));
        }
    }

    /// The report as it leaves here: without the key, whoever keeps or prints it, and
    /// with the live catalog only when nothing blocks.
    fn redacted(mut self, key: &ApiKey) -> ProbeReport {
        let secrets = Redactor::of([key.expose()]);
        for f in self.requests.iter_mut().filter_map(|r| r.failure.as_mut()) {
            f.message = secrets.text(&f.message);
        }
        if let Some(f) = &mut self.blocking {
            f.message = secrets.text(&f.message) + offline_advice(f.kind);
            self.models = None;
        }
        for w in &mut self.warnings {
            *w = secrets.text(w);
        }
        self
    }
}

/// The model list of a successful `/models` answer `r` from `url`, or why it is none: a 2xx
/// HTML page or a body that is not a model list is not GateRouter's API.
fn catalog(url: &str, r: &Reply) -> Result<Vec<Model>, Failure> {
    if is_html(&r.content_type, &r.text) {
        return Err(Failure {
            kind: FailureKind::Html,
            message: format!(
                "GET {url} answered with an HTML page instead of JSON; this is not GateRouter's API (check --base-url: it must end in {EXPECTED_SUFFIX})"
            ),
        });
    }
    parse_models(&r.text).ok_or_else(|| Failure {
        kind: FailureKind::NotJson,
        message: format!(
            "GET {url} answered {} but not with a JSON model list (body starts: {:?}); check --base-url",
            r.status,
            r.text.chars().take(80).collect::<String>()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised_and_checked() {
        assert_eq!(
            normalize_base_url("https://api.gaterouter.ai/openai/v1/").unwrap(),
            ("https://api.gaterouter.ai/openai/v1".to_owned(), None)
        );
        let (_, w) = normalize_base_url("https://api.gaterouter.ai/v1").unwrap();
        assert!(w.unwrap().contains("404 page not found"));
        assert!(normalize_base_url("http://api.gaterouter.ai/openai/v1").is_err());
        assert!(normalize_base_url("http://127.0.0.1:8080/openai/v1").is_ok());
        assert!(normalize_base_url("http://localhost:8080/openai/v1").is_ok());
        assert!(normalize_base_url("http://[::1]:8080/openai/v1").is_ok());
        assert!(normalize_base_url("ftp://x/openai/v1").is_err());
    }

    #[test]
    fn readable_names() {
        assert_eq!(
            display_name("anthropic/claude-sonnet-4.6"),
            "Claude Sonnet 4.6"
        );
        assert_eq!(display_name("openai/gpt-5.4-mini"), "GPT 5.4 Mini");
        assert_eq!(display_name("auto"), "GateRouter Auto");
    }

    #[test]
    fn a_404_says_what_is_wrong_with_the_url_it_was_for() {
        let fix = |url: &str| {
            http_failure("GET", url, 404, "text/plain", "404 page not found", 1).message
        };
        let m = fix("https://gr.example/openai/v1/models");
        assert!(m.contains("has the right path"), "{m}");
        assert!(!m.contains("must end in"), "{m}");
        let m = fix("https://gr.example/openai/v1/chat/completions/chat/completions");
        assert!(
            m.ends_with("--base-url https://gr.example/openai/v1"),
            "{m}"
        );
        let m = fix("https://gr.example/v1/models");
        assert!(m.contains("must end in /openai/v1"), "{m}");
        let m = http_failure("GET", "https://gr.example/api/models", 404, "", "{}", 1).message;
        assert!(m.contains("must end in /openai/v1"), "{m}");
    }

    #[test]
    fn offline_is_advised_only_when_gaterouter_is_down() {
        use FailureKind::*;
        for k in [Timeout, Connect, RateLimited, ServerError] {
            assert!(offline_advice(k).contains("--offline"), "{k:?}");
        }
        for k in [
            KeyRejected,
            WrongBaseUrl,
            AutoRoutingDisabled,
            BadModelId,
            Dns,
            Tls,
            Html,
            NotJson,
            Unexpected,
        ] {
            assert_eq!(offline_advice(k), "", "{k:?}");
        }
    }

    proptest::proptest! {
        /// A base URL that ends in an endpoint (pasted whole) is refused, naming the base.
        #[test]
        fn an_endpoint_url_is_not_a_base_url(
            host in "[a-z]{1,12}\\.[a-z]{2,5}",
            path in "(/[a-z0-9]{1,8}){0,3}",
            e in proptest::sample::select(ENDPOINTS),
            slash in proptest::bool::ANY,
        ) {
            let url = format!("https://{host}{path}{e}{}", if slash { "/" } else { "" });
            let err = normalize_base_url(&url).unwrap_err();
            let base = format!("--base-url https://{host}{path}");
            proptest::prop_assert!(err.ends_with(&base), "{}", err);
        }
    }

    #[test]
    fn error_bodies_are_read_for_their_message() {
        assert_eq!(
            error_message(r#"{"error":{"message":"auto routing is not enabled"}}"#),
            "auto routing is not enabled"
        );
        assert_eq!(error_message("404 page not found\n"), "404 page not found");
        let f = http_failure("GET", "u", 404, "text/plain", "404 page not found", 1);
        assert_eq!(f.kind, FailureKind::WrongBaseUrl);
        let f = http_failure(
            "POST",
            "u",
            400,
            "application/json",
            r#"{"error":{"message":"provider routing is not configured for model x"}}"#,
            1,
        );
        assert_eq!(f.kind, FailureKind::BadModelId);
        let f = http_failure(
            "POST",
            "u",
            400,
            "application/json",
            r#"{"error":{"message":"Unsupported parameter: max_tokens"}}"#,
            1,
        );
        assert_eq!(f.kind, FailureKind::MaxTokensUnsupported);
    }

    #[test]
    fn model_lists_get_names_and_auto() {
        let m = parse_models(r#"{"object":"list","data":[{"id":"anthropic/claude-sonnet-4.6"},{"id":"x/y","name":"Custom"}]}"#).unwrap();
        let ids: Vec<&str> = m.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["auto", "anthropic/claude-sonnet-4.6", "x/y"]);
        assert_eq!(m[2].name, "Custom");
        assert!(parse_models("<html>").is_none());
    }
}
