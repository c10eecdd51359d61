//! gaterouter-setup: wire an OpenClaw installation to GateRouter.
//!
//! One run ([`run::run`]) takes N roots (one is not a special case) through the pipeline
//! and returns one typed [`run::RunReport`]:
//!
//! ```text
//! run::Request ─ discover (root) ─ probe, once (probe) ─ plan, per root (plan, pure)
//!     ─ review (run::Ui: diff, report::summary; the caller asks) ─ apply (apply)
//!     ─ verify (verify) ─▶ run::RunReport ─ rendered by cli (text, --json) or ansible
//! ```
//!
//! Only `apply` writes. Rollback and uninstall make their plan elsewhere ([`rollback`],
//! [`plan::plan_uninstall`]) and join at review ([`run::run_plan`]). The library never
//! prompts or prints on its own: [`cli`] builds the request from flags, is the `Ui`, and
//! renders the report; `doctor` is a table of checks ([`doctor::run`]) the CLI prints.
//! Map of the modules: docs/architecture.md.
//! Everything printed goes through [`output`] (redacted, escaped, no panic on a closed pipe);
//! the lints below (and a test over the sources, for handles to stdout/stderr) make
//! any other way of printing a build or test failure.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod agents;
pub mod apply;
pub mod backup;
pub mod build_info;
pub mod child;
pub mod cli;
pub mod credentials;
pub mod diff;
pub mod doctor;
pub mod error;
pub mod fsx;
pub mod gateway;
pub mod health;
pub mod include;
pub mod key;
pub mod output;
mod par;
pub mod plan;
pub mod privilege;
pub mod probe;
pub mod redact;
pub mod report;
pub mod rollback;
pub mod root;
pub mod run;
pub mod secret_name;
pub mod secrets;
pub mod signals;
pub mod templates;
pub mod verify;
pub mod version;
