//! The semantic layer: what the parsed Dockerfile means, computed once per pass and shared by
//! every transform (as ruff's `SemanticModel` or rust-analyzer's `hir` sit above their syntax).
//! A transform reads stages, shells, variables, paths and context reads here instead of deriving
//! them from the syntax itself.

mod context;
pub(crate) mod edits;
pub mod listing;
pub mod matcher;
mod paths;
pub mod pragmas;
pub mod reference;
pub mod workspaces;
mod stages;

use std::ops::Range;
use std::sync::OnceLock;

pub use context::{From, Read, Source};
pub use paths::Dir;
pub use stages::{Binding, Model, Shell, Stage};

use crate::settings::{Context, Settings};
use crate::shell::{is_posix_shell, parse_script, Command, Script, ShellWord};
use pragmas::Pragmas;
use crate::syntax::{Dockerfile, Keyword};

/// What a transform sees: the parsed file and the world around it.
pub struct Input<'a> {
    pub file: &'a Dockerfile,
    pub context: &'a Context,
    pub settings: &'a Settings,
    /// One lazily parsed shell view per instruction, shared by every transform of a pass.
    shells: Vec<OnceLock<Option<RunShell>>>,
    model: OnceLock<Model>,
    /// The suppression comments (computed once per pass).
    pragmas: OnceLock<Pragmas>,
}

/// The shell script of a shell-form RUN under a POSIX shell, with the map back to the source.
pub struct RunShell {
    pub script: Script,
    /// Index of the RUN in `Dockerfile::instructions`.
    pub instruction: usize,
    /// Where the script is written: `None` for the RUN's arguments, `Some(start)` for the body of
    /// a `RUN <<EOF` heredoc, a contiguous source range starting there.
    pub heredoc_body: Option<usize>,
}

impl RunShell {
    /// Source range (over the Dockerfile) of a range of the script.
    pub fn source_range(&self, file: &Dockerfile, range: Range<usize>) -> Range<usize> {
        if let Some(start) = self.heredoc_body {
            return start + range.start..start + range.end;
        }
        let inst = &file.instructions[self.instruction];
        inst.logical.source_range(range.start + inst.args.start..range.end + inst.args.start)
    }

    /// Source offset of a script offset (an insertion point).
    pub fn source_offset(&self, file: &Dockerfile, offset: usize) -> usize {
        if let Some(start) = self.heredoc_body {
            return start + offset;
        }
        let inst = &file.instructions[self.instruction];
        let logical = offset + inst.args.start;
        if logical >= inst.args.end {
            // The end of the script is the end of the arguments' last piece.
            inst.args_source_range().end
        } else {
            inst.logical.to_source(logical)
        }
    }
}

impl<'a> Input<'a> {
    pub fn new(file: &'a Dockerfile, context: &'a Context, settings: &'a Settings) -> Self {
        let shells = (0..file.instructions.len()).map(|_| OnceLock::new()).collect();
        Input { file, context, settings, shells, model: OnceLock::new(), pragmas: OnceLock::new() }
    }

    /// What the file means: stages, shells, variables, working directories, context reads.
    pub fn model(&self) -> &Model {
        self.model.get_or_init(|| Model::new(self.file, self.settings))
    }

    /// The suppression comments of the file (`# dockopt ignore=`, `# hadolint ignore=`,
    /// `# check=skip=`): the engine leaves what they name alone; a transform that moves or joins
    /// instructions keeps each pragma above its own instruction.
    pub fn pragmas(&self) -> &Pragmas {
        self.pragmas.get_or_init(|| Pragmas::parse(self.file))
    }

    pub fn source(&self) -> &str {
        &self.file.source
    }

    /// The shell view of RUN `index`, parsed on first use. `None` for exec form, heredoc RUNs,
    /// ONBUILD triggers, and RUNs under a non-POSIX `SHELL` (PowerShell, cmd): transforms leave
    /// those alone.
    pub fn shell(&self, index: usize) -> Option<&RunShell> {
        self.script(index).filter(|s| s.heredoc_body.is_none())
    }

    /// Like `shell`, and also the script of a `RUN <<EOF` whose heredoc is the whole command (the
    /// shell runs its body): for transforms that edit commands in place, not ones that move or
    /// join whole RUNs.
    pub fn script(&self, index: usize) -> Option<&RunShell> {
        self.shells.get(index)?.get_or_init(|| self.build_shell(index)).as_ref()
    }

    fn build_shell(&self, index: usize) -> Option<RunShell> {
        let inst = self.file.instructions.get(index)?;
        if inst.keyword != Keyword::Run || inst.exec.is_some() || !self.posix_shell_at(index) {
            return None;
        }
        if inst.heredocs.is_empty() {
            return Some(RunShell { script: parse_script(inst.args_text()), instruction: index, heredoc_body: None });
        }
        let body = heredoc_script(self.file, inst)?;
        Some(RunShell { script: parse_script(self.file.text(body.clone())), instruction: index, heredoc_body: Some(body.start) })
    }

    /// Whether the shell in effect at instruction `index` is POSIX (no SHELL, or SHELL sh/bash…).
    /// The escape token `` ` `` marks a Windows Dockerfile: its default shell is cmd.
    pub fn posix_shell_at(&self, index: usize) -> bool {
        self.model().stage_of(index).is_some() && self.model().shell(index).is_posix()
    }

    /// The commands instruction `index` has the image run (CMD, ENTRYPOINT, HEALTHCHECK's `CMD`),
    /// as the words of each simple command (an exec form is one); none from a shell form under a
    /// SHELL that is not POSIX.
    pub fn image_commands(&self, index: usize) -> Vec<Vec<ShellWord>> {
        let inst = &self.file.instructions[index];
        let mut text = inst.args_text();
        match inst.keyword {
            Keyword::Cmd | Keyword::Entrypoint => {}
            // `HEALTHCHECK [--flags] CMD <command>`, or `NONE`.
            Keyword::Healthcheck => match text.split_once(char::is_whitespace) {
                Some((cmd, rest)) if cmd.eq_ignore_ascii_case("cmd") => text = rest.trim_start(),
                _ => return Vec::new(),
            },
            _ => return Vec::new(),
        }
        let exec = inst.exec.clone().or_else(|| serde_json::from_str::<Vec<String>>(text).ok().filter(|_| text.starts_with('[')));
        if let Some(words) = exec {
            return vec![words.iter().map(|w| ShellWord::fixed(w)).collect()];
        }
        if !self.posix_shell_at(index) {
            return Vec::new();
        }
        let script = parse_script(text);
        let commands = script.commands().iter().filter(|c| !c.in_substitution);
        commands.map(|c| c.effective().words().to_vec()).filter(|w| !w.is_empty()).collect()
    }

    /// The commands of RUN `index` with where each runs, as far as the shell view tells: the
    /// WORKDIR followed through the RUN's own top-level `cd`s, and the variables the RUN sets for
    /// it. `None` when the RUN cannot be read.
    pub fn steps(&self, index: usize) -> Option<Steps<'_>> {
        let shell = self.shell(index).filter(|s| !s.script.has_errors())?;
        let model = self.model();
        let mut steps = Steps { instruction: index, model, exported: Vec::new(), steps: Vec::new() };
        let mut cwd = model.workdir(index).cloned();
        for command in shell.script.commands() {
            let view = command.effective();
            if !(command.in_subshell || command.in_substitution || command.in_function) {
                if view.is("cd") {
                    cwd = match view.args().first().and_then(|w| w.literal.as_deref()) {
                        Some(dir) if !dir.starts_with('-') => cwd.map_or_else(|| Dir::absolute(dir), |c| c.join(dir)),
                        _ => None,
                    };
                    continue;
                }
                if view.is("export") || command.words.is_empty() {
                    let words = if command.words.is_empty() { &command.assignments[..] } else { &command.words[1..] };
                    steps.exported.extend(assignments(words));
                    continue;
                }
            }
            // Its own `NAME=x` prefixes, and those of a wrapper (`env CGO_ENABLED=0 go build`).
            let wrapper = &command.words[..command.words.len() - view.words().len()];
            let own = assignments(&command.assignments).chain(assignments(wrapper)).collect();
            steps.steps.push(Step { command, cwd: cwd.clone(), exported: steps.exported.len(), own });
        }
        Some(steps)
    }
}

/// The commands of a RUN with where each runs (see `Input::steps`).
pub struct Steps<'a> {
    pub instruction: usize,
    model: &'a Model,
    /// `export NAME=x` and plain assignments of the RUN, in order.
    exported: Vec<(String, String)>,
    pub steps: Vec<Step<'a>>,
}

pub struct Step<'a> {
    pub command: &'a Command,
    /// The working directory, when it can be followed.
    pub cwd: Option<Dir>,
    /// How many of the RUN's exports come before it.
    exported: usize,
    own: Vec<(String, String)>,
}

impl Steps<'_> {
    /// Variable `name` for `step`: its own prefixes, the RUN's earlier exports, then the ENV in
    /// force (expanded as far as known, unknown parts as written). ARGs count as unknown.
    pub fn var(&self, step: &Step, name: &str) -> Option<String> {
        let set = |list: &[(String, String)]| list.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        set(&step.own)
            .or_else(|| set(&self.exported[..step.exported]))
            .or_else(|| self.model.binding(name, self.instruction).filter(|b| !b.from_arg).map(|b| b.value.clone()))
    }
}

/// `NAME=value` words (static ones).
fn assignments(words: &[ShellWord]) -> impl Iterator<Item = (String, String)> + '_ {
    words.iter().filter_map(|w| w.literal.as_deref()?.split_once('=').map(|(n, v)| (n.to_string(), v.to_string())))
}

/// The source range of the script of `RUN <<EOF … EOF` when BuildKit hands the body to the shell:
/// the heredoc is the whole command, the body has no interpreter line other than a POSIX shell's,
/// and (`<<-`) no tab is stripped, so script offsets are source offsets. Without its last line
/// break, so that text appended to the script lands before the terminator line.
fn heredoc_script(file: &Dockerfile, inst: &crate::syntax::Instruction) -> Option<Range<usize>> {
    let [heredoc] = inst.heredocs.as_slice() else {
        return None;
    };
    let command = inst.args_text().trim();
    let name = command.strip_prefix("<<")?.trim_start_matches('-');
    let unquoted = name.trim_matches(|c| c == '"' || c == '\'');
    if unquoted != heredoc.name || heredoc.fd.is_some() {
        return None;
    }
    let text = file.text(heredoc.body.clone());
    if heredoc.chomp && text.split('\n').any(|line| line.starts_with('\t')) {
        return None;
    }
    if let Some(interpreter) = text.strip_prefix("#!") {
        let interpreter = interpreter.lines().next().unwrap_or_default();
        let words: Vec<String> = interpreter.split_whitespace().map(String::from).collect();
        if !is_posix_shell(&words) {
            return None;
        }
    }
    let trimmed = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(text);
    Some(heredoc.body.start..heredoc.body.start + trimmed.len())
}
