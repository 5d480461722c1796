//! Unquoted expansions where ShellCheck's own fix is unambiguous (SC2086): `$APP_HOME/bin/run.sh`
//! (a list of words glued to a path is never what was meant) and a lone `$VAR` as an argument that
//! is one word by nature (`cd $DIR`, `grep $PATTERN file`). Elsewhere an unquoted `$PACKAGES` may
//! be split on purpose, and is left alone.

use std::ops::Range;

use crate::checks;
use crate::fix::{Edit, Finding, Fix};
use crate::model::Input;
use crate::shell::{CommandKind, ShellWord, NO_OPTIONS};

use super::knowledge::{has_any_flag, knowledge, Position};

pub(super) fn check(input: &Input) -> Vec<Finding> {
    let file = input.file;
    let mut findings = Vec::new();
    for index in 0..file.instructions.len() {
        let Some(steps) = input.steps(index) else { continue };
        let Some(run) = input.shell(index) else { continue };
        let script = run.script.source();
        for command in run.script.commands() {
            if command.kind != CommandKind::Simple {
                continue;
            }
            let view = command.effective();
            let one_word = view.basename().and_then(|name| knowledge().quoting.one_word.get(name));
            let lone = one_word.filter(|rule| !has_any_flag(view, &rule.unless_flags)).and_then(|rule| match rule.argument {
                Position::First => view.positionals(NO_OPTIONS).next(),
            });
            for word in view.args() {
                let Some(expansion) = unquoted_expansion(word, lone.is_some_and(|l| std::ptr::eq(l, word))) else { continue };
                let name = expansion.name;
                let written = &word.raw[expansion.range.clone()];
                let source = run.source_range(file, word.range.start + expansion.range.start..word.range.start + expansion.range.end);
                let finding = Finding::new(&checks::LINT_FIXES_QUOTE_EXPANSION, source.clone(), format!("unquoted `{written}`: the shell splits its value on blanks and expands wildcards in it"))
                    .with_why("double quotes keep a path one argument (ShellCheck SC2086)");
                // `Input::steps` leaves out `cd` and `export`: the ENV in force stands for them.
                let value = match steps.steps.iter().find(|s| std::ptr::eq(s.command, command)) {
                    Some(step) => steps.var(step, name),
                    None => input.model().binding(name, index).filter(|b| b.known).map(|b| b.value.clone()),
                };
                let known = known_value(input, index, script, name, value);
                let edit = Edit::replace(source, format!("\"{written}\""));
                findings.push(match known {
                    Value::Plain => finding.with_fix(Fix::safe(format!("Write `\"{written}\"`"), vec![edit])),
                    Value::Splits(value) => finding.with_why(format!("`{name}` is `{value}`, which the shell splits or expands: quoting it would change the command")),
                    Value::Unknown => finding
                        .with_why(format!("double quotes keep a path one argument (ShellCheck SC2086). Unsafe: the value of `{name}` is not known here; if it is empty or holds blanks or wildcards, the command now receives it as one argument"))
                        .with_fix(Fix::unsafe_(format!("Write `\"{written}\"`"), vec![edit])),
                });
            }
        }
    }
    findings
}

/// An unquoted `$NAME` / `${NAME}` at the start of a word.
struct Expansion<'a> {
    name: &'a str,
    /// Within the word.
    range: Range<usize>,
}

/// The expansion of `word` to quote: one that a path follows (`$HOME/bin`), or the whole word when
/// `alone` allows it. Words with anything else the shell expands are left alone.
fn unquoted_expansion(word: &ShellWord, alone: bool) -> Option<Expansion<'_>> {
    let raw = word.raw.as_str();
    let rest = raw.strip_prefix('$')?;
    let (name, len) = match rest.strip_prefix('{') {
        Some(inner) => {
            let end = inner.find('}')?;
            (&inner[..end], end + 3)
        }
        None => {
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            (&rest[..end], end + 1)
        }
    };
    let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !name.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return None;
    }
    let suffix = &raw[len..];
    let path = suffix.starts_with('/') && suffix.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | '@' | ':' | ','));
    ((suffix.is_empty() && alone) || path).then_some(Expansion { name, range: 0..len })
}

enum Value {
    /// No blank, wildcard or emptiness: quoting changes nothing.
    Plain,
    /// Known, and the shell would split or expand it.
    Splits(String),
    Unknown,
}

/// What `name` holds for the command: the RUN's own setting or the ENV in force, when nothing in
/// the RUN could set it otherwise.
fn known_value(input: &Input, index: usize, script: &str, name: &str, value: Option<String>) -> Value {
    let reassigned = script.contains(&format!("{name}=")) || script.contains(&format!("for {name} ")) || script.contains("read ");
    let from_arg = input.model().binding(name, index).is_some_and(|b| b.from_arg);
    match value {
        Some(value) if !reassigned && !from_arg && !value.contains('$') => {
            if value.is_empty() || value.contains([' ', '\t', '\n', '*', '?', '[']) {
                Value::Splits(value)
            } else {
                Value::Plain
            }
        }
        _ => Value::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::parse_script;

    fn expansion(command: &str, alone: bool) -> Option<String> {
        let script = parse_script(command);
        let word = script.commands()[0].words.last()?.clone();
        unquoted_expansion(&word, alone).map(|e| word.raw[e.range].to_string())
    }

    #[test]
    fn expansions_worth_quoting() {
        assert_eq!(expansion("chmod +x $CATALINA_HOME/bin/run.sh", false).as_deref(), Some("$CATALINA_HOME"));
        assert_eq!(expansion("mkdir ${APP}/data", false).as_deref(), Some("${APP}"));
        assert_eq!(expansion("cd $DIR", true).as_deref(), Some("$DIR"));
        assert_eq!(expansion("apt-mark manual $savedAptMark", false), None, "a list, split on purpose");
        assert_eq!(expansion("ls $DIR/*.txt", false), None, "a wildcard");
        assert_eq!(expansion("echo \"$A\"/b", false), None, "already quoted");
        assert_eq!(expansion("cp x $A$B/c", false), None);
    }
}
