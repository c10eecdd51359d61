//! An agent's `models.json`: `providers.gaterouter`, without `apiKey`. OpenClaw takes the
//! key from openclaw.json's provider entry (a SecretRef); in models.json a variable *name*
//! authenticates nothing for a provider OpenClaw does not know, and `openclaw secrets
//! audit` reports it as a plaintext secret. The name we wrote there before is removed.

use std::path::Path;

use super::gate::{Edit, Intent};
use super::provider;
use crate::error::Result;
use crate::format::json_edit::{Before, Doc};
use crate::gaterouter::key::ENV_VAR;
use crate::gaterouter::templates::{PROVIDER_ID, Settings, env_placeholder};
use crate::openclaw::version::Version;

/// The subtree this planner reads or edits.
pub const KEEP: &[&[&str]] = &[&["providers", PROVIDER_ID]];

/// [`plan_for`] a current OpenClaw.
pub fn plan(path: &Path, before: Option<&str>, settings: &Settings) -> Result<String> {
    Ok(plan_for(path, before, settings, None)?.text)
}

/// The new models.json. `version` is the OpenClaw release the config was last written by:
/// before 2026.8 OpenClaw writes `apiKey: "GATEROUTER_API_KEY"` back into this entry
/// itself, so there it is left alone rather than removed at every run.
pub fn plan_for<'a>(
    path: &Path,
    before: impl Into<Before<'a>>,
    settings: &Settings,
    version: Option<Version>,
) -> Result<Edit> {
    let doc = Doc::open(path, before.into(), KEEP)?;
    let (providers, at) = doc.ensure_path(doc.root_object(), &["providers"])?;
    let mut intents = provider::merge(
        &doc,
        providers,
        (&["providers"], &at),
        PROVIDER_ID,
        &settings.provider_entry(None),
    )?;
    let entry = doc
        .object(providers, &at, PROVIDER_ID)?
        .expect("merge just made it");
    let eat = at.key(PROVIDER_ID);
    if let Some(p) = doc.prop(entry, &eat, "apiKey")?
        && doc
            .as_string(doc.value_of(p))
            .is_some_and(|k| ours(&k) && !openclaws(&k, version))
    {
        doc.delete(p);
        intents.push(Intent::absent(&["providers", PROVIDER_ID, "apiKey"]));
    }
    Ok(Edit {
        text: doc.render(),
        intents,
    })
}

/// An `apiKey` value setup (or an older OpenClaw) wrote: the variable's name, or `${NAME}`.
/// Anything else is the user's and stays (doctor reports it).
fn ours(k: &str) -> bool {
    k == ENV_VAR || env_placeholder(k) == Some(ENV_VAR)
}

/// The value an OpenClaw before 2026.8 writes there itself.
pub fn openclaws(k: &str, version: Option<Version>) -> bool {
    k == ENV_VAR && version.is_some_and(Version::rewrites_models_json_api_key)
}

/// Undoes setup: `providers.gaterouter` goes, everything else stays as it is.
pub fn unplan(path: &Path, before: Option<&str>) -> Result<Edit> {
    let doc = Doc::parse(path, before.unwrap_or(""), KEEP)?;
    if let Some((providers, at)) = doc.find_path(doc.root_object(), &["providers"])? {
        doc.remove(providers, &at, PROVIDER_ID)?;
    }
    Ok(Edit {
        text: doc.render(),
        intents: vec![Intent::absent(&["providers", PROVIDER_ID])],
    })
}
