//! What joining RUNs makes redundant. Apart, each RUN rightly cleans the cache it filled and
//! downloads apt's lists the RUN before it deleted (run-cleanup adds both per RUN). Merged, the
//! earlier cleanup only deletes what a later command downloads again before the same cleanup
//! runs once more, and an update right after an update downloads the same lists. Both are dropped
//! at the junction; a repetition written inside one RUN is the author's and stays.

use std::ops::Range;

use super::cleanup::{cleans, plain_words, quiet_redirects, UNRELATED};
use super::script::Facts;
use crate::fix::Edit;
use crate::knowledge::package_managers::{managers, Manager};
use crate::model::Input;
use crate::shell::{Command, ItemKind, Op, Script};

/// The edits that drop what the merge makes redundant, and what they drop (for the fix's title).
#[derive(Default)]
pub(super) struct Redundant {
    pub edits: Vec<Edit>,
    pub dropped: Vec<String>,
}

/// A member's trailing `&& cleanup` commands: the range of script text to delete, the commands.
struct Tail {
    range: Range<usize>,
    commands: Vec<usize>,
}

pub(super) fn redundant(input: &Input, members: &[&Facts]) -> Redundant {
    let file = input.file;
    let mut out = Redundant::default();
    let mut tails: Vec<Option<Tail>> = Vec::with_capacity(members.len());
    for (at, member) in members.iter().enumerate() {
        let tail = (at + 1 < members.len()).then(|| trailing_cleanup(member.script)).flatten().filter(|t| repeated_later(t, member.script, &members[at + 1..]));
        tails.push(tail);
    }
    for (at, member) in members.iter().enumerate() {
        let Some(shell) = input.shell(member.index) else { continue };
        // Updates first: their edit comes before the tail's in the script.
        if let Some((update, range)) = leading_update(member.script).filter(|(update, _)| at > 0 && fresh_index(members, &tails, at, *update)) {
            let range = shell.source_range(file, range);
            if !has_comment_line(&file.source[range.clone()]) {
                out.edits.push(Edit::delete(range));
                out.dropped.push(command_text(member.script, update.1));
            }
        }
        if let Some(tail) = &tails[at] {
            let range = shell.source_range(file, tail.range.clone());
            if has_comment_line(&file.source[range.clone()]) {
                tails[at] = None;
            } else {
                out.edits.push(Edit::delete(range));
                out.dropped.extend(tail.commands.iter().map(|&c| command_text(member.script, c)));
            }
        }
    }
    let mut seen = Vec::new();
    out.dropped.retain(|d| !seen.contains(d) && { seen.push(d.clone()); true });
    out
}

fn command_text(script: &Script, command: usize) -> String {
    script.text(&script.commands()[command].range).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A comment line inside a continuation: deleting the text around it would drop it.
fn has_comment_line(text: &str) -> bool {
    text.lines().skip(1).any(|line| line.trim_start().starts_with('#'))
}

/// The plain commands joined by `&&` at the end of the script's last step that only clean a
/// package cache (`… && rm -rf /var/lib/apt/lists/*`, `… && yum clean all && rm -rf /var/cache/yum`),
/// when something else comes before them in that step.
fn trailing_cleanup(script: &Script) -> Option<Tail> {
    let step = script.top_level().last()?;
    let mut first = step.items.len();
    while first > 1 {
        let item = &step.items[first - 1];
        let [command] = item.command_indices[..] else { break };
        let cmd = &script.commands()[command];
        let cleanup = item.op_before == Some(Op::And)
            && item.kind == ItemKind::Simple
            && !item.negated
            && quiet_redirects(cmd)
            && managers().iter().any(|m| cleans(m, cmd));
        if !cleanup {
            break;
        }
        first -= 1;
    }
    let last = step.items.last()?;
    (first < step.items.len()).then(|| Tail {
        range: step.items[first - 1].range.end..last.range.end,
        commands: step.items[first..].iter().flat_map(|i| i.command_indices.iter().copied()).collect(),
    })
}

/// Whether every command of `tail` runs again, the same, in a later member, and nothing in
/// between needs the first run: the first command of each package manager concerned refills
/// what the cleanup deleted (an index cleanup needs the index's update; another, any command
/// that fills the cache), or comes after the repetition.
fn repeated_later(tail: &Tail, script: &Script, later: &[&Facts]) -> bool {
    let Some(wanted) = tail.commands.iter().map(|&c| plain_words(&script.commands()[c])).collect::<Option<Vec<_>>>() else { return false };
    let family: Vec<&'static Manager> = managers().iter().filter(|m| tail.commands.iter().any(|&c| cleans(m, &script.commands()[c]))).collect();
    let cleaned_text: Vec<&str> = tail.commands.iter().map(|&c| script.text(&script.commands()[c].range)).collect();
    let mut found = vec![false; wanted.len()];
    let mut refilled = vec![false; family.len()];
    for member in later {
        for (at, command) in member.script.commands().iter().enumerate() {
            let words = plain_words(command);
            let mut repeats = false;
            for (slot, wanted) in found.iter_mut().zip(&wanted) {
                if command.unconditional() && !*slot && words.as_ref() == Some(wanted) {
                    *slot = true;
                    repeats = true;
                }
            }
            if found.iter().all(|f| *f) {
                return true;
            }
            if repeats {
                continue;
            }
            let text = member.script.text(&command.range);
            for (slot, manager) in refilled.iter_mut().zip(&family) {
                if *slot || !uses(manager, at, command, text) {
                    continue;
                }
                let index_cleaned = manager.index.as_ref().is_some_and(|i| cleaned_text.iter().any(|t| t.contains(&i.dir)));
                let fillers = match &manager.index {
                    Some(index) if index_cleaned => &index.update,
                    _ => &manager.cache_filled_by,
                };
                let refills = command.unconditional() && manager.invocation(at, command).is_some_and(|i| i.runs_any(fillers).is_some());
                if !refills {
                    return false;
                }
                *slot = true;
            }
        }
    }
    false
}

/// The command runs the manager or names one of its caches.
fn uses(manager: &'static Manager, at: usize, command: &Command, text: &str) -> bool {
    manager.invocation(at, command).is_some() || manager.cache_paths().any(|p| text.contains(p.trim_start_matches('*')))
}

/// `apt-get update && …` at the start of a script: the manager, the command and the text to
/// delete (the update and its `&&` up to the next command).
fn leading_update(script: &Script) -> Option<((&'static Manager, usize), Range<usize>)> {
    let step = script.top_level().first()?;
    let (first, second) = (step.items.first()?, step.items.get(1)?);
    let [command] = first.command_indices[..] else { return None };
    let cmd = &script.commands()[command];
    if first.kind != ItemKind::Simple || second.op_before != Some(Op::And) || !cmd.unconditional() {
        return None;
    }
    let manager = managers().iter().find(|m| {
        m.index.as_ref().is_some_and(|index| {
            let plain = plain_words(cmd);
            let only_update = plain.as_ref().is_some_and(|w| w.len() == 2 && index.update.contains(&w[1]));
            only_update && m.invocation(command, cmd).is_some_and(|i| i.runs_any(&index.update).is_some())
        })
    })?;
    Some(((manager, command), first.range.start..second.range.start))
}

/// Whether the members before `at` leave the manager's index freshly downloaded: the last
/// update ran for sure, and since then only the manager itself and common tools ran, none
/// naming the index folder or anything that changes where the update downloads from.
fn fresh_index(members: &[&Facts], tails: &[Option<Tail>], at: usize, update: (&'static Manager, usize)) -> bool {
    let (manager, _) = update;
    let Some(index) = manager.index.as_ref() else { return false };
    for (member, tail) in members[..at].iter().zip(tails).rev() {
        let dropped = tail.as_ref().map_or(&[][..], |t| &t.commands[..]);
        for (c, command) in member.script.commands().iter().enumerate().rev() {
            if dropped.contains(&c) {
                continue;
            }
            let text = member.script.text(&command.range);
            if index.sources.iter().any(|s| text.contains(s.as_str())) {
                return false;
            }
            if let Some(invocation) = manager.invocation(c, command) {
                if invocation.runs_any(&index.update).is_some() {
                    return command.unconditional();
                }
                continue;
            }
            let common = command.words.is_empty() || command.effective().basename().is_some_and(|name| UNRELATED.contains(&name));
            if text.contains(&index.dir) || !common {
                return false;
            }
        }
    }
    false
}
