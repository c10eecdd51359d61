//! An agent's `models.json`: `providers.gaterouter`, with `apiKey` the variable's *name*
//! (that is how OpenClaw stores env-backed keys there; the key itself is never written).

use std::path::Path;

use super::json_edit::Doc;
use super::provider;
use crate::error::Result;
use crate::key::ENV_VAR;
use crate::templates::{PROVIDER_ID, Settings};

pub fn plan(path: &Path, before: Option<&str>, settings: &Settings) -> Result<String> {
    let doc = Doc::parse(path, before.unwrap_or(""), &[&["providers", PROVIDER_ID]])?;
    let (providers, at) = doc.ensure_path(&doc.root_object(), &["providers"])?;
    provider::merge(
        &doc,
        &providers,
        &at,
        PROVIDER_ID,
        &settings.provider_entry(ENV_VAR),
    )?;
    Ok(doc.render())
}

/// Undoes setup: `providers.gaterouter` goes, everything else stays as it is.
pub fn unplan(path: &Path, before: Option<&str>) -> Result<String> {
    let doc = Doc::parse(path, before.unwrap_or(""), &[&["providers", PROVIDER_ID]])?;
    if let Some((providers, at)) = doc.find_path(&doc.root_object(), &["providers"])? {
        doc.remove(&providers, &at, PROVIDER_ID)?;
    }
    Ok(doc.render())
}
