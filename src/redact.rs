//! Redaction of what a diff or report shows. Our key and any key it replaces are masked
//! everywhere; beyond that, diff context lines can show the user's *other* secrets (an
//! `OPENAI_API_KEY=` line next to ours, a literal `apiKey` of another provider), so every
//! `.env` value and every secret-looking JSON value is masked too. Output of this tool may
//! end up in CI logs; it must never carry a credential.

use crate::key::{redact, redact_all};
use crate::plan::env_file::Assignment;

/// Masks the value of a `NAME=value` line (with optional `export`); other lines unchanged.
pub fn env_line(line: &str) -> String {
    let Some(a) = Assignment::parse(line) else {
        return line.to_owned();
    };
    let quote = a
        .value
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\'' | '`'));
    let inner = match quote {
        Some(q) if !a.unclosed => &a.value[1..a.value.len() - q.len_utf8()],
        Some(_) => &a.value[1..],
        None => a.value,
    };
    if inner.is_empty() {
        return line.to_owned();
    }
    let masked = match quote {
        Some(q) if !a.unclosed => format!("{q}{}{q}", redact(inner)),
        Some(q) => format!("{q}{}", redact(inner)),
        None => redact(inner),
    };
    format!("{}{masked}{}", a.head, a.tail)
}

/// Substrings every name `secret_name` accepts contains (case-insensitively).
const SECRET_HINTS: &[&str] = &[
    "key",
    "token",
    "secret",
    "pass",
    "authorization",
    "credential",
];

fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// A property name that usually holds a credential.
fn secret_name(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    // Endings, not substrings: `accessToken` is a secret, `maxTokensField` is not.
    [
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "authorization",
        "credential",
        "credentials",
        "privatekey",
    ]
    .iter()
    .any(|s| n.ends_with(s))
}

/// A value that is a reference, not a credential: `${VAR}`, a bare variable name, empty.
fn is_reference(v: &str) -> bool {
    v.is_empty()
        || (v.starts_with("${") && v.ends_with('}'))
        || v.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Masks `"apiKey": "sk-…"`-style string values on one JSON/JSON5 line.
pub fn json_line(line: &str) -> String {
    // Most lines hold no credential-like name at all: skip the tokenizer for them.
    if !line.contains(':') || !SECRET_HINTS.iter().any(|h| contains_ignore_case(line, h)) {
        return line.to_owned();
    }
    // Tokens on the line: (start, end, decoded-ish text, is_string).
    let bytes = line.as_bytes();
    let mut tokens: Vec<(usize, usize, &str, bool)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'"' || c == b'\'' {
            let start = i;
            i += 1;
            while i < bytes.len() && bytes[i] != c {
                if bytes[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            let end = (i + 1).min(bytes.len());
            let inner_end = i.min(bytes.len());
            tokens.push((start, end, &line[start + 1..inner_end], true));
            i = end;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$')
            {
                i += 1;
            }
            tokens.push((start, i, &line[start..i], false));
        } else if c == b':' {
            tokens.push((i, i + 1, ":", false));
            i += 1;
        } else {
            i += 1;
        }
    }
    let mut out = String::with_capacity(line.len());
    let mut last = 0;
    for w in tokens.windows(3) {
        let (name, colon, value) = (w[0], w[1], w[2]);
        if colon.2 == ":" && !colon.3 && value.3 && secret_name(name.2) && !is_reference(value.2) {
            out.push_str(&line[last..value.0 + 1]);
            out.push_str(&redact(value.2));
            last = value.1.saturating_sub(1).max(value.0 + 1);
        }
    }
    out.push_str(&line[last..]);
    out
}

/// Redacts one line of a file of the given kind, then any known secret anywhere in it.
pub fn line(kind: crate::plan::FileKind, text: &str, secrets: &[&str]) -> String {
    let masked = match kind {
        crate::plan::FileKind::Env => env_line(text),
        _ => json_line(text),
    };
    redact_all(&masked, secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_are_masked_comments_kept() {
        assert_eq!(
            env_line("OPENAI_API_KEY=sk-proj-0123456789abcdef"),
            "OPENAI_API_KEY=sk-pro…cdef"
        );
        assert_eq!(
            env_line("export A = \"abcdefghijklmnopqrstuvwxyz\" # c"),
            "export A = \"abcdef…wxyz\" # c"
        );
        assert_eq!(
            env_line("# GATEROUTER_API_KEY=sk-secret-value-123"),
            "# GATEROUTER_API_KEY=sk-secret-value-123"
        );
        assert_eq!(env_line("EMPTY="), "EMPTY=");
    }

    #[test]
    fn json_secrets_are_masked_references_kept() {
        assert_eq!(
            json_line(r#"      "apiKey": "sk-ant-0123456789abcdefghij","#),
            r#"      "apiKey": "sk-ant…ghij","#
        );
        assert_eq!(
            json_line(r#"  "apiKey": "${GATEROUTER_API_KEY}","#),
            r#"  "apiKey": "${GATEROUTER_API_KEY}","#
        );
        assert_eq!(
            json_line(r#"  "apiKey": "GATEROUTER_API_KEY""#),
            r#"  "apiKey": "GATEROUTER_API_KEY""#
        );
        assert_eq!(
            json_line("  token: 'abcdefghijklmnopqrstuv', x: 1"),
            "  token: 'abcd…stuv', x: 1"
        );
        assert_eq!(
            json_line(r#"  "primary": "gaterouter/auto","#),
            r#"  "primary": "gaterouter/auto","#
        );
        let compat = r#"  "maxTokensField": "max_completion_tokens""#;
        assert_eq!(json_line(compat), compat);
        assert_eq!(
            json_line(r#"{"accessToken": "abcdefghijklmnopqrstuvwxyz"}"#),
            r#"{"accessToken": "abcdef…wxyz"}"#
        );
    }
}
