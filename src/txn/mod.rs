//! Writing: one transaction over a plan's files (lock, re-check, backup, atomic replace,
//! restore on failure) and the backup sets it leaves.

pub mod apply;
pub mod backup;
