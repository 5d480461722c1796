//! Invariants over every real-world Dockerfile in ../shared/corpus (691 files written by others):
//! lossless round trip, no panic, `fix --unsafe` idempotent and parseable, and parity with
//! BuildKit's own parser (PyPI `dockerfile`, driven by tests/oracle/buildkit_dump.py).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod common;

use common::corpus;
use transforms::syntax::{self, Keyword};
use transforms::model::reference::ImageRef;
use transforms::{optimize, Context, Settings};


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
    ("moby__buildkit__frontend__dockerfile__parser__testfiles__health__Dockerfile", "a parser test file: HEALTHCHECK with no argument, which BuildKit's frontend rejects"),
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
                failures.extend(untagged_written_bases(&before, &after).into_iter().map(|b| format!("{}: dockopt wrote the base `{b}` without a tag", path.display())));
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

/// The images `after` names in a FROM that `before` does not (the bases dockopt wrote: a slim
/// swap, a runtime stage) and that have no tag: a base dockopt writes is never one its own
/// pinning check reports on the next run.
fn untagged_written_bases(before: &syntax::Dockerfile, after: &syntax::Dockerfile) -> Vec<String> {
    let image = |stage: &syntax::Stage| stage.image.clone();
    let old: Vec<String> = before.stages.iter().map(image).collect();
    let names: Vec<String> = after.stages.iter().filter_map(|s| s.name.clone()).collect();
    after
        .stages
        .iter()
        .map(image)
        .filter(|i| !old.contains(i) && !i.contains('$') && !i.eq_ignore_ascii_case("scratch") && !names.iter().any(|n| n.eq_ignore_ascii_case(i)))
        .filter(|i| ImageRef::parse(i).is_none_or(|r| r.tag().is_none() || r.tag() == Some("latest")))
        .collect()
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

/// One `# hadolint ignore=…` line as a reader sees it: its codes and the first line of the
/// instruction right under its comment block (None when a blank line or the end comes first).
struct Marked {
    pragma: String,
    codes: Vec<String>,
    /// 1-based line of the instruction it is written for.
    line: Option<usize>,
    instruction: String,
}

/// The hadolint pragmas of a file, read line by line (not through dockopt's pragma code), and the
/// codes of its `# hadolint global ignore=` lines.
fn hadolint_pragmas(text: &str) -> (Vec<Marked>, Vec<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut marked = Vec::new();
    let mut global = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.trim().strip_prefix('#').map(str::trim_start) else { continue };
        let Some(rest) = rest.strip_prefix("hadolint") else { continue };
        let Some((head, codes)) = rest.split_once('=') else { continue };
        if !head.trim_end().ends_with("ignore") {
            continue;
        }
        let codes: Vec<String> = codes.split('#').next().unwrap_or("").split(',').map(|c| c.trim().to_ascii_uppercase()).collect();
        if head.contains("global") {
            global.extend(codes);
            continue;
        }
        let below = lines[i + 1..].iter().position(|l| !l.trim().starts_with('#')).map(|n| i + 1 + n);
        let below = below.filter(|&j| !lines[j].trim().is_empty());
        marked.push(Marked {
            pragma: line.trim().to_string(),
            codes,
            line: below.map(|j| j + 1),
            instruction: below.map_or(String::new(), |j| lines[j].trim().to_string()),
        });
    }
    (marked, global)
}

/// The instruction line right under the comment block that holds the `nth` occurrence of the line
/// `pragma` in `text`.
fn instruction_under(text: &str, pragma: &str, nth: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().enumerate().filter(|(_, l)| l.trim() == pragma).nth(nth)?.0;
    let below = lines[at + 1..].iter().find(|l| !l.trim().starts_with('#'))?;
    (!below.trim().is_empty()).then(|| below.trim().to_string())
}

/// The same instruction, possibly edited by a fix: the same keyword, and most of its words kept.
fn same_instruction(before: &str, after: &str) -> bool {
    let words = |s: &str| s.split_whitespace().filter(|w| *w != "\\").map(str::to_string).collect::<Vec<String>>();
    let (b, a) = (words(before), words(after));
    let kept = b.iter().filter(|w| a.contains(w)).count();
    b.first().map(|k| k.to_ascii_uppercase()) == a.first().map(|k| k.to_ascii_uppercase()) && kept * 10 >= b.len() * 6
}

/// For every corpus file with a hadolint pragma: `fix --unsafe` keeps each pragma right above the
/// same instruction, and applies no fix whose check relates to a code the pragma (or a global one)
/// ignores there. Prints the figures the README quotes (`-- --nocapture`).
#[test]
fn corpus_hadolint_pragmas_stay_with_their_instruction_and_hold() {
    let mut failures = Vec::new();
    let (mut files, mut pragmas, mut suppressed) = (0, 0, 0);
    for (path, text) in corpus() {
        let (marked, global) = hadolint_pragmas(&text);
        if marked.is_empty() && global.is_empty() {
            continue;
        }
        files += 1;
        pragmas += marked.len() + usize::from(!global.is_empty());
        let name = entry_id(&path);
        let outcome = match optimize(&text, &context_of(&path), &all_unsafe()) {
            Ok(outcome) if outcome.error.is_none() => outcome,
            Ok(outcome) => {
                failures.push(format!("{name}: {}", outcome.error.map(|e| e.to_string()).unwrap_or_default()));
                continue;
            }
            Err(_) => continue,
        };
        suppressed += outcome.suppressed.len();
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for m in marked.iter().filter(|m| m.line.is_some()) {
            let nth = seen.entry(m.pragma.as_str()).or_default();
            match instruction_under(&outcome.text, &m.pragma, *nth) {
                Some(now) if same_instruction(&m.instruction, &now) => {}
                now => failures.push(format!("{name}: `{}` was above `{}`, is now above {now:?}", m.pragma, m.instruction)),
            }
            *nth += 1;
        }
        let file = syntax::parse(&text).expect("the corpus file parsed for optimize");
        for r in outcome.findings.iter().filter(|r| r.applied) {
            let f = &r.finding;
            let Some(inst) = file.instructions.iter().find(|i| i.span.start <= f.range.start && f.range.start < i.span.end) else { continue };
            let codes = marked.iter().filter(|m| m.line == Some(inst.start_line)).flat_map(|m| m.codes.iter()).chain(&global);
            if let Some(code) = codes.into_iter().find(|c| f.check.hadolint.contains(&c.as_str())) {
                failures.push(format!("{name}:{}: `{}` was applied although `{code}` is ignored there", inst.start_line, f.check.id));
            }
        }
    }
    eprintln!("{files} corpus files with hadolint pragmas ({pragmas} pragmas); {suppressed} findings suppressed");
    assert!(files > 0, "no corpus file has a hadolint pragma: the test checks nothing");
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_pragma_reader_of_the_corpus_test_reads_what_it_should() {
    let text = "# hadolint global ignore=DL3059\nFROM a\n# hadolint ignore=DL3008, DL3015 # why\n# note\nRUN x\n# hadolint ignore=DL3009\n\nRUN y\n";
    let (marked, global) = hadolint_pragmas(text);
    assert_eq!(global, ["DL3059"]);
    assert_eq!(marked.len(), 2);
    assert_eq!((marked[0].codes.clone(), marked[0].line, marked[0].instruction.as_str()), (vec!["DL3008".to_string(), "DL3015".to_string()], Some(5), "RUN x"));
    assert_eq!(marked[1].line, None);
    assert_eq!(instruction_under(text, "# hadolint ignore=DL3008, DL3015 # why", 0).as_deref(), Some("RUN x"));
    assert!(same_instruction("RUN pip install -v torch", "RUN pip install -v --no-cache-dir torch"));
    assert!(!same_instruction("RUN pip install -v torch", "COPY . ."));
    assert!(!same_instruction("RUN a b c d e", "RUN x y z"));
}

/// The commands of each shell-form RUN of `text` (whitespace collapsed), one list per RUN.
fn run_commands(text: &str) -> Vec<Vec<String>> {
    let Ok(file) = syntax::parse(text) else { return Vec::new() };
    file.instructions
        .iter()
        .filter(|i| i.keyword == Keyword::Run && i.exec.is_none() && i.heredocs.is_empty())
        .map(|i| {
            let script = transforms::shell::parse_script(i.args_text());
            script.commands().iter().map(|c| script.text(&c.range).split_whitespace().collect::<Vec<_>>().join(" ")).collect()
        })
        .collect()
}

/// The commands `fix --unsafe` adds that end up twice in one RUN: run-cleanup appends a cleanup,
/// merge-runs moves one, layer-waste adds a delete; together they must not repeat one.
fn repeated_additions(before: &str, after: &str) -> Vec<String> {
    let count = |runs: &[Vec<String>]| {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for command in runs.iter().flatten() {
            *counts.entry(command.clone()).or_default() += 1;
        }
        counts
    };
    let (runs_before, runs_after) = (run_commands(before), run_commands(after));
    let (had, has) = (count(&runs_before), count(&runs_after));
    let added = |command: &String| has.get(command) > had.get(command);
    let mut repeated: Vec<String> = runs_after
        .iter()
        .flat_map(|run| run.iter().filter(|c| added(c) && run.iter().filter(|d| d == c).count() > 1).cloned().collect::<Vec<_>>())
        .collect();
    repeated.dedup();
    repeated
}

#[test]
fn corpus_fix_adds_no_command_twice_to_one_run() {
    let settings = all_unsafe();
    let mut failures = Vec::new();
    // `apt install` renamed `apt-get install` is the author's command under its script name, not
    // an addition: the repetitions are counted against the original with only that rename.
    let renames = Settings { select: Some(vec!["run-cleanup/use-apt-get".into()]), ..all_unsafe() };
    for (path, text) in corpus() {
        let context = context_of(&path);
        let Ok(outcome) = optimize(&text, &context, &settings) else { continue };
        let Ok(renamed) = optimize(&text, &context, &renames) else { continue };
        for command in repeated_additions(&renamed.text, &outcome.text) {
            failures.push(format!("{}: `{command}` twice in one RUN", entry_id(&path)));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_repetition_check_sees_an_added_command_twice() {
    let before = "FROM x\nRUN apt-get update && apt-get install -y a && rm -rf /var/lib/apt/lists/*\n";
    let twice = "FROM x\nRUN apt-get update && apt-get install -y a && rm -rf /var/lib/apt/lists/* && rm -rf /var/lib/apt/lists/*\n";
    assert_eq!(repeated_additions(before, twice), ["rm -rf /var/lib/apt/lists/*"]);
    // A repetition the author wrote is not dockopt's.
    assert!(repeated_additions(twice, twice).is_empty());
    assert!(repeated_additions(before, before).is_empty());
}
