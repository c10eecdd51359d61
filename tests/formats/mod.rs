//! The file formats as OpenClaw reads them: JSON5 against OpenClaw's own reader, `.env`
//! against OpenClaw's, and the editors' properties.

mod dotenv_reference;
mod json5_differential;
mod properties;
