//! GateRouter's side: the API key, the provider template and catalog we write, and the
//! HTTP client that probes the router. Knows nothing of OpenClaw's files.

pub mod key;
pub mod policy;
pub mod probe;
pub mod templates;
