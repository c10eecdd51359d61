//! Secrets in text we did not write ourselves: error messages (ours, a server's), paths,
//! reports. A [`Redactor`] is made per run (by the command line, which hands it to the output
//! sink) and applies two nets to every byte printed:
//!
//! 1. **Known secrets.** Every key the run has seen (the key as given, a key read from `.env`,
//!    a SecretRef resolved by verify, the keys a plan replaces) is added to the run's
//!    redactor where it is found, so a message printed later masks it even when the code that
//!    prints it never had the key in hand. A *piece* of a known key (a server echoing a
//!    truncated `sk-or-v1-SENTINELKEY012…`, or the key's middle) is caught too: any run of
//!    key characters that shares 8 consecutive characters with a known secret is masked.
//! 2. **Key-shaped strings.** A run that starts with a well-known credential prefix (`sk-`,
//!    `ghp_`, `AKIA`, …) and is long enough to be a credential is masked even when we never
//!    saw it: another provider's key in a config, or a key someone typed as a root.
//!
//! Masking keeps what [`redact`] shows (first 6 and last 4 characters) for a whole known
//! secret or a key-shaped run; a *fragment* of a known secret shows only the head the full
//! redaction shows anyway, so fragments cannot be pieced together into more of the key.

use std::borrow::Cow;
use std::sync::RwLock;

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

/// Secrets at least this long are masked wherever they appear, pieces of them too; shorter
/// ones (an old placeholder value such as `test`) only where a whole run of key characters
/// is the secret, since masking them inside words would mangle ordinary words and paths.
const MIN_SECRET: usize = 8;
/// Shorter than this, a string is not masked at all.
const MIN_SHORT_SECRET: usize = 4;
/// A fragment this long of a known secret marks a run as part of it.
const GRAM: usize = 8;

/// The secrets of one run, and the fragments of their hidden parts, kept ready: redaction
/// runs on every line printed, adding happens a handful of times per run.
#[derive(Default)]
struct Known {
    secrets: Vec<String>,
    /// Secrets of 4 to 7 characters: masked as whole runs only.
    short: Vec<String>,
    /// Every 8-byte window of every hidden part, as a number, sorted: a lookup per window
    /// of every run printed is a binary search over integers.
    grams: Vec<u64>,
}

/// One run's redaction: the secrets it has met and the key-shape rules. A handle: clones
/// share the secrets, so what a stage of the run adds (a key read from `.env`, a resolved
/// SecretRef) is masked in everything the run prints afterwards. Never a process-wide
/// registry: each run, and each test, has its own.
#[derive(Clone, Default)]
pub struct Redactor(std::sync::Arc<RwLock<Known>>);

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.read().map_or(0, |k| k.secrets.len() + k.short.len());
        write!(f, "Redactor({n} secrets)")
    }
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// A redactor that knows these secrets.
    pub fn of<S: AsRef<str>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let r = Self::new();
        for s in secrets {
            r.add(s.as_ref());
        }
        r
    }

    /// Remembers a secret for every later redaction of this run.
    pub fn add(&self, secret: &str) {
        if secret.len() < MIN_SHORT_SECRET || self.knows(secret) {
            return;
        }
        let Ok(mut known) = self.0.write() else {
            return;
        };
        if secret.len() < MIN_SECRET {
            known.short.push(secret.to_owned());
            return;
        }
        known.secrets.push(secret.to_owned());
        let hidden = hidden_part(secret);
        for w in hidden.as_bytes().windows(GRAM) {
            known.grams.push(gram(w));
        }
        known.grams.sort_unstable();
        known.grams.dedup();
    }

    fn knows(&self, secret: &str) -> bool {
        self.0
            .read()
            .is_ok_and(|k| k.secrets.iter().chain(&k.short).any(|s| s == secret))
    }

    /// Whether `s` (a whole argument) looks like an API key (see [`looks_like_key`]) or holds
    /// a secret this run knows. Used to refuse printing an argument given where a path goes.
    pub fn looks_like_key(&self, s: &str) -> bool {
        looks_like_key(s)
            || self
                .0
                .read()
                .is_ok_and(|k| k.secrets.iter().any(|k| s.contains(k.as_str())))
    }

    /// Masks every known secret, every key-shaped run and every credential inside a URL
    /// (see `mask_urls`) in `text`.
    pub fn text(&self, text: &str) -> String {
        let urls = mask_urls(text);
        let text: &str = &urls;
        let Ok(known) = self.0.read() else {
            return mask_runs(text, |run| key_shaped(run).then(|| redact(run)));
        };
        // Whole secrets first: one may hold characters that are not key characters.
        let mut out = Cow::Borrowed(text);
        for s in &known.secrets {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), &redact(s)));
            }
        }
        mask_runs(&out, |run| {
            if known.secrets.iter().chain(&known.short).any(|k| k == run) {
                return Some(redact(run));
            }
            if run.len() >= GRAM
                && run
                    .as_bytes()
                    .windows(GRAM)
                    .any(|w| known.grams.binary_search(&gram(w)).is_ok())
            {
                return Some(fragment(run, &known.secrets));
            }
            key_shaped(run).then(|| redact(run))
        })
    }

    /// Redacts every string (and object key) of a JSON value in place, so a report is clean
    /// before it is serialised.
    pub fn value(&self, v: &mut serde_json::Value) {
        use serde_json::Value;
        match v {
            Value::String(s) => *s = self.text(s),
            Value::Array(a) => a.iter_mut().for_each(|v| self.value(v)),
            Value::Object(o) => {
                *o = std::mem::take(o)
                    .into_iter()
                    .map(|(k, mut v)| {
                        self.value(&mut v);
                        (self.text(&k), v)
                    })
                    .collect();
            }
            _ => {}
        }
    }
}

fn gram(w: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&w[..GRAM]);
    u64::from_le_bytes(b)
}

/// Characters a key is made of. A run of them is the unit that is masked or kept.
fn key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*')
}

/// Well-known credential prefixes (OpenAI/OpenRouter/GateRouter `sk-`, Stripe, GitHub,
/// GitLab, Slack, AWS, Google, Hugging Face, npm, PyPI, JWTs).
const PREFIXES: &[&str] = &[
    "sk-",
    "sk_",
    "rk_",
    "pk_live_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxs-",
    "xapp-",
    "AKIA",
    "ASIA",
    "AIza",
    "hf_",
    "npm_",
    "pypi-",
    "eyJ",
];

/// How many characters after the prefix make a run a credential rather than a word.
const MIN_AFTER_PREFIX: usize = 12;

/// A run of key characters that starts with a credential prefix and is long enough.
fn key_shaped(run: &str) -> bool {
    PREFIXES
        .iter()
        .any(|p| run.starts_with(p) && run.len() >= p.len() + MIN_AFTER_PREFIX)
}

/// Whether `s` looks like an API key by its shape alone: a key-shaped run, or a long (32+)
/// run of key characters of which a quarter or more are digits (random tokens; names people
/// give directories rarely are).
pub fn looks_like_key(s: &str) -> bool {
    s.chars().all(key_char) && {
        let digits = s.chars().filter(char::is_ascii_digit).count();
        key_shaped(s) || (s.len() >= 32 && digits * 4 >= s.len())
    }
}

/// A random-looking token inside a URL (a Slack webhook's last segment, a Discord
/// webhook's token, a signed link's signature): 16 or more key characters that are not
/// words joined by `-`/`_` (`claude-sonnet-4-6-20250514`, `2024-06-01-preview` are words).
fn url_token(run: &str) -> bool {
    if run.len() < 16 {
        return false;
    }
    let wordy = run.split(['-', '_']).all(|p| {
        (p.len() <= 12 && p.chars().all(|c| c.is_ascii_alphabetic()))
            || (p.len() <= 8 && p.chars().all(|c| c.is_ascii_digit()))
    });
    !wordy
}

/// Where a URL in text ends: at white space, a quote, an angle bracket or a backslash (the
/// escape before a quote in JSON text).
fn url_char(c: char) -> bool {
    !(c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '`' | '<' | '>' | '\\'))
}

const MASK: &str = "…";

/// Masks the credentials a URL can carry, wherever one appears in `text` (a config's
/// `webhookUrl`, a DSN, an error message naming the URL it was for): the userinfo's
/// password (and a token-like user: `https://ghp_…@github.com`), every query or fragment
/// value whose parameter is a credential's name by the one name rule (`?access_token=`,
/// `&X-Amz-Signature=`, see `secret_name`) or that looks like a token, and every
/// token-like run in the path (`/services/T0/B0/…`). Host, port, path words and other
/// parameters stay, so the URL still says where it points. `file:` URLs are paths.
pub fn mask_urls(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let scheme_start = rest[..i]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')))
            .map_or(0, |(p, c)| p + c.len_utf8());
        let scheme = &rest[scheme_start..i];
        let end = rest[i + 3..]
            .find(|c: char| !url_char(c))
            .map_or(rest.len(), |e| i + 3 + e);
        out.push_str(&rest[..i + 3]);
        let body = &rest[i + 3..end];
        if scheme.is_empty() || scheme.eq_ignore_ascii_case("file") {
            out.push_str(body);
        } else {
            out.push_str(&mask_url_body(body));
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    if out == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(out)
    }
}

/// A URL after `scheme://`: authority, path, query, fragment.
fn mask_url_body(body: &str) -> String {
    let auth_end = body.find(['/', '?', '#']).unwrap_or(body.len());
    let (authority, tail) = body.split_at(auth_end);
    let mut out = String::with_capacity(body.len());
    match authority.rfind('@') {
        Some(at) => {
            let (user, pass) = match authority[..at].split_once(':') {
                Some((u, _)) => (u, Some(MASK)),
                None => (&authority[..at], None),
            };
            if url_token(user) || key_shaped(user) {
                out.push_str(MASK);
            } else {
                out.push_str(user);
            }
            if let Some(p) = pass {
                out.push(':');
                out.push_str(p);
            }
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let q = tail.find(['?', '#']).unwrap_or(tail.len());
    let (path, params) = tail.split_at(q);
    let tokens = |s: &str| mask_runs(s, |run| url_token(run).then(|| MASK.to_owned()));
    out.push_str(&tokens(path));
    // Query and fragment: `name=value` pairs split at `&`/`;` (`#access_token=…` as well).
    let mut pair = String::new();
    let flush = |pair: &mut String, out: &mut String| {
        match pair.split_once('=') {
            Some((name, value)) if !value.is_empty() => {
                out.push_str(name);
                out.push('=');
                if crate::redact::secret_name::secret_name(name.trim_start_matches(['?', '#'])) {
                    out.push_str(MASK);
                } else {
                    out.push_str(&tokens(value));
                }
            }
            _ => out.push_str(&tokens(pair)),
        }
        pair.clear();
    };
    for c in params.chars() {
        if matches!(c, '&' | ';' | '#') || (c == '?' && !pair.is_empty()) {
            flush(&mut pair, &mut out);
            if c == '&' || c == ';' {
                out.push(c);
                continue;
            }
        }
        pair.push(c);
    }
    flush(&mut pair, &mut out);
    out
}

/// The characters `key::redact` hides. Fragments are matched against these only: the
/// shown ends are public anyway, and a shared prefix such as `sk-or-v1-` is not a secret.
fn hidden_part(secret: &str) -> String {
    let n = secret.chars().count();
    let shown = redact(secret);
    let (head, tail) = shown.split_once('…').unwrap_or(("", ""));
    let (h, t) = (head.chars().count(), tail.chars().count());
    secret
        .chars()
        .skip(h)
        .take(n.saturating_sub(h + t))
        .collect()
}

/// A piece of a known secret: only the head the full redaction shows anyway (when the piece
/// starts like the secret), then `…`.
fn fragment(run: &str, known: &[String]) -> String {
    let head = known
        .iter()
        .filter_map(|k| {
            let shown = redact(k);
            let head = shown.split('…').next().unwrap_or("");
            (!head.is_empty() && run.starts_with(head)).then(|| head.to_owned())
        })
        .max_by_key(String::len)
        .unwrap_or_default();
    format!("{head}…")
}

/// Rewrites each maximal run of key characters for which `f` returns a replacement.
fn mask_runs(text: &str, f: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run_start: Option<usize> = None;
    let flush = |out: &mut String, run: &str| match f(run) {
        Some(r) => out.push_str(&r),
        None => out.push_str(run),
    };
    for (i, c) in text.char_indices() {
        match (key_char(c), run_start) {
            (true, None) => run_start = Some(i),
            (true, Some(_)) => {}
            (false, Some(s)) => {
                flush(&mut out, &text[s..i]);
                run_start = None;
                out.push(c);
            }
            (false, None) => out.push(c),
        }
    }
    if let Some(s) = run_start {
        flush(&mut out, &text[s..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_key_and_its_fragments_are_masked() {
        let key = "sk-or-v1-UNITSENTINEL0123456789abcdef";
        let r = Redactor::of([key]);
        let t = r.text(&format!("bad key {key}."));
        assert_eq!(t, "bad key sk-or-…cdef.");
        // A server echoing a truncated key, with or without its prefix.
        let t = r.text("Incorrect API key: sk-or-v1-UNITSENT****cdef");
        assert!(!t.contains("UNITSENT"), "{t}");
        // This test's own redactor: no other test's secret can mask the line first.
        assert_eq!(r.text("key UNITSENTINEL0123 invalid"), "key … invalid");
    }

    #[test]
    fn credentials_in_urls_are_masked_where_they_are() {
        for (url, shown) in [
            (
                "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/xoxAbC1234567890DefGhIjK",
                "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/…",
            ),
            (
                "https://discord.com/api/webhooks/123456789012345678/aBcD-EfGh_0123456789abcdefXYZ",
                "https://discord.com/api/webhooks/…/…",
            ),
            (
                "postgres://app:hunter2@db:5432/app",
                "postgres://app:…@db:5432/app",
            ),
            (
                "https://h.example/x?token=abc&page=2&X-Amz-Signature=deadbeef#access_token=tok",
                "https://h.example/x?token=…&page=2&X-Amz-Signature=…#access_token=…",
            ),
            (
                "https://h.example/cb?state=q1w2e3r4t5y6u7i8o9p0",
                "https://h.example/cb?state=…",
            ),
            (
                "https://api.gaterouter.ai/openai/v1",
                "https://api.gaterouter.ai/openai/v1",
            ),
            (
                "https://x.example/models/claude-sonnet-4-6-20250514?api-version=2024-06-01-preview",
                "https://x.example/models/claude-sonnet-4-6-20250514?api-version=2024-06-01-preview",
            ),
            (
                "file:///srv/aVeryLongDirectoryName0123/x",
                "file:///srv/aVeryLongDirectoryName0123/x",
            ),
        ] {
            let t = format!("url \"{url}\", then words");
            assert_eq!(
                Redactor::new().text(&t),
                format!("url \"{shown}\", then words")
            );
            assert_eq!(
                Redactor::new().text(&Redactor::new().text(&t)),
                Redactor::new().text(&t)
            );
        }
    }

    mod url_properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any text: no panic (byte boundaries), masking twice changes nothing more.
            #[test]
            fn any_text_is_masked_idempotently(t in "\\PC{0,40}(://\\PC{0,40})?") {
                let once = mask_urls(&t).into_owned();
                prop_assert_eq!(mask_urls(&once).into_owned(), once);
            }

            /// A random token (16+ characters) anywhere a URL carries one (path segment, userinfo password,
            /// a credential-named or any query parameter, the fragment) never shows; the
            /// host always does.
            #[test]
            fn url_credentials_never_show(
                host in "[a-z]{3,10}\\.(com|io|example)",
                words in prop::collection::vec("[a-z]{2,10}", 0..3),
                token in "[A-Za-z0-9_-]{13,30}[0-9][A-Z][a-z]",
                place in 0usize..5,
                param in prop::sample::select(vec!["token", "access_token", "apiKey", "sig", "X-Goog-Signature", "state", "q"]),
            ) {
                let path = words.join("/");
                let url = match place {
                    0 => format!("https://{host}/{path}/{token}"),
                    1 => format!("https://user:{token}@{host}/{path}"),
                    2 => format!("https://{host}/{path}?{param}={token}&page=2"),
                    3 => format!("https://{host}/{path}#access_token={token}"),
                    _ => format!("https://{token}@{host}/{path}"),
                };
                let shown = Redactor::new().text(&format!("\"url\": \"{url}\","));
                prop_assert!(!shown.contains(&token), "{}", shown);
                prop_assert!(shown.contains(&host), "{}", shown);
            }
        }
    }

    #[test]
    fn key_shaped_runs_are_masked_words_are_not() {
        let t = Redactor::new().text("token ghp_abcdefghijklmnopqrstuvwxyz0123 here");
        assert_eq!(t, "token ghp_ab…0123 here");
        let plain =
            "sk-or-v1-… is an example; task-list.json; gaterouter/auto; 2026-11-25T22:00:00Z";
        assert_eq!(Redactor::new().text(plain), plain);
    }

    #[test]
    fn a_short_secret_is_masked_as_a_whole_run_only() {
        let r = Redactor::of(["shrt"]);
        assert_eq!(r.text("value: shrt"), "value: …");
        assert_eq!(r.text("/tmp/shrt-root"), "/tmp/shrt-root");
    }

    #[test]
    fn redaction_is_idempotent() {
        let key = "sk-or-v1-IDEMPOTENT0123456789abcdef";
        let r = Redactor::of([key]);
        let once = r.text(&format!("{key} / sk-proj-abcdefghijklmnop"));
        assert_eq!(r.text(&once), once);
    }

    #[test]
    fn json_values_are_redacted_structurally() {
        let key = "sk-or-v1-VALUESENTINEL0123456789abcd";
        let mut v =
            serde_json::json!({"error": {"message": format!("no {key}"), "path": key}, key: 1});
        Redactor::of([key]).value(&mut v);
        assert!(!v.to_string().contains("VALUESENTINEL"), "{v}");
    }
}
