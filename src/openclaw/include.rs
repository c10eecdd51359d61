//! `$include` as OpenClaw resolves it when it loads a config (its `src/config/includes.ts`,
//! checked in 2026.9.6): anywhere in the tree an object with `$include` (a path, or a list
//! of paths merged left to right) is replaced by the included file's contents, themselves
//! resolved; keys beside `$include` are merged over them. Merging is deep: objects key by
//! key, arrays concatenated, any other value replaced. A path is relative to the file that
//! names it and must stay inside the main config's directory (also after symlinks); files are
//! regular, at most 2 MB, with one link; at most 10 levels; a cycle is an error. Any failure
//! makes OpenClaw refuse the whole config, and so it is an error here too.
//!
//! Setup never expands includes (it edits openclaw.json as written), but refuses a config
//! OpenClaw would refuse for them ([`check`], at discovery; doctor reports the same); verify
//! reads the config as OpenClaw will ([`load`]), and the plan's warnings read an included
//! file with [`read`].

use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};

pub const KEY: &str = "$include";
/// OpenClaw's `MAX_INCLUDE_FILE_BYTES`.
pub const MAX_BYTES: u64 = 2_097_152;
const MAX_DEPTH: usize = 10;
const MAX_PATH: usize = 4096;

/// Why OpenClaw refuses to load a config because of its includes: a value discovery keeps
/// (the check reads files, planning does not), turned into the run's error by setup and into
/// a finding by doctor. `path` is the file whose include fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub path: PathBuf,
    pub what: String,
}

impl From<Refused> for Error {
    fn from(r: Refused) -> Error {
        Error::Unreadable {
            path: r.path,
            what: format!(
                "{}; OpenClaw does not load such a config, so it was not set up",
                r.what
            ),
        }
    }
}

/// The config OpenClaw loads from `text` (the file at `config_path`): parsed with its reader
/// and every `$include` resolved by its rules. The one reading setup, doctor and verify share.
pub fn load(config_path: &Path, text: &str) -> Result<Value> {
    let v = parse(config_path, text)?;
    if !crate::format::json5::may_hold(text, KEY) {
        return Ok(v);
    }
    resolve(config_path, v)
}

/// Whether OpenClaw can resolve the includes of `text`; a config that does not parse is not
/// this check's to report (the planners report it with its position).
pub fn check(config_path: &Path, text: &str) -> std::result::Result<(), Refused> {
    if !crate::format::json5::may_hold(text, KEY) {
        return Ok(());
    }
    let Ok(v) = parse(config_path, text) else {
        return Ok(());
    };
    resolve(config_path, v).map(|_| ()).map_err(|e| match e {
        Error::Unreadable { path, what } => Refused { path, what },
        Error::Parse {
            path,
            line,
            column,
            message,
        } => Refused {
            path,
            what: format!("line {line}, column {column}: not valid JSON5: {message}"),
        },
        other => Refused {
            path: config_path.to_path_buf(),
            what: other.to_string(),
        },
    })
}

/// `config` (parsed from `config_path`) with every `$include` resolved.
pub fn resolve(config_path: &Path, config: Value) -> Result<Value> {
    let main = absolute_normal(config_path);
    let root = main.parent().map(Path::to_path_buf).unwrap_or_default();
    let real_root = std::fs::canonicalize(&root).unwrap_or_else(|_| root.clone());
    let mut r = Resolver {
        root,
        real_root,
        chain: vec![main],
    };
    r.process(config)
}

/// One included file, read as OpenClaw reads it (bounded, regular, one link) and parsed as
/// JSON5; `included_by` names the file that includes it, for messages.
pub fn read(path: &Path, included_by: &Path) -> Result<Value> {
    let fail = |what: String| Error::Unreadable {
        path: path.to_path_buf(),
        what: format!(
            "(included by {}) {what}; OpenClaw refuses to load a config whose include it cannot read",
            included_by.display()
        ),
    };
    use crate::sys::fsx::ReadError;
    let read = crate::sys::fsx::read_regular(path, MAX_BYTES).map_err(|e| {
        fail(match e {
            ReadError::NotRegular { what } => format!("is {what}, not a regular file"),
            ReadError::TooLarge { .. } => {
                format!("is larger than OpenClaw's limit for an included file ({MAX_BYTES} bytes)")
            }
            ReadError::Io(e) => e.to_string(),
        })
    })?;
    let Some((bytes, meta)) = read else {
        return Err(fail("does not exist".into()));
    };
    if std::os::unix::fs::MetadataExt::nlink(&meta) > 1 {
        return Err(fail(
            "has more than one hard link, which OpenClaw's include check refuses".into(),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| fail("is not UTF-8 text".into()))?;
    parse(path, &text)
}

/// `text` (the file at `path`) read with OpenClaw's JSON5 reader.
fn parse(path: &Path, text: &str) -> Result<Value> {
    crate::format::json5::parse(text)
        .map(|v| v.to_serde())
        .map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            line: e.line,
            column: e.column,
            message: e.reason(),
        })
}

struct Resolver {
    root: PathBuf,
    real_root: PathBuf,
    /// The files that led here: the main config first, the file being resolved last (its
    /// length is the nesting depth, plus one).
    chain: Vec<PathBuf>,
}

impl Resolver {
    fn file(&self) -> &Path {
        self.chain
            .last()
            .expect("the chain starts with the main config")
    }

    /// `v`, found in the last file of the chain, with its includes resolved.
    fn process(&mut self, v: Value) -> Result<Value> {
        match v {
            Value::Array(a) => a
                .into_iter()
                .map(|x| self.process(x))
                .collect::<Result<Vec<_>>>()
                .map(Value::Array),
            Value::Object(mut o) => {
                let include = o.shift_remove(KEY);
                let mut rest = Map::new();
                for (k, x) in o {
                    rest.insert(k, self.process(x)?);
                }
                let Some(include) = include else {
                    return Ok(Value::Object(rest));
                };
                let included = self.include(&include)?;
                if rest.is_empty() {
                    return Ok(included);
                }
                if !included.is_object() {
                    return Err(self.error(
                        "has keys beside `$include` but the included content is not an object, which OpenClaw refuses".into(),
                    ));
                }
                Ok(merge(included, Value::Object(rest)))
            }
            other => Ok(other),
        }
    }

    fn include(&mut self, include: &Value) -> Result<Value> {
        match include {
            Value::String(p) => self.load(p),
            Value::Array(items) => {
                let mut acc = Value::Object(Map::new());
                for item in items {
                    let Value::String(p) = item else {
                        return Err(self.error(format!(
                            "has a `$include` list item {item} that is not a path (a string)"
                        )));
                    };
                    acc = merge(acc, self.load(p)?);
                }
                Ok(acc)
            }
            other => Err(self.error(format!(
                "has `$include: {other}`; OpenClaw accepts a path or a list of paths"
            ))),
        }
    }

    fn load(&mut self, p: &str) -> Result<Value> {
        if p.contains('\0') || p.len() >= MAX_PATH {
            return Err(self.error(format!("includes {p:?}, which is not a usable path")));
        }
        let dir = self.file().parent().unwrap_or(&self.root);
        let target = absolute_normal(&dir.join(p));
        if !target.starts_with(&self.root) {
            return Err(self.error(format!(
                "includes {p}, outside the config's directory {}; OpenClaw refuses that",
                self.root.display()
            )));
        }
        if let Ok(real) = std::fs::canonicalize(&target)
            && !real.starts_with(&self.real_root)
        {
            return Err(self.error(format!(
                "includes {p}, a symlink to {} outside the config's directory; OpenClaw refuses that",
                real.display()
            )));
        }
        if self.chain.contains(&target) {
            return Err(self.error(format!(
                "includes {p} again (a cycle), which OpenClaw refuses"
            )));
        }
        if self.chain.len() > MAX_DEPTH {
            return Err(self.error(format!(
                "includes {p} beyond OpenClaw's limit of {MAX_DEPTH} nested includes"
            )));
        }
        let parsed = read(&target, self.file())?;
        self.chain.push(target);
        let out = self.process(parsed);
        self.chain.pop();
        out
    }

    /// An error about the file being resolved, naming the main config when it is another.
    fn error(&self, what: String) -> Error {
        let (main, file) = (&self.chain[0], self.file());
        let via = if file == main {
            String::new()
        } else {
            format!(" (included by {})", main.display())
        };
        Error::Unreadable {
            path: file.to_path_buf(),
            what: format!("{via} {what}").trim_start().to_owned(),
        }
    }
}

/// OpenClaw's `deepMerge`: objects key by key, arrays concatenated, otherwise `over` wins.
pub fn merge(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Object(mut b), Value::Object(o)) => {
            for (k, v) in o {
                let merged = match b.shift_remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                b.insert(k, merged);
            }
            Value::Object(b)
        }
        (Value::Array(mut b), Value::Array(o)) => {
            b.extend(o);
            Value::Array(b)
        }
        (_, o) => o,
    }
}

/// An absolute path with `.` and `..` resolved lexically, as Node's `path.resolve`.
fn absolute_normal(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(dir: &Path, name: &str, v: &str) {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, v).unwrap();
    }

    #[test]
    fn includes_merge_as_openclaw_merges_them() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        write(
            d,
            "a.json5",
            "{models: {providers: {x: {baseUrl: 'a'}}}, list: [1]}",
        );
        write(
            d,
            "b.json",
            r#"{"models": {"providers": {"x": {"api": "b"}}}, "list": [2]}"#,
        );
        write(d, "sub/c.json", r#"{"$include": "../a.json5", "n": 1}"#);
        write(
            d,
            "agents.json",
            r#"{"defaults": {"model": "gaterouter/auto"}}"#,
        );
        let main = d.join("openclaw.json");
        let c = json!({
            "$include": ["sub/c.json", "b.json"],
            "list": [3],
            "agents": {"$include": "./agents.json", "defaults": {"x": true}}
        });
        let v = resolve(&main, c).unwrap();
        assert_eq!(
            v,
            json!({
                "models": {"providers": {"x": {"baseUrl": "a", "api": "b"}}},
                "list": [1, 2, 3],
                "n": 1,
                "agents": {"defaults": {"model": "gaterouter/auto", "x": true}}
            })
        );
    }

    #[test]
    fn what_openclaw_refuses_is_an_error_naming_the_file() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("root");
        write(&d, "loop.json", r#"{"$include": "loop2.json"}"#);
        write(&d, "loop2.json", r#"{"$include": "loop.json"}"#);
        write(t.path(), "outside.json", "{}");
        write(&d, "num.json", "3");
        let main = d.join("openclaw.json");
        for (inc, needle) in [
            (json!("missing.json"), "does not exist"),
            (json!("../outside.json"), "outside the config's directory"),
            (json!("loop.json"), "cycle"),
            (json!(7), "a path or a list of paths"),
            (json!(["num.json", 1]), "not a path"),
        ] {
            let e = resolve(&main, json!({"$include": inc, "k": 1}))
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{inc}: {e}");
        }
        let e = resolve(&main, json!({"$include": "num.json", "k": 1}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an object"), "{e}");
        std::os::unix::fs::symlink(t.path().join("outside.json"), d.join("link.json")).unwrap();
        let e = resolve(&main, json!({"$include": "link.json"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("symlink"), "{e}");
    }

    #[test]
    fn ten_levels_are_followed_and_the_eleventh_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        for i in 0..11 {
            write(
                d,
                &format!("{i}.json"),
                &format!(r#"{{"$include": "{}.json", "l{i}": 1}}"#, i + 1),
            );
        }
        write(d, "11.json", r#"{"end": true}"#);
        let main = d.join("openclaw.json");
        // From 1.json: 1 → … → 11 is ten nested includes below the first.
        assert!(resolve(&main, json!({"$include": "2.json"})).is_ok());
        let e = resolve(&main, json!({"$include": "0.json"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("limit of 10"), "{e}");
    }

    #[test]
    fn an_include_spelled_with_an_escape_is_still_an_include() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        write(d, "a.json", r#"{"from": "a"}"#);
        let main = d.join("openclaw.json");
        let text = r#"{"\u0024include": "a.json", "k": 1}"#;
        assert_eq!(load(&main, text).unwrap(), json!({"from": "a", "k": 1}));
        let missing = r#"{"\u0024include": "missing.json"}"#;
        assert!(check(&main, missing).is_err());
        assert!(load(&main, missing).is_err());
    }
}
