//! `fix` never loses a user's data: read-only files, owners, extended attributes, hard links, stale
//! temporary files, one file named several ways, two runs at once. (Edits saved while a run works
//! are tested on `dockopt::io::Held` in src/io.rs, where the moment can be chosen.)
#![cfg(unix)]

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

const DIRTY: &str = "FROM debian:bookworm-slim\nMAINTAINER Jane <j@x.org>\nENV A 1\n";
const FIXED: &str = "FROM debian:bookworm-slim\nLABEL maintainer=\"Jane <j@x.org>\"\nENV A=\"1\"\n";

fn fix(dir: &Path, args: &[&str]) -> (i32, String) {
    let mut all = vec!["fix"];
    all.extend_from_slice(args);
    let output = common::run_dockopt(dir, &all, None);
    (output.status.code().expect("killed by a signal"), String::from_utf8(output.stderr).unwrap())
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// Whether this process may give files away (root, as in CI).
fn can_chown(dir: &Path) -> bool {
    let probe = dir.join("probe");
    std::fs::write(&probe, "").unwrap();
    let ok = std::os::unix::fs::chown(&probe, Some(1234), Some(5678)).is_ok();
    std::fs::remove_file(probe).unwrap();
    ok
}

#[test]
fn a_read_only_file_is_not_replaced_even_in_a_writable_folder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Dockerfile");
    std::fs::write(&path, DIRTY).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let (code, stderr) = fix(dir.path(), &["Dockerfile"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(read(&path), DIRTY);
    assert!(stderr.starts_with("Dockerfile: read-only file; not written\n"), "{stderr}");
    // The fixes were ready: the summary says so, not "nothing to fix".
    assert!(stderr.ends_with("2 fixes not written: read-only file; 1 error\n"), "{stderr}");
    assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o7777, 0o444);
    // Its neighbour is fixed; the summary counts both.
    std::fs::write(dir.path().join("api.Dockerfile"), DIRTY).unwrap();
    let (code, stderr) = fix(dir.path(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(read(dir.path().join("api.Dockerfile")), FIXED);
    assert!(stderr.ends_with("fixed 1 Dockerfile (2 fixes); 2 fixes not written: read-only file; 1 error\n"), "{stderr}");
}

#[test]
fn owner_group_mode_and_extended_attributes_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Dockerfile");
    std::fs::write(&path, DIRTY).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o664)).unwrap();
    let root = can_chown(dir.path());
    if root {
        std::os::unix::fs::chown(&path, Some(1234), Some(5678)).unwrap();
    }
    // Not every file system keeps user attributes (tmpfs before Linux 6.6): then nothing to check.
    let xattrs = xattr::set(&path, "user.dockopt.test", b"kept").is_ok();
    let before = std::fs::metadata(&path).unwrap();
    let (code, stderr) = fix(dir.path(), &["Dockerfile"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(read(&path), FIXED);
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!(after.mode(), before.mode());
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    if root {
        assert_eq!((after.uid(), after.gid()), (1234, 5678));
    }
    if xattrs {
        assert_eq!(xattr::get(&path, "user.dockopt.test").unwrap().as_deref(), Some(&b"kept"[..]));
    }
    // Nothing left beside it.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["Dockerfile"]);
}

#[test]
fn a_hard_linked_file_is_rewritten_in_place_so_every_name_sees_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Dockerfile");
    std::fs::write(&path, DIRTY).unwrap();
    std::fs::hard_link(&path, dir.path().join("other-name")).unwrap();
    let inode = std::fs::metadata(&path).unwrap().ino();
    let (code, stderr) = fix(dir.path(), &["Dockerfile"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(read(&path), FIXED);
    assert_eq!(read(dir.path().join("other-name")), FIXED);
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!((meta.ino(), meta.nlink()), (inode, 2));
}

#[test]
fn stale_temporary_files_are_removed_and_live_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), DIRTY).unwrap();
    // Left by a killed run: nobody holds its lock.
    let stale = dir.path().join(".dockopt-Ab12Cd.tmp");
    std::fs::write(&stale, DIRTY).unwrap();
    // Being written by a run that is still going: locked.
    let live = dir.path().join(".dockopt-Xy34Zw.tmp");
    std::fs::write(&live, "").unwrap();
    let held = std::fs::File::open(&live).unwrap();
    held.lock().unwrap();
    // Not one of dockopt's names.
    let other = dir.path().join(".dockopt-notes.tmp");
    std::fs::write(&other, "mine").unwrap();

    // `check` writes nothing, so it removes nothing either.
    let output = common::run_dockopt(dir.path(), &["check"], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(stale.exists());

    let (code, stderr) = fix(dir.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stale.exists());
    assert!(live.exists() && other.exists());
    assert!(
        stderr.starts_with("note: removed .dockopt-Ab12Cd.tmp, a temporary file left by an interrupted dockopt run\n"),
        "{stderr}"
    );
    drop(held);
}

#[test]
fn one_file_named_several_ways_is_processed_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("p")).unwrap();
    std::fs::write(dir.path().join("p/Dockerfile"), DIRTY).unwrap();
    std::os::unix::fs::symlink("p/Dockerfile", dir.path().join("link.Dockerfile")).unwrap();
    let spellings = ["p", "p/Dockerfile", "./p/../p/Dockerfile", "link.Dockerfile", "."];
    let mut args = vec!["check"];
    args.extend(spellings);
    let output = common::run_dockopt(dir.path(), &args, None);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.ends_with("checked 1 Dockerfile: 2 findings (fixable: 2 with `dockopt fix`); `dockopt fix` would change 1 Dockerfile\n"), "{stderr}");
    // Under its shortest spelling.
    let names: Vec<&str> = stdout.lines().filter(|l| !l.starts_with(' ')).map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(names, ["p/Dockerfile", "p/Dockerfile"], "{stdout}");

    let (code, stderr) = fix(dir.path(), &spellings);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.ends_with("fixed 1 Dockerfile (2 fixes)\n"), "{stderr}");
    assert_eq!(read(dir.path().join("p/Dockerfile")), FIXED);
}

#[test]
fn two_runs_at_once_take_turns_and_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..40 {
        let sub = dir.path().join(format!("s{i}"));
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("Dockerfile"), DIRTY).unwrap();
    }
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_dockopt"))
            .arg("fix")
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    for child in [first, second] {
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(!stderr.contains("changed on disk"), "{stderr}");
    }
    for i in 0..40 {
        assert_eq!(read(dir.path().join(format!("s{i}/Dockerfile"))), FIXED);
    }
}
