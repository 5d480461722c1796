//! `COPY . /app` then `RUN chown -R app:app /app` (or `chmod -R 755 /app`): the RUN's layer stores
//! every copied file again, with its new owner or mode. `COPY --chown` / `--chmod` writes them
//! once. Checks `layer-waste/chown-after-copy` and `layer-waste/chmod-after-copy`.

use super::knowledge::knowledge;
use super::{StageRun, at_line, expanded, is_inert, is_root, names_path, overlap, resolve_text as resolve, short, user_at, within};
use crate::checks::{self, Check};
use crate::fix::{Applicability, Edit, Finding, Fix};
use crate::model::edits::{instruction_deletion, item_deletion};
use crate::model::{From, Input, RunShell, Steps};
use crate::shell::{Command, ItemKind, Op, ShellWord};
use crate::syntax::{Keyword, Stage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Chown,
    Chmod,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Chown => "chown",
            Tool::Chmod => "chmod",
        }
    }
    fn check(self) -> &'static Check {
        match self {
            Tool::Chown => &checks::LAYER_WASTE_CHOWN_AFTER_COPY,
            Tool::Chmod => &checks::LAYER_WASTE_CHMOD_AFTER_COPY,
        }
    }
}

/// A `chown`/`chmod` command read: its owner or mode, whether recursive, its targets.
struct Change<'a> {
    tool: Tool,
    /// Every word, the program first.
    words: Vec<&'a ShellWord>,
    recursive: bool,
    /// The `-R` word (or a cluster holding it).
    recursive_word: Option<&'a ShellWord>,
    spec: String,
    targets: Vec<&'a ShellWord>,
}

/// The COPY that brought a target, and what the fix must keep.
struct Source {
    /// The COPYs into the target, in order (the last is the one the RUN follows).
    copies: Vec<usize>,
    /// The target folder existed before the COPY (a WORKDIR or `mkdir` made it): `COPY --chown`
    /// leaves such a folder as it was, so `chown` (without `-R`) of the folder itself stays.
    folder_existed: bool,
    /// What RUNs or WORKDIRs of the stage made inside the folder (absolute paths), which the
    /// COPYs' flag does not reach: each with whether `-R` is needed for it (a package manager's
    /// tree) or not (a folder or file that was made empty).
    made: Vec<(String, bool)>,
    /// The RUNs whose writes into the folder are taken from the knowledge (`npm ci`): the line and
    /// the command.
    assumed: Vec<(usize, String)>,
    /// One file, not a folder.
    is_file: bool,
}

pub(super) fn findings(input: &Input, stage: &Stage, runs: &[StageRun]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for StageRun { shell, steps } in runs {
        let script = &shell.script;
        let Some(first) = script.top_level().first() else { continue };
        // The leading chown/chmod commands of the RUN: nothing before them in the RUN reads or
        // writes the files.
        for (k, item) in first.items.iter().enumerate() {
            if (k > 0 && item.op_before != Some(Op::And)) || item.kind != ItemKind::Simple || item.negated {
                break;
            }
            let [at] = item.command_indices[..] else { break };
            let command = &script.commands()[at];
            let tool = match command.view().basename() {
                Some("chown") => Tool::Chown,
                Some("chmod") => Tool::Chmod,
                _ => break,
            };
            if command.in_condition || !command.redirects.is_empty() {
                break;
            }
            findings.extend(finding(input, stage, shell, steps, k, command, tool));
        }
    }
    findings
}

fn finding(input: &Input, stage: &Stage, shell: &RunShell, steps: &Steps, item: usize, command: &Command, tool: Tool) -> Option<Finding> {
    let file = input.file;
    let run = shell.instruction;
    let change = parse(command, tool).ok()?;
    let step = steps.steps.iter().find(|s| std::ptr::eq(s.command, command))?;
    let targets: Vec<String> = change.targets.iter().map(|w| resolve(step.cwd.as_ref(), &expanded(steps, step, w)?)).collect::<Option<_>>()?;
    // Each target must be what a COPY of this stage brought; a target no COPY wrote is not ours.
    let mut sources = Vec::new();
    let range = shell.source_range(file, command.range.clone());
    let message = |copies: &[usize]| format!("`{}` stores again, in a layer of its own, the files {} brought", short(shell.script.text(&command.range)), copies_text(input, copies));
    for target in &targets {
        let copy = last_writer(input, stage, run, target)?;
        if made_by_run(input, copy, run, target) {
            return None;
        }
        match source(input, stage, run, copy, target, &change) {
            Ok(source) if !change.recursive && !source.is_file => return None,
            Ok(source) => sources.push(source),
            Err(why) => {
                return Some(Finding::new(tool.check(), range, message(&[copy])).with_why(format!("{}; not rewritten: {why}", why_waste(tool))));
            }
        }
    }
    let first_copy = *sources.first()?.copies.last()?;
    let refuse = |why: String| Some(Finding::new(tool.check(), range.clone(), message(&[first_copy])).with_why(format!("{}; not rewritten: {why}", why_waste(tool))));
    if let Some(user) = user_at(input, run).filter(|u| !is_root(u)) {
        return refuse(format!("the RUN runs as `{user}`, not as root"));
    }
    let flag = match tool {
        Tool::Chown => format!("--chown={}", copy_owner(&change.spec)),
        Tool::Chmod => format!("--chmod={}", change.spec),
    };
    let kept_folders = sources.iter().any(|s| s.folder_existed);
    let made: Vec<(String, bool)> = sources.iter().flat_map(|s| s.made.iter().cloned()).collect();
    if (kept_folders || !made.is_empty()) && targets.len() > 1 {
        return refuse("it names several folders, and part of one of them is not the COPYs' to change".into());
    }
    let mut assumed: Vec<&(usize, String)> = sources.iter().flat_map(|s| &s.assumed).collect();
    assumed.dedup();
    let mut reasons = Vec::new();
    for run_at in assumed.iter().map(|(i, _)| *i).collect::<std::collections::BTreeSet<_>>() {
        let commands: Vec<String> = assumed.iter().filter(|(i, _)| *i == run_at).map(|(_, c)| format!("`{c}`")).collect();
        reasons.push(format!(
            "it takes {} ({}) to write into `{}` nothing but what its package manager is known to put there; what a script it runs writes there would keep the {} it had",
            at_line(&file.instructions[run_at], &file.source),
            commands.join(", "),
            targets[0],
            if tool == Tool::Chown { "owner" } else { "mode" }
        ));
    }
    let mut edits = Vec::new();
    let mut copies: Vec<usize> = sources.iter().flat_map(|s| s.copies.iter().copied()).collect();
    copies.sort_unstable();
    copies.dedup();
    for &copy in &copies {
        let inst = &file.instructions[copy];
        match inst.flag(tool.name()).and_then(|f| f.value.as_deref()) {
            None => edits.push(Edit::insert(inst.keyword_span.end, format!(" {flag}"))),
            Some(value) if value == flag.split_once('=').map_or("", |(_, v)| v) || value == change.spec => {}
            Some(value) => return refuse(format!("{} already has `--{}={value}`", at_line(inst, &file.source), tool.name())),
        }
    }
    match tool {
        Tool::Chown => {
            if let Err(why) = resolves_alike(input, run, &copies, &change.spec) {
                reasons.push(why);
            }
        }
        Tool::Chmod => reasons.push(
            "`COPY --chmod` needs BuildKit (Docker 20.10 and later) or Buildah/Podman 1.33-era releases; older Buildah and Podman reject the Dockerfile, and a `chmod -R` also changes the mode of files the COPY did not bring if the folder held any".into(),
        ),
    }
    let steps_of_run = shell.script.top_level();
    let alone = steps_of_run.len() == 1 && steps_of_run[0].items.len() == 1;
    let title;
    if !made.is_empty() {
        // `chown -R u /app` → `chown u /app /app/logs && chown -R u /app/node_modules`: only what
        // the COPYs did not bring.
        let Some(text) = narrowed(&change, &targets[0], kept_folders, &made) else {
            return refuse("a folder made in it has a name that needs quoting".into());
        };
        edits.push(Edit::replace(range.clone(), text));
        let list: Vec<String> = kept_folders.then(|| "the folder itself".to_string()).into_iter().chain(made.iter().map(|(p, _)| format!("`{p}`"))).collect();
        title = format!("Copy with `{flag}`; keep `{}` only for what the COPYs did not bring: {}", tool.name(), list.join(", "));
    } else if kept_folders {
        // `chown -R u /app` → `chown u /app`: the folder itself keeps the owner it had.
        let word = change.recursive_word?;
        let text = word.literal.as_deref()?;
        let rest: String = text.chars().filter(|c| *c != 'R').collect();
        let word_range = shell.source_range(file, word.range.clone());
        if rest == "-" || text == "--recursive" {
            // Delete the flag and the blanks after it, up to the owner or mode.
            let after = &file.source[word_range.end..];
            let blanks = after.find(|c: char| c != ' ' && c != '\t').unwrap_or(after.len());
            if blanks == 0 || after[blanks..].starts_with(file.escape) || after[blanks..].starts_with(['\n', '\r']) {
                return refuse("its `-R` is not followed by its operands on the same line".into());
            }
            edits.push(Edit::delete(word_range.start..word_range.end + blanks));
        } else {
            edits.push(Edit::replace(word_range, rest));
        }
        title = format!(
            "Copy with `{flag}`; keep `{}` without `-R` for the folder, which existed before the COPY",
            tool.name()
        );
    } else if alone {
        edits.push(Edit::delete(instruction_deletion(file, run)));
        title = format!("Copy with `{flag}` and delete the RUN");
    } else {
        let Some(deletion) = item_deletion(file, shell, 0, item) else {
            return refuse(format!("the `{}` cannot be taken out of its RUN without changing what the rest does", tool.name()));
        };
        edits.push(Edit::delete(deletion));
        title = format!("Copy with `{flag}` and take the `{}` out of the RUN", tool.name());
    }
    let applicability = if reasons.is_empty() { Applicability::Safe } else { Applicability::Unsafe };
    let mut why = why_waste(tool);
    if !reasons.is_empty() {
        why.push_str(&format!(". Unsafe: {}", reasons.join("; ")));
    }
    Some(Finding::new(tool.check(), range, message(&copies)).with_why(why).with_fix(Fix::new(title, edits, applicability)))
}

/// The `chown`/`chmod` command for what the COPYs did not bring into `target`: the folder itself
/// when it existed before them, and `made` (`-R` where needed). `None` when a path needs quoting.
fn narrowed(change: &Change, target: &str, folder_existed: bool, made: &[(String, bool)]) -> Option<String> {
    let [target_word] = change.targets[..] else { return None };
    let base = target_word.raw.trim_end_matches('/');
    let written = |path: &str| {
        let relative = path.strip_prefix(target)?.trim_start_matches('/');
        relative.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '@' | '+')).then(|| format!("{base}/{relative}"))
    };
    let mut once: Vec<String> = folder_existed.then(|| target_word.raw.clone()).into_iter().collect();
    let mut trees = Vec::new();
    for (path, recursive) in made {
        // What a tree covers needs no command of its own.
        if made.iter().any(|(tree, r)| *r && tree != path && within(path, tree)) {
            continue;
        }
        if *recursive { &mut trees } else { &mut once }.push(written(path)?);
    }
    // The words of the command but its targets and its `-R`: `chown -v app:app`.
    let words = |recursive: bool| -> Vec<String> {
        change
            .words
            .iter()
            .filter(|w| !change.targets.iter().any(|t| std::ptr::eq(*t, **w)))
            .filter_map(|w| match change.recursive_word {
                Some(r) if std::ptr::eq(r, *w) && !recursive => {
                    let rest: String = w.raw.chars().filter(|c| *c != 'R').collect();
                    (rest != "-" && w.raw != "--recursive").then_some(rest)
                }
                _ => Some(w.raw.clone()),
            })
            .collect()
    };
    let command = |recursive: bool, paths: &[String]| [words(recursive), paths.to_vec()].concat().join(" ");
    Some(match (once.is_empty(), trees.is_empty()) {
        (false, true) => command(false, &once),
        (true, false) => command(true, &trees),
        _ => format!("{} && {}", command(false, &once), command(true, &trees)),
    })
}

/// `the COPY at line 5`, or `the COPYs at lines 3 and 5`.
fn copies_text(input: &Input, copies: &[usize]) -> String {
    let file = input.file;
    match copies {
        [one] => at_line(&file.instructions[*one], &file.source),
        [rest @ .., last] => {
            let lines: Vec<String> = rest.iter().map(|&i| file.instructions[i].start_line.to_string()).collect();
            format!("the COPYs at lines {} and {}", lines.join(", "), file.instructions[*last].start_line)
        }
        [] => String::new(),
    }
}

fn why_waste(tool: Tool) -> String {
    let flag = match tool {
        Tool::Chown => "--chown",
        Tool::Chmod => "--chmod",
    };
    format!(
        "changing the {} of a file in a later layer stores the whole file again: the image carries every copied file twice (dive counts it as wasted space). `COPY {flag}` writes them once",
        if tool == Tool::Chown { "owner" } else { "mode" }
    )
}

/// `app` → `app:0`: `chown app` leaves the group the COPY gave (root), where `--chown=app` would
/// give the user's id as the group id.
fn copy_owner(spec: &str) -> String {
    if spec.contains(':') {
        spec.to_string()
    } else {
        format!("{spec}:0")
    }
}

fn parse(command: &Command, tool: Tool) -> Result<Change<'_>, String> {
    let mut change = Change { tool, words: command.view().words().iter().collect(), recursive: false, recursive_word: None, spec: String::new(), targets: Vec::new() };
    let mut positionals: Vec<&ShellWord> = Vec::new();
    let mut options_ended = false;
    for word in command.args() {
        let Some(text) = word.literal.as_deref() else {
            // `$APP_HOME`: an operand, expanded later where the RUN's variables are known.
            if word.raw.starts_with('-') {
                return Err(format!("`{}` is not a fixed word", word.raw));
            }
            positionals.push(word);
            continue;
        };
        if options_ended || !text.starts_with('-') || text == "-" || (tool == Tool::Chmod && positionals.is_empty() && is_symbolic(text)) {
            positionals.push(word);
            continue;
        }
        match text {
            "--" => options_ended = true,
            "--recursive" => {
                change.recursive = true;
                change.recursive_word = Some(word);
            }
            "--verbose" | "--changes" => {}
            _ if !text.starts_with("--") && text[1..].chars().all(|c| matches!(c, 'R' | 'v' | 'c')) => {
                if text.contains('R') {
                    change.recursive = true;
                    change.recursive_word = Some(word);
                }
            }
            _ => return Err(format!("its option `{text}` has no COPY equivalent")),
        }
    }
    let (spec, targets) = positionals.split_first().ok_or("no operands")?;
    if targets.is_empty() {
        return Err("no file".into());
    }
    change.spec = spec.literal.clone().unwrap_or_default();
    change.targets = targets.to_vec();
    let valid = match tool {
        Tool::Chown => valid_owner(&change.spec),
        Tool::Chmod => change.spec.len() >= 3 && change.spec.len() <= 4 && change.spec.chars().all(|c| ('0'..='7').contains(&c)),
    };
    if !valid {
        return Err(format!("`{}` is not an owner or mode COPY takes", change.spec));
    }
    Ok(change)
}

fn is_symbolic(text: &str) -> bool {
    text.len() > 1 && text[1..].chars().all(|c| matches!(c, 'r' | 'w' | 'x' | 'X' | 's' | 't'))
}

/// `user` or `user:group`, names or ids (not `user:`, `:group` or the old `user.group`).
fn valid_owner(spec: &str) -> bool {
    let name = |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$')) && !n.starts_with('-');
    match spec.split_once(':') {
        Some((user, group)) => name(user) && name(group),
        None => name(spec) && !spec.contains('.'),
    }
}

/// The last COPY/ADD of the stage before `run` that wrote into `target` (or a folder holding it).
fn last_writer(input: &Input, stage: &Stage, run: usize, target: &str) -> Option<usize> {
    let file = input.file;
    (stage.instructions.start + 1..run).rev().find(|&i| {
        matches!(file.instructions[i].keyword, Keyword::Copy | Keyword::Add)
            && input.model().reads_of(i).iter().any(|r| r.dest_dir.as_ref().and_then(|d| d.path()).is_some_and(|d| overlap(&d, target)))
    })
}

/// Whether `target` lies in what a RUN before `run` made inside the folder COPY `copy` wrote to
/// (`/app/node_modules` of an `npm ci` in `/app`): its files are the RUN's, not the COPY's.
fn made_by_run(input: &Input, copy: usize, run: usize, target: &str) -> bool {
    let model = input.model();
    let Some(dest) = model.reads_of(copy).first().and_then(|r| r.dest_dir.as_ref()?.path()) else { return false };
    target != dest
        && within(target, &dest)
        && model
            .earlier(run)
            .filter(|&i| input.file.instructions[i].keyword == Keyword::Run)
            .any(|i| writes_into(input, i, &dest).is_ok_and(|w| w.made.iter().any(|(path, recursive)| *recursive && within(target, path))))
}

/// Whether `target` is exactly what COPY `copy` brought (with the earlier COPYs of the stage into
/// it, for a `-R` of a folder), with nothing between the COPYs and the RUN and nothing before them
/// that the `-R` would also change.
fn source(input: &Input, stage: &Stage, run: usize, copy: usize, target: &str, change: &Change) -> Result<Source, String> {
    let file = input.file;
    let model = input.model();
    let inst = &file.instructions[copy];
    let line = |i: usize| at_line(&file.instructions[i], &file.source);
    if inst.keyword != Keyword::Copy {
        return Err(format!("{} brought them", line(copy)));
    }
    if !inst.heredocs.is_empty() {
        return Err(format!("{} writes a heredoc", line(copy)));
    }
    let [read] = model.reads_of(copy) else { return Err(format!("{} cannot be read", line(copy))) };
    let dest = read.dest_dir.as_ref().and_then(|d| d.path()).ok_or_else(|| format!("where {} writes is not known", line(copy)))?;
    let dir_like = read.dest.ends_with('/') || read.sources.len() > 1;
    // One file copied into a folder: `COPY app.jar /app/` then `chown app /app/app.jar`.
    let single_file = match read.sources.as_slice() {
        [s] if read.from == From::Context && !s.glob && !read.parents => input
            .context
            .files
            .as_ref()
            .map(|files| files.iter().any(|f| *f == s.path)),
        _ => None,
    };
    let exact = if dest == target {
        true
    } else if single_file == Some(true) && dir_like && read.sources.len() == 1 {
        format!("{}/{}", dest.trim_end_matches('/'), super::basename(&read.sources[0].path)) == target
    } else {
        false
    };
    if !exact {
        return Err(if within(target, &dest) {
            format!("it changes only part of what {} brought", line(copy))
        } else {
            format!("it changes more than {} brought: `{target}` holds other files", line(copy))
        });
    }
    let is_file = single_file == Some(true) && (!dir_like || dest != target);
    if !change.recursive && !is_file {
        // Only the folder's own entry changes (a few bytes): no waste (`finding` reports nothing).
        return Ok(Source { copies: vec![copy], folder_existed: false, made: Vec::new(), assumed: Vec::new(), is_file });
    }
    if is_file {
        between(input, copy, run, target, change, &[])?;
        return Ok(Source { copies: vec![copy], folder_existed: false, made: Vec::new(), assumed: Vec::new(), is_file });
    }
    // `-R` of a folder: every COPY of the stage into it gets the flag too (`COPY requirements.txt
    // /app/` … `COPY . /app`), so the folder's files all come with the owner or mode the RUN gave.
    if knowledge().is_shared_dir(target) {
        return Err(format!("`{target}` is a folder the base image may already hold files in, which `chown -R` changes too"));
    }
    let mut copies = Vec::new();
    let mut folder_existed = false;
    let mut made = Vec::new();
    let mut assumed = Vec::new();
    for i in model.earlier(run) {
        let before = &file.instructions[i];
        match before.keyword {
            Keyword::Workdir => match model.workdir_after(i).and_then(|d| d.path()) {
                Some(d) if d == target => folder_existed |= copies.is_empty(),
                Some(d) if within(&d, target) => made.push((d, false)),
                Some(_) => {}
                None => return Err(format!("where {} goes is not known", line(i))),
            },
            Keyword::Copy | Keyword::Add => {
                let dests: Vec<Option<String>> = model.reads_of(i).iter().map(|r| r.dest_dir.as_ref().and_then(|d| d.path())).collect();
                if !dests.is_empty() && dests.iter().all(|d| d.as_ref().is_some_and(|d| !overlap(d, target))) {
                    continue;
                }
                let into = !dests.is_empty() && dests.iter().all(|d| d.as_ref().is_some_and(|d| within(d, target)));
                if before.keyword != Keyword::Copy || !before.heredocs.is_empty() || !into || !stage.instructions.contains(&i) {
                    return Err(format!("{} also writes into `{target}`, and `chown -R` changes its files too", line(i)));
                }
                copies.push(i);
            }
            Keyword::Run => {
                let writes = writes_into(input, i, target).map_err(|command| format!("{} writes into `{target}` (`{command}`), and `chown -R` changes its files too", line(i)))?;
                folder_existed |= writes.folder && copies.is_empty();
                made.extend(writes.made);
                assumed.extend(writes.assumed.into_iter().map(|command| (i, command)));
            }
            _ => {}
        }
    }
    made.sort();
    made.dedup();
    let first = *copies.first().unwrap_or(&copy);
    between(input, first, run, target, change, &copies)?;
    Ok(Source { copies, folder_existed, made, assumed, is_file })
}

/// What comes between the first COPY `copy` into `target` and the RUN: nothing may write into the
/// target (but `copies`, the COPYs that get the flag), see the owner or mode the files have before
/// the RUN, or change who runs the RUN.
fn between(input: &Input, copy: usize, run: usize, target: &str, change: &Change, copies: &[usize]) -> Result<(), String> {
    let file = input.file;
    let model = input.model();
    let line = |i: usize| at_line(&file.instructions[i], &file.source);
    for i in copy + 1..run {
        let between = &file.instructions[i];
        match between.keyword {
            k if is_inert(k) => {}
            _ if copies.contains(&i) => {}
            // Read for a folder with every instruction before the RUN (`source`).
            Keyword::Workdir if !copies.is_empty() => {}
            Keyword::Workdir => {
                if model.workdir_after(i).and_then(|d| d.path()).is_none_or(|d| within(&d, target) && d != target) {
                    return Err(format!("{} may create a folder inside `{target}`", line(i)));
                }
            }
            Keyword::Copy | Keyword::Add => {
                let disjoint = model.reads_of(i).iter().all(|r| r.dest_dir.as_ref().and_then(|d| d.path()).is_some_and(|d| !overlap(&d, target)));
                if !disjoint || model.reads_of(i).is_empty() {
                    return Err(format!("{} also writes into `{target}`", line(i)));
                }
            }
            Keyword::Run => {
                if copies.is_empty() && !writes_into(input, i, target).is_ok_and(|w| w.is_nothing()) {
                    return Err(format!("{} comes between and could write into `{target}`", line(i)));
                }
                if change.tool == Tool::Chown && creates_name(input, i, change.spec.split(':').next().unwrap_or_default()) {
                    return Err(format!("{} creates the user after {}", line(i), line(copy)));
                }
            }
            _ => return Err(format!("{} comes between", line(i))),
        }
    }
    Ok(())
}

/// What a RUN writes into a folder, as far as its text and the knowledge tell.
#[derive(Debug, Default)]
struct RunWrites {
    /// `mkdir` of the folder itself.
    folder: bool,
    /// What it makes inside the folder (see [`Source::made`]).
    made: Vec<(String, bool)>,
    /// Its commands whose writes the knowledge tells (`npm ci`).
    assumed: Vec<String>,
}

impl RunWrites {
    fn is_nothing(&self) -> bool {
        !self.folder && self.made.is_empty() && self.assumed.is_empty()
    }
}

/// What RUN `index` writes into absolute folder `target`. Err: the command that may write there in
/// ways its text does not tell (shortened).
fn writes_into(input: &Input, index: usize, target: &str) -> Result<RunWrites, String> {
    let k = knowledge();
    let text = || short(input.file.instructions[index].args_text());
    let (Some(shell), Some(steps)) = (input.shell(index), input.steps(index)) else { return Err(text()) };
    let mut writes = RunWrites::default();
    for step in &steps.steps {
        let command = step.command;
        let text = || short(shell.script.text(&command.range));
        // Relative to the base image's unknown WORKDIR counts as elsewhere (it is `/` in nearly
        // every image); a folder that cannot be followed counts as the target.
        let inside = match step.cwd.as_ref().map(|d| d.path()) {
            Some(Some(cwd)) => within(&cwd, target),
            Some(None) => false,
            None => return Err(text()),
        };
        let names = |w: &ShellWord| names_path(&w.raw, target);
        let redirects = command.redirects.iter().filter(|r| r.operator.contains('>') && !r.operator.ends_with('&'));
        let named = command.words.iter().chain(&command.assignments).any(names) || redirects.clone().any(|r| r.target.as_ref().is_some_and(names));
        if !named && !inside {
            continue;
        }
        if redirects.clone().any(|r| r.target.as_ref().is_none_or(|t| t.raw != "/dev/null")) {
            return Err(text());
        }
        let view = command.effective();
        let program = view.basename().unwrap_or_default();
        let is = |list: &[String]| list.iter().any(|p| p == program);
        if is(&k.removes) {
            continue;
        }
        if is(&k.creates_folders) || is(&k.creates_files) {
            for word in view.positionals(&["-m", "--mode"]) {
                let path = expanded(&steps, step, word).and_then(|t| resolve(step.cwd.as_ref(), &t)).ok_or_else(text)?;
                if path == target {
                    writes.folder = true;
                } else if within(&path, target) {
                    // `mkdir -p /app/var/log` also makes `/app/var`.
                    let mut at = path.as_str();
                    while within(at, target) && at != target {
                        writes.made.push((at.to_string(), false));
                        at = at.rsplit_once('/').map_or(target, |(parent, _)| parent);
                    }
                }
            }
            continue;
        }
        let Some(entry) = k.in_place(view) else { return Err(text()) };
        let values: Vec<&str> = entry.values.iter().map(String::as_str).collect();
        let unless = entry.unless.iter().any(|o| {
            let short = o.strip_prefix('-').filter(|s| !s.starts_with('-')).and_then(|s| s.chars().next());
            view.has_flag(short, o.strip_prefix("--"))
        });
        let builds_path = entry.paths_build && view.positionals(&values).any(|w| w.literal.as_deref().is_none_or(|t| t == "." || t.contains('/')));
        if unless || builds_path {
            return Err(text());
        }
        if inside {
            let cwd = step.cwd.as_ref().ok_or_else(text)?;
            for relative in &entry.writes {
                writes.made.push((cwd.join(relative).and_then(|d| d.path()).ok_or_else(text)?, true));
            }
        }
        writes.assumed.push(text());
    }
    Ok(writes)
}

/// Whether RUN `index` runs a user or group tool whose last word is `name`.
fn creates_name(input: &Input, index: usize, name: &str) -> bool {
    let k = knowledge();
    let Some(shell) = input.shell(index) else { return false };
    shell.script.commands().iter().any(|c| {
        let view = c.effective();
        let tool = view.basename().is_some_and(|b| k.user_tools.iter().chain(&k.group_tools).any(|t| t == b));
        tool && view.args().last().is_some_and(|w| w.is(name))
    })
}

/// Whether the owner resolves to the same ids at COPY time (from the image's /etc/passwd and
/// /etc/group) as at `chown` time (through NSS): ids always do, and names an earlier RUN of the
/// image created do. Err says why it may not.
fn resolves_alike(input: &Input, run: usize, copies: &[usize], spec: &str) -> Result<(), String> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let first_copy = copies.iter().copied().min().unwrap_or(run);
    let earlier: Vec<usize> = input.model().earlier(first_copy).collect();
    let created_user = |name: &str, tools: &[String]| {
        earlier.iter().any(|&i| {
            input.file.instructions[i].keyword == Keyword::Run
                && input.shell(i).is_some_and(|s| {
                    s.script.commands().iter().any(|c| {
                        let view = c.effective();
                        let is_tool = view.basename().is_some_and(|b| tools.iter().any(|t| t == b));
                        is_tool && view.args().last().is_some_and(|w| w.is(name))
                    })
                })
        })
    };
    let numeric = |n: &str| n.chars().all(|c| c.is_ascii_digit());
    let k = knowledge();
    let user_ok = numeric(user) || user == "root" || created_user(user, &k.user_tools);
    let group_ok = match group {
        None => true,
        Some(g) => numeric(g) || g == "root" || created_user(g, &k.group_tools) || (g == user && created_user(g, &k.user_tools)),
    };
    match (user_ok, group_ok) {
        (true, true) => Ok(()),
        (false, _) => Err(format!("user `{user}` is not created by this Dockerfile before the COPY: `COPY --chown` looks it up in the image's /etc/passwd, `chown` through NSS (the same in nearly every image)")),
        (true, false) => Err(format!("group `{}` is not created by this Dockerfile before the COPY: `COPY --chown` looks it up in the image's /etc/group, `chown` through NSS (the same in nearly every image)", group.unwrap_or_default())),
    }
}
