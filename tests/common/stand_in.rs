//! A GateRouter stand-in on 127.0.0.1 for the tests: a small HTTP/1.1 server whose answers
//! a test scripts per request, and which records when each request arrived and when its
//! answer was sent (to prove requests overlap, and how many were in flight at once).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Hit {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
    /// When its connection was accepted: the client had sent it by then.
    pub arrived: Instant,
    /// When the first byte of the answer was about to be written: the client cannot have had
    /// its answer before, so `arrived..replied` lies inside the time the client was waiting.
    pub replied: Instant,
    /// When the whole answer had been written.
    pub answered: Instant,
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub delay: Duration,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: body.to_string(),
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    pub fn text(status: u16, content_type: &'static str, body: &str) -> Reply {
        Reply {
            status,
            content_type,
            body: body.to_owned(),
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    pub fn error(status: u16, message: &str) -> Reply {
        Reply::json(
            status,
            serde_json::json!({"error": {"message": message, "type": "invalid_request_error"}}),
        )
    }

    /// A streamed chat completion, as GateRouter sends one for `stream: true`: SSE
    /// `data: {chunk}` events carrying `text` in two pieces, a final chunk with the finish
    /// reason and usage, then `data: [DONE]`.
    pub fn sse(model: &str, text: &str) -> Reply {
        let chunk = |delta: serde_json::Value, finish: Option<&str>, usage: bool| {
            let mut c = serde_json::json!({
                "id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": 1,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            });
            if usage {
                c["usage"] = serde_json::json!({"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7});
            }
            format!("data: {c}\n\n")
        };
        let mid = text
            .char_indices()
            .nth(text.chars().count() / 2)
            .map_or(0, |(i, _)| i);
        let mut body = chunk(
            serde_json::json!({"role": "assistant", "content": &text[..mid]}),
            None,
            false,
        );
        body.push_str(&chunk(
            serde_json::json!({"content": &text[mid..]}),
            None,
            false,
        ));
        body.push_str(&chunk(serde_json::json!({}), Some("stop"), true));
        body.push_str("data: [DONE]\n\n");
        Reply {
            status: 200,
            content_type: "text/event-stream",
            body,
            delay: Duration::ZERO,
            headers: vec![("cache-control", "no-cache".to_owned())],
        }
    }

    pub fn after(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }

    pub fn header(mut self, k: &'static str, v: &str) -> Reply {
        self.headers.push((k, v.to_owned()));
        self
    }
}

/// The request as the script sees it, and how many earlier requests had the same path
/// (counted and recorded at once, so two requests that arrive together never share an `nth`).
pub struct Req<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub authorization: Option<&'a str>,
    pub body: &'a str,
    pub nth: usize,
}

type Script = dyn Fn(&Req) -> Reply + Send + Sync;

pub struct StandIn {
    addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
    stop: Arc<AtomicBool>,
}

impl StandIn {
    pub fn start(script: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        let (h, s) = (hits.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (h, script) = (h.clone(), script.clone());
                std::thread::spawn(move || serve(conn, &h, &*script));
            }
        });
        StandIn { addr, hits, stop }
    }

    /// GateRouter as it should be: models listed, auto routing on, this key accepted.
    pub fn healthy(key: &'static str) -> StandIn {
        StandIn::start(move |r| healthy_reply(r, key))
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/openai/v1", self.addr)
    }

    pub fn root_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

pub const LIVE_MODELS: &[&str] = &[
    "auto",
    "anthropic/claude-sonnet-4.6",
    "openai/gpt-5.4",
    "deepseek/deepseek-v3.2",
];

/// One `/models` entry. Two carry limits, spelled the two ways catalogs do (OpenRouter's
/// `context_length` + `top_provider`, and flat `context_window` + `max_output_tokens`).
pub fn live_model(id: &str) -> serde_json::Value {
    let mut m = serde_json::json!({"id": id, "object": "model"});
    match id {
        "anthropic/claude-sonnet-4.6" => {
            m["context_length"] = 1_000_000.into();
            m["top_provider"] = serde_json::json!({"max_completion_tokens": 64_000});
        }
        "openai/gpt-5.4" => {
            m["context_window"] = 400_000.into();
            m["max_output_tokens"] = 128_000.into();
        }
        _ => {}
    }
    m
}

/// The answers of a healthy GateRouter, including its plain-text 404 for unknown paths.
pub fn healthy_reply(r: &Req, key: &str) -> Reply {
    if r.authorization != Some(&format!("Bearer {key}")) {
        return Reply::error(401, "invalid api key");
    }
    match (r.method, r.path) {
        ("GET", "/openai/v1/models") => Reply::json(
            200,
            serde_json::json!({
                "object": "list",
                "data": LIVE_MODELS.iter().map(|id| live_model(id)).collect::<Vec<_>>()
            }),
        ),
        ("POST", "/openai/v1/chat/completions") => {
            let body: serde_json::Value = serde_json::from_str(r.body).unwrap_or_default();
            if body.get("max_tokens").is_some() {
                return Reply::error(400, "unsupported parameter: max_tokens");
            }
            if body["stream"] == true {
                return Reply::sse("deepseek.v3-v1:0", "pong");
            }
            Reply::json(
                200,
                serde_json::json!({
                    "id": "x", "object": "chat.completion", "model": "deepseek.v3-v1:0",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}]
                }),
            )
        }
        _ => Reply::text(404, "text/plain; charset=utf-8", "404 page not found"),
    }
}

fn serve(conn: TcpStream, hits: &Mutex<Vec<Hit>>, script: &Script) {
    let arrived = Instant::now();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let (mut len, mut auth) = (0usize, None);
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        let (k, v) = h.split_once(':').unwrap_or((&h, ""));
        match k.trim().to_ascii_lowercase().as_str() {
            "content-length" => len = v.trim().parse().unwrap_or(0),
            "authorization" => auth = Some(v.trim().to_owned()),
            _ => {}
        }
    }
    let mut body = vec![0; len];
    let _ = reader.read_exact(&mut body);
    let body = String::from_utf8_lossy(&body).into_owned();
    // Record the arrival before the script runs and sleeps, so overlapping requests are
    // visible as such.
    let (idx, nth) = {
        let mut h = hits.lock().unwrap();
        let nth = h.iter().filter(|h| h.path == path).count();
        h.push(Hit {
            method: method.clone(),
            path: path.clone(),
            authorization: auth.clone(),
            body: body.clone(),
            arrived,
            replied: arrived,
            answered: arrived,
        });
        (h.len() - 1, nth)
    };
    let reply = script(&Req {
        method: &method,
        path: &path,
        authorization: auth.as_deref(),
        body: &body,
        nth,
    });
    std::thread::sleep(reply.delay);
    hits.lock().unwrap()[idx].replied = Instant::now();
    let mut out = conn;
    let mut head = format!(
        "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(reply.body.as_bytes());
    let _ = out.flush();
    hits.lock().unwrap()[idx].answered = Instant::now();
}
