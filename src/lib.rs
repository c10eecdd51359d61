//! gaterouter-setup: wire an OpenClaw installation to GateRouter.
//!
//! The pipeline (see DESIGN.md): discover ([`root`]) → probe ([`probe`]) → plan ([`plan`])
//! → review ([`diff`], [`report`]) → apply ([`apply`]). Only `apply` writes.

pub mod agents;
pub mod apply;
pub mod cli;
pub mod credentials;
pub mod diff;
pub mod doctor;
pub mod error;
pub mod key;
mod par;
pub mod plan;
pub mod probe;
pub mod redact;
pub mod report;
pub mod rollback;
pub mod root;
pub mod templates;
pub mod version;
