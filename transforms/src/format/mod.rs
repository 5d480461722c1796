#![doc = include_str!("../../docs/format.md")]
//!
//! Layout: `instruction` reprints one instruction's own lines, `lines` handles what lies between
//! instructions (comments, blank lines, the end of the file), `packages` finds the package lists
//! `sort-packages` sorts, `meaning` is the check every result passes before it is offered.

mod instruction;
mod lines;
mod meaning;
mod packages;

use std::ops::Range;

use crate::checks::{self, Check};
use crate::model::Input;
use crate::config::{FinalNewline, Indent, OperatorPlacement};
use crate::fix::{apply_edits, Edit, Finding, Fix};
use crate::syntax::{parse, Dockerfile, LineKind};
use crate::Settings;

pub(crate) const DOC: &str = include_str!("../../docs/format.md");

/// The style in force for one file.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub unit: Indent,
    pub operator: OperatorPlacement,
    pub max_blank_lines: usize,
    pub final_newline: FinalNewline,
    pub sort_packages: bool,
}

impl Options {
    /// `[format]` first, then `.editorconfig`, then the file's own habit (tabs), then 4 spaces.
    pub fn resolve(settings: &Settings, file: &Dockerfile) -> Options {
        let config = &settings.config.format;
        let editor = &settings.editor;
        let unit = config.indent.unwrap_or_else(|| match (editor.indent_with_tabs, editor.indent_size) {
            (Some(true), _) => Indent::Tab,
            (None, _) if uses_tabs(file) => Indent::Tab,
            (_, size) => Indent::Spaces(size.unwrap_or(4).clamp(1, 16)),
        });
        Options {
            unit,
            operator: config.operator,
            max_blank_lines: config.max_blank_lines,
            final_newline: config.final_newline,
            sort_packages: config.sort_packages,
        }
    }

    /// The indentation of continuation level `level`.
    pub fn indent(&self, level: usize) -> String {
        match self.unit {
            Indent::Tab => "\t".repeat(level),
            Indent::Spaces(n) => " ".repeat(n * level),
        }
    }
}

/// Whether the file indents its continuation lines with tabs (more of them start with a tab than
/// with a space).
fn uses_tabs(file: &Dockerfile) -> bool {
    let (mut tabs, mut spaces) = (0, 0);
    for inst in &file.instructions {
        for line in inst.lines.iter().skip(1).filter(|l| l.kind == LineKind::Content) {
            match file.source.as_bytes().get(line.span.start) {
                Some(b'\t') => tabs += 1,
                Some(b' ') => spaces += 1,
                _ => {}
            }
        }
    }
    tabs > spaces
}

/// One change the formatter proposes, before it is checked.
#[derive(Debug, Clone)]
struct Change {
    edit: Edit,
    /// Where the finding points.
    range: Range<usize>,
    message: String,
    /// The instruction it reprints, if any.
    instruction: Option<usize>,
}

pub(crate) fn run(input: &Input) -> Vec<Finding> {
    let file = input.file;
    let options = Options::resolve(input.settings, file);
    let mut changes: Vec<Change> = Vec::new();
    for index in 0..file.instructions.len() {
        let posix = input.posix_shell_at(index);
        if let Some(formatted) = instruction::format(file, index, posix, &options) {
            let inst = &file.instructions[index];
            let reasons = formatted.reasons.describe();
            let what = if reasons.is_empty() { "layout".to_string() } else { reasons.join(", ") };
            changes.push(Change {
                range: inst.head_range(),
                message: format!("{} is not formatted: {what}", inst.keyword.as_str()),
                edit: Edit::replace(formatted.range, formatted.text),
                instruction: Some(index),
            });
        }
    }
    changes.extend(lines::changes(file, &options));
    changes.sort_by_key(|c| (c.edit.range.start, c.edit.range.end));

    let (kept, rejected) = checked(file, changes, &options);
    let mut findings: Vec<Finding> = kept
        .into_iter()
        .map(|c| Finding::new(check_of(&c), c.range, c.message).with_fix(Fix::safe("format", vec![c.edit])))
        .collect();
    for index in rejected {
        let inst = &file.instructions[index];
        findings.push(
            Finding::new(&checks::FORMAT_INSTRUCTION, inst.head_range(), format!("{} left as written", inst.keyword.as_str()))
                .with_why("formatting it would change how BuildKit reads it; this is a dockopt bug, please report it"),
        );
    }
    findings
}

fn check_of(change: &Change) -> &'static Check {
    if change.instruction.is_some() {
        &checks::FORMAT_INSTRUCTION
    } else {
        &checks::FORMAT_LINES
    }
}

/// The changes that keep BuildKit's reading of the file, and the instructions whose reprint did
/// not (left as written). Every change is checked: the formatter's own proof, on every run.
fn checked(file: &Dockerfile, mut changes: Vec<Change>, options: &Options) -> (Vec<Change>, Vec<usize>) {
    let before = meaning::of(file, options.sort_packages);
    let mut rejected: Vec<usize> = Vec::new();
    for _ in 0..3 {
        if changes.is_empty() {
            break;
        }
        let edits: Vec<&Edit> = changes.iter().map(|c| &c.edit).collect();
        let text = apply_edits(&file.source, &edits);
        let after = parse(&text).ok().map(|f| meaning::of(&f, options.sort_packages));
        match after {
            Some(after) if after == before => return (changes, rejected),
            Some(after) if after.same_structure(&before) => {
                let differ = before.differing(&after);
                rejected.extend(differ.iter().copied());
                changes.retain(|c| !c.instruction.is_some_and(|i| differ.contains(&i)));
            }
            // A change between instructions broke the structure: keep only the instructions'.
            _ if changes.iter().any(|c| c.instruction.is_none()) => changes.retain(|c| c.instruction.is_some()),
            _ => {
                rejected.extend(changes.iter().filter_map(|c| c.instruction));
                changes.clear();
            }
        }
    }
    if !changes.is_empty() {
        rejected.extend(changes.iter().filter_map(|c| c.instruction));
        changes.clear();
    }
    rejected.sort_unstable();
    rejected.dedup();
    (changes, rejected)
}

#[cfg(test)]
mod tests;
