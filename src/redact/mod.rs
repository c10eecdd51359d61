//! Redaction of what a diff or report shows. Our key and any key it replaces are masked
//! everywhere; beyond that, diff context lines can show the user's *other* secrets (an
//! `OPENAI_API_KEY=` line next to ours, a literal `apiKey` of another provider), so every
//! `.env` value with a secret-looking name or value and every secret-looking JSON value is
//! masked too; `FOO=1` shows, so the context reads. Output of this tool may
//! end up in CI logs; it must never carry a credential.

pub mod secret_name;
pub mod secrets;
pub mod text;

use crate::format::dotenv::{self, js_line_break};
use crate::redact::secret_name::{Secrecy, secrecy, secret_name};
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

/// Masks `"apiKey": "sk-…"`-style string values on one JSON/JSON5 line.
pub fn json_line(line: &str) -> String {
    // Most lines hold no credential-like name at all: skip the tokenizer for them.
    if !line.contains(':') || !crate::redact::secret_name::hinted(line) {
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
/// not credentials and stay visible.
///
/// A single forward scan of tokens, not a parse: it runs on both versions of every file a
/// diff shows (a 1 MB config too, where a full JSON5 parse costs tens of milliseconds), it
/// only has to know which name each value sits under, and it cannot fail: text that is
/// not valid JSON5 is scanned just as well.
fn json_secret_spans(text: &str) -> Vec<(usize, usize)> {
    struct Frame {
        object: bool,
        secret: Secrecy,
        /// Where this frame's own spans start, to drop them if it is a SecretRef.
        first_span: usize,
        source_is_ref: bool,
        has_id: bool,
    }
    let b = text.as_bytes();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    // In an object: whether the next token is a property name, the last name, and whether
    // the value after `:` is secret.
    let mut expect_key = false;
    let mut key: &str = "";
    let mut value_secret = Secrecy::Plain;
    let mut names: std::collections::HashMap<&str, Secrecy> = std::collections::HashMap::new();
    let secret_here = |stack: &[Frame], value_secret: Secrecy| match stack.last() {
        Some(f) if f.object => value_secret,
        Some(f) => f.secret,
        None => Secrecy::Plain,
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = b[i..]
                    .iter()
                    .position(|&x| x == b'\n')
                    .map_or(b.len(), |p| i + p);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
            }
            b'{' | b'[' => {
                let secret = secret_here(&stack, value_secret);
                stack.push(Frame {
                    object: c == b'{',
                    secret,
                    first_span: spans.len(),
                    source_is_ref: false,
                    has_id: false,
                });
                expect_key = c == b'{';
                value_secret = Secrecy::Plain;
                i += 1;
            }
            b'}' | b']' => {
                if let Some(f) = stack.pop()
                    && f.object
                    && f.secret != Secrecy::Plain
                    && f.source_is_ref
                    && f.has_id
                {
                    spans.truncate(f.first_span);
                }
                expect_key = false;
                i += 1;
            }
            b',' => {
                expect_key = stack.last().is_some_and(|f| f.object);
                i += 1;
            }
            b':' => {
                // Inside a credential's value everything is one (the stricter of the two).
                let inherited = stack.last().map_or(Secrecy::Plain, |f| f.secret);
                // Large files repeat a few names thousands of times (`id`, `name`, …).
                let own = *names.entry(key).or_insert_with(|| secrecy(key));
                value_secret = match (inherited, own) {
                    (Secrecy::Secret, _) | (_, Secrecy::Secret) => Secrecy::Secret,
                    (Secrecy::Tokens, _) | (_, Secrecy::Tokens) => Secrecy::Tokens,
                    _ => Secrecy::Plain,
                };
                expect_key = false;
                i += 1;
            }
            _ => {
                // A string, or a word (identifier, number, literal).
                let (start, end, inner) = if c == b'"' || c == b'\'' {
                    let mut j = i + 1;
                    while j < b.len() && b[j] != c {
                        j += if b[j] == b'\\' { 2 } else { 1 };
                    }
                    let end = (j + 1).min(b.len());
                    (i + 1, j.min(b.len()), end)
                } else {
                    let mut j = i;
                    while j < b.len()
                        && !matches!(
                            b[j],
                            b' ' | b'\t'
                                | b'\n'
                                | b'\r'
                                | b','
                                | b':'
                                | b'{'
                                | b'}'
                                | b'['
                                | b']'
                                | b'"'
                                | b'\''
                                | b'/'
                        )
                    {
                        j += 1;
                    }
                    (i, j.max(i + 1), j.max(i + 1))
                };
                let next = inner;
                let (start, end) = (start.min(b.len()), end.min(b.len()));
                let token = text.get(start..end).unwrap_or("");
                let in_object = stack.last().is_some_and(|f| f.object);
                if expect_key && in_object {
                    key = token;
                } else {
                    let secret = secret_here(&stack, value_secret);
                    let is_string = c == b'"' || c == b'\'';
                    let is_number = !is_string
                        && token
                            .bytes()
                            .next()
                            .is_some_and(|x| x.is_ascii_digit() || matches!(x, b'-' | b'+' | b'.'));
                    if (secret.masks_strings() && is_string && !is_reference(token))
                        || (secret.masks_numbers() && is_number)
                    {
                        spans.push((start, end));
                    }
                    if let Some(f) = stack.last_mut().filter(|f| f.object) {
                        match key {
                            "source" => f.source_is_ref = matches!(token, "env" | "file" | "exec"),
                            "id" => f.has_id = is_string,
                            _ => {}
                        }
                    }
                }
                i = next;
            }
        }
    }
    spans
}

/// A JSON/JSON5 file's text with its secrets masked by their place in the structure (see
/// `json_secret_spans`), so a value on a line of its own is masked as well as one beside its
/// name. Line breaks are kept, so its lines line up one to one with the file's.
pub fn json_masked(text: &str) -> std::borrow::Cow<'_, str> {
    let spans = json_secret_spans(text);
    if spans.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut masked = String::with_capacity(text.len());
    let mut last = 0;
    for (a, b) in spans {
        if a < last || b > text.len() || !text.is_char_boundary(a) || !text.is_char_boundary(b) {
            continue;
        }
        masked.push_str(&text[last..a]);
        let inner = &text[a..b];
        // The masked value on the first line, its line breaks (and a CR before each) after.
        let flat: String = inner.chars().filter(|c| *c != '\n' && *c != '\r').collect();
        masked.push_str(&redact(&flat));
        for _ in 0..inner.matches('\n').count() {
            masked.push('\n');
        }
        last = b;
    }
    masked.push_str(&text[last..]);
    std::borrow::Cow::Owned(masked)
}

/// `json_masked` as lines: one entry per `split_inclusive('\n')` line, terminators removed.
pub fn json_lines(text: &str) -> Vec<String> {
    json_masked(text)
        .split_inclusive('\n')
        .map(|l| strip_eol(l).to_owned())
        .collect()
}

fn strip_eol(l: &str) -> &str {
    let l = l.strip_suffix('\n').unwrap_or(l);
    l.strip_suffix('\r').unwrap_or(l)
}

/// A whole file's text, masked by the file's structure where that needs the whole file
/// (JSON: see `json_masked`; `.env`: every value by entry, see `env_text`). Its lines
/// line up one to one with the file's; each shown line then still goes through `line`
/// (only shown lines: a diff shows a few lines of a large file).
pub fn file_masked(kind: crate::plan::FileKind, text: &str) -> std::borrow::Cow<'_, str> {
    match kind {
        // A .env value can span lines (a PEM key): mask the whole file by parsed entry; the
        // masked text keeps every line break, so its lines match the file's one to one.
        crate::plan::FileKind::Env => std::borrow::Cow::Owned(env_text(text)),
        _ => json_masked(text),
    }
}

/// Redacts one line of a file of the given kind by its structure; the secrets the run knows
/// are masked where it is printed (the output sink's redactor).
pub fn line(kind: crate::plan::FileKind, text: &str) -> String {
    match kind {
        crate::plan::FileKind::Env => env_text(text),
        _ => json_line(text),
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
                    .text(&line(crate::plan::FileKind::Env, &format!("{name}={known}")));
                prop_assert!(!shown.contains(&known), "{}", shown);
            }
        }
    }
}
