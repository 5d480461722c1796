//! A RUN with a pipe and no `-o pipefail` (hadolint DL4006): `curl … | tar x` succeeds when the
//! download fails, and the image is built without what it needed. hadolint accepts only a SHELL
//! naming bash, zsh or ash with `-o pipefail` (a `set -o pipefail` inside the RUN does not count, and
//! under `/bin/sh` it is ShellCheck's SC3040), in every stage: the fix inserts that SHELL above the
//! stage's first RUN with a pipe, with the shell the image has.

use crate::checks;
use crate::fix::{Applicability, Edit, Finding, Fix};
use crate::knowledge::base_images::Sh;
use crate::model::{Input, Shell};
use crate::shell::{is_posix_shell, parse_script, CommandKind, Script};
use crate::syntax::Keyword;

use super::knowledge::knowledge;
use super::{base, insertion_point, json_string};

/// The shells whose `-o pipefail` hadolint recognises.
const PIPEFAIL_SHELLS: &[&str] = &["bash", "zsh", "ash"];

const WHY: &str = "without pipefail a pipeline's status is its last command's: `curl … | tar x` succeeds when the download fails (hadolint DL4006)";

pub(super) fn check(input: &Input) -> Vec<Finding> {
    let file = input.file;
    let mut findings = Vec::new();
    for stage in &file.stages {
        // hadolint's view: each stage starts without pipefail, whatever the stage it is built on.
        let mut covered = false;
        for index in stage.instructions.clone().skip(1) {
            let inst = &file.instructions[index];
            match inst.keyword {
                _ if inst.sub.is_some() => {}
                Keyword::Shell => covered = inst.exec.as_deref().is_some_and(|words| has_pipefail(words) || !is_posix_shell(words)),
                Keyword::Run if !covered && input.shell(index).is_some_and(|run| run.script.has_pipeline()) => {
                    findings.push(finding(input, index));
                    covered = true;
                }
                _ => {}
            }
        }
    }
    findings
}

fn finding(input: &Input, index: usize) -> Finding {
    let file = input.file;
    let inst = &file.instructions[index];
    let range = inst.keyword_span.start..inst.args_source_range().end;
    let finding = Finding::new(&checks::LINT_FIXES_PIPEFAIL, range, "RUN with a pipe, and no SHELL with `-o pipefail` in this stage: a command failing before `|` does not fail the build")
        .with_why(WHY);
    let plan = match plan(input, index) {
        Ok(plan) => plan,
        Err(reason) => return finding.with_why(reason),
    };
    let keyword = Keyword::Shell.spelled_like(&file.source[inst.keyword_span.clone()]);
    let array = format!("[{}]", plan.words.iter().map(|w| json_string(w)).collect::<Vec<_>>().join(", "));
    let line = format!("{keyword} {array}{}", file.newline());
    let edit = Edit::insert(insertion_point(input, index), line);
    let title = format!("Insert `SHELL {array}` before it");
    match plan.unsafe_why {
        None => finding.with_fix(Fix::new(title, vec![edit], Applicability::Safe)),
        Some(why) => finding.with_why(format!("{WHY}. Unsafe: {why}")).with_fix(Fix::new(title, vec![edit], Applicability::Unsafe)),
    }
}

struct Plan {
    words: Vec<String>,
    /// What could change (`None`: Safe).
    unsafe_why: Option<String>,
}

/// The SHELL to insert before RUN `index`, or why none can be.
fn plan(input: &Input, index: usize) -> Result<Plan, String> {
    let model = input.model();
    let flags = match model.shell(index) {
        // A stage built on one that set it: BuildKit already runs this RUN so, hadolint wants it said.
        Shell::Set(words) if has_pipefail(words) => return Ok(Plan { words: words.clone(), unsafe_why: None }),
        Shell::Set(words) if is_pipefail_shell(words) => {
            let flags = middle_flags(words).ok_or_else(|| format!("the SHELL in force ({}) does not end with `-c`: add `-o pipefail` to it by hand", words.join(" ")))?;
            hazards(input, index, false)?;
            return Ok(Plan { words: pipefail_words(&words[0], &flags), unsafe_why: Some(changes(input, index, None)) });
        }
        Shell::Set(words) if words.first().is_some_and(|p| matches!(p.rsplit('/').next(), Some("sh" | "dash"))) => {
            middle_flags(words).ok_or_else(|| format!("the SHELL in force ({}) does not end with `-c`", words.join(" ")))?
        }
        Shell::Set(words) => return Err(format!("the SHELL in force runs `{}`: switch it to bash or ash with `-o pipefail` by hand", words.join(" "))),
        Shell::Default { .. } => Vec::new(),
    };
    let os = base::os(input, index);
    let bash_installed = base::installed(input, index, "bash");
    let (shell, from_dash) = match os.map(|os| os.sh) {
        Some(Sh::Ash) => ("/bin/ash", false),
        Some(Sh::Bash) => ("/bin/bash", false),
        Some(Sh::Dash) if os.is_some_and(|os| os.bash) || bash_installed => ("/bin/bash", true),
        None if bash_installed => ("/bin/bash", true),
        _ => {
            let image = base::image(input, index).map_or_else(|| "the base image".to_string(), |i| format!("`{}`", i.text));
            return Err(format!(
                "{image} is not known to have bash (transforms/knowledge/base-images.toml) and no earlier RUN installs it; its /bin/sh may be dash, which has no pipefail: add `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` by hand if bash is there"
            ));
        }
    };
    hazards(input, index, from_dash)?;
    let was = if os.is_some() { "dash" } else { "/bin/sh" };
    let change = from_dash.then(|| format!("the RUNs from here on run under {shell} instead of {was}"));
    Ok(Plan { words: pipefail_words(shell, &flags), unsafe_why: Some(changes(input, index, change)) })
}

/// The Unsafe explanation: pipefail itself, a change of program, and the image's own SHELL.
fn changes(input: &Input, index: usize, program: Option<String>) -> String {
    let mut text = "a pipeline now fails when any of its commands fails, not only the last (which is the point: a failed download stops the build)".to_string();
    if let Some(program) = program {
        text.push_str(&format!("; {program}"));
    }
    let model = input.model();
    let file = input.file;
    let shipped = model.stage_of(index).is_some_and(|s| model.stages()[s].in_final_image);
    let stage_end = model.stage_of(index).map_or(index, |s| file.stages[s].instructions.end);
    let reset_later = (index..stage_end).any(|i| file.instructions[i].keyword == Keyword::Shell);
    if shipped && !reset_later {
        text.push_str("; the image keeps this SHELL: its shell-form CMD, ENTRYPOINT and HEALTHCHECK, and images built FROM it, use it");
    }
    text
}

/// Whether a pipeline that works today would fail once the new SHELL is in force: in the
/// instructions that run under it (to the next SHELL of the stage, and in the stages built on it).
fn hazards(input: &Input, index: usize, from_dash: bool) -> Result<(), String> {
    let file = input.file;
    for i in under_new_shell(input, index) {
        let inst = &file.instructions[i];
        let line = inst.start_line;
        let script = match inst.keyword {
            Keyword::Onbuild => return Err(format!("the ONBUILD at line {line} would run under the new SHELL in the images built on this one")),
            Keyword::Run if inst.exec.is_some() => continue,
            Keyword::Run => match input.script(i) {
                Some(run) => run.script.clone(),
                // A RUN whose heredocs are data for a command: its command line is the script.
                None => parse_script(inst.args_text()),
            },
            Keyword::Cmd | Keyword::Entrypoint if inst.exec.is_none() => parse_script(inst.args_text()),
            Keyword::Healthcheck if inst.exec.is_none() => {
                let text = inst.args_text();
                match text.split_once(char::is_whitespace) {
                    Some((kind, rest)) if kind.eq_ignore_ascii_case("cmd") => parse_script(rest),
                    _ => continue,
                }
            }
            _ => continue,
        };
        if script.has_errors() {
            return Err(format!("the script at line {line} cannot be read, so what pipefail does to it cannot be told"));
        }
        script_hazard(&script, from_dash).map_err(|what| format!("{what} (line {line})"))?;
    }
    Ok(())
}

/// What in `script` behaves differently under pipefail (or under bash instead of dash).
fn script_hazard(script: &Script, from_dash: bool) -> Result<(), String> {
    let pipefail = &knowledge().pipefail;
    let text = script.source();
    let counted = script.commands().iter().any(|c| pipe_before(text, c.range.start) && pipefail.counts(c.view()));
    for command in script.commands() {
        let view = command.view();
        let name = view.name().unwrap_or_default();
        if pipe_after(text, command.range.end) && pipefail.fails_before_pipe(view, command.in_condition || counted) {
            return Err(format!("`{name}` before a `|` exits non-zero in normal use: under pipefail the pipeline would fail"));
        }
        if pipe_before(text, command.range.start) && pipefail.closes_early(view) {
            return Err(format!("`{name}` after a `|` stops reading early: the command before it dies of SIGPIPE, which pipefail turns into a failure"));
        }
        if !from_dash {
            continue;
        }
        if view.is("echo") && view.args().iter().any(|a| a.raw.contains('\\') || a.is("-e") || a.is("-E")) {
            return Err("`echo` with a backslash or `-e` prints differently under dash and bash".into());
        }
        if command.kind == CommandKind::Test && command.words.iter().any(|w| w.is("==")) {
            return Err("`==` inside `[ ]` is an error under dash and a comparison under bash".into());
        }
        if command.words.iter().any(|w| w.literal.is_none() && is_brace_expansion(&w.raw)) {
            return Err("a `{a,b}` word is literal under dash and expanded under bash".into());
        }
    }
    if from_dash && has_ansi_c_quote(text) {
        return Err("`$'…'` is literal under dash and an escape under bash".into());
    }
    Ok(())
}

/// A `$'…'` outside quotes (inside `'…'` or `"…"` a `$'` is plain text: `grep 'a$'`).
fn has_ansi_c_quote(text: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '\\' => {
                chars.next();
            }
            Some(_) => {}
            None if c == '\\' => {
                chars.next();
            }
            None if c == '$' && chars.peek() == Some(&'\'') => return true,
            None if c == '\'' || c == '"' => quote = Some(c),
            None => {}
        }
    }
    false
}

/// `{a,b}` or `{1..3}` outside quotes and `${…}`.
fn is_brace_expansion(raw: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (at, c) in raw.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '{' && prev != '$' => {
                let inner = raw[at + 1..].split('}').next().unwrap_or_default();
                if raw[at + 1..].contains('}') && (inner.contains(',') || inner.contains("..")) {
                    return true;
                }
            }
            None => {}
        }
        prev = c;
    }
    false
}

/// Whether a `|` (not `||`) follows offset `end` of `text`.
fn pipe_after(text: &str, end: usize) -> bool {
    let rest = text[end.min(text.len())..].trim_start_matches([' ', '\t']);
    rest.starts_with('|') && !rest.starts_with("||")
}

/// Whether a `|` (not `||`) precedes offset `start` of `text`.
fn pipe_before(text: &str, start: usize) -> bool {
    let before = text[..start.min(text.len())].trim_end_matches(|c: char| c.is_whitespace() || c == '\\');
    before.ends_with('|') && !before.ends_with("||")
}

/// The instructions that run under the shell in force at RUN `index`: the rest of its stage up to
/// a SHELL, and the stages built on it while none of them sets its own.
fn under_new_shell(input: &Input, index: usize) -> Vec<usize> {
    let file = input.file;
    let model = input.model();
    let Some(own) = model.stage_of(index) else { return Vec::new() };
    let mut out = Vec::new();
    // Per stage: whether the shell at its end is still the one in force at `index`.
    let mut carries = vec![false; file.stages.len()];
    let take = |range: std::ops::Range<usize>, out: &mut Vec<usize>| {
        for i in range {
            if file.instructions[i].keyword == Keyword::Shell && file.instructions[i].sub.is_none() {
                return false;
            }
            out.push(i);
        }
        true
    };
    carries[own] = take(index..file.stages[own].instructions.end, &mut out);
    for stage in own + 1..file.stages.len() {
        if model.stages()[stage].parent.is_some_and(|p| carries[p]) {
            carries[stage] = take(file.stages[stage].instructions.clone(), &mut out);
        }
    }
    out
}

/// A SHELL hadolint takes as pipefail: bash, zsh or ash with `-o pipefail`.
fn has_pipefail(words: &[String]) -> bool {
    is_pipefail_shell(words) && words.windows(2).any(|w| w[1] == "pipefail" && w[0].starts_with('-') && w[0].ends_with('o'))
}

fn is_pipefail_shell(words: &[String]) -> bool {
    words.first().is_some_and(|program| {
        let name = program.rsplit('/').next().unwrap_or(program);
        PIPEFAIL_SHELLS.contains(&name)
    })
}

/// The options between the program and a final `-c` (`-eux` of `["/bin/sh", "-eux", "-c"]`).
fn middle_flags(words: &[String]) -> Option<Vec<String>> {
    match words {
        [_, middle @ .., last] if last == "-c" => Some(middle.to_vec()),
        _ => None,
    }
}

fn pipefail_words(program: &str, flags: &[String]) -> Vec<String> {
    let mut words = vec![program.to_string()];
    words.extend(flags.iter().cloned());
    words.extend(["-o", "pipefail", "-c"].map(String::from));
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hazard(script: &str, from_dash: bool) -> Option<String> {
        script_hazard(&parse_script(script), from_dash).err()
    }

    #[test]
    fn pipelines_that_pipefail_would_break() {
        assert!(hazard("yes | apt-get install foo", false).is_some());
        assert!(hazard("curl -s x | head -n 1", false).is_some());
        assert!(hazard("dpkg -l | grep -q foo && echo yes", false).is_some());
        assert!(hazard("grep foo /etc/x | wc -l", false).is_some(), "counting: finding nothing is normal");
        assert!(hazard("apk list | grep -v '^[.]x' | sort", false).is_some(), "a filter");
        assert!(hazard("if dpkg -l | grep foo | cut -f1; then x; fi", false).is_some(), "a condition");
        assert!(hazard("grep \" x.tar.xz$\" SHASUMS256.txt | sha256sum -c -", false).is_none(), "the build relies on the match");
        assert!(hazard("curl -fsSL https://x | tar xz -C /opt", false).is_none());
        assert!(hazard("cat x | grep foo", false).is_none(), "grep last: its status already counted");
        assert!(hazard("a || b", false).is_none());
        assert!(hazard("find . | xargs grep -l x", false).is_none(), "xargs reads everything");
    }

    #[test]
    fn scripts_that_bash_reads_differently_from_dash() {
        assert!(hazard("echo 'a\\nb' > /x", true).is_some());
        assert!(hazard("echo -e foo", true).is_some());
        assert!(hazard("[ \"$a\" == b ] && x", true).is_some());
        assert!(hazard("mkdir -p /x/{a,b}", true).is_some());
        assert!(hazard("echo ${HOME}/x ok", true).is_none());
        assert!(hazard("echo 'a\\nb'", false).is_none(), "same shell");
        assert!(hazard("x=$'a\\tb' && y", true).is_some());
        assert!(hazard("grep -E '^User www$' /etc/x; grep 'a$' b", true).is_none(), "a `$'` inside quotes");
    }

    #[test]
    fn shells_hadolint_accepts() {
        let words = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(has_pipefail(&words(&["/bin/bash", "-o", "pipefail", "-c"])));
        assert!(has_pipefail(&words(&["/bin/ash", "-eo", "pipefail", "-c"])));
        assert!(!has_pipefail(&words(&["/bin/sh", "-o", "pipefail", "-c"])));
        assert!(!has_pipefail(&words(&["/bin/bash", "-c"])));
        assert_eq!(middle_flags(&words(&["/bin/sh", "-eux", "-c"])), Some(words(&["-eux"])));
        assert_eq!(middle_flags(&words(&["/bin/sh", "-c", "x"])), None);
    }
}
