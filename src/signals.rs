//! Ctrl-C, SIGTERM and SIGHUP while files are being replaced: held until the transaction is
//! over (written, or every file restored), then acted on as if it had just arrived.
//!
//! Without this, a signal between two renames left a half-applied root (a new `.env`, the
//! old `openclaw.json`) and no restore. Blocking the signals with a thread mask is not
//! enough: applies run on worker threads while the main thread waits, and a signal goes to
//! any thread that does not block it. So a process-wide handler decides: inside a critical
//! section it records the signal, outside it restores the default action and re-raises.
//! Outside a section (waiting for another run's lock, say) a signal still stops the run at
//! once: nothing has been written then.

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Critical sections open now (one per root being written).
static CRITICAL: AtomicUsize = AtomicUsize::new(0);
/// The signal that arrived during a section, 0 for none.
static PENDING: AtomicI32 = AtomicI32::new(0);

/// Only async-signal-safe calls: atomics, `signal`, `raise`.
extern "C" fn on_signal(sig: libc::c_int) {
    if CRITICAL.load(Ordering::SeqCst) > 0 {
        PENDING.store(sig, Ordering::SeqCst);
        // The last section may have closed between the load and the store, having seen no
        // signal pending: then act on it here, or it would be lost.
        if CRITICAL.load(Ordering::SeqCst) > 0 {
            return;
        }
    }
    die_of(sig);
}

fn die_of(sig: libc::c_int) {
    // SAFETY: resetting a disposition and raising are async-signal-safe.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// The handler, installed for the apply stage; the previous dispositions come back on drop.
pub struct Deferred {
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

impl Deferred {
    pub fn install() -> Deferred {
        let mut previous = Vec::new();
        for sig in SIGNALS {
            // SAFETY: zeroed sigaction structs, filled before use; the handler is
            // async-signal-safe (see `on_signal`).
            unsafe {
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                new.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut new.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, &new, &mut old) == 0 {
                    previous.push((sig, old));
                }
            }
        }
        Deferred { previous }
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        for (sig, old) in &self.previous {
            // SAFETY: restoring what `install` saved.
            unsafe {
                libc::sigaction(*sig, old, std::ptr::null_mut());
            }
        }
    }
}

/// A transaction in progress: a signal waits for its end.
pub struct Critical(());

impl Critical {
    pub fn enter() -> Critical {
        CRITICAL.fetch_add(1, Ordering::SeqCst);
        Critical(())
    }
}

impl Drop for Critical {
    fn drop(&mut self) {
        if CRITICAL.fetch_sub(1, Ordering::SeqCst) == 1 {
            let sig = PENDING.swap(0, Ordering::SeqCst);
            if sig != 0 {
                die_of(sig);
            }
        }
    }
}
