//! Which files to process: PATHs walked for Dockerfiles (respecting .gitignore), and the file list of
//! a build context (everything docker would send: no .gitignore filtering).

use std::collections::hash_map::{Entry, HashMap};
use std::path::{Path, PathBuf};

use ignore::WalkBuilder;

/// Whether a file name looks like a Dockerfile: `Dockerfile`, `Containerfile`, `*.Dockerfile`,
/// `*.dockerfile`, `Dockerfile.*`, `Containerfile.*` (but not `*.dockerignore`).
pub fn is_dockerfile_name(name: &str) -> bool {
    if name.ends_with(".dockerignore") {
        return false;
    }
    name == "Dockerfile"
        || name == "Containerfile"
        || (name.len() > ".Dockerfile".len()
            && (name.ends_with(".Dockerfile") || name.ends_with(".dockerfile")))
        || (name.len() > "Dockerfile.".len() && name.starts_with("Dockerfile."))
        || (name.len() > "Containerfile.".len() && name.starts_with("Containerfile."))
}

/// One discovered input, or a PATH that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    File(PathBuf),
    Error(PathBuf, String),
    /// A directory given as a PATH with no Dockerfile under it.
    Empty(PathBuf),
}

/// The Dockerfiles under `paths`, sorted by path, each once. A file named explicitly is always
/// included; directories are walked respecting .gitignore/.ignore (also outside git repositories),
/// hidden directories included, `.git` skipped.
pub fn find_dockerfiles(paths: &[PathBuf]) -> Vec<Found> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut found = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Err(e) => found.push(Found::Error(path.clone(), io_message(&e))),
            Ok(meta) if meta.is_dir() => {
                let before = found.len();
                walk(path, &mut found);
                if found.len() == before {
                    found.push(Found::Empty(clean(path)));
                }
            }
            Ok(_) => found.push(Found::File(clean(path))),
        }
    }
    found.sort_by(|a, b| key(a).cmp(key(b)));
    found.dedup();
    dedup_by_file(found)
}

/// One entry per file: `p`, `p/Dockerfile`, `./p/../p/Dockerfile` and a symlink to it name one file,
/// which is processed once (twice would report it twice, and `fix` would race itself), under its
/// shortest spelling that is not a symlink (its folder is the build context).
fn dedup_by_file(found: Vec<Found>) -> Vec<Found> {
    let mut first: HashMap<PathBuf, usize> = HashMap::new();
    let mut keep: Vec<Found> = Vec::with_capacity(found.len());
    for item in found {
        let Found::File(path) = &item else {
            keep.push(item);
            continue;
        };
        let Ok(canonical) = std::fs::canonicalize(path) else {
            keep.push(item);
            continue;
        };
        match first.entry(canonical) {
            Entry::Occupied(seen) => {
                if matches!(&keep[*seen.get()], Found::File(kept) if shorter(path, kept)) {
                    keep[*seen.get()] = item;
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(keep.len());
                keep.push(item);
            }
        }
    }
    keep.sort_by(|a, b| key(a).cmp(key(b)));
    keep
}

fn shorter(a: &Path, b: &Path) -> bool {
    let rank = |p: &Path| (p.is_symlink(), p.components().count());
    (rank(a), a) < (rank(b), b)
}

fn key(f: &Found) -> &Path {
    match f {
        Found::File(p) | Found::Error(p, _) | Found::Empty(p) => p,
    }
}

fn walk(dir: &Path, found: &mut Vec<Found>) {
    let walker = WalkBuilder::new(dir)
        .hidden(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker {
        match entry {
            Ok(entry) => {
                let is_file = entry
                    .file_type()
                    .is_some_and(|t| t.is_file() || t.is_symlink());
                if is_file && entry.file_name().to_str().is_some_and(is_dockerfile_name) {
                    found.push(Found::File(clean(entry.path())));
                }
            }
            Err(e) => {
                // An unreadable directory or a bad ignore file: report it, keep going.
                let path = match &e {
                    ignore::Error::WithPath { path, .. } => path.clone(),
                    _ => dir.to_path_buf(),
                };
                found.push(Found::Error(path, e.to_string()));
            }
        }
    }
}

/// `./a/Dockerfile` → `a/Dockerfile`, for shorter and stable names.
pub fn clean(path: &Path) -> PathBuf {
    match path.strip_prefix(".") {
        Ok(rest) if !rest.as_os_str().is_empty() => rest.to_path_buf(),
        _ => path.to_path_buf(),
    }
}

pub fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// What the engine knows of the build context `dir`: its listing and its `.dockerignore`.
/// `artifacts_allowed`: whether transforms may propose extra files (not for stdin → stdout).
pub fn context(dir: &Path, artifacts_allowed: bool) -> transforms::Context {
    let files = context_files(dir);
    // Manifests; the first MAX_SOURCE_FILES source files of compiled programs (what multi-stage
    // carries); other sources and configs when the listing calls for them (dockerignore).
    let other_sources = transforms::wants_sources(&files);
    let mut contents = std::collections::BTreeMap::new();
    let mut compiled = 0;
    for f in &files {
        let counted = !transforms::wants_content(f) && compiled < transforms::MAX_SOURCE_FILES && transforms::wants_source(f);
        let limit = if counted {
            transforms::MAX_SOURCE_BYTES
        } else if transforms::wants_content(f) || (other_sources && transforms::is_source(f)) {
            transforms::MAX_CONTENT_BYTES
        } else {
            continue;
        };
        let path = dir.join(f);
        if !std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() <= limit) {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(&path) {
            compiled += usize::from(counted);
            contents.insert(f.clone(), text);
        }
    }
    transforms::Context {
        files: Some(files),
        dockerignore: std::fs::read_to_string(dir.join(".dockerignore")).ok(),
        artifacts_allowed,
        contents,
    }
}

/// At most this many context entries are listed (a huge context must not stall the CLI).
pub const MAX_CONTEXT_ENTRIES: usize = 20_000;

/// Every entry of the build context `dir`, relative, `/`-separated, directories ending with `/`,
/// sorted. No ignore files apply (docker sends everything not in .dockerignore); `.git/` is listed
/// but not entered.
pub fn context_files(dir: &Path) -> Vec<String> {
    let walker = WalkBuilder::new(dir)
        .standard_filters(false)
        .follow_links(false)
        // Sorted, so a context cut at MAX_CONTEXT_ENTRIES is cut at the same place every time.
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|e| {
            // List `.git/` itself, not what is inside.
            e.path()
                .parent()
                .and_then(|p| p.file_name())
                .is_none_or(|n| n != ".git")
        })
        .build();
    let mut files = Vec::new();
    for entry in walker.flatten() {
        if entry.depth() == 0 {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            continue;
        };
        let mut name = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if entry.file_type().is_some_and(|t| t.is_dir()) {
            name.push('/');
        }
        files.push(name);
        if files.len() >= MAX_CONTEXT_ENTRIES {
            break;
        }
    }
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_names() {
        for yes in [
            "Dockerfile",
            "Containerfile",
            "api.Dockerfile",
            "api.dockerfile",
            "Dockerfile.dev",
            "Containerfile.ci",
        ] {
            assert!(is_dockerfile_name(yes), "{yes}");
        }
        for no in [
            "dockerfile",
            "Dockerfile.",
            ".Dockerfile",
            "Dockerfile.dockerignore",
            "Makefile",
            "Dockerfiles",
            "README.md",
        ] {
            assert!(!is_dockerfile_name(no), "{no}");
        }
    }

    #[test]
    fn context_lists_everything_but_the_inside_of_git() {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            ".git/HEAD",
            ".gitignore",
            ".dockerignore",
            "Dockerfile",
            "build/out.bin",
            "src/app/main.rs",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "build/\n*.rs\n").unwrap();
        }
        assert_eq!(
            context_files(dir.path()),
            [
                ".dockerignore",
                ".git/",
                ".gitignore",
                "Dockerfile",
                "build/",
                "build/out.bin",
                "src/",
                "src/app/",
                "src/app/main.rs"
            ]
        );
    }

    #[test]
    fn clean_strips_leading_dot() {
        assert_eq!(
            clean(Path::new("./a/Dockerfile")),
            PathBuf::from("a/Dockerfile")
        );
        assert_eq!(clean(Path::new(".")), PathBuf::from("."));
        assert_eq!(clean(Path::new("Dockerfile")), PathBuf::from("Dockerfile"));
    }
}
