//! OpenClaw's config-health rows in its state database (`<state dir>/state/openclaw.sqlite`,
//! table `config_health_entries`, 2026.9.6: `dist/io.health-state.kernel-*.mjs`). We read
//! them to know OpenClaw's baseline, and write the one column OpenClaw's own healthy load
//! writes (`last_known_good_json`, with `last_observed_suspicious_signature` cleared), so
//! the file we just wrote is the baseline its next load compares with.
//!
//! Only SQLite's own locking is relied on: a write transaction (`BEGIN IMMEDIATE`) waits up
//! to [`BUSY_TIMEOUT`] for a Gateway or CLI holding the database. OpenClaw's patches are
//! compare-and-swap on the row (`patchConfigHealthEntryInDatabase` compares every column),
//! so one it prepared before our write is dropped rather than overwriting ours. The
//! database is never created here (its schema is OpenClaw's, with migrations): no database,
//! or a table without these columns, is [`Availability::Missing`] / `Unusable`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};

/// Where OpenClaw keeps it: `resolveOpenClawStateSqlitePath` = `<state dir>/state/openclaw.sqlite`.
pub const DB_REL: &str = "state/openclaw.sqlite";
const TABLE: &str = "config_health_entries";
const COLUMNS: [&str; 5] = [
    "config_path",
    "last_known_good_json",
    "last_promoted_good_json",
    "last_observed_suspicious_signature",
    "updated_at_ms",
];
/// How long a write waits for OpenClaw to release the database.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// One row as stored (kept whole so a failed apply can put it back exactly).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub config_path: String,
    pub last_known_good_json: Option<String>,
    pub last_promoted_good_json: Option<String>,
    pub last_observed_suspicious_signature: Option<String>,
    pub updated_at_ms: i64,
}

/// What [`Store::record`] found before it wrote, per key: the row, or none.
pub type Before = Vec<(String, Option<Row>)>;

/// Whether the health state can be read and written for a root.
#[derive(Debug)]
pub enum Availability {
    Ready(Store),
    /// No state database: OpenClaw has not run here (or it was removed).
    Missing(PathBuf),
    /// There, but not usable: not ours to write (permissions), another schema, corrupt.
    Unusable {
        path: PathBuf,
        why: String,
    },
}

#[derive(Debug, Clone)]
pub struct Store {
    pub path: PathBuf,
}

/// The store of the state dir `root`.
pub fn open(root: &Path) -> Availability {
    let store = Store {
        path: root.join(DB_REL),
    };
    let usable = match std::fs::symlink_metadata(&store.path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Availability::Missing(store.path);
        }
        Err(e) => Err(e.to_string()),
        Ok(m) if !m.is_file() => Err("is not a regular file".into()),
        Ok(_) => store.connect().map_err(|e| e.to_string()).and_then(|c| {
            // SQLite opens a file it may not write read-only without saying so.
            if c.is_readonly(rusqlite::MAIN_DB).unwrap_or(true) {
                return Err("is not writable by this user".into());
            }
            check_schema(&c)
        }),
    };
    match usable {
        Ok(()) => Availability::Ready(store),
        Err(why) => Availability::Unusable {
            path: store.path,
            why,
        },
    }
}

fn check_schema(c: &Connection) -> Result<(), String> {
    let names: Vec<String> = c
        .prepare("SELECT name FROM pragma_table_info(?1)")
        .and_then(|mut st| st.query_map([TABLE], |r| r.get(0))?.collect())
        .map_err(|e| e.to_string())?;
    if names.is_empty() {
        return Err(format!("has no {TABLE} table (another OpenClaw release?)"));
    }
    match COLUMNS.iter().find(|c| !names.iter().any(|n| n == *c)) {
        Some(c) => Err(format!("has a {TABLE} table without column {c}")),
        None => Ok(()),
    }
}

impl Store {
    fn connect(&self) -> rusqlite::Result<Connection> {
        // Never created, never through a link; read-write so a writer's lock is honoured.
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_NOFOLLOW,
        )?;
        c.busy_timeout(BUSY_TIMEOUT)?;
        Ok(c)
    }

    /// The row OpenClaw reads for `config`, if any: the first of the rows about it
    /// (OpenClaw keys them by the config path it loads, which may be spelled differently
    /// from ours: see [`same_config`]).
    pub fn row_for(&self, config: &Path) -> Result<Option<Row>, String> {
        let rows = self
            .connect()
            .and_then(|c| read_rows(&c))
            .map_err(|e| e.to_string())?;
        Ok(rows
            .into_iter()
            .find(|r| same_config(Path::new(&r.config_path), config)))
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`, so it waits for OpenClaw's).
    fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction) -> rusqlite::Result<T>,
    ) -> Result<T, String> {
        let run = || {
            let mut c = self.connect()?;
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        run().map_err(|e: rusqlite::Error| e.to_string())
    }

    /// Records `fingerprint` (JSON) as the last-known-good of every row about `config`, and
    /// of `config` itself (as OpenClaw would key it) when no row is; returns what was there
    /// before, for [`Store::put_back`].
    pub fn record(&self, config: &Path, fingerprint: &str, now_ms: i64) -> Result<Before, String> {
        self.write(|tx| {
            let rows = read_rows(tx)?;
            let mut before: Before = rows
                .into_iter()
                .filter(|r| same_config(Path::new(&r.config_path), config))
                .map(|r| (r.config_path.clone(), Some(r)))
                .collect();
            if before.is_empty() {
                before.push((config.to_string_lossy().into_owned(), None));
            }
            for (k, _) in &before {
                // `writeConfigHealthPatchInDatabase` with OpenClaw's healthy-load patch.
                tx.execute(
                    "INSERT INTO config_health_entries (config_path, last_known_good_json,
                        last_promoted_good_json, last_observed_suspicious_signature, updated_at_ms)
                     VALUES (?1, ?2, NULL, NULL, ?3)
                     ON CONFLICT(config_path) DO UPDATE SET last_known_good_json = ?2,
                        last_observed_suspicious_signature = NULL, updated_at_ms = ?3",
                    params![k, fingerprint, now_ms],
                )?;
            }
            Ok(before)
        })
    }

    /// Undoes [`Store::record`]: each row as it was, or gone if there was none.
    pub fn put_back(&self, before: &Before) -> Result<(), String> {
        self.write(|tx| {
            for (k, row) in before {
                match row {
                    None => tx.execute(
                        "DELETE FROM config_health_entries WHERE config_path = ?1",
                        [k],
                    ),
                    Some(r) => tx.execute(
                        "UPDATE config_health_entries SET last_known_good_json = ?2,
                            last_promoted_good_json = ?3, last_observed_suspicious_signature = ?4,
                            updated_at_ms = ?5 WHERE config_path = ?1",
                        params![
                            k,
                            r.last_known_good_json,
                            r.last_promoted_good_json,
                            r.last_observed_suspicious_signature,
                            r.updated_at_ms
                        ],
                    ),
                }?;
            }
            Ok(())
        })
    }
}

fn read_rows(c: &Connection) -> rusqlite::Result<Vec<Row>> {
    let mut st = c.prepare(
        "SELECT config_path, last_known_good_json, last_promoted_good_json,
                last_observed_suspicious_signature, updated_at_ms
         FROM config_health_entries ORDER BY config_path",
    )?;
    st.query_map([], |r| {
        Ok(Row {
            config_path: r.get(0)?,
            last_known_good_json: r.get(1)?,
            last_promoted_good_json: r.get(2)?,
            last_observed_suspicious_signature: r.get(3)?,
            updated_at_ms: r.get(4)?,
        })
    })?
    .collect()
}

/// The same config file: the same path, or both resolve to the same file (a root named
/// through a link is one OpenClaw may key under the other spelling).
fn same_config(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
