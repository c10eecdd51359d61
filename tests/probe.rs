//! The GateRouter probe against a real HTTP server on 127.0.0.1, one test per outcome.

use std::time::Duration;

use crate::common::stand_in::{LIVE_MODELS, Reply, StandIn, healthy_reply};
use crate::common::*;
use gaterouter_setup::gaterouter::key::ApiKey;
use gaterouter_setup::gaterouter::probe::{
    self, AutoRouting, FailureKind, ProbeConfig, ProbeReport,
};

fn key() -> ApiKey {
    ApiKey::parse(KEY).unwrap()
}

fn config(base: &str) -> ProbeConfig {
    let mut c = ProbeConfig::new(base);
    c.timeout = Duration::from_secs(5);
    c.backoff = Duration::from_millis(10);
    c
}

fn probe(server: &StandIn) -> ProbeReport {
    probe::run(&key(), &config(&server.base_url()))
}

/// Nothing the probe reports may carry the key.
fn assert_clean(r: &ProbeReport) {
    let s = serde_json::to_string(r).unwrap();
    assert!(!s.contains(KEY), "key leaked into the report: {s}");
}

#[test]
fn healthy_service() {
    let server = StandIn::healthy(KEY);
    let r = probe(&server);
    assert_clean(&r);
    assert!(r.blocking.is_none(), "{:?}", r.blocking);
    assert!(r.reachable);
    assert_eq!(r.key_accepted, Some(true));
    assert_eq!(r.auto_routing, AutoRouting::On);
    let ids: Vec<&str> = r
        .models
        .as_ref()
        .unwrap()
        .iter()
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(ids, LIVE_MODELS);
    assert_eq!(r.models.as_ref().unwrap()[1].name, "Claude Sonnet 4.6");
    let hits = server.hits();
    assert_eq!(hits.len(), 2);
    for h in &hits {
        assert_eq!(
            h.authorization.as_deref(),
            Some(format!("Bearer {KEY}").as_str())
        );
    }
    let chat = hits.iter().find(|h| h.method == "POST").unwrap();
    let body: serde_json::Value = serde_json::from_str(&chat.body).unwrap();
    assert_eq!(body["model"], "auto");
    assert_eq!(body["max_completion_tokens"], 16);
    assert!(
        body.get("max_tokens").is_none(),
        "the probe must never send max_tokens"
    );
}

#[test]
fn the_two_requests_overlap_at_the_server() {
    // Each request is held at the server until both have arrived (or 5 s pass). A client
    // that sends them one after the other can never meet this barrier, since its second
    // request only comes once the first is answered; a concurrent one meets it however
    // loaded the machine is. No timing is asserted.
    use std::sync::{Arc, Condvar, Mutex};
    let barrier = Arc::new((Mutex::new(0usize), Condvar::new()));
    let met = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (b, m) = (barrier.clone(), met.clone());
    let server = StandIn::start(move |r| {
        let (lock, cv) = &*b;
        let mut arrived = lock.lock().unwrap();
        *arrived += 1;
        cv.notify_all();
        let (arrived, timeout) = cv
            .wait_timeout_while(arrived, Duration::from_secs(5), |n| *n < 2)
            .unwrap();
        if !timeout.timed_out() && *arrived >= 2 {
            m.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        drop(arrived);
        healthy_reply(r, KEY)
    });
    let r = probe(&server);
    assert!(r.blocking.is_none(), "{:?}", r.blocking);
    assert_eq!(
        met.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "the requests were not in flight at the same time"
    );
    let hits = server.hits();
    let get = hits.iter().find(|h| h.method == "GET").unwrap();
    let post = hits.iter().find(|h| h.method == "POST").unwrap();
    assert!(get.arrived < post.replied && post.arrived < get.replied);
}

#[test]
fn auto_routing_disabled() {
    let server = StandIn::start(|r| {
        if r.method == "POST" {
            Reply::error(400, "auto routing is not enabled")
        } else {
            healthy_reply(r, KEY)
        }
    });
    let r = probe(&server);
    assert!(r.blocking.is_none());
    assert_eq!(r.auto_routing, AutoRouting::Off);
    assert!(r.models.is_some());
}

#[test]
fn key_rejected() {
    let server = StandIn::healthy("sk-or-v1-some-other-key-00000000000");
    let r = probe(&server);
    assert_clean(&r);
    let f = r.blocking.unwrap();
    assert_eq!(f.kind, FailureKind::KeyRejected);
    assert!(
        f.message.contains("Console → Settings → API keys"),
        "{}",
        f.message
    );
    assert_eq!(r.key_accepted, Some(false));
}

#[test]
fn wrong_path_404() {
    let server = StandIn::healthy(KEY);
    let r = probe::run(&key(), &config(&format!("{}/v1", server.root_url())));
    let f = r.blocking.unwrap();
    assert_eq!(f.kind, FailureKind::WrongBaseUrl);
    assert!(
        f.message.contains("must end in /openai/v1"),
        "{}",
        f.message
    );
}

#[test]
fn rate_limited_then_success_honours_retry_after() {
    let server = StandIn::start(|r| {
        if r.method == "GET" && r.nth == 0 {
            Reply::error(429, "slow down").header("retry-after", "1")
        } else {
            healthy_reply(r, KEY)
        }
    });
    let r = probe(&server);
    assert!(r.blocking.is_none(), "{:?}", r.blocking);
    assert_eq!(r.requests[0].attempts, 2);
    let gets: Vec<_> = server
        .hits()
        .into_iter()
        .filter(|h| h.method == "GET")
        .collect();
    assert_eq!(gets.len(), 2);
    let waited = gets[1].arrived - gets[0].answered;
    assert!(
        waited >= Duration::from_millis(900),
        "Retry-After: 1 was not honoured ({waited:?})"
    );
}

#[test]
fn service_unavailable_three_times_then_up() {
    let server = StandIn::start(|r| {
        if r.method == "GET" && r.nth < 3 {
            Reply::error(503, "upstream unavailable")
        } else {
            healthy_reply(r, KEY)
        }
    });
    let r = probe(&server);
    assert!(r.blocking.is_none(), "{:?}", r.blocking);
    assert_eq!(r.requests[0].attempts, 4);
}

#[test]
fn service_unavailable_every_time() {
    let server = StandIn::start(|r| {
        if r.method == "GET" {
            Reply::error(503, "upstream unavailable")
        } else {
            healthy_reply(r, KEY)
        }
    });
    let r = probe(&server);
    let f = r.blocking.unwrap();
    assert_eq!(f.kind, FailureKind::ServerError);
    assert!(f.message.contains("503 after 4 attempts"), "{}", f.message);
    assert_eq!(
        server.hits().iter().filter(|h| h.method == "GET").count(),
        4
    );
}

#[test]
fn slower_than_the_timeout() {
    let server = StandIn::start(|r| healthy_reply(r, KEY).after(Duration::from_secs(3)));
    let mut c = config(&server.base_url());
    c.timeout = Duration::from_millis(700);
    let r = probe::run(&key(), &c);
    let f = r.blocking.unwrap();
    assert_eq!(f.kind, FailureKind::Timeout);
    assert!(
        f.message.contains("timed out") && f.message.contains("--timeout"),
        "{}",
        f.message
    );
    assert_eq!(r.auto_routing, AutoRouting::Unknown);
}

#[test]
fn html_502_from_a_proxy() {
    let server = StandIn::start(|_| {
        Reply::text(
            502,
            "text/html",
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        )
    });
    let r = probe(&server);
    let f = r.blocking.unwrap();
    assert_eq!(f.kind, FailureKind::Html);
    assert!(
        f.message.contains("HTML page instead of JSON"),
        "{}",
        f.message
    );
}

#[test]
fn malformed_json_model_list() {
    let server = StandIn::start(|r| {
        if r.method == "GET" {
            Reply::text(200, "application/json", "{\"data\": [ {\"id\": ")
        } else {
            healthy_reply(r, KEY)
        }
    });
    let r = probe(&server);
    let f = r.blocking.unwrap();
    assert_eq!(f.kind, FailureKind::NotJson);
    assert!(
        f.message.contains("not with a JSON model list"),
        "{}",
        f.message
    );
}

#[test]
fn connection_refused() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let r = probe::run(
        &key(),
        &config(&format!("http://127.0.0.1:{port}/openai/v1")),
    );
    assert_clean(&r);
    let f = r.blocking.unwrap();
    assert_eq!(f.kind, FailureKind::Connect);
    assert!(
        f.message.contains("could not connect") && f.message.contains(&port.to_string()),
        "{}",
        f.message
    );
    assert!(!r.reachable);
}

// ---- End to end: the binary with the probe against the stand-in ----

fn setup(
    server: &StandIn,
    case: &str,
    extra: &[&str],
) -> (tempfile::TempDir, std::path::PathBuf, std::process::Output) {
    let (tmp, root) = root_from(case);
    let out = cmd(tmp.path())
        .args(["--yes", "--base-url", &server.base_url(), "--timeout", "5"])
        .args(extra)
        .arg(KEY)
        .arg(&root)
        .output()
        .unwrap();
    assert_no_key(&out, KEY);
    (tmp, root, out)
}

fn config_model(root: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(root.join("openclaw.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["agents"]["defaults"]["model"].clone()
}

#[test]
fn cli_healthy_writes_the_live_catalog() {
    let server = StandIn::healthy(KEY);
    let (_tmp, root, out) = setup(&server, "onboarded", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("auto routing on, 4 models"),
        "{}",
        text(&out.stdout)
    );
    let models = std::fs::read_to_string(root.join("agents/main/agent/models.json")).unwrap();
    assert!(
        models.contains("deepseek/deepseek-v3.2"),
        "live models were not used"
    );
    assert!(models.contains(&format!("\"baseUrl\": \"{}\"", server.base_url())));
    assert_eq!(config_model(&root)["primary"], "gaterouter/auto");
}

#[test]
fn cli_auto_disabled_switches_the_primary_to_a_fixed_model() {
    let disabled = |r: &crate::common::stand_in::Req| {
        if r.method == "POST" {
            Reply::error(400, "auto routing is not enabled")
        } else {
            healthy_reply(r, KEY)
        }
    };
    let server = StandIn::start(disabled);
    let (_tmp, root, out) = setup(&server, "onboarded", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Dashboard → routing settings"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout)
            .contains("+        \"primary\": \"gaterouter/anthropic/claude-sonnet-4.6\""),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        config_model(&root),
        serde_json::json!({
            "primary": "gaterouter/anthropic/claude-sonnet-4.6",
            // No OpenRouter credentials in this root: no OpenRouter fallback.
            "fallbacks": ["anthropic/claude-opus-4-6"]
        })
    );

    // --primary gaterouter/auto keeps auto anyway.
    let server = StandIn::start(disabled);
    let (_tmp, root, out) = setup(&server, "onboarded", &["--primary", "gaterouter/auto"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(config_model(&root)["primary"], "gaterouter/auto");

    // --require-auto makes it an error, and nothing is written.
    let server = StandIn::start(disabled);
    let (tmp, root) = root_from("onboarded");
    let before = snapshot(&root);
    let out = cmd(tmp.path())
        .args([
            "--yes",
            "--require-auto",
            "--base-url",
            &server.base_url(),
            KEY,
        ])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--require-auto"));
    assert_eq!(snapshot(&root), before);
}

#[test]
fn cli_rejected_key_exits_3_and_writes_nothing() {
    let server = StandIn::healthy("sk-or-v1-some-other-key-00000000000");
    let (tmp, root) = root_from("onboarded");
    let before = snapshot(&root);
    let out = cmd(tmp.path())
        .args(["--yes", "--json", "--base-url", &server.base_url(), KEY])
        .arg(&root)
        .output()
        .unwrap();
    assert_no_key(&out, KEY);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("rejected the API key"),
        "{}",
        text(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["exit_code"], 3);
    assert_eq!(v["probe"]["status"], "done");
    assert_eq!(v["probe"]["blocking"]["kind"], "key-rejected");
    assert_eq!(snapshot(&root), before);
}

#[test]
fn cli_probe_subcommand() {
    let server = StandIn::healthy(KEY);
    let tmp = tempfile::tempdir().unwrap();
    let out = cmd(tmp.path())
        .args(["probe", KEY, "--base-url", &server.base_url()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Result: reachable, key accepted, auto routing on"));
    assert_no_key(&out, KEY);

    let out = cmd(tmp.path())
        .env("GATEROUTER_API_KEY", KEY)
        .args(["probe", "--json", "--base-url", &server.base_url()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["auto_routing"], "on");
    assert_eq!(v["models"].as_array().unwrap().len(), LIVE_MODELS.len());

    let bad = StandIn::healthy("sk-or-v1-some-other-key-00000000000");
    let out = cmd(tmp.path())
        .args(["probe", KEY, "--base-url", &bad.base_url()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_no_key(&out, KEY);
}

/// Hosts off this machine go through the proxy the environment names (here: one that
/// answers every CONNECT with 502, so the probe stops there); NO_PROXY exempts a host.
/// Loopback never goes through a proxy (tests/verify.rs, `loopback_requests_bypass_every_proxy`).
#[test]
fn cli_honours_proxy_environment_variables() {
    let proxy = StandIn::start(|_| Reply::error(502, "proxy stand-in"));
    let tmp = tempfile::tempdir().unwrap();
    let remote = "https://gaterouter.example/openai/v1";
    for var in ["HTTPS_PROXY", "all_proxy"] {
        let before = proxy.hits().len();
        let out = cmd(tmp.path())
            .env(var, proxy.root_url())
            .args(["probe", KEY, "--base-url", remote, "--timeout", "3"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{var}: {}", text(&out.stderr));
        assert_no_key(&out, KEY);
        let hits = proxy.hits();
        assert!(hits.len() > before, "{var}: the proxy was not used");
        assert!(
            hits[before..]
                .iter()
                .all(|h| h.method == "CONNECT" && h.path == "gaterouter.example:443"),
            "{var}: {hits:?}"
        );
    }
    let before = proxy.hits().len();
    let out = cmd(tmp.path())
        .env("HTTPS_PROXY", proxy.root_url())
        .env("NO_PROXY", "gaterouter.example")
        .args(["probe", KEY, "--base-url", remote, "--timeout", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(proxy.hits().len(), before, "NO_PROXY was not honoured");
}

#[test]
fn cli_reports_a_broken_config_before_contacting_gaterouter() {
    let server = StandIn::healthy(KEY);
    let (tmp, root) = root_from("broken-json");
    let out = cmd(tmp.path())
        .args(["--yes", "--base-url", &server.base_url(), KEY])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not valid JSON5"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        server.hits().is_empty(),
        "the probe ran before the input was checked"
    );
}

/// HTTPS goes through rustls with the ring provider (Cargo.toml): against a real TLS server
/// on loopback (openssl s_server, self-signed) the handshake reaches the certificate check
/// and fails there, as a TLS failure with its cause, not a missing-provider panic.
#[test]
fn https_reaches_the_certificate_check() {
    use std::process::{Command, Stdio};
    let have = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(!in_ci(), "openssl is needed for the TLS test in CI");
        eprintln!("SKIPPED: no openssl");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (cert, key_file) = (tmp.path().join("c.pem"), tmp.path().join("k.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key_file)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(made.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new("openssl")
        .args(["s_server", "-quiet", "-accept", &port.to_string(), "-cert"])
        .arg(&cert)
        .arg("-key")
        .arg(&key_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let r = probe::run(
        &key(),
        &config(&format!("https://127.0.0.1:{port}/openai/v1")),
    );
    server.kill().unwrap();
    server.wait().unwrap();
    let f = r
        .blocking
        .expect("a self-signed certificate must not be accepted");
    assert_eq!(f.kind, FailureKind::Tls, "{f:?}");
    assert!(f.message.contains("certificate"), "{}", f.message);
    // Refused again on every attempt, so not retried.
    for req in &r.requests {
        assert_eq!(req.attempts, 1, "{req:?}");
    }
}

/// A server whose answer is not HTTP a client can read (8 MB of response headers, a status
/// line that is not HTTP) is a broken answer, not an unreachable host: one attempt per request,
/// a message that names the cause, never "could not connect" retried.
#[test]
fn an_unreadable_answer_is_named_and_not_retried() {
    use std::io::{Read, Write};
    for (what, head, needle) in [
        (
            "8 MB of headers",
            {
                let mut h = String::from("HTTP/1.1 200 OK\r\n");
                let pad = "a".repeat(8000);
                while h.len() < 8 << 20 {
                    h.push_str(&format!("X-Pad-{}: {pad}\r\n", h.len()));
                }
                h
            },
            "headers",
        ),
        (
            "not HTTP",
            "SSH-2.0-OpenSSH_9.6\r\n".repeat(10),
            "is not HTTP",
        ),
    ] {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let conns = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = conns.clone();
        let head2 = head.clone();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { break };
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let head = head2.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf);
                    let _ = s.write_all(head.as_bytes());
                    let _ = s.write_all(b"\r\n{}");
                });
            }
        });
        let started = std::time::Instant::now();
        let r = probe::run(
            &key(),
            &config(&format!("http://127.0.0.1:{port}/openai/v1")),
        );
        assert_clean(&r);
        let f = r.blocking.clone().unwrap();
        assert_ne!(f.kind, FailureKind::Connect, "{what}: {}", f.message);
        assert!(
            !f.message.contains("could not connect"),
            "{what}: {}",
            f.message
        );
        assert!(f.message.contains(needle), "{what}: {}", f.message);
        assert!(
            r.requests.iter().all(|q| q.attempts == 1),
            "{what}: {:?}",
            r.requests
        );
        assert_eq!(conns.load(std::sync::atomic::Ordering::SeqCst), 2, "{what}");
        assert!(started.elapsed() < Duration::from_secs(4), "{what}");
    }
}
