#![doc = include_str!("../../docs/layer-waste.md")]

mod add_url;
mod archive;
mod build_deps;
mod copy_permissions;
mod knowledge;
mod late_delete;
#[cfg(test)]
mod tests;

use crate::fix::Finding;
use crate::model::{Dir, Input, RunShell, Step, Steps};
use crate::shell::ShellWord;
use crate::syntax::{expand, Instruction, Keyword, Stage, Var};

pub(crate) const DOC: &str = include_str!("../../docs/layer-waste.md");
#[cfg(test)]
const NAME: &str = "layer-waste";

pub(crate) fn run(input: &Input) -> Vec<Finding> {
    let mut findings = Vec::new();
    let model = input.model();
    for stage in &input.file.stages {
        // Bytes wasted in a stage that is not the shipped image's cost nothing where it matters.
        if !model.stages()[stage.index].in_final_image {
            continue;
        }
        let runs = stage_runs(input, stage);
        findings.extend(copy_permissions::findings(input, stage, &runs));
        findings.extend(archive::findings(input, &runs));
        findings.extend(add_url::findings(input, stage));
        findings.extend(build_deps::findings(input, stage));
        findings.extend(late_delete::findings(input, stage, &runs));
    }
    findings
}

/// A RUN of the stage that the shell view reads, with its steps (directories, variables): three
/// checks walk the same RUNs, so the steps are worked out once per stage.
struct StageRun<'i> {
    shell: &'i RunShell,
    steps: Steps<'i>,
}

fn stage_runs<'i>(input: &'i Input, stage: &Stage) -> Vec<StageRun<'i>> {
    stage
        .instructions
        .clone()
        .filter(|&index| input.file.instructions[index].keyword == Keyword::Run)
        .filter_map(|index| Some(StageRun { shell: input.shell(index)?, steps: input.steps(index)? }))
        .collect()
}

/// Instructions that neither read nor write the image's files.
fn is_inert(keyword: Keyword) -> bool {
    use Keyword::*;
    matches!(keyword, Env | Arg | Label | Expose | Cmd | Entrypoint | Stopsignal | Healthcheck | Maintainer)
}

/// The text of a word of `step`: as written when static, else with the variables the RUN or an
/// ENV sets expanded (`$APP_HOME`, `"${APP_HOME}/data"`); `None` when a value is not known or the
/// word needs more than variables and double quotes (a command substitution, single quotes…).
fn expanded(steps: &Steps, step: &Step, word: &ShellWord) -> Option<String> {
    if let Some(text) = &word.literal {
        return Some(text.clone());
    }
    if word.raw.contains(['\'', '`', '\\', '*', '?', '[', '~']) || word.raw.contains("$(") {
        return None;
    }
    let var = |name: &str| match steps.var(step, name) {
        Some(value) if !value.contains(['$', '`']) => Var::Value(value),
        _ => Var::Unknown,
    };
    let out = expand(&word.raw, Some('\\'), &var);
    out.unknown.is_none().then_some(out.text)
}

/// An absolute path (`text`), resolved against the step's working directory; `None` when it cannot
/// be followed (`~`, an unknown working directory).
fn resolve_text(cwd: Option<&Dir>, text: &str) -> Option<String> {
    if text.is_empty() || text.starts_with('-') {
        return None;
    }
    let dir = if text.starts_with('/') { Dir::absolute(text)? } else { cwd?.join(text)? };
    dir.path()
}

/// Whether absolute path `path` is `dir` or lies inside it.
fn within(path: &str, dir: &str) -> bool {
    dir == "/" || path == dir || path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'))
}

/// Whether one of two absolute paths lies inside the other.
fn overlap(a: &str, b: &str) -> bool {
    within(a, b) || within(b, a)
}

/// Whether `text` names absolute path `path` (as a whole path component sequence: `/app` is not
/// named by `/apps`).
fn names_path(text: &str, path: &str) -> bool {
    text.match_indices(path).any(|(at, _)| {
        let after = text[at + path.len()..].chars().next();
        let before = text[..at].chars().next_back();
        after.is_none_or(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
            && before.is_none_or(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')))
    })
}

/// The last component of a path.
fn basename(path: &str) -> &str {
    path.trim_end_matches('/').rsplit('/').next().unwrap_or(path)
}

/// `text` shortened for a message.
fn short(text: &str) -> String {
    const MAX: usize = 60;
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= MAX {
        text
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}

/// `KEYWORD at line N`, for messages.
fn at_line(inst: &Instruction, source: &str) -> String {
    format!("the {} at line {}", &source[inst.keyword_span.clone()], inst.start_line)
}

/// The user instruction `index` runs as: the last USER of its image before it (`None`: root, or the
/// base image's user).
fn user_at(input: &Input, index: usize) -> Option<String> {
    let file = input.file;
    input
        .model()
        .earlier(index)
        .map(|i| &file.instructions[i])
        .filter(|inst| inst.keyword == Keyword::User)
        .last()
        .map(|inst| crate::syntax::unquote(inst.args_text().trim(), file.escape))
}

/// Whether a USER value is root.
fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user);
    name == "root" || name == "0"
}
