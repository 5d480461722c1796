//! `check` says exactly what `fix` and `fix --unsafe` will do, for every corpus Dockerfile laid out
//! as its build context: the fixes it counts as applied with `fix` and as "more with
//! `dockopt fix --unsafe`", the Dockerfiles it says would change and the extra files (a
//! `.dockerignore`) it says would be written are what the two commands then do to copies of the
//! corpus. Fixes that only Unsafe fixes make possible (a later pass of the fix loop) count too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

mod common;

/// Every file under `root`, by path relative to it, with its bytes.
fn files_under(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                dirs.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                files.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// What `check --format json` says `fix` (with the same flags) would do.
struct Said {
    fixable: usize,
    more_with_unsafe: usize,
    changed: BTreeSet<String>,
    artifacts: usize,
}

/// What `fix` did: the fixes its summary counts, and the files that changed on disk.
struct Done {
    fixes: usize,
    changed: BTreeSet<String>,
    extra: BTreeSet<String>,
}

/// As a user types them: nothing, or `--unsafe`.
fn flags(unsafe_fixes: bool) -> Vec<&'static str> {
    if unsafe_fixes { vec!["--unsafe"] } else { Vec::new() }
}

fn check(root: &Path, files: &[String], unsafe_fixes: bool) -> Said {
    let mut args = vec!["check", "--format", "json"];
    args.extend(flags(unsafe_fixes));
    args.extend(files.iter().map(String::as_str));
    let output = common::run_dockopt(root, &args, None);
    assert!(output.status.code().is_some_and(|c| c <= 2), "{output:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let count = |key: &str| json["summary"][key].as_u64().unwrap() as usize;
    let changed = json["files"].as_array().unwrap().iter().filter(|f| f["changed"] == true).map(|f| f["path"].as_str().unwrap().to_string()).collect();
    Said { fixable: count("fixable"), more_with_unsafe: count("unsafe_fixable"), changed, artifacts: count("artifacts") }
}

/// The number in `fixed 3 Dockerfiles (7 fixes), …`; 0 for `nothing to fix`.
fn fixes_in(summary: &str) -> usize {
    summary.split('(').find_map(|part| part.split_once(" fix").and_then(|(n, _)| n.parse().ok())).unwrap_or(0)
}

fn fix(root: &Path, files: &[String], unsafe_fixes: bool) -> Done {
    let before = files_under(root);
    let mut args = vec!["fix"];
    args.extend(flags(unsafe_fixes));
    args.extend(files.iter().map(String::as_str));
    let output = common::run_dockopt(root, &args, None);
    assert!(output.status.code().is_some_and(|c| c <= 2), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    let summary = stderr.lines().last().unwrap_or_default();
    let after = files_under(root);
    let differs = |path: &&String| before.get(*path) != after.get(*path);
    let (dockerfiles, extra): (BTreeSet<String>, BTreeSet<String>) = after.keys().filter(differs).cloned().partition(|p| files.contains(p));
    Done { fixes: fixes_in(summary), changed: dockerfiles, extra }
}

#[test]
fn check_counts_what_fix_and_fix_unsafe_do() {
    let mut said = Vec::new();
    let mut done = Vec::new();
    for unsafe_fixes in [false, true] {
        let root = tempfile::tempdir().unwrap();
        let mut files: Vec<String> = common::lay_out_corpus(root.path()).into_iter().map(|(path, _)| path).collect();
        files.sort();
        let s = check(root.path(), &files, unsafe_fixes);
        let d = fix(root.path(), &files, unsafe_fixes);
        let mode = if unsafe_fixes { "--unsafe" } else { "without --unsafe" };
        assert_eq!(s.fixable, d.fixes, "{mode}: fixes check counts as fixable / fix applied");
        let only_said: Vec<&String> = s.changed.difference(&d.changed).collect();
        let only_done: Vec<&String> = d.changed.difference(&s.changed).collect();
        assert!(only_said.is_empty() && only_done.is_empty(), "{mode}: said changed, unchanged: {only_said:?}; changed, not said: {only_done:?}");
        assert_eq!(s.artifacts, d.extra.len(), "{mode}: extra files check says / fix wrote: {:?}", d.extra);
        if unsafe_fixes {
            assert_eq!(s.more_with_unsafe, 0);
        }
        said.push(s);
        done.push(d);
    }
    assert!(done[1].fixes > done[0].fixes && done[0].fixes > 1000, "the corpus gives fixes to count: {} and {}", done[0].fixes, done[1].fixes);
    assert_eq!(said[0].fixable + said[0].more_with_unsafe, done[1].fixes, "`check`: fixable with `fix` + more with `fix --unsafe` / what `fix --unsafe` applied");
}

#[test]
fn the_fix_count_is_read_from_the_summary_line() {
    assert_eq!(fixes_in("fixed 428 Dockerfiles (1338 fixes), 1077 findings remain (550 with --unsafe); 3 errors"), 1338);
    assert_eq!(fixes_in("fixed 1 Dockerfile and wrote 1 .dockerignore (1 fix)"), 1);
    assert_eq!(fixes_in("nothing to fix, 2 findings remain (1 with --unsafe)"), 0);
}
