//! Every integration test, in one binary (`cargo test --test suite`), one module per feature
//! area: a binary per file linked the whole library, reqwest and tokio 36 times over. Run an
//! area with `cargo test --test suite apply::`, one file with `cargo test --test suite
//! apply::kill::`.
//!
//! All tests are threads of one process: none may change process-wide state (environment,
//! working directory, umask, signal dispositions); a child gets its own environment instead
//! (`common::cmd`). Tests that run OpenClaw, npm or Ansible for real take
//! [`common::heavy`] so that only one of them runs at a time, as when each had its binary.
//!
//! proptest keeps the seeds of past failures under `proptest-regressions/<module path>.txt`
//! (its default next to a `lib.rs`), e.g. `proptest-regressions/output/hygiene.txt` for
//! `tests/output/hygiene.rs`.

mod common;

mod ansible;
mod apply;
mod distribution;
mod doctor;
mod formats;
mod golden;
mod health_state;
mod openclaw;
mod output;
mod privilege;
mod probe;
mod setup;
mod verify;
