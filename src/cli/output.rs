//! The one door every byte we print goes through. Whatever reaches standard output or
//! standard error (summaries, diffs, warnings, errors, JSON reports, `-v` request logs,
//! doctor, rollback, uninstall, probe, clap's own errors) is
//!
//! 1. **redacted** by the run's [`Redactor`] (installed by the command line with
//!    [`redact_with`]): every secret the run met and every key-shaped string, once, here;
//! 2. **escaped**: control characters (ESC, CR, other C0 and C1, DEL) and the Unicode
//!    characters that reorder or hide text (bidi overrides and isolates, zero-width
//!    characters, line/paragraph separators, BOM) become visible escapes, so a file name, a
//!    server message or a lock file's content cannot drive the terminal or forge a line;
//! 3. **written without panicking**: a closed pipe (`… | head -1`) or any other write error
//!    silences that stream for the rest of the run, which goes on and ends with its own
//!    exit code. Stopping half-way would be worse: a write may already have happened, and
//!    whether the reader left before or after it would decide what is on disk.
//!
//! `println!`/`eprintln!` are denied elsewhere in the crate (clippy `print_stdout`,
//! `print_stderr`), and a test below fails when any other source file opens standard output
//! or standard error itself, so new output cannot bypass this module by accident.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::redact::secrets::Redactor;
use crate::redact::text::{Style, escape, one_line, paint};

/// Where one run prints: its [`Redactor`] (a handle its stages add the secrets they meet
/// to) masks every byte, and `--color` decides once whether standard error's labels get
/// colour. Made by the command line per run and passed down, so two runs in one process
/// (the library's tests) can never mask with each other's secrets. What it writes to is
/// the process's own standard output and error, whose closed state is kept per process,
/// as the file descriptors are.
pub struct Sink {
    redactor: Redactor,
    stderr_color: AtomicBool,
}

impl Sink {
    pub fn new(redactor: Redactor) -> Self {
        Sink {
            redactor,
            stderr_color: AtomicBool::new(false),
        }
    }

    /// The run's redactor, for the stages that meet a secret.
    pub fn secrets(&self) -> &Redactor {
        &self.redactor
    }

    /// Whether standard error gets colour (the `error:`/`warning:` labels), decided once
    /// from `--color` and the terminal by the command line.
    pub fn set_stderr_color(&self, on: bool) {
        self.stderr_color.store(on, Ordering::Relaxed);
    }

    /// Redacted and escaped: what any text from anywhere looks like when printed.
    pub fn clean(&self, text: &str) -> String {
        escape(&self.redactor.text(text)).into_owned()
    }

    /// Prints to standard output, cleaned.
    pub fn out(&self, text: &str) {
        write_bytes(Stream::Out, self.clean(text).as_bytes());
    }

    /// Prints to standard error, cleaned.
    pub fn err(&self, text: &str) {
        write_bytes(Stream::Err, self.clean(text).as_bytes());
    }

    /// Prints a rendered diff on standard output: plain, or styled by us when `color`. Every
    /// untrusted part of a coloured one was passed through `escape` before the styles were
    /// added (`diff::paint`); as a second net, any ESC that is not one of our SGR colour
    /// sequences (`ESC [ digits;… m`) is escaped here too.
    pub fn out_diff(&self, text: &str, color: bool) {
        self.diff(Stream::Out, text, color);
    }

    /// `out_diff` on standard error (the review shown next to a prompt).
    pub fn err_diff(&self, text: &str, color: bool) {
        self.diff(Stream::Err, text, color);
    }

    fn diff(&self, stream: Stream, text: &str, color: bool) {
        let text = if color {
            keep_sgr_only(&self.redactor.text(text))
        } else {
            self.clean(text)
        };
        write_bytes(stream, text.as_bytes());
    }

    /// One line built with `paint` (every other part already made one line by `one_line`):
    /// redacted, and every ESC that is not one of our colour codes escaped.
    pub fn styled_line(&self, text: &str) {
        write_bytes(Stream::Out, self.styled(text).as_bytes());
    }

    fn styled(&self, text: &str) -> String {
        let mut line = keep_sgr_only(&self.redactor.text(text));
        line.push('\n');
        line
    }

    /// A labelled line on standard error: the message made one line first (a newline in a
    /// message of ours came from outside and is shown escaped), then the label coloured.
    fn labelled(&self, label: &str, style: Style, message: &str) {
        let on = self.stderr_color.load(Ordering::Relaxed);
        let text = format!(
            "{} {}",
            paint(label, style, on),
            one_line(message, usize::MAX)
        );
        write_bytes(Stream::Err, self.styled(&text).as_bytes());
    }

    /// `error: …` on standard error. A message of ours is one paragraph on one line, so a
    /// newline in it came from outside (a path, a server) and is shown escaped.
    pub fn error(&self, message: &str) {
        self.labelled("error:", Style::Bad, message);
    }

    /// `warning: …` on standard error, one line (see `error`).
    pub fn warning(&self, message: &str) {
        self.labelled("warning:", Style::Warn, message);
    }

    /// A JSON document as text: every string redacted before serialising, then made inert
    /// for a terminal by [`crate::redact::text::json_inert`].
    pub fn json_text(&self, value: &serde_json::Value) -> String {
        let mut v = value.clone();
        self.redactor.value(&mut v);
        crate::redact::text::json_inert(&v)
    }

    /// Prints one JSON document (and a newline) on standard output.
    pub fn json(&self, value: &serde_json::Value) {
        let mut text = self.json_text(value);
        text.push('\n');
        write_bytes(Stream::Out, text.as_bytes());
    }

    /// Prints one line of ours on standard output. Interpolated parts (a path, a server's
    /// text) cannot break it into several: a newline in it is shown escaped.
    pub fn line(&self, text: &str) {
        self.out(&format!("{}\n", one_line(text, usize::MAX)));
    }

    /// One line on standard error (see `line`).
    pub fn err_line(&self, text: &str) {
        self.err(&format!("{}\n", one_line(text, usize::MAX)));
    }
}

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

#[derive(Clone, Copy)]
enum Stream {
    Out,
    Err,
}

fn write_bytes(stream: Stream, bytes: &[u8]) {
    let (closed, mut w): (_, Box<dyn Write>) = match stream {
        Stream::Out => (&STDOUT_CLOSED, Box::new(std::io::stdout().lock())),
        Stream::Err => (&STDERR_CLOSED, Box::new(std::io::stderr().lock())),
    };
    if !closed.load(Ordering::Relaxed) && w.write_all(bytes).and_then(|()| w.flush()).is_err() {
        closed.store(true, Ordering::Relaxed);
    }
}

fn keep_sgr_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\x1b') {
        out.push_str(&escape(&rest[..i]));
        let after = &rest[i + 1..];
        let sgr_len = after
            .strip_prefix('[')
            .and_then(|s| {
                let n = s
                    .bytes()
                    .take_while(|b| b.is_ascii_digit() || *b == b';')
                    .count();
                (s.as_bytes().get(n) == Some(&b'm')).then_some(n + 2)
            })
            .unwrap_or(0);
        if sgr_len > 0 {
            out.push('\x1b');
            out.push_str(&after[..sgr_len]);
        } else {
            out.push_str("\\x1b");
        }
        rest = &after[sgr_len..];
    }
    out.push_str(&escape(rest));
    out
}

/// Prints bytes we generated ourselves and that hold nothing from input (a completion
/// script, the man page): no escaping, but still no panic on a closed pipe.
pub fn out_generated(bytes: &[u8]) {
    write_bytes(Stream::Out, bytes);
}

pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// Whether standard output is a pipe: a reader such as `tee` shows it, some time after we
/// write it.
fn stdout_is_pipe() -> bool {
    rustix::fs::fstat(std::io::stdout()).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Fifo
    })
}

/// Whether nobody sees standard output now (a file, `/dev/null`, a socket), for deciding
/// whether a prompt on the terminal comes after a review the user could see.
pub fn stdout_unseen() -> bool {
    !stdout_is_terminal() && !stdout_is_pipe()
}

/// Before a prompt on the terminal: every write is already flushed, but a pipe's reader
/// (`| tee log`) shows the diff only once it has read it, and our prompt on standard error
/// would overtake it. Waits (at most two seconds) until the pipe is empty, then a moment for
/// the reader's own write.
pub fn settle_stdout() {
    if !stdout_is_pipe() || STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let mut unread: libc::c_int = 0;
        // SAFETY: FIONREAD writes one c_int through the pointer, which is valid.
        let rc = unsafe { libc::ioctl(1, libc::FIONREAD, &mut unread) };
        if rc != 0 || unread == 0 || std::time::Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
}

/// What was on screen when Ctrl-C came: the prompt line (the answer goes on the next
/// line) or a spinner (its line is cleared).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interruptible {
    Prompt = 1,
    Spinner = 2,
}

static INTERRUPT_STAGE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
static INTERRUPT_TTY: AtomicBool = AtomicBool::new(false);

/// SIGINT while nothing can have been written yet (the probe's spinner, the prompt): show
/// the cursor again (if anything hid it), leave the line tidy, say so, exit 130. Only
/// async-signal-safe calls: write(2) and _exit(2).
extern "C" fn on_interrupt(_: libc::c_int) {
    fn put(b: &[u8]) {
        // SAFETY: writing a valid buffer to fd 2; the result does not matter here.
        unsafe { libc::write(2, b.as_ptr().cast(), b.len()) };
    }
    if INTERRUPT_TTY.load(Ordering::Relaxed) {
        put(b"\x1b[?25h");
        if INTERRUPT_STAGE.load(Ordering::Relaxed) == Interruptible::Spinner as u8 {
            put(b"\r\x1b[2K");
        } else {
            put(b"\n");
        }
    } else if INTERRUPT_STAGE.load(Ordering::Relaxed) == Interruptible::Prompt as u8 {
        put(b"\n");
    }
    put(b"aborted, nothing written\n");
    // SAFETY: ends the process without running anything that is not signal-safe.
    unsafe { libc::_exit(130) };
}

/// While alive, Ctrl-C ends the run as `on_interrupt` says; dropped, the previous handling
/// is back (so an interrupt during the write is handled by the write's own protections).
pub struct InterruptGuard {
    previous: Option<libc::sigaction>,
}

pub fn interruptible(stage: Interruptible) -> InterruptGuard {
    INTERRUPT_STAGE.store(stage as u8, Ordering::Relaxed);
    INTERRUPT_TTY.store(stderr_is_terminal(), Ordering::Relaxed);
    InterruptGuard {
        previous: crate::sys::signals::handle(libc::SIGINT, on_interrupt),
    }
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        if let Some(previous) = &self.previous {
            crate::sys::signals::restore(libc::SIGINT, previous);
        }
        INTERRUPT_STAGE.store(0, Ordering::Relaxed);
    }
}

/// `println!` through the run's sink: one line, whatever the arguments hold.
macro_rules! outln {
    ($o:expr) => { $o.out("\n") };
    ($o:expr, $($t:tt)*) => { $o.line(&format!($($t)*)) };
}

/// `eprintln!` through the run's sink: one line, whatever the arguments hold.
macro_rules! errln {
    ($o:expr, $($t:tt)*) => { $o.err_line(&format!($($t)*)) };
}

pub(crate) use {errln, outln};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::text::dangerous;

    /// The mechanism behind "every byte goes through here": no other module may hold a
    /// handle to standard output or error (clippy already denies print macros), and nothing
    /// below the command line prints at all: outside `src/cli/` no file names the sink or
    /// its macros, so a layer under it cannot reach a terminal by going through here either.
    #[test]
    fn only_the_cli_prints_and_only_through_here() {
        fn walk(dir: &std::path::Path, bad: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, bad);
                    continue;
                }
                if p.extension().is_none_or(|x| x != "rs") || p.ends_with("src/cli/output.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&p).unwrap();
                let mut needles = vec!["io::stdout()", "io::stderr()", "print!(", "println!("];
                if !p.components().any(|c| c.as_os_str() == "cli") {
                    needles.extend(["cli::output", "outln!", "errln!", "Sink"]);
                }
                for needle in needles {
                    if text.contains(needle) {
                        bad.push(format!("{}: {needle}", p.display()));
                    }
                }
            }
        }
        let mut bad = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut bad,
        );
        assert!(bad.is_empty(), "output bypassing the cli's sink: {bad:?}");
    }

    #[test]
    fn only_our_colour_sequences_survive_styled_output() {
        assert_eq!(
            keep_sgr_only("\x1b[32m+ok\x1b[0m \x1b]0;title\x07 \x1b[2J"),
            "\x1b[32m+ok\x1b[0m \\x1b]0;title\\x07 \\x1b[2J"
        );
    }

    #[test]
    fn json_stays_valid_and_escapes_what_serde_leaves_raw() {
        let v = serde_json::json!({"m": "a\u{1b}b\u{202e}c\u{7f}"});
        let t = Sink::new(Redactor::new()).json_text(&v);
        assert!(!t.chars().any(dangerous), "{t}");
        let back: serde_json::Value = serde_json::from_str(&t).unwrap();
        assert_eq!(back, v);
    }
}
