//! gaterouter-setup: wire an OpenClaw installation to GateRouter.
//!
//! The pipeline (see DESIGN.md): discover ([`root`]) → probe ([`probe`]) → plan ([`plan`])
//! → review ([`diff`], [`report`]) → apply ([`apply`]). Only `apply` writes.
//! Everything printed goes through [`output`] (redacted, escaped, no panic on a closed pipe);
//! the lints below (and a test over the sources, for handles to stdout/stderr) make
//! any other way of printing a build or test failure.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod agents;
pub mod apply;
pub mod backup;
pub mod cli;
pub mod credentials;
pub mod diff;
pub mod doctor;
pub mod error;
pub mod fsx;
pub mod key;
pub mod output;
mod par;
pub mod plan;
pub mod probe;
pub mod redact;
pub mod report;
pub mod rollback;
pub mod root;
pub mod run;
pub mod secrets;
pub mod templates;
pub mod verify;
pub mod version;
