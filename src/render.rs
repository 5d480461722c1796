//! Output emitters: unified diff, text findings, JSON (`schema_version: 1`), GitHub workflow
//! annotations, and the fixture spec report (the same pieces, for the snapshot tests).

use std::fmt::Write as _;
use std::io::IsTerminal;

use serde::Serialize;
use similar::{ChangeTag, TextDiff};
use transforms::{Applicability, LineIndex, Outcome, ReportedFinding, Suppressed, Warning};

use crate::artifacts::{Plan, Planned};
use crate::process::FileReport;

/// ANSI styling, only when stdout is a terminal and NO_COLOR is unset or empty.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn for_stdout() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: !no_color && std::io::stdout().is_terminal(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// `a/NAME` for a relative name (as git writes it); an absolute path stays as it is.
fn side(prefix: &str, display: &str) -> String {
    if display.starts_with('/') {
        display.to_string()
    } else {
        format!("{prefix}/{display}")
    }
}

/// A unified diff of `old` → `new` with `--- a/NAME` / `+++ b/NAME` headers and 3 lines of context;
/// empty when the texts are equal. A last line without a terminator gets `\ No newline at end of file`.
pub fn unified_diff(display: &str, old: &str, new: &str, style: Style) -> String {
    diff_with_headers(
        &side("a", display),
        &side("b", display),
        old,
        new,
        style,
    )
}

/// The diff of a proposed extra file; a new file (`original` = `None`) is diffed against `/dev/null`.
pub fn artifact_diff(display: &str, original: Option<&str>, text: &str, style: Style) -> String {
    let old_header = match original {
        Some(_) => side("a", display),
        None => "/dev/null".to_string(),
    };
    diff_with_headers(
        &old_header,
        &side("b", display),
        original.unwrap_or(""),
        text,
        style,
    )
}

fn diff_with_headers(
    old_header: &str,
    new_header: &str,
    old: &str,
    new: &str,
    style: Style,
) -> String {
    if old == new {
        return String::new();
    }
    let diff = TextDiff::from_lines(old, new);
    let mut out = String::new();
    let _ = writeln!(out, "{}", style.paint("1", &format!("--- {old_header}")));
    let _ = writeln!(out, "{}", style.paint("1", &format!("+++ {new_header}")));
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        let _ = writeln!(out, "{}", style.paint("36", &hunk.header().to_string()));
        for change in hunk.iter_changes() {
            let (sign, code) = match change.tag() {
                ChangeTag::Delete => ('-', "31"),
                ChangeTag::Insert => ('+', "32"),
                ChangeTag::Equal => (' ', ""),
            };
            let value = change.value();
            let line = value.strip_suffix('\n').unwrap_or(value);
            let text = format!("{sign}{line}");
            if code.is_empty() {
                out.push_str(&text);
            } else {
                out.push_str(&style.paint(code, &text));
            }
            out.push('\n');
            if !value.ends_with('\n') {
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
    out
}

/// 1-based line and column of a byte offset, plus the offset itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub offset: usize,
}

/// Positions of findings in one source text.
pub struct Locator<'a> {
    text: &'a str,
    index: LineIndex,
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str) -> Self {
        Locator {
            text,
            index: LineIndex::new(text),
        }
    }

    pub fn position(&self, offset: usize) -> Position {
        let (line, column) = self.index.line_col(self.text, offset);
        Position {
            line,
            column,
            offset,
        }
    }
}

/// How a finding's fix stands: applied now, made moot by other fixes, held back for `--unsafe`,
/// or neither.
pub fn fix_status(finding: &ReportedFinding, unsafe_enabled: bool) -> FixStatus {
    match &finding.finding.fix {
        _ if finding.applied => FixStatus::Applied,
        _ if !finding.resolved_by.is_empty() => FixStatus::Resolved,
        Some(fix) if fix.applicability == Applicability::Unsafe && !unsafe_enabled => {
            FixStatus::NeedsUnsafe
        }
        Some(_) => FixStatus::NotApplied,
        None => FixStatus::NoFix,
    }
}

/// The findings of `outcome` that `fix` (with Unsafe fixes when `unsafe_enabled`) removes: its
/// fix applied, or other fixes made it moot.
pub fn removed_by_fix(outcome: &Outcome, unsafe_enabled: bool) -> impl Iterator<Item = &ReportedFinding> {
    outcome.findings.iter().filter(move |f| matches!(fix_status(f, unsafe_enabled), FixStatus::Applied | FixStatus::Resolved))
}

/// Per transform: how many more findings `fix --unsafe` removes than the report's `fix` does
/// (nothing when the report already runs with `--unsafe`). From the second run of the engine when
/// there was one (`FileReport::fixed_with_unsafe`), else the findings whose fix is Unsafe.
pub fn more_with_unsafe(report: &FileReport) -> std::collections::BTreeMap<&'static str, usize> {
    let mut more = std::collections::BTreeMap::<&'static str, usize>::new();
    let Ok(outcome) = &report.result else { return more };
    if report.unsafe_enabled {
        return more;
    }
    match &report.fixed_with_unsafe {
        Some(fixed) => {
            for transform in fixed {
                *more.entry(transform).or_default() += 1;
            }
            for finding in removed_by_fix(outcome, false) {
                if let Some(n) = more.get_mut(finding.finding.transform) {
                    *n = n.saturating_sub(1);
                }
            }
            more.retain(|_, n| *n > 0);
        }
        None => {
            for finding in outcome.findings.iter().filter(|f| fix_status(f, false) == FixStatus::NeedsUnsafe) {
                *more.entry(finding.finding.transform).or_default() += 1;
            }
        }
    }
    more
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixStatus {
    Applied,
    /// Its own fix is not applied, but other transforms' fixes remove it (`resolved_by`).
    Resolved,
    NeedsUnsafe,
    /// There is a fix but it was not applied (it overlapped another one).
    NotApplied,
    NoFix,
}

/// `path:line:col: check: message [*]` (the check id, `transform/check`), then `  why: …` when the
/// finding says why.
/// `[*]` marks a fix that `fix` applies with the current flags. With `detail`, a `  fix: …` line
/// gives the fix's title, applicability and whether it was applied (for the fixture snapshots).
pub fn finding_text(
    out: &mut String,
    display: &str,
    locator: &Locator,
    finding: &ReportedFinding,
    unsafe_enabled: bool,
    detail: bool,
    style: Style,
) {
    let f = &finding.finding;
    let start = locator.position(f.range.start);
    let location = style.paint("1", &format!("{display}:{}:{}:", start.line, start.column));
    let check = style.paint("33", f.check.id);
    let marker = match fix_status(finding, unsafe_enabled) {
        FixStatus::Applied => format!(" {}", style.paint("32", "[*]")),
        FixStatus::Resolved => format!(
            " {} ({})",
            style.paint("32", "[*]"),
            resolved_by(&finding.resolved_by)
        ),
        FixStatus::NeedsUnsafe => " (unsafe fix available, use --unsafe)".to_string(),
        FixStatus::NotApplied | FixStatus::NoFix => String::new(),
    };
    let _ = writeln!(out, "{location} {check}: {}{marker}", f.message);
    if let Some(why) = &f.why {
        let _ = writeln!(out, "  why: {}", indent_rest(why));
    }
    if detail {
        if let Some(fix) = &f.fix {
            let applicability = applicability_name(fix.applicability);
            let applied = if finding.applied {
                "applied".to_string()
            } else if !finding.resolved_by.is_empty() {
                format!("not applied, {}", resolved_by(&finding.resolved_by))
            } else {
                "not applied".to_string()
            };
            let _ = writeln!(out, "  fix: {} ({applicability}, {applied})", fix.title);
        }
    }
}

/// `path:line:col: check: message (suppressed by `# hadolint ignore=DL3015` at line 3)`: a
/// finding a pragma suppresses (`--show-suppressed`).
pub fn suppressed_text(out: &mut String, display: &str, locator: &Locator, suppressed: &Suppressed, style: Style) {
    let f = &suppressed.finding;
    let start = locator.position(f.range.start);
    let location = style.paint("1", &format!("{display}:{}:{}:", start.line, start.column));
    let pragma_line = locator.position(suppressed.pragma.start).line;
    let _ = writeln!(
        out,
        "{location} {}: {} (suppressed by `{}` at line {pragma_line})",
        style.paint("2", f.check.id),
        f.message,
        suppressed.by
    );
}

/// `path:line:col: warning: message`: a pragma dockopt could not use.
pub fn warning_text(display: &str, locator: &Locator, warning: &Warning) -> String {
    let start = locator.position(warning.range.start);
    format!("{display}:{}:{}: warning: {}\n", start.line, start.column, warning.message)
}

/// `resolved by merge-runs's fix`, `resolved by the fixes of a, b`.
pub fn resolved_by(names: &[&str]) -> String {
    match names {
        [one] => format!("resolved by {one}'s fix"),
        many => format!("resolved by the fixes of {}", many.join(", ")),
    }
}

fn indent_rest(text: &str) -> String {
    text.trim_end().replace('\n', "\n       ")
}

/// The text of one fixture case: the findings with their fixes, then the unified diff, then the
/// diff of each extra file the transforms propose.
/// The fixture harness snapshots this; it is built from the same pieces as `dockopt check`/`diff`.
pub fn spec_report(display: &str, source: &str, outcome: &Outcome, unsafe_enabled: bool) -> String {
    let locator = Locator::new(source);
    let mut out = String::new();
    if outcome.findings.is_empty() {
        out.push_str("(no findings)\n");
    }
    for finding in &outcome.findings {
        finding_text(
            &mut out,
            display,
            &locator,
            finding,
            unsafe_enabled,
            true,
            Style::default(),
        );
    }
    for suppressed in &outcome.suppressed {
        suppressed_text(&mut out, display, &locator, suppressed, Style::default());
    }
    for warning in &outcome.warnings {
        out.push_str(&warning_text(display, &locator, warning));
    }
    if let Some(error) = &outcome.error {
        let _ = writeln!(out, "error: {error}");
    }
    out.push('\n');
    let diff = unified_diff(display, source, &outcome.text, Style::default());
    if diff.is_empty() && outcome.artifacts.is_empty() {
        out.push_str("(no changes)\n");
    }
    out.push_str(&diff);
    for artifact in &outcome.artifacts {
        let path = format!(
            "{} ({}, {})",
            artifact.path,
            artifact.transform,
            applicability_name(artifact.applicability)
        );
        let diff = artifact_diff(
            &artifact.path,
            artifact.original.as_deref(),
            &artifact.text,
            Style::default(),
        );
        if diff.is_empty() {
            let _ = writeln!(out, "(extra file {path} proposed unchanged)");
        } else {
            let _ = writeln!(out, "extra file {path}:");
            out.push_str(&diff);
        }
    }
    out
}

pub fn applicability_name(applicability: Applicability) -> &'static str {
    match applicability {
        Applicability::Safe => "safe",
        Applicability::Unsafe => "unsafe",
    }
}

/// `::warning file=…,line=…,col=…,endLine=…,endColumn=…,title=dockopt/<check id>::message`
pub fn github_annotations(report: &FileReport) -> String {
    let mut out = String::new();
    let file = escape_property(&report.display);
    match (&report.result, &report.source) {
        (Ok(outcome), Some(source)) => {
            let locator = Locator::new(source);
            for finding in &outcome.findings {
                let f = &finding.finding;
                let start = locator.position(f.range.start);
                let end = locator.position(f.range.end);
                let mut message = f.message.clone();
                if let Some(why) = &f.why {
                    message.push('\n');
                    message.push_str(why);
                }
                let _ = writeln!(
                    out,
                    "::warning file={file},line={},col={},endLine={},endColumn={},title={}::{}",
                    start.line,
                    start.column,
                    end.line,
                    end.column,
                    escape_property(&format!("dockopt/{}", f.check.id)),
                    escape_data(&message)
                );
            }
            for warning in &outcome.warnings {
                let start = locator.position(warning.range.start);
                let _ = writeln!(
                    out,
                    "::warning file={file},line={},col={},title=dockopt pragma::{}",
                    start.line,
                    start.column,
                    escape_data(&warning.message)
                );
            }
            if let Some(error) = &outcome.error {
                let _ = writeln!(
                    out,
                    "::error file={file},line={},col={},title=dockopt::{}",
                    error.line,
                    error.column,
                    escape_data(&error.message)
                );
            }
        }
        (Err(error), _) => {
            let position = match error.position() {
                Some((line, col)) => format!(",line={line},col={col}"),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "::error file={file}{position},title=dockopt::{}",
                escape_data(&error.message())
            );
        }
        (Ok(_), None) => {}
    }
    out
}

pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The JSON document of `check --format json` and `diff --format json`.
#[derive(Debug, Serialize)]
pub struct JsonReport {
    pub schema_version: u32,
    pub command: &'static str,
    pub files: Vec<JsonFile>,
    /// Errors not tied to one Dockerfile (e.g. conflicting proposals for a shared `.dockerignore`).
    pub errors: Vec<String>,
    pub summary: Summary,
}

#[derive(Debug, Serialize)]
pub struct JsonFile {
    pub path: String,
    /// Whether `fix` would change the file.
    pub changed: bool,
    pub findings: Vec<JsonFinding>,
    /// The unified diff of what `fix` would change ("" when nothing).
    pub diff: String,
    /// Extra files `fix` would create or replace for this Dockerfile (e.g. a `.dockerignore`).
    pub artifacts: Vec<JsonArtifact>,
    pub error: Option<JsonError>,
    /// Findings a pragma suppresses: neither fixed nor counted as findings.
    pub suppressed: Vec<JsonSuppressed>,
    /// Pragmas dockopt could not use (an unknown code, one that holds for nothing).
    pub warnings: Vec<JsonWarning>,
}

#[derive(Debug, Serialize)]
pub struct JsonSuppressed {
    pub check: &'static str,
    pub transform: &'static str,
    pub message: String,
    pub start: Position,
    pub end: Position,
    /// The pragma, as written (`# hadolint ignore=DL3015`).
    pub by: String,
    /// Where the pragma is.
    pub pragma: Position,
}

#[derive(Debug, Serialize)]
pub struct JsonWarning {
    pub message: String,
    pub start: Position,
    pub end: Position,
}

#[derive(Debug, Serialize)]
pub struct JsonArtifact {
    pub path: String,
    pub transform: &'static str,
    /// True when the file does not exist yet.
    pub created: bool,
    pub diff: String,
}

#[derive(Debug, Serialize)]
pub struct JsonFinding {
    /// The file's path again, so that a finding stands on its own.
    pub path: String,
    pub transform: &'static str,
    /// The check id (`transform/check`).
    pub check: &'static str,
    /// The hadolint rules whose findings this check's fix resolves.
    pub hadolint: &'static [&'static str],
    /// The BuildKit build checks whose findings this check's fix resolves.
    pub buildkit: &'static [&'static str],
    pub message: String,
    pub why: Option<String>,
    /// The fix's applicability; `None` when there is no fix.
    pub applicability: Option<Applicability>,
    pub start: Position,
    pub end: Position,
    pub fix: Option<JsonFix>,
    /// The transforms whose fixes make this finding moot although its own fix is not applied.
    pub resolved_by: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct JsonFix {
    pub title: String,
    pub applicability: Applicability,
    /// Whether `fix` with the same flags applies it.
    pub applied: bool,
    /// The fix's own edits over the original text, in order. Empty when the finding came from a
    /// later pass of the fix loop (its edits are over intermediate text), and for a fix whose
    /// remedy is an extra file (a `.dockerignore`): the diffs show their effect.
    pub edits: Vec<JsonEdit>,
}

/// Replace the text from `start` to `end` (exclusive) by `content`.
#[derive(Debug, Serialize)]
pub struct JsonEdit {
    pub start: Position,
    pub end: Position,
    pub content: String,
}

#[derive(Debug, Serialize)]
pub struct JsonError {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

pub fn json_file(report: &FileReport, artifacts: Vec<&Planned>) -> JsonFile {
    let mut file = JsonFile {
        path: report.display.clone(),
        changed: report.changed(),
        findings: Vec::new(),
        diff: String::new(),
        artifacts: artifacts
            .into_iter()
            .map(|p| JsonArtifact {
                path: p.display.clone(),
                transform: p.transform,
                created: p.original.is_none(),
                diff: artifact_diff(&p.display, p.original.as_deref(), &p.text, Style::default()),
            })
            .collect(),
        error: None,
        suppressed: Vec::new(),
        warnings: Vec::new(),
    };
    match (&report.result, &report.source) {
        (Ok(outcome), Some(source)) => {
            let locator = Locator::new(source);
            file.suppressed = outcome
                .suppressed
                .iter()
                .map(|s| JsonSuppressed {
                    check: s.finding.check.id,
                    transform: s.finding.transform,
                    message: s.finding.message.clone(),
                    start: locator.position(s.finding.range.start),
                    end: locator.position(s.finding.range.end),
                    by: s.by.clone(),
                    pragma: locator.position(s.pragma.start),
                })
                .collect();
            file.warnings = outcome
                .warnings
                .iter()
                .map(|w| JsonWarning {
                    message: w.message.clone(),
                    start: locator.position(w.range.start),
                    end: locator.position(w.range.end),
                })
                .collect();
            file.findings = outcome
                .findings
                .iter()
                .map(|r| JsonFinding {
                    path: report.display.clone(),
                    transform: r.finding.transform,
                    check: r.finding.check.id,
                    hadolint: r.finding.check.hadolint,
                    buildkit: r.finding.check.buildkit,
                    message: r.finding.message.clone(),
                    why: r.finding.why.clone(),
                    applicability: r.finding.fix.as_ref().map(|fix| fix.applicability),
                    start: locator.position(r.finding.range.start),
                    end: locator.position(r.finding.range.end),
                    fix: r.finding.fix.as_ref().map(|fix| JsonFix {
                        title: fix.title.clone(),
                        applicability: fix.applicability,
                        applied: r.applied,
                        edits: fix
                            .edits
                            .iter()
                            .map(|edit| JsonEdit {
                                start: locator.position(edit.range.start),
                                end: locator.position(edit.range.end),
                                content: edit.replacement.clone(),
                            })
                            .collect(),
                    }),
                    resolved_by: r.resolved_by.clone(),
                })
                .collect();
            file.diff = unified_diff(&report.display, source, &outcome.text, Style::default());
            if let Some(error) = &outcome.error {
                file.error = Some(JsonError {
                    message: error.message.clone(),
                    line: Some(error.line),
                    column: Some(error.column),
                });
            }
        }
        (Err(error), _) => {
            let position = error.position();
            file.error = Some(JsonError {
                message: error.message(),
                line: position.map(|p| p.0),
                column: position.map(|p| p.1),
            });
        }
        (Ok(_), None) => {}
    }
    file
}

/// Counts over all files of a run.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    pub files: usize,
    /// Dockerfiles `fix` would change (or changed).
    pub changed: usize,
    /// Extra files (e.g. `.dockerignore`) `fix` would create or replace.
    pub artifacts: usize,
    pub findings: usize,
    /// Findings `fix` removes with the current flags: their fix is applied, or other fixes made
    /// them moot.
    pub fixable: usize,
    /// How many more findings `fix --unsafe` removes (0 with `--unsafe`).
    pub unsafe_fixable: usize,
    /// Findings pragmas suppress (not counted in `findings`).
    pub suppressed: usize,
    pub errors: usize,
}

impl Summary {
    pub fn of(reports: &[FileReport], plan: &Plan) -> Summary {
        let mut s = Summary {
            files: reports.len(),
            artifacts: plan.items.len(),
            errors: plan.errors.len(),
            ..Summary::default()
        };
        for r in reports {
            match &r.result {
                Ok(outcome) => {
                    s.changed += usize::from(r.changed());
                    s.errors += usize::from(outcome.error.is_some() || r.write_error.is_some());
                    s.suppressed += outcome.suppressed.len();
                    s.findings += outcome.findings.len();
                    s.fixable += removed_by_fix(outcome, r.unsafe_enabled).count();
                    s.unsafe_fixable += more_with_unsafe(r).values().sum::<usize>();
                }
                Err(_) => s.errors += 1,
            }
        }
        s
    }
}

/// Findings of one transform over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TransformCounts {
    pub findings: usize,
    /// Findings `fix` removes with the current flags (their fix, or other fixes made them moot).
    pub fixed: usize,
    /// How many more of its findings `fix --unsafe` removes.
    pub unsafe_fixable: usize,
}

/// Counts per transform, by name.
pub fn by_transform(
    reports: &[FileReport],
) -> std::collections::BTreeMap<&'static str, TransformCounts> {
    let mut counts = std::collections::BTreeMap::<&'static str, TransformCounts>::new();
    for report in reports {
        let Ok(outcome) = &report.result else {
            continue;
        };
        for finding in &outcome.findings {
            counts.entry(finding.finding.transform).or_default().findings += 1;
        }
        for finding in removed_by_fix(outcome, report.unsafe_enabled) {
            counts.entry(finding.finding.transform).or_default().fixed += 1;
        }
        for (transform, more) in more_with_unsafe(report) {
            counts.entry(transform).or_default().unsafe_fixable += more;
        }
    }
    counts
}

/// `by transform:` then one line per transform: how many of its findings are `done` (e.g.
/// "fixed"), and how many are left. Empty when there are no findings.
pub fn transform_breakdown(
    counts: &std::collections::BTreeMap<&'static str, TransformCounts>,
    done: &str,
) -> String {
    if counts.is_empty() {
        return String::new();
    }
    let width = counts.keys().map(|name| name.len()).max().unwrap_or(0);
    let mut out = String::from("by transform:\n");
    for (name, c) in counts {
        let _ = write!(out, "  {name:width$}  {} {done}", c.fixed);
        let left = c.findings - c.fixed;
        if left > 0 {
            let _ = write!(out, ", {left} left");
        }
        // Also when none is left: `fix --unsafe` can fix what only its Unsafe fixes bring up.
        if c.unsafe_fixable > 0 {
            let _ = write!(out, " ({} with --unsafe)", c.unsafe_fixable);
        }
        out.push('\n');
    }
    out
}

pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A table of the checks: id, related hadolint and BuildKit codes, summary.
pub fn checks_table() -> String {
    let all = transforms::checks::ALL;
    let codes = |c: &transforms::Check| {
        let list: Vec<&str> = c.hadolint.iter().chain(c.buildkit).copied().collect();
        if list.is_empty() {
            "-".to_string()
        } else {
            list.join(",")
        }
    };
    let id_width = all.iter().map(|c| c.id.len()).max().unwrap_or(0).max("CHECK".len());
    let code_width = all.iter().map(|c| codes(c).len()).max().unwrap_or(0).max("CODES".len());
    let mut out = format!("{:id_width$}  {:code_width$}  SUMMARY\n", "CHECK", "CODES");
    for check in all {
        let _ = writeln!(out, "{:id_width$}  {:code_width$}  {}", check.id, codes(check), check.summary);
    }
    out
}

/// A table of the catalog: name, safety, summary.
pub fn transforms_table() -> String {
    let catalog = transforms::catalog();
    let name_width = catalog
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(0)
        .max("NAME".len());
    let safety_width = catalog
        .iter()
        .map(|t| t.safety.len())
        .max()
        .unwrap_or(0)
        .max("SAFETY".len());
    let mut out = format!(
        "{:name_width$}  {:safety_width$}  SUMMARY\n",
        "NAME", "SAFETY"
    );
    for t in catalog {
        let _ = writeln!(
            out,
            "{:name_width$}  {:safety_width$}  {}",
            t.name, t.safety, t.summary
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_missing_final_newline() {
        let out = unified_diff(
            "Dockerfile",
            "FROM a\nENV A 1",
            "FROM a\nENV A=\"1\"",
            Style::default(),
        );
        assert_eq!(
            out,
            "--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,2 +1,2 @@\n FROM a\n-ENV A 1\n\\ No newline at end of file\n+ENV A=\"1\"\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn diff_of_equal_texts_is_empty() {
        assert_eq!(
            unified_diff("D", "FROM a\n", "FROM a\n", Style::default()),
            ""
        );
    }

    #[test]
    fn colored_diff_uses_ansi_only_when_asked() {
        let out = unified_diff("D", "a\n", "b\n", Style { color: true });
        assert!(out.contains("\x1b[31m-a\x1b[0m"));
        assert!(!unified_diff("D", "a\n", "b\n", Style::default()).contains('\x1b'));
    }

    #[test]
    fn github_escaping() {
        assert_eq!(escape_data("50% done\nok"), "50%25 done%0Aok");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
