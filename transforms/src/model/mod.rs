//! The semantic layer: what the parsed Dockerfile means, computed once per pass and shared by
//! every transform (as ruff's `SemanticModel` or rust-analyzer's `hir` sit above their syntax).
//! A transform reads stages, shells, variables, paths and context reads here instead of deriving
//! them from the syntax itself.

pub mod matcher;
pub mod pragmas;
pub mod reference;

use std::ops::Range;
use std::sync::OnceLock;

use crate::settings::{Context, Settings};
use pragmas::Pragmas;
use crate::shell::{is_posix_shell, parse_script, Script};
use crate::syntax::{Dockerfile, Keyword};

/// What a transform sees: the parsed file and the world around it.
pub struct Input<'a> {
    pub file: &'a Dockerfile,
    pub context: &'a Context,
    pub settings: &'a Settings,
    /// One lazily parsed shell view per instruction, shared by every transform of a pass.
    shells: Vec<OnceLock<Option<RunShell>>>,
    /// Per instruction: whether the shell in effect there is POSIX (computed once per pass).
    posix: OnceLock<Vec<bool>>,
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
        Input { file, context, settings, shells, posix: OnceLock::new(), pragmas: OnceLock::new() }
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
        self.posix.get_or_init(|| self.posix_per_instruction()).get(index).copied().unwrap_or(false)
    }

    fn posix_per_instruction(&self) -> Vec<bool> {
        let mut out = vec![false; self.file.instructions.len()];
        // The shell in effect at the end of each stage: `FROM <stage>` inherits it.
        let mut stage_end: Vec<bool> = Vec::new();
        for stage in &self.file.stages {
            let mut posix = match self.file.parent_stage(stage) {
                Some(parent) => stage_end[parent.index],
                None => self.file.escape == '\\' && !looks_windows(&stage.image),
            };
            for i in stage.instructions.clone() {
                out[i] = posix;
                let inst = &self.file.instructions[i];
                if inst.keyword == Keyword::Shell {
                    posix = inst.exec.as_deref().is_some_and(is_posix_shell);
                }
            }
            stage_end.push(posix);
        }
        out
    }
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

/// Windows base images run RUN under cmd.exe.
pub(crate) fn looks_windows(image: &str) -> bool {
    let image = image.to_ascii_lowercase();
    image.contains("windows") || image.contains("nanoserver") || image.contains("servercore")
}
