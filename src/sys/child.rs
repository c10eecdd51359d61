//! Every program we run (`openclaw --version`, an exec SecretRef provider, OpenClaw's own
//! completion for `verify --with-openclaw`, `openclaw gateway restart`) runs here, under the
//! same rules:
//!
//! - In a process group of its own, which is what we stop: at the time limit, when a signal
//!   ends us (`signals`: the group is registered while it runs), and, for a helper that
//!   only answers ([`Leftovers::Stop`]), once it has exited, whatever it left running in
//!   the background. A wrapper's children cannot outlive it or keep us waiting.
//! - Its output is read on threads into bounded buffers, and every wait is bounded: a
//!   grandchild holding the pipe open delays us by a short grace at most, and what the
//!   program printed before it exited is kept.
//! - The group is stopped before the program is reaped (it is waited for with `WNOWAIT`),
//!   so its id cannot have been reused by an unrelated process when the group is killed.

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// How long the readers get to reach the end of output after the program exited (and again
/// after its group was stopped) before we take what they have.
const GRACE: Duration = Duration::from_millis(250);

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

/// What a finished program gave.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    /// At most the limit given for it.
    pub stdout: Vec<u8>,
    /// Empty unless asked for.
    pub stderr: Vec<u8>,
}

/// What becomes of the processes a program leaves in its group when it exits in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leftovers {
    /// A helper that only answers (a version, a secret, one completion): what it left
    /// behind is stopped with its group.
    Stop,
    /// A command whose job may be to start something that outlives it (`openclaw gateway
    /// restart`): left alone; we only stop waiting for its output.
    Leave,
}

/// Runs `c` (its environment as the caller set it) with `input` on stdin; stderr is
/// discarded. Returns the exit status and at most `max_out` bytes of stdout.
pub fn run(
    c: Command,
    input: Option<Vec<u8>>,
    timeout: Duration,
    max_out: u64,
) -> Result<(ExitStatus, Vec<u8>), Failure> {
    run_with(c, input, timeout, max_out, None, Leftovers::Stop).map(|o| (o.status, o.stdout))
}

/// [`run`] without input, keeping at most `max_out` bytes of stderr too (the reason a
/// command such as `openclaw gateway restart` gives for failing is there); what it leaves
/// running when it exits is left alone ([`Leftovers::Leave`]).
pub fn run_full(c: Command, timeout: Duration, max_out: u64) -> Result<Output, Failure> {
    run_with(c, None, timeout, max_out, Some(max_out), Leftovers::Leave)
}

/// A pipe being read on a thread: the bytes so far, and a signal at its end.
struct Drain {
    bytes: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
}

impl Drain {
    fn start(mut r: impl Read + Send + 'static, limit: u64) -> Drain {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let (tx, done) = mpsc::channel();
        let b = bytes.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                let room = {
                    let have = b.lock().map_or(0, |v| v.len() as u64);
                    limit.saturating_sub(have)
                };
                if room == 0 {
                    break;
                }
                let want = chunk.len().min(room as usize);
                match r.read(&mut chunk[..want]) {
                    Ok(0) => break,
                    Ok(n) => {
                        if let Ok(mut v) = b.lock() {
                            v.extend_from_slice(&chunk[..n]);
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send(());
        });
        Drain { bytes, done }
    }

    /// Waits until the pipe ended or `until`.
    fn wait(&self, until: Instant) {
        let _ = self
            .done
            .recv_timeout(until.saturating_duration_since(Instant::now()));
    }

    fn take(&self) -> Vec<u8> {
        self.bytes
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

/// Whether the child `pid` has exited, leaving it unreaped (a zombie keeps its pid, and so
/// its process group's id, from being reused until we reap it).
fn exited(pid: libc::pid_t) -> bool {
    // SAFETY: a zeroed siginfo_t filled by waitid; WNOWAIT leaves the child waitable.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        // ECHILD: not ours to wait for any more, so not running as our child either.
        r != 0 || info.si_pid() != 0
    }
}

/// Stops the whole process group `pgid` (the child we started and all it started).
fn kill_group(pgid: libc::pid_t) {
    if let Some(p) = rustix::process::Pid::from_raw(pgid) {
        let _ = rustix::process::kill_process_group(p, rustix::process::Signal::KILL);
    }
}

/// `run`, with stderr kept too (at most `max_err` bytes) when asked for, and `leftovers`
/// saying what happens to the group when the program exits in time.
pub fn run_with(
    mut c: Command,
    input: Option<Vec<u8>>,
    timeout: Duration,
    max_out: u64,
    max_err: Option<u64>,
    leftovers: Leftovers,
) -> Result<Output, Failure> {
    configure(&mut c, input.is_some(), max_err.is_some());
    let deadline = Instant::now() + timeout;
    // From before the spawn until the group is stopped, a signal that ends us stops it too
    // (one that comes while it starts waits until its group is known).
    let mut watch = crate::sys::signals::ChildGroup::start();
    let mut child = c.spawn().map_err(Failure::Spawn)?;
    let pid = child.id() as libc::pid_t;
    pause_after_spawn();
    watch.watch(pid);
    feed(child.stdin.take(), input);
    let pipes = Pipes::start(&mut child, max_out, max_err);
    let finished = exits_by(pid, deadline);
    if finished {
        // What it printed is in the pipe; a background child of its may hold the pipe
        // open, so the end of output is awaited only briefly.
        pipes.settle();
    }
    let stop = !finished || leftovers == Leftovers::Stop;
    if stop {
        kill_group(pid);
    }
    // Unwatched before it is reaped: after that its id may be anyone's.
    drop(watch);
    let status = child.wait();
    if stop {
        // The group is gone: its pipes end now, unless something outside it holds them.
        pipes.settle();
    }
    if !finished {
        return Err(Failure::Timeout(timeout));
    }
    let status = status.map_err(Failure::Spawn)?;
    Ok(pipes.into_output(status))
}

/// Test hook: a pause (milliseconds) between a program's spawn and the watch on its group,
/// so a test can signal us in that window every time rather than once under load. A
/// deliberately unwieldy name.
pub const PAUSE_AFTER_SPAWN_ENV: &str = "GATEROUTER_SETUP_TEST_PAUSE_AFTER_SPAWN_MS";

fn pause_after_spawn() {
    if let Some(ms) = std::env::var(PAUSE_AFTER_SPAWN_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

/// Sets up `c`'s pipes, and a process group of its own so that the group, not just the
/// program, is what we stop. Without input, stdin is null so that a program reading it
/// sees its end at once instead of waiting on us; stderr not kept is discarded, since a
/// pipe nobody reads would fill and block the program.
fn configure(c: &mut Command, has_input: bool, keep_err: bool) {
    use std::os::unix::process::CommandExt;
    let piped_if = |yes: bool| if yes { Stdio::piped() } else { Stdio::null() };
    c.stdin(piped_if(has_input))
        .stdout(Stdio::piped())
        .stderr(piped_if(keep_err))
        .process_group(0);
}

/// Writes `input` to the program's stdin on a thread: a child that does not read must not
/// block us past the timeout.
fn feed(stdin: Option<std::process::ChildStdin>, input: Option<Vec<u8>>) {
    if let (Some(mut stdin), Some(input)) = (stdin, input) {
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
}

/// Whether the program `pid` exits by `deadline`, polling without reaping it (see
/// [`exited`]), so that its group can still be stopped safely afterwards.
fn exits_by(pid: libc::pid_t, deadline: Instant) -> bool {
    loop {
        if exited(pid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The program's stdout and (when kept) stderr, each read on its own thread.
struct Pipes {
    out: Drain,
    err: Option<Drain>,
}

impl Pipes {
    fn start(child: &mut std::process::Child, max_out: u64, max_err: Option<u64>) -> Pipes {
        let out = Drain::start(child.stdout.take().expect("piped"), max_out);
        let err = child
            .stderr
            .take()
            .map(|e| Drain::start(e, max_err.unwrap_or(0)));
        Pipes { out, err }
    }

    /// Gives both pipes one shared [`GRACE`] to reach their end; whoever holds one open
    /// past that costs us no more.
    fn settle(&self) {
        let until = Instant::now() + GRACE;
        self.out.wait(until);
        if let Some(e) = &self.err {
            e.wait(until);
        }
    }

    fn into_output(self, status: ExitStatus) -> Output {
        Output {
            status,
            stdout: self.out.take(),
            stderr: self.err.map(|e| e.take()).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("/bin/sh");
        c.args(["-c", script]);
        c
    }

    /// A process by pid is gone (or a zombie waiting for init).
    fn gone(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).map_or(true, |s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        })
    }

    fn wait_gone(pid: &str) -> bool {
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            if gone(pid) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// A helper that answers and exits, leaving a background child that holds stdout: the
    /// answer is kept, we do not wait for the leftover, and the leftover is stopped.
    #[test]
    fn an_answer_is_kept_when_a_grandchild_holds_the_pipe() {
        let t = tempfile::tempdir().unwrap();
        let pidfile = t.path().join("pid");
        let started = Instant::now();
        let out = run_with(
            sh(&format!(
                "echo answer; echo oops >&2; sleep 30 & echo $! > '{}'",
                pidfile.display()
            )),
            None,
            Duration::from_secs(20),
            1024,
            Some(1024),
            Leftovers::Stop,
        )
        .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(out.status.success());
        assert_eq!(out.stdout, b"answer\n");
        assert_eq!(out.stderr, b"oops\n");
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        assert!(wait_gone(&pid), "the background child {pid} still runs");
    }

    /// A command that may start something lasting (`gateway restart`): its answer is kept
    /// at once too, and what it started is left running.
    #[test]
    fn leave_keeps_the_answer_and_what_it_started() {
        let t = tempfile::tempdir().unwrap();
        let pidfile = t.path().join("pid");
        let started = Instant::now();
        let out = run_full(
            sh(&format!(
                "echo started; sleep 30 & echo $! > '{}'",
                pidfile.display()
            )),
            Duration::from_secs(20),
            1024,
        )
        .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(out.stdout, b"started\n");
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        assert!(!gone(&pid), "the started process was stopped");
        // SAFETY: the sleep this test started.
        unsafe {
            libc::kill(pid.trim().parse().unwrap(), libc::SIGKILL);
        }
    }

    /// At the limit the whole group goes, and no wait is unbounded: a program that never
    /// ends and a grandchild holding the pipe cost the limit plus a short grace.
    #[test]
    fn at_the_limit_the_group_is_stopped_and_no_join_waits() {
        let t = tempfile::tempdir().unwrap();
        let pidfile = t.path().join("pid");
        let started = Instant::now();
        let r = run_with(
            sh(&format!(
                "echo partial; sleep 30 & echo $! > '{}'; sleep 30",
                pidfile.display()
            )),
            Some(b"ignored".to_vec()),
            Duration::from_millis(300),
            1024,
            Some(1024),
            Leftovers::Leave,
        );
        assert!(matches!(r, Err(Failure::Timeout(_))), "{r:?}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        assert!(wait_gone(&pid), "the grandchild {pid} still runs");
    }

    /// Output beyond the limit is cut there.
    #[test]
    fn output_is_bounded() {
        let (status, out) = run(sh("yes"), None, Duration::from_secs(5), 10_000).unwrap();
        assert_eq!(out.len(), 10_000);
        let _ = status;
    }
}
