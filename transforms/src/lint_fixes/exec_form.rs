//! CMD, ENTRYPOINT and HEALTHCHECK in shell form (hadolint DL3025, BuildKit's JSONArgsRecommended):
//! the program runs as a child of `/bin/sh -c`, which does not pass it the signals `docker stop`
//! sends. A literal command becomes the exec form; one that needs the shell gets the shell written
//! out (`["/bin/sh", "-c", "…"]`, what the shell form runs) with its last program run through `exec`,
//! or stays as it is when no single program can take the shell's place.

use std::ops::Range;

use crate::checks;
use crate::fix::{Edit, Finding, Fix};
use crate::model::{Input, Shell};
use crate::shell::{parse_script, CommandKind, ItemKind, Script};
use crate::syntax::{Instruction, Keyword, LineKind};

use super::json_string;

/// Shell builtins that also exist as programs, which do not always behave the same (dash's `echo`
/// reads backslash escapes, coreutils' does not; `echo -e`).
const BUILTIN_TWINS: &[&str] = &["echo", "printf", "pwd", "kill", "true", "false", "test", "["];

/// Programs that exist only inside a shell: the exec form cannot run them.
const SHELL_ONLY: &[&str] = &[
    "cd", "export", "source", ".", "set", "unset", "ulimit", "umask", "eval", "trap", "wait", "read", "shift",
    "alias", "type", "command", "hash", "local", "return", "exit", "[[", "if", "for", "while", "until", "case",
    "{", "(", "!", "function", "declare", "typeset", "readonly", "builtin", "shopt", "trap", "times",
];

const WHY: &str = "the exec form (`[\"program\", \"arg\"]`) runs the program itself (hadolint DL3025, BuildKit's JSONArgsRecommended)";

pub(super) fn check(input: &Input) -> Vec<Finding> {
    let file = input.file;
    let mut findings = Vec::new();
    for (index, inst) in file.instructions.iter().enumerate() {
        if inst.sub.is_some() || inst.exec.is_some() || !matches!(inst.keyword, Keyword::Cmd | Keyword::Entrypoint | Keyword::Healthcheck) {
            continue;
        }
        let Some(command) = command_range(inst) else { continue };
        let keyword = if inst.keyword == Keyword::Healthcheck { "HEALTHCHECK CMD" } else { inst.keyword.as_str() };
        let range = inst.logical.source_range(command.clone());
        let message = if inst.keyword == Keyword::Healthcheck {
            format!("`{keyword}` in shell form: the check runs under `/bin/sh -c`")
        } else {
            format!("`{keyword}` in shell form: the program runs under `/bin/sh -c`, which does not pass it the signals `docker stop` sends")
        };
        let finding = Finding::new(&checks::LINT_FIXES_EXEC_FORM, range.clone(), message).with_why(WHY);
        findings.push(match rewrite(input, index, inst, &inst.logical.text[command.clone()]) {
            Ok(rewrite) => {
                let array = format!("[{}]", rewrite.words.iter().map(|w| json_string(w)).collect::<Vec<_>>().join(", "));
                let edit = Edit::replace(range, render(input, inst, command.start, &rewrite));
                let title = format!("Write `{keyword} {array}`");
                match rewrite.note {
                    None => finding.with_fix(Fix::safe(title, vec![edit])),
                    Some(note) => finding.with_why(format!("{WHY}. Unsafe: {note}")).with_fix(Fix::unsafe_(title, vec![edit])),
                }
            }
            Err(reason) => finding.with_why(reason),
        });
    }
    findings
}

/// The logical range of the command: the arguments, or for HEALTHCHECK what follows `CMD`.
fn command_range(inst: &Instruction) -> Option<Range<usize>> {
    let args = inst.args.clone();
    if inst.keyword != Keyword::Healthcheck {
        return (!args.is_empty()).then_some(args);
    }
    let text = &inst.logical.text[args.clone()];
    let kind_len = text.find(char::is_whitespace)?;
    if !text[..kind_len].eq_ignore_ascii_case("cmd") {
        return None;
    }
    let rest = &text[kind_len..];
    let start = args.start + kind_len + (rest.len() - rest.trim_start().len());
    (start < args.end).then_some(start..args.end)
}

/// The exec form of a command: its array's elements, where they come from in the command's text,
/// and why it is Unsafe (`None`: Safe).
struct Rewrite {
    words: Vec<String>,
    layout: Layout,
    note: Option<String>,
}

enum Layout {
    /// Each element is a word of the command: these ranges of its text.
    Words(Vec<Range<usize>>),
    /// The shell's `words` first, then the whole command text (`len` bytes), with `exec `
    /// inserted at offset `exec_at`.
    Shell { words: usize, len: usize, exec_at: Option<usize> },
}

/// The exec form, or why there is none. A literal command becomes the program's own words; one
/// that needs the shell becomes the shell's words in full (what the shell form runs), its last
/// command run through `exec` so that it replaces the shell.
fn rewrite(input: &Input, index: usize, inst: &Instruction, text: &str) -> Result<Rewrite, String> {
    if !input.posix_shell_at(index) {
        return Err("the shell in force is not a POSIX shell (a Windows image or a SHELL): write the exec form by hand".into());
    }
    if inst.lines.iter().any(|l| l.kind != LineKind::Content) {
        return Err("a comment or empty line sits inside the instruction: rewrite it by hand so nothing is lost".into());
    }
    if text.starts_with('[') {
        return Err("the arguments look like a JSON array but are not valid JSON, so BuildKit runs them as a shell command: fix the JSON".into());
    }
    let script = parse_script(text);
    match literal_words(&script) {
        Ok(words) => exec_form(input, index, inst, words).or_else(|_| explicit_shell(input, index, inst, text, &script)),
        Err(_) => explicit_shell(input, index, inst, text, &script),
    }
}

/// `["program", "arg", …]` for a literal command.
fn exec_form(input: &Input, index: usize, inst: &Instruction, mut literal: Vec<(String, Range<usize>)>) -> Result<Rewrite, String> {
    let execs = literal.first().is_some_and(|(w, _)| w == "exec");
    if execs {
        literal.remove(0);
        if literal.first().is_none_or(|(w, _)| w.starts_with('-')) {
            return Err("`exec` with options needs the shell".into());
        }
    }
    let (words, ranges): (Vec<String>, Vec<Range<usize>>) = literal.into_iter().unzip();
    let program = &words[0];
    if SHELL_ONLY.contains(&program.as_str()) || program.contains('=') {
        return Err(format!("`{program}` is part of the shell, not a program the exec form can run"));
    }
    if BUILTIN_TWINS.contains(&program.as_str()) && words[1..].iter().any(|w| w.starts_with('-')) {
        return Err(format!("`{program}` with options: the shell's builtin and the program of that name read them differently"));
    }
    let note = match inst.keyword {
        Keyword::Healthcheck => None,
        Keyword::Cmd if execs => None,
        Keyword::Cmd => Some(format!("`{program}` {PID_1} {SIGNALS}")),
        _ => {
            if let Some(cmd) = cmd_in_scope(input, index) {
                return Err(format!("a CMD in this stage or a stage built on it (line {cmd}) would become the exec form's arguments, which the shell form ignores"));
            }
            Some(format!("`{program}` {PID_1} {SIGNALS}; the arguments of `docker run IMAGE …` (ignored by the shell form) are now passed to it"))
        }
    };
    Ok(Rewrite { words, layout: Layout::Words(ranges), note })
}

const PID_1: &str = "becomes PID 1 instead of a child of the shell: it";
const SIGNALS: &str = "now receives SIGTERM from `docker stop` (and must handle it, or the container is killed after the timeout) and must reap the child processes it starts";

/// `["/bin/sh", "-c", "… && exec program …"]`: what the shell form runs, written out, with the
/// last command run through `exec`. Arguments given to an ENTRYPOINT are still the shell's `$0…`.
fn explicit_shell(input: &Input, index: usize, inst: &Instruction, text: &str, script: &Script) -> Result<Rewrite, String> {
    let words = match input.model().shell(index) {
        Shell::Set(words) => words.clone(),
        Shell::Default { .. } => vec!["/bin/sh".to_string(), "-c".to_string()],
    };
    if script.has_errors() || script.has_heredoc() || !script.comments().is_empty() {
        return Err("the command uses shell syntax that cannot be read here: keep the shell form".into());
    }
    let shell_words = words.len();
    let written = |mut words: Vec<String>, exec_at: Option<usize>, note: Option<String>| {
        let mut command = text.to_string();
        if let Some(at) = exec_at {
            command.insert_str(at, "exec ");
        }
        words.push(command);
        Ok(Rewrite { words, layout: Layout::Shell { words: shell_words, len: text.len(), exec_at }, note })
    };
    if inst.keyword == Keyword::Healthcheck {
        // No process to signal: the shell stays as it is.
        return written(words, None, None);
    }
    let steps = script.top_level();
    if steps.iter().any(|s| s.background) {
        return Err("the command starts a program in the background (`&`): which one should receive the signals is for you to say".into());
    }
    let last = steps.last().and_then(|s| s.items.last()).ok_or("the command is empty")?;
    if last.kind != ItemKind::Simple || last.negated {
        return Err("the command ends with a pipeline or a shell construct: no single program can take the shell's place".into());
    }
    // The item's own command, not those of its `$(…)` arguments.
    let outer: Vec<&crate::shell::Command> = last.command_indices.iter().map(|&i| &script.commands()[i]).filter(|c| !c.in_substitution).collect();
    let [command] = outer[..] else { return Err("the command ends with a shell construct".into()) };
    if command.kind != CommandKind::Simple || !command.assignments.is_empty() {
        return Err("the last command sets variables for itself (`NAME=value program`): `exec` would not pass them on in every shell".into());
    }
    let name = command.words.first().and_then(|w| w.literal.as_deref()).ok_or("the last command's name is not literal")?;
    if name == "exec" {
        return written(words, None, None);
    }
    if SHELL_ONLY.contains(&name) {
        return Err(format!("the last command, `{name}`, is part of the shell: nothing can take the shell's place"));
    }
    if BUILTIN_TWINS.contains(&name) {
        return Err(format!("the last command, `{name}`, is a shell builtin: `exec` would run the program of that name, which may behave differently"));
    }
    let note = format!("`{name}`, the last command, now replaces the shell (`exec`): it {SIGNALS}");
    written(words, Some(command.words[0].range.start), Some(note))
}

/// The command's words when the script is one simple command of static words, nothing the shell
/// would expand, redirect or chain.
fn literal_words(script: &Script) -> Result<Vec<(String, Range<usize>)>, String> {
    let needs_shell = |what: &str| Err(format!("{what}: the exec form runs no shell, so it stays in shell form"));
    if script.has_errors() || !script.comments().is_empty() || script.has_heredoc() {
        return needs_shell("the command uses shell syntax");
    }
    let [step] = script.top_level() else { return needs_shell("the command runs several commands") };
    if step.background || step.items.len() != 1 {
        return needs_shell("the command chains commands (`&&`, `||`, `&`)");
    }
    let item = &step.items[0];
    match item.kind {
        ItemKind::Simple if !item.negated => {}
        ItemKind::Pipeline => return needs_shell("the command is a pipeline"),
        _ => return needs_shell("the command is a shell construct"),
    }
    let [command] = script.commands() else { return needs_shell("the command runs several commands") };
    if command.kind != CommandKind::Simple || !command.assignments.is_empty() {
        return needs_shell("the command sets variables for itself (`NAME=value program`)");
    }
    if !command.redirects.is_empty() {
        return needs_shell("the command redirects its input or output");
    }
    let mut words = Vec::with_capacity(command.words.len());
    for word in &command.words {
        match &word.literal {
            Some(value) if value.contains('\\') => return needs_shell(&format!("`{}` holds a backslash, which `echo` and the shell treat differently", word.raw)),
            Some(value) => words.push((value.clone(), word.range.clone())),
            None => return needs_shell(&format!("`{}` is expanded by the shell", word.raw)),
        }
    }
    if words.is_empty() {
        return needs_shell("the command is empty");
    }
    Ok(words)
}

/// The line of a CMD in the stage of ENTRYPOINT `index`, or in a stage built on it.
fn cmd_in_scope(input: &Input, index: usize) -> Option<usize> {
    let file = input.file;
    let model = input.model();
    let stage = model.stage_of(index)?;
    (file.stages[stage].instructions.start..index)
        .chain(model.later(index))
        .map(|i| &file.instructions[i])
        .find(|i| i.keyword == Keyword::Cmd && i.sub.is_none())
        .map(|i| i.start_line)
}

/// The JSON array as source text, keeping the command's line breaks: a continuation between two
/// words, or inside the shell's command string, stays where it was (BuildKit joins the lines before
/// it reads the JSON). `start`: the command's logical offset.
fn render(input: &Input, inst: &Instruction, start: usize, rewrite: &Rewrite) -> String {
    let source = &input.file.source;
    let to_source = |logical: usize| inst.logical.to_source(start + logical);
    let mut out = String::from("[");
    match &rewrite.layout {
        Layout::Words(ranges) => {
            for (i, (word, range)) in rewrite.words.iter().zip(ranges).enumerate() {
                if i > 0 {
                    let between = &source[to_source(ranges[i - 1].end - 1) + 1..to_source(range.start)];
                    out.push_str(if between.contains('\n') { "," } else { ", " });
                    if between.contains('\n') {
                        out.push_str(between);
                    }
                }
                out.push_str(&json_string(word));
            }
        }
        Layout::Shell { words, len, exec_at } => {
            for word in &rewrite.words[..*words] {
                out.push_str(&json_string(word));
                out.push_str(", ");
            }
            out.push('"');
            let range = inst.logical.source_range(start..start + len);
            let exec_at = exec_at.map(|at| to_source(at));
            let mut chars = source[range.clone()].char_indices().peekable();
            while let Some((at, c)) = chars.next() {
                if exec_at == Some(range.start + at) {
                    out.push_str("exec ");
                }
                match c {
                    '\\' if is_continuation(&source[range.start + at + 1..]) => {
                        // Kept as written: BuildKit removes it (and the line break) before the JSON.
                        out.push(c);
                        while let Some(&(_, next)) = chars.peek() {
                            out.push(next);
                            chars.next();
                            if next == '\n' {
                                break;
                            }
                        }
                    }
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
    }
    out.push(']');
    out
}

/// Whether `rest` (after an escape character) ends the line: blanks, then a line break.
fn is_continuation(rest: &str) -> bool {
    let rest = rest.trim_start_matches([' ', '\t']);
    rest.starts_with('\n') || rest.starts_with("\r\n")
}
