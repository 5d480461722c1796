//! `dockopt verify`: the parts that need no container engine — reading build output, tar streams
//! and package databases, choosing the source edit, comparing file lists, rendering the report —
//! and the CLI's behaviour when no engine can be found. Real builds run in scripts/build_tier.sh.

use std::process::Command;

use dockopt::verify::buildlog::{self, LogSummary};
use dockopt::verify::edit::{self, SourceEdit, NEW_FILE};
use dockopt::verify::engine::{command_of_config, parse_human_size, EngineKind};
use dockopt::verify::files::{self, DirTotal};
use dockopt::verify::packages::{self, Installed, Manager};
use dockopt::verify::report::{
    self, Build, CacheCheck, FileVerdict, Rebuild, Verdict, VerifyReport,
};
use dockopt::verify::run::{judge, ImageRun, Outcome, RunCheck, RunVerdict};
use dockopt::verify::tarfs::{self, Entry, Kind};
use dockopt::verify::waste;
use transforms::matcher::Matcher;

// ---- build output ----

const BUILDAH_OK: &str = "\
STEP 1/6: FROM debian:bookworm
STEP 2/6: RUN apt-get update
--> Using cache 0b7480d769f1c1e9
--> 0b7480d769f
STEP 3/6: WORKDIR /app
--> Using cache 131d760f117aa
--> 131d760f117
STEP 4/6: COPY . .
--> e53b73de545
STEP 5/6: RUN make
--> 303a9fbb8b7
STEP 6/6: CMD [\"app\"]
--> d11cded89a3
Successfully tagged localhost/app:latest
";

#[test]
fn buildah_steps_and_cache() {
    assert_eq!(
        buildlog::summarize(BUILDAH_OK),
        LogSummary {
            steps: 5,
            cached: 2,
            run_steps: 2,
            run_cached: 1,
            failed_step: None
        }
    );
}

#[test]
fn buildah_multi_stage_steps_carry_the_stage() {
    let log = "\
[1/2] STEP 1/3: FROM debian:bookworm AS build
[1/2] STEP 2/3: COPY . .
--> Using cache 0b7480d769f1c1e9
[1/2] STEP 3/3: RUN make
--> 303a9fbb8b7
[2/2] STEP 1/2: FROM debian:bookworm-slim
[2/2] STEP 2/2: COPY --from=build /src/app /usr/local/bin/app
--> d11cded89a3
";
    assert_eq!(buildlog::summarize(log), LogSummary { steps: 3, cached: 1, run_steps: 1, run_cached: 0, failed_step: None });
}

#[test]
fn buildah_failure_names_the_step() {
    let log = "\
STEP 1/3: FROM debian:bookworm
STEP 2/3: RUN apt-get install -y --no-install-recommends gcc
E: Unable to locate package gcc
error building at STEP \"RUN apt-get install -y --no-install-recommends gcc\": error while running runtime: exit status 100
";
    let summary = buildlog::summarize(log);
    assert_eq!(
        summary.failed_step.as_deref(),
        Some("RUN apt-get install -y --no-install-recommends gcc")
    );
    assert_eq!(summary.steps, 1);
    // Newer buildah/podman word it differently.
    let newer = "STEP 2/3: RUN make\nmake: *** No rule\nError: building at STEP \"RUN make\": while running runtime: exit status 2\n";
    assert_eq!(
        buildlog::summarize(newer).failed_step.as_deref(),
        Some("RUN make")
    );
}

#[test]
fn buildah_failure_without_a_quoted_step_falls_back_to_the_last_step() {
    let log = "STEP 1/2: FROM debian:bookworm\nSTEP 2/2: COPY missing.txt .\nError: checking on sources: no such file\n";
    assert_eq!(
        buildlog::summarize(log).failed_step.as_deref(),
        Some("COPY missing.txt .")
    );
}

#[test]
fn buildkit_plain_progress() {
    let log = "\
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#2 [internal] load .dockerignore
#2 DONE 0.0s
#3 [1/4] FROM docker.io/library/debian:bookworm
#3 DONE 0.1s
#4 [2/4] RUN apt-get update
#4 CACHED
#5 [3/4] COPY . .
#5 DONE 0.2s
#6 [4/4] RUN make
#6 0.301 cc -c main.c
#6 0.402 main.c:1: error
#6 ERROR: process \"/bin/sh -c make\" did not complete successfully: exit code: 2
------
 > [4/4] RUN make:
------
ERROR: failed to solve: process \"/bin/sh -c make\" did not complete successfully: exit code: 2
";
    assert_eq!(
        buildlog::summarize(log),
        LogSummary {
            steps: 3,
            cached: 1,
            run_steps: 2,
            run_cached: 1,
            failed_step: Some("RUN make".to_string())
        }
    );
    let staged = "#7 [builder 2/3] RUN go build .\n#7 CACHED\n#8 [stage-1 2/2] COPY --from=builder /app /app\n#8 DONE 0.1s\n";
    assert_eq!(
        buildlog::summarize(staged),
        LogSummary {
            steps: 2,
            cached: 1,
            run_steps: 1,
            run_cached: 1,
            failed_step: None
        }
    );
}

#[test]
fn docker_classic_builder() {
    let log = "\
Step 1/3 : FROM debian:bookworm
 ---> 4685e06cbea1
Step 2/3 : RUN apt-get update
 ---> Using cache
 ---> 0b7480d769f1
Step 3/3 : RUN make
 ---> Running in 1234
The command '/bin/sh -c make' returned a non-zero code: 2
";
    assert_eq!(
        buildlog::summarize(log),
        LogSummary {
            steps: 2,
            cached: 1,
            run_steps: 2,
            run_cached: 1,
            failed_step: Some("RUN make".to_string())
        }
    );
}

#[test]
fn log_tail_keeps_the_last_non_empty_lines() {
    let log: String = (1..=40).map(|i| format!("line {i}\n\n")).collect();
    let tail = buildlog::tail(&log);
    assert_eq!(tail.len(), buildlog::LOG_TAIL_LINES);
    assert_eq!(tail.last().map(String::as_str), Some("line 40"));
}

// ---- tar streams ----

/// A minimal tar writer for the tests: ustar headers with valid checksums.
struct TarBuilder(Vec<u8>);

impl TarBuilder {
    fn new() -> Self {
        TarBuilder(Vec::new())
    }

    fn header(&mut self, name: &str, typeflag: u8, size: usize, prefix: &str) {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[108..115].copy_from_slice(b"0000000");
        h[116..123].copy_from_slice(b"0000000");
        let size_field = format!("{size:011o}");
        h[124..135].copy_from_slice(size_field.as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = typeflag;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        let checksum = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(checksum.as_bytes());
        self.0.extend_from_slice(&h);
    }

    fn content(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
        let pad = (512 - bytes.len() % 512) % 512;
        self.0.extend(std::iter::repeat_n(0u8, pad));
    }

    fn file(&mut self, name: &str, bytes: &[u8]) -> &mut Self {
        self.header(name, b'0', bytes.len(), "");
        self.content(bytes);
        self
    }

    fn dir(&mut self, name: &str) -> &mut Self {
        self.header(name, b'5', 0, "");
        self
    }

    fn symlink(&mut self, name: &str) -> &mut Self {
        self.header(name, b'2', 0, "");
        self
    }

    fn gnu_long_name(&mut self, long: &str, bytes: &[u8]) -> &mut Self {
        let mut name = long.as_bytes().to_vec();
        name.push(0);
        self.header("././@LongLink", b'L', name.len(), "");
        self.content(&name);
        self.file("truncated-name", bytes)
    }

    fn pax_path(&mut self, path: &str, bytes: &[u8]) -> &mut Self {
        let body = format!("path={path}\n");
        // The length field counts itself.
        let mut len = body.len() + 2;
        while format!("{len} {body}").len() != len {
            len += 1;
        }
        let record = format!("{len} {body}");
        self.header("PaxHeader", b'x', record.len(), "");
        self.content(record.as_bytes());
        self.file("short", bytes)
    }

    fn prefixed(&mut self, prefix: &str, name: &str, bytes: &[u8]) -> &mut Self {
        self.header(name, b'0', bytes.len(), prefix);
        self.content(bytes);
        self
    }

    fn finish(&mut self) -> Vec<u8> {
        self.0.extend(std::iter::repeat_n(0u8, 1024));
        std::mem::take(&mut self.0)
    }
}

const DPKG_STATUS: &str = "\
Package: bash
Status: install ok installed
Version: 5.2.15-2+b2

Package: gcc-12
Status: install ok installed
Version: 12.2.0-14

Package: removed-one
Status: deinstall ok config-files
Version: 1.0
";

#[test]
fn tar_listing_with_long_names_and_package_database() {
    let long = format!("usr/share/doc/{}/copyright", "x".repeat(120));
    let archive = TarBuilder::new()
        .dir("./")
        .dir("./usr/")
        .file("./usr/bin/app", &[1u8; 700])
        .symlink("./usr/bin/sh")
        .file("./var/lib/dpkg/status", DPKG_STATUS.as_bytes())
        .gnu_long_name(&long, b"copyright text")
        .pax_path("opt/pax/named/file.txt", b"pax")
        .prefixed("usr/lib/very/deep", "lib.so", &[0u8; 10])
        .finish();
    let listing = tarfs::read(&archive[..]).unwrap();
    let paths: Vec<(&str, Kind, u64)> = listing
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e.kind, e.size))
        .collect();
    assert_eq!(
        paths,
        [
            ("usr", Kind::Dir, 0),
            ("usr/bin/app", Kind::File, 700),
            ("usr/bin/sh", Kind::Symlink, 0),
            ("var/lib/dpkg/status", Kind::File, DPKG_STATUS.len() as u64),
            (long.as_str(), Kind::File, 14),
            ("opt/pax/named/file.txt", Kind::File, 3),
            ("usr/lib/very/deep/lib.so", Kind::File, 10),
        ]
    );
    assert_eq!(listing.databases.len(), 1);
    let installed = packages::from_listing(&listing);
    assert_eq!(installed.manager, Some(Manager::Dpkg));
    assert_eq!(
        installed.names.iter().collect::<Vec<_>>(),
        ["bash", "gcc-12"]
    );
}

#[test]
fn truncated_tar_is_an_error_not_a_panic() {
    let archive = TarBuilder::new().file("a", &[7u8; 2000]).finish();
    assert!(tarfs::read(&archive[..600]).is_err());
    assert!(tarfs::read(&archive[..100]).is_err());
    assert!(tarfs::read(&[][..]).unwrap().entries.is_empty());
}

#[test]
fn normalize_paths() {
    assert_eq!(tarfs::normalize("./usr/bin/"), "usr/bin");
    assert_eq!(tarfs::normalize("/etc/passwd"), "etc/passwd");
    assert_eq!(tarfs::normalize("./"), "");
    assert_eq!(tarfs::normalize("."), "");
}

// ---- packages ----

#[test]
fn package_databases() {
    assert_eq!(packages::dpkg_status(DPKG_STATUS), ["bash", "gcc-12"]);
    // distroless: one stanza per file, no Status field.
    assert_eq!(
        packages::dpkg_status("Package: libc6\nVersion: 2.36\n"),
        ["libc6"]
    );
    assert_eq!(
        packages::apk_installed("C:Q1abc\nP:musl\nV:1.2.4\n\nC:Q1def\nP:busybox\nV:1.36\n"),
        ["musl", "busybox"]
    );
    assert_eq!(packages::rpm_names("bash\nglibc\n\n"), ["bash", "glibc"]);
}

#[test]
fn package_diff_lists_removed_and_added() {
    let set = |names: &[&str]| Installed {
        manager: Some(Manager::Dpkg),
        names: names.iter().map(|s| s.to_string()).collect(),
    };
    let diff = packages::diff(
        &set(&["bash", "gcc-12", "make", "python3"]),
        &set(&["bash", "python3", "tini"]),
    );
    assert_eq!(diff.before, 4);
    assert_eq!(diff.after, 3);
    assert_eq!(diff.removed, ["gcc-12", "make"]);
    assert_eq!(diff.added, ["tini"]);
}

// ---- files ----

fn entry(path: &str, size: u64) -> Entry {
    Entry {
        path: path.to_string(),
        kind: Kind::File,
        size,
    }
}

#[test]
fn file_diff_by_top_directories() {
    let before = vec![
        entry("usr/bin/python3", 10),
        entry("usr/bin/gcc", 1_000),
        entry("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 30_000),
        entry("usr/share/doc/gcc/copyright", 50),
        entry("app.py", 5),
        Entry {
            path: "usr/lib/gcc".to_string(),
            kind: Kind::Dir,
            size: 0,
        },
    ];
    let after = vec![
        entry("usr/bin/python3", 10),
        entry("app.py", 6),
        entry("etc/dpkg/dpkg.cfg.d/docker", 300),
    ];
    let diff = files::diff(&before, &after);
    assert_eq!(diff.only_before.files, 3);
    assert_eq!(diff.only_before.bytes, 31_050);
    assert_eq!(
        diff.only_before.top,
        [
            DirTotal {
                dir: "/usr/lib/gcc".into(),
                files: 1,
                bytes: 30_000
            },
            DirTotal {
                dir: "/usr/bin".into(),
                files: 1,
                bytes: 1_000
            },
            DirTotal {
                dir: "/usr/share/doc".into(),
                files: 1,
                bytes: 50
            },
        ]
    );
    assert_eq!(diff.only_after.files, 1);
    assert_eq!(diff.only_after.top[0].dir, "/etc/dpkg/dpkg.cfg.d");
    assert_eq!(diff.changed, 1);
    assert_eq!(files::group("app.py"), "/");
    assert_eq!(files::group("usr/bin/gcc"), "/usr/bin");
}

// ---- the source edit of the cache check ----

fn choose(dockerfile: &str, files: &[&str], dockerignore: Option<&str>) -> SourceEdit {
    let sources = transforms::final_copy_sources(dockerfile).unwrap();
    let listing: Vec<String> = files.iter().map(|s| s.to_string()).collect();
    let ignores: Vec<Matcher> = dockerignore
        .map(|text| Matcher::from_dockerignore(text).unwrap())
        .into_iter()
        .collect();
    edit::choose(&sources, &listing, &ignores, |_| None, "run 1")
}

#[test]
fn edit_picks_code_the_final_copy_copies() {
    let dockerfile = "FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n";
    let files = [
        "Dockerfile",
        "README.md",
        "app.py",
        "lib/",
        "lib/util.py",
        "requirements.txt",
    ];
    assert_eq!(
        choose(dockerfile, &files, None),
        SourceEdit {
            path: "app.py".to_string(),
            line: "# dockopt verify: a one-line change to measure the build cache (run 1)"
                .to_string(),
            new_file: false,
        }
    );
    // Left out of the context by .dockerignore: the next candidate.
    assert_eq!(
        choose(dockerfile, &files, Some("app.py\n")).path,
        "lib/util.py"
    );
}

#[test]
fn edit_follows_the_final_copy_sources_and_comment_syntax() {
    let dockerfile = "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY [\"src/\", \"./src/\"]\n";
    let files = [
        "index.js",
        "package.json",
        "src/",
        "src/server.js",
        "src/style.css",
    ];
    let chosen = choose(dockerfile, &files, None);
    assert_eq!(chosen.path, "src/server.js");
    assert_eq!(
        chosen.apply(Some("module.exports = 1;")),
        "module.exports = 1;\n// dockopt verify: a one-line change to measure the build cache (run 1)\n"
    );
    let css = choose(
        "FROM nginx\nCOPY *.css /usr/share/nginx/html/\n",
        &["a.css", "b.txt"],
        None,
    );
    assert_eq!(
        css.line,
        "/* dockopt verify: a one-line change to measure the build cache (run 1) */"
    );
}

#[test]
fn edit_makes_a_new_file_when_nothing_copied_takes_a_comment() {
    // Only manifests and data are copied last: a new file in the copied folder.
    let dockerfile = "FROM alpine\nCOPY data/ /data/\n";
    let chosen = choose(dockerfile, &["data/", "data/table.json"], None);
    assert_eq!(chosen.path, format!("data/{NEW_FILE}"));
    assert!(chosen.new_file);
    assert_eq!(
        chosen.apply(None),
        "dockopt verify: a one-line change to measure the build cache (run 1)\n"
    );
    // No COPY at all: at the context root.
    assert_eq!(
        choose("FROM alpine\nRUN true\n", &["x.py"], None).path,
        NEW_FILE
    );
    // A COPY from another stage is not the one that copies sources.
    let staged = "FROM golang AS build\nCOPY . .\nRUN go build\nFROM alpine\nCOPY main.go /x\nCOPY --from=build /app /app\n";
    assert_eq!(choose(staged, &["main.go", "go.mod"], None).path, "main.go");
}

#[test]
fn appended_comment_keeps_line_endings() {
    let edit = SourceEdit {
        path: "a.rb".into(),
        line: "# x".into(),
        new_file: false,
    };
    assert_eq!(edit.apply(Some("puts 1\r\n")), "puts 1\r\n# x\r\n");
    assert_eq!(edit.apply(Some("")), "# x\n");
    assert_eq!(edit.apply(Some("puts 1")), "puts 1\n# x\n");
}

// ---- engine helpers ----

#[test]
fn human_sizes() {
    assert_eq!(parse_human_size("682 MB"), Some(682_000_000));
    assert_eq!(parse_human_size("1.21 GB"), Some(1_210_000_000));
    assert_eq!(parse_human_size("512 kB"), Some(512_000));
    assert_eq!(parse_human_size("900 B"), Some(900));
    assert_eq!(parse_human_size("lots"), None);
}

// ---- reports ----

fn build(ok: bool, size: u64, layers: usize, failed_step: Option<&str>) -> Build {
    Build {
        ok,
        seconds: 12.34,
        size: ok.then_some(size),
        layers: ok.then_some(layers),
        log: LogSummary {
            steps: 8,
            cached: 0,
            run_steps: 4,
            run_cached: 0,
            failed_step: failed_step.map(str::to_string),
        },
        log_tail: if ok {
            vec![]
        } else {
            vec!["E: Unable to locate package gcc".to_string()]
        },
        log_file: None,
    }
}

fn sample_report() -> VerifyReport {
    let verified = FileVerdict {
        path: "apps/web/Dockerfile".into(),
        verdict: Verdict::Verified,
        message: "both build; the image goes from 682.5 MB to 185.3 MB (−72.9%), 2 packages fewer"
            .into(),
        transforms: vec!["run-cleanup".into(), "approved-base".into()],
        before: Some(build(true, 682_465_776, 7, None)),
        after: Some(build(true, 185_300_000, 4, None)),
        packages: Some(packages::PackageDiff {
            manager: Some(Manager::Dpkg),
            before: 251,
            after: 249,
            removed: vec!["gcc-12".into(), "make".into()],
            added: vec![],
        }),
        files: Some(files::diff(
            &[entry("usr/lib/gcc/cc1", 30_000_000), entry("app.py", 5)],
            &[entry("app.py", 5)],
        )),
        cache: Some(CacheCheck {
            edit: SourceEdit {
                path: "app.py".into(),
                line: "# x".into(),
                new_file: false,
            },
            before: Some(Rebuild {
                ok: true,
                seconds: 15.0,
                steps: 12,
                cached: 6,
                run_steps: 4,
                run_cached: 2,
            }),
            after: Some(Rebuild {
                ok: true,
                seconds: 2.0,
                steps: 9,
                cached: 8,
                run_steps: 3,
                run_cached: 3,
            }),
        }),
        waste: Some(sample_waste()),
        run: Some(RunCheck::new(
            5,
            image_run(Outcome::StillRunning, "Serving on :8000\n"),
            image_run(Outcome::StillRunning, "Serving on :8000\n"),
        )),
        notes: vec![],
        kept: None,
    };
    let unsafe_one = FileVerdict {
        path: "apps/c/Dockerfile".into(),
        verdict: Verdict::Unsafe,
        message: "the original builds but the rewrite fails at `RUN make`: the rewrite is unsafe"
            .into(),
        transforms: vec!["run-cleanup".into()],
        before: Some(build(true, 500_000_000, 5, None)),
        after: Some(build(false, 0, 0, Some("RUN make"))),
        packages: None,
        files: None,
        cache: None,
        waste: None,
        run: None,
        notes: vec![],
        kept: None,
    };
    VerifyReport {
        schema_version: 1,
        engine: EngineKind::Podman,
        engine_version: "podman 4.3.1".into(),
        files: vec![verified, unsafe_one],
        work_folder: None,
    }
}

#[test]
fn text_report() {
    let text = report::text(&sample_report());
    for expected in [
        "apps/web/Dockerfile: verified — both build",
        "  image       682.5 MB, 7 layers → 185.3 MB, 4 layers (−72.8%)",
        "  packages    dpkg: 251 → 249 (2 removed, 0 added)",
        "              removed: gcc-12, make",
        "  files       only in the original: 1 file, 30.0 MB",
        "                /usr/lib/gcc",
        "  cache       after editing app.py (a comment line appended): original 6 of 12 steps cached, 2 RUN re-run (rebuilt in 15.0 s) · rewrite 8 of 9 steps cached, 0 RUN re-run (rebuilt in 2.0 s)",
        "apps/c/Dockerfile: UNSAFE — the original builds but the rewrite fails at `RUN make`",
        "  build       original ok in 12.3 s · rewrite FAILED at `RUN make` after 12.3 s",
        "    | E: Unable to locate package gcc",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert_eq!(
        sample_report().summary_line(),
        "verify: 2 Dockerfiles (1 verified, 1 unsafe); images 682.5 MB → 185.3 MB (−72.8%)"
    );
}

#[test]
fn markdown_report() {
    let markdown = report::markdown(&sample_report());
    for expected in [
        "## dockopt verify",
        "| `apps/web/Dockerfile` | ✅ both build | 682.5 MB → 185.3 MB (−72.8%) | 7 → 4 | 251 → 249 | 6/12 → 8/9 |",
        "| `apps/c/Dockerfile` | ❌ the rewrite fails |",
        "Both build; the image goes from 682.5 MB to 185.3 MB (−72.9%), 2 packages fewer.",
        "- **2 packages removed:** gcc-12, make",
        "- **Files only in the original:** 1 file, 30.0 MB — `/usr/lib/gcc` (1, 30.0 MB)",
        "<details><summary>Build log of the rewrite (failed at `RUN make`)</summary>",
        "E: Unable to locate package gcc",
    ] {
        assert!(markdown.contains(expected), "missing {expected:?} in:\n{markdown}");
    }
}

#[test]
fn json_report_shape() {
    let value = serde_json::to_value(sample_report()).unwrap();
    assert_eq!(value["engine"], "podman");
    assert_eq!(value["files"][0]["verdict"], "verified");
    assert_eq!(value["files"][0]["before"]["size"], 682_465_776u64);
    assert_eq!(value["files"][0]["before"]["steps"], 8);
    assert_eq!(value["files"][0]["packages"]["removed"][0], "gcc-12");
    assert_eq!(value["files"][0]["cache"]["after"]["cached"], 8);
    assert_eq!(value["files"][1]["verdict"], "unsafe");
    assert_eq!(value["files"][1]["after"]["failed_step"], "RUN make");
}

// ---- running the images' own command ----

fn image_run(outcome: Outcome, log: &str) -> ImageRun {
    ImageRun {
        outcome,
        command: vec!["python3".into(), "app.py".into()],
        seconds: 0.42,
        log: log.into(),
    }
}

#[test]
fn run_outcomes_are_judged_against_the_original() {
    let ok = Outcome::Exited { code: 0 };
    let up = Outcome::StillRunning;
    let fails = Outcome::Exited { code: 1 };
    let none = Outcome::NothingToRun;
    let not_run = Outcome::NotRun { reason: "buildah cannot run".into() };
    // The original works (exit 0 or still up at the timeout): the rewrite must too.
    for original in [&ok, &up] {
        assert_eq!(judge(original, &ok), RunVerdict::Works);
        assert_eq!(judge(original, &up), RunVerdict::Works);
        assert_eq!(judge(original, &fails), RunVerdict::Broken);
        assert_eq!(judge(original, &Outcome::Exited { code: 137 }), RunVerdict::Broken);
        // A rewrite that lost its command is broken too.
        assert_eq!(judge(original, &none), RunVerdict::Broken);
        assert_eq!(judge(original, &not_run), RunVerdict::NotRun);
    }
    // An original that fails by itself (it needs the network, a database…) proves nothing.
    assert_eq!(judge(&fails, &fails), RunVerdict::OriginalFails);
    assert_eq!(judge(&fails, &ok), RunVerdict::OriginalFails);
    assert_eq!(judge(&none, &none), RunVerdict::NothingToRun);
    assert_eq!(judge(&not_run, &ok), RunVerdict::NotRun);
}

#[test]
fn image_command_is_entrypoint_then_cmd() {
    assert_eq!(
        command_of_config(r#"{"Entrypoint":["/docker-entrypoint.sh"],"Cmd":["nginx","-g","daemon off;"]}"#).unwrap(),
        ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]
    );
    assert_eq!(command_of_config(r#"{"Entrypoint":null,"Cmd":["bash"]}"#).unwrap(), ["bash"]);
    assert!(command_of_config(r#"{"Env":["PATH=/usr/bin"]}"#).unwrap().is_empty());
    assert!(command_of_config("not json").is_err());
}

fn broken_run_report() -> VerifyReport {
    let mut report = sample_report();
    report.files.truncate(1);
    let original_log = "loaded config.yaml\n".repeat(30) + "ready\n";
    let check = RunCheck::new(
        5,
        image_run(Outcome::StillRunning, &original_log),
        image_run(Outcome::Exited { code: 1 }, "open config.yaml: no such file or directory\n"),
    );
    let file = &mut report.files[0];
    file.verdict = Verdict::Unsafe;
    file.message = check.broken_message();
    file.run = Some(check);
    report
}

#[test]
fn a_rewrite_whose_command_fails_is_unsafe_with_both_logs() {
    let report = broken_run_report();
    assert_eq!(
        report.files[0].message,
        "both build, but the rewrite's `python3 app.py` exits 1 where the original's stays up \
         (run without network for up to 5 s): the rewrite is unsafe"
    );
    let plan = dockopt::artifacts::Plan::default();
    assert_eq!(dockopt::verify::exit_code(&report, &plan), 1);
    let text = report::text(&report);
    for expected in [
        "  run         `python3 app.py` (no network, up to 5 s): original still running after 5 s (stopped) · rewrite exited 1 in 0.4 s",
        "  run log of the original (end):\n    | loaded config.yaml",
        "    | ready\n  run log of the rewrite (end):\n    | open config.yaml: no such file or directory",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // Text shows the end of a long log, JSON all of it.
    assert_eq!(text.matches("| loaded config.yaml").count(), buildlog::tail(&"x\n".repeat(100)).len() - 1);
    let markdown = report::markdown(&report);
    for expected in [
        "- **Run:** `python3 app.py` (no network, up to 5 s): original still running after 5 s (stopped) · rewrite exited 1 in 0.4 s",
        "<details><summary>Output of the original's run (still running after 5 s (stopped))</summary>",
        "<details><summary>Output of the rewrite's run (exited 1 in 0.4 s)</summary>\n\n```text\nopen config.yaml: no such file or directory\n```",
    ] {
        assert!(markdown.contains(expected), "missing {expected:?} in:\n{markdown}");
    }
    let value = serde_json::to_value(&report).unwrap();
    let run = &value["files"][0]["run"];
    assert_eq!(run["verdict"], "broken");
    assert_eq!(run["timeout_seconds"], 5);
    assert_eq!(run["before"]["outcome"], "still-running");
    assert_eq!(run["after"]["outcome"], "exited");
    assert_eq!(run["after"]["code"], 1);
    assert_eq!(run["before"]["log"].as_str().unwrap().matches("loaded config.yaml").count(), 30);
}

#[test]
fn an_original_that_fails_to_run_is_reported_not_blamed() {
    let mut report = sample_report();
    report.files.truncate(1);
    report.files[0].run = Some(RunCheck::new(
        5,
        image_run(Outcome::Exited { code: 2 }, "could not connect to db:5432\n"),
        image_run(Outcome::Exited { code: 2 }, "could not connect to db:5432\n"),
    ));
    assert_eq!(dockopt::verify::exit_code(&report, &dockopt::artifacts::Plan::default()), 0);
    let text = report::text(&report);
    assert!(text.contains("original exited 2 in 0.4 s · rewrite exited 2 in 0.4 s"), "{text}");
    assert!(text.contains("  run log of the original (end):\n    | could not connect to db:5432\n"), "{text}");
    assert!(!text.contains("run log of the rewrite"), "{text}");
    report.files[0].run = Some(RunCheck::new(5, image_run(Outcome::NothingToRun, ""), ImageRun::not_run("the original has nothing to run")));
    assert!(report::text(&report).contains("  run         nothing to run: the original has no ENTRYPOINT or CMD\n"));
}

#[test]
fn exit_codes() {
    let plan = dockopt::artifacts::Plan::default();
    let mut report = sample_report();
    assert_eq!(dockopt::verify::exit_code(&report, &plan), 1);
    report.files[1].verdict = Verdict::Verified;
    assert_eq!(dockopt::verify::exit_code(&report, &plan), 0);
    report.files[1].verdict = Verdict::OriginalFails;
    assert_eq!(dockopt::verify::exit_code(&report, &plan), 2);
}

// ---- the CLI without an engine ----

#[test]
fn no_engine_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM debian:bookworm\nMAINTAINER a@b.c\n",
    )
    .unwrap();
    let empty_path = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_dockopt"))
        .args(["verify"])
        .arg(dir.path())
        .env("PATH", empty_path.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no container engine found (tried docker, podman, buildah)"),
        "{stderr}"
    );
    assert!(stderr.contains("docker: not found on PATH"), "{stderr}");
    assert!(stderr.contains("install Docker"), "{stderr}");
    assert!(output.stdout.is_empty());

    let chosen = Command::new(env!("CARGO_BIN_EXE_dockopt"))
        .args(["verify", "--engine", "buildah"])
        .arg(dir.path())
        .env("PATH", empty_path.path())
        .output()
        .unwrap();
    assert_eq!(chosen.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&chosen.stderr)
        .contains("the container engine `buildah` cannot be used"));
}

#[test]
fn stdin_cannot_be_verified() {
    let output = Command::new(env!("CARGO_BIN_EXE_dockopt"))
        .args(["verify", "-"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("stdin (`-`) cannot be verified"));
}

#[test]
fn long_steps_are_shortened_in_sentences() {
    assert_eq!(report::short_step("RUN a &&     b"), "RUN a && b");
    let long = format!("RUN {}", "x ".repeat(60));
    let short = report::short_step(&long);
    assert_eq!(short.chars().count(), 81);
    assert!(short.ends_with('…'));
}

// ---- wasted bytes ----

/// `COPY . /app` then `RUN chown -R app /app` (the original), and `COPY --chown` (the rewrite), as
/// an engine's image archive: manifest.json, the config with its history, one tar per layer.
fn image_archive(chown_layer: bool) -> Vec<u8> {
    let base = TarBuilder::new().dir("etc").file("etc/os-release", &[b'x'; 100]).finish();
    let copy = TarBuilder::new().dir("app").file("app/app.py", &[b'a'; 3000]).file("app/data.bin", &[b'd'; 7000]).finish();
    let mut layers = vec![("base.tar", base), ("copy.tar", copy)];
    let mut history = vec![
        r#"{"created_by":"/bin/sh -c #(nop) ADD file:abc in / "}"#.to_string(),
        r#"{"created_by":"/bin/sh -c #(nop) CMD [\"bash\"]","empty_layer":true}"#.to_string(),
        r#"{"created_by":"COPY . /app # buildkit"}"#.to_string(),
    ];
    if chown_layer {
        let chown = TarBuilder::new().dir("app").file("app/app.py", &[b'a'; 3000]).file("app/data.bin", &[b'd'; 7000]).finish();
        layers.push(("chown.tar", chown));
        history.push(r#"{"created_by":"RUN /bin/sh -c chown -R app /app # buildkit"}"#.to_string());
    }
    let names: Vec<String> = layers.iter().map(|(n, _)| format!("\"{n}\"")).collect();
    let manifest = format!(r#"[{{"Config":"config.json","RepoTags":["x:latest"],"Layers":[{}]}}]"#, names.join(","));
    let config = format!(r#"{{"architecture":"amd64","history":[{}]}}"#, history.join(","));
    let mut outer = TarBuilder::new();
    for (name, bytes) in &layers {
        outer.file(name, bytes);
    }
    outer.file("config.json", config.as_bytes()).file("manifest.json", manifest.as_bytes());
    outer.finish()
}

fn sample_waste() -> report::WasteComparison {
    let measure = |chown: bool, dockerfile: &str| {
        let layers = waste::read_archive(std::io::Cursor::new(image_archive(chown))).unwrap();
        let mut measured = waste::analyze(&layers);
        let file = transforms::parse_strict(dockerfile).unwrap();
        let instructions: Vec<(String, usize)> = file.instructions.iter().map(|i| (i.keyword.as_str().to_string(), i.start_line)).collect();
        waste::attribute(&mut measured, &instructions);
        measured
    };
    report::WasteComparison {
        before: measure(true, "FROM debian\nRUN useradd app\nCOPY . /app\nRUN chown -R app /app\nCMD [\"app\"]\n"),
        after: measure(false, "FROM debian\nRUN useradd app\nCOPY --chown=app:0 . /app\nCMD [\"app\"]\n"),
    }
}

#[test]
fn image_archives_give_the_efficiency_and_who_wasted() {
    let waste = sample_waste();
    // 100 + 10 000 + 10 000 bytes, of which the COPY's 10 000 are hidden by the chown's copies.
    assert_eq!(waste.before.total_bytes, 20_100);
    assert_eq!(waste.before.wasted_bytes, 10_000);
    assert!((waste.before.efficiency - 10_100.0 / 20_100.0).abs() < 1e-9);
    let copy = &waste.before.layers[1];
    assert_eq!((copy.line, copy.wasted_bytes), (Some(3), 10_000));
    assert_eq!(copy.hidden_by[0].layer, 2);
    assert_eq!(waste.before.layers[2].line, Some(4));
    assert_eq!(waste.before.layers[2].instruction, "RUN chown -R app /app");
    assert_eq!(waste.before.paths[0].path, "app/data.bin");
    assert_eq!((waste.after.efficiency, waste.after.wasted_bytes), (1.0, 0));
}

#[test]
fn waste_in_the_reports_and_min_efficiency() {
    let report = sample_report();
    let text = report::text(&report);
    for expected in ["  efficiency  50.2% (10.0 kB wasted) → 100.0% (0 B wasted)", "    original  10.0 kB in line 3 `COPY . /app`, hidden by line 4 `RUN chown -R app /app`"] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    let markdown = report::markdown(&report);
    assert!(markdown.contains("- **Efficiency** (dive's score): 50.2% (10.0 kB wasted) → 100.0% (0 B wasted)"), "{markdown}");
    let value = serde_json::to_value(&report).unwrap();
    assert_eq!(value["files"][0]["waste"]["before"]["wasted_bytes"], 10_000);
    assert_eq!(value["files"][0]["waste"]["before"]["paths"][0]["copies"][1]["layer"], 2);
    assert!(dockopt::verify::below_efficiency(&report, Some(0.95)).is_empty());
    let mut worse = sample_report();
    let waste = worse.files[0].waste.as_mut().unwrap();
    waste.after = waste.before.clone();
    let below = dockopt::verify::below_efficiency(&worse, Some(0.95));
    assert_eq!(below.len(), 1);
    assert_eq!(below[0].0, "apps/web/Dockerfile");
    assert!(dockopt::verify::below_efficiency(&worse, None).is_empty());
}

#[test]
fn min_efficiency_is_a_ratio() {
    let output = Command::new(env!("CARGO_BIN_EXE_dockopt")).args(["verify", "--min-efficiency", "95", "."]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a number from 0 to 1"), "{}", String::from_utf8_lossy(&output.stderr));
}

// ---- with a real engine: root, podman and the local base images of scripts/make_base_images.sh
// (`DOCKOPT_ENGINE_DIR` names their folder; without it this test says why it skips) ----

/// The engine's environment (`make_base_images.sh --env`), or why the engine test cannot run here.
fn engine_env() -> Result<Vec<(String, String)>, String> {
    let dir = std::env::var("DOCKOPT_ENGINE_DIR").map_err(|_| "DOCKOPT_ENGINE_DIR is not set".to_string())?;
    let uid = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if !uid.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0")) {
        return Err("not root".into());
    }
    let dir = std::path::Path::new(&dir);
    if !dir.join("storage.conf").is_file() || Command::new("podman").arg("--version").output().is_err() {
        return Err("no podman engine set up there (scripts/make_base_images.sh)".into());
    }
    Ok(vec![
        ("CONTAINERS_STORAGE_CONF".into(), dir.join("storage.conf").display().to_string()),
        ("CONTAINERS_CONF".into(), dir.join("containers.conf").display().to_string()),
        ("TMPDIR".into(), dir.join("tmp").display().to_string()),
    ])
}

#[test]
fn verify_runs_each_images_own_command() {
    let env = match engine_env() {
        Ok(env) => env,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let root = tempfile::tempdir().unwrap();
    // Each rewrite swaps to debian:bookworm-slim (which has no /usr/share/doc/*/README*): only the
    // app that reads such a file at start-up breaks.
    let apps = [
        ("exits-0", r#"CMD ["sh", "-c", "echo hello"]"#),
        ("stays-up", r#"CMD ["sleep", "60"]"#),
        ("original-fails", r#"CMD ["sh", "-c", "echo cannot reach db:5432 >&2; exit 3"]"#),
        ("reads-docs", r#"CMD ["sh", "/start.sh"]"#),
    ];
    let mut dirs = Vec::new();
    for (name, cmd) in apps {
        let dir = root.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("start.sh"), "set -e\ngzip -dc /usr/share/doc/bash/README.gz >/tmp/readme\nhead -n 1 /tmp/readme\n").unwrap();
        std::fs::write(
            dir.join("Dockerfile"),
            format!("FROM debian:bookworm\nMAINTAINER dev@example.com\nCOPY start.sh /start.sh\n{cmd}\n"),
        )
        .unwrap();
        dirs.push(dir);
    }
    let output = Command::new(env!("CARGO_BIN_EXE_dockopt"))
        .args(["verify", "--unsafe", "--engine", "podman", "--format", "json", "--skip-cache-check"])
        .args(["--run-timeout", "3", "--engine-arg=--pull=never"])
        .args(&dirs)
        .envs(env)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(output.status.code(), Some(1), "{report:#}\n{stderr}");
    let runs: Vec<(String, String, String, String)> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let run = &f["run"];
            (
                f["verdict"].as_str().unwrap_or("?").to_string(),
                run["verdict"].as_str().unwrap_or("?").to_string(),
                run["before"]["outcome"].as_str().unwrap_or("?").to_string(),
                run["after"]["outcome"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect();
    // In the order of the paths: exits-0, original-fails, reads-docs, stays-up.
    let expected = [
        ("verified", "works", "exited", "exited"),
        ("verified", "original-fails", "exited", "exited"),
        ("unsafe", "broken", "exited", "exited"),
        ("verified", "works", "still-running", "still-running"),
    ];
    for (run, want) in runs.iter().zip(expected) {
        assert_eq!((run.0.as_str(), run.1.as_str(), run.2.as_str(), run.3.as_str()), want, "{report:#}");
    }
    let broken = &report["files"][2]["run"];
    assert_eq!(broken["before"]["code"], 0);
    assert!(broken["before"]["log"].as_str().unwrap().contains("Introduction"), "{broken:#}");
    assert_ne!(broken["after"]["code"], 0);
    assert_eq!(report["files"][0]["run"]["before"]["log"], "hello\n");
    assert_eq!(report["files"][1]["run"]["after"]["code"], 3);
}
