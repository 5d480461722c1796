//! Reading inputs and writing results: atomic replace, permissions kept, never a partial file.

use std::io::{Read, Write};
use std::path::Path;

use crate::discover::io_message;

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

/// Replace the file's contents with `text` atomically: write a temporary file beside it, give it the
/// original's permissions, rename it over the original. A symlink is followed (its target is replaced,
/// the link stays).
pub fn write_atomic(path: &Path, text: &str) -> Result<(), String> {
    let fail = |what: &str, e: std::io::Error| format!("cannot write ({what}): {}", io_message(&e));
    let is_link = std::fs::symlink_metadata(path)
        .map_err(|e| fail("stat", e))?
        .file_type()
        .is_symlink();
    let target = if is_link {
        std::fs::canonicalize(path).map_err(|e| fail("resolve link", e))?
    } else {
        path.to_path_buf()
    };
    let permissions = std::fs::metadata(&target)
        .map_err(|e| fail("stat", e))?
        .permissions();
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".dockopt-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| fail("temporary file", e))?;
    tmp.write_all(text.as_bytes())
        .map_err(|e| fail("temporary file", e))?;
    tmp.as_file().sync_all().map_err(|e| fail("sync", e))?;
    std::fs::set_permissions(tmp.path(), permissions).map_err(|e| fail("permissions", e))?;
    tmp.persist(&target).map_err(|e| fail("rename", e.error))?;
    Ok(())
}

/// Create a file that does not exist yet (default permissions); fails if it appeared meanwhile.
pub fn create_new(path: &Path, text: &str) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot create: {}", io_message(&e));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)
}
