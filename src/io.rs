//! Reading inputs and writing results without ever losing a user's edit.
//!
//! `fix` opens each Dockerfile under an advisory lock ([`Held`]), so two dockopt runs on one tree take
//! turns instead of overwriting each other. A result is written only if the file on disk is still the
//! one that was read (same identity, same bytes), never over a read-only file, and keeps the file's
//! owner, group, mode and extended attributes: a temporary file beside it renamed over it, or, when
//! a rename would split hard links or lose the owner or an attribute, a rewrite in place with the
//! original kept in memory to put back if the write fails. Temporary files are named
//! `.dockopt-XXXXXX.tmp` and locked while in use; one left by a killed run is removed by the next.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::discover::io_message;

/// How long `fix` waits for another dockopt run to release a file before giving up on it.
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// The pattern of dockopt's temporary files (also excluded by the generated `.dockerignore`).
pub const TEMP_PREFIX: &str = ".dockopt-";
pub const TEMP_SUFFIX: &str = ".tmp";
/// Why a result was not written when the file changed after it was read.
pub const CHANGED_ON_DISK: &str = "changed on disk while dockopt ran";
/// Random characters between the prefix and the suffix (tempfile's default).
const TEMP_RANDOM_LEN: usize = 6;

/// Read a Dockerfile as UTF-8.
pub fn read_file(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {}", io_message(&e)))?;
    into_text(bytes)
}

pub fn read_stdin() -> Result<String, String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    into_text(bytes)
}

fn into_text(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not valid UTF-8 (at byte {}); dockopt only reads UTF-8 Dockerfiles",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Which file a path names: device and inode (on other systems, nothing to compare).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
}

impl Identity {
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> Identity {
        use std::os::unix::fs::MetadataExt;
        Identity { dev: meta.dev(), ino: meta.ino() }
    }

    #[cfg(not(unix))]
    fn of(_meta: &std::fs::Metadata) -> Identity {
        Identity { dev: 0, ino: 0 }
    }
}

/// A file opened for `fix`: locked against other dockopt runs until dropped, with the bytes read
/// from it. [`Held::replace`] writes the result.
#[derive(Debug)]
pub struct Held {
    /// Open (read-only) and locked, when the file system supports locks.
    file: File,
    /// The file that is replaced: the path itself, or where the symlink it is points.
    target: PathBuf,
    identity: Identity,
    original: Vec<u8>,
}

/// What [`Held::replace`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The file now holds the new text.
    Yes,
    /// Someone else (another dockopt run) wrote the same text meanwhile: nothing to do.
    AlreadyThere,
}

impl Held {
    /// Open `path` (following a symlink), wait for other dockopt runs to release it, and read it.
    pub fn open(path: &Path) -> Result<Held, String> {
        let target = resolve(path).map_err(|e| format!("cannot read: {}", io_message(&e)))?;
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            let mut file =
                File::open(&target).map_err(|e| format!("cannot read: {}", io_message(&e)))?;
            if !lock(&file, deadline)? {
                return Err(format!(
                    "another dockopt run has held this file for {} s; skipped",
                    LOCK_WAIT.as_secs()
                ));
            }
            let meta = file
                .metadata()
                .map_err(|e| format!("cannot read: {}", io_message(&e)))?;
            let identity = Identity::of(&meta);
            // The run we waited for replaced the file: lock the new one instead.
            match std::fs::metadata(&target) {
                Ok(now) if Identity::of(&now) == identity => {}
                Ok(_) => continue,
                Err(e) => return Err(format!("cannot read: {}", io_message(&e))),
            }
            let mut original = Vec::new();
            file.read_to_end(&mut original)
                .map_err(|e| format!("cannot read: {}", io_message(&e)))?;
            return Ok(Held { file, target, identity, original });
        }
    }

    /// The text read, as UTF-8.
    pub fn text(&self) -> Result<String, String> {
        into_text(self.original.clone())
    }

    /// Replace the file's contents with `text`, keeping its owner, group, mode, extended attributes
    /// and hard links, unless it is read-only or changed on disk since it was read. The error is the
    /// reason it was not written (`read-only file`, `changed on disk while dockopt ran`, …).
    pub fn replace(&self, text: &str) -> Result<Written, String> {
        let meta = self
            .file
            .metadata()
            .map_err(|e| format!("cannot write: {}", io_message(&e)))?;
        check_writable(&meta, &self.target)?;
        self.check_unchanged(text)?;
        if hard_links(&meta) > 1 {
            // A rename would leave the other names with the old text.
            return self.write_in_place(text);
        }
        match self.write_beside(&meta, text)? {
            Some(written) => Ok(written),
            None => self.write_in_place(text),
        }
    }

    /// Whether the path still names the file that was read, with the bytes that were read; when not,
    /// an error, unless it already holds `text` (another run wrote the same result).
    fn check_unchanged(&self, text: &str) -> Result<Written, String> {
        let changed = || CHANGED_ON_DISK.to_string();
        let now = std::fs::metadata(&self.target).map_err(|_| changed())?;
        let current = std::fs::read(&self.target).map_err(|_| changed())?;
        if Identity::of(&now) == self.identity && current == self.original {
            return Ok(Written::Yes);
        }
        if current == text.as_bytes() {
            return Ok(Written::AlreadyThere);
        }
        Err(changed())
    }

    /// Write a locked temporary file beside the target with the target's owner, mode and
    /// attributes, and rename it over the target. `None` when the folder takes no new file, or the
    /// owner or an attribute cannot be given to the new file (the caller writes in place instead).
    fn write_beside(&self, meta: &std::fs::Metadata, text: &str) -> Result<Option<Written>, String> {
        let fail = |what: &str, e: std::io::Error| format!("cannot write ({what}): {}", plain_message(&e));
        let dir = match self.target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut tmp = match tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .rand_bytes(TEMP_RANDOM_LEN)
            .tempfile_in(dir)
        {
            Ok(tmp) => tmp,
            // A folder that takes no new file, around a file that may be written: write in place.
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => return Ok(None),
            Err(e) => return Err(fail("temporary file", e)),
        };
        // Locked while it exists, so another run never takes it for a stale one.
        let _ = tmp.as_file().try_lock();
        if !same_owner_and_attributes(tmp.as_file(), &self.file, meta) {
            return Ok(None);
        }
        tmp.as_file_mut()
            .write_all(text.as_bytes())
            .map_err(|e| fail("temporary file", e))?;
        tmp.as_file().sync_all().map_err(|e| fail("sync", e))?;
        // Someone may have saved while the new file was written: look again, right before the rename.
        match self.check_unchanged(text)? {
            Written::AlreadyThere => return Ok(Some(Written::AlreadyThere)),
            Written::Yes => {}
        }
        tmp.persist(&self.target).map_err(|e| fail("rename", e.error))?;
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(Some(Written::Yes))
    }

    /// Overwrite the file itself (same inode: owner, attributes and hard links stay). The original is
    /// in memory and put back if the write fails half-way.
    fn write_in_place(&self, text: &str) -> Result<Written, String> {
        let mut file = OpenOptions::new()
            .write(true)
            .open(&self.target)
            .map_err(|e| format!("cannot write: {}", io_message(&e)))?;
        let write = |file: &mut File, bytes: &[u8]| -> std::io::Result<()> {
            file.seek(SeekFrom::Start(0))?;
            file.write_all(bytes)?;
            file.set_len(bytes.len() as u64)?;
            file.sync_all()
        };
        match write(&mut file, text.as_bytes()) {
            Ok(()) => Ok(Written::Yes),
            Err(e) => {
                let restored = match write(&mut file, &self.original) {
                    Ok(()) => "the original was put back",
                    Err(_) => "the original could not be put back: restore it from version control",
                };
                Err(format!("cannot write: {} ({restored})", io_message(&e)))
            }
        }
    }
}

/// The path itself, or the file its symlink (chain) points to.
fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    if std::fs::symlink_metadata(path)?.file_type().is_symlink() {
        std::fs::canonicalize(path)
    } else {
        Ok(path.to_path_buf())
    }
}

/// Take the exclusive advisory lock, polling until `deadline`. `false`: still held by someone else.
/// A file system without locks is used unlocked.
fn lock(file: &File, deadline: Instant) -> Result<bool, String> {
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(true),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => return Ok(false),
            Err(std::fs::TryLockError::Error(_)) => return Ok(true),
        }
    }
}

/// A read-only file is left alone, as editors and formatters do, even when its folder would let a
/// new file take its place.
fn check_writable(meta: &std::fs::Metadata, target: &Path) -> Result<(), String> {
    if meta.permissions().readonly() {
        return Err("read-only file".to_string());
    }
    #[cfg(unix)]
    {
        use rustix::fs::{accessat, Access, AtFlags, CWD};
        match accessat(CWD, target, Access::WRITE_OK, AtFlags::EACCESS) {
            Ok(()) => {}
            Err(rustix::io::Errno::ACCESS) => {
                return Err("read-only file (no write permission)".to_string())
            }
            Err(rustix::io::Errno::ROFS) => {
                return Err("read-only file system".to_string())
            }
            Err(rustix::io::Errno::PERM) => {
                return Err("immutable file (operation not permitted)".to_string())
            }
            Err(_) => {}
        }
    }
    #[cfg(not(unix))]
    let _ = target;
    Ok(())
}

#[cfg(unix)]
fn hard_links(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::nlink(meta)
}

#[cfg(not(unix))]
fn hard_links(_meta: &std::fs::Metadata) -> u64 {
    1
}

/// Give `new` the owner, group, mode and extended attributes of `original`; `false` when one of
/// them cannot be given (not permitted, or not supported where the new file lives).
#[cfg(unix)]
fn same_owner_and_attributes(new: &File, original: &File, meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    use xattr::FileExt;
    let Ok(new_meta) = new.metadata() else { return false };
    if (new_meta.uid(), new_meta.gid()) != (meta.uid(), meta.gid())
        && std::os::unix::fs::fchown(new, Some(meta.uid()), Some(meta.gid())).is_err()
    {
        return false;
    }
    // An attribute list the file system cannot give means there is nothing to keep.
    if let Ok(names) = original.list_xattr() {
        let names: Vec<_> = names.collect();
        for name in &names {
            let Ok(Some(value)) = original.get_xattr(name) else { return false };
            if new.get_xattr(name).ok().flatten().as_deref() == Some(&value[..]) {
                continue;
            }
            if new.set_xattr(name, &value).is_err() {
                return false;
            }
        }
        // An access ACL the new file inherited from its folder is not the original's.
        let acl = std::ffi::OsStr::new("system.posix_acl_access");
        if !names.iter().any(|n| n == acl) && new.get_xattr(acl).ok().flatten().is_some() && new.remove_xattr(acl).is_err() {
            return false;
        }
    }
    // Last: changing the owner clears set-user/group-ID bits, and the mode sets the ACL mask.
    new.set_permissions(meta.permissions()).is_ok()
}

#[cfg(not(unix))]
fn same_owner_and_attributes(new: &File, _original: &File, meta: &std::fs::Metadata) -> bool {
    new.set_permissions(meta.permissions()).is_ok()
}

/// The message of `e` without the temporary path tempfile adds (`… at path "./.dockopt-….tmp"`):
/// messages name the Dockerfile, not a file that no longer exists.
fn plain_message(e: &std::io::Error) -> String {
    let inner = e
        .get_ref()
        .and_then(|inner| inner.source())
        .and_then(|source| source.downcast_ref::<std::io::Error>());
    io_message(inner.unwrap_or(e))
}

/// Whether `name` is one of dockopt's temporary files.
pub fn is_temp_name(name: &str) -> bool {
    name.strip_prefix(TEMP_PREFIX)
        .and_then(|rest| rest.strip_suffix(TEMP_SUFFIX))
        .is_some_and(|random| {
            random.len() == TEMP_RANDOM_LEN && random.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// Remove the temporary files a killed dockopt run left in `dir`: those no running dockopt holds
/// locked. The paths removed.
pub fn remove_stale_temps(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        if !entry.file_name().to_str().is_some_and(is_temp_name) {
            continue;
        }
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = File::open(&path) else { continue };
        // Locked: a dockopt run is writing it right now.
        if file.try_lock().is_err() {
            continue;
        }
        if std::fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed.sort();
    removed
}

/// Create a file that does not exist yet, with the default permissions, whole or not at all (a
/// temporary file linked into place); fails if it appeared meanwhile.
pub fn create_new(path: &Path, text: &str) -> Result<(), String> {
    let fail = |e: &std::io::Error| format!("cannot create: {}", plain_message(e));
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX).rand_bytes(TEMP_RANDOM_LEN);
    #[cfg(unix)]
    {
        // What `File::create` would give: 0666 less the umask.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(|e| fail(&e))?;
    let _ = tmp.as_file().try_lock();
    tmp.as_file_mut().write_all(text.as_bytes()).map_err(|e| fail(&e))?;
    tmp.as_file().sync_all().map_err(|e| fail(&e))?;
    tmp.persist_noclobber(path).map_err(|e| fail(&e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn an_edit_saved_while_dockopt_ran_is_never_overwritten() {
        let (_dir, path) = file_with("FROM a\n");
        let held = Held::open(&path).unwrap();
        assert_eq!(held.text().unwrap(), "FROM a\n");
        // The user saves in place (same inode) …
        std::fs::write(&path, "FROM a\n# mine\n").unwrap();
        assert_eq!(held.replace("FROM b\n").unwrap_err(), CHANGED_ON_DISK);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "FROM a\n# mine\n");
        drop(held);
        // … or an editor saves by renaming a new file over it, with the same text.
        let held = Held::open(&path).unwrap();
        let beside = path.with_file_name("new");
        std::fs::write(&beside, "FROM a\n# mine\n").unwrap();
        std::fs::rename(&beside, &path).unwrap();
        assert_eq!(held.replace("FROM b\n").unwrap_err(), CHANGED_ON_DISK);
        drop(held);
        // Deleted meanwhile.
        let held = Held::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(held.replace("FROM b\n").unwrap_err(), CHANGED_ON_DISK);
        assert!(!path.exists());
    }

    #[test]
    fn a_file_that_already_holds_the_result_is_not_an_error() {
        let (_dir, path) = file_with("FROM a\n");
        let held = Held::open(&path).unwrap();
        std::fs::write(&path, "FROM b\n").unwrap();
        assert_eq!(held.replace("FROM b\n").unwrap(), Written::AlreadyThere);
        drop(held);
        let held = Held::open(&path).unwrap();
        assert_eq!(held.replace("FROM c\n").unwrap(), Written::Yes);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "FROM c\n");
    }

    #[test]
    fn a_second_run_waits_for_the_first_and_reads_its_result() {
        let (_dir, path) = file_with("FROM a\n");
        let first = Held::open(&path).unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        let waiter = {
            let path = path.clone();
            std::thread::spawn(move || {
                let second = Held::open(&path).unwrap();
                sender.send(second.text().unwrap()).unwrap();
            })
        };
        // Still waiting while the first one holds the file.
        assert!(receiver.recv_timeout(Duration::from_millis(200)).is_err());
        first.replace("FROM b\n").unwrap();
        drop(first);
        assert_eq!(receiver.recv_timeout(Duration::from_secs(10)).unwrap(), "FROM b\n");
        waiter.join().unwrap();
    }

    #[test]
    fn messages_name_no_temporary_path() {
        let missing = Path::new("no-such-dir");
        let error = tempfile::Builder::new().prefix(TEMP_PREFIX).tempfile_in(missing).unwrap_err();
        assert!(error.to_string().contains("no-such-dir"), "{error}");
        assert_eq!(plain_message(&error), "no such file or directory");
    }

    #[test]
    fn temp_names_are_recognised_exactly() {
        assert!(is_temp_name(".dockopt-a1B2c3.tmp"));
        for other in [".dockopt-.tmp", ".dockopt-abc.tmp", ".dockopt-a1B2c3.tmp~", "dockopt-a1B2c3.tmp", ".dockopt-a1-2c3.tmp"] {
            assert!(!is_temp_name(other), "{other}");
        }
    }
}
