//! Stage names BuildKit warns about: a name used twice (DuplicateStageName, hadolint DL3024) or one
//! of its reserved words (ReservedStageName). Renaming a stage changes what `--target` and
//! `COPY --from` name, so these are reported, never fixed.

use crate::checks;
use crate::fix::Finding;
use crate::model::Input;
use crate::syntax::split_words;

const RESERVED: &[&str] = &["context", "scratch"];

pub(super) fn check(input: &Input) -> Vec<Finding> {
    let file = input.file;
    let mut findings = Vec::new();
    for stage in &file.stages {
        let Some(name) = stage.name.as_deref() else { continue };
        let inst = &file.instructions[stage.from];
        let words = split_words(inst.args_text(), file.escape);
        let range = match words.last() {
            Some(w) => inst.logical.source_range(inst.args.start + w.range.start..inst.args.start + w.range.end),
            None => inst.keyword_span.clone(),
        };
        if RESERVED.contains(&name) {
            findings.push(
                Finding::new(&checks::LINT_FIXES_RESERVED_STAGE_NAME, range.clone(), format!("`{name}` is a reserved word, not a good stage name"))
                    .with_why(format!("`FROM {name}` and `--from={name}` already mean something to BuildKit (ReservedStageName): rename the stage and what refers to it")),
            );
        }
        if let Some(first) = file.stages[..stage.index].iter().find(|s| s.name.as_deref() == Some(name)) {
            findings.push(
                Finding::new(&checks::LINT_FIXES_DUPLICATE_STAGE_NAME, range, format!("stage name `{name}` is already used at line {}", file.instructions[first.from].start_line))
                    .with_why("`--target` and `COPY --from` can name only one of them (BuildKit's DuplicateStageName, hadolint DL3024): rename one stage and what refers to it"),
            );
        }
    }
    findings
}
