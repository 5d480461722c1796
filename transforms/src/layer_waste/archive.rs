//! A RUN that downloads an archive to a file, unpacks it and leaves it there: the archive ships in
//! the layer beside what it unpacked to. Check `layer-waste/archive-left`.

use super::{StageRun, at_line, basename, short, within};
use crate::checks;
use crate::fix::{Applicability, Edit, Finding, Fix};
use crate::model::reference::glob;
use crate::model::{Dir, Input, RunShell, Shell, Steps};
use crate::shell::{Command, CommandView, ItemKind, Op, ShellWord};
use crate::syntax::{Keyword, LineKind};

/// A command that writes a download to a file.
pub(super) struct Download<'a> {
    /// Index into `Script::commands`.
    pub command: usize,
    /// Where the file lands, as the model follows directories (maybe below the base image's
    /// unknown WORKDIR).
    pub file: Dir,
    /// The word naming the file (`-o F`'s `F`), when it is written out.
    pub word: Option<&'a ShellWord>,
}

pub(super) fn findings(input: &Input, runs: &[StageRun]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for StageRun { shell, steps } in runs {
        let commands = shell.script.commands();
        for (at, command) in commands.iter().enumerate() {
            if command.step.is_none() || command.in_substitution || command.in_function {
                continue;
            }
            let Some(download) = download(steps, at, command) else { continue };
            findings.extend(finding(input, shell, steps, &download));
        }
    }
    findings
}

/// The commands from index `start` on that name `file`, with the word that names it.
pub(super) fn uses<'a>(steps: &'a Steps, shell: &'a RunShell, start: usize, file: &Dir) -> Vec<(usize, &'a ShellWord)> {
    let commands = shell.script.commands();
    let mut out = Vec::new();
    for (at, command) in commands.iter().enumerate().skip(start) {
        let cwd = cwd_of(steps, command);
        let words = command.words.iter().chain(command.redirects.iter().filter_map(|r| r.target.as_ref()));
        for word in words {
            let Some(text) = word.literal.as_deref() else {
                // `"$DIR/x.tgz"`: cannot tell; a word ending with the file's name counts.
                if word.raw.trim_matches('"').ends_with(&format!("/{}", file_name(file))) {
                    out.push((at, word));
                }
                continue;
            };
            let text = text.split_once('=').filter(|(k, _)| k.starts_with("--")).map_or(text, |(_, v)| v);
            let named = cwd.and_then(|c| c.join(text)).is_some_and(|d| d == *file);
            if named {
                out.push((at, word));
            }
        }
    }
    out
}

fn file_name(file: &Dir) -> String {
    basename(&file.to_string()).to_string()
}

/// The working directory of `command` (an element of the RUN's script) as the model follows it.
pub(super) fn cwd_of<'a>(steps: &'a Steps, command: &Command) -> Option<&'a Dir> {
    steps.steps.iter().find(|s| std::ptr::eq(s.command, command)).and_then(|s| s.cwd.as_ref())
}

/// `curl -o F URL`, `curl -O URL`, `wget URL`, `wget -O F URL`, `wget -P D URL`.
pub(super) fn download<'a>(steps: &'a Steps, at: usize, command: &'a Command) -> Option<Download<'a>> {
    let view = command.effective();
    let cwd = cwd_of(steps, command)?;
    let url = view.args().iter().find(|w| w.raw.contains("://"))?;
    let url_name = || url.literal.as_deref().map(url_file_name).filter(|n| !n.is_empty());
    let (file, word) = if view.is("curl") {
        if let Some(word) = value_word(view, Some('o'), "--output") {
            let text = word.literal.as_deref().filter(|t| !t.starts_with('-'))?;
            (cwd.join(text)?, Some(word))
        } else if view.has_flag(Some('O'), Some("remote-name")) {
            let dir = match view.option_value(None, Some("output-dir")) {
                Some(dir) => cwd.join(dir)?,
                None => cwd.clone(),
            };
            (dir.join(&url_name()?)?, None)
        } else {
            return None;
        }
    } else if view.is("wget") {
        if let Some(word) = value_word(view, Some('O'), "--output-document") {
            let text = word.literal.as_deref().filter(|t| !t.starts_with('-'))?;
            (cwd.join(text)?, Some(word))
        } else {
            if view.has_flag(None, Some("output-document")) || view.args().iter().any(|w| w.literal.as_deref().is_some_and(|t| t.starts_with("-O") || (t.starts_with('-') && !t.starts_with("--") && t.contains('O')))) {
                return None;
            }
            let dir = match view.option_value(Some('P'), Some("directory-prefix")) {
                Some(dir) => cwd.join(dir)?,
                None => cwd.clone(),
            };
            (dir.join(&url_name()?)?, None)
        }
    } else {
        return None;
    };
    Some(Download { command: at, file, word })
}

/// The word that holds the value of option `-s`/`--long` when it is a word of its own after the
/// option (`-o F`, `-sSLo F`, `--output F`), or attached (`-oF`, `--output=F`).
pub(super) fn value_word<'a>(view: CommandView<'a>, short: Option<char>, long: &str) -> Option<&'a ShellWord> {
    let args = view.args();
    for (i, arg) in args.iter().enumerate() {
        let Some(text) = arg.literal.as_deref() else { continue };
        if text == "--" {
            break;
        }
        if text == long || (text.len() > 1 && !text.starts_with("--") && text.starts_with('-') && short.is_some_and(|s| text.ends_with(s) && text[1..].chars().all(|c| c.is_ascii_alphabetic()))) {
            return args.get(i + 1);
        }
        if text.starts_with(&format!("{long}=")) {
            return Some(arg);
        }
        if let (Some(s), Some(cluster)) = (short, text.strip_prefix('-').filter(|t| !t.starts_with('-'))) {
            if let Some(pos) = cluster.find(s) {
                if cluster[..pos].chars().all(|c| c.is_ascii_alphabetic()) && pos + 1 < cluster.len() {
                    return Some(arg);
                }
            }
        }
    }
    None
}

/// The last path component of a URL, without query or fragment.
pub(super) fn url_file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let path = path.split_once("://").map_or(path, |(_, rest)| rest);
    match path.split_once('/') {
        Some((_, rest)) => basename(rest).to_string(),
        None => String::new(),
    }
}

/// What an unpacking command reads: the archive word (or `-` for stdin), whether it is tar, and
/// whether tar is told the compression.
pub(super) struct Unpack<'a> {
    pub archive: &'a ShellWord,
    pub tar: bool,
    pub compression: bool,
}

/// `tar -xzf F`, `tar xf F -C dir`, `tar --extract --file=F`, `unzip F`, `unzip -q F -d dir`.
pub(super) fn unpack(command: &Command) -> Option<Unpack<'_>> {
    let view = command.effective();
    if view.is("unzip") {
        let archive = view.positionals(&["-d", "-x", "-P", "-I", "-O"]).next()?;
        return Some(Unpack { archive, tar: false, compression: true });
    }
    if !view.is("tar") {
        return None;
    }
    let mut extract = false;
    let mut compression = false;
    let mut archive = None;
    let mut pending: Vec<char> = Vec::new();
    for (i, arg) in view.args().iter().enumerate() {
        let text = arg.literal.as_deref().unwrap_or("");
        if let Some(letter) = pending.first().copied() {
            pending.remove(0);
            if letter == 'f' {
                archive = Some(arg);
            }
            continue;
        }
        let cluster = if let Some(long) = text.strip_prefix("--") {
            let (name, value) = long.split_once('=').map_or((long, None), |(n, v)| (n, Some(v)));
            match name {
                "extract" | "get" => extract = true,
                "gzip" | "gunzip" | "bzip2" | "xz" | "zstd" | "lzma" | "lzip" | "lzop" | "ungzip" | "use-compress-program" => compression = true,
                "file" if value.is_some() => archive = Some(arg),
                "file" => pending.push('f'),
                // Options whose value is the next word.
                "directory" | "exclude" | "strip-components" | "owner" | "group" | "mode" | "transform" | "files-from" if value.is_none() => pending.push('C'),
                _ => {}
            }
            continue;
        } else if let Some(short) = text.strip_prefix('-') {
            short
        } else if i == 0 && !text.is_empty() && text.chars().all(|c| c.is_ascii_alphabetic()) {
            // Old style: `tar xzf F`.
            text
        } else {
            continue;
        };
        for (at, c) in cluster.char_indices() {
            match c {
                'x' => extract = true,
                'z' | 'j' | 'J' | 'Z' | 'a' => compression = true,
                'f' | 'C' | 'T' | 'X' | 'b' | 'H' | 'K' | 'N' | 'V' | 'L' | 'I' | 'g' | 'F' => {
                    if text.starts_with('-') && at + 1 < cluster.len() {
                        // The rest of the cluster is the value (`-fF`).
                        if c == 'f' {
                            return None;
                        }
                        break;
                    }
                    pending.push(c);
                }
                _ => {}
            }
        }
    }
    let archive = archive?;
    extract.then_some(Unpack { archive, tar: true, compression })
}

/// Whether `rm` arguments of a later command cover `file` (the file, a folder above it, or a
/// pattern naming it); `None` when an argument cannot be read.
fn removes(cwd: Option<&Dir>, command: &Command, file: &Dir) -> Option<bool> {
    let view = command.effective();
    if !view.is("rm") {
        return Some(false);
    }
    let mut covered = false;
    for word in view.args() {
        let text = match word.literal.as_deref() {
            Some(text) if text.starts_with('-') => continue,
            Some(text) => text.to_string(),
            // A pattern (`/tmp/*.tgz`) is read as written; a variable cannot be.
            None if !word.raw.contains(['$', '`']) => word.raw.replace(['"', '\''], ""),
            None => return None,
        };
        let (dir, pattern) = match text.rsplit_once('/') {
            Some((dir, pattern)) if pattern.contains(['*', '?', '[']) => (if dir.is_empty() { "/" } else { dir }, Some(pattern)),
            _ => (text.as_str(), None),
        };
        let Some(dir) = cwd.and_then(|c| c.join(dir)) else { return None };
        covered |= match pattern {
            Some(pattern) => file.below(&dir).is_some_and(|rest| rest.first().is_some_and(|first| glob(pattern, first))),
            None => file.below(&dir).is_some(),
        };
    }
    Some(covered)
}

fn finding(input: &Input, shell: &RunShell, steps: &Steps, download: &Download) -> Option<Finding> {
    let file = input.file;
    let commands = shell.script.commands();
    let run = shell.instruction;
    let uses = uses(steps, shell, download.command + 1, &download.file);
    let unpacks: Vec<(usize, Unpack)> = uses.iter().filter_map(|&(at, word)| unpack(&commands[at]).filter(|u| std::ptr::eq(u.archive, word)).map(|u| (at, u))).collect();
    let (unpack_at, unpack_info) = unpacks.into_iter().next()?;
    // Removed later in the RUN (or maybe: a variable), or moved elsewhere: nothing to do.
    for command in commands.iter().skip(download.command + 1) {
        if !removes(cwd_of(steps, command), command, &download.file).is_some_and(|covered| !covered) {
            return None;
        }
        if command.effective().is("mv") && uses.iter().any(|(at, _)| std::ptr::eq(&commands[*at], command)) {
            return None;
        }
    }
    let name = file_name(&download.file);
    let path = download.file.path();
    let shown = path.clone().unwrap_or_else(|| name.clone());
    let range = shell.source_range(file, commands[download.command].range.start..commands[unpack_at].range.end);
    let message = format!("`{shown}` is downloaded, unpacked and left in the layer");
    let mut why = format!(
        "the archive ships in the image beside what `{}` unpacked from it: delete it in the same RUN (a later RUN's `rm` would only hide it)",
        short(shell.script.text(&commands[unpack_at].range))
    );
    let refuse = |why: &str, reason: String| Some(Finding::new(&checks::LAYER_WASTE_ARCHIVE_LEFT, range.clone(), message.clone()).with_why(format!("{why}; not fixed: {reason}")));
    // Something later in the image may read the archive.
    for later in input.model().later(run) {
        let inst = &file.instructions[later];
        if inst.keyword != Keyword::From && file.text(inst.span.clone()).contains(&name) {
            return refuse(&why, format!("{} names `{name}`", at_line(inst, &file.source)));
        }
    }
    let last_use = uses.iter().map(|(at, _)| *at).max()?;
    if let Some(fix) = stream(input, shell, download, &uses, unpack_at, &unpack_info) {
        why.push_str(". Streamed into tar, the archive is never written");
        return Some(Finding::new(&checks::LAYER_WASTE_ARCHIVE_LEFT, range, message).with_why(why).with_fix(fix));
    }
    let (_, word) = uses.iter().rev().find(|(at, _)| *at == last_use)?;
    let command = &commands[last_use];
    let (Some(step), Some(item)) = (command.step, command.item) else {
        return refuse(&why, "the last command that reads it is nested (a loop, a subshell or a condition)".into());
    };
    let items = &shell.script.top_level()[step].items;
    let chained = items.get(item + 1).is_none_or(|next| next.op_before == Some(Op::And));
    if command.in_condition || command.in_subshell || command.in_loop || items[item].kind == ItemKind::Compound || !chained {
        return refuse(&why, "the last command that reads it is nested (a loop, a subshell or a condition)".into());
    }
    let spelled = if word.literal.as_deref().is_some_and(|t| t.starts_with("--")) {
        download.word.map(|w| w.raw.clone()).or(path.clone())?
    } else {
        word.raw.clone()
    };
    let at = shell.source_range(file, items[item].range.clone()).end;
    let in_tmp = path.as_deref().is_some_and(|p| within(p, "/tmp") || within(p, "/var/tmp"));
    let applicability = if in_tmp { Applicability::Safe } else { Applicability::Unsafe };
    if !in_tmp {
        why.push_str(&format!(". Unsafe: `{shown}` is outside /tmp, and a script the image runs could read it without the Dockerfile naming it"));
    }
    let fix = Fix::new(format!("Delete `{spelled}` once it is unpacked"), vec![Edit::insert(at, format!(" && rm -f {spelled}"))], applicability);
    Some(Finding::new(&checks::LAYER_WASTE_ARCHIVE_LEFT, range, message).with_why(why).with_fix(fix))
}

/// `curl -o F URL && tar -xzf F` → `curl -o - URL | tar -xzf -`, when the shell fails a pipeline on
/// its first failing command (`-o pipefail`), the two are neighbours in one `&&` list, nothing else
/// reads F, and tar is told how the archive is compressed (it cannot guess from a pipe).
fn stream(input: &Input, shell: &RunShell, download: &Download, uses: &[(usize, &ShellWord)], unpack_at: usize, unpack: &Unpack) -> Option<Fix> {
    let file = input.file;
    let script = &shell.script;
    let commands = script.commands();
    let (get, tar) = (&commands[download.command], &commands[unpack_at]);
    let word = download.word?;
    let pipefail = match input.model().shell(shell.instruction) {
        Shell::Set(words) => words.iter().any(|w| w == "pipefail"),
        Shell::Default { .. } => false,
    };
    let name = file_name(&download.file);
    let plain_tar = name.to_ascii_lowercase().ends_with(".tar");
    if !pipefail || !unpack.tar || !(unpack.compression || plain_tar) || uses.iter().any(|(at, _)| *at != unpack_at) {
        return None;
    }
    // Separate words: `-o F`, `-f F`.
    let separate = |w: &ShellWord| w.literal.as_deref().is_some_and(|t| !t.starts_with('-'));
    if !separate(word) || !separate(unpack.archive) {
        return None;
    }
    let (Some(step), Some(item)) = (get.step, get.item) else { return None };
    let items = &script.top_level()[step].items;
    let next = items.get(item + 1)?;
    let plain = |c: &Command, k: usize| items[k].kind == ItemKind::Simple && !c.in_condition && c.redirects.is_empty();
    if tar.step != Some(step) || tar.item != Some(item + 1) || next.op_before != Some(Op::And) || !plain(get, item) || !plain(tar, item + 1) {
        return None;
    }
    let gap = items[item].range.end..next.range.start;
    let and = script.text(&gap).find("&&")? + gap.start;
    let inst = &file.instructions[shell.instruction];
    let source_gap = shell.source_range(file, gap);
    if inst.lines.iter().any(|l| l.kind == LineKind::Comment && l.span.start < source_gap.end && source_gap.start < l.span.end) {
        return None;
    }
    let edits = vec![
        Edit::replace(shell.source_range(file, word.range.clone()), "-"),
        Edit::replace(shell.source_range(file, and..and + 2), "|"),
        Edit::replace(shell.source_range(file, unpack.archive.range.clone()), "-"),
    ];
    Some(Fix::new(format!("Stream the download into tar instead of writing `{name}`"), edits, Applicability::Safe))
}
