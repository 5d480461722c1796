//! `RUN rm -rf X` where an earlier RUN (or COPY) of the image created X: the files stay in the
//! creating layer and the delete only hides them. The delete moves into the creating RUN when
//! nothing between reads X; otherwise it is reported. Package caches are merge-runs' (its
//! standalone-cleanup check moves those). Check `layer-waste/late-delete`.

use super::knowledge::knowledge;
use super::{StageRun, at_line, basename, is_inert, names_path, overlap, short, user_at, within};
use crate::checks;
use crate::fix::{Applicability, Edit, Finding, Fix};
use crate::knowledge::package_managers::{in_cache_dir, managers};
use crate::model::edits::{append_point, instruction_deletion, item_deletion, Layout};
use crate::model::{Dir, Input, RunShell};
use crate::shell::{Command, ItemKind};
use crate::syntax::{Keyword, Stage};

/// A path `rm` deletes: absolute, maybe with a pattern as its last component.
struct Target {
    path: String,
    /// `/tmp/*`: the folder holding what the pattern names.
    pattern: bool,
}

impl Target {
    /// The folder whose contents it deletes (the path itself, or the folder of a pattern).
    fn dir(&self) -> &str {
        if self.pattern {
            self.path.rsplit_once('/').map_or("/", |(d, _)| if d.is_empty() { "/" } else { d })
        } else {
            &self.path
        }
    }
}

pub(super) fn findings(input: &Input, stage: &Stage, runs: &[StageRun]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for StageRun { shell, steps } in runs {
        for (at, command) in shell.script.commands().iter().enumerate() {
            let (Some(step), Some(item)) = (command.step, command.item) else { continue };
            if !command.effective().is("rm") || command.in_condition || shell.script.top_level()[step].items[item].kind != ItemKind::Simple {
                continue;
            }
            let cwd = steps.steps.iter().find(|s| std::ptr::eq(s.command, command)).and_then(|s| s.cwd.clone());
            let Some(targets) = targets(command, cwd.as_ref()) else { continue };
            findings.extend(finding(input, stage, shell, at, command, &targets, cwd.as_ref()));
        }
    }
    findings
}

/// The paths `rm` deletes, when every one is known and absolute (after the working directory).
fn targets(command: &Command, cwd: Option<&Dir>) -> Option<Vec<Target>> {
    let mut out = Vec::new();
    let mut options_ended = false;
    for word in command.effective().args() {
        let text = match word.literal.as_deref() {
            Some("--") if !options_ended => {
                options_ended = true;
                continue;
            }
            Some(text) if text.starts_with('-') && !options_ended => {
                if !text[1..].chars().all(|c| matches!(c, 'r' | 'R' | 'f' | 'v')) && !matches!(text, "--recursive" | "--force" | "--verbose") {
                    return None;
                }
                continue;
            }
            Some(text) => text.to_string(),
            None if !word.raw.contains(['$', '`', '~', '{']) => word.raw.replace(['"', '\''], ""),
            None => return None,
        };
        let pattern = text.contains(['*', '?', '[']);
        let (dir, last) = text.rsplit_once('/').unwrap_or((".", &text));
        if pattern && dir.contains(['*', '?', '[']) {
            return None;
        }
        let base = if text.starts_with('/') { Dir::absolute("/") } else { cwd.cloned() }?;
        let path = if pattern {
            let dir = base.join(if dir.is_empty() { "/" } else { dir })?.path()?;
            format!("{}/{last}", dir.trim_end_matches('/'))
        } else {
            base.join(&text)?.path()?
        };
        out.push(Target { path, pattern });
    }
    (!out.is_empty()).then_some(out)
}

/// What wrote a path before instruction `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Creator {
    Copy(usize),
    Run(usize),
}

impl Creator {
    fn index(self) -> usize {
        match self {
            Creator::Copy(i) | Creator::Run(i) => i,
        }
    }
}

/// How RUN `index` names `target`: itself (or, working in its folder, its name), or only a folder
/// above it that is not one every image has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    Not,
    Itself,
    Folder,
}

fn named(input: &Input, index: usize, target: &Target) -> Named {
    let Some(steps) = input.steps(index) else {
        return if input.file.instructions[index].args_text().contains(target.dir()) { Named::Itself } else { Named::Not };
    };
    let k = knowledge();
    let mut folders = Vec::new();
    if !target.pattern {
        let mut dir = target.path.as_str();
        while let Some((parent, _)) = dir.rsplit_once('/') {
            if parent.is_empty() || k.is_system_dir(parent) {
                break;
            }
            folders.push(parent.to_string());
            dir = parent;
        }
    }
    let own = target.dir();
    let name = basename(&target.path);
    let parent = target.path.rsplit_once('/').map(|(d, _)| if d.is_empty() { "/" } else { d });
    let mut found = Named::Not;
    let commands = input.shell(index).map(|s| s.script.commands()).unwrap_or_default();
    for (at, command) in commands.iter().enumerate() {
        // `curl -O https://…/x.zip` writes `x.zip` without naming its path.
        if super::archive::download(&steps, at, command).is_some_and(|d| d.file.path().as_deref() == Some(target.path.as_str())) {
            return Named::Itself;
        }
    }
    for step in &steps.steps {
        let words = step.command.words.iter().chain(&step.command.assignments).chain(step.command.redirects.iter().filter_map(|r| r.target.as_ref()));
        let here = step.cwd.as_ref().and_then(|d| d.path());
        let inside = here.as_deref().is_some_and(|h| within(h, own));
        let beside = here.as_deref() == parent;
        for w in words {
            let bare = format!("/{}", w.raw.trim_matches(['"', '\'']));
            if names_path(&w.raw, own) || inside || (beside && !target.pattern && names_path(&bare, &format!("/{name}"))) {
                return Named::Itself;
            }
            if folders.iter().any(|f| names_path(&w.raw, f)) || here.as_deref().is_some_and(|h| folders.iter().any(|f| within(h, f))) {
                found = Named::Folder;
            }
        }
    }
    found
}

/// Whether COPY/ADD `index` brings `target` from the build context: `None` when the context's
/// listing is not known or the sources are not plain context paths.
fn brings(input: &Input, index: usize, target: &Target) -> Option<bool> {
    let files = input.context.files.as_ref()?;
    let mut any = false;
    for read in input.model().reads_of(index) {
        let dest = read.dest_dir.as_ref().and_then(|d| d.path())?;
        if !overlap(&dest, target.dir()) {
            continue;
        }
        if read.from != crate::model::From::Context || read.parents || target.pattern {
            return None;
        }
        let Some(rel) = Dir::inside(&target.path, &dest) else { return Some(true) };
        for source in &read.sources {
            if source.glob {
                return None;
            }
            let candidate = if source.is_root() {
                rel.clone()
            } else if files.iter().any(|f| f.trim_end_matches('/') == source.path && f.ends_with('/')) {
                format!("{}/{rel}", source.path)
            } else {
                // One file copied into the folder.
                basename(&source.path).to_string()
            };
            let candidate = candidate.trim_start_matches('/');
            any |= candidate.is_empty() || files.iter().any(|f| f.trim_end_matches('/') == candidate);
        }
    }
    Some(any)
}

/// The one instruction that created `target` before instruction `index`: the COPY/ADD that brought
/// it, or the one RUN that names it (a RUN that only names a folder above it does not count). `None`
/// when it cannot be told or when several did: the bytes are in the first, and moving the delete
/// into a later one would save nothing.
fn creator(input: &Input, index: usize, target: &Target) -> Option<Creator> {
    let file = input.file;
    let model = input.model();
    let mut found = None;
    for i in model.earlier(index).collect::<Vec<_>>().into_iter().rev() {
        match file.instructions[i].keyword {
            Keyword::Copy | Keyword::Add => {
                let writes = model.reads_of(i).iter().any(|r| r.dest_dir.as_ref().and_then(|d| d.path()).is_some_and(|d| overlap(&d, target.dir())));
                if writes && brings(input, i, target) != Some(false) {
                    return if found.is_some() { None } else { Some(Creator::Copy(i)) };
                }
            }
            Keyword::Run if named(input, i, target) == Named::Itself => {
                if found.is_some() {
                    return None;
                }
                found = Some(Creator::Run(i));
            }
            _ => {}
        }
    }
    found
}

fn finding(input: &Input, stage: &Stage, shell: &RunShell, at: usize, command: &Command, targets: &[Target], cwd: Option<&Dir>) -> Option<Finding> {
    let file = input.file;
    let model = input.model();
    let index = shell.instruction;
    let k = knowledge();
    // Package caches are merge-runs' (standalone-cleanup); a folder every image has is not ours.
    let cache = |t: &Target| managers().iter().flat_map(|m| m.cache_paths()).any(|dir| in_cache_dir(dir, t.dir()) || in_cache_dir(dir, &t.path));
    if targets.iter().any(|t| cache(t) || (!t.pattern && k.is_system_dir(&t.path)) || t.dir() == "/") {
        return None;
    }
    let creators: Vec<Option<Creator>> = targets.iter().map(|t| creator(input, index, t)).collect();
    let first = creators.iter().flatten().copied().max_by_key(|c| c.index())?;
    let creator_inst = &file.instructions[first.index()];
    if model.stage_of(first.index()) != Some(stage.index) && !model.is_earlier(first.index(), index) {
        return None;
    }
    let text = short(shell.script.text(&command.range));
    let range = shell.source_range(file, command.range.clone());
    let shown = targets.iter().map(|t| format!("`{}`", t.path)).collect::<Vec<_>>().join(", ");
    let message = format!("`{text}` deletes in a layer of its own what {} created", at_line(creator_inst, &file.source));
    let why = format!("deleting {shown} in a later layer hides the files without making the image smaller: they stay in the layer that created them (`dockopt verify` shows the bytes)");
    let refuse = |reason: String| Some(Finding::new(&checks::LAYER_WASTE_LATE_DELETE, range.clone(), message.clone()).with_why(format!("{why}; not moved: {reason}")));
    let Creator::Run(creator) = first else {
        if creator_inst.keyword == Keyword::Add && creator_inst.args_text().contains("://") {
            // layer-waste/add-url-archive rewrites an ADD of a URL.
            return None;
        }
        return refuse(format!("{} brings them: leave them out of the build context (.dockerignore) or copy only what the image needs", at_line(creator_inst, &file.source)));
    };
    if creators.iter().any(|c| *c != Some(first)) {
        return refuse("its paths were not all created by one RUN".into());
    }
    // What a cache or tmpfs mount holds never reaches the layer.
    if creator_inst.flags.iter().any(|f| f.name == "mount" && f.value.as_deref().is_some_and(|v| !v.contains("type=bind") && targets.iter().any(|t| mount_covers(v, &t.path)))) {
        return None;
    }
    // Only a RUN that does nothing else before the delete: commands before it may write what it
    // deletes (`mktemp -d && … && rm -rf /tmp/*` cleans up its own RUN).
    if !shell.script.commands()[..at].iter().all(|c| c.effective().is("rm") || c.effective().is("cd")) {
        return None;
    }
    if creator + 1 == index && input.settings.check_enabled(&checks::MERGE_RUNS_CONSECUTIVE) {
        // merge-runs joins two neighbouring RUNs, which puts the delete in the creating layer.
        return None;
    }
    let mut reasons = Vec::new();
    for i in creator + 1..index {
        let inst = &file.instructions[i];
        match inst.keyword {
            k if is_inert(k) => {}
            Keyword::Workdir => {
                if model.workdir_after(i).and_then(|d| d.path()).is_none_or(|d| targets.iter().any(|t| within(&d, t.dir()))) {
                    return refuse(format!("{} works inside them", at_line(inst, &file.source)));
                }
            }
            Keyword::Copy | Keyword::Add => {
                let disjoint = model.reads_of(i).iter().all(|r| r.dest_dir.as_ref().and_then(|d| d.path()).is_some_and(|d| targets.iter().all(|t| !overlap(&d, t.dir()))));
                if !disjoint || model.reads_of(i).is_empty() {
                    return refuse(format!("{} comes between and writes into the same folder", at_line(inst, &file.source)));
                }
            }
            Keyword::Run => {
                if input.shell(i).is_none() || targets.iter().any(|t| named(input, i, t) != Named::Not) {
                    return refuse(format!("{} comes between and uses them", at_line(inst, &file.source)));
                }
                reasons.push(format!("{} comes between: it names none of them, but a script it runs could read them", at_line(inst, &file.source)));
            }
            _ => return refuse(format!("{} comes between", at_line(inst, &file.source))),
        }
    }
    if user_at(input, creator) != user_at(input, index) {
        return refuse("a USER between them would run the delete as another user".into());
    }
    let creator_shell = input.shell(creator)?;
    let append_at = match append_point(file, creator_shell) {
        Ok(at) => at,
        Err(reason) => return refuse(format!("{} cannot take it: {reason}", at_line(creator_inst, &file.source))),
    };
    // Relative paths need the same working directory at the end of the creating RUN.
    let relative = command.effective().args().iter().any(|w| w.literal.as_deref().is_some_and(|t| !t.starts_with('-') && !t.starts_with('/')) || (w.literal.is_none() && !w.raw.trim_start_matches(['"', '\'']).starts_with('/')));
    if relative {
        let end_cwd = input.steps(creator).and_then(|s| s.steps.last().and_then(|s| s.cwd.clone()));
        if end_cwd.as_ref() != cwd {
            return refuse(format!("its paths are relative, and {} ends in another folder", at_line(creator_inst, &file.source)));
        }
    }
    let steps = shell.script.top_level();
    let alone = steps.len() == 1 && steps[0].items.len() == 1;
    let removal = if alone {
        instruction_deletion(file, index)
    } else {
        let (Some(step), Some(item)) = (command.step, command.item) else { return None };
        match item_deletion(file, shell, step, item) {
            Some(range) => range,
            None => return refuse("it cannot be taken out of its RUN without changing what the rest does".into()),
        }
    };
    let moved = shell.script.text(&command.range).to_string();
    let layout = Layout::of(file, creator_inst);
    let edits = vec![Edit::insert(append_at, layout.append(&moved)), Edit::delete(removal)];
    let applicability = if reasons.is_empty() { Applicability::Safe } else { Applicability::Unsafe };
    let mut why = why;
    if !reasons.is_empty() {
        why.push_str(&format!(". Unsafe: {}", reasons.join("; ")));
    }
    let title = format!("Move `{text}` into the RUN at line {}", creator_inst.start_line);
    Some(Finding::new(&checks::LAYER_WASTE_LATE_DELETE, range, message).with_why(why).with_fix(Fix::new(title, edits, applicability)))
}

/// Whether a `--mount` value's target covers `path`.
fn mount_covers(value: &str, path: &str) -> bool {
    value.split(',').filter_map(|f| f.split_once('=')).any(|(k, v)| matches!(k.trim(), "target" | "dst" | "destination") && within(path, v.trim().trim_end_matches('/')))
}
