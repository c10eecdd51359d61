//! scripts/setup.sh, the drop-in for the original script: same arguments, no questions,
//! the diff printed, then applied; end to end against a fixture root and the stand-in.

use crate::common::stand_in::StandIn;
use crate::common::*;

fn script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/setup.sh")
}

#[test]
fn setup_sh_applies_like_the_original_and_keeps_the_key_off_the_tools_argv() {
    let server = StandIn::healthy(KEY);
    let (tmp, root) = root_from("onboarded");
    let out = std::process::Command::new("bash")
        .arg(script())
        .arg(KEY)
        .arg(&root)
        .env(
            "GATEROUTER_SETUP_BIN",
            assert_cmd::cargo::cargo_bin("gaterouter-setup"),
        )
        .env("GATEROUTER_BASE_URL", server.base_url())
        .env("HOME", tmp.path())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_no_key(&out, KEY);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("GateRouter probe: reachable, key accepted, auto routing on"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+++ b/openclaw.json") && stdout.contains("Wrote 3 files"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join(".env")).unwrap(),
        format!(
            "ANTHROPIC_API_KEY=sk-ant-api03-onboarded-0000000000000000\nGATEROUTER_API_KEY={KEY}\n"
        )
    );
}

#[test]
fn setup_sh_finds_the_tool_on_path_and_passes_options_on() {
    let (tmp, root) = root_from("onboarded");
    let before = snapshot(&root);
    let bin_dir = assert_cmd::cargo::cargo_bin("gaterouter-setup")
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("bash")
        .arg(script())
        .args([KEY, root.to_str().unwrap(), "--offline", "--dry-run"])
        .env("PATH", path)
        .env_remove("GATEROUTER_SETUP_BIN")
        .env("HOME", tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Dry run: nothing was written"));
    assert_eq!(snapshot(&root), before);
}

#[test]
fn setup_sh_without_arguments_prints_usage() {
    let out = std::process::Command::new("bash")
        .arg(script())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("usage: setup.sh <API_KEY> [OPENCLAW_ROOT]"));
}

/// Without the tool on PATH, setup.sh builds it with cargo and must run it from wherever cargo
/// put it, whatever moved the target directory, and build only once. `cargo` here is a stand-in
/// that hands `metadata` to the real cargo (so where the binary goes is cargo's own answer) and
/// fakes `build` by copying the already-built binary to the place cargo would have written it,
/// counting the builds.
#[test]
fn setup_sh_runs_the_binary_cargo_built_wherever_the_target_dir_is_and_builds_once() {
    let real_cargo = std::env::var_os("CARGO").expect("cargo test sets CARGO");
    for var in ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"] {
        let (tmp, root) = root_from("onboarded");
        let before = snapshot(&root);
        let stub_dir = tmp.path().join("stub-bin");
        std::fs::create_dir_all(&stub_dir).unwrap();
        let stub = stub_dir.join("cargo");
        std::fs::write(
            &stub,
            r#"#!/bin/sh
case "$1" in
  metadata) exec "$REAL_CARGO" "$@" ;;
  build)
    echo "$*" >>"$BUILD_LOG"
    mkdir -p "$(dirname "$BUILD_DEST")" && cp "$BUILT_BINARY" "$BUILD_DEST" ;;
  *) echo "stub cargo: unexpected $*" >&2; exit 99 ;;
esac
"#,
        )
        .unwrap();
        std::fs::set_permissions(&stub, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        // A target dir with a space, so an unquoted path would break too.
        let target = tmp.path().join("cargo target");
        let log = tmp.path().join("builds.log");
        let run = || {
            std::process::Command::new("bash")
                .arg(script())
                .args([KEY, root.to_str().unwrap(), "--offline", "--dry-run"])
                .env_clear()
                .env("PATH", format!("{}:/usr/bin:/bin", stub_dir.display()))
                .env("HOME", tmp.path())
                .env("NO_COLOR", "1")
                .env("REAL_CARGO", &real_cargo)
                .env(var, &target)
                .env("BUILD_LOG", &log)
                .env("BUILD_DEST", target.join("release/gaterouter-setup"))
                .env(
                    "BUILT_BINARY",
                    assert_cmd::cargo::cargo_bin("gaterouter-setup"),
                )
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap()
        };
        for attempt in 1..=2 {
            let out = run();
            assert_no_key(&out, KEY);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{var}, run {attempt}: {}",
                text(&out.stderr)
            );
            assert!(
                text(&out.stdout).contains("Dry run: nothing was written"),
                "{var}, run {attempt}: {}",
                text(&out.stdout)
            );
        }
        let builds = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(
            builds.lines().count(),
            1,
            "{var}: cargo build should run once, not on every run:\n{builds}"
        );
        assert!(builds.contains("--release"), "{builds}");
        assert_eq!(snapshot(&root), before);
    }
}

/// The skill's setup.sh where nothing can run gaterouter-setup (no binary, no npx, not in a
/// checkout): it says the one-line install and exits 127, as a missing command does.
#[test]
fn the_skill_setup_sh_says_how_to_install_when_nothing_can_run_the_tool() {
    let tmp = tempfile::tempdir().unwrap();
    // The skill folder as OpenClaw installs it: no repository around it.
    let skill = tmp.path().join("skills/gaterouter-setup");
    copy_tree(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("skill"),
        &skill,
    );
    // A PATH with only what setup.sh itself calls: no node, npx, cargo or gaterouter-setup.
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["bash", "dirname"] {
        let found = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| std::path::Path::new(d).join(tool))
            .find(|p| p.is_file())
            .unwrap();
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    let out = std::process::Command::new(bin.join("bash"))
        .arg(skill.join("scripts/setup.sh"))
        .args([tmp.path().to_str().unwrap(), "--api-key-stdin"])
        .env_clear()
        .env("PATH", &bin)
        .env("HOME", tmp.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(127), "{err}");
    assert!(
        err.contains("gaterouter-setup is not installed")
            && err.contains(&format!(
                "npm install -g gaterouter-setup@{}",
                env!("CARGO_PKG_VERSION")
            )),
        "{err}"
    );
}

/// The skill's setup.sh inside a checkout with Rust but neither gaterouter-setup nor npx:
/// the repository's scripts/setup.sh finds or builds the binary (`--print-binary`), and the
/// skill runs it with the key on stdin. `cargo` is the stand-in above's kind: metadata from
/// the real cargo, `build` copying the test binary to where cargo would put it.
#[test]
fn the_skill_setup_sh_in_a_checkout_builds_with_cargo_when_nothing_else_runs_the_tool() {
    let real_cargo = std::env::var_os("CARGO").expect("cargo test sets CARGO");
    let (tmp, root) = root_from("onboarded");
    let before = snapshot(&root);
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["bash", "dirname", "sed", "mkdir", "cp"] {
        let found = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| std::path::Path::new(d).join(tool))
            .find(|p| p.is_file())
            .unwrap();
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    std::fs::write(
        bin.join("cargo"),
        "#!/bin/sh\ncase \"$1\" in\n  metadata) exec \"$REAL_CARGO\" \"$@\" ;;\n  build) echo \"$*\" >>\"$BUILD_LOG\"; mkdir -p \"$(dirname \"$BUILD_DEST\")\" && cp \"$BUILT_BINARY\" \"$BUILD_DEST\" ;;\n  *) exit 99 ;;\nesac\n",
    )
    .unwrap();
    std::fs::set_permissions(
        bin.join("cargo"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let target = tmp.path().join("target");
    let log = tmp.path().join("builds.log");
    let mut child = std::process::Command::new(bin.join("bash"))
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("skill/scripts/setup.sh"))
        .arg(&root)
        .args(["--api-key-stdin", "--offline", "--dry-run"])
        .env_clear()
        .env("PATH", &bin)
        .env("HOME", tmp.path())
        .env("NO_COLOR", "1")
        .env("REAL_CARGO", &real_cargo)
        .env("CARGO_TARGET_DIR", &target)
        .env("BUILD_LOG", &log)
        .env("BUILD_DEST", target.join("release/gaterouter-setup"))
        .env(
            "BUILT_BINARY",
            assert_cmd::cargo::cargo_bin("gaterouter-setup"),
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), format!("{KEY}\n").as_bytes())
        .unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_no_key(&out, KEY);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Dry run: nothing was written"));
    assert_eq!(snapshot(&root), before);
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
}
