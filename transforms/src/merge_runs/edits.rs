//! The byte-range edits that chain RUN scripts: `&&` and a continuation at the end of one script,
//! the next RUN's keyword and flags replaced by an indentation, wraps around scripts.

use std::ops::Range;

use super::script::{Facts, Wrap};
use crate::fix::Edit;
use crate::syntax::{Dockerfile, Instruction, ItemKind, Keyword, LineKind};

/// How the file writes its `&&` chains.
pub(super) struct Layout {
    /// `\` then `&& next` on the next line (otherwise `&& \` then `next`).
    pub leading: bool,
    pub indent: String,
    pub escape: char,
}

impl Layout {
    /// The style of the RUNs being merged, else `file_leading` (the file's: [`Layout::file_style`]);
    /// the indentation of the RUNs' continuation lines, else 4 spaces.
    pub fn of(file: &Dockerfile, runs: &[&Instruction], file_leading: bool) -> Layout {
        let leading = runs.iter().find_map(|inst| style(file, inst)).unwrap_or(file_leading);
        let indent = runs
            .iter()
            .find_map(|inst| {
                let lines: Vec<&str> = content_lines(file, inst).skip(1).collect();
                let pick = |line: &&str| {
                    let ws = &line[..line.len() - line.trim_start().len()];
                    (!ws.is_empty()).then(|| ws.to_string())
                };
                let chained = lines.iter().find(|l| leading && l.trim_start().starts_with("&&"));
                chained.and_then(pick).or_else(|| lines.iter().find_map(pick))
            })
            .unwrap_or_else(|| "    ".to_string());
        Layout { leading, indent, escape: file.escape }
    }

    /// Whether the file's RUNs put `&&` at the start of continuation lines (the first RUN that
    /// shows a style decides; `true` when none does).
    pub fn file_style(file: &Dockerfile) -> bool {
        file.instructions.iter().filter(|i| i.keyword == Keyword::Run).find_map(|inst| style(file, inst)).unwrap_or(true)
    }

    /// What ends the line of a script that another follows.
    pub fn line_end(&self) -> String {
        if self.leading {
            format!(" {}", self.escape)
        } else {
            format!(" && {}", self.escape)
        }
    }

    /// What starts the line of a script that follows another.
    pub fn line_start(&self) -> String {
        if self.leading {
            format!("{}&& ", self.indent)
        } else {
            self.indent.clone()
        }
    }
}

/// `Some(true)` for `\` then `&& next`, `Some(false)` for `&& \` then `next`, `None` when the RUN shows neither.
fn style(file: &Dockerfile, inst: &Instruction) -> Option<bool> {
    content_lines(file, inst).enumerate().find_map(|(at, line)| {
        if at > 0 && line.trim_start().starts_with("&&") {
            Some(true)
        } else {
            let body = line.trim_end().strip_suffix(file.escape)?;
            body.trim_end().ends_with("&&").then_some(false)
        }
    })
}

fn content_lines<'f>(file: &'f Dockerfile, inst: &'f Instruction) -> impl Iterator<Item = &'f str> + 'f {
    inst.lines.iter().filter(|l| l.kind == LineKind::Content).map(|l| &file.source[l.span.clone()])
}

/// Where the `&&` goes after a script: the end of its arguments up to the end of their line
/// (trailing blanks are replaced). `None` when something other than blanks follows them there.
pub(super) fn script_end(file: &Dockerfile, inst: &Instruction) -> Option<Range<usize>> {
    let end = inst.args_source_range().end;
    let line = inst.lines.last()?;
    if line.kind != LineKind::Content || end < line.span.start || end > line.span.end {
        return None;
    }
    file.source[end..line.span.end].chars().all(|c| c == ' ' || c == '\t').then_some(end..line.span.end)
}

/// What precedes a following RUN's script: its keyword line up to the script (keyword, flags and
/// any continuation). `None` when a comment line sits in there: deleting it would drop it.
pub(super) fn script_prefix(inst: &Instruction) -> Option<Range<usize>> {
    let start = inst.args_source_range().start;
    let inside = |r: &Range<usize>| r.start < start;
    if inst.lines.iter().any(|l| l.kind == LineKind::Comment && inside(&l.span)) {
        return None;
    }
    Some(inst.span.start..start)
}

/// Spans of the blank lines between instruction `a` and instruction `b` (a continuation must
/// not contain empty lines: BuildKit warns about them).
pub(super) fn blank_lines_between(file: &Dockerfile, a: usize, b: usize) -> Vec<Range<usize>> {
    between(file, a, b).filter(|(kind, _)| *kind == ItemKind::Blank).map(|(_, span)| span).collect()
}

/// `line` (a line without its terminator) with its terminator.
pub(super) fn whole_line(file: &Dockerfile, line: Range<usize>) -> Range<usize> {
    let end = file.source[line.end..].find('\n').map_or(file.source.len(), |n| line.end + n + 1);
    line.start..end
}

fn between(file: &Dockerfile, a: usize, b: usize) -> impl Iterator<Item = (ItemKind, Range<usize>)> + '_ {
    let start = file.instructions.get(a).map_or(usize::MAX, |i| i.span.end);
    let end = file.instructions.get(b).map_or(0, |i| i.span.start);
    // Items are in source order.
    let first = file.items.partition_point(|item| item.span.start < start);
    file.items[first..].iter().take_while(move |item| item.span.end <= end).map(|item| (item.kind, item.span.clone()))
}

/// The edits that chain `members` (consecutive RUNs) into the first one, each wrapped as `wraps` says.
/// `None` when a RUN's text does not have the shape the edits need.
pub(super) fn chain(file: &Dockerfile, layout: &Layout, members: &[&Facts], wraps: &[Wrap]) -> Option<Vec<Edit>> {
    let mut edits = Vec::new();
    let (first, last) = (members.first()?, members.last()?);
    let first_wrap = *wraps.first()?;
    if first_wrap != Wrap::None {
        edits.push(Edit::insert(first.inst.args_source_range().start, first.open(first_wrap)));
    }
    for (pair, wrap_pair) in members.windows(2).zip(wraps.windows(2)) {
        let (prev, next) = (pair[0], pair[1]);
        let end = script_end(file, prev.inst)?;
        edits.push(Edit::replace(end, format!("{}{}", prev.close(wrap_pair[0]), layout.line_end())));
        edits.extend(blank_lines_between(file, prev.index, next.index).into_iter().map(Edit::delete));
        let prefix = script_prefix(next.inst)?;
        edits.push(Edit::replace(prefix, format!("{}{}", layout.line_start(), next.open(wrap_pair[1]))));
    }
    // Also where nothing closes (an empty insertion): the fix reaches the end of the last script,
    // so a fix appending there (a cleanup) waits for the next pass, where it sees the merged RUN
    // and the cleanups it already runs instead of adding one the merge repeats.
    let last_wrap = *wraps.last()?;
    if members.len() > 1 {
        edits.push(Edit::insert(last.inst.args_source_range().end, last.close(last_wrap)));
    }
    Some(edits)
}
