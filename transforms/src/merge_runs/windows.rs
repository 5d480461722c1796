//! Consecutive RUNs under cmd.exe or PowerShell (Windows images). There is no shell parser for
//! these, so the rules are narrow and textual, and every such merge is Unsafe:
//!
//! - cmd: `a` then `b` becomes `a && b` (cmd runs `b` only when `a` succeeded, like two RUNs). Not
//!   when a later script has `%VAR%` (cmd expands the whole line before running any of it), and not
//!   when an earlier one changes what a later one sees (`set`, `setx`, `cd`, `pushd`), ends early
//!   (`exit`, `goto`), or would swallow what follows (`if`, `for`, `rem`, `::`, a trailing `^`).
//! - PowerShell, only with `$ErrorActionPreference = 'Stop'` in the SHELL (a failing cmdlet then
//!   ends the script, as it ended its RUN): `a; b`. Not when an earlier script ends with a native
//!   program (its failure would no longer stop the build), changes location or `$env:`, exits, or
//!   sets a variable a later script reads.

use crate::fix::{Edit, Finding, Fix};
use crate::model::{Input, Shell};
use crate::syntax::{Dockerfile, Instruction, ItemKind, Keyword, Stage};

use super::stage_note;
use crate::checks;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interpreter {
    Posix,
    Cmd,
    /// `stop`: `$ErrorActionPreference = 'Stop'` is set by the SHELL's arguments.
    PowerShell { stop: bool },
    Other,
}

/// How the shell in force runs a RUN.
fn interpreter(shell: &Shell) -> Interpreter {
    let exec = match shell {
        Shell::Default { windows } => return if *windows { Interpreter::Cmd } else { Interpreter::Posix },
        Shell::Set(exec) => exec,
    };
    let Some(program) = exec.first() else { return Interpreter::Other };
    let name = program.rsplit(['/', '\\']).next().unwrap_or(program).to_ascii_lowercase();
    match name.strip_suffix(".exe").unwrap_or(&name) {
        "cmd" => Interpreter::Cmd,
        "powershell" | "pwsh" => {
            let args = exec[1..].join(" ").to_ascii_lowercase().replace(['"', '\''], "");
            let stop = args.replace(' ', "").contains("$erroractionpreference=stop");
            Interpreter::PowerShell { stop }
        }
        _ if shell.is_posix() => Interpreter::Posix,
        _ => Interpreter::Other,
    }
}

/// The merge findings of one stage's Windows RUNs.
pub(super) fn findings(input: &Input, stage: &Stage, in_image: bool) -> Vec<Finding> {
    let (file, model) = (input.file, input.model());
    let mut findings = Vec::new();
    let mut group: Vec<&Instruction> = Vec::new();
    // The interpreter of the group's RUNs.
    let mut shell = Interpreter::Other;
    for index in stage.instructions.clone() {
        let inst = &file.instructions[index];
        let here = interpreter(model.shell(index));
        let joins = inst.keyword == Keyword::Run
            && matches!(here, Interpreter::Cmd | Interpreter::PowerShell { stop: true })
            && inst.exec.is_none()
            && inst.heredocs.is_empty()
            && inst.flags.is_empty()
            && !input.posix_shell_at(index);
        if !joins {
            findings.extend(merge(file, &group, shell, in_image));
            group.clear();
            continue;
        }
        if let Some(prev) = group.last() {
            if !adjacent(file, prev, inst) || junction(&group, inst, shell).is_err() {
                findings.extend(merge(file, &group, shell, in_image));
                group.clear();
            }
        }
        shell = here;
        group.push(inst);
    }
    findings.extend(merge(file, &group, shell, in_image));
    findings
}

/// No comment or blank line between the two RUNs.
fn adjacent(file: &Dockerfile, a: &Instruction, b: &Instruction) -> bool {
    !file.items.iter().any(|item| {
        matches!(item.kind, ItemKind::Comment | ItemKind::Blank | ItemKind::Directive(_))
            && item.span.start >= a.span.end
            && item.span.end <= b.span.start
    })
}

/// The script of a RUN as the shell gets it: continuations joined.
fn script(inst: &Instruction) -> &str {
    inst.args_text().trim()
}

/// Words of a script, lower-cased, split on whitespace and cmd/PowerShell separators.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '&' | '|' | ';' | '(' | ')' | '{' | '}'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Whether `next` may follow the group's scripts.
fn junction(group: &[&Instruction], next: &Instruction, shell: Interpreter) -> Result<(), String> {
    let prev = script(group.last().ok_or_else(String::new)?);
    match shell {
        Interpreter::Cmd => cmd_junction(prev, script(next)),
        Interpreter::PowerShell { .. } => {
            let earlier: Vec<&str> = group.iter().map(|i| script(i)).collect();
            powershell_junction(&earlier, script(next))
        }
        _ => Err("not a Windows shell".into()),
    }
}

fn cmd_junction(prev: &str, next: &str) -> Result<(), String> {
    if next.contains('%') {
        return Err("cmd expands `%VAR%` in the whole line before running any of it".into());
    }
    let prev_words = words(prev);
    let leaks = ["set", "setx", "cd", "chdir", "pushd", "popd", "exit", "goto", "if", "for", "rem", "endlocal", "setlocal"];
    if let Some(word) = prev_words.iter().find(|w| leaks.contains(&w.as_str()) || w.starts_with("::")) {
        return Err(format!("the RUN before it runs `{word}`, which would change or cut short what follows"));
    }
    if prev.ends_with('^') || words(next).first().is_some_and(|w| w == "rem") {
        return Err("a `^` or `rem` would take in the joined text".into());
    }
    Ok(())
}

fn powershell_junction(earlier: &[&str], next: &str) -> Result<(), String> {
    let prev = earlier.last().copied().unwrap_or_default();
    let prev_words = words(prev);
    let leaks = ["exit", "return", "break", "continue", "trap", "cd", "chdir", "sl", "set-location", "push-location", "pushd", "pop-location", "popd"];
    if let Some(word) = prev_words.iter().find(|w| leaks.contains(&w.as_str())) {
        return Err(format!("the RUN before it runs `{word}`, which would change or cut short what follows"));
    }
    if prev.to_ascii_lowercase().contains("$env:") && has_assignment(prev, "$env:") {
        return Err("the RUN before it sets an environment variable, which the next would see".into());
    }
    for text in earlier {
        for name in assigned_variables(text) {
            if next.to_ascii_lowercase().contains(&name) {
                return Err(format!("it reads `{name}`, which an earlier RUN sets"));
            }
        }
    }
    let last = last_statement(prev);
    let first_word = last.split_whitespace().next().unwrap_or_default();
    let cmdlet = first_word.split_once('-').is_some_and(|(verb, noun)| {
        verb.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && verb.chars().all(|c| c.is_ascii_alphabetic())
            && !noun.is_empty()
            && noun.chars().all(|c| c.is_ascii_alphanumeric())
    });
    let statement = first_word.eq_ignore_ascii_case("if") || first_word.starts_with("if(") || first_word.starts_with('$');
    if !cmdlet && !statement {
        return Err(format!("the RUN before it ends with `{first_word}`: if that program failed, the merged script would go on"));
    }
    Ok(())
}

/// The last `;`-separated statement, outside quotes, parentheses and braces.
fn last_statement(text: &str) -> &str {
    let (mut depth, mut quote, mut start) = (0i32, None, 0);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '{') => depth += 1,
            (None, ')' | '}') => depth -= 1,
            (None, ';') if depth == 0 && !text[i + 1..].trim().is_empty() => start = i + 1,
            _ => {}
        }
    }
    text[start..].trim().trim_end_matches(';').trim()
}

fn has_assignment(text: &str, prefix: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.match_indices(prefix).any(|(at, _)| {
        let rest = &lower[at + prefix.len()..];
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_').trim_start();
        rest.starts_with('=') && !rest.starts_with("==") || rest.starts_with("+=")
    })
}

/// `$name` of `$name = …` / `$name += …` (lower-cased), not `$env:`.
fn assigned_variables(text: &str) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut names = Vec::new();
    for (at, _) in lower.match_indices('$') {
        let rest = &lower[at + 1..];
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if name.is_empty() || rest[name.len()..].starts_with(':') {
            continue;
        }
        let after = rest[name.len()..].trim_start();
        if (after.starts_with('=') && !after.starts_with("==")) || after.starts_with("+=") {
            names.push(format!("${name}"));
        }
    }
    names
}

/// One Unsafe finding chaining the group's RUNs.
fn merge(file: &Dockerfile, group: &[&Instruction], shell: Interpreter, in_image: bool) -> Option<Finding> {
    if group.len() < 2 {
        return None;
    }
    let escape = file.escape;
    let indent = "    ";
    let mut edits = Vec::new();
    for pair in group.windows(2) {
        let (prev, next) = (pair[0], pair[1]);
        let between = prev.args_source_range().end..next.args_source_range().start;
        let newline = if file.source[between.clone()].starts_with("\r\n") { "\r\n" } else { "\n" };
        let joiner = match shell {
            Interpreter::Cmd => format!(" {escape}{newline}{indent}&& "),
            _ if script(prev).ends_with(';') => format!(" {escape}{newline}{indent}"),
            _ => format!(" ; {escape}{newline}{indent}"),
        };
        edits.push(Edit::replace(between, joiner));
    }
    let (first, last) = (group[0], group[group.len() - 1]);
    let (name, join) = match shell {
        Interpreter::Cmd => ("cmd", "`&&`"),
        _ => ("PowerShell", "`;`"),
    };
    let why = format!(
        "each RUN adds a layer, and Windows layers are large (hadolint DL3059){}. Unsafe: no {name} parser checks the scripts; the merge follows textual rules (see `dockopt explain merge-runs`)",
        stage_note(in_image)
    );
    Some(
        Finding::new(&checks::MERGE_RUNS_CONSECUTIVE, first.keyword_span.start..last.head_range().end, format!("{} consecutive RUN instructions can be one", group.len()))
            .with_why(why)
            .with_fix(Fix::unsafe_(format!("Merge them into one RUN with {join}"), edits)),
    )
}
