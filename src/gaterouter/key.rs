//! The GateRouter API key: a type that cannot be printed by accident, and its masked form.

use secrecy::{ExposeSecret, SecretString};

use crate::error::Error;
pub use crate::redact::secrets::redact;

pub const ENV_VAR: &str = "GATEROUTER_API_KEY";

/// Longest key we accept; real keys are well under this, anything longer is a paste accident.
const MAX_LEN: usize = 512;
const MIN_LEN: usize = 8;

/// The shortest key accepted from the user. Every key form the project documents
/// (`sk-or-v1-` and a long random part) is far longer; a subcommand name, a word or a
/// mistyped flag value is shorter, so it is refused instead of being written to `.env`.
pub const MIN_NEW_LEN: usize = 20;

/// What a GateRouter key looks like, said in every refusal of a new key.
pub const KEY_SHAPE: &str = "a GateRouter key is one word of at least 20 letters, digits, `-`, `_` or `.`, with no spaces, `=`, `/` or `:`";

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
        if looks_like_path(raw) {
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
        Ok(ApiKey(SecretString::from(raw.to_owned())))
    }

    /// Validates a key that is about to be written (an argument, standard input, the
    /// GATEROUTER_API_KEY variable): on top of [`ApiKey::parse`], it must have a key's shape
    /// (see [`KEY_SHAPE`]), so a mistyped subcommand, a pasted `NAME=value` line, a URL or a
    /// path is refused rather than becoming the key. Keys already in a file are read with
    /// the looser `parse`, so an older key stays readable. The refused text is never shown.
    pub fn from_user(raw: &str) -> Result<Self, Error> {
        if let Some(what) = not_a_key(raw) {
            return Err(Error::InvalidKey(format!(
                "{what} (it is not shown here); {KEY_SHAPE}"
            )));
        }
        let n = raw.chars().count();
        let key = Self::parse(raw).map_err(|e| match e {
            Error::InvalidKey(m) => Error::InvalidKey(format!("{m}; {KEY_SHAPE}")),
            e => e,
        })?;
        if let Some((i, _)) = raw
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(Error::InvalidKey(format!(
                "has a character no GateRouter key has at character {} of {n} (it is not shown here); {KEY_SHAPE}",
                i + 1
            )));
        }
        if !raw.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(Error::InvalidKey(format!(
                "does not start with a letter or digit; {KEY_SHAPE}"
            )));
        }
        if n < MIN_NEW_LEN {
            return Err(Error::InvalidKey(format!(
                "is only {n} characters long, too short to be one (it is not shown here); {KEY_SHAPE}"
            )));
        }
        Ok(key)
    }

    /// What of a string refused by [`ApiKey::from_user`] may be a secret, for the run's
    /// redactor: whatever it was, it may hold one (the value of a pasted line). Of a
    /// `NAME=value` line only the value: the name and `=` would make every mention of a key
    /// prefix look like a piece of it. A URL or a path is not a key (and would mask words
    /// like `gaterouter` in every later message).
    pub fn refused_secret(raw: &str) -> Option<&str> {
        match (raw.split_once('='), not_a_key(raw)) {
            (Some((_, v)), Some(_)) => Some(v.trim()),
            (_, Some(_)) => None,
            _ if looks_like_path(raw) => None,
            _ => Some(raw),
        }
    }

    /// The key itself: for the `.env` writer and the Authorization header, nothing else.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn redacted(&self) -> String {
        redact(self.expose())
    }
}

fn looks_like_path(raw: &str) -> bool {
    raw.starts_with(['/', '~']) || raw.starts_with("./") || raw.starts_with("../")
}

/// Says what a string passed as a key is when it is plainly something else: a `NAME=value`
/// line (as copied from a `.env` file or a shell), a URL, a file path.
fn not_a_key(raw: &str) -> Option<&'static str> {
    if raw.trim().is_empty() {
        return None; // `parse` says "is empty" or names the whitespace
    }
    if let Some((name, _)) = raw.split_once('=') {
        let name = name.trim();
        let name = name.strip_prefix("export ").map_or(name, str::trim);
        let is_name = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if is_name {
            return Some(
                "is a NAME=value line (as in a .env file), not a key: pass only the value after `=`",
            );
        }
    }
    if raw.contains("://") {
        return Some("is a URL, not a key (GateRouter's address goes in --base-url)");
    }
    None
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({})", self.redacted())
    }
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
    fn new_keys_must_look_like_keys() {
        for ok in [
            "sk-or-v1-abcdef0123456789abcd",
            "sk-or-v1-fixture-SENTINEL-00000000abcd",
            "0123456789abcdef0123456789abcdef",
            "gr_live.0123456789abcdefXYZ",
        ] {
            assert!(ApiKey::from_user(ok).is_ok(), "{ok}");
        }
        for (bad, says) in [
            ("uninstll", "too short"),
            ("doctr", "too short"),
            (
                "GATEROUTER_API_KEY=sk-or-v1-abcdef0123456789abcd",
                "NAME=value",
            ),
            (
                "export GATEROUTER_API_KEY=sk-or-v1-abcdef0123456789",
                "NAME=value",
            ),
            ("https://api.gaterouter.ai/openai/v1", "URL"),
            ("/home/me/.openclaw/sk-or-v1-abcdef0123", "file path"),
            (
                "sk-or-v1-abcdef0123456789!&;x",
                "character no GateRouter key has",
            ),
            ("-sk-or-v1-abcdef0123456789", "start with a letter or digit"),
            ("sk-or-v1-abc def0123456789", "whitespace"),
        ] {
            let err = ApiKey::from_user(bad).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
            assert!(err.contains(KEY_SHAPE), "{err}");
            assert!(!err.contains(bad), "{err}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Every string of a key's shape is accepted as a new key.
        #[test]
        fn any_key_shaped_string_is_accepted(k in "[A-Za-z0-9][A-Za-z0-9._-]{19,80}") {
            proptest::prop_assert!(ApiKey::from_user(&k).is_ok());
        }

        /// A pasted `NAME=value` line is refused whatever the value, and the value (which may
        /// be the key) is not in the message.
        #[test]
        fn any_name_value_line_is_refused_without_echo(
            export in proptest::bool::ANY,
            name in "[A-Za-z_][A-Za-z0-9_]{0,30}",
            value in "[A-Za-z0-9._-]{8,80}",
        ) {
            let line = format!("{}{name}={value}", if export { "export " } else { "" });
            let err = ApiKey::from_user(&line).unwrap_err().to_string();
            proptest::prop_assert!(err.contains("NAME=value"), "{}", err);
            proptest::prop_assert!(!err.contains(&value), "{}", err);
        }

        /// Anything shorter than a key, or with a character no key has, is refused.
        #[test]
        fn short_or_odd_strings_are_refused(
            short in "[A-Za-z0-9._-]{1,19}",
            odd in "[A-Za-z0-9]{10}[^A-Za-z0-9._-][A-Za-z0-9]{10}",
        ) {
            proptest::prop_assert!(ApiKey::from_user(&short).is_err());
            proptest::prop_assert!(ApiKey::from_user(&odd).is_err());
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let k = ApiKey::parse("sk-or-v1-SENTINEL-0123456789").unwrap();
        assert!(!format!("{k:?}").contains("SENTINEL"));
    }
}
