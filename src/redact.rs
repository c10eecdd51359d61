//! Redaction of what a diff or report shows. Our key and any key it replaces are masked
//! everywhere; beyond that, diff context lines can show the user's *other* secrets (an
//! `OPENAI_API_KEY=` line next to ours, a literal `apiKey` of another provider), so every
//! `.env` value and every secret-looking JSON value is masked too. Output of this tool may
//! end up in CI logs; it must never carry a credential.

use crate::key::{redact, redact_all};
use crate::plan::dotenv::{self, js_line_break};

/// `.env` text with every value masked, entry by entry as OpenClaw's dotenv parses the file
/// (a value spanning lines, a `NAME: value` entry, one behind a BOM): names, comments and
/// every line break stay, so line `i` of the result is line `i` of `text`, masked. Lines
/// dotenv does not read as an entry are masked after their first `=` or `:` (or whole),
/// unless blank or a comment: they may still hold something the user meant as a secret.
pub fn env_text(text: &str) -> String {
    let entries = dotenv::parse(text);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for e in &entries {
        out.push_str(&unread_lines(&text[last..e.start], true));
        out.push_str(&text[e.start..e.value_span.start]);
        out.push_str(&mask_value(&text[e.value_span.clone()]));
        last = e.value_span.end;
        // The rest of the value's line (spaces and an inline comment) is the entry's own.
        let rest = text[last..]
            .find(js_line_break)
            .map_or(text.len(), |i| last + i);
        out.push_str(&text[last..rest]);
        last = rest;
    }
    out.push_str(&unread_lines(&text[last..], false));
    out
}

/// A value as written: the quotes stay; one line shows its ends (`sk-pro…cdef`), the lines
/// of a multi-line value (a PEM key) show nothing.
fn mask_value(raw: &str) -> String {
    let q = raw.chars().next().filter(|c| matches!(c, '"' | '\'' | '`'));
    let (open, inner, close) = match q {
        Some(q) if raw.len() >= 2 && raw.ends_with(q) => {
            (&raw[..1], &raw[1..raw.len() - 1], &raw[raw.len() - 1..])
        }
        Some(_) => (&raw[..1], &raw[1..], ""),
        None => ("", raw, ""),
    };
    let masked = if inner.contains(js_line_break) {
        let mut m = String::new();
        let mut seg = String::new();
        for c in inner.chars() {
            if js_line_break(c) {
                if !seg.is_empty() {
                    m.push('…');
                    seg.clear();
                }
                m.push(c);
            } else {
                seg.push(c);
            }
        }
        if !seg.is_empty() {
            m.push('…');
        }
        m
    } else if inner.is_empty() {
        String::new()
    } else {
        redact(inner)
    };
    format!("{open}{masked}{close}")
}

/// Text between entries: blank lines, comments, lines dotenv ignores, and (when
/// `into_entry`) the indentation before the next entry, which is kept. `gap` starts where a
/// line starts or at a line break.
fn unread_lines(gap: &str, into_entry: bool) -> String {
    let mut out = String::with_capacity(gap.len());
    let mut rest = gap;
    loop {
        let (line, brk, more) = match rest.find(js_line_break) {
            Some(i) => {
                let n = rest[i..].chars().next().map_or(1, char::len_utf8);
                (&rest[..i], &rest[i..i + n], Some(&rest[i + n..]))
            }
            None => (rest, "", None),
        };
        if more.is_some() || !into_entry {
            out.push_str(&mask_unread_line(line));
        } else {
            out.push_str(line);
        }
        out.push_str(brk);
        match more {
            Some(m) => rest = m,
            None => break,
        }
    }
    out
}

fn mask_unread_line(line: &str) -> String {
    let body = line.trim_start_matches(dotenv::js_space);
    if body.is_empty() || body.starts_with('#') {
        return line.to_owned();
    }
    match line.find(['=', ':']) {
        Some(i) if !line[i + 1..].trim().is_empty() => {
            format!("{}{}", &line[..=i], redact(&line[i + 1..]))
        }
        Some(_) => line.to_owned(),
        None => redact(line),
    }
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

/// Words that make a property name a credential's name (`apiKeys`, `CORP_TOKEN_VALUE`,
/// `x-api-key`, `clientSecret`). Not `tokens` (counts: `maxTokens`) and not `auth` (the
/// `auth.profiles` block holds no secret and is what setup edits).
const SECRET_WORDS: &[&str] = &[
    "key",
    "keys",
    "apikey",
    "apikeys",
    "token",
    "secret",
    "secrets",
    "password",
    "passwords",
    "passwd",
    "pwd",
    "passphrase",
    "authorization",
    "credential",
    "credentials",
    "cookie",
    "bearer",
    "privatekey",
];

/// A last word that makes the name describe a credential rather than hold one
/// (`maxTokensField`, `keyFile`, `tokenUrl`, `apiKeyEnv`).
const META_WORDS: &[&str] = &[
    "field", "fields", "name", "names", "id", "ids", "type", "types", "count", "env", "var",
    "path", "file", "url", "header", "mode", "format", "source", "ref", "limit", "length",
    "prefix", "hint", "label", "kind", "policy", "provider", "style",
];

/// The words of a property name: split at non-alphanumerics and camelCase humps, lowercased.
fn words(name: &str) -> Vec<String> {
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

/// A property name that usually holds a credential.
fn secret_name(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    // Run-together names (`accesstoken`, `clientsecret`) by their ending.
    let ending = [
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
    .any(|s| n.ends_with(s));
    let w = words(name);
    let last_is_meta = w.last().is_some_and(|l| META_WORDS.contains(&l.as_str()));
    (ending || w.iter().any(|x| SECRET_WORDS.contains(&x.as_str()))) && !last_is_meta
}

/// A value that is a reference, not a credential: `${VAR}`, a bare variable name, empty.
/// A bare name is an environment variable's: upper-case letters, digits and `_`, starting
/// with a letter, mostly letters (`CORPSECRET0123456789` or an AWS key id is a value).
fn is_reference(v: &str) -> bool {
    let digits = v.chars().filter(char::is_ascii_digit).count();
    v.is_empty()
        || (v.starts_with("${") && v.ends_with('}'))
        || (v.starts_with(|c: char| c.is_ascii_uppercase())
            && v.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && digits * 4 < v.len()
            && !crate::secrets::looks_like_key(v))
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

/// Byte ranges (inside the quotes) of every string, and every number, that sits under a
/// secret-looking name at any depth of a JSON/JSON5 document: `apiKey: "…"` with the value
/// on the next line, every element of `apiKeys: […]`, every leaf of `credentials: {…}`.
/// References (`${VAR}`, a bare variable name) and SecretRef objects (`{source, id}`) are
/// not credentials and stay visible. `None` when the text does not parse.
fn json_secret_spans(text: &str) -> Option<Vec<(usize, usize)>> {
    use jsonc_parser::ast::{ObjectPropName, Value};
    fn is_secret_ref(o: &jsonc_parser::ast::Object) -> bool {
        let get = |k: &str| {
            o.properties
                .iter()
                .find(|p| p.name.as_str() == k)
                .and_then(|p| p.value.as_string_lit())
                .map(|s| s.value.to_string())
        };
        matches!(get("source").as_deref(), Some("env" | "file" | "exec")) && get("id").is_some()
    }
    fn walk(v: &Value, secret: bool, text: &str, out: &mut Vec<(usize, usize)>) {
        match v {
            Value::StringLit(s) if secret && !is_reference(&s.value) => {
                let (a, b) = (s.range.start, s.range.end);
                let quoted = text[a..b].starts_with(['"', '\'']) && b >= a + 2;
                out.push(if quoted { (a + 1, b - 1) } else { (a, b) });
            }
            Value::NumberLit(n) if secret => out.push((n.range.start, n.range.end)),
            Value::Object(o) if !(secret && is_secret_ref(o)) => {
                for p in &o.properties {
                    let name = match &p.name {
                        ObjectPropName::String(s) => s.value.as_ref(),
                        ObjectPropName::Word(w) => w.value,
                    };
                    walk(&p.value, secret || secret_name(name), text, out);
                }
            }
            Value::Array(a) => a.elements.iter().for_each(|e| walk(e, secret, text, out)),
            _ => {}
        }
    }
    let parsed = jsonc_parser::parse_to_ast(
        text,
        &jsonc_parser::CollectOptions::default(),
        &jsonc_parser::ParseOptions::default(),
    )
    .ok()?;
    let mut spans = Vec::new();
    if let Some(v) = &parsed.value {
        walk(v, false, text, &mut spans);
    }
    spans.sort_unstable();
    Some(spans)
}

/// The lines of a JSON/JSON5 file as a diff shows them: secrets masked by their place in
/// the parsed structure, so a value on a line of its own is masked as well as one beside
/// its name. One entry per `split_inclusive('\n')` line, terminators removed. A file that
/// does not parse falls back to masking line by line.
pub fn json_lines(text: &str) -> Vec<String> {
    let count = text.split_inclusive('\n').count();
    let by_line = || {
        text.split_inclusive('\n')
            .map(|l| json_line(strip_eol(l)))
            .collect::<Vec<_>>()
    };
    let Some(spans) = json_secret_spans(text) else {
        return by_line();
    };
    let mut masked = String::with_capacity(text.len());
    let mut last = 0;
    for (a, b) in spans {
        if a < last || b > text.len() || !text.is_char_boundary(a) || !text.is_char_boundary(b) {
            continue;
        }
        masked.push_str(&text[last..a]);
        let inner = &text[a..b];
        // Keep the line count: the masked value on the first line, its line breaks after.
        let flat: String = inner.chars().filter(|c| *c != '\n' && *c != '\r').collect();
        masked.push_str(&redact(&flat));
        masked.extend(std::iter::repeat_n('\n', inner.matches('\n').count()));
        last = b;
    }
    masked.push_str(&text[last..]);
    let lines: Vec<String> = masked
        .split_inclusive('\n')
        .map(|l| json_line(strip_eol(l)))
        .collect();
    if lines.len() == count {
        lines
    } else {
        by_line()
    }
}

fn strip_eol(l: &str) -> &str {
    let l = l.strip_suffix('\n').unwrap_or(l);
    l.strip_suffix('\r').unwrap_or(l)
}

/// The lines of a whole file as a diff shows them (see `json_lines`; `.env` files line by
/// line through `env_line`), every known secret masked too. One entry per
/// `split_inclusive('\n')` line of `text`.
pub fn file_lines(kind: crate::plan::FileKind, text: &str, secrets: &[&str]) -> Vec<String> {
    let lines = match kind {
        // A .env value can span lines (a PEM key): mask the whole file by parsed entry; the
        // masked text keeps every line break, so its lines match the file's one to one.
        crate::plan::FileKind::Env => env_text(text)
            .split_inclusive('\n')
            .map(|l| strip_eol(l).to_owned())
            .collect(),
        _ => json_lines(text),
    };
    lines.into_iter().map(|l| redact_all(&l, secrets)).collect()
}

/// Redacts one line of a file of the given kind, then any known secret anywhere in it.
pub fn line(kind: crate::plan::FileKind, text: &str, secrets: &[&str]) -> String {
    let masked = match kind {
        crate::plan::FileKind::Env => env_text(text),
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
            env_text("OPENAI_API_KEY=sk-proj-0123456789abcdef"),
            "OPENAI_API_KEY=sk-pro…cdef"
        );
        assert_eq!(
            env_text("export A = \"abcdefghijklmnopqrstuvwxyz\" # c"),
            "export A = \"abcdef…wxyz\" # c"
        );
        assert_eq!(
            env_text("# GATEROUTER_API_KEY=sk-secret-value-123"),
            "# GATEROUTER_API_KEY=sk-secret-value-123"
        );
        assert_eq!(env_text("EMPTY="), "EMPTY=");
    }

    #[test]
    fn env_values_are_masked_by_entry() {
        let pem = "A=1\r\nPEM=\"-----BEGIN KEY-----\r\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\r\n-----END KEY-----\"\r\n# note\r\n";
        assert_eq!(env_text(pem), "A=…\r\nPEM=\"…\r\n…\r\n…\"\r\n# note\r\n");
        assert_eq!(
            env_text(
                "\u{feff}GATEROUTER_API_KEY=sk-or-v1-0123456789abcdef\nB: sk-proj-0123456789abcdef\n"
            ),
            "\u{feff}GATEROUTER_API_KEY=sk-or-…cdef\nB: sk-pro…cdef\n"
        );
        // Not entries for dotenv, still not shown.
        assert_eq!(
            env_text("A=1\nnot an entry=sk-proj-0123456789abcdef\nsk-proj-0123456789abcdef"),
            "A=…\nnot an entry=sk-pro…cdef\nsk-pro…cdef"
        );
    }

    #[test]
    fn secret_names_by_word() {
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
        ] {
            assert!(secret_name(yes), "{yes}");
        }
        for no in [
            "maxTokensField",
            "maxTokens",
            "contextTokens",
            "auth",
            "profiles",
            "primary",
            "keyFile",
            "apiKeyEnv",
            "monkey",
        ] {
            assert!(!secret_name(no), "{no}");
        }
    }

    #[test]
    fn json_secrets_are_masked_by_structure() {
        let text = "{\n  // c\n  apiKey:\n    'sk-ant-NEXTLINE0123456789abcd',\n  apiKeys: [\"ARRAYSECRET-0123456789\", \"ARRAYSECRET-abcdefghij\"],\n  CORP_TOKEN_VALUE: \"CORPSECRET0123456789\",\n  nested: { credentials: { user: \"NESTEDSECRET-0123456789\", pin: 123456789 } },\n  gaterouter: { apiKey: { source: \"env\", provider: \"default\", id: \"GATEROUTER_API_KEY\" } },\n  primary: \"gaterouter/auto\",\n}\n";
        let lines = json_lines(text);
        assert_eq!(lines.len(), text.lines().count());
        let all = lines.join("\n");
        for secret in [
            "NEXTLINE",
            "ARRAYSECRET",
            "CORPSECRET",
            "NESTEDSECRET",
            "123456789",
        ] {
            assert!(!all.contains(secret), "{secret} shown:\n{all}");
        }
        for kept in [
            "GATEROUTER_API_KEY",
            "\"env\"",
            "gaterouter/auto",
            "// c",
            "apiKey:",
        ] {
            assert!(all.contains(kept), "{kept} hidden:\n{all}");
        }
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
