//! The fix loop: collect fixes, apply the non-overlapping ones in start order, re-parse, repeat
//! until nothing changes. A result that does not parse, or a loop that does not settle, gives the
//! original text back with an error: dockopt never writes a Dockerfile it cannot read.

use std::ops::Range;

use crate::catalog::{catalog, Input};
use crate::fix::{apply_edits, Applicability, Edit, Finding};
use crate::syntax::{parse_strict, SyntaxError};
use crate::{Context, Settings};

/// Enough for transforms that enable each other (one pass each) without hiding a livelock.
const MAX_PASSES: usize = 12;

#[derive(Debug, Clone, serde::Serialize)]
pub struct ReportedFinding {
    #[serde(flatten)]
    pub finding: Finding,
    /// Whether its fix is part of `Outcome::text`.
    pub applied: bool,
}

/// A file other than the Dockerfile that a transform proposes, e.g. a `.dockerignore`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Artifact {
    pub transform: &'static str,
    /// Relative to the build context's root, `/`-separated.
    pub path: String,
    /// The file's current text (`None`: the file does not exist yet).
    pub original: Option<String>,
    /// The proposed text.
    pub text: String,
    pub applicability: Applicability,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    /// The rewritten text (the original when nothing applies or on `error`).
    pub text: String,
    /// Findings with ranges over the original text, in source order.
    pub findings: Vec<ReportedFinding>,
    /// Set when the fix loop failed; `text` is then the original.
    pub error: Option<String>,
    /// Extra files to write, computed on the final text (only those applicable under the settings).
    pub artifacts: Vec<Artifact>,
}

impl Outcome {
    pub fn changed(&self, original: &str) -> bool {
        self.text != original
    }
}

/// Parse `source`, run the enabled transforms to a fixed point and report what they found.
/// Errs only when `source` itself does not parse.
pub fn optimize(source: &str, context: &Context, settings: &Settings) -> Result<Outcome, SyntaxError> {
    let mut text = source.to_string();
    // Edits applied by each pass, to map later findings back onto the original text.
    let mut history: Vec<Vec<Edit>> = Vec::new();
    let mut reported: Vec<ReportedFinding> = Vec::new();
    // What the original text has: given back, unapplied, when the loop fails.
    let mut first_pass: Vec<ReportedFinding> = Vec::new();
    let threshold = if settings.unsafe_fixes { Applicability::Unsafe } else { Applicability::Safe };

    for pass in 0..MAX_PASSES {
        let file = match parse_strict(&text) {
            Ok(file) => file,
            Err(e) if pass == 0 => return Err(e),
            Err(e) => {
                return Ok(failed(source, first_pass, format!("a fix produced a Dockerfile that does not parse ({e}); nothing was changed")))
            }
        };
        let input = Input::new(&file, context, settings);
        let mut findings: Vec<Finding> = catalog()
            .iter()
            .filter(|t| settings.enabled(t.name))
            .flat_map(|t| (t.run)(&input))
            .collect();
        findings.sort_by_key(|f| (f.fix.as_ref().map_or(f.range.start, |x| x.range().start), f.range.end));

        let mut accepted: Vec<&Edit> = Vec::new();
        let mut applied = vec![false; findings.len()];
        let mut last_end: Option<usize> = None;
        for (i, f) in findings.iter().enumerate() {
            let Some(fix) = &f.fix else { continue };
            if fix.applicability < threshold || fix.edits.is_empty() {
                continue;
            }
            let range = fix.range();
            // Skip overlaps (and a second insertion at the same point: their order would be a guess).
            if let Some(end) = last_end {
                if range.start < end || (range.start == end && accepted.last().is_some_and(|e| e.range.is_empty() && e.range.start == end)) {
                    continue;
                }
            }
            accepted.extend(fix.edits.iter());
            last_end = Some(range.end);
            applied[i] = true;
        }

        let next = (!accepted.is_empty()).then(|| apply_edits(&text, &accepted));
        let settled = next.as_ref().is_none_or(|n| *n == text);
        // Reported: every fix that was applied, in the pass that applied it, and what the settled
        // text still has. A finding of an earlier pass that no later pass raises again was resolved
        // along the way (often by another transform's fix): reporting it would be stale.
        for (f, was_applied) in findings.iter().zip(&applied) {
            if !(*was_applied || settled || pass == 0) {
                continue;
            }
            // A fix of dockopt's own text (a cleanup after an install that another fix added, two
            // downloads of the lists that a merge put in one RUN) is part of the earlier fixes: the
            // original never had that problem, so it is not reported as one.
            // When the original had the same problem where a fix of the first pass could not go
            // (another fix moved that text), the original finding is the one reported.
            if pass > 0 && *was_applied && !settled && written_by_fixes(source, &history, f.range.clone()) {
                let deferred = first_pass.iter().find(|r| {
                    !r.applied
                        && r.finding.transform == f.transform
                        && r.finding.message == f.message
                        && !reported.iter().any(|x| same(x, r))
                });
                if let Some(mut original) = deferred.cloned() {
                    // Its edits were never applied as such: the fix happened in this pass.
                    if let Some(fix) = original.finding.fix.as_mut() {
                        fix.edits.clear();
                    }
                    reported.push(ReportedFinding { applied: true, ..original });
                }
                continue;
            }
            let mut f = f.clone();
            f.range = map_back(&history, f.range.clone());
            if let Some(fix) = f.fix.as_mut() {
                if !history.is_empty() {
                    // Edits of later passes are over intermediate text: report them without edits.
                    fix.edits.clear();
                }
            }
            let report = ReportedFinding { finding: f, applied: *was_applied && !settled };
            if pass == 0 {
                first_pass.push(report.clone());
            }
            if (report.applied || settled) && !reported.iter().any(|r| same(r, &report)) {
                reported.push(report);
            }
        }

        if settled {
            let artifacts: Vec<Artifact> = if context.artifacts_allowed {
                catalog()
                    .iter()
                    .filter(|t| settings.enabled(t.name))
                    .filter_map(|t| t.artifacts)
                    .flat_map(|produce| produce(&input))
                    .filter(|a| a.applicability >= threshold)
                    .collect()
            } else {
                Vec::new()
            };
            // A finding whose remedy is an extra file is applied when that file is proposed.
            for r in reported.iter_mut().filter(|r| r.finding.fix.is_none()) {
                r.applied |= artifacts.iter().any(|a| a.transform == r.finding.transform);
            }
            reported.sort_by_key(|r| (r.finding.range.start, r.finding.range.end));
            return Ok(Outcome { text, findings: reported, error: None, artifacts });
        }
        history.push(accepted.into_iter().cloned().collect());
        text = next.expect("checked above");
    }
    Ok(failed(source, first_pass, format!("fixes did not settle after {MAX_PASSES} passes; nothing was changed")))
}

fn failed(source: &str, mut reported: Vec<ReportedFinding>, error: String) -> Outcome {
    for r in &mut reported {
        r.applied = false;
    }
    Outcome { text: source.to_string(), findings: reported, error: Some(error), artifacts: Vec::new() }
}

/// The same finding at the same place: a fix applied in one pass, the remaining one of the last.
fn same(a: &ReportedFinding, b: &ReportedFinding) -> bool {
    a.finding.transform == b.finding.transform && a.finding.message == b.finding.message && a.finding.range == b.finding.range
}

/// Whether every character of `range` (over the text after `history`) was written by the fixes of
/// `history`, or is whitespace of the original.
fn written_by_fixes(original: &str, history: &[Vec<Edit>], range: Range<usize>) -> bool {
    if range.is_empty() {
        return false;
    }
    let mut segments = vec![range];
    for edits in history.iter().rev() {
        let mut before = Vec::new();
        for segment in segments {
            let mut delta: isize = 0;
            let mut cursor = segment.start;
            let back = |pos: usize, delta: isize| (pos as isize - delta) as usize;
            for e in edits {
                let new_start = (e.range.start as isize + delta) as usize;
                let new_end = new_start + e.replacement.len();
                let kept_end = new_start.min(segment.end);
                if cursor < kept_end {
                    before.push(back(cursor, delta)..back(kept_end, delta));
                    cursor = kept_end;
                }
                if cursor >= segment.end {
                    break;
                }
                cursor = cursor.max(new_end.min(segment.end));
                delta += e.replacement.len() as isize - e.range.len() as isize;
                if cursor >= segment.end {
                    break;
                }
            }
            if cursor < segment.end {
                before.push(back(cursor, delta)..back(segment.end, delta));
            }
        }
        segments = before.into_iter().filter(|s| !s.is_empty()).collect();
        if segments.is_empty() {
            return true;
        }
    }
    segments.iter().all(|s| original.get(s.clone()).is_some_and(|t| t.trim().is_empty()))
}

/// Map a range over the text after `history` back onto the original text.
fn map_back(history: &[Vec<Edit>], range: Range<usize>) -> Range<usize> {
    let mut r = range;
    for edits in history.iter().rev() {
        r = map_through(edits, r.start)..map_through(edits, r.end);
    }
    r
}

/// Position in the text before `edits` of position `pos` in the text after them.
fn map_through(edits: &[Edit], pos: usize) -> usize {
    let mut delta: isize = 0;
    for e in edits {
        let new_start = (e.range.start as isize + delta) as usize;
        let new_end = new_start + e.replacement.len();
        if pos < new_start {
            break;
        }
        if pos < new_end {
            return e.range.start;
        }
        delta += e.replacement.len() as isize - e.range.len() as isize;
    }
    (pos as isize - delta) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_written_by_fixes_is_told_from_the_original() {
        let original = "RUN a\nRUN b\n";
        // Pass 1 appends ` && c` to the first RUN; pass 2 joins the RUNs.
        let history = vec![
            vec![Edit::insert(5, " && c")],
            vec![Edit::replace(10..15, " \\\n    && ")],
        ];
        let after = "RUN a && c \\\n    && b\n";
        let at = |needle: &str| after.find(needle).unwrap();
        assert!(written_by_fixes(original, &history, at("&& c")..at("&& c") + 4));
        assert!(written_by_fixes(original, &history, at("c \\")..at("&& b")));
        assert!(!written_by_fixes(original, &history, at("a &&")..at("&& c") + 4));
        assert!(!written_by_fixes(original, &history, at("b\n")..at("b\n") + 1));
    }

    fn run(source: &str, select: &[&str], unsafe_fixes: bool) -> Outcome {
        let settings = Settings {
            unsafe_fixes,
            select: Some(select.iter().map(|s| s.to_string()).collect()),
            ..Settings::default()
        };
        optimize(source, &Context::default(), &settings).unwrap()
    }

    #[test]
    fn reports_what_was_applied_and_what_remains_not_what_was_resolved_on_the_way() {
        let source = "FROM debian:bookworm-slim\nRUN apt-get update\nRUN apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n";
        let outcome = run(source, &["run-cleanup", "merge-runs"], false);
        assert_eq!(outcome.text.matches("RUN ").count(), 1, "{}", outcome.text);
        assert_eq!(outcome.text.matches("rm -rf /var/lib/apt/lists/*").count(), 1, "{}", outcome.text);
        // Only the Unsafe --no-install-recommends remains; nothing says the RUNs are still separate.
        let remaining: Vec<&str> = outcome.findings.iter().filter(|r| !r.applied).map(|r| r.finding.message.as_str()).collect();
        assert_eq!(remaining.len(), 1, "{remaining:?}");
        assert!(remaining[0].contains("--no-install-recommends"), "{remaining:?}");
        assert!(outcome.findings.iter().all(|r| r.finding.range.end <= source.len()));
    }

    #[test]
    fn a_fix_applied_in_a_later_pass_is_reported_once_as_applied() {
        let source = "FROM debian:bookworm-slim\nMAINTAINER me\nADD app.sh /app.sh\n";
        let outcome = run(source, &["modernize"], false);
        assert!(outcome.findings.iter().all(|r| r.applied), "{:?}", outcome.findings);
        assert_eq!(outcome.findings.len(), 2);
        assert_eq!(run(&outcome.text, &["modernize"], false).findings.len(), 0);
    }

    #[test]
    fn map_through_shifts_positions_after_an_edit() {
        let edits = vec![Edit::replace(2..4, "abcdef")];
        assert_eq!(map_through(&edits, 1), 1);
        assert_eq!(map_through(&edits, 3), 2);
        assert_eq!(map_through(&edits, 8), 4);
        assert_eq!(map_through(&edits, 10), 6);
    }
}
