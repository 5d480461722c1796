//! A package index across RUNs (apt's lists): which RUN downloads it and leaves it in its layer,
//! and which later RUNs install from it without downloading it again. Removing the lists in the
//! first RUN is only correct together with an `apt-get update` in every such later RUN, so one
//! fix carries both.

use std::collections::BTreeMap;

use crate::fix::{Applicability, Edit, Finding, Fix};
use crate::shell::{Op, Script, NO_OPTIONS};
use crate::syntax::Keyword;

use crate::knowledge::package_managers::{managers, Index, Invocation, Manager};
use crate::model::edits::{append_point, has_comment_lines, instruction_deletion, Layout};
use super::{explain, mounts_instead, privilege_prefix, runs_pattern, Run, Scope};
use crate::checks;

/// Source start of the chain item after `command`'s, when no comment line lies in between.
fn following_item(scope: &Scope, run: &Run, command: &crate::shell::Command) -> Option<usize> {
    let (step, item) = (command.step?, command.item?);
    let items = &run.shell.script.top_level().get(step)?.items;
    let this = run.shell.source_range(scope.file, items.get(item)?.range.clone());
    let start = run.shell.source_offset(scope.file, items.get(item + 1)?.range.start);
    let comment_between = run.inst.lines.iter().any(|l| {
        l.kind != crate::syntax::LineKind::Content && l.span.start < start && this.end < l.span.end
    });
    (!comment_between).then_some(start)
}

/// Where the lists a RUN sees come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lists {
    /// From the base image, or unknown after a RUN this transform cannot read.
    Base,
    /// Downloaded by this RUN and left in its layer.
    LeftBy(usize),
    /// Deleted by this RUN.
    Removed(usize),
}

/// A RUN that installs before (or without) updating the index in the same RUN.
struct Reader {
    run: usize,
    /// Index into the RUN's commands of its first reading command.
    command: usize,
    lists: Lists,
}

/// A RUN that leaves the index in its layer, and who depends on it being there.
#[derive(Default)]
struct Updater {
    readers: Vec<usize>,
    /// Later RUNs or ONBUILD triggers that may read the lists in ways this transform cannot see.
    opaque: Vec<usize>,
}

pub(super) fn findings(scope: &Scope, out: &mut Vec<Finding>) {
    for manager in managers() {
        if let Some(index) = &manager.index {
            lifecycle(scope, manager, index, out);
        }
    }
}

/// Second downloads of an index inside `run` (see `refetch`), for every manager that has one.
pub(super) fn refetches(scope: &Scope, run: &Run) -> Vec<Finding> {
    managers()
        .iter()
        .filter_map(|manager| refetch(scope, run, manager, manager.index.as_ref()?))
        .collect()
}

/// `… && rm -rf /var/lib/apt/lists/* && apt-get update && …` inside one RUN, where only the
/// manager ran since the previous update (typically two merged install RUNs): the lists are deleted
/// and downloaded again for nothing. Nothing in between can have changed the sources, so dropping
/// the pair installs the same packages from the same lists.
fn refetch(scope: &Scope, run: &Run, manager: &Manager, index: &Index) -> Option<Finding> {
    let (c, next) = refetch_pair(run, manager, index)?;
    let commands = run.commands();
    let (rm, update) = (&commands[c], &commands[next]);
    let edits = match following_item(scope, run, update) {
        // From the `rm` to what follows the update keeps the line breaks where they were.
        Some(end) => vec![Edit::delete(run.source(scope.file, rm.range.clone()).start..end)],
        None => [c, next].iter().map(|&k| super::deletion(scope.file, run, k)).collect::<Option<Vec<Edit>>>()?,
    };
    let range = run.source(scope.file, rm.range.start..update.range.end);
    Some(
        Finding::new(&checks::RUN_CLEANUP_LISTS_FETCHED_TWICE, range, "the package lists are deleted and downloaded again in the same RUN")
            .with_why("only the package manager ran since the lists were downloaded, so the same lists are fetched twice: drop the `rm` and the second update")
            .with_fix(Fix::safe("Remove the second download of the package lists", edits)),
    )
}

/// The first `rm` and update of `refetch`: indices into the RUN's commands.
fn refetch_pair(run: &Run, manager: &Manager, index: &Index) -> Option<(usize, usize)> {
    let commands = run.commands();
    // Per command, once: asking the invocations again for each command costs their square.
    let (mut manager_at, mut update_at) = (vec![false; commands.len()], vec![false; commands.len()]);
    for i in run.of(manager) {
        if let Some(slot) = manager_at.get_mut(i.command) {
            *slot = true;
        }
        if updates(index, i) {
            if let Some(slot) = update_at.get_mut(i.command) {
                *slot = true;
            }
        }
    }
    let is_manager = |c: usize| manager_at.get(c).copied().unwrap_or(false);
    let is_update = |c: usize| update_at.get(c).copied().unwrap_or(false);
    // Whether the lists were downloaded and only the manager ran since.
    let mut fresh = false;
    for (c, rm) in commands.iter().enumerate() {
        if is_update(c) {
            fresh = true;
            continue;
        }
        if !fresh {
            continue;
        }
        if !runs_pattern(manager, &index.cleanup.run, rm) {
            fresh = is_manager(c);
            continue;
        }
        let next = c + 1;
        let update = commands.get(next)?;
        let adjacent = rm.step.is_some()
            && rm.step == update.step
            && rm.item.is_some_and(|i| i > 0 && update.item == Some(i + 1))
            && ![rm, update].iter().any(|x| x.in_condition || x.in_subshell || x.in_function || x.in_substitution);
        if !is_update(next) || !adjacent {
            fresh = false;
            continue;
        }
        return Some((c, next));
    }
    None
}

fn lifecycle(scope: &Scope, manager: &'static Manager, index: &Index, out: &mut Vec<Finding>) {
    let file = scope.file;
    let mut stage_end = vec![Lists::Base; file.stages.len()];
    let mut readers: Vec<Reader> = Vec::new();
    let mut updaters: BTreeMap<usize, Updater> = BTreeMap::new();
    for stage in &file.stages {
        let mut lists = scope.model.stages()[stage.index].parent.map_or(Lists::Base, |p| stage_end[p]);
        for i in stage.instructions.clone() {
            let inst = &file.instructions[i];
            let run = (inst.keyword == Keyword::Run)
                .then(|| scope.run(i))
                .flatten();
            let Some(run) = run else {
                let mentions = matches!(inst.keyword, Keyword::Run | Keyword::Onbuild)
                    && manager
                        .programs
                        .iter()
                        .any(|p| mentions_word(&inst.logical.text, p));
                if mentions {
                    if let Lists::LeftBy(a) = lists {
                        updaters.entry(a).or_default().opaque.push(i);
                    }
                    if inst.keyword == Keyword::Run {
                        lists = Lists::Base;
                    }
                }
                continue;
            };
            let commands: Vec<Invocation> = run.of(manager).copied().collect();
            let updates = |c: &&Invocation| updates(index, c);
            let first_update = commands.iter().find(updates).map(|c| c.command);
            let last_update = commands.iter().rev().find(updates).map(|c| c.command);
            let first_read = commands
                .iter()
                .find(|c| c.runs_any(&index.readers).is_some() && !updates(c))
                .map(|c| c.command);
            let mounted = run.mounted(std::slice::from_ref(&index.dir));
            if let Lists::LeftBy(a) = lists {
                if runs_something_opaque(&run.shell.script, manager) {
                    updaters.entry(a).or_default().opaque.push(i);
                }
            }
            if let Some(read) =
                first_read.filter(|r| !mounted && first_update.is_none_or(|u| u > *r))
            {
                if let Lists::LeftBy(a) = lists {
                    updaters.entry(a).or_default().readers.push(readers.len());
                }
                readers.push(Reader {
                    run: i,
                    command: read,
                    lists,
                });
            }
            if mounted {
                continue;
            }
            match last_update {
                Some(u) if removes(&run, manager, index, u + 1) => lists = Lists::Removed(i),
                Some(_) => {
                    lists = Lists::LeftBy(i);
                    updaters.entry(i).or_default();
                }
                None if removes(&run, manager, index, 0) => lists = Lists::Removed(i),
                None => {}
            }
        }
        stage_end[stage.index] = lists;
    }
    // A reader whose update comes with the Safe fix of the RUN it reads from needs no finding of its own.
    let mut covered = vec![false; readers.len()];
    for (&run, updater) in &updaters {
        if !scope.reports_on(run) {
            continue;
        }
        let finding = updater_finding(scope, manager, index, run, updater, &readers);
        if finding
            .as_ref()
            .and_then(|f| f.fix.as_ref())
            .is_some_and(|fix| fix.applicability == Applicability::Safe)
        {
            for &r in &updater.readers {
                covered[r] = true;
            }
        }
        out.extend(finding);
    }
    for (reader, covered) in readers.iter().zip(covered) {
        if !covered && scope.reports_on(reader.run) {
            out.push(reader_finding(scope, manager, index, reader));
        }
    }
}

/// The RUN's own `rm -rf /var/lib/apt/lists/*` before a later update, when the cleanup appended
/// after that update can take its place (moved, not repeated): the first command of the manager
/// after it downloads the lists again, and nothing before that names them.
fn earlier_cleanup(scope: &Scope, run: &Run, manager: &Manager, index: &Index) -> Option<Edit> {
    let commands = run.commands();
    let rm = (0..commands.len()).find(|&c| commands[c].unconditional() && runs_pattern(manager, &index.cleanup.run, &commands[c]))?;
    // Deleted with the update after it by `refetch`, which this move would preempt.
    if refetch_pair(run, manager, index).is_some_and(|(pair, _)| pair == rm) {
        return None;
    }
    let next = run.of(manager).find(|i| i.command > rm)?;
    let names_lists = commands[rm + 1..next.command].iter().any(|c| run.shell.script.text(&c.range).contains(&index.dir));
    if !updates(index, next) || !commands[next.command].unconditional() || names_lists {
        return None;
    }
    super::deletion(scope.file, run, rm)
}

/// Whether a command from `from` on removes the index (`rm -rf /var/lib/apt/lists/*`, `apt-get dist-clean`).
fn removes(run: &Run, manager: &Manager, index: &Index, from: usize) -> bool {
    let patterns: Vec<&String> = std::iter::once(&index.cleanup.run)
        .chain(&index.cleanup.done_by)
        .collect();
    run.commands()[from..]
        .iter()
        .any(|c| patterns.iter().any(|p| runs_pattern(manager, p, c)))
}

/// Whether the RUN downloads the index and leaves it in its layer.
fn leaves_index(run: &Run, manager: &Manager, index: &Index) -> bool {
    let last_update = run
        .of(manager)
        .filter(|i| updates(index, i))
        .last()
        .map(|i| i.command);
    last_update.is_some_and(|u| !removes(run, manager, index, u + 1))
        && !run.mounted(std::slice::from_ref(&index.dir))
}

/// Whether the command downloads the index: `apt-get update`, or `apt-get install --update`.
fn updates(index: &Index, invocation: &Invocation) -> bool {
    invocation.runs_any(&index.update).is_some()
        || (invocation.runs_any(&index.readers).is_some()
            && invocation.has_any(&index.update_flags))
}

/// `apt-get` as a word of `text` (not `apt-getter`, not `/var/lib/apt`).
fn mentions_word(text: &str, word: &str) -> bool {
    let is_part = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/');
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(|c| is_part(c) && c != '/') && !after.is_some_and(is_part)
    })
}

/// A command whose effect on the index cannot be seen: a local script, `sh file`, `curl … | sh`,
/// `sh -c '…apt-get…'`.
fn runs_something_opaque(script: &Script, manager: &Manager) -> bool {
    const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh", "ksh"];
    script.commands().iter().any(|c| {
        let view = c.effective();
        let Some(name) = view.name() else {
            return false;
        };
        let basename = view.basename().unwrap_or(name);
        if name.starts_with("./")
            || name.starts_with("../")
            || name.ends_with(".sh")
            || matches!(basename, "source" | ".")
        {
            return true;
        }
        if !SHELLS.contains(&basename) {
            return false;
        }
        match view.inline_script() {
            Some(inline) => manager
                .programs
                .iter()
                .any(|p| mentions_word(inline.literal.as_deref().unwrap_or(&inline.raw), p)),
            // `sh file` runs a script; a bare `sh` in a pipeline runs what it reads.
            None => view.positionals(NO_OPTIONS).next().is_some() || c.in_pipeline,
        }
    })
}

fn line(scope: &Scope, index: usize) -> usize {
    scope.file.instructions[index].start_line
}

fn reader_finding(scope: &Scope, manager: &Manager, index: &Index, reader: &Reader) -> Finding {
    let run = scope.run(reader.run).expect("readers are readable RUNs");
    let invocation = run
        .of(manager)
        .find(|i| i.command == reader.command)
        .expect("the reader's command");
    let (subcommand, last_word) = invocation
        .runs_any(&index.readers)
        .unwrap_or(("", invocation.program()));
    let update = format!(
        "{} {}",
        update_program(manager, invocation),
        index.update[0]
    );
    let range = run.head(scope.file, reader.command, last_word);
    let message = format!(
        "`{}` without `{update}` in the same RUN",
        invocation.describe(subcommand)
    );
    let (why, applicability) = match reader.lists {
        Lists::LeftBy(a) => (
            format!("it installs from the package lists the RUN at line {} left in its layer: once that layer comes from the build cache they are stale, and packages go missing or are old", line(scope, a)),
            Applicability::Safe,
        ),
        Lists::Removed(r) => (
            format!("the package lists were deleted by the RUN at line {}: this install cannot find its packages", line(scope, r)),
            Applicability::Safe,
        ),
        Lists::Base => (
            "it relies on package lists from the base image, which official images do not ship (and any that are there are stale)".to_string(),
            Applicability::Unsafe,
        ),
    };
    let unsafe_why = format!("`{update}` fetches the current index: package versions may differ from those of the base image's lists");
    let note = scope.stage_note(reader.run);
    let why = explain(
        &why,
        Some(&unsafe_why),
        Some(applicability),
        note.as_deref(),
    );
    let finding = Finding::new(&checks::RUN_CLEANUP_INSTALL_WITHOUT_UPDATE, range, message);
    match update_insertion(scope, manager, index, reader) {
        Ok(edit) => finding.with_why(why).with_fix(Fix::new(
            format!("Run `{update}` first"),
            vec![edit],
            applicability,
        )),
        Err(reason) => finding.with_why(format!("{why}. No fix: {reason}")),
    }
}

/// The program to run the update with: `apt-get` also where the install says `apt`.
fn update_program(manager: &Manager, invocation: &Invocation) -> String {
    match &manager.rename {
        Some(rename) if invocation.program_name() == rename.from => rename.to.clone(),
        _ => invocation.program().raw.clone(),
    }
}

/// `apt-get update && ` before the and-or list item that holds the reader's first read.
fn update_insertion(
    scope: &Scope,
    manager: &Manager,
    index: &Index,
    reader: &Reader,
) -> Result<Edit, String> {
    let run = scope.run(reader.run).ok_or("the RUN cannot be read")?;
    let command = &run.commands()[reader.command];
    let invocation = run
        .of(manager)
        .find(|i| i.command == reader.command)
        .ok_or("no install")?;
    let (Some(step), Some(item)) = (command.step, command.item) else {
        return Err(
            "the install is nested in a compound command (`if`, a loop, a subshell or a function)"
                .into(),
        );
    };
    let step = &run.shell.script.top_level()[step];
    let item = &step.items[item];
    if step.background || item.op_before == Some(Op::Or) || item.negated {
        return Err("the install runs in the background, after `||` or negated".into());
    }
    let text = format!(
        "{}{} {} && ",
        privilege_prefix(command),
        update_program(manager, invocation),
        index.update[0]
    );
    Ok(Edit::insert(
        run.shell.source_offset(scope.file, item.range.start),
        text,
    ))
}

fn updater_finding(
    scope: &Scope,
    manager: &Manager,
    index: &Index,
    at: usize,
    updater: &Updater,
    readers: &[Reader],
) -> Option<Finding> {
    let run = scope.run(at)?;
    let update = run.of(manager).filter(|i| updates(index, i)).last()?;
    let update_text = update.describe(&index.update[0]);
    let only_updates = run.commands().len()
        == run
            .of(manager)
            .filter(|i| i.runs_any(&index.update).is_some())
            .count();
    let range = run.source(scope.file, run.commands()[update.command].range.clone());
    let message = if only_updates {
        format!("`{update_text}` alone in a RUN: its lists stay in the layer and go stale in the build cache")
    } else {
        format!("`{update_text}` leaves the package lists in the layer")
    };
    let finding = Finding::new(index.check, range, message);
    let note = scope.stage_note(at);
    let deletes_run = only_updates && run.inst.flags.is_empty() && !has_comment_lines(run.inst);
    let mount = !deletes_run && mounts_instead(scope, &run, manager);
    let mut edits = Vec::new();
    let mut moved: Option<Edit> = None;
    let mut unsafe_reasons = Vec::new();
    if deletes_run {
        edits.push(Edit::delete(instruction_deletion(scope.file, at)));
    } else if mount {
        // Once per image: in the first RUN that downloads the index (it gets the setup in this pass too).
        let setup_done = index.mount_setup.as_ref().is_none_or(|setup| {
            let marker = setup.split_whitespace().last().unwrap_or(setup);
            scope
                .model
                .earlier(at)
                .map(|i| &scope.file.instructions[i])
                .chain([run.inst])
                .any(|i| i.logical.text.contains(marker))
                || scope
                    .model
                    .earlier(at)
                    .into_iter()
                    .filter_map(|i| scope.run(i))
                    .any(|r| leaves_index(&r, manager, index))
        });
        let flags: String = manager
            .mount
            .iter()
            .map(|m| format!(" {}", m.flag()))
            .collect();
        edits.push(Edit::insert(run.inst.keyword_span.end, flags));
        if let (false, Some(setup)) = (setup_done, &index.mount_setup) {
            edits.push(Edit::insert(
                run.shell.source_offset(scope.file, 0),
                format!("{setup} && "),
            ));
            unsafe_reasons.push(format!("`{setup}` changes how apt treats downloaded packages in every later RUN of the image, and for whoever runs apt in it"));
        }
    } else {
        match append_point(scope.file, run.shell) {
            Ok(point) => {
                let text = format!(
                    "{}{}",
                    privilege_prefix(&run.commands()[update.command]),
                    index.cleanup.run
                );
                edits.push(Edit::insert(
                    point,
                    Layout::of(scope.file, run.inst).append(&text),
                ));
                moved = earlier_cleanup(scope, &run, manager, index);
                edits.extend(moved.clone());
            }
            Err(reason) => {
                return Some(finding.with_why(format!(
                    "{}. No fix: {reason}",
                    explain(&index.why, None, None, note.as_deref())
                )))
            }
        }
    }
    for &r in &updater.readers {
        match update_insertion(scope, manager, index, &readers[r]) {
            Ok(edit) => edits.push(edit),
            Err(reason) => {
                let why = format!(
                    "{}. No fix: the RUN at line {} installs from these lists and cannot be given its own update ({reason})",
                    explain(&index.why, None, None, note.as_deref()),
                    line(scope, readers[r].run)
                );
                return Some(finding.with_why(why));
            }
        }
    }
    if let Some(&opaque) = updater.opaque.first() {
        unsafe_reasons.push(format!("the instruction at line {} may read these lists in a way that cannot be seen (a script, ONBUILD or exec form)", line(scope, opaque)));
    }
    let applicability = if unsafe_reasons.is_empty() {
        Applicability::Safe
    } else {
        Applicability::Unsafe
    };
    let why = if updater.readers.is_empty() {
        index.why.clone()
    } else {
        let lines: Vec<String> = updater
            .readers
            .iter()
            .map(|&r| line(scope, readers[r].run).to_string())
            .collect();
        match lines.as_slice() {
            [one] => format!("{}; the RUN at line {one} installs from these lists and gets its own `{update_text}`", index.why),
            _ => format!("{}; the RUNs at lines {} install from these lists and get their own `{update_text}`", index.why, lines.join(", ")),
        }
    };
    let why = explain(
        &why,
        Some(&unsafe_reasons.join("; ")),
        Some(applicability),
        note.as_deref(),
    );
    let also = if updater.readers.is_empty() {
        String::new()
    } else {
        format!(", and run `{update_text}` in the RUNs that install from them")
    };
    let title = match (deletes_run, mount) {
        (true, _) if updater.readers.is_empty() => {
            "Remove this RUN: nothing installs from its lists".to_string()
        }
        (true, _) => format!("Move `{update_text}` into the RUNs that install from its lists"),
        (false, true) => format!("Keep the package lists in a cache mount{also}"),
        (false, false) if moved.is_some() => format!("Move `{}` to the end of the RUN{also}", index.cleanup.run),
        (false, false) => format!("Append `{}`{also}", index.cleanup.run),
    };
    Some(
        finding
            .with_why(why)
            .with_fix(Fix::new(title, edits, applicability)),
    )
}
