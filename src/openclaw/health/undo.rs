//! What a plan says when OpenClaw's next load would take our write back (`would_undo`); the
//! error that refuses the write carries its message, so `error` imports nothing of
//! `health`.

use std::path::PathBuf;

use serde::Serialize;

use super::ring;

/// Why OpenClaw's next load would take our write back, when we cannot stop it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Undo {
    pub config: PathBuf,
    /// OpenClaw's own words (`size-drop-vs-last-good:3548->1512`, …).
    pub reasons: Vec<String>,
    /// Why its baseline cannot be moved: the state database's problem.
    pub why: String,
    /// It would restore `.bak` over the file (otherwise it only logs an anomaly and never
    /// takes the file as its last-known-good).
    pub restores: bool,
}

impl Undo {
    pub fn message(&self) -> String {
        let what = if self.restores {
            format!(
                "OpenClaw's next load would restore {} over it",
                ring::slot(&self.config, 0).display()
            )
        } else {
            "OpenClaw would flag it as a config anomaly and never take it as its last-known-good"
                .to_owned()
        };
        format!(
            "this write of {} looks clobbered to OpenClaw's config health check ({}): {what}, and its health state cannot be updated ({})",
            self.config.display(),
            self.reasons.join(", "),
            self.why
        )
    }
}
