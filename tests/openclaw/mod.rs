//! OpenClaw itself (installed by scripts/openclaw-validator.sh) against what setup writes:
//! its validator, its version, its health check, its Gateway, real agent turns.

mod gateway;
mod health;
mod runtime;
mod validate;
mod version;
