//! What is printed: one output layer, no secret anywhere, terminal and shell conventions, the
//! JSON report, hostile input, and output OpenClaw itself accepts.

mod hostile;
mod hygiene;
mod json_report;
mod native_output;
mod secrets;
mod terminal;
