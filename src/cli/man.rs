//! `gaterouter-setup man`: the manual pages, one for the command and one per subcommand,
//! so every `gaterouter-setup-…(1)` the main page names exists.

use std::io::Write as _;

use super::*;

/// The command tree as the pages show it: built (so each subcommand knows its full name,
/// `gaterouter-setup-doctor`), without clap's `help` subcommand, which has no page.
fn tree() -> clap::Command {
    let mut cmd = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// Every page: (file name, roff), the command's first.
pub(super) fn pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let cmd = tree();
    let mut out = vec![(format!("{BIN}.1"), page(&cmd)?)];
    for sub in cmd.get_subcommands() {
        out.push((format!("{BIN}-{}.1", sub.get_name()), page(sub)?));
    }
    Ok(out)
}

/// One page: clap_mangen's sections, then the text after the options (examples, files, exit
/// codes) as sections of their own, set without filling so their columns stay as written.
fn page(cmd: &clap::Command) -> std::io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut w = Vec::new();
    man.render_title(&mut w)?;
    man.render_name_section(&mut w)?;
    man.render_synopsis_section(&mut w)?;
    man.render_description_section(&mut w)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut w)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut w)?;
        writeln!(
            w,
            ".PP\nEach subcommand has its own page: {} man SUBCOMMAND | man \\-l \\-, or install them all with {} man \\-\\-dir DIR.",
            roff_text(BIN),
            roff_text(BIN)
        )?;
    }
    if let Some(after) = cmd.get_after_long_help().or_else(|| cmd.get_after_help()) {
        w.extend(unfilled_sections(&after.to_string()).into_bytes());
    }
    if cmd.get_version().is_some() {
        man.render_version_section(&mut w)?;
    }
    Ok(w)
}

/// Paragraphs like `Examples:\n  …` or `Exit codes: 0 …\n  …` become `.SH EXAMPLES` /
/// `.SH EXIT CODES` with their lines kept as they are (`.nf`).
fn unfilled_sections(text: &str) -> String {
    let mut out = String::new();
    for para in text.split("\n\n") {
        let (first, rest) = para.split_once('\n').unwrap_or((para, ""));
        let (title, tail) = match first.split_once(':') {
            Some((t, tail)) => (t, tail.trim_start()),
            None => ("NOTES", first),
        };
        // `Files (under the OpenClaw root, …):` is titled FILES, the rest kept as a line.
        let (title, note) = match title.split_once(" (") {
            Some((t, n)) => (t, Some(format!("({n}:"))),
            None => (title, None),
        };
        out.push_str(&format!(".SH {}\n.nf\n", roff_text(&title.to_uppercase())));
        for line in note
            .iter()
            .map(String::as_str)
            .chain(Some(tail).filter(|t| !t.is_empty()))
            .chain(rest.lines())
        {
            out.push_str(&roff_line(line));
            out.push('\n');
        }
        out.push_str(".fi\n");
    }
    out
}

/// Text as roff shows it literally: backslashes and hyphens escaped, and any non-ASCII
/// character (`…`) named by its code point, which any groff reads whatever its input
/// encoding.
fn roff_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            c if c.is_ascii() => out.push(c),
            c => out.push_str(&format!("\\[u{:04X}]", c as u32)),
        }
    }
    out
}

/// One literal line: a leading `.` or `'` would be a request, so it is guarded.
fn roff_line(s: &str) -> String {
    let t = roff_text(s);
    if t.starts_with(['.', '\'']) {
        format!("\\&{t}")
    } else {
        t
    }
}

/// `man [SUBCOMMAND]` prints one page; `man --dir DIR` writes them all.
pub(super) fn run(a: &ManArgs, sink: &Sink) -> i32 {
    let pages = match pages() {
        Ok(p) => p,
        Err(e) => {
            sink.error(&e.to_string());
            return exit::INPUT;
        }
    };
    if let Some(dir) = &a.dir {
        for (name, roff) in &pages {
            let path = dir.join(name);
            if let Err(e) = crate::sys::fsx::write_generated(&path, roff, 0o644) {
                sink.error(&Error::io(&path, e).to_string());
                return exit::INPUT;
            }
        }
        outln!(sink, "Wrote {} pages to {}", pages.len(), dir.display());
        return exit::OK;
    }
    let want = match &a.command {
        Some(c) => format!("{BIN}-{c}.1"),
        None => format!("{BIN}.1"),
    };
    match pages.iter().find(|(n, _)| *n == want) {
        Some((_, roff)) => {
            output::out_generated(roff);
            exit::OK
        }
        None => {
            let tree = tree();
            let names: Vec<&str> = tree.get_subcommands().map(|s| s.get_name()).collect();
            sink.error(&format!(
                "there is no subcommand `{}`; the pages are for: {}",
                a.command.as_deref().unwrap_or_default(),
                names.join(", ")
            ));
            exit::INPUT
        }
    }
}
