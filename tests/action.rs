//! The GitHub Action (`action.yml`): its bash steps run here as a runner would run them (`bash
//! --noprofile --norc -eo pipefail`), with the runner's files (`GITHUB_OUTPUT`,
//! `GITHUB_STEP_SUMMARY`) in a temp dir and the built dockopt on PATH behind a shim that counts
//! its runs. The `uses:` steps (cache, SARIF upload) are GitHub's own and are not run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const ACTION: &str = include_str!("../action.yml");

/// The `run: |` block of the step named `name`, dedented.
fn step_script(name: &str) -> String {
    let mut lines = ACTION.lines().skip_while(|l| l.trim() != format!("- name: {name}"));
    assert!(lines.next().is_some(), "action.yml has a step named `{name}`");
    let mut lines = lines.skip_while(|l| l.trim() != "run: |");
    let run = lines.next().expect("the step has a `run: |` block");
    let indent = run.len() - run.trim_start().len() + 2;
    let mut script = String::new();
    for line in lines {
        if !line.trim().is_empty() && line.len() - line.trim_start().len() < indent {
            break;
        }
        script.push_str(line.get(indent..).unwrap_or(""));
        script.push('\n');
    }
    assert!(!script.contains("${{"), "steps read inputs through env, never by expansion in the script");
    script
}

struct Runner {
    dir: tempfile::TempDir,
}

struct Step {
    code: i32,
    stdout: String,
    outputs: BTreeMap<String, String>,
    summary: String,
    /// How many times dockopt ran.
    runs: usize,
}

impl Runner {
    fn new() -> Runner {
        let runner = Runner { dir: tempfile::tempdir().unwrap() };
        let bin = runner.path("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(runner.path("work")).unwrap();
        let shim = bin.join("dockopt");
        std::fs::write(
            &shim,
            format!(
                "#!/bin/sh\necho run >> \"{}\"\nexec \"{}\" \"$@\"\n",
                runner.path("runs").display(),
                env!("CARGO_BIN_EXE_dockopt")
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
        runner
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path("work").join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn run(&self, step: &str, env: &[(&str, &str)]) -> Step {
        for file in ["output", "summary", "runs"] {
            std::fs::write(self.path(file), "").unwrap();
        }
        let path = format!("{}:{}", self.path("bin").display(), std::env::var("PATH").unwrap_or_default());
        let output = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &step_script(step)])
            .current_dir(self.path("work"))
            .env("PATH", path)
            .env("GITHUB_OUTPUT", self.path("output"))
            .env("GITHUB_STEP_SUMMARY", self.path("summary"))
            .env("GITHUB_ACTION_PATH", Path::new(env!("CARGO_MANIFEST_DIR")))
            .env("RUNNER_OS", "Linux")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let read = |file: &str| std::fs::read_to_string(self.path(file)).unwrap();
        let outputs = read("output")
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Step {
            code: output.status.code().unwrap(),
            stdout: String::from_utf8(output.stdout).unwrap(),
            outputs,
            summary: read("summary"),
            runs: read("runs").lines().count(),
        }
    }
}

fn inputs<'a>(command: &'a str, args: &'a str, fail_on: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("COMMAND", command),
        ("PATHS", "."),
        ("UNSAFE", "false"),
        ("ARGS", args),
        ("SARIF_FILE", "dockopt.sarif"),
        ("FAIL_ON_FINDINGS", fail_on),
    ]
}

#[test]
fn check_runs_dockopt_once_for_the_log_the_sarif_and_the_summary() {
    let runner = Runner::new();
    runner.write("Dockerfile", "FROM debian:bookworm-slim\nMAINTAINER Jane <j@x.org>\n");
    let step = runner.run("Run dockopt", &inputs("check", "--select modernize", "true"));
    assert_eq!(step.code, 0, "the step records the code; the last step fails the job");
    assert_eq!(step.runs, 1, "one run of dockopt");
    assert_eq!(step.outputs["exit-code"], "1");
    assert_eq!(step.outputs["sarif-file"], "dockopt.sarif");
    assert!(step.stdout.contains("Dockerfile:2:1: modernize/maintainer: MAINTAINER is deprecated"), "{}", step.stdout);
    assert!(step.summary.starts_with("## dockopt\n"), "{}", step.summary);
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(runner.path("work/dockopt.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 1);

    let exit = |code: &str, fail_on: &str| {
        runner.run("Exit status", &[("CODE", code), ("COMMAND", "check"), ("FAIL_ON_FINDINGS", fail_on)]).code
    };
    assert_eq!(exit("1", "true"), 1);
    assert_eq!(exit("1", "fixable"), 1);
    assert_eq!(exit("1", "false"), 0);
    assert_eq!(exit("2", "false"), 2, "errors always fail");
    assert_eq!(exit("0", "true"), 0);
}

#[test]
fn fail_on_findings_fixable_uses_check_fail_on_fixable() {
    let runner = Runner::new();
    // A finding without a fix: nothing `fix` would change.
    runner.write("Dockerfile", "FROM debian:bookworm-slim\nADD rootfs.tar.gz /\n");
    runner.write("rootfs.tar.gz", "");
    let step = runner.run("Run dockopt", &inputs("check", "--select modernize", "fixable"));
    assert_eq!(step.outputs["exit-code"], "0", "{}", step.stdout);
    let step = runner.run("Run dockopt", &inputs("check", "--select modernize", "true"));
    assert_eq!(step.outputs["exit-code"], "1", "{}", step.stdout);
}

#[test]
fn diff_and_fix_run_once() {
    let runner = Runner::new();
    runner.write("Dockerfile", "FROM debian:bookworm-slim\nMAINTAINER Jane <j@x.org>\n");
    let step = runner.run("Run dockopt", &inputs("diff", "--select modernize", "true"));
    assert_eq!((step.runs, step.outputs["exit-code"].as_str()), (1, "0"));
    assert!(step.stdout.starts_with("--- a/Dockerfile\n"), "{}", step.stdout);
    assert!(step.summary.contains("```diff"), "{}", step.summary);
    let step = runner.run("Run dockopt", &inputs("fix", "--select modernize", "true"));
    assert_eq!((step.runs, step.outputs["exit-code"].as_str()), (1, "0"));
    let fixed = std::fs::read_to_string(runner.path("work/Dockerfile")).unwrap();
    assert!(fixed.contains("LABEL maintainer="), "{fixed}");
    let step = runner.run("Run dockopt", &inputs("lint", "", "true"));
    assert_eq!((step.runs, step.outputs["exit-code"].as_str()), (0, "2"));
}

#[test]
fn the_cache_key_follows_cargo_lock_and_the_action_ref() {
    let runner = Runner::new();
    let step = runner.run("dockopt cache key", &[("ACTION_REF", "v0.1.0")]);
    assert_eq!(step.code, 0);
    let key = &step.outputs["key"];
    let prefix = &step.outputs["prefix"];
    assert!(key.starts_with(prefix.as_str()) && key.ends_with("-v0.1.0"), "{key} {prefix}");
    assert!(prefix.starts_with("dockopt-Linux-") && prefix.len() == "dockopt-Linux-".len() + 17, "{prefix}");
    let local = runner.run("dockopt cache key", &[("ACTION_REF", "")]);
    assert!(local.outputs["key"].ends_with("-local"), "{:?}", local.outputs);
}
