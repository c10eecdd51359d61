//! One tiny streaming chat completion, sent the way OpenClaw sends it (`stream: true`,
//! `max_completion_tokens` or the provider's `compat.maxTokensField`, the provider's headers,
//! streamed usage where OpenClaw asks for it), timed to the first token and to the end.
//! Retries and the failure → cause+fix mapping are the probe's.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use crate::gaterouter::key::ApiKey;
use crate::gaterouter::probe::{self, Failure, FailureKind};
use crate::redact::secrets::Redactor;

use super::resolve::Provider;

/// The prompt: fixed and short, so a check costs a handful of tokens.
pub const PROMPT: &str = "Reply with the single word: pong";
/// Enough for a one-word reply (reasoning models may spend a few on thinking).
pub const MAX_TOKENS: u32 = 16;
/// More answer than a one-word reply can need: a server streaming without end is cut here.
const MAX_BODY: usize = 1_000_000;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Usage {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub total_tokens: Option<u64>,
}

/// How one request went.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub status: Option<u16>,
    pub attempts: u32,
    pub ttft_ms: Option<u64>,
    pub total_ms: u64,
    pub answered_by: Option<String>,
    pub usage: Option<Usage>,
    pub reply: String,
    pub failure: Option<Failure>,
}

pub struct Call {
    pub client: reqwest::Client,
    pub provider: Provider,
    pub key: ApiKey,
    pub model: String,
    pub timeout: Duration,
    pub retries: u32,
    pub backoff: Duration,
}

pub fn body(p: &Provider, model: &str) -> Value {
    let mut b = json!({
        "model": model,
        "messages": [{"role": "user", "content": PROMPT}],
        "stream": true,
    });
    b[p.max_tokens_field.as_str()] = MAX_TOKENS.into();
    if p.usage_in_stream {
        b["stream_options"] = json!({"include_usage": true});
    }
    b
}

pub async fn ask(c: Call) -> Answer {
    let url = format!("{}/chat/completions", c.provider.base_url);
    let body = body(&c.provider, &c.model);
    let start = Instant::now();
    let deadline = start + c.timeout;
    let (result, attempts) = probe::retrying(
        || {
            let mut req =
                probe::authorized(c.client.post(&url), &c.key, "text/event-stream", deadline)
                    .json(&body);
            for (k, v) in &c.provider.headers {
                req = req.header(k.as_str(), v.as_str());
            }
            req.send()
        },
        |r| (r.status().as_u16(), probe::retry_after(r.headers())),
        (c.retries, c.backoff, deadline),
    )
    .await;
    let mut a = match result {
        Err(e) => Answer {
            failure: Some(probe::transport_failure(
                &e, "POST", &url, c.timeout, attempts,
            )),
            ..Answer::default()
        },
        Ok(resp) => read(resp, &url, attempts, start, c.timeout).await,
    };
    a.attempts = attempts;
    a.total_ms = start.elapsed().as_millis() as u64;
    // The report leaves here without the key, whoever keeps or prints it.
    if let Some(f) = &mut a.failure {
        f.message = Redactor::of([c.key.expose()]).text(&f.message);
    }
    a
}

/// Reads the answer: SSE events as they arrive (the first content marks the first token,
/// counted from `start`, the first attempt's: retries included, as a user waits), or a plain
/// JSON completion when the server does not stream.
async fn read(
    mut resp: reqwest::Response,
    url: &str,
    attempts: u32,
    start: Instant,
    timeout: Duration,
) -> Answer {
    let status = resp.status().as_u16();
    let ct = probe::content_type(resp.headers());
    let mut a = Answer {
        status: Some(status),
        ..Answer::default()
    };
    let mut sse = Sse::default();
    // Only a successful stream is read event by event; anything else is read whole.
    let streamed = ct.contains("text/event-stream") && (200..300).contains(&status);
    let mut buf = match receive(&mut resp, streamed.then_some(&mut sse), &mut a, start).await {
        Ok(buf) => buf,
        Err(e) => {
            a.failure = Some(probe::transport_failure(&e, "POST", url, timeout, attempts));
            return a;
        }
    };
    let text = String::from_utf8_lossy(&buf).into_owned();
    if !(200..300).contains(&status) {
        a.failure = Some(probe::http_failure(
            "POST", url, status, &ct, &text, attempts,
        ));
        return a;
    }
    if streamed {
        if !buf.is_empty() {
            buf.push(b'\n');
            sse.feed(&mut buf, &mut a, start);
        }
    } else if let Ok(v) = serde_json::from_str::<Value>(&text) {
        // Not streamed: the whole answer at once, so its first token is its end.
        chunk(&v, &mut a, start, "/choices/0/message");
    } else {
        a.failure = Some(unreadable(url, status, &ct, &text));
        return a;
    }
    if let Some(err) = sse.error.take() {
        a.failure = Some(err_in_stream(url, &err, attempts));
    } else if a.answered_by.is_none() && a.reply.is_empty() && a.ttft_ms.is_none() {
        a.failure = Some(Failure {
            kind: FailureKind::NoAnswer,
            message: format!(
                "POST {url} answered {status} but sent no completion (no model, no text); something other than GateRouter may be answering at this baseUrl"
            ),
        });
    }
    a
}

/// Receives the body until its end, the stream's `[DONE]` or [`MAX_BODY`]. With `sse`, the
/// complete events are read into `a` as they arrive (so the first token is timed) and the
/// unfinished line is returned; without, the whole body.
async fn receive(
    resp: &mut reqwest::Response,
    mut sse: Option<&mut Sse>,
    a: &mut Answer,
    start: Instant,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut buf: Vec<u8> = Vec::new();
    while let Some(bytes) = resp.chunk().await? {
        buf.extend_from_slice(&bytes);
        if let Some(sse) = sse.as_deref_mut() {
            sse.feed(&mut buf, a, start);
            if sse.done {
                break;
            }
        }
        let seen = sse.as_deref().map_or(0, |s| s.seen);
        if buf.len() + seen > MAX_BODY {
            break;
        }
    }
    Ok(buf)
}

/// A successful answer that is neither a stream nor JSON: an HTML page says something else
/// answered (a proxy, a portal); anything else is shown by its start.
fn unreadable(url: &str, status: u16, ct: &str, text: &str) -> Failure {
    if probe::is_html(ct, text) {
        Failure {
            kind: FailureKind::Html,
            message: format!(
                "POST {url} answered {status} with an HTML page instead of a completion; something other than GateRouter (a proxy, captive portal or error page) answered. Check the baseUrl and any proxy"
            ),
        }
    } else {
        Failure {
            kind: FailureKind::NotJson,
            message: format!(
                "POST {url} answered {status} but neither an event stream nor JSON (body starts: {:?}); check the baseUrl",
                text.chars().take(80).collect::<String>()
            ),
        }
    }
}

/// An error sent inside a 200 stream (`data: {"error": …}`), mapped like an HTTP one.
fn err_in_stream(url: &str, err: &Value, attempts: u32) -> Failure {
    let status = err["code"]
        .as_u64()
        .filter(|c| (400..600).contains(c))
        .unwrap_or(400) as u16;
    let body = json!({ "error": err }).to_string();
    probe::http_failure("POST", url, status, "application/json", &body, attempts)
}

#[derive(Default)]
struct Sse {
    done: bool,
    seen: usize,
    error: Option<Value>,
}

impl Sse {
    /// Consumes the complete lines of `buf`.
    fn feed(&mut self, buf: &mut Vec<u8>, a: &mut Answer, start: Instant) {
        while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=nl).collect();
            self.seen += line.len();
            let line = String::from_utf8_lossy(&line);
            let Some(data) = line.trim_end().strip_prefix("data:") else {
                continue;
            };
            let data = data.trim();
            if data == "[DONE]" {
                self.done = true;
                return;
            }
            let Ok(v) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            if let Some(e) = v.get("error").filter(|e| !e.is_null()) {
                self.error = Some(e.clone());
                continue;
            }
            chunk(&v, a, start, "/choices/0/delta");
        }
    }
}

/// Takes the model, text and usage of one completion (chunk); `at` is where the text is.
fn chunk(v: &Value, a: &mut Answer, start: Instant, at: &str) {
    if a.answered_by.is_none()
        && let Some(m) = v["model"].as_str().filter(|m| !m.is_empty())
    {
        a.answered_by = Some(m.chars().take(200).collect());
    }
    let msg = v.pointer(at).unwrap_or(&Value::Null);
    let text = ["content", "reasoning_content", "reasoning"]
        .iter()
        .find_map(|k| msg[*k].as_str().filter(|s| !s.is_empty()));
    if text.is_some() {
        a.ttft_ms.get_or_insert(start.elapsed().as_millis() as u64);
        if a.reply.len() < 200 {
            a.reply
                .push_str(msg["content"].as_str().unwrap_or_default());
        }
    }
    if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
        a.usage = Some(Usage {
            prompt_tokens: u["prompt_tokens"].as_u64(),
            completion_tokens: u["completion_tokens"].as_u64(),
            total_tokens: u["total_tokens"].as_u64(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STREAM: &str = concat!(
        ": keep-alive\n\n",
        "data: {\"model\":\"deepseek.v3-v1:0\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"po\"}}]}\r\n\r\n",
        "data: {\"model\":\"deepseek.v3-v1:0\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ng ☃\"}}]}\n\n",
        "data: {\"model\":\"deepseek.v3-v1:0\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n",
        "data: [DONE]\n\n",
    );

    /// Feeds `bytes` in the given pieces, as the network may cut them, then the end.
    fn parse(pieces: &[&[u8]]) -> (Answer, bool) {
        let (mut a, mut sse, mut buf) = (Answer::default(), Sse::default(), Vec::new());
        let now = Instant::now();
        for p in pieces {
            buf.extend_from_slice(p);
            sse.feed(&mut buf, &mut a, now);
        }
        buf.push(b'\n');
        sse.feed(&mut buf, &mut a, now);
        (a, sse.done)
    }

    fn summary(a: &Answer) -> (Option<String>, String, Option<u64>, bool) {
        (
            a.answered_by.clone(),
            a.reply.clone(),
            a.usage.as_ref().and_then(|u| u.total_tokens),
            a.ttft_ms.is_some(),
        )
    }

    proptest! {
        /// Wherever the network cuts the stream (inside a line, a CRLF, a UTF-8 character),
        /// the answer read is the same as from one piece.
        #[test]
        fn any_chunking_reads_the_same_answer(cuts in proptest::collection::vec(0..STREAM.len(), 0..12)) {
            let bytes = STREAM.as_bytes();
            let mut cuts = cuts;
            cuts.sort_unstable();
            cuts.dedup();
            let mut pieces = Vec::new();
            let mut last = 0;
            for c in cuts {
                pieces.push(&bytes[last..c]);
                last = c;
            }
            pieces.push(&bytes[last..]);
            let (whole, done) = parse(&[bytes]);
            prop_assert!(done);
            prop_assert_eq!(summary(&whole), (Some("deepseek.v3-v1:0".to_owned()), "pong ☃".to_owned(), Some(7), true));
            let (cut, done) = parse(&pieces);
            prop_assert!(done);
            prop_assert_eq!(summary(&cut), summary(&whole));
        }
    }

    #[test]
    fn an_error_inside_the_stream_is_a_failure_with_its_cause() {
        let mut sse = Sse::default();
        let mut buf =
            b"data: {\"error\":{\"message\":\"auto routing is not enabled\",\"code\":400}}\n\n"
                .to_vec();
        sse.feed(&mut buf, &mut Answer::default(), Instant::now());
        let f = err_in_stream("u", &sse.error.unwrap(), 1);
        assert_eq!(f.kind, FailureKind::AutoRoutingDisabled);
    }

    /// Serves `response` once on a loopback port and reads it as [`ask`] does.
    fn read_served(response: String) -> Answer {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/chat/completions", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut req = [0u8; 4096];
            let _ = conn.read(&mut req);
            conn.write_all(response.as_bytes()).unwrap();
        });
        let timeout = Duration::from_secs(10);
        let a = probe::block_on(async {
            let client = probe::client(timeout, &url).unwrap();
            let resp = client.post(&url).send().await.unwrap();
            read(resp, &url, 1, Instant::now(), timeout).await
        });
        server.join().unwrap();
        a
    }

    fn http(ct: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {ct}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    /// A stream, a plain JSON completion and the answers that are neither, read end to end.
    #[test]
    fn what_the_server_answers_is_read_as_a_reply_or_a_named_failure() {
        let a = read_served(http("text/event-stream", STREAM));
        assert!(a.failure.is_none(), "{:?}", a.failure);
        assert_eq!(a.reply, "pong ☃");
        let json = r#"{"model":"m","choices":[{"message":{"content":"pong"}}]}"#;
        let a = read_served(http("application/json", json));
        assert_eq!((a.reply.as_str(), a.failure.is_none()), ("pong", true));
        let a = read_served(http("text/event-stream", "data: {\"choices\":[]}\n\n"));
        assert_eq!(a.failure.unwrap().kind, FailureKind::NoAnswer);
        let a = read_served(http("text/html", "<html><body>portal</body></html>"));
        assert_eq!(a.failure.unwrap().kind, FailureKind::Html);
        let a = read_served(http("text/plain", "pong"));
        let f = a.failure.unwrap();
        assert_eq!(f.kind, FailureKind::NotJson);
        assert!(
            f.message.contains("(body starts: \"pong\")"),
            "{}",
            f.message
        );
    }

    #[test]
    fn the_body_is_what_openclaw_sends() {
        let p = Provider {
            base_url: "https://x/openai/v1".into(),
            base_url_from: String::new(),
            api: "openai-completions".into(),
            headers: Vec::new(),
            max_tokens_field: "max_tokens".into(),
            usage_in_stream: false,
        };
        let b = body(&p, "auto");
        assert_eq!(b["max_tokens"], MAX_TOKENS);
        assert!(b.get("max_completion_tokens").is_none() && b.get("stream_options").is_none());
        assert_eq!(b["stream"], true);
    }
}
