//! The shared corpus (../shared/corpus) as the tests read it: one folder per Dockerfile, with
//! `context.txt` listing its build context.

use std::path::{Path, PathBuf};

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// The build-context listing of corpus entry `entry` (a folder): relative paths, directories
/// ending with `/`.
pub fn listing(entry: &Path) -> Vec<String> {
    std::fs::read_to_string(entry.join("context.txt"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}
