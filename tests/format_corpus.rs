//! The formatter's proof over every real-world Dockerfile in ../shared/corpus: `format` never
//! changes what BuildKit reads (checked on BuildKit's own parser by tests/oracle/same_meaning.py:
//! same instructions, flags, JSON arrays and heredoc bodies exactly; other arguments equal once
//! whitespace outside quotes is collapsed), it is idempotent, its own check never has to leave an
//! instruction as written, and it does format (files change).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod common;

use common::corpus;
use transforms::{optimize, Config, Context, Settings};

fn format_settings(config: &str) -> Settings {
    Settings { select: Some(vec!["format".to_string()]), config: Config::from_toml(config).unwrap(), ..Settings::default() }
}

/// Ask the BuildKit oracle whether each (original, formatted) pair means the same; the problems.
fn buildkit_differences(pairs: &[(PathBuf, PathBuf)], sorted_packages: bool) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/same_meaning.py");
    let mut command = Command::new("python3");
    command.arg(&script);
    if sorted_packages {
        command.arg("--sorted-packages");
    }
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("python3 runs the BuildKit oracle");
    let mut stdin = child.stdin.take().unwrap();
    let input: String = pairs.iter().map(|(a, b)| format!("{}\t{}\n", a.display(), b.display())).collect();
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(input.as_bytes()).unwrap();
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(output.status.success(), "the BuildKit oracle failed (pip install -r tests/requirements.txt)");
    let answers: Vec<serde_json::Value> =
        String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers.len(), pairs.len(), "the oracle must answer for every file");
    answers
        .iter()
        .filter(|a| !a["ok"].as_bool().unwrap())
        .map(|a| format!("{}: {}", a["original"].as_str().unwrap(), a["problem"].as_str().unwrap_or_default()))
        .collect()
}

/// Format every corpus file; the failures, and the (original, formatted) pairs of changed files.
fn format_corpus(config: &str, outputs: &Path) -> (Vec<String>, Vec<(PathBuf, PathBuf)>, usize) {
    let settings = format_settings(config);
    let mut failures = Vec::new();
    let mut pairs = Vec::new();
    let mut refused = 0;
    for (n, (path, text)) in corpus().into_iter().enumerate() {
        let outcome = match std::panic::catch_unwind(|| optimize(&text, &Context::default(), &settings)) {
            Err(_) => {
                failures.push(format!("{}: panic", path.display()));
                continue;
            }
            // The two parser test files without FROM: not Dockerfiles a build accepts.
            Ok(Err(_)) => {
                refused += 1;
                continue;
            }
            Ok(Ok(outcome)) => outcome,
        };
        if let Some(e) = &outcome.error {
            failures.push(format!("{}: {e}", path.display()));
            continue;
        }
        for left in outcome.findings.iter().filter(|f| f.finding.fix.is_none()) {
            failures.push(format!("{}: {}", path.display(), left.finding.message));
        }
        match optimize(&outcome.text, &Context::default(), &settings) {
            Ok(again) if again.text == outcome.text => {}
            Ok(_) => failures.push(format!("{}: format(format(x)) != format(x)", path.display())),
            Err(e) => failures.push(format!("{}: the output does not parse: {e}", path.display())),
        }
        if outcome.text != text {
            let out = outputs.join(format!("{n}.Dockerfile"));
            std::fs::write(&out, &outcome.text).unwrap();
            pairs.push((path, out));
        }
    }
    (failures, pairs, refused)
}

#[test]
fn corpus_format_keeps_buildkit_meaning_and_is_idempotent() {
    let outputs = tempfile::tempdir().unwrap();
    let (mut failures, pairs, refused) = format_corpus("", outputs.path());
    failures.extend(buildkit_differences(&pairs, false));
    eprintln!(
        "format over the corpus: {} files, {} reformatted, {} refused (not Dockerfiles a build accepts), {} failures",
        corpus().len(),
        pairs.len(),
        refused,
        failures.len()
    );
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert!(pairs.len() > 100, "only {} corpus files changed: the formatter did almost nothing", pairs.len());
    // BuildKit parser test files a build rejects: two with no FROM, one with a bare HEALTHCHECK.
    assert!(refused <= 3, "{refused} corpus files were refused");
}

#[test]
fn corpus_sort_packages_only_reorders_and_is_idempotent() {
    let outputs = tempfile::tempdir().unwrap();
    let (mut failures, pairs, _) = format_corpus("[format]\nsort-packages = true\noperator = \"keep\"", outputs.path());
    failures.extend(buildkit_differences(&pairs, true));
    eprintln!("sort-packages over the corpus: {} files changed, {} failures", pairs.len(), failures.len());
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert!(!pairs.is_empty());
}

/// Damaged copies of every corpus file (cut anywhere, special characters swapped in): formatting
/// never panics, and what it writes still parses and means the same to dockopt's own check.
#[test]
fn damaged_corpus_files_never_panic_in_format() {
    let settings = format_settings("[format]\nsort-packages = true");
    let mut failures = Vec::new();
    for (n, (path, text)) in corpus().into_iter().enumerate() {
        for (variant, damaged) in common::damaged(&text, 6, 3, 0x5eed_f0a7 ^ n as u64).into_iter().enumerate() {
            match std::panic::catch_unwind(|| optimize(&damaged, &Context::default(), &settings)) {
                Err(_) => failures.push(format!("{} (variant {variant}): panic", path.display())),
                Ok(Ok(outcome)) => {
                    if outcome.text != damaged && transforms::parse(&outcome.text).is_err() {
                        failures.push(format!("{} (variant {variant}): the output does not parse", path.display()));
                    }
                    for left in outcome.findings.iter().filter(|f| f.finding.fix.is_none()) {
                        failures.push(format!("{} (variant {variant}): {}", path.display(), left.finding.message));
                    }
                }
                Ok(Err(_)) => {}
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
