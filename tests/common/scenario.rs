//! One run of the binary as a chain, in the style of the `just` crate's test builder:
//!
//! ```ignore
//! Scenario::case("onboarded")
//!     .args(["--offline", "--yes", KEY])
//!     .root_arg()
//!     .run()
//!     .code(1)
//!     .stderr_has("pass --yes")
//!     .unchanged();
//! ```
//!
//! The temp dir (HOME) and the root are shared between a scenario, its run and every
//! [`Run::then`], so a test can run setup, then rollback, on the same root without
//! threading `(tmp, root)` through. The assertions are `#[track_caller]`: a failure points
//! at the test's line, and a wrong exit code prints both streams.
//!
//! The temp dir is removed when the last scenario or run in it is dropped, so a path under it
//! (`s.root().join(..)`) is only good while one is held: run with `s.then()…` rather than
//! `s…` when the test reads files afterwards, or a check that a file is missing passes on
//! a deleted tree.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::rc::Rc;

use super::{Entry, KEY, assert_no_key, cmd, root_from, snapshot, text};

/// Where runs happen: a temp dir (the child's HOME) and a root inside it.
struct Place {
    tmp: tempfile::TempDir,
    root: PathBuf,
}

/// A command being built, in a [`Place`] it shares with the runs before and after it.
#[must_use = "a scenario runs nothing until .run()"]
pub struct Scenario {
    place: Rc<Place>,
    args: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
    stdin: Option<Vec<u8>>,
    dir: Option<PathBuf>,
    label: String,
}

/// What one run left: its output and the root before and after it.
pub struct Run {
    scenario: Scenario,
    out: Output,
    before: Option<BTreeMap<String, Entry>>,
    after: Option<BTreeMap<String, Entry>>,
}

impl Scenario {
    /// A copy of `fixtures/roots/<case>/input` as the root.
    pub fn case(case: &str) -> Self {
        let (tmp, root) = root_from(case);
        Self::at(Place { tmp, root })
    }

    /// A temp dir with no root in it yet (`root()` names `<tmp>/root`, which does not exist).
    pub fn empty() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        Self::at(Place { tmp, root })
    }

    fn at(place: Place) -> Self {
        Self::sharing(Rc::new(place))
    }

    fn sharing(place: Rc<Place>) -> Self {
        Scenario {
            place,
            args: Vec::new(),
            envs: Vec::new(),
            stdin: None,
            dir: None,
            label: String::new(),
        }
    }

    /// Another command in the same temp dir and root, with the same label.
    pub fn then(&self) -> Scenario {
        let next = Self::sharing(Rc::clone(&self.place));
        Scenario {
            label: self.label.clone(),
            ..next
        }
    }

    pub fn root(&self) -> &Path {
        &self.place.root
    }

    /// The temp dir, which is also the child's HOME.
    pub fn tmp(&self) -> &Path {
        self.place.tmp.path()
    }

    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Self {
        self.args.push(a.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// The root's path as the next argument.
    pub fn root_arg(self) -> Self {
        let root = self.place.root.clone();
        self.arg(root)
    }

    pub fn env(mut self, k: impl AsRef<OsStr>, v: impl AsRef<OsStr>) -> Self {
        let v = Some(v.as_ref().to_owned());
        self.envs.push((k.as_ref().to_owned(), v));
        self
    }

    /// Takes out a variable [`cmd`] sets (NO_COLOR, to see colour).
    pub fn env_remove(mut self, k: impl AsRef<OsStr>) -> Self {
        self.envs.push((k.as_ref().to_owned(), None));
        self
    }

    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Named in every failure message (the case or input of a loop), and kept by [`then`](Self::then).
    pub fn label(mut self, label: impl std::fmt::Display) -> Self {
        self.label = format!("{label}: ");
        self
    }

    /// Runs the binary (through [`cmd`]: a clean environment, HOME the temp dir).
    pub fn run(self) -> Run {
        let before = self.snapshot();
        let mut c = cmd(self.tmp());
        for (k, v) in &self.envs {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        if let Some(dir) = &self.dir {
            c.current_dir(dir);
        }
        if let Some(input) = &self.stdin {
            c.write_stdin(input.clone());
        }
        let out = c.args(&self.args).output().unwrap();
        let after = self.snapshot();
        Run {
            scenario: self,
            out,
            before,
            after,
        }
    }

    /// The root's tree, or None while there is no root.
    fn snapshot(&self) -> Option<BTreeMap<String, Entry>> {
        self.root().is_dir().then(|| snapshot(self.root()))
    }
}

impl Run {
    pub fn root(&self) -> &Path {
        self.scenario.root()
    }

    pub fn tmp(&self) -> &Path {
        self.scenario.tmp()
    }

    /// Another command in the same temp dir and root, with the same label.
    pub fn then(&self) -> Scenario {
        self.scenario.then()
    }

    pub fn output(&self) -> &Output {
        &self.out
    }

    pub fn stdout(&self) -> String {
        text(&self.out.stdout)
    }

    pub fn stderr(&self) -> String {
        text(&self.out.stderr)
    }

    /// The command line and both streams, for a failure message.
    fn shown(&self) -> String {
        let args: Vec<_> = self
            .scenario
            .args
            .iter()
            .map(|a| a.to_string_lossy())
            .collect();
        format!(
            "{}`{}`\n--- stderr\n{}\n--- stdout\n{}",
            self.scenario.label,
            args.join(" "),
            self.stderr(),
            self.stdout()
        )
    }

    #[track_caller]
    pub fn code(self, want: i32) -> Self {
        let got = self.out.status.code();
        assert_eq!(got, Some(want), "exit code of {}", self.shown());
        self
    }

    /// Any exit but `code` (a signal too).
    #[track_caller]
    pub fn code_not(self, code: i32) -> Self {
        let got = self.out.status.code();
        assert_ne!(got, Some(code), "exit code of {}", self.shown());
        self
    }

    #[track_caller]
    pub fn stdout_has(self, want: &str) -> Self {
        let has = self.stdout().contains(want);
        assert!(has, "stdout lacks {want:?}: {}", self.shown());
        self
    }

    #[track_caller]
    pub fn stderr_has(self, want: &str) -> Self {
        let has = self.stderr().contains(want);
        assert!(has, "stderr lacks {want:?}: {}", self.shown());
        self
    }

    #[track_caller]
    pub fn stdout_lacks(self, unwanted: &str) -> Self {
        let has = self.stdout().contains(unwanted);
        assert!(!has, "stdout has {unwanted:?}: {}", self.shown());
        self
    }

    #[track_caller]
    pub fn stderr_lacks(self, unwanted: &str) -> Self {
        let has = self.stderr().contains(unwanted);
        assert!(!has, "stderr has {unwanted:?}: {}", self.shown());
        self
    }

    #[track_caller]
    pub fn stdout_empty(self) -> Self {
        assert!(self.out.stdout.is_empty(), "stdout: {}", self.shown());
        self
    }

    #[track_caller]
    pub fn stderr_empty(self) -> Self {
        assert!(self.out.stderr.is_empty(), "stderr: {}", self.shown());
        self
    }

    /// [`KEY`] appears in neither stream.
    #[track_caller]
    pub fn no_key(self) -> Self {
        self.no_key_of(KEY)
    }

    #[track_caller]
    pub fn no_key_of(self, key: &str) -> Self {
        assert_no_key(&self.out, key);
        self
    }

    /// stdout as the one JSON document it must be.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        match serde_json::from_slice(&self.out.stdout) {
            Ok(v) => v,
            Err(e) => panic!("stdout is not one JSON document ({e}): {}", self.shown()),
        }
    }

    /// The run left the root as it found it (bytes, modes, links; nothing added).
    #[track_caller]
    pub fn unchanged(self) -> Self {
        let label = &self.scenario.label;
        assert_eq!(self.after, self.before, "{label}the run changed the root");
        self
    }

    /// The run wrote something under the root.
    #[track_caller]
    pub fn changed(self) -> Self {
        let label = &self.scenario.label;
        assert_ne!(self.after, self.before, "{label}the run changed nothing");
        self
    }
}
