//! Secrets in text we did not write ourselves: error messages (ours, a server's), paths,
//! reports. Two nets, both applied to every byte printed (see `output`):
//!
//! 1. **Known secrets.** Every key this process has seen (a validated `ApiKey`, the raw key
//!    argument, a key read from `.env`, any secret handed to `key::redact_all`) is kept in a
//!    process-wide registry, so a message printed later masks it even when the code that
//!    prints it never had the key in hand. A *piece* of a known key (a server echoing a
//!    truncated `sk-or-v1-SENTINELKEY012…`, or the key's middle) is caught too: any run of
//!    key characters that shares 8 consecutive characters with a known secret is masked.
//! 2. **Key-shaped strings.** A run that starts with a well-known credential prefix (`sk-`,
//!    `ghp_`, `AKIA`, …) and is long enough to be a credential is masked even when we never
//!    saw it: another provider's key in a config, or a key someone typed as a root.
//!
//! Masking keeps what `key::redact` shows (first 6 and last 4 characters) for a whole known
//! secret or a key-shaped run; a *fragment* of a known secret shows only the head the full
//! redaction shows anyway, so fragments cannot be pieced together into more of the key.

use std::sync::RwLock;

use crate::key::redact;

/// Secrets at least this long are remembered for the whole run; shorter ones (an old
/// placeholder value such as `test`) only in the text they were handed in with, since
/// masking them everywhere would mangle ordinary words and paths.
const MIN_SECRET: usize = 8;
/// Shorter than this, a string is not masked at all (as before the registry).
const MIN_LOCAL_SECRET: usize = 4;
/// A fragment this long of a known secret marks a run as part of it.
const GRAM: usize = 8;

/// The secrets seen so far, and the fragments of their hidden parts, kept ready: redaction
/// runs on every line printed, registering happens a handful of times per run.
struct Known {
    secrets: Vec<String>,
    /// Every 8-byte window of every hidden part, as a number, sorted: a lookup per window
    /// of every run printed is a binary search over integers.
    grams: Vec<u64>,
}

static KNOWN: RwLock<Known> = RwLock::new(Known {
    secrets: Vec::new(),
    grams: Vec::new(),
});

/// Remembers a secret for every later redaction in this process.
pub fn register(secret: &str) {
    if secret.len() < MIN_SECRET {
        return;
    }
    if KNOWN
        .read()
        .is_ok_and(|k| k.secrets.iter().any(|s| s == secret))
    {
        return;
    }
    let Ok(mut known) = KNOWN.write() else {
        return;
    };
    if !known.secrets.iter().any(|k| k == secret) {
        known.secrets.push(secret.to_owned());
        let hidden = hidden_part(secret);
        for w in hidden.as_bytes().windows(GRAM) {
            known.grams.push(gram(w));
        }
        known.grams.sort_unstable();
        known.grams.dedup();
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

/// Whether `s` (a whole argument) looks like an API key: a key-shaped run, a long (32+) run of
/// key characters of which a quarter or more are digits (random tokens; names people give
/// directories rarely are), or a string we already know is a secret. Used to refuse
/// printing an argument given where a path goes.
pub fn looks_like_key(s: &str) -> bool {
    if s.chars().all(key_char) {
        let digits = s.chars().filter(char::is_ascii_digit).count();
        if key_shaped(s) || (s.len() >= 32 && digits * 4 >= s.len()) {
            return true;
        }
    }
    KNOWN
        .read()
        .is_ok_and(|k| k.secrets.iter().any(|k| s.contains(k.as_str())))
}

/// Masks every known secret (plus `extra`, which is registered too) and every key-shaped
/// run in `text`.
pub fn redact_text(text: &str, extra: &[&str]) -> String {
    for s in extra {
        register(s);
    }
    let Ok(known) = KNOWN.read() else {
        return mask_runs(text, |run| key_shaped(run).then(|| redact(run)));
    };
    // Whole secrets first: one may hold characters that are not key characters.
    let mut out = std::borrow::Cow::Borrowed(text);
    let local = extra
        .iter()
        .filter(|s| (MIN_LOCAL_SECRET..MIN_SECRET).contains(&s.len()))
        .copied();
    for s in local {
        if out.contains(s) {
            out = std::borrow::Cow::Owned(out.replace(s, &redact(s)));
        }
    }
    for s in &known.secrets {
        if out.contains(s.as_str()) {
            out = std::borrow::Cow::Owned(out.replace(s.as_str(), &redact(s)));
        }
    }
    mask_runs(&out, |run| {
        if let Some(k) = known.secrets.iter().find(|k| k.as_str() == run) {
            return Some(redact(k));
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

/// Redacts every string (and object key) of a JSON value in place, so a report is clean
/// before it is serialised.
pub fn redact_value(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            let r = redact_text(s, &[]);
            if r != *s {
                *s = r;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_value),
        Value::Object(o) => {
            let needs_rename = o.keys().any(|k| redact_text(k, &[]) != *k);
            if needs_rename {
                let old = std::mem::take(o);
                for (k, mut val) in old {
                    redact_value(&mut val);
                    o.insert(redact_text(&k, &[]), val);
                }
            } else {
                o.values_mut().for_each(redact_value);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_key_and_its_fragments_are_masked() {
        let key = "sk-or-v1-UNITSENTINEL0123456789abcdef";
        let t = redact_text(&format!("bad key {key}."), &[key]);
        assert_eq!(t, "bad key sk-or-…cdef.");
        // A server echoing a truncated key, with or without its prefix.
        let t = redact_text("Incorrect API key: sk-or-v1-UNITSENT****cdef", &[]);
        assert!(!t.contains("UNITSENT"), "{t}");
        // The registry is the process's, shared with every other test running alongside
        // (whose secrets may mask part of this line first): what matters is that the
        // fragment does not show, not the exact mask.
        let t = redact_text("key UNITSENTINEL0123 invalid", &[]);
        assert!(
            t.starts_with("key ") && t.ends_with(" invalid") && t.contains('…'),
            "{t}"
        );
        assert!(!t.contains("SENTINEL0123"), "{t}");
    }

    #[test]
    fn key_shaped_runs_are_masked_words_are_not() {
        let t = redact_text("token ghp_abcdefghijklmnopqrstuvwxyz0123 here", &[]);
        assert_eq!(t, "token ghp_ab…0123 here");
        let plain =
            "sk-or-v1-… is an example; task-list.json; gaterouter/auto; 2026-11-25T22:00:00Z";
        assert_eq!(redact_text(plain, &[]), plain);
    }

    #[test]
    fn a_short_secret_is_masked_where_handed_in_only() {
        assert_eq!(redact_text("value: shrt", &["shrt"]), "value: …");
        assert_eq!(redact_text("/tmp/shrt-root", &[]), "/tmp/shrt-root");
    }

    #[test]
    fn redaction_is_idempotent() {
        let key = "sk-or-v1-IDEMPOTENT0123456789abcdef";
        let once = redact_text(&format!("{key} / sk-proj-abcdefghijklmnop"), &[key]);
        assert_eq!(redact_text(&once, &[]), once);
    }

    #[test]
    fn json_values_are_redacted_structurally() {
        let key = "sk-or-v1-VALUESENTINEL0123456789abcd";
        let mut v =
            serde_json::json!({"error": {"message": format!("no {key}"), "path": key}, key: 1});
        redact_value(&mut v);
        assert!(!v.to_string().contains("VALUESENTINEL"), "{v}");
    }
}
