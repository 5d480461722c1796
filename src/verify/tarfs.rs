//! Reading an image's filesystem from the tar stream an engine exports (`docker export`, `podman export`,
//! or `tar -c` of a buildah mount): the list of entries, and the text of the package databases.
//!
//! Only what `verify` needs: ustar headers with their `prefix`, GNU long names (`L`/`K`), and PAX
//! extended headers (`path`, `linkpath`, `size`). Contents are skipped, except the package databases.

use std::collections::HashMap;
use std::io::{self, Read};

/// Files whose contents are kept: the package databases (see `packages.rs`).
const DPKG_STATUS: &str = "var/lib/dpkg/status";
const DPKG_STATUS_DIR: &str = "var/lib/dpkg/status.d/";
const APK_INSTALLED: &str = "lib/apk/db/installed";
const RPM_DIR: &str = "var/lib/rpm/";
/// A package database larger than this is not kept (a real one is a few MB).
const MAX_KEPT: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    HardLink,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the image's root, without a leading `./` or `/`; directories without a trailing `/`.
    pub path: String,
    pub kind: Kind,
    pub size: u64,
}

/// What the stream held.
#[derive(Debug, Default, Clone)]
pub struct Listing {
    pub entries: Vec<Entry>,
    /// `(path, text)` of each package database file found.
    pub databases: Vec<(String, String)>,
    /// Whether an rpm database directory exists (its format cannot be read here).
    pub has_rpm_db: bool,
}

/// Read a whole tar stream.
pub fn read<R: Read>(reader: R) -> io::Result<Listing> {
    let mut listing = Listing::default();
    walk(reader, |path, kind, size, content| {
        if kind == Kind::Dir && (path.starts_with(RPM_DIR) || format!("{path}/") == RPM_DIR) {
            listing.has_rpm_db = true;
        }
        if kind == Kind::File && is_database(&path) && size <= MAX_KEPT {
            let mut bytes = Vec::new();
            content.read_to_end(&mut bytes)?;
            listing
                .databases
                .push((path.clone(), String::from_utf8_lossy(&bytes).into_owned()));
        } else if kind == Kind::File && path.starts_with(RPM_DIR) {
            listing.has_rpm_db = true;
        }
        if !path.is_empty() {
            listing.entries.push(Entry { path, kind, size });
        }
        Ok(())
    })?;
    Ok(listing)
}

/// The members of an image archive (`docker save`, `podman save`): the JSON documents by name,
/// and the listing of each member that is itself a tar (a layer), by name.
#[derive(Debug, Default)]
pub struct Members {
    pub json: HashMap<String, String>,
    pub layers: HashMap<String, Vec<Entry>>,
}

/// JSON members larger than this are not kept (manifests and configs are a few kB).
const MAX_JSON: u64 = 16 * 1024 * 1024;

pub fn read_members<R: Read>(reader: R) -> io::Result<Members> {
    let mut members = Members::default();
    walk(reader, |path, kind, size, content| {
        if kind != Kind::File || size == 0 {
            return Ok(());
        }
        let mut head = Vec::with_capacity(512);
        Read::take(&mut *content, 512).read_to_end(&mut head)?;
        let is_tar = head.len() == 512 && (&head[257..262] == b"ustar" || head.iter().all(|&b| b == 0));
        if is_tar {
            let layer = read(io::Cursor::new(head).chain(content))?;
            members.layers.insert(path, layer.entries);
        } else if head.first().is_some_and(|b| matches!(b, b'{' | b'[')) && size <= MAX_JSON {
            let mut bytes = head;
            content.read_to_end(&mut bytes)?;
            members.json.insert(path, String::from_utf8_lossy(&bytes).into_owned());
        }
        Ok(())
    })?;
    Ok(members)
}

/// Call `visit` with each entry of a tar stream: its normalized path, kind, content size and
/// content (which `visit` may read or leave: the rest is skipped).
fn walk<R: Read>(mut reader: R, mut visit: impl FnMut(String, Kind, u64, &mut dyn Read) -> io::Result<()>) -> io::Result<()> {
    let mut header = [0u8; 512];
    // Overrides announced by the previous GNU long-name or PAX header.
    let mut long_name: Option<String> = None;
    let mut pax_path: Option<String> = None;
    let mut pax_size: Option<u64> = None;
    loop {
        if !read_block(&mut reader, &mut header)? {
            break;
        }
        if header.iter().all(|&b| b == 0) {
            // End of archive (two zero blocks; one is enough to stop).
            break;
        }
        let size = match pax_size.take() {
            Some(size) => size,
            None => parse_size(&header[124..136])
                .ok_or_else(|| invalid("a tar header with an unreadable size"))?,
        };
        let typeflag = header[156];
        match typeflag {
            b'L' => {
                long_name = Some(trim_nul(&read_content(&mut reader, size)?));
                continue;
            }
            b'K' => {
                skip_content(&mut reader, size)?;
                continue;
            }
            b'x' => {
                for (key, value) in parse_pax(&read_content(&mut reader, size)?) {
                    match key.as_str() {
                        "path" => pax_path = Some(value),
                        "size" => pax_size = value.parse().ok(),
                        _ => {}
                    }
                }
                continue;
            }
            b'g' => {
                skip_content(&mut reader, size)?;
                continue;
            }
            _ => {}
        }
        let raw_path = match (pax_path.take(), long_name.take()) {
            (Some(path), _) => path,
            (None, Some(path)) => path,
            (None, None) => ustar_path(&header),
        };
        let path = normalize(&raw_path);
        let kind = match typeflag {
            b'0' | 0 | b'7' => Kind::File,
            b'5' => Kind::Dir,
            b'2' => Kind::Symlink,
            b'1' => Kind::HardLink,
            _ => Kind::Other,
        };
        // Hard links and symlinks carry no content, whatever their size field says.
        let content_size = if kind == Kind::File { size } else { 0 };
        let mut content = (&mut reader).take(content_size);
        visit(path, kind, content_size, &mut content)?;
        let left = content.limit();
        skip_exact(&mut reader, left + (padded(content_size) - content_size))?;
    }
    // Whatever follows the end marker (padding) is drained so the writer does not see a broken pipe.
    io::copy(&mut reader, &mut io::sink())?;
    Ok(())
}

fn is_database(path: &str) -> bool {
    path == DPKG_STATUS
        || (path.starts_with(DPKG_STATUS_DIR) && !path[DPKG_STATUS_DIR.len()..].contains('/'))
        || path == APK_INSTALLED
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

/// Read one 512-byte block; `false` at a clean end of stream.
fn read_block<R: Read>(reader: &mut R, block: &mut [u8; 512]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < block.len() {
        match reader.read(&mut block[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err(invalid("the tar stream ended inside a header")),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

fn padded(size: u64) -> u64 {
    size.div_ceil(512) * 512
}

fn read_content<R: Read>(reader: &mut R, size: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(size).read_to_end(&mut bytes)?;
    if (bytes.len() as u64) < size {
        return Err(invalid("the tar stream ended inside a file"));
    }
    skip_exact(reader, padded(size) - size)?;
    Ok(bytes)
}

fn skip_content<R: Read>(reader: &mut R, size: u64) -> io::Result<()> {
    skip_exact(reader, padded(size))
}

fn skip_exact<R: Read>(reader: &mut R, size: u64) -> io::Result<()> {
    let copied = io::copy(&mut reader.take(size), &mut io::sink())?;
    if copied < size {
        return Err(invalid("the tar stream ended inside a file"));
    }
    Ok(())
}

/// Octal (NUL/space padded) or GNU base-256 (high bit set).
fn parse_size(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(value);
    }
    let text: String = field
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as char)
        .collect();
    let text = text.trim();
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

fn trim_nul(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn ustar_path(header: &[u8; 512]) -> String {
    let name = trim_nul(&header[0..100]);
    let is_ustar = &header[257..262] == b"ustar";
    let prefix = if is_ustar {
        trim_nul(&header[345..500])
    } else {
        String::new()
    };
    if prefix.is_empty() {
        name
    } else {
        format!("{prefix}/{name}")
    }
}

/// PAX records: `"<len> <key>=<value>\n"`.
fn parse_pax(bytes: &[u8]) -> Vec<(String, String)> {
    let mut records = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some(space) = rest.iter().position(|&b| b == b' ') else {
            break;
        };
        let Some(len) = std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
        else {
            break;
        };
        if len <= space || len > rest.len() {
            break;
        }
        let record = &rest[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(eq) = record.iter().position(|&b| b == b'=') {
            records.push((
                String::from_utf8_lossy(&record[..eq]).into_owned(),
                String::from_utf8_lossy(&record[eq + 1..]).into_owned(),
            ));
        }
        rest = &rest[len..];
    }
    records
}

/// `./usr/bin/` → `usr/bin`; `/` and `./` → `` (the root itself).
pub fn normalize(path: &str) -> String {
    let mut path = path;
    loop {
        if let Some(rest) = path.strip_prefix("./") {
            path = rest;
        } else if let Some(rest) = path.strip_prefix('/') {
            path = rest;
        } else {
            break;
        }
    }
    if path == "." {
        return String::new();
    }
    path.trim_end_matches('/').to_string()
}
