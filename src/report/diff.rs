//! Unified diffs of a plan, redacted, optionally coloured.

use anstyle::{AnsiColor, Style};
use similar::{Algorithm, ChangeTag};

use crate::format::json5::{self, Kind};
use crate::openclaw::files::{FileKind, Syntax};
use crate::plan::{FileChange, Plan};
use crate::redact;
use crate::redact::text::{escape, one_line};

const CONTEXT: usize = 3;

/// Styles a piece of the diff. The text (a file name, a line of a file) is escaped first:
/// once our own colour codes are around it, the output layer can no longer tell them apart
/// from ESC sequences inside the file, so untrusted bytes must be made inert here.
fn paint(color: bool, style: Style, text: &str) -> String {
    let text = escape(text);
    if color {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.into_owned()
    }
}

fn fg(c: AnsiColor) -> Style {
    Style::new().fg_color(Some(c.into()))
}

/// A whole file as the report's `before`/`after` show it (Ansible renders them as its own
/// diff): every line masked exactly as the unified diff masks it, so the two can never
/// disagree about what is secret. Line breaks are kept (CR LF shown as LF).
pub fn redacted_text(kind: FileKind, bytes: &[u8]) -> String {
    let raw = text(bytes);
    let masked = masked(kind, &raw);
    // Each line shown by the same `Side::shown` as a diff line (see `render`).
    let side = Side::new(&raw, masked.as_deref());
    let mut out = String::with_capacity(raw.len());
    for (i, line) in side.lines.iter().enumerate() {
        out.push_str(&escape(&side.shown(kind, i)));
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// A side's text masked by its whole file's structure, only where masking changed something.
fn masked(kind: FileKind, text: &str) -> Option<String> {
    match redact::file_masked(kind.spec().syntax, text) {
        std::borrow::Cow::Owned(m) => Some(m),
        std::borrow::Cow::Borrowed(_) => None,
    }
}

/// All pending changes of a plan, one unified diff per file.
pub fn render_plan(plan: &Plan, color: bool) -> String {
    render_review(plan, color, true)
}

/// The plan as shown for review: like `render_plan`, but unless `verbose`, each run of added
/// or removed lines inside the models catalog is one line (see `fold_catalog`). Only for
/// people: the JSON report's diffs stay whole.
pub fn render_review(plan: &Plan, color: bool, verbose: bool) -> String {
    let pending: Vec<&FileChange> = plan.pending().collect();
    crate::sys::par::map(
        &pending,
        |f| f.after.as_ref().map_or(0, Vec::len) + f.before.as_ref().map_or(0, Vec::len),
        |f| render_with(f, color, !verbose),
    )
    .concat()
}

/// One file's change as a git-style unified diff. Lines are compared as written but shown
/// redacted, so a key swapped for another with the same visible ends still shows as a change.
pub fn render(f: &FileChange, color: bool) -> String {
    render_with(f, color, false)
}

fn render_with(f: &FileChange, color: bool, fold: bool) -> String {
    let mut out = String::new();
    if headers(f, color, &mut out) {
        hunks(f, color, fold, &mut out);
    }
    out
}

/// The notes and git's headers of one file's change; whether its content changed (hunks
/// follow).
fn headers(f: &FileChange, color: bool, out: &mut String) -> bool {
    let header = |out: &mut String, s: String| {
        out.push_str(&paint(color, Style::new().bold(), &s));
        out.push('\n');
    };
    // Notes go before the `diff --git` line, where `git apply` skips text: between it and
    // `---` they would be taken for malformed extended headers.
    if f.symlink {
        header(
            out,
            format!(
                "symlink: writes go to {}",
                one_line(&f.target.display().to_string(), usize::MAX)
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
            out,
            format!(
                "mode {m:o} → {:o}: {} (chmod {:o}; not a change a git patch can carry)",
                f.mode_after,
                one_line(&f.rel, usize::MAX),
                f.mode_after
            ),
        ),
        _ => {}
    }
    if !f.content_changed() && extended.is_empty() {
        return false;
    }
    header(
        out,
        format!("diff --git {} {}", side("a", &f.rel), side("b", &f.rel)),
    );
    for line in extended {
        header(out, line);
    }
    if !f.content_changed() {
        return false;
    }
    let name = |none: bool, prefix| match none {
        true => "/dev/null".to_owned(),
        false => side(prefix, &f.rel),
    };
    header(out, format!("--- {}", name(f.is_new(), "a")));
    header(out, format!("+++ {}", name(f.is_removal(), "b")));
    true
}

/// One side of a change: its lines as compared, as shown, and its catalog once parsed.
struct Side<'a> {
    text: &'a str,
    lines: Vec<&'a str>,
    /// Redacted by the whole file's structure (a secret's name and value can be on
    /// different lines), one to one with `lines`; `None` when nothing was masked.
    shown: Option<Vec<&'a str>>,
    /// Parsing for positions costs about as much as the diff of a large file: only a side
    /// with a run long enough to fold is parsed.
    catalog: std::cell::OnceCell<Option<Catalog>>,
}

impl<'a> Side<'a> {
    /// Masking keeps the line breaks; if the counts ever differed, the compared lines are
    /// shown (masked per line).
    fn new(text: &'a str, masked: Option<&'a str>) -> Side<'a> {
        // Lines split once and diffed as slices: several times faster than
        // `TextDiff::from_lines` on a large file (see benches/plan.rs).
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let shown = masked
            .map(|m| m.split_inclusive('\n').collect::<Vec<_>>())
            .filter(|v| v.len() == lines.len());
        Side {
            text,
            lines,
            shown,
            catalog: std::cell::OnceCell::new(),
        }
    }

    /// Line `i` as shown, without its line break.
    fn shown(&self, kind: FileKind, i: usize) -> String {
        match self.shown.as_ref().and_then(|v| v.get(i)) {
            Some(l) => second_pass(kind, redact::strip_eol(l)),
            None => redact::line(kind.spec().syntax, redact::strip_eol(self.lines[i])),
        }
    }
}

/// What a line masked with its whole file still goes through: `redact::line`, except for
/// `.env`, whose lines are already masked by entry (a second pass would take a masked
/// multi-line value's lines for values again).
fn second_pass(kind: FileKind, l: &str) -> String {
    match kind.spec().syntax {
        Syntax::Dotenv => l.to_owned(),
        Syntax::Json => redact::line(Syntax::Json, l),
    }
}

/// The hunks of a file whose content changed. Lines are compared as written and shown
/// redacted.
fn hunks(f: &FileChange, color: bool, fold: bool, out: &mut String) {
    let before = f.before.as_deref().map(text).unwrap_or_default();
    let after = f.after.as_deref().map(text).unwrap_or_default();
    let masked = [&before, &after].map(|t| masked(f.kind, t));
    let old = Side::new(&before, masked[0].as_deref());
    let new = Side::new(&after, masked[1].as_deref());
    let ops = similar::capture_diff_slices(Algorithm::Myers, &old.lines, &new.lines);
    for group in similar::group_diff_ops(ops, CONTEXT) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let hunk = format!(
            "@@ -{} +{} @@",
            range(
                first.old_range().start,
                last.old_range().end - first.old_range().start
            ),
            range(
                first.new_range().start,
                last.new_range().end - first.new_range().start
            )
        );
        out.push_str(&paint(color, fg(AnsiColor::Cyan), &hunk));
        out.push('\n');
        let changes: Vec<similar::Change<&str>> = group
            .iter()
            .flat_map(|op| op.iter_changes(&old.lines, &new.lines))
            .collect();
        let folded = fold_catalog(
            &changes,
            lazy_catalog(fold, &changes, ChangeTag::Delete, &old, f.kind),
            lazy_catalog(fold, &changes, ChangeTag::Insert, &new, f.kind),
        );
        for (change, fold) in changes.iter().zip(&folded) {
            match fold {
                Fold::Show => change_line(f.kind, color, change, [&old, &new], out),
                Fold::Hidden => {}
                Fold::Summary(line) => {
                    let (sign, c) = match change.tag() {
                        ChangeTag::Delete => ('-', AnsiColor::Red),
                        _ => ('+', AnsiColor::Green),
                    };
                    out.push_str(&paint(color, fg(c).dimmed(), &format!("{sign}{line}")));
                    out.push('\n');
                }
            }
        }
    }
}

/// One line of a hunk, shown redacted.
fn change_line(
    kind: FileKind,
    color: bool,
    change: &similar::Change<&str>,
    [old, new]: [&Side; 2],
    out: &mut String,
) {
    let (sign, style) = match change.tag() {
        ChangeTag::Delete => ('-', fg(AnsiColor::Red)),
        ChangeTag::Insert => ('+', fg(AnsiColor::Green)),
        ChangeTag::Equal => (' ', Style::new()),
    };
    let shown = match (change.tag(), change.old_index(), change.new_index()) {
        (ChangeTag::Insert, _, Some(i)) | (_, None, Some(i)) => new.shown(kind, i),
        (_, Some(i), _) => old.shown(kind, i),
        _ => redact::line(kind.spec().syntax, redact::strip_eol(change.value())),
    };
    out.push_str(&paint(
        color && sign != ' ',
        style,
        &format!("{sign}{shown}"),
    ));
    out.push('\n');
    if !change.value().ends_with('\n') {
        out.push_str("\\ No newline at end of file\n");
    }
}

/// Planned files are UTF-8 (the planner refuses anything else); `from_utf8` is much faster
/// than `from_utf8_lossy`, which stays only as the fallback.
pub(super) fn text(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// `a/openclaw.json`; a file outside the root (an absolute path) is shown as it is.
/// A name with a newline in it stays on its header line.
fn side(prefix: &str, rel: &str) -> String {
    let rel = one_line(rel, usize::MAX);
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

/// Runs shorter than this are shown as they are: folding them would hide as much as it
/// saves.
const FOLD_FROM: usize = 4;

/// Where the models catalog (`…/gaterouter/models`, a long array of similar objects) sits
/// in one side of a file, found by parsing it, never by matching text: the lines that hold
/// nothing but the array's contents, and the `id` of each element by the line it starts on.
struct Catalog {
    /// Per line: whether everything on it lies inside the array's brackets.
    inside: Vec<bool>,
    /// (line, id) of each element, in order.
    ids: Vec<(usize, String)>,
}

impl Catalog {
    fn find(kind: FileKind, text: &str) -> Option<Catalog> {
        let path = kind.spec().catalog?;
        // Only the catalog is built; the rest of the file is checked, not read.
        let doc = json5::Document::parse(text, Some(&[path])).ok()?;
        let array = doc
            .root
            .at(path)
            .filter(|n| matches!(n.kind, Kind::Array(_)))?;
        let (open, close) = (array.span.start + 1, array.span.end - 1);
        let starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let line_of = |at: usize| starts.partition_point(|&s| s <= at) - 1;
        let inside = text
            .split_inclusive('\n')
            .zip(&starts)
            .map(|(line, &start)| {
                let body = line.trim_start();
                let from = start + (line.len() - body.len());
                let to = from + body.trim_end().len();
                from >= open && to <= close
            })
            .collect();
        let ids = array
            .entries()
            .unwrap_or_default()
            .iter()
            .map(|e| {
                // The last `id` that is a string names it.
                let id = e
                    .value
                    .is_object()
                    .then(|| e.value.entries())
                    .flatten()
                    .and_then(|members| {
                        members
                            .iter()
                            .rev()
                            .find_map(|m| match (&m.key, &m.value.kind) {
                                (Some((k, _)), Kind::Scalar(json5::Value::String(s)))
                                    if k == "id" =>
                                {
                                    Some(s.to_lossy())
                                }
                                _ => None,
                            })
                    });
                let id = id.unwrap_or_else(|| "?".to_owned());
                // Masked by shape before it is cut short, so no cut leaves a key too short
                // to look like one (the run's secrets are masked where it is printed).
                let id = one_line(&crate::redact::secrets::Redactor::new().text(&id), 60);
                (line_of(e.value.span.start), id)
            })
            .collect();
        Some(Catalog { inside, ids })
    }

    fn holds(&self, line: usize) -> bool {
        self.inside.get(line).copied().unwrap_or(false)
    }
}

/// A side's catalog, parsed the first time a hunk could fold on that side.
fn lazy_catalog<'c>(
    fold: bool,
    changes: &[similar::Change<&str>],
    tag: ChangeTag,
    side: &'c Side,
    kind: FileKind,
) -> Option<&'c Catalog> {
    if !fold || !long_run(changes, tag) {
        return None;
    }
    side.catalog
        .get_or_init(|| Catalog::find(kind, side.text))
        .as_ref()
}

/// Whether a hunk has `FOLD_FROM` or more `tag` lines in a row (else nothing can fold).
fn long_run(changes: &[similar::Change<&str>], tag: ChangeTag) -> bool {
    let mut n = 0;
    changes.iter().any(|c| {
        n = if c.tag() == tag { n + 1 } else { 0 };
        n >= FOLD_FROM
    })
}

/// What becomes of one line of a hunk when catalogs are folded.
#[derive(Debug, Clone, PartialEq)]
enum Fold {
    Show,
    Hidden,
    /// The first line of a folded run, replaced by this text (without its sign).
    Summary(String),
}

/// Folds each run of at least `FOLD_FROM` added (or removed) lines that all lie inside the
/// catalog of their side into one line naming the models it holds. A line that holds
/// anything outside the catalog's brackets, a context line, or a short run is shown as it is,
/// so no change outside the catalog can be hidden.
fn fold_catalog(
    changes: &[similar::Change<&str>],
    old: Option<&Catalog>,
    new: Option<&Catalog>,
) -> Vec<Fold> {
    let mut out = vec![Fold::Show; changes.len()];
    let side = |c: &similar::Change<&str>| match c.tag() {
        ChangeTag::Delete => old.zip(c.old_index()),
        ChangeTag::Insert => new.zip(c.new_index()),
        ChangeTag::Equal => None,
    };
    let mut i = 0;
    while i < changes.len() {
        let Some((cat, first)) = side(&changes[i]).filter(|(cat, l)| cat.holds(*l)) else {
            i += 1;
            continue;
        };
        let tag = changes[i].tag();
        let mut j = i + 1;
        while j < changes.len()
            && changes[j].tag() == tag
            && side(&changes[j]).is_some_and(|(c, l)| c.holds(l))
        {
            j += 1;
        }
        if j - i >= FOLD_FROM {
            let last = first + (j - i) - 1;
            let ids: Vec<&str> = cat
                .ids
                .iter()
                .filter(|(l, _)| (first..=last).contains(l))
                .map(|(_, id)| id.as_str())
                .collect();
            let lines = j - i;
            let shown = ids.iter().take(3).copied().collect::<Vec<_>>().join(", ");
            let more = if ids.len() > 3 { ", …" } else { "" };
            let raw = changes[i].value();
            let indent: String = raw
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            let summary = match ids.len() {
                0 => format!("{indent}… {lines} lines of the models catalog (-v shows them)"),
                n => format!(
                    "{indent}… {} ({lines} lines): {shown}{more} (-v shows them)",
                    super::plural(n, "model")
                ),
            };
            out[i] = Fold::Summary(summary);
            for o in &mut out[i + 1..j] {
                *o = Fold::Hidden;
            }
        }
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use FileKind;
    use proptest::prelude::*;

    fn change(kind: FileKind, before: &str, after: &str) -> FileChange {
        FileChange {
            kind,
            path: "openclaw.json".into(),
            target: "openclaw.json".into(),
            rel: "openclaw.json".into(),
            before: Some(before.as_bytes().to_vec()),
            after: Some(after.as_bytes().to_vec()),
            mode_before: Some(0o600),
            mode_after: 0o600,
            symlink: false,
            words: Default::default(),
        }
    }

    /// A config with `others` (settings outside the catalog, each value marked `OUTSIDE`)
    /// around a catalog of `models`, laid out one element per line or spread over several,
    /// and with settings sharing the catalog's first and last lines when `crowded`.
    fn config(others: &[Option<u8>], models: &[u8], spread: bool, crowded: bool) -> String {
        let other = |i: usize| {
            others
                .get(i)
                .copied()
                .flatten()
                .map(|v| format!("\"k{i}\": \"OUTSIDE-{i}-{v}\", "))
                .unwrap_or_default()
        };
        let mut s = String::from("{\n");
        for i in 0..others.len().saturating_sub(2) {
            s.push_str(&format!("  {}\n", other(i)));
        }
        let head = if crowded {
            other(others.len() - 2)
        } else {
            String::new()
        };
        s.push_str(&format!(
            "  \"models\": {{\"providers\": {{\"gaterouter\": {{{head}\"models\": [\n"
        ));
        for (n, m) in models.iter().enumerate() {
            let sep = if n + 1 < models.len() { "," } else { "" };
            if spread {
                s.push_str(&format!(
                    "    {{\n      \"id\": \"m{m}\",\n      \"name\": \"Model {m}\"\n    }}{sep}\n"
                ));
            } else {
                s.push_str(&format!(
                    "    {{\"id\": \"m{m}\", \"name\": \"Model {m}\"}}{sep}\n"
                ));
            }
        }
        let tail = if crowded {
            other(others.len() - 1)
        } else {
            String::new()
        };
        let tail = tail.trim_end_matches(", ");
        let tail = if tail.is_empty() {
            String::new()
        } else {
            format!(", {tail}")
        };
        if crowded && !spread && !models.is_empty() {
            // The closing bracket, and a setting, on the last element's line.
            s.pop();
            s.push_str(&format!("]{tail}}}}}}}\n}}\n"));
        } else {
            s.push_str(&format!("  ]{tail}}}}}}}\n}}\n"));
        }
        s
    }

    fn changed_lines(diff: &str) -> Vec<&str> {
        diff.lines()
            .filter(|l| {
                (l.starts_with('+') || l.starts_with('-'))
                    && !l.starts_with("+++")
                    && !l.starts_with("---")
            })
            .collect()
    }

    proptest! {
        /// Folding the catalog never hides a change outside it: every changed line that
        /// holds a setting outside the catalog is shown, and the folded diff is the full one
        /// with only catalog runs replaced.
        #[test]
        fn folding_never_hides_a_change_outside_the_catalog(
            before_others in prop::collection::vec(prop::option::of(0u8..3), 4),
            after_others in prop::collection::vec(prop::option::of(0u8..3), 4),
            before_models in prop::collection::vec(0u8..20, 0..12),
            after_models in prop::collection::vec(0u8..20, 0..12),
            spread in any::<bool>(),
            crowded in any::<bool>(),
        ) {
            let before = config(&before_others, &before_models, spread, crowded);
            let after = config(&after_others, &after_models, spread, crowded);
            let f = change(FileKind::Config, &before, &after);
            let full = render_with(&f, false, false);
            let folded = render_with(&f, false, true);
            let shown: Vec<&str> = changed_lines(&folded);
            for line in changed_lines(&full) {
                if line.contains("OUTSIDE") || !line.contains("\"id\"") && !line.contains("\"name\"") && line.trim_start_matches(['+', '-', ' ']).len() > 2 {
                    prop_assert!(shown.contains(&line), "{line:?} hidden:\n{folded}\nfull:\n{full}");
                }
            }
            // Whatever is gone was a catalog element's line, and a fold says so.
            let gone = changed_lines(&full).len() - shown.iter().filter(|l| !l.contains("(-v shows them)")).count();
            prop_assert_eq!(gone > 0, folded.contains("(-v shows them)"), "{}", folded);
        }
    }

    #[test]
    fn a_long_added_catalog_is_one_line_naming_its_models() {
        let models: Vec<u8> = (0..10).collect();
        let f = change(
            FileKind::Config,
            &config(&[None, None], &[], true, false),
            &config(&[None, None], &models, true, false),
        );
        let folded = render_with(&f, false, true);
        assert!(
            folded.contains("+    … 10 models (40 lines): m0, m1, m2, … (-v shows them)\n"),
            "{folded}"
        );
        assert!(!folded.contains("Model 5"), "{folded}");
        assert_eq!(render(&f, false), render_with(&f, false, false));
    }
}
