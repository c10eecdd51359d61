//! OpenClaw's rules in one place: a root and the files it holds (config, models.json,
//! agents, credentials, `$include`, version), the table of the files we manage (`files`),
//! its config-health bookkeeping and its Gateway.

pub mod agents;
pub mod credentials;
pub mod env;
pub mod files;
pub mod gateway;
pub mod health;
pub mod include;
pub mod root;
pub mod version;
