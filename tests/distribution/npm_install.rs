//! The npm package as a user with only Node meets it (issue 20): scripts/npm-pack.sh's
//! tarballs published to a private registry on 127.0.0.1 (verdaccio), then
//! `npm install -g --prefix EMPTY gaterouter-setup` and `npx gaterouter-setup` from it, a dry
//! run on a fixture root through the launcher, exit codes, stdin and signals passed through,
//! and the launcher's words when the binary for the platform is missing or there is none.
//!
//! The host's binary is the test build (`--binary`), so no cross build is needed. verdaccio
//! comes from scripts/npm-registry.sh's cache; under CI=true a missing verdaccio or npm fails,
//! elsewhere the test is SKIPPED with the reason.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::openclaw::{Group, OpenClaw, json_of, openclaw_or_skip};
use crate::common::registry::{Registry, has_node_and_npm, npm_pack, verdaccio_cli};
use crate::common::stand_in::StandIn;
use crate::common::*;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("gaterouter-setup")
}

/// npm, npx, verdaccio present? Else SKIPPED (or, under CI, a failure).
fn tools_or_skip() -> bool {
    let missing = if !has_node_and_npm() {
        Some("node and npm are not on PATH")
    } else if verdaccio_cli().is_none() {
        Some("verdaccio is not installed (bash scripts/npm-registry.sh)")
    } else {
        None
    };
    match missing {
        None => true,
        Some(why) if in_ci() => panic!("{why}; CI needs it"),
        Some(why) => {
            eprintln!("SKIPPED: {why}");
            false
        }
    }
}

fn run(mut c: Command) -> Output {
    c.stdin(Stdio::null()).output().unwrap()
}

fn du(path: &Path) -> u64 {
    let meta = std::fs::symlink_metadata(path).unwrap();
    if meta.is_dir() {
        std::fs::read_dir(path)
            .unwrap()
            .map(|e| du(&e.unwrap().path()))
            .sum::<u64>()
            + meta.len()
    } else {
        meta.len()
    }
}

/// The binary the launcher runs, and with it each child of `pid` (Linux: /proc).
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn exe_of(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

#[test]
fn npm_install_and_npx_from_a_registry_run_the_platform_binary() {
    let _heavy = heavy();
    if !tools_or_skip() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let t0 = Instant::now();
    // verdaccio starts (seconds) while the packages are packed.
    let registry_dir = base.join("registry");
    let starting = std::thread::spawn(move || Registry::start(&registry_dir).unwrap());
    let (out, tarballs) = npm_pack(
        &base.join("packages"),
        &["--binary", binary().to_str().unwrap()],
    );
    assert!(out.status.success(), "npm-pack.sh: {}", text(&out.stderr));
    let host = format!(
        "{}-{}",
        match std::env::consts::OS {
            "macos" => "darwin",
            os => os,
        },
        match std::env::consts::ARCH {
            "x86_64" => "x64",
            "aarch64" => "arm64",
            a => a,
        }
    );
    let names: Vec<String> = tarballs
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            format!("gaterouter-{host}-{VERSION}.tgz"),
            format!("gaterouter-setup-{VERSION}.tgz")
        ],
        "{}",
        text(&out.stdout)
    );
    let packed = t0.elapsed();

    let registry = starting.join().unwrap();
    std::thread::scope(|s| {
        for t in &tarballs {
            s.spawn(|| registry.publish(t));
        }
    });
    let published = t0.elapsed();

    let (_root_tmp, root) = root_from("onboarded");
    let before = snapshot(&root);
    let home = base.join("home");
    let prefix = base.join("prefix");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&prefix).unwrap();
    let dry_run = ["--offline", "--dry-run", KEY, root.to_str().unwrap()];

    // What the user types, from an empty prefix and an empty npm cache, to the first answer.
    let started = Instant::now();
    let mut c = Command::new("npm");
    c.args(["install", "-g", "--prefix"]).arg(&prefix).args([
        "--registry",
        &registry.url(),
        "gaterouter-setup",
    ]);
    registry.npm_env(&mut c, &home, &base.join("cache-install"));
    let out = run(c);
    assert!(out.status.success(), "npm install: {}", text(&out.stderr));
    let installed = prefix.join("bin/gaterouter-setup");
    let mut c = Command::new(&installed);
    c.args(dry_run)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", &home)
        .env("NO_COLOR", "1");
    let out = run(c);
    let first_answer = started.elapsed();
    assert_no_key(&out, KEY);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Dry run: nothing was written"));
    assert_eq!(snapshot(&root), before);
    // The launcher adds nothing: the output is the binary's own, byte for byte.
    let native = cmd(&home).args(dry_run).output().unwrap();
    assert_eq!(text(&out.stdout), text(&native.stdout));
    assert_eq!(text(&out.stderr), text(&native.stderr));

    // npm put the launcher and this platform's package only (no other platform's binary, no
    // install script to run), and next to the binary the launcher weighs almost nothing.
    let total = du(&prefix);
    let platform_bin = prefix.join(format!(
        "lib/node_modules/gaterouter-setup/node_modules/@gaterouter/{host}/bin/gaterouter-setup"
    ));
    let bin_size = std::fs::metadata(&platform_bin).unwrap().len();
    let scope = prefix.join("lib/node_modules/gaterouter-setup/node_modules/@gaterouter");
    let platforms: Vec<String> = std::fs::read_dir(&scope)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(platforms, std::slice::from_ref(&host));
    assert!(
        total - bin_size < 200_000,
        "the prefix holds {total} bytes, {bin_size} of them the binary"
    );
    eprintln!(
        "npm: pack {:.1} s, registry up and both published {:.1} s later; install + first dry-run answer {:.1} s; prefix {:.1} MB ({} bytes besides the binary)",
        packed.as_secs_f64(),
        (published - packed).as_secs_f64(),
        first_answer.as_secs_f64(),
        total as f64 / 1e6,
        total - bin_size
    );
    assert!(
        first_answer < Duration::from_secs(60),
        "install + first answer took {first_answer:?}"
    );

    // The key on stdin reaches the binary (stdio is inherited), and an error's exit code and
    // words are the binary's.
    let mut c = Command::new(&installed);
    c.args(["--api-key-stdin", "--offline", "--dry-run"])
        .arg(&root)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", &home)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), format!("{KEY}\n").as_bytes())
        .unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_no_key(&out, KEY);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Dry run: nothing was written"));
    let missing = base.join("no-such-root");
    let args = ["--offline", "--dry-run", KEY, missing.to_str().unwrap()];
    let mut c = Command::new(&installed);
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", &home)
        .env("NO_COLOR", "1");
    let via_npm = run(c);
    let native = cmd(&home).args(args).output().unwrap();
    assert_ne!(native.status.code(), Some(0));
    assert_eq!(via_npm.status.code(), native.status.code());
    assert_eq!(text(&via_npm.stderr), text(&native.stderr));

    signals_reach_the_binary(&installed, &home, &root);
    wrong_platform_is_named(&installed, base);

    // npx from the registry, with a cache of its own: fetches, installs, runs.
    let started = Instant::now();
    let mut c = Command::new("npx");
    c.args(["--yes", "gaterouter-setup"]).args(dry_run);
    registry.npm_env(&mut c, &home, &base.join("cache-npx"));
    let out = run(c);
    assert_no_key(&out, KEY);
    assert_eq!(out.status.code(), Some(0), "npx: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Dry run: nothing was written"));
    eprintln!(
        "npx: first dry-run answer {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The skill's setup.sh with no gaterouter-setup on PATH: the npm package through npx,
    // the key on stdin all the way (setup.sh, npx, the launcher, the binary).
    let mut c = Command::new("bash");
    c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("skill/scripts/setup.sh"))
        .arg(&root)
        .args(["--api-key-stdin", "--offline", "--dry-run"]);
    registry.npm_env(&mut c, &home, &base.join("cache-skill"));
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), format!("{KEY}\n").as_bytes())
        .unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_no_key(&out, KEY);
    assert_eq!(
        out.status.code(),
        Some(0),
        "skill setup.sh via npx: {}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("Dry run: nothing was written"));
    assert_eq!(snapshot(&root), before);

    // Installed for another platform (as a node_modules copied from a Mac would be): npm
    // leaves this platform's package out, and the launcher says which one is missing and how
    // to get it, instead of a stack trace.
    let omitted = base.join("prefix-other-platform");
    std::fs::create_dir_all(&omitted).unwrap();
    let mut c = Command::new("npm");
    c.args(["install", "-g", "--os=darwin", "--cpu=arm64", "--prefix"])
        .arg(&omitted)
        .arg("gaterouter-setup");
    registry.npm_env(&mut c, &home, &base.join("cache-install"));
    let out = run(c);
    assert!(
        out.status.success(),
        "npm install --os=darwin: {}",
        text(&out.stderr)
    );
    let mut c = Command::new(omitted.join("bin/gaterouter-setup"));
    c.args(dry_run)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap());
    let out = run(c);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "@gaterouter/{host}, the binary for {host}, is not installed"
        )) && err.contains("installed for another platform")
            && err.contains("Reinstall on this machine: npm install -g gaterouter-setup"),
        "{err}"
    );
    assert!(text(&out.stdout).is_empty());
}

/// SIGTERM or SIGINT sent to the launcher (as `kill PID` or a supervisor sends it) reaches
/// the binary, and the launcher ends by the same signal. The binary is kept waiting for its
/// key on stdin, so the signal arrives while it runs.
fn signals_reach_the_binary(installed: &Path, home: &Path, root: &Path) {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let mut launcher = Command::new(installed)
            .args(["--api-key-stdin", "--offline", "--dry-run"])
            .arg(root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("HOME", home)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Held open until the launcher has ended: `Child::wait` closes stdin first, and the
        // binary, reading an empty key, could exit 1 before the forwarded signal reached it.
        let stdin = launcher.stdin.take();
        let deadline = Instant::now() + Duration::from_secs(20);
        let child = loop {
            let found = children_of(launcher.id()).into_iter().find(|&c| {
                exe_of(c).is_some_and(|e| e.file_name().is_some_and(|n| n == "gaterouter-setup"))
            });
            if let Some(c) = found {
                break c;
            }
            assert!(Instant::now() < deadline, "the launcher started no binary");
            std::thread::sleep(Duration::from_millis(20));
        };
        unsafe { libc::kill(launcher.id() as i32, sig) };
        let status = launcher.wait().unwrap();
        drop(stdin);
        assert_eq!(status.signal(), Some(sig), "{status:?}");
        assert!(
            exe_of(child).is_none(),
            "the binary (pid {child}) outlived the launcher"
        );
    }
}

/// On a platform the package has no binary for, the launcher names the ones it has. Node is
/// made to report another platform (a preloaded module overrides process.platform/arch); the
/// launcher itself has no switch for this.
fn wrong_platform_is_named(installed: &Path, base: &Path) {
    let preload = base.join("fake-platform.js");
    std::fs::write(
        &preload,
        "Object.defineProperty(process, 'platform', { value: process.env.FAKE_PLATFORM });\n\
         Object.defineProperty(process, 'arch', { value: process.env.FAKE_ARCH });\n",
    )
    .unwrap();
    for (platform, arch) in [("win32", "x64"), ("linux", "ia32"), ("freebsd", "arm64")] {
        let mut c = Command::new(installed);
        c.args(["--offline", "--dry-run", KEY, "/nonexistent"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("NODE_OPTIONS", format!("--require {}", preload.display()))
            .env("FAKE_PLATFORM", platform)
            .env("FAKE_ARCH", arch);
        let out = run(c);
        assert_eq!(out.status.code(), Some(1), "{platform}-{arch}");
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!(
                "no prebuilt binary for this platform ({platform}-{arch}); the npm package has linux-x64, linux-arm64, darwin-x64, darwin-arm64"
            )) && err.contains("cargo install --locked gaterouter-setup"),
            "{err}"
        );
        assert_no_key(&out, KEY);
    }
}

/// skill/SKILL.md's install specs and setup.sh's pinned package are those of Cargo.toml's
/// version (scripts/skill.sh --check), so a version bump cannot leave the skill installing
/// another version's binary.
#[test]
fn the_skill_pins_this_version() {
    if !has_node_and_npm() {
        assert!(!in_ci(), "node is not on PATH; CI needs it");
        eprintln!("SKIPPED: node is not on PATH");
        return;
    }
    let out = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/skill.sh"))
        .arg("--check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let md = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("skill/SKILL.md"))
        .unwrap();
    assert!(
        md.contains(&format!("\"package\": \"gaterouter-setup@{VERSION}\"")),
        "{md}"
    );
    assert!(
        md.contains(r#""requires": { "bins": ["gaterouter-setup"] }"#),
        "{md}"
    );
}

/// npm-pack.sh without --binary: each platform package holds its release archive's binary,
/// and an archive whose SHA-256 is not SHA256SUMS's is refused, naming both sums.
#[test]
fn npm_pack_takes_the_binary_from_the_checked_archive() {
    if !has_node_and_npm() {
        assert!(!in_ci(), "node and npm are not on PATH; CI needs them");
        eprintln!("SKIPPED: node and npm are not on PATH");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dist = tmp.path().join("distrib");
    let platforms: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("npm/platforms.json"))
            .unwrap(),
    )
    .unwrap();
    let mut sums = String::new();
    // A stand-in binary per target, so the test can tell which archive each package got.
    for (key, p) in platforms["platforms"].as_object().unwrap() {
        let target = p["target"].as_str().unwrap();
        let dir = dist.join(format!("gaterouter-setup-{VERSION}-{target}"));
        std::fs::create_dir_all(&dir).unwrap();
        let bin = dir.join("gaterouter-setup");
        std::fs::write(&bin, format!("#!/bin/sh\necho {key}\n")).unwrap();
        std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let name = format!("gaterouter-setup-{VERSION}-{target}.tar.gz");
        let st = Command::new("tar")
            .arg("-czf")
            .arg(dist.join(&name))
            .arg("-C")
            .arg(&dist)
            .arg(format!("gaterouter-setup-{VERSION}-{target}"))
            .status()
            .unwrap();
        assert!(st.success());
        let digest =
            <sha2::Sha256 as sha2::Digest>::digest(std::fs::read(dist.join(&name)).unwrap());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        sums.push_str(&format!("{hex}  {name}\n"));
    }
    std::fs::write(dist.join("SHA256SUMS"), &sums).unwrap();

    let out_dir = tmp.path().join("out");
    let (out, files) = npm_pack(&out_dir, &["--all", "--dist", dist.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(files.len(), 5, "{files:?}");
    for (key, p) in platforms["platforms"].as_object().unwrap() {
        let tgz = out_dir.join(format!("gaterouter-{key}-{VERSION}.tgz"));
        let listing = Command::new("tar")
            .arg("-xzOf")
            .arg(&tgz)
            .arg("package/bin/gaterouter-setup")
            .output()
            .unwrap();
        assert_eq!(text(&listing.stdout), format!("#!/bin/sh\necho {key}\n"));
        let manifest = Command::new("tar")
            .arg("-xzOf")
            .arg(&tgz)
            .arg("package/package.json")
            .output()
            .unwrap();
        let m: serde_json::Value = serde_json::from_slice(&manifest.stdout).unwrap();
        assert_eq!(m["name"], format!("@gaterouter/{key}"));
        assert_eq!(m["version"], VERSION);
        assert_eq!(m["os"], serde_json::json!([p["os"]]));
        assert_eq!(m["cpu"], serde_json::json!([p["cpu"]]));
        assert!(m.get("scripts").is_none(), "no install scripts: {m}");
    }
    let manifest = Command::new("tar")
        .arg("-xzOf")
        .arg(out_dir.join(format!("gaterouter-setup-{VERSION}.tgz")))
        .arg("package/package.json")
        .output()
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&manifest.stdout).unwrap();
    assert_eq!(m["version"], VERSION);
    assert!(m.get("scripts").is_none(), "no install scripts: {m}");
    let deps = m["optionalDependencies"].as_object().unwrap();
    assert_eq!(deps.len(), 4);
    assert!(deps.values().all(|v| v == VERSION), "{deps:?}");

    // One byte changed in one archive: refused, nothing written for it.
    let victim = dist.join(format!(
        "gaterouter-setup-{VERSION}-aarch64-unknown-linux-musl.tar.gz"
    ));
    let mut bytes = std::fs::read(&victim).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&victim, bytes).unwrap();
    let (out, _) = npm_pack(
        &tmp.path().join("out2"),
        &["--all", "--dist", dist.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{} has SHA-256 ", victim.display()))
            && err.contains("SHA256SUMS says"),
        "{err}"
    );
    // An archive that is not there: the command that builds it.
    std::fs::remove_file(&victim).unwrap();
    let (out, _) = npm_pack(
        &tmp.path().join("out3"),
        &["--all", "--dist", dist.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("bash scripts/dist.sh --target aarch64-unknown-linux-musl"),
        "{}",
        text(&out.stderr)
    );
}

/// OpenClaw run with npm pointed at the test's registry. As root it runs in a user namespace
/// as uid 1000: OpenClaw installs a root's node packages under /var/lib/openclaw, outside the
/// test's dirs, and anyone else's under ~/.openclaw, which is what a user gets.
impl OpenClaw {
    fn command_with(&self, registry: &Registry, args: &[&str]) -> Command {
        let mut c = if rustix::process::geteuid().is_root() {
            let mut c = Command::new("unshare");
            c.args(["--user", "--map-user=1000", "--map-group=1000"])
                .arg(&self.node);
            c
        } else {
            Command::new(&self.node)
        };
        c.arg(&self.cli).args(args);
        registry.npm_env(&mut c, &self.home, &self.home.join("npm-cache"));
        c.env("PATH", &self.path)
            .env("OPENCLAW_STATE_DIR", &self.state)
            .env("TMPDIR", &self.tmp)
            .env("CI", "1");
        // Its own process group, so a timeout or a failing test stops what it forked.
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        c
    }

    fn run_with(&self, registry: &Registry, args: &[&str]) -> Output {
        self.timed(self.command_with(registry, args), args)
    }

    fn json_with(&self, registry: &Registry, args: &[&str]) -> serde_json::Value {
        json_of(args, &self.run_with(registry, args))
    }
}

/// OpenClaw's lock files from the runs as uid 1000 in a user namespace (see [`OpenClaw`]),
/// removed when dropped, as [`OpenClawLocks`] does for the test's own uid.
struct NamespacedLocks(PathBuf);

impl Drop for NamespacedLocks {
    fn drop(&mut self) {
        for p in openclaw_locks_in(Path::new("/tmp/openclaw-state-locks-1000"), &self.0) {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A started process (the Gateway), stopped with its process group and reaped when dropped.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        drop(Group(self.0.id()));
        let _ = self.0.wait();
    }
}

/// Issue 20's "done": a user with Node and OpenClaw but no Rust goes from
/// `openclaw skills install` to a verified root. The skill folder scripts/skill.sh writes is
/// installed by OpenClaw; it needs setup and offers the npm install; OpenClaw's Gateway runs
/// that install (`skills.install`, as its UI does) against the test's registry; then
/// `skills check` says ready, the skill's own setup command (as an agent runs it: key on
/// stdin) configures a root against the GateRouter stand-in, and `gaterouter-setup verify`,
/// found on PATH as the skill's commands expect, proves the root answers.
#[test]
fn the_skill_goes_from_openclaw_install_to_a_verified_root_with_only_node() {
    let _heavy = heavy();
    if !tools_or_skip() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().to_path_buf();
    let Some(mut oc) = openclaw_or_skip(
        &base,
        "the_skill_goes_from_openclaw_install_to_a_verified_root_with_only_node",
    ) else {
        return;
    };
    std::fs::create_dir_all(&oc.state).unwrap();
    // Where OpenClaw's npm installs put bins; not on PATH unless the user adds it.
    let npm_bins = oc.state.join("tools/node/npm/bin");
    oc.prepend_path(&npm_bins);
    let _locks = OpenClawLocks(base.clone());
    let _namespaced_locks = NamespacedLocks(base.clone());
    std::fs::write(
        oc.state.join("openclaw.json"),
        serde_json::json!({"logging": {"file": base.join("openclaw.log")}}).to_string(),
    )
    .unwrap();
    let registry_dir = base.join("registry");
    let starting = std::thread::spawn(move || Registry::start(&registry_dir).unwrap());
    let (out, tarballs) = npm_pack(
        &base.join("packages"),
        &["--binary", binary().to_str().unwrap()],
    );
    assert!(out.status.success(), "npm-pack.sh: {}", text(&out.stderr));

    // The skill as a release ships it, with a download spec per archive of a SHA256SUMS.
    let sums = base.join("SHA256SUMS");
    let fake: String = ["x86_64-unknown-linux-musl", "aarch64-apple-darwin"]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                "{}  gaterouter-setup-{VERSION}-{t}.tar.gz\n",
                format!("{i}").repeat(64)
            )
        })
        .collect();
    std::fs::write(&sums, &fake).unwrap();
    let skill = base.join("skill");
    let out = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/skill.sh"))
        .arg(&skill)
        .arg("--sums")
        .arg(&sums)
        .output()
        .unwrap();
    assert!(out.status.success(), "skill.sh: {}", text(&out.stderr));
    let skill_md = std::fs::read_to_string(skill.join("SKILL.md")).unwrap();
    for (i, t) in ["x86_64-unknown-linux-musl", "aarch64-apple-darwin"]
        .iter()
        .enumerate()
    {
        assert!(skill_md.contains(&format!(
            "\"url\": \"https://github.com/gaterouter/gaterouter-setup/releases/download/v{VERSION}/gaterouter-setup-{VERSION}-{t}.tar.gz\",\n              \"sha256\": \"{}\",",
            format!("{i}").repeat(64)
        )), "{skill_md}");
    }
    // Only what the skill needs: no source tree.
    let mut files: Vec<String> = snapshot(&skill).into_keys().collect();
    files.sort();
    assert_eq!(files, ["SKILL.md", "scripts", "scripts/setup.sh"]);

    let registry = starting.join().unwrap();
    std::thread::scope(|s| {
        for t in &tarballs {
            s.spawn(|| registry.publish(t));
        }
    });

    // Installed as OpenClaw documents it: needs setup, offers the npm package.
    let out = oc.run_with(
        &registry,
        &["skills", "install", skill.to_str().unwrap(), "--global"],
    );
    assert!(
        out.status.success(),
        "skills install: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let info = oc.json_with(&registry, &["skills", "info", "gaterouter-setup", "--json"]);
    assert_eq!(info["eligible"], false, "{info:#}");
    assert_eq!(info["modelVisible"], false, "{info:#}");
    assert_eq!(info["primaryEnv"], "GATEROUTER_API_KEY", "{info:#}");
    assert_eq!(
        info["missing"]["bins"],
        serde_json::json!(["gaterouter-setup"]),
        "{info:#}"
    );
    assert_eq!(
        info["install"],
        serde_json::json!([{
            "id": "node",
            "kind": "node",
            "label": format!("Install gaterouter-setup@{VERSION} (npm)"),
            "bins": ["gaterouter-setup"],
        }]),
        "{info:#}"
    );

    // OpenClaw runs the install, as its Control UI does: the Gateway's skills.install.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let token = "test-only-gateway-token";
    let gateway_log = std::fs::File::create(base.join("gateway.log")).unwrap();
    let gateway = oc
        .command_with(
            &registry,
            &[
                "gateway",
                "run",
                "--port",
                &port,
                "--bind",
                "loopback",
                "--auth",
                "token",
                "--token",
                token,
                "--allow-unconfigured",
            ],
        )
        .stdin(Stdio::null())
        .stdout(gateway_log.try_clone().unwrap())
        .stderr(gateway_log)
        .spawn()
        .unwrap();
    let gateway = Running(gateway);
    let deadline = Instant::now() + Duration::from_secs(240);
    while !std::fs::read_to_string(base.join("gateway.log"))
        .unwrap_or_default()
        .contains("listening")
    {
        assert!(
            Instant::now() < deadline,
            "the Gateway did not start: {}",
            std::fs::read_to_string(base.join("gateway.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let installed = oc.json_with(
        &registry,
        &[
            "gateway",
            "call",
            "skills.install",
            "--port",
            &port,
            "--token",
            token,
            "--json",
            "--timeout",
            "240000",
            "--params",
            r#"{"name":"gaterouter-setup","installId":"node","timeoutMs":240000}"#,
        ],
    );
    assert_eq!(installed["ok"], true, "{installed:#}");
    drop(gateway);
    let npm_bin = oc.state.join("tools/node/npm/bin/gaterouter-setup");
    assert!(
        npm_bin.exists(),
        "OpenClaw's npm install put no gaterouter-setup in {}",
        npm_bin.display()
    );

    let check = oc.json_with(&registry, &["skills", "check", "--json"]);
    for list in ["eligible", "modelVisible"] {
        assert!(
            check[list]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == "gaterouter-setup"),
            "{list}: {check:#}"
        );
    }

    // The skill's setup command as an agent runs it: the key on stdin, the root named.
    let server = StandIn::healthy(KEY);
    let (_root_tmp, root) = root_from("onboarded");
    let mut c = Command::new("bash");
    c.arg("-c")
        .arg(format!(
            "printf '%s\\n' \"$KEY\" | bash {}/scripts/setup.sh {} --api-key-stdin",
            oc.state.join("skills/gaterouter-setup").display(),
            root.display()
        ))
        .env_clear()
        .env("PATH", &oc.path)
        .env("HOME", &oc.home)
        .env("KEY", KEY)
        .env("NO_COLOR", "1")
        .env("GATEROUTER_BASE_URL", server.base_url());
    let out = run(c);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_no_key(&out, KEY);
    assert!(
        text(&out.stdout).contains("Wrote 3 files"),
        "{}",
        text(&out.stdout)
    );
    // The binary ran got the key from stdin: none of the processes had it on its argv, which
    // the .env proves was read (it is nowhere else).
    assert!(
        std::fs::read_to_string(root.join(".env"))
            .unwrap()
            .contains(&format!("GATEROUTER_API_KEY={KEY}"))
    );

    // The skill's next commands call what is on PATH: verify proves the root answers.
    let mut c = Command::new("gaterouter-setup");
    c.args(["verify"])
        .arg(&root)
        .env_clear()
        .env("PATH", &oc.path)
        .env("HOME", &oc.home)
        .env("NO_COLOR", "1");
    let out = run(c);
    assert_eq!(
        out.status.code(),
        Some(0),
        "verify: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_no_key(&out, KEY);
    assert!(
        server
            .hits()
            .iter()
            .any(|h| h.path == "/openai/v1/chat/completions" && h.body.contains("\"stream\":true")),
        "verify sent no streamed completion"
    );
}
