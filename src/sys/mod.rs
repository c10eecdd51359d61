//! The operating-system boundary: bounded reads and link-safe writes, child processes,
//! signals, running as a root's owner, and a deterministic parallel map.

pub mod child;
pub mod fsx;
pub(crate) mod par;
pub mod privilege;
pub mod signals;
