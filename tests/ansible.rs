//! The Ansible collection (`ansible/collections/ansible_collections/gaterouter/openclaw`),
//! end to end with real ansible-core: an inventory of local hosts, each its own OpenClaw root
//! (fresh, onboarded, already configured, broken config), driven through check+diff, apply,
//! a second apply and `state: absent`. Every assertion reads Ansible's own verdicts as JSON
//! (tests/ansible/callback_plugins/fleet_json.py records each host's event and result, and the
//! play stats), never its text. Every run is at
//! -vvv and the key must appear nowhere: stdout, stderr or the JSON results.
//!
//! ansible-core is installed into a cached virtualenv by `scripts/ansible-env.sh`, which
//! `scripts/test.sh` calls. Under CI=true a missing install fails; elsewhere the test skips.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use serde_json::Value;

const HOSTS: [&str; 4] = ["fresh", "onboarded", "configured", "broken-json"];
const GOOD: [&str; 3] = ["fresh", "onboarded", "configured"];

fn ansible_bin() -> Option<PathBuf> {
    let cache = std::env::var_os("GATEROUTER_ANSIBLE_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(|c| Path::new(&c).join("gaterouter-setup/ansible"))
        })
        .or_else(|| {
            std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/gaterouter-setup/ansible"))
        })?;
    let bin = cache.join("bin");
    bin.join("ansible-playbook").is_file().then_some(bin)
}

struct Fleet {
    tmp: tempfile::TempDir,
    bin: PathBuf,
    runs: usize,
}

/// One ansible-playbook run: its exit code and each host's module result.
struct Run {
    code: i32,
    hosts: BTreeMap<String, Value>,
    /// The play recap per host (`ok`, `changed`, `failures`, …).
    stats: Value,
    /// Every task's record, in order (`task`, `host`, `event`, `result`).
    tasks: Vec<Value>,
}

impl Fleet {
    fn new(bin: PathBuf) -> Fleet {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let mut inv = String::from("openclaw:\n  hosts:\n");
        for h in HOSTS {
            copy_tree(&fixtures().join(h).join("input"), &t.join("roots").join(h));
            inv += &format!(
                "    {h}:\n      gr_root: {}\n      gr_prefix: {}\n      gr_init: {}\n",
                t.join("roots").join(h).display(),
                t.join("prefix").join(h).display(),
                case_args(h).iter().any(|a| a == "--init")
            );
        }
        inv += &format!(
            "  vars:\n    ansible_connection: local\n    ansible_python_interpreter: \"{{{{ ansible_playbook_python }}}}\"\n    gr_binary_src: {}\n",
            env!("CARGO_BIN_EXE_gaterouter-setup")
        );
        std::fs::write(t.join("inventory.yml"), inv).unwrap();
        // What Ansible Vault would decrypt; a vars file keeps the key off ansible's argv.
        std::fs::write(t.join("key.yml"), format!("gr_api_key: {KEY}\n")).unwrap();
        Fleet { tmp, bin, runs: 0 }
    }

    fn root(&self, host: &str) -> PathBuf {
        self.tmp.path().join("roots").join(host)
    }

    fn roots(&self) -> BTreeMap<&'static str, BTreeMap<String, Entry>> {
        HOSTS
            .iter()
            .map(|h| (*h, snapshot(&self.root(h))))
            .collect()
    }

    /// Runs a playbook from tests/ansible at -vvv; asserts the key is nowhere in its output.
    fn play(&mut self, playbook: &str, extra: &[&str]) -> Run {
        self.runs += 1;
        let t = self.tmp.path();
        let run = play(
            &self.bin,
            t,
            &t.join("inventory.yml"),
            playbook,
            extra,
            self.runs,
        );
        for h in HOSTS {
            assert!(
                run.hosts.contains_key(h),
                "no result for {h}: {:#?}",
                run.tasks
            );
        }
        run
    }
}

/// One ansible-playbook run of tests/ansible/`playbook` on `inventory`, at -vvv, everything
/// it writes under `t`; asserts the key is nowhere in its output or results.
fn play(bin: &Path, t: &Path, inventory: &Path, playbook: &str, extra: &[&str], n: usize) -> Run {
    let record = t.join(format!("run-{n}.json"));
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ansible");
    let playbook = tests.join(playbook);
    let out = Command::new(bin.join("ansible-playbook"))
        .arg("-vvv")
        .arg("-i")
        .arg(inventory)
        .arg(format!("-e@{}", t.join("key.yml").display()))
        .args(extra)
        .arg(&playbook)
        .env(
            "ANSIBLE_COLLECTIONS_PATH",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("ansible/collections"),
        )
        // Everything Ansible writes stays in the temp dir, not the developer's ~/.ansible.
        .env("ANSIBLE_HOME", t.join("ansible-home"))
        .env("ANSIBLE_LOCAL_TEMP", t.join("ansible-home/tmp"))
        .env("ANSIBLE_REMOTE_TMP", t.join("ansible-home/remote"))
        .env("ANSIBLE_CALLBACK_PLUGINS", tests.join("callback_plugins"))
        .env("ANSIBLE_CALLBACKS_ENABLED", "fleet_json")
        .env("FLEET_JSON_OUT", &record)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_FORCE_COLOR", "0")
        .env_remove("GATEROUTER_API_KEY")
        .env_remove("OPENCLAW_STATE_DIR")
        .output()
        .expect("run ansible-playbook");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        !stdout.contains(KEY) && !stderr.contains(KEY),
        "the API key leaked into ansible-playbook's output (-vvv)"
    );
    let raw = std::fs::read_to_string(&record)
        .unwrap_or_else(|e| panic!("no JSON record ({e})\nstdout:\n{stdout}\nstderr:\n{stderr}"));
    assert!(
        !raw.contains(KEY),
        "the API key leaked into Ansible's JSON results"
    );
    let record: Value = serde_json::from_str(&raw).unwrap();
    // Each host's last task result, with Ansible's verdict folded in as `failed`.
    let mut hosts = BTreeMap::new();
    for t in record["tasks"].as_array().unwrap() {
        let mut r = t["result"].clone();
        r["failed"] = Value::Bool(t["event"] == "failed");
        hosts.insert(t["host"].as_str().unwrap().to_string(), r);
    }
    Run {
        code: out.status.code().unwrap_or(-1),
        hosts,
        stats: record["stats"].clone(),
        tasks: record["tasks"].as_array().unwrap().clone(),
    }
}

fn flag(r: &Value, name: &str) -> bool {
    r.get(name).and_then(Value::as_bool).unwrap_or(false)
}

#[test]
fn a_fleet_checks_applies_converges_and_uninstalls() {
    let Some(bin) = ansible_bin() else {
        assert!(
            !in_ci(),
            "CI=true but ansible-core is not installed: scripts/test.sh must call scripts/ansible-env.sh"
        );
        eprintln!(
            "SKIPPED a_fleet_checks_applies_converges_and_uninstalls: run scripts/ansible-env.sh to install ansible-core"
        );
        return;
    };
    let mut fleet = Fleet::new(bin);
    // A credential of the user's inside a URL and under a plural name, in a file setup
    // edits: Ansible's --diff renders the report's before/after, which must hide them.
    let webhook = "WEBHOOKPATH7Qx2Lm9Zr4Kd";
    let session = "SESSIONTOK-Aa11Bb22Cc33";
    let config = fleet.root("onboarded").join("openclaw.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    v["channels"] = serde_json::json!({"slack": {"webhookUrl": format!("https://hooks.example/services/T0123ABCD/B0456EFGH/{webhook}")}});
    v["sessionTokens"] = serde_json::json!([session]);
    std::fs::write(&config, serde_json::to_string_pretty(&v).unwrap()).unwrap();

    // The role puts the binary on every host.
    let run = fleet.play("install.yml", &[]);
    assert_eq!(run.code, 0, "install failed: {:#?}", run.hosts);
    for h in HOSTS {
        assert!(
            fleet
                .tmp
                .path()
                .join("prefix")
                .join(h)
                .join("bin/gaterouter-setup")
                .is_file()
        );
    }

    // 1. --check --diff: a plan per host, nothing written, the broken host fails alone.
    let before = fleet.roots();
    let run = fleet.play(
        "setup.yml",
        &["--check", "--diff", "-e", "gr_state=present"],
    );
    assert_eq!(fleet.roots(), before, "check mode wrote something");
    assert_eq!(run.code, 2, "a failed host makes ansible-playbook exit 2");
    for h in ["fresh", "onboarded"] {
        let r = &run.hosts[h];
        assert!(!flag(r, "failed") && flag(r, "changed"), "{h}: {r:#}");
        let diffs = r["diff"].as_array().expect("diff list");
        assert!(!diffs.is_empty(), "{h}: no diff in --diff mode");
        for d in diffs {
            let after = d["after"]
                .as_str()
                .unwrap_or_else(|| panic!("{h}: no after: {d:#}"));
            assert!(
                after.to_lowercase().contains("gaterouter"),
                "{h}: diff without the change: {d:#}"
            );
            assert_ne!(d["before"], d["after"], "{h}: {d:#}");
            let shown = d.to_string();
            assert!(
                !shown.contains(webhook) && !shown.contains(session),
                "{h}: a credential in the diff: {d:#}"
            );
        }
    }
    let r = &run.hosts["configured"];
    assert!(
        !flag(r, "failed") && !flag(r, "changed"),
        "configured: {r:#}"
    );
    let r = &run.hosts["broken-json"];
    assert!(flag(r, "failed"), "broken-json: {r:#}");
    let msg = r["msg"].as_str().unwrap();
    assert!(
        msg.contains("openclaw.json") && msg.contains("not valid JSON5"),
        "{msg}"
    );
    for h in GOOD {
        assert_eq!(run.stats[h]["failures"], 0, "{h}: {:#}", run.stats);
    }
    assert_eq!(run.stats["broken-json"]["failures"], 1);

    // 2. Apply: the good hosts are set up, the broken one fails and keeps its files.
    let broken = snapshot(&fleet.root("broken-json"));
    let run = fleet.play("setup.yml", &["-e", "gr_state=present"]);
    assert_eq!(run.code, 2);
    for h in ["fresh", "onboarded"] {
        let r = &run.hosts[h];
        assert!(!flag(r, "failed") && flag(r, "changed"), "{h}: {r:#}");
        let env = std::fs::read_to_string(fleet.root(h).join(".env")).unwrap();
        assert!(
            env.contains(&format!("GATEROUTER_API_KEY={KEY}")),
            "{h}: key not written"
        );
    }
    assert!(!flag(&run.hosts["configured"], "changed"));
    assert!(flag(&run.hosts["broken-json"], "failed"));
    assert_eq!(
        snapshot(&fleet.root("broken-json")),
        broken,
        "a failed host's files changed"
    );

    // 3. The same again: idempotent, changed=false on every good host, nothing written.
    let applied = fleet.roots();
    let run = fleet.play("setup.yml", &["-e", "gr_state=present"]);
    for h in GOOD {
        let r = &run.hosts[h];
        assert!(
            !flag(r, "failed") && !flag(r, "changed"),
            "{h} not idempotent: {r:#}"
        );
        assert_eq!(run.stats[h]["changed"], 0, "{h}: {:#}", run.stats);
    }
    assert_eq!(fleet.roots(), applied, "a converged run wrote something");

    // 4. state: absent removes GateRouter from every good host.
    let run = fleet.play("setup.yml", &["-e", "gr_state=absent"]);
    for h in GOOD {
        let r = &run.hosts[h];
        assert!(!flag(r, "failed") && flag(r, "changed"), "{h}: {r:#}");
        let env = std::fs::read_to_string(fleet.root(h).join(".env")).unwrap_or_default();
        assert!(
            !env.contains(KEY),
            "{h}: key still in .env after state=absent"
        );
    }
    assert!(flag(&run.hosts["broken-json"], "failed"));
    assert_eq!(snapshot(&fleet.root("broken-json")), broken);
}

/// What the module says at its edges. `state: absent` on a root setup never touched is "not
/// configured" (it said "already configured"); a value the binary refuses fails the task with
/// the binary's own message (not a wrapper around an empty report); a value that starts with
/// `-` is passed as a value, never read as another option.
#[test]
fn the_module_passes_the_binarys_word_through() {
    let Some(bin) = ansible_bin() else {
        assert!(
            !in_ci(),
            "CI=true but ansible-core is not installed: scripts/test.sh must call scripts/ansible-env.sh"
        );
        eprintln!("SKIPPED the_module_passes_the_binarys_word_through: run scripts/ansible-env.sh");
        return;
    };
    let mut fleet = Fleet::new(bin);
    assert_eq!(fleet.play("install.yml", &[]).code, 0);
    let before = fleet.roots();
    let run = fleet.play("edges.yml", &[]);
    let result = |task: &str, host: &str| -> Value {
        run.tasks
            .iter()
            .find(|t| t["task"] == task && t["host"] == host)
            .unwrap_or_else(|| panic!("no {task} for {host}: {:#?}", run.tasks))
            .clone()
    };
    let r = result("Uninstall where setup never ran", "onboarded");
    assert_eq!(r["event"], "ok", "{r:#}");
    assert_eq!(r["result"]["status"], "not-configured", "{r:#}");
    assert_eq!(r["result"]["msg"], "not configured", "{r:#}");
    assert_eq!(r["result"]["changed"], false, "{r:#}");
    let r = result("Uninstall where setup never ran", "configured");
    assert_eq!(r["result"]["changed"], true, "{r:#}");
    for h in GOOD {
        let r = result("A value the binary refuses", h);
        assert_eq!(r["event"], "failed", "{h}: {r:#}");
        let msg = r["result"]["msg"].as_str().unwrap_or_default();
        assert!(
            msg.starts_with("invalid value '0' for '--timeout")
                && !msg.contains("For more information"),
            "{h}: {msg}"
        );
        let r = result("A value that looks like an option", h);
        assert_eq!(r["event"], "failed", "{h}: {r:#}");
        let msg = r["result"]["msg"].as_str().unwrap_or_default();
        assert!(
            msg.contains("'--yes' for '--agent") && !msg.contains("a value is required"),
            "{h}: {msg}"
        );
    }
    let mut after = fleet.roots();
    // Only the configured host had something to uninstall.
    after.remove("configured");
    let mut want = before;
    want.remove("configured");
    assert_eq!(after, want, "a refused task wrote something");
}

/// The report's `before`/`after` (what Ansible's diff mode renders) and its unified `diff`
/// must show the same redacted lines, over every fixture: each `-` line of the diff is a line
/// of `before`, each `+` line a line of `after`, and the key is in none of them. A field
/// redacted differently from the diff (or not at all) fails here.
#[test]
fn report_before_after_agree_with_the_diff() {
    let mut checked = 0;
    for case in cases() {
        let (tmp, root) = root_from(&case);
        let out = cmd(tmp.path())
            .args(["--offline", "--dry-run", "--json", KEY])
            .arg(&root)
            .output()
            .unwrap();
        let raw = text(&out.stdout);
        assert!(!raw.contains(KEY), "{case}: key in the report");
        let v: Value = serde_json::from_str(&raw).unwrap();
        for f in v["files"].as_array().unwrap() {
            if !f["changed"].as_bool().unwrap() {
                assert!(
                    f["before"].is_null() && f["after"].is_null(),
                    "{case}: {f:#}"
                );
                continue;
            }
            let lines = |side: &str| -> Vec<String> {
                f[side]
                    .as_str()
                    .unwrap_or("")
                    .lines()
                    .map(str::to_owned)
                    .collect()
            };
            let (before, after) = (lines("before"), lines("after"));
            let diff = f["diff"].as_str().unwrap();
            for l in diff.lines() {
                if l.starts_with("+++") || l.starts_with("---") {
                    continue;
                }
                if let Some(x) = l.strip_prefix('+') {
                    assert!(
                        after.iter().any(|a| a == x),
                        "{case} {}: +{x} not in after",
                        f["path"]
                    );
                } else if let Some(x) = l.strip_prefix('-') {
                    assert!(
                        before.iter().any(|b| b == x),
                        "{case} {}: -{x} not in before",
                        f["path"]
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "too few changed files compared: {checked}");
}

/// The module with `become` (su to root, as a fleet's playbook would) on roots `nobody` owns:
/// the binary acts as the owner (the result's `run_as`, files the owner's), and a `.env`
/// linking to a root-owned stand-in file fails the task with that file untouched.
#[test]
fn become_root_on_a_users_root_acts_as_its_owner() {
    let Some(bin) = ansible_bin() else {
        assert!(
            !in_ci(),
            "CI=true but ansible-core is not installed: scripts/test.sh must call scripts/ansible-env.sh"
        );
        eprintln!("SKIPPED become_root_on_a_users_root…: run scripts/ansible-env.sh");
        return;
    };
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        assert!(!in_ci(), "CI runs the suite as root; this test needs it");
        eprintln!("SKIPPED become_root_on_a_users_root…: needs root to chown");
        return;
    }
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    const NOBODY: u32 = 65534;
    let tmp = tempfile::tempdir().unwrap();
    let t = std::fs::canonicalize(tmp.path()).unwrap();
    std::fs::set_permissions(&t, std::fs::Permissions::from_mode(0o755)).unwrap();
    let system = t.join("system.env");
    std::fs::write(&system, "SYSTEM=1\n").unwrap();
    std::fs::set_permissions(&system, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut inv = String::from("openclaw:\n  hosts:\n");
    for h in ["plain", "linked"] {
        let root = t.join(h);
        copy_tree(&fixtures().join("onboarded/input"), &root);
        if h == "linked" {
            std::fs::remove_file(root.join(".env")).unwrap();
            std::os::unix::fs::symlink(&system, root.join(".env")).unwrap();
        }
        for (rel, _) in snapshot(&root) {
            std::os::unix::fs::lchown(root.join(rel), Some(NOBODY), Some(NOBODY)).unwrap();
        }
        std::os::unix::fs::chown(&root, Some(NOBODY), Some(NOBODY)).unwrap();
        inv += &format!("    {h}:\n      gr_root: {}\n", root.display());
    }
    inv += &format!(
        "  vars:\n    ansible_connection: local\n    ansible_python_interpreter: \"{{{{ ansible_playbook_python }}}}\"\n    gr_binary: {}\n",
        env!("CARGO_BIN_EXE_gaterouter-setup")
    );
    std::fs::write(t.join("inventory.yml"), inv).unwrap();
    std::fs::write(t.join("key.yml"), format!("gr_api_key: {KEY}\n")).unwrap();
    let run = play(&bin, &t, &t.join("inventory.yml"), "privileged.yml", &[], 1);
    let r = &run.hosts["plain"];
    assert!(!flag(r, "failed") && flag(r, "changed"), "plain: {r:#}");
    assert_eq!(r["run_as"]["uid"], NOBODY, "plain: {r:#}");
    assert_eq!(r["run_as"]["user"], "nobody", "plain: {r:#}");
    for (rel, _) in snapshot(&t.join("plain")) {
        let m = std::fs::symlink_metadata(t.join("plain").join(&rel)).unwrap();
        assert_eq!(m.uid(), NOBODY, "plain: {rel} is not the owner's");
    }
    let r = &run.hosts["linked"];
    assert!(flag(r, "failed"), "linked: {r:#}");
    let msg = r["msg"].as_str().unwrap_or_default();
    assert!(
        msg.contains("not writable by uid 65534 (nobody)"),
        "linked: {msg}"
    );
    assert_eq!(std::fs::read_to_string(&system).unwrap(), "SYSTEM=1\n");
    assert_eq!(
        std::fs::metadata(&system).unwrap().permissions().mode() & 0o777,
        0o644
    );
}
