#![doc = include_str!("../../docs/lint-fixes.md")]

mod base;
mod cd;
mod exec_form;
mod expose;
mod knowledge;
mod pipefail;
mod platform;
mod quoting;
mod relative_paths;
mod repeated;
mod secrets;
mod stage_names;
mod wget;

#[cfg(test)]
mod tests;

use crate::fix::Finding;
use crate::model::Input;
use crate::syntax::{Dockerfile, ItemKind, LineKind};

pub(crate) const DOC: &str = include_str!("../../docs/lint-fixes.md");

pub(crate) fn run(input: &Input) -> Vec<Finding> {
    let checks: [fn(&Input) -> Vec<Finding>; 11] = [
        pipefail::check,
        cd::check,
        relative_paths::check,
        quoting::check,
        wget::check,
        exec_form::check,
        platform::check,
        repeated::check,
        expose::check,
        stage_names::check,
        secrets::check,
    ];
    checks.iter().flat_map(|check| check(input)).collect()
}

/// Whether a comment line sits directly above instruction `index` or inside its continuation
/// lines: a fix that deletes or rewrites the instruction whole would leave it describing another
/// one (or drop it), and a `# hadolint ignore=` there belongs to this instruction.
fn has_attached_comment(file: &Dockerfile, index: usize) -> bool {
    let inside = file.instructions[index].lines.iter().any(|l| l.kind == LineKind::Comment);
    let position = file.items.iter().position(|item| item.kind == ItemKind::Instruction(index));
    let above = position.and_then(|p| p.checked_sub(1)).is_some_and(|p| file.items[p].kind == ItemKind::Comment);
    inside || above
}

/// Where a line inserted before instruction `index` goes: above it and the comment lines directly
/// above it, which belong to it.
fn insertion_point(input: &Input, index: usize) -> usize {
    let file = input.file;
    let Some(mut at) = file.items.iter().position(|item| item.kind == ItemKind::Instruction(index)) else {
        return file.instructions[index].span.start;
    };
    while at > 0 && file.items[at - 1].kind == ItemKind::Comment {
        at -= 1;
    }
    file.items[at].span.start
}

/// JSON string literal of `value` (an exec-form array element).
fn json_string(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| format!("\"{value}\""))
}
