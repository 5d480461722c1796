//! A standalone cleanup RUN (`RUN rm -rf /var/lib/apt/lists/*`, `RUN yum clean all`, …) later in
//! the stage moves into the RUN that filled the cache, when nothing in between can use the files.

use std::ops::Range;

use super::edits::{self, Layout};
use super::script::{shell_errexit, Facts, Wrap};
use super::stage_note;
use crate::checks;
use crate::fix::{Applicability, Edit, Finding, Fix};
use crate::knowledge::package_managers::{in_cache_dir, managers, Manager};
use crate::model::Input;
use crate::shell::{Command, Script};
use crate::syntax::{Instruction, ItemKind, Keyword, Stage};

/// Programs a RUN in between may run without touching a package cache (when it does not name it).
pub(super) const UNRELATED: &[&str] = &[
    "mkdir", "chmod", "chown", "chgrp", "ln", "cp", "mv", "rm", "rmdir", "touch", "echo", "printf", "sed", "cat",
    "tee", "true", "test", "[", "[[", "useradd", "groupadd", "adduser", "addgroup", "usermod", "groupmod", "ls",
    "tar", "unzip", "gzip", "gunzip", "bzip2", "xz", "curl", "wget", "git", "cd", "export", "ldconfig", "locale-gen",
    "update-ca-certificates", "ssh-keygen", "id", "sleep", "date", "grep", "head", "tail", "sort", "wc",
];

/// Instructions that cannot read or write the image's files.
fn is_inert(keyword: Keyword) -> bool {
    use Keyword::*;
    matches!(keyword, Env | Arg | Label | Expose | Workdir | Cmd | Entrypoint | Stopsignal | Healthcheck | Maintainer | Onbuild)
}

/// What the cleanup pass found in a stage: findings, and the cleanup RUNs it moves under the
/// settings (merging leaves those alone).
pub(super) struct Moves {
    pub findings: Vec<Finding>,
    pub moved: Vec<usize>,
}

pub(super) fn moves(input: &Input, stage: &Stage, in_image: bool, leading: bool) -> Moves {
    let mut out = Moves { findings: Vec::new(), moved: Vec::new() };
    for index in stage.instructions.clone() {
        let inst = &input.file.instructions[index];
        if inst.keyword != Keyword::Run || !inst.flags.is_empty() {
            continue;
        }
        let Some(shell) = input.shell(index) else { continue };
        let Some(family) = cleanup_family(&shell.script) else { continue };
        let Some(finding) = move_finding(input, stage, index, &family, in_image, leading) else { continue };
        let threshold = if input.settings.unsafe_fixes { Applicability::Unsafe } else { Applicability::Safe };
        if finding.fix.as_ref().is_some_and(|fix| fix.applicability >= threshold) {
            out.moved.push(index);
        }
        out.findings.push(finding);
    }
    out
}

/// The package managers whose caches the script only cleans, when that is all it does (every
/// command cleans a cache all of them share).
fn cleanup_family(script: &Script) -> Option<Family> {
    if script.has_errors() || script.has_pipeline() || !script.state_changes().is_empty() || script.commands().is_empty() {
        return None;
    }
    let mut family: Option<Family> = None;
    for command in script.commands() {
        if command.step.is_none() || command.negated || command.in_condition || !quiet_redirects(command) {
            return None;
        }
        let cleaners: Family = managers().iter().filter(|m| cleans(m, command)).collect();
        let shared: Family = match family {
            None => cleaners,
            Some(found) => found.into_iter().filter(|m| cleaners.iter().any(|c| std::ptr::eq(*c, *m))).collect(),
        };
        if shared.is_empty() {
            return None;
        }
        family = Some(shared);
    }
    family
}

/// Package managers that share the cache a cleanup RUN cleans.
type Family = Vec<&'static Manager>;

pub(super) fn quiet_redirects(command: &Command) -> bool {
    command.redirects.iter().all(|r| r.operator.contains('&') || r.target.as_ref().is_some_and(|t| t.is("/dev/null")))
}

/// The non-option words of a command, after wrappers such as `sudo` (as written when not static).
pub(super) fn plain_words(command: &Command) -> Option<Vec<String>> {
    let view = command.effective();
    let mut words = Vec::new();
    for (at, word) in view.words().iter().enumerate() {
        let text = word.literal.as_deref().unwrap_or(&word.raw);
        if at > 0 && text.starts_with('-') {
            continue;
        }
        let text = if at == 0 { view.basename()? } else { text };
        words.push(text.to_string());
    }
    Some(words)
}

pub(super) fn cleans(manager: &Manager, command: &Command) -> bool {
    if command.effective().is("rm") {
        return removes_cache(manager, command);
    }
    // Asked of every manager: the words are gathered only for the one the command runs.
    if !command.effective().basename().is_some_and(|program| manager.is_program(program)) {
        return false;
    }
    let Some(words) = plain_words(command) else { return false };
    let Some((_, rest)) = words.split_first() else { return false };
    manager.cache_cleaned_by.iter().any(|c| rest.iter().map(String::as_str).eq(c.split_whitespace()))
}

/// `rm -rf` of paths that all lie in the manager's caches.
fn removes_cache(manager: &Manager, command: &Command) -> bool {
    let args = command.effective().args();
    let mut paths = 0;
    for arg in args {
        let text = arg.literal.clone().unwrap_or_else(|| arg.raw.replace('"', ""));
        if let Some(options) = text.strip_prefix('-') {
            if !options.chars().all(|c| matches!(c, 'r' | 'R' | 'f' | 'v')) && !matches!(text.as_str(), "--recursive" | "--force" | "--verbose") {
                return false;
            }
            continue;
        }
        let in_cache = !text.contains("..") && manager.cache_paths().any(|dir| in_cache_dir(dir, &text));
        if !in_cache {
            return false;
        }
        paths += 1;
    }
    paths > 0
}

fn creates(family: &Family, script: &Script) -> bool {
    script.commands().iter().enumerate().any(|(i, command)| {
        family.iter().any(|m| m.invocation(i, command).is_some_and(|inv| inv.runs_any(&m.cache_filled_by).is_some()))
    })
}

/// Whether a RUN in between provably leaves the family's cache alone.
fn unrelated(family: &Family, script: &Script) -> bool {
    let names_cache = family.iter().flat_map(|m| m.cache_paths()).any(|p| {
        let distinctive = p.trim_start_matches('*');
        script.source().contains(distinctive)
    });
    !script.has_errors()
        && !names_cache
        && script.commands().iter().all(|command| command.words.is_empty() || command.effective().basename().is_some_and(|name| UNRELATED.contains(&name)))
}

fn move_finding(input: &Input, stage: &Stage, index: usize, family: &Family, in_image: bool, leading: bool) -> Option<Finding> {
    let file = input.file;
    let cleanup = &file.instructions[index];
    let creates_here = |j: usize| file.instructions[j].keyword == Keyword::Run && input.shell(j).is_some_and(|s| creates(family, &s.script));
    let creator = (stage.instructions.start + 1..index).rev().find(|&j| creates_here(j))?;
    // Right before: merging the two RUNs handles it, unless the creator already runs this very
    // cleanup (e.g. run-cleanup appended it): then the cleanup RUN is only deleted, not chained twice.
    if creator + 1 == index {
        let (Some(creator_shell), Some(cleanup_shell)) = (input.shell(creator), input.shell(index)) else { return None };
        let first = Facts::new(creator, &file.instructions[creator], creator_shell);
        let second = Facts::new(index, cleanup, cleanup_shell);
        if !already_cleaned(&first, &second) {
            return None;
        }
        let line = file.instructions[creator].start_line;
        let mut why = format!("the RUN right before (line {line}) already runs the same cleanup: this RUN only adds an empty layer");
        why.push_str(&stage_note(in_image));
        let title = format!("Delete the cleanup RUN: the RUN at line {line} already does it");
        // Only the RUN goes: a comment above it stays (dockopt never drops a comment).
        let fix = Fix::new(title, vec![Edit::delete(cleanup.span.clone())], Applicability::Safe);
        let range = cleanup.keyword_span.start..cleanup.head_range().end;
        return Some(Finding::new(&checks::MERGE_RUNS_STANDALONE_CLEANUP, range, message(cleanup)).with_why(why).with_fix(fix));
    }
    let mut env_between = false;
    for j in creator + 1..index {
        let inst = &file.instructions[j];
        let line = inst.start_line;
        if inst.keyword == Keyword::Run {
            let Some(shell) = input.shell(j) else {
                return Some(refused(cleanup, in_image, format!("the RUN at line {line} comes between and cannot be read: it could use the files")));
            };
            if !unrelated(family, &shell.script) {
                // Right after the creator (only RUNs between): merging is about to chain it into the
                // creator, and the next pass moves the cleanup to the end of that chain.
                if file.instructions[creator + 1..=j].iter().all(|i| i.keyword == Keyword::Run) {
                    return None;
                }
                return Some(refused(cleanup, in_image, format!("the RUN at line {line} comes between and could use the files")));
            }
        } else if is_inert(inst.keyword) {
            env_between |= matches!(inst.keyword, Keyword::Env | Keyword::Arg | Keyword::Workdir);
        } else {
            let keyword = &file.source[inst.keyword_span.clone()];
            let effect = match inst.keyword {
                Keyword::User => "the cleanup would run as another user",
                Keyword::Shell => "the cleanup would run under another shell",
                _ => "it could use or replace the files",
            };
            return Some(refused(cleanup, in_image, format!("the {keyword} at line {line} comes between: {effect}")));
        }
    }
    let creator_inst = &file.instructions[creator];
    let line = creator_inst.start_line;
    if creator_inst.flag("mount").is_some() {
        return Some(refused(cleanup, in_image, format!("the RUN at line {line} that fills the cache has a `--mount`: the cleanup could clean the mount instead")));
    }
    let (Some(creator_shell), Some(cleanup_shell)) = (input.shell(creator), input.shell(index)) else { return None };
    let first = Facts::new(creator, creator_inst, creator_shell);
    let second = Facts::new(index, cleanup, cleanup_shell);
    let errexit = shell_errexit(input.model(), index);
    let places = first.place(true, false, errexit).and_then(|a| Ok((a, second.place(false, true, errexit)?)));
    let (first_place, second_place) = match places {
        Ok(places) => places,
        Err(why) => return Some(refused(cleanup, in_image, format!("the RUN at line {line} that fills the cache cannot take it: {why}"))),
    };
    if first_place.wrap == Wrap::Subshell {
        if let Some(name) = first.variables.iter().find(|v| second.reads_variable(v)) {
            return Some(refused(cleanup, in_image, format!("it reads `${name}`, which the RUN at line {line} sets")));
        }
    }
    let mut reasons = first_place.unsafe_reasons;
    if env_between && (family.iter().any(|m| m.cache_in_home()) || cleanup.args_text().contains(['$', '~'])) {
        reasons.push("an ENV, ARG or WORKDIR between them could change what the cleanup cleans".into());
    }

    let message = message(cleanup);
    let mut why = format!("deleting files in a later layer hides them without making the image smaller: the cleanup belongs in the RUN that created them (line {line})");
    why.push_str(&stage_note(in_image));
    let mut edits = Vec::new();
    let title = if already_cleaned(&first, &second) {
        format!("Delete the cleanup RUN: the RUN at line {line} already does it")
    } else {
        let layout = Layout::of(file, &[creator_inst, cleanup], leading);
        let Some(end) = edits::script_end(file, creator_inst) else {
            return Some(refused(cleanup, in_image, format!("the RUN at line {line} that fills the cache does not end where a command can be added")));
        };
        let newline = file.newline();
        let comments = &file.source[file.with_comments_above(index).start..cleanup.span.start];
        let moved = &file.source[cleanup.args_source_range()];
        let joined = format!(
            "{}{}{newline}{comments}{}{}{moved}{}",
            first.close(first_place.wrap),
            layout.line_end(),
            layout.line_start(),
            second.open(second_place.wrap),
            second.close(second_place.wrap),
        );
        if first_place.wrap != Wrap::None {
            edits.push(Edit::insert(creator_inst.args_source_range().start, first.open(first_place.wrap)));
        }
        edits.push(Edit::replace(end, joined));
        format!("Move the cleanup into the RUN at line {line}")
    };
    edits.push(Edit::delete(removal(input, index)));
    let applicability = if reasons.is_empty() { Applicability::Safe } else { Applicability::Unsafe };
    if !reasons.is_empty() {
        why.push_str(&format!(". Unsafe: {}", reasons.join("; ")));
    }
    let range = cleanup.keyword_span.start..cleanup.head_range().end;
    Some(Finding::new(&checks::MERGE_RUNS_STANDALONE_CLEANUP, range, message).with_why(why).with_fix(Fix::new(title, edits, applicability)))
}

fn message(cleanup: &Instruction) -> String {
    format!("`{}` cleans up in a layer of its own: what it deletes still ships in an earlier layer", short(cleanup.args_text()))
}

fn refused(cleanup: &Instruction, in_image: bool, reason: String) -> Finding {
    let mut why = format!("not moved into the RUN that creates the files: {reason}");
    why.push_str(&stage_note(in_image));
    Finding::new(&checks::MERGE_RUNS_STANDALONE_CLEANUP, cleanup.keyword_span.clone(), message(cleanup)).with_why(why)
}

/// Whether every cleanup command of `second` already runs, the same, in `first`.
fn already_cleaned(first: &Facts, second: &Facts) -> bool {
    let words_of = |script: &Script| script.commands().iter().filter(|c| c.step.is_some() && !c.in_condition).filter_map(plain_words).collect::<Vec<_>>();
    let have = words_of(first.script);
    words_of(second.script).iter().all(|w| have.contains(w))
}

/// What to delete for the moved RUN: its comments, the RUN, and a blank line that would be doubled.
fn removal(input: &Input, index: usize) -> Range<usize> {
    let file = input.file;
    let inst = &file.instructions[index];
    let start = file.with_comments_above(index).start;
    let before = file.items.iter().rev().find(|item| item.span.end <= start);
    let after = file.items.iter().find(|item| item.span.start >= inst.span.end);
    match before {
        Some(item) if item.kind == ItemKind::Blank && after.is_none_or(|a| a.kind == ItemKind::Blank) => item.span.start..inst.span.end,
        _ => start..inst.span.end,
    }
}

fn short(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}

/// Whether a script is a standalone cleanup of one package cache.
#[cfg(test)]
pub(super) fn is_cleanup(script: &str) -> bool {
    cleanup_family(&crate::shell::parse_script(script)).is_some()
}
