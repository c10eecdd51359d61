//! gaterouter-setup: wire an OpenClaw installation to GateRouter.
//!
//! Layers, each a folder, lowest first: [`format`] (json5, dotenv), [`sys`] (the OS
//! boundary), [`redact`], [`gaterouter`] (key, provider, client), [`openclaw`] (a root and
//! its files), [`plan`] (pure planners), [`txn`] (apply, backups), [`ops`] (setup, rollback,
//! doctor, verify: `Request → Report`), [`report`] (diff, summary), [`cli`] (flags, rendering).
//! One run ([`ops::setup::run`]) takes N roots through the pipeline and returns one typed
//! [`ops::setup::RunReport`]; only [`txn::apply`] writes. Map: docs/architecture.md.
//! Everything printed goes through the command line's sink, [`cli`]'s `output` (redacted by the
//! run's redactor, escaped, no panic on a closed pipe);
//! the lints below (and a test over the sources, for handles to stdout/stderr) make
//! any other way of printing a build or test failure.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod cli;
pub mod error;
pub mod format;
pub mod gaterouter;
pub mod openclaw;
pub mod ops;
pub mod plan;
pub mod redact;
pub mod report;
pub mod sys;
pub mod txn;
