//! Terminal and shell conventions, checked in the real tools: the bash completion script in
//! a real bash, the man pages rendered by groff, `git apply` on the dry-run diff.

use std::path::Path;
use std::process::Command as Std;

use crate::common::*;

fn have(tool: &str) -> bool {
    Std::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// What bash offers after `gaterouter-setup <line>` (the last word is completed), asking
/// the script through the function `complete -p` says it registered, as bash itself does.
fn bash_offers(script: &Path, line: &str) -> Vec<String> {
    let probe = r#"
source "$1"
fn=$(complete -p gaterouter-setup | sed -n 's/.*-F \([^ ]*\).*/\1/p')
read -ra COMP_WORDS <<< "gaterouter-setup $2"
[[ "$2" == *" " || -z "$2" ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="gaterouter-setup $2"; COMP_POINT=${#COMP_LINE}
"$fn" gaterouter-setup "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let out = Std::new("bash")
        .args(["--norc", "--noprofile", "-c", probe, "bash"])
        .arg(script)
        .arg(line)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_owned).collect()
}

/// Every option of every subcommand is offered after `SUBCOMMAND --`, and the values of an
/// enum option after it: the class is "bash completes what clap declares", not one flag.
#[test]
fn bash_completes_every_subcommands_options() {
    if !have("bash") {
        return;
    }
    let home = Scenario::empty();
    let out = home.then().args(["completions", "bash"]).run().code(0);
    let script = home.tmp().join("gaterouter-setup.bash");
    std::fs::write(&script, &out.output().stdout).unwrap();

    let cli = <gaterouter_setup::cli::Cli as clap::CommandFactory>::command();
    let top = bash_offers(&script, "");
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        assert!(top.iter().any(|w| w == name), "{name} not offered: {top:?}");
        let offered = bash_offers(&script, &format!("{name} --"));
        let longs: Vec<String> = sub
            .get_arguments()
            .filter_map(|a| a.get_long())
            .map(|l| format!("--{l}"))
            .collect();
        for l in &longs {
            assert!(
                offered.contains(l),
                "`{name} --` does not offer {l}: {offered:?}"
            );
        }
        assert!(
            offered.iter().all(|w| w.starts_with("--")),
            "`{name} --` offers non-options: {offered:?}"
        );
    }
    let colors = bash_offers(&script, "rollback --color ");
    for v in ["auto", "always", "never"] {
        assert!(colors.iter().any(|w| w == v), "{colors:?}");
    }
    let shells = bash_offers(&script, "completions ");
    assert!(shells.iter().any(|w| w == "bash"), "{shells:?}");
}

/// -q, -v and --color are taken by every subcommand, after its name as well as before: the
/// parser never calls them unknown (a missing required argument is another matter).
#[test]
fn output_flags_are_accepted_by_every_subcommand() {
    use clap::{CommandFactory, Parser, error::ErrorKind};
    use gaterouter_setup::cli::Cli;
    for sub in Cli::command().get_subcommands() {
        let name = sub.get_name();
        for flags in [
            &["-q"][..],
            &["-v"],
            &["--quiet"],
            &["--verbose"],
            &["--color", "never"],
            &["--color=always"],
        ] {
            let mut args = vec!["gaterouter-setup", name];
            args.extend_from_slice(flags);
            if let Err(e) = Cli::try_parse_from(&args) {
                assert!(
                    !matches!(
                        e.kind(),
                        ErrorKind::UnknownArgument | ErrorKind::InvalidSubcommand
                    ),
                    "{args:?}: {e}"
                );
            }
        }
    }
}

/// An option of setup followed by a subcommand name reads the name as setup's key; that is
/// refused (nothing probed, nothing written), naming the right order.
#[test]
fn a_subcommand_after_an_option_is_refused_not_taken_for_a_key() {
    let s = Scenario::case("onboarded");
    let before = snapshot(s.root());
    for sub in ["rollback", "doctor", "uninstall", "probe", "verify"] {
        s.then()
            .args(["-q", sub])
            .root_arg()
            .arg("--offline")
            .label(sub)
            .run()
            .code(1)
            .stderr_has(&format!("gaterouter-setup {sub} [OPTIONS]"));
    }
    assert_eq!(snapshot(s.root()), before);
}

#[test]
fn timeout_zero_is_refused_with_the_range() {
    let home = Scenario::empty();
    for args in [
        &["probe", "--timeout", "0", KEY][..],
        &["verify", "--timeout", "0"],
        &["--timeout", "0", "--dry-run", KEY],
    ] {
        home.then()
            .args(args)
            .label(format!("{args:?}"))
            .run()
            .code(1)
            .stderr_has("1..=86400");
    }
}

fn auto_off_server() -> crate::common::stand_in::StandIn {
    crate::common::stand_in::StandIn::start(|r| {
        if r.method == "POST" {
            crate::common::stand_in::Reply::error(400, "auto routing is not enabled")
        } else {
            crate::common::stand_in::healthy_reply(r, KEY)
        }
    })
}

/// Auto routing off: setup would still work (with a fixed primary), so probe exits 0 but
/// shows the fix, and `--require-auto` makes it exit 3, as setup does.
#[test]
fn probe_with_auto_routing_off_shows_the_fix() {
    let server = auto_off_server();
    let home = Scenario::empty();
    let base = server.base_url();
    home.then()
        .args(["probe", "--base-url", &base, KEY])
        .run()
        .code(0)
        .stderr_has("warning: auto routing is not enabled")
        .stderr_has("enable Auto Routing")
        .stderr_has("--require-auto");

    let v = home
        .then()
        .args(["probe", "--json", "--base-url", &base, KEY])
        .run()
        .json();
    assert_eq!(v["exit_code"], 0);
    assert!(
        v["warnings"].to_string().contains("enable Auto Routing"),
        "{v}"
    );

    home.then()
        .args(["probe", "--require-auto", "--base-url", &base, KEY])
        .run()
        .code(3)
        .stderr_has("enable Auto Routing");

    // -q: nothing but the error, and nothing at all when there is none.
    let quiet = home
        .then()
        .args(["probe", "-q", "--require-auto", "--base-url", &base, KEY])
        .run()
        .code(3)
        .stdout_empty();
    assert!(quiet.stderr().starts_with("error: "));
    let healthy = crate::common::stand_in::StandIn::healthy(KEY);
    home.then()
        .args(["probe", "-q", "--base-url", &healthy.base_url(), KEY])
        .run()
        .code(0)
        .stdout_empty()
        .stderr_empty();
}

/// `--color always`: doctor's marks and the `error:`/`warning:` labels are coloured, and the
/// only escape sequences in the output are our SGR codes (a hostile file name stays escaped).
/// Without it (NO_COLOR is set by `cmd`) there is no escape sequence at all.
#[test]
fn doctor_marks_and_labels_are_coloured_only_when_asked() {
    let s = Scenario::case("onboarded");
    s.then()
        .args(["doctor", "--color", "always"])
        .root_arg()
        .run()
        .stdout_has("\x1b[1;31mFAIL\x1b[0m")
        .stdout_has("\x1b[32mok  \x1b[0m");
    s.then()
        .arg("doctor")
        .root_arg()
        .run()
        .stdout_lacks("\x1b")
        .stdout_has("  FAIL  ");

    let evil = s.tmp().join("evil\x1b]0;x\x07");
    let err = s
        .then()
        .args(["doctor", "--color", "always"])
        .arg(&evil)
        .run()
        .stderr();
    assert!(err.starts_with("\x1b[1;31merror:\x1b[0m "), "{err:?}");
    assert_only_sgr(&err);
    // The same name through the environment reaches the message itself, escaped.
    let err = s
        .then()
        .env("OPENCLAW_STATE_DIR", &evil)
        .args(["doctor", "--color", "always"])
        .run()
        .stderr_has("evil\\x1b]0;x\\x07")
        .stderr();
    assert_only_sgr(&err);

    let server = auto_off_server();
    let err = s
        .then()
        .args([
            "probe",
            "--color=always",
            "--base-url",
            &server.base_url(),
            KEY,
        ])
        .run()
        .stderr_has("\x1b[1;33mwarning:\x1b[0m auto routing")
        .stderr();
    assert_only_sgr(&err);
}

/// Every ESC starts an SGR colour sequence (`ESC [ digits;… m`).
fn assert_only_sgr(s: &str) {
    for (i, _) in s.match_indices('\x1b') {
        let rest = &s[i + 1..];
        let ok = rest.strip_prefix('[').is_some_and(|r| {
            let n = r
                .bytes()
                .take_while(|b| b.is_ascii_digit() || *b == b';')
                .count();
            r.as_bytes().get(n) == Some(&b'm')
        });
        assert!(ok, "a non-colour escape sequence in {s:?}");
    }
}

/// doctor -q prints the problems only; rollback -q prints nothing but errors.
#[test]
fn quiet_doctor_and_rollback() {
    let s = Scenario::case("onboarded");
    let problems = s
        .then()
        .args(["doctor", "-q"])
        .root_arg()
        .run()
        .code(1)
        .stdout();
    assert!(
        !problems.is_empty() && problems.lines().all(|l| l.starts_with("  FAIL  ")),
        "{problems}"
    );

    s.then()
        .args(["--offline", "--yes", KEY])
        .root_arg()
        .run()
        .code(0);
    s.then()
        .args(["rollback", "-q", "--yes"])
        .root_arg()
        .run()
        .code(0)
        .stdout_empty();
}

/// setup, rollback, uninstall, a dry run and a refused run: none leaves `.gaterouter.lock`.
#[test]
fn no_lock_file_is_left_in_the_root() {
    let s = Scenario::case("onboarded");
    let lock = s.root().join(".gaterouter.lock");
    for args in [
        &["--offline", "--yes", KEY][..],
        &["rollback", "--yes"],
        &["--offline", "--yes", KEY],
        &["uninstall", "--yes"],
        &["--offline", "--dry-run", KEY],
    ] {
        s.then()
            .args(args)
            .root_arg()
            .label(format!("{args:?}"))
            .run()
            .code(0);
        assert!(!lock.exists(), "{args:?} left the lock file");
    }
    // A run that took the lock and then gave up (OpenClaw busy) removes it as well.
    std::fs::write(s.root().join("openclaw.json.lock"), "").unwrap();
    s.then()
        .args(["--offline", "--yes", "--lock-timeout", "0", KEY])
        .root_arg()
        .run()
        .code_not(0);
    assert!(!lock.exists(), "a refused run left the lock file");
}

/// Rollback of a setup that created `agents/main/agent/models.json` in a root without
/// `agents/` removes the directories setup made; a directory that existed before, or that
/// now holds a file of the user's, stays.
#[test]
fn rollback_removes_the_directories_setup_created_and_only_those() {
    for (case, user_file) in [("fresh", None), ("fresh", Some("agents/main/notes.txt"))] {
        let s = Scenario::case(case);
        let root = s.root();
        assert!(!root.join("agents").exists(), "the fixture changed");
        let before = snapshot(root);
        // The fresh root has nothing of OpenClaw's yet: only --init may set it up.
        s.then()
            .args(["--offline", "--yes", "--init", KEY])
            .root_arg()
            .run()
            .code(0);
        assert!(root.join("agents/main/agent/models.json").is_file());
        if let Some(f) = user_file {
            std::fs::write(root.join(f), "mine").unwrap();
        }
        s.then()
            .args(["rollback", "--yes"])
            .root_arg()
            .run()
            .code(0);
        let after: std::collections::BTreeMap<_, _> = snapshot(root)
            .into_iter()
            .filter(|(k, _)| !k.starts_with(".gaterouter-backup"))
            .collect();
        match user_file {
            None => assert_eq!(after, before),
            Some(f) => {
                assert!(root.join(f).is_file());
                assert!(!root.join("agents/main/agent").exists());
                let mut expected = before.clone();
                for k in ["agents", "agents/main", f] {
                    expected.insert(k.into(), after[k].clone());
                }
                assert_eq!(after, expected);
            }
        }
    }
    // A directory that existed before setup (empty) is kept.
    let s = Scenario::case("fresh");
    let root = s.root();
    std::fs::create_dir_all(root.join("agents/main/agent")).unwrap();
    s.then()
        .args(["--offline", "--yes", "--init", KEY])
        .root_arg()
        .run()
        .code(0);
    s.then()
        .args(["rollback", "--yes"])
        .root_arg()
        .run()
        .code(0);
    assert!(root.join("agents/main/agent").is_dir());
    assert!(!root.join("agents/main/agent/models.json").exists());
}

/// For every fixture root: the `--dry-run -v` output (-v: the models catalog unfolded), fed
/// to `git apply` in a copy of the
/// root, makes openclaw.json and each models.json exactly what setup writes. `.env` is
/// excluded: its key is masked in the diff, so applying it would write the mask. Files
/// with CRLF line ends are shown with LF (a raw CR is escaped by the output layer), so
/// their diffs do not apply; that is documented, and the roots holding one are skipped.
#[test]
fn the_dry_run_diff_applies_with_git_apply() {
    if !have("git") {
        return;
    }
    let mut applied = 0;
    for case in cases() {
        let s = Scenario::case(&case);
        let root = s.root();
        let crlf = snapshot(root).iter().any(|(k, e)| {
            k != ".env"
                && matches!(e, Entry::File { bytes, .. } if bytes.windows(2).any(|w| w == b"\r\n"))
        });
        let copy = s.tmp().join("copy");
        copy_tree(root, &copy);
        let extra = case_args(&case);
        let with = |args: &[&str]| s.then().label(&case).args(&extra).args(args).root_arg();
        let dry = with(&["--offline", "--dry-run", "-v", KEY]).run();
        if dry.output().status.code() != Some(0) || crlf {
            continue;
        }
        with(&["--offline", "--yes", KEY]).run().code(0);
        let patch = s.tmp().join("dry-run.txt");
        std::fs::write(&patch, &dry.output().stdout).unwrap();
        let diff = dry.stdout();
        if !diff.contains("diff --git") {
            continue;
        }
        // A secret in a JSON file (a plaintext apiKey OpenClaw's onboarding wrote) is masked
        // in the diff like .env's key, so that file's diff cannot apply either: skipped.
        if diff
            .split("diff --git ")
            .filter(|s| !s.starts_with("a/.env "))
            .any(|s| s.contains('…'))
        {
            continue;
        }
        let git = Std::new("git")
            .current_dir(&copy)
            .args(["apply", "--exclude=.env", "--verbose"])
            .arg(&patch)
            .output()
            .unwrap();
        assert!(
            git.status.success(),
            "{case}: git apply refused the dry-run output: {}\n{diff}",
            text(&git.stderr)
        );
        applied += 1;
        let user_files = |dir: &Path| -> std::collections::BTreeMap<String, Entry> {
            snapshot(dir)
                .into_iter()
                .filter(|(k, _)| {
                    k != ".env" && !k.starts_with(".gaterouter-backup") && !k.ends_with(".orig")
                })
                .map(|(k, e)| match e {
                    // git sets modes of its own (644/755); the content is the point here.
                    Entry::File { bytes, .. } => (k, Entry::File { bytes, mode: 0 }),
                    Entry::Dir { .. } => (k, Entry::Dir { mode: 0 }),
                    e => (k, e),
                })
                .collect()
        };
        assert_eq!(user_files(&copy), user_files(root), "{case}");
    }
    assert!(applied >= 10, "only {applied} roots had a diff to apply");
}

/// A page as groff renders it (wide, unhyphenated, no escapes), or None without groff.
fn render_man(page: &Path) -> Option<String> {
    let out = Std::new("groff")
        .env("GROFF_NO_SGR", "1")
        .args(["-k", "-man", "-Tutf8", "-P-bou", "-rLL=250n", "-rHY=0"])
        .arg(page)
        .output()
        .ok()?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    Some(text(&out.stdout).replace(['\u{2212}', '\u{2010}'], "-"))
}

/// `man --dir` ships a page for the command and every subcommand; every page any of them
/// names exists; each page lists all its options; the examples keep their lines.
#[test]
fn man_pages_one_per_subcommand_all_options_examples_unreflowed() {
    let home = Scenario::empty();
    let dir = home.tmp().join("man1");
    std::fs::create_dir(&dir).unwrap();
    home.then().args(["man", "--dir"]).arg(&dir).run().code(0);

    let cli = <gaterouter_setup::cli::Cli as clap::CommandFactory>::command();
    let mut pages = vec![("gaterouter-setup".to_owned(), cli.clone())];
    for sub in cli.get_subcommands().filter(|s| s.get_name() != "help") {
        pages.push((format!("gaterouter-setup-{}", sub.get_name()), sub.clone()));
    }
    let shipped: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(shipped.len(), pages.len(), "{shipped:?}");
    for (name, cmd) in &pages {
        let file = dir.join(format!("{name}.1"));
        let roff = std::fs::read(&file).unwrap();
        // `man SUBCOMMAND` prints the same page.
        let sub = name.strip_prefix("gaterouter-setup-");
        let printed = home.then().arg("man").args(sub).run();
        assert_eq!(printed.output().stdout, roff, "{name}");
        let Some(page) = render_man(&file) else {
            continue;
        };
        for reference in page
            .split(|c: char| c.is_whitespace())
            .filter_map(|w| w.strip_suffix("(1)"))
        {
            assert!(
                shipped.contains(&format!("{reference}.1")),
                "{name} names {reference}(1), which is not shipped"
            );
        }
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            if let Some(l) = arg.get_long() {
                assert!(
                    page.contains(&format!("--{l}")),
                    "{name}: --{l} missing\n{page}"
                );
            }
        }
    }
    // The main page's examples: each on its own line, with its comment beside it.
    let page = render_man(&dir.join("gaterouter-setup.1"));
    if let Some(page) = page {
        let after = cli.get_after_help().unwrap().to_string();
        let examples = after.split("\n\n").next().unwrap();
        for line in examples.lines().skip(1) {
            assert!(
                page.lines().any(|l| l.trim() == line.trim()),
                "example line reflowed: {line:?}\n{page}"
            );
        }
        assert!(
            page.contains("EXIT CODES") && page.contains("FILES"),
            "{page}"
        );
    }
    home.then().args(["man", "nosuch"]).run().code(1);
}

/// `man --dir` writes its pages as every file we write: a page-named symlink is not
/// followed (its target keeps its bytes), a page-named FIFO is refused without blocking,
/// and a regular page (hard-linked elsewhere too) is replaced by rename, the other name
/// keeping the old text.
#[test]
fn man_dir_writes_no_link_and_blocks_on_no_fifo() {
    use std::os::unix::fs::FileTypeExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man1");
    std::fs::create_dir(&dir).unwrap();
    let man = |dir: &Path| {
        let mut child = Std::new(env!("CARGO_BIN_EXE_gaterouter-setup"))
            .env_clear()
            .env("HOME", tmp.path())
            .args(["man", "--dir", dir.to_str().unwrap()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > std::time::Duration::from_secs(20) {
                let _ = child.kill();
                panic!("man --dir blocked");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    };
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let page = dir.join("gaterouter-setup.1");
    std::os::unix::fs::symlink(&victim, &page).unwrap();
    let out = man(&dir);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("symlink"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(page.symlink_metadata().unwrap().file_type().is_symlink());
    std::fs::remove_file(&page).unwrap();

    let fifo = dir.join("gaterouter-setup-doctor.1");
    let made = Std::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let out = man(&dir);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("FIFO"), "{}", text(&out.stderr));
    assert!(fifo.symlink_metadata().unwrap().file_type().is_fifo());
    std::fs::remove_file(&fifo).unwrap();

    std::fs::write(&page, "old page").unwrap();
    let other = tmp.path().join("other-name");
    std::fs::hard_link(&page, &other).unwrap();
    let out = man(&dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        std::fs::read_to_string(&page)
            .unwrap()
            .contains("\n.TH gaterouter-setup 1")
    );
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "old page");
    // No temp file left behind.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n.ends_with(".1") && !n.starts_with('.')),
        "{names:?}"
    );
}
