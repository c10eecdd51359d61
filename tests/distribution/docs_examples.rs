//! Every example in README.md and docs/*.md is run here, or says why it cannot be: a fenced
//! block preceded by `<!-- not run: REASON -->` is skipped, and such marks must stay few and
//! give a reason. Shell blocks run with `bash -e` in a sandbox (a fixture root at
//! `~/.openclaw`, the built binary on PATH, GateRouter a loopback stand-in, `cargo` and
//! `openclaw` stubs); the GitHub Actions workflow runs step by step as Actions would; the
//! container entrypoint runs with GateRouter down and up.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::stand_in::StandIn;
use crate::common::*;
use serde_json::Value;

/// Languages that are output or data, not something to run.
const NOT_EXAMPLES: &[&str] = &["json", "text", ""];
/// At most this many shell blocks may be marked not run, and this many blocks in all.
const MAX_SHELL_NOT_RUN: usize = 3;
const MAX_NOT_RUN: usize = 10;

#[derive(Debug)]
struct Block {
    file: String,
    line: usize,
    lang: String,
    text: String,
    not_run: Option<String>,
}

impl Block {
    fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn blocks() -> Vec<Block> {
    let mut files = vec![repo().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut out = Vec::new();
    for path in files {
        let rel = path
            .strip_prefix(repo())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let content = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = content.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let Some(lang) = lines[i].trim_start().strip_prefix("```") else {
                i += 1;
                continue;
            };
            let start = i;
            let mut body = Vec::new();
            i += 1;
            while i < lines.len() && lines[i].trim_start() != "```" {
                body.push(lines[i]);
                i += 1;
            }
            assert!(i < lines.len(), "{rel}:{}: unclosed code block", start + 1);
            let before = lines[..start].iter().rev().find(|l| !l.trim().is_empty());
            let not_run = before.and_then(|l| {
                l.trim()
                    .strip_prefix("<!-- not run:")
                    .and_then(|r| r.strip_suffix("-->"))
                    .map(|r| r.trim().to_owned())
            });
            out.push(Block {
                file: rel.clone(),
                line: start + 1,
                lang: lang.trim().to_owned(),
                text: body.join("\n") + "\n",
                not_run,
            });
            i += 1;
        }
    }
    out
}

fn is_shell(b: &Block) -> bool {
    matches!(b.lang.as_str(), "sh" | "bash" | "shell" | "console")
}

fn is_workflow(b: &Block) -> bool {
    b.lang == "yaml" && b.text.lines().any(|l| l.starts_with("jobs:"))
}

fn write_exe(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// The built binary's directory, for PATH.
fn bin_dir() -> PathBuf {
    assert_cmd::cargo::cargo_bin("gaterouter-setup")
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A 127.0.0.1 URL where nothing listens: GateRouter down.
fn closed_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}/openai/v1")
}

/// A temp dir with `home/.openclaw` (the onboarded fixture), `work/` (a copy of the fixture
/// roots as `fixtures/roots`, and `roots.txt` naming two more roots) and `bin/` holding
/// stubs: `cargo` (run/install/build, without compiling: the binary is built already) and
/// `openclaw` (records its arguments in `openclaw.log`).
struct Sandbox {
    tmp: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        copy_tree(
            &fixtures().join("onboarded/input"),
            &t.join("home/.openclaw"),
        );
        copy_tree(&fixtures(), &t.join("work/fixtures/roots"));
        let mut roots = String::new();
        for n in ["a", "b"] {
            let r = t.join("fleet").join(n);
            copy_tree(&fixtures().join("onboarded/input"), &r);
            roots.push_str(&format!("{}\n", r.display()));
        }
        std::fs::write(t.join("work/roots.txt"), roots).unwrap();
        std::fs::create_dir_all(t.join("bin")).unwrap();
        write_exe(
            &t.join("bin/cargo"),
            r#"#!/bin/sh
echo "cargo $*" >>"$SANDBOX/cargo.log"
case "$1" in
  run) while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done
       [ $# -gt 0 ] && shift
       exec gaterouter-setup "$@" ;;
  install|build) exit 0 ;;
  *) echo "stub cargo: '$1' is not emulated" >&2; exit 99 ;;
esac
"#,
        );
        write_exe(
            &t.join("bin/openclaw"),
            "#!/bin/sh\necho \"$*\" >>\"$SANDBOX/openclaw.log\"\n",
        );
        Sandbox { tmp }
    }

    fn path(&self) -> &Path {
        self.tmp.path()
    }

    fn home_root(&self) -> PathBuf {
        self.path().join("home/.openclaw")
    }

    /// The environment every sandboxed command gets, and nothing of the developer's.
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env(
                "PATH",
                format!(
                    "{}:{}:/usr/bin:/bin",
                    self.path().join("bin").display(),
                    bin_dir().display()
                ),
            )
            .env("HOME", self.path().join("home"))
            .env("SANDBOX", self.path())
            .env("NO_COLOR", "1")
            .env("TERM", "dumb")
            .current_dir(self.path().join("work"));
        c
    }

    fn openclaw_log(&self) -> String {
        std::fs::read_to_string(self.path().join("openclaw.log")).unwrap_or_default()
    }
}

/// Runs a shell block with `bash -e` on a terminal (`script`), so an interactive step gets
/// its prompt and the answer `y`; the key placeholder `sk-or-v1-…` becomes the test key.
fn run_shell_block(b: &Block, sb: &Sandbox, base_url: &str) -> Output {
    let file = sb.path().join("block.sh");
    std::fs::write(&file, b.text.replace("sk-or-v1-…", KEY)).unwrap();
    let mut c = sb.command("script");
    c.args(["-qec", &format!("bash -e {}", file.display()), "/dev/null"])
        .env("GATEROUTER_BASE_URL", base_url)
        // As in the pipelines docs/ci.md describes: the key comes from the environment.
        .env("GATEROUTER_API_KEY", KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"y\n").unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn every_shell_example_runs_here_or_says_why_not() {
    let all = blocks();
    assert!(all.iter().filter(|b| is_shell(b)).count() >= 5, "{all:#?}");
    let mut ran = Vec::new();
    for b in all.iter().filter(|b| is_shell(b) && b.not_run.is_none()) {
        let server = StandIn::healthy(KEY);
        let sb = Sandbox::new();
        let repo_fixtures = snapshot(&fixtures());
        let out = run_shell_block(b, &sb, &server.base_url());
        assert_no_key(&out, KEY);
        assert_eq!(
            out.status.code(),
            Some(0),
            "the example at {} failed:\n{}\n--- output:\n{}{}",
            b.at(),
            b.text,
            text(&out.stdout),
            text(&out.stderr)
        );
        assert_eq!(snapshot(&fixtures()), repo_fixtures, "{}", b.at());
        // A block that starts OpenClaw reached that line (the stub records it).
        if b.text.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("openclaw ") || l.starts_with("exec openclaw ")
        }) {
            assert!(
                !sb.openclaw_log().is_empty(),
                "{}: OpenClaw never started",
                b.at()
            );
        }
        ran.push(b.at());
    }
    assert!(ran.iter().any(|r| r.starts_with("README.md")), "{ran:?}");
    assert!(ran.iter().any(|r| r.starts_with("docs/ci.md")), "{ran:?}");
}

#[test]
fn examples_not_run_are_few_and_say_why() {
    let all = blocks();
    let marked: Vec<&Block> = all.iter().filter(|b| b.not_run.is_some()).collect();
    for b in &marked {
        let why = b.not_run.as_deref().unwrap();
        assert!(
            why.len() >= 20,
            "{}: `not run` needs a reason a reader can check, not {why:?}",
            b.at()
        );
    }
    let shell = marked.iter().filter(|b| is_shell(b)).count();
    assert!(
        shell <= MAX_SHELL_NOT_RUN && marked.len() <= MAX_NOT_RUN,
        "too many examples are not run ({shell} shell, {} in all): {:#?}",
        marked.len(),
        marked.iter().map(|b| b.at()).collect::<Vec<_>>()
    );
    // Every other block is run by a test here: shell blocks above, workflows below.
    for b in all.iter().filter(|b| b.not_run.is_none()) {
        assert!(
            is_shell(b) || is_workflow(b) || NOT_EXAMPLES.contains(&b.lang.as_str()),
            "{}: a ```{} example that no test runs; run it in tests/distribution/docs_examples.rs or mark it \
             <!-- not run: why -->",
            b.at(),
            b.lang
        );
    }
}

// ---------------------------------------------------------------------------------------
// GitHub Actions, as the runner executes a job: steps in order, `run:` with `bash -e`, a
// failing step fails the job and skips later steps unless their `if:` says otherwise,
// `$GITHUB_OUTPUT` lines become `steps.<id>.outputs`.

/// A Python that can read YAML: the ansible-core virtualenv scripts/test.sh installs has
/// PyYAML; a system python3 may.
fn yaml_to_json(yaml: &str) -> Option<Value> {
    let venv = std::env::var_os("GATEROUTER_ANSIBLE_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/gaterouter-setup/ansible"))
        })
        .map(|c| c.join("bin/python"));
    for py in venv
        .into_iter()
        .chain([PathBuf::from("python3")])
        .filter(|p| p.components().count() == 1 || p.exists())
    {
        let Ok(mut child) = Command::new(&py)
            .args([
                "-c",
                "import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        else {
            continue;
        };
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(yaml.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            return Some(serde_json::from_slice(&out.stdout).unwrap());
        }
    }
    None
}

#[derive(Debug, Default)]
struct JobRun {
    failed: bool,
    /// Step names with what happened: "ok", "failed (exit N)", "skipped", "uses".
    steps: Vec<(String, String)>,
}

impl JobRun {
    fn step(&self, name: &str) -> &str {
        &self
            .steps
            .iter()
            .find(|(n, _)| n.contains(name))
            .unwrap_or_else(|| panic!("no step {name}: {:?}", self.steps))
            .1
    }
}

/// `${{ secrets.NAME }}` from `secrets`; any other expression in a value is not emulated.
fn expand(v: &str, secrets: &BTreeMap<&str, String>) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find("}}").expect("unclosed ${{") + i;
        let expr = rest[i + 3..end].trim();
        let name = expr
            .strip_prefix("secrets.")
            .unwrap_or_else(|| panic!("expression not emulated: {expr}"));
        out.push_str(&secrets[name]);
        rest = &rest[end + 2..];
    }
    out + rest
}

/// An `if:` as Actions evaluates the forms the docs use: `steps.ID.outputs.NAME == 'V'`
/// (or `!=`), `success()`, `failure()`, `always()`; a non-status condition implies success().
fn condition(expr: Option<&str>, failed: bool, outputs: &BTreeMap<String, String>) -> bool {
    let Some(e) = expr.map(|e| {
        e.trim()
            .trim_start_matches("${{")
            .trim_end_matches("}}")
            .trim()
    }) else {
        return !failed;
    };
    match e {
        "success()" => return !failed,
        "failure()" => return failed,
        "always()" => return true,
        _ => {}
    }
    let (lhs, rhs, eq) = if let Some((l, r)) = e.split_once("==") {
        (l, r, true)
    } else if let Some((l, r)) = e.split_once("!=") {
        (l, r, false)
    } else {
        panic!("if: not emulated: {e}")
    };
    let key = lhs.trim().strip_prefix("steps.").expect("steps.<id>...");
    let value = rhs.trim().trim_matches('\'');
    let got = outputs.get(key).map(String::as_str).unwrap_or("");
    !failed && ((got == value) == eq)
}

fn run_workflow(
    wf: &Value,
    sb: &Sandbox,
    process_env: &[(&str, String)],
    secrets: &BTreeMap<&str, String>,
    env_override: &[(&str, String)],
) -> JobRun {
    let jobs = wf["jobs"].as_object().expect("jobs");
    assert_eq!(jobs.len(), 1, "one job");
    let job = jobs.values().next().unwrap();
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in job["env"].as_object().into_iter().flatten() {
        env.insert(k.clone(), expand(v.as_str().unwrap(), secrets));
    }
    for (k, v) in env_override {
        env.insert((*k).to_owned(), v.clone());
    }
    let mut run = JobRun::default();
    let mut outputs = BTreeMap::new();
    for (n, step) in job["steps"].as_array().unwrap().iter().enumerate() {
        let name = step["name"]
            .as_str()
            .or(step["uses"].as_str())
            .unwrap_or("step")
            .to_owned();
        if !condition(step["if"].as_str(), run.failed, &outputs) {
            run.steps.push((name, "skipped".into()));
            continue;
        }
        let Some(script) = step["run"].as_str() else {
            run.steps.push((name, "uses".into()));
            continue;
        };
        assert!(
            step["shell"].is_null() && step["continue-on-error"].is_null(),
            "not emulated: {step}"
        );
        let file = sb.path().join(format!("step{n}.sh"));
        std::fs::write(&file, expand(script, secrets)).unwrap();
        let gh_output = sb.path().join(format!("step{n}.out"));
        std::fs::write(&gh_output, "").unwrap();
        let mut c = sb.command("bash");
        // Actions' default shell on Linux: `bash -e {0}`.
        c.arg("-e").arg(&file).env("GITHUB_OUTPUT", &gh_output);
        for (k, v) in process_env {
            c.env(k, v);
        }
        for (k, v) in &env {
            c.env(k, v);
        }
        for (k, v) in step["env"].as_object().into_iter().flatten() {
            c.env(k, expand(v.as_str().unwrap(), secrets));
        }
        let out = c.stdin(Stdio::null()).output().unwrap();
        assert_no_key(&out, KEY);
        if let Some(id) = step["id"].as_str() {
            for line in std::fs::read_to_string(&gh_output).unwrap().lines() {
                let (k, v) = line.split_once('=').expect("name=value");
                outputs.insert(format!("{id}.outputs.{k}"), v.to_owned());
            }
        }
        if out.status.success() {
            run.steps.push((name, "ok".into()));
        } else {
            run.failed = true;
            run.steps.push((
                name,
                format!(
                    "failed (exit {:?}): {}",
                    out.status.code(),
                    text(&out.stderr)
                ),
            ));
        }
    }
    run
}

fn workflows() -> Vec<(String, Value)> {
    let found: Vec<Block> = blocks()
        .into_iter()
        .filter(|b| is_workflow(b) && b.not_run.is_none())
        .collect();
    assert!(!found.is_empty(), "docs/ci.md has a GitHub Actions example");
    let mut out = Vec::new();
    for b in found {
        match yaml_to_json(&b.text) {
            Some(v) => out.push((b.at(), v)),
            None if in_ci() => panic!("CI=true but no Python with PyYAML to read {}", b.at()),
            None => {
                eprintln!(
                    "SKIPPED {}: no Python with PyYAML (scripts/ansible-env.sh)",
                    b.at()
                );
                return Vec::new();
            }
        }
    }
    out
}

/// Runs each documented workflow against a root in `state` and GateRouter at `base_url`.
fn run_docs_workflow(
    state: impl Fn(&Path),
    base_url: &str,
) -> Vec<(String, JobRun, Sandbox, PathBuf)> {
    let mut out = Vec::new();
    for (at, wf) in workflows() {
        let sb = Sandbox::new();
        let root = sb.home_root();
        state(&root);
        let secrets = BTreeMap::from([("GATEROUTER_API_KEY", KEY.to_owned())]);
        let run = run_workflow(
            &wf,
            &sb,
            &[("GATEROUTER_BASE_URL", base_url.to_owned())],
            &secrets,
            &[("OPENCLAW_ROOT", root.display().to_string())],
        );
        out.push((at, run, sb, root));
    }
    out
}

#[test]
fn the_workflow_applies_when_drifted_and_stays_green_when_configured() {
    let server = StandIn::healthy(KEY);
    for (at, run, sb, root) in run_docs_workflow(|_| {}, &server.base_url()) {
        assert!(!run.failed, "{at}: {run:#?}");
        assert_eq!(run.step("Apply"), "ok", "{at}: {run:#?}");
        assert!(sb.path().join("work/applied.json").exists(), "{at}");
        let doctor = cmd(sb.path()).arg("doctor").arg(&root).output().unwrap();
        assert_eq!(doctor.status.code(), Some(0), "{}", text(&doctor.stdout));
    }
    let configure = |root: &Path| {
        let out = cmd(root)
            .args(["--yes", "--quiet", "--api-key-stdin"])
            .arg(root)
            .env("GATEROUTER_BASE_URL", server.base_url())
            .write_stdin(KEY)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    };
    for (at, run, _, _) in run_docs_workflow(configure, &server.base_url()) {
        assert!(!run.failed, "{at}: {run:#?}");
        assert_eq!(run.step("Apply"), "skipped", "{at}: {run:#?}");
    }
}

#[test]
fn the_workflow_fails_the_job_on_a_gaterouter_or_input_error() {
    // Exit 3: GateRouter unreachable, and GateRouter rejecting the key.
    let wrong_key = StandIn::healthy("sk-or-v1-another-key-0000000000000000");
    for url in [closed_url(), wrong_key.base_url()] {
        for (at, run, _, _) in run_docs_workflow(|_| {}, &url) {
            assert!(run.failed, "{at}: an exit 3 left the job green: {run:#?}");
            assert!(
                run.step("Drift").starts_with("failed (exit Some(1))"),
                "{at}: {run:#?}"
            );
            assert_eq!(run.step("Apply"), "skipped", "{at}");
        }
    }
    // Exit 1: an openclaw.json that does not parse.
    let server = StandIn::healthy(KEY);
    let broken = |root: &Path| std::fs::write(root.join("openclaw.json"), "{ agents: [").unwrap();
    for (at, run, _, _) in run_docs_workflow(broken, &server.base_url()) {
        assert!(run.failed, "{at}: an exit 1 left the job green: {run:#?}");
        assert_eq!(run.step("Apply"), "skipped", "{at}");
    }
}

/// The emulator is only worth something if it tells the two apart: the earlier example's
/// `|| echo "code=$?"` swallowed exit 3 and the job passed.
#[test]
fn the_emulator_shows_why_the_old_drift_step_was_wrong() {
    let old = r#"
jobs:
  j:
    env: { GATEROUTER_API_KEY: "${{ secrets.GATEROUTER_API_KEY }}" }
    steps:
      - name: Drift check
        id: drift
        run: gaterouter-setup --check --json "$OPENCLAW_ROOT" > drift.json || echo "code=$?" >> "$GITHUB_OUTPUT"
      - name: Apply
        if: steps.drift.outputs.code == '2'
        run: gaterouter-setup --yes --json "$OPENCLAW_ROOT" > applied.json
"#;
    let Some(wf) = yaml_to_json(old) else {
        assert!(!in_ci(), "CI=true but no Python with PyYAML");
        return;
    };
    let sb = Sandbox::new();
    let run = run_workflow(
        &wf,
        &sb,
        &[("GATEROUTER_BASE_URL", closed_url())],
        &BTreeMap::from([("GATEROUTER_API_KEY", KEY.to_owned())]),
        &[("OPENCLAW_ROOT", sb.home_root().display().to_string())],
    );
    assert!(!run.failed, "{run:#?}");
    assert_eq!(run.step("Apply"), "skipped");
}

// ---------------------------------------------------------------------------------------
// The container entrypoint in docs/ci.md.

fn entrypoint() -> String {
    let b = blocks()
        .into_iter()
        .find(|b| b.text.contains("# docker-entrypoint.sh"))
        .expect("docs/ci.md has the entrypoint");
    b.text
}

struct Start {
    out: Output,
    openclaw: String,
}

fn start(sb: &Sandbox, base_url: &str, key: Option<&str>) -> Start {
    let file = sb.path().join("docker-entrypoint.sh");
    write_exe(&file, &entrypoint());
    let mut c = sb.command("sh");
    c.arg(&file)
        .arg("--verbose")
        .env("GATEROUTER_BASE_URL", base_url)
        .stdin(Stdio::null());
    if let Some(k) = key {
        c.env("GATEROUTER_API_KEY", k);
    }
    let out = c.output().unwrap();
    assert_no_key(&out, KEY);
    Start {
        openclaw: sb.openclaw_log(),
        out,
    }
}

fn configured_sandbox() -> Sandbox {
    let sb = Sandbox::new();
    let server = StandIn::healthy(KEY);
    let s = start(&sb, &server.base_url(), Some(KEY));
    assert_eq!(s.out.status.code(), Some(0), "{}", text(&s.out.stderr));
    assert_eq!(s.openclaw, "gateway run --verbose\n");
    std::fs::remove_file(sb.path().join("openclaw.log")).unwrap();
    sb
}

#[test]
fn a_configured_container_starts_while_gaterouter_is_down() {
    let sb = configured_sandbox();
    let before = snapshot(&sb.home_root());
    for key in [Some(KEY), None] {
        let s = start(&sb, &closed_url(), key);
        assert_eq!(
            s.out.status.code(),
            Some(0),
            "key {:?}: {}",
            key.is_some(),
            text(&s.out.stderr)
        );
        assert_eq!(s.openclaw, "gateway run --verbose\n");
        std::fs::remove_file(sb.path().join("openclaw.log")).unwrap();
    }
    assert_eq!(snapshot(&sb.home_root()), before);
}

#[test]
fn a_container_that_needs_a_change_checks_gaterouter_first() {
    // First start with GateRouter down: nothing is written, OpenClaw is not started.
    let sb = Sandbox::new();
    let before = snapshot(&sb.home_root());
    let s = start(&sb, &closed_url(), Some(KEY));
    assert_eq!(s.out.status.code(), Some(3), "{}", text(&s.out.stderr));
    assert_eq!(s.openclaw, "");
    assert_eq!(snapshot(&sb.home_root()), before);

    // A rotated key on a configured root is checked before it replaces the old one.
    let sb = configured_sandbox();
    let before = snapshot(&sb.home_root());
    const NEW: &str = "sk-or-v1-rotated-key-00000000000000ef";
    let s = start(&sb, &closed_url(), Some(NEW));
    assert_eq!(s.out.status.code(), Some(3), "{}", text(&s.out.stderr));
    assert_eq!(s.openclaw, "");
    assert_eq!(snapshot(&sb.home_root()), before);
    let server = StandIn::healthy(NEW);
    let s = start(&sb, &server.base_url(), Some(NEW));
    assert_eq!(s.out.status.code(), Some(0), "{}", text(&s.out.stderr));
    assert_eq!(s.openclaw, "gateway run --verbose\n");
    let env = std::fs::read_to_string(sb.home_root().join(".env")).unwrap();
    assert!(env.contains(&format!("GATEROUTER_API_KEY={NEW}")));
}
