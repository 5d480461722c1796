//! Ruby apps: Ruby code is not compiled, so a compiler and headers serve only gems with a native
//! extension. When the image installs them and nothing compiles (no gem at all, or a
//! Gemfile.lock whose gems are all pure Ruby), they are not installed (`ruby-full` becomes `ruby`):
//! no build stage is needed for that. Check `multi-stage/needless-compiler`.

use std::ops::Range;

use super::knowledge::knowledge;
use super::manifests::{gem_lock, GemLock};
use super::plan::{bare_name, empty_plan, packages, programs, Plan};
use super::runtime::slim_of;
use super::scan::{Built, Install, Manager, Scan};
use crate::checks;
use crate::fix::{apply_edits, Edit, Finding, Fix};
use crate::knowledge::build_packages::{build_packages, Family, Runtime};
use crate::model::edits::{instruction_deletion, item_deletion};
use crate::model::reference::{glob, ImageRef};
use crate::model::{Dir, Input};
use crate::shell::{CommandView, ShellWord, NO_OPTIONS};
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
    /// Gems compile a native extension: their names.
    Native(Vec<String>),
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
        Ok(Gems::Native(compiled)) => return Some(split_finding(input, scan, &compiled)),
        Ok(Gems::OtherBuild) => return None,
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
    // Another build (`make`, `npm install`) may need the compiler too: the packages stay, unless
    // gems compile as well, when the build stage keeps them all.
    let mut other_build = false;
    let views = scan.commands.iter().map(|b| (b.view(), b.cwd.as_deref(), Some(b))).chain(lines.iter().map(|l| (CommandView::of(l), None, None)));
    for (view, cwd, built) in views {
        let Some(program) = view.basename() else { continue };
        let sub = view.subcommand();
        match program {
            "bundle" | "bundler" if matches!(sub, None | Some("install")) => {
                let built = built.ok_or("the image's command runs `bundle install`: what it compiles when it starts cannot be told")?;
                match lockfile(input, scan, view, cwd, built) {
                    Ok((compiled, said)) => {
                        native.extend(compiled);
                        seen.push(said);
                    }
                    Err(_) if other_build => return Ok(Gems::OtherBuild),
                    Err(reason) => return Err(reason),
                }
            }
            "bundle" | "bundler" if sub == Some("exec") => {
                let rest = view.after(2);
                other_build |= rest.basename().is_some_and(|p| build_packages().builds(p, rest.subcommand()));
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
            _ if build_packages().builds(program, sub) => other_build = true,
            _ => {}
        }
    }
    if !native.is_empty() {
        let mut compiled: Vec<String> = Vec::new();
        for gem in native {
            if !compiled.contains(&gem) {
                compiled.push(gem);
            }
        }
        return Ok(Gems::Native(compiled));
    }
    if other_build {
        return Ok(Gems::OtherBuild);
    }
    if seen.is_empty() {
        return Ok(Gems::Interpreted("the image installs no gem (the app uses Ruby's standard library)".into()));
    }
    Ok(Gems::Interpreted(format!("{}, none with a native extension", seen.join("; "))))
}

/// The absolute path of the Gemfile `bundle install` reads (`--gemfile`, `BUNDLE_GEMFILE`).
fn gemfile(view: CommandView, cwd: Option<&str>, scan: &Scan, built: &Built) -> Result<String, String> {
    let gemfile = view.option_value(None, Some("gemfile")).map(str::to_string).or_else(|| scan.var(built, "BUNDLE_GEMFILE")).unwrap_or_else(|| "Gemfile".into());
    if gemfile.contains('$') {
        return Err(format!("the Gemfile `{gemfile}` is not a static path"));
    }
    Dir::resolve(cwd, &gemfile).ok_or_else(|| format!("`bundle install` runs in an unknown folder (no WORKDIR): where {gemfile} is cannot be told"))
}

/// The gems of the Gemfile.lock `bundle install` installs that compile a native extension, and
/// what it says of that lock.
fn lockfile(input: &Input, scan: &Scan, view: CommandView, cwd: Option<&str>, built: &Built) -> Result<(Vec<String>, String), String> {
    let (context_path, lock) = lock_of(input, scan, view, cwd, built)?;
    let k = &knowledge().ruby;
    let musl = is_alpine(scan);
    // BUNDLE_FORCE_RUBY_PLATFORM: bundler compiles every gem, precompiled variants or not.
    let forced = scan.var(built, "BUNDLE_FORCE_RUBY_PLATFORM").is_some_and(|v| matches!(v.as_str(), "true" | "1"));
    let mut native: Vec<String> = Vec::new();
    let mut precompiled: Vec<String> = Vec::new();
    let mut names: Vec<&String> = lock.gems.iter().collect();
    names.dedup();
    for gem in names.into_iter().filter(|g| k.is_native(g)) {
        match lock.precompiled(gem).filter(|_| !forced).filter(|p| p.iter().any(|p| k.runs_precompiled(p, musl))) {
            Some(platforms) => precompiled.push(format!("{gem} for {}", platforms.join(", "))),
            None => native.push(gem.clone()),
        }
    }
    // A gem from git or a local folder may compile: unless one that is known does, nothing says
    // whether the compiler is needed.
    if let Some(gem) = lock.unpublished.first().filter(|_| native.is_empty()) {
        return Err(format!("{context_path} installs `{gem}` from git or a local folder: whether it has a native extension cannot be told"));
    }
    let mut said = format!("{context_path} locks {} gems", lock.gems.len());
    if !precompiled.is_empty() {
        said.push_str(&format!(" (precompiled: {})", precompiled.join(", ")));
    }
    Ok((native, said))
}

/// The Gemfile.lock `bundle install` reads: its context path and its contents.
fn lock_of(input: &Input, scan: &Scan, view: CommandView, cwd: Option<&str>, built: &Built) -> Result<(String, GemLock), String> {
    let gemfile = gemfile(view, cwd, scan, built)?;
    let path = if gemfile.ends_with("gems.rb") { format!("{}gems.locked", gemfile.trim_end_matches("gems.rb")) } else { format!("{gemfile}.lock") };
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
    Ok((context_path, gem_lock(text)))
}

/// Whether the image is Alpine's (musl): by its tag or its package manager.
fn is_alpine(scan: &Scan) -> bool {
    let image = scan.image.as_ref();
    image.is_some_and(|i| i.official_name().as_deref() == Some("alpine") || i.tag().is_some_and(|t| t.contains("alpine"))) || scan.installs.iter().any(|i| i.manager == Manager::Apk)
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

/// The `single-stage` finding of an image whose gems compile.
fn split_finding(input: &Input, scan: &Scan, compiled: &[String]) -> Finding {
    let gems = compiled.iter().map(|g| format!("`{g}`")).collect::<Vec<_>>().join(", ");
    let message = format!("single-stage build ships the compiler and headers that only build its native gems ({gems})");
    let plan = super::plan::plan(input, scan, "ruby").map(|mut plan| {
        plan.notes.insert(0, format!("{gems} compile in the build stage, which keeps its packages, bundler settings and commands as written"));
        plan
    });
    super::split_finding(input, scan, message, plan)
}

/// Bundler's settings made by `bundle config` so far in the stage.
#[derive(Default)]
struct BundleConfig {
    path: Option<String>,
    deployment: bool,
}

/// The plan for an image whose gems compile: the stage stays as it is, the build stage, and a
/// runtime stage on the same image (a distribution's slim variant) installs the libraries of its
/// -dev packages and copies the installed gems (bundler's path, else the image's gem folders) and
/// the application folder (with what RUNs wrote there: `rake assets:precompile`'s public/assets).
pub(super) fn split(input: &Input, scan: &Scan, image: &ImageRef) -> Result<Plan, String> {
    let k = &knowledge().ruby;
    let app = scan.final_workdir.clone().ok_or("no WORKDIR: which folder holds the application cannot be told")?;
    if !scan.copies_into(&app) {
        return Err(format!("the sources are not copied into the WORKDIR {app}"));
    }
    let official = image.official_name().as_deref() == Some("ruby");
    // The image's own gem home holds bundler's config too (BUNDLE_APP_CONFIG): always copied.
    let mut gem_dirs: Vec<String> = if official { vec![k.image_gem_home.clone()] } else { Vec::new() };
    let mut config = BundleConfig::default();
    // Where bundler installs, and the app's commands that RUNs run (said in the finding).
    let mut bundled: Vec<String> = Vec::new();
    let mut app_runs: Vec<String> = Vec::new();
    let outside_app = |path: &str| Dir::inside(path, &app).is_none();
    for built in &scan.commands {
        let view = built.view();
        let cwd = built.cwd.as_deref();
        let program = view.basename().unwrap_or_default();
        let sub = view.subcommand();
        match (program, sub) {
            ("bundle" | "bundler", Some("config")) => {
                let words: Vec<&str> = view.positionals(NO_OPTIONS).skip(1).map(|w| w.literal.as_deref().unwrap_or("$")).collect();
                let words = words.strip_prefix(&["set"]).unwrap_or(&words);
                match words {
                    ["path", value, ..] => config.path = Some(value.to_string()),
                    ["deployment", value, ..] => config.deployment = is_true(value),
                    _ => {}
                }
                if !matches!(words.first(), Some(&("get" | "list")) | None) {
                    let local = view.has_flag(None, Some("local"));
                    gem_dirs.extend(config_dir(scan, built, local, official)?.filter(|d| outside_app(d)));
                }
            }
            ("bundle" | "bundler", None | Some("install")) => {
                let gemfile = gemfile(view, cwd, scan, built)?;
                let root = gemfile.rsplit_once('/').map_or("/", |(d, _)| if d.is_empty() { "/" } else { d }).to_string();
                if outside_app(&gemfile) {
                    return Err(format!("bundler installs {gemfile}, outside the WORKDIR {app} that the runtime stage copies: `bundle exec` would not find it"));
                }
                let (context_path, lock) = lock_of(input, scan, view, cwd, built)?;
                if let Some(gem) = lock.from_git.first() {
                    return Err(format!(
                        "{context_path} takes `{gem}` from git: whether bundler runs git for it when the application starts cannot be shown, and git, a build package, is not in the runtime stage"
                    ));
                }
                for (gem, folder) in &lock.from_path {
                    if Dir::resolve(Some(&root), folder).is_none_or(|f| outside_app(&f)) {
                        return Err(format!("{context_path} takes `{gem}` from the folder {folder}, outside the WORKDIR {app}: the runtime stage would not have it"));
                    }
                }
                let deployment = config.deployment || view.has_flag(None, Some("deployment")) || scan.var(built, "BUNDLE_DEPLOYMENT").is_some_and(|v| is_true(&v));
                let path = view
                    .option_value(None, Some("path"))
                    .map(str::to_string)
                    .or_else(|| scan.var(built, "BUNDLE_PATH"))
                    .or_else(|| config.path.clone())
                    .or_else(|| deployment.then(|| "vendor/bundle".to_string()));
                let dirs = match path {
                    Some(path) => {
                        let dir = Dir::resolve(Some(&root), &path).filter(|_| !path.contains('$') && !path.starts_with('~'));
                        vec![dir.ok_or_else(|| format!("bundler's path `{path}` is not a static folder"))?]
                    }
                    None => system_gem_dirs(scan, built, official)?,
                };
                bundled.extend(dirs.iter().filter(|d| !bundled.contains(d)).cloned().collect::<Vec<_>>());
                gem_dirs.extend(dirs.into_iter().filter(|d| outside_app(d)));
            }
            ("gem", Some("install")) => {
                if view.has_flag(None, Some("user-install")) {
                    return Err("`gem install --user-install` installs into the user's home, beside whatever else it holds".into());
                }
                match view.option_value(Some('i'), Some("install-dir")) {
                    Some(dir) => gem_dirs.extend(Dir::resolve(cwd, dir).filter(|d| outside_app(d))),
                    None => gem_dirs.extend(system_gem_dirs(scan, built, official)?),
                }
            }
            ("gem", Some("update")) if view.has_flag(None, Some("system")) => {
                return Err("`gem update --system` updates RubyGems inside the image's Ruby: the runtime stage's Ruby would not have it".into());
            }
            _ => {}
        }
        // What a Rake task writes (`assets:precompile`) comes along only inside the application folder.
        let runs_app = matches!(program, "rake" | "rails") || (matches!(program, "bundle" | "bundler") && sub == Some("exec"));
        if runs_app {
            let text = view.words().iter().map(|w| w.raw.as_str()).collect::<Vec<_>>().join(" ");
            if cwd.is_none_or(outside_app) {
                return Err(format!("`{text}` runs outside the WORKDIR {app} that the runtime stage copies: what it writes would be left behind"));
            }
            app_runs.push(format!("`{text}`"));
        }
    }
    let mut plan = empty_plan(slim_of(image)?);
    for dir in gem_dirs {
        if !plan.copies.iter().any(|(from, _)| *from == dir) {
            plan.copies.push((dir.clone(), dir));
        }
    }
    plan.copies.push((app.clone(), app.clone()));
    if !bundled.is_empty() {
        plan.notes.push(format!("bundler installs the gems into {}", bundled.join(", ")));
    }
    if !app_runs.is_empty() {
        plan.notes.push(format!("What {} wrote into {app} comes along with it", app_runs.join(", ")));
    }
    packages(scan, image, "ruby", &mut plan)?;
    Ok(plan)
}

fn is_true(value: &str) -> bool {
    matches!(value, "true" | "1" | "yes")
}

/// Where `gem install` and a `bundle install` without a path put gems and their commands: GEM_HOME,
/// else the image's own gem folders.
fn system_gem_dirs(scan: &Scan, built: &Built, official: bool) -> Result<Vec<String>, String> {
    let k = &knowledge().ruby;
    if let Some(home) = scan.var(built, "GEM_HOME") {
        return Dir::absolute(&home).and_then(|d| d.path()).filter(|_| !home.contains('$')).map(|h| vec![h]).ok_or_else(|| format!("GEM_HOME `{home}` is not a static folder"));
    }
    if official {
        return Ok(vec![k.image_gem_home.clone()]);
    }
    let ruby_from = scan.installs.iter().find(|i| i.packages.iter().any(|p| k.is_interpreter(bare_name(p)))).map(|i| i.manager);
    match ruby_from {
        Some(Manager::Apt) => Ok(k.apt_gem_dirs.clone()),
        Some(Manager::Apk) => Err("Alpine's Ruby installs gems among the apk packages' own (/usr/lib/ruby/gems) and their commands into /usr/bin: the runtime stage cannot copy them apart (a bundler path, BUNDLE_PATH or deployment, keeps them in one folder)".into()),
        _ => Err("where the image's Ruby installs gems cannot be told".into()),
    }
}

/// The folder `bundle config` writes into when it is not the application's `.bundle` (which the
/// WORKDIR's copy carries): BUNDLE_APP_CONFIG (`--local` too), else, without `--local`, the user's
/// ~/.bundle (a `ruby:*` image's BUNDLE_APP_CONFIG is its gem home, copied anyway).
fn config_dir(scan: &Scan, built: &Built, local: bool, official: bool) -> Result<Option<String>, String> {
    if let Some(dir) = scan.var(built, "BUNDLE_APP_CONFIG") {
        let path = Dir::absolute(&dir).and_then(|d| d.path()).filter(|_| !dir.contains('$'));
        return path.map(Some).ok_or_else(|| format!("BUNDLE_APP_CONFIG `{dir}` is not a static folder"));
    }
    if local || official {
        return Ok(None);
    }
    match &scan.user {
        Some((at, user)) if *at < built.instruction && !matches!(user.split(':').next(), Some("root" | "0")) => {
            Err(format!("`bundle config` writes bundler's settings into the home of USER {user}: where that is cannot be told"))
        }
        _ => Ok(Some("/root/.bundle".into())),
    }
}
