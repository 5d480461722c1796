//! The files present in only one of two images, summarised by top directories.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::tarfs::{Entry, Kind};

/// How many directories each side lists.
pub const TOP_DIRS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDiff {
    pub only_before: Side,
    pub only_after: Side,
    /// Paths in both images whose type or size differs.
    pub changed: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Side {
    /// Non-directory entries (files, symlinks, hard links…).
    pub files: usize,
    pub bytes: u64,
    /// The directories holding most of them, largest first (at most `TOP_DIRS`).
    pub top: Vec<DirTotal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirTotal {
    /// `/usr/lib/gcc`, `/` for files at the root.
    pub dir: String,
    pub files: usize,
    pub bytes: u64,
}

pub fn diff(before: &[Entry], after: &[Entry]) -> FileDiff {
    let index = |entries: &[Entry]| -> HashMap<String, (Kind, u64)> {
        entries
            .iter()
            .filter(|e| e.kind != Kind::Dir)
            .map(|e| (e.path.clone(), (e.kind, e.size)))
            .collect()
    };
    let before_index = index(before);
    let after_index = index(after);
    let changed = before_index
        .iter()
        .filter(|(path, facts)| after_index.get(*path).is_some_and(|other| other != *facts))
        .count();
    FileDiff {
        only_before: side(&before_index, &after_index),
        only_after: side(&after_index, &before_index),
        changed,
    }
}

/// Entries of `this` missing from `other`.
fn side(this: &HashMap<String, (Kind, u64)>, other: &HashMap<String, (Kind, u64)>) -> Side {
    let mut totals: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    let mut result = Side::default();
    for (path, (_, size)) in this {
        if other.contains_key(path) {
            continue;
        }
        result.files += 1;
        result.bytes += size;
        let total = totals.entry(group(path)).or_default();
        total.0 += 1;
        total.1 += size;
    }
    let mut top: Vec<DirTotal> = totals
        .into_iter()
        .map(|(dir, (files, bytes))| DirTotal { dir, files, bytes })
        .collect();
    top.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(b.files.cmp(&a.files))
            .then(a.dir.cmp(&b.dir))
    });
    top.truncate(TOP_DIRS);
    result.top = top;
    result
}

/// The directory a path is counted under: its first three directories at most
/// (`usr/lib/gcc/x86_64-linux-gnu/12/cc1` → `/usr/lib/gcc`, `usr/bin/gcc` → `/usr/bin`, `app.py` → `/`).
pub fn group(path: &str) -> String {
    let dirs: Vec<&str> = path.split('/').collect();
    let depth = (dirs.len() - 1).min(3);
    format!("/{}", dirs[..depth].join("/"))
}
