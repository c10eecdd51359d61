//! A privileged run on a root another user owns (Ansible `become`, a container entrypoint, an
//! admin): it acts as that owner, so the owner's links, programs and backup sets reach only
//! what the owner could reach. Run as root (CI does) against a copy of the onboarded fixture
//! given to `nobody`, with stand-in "system" files (root-owned files in the temp dir, never
//! real ones). Without root they say SKIPPED (with CI=true they fail).

use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use crate::common::*;

const NOBODY: u32 = 65534;
/// A third user, for links and invokers that are neither root nor the root's owner.
const OTHER: u32 = 4242;
const SECRET: &str = "ROOT-ONLY-SECRET-do-not-copy-7f3a";

fn root_runs_these() -> bool {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    assert!(!in_ci(), "CI runs the suite as root; these tests need it");
    eprintln!("SKIPPED: needs root (to chown a root to another user)");
    false
}

/// A 0755 temp base (so `nobody` can reach what is in it) holding `root` (the onboarded
/// fixture, given to `nobody`), `sys` (root's stand-in system files, 0755) and `home` (the
/// admin's HOME, root's).
struct Scene {
    _tmp: tempfile::TempDir,
    base: PathBuf,
    root: PathBuf,
    sys: PathBuf,
    home: PathBuf,
}

fn scene() -> Scene {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    chmod(&base, 0o755);
    let root = base.join("root");
    copy_tree(&fixtures().join("onboarded/input"), &root);
    let sys = base.join("sys");
    std::fs::create_dir(&sys).unwrap();
    chmod(&sys, 0o755);
    let home = base.join("home");
    std::fs::create_dir(&home).unwrap();
    Scene {
        _tmp: tmp,
        base,
        root,
        sys,
        home,
    }
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `chown -hR uid:uid p`.
fn give(p: &Path, uid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(uid)).unwrap();
    if std::fs::symlink_metadata(p).unwrap().is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            give(&e.unwrap().path(), uid);
        }
    }
}

/// A root-owned stand-in system file.
fn system_file(s: &Scene, name: &str, bytes: &str, mode: u32) -> PathBuf {
    let p = s.sys.join(name);
    std::fs::write(&p, bytes).unwrap();
    chmod(&p, mode);
    p
}

fn mode_of(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Runs `sh -c script` as `uid` (setpriv), for what the user does between our runs.
fn as_user(uid: u32, script: &str) {
    let st = std::process::Command::new("setpriv")
        .args([
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
            "--",
            "sh",
            "-c",
            script,
        ])
        .status()
        .expect("setpriv (util-linux)");
    assert!(st.success(), "as uid {uid}: {script}");
}

fn setup(s: &Scene, extra: &[&str]) -> std::process::Output {
    let out = cmd(&s.home)
        .args(["--offline", "--yes", "--json"])
        .args(extra)
        .arg(KEY)
        .arg(&s.root)
        .output()
        .unwrap();
    assert_no_key(&out, KEY);
    out
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)))
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<String> {
    snapshot(dir)
        .into_iter()
        .filter(|(_, e)| matches!(e, Entry::File { bytes, .. } if text(bytes).contains(needle)))
        .map(|(k, _)| k)
        .collect()
}

#[test]
fn root_acts_as_the_owner_files_and_children_included() {
    if !root_runs_these() {
        return;
    }
    let s = scene();
    give(&s.root, NOBODY);
    // A stand-in `openclaw` on PATH (root's, 0755), asked `--version` during discovery: it
    // notes who ran it and with which HOME.
    let bin = s.base.join("bin");
    let log = s.base.join("log");
    std::fs::create_dir(&bin).unwrap();
    std::fs::create_dir(&log).unwrap();
    chmod(&bin, 0o755);
    chmod(&log, 0o777);
    let fake = bin.join("openclaw");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho \"$(id -u) $(id -g) $HOME\" >> {}/who\necho 2026.9.6\n",
            log.display()
        ),
    )
    .unwrap();
    chmod(&fake, 0o755);
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = cmd(&s.home)
        .env("PATH", &path)
        .args(["--offline", "--yes", "--json", KEY])
        .arg(&s.root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = json(&out);
    assert_eq!(v["run_as"]["uid"], NOBODY, "{v}");
    assert_eq!(v["run_as"]["user"], "nobody", "{v}");
    assert_eq!(v["run_as"]["owner_of"], s.root.display().to_string());
    for (rel, _) in snapshot(&s.root) {
        let m = std::fs::symlink_metadata(s.root.join(&rel)).unwrap();
        assert_eq!(m.uid(), NOBODY, "{rel} is not the owner's");
    }
    let who = std::fs::read_to_string(log.join("who")).expect("openclaw --version ran");
    assert_eq!(
        who.trim(),
        "65534 65534 /nonexistent",
        "openclaw ran as: {who}"
    );
    // The text report says it too.
    let out = cmd(&s.home)
        .args(["--offline", "--dry-run", KEY])
        .arg(&s.root)
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains(&format!(
            "running as uid 65534 (nobody), the owner of {}",
            s.root.display()
        )),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn env_linked_to_a_root_owned_file_is_neither_written_nor_chmodded() {
    if !root_runs_these() {
        return;
    }
    let s = scene();
    let target = system_file(&s, "public.env", "SYSTEM=1\n", 0o644);
    std::fs::remove_file(s.root.join(".env")).unwrap();
    symlink(&target, s.root.join(".env")).unwrap();
    give(&s.root, NOBODY);
    let out = setup(&s, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v = json(&out);
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("not writable by uid 65534 (nobody)"), "{msg}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "SYSTEM=1\n");
    assert_eq!(mode_of(&target), 0o644);
    assert!(!s.root.join(".gaterouter-backup").exists());
}

#[test]
fn a_root_only_file_behind_a_link_is_never_read_nor_copied() {
    if !root_runs_these() {
        return;
    }
    for name in [".env", "openclaw.json"] {
        let s = scene();
        let body = if name == ".env" {
            format!("ROOT_TOKEN={SECRET}\n")
        } else {
            let mut c = std::fs::read_to_string(s.root.join(name)).unwrap();
            c = c.replacen('{', &format!("{{\n  // {SECRET}"), 1);
            c
        };
        let target = system_file(&s, "secret", &body, 0o600);
        std::fs::remove_file(s.root.join(name)).unwrap();
        symlink(&target, s.root.join(name)).unwrap();
        give(&s.root, NOBODY);
        let out = setup(&s, &[]);
        assert_ne!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        assert!(
            !text(&out.stdout).contains(SECRET) && !text(&out.stderr).contains(SECRET),
            "{name}: the secret was shown"
        );
        assert_eq!(
            files_holding(&s.root, SECRET),
            Vec::<String>::new(),
            "{name}: copied into the user's root"
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), body, "{name}");
        assert_eq!(mode_of(&target), 0o600);
    }
}

#[test]
fn config_linked_to_a_root_owned_readable_file_is_not_edited() {
    if !root_runs_these() {
        return;
    }
    let s = scene();
    let before = std::fs::read_to_string(s.root.join("openclaw.json")).unwrap();
    let target = system_file(&s, "openclaw.json", &before, 0o644);
    std::fs::remove_file(s.root.join("openclaw.json")).unwrap();
    symlink(&target, s.root.join("openclaw.json")).unwrap();
    give(&s.root, NOBODY);
    let out = setup(&s, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), before);
    assert_eq!(mode_of(&target), 0o644);
    // Nothing else of the plan was written either: it is one transaction.
    assert!(!files_holding(&s.root, "GATEROUTER_API_KEY").contains(&".env".to_owned()));
}

#[test]
fn rollback_never_writes_the_users_copy_into_a_root_owned_file() {
    if !root_runs_these() {
        return;
    }
    // The state an earlier run as root left on a user's root whose .env links to a root
    // file (made here on a root-owned root, then given to the user): a backup set, the
    // user's now, holding the root file's old contents.
    let s = scene();
    let target = system_file(&s, "public.env", "SYSTEM=1\n", 0o644);
    std::fs::remove_file(s.root.join(".env")).unwrap();
    symlink(&target, s.root.join(".env")).unwrap();
    let out = setup(&s, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let set = PathBuf::from(json(&out)["backup"].as_str().unwrap());
    give(&s.root, NOBODY);
    let after_setup = std::fs::read(&target).unwrap();
    // The user edits the copy in the set it owns.
    as_user(
        NOBODY,
        &format!("printf 'PWNED=1\\n' > '{}'", set.join(".env").display()),
    );
    let out = cmd(&s.home)
        .args(["rollback", "--yes", "--json"])
        .arg(&s.root)
        .output()
        .unwrap();
    assert_no_key(&out, KEY);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(
        std::fs::read(&target).unwrap(),
        after_setup,
        "rollback wrote it"
    );
    assert_eq!(std::fs::metadata(&target).unwrap().uid(), 0);
    assert_eq!(json(&out)["run_as"]["uid"], NOBODY);
}

#[test]
fn roots_of_several_owners_are_refused_at_once() {
    if !root_runs_these() {
        return;
    }
    let s = scene();
    give(&s.root, NOBODY);
    let mine = s.base.join("mine");
    copy_tree(&fixtures().join("onboarded/input"), &mine);
    let before = (snapshot(&s.root), snapshot(&mine));
    let out = cmd(&s.home)
        .args(["--offline", "--yes", KEY, "--root"])
        .arg(&s.root)
        .arg("--root")
        .arg(&mine)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("once per owner"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!((snapshot(&s.root), snapshot(&mine)), before);
}

#[test]
fn a_root_reached_through_a_third_users_link_is_refused() {
    if !root_runs_these() {
        return;
    }
    let s = scene();
    give(&s.root, NOBODY);
    let via = s.base.join("via");
    symlink(&s.root, &via).unwrap();
    std::os::unix::fs::lchown(&via, Some(OTHER), Some(OTHER)).unwrap();
    let before = snapshot(&s.root);
    let out = cmd(&s.home)
        .args(["--offline", "--yes", KEY])
        .arg(&via)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("belongs to uid 4242") && err.contains("real path"),
        "{err}"
    );
    assert_eq!(snapshot(&s.root), before);
    // Named by its real path, it is set up (as its owner).
    let out = setup(&s, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn another_users_root_is_refused_to_a_non_root_invoker_unless_as_invoker() {
    if !root_runs_these() {
        return;
    }
    // The root is nobody's and group-writable for OTHER's group; OTHER runs the tool.
    let s = scene();
    for (rel, _) in snapshot(&s.root) {
        let p = s.root.join(rel);
        std::os::unix::fs::lchown(&p, Some(NOBODY), Some(OTHER)).unwrap();
    }
    std::os::unix::fs::chown(&s.root, Some(NOBODY), Some(OTHER)).unwrap();
    std::process::Command::new("chmod")
        .args(["-R", "g+rwX"])
        .arg(&s.root)
        .status()
        .unwrap();
    let home = s.base.join("other-home");
    std::fs::create_dir(&home).unwrap();
    give(&home, OTHER);
    let bin = assert_cmd::cargo::cargo_bin("gaterouter-setup");
    let run = |extra: &[&str]| {
        std::process::Command::new("setpriv")
            .args([
                &format!("--reuid={OTHER}"),
                &format!("--regid={OTHER}"),
                "--clear-groups",
                "--",
            ])
            .arg(&bin)
            .args(["--offline", "--yes"])
            .args(extra)
            .arg(KEY)
            .arg(&s.root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("HOME", &home)
            .output()
            .unwrap()
    };
    let before = snapshot(&s.root);
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--as-invoker"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(snapshot(&s.root), before);
    let out = run(&["--as-invoker"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// The scene's root as verify reads it: the gaterouter provider at `base_url` with `api_key`
/// (a SecretRef) and `providers` as `secrets.providers`, given to `nobody`.
fn verify_root(
    s: &Scene,
    base_url: &str,
    api_key: serde_json::Value,
    providers: serde_json::Value,
) {
    let config = serde_json::json!({
        "agents": {"defaults": {"model": "gaterouter/auto"}},
        "models": {"providers": {"gaterouter": {
            "baseUrl": base_url,
            "api": "openai-completions",
            "apiKey": api_key,
            "models": [{"id": "auto", "name": "GateRouter Auto"}]
        }}},
        "secrets": {"providers": providers}
    });
    std::fs::write(s.root.join("openclaw.json"), config.to_string()).unwrap();
    let _ = std::fs::remove_file(s.root.join(".env"));
    give(&s.root, NOBODY);
}

fn verify(s: &Scene, path: Option<&str>, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut c = cmd(&s.home);
    if let Some(p) = path {
        c.env("PATH", p);
    }
    let out = c
        .arg("verify")
        .arg(&s.root)
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    assert_no_key(&out, KEY);
    (out.status.code(), json(&out))
}

/// A shell script at `p` (mode 0755, owned by `uid`) that appends `id -u`, `id -g` and
/// `$HOME` to `log` before `then`.
fn recorder(p: &Path, uid: u32, log: &Path, then: &str) {
    std::fs::write(
        p,
        format!(
            "#!/bin/sh\necho \"$(id -u) $(id -g) $HOME\" >> '{}'\n{then}\n",
            log.display()
        ),
    )
    .unwrap();
    chmod(p, 0o755);
    std::os::unix::fs::lchown(p, Some(uid), Some(uid)).unwrap();
}

#[test]
fn verify_runs_the_owners_programs_as_the_owner() {
    if !root_runs_these() {
        return;
    }
    let server = crate::common::stand_in::StandIn::healthy(KEY);
    let s = scene();
    let log = s.base.join("log");
    std::fs::create_dir(&log).unwrap();
    chmod(&log, 0o777);
    // The owner's exec SecretRef program, in a directory of the owner's.
    let user_bin = s.base.join("user-bin");
    std::fs::create_dir(&user_bin).unwrap();
    let script = user_bin.join("secret.sh");
    recorder(
        &script,
        NOBODY,
        &log.join("exec"),
        &format!("printf '{{\"protocolVersion\": 1, \"values\": {{\"GR\": \"{KEY}\"}}}}'"),
    );
    give(&user_bin, NOBODY);
    verify_root(
        &s,
        &server.base_url(),
        serde_json::json!({"source": "exec", "provider": "cmd", "id": "GR"}),
        serde_json::json!({"cmd": {"source": "exec", "command": script}}),
    );
    // A stand-in `openclaw` on PATH, for --with-openclaw (and discovery's --version).
    let bin = s.base.join("bin");
    std::fs::create_dir(&bin).unwrap();
    chmod(&bin, 0o755);
    recorder(
        &bin.join("openclaw"),
        0,
        &log.join("openclaw"),
        "echo 2026.9.6",
    );
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let (code, v) = verify(&s, Some(&path), &["--with-openclaw", "--timeout", "5"]);
    assert_eq!(v["key"]["found_in"], "secret-exec", "{v:#}");
    assert_eq!(v["results"][0]["ok"], true, "{v:#}");
    assert_eq!(v["run_as"]["uid"], NOBODY);
    assert!(code.is_some());
    let exec = std::fs::read_to_string(log.join("exec")).expect("the exec SecretRef ran");
    assert_eq!(exec.trim(), "65534 65534", "exec SecretRef ran as: {exec}");
    let oc = std::fs::read_to_string(log.join("openclaw")).expect("openclaw ran");
    assert!(
        oc.lines().count() >= 2 && oc.lines().all(|l| l == "65534 65534 /nonexistent"),
        "openclaw ran as: {oc}"
    );
}

#[test]
fn verify_never_runs_a_root_owned_program_for_the_owner_nor_reads_roots_files() {
    if !root_runs_these() {
        return;
    }
    const ROOT_KEY: &str = "sk-or-v1-ROOTONLYKEY-0123456789abcdef";
    let server = crate::common::stand_in::StandIn::healthy(KEY);
    let s = scene();
    let log = s.base.join("log");
    std::fs::create_dir(&log).unwrap();
    chmod(&log, 0o777);
    // A root-owned program (passes "owned by the user running it" only for root) and a
    // root-only secrets file; the owner's config names both.
    let prog = s.sys.join("helper");
    recorder(
        &prog,
        0,
        &log.join("exec"),
        &format!("printf '{{\"protocolVersion\": 1, \"values\": {{\"GR\": \"{ROOT_KEY}\"}}}}'"),
    );
    let secrets = system_file(
        &s,
        "secrets.json",
        &format!(r#"{{"gr": {{"key": "{ROOT_KEY}"}}}}"#),
        0o600,
    );
    for (api_key, providers) in [
        (
            serde_json::json!({"source": "exec", "provider": "cmd", "id": "GR"}),
            serde_json::json!({"cmd": {"source": "exec", "command": prog, "args": ["-c", "id"]}}),
        ),
        (
            serde_json::json!({"source": "file", "provider": "vault", "id": "/gr/key"}),
            serde_json::json!({"vault": {"source": "file", "path": secrets}}),
        ),
    ] {
        let before = server.hits().len();
        verify_root(&s, &server.base_url(), api_key.clone(), providers);
        let (code, v) = verify(&s, None, &[]);
        assert_eq!(code, Some(3), "{api_key}: {v:#}");
        assert_eq!(v["results"][0]["failure"]["kind"], "key-missing", "{v:#}");
        assert!(
            v.to_string().contains("uid 65534"),
            "{api_key}: says whose rights: {v:#}"
        );
        assert!(!v.to_string().contains(ROOT_KEY));
        assert_eq!(server.hits().len(), before, "{api_key}: a request was sent");
        assert!(!log.join("exec").exists(), "the root-owned program ran");
        // doctor resolves a file SecretRef too: as the owner, so root's file stays unread.
        let out = cmd(&s.home)
            .args(["doctor", "--json"])
            .arg(&s.root)
            .output()
            .unwrap();
        let d = json(&out);
        assert_eq!(d["run_as"]["uid"], NOBODY);
        assert!(
            !d.to_string().contains(ROOT_KEY),
            "{api_key}: doctor read it"
        );
    }
}

#[test]
fn a_root_owned_root_others_may_write_is_refused_to_root() {
    if !root_runs_these() {
        return;
    }
    let s = scene();
    chmod(&s.root, 0o777);
    let before = snapshot(&s.root);
    let out = setup(&s, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        json(&out)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("others may write to it (mode 777)"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(snapshot(&s.root), before);
}

/// Every entry point that touches a root acts as its owner and says so: setup (one root and
/// several), doctor, verify, rollback, uninstall.
#[test]
fn every_entry_point_acts_as_the_owner_and_says_so() {
    if !root_runs_these() {
        return;
    }
    let s = scene();
    let second = s.base.join("second");
    copy_tree(&fixtures().join("onboarded/input"), &second);
    give(&s.root, NOBODY);
    give(&second, NOBODY);
    let run = |args: &[&str]| {
        let out = cmd(&s.home).args(args).output().unwrap();
        assert_no_key(&out, KEY);
        json(&out)
    };
    let root = s.root.to_str().unwrap();
    let two = second.to_str().unwrap();
    let v = run(&[
        "--offline",
        "--yes",
        "--json",
        KEY,
        "--root",
        root,
        "--root",
        two,
    ]);
    assert_eq!(v["exit_code"], 0, "{v:#}");
    assert_eq!(v["run_as"]["uid"], NOBODY, "many roots: {v:#}");
    for args in [
        &["doctor", "--json", root][..],
        &["verify", "--json", "--timeout", "1", root][..],
        &["uninstall", "--dry-run", "--json", root][..],
        &["rollback", "--dry-run", "--json", root][..],
    ] {
        let v = run(args);
        assert_eq!(v["run_as"]["uid"], NOBODY, "{args:?}: {v:#}");
        assert_eq!(v["run_as"]["owner_of"], root, "{args:?}");
    }
    let out = cmd(&s.home).args(["doctor", root]).output().unwrap();
    assert!(
        text(&out.stdout).contains("running as uid 65534 (nobody), the owner of"),
        "{}",
        text(&out.stdout)
    );
}
