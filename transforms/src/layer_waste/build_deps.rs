//! Packages installed only to build (compilers, `-dev` headers, `build-essential`, `git` to fetch)
//! and used only by later commands of the same RUN: purged at the end of that RUN, they never reach
//! the layer. The run-time library of each purged `-dev` package stays (multi-stage's -dev →
//! library map). Check `layer-waste/build-deps`.

use super::knowledge::knowledge;
use super::{at_line, short};
use crate::checks;
use crate::fix::{Applicability, Edit, Finding, Fix};
use crate::knowledge::build_packages::{build_packages, Family, Runtime};
use crate::knowledge::package_managers::{managers, Invocation};
use crate::model::edits::{append_point, has_comment_lines, Layout};
use crate::model::reference::ImageRef;
use crate::model::{Input, RunShell};
use crate::shell::{Command, ItemKind, ShellWord};
use crate::syntax::{split_words, Keyword, Stage};

/// The name apk's purge groups build packages under.
const VIRTUAL: &str = ".build-deps";

/// One install command of an OS package manager.
struct Install<'a> {
    family: Family,
    invocation: Invocation<'a>,
    /// Index into `Script::commands`.
    command: usize,
    /// The package words, with their names without a version pin.
    packages: Vec<(&'a ShellWord, String)>,
}

pub(super) fn findings(input: &Input, stage: &Stage) -> Vec<Finding> {
    let mut findings = Vec::new();
    for index in stage.instructions.clone() {
        if input.file.instructions[index].keyword != Keyword::Run {
            continue;
        }
        let Some(shell) = input.shell(index) else { continue };
        if shell.script.has_errors() {
            continue;
        }
        for (at, command) in shell.script.commands().iter().enumerate() {
            if command.step.is_none() {
                continue;
            }
            let Some(install) = install(at, command) else { continue };
            findings.extend(finding(input, stage, shell, &install));
        }
    }
    findings
}

/// `apt-get install …`, `apk add …`, `dnf install …` (`yum`, `microdnf`), with every package
/// written out (no variable).
fn install(at: usize, command: &Command) -> Option<Install<'_>> {
    let (family, subcommand) = [("apt-get", Family::Debian, "install"), ("apk", Family::Alpine, "add"), ("dnf", Family::Rpm, "install"), ("yum", Family::Rpm, "install"), ("microdnf", Family::Rpm, "install")]
        .into_iter()
        .find_map(|(name, family, sub)| {
            let manager = managers().iter().find(|m| m.name == name)?;
            let invocation = manager.invocation(at, command)?;
            invocation.runs(sub).map(|_| ((family, invocation), sub))
        })?;
    let (family, invocation) = family;
    if invocation.changes_nothing() {
        return None;
    }
    let words = subcommand.split_whitespace().count();
    let mut packages = Vec::new();
    for word in invocation.positionals().into_iter().skip(words) {
        let text = word.literal.as_deref()?;
        let name = match family {
            Family::Rpm => text,
            _ => text.split(['=', '~', '<', '>', '@', '/']).next().unwrap_or(text),
        };
        packages.push((word, name.to_string()));
    }
    Some(Install { family, invocation, command: at, packages })
}

/// Whether a command (its words, program first) runs one of `programs` or builds.
fn uses(words: &[ShellWord], programs: &[&str]) -> bool {
    let Some((program, args)) = words.split_first() else { return false };
    let Some(name) = program.literal.as_deref().map(|p| p.rsplit('/').next().unwrap_or(p)) else { return false };
    let first = args.iter().find(|w| w.literal.as_deref().is_some_and(|t| !t.starts_with('-'))).and_then(|w| w.literal.as_deref());
    programs.contains(&name) || build_packages().builds(name, first)
}

fn finding(input: &Input, stage: &Stage, shell: &RunShell, install: &Install) -> Option<Finding> {
    let file = input.file;
    let model = input.model();
    let k = knowledge();
    let packages = build_packages();
    let run = shell.instruction;
    let build: Vec<&str> = install.packages.iter().map(|(_, n)| n.as_str()).filter(|n| packages.is_build_only(n)).collect();
    if build.is_empty() {
        return None;
    }
    let commands = shell.script.commands();
    let programs: Vec<&str> = build.iter().flat_map(|p| k.programs_of(p)).collect();
    let later_here = &commands[install.command + 1..];
    // Already purged in the RUN: nothing to add.
    if later_here.iter().any(|c| purges(c)) || install.invocation.view.has_flag(Some('t'), Some("virtual")) && later_here.iter().any(|c| c.effective().is("apk")) {
        return None;
    }
    let used_here = later_here.iter().any(|c| uses(c.effective().words(), &programs));
    let range = shell.source_range(file, commands[install.command].range.clone());
    let names = build.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
    let message = format!("{names} {} installed only to build and {} in the image", if build.len() == 1 { "is" } else { "are" }, if build.len() == 1 { "stays" } else { "stay" });
    let why = "build tools and headers ship in the image though only the build needs them: purged at the end of the RUN that used them, they never reach its layer (a multi-stage build does better still: `dockopt explain multi-stage`)";
    let refuse = |reason: String| Some(Finding::new(&checks::LAYER_WASTE_BUILD_DEPS, range.clone(), message.clone()).with_why(format!("{why}; not purged: {reason}")));
    // A later RUN or the image's command that uses them needs them installed.
    for later in model.later(run) {
        let inst = &file.instructions[later];
        let user = match inst.keyword {
            Keyword::Run => match input.shell(later) {
                Some(s) => s.script.commands().iter().find(|c| uses(c.effective().words(), &programs)).map(|c| short(s.script.text(&c.range))),
                None => Some(short(inst.args_text())),
            },
            Keyword::Cmd | Keyword::Entrypoint | Keyword::Healthcheck => input
                .image_commands(later)
                .iter()
                .find(|words| uses(words, &programs))
                .map(|words| short(&words.iter().map(|w| w.raw.as_str()).collect::<Vec<_>>().join(" "))),
            _ => None,
        };
        if let Some(user) = user {
            if !used_here {
                return refuse(format!("{} uses them (`{user}`); purge them at the end of the RUN that builds, once it is one RUN with the install", at_line(inst, &file.source)));
            }
            return refuse(format!("{} uses them too (`{user}`)", at_line(inst, &file.source)));
        }
    }
    let toolchain_base = base_image(input, stage).filter(|i| k.has_toolchain(i));
    if !used_here {
        return match toolchain_base {
            None if runs_a_program(input, run) && !runs_unseen_code(input, run, &later_here) => Some(unused(install, &build, range)),
            _ => None,
        };
    }
    if let Some(image) = toolchain_base {
        return refuse(format!("the base image `{}` already has compilers and headers: purging would remove its own tools and save nothing", image.familiar()));
    }
    let inst = &file.instructions[run];
    if has_comment_lines(inst) && install.family == Family::Alpine {
        return refuse("a comment line sits inside the RUN".into());
    }
    let at = match append_point(file, shell) {
        Ok(at) => at,
        Err(reason) => return refuse(reason),
    };
    let mut purged: Vec<&str> = Vec::new();
    let mut kept: Vec<&str> = Vec::new();
    let mut libraries: Vec<String> = Vec::new();
    for package in &build {
        match packages.runtime(install.family, package) {
            Runtime::Unknown => kept.push(package),
            Runtime::Library(library) => {
                purged.push(package);
                libraries.push(library);
            }
            Runtime::Nothing => purged.push(package),
        }
        if purged.last() == Some(package) {
            let keeps: Vec<String> = k.keeps_of(package).map(str::to_string).collect();
            if install.family == Family::Rpm && !keeps.is_empty() {
                // `dnf remove` also removes what it pulled in (clean_requirements_on_remove), and
                // nothing here marks the run-time part as installed by hand: the package stays.
                purged.pop();
                kept.push(package);
                continue;
            }
            libraries.extend(keeps);
        }
    }
    libraries.sort();
    libraries.dedup();
    // A library the install names already stays (installed by hand).
    libraries.retain(|l| !install.packages.iter().any(|(_, name)| name == l));
    if purged.is_empty() {
        return refuse(format!("the run-time library of {} is not known (transforms/knowledge/multi-stage.toml)", kept.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")));
    }
    let layout = Layout::of(file, inst);
    let mut edits = Vec::new();
    let purge = match install.family {
        Family::Debian => {
            let keep = if libraries.is_empty() { String::new() } else { format!("apt-mark manual {} && ", libraries.join(" ")) };
            format!("{keep}apt-get purge -y --auto-remove {}", purged.join(" "))
        }
        Family::Rpm => {
            let program = install.invocation.program_name();
            let yes = if program == "microdnf" { "" } else { " -y" };
            format!("{program} remove{yes} {}", purged.join(" "))
        }
        Family::Alpine => {
            edits.push(apk_split(input, shell, install, &purged, &libraries)?);
            format!("apk del {VIRTUAL}")
        }
    };
    edits.push(Edit::insert(at, layout.append(&purge)));
    let mut reasons = vec![format!(
        "the image no longer has {} at run time; a script or the program itself could run one without the Dockerfile showing it",
        purged.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
    )];
    if install.family == Family::Debian {
        reasons.push("`--auto-remove` also removes what only they pulled in".into());
    }
    let mut title = format!("Purge {} at the end of the RUN", purged.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "));
    if !libraries.is_empty() {
        title.push_str(&format!(", keeping {}", libraries.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", ")));
    }
    if !kept.is_empty() {
        title.push_str(&format!(" ({} stays: what it leaves for the run time is not known to stay)", kept.join(", ")));
    }
    let why = format!("{why}. Unsafe: {}", reasons.join("; "));
    Some(Finding::new(&checks::LAYER_WASTE_BUILD_DEPS, range, message).with_why(why).with_fix(Fix::new(title, edits, Applicability::Unsafe)))
}

/// Build packages of the shipped image that nothing in the Dockerfile uses: no fix (the program
/// may run them, which the Dockerfile does not show), but what to install instead.
fn unused(install: &Install, build: &[&str], range: std::ops::Range<usize>) -> Finding {
    let k = knowledge();
    let one = build.len() == 1;
    let names = build.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
    let message = format!(
        "{names} {} installed to build, but no command of the Dockerfile builds with {}: {} in the image",
        if one { "is" } else { "are" },
        if one { "it" } else { "them" },
        if one { "it ships" } else { "they ship" }
    );
    let mut instead = Vec::new();
    for package in build {
        let mut wanted: Vec<String> = k.keeps_of(package).map(str::to_string).collect();
        if let Runtime::Library(library) = build_packages().runtime(install.family, package) {
            wanted.push(library);
        }
        wanted.retain(|w| !install.packages.iter().any(|(_, name)| name == w));
        if !wanted.is_empty() {
            let list = wanted.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(" and ");
            instead.push(format!("instead of `{package}`, {list}"));
        }
    }
    let mut why = format!(
        "compilers, build tools and headers cost the image their size and their vulnerabilities, yet no RUN, CMD or ENTRYPOINT here runs them or builds with them: drop {} from the install unless the program itself runs {} at run time",
        if one { "it" } else { "them" },
        if one { "it" } else { "them" }
    );
    if !instead.is_empty() {
        why.push_str(&format!("; what the program needs of them at run time is smaller: {}", instead.join("; ")));
    }
    why.push_str(". When a build needs them, build in a stage of its own and copy the result (`dockopt explain multi-stage`)");
    Finding::new(&checks::LAYER_WASTE_BUILD_DEPS, range, message).with_why(why)
}

const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "ash"];

/// Whether the image this Dockerfile makes runs a program of its own: a CMD or ENTRYPOINT after
/// the install that is not a bare shell. Images without one (a base or SDK image for others to
/// build on) and shells (a toolbox, a dev container) ship their build tools on purpose.
fn runs_a_program(input: &Input, run: usize) -> bool {
    input
        .model()
        .later(run)
        .filter(|&i| matches!(input.file.instructions[i].keyword, Keyword::Cmd | Keyword::Entrypoint))
        .flat_map(|i| input.image_commands(i))
        .any(|words| match words.as_slice() {
            [program] => program.literal.as_deref().is_none_or(|p| !SHELLS.contains(&p.rsplit('/').next().unwrap_or(p))),
            words => !words.is_empty(),
        })
}

/// Whether the rest of the install's RUN or a later instruction of the image runs code the
/// Dockerfile does not show (a script of the context or one it copies in, a program named by a
/// variable): it may build with the packages, so they cannot be called unused.
fn runs_unseen_code(input: &Input, run: usize, later_here: &[Command]) -> bool {
    let file = input.file;
    // The file names COPY and ADD bring in (any stage: conservative): a program by one of them is theirs.
    let copied: Vec<String> = file
        .instructions
        .iter()
        .filter(|inst| matches!(inst.keyword, Keyword::Copy | Keyword::Add))
        .flat_map(|inst| split_words(inst.args_text(), file.escape))
        .filter(|w| !w.raw.starts_with("--"))
        .filter_map(|w| w.raw.trim_end_matches('/').rsplit('/').next().map(str::to_string))
        .collect();
    let opaque = |words: &[ShellWord]| {
        let Some((program, args)) = words.split_first() else { return false };
        let Some(name) = program.literal.as_deref() else { return true };
        let base = name.rsplit('/').next().unwrap_or(name);
        let script_argument = args.iter().find(|w| w.literal.as_deref().is_none_or(|t| !t.starts_with('-')));
        let shell = SHELLS.contains(&base) && !args.iter().any(|w| w.is("-c")) && script_argument.is_some();
        name.contains('/') && !name.starts_with("/usr/") && !name.starts_with("/bin/") || name.ends_with(".sh") || shell || copied.iter().any(|c| c == base)
    };
    if later_here.iter().any(|c| opaque(c.effective().words())) {
        return true;
    }
    input.model().later(run).into_iter().any(|later| match input.file.instructions[later].keyword {
        Keyword::Run => input.shell(later).is_none_or(|s| s.script.commands().iter().any(|c| opaque(c.effective().words()))),
        Keyword::Cmd | Keyword::Entrypoint | Keyword::Healthcheck => input.image_commands(later).iter().any(|words| opaque(words)),
        _ => false,
    })
}

/// `apk add --no-cache python3 gcc musl-dev` → `apk add --no-cache python3 && apk add --no-cache
/// --virtual .build-deps gcc musl-dev`: `apk del .build-deps` then removes exactly the build
/// packages and what only they pulled in. The run-time libraries join the first.
fn apk_split(input: &Input, shell: &RunShell, install: &Install, purged: &[&str], libraries: &[String]) -> Option<Edit> {
    let file = input.file;
    let command = &shell.script.commands()[install.command];
    let (Some(step), Some(item)) = (command.step, command.item) else { return None };
    let chain_item = &shell.script.top_level()[step].items[item];
    if chain_item.kind != ItemKind::Simple || command.in_condition || !command.redirects.is_empty() {
        return None;
    }
    let view = install.invocation.view;
    let add_at = view.words().iter().position(|w| w.is("add"))?;
    let is_package = |w: &ShellWord| install.packages.iter().any(|(p, _)| std::ptr::eq(*p, w));
    // Everything up to `add`, then the options wherever they are written.
    let head: Vec<&str> = command.words[..command.words.len() - view.words().len() + add_at + 1].iter().map(|w| w.raw.as_str()).collect();
    let options: Vec<&str> = view.words()[add_at + 1..].iter().filter(|w| !is_package(w)).map(|w| w.raw.as_str()).collect();
    let runtime: Vec<String> = install
        .packages
        .iter()
        .filter(|(_, name)| !purged.contains(&name.as_str()))
        .map(|(w, _)| w.raw.clone())
        .chain(libraries.iter().cloned())
        .collect();
    let build: Vec<&str> = install.packages.iter().filter(|(_, name)| purged.contains(&name.as_str())).map(|(w, _)| w.raw.as_str()).collect();
    let prefix = head.iter().copied().chain(options.iter().copied()).collect::<Vec<_>>().join(" ");
    let virtual_add = format!("{prefix} --virtual {VIRTUAL} {}", build.join(" "));
    let text = if runtime.is_empty() { virtual_add } else { format!("{prefix} {} && {virtual_add}", runtime.join(" ")) };
    Some(Edit::replace(shell.source_range(file, command.range.clone()), text))
}

/// Whether a command removes packages: `apt-get purge|remove|autoremove`, `apk del`, `dnf remove`.
fn purges(command: &Command) -> bool {
    let view = command.effective();
    let sub = view.subcommand();
    match view.basename() {
        Some("apt-get" | "apt") => matches!(sub, Some("purge" | "remove" | "autoremove")),
        Some("apk") => sub == Some("del"),
        Some("dnf" | "yum" | "microdnf" | "dnf5") => matches!(sub, Some("remove" | "erase" | "autoremove")),
        _ => false,
    }
}

/// The stage's base image (its own FROM, or that of the stage it is built on).
fn base_image(input: &Input, stage: &Stage) -> Option<ImageRef> {
    let model = input.model();
    let root = model.lineage(stage.index).last()?;
    let from = &input.file.instructions[input.file.stages[root].from];
    let word = split_words(from.args_text(), input.file.escape).into_iter().find(|w| !w.raw.starts_with("--"))?;
    ImageRef::parse(&model.from_text(&word.raw))
}
