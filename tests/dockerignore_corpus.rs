//! The `dockerignore` guarantee over the real-world corpus (../shared/corpus: each entry's
//! Dockerfile and `context.txt`, the listing of its build context): a generated .dockerignore never
//! excludes a path that a COPY/ADD (or a RUN bind mount) names, nor anything under a directory one
//! names, as far as the listing shows. Checked by an oracle written apart from the transform.
//!
//! Also: snapshots of contexts a fixture folder cannot hold (a `.git/` directory cannot be committed
//! inside this repository), rendered like the fixture harness renders its cases.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use transforms::matcher::{clean, Matcher, Pattern};
mod common;

use common::corpus_dir;
use transforms::syntax::{parse, split_words, Keyword};
use transforms::{optimize, Applicability, Context, Settings};

fn settings() -> Settings {
    Settings { unsafe_fixes: true, select: Some(vec!["dockerignore".to_string()]), ..Settings::default() }
}

/// A path a COPY/ADD or a RUN bind mount takes from the context: cleaned, relative; a glob when
/// it has wildcards or variables (read as `*`).
struct Named {
    path: String,
    glob: bool,
    line: usize,
}

/// The oracle: every context path the Dockerfile names, except the whole context itself.
fn named_paths(dockerfile: &str) -> Vec<Named> {
    let Ok(file) = parse(dockerfile) else { return Vec::new() };
    let mut named = Vec::new();
    for inst in &file.instructions {
        let mut sources: Vec<String> = Vec::new();
        match inst.keyword {
            Keyword::Copy | Keyword::Add if inst.flag("from").is_none() => {
                let words: Vec<String> = match &inst.exec {
                    Some(list) => list.clone(),
                    None => split_words(inst.args_text(), file.escape).iter().map(|w| w.unquoted(file.escape)).collect(),
                };
                sources.extend(words.iter().take(words.len().saturating_sub(1)).cloned());
            }
            Keyword::Run => {
                for flag in inst.flags.iter().filter(|f| f.name == "mount") {
                    let value = flag.value.clone().unwrap_or_default();
                    let fields: BTreeMap<&str, &str> = value.split(',').filter_map(|f| f.split_once('=')).collect();
                    if fields.get("type").is_none_or(|t| *t == "bind") && !fields.contains_key("from") {
                        if let Some(source) = fields.get("source").or(fields.get("src")) {
                            sources.push(source.to_string());
                        }
                    }
                }
            }
            _ => {}
        }
        for source in sources {
            let lower = source.to_ascii_lowercase();
            if source.starts_with("<<") || lower.contains("://") || lower.starts_with("git@") {
                continue;
            }
            let mut text = if file.escape == '`' { source.replace('\\', "/") } else { source.clone() };
            let variable = text.contains('$');
            if variable {
                // Whatever a variable holds: a component that is only a variable may be several
                // components (`**`), one with text around a variable is any one name (`*`).
                text = text
                    .split('/')
                    .map(|part| match part {
                        p if !p.contains('$') => p,
                        p if p.starts_with('$') && p[1..].trim_matches(['{', '}']).chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => "**",
                        _ => "*",
                    })
                    .collect::<Vec<_>>()
                    .join("/");
            }
            // BuildKit resolves sources inside the context: `..` stops at its root.
            let path = clean(&format!("/{text}")).trim_start_matches('/').to_string();
            let path = if path.is_empty() { ".".to_string() } else { path };
            if !variable && matches!(path.as_str(), "." | "*" | "**") {
                continue;
            }
            let glob = path.contains(['*', '?', '[']);
            named.push(Named { path, glob, line: inst.start_line });
        }
    }
    named
}

/// The listing paths a named source takes: itself and everything under it (for a glob, what it
/// matches and everything under those).
fn taken<'a>(named: &'a Named, listing: &'a [String]) -> Vec<&'a str> {
    let roots: Vec<&str> = if named.glob {
        match Pattern::new(&named.path) {
            Ok(glob) => listing.iter().map(|l| l.trim_end_matches('/')).filter(|l| glob.matches(l)).collect(),
            Err(_) => Vec::new(),
        }
    } else {
        vec![named.path.as_str()]
    };
    let mut out: Vec<&str> = roots.clone();
    for root in roots {
        let prefix = format!("{root}/");
        out.extend(listing.iter().map(|l| l.trim_end_matches('/')).filter(|l| l.starts_with(&prefix)));
    }
    out
}

/// What a developer's checkout holds beside the committed files (the corpus lists committed files).
const CHECKOUT: &[&str] = &[
    ".git/", ".env", ".env.local", ".venv/", ".venv/pyvenv.cfg", "node_modules/", "node_modules/x/index.js", "dist/", "build/",
    "target/", "bin/", "obj/", "vendor/", "__pycache__/", "app.log", ".DS_Store", ".idea/", "server.key",
];

/// Junk put inside every directory the Dockerfile names: none of it may be excluded.
const INSIDE_NAMED: &[&str] = &["debug.log", ".env", ".DS_Store", "node_modules/", "__pycache__/", "id_rsa"];

#[derive(Default)]
struct Figures {
    entries: usize,
    new_files: usize,
    safe: usize,
    appended: usize,
    checked_paths: usize,
    patterns: BTreeMap<String, usize>,
}

/// What one corpus entry got.
struct Proposed {
    appended: bool,
    safe: bool,
    checked_paths: usize,
    lines: Vec<String>,
}

/// Check one corpus entry: the problems found, and what was proposed.
fn check_entry(entry: &Path, augment: fn(&str, &[String]) -> Vec<String>) -> (Vec<String>, Option<Proposed>) {
    let id = entry.file_name().unwrap().to_string_lossy().to_string();
    let dockerfile = std::fs::read_to_string(entry.join("Dockerfile")).unwrap();
    let mut listing = common::listing(entry);
    listing.extend(augment(&dockerfile, &listing));
    listing.sort();
    listing.dedup();
    // The corpus lists a .dockerignore without its text: take it as empty, so that the proposal
    // (an appended block then) is still checked.
    let has_dockerignore = listing.iter().any(|l| l == ".dockerignore");
    let context = Context {
        files: Some(listing.clone()),
        dockerignore: has_dockerignore.then(String::new),
        artifacts_allowed: true,
        ..Context::default()
    };
    let mut failures = Vec::new();
    let Ok(outcome) = optimize(&dockerfile, &context, &settings()) else { return (failures, None) };
    if outcome.artifacts.len() > 1 {
        failures.push(format!("{id}: {} artifacts", outcome.artifacts.len()));
    }
    let Some(artifact) = outcome.artifacts.first() else { return (failures, None) };
    if outcome.findings.iter().filter(|f| f.finding.transform == "dockerignore").count() != 1 {
        failures.push(format!("{id}: an artifact without exactly one finding"));
    }
    let matcher = match Matcher::from_dockerignore(&artifact.text) {
        Ok(m) => m,
        Err(e) => {
            failures.push(format!("{id}: the proposal is not a valid .dockerignore: {e}"));
            return (failures, None);
        }
    };
    let mut checked_paths = 0;
    for named in named_paths(&dockerfile) {
        for path in taken(&named, &listing) {
            checked_paths += 1;
            if matcher.excludes(path) {
                failures.push(format!("{id}: line {} names `{}`, but the proposal excludes `{path}`", named.line, named.path));
            }
        }
    }
    // Once written, the proposal is complete: a second run proposes nothing.
    let mut with_file = listing.clone();
    if !has_dockerignore {
        with_file.push(".dockerignore".to_string());
    }
    let again = Context { files: Some(with_file), dockerignore: Some(artifact.text.clone()), artifacts_allowed: true, ..Context::default() };
    let second = optimize(&dockerfile, &again, &settings()).unwrap();
    if !second.artifacts.is_empty() || second.findings.iter().any(|f| f.finding.transform == "dockerignore") {
        failures.push(format!("{id}: not stable: a second run proposes more"));
    }
    let proposed = Proposed {
        appended: artifact.original.is_some(),
        safe: artifact.applicability == Applicability::Safe,
        checked_paths,
        lines: artifact.text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).map(str::to_string).collect(),
    };
    (failures, Some(proposed))
}

/// Run the transform over every corpus entry, `augment` adding to each listing, and check the
/// guarantee; the figures are printed under `title`.
fn check_corpus(title: &str, augment: fn(&str, &[String]) -> Vec<String>) -> Figures {
    let dir = corpus_dir();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus must be at {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("Dockerfile").is_file())
        .collect();
    entries.sort();
    assert!(entries.len() >= 691, "expected the whole corpus, found {}", entries.len());

    // Entries are independent: check them in parallel, then add up.
    let results: Vec<(Vec<String>, Option<Proposed>)> = entries.par_iter().map(|entry| check_entry(entry, augment)).collect();
    let mut failures: Vec<String> = Vec::new();
    let mut figures = Figures { entries: entries.len(), ..Figures::default() };
    for (problems, proposed) in results {
        failures.extend(problems);
        let Some(proposed) = proposed else { continue };
        if proposed.appended {
            figures.appended += 1;
        } else {
            figures.new_files += 1;
        }
        figures.safe += usize::from(proposed.safe);
        figures.checked_paths += proposed.checked_paths;
        for line in proposed.lines {
            *figures.patterns.entry(line).or_default() += 1;
        }
    }

    let mut common: Vec<(&String, &usize)> = figures.patterns.iter().collect();
    common.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    eprintln!(
        "dockerignore, {title}: {} of {} corpus entries get a proposal ({} new files, {} of them Safe; {} appended to a listed \
         .dockerignore); {} named paths checked; most common patterns:",
        figures.new_files + figures.appended,
        figures.entries,
        figures.new_files,
        figures.safe,
        figures.appended,
        figures.checked_paths,
    );
    for (pattern, count) in common.iter().take(20) {
        eprintln!("  {count:4}  {pattern}");
    }
    assert!(failures.is_empty(), "{title}: {} problems:\n{}", failures.len(), failures.join("\n"));
    figures
}

#[test]
fn generated_dockerignores_never_exclude_what_the_dockerfile_names() {
    let figures = check_corpus("the corpus listings as they are", |_, _| Vec::new());
    assert!(figures.new_files > 0, "the corpus has contexts worth a .dockerignore");
}

#[test]
fn with_a_developer_checkout_around_them() {
    // The same Dockerfiles with what a checkout adds, at the root and inside every directory
    // the Dockerfile names: the guarantee must hold where the proposal has the most to exclude.
    let figures = check_corpus("with a developer's checkout added", |dockerfile, listing| {
        let mut extra: Vec<String> = CHECKOUT.iter().map(|s| s.to_string()).collect();
        for named in named_paths(dockerfile).iter().filter(|n| !n.glob && n.path != ".dockerignore") {
            let is_file = listing.contains(&named.path);
            if !is_file {
                extra.push(format!("{}/", named.path));
                extra.extend(INSIDE_NAMED.iter().map(|junk| format!("{}/{junk}", named.path)));
            }
        }
        extra
    });
    assert!(figures.new_files > 300, "a checkout is almost always worth a .dockerignore: {}", figures.new_files);
}

/// Contexts a fixture folder cannot hold, as (name, Dockerfile, listing).
const LISTING_CASES: &[(&str, &str, &[&str])] = &[
    (
        "node-with-git",
        "FROM node:20-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nCMD [\"node\", \"server.js\"]\n",
        &[".env", ".git/", "Dockerfile", "node_modules/", "node_modules/express/index.js", "package-lock.json", "package.json", "server.js"],
    ),
    (
        "run-calls-git",
        "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -ldflags \"-X main.version=$(git describe --tags --always)\" -o /out/app .\n\nFROM gcr.io/distroless/static-debian12\nCOPY --from=build /out/app /app\nENTRYPOINT [\"/app\"]\n",
        &[".git/", ".idea/", ".idea/workspace.xml", "Dockerfile", "go.mod", "go.sum", "main.go", "main_test.go", "coverage.log"],
    ),
    (
        "git-clone-only",
        "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends git \\\n    && git clone --depth 1 https://github.com/example/tools /opt/tools\nCOPY . /app\nCMD [\"python\", \"/app/main.py\"]\n",
        &[".git/", ".venv/", ".venv/pyvenv.cfg", "Dockerfile", "main.py", "requirements.txt"],
    ),
];

#[test]
fn listing_cases() {
    for (name, dockerfile, files) in LISTING_CASES {
        let context = Context {
            files: Some(files.iter().map(|s| s.to_string()).collect()),
            dockerignore: None,
            artifacts_allowed: true,
            ..Context::default()
        };
        let outcome = optimize(dockerfile, &context, &settings()).unwrap();
        let report = format!(
            "context: {}\n\n{}",
            files.join(" "),
            dockopt::render::spec_report("Dockerfile", dockerfile, &outcome, true)
        );
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(format!("dockerignore_listing__{name}"), report);
        });
    }
}

