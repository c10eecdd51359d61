//! Ctrl-C, SIGTERM and SIGHUP while files are being replaced: held until the transaction is
//! over (written, or every file restored). The run then writes no other root, reports what
//! it did, and the command ends with the signal ([`act_on_pending`]): the report of what
//! was written is not lost, and the lock is released as usual.
//!
//! Without this, a signal between two renames left a half-applied root (a new `.env`, the
//! old `openclaw.json`) and no restore. Blocking the signals with a thread mask is not
//! enough: applies run on worker threads while the main thread waits, and a signal goes to
//! any thread that does not block it. So a process-wide handler decides: inside a critical
//! section it records the signal, outside it restores the default action and re-raises.
//! Outside a section (waiting for another run's lock, say) a signal still stops the run at
//! once: nothing has been written then.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Critical sections open now (one per root being written).
static CRITICAL: AtomicUsize = AtomicUsize::new(0);
/// The signal that arrived during a section, 0 for none.
static PENDING: AtomicI32 = AtomicI32::new(0);

/// Only async-signal-safe calls: atomics, `signal`, `raise`. Outside a section nothing is
/// being written: the run stops at once, unless a section already ended with a signal
/// pending (then its report is on its way, and this one waits for it too).
extern "C" fn on_signal(sig: libc::c_int) {
    if CRITICAL.load(Ordering::SeqCst) > 0 || PENDING.load(Ordering::SeqCst) != 0 {
        PENDING.store(sig, Ordering::SeqCst);
        return;
    }
    if STARTING.load(Ordering::SeqCst) > 0 {
        // Published first, then looked again: a start that ended between the two loads
        // found no signal to act on, so this handler acts on it (at most once: the swap).
        EARLY.store(sig, Ordering::SeqCst);
        if STARTING.load(Ordering::SeqCst) > 0 {
            return;
        }
        let early = EARLY.swap(0, Ordering::SeqCst);
        if early != 0 {
            die_of(early);
        }
        return;
    }
    die_of(sig);
}

fn die_of(sig: libc::c_int) {
    stop_children();
    // SAFETY: resetting a disposition and raising are async-signal-safe.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// The handler, installed for the apply stage (and while a child's group is watched); the
/// previous dispositions come back on drop.
pub struct Deferred(Vec<(libc::c_int, libc::sigaction)>);

impl Deferred {
    pub fn install() -> Deferred {
        Deferred(
            SIGNALS
                .into_iter()
                .filter_map(|sig| handle(sig, on_signal).map(|old| (sig, old)))
                .collect(),
        )
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        for (sig, old) in &self.0 {
            restore(*sig, old);
        }
    }
}

/// Installs `handler` for `sig` (restarting interrupted calls); the action it replaced, to
/// give to [`restore`], or `None` when it could not be installed. `handler` must be
/// async-signal-safe.
pub(crate) fn handle(
    sig: libc::c_int,
    handler: extern "C" fn(libc::c_int),
) -> Option<libc::sigaction> {
    // SAFETY: zeroed sigaction structs, filled before use.
    unsafe {
        let mut new: libc::sigaction = std::mem::zeroed();
        new.sa_sigaction = handler as usize;
        new.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut new.sa_mask);
        let mut old: libc::sigaction = std::mem::zeroed();
        (libc::sigaction(sig, &new, &mut old) == 0).then_some(old)
    }
}

/// Puts back the action [`handle`] replaced.
pub(crate) fn restore(sig: libc::c_int, old: &libc::sigaction) {
    // SAFETY: restoring an action saved by `handle`.
    unsafe {
        libc::sigaction(sig, old, std::ptr::null_mut());
    }
}

/// A transaction in progress: a signal waits for its end.
pub struct Critical(());

impl Critical {
    /// `None` when a signal already came: this root is not to be started.
    pub fn enter() -> Option<Critical> {
        CRITICAL.fetch_add(1, Ordering::SeqCst);
        // A signal held while a program starts ends the run as soon as it is watched.
        if pending().is_some() || EARLY.load(Ordering::SeqCst) != 0 {
            CRITICAL.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Critical(()))
    }
}

impl Drop for Critical {
    fn drop(&mut self) {
        CRITICAL.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The signal that came during a transaction, not yet acted on.
pub fn pending() -> Option<i32> {
    Some(PENDING.load(Ordering::SeqCst)).filter(|&s| s != 0)
}

/// At the end of a command: a signal that came while files were written ends the process
/// now, as it would have then (exit status: killed by it), after `say` has been given the
/// signal's name (the command line prints the line saying so).
pub fn act_on_pending(say: impl FnOnce(&str)) {
    if let Some(sig) = pending() {
        say(match sig {
            libc::SIGINT => "Ctrl-C",
            libc::SIGTERM => "SIGTERM",
            libc::SIGHUP => "SIGHUP",
            _ => "a signal",
        });
        die_of(sig);
    }
}

/// The process groups of the programs running now (`child`), 0 for a free slot: a signal
/// that ends us stops them too, since a group of their own does not get the terminal's
/// Ctrl-C and would run on after us.
static GROUPS: [AtomicI32; 64] = [const { AtomicI32::new(0) }; 64];

/// Programs being started now (from [`ChildGroup::start`] to [`ChildGroup::watch`]): their
/// group is not known yet, so a signal then waits in `EARLY` until it is watched, and stops
/// it too. Without this, a program that ran (and spawned its own) before its group was
/// watched outlived us when the signal came in between.
static STARTING: AtomicUsize = AtomicUsize::new(0);
/// The signal that came while a program was being started, 0 for none.
static EARLY: AtomicI32 = AtomicI32::new(0);

/// How many groups are watched, and the handler installed while any is.
static WATCHING: Mutex<(usize, Option<Deferred>)> = Mutex::new((0, None));

/// Async-signal-safe: atomics and `kill`.
fn stop_children() {
    for g in &GROUPS {
        let pgid = g.load(Ordering::SeqCst);
        if pgid > 0 {
            // SAFETY: kill is async-signal-safe; a negative pid names the group.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

/// A child's process group, stopped if a signal ends us while the guard lives. The signal
/// handler is the apply's (`on_signal`: inside a transaction the signal still waits for its
/// end), installed while any group is watched.
pub struct ChildGroup {
    slot: Option<usize>,
    starting: bool,
}

impl ChildGroup {
    /// Before the program is spawned: the handler is in place, and a signal from now until
    /// [`watch`](Self::watch) waits for the group to be known.
    pub fn start() -> ChildGroup {
        if let Ok(mut w) = WATCHING.lock() {
            if w.0 == 0 {
                w.1 = Some(Deferred::install());
            }
            w.0 += 1;
        }
        STARTING.fetch_add(1, Ordering::SeqCst);
        ChildGroup {
            slot: None,
            starting: true,
        }
    }

    /// The spawned program's group, stopped from now on if a signal ends us; a signal that
    /// came while it started acts now.
    pub fn watch(&mut self, pgid: libc::pid_t) {
        self.slot = GROUPS.iter().position(|g| {
            g.compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        });
        self.started();
    }

    /// No longer starting: a signal held back meanwhile is handled as if it came now
    /// (another program still starting holds it again; none, and it ends us with the groups).
    fn started(&mut self) {
        if std::mem::take(&mut self.starting) {
            STARTING.fetch_sub(1, Ordering::SeqCst);
            let sig = EARLY.swap(0, Ordering::SeqCst);
            if sig != 0 {
                on_signal(sig);
            }
        }
    }
}

impl Drop for ChildGroup {
    fn drop(&mut self) {
        // A spawn that failed: the signal that came meanwhile still ends us.
        self.started();
        if let Some(i) = self.slot {
            GROUPS[i].store(0, Ordering::SeqCst);
        }
        if let Ok(mut w) = WATCHING.lock() {
            w.0 = w.0.saturating_sub(1);
            if w.0 == 0 {
                // Dropped: the dispositions it replaced come back.
                w.1 = None;
            }
        }
    }
}
