//! What each check of one transform does to the shared corpus, the transform run alone with
//! `--unsafe`: how many files each check reports on, its findings, the fixes applied (Safe /
//! Unsafe), the findings left without a fix and their reasons (the clause after `not …:`).
//!
//!     cargo run --release --example checks_report -- TRANSFORM [CORPUS]
//!     WITH=merge-runs cargo run --release --example checks_report -- TRANSFORM    (with other transforms)
//!
//! CORPUS defaults to ../shared/corpus (one folder per Dockerfile, with `context.txt` listing its
//! build context; contents are unknown).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use transforms::{checks, optimize, Applicability, Context, Settings};

#[derive(Default)]
struct Counts {
    files: usize,
    findings: usize,
    safe: usize,
    unsafe_: usize,
    left: usize,
    reasons: BTreeMap<String, usize>,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let transform = args.next().expect("usage: checks_report TRANSFORM [CORPUS]");
    let corpus = args.next().map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap_or_else(|e| panic!("{}: {e}", corpus.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Dockerfile").is_file())
        .collect();
    entries.sort();
    // WITH=merge-runs: run other transforms too (their fixes can enable this one's), count this one's.
    let mut select = vec![transform.clone()];
    select.extend(std::env::var("WITH").ok().iter().flat_map(|w| w.split(',').map(str::to_string)));
    let settings = Settings { unsafe_fixes: true, select: Some(select), ..Settings::default() };
    let mut counts: BTreeMap<&'static str, Counts> = checks::of_transform(&transform).map(|c| (c.id, Counts::default())).collect();
    let mut examples: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for entry in &entries {
        let text = std::fs::read_to_string(entry.join("Dockerfile")).unwrap_or_default();
        let listing = std::fs::read_to_string(entry.join("context.txt")).unwrap_or_default();
        let context = Context { files: Some(listing.lines().filter(|l| !l.is_empty()).map(str::to_string).collect()), ..Context::default() };
        let Ok(outcome) = optimize(&text, &context, &settings) else { continue };
        let mut seen: Vec<&'static str> = Vec::new();
        for f in outcome.findings.iter().filter(|f| f.resolved_by.is_empty() && f.finding.transform == transform) {
            let id = f.finding.check.id;
            let c = counts.entry(id).or_default();
            c.findings += 1;
            if !seen.contains(&id) {
                seen.push(id);
                c.files += 1;
                examples.entry(id).or_default().push(entry.file_name().unwrap_or_default().to_string_lossy().into_owned());
            }
            match (&f.finding.fix, f.applied) {
                (Some(fix), true) if fix.applicability == Applicability::Safe => c.safe += 1,
                (Some(_), true) => c.unsafe_ += 1,
                _ => {
                    c.left += 1;
                    *c.reasons.entry(reason(f.finding.why.as_deref().unwrap_or(&f.finding.message))).or_default() += 1;
                }
            }
        }
    }
    println!("{} Dockerfiles in {}, `{transform}` alone with --unsafe\n", entries.len(), corpus.display());
    println!("| check | files | findings | fixes applied (safe / unsafe) | left without a fix |");
    println!("|---|---|---|---|---|");
    for (id, c) in &counts {
        println!("| `{id}` | {} | {} | {} / {} | {} |", c.files, c.findings, c.safe, c.unsafe_, c.left);
    }
    for (id, c) in &counts {
        if !c.reasons.is_empty() {
            let mut sorted: Vec<(&String, &usize)> = c.reasons.iter().collect();
            sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            println!("\n{id}: left without a fix, by reason");
            for (why, count) in sorted.iter().take(12) {
                println!("  {count:>4}  {why}");
            }
        }
        if std::env::var_os("EXAMPLES").is_some() {
            println!("  files: {}", examples.get(id).map(|e| e.join(" ")).unwrap_or_default());
        }
    }
}

/// The reason a finding has no fix: the clause after `not rewritten:`, `not fixed:`, `no fix:` …
/// up to the end of its sentence; else the `why` up to there.
fn reason(why: &str) -> String {
    let lower = why.to_ascii_lowercase();
    let start = ["not rewritten: ", "not fixed: ", "not moved: ", "not purged: ", "no fix: "]
        .iter()
        .filter_map(|m| lower.find(m).map(|at| at + m.len()))
        .min()
        .unwrap_or(0);
    let rest = &why[start..];
    let mut end = [". ", "; ", " ("].iter().filter_map(|sep| rest.find(sep)).min().unwrap_or(rest.len()).min(100);
    while !rest.is_char_boundary(end) {
        end -= 1;
    }
    // `line 12` → `line N`: the same reason at different places is one reason.
    let mut out = String::new();
    let mut digits = false;
    for c in rest[..end].trim_end_matches('.').chars() {
        if c.is_ascii_digit() {
            if !digits {
                out.push('N');
            }
            digits = true;
        } else {
            digits = false;
            out.push(c);
        }
    }
    out
}
