//! What we say when the account has auto routing off, in each command that can find it
//! out: one wording and one fix, so setup, probe and the probe's failure never drift apart.

/// The words of GateRouter's error body for an account with auto routing off.
pub const SERVER_SAYS_AUTO_OFF: &str = "auto routing is not enabled";

/// Where the user switches auto routing on.
const FIX: &str = "Dashboard → routing settings → enable Auto Routing";

/// Where auto routing was found off, and what the run does about it.
pub enum AutoOff<'a> {
    /// setup with `--require-auto`: stops.
    SetupRequired,
    /// setup with `--primary`: keeps it.
    KeepingPrimary(&'a str),
    /// setup without `--primary`: the first fixed fallback becomes the primary.
    FixedPrimary { fixed: &'a str, auto: &'a str },
    /// setup with no fixed fallback to use instead.
    NoFixedModel,
    /// The probe's failure, when the chat request was refused for it.
    ProbeFailure,
    /// `probe --require-auto`: exits 3.
    ProbeRequired,
    /// `probe` without `--require-auto`: setup would still work, with a fixed model.
    ProbeWouldFallBack,
}

impl AutoOff<'_> {
    pub fn message(&self) -> String {
        let off = "auto routing is not enabled for this GateRouter account";
        match self {
            Self::SetupRequired => {
                format!("{off} and --require-auto was given; switch it on in the dashboard ({FIX})")
            }
            Self::KeepingPrimary(p) => format!(
                "{off}; keeping --primary {p} as asked. Switch it on in the dashboard ({FIX})"
            ),
            Self::FixedPrimary { fixed, auto } => format!(
                "{off}, so the primary model will be {fixed} instead of {auto}; switch it on in the dashboard ({FIX}) and run again to use auto"
            ),
            Self::NoFixedModel => format!("{off}; switch it on in the dashboard ({FIX})"),
            Self::ProbeFailure => format!(
                "{off}; switch it on in the dashboard ({FIX}), or choose a specific model with --primary"
            ),
            Self::ProbeRequired => format!(
                "{SERVER_SAYS_AUTO_OFF} (--require-auto); switch it on in the dashboard ({FIX})"
            ),
            Self::ProbeWouldFallBack => format!(
                "{off}: setup would make a fixed model (gaterouter/anthropic/claude-sonnet-4.6 unless --primary/--fallback say otherwise) the primary instead of gaterouter/auto. Fix: {FIX}. `probe --require-auto` exits 3 while it is off"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_auto_off_message_says_what_is_off_and_where_to_switch_it_on() {
        for m in [
            AutoOff::SetupRequired,
            AutoOff::KeepingPrimary("gaterouter/x/y"),
            AutoOff::FixedPrimary {
                fixed: "gaterouter/x/y",
                auto: "gaterouter/auto",
            },
            AutoOff::NoFixedModel,
            AutoOff::ProbeFailure,
            AutoOff::ProbeRequired,
            AutoOff::ProbeWouldFallBack,
        ] {
            let text = m.message();
            assert!(text.starts_with(SERVER_SAYS_AUTO_OFF), "{text}");
            assert!(text.contains(FIX), "{text}");
        }
    }
}
