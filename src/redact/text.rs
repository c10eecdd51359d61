//! Text made safe to show, with no I/O: control and text-reordering characters as visible
//! escapes, outside text kept to one line, our colours. The command line's output sink
//! applies these after redaction; errors, the probe and reports use them to build lines.

use std::borrow::Cow;

/// Whether a character is shown as an escape rather than as itself.
pub fn dangerous(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        c if c.is_control() => true, // C0, DEL, C1
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' => true,
        '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' => true,
        _ => false,
    }
}

/// Control and text-reordering characters as visible escapes: `\x1b`, `\r`, `\u{202e}`.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(dangerous) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            c if dangerous(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if dangerous(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Text from outside (a server's message, a lock file's content) meant to sit inside one
/// line of ours: like `escape`, and newlines and tabs escaped too, so it cannot start a
/// line that looks like ours (`\nerror: …`); cut to `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push_str(&escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    out
}

/// The colours we use, as SGR sequences.
#[derive(Clone, Copy)]
pub enum Style {
    Good,
    Warn,
    Bad,
}

/// `text` escaped to one line, then coloured when `on`: the escaping comes first, so the
/// only control sequences in the result are the colour codes added here.
pub fn paint(text: &str, style: Style, on: bool) -> String {
    let text = one_line(text, usize::MAX);
    if !on {
        return text;
    }
    let sgr = match style {
        Style::Good => "\x1b[32m",
        Style::Warn => "\x1b[1;33m",
        Style::Bad => "\x1b[1;31m",
    };
    format!("{sgr}{text}\x1b[0m")
}

/// A JSON document as text that stays inert on a terminal: the characters serde_json leaves
/// raw inside strings (DEL, C1, bidi, …) written as `\uXXXX` escapes, which keeps it valid
/// JSON with the same value. Redaction is the sink's, before this.
pub fn json_inert(value: &serde_json::Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    if !text.chars().any(dangerous) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if dangerous(c) {
            // Serialised JSON has raw characters only inside strings, where \u escapes are
            // valid; characters above the BMP are never in the dangerous set.
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_cannot_start_a_line() {
        assert_eq!(one_line("a\nerror: b\r\x1b", 100), "a\\nerror: b\\r\\x1b");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(escape("a\x1b[2Jb\rc\td\n"), "a\\x1b[2Jb\\rc\td\n");
        assert_eq!(escape("x\u{202e}y\u{9b}z"), "x\\u{202e}y\\x9bz");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
    }
}
