//! What the runtime stage needs besides the built artifacts, and the refusals when that cannot be
//! told: files of the build context the program reads at run time (named by its command line or by
//! string literals of its sources), and software a RUN installed outside the package manager (a
//! folder put on the PATH or named by an ENV, a program downloaded into /usr/local/bin, a global
//! npm/gem/cargo install, a downloaded installer, a package repository the runtime would lack).
//! Everything carried is copied from the build stage to the same path.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::knowledge::knowledge;
use super::plan::{classify, is_pip, Plan};
use super::scan::{Built, Scan};
use super::sources::{self, Lang};
use crate::model::matcher::Matcher;
use crate::model::reference::glob;
use crate::model::{Dir, Input};
use crate::shell::{CommandView, ShellWord, NO_OPTIONS};
use crate::syntax::{assignments, Keyword};

/// Folders that exist in every image (or hold everything): never copied whole, and a path
/// inside them is attributed to a RUN only by its own name.
const SYSTEM_DIRS: &[&str] = &[
    "/", "/bin", "/sbin", "/lib", "/lib64", "/usr", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib64", "/usr/local",
    "/usr/local/bin", "/usr/local/sbin", "/usr/local/lib", "/usr/local/share", "/usr/local/include", "/usr/share",
    "/usr/include", "/etc", "/var", "/var/lib", "/var/cache", "/var/log", "/tmp", "/opt", "/root", "/home", "/srv",
    "/mnt", "/run", "/proc", "/sys", "/dev",
];

/// Where programs are found by name when no ENV PATH says otherwise.
const DEFAULT_PATH: &[&str] = &["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

fn is_system(path: &str) -> bool {
    SYSTEM_DIRS.contains(&path) || ["/proc/", "/sys/", "/dev/", "/tmp/", "/run/"].iter().any(|p| path.starts_with(p))
}

pub(super) fn carry(input: &Input, scan: &Scan, programs: &[Vec<ShellWord>], ecosystem: &str, plan: &mut Plan) -> Result<(), String> {
    if !matches!(ecosystem, "node" | "python") {
        command_line_files(input, scan, programs, plan);
    }
    if let Some(lang) = Lang::of_ecosystem(ecosystem) {
        read_at_run_time(input, scan, lang, plan)?;
    }
    installed_by_run(input, scan, ecosystem, plan)
}

/// Whether `path` is inside something the plan already copies.
fn covered(plan: &Plan, path: &str) -> bool {
    plan.copies.iter().any(|(from, to)| Dir::inside(path, from).is_some() || to == path)
}

pub(super) fn add_copy(plan: &mut Plan, path: String) {
    if covered(plan, &path) {
        return;
    }
    // A folder now copied whole takes the place of what was copied from inside it.
    plan.copies.retain(|(from, to)| from != to || Dir::inside(from, &path).is_none());
    plan.copies.push((path.clone(), path));
}

/// Context files the runtime needs besides the artifact: folders the stage copies outside the
/// folders it builds in (`COPY templates /templates`), and files the CMD names (`--conf conf/app.json`).
fn command_line_files(input: &Input, scan: &Scan, programs: &[Vec<ShellWord>], plan: &mut Plan) {
    let mut build_dirs: Vec<Dir> = scan.commands.iter().filter(|b| classify(b).is_some()).filter_map(|b| Dir::absolute(b.cwd.as_deref()?)).collect();
    build_dirs.dedup();
    let mut carried: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    for copy in &scan.copies {
        let Some(dest) = copy.dest_dir.as_ref().filter(|d| d.is_absolute()) else { continue };
        let related = build_dirs.iter().any(|d| dest.below(d).is_some() || d.below(dest).is_some());
        let path = dest.path().unwrap_or_default();
        if !related && path != "/" && seen.insert(path.clone()) {
            carried.push(path);
        }
    }
    let workdir = scan.final_workdir.as_deref();
    let listed = |path: &str| input.context.files.as_ref().is_none_or(|files| files.iter().any(|f| f == path || f.starts_with(&format!("{path}/")) || (f.ends_with('/') && path.starts_with(f.as_str()))));
    for line in programs {
        for word in line.iter().skip(1) {
            let Some(text) = word.literal.as_deref() else { continue };
            let value = text.split_once('=').map_or(text, |(_, v)| v);
            if !value.contains('/') || value.starts_with('-') || value.contains("://") {
                continue;
            }
            let Some(abs) = Dir::resolve(workdir, value) else { continue };
            let from_context = scan.context_path(&abs).is_some_and(|p| listed(&p));
            let artifact = plan.copies.iter().any(|(from, _)| Dir::inside(&abs, from).is_some());
            if from_context && !artifact && !carried.contains(&abs) {
                carried.push(abs);
            }
        }
    }
    for path in carried {
        add_copy(plan, path);
    }
}

/// The build context as the stage sees it: its listing and its `.dockerignore`, with the entries
/// of each folder found once.
struct Listing<'a> {
    entries: HashSet<&'a str>,
    ignore: Option<Matcher>,
    /// Folder (`""`: the root) → its entries: (name, is a folder).
    children: HashMap<&'a str, Vec<(&'a str, bool)>>,
}

impl<'a> Listing<'a> {
    fn new(files: &'a [String], dockerignore: Option<&str>) -> Listing<'a> {
        let mut children: HashMap<&str, Vec<(&str, bool)>> = HashMap::new();
        for entry in files {
            let (path, is_dir) = match entry.strip_suffix('/') {
                Some(path) => (path, true),
                None => (entry.as_str(), false),
            };
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            if !name.is_empty() {
                children.entry(dir).or_default().push((name, is_dir));
            }
        }
        Listing {
            entries: files.iter().map(String::as_str).collect(),
            ignore: dockerignore.and_then(|t| Matcher::from_dockerignore(t).ok()),
            children,
        }
    }

    /// Whether the context holds `path` (a file, or a folder when `path` ends without `/`) and
    /// sends it to the build.
    fn sends(&self, path: &str) -> bool {
        let present = path.is_empty() || self.entries.contains(path) || self.entries.contains(format!("{path}/").as_str());
        present && !self.ignore.as_ref().is_some_and(|m| m.excludes(path))
    }

    fn is_dir(&self, path: &str) -> bool {
        path.is_empty() || self.entries.contains(format!("{path}/").as_str())
    }

    /// The entries directly inside context folder `dir` (`""`: the root): (name, is a folder).
    fn children(&self, dir: &str) -> &[(&'a str, bool)] {
        self.children.get(dir).map(Vec::as_slice).unwrap_or_default()
    }
}

/// A string literal that may name a path: no blanks, quotes, format verbs or URL; `./` dropped.
fn as_path(text: &str) -> Option<&str> {
    let mut text = text;
    if text.is_empty() || text.len() > 255 || text.contains("://") || text.starts_with('-') || text.starts_with('~') {
        return None;
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control() || "%{}<>|\"'\\,;=$:()&^!`#@+[]".contains(c)) {
        return None;
    }
    while let Some(rest) = text.strip_prefix("./") {
        text = rest;
    }
    let text = text.trim_end_matches('/');
    (!text.is_empty() && text != "." && text != ".." && !text.ends_with("/.")).then_some(text)
}

/// `templates/*.html` → (`templates`, Some(`*.html`)); no wildcard → (path, None).
fn split_glob(path: &str) -> (String, Option<String>) {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.iter().position(|p| p.contains(['*', '?'])) {
        Some(at) => (parts[..at].join("/"), Some(parts[at..].join("/"))),
        None => (path.to_string(), None),
    }
}

/// Whether `path` (relative to a Go package's folder) is inside what its `//go:embed` lines embed.
fn embedded(embeds: &[String], path: &str) -> bool {
    let (prefix, pattern) = split_glob(path);
    embeds.iter().any(|embed| {
        let (embed_prefix, embed_glob) = split_glob(embed.trim_end_matches('/'));
        if embed_prefix.is_empty() || prefix.is_empty() {
            // `//go:embed *.html` and `ParseFS(fs, "*.html")`: names of the package's folder.
            let name = if prefix.is_empty() { pattern.as_deref().unwrap_or_default() } else { prefix.as_str() };
            return embed_glob.as_deref().is_some_and(|g| glob(g, name) || glob(name, g)) || (embed_prefix.is_empty() && prefix.is_empty());
        }
        Dir::inside(&format!("/{prefix}"), &format!("/{embed_prefix}")).is_some() || Dir::inside(&format!("/{embed_prefix}"), &format!("/{prefix}")).is_some()
    })
}

/// Files of the build context the program opens by a relative (or copied absolute) path: string
/// literals of its sources resolved against the runtime's working directory.
fn read_at_run_time(input: &Input, scan: &Scan, lang: Lang, plan: &mut Plan) -> Result<(), String> {
    let Some(files) = input.context.files.as_ref() else { return Ok(()) };
    let listing = Listing::new(files, input.context.dockerignore.as_deref());
    let sources: Vec<&String> = files.iter().filter(|f| lang.is_program_source(f) && listing.sends(f)).collect();
    let unread = sources.iter().filter(|f| !input.context.contents.contains_key(f.as_str())).count();
    let workdir = scan.final_workdir.as_deref();
    let mut scanned: Vec<(&str, sources::Scanned)> = Vec::new();
    let mut embeds: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for path in &sources {
        let Some(text) = input.context.contents.get(path.as_str()) else { continue };
        let found = sources::scan(text, lang);
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        embeds.entry(dir).or_default().extend(found.embeds.iter().cloned());
        scanned.push((path.as_str(), found));
    }
    // What the literals name, with the source file that names it.
    let mut read: Vec<(String, &str)> = Vec::new();
    let mut made_by_run: Vec<String> = Vec::new();
    let mut exe_relative = false;
    for (file, found) in &scanned {
        let dir = file.rsplit_once('/').map_or("", |(d, _)| d);
        let package_embeds = embeds.get(dir).map(Vec::as_slice).unwrap_or_default();
        for literal in &found.literals {
            let Some(path) = as_path(&literal.text) else { continue };
            if lang == Lang::Go && !package_embeds.is_empty() && !path.starts_with('/') && embedded(package_embeds, path) {
                continue;
            }
            let (prefix, pattern) = split_glob(path);
            let abs = if path.starts_with('/') {
                Dir::absolute(&prefix).and_then(|d| d.path())
            } else {
                match workdir {
                    Some(workdir) => Dir::resolve(Some(workdir), if prefix.is_empty() { "." } else { &prefix }),
                    None => {
                        let first = prefix.split('/').next().unwrap_or_default();
                        if !first.is_empty() && listing.sends(first) && scan.copies_into("/") {
                            return Err(format!(
                                "the program opens `{path}` ({file}) relative to its working directory, which is not known (no WORKDIR)"
                            ));
                        }
                        continue;
                    }
                }
            };
            let Some(abs) = abs else { continue };
            if workdir.is_some_and(|w| Dir::inside(w, &abs).is_some()) && pattern.is_none() {
                // The working directory itself, or a folder above it: too broad to say anything.
                continue;
            }
            if covered(plan, &abs) {
                continue;
            }
            // Only names that look like files or paths are said to be made by a RUN (`data` may
            // be a JSON key as well as a folder).
            let file_like = !path.starts_with('/') && (path.contains('/') || path.rsplit('/').next().is_some_and(|n| n.contains('.')));
            let Some(context) = context_dir(scan, &abs) else {
                if file_like && run_names(scan, &abs) {
                    made_by_run.push(path.to_string());
                }
                continue;
            };
            match pattern {
                None if listing.sends(&context) => read.push((abs, file)),
                None => {
                    // `viper.SetConfigName("config")`, `File::with_name("config/default")`: the
                    // name without its extension.
                    let name = abs.rsplit('/').next().unwrap_or_default();
                    let parent = context.rsplit_once('/').map_or("", |(d, _)| d);
                    let abs_parent = abs.rsplit_once('/').map_or("/", |(d, _)| if d.is_empty() { "/" } else { d });
                    let mut found_any = false;
                    if !name.contains('.') {
                        let k = knowledge();
                        for &(child, is_dir) in listing.children(parent) {
                            let Some((stem, ext)) = child.rsplit_once('.') else { continue };
                            if !is_dir && stem == name && k.runtime_data.extensions.iter().any(|e| e == ext) {
                                let sibling = if parent.is_empty() { child.to_string() } else { format!("{parent}/{child}") };
                                if listing.sends(&sibling) {
                                    read.push((format!("{}/{child}", abs_parent.trim_end_matches('/')), file));
                                    found_any = true;
                                }
                            }
                        }
                    }
                    if !found_any && file_like && run_names(scan, &abs) {
                        made_by_run.push(path.to_string());
                    }
                }
                Some(pattern) => {
                    if !context.is_empty() && listing.is_dir(&context) && listing.sends(&context) {
                        read.push((abs, file));
                    } else if prefix.is_empty() {
                        let first = pattern.split('/').next().unwrap_or_default();
                        for &(child, _) in listing.children(&context) {
                            let entry = if context.is_empty() { child.to_string() } else { format!("{context}/{child}") };
                            if glob(first, child) && !lang.is_program_source(&entry) && listing.sends(&entry) {
                                read.push((format!("{}/{child}", abs.trim_end_matches('/')), file));
                            }
                        }
                    }
                }
            }
        }
        exe_relative |= found.exe_relative;
    }
    if let Some(path) = made_by_run.first() {
        return Err(format!("the program opens `{path}`, which a RUN of the build stage makes: the runtime stage would not have it"));
    }
    // Data files beside the program that no literal names: when some sources could not be read,
    // nothing says the program does not open them.
    let mut accounted: Vec<String> = read.iter().map(|(p, _)| p.clone()).collect();
    if let Some(workdir) = workdir {
        // What the package beside it embeds is in the binary.
        let package = context_dir(scan, workdir).unwrap_or_default();
        for embed in embeds.get(package.as_str()).into_iter().flatten() {
            let first = split_glob(embed).0.split('/').next().unwrap_or_default().to_string();
            if !first.is_empty() {
                accounted.push(format!("{}/{first}", workdir.trim_end_matches('/')));
            }
        }
    }
    let beside = workdir.map(|w| data_beside(scan, &listing, lang, w, &accounted)).unwrap_or_default();
    if unread > 0 && !beside.is_empty() {
        let all = sources.len();
        return Err(format!(
            "{unread} of the {all} {} source files could not be read (too many or too large): whether the program opens {} at run time cannot be told",
            lang.name(),
            beside.join(", ")
        ));
    }
    let mut named: Vec<String> = Vec::new();
    let mut by: Vec<&str> = Vec::new();
    for (path, file) in read {
        if covered(plan, &path) {
            continue;
        }
        if !named.contains(&path) {
            named.push(path.clone());
        }
        if !by.contains(&file) {
            by.push(file);
        }
        add_copy(plan, path);
    }
    if !named.is_empty() {
        plan.notes.push(format!("The program opens {} (string literals of {}): copied from the build stage", named.join(", "), by.join(", ")));
        if exe_relative {
            keep_binary_paths(plan);
        }
    }
    if !beside.is_empty() {
        plan.notes.push(format!("Not copied, as no source names them: {}", beside.join(", ")));
    }
    Ok(())
}

/// The program finds files beside its own executable: the binaries keep their paths.
fn keep_binary_paths(plan: &mut Plan) {
    if plan.rewrites.is_empty() {
        return;
    }
    for (old, _) in std::mem::take(&mut plan.rewrites) {
        if let Some(copy) = plan.copies.iter_mut().find(|(from, _)| *from == old) {
            copy.1 = old;
        }
    }
    plan.notes.push("The program looks for files beside its own executable (os.Executable, current_exe): the binary keeps its path".into());
}

/// The context folder (`""` for the root) whose contents land at absolute `path`.
fn context_dir(scan: &Scan, path: &str) -> Option<String> {
    let root_copy = scan.copies.iter().any(|copy| {
        copy.sources.iter().any(|s| s.path.is_empty() && !s.glob) && copy.dest_dir.as_ref().and_then(Dir::path).as_deref() == Some(path)
    });
    if root_copy {
        return Some(String::new());
    }
    scan.context_path(path)
}

/// Whether a RUN of the stage names the file or folder `path` (by path, or a word ending with its name).
fn run_names(scan: &Scan, path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    scan.commands.iter().any(|built| {
        built.command.words.iter().chain(built.command.redirects.iter().filter_map(|r| r.target.as_ref())).any(|w| {
            w.literal.as_deref().is_some_and(|text| {
                text == path || text.rsplit('/').next() == Some(name) && !name.is_empty() && (text == name || text.ends_with(&format!("/{name}")))
            })
        })
    })
}

/// Context entries beside the program (in the folder that is its working directory) that look like
/// data it may read, and are neither carried nor code.
fn data_beside(scan: &Scan, listing: &Listing, lang: Lang, workdir: &str, carried: &[String]) -> Vec<String> {
    let Some(context) = context_dir(scan, workdir) else { return Vec::new() };
    let k = &knowledge().runtime_data;
    // Folders that hold code of the language (a Go package named `config` is not data).
    let mut code_dirs: HashSet<&str> = HashSet::new();
    for entry in listing.entries.iter().filter(|e| Lang::of_path(e) == Some(lang)) {
        let mut dir = *entry;
        while let Some((parent, _)) = dir.rsplit_once('/') {
            if !code_dirs.insert(parent) {
                break;
            }
            dir = parent;
        }
    }
    let mut out: Vec<String> = Vec::new();
    for &(name, is_dir) in listing.children(&context) {
        let entry = if context.is_empty() { name.to_string() } else { format!("{context}/{name}") };
        if !listing.sends(&entry) || k.ignore.iter().any(|g| glob(g, name)) {
            continue;
        }
        let abs = format!("{}/{name}", workdir.trim_end_matches('/'));
        if carried.iter().any(|c| Dir::inside(&abs, c).is_some() || Dir::inside(c, &abs).is_some()) {
            continue;
        }
        let data = if is_dir {
            !code_dirs.contains(entry.as_str()) && k.dirs.iter().any(|d| d == name)
        } else {
            let env_file = name == ".env" || (name.starts_with(".env.") && !k.ignore.iter().any(|g| glob(g, name)));
            env_file || name.rsplit_once('.').is_some_and(|(stem, ext)| !stem.is_empty() && k.extensions.iter().any(|e| e == ext))
        };
        if data {
            out.push(if is_dir { format!("{name}/") } else { name.to_string() });
        }
    }
    out.sort();
    out
}

/// Software a RUN installed outside the package manager that the runtime stage must have: copied
/// when its folder is known, otherwise a refusal that names it.
fn installed_by_run(input: &Input, scan: &Scan, ecosystem: &str, plan: &mut Plan) -> Result<(), String> {
    let k = knowledge();
    let file = input.file;
    let path_dirs = path_dirs(input, scan);
    let mut written: Vec<String> = Vec::new();
    let mut on_path: Vec<String> = Vec::new();
    for built in &scan.commands {
        let view = built.view();
        if let Some(what) = global_install(view, ecosystem) {
            return Err(format!("`{}` installs {what}, which the runtime stage would not have", command_text(view)));
        }
        let cwd = built.cwd.as_deref();
        let abs = |text: &str| Dir::resolve(cwd, text).filter(|p| !is_system(p));
        for target in built.command.redirects.iter().filter(|r| r.operator.starts_with('>') && r.fd.is_none()).filter_map(|r| r.target.as_ref()?.literal.as_deref()) {
            if let Some(path) = Dir::resolve(cwd, target) {
                note_write(&path, &path_dirs, &mut written, &mut on_path);
            }
        }
        // `--prefix=/opt/x`, `--install-dir=/opt/x` of any installer.
        for word in view.args() {
            if let Some(value) = word.literal.as_deref().and_then(|w| w.strip_prefix("--")).and_then(|w| w.split_once('=')).map(|(_, v)| v) {
                if value.starts_with('/') {
                    written.extend(abs(value));
                }
            }
        }
        let positionals = |options: &[&str]| -> Vec<String> { view.positionals(options).filter_map(|w| w.literal.clone()).collect() };
        match view.basename().unwrap_or_default() {
            "mkdir" | "touch" | "tee" => {
                for path in positionals(&["-m", "--mode"]) {
                    if let Some(path) = Dir::resolve(cwd, &path) {
                        note_write(&path, &path_dirs, &mut written, &mut on_path);
                    }
                }
            }
            name @ ("cp" | "mv" | "ln" | "install") => {
                let values: &[&str] = if name == "install" { &["-m", "--mode", "-o", "--owner", "-g", "--group", "-t", "--target-directory", "-S"] } else { &["-t", "--target-directory", "-S", "--suffix"] };
                let mut args = positionals(values);
                let target_dir = view.option_value(Some('t'), Some("target-directory")).map(str::to_string);
                let dest = match target_dir {
                    Some(dir) => Some(format!("{dir}/")),
                    None if args.len() >= 2 => args.pop(),
                    None => None,
                };
                let Some(dest) = dest else { continue };
                let Some(dest_path) = Dir::resolve(cwd, &dest) else { continue };
                let into_dir = dest.ends_with('/') || args.len() > 1 || path_dirs.contains(&dest_path) || is_system(&dest_path);
                if into_dir {
                    for source in &args {
                        let Some(source_name) = source.trim_end_matches('/').rsplit('/').next().filter(|n| !n.contains('*') && !matches!(*n, "" | "." | "..")) else { continue };
                        note_write(&format!("{}/{source_name}", dest_path.trim_end_matches('/')), &path_dirs, &mut written, &mut on_path);
                    }
                } else {
                    note_write(&dest_path, &path_dirs, &mut written, &mut on_path);
                }
                // `ln -s /opt/tool/bin/tool /usr/local/bin/tool`: the link needs what it points to.
                if name == "ln" {
                    for source in args.iter().filter(|s| s.starts_with('/')) {
                        written.extend(abs(source));
                    }
                }
            }
            "curl" => {
                if let Some(output) = view.option_value(Some('o'), Some("output")).filter(|o| *o != "-") {
                    if let Some(path) = Dir::resolve(cwd, output) {
                        note_write(&path, &path_dirs, &mut written, &mut on_path);
                    }
                }
            }
            "wget" => {
                if let Some(output) = view.option_value(Some('O'), Some("output-document")).filter(|o| *o != "-") {
                    if let Some(path) = Dir::resolve(cwd, output) {
                        note_write(&path, &path_dirs, &mut written, &mut on_path);
                    }
                }
                if let Some(dir) = view.option_value(Some('P'), Some("directory-prefix")).and_then(|d| Dir::resolve(cwd, d)) {
                    if path_dirs.contains(&dir) {
                        return Err(format!("`{}` downloads into {dir}, on the PATH: which programs it puts there cannot be told", command_text(view)));
                    }
                    written.extend(abs(&dir));
                }
            }
            name @ ("tar" | "unzip" | "bsdtar") => {
                let dir = if name == "unzip" { view.option_value(Some('d'), None) } else { view.option_value(Some('C'), Some("directory")) };
                let Some(dir) = dir.and_then(|d| Dir::resolve(cwd, d)) else { continue };
                let spreads = view.args().iter().any(|w| w.literal.as_deref().is_some_and(|t| t.starts_with("--strip-components") || t.starts_with("--strip")));
                if path_dirs.contains(&dir) || (spreads && matches!(dir.as_str(), "/usr" | "/usr/local" | "/")) {
                    return Err(format!("`{}` unpacks programs into {dir}: which ones the runtime stage would need cannot be told", command_text(view)));
                }
                written.extend(abs(&dir));
            }
            "git" if view.subcommand() == Some("clone") => {
                let args = positionals(&["-b", "--branch", "--depth", "-o", "--origin", "-c", "--config", "--reference"]);
                if let Some(dest) = args.get(2) {
                    written.extend(abs(dest));
                }
            }
            _ => {}
        }
    }
    // Folders an ENV names (PATH entries, JAVA_HOME-like values) that a RUN made or the context holds.
    let installer = installer(scan);
    let toolchain_installer = installer.as_ref().is_some_and(|(_, url)| k.toolchain_installer(ecosystem, url));
    let home = "/root";
    let mut installer_used = false;
    let workdir = scan.final_workdir.as_deref();
    let listed = |path: &str| input.context.files.as_ref().is_some_and(|files| files.iter().any(|f| f == path || f == &format!("{path}/")));
    for index in scan.stage.instructions.clone().filter(|i| file.instructions[*i].keyword == Keyword::Env) {
        for (_, value) in assignments(&file.instructions[index], file.escape) {
            for piece in value.unwrap_or_default().split(':') {
                let Some(path) = Dir::absolute(piece).and_then(|d| d.path()).filter(|_| piece.starts_with('/') && !piece.contains('$')) else { continue };
                if is_system(&path) || covered(plan, &path) || k.is_toolchain_home(&path) || workdir.is_some_and(|w| Dir::inside(w, &path).is_some()) {
                    continue;
                }
                let mentioned = written.iter().any(|w| Dir::inside(w, &path).is_some() || Dir::inside(&path, w).is_some());
                let by_installer = installer.is_some() && !toolchain_installer && Dir::inside(&path, home).is_some();
                let from_context = scan.context_path(&path).is_some_and(|p| listed(&p));
                if !(mentioned || by_installer || from_context) {
                    continue;
                }
                installer_used |= by_installer;
                let root = install_root(&path);
                let origin = if mentioned || by_installer { "made by a RUN of the build stage" } else { "from the build context" };
                plan.notes.push(format!("{root} (named by an ENV, {origin}) is copied"));
                add_copy(plan, root);
            }
        }
    }
    // Programs RUNs put into the PATH's folders by name.
    for path in on_path {
        let name = path.rsplit('/').next().unwrap_or_default();
        if covered(plan, &path) || plan.copies.iter().any(|(_, to)| to.rsplit('/').next() == Some(name)) || k.is_toolchain_home(&path) {
            continue;
        }
        plan.notes.push(format!("{path} (put on the PATH by a RUN of the build stage) is copied"));
        add_copy(plan, path);
    }
    if let Some((command, _)) = installer.filter(|_| !installer_used && !toolchain_installer) {
        return Err(format!("`{command}` runs a downloaded installer: what it installs, which the runtime stage would lack, cannot be told"));
    }
    // Packages from a repository a RUN adds are not in the runtime's distribution repositories.
    let installed: BTreeSet<&str> = scan.packages().map(|(_, p)| super::plan::bare_name(p)).collect();
    let kept: Vec<&str> = plan.packages.iter().map(|p| super::plan::bare_name(p)).filter(|p| installed.contains(p)).collect();
    if !kept.is_empty() {
        if let Some(command) = adds_repository(scan) {
            return Err(format!(
                "`{command}` adds a package repository: the runtime stage installs {} from the distribution's own repositories, which may not have them",
                kept.join(", ")
            ));
        }
    }
    Ok(())
}

fn note_write(path: &str, path_dirs: &[String], written: &mut Vec<String>, on_path: &mut Vec<String>) {
    let parent = path.rsplit_once('/').map_or("/", |(d, _)| if d.is_empty() { "/" } else { d });
    if path_dirs.iter().any(|d| d == parent) {
        if !on_path.iter().any(|p| p == path) {
            on_path.push(path.to_string());
        }
    } else if !is_system(path) {
        written.push(path.to_string());
    }
}

/// The folder to copy for a path an ENV names: `/opt/tool` for `/opt/tool/bin`.
fn install_root(path: &str) -> String {
    for suffix in ["/bin", "/sbin", "/lib"] {
        if let Some(root) = path.strip_suffix(suffix) {
            if !is_system(root) && !root.is_empty() {
                return root.to_string();
            }
        }
    }
    path.to_string()
}

/// The folders of the final PATH: the stage's ENV PATH entries, or the default.
fn path_dirs(input: &Input, scan: &Scan) -> Vec<String> {
    let mut dirs: Vec<String> = DEFAULT_PATH.iter().map(|d| d.to_string()).collect();
    let file = input.file;
    for index in scan.stage.instructions.clone().filter(|i| file.instructions[*i].keyword == Keyword::Env) {
        for (name, value) in assignments(&file.instructions[index], file.escape) {
            if name == "PATH" {
                dirs.extend(value.unwrap_or_default().split(':').filter(|p| p.starts_with('/') && !p.contains('$')).filter_map(|p| Dir::absolute(p)?.path()));
            }
        }
    }
    dirs
}

/// A global install by a language's package manager: what it installs, said in a refusal.
fn global_install(view: CommandView, ecosystem: &str) -> Option<String> {
    let name = view.basename()?;
    let sub = view.subcommand();
    let packages: Vec<&str> = view.positionals(NO_OPTIONS).skip(1).filter_map(|w| w.literal.as_deref()).collect();
    // Package managers themselves (`npm i -g npm@10`): the runtime image brings its own.
    let only_managers = !packages.is_empty() && packages.iter().all(|p| matches!(p.split('@').next().unwrap_or(p), "npm" | "yarn" | "pnpm" | "corepack" | ""));
    match name {
        "npm" if matches!(sub, Some("install" | "i" | "add")) && view.has_flag(Some('g'), Some("global")) && !only_managers => {
            Some("packages into npm's global folder (/usr/local/lib/node_modules) and their commands onto the PATH".into())
        }
        "pnpm" if matches!(sub, Some("add" | "install" | "i")) && view.has_flag(Some('g'), Some("global")) && !only_managers => {
            Some("packages into pnpm's global folder and their commands onto the PATH".into())
        }
        "yarn" if sub == Some("global") && view.positionals(NO_OPTIONS).nth(1).is_some_and(|w| w.is("add")) => {
            Some("packages into Yarn's global folder and their commands onto the PATH".into())
        }
        "gem" if sub == Some("install") && ecosystem != "ruby" => Some("gems and their commands outside the application folder".into()),
        "pipx" if sub == Some("install") => Some("a command and its virtualenv under the user's home".into()),
        "composer" if sub == Some("global") => Some("packages into Composer's global folder".into()),
        "go" if sub == Some("install") && ecosystem != "go" => Some("a program into $GOPATH/bin".into()),
        "cargo" if sub == Some("install") && ecosystem != "rust" => Some("a program into $CARGO_HOME/bin".into()),
        "make" | "gmake" | "ninja" if ecosystem != "c" && view.positionals(&["-C", "-f", "-j"]).any(|w| w.is("install")) => {
            Some("files under its PREFIX (/usr/local by default)".into())
        }
        "cmake" if ecosystem != "c" && view.has_flag(None, Some("install")) => Some("files under its prefix (/usr/local by default)".into()),
        _ if ecosystem != "python" && is_pip(view.words()).is_some() && !view.has_flag(None, Some("target")) && !view.has_flag(Some('t'), None) => {
            Some("Python packages into the system's site-packages and their commands onto the PATH".into())
        }
        _ => None,
    }
}

/// A download piped into a shell (`curl -sSL https://x | bash`, `sh -c "$(curl …)"`): the
/// command as written and the URL.
fn installer(scan: &Scan) -> Option<(String, String)> {
    let is_download = |b: &Built| matches!(b.view().basename(), Some("curl" | "wget")) && b.view().option_value(Some('o'), Some("output")).is_none();
    let is_shell = |b: &Built| {
        let view = b.view();
        let name = view.basename().unwrap_or_default();
        let shell = matches!(name, "sh" | "bash" | "zsh" | "dash" | "ash" | "ksh") || name.starts_with("python") || matches!(name, "perl" | "ruby" | "node");
        // Reading the script from stdin: no script file among its arguments (`-s`, `-`, options).
        shell && view.positionals(NO_OPTIONS).all(|w| w.is("-") || w.literal.as_deref().is_some_and(|t| t.starts_with('-')))
    };
    let url = |b: &Built| b.view().args().iter().filter_map(|w| w.literal.clone()).find(|w| w.contains("://")).unwrap_or_default();
    for (at, download) in scan.commands.iter().enumerate() {
        if !is_download(download) {
            continue;
        }
        let same_pipeline = |b: &Built| {
            b.instruction == download.instruction
                && b.command.in_pipeline
                && download.command.in_pipeline
                && b.command.step == download.command.step
                && b.command.item == download.command.item
        };
        if let Some(shell) = scan.commands[at + 1..].iter().find(|b| same_pipeline(b) && is_shell(b)) {
            return Some((format!("{} | {}", command_text(download.view()), command_text(shell.view())), url(download)));
        }
        if download.command.in_substitution {
            let outer = scan.commands.iter().find(|b| {
                b.instruction == download.instruction && !b.command.in_substitution && matches!(b.view().basename(), Some("sh" | "bash" | "zsh")) && b.view().has_flag(Some('c'), None)
            });
            if let Some(shell) = outer {
                return Some((command_text(shell.view()), url(download)));
            }
        }
    }
    None
}

/// The first command of the stage that adds a package repository.
fn adds_repository(scan: &Scan) -> Option<String> {
    scan.commands.iter().find_map(|built| {
        let view = built.view();
        let name = view.basename().unwrap_or_default();
        let names_sources = |text: &str| text.contains("/etc/apt/sources.list") || text.starts_with("/etc/apk/repositories") || text.starts_with("/etc/yum.repos.d");
        let writes_sources = built.command.redirects.iter().filter(|r| r.operator.starts_with('>')).filter_map(|r| r.target.as_ref()?.literal.as_deref()).any(names_sources)
            || (matches!(name, "tee" | "cp" | "mv" | "curl" | "wget" | "install" | "ln") && view.args().iter().filter_map(|w| w.literal.as_deref()).any(names_sources));
        (matches!(name, "add-apt-repository" | "apt-add-repository") || writes_sources).then(|| command_text(view))
    })
}

/// A command as written, shortened for a message.
pub(super) fn command_text(view: CommandView) -> String {
    let text = view.words().iter().map(|w| w.raw.as_str()).collect::<Vec<_>>().join(" ");
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(79).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_as_paths() {
        assert_eq!(as_path("./config.yaml"), Some("config.yaml"));
        assert_eq!(as_path("templates/"), Some("templates"));
        assert_eq!(as_path("templates/*.html"), Some("templates/*.html"));
        assert_eq!(as_path("/etc/app.conf"), Some("/etc/app.conf"));
        for no in ["", ".", "./", "http://x/y", "%s/config", "a b", "-v", "host:8080", "{{.Name}}"] {
            assert_eq!(as_path(no), None, "{no}");
        }
    }

    #[test]
    fn globs_split_at_the_first_wildcard() {
        assert_eq!(split_glob("templates/**/*.html"), ("templates".into(), Some("**/*.html".into())));
        assert_eq!(split_glob("*.tmpl"), (String::new(), Some("*.tmpl".into())));
        assert_eq!(split_glob("static"), ("static".into(), None));
    }

    #[test]
    fn go_embed_patterns() {
        let embeds = vec!["templates".to_string(), "static/*.css".to_string()];
        assert!(embedded(&embeds, "templates/*.html"));
        assert!(embedded(&embeds, "templates"));
        assert!(embedded(&embeds, "static/site.css"));
        assert!(!embedded(&embeds, "config.yaml"));
        assert!(embedded(&["*.html".to_string()], "index.html"));
        assert!(!embedded(&["*.html".to_string()], "config.yaml"));
    }

    #[test]
    fn install_roots() {
        assert_eq!(install_root("/root/google-cloud-sdk/bin"), "/root/google-cloud-sdk");
        assert_eq!(install_root("/opt/bin"), "/opt/bin");
        assert_eq!(install_root("/opt/tool"), "/opt/tool");
    }
}
