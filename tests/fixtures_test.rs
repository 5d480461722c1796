//! The transform spec: every `tests/fixtures/<transform>/<case>/Dockerfile` is optimized with only
//! `<transform>` selected and its report (findings, then the unified diff) is snapshotted as
//! `snapshots/<transform>__<case>.snap`. The case folder is the build context.
//!
//! Per case, optional:
//! - `dockopt.toml`: the config (as the CLI would read it); without one, a `.hadolint.yaml` is read
//!   as the CLI reads hadolint's config (it stays in the context listing: projects have it there);
//! - `.editorconfig`: read as the CLI reads it (the formatter's indentation);
//! - `args`: flags as given to `dockopt check` (e.g. `--unsafe`, `--ignore x`). With an `args` file
//!   the settings are exactly the CLI's; without one, `--unsafe` is on. `--select` defaults to the
//!   folder's transform either way.
//!
//! Both files are left out of the context listing. Every case must also be idempotent: optimizing
//! the output again changes nothing.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

mod common;

use clap::Parser;
use dockopt::cli::{Cli, Command};
use transforms::{Config, Context, Settings};

const CASE_FILES: [&str; 2] = ["dockopt.toml", "args"];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// The settings of a case, built the way the CLI builds them.
fn settings_for(case: &Path, transform: &str) -> Settings {
    let hadolint = case.join(".hadolint.yaml");
    let config = match std::fs::read_to_string(case.join("dockopt.toml")) {
        Ok(text) => Config::from_toml(&text)
            .unwrap_or_else(|e| panic!("{}/dockopt.toml: {e}", case.display())),
        Err(_) if hadolint.is_file() => dockopt::config::load_hadolint(&hadolint)
            .unwrap_or_else(|e| panic!("{e}"))
            .config,
        Err(_) => Config::default(),
    };
    let args = std::fs::read_to_string(case.join("args")).ok();
    let mut argv = vec!["dockopt".to_string(), "check".to_string()];
    argv.extend(
        args.iter()
            .flat_map(|a| a.split_whitespace().map(str::to_string)),
    );
    let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{}/args: {e}", case.display()));
    let Command::Check(report) = cli.command else {
        unreachable!()
    };
    let mut settings = dockopt::config::settings(&report.common, &config);
    if args.is_none() {
        settings.unsafe_fixes = true;
    }
    if settings.select.is_none() {
        settings.select = Some(vec![transform.to_string()]);
    }
    // As the CLI does for files it formats.
    settings.editor = dockopt::editorconfig::for_path(&case.join("Dockerfile"));
    settings
        .validate()
        .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
    settings
}

fn context_for(case: &Path) -> Context {
    let mut context = dockopt::discover::context(case, true);
    context.files = context.files.map(|files| {
        files
            .into_iter()
            .filter(|f| !CASE_FILES.contains(&f.as_str()))
            .collect()
    });
    context
}

/// One case: the report to snapshot (after checking idempotence), and the ids of the checks it reported.
fn run_case(transform: &str, case: &Path) -> (String, Vec<&'static str>) {
    let dockerfile = case.join("Dockerfile");
    let source = std::fs::read_to_string(&dockerfile).unwrap_or_else(|e| {
        panic!(
            "every fixture folder needs a Dockerfile: {}: {e}",
            dockerfile.display()
        )
    });
    let settings = settings_for(case, transform);
    let context = context_for(case);
    let outcome = transforms::optimize(&source, &context, &settings)
        .unwrap_or_else(|e| panic!("{}:{e}", dockerfile.display()));
    let again = transforms::optimize(&outcome.text, &context, &settings).unwrap_or_else(|e| {
        panic!(
            "{}: the output does not parse: {e}\n{}",
            dockerfile.display(),
            outcome.text
        )
    });
    assert_eq!(
        again.text,
        outcome.text,
        "{}: not idempotent, a second run changed the output",
        dockerfile.display()
    );
    let checks = outcome.findings.iter().map(|r| r.finding.check.id).collect();
    let report = dockopt::render::spec_report("Dockerfile", &source, &outcome, settings.unsafe_fixes);
    (report, checks)
}

#[test]
fn fixtures() {
    let known: Vec<&str> = transforms::catalog().iter().map(|t| t.name).collect();
    let mut failures = Vec::new();
    let mut cases = 0;
    let mut reported: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for transform_dir in subdirs(&fixtures_dir()) {
        let transform = name(&transform_dir);
        if !known.contains(&transform.as_str()) {
            failures.push(format!(
                "tests/fixtures/{transform}: not a transform (known: {})",
                known.join(", ")
            ));
            continue;
        }
        for case in subdirs(&transform_dir) {
            cases += 1;
            let snapshot = format!("{transform}__{}", name(&case));
            let result = catch_unwind(AssertUnwindSafe(|| {
                let (report, checks) = run_case(&transform, &case);
                reported.extend(checks);
                insta::with_settings!({
                    snapshot_path => "../snapshots",
                    prepend_module_to_snapshot => false,
                    input_file => case.join("Dockerfile"),
                    omit_expression => true,
                }, {
                    insta::assert_snapshot!(snapshot.as_str(), report);
                });
            }));
            if let Err(panic) = result {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{snapshot}: {message}"));
            }
        }
    }
    assert!(
        cases > 0,
        "no fixtures found under {}",
        fixtures_dir().display()
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} fixture cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The registry and the fixtures agree: every check reported is registered, and every
    // registered check has a fixture that reports it.
    for id in &reported {
        assert!(transforms::checks::find(id).is_some(), "`{id}` is reported but not registered in transforms/src/checks.rs");
    }
    let missing: Vec<&str> = transforms::checks::ALL.iter().map(|c| c.id).filter(|id| !reported.contains(id)).collect();
    assert!(missing.is_empty(), "no fixture under tests/fixtures reports these registered checks: {}", missing.join(", "));
}

#[test]
fn a_case_without_a_dockerfile_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dockerfile"), "FROM scratch\n").unwrap();
    let result = catch_unwind(|| run_case("modernize", dir.path()));
    let message = *result
        .expect_err("a case without a Dockerfile must fail")
        .downcast::<String>()
        .unwrap();
    assert!(
        message.starts_with("every fixture folder needs a Dockerfile"),
        "{message}"
    );
}

#[test]
fn case_files_are_not_part_of_the_context() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["Dockerfile", "dockopt.toml", "args", "app.py"] {
        std::fs::write(dir.path().join(file), "").unwrap();
    }
    assert_eq!(
        context_for(dir.path()).files.unwrap(),
        ["Dockerfile", "app.py"]
    );
}

/// Every fixture (with its real context: listing and manifest contents) cut at many points and with
/// special characters swapped in, run through every transform: errors are fine, panics are not, and
/// what is written still parses. This reaches the transforms' deepest paths (manifests read,
/// multi-stage plans) with inputs nobody wrote by hand.
#[test]
fn damaged_fixtures_never_panic() {
    let settings = Settings { unsafe_fixes: true, ..Settings::default() };
    let mut failures = Vec::new();
    for transform_dir in subdirs(&fixtures_dir()) {
        for (n, case) in subdirs(&transform_dir).into_iter().enumerate() {
            let Ok(source) = std::fs::read_to_string(case.join("Dockerfile")) else { continue };
            let context = context_for(&case);
            for (variant, damaged) in common::damaged(&source, 12, 2, 0x2545_f491_4f6c_dd1d ^ n as u64).into_iter().enumerate() {
                let result = catch_unwind(AssertUnwindSafe(|| transforms::optimize(&damaged, &context, &settings)));
                match result {
                    Err(_) => failures.push(format!("{} (variant {variant}): panic on:\n{damaged}", case.display())),
                    Ok(Ok(outcome)) if outcome.error.is_none() && outcome.text != damaged => {
                        if transforms::parse(&outcome.text).is_err() {
                            failures.push(format!("{} (variant {variant}): the output does not parse", case.display()));
                        }
                    }
                    Ok(_) => {}
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n---\n"));
}
