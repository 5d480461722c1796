//! What a stage asks of its base image: the tools its RUNs (and its HEALTHCHECK/CMD/ENTRYPOINT)
//! run, the build steps that need a compiler, and the packages it installs itself.

use std::collections::BTreeSet;

use super::knowledge::{knowledge, Family};
use crate::model::Input;
use crate::shell::{parse_script, Script, ShellWord};
use crate::syntax::Keyword;

/// One need: a tool, and what in the stage needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Need {
    pub tool: String,
    /// e.g. "`curl` (line 5)" or "`pip install psycopg2` (line 7)".
    pub because: String,
    /// Why that step needs the tool, when it does not run it by name.
    pub why: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct StageNeeds {
    pub needs: Vec<Need>,
    /// Tools provided by packages the stage installs with apt.
    pub installed: BTreeSet<String>,
    /// An install whose packages are not literal (`apt-get install $DEPS`): it may provide anything.
    pub unknown_install: bool,
    /// Build steps that may need more than can be seen (requirements files, lockfiles).
    pub maybe: Vec<String>,
    /// Commands from a family's `build-tools` that the stage runs, with their line.
    pub build_tools: Vec<String>,
    /// RUNs that could not be read (exec form, non-POSIX shell).
    pub unread: usize,
}

impl StageNeeds {
    /// Needs the slim variant of `family` does not meet, one per tool (the first reason).
    pub fn missing(&self, family: &Family) -> Vec<&Need> {
        let mut seen = BTreeSet::new();
        self.needs
            .iter()
            .filter(|n| family.lacks.contains(&n.tool) && !self.installed.contains(&n.tool))
            .filter(|n| seen.insert(n.tool.clone()))
            .collect()
    }
}

/// What the instructions `indices` (of the stages that would run on the image) ask for.
pub(crate) fn stage_needs(input: &Input, indices: &[usize], family: &Family) -> StageNeeds {
    let mut out = StageNeeds::default();
    for &index in indices {
        let inst = &input.file.instructions[index];
        let line = inst.start_line;
        match inst.keyword {
            // The model's view, shared with the other transforms (a `RUN <<EOF` body too).
            Keyword::Run => match input.script(index) {
                Some(shell) => read_script(&shell.script, line, family, &mut out),
                None if inst.exec.is_some() => read_exec(inst.exec.as_deref().unwrap_or(&[]), line, family, &mut out),
                None if !inst.heredocs.is_empty() && input.posix_shell_at(index) => {
                    for heredoc in &inst.heredocs {
                        read_script(&parse_script(&input.file.source[heredoc.body.clone()]), line, family, &mut out);
                    }
                    read_script(&parse_script(inst.args_text()), line, family, &mut out);
                }
                None => out.unread += 1,
            },
            Keyword::Cmd | Keyword::Entrypoint | Keyword::Healthcheck => {
                for words in input.image_commands(index) {
                    read_command(&words, line, family, &mut out);
                }
            }
            _ => {}
        }
    }
    out
}

fn read_exec(words: &[String], line: usize, family: &Family, out: &mut StageNeeds) {
    let words: Vec<ShellWord> = words.iter().map(|w| ShellWord::fixed(w)).collect();
    read_command(&words, line, family, out);
}

fn read_script(script: &Script, line: usize, family: &Family, out: &mut StageNeeds) {
    for command in script.commands() {
        read_command(command.effective().words(), line, family, out);
    }
}

fn basename(word: &ShellWord) -> Option<&str> {
    let name = word.literal.as_deref()?;
    Some(name.rsplit('/').next().unwrap_or(name))
}

/// `pip3`, `pip3.12` and `python3 -m pip` are all pip: the words from the program on.
fn program_words(words: &[ShellWord]) -> Option<(String, &[ShellWord])> {
    let name = basename(words.first()?)?;
    if name.starts_with("python") {
        if let Some(at) = words.iter().position(|w| w.is("-m")) {
            if let Some(module) = words.get(at + 1).and_then(basename) {
                return Some((normalise_program(module), &words[at + 1..]));
            }
        }
    }
    Some((normalise_program(name), words))
}

fn normalise_program(name: &str) -> String {
    match name.strip_prefix("pip") {
        Some(version) if version.chars().all(|c| c.is_ascii_digit() || c == '.') => "pip".to_string(),
        _ => name.to_string(),
    }
}

fn read_command(words: &[ShellWord], line: usize, family: &Family, out: &mut StageNeeds) {
    let k = knowledge();
    let Some((program, words)) = program_words(words) else { return };
    let args = &words[1..];
    let positionals: Vec<&ShellWord> = args.iter().filter(|w| !w.literal.as_deref().is_some_and(|t| t.starts_with('-'))).collect();

    if matches!(program.as_str(), "apt-get" | "apt" | "aptitude") && positionals.first().is_some_and(|w| w.is("install")) {
        for package in &positionals[1..] {
            match package.literal.as_deref() {
                Some(name) => {
                    let name = name.split(['=', ':']).next().unwrap_or(name);
                    let name = name.split('/').next().unwrap_or(name);
                    out.installed.extend(k.tools_of_package(name).map(str::to_string));
                }
                None => out.unknown_install = true,
            }
        }
        return;
    }
    if family.build_tools.contains(&program) {
        out.build_tools.push(format!("`{program}` (line {line})"));
    }
    if let Some(tool) = k.tool_of_command(&program) {
        out.needs.push(Need { tool: tool.to_string(), because: format!("`{program}` (line {line})"), why: None });
    }
    let subcommand = positionals.first().and_then(|w| w.literal.as_deref()).unwrap_or("");
    for step in k.build.iter().filter(|s| s.program == program) {
        if !step.subcommands.is_empty() && !step.subcommands.iter().any(|s| s == subcommand) {
            continue;
        }
        let shown = if subcommand.is_empty() { program.clone() } else { format!("{program} {subcommand}") };
        for tool in &step.needs {
            out.needs.push(Need { tool: tool.clone(), because: format!("`{shown}` (line {line})"), why: step.why.clone() });
        }
        let mut named_packages = false;
        for arg in positionals.iter().skip(usize::from(!subcommand.is_empty())) {
            let Some(text) = arg.literal.as_deref() else { continue };
            let package = package_name(text);
            if let Some(tools) = step.packages.get(&package) {
                named_packages = true;
                for tool in tools {
                    out.needs.push(Need { tool: tool.clone(), because: format!("`{shown} {package}` (line {line})"), why: None });
                }
            }
            for (prefix, tools) in &step.prefixes {
                if text.starts_with(prefix.as_str()) {
                    for tool in tools {
                        out.needs.push(Need { tool: tool.clone(), because: format!("`{shown} {text}` (line {line})"), why: None });
                    }
                }
            }
        }
        if let (Some(maybe), false) = (&step.maybe, named_packages) {
            let text = format!("`{shown}` (line {line}): {maybe}");
            if !out.maybe.contains(&text) {
                out.maybe.push(text);
            }
        }
    }
}

/// `psycopg2==2.9.9`, `psycopg2[pool]>=2`, `bcrypt@5.0.0` → the package name, lower-case,
/// `_` read as `-` (as pip compares names).
fn package_name(text: &str) -> String {
    let (scope, rest) = match text.strip_prefix('@') {
        Some(rest) => ("@", rest),
        None => ("", text),
    };
    let end = rest.find(['=', '<', '>', '~', '!', '[', '@', ';', ' ']).unwrap_or(rest.len());
    format!("{scope}{}", &rest[..end]).to_ascii_lowercase().replace('_', "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_drop_versions_and_extras() {
        assert_eq!(package_name("psycopg2==2.9.9"), "psycopg2");
        assert_eq!(package_name("psycopg2[pool]>=2"), "psycopg2");
        assert_eq!(package_name("Mod_WSGI"), "mod-wsgi");
        assert_eq!(package_name("bcrypt@5.0.0"), "bcrypt");
        assert_eq!(package_name("@scope/pkg@1"), "@scope/pkg");
    }

    #[test]
    fn pip_spellings() {
        assert_eq!(normalise_program("pip3"), "pip");
        assert_eq!(normalise_program("pip3.12"), "pip");
        assert_eq!(normalise_program("pipenv"), "pipenv");
    }
}
