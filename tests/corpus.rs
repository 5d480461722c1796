//! Invariants over every real-world Dockerfile in ../shared/corpus (691 files written by others):
//! lossless round trip, no panic, `fix --unsafe` idempotent and parseable, and parity with
//! BuildKit's own parser (PyPI `dockerfile`, driven by tests/oracle/buildkit_dump.py).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod common;

use common::corpus_dir;
use transforms::syntax::{self, Keyword};
use transforms::{optimize, Context, Settings};

/// Every corpus Dockerfile with its text. Fails (rather than passing vacuously) when the corpus is missing.
fn corpus() -> Vec<(PathBuf, String)> {
    let dir = corpus_dir();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus must be at {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("Dockerfile"))
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    assert!(entries.len() >= 691, "expected the whole corpus, found {} files", entries.len());
    entries
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, text)
        })
        .collect()
}

/// The build context listing of a corpus entry.
fn context_of(path: &Path) -> Context {
    let entry = path.parent().expect("a corpus Dockerfile sits in its entry folder");
    Context { files: Some(common::listing(entry)), ..Context::default() }
}

/// Corpus files that BuildKit's parser accepts but a build rejects: dockopt refuses to rewrite
/// them and must say where the problem is.
const REJECTED: &[(&str, &str)] = &[
    ("moby__buildkit__frontend__dockerfile__parser__testfiles__jeztah-invalid-json-unterminated-bracket__Dockerfile", "a parser test file: CMD with no FROM"),
    ("moby__buildkit__frontend__dockerfile__parser__testfiles__jeztah-invalid-json-unterminated-string__Dockerfile", "a parser test file: CMD with no FROM"),
];

fn entry_id(path: &Path) -> String {
    path.parent().and_then(|p| p.file_name()).unwrap().to_string_lossy().to_string()
}

fn all_unsafe() -> Settings {
    Settings { unsafe_fixes: true, ..Settings::default() }
}

#[test]
fn corpus_round_trips_losslessly() {
    let mut failures = Vec::new();
    for (path, text) in corpus() {
        match syntax::parse(&text) {
            Ok(file) => {
                if file.print() != text {
                    failures.push(format!("{}: print(parse(x)) != x", path.display()));
                }
                // Items must tile the file: no byte covered twice or dropped.
                let mut at = file.bom_len;
                for item in &file.items {
                    if item.span.start != at {
                        failures.push(format!("{}: items not contiguous at byte {at}", path.display()));
                        break;
                    }
                    at = item.span.end;
                }
                if at != text.len() {
                    failures.push(format!("{}: items end at {at}, file at {}", path.display(), text.len()));
                }
            }
            Err(e) => failures.push(format!("{}:{e}", path.display())),
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn corpus_fix_is_idempotent_and_parses() {
    let settings = all_unsafe();
    let mut failures = Vec::new();
    let mut changed = 0;
    let outputs = tempfile::tempdir().unwrap();
    let mut written = Vec::new();
    for (path, text) in corpus() {
        let context = context_of(&path);
        let result = std::panic::catch_unwind(|| optimize(&text, &context, &settings));
        let outcome = match result {
            Err(_) => {
                failures.push(format!("{}: panic", path.display()));
                continue;
            }
            Ok(Err(e)) => {
                if !REJECTED.iter().any(|(id, _)| *id == entry_id(&path)) {
                    failures.push(format!("{}:{e}", path.display()));
                }
                continue;
            }
            Ok(Ok(o)) => o,
        };
        if REJECTED.iter().any(|(id, _)| *id == entry_id(&path)) {
            failures.push(format!("{}: should be rejected", path.display()));
        }
        if let Some(e) = &outcome.error {
            failures.push(format!("{}: fix loop failed: {e}", path.display()));
            continue;
        }
        if outcome.text == text {
            continue;
        }
        changed += 1;
        let output = outputs.path().join(entry_id(&path));
        std::fs::write(&output, &outcome.text).unwrap();
        written.push((output, outcome.text.clone()));
        let before = syntax::parse(&text).expect("parsed above");
        match syntax::parse(&outcome.text) {
            Err(e) => failures.push(format!("{}: output does not parse: {e}", path.display())),
            Ok(after) => {
                if !same_stages_or_split(&before, &after) {
                    failures.push(format!("{}: stages changed", path.display()));
                }
            }
        }
        match optimize(&outcome.text, &context, &settings) {
            Ok(again) if again.text == outcome.text => {}
            Ok(_) => failures.push(format!("{}: fix(fix(x)) != fix(x)", path.display())),
            Err(e) => failures.push(format!("{}: output does not parse: {e}", path.display())),
        }
    }
    // What dockopt writes, BuildKit reads the same way (so it parses, with the same instructions).
    let (_, mismatches) = parity(&written);
    failures.extend(mismatches.into_iter().map(|m| format!("output differs from BuildKit: {m}")));
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert!(changed > 0, "no corpus file changed at all: the transforms did nothing");
}

/// The stages are the same, or `multi-stage` split a single stage: the original stage (named
/// `build` unless it had a name) followed by one unnamed runtime stage.
fn same_stages_or_split(before: &syntax::Dockerfile, after: &syntax::Dockerfile) -> bool {
    let names = |f: &syntax::Dockerfile| f.stages.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
    let (before, after) = (names(before), names(after));
    if before == after {
        return true;
    }
    match (before.as_slice(), after.as_slice()) {
        ([original], [build, None]) => build == original || (original.is_none() && build.as_deref() == Some("build")),
        _ => false,
    }
}

/// What the oracle and dockopt must agree on, per instruction.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    cmd: String,
    sub_cmd: Option<String>,
    json: bool,
    start_line: usize,
    end_line: usize,
    flags: Vec<String>,
    /// The exec form's values (compared only for JSON form).
    exec: Option<Vec<String>>,
    heredocs: Vec<(String, String)>,
}

fn dockopt_shapes(text: &str) -> Result<Vec<Shape>, String> {
    let file = syntax::parse(text).map_err(|e| e.to_string())?;
    Ok(file
        .instructions
        .iter()
        .map(|i| Shape {
            cmd: file.source[i.keyword_span.clone()].to_ascii_uppercase(),
            sub_cmd: i.sub.as_ref().map(|(_, r)| i.logical.text[r.clone()].to_ascii_uppercase()),
            json: i.exec.is_some(),
            start_line: i.start_line,
            end_line: i.end_line,
            // The oracle reports only the outer instruction's flags; an ONBUILD trigger's are its own.
            flags: if i.sub.is_some() { Vec::new() } else { i.flags.iter().map(|f| f.text.clone()).collect() },
            exec: i.exec.clone().filter(|_| i.keyword != Keyword::Healthcheck),
            heredocs: i.heredocs.iter().map(|h| (h.name.clone(), file.source[h.body.clone()].to_string())).collect(),
        })
        .collect())
}

fn oracle_shapes(v: &serde_json::Value) -> Vec<Shape> {
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string)).collect()
    };
    v["instructions"]
        .as_array()
        .expect("instructions")
        .iter()
        .map(|i| {
            let json = i["json"].as_bool().unwrap_or(false);
            let cmd = i["cmd"].as_str().unwrap_or_default().to_string();
            Shape {
                json,
                exec: (json && cmd != "HEALTHCHECK").then(|| strings(&i["value"])),
                cmd,
                sub_cmd: i["sub_cmd"].as_str().map(str::to_string),
                start_line: i["start_line"].as_u64().unwrap_or(0) as usize,
                end_line: i["end_line"].as_u64().unwrap_or(0) as usize,
                flags: strings(&i["flags"]),
                heredocs: i["heredocs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|h| (h["name"].as_str().unwrap_or_default().to_string(), h["content"].as_str().unwrap_or_default().to_string()))
                    .collect(),
            }
        })
        .collect()
}

/// Compare dockopt's parse of each file with BuildKit's; returns (matched, mismatches).
fn parity(files: &[(PathBuf, String)]) -> (usize, Vec<String>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/buildkit_dump.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the BuildKit parity test");
    // Feed the paths from a thread: the oracle's output would fill the pipe before we finish writing.
    let mut stdin = child.stdin.take().unwrap();
    let paths: String = files.iter().map(|(p, _)| format!("{}\n", p.display())).collect();
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(paths.as_bytes()).unwrap();
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(
        output.status.success(),
        "the BuildKit oracle failed (install it with `pip install -r tests/requirements.txt`)"
    );
    let oracle: BTreeMap<String, serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["path"].as_str().unwrap().to_string(), v)
        })
        .collect();
    assert_eq!(oracle.len(), files.len(), "the oracle must answer for every file");

    let mut mismatches = Vec::new();
    let mut matched = 0;
    for (path, text) in files {
        let name = path.display().to_string();
        let expected = &oracle[&name];
        let ours = dockopt_shapes(text);
        let before = mismatches.len();
        match (expected["ok"].as_bool().unwrap(), &ours) {
            (true, Ok(shapes)) => {
                let theirs = oracle_shapes(expected);
                if let Some((a, b)) = theirs.iter().zip(shapes).find(|(a, b)| a != b) {
                    mismatches.push(format!("{name}: BuildKit {a:?}\n   dockopt {b:?}"));
                } else if theirs.len() != shapes.len() {
                    mismatches.push(format!("{name}: {} instructions in BuildKit, {} in dockopt", theirs.len(), shapes.len()));
                }
            }
            (false, Err(_)) => {}
            (ok, ours) => {
                mismatches.push(format!("{name}: BuildKit ok={ok} {:?}, dockopt {:?}", expected["error"], ours.as_ref().err()))
            }
        }
        if mismatches.len() == before {
            matched += 1;
        }
    }
    (matched, mismatches)
}

#[test]
fn corpus_matches_buildkit_parser() {
    let files = corpus();
    let (matched, mismatches) = parity(&files);
    eprintln!("BuildKit parity: {matched}/{} corpus files", files.len());
    assert!(mismatches.is_empty(), "{} files differ from BuildKit:\n{}", mismatches.len(), mismatches.join("\n"));
    assert_eq!(matched, files.len());
}

/// Hand-written edge cases (tests/syntax): heredocs, `# escape=`, BOM + CRLF + no final newline,
/// continuation quirks, every instruction, and inputs BuildKit rejects (error-*.Dockerfile).
#[test]
fn edge_cases_match_buildkit_parser() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/syntax");
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "Dockerfile"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect();
    files.sort();
    assert!(files.len() >= 10, "edge cases missing");
    for (path, text) in &files {
        let is_error_case = path.file_name().unwrap().to_string_lossy().starts_with("error-");
        match syntax::parse(text) {
            Ok(file) => {
                assert!(!is_error_case, "{} should not parse", path.display());
                assert_eq!(file.print(), *text, "{}: lossless", path.display());
            }
            Err(e) => assert!(is_error_case, "{}: {e}", path.display()),
        }
    }
    let (matched, mismatches) = parity(&files);
    assert!(mismatches.is_empty(), "{} files differ from BuildKit:\n{}", mismatches.len(), mismatches.join("\n"));
    assert_eq!(matched, files.len());
}

/// No input makes dockopt panic: every corpus file cut at many points (mid-line, mid-heredoc,
/// mid-continuation) and with a few characters swapped for ones the lexer and the shell parser
/// treat specially. Whatever parses is fixed to a fixed point that still parses; whatever does not
/// is an error, never a panic.
#[test]
fn damaged_corpus_files_never_panic() {
    let settings = all_unsafe();
    let mut failures = Vec::new();
    for (n, (path, text)) in corpus().into_iter().enumerate() {
        let context = context_of(&path);
        for (variant, damaged) in common::damaged(&text, 6, 3, 0x9e37_79b9_7f4a_7c15 ^ n as u64).into_iter().enumerate() {
            match std::panic::catch_unwind(|| optimize(&damaged, &context, &settings)) {
                Err(_) => failures.push(format!("{} (variant {variant}): panic on {:?}", path.display(), truncate_for_report(&damaged))),
                Ok(Ok(outcome)) if outcome.error.is_none() && outcome.text != damaged => {
                    if syntax::parse(&outcome.text).is_err() {
                        failures.push(format!("{} (variant {variant}): the output does not parse", path.display()));
                    }
                }
                Ok(_) => {}
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

fn truncate_for_report(text: &str) -> String {
    let tail: String = text.chars().rev().take(120).collect::<Vec<_>>().into_iter().rev().collect();
    format!("…{tail}")
}
