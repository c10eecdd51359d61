//! Text formats, read and edited exactly as OpenClaw reads them: json5 (the npm json5
//! OpenClaw loads its config with) and dotenv (OpenClaw's grammar). Knows nothing of
//! OpenClaw's files or of GateRouter.

pub mod dotenv;
pub mod json5;
pub mod json_edit;
pub(crate) mod json_tree;

/// The grammar a file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// `.env` as OpenClaw parses it; masked entry by entry.
    Dotenv,
    /// JSON5; changes are gated on the owned paths, and masked by structure.
    Json,
}
