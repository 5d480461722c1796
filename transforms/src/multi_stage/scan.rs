//! One pass over the single stage: its base image, what it installs, what it builds, where it works,
//! which users it creates and what the image runs.

use std::collections::BTreeMap;

use crate::model::Input;
use crate::model::reference::ImageRef;
use crate::shell::{parse_script, Command, CommandView, ShellWord};
use crate::syntax::{assignments, expand};
use crate::syntax::{split_words, unquote, Dockerfile, Instruction, Keyword, Stage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Manager {
    Apt,
    Apk,
    Dnf,
}

/// One `apt-get install`, `apk add`, `dnf install`…
#[derive(Debug, Clone)]
pub(super) struct Install {
    pub manager: Manager,
    /// Package names as written (version pins included).
    pub packages: Vec<String>,
    /// A word that is not static (`$PACKAGES`).
    pub dynamic: bool,
}

/// A recognised command of a RUN with where it runs.
#[derive(Debug, Clone)]
pub(super) struct Built {
    pub command: Command,
    /// Index of its RUN in `Dockerfile::instructions`.
    pub instruction: usize,
    /// The working directory of the command (WORKDIR, then `cd`s of its RUN), when known.
    pub cwd: Option<String>,
    /// Known ENV values at the command, with its own `VAR=x` prefixes and earlier `export`s.
    pub env: BTreeMap<String, String>,
}

impl Built {
    pub fn view(&self) -> CommandView<'_> {
        self.command.effective()
    }
}

/// A COPY/ADD from the build context: sources (context-relative) and the absolute destination.
#[derive(Debug, Clone)]
pub(super) struct ContextCopy {
    pub sources: Vec<String>,
    /// Absolute, without a trailing `/` (except `/` itself); `None` when it cannot be followed.
    pub dest: Option<String>,
    /// The destination was written as a folder (`./`, `/app/`) or several sources are copied.
    pub dest_is_dir: bool,
}

pub(super) struct Scan<'a> {
    pub stage: &'a Stage,
    pub from: &'a Instruction,
    /// The image as written; `None` when it is not a plain reference (variables, quotes).
    pub image: Option<ImageRef>,
    pub installs: Vec<Install>,
    /// Every simple command of every RUN (shell form under a POSIX shell).
    pub commands: Vec<Built>,
    /// RUNs dockopt cannot read (exec form, heredocs, non-POSIX shell).
    pub opaque_runs: usize,
    /// Absolute working directory at the end of the stage (`None`: no WORKDIR, or not followable).
    pub final_workdir: Option<String>,
    pub has_workdir: bool,
    /// Known ENV values at the end of the stage.
    pub env: BTreeMap<String, String>,
    pub copies: Vec<ContextCopy>,
    /// Users created by RUNs (`useradd`, `adduser`).
    pub created_users: Vec<String>,
    pub cmd: Option<usize>,
    pub entrypoint: Option<usize>,
    /// The last USER: its index and value.
    pub user: Option<(usize, String)>,
    /// Whether a RUN follows the last USER.
    pub run_after_user: bool,
    /// Whether CMD, ENTRYPOINT and HEALTHCHECK are all exec form (the runtime needs no shell).
    pub exec_only: bool,
    /// `curl`/`wget` run by CMD, ENTRYPOINT or HEALTHCHECK.
    pub tools_run: Vec<String>,
}

pub(super) fn scan<'a>(input: &Input<'a>, stage: &'a Stage) -> Scan<'a> {
    let file = input.file;
    let from = &file.instructions[stage.from];
    let image_word = split_words(from.args_text(), file.escape).first().map(|w| w.raw.clone()).unwrap_or_default();
    let mut scan = Scan {
        stage,
        from,
        image: ImageRef::parse(&image_word),
        installs: Vec::new(),
        commands: Vec::new(),
        opaque_runs: 0,
        final_workdir: None,
        has_workdir: false,
        env: BTreeMap::new(),
        copies: Vec::new(),
        created_users: Vec::new(),
        cmd: None,
        entrypoint: None,
        user: None,
        run_after_user: false,
        exec_only: true,
        tools_run: Vec::new(),
    };
    // The base image's working directory is not known: `None` until a WORKDIR sets an absolute one.
    let mut workdir: Option<String> = None;
    for index in stage.instructions.clone() {
        let inst = &file.instructions[index];
        match inst.keyword {
            Keyword::Workdir => {
                scan.has_workdir = true;
                let value = expand(&unquote(inst.args_text().trim(), file.escape), &scan.env);
                workdir = if value.contains('$') { None } else { join(workdir.as_deref(), &value) };
            }
            Keyword::Env => {
                for (name, value) in assignments(inst, file.escape) {
                    // Kept with what cannot be expanded (`/opt/venv/bin:$PATH`): readers check for `$`.
                    match value.map(|v| expand(&v, &scan.env)) {
                        Some(v) => scan.env.insert(name, v),
                        None => scan.env.remove(&name),
                    };
                }
            }
            Keyword::Arg => {
                for (name, _) in assignments(inst, file.escape) {
                    scan.env.remove(&name);
                }
            }
            Keyword::Cmd => scan.cmd = Some(index),
            Keyword::Healthcheck => {
                let text = inst.args_text();
                let after_cmd = text.to_ascii_uppercase().find("CMD").map(|at| text[at + 3..].trim_start());
                if after_cmd.is_some_and(|rest| !rest.starts_with('[')) {
                    scan.exec_only = false;
                }
            }
            Keyword::Entrypoint => {
                scan.entrypoint = Some(index);
                // BuildKit resets an inherited CMD when ENTRYPOINT is set; a later CMD counts.
                scan.cmd = None;
            }
            Keyword::User => {
                scan.user = Some((index, unquote(inst.args_text().trim(), file.escape)));
                scan.run_after_user = false;
            }
            Keyword::Copy | Keyword::Add if inst.flag("from").is_none() && inst.heredocs.is_empty() => {
                scan.copies.push(context_copy(file, inst, workdir.as_deref(), &scan.env));
            }
            Keyword::Run => {
                if scan.user.is_some() {
                    scan.run_after_user = true;
                }
                match input.shell(index) {
                    Some(shell) if !shell.script.has_errors() => {
                        read_run(&mut scan, &shell.script, index, workdir.clone());
                    }
                    _ => scan.opaque_runs += 1,
                }
            }
            _ => {}
        }
    }
    scan.final_workdir = workdir;
    for index in [scan.cmd, scan.entrypoint].into_iter().flatten() {
        if file.instructions[index].exec.is_none() {
            scan.exec_only = false;
        }
    }
    for index in stage.instructions.clone() {
        let inst = &file.instructions[index];
        if matches!(inst.keyword, Keyword::Cmd | Keyword::Entrypoint | Keyword::Healthcheck) {
            for words in run_commands(file, inst) {
                if let Some(tool) = words.first().and_then(|w| w.literal.as_deref()).map(|p| p.rsplit('/').next().unwrap_or(p)) {
                    if matches!(tool, "curl" | "wget") && !scan.tools_run.iter().any(|t| t == tool) {
                        scan.tools_run.push(tool.to_string());
                    }
                }
            }
        }
    }
    scan
}

fn read_run(scan: &mut Scan, script: &crate::shell::Script, instruction: usize, workdir: Option<String>) {
    let mut cwd = workdir;
    let mut env = scan.env.clone();
    for command in script.commands() {
        let view = command.effective();
        let nested = command.in_subshell || command.in_substitution || command.in_function;
        if !nested {
            if view.is("cd") {
                cwd = match view.args().first().and_then(|w| w.literal.as_deref()) {
                    Some(dir) if !dir.starts_with('-') => join(cwd.as_deref(), dir),
                    _ => None,
                };
                continue;
            }
            if view.is("export") || command.words.is_empty() {
                let words = if command.words.is_empty() { &command.assignments } else { &command.words[1..].to_vec() };
                for word in words {
                    if let Some((name, value)) = word.literal.as_deref().and_then(|w| w.split_once('=')) {
                        env.insert(name.to_string(), value.to_string());
                    }
                }
                continue;
            }
        }
        let mut own_env = env.clone();
        for assignment in &command.assignments {
            if let Some((name, value)) = assignment.literal.as_deref().and_then(|w| w.split_once('=')) {
                own_env.insert(name.to_string(), value.to_string());
            }
        }
        // `env CGO_ENABLED=0 go build`: the wrapper's assignments.
        for word in &command.words[..command.words.len() - view.words().len()] {
            if let Some((name, value)) = word.literal.as_deref().and_then(|w| w.split_once('=')) {
                own_env.insert(name.to_string(), value.to_string());
            }
        }
        if let Some(install) = install_of(view) {
            scan.installs.push(install);
        }
        if view.is("useradd") || view.is("adduser") {
            if let Some(name) = view.args().iter().rev().find_map(|w| w.literal.clone().filter(|l| !l.starts_with('-'))) {
                scan.created_users.push(name);
            }
        }
        scan.commands.push(Built { command: command.clone(), instruction, cwd: cwd.clone(), env: own_env });
    }
}

/// The packages of an install command.
fn install_of(view: CommandView) -> Option<Install> {
    let (manager, subcommands, value_options): (Manager, &[&str], &[&str]) = match view.basename()? {
        "apt-get" | "apt" | "aptitude" => (Manager::Apt, &["install"], &["-o", "-t", "--target-release", "-c"]),
        "apk" => (Manager::Apk, &["add"], &["-t", "--virtual", "-X", "--repository", "--root", "-p"]),
        "dnf" | "yum" | "microdnf" => (Manager::Dnf, &["install"], &["--setopt", "--repo", "--enablerepo", "--disablerepo"]),
        _ => return None,
    };
    let mut positionals = view.positionals(value_options);
    let sub = positionals.next()?;
    if !subcommands.iter().any(|s| sub.is(s)) {
        return None;
    }
    let mut install = Install { manager, packages: Vec::new(), dynamic: false };
    for word in positionals {
        match &word.literal {
            Some(name) => install.packages.push(name.clone()),
            None => install.dynamic = true,
        }
    }
    // `apk add --virtual .build-deps gcc`: a virtual package groups build dependencies.
    if manager == Manager::Apk && (view.has_flag(Some('t'), Some("virtual"))) {
        install.packages.retain(|p| !p.starts_with('.'));
    }
    Some(install)
}

fn context_copy(file: &Dockerfile, inst: &Instruction, workdir: Option<&str>, env: &BTreeMap<String, String>) -> ContextCopy {
    let words: Vec<String> = match &inst.exec {
        Some(list) => list.clone(),
        None => split_words(inst.args_text(), file.escape).iter().map(|w| unquote(&w.raw, file.escape)).collect(),
    };
    let Some((dest, sources)) = words.split_last() else {
        return ContextCopy { sources: Vec::new(), dest: None, dest_is_dir: false };
    };
    let dest_value = expand(dest, env);
    let dest_is_dir = sources.len() > 1 || dest_value.ends_with('/') || dest_value == ".";
    let dest = if dest_value.contains('$') { None } else { join(workdir, &dest_value) };
    ContextCopy { sources: sources.iter().map(|s| expand(s, env)).collect(), dest, dest_is_dir }
}

/// `path` resolved against `dir` and normalised (`.`/`..` removed, no trailing `/`).
pub(super) fn join(dir: Option<&str>, path: &str) -> Option<String> {
    let full = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{}/{path}", dir?)
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in full.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// `path` relative to `dir` when it lies inside it (`""` for `dir` itself).
pub(super) fn inside<'p>(path: &'p str, dir: &str) -> Option<&'p str> {
    if dir == "/" {
        return Some(path.trim_start_matches('/'));
    }
    let rest = path.strip_prefix(dir)?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix('/')
    }
}

impl Scan<'_> {
    /// Every package the stage installs, with the manager.
    pub fn packages(&self) -> impl Iterator<Item = (Manager, &str)> {
        self.installs.iter().flat_map(|i| i.packages.iter().map(move |p| (i.manager, p.as_str())))
    }

    /// The context path of the file that lands at absolute `path`, when a COPY of the context says.
    pub fn context_path(&self, path: &str) -> Option<String> {
        for copy in self.copies.iter().rev() {
            let Some(dest) = copy.dest.as_deref() else { continue };
            for source in &copy.sources {
                let source = source.trim_start_matches("./").trim_end_matches('/');
                let source = if source == "." { "" } else { source };
                if source.contains(['*', '?', '[']) {
                    continue;
                }
                let rest = inside(path, dest);
                if source.is_empty() {
                    if let Some(rest) = rest.filter(|r| !r.is_empty()) {
                        return Some(rest.to_string());
                    }
                    continue;
                }
                let name = source.rsplit('/').next().unwrap_or(source);
                if copy.dest_is_dir && rest == Some(name) {
                    return Some(source.to_string());
                }
                if copy.sources.len() == 1 {
                    match rest {
                        Some("") if !copy.dest_is_dir => return Some(source.to_string()),
                        Some(rest) if !rest.is_empty() => return Some(format!("{source}/{rest}")),
                        _ => {}
                    }
                }
            }
        }
        None
    }

    /// Whether the context is copied into `dir` (or a folder inside it).
    pub fn copies_into(&self, dir: &str) -> bool {
        self.copies.iter().any(|c| c.dest.as_deref().is_some_and(|d| inside(d, dir).is_some()))
    }
}

/// The words of the command an instruction runs (CMD, ENTRYPOINT, HEALTHCHECK), per simple command.
pub(super) fn run_commands(file: &Dockerfile, inst: &Instruction) -> Vec<Vec<ShellWord>> {
    if let Some(exec) = &inst.exec {
        let mut words: Vec<ShellWord> = exec.iter().map(|w| ShellWord { range: 0..0, raw: w.clone(), literal: Some(w.clone()) }).collect();
        if inst.keyword == Keyword::Healthcheck {
            // `HEALTHCHECK CMD [...]` has no exec form of its own; kept for completeness.
            words.retain(|w| !w.is("CMD"));
        }
        return vec![words];
    }
    let mut text = inst.args_text().to_string();
    if inst.keyword == Keyword::Healthcheck {
        // `HEALTHCHECK [--flags] CMD <command>`: the command after CMD.
        let words = split_words(&text, file.escape);
        match words.iter().position(|w| w.raw.eq_ignore_ascii_case("cmd")) {
            Some(at) => text = text[words[at].range.end..].to_string(),
            None => return Vec::new(),
        }
        let trimmed = text.trim_start();
        if trimmed.starts_with('[') {
            if let Ok(list) = serde_json::from_str::<Vec<String>>(trimmed) {
                return vec![list.into_iter().map(|w| ShellWord { range: 0..0, raw: w.clone(), literal: Some(w) }).collect()];
            }
        }
    }
    let script = parse_script(&text);
    script
        .commands()
        .iter()
        .filter(|c| !c.in_substitution)
        .map(|c| c.effective().words().to_vec())
        .filter(|w| !w.is_empty())
        .collect()
}
