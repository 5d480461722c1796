//! What a RUN after the full COPY does with the dependencies, and how it can come first: moved
//! whole, split after its install, or preceded by a dependency-only step.

use std::ops::Range;

use super::knowledge::{is_context_free, recognise, Recognised, Role};
use crate::model::listing::Listing;
use crate::model::Dir;
use super::reads::Install;
use crate::model::Input;
use crate::shell::{ChainItem, Command, CommandKind, ItemKind, Op, Script};
use crate::syntax::Keyword;

/// How a RUN relates to the sources.
pub(super) enum RunKind<'a> {
    /// Reads nothing from the working directory: the full COPY may move past it.
    ContextFree,
    /// Runs dependency commands.
    Dependencies(DependencyRun<'a>),
    /// May read the sources.
    Other,
}

pub(super) struct DependencyRun<'a> {
    /// The first dependency command, as messages name it (`npm ci`).
    pub lead: String,
    /// It is a build that downloads the dependencies on the way (`go build`).
    pub build: bool,
    pub plan: Result<Plan<'a>, String>,
}

pub(super) struct Plan<'a> {
    pub kind: PlanKind,
    pub installs: Vec<Install<'a>>,
}

pub(super) enum PlanKind {
    /// The whole RUN runs before the full COPY.
    Whole,
    /// The RUN is split: the script range `junction` (between the install and the rest) becomes
    /// the full COPY and a new RUN.
    Split { junction: Range<usize> },
    /// A dependency-only RUN with this script goes before the full COPY; the RUN stays.
    /// `at_copy`: the script names its project from the full COPY's destination (a WORKDIR
    /// between them moved the build elsewhere), so it goes right before the full COPY.
    WarmUp { script: String, command: String, at_copy: bool },
}

/// The RUN at `index`, whose working directory is `dir`, seen from a full COPY to `dest`.
pub(super) fn analyse<'a>(input: &'a Input, index: usize, dir: Option<&Dir>, dest: Option<&Dir>, listing: Option<&Listing>) -> RunKind<'a> {
    let inst = &input.file.instructions[index];
    if inst.keyword != Keyword::Run {
        return RunKind::Other;
    }
    let Some(shell) = input.shell(index) else {
        let bodies: String = inst.heredocs.iter().map(|h| input.file.text(h.body.clone())).collect();
        let text = if bodies.is_empty() { inst.args_text() } else { bodies.as_str() };
        return opaque_run(inst.exec.as_deref(), text);
    };
    let script = &shell.script;
    let commands = script.commands();
    let recognised: Vec<Recognised> = commands.iter().enumerate().filter_map(|(i, c)| recognise(i, c)).collect();
    let Some(first) = recognised.first().copied() else {
        let free = !script.has_errors() && commands.iter().all(|c| is_state(c) || is_context_free(c));
        return if free { RunKind::ContextFree } else { RunKind::Other };
    };
    // Messages name the first command that reads the context (`pip install -r`, not the
    // `pip install cython` before it).
    let reader = recognised.iter().find(|r| !is_context_free(r.command)).unwrap_or(&first);
    let lead = lead_text(script, reader);
    let plan = plan(script, &first, dir, dest, listing).map(|(kind, installs)| Plan { kind, installs });
    RunKind::Dependencies(DependencyRun { lead, build: first.role == Role::Build, plan })
}

/// Exec-form and heredoc RUNs are not rewritten; one that names a dependency tool is reported.
fn opaque_run<'a>(exec: Option<&[String]>, args: &str) -> RunKind<'a> {
    let text = match exec {
        Some(words) => words.join(" "),
        None => args.to_string(),
    };
    let script = crate::shell::parse_script(&text);
    let found = script.commands().iter().enumerate().find_map(|(i, c)| recognise(i, c).map(|r| lead_text(&script, &r)));
    match found {
        Some(lead) => RunKind::Dependencies(DependencyRun {
            lead,
            build: false,
            plan: Err(if exec.is_some() { "the install is an exec-form RUN".into() } else { "the install is in a heredoc or under a non-POSIX SHELL".into() }),
        }),
        None => RunKind::Other,
    }
}

/// `npm ci`, `pip install`: the program and its subcommand, as messages name the command.
fn lead_text(script: &Script, rec: &Recognised) -> String {
    let text = script.text(&rec.command.range).trim();
    if text.len() <= 48 && !text.contains('\n') {
        return text.to_string();
    }
    let name = rec.view.name().unwrap_or_default();
    match rec.positionals().first().and_then(|p| p.literal.as_deref()) {
        Some(sub) => format!("{name} {sub}"),
        None => name.to_string(),
    }
}

/// Commands that only set shell state for the commands after them.
fn is_state(command: &Command) -> bool {
    matches!(command.kind, CommandKind::Assignment | CommandKind::Declaration)
        || matches!(command.name(), Some("cd" | "set" | "export" | ":" | "umask"))
}

/// One top-level item with where it sits.
struct Item<'s> {
    item: &'s ChainItem,
    step: usize,
}

fn plan<'a>(
    script: &'a Script,
    first: &Recognised<'a>,
    dir: Option<&Dir>,
    dest: Option<&Dir>,
    listing: Option<&Listing>,
) -> Result<(PlanKind, Vec<Install<'a>>), String> {
    if script.has_errors() {
        return Err("the RUN's shell script does not parse reliably".into());
    }
    let items: Vec<Item> = script
        .top_level()
        .iter()
        .enumerate()
        .flat_map(|(step, s)| s.items.iter().map(move |item| Item { item, step }))
        .collect();
    if script.top_level().iter().any(|s| s.background) {
        return Err("the RUN sends a command to the background".into());
    }
    let simple = |item: &ChainItem| -> Option<&'a Command> {
        match (item.kind, item.command_indices.as_slice()) {
            (ItemKind::Simple, [only]) => script.commands().get(*only),
            _ => None,
        }
    };
    let Some(k) = items.iter().position(|i| i.item.command_indices.contains(&first.index)) else {
        return Err(format!("`{}` is not a command of its own in the RUN", lead_text(script, first)));
    };
    if simple(items[k].item).is_none() {
        return Err(format!("`{}` runs inside a compound command, a pipeline or a subshell", lead_text(script, first)));
    }
    let dir = dir.ok_or("the working directory of the RUN cannot be followed (a WORKDIR with a variable or `..`)")?;
    let dest = dest.ok_or("where the full COPY lands cannot be followed (a variable or `..` in its destination or in WORKDIR)")?;
    let mut cwd = dir.clone();
    let mut installs = Vec::new();
    // Items up to `allowed` are installs, state or context-free commands (from `k` on).
    let mut allowed = k;
    // Whether an item before the split point sets shell state the rest could need.
    let mut state_at = Vec::new();
    for (at, entry) in items.iter().enumerate() {
        let Some(command) = simple(entry.item) else {
            if at < k {
                return Err(format!("`{}` runs before `{}` in the RUN and may read the sources", script.text(&entry.item.range), lead_text(script, first)));
            }
            break;
        };
        let index = entry.item.command_indices[0];
        let recognised = recognise(index, command);
        let moves_with = |r: &Recognised| at == k || (at > k && first.role == Role::Install && r.role == Role::Install);
        if command.name() == Some("cd") {
            let target = command.args().first().and_then(|w| w.literal.as_deref()).filter(|_| command.args().len() == 1);
            cwd = target.and_then(|t| cwd.join(t)).ok_or_else(|| format!("`{}` cannot be followed", script.text(&command.range)))?;
            state_at.push(at);
        } else if is_state(command) {
            state_at.push(at);
        } else if let Some(rec) = recognised.filter(|r| moves_with(r)) {
            installs.push(install_of(rec, &cwd, dest)?);
        } else if recognised.is_none() && is_context_free(command) {
            // Reads nothing from the working directory: it may run before the full COPY.
        } else if at < k {
            return Err(format!("`{}` runs before `{}` in the RUN and may read the sources", script.text(&command.range), lead_text(script, first)));
        } else {
            break;
        }
        if at >= k {
            allowed = at;
        }
        if at == k && first.role == Role::Build {
            break;
        }
    }
    if first.role == Role::Build {
        let cds: Vec<String> = items[..k]
            .iter()
            .filter_map(|i| simple(i.item))
            .filter(|c| c.name() == Some("cd"))
            .map(|c| script.text(&c.range).to_string())
            .collect();
        let elsewhere = installs.first().is_some_and(|i| !i.dir.is_empty()) && dir != dest;
        return warm_up(script, first, &items[..k], simple, &cds, installs, listing, elsewhere);
    }
    // A project restore in a folder a WORKDIR after the full COPY moved it to (`WORKDIR
    // /app/src/Web`, `RUN dotnet restore`): the same restore, naming the project from the full
    // COPY's destination, goes before it; the original stays and finds everything restored.
    let elsewhere = installs.first().is_some_and(|i| !i.dir.is_empty()) && dir != dest;
    if elsewhere && items.len() == 1 && first.rule.positionals == super::knowledge::Positionals::Project {
        let project = project_from_dest(first, installs.first(), listing)?;
        if !super::rewrite::plain_path(&project) {
            return Err(format!("`{project}` would need quoting"));
        }
        let own = first.positionals().get(1).map(|p| p.range.clone());
        let words = first.view.words();
        let mut parts: Vec<&str> = Vec::new();
        for word in words {
            if Some(&word.range) != own.as_ref() {
                parts.push(&word.raw);
            }
            // The project goes right after the subcommand.
            if first.positionals().first().is_some_and(|sub| sub.range == word.range) {
                parts.push(&project);
            }
        }
        if !first.command.assignments.is_empty() || words.len() != first.command.words.len() {
            return Err("the restore runs with variables or a wrapper: the dependency step would need them too".into());
        }
        let command = parts.join(" ");
        return Ok((PlanKind::WarmUp { script: command.clone(), command, at_copy: true }, installs));
    }
    if allowed + 1 == items.len() {
        return Ok((PlanKind::Whole, installs));
    }
    // The install part ends with its last install; what follows it stays in the RUN.
    let is_install = |at: usize| items[at].item.command_indices.iter().any(|i| installs.iter().any(|x| x.rec.index == *i));
    let last = (k..=allowed).rev().find(|at| is_install(*at)).unwrap_or(k);
    let next = &items[last + 1];
    if next.step != items[last].step || next.item.op_before != Some(Op::And) {
        return Err("the commands after the install are not joined to it by `&&`: split in two RUNs, a failure would stop the build where it did not before".into());
    }
    if let Some(at) = state_at.iter().find(|at| **at <= last) {
        return Err(format!("the rest of the RUN may rely on `{}`, run before the install", script.text(&items[*at].item.range)));
    }
    let rest: Vec<&Command> = items[last + 1..]
        .iter()
        .flat_map(|i| i.item.command_indices.iter().filter_map(|c| script.commands().get(*c)))
        .collect();
    if let Some(deleting) = rest.iter().find(|c| deletes(c)) {
        return Err(format!(
            "after the install the RUN deletes files (`{}`): split in two RUNs, what it deletes would stay in the install's layer",
            script.text(&deleting.range)
        ));
    }
    let junction = items[last].item.range.end..next.item.range.start;
    Ok((PlanKind::Split { junction }, installs))
}

/// Commands that delete what an earlier command of the RUN made.
fn deletes(command: &Command) -> bool {
    let view = command.effective();
    match view.basename() {
        Some("rm" | "rmdir") => true,
        Some("npm" | "pnpm" | "yarn") => view.has_word("prune") || (view.has_word("cache") && view.has_word("clean")) || view.has_word("autoclean"),
        Some(name) if name.starts_with("pip") => view.has_word("uninstall") || view.has_word("cache"),
        Some("apt-get" | "apt" | "apk" | "yum" | "dnf") => ["purge", "remove", "autoremove", "del", "clean"].iter().any(|w| view.has_word(w)),
        Some("composer") => view.has_word("clear-cache") || view.has_word("clearcache"),
        Some("cargo") => view.has_word("clean"),
        Some("go") => view.has_word("clean"),
        _ => false,
    }
}

/// Where a dependency command works, and the files it names, in context terms.
fn install_of<'a>(rec: Recognised<'a>, cwd: &Dir, dest: &Dir) -> Result<Install<'a>, String> {
    let rule = rec.rule;
    let lead = rec.view.name().unwrap_or_default();
    let context_path = |dir: &Dir, what: &str| -> Result<String, String> {
        let parts = dir.below(dest).ok_or_else(|| format!("{what} is not inside the folder the full COPY fills"))?;
        Ok(parts.iter().map(|p| format!("{p}/")).collect())
    };
    let mut work = cwd.clone();
    let values = |options: &[String]| rec.option_values(options).ok_or_else(|| format!("`{lead}` takes a path from a variable"));
    if let Some(value) = values(&rule.dir_options)?.last() {
        work = work.join(value).ok_or_else(|| format!("`{value}` cannot be followed"))?;
    }
    let mut named = Vec::new();
    let file = |path: &str, work: &Dir| -> Result<String, String> {
        let (parent, name) = match path.rsplit_once('/') {
            Some((p, n)) => (work.join(if p.is_empty() { "/" } else { p }).ok_or_else(|| format!("`{path}` cannot be followed"))?, n),
            None => (work.clone(), path),
        };
        Ok(format!("{}{name}", context_path(&parent, &format!("`{path}`"))?))
    };
    if let Some(value) = values(&rule.manifest_options)?.last() {
        let path = file(value, &work)?;
        work = work.join(value).and_then(|d| d.join("..")).ok_or_else(|| format!("`{value}` cannot be followed"))?;
        named.push(path);
    }
    for value in values(&rule.requirement_options)? {
        named.push(file(value, &work)?);
    }
    if rule.positionals == super::knowledge::Positionals::Project {
        if let Some(project) = rec.positionals().get(1) {
            let value = project.literal.as_deref().ok_or_else(|| format!("the project `{}` is not static", project.raw))?;
            if [".csproj", ".fsproj", ".vbproj", ".sln", ".slnx"].iter().any(|e| value.ends_with(e)) {
                let path = file(value, &work)?;
                work = work.join(value).and_then(|d| d.join("..")).ok_or_else(|| format!("`{value}` cannot be followed"))?;
                named.push(path);
            } else {
                work = work.join(value).ok_or_else(|| format!("`{value}` cannot be followed"))?;
            }
        }
    }
    let dir = context_path(&work, &format!("the folder `{lead}` works in"))?;
    Ok(Install { rec, dir, named })
}

/// The dependency-only RUN for a build command: the state it needs, then the warm-up command.
fn warm_up<'a>(
    script: &Script,
    rec: &Recognised<'a>,
    before: &[Item],
    simple: impl Fn(&ChainItem) -> Option<&'a Command>,
    cds: &[String],
    installs: Vec<Install<'a>>,
    listing: Option<&Listing>,
    elsewhere: bool,
) -> Result<(PlanKind, Vec<Install<'a>>), String> {
    if let Some(cd) = cds.first() {
        return Err(format!(
            "the build runs after `{cd}` in its RUN: the dependency step would need the same `cd` (hadolint DL3003 asks for WORKDIR instead)"
        ));
    }
    let mut parts: Vec<String> = Vec::new();
    for entry in before {
        let Some(command) = simple(entry.item) else { continue };
        if matches!(command.kind, CommandKind::Assignment | CommandKind::Declaration) || command.name() == Some("set") {
            let text = script.text(&command.range);
            if text.contains("$(") || text.contains('`') {
                return Err(format!("`{text}` before the build runs a command to set a variable"));
            }
            parts.push(text.to_string());
        }
    }
    // A build in a folder below the full COPY's destination (`WORKDIR /src/Api` after `COPY . .`
    // in /src): a project-file warm-up (dotnet) names the project from the destination instead.
    let at_copy = elsewhere && rec.rule.positionals == super::knowledge::Positionals::Project;
    let project = if at_copy { Some(project_from_dest(rec, installs.first(), listing)?) } else { None };
    let command = super::rewrite::warm_up_command(script, rec, installs.first(), listing, project.as_deref())?;
    parts.push(command.clone());
    Ok((PlanKind::WarmUp { script: parts.join(" && "), command, at_copy }, installs))
}

/// The project a build works on, as a path from the full COPY's destination: the project file it
/// names, or the only project file of its folder.
fn project_from_dest(rec: &Recognised, install: Option<&Install>, listing: Option<&Listing>) -> Result<String, String> {
    let install = install.ok_or("the build's folder is not known")?;
    if let Some(named) = install.named.first() {
        return Ok(named.clone());
    }
    let listing = listing.ok_or("the build context is not known (no listing)")?;
    let patterns = rec.eco.manifests.iter().filter(|m| !m.ends_with(".sln") && !m.ends_with(".slnx"));
    let found: Vec<String> = patterns.flat_map(|m| listing.matching(&install.dir, m)).collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!("no project file in {}", super::reads::place(&install.dir))),
        _ => Err(format!("several project files in {}: which one the build uses is not known", super::reads::place(&install.dir))),
    }
}
