//! Redaction of what a diff or report shows. Our key and any key it replaces are masked
//! everywhere; beyond that, diff context lines can show the user's *other* secrets (an
//! `OPENAI_API_KEY=` line next to ours, a literal `apiKey` of another provider), so every
//! `.env` value with a secret-looking name or value and every secret-looking JSON value is
//! masked too; `FOO=1` shows, so the context reads. Output of this tool may
//! end up in CI logs; it must never carry a credential.

pub mod secret_name;
pub mod secrets;
pub mod text;

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use crate::format::Syntax;
use crate::format::dotenv::{self, js_line_break};
use crate::format::json5::tolerant::{Event, Reader};
use crate::redact::secret_name::{Secrecy, secrecy};
use crate::redact::secrets::redact;

/// Whether a `.env` name says its value is a credential (the one name rule, see
/// `secret_name`), given the value as written: under a token-family name (`MAX_TOKENS`) a
/// number is a count.
pub fn env_secret_name(name: &str, raw: &str) -> bool {
    let s = secrecy(name);
    let v = raw.trim_matches(|c| matches!(c, '"' | '\'' | '`'));
    s.masks_numbers() || (s.masks_strings() && !is_number(v))
}

/// Whether a value (as written, quotes included) looks like a credential whatever its name:
/// key-shaped (`secrets::looks_like_key`), a token (16+ characters of
/// base64/hex alphabet mixing letters and digits or cases), a URL carrying a password
/// (`scheme://user:pass@host`), or spanning lines (a PEM key).
pub fn secret_value(raw: &str) -> bool {
    let v = raw.trim_matches(|c| matches!(c, '"' | '\'' | '`'));
    if v.contains(js_line_break) || crate::redact::secrets::looks_like_key(v) {
        return true;
    }
    let tokenish = v.len() >= 16
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-' | '.'))
        && {
            let (lo, up, dig) = (
                v.chars().any(|c| c.is_ascii_lowercase()),
                v.chars().any(|c| c.is_ascii_uppercase()),
                v.chars().any(|c| c.is_ascii_digit()),
            );
            usize::from(lo) + usize::from(up) + usize::from(dig) >= 2
        };
    let url_with_password = v.find("://").is_some_and(|i| {
        let rest = &v[i + 3..];
        let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
        authority
            .rfind('@')
            .is_some_and(|at| authority[..at].contains(':'))
    });
    tokenish || url_with_password
}

/// Names whose values are public settings, shown when the value itself looks harmless (no
/// credentials in a URL): `NODE_ENV=production`, `TZ=Europe/Berlin`, our base URL.
const ENV_PUBLIC_NAMES: &[&str] = &[
    "PORT",
    "HOST",
    "HOSTNAME",
    "NODE_ENV",
    "ENV",
    "ENVIRONMENT",
    "LOG_LEVEL",
    "DEBUG",
    "TZ",
    "LANG",
    "LC_ALL",
    "OPENCLAW_STATE_DIR",
    "OPENCLAW_HOME",
    "OPENCLAW_PROFILE",
    "OPENCLAW_CONFIG_PATH",
    "GATEROUTER_BASE_URL",
];

/// A value that carries nothing secret by its shape: empty, a number, a yes/no word, or a
/// plain path (`/srv/openclaw`, `~/x`). Anything else (a word, a URL, a token) may be a
/// password, so it is masked unless its name is a known public setting.
fn is_number(v: &str) -> bool {
    let d = v.strip_prefix('-').unwrap_or(v);
    !d.is_empty()
        && d.split_once('.')
            .map_or(d.chars().all(|c| c.is_ascii_digit()), |(a, b)| {
                !a.is_empty()
                    && a.chars().all(|c| c.is_ascii_digit())
                    && b.chars().all(|c| c.is_ascii_digit())
            })
}

fn harmless_value(v: &str) -> bool {
    let number = || is_number(v);
    let yes_no = || {
        ["true", "false", "yes", "no", "on", "off"]
            .iter()
            .any(|w| v.eq_ignore_ascii_case(w))
    };
    let path = || {
        (v.starts_with('/') || v.starts_with("~/"))
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '~'))
    };
    v.is_empty() || number() || yes_no() || path()
}

/// Whether `.env` output masks this entry's value. Masked unless plainly harmless: a name
/// that says credential, or a value that looks like one, is always masked; otherwise only a
/// harmless-looking value (see `harmless_value`), or a public setting's value without
/// anything of a URL's credentials in it, shows. A deny-list alone let `ADMIN_PW=…` or a
/// webhook URL through. Any known secret left in a shown value is still masked by the
/// run's redactor where it is printed.
pub fn env_value_secret(name: &str, raw: &str) -> bool {
    if env_secret_name(name, raw) || secret_value(raw) {
        return true;
    }
    let v = raw.trim_matches(|c| matches!(c, '"' | '\'' | '`'));
    if harmless_value(v) {
        return false;
    }
    let public = ENV_PUBLIC_NAMES
        .iter()
        .any(|p| name.eq_ignore_ascii_case(p));
    !(public && !v.contains('@') && !v.contains('?') && !v.contains('#'))
}

/// `.env` text with secret values masked (see `env_value_secret`; `FOO=1` shows), entry by
/// entry as OpenClaw's dotenv parses the file (a value spanning lines, a `NAME: value` entry, one behind a BOM): names, comments and
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
        let raw = &text[e.value_span.clone()];
        let secret = env_value_secret(&e.name, raw);
        if secret {
            out.push_str(&mask_value(raw));
        } else {
            out.push_str(raw);
        }
        last = e.value_span.end;
        // The rest of the value's line (spaces and an inline comment) is the entry's own. A
        // masked value's comment that touches it is masked too: `PW=pass#word5` reads as
        // `pass` plus the comment `#word5`, most of what the user meant as the secret. A
        // comment after a space (`KEY=… # rotated`) is a comment, and stays.
        let rest = text[last..]
            .find(js_line_break)
            .map_or(text.len(), |i| last + i);
        let tail = &text[last..rest];
        if secret && tail.starts_with('#') && tail.len() > 1 {
            out.push_str("#…");
        } else {
            out.push_str(tail);
        }
        last = rest;
    }
    out.push_str(&unread_lines(&text[last..], false));
    out
}

/// A value as written: the quotes stay; a long one shows its ends (`sk-pro…cdef`), a short
/// one and the lines of a multi-line value (a PEM key) show nothing.
fn mask_value(raw: &str) -> String {
    let (open, inner, close) = dotenv::quotes(raw);
    let masked = if inner.contains(js_line_break) {
        // Each line's part is `…` (an empty one nothing), its line break kept.
        inner
            .split_inclusive(js_line_break)
            .map(|piece| {
                let part = piece.trim_end_matches(js_line_break);
                let dots = if part.is_empty() { "" } else { "…" };
                format!("{dots}{}", &piece[part.len()..])
            })
            .collect()
    } else if inner.is_empty() {
        String::new()
    } else if inner.chars().count() < 24 {
        // A short secret (a password) would show too much of itself through its ends
        // (`hu…se` is 4 of 10): nothing of it shows. Keys are longer and keep their ends,
        // so a user can tell which one it is.
        "…".to_owned()
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
    for piece in gap.split_inclusive(js_line_break) {
        let line = piece.trim_end_matches(js_line_break);
        if into_entry && line.len() == piece.len() {
            // The last piece, with no line break after it: what leads into the entry.
            out.push_str(line);
        } else {
            out.push_str(&mask_unread_line(line));
            out.push_str(&piece[line.len()..]);
        }
    }
    out
}

fn mask_unread_line(line: &str) -> String {
    let body = line.trim_start_matches(dotenv::js_space);
    if body.is_empty() {
        return line.to_owned();
    }
    if let Some(c) = body.strip_prefix('#') {
        // A commented-out entry (`# OLD_TOKEN=…`) still holds the secret: masked like a
        // live one. Prose stays as written.
        let entry = c.trim_start_matches(|ch: char| ch == '#' || dotenv::js_space(ch));
        if dotenv::parse(entry).is_empty() {
            return line.to_owned();
        }
        let head = &line[..line.len() - entry.len()];
        return format!("{head}{}", env_text(entry));
    }
    match line.find(['=', ':']) {
        Some(i) if !line[i + 1..].trim().is_empty() => {
            format!("{}{}", &line[..=i], redact(&line[i + 1..]))
        }
        Some(_) => line.to_owned(),
        None => redact(line),
    }
}

/// A value that is a reference, not a credential: `${VAR}`, a bare variable name, empty.
/// A bare name is an environment variable's: upper-case letters, digits and `_`, starting
/// with a letter, with a `_` in it and mostly letters (`GATEROUTER_API_KEY`;
/// `CORPSECRET0123456789`, `SECRETVALAAAAA0AA00A0` or an AWS key id is a value).
fn is_reference(v: &str) -> bool {
    let digits = v.chars().filter(char::is_ascii_digit).count();
    v.is_empty()
        || (v.starts_with("${") && v.ends_with('}'))
        || (v.starts_with(|c: char| c.is_ascii_uppercase())
            && v.contains('_')
            && v.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && digits * 4 < v.len()
            && !crate::redact::secrets::looks_like_key(v))
}

/// Masks the secrets on one line of a JSON/JSON5 file out of its context (see
/// `json_masked`): a value beside its name, the values of a structure on the line, and the
/// same inside its comments (a commented-out `// apiKey: '…'` still holds the key).
pub fn json_line(line: &str) -> String {
    // Most lines hold no credential-like name at all.
    if !line.contains(':') || !crate::redact::secret_name::hinted(line) {
        return line.to_owned();
    }
    let mut read = Reader::new(line, false);
    let mut spans = secret_spans(&mut read, line, 0);
    for c in read.comments {
        let text = &line[c.clone()];
        spans.extend(secret_spans(Reader::new(text, true), text, c.start));
    }
    spans.sort_by_key(|s| s.start);
    masked(line, &spans).into_owned()
}

/// Byte ranges (inside the quotes) of every string, and every number, that sits under a
/// secret-looking name at any depth of JSON/JSON5 `text` (read by `events`, spans shifted by
/// `offset`): `apiKey: "…"` with the value on the next line, every element of `apiKeys: […]`,
/// every leaf of `credentials: {…}`. References (`${VAR}`, a bare variable name) and
/// SecretRef objects (`{source, id}`) are not credentials and stay visible.
///
/// Read tolerantly (json5's tokens, the structure as the brackets give it), not parsed: it
/// runs on both versions of every file a diff shows, and on text that is not valid JSON5.
fn secret_spans<'a>(
    events: impl Iterator<Item = Event<'a>>,
    text: &str,
    offset: usize,
) -> Vec<Range<usize>> {
    struct Frame {
        object: bool,
        secret: Secrecy,
        /// Where this frame's own spans start, to drop them if it is a SecretRef.
        first_span: usize,
        source_is_ref: bool,
        has_id: bool,
    }
    let mut spans = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    // Large files repeat a few names thousands of times (`id`, `name`, …).
    let mut names: HashMap<Cow<'a, str>, Secrecy> = HashMap::new();
    let mut under = |stack: &[Frame], key: &Option<Cow<'a, str>>| {
        // Inside a credential's value everything is one (the stricter of the two).
        let inherited = stack.last().map_or(Secrecy::Plain, |f| f.secret);
        let own = key.as_ref().map_or(Secrecy::Plain, |k| {
            *names.entry(k.clone()).or_insert_with(|| secrecy(k))
        });
        inherited.max(own)
    };
    for e in events {
        match e {
            Event::Open { key, object } => stack.push(Frame {
                object,
                secret: under(&stack, &key),
                first_span: spans.len(),
                source_is_ref: false,
                has_id: false,
            }),
            Event::Close => {
                if let Some(f) = stack.pop()
                    && f.object
                    && f.secret != Secrecy::Plain
                    && f.source_is_ref
                    && f.has_id
                {
                    spans.truncate(f.first_span);
                }
            }
            Event::Scalar { key, span, string } => {
                let token = &text[span.clone()];
                let secret = under(&stack, &key);
                let number = !string
                    && token
                        .bytes()
                        .next()
                        .is_some_and(|x| x.is_ascii_digit() || matches!(x, b'-' | b'+' | b'.'));
                if (secret.masks_strings() && string && !is_reference(token))
                    || (secret.masks_numbers() && number)
                {
                    spans.push(offset + span.start..offset + span.end);
                }
                if let Some(f) = stack.last_mut().filter(|f| f.object) {
                    match key.as_deref() {
                        Some("source") => {
                            f.source_is_ref = matches!(token, "env" | "file" | "exec")
                        }
                        Some("id") => f.has_id = string,
                        _ => {}
                    }
                }
            }
        }
    }
    spans
}

/// A JSON/JSON5 file's text with its secrets masked by their place in the structure (see
/// `secret_spans`), so a value on a line of its own is masked as well as one beside its
/// name. Line breaks are kept, so its lines line up one to one with the file's. Comments
/// are left to `json_line`, which every shown line goes through.
pub fn json_masked(text: &str) -> Cow<'_, str> {
    masked(text, &secret_spans(Reader::new(text, false), text, 0))
}

/// `text` with each of `spans` (sorted) masked, its line breaks kept.
fn masked<'t>(text: &'t str, spans: &[Range<usize>]) -> Cow<'t, str> {
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut masked = String::with_capacity(text.len());
    let mut last = 0;
    for s in spans {
        if s.start < last {
            continue;
        }
        masked.push_str(&text[last..s.start]);
        let inner = &text[s.clone()];
        // The masked value on the first line, its line breaks (and a CR before each) after.
        let flat: String = inner.chars().filter(|c| *c != '\n' && *c != '\r').collect();
        masked.push_str(&redact(&flat));
        for _ in 0..inner.matches('\n').count() {
            masked.push('\n');
        }
        last = s.end;
    }
    masked.push_str(&text[last..]);
    Cow::Owned(masked)
}

/// `json_masked` as lines: one entry per `split_inclusive('\n')` line, terminators removed.
pub fn json_lines(text: &str) -> Vec<String> {
    json_masked(text)
        .split_inclusive('\n')
        .map(|l| strip_eol(l).to_owned())
        .collect()
}

/// A line without its LF or CR LF.
pub(crate) fn strip_eol(l: &str) -> &str {
    let l = l.strip_suffix('\n').unwrap_or(l);
    l.strip_suffix('\r').unwrap_or(l)
}

/// A whole file's text, masked by the file's structure where that needs the whole file
/// (JSON: see `json_masked`; `.env`: every value by entry, see `env_text`). Its lines
/// line up one to one with the file's; each shown line then still goes through `line`
/// (only shown lines: a diff shows a few lines of a large file).
pub fn file_masked(syntax: Syntax, text: &str) -> Cow<'_, str> {
    match syntax {
        // A .env value can span lines (a PEM key): mask the whole file by parsed entry; the
        // masked text keeps every line break, so its lines match the file's one to one.
        Syntax::Dotenv => Cow::Owned(env_text(text)),
        Syntax::Json => json_masked(text),
    }
}

/// Redacts one line of a file of the given kind by its structure; the secrets the run knows
/// are masked where it is printed (the output sink's redactor).
pub fn line(syntax: Syntax, text: &str) -> String {
    match syntax {
        Syntax::Dotenv => env_text(text),
        Syntax::Json => json_line(text),
    }
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
            env_text("export A = \"abcdefghij0123456789wxyz\" # c"),
            "export A = \"abcdef…wxyz\" # c"
        );
        // A comment touching a masked value may be the rest of the secret: masked with it.
        assert_eq!(env_text("PW=pass#word5"), "PW=…#…");
        assert_eq!(env_text("FOO=1 # one"), "FOO=1 # one");
        assert_eq!(
            env_text("FOO=1\nNODE_ENV=production"),
            "FOO=1\nNODE_ENV=production"
        );
        assert_eq!(env_text("DB_PASSWORD=hunter2"), "DB_PASSWORD=…");
        assert_eq!(
            env_text("DATABASE_URL=postgres://app:hunter2@db/app"),
            "DATABASE_URL=postgr…/app"
        );
        // Commented out, the secret is still there: masked like a live one.
        assert_eq!(
            env_text("# GATEROUTER_API_KEY=sk-secret-value-123"),
            "# GATEROUTER_API_KEY=…"
        );
        assert_eq!(env_text("EMPTY="), "EMPTY=");
    }

    #[test]
    fn env_values_are_masked_by_entry() {
        let pem = "A=1\r\nPEM=\"-----BEGIN KEY-----\r\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\r\n-----END KEY-----\"\r\n# note\r\n";
        assert_eq!(env_text(pem), "A=1\r\nPEM=\"…\r\n…\r\n…\"\r\n# note\r\n");
        assert_eq!(
            env_text(
                "\u{feff}GATEROUTER_API_KEY=sk-or-v1-0123456789abcdef\nB: sk-proj-0123456789abcdef\n"
            ),
            "\u{feff}GATEROUTER_API_KEY=sk-or-…cdef\nB: sk-pro…cdef\n"
        );
        // Not entries for dotenv, still not shown.
        assert_eq!(
            env_text("A=1\nnot an entry=sk-proj-0123456789abcdef\nsk-proj-0123456789abcdef"),
            "A=1\nnot an entry=sk-pro…cdef\nsk-pro…cdef"
        );
    }

    #[test]
    fn json_secrets_are_masked_by_structure() {
        let text = "{\n  // c\n  apiKey:\n    'sk-ant-NEXTLINE0123456789abcd',\n  apiKeys: [\"ARRAYSECRET-0123456789\", \"ARRAYSECRET-abcdefghij\"],\n  CORP_TOKEN_VALUE: \"CORPSECRET0123456789\",\n  nested: { credentials: { user: \"NESTEDSECRET-0123456789\", pin: 123456789 } },\n  gaterouter: { apiKey: { source: \"env\", provider: \"default\", id: \"GATEROUTER_API_KEY\" } },\n  primary: \"gaterouter/auto\",\n}\n";
        let lines = json_lines(text);
        assert_eq!(lines.len(), text.lines().count());
        let all = lines
            .iter()
            .map(|l| json_line(l))
            .collect::<Vec<_>>()
            .join("\n");
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

    /// Masked as the whole file, then line by line, as a diff shows it.
    fn shown(text: &str) -> String {
        json_lines(text)
            .iter()
            .map(|l| json_line(l))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_secret_after_a_comment_ended_by_u2028_or_u2029_is_masked() {
        for end in ['\u{2028}', '\u{2029}'] {
            let text = format!(
                "{{\n  // old{end}apiKey: 'SECRETVALUE-0123456789',\n  list: {{ // x{end}token: \"SECRETTOKEN-0123456789\" }},\n}}\n"
            );
            let masked = json_masked(&text);
            assert!(!masked.contains("SECRETVALUE"), "{masked}");
            assert!(!masked.contains("SECRETTOKEN"), "{masked}");
            assert!(masked.contains("// old"), "{masked}");
            assert!(!shown(&text).contains("SECRET"), "{}", shown(&text));
        }
    }

    #[test]
    fn unusual_json5_whitespace_changes_nothing() {
        for ws in ['\u{feff}', '\u{a0}', '\u{1680}', '\u{3000}'] {
            let text = format!(
                "{{{ws}credentials:{ws}{{{ws}pin:{ws}12345678,{ws}user:{ws}'SECRETUSER-0123456789'{ws}}},\n  apiKey: {{{ws}source:{ws}'env',{ws}id:{ws}'GATEROUTER_API_KEY'{ws}}},\n{ws}model:{ws}'gaterouter/auto'{ws}}}"
            );
            let all = shown(&text);
            for secret in ["12345678", "SECRETUSER"] {
                assert!(!all.contains(secret), "{ws:?}: {secret} shown: {all}");
            }
            for kept in ["'env'", "'GATEROUTER_API_KEY'", "'gaterouter/auto'"] {
                assert!(all.contains(kept), "{ws:?}: {kept} hidden: {all}");
            }
        }
    }

    #[test]
    fn secrets_in_a_file_that_does_not_parse_are_masked() {
        // An unclosed string ends at its line, as json5 reads it; a missing comma, a stray
        // bracket or a missing end change nothing after them.
        let text = "{\n  note: 'unclosed,\n  apiKey: \"SECRET-KEY-0123456789\" extra: [1,,]\n  ]] token: 'SECRET-TOKEN-0123456789'\n  password: \"SECRET-PASS-0123456789";
        let masked = json_masked(text);
        for secret in ["SECRET-KEY", "SECRET-TOKEN", "SECRET-PASS"] {
            assert!(!masked.contains(secret), "{secret} shown: {masked}");
        }
        assert_eq!(masked.lines().count(), text.lines().count());
        // One line of a diff, out of its context.
        assert_eq!(
            json_line(r#"  "apiKey": "SECRET-KEY-0123456789"}, {"#),
            r#"  "apiKey": "SECR…6789"}, {"#
        );
    }

    #[test]
    fn keys_quoted_either_way_or_bare_are_read() {
        let text = "{'apiKey': 'SECRET-ONE-0123456789', \"token\": \"SECRET-TWO-0123456789\", password: 'x', secret: 'SECRET-THREE-0123456789', 'api\\u004bey': 'SECRET-FOUR-0123456789'}";
        let all = shown(text);
        for secret in ["SECRET-ONE", "SECRET-TWO", "SECRET-THREE", "SECRET-FOUR"] {
            assert!(!all.contains(secret), "{secret} shown: {all}");
        }
    }

    #[test]
    fn a_commented_out_secret_is_masked_on_its_line() {
        assert_eq!(
            json_line("  // apiKey: 'sk-old-0123456789abcdefgh',"),
            "  // apiKey: 'sk-old…efgh',"
        );
    }

    mod json_properties {
        use super::*;
        use crate::format::json5::{Document, Kind, Node, Value};
        use proptest::prelude::*;

        /// What `secret_spans` finds, found on the tree the strict reader builds.
        fn strict_spans(text: &str) -> Vec<Range<usize>> {
            fn walk(n: &Node, secret: Secrecy, text: &str, out: &mut Vec<Range<usize>>) {
                let raw = &text[n.span.clone()];
                match &n.kind {
                    Kind::Scalar(Value::String(_)) => {
                        let inner = n.span.start + 1..n.span.end - 1;
                        if secret.masks_strings() && !is_reference(&text[inner.clone()]) {
                            out.push(inner);
                        }
                    }
                    Kind::Scalar(Value::Number(_)) => {
                        if secret.masks_numbers()
                            && raw.starts_with(|c: char| {
                                c.is_ascii_digit() || matches!(c, '-' | '+' | '.')
                            })
                        {
                            out.push(n.span.clone());
                        }
                    }
                    Kind::Scalar(_) | Kind::Skipped => {}
                    Kind::Array(items) => {
                        items.iter().for_each(|e| walk(&e.value, secret, text, out))
                    }
                    Kind::Object(members) => {
                        let first = out.len();
                        let key =
                            |m: &crate::format::json5::Entry| m.key.as_ref().unwrap().0.to_lossy();
                        for m in members {
                            walk(&m.value, secret.max(secrecy(&key(m))), text, out);
                        }
                        // The last `source` and `id` with a scalar value decide.
                        let last = |k: &str| {
                            members
                                .iter()
                                .rev()
                                .find(|m| key(m) == k && matches!(m.value.kind, Kind::Scalar(_)))
                                .map(|m| &m.value)
                        };
                        let source = last("source").map(|v| {
                            let r = &text[v.span.clone()];
                            r.trim_matches(['"', '\'']).to_owned()
                        });
                        let id = last("id")
                            .is_some_and(|v| matches!(v.kind, Kind::Scalar(Value::String(_))));
                        if secret != Secrecy::Plain
                            && source.is_some_and(|s| matches!(s.as_str(), "env" | "file" | "exec"))
                            && id
                        {
                            out.truncate(first);
                        }
                    }
                }
            }
            let doc = Document::parse(text, None).unwrap_or_else(|e| panic!("{e}: {text:?}"));
            let mut out = Vec::new();
            walk(&doc.root, Secrecy::Plain, text, &mut out);
            out
        }

        #[derive(Debug, Clone)]
        enum Tree {
            Leaf(String),
            Array(Vec<Tree>, bool),
            Object(Vec<(String, Tree)>, bool),
        }

        /// json5's whitespace and comments, the unusual ones included.
        const GAPS: &[&str] = &[
            "",
            " ",
            "\n  ",
            "\t",
            "\r\n",
            "\u{feff}",
            "\u{a0}",
            "\u{1680}",
            "\u{3000}",
            "\u{2028}",
            "\u{2029}",
            "\u{b}\u{c}",
            "// c\n",
            "// apiKey: 'x'\u{2028}",
            "//\u{2029}",
            "// c\r",
            "/* token: 1 */",
            "/**/",
            " // it's\n",
        ];

        fn key() -> impl Strategy<Value = String> {
            let names = prop::sample::select(vec![
                "apiKey",
                "token",
                "maxTokens",
                "password",
                "source",
                "id",
                "name",
                "credentials",
                "primary",
                "keyFile",
                "api\\u004bey",
                "x",
                "sessionTokens",
            ]);
            (names, 0..3).prop_map(|(k, q)| match q {
                0 => k.to_owned(),
                1 => format!("'{k}'"),
                _ => format!("\"{k}\""),
            })
        }

        fn leaf() -> impl Strategy<Value = String> {
            let strings = prop::sample::select(vec![
                "sk-ant-0123456789abcdefghij",
                "${VAR}",
                "GATEROUTER_API_KEY",
                "env",
                "file",
                "exec",
                "a\\\"b",
                "line\\\ncontinued",
                "x\u{2028}y",
                "",
                "it\\'s",
                "q\\\\",
            ]);
            let words = prop::sample::select(vec![
                "123456789",
                "-5",
                "+1",
                ".5",
                "0x1F",
                "1e3",
                "Infinity",
                "-Infinity",
                "NaN",
                "true",
                "null",
            ]);
            prop_oneof![
                (strings, any::<bool>()).prop_map(|(s, single)| if single {
                    format!("'{s}'")
                } else {
                    format!("\"{}\"", s.replace("\\'", "'"))
                }),
                words.prop_map(str::to_owned),
            ]
        }

        fn tree() -> impl Strategy<Value = Tree> {
            leaf()
                .prop_map(Tree::Leaf)
                .prop_recursive(4, 40, 5, |inner| {
                    prop_oneof![
                        (prop::collection::vec(inner.clone(), 0..5), any::<bool>())
                            .prop_map(|(v, t)| Tree::Array(v, t)),
                        (prop::collection::vec((key(), inner), 0..5), any::<bool>())
                            .prop_map(|(v, t)| Tree::Object(v, t)),
                    ]
                })
        }

        fn render(t: &Tree, gaps: &[usize], n: &mut usize, out: &mut String) {
            fn gap(gaps: &[usize], n: &mut usize, out: &mut String) {
                *n += 1;
                out.push_str(GAPS[gaps[*n % gaps.len()]]);
            }
            match t {
                Tree::Leaf(s) => out.push_str(s),
                Tree::Array(items, trailing) => {
                    out.push('[');
                    for (i, e) in items.iter().enumerate() {
                        gap(gaps, n, out);
                        render(e, gaps, n, out);
                        gap(gaps, n, out);
                        if i + 1 < items.len() || *trailing {
                            out.push(',');
                        }
                    }
                    gap(gaps, n, out);
                    out.push(']');
                }
                Tree::Object(members, trailing) => {
                    out.push('{');
                    for (i, (k, e)) in members.iter().enumerate() {
                        gap(gaps, n, out);
                        out.push_str(k);
                        gap(gaps, n, out);
                        out.push(':');
                        gap(gaps, n, out);
                        render(e, gaps, n, out);
                        gap(gaps, n, out);
                        if i + 1 < members.len() || *trailing {
                            out.push(',');
                        }
                    }
                    gap(gaps, n, out);
                    out.push('}');
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            /// On any text json5 accepts, the tolerant reading masks exactly what the tree
            /// the strict reader builds says is secret.
            #[test]
            fn masking_agrees_with_the_strict_reader(
                t in tree(),
                gaps in prop::collection::vec(0..GAPS.len(), 1..16),
            ) {
                let mut text = String::new();
                let mut n = 0;
                render(&t, &gaps, &mut n, &mut text);
                let text = format!("{}{text}{}", GAPS[gaps[0]], GAPS[gaps[gaps.len() - 1]]);
                let tolerant = secret_spans(Reader::new(&text, false), &text, 0);
                prop_assert_eq!(tolerant, strict_spans(&text), "{:?}", text);
            }
        }
    }

    mod env_properties {
        use super::*;
        use proptest::prelude::*;

        /// Names with none of the credential parts in them (independent of the list above:
        /// from an alphabet that cannot spell one, plus a few common ones).
        fn plain_name() -> impl Strategy<Value = String> {
            prop_oneof![
                "[BDFGHJLMQUVXYZ][BDFGHJLMQUVXYZ0-9_]{0,12}",
                prop::sample::select(vec!["FOO", "NODE_ENV", "PORT", "LOG_LEVEL", "TZ", "HOME"])
                    .prop_map(str::to_owned),
            ]
        }

        /// A credential's name by the one rule (`secret_name`): a family word, singular or
        /// plural, maybe between other words.
        fn secret_name() -> impl Strategy<Value = String> {
            (
                "([A-Z]{1,5}_)?",
                prop::sample::select(vec![
                    "KEY",
                    "api_key",
                    "API_KEYS",
                    "TOKEN",
                    "TOKENS",
                    "Secret",
                    "SECRETS",
                    "PASSWORD",
                    "PASSWORDS",
                    "PASS",
                    "BASIC_AUTH",
                    "CREDENTIALS",
                    "COOKIE",
                    "SESSION_TOKEN",
                ]),
                prop::sample::select(vec!["", "_VALUE", "_PROD", "_2"]),
            )
                .prop_map(|(a, b, c)| format!("{a}{b}{c}"))
        }

        /// What a credential looks like: a prefixed key, a long random token, a URL with
        /// a password in it.
        fn secret_value() -> impl Strategy<Value = String> {
            prop_oneof![
                (
                    prop::sample::select(vec!["sk-", "sk-or-v1-", "ghp_", "xoxb-", "AKIA", "hf_"]),
                    "[A-Za-z0-9]{16,40}"
                )
                    .prop_map(|(p, r)| format!("{p}{r}")),
                "[a-f0-9]{12,20}[0-9][a-f]{3,20}",
                "[A-Za-z0-9+/]{14,40}[0-9][A-Z]",
                (
                    "[a-z]{2,8}",
                    "[a-z]{1,8}",
                    "[A-Za-z0-9]{1,12}",
                    "[a-z.]{1,12}"
                )
                    .prop_map(|(s, u, p, h)| format!("{s}://{u}:{p}@{h}/x")),
            ]
        }

        proptest! {
            /// A plain name's harmless value (a number, a yes/no word, a path) shows as written.
            #[test]
            fn plain_values_show(name in plain_name(), value in "|/[a-z/]{0,20}|[0-9]{1,6}|-?[0-9]{1,4}\\.[0-9]{1,3}|true|FALSE|yes|no|on|off") {
                let line = format!("{name}={value}");
                prop_assert_eq!(env_text(&line), line);
            }

            /// A commented-out entry is masked like a live one; a masked value's inline
            /// comment is masked with it; prose comments stay.
            #[test]
            fn commented_secrets_hide(
                name in secret_name(),
                value in "[A-Za-z0-9]{8,20}",
                hashes in "#{1,3} ?",
            ) {
                let shown = env_text(&format!("{hashes}{name}={value}\nPW=pass#{value}\n# plain words here\n"));
                prop_assert!(!shown.contains(&value), "{}", shown);
                prop_assert!(shown.contains("# plain words here"), "{}", shown);
            }

            /// A public setting's value shows (`NODE_ENV=production`, `TZ=Europe/Berlin`).
            #[test]
            fn public_settings_show(
                name in prop::sample::select(vec!["NODE_ENV", "LOG_LEVEL", "TZ", "PORT", "GATEROUTER_BASE_URL"]),
                value in "[a-z]{1,12}|[A-Z][a-z]{2,5}/[A-Z][a-z]{2,5}|https://[a-z]{1,8}\\.ai/openai/v1",
            ) {
                let line = format!("{name}={value}");
                prop_assert_eq!(env_text(&line), line);
            }

            /// Any other name's word, URL or phrase may be a password or carry one: hidden
            /// (`ADMIN_PW=correcthorse`, a webhook URL, a DSN with `?password=`).
            #[test]
            fn words_and_urls_under_unknown_names_hide(
                name in "[BDFGHJLMQUVXYZ][BDFGHJLMQUVXYZ_]{1,12}",
                value in "[a-z]{8,20}|https://[a-z]{3,8}\\.com/[a-z0-9/]{8,30}|pg://db/app\\?password=[a-z0-9]{8,12}",
            ) {
                let shown = env_text(&format!("{name}={value}"));
                prop_assert!(!shown.contains(&value), "{}", shown);
            }

            /// A credential's name hides its value, whatever the value.
            #[test]
            fn secret_names_hide_values(name in secret_name(), value in "[A-Za-z0-9._/-]{1,30}") {
                // Under a token-family name a number is a count (`MAX_TOKENS=4096`).
                prop_assume!(secrecy(&name) == Secrecy::Secret || !is_number(&value));
                let shown = env_text(&format!("{name}={value}"));
                let visible = &shown[name.len() + 1..];
                prop_assert!(value.len() < 8 || !visible.contains(&value), "{}", shown);
                prop_assert!(visible.contains('…'), "{}", shown);
            }

            /// A credential-looking value is hidden under any name, quoted or not.
            #[test]
            fn secret_values_hide_under_any_name(
                name in prop_oneof![plain_name(), secret_name()],
                value in secret_value(),
                q in prop::sample::select(vec!["", "'", "\""]),
            ) {
                let shown = env_text(&format!("{name}={q}{value}{q}"));
                prop_assert!(!shown.contains(&value), "{}", shown);
            }

            /// The key we know (the one being written or replaced) never shows, whatever
            /// name holds it: after `env_text`, shown lines go through the run's redactor.
            #[test]
            fn the_known_key_never_shows(name in plain_name(), key in "[A-Za-z]{4,12}[0-9]{2,6}") {
                let known = format!("gr-{key}");
                let shown = crate::redact::secrets::Redactor::of([&known])
                    .text(&line(Syntax::Dotenv, &format!("{name}={known}")));
                prop_assert!(!shown.contains(&known), "{}", shown);
            }
        }
    }
}
