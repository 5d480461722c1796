//! `RUN cd dir && …` (hadolint DL3003): WORKDIR says where the RUN works, creates the directory,
//! and is what the next reader looks for. The fix moves a leading `cd` out of the RUN into a
//! WORKDIR above it, and puts the old working directory back after it when a later instruction
//! depends on it.

use crate::checks;
use crate::fix::{Edit, Finding, Fix};
use crate::knowledge::base_images;
use crate::model::{Dir, Input};
use crate::shell::{ItemKind as ShellItem, StateKind};
use crate::syntax::{split_words, Keyword, LineKind};

use super::{base, insertion_point};

const WHY: &str = "WORKDIR says where the RUNs work and what the image's working directory is; a `cd` inside a RUN hides it (hadolint DL3003)";

pub(super) fn check(input: &Input) -> Vec<Finding> {
    let file = input.file;
    let mut findings = Vec::new();
    for index in 0..file.instructions.len() {
        let Some(run) = input.shell(index) else { continue };
        if !run.script.commands().iter().any(|c| c.effective().is("cd")) {
            continue;
        }
        let inst = &file.instructions[index];
        let range = inst.keyword_span.start..inst.args_source_range().end;
        let finding = Finding::new(&checks::LINT_FIXES_CD_TO_WORKDIR, range, "`cd` in a RUN: use WORKDIR to set where it works").with_why(WHY);
        findings.push(match plan(input, index) {
            Ok((fix, None)) => finding.with_fix(fix),
            Ok((fix, Some(why))) => finding.with_why(format!("{WHY}. Unsafe: {why}")).with_fix(fix),
            Err(reason) => finding.with_why(reason),
        });
    }
    findings
}

/// The fix and why it is Unsafe (`None`: Safe), or why there is none.
fn plan(input: &Input, index: usize) -> Result<(Fix, Option<String>), String> {
    let file = input.file;
    let inst = &file.instructions[index];
    let run = input.shell(index).ok_or("the RUN's script cannot be read")?;
    let script = &run.script;
    let middle = || Err("the `cd` is not the RUN's first command: WORKDIR would apply to the commands before it too; left as it is".to_string());
    if script.has_errors() || !script.is_and_chain() {
        return middle();
    }
    let changes = script.state_changes().iter().filter(|c| matches!(c.kind, StateKind::Cd | StateKind::PushdPopd)).count();
    let cds = script.commands().iter().filter(|c| matches!(c.effective().basename(), Some("cd" | "pushd" | "popd"))).count();
    if changes != 1 || cds != 1 {
        return Err("the RUN changes directory more than once: WORKDIR can stand for one `cd` only".into());
    }
    let items = &script.top_level()[0].items;
    // Leading `set -e…` commands may stay before it: they do not depend on the directory.
    let position = items
        .iter()
        .position(|item| !(item.kind == ShellItem::Simple && item.command_indices.len() == 1 && script.commands()[item.command_indices[0]].effective().is("set")))
        .ok_or("the RUN has no command")?;
    let item = &items[position];
    let next = items.get(position + 1).ok_or("the `cd` is the RUN's last command: nothing runs in that directory")?;
    let [command_index] = item.command_indices[..] else { return middle() };
    let command = &script.commands()[command_index];
    if item.kind != ShellItem::Simple || item.negated || !command.effective().is("cd") {
        return middle();
    }
    if !command.redirects.is_empty() || !command.assignments.is_empty() || command.words.len() != 2 {
        return Err("the `cd` has options, redirections or variables: left as it is".into());
    }
    let dir = command.words[1].literal.as_deref().filter(|d| !d.is_empty() && !d.starts_with(['-', '~'])).ok_or("the directory is not a literal path: WORKDIR does not expand it the way the shell does")?;
    if inst.lines.iter().any(|l| l.kind == LineKind::Comment) {
        return Err("a comment line sits inside the RUN: move the `cd` by hand so the comment is kept".into());
    }

    let model = input.model();
    let before = model.workdir(index);
    let mut unsafe_why: Vec<String> = Vec::new();
    // The WORKDIR is written absolute, so that it does not become a relative WORKDIR (DL3000).
    let target = match before.filter(|d| d.is_absolute()).and_then(|d| d.join(dir)) {
        Some(target) => target,
        None if dir.starts_with('/') => Dir::absolute(dir).ok_or("the directory cannot be followed")?,
        None => {
            let (anchor, _) = documented_workdir(input, index).ok_or(format!("`cd {dir}` is relative to a working directory that is not known: write the WORKDIR by hand"))?;
            unsafe_why.push(format!("`{dir}` is resolved against the base image's documented WORKDIR `{anchor}`"));
            anchor.join(dir).ok_or("the directory cannot be followed")?
        }
    };
    let target_text = target.path().ok_or("the directory cannot be followed")?;

    let keyword = Keyword::Workdir.spelled_like(&file.source[inst.keyword_span.clone()]);
    let newline = file.newline();
    let mut edits = vec![Edit::insert(insertion_point(input, index), format!("{keyword} {target_text}{newline}"))];
    let start = run.source_offset(file, item.range.start);
    let end = run.source_offset(file, next.range.start);
    edits.push(Edit::delete(start..end));

    if let Some(line) = depends_on_old_directory(input, index) {
        let restore = match before.filter(|d| d.is_absolute()) {
            Some(dir) => dir.clone(),
            None => {
                let (anchor, image) = documented_workdir(input, index).ok_or(format!(
                    "{line} still runs in the old working directory, which is not known (no absolute WORKDIR before, base image not in transforms/knowledge/base-images.toml): a WORKDIR could not put it back"
                ))?;
                unsafe_why.push(format!("the old working directory is put back as `{anchor}`, `{image}`'s documented WORKDIR"));
                match before.and_then(|b| b.below(&Dir::image())) {
                    Some(below) if below.is_empty() => anchor,
                    Some(below) => anchor.join(&below.join("/")).ok_or("the old working directory cannot be followed")?,
                    None => return Err("the old working directory cannot be followed".into()),
                }
            }
        };
        let restore_text = restore.path().ok_or("the old working directory cannot be followed")?;
        let at = inst.span.end;
        let lead = if file.source[..at].ends_with('\n') { "" } else { newline };
        edits.push(Edit::insert(at, format!("{lead}{keyword} {restore_text}{newline}")));
    }
    let title = format!("Move `cd {dir}` into `WORKDIR {target_text}`");
    let why = (!unsafe_why.is_empty()).then(|| unsafe_why.join("; "));
    let fix = if why.is_some() { Fix::unsafe_(title, edits) } else { Fix::safe(title, edits) };
    Ok((fix, why))
}

/// The base image's documented WORKDIR (knowledge), with the image's name.
fn documented_workdir(input: &Input, index: usize) -> Option<(Dir, String)> {
    let image = base::image(input, index)?;
    let dir = Dir::absolute(base_images::workdir(&image)?)?;
    Some((dir, image.text))
}

/// What after RUN `index` still runs in its working directory, if anything: the next instruction
/// that depends on it (a RUN, a COPY/ADD to a relative destination, a relative WORKDIR, an ONBUILD),
/// or the end of a stage whose working directory is the image's or another stage's start. `None`
/// when an absolute WORKDIR comes first, or the stage ends unused.
fn depends_on_old_directory(input: &Input, index: usize) -> Option<String> {
    let file = input.file;
    let model = input.model();
    let stage = model.stage_of(index)?;
    for i in index + 1..file.stages[stage].instructions.end {
        let inst = &file.instructions[i];
        let line = inst.start_line;
        match inst.keyword {
            Keyword::Workdir => {
                let path = inst.args_text().trim().trim_matches(|c| c == '"' || c == '\'');
                return (!path.starts_with('/')).then(|| format!("the WORKDIR at line {line}"));
            }
            Keyword::Run | Keyword::Onbuild => return Some(format!("the {} at line {line}", inst.keyword.as_str())),
            Keyword::Copy | Keyword::Add => {
                let dest = match &inst.exec {
                    Some(list) => list.last().cloned().unwrap_or_default(),
                    None => split_words(inst.args_text(), file.escape).pop().map(|w| w.raw).unwrap_or_default(),
                };
                let dest = dest.trim_matches(|c| c == '"' || c == '\'');
                if !dest.starts_with('/') {
                    return Some(format!("the {} at line {line}", inst.keyword.as_str()));
                }
            }
            _ => {}
        }
    }
    let facts = &model.stages()[stage];
    let built_on = model.stages().iter().any(|s| s.parent == Some(stage));
    (facts.in_final_image || built_on).then(|| "the image's working directory".to_string())
}
