#![doc = include_str!("../../docs/multi-stage.md")]

mod carry;
mod django;
mod java;
mod jvm_manifests;
mod knowledge;
mod manifests;
mod node;
mod php;
mod plan;
mod python_tools;
mod ruby;
mod runtime;
mod scan;
mod sources;

use std::ops::Range;

use self::knowledge::knowledge;
use self::plan::{bare_name, decide, Plan};
use self::scan::{scan, Scan};
use crate::fix::{Edit, Finding, Fix};
use crate::checks;
use crate::model::{Dir, Input};
use crate::syntax::{assignments, split_words, variable_names, Instruction, ItemKind, Keyword};

pub(crate) const DOC: &str = include_str!("../../docs/multi-stage.md");

pub(crate) fn run(input: &Input) -> Vec<Finding> {
    let file = input.file;
    match file.stages.as_slice() {
        [] => Vec::new(),
        [stage] => {
            let scan = scan(input, stage);
            if let Some(finding) = php::finding(input, &scan) {
                return vec![finding];
            }
            let Some(verdict) = decide(input, &scan) else { return ruby::finding(input, &scan).into_iter().collect() };
            vec![split_finding(input, &scan, format!("single-stage build ships {}", verdict.ecosystem.describe), verdict.plan)]
        }
        stages => {
            // Already multi-stage: only say when the shipped stage still installs a compiler.
            let last = stages.last().expect("non-empty");
            let scan = scan(input, last);
            let k = knowledge();
            let toolchain: Vec<&str> = scan
                .packages()
                .map(|(_, p)| p)
                .filter(|p| k.package_toolchain(bare_name(p)).is_some_and(|e| e.name != "node"))
                .collect();
            if toolchain.is_empty() {
                return Vec::new();
            }
            vec![Finding::new(&checks::MULTI_STAGE_TOOLCHAIN_IN_FINAL, scan.from.head_range(), format!("the final stage installs a compiler toolchain ({})", toolchain.join(", ")))
                .with_why("the shipped image carries what only the build needs: build in an earlier stage and COPY --from it only the artifacts (dockopt does not rewrite files that are already multi-stage)")]
        }
    }
}

/// The `single-stage` finding: with the split as its fix, or the reason there is none.
fn split_finding(input: &Input, scan: &Scan, message: String, plan: Result<Plan, String>) -> Finding {
    let finding = Finding::new(&checks::MULTI_STAGE_SINGLE_STAGE, scan.from.head_range(), message);
    match plan {
        Err(reason) => finding.with_why(format!("no fix: {reason}")),
        Ok(plan) => {
            let title = format!("split into a build stage and a {} runtime stage", plan.runtime);
            finding.with_why(why(&plan)).with_fix(Fix::unsafe_(title, edits(input, scan, &plan)))
        }
    }
}

fn why(plan: &Plan) -> String {
    let copies: Vec<String> = plan.copies.iter().map(|(from, _)| from.clone()).collect();
    let mut why = format!("the runtime stage starts from {} and copies only {}", plan.runtime, copies.join(", "));
    if !plan.packages.is_empty() {
        why.push_str(&format!("; it installs {}", plan.packages.join(", ")));
    }
    if !plan.dropped.is_empty() {
        why.push_str(&format!("; it drops {}", plan.dropped.join(", ")));
    }
    why.push('.');
    for note in &plan.notes {
        why.push_str(&format!(" {note}."));
    }
    why.push_str(
        " Unsafe: whatever else the build stage leaves (files made by RUN, other files of the build context) is not in the runtime image; build it and run it to check.",
    );
    why
}

/// Instructions that only describe how the image runs: they move to the runtime stage.
fn moves(inst: &Instruction) -> bool {
    matches!(
        inst.keyword,
        Keyword::Expose
            | Keyword::Cmd
            | Keyword::Entrypoint
            | Keyword::Healthcheck
            | Keyword::Volume
            | Keyword::Stopsignal
            | Keyword::Label
            | Keyword::Maintainer
    )
}

fn edits(input: &Input, scan: &Scan, plan: &Plan) -> Vec<Edit> {
    let file = input.file;
    let nl = file.newline();
    let source = &file.source;
    let mut edits = Vec::new();

    // The build stage: `FROM x` → `FROM x AS build`, or its own name.
    let from_words = split_words(scan.from.args_text(), file.escape);
    // The edit spans the whole FROM (same bytes, name appended), so that a fix of another transform
    // to this FROM in the same pass (approved-base's slim swap, which is wrong for a stage that no
    // longer ships) waits for the next pass and sees the split.
    let from_head = scan.from.keyword_span.start..scan.from.args_source_range().end;
    let from_text = &source[from_head.clone()];
    let stage_name = match from_words.iter().position(|w| w.raw.eq_ignore_ascii_case("as")) {
        Some(at) => {
            edits.push(Edit::replace(from_head, from_text));
            from_words.get(at + 1).map(|w| w.raw.clone()).unwrap_or_else(|| "build".into())
        }
        None => {
            edits.push(Edit::replace(from_head, format!("{from_text} AS build")));
            "build".to_string()
        }
    };

    // Instructions the plan adds to the build stage (a virtualenv for pip).
    for (index, lines) in &plan.build_inserts {
        let at = file.with_comments_above(*index).start;
        edits.push(Edit::insert(at, lines.iter().map(|l| format!("{l}{nl}")).collect::<String>()));
    }

    // What moves: run-time-only instructions, and a USER after which nothing runs.
    let mut moved: Vec<String> = Vec::new();
    let mut deleted: Vec<Range<usize>> = Vec::new();
    let mut user_copy: Option<String> = None;
    for index in scan.stage.instructions.clone().skip(1) {
        let inst = &file.instructions[index];
        let is_user = scan.user.as_ref().is_some_and(|(u, _)| *u == index);
        if is_user && scan.run_after_user {
            user_copy = Some(line(&source[inst.span.clone()], nl));
            continue;
        }
        if !moves(inst) && !is_user {
            continue;
        }
        let range = file.with_comments_above(index);
        let text = rewrite(input, index, &source[range.clone()], plan, scan.final_workdir.as_deref());
        moved.push(line(&text, nl));
        deleted.push(range);
    }
    // The file's own trailing blank lines stay where they are, at the end: the runtime stage goes
    // before them.
    let tail = file.items.iter().rev().take_while(|i| i.kind == ItemKind::Blank).last().map_or(source.len(), |i| i.span.start);
    // Blank lines left at the end (between moved instructions) go too: one blank line separates the stages.
    for item in file.items.iter().rev().skip_while(|i| i.span.start >= tail) {
        if item.kind == ItemKind::Blank {
            deleted.push(item.span.clone());
        } else if !deleted.iter().any(|r| r.start <= item.span.start && item.span.end <= r.end) {
            break;
        }
    }
    deleted.sort_by_key(|r| r.start);
    for range in &deleted {
        edits.push(Edit::delete(range.clone()));
    }

    // Does the text before the end (once the moved lines are gone) end with a line break?
    let mut end = tail;
    while let Some(range) = deleted.iter().find(|r| r.end == end && r.start < end) {
        end = range.start;
    }
    let mut out = String::new();
    let before = &source[..end];
    if end > 0 && !before.ends_with('\n') {
        out.push_str(nl);
    }
    // The build stage's last instructions, then one blank line between the stages.
    for append in &plan.build_appends {
        out.push_str(&format!("{append}{nl}"));
    }
    out.push_str(nl);

    let platform = scan.from.flag("platform").map(|f| format!("{} ", f.text)).unwrap_or_default();
    out.push_str(&format!("FROM {platform}{}{nl}", plan.runtime));
    if !plan.packages.is_empty() {
        let packages = plan.packages.join(" ");
        match plan.manager {
            Some(scan::Manager::Apk) => out.push_str(&format!("RUN apk add --no-cache {packages}{nl}")),
            _ => out.push_str(&format!(
                "RUN apt-get update && apt-get install -y --no-install-recommends {packages} && rm -rf /var/lib/apt/lists/*{nl}"
            )),
        }
    }

    // ENV (and the ARGs they read), in order.
    let envs: Vec<&Instruction> = scan.stage.instructions.clone().map(|i| &file.instructions[i]).filter(|i| i.keyword == Keyword::Env).collect();
    let mut read: Vec<String> = Vec::new();
    for text in envs.iter().map(|i| &source[i.span.clone()]).chain(moved.iter().map(String::as_str)) {
        for name in variable_names(text) {
            if !read.contains(&name) {
                read.push(name);
            }
        }
    }
    let first_from = file.stages.first().map_or(0, |s| s.from);
    let arg_names = |inst: &Instruction| -> Vec<String> { assignments(inst, file.escape).into_iter().map(|(name, _)| name).collect() };
    for inst in file.instructions[..first_from].iter().filter(|i| i.keyword == Keyword::Arg) {
        for name in arg_names(inst).into_iter().filter(|n| read.contains(n)) {
            out.push_str(&format!("ARG {name}{nl}"));
        }
    }
    for index in scan.stage.instructions.clone() {
        let inst = &file.instructions[index];
        if inst.keyword == Keyword::Arg && arg_names(inst).iter().any(|n| read.contains(n)) {
            out.push_str(&line(&source[inst.span.clone()], nl));
        }
    }
    for inst in &envs {
        out.push_str(&line(&source[inst.span.clone()], nl));
    }
    if let Some(workdir) = &scan.final_workdir {
        out.push_str(&format!("WORKDIR {workdir}{nl}"));
    }
    for setup in &plan.setup {
        out.push_str(&format!("{setup}{nl}"));
    }
    for (from, to) in &plan.copies {
        out.push_str(&format!("COPY --from={stage_name} {from} {to}{nl}"));
    }
    for index in scan.stage.instructions.clone() {
        let inst = &file.instructions[index];
        if inst.keyword == Keyword::Shell {
            out.push_str(&line(&source[inst.span.clone()], nl));
        }
    }
    if let Some(user) = user_copy {
        out.push_str(&user);
    }
    for text in moved {
        out.push_str(&text);
    }
    // A file without a final line break keeps it that way.
    if tail == source.len() && !source.is_empty() && !source.ends_with('\n') {
        out.truncate(out.trim_end_matches(['\r', '\n']).len());
    }
    edits.push(Edit::insert(tail, out));
    edits
}

/// `text` ending with exactly one line break.
fn line(text: &str, nl: &str) -> String {
    if text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}{nl}")
    }
}

/// The text of a moved instruction with the artifact paths it names rewritten.
fn rewrite(input: &Input, index: usize, text: &str, plan: &Plan, workdir: Option<&str>) -> String {
    let inst = &input.file.instructions[index];
    if !matches!(inst.keyword, Keyword::Cmd | Keyword::Entrypoint | Keyword::Healthcheck) {
        return text.to_string();
    }
    let mut out = text.to_string();
    if inst.keyword != Keyword::Healthcheck {
        for (old, new) in &plan.replacements {
            out = out.replacen(old.as_str(), new, 1);
        }
    }
    for words in input.image_commands(index) {
        for word in words {
            let Some(literal) = word.literal.as_deref() else { continue };
            if !literal.contains('/') {
                continue;
            }
            let Some(abs) = Dir::resolve(workdir, literal) else { continue };
            if let Some((_, new)) = plan.rewrites.iter().find(|(old, _)| *old == abs) {
                let written = if inst.exec.is_some() || word.range.is_empty() { literal.to_string() } else { word.raw.clone() };
                out = replace_word(&out, &written, new);
            }
        }
    }
    out
}

/// Replace `word` where it stands alone (between quotes, blanks, brackets, commas or operators).
fn replace_word(text: &str, word: &str, new: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        let bounded = |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '[' | ']' | ',' | ';' | '&' | '|'));
        out.push_str(&rest[..at]);
        if bounded(before) && bounded(after) {
            out.push_str(new);
        } else {
            out.push_str(word);
        }
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
