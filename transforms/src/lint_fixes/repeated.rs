//! A second CMD, ENTRYPOINT or HEALTHCHECK in one stage (BuildKit's MultipleInstructionsDisallowed,
//! hadolint DL4003, DL4004, DL3012): only the last takes effect, so the earlier ones mislead.

use crate::checks;
use crate::fix::{Edit, Finding, Fix};
use crate::model::Input;
use crate::syntax::Keyword;

use super::has_attached_comment;

pub(super) fn check(input: &Input) -> Vec<Finding> {
    let file = input.file;
    let mut findings = Vec::new();
    for stage in &file.stages {
        for keyword in [Keyword::Cmd, Keyword::Entrypoint, Keyword::Healthcheck] {
            let uses: Vec<usize> = stage.instructions.clone().filter(|&i| file.instructions[i].keyword == keyword && file.instructions[i].sub.is_none()).collect();
            let Some((&last, earlier)) = uses.split_last() else { continue };
            let name = keyword.as_str();
            for &index in earlier {
                let inst = &file.instructions[index];
                let range = inst.keyword_span.start..inst.args_source_range().end;
                let finding = Finding::new(&checks::LINT_FIXES_REPEATED_INSTRUCTION, range, format!("only the last {name} of a stage takes effect: this one is overridden at line {}", file.instructions[last].start_line))
                    .with_why(format!("BuildKit ignores every {name} of a stage but the last (MultipleInstructionsDisallowed; hadolint DL4003, DL4004, DL3012)"));
                findings.push(if has_attached_comment(file, index) {
                    finding.with_why(format!("a comment belongs to this {name}: delete it by hand with its comment"))
                } else {
                    let fix = Fix::unsafe_(format!("Delete the overridden {name}"), vec![Edit::delete(inst.span.clone())]);
                    finding
                        .with_why(format!("BuildKit ignores every {name} of a stage but the last (MultipleInstructionsDisallowed; hadolint DL4003, DL4004, DL3012). Unsafe: the image does not change, but the duplicate is often a mistake: check that the last one is the one you meant"))
                        .with_fix(fix)
                });
            }
        }
    }
    findings
}
