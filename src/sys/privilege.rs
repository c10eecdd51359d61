//! Whose rights a run uses. OpenClaw runs as the owner of its state directory, so everything
//! we do to a root (every file read or written, every child process: `openclaw --version`,
//! an exec SecretRef, `verify --with-openclaw`) happens as that owner too. A run started by
//! root on a root someone else owns (Ansible `become`, a container entrypoint, an admin)
//! drops to the owner's uid, primary gid and groups for the rest of the process, right after
//! the admin's own inputs (argv, environment, `--api-key-stdin`, `--roots-from`,
//! `--template-dir`) are read; after that, a link, `$include` or SecretRef the owner put in
//! the root reaches only what the owner could reach anyway, and what we create is the
//! owner's. One process switch instead of a check per file: a check per file misses the next
//! kind of file, a dropped process cannot.
//!
//! - Root on roots of several owners: refused (run once per owner). One process can be only
//!   one user once it has dropped, and a drop is never undone.
//! - Anyone else on a root another uid owns (a group-writable root, say): refused unless
//!   `--as-invoker`; an unprivileged process cannot become the owner, and acting with its own
//!   rights lets the owner's links and programs use the invoker's.
//! - A root named through a link owned by a third user (neither root, the invoker nor the
//!   root's owner): refused. That user chose which directory, and so which owner, the run
//!   acts on; naming the real path is the fix.

use std::ffi::{CStr, CString, OsString};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use serde::Serialize;

use crate::error::{Error, Result};

/// The account a run switched to, and why; said in every report of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
    /// The account's name; `None` for a uid without a passwd entry (a container's).
    pub user: Option<String>,
    /// Its home directory: `HOME` of the run and of its children from then on.
    pub home: Option<PathBuf>,
    /// The root (state directory) it owns.
    pub owner_of: PathBuf,
}

impl RunAs {
    /// "uid 1000 (alice)": how the account is named in messages.
    pub fn who(&self) -> String {
        match &self.user {
            Some(n) => format!("uid {} ({n})", self.uid),
            None => format!("uid {}", self.uid),
        }
    }

    /// The sentence every report says: "running as uid 1000 (alice), the owner of ROOT".
    pub fn sentence(&self) -> String {
        format!(
            "running as {}, the owner of {}: everything this run reads, writes and runs in the root has that user's rights, as OpenClaw has",
            self.who(),
            self.owner_of.display()
        )
    }
}

static CURRENT: OnceLock<RunAs> = OnceLock::new();

/// The account this process switched to, if it did.
pub fn current() -> Option<&'static RunAs> {
    CURRENT.get()
}

/// A symbolic link met on the way to a root, and its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub at: PathBuf,
    pub uid: u32,
}

/// Where a root path really leads and who owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The root as named.
    pub named: PathBuf,
    /// Its real path (the part that does not exist yet appended as named).
    pub real: PathBuf,
    /// The owner of the root, or of its nearest existing ancestor (a root `--init` creates).
    pub uid: u32,
    pub gid: u32,
    /// Its permission bits (of the nearest existing ancestor, for a root not made yet).
    pub mode: u32,
    /// Every symlink resolved on the way, in order.
    pub links: Vec<Link>,
}

/// Resolves `root` component by component as the kernel does, noting every symlink and its
/// owner on the way (also links inside link targets), and finds the owner of the directory
/// it leads to.
pub fn owner_of(root: &Path) -> Result<Owner> {
    let named = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    let mut todo: Vec<OsString> = Vec::new();
    push_front(&mut todo, &named);
    let mut real = PathBuf::from("/");
    let mut links = Vec::new();
    let mut missing = false;
    while let Some(c) = todo.pop() {
        if c == ".." {
            real.pop();
            continue;
        }
        let next = real.join(&c);
        if missing {
            real = next;
            continue;
        }
        match std::fs::symlink_metadata(&next) {
            Ok(m) if m.file_type().is_symlink() => {
                if links.len() >= 40 {
                    return Err(Error::io(
                        &named,
                        std::io::Error::from_raw_os_error(libc::ELOOP),
                    ));
                }
                let to = std::fs::read_link(&next).map_err(|e| Error::io(&next, e))?;
                links.push(Link {
                    at: next,
                    uid: m.uid(),
                });
                if to.is_absolute() {
                    real = PathBuf::from("/");
                }
                push_front(&mut todo, &to);
            }
            Ok(_) => real = next,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                missing = true;
                real = next;
            }
            Err(e) => return Err(Error::io(&next, e)),
        }
    }
    let mut existing = real.as_path();
    let meta = loop {
        match std::fs::metadata(existing) {
            Ok(m) => break m,
            Err(_) => match existing.parent() {
                Some(p) => existing = p,
                None => return Err(Error::io(&named, std::io::Error::other("no directory"))),
            },
        }
    };
    Ok(Owner {
        named,
        real,
        uid: meta.uid(),
        gid: meta.gid(),
        mode: meta.mode() & 0o7777,
        links,
    })
}

/// Puts the components of `p` in front of the work list (which is popped from its end).
fn push_front(todo: &mut Vec<OsString>, p: &Path) {
    for c in p.components().rev() {
        match c {
            Component::Normal(n) => todo.push(n.to_owned()),
            Component::ParentDir => todo.push("..".into()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
}

/// What a run does about whose rights it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Go on as we are: the roots are ours (or root's), or `--as-invoker` said so.
    Stay,
    /// Switch to this uid (the roots' one owner), whose root is `owner_of`.
    Become {
        uid: u32,
        gid: u32,
        owner_of: PathBuf,
    },
}

/// The rule, without any I/O: `euid` is who we are, `roots` who owns what.
pub fn decide(euid: u32, roots: &[Owner], as_invoker: bool) -> Result<Decision> {
    for o in roots {
        if let Some(l) = o
            .links
            .iter()
            .find(|l| l.uid != 0 && l.uid != euid && l.uid != o.uid)
        {
            return Err(Error::RunAs {
                path: o.named.clone(),
                message: format!(
                    "is reached through the symlink {}, which belongs to uid {}, neither root, you (uid {euid}) nor the owner of the directory it leads to (uid {}); that user chose which directory (and whose) this run would act on, so nothing was done. Name the root by its real path ({}) if that is the one you mean",
                    l.at.display(),
                    l.uid,
                    o.uid,
                    o.real.display()
                ),
            });
        }
    }
    // Root's own root that others may write to: they control its links, and there is no
    // one user to become. (A sticky directory, like /tmp, does not let them replace entries.)
    if euid == 0
        && let Some(o) = roots
            .iter()
            .find(|o| o.uid == 0 && o.mode & 0o022 != 0 && o.mode & 0o1000 == 0)
    {
        return Err(Error::RunAs {
            path: o.named.clone(),
            message: format!(
                "belongs to root but others may write to it (mode {:o}), so they could make its .env or openclaw.json a link to any file root can write; a run as root does nothing there. Make it writable by its owner only (chmod go-w), or give it to the user whose OpenClaw uses it (chown), then run again",
                o.mode
            ),
        });
    }
    let foreign: Vec<&Owner> = roots.iter().filter(|o| o.uid != euid).collect();
    let Some(first) = foreign.first() else {
        return Ok(Decision::Stay);
    };
    if euid != 0 {
        if as_invoker {
            return Ok(Decision::Stay);
        }
        return Err(Error::RunAs {
            path: first.named.clone(),
            message: format!(
                "belongs to uid {}, and you are uid {euid}. OpenClaw runs there as its owner; run gaterouter-setup as that user too (e.g. sudo -u '#{}' gaterouter-setup …), or as root, which acts as the owner. Nothing was done. With --as-invoker it acts with your own rights instead: whatever the owner put in the root (a symlinked .env or openclaw.json, a SecretRef program or file) is then read, written or run as you",
                first.uid, first.uid
            ),
        });
    }
    // Root: every root must have the same owner, and root-owned roots stay root's.
    let mut owners: Vec<u32> = roots.iter().map(|o| o.uid).collect();
    owners.sort_unstable();
    owners.dedup();
    if owners.len() > 1 {
        let list: Vec<String> = roots
            .iter()
            .map(|o| format!("{} (uid {})", o.named.display(), o.uid))
            .collect();
        return Err(Error::RunAs {
            path: first.named.clone(),
            message: format!(
                "the roots of this run belong to different users: {}. A run as root acts as the owner of the roots it sets up (as OpenClaw runs there), and one process can be only one user; nothing was done. Run once per owner, each with that owner's roots",
                list.join(", ")
            ),
        });
    }
    Ok(Decision::Become {
        uid: first.uid,
        gid: first.gid,
        owner_of: first.named.clone(),
    })
}

/// Decides for `roots` and, when it says so, switches the whole process to the roots' owner
/// (see the module documentation). Call it once the admin's inputs are read and before
/// anything in a root is; returns the account switched to.
pub fn enter(roots: &[PathBuf], as_invoker: bool) -> Result<Option<&'static RunAs>> {
    if let Some(r) = current() {
        return Ok(Some(r));
    }
    let owners = roots
        .iter()
        .map(|r| owner_of(r))
        .collect::<Result<Vec<_>>>()?;
    let euid = rustix::process::geteuid().as_raw();
    match decide(euid, &owners, as_invoker)? {
        Decision::Stay => Ok(None),
        Decision::Become { uid, gid, owner_of } => {
            let account = account(uid, gid, &owner_of);
            switch(&account).map_err(|e| Error::RunAs {
                path: owner_of.clone(),
                message: format!(
                    "belongs to {}, and gaterouter-setup, run as root, acts as a root's owner, but could not switch to that user ({e}); nothing was done. Run it as that user instead",
                    account.who()
                ),
            })?;
            let _ = CURRENT.set(account);
            Ok(current())
        }
    }
}

/// The passwd entry of `uid` with its groups, or (a uid without one, as in containers) the
/// root's group alone and no home.
fn account(uid: u32, dir_gid: u32, owner_of: &Path) -> RunAs {
    let (user, gid, home) = match passwd(uid) {
        Some((name, gid, home)) => (Some(name), gid, Some(home)),
        None => (None, dir_gid, None),
    };
    RunAs {
        uid,
        gid,
        user,
        home,
        owner_of: owner_of.to_path_buf(),
    }
}

/// `getpwuid_r`: name, primary gid and home of `uid`.
fn passwd(uid: u32) -> Option<(String, u32, PathBuf)> {
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: zeroed passwd is a valid out-parameter; the buffer outlives the reads below.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: all pointers are valid for the given lengths.
    let rc = unsafe {
        libc::getpwuid_r(
            uid as libc::uid_t,
            &mut pw,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut out,
        )
    };
    if rc != 0 || out.is_null() {
        return None;
    }
    // SAFETY: getpwuid_r filled pw with NUL-terminated strings inside buf.
    let (name, home) = unsafe { (CStr::from_ptr(pw.pw_name), CStr::from_ptr(pw.pw_dir)) };
    Some((
        name.to_string_lossy().into_owned(),
        pw.pw_gid as u32,
        PathBuf::from(OsString::from_vec(home.to_bytes().to_vec())),
    ))
}

/// The supplementary groups of `user` (its primary `gid` included), as login would set them.
fn groups(user: &str, gid: u32) -> Vec<libc::gid_t> {
    let Ok(name) = CString::new(user) else {
        return vec![gid as libc::gid_t];
    };
    let mut n: libc::c_int = 64;
    loop {
        let mut list: Vec<GroupListItem> = vec![0; n as usize];
        let before = n;
        // SAFETY: `list` has room for `n` entries; getgrouplist writes at most that many and
        // sets `n` to the number it needs.
        let rc = unsafe {
            libc::getgrouplist(
                name.as_ptr(),
                gid as GroupListItem,
                list.as_mut_ptr(),
                &mut n,
            )
        };
        if rc >= 0 {
            list.truncate(n as usize);
            return list.into_iter().map(|g| g as libc::gid_t).collect();
        }
        if n <= before {
            n = before * 2;
        }
        if n > 65_536 {
            return vec![gid as libc::gid_t];
        }
    }
}

#[cfg(target_os = "macos")]
type GroupListItem = libc::c_int;
#[cfg(not(target_os = "macos"))]
type GroupListItem = libc::gid_t;

/// Switches the process (every thread) to `a` for good: groups, then gid, then uid, and
/// checks that it took and cannot be undone. Also `HOME`, `USER` and `LOGNAME`, so children
/// and OpenClaw's `~` are the owner's.
fn switch(a: &RunAs) -> std::io::Result<()> {
    let groups = match &a.user {
        Some(u) => groups(u, a.gid),
        None => vec![a.gid as libc::gid_t],
    };
    let fail = |what: &str| {
        let e = std::io::Error::last_os_error();
        std::io::Error::new(e.kind(), format!("{what}: {e}"))
    };
    // SAFETY: plain syscalls on valid buffers. glibc and musl apply set*id to every thread.
    unsafe {
        if libc::setgroups(groups.len() as _, groups.as_ptr()) != 0 {
            return Err(fail("setgroups"));
        }
        #[cfg(target_os = "macos")]
        {
            if libc::setgid(a.gid) != 0 {
                return Err(fail("setgid"));
            }
            if libc::setuid(a.uid) != 0 {
                return Err(fail("setuid"));
            }
        }
        #[cfg(not(target_os = "macos"))]
        {
            if libc::setresgid(a.gid, a.gid, a.gid) != 0 {
                return Err(fail("setresgid"));
            }
            if libc::setresuid(a.uid, a.uid, a.uid) != 0 {
                return Err(fail("setresuid"));
            }
        }
        if libc::geteuid() != a.uid
            || libc::getuid() != a.uid
            || libc::getegid() != a.gid
            || (a.uid != 0 && libc::setuid(0) == 0)
        {
            return Err(std::io::Error::other("the switch did not hold"));
        }
    }
    set_account_env(a);
    Ok(())
}

/// The owner's `HOME`, `USER` and `LOGNAME` for us and every child (a uid without a passwd
/// entry has no home: `HOME` is removed rather than left pointing at root's).
fn set_account_env(a: &RunAs) {
    // SAFETY: called from `enter`, before the run starts any thread (the probe, children's
    // readers and the apply's workers all come later), so nothing reads the environment
    // concurrently.
    unsafe {
        match &a.home {
            Some(h) => std::env::set_var("HOME", h),
            None => std::env::remove_var("HOME"),
        }
        for var in ["USER", "LOGNAME"] {
            match &a.user {
                Some(u) => std::env::set_var(var, u),
                None => std::env::remove_var(var),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(uid: u32, links: &[u32]) -> Owner {
        Owner {
            named: PathBuf::from(format!("/r{uid}")),
            real: PathBuf::from(format!("/real/r{uid}")),
            uid,
            gid: uid,
            mode: 0o755,
            links: links
                .iter()
                .map(|&u| Link {
                    at: PathBuf::from(format!("/l{u}")),
                    uid: u,
                })
                .collect(),
        }
    }

    #[test]
    fn root_becomes_the_one_owner_and_stays_on_its_own_roots() {
        assert_eq!(decide(0, &[owner(0, &[])], false).unwrap(), Decision::Stay);
        assert!(matches!(
            decide(0, &[owner(1000, &[]), owner(1000, &[1000, 0])], false).unwrap(),
            Decision::Become { uid: 1000, .. }
        ));
        // --as-invoker does not keep root's rights on a user's root.
        assert!(matches!(
            decide(0, &[owner(1000, &[])], true).unwrap(),
            Decision::Become { uid: 1000, .. }
        ));
    }

    #[test]
    fn several_owners_third_party_links_and_foreign_roots_are_refused() {
        let e = decide(0, &[owner(1000, &[]), owner(1001, &[])], false).unwrap_err();
        assert!(e.to_string().contains("once per owner"), "{e}");
        let e = decide(0, &[owner(0, &[]), owner(1001, &[])], false).unwrap_err();
        assert!(e.to_string().contains("different users"), "{e}");
        let e = decide(0, &[owner(1000, &[1001])], false).unwrap_err();
        assert!(e.to_string().contains("uid 1001"), "{e}");
        assert!(decide(0, &[owner(1000, &[1001])], true).is_err());
        let mut open = owner(0, &[]);
        open.mode = 0o775;
        let e = decide(0, &[open.clone()], false).unwrap_err();
        assert!(e.to_string().contains("chmod go-w"), "{e}");
        open.mode = 0o1777;
        assert_eq!(decide(0, &[open], false).unwrap(), Decision::Stay);
        let e = decide(1001, &[owner(1000, &[])], false).unwrap_err();
        assert!(e.to_string().contains("--as-invoker"), "{e}");
        assert_eq!(
            decide(1001, &[owner(1000, &[])], true).unwrap(),
            Decision::Stay
        );
        assert_eq!(
            decide(1001, &[owner(1001, &[1001, 0])], false).unwrap(),
            Decision::Stay
        );
    }

    proptest::proptest! {
        /// Whatever the owners, links, modes and invoker: a run never goes on with rights
        /// over a root that its owner does not have. It becomes the one owner of every root,
        /// or stays only where every root is the invoker's (or --as-invoker said so, for a
        /// non-root invoker), and never through a third user's link.
        #[test]
        fn no_run_goes_on_with_more_rights_than_the_owner(
            euid in proptest::sample::select(vec![0u32, 1000, 1001]),
            as_invoker in proptest::bool::ANY,
            roots in proptest::collection::vec(
                (
                    proptest::sample::select(vec![0u32, 1000, 1001, 4242]),
                    proptest::collection::vec(proptest::sample::select(vec![0u32, 1000, 1001, 4242]), 0..3),
                    proptest::sample::select(vec![0o700u32, 0o755, 0o775, 0o1777]),
                ),
                0..4,
            ),
        ) {
            let roots: Vec<Owner> = roots
                .into_iter()
                .map(|(uid, links, mode)| {
                    let mut o = owner(uid, &links);
                    o.mode = mode;
                    o
                })
                .collect();
            let third_link = roots
                .iter()
                .any(|o| o.links.iter().any(|l| ![0, euid, o.uid].contains(&l.uid)));
            match decide(euid, &roots, as_invoker) {
                Ok(Decision::Become { uid, .. }) => {
                    proptest::prop_assert_eq!(euid, 0);
                    proptest::prop_assert!(roots.iter().all(|o| o.uid == uid) && uid != 0);
                    proptest::prop_assert!(!third_link);
                }
                Ok(Decision::Stay) => {
                    proptest::prop_assert!(!third_link);
                    if euid == 0 {
                        proptest::prop_assert!(roots.iter().all(|o| o.uid == 0
                            && (o.mode & 0o022 == 0 || o.mode & 0o1000 != 0)));
                    } else {
                        proptest::prop_assert!(as_invoker || roots.iter().all(|o| o.uid == euid));
                    }
                }
                Err(_) => {}
            }
        }
    }

    #[test]
    fn links_are_followed_like_the_kernel_does() {
        let tmp = tempfile::tempdir().unwrap();
        let t = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(t.join("a/b/root")).unwrap();
        std::os::unix::fs::symlink("a/b", t.join("l1")).unwrap();
        std::os::unix::fs::symlink(t.join("l1"), t.join("l2")).unwrap();
        std::os::unix::fs::symlink("../b/root", t.join("a/b/up")).unwrap();
        let o = owner_of(&t.join("l2/up")).unwrap();
        assert_eq!(o.real, t.join("a/b/root"));
        assert_eq!(o.links.len(), 3, "{o:?}");
        assert_eq!(o.uid, rustix::process::geteuid().as_raw());
        let o = owner_of(&t.join("l1/new/deeper")).unwrap();
        assert_eq!(o.real, t.join("a/b/new/deeper"));
    }
}
