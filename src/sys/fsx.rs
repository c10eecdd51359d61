//! The filesystem boundary. Every file we read from a root, and every path the tool owns (the
//! lock, created directories, temp files), goes through here, so the rules hold everywhere:
//!
//! - A file we may edit must be a *regular* file (a symlink to one is fine: the user chose
//!   it). A FIFO, device or socket is refused before anything blocks on it: the type is
//!   checked with `stat`, then the file is opened non-blocking and checked again on the open
//!   descriptor (the path may have been swapped in between).
//! - Reads are bounded while reading, not by the size metadata reports (a device reports 0).
//! - Paths the tool owns are opened without following symlinks and must be what we expect.
//! - What we create is 0600 (files) / 0700 (directories) whatever the umask, and owned like
//!   the directory it is created in, so a run as root on a user's root leaves files the
//!   user's OpenClaw can read.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// What a non-regular file is, for messages.
pub fn describe_type(m: &Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_symlink() {
        "a symlink"
    } else {
        "a regular file"
    }
}

/// Why a managed file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Not a regular file (after following symlinks): `what` says what it is.
    NotRegular {
        what: &'static str,
    },
    /// More than `limit` bytes (`size`: as the file reports it, when it does).
    TooLarge {
        limit: u64,
        size: Option<u64>,
    },
    Io(std::io::Error),
}

/// Reads a file we may edit: `Ok(None)` when it does not exist. Follows symlinks (the user's
/// choice), refuses anything but a regular file without blocking, and stops at `limit` bytes.
pub fn read_regular(path: &Path, limit: u64) -> Result<Option<(Vec<u8>, Metadata)>, ReadError> {
    let not_regular = |m: &Metadata| ReadError::NotRegular {
        what: describe_type(m),
    };
    match std::fs::metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ReadError::Io(e)),
        Ok(m) if !m.is_file() => return Err(not_regular(&m)),
        Ok(_) => {}
    }
    // O_NONBLOCK: if the path became a FIFO since the stat, opening it still cannot hang;
    // O_NOCTTY: a terminal device can never become our controlling terminal.
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ReadError::Io(e)),
        Ok(f) => f,
    };
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            limit,
            size: Some(meta.len()),
        });
    }
    let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit, size: None });
    }
    Ok(Some((bytes, meta)))
}

/// Opens (creating if needed, 0600) a file the tool owns, such as the lock, without
/// following a symlink: it must be a regular file with no other hard link, or it is not ours.
pub fn open_owned_file(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                std::io::Error::other(
                    "is a symlink; this path belongs to gaterouter-setup and must be a plain file: remove the link and run again",
                )
            } else {
                e
            }
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other(format!(
            "is {}; this path belongs to gaterouter-setup and must be a plain file: remove it and run again",
            describe_type(&meta)
        )));
    }
    if meta.nlink() > 1 {
        return Err(std::io::Error::other(
            "has other hard links; this path belongs to gaterouter-setup and must be a plain file of its own: remove it and run again",
        ));
    }
    // Created under a loose umask or by an older version: tighten it.
    if meta.permissions().mode() & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    own_like_parent(&file, path);
    Ok(file)
}

/// Writes a file we generate for the user (a man page) at `path`, replacing a regular file
/// there but nothing else: a symlink is not followed (its target is not ours to overwrite),
/// and a FIFO, device or directory is refused before anything could block on it. Written
/// to a temp file in the same directory and renamed over the old one, so a reader never
/// sees half a page and a hard link elsewhere keeps its own content.
pub fn write_generated(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write as _;
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(m) => {
            return Err(std::io::Error::other(format!(
                "is {}; only a regular file is replaced there: remove it and run again",
                describe_type(&m)
            )));
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(parent_dir(path))?;
    tmp.write_all(bytes)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The directory `path` is in (`.` for a bare name): where its temp file goes, whose entry
/// for it is synced, and whose owner a file created there gets.
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Creates `dir` and any missing ancestors, each 0700 whatever the umask and owned like its
/// parent. Returns the directories created, outermost first.
pub fn create_dirs(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut missing = Vec::new();
    let mut d = Some(dir);
    while let Some(p) = d {
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => break,
            Ok(m)
                if m.file_type().is_symlink() && std::fs::metadata(p).is_ok_and(|t| t.is_dir()) =>
            {
                break;
            }
            Ok(m) => {
                return Err(std::io::Error::other(format!(
                    "{} is {} where a directory is needed",
                    p.display(),
                    describe_type(&m)
                )));
            }
            Err(e) if e.kind() == ErrorKind::NotFound => missing.push(p.to_path_buf()),
            Err(e) => return Err(e),
        }
        d = p.parent();
    }
    missing.reverse();
    for p in &missing {
        match std::fs::DirBuilder::new().mode(0o700).create(p) {
            Ok(()) => {}
            // Someone else made it in between: fine, it is not ours to chmod.
            Err(e) if e.kind() == ErrorKind::AlreadyExists && p.is_dir() => continue,
            Err(e) => return Err(e),
        }
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700))?;
        if let Ok(f) = File::open(p) {
            own_like_parent(&f, p);
        }
    }
    Ok(missing)
}

/// Whether we run as root (the only case where ownership needs fixing: anyone else creates
/// files as themselves, and cannot give them away).
fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Gives `file` (at `path`) the owner and group of the directory it is in, when we are root
/// and they differ. Best effort: a failure leaves the file ours, which is what we had.
pub fn own_like_parent(file: &File, path: &Path) {
    if !is_root() {
        return;
    }
    if let Ok(m) = std::fs::metadata(parent_dir(path)) {
        own_as(file, m.uid(), m.gid());
    }
}

/// Sets the owner of `file` when we are root; best effort.
pub fn own_as(file: &File, uid: u32, gid: u32) {
    if !is_root() {
        return;
    }
    if let Ok(m) = file.metadata()
        && (m.uid(), m.gid()) == (uid, gid)
    {
        return;
    }
    let _ = std::os::unix::fs::fchown(file, Some(uid), Some(gid));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_and_devices_are_refused_without_blocking() {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            read_regular(&fifo, 10),
            Err(ReadError::NotRegular { what }) if what.contains("FIFO")
        ));
        assert!(matches!(
            read_regular(Path::new("/dev/zero"), 10),
            Err(ReadError::NotRegular { what }) if what.contains("character")
        ));
        let link = tmp.path().join("null");
        std::os::unix::fs::symlink("/dev/null", &link).unwrap();
        assert!(matches!(
            read_regular(&link, 10),
            Err(ReadError::NotRegular { .. })
        ));
    }

    #[test]
    fn reads_are_bounded() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("f");
        std::fs::write(&f, b"12345").unwrap();
        assert_eq!(read_regular(&f, 5).unwrap().unwrap().0, b"12345");
        assert!(matches!(
            read_regular(&f, 4),
            Err(ReadError::TooLarge { limit: 4, .. })
        ));
        assert!(read_regular(&tmp.path().join("none"), 4).unwrap().is_none());
    }

    #[test]
    fn owned_files_never_follow_links() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let lock = tmp.path().join("lock");
        std::os::unix::fs::symlink(&victim, &lock).unwrap();
        assert!(open_owned_file(&lock).is_err());
        let dangling = tmp.path().join("dangling");
        std::os::unix::fs::symlink(tmp.path().join("elsewhere"), &dangling).unwrap();
        assert!(open_owned_file(&dangling).is_err());
        assert!(!tmp.path().join("elsewhere").exists());
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        let hard = tmp.path().join("hard");
        std::fs::hard_link(&victim, &hard).unwrap();
        assert!(open_owned_file(&hard).is_err());
    }

    #[test]
    fn created_dirs_are_private() {
        // (Under `umask 000`, end to end: tests/apply/boundary_fs.rs.)
        let tmp = tempfile::tempdir().unwrap();
        let made = create_dirs(&tmp.path().join("a/b/c")).unwrap();
        assert_eq!(made.len(), 3);
        for d in made {
            let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", d.display());
        }
        assert!(create_dirs(&tmp.path().join("a/b/c")).unwrap().is_empty());
    }
}
