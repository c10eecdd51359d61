//! Terminal and shell conventions, checked in the real tools: the bash completion script in
//! a real bash, the man pages rendered by groff, `git apply` on the dry-run diff.

mod common;

use std::path::Path;
use std::process::Command as Std;

use common::*;

fn run(home: &Path, args: &[&str]) -> std::process::Output {
    cmd(home).args(args).output().unwrap()
}

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
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), &["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    let script = tmp.path().join("gaterouter-setup.bash");
    std::fs::write(&script, &out.stdout).unwrap();

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
