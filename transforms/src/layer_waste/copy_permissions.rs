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
    recursive: bool,
    /// The `-R` word (or a cluster holding it).
    recursive_word: Option<&'a ShellWord>,
    spec: String,
    targets: Vec<&'a ShellWord>,
}

/// The COPY that brought a target, and what the fix must keep.
struct Source {
    copy: usize,
    /// The target folder existed before the COPY (a WORKDIR or `mkdir` made it): `COPY --chown`
    /// leaves such a folder as it was, so `chown` (without `-R`) of the folder itself stays.
    folder_existed: bool,
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
    let message = |copy: usize| {
        format!(
            "`{}` stores again, in a layer of its own, the files {} brought",
            short(shell.script.text(&command.range)),
            at_line(&file.instructions[copy], &file.source)
        )
    };
    for target in &targets {
        let copy = last_writer(input, stage, run, target)?;
        match source(input, run, copy, target, &change) {
            Ok(source) if !change.recursive && !source.is_file => return None,
            Ok(source) => sources.push(source),
            Err(why) => {
                return Some(Finding::new(tool.check(), range, message(copy)).with_why(format!("{}; not rewritten: {why}", why_waste(tool))));
            }
        }
    }
    let first_copy = sources.first()?.copy;
    let refuse = |why: String| Some(Finding::new(tool.check(), range.clone(), message(first_copy)).with_why(format!("{}; not rewritten: {why}", why_waste(tool))));
    if let Some(user) = user_at(input, run).filter(|u| !is_root(u)) {
        return refuse(format!("the RUN runs as `{user}`, not as root"));
    }
    let flag = match tool {
        Tool::Chown => format!("--chown={}", copy_owner(&change.spec)),
        Tool::Chmod => format!("--chmod={}", change.spec),
    };
    let kept_folders = sources.iter().any(|s| s.folder_existed);
    if kept_folders && targets.len() > 1 {
        return refuse("a folder it names existed before its COPY, and it names several".into());
    }
    let mut reasons = Vec::new();
    let mut edits = Vec::new();
    let mut copies: Vec<usize> = sources.iter().map(|s| s.copy).collect();
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
    if kept_folders {
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
    Some(Finding::new(tool.check(), range, message(first_copy)).with_why(why).with_fix(Fix::new(title, edits, applicability)))
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
    let mut change = Change { tool, recursive: false, recursive_word: None, spec: String::new(), targets: Vec::new() };
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

/// Whether `target` is exactly what COPY `copy` brought, with nothing between the COPY and the RUN
/// and nothing before the COPY that the `-R` would also change.
fn source(input: &Input, run: usize, copy: usize, target: &str, change: &Change) -> Result<Source, String> {
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
        return Ok(Source { copy, folder_existed: false, is_file });
    }
    // Between the COPY and the RUN: nothing may write into the target or change who runs the RUN.
    for i in copy + 1..run {
        let between = &file.instructions[i];
        match between.keyword {
            k if is_inert(k) => {}
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
                if writes_into(input, i, target) != Writes::Nothing {
                    return Err(format!("{} comes between and could write into `{target}`", line(i)));
                }
                if change.tool == Tool::Chown && creates_name(input, i, change.spec.split(':').next().unwrap_or_default()) {
                    return Err(format!("{} creates the user after the COPY", line(i)));
                }
            }
            _ => return Err(format!("{} comes between", line(i))),
        }
    }
    if is_file {
        return Ok(Source { copy, folder_existed: false, is_file });
    }
    // Before the COPY: what else `-R` changes in the folder.
    if knowledge().is_shared_dir(target) {
        return Err(format!("`{target}` is a folder the base image may already hold files in, which `chown -R` changes too"));
    }
    let mut folder_existed = false;
    for i in model.earlier(copy) {
        let before = &file.instructions[i];
        match before.keyword {
            Keyword::Workdir => match model.workdir_after(i).and_then(|d| d.path()) {
                Some(d) if d == target => folder_existed = true,
                Some(d) if !within(&d, target) => {}
                _ => return Err(format!("{} creates a folder inside `{target}`", line(i))),
            },
            Keyword::Copy | Keyword::Add => {
                let disjoint = model.reads_of(i).iter().all(|r| r.dest_dir.as_ref().and_then(|d| d.path()).is_some_and(|d| !overlap(&d, target)));
                if !disjoint {
                    return Err(format!("{} also writes into `{target}`, and `chown -R` changes its files too", line(i)));
                }
            }
            Keyword::Run => match writes_into(input, i, target) {
                Writes::Nothing => {}
                Writes::Folder => folder_existed = true,
                Writes::Files => return Err(format!("{} writes into `{target}`, and `chown -R` changes its files too", line(i))),
            },
            _ => {}
        }
    }
    Ok(Source { copy, folder_existed, is_file })
}

#[derive(Debug, PartialEq, Eq)]
enum Writes {
    Nothing,
    /// Only `mkdir` of the folder itself.
    Folder,
    /// Anything else that names it or runs inside it (or cannot be read).
    Files,
}

/// What RUN `index` may write into absolute folder `target`, as far as its text tells.
fn writes_into(input: &Input, index: usize, target: &str) -> Writes {
    let Some(steps) = input.steps(index) else { return Writes::Files };
    let mut writes = Writes::Nothing;
    for step in &steps.steps {
        let view = step.command.effective();
        // Relative to the base image's unknown WORKDIR counts as elsewhere (it is `/` in nearly
        // every image); a folder that cannot be followed counts as the target.
        match step.cwd.as_ref().map(|d| d.path()) {
            Some(Some(cwd)) if within(&cwd, target) => return Writes::Files,
            Some(_) => {}
            None => return Writes::Files,
        }
        let named = step.command.words.iter().chain(&step.command.assignments).any(|w| names_path(&w.raw, target))
            || step.command.redirects.iter().any(|r| r.target.as_ref().is_some_and(|t| names_path(&t.raw, target)));
        if !named {
            continue;
        }
        let only_mkdir = view.is("mkdir")
            && view.args().iter().all(|w| w.literal.as_deref().is_some_and(|t| t.starts_with('-') || t.trim_end_matches('/') == target));
        if only_mkdir {
            writes = Writes::Folder;
        } else {
            return Writes::Files;
        }
    }
    writes
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
