//! Unified diffs of a plan, redacted, optionally coloured.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use similar::{Algorithm, ChangeTag};

use crate::plan::{FileChange, Plan};
use crate::redact;

const CONTEXT: usize = 3;

/// Styles a piece of the diff. The text (a file name, a line of a file) is escaped first:
/// once our own colour codes are around it, the output layer can no longer tell them apart
/// from ESC sequences inside the file, so untrusted bytes must be made inert here.
fn paint(color: bool, style: Style, text: &str) -> String {
    let text = crate::output::escape(text);
    if color {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.into_owned()
    }
}

/// A whole file as the report's `before`/`after` show it (Ansible renders them as its own
/// diff): every line masked exactly as the unified diff masks it, so the two can never
/// disagree about what is secret. Line breaks are kept (CR LF shown as LF).
pub fn redacted_text(kind: crate::plan::FileKind, bytes: &[u8], secrets: &[&str]) -> String {
    let raw = text(bytes);
    let ends: Vec<bool> = raw
        .split_inclusive('\n')
        .map(|l| l.ends_with('\n'))
        .collect();
    let mut out = String::with_capacity(raw.len());
    let masked = redact::file_masked(kind, &raw);
    // The same second pass as each shown diff line (see `render`).
    let lines = masked.split_inclusive('\n').map(|l| {
        let l = l.strip_suffix('\n').unwrap_or(l);
        let l = l.strip_suffix('\r').unwrap_or(l);
        match kind {
            crate::plan::FileKind::Env => crate::key::redact_all(l, secrets),
            _ => redact::line(kind, l, secrets),
        }
    });
    for (line, nl) in lines.zip(ends) {
        out.push_str(&crate::output::escape(&line));
        if nl {
            out.push('\n');
        }
    }
    out
}

/// All pending changes of a plan, one unified diff per file.
pub fn render_plan(plan: &Plan, color: bool) -> String {
    let secrets: Vec<&str> = plan.secrets.iter().map(String::as_str).collect();
    let pending: Vec<&FileChange> = plan.pending().collect();
    crate::par::map(
        &pending,
        |f| f.after.as_ref().map_or(0, Vec::len) + f.before.as_ref().map_or(0, Vec::len),
        |f| render(f, &secrets, color),
    )
    .concat()
}

/// One file's change as a git-style unified diff. Lines are compared as written but shown
/// redacted, so a key swapped for another with the same visible ends still shows as a change.
pub fn render(f: &FileChange, secrets: &[&str], color: bool) -> String {
    let bold = Style::new().bold();
    let mut out = String::new();
    let header = |out: &mut String, s: String| {
        out.push_str(&paint(color, bold, &s));
        out.push('\n');
    };
    // Notes go before the `diff --git` line, where `git apply` skips text: between it and
    // `---` they would be taken for malformed extended headers.
    if f.symlink {
        header(
            &mut out,
            format!(
                "symlink: writes go to {}",
                crate::output::one_line(&f.target.display().to_string(), usize::MAX)
            ),
        );
    }
    // Git's own headers, so the dry-run output can be fed to `git apply` in the root (its
    // masked secrets cannot be: see docs). Git knows two modes of a file, 644 and 755: a
    // change between two modes it counts as one (644 → 600 on .env) is a note, since as a
    // header it would make git refuse the whole patch.
    let mut extended = Vec::new();
    match f.mode_before {
        _ if f.is_removal() => extended.push(format!(
            "deleted file mode 100{:o}",
            f.mode_before.unwrap_or(0o600)
        )),
        _ if f.is_new() => extended.push(format!("new file mode 100{:o}", f.mode_after)),
        Some(m) if m != f.mode_after && git_mode(m) != git_mode(f.mode_after) => {
            extended.push(format!("old mode 100{m:o}"));
            extended.push(format!("new mode 100{:o}", f.mode_after));
        }
        Some(m) if m != f.mode_after => header(
            &mut out,
            format!(
                "mode {m:o} → {:o}: {} (chmod {:o}; not a change a git patch can carry)",
                f.mode_after,
                crate::output::one_line(&f.rel, usize::MAX),
                f.mode_after
            ),
        ),
        _ => {}
    }
    if !f.content_changed() && extended.is_empty() {
        return out;
    }
    header(
        &mut out,
        format!("diff --git {} {}", side("a", &f.rel), side("b", &f.rel)),
    );
    for line in extended {
        header(&mut out, line);
    }
    if !f.content_changed() {
        return out;
    }
    let before = f.before.as_deref().map(text).unwrap_or_default();
    let after = f.after.as_deref().map(text).unwrap_or_default();
    let old_name = if f.is_new() {
        "/dev/null".to_owned()
    } else {
        side("a", &f.rel)
    };
    header(&mut out, format!("--- {old_name}"));
    let new_name = if f.is_removal() {
        "/dev/null".to_owned()
    } else {
        side("b", &f.rel)
    };
    header(&mut out, format!("+++ {new_name}"));

    // Lines split once and diffed as slices: several times faster than `TextDiff::from_lines`
    // on a large file (see benches/plan.rs).
    let old_lines: Vec<&str> = before.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = after.split_inclusive('\n').collect();
    let ops = similar::capture_diff_slices(Algorithm::Myers, &old_lines, &new_lines);
    // Shown lines come from the whole file, redacted by its structure (a secret's name and
    // value can be on different lines); they line up one to one with the compared lines.
    let (old_masked, new_masked) = (
        redact::file_masked(f.kind, &before),
        redact::file_masked(f.kind, &after),
    );
    // Nothing masked (borrowed): the compared lines are the shown lines. Masking keeps the
    // line breaks; if the counts ever differed, the unmasked lines (masked per line) are used.
    #[allow(clippy::ptr_arg)] // borrowed means "nothing masked", which a &str cannot say
    fn split<'a>(masked: &'a std::borrow::Cow<'_, str>, count: usize) -> Option<Vec<&'a str>> {
        let std::borrow::Cow::Owned(m) = masked else {
            return None;
        };
        Some(m.split_inclusive('\n').collect::<Vec<&str>>()).filter(|v| v.len() == count)
    }
    let old_shown = split(&old_masked, old_lines.len());
    let new_shown = split(&new_masked, new_lines.len());
    for group in similar::group_diff_ops(ops, CONTEXT) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old = first.old_range().start..last.old_range().end;
        let new = first.new_range().start..last.new_range().end;
        let hunk = format!(
            "@@ -{} +{} @@",
            range(old.start, old.len()),
            range(new.start, new.len())
        );
        out.push_str(&paint(
            color,
            Style::new().fg_color(Some(AnsiColor::Cyan.into())),
            &hunk,
        ));
        out.push('\n');
        for op in &group {
            for change in op.iter_changes(&old_lines, &new_lines) {
                let (sign, style) = match change.tag() {
                    ChangeTag::Delete => ('-', Style::new().fg_color(Some(AnsiColor::Red.into()))),
                    ChangeTag::Insert => {
                        ('+', Style::new().fg_color(Some(AnsiColor::Green.into())))
                    }
                    ChangeTag::Equal => (' ', Style::new()),
                };
                let raw = change.value();
                let text = raw.strip_suffix('\n').unwrap_or(raw);
                let text = text.strip_suffix('\r').unwrap_or(text);
                let shown = match (change.old_index(), change.new_index()) {
                    (Some(i), _) if change.tag() != ChangeTag::Insert => {
                        old_shown.as_ref().and_then(|v| v.get(i))
                    }
                    (_, Some(i)) => new_shown.as_ref().and_then(|v| v.get(i)),
                    _ => None,
                }
                .map(|l: &&str| {
                    let l = l.strip_suffix('\n').unwrap_or(l);
                    l.strip_suffix('\r').unwrap_or(l)
                })
                .map_or_else(
                    || redact::line(f.kind, text, secrets),
                    // .env lines are already masked by entry (a second pass would take
                    // a masked multi-line value's lines for values again).
                    |l| match f.kind {
                        crate::plan::FileKind::Env => crate::key::redact_all(l, secrets),
                        _ => redact::line(f.kind, l, secrets),
                    },
                );
                let _ = write!(
                    out,
                    "{}",
                    paint(color && sign != ' ', style, &format!("{sign}{shown}"))
                );
                out.push('\n');
                if !raw.ends_with('\n') {
                    out.push_str("\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}

/// Planned files are UTF-8 (the planner refuses anything else); `from_utf8` is much faster
/// than `from_utf8_lossy`, which stays only as the fallback.
fn text(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// `a/openclaw.json`; a file outside the root (an absolute path) is shown as it is.
/// A name with a newline in it stays on its header line.
fn side(prefix: &str, rel: &str) -> String {
    let rel = crate::output::one_line(rel, usize::MAX);
    if rel.starts_with('/') {
        rel.to_owned()
    } else {
        format!("{prefix}/{rel}")
    }
}

/// The mode git records for a regular file: executable or not.
fn git_mode(mode: u32) -> u32 {
    if mode & 0o111 != 0 { 0o755 } else { 0o644 }
}

/// Unified-diff range: 1-based start, and the length when it is not 1.
fn range(start: usize, len: usize) -> String {
    match len {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        n => format!("{},{n}", start + 1),
    }
}
