//! What a Dockerfile takes from its build context: the paths COPY/ADD and RUN bind mounts name,
//! the instructions that take all of it (`COPY . .`), the commands its RUNs run, and the names
//! it mentions anywhere.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};

use super::templates::CommandSpec;
use crate::model::{From, Input};
use crate::shell::{is_posix_shell, parse_script, Script};
use crate::syntax::{split_words, Instruction, Keyword};

/// How deep `sh -c '…'` inside a RUN is followed.
const MAX_INLINE_DEPTH: usize = 3;

pub(crate) struct Usage {
    /// Instructions that take the whole context: `COPY . .`, `ADD . /app`, `COPY * ./`, or a RUN
    /// bind-mounting the context root. In source order.
    pub whole: Vec<Use>,
    /// Paths named explicitly (cleaned, relative to the context root; globs kept as globs).
    pub sources: Vec<Source>,
    runs: Vec<RunCommands>,
    /// Per stage: the stages whose RUNs shaped it (itself, the stage it is built on, the stages it
    /// copies or mounts from, transitively).
    /// Per stage: the stages it takes anything from directly (`FROM <stage>`, `COPY --from`,
    /// `RUN --mount=from`); its lineage is what they reach, itself included.
    takes: Vec<Vec<usize>>,
    /// Every path component the Dockerfile mentions (RUN, CMD, ENV, COPY arguments, heredocs).
    mentions: HashSet<String>,
}

/// An instruction that uses the context.
#[derive(Debug, Clone)]
pub(crate) struct Use {
    pub instruction: usize,
    pub stage: usize,
    /// The instruction as a short one-line quote: `COPY . .`.
    pub quote: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub path: String,
    /// A wildcard, or a variable (read as `*`): matches listing paths rather than naming one.
    pub glob: bool,
    pub by: Use,
}

struct RunCommands {
    stage: usize,
    scripts: Vec<Script>,
    /// Text no shell view covers (exec form of an unknown program, PowerShell, a heredoc fed to
    /// python): searched for program names, never taken as proof that something ran.
    opaque: Option<String>,
}

impl Usage {
    pub fn new(input: &Input) -> Usage {
        let (file, model) = (input.file, input.model());
        let mut usage = Usage { whole: Vec::new(), sources: Vec::new(), runs: Vec::new(), takes: Vec::new(), mentions: HashSet::new() };
        for stage in &file.stages {
            for index in stage.instructions.clone() {
                let inst = &file.instructions[index];
                usage.mention(inst, input);
                if inst.keyword == Keyword::Run {
                    usage.runs.push(run_commands(input, index, stage.index));
                }
            }
        }
        for read in model.reads().iter().filter(|r| r.from == From::Context) {
            let Some(stage) = model.stage_of(read.instruction) else { continue };
            let by = Use { instruction: read.instruction, stage, quote: quote(&file.instructions[read.instruction]) };
            for source in &read.sources {
                // Variables as wildcards even where the Dockerfile sets them: the proposal stays
                // safe when they change.
                if source.is_root() {
                    usage.whole.push(by.clone());
                }
                match &source.written {
                    Some(pattern) => usage.sources.push(Source { path: pattern.clone(), glob: true, by: by.clone() }),
                    None if !source.is_root() => usage.sources.push(Source { path: source.path.clone(), glob: source.glob, by: by.clone() }),
                    None => {}
                }
            }
        }
        usage.takes = model.stages().iter().map(|s| s.parent.iter().chain(&s.takes_from).copied().collect()).collect();
        usage
    }

    fn mention(&mut self, inst: &Instruction, input: &Input) {
        if matches!(
            inst.keyword,
            Keyword::From | Keyword::Label | Keyword::Maintainer | Keyword::Expose | Keyword::User | Keyword::Stopsignal | Keyword::Unknown
        ) {
            return;
        }
        let mut text = Cow::Borrowed(inst.args_text());
        for heredoc in &inst.heredocs {
            let text = text.to_mut();
            text.push('\n');
            text.push_str(input.file.text(heredoc.body.clone()));
        }
        let separators = |c: char| {
            c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ';' | '|' | '&' | '(' | ')' | '<' | '>' | '=' | ',' | ':' | '[' | ']' | '{' | '}')
        };
        for token in text.split(separators) {
            for component in token.split('/') {
                // Most names recur (every RUN says `apt-get`): look before allocating.
                if !matches!(component, "" | "." | "..") && !self.mentions.contains(component) {
                    self.mentions.insert(component.to_string());
                }
            }
        }
    }

    /// Whether the Dockerfile mentions `name` (a file or directory name) anywhere.
    pub fn mentions(&self, name: &str) -> bool {
        self.mentions.contains(name)
    }

    /// The first RUN command that reads per `read_by` (and is not one of `except`), as a short quote.
    pub fn reader(&self, read_by: &[CommandSpec], except: &[CommandSpec]) -> Option<String> {
        if read_by.is_empty() {
            return None;
        }
        for run in &self.runs {
            for script in &run.scripts {
                for command in script.commands() {
                    let view = command.effective();
                    if read_by.iter().any(|s| s.matches(view)) && !except.iter().any(|s| s.matches(view)) {
                        let words: Vec<&str> = view.words().iter().take(3).map(|w| w.raw.as_str()).collect();
                        return Some(words.join(" "));
                    }
                }
            }
            if let Some(text) = &run.opaque {
                if let Some(spec) = read_by.iter().find(|s| contains_word(text, &s.program)) {
                    return Some(spec.program.clone());
                }
            }
        }
        None
    }

    /// Whether the build recreates what `specs` recreate, wherever the context could bring a copy:
    /// every stage that takes the whole context must run one of them (itself, or a stage it builds
    /// on or copies from); when none takes it, some RUN must (a `build/` no RUN makes may be
    /// sources, and the .dockerignore outlives this Dockerfile). `Ok` with the first matching
    /// command, or `Err` with the stage that lacks one (`None`: no RUN at all).
    pub fn regenerated(&self, specs: &[CommandSpec]) -> Result<Option<String>, Option<usize>> {
        if specs.is_empty() {
            return Ok(None);
        }
        let describe = |run: &RunCommands| {
            run.scripts
                .iter()
                .flat_map(|script| script.commands())
                .find_map(|command| specs.iter().find(|s| s.matches(command.effective())).map(|s| s.describe(command.effective())))
        };
        let stages: BTreeSet<usize> = self.whole.iter().map(|u| u.stage).collect();
        if stages.is_empty() {
            return self.runs.iter().find_map(describe).map(Some).ok_or(None);
        }
        // Each RUN is asked once; a stage's lineage is searched through the graph, not per stage
        // over every RUN (a file of many stages would cost their square or worse).
        let described: Vec<Option<String>> = self.runs.iter().map(describe).collect();
        let mut runs_one = vec![false; self.takes.len()];
        for (run, found) in self.runs.iter().zip(&described) {
            if let (Some(slot), Some(_)) = (runs_one.get_mut(run.stage), found) {
                *slot = true;
            }
        }
        let regenerates = reaching(&self.takes, &runs_one);
        let mut shown = None;
        for stage in stages {
            if !regenerates.get(stage).copied().unwrap_or(false) {
                return Err(Some(stage));
            }
            if shown.is_none() {
                let lineage = reached(&self.takes, stage);
                let in_lineage = |run: &RunCommands| lineage.get(run.stage).copied().unwrap_or(false);
                let first = self.runs.iter().zip(&described).find(|(run, found)| in_lineage(run) && found.is_some());
                shown = first.and_then(|(_, found)| found.clone());
            }
        }
        Ok(shown)
    }
}

/// The stages `start` reaches through `takes`, itself included, as a membership list.
fn reached(takes: &[Vec<usize>], start: usize) -> Vec<bool> {
    let mut seen = vec![false; takes.len()];
    let mut todo = vec![start];
    while let Some(stage) = todo.pop() {
        match seen.get_mut(stage) {
            Some(done) if !*done => *done = true,
            _ => continue,
        }
        todo.extend(takes[stage].iter().copied());
    }
    seen
}

/// Per stage: whether it reaches (through `takes`, itself included) a stage marked in `targets`.
fn reaching(takes: &[Vec<usize>], targets: &[bool]) -> Vec<bool> {
    let mut taken_by: Vec<Vec<usize>> = vec![Vec::new(); takes.len()];
    for (stage, from) in takes.iter().enumerate() {
        for &other in from {
            if let Some(back) = taken_by.get_mut(other) {
                back.push(stage);
            }
        }
    }
    let mut reached = vec![false; takes.len()];
    let mut todo: Vec<usize> = targets.iter().enumerate().filter(|(_, t)| **t).map(|(s, _)| s).collect();
    while let Some(stage) = todo.pop() {
        if std::mem::replace(&mut reached[stage], true) {
            continue;
        }
        todo.extend(taken_by[stage].iter().copied());
    }
    reached
}

/// The shell scripts a RUN runs, as far as they can be read.
fn run_commands(input: &Input, index: usize, stage: usize) -> RunCommands {
    let inst = &input.file.instructions[index];
    let mut scripts = Vec::new();
    let mut opaque = None;
    let full_text = || {
        let mut text = inst.logical.text.clone();
        for heredoc in &inst.heredocs {
            text.push('\n');
            text.push_str(input.file.text(heredoc.body.clone()));
        }
        text
    };
    // The model's view, shared with the other transforms: also the body of a `RUN <<EOF` that is
    // the whole command.
    if let Some(shell) = input.script(index) {
        scripts.push(shell.script.clone());
    } else if !input.posix_shell_at(index) {
        opaque = Some(full_text());
    } else if let Some(exec) = &inst.exec {
        scripts.push(parse_script(&shell_join(exec)));
    } else {
        scripts.push(parse_script(inst.args_text()));
        // `RUN <<EOF` feeds the body to the RUN's shell; `RUN bash <<EOF` to a named one.
        let first = split_words(inst.args_text(), input.file.escape).into_iter().next().map(|w| w.raw);
        let body_is_shell = first.as_deref().is_some_and(|w| w.starts_with("<<") || is_posix_shell(&[w.to_string()]));
        for heredoc in &inst.heredocs {
            let body = input.file.text(heredoc.body.clone());
            if body_is_shell {
                scripts.push(parse_script(body));
            } else {
                opaque.get_or_insert_with(String::new).push_str(body);
            }
        }
    }
    // `sh -c '…'` runs a script of its own.
    let mut start = 0;
    for _ in 0..MAX_INLINE_DEPTH {
        let end = scripts.len();
        let inner: Vec<Script> = scripts[start..end]
            .iter()
            .flat_map(|s| s.commands())
            .filter_map(|c| c.effective().inline_script()?.literal.as_deref().map(parse_script))
            .collect();
        if inner.is_empty() {
            break;
        }
        scripts.extend(inner);
        start = end;
    }
    RunCommands { stage, scripts, opaque }
}

/// Exec-form words as one shell command line.
fn shell_join(words: &[String]) -> String {
    words.iter().map(|w| format!("'{}'", w.replace('\'', r"'\''"))).collect::<Vec<_>>().join(" ")
}

/// Whether `word` appears in `text` as a word of its own (case-insensitive).
fn contains_word(text: &str, word: &str) -> bool {
    let text = text.to_ascii_lowercase();
    let word = word.to_ascii_lowercase();
    let is_word_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    text.match_indices(&word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}

/// An instruction as a short one-line quote for messages.
fn quote(inst: &Instruction) -> String {
    let text = inst.logical.text.split_whitespace().collect::<Vec<_>>().join(" ");
    const MAX: usize = 48;
    if text.chars().count() <= MAX {
        text
    } else {
        let cut: String = text.chars().take(MAX - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert!(contains_word("RUN git describe", "git"));
        assert!(!contains_word("RUN digit", "git"));
        assert!(!contains_word("gitlab-runner", "git"));
    }
}
