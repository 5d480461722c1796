//! wget without a progress option (hadolint DL3047): its default progress bar, written for a
//! terminal, fills the build log with one line per few kilobytes.

use crate::checks;
use crate::fix::{Edit, Finding, Fix};
use crate::knowledge::base_images::Wget;
use crate::model::Input;
use crate::shell::CommandView;

use super::base;

pub(super) fn check(input: &Input) -> Vec<Finding> {
    let file = input.file;
    let mut findings = Vec::new();
    for index in 0..file.instructions.len() {
        let Some(run) = input.script(index).filter(|run| !run.script.has_errors()) else { continue };
        for command in run.script.commands() {
            let view = command.effective();
            if !view.is("wget") || is_quiet(view) {
                continue;
            }
            let word = &view.words()[0];
            let range = run.source_range(file, word.range.clone());
            let flag = match base::wget(input, index) {
                Wget::Gnu => "--progress=dot:giga",
                Wget::Busybox => "-q",
            };
            let finding = Finding::new(&checks::LINT_FIXES_WGET_PROGRESS, range.clone(), "wget without a progress option: its progress bar floods the build log")
                .with_why("a build has no terminal: wget writes a line every few kilobytes (hadolint DL3047)");
            let fix = Fix::safe(format!("Add `{flag}`"), vec![Edit::insert(range.end, format!(" {flag}"))]);
            findings.push(finding.with_fix(fix));
        }
    }
    findings
}

/// Whether wget already writes no progress bar, or writes its output elsewhere (hadolint's list).
fn is_quiet(view: CommandView) -> bool {
    view.has_flag(Some('q'), Some("quiet"))
        || view.has_flag(None, Some("progress"))
        || view.has_flag(Some('o'), Some("output-file"))
        || view.has_flag(Some('a'), Some("append-output"))
        || view.has_flag(None, Some("no-verbose"))
        || view.has_word("-nv")
}
