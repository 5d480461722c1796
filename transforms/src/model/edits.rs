//! Where text can go in a RUN, and in which style: appended commands become a new continuation
//! line written the way the RUN already writes its continuation lines. Shared by the transforms
//! that add a command to a RUN or take one out of it (run-cleanup, layer-waste).

use std::ops::Range;

use super::RunShell;
use crate::shell::{Op, StateKind};
use crate::syntax::{Dockerfile, Instruction, ItemKind, LineKind};

/// How a RUN writes its continuation lines.
pub(crate) struct Layout {
    escape: char,
    newline: &'static str,
    indent: String,
    /// `&& next` starts the continuation line (otherwise `&&` ends the line before).
    leading_operator: bool,
}

impl Layout {
    pub fn of(file: &Dockerfile, inst: &Instruction) -> Layout {
        let content: Vec<&str> = inst
            .lines
            .iter()
            .filter(|l| l.kind == LineKind::Content)
            .map(|l| &file.source[l.span.clone()])
            .collect();
        let continued = content.get(1..).unwrap_or(&[]);
        let leading = continued
            .iter()
            .filter(|l| l.trim_start().starts_with("&&"))
            .count();
        let trailing = content
            .iter()
            .take(content.len().saturating_sub(1))
            .filter(|l| {
                l.trim_end()
                    .trim_end_matches(file.escape)
                    .trim_end()
                    .ends_with("&&")
            })
            .count();
        let indent = continued
            .first()
            .map(|l| l[..l.len() - l.trim_start().len()].to_string())
            .unwrap_or_else(|| "    ".to_string());
        Layout {
            escape: file.escape,
            newline: file.newline(),
            indent,
            leading_operator: leading >= trailing,
        }
    }

    /// The text that, inserted at an [`append_point`], runs `command` last, on a line of its own.
    pub fn append(&self, command: &str) -> String {
        let Layout {
            escape,
            newline,
            indent,
            ..
        } = self;
        if self.leading_operator {
            format!(" {escape}{newline}{indent}&& {command}")
        } else {
            format!(" && {escape}{newline}{indent}{command}")
        }
    }
}

impl Layout {
    /// The text that, inserted at the start of the script, runs `command` first and the script
    /// only when it succeeded: on a line of its own when the RUN has continuation lines.
    pub fn prepend(&self, command: &str, multiline: bool) -> String {
        let Layout { escape, newline, indent, .. } = self;
        match (multiline, self.leading_operator) {
            (false, _) => format!("{command} && "),
            (true, true) => format!("{command} {escape}{newline}{indent}&& "),
            (true, false) => format!("{command} && {escape}{newline}{indent}"),
        }
    }
}

/// Where `&& cleanup` can be inserted so that it runs after everything else in the RUN, once the
/// last top-level and-or list succeeded: the end of that list. The RUN's exit status is unchanged
/// whenever the cleanup succeeds (`a; b && c` then `&& x`: x runs iff `b && c` succeeded; a
/// failure still fails the RUN). Err says why not.
pub(crate) fn append_point(file: &Dockerfile, shell: &RunShell) -> Result<usize, String> {
    let script = &shell.script;
    let steps = script.top_level();
    let last = steps.last().ok_or("the RUN has no command")?;
    if steps.iter().any(|s| s.background) {
        return Err("the RUN starts a command in the background (`&`): a cleanup at its end could run before it finishes".into());
    }
    let leaves_early = script.state_changes().iter().any(|c| {
        matches!(c.kind, StateKind::Exit | StateKind::Exec)
            && c.command
                .is_some_and(|i| script.commands()[i].step.is_some())
    });
    if leaves_early {
        return Err(
            "the RUN leaves the shell with `exit` or `exec`: a cleanup at its end would not run"
                .into(),
        );
    }
    let item = last.items.last().ok_or("the RUN has no command")?;
    Ok(shell.source_range(file, item.range.clone()).end)
}

/// The source range that deletes item `index` of top-level step `step` together with the `&&`
/// joining it, when that leaves the rest meaning the same and drops no comment line.
pub(crate) fn item_deletion(
    file: &Dockerfile,
    shell: &RunShell,
    step: usize,
    index: usize,
) -> Option<Range<usize>> {
    let steps = shell.script.top_level();
    let items = &steps.get(step)?.items;
    if items.len() == 1 && shell.heredoc_body.is_some() {
        return line_deletion(file, shell, steps, step);
    }
    let and = |i: usize| {
        items
            .get(i)
            .is_none_or(|item| item.op_before == Some(Op::And))
    };
    if items.len() < 2 || !and(index + 1) || (index > 0 && !and(index)) {
        return None;
    }
    let range = if index == 0 {
        shell.source_offset(file, items[0].range.start)
            ..shell.source_offset(file, items[1].range.start)
    } else {
        shell.source_range(file, items[index - 1].range.clone()).end
            ..shell.source_range(file, items[index].range.clone()).end
    };
    let inst = &file.instructions[shell.instruction];
    let drops_a_line = inst.lines.iter().any(|l| {
        l.kind != LineKind::Content && l.span.start < range.end && range.start < l.span.end
    });
    (!drops_a_line).then_some(range)
}

/// In a heredoc script, a command that is a line of its own (`apk update` above `apk add`): its
/// line, when another step follows on a later line.
fn line_deletion(file: &Dockerfile, shell: &RunShell, steps: &[crate::shell::Step], step: usize) -> Option<Range<usize>> {
    let next = steps.get(step + 1)?;
    let script = &file.source[shell.source_range(file, 0..next.range.start)];
    let this = &steps[step].range;
    let before = &script[..this.start];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let between = &script[this.end..];
    let own_line = before[line_start..].trim().is_empty()
        && between.matches('\n').count() == 1
        && between.trim_matches([' ', '\t', '\r', '\n']).is_empty();
    let line_end = this.end + between.find('\n')? + 1;
    own_line.then(|| shell.source_offset(file, line_start)..shell.source_offset(file, line_end))
}

/// The source range that deletes instruction `index`, with a blank line after it when one is
/// also before it (so that deleting leaves no double blank line).
pub(crate) fn instruction_deletion(file: &Dockerfile, index: usize) -> Range<usize> {
    let span = file.instructions[index].span.clone();
    let Some(k) = file
        .items
        .iter()
        .position(|i| i.kind == ItemKind::Instruction(index))
    else {
        return span;
    };
    let blank = |i: Option<usize>| {
        i.and_then(|i| file.items.get(i))
            .is_some_and(|item| item.kind == ItemKind::Blank)
    };
    if blank(k.checked_sub(1)) && blank(Some(k + 1)) {
        span.start..file.items[k + 1].span.end
    } else {
        span
    }
}

/// True when the RUN's instruction has comment or blank lines inside its continuation lines.
pub(crate) fn has_comment_lines(inst: &Instruction) -> bool {
    inst.lines.iter().any(|l| l.kind != LineKind::Content)
}
