//! The filesystem boundary (issue: "safe at every boundary"): paths the tool owns are never
//! followed through links, managed files must be regular files and are read with a bound,
//! what we create is private whatever the umask and owned like its directory, and the
//! corner cases of roots and paths (duplicates, relative/`~` config paths, hard links,
//! symlinked `.env` on uninstall, a lock stamped in the future, a link retargeted between
//! plan and apply). Each test fails on a tree where that boundary is not held.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use crate::common::*;
use gaterouter_setup::error::Error;
use gaterouter_setup::gaterouter::key::ApiKey;
use gaterouter_setup::gaterouter::templates::Settings;
use gaterouter_setup::openclaw::root::{self, Env};
use gaterouter_setup::plan::{self, KeyChoice};
use gaterouter_setup::txn::apply::{self, ApplyOptions, Faults};

/// Long enough for a run, short enough that a hang fails the test instead of the suite.
const LIMIT: Duration = Duration::from_secs(20);

fn mkfifo(p: &Path) {
    let st = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .unwrap();
    assert!(st.success());
}

/// Setup on `root` (offline, --yes, plus `args`), bounded in time.
fn setup(home: &Path, root: &Path, args: &[&str]) -> std::process::Output {
    cmd(home)
        .args(["--offline", "--yes"])
        .args(args)
        .arg(KEY)
        .arg(root)
        .timeout(LIMIT)
        .output()
        .unwrap()
}

/// Exit 1, one paragraph containing every `want`, the key never shown, and nothing under
/// `tmp` (the root and what is beside it) changed.
fn assert_refused(out: &std::process::Output, want: &[&str]) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit code; stderr:\n{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "one paragraph:\n{err}");
    for w in want {
        assert!(err.contains(w), "want {w:?} in:\n{err}");
    }
    assert_no_key(out, KEY);
}

#[test]
fn a_symlinked_lock_is_refused_and_its_target_untouched() {
    let (tmp, root) = root_from("onboarded");
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    std::os::unix::fs::symlink(&victim, root.join(".gaterouter.lock")).unwrap();
    let before = snapshot(tmp.path());
    let out = setup(tmp.path(), &root, &[]);
    assert_refused(&out, &[".gaterouter.lock", "symlink"]);
    assert_eq!(snapshot(tmp.path()), before);

    // A dangling link must not create a file outside the root either.
    std::fs::remove_file(root.join(".gaterouter.lock")).unwrap();
    let outside = tmp.path().join("created-outside");
    std::os::unix::fs::symlink(&outside, root.join(".gaterouter.lock")).unwrap();
    let out = setup(tmp.path(), &root, &[]);
    assert_refused(&out, &[".gaterouter.lock"]);
    assert!(!outside.exists());
}

#[test]
fn fifos_are_refused_without_blocking_for_every_managed_file_and_command() {
    for (rel, args) in [
        (".env", vec![]),
        ("openclaw.json", vec![]),
        ("agents/main/agent/models.json", vec![]),
    ] {
        let (tmp, root) = root_from("onboarded");
        let p = root.join(rel);
        let _ = std::fs::remove_file(&p);
        mkfifo(&p);
        let before = snapshot(tmp.path());
        let out = setup(tmp.path(), &root, &args);
        assert_refused(&out, &[rel, "FIFO"]);
        assert_eq!(snapshot(tmp.path()), before, "{rel}");
    }
    // doctor and uninstall read the same files.
    for (rel, sub) in [
        ("openclaw.json", "doctor"),
        ("agents/main/agent/models.json", "uninstall"),
    ] {
        let (tmp, root) = root_from("configured");
        let p = root.join(rel);
        let _ = std::fs::remove_file(&p);
        mkfifo(&p);
        let out = cmd(tmp.path())
            .args(
                [sub, "--yes"]
                    .iter()
                    .take(if sub == "doctor" { 1 } else { 2 }),
            )
            .arg(&root)
            .timeout(LIMIT)
            .output()
            .unwrap();
        let err = text(&out.stderr) + &text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{sub}: {err}");
        assert!(err.contains("FIFO"), "{sub}: {err}");
    }
}

#[test]
fn devices_are_neither_read_without_end_nor_replaced() {
    // .env -> /dev/null is a common way to switch a dotenv file off; /dev/zero never ends.
    for dev in ["/dev/null", "/dev/zero"] {
        let (tmp, root) = root_from("onboarded");
        std::fs::remove_file(root.join(".env")).unwrap();
        std::os::unix::fs::symlink(dev, root.join(".env")).unwrap();
        let before = snapshot(tmp.path());
        let out = setup(tmp.path(), &root, &[]);
        assert_refused(&out, &[".env", "character device"]);
        assert_eq!(snapshot(tmp.path()), before);
        assert!(
            std::fs::metadata(dev).unwrap().file_type().is_char_device(),
            "{dev} must still be a device"
        );
    }
    // --roots-from /dev/zero: a bounded read and an error, not gigabytes of memory.
    let (tmp, _root) = root_from("onboarded");
    let out = cmd(tmp.path())
        .args(["--offline", "--dry-run", "--roots-from", "/dev/zero", KEY])
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("/dev/zero"));
}

use std::os::unix::fs::FileTypeExt;

#[test]
fn an_include_that_is_a_fifo_or_device_is_not_read() {
    for make in ["fifo", "zero"] {
        let (tmp, root) = root_from("include-and-vars");
        let inc = root.join("shared.json5");
        std::fs::remove_file(&inc).unwrap();
        if make == "fifo" {
            mkfifo(&inc);
        } else {
            std::os::unix::fs::symlink("/dev/zero", &inc).unwrap();
        }
        let out = cmd(tmp.path())
            .args(["--offline", "--dry-run", KEY])
            .arg(&root)
            .timeout(LIMIT)
            .output()
            .unwrap();
        // Never opened (no hang within LIMIT), and refused: OpenClaw refuses to load a
        // config whose include is not a regular file, so setup does not wire it.
        let all = text(&out.stdout) + &text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{make}: {all}");
        assert!(
            (all.contains("not a regular file") || all.contains("outside the config's directory"))
                && all.contains("OpenClaw does not load"),
            "{make}: {all}"
        );
    }
}

#[test]
fn what_we_create_is_private_under_umask_000() {
    let (tmp, root) = root_from("fresh");
    let bin = assert_cmd::cargo::cargo_bin("gaterouter-setup");
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "umask 000; exec \"$GR_BIN\" --offline --yes --init \"$GR_KEY\" \"$GR_ROOT\"",
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", tmp.path())
        .env("GR_BIN", &bin)
        .env("GR_ROOT", &root)
        .env("GR_KEY", KEY)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (rel, entry) in snapshot(&root) {
        let mode = match entry {
            Entry::Dir { mode } => mode,
            Entry::File { mode, .. } => mode,
            Entry::Link(_) | Entry::Special { .. } => continue,
        };
        assert_eq!(mode & 0o077, 0, "{rel} is {mode:o} under umask 000");
    }
}

#[test]
fn run_as_root_on_a_users_root_leaves_everything_owned_by_the_user() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED run_as_root_on_a_users_root…: needs root to chown");
        return;
    }
    let (tmp, root) = root_from("onboarded");
    // The run acts as the root's owner (src/sys/privilege.rs), who must be able to reach it.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (uid, gid) = (4242, 4243);
    for (rel, _) in snapshot(&root) {
        std::os::unix::fs::lchown(root.join(rel), Some(uid), Some(gid)).unwrap();
    }
    std::os::unix::fs::chown(&root, Some(uid), Some(gid)).unwrap();
    // A new agent directory (and its models.json) is created as well.
    std::fs::create_dir_all(root.join("agents/work")).unwrap();
    std::os::unix::fs::chown(root.join("agents/work"), Some(uid), Some(gid)).unwrap();
    let out = setup(tmp.path(), &root, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (rel, _) in snapshot(&root) {
        let m = std::fs::symlink_metadata(root.join(&rel)).unwrap();
        assert_eq!((m.uid(), m.gid()), (uid, gid), "{rel} is owned by root");
    }
}

#[test]
fn the_same_root_twice_is_one_root() {
    let (tmp, root) = root_from("onboarded");
    let link = tmp.path().join("alias");
    std::os::unix::fs::symlink(&root, &link).unwrap();
    let list = tmp.path().join("roots.txt");
    std::fs::write(
        &list,
        format!(
            "{}\n{}\n{}/../root\n",
            root.display(),
            link.display(),
            root.display()
        ),
    )
    .unwrap();
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", "--json", "--roots-from"])
        .arg(&list)
        .arg(KEY)
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["roots"].as_array().unwrap().len(), 1, "{v}");
}

#[test]
fn config_path_variable_is_resolved_like_openclaw() {
    // Relative to the working directory, and `~` is OpenClaw's home.
    for (value, file) in [
        ("cfg/oc.json", "cfg/oc.json"),
        ("~/cfg/oc.json", "cfg/oc.json"),
    ] {
        let (tmp, root) = root_from("onboarded");
        let cfg = tmp.path().join(file);
        std::fs::create_dir_all(cfg.parent().unwrap()).unwrap();
        std::fs::rename(root.join("openclaw.json"), &cfg).unwrap();
        let out = cmd(tmp.path())
            .current_dir(tmp.path())
            .env("OPENCLAW_STATE_DIR", &root)
            .env("OPENCLAW_CONFIG_PATH", value)
            .args(["--offline", "--yes", KEY])
            .timeout(LIMIT)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{value}: {}", text(&out.stderr));
        assert!(
            std::fs::read_to_string(&cfg)
                .unwrap()
                .contains("gaterouter/auto"),
            "{value}"
        );
        assert!(!root.join("openclaw.json").exists(), "{value}");
        assert!(!tmp.path().join("~").exists(), "{value}: wrote ./~");
    }
}

#[test]
fn uninstall_never_deletes_through_a_link_nor_a_dotenv_the_user_had() {
    // An empty .env that existed before setup stays.
    let (tmp, root) = root_from("onboarded");
    std::fs::write(root.join(".env"), "").unwrap();
    assert!(setup(tmp.path(), &root, &[]).status.success());
    let out = cmd(tmp.path())
        .args(["uninstall", "--yes"])
        .arg(&root)
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(root.join(".env")).unwrap(), b"");

    // A .env that is a link to the user's own file: the file stays (without our key).
    let (tmp, root) = root_from("onboarded");
    let target = tmp.path().join("my.env");
    std::fs::write(&target, "").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::remove_file(root.join(".env")).unwrap();
    std::os::unix::fs::symlink(&target, root.join(".env")).unwrap();
    assert!(setup(tmp.path(), &root, &[]).status.success());
    assert!(std::fs::read_to_string(&target).unwrap().contains(KEY));
    let out = cmd(tmp.path())
        .args(["uninstall", "--yes"])
        .arg(&root)
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(target.exists(), "uninstall deleted the link's target");
    assert!(!std::fs::read_to_string(&target).unwrap().contains(KEY));
    assert!(
        std::fs::symlink_metadata(root.join(".env"))
            .unwrap()
            .file_type()
            .is_symlink()
    );

    // A .env that setup created is removed again.
    let (tmp, root) = root_from("onboarded");
    std::fs::remove_file(root.join(".env")).unwrap();
    assert!(setup(tmp.path(), &root, &[]).status.success());
    let out = cmd(tmp.path())
        .args(["uninstall", "--yes"])
        .arg(&root)
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!root.join(".env").exists());
}

#[test]
fn a_hard_linked_config_is_named_in_the_plan() {
    let (tmp, root) = root_from("onboarded");
    std::fs::hard_link(
        root.join("openclaw.json"),
        tmp.path().join("other-name.json"),
    )
    .unwrap();
    let out = cmd(tmp.path())
        .args(["--offline", "--dry-run", KEY])
        .arg(&root)
        .timeout(LIMIT)
        .output()
        .unwrap();
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(all.contains("hard links"), "{all}");
}

#[test]
fn an_openclaw_lock_stamped_in_the_future_does_not_block_forever() {
    let (tmp, root) = root_from("onboarded");
    let lock = root.join("openclaw.json.lock");
    let f = std::fs::File::create(&lock).unwrap();
    f.set_modified(std::time::SystemTime::now() + Duration::from_secs(86_400 * 365))
        .unwrap();
    drop(f);
    let out = setup(tmp.path(), &root, &["--lock-timeout", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

fn plan_for(root: &Path) -> plan::Plan {
    let r = root::discover(root, None, None).unwrap();
    let key = KeyChoice::Set(ApiKey::parse(KEY).unwrap());
    plan::plan(&r, &key, &Settings::builtin().unwrap()).unwrap()
}

#[test]
fn a_symlink_retargeted_after_planning_is_not_written() {
    let (tmp, root) = root_from("onboarded");
    let a = tmp.path().join("a.env");
    let b = tmp.path().join("b.env");
    std::fs::copy(root.join(".env"), &a).unwrap();
    std::fs::copy(root.join(".env"), &b).unwrap();
    std::fs::remove_file(root.join(".env")).unwrap();
    std::os::unix::fs::symlink(&a, root.join(".env")).unwrap();
    let plan = plan_for(&root);
    // While the prompt waits, the link is pointed elsewhere (same bytes, other file).
    std::fs::remove_file(root.join(".env")).unwrap();
    std::os::unix::fs::symlink(&b, root.join(".env")).unwrap();
    let before = snapshot(tmp.path());
    let err = apply::apply(&plan, &Env::default()).unwrap_err();
    assert!(matches!(err, Error::ChangedOnDisk { .. }), "{err}");
    let after: Vec<_> = snapshot(tmp.path())
        .into_iter()
        .filter(|(k, _)| !k.contains(".gaterouter"))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|(k, _)| !k.contains(".gaterouter"))
        .collect();
    assert_eq!(after, before);
}

#[test]
fn a_backup_that_cannot_be_written_is_exit_4_with_nothing_replaced() {
    let (_tmp, root) = root_from("onboarded");
    let plan = plan_for(&root);
    let before: Vec<_> = snapshot(&root)
        .into_iter()
        .filter(|(k, _)| !k.starts_with(".gaterouter"))
        .collect();
    // Step 1 is the first backup copy's temp file: a full disk fails exactly there.
    let opts = ApplyOptions {
        faults: Faults::fail_at(1),
        ..ApplyOptions::default()
    };
    let err = apply::apply_with(&plan, &Env::default(), &opts).unwrap_err();
    assert_eq!(err.exit_code(), 4, "{err}");
    assert!(err.to_string().contains("everything is as it was"), "{err}");
    let after: Vec<_> = snapshot(&root)
        .into_iter()
        .filter(|(k, _)| !k.starts_with(".gaterouter"))
        .collect();
    assert_eq!(after, before);
}

/// Untrusted text (here a `--fallback` value shaped like the old placeholders) can never
/// change the structure of the file we write: it parses, and holds the value as text.
#[test]
fn a_forged_placeholder_is_written_as_text() {
    for n in ["0", "1", "7"] {
        let (tmp, root) = root_from("onboarded");
        let cfg = root.join("openclaw.json");
        let mut text = std::fs::read_to_string(&cfg).unwrap();
        let end = text.rfind('}').unwrap();
        text.insert_str(
            end,
            ",\n  \"channels\": { \"telegram\": { \"enabled\": true, \"note\": \"a block long enough to be elided\" } }\n",
        );
        std::fs::write(&cfg, &text).unwrap();
        let forged = format!("gaterouter/__gaterouter_elided_{n}__");
        let out = setup(tmp.path(), &root, &["--fallback", &forged]);
        assert_eq!(out.status.code(), Some(0), "{}", text_of(&out));
        let after = std::fs::read_to_string(&cfg).unwrap();
        assert!(after.contains(&forged), "{after}");
        assert!(
            after.contains("a block long enough to be elided"),
            "{after}"
        );
        assert_eq!(after.matches("telegram").count(), 1, "{after}");
    }
}

fn text_of(out: &std::process::Output) -> String {
    text(&out.stdout) + &text(&out.stderr)
}

/// A server's catalog is text from outside: crafted ids (quotes, placeholders, `${VAR}`,
/// control characters) are dropped, names are made inert, a huge list is capped, and what
/// is written can always be read back and undone.
#[test]
fn a_hostile_catalog_cannot_shape_the_config() {
    use crate::common::stand_in::{Reply, StandIn, healthy_reply};
    let mut data = vec![
        serde_json::json!({"id": "auto"}),
        serde_json::json!({"id": "anthropic/claude-sonnet-4.6", "name": "Sonnet ${HOME} \u{1b}[2J\u{202e}"}),
        serde_json::json!({"id": "x\", \"injected\": \"1"}),
        serde_json::json!({"id": "__gaterouter_elided_0__\"}, injected: {\""}),
        serde_json::json!({"id": "${OPENAI_API_KEY}"}),
        serde_json::json!({"id": "a\nb"}),
    ];
    for i in 0..100_000 {
        data.push(serde_json::json!({"id": format!("bulk/model-{i}")}));
    }
    let body = serde_json::json!({"object": "list", "data": data}).to_string();
    let server = StandIn::start(move |r| {
        if r.path.ends_with("/models") && r.method == "GET" {
            Reply::text(200, "application/json", &body)
        } else {
            healthy_reply(r, KEY)
        }
    });
    let (tmp, root) = root_from("onboarded");
    let run = |args: &[&str]| {
        cmd(tmp.path())
            .args(args)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    };
    let url = server.base_url();
    let out = run(&["--yes", "--base-url", &url, KEY, root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text_of(&out));
    let cfg = std::fs::read_to_string(root.join("openclaw.json")).unwrap();
    assert!(!cfg.contains("injected"), "an id shaped the config");
    assert!(
        !cfg.replace("$${", "").contains("${HOME}"),
        "a name stays live: {}",
        cfg.lines()
            .filter(|l| l.contains("Sonnet"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(!cfg.contains('\u{1b}') && !cfg.contains('\u{202e}'));
    assert!(!cfg.contains("OPENAI_API_KEY"));
    assert!(cfg.len() < 1_000_000, "{} bytes", cfg.len());
    // And it can be read again and undone.
    let out = run(&["--yes", "--base-url", &url, KEY, root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text_of(&out));
    let out = run(&["uninstall", "--yes", root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text_of(&out));
}

/// An I/O error names its path whatever made it: a file where `agents/main/agent/` should be
/// a directory said only "Not a directory (os error 20)".
#[test]
fn an_io_error_names_its_path() {
    let (tmp, root) = root_from("onboarded");
    std::fs::remove_dir_all(root.join("agents/main/agent")).unwrap();
    std::fs::write(root.join("agents/main/agent"), "x\n").unwrap();
    let out = cmd(tmp.path())
        .args(["--offline", "--dry-run", KEY])
        .arg(&root)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("agents/main/agent"), "{err}");
}
