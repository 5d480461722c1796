//! Ruby apps: Ruby code is not compiled, so a compiler and headers serve only gems with a native
//! extension. When the image installs them and nothing compiles (no gem at all, or a
//! Gemfile.lock whose gems are all pure Ruby), they are not installed (`ruby-full` becomes `ruby`):
//! no build stage is needed for that. Check `multi-stage/needless-compiler`.

use std::ops::Range;

use super::knowledge::knowledge;
use super::manifests::gem_lock;
use super::plan::{bare_name, programs};
use super::scan::{Install, Manager, Scan};
use crate::checks;
use crate::fix::{apply_edits, Edit, Finding, Fix};
use crate::knowledge::build_packages::{build_packages, Family, Runtime};
use crate::model::edits::{instruction_deletion, item_deletion};
use crate::model::reference::glob;
use crate::model::{Dir, Input};
use crate::shell::{CommandView, ShellWord};
use crate::syntax::LineKind;

const WHY: &str = "Ruby code is not compiled: a compiler and headers serve only gems with a native extension";

/// What becomes of one package word.
struct Change<'a> {
    install: &'a Install<'a>,
    word: &'a ShellWord,
    /// `None`: deleted; else the package that replaces it.
    to: Option<String>,
}

/// What compiling the app's gems needs.
pub(super) enum Gems {
    /// Nothing compiles; the words say what was seen.
    Interpreted(String),
    /// A gem compiles a native extension.
    Native,
    /// Something else in the image compiles (`make`, `pip install`…).
    OtherBuild,
}

pub(super) fn finding(input: &Input, scan: &Scan) -> Option<Finding> {
    let k = &knowledge().ruby;
    let ruby_image = scan.image.as_ref().and_then(|i| i.official_name()).as_deref() == Some("ruby");
    if !ruby_image && !scan.packages().any(|(_, p)| k.is_interpreter(bare_name(p))) {
        return None;
    }
    // A full `ruby` image is built on buildpack-deps: it has compilers and headers of its own, and
    // not installing them again saves nothing (its slim variant is approved-base's matter).
    let tag = scan.image.as_ref().and_then(|i| i.tag().map(str::to_string)).unwrap_or_default();
    if ruby_image && !tag.contains("slim") && !tag.contains("alpine") {
        return None;
    }
    let (changes, kept) = changes(scan);
    let first = changes.first()?;
    let names: Vec<String> = changes.iter().map(|c| format!("`{}`", c.word.raw)).collect();
    let shell = input.shell(first.install.instruction);
    let range = shell.map_or_else(|| input.file.instructions[first.install.instruction].span.clone(), |s| word_range(input, s, first.word));
    let message = format!("{} installed: only compiling native gems needs {}", names.join(", "), if names.len() == 1 { "it" } else { "them" });
    let finding = Finding::new(&checks::MULTI_STAGE_NEEDLESS_COMPILER, range, message);
    let seen = match gems(input, scan) {
        Err(reason) => return Some(finding.with_why(format!("{WHY}; no fix: {reason}"))),
        Ok(Gems::Interpreted(seen)) => seen,
        Ok(Gems::Native | Gems::OtherBuild) => return None,
    };
    let edits = match edits(input, &changes) {
        Ok(edits) => edits,
        Err(reason) => return Some(finding.with_why(format!("{WHY}; {seen}; no fix: {reason}"))),
    };
    let mut why = format!("{WHY}; {seen}, so nothing compiles");
    let replaced: Vec<String> = changes.iter().filter_map(|c| Some(format!("`{}` for `{}`", c.to.as_ref()?, c.word.raw))).collect();
    if !replaced.is_empty() {
        why.push_str(&format!("; what runs keeps its run-time package: {}", replaced.join(", ")));
    }
    if !kept.is_empty() {
        why.push_str(&format!("; {} stay: their run-time package is not known", kept.join(", ")));
    }
    why.push_str(". Unsafe: the app could still compile when it runs (a gem installed by a script, inline C): run the image to check");
    let dropped: Vec<String> = changes.iter().filter(|c| c.to.is_none()).map(|c| format!("`{}`", c.word.raw)).collect();
    let title = match (dropped.is_empty(), replaced.is_empty()) {
        (false, true) => format!("Do not install {}", dropped.join(", ")),
        (true, false) => format!("Install {}", replaced.join(", ")),
        _ => format!("Do not install {}; install {}", dropped.join(", "), replaced.join(", ")),
    };
    Some(finding.with_why(why).with_fix(Fix::unsafe_(title, edits)))
}

/// The package words to delete or replace, and the build packages that must stay.
fn changes<'a>(scan: &'a Scan<'a>) -> (Vec<Change<'a>>, Vec<String>) {
    let k = knowledge();
    let packages = build_packages();
    let installed: Vec<&str> = scan.packages().map(|(_, p)| bare_name(p)).collect();
    let (mut changes, mut kept) = (Vec::new(), Vec::new());
    for install in scan.installs.iter().filter(|i| !purged_later(scan, i)) {
        let family = match install.manager {
            Manager::Apt => Family::Debian,
            Manager::Apk => Family::Alpine,
            Manager::Dnf => Family::Rpm,
        };
        for (package, word) in install.packages.iter().zip(&install.words) {
            let name = bare_name(package);
            let runtime = if let Some(ruby) = k.ruby.interpreted.get(name) {
                Runtime::Library(ruby.clone())
            } else if packages.is_build_only(name) && !k.ruby.kept_tools.iter().any(|t| t == name) {
                packages.runtime(family, name)
            } else {
                continue;
            };
            let to = match runtime {
                Runtime::Unknown => {
                    kept.push(format!("`{name}`"));
                    continue;
                }
                Runtime::Nothing => None,
                Runtime::Library(library) => Some(library).filter(|l| !installed.contains(&l.as_str())),
            };
            changes.push(Change { install, word, to });
        }
    }
    (changes, kept)
}

/// Whether a later command of the stage removes what the install added (`apk del .build-deps`,
/// `apt-get purge -y gcc`): the packages are already out of the image.
fn purged_later(scan: &Scan, install: &Install) -> bool {
    let virtual_name = install.command.effective().option_value(Some('t'), Some("virtual"));
    let at = scan.commands.iter().position(|b| std::ptr::eq(b.command, install.command)).unwrap_or(0);
    scan.commands[at..].iter().any(|b| {
        let view = b.view();
        let removes = match view.basename() {
            Some("apt-get" | "apt") => matches!(view.subcommand(), Some("purge" | "remove")),
            Some("apk") => view.subcommand() == Some("del"),
            Some("dnf" | "yum" | "microdnf") => matches!(view.subcommand(), Some("remove" | "erase")),
            _ => false,
        };
        let names: Vec<&str> = view.positionals(crate::shell::NO_OPTIONS).skip(1).filter_map(|w| w.literal.as_deref()).collect();
        removes && (virtual_name.is_some_and(|v| names.contains(&v)) || install.packages.iter().any(|p| names.contains(&bare_name(p))))
    })
}

/// Whether anything the image runs compiles: its RUNs and its command.
pub(super) fn gems(input: &Input, scan: &Scan) -> Result<Gems, String> {
    let k = &knowledge().ruby;
    if scan.opaque_runs > 0 {
        return Err("a RUN dockopt cannot read (exec form, heredoc, another shell) may compile".into());
    }
    let lines = programs(input, scan);
    let Some(program) = lines.first().and_then(|l| l.first()) else {
        return Err("the image has no CMD or ENTRYPOINT: whether what it runs compiles cannot be told".into());
    };
    let text = program.literal.as_deref().unwrap_or(&program.raw);
    let name = text.rsplit('/').next().unwrap_or(text);
    if !k.programs.iter().any(|p| p == name) {
        return Err(format!("the image runs `{text}`, not Ruby: whether it compiles (a `bundle install` when it starts) cannot be told"));
    }
    let mut native: Vec<String> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let views = scan.commands.iter().map(|b| (b.view(), b.cwd.as_deref(), Some(b))).chain(lines.iter().map(|l| (CommandView::of(l), None, None)));
    for (view, cwd, built) in views {
        let Some(program) = view.basename() else { continue };
        let sub = view.subcommand();
        match program {
            "bundle" | "bundler" if matches!(sub, None | Some("install")) => {
                let built = built.ok_or("the image's command runs `bundle install`: what it compiles when it starts cannot be told")?;
                let lock = lockfile(input, scan, view, cwd, built)?;
                native.extend(lock.0);
                seen.push(lock.1);
            }
            "bundle" | "bundler" if sub == Some("exec") => {
                let rest = view.after(2);
                if rest.basename().is_some_and(|p| build_packages().builds(p, rest.subcommand())) {
                    return Ok(Gems::OtherBuild);
                }
            }
            "bundle" | "bundler" => {}
            "gem" if sub == Some("install") => {
                let options = ["-v", "--version", "-i", "--install-dir", "-n", "--bindir", "-s", "--source", "--platform", "-P", "--trust-policy"];
                if view.has_flag(Some('g'), Some("file")) {
                    return Err("`gem install --file` installs a Gemfile without its lock: which gems compile cannot be told".into());
                }
                let names: Vec<&ShellWord> = view.positionals(&options).skip(1).collect();
                if let Some(word) = names.iter().find(|w| w.literal.is_none()) {
                    return Err(format!("`gem install {}`: the gem's name is not static", word.raw));
                }
                native.extend(names.iter().filter_map(|w| w.literal.clone()).filter(|g| k.is_native(g)));
                seen.push(format!("`gem install` installs {}", names.iter().map(|w| w.raw.as_str()).collect::<Vec<_>>().join(", ")));
            }
            _ if build_packages().builds(program, sub) => return Ok(Gems::OtherBuild),
            _ => {}
        }
    }
    if !native.is_empty() {
        return Ok(Gems::Native);
    }
    if seen.is_empty() {
        return Ok(Gems::Interpreted("the image installs no gem (the app uses Ruby's standard library)".into()));
    }
    Ok(Gems::Interpreted(format!("{}, none with a native extension", seen.join("; "))))
}

/// The gems with a native extension of the Gemfile.lock `bundle install` installs, and what it
/// says of that lock.
fn lockfile(input: &Input, scan: &Scan, view: CommandView, cwd: Option<&str>, built: &super::scan::Built) -> Result<(Vec<String>, String), String> {
    let gemfile = view.option_value(None, Some("gemfile")).map(str::to_string).or_else(|| scan.var(built, "BUNDLE_GEMFILE")).unwrap_or_else(|| "Gemfile".into());
    if gemfile.contains('$') {
        return Err(format!("the Gemfile `{gemfile}` is not a static path"));
    }
    let lock = if gemfile.ends_with("gems.rb") { format!("{}gems.locked", gemfile.trim_end_matches("gems.rb")) } else { format!("{gemfile}.lock") };
    let path = Dir::resolve(cwd, &lock).ok_or_else(|| format!("`bundle install` runs in an unknown folder (no WORKDIR): where {lock} is cannot be told"))?;
    let Some(context_path) = scan.context_path(&path).or_else(|| globbed_context_path(scan, &path)) else {
        return Err(format!("{path} does not come from the build context: which gems `bundle install` compiles cannot be told"));
    };
    let listed = input.context.files.as_ref().map(|files| files.iter().any(|f| *f == context_path));
    let Some(text) = input.context.contents.get(&context_path) else {
        return Err(match listed {
            Some(false) => format!("the build context has no {context_path}: bundler resolves the gems when it builds, and whether one compiles cannot be told"),
            _ => format!("{context_path} could not be read: which gems `bundle install` compiles cannot be told"),
        });
    };
    let lock = gem_lock(text);
    if let Some(gem) = lock.unpublished.first() {
        return Err(format!("{context_path} installs `{gem}` from git or a local folder: whether it has a native extension cannot be told"));
    }
    let k = &knowledge().ruby;
    let native: Vec<String> = lock.gems.iter().filter(|g| k.is_native(g)).cloned().collect();
    Ok((native, format!("{context_path} locks {} gems", lock.gems.len())))
}

/// The context path of the file that lands at absolute `path` through a wildcard COPY into its
/// folder (`COPY Gemfile* ./`).
fn globbed_context_path(scan: &Scan, path: &str) -> Option<String> {
    let (dir, name) = path.rsplit_once('/')?;
    let dir = if dir.is_empty() { "/" } else { dir };
    scan.copies.iter().rev().find_map(|copy| {
        (copy.dest_dir.as_ref().and_then(Dir::path).as_deref() == Some(dir)).then_some(())?;
        copy.sources.iter().filter(|s| s.glob && !s.variable).find_map(|s| {
            let (folder, pattern) = s.path.rsplit_once('/').map_or(("", s.path.as_str()), |(f, p)| (f, p));
            let candidate = if folder.is_empty() { name.to_string() } else { format!("{folder}/{name}") };
            glob(pattern, name).then_some(candidate)
        })
    })
}

/// The edits: each install loses its build packages; an install left with none goes whole. Each
/// RUN changed is rewritten as one edit: a fix purging the same packages at the end of that RUN
/// (layer-waste's) then overlaps it and waits for the next pass, which no longer sees them.
fn edits(input: &Input, changes: &[Change]) -> Result<Vec<Edit>, String> {
    let file = input.file;
    let mut edits = Vec::new();
    let mut in_runs: Vec<(usize, Edit)> = Vec::new();
    let mut done: Vec<*const Install> = Vec::new();
    for change in changes {
        let install = change.install;
        if done.contains(&(install as *const Install)) {
            continue;
        }
        done.push(install);
        let run = install.instruction;
        let shell = input.shell(run).ok_or("the install is in a RUN dockopt does not edit (heredoc)")?;
        let mine: Vec<&Change> = changes.iter().filter(|c| std::ptr::eq(c.install, install)).collect();
        let whole = mine.len() == install.words.len() && mine.iter().all(|c| c.to.is_none()) && !install.dynamic;
        if whole {
            let steps = shell.script.top_level();
            let command = install.command;
            match (command.step, command.item) {
                (Some(_), Some(_)) if steps.len() == 1 && steps[0].items.len() == 1 => {
                    edits.push(Edit::delete(instruction_deletion(file, run)));
                    continue;
                }
                (Some(step), Some(item)) => {
                    if let Some(range) = item_deletion(file, shell, step, item) {
                        in_runs.push((run, Edit::delete(range)));
                        continue;
                    }
                }
                _ => {}
            }
            if install.manager != Manager::Apt {
                return Err("the install of nothing but build packages cannot be taken out of its RUN".into());
            }
        }
        let words = &install.command.words;
        for change in mine {
            let at = words.iter().position(|w| std::ptr::eq(w, change.word)).ok_or("a package word is not in its command")?;
            let word = word_range(input, shell, change.word);
            match &change.to {
                Some(to) => in_runs.push((run, Edit::replace(word, to.clone()))),
                None => {
                    // With the blank (or line continuation) before it, unless a comment line sits there.
                    let start = at.checked_sub(1).map_or(word.start, |p| word_range(input, shell, &words[p]).end);
                    let crosses_comment = file.instructions[run].lines.iter().any(|l| l.kind != LineKind::Content && l.span.start < word.end && start < l.span.end);
                    in_runs.push((run, Edit::delete(if crosses_comment { word } else { start..word.end })));
                }
            }
        }
    }
    in_runs.sort_by_key(|(run, e)| (*run, e.range.start));
    for (run, group) in in_runs.chunk_by(|a, b| a.0 == b.0).map(|g| (g[0].0, g)) {
        let span = file.instructions[run].span.clone();
        let shifted: Vec<Edit> = group.iter().map(|(_, e)| Edit::replace(e.range.start - span.start..e.range.end - span.start, e.replacement.clone())).collect();
        let text = apply_edits(&file.source[span.clone()], &shifted.iter().collect::<Vec<_>>());
        edits.push(Edit::replace(span, text));
    }
    Ok(edits)
}

fn word_range(input: &Input, shell: &crate::model::RunShell, word: &ShellWord) -> Range<usize> {
    shell.source_range(input.file, word.range.clone())
}
