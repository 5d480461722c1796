#![doc = include_str!("../../docs/manifest-first.md")]

mod knowledge;
mod plan;
mod reads;
mod rewrite;
#[cfg(test)]
mod tests;

use self::knowledge::{is_context_free, recognise, Ecosystem};
use crate::model::listing::Listing;
use crate::model::reference::glob;
use self::plan::{analyse, Plan, PlanKind, RunKind};
use self::reads::{reads, Reading};
use self::rewrite::{copy_lines, plain_path, same_case};
use crate::checks;
use crate::knowledge::base_images;
use crate::fix::{Applicability, Edit, Finding, Fix};
use crate::model::reference::ImageRef;
use crate::model::{Dir, From, Input};
use crate::syntax::{assignments, split_words, unquote, Dockerfile, Instruction, ItemKind, Keyword, Stage};

pub(crate) const DOC: &str = include_str!("../../docs/manifest-first.md");

pub(crate) fn run(input: &Input) -> Vec<Finding> {
    let file = input.file;
    let listing = Listing::new(input.context);
    let final_stage = input.model().final_stage();
    let mut findings = Vec::new();
    for stage in &file.stages {
        if input.settings.config.only_final_stage && Some(stage.index) != final_stage {
            continue;
        }
        for index in stage.instructions.clone() {
            if let Some(copy) = whole_copy(input, index) {
                findings.extend(examine(input, stage, &copy, listing.as_ref()));
            }
        }
    }
    findings
}

/// A `COPY . <dest>` (or `ADD`) of the whole build context.
struct WholeCopy {
    index: usize,
    /// The destination as written, ending with `/`: the manifest COPY's destination.
    dest_text: String,
    /// Where it lands, when that can be followed.
    dest: Option<Dir>,
    /// The flags the manifest COPY takes from it (`--chown=node:node`, `--link`).
    flags: Vec<String>,
    /// Why a manifest COPY cannot be derived from it (moving it is still possible).
    problem: Option<String>,
}

fn whole_copy(input: &Input, index: usize) -> Option<WholeCopy> {
    let (file, model) = (input.file, input.model());
    let inst = &file.instructions[index];
    if !matches!(inst.keyword, Keyword::Copy | Keyword::Add) || !inst.heredocs.is_empty() || !model.takes_whole_context(index) {
        return None;
    }
    let dest = match &inst.exec {
        Some(list) => list.last()?.clone(),
        None => unquote(&split_words(inst.args_text(), file.escape).last()?.raw, file.escape),
    };
    let mut problem = None;
    let mut flags = Vec::new();
    for flag in &inst.flags {
        match flag.name.as_str() {
            "chown" | "chmod" | "link" => flags.push(flag.text.clone()),
            other => problem = Some(format!("the full COPY has `--{other}`, which the manifest COPY cannot simply share")),
        }
    }
    if dest.is_empty() || dest.contains(char::is_whitespace) || dest.contains(['"', '\'', '\\', '`']) {
        problem = Some("the full COPY's destination needs quoting".into());
    }
    let dest_text = if dest == "." {
        "./".to_string()
    } else if dest.ends_with('/') {
        dest.clone()
    } else {
        format!("{dest}/")
    };
    if !dest_text.starts_with('/') && !model.workdir_set(index) {
        problem = Some(
            "no WORKDIR is set before it: a manifest COPY to the same relative destination would depend on the base image's working directory too (hadolint DL3045); set a WORKDIR first".into(),
        );
    }
    let dest = model.reads_of(index).first().and_then(|r| r.dest_dir.clone());
    Some(WholeCopy { index, dest_text, dest, flags, problem })
}

/// One dependency RUN that moves (or gets a warm-up) with what its installs read.
struct Moved<'a> {
    run: usize,
    lead: String,
    plan: Plan<'a>,
    reading: Reading,
}

/// Look for the dependency install after the full COPY `copy` and say how to put it first.
fn examine(input: &Input, stage: &Stage, copy: &WholeCopy, listing: Option<&Listing>) -> Option<Finding> {
    let (file, model) = (input.file, input.model());
    let mut blocker: Option<String> = None;
    // Whether every instruction that keeps the full COPY in place is a WORKDIR.
    let mut only_workdirs = true;
    let mut moved: Vec<Moved> = Vec::new();
    // The refused install: its command, whether it is a build, and why.
    let mut refusal: Option<(String, bool, String)> = None;
    for index in copy.index + 1..stage.instructions.end {
        if whole_copy(input, index).is_some() {
            break;
        }
        let inst = &file.instructions[index];
        if copies_manifests(input, index) {
            // The manifests are copied again after the full COPY: arranged on purpose (or by an
            // earlier pass over a stage with two full COPYs). Not ours to reorder.
            break;
        }
        let first = moved.is_empty();
        let kind = if inst.keyword == Keyword::Run {
            analyse(input, index, model.workdir(index), copy.dest.as_ref(), listing)
        } else {
            match passable(input, index, copy) {
                Ok(()) => continue,
                Err(reason) if first => {
                    only_workdirs &= inst.keyword == Keyword::Workdir;
                    blocker.get_or_insert(reason);
                    continue;
                }
                Err(_) => break,
            }
        };
        match kind {
            RunKind::ContextFree => continue,
            RunKind::Other if first => {
                only_workdirs = false;
                blocker.get_or_insert(format!("{} runs between the full COPY and the install and may read the sources", describe(file, index)));
                continue;
            }
            RunKind::Other => break,
            RunKind::Dependencies(run) => {
                let planned = run.plan.and_then(|plan| {
                    let reading = read_all(&plan, listing)?;
                    Ok(Moved { run: index, lead: run.lead.clone(), plan, reading })
                });
                match planned {
                    Ok(m) if first => {
                        // A dependency step that names its project from the full COPY's
                        // destination goes before it: the WORKDIRs after it do not matter.
                        let at_copy = matches!(m.plan.kind, PlanKind::WarmUp { at_copy: true, .. });
                        if let Some(reason) = blocker.take().filter(|_| !(at_copy && only_workdirs)) {
                            refusal = Some((run.lead, run.build, reason));
                            break;
                        }
                        let last = !matches!(m.plan.kind, PlanKind::Whole);
                        moved.push(m);
                        if last {
                            break;
                        }
                    }
                    Err(reason) if first => {
                        refusal = Some((run.lead, run.build, blocker.take().unwrap_or(reason)));
                        break;
                    }
                    Ok(m) if !matches!(m.plan.kind, PlanKind::WarmUp { .. }) => {
                        let last = !matches!(m.plan.kind, PlanKind::Whole);
                        moved.push(m);
                        if last {
                            break;
                        }
                    }
                    _ => break,
                }
            }
        }
    }
    let c_inst = &file.instructions[copy.index];
    let copy_text = short(&c_inst.logical.text);
    let range = c_inst.keyword_span.start..c_inst.args_source_range().end;
    if let Some((lead, build, reason)) = refusal {
        if already_first(input, copy.index, None, Some(&lead)) {
            return None;
        }
        return Some(Finding::new(&checks::MANIFEST_FIRST_COPY_BEFORE_INSTALL, range, message(&copy_text, &lead, build)).with_why(reason));
    }
    let lead_index = moved.iter().position(|m| !m.reading.files.is_empty()).unwrap_or(0);
    let lead_move = moved.get(lead_index)?;
    let ecosystems: Vec<&Ecosystem> = moved.iter().flat_map(|m| m.plan.installs.iter().map(|i| i.rec.eco)).collect();
    let named: Vec<String> = moved.iter().flat_map(|m| m.reading.files.iter().cloned()).collect();
    if already_first(input, copy.index, Some((&ecosystems, &named)), None) {
        return None;
    }
    let warm = matches!(lead_move.plan.kind, PlanKind::WarmUp { .. });
    let finding = Finding::new(&checks::MANIFEST_FIRST_COPY_BEFORE_INSTALL, range, message(&copy_text, &lead_move.lead, warm));
    match rewrite_fix(input, copy, &moved) {
        Ok(fix) => {
            let why = explain(&moved, &fix);
            Some(finding.with_why(why).with_fix(fix))
        }
        Err(reason) => Some(finding.with_why(reason)),
    }
}

/// What every install of a plan reads, merged; `Err` when one of them cannot move.
fn read_all(plan: &Plan, listing: Option<&Listing>) -> Result<Reading, String> {
    let listing = listing.ok_or("the build context is not known (no listing): which manifests exist cannot be told")?;
    let mut merged = Reading::default();
    for install in &plan.installs {
        let reading = reads(install, listing);
        if let Some(reason) = reading.refusal {
            return Err(reason);
        }
        merged.files.extend(reading.files.iter().cloned());
        merged.dirs.extend(reading.dirs.iter().cloned());
        merged.deferred.extend(reading.deferred);
        for reason in reading.unsafe_reasons {
            if !merged.unsafe_reasons.contains(&reason) {
                merged.unsafe_reasons.push(reason);
            }
        }
    }
    Ok(merged)
}

fn message(copy: &str, lead: &str, warm: bool) -> String {
    if warm {
        format!("`{copy}` copies the whole build context before `{lead}`: every source change downloads the dependencies again")
    } else {
        format!("`{copy}` copies the whole build context before `{lead}`: every source change reinstalls the dependencies")
    }
}

/// An instruction's text on one line, shortened for messages.
fn short(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 60 {
        format!("{}…", one.chars().take(59).collect::<String>())
    } else {
        one
    }
}

/// `` `RUN make` ``. No line number: a later pass of the fix loop sees other lines.
fn describe(file: &Dockerfile, index: usize) -> String {
    format!("`{}`", short(&file.instructions[index].logical.text))
}

/// Context paths a COPY/ADD names, as written but cleaned (no root, no variables).
fn named_sources<'a>(input: &'a Input<'a>, index: usize) -> impl Iterator<Item = &'a str> {
    let reads = input.model().reads_of(index).iter().filter(|r| r.from == From::Context && matches!(input.file.instructions[r.instruction].keyword, Keyword::Copy | Keyword::Add));
    reads.flat_map(|r| r.sources.iter()).filter(|s| !s.variable && !s.path.is_empty()).map(|s| s.path.as_str())
}

/// A COPY from the build context of some ecosystem's manifest or lockfile.
fn copies_manifests(input: &Input, index: usize) -> bool {
    let names: Vec<&String> = knowledge::knowledge().ecosystems.iter().flat_map(|e| e.manifests.iter().chain(&e.lockfiles)).collect();
    named_sources(input, index).any(|source| {
        let base = source.rsplit('/').next().unwrap_or("");
        base != "*" && names.iter().any(|n| glob(n, base) || glob(base, n))
    })
}

/// Whether the full COPY can move after instruction `index`: the instruction must not read the
/// sources, nor change what the COPY does.
fn passable(input: &Input, index: usize, copy: &WholeCopy) -> Result<(), String> {
    let (file, model) = (input.file, input.model());
    let inst = &file.instructions[index];
    let c_inst = &file.instructions[copy.index];
    let what = describe(file, index);
    match inst.keyword {
        Keyword::Env | Keyword::Arg => {
            let used = assignments(inst, file.escape).into_iter().find(|(name, _)| {
                let text = &c_inst.logical.text;
                text.contains(&format!("${name}")) || text.contains(&format!("${{{name}"))
            });
            match used {
                Some((name, _)) => Err(format!("{what} sets `{name}`, which the full COPY uses")),
                None => Ok(()),
            }
        }
        Keyword::Workdir => {
            // A relative destination lands under the WORKDIR in effect.
            let absolute = copy.dest_text.starts_with('/');
            let after = model.workdir_after(index);
            let same = after.is_some() && after == model.workdir(copy.index);
            if absolute || same {
                Ok(())
            } else {
                Err(format!("{what} changes where the full COPY's relative destination lands"))
            }
        }
        Keyword::User
        | Keyword::Label
        | Keyword::Expose
        | Keyword::Healthcheck
        | Keyword::Cmd
        | Keyword::Entrypoint
        | Keyword::Stopsignal
        | Keyword::Shell
        | Keyword::Maintainer
        | Keyword::Onbuild => Ok(()),
        Keyword::Copy | Keyword::Add if inst.flag("from").is_some() && inst.heredocs.is_empty() => {
            let dest = model.reads_of(index).first().and_then(|r| r.dest_dir.clone());
            match (dest, &copy.dest) {
                (Some(a), Some(b)) if a.disjoint(b) => Ok(()),
                _ => Err(format!("{what} writes where the full COPY, moved after it, could overwrite")),
            }
        }
        Keyword::Copy | Keyword::Add => Err(format!("{what} copies files that the full COPY, moved after it, could overwrite")),
        _ => Err(format!("{what} sits between the full COPY and the install")),
    }
}

/// Whether the stage (or a stage it is built on) already copies these manifests, or installs
/// this ecosystem's dependencies, before the full COPY: it is manifest-first already.
fn already_first(input: &Input, copy: usize, found: Option<(&[&Ecosystem], &[String])>, lead: Option<&str>) -> bool {
    let file = input.file;
    let ecosystems: Vec<&Ecosystem> = match found {
        Some((ecos, _)) => ecos.to_vec(),
        // A refused install: the ecosystems its program belongs to.
        None => knowledge::knowledge()
            .ecosystems
            .iter()
            .filter(|e| e.commands.iter().any(|r| r.programs.iter().any(|p| lead.is_some_and(|l| l.split_whitespace().any(|w| w.rsplit('/').next() == Some(p.as_str()))))))
            .collect(),
    };
    let names: Vec<&String> = ecosystems.iter().flat_map(|e| e.manifests.iter().chain(&e.lockfiles)).collect();
    let files: &[String] = found.map_or(&[], |(_, files)| files);
    for index in input.model().earlier(copy) {
        match file.instructions[index].keyword {
            Keyword::Copy | Keyword::Add => {
                for path in named_sources(input, index) {
                    let base = path.rsplit('/').next().unwrap_or("");
                    // A wildcard that matches anything (`conf/*`) says nothing about manifests.
                    if base.is_empty() || base == "*" || base == "." {
                        continue;
                    }
                    // A solution lists projects; without their project files it restores nothing.
                    if solution(base) {
                        continue;
                    }
                    let names_match = names.iter().filter(|n| !solution(n)).any(|n| glob(n, base) || glob(base, n));
                    let files_match = files.iter().filter(|f| !solution(f)).any(|f| glob(path, f) || f == path);
                    if files_match || (names_match && (files.is_empty() || !path.contains('/'))) {
                        return true;
                    }
                }
            }
            Keyword::Run => {
                let Some(shell) = input.shell(index) else { continue };
                let installs = shell.script.commands().iter().enumerate().any(|(i, c)| {
                    recognise(i, c).is_some_and(|r| ecosystems.iter().any(|e| e.key == r.eco.key)) && !is_context_free(c)
                });
                if installs {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// A .NET solution file (or a pattern for one: `*.sln`).
fn solution(name: &str) -> bool {
    name.ends_with(".sln") || name.ends_with(".slnx")
}

/// The rewrite: the manifest COPY lines, the install (or a dependency-only step) before the full
/// COPY, and the full COPY after it.
fn rewrite_fix(input: &Input, copy: &WholeCopy, moved: &[Moved]) -> Result<Fix, String> {
    let file = input.file;
    let source = file.source.as_str();
    let newline = file.newline();
    let c_inst = &file.instructions[copy.index];
    let mut files: Vec<String> = Vec::new();
    let mut dirs: Vec<String> = Vec::new();
    for m in moved {
        for f in m.reading.files.iter() {
            if !files.contains(f) {
                files.push(f.clone());
            }
        }
        for d in m.reading.dirs.iter() {
            if !dirs.contains(d) {
                dirs.push(d.clone());
            }
        }
    }
    if let Some(problem) = copy.problem.as_ref().filter(|_| !files.is_empty() || !dirs.is_empty()) {
        return Err(problem.clone());
    }
    if let Some(bad) = files.iter().chain(&dirs).find(|p| !plain_path(p)) {
        return Err(format!("`{bad}` would need quoting in a COPY"));
    }
    let written = &source[c_inst.keyword_span.clone()];
    let mfest = copy_lines(&same_case(written, "COPY"), &copy.flags, &files, &dirs, &copy.dest_text, newline);
    // The manifests go right before the first install that reads them: context-free installs
    // before it stay cached when only the manifests change.
    let consumer = moved.iter().find(|m| !m.reading.files.is_empty() || !m.reading.dirs.is_empty()).or(moved.first()).ok_or("nothing to move")?.run;
    let c_block = file.with_comments_above(copy.index).start..c_inst.span.end;
    let c_text = &source[c_block.clone()];
    let between = copy.index + 1..consumer;
    let workdir_between = file.instructions[between.clone()].iter().any(|i| i.keyword == Keyword::Workdir);
    let mut edits = Vec::new();
    let last = moved.last().ok_or("nothing to move")?;
    let last_inst = &file.instructions[last.run];
    // The project's own install scripts: skipped by the early install, run after the full COPY.
    let mut after = String::new();
    for m in moved {
        for deferred in &m.reading.deferred {
            npm_runs_project_scripts(input, copy.index)?;
            if matches!(m.plan.kind, PlanKind::WarmUp { .. }) || input.model().workdir(m.run) != copy.dest.as_ref() {
                return Err("the install's RUN does not start in the folder the full COPY fills: where to run its scripts after it is not known".into());
            }
            let shell = input.shell(m.run).ok_or("the install's RUN cannot be read")?;
            edits.push(Edit::insert(shell.source_offset(file, deferred.flag_at), deferred.flag.clone()));
            after.push_str(&format!("{}{}{newline}", run_prefix(file, &file.instructions[m.run]), deferred.after));
        }
    }
    // The install's pragmas (`# hadolint ignore=…`) hold for a RUN split from it or made from it too.
    let pragmas: String = input.pragmas().above(last.run).map(|p| format!("{}{newline}", file.text(p.range.clone()))).collect();
    match &last.plan.kind {
        PlanKind::WarmUp { script, at_copy, .. } => {
            let w_text = format!("{pragmas}{}{script}{newline}", run_prefix(file, last_inst));
            if *at_copy {
                // Its project is named from the full COPY's destination: it runs there.
                if input.model().workdir(copy.index) != copy.dest.as_ref() {
                    return Err("the full COPY's destination is not its working directory: the dependency step cannot name the project from there".into());
                }
                edits.push(Edit::insert(c_block.start, format!("{mfest}{w_text}")));
            } else if between.is_empty() {
                edits.push(Edit::insert(c_block.start, format!("{mfest}{w_text}")));
            } else if workdir_between {
                edits.push(Edit::replace(c_block.clone(), mfest));
                edits.push(Edit::insert(file.with_comments_above(consumer).start, format!("{w_text}{c_text}")));
            } else {
                edits.push(Edit::delete(deletion(file, copy.index, &c_block)));
                edits.push(Edit::insert(file.with_comments_above(consumer).start, format!("{mfest}{w_text}{c_text}")));
            }
        }
        kind => {
            if between.is_empty() || workdir_between {
                edits.push(Edit::replace(c_block.clone(), mfest));
            } else {
                edits.push(Edit::delete(deletion(file, copy.index, &c_block)));
                edits.push(Edit::insert(file.with_comments_above(consumer).start, mfest));
            }
            match kind {
                PlanKind::Split { junction } => {
                    let shell = input.shell(last.run).ok_or("the install's RUN cannot be read")?;
                    let range = shell.source_range(file, junction.clone());
                    if source[range.clone()].contains('#') {
                        return Err("a comment sits between the install and the rest of its RUN".into());
                    }
                    let c_line = if c_text.ends_with('\n') { c_text.to_string() } else { format!("{c_text}{newline}") };
                    edits.push(Edit::replace(range, format!("{newline}{c_line}{after}{pragmas}{}", run_prefix(file, last_inst))));
                }
                _ => {
                    let end = last_inst.span.end;
                    let lead = if source[..end].ends_with('\n') { "" } else { newline };
                    // A file without a final line break keeps none.
                    let after = if lead.is_empty() { after.as_str() } else { after.strip_suffix(newline).unwrap_or(&after) };
                    let c_text = if lead.is_empty() || after.is_empty() { c_text.to_string() } else { format!("{}{newline}", c_text.trim_end_matches(['\r', '\n'])) };
                    edits.push(Edit::insert(end, format!("{lead}{c_text}{after}")));
                }
            }
        }
    }
    let unsafe_ = moved.iter().any(|m| !m.reading.unsafe_reasons.is_empty()) || matches!(last.plan.kind, PlanKind::Split { .. });
    let mut title = title(&files, &dirs, moved);
    if !after.is_empty() {
        title.push_str(", the project's install scripts after it");
    }
    let applicability = if unsafe_ { Applicability::Unsafe } else { Applicability::Safe };
    Ok(Fix::new(title, edits, applicability))
}

/// `npm rebuild` runs the project's own preinstall/install/postinstall from npm 7 on (the npm of
/// Node 15 and later); npm 6 rebuilt only the dependencies. A `node` base image tells by its tag;
/// the `npm` OS package a RUN installed, by the distribution's release
/// (`knowledge/base-images.toml`).
fn npm_runs_project_scripts(input: &Input, copy: usize) -> Result<(), String> {
    let model = input.model();
    let stage = model.stage_of(copy).ok_or("the full COPY is in no stage")?;
    let root = model.lineage(stage).last().unwrap_or(stage);
    let image = model.from_text(&input.file.stages[root].image);
    let reference = ImageRef::parse(&image);
    let too_old = |npm: &str| {
        format!("package.json has install scripts, and `{image}` comes with {npm}, whose `npm rebuild` does not run the project's own scripts after the full COPY")
    };
    let node = reference.as_ref().filter(|r| r.official_name().as_deref() == Some("node"));
    let Some(node) = node else {
        let packaged = reference.as_ref().filter(|_| base_images::installed(input, copy, "npm")).and_then(base_images::packaged_npm_major);
        return match packaged {
            Some(major) if major >= 7 => Ok(()),
            Some(major) => Err(too_old(&format!("npm {major} (its `npm` package)"))),
            None => Err(format!(
                "package.json has install scripts, and the npm of `{image}` is not known: `npm rebuild`, which runs them after the full COPY, runs the project's own scripts only from npm 7 on"
            )),
        };
    };
    let tag = node.tag().unwrap_or("latest");
    let major: Option<u32> = tag.split(['.', '-']).next().and_then(|m| m.parse().ok());
    // Codenames of the release lines before Node 16.
    let old_line = ["argon", "boron", "carbon", "dubnium", "erbium", "fermium"].iter().any(|c| tag.starts_with(c));
    if major.is_some_and(|m| m < 15) || old_line {
        return Err(too_old("npm 6 or older"));
    }
    Ok(())
}

/// `RUN --mount=… `: the keyword and flags of a RUN, for a RUN split from it or made for it.
fn run_prefix(file: &Dockerfile, inst: &Instruction) -> String {
    let prefix = inst.logical.text[..inst.args.start.min(inst.logical.text.len())].trim_end();
    let keyword = same_case(&file.source[inst.keyword_span.clone()], "RUN");
    let flags = prefix.get(inst.keyword_span.len()..).unwrap_or("").trim();
    if flags.is_empty() {
        format!("{keyword} ")
    } else {
        format!("{keyword} {flags} ")
    }
}

/// The range to delete for a block moved away: with the blank line after it when one precedes
/// it too, so no double blank line is left behind.
fn deletion(file: &Dockerfile, index: usize, block: &std::ops::Range<usize>) -> std::ops::Range<usize> {
    let Some(at) = file.items.iter().position(|i| i.kind == ItemKind::Instruction(index)) else {
        return block.clone();
    };
    let before = file.items.iter().rev().find(|i| i.span.end <= block.start);
    let after = file.items.get(at + 1);
    match (before, after) {
        (Some(b), Some(a)) if b.kind == ItemKind::Blank && a.kind == ItemKind::Blank => block.start..a.span.end,
        _ => block.clone(),
    }
}

fn title(files: &[String], dirs: &[String], moved: &[Moved]) -> String {
    let what: Vec<String> = files.iter().chain(dirs).cloned().collect();
    let action = match &moved.last().map(|m| &m.plan.kind) {
        Some(PlanKind::WarmUp { command, .. }) => format!("run `{command}` before the full COPY"),
        Some(PlanKind::Split { .. }) => format!("split the RUN after `{}`, before the full COPY", moved.last().map_or("", |m| m.lead.as_str())),
        _ => format!("run `{}` before the full COPY", moved.iter().map(|m| m.lead.as_str()).collect::<Vec<_>>().join("`, `")),
    };
    if what.is_empty() {
        let mut action = action;
        action[..1].make_ascii_uppercase();
        action
    } else {
        format!("Copy {} first and {action}", list(&what))
    }
}

/// `a`, `a and b`, `a, b and c` (at most four named).
fn list(items: &[String]) -> String {
    let named: Vec<&str> = items.iter().take(4).map(String::as_str).collect();
    let more = items.len().saturating_sub(4);
    match (named.as_slice(), more) {
        ([one], 0) => one.to_string(),
        (all, 0) => format!("{} and {}", all[..all.len() - 1].join(", "), all[all.len() - 1]),
        (all, more) => format!("{} and {more} more", all.join(", ")),
    }
}

fn explain(moved: &[Moved], fix: &Fix) -> String {
    let files: Vec<String> = moved.iter().flat_map(|m| m.reading.files.iter().chain(m.reading.dirs.iter()).cloned()).collect();
    let warm = moved.iter().any(|m| matches!(m.plan.kind, PlanKind::WarmUp { .. }));
    let mut why = if files.is_empty() {
        "the install reads nothing from the build context: before the full COPY, its layer stays cached across source changes".to_string()
    } else if warm {
        format!("with {} copied first, the dependency download is a layer of its own, rebuilt only when they change", list(&files))
    } else {
        format!("with {} copied first, the install is rebuilt only when they change", list(&files))
    };
    for m in moved {
        for install in &m.plan.installs {
            if let (Some(note), PlanKind::WarmUp { .. }) = (&install.rec.rule.note, &m.plan.kind) {
                why.push_str(&format!("; {note}"));
            }
        }
    }
    if fix.applicability == Applicability::Unsafe {
        let mut reasons: Vec<String> = Vec::new();
        for m in moved {
            reasons.extend(m.reading.unsafe_reasons.iter().cloned());
            if matches!(m.plan.kind, PlanKind::Split { .. }) {
                reasons.push(format!("the RUN is split after `{}`: the rest runs in a RUN of its own after the full COPY", m.lead));
            }
        }
        why.push_str(&format!(". Unsafe: {}", reasons.join("; ")));
    }
    why
}

