//! `dockopt format` on the built binary: in place, `--check`, `--diff`, stdin, config and
//! `.editorconfig` discovery, errors; and `format` inside `fix`/`check` only when selected.

mod common;

use std::path::Path;

use common::run_dockopt;

const UNFORMATTED: &str = "from alpine:3.20 as Build\nrun apk add --no-cache curl && \\\n  curl --version\n";
const FORMATTED: &str = "FROM alpine:3.20 AS Build\nRUN apk add --no-cache curl \\\n    && curl --version\n";

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn text(out: &[u8]) -> String {
    String::from_utf8(out.to_vec()).unwrap()
}

#[test]
fn formats_in_place_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", UNFORMATTED);
    write(dir.path(), "svc/Dockerfile", FORMATTED);
    let out = run_dockopt(dir.path(), &["format"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(), FORMATTED);
    assert_eq!(std::fs::read_to_string(dir.path().join("svc/Dockerfile")).unwrap(), FORMATTED);
    assert!(text(&out.stderr).contains("1 file reformatted, 1 file already formatted"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    // Formatted files are left alone the second time.
    let again = run_dockopt(dir.path(), &["format", "--check"], None);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
}

#[test]
fn check_exits_1_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", UNFORMATTED);
    let out = run_dockopt(dir.path(), &["format", "--check", "Dockerfile"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("would reformat: Dockerfile"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(), UNFORMATTED);
}

#[test]
fn diff_prints_the_change_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", UNFORMATTED);
    let out = run_dockopt(dir.path(), &["format", "--diff"], None);
    assert_eq!(out.status.code(), Some(0));
    let diff = text(&out.stdout);
    assert!(diff.contains("-run apk add --no-cache curl && \\") && diff.contains("+    && curl --version"), "{diff}");
    assert_eq!(std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(), UNFORMATTED);
    let both = run_dockopt(dir.path(), &["format", "--diff", "--check"], None);
    assert_eq!(both.status.code(), Some(1));
    assert!(!both.stdout.is_empty());
}

#[test]
fn stdin_to_stdout_with_config_and_editorconfig_found_from_stdin_filename() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_dockopt(dir.path(), &["format", "-"], Some(UNFORMATTED));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), FORMATTED);
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));

    write(dir.path(), "tabs/.editorconfig", "root = true\n[Dockerfile]\nindent_style = tab\n");
    let out = run_dockopt(dir.path(), &["format", "-", "--stdin-filename", "tabs/Dockerfile"], Some(UNFORMATTED));
    assert_eq!(text(&out.stdout), FORMATTED.replace("    &&", "\t&&"));
    write(dir.path(), "last/dockopt.toml", "[format]\noperator = \"last\"\nindent = 2\n");
    let out = run_dockopt(dir.path(), &["format", "-", "--stdin-filename", "last/Dockerfile"], Some(UNFORMATTED));
    assert_eq!(text(&out.stdout), "FROM alpine:3.20 AS Build\nRUN apk add --no-cache curl && \\\n  curl --version\n");
}

#[test]
fn errors_exit_2_and_leave_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let broken = "FROM alpine\nRUN <<EOF\necho\n";
    write(dir.path(), "Dockerfile", broken);
    let out = run_dockopt(dir.path(), &["format", "Dockerfile"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Dockerfile:2:1: unterminated heredoc"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(), broken);
    let out = run_dockopt(dir.path(), &["format", "-"], Some(broken));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing on stdout on error");
    write(dir.path(), "bad/dockopt.toml", "[format]\nindent = \"wide\"\n");
    let out = run_dockopt(dir.path(), &["format", "-", "--stdin-filename", "bad/Dockerfile"], Some(UNFORMATTED));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("indent"), "{}", text(&out.stderr));
}

#[test]
fn fix_formats_only_when_selected_or_configured() {
    let dir = tempfile::tempdir().unwrap();
    // By default `fix` leaves layout alone.
    let out = run_dockopt(dir.path(), &["fix", "-"], Some(UNFORMATTED));
    assert_eq!(text(&out.stdout), UNFORMATTED, "{}", text(&out.stderr));
    let out = run_dockopt(dir.path(), &["fix", "-", "--select", "format"], Some(UNFORMATTED));
    assert_eq!(text(&out.stdout), FORMATTED);
    let out = run_dockopt(dir.path(), &["check", "-", "--select", "format"], Some(UNFORMATTED));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("format/instruction: RUN is not formatted"), "{}", text(&out.stdout));
    write(dir.path(), "on/dockopt.toml", "format = true\n");
    let out = run_dockopt(dir.path(), &["fix", "-", "--stdin-filename", "on/Dockerfile"], Some(UNFORMATTED));
    assert_eq!(text(&out.stdout), FORMATTED);
    // Formatting comes after the other fixes: what they write is formatted too.
    let legacy = "from debian:bookworm-slim\nmaintainer Jane\nrun apt-get update\nrun apt-get install -y curl\n";
    let out = run_dockopt(dir.path(), &["fix", "-", "--stdin-filename", "on/Dockerfile"], Some(legacy));
    let fixed = text(&out.stdout);
    assert_eq!(
        fixed,
        "FROM debian:bookworm-slim\nLABEL maintainer=\"Jane\"\nRUN apt-get update && apt-get install -y curl \\\n    && rm -rf /var/lib/apt/lists/*\n"
    );
}
