//! The GateRouter API key: a type that cannot be printed by accident, plus the
//! redaction every output path uses.

use secrecy::{ExposeSecret, SecretString};

use crate::error::Error;

pub const ENV_VAR: &str = "GATEROUTER_API_KEY";

/// Longest key we accept; real keys are well under this, anything longer is a paste accident.
const MAX_LEN: usize = 512;
const MIN_LEN: usize = 8;

#[derive(Clone)]
pub struct ApiKey(SecretString);

impl ApiKey {
    /// Validates a key from the user. Characters that a dotenv reader would treat specially
    /// (whitespace, quotes, `#`, `$`, backslash) or that cannot be in a bearer token are refused,
    /// so what we write to `.env` reads back as exactly this key in every dotenv dialect.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let n = raw.chars().count();
        if n == 0 {
            return Err(Error::InvalidKey("is empty".into()));
        }
        if raw.starts_with(['/', '~']) || raw.starts_with("./") || raw.starts_with("../") {
            return Err(Error::InvalidKey(
                "looks like a file path, not a key (the key comes first: gaterouter-setup KEY ROOT)".into(),
            ));
        }
        for (i, c) in raw.chars().enumerate() {
            let what = match c {
                c if c.is_control() => Some("a control character (a stray newline or tab?)"),
                c if c.is_whitespace() => Some("whitespace"),
                '"' | '\'' | '`' => Some("a quote"),
                '#' => Some("`#` (a dotenv comment marker)"),
                '$' => Some("`$` (a dotenv expansion marker)"),
                '\\' => Some("a backslash"),
                c if !c.is_ascii() => Some("a non-ASCII character"),
                _ => None,
            };
            if let Some(what) = what {
                return Err(Error::InvalidKey(format!(
                    "contains {what} at character {} of {n}",
                    i + 1
                )));
            }
        }
        if n < MIN_LEN {
            return Err(Error::InvalidKey(format!(
                "is only {n} characters long, too short to be a GateRouter key"
            )));
        }
        if n > MAX_LEN {
            return Err(Error::InvalidKey(format!(
                "is {n} characters long (more than {MAX_LEN}); was more than the key pasted?"
            )));
        }
        // Known from now on to every redaction, whoever prints what.
        crate::secrets::register(raw);
        Ok(ApiKey(SecretString::from(raw.to_owned())))
    }

    /// The key itself: for the `.env` writer and the Authorization header, nothing else.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn redacted(&self) -> String {
        redact(self.expose())
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({})", self.redacted())
    }
}

/// `sk-or-v1-0123…cdef` → `sk-or-…cdef`: first 6 and last 4 characters. Short values show
/// less, so that the visible part is never most of the secret.
pub fn redact(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let n = chars.len();
    let (head, tail) = match n {
        0..=7 => (0, 0),
        8..=15 => (2, 2),
        16..=23 => (4, 4),
        _ => (6, 4),
    };
    let h: String = chars[..head].iter().collect();
    let t: String = chars[n - tail..].iter().collect();
    format!("{h}…{t}")
}

/// Replaces every occurrence of each secret in `text` (and of every secret seen before, and
/// of anything key-shaped) with its redacted form; see `secrets::redact_text`.
pub fn redact_all(text: &str, secrets: &[&str]) -> String {
    crate::secrets::redact_text(text, secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_to_first_six_and_last_four() {
        assert_eq!(redact("sk-or-v1-0123456789abcdef"), "sk-or-…cdef");
        assert_eq!(redact("short"), "…");
        assert_eq!(redact("abcdefghij"), "ab…ij");
    }

    #[test]
    fn refuses_dotenv_special_characters_without_echoing_the_key() {
        for bad in [
            "sk-abc def12",
            "sk-abc\"def12",
            "sk-abc#def12",
            "sk-abc$def12",
            "sk-abc\ndef12",
            "sk-abc'def12",
        ] {
            let err = ApiKey::parse(bad).unwrap_err().to_string();
            assert!(!err.contains(bad), "{err}");
            assert!(err.contains("at character 7"), "{err}");
        }
        assert!(ApiKey::parse("").is_err());
        assert!(ApiKey::parse("sk-1").is_err());
        assert!(ApiKey::parse("sk-or-v1-abcdef0123456789").is_ok());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let k = ApiKey::parse("sk-or-v1-SENTINEL-0123456789").unwrap();
        assert!(!format!("{k:?}").contains("SENTINEL"));
    }
}
