//! The fix loop: collect fixes, apply the non-overlapping ones in start order, re-parse, repeat
//! until nothing changes. A result that does not parse, or a loop that does not settle, gives the
//! original text back with an error: dockopt never writes a Dockerfile it cannot read.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use crate::catalog::{catalog, find_transform};
use crate::fix::{apply_edits, Applicability, Artifact, Edit, Finding};
use crate::model::pragmas::Warning;
use crate::model::{From, Input, Model};
use crate::settings::{Context, Settings};
use crate::shell::ParseMemo;
use crate::syntax::{parse, parse_strict, Keyword, LineIndex, SyntaxError};

/// Enough for transforms that enable each other (one pass each) without hiding a livelock.
const MAX_PASSES: usize = 12;

#[derive(Debug, Clone, serde::Serialize)]
pub struct ReportedFinding {
    #[serde(flatten)]
    pub finding: Finding,
    /// Whether its fix is part of `Outcome::text`.
    pub applied: bool,
    /// The transforms whose applied fixes made this finding moot: its own fix was not applied,
    /// yet the fixed text no longer has it (a merge moved the cleanup it asked for). Empty when
    /// `applied`, and for a finding the fixed text still has.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resolved_by: Vec<&'static str>,
}

impl ReportedFinding {
    fn new(finding: Finding, applied: bool) -> Self {
        ReportedFinding { finding, applied, resolved_by: Vec::new() }
    }
}

/// A finding of the original text that a pragma suppresses: neither fixed nor reported.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Suppressed {
    #[serde(flatten)]
    pub finding: Finding,
    /// The pragma's line as written (`# hadolint ignore=DL3015`), trimmed.
    pub by: String,
    /// Where that line is in the original text.
    pub pragma: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    /// The rewritten text (the original when nothing applies or on `error`).
    pub text: String,
    /// Findings with ranges over the original text, in source order.
    pub findings: Vec<ReportedFinding>,
    /// Findings of the original text that pragmas suppress, in source order.
    pub suppressed: Vec<Suppressed>,
    /// Pragmas naming codes nobody knows, and pragmas that hold for nothing (original text).
    pub warnings: Vec<Warning>,
    /// Set when the fix loop failed; `text` is then the original.
    pub error: Option<FixLoopError>,
    /// Extra files to write, computed on the final text (only those applicable under the settings).
    pub artifacts: Vec<Artifact>,
}

/// Why the fix loop gave the original text back, and where: the original text under the fix that
/// produced a Dockerfile BuildKit cannot parse, or under the first fix that kept changing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FixLoopError {
    pub message: String,
    /// Byte offset in the original text; `line` and `column` are 1-based (columns in characters).
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

impl FixLoopError {
    fn new(source: &str, offset: usize, message: String) -> FixLoopError {
        let (line, column) = LineIndex::new(source).line_col(source, offset);
        FixLoopError { message, offset, line, column }
    }
}

impl std::fmt::Display for FixLoopError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl Outcome {
    pub fn changed(&self, original: &str) -> bool {
        self.text != original
    }
}

/// Parse `source`, run the enabled transforms to a fixed point and report what they found.
/// Errs only when `source` itself does not parse.
///
/// What is reported does not depend on the order in which fixes run: every transform checks the
/// original text (the first pass), and each of those findings is reported with how it ends up:
/// applied (its own fix, or the same finding's fix in a later pass), still in the fixed text, or
/// made moot by other transforms' fixes (`resolved_by`, never dropped). Later passes add only
/// fixes made to text the original had, and what the fixed text still has beyond the original's.
pub fn optimize(source: &str, context: &Context, settings: &Settings) -> Result<Outcome, SyntaxError> {
    // Each pass re-parses the file; the shell of a RUN no fix touched is parsed once.
    let memo = ParseMemo::new();
    let mut text = source.to_string();
    // Edits applied by each pass, to map later findings back onto the original text.
    let mut history: Vec<Layer> = Vec::new();
    // Every applied edit: the transform and its range over the original text.
    let mut applied_edits: Vec<(&'static str, Range<usize>)> = Vec::new();
    // The checks of the original text, and whether the settled text still has each.
    let mut original: Vec<ReportedFinding> = Vec::new();
    let mut still_there: Vec<bool> = Vec::new();
    // Beyond those: fixes of later passes, and what the settled text has that the original had not.
    let mut later: Vec<ReportedFinding> = Vec::new();
    // Lookups into `original` and `later`, so that matching a finding costs no scan of them.
    let mut index = Originals::default();
    let threshold = if settings.unsafe_fixes { Applicability::Unsafe } else { Applicability::Safe };
    let mut suppressed: Vec<Suppressed> = Vec::new();
    let mut warnings: Vec<Warning> = Vec::new();
    // The previous pass applied only fixes of transforms that run last: they are idempotent (the
    // tests check it), so they are not run again on their own output.
    let mut last_ran_alone = false;
    // Where the latest pass's first applied fix is, over the original text.
    let mut unsettled_at: Option<usize> = None;

    for pass in 0..MAX_PASSES {
        memo.forget_absent(&text);
        let file = match parse_strict(&text) {
            Ok(file) => file,
            Err(e) if pass == 0 => return Err(e),
            Err(e) => {
                let message = format!("a fix produced a Dockerfile that does not parse ({}); nothing was changed", e.message);
                let error = FixLoopError::new(source, map_back(&history, e.offset..e.offset).start, message);
                return Ok(failed(source, original, suppressed, warnings, error));
            }
        };
        let input = Input::new(&file, context, settings);
        let mut findings: Vec<Finding> = catalog()
            .iter()
            .filter(|t| settings.enabled(t.name) && !t.runs_last)
            .flat_map(|t| (t.run)(&input))
            .filter(|f| settings.check_enabled(f.check))
            .collect();
        // What a pragma names is neither fixed nor reported (those of the original text are listed).
        let pragmas = input.pragmas();
        findings.retain(|f| match pragmas.suppressing(&file, f) {
            None => true,
            Some(pragma) => {
                if pass == 0 {
                    let by = file.text(pragma.range.clone()).trim().to_string();
                    suppressed.push(Suppressed { finding: f.clone(), by, pragma: pragma.range.clone() });
                }
                false
            }
        });
        if pass == 0 {
            warnings = pragmas.warnings.clone();
        }
        // A transform that runs last (the formatter) sees the text the others settled on.
        let others_fix = findings
            .iter()
            .any(|f| f.fix.as_ref().is_some_and(|x| x.applicability >= threshold && !x.edits.is_empty()));
        if !others_fix && !last_ran_alone {
            let last = catalog().iter().filter(|t| settings.enabled(t.name) && t.runs_last).flat_map(|t| (t.run)(&input));
            for f in last.filter(|f| settings.check_enabled(f.check)) {
                match pragmas.suppressing(&file, &f) {
                    None => findings.push(f),
                    Some(pragma) if pass == 0 => {
                        let by = file.text(pragma.range.clone()).trim().to_string();
                        suppressed.push(Suppressed { finding: f.clone(), by, pragma: pragma.range.clone() });
                    }
                    Some(_) => {}
                }
            }
        }
        // Pragmas stay with their instruction: lines inserted before one go above its pragma, and
        // a fix that would still part them is not offered.
        for f in &mut findings {
            let Some(fix) = f.fix.as_mut() else { continue };
            pragmas.insert_above(&file, fix);
            if let Some(pragma) = pragmas.displaced_by(&file, fix) {
                let line = file.source[..pragma.range.start].matches('\n').count() + 1;
                let text = file.text(pragma.range.clone()).trim();
                let no_fix = format!("no fix: it would part `{text}` (line {line}) from the instruction it is written for");
                f.why = Some(match f.why.take() {
                    Some(why) => format!("{why}; {no_fix}"),
                    None => no_fix,
                });
                f.fix = None;
            }
        }
        findings.sort_by_key(|f| (f.fix.as_ref().map_or(f.range.start, |x| x.range().start), f.range.end));

        let mut accepted: Vec<&Edit> = Vec::new();
        // Per accepted edit: the finding whose fix it is (index into `findings`).
        let mut owners: Vec<usize> = Vec::new();
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
            owners.extend(fix.edits.iter().map(|_| i));
            last_end = Some(range.end);
            applied[i] = true;
        }

        let next = (!accepted.is_empty()).then(|| apply_edits(&text, &accepted));
        let settled = next.as_ref().is_none_or(|n| *n == text);
        if !settled {
            unsettled_at = None;
            for (f, _) in findings.iter().zip(&applied).filter(|(_, a)| **a) {
                unsettled_at = unsettled_at.or(f.fix.as_ref().map(|fix| map_back(&history, fix.range()).start));
                let edits = f.fix.iter().flat_map(|fix| &fix.edits);
                applied_edits.extend(edits.map(|e| (f.transform, map_back(&history, e.range.clone()))));
            }
        }

        if pass == 0 {
            original = findings.iter().zip(&applied).map(|(f, a)| ReportedFinding::new(f.clone(), *a && !settled)).collect();
            still_there = vec![settled; original.len()];
            index = Originals::new(&original);
        } else {
            for (f, was_applied) in findings.iter().zip(&applied) {
                if settled {
                    note_remaining(f, &history, &original, &mut index, &mut still_there, &mut later);
                } else if *was_applied {
                    note_applied_later(f, source, &history, &mut original, &mut index, &mut later);
                }
            }
        }

        if settled {
            let mut artifacts: Vec<Artifact> = if context.artifacts_allowed {
                catalog()
                    .iter()
                    .filter(|t| settings.enabled(t.name))
                    .filter_map(|t| t.artifacts)
                    .flat_map(|produce| produce(&input))
                    .filter(|a| a.applicability >= threshold)
                    // A proposal that is the file as it is writes nothing: its finding is not fixed.
                    .filter(|a| a.original.as_deref() != Some(a.text.as_str()))
                    .collect()
            } else {
                Vec::new()
            };
            let mut reported = original;
            let applied_edits = AppliedEdits::new(applied_edits);
            for (r, there) in reported.iter_mut().zip(&still_there) {
                if !r.applied && !there {
                    r.resolved_by = applied_edits.resolvers(&r.finding);
                }
            }
            reported.append(&mut later);
            // An extra file is the remedy of a finding without edits: none reported (suppressed,
            // or its check not enabled), no file.
            let remedy = |r: &ReportedFinding| r.finding.fix.as_ref().is_some_and(|f| f.edits.is_empty());
            artifacts.retain(|a| reported.iter().any(|r| r.finding.transform == a.transform && remedy(r)));
            // A finding whose remedy is an extra file (a fix without edits) is applied when that
            // file is proposed.
            for r in reported.iter_mut().filter(|r| r.finding.fix.as_ref().is_some_and(|f| f.edits.is_empty())) {
                if artifacts.iter().any(|a| a.transform == r.finding.transform) {
                    r.applied = true;
                    r.resolved_by.clear();
                }
            }
            reported.sort_by_key(|r| (r.finding.range.start, r.finding.range.end));
            suppressed.sort_by_key(|s| (s.finding.range.start, s.finding.range.end));
            return Ok(Outcome { text, findings: reported, suppressed, warnings, error: None, artifacts });
        }
        last_ran_alone = findings
            .iter()
            .zip(&applied)
            .filter(|(_, was_applied)| **was_applied)
            .all(|(f, _)| find_transform(f.transform).is_some_and(|t| t.runs_last));
        let owners = owners
            .iter()
            .zip(&accepted)
            .map(|(&i, e)| Owner { fix: i, finding: findings[i].range.clone(), removed: text[e.range.clone()].to_string() })
            .collect();
        history.push(Layer::with_owners(accepted.into_iter().cloned().collect(), owners));
        text = next.expect("checked above");
    }
    let message = format!("fixes did not settle after {MAX_PASSES} passes; nothing was changed");
    Ok(failed(source, original, suppressed, warnings, FixLoopError::new(source, unsettled_at.unwrap_or(0), message)))
}

/// The context paths the shipped image's last COPY/ADD from the build context takes (`""`: the
/// whole context), resolved as BuildKit resolves them; sources written with variables, URLs and
/// heredocs are left out. `dockopt verify` edits one of these files to measure the build cache.
pub fn final_copy_sources(source: &str) -> Result<Vec<String>, SyntaxError> {
    let file = parse(source)?;
    let model = Model::new(&file, &Settings::default());
    let last = model.reads().iter().rev().find(|r| {
        r.from == From::Context
            && model.stage_of(r.instruction) == model.final_stage()
            && matches!(file.instructions[r.instruction].keyword, Keyword::Copy | Keyword::Add)
    });
    Ok(last.iter().flat_map(|r| &r.sources).filter(|s| s.written.is_none()).map(|s| s.path.clone()).collect())
}

/// A finding of the settled text (`f`, over the text after `history`): the original finding it
/// still is, or else something the fixes left that the original had not.
fn note_remaining(
    f: &Finding,
    history: &[Layer],
    original: &[ReportedFinding],
    index: &mut Originals,
    still_there: &mut [bool],
    later: &mut Vec<ReportedFinding>,
) {
    let range = locate(history, f.range.clone());
    let open = |i: usize| !original[i].applied && !still_there[i];
    if let Some(i) = index.matching(original, f, &range, open) {
        still_there[i] = true;
        return;
    }
    let report = ReportedFinding::new(over_original(f, range), false);
    // The same finding as one already applied: the fix is reported, not its echo.
    if index.known(&report) {
        return;
    }
    index.add_later(&report);
    later.push(report);
}

/// A fix applied in a later pass (`f`, over the text after `history`): the original finding it
/// resolves, or a fix the earlier ones made possible.
fn note_applied_later(
    f: &Finding,
    source: &str,
    history: &[Layer],
    original: &mut [ReportedFinding],
    index: &mut Originals,
    later: &mut Vec<ReportedFinding>,
) {
    // A fix of dockopt's own text (a cleanup after an install that another fix added, two
    // downloads of the lists that a merge put in one RUN) is part of the earlier fixes: the
    // original never had that problem, so it is not reported as one. When the original had the
    // same problem where a fix of the first pass could not go (another fix moved that text),
    // that original finding is the one this fix resolves.
    if written_by_fixes(source, history, f.range.clone()) {
        if let Some(i) = index.first_unapplied(original, f) {
            original[i].applied = true;
        }
        return;
    }
    let range = locate(history, f.range.clone());
    if let Some(i) = index.matching(original, f, &range, |i| !original[i].applied) {
        original[i].applied = true;
        return;
    }
    let report = ReportedFinding::new(over_original(f, range), true);
    if !index.in_later(&report) {
        index.add_later(&report);
        later.push(report);
    }
}

/// The original findings indexed by what they say and where, and what `later` holds: matching a
/// finding of a later pass takes a lookup, not a scan (a file with thousands of findings would
/// otherwise cost their square).
#[derive(Default)]
struct Originals {
    /// Per check and message: the findings, in `original` order and by start.
    by_message: HashMap<(&'static str, String), Group>,
    /// Per check and range: the findings, in `original` order.
    by_place: HashMap<(&'static str, Range<usize>), Vec<usize>>,
    /// Every original and later finding, as `same` compares them.
    original_keys: HashSet<Key>,
    later_keys: HashSet<Key>,
}

type Key = (&'static str, String, Range<usize>);

fn key(r: &ReportedFinding) -> Key {
    (r.finding.check.id, r.finding.message.clone(), r.finding.range.clone())
}

#[derive(Default)]
struct Group {
    in_order: Vec<usize>,
    /// `in_order` sorted by range start, and the largest range end up to each of them.
    by_start: Vec<usize>,
    max_end: Vec<usize>,
    /// Every finding before this place of `in_order` is applied (applied is never undone).
    unapplied_from: usize,
}

impl Originals {
    fn new(original: &[ReportedFinding]) -> Originals {
        let mut index = Originals::default();
        for (i, r) in original.iter().enumerate() {
            let f = &r.finding;
            index.by_message.entry((f.check.id, f.message.clone())).or_default().in_order.push(i);
            index.by_place.entry((f.check.id, f.range.clone())).or_default().push(i);
            index.original_keys.insert(key(r));
        }
        for group in index.by_message.values_mut() {
            group.by_start = group.in_order.clone();
            group.by_start.sort_by_key(|&i| (original[i].finding.range.start, i));
            let mut max = 0;
            group.max_end = group.by_start.iter().map(|&i| { max = max.max(original[i].finding.range.end); max }).collect();
        }
        index
    }

    /// The original finding that `f` (at `range` over the original text) is: the first, in
    /// `original` order, with the same check and message at an overlapping place, or else with
    /// the same check at the very same place (a message that names what the fixes changed). Only
    /// among the findings `open` allows.
    fn matching(&self, original: &[ReportedFinding], f: &Finding, range: &Range<usize>, open: impl Fn(usize) -> bool) -> Option<usize> {
        let overlapping = self.by_message.get(&(f.check.id, f.message.clone())).and_then(|group| {
            let starts_before_end = group.by_start.partition_point(|&i| original[i].finding.range.start <= range.end);
            let mut first: Option<usize> = None;
            for at in (0..starts_before_end).rev() {
                // No finding from here down ends at or after the range's start.
                if group.max_end[at] < range.start {
                    break;
                }
                let i = group.by_start[at];
                if original[i].finding.range.end >= range.start && open(i) && first.is_none_or(|j| i < j) {
                    first = Some(i);
                }
            }
            first
        });
        overlapping.or_else(|| self.by_place.get(&(f.check.id, range.clone()))?.iter().copied().find(|&i| open(i)))
    }

    /// The first original finding with `f`'s check and message that is not applied.
    fn first_unapplied(&mut self, original: &[ReportedFinding], f: &Finding) -> Option<usize> {
        let group = self.by_message.get_mut(&(f.check.id, f.message.clone()))?;
        while group.in_order.get(group.unapplied_from).is_some_and(|&i| original[i].applied) {
            group.unapplied_from += 1;
        }
        group.in_order.get(group.unapplied_from).copied()
    }

    /// Whether the same finding at the same place is among the original findings or `later`.
    fn known(&self, r: &ReportedFinding) -> bool {
        let k = key(r);
        self.original_keys.contains(&k) || self.later_keys.contains(&k)
    }

    fn in_later(&self, r: &ReportedFinding) -> bool {
        self.later_keys.contains(&key(r))
    }

    fn add_later(&mut self, r: &ReportedFinding) {
        self.later_keys.insert(key(r));
    }
}

/// A finding of a later pass, placed on the original text. Its edits are over intermediate text:
/// they are dropped (the diff shows their effect).
fn over_original(f: &Finding, range: Range<usize>) -> Finding {
    let mut f = f.clone();
    f.range = range;
    if let Some(fix) = f.fix.as_mut() {
        fix.edits.clear();
    }
    f
}

/// Every applied edit over the original text, with the transform that made it, sorted by start.
struct AppliedEdits {
    edits: Vec<(&'static str, Range<usize>)>,
    /// The largest end among the edits up to each one.
    max_end: Vec<usize>,
    /// Every transform that applied something.
    names: Vec<&'static str>,
}

impl AppliedEdits {
    fn new(mut edits: Vec<(&'static str, Range<usize>)>) -> AppliedEdits {
        edits.sort_by_key(|(_, r)| r.start);
        let mut max = 0;
        let max_end = edits.iter().map(|(_, r)| { max = max.max(r.end); max }).collect();
        let mut names: Vec<&'static str> = edits.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        names.dedup();
        AppliedEdits { edits, max_end, names }
    }

    /// The transforms whose applied edits touch the finding or its own fix; every transform that
    /// applied something when none does (a fix elsewhere changed what the check sees).
    fn resolvers(&self, finding: &Finding) -> Vec<&'static str> {
        let mut spans = vec![finding.range.clone()];
        spans.extend(finding.fix.iter().flat_map(|fix| fix.edits.iter().map(|e| e.range.clone())));
        let mut names = Vec::new();
        for span in spans {
            let starts_before_end = self.edits.partition_point(|(_, r)| r.start <= span.end);
            for at in (0..starts_before_end).rev() {
                if self.max_end[at] < span.start {
                    break;
                }
                let (name, r) = &self.edits[at];
                if r.end >= span.start {
                    names.push(*name);
                }
            }
        }
        if names.is_empty() {
            return self.names.clone();
        }
        names.sort_unstable();
        names.dedup();
        names
    }
}

fn failed(source: &str, mut reported: Vec<ReportedFinding>, suppressed: Vec<Suppressed>, warnings: Vec<Warning>, error: FixLoopError) -> Outcome {
    for r in &mut reported {
        r.applied = false;
        r.resolved_by.clear();
    }
    Outcome { text: source.to_string(), findings: reported, suppressed, warnings, error: Some(error), artifacts: Vec::new() }
}

/// The edits one pass applied, with where each landed in the text after the pass: a position is
/// mapped back with a binary search instead of a walk over every edit.
struct Layer {
    edits: Vec<Edit>,
    /// Per edit: the finding whose fix made it (empty in unit tests that need none).
    owners: Vec<Owner>,
    /// Per edit: its start and end in the text after the pass (both never decrease), and the
    /// change of length made by the edits before it.
    new_start: Vec<usize>,
    new_end: Vec<usize>,
    delta_before: Vec<isize>,
    delta_total: isize,
}

/// The finding an applied edit belongs to, over the text before the pass.
struct Owner {
    /// Which fix of the pass (edits of one fix share it).
    fix: usize,
    /// Where that finding is.
    finding: Range<usize>,
    /// The text the edit replaced.
    removed: String,
}

impl Layer {
    #[cfg(test)]
    fn new(edits: Vec<Edit>) -> Layer {
        Layer::with_owners(edits, Vec::new())
    }

    fn with_owners(edits: Vec<Edit>, owners: Vec<Owner>) -> Layer {
        let (mut new_start, mut new_end, mut delta_before) = (Vec::new(), Vec::new(), Vec::new());
        let mut delta: isize = 0;
        for e in &edits {
            let start = (e.range.start as isize + delta) as usize;
            new_start.push(start);
            new_end.push(start + e.replacement.len());
            delta_before.push(delta);
            delta += e.replacement.len() as isize - e.range.len() as isize;
        }
        Layer { edits, owners, new_start, new_end, delta_before, delta_total: delta }
    }

    /// The edit whose replacement holds position `pos` of the text after the pass.
    fn written_at(&self, pos: usize) -> Option<usize> {
        let last = self.new_start.partition_point(|&s| s <= pos).checked_sub(1)?;
        (pos < self.new_end[last]).then_some(last)
    }

    /// Where a finding at `range` (over the text after the pass) is in the text before it. A
    /// finding that starts in text the pass wrote has no place of its own there: text a fix moved
    /// (`COPY . .` below the install) is found where the fix took it from, anything else (a stage
    /// multi-stage appended) is placed on the finding whose fix wrote it. Never the bare insertion
    /// point, which may be the end of the file or the next, unrelated instruction.
    fn locate(&self, range: Range<usize>) -> Range<usize> {
        // Only text an insertion wrote has no place of its own: text that replaced original text in
        // place (`ADD` → `COPY`) is where the text it replaced was, as before.
        let inserted = |k: &usize| *k < self.owners.len() && self.edits[*k].range.is_empty();
        let Some(k) = self.written_at(range.start).filter(inserted) else {
            let start = self.map_through(range.start);
            return start..self.map_through(range.end).max(start);
        };
        let owner = &self.owners[k];
        if range.end <= self.new_end[k] {
            let offset = self.new_start[k];
            let text = &self.edits[k].replacement[range.start - offset..range.end - offset];
            if !text.trim().is_empty() {
                let mut sources = (0..self.edits.len())
                    .filter(|&j| j != k && self.owners[j].fix == owner.fix)
                    .filter_map(|j| {
                        let removed = &self.owners[j].removed;
                        let at = removed.find(text)?;
                        (removed.rfind(text) == Some(at)).then(|| self.edits[j].range.start + at)
                    });
                if let (Some(at), None) = (sources.next(), sources.next()) {
                    return at..at + text.len();
                }
            }
        }
        owner.finding.clone()
    }

    fn delta_before(&self, edit: usize) -> isize {
        self.delta_before.get(edit).copied().unwrap_or(self.delta_total)
    }

    /// Position in the text before the edits of position `pos` in the text after them: inside
    /// a replacement, where the replaced text started.
    fn map_through(&self, pos: usize) -> usize {
        // The last edit starting at or before `pos`; the ones before it end at or before `pos`.
        let Some(last) = self.new_start.partition_point(|&s| s <= pos).checked_sub(1) else {
            return pos;
        };
        if pos < self.new_end[last] {
            return self.edits[last].range.start;
        }
        (pos as isize - self.delta_before(last + 1)) as usize
    }
}

/// Whether every character of `range` (over the text after `history`) was written by the fixes of
/// `history`, or is whitespace of the original.
fn written_by_fixes(original: &str, history: &[Layer], range: Range<usize>) -> bool {
    if range.is_empty() {
        return false;
    }
    let mut segments = vec![range];
    for layer in history.iter().rev() {
        let mut before = Vec::new();
        for segment in segments {
            // Edits that end before the segment only shift it.
            let mut at = layer.new_end.partition_point(|&end| end <= segment.start);
            let mut delta = layer.delta_before(at);
            let mut cursor = segment.start;
            let back = |pos: usize, delta: isize| (pos as isize - delta) as usize;
            while let Some(e) = layer.edits.get(at) {
                let (new_start, new_end) = (layer.new_start[at], layer.new_end[at]);
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
                at += 1;
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

/// Where a finding at `range` (over the text after `history`) is in the original text (see
/// `Layer::locate`).
fn locate(history: &[Layer], range: Range<usize>) -> Range<usize> {
    history.iter().rev().fold(range, |r, layer| layer.locate(r))
}

/// Map a range over the text after `history` back onto the original text.
fn map_back(history: &[Layer], range: Range<usize>) -> Range<usize> {
    let mut r = range;
    for layer in history.iter().rev() {
        r = layer.map_through(r.start)..layer.map_through(r.end);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_loop_error_says_where_in_the_original() {
        let source = "FROM a\nRUN x\n  RUN y\n";
        let error = FixLoopError::new(source, source.find("RUN y").unwrap(), "m".into());
        assert_eq!((error.line, error.column, error.to_string().as_str()), (3, 3, "3:3: m"));
    }

    #[test]
    fn text_written_by_fixes_is_told_from_the_original() {
        let original = "RUN a\nRUN b\n";
        // Pass 1 appends ` && c` to the first RUN; pass 2 joins the RUNs.
        let history = vec![
            Layer::new(vec![Edit::insert(5, " && c")]),
            Layer::new(vec![Edit::replace(10..15, " \\\n    && ")]),
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
    fn reports_what_was_applied_what_remains_and_what_other_fixes_resolved() {
        let source = "FROM debian:bookworm-slim\nRUN apt-get update\nRUN apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n";
        let outcome = run(source, &["run-cleanup", "merge-runs"], false);
        assert_eq!(outcome.text.matches("RUN ").count(), 1, "{}", outcome.text);
        assert_eq!(outcome.text.matches("rm -rf /var/lib/apt/lists/*").count(), 1, "{}", outcome.text);
        // Only the Unsafe --no-install-recommends remains; nothing says the RUNs are still separate.
        let remaining: Vec<&str> = outcome
            .findings
            .iter()
            .filter(|r| !r.applied && r.resolved_by.is_empty())
            .map(|r| r.finding.message.as_str())
            .collect();
        assert_eq!(remaining.len(), 1, "{remaining:?}");
        assert!(remaining[0].contains("--no-install-recommends"), "{remaining:?}");
        // The merge of three RUNs was not applied as such (run-cleanup removed one of them first),
        // yet it is reported, as made moot by the fixes that did the work.
        let merge = outcome.findings.iter().find(|r| r.finding.message.contains("3 consecutive RUN")).expect("reported");
        assert!(!merge.applied);
        assert_eq!(merge.resolved_by, ["merge-runs", "run-cleanup"]);
        assert!(outcome.findings.iter().all(|r| r.finding.range.end <= source.len()));
    }

    /// What `check` shows is what each transform finds in the original text, whichever fixes run
    /// first: run alone or together, every transform's findings on the original are reported.
    #[test]
    fn findings_do_not_depend_on_which_fixes_run_first() {
        let sources = [
            "FROM debian:bookworm-slim\nRUN apt-get update\nRUN apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n",
            "FROM python:3.12\nMAINTAINER me\nRUN apt-get update\nRUN apt-get install -y gcc\nADD . /app\nRUN pip install -r /app/requirements.txt\nCMD [\"python\", \"/app/app.py\"]\n",
            "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\nCMD [\"/app\"]\n",
        ];
        let names: Vec<&str> = catalog().iter().map(|t| t.name).collect();
        for source in sources {
            for unsafe_fixes in [false, true] {
                let together = run(source, &names, unsafe_fixes);
                for name in &names {
                    let alone = run(source, &[name], false);
                    // Alone, with nothing applied, a transform reports exactly its checks of the original.
                    let first: Vec<(&str, Range<usize>)> = alone.findings.iter().map(|r| (r.finding.message.as_str(), r.finding.range.clone())).collect();
                    for (message, range) in first {
                        let found = together.findings.iter().any(|r| r.finding.transform == *name && r.finding.message == message && r.finding.range == range);
                        assert!(found, "{name}: `{message}` at {range:?} is missing when every transform runs (unsafe: {unsafe_fixes}):\n{source}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_fix_applied_in_a_later_pass_is_reported_once_as_applied() {
        let source = "FROM debian:bookworm-slim\nMAINTAINER me\nADD app.sh /app.sh\n";
        let outcome = run(source, &["modernize"], false);
        assert!(outcome.findings.iter().all(|r| r.applied), "{:?}", outcome.findings);
        assert_eq!(outcome.findings.len(), 2);
        assert_eq!(run(&outcome.text, &["modernize"], false).findings.len(), 0);
    }

    /// A finding in text a fix wrote points where that text came from, or at the finding whose
    /// fix wrote it: never at the bare insertion point (the end of the file, the next line).
    #[test]
    fn findings_in_written_text_are_placed_on_the_original() {
        let owner = |fix: usize, finding: Range<usize>, removed: &str| Owner { fix, finding, removed: removed.to_string() };
        // "FROM a\nCOPY . .\nRUN b\nCMD c\n": one fix moves `COPY . .` below `RUN b`, another
        // appends a stage at the end.
        let original = "FROM a\nCOPY . .\nRUN b\nCMD c\n";
        let edits = vec![Edit::delete(7..16), Edit::insert(22, "COPY . .\n"), Edit::insert(original.len(), "\nFROM d\n")];
        let owners = vec![owner(0, 7..15, "COPY . .\n"), owner(0, 7..15, ""), owner(1, 0..6, "")];
        let layer = Layer::with_owners(edits.clone(), owners);
        let after = apply_edits(original, &edits.iter().collect::<Vec<_>>());
        assert_eq!(after, "FROM a\nRUN b\nCOPY . .\nCMD c\n\nFROM d\n");
        let at = |needle: &str| after.find(needle).unwrap();
        // The moved COPY: where it was.
        assert_eq!(layer.locate(at("COPY")..at("COPY") + 8), 7..15);
        // The appended stage: on the finding that wrote it, not past the end.
        assert_eq!(layer.locate(at("FROM d")..at("FROM d") + 6), 0..6);
        // Text of the original: shifted as before.
        assert_eq!(layer.locate(at("CMD")..at("CMD") + 5), 22..27);
    }

    /// Text that replaced original text in place (`ADD` → `COPY`) stays where that text was, so
    /// that a later pass's finding there matches the one first reported.
    #[test]
    fn findings_in_replaced_text_stay_on_the_original() {
        let original = "FROM a\nADD . /app\nRUN b\n";
        let edits = vec![Edit::replace(7..10, "COPY")];
        let layer = Layer::with_owners(edits.clone(), vec![Owner { fix: 0, finding: 0..6, removed: "ADD".to_string() }]);
        let after = apply_edits(original, &edits.iter().collect::<Vec<_>>());
        assert_eq!(after, "FROM a\nCOPY . /app\nRUN b\n");
        // Not on the finding whose fix replaced it (here the FROM): on the replaced text.
        assert_eq!(layer.locate(7..18).start, 7);
    }

    #[test]
    fn map_through_shifts_positions_after_an_edit() {
        let layer = Layer::new(vec![Edit::replace(2..4, "abcdef")]);
        assert_eq!(layer.map_through(1), 1);
        assert_eq!(layer.map_through(3), 2);
        assert_eq!(layer.map_through(8), 4);
        assert_eq!(layer.map_through(10), 6);
    }
}
