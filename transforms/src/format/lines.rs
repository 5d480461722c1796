//! What lies between instructions: comment lines (indentation and trailing whitespace; their
//! text is never touched), runs of blank lines, and the end of the file.

use super::{Change, Options};
use crate::config::FinalNewline;
use crate::fix::Edit;
use crate::syntax::{match_directive, Dockerfile, ItemKind};

pub(super) fn changes(file: &Dockerfile, options: &Options) -> Vec<Change> {
    let source = file.source.as_str();
    let items = &file.items;
    let mut changes = Vec::new();

    let mut i = 0;
    while i < items.len() {
        match items[i].kind {
            ItemKind::Comment => {
                let span = items[i].span.clone();
                let line = line_of(source, span.clone());
                let trimmed = line.trim_matches([' ', '\t']);
                if trimmed.len() != line.len() {
                    let what = if line.starts_with([' ', '\t']) { "indented" } else { "trailing whitespace" };
                    changes.push(Change {
                        edit: Edit::replace(span.start..span.start + line.len(), trimmed),
                        range: span.start..span.start + line.len(),
                        message: format!("comment line not formatted: {what}"),
                        instruction: None,
                    });
                }
                i += 1;
            }
            ItemKind::Blank => {
                let first = i;
                while i < items.len() && items[i].kind == ItemKind::Blank {
                    i += 1;
                }
                changes.extend(blank_run(file, first, i, options));
            }
            _ => i += 1,
        }
    }

    if options.final_newline == FinalNewline::Always && !source.ends_with('\n') {
        // Blank lines at the end are deleted, and the text before them ends with a line break.
        let trailing_blank = items.last().is_some_and(|item| item.kind == ItemKind::Blank)
            && items.iter().rev().find(|item| item.kind != ItemKind::Blank).is_some_and(|item| source[item.span.clone()].ends_with('\n'));
        if !trailing_blank {
            changes.push(Change {
                edit: Edit::insert(source.len(), file.newline()),
                range: source.len()..source.len(),
                message: "no line break at the end of the file".to_string(),
                instruction: None,
            });
        }
    }
    changes
}

/// The line of an item without its terminator.
fn line_of(source: &str, span: std::ops::Range<usize>) -> &str {
    source[span].trim_end_matches(['\n', '\r'])
}

/// Blank items `first..end`: at most `max-blank-lines` of them (none at the start or the end of
/// the file), each empty.
fn blank_run(file: &Dockerfile, first: usize, end: usize, options: &Options) -> Vec<Change> {
    let source = file.source.as_str();
    let items = &file.items;
    let at_start = items[..first].iter().all(|item| matches!(item.kind, ItemKind::Directive(_)));
    let at_end = end == items.len();
    let mut keep = options.max_blank_lines;
    if at_end || (at_start && first == 0) {
        keep = 0;
    }
    // A blank line ends the parser directives: a comment after it that reads like one must stay a comment.
    let reads_like_directive = |item: &crate::syntax::Item| {
        let line = line_of(source, item.span.clone()).trim_start_matches([' ', '\t']);
        match_directive(line).is_some_and(|(name, _)| matches!(name.to_ascii_lowercase().as_str(), "syntax" | "escape" | "check"))
    };
    if at_start && items.get(end).is_some_and(|item| item.kind == ItemKind::Comment && reads_like_directive(item)) {
        keep = keep.max(1);
    }
    let count = end - first;
    let mut changes = Vec::new();
    let kept = count.min(keep);
    // Whitespace on the kept blank lines.
    for item in &items[first..first + kept] {
        let line = line_of(source, item.span.clone());
        if !line.is_empty() {
            changes.push(Change {
                edit: Edit::delete(item.span.start..item.span.start + line.len()),
                range: item.span.start..item.span.start + line.len(),
                message: "trailing whitespace on a blank line".to_string(),
                instruction: None,
            });
        }
    }
    if count > kept {
        let range = items[first + kept].span.start..items[end - 1].span.end;
        let message = if at_end {
            "blank lines at the end of the file".to_string()
        } else if at_start && first == 0 {
            "blank lines at the start of the file".to_string()
        } else {
            format!("{count} blank lines in a row (at most {keep})")
        };
        changes.push(Change { edit: Edit::delete(range.clone()), range, message, instruction: None });
    }
    changes
}
