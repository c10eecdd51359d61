//! OpenClaw's backup ring beside its config: `openclaw.json.bak` (the file before the last
//! write), then `.bak.1` … `.bak.4`, older each. Its writer (2026.9.6,
//! `dist/backup-rotation-*.mjs`, `prepareConfigFileWrite`) rotates it right before it
//! renames a new config into place: `.bak.4` removed, `.bak.N` → `.bak.N+1`, `.bak` →
//! `.bak.1`, the previous file → `.bak` (0600). Only regular files move; a step whose
//! source is missing is skipped, as OpenClaw skips it. [`rotate`] does the same and keeps
//! what it needs to [`Rotation::undo`] it when our transaction fails.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Writes a file safely (temp file, fsync, rename) with a mode: apply's writer.
pub type Write<'a> = &'a dyn Fn(&Path, &[u8], u32) -> std::io::Result<()>;

/// How many numbered copies OpenClaw keeps after `.bak`.
pub const DEPTH: usize = 4;

/// `<config>.bak` (`0`), `<config>.bak.N`.
pub fn slot(config: &Path, n: usize) -> PathBuf {
    let name = config.file_name().map_or_else(
        || "openclaw.json".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let file = if n == 0 {
        format!("{name}.bak")
    } else {
        format!("{name}.bak.{n}")
    };
    config.with_file_name(file)
}

fn is_regular(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file())
}

fn is_absent(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
}

/// What one rotation did, in order, so it can be taken back.
#[derive(Debug)]
pub struct Rotation {
    config: PathBuf,
    /// `.bak.4` as it was before it was dropped (bytes, mode).
    dropped: Option<(Vec<u8>, u32)>,
    /// Renames made (from, to), in order.
    moved: Vec<(PathBuf, PathBuf)>,
    /// The new `.bak` we wrote.
    wrote: Option<PathBuf>,
}

/// Rotates the ring of `config` (the path OpenClaw loads, not a link's target) and writes
/// `previous` as its `.bak` with `write` (temp file, fsync, rename; mode 0600). A partial
/// rotation is undone before the error is returned.
pub fn rotate(config: &Path, previous: &[u8], write: Write) -> std::io::Result<Rotation> {
    let mut r = Rotation {
        config: config.to_path_buf(),
        dropped: None,
        moved: Vec::new(),
        wrote: None,
    };
    let result = (|| {
        let last = slot(config, DEPTH);
        if is_regular(&last) {
            let mode = std::fs::metadata(&last)?.permissions().mode() & 0o7777;
            let bytes = std::fs::read(&last)?;
            std::fs::remove_file(&last)?;
            r.dropped = Some((bytes, mode));
        }
        for n in (0..DEPTH).rev() {
            let (from, to) = (slot(config, n), slot(config, n + 1));
            // OpenClaw leaves a slot alone whose source is not a file, or whose destination
            // is something other than a file (a link, a directory).
            if !is_regular(&from) || !(is_absent(&to) || is_regular(&to)) {
                continue;
            }
            std::fs::rename(&from, &to)?;
            r.moved.push((from, to));
        }
        let bak = slot(config, 0);
        if is_absent(&bak) {
            write(&bak, previous, 0o600)?;
            r.wrote = Some(bak);
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(r),
        Err(e) => {
            let _ = r.undo(write);
            Err(e)
        }
    }
}

impl Rotation {
    /// Puts the ring back as it was before [`rotate`].
    pub fn undo(self, write: Write) -> std::io::Result<()> {
        if let Some(b) = &self.wrote {
            std::fs::remove_file(b)?;
        }
        for (from, to) in self.moved.iter().rev() {
            std::fs::rename(to, from)?;
        }
        if let Some((bytes, mode)) = &self.dropped {
            write(&slot(&self.config, DEPTH), bytes, *mode)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain_write(p: &Path, b: &[u8], mode: u32) -> std::io::Result<()> {
        std::fs::write(p, b)?;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
    }

    fn ring(config: &Path) -> Vec<Option<Vec<u8>>> {
        (0..=DEPTH)
            .map(|n| std::fs::read(slot(config, n)).ok())
            .collect()
    }

    /// A full ring shifts by one and the oldest goes, like OpenClaw's; a gap is skipped;
    /// undo gives back every slot exactly.
    #[test]
    fn rotation_shifts_like_openclaw_and_undo_restores_it() {
        let tmp = tempfile::tempdir().unwrap();
        let c = tmp.path().join("openclaw.json");
        for n in 0..=DEPTH {
            std::fs::write(slot(&c, n), format!("b{n}")).unwrap();
        }
        let before = ring(&c);
        let r = rotate(&c, b"prev", &plain_write).unwrap();
        let after = ring(&c);
        assert_eq!(after[0].as_deref(), Some(&b"prev"[..]));
        for n in 1..=DEPTH {
            assert_eq!(after[n], before[n - 1], "slot {n}");
        }
        assert_eq!(
            std::fs::metadata(slot(&c, 0)).unwrap().permissions().mode() & 0o777,
            0o600
        );
        r.undo(&plain_write).unwrap();
        assert_eq!(ring(&c), before);

        // A gap: only .bak and .bak.2 exist.
        let tmp = tempfile::tempdir().unwrap();
        let c = tmp.path().join("openclaw.json");
        std::fs::write(slot(&c, 0), "b0").unwrap();
        std::fs::write(slot(&c, 2), "b2").unwrap();
        let before = ring(&c);
        let r = rotate(&c, b"prev", &plain_write).unwrap();
        let after = ring(&c);
        assert_eq!(after[0].as_deref(), Some(&b"prev"[..]));
        assert_eq!(after[1].as_deref(), Some(&b"b0"[..]));
        assert_eq!(after[2], None);
        assert_eq!(after[3].as_deref(), Some(&b"b2"[..]));
        r.undo(&plain_write).unwrap();
        assert_eq!(ring(&c), before);
    }
}
