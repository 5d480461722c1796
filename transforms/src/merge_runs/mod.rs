#![doc = include_str!("../../docs/merge-runs.md")]

mod cleanup;
mod edits;
mod repeats;
mod script;
mod windows;
#[cfg(test)]
mod tests;

use self::edits::Layout;
use self::script::{shell_errexit, Facts, Wrap};
use crate::checks;
use crate::fix::{Applicability, Edit, Finding, Fix};
use crate::model::{Input, Model};
use crate::syntax::{Instruction, Keyword, Stage};

pub(crate) const DOC: &str = include_str!("../../docs/merge-runs.md");
#[cfg(test)]
const NAME: &str = "merge-runs";

/// A RUN's script is one argument of `sh -c`: Linux refuses an argument over 128 KiB
/// (MAX_ARG_STRLEN). Merging stops well before.
const MAX_SCRIPT_LEN: usize = 64 * 1024;
/// What chaining adds to a script at most: ` && `, a wrap, the continuation's indentation.
const CHAIN_OVERHEAD: usize = 32;

pub(crate) fn run(input: &Input) -> Vec<Finding> {
    let file = input.file;
    let mut findings = Vec::new();
    let final_stage = input.model().final_stage();
    let leading = Layout::file_style(file);
    for stage in &file.stages {
        let is_final = Some(stage.index) == final_stage;
        if !is_final && input.settings.config.only_final_stage {
            continue;
        }
        // A stage whose layers do not ship (a build stage, even one that lends files through
        // `COPY --from`): merging saves no shipped bytes and one failing step reruns the whole
        // merged RUN, cached compiles and all.
        let in_image = input.model().stages()[stage.index].in_final_image;
        if !in_image && !input.settings.config.merge_runs.build_stages {
            continue;
        }
        let moves = cleanup::moves(input, stage, in_image, leading);
        findings.extend(moves.findings);
        findings.extend(merge_stage(input, stage, in_image, leading, &moves.moved));
        findings.extend(windows::findings(input, stage, in_image));
    }
    findings
}

/// Added to a finding's `why` in a stage whose layers do not ship (merged with `build-stages = true`).
fn stage_note(in_image: bool) -> String {
    if in_image {
        String::new()
    } else {
        ". This stage's layers do not ship: merging only speeds up its build (`[merge-runs] build-stages = true`)".into()
    }
}

/// RUNs being chained.
struct Group<'a> {
    members: Vec<Facts<'a>>,
    /// Variables set by the members that a subshell wraps (all but the last, when they leave state).
    subshell_variables: Vec<String>,
    /// The stage's SHELL runs with `-e` (no SHELL instruction sits inside a group).
    errexit: bool,
    /// Length of the chained script so far.
    script_len: usize,
}

impl<'a> Group<'a> {
    fn push(&mut self, model: &Model, facts: Facts<'a>) {
        if self.members.is_empty() {
            self.errexit = shell_errexit(model, facts.index);
            self.script_len = 0;
        }
        self.script_len += facts.source().len() + CHAIN_OVERHEAD;
        if let Some(prev) = self.members.last().filter(|p| p.has_state) {
            self.subshell_variables.extend(prev.variables.iter().cloned());
        }
        self.members.push(facts);
    }
}

fn merge_stage(input: &Input, stage: &Stage, in_image: bool, leading: bool, moved: &[usize]) -> Vec<Finding> {
    let file = input.file;
    let mut findings = Vec::new();
    let mut group = Group { members: Vec::new(), subshell_variables: Vec::new(), errexit: false, script_len: 0 };
    for index in stage.instructions.clone() {
        let inst = &file.instructions[index];
        let mergeable = inst.keyword == Keyword::Run && !moved.contains(&index) && readable(input, index);
        if !mergeable {
            findings.extend(flush(input, &mut group, in_image, leading));
            continue;
        }
        let prev = group.members.last().map(|f| f.inst).or_else(|| previous_run(input, stage, index, moved));
        let same_flags = prev.is_some_and(|p| flag_texts(p) == flag_texts(inst));
        let Some(shell) = input.shell(index) else {
            // Exec form or a heredoc: it cannot join a chain.
            if same_flags {
                let why = if inst.exec.is_some() { "it is in exec form (JSON): it runs without a shell" } else { "it has a heredoc" };
                findings.push(refusal(inst, why));
            }
            findings.extend(flush(input, &mut group, in_image, leading));
            continue;
        };
        let facts = Facts::new(index, inst, shell);
        if prev.is_some() && !same_flags {
            // Different flags (mounts, network, security) are a reason of their own to keep RUNs apart.
            findings.extend(flush(input, &mut group, in_image, leading));
        } else if prev.is_some() && group.members.is_empty() {
            // The RUN before is one that cannot join (exec form, heredoc): reported there.
            let before = &file.instructions[index - 1];
            if before.exec.is_some() {
                findings.push(refusal(inst, "the RUN before it is in exec form (JSON): it runs without a shell"));
            } else {
                findings.push(refusal(inst, "the RUN before it has a heredoc"));
            }
        } else if !group.members.is_empty() {
            if let Err(why) = can_join(input, &group, &facts) {
                findings.push(refusal(inst, &why));
                findings.extend(flush(input, &mut group, in_image, leading));
            }
        }
        group.push(input.model(), facts);
    }
    findings.extend(flush(input, &mut group, in_image, leading));
    findings
}

/// The RUN right before instruction `index` in the stage that merging would consider, if any.
fn previous_run<'f>(input: &Input<'f>, stage: &Stage, index: usize, moved: &[usize]) -> Option<&'f Instruction> {
    let before = index.checked_sub(1).filter(|&b| b > stage.instructions.start)?;
    let inst = &input.file.instructions[before];
    (inst.keyword == Keyword::Run && !moved.contains(&before) && readable(input, before)).then_some(inst)
}

/// Whether RUN `index` is shell form under a POSIX shell, or exec form / heredoc where the shell
/// would be POSIX (those are reported, RUNs under PowerShell or cmd are not).
fn readable(input: &Input, index: usize) -> bool {
    let inst = &input.file.instructions[index];
    input.shell(index).is_some() || ((inst.exec.is_some() || !inst.heredocs.is_empty()) && input.posix_shell_at(index))
}

fn flag_texts(inst: &Instruction) -> Vec<&str> {
    inst.flags.iter().map(|f| f.text.as_str()).collect()
}

/// A RUN that follows another but is left alone, and why. (Its range is the keyword, which no
/// fix of this transform touches, so a later pass reports it at the same place.)
fn refusal(inst: &Instruction, why: &str) -> Finding {
    Finding::new(&checks::MERGE_RUNS_CONSECUTIVE, inst.keyword_span.clone(), "RUN follows a RUN it is not merged with")
        .with_why(format!("{why}; each RUN adds a layer (hadolint DL3059)"))
}

/// Whether `next` can be chained after the group's RUNs (only the last member's place changes).
fn can_join(input: &Input, group: &Group, next: &Facts) -> Result<(), String> {
    let file = input.file;
    let prev = group.members.last().ok_or_else(String::new)?;
    // Merged, the RUNs have the first one's pragmas: they must hold for every RUN alike.
    if !input.pragmas().same_above(group.members[0].index, next.index) {
        return Err("a pragma (`# hadolint ignore=…`, `# dockopt ignore=…`) is written for one of them alone".into());
    }
    if group.script_len + next.source().len() + CHAIN_OVERHEAD > MAX_SCRIPT_LEN {
        return Err(format!("the merged script would pass {} KiB, too close to the kernel's limit for one argument of `sh -c`", MAX_SCRIPT_LEN / 1024));
    }
    if edits::script_end(file, prev.inst).is_none() || edits::script_prefix(next.inst).is_none() {
        return Err("a comment line sits inside the RUN's keyword line continuation".into());
    }
    let errexit = group.errexit;
    let first = group.members.len() == 1;
    let prev_place = prev.place(first, false, errexit).map_err(|why| format!("the RUN before it cannot be followed: {why}"))?;
    next.place(false, true, errexit).map_err(|why| format!("it cannot follow another command: {why}"))?;
    // A variable set inside `( … )` and read after it is what ShellCheck flags as SC2031.
    let prev_variables = prev.variables.iter().map(String::as_str).filter(|_| prev_place.wrap == Wrap::Subshell);
    if let Some(name) = group.subshell_variables.iter().map(String::as_str).chain(prev_variables).find(|v| next.reads_variable(v)) {
        return Err(format!("it reads `${name}`, which an earlier RUN sets: merged, that RUN needs a subshell, and ShellCheck flags a variable read after the subshell that set it (SC2031)"));
    }
    Ok(())
}

/// Findings for a finished group; empties it.
fn flush(input: &Input, group: &mut Group, in_image: bool, leading: bool) -> Vec<Finding> {
    let members: Vec<Facts> = std::mem::take(&mut group.members);
    group.subshell_variables.clear();
    let errexit = group.errexit;
    if members.len() < 2 {
        return Vec::new();
    }
    let refs: Vec<&Facts> = members.iter().collect();
    if input.settings.unsafe_fixes {
        return merge_finding(input, &refs, errexit, in_image, leading).into_iter().collect();
    }
    // Without --unsafe, the safe stretches are fixed on their own; each unsafe junction is
    // reported with its fix (applied only with --unsafe).
    let junction_safe: Vec<bool> = refs.windows(2).map(|pair| junction_reasons(pair[0], pair[1], errexit).is_empty()).collect();
    let mut findings = Vec::new();
    let mut start = 0;
    for (at, safe) in junction_safe.iter().enumerate() {
        if !safe {
            findings.extend(merge_finding(input, &refs[start..=at], errexit, in_image, leading));
            // Ranged on the later RUN's keyword, which no fix of this pass edits: the next pass
            // reports the same junction at the same place.
            findings.extend(merge_finding(input, &refs[at..=at + 1], errexit, in_image, leading).map(|mut finding| {
                finding.range = refs[at + 1].inst.keyword_span.clone();
                finding.message = "RUN can be merged into the RUN before it".into();
                finding
            }));
            start = at + 1;
        }
    }
    findings.extend(merge_finding(input, &refs[start..], errexit, in_image, leading));
    findings
}

/// Why chaining `next` after `prev` could change the image (empty: it cannot).
fn junction_reasons(prev: &Facts, next: &Facts, errexit: bool) -> Vec<String> {
    let mut reasons = prev.place(true, false, errexit).map(|p| p.unsafe_reasons).unwrap_or_default();
    if let Some(reason) = mount_reason(next.inst) {
        reasons.push(reason);
    }
    reasons
}

/// A mount that each RUN gets fresh (tmpfs, writable bind): merged, the later command sees what
/// the earlier one left in it.
fn mount_reason(inst: &Instruction) -> Option<String> {
    inst.flags.iter().filter(|f| f.name == "mount").find_map(|f| {
        let value = f.value.as_deref().unwrap_or("");
        let options: Vec<&str> = value.split(',').map(str::trim).collect();
        let tmpfs = options.contains(&"type=tmpfs");
        let writable_bind = options.contains(&"type=bind") && options.iter().any(|o| matches!(*o, "rw" | "readwrite" | "rw=true" | "readwrite=true"));
        (tmpfs || writable_bind).then(|| format!("`{}` is fresh for each RUN: merged, the later command sees what the earlier one left in it", f.text))
    })
}

/// One finding with the fix that chains `members` (2 or more) into one RUN.
fn merge_finding(input: &Input, members: &[&Facts], errexit: bool, in_image: bool, leading: bool) -> Option<Finding> {
    if members.len() < 2 {
        return None;
    }
    let file = input.file;
    let count = members.len();
    let mut wraps = Vec::with_capacity(count);
    let mut reasons: Vec<String> = Vec::new();
    for (at, member) in members.iter().enumerate() {
        let place = member.place(at == 0, at + 1 == count, errexit).ok()?;
        wraps.push(place.wrap);
        reasons.extend(place.unsafe_reasons);
    }
    reasons.extend(mount_reason(members[0].inst));
    reasons.dedup();
    let instructions: Vec<&Instruction> = members.iter().map(|m| m.inst).collect();
    let layout = Layout::of(file, &instructions, leading);
    let mut edits = edits::chain(file, &layout, members, &wraps)?;
    let redundant = repeats::redundant(input, members);
    edits.extend(redundant.edits);
    // The later RUNs carry the first one's pragmas (`can_join`): the merged RUN keeps the first's.
    let repeated: Vec<std::ops::Range<usize>> = members[1..].iter().flat_map(|m| input.pragmas().above(m.index)).map(|p| edits::whole_line(file, p.range.clone())).collect();
    edits.extend(repeated.iter().cloned().map(Edit::delete));

    let first = members[0].inst;
    let last = members[count - 1].inst;
    let message = format!("{count} consecutive RUN instructions can be one");
    let mut why = "each RUN adds a layer, and what one RUN leaves behind for a later one to delete still ships in its layer (hadolint DL3059)".to_string();
    why.push_str(&stage_note(in_image));
    let applicability = if reasons.is_empty() { Applicability::Safe } else { Applicability::Unsafe };
    if !reasons.is_empty() {
        why.push_str(&format!(". Unsafe: {}", reasons.join("; ")));
    }
    let mut title = "Merge them into one RUN with `&&`".to_string();
    let mut kept_local: Vec<&str> = Vec::new();
    for (member, _) in members.iter().zip(&wraps).filter(|(_, w)| **w == Wrap::Subshell) {
        for name in &member.state_names {
            if !kept_local.contains(name) {
                kept_local.push(name);
            }
        }
    }
    if !kept_local.is_empty() {
        title.push_str(&format!("; a subshell keeps the effect of `{}` local", kept_local.join("`, `")));
    }
    if !redundant.dropped.is_empty() {
        title.push_str(&format!("; what the merged RUN would run twice runs once: `{}`", redundant.dropped.join("`, `")));
    }
    if !repeated.is_empty() {
        title.push_str("; the pragma above the first RUN holds for the merged one (the same pragma above the others is removed)");
    }
    let range = first.keyword_span.start..last.head_range().end;
    Some(Finding::new(&checks::MERGE_RUNS_CONSECUTIVE, range, message).with_why(why).with_fix(Fix::new(title, edits, applicability)))
}
