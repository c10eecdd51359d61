//! Writing: the apply transaction, backups, the filesystem boundary, crash safety, rollback
//! and uninstall.

mod backup_safety;
mod boundary_fs;
mod kill;
mod rollback;
mod transaction;
mod uninstall;
