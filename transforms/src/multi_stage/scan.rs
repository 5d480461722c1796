//! One pass over the single stage: its base image, what it installs, what it builds, where it works,
//! which users it creates and what the image runs.

use crate::model::reference::{glob, ImageRef};
use crate::model::{Dir, From, Input, Model, Read, Steps};
use crate::shell::{Command, CommandView, ShellWord};
use crate::syntax::{split_words, unquote, Instruction, Keyword, Stage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Manager {
    Apt,
    Apk,
    Dnf,
}

/// One `apt-get install`, `apk add`, `dnf install`…
#[derive(Debug, Clone)]
pub(super) struct Install<'a> {
    pub manager: Manager,
    /// Package names as written (version pins included).
    pub packages: Vec<String>,
    /// The words of `packages`, in the same order.
    pub words: Vec<&'a ShellWord>,
    /// A word that is not static (`$PACKAGES`).
    pub dynamic: bool,
    /// Index of its RUN in `Dockerfile::instructions`.
    pub instruction: usize,
    pub command: &'a Command,
}

/// A command of a RUN with where it runs.
pub(super) struct Built<'a> {
    pub command: &'a Command,
    /// Index of its RUN in `Dockerfile::instructions`.
    pub instruction: usize,
    /// The working directory of the command (WORKDIR, then `cd`s of its RUN), when known.
    pub cwd: Option<String>,
    /// Its place in `Scan::runs`: the RUN, then the command.
    at: (usize, usize),
}

impl Built<'_> {
    pub fn view(&self) -> CommandView<'_> {
        self.command.effective()
    }
}

pub(super) struct Scan<'a> {
    pub stage: &'a Stage,
    pub from: &'a Instruction,
    /// The image as written; `None` when it is not a plain reference (variables, quotes).
    pub image: Option<ImageRef>,
    pub installs: Vec<Install<'a>>,
    /// Every simple command of every RUN (shell form under a POSIX shell).
    pub commands: Vec<Built<'a>>,
    runs: Vec<Steps<'a>>,
    model: &'a Model,
    /// RUNs dockopt cannot read (exec form, heredocs, non-POSIX shell).
    pub opaque_runs: usize,
    /// Absolute working directory at the end of the stage (`None`: no WORKDIR, or not followable).
    pub final_workdir: Option<String>,
    /// What the stage copies from the build context.
    pub copies: Vec<&'a Read>,
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
    /// The build context's listing, when known.
    context_files: Option<&'a [String]>,
}

pub(super) fn scan<'a>(input: &'a Input<'a>, stage: &'a Stage) -> Scan<'a> {
    let (file, model) = (input.file, input.model());
    let from = &file.instructions[stage.from];
    let image_word = split_words(from.args_text(), file.escape).first().map(|w| w.raw.clone()).unwrap_or_default();
    let last = stage.instructions.end - 1;
    let mut scan = Scan {
        stage,
        from,
        image: ImageRef::parse(&image_word),
        installs: Vec::new(),
        commands: Vec::new(),
        runs: Vec::new(),
        model,
        opaque_runs: 0,
        final_workdir: model.workdir_after(last).and_then(Dir::path),
        copies: Vec::new(),
        created_users: Vec::new(),
        cmd: None,
        entrypoint: None,
        user: None,
        run_after_user: false,
        exec_only: true,
        tools_run: Vec::new(),
        context_files: input.context.files.as_deref(),
    };
    for index in stage.instructions.clone() {
        let inst = &file.instructions[index];
        match inst.keyword {
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
            Keyword::Copy | Keyword::Add if inst.heredocs.is_empty() => {
                scan.copies.extend(model.reads_of(index).iter().filter(|r| r.from == From::Context));
            }
            Keyword::Run => {
                if scan.user.is_some() {
                    scan.run_after_user = true;
                }
                match input.steps(index) {
                    Some(steps) => read_run(&mut scan, steps),
                    None => scan.opaque_runs += 1,
                }
            }
            _ => {}
        }
    }
    for index in [scan.cmd, scan.entrypoint].into_iter().flatten() {
        if file.instructions[index].exec.is_none() {
            scan.exec_only = false;
        }
    }
    for index in stage.instructions.clone() {
        let inst = &file.instructions[index];
        if matches!(inst.keyword, Keyword::Cmd | Keyword::Entrypoint | Keyword::Healthcheck) {
            for words in input.image_commands(index) {
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

fn read_run<'a>(scan: &mut Scan<'a>, steps: Steps<'a>) {
    let run = scan.runs.len();
    for (at, step) in steps.steps.iter().enumerate() {
        let view = step.command.effective();
        if let Some(install) = install_of(step.command, steps.instruction) {
            scan.installs.push(install);
        }
        if view.is("useradd") || view.is("adduser") {
            if let Some(name) = view.args().iter().rev().find_map(|w| w.literal.clone().filter(|l| !l.starts_with('-'))) {
                scan.created_users.push(name);
            }
        }
        let cwd = step.cwd.as_ref().and_then(Dir::path);
        scan.commands.push(Built { command: step.command, instruction: steps.instruction, cwd, at: (run, at) });
    }
    scan.runs.push(steps);
}

/// The packages of an install command.
fn install_of(command: &Command, instruction: usize) -> Option<Install<'_>> {
    let view = command.effective();
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
    let mut install = Install { manager, packages: Vec::new(), words: Vec::new(), dynamic: false, instruction, command };
    // `apk add --virtual .build-deps gcc`: a virtual package groups build dependencies.
    let is_virtual = manager == Manager::Apk && view.has_flag(Some('t'), Some("virtual"));
    for word in positionals {
        match &word.literal {
            Some(name) if is_virtual && name.starts_with('.') => {}
            Some(name) => {
                install.packages.push(name.clone());
                install.words.push(word);
            }
            None => install.dynamic = true,
        }
    }
    Some(install)
}

impl Scan<'_> {
    /// ENV variable `name` where `built` runs: its own `NAME=x`, the RUN's exports, then the ENV
    /// in force (expanded as far as known; readers check for `$`).
    pub fn var(&self, built: &Built, name: &str) -> Option<String> {
        let steps = &self.runs[built.at.0];
        steps.var(&steps.steps[built.at.1], name)
    }

    /// ENV variable `name` at the end of the stage.
    pub fn final_var(&self, name: &str) -> Option<String> {
        self.model.final_binding(name, self.stage.index).filter(|b| !b.from_arg).map(|b| b.value.clone())
    }

    /// Every package the stage installs, with the manager.
    pub fn packages(&self) -> impl Iterator<Item = (Manager, &str)> {
        self.installs.iter().flat_map(|i| i.packages.iter().map(move |p| (i.manager, p.as_str())))
    }

    /// The context path of the file that lands at absolute `path`, when a COPY of the context says.
    pub fn context_path(&self, path: &str) -> Option<String> {
        for copy in self.copies.iter().rev() {
            let Some(dest) = copy.dest_dir.as_ref().and_then(Dir::path) else { continue };
            let dest_is_dir = copy.sources.len() > 1 || copy.dest.ends_with('/') || copy.dest == ".";
            let rest = Dir::inside(path, &dest);
            // `COPY package*.json ./`: a file whose name the glob (its last segment) matches.
            for source in copy.sources.iter().filter(|s| s.glob) {
                let (folder, pattern) = source.path.rsplit_once('/').map_or(("", source.path.as_str()), |(d, p)| (d, p));
                let Some(name) = rest.as_deref().filter(|r| !r.contains('/')) else { continue };
                if !folder.contains(['*', '?', '[']) && glob(pattern, name) {
                    return Some(if folder.is_empty() { name.to_string() } else { format!("{folder}/{name}") });
                }
            }
            for source in copy.sources.iter().filter(|s| !s.glob) {
                let source = source.path.as_str();
                if source.is_empty() {
                    if let Some(rest) = rest.as_ref().filter(|r| !r.is_empty()) {
                        return Some(rest.clone());
                    }
                    continue;
                }
                let name = source.rsplit('/').next().unwrap_or(source);
                if dest_is_dir && rest.as_deref() == Some(name) {
                    return Some(source.to_string());
                }
                if copy.sources.len() == 1 {
                    // A file of the context (`COPY app.rb ./`) holds nothing below it.
                    let is_file = self.context_files.is_some_and(|files| files.iter().any(|f| f == source));
                    match rest.as_deref() {
                        Some("") if !dest_is_dir => return Some(source.to_string()),
                        Some(rest) if !rest.is_empty() && !is_file => return Some(format!("{source}/{rest}")),
                        _ => {}
                    }
                }
            }
        }
        None
    }

    /// Whether the context is copied into `dir` (or a folder inside it).
    pub fn copies_into(&self, dir: &str) -> bool {
        self.copies.iter().any(|c| c.dest_dir.as_ref().and_then(Dir::path).is_some_and(|d| Dir::inside(&d, dir).is_some()))
    }
}
