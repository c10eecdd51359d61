//! The GateRouter probe stage. The network client lands with the probe issue; the pipeline
//! already carries its outcome, so filling it in changes no other stage.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum ProbeOutcome {
    /// No request was made (`--offline`); the templates' model catalog is used.
    Skipped { reason: String },
}

impl ProbeOutcome {
    pub fn summary(&self) -> String {
        match self {
            ProbeOutcome::Skipped { reason } => format!("skipped ({reason})"),
        }
    }
}
