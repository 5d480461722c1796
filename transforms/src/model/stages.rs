//! What is in force at each instruction: its stage and the stages it is built on or takes files
//! from, which stages ship, the SHELL, ARG/ENV values and the WORKDIR. One pass over the file,
//! linear in it: each variable keeps the list of its bindings in instruction order (a binary search
//! answers "its value at instruction i"), never a map cloned per instruction.

use std::collections::HashMap;

use super::context::{self, From, Read};
use super::paths::Dir;
use crate::settings::Settings;
use crate::shell::is_posix_shell;
use crate::syntax::{assignments, expand, split_words, Dockerfile, Expanded, Keyword, Var};

/// The semantic model of one parse of a Dockerfile.
pub struct Model {
    stages: Vec<Stage>,
    /// Per instruction: its stage (`None` before the first FROM).
    stage_of: Vec<Option<usize>>,
    /// Per instruction: the SHELL in force, an index into `shells`.
    shell_at: Vec<u32>,
    shells: Vec<Shell>,
    /// Per instruction: the WORKDIR in force, an index into `dirs`.
    dir_at: Vec<u32>,
    dirs: Vec<Option<Dir>>,
    /// Per entry of `dirs`: whether a WORKDIR of this file set it.
    dir_set: Vec<bool>,
    vars: HashMap<String, Vec<Binding>>,
    /// ARGs before the first FROM: what FROM lines and `ARG NAME` inside a stage see, with the
    /// instruction that gave the value.
    meta: HashMap<String, (Var, usize)>,
    reads: Vec<Read>,
    final_stage: Option<usize>,
    escape: char,
}

/// A stage and its place among the others.
#[derive(Debug, Clone, Default)]
pub struct Stage {
    /// The earlier stage it is built on (`FROM <stage>`, variables resolved with the meta ARGs).
    pub parent: Option<usize>,
    /// Stages it takes files from: `COPY --from=<stage>`, `RUN --mount=from=<stage>`.
    pub takes_from: Vec<usize>,
    /// Whether anything of it reaches the shipped image: the final stage (or the target), and
    /// every stage reached from it through `FROM`, `COPY --from` and `RUN --mount=from`.
    pub ships: bool,
    /// Whether its layers are the shipped image's: the final stage and the stages it is built on.
    pub in_final_image: bool,
    first: usize,
    end: usize,
    /// The WORKDIR in force after its last instruction (an index into `Model::dirs`).
    end_dir: u32,
}

/// The shell RUN's shell form runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shell {
    /// No SHELL: `/bin/sh -c`, or `cmd /S /C` under a Windows image (or ``# escape=` ``).
    Default { windows: bool },
    /// `SHELL [...]`; empty when its arguments are not a JSON array.
    Set(Vec<String>),
}

impl Shell {
    pub fn is_posix(&self) -> bool {
        match self {
            Shell::Default { windows } => !windows,
            Shell::Set(words) => is_posix_shell(words),
        }
    }
}

/// One ENV or ARG setting of a variable.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The instruction that sets it; the value holds for the instructions after it.
    pub at: usize,
    pub from_arg: bool,
    /// Expanded as far as known; the parts that are not stay as written.
    pub value: String,
    /// Whether `value` is the value: no unknown variable in it, and not an ARG without default.
    pub known: bool,
}

/// Windows base images run RUN under cmd.exe.
fn looks_windows(image: &str) -> bool {
    let image = image.to_ascii_lowercase();
    image.contains("windows") || image.contains("nanoserver") || image.contains("servercore")
}

impl Model {
    pub fn new(file: &Dockerfile, settings: &Settings) -> Model {
        let count = file.instructions.len();
        let windows = file.escape == '`';
        let mut model = Model {
            stages: Vec::with_capacity(file.stages.len()),
            stage_of: vec![None; count],
            shell_at: vec![0; count],
            shells: vec![Shell::Default { windows }],
            dir_at: vec![0; count],
            dirs: vec![None],
            dir_set: vec![false],
            vars: HashMap::new(),
            meta: HashMap::new(),
            reads: Vec::new(),
            final_stage: None,
            escape: file.escape,
        };
        let first_from = file.stages.first().map_or(count, |s| s.from);
        for (at, inst) in file.instructions[..first_from].iter().enumerate().filter(|(_, i)| i.keyword == Keyword::Arg) {
            for word in split_words(inst.args_text(), file.escape) {
                let Some((name, raw)) = word.raw.split_once('=') else {
                    // `ARG NAME` keeps an earlier default.
                    model.meta.entry(word.raw.clone()).or_insert((Var::Unset, at));
                    continue;
                };
                // A default that cannot be expanded counts as no default: `${NAME:-x}` then gives x.
                let value = match model.expand_meta(raw) {
                    Expanded { text, unknown: None } => Var::Value(text),
                    _ => Var::Unset,
                };
                model.meta.insert(name.to_string(), (value, at));
            }
        }
        // The shell and working directory each stage ends with: `FROM <stage>` starts from them.
        let mut ends: Vec<(u32, u32)> = Vec::with_capacity(file.stages.len());
        for stage in &file.stages {
            let name = model.from_text(&stage.image).to_ascii_lowercase();
            let parent = file.stages[..stage.index].iter().rev().find(|s| s.name.as_deref() == Some(name.as_str())).map(|s| s.index);
            let (mut shell, mut dir) = match parent {
                Some(p) => ends[p],
                None => {
                    model.shells.push(Shell::Default { windows: windows || looks_windows(&stage.image) });
                    model.dirs.push(Some(Dir::image()));
                    model.dir_set.push(false);
                    (model.shells.len() as u32 - 1, model.dirs.len() as u32 - 1)
                }
            };
            model.stages.push(Stage { parent, first: stage.from, end: stage.instructions.end, ..Stage::default() });
            for index in stage.instructions.clone() {
                model.stage_of[index] = Some(stage.index);
                model.shell_at[index] = shell;
                model.dir_at[index] = dir;
                let inst = &file.instructions[index];
                match inst.keyword {
                    Keyword::Shell => {
                        model.shells.push(Shell::Set(inst.exec.clone().unwrap_or_default()));
                        shell = model.shells.len() as u32 - 1;
                    }
                    Keyword::Workdir => {
                        let path = model.expand(inst.args_text().trim(), index, Some(file.escape));
                        let next = match (&model.dirs[dir as usize], path.unknown) {
                            (Some(current), None) => current.join(&path.text),
                            _ => None,
                        };
                        model.dirs.push(next);
                        model.dir_set.push(true);
                        dir = model.dirs.len() as u32 - 1;
                    }
                    Keyword::Env | Keyword::Arg => model.bind(inst.keyword == Keyword::Arg, index, assignments(inst, file.escape)),
                    _ => {}
                }
            }
            ends.push((shell, dir));
            model.stages[stage.index].end_dir = dir;
        }
        model.reads = context::reads(file, &model);
        for read in &model.reads {
            if let (From::Stage(from), Some(stage)) = (read.from, model.stage_of[read.instruction]) {
                if !model.stages[stage].takes_from.contains(&from) {
                    model.stages[stage].takes_from.push(from);
                }
            }
        }
        let target = settings.config.target.as_deref().and_then(|name| model.stage_named(file, name, usize::MAX));
        model.final_stage = target.or(file.stages.len().checked_sub(1));
        model.mark_shipped();
        model
    }

    /// The FROM image as BuildKit resolves it: meta ARGs expanded, as written when that fails.
    pub fn from_text(&self, image: &str) -> String {
        let expanded = self.expand_meta(image);
        if expanded.unknown.is_none() {
            expanded.text
        } else {
            image.to_string()
        }
    }

    /// A word of a FROM line (or a meta ARG) with the meta ARGs expanded: one without a value
    /// (or not declared) is unset, so `${NAME:-x}` gives x and `$NAME` is not known.
    pub fn expand_meta(&self, word: &str) -> Expanded {
        expand(word, Some(self.escape), &|name| self.meta_var(name))
    }

    pub fn meta_var(&self, name: &str) -> Var {
        self.meta.get(name).map_or(Var::Unset, |(value, _)| value.clone())
    }

    /// The meta ARG `name` with a value: the value and the index of the ARG that gave it.
    pub fn meta_default(&self, name: &str) -> Option<(&str, usize)> {
        match self.meta.get(name)? {
            (Var::Value(value), at) => Some((value, *at)),
            _ => None,
        }
    }

    /// The stage a `--from` (or `target`) reference names, a name or an index, other than `own`.
    pub(super) fn stage_named(&self, file: &Dockerfile, reference: &str, own: usize) -> Option<usize> {
        let reference = reference.to_ascii_lowercase();
        if let Ok(index) = reference.parse::<usize>() {
            return (index < file.stages.len() && index != own).then_some(index);
        }
        file.stages.iter().find(|s| s.index != own && s.name.as_deref() == Some(reference.as_str())).map(|s| s.index)
    }

    fn bind(&mut self, from_arg: bool, at: usize, pairs: Vec<(String, Option<String>)>) {
        let mut bound = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            // Values see the variables as they were before the instruction (`ENV A=1 B=$A` gives B
            // the earlier A), as BuildKit expands them.
            let binding = match value {
                Some(raw) => {
                    let expanded = self.expand(&raw, at, None);
                    Binding { at, from_arg, known: expanded.unknown.is_none() && !from_arg, value: expanded.text }
                }
                // `ARG NAME` inside a stage takes the meta ARG's default, which --build-arg overrides.
                None => match self.meta_default(&name) {
                    Some((v, _)) if from_arg => Binding { at, from_arg, value: v.to_string(), known: false },
                    _ => Binding { at, from_arg, value: String::new(), known: false },
                },
            };
            bound.push((name, binding));
        }
        for (name, binding) in bound {
            self.vars.entry(name).or_default().push(binding);
        }
    }

    /// What sets variable `name` for instruction `at`: the last ENV or ARG (with a value, or one
    /// `--build-arg` could give) before it in its stage or a stage it is built on, as BuildKit keeps
    /// both in one environment that `FROM <stage>` inherits. `None`: nothing in this file (the base
    /// image may set it).
    pub fn binding(&self, name: &str, at: usize) -> Option<&Binding> {
        self.binding_in(name, self.stage_of(at)?, at)
    }

    /// What sets variable `name` after the last instruction of `stage`.
    pub fn final_binding(&self, name: &str, stage: usize) -> Option<&Binding> {
        self.binding_in(name, stage, self.stages.get(stage)?.end)
    }

    fn binding_in(&self, name: &str, stage: usize, at: usize) -> Option<&Binding> {
        let bindings = self.vars.get(name)?;
        let mut end = at;
        for stage in self.lineage(stage) {
            let last = bindings.partition_point(|b| b.at < end).checked_sub(1).map(|i| &bindings[i]);
            if let Some(binding) = last.filter(|b| b.at > self.stages[stage].first) {
                return Some(binding);
            }
            end = self.stages[stage].parent.map_or(0, |p| self.stages[p].end);
        }
        None
    }

    /// `text` with the variables in force at instruction `at` expanded (see `syntax::expand`;
    /// `escape` = a word as written, quotes removed). ARG values count as unknown: `--build-arg`
    /// may change them.
    pub fn expand(&self, text: &str, at: usize, escape: Option<char>) -> Expanded {
        let var = |name: &str| match self.binding(name, at) {
            Some(b) if b.known => Var::Value(b.value.clone()),
            _ => Var::Unknown,
        };
        expand(text, escape, &var)
    }

    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// The stage of instruction `index` (`None` before the first FROM).
    pub fn stage_of(&self, index: usize) -> Option<usize> {
        self.stage_of.get(index).copied().flatten()
    }

    /// The stage whose image is shipped: the configured `target`, else the last.
    pub fn final_stage(&self) -> Option<usize> {
        self.final_stage
    }

    /// `stage`, then the stage it is built on, and so on (a parent always comes earlier).
    pub fn lineage(&self, stage: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(stage), |&s| self.stages[s].parent)
    }

    /// Whether instruction `i` runs before instruction `index` in its image.
    pub fn is_earlier(&self, i: usize, index: usize) -> bool {
        let (Some(own), Some(other)) = (self.stage_of(index), self.stage_of(i)) else { return false };
        (own != other || i < index) && self.lineage(own).any(|s| s == other)
    }

    /// The instructions that ran before instruction `index` in its image, in order: those of the
    /// stages it is built on (FROM lines included), then its own stage's.
    pub fn earlier(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        (0..index).filter(move |&i| self.is_earlier(i, index))
    }

    /// The instructions after `index` in its image and in every stage built on its stage.
    pub fn later(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        (index + 1..self.stage_of.len()).filter(move |&j| self.is_earlier(index, j))
    }

    /// The SHELL in force at instruction `index`.
    pub fn shell(&self, index: usize) -> &Shell {
        &self.shells[self.shell_at.get(index).copied().unwrap_or(0) as usize]
    }

    /// The working directory at instruction `index`; `None` when it cannot be followed (a variable
    /// or `..` above the base image's unknown WORKDIR). Relative to the base image's WORKDIR
    /// (`Dir::image()`) until an absolute WORKDIR is set.
    pub fn workdir(&self, index: usize) -> Option<&Dir> {
        self.dirs[self.dir_at.get(index).copied().unwrap_or(0) as usize].as_ref()
    }

    /// Whether a WORKDIR of this file (in the stage or one it is built on) is in force at
    /// instruction `index`: a relative path then does not depend on the base image's.
    pub fn workdir_set(&self, index: usize) -> bool {
        self.dir_set[self.dir_at.get(index).copied().unwrap_or(0) as usize]
    }

    /// The working directory once instruction `index` has run (a WORKDIR changes it).
    pub fn workdir_after(&self, index: usize) -> Option<&Dir> {
        let stage = self.stage_of(index)?;
        if index + 1 < self.stages[stage].end {
            return self.workdir(index + 1);
        }
        self.dirs[self.stages[stage].end_dir as usize].as_ref()
    }

    /// What instructions take from the build context or other stages, in instruction order.
    pub fn reads(&self) -> &[Read] {
        &self.reads
    }

    /// The reads of instruction `index`: a COPY/ADD, or a RUN's mounts.
    pub fn reads_of(&self, index: usize) -> &[Read] {
        let start = self.reads.partition_point(|r| r.instruction < index);
        let end = self.reads.partition_point(|r| r.instruction <= index);
        &self.reads[start..end]
    }

    /// Whether instruction `index` takes the whole build context: `COPY . .`, `COPY .. /app`,
    /// `ADD ./. /srv`, `COPY * ./`, or a RUN bind-mounting the context's root.
    pub fn takes_whole_context(&self, index: usize) -> bool {
        self.reads_of(index).iter().any(Read::whole)
    }

    /// The stages `stage` takes anything from, itself included: through `FROM <stage>`,
    /// `COPY --from` and `RUN --mount=from`, transitively.
    pub fn reachable(&self, stage: usize) -> Vec<usize> {
        let mut seen = vec![stage];
        // Membership by stage, not a search of `seen` per edge (a long chain would cost its square).
        let mut known = vec![false; self.stages.len()];
        known[stage] = true;
        let mut next = 0;
        while let Some(&at) = seen.get(next) {
            for &to in self.stages[at].parent.iter().chain(&self.stages[at].takes_from) {
                if !std::mem::replace(&mut known[to], true) {
                    seen.push(to);
                }
            }
            next += 1;
        }
        seen
    }

    fn mark_shipped(&mut self) {
        let Some(last) = self.final_stage else { return };
        for stage in self.lineage(last).collect::<Vec<_>>() {
            self.stages[stage].in_final_image = true;
        }
        for stage in self.reachable(last) {
            self.stages[stage].ships = true;
        }
    }
}
