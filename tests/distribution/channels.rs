//! What the distribution channels promise each other (docs/distribution.md): the crate
//! packages what a build needs and nothing of the repository's test material; cargo-binstall's
//! template, the Dockerfile and `scripts/dist.sh` name the same archives; `--version` is the
//! crate's. The archives themselves are built and run by scripts/dist.sh and
//! scripts/dist-check.sh (minutes of cross building: not in every test run).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const TRIPLES: [&str; 4] = [
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(repo());
    c
}

fn stdout(mut c: Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The files `cargo package` would put in the crate.
fn package_list() -> BTreeSet<String> {
    let mut c = cargo();
    c.args(["package", "--list", "--allow-dirty", "--offline", "--quiet"]);
    stdout(c).lines().map(str::to_owned).collect()
}

/// Every `include_str!`/`include_bytes!` path in src/, relative to the repository.
fn included_by_sources(dir: &Path, out: &mut BTreeSet<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            included_by_sources(&p, out);
            continue;
        }
        if p.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for mac in ["include_str!(\"", "include_bytes!(\""] {
            for (i, _) in text.match_indices(mac) {
                let rest = &text[i + mac.len()..];
                let rel = &rest[..rest.find('"').unwrap()];
                let full = p.parent().unwrap().join(rel);
                let norm = std::fs::canonicalize(&full)
                    .unwrap_or_else(|e| panic!("{}: {rel}: {e}", p.display()));
                let rel = norm
                    .strip_prefix(std::fs::canonicalize(repo()).unwrap())
                    .unwrap();
                out.insert(rel.to_string_lossy().into_owned());
            }
        }
    }
}

#[test]
fn the_crate_packages_what_a_build_needs_and_no_test_material() {
    let list = package_list();
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "src/main.rs",
        "src/lib.rs",
    ] {
        assert!(list.contains(needed), "{needed} not packaged: {list:#?}");
    }
    let mut included = BTreeSet::new();
    included_by_sources(&repo().join("src"), &mut included);
    assert!(!included.is_empty(), "src/ includes the templates");
    for f in &included {
        assert!(list.contains(f), "src/ includes {f}, which is not packaged");
    }
    // Every source file a module tree may name is there: all of src/ (no stray exclusion).
    let mut sources = BTreeSet::new();
    collect(&repo().join("src"), &mut sources);
    for f in &sources {
        assert!(list.contains(f), "{f} not packaged");
    }
    // Nothing else: not the tests, fixtures, benches, examples, docs, scripts, the Ansible
    // collection, the skill, npm or container files.
    let allowed = |f: &str| {
        sources.contains(f)
            || included.contains(f)
            || [
                "Cargo.toml",
                "Cargo.toml.orig",
                "Cargo.lock",
                "README.md",
                ".cargo_vcs_info.json",
            ]
            .contains(&f)
    };
    let extra: Vec<&String> = list.iter().filter(|f| !allowed(f)).collect();
    assert!(extra.is_empty(), "packaged but not needed: {extra:#?}");
}

fn collect(dir: &Path, out: &mut BTreeSet<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p.strip_prefix(repo()).unwrap();
            out.insert(rel.to_string_lossy().into_owned());
        }
    }
}

/// `scripts/dist.sh --list`: (archive file name, the binary's path inside it) per triple.
fn dist_names() -> Vec<(String, String, String)> {
    let mut c = Command::new("bash");
    c.arg(repo().join("scripts/dist.sh")).arg("--list");
    let text = stdout(c);
    let names: Vec<(String, String)> = text
        .lines()
        .map(|l| {
            let (a, b) = l.split_once('\t').unwrap();
            (a.to_owned(), b.to_owned())
        })
        .collect();
    assert_eq!(names.len(), TRIPLES.len(), "{text}");
    TRIPLES
        .iter()
        .zip(names)
        .map(|(t, (a, b))| (t.to_string(), a, b))
        .collect()
}

fn package_metadata() -> Value {
    let mut c = cargo();
    c.args([
        "metadata",
        "--no-deps",
        "--format-version",
        "1",
        "--offline",
    ]);
    let v: Value = serde_json::from_str(&stdout(c)).unwrap();
    v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "gaterouter-setup")
        .unwrap()
        .clone()
}

/// cargo-binstall's template language, as far as our templates use it: `{ key }`.
fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').expect("closed {") + i;
        let key = rest[i + 1..j].trim();
        let (_, v) = vars
            .iter()
            .find(|(k, _)| *k == key)
            .unwrap_or_else(|| panic!("binstall template key {key} is not one we set"));
        out.push_str(v);
        rest = &rest[j + 1..];
    }
    out + rest
}

#[test]
fn binstall_fetches_exactly_the_archives_dist_sh_writes() {
    let pkg = package_metadata();
    let version = pkg["version"].as_str().unwrap();
    let repo_url = pkg["repository"].as_str().unwrap();
    for field in ["repository", "homepage", "readme", "description", "license"] {
        assert!(pkg[field].is_string(), "Cargo.toml has no {field}");
    }
    assert!(!pkg["keywords"].as_array().unwrap().is_empty());
    assert!(!pkg["categories"].as_array().unwrap().is_empty());
    let bs = &pkg["metadata"]["binstall"];
    let pkg_url = bs["pkg-url"].as_str().expect("binstall pkg-url");
    let bin_dir = bs["bin-dir"].as_str().expect("binstall bin-dir");
    assert_eq!(bs["pkg-fmt"], "tgz");
    for (triple, archive, bin) in dist_names() {
        let vars = [
            ("repo", repo_url),
            ("name", "gaterouter-setup"),
            ("version", version),
            ("target", triple.as_str()),
            ("bin", "gaterouter-setup"),
            ("binary-ext", ""),
            ("archive-format", "tgz"),
        ];
        assert_eq!(
            render(pkg_url, &vars),
            format!("{repo_url}/releases/download/v{version}/{archive}"),
            "{triple}"
        );
        assert_eq!(render(bin_dir, &vars), bin, "{triple}");
    }
}

#[test]
fn the_dockerfile_adds_the_linux_archives_dist_sh_writes() {
    let docker = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    let version = package_metadata()["version"].as_str().unwrap().to_owned();
    assert!(
        docker
            .lines()
            .any(|l| l.trim() == format!("ARG VERSION={version}")),
        "the Dockerfile's default VERSION is not Cargo.toml's {version}"
    );
    for (triple, archive, bin) in dist_names() {
        if !triple.contains("linux") {
            continue;
        }
        let templated = archive.replace(&version, "${VERSION}");
        assert!(
            docker.contains(&format!("ADD target/distrib/{templated} /unpack/")),
            "the Dockerfile does not add {templated}"
        );
        // The binary it copies is the one in that archive's top folder.
        let inner = bin.replace(&version, "${VERSION}").replace(&triple, "*");
        assert!(
            docker.contains(&format!(
                "COPY --from=unpack /unpack/{inner} /usr/local/bin/gaterouter-setup"
            )),
            "the Dockerfile does not copy {inner}"
        );
    }
    let ignore = std::fs::read_to_string(repo().join(".dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "!target/distrib/*.tar.gz"));
}

#[test]
fn version_is_the_crates_and_names_the_commit_only_when_the_build_was_given_one() {
    let out = Command::new(assert_cmd::cargo::cargo_bin("gaterouter-setup"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let want = match option_env!("GATEROUTER_SETUP_COMMIT") {
        Some(c) if !c.trim().is_empty() => format!(
            "gaterouter-setup {} (commit {})\n",
            env!("CARGO_PKG_VERSION"),
            c.trim()
        ),
        _ => format!("gaterouter-setup {}\n", env!("CARGO_PKG_VERSION")),
    };
    assert_eq!(text, want);
}

#[test]
fn dist_sh_refuses_what_it_cannot_build_before_building_anything() {
    let run = |args: &[&str]| {
        let out = Command::new("bash")
            .arg(repo().join("scripts/dist.sh"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--target", "x86_64-pc-windows-msvc"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("is not a target we ship"), "{err}");
    for t in TRIPLES {
        assert!(err.contains(t), "the refusal lists {t}: {err}");
    }
    if cfg!(target_os = "linux") {
        // A Darwin link needs the macOS SDK: said at once, with where it is done instead.
        let (code, err) = run(&["--target", "aarch64-apple-darwin"]);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains("macOS SDK") && err.contains("scripts/check-darwin.sh"),
            "{err}"
        );
    }
    let (code, err) = run(&["--bogus"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("usage: scripts/dist.sh"), "{err}");
}
