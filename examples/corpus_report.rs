//! What each transform does to the shared corpus, run alone with `--unsafe`: how many files it
//! reports on, how many it rewrites (Safe / Unsafe fixes applied), and why it leaves the rest of its
//! findings unfixed (the first clause of each `why: … No fix: …`, counted).
//!
//!     cargo run --release --example corpus_report [-- CORPUS [TRANSFORM...]]
//!
//! CORPUS defaults to ../shared/corpus (one folder per Dockerfile, with `context.txt` listing its
//! build context, which stands in for the files: contents are unknown).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use transforms::{catalog, optimize, Applicability, Context, Settings};

fn main() {
    let mut args = std::env::args().skip(1);
    let corpus = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let mut names: Vec<String> = args.collect();
    if names.is_empty() {
        names = catalog().iter().map(|t| t.name.to_string()).collect();
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap_or_else(|e| panic!("{}: {e}", corpus.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Dockerfile").is_file())
        .collect();
    entries.sort();
    let files: Vec<(String, Context)> = entries
        .iter()
        .map(|entry| {
            let text = std::fs::read_to_string(entry.join("Dockerfile")).unwrap_or_default();
            let listing = std::fs::read_to_string(entry.join("context.txt")).unwrap_or_default();
            let files = listing.lines().filter(|l| !l.is_empty()).map(str::to_string).collect();
            (text, Context { files: Some(files), ..Context::default() })
        })
        .collect();
    println!("{} Dockerfiles in {}\n", files.len(), corpus.display());
    println!("| transform | files with findings | files rewritten | fixes applied (safe / unsafe) | findings left without a fix |");
    println!("|---|---|---|---|---|");
    let mut reasons_by_transform = Vec::new();
    for name in &names {
        let settings = Settings { unsafe_fixes: true, select: Some(vec![name.clone()]), ..Settings::default() };
        let (mut reported, mut rewritten, mut safe, mut unsafe_, mut left) = (0, 0, 0, 0, 0);
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        for (text, context) in &files {
            let Ok(outcome) = optimize(text, context, &settings) else { continue };
            if outcome.findings.is_empty() {
                continue;
            }
            reported += 1;
            rewritten += usize::from(outcome.changed(text));
            // A finding the transform's other fixes made moot is neither a fix nor left.
            for f in outcome.findings.iter().filter(|f| f.resolved_by.is_empty()) {
                match (&f.finding.fix, f.applied) {
                    (Some(fix), true) if fix.applicability == Applicability::Safe => safe += 1,
                    (Some(_), true) => unsafe_ += 1,
                    _ => {
                        left += 1;
                        *reasons.entry(reason(f.finding.why.as_deref().unwrap_or(&f.finding.message))).or_default() += 1;
                    }
                }
            }
        }
        println!("| {name} | {reported} | {rewritten} | {safe} / {unsafe_} | {left} |");
        reasons_by_transform.push((name, reasons));
    }
    for (name, reasons) in reasons_by_transform {
        if reasons.is_empty() {
            continue;
        }
        let mut sorted: Vec<(String, usize)> = reasons.into_iter().collect();
        sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        println!("\n{name}: findings left without a fix, by reason");
        for (why, count) in sorted.iter().take(15) {
            println!("  {count:>4}  {why}");
        }
        if sorted.len() > 15 {
            println!("  … and {} more reasons", sorted.len() - 15);
        }
    }
}

/// The reason a finding has no fix: the text after `No fix:` (or `no fix:`), up to its first
/// sentence (or `;` clause) end; else the `why` up to there.
fn reason(why: &str) -> String {
    let lower = why.to_ascii_lowercase();
    let start = lower.find("no fix: ").map_or(0, |at| at + "no fix: ".len());
    let rest = &why[start..];
    let end = [". ", "; "].iter().filter_map(|sep| rest.find(sep)).min().unwrap_or(rest.len()).min(110);
    let mut end = end;
    while !rest.is_char_boundary(end) {
        end -= 1;
    }
    rest[..end].trim_end_matches('.').to_string()
}
