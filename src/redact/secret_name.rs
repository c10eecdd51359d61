//! The one rule for names that hold a credential: a JSON/JSON5 property (`apiKey`,
//! `sessionTokens`, `clientSecret`), a `.env` variable (`DB_PASSWORD`), a URL query
//! parameter (`?access_token=`, `X-Amz-Signature=`). Every masker asks [`secrecy`] (the
//! diff and report in `redact`, the URL masking in `secrets`, and through it `output`), so
//! a name hidden in one place is hidden in all of them.
//!
//! A name is split into words (camelCase humps, `_`, `-`, `.`); it names a credential when
//! a word, in singular or plural, is one of the family (`key`, `token`, `secret`,
//! `password`, …), or the name run together ends in one (`accesstoken`, `APIKEYS`); unless
//! its last word says it *describes* one (`keyFile`, `tokenUrl`, `apiKeyEnv`).

/// What a name says about the value under it, from the least strict to the strictest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Secrecy {
    Plain,
    /// Only the token family (`sessionTokens`, `maxTokens`): strings are credentials, but a
    /// number is a count (`maxTokens: 8192`, `contextTokens`), which shows.
    Tokens,
    /// A credential: every string and number under it is masked.
    Secret,
}

impl Secrecy {
    pub fn masks_strings(self) -> bool {
        self != Secrecy::Plain
    }

    pub fn masks_numbers(self) -> bool {
        self == Secrecy::Secret
    }
}

/// The family, singular; a word matches a stem or the stem plus `s`.
const STEMS: &[&str] = &[
    "key",
    "apikey",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "passcode",
    "authorization",
    "credential",
    "cookie",
    "bearer",
    "privatekey",
    "signature",
    "sig",
    "mnemonic",
    "salt",
    "dsn",
];

/// Stems that also count when the name is run together (`accesstoken`, `clientsecret`):
/// long enough not to end ordinary words (`monkey`, `bypass`, `compass`).
const RUN_TOGETHER: &[&str] = &[
    "apikey",
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "authorization",
    "credential",
    "privatekey",
];

/// Words a credential's name is likely to hold, checked before splitting: a name with
/// none of them is settled without allocating (this runs for every property of every
/// diffed file).
const HINTS: &[&str] = &[
    "key",
    "token",
    "secret",
    "pass",
    "pwd",
    "auth",
    "credential",
    "cookie",
    "bearer",
    "sig",
    "mnemonic",
    "salt",
    "dsn",
];

/// A last word that makes the name describe a credential rather than hold one
/// (`maxTokensField`, `keyFile`, `tokenUrl`, `apiKeyEnv`, `tokenExpiresAt`).
const META_WORDS: &[&str] = &[
    "field",
    "fields",
    "name",
    "names",
    "id",
    "ids",
    "type",
    "types",
    "count",
    "env",
    "var",
    "path",
    "file",
    "url",
    "header",
    "mode",
    "format",
    "source",
    "ref",
    "limit",
    "length",
    "prefix",
    "hint",
    "label",
    "kind",
    "policy",
    "provider",
    "style",
    "version",
    "at",
    "ttl",
    "expiry",
    "expires",
    "timeout",
    "size",
    "algorithm",
    "enabled",
];

/// Whether `text` (a name, or a whole line) holds any word a credential's name is made of:
/// when not, nothing in it needs a closer look.
pub fn hinted(text: &str) -> bool {
    HINTS.iter().any(|h| contains_ignore_case(text, h))
}

fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The words of a name: split at non-alphanumerics and camelCase humps, lowercased.
pub(crate) fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The stem `w` is (singular or plural), if any.
fn stem_of<'a>(w: &str, stems: &[&'a str]) -> Option<&'a str> {
    let singular = w.strip_suffix('s').unwrap_or(w);
    stems.iter().copied().find(|s| *s == w || *s == singular)
}

/// What `name` says about its value (see the module's rule).
pub fn secrecy(name: &str) -> Secrecy {
    if !hinted(name) {
        return Secrecy::Plain;
    }
    let w = words(name);
    if w.last().is_some_and(|l| META_WORDS.contains(&l.as_str())) {
        return Secrecy::Plain;
    }
    let mut found: Vec<&str> = w.iter().filter_map(|x| stem_of(x, STEMS)).collect();
    // `basicAuth`, `PROXY_AUTH`: a credential; `auth` first or alone is OpenClaw's block
    // of auth profiles (`auth.profiles`: no secret in it, and what setup edits), so it is not.
    if w.iter().skip(1).any(|x| x == "auth") {
        found.push("auth");
    }
    let run: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    let singular = run.strip_suffix('s').unwrap_or(&run);
    if let Some(s) = RUN_TOGETHER
        .iter()
        .find(|s| run.ends_with(*s) || singular.ends_with(*s))
    {
        found.push(s);
    }
    match found.as_slice() {
        [] => Secrecy::Plain,
        f if f.iter().all(|s| *s == "token") => Secrecy::Tokens,
        _ => Secrecy::Secret,
    }
}

/// Whether `name` holds a credential (strings under it are masked).
pub fn secret_name(name: &str) -> bool {
    secrecy(name).masks_strings()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_by_word() {
        for yes in [
            "apiKey",
            "apiKeys",
            "CORP_TOKEN_VALUE",
            "x-api-key",
            "clientSecret",
            "accesstoken",
            "OPENAI_API_KEY",
            "db_password",
            "Authorization",
            "sessionTokens",
            "secrets",
            "passwords",
            "credentials",
            "refresh_tokens",
            "APIKEYS",
            "X-Amz-Signature",
            "sig",
            "basicAuth",
            "DB_PASS",
        ] {
            assert!(secret_name(yes), "{yes}");
        }
        for no in [
            "maxTokensField",
            "auth",
            "profiles",
            "primary",
            "keyFile",
            "apiKeyEnv",
            "tokenUrl",
            "monkey",
            "bypass",
            "session",
            "contextWindow",
        ] {
            assert!(!secret_name(no), "{no}");
        }
        // Counts: the token family's numbers show, its strings do not.
        for counts in [
            "maxTokens",
            "contextTokens",
            "reserveTokensFloor",
            "keepRecentTokens",
        ] {
            let s = secrecy(counts);
            assert!(s.masks_strings() && !s.masks_numbers(), "{counts}: {s:?}");
        }
        assert!(secrecy("credentials").masks_numbers());
        assert!(secrecy("apiKeyTokens").masks_numbers());
    }

    /// Words in none of the family, and common words near them.
    const PLAIN_WORDS: &[&str] = &[
        "model",
        "primary",
        "profiles",
        "provider",
        "mode",
        "workspace",
        "port",
        "session",
        "context",
        "window",
        "max",
        "gateway",
        "channel",
        "slack",
        "bot",
        "user",
        "name",
        "allow",
        "list",
        "access",
        "client",
        "refresh",
        "db",
        "prod",
        "value",
        "main",
    ];
    /// Words that may stand before or after a family word without making it a description.
    const NEUTRAL: &[&str] = &[
        "session", "access", "refresh", "bot", "api", "db", "client", "my", "prod", "value",
        "main", "openai",
    ];

    /// A name from words in one of the case styles people and tools use.
    fn styled(words: Vec<String>, style: usize) -> String {
        let cap = |w: &str| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        };
        match style {
            0 => words
                .iter()
                .enumerate()
                .map(|(i, w)| if i == 0 { w.clone() } else { cap(w) })
                .collect(),
            1 => words.iter().map(|w| cap(w)).collect(),
            2 => words.join("_"),
            3 => words.join("_").to_uppercase(),
            4 => words.join("-"),
            _ => words.join("."),
        }
    }

    fn family_word() -> impl Strategy<Value = String> {
        (prop::sample::select(STEMS), any::<bool>()).prop_map(|(s, plural)| {
            if plural {
                format!("{s}s")
            } else {
                s.to_owned()
            }
        })
    }

    /// A credential's name: optional neutral words, a family word, an optional neutral word
    /// after it; in any style.
    fn family_name() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(prop::sample::select(NEUTRAL), 0..3),
            family_word(),
            prop::option::of(prop::sample::select(NEUTRAL)),
            0usize..6,
        )
            .prop_map(|(before, w, after, style)| {
                let mut words: Vec<String> = before.iter().map(|s| s.to_string()).collect();
                words.push(w);
                words.extend(after.map(str::to_owned));
                styled(words, style)
            })
    }

    proptest! {
        #[test]
        fn the_family_is_secret_in_any_style(name in family_name()) {
            prop_assert!(secret_name(&name), "{}", name);
        }

        #[test]
        fn run_together_names_are_secret(
            before in prop::sample::select(NEUTRAL),
            stem in prop::sample::select(RUN_TOGETHER),
            plural in any::<bool>(),
            upper in any::<bool>(),
        ) {
            let n = format!("{before}{stem}{}", if plural { "s" } else { "" });
            let n = if upper { n.to_uppercase() } else { n };
            prop_assert!(secret_name(&n), "{}", n);
        }

        #[test]
        fn a_describing_last_word_is_not_secret(
            name in family_name(),
            meta in prop::sample::select(META_WORDS),
            style in 0usize..6,
        ) {
            let mut w = words(&name);
            w.push(meta.to_owned());
            let n = styled(w, style);
            prop_assert!(!secret_name(&n), "{}", n);
        }

        /// One rule everywhere: a value under a credential's name is hidden by every masker
        /// output goes through: a JSON property (alone, in a list, nested), a `.env` entry,
        /// a URL query parameter in any printed text.
        #[test]
        fn every_masker_hides_what_the_name_rule_names(
            name in family_name(),
            value in "[A-Z]{4}[a-z]{4}[0-9]{4}",
        ) {
            let json = format!(
                "{{\n  \"{name}\": \"{value}\",\n  \"list\": {{ \"{name}\": [\"{value}\"] }},\n  \"{name}\": {{ \"a\": {{ \"b\": \"{value}\" }} }}\n}}\n"
            );
            let masked = crate::redact::json_masked(&json);
            prop_assert!(!masked.contains(&value), "{}", masked);
            for l in json.lines() {
                let one = crate::redact::json_line(l);
                prop_assert!(!l.contains(&format!("\"{name}\": \"")) || !one.contains(&value), "{}", one);
            }
            let env = crate::redact::env_text(&format!("{name}={value}\n"));
            prop_assert!(!env.contains(&value), "{}", env);
            let url = crate::redact::secrets::Redactor::new().text(&format!("see https://h.example/p?a=1&{name}={value}#x"));
            prop_assert!(!url.contains(&value), "{}", url);
        }

        #[test]
        fn plain_words_are_not_secret(
            w in prop::collection::vec(prop::sample::select(PLAIN_WORDS), 1..4),
            style in 0usize..6,
        ) {
            let n = styled(w.iter().map(|s| s.to_string()).collect(), style);
            prop_assert!(!secret_name(&n), "{}", n);
        }
    }
}
