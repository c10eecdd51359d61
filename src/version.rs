//! Which OpenClaw release a config belongs to, and what that release accepts.
//!
//! OpenClaw stamps the config it writes: `meta.lastTouchedVersion` (all releases checked),
//! else `wizard.lastRunVersion` (up to 2026.7). Versions are compared as numbers
//! (`2026.7.35` < `2026.8.1`), never as dates or strings. See docs/openclaw-versions.md.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

/// 2026.8: `agents.entries` and `modelPolicy` arrive, and OpenClaw stops writing
/// `apiKey: "<VAR>"` back into a custom provider's models.json entry.
pub const GEN_2026_8: Version = Version(2026, 8, 0);

impl Version {
    /// `2026.9.6`, `2026.9.1-beta.1` (a pre-release counts as its release), `v2026.8.2`.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches('v');
        let core = s.split(['-', '+', ' ']).next()?;
        let mut n = core.split('.').map(|p| p.parse::<u32>().ok());
        let v = Version(n.next()??, n.next()??, n.next().unwrap_or(Some(0))?);
        n.next().is_none().then_some(v)
    }

    /// The release that last wrote `config`, when it says.
    pub fn of_config(config: &Value) -> Option<Version> {
        ["/meta/lastTouchedVersion", "/wizard/lastRunVersion"]
            .iter()
            .find_map(|p| {
                config
                    .pointer(p)
                    .and_then(Value::as_str)
                    .and_then(Version::parse)
            })
    }

    /// Releases before 2026.8 write `apiKey: "<VAR>"` back into models.json themselves:
    /// there that value is OpenClaw's, not a leftover of ours.
    pub fn rewrites_models_json_api_key(self) -> bool {
        self < GEN_2026_8
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_compare_as_numbers() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("2026.7.35") < v("2026.8.1"));
        assert!(v("2026.10.1") > v("2026.9.6"));
        assert_eq!(v("2026.9.1-beta.1"), Version(2026, 9, 1));
        assert_eq!(v("v2026.8"), Version(2026, 8, 0));
        for bad in ["", "x", "2026", "2026.x.1", "2026.1.2.3"] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
        assert!(v("2026.7.35").rewrites_models_json_api_key());
        assert!(!v("2026.8.1").rewrites_models_json_api_key());
    }

    #[test]
    fn the_stamp_is_read_where_openclaw_writes_it() {
        let c = json!({"meta": {"lastTouchedVersion": "2026.9.6"}, "wizard": {"lastRunVersion": "2026.7.1"}});
        assert_eq!(Version::of_config(&c), Some(Version(2026, 9, 6)));
        let c = json!({"wizard": {"lastRunVersion": "2026.5.28"}});
        assert_eq!(Version::of_config(&c), Some(Version(2026, 5, 28)));
        assert_eq!(Version::of_config(&json!({})), None);
    }
}
