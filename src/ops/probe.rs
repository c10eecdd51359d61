//! The probe command: GateRouter checked alone, with the key given or the one setup wrote,
//! and what its outcome means for setup (`Request → ProbeRun`, never printing).

use std::path::Path;

use crate::error::{Error, Result, exit};
use crate::gaterouter::key::ApiKey;
use crate::gaterouter::policy::AutoOff;
use crate::gaterouter::probe::{self, AutoRouting, ProbeConfig, ProbeReport};
use crate::openclaw::root;
use crate::plan::{self, KeyChoice};

/// A probe run: the report, our warnings about it, and the exit code.
pub struct ProbeRun {
    pub report: ProbeReport,
    pub warnings: Vec<String>,
    /// `--require-auto` was asked and auto routing is not on.
    pub auto_missing: bool,
    pub exit_code: i32,
}

impl ProbeRun {
    /// The one error to end on: the failure that blocks setup, or the missing auto routing.
    pub fn error(&self) -> Option<String> {
        match &self.report.blocking {
            Some(f) => Some(f.message.clone()),
            None => self.auto_missing.then(|| AutoOff::ProbeRequired.message()),
        }
    }
}

/// No key given: the one setup wrote to the root's `.env` (`dir`, its config at `config`).
pub fn saved_key(dir: &Path, config: Option<&Path>) -> Result<ApiKey> {
    root::discover(dir, config, None)
        .and_then(|r| plan::effective_key(&r, &KeyChoice::KeepExisting))
        .map_err(|_| {
            Error::Usage(format!(
                "probe needs an API key: pass it as an argument, with --api-key-stdin, or in GATEROUTER_API_KEY (none found in {})",
                dir.join(".env").display()
            ))
        })
}

/// Probes GateRouter with `key`. Exit 3 when setup would fail (or auto routing is required
/// and off); without `require_auto` setup goes on with a fixed model when auto routing is
/// off, so the probe still says "setup would work" (exit 0), but never without the fix.
pub fn run(
    key: &ApiKey,
    cfg: &ProbeConfig,
    require_auto: bool,
    mut warnings: Vec<String>,
) -> ProbeRun {
    let report = probe::run(key, cfg);
    let auto_missing = require_auto && report.auto_routing != AutoRouting::On;
    if report.blocking.is_none() && !auto_missing && report.auto_routing == AutoRouting::Off {
        warnings.push(AutoOff::ProbeWouldFallBack.message());
    }
    warnings.extend(report.warnings.iter().cloned());
    let exit_code = if report.blocking.is_some() || auto_missing {
        exit::PROBE
    } else {
        exit::OK
    };
    ProbeRun {
        report,
        warnings,
        auto_missing,
        exit_code,
    }
}
