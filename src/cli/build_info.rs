//! What `--version` prints: the crate's version and, in a shipped binary, the commit it was
//! built from.
//!
//! The commit comes from the build's environment (`scripts/dist.sh` sets
//! `GATEROUTER_SETUP_COMMIT`), not from a build script that asks git: a plain `cargo build`
//! from a source tarball with no `.git` works as before, nothing is rebuilt after each
//! commit, and the README's first command does not compile a build script.

use std::sync::OnceLock;

/// The commit this binary was built from, when the build was told (`scripts/dist.sh` sets
/// the variable at build time; cargo rebuilds when it changes).
pub const COMMIT: Option<&str> = option_env!("GATEROUTER_SETUP_COMMIT");

/// `0.1.0 (commit 0123456789ab)`, or `0.1.0` for a build that was given no commit.
pub fn long() -> &'static str {
    static LONG: OnceLock<String> = OnceLock::new();
    LONG.get_or_init(|| render(env!("CARGO_PKG_VERSION"), COMMIT))
}

fn render(version: &str, commit: Option<&str>) -> String {
    match commit.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => format!("{version} (commit {c})"),
        None => version.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_is_named_and_none_leaves_the_bare_version() {
        assert_eq!(render("0.1.0", Some("0123abcd")), "0.1.0 (commit 0123abcd)");
        assert_eq!(render("0.1.0", None), "0.1.0");
        assert_eq!(render("0.1.0", Some("")), "0.1.0");
    }
}
