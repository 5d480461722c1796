//! `ADD https://…/x.tar.gz /tmp/` then a RUN that unpacks it: the archive stays in the ADD's layer
//! whatever the RUN deletes. One RUN that downloads, unpacks and deletes ships only what was
//! unpacked. Check `layer-waste/add-url-archive`.

use super::archive::{unpack, url_file_name, uses};
use super::knowledge::knowledge;
use super::{at_line, is_inert, short};
use crate::checks;
use crate::fix::{Applicability, Edit, Finding, Fix};
use crate::model::edits::{instruction_deletion, Layout};
use crate::model::{Dir, Input};
use crate::syntax::{split_words, Keyword, Stage};

pub(super) fn findings(input: &Input, stage: &Stage) -> Vec<Finding> {
    let file = input.file;
    let mut findings = Vec::new();
    for index in stage.instructions.clone() {
        let inst = &file.instructions[index];
        if inst.keyword != Keyword::Add || !inst.heredocs.is_empty() || file.escape != '\\' {
            continue;
        }
        let words: Vec<String> = match &inst.exec {
            Some(list) => list.clone(),
            None => split_words(inst.args_text(), file.escape).into_iter().map(|w| w.raw).collect(),
        };
        let [url, dest] = words.as_slice() else { continue };
        if !url.contains("://") || !knowledge().is_archive(&url_file_name(url)) {
            continue;
        }
        findings.extend(finding(input, stage, index, url, dest));
    }
    findings
}

fn finding(input: &Input, stage: &Stage, index: usize, url: &str, dest: &str) -> Option<Finding> {
    let file = input.file;
    let model = input.model();
    let add = &file.instructions[index];
    // The RUN that unpacks it: the next instruction that touches files.
    let run = (index + 1..stage.instructions.end).find(|&i| !is_inert(file.instructions[i].keyword))?;
    let run_inst = &file.instructions[run];
    if run_inst.keyword != Keyword::Run {
        return None;
    }
    let (shell, steps) = (input.shell(run)?, input.steps(run)?);
    // Where the ADD writes: into `dest` when it is a folder (`/tmp/`, or a folder the RUN unpacks
    // the archive from), else `dest` itself.
    let dest_text = model.expand(dest.trim_matches('"'), index, Some(file.escape));
    if dest_text.unknown.is_some() {
        return None;
    }
    let workdir = model.workdir(index)?;
    let name = url_file_name(url);
    let as_file = workdir.join(&dest_text.text)?;
    let into_dir = as_file.join(&name)?;
    let commands = shell.script.commands();
    let candidates = if dest_text.text.ends_with('/') { vec![into_dir] } else { vec![as_file, into_dir] };
    let unpacked = |target: &Dir| {
        let found = uses(&steps, shell, 0, target).into_iter().find(|(at, word)| unpack(&commands[*at]).is_some_and(|u| std::ptr::eq(u.archive, *word)));
        found.is_some()
    };
    let target = candidates.into_iter().find(|t| unpacked(t))?;
    let shown = target.path().unwrap_or_else(|| target.to_string());
    let range = add.keyword_span.start..add.head_range().end;
    let message = format!("`ADD {}` fetches an archive into a layer of its own, which the RUN at line {} unpacks", short(url), run_inst.start_line);
    let why = "the archive stays in the ADD's layer whatever a later RUN deletes: one RUN that downloads, unpacks and deletes it ships only what was unpacked";
    let refuse = |reason: String| Some(Finding::new(&checks::LAYER_WASTE_ADD_URL_ARCHIVE, range.clone(), message.clone()).with_why(format!("{why}; not rewritten: {reason}")));
    if let Some(flag) = add.flags.iter().find(|f| f.name != "checksum") {
        return refuse(format!("`{}` has no equivalent in a RUN", flag.text));
    }
    if !run_inst.flags.is_empty() || !run_inst.heredocs.is_empty() {
        return refuse(format!("{} has flags or a heredoc", at_line(run_inst, &file.source)));
    }
    if let Some(user) = super::user_at(input, run).filter(|u| !super::is_root(u)) {
        return refuse(format!("{} runs as `{user}`, where ADD writes as root", at_line(run_inst, &file.source)));
    }
    if !shell.script.is_and_chain() {
        return refuse(format!("{} is not one `&&` list: a failed download would not stop it", at_line(run_inst, &file.source)));
    }
    let quoted = |text: &str| (!text.contains(['"', '\\', '`']) && !text.contains("$(")).then(|| format!("\"{text}\""));
    let Some(url_q) = quoted(url.trim_matches('"')) else { return refuse("its URL has quotes or command substitutions".into()) };
    let Some(path) = target.path() else { return refuse("where it lands depends on the base image's WORKDIR".into()) };
    if !path.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | ',' | '@' | '%')) {
        return refuse(format!("`{path}` would need quoting in the RUN"));
    }
    let tool = downloader(input, index);
    let mut download = match tool {
        Some("curl") => format!("curl -fsSL --create-dirs -o {path} {url_q}"),
        Some(_) => {
            let dir = path.rsplit_once('/').map_or("/", |(d, _)| if d.is_empty() { "/" } else { d });
            if dir == "/tmp" {
                format!("wget -q -O {path} {url_q}")
            } else {
                format!("mkdir -p {dir} && wget -q -O {path} {url_q}")
            }
        }
        None => return refuse("nothing earlier in the image installs or runs curl or wget, which the RUN would need".into()),
    };
    if let Some(checksum) = add.flag("checksum").and_then(|f| f.value.as_deref()) {
        let (algorithm, digest) = checksum.split_once(':')?;
        let program = match algorithm {
            "sha256" => "sha256sum",
            "sha512" => "sha512sum",
            _ => return refuse(format!("its `--checksum` uses {algorithm}, which no common image has a command for")),
        };
        if !digest.chars().all(|c| c.is_ascii_hexdigit()) {
            return refuse("its `--checksum` is not a hex digest".into());
        }
        download.push_str(&format!(" && test \"$({program} < {path})\" = \"{digest}  -\""));
    }
    let multiline = run_inst.lines.len() > 1;
    let layout = Layout::of(file, run_inst);
    let mut edits = vec![Edit::delete(instruction_deletion(file, index)), Edit::insert(run_inst.args_source_range().start, layout.prepend(&download, multiline))];
    edits.sort_by_key(|e| e.range.start);
    let mut reasons = vec![
        "the RUN's cache key is its text, so a changed file at the URL is not fetched again until the line changes (ADD checks the URL)".to_string(),
        format!("`{}` must be in the image when the RUN runs", tool.unwrap_or("curl")),
    ];
    if add.flag("checksum").is_some() {
        reasons.push("the `--checksum` becomes a check of the downloaded file".into());
    }
    let fix = Fix::new(format!("Download `{shown}` in the RUN at line {} and drop the ADD", run_inst.start_line), edits, Applicability::Unsafe);
    let why = format!("{why}. Unsafe: {}", reasons.join("; "));
    Some(Finding::new(&checks::LAYER_WASTE_ADD_URL_ARCHIVE, range, message).with_why(why).with_fix(fix))
}

/// The download tool an earlier RUN of the image installs or runs: `curl`, else `wget`.
fn downloader(input: &Input, index: usize) -> Option<&'static str> {
    let file = input.file;
    let earlier: Vec<usize> = input.model().earlier(index).collect();
    let mentions = |tool: &str| {
        earlier.iter().any(|&i| {
            file.instructions[i].keyword == Keyword::Run
                && input.shell(i).is_some_and(|s| s.script.commands().iter().any(|c| c.words.iter().any(|w| w.is(tool))))
        })
    };
    ["curl", "wget"].into_iter().find(|tool| mentions(tool))
}
