#![doc = include_str!("../../docs/run-cleanup.md")]

mod index;
mod makefile;

#[cfg(test)]
mod tests;

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::ops::Range;

use crate::checks;
use crate::config::CacheMode;
use crate::fix::{Applicability, Edit, Finding, Fix};
use crate::model::{Input, Model, RunShell};
use crate::shell::{Command, ShellWord, NO_OPTIONS};
use crate::syntax::{Dockerfile, Instruction, Keyword};

use crate::knowledge::package_managers::{self as knowledge, managers, Invocation, Manager};
use crate::model::edits::{self as layout, append_point, item_deletion, Layout};

pub(crate) const DOC: &str = include_str!("../../docs/run-cleanup.md");
#[cfg(test)]
const NAME: &str = "run-cleanup";

pub(crate) fn run(input: &Input) -> Vec<Finding> {
    let scope = Scope::new(input);
    let mut findings = Vec::new();
    for index in 0..input.file.instructions.len() {
        if !scope.reports_on(index) {
            continue;
        }
        let Some(run) = scope.run(index) else {
            continue;
        };
        for invocation in &run.invocations {
            findings.extend(missing_flags(&scope, &run, invocation));
        }
        findings.extend(hidden_in_scripts(&scope, &run));
        for manager in managers() {
            findings.extend(renames(&scope, &run, manager));
            findings.extend(leftovers(&scope, &run, manager));
        }
        findings.extend(index::refetches(&scope, &run));
    }
    index::findings(&scope, &mut findings);
    findings
}

/// What every check needs to know about the file: its stages, the mode, what to report on.
pub(super) struct Scope<'a> {
    input: &'a Input<'a>,
    file: &'a Dockerfile,
    model: &'a Model,
    mode: CacheMode,
    /// Where the texts `configured` and `mentions` look for occur, found once per text: asked at
    /// every install, a fresh search would cost the square of the file.
    found: RefCell<Found>,
    /// Per instruction: its readable RUN with the package-manager commands in it, built on first
    /// use (every check and every manager's index asks again).
    runs: Vec<OnceCell<Option<Run<'a>>>>,
}

#[derive(Default)]
struct Found {
    /// Per RUN and text: where the text's first occurrence in the RUN's script ends.
    in_script: HashMap<(usize, String), Option<usize>>,
    /// Per text: the instructions whose logical text holds it, in order.
    in_instructions: HashMap<String, Vec<usize>>,
}

/// A RUN whose shell this transform can read, with the package-manager commands in it.
pub(super) struct Run<'a> {
    index: usize,
    inst: &'a Instruction,
    shell: &'a RunShell,
    invocations: Vec<Invocation<'a>>,
}

impl<'a> Scope<'a> {
    fn new(input: &'a Input<'a>) -> Self {
        Scope {
            input,
            file: input.file,
            model: input.model(),
            mode: input.settings.config.run_cleanup.cache,
            found: RefCell::default(),
            runs: (0..input.file.instructions.len()).map(|_| OnceCell::new()).collect(),
        }
    }

    /// RUN instructions of the stages this transform reports on (`only-final-stage` honoured).
    fn reports_on(&self, index: usize) -> bool {
        let inst = &self.file.instructions[index];
        let Some(stage) = self.model.stage_of(index) else {
            return false;
        };
        inst.keyword == Keyword::Run
            && (!self.input.settings.config.only_final_stage
                || self.model.stages()[stage].in_final_image)
    }

    /// The RUN's shell (its arguments, or the body of `RUN <<EOF`), when it can be read reliably
    /// (no syntax error, no heredoc inside the script).
    fn run(&self, index: usize) -> Option<&Run<'a>> {
        self.runs.get(index)?.get_or_init(|| self.read_run(index)).as_ref()
    }

    fn read_run(&self, index: usize) -> Option<Run<'a>> {
        let input: &'a Input<'a> = self.input;
        let shell = input.script(index)?;
        if shell.script.has_errors() || shell.script.has_heredoc() {
            return None;
        }
        let commands = shell.script.commands();
        let invocations = commands
            .iter()
            .enumerate()
            .flat_map(|(i, command)| {
                managers()
                    .iter()
                    .filter_map(move |m| m.invocation(i, command))
            })
            .collect();
        Some(Run {
            index,
            inst: &self.file.instructions[index],
            shell,
            invocations,
        })
    }

    /// Appended to a finding's explanation in a stage whose layers are not the shipped image's.
    fn stage_note(&self, index: usize) -> Option<String> {
        let stage = self.model.stage_of(index)?;
        let facts = &self.model.stages()[stage];
        if facts.in_final_image {
            return None;
        }
        let name = self.file.stages[stage].name.as_deref().map_or_else(
            || format!("stage {stage}"),
            |n| format!("stage `{n}`"),
        );
        let place = if facts.ships {
            "only lends files to the shipped image (`COPY --from`), its layers are not in it"
        } else {
            "is not part of the shipped image"
        };
        Some(format!(
            "{name} {place}: this only makes the build's own layers smaller (`only-final-stage = true` skips such stages)"
        ))
    }


    /// Whether the environment setting `spec` holds for `command` of `run`: `NAME` set to any
    /// value, or `NAME=VALUE` set to that value; by ENV or ARG earlier in the image (read through
    /// the model), `export` earlier in the RUN, or a `NAME=x` prefix.
    fn env_set(&self, run: &Run, command: usize, spec: &str) -> bool {
        let (name, wanted) = spec.split_once('=').map_or((spec, None), |(n, v)| (n, Some(v)));
        let holds = |value: &str| wanted.map_or(!value.is_empty(), |w| value == w);
        self.env_value(run, command, name).is_some_and(|(value, known)| holds(&value) && (wanted.is_none() || known))
    }

    /// The value variable `name` has for `command` of `run`, and whether it is known (an ARG
    /// without a default is not): the command's own `NAME=x` prefix, else the last `export`
    /// before it in the RUN, else the ENV or ARG in force (the model's scopes).
    fn env_value(&self, run: &Run, command: usize, name: &str) -> Option<(String, bool)> {
        let prefix = format!("{name}=");
        let value = |w: &ShellWord| -> Option<String> {
            w.literal.as_deref().unwrap_or(&w.raw).strip_prefix(prefix.as_str()).map(str::to_string)
        };
        // The nearest setting wins: the command's own prefix, then the last `export` before it.
        let commands = run.shell.script.commands();
        let cmd = &commands[command];
        if let Some(v) = cmd.assignments.iter().chain(&cmd.words).find_map(value) {
            return Some((v, true));
        }
        let exported = commands[..command]
            .iter()
            .rev()
            .filter(|c| c.words.first().is_some_and(|w| w.is("export")))
            .find_map(|c| c.words.iter().find_map(value));
        if let Some(v) = exported {
            return Some((v, true));
        }
        // ENV in the image, or an ARG of the stage.
        self.model.binding(name, run.index).map(|b| (b.value.clone(), b.known))
    }

    /// Where `cache-dir-env` moves the manager's cache for `command`: the known, non-empty values.
    fn moved_cache_dirs(&self, run: &Run, command: usize, manager: &Manager) -> Vec<String> {
        let values = manager.cache_dir_env.iter().filter_map(|name| self.env_value(run, command, name));
        values.filter(|(value, known)| *known && !value.is_empty()).map(|(value, _)| value).collect()
    }

    /// Whether one of `texts` appears in an earlier RUN of the image or earlier in this one.
    fn configured(&self, run: &Run, command: usize, texts: &[String]) -> bool {
        let before = run.shell.script.commands()[command].range.start;
        texts.iter().any(|t| {
            // Written in this script before the command: its first occurrence ends there.
            let first_end = *self.found.borrow_mut().in_script.entry((run.index, t.clone())).or_insert_with(|| {
                let source = run.shell.script.source();
                source.find(t.as_str()).map(|at| at + t.len())
            });
            first_end.is_some_and(|end| end <= before)
                || self.holding(t).iter().any(|&i| {
                    self.file.instructions[i].keyword == Keyword::Run && self.model.is_earlier(i, run.index)
                })
        })
    }

    /// Whether one of `texts` appears in the RUN or an instruction before it in the image.
    fn mentions(&self, run: &Run, texts: &[String]) -> bool {
        texts.iter().any(|t| self.holding(t).iter().any(|&i| i == run.index || self.model.is_earlier(i, run.index)))
    }

    /// The instructions whose logical text holds `text`.
    fn holding(&self, text: &str) -> Vec<usize> {
        let mut found = self.found.borrow_mut();
        found
            .in_instructions
            .entry(text.to_string())
            .or_insert_with(|| {
                let instructions = self.file.instructions.iter().enumerate();
                instructions.filter(|(_, inst)| inst.logical.text.contains(text)).map(|(i, _)| i).collect()
            })
            .clone()
    }

    /// Whether the RUN runs as root: no USER earlier in the image, or USER root / 0.
    fn runs_as_root(&self, index: usize) -> bool {
        let earlier = self.model.earlier(index).map(|i| &self.file.instructions[i]);
        let user = earlier.filter(|i| i.keyword == Keyword::User).last();
        user.is_none_or(|u| {
            let name = u.args_text().split(':').next().unwrap_or("").trim();
            name == "root" || name == "0"
        })
    }
}

impl Run<'_> {
    fn commands(&self) -> &[Command] {
        self.shell.script.commands()
    }

    fn of<'m>(&'m self, manager: &'m Manager) -> impl Iterator<Item = &'m Invocation<'m>> + 'm {
        self.invocations
            .iter()
            .filter(move |i| std::ptr::eq(i.manager, manager))
    }

    /// Source range of a script range.
    fn source(&self, file: &Dockerfile, range: Range<usize>) -> Range<usize> {
        self.shell.source_range(file, range)
    }

    /// Source range of a command up to `last` (its subcommand): where findings point, a range
    /// that flags added after it in an earlier pass do not move.
    fn head(&self, file: &Dockerfile, command: usize, last: &ShellWord) -> Range<usize> {
        self.source(file, self.commands()[command].range.start..last.range.end)
    }

    /// Targets of the RUN's `--mount=type=cache` and tmpfs mounts: what is written there stays
    /// out of the layer.
    fn mount_targets(&self) -> Vec<String> {
        self.inst
            .flags
            .iter()
            .filter(|f| f.name == "mount")
            .filter_map(|f| {
                let value = f.value.as_deref()?;
                let fields: Vec<(&str, &str)> = value
                    .split(',')
                    .filter_map(|kv| kv.split_once('='))
                    .collect();
                let kind = fields
                    .iter()
                    .find(|(k, _)| *k == "type")
                    .map_or("bind", |(_, v)| v);
                let target = fields
                    .iter()
                    .find(|(k, _)| matches!(*k, "target" | "dst" | "destination"))?;
                matches!(kind, "cache" | "tmpfs").then(|| target.1.to_string())
            })
            .collect()
    }

    /// Whether a cache or tmpfs mount covers one of `dirs` (see `cache-dirs` in the knowledge file).
    fn mounted(&self, dirs: &[String]) -> bool {
        let targets = self.mount_targets();
        dirs.iter()
            .any(|dir| targets.iter().any(|t| covers(t, dir)))
    }
}

/// Whether mount `target` holds `dir`: the same directory or a parent of it. `*/a/b` stands for
/// `a/b` in any directory (a home directory).
fn covers(target: &str, dir: &str) -> bool {
    let target = target.trim_end_matches('/');
    match dir.strip_prefix("*/") {
        Some(tail) => {
            let parts: Vec<&str> = tail.split('/').collect();
            (1..=parts.len()).any(|n| target.ends_with(&format!("/{}", parts[..n].join("/"))))
        }
        None => dir == target || dir.starts_with(&format!("{target}/")),
    }
}

/// Words that run `command` with the privileges of `sudo`/`doas` as written before it, so that
/// an added command runs the same way (`sudo rm -rf …` after `sudo apt-get …`).
fn privilege_prefix(command: &Command) -> String {
    let words = &command.words;
    let skipped = words.len() - command.effective().words().len();
    let privileged = words
        .first()
        .is_some_and(|w| matches!(w.literal.as_deref(), Some("sudo" | "doas")));
    if !privileged || skipped == 0 {
        return String::new();
    }
    let mut prefix: String = words[..skipped]
        .iter()
        .map(|w| w.raw.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    prefix.push(' ');
    prefix
}

/// The finding's explanation: why it matters, what could change when Unsafe, the stage note.
fn explain(
    why: &str,
    unsafe_why: Option<&str>,
    applicability: Option<Applicability>,
    note: Option<&str>,
) -> String {
    let mut text = why.to_string();
    if applicability == Some(Applicability::Unsafe) {
        if let Some(u) = unsafe_why {
            text.push_str(&format!(". Unsafe: {u}"));
        }
    }
    if let Some(note) = note {
        text.push_str(&format!(". Note: {note}"));
    }
    text
}

/// `apt install` → `apt-get install`, for the subcommands that mean the same in both, pinned or
/// not: hadolint's pin warning (DL3008) that may then appear was already true of the `apt` line.
fn renames(scope: &Scope, run: &Run, manager: &'static Manager) -> Vec<Finding> {
    let Some(rename) = &manager.rename else {
        return Vec::new();
    };
    let targets: Vec<(&Invocation, &str, &ShellWord)> = run
        .of(manager)
        .filter(|i| i.program_name() == rename.from)
        .filter_map(|i| i.runs_any(&rename.subcommands).map(|(s, w)| (i, s, w)))
        .collect();
    let mut findings = Vec::new();
    for (invocation, subcommand, word) in targets {
        let program = invocation.program();
        let Some(raw) = program.raw.strip_suffix(rename.from.as_str()) else {
            continue;
        };
        let renamed = rename
            .rewrite
            .get(subcommand)
            .map_or(subcommand, String::as_str);
        let range = run.source(scope.file, program.range.start..word.range.end);
        let message = format!(
            "`{} {subcommand}` in a script: use `{} {renamed}`",
            rename.from, rename.to
        );
        let finding = Finding::new(rename.check, range, message);
        let mut edits = vec![Edit::replace(
            run.source(scope.file, program.range.clone()),
            format!("{raw}{}", rename.to),
        )];
        if renamed != subcommand {
            edits.push(Edit::replace(
                run.source(scope.file, word.range.clone()),
                renamed,
            ));
        }
        findings.push(
            finding
                .with_why(rename.why.clone())
                .with_fix(Fix::safe(format!("Use `{} {renamed}`", rename.to), edits)),
        );
    }
    findings
}

/// Flags the command should carry (`-y`, `--no-install-recommends`, `--no-cache-dir`, ...).
fn missing_flags(scope: &Scope, run: &Run, invocation: &Invocation) -> Vec<Finding> {
    let manager = invocation.manager;
    let mut findings = Vec::new();
    if invocation.changes_nothing() {
        return findings;
    }
    for rule in &manager.flags {
        let Some((subcommand, last_word)) = invocation.runs_any(&rule.subcommands) else {
            continue;
        };
        let unnecessary = invocation.has_any(&rule.present)
            || rule.env.iter().any(|env| scope.env_set(run, invocation.command, env))
            || scope.configured(run, invocation.command, &rule.configured_by)
            || (rule.cache
                && (run.mounted(&manager.cache_dirs)
                    || run.mounted(&scope.moved_cache_dirs(run, invocation.command, manager))
                    || mounts_instead(scope, run, manager)));
        if unnecessary {
            continue;
        }
        let at = flag_insertion_point(scope.file, run, invocation, last_word);
        let applicability = if scope.mentions(run, &rule.safe_if_stage_mentions) {
            Applicability::Safe
        } else {
            rule.safety.applicability()
        };
        let note = if rule.shrinks {
            scope.stage_note(run.index)
        } else {
            None
        };
        let command = invocation.describe(subcommand);
        let finding = Finding::new(
            rule.check,
            run.head(scope.file, invocation.command, last_word),
            format!("`{command}` without `{}`", rule.add),
        );
        if let Some(refuse_why) = rule
            .refuse_why
            .as_deref()
            .filter(|_| scope.mentions(run, &rule.refuse_if_stage_mentions))
        {
            findings.push(finding.with_why(explain(
                &format!("{}. No fix: {refuse_why}", rule.why),
                None,
                None,
                note.as_deref(),
            )));
            continue;
        }
        let finding = finding.with_why(explain(
            &rule.why,
            rule.unsafe_why.as_deref(),
            Some(applicability),
            note.as_deref(),
        ));
        let mut edits = vec![Edit::insert(at, format!(" {}", rule.add))];
        let mut title = format!("Add `{}`", rule.add);
        let kept = kept_recommendations(invocation, rule);
        if let (Some(last), false) = (invocation.positionals().last(), kept.is_empty()) {
            let end = run.source(scope.file, last.range.clone()).end;
            if end > at {
                edits.push(Edit::insert(end, format!(" {}", kept.join(" "))));
                title = format!("{title}, and install {} explicitly", kept.join(" "));
            }
        }
        findings.push(finding.with_fix(Fix::new(title, edits, applicability)));
    }
    findings
}

/// A program of the RUN (`make install`) whose recipes in the build context (a Makefile) run a
/// manager's command without its cache flag: the RUN cannot show the flag, so the environment
/// setting that does its work goes before the program (`PIP_NO_CACHE_DIR=1 make install`).
fn hidden_in_scripts(scope: &Scope, run: &Run) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (index, command) in run.commands().iter().enumerate() {
        let view = command.effective();
        let Some(program) = view.basename() else { continue };
        for manager in managers() {
            for rule in manager.flags.iter().filter(|r| r.cache) {
                let Some(behind) = rule.behind.as_ref().filter(|b| b.programs.iter().any(|p| p == program)) else { continue };
                let already = rule.env.iter().any(|env| scope.env_set(run, index, env))
                    || scope.configured(run, index, &rule.configured_by)
                    || run.mounted(&manager.cache_dirs)
                    || run.mounted(&scope.moved_cache_dirs(run, index, manager));
                if already {
                    continue;
                }
                let Some((path, text, goals)) = makefile_of(scope, view.words(), &behind.files) else { continue };
                let Some((line, hidden)) = hidden_command(manager, rule, text, &goals) else { continue };
                let word = &view.words()[0];
                let at = run.source(scope.file, word.range.start..word.range.start).start;
                let shown: Vec<&str> = view.words().iter().map(|w| w.raw.as_str()).collect();
                let message = format!("`{}` runs `{hidden}` ({path}:{line}) without `{}`", shown.join(" "), rule.add);
                let why = format!(
                    "{}. The command is in a recipe the RUN runs, where the flag cannot be added: `{}` does its work for every such command of the recipe (`ENV {}` would for every later RUN too, and in the container)",
                    rule.why, behind.prefix, behind.prefix
                );
                let note = scope.stage_note(run.index);
                let fix = Fix::new(format!("Put `{}` before `{program}`", behind.prefix), vec![Edit::insert(at, format!("{} ", behind.prefix))], Applicability::Safe);
                let range = run.source(scope.file, command.range.start..word.range.end);
                findings.push(Finding::new(rule.check, range, message).with_why(explain(&why, None, None, note.as_deref())).with_fix(fix));
            }
        }
    }
    findings
}

/// The Makefile a `make` command reads (its `-C` folder and `-f` file, at the context's root, or
/// the context's only one of that name) with its text, and the goals it is given.
fn makefile_of<'s>(scope: &'s Scope, words: &[ShellWord], names: &[String]) -> Option<(&'s str, &'s str, Vec<String>)> {
    let (mut dir, mut file, mut goals) = (String::new(), None, Vec::new());
    let mut args = words[1..].iter().map(|w| w.literal.clone());
    while let Some(arg) = args.next() {
        let arg = arg?;
        match arg.as_str() {
            "-C" | "--directory" => dir = args.next()??,
            "-f" | "--file" | "--makefile" => file = Some(args.next()??),
            "-I" | "-o" | "-W" | "-l" => _ = args.next(),
            a if a.starts_with("--directory=") => dir = a["--directory=".len()..].to_string(),
            a if a.starts_with("--file=") || a.starts_with("--makefile=") => file = a.split_once('=').map(|(_, v)| v.to_string()),
            a if a.starts_with('-') || a.contains('=') || a.chars().all(|c| c.is_ascii_digit()) => {}
            a => goals.push(a.to_string()),
        }
    }
    let dir = dir.trim_start_matches("./").trim_end_matches('/').to_string();
    let wanted: Vec<String> = match file {
        Some(f) => vec![f.trim_start_matches("./").to_string()],
        None => names.to_vec(),
    };
    let contents = &scope.input.context.contents;
    let at_root = wanted.iter().map(|n| if dir.is_empty() { n.clone() } else { format!("{dir}/{n}") }).find_map(|p| contents.get_key_value(&p));
    let only = || {
        let mut named = contents.iter().filter(|(p, _)| wanted.iter().any(|n| p.rsplit('/').next() == Some(n.as_str())));
        named.next().filter(|_| named.next().is_none())
    };
    at_root.or_else(only).map(|(p, t)| (p.as_str(), t.as_str(), goals))
}

/// The first recipe line `make` runs for `goals` that runs the rule's command without its flag,
/// and the command as written.
fn hidden_command(manager: &'static Manager, rule: &knowledge::FlagRule, text: &str, goals: &[String]) -> Option<(usize, String)> {
    // The Makefile sets the variable itself, or configures the flag.
    if rule.env.iter().any(|env| text.contains(env.split('=').next().unwrap_or(env))) || rule.configured_by.iter().any(|c| text.contains(c.as_str())) {
        return None;
    }
    let goals: Vec<&str> = goals.iter().map(String::as_str).collect();
    makefile::recipes(text, &goals).into_iter().find_map(|(line, recipe)| {
        let script = crate::shell::parse_script(recipe);
        script.commands().iter().enumerate().find_map(|(i, command)| {
            let invocation = manager.invocation(i, command)?;
            let (subcommand, _) = invocation.runs_any(&rule.subcommands)?;
            (!invocation.changes_nothing() && !invocation.has_any(&rule.present)).then(|| (line, invocation.describe(subcommand)))
        })
    })
}

/// The packages the install only gets as recommendations that the flag would drop although the
/// installed programs need them (`keep-recommended`), and that it does not name already.
fn kept_recommendations(invocation: &Invocation, rule: &knowledge::FlagRule) -> Vec<String> {
    let named: Vec<&str> = invocation
        .positionals()
        .iter()
        .skip(1)
        .filter_map(|p| p.literal.as_deref())
        .map(|name| name.split(['=', ':']).next().unwrap_or(name))
        .collect();
    let mut kept: Vec<String> = Vec::new();
    for package in &named {
        for wanted in rule.keep_recommended.get(*package).into_iter().flatten() {
            if !named.contains(&wanted.as_str()) && !kept.contains(wanted) {
                kept.push(wanted.clone());
            }
        }
    }
    kept
}

/// With `cache = "mount"`, a manager that has cache mounts gets them instead of cleanups; a mount
/// under `/root` only in a RUN that runs as root (otherwise the RUN is cleaned up as usual).
fn mounts_instead(scope: &Scope, run: &Run, manager: &Manager) -> bool {
    let for_root = manager.mount.iter().any(|m| m.target.starts_with("/root/"));
    scope.mode == CacheMode::Mount
        && !manager.mount.is_empty()
        && (!for_root || scope.runs_as_root(run.index))
}

/// Right after the subcommand, and after flags this transform already added there, so that
/// several added flags keep a stable order (`install -y --no-install-recommends`).
fn flag_insertion_point(
    file: &Dockerfile,
    run: &Run,
    invocation: &Invocation,
    after: &ShellWord,
) -> usize {
    let words = invocation.view.words();
    let mut at = words
        .iter()
        .position(|w| std::ptr::eq(w, after))
        .unwrap_or(0);
    let added = |w: &ShellWord| invocation.manager.flags.iter().any(|r| w.is(&r.add));
    while words.get(at + 1).is_some_and(added) {
        at += 1;
    }
    run.source(file, words[at].range.clone()).end
}

/// What a manager's commands leave in the layer and its cleanup does not remove (or, with
/// `cache = "mount"`, a cache mount would keep out).
fn leftovers(scope: &Scope, run: &Run, manager: &'static Manager) -> Option<Finding> {
    let moved = run.of(manager).last().map(|i| scope.moved_cache_dirs(run, i.command, manager)).unwrap_or_default();
    if run.mounted(&manager.cache_dirs) || run.mounted(&moved) {
        return None;
    }
    if mounts_instead(scope, run, manager) && manager.index.is_none() {
        return cache_mount(scope, run, manager);
    }
    let cleanup = manager.cleanup.as_ref()?;
    let triggers = triggers(run, manager);
    let &(last, subcommand) = triggers.last()?;
    let note = scope.stage_note(run.index);
    let head = run.head(
        scope.file,
        last.command,
        last.runs(subcommand).unwrap_or(last.program()),
    );
    let finding = |message: String| Finding::new(cleanup.check, head.clone(), message);
    if let Some(fix) = drop_redundant(scope, run, manager, &triggers) {
        let message = format!(
            "`{}` is unnecessary: the commands after it fetch what they need themselves",
            last.describe(subcommand)
        );
        return Some(
            finding(message)
                .with_why(explain(&cleanup.why, None, None, note.as_deref()))
                .with_fix(fix),
        );
    }
    let missing = missing_cleanup(run, manager, &triggers);
    // An `rm` of the folder a variable moved the cache to cleans it.
    let removed_there = || {
        let after = &run.commands()[last.command + 1..];
        moved.iter().any(|dir| after.iter().any(|cmd| runs_pattern(manager, &format!("rm {dir}"), cmd)))
    };
    let elsewhere = !cleanup.only_if_stage_mentions.is_empty() && !scope.mentions(run, &cleanup.only_if_stage_mentions);
    if missing.is_empty() || removed_there() || elsewhere {
        return None;
    }
    let finding = finding(format!(
        "`{}` leaves {} in the layer",
        last.describe(subcommand),
        cleanup.leaves
    ));
    let files = scope.input.context.files.as_deref();
    let refused = files.and_then(|files| {
        cleanup.refuse_if_context_has.iter().find(|m| {
            files
                .iter()
                .any(|f| f == *m || (m.ends_with('/') && f.starts_with(m.as_str())))
        })
    });
    let refused = refused.or_else(|| cleanup.refuse_if_stage_mentions.iter().find(|m| scope.mentions(run, std::slice::from_ref(*m))));
    if let Some(marker) = refused {
        let refuse_why = cleanup
            .refuse_why
            .as_deref()
            .unwrap_or("the build context says cleaning is wrong");
        let why = format!("{}. No fix: {refuse_why} (`{marker}`)", cleanup.why);
        return Some(finding.with_why(explain(&why, None, None, note.as_deref())));
    }
    let applicability = if scope.mentions(run, &cleanup.unsafe_if_stage_mentions)
        || (cleanup.unsafe_if_context_unknown && files.is_none())
    {
        Applicability::Unsafe
    } else {
        cleanup.safety.applicability()
    };
    let why = explain(
        &cleanup.why,
        cleanup.unsafe_why.as_deref(),
        Some(applicability),
        note.as_deref(),
    );
    let at = match append_point(scope.file, run.shell) {
        Ok(at) => at,
        Err(reason) => return Some(finding.with_why(format!("{why}. No fix: {reason}"))),
    };
    let layout = Layout::of(scope.file, run.inst);
    let prefix = privilege_prefix(&run.commands()[last.command]);
    let text: String = missing
        .iter()
        .map(|c| layout.append(&format!("{prefix}{c}")))
        .collect();
    let fix = Fix::new(
        format!("Append `{}`", missing.join(" && ")),
        vec![Edit::insert(at, text)],
        applicability,
    );
    Some(finding.with_why(why).with_fix(fix))
}

/// The manager's commands in the RUN that fill its cache (`after` in the knowledge file).
fn triggers<'r>(
    run: &'r Run,
    manager: &'static Manager,
) -> Vec<(&'r Invocation<'r>, &'static str)> {
    let Some(cleanup) = &manager.cleanup else {
        return Vec::new();
    };
    run.of(manager)
        .filter(|i| !i.changes_nothing())
        .filter_map(|i| i.runs_any(&cleanup.after).map(|(s, _)| (i, s)))
        .collect()
}

/// The cleanup commands that do not run after the last trigger, as they would be appended.
fn missing_cleanup(run: &Run, manager: &Manager, triggers: &[(&Invocation, &str)]) -> Vec<String> {
    let (Some(cleanup), Some((last, _))) = (&manager.cleanup, triggers.last()) else {
        return Vec::new();
    };
    let after = &run.commands()[last.command + 1..];
    cleanup
        .commands
        .iter()
        .filter(|c| {
            !std::iter::once(&c.run)
                .chain(&c.done_by)
                .any(|pattern| after.iter().any(|cmd| runs_pattern(manager, pattern, cmd)))
        })
        .map(|c| c.run.replace("{program}", &last.program().raw))
        .collect()
}

/// With `drop-when-flagged` (apk): when every later command of the manager is one the cache flag
/// applies to (it carries the flag, or gets it from `missing_flags`), the commands that fill the
/// cache are unnecessary: delete them, and a later cleanup of only that cache.
fn drop_redundant(
    scope: &Scope,
    run: &Run,
    manager: &Manager,
    triggers: &[(&Invocation, &str)],
) -> Option<Fix> {
    let cleanup = manager.cleanup.as_ref()?;
    if cleanup.drop_when_flagged.is_empty() {
        return None;
    }
    if triggers.len() == run.commands().len() {
        return drop_run(scope, run, manager);
    }
    let first = triggers.first()?.0.command;
    let later: Vec<&Invocation> = run
        .of(manager)
        .filter(|i| i.command > first && !triggers.iter().any(|(t, _)| t.command == i.command))
        .collect();
    if later.is_empty()
        || !later
            .iter()
            .all(|i| i.runs_any(&cleanup.drop_when_flagged).is_some())
    {
        return None;
    }
    let mut edits = triggers
        .iter()
        .map(|(t, _)| deletion(scope.file, run, t.command))
        .collect::<Option<Vec<Edit>>>()?;
    let paths: Vec<&str> = cleanup
        .commands
        .iter()
        .filter_map(|c| c.run.strip_prefix("rm "))
        .filter_map(|r| r.split_whitespace().last())
        .collect();
    let last_use = later.iter().map(|i| i.command).max().unwrap_or(first);
    for (i, cmd) in run.commands().iter().enumerate().skip(last_use + 1) {
        let view = cmd.effective();
        let mut removed = view.positionals(NO_OPTIONS).peekable();
        let only_this_cache = view.is("rm")
            && removed.peek().is_some()
            && removed.all(|p| paths.iter().any(|path| same_path(path, &p.raw)));
        if only_this_cache {
            edits.extend(deletion(scope.file, run, i));
        }
    }
    let (first_trigger, subcommand) = triggers[0];
    Some(Fix::safe(
        format!("Remove `{}`", first_trigger.describe(subcommand)),
        edits,
    ))
}

/// A RUN that only fills the cache (`RUN apk update`), when every later command of the manager
/// in the image is one the cache flag applies to: delete it.
fn drop_run(scope: &Scope, run: &Run, manager: &Manager) -> Option<Fix> {
    let cleanup = manager.cleanup.as_ref()?;
    if !run.inst.flags.is_empty() || layout::has_comment_lines(run.inst) {
        return None;
    }
    for index in scope.model.later(run.index) {
        let inst = &scope.file.instructions[index];
        if !matches!(inst.keyword, Keyword::Run | Keyword::Onbuild) {
            continue;
        }
        let later = match scope.run(index) {
            Some(later) if inst.keyword == Keyword::Run => later,
            _ if manager
                .programs
                .iter()
                .any(|p| inst.logical.text.contains(p.as_str())) =>
            {
                return None
            }
            _ => continue,
        };
        // Up to its own first update: from there on it does not depend on this RUN.
        let own_update = later
            .of(manager)
            .find(|i| i.runs_any(&cleanup.after).is_some())
            .map_or(usize::MAX, |i| i.command);
        let all_flagged = later
            .of(manager)
            .filter(|i| i.command < own_update)
            .all(|i| i.runs_any(&cleanup.drop_when_flagged).is_some());
        if !all_flagged {
            return None;
        }
    }
    Some(Fix::safe(
        "Remove this RUN (the commands after it fetch what they need themselves)",
        vec![Edit::delete(layout::instruction_deletion(
            scope.file, run.index,
        ))],
    ))
}

/// Deleting top-level command `command` of the RUN with its `&&`, when that is clean.
fn deletion(file: &Dockerfile, run: &Run, command: usize) -> Option<Edit> {
    let cmd = &run.commands()[command];
    let (step, item) = (cmd.step?, cmd.item?);
    let items = &run.shell.script.top_level()[step].items;
    if items[item].command_indices != [command] {
        return None;
    }
    item_deletion(file, run.shell, step, item).map(Edit::delete)
}

/// Whether `cmd` runs `pattern` (a `run` or `done-by` entry of the knowledge file).
fn runs_pattern(manager: &Manager, pattern: &str, cmd: &Command) -> bool {
    let mut words = pattern.split_whitespace();
    let Some(program) = words.next() else {
        return false;
    };
    let view = cmd.effective();
    let Some(name) = view.basename() else {
        return false;
    };
    let args: Vec<&str> = words.filter(|w| !w.starts_with('-')).collect();
    if program == "rm" {
        return name == "rm"
            && view
                .positionals(NO_OPTIONS)
                .any(|p| args.iter().any(|a| same_path(a, &p.raw)));
    }
    let is_program = if program == "{program}" {
        manager.is_program(name)
    } else {
        name == program
    };
    let positionals: Vec<&ShellWord> = view.positionals(&manager.value_options).collect();
    is_program
        && args.len() <= positionals.len()
        && args.iter().zip(&positionals).all(|(a, p)| p.is(a))
}

/// Whether removing `written` (as written in a script) removes `path`, a parent of it, or a part
/// of it: `/var/lib/apt/lists/*`, `/var/lib/apt`, `"/root/.npm"`, `~/.npm` for `/root/.npm`.
fn same_path(path: &str, written: &str) -> bool {
    let normal = |p: &str| {
        let p = p.replace(['"', '\''], "");
        let p =
            ["$HOME/", "${HOME}/", "/root/"]
                .iter()
                .fold(p, |p, home| match p.strip_prefix(home) {
                    Some(rest) => format!("~/{rest}"),
                    None => p,
                });
        p.trim_end_matches(['*', '/']).to_string()
    };
    let (path, written) = (normal(path), normal(written));
    !written.is_empty()
        && (path == written
            || path.starts_with(&format!("{written}/"))
            || written.starts_with(&format!("{path}/")))
}

/// With `cache = "mount"`: the manager's caches go to BuildKit cache mounts instead.
fn cache_mount(scope: &Scope, run: &Run, manager: &'static Manager) -> Option<Finding> {
    let flag_missing = |i: &Invocation| {
        manager.flags.iter().filter(|r| r.cache).any(|r| {
            i.runs_any(&r.subcommands).is_some()
                && !i.has_any(&r.present)
                && !r.env.iter().any(|env| scope.env_set(run, i.command, env))
                && !scope.configured(run, i.command, &r.configured_by)
        })
    };
    let triggers = triggers(run, manager);
    let messy = match triggers.last() {
        Some(&(last, _)) if !missing_cleanup(run, manager, &triggers).is_empty() => last,
        _ => run.of(manager).find(|i| flag_missing(i))?,
    };
    let note = scope.stage_note(run.index);
    let range = run.source(scope.file, run.commands()[messy.command].range.clone());
    let finding = Finding::new(
        &checks::RUN_CLEANUP_CACHE_MOUNT,
        range,
        format!("`{}` writes its cache into the layer", messy.program_name()),
    );
    let why = "with `cache = \"mount\"`, package caches belong in BuildKit cache mounts: kept between builds, never in the image";
    let flags: String = manager
        .mount
        .iter()
        .map(|m| format!(" {}", m.flag()))
        .collect();
    let fix = Fix::safe(
        "Add a cache mount",
        vec![Edit::insert(run.inst.keyword_span.end, flags)],
    );
    Some(
        finding
            .with_why(explain(why, None, None, note.as_deref()))
            .with_fix(fix),
    )
}
