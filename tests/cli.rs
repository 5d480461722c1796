//! The CLI contract (ARCHITECTURE.md, "CLI contract (v1)"), tested on the built binary in temp dirs.

mod common;

use std::path::{Path, PathBuf};

/// A slim base, so that only `modernize` has something to say (approved-base would offer
/// `debian:bookworm-slim` for `debian:bookworm`).
const DIRTY: &str = "FROM debian:bookworm-slim\nMAINTAINER Jane <j@x.org>\nENV A 1\n";
const FIXED: &str = "FROM debian:bookworm-slim\nLABEL maintainer=\"Jane <j@x.org>\"\nENV A=\"1\"\n";
const CLEAN: &str =
    "FROM debian:bookworm-slim\nLABEL maintainer=\"Jane <j@x.org>\"\nENV A=\"1\"\nCOPY app /app\n";
/// An unterminated heredoc: BuildKit rejects it.
const MALFORMED: &str = "FROM debian:bookworm\nRUN <<EOF\necho hi\n";

/// Snapshots live in the repository's top-level `snapshots/`, prefixed `cli__`.
macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(concat!("cli__", $name), $value);
        })
    };
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// A temp dir to run dockopt in; paths of the dir are replaced by `[TMP]` in outputs.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap()
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_in(".", args, None)
    }

    fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        self.run_in(".", args, Some(stdin))
    }

    fn run_in(&self, cwd: &str, args: &[&str], stdin: Option<&str>) -> Run {
        let output = common::run_dockopt(&self.path().join(cwd), args, stdin);
        Run {
            code: output
                .status
                .code()
                .expect("dockopt was killed by a signal"),
            stdout: self.scrub(&String::from_utf8(output.stdout).unwrap()),
            stderr: self.scrub(&String::from_utf8(output.stderr).unwrap()),
        }
    }

    fn scrub(&self, text: &str) -> String {
        let mut text = text.to_string();
        if let Ok(real) = self.path().canonicalize() {
            text = text.replace(&real.display().to_string(), "[TMP]");
        }
        text.replace(&self.path().display().to_string(), "[TMP]")
    }
}

// ---- check ----

#[test]
fn check_dirty_file_lists_findings_and_exits_1() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", DIRTY);
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        !run.stdout.contains('\x1b'),
        "no color when stdout is not a terminal"
    );
    snap!(
        "check_dirty",
        format!("--- stdout\n{}--- stderr\n{}", run.stdout, run.stderr)
    );
    assert_eq!(sb.read("Dockerfile"), DIRTY, "check writes nothing");
}

#[test]
fn check_clean_file_exits_0_and_prints_no_findings() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", CLEAN);
    let run = sb.run(&["check", "Dockerfile"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "checked 1 Dockerfile: no findings\n");
}

#[test]
fn check_stdin() {
    let sb = Sandbox::new();
    let run = sb.run_stdin(&["check", "-"], DIRTY);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.starts_with("<stdin>:2:1: modernize/maintainer: "),
        "{}",
        run.stdout
    );
    let run = sb.run_stdin(&["check", "-", "--stdin-filename", "web/Dockerfile"], CLEAN);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn check_json_format() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", DIRTY);
    let run = sb.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["files"][0]["path"], "Dockerfile");
    assert_eq!(doc["files"][0]["changed"], true);
    snap!("check_json", run.stdout);
}

#[test]
fn check_github_format() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", DIRTY);
    sb.write("bad/Dockerfile", MALFORMED);
    let run = sb.run(&["check", "--format", "github"]);
    assert_eq!(run.code, 2, "an error wins over findings");
    assert!(
        run.stdout
            .lines()
            .all(|l| l.starts_with("::warning file=") || l.starts_with("::error file=")),
        "{}",
        run.stdout
    );
    snap!("check_github", run.stdout);
}

#[test]
fn unsupported_format_is_rejected_by_the_parser() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", CLEAN);
    for format in ["xml", "html"] {
        let run = sb.run(&["check", "--format", format]);
        assert_eq!(run.code, 2, "{format}");
        assert!(run.stderr.contains("invalid value"), "{}", run.stderr);
    }
}

// ---- diff ----

#[test]
fn diff_prints_a_unified_diff_and_exits_0() {
    let sb = Sandbox::new();
    sb.write("app/Dockerfile", DIRTY);
    let run = sb.run(&["diff"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("--- a/app/Dockerfile\n+++ b/app/Dockerfile\n@@ "),
        "{}",
        run.stdout
    );
    snap!("diff_dirty", run.stdout);
    assert_eq!(sb.read("app/Dockerfile"), DIRTY, "diff writes nothing");
}

#[test]
fn diff_of_clean_file_is_empty() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", CLEAN);
    let run = sb.run(&["diff"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
}

#[test]
fn diff_marks_a_missing_final_newline() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", DIRTY.trim_end());
    let run = sb.run(&["diff"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    snap!("diff_no_final_newline", run.stdout);
}

#[test]
fn diff_stdin_uses_stdin_filename_in_headers() {
    let sb = Sandbox::new();
    let run = sb.run_stdin(&["diff", "-", "--stdin-filename", "svc/Dockerfile"], DIRTY);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("--- a/svc/Dockerfile\n+++ b/svc/Dockerfile\n"),
        "{}",
        run.stdout
    );
}

// ---- fix ----

#[test]
fn fix_rewrites_in_place_and_then_check_is_clean() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", DIRTY);
    let run = sb.run(&["fix"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "", "fix PATH prints nothing on stdout");
    assert_eq!(sb.read("Dockerfile"), FIXED);
    assert_eq!(run.stderr, "fixed 1 Dockerfile (2 fixes)\n");
    let leftovers: Vec<_> = std::fs::read_dir(sb.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("Dockerfile")],
        "no temporary file left behind"
    );
    assert_eq!(sb.run(&["check"]).code, 0);
}

#[test]
fn fix_stdin_writes_the_result_to_stdout() {
    let sb = Sandbox::new();
    let run = sb.run_stdin(&["fix", "-"], DIRTY);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, FIXED);
    assert_eq!(
        std::fs::read_dir(sb.path()).unwrap().count(),
        0,
        "fix - writes no file"
    );
}

#[test]
fn fix_stdin_gives_back_the_exact_bytes_when_nothing_changes() {
    let sb = Sandbox::new();
    for text in [
        CLEAN,
        CLEAN.trim_end(),
        &CLEAN.replace('\n', "\r\n"),
        "\u{feff}FROM scratch\r\nCOPY a /a",
    ] {
        let run = sb.run_stdin(&["fix", "-"], text);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stdout, text);
    }
}

#[test]
fn fix_stdin_on_a_malformed_file_prints_nothing_on_stdout() {
    let sb = Sandbox::new();
    let run = sb.run_stdin(
        &["fix", "-", "--stdin-filename", "web/Dockerfile"],
        MALFORMED,
    );
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.starts_with("web/Dockerfile:2:"),
        "{}",
        run.stderr
    );
}

#[test]
fn fix_keeps_crlf_and_missing_final_newline_byte_exact_when_nothing_changes() {
    let sb = Sandbox::new();
    let crlf = CLEAN.replace('\n', "\r\n");
    let bare = CLEAN.trim_end();
    sb.write("crlf/Dockerfile", &crlf);
    sb.write("bare/Dockerfile", bare);
    let run = sb.run(&["fix"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(sb.read("crlf/Dockerfile"), crlf);
    assert_eq!(sb.read("bare/Dockerfile"), bare);
    assert_eq!(run.stderr, "nothing to fix\n");
}

#[test]
fn fix_of_a_crlf_file_keeps_crlf_line_endings() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", &DIRTY.replace('\n', "\r\n"));
    let run = sb.run(&["fix"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(sb.read("Dockerfile"), FIXED.replace('\n', "\r\n"));
}

#[cfg(unix)]
#[test]
fn fix_keeps_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let path = sb.write("Dockerfile", DIRTY);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let run = sb.run(&["fix", "Dockerfile"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(sb.read("Dockerfile"), FIXED);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777,
        0o640
    );
}

#[cfg(unix)]
#[test]
fn fix_through_a_symlink_rewrites_the_target_and_keeps_the_link() {
    let sb = Sandbox::new();
    sb.write("real/Dockerfile", DIRTY);
    std::os::unix::fs::symlink("real/Dockerfile", sb.path().join("Dockerfile")).unwrap();
    let run = sb.run(&["fix", "Dockerfile"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(std::fs::symlink_metadata(sb.path().join("Dockerfile"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(sb.read("real/Dockerfile"), FIXED);
}

// ---- errors ----

#[test]
fn malformed_file_is_an_error_with_position_and_caret_and_is_left_untouched() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", MALFORMED);
    for command in ["check", "diff", "fix"] {
        let run = sb.run(&[command, "Dockerfile"]);
        assert_eq!(run.code, 2, "{command}");
        assert!(
            run.stderr.starts_with("Dockerfile:2:1: "),
            "{command}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("\n2 | RUN <<EOF\n  | ^\n"),
            "{command}: {}",
            run.stderr
        );
        assert_eq!(
            sb.read("Dockerfile"),
            MALFORMED,
            "{command} must not touch a bad file"
        );
    }
    snap!("malformed_check_stderr", sb.run(&["check"]).stderr);
}

#[test]
fn one_bad_file_does_not_stop_the_others() {
    let sb = Sandbox::new();
    sb.write("a/Dockerfile", DIRTY);
    sb.write("b/Dockerfile", MALFORMED);
    sb.write("c/Dockerfile", DIRTY);
    let run = sb.run(&["fix"]);
    assert_eq!(run.code, 2);
    assert_eq!(sb.read("a/Dockerfile"), FIXED);
    assert_eq!(sb.read("b/Dockerfile"), MALFORMED);
    assert_eq!(sb.read("c/Dockerfile"), FIXED);
    assert!(
        run.stderr.starts_with("b/Dockerfile:2:1: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.ends_with("fixed 2 Dockerfiles (4 fixes); 1 error\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_error_is_listed() {
    let sb = Sandbox::new();
    sb.write("a/Dockerfile", MALFORMED);
    sb.write("b/Dockerfile", "FROM alpine\nFROBNICATE x\n");
    sb.write("c/Dockerfile", CLEAN);
    let run = sb.run(&["check", ".", "missing/Dockerfile"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("a/Dockerfile:2:1: "), "{}", run.stderr);
    assert!(run.stderr.contains("b/Dockerfile:2:1: "), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("missing/Dockerfile: no such file or directory\n"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .ends_with("checked 3 Dockerfiles: no findings; 3 errors\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn non_utf8_file_is_an_error() {
    let sb = Sandbox::new();
    std::fs::write(sb.path().join("Dockerfile"), b"FROM a\nLABEL x=\xff\n").unwrap();
    let run = sb.run(&["fix"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("Dockerfile: not valid UTF-8 (at byte 15)"),
        "{}",
        run.stderr
    );
}

#[test]
fn stdin_cannot_be_mixed_with_paths() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", CLEAN);
    let run = sb.run_stdin(&["check", "-", "Dockerfile"], CLEAN);
    assert_eq!(run.code, 2);
}

#[test]
fn context_must_be_a_directory() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", CLEAN);
    let run = sb.run(&["check", "--context", "nope"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr, "--context nope: not a directory\n");
    assert_eq!(sb.run(&["check", "--context", "."]).code, 0);
}

// ---- config ----

#[test]
fn unknown_config_key_is_an_error_naming_the_key() {
    let sb = Sandbox::new();
    sb.write("dockopt.toml", "unsafe = true\nselectt = [\"modernize\"]\n");
    sb.write("Dockerfile", DIRTY);
    for command in ["check", "diff", "fix"] {
        let run = sb.run(&[command]);
        assert_eq!(run.code, 2, "{command}");
        assert!(
            run.stderr.contains("unknown field `selectt`"),
            "{}",
            run.stderr
        );
        assert_eq!(sb.read("Dockerfile"), DIRTY);
    }
    let stderr = sb.run(&["check"]).stderr;
    assert!(
        stderr.starts_with("dockopt.toml:2:1: unknown field `selectt`, expected one of `unsafe`, "),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("\n  |\n2 | selectt = [\"modernize\"]\n  | ^\n"),
        "{stderr}"
    );
}

#[test]
fn unknown_transform_in_config_is_an_error() {
    let sb = Sandbox::new();
    sb.write("dockopt.toml", "# names\nignore = [\"merge-runs\", \"modernise\"]\n");
    sb.write("Dockerfile", DIRTY);
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 2);
    // Like every other error: path:line:col, the line and a caret under the name.
    assert!(
        run.stderr
            .starts_with("dockopt.toml:2:25: unknown check or transform `modernise` (did you mean `modernize`?)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.ends_with(
            "\n  |\n2 | ignore = [\"merge-runs\", \"modernise\"]\n  |                         ^\n"
        ),
        "{}",
        run.stderr
    );
    sb.write("dockopt.toml", "select = [\"all\", \"run-cleanup\"]\nignore = [\"x\"]\n");
    let run = sb.run(&["check"]);
    assert!(run.stderr.starts_with("dockopt.toml:2:11: unknown check or transform `x` (a transform ("), "{}", run.stderr);
    // A hadolint code no check relates to is fine to ignore (a `.hadolint.yaml` list), not to select.
    sb.write("dockopt.toml", "ignore = [\"DL3008\", \"SC2086\", \"DL3009\"]\n");
    assert_eq!(sb.run(&["check"]).code, 1);
    sb.write("dockopt.toml", "select = [\"DL3008\"]\n");
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.starts_with("dockopt.toml:1:11: no dockopt check fixes what hadolint's `DL3008` reports"), "{}", run.stderr);
}

#[test]
fn config_is_found_in_a_parent_directory() {
    let sb = Sandbox::new();
    sb.write("repo/services/web/Dockerfile", DIRTY);
    assert_eq!(
        sb.run(&["check", "repo"]).code,
        1,
        "without config, modernize runs"
    );
    sb.write("repo/dockopt.toml", "ignore = [\"modernize\"]\n");
    assert_eq!(sb.run(&["check", "repo"]).code, 0);
    assert_eq!(
        sb.run_in("repo/services", &["check"], None).code,
        0,
        "found from a subdirectory cwd"
    );
    // The nearest one wins.
    sb.write("repo/services/dockopt.toml", "select = [\"all\"]\n");
    assert_eq!(sb.run(&["check", "repo"]).code, 1);
    // Flags override the config.
    sb.write("repo/services/dockopt.toml", "select = [\"modernize\"]\n");
    assert_eq!(sb.run(&["check", "repo", "--ignore", "modernize"]).code, 0);
}

#[test]
fn no_unsafe_overrides_the_config() {
    let sb = Sandbox::new();
    sb.write("dockopt.toml", "unsafe = true\n");
    sb.write("Dockerfile", "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n");
    let unsafe_diff = sb.run(&["diff"]).stdout;
    assert!(unsafe_diff.contains("--no-install-recommends"), "{unsafe_diff}");
    let safe_diff = sb.run(&["diff", "--no-unsafe"]).stdout;
    assert!(!safe_diff.contains("--no-install-recommends"), "{safe_diff}");
    // Both flags at once is a contradiction, not a silent winner.
    for flags in [["--no-unsafe", "--unsafe"], ["--unsafe", "--no-unsafe"]] {
        let run = sb.run(&["fix", flags[0], flags[1]]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
    }
    assert!(sb.read("Dockerfile").contains("RUN apt-get update && apt-get install -y curl"));
}

#[test]
fn exclude_skips_walked_paths_but_not_named_files() {
    let sb = Sandbox::new();
    sb.write("repo/app/Dockerfile", DIRTY);
    sb.write("repo/vendor/lib/Dockerfile", "FROM alpine\nRUN <<EOF\n");
    sb.write("repo/testdata/x.Dockerfile", DIRTY);
    assert_eq!(sb.run(&["check", "repo"]).code, 2, "the broken vendored file is an error");
    // Patterns of the config are relative to its folder, whatever the current directory.
    sb.write("repo/dockopt.toml", "exclude = [\"vendor/\", \"*.Dockerfile\"]\n");
    let run = sb.run(&["check", "repo"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("repo/app/Dockerfile") && !run.stdout.contains("testdata"), "{}", run.stdout);
    assert_eq!(sb.run_in("repo/app", &["check", ".."], None).code, 1);
    // A file named on the command line is read even when excluded.
    assert_eq!(sb.run(&["check", "repo/vendor/lib/Dockerfile"]).code, 2);
    // `--exclude` is relative to the current directory and adds to the config's.
    sb.write("repo/dockopt.toml", "exclude = [\"vendor/\"]\n");
    assert_eq!(sb.run(&["check", "repo", "--exclude", "repo/app,repo/testdata"]).code, 0);
    // A bad pattern is a config error, shown where it is written, also for a named file.
    sb.write("repo/dockopt.toml", "exclude = [\"vendor/\", \"{x\"]\n");
    for args in [&["check", "repo"][..], &["check", "repo/app/Dockerfile"]] {
        let run = sb.run(args);
        assert_eq!(run.code, 2);
        assert!(run.stderr.starts_with("repo/dockopt.toml:1:23: exclude `{x`: "), "{}", run.stderr);
        assert!(run.stderr.contains("1 | exclude = "), "{}", run.stderr);
    }
}

#[test]
fn config_globs_are_checked_where_they_are_written() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", CLEAN);
    for (config, position, message) in [
        ("exclude = [\"[z-a]\"]\n", "1:12", "exclude `[z-a]`"),
        ("[[base.replace]]\nfrom = \"[\"\nto = \"debian:bookworm-slim\"\n", "2:8", "`[` cannot appear in an image reference"),
        ("[base]\nallow = [\"debian:*\", \"deb ian\"]\n", "2:22", "` ` cannot appear in an image reference"),
        ("[[base.replace]]\nfrom = \"debian:*\"\nto = \"debian:*-slim\"\n", "3:6", "is not an image reference"),
    ] {
        sb.write("dockopt.toml", config);
        let run = sb.run(&["check", "Dockerfile"]);
        assert_eq!(run.code, 2, "{config}: {}", run.stderr);
        let first = run.stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with(&format!("dockopt.toml:{position}: ")), "{config}: {}", run.stderr);
        assert!(first.contains(message), "{config}: {}", run.stderr);
    }
}

#[test]
fn stdin_config_comes_from_stdin_filename_or_cwd() {
    let sb = Sandbox::new();
    sb.write("web/dockopt.toml", "ignore = [\"modernize\"]\n");
    assert_eq!(sb.run_stdin(&["check", "-"], DIRTY).code, 1);
    assert_eq!(
        sb.run_stdin(&["check", "-", "--stdin-filename", "web/Dockerfile"], DIRTY)
            .code,
        0
    );
    assert_eq!(sb.run_in("web", &["check", "-"], Some(DIRTY)).code, 0);
}

#[test]
fn explicit_config_replaces_discovery() {
    let sb = Sandbox::new();
    sb.write("dockopt.toml", "ignore = [\"modernize\"]\n");
    sb.write("other.toml", "select = [\"modernize\"]\n");
    sb.write("Dockerfile", DIRTY);
    assert_eq!(sb.run(&["check"]).code, 0);
    assert_eq!(sb.run(&["check", "--config", "other.toml"]).code, 1);
    let run = sb.run(&["check", "--config", "absent.toml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("absent.toml: cannot read config"),
        "{}",
        run.stderr
    );
}

#[test]
fn unknown_transform_in_flags_is_an_error() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", DIRTY);
    for flag in ["--select", "--ignore"] {
        let run = sb.run(&["check", flag, "modernize,nope"]);
        assert_eq!(run.code, 2, "{flag}");
        assert!(
            run.stderr
                .starts_with(&format!("{flag}: unknown check or transform `nope` (a transform (run-cleanup, ")),
            "{}",
            run.stderr
        );
        let run = sb.run(&["check", flag, "modernize/maintaner"]);
        assert_eq!(run.code, 2, "{flag}");
        assert_eq!(
            run.stderr,
            format!("{flag}: unknown check or transform `modernize/maintaner` (did you mean `modernize/maintainer`?)\n")
        );
    }
    assert_eq!(sb.run(&["check", "--select", "modernize"]).code, 1);
    assert_eq!(sb.run(&["check", "--ignore", "modernize"]).code, 0);
}

#[test]
fn checks_are_selected_and_ignored_by_id_transform_and_related_code() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", "FROM debian:bookworm-slim\nMAINTAINER Jane <j@x.org>\nENV A 1\nADD app.py /app/\n");
    sb.write("app.py", "print(1)\n");
    let checks = |args: &[&str]| {
        let mut argv = vec!["check", "--format", "json"];
        argv.extend_from_slice(args);
        let run = sb.run(&argv);
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
        let mut ids: Vec<String> = doc["files"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["check"].as_str().unwrap().to_string())
            .collect();
        ids.dedup();
        ids
    };
    let all = checks(&["--select", "modernize"]);
    assert_eq!(all, ["modernize/maintainer", "modernize/legacy-env", "modernize/add-to-copy"]);
    assert_eq!(checks(&["--select", "modernize/legacy-env"]), ["modernize/legacy-env"]);
    // A hadolint code stands for the checks that fix what it reports; so does a BuildKit check.
    assert_eq!(checks(&["--select", "DL3020,MaintainerDeprecated"]), ["modernize/maintainer", "modernize/add-to-copy"]);
    assert_eq!(checks(&["--select", "modernize", "--ignore", "DL4000,modernize/add-to-copy"]), ["modernize/legacy-env"]);
}

/// A pragma's finding is neither fixed nor reported: it is counted, `--show-suppressed` lists it,
/// JSON carries it apart; a pragma naming an unknown code is a warning that changes no exit code.
#[test]
fn pragmas_suppress_findings_and_unknown_codes_are_warnings() {
    let sb = Sandbox::new();
    let source = "FROM debian:bookworm-slim\n# hadolint ignore=DL4000\nMAINTAINER Jane <j@x.org>\n# dockopt ignore=modernize/legacy-env,modernize/legacy-evn\nENV A 1\n";
    sb.write("Dockerfile", source);
    let run = sb.run(&["check", "--select", "modernize"]);
    assert_eq!(run.code, 0, "only suppressed findings: {}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "Dockerfile:4:1: warning: `modernize/legacy-evn` is not a dockopt check or transform (did you mean `modernize/legacy-env`?); the pragma ignores nothing for it\n\
         checked 1 Dockerfile: no findings; 2 suppressed by pragmas (--show-suppressed lists them)\n"
    );
    let run = sb.run(&["check", "--select", "modernize", "--show-suppressed"]);
    assert_eq!(
        run.stdout,
        "Dockerfile:3:1: modernize/maintainer: MAINTAINER is deprecated: use `LABEL maintainer=...` (suppressed by `# hadolint ignore=DL4000` at line 2)\n\
         Dockerfile:5:1: modernize/legacy-env: legacy `ENV A value` form: use `ENV A=...` (suppressed by `# dockopt ignore=modernize/legacy-env,modernize/legacy-evn` at line 4)\n"
    );
    assert!(run.stderr.ends_with("; 2 suppressed by pragmas\n"), "{}", run.stderr);
    // Nothing to fix: the file is left as it is.
    let fix = sb.run(&["fix", "--select", "modernize"]);
    assert_eq!((fix.code, sb.read("Dockerfile")), (0, source.to_string()));
    assert!(fix.stderr.ends_with("nothing to fix, 2 suppressed by pragmas\n"), "{}", fix.stderr);

    let json = sb.run(&["check", "--select", "modernize", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["summary"]["findings"], 0);
    assert_eq!(doc["summary"]["suppressed"], 2);
    let file = &doc["files"][0];
    assert_eq!(file["suppressed"][0]["check"], "modernize/maintainer");
    assert_eq!(file["suppressed"][0]["by"], "# hadolint ignore=DL4000");
    assert_eq!(file["suppressed"][0]["pragma"]["line"], 2);
    assert_eq!(file["warnings"].as_array().unwrap().len(), 1);
    assert_eq!(file["warnings"][0]["start"]["line"], 4);
}

const HADOLINT_PROJECT: &str = "FROM python:3.12-slim\nRUN echo a\nRUN echo b\n";

/// The checks a `check --format json` run reports, and its stderr.
fn reported_checks(sb: &Sandbox, cwd: &str, args: &[&str]) -> (Vec<String>, String) {
    let mut argv = vec!["check", "--format", "json"];
    argv.extend_from_slice(args);
    let run = sb.run_in(cwd, &argv, None);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
    let checks = doc["files"].as_array().unwrap().iter().flat_map(|f| f["findings"].as_array().unwrap().iter()).map(|f| f["check"].as_str().unwrap().to_string()).collect();
    (checks, run.stderr)
}

/// With no dockopt.toml, hadolint's config applies: `ignored` as `ignore` (through the registry),
/// `trustedRegistries` as `[base] allow`; its other keys are skipped; `check` names it on stderr.
#[test]
fn a_hadolint_config_applies_when_there_is_no_dockopt_toml() {
    let sb = Sandbox::new();
    sb.write("svc/Dockerfile", HADOLINT_PROJECT);
    let (checks, stderr) = reported_checks(&sb, ".", &["--select", "merge-runs,approved-base", "svc"]);
    assert_eq!(checks, ["merge-runs/consecutive"]);
    assert!(!stderr.contains("config:"), "{stderr}");

    sb.write(
        ".hadolint.yaml",
        "# the team's hadolint settings\nfailure-threshold: warning\noverride:\n  error: [DL3001]\nignored:\n  - DL3059\n  - DL3008\n  - SC2086\ntrustedRegistries:\n  - registry.example.com\n  - docker.io\nlabel-schema:\n  owner: text\n",
    );
    // Found walking up from the Dockerfile, wherever dockopt runs from.
    for cwd in [".", "svc"] {
        let (checks, stderr) = reported_checks(&sb, cwd, &["--select", "merge-runs,approved-base", "."]);
        assert_eq!(checks, Vec::<String>::new(), "{cwd}: {stderr}");
        assert!(stderr.contains("config: ") && stderr.contains(".hadolint.yaml (hadolint's; no dockopt.toml found"), "{stderr}");
    }
    // trustedRegistries: an image from another registry is not in the approved list (DL3026).
    sb.write("svc/Dockerfile", "FROM quay.io/org/app:1.0\nRUN echo a\n");
    let (checks, _) = reported_checks(&sb, ".", &["--select", "approved-base", "svc"]);
    assert_eq!(checks, ["approved-base/not-allowed"]);

    // A dockopt.toml wins, wherever it is above.
    sb.write("dockopt.toml", "select = [\"merge-runs\"]\n");
    sb.write("svc/Dockerfile", HADOLINT_PROJECT);
    let (checks, stderr) = reported_checks(&sb, ".", &["svc"]);
    assert_eq!(checks, ["merge-runs/consecutive"]);
    assert!(stderr.starts_with("config: dockopt.toml\n"), "{stderr}");
    // --config takes either kind.
    let (checks, stderr) = reported_checks(&sb, ".", &["--config", ".hadolint.yaml", "--select", "merge-runs", "svc"]);
    assert_eq!(checks, Vec::<String>::new());
    assert!(stderr.starts_with("config: .hadolint.yaml (hadolint's"), "{stderr}");

    // A hadolint config that is not YAML of the right shape is an error, where it is.
    sb.write(".hadolint.yaml", "ignored:\n  - DL3059\n  - [DL3008\n");
    let run = sb.run(&["check", "--config", ".hadolint.yaml", "svc"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.starts_with(".hadolint.yaml:3:"), "{}", run.stderr);
    sb.write(".hadolint.yaml", "trustedRegistries:\n  - \"bad registry\"\n");
    let run = sb.run(&["check", "--config", ".hadolint.yaml", "svc"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.starts_with(".hadolint.yaml: trustedRegistries: `bad registry` is not a registry"), "{}", run.stderr);
}

/// hadolint's own places when the project has no config: the current directory,
/// `$XDG_CONFIG_HOME/hadolint.yaml`, `~/.hadolint/…`, `~/.hadolint.yaml`.
#[test]
fn a_hadolint_config_is_found_where_hadolint_finds_it() {
    let sb = Sandbox::new();
    sb.write("project/Dockerfile", HADOLINT_PROJECT);
    let project = sb.path().join("project");
    let home = sb.path().join("home");
    let xdg = sb.path().join("xdg");
    std::fs::create_dir_all(&home).unwrap();
    let run = |env: &[(&str, &Path)]| {
        let output = common::run_dockopt_env(&project, &["check", "--select", "merge-runs", "."], None, env);
        (output.status.code().unwrap(), sb.scrub(&String::from_utf8(output.stderr).unwrap()))
    };
    let env: [(&str, &Path); 2] = [("HOME", &home), ("XDG_CONFIG_HOME", &xdg)];
    assert_eq!(run(&env).0, 1, "no config anywhere: the merge is reported");
    sb.write("home/.hadolint.yaml", "ignored: [DL3059]\n");
    let (code, stderr) = run(&env);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.starts_with("config: [TMP]/home/.hadolint.yaml (hadolint's"), "{stderr}");
    sb.write("home/.hadolint/config.yml", "ignored: [DL3059]\n");
    assert!(run(&env).1.starts_with("config: [TMP]/home/.hadolint/config.yml"));
    sb.write("xdg/hadolint.yaml", "ignored: [DL3059]\n");
    assert!(run(&env).1.starts_with("config: [TMP]/xdg/hadolint.yaml"));
    // Without XDG_CONFIG_HOME, `~/.config`.
    sb.write("home/.config/hadolint.yml", "ignored: [DL3059]\n");
    assert!(run(&[("HOME", &home)]).1.starts_with("config: [TMP]/home/.config/hadolint.yml"));
}

#[test]
fn transforms_checks_lists_every_check_and_explain_takes_a_check_or_a_code() {
    let sb = Sandbox::new();
    let run = sb.run(&["transforms", "--checks"]);
    assert_eq!(run.code, 0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("CHECK") && lines[0].contains("CODES") && lines[0].ends_with("SUMMARY"), "{}", run.stdout);
    assert_eq!(lines.len(), transforms::checks::ALL.len() + 1);
    for check in transforms::checks::ALL {
        assert!(lines.iter().any(|l| l.starts_with(check.id) && l.contains(check.summary)), "{}: {}", check.id, run.stdout);
    }
    assert!(lines.iter().any(|l| l.starts_with("run-cleanup/apt-lists ") && l.contains(" DL3009 ")), "{}", run.stdout);

    let run = sb.run(&["explain", "run-cleanup/no-install-recommends"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("# run-cleanup/no-install-recommends\n\n`apt-get install` carries"), "{}", run.stdout);
    assert!(run.stdout.contains("Fixes what hadolint's DL3015 reports."), "{}", run.stdout);
    assert!(run.stdout.contains("`dockopt explain run-cleanup`"), "{}", run.stdout);
    let run = sb.run(&["explain", "DL3019"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("- `run-cleanup/apk-no-cache`") && run.stdout.contains("- `run-cleanup/apk-index`"), "{}", run.stdout);
    let run = sb.run(&["explain", "run-cleanup/apt-list"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("did you mean `run-cleanup/apt-lists`?"), "{}", run.stderr);
}

// ---- discovery ----

#[test]
fn directories_are_walked_for_dockerfile_names_respecting_gitignore() {
    let sb = Sandbox::new();
    let names = [
        "Dockerfile",
        "a/Containerfile",
        "b/api.Dockerfile",
        "c/worker.dockerfile",
        "d/Dockerfile.dev",
        "e/Containerfile.ci",
        ".devcontainer/Dockerfile",
        // Not Dockerfiles:
        "f/README.md",
        "g/Dockerfile.dockerignore",
        "h/dockerfile",
        // Ignored:
        "ignored/Dockerfile",
        "build/x/Dockerfile",
        ".git/Dockerfile",
    ];
    for name in names {
        sb.write(name, CLEAN);
    }
    sb.write(".gitignore", "ignored/\n/build\n");
    // Only `modernize`: the walk is under test, not what other transforms think of `.git/`.
    let paths = |args: &[&str]| -> Vec<String> {
        let run = sb.run(&[args, &["--select", "modernize"]].concat());
        assert_eq!(run.code, 0, "{}", run.stderr);
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        doc["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect()
    };
    let expected = [
        ".devcontainer/Dockerfile",
        "Dockerfile",
        "a/Containerfile",
        "b/api.Dockerfile",
        "c/worker.dockerfile",
        "d/Dockerfile.dev",
        "e/Containerfile.ci",
    ];
    assert_eq!(paths(&["check", "--format", "json"]), expected);
    assert_eq!(paths(&["check", "--format", "json", "."]), expected);
    // A file named explicitly is always processed, ignored or not, whatever its name.
    assert_eq!(
        paths(&[
            "check",
            "--format",
            "json",
            "ignored/Dockerfile",
            "f/README.md",
            "a"
        ]),
        ["a/Containerfile", "f/README.md", "ignored/Dockerfile"]
    );
}

// ---- catalog ----

#[test]
fn transforms_lists_the_catalog() {
    let run = Sandbox::new().run(&["transforms"]);
    assert_eq!(run.code, 0);
    let mut lines = run.stdout.lines();
    assert!(lines.next().unwrap().starts_with("NAME"));
    let catalog = transforms::catalog();
    assert_eq!(lines.clone().count(), catalog.len());
    for (line, info) in lines.zip(catalog) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells[0], info.name);
        assert!(
            line.contains(info.safety) && line.ends_with(info.summary),
            "{line}"
        );
    }
}

#[test]
fn explain_prints_the_documentation() {
    let sb = Sandbox::new();
    let run = sb.run(&["explain", "modernize"]);
    assert_eq!(run.code, 0);
    let doc = transforms::find_transform("modernize").unwrap().doc.trim();
    assert!(run.stdout.starts_with("# modernize\n"), "{}", run.stdout);
    assert!(run.stdout.trim_end().ends_with(doc), "{}", run.stdout);
    assert!(run.stdout.contains("## What it does"), "{}", run.stdout);
    let run = sb.run(&["explain", "modernise"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("unknown check or transform `modernise` (did you mean `modernize`?)"),
        "{}",
        run.stderr
    );
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&[]).code, 2);
    assert_eq!(sb.run(&["frobnicate"]).code, 2);
    assert_eq!(sb.run(&["check", "--nope"]).code, 2);
    assert_eq!(sb.run(&["--help"]).code, 0);
    assert_eq!(sb.run(&["--version"]).code, 0);
}

// ---- formats (bots and pull requests) ----

/// Triggers each part of `modernize`; the `🐳` makes code-point columns differ from bytes.
const MODERNIZE: &str = "FROM debian:bookworm\nMAINTAINER Jane <j@x.org>\nENV A 🐳\nADD app /app\n";
const MODERNIZED: &str =
    "FROM debian:bookworm\nLABEL maintainer=\"Jane <j@x.org>\"\nENV A=\"🐳\"\nCOPY app /app\n";

/// A fixed Dockerfile, a malformed one and a dirty one, checked with `modernize` only (so other
/// transforms cannot change these snapshots).
fn formats_sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("svc/Dockerfile", MODERNIZE);
    sb.write("svc/app/main.py", "print('hi')\n");
    sb.write("bad/Dockerfile", MALFORMED);
    sb.write("ok/Dockerfile", CLEAN);
    sb
}

fn check_as(sb: &Sandbox, format: &str) -> Run {
    let run = sb.run(&["check", "--select", "modernize", "--format", format]);
    assert_eq!(run.code, 2, "an error wins over findings: {}", run.stderr);
    assert!(
        run.stderr
            .contains("bad/Dockerfile:2:1: unterminated heredoc"),
        "{format}: {}",
        run.stderr
    );
    run
}

#[test]
fn format_text() {
    let sb = formats_sandbox();
    let run = check_as(&sb, "text");
    snap!(
        "format_text",
        format!("--- stdout\n{}--- stderr\n{}", run.stdout, run.stderr)
    );
}

#[test]
fn format_json_carries_positions_edits_and_diffs() {
    let sb = formats_sandbox();
    let run = check_as(&sb, "json");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let svc = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "svc/Dockerfile")
        .unwrap();
    // Applying every fix's edits to the original gives what `fix` writes.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for finding in svc["findings"].as_array().unwrap() {
        assert_eq!(finding["path"], "svc/Dockerfile");
        assert_eq!(finding["applicability"], "safe");
        for edit in finding["fix"]["edits"].as_array().unwrap() {
            edits.push((
                edit["start"]["offset"].as_u64().unwrap() as usize,
                edit["end"]["offset"].as_u64().unwrap() as usize,
                edit["content"].as_str().unwrap().to_string(),
            ));
        }
    }
    edits.sort();
    let mut fixed = MODERNIZE.to_string();
    for (start, end, content) in edits.iter().rev() {
        fixed.replace_range(start..end, content);
    }
    assert_eq!(fixed, MODERNIZED);
    // Columns count code points: `ENV A 🐳` is 7 of them (10 bytes).
    let env = &svc["findings"][1];
    assert_eq!(env["end"]["line"], 3);
    assert_eq!(env["end"]["column"], 8);
    assert_eq!(
        env["end"]["offset"].as_u64().unwrap() - env["start"]["offset"].as_u64().unwrap(),
        10
    );
    assert!(svc["diff"]
        .as_str()
        .unwrap()
        .starts_with("--- a/svc/Dockerfile\n+++ b/svc/Dockerfile\n"));
    snap!("format_json", run.stdout);
}

#[test]
fn format_github() {
    let sb = formats_sandbox();
    let run = check_as(&sb, "github");
    snap!("format_github", run.stdout);
}

#[test]
fn format_markdown_is_a_pull_request_body() {
    let sb = formats_sandbox();
    let run = check_as(&sb, "markdown");
    let body = &run.stdout;
    assert!(body.starts_with("## dockopt\n"), "{body}");
    assert!(
        body.contains("- **modernize** (line 2, safe): MAINTAINER is deprecated: use `LABEL maintainer=...` — "),
        "{body}"
    );
    assert!(body.contains("<details>\n<summary>Diff of <code>svc/Dockerfile</code></summary>\n\n```diff\n--- a/svc/Dockerfile\n"), "{body}");
    assert!(
        body.contains("### Errors\n\n- `bad/Dockerfile:2:1`: unterminated heredoc"),
        "{body}"
    );
    assert!(
        !body.contains("ok/Dockerfile"),
        "clean files are not listed: {body}"
    );
    snap!("format_markdown", run.stdout);
}

#[test]
fn format_markdown_marks_unsafe_and_unfixable_findings() {
    let sb = Sandbox::new();
    // An ADD of an archive has no safe rewrite: the finding says why.
    sb.write(
        "Dockerfile",
        "FROM debian:bookworm\nADD rootfs.tar.gz /\nENV A 1\n",
    );
    let run = sb.run(&["diff", "--select", "modernize", "--format", "markdown"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("- **modernize** (line 2, no automatic fix): ADD of local files: use COPY — `rootfs.tar.gz` looks like an archive"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("1 change in 1 Dockerfile; 1 finding not changed."),
        "{}",
        run.stdout
    );
    let clean = Sandbox::new();
    clean.write("Dockerfile", CLEAN);
    let run = clean.run(&["check", "--select", "modernize", "--format", "markdown"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "## dockopt\n\nNothing to change in 1 Dockerfile.\n")
    );
}

/// SARIF, with the rules reduced to their ids (their text is the transforms' docs, which change
/// with the transforms; checked here instead of snapshotted). A rule is a check; its transform is
/// its `transform` property.
#[test]
fn format_sarif() {
    let sb = formats_sandbox();
    let run = check_as(&sb, "sarif");
    let mut log: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let rules = log["runs"][0]["tool"]["driver"]["rules"].take();
    let checks = transforms::checks::ALL;
    assert_eq!(rules.as_array().unwrap().len(), checks.len());
    for (rule, check) in rules.as_array().unwrap().iter().zip(checks) {
        let info = transforms::find_transform(check.transform()).unwrap();
        assert_eq!(rule["id"], check.id);
        assert_eq!(rule["shortDescription"]["text"], format!("{}.", check.summary));
        assert_eq!(rule["properties"]["transform"], info.name);
        let hadolint = &rule["properties"]["hadolint"];
        if check.hadolint.is_empty() {
            assert!(hadolint.is_null(), "{}", check.id);
        } else {
            assert_eq!(hadolint, &serde_json::json!(check.hadolint));
        }
        assert_eq!(rule["fullDescription"]["text"], info.doc.trim());
        assert_eq!(rule["help"]["markdown"], info.doc.trim());
    }
    log["runs"][0]["tool"]["driver"]["rules"] = "[the checks, checked above]".into();
    log["runs"][0]["tool"]["driver"]["semanticVersion"] = "[VERSION]".into();
    for result in log["runs"][0]["results"].as_array_mut().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(result["ruleId"], checks[index].id);
        result["ruleIndex"] = "[index of the rule]".into();
    }
    snap!("format_sarif", serde_json::to_string_pretty(&log).unwrap());
}

#[test]
fn diff_formats_exit_0_without_errors() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", MODERNIZE);
    for format in ["text", "json", "github", "sarif", "markdown"] {
        let run = sb.run(&["diff", "--select", "modernize", "--format", format]);
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        assert!(!run.stdout.is_empty(), "{format}");
        let run = sb.run(&["check", "--select", "modernize", "--format", format]);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
    }
}

// ---- large runs ----

#[test]
fn fix_of_many_files_ends_with_a_summary_by_transform_and_the_failed_files() {
    let sb = Sandbox::new();
    for i in 0..60 {
        sb.write(&format!("svc{i:02}/Dockerfile"), MODERNIZE);
    }
    sb.write("bad/Dockerfile", MALFORMED);
    sb.write("worse/Dockerfile", "FROM alpine\nFROBNICATE x\n");
    let run = sb.run(&["fix", "--select", "modernize"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for i in 0..60 {
        assert_eq!(sb.read(&format!("svc{i:02}/Dockerfile")), MODERNIZED);
    }
    assert_eq!(sb.read("bad/Dockerfile"), MALFORMED);
    assert!(
        !run.stderr.contains('\r'),
        "no progress bar outside a terminal"
    );
    assert!(
        run.stderr.starts_with("bad/Dockerfile:2:1: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("\nworse/Dockerfile:2:1: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.ends_with(
            "by transform:\n  modernize  180 fixed\nnot changed (errors): bad/Dockerfile, worse/Dockerfile\nfixed 60 Dockerfiles (180 fixes); 2 errors\n"
        ),
        "{}",
        run.stderr
    );
}

// ---- base-image policy ----

const POLICY: &str = r#"[base]
allow = ["debian:bookworm-slim", "registry.example.com/core/*"]

[[base.replace]]
from = "ubuntu:*"
to = "registry.example.com/core/ubuntu:22.04"
"#;

#[test]
fn check_with_a_policy_exits_1_on_a_disallowed_base_and_0_when_allowed() {
    let sb = Sandbox::new();
    sb.write("dockopt.toml", POLICY);
    sb.write("Dockerfile", "FROM centos:7\nCMD [\"true\"]\n");
    let run = sb.run(&["check", "--select", "approved-base"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("centos:7"), "the finding names the image: {}", run.stdout);
    assert!(run.stdout.contains("debian:bookworm-slim"), "and the allow-list: {}", run.stdout);

    sb.write("Dockerfile", "FROM debian:bookworm-slim\nCMD [\"true\"]\n");
    let run = sb.run(&["check", "--select", "approved-base"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn a_replace_rule_of_the_policy_is_a_safe_fix() {
    let sb = Sandbox::new();
    sb.write("dockopt.toml", POLICY);
    sb.write("Dockerfile", "FROM ubuntu:20.04 AS build\nCMD [\"true\"]\n");
    let run = sb.run(&["fix", "--select", "approved-base", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(sb.read("Dockerfile"), "FROM registry.example.com/core/ubuntu:22.04 AS build\nCMD [\"true\"]\n");
    assert_eq!(sb.run(&["check", "--select", "approved-base"]).code, 0);
}

#[test]
fn a_bad_policy_key_is_an_error_naming_it() {
    let sb = Sandbox::new();
    sb.write("dockopt.toml", "[base]\nallowed = [\"x\"]\n");
    sb.write("Dockerfile", "FROM debian:bookworm-slim\n");
    let run = sb.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("allowed"), "{}", run.stderr);
}

#[test]
fn bases_lists_the_inventory_under_the_policy() {
    let sb = Sandbox::new();
    sb.write("dockopt.toml", POLICY);
    sb.write("a/Dockerfile", "FROM ubuntu:20.04\n");
    sb.write("b/Dockerfile", "ARG BASE=debian:bookworm-slim\nFROM $BASE AS build\nFROM build\n");
    let run = sb.run(&["bases", "--format", "json", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let images: Vec<&str> = v["bases"].as_array().unwrap().iter().map(|b| b["image"].as_str().unwrap()).collect();
    assert_eq!(images.len(), 2, "{images:?}");
    assert!(images.contains(&"ubuntu:20.04") && images.contains(&"debian:bookworm-slim"), "{images:?}");
    assert_eq!(v["distinct_today"], 2);
}

// ---- findings do not depend on the order of fixes ----

const GO_SINGLE_STAGE: &str = "FROM golang:1.22\nWORKDIR /src\nCOPY go.mod ./\nRUN go mod download\nCOPY . .\nRUN go build -o /app ./cmd/app\nCMD [\"/app\"]\n";
const GO_REPLACE: &str = "[[base.replace]]\nfrom = \"golang:*\"\nto = \"registry.example.com/core/golang:1.22\"\n";

fn go_sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.write("Dockerfile", GO_SINGLE_STAGE);
    sb.write("go.mod", "module example.com/app\n\ngo 1.22\n");
    sb.write("cmd/app/main.go", "package main\n\nfunc main() {}\n");
    sb
}

fn lines_of<'a>(run: &'a Run, transform: &str) -> Vec<&'a str> {
    let tag = format!(": {transform}/");
    run.stdout.lines().filter(|l| l.contains(&tag)).collect()
}

/// A Safe `[[base.replace]]` fix must not hide the Unsafe multi-stage finding: `check` shows
/// what each transform finds in the original text, whichever fixes run first.
#[test]
fn a_replace_policy_does_not_hide_the_multi_stage_finding() {
    let sb = go_sandbox();
    let without_policy = sb.run(&["check", "--select", "multi-stage", "."]);
    let multi_stage = lines_of(&without_policy, "multi-stage");
    assert_eq!(multi_stage.len(), 1, "{}", without_policy.stdout);

    sb.write("dockopt.toml", GO_REPLACE);
    let run = sb.run(&["check", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(lines_of(&run, "multi-stage"), multi_stage, "{}", run.stdout);
    assert_eq!(lines_of(&run, "approved-base").len(), 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("1 with `dockopt fix`, 1 more with `dockopt fix --unsafe`"),
        "{}",
        run.stderr
    );

    // After the Safe fix (the FROM replaced) the image still ships the toolchain: --unsafe says so.
    let fixed = sb.run(&["fix", "."]);
    assert_eq!(fixed.code, 0, "{}", fixed.stderr);
    assert!(sb.read("Dockerfile").starts_with("FROM registry.example.com/core/golang:1.22\n"));
    let run = sb.run(&["check", "--unsafe", "."]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let after = lines_of(&run, "multi-stage");
    assert_eq!(after.len(), 1, "{}", run.stdout);
    assert!(after[0].contains("ships the Go toolchain"), "{}", run.stdout);
    assert!(run.stdout.contains("policy's replacement for `golang:*`"), "the finding says why there is no fix: {}", run.stdout);
}

/// A finding that another transform's fix makes moot is reported as such, never dropped.
#[test]
fn a_finding_made_moot_by_another_fix_says_so() {
    let sb = Sandbox::new();
    sb.write(
        "Dockerfile",
        "FROM debian:bookworm-slim\nRUN apt-get update\nRUN apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n",
    );
    let alone = sb.run(&["check", "--select", "merge-runs", "."]);
    let merge = lines_of(&alone, "merge-runs");
    let together = sb.run(&["check", "--select", "merge-runs,run-cleanup", "."]);
    for line in &merge {
        let location = line.split(" merge-runs: ").next().unwrap();
        assert!(
            together.stdout.contains(line.trim_end_matches(" [*]")) && together.stdout.contains(location),
            "`{line}` is missing when run-cleanup runs too:\n{}",
            together.stdout
        );
    }
    assert!(together.stdout.contains("(resolved by "), "{}", together.stdout);
    let json = sb.run(&["check", "--select", "merge-runs,run-cleanup", "--format", "json", "."]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let resolved: Vec<&serde_json::Value> = v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["resolved_by"].as_array().unwrap().is_empty())
        .collect();
    assert!(!resolved.is_empty(), "{}", json.stdout);
    assert_eq!(v["summary"]["fixable"], v["summary"]["findings"].as_u64().unwrap() - 1, "{}", json.stdout);

    // After `fix`, what other fixes made moot is gone: it is not listed as left.
    let fix = sb.run(&["fix", "--select", "merge-runs,run-cleanup", "."]);
    assert_eq!(fix.code, 0, "{}", fix.stderr);
    assert!(!fix.stderr.contains("consecutive RUN"), "{}", fix.stderr);
    assert!(fix.stderr.ends_with(", 1 finding remains (1 with --unsafe)\n"), "{}", fix.stderr);
}

// ---- exit codes ----

/// A finding with no fix (an archive ADD) and nothing `fix` would change.
const UNFIXABLE: &str = "FROM debian:bookworm-slim\nADD rootfs.tar.gz /\n";

#[test]
fn check_exits_1_on_any_finding_and_fail_on_fixable_only_when_fix_would_change_something() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", UNFIXABLE);
    sb.write("rootfs.tar.gz", "");
    let run = sb.run(&["check", "--select", "modernize", "."]);
    assert_eq!(run.code, 1, "a finding, even without a fix, fails by default: {}{}", run.stdout, run.stderr);
    assert_eq!(sb.run(&["check", "--select", "modernize", "--fail-on", "any", "."]).code, 1);
    let run = sb.run(&["check", "--select", "modernize", "--fail-on", "fixable", "."]);
    assert_eq!(run.code, 0, "nothing `fix` would change: {}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("modernize/add-to-copy: ADD of local files"), "the finding is still shown: {}", run.stdout);

    // Fixable only with --unsafe: `fix` (Safe) changes nothing, `fix --unsafe` would.
    sb.write("Dockerfile", "FROM python:3.12\nCMD [\"python\", \"-c\", \"print(1)\"]\n");
    let safe = sb.run(&["check", "--select", "approved-base", "--fail-on", "fixable", "."]);
    assert_eq!(safe.code, 0, "{}{}", safe.stdout, safe.stderr);
    let unsafe_ = sb.run(&["check", "--select", "approved-base", "--fail-on", "fixable", "--unsafe", "."]);
    assert_eq!(unsafe_.code, 1, "{}{}", unsafe_.stdout, unsafe_.stderr);
    assert!(
        unsafe_.stderr.contains("(fixable: 1 with `dockopt fix --unsafe`); `dockopt fix --unsafe` would change 1 Dockerfile"),
        "the summary names the command that removes them: {}",
        unsafe_.stderr
    );
    for format in ["json", "sarif", "github", "markdown"] {
        let run = sb.run(&["check", "--select", "approved-base", "--fail-on", "fixable", "--format", format, "."]);
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
    }

    // Errors exit 2 whatever --fail-on says.
    sb.write("Dockerfile", MALFORMED);
    assert_eq!(sb.run(&["check", "--fail-on", "fixable", "."]).code, 2);
    let usage = sb.run(&["check", "--fail-on", "sometimes", "."]);
    assert_eq!(usage.code, 2, "{}", usage.stderr);
}

#[test]
fn check_help_says_how_unsafe_counts_and_what_the_exit_status_means() {
    let sb = Sandbox::new();
    let help = sb.run(&["check", "--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Also count fixes that could change"), "{}", help.stdout);
    assert!(!help.stdout.contains("Also apply"), "{}", help.stdout);
    assert!(help.stdout.contains("--fail-on <WHEN>"), "{}", help.stdout);
    assert!(help.stdout.contains("1 `check` reported a finding"), "{}", help.stdout);
    let top = sb.run(&["--help"]);
    assert!(top.stdout.contains("1 `check` reported a finding"), "{}", top.stdout);
    let fix = sb.run(&["fix", "--help"]);
    assert!(fix.stdout.contains("Also apply fixes that could change"), "{}", fix.stdout);
}

// ---- paths ----

#[test]
fn a_path_without_dockerfiles_warns_and_a_missing_path_is_an_error_not_a_checked_file() {
    let sb = Sandbox::new();
    sb.write("app/Dockerfile", CLEAN);
    sb.write("docs/readme.txt", "no Dockerfile here\n");
    let run = sb.run(&["check", "app", "docs"]);
    assert_eq!(run.code, 0, "a warning is not a failure: {}", run.stderr);
    assert_eq!(
        run.stderr,
        "warning: docs: no Dockerfile under it\nchecked 1 Dockerfile: no findings\n"
    );

    let run = sb.run(&["check", "app", "nope"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "nope: no such file or directory\nchecked 1 Dockerfile: no findings; 1 error\n"
    );
    let json = sb.run(&["check", "--format", "json", "app", "nope"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["summary"]["files"], 1, "{}", json.stdout);
    assert_eq!(v["files"].as_array().unwrap().len(), 1);
    assert_eq!(v["errors"][0], "nope: no such file or directory");

    let only_empty = sb.run(&["fix", "docs"]);
    assert_eq!(only_empty.code, 0);
    assert_eq!(only_empty.stderr, "warning: docs: no Dockerfile under it\nnothing to fix\n");
    let bases = sb.run(&["bases", "docs"]);
    assert!(bases.stderr.contains("warning: docs: no Dockerfile under it"), "{}", bases.stderr);
}

// ---- extra files ----

fn node_context(sb: &Sandbox, dir: &str) {
    sb.write(
        &format!("{dir}/Dockerfile"),
        "FROM node:20-slim\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nCMD [\"node\", \"src/index.js\"]\n",
    );
    sb.write(&format!("{dir}/package.json"), "{\"name\": \"app\"}\n");
    sb.write(&format!("{dir}/package-lock.json"), "{}\n");
    sb.write(&format!("{dir}/src/index.js"), "console.log(1)\n");
    sb.write(&format!("{dir}/.env"), "SECRET=1\n");
    sb.write(&format!("{dir}/node_modules/x/index.js"), "\n");
}

/// The `.dockerignore` finding says how safe it is like any other, and `check` and `fix` count it
/// the same way; generated files are counted apart from Dockerfiles.
#[test]
fn the_dockerignore_finding_reports_its_applicability_and_counts_agree() {
    let sb = Sandbox::new();
    node_context(&sb, "app");
    let safe = sb.run(&["check", "app"]);
    let line = safe.stdout.lines().find(|l| l.contains(": dockerignore/missing: ")).expect("a dockerignore finding");
    assert!(line.ends_with("(unsafe fix available, use --unsafe)"), "{}", safe.stdout);
    let json = sb.run(&["check", "--format", "json", "app"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let finding = v["files"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["transform"] == "dockerignore")
        .unwrap()
        .clone();
    assert_eq!(finding["applicability"], "unsafe", "{finding}");
    assert_eq!(finding["fix"]["applied"], false);
    let markdown = sb.run(&["check", "--format", "markdown", "app"]);
    assert!(markdown.stdout.contains("- **dockerignore** (line 5, unsafe: needs `--unsafe`)"), "{}", markdown.stdout);

    let check = sb.run(&["check", "--unsafe", "app"]);
    assert!(
        check.stderr.ends_with(
            "checked 1 Dockerfile: 2 findings (fixable: 2 with `dockopt fix --unsafe`); `dockopt fix --unsafe` would change 1 Dockerfile and write 1 .dockerignore\n"
        ),
        "{}",
        check.stderr
    );
    let fix = sb.run(&["fix", "--unsafe", "app"]);
    assert_eq!(fix.code, 0, "{}", fix.stderr);
    assert_eq!(fix.stderr, "fixed 1 Dockerfile and wrote 1 .dockerignore (2 fixes)\n");
    assert!(sb.read("app/.dockerignore").contains("node_modules"));
    let again = sb.run(&["check", "--unsafe", "app"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
}

// ---- editors: stdin ----

/// `fix -` with `--stdin-filename` sees the build context of that file's folder, as `fix FILE`
/// and the language server do; `--context` still overrides it.
#[test]
fn fix_stdin_uses_the_folder_of_stdin_filename_as_the_build_context() {
    let sb = Sandbox::new();
    let source = "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci --omit=dev\nCMD [\"node\", \"server.js\"]\n";
    sb.write("web/Dockerfile", source);
    sb.write("web/package.json", "{\"name\": \"web\"}\n");
    sb.write("web/package-lock.json", "{}\n");
    sb.write("web/server.js", "\n");
    sb.write("web/.dockerignore", "node_modules\n");
    sb.write("elsewhere/readme.txt", "\n");

    let on_disk = sb.run(&["diff", "--select", "manifest-first", "web/Dockerfile"]);
    assert!(on_disk.stdout.contains("+COPY package.json package-lock.json ./"), "{}", on_disk.stdout);
    let expected = {
        let copy = sb.path().join("copy");
        std::fs::create_dir_all(&copy).unwrap();
        for name in ["Dockerfile", "package.json", "package-lock.json", "server.js", ".dockerignore"] {
            std::fs::copy(sb.path().join("web").join(name), copy.join(name)).unwrap();
        }
        assert_eq!(sb.run(&["fix", "--select", "manifest-first", "copy/Dockerfile"]).code, 0);
        sb.read("copy/Dockerfile")
    };

    let run = sb.run_stdin(&["fix", "-", "--select", "manifest-first", "--stdin-filename", "web/Dockerfile"], source);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, expected, "the same text as `fix web/Dockerfile`");
    assert_eq!(run.stderr, "", "stderr stays quiet for editors without --verbose");

    let without = sb.run_stdin(&["fix", "-", "--select", "manifest-first"], source);
    assert_eq!(without.stdout, source, "no file name: no context, nothing proven safe");
    let overridden = sb.run_stdin(
        &["fix", "-", "--select", "manifest-first", "--stdin-filename", "web/Dockerfile", "--context", "elsewhere"],
        source,
    );
    assert_eq!(overridden.stdout, source, "--context says otherwise");
    let new_file = sb.run_stdin(&["fix", "-", "--select", "manifest-first", "--stdin-filename", "unsaved/Dockerfile"], source);
    assert_eq!((new_file.code, new_file.stdout.as_str()), (0, source), "{}", new_file.stderr);
}

#[test]
fn fix_stdin_prints_findings_on_stderr_only_with_verbose() {
    let sb = Sandbox::new();
    sb.write("Dockerfile", UNFIXABLE);
    let quiet = sb.run_stdin(&["fix", "-"], DIRTY);
    assert_eq!((quiet.code, quiet.stdout.as_str(), quiet.stderr.as_str()), (0, FIXED, ""));
    let loud = sb.run_stdin(&["fix", "-", "--verbose", "--select", "modernize"], UNFIXABLE);
    assert_eq!(loud.stdout, UNFIXABLE);
    assert!(loud.stderr.contains("<stdin>:2:1: modernize/add-to-copy: ADD of local files"), "{}", loud.stderr);
    assert!(loud.stderr.ends_with("nothing to fix, 1 finding remains\n"), "{}", loud.stderr);
    let error = sb.run_stdin(&["fix", "-"], MALFORMED);
    assert_eq!(error.code, 2);
    assert!(error.stderr.contains("<stdin>:2:1: "), "errors are always said: {}", error.stderr);
}

/// `bases` reads the same files `check` does: what `check` rejects is an error here too.
#[test]
fn bases_reports_the_files_check_rejects() {
    let sb = Sandbox::new();
    sb.write("a/Dockerfile", "FROM debian:bookworm-slim\n");
    sb.write("b/Dockerfile", "FROM alpine:3.20\n{\"name\": \"app\"}\n");
    let check = sb.run(&["check", "b"]);
    assert_eq!(check.code, 2);
    let bases = sb.run(&["bases", "."]);
    assert_eq!(bases.code, 2, "{}", bases.stderr);
    assert!(
        bases.stderr.starts_with("b/Dockerfile:2:1: unknown instruction: {\"name\":"),
        "{}",
        bases.stderr
    );
    assert!(check.stderr.starts_with("b/Dockerfile:2:1: unknown instruction: {\"name\":"), "{}", check.stderr);
    assert!(bases.stdout.contains("debian:bookworm-slim"), "{}", bases.stdout);
}
