//! `--format sarif` must pass Microsoft's SARIF validator (`sarif-multitool validate`), with its
//! SARIF rules and its GitHub code-scanning rules.
//!
//! The validator is `$SARIF_MULTITOOL` (e.g. `.ci/node/node_modules/.bin/sarif-multitool`, which
//! `npm install --prefix .ci/node @microsoft/sarif-multitool` provides), else `npx --yes
//! @microsoft/sarif-multitool`. Without either the test is skipped, except under `CI=true`, where
//! it fails: CI must validate.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

const DIRTY: &str = "FROM debian:bookworm\nMAINTAINER Jane <j@x.org>\nENV A 🐳\nADD app /app\n";
const MALFORMED: &str = "FROM debian:bookworm\nRUN <<EOF\necho hi\n";

fn dockopt(cwd: &Path, args: &[&str], stdin: Option<&str>) -> (i32, String) {
    let output = common::run_dockopt(cwd, args, stdin);
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

/// The validator command, or why there is none.
fn validator() -> Result<Vec<String>, String> {
    if let Some(path) = std::env::var_os("SARIF_MULTITOOL").filter(|p| !p.is_empty()) {
        let path = path.to_string_lossy().into_owned();
        return if Path::new(&path).exists() {
            Ok(vec![path])
        } else {
            Err(format!("SARIF_MULTITOOL={path} does not exist"))
        };
    }
    let npx = Command::new("npx")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match npx {
        Ok(status) if status.success() => Ok(vec![
            "npx".to_string(),
            "--yes".to_string(),
            "@microsoft/sarif-multitool".to_string(),
        ]),
        _ => Err("neither $SARIF_MULTITOOL nor npx is available".to_string()),
    }
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skip (outside CI) or fail (in CI) when the validator cannot run.
fn unavailable(why: &str) {
    assert!(!in_ci(), "CI must run the SARIF validator: {why}");
    eprintln!("skipped: the SARIF validator cannot run here ({why})");
}

/// Warnings we accept: SARIF2005 asks for the tool's `informationUri`, which dockopt gives once
/// Cargo.toml names a homepage or repository.
fn accepted(rule: &str) -> bool {
    rule == "SARIF2005"
        && env!("CARGO_PKG_HOMEPAGE").is_empty()
        && env!("CARGO_PKG_REPOSITORY").is_empty()
}

#[test]
fn sarif_output_passes_the_sarif_multitool_validator() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("repo/svc/Dockerfile", DIRTY);
    write("repo/svc/app/main.py", "print('hi')\n");
    write("repo/bad/Dockerfile", MALFORMED);
    write("repo/my app/Dockerfile.dev", DIRTY);
    write(
        "repo/archive/Dockerfile",
        "FROM alpine\nADD rootfs.tar.gz /\n",
    );
    write("clean/Dockerfile", "FROM alpine\nCOPY a /a\n");
    let repo = root.join("repo");

    // Findings, fixes, a parse error and a path to percent-encode; every transform.
    let mut logs = vec![(
        "all.sarif",
        dockopt(&repo, &["check", "--unsafe", "--format", "sarif"], None),
    )];
    logs.push((
        "modernize.sarif",
        dockopt(
            &repo,
            &["diff", "--select", "modernize", "--format", "sarif"],
            None,
        ),
    ));
    // Suppressed findings (`inSource` suppressions) and a pragma with an unknown code.
    write(
        "pragmas/Dockerfile",
        "FROM debian:bookworm\n# hadolint ignore=DL4000,DL9999\nMAINTAINER Jane <j@x.org>\nENV A 1\n",
    );
    logs.push((
        "suppressed.sarif",
        dockopt(
            &root.join("pragmas"),
            &["check", "--select", "modernize", "--show-suppressed", "--format", "sarif"],
            None,
        ),
    ));
    // Nothing found: an empty run.
    logs.push((
        "clean.sarif",
        dockopt(
            &root.join("clean"),
            &["check", "--select", "modernize", "--format", "sarif"],
            None,
        ),
    ));
    // An absolute path (a `file:` URI) and stdin.
    let absolute = repo.join("svc/Dockerfile").display().to_string();
    logs.push((
        "absolute.sarif",
        dockopt(root, &["check", "--format", "sarif", &absolute], None),
    ));
    logs.push((
        "stdin.sarif",
        dockopt(root, &["check", "--format", "sarif", "-"], Some(DIRTY)),
    ));
    let out = root.join("logs");
    std::fs::create_dir_all(&out).unwrap();
    for (name, (code, stdout)) in &logs {
        assert!(*code <= 2, "{name}: exit {code}");
        let log: serde_json::Value =
            serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{name}: {e}\n{stdout}"));
        assert_eq!(log["version"], "2.1.0", "{name}");
        std::fs::write(out.join(name), stdout).unwrap();
    }

    let command = match validator() {
        Ok(command) => command,
        Err(why) => return unavailable(&why),
    };
    let names: Vec<&str> = logs.iter().map(|(name, _)| *name).collect();
    // The npm wrapper runs the tool through a shell: one rule kind per run keeps `;` out of it.
    for rule_kind in ["Sarif", "Gh"] {
        let report = out.join(format!("validation-{rule_kind}.sarif"));
        let status = Command::new(&command[0])
            .args(&command[1..])
            .args(["validate", "--rule-kind", rule_kind, "--output"])
            .arg(report.file_name().unwrap())
            .args(&names)
            .current_dir(&out)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output();
        let output = match status {
            Ok(output) => output,
            Err(e) => return unavailable(&format!("{}: {e}", command.join(" "))),
        };
        let console = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let Ok(text) = std::fs::read_to_string(&report) else {
            return unavailable(&format!("the validator wrote no report:\n{console}"));
        };
        let validation: serde_json::Value = serde_json::from_str(&text).unwrap();
        let problems: Vec<String> = validation["runs"][0]["results"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|r| matches!(r["level"].as_str(), Some("error" | "warning") | None))
            .filter(|r| !accepted(r["ruleId"].as_str().unwrap_or("")))
            .map(|r| r.to_string())
            .collect();
        assert!(
            problems.is_empty(),
            "{rule_kind} rules: {} problems:\n{}\n{console}",
            problems.len(),
            problems.join("\n")
        );
        let notifications = &validation["runs"][0]["invocations"][0]["toolExecutionNotifications"];
        assert!(
            notifications
                .as_array()
                .is_none_or(|n| n.iter().all(|n| n["level"] != "error")),
            "the validator failed: {notifications}\n{console}"
        );
    }
}
