//! A Gateway running for the root while setup writes (issue 22). OpenClaw's Gateway
//! hot-applies the config we write within seconds but reads `.env` only when it starts, so a
//! first setup under a running Gateway used to switch it to `gaterouter/auto` without the
//! key ("[SECRETS_DEGRADED] cold provider:gaterouter"), and every message failed until the
//! user restarted it.
//!
//! With the real OpenClaw (2026.9.6, offline; `openclaw gateway run` on a free loopback
//! port, its own HOME and state dir, killed at the end even on a panic), a message through
//! the Gateway (`openclaw agent` without `--local`) must reach the GateRouter stand-in as
//! `auto` with the key right after setup with `--restart-gateway`, and after a second
//! setup without it (the Gateway holds the key by then: no refusal, no restart); after
//! uninstall it must not. One Gateway start for all of it (each takes 10–150 s here).
//!
//! The fast tests stand a plain process in for the Gateway (its lock file names it, as
//! OpenClaw's does), to cover what setup says and does for every combination of what the
//! Gateway's environment and `.env` hold, in milliseconds.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::openclaw::{OpenClaw, openclaw_or_skip};
use crate::common::stand_in::{StandIn, healthy_reply};
use crate::common::*;
use serde_json::{Value, json};

const OTHER_KEY: &str = "sk-or-v1-other-SENTINEL-11111111wxyz";
/// A Gateway start (plugins, SQLite) takes 10–40 s on two busy cores.
const GATEWAY_READY: Duration = Duration::from_secs(180);

/// What this file does with OpenClaw besides running a command: its Gateway, a message
/// through it, and setup with the `openclaw` shim on PATH.
impl OpenClaw {
    /// `openclaw gateway run`, with `extra` in its own environment, once it is ready.
    fn gateway(&self, extra: &[(&str, &str)]) -> Gateway {
        let log = self.tmp.join("gateway.out");
        let mut c = self.command(&["gateway", "run"]);
        for (k, v) in extra {
            c.env(k, v);
        }
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        let out = std::fs::File::create(&log).unwrap();
        let child = c
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start the Gateway");
        let g = Gateway { child, log };
        let started = Instant::now();
        while !g.output().contains("[gateway] ready") {
            assert!(
                started.elapsed() < GATEWAY_READY,
                "the Gateway was not ready after {GATEWAY_READY:?}:\n{}",
                g.output()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        eprintln!("gateway ready — {:.1} s", started.elapsed().as_secs_f64());
        g
    }

    /// One message through the running Gateway (no `--local`), to `model` when given.
    fn message(&self, limit_secs: u32, model: Option<&str>) -> (bool, String) {
        let limit = limit_secs.to_string();
        let mut args = vec![
            "agent",
            "--agent",
            "main",
            "--message",
            "Say hi.",
            "--json",
            "--timeout",
            &limit,
        ];
        if let Some(m) = model {
            args.extend(["--model", m]);
        }
        let out = self.run(&args);
        (
            out.status.success(),
            format!("{}\n{}", text(&out.stdout), text(&out.stderr)),
        )
    }

    fn setup(&self, args: &[&str]) -> std::process::Output {
        let mut c = cmd(&self.home);
        c.env("PATH", &self.path).args(args).arg(&self.state);
        let started = Instant::now();
        let out = c.output().unwrap();
        eprintln!(
            "gaterouter-setup {} — {:.1} s, exit {:?}",
            args.join(" "),
            started.elapsed().as_secs_f64(),
            out.status.code()
        );
        assert_no_key(&out, KEY);
        assert_no_key(&out, OTHER_KEY);
        out
    }
}

/// The Gateway's process group, stopped when dropped (a failing test too).
struct Gateway {
    child: Child,
    log: PathBuf,
}

impl Gateway {
    fn output(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// Waits until the Gateway logs `needle` after byte `from` of its output.
    fn wait_for(&self, from: usize, needle: &str, limit: Duration) -> String {
        let started = Instant::now();
        loop {
            let out = self.output();
            let tail = out.get(from..).unwrap_or_default();
            if tail.contains(needle) {
                return tail.to_owned();
            }
            assert!(
                started.elapsed() < limit,
                "the Gateway did not log {needle:?} within {limit:?}:\n{tail}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(g) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process_group(g, rustix::process::Signal::TERM);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if self.child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = rustix::process::kill_process_group(g, rustix::process::Signal::KILL);
        }
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The streamed completions the stand-in got, as `(authorization, model)`.
fn turns(s: &StandIn) -> Vec<(Option<String>, String)> {
    s.hits()
        .into_iter()
        .filter(|h| h.method == "POST" && h.path == "/openai/v1/chat/completions")
        .filter_map(|h| {
            let b: Value = serde_json::from_str(&h.body).ok()?;
            let model = b["model"].as_str()?.to_owned();
            (b["stream"] == true).then_some((h.authorization, model))
        })
        .collect()
}

/// The Gateway has no key: setup refuses to open the window; `--restart-gateway` writes
/// `.env`, restarts it, then the config; the next message reaches GateRouter as `auto`
/// with the key; after uninstall it does not.
#[test]
fn a_running_gateway_gets_the_key_before_the_model() {
    let _heavy = heavy();
    let started = Instant::now();
    let base = tempfile::tempdir().unwrap();
    let _locks = OpenClawLocks(base.path().to_path_buf());
    let Some(mut oc) = openclaw_or_skip(
        base.path(),
        "a_running_gateway_gets_the_key_before_the_model",
    ) else {
        return;
    };
    oc.shim(&base.path().join("bin"));
    oc.onboard_with(
        &base.path().join("openclaw.log"),
        json!({"gateway": {"port": free_port()}}),
    );
    let gr = StandIn::start(|r| healthy_reply(r, KEY));
    let gw = oc.gateway(&[]);
    let config_before = std::fs::read(oc.state.join("openclaw.json")).unwrap();

    // 1. Without a choice, setup refuses: the Gateway would switch without the key.
    let out = oc.setup(&["--yes", "--base-url", &gr.base_url(), KEY]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}\n{err}", text(&out.stdout));
    assert!(err.contains("--restart-gateway"), "{err}");
    let said = format!("{}{err}", text(&out.stdout));
    assert!(said.contains("reads .env only when it starts"), "{said}");
    assert_eq!(
        std::fs::read(oc.state.join("openclaw.json")).unwrap(),
        config_before
    );
    assert!(!oc.state.join(".env").exists());

    // 2. --restart-gateway: .env, the restart, then the config.
    let from = gw.output().len();
    let out = oc.setup(&[
        "--yes",
        "--restart-gateway",
        "--base-url",
        &gr.base_url(),
        KEY,
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("Restarted the Gateway"), "{stdout}");
    let log = gw.wait_for(from, "config hot reload applied", Duration::from_secs(60));
    let restart_at = log.find("received SIGUSR2").expect("restarted by setup");
    assert!(
        restart_at < log.find("config change detected").unwrap(),
        "the config was written before the restart:\n{log}"
    );
    assert!(
        !log.contains("SECRETS_DEGRADED") && !log.contains("SECRETS_OWNER_UNAVAILABLE"),
        "the Gateway went without the key:\n{log}"
    );

    // 3. The next message reaches GateRouter through the Gateway: `auto`, with the key.
    // The first turn of a fresh Gateway is slow on busy cores (two minutes seen).
    let (ok, said) = oc.message(300, None);
    assert!(ok, "the message through the Gateway failed:\n{said}");
    let sent = turns(&gr);
    assert!(
        !sent.is_empty(),
        "the Gateway sent GateRouter nothing:\n{said}"
    );
    for (auth, model) in &sent {
        assert_eq!(auth.as_deref(), Some(format!("Bearer {KEY}").as_str()));
        assert_eq!(model, "auto");
    }

    // 4. Setup again without a flag, to change the fallbacks: the Gateway holds this key
    // now (read from .env at the restart), so nothing is refused or restarted, and the
    // change is live at once with the key.
    let from = gw.output().len();
    let out = oc.setup(&[
        "--yes",
        "--base-url",
        &gr.base_url(),
        "--fallback",
        "gaterouter/openai/gpt-5.4",
        KEY,
    ]);
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("already holds this GATEROUTER_API_KEY"),
        "{said}"
    );
    assert!(!said.contains("Restarted"), "{said}");
    let log = gw.wait_for(from, "config hot reload applied", Duration::from_secs(60));
    assert!(
        !log.contains("SECRETS_DEGRADED") && !log.contains("received SIGUSR2"),
        "{log}"
    );

    // 5. verify --via-gateway: the proof comes from the Gateway itself.
    let n = turns(&gr).len();
    let out = oc.setup(&["verify", "--via-gateway", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(out.status.code(), Some(0), "{v:#}\n{}", text(&out.stderr));
    assert_eq!(v["gateway"]["ok"], true, "{v:#}");
    assert_eq!(v["gateway"]["provider"], "gaterouter", "{v:#}");
    assert_eq!(v["gateway"]["key"], "same", "{v:#}");
    assert!(
        turns(&gr)[n..].iter().any(|(a, m)| {
            a.as_deref() == Some(format!("Bearer {KEY}").as_str()) && m == "auto"
        })
    );

    // 6. After uninstall (hot-applied too) no message reaches GateRouter any more.
    let from = gw.output().len();
    let out = oc.setup(&["uninstall", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    gw.wait_for(from, "config hot reload applied", Duration::from_secs(60));
    let n = turns(&gr).len();
    // Asked for gaterouter/auto by name (the user's own model is offline here): the
    // Gateway no longer knows it, so nothing reaches GateRouter.
    let (ok, said) = oc.message(30, Some("gaterouter/auto"));
    assert!(
        !ok,
        "gaterouter/auto still answered after uninstall:\n{said}"
    );
    assert_eq!(
        turns(&gr).len(),
        n,
        "a message still reached GateRouter:\n{said}"
    );

    drop(gw);
    eprintln!(
        "a_running_gateway_gets_the_key_before_the_model: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// A plain process standing in for a Gateway: started with `env` (and nothing else), and
/// named by a lock file in `root` the way OpenClaw's Gateway names itself.
struct FakeGateway(Child);

impl FakeGateway {
    fn start(root: &Path, env: &[(&str, &str)]) -> FakeGateway {
        let mut c = Command::new("sleep");
        c.arg("120").env_clear().envs(env.iter().copied());
        let child = c.stdin(Stdio::null()).spawn().unwrap();
        let pid = child.id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let start: u64 = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .nth(19)
            .unwrap()
            .parse()
            .unwrap();
        let dir = root.join("tmp/openclaw-0");
        std::fs::create_dir_all(&dir).unwrap();
        let lock = json!({"pid": pid, "stateDir": root, "configPath": root.join("openclaw.json"), "port": 18789, "startTime": start, "createdAt": "2026-12-02T00:00:00.000Z"});
        std::fs::write(dir.join("gateway.state.lock"), format!("{lock:#}\n\t\t \t")).unwrap();
        FakeGateway(child)
    }
}

impl Drop for FakeGateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn set_env_key(root: &Path, key: Option<&str>) {
    let mut s = "ANTHROPIC_API_KEY=sk-ant-test-000\n".to_owned();
    if let Some(k) = key {
        s.push_str(&format!("GATEROUTER_API_KEY={k}\n"));
    }
    std::fs::write(root.join(".env"), s).unwrap();
}

/// Every combination of what the Gateway's own environment and `.env` hold, and of the
/// flags: the plan says what the Gateway will have, before the prompt; the one combination
/// that opens the window (no key anywhere, the config switching) refuses unless a flag
/// chose; nothing is written when refused.
#[test]
fn what_setup_says_for_every_key_the_gateway_may_hold() {
    struct Case {
        own: Option<&'static str>,
        dotenv: Option<&'static str>,
        /// `.env` edited after the Gateway started.
        edited_after: bool,
        env_extra: &'static [(&'static str, &'static str)],
        flag: Option<&'static str>,
        code: i32,
        says: &'static str,
    }
    let cases = [
        Case {
            own: None,
            dotenv: None,
            edited_after: false,
            env_extra: &[],
            flag: None,
            code: 1,
            says: "It has no GATEROUTER_API_KEY yet: it would switch",
        },
        Case {
            own: None,
            dotenv: None,
            edited_after: false,
            env_extra: &[],
            flag: Some("--no-restart-gateway"),
            code: 0,
            says: "every message fails until then",
        },
        Case {
            own: Some(KEY),
            dotenv: None,
            edited_after: false,
            env_extra: &[],
            flag: None,
            code: 0,
            says: "already holds this GATEROUTER_API_KEY",
        },
        Case {
            own: Some(OTHER_KEY),
            dotenv: None,
            edited_after: false,
            env_extra: &[],
            flag: None,
            code: 0,
            says: "Its own environment sets another GATEROUTER_API_KEY",
        },
        Case {
            own: None,
            dotenv: Some(KEY),
            edited_after: false,
            env_extra: &[],
            flag: None,
            code: 0,
            says: "already holds this GATEROUTER_API_KEY",
        },
        Case {
            own: None,
            dotenv: Some(OTHER_KEY),
            edited_after: false,
            env_extra: &[],
            flag: None,
            code: 0,
            says: "restarts a Gateway no service manager supervises in-process",
        },
        Case {
            own: None,
            dotenv: Some(OTHER_KEY),
            edited_after: false,
            env_extra: &[("INVOCATION_ID", "abc")],
            flag: None,
            code: 0,
            says: "under systemd",
        },
        Case {
            own: None,
            dotenv: Some(KEY),
            edited_after: true,
            env_extra: &[],
            flag: None,
            code: 0,
            says: ".env changed after it started",
        },
    ];
    for (i, c) in cases.iter().enumerate() {
        let (_tmp, root) = root_from("onboarded");
        if !c.edited_after {
            set_env_key(&root, c.dotenv);
        }
        let mut env: Vec<(&str, &str)> = c.env_extra.to_vec();
        if let Some(k) = c.own {
            env.push(("GATEROUTER_API_KEY", k));
        }
        let _gw = FakeGateway::start(&root, &env);
        if c.edited_after {
            std::thread::sleep(Duration::from_millis(20));
            set_env_key(&root, c.dotenv);
        }
        let before = snapshot(&root);
        let mut args = vec!["--offline", "--yes"];
        args.extend(c.flag);
        let out = cmd(root.parent().unwrap())
            .args(&args)
            .arg(KEY)
            .arg(&root)
            .output()
            .unwrap();
        assert_no_key(&out, KEY);
        assert_no_key(&out, OTHER_KEY);
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(c.code), "case {i}:\n{said}");
        assert!(
            said.contains(c.says),
            "case {i}: no {:?} in\n{said}",
            c.says
        );
        assert!(
            said.contains("A Gateway runs for this root (pid"),
            "case {i}:\n{said}"
        );
        if c.code != 0 {
            assert!(snapshot(&root) == before, "case {i}: a refused run wrote");
        }
        // A dry run says the same and refuses nothing.
        if c.code == 0 {
            continue;
        }
        let dry = cmd(root.parent().unwrap())
            .args(["--offline", "--dry-run", KEY])
            .arg(&root)
            .output()
            .unwrap();
        assert_eq!(dry.status.code(), Some(0));
        assert!(text(&dry.stdout).contains(c.says) || text(&dry.stderr).contains(c.says));
    }
}

/// `--restart-gateway` runs `openclaw gateway restart` between `.env` and the config (an
/// `openclaw` that records what the files held when it was called proves the order), with
/// no key on its argv or in its environment; a restart that fails leaves every file as it
/// was (exit 4). No Gateway: nothing is restarted and the report has no `gateway` field.
#[test]
fn restart_gateway_restarts_between_the_key_and_the_config() {
    for fails in [false, true] {
        let (tmp, root) = root_from("onboarded");
        set_env_key(&root, None);
        let _gw = FakeGateway::start(&root, &[]);
        let bin = tmp.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let seen = tmp.path().join("seen");
        let script = format!(
            "#!/bin/sh\n{{ echo \"argv: $*\"; env; echo '--- .env'; cat '{env}'; echo '--- config'; cat '{cfg}'; }} > '{seen}'\n{}",
            if fails {
                "echo 'gateway restart failed: no gateway' >&2; exit 1\n"
            } else {
                "echo '{\"ok\": true, \"result\": \"restarted\", \"message\": \"restart request sent\"}'\n"
            },
            env = root.join(".env").display(),
            cfg = root.join("openclaw.json").display(),
            seen = seen.display(),
        );
        std::fs::write(bin.join("openclaw"), script).unwrap();
        std::fs::set_permissions(
            bin.join("openclaw"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let before = snapshot(&root);
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = cmd(tmp.path())
            .env("PATH", path)
            .env("GATEROUTER_API_KEY", KEY)
            .args(["--offline", "--yes", "--json", "--restart-gateway"])
            .arg(&root)
            .output()
            .unwrap();
        assert_no_key(&out, KEY);
        let seen = std::fs::read_to_string(&seen).expect("openclaw was run");
        let (head, files) = seen.split_once("--- .env").unwrap();
        let (dotenv, config) = files.split_once("--- config").unwrap();
        assert!(head.starts_with("argv: gateway restart --json"), "{head}");
        assert!(
            !head.contains(KEY),
            "the key reached openclaw's argv or environment"
        );
        assert!(
            head.contains(&format!("OPENCLAW_STATE_DIR={}", root.display())),
            "{head}"
        );
        assert!(
            dotenv.contains(&format!("GATEROUTER_API_KEY={KEY}")),
            "the restart came before .env"
        );
        assert!(
            !config.contains("gaterouter"),
            "the config was written before the restart"
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        if fails {
            assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
            // The backup set stays, as after any failed write; every file is as it was.
            let mut after = snapshot(&root);
            after.retain(|k, _| !k.starts_with(".gaterouter-backup"));
            assert!(after == before, "a failed restart left files changed");
            assert!(
                text(&out.stderr).contains("the Gateway did not restart"),
                "{}",
                text(&out.stderr)
            );
        } else {
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            assert!(
                std::fs::read_to_string(root.join("openclaw.json"))
                    .unwrap()
                    .contains("gaterouter")
            );
            assert_eq!(report["gateway"]["running"], true, "{report:#}");
            assert_eq!(report["gateway"]["key"], "missing", "{report:#}");
            assert_eq!(report["gateway"]["restart"]["ok"], true, "{report:#}");
        }
    }
    // No Gateway for the root: nothing to say, nothing restarted.
    let (tmp, root) = root_from("onboarded");
    let out = cmd(tmp.path())
        .env("GATEROUTER_API_KEY", KEY)
        .args(["--offline", "--yes", "--json", "--restart-gateway"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report.get("gateway").is_none(), "{report:#}");
}

/// `verify --via-gateway` with an `openclaw` that answers as the real one does: through
/// GateRouter it passes; through another provider (a Gateway that has not applied the
/// config), or with no Gateway running, it fails (exit 3) and says why. The message goes
/// to the Gateway (no `--local`), in a session of its own, and no key goes with it.
#[test]
fn verify_via_gateway_passes_only_on_gaterouters_answer() {
    let gr = StandIn::start(|r| healthy_reply(r, KEY));
    let (tmp, root) = root_from("onboarded");
    let out = cmd(tmp.path())
        .env("GATEROUTER_API_KEY", KEY)
        .args(["--offline", "--yes", "--base-url", &gr.base_url()])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let seen = tmp.path().join("seen");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let answer = |provider: &str| {
        let reply = json!({"runId": "r", "status": "ok", "summary": "completed", "result": {
            "payloads": [{"text": "pong"}],
            "meta": {"agentMeta": {"provider": provider, "model": "auto"}}}});
        let script = format!(
            "#!/bin/sh\n{{ echo \"argv: $*\"; env; }} > '{}'\ncat <<'JSON'\n{reply}\nJSON\n",
            seen.display()
        );
        std::fs::write(bin.join("openclaw"), script).unwrap();
        std::fs::set_permissions(
            bin.join("openclaw"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
    };
    let verify = || {
        let _ = std::fs::remove_file(&seen);
        let out = cmd(tmp.path())
            .env("PATH", &path)
            .env("GATEROUTER_API_KEY", KEY)
            .args(["verify", "--via-gateway", "--json"])
            .arg(&root)
            .output()
            .unwrap();
        assert_no_key(&out, KEY);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), v)
    };

    answer("gaterouter");
    // No Gateway runs: nothing to send it through.
    let (code, v) = verify();
    assert_eq!(code, Some(3), "{v:#}");
    assert!(
        v["gateway"]["error"]
            .as_str()
            .unwrap()
            .contains("no Gateway runs"),
        "{v:#}"
    );
    // (`openclaw --version` runs, as in every run; `openclaw agent` must not.)
    let ran = std::fs::read_to_string(&seen).unwrap_or_default();
    assert!(
        !ran.contains("argv: agent"),
        "openclaw agent ran without a Gateway"
    );

    let _gw = FakeGateway::start(&root, &[]);
    let (code, v) = verify();
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["gateway"]["ok"], true);
    assert_eq!(v["gateway"]["key"], "same", "{v:#}");
    // The script records its last run: the message (`--version` came before it).
    let argv = std::fs::read_to_string(&seen).unwrap();
    assert!(
        argv.starts_with(
            "argv: agent --agent main --session-key agent:main:gaterouter-setup-verify --message"
        ),
        "{argv}"
    );
    assert!(!argv.contains("--local"), "{argv}");
    assert!(!argv.contains(KEY), "the key went to openclaw");
    assert!(
        argv.contains(&format!("OPENCLAW_STATE_DIR={}", root.display())),
        "{argv}"
    );

    answer("anthropic");
    let (code, v) = verify();
    assert_eq!(code, Some(3), "{v:#}");
    let e = v["gateway"]["error"].as_str().unwrap();
    assert!(e.contains("through anthropic/auto, not GateRouter"), "{e}");
}

/// A rollback that brings GateRouter back (to before an uninstall) meets the same Gateway
/// as setup: refused while the Gateway has no key, applied with `--no-restart-gateway`.
#[test]
fn rollback_to_gaterouter_under_a_gateway_without_the_key_refuses_too() {
    let (tmp, root) = root_from("onboarded");
    let run = |args: &[&str]| {
        let out = cmd(tmp.path()).args(args).arg(&root).output().unwrap();
        assert_no_key(&out, KEY);
        (
            out.status.code(),
            format!("{}{}", text(&out.stdout), text(&out.stderr)),
        )
    };
    assert_eq!(run(&["--offline", "--yes", KEY]).0, Some(0));
    let (code, said) = run(&["uninstall", "--yes"]);
    assert_eq!(code, Some(0), "{said}");
    // A Gateway started now has no key (none in .env, none in its environment).
    let _gw = FakeGateway::start(&root, &[]);
    // Back to before the uninstall: its backup set is the newest.
    let mut sets: Vec<String> = std::fs::read_dir(root.join(".gaterouter-backup"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    sets.sort();
    let to = sets.last().unwrap().clone();
    let before = snapshot(&root);
    let (code, said) = run(&["rollback", "--yes", "--to", &to]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("--restart-gateway"), "{said}");
    assert!(snapshot(&root) == before, "a refused rollback wrote");
    let (code, said) = run(&["rollback", "--yes", "--no-restart-gateway", "--to", &to]);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("every message fails until then"), "{said}");
}
