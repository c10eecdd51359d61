//! Running a short-lived helper program (`openclaw --version`, an exec SecretRef provider,
//! `openclaw gateway restart`)
//! within a time limit: stdin written, stdout read (bounded), and on timeout the child's
//! whole process group stopped, so a wrapper's own children cannot keep us waiting.

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Why a child gave no usable answer.
#[derive(Debug)]
pub enum Failure {
    Spawn(std::io::Error),
    /// It did not finish within the limit and was stopped.
    Timeout(Duration),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Spawn(e) => write!(f, "could not run it: {e}"),
            Failure::Timeout(t) => write!(
                f,
                "it did not answer within {} s and was stopped",
                t.as_secs_f64()
            ),
        }
    }
}

/// Runs `c` (its environment as the caller set it) with `input` on stdin; stderr is
/// discarded. Returns the exit status and at most `max_out` bytes of stdout.
pub fn run(
    c: Command,
    input: Option<Vec<u8>>,
    timeout: Duration,
    max_out: u64,
) -> Result<(ExitStatus, Vec<u8>), Failure> {
    let out = run_full(c, input, timeout, max_out, false)?;
    Ok((out.status, out.stdout))
}

/// What a child left: its status, and at most the bytes asked for of each stream.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// [`run`], keeping at most `max_out` bytes of stderr too when `stderr` (the reason a
/// command such as `openclaw gateway restart` gives for failing is there).
pub fn run_full(
    mut c: Command,
    input: Option<Vec<u8>>,
    timeout: Duration,
    max_out: u64,
    stderr: bool,
) -> Result<Output, Failure> {
    use std::os::unix::process::CommandExt;
    c.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(if stderr {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    // Its own process group, so a wrapper script's children go when it is stopped.
    .process_group(0);
    let mut child = c.spawn().map_err(Failure::Spawn)?;
    let err_rx = child.stderr.take().map(|mut e| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = e.by_ref().take(max_out).read_to_end(&mut b);
            let _ = tx.send(b);
        });
        rx
    });
    if let (Some(mut stdin), Some(input)) = (child.stdin.take(), input) {
        // On a thread: a child that does not read must not block us past the timeout.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let mut stdout = child.stdout.take().expect("piped");
    // Read on a thread and wait on a channel: a grandchild holding the pipe open must not
    // keep us past the timeout either.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stdout.by_ref().take(max_out).read_to_end(&mut b);
        let _ = tx.send(b);
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) | Err(_) => break None,
        }
    };
    let Some(status) = status else {
        // The group is the child we started and whatever it started.
        if let Some(pgid) = rustix::process::Pid::from_raw(child.id() as i32) {
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        }
        let _ = child.wait();
        return Err(Failure::Timeout(timeout));
    };
    let wait = deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(200);
    let stdout = rx.recv_timeout(wait).unwrap_or_default();
    let stderr = err_rx
        .and_then(|r| r.recv_timeout(Duration::from_millis(200)).ok())
        .unwrap_or_default();
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}
