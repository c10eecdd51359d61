//! Planning: pure functions from what discovery read ([`crate::openclaw::root::Root`]: bytes, modes,
//! included files' notes) and the settings to new bytes, one per file. No I/O happens here:
//! reading is [`crate::openclaw::root::discover`]'s, and whether the files can be written is checked
//! by [`crate::txn::apply::check_writable`]. An empty plan means the root is already configured.

pub mod env_file;
pub mod gate;
pub mod migrate;
pub mod models_json;
pub mod openclaw_json;
mod provider;

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::format::json_edit::{Before, Reading};
use crate::format::json5;
use crate::gaterouter::key::ApiKey;
use crate::gaterouter::templates::Settings;
use crate::openclaw::credentials::Outside;
use crate::openclaw::files::{MANAGED, ManagedFile, Syntax};
use crate::openclaw::root::{FileState, Root};

pub use crate::openclaw::files::{FileChange, FileKind, NEW_FILE_MODE};

/// Where the key written to `.env` comes from.
#[derive(Debug, Clone)]
pub enum KeyChoice {
    Set(ApiKey),
    /// No key given: keep the one `.env` already has (an error if it has none).
    KeepExisting,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub root: PathBuf,
    /// Every file considered, changed or not, in a stable order: .env, openclaw.json, models.
    pub files: Vec<FileChange>,
    pub warnings: Vec<String>,
    /// Values to redact wherever the plan is shown: the new key and any key it replaces.
    pub secrets: Vec<String>,
    /// Recorded in the backup manifest: `previous_model`, for uninstall.
    pub meta: serde_json::Map<String, serde_json::Value>,
    /// OpenClaw would take the config write back and we cannot stop it (filled in by
    /// [`Plan::check_openclaw_health`]; apply refuses it unless forced).
    pub openclaw_undo: Option<crate::openclaw::health::Undo>,
}

impl Plan {
    pub fn pending(&self) -> impl Iterator<Item = &FileChange> {
        self.files.iter().filter(|f| f.changed())
    }

    pub fn is_empty(&self) -> bool {
        self.pending().next().is_none()
    }

    /// Looks at the root as OpenClaw's next load will (`health::would_undo`) and says in
    /// the plan's warnings when it would take our config write back.
    pub fn check_openclaw_health(&mut self) {
        self.openclaw_undo = crate::openclaw::health::would_undo(&self.root, &self.files);
        if let Some(u) = &self.openclaw_undo {
            self.warnings.push(format!(
                "{}; applying refuses this unless --force",
                u.message()
            ));
        }
    }

    /// The refusal that goes with [`Plan::check_openclaw_health`]'s warning.
    pub fn refuse_openclaw_undo(&self) -> Result<()> {
        match &self.openclaw_undo {
            Some(u) => Err(Error::OpenClawWouldUndo {
                config: u.config.clone(),
                message: u.message(),
            }),
            None => Ok(()),
        }
    }
}

/// A file's change as planned, with what its planner set in it (for the last gate).
type Staged = (FileChange, Vec<gate::Intent>);

fn change(kind: FileKind, f: &FileState, after: gate::Edit, mode_after: u32) -> Staged {
    // A rendered text has room to spare for what an edit inserts; a plan is held until the
    // writes (every root's, with many roots), so it keeps only the bytes.
    let mut text = after.text;
    text.shrink_to_fit();
    let c = FileChange {
        kind,
        path: f.path.clone(),
        target: f.target.clone(),
        rel: f.rel.clone(),
        before: f.bytes.clone(),
        after: Some(text.into_bytes()),
        mode_before: f.mode,
        mode_after,
        symlink: f.symlink,
        words: Default::default(),
    };
    (c, after.intents)
}

/// The key setup will use: the one given, or the one `.env` already has.
pub fn effective_key(root: &Root, key: &KeyChoice) -> Result<ApiKey> {
    Ok(key_and_existing(root, key)?.0)
}

/// The key setup will use, and the value `.env` holds now (to redact it, and to keep it).
fn key_and_existing(root: &Root, key: &KeyChoice) -> Result<(ApiKey, Option<String>)> {
    let existing = match root.env.text()? {
        Some(t) => env_file::current_key(&root.env.path, t)?,
        None => None,
    };
    let key = match key {
        KeyChoice::Set(k) => k.clone(),
        KeyChoice::KeepExisting => {
            let Some(old) = &existing else {
                return Err(Error::NoKey {
                    env_path: root.env.path.clone(),
                });
            };
            ApiKey::parse(old).map_err(|e| Error::EnvSyntax {
                path: root.env.path.clone(),
                line: 0,
                message: format!("the GATEROUTER_API_KEY already there is not usable: {e}"),
            })?
        }
    };
    Ok((key, existing))
}

/// Plans every file of `root`. Fails on the first file that cannot be planned, naming it;
/// nothing has been written at that point, so a failure loses nothing.
pub fn plan(root: &Root, key: &KeyChoice, settings: &Settings) -> Result<Plan> {
    // Wiring a config OpenClaw will not load would report success for nothing.
    if let Some(r) = &root.include_refused {
        return Err(r.clone().into());
    }
    // A .env over OpenClaw's limit is refused here (`env_file::current_key`).
    let (key, existing) = key_and_existing(root, key)?;
    let jobs = managed(root);
    let weight = |&(_, f): &(FileKind, &FileState)| f.bytes.as_ref().map_or(0, Vec::len) + 4096;
    // Each JSON file is read once, side by side, for migration and for its planner.
    let readings = crate::sys::par::map(&jobs, weight, |&(k, f)| read(k, f));
    let foreign = Foreign::of(&jobs, &readings, settings);
    let mut secrets = vec![key.expose().to_owned()];
    secrets.extend(existing.filter(|o| o != key.expose()));
    secrets.extend(foreign.secrets.iter().cloned());
    let mut warnings = Vec::new();
    let modes: Vec<u32> = jobs
        .iter()
        .map(|&(k, f)| mode_after(k, f, &mut warnings))
        .collect();
    let inputs = Inputs {
        settings,
        key: &key,
        outside: Outside {
            root_env: root.env.text()?,
            ambient: &root.ambient,
        },
        version: root.openclaw.as_ref().map(|a| a.version),
        foreign: &foreign.ids,
    };
    // Every file is planned on its own, side by side (a large installation has one big
    // config and dozens of agents); the first error in plan order is reported, whatever
    // thread found it.
    // A planner takes its file's reading (each is given to one planner only).
    let jobs_read: Vec<_> = (jobs.iter().zip(readings))
        .map(|(&(k, f), r)| (k, f, std::sync::Mutex::new(r)))
        .collect();
    let results = crate::sys::par::map(
        &jobs_read,
        |&(k, f, _)| weight(&(k, f)),
        |(k, f, r)| plan_file(&inputs, *k, f, r.lock().ok().and_then(|mut r| r.take())),
    );
    let (mut files, mut migrated) = (Vec::new(), Vec::new());
    let mut record = openclaw_json::Record::default();
    for ((&(kind, f), planned), mode) in jobs.iter().zip(results).zip(modes) {
        let p = planned?;
        migrated.extend(p.migrated.map(|m| (f.path.clone(), m)));
        record = p.record.unwrap_or(record);
        files.push(change(kind, f, p.after, mode));
    }
    warnings.extend(foreign.note(&migrated));
    warnings.extend(root.notes.iter().cloned());
    warnings.append(&mut record.notes);

    let refs = settings.refs();
    let ours = |r: &str| crate::gaterouter::templates::is_our_ref(r) || refs.iter().any(|x| x == r);
    let files = gate_all(files, &ours, &migrated)?;
    warnings.extend(root.includes.iter().cloned());
    for ((_, f), c) in jobs.iter().zip(&files) {
        if c.changed() && f.links > 1 {
            warnings.push(format!(
                "{} has {} hard links; it is replaced by a new file (atomically), so its other names keep the old contents",
                f.path.display(),
                f.links
            ));
        }
    }
    Ok(Plan {
        root: root.dir.clone(),
        files,
        warnings,
        secrets,
        meta: meta(record),
        openclaw_undo: None,
    })
}

/// The files of `root` of each kind, in plan order (the table's).
fn managed(root: &Root) -> Vec<(FileKind, &FileState)> {
    let of = |kind| match kind {
        FileKind::Env => std::slice::from_ref(&root.env),
        FileKind::Config => std::slice::from_ref(&root.config),
        FileKind::Models => &root.models[..],
    };
    let each = |m: &'static ManagedFile| of(m.kind).iter().map(|f| (m.kind, f));
    MANAGED.iter().flat_map(each).collect()
}

/// The mode a planned file gets: its own, or a new file's. A private one (it holds the key)
/// that others may read is tightened, and the plan says so.
fn mode_after(kind: FileKind, f: &FileState, warnings: &mut Vec<String>) -> u32 {
    let spec = kind.spec();
    match f.mode {
        Some(m) if spec.private && m & 0o077 != 0 => {
            warnings.push(format!(
                "{} was readable by other users (mode {m:o}); it would be made {:04o}",
                f.path.display(),
                spec.mode
            ));
            spec.mode
        }
        Some(m) => m,
        None => spec.mode,
    }
}

/// What every planner reads besides its own file.
struct Inputs<'a> {
    settings: &'a Settings,
    key: &'a ApiKey,
    /// Where else a fallback provider's key may be: `.env` as it is now, and what OpenClaw
    /// inherits from outside the root.
    outside: Outside<'a>,
    version: Option<crate::openclaw::version::Version>,
    /// Providers to migrate to ours (see [`Foreign`]).
    foreign: &'a [String],
}

/// One file planned: its new text (with what its planner set), the migration it went
/// through, and (the config) what its planner recorded.
struct Planned {
    after: gate::Edit,
    migrated: Option<migrate::Migrated>,
    record: Option<openclaw_json::Record>,
}

/// Plans one file: the JSON ones from their text with the foreign providers migrated to
/// ours (when that changes it), by their kind's planner.
fn plan_file(i: &Inputs, kind: FileKind, f: &FileState, read: Option<Reading>) -> Result<Planned> {
    let migrated = match f.text()? {
        Some(t) if kind != FileKind::Env && !i.foreign.is_empty() => {
            let m = migrate::migrate(&f.path, t, i.foreign, kind == FileKind::Models)?;
            (m.text != t).then_some(m)
        }
        _ => None,
    };
    let text = migrated.as_ref().map_or(f.text()?, |m| Some(&m.text));
    // A migrated text is another text: its planner reads it anew.
    let before = Before {
        text,
        read: read.filter(|_| migrated.is_none()),
    };
    let (mut after, record) = match kind {
        FileKind::Env => {
            let after = env_file::set_key(&f.path, text, i.key)?;
            (gate::Edit::text_only(after), None)
        }
        FileKind::Config => {
            let (after, record) =
                openclaw_json::plan_recording(&f.path, before, i.settings, i.outside)?;
            (after, Some(record))
        }
        FileKind::Models => {
            let after = models_json::plan_for(&f.path, before, i.settings, i.version)?;
            (after, None)
        }
    };
    after
        .intents
        .extend(migrated.iter().flat_map(|m| m.intents.clone()));
    Ok(Planned {
        after,
        migrated,
        record,
    })
}

/// Recorded in the backup manifest (for uninstall): the model before setup, what setup
/// added to the allowlists and fallbacks, and the agents' models it replaced.
fn meta(record: openclaw_json::Record) -> serde_json::Map<String, serde_json::Value> {
    let mut meta = serde_json::Map::new();
    if let Some(m) = record.previous_model {
        meta.insert("previous_model".into(), m);
    }
    meta.insert(
        "added".into(),
        serde_json::json!({
            "allowlist_map": record.added.allowlist_map,
            "policy_allow": record.added.policy_allow,
            "fallbacks": record.added.fallbacks,
        }),
    );
    meta.insert("agent_models".into(), record.added.agent_models.into());
    meta
}

/// Providers of the root wired to GateRouter under another id, to migrate to ours (see
/// `migrate`): their ids, the GateRouter URL they point at, and the old entries' plaintext
/// keys (to redact).
struct Foreign {
    ids: Vec<String>,
    url: String,
    secrets: Vec<String>,
}

impl Foreign {
    /// From the root's files (`jobs`) as the plan read them (`readings`).
    fn of(
        jobs: &[(FileKind, &FileState)],
        readings: &[Option<Reading>],
        settings: &Settings,
    ) -> Foreign {
        let ours = settings.provider_entry(None);
        let urls: Vec<&str> = [
            ours.get("baseUrl").and_then(serde_json::Value::as_str),
            Some(crate::gaterouter::probe::DEFAULT_BASE_URL),
        ]
        .into_iter()
        .flatten()
        .collect();
        let maps: Vec<(FileKind, serde_json::Value)> = (jobs.iter().zip(readings))
            .filter_map(|(&(kind, f), r)| {
                let maps = provider_maps(f.text().ok()??, r.as_ref()?.as_ref().ok()?);
                Some((kind, maps))
            })
            .collect();
        let mut ids = Vec::new();
        for (kind, m) in &maps {
            // OpenClaw's providers: the config's `models.providers`, models.json's `providers`.
            let map = match kind {
                FileKind::Config => m.pointer("/models/providers"),
                _ => m.get("providers"),
            };
            ids.extend(migrate::foreign_ids(map, &urls));
        }
        ids.sort();
        ids.dedup();
        let mut secrets = Vec::new();
        for (_, v) in &maps {
            for id in &ids {
                for map in [v.pointer("/models/providers"), v.get("providers")] {
                    if let Some(k) = map
                        .and_then(|m| m.get(id))
                        .and_then(|e| e["apiKey"].as_str())
                        .filter(|k| crate::gaterouter::templates::env_placeholder(k).is_none())
                    {
                        secrets.push(k.to_owned());
                    }
                }
            }
        }
        Foreign {
            ids,
            url: urls[0].to_owned(),
            secrets,
        }
    }

    /// What the plan says about the migration, given the files it changed.
    fn note(&self, migrated: &[(PathBuf, migrate::Migrated)]) -> Option<String> {
        if self.ids.is_empty() {
            return None;
        }
        let refs: usize = migrated.iter().map(|(_, m)| m.refs).sum();
        Some(format!(
            "provider {} points at GateRouter ({}): migrated to `gaterouter`, the one GateRouter provider: {refs} model ref{} rewritten to gaterouter/… (default model, fallbacks, agents' models, allowlists), its auth profiles and its entry removed from openclaw.json and models.json; `gaterouter-setup rollback` puts it back",
            self.ids.join(", "),
            self.url,
            if refs == 1 { "" } else { "s" }
        ))
    }
}

/// The provider maps of a file (`models.providers`, and `providers` as models.json has
/// it), each provider with only what migration reads (`baseUrl`, `apiKey`); the rest is
/// checked, not built (a catalog can be most of a 1 MB config); `doc` is the file's
/// reading ([`reads`]).
fn provider_maps(text: &str, doc: &json5::Document) -> serde_json::Value {
    let slim = |at: &[&str]| -> Option<serde_json::Value> {
        let mut map = serde_json::Map::new();
        for e in doc.root.at(at).filter(|n| n.is_object())?.entries()? {
            let Some((k, _)) = &e.key else { continue };
            let one =
                json5::parse_projected(&text[e.value.span.clone()], &[&["baseUrl"], &["apiKey"]]);
            let v = one
                .ok()
                .flatten()
                .map_or(serde_json::Value::Null, |v| v.to_serde());
            map.insert(k.to_lossy(), v);
        }
        Some(serde_json::Value::Object(map))
    };
    let mut out = serde_json::Map::new();
    if let Some(p) = slim(&["models", "providers"]) {
        out.insert("models".into(), serde_json::json!({ "providers": p }));
    }
    if let Some(p) = slim(&["providers"]) {
        out.insert("providers".into(), p);
    }
    serde_json::Value::Object(out)
}

/// A key no provider map has: a reading that keeps it lists the map's members, none built.
const NONE: &str = "\u{0}";

/// What a plan builds of a JSON file of `kind` when it reads it, once for all its readers:
/// its planner's parts, and the provider maps migration looks through ([`provider_maps`]).
fn reads(kind: FileKind) -> Vec<&'static [&'static str]> {
    const MAPS: &[&[&str]] = &[&["models", "providers", NONE], &["providers", NONE]];
    let planner = match kind {
        FileKind::Config => openclaw_json::KEEP,
        FileKind::Models => models_json::KEEP,
        FileKind::Env => return Vec::new(),
    };
    planner.iter().chain(MAPS).copied().collect()
}

/// A JSON file as the plan reads it ([`reads`]); `None` for `.env`, and for a file that is
/// not there or not text (its planner says why).
fn read(kind: FileKind, f: &FileState) -> Option<Reading> {
    if kind.spec().syntax != Syntax::Json {
        return None;
    }
    let text = f.text().ok()??;
    Some(json5::Document::parse(text, Some(&reads(kind))))
}

/// The plan that removes what setup added (see `openclaw_json::unplan`); files that do not
/// exist stay absent. `previous` is the model recorded at setup, if any.
/// `env_created`: setup created `.env` (so an empty one left behind may go).
pub fn plan_uninstall(
    root: &Root,
    previous: Option<&serde_json::Value>,
    added: &openclaw_json::Added,
    env_created: bool,
) -> Result<Plan> {
    let mut files = Vec::new();
    let mut secrets = Vec::new();
    for (kind, f) in managed(root) {
        let Some(t) = f.text()? else { continue };
        // `alone`: what is left of the file was setup's alone, so the file goes.
        let (after, alone) = match kind {
            FileKind::Env => {
                secrets.extend(env_file::current_key(&f.path, t)?);
                let after = env_file::remove_key(&f.path, t)?;
                // A .env left with nothing in it that setup created is setup's alone: remove
                // it, but never one the user had.
                let alone = env_created && after.bytes().all(|b| b.is_ascii_whitespace());
                (gate::Edit::text_only(after), alone)
            }
            FileKind::Config => {
                let after = openclaw_json::unplan(&f.path, Some(t), previous, added)?;
                (after, false)
            }
            FileKind::Models => {
                let after = models_json::unplan(&f.path, Some(t))?;
                // Nothing but an empty provider map: the file was setup's alone (OpenClaw
                // regenerates it anyway).
                let alone = json5::parse(&after.text).is_ok_and(|v| {
                    v.as_object().is_some_and(|o| {
                        o.iter().all(|(k, v)| {
                            k == "providers" && v.as_object().is_some_and(|p| p.is_empty())
                        })
                    })
                });
                (after, alone)
            }
        };
        let (mut c, intents) = change(kind, f, after, f.mode.unwrap_or(NEW_FILE_MODE));
        // Never through a symlink: that would delete the user's target.
        if alone && !f.symlink {
            c.after = None;
        }
        files.push((c, intents));
    }
    let ours = |r: &str| {
        crate::gaterouter::templates::is_our_ref(r) || added.allowlist_map.iter().any(|x| x == r)
    };
    Ok(Plan {
        root: root.dir.clone(),
        files: gate_all(files, &ours, &[])?,
        warnings: Vec::new(),
        secrets,
        meta: serde_json::Map::new(),
        openclaw_undo: None,
    })
}

/// The last gate (see `gate`): every JSON file about to change must parse back, differ
/// only in the paths we own, and hold what its planner set (which it must have said).
/// Returns the changes that passed it.
fn gate_all(
    files: Vec<Staged>,
    ours: &dyn Fn(&str) -> bool,
    migrated: &[(PathBuf, migrate::Migrated)],
) -> Result<Vec<FileChange>> {
    for (f, intents) in files.iter().filter(|(f, _)| f.content_changed()) {
        let spec = f.kind.spec();
        let Some(after) = f.after.as_deref().filter(|_| spec.syntax == Syntax::Json) else {
            continue;
        };
        // A planner that set nothing it can name would go unchecked.
        if intents.is_empty() {
            return Err(Error::Internal {
                path: f.path.clone(),
                what: "the new contents come from a planner that names nothing it set".into(),
            });
        }
        // We must always be able to read back (and so undo) what we write.
        if after.len() as u64 > crate::openclaw::root::MAX_FILE {
            return Err(Error::Internal {
                path: f.path.clone(),
                what: format!(
                    "the new contents would be {} bytes, more than gaterouter-setup reads back ({} MB)",
                    after.len(),
                    crate::openclaw::root::MAX_FILE / 1_000_000
                ),
            });
        }
        // Borrowed when UTF-8 (always, for what the planners write): a 1 MB config is not copied.
        let text = |b| String::from_utf8_lossy(b);
        let before = f.before.as_deref().map(text);
        let also = migrated
            .iter()
            .find(|(p, _)| *p == f.path)
            .map_or(&[][..], |(_, m)| &m.paths[..]);
        gate::check_with(
            &f.path,
            before.as_deref(),
            &text(after),
            intents,
            spec.owned,
            also,
            ours,
        )?;
    }
    Ok(files.into_iter().map(|(c, _)| c).collect())
}
