//! The operations: `Request → Report`, never printing or prompting. Setup's pipeline,
//! rollback, doctor, probe and verify; the CLI and the Ansible module only render what they return.

pub mod doctor;
pub mod probe;
pub mod rollback;
pub mod setup;
pub mod verify;
