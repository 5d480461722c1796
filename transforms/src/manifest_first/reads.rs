//! What one dependency command reads from the build context: the manifests to copy first, and
//! the reasons the move could change the build (Unsafe) or cannot be made (refused). The
//! manifests' contents, when the CLI read them, say more: install scripts, path dependencies,
//! workspaces, includes.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::knowledge::{Content, Ecosystem, Positionals, Recognised, Role};
use crate::model::listing::{parent_of, Listing, Presence};
use crate::model::workspaces::{pnpm_workspace_packages, workspace_members};
use crate::model::reference::glob;

/// A dependency command and where it works, in context terms.
pub(super) struct Install<'a> {
    pub rec: Recognised<'a>,
    /// The context folder it works in: `""` (the root) or `client/`.
    pub dir: String,
    /// Context files the command names (`pip install -r`, `--gemfile`, a dotnet project).
    pub named: Vec<String>,
}

#[derive(Debug, Default)]
pub(super) struct Reading {
    /// Context files to copy first, in the order they are found (manifests, lockfiles, config).
    pub files: Unique,
    /// Context folders to copy first, whole.
    pub dirs: Unique,
    /// Why moving the install could change the build.
    pub unsafe_reasons: Vec<String>,
    /// Why there is no rewrite.
    pub refusal: Option<String>,
    /// The root package's install scripts, which read the sources: the early install skips them
    /// and they run after the full COPY.
    pub deferred: Vec<Deferred>,
}

/// Install scripts of the project itself, run after the full COPY instead of by the early install.
#[derive(Debug, Clone)]
pub(super) struct Deferred {
    /// Script offset after which the flag that skips the scripts goes (the subcommand's end).
    pub flag_at: usize,
    /// That flag, with its leading space (` --ignore-scripts`).
    pub flag: String,
    /// The command that runs them after the full COPY (`npm rebuild && npm run prepare`).
    pub after: String,
}

/// A list without repeats that keeps its order.
#[derive(Debug, Default, Clone)]
pub(super) struct Unique(Vec<String>);

impl Unique {
    pub fn insert(&mut self, item: String) {
        if !self.0.contains(&item) {
            self.0.push(item);
        }
    }
    pub fn extend(&mut self, items: impl IntoIterator<Item = String>) {
        for item in items {
            self.insert(item);
        }
    }
    pub fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.iter()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Reading {
    fn refuse(&mut self, reason: impl Into<String>) {
        if self.refusal.is_none() {
            self.refusal = Some(reason.into());
        }
    }
    fn risk(&mut self, reason: impl Into<String>) {
        let reason = reason.into();
        if !self.unsafe_reasons.contains(&reason) {
            self.unsafe_reasons.push(reason);
        }
    }
}

/// `the context root` or `client/`, for messages.
pub(super) fn place(dir: &str) -> String {
    if dir.is_empty() {
        "the root of the build context".to_string()
    } else {
        format!("`{dir}` of the build context")
    }
}

pub(super) fn reads(install: &Install, listing: &Listing) -> Reading {
    let mut reading = Reading::default();
    let rec = &install.rec;
    let eco = rec.eco;
    if let Some(reason) = &rec.rule.refuse {
        reading.refuse(reason.clone());
        return reading;
    }
    if !listing.shows_inside(&install.dir) {
        reading.refuse(format!("the listing of the build context does not show inside `{}`", install.dir));
        return reading;
    }
    if !rec.rule.requirement_options.is_empty() {
        pip(install, listing, &mut reading);
    } else {
        manifests(install, listing, &mut reading);
    }
    if reading.refusal.is_some() {
        return reading;
    }
    outputs(eco, &install.dir, listing, &mut reading);
    let copies_something = !reading.files.is_empty() || !reading.dirs.is_empty();
    if !listing.ignore_known() && copies_something {
        reading.risk("the .dockerignore is not known: if it excludes one of the manifests, the manifest COPY fails");
    }
    if rec.rule.positionals == Positionals::Packages && rec.positionals().len() > 1 {
        let program = rec.view.name().unwrap_or_default();
        reading.risk(format!(
            "`{program}` with package names also saves them into the manifest, which the full COPY then replaces with the context's copy"
        ));
    }
    reading
}

/// The ecosystem's manifests in the install folder, then what their contents say.
fn manifests(install: &Install, listing: &Listing, reading: &mut Reading) {
    let eco = install.rec.eco;
    let dir = &install.dir;
    let mut primary: Vec<String> = install.named.clone();
    if primary.is_empty() {
        primary = eco.manifests.iter().flat_map(|m| listing.matching(dir, m)).collect();
    }
    for file in &primary {
        match listing.presence(file) {
            Presence::Present => {}
            Presence::Absent => return reading.refuse(format!("`{file}` is not in the build context")),
            Presence::Unknown => return reading.refuse(format!("whether `{file}` is in the build context is not known")),
        }
    }
    if primary.is_empty() {
        let names = eco.manifests.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(" or ");
        return reading.refuse(format!("there is no {names} in {}", place(dir)));
    }
    reading.files.extend(primary.iter().cloned());
    for file in &primary {
        // `Gemfile.prod` locks as `Gemfile.prod.lock`.
        let lock = format!("{file}.lock");
        if eco.key == "ruby" && listing.presence(&lock) == Presence::Present {
            reading.files.insert(lock);
        }
    }
    if eco.key != "ruby" || install.named.is_empty() {
        for name in eco.lockfiles.iter().chain(&eco.manifests) {
            reading.files.extend(listing.matching(dir, name));
        }
    }
    for name in &eco.config {
        if eco.content == Content::Msbuild {
            // MSBuild and NuGet read these from the project's folder and every folder above it.
            let mut at = dir.as_str();
            loop {
                reading.files.extend(listing.matching(at, name));
                if at.is_empty() {
                    break;
                }
                at = parent_of(at.trim_end_matches('/'));
            }
        } else {
            reading.files.extend(listing.matching(dir, name));
        }
    }
    for name in &eco.dirs {
        let path = format!("{dir}{name}");
        if listing.is_dir(&path) && listing.presence(&path) == Presence::Present {
            reading.dirs.insert(path);
        }
    }
    match eco.content {
        Content::PackageJson => package_json(install, listing, reading),
        Content::Pyproject => pyproject(install, listing, reading),
        Content::Pipfile => pipfile(install, listing, reading),
        Content::GoMod => go_mod(install, listing, reading),
        Content::Gemfile => gemfile(install, listing, reading),
        Content::ComposerJson => composer_json(install, listing, reading),
        Content::CargoToml => cargo_toml(install, listing, reading),
        Content::PomXml => pom_xml(install, listing, reading),
        Content::Gradle => gradle(install, listing, reading),
        Content::Msbuild => msbuild(listing, reading),
    }
}

/// Folders the install writes in the working directory: if the context has them, the full COPY,
/// now after the install, lays them over what it wrote.
fn outputs(eco: &Ecosystem, dir: &str, listing: &Listing, reading: &mut Reading) {
    for name in &eco.outputs {
        let path = format!("{dir}{name}");
        let top = format!("{dir}{}", name.split('/').next().unwrap_or(name));
        let presence = listing.presence(&path);
        let shown_parent = listing.presence(&top);
        if presence == Presence::Present && listing.ignore_known() {
            reading.risk(format!(
                "`{path}/` is in the build context and .dockerignore does not exclude it: the full COPY, now after the install, lays it over what the install wrote"
            ));
        } else if presence == Presence::Present {
            reading.risk(format!(
                "`{path}/` is in the build context: unless the .dockerignore excludes it, the full COPY, now after the install, lays it over what the install wrote"
            ));
        } else if presence == Presence::Unknown && shown_parent != Presence::Absent && listing.is_dir(&top) {
            reading.risk(format!(
                "`{top}/` is in the build context and may hold `{path}/`: unless .dockerignore excludes it, the full COPY, now after the install, lays it over what the install wrote"
            ));
        }
    }
}

fn unknown(reading: &mut Reading, file: &str, what: &str) {
    reading.risk(format!("`{file}` is not known (only the listing is): {what}"));
}

fn package_json(install: &Install, listing: &Listing, reading: &mut Reading) {
    let dir = &install.dir;
    let path = format!("{dir}package.json");
    let workspace_file = format!("{dir}pnpm-workspace.yaml");
    let Some(text) = listing.content(&path) else {
        unknown(reading, &path, "install scripts (`postinstall`, `prepare`, …), `file:` dependencies or workspaces in it could read more than the manifests");
        if listing.presence(&workspace_file) == Presence::Present {
            reading.refuse("a pnpm workspace: its members' package.json files are needed and its contents are not known");
        }
        return;
    };
    let Ok(json) = serde_json::from_str::<Json>(text) else {
        return reading.risk(format!("`{path}` does not parse as JSON"));
    };
    let ignore_scripts = install.rec.has_any(&["--ignore-scripts".to_string()]);
    if !ignore_scripts {
        install_scripts(install, &json, reading);
        if reading.refusal.is_some() {
            return;
        }
    }
    for section in ["dependencies", "devDependencies", "optionalDependencies"] {
        let Some(deps) = json[section].as_object() else { continue };
        for (name, spec) in deps {
            let spec = spec.as_str().unwrap_or_default();
            if ["file:", "link:", "portal:"].iter().any(|p| spec.starts_with(p)) || spec.starts_with("./") || spec.starts_with("../") {
                return reading.refuse(format!("dependency `{name}` is `{spec}`: the install reads that folder, which is not copied first"));
            }
        }
    }
    if let Some(patches) = json["pnpm"]["patchedDependencies"].as_object() {
        for patch in patches.values().filter_map(Json::as_str) {
            let file = format!("{dir}{}", patch.trim_start_matches("./"));
            if listing.presence(&file) != Presence::Present {
                return reading.refuse(format!("the patch `{patch}` the install applies is not in the listing"));
            }
            reading.files.insert(file);
        }
    }
    let mut patterns: Vec<String> = match &json["workspaces"] {
        Json::Array(list) => list.iter().filter_map(Json::as_str).map(str::to_string).collect(),
        Json::Object(map) => map.get("packages").and_then(Json::as_array).into_iter().flatten().filter_map(Json::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    };
    if listing.presence(&workspace_file) == Presence::Present {
        match listing.content(&workspace_file) {
            Some(yaml) => patterns.extend(pnpm_workspace_packages(yaml)),
            None => return reading.refuse("a pnpm workspace: its members' package.json files are needed and pnpm-workspace.yaml is not known"),
        }
    }
    if !patterns.is_empty() {
        workspaces(dir, &patterns, listing, reading);
    }
}

/// The lifecycle scripts npm runs for the project itself on `npm ci` / `npm install`, in order.
const INSTALL_SCRIPTS: &[&str] = &["preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare", "dependencies"];

/// The project's own install scripts (`"postinstall": "cd frontend && npm install && npm run
/// build"`) run with the sources in place; the manifest COPY lacks them. npm can install without
/// them (`--ignore-scripts`) and run them after the full COPY (`npm rebuild` runs the dependencies'
/// and the project's preinstall/install/postinstall, `npm run prepare` the rest): the download
/// stays cached. yarn, pnpm and bun have no such pair that runs the project's scripts as their
/// install would, so their install is not moved.
fn install_scripts(install: &Install, json: &Json, reading: &mut Reading) {
    let present: Vec<(&str, &str)> = INSTALL_SCRIPTS.iter().filter_map(|name| Some((*name, json["scripts"][name].as_str()?))).collect();
    let Some((name, script)) = present.first().copied() else { return };
    let shown = if script.chars().count() > 60 { format!("{}…", script.chars().take(59).collect::<String>()) } else { script.to_string() };
    let rec = &install.rec;
    let program = rec.view.basename().unwrap_or_default();
    let runs = format!("package.json runs `{name}` (`{shown}`) on install, with the sources in place");
    if program != "npm" {
        return reading.refuse(format!(
            "{runs}: `{program}` has no command that runs them as its install does once the sources are copied (npm has: `--ignore-scripts`, then `npm rebuild`), so the install stays after the full COPY"
        ));
    }
    if rec.positionals().len() > 1 {
        return reading.refuse(format!("{runs}, and `npm install` with package names would run them before the sources are copied"));
    }
    // `npm rebuild` runs preinstall, install and postinstall; the others are run by name (with
    // their `pre`/`post` scripts: `npm run prepare` runs preprepare and postprepare too).
    let named = |n: &str| present.iter().any(|(p, _)| *p == n);
    if !named("prepare") && (named("preprepare") || named("postprepare")) {
        return reading.refuse(format!("{runs}: `preprepare`/`postprepare` without `prepare` cannot be run on their own after the full COPY"));
    }
    let Some(sub) = rec.positionals().first().copied() else {
        return reading.refuse(format!("{runs}: the npm subcommand cannot be found"));
    };
    let mut after = Vec::new();
    if !install.dir.is_empty() {
        after.push(format!("cd {}", install.dir.trim_end_matches('/')));
    }
    after.push("npm rebuild".to_string());
    after.extend(["prepublish", "prepare", "dependencies"].into_iter().filter(|n| named(n)).map(|n| format!("npm run {n}")));
    reading.risk(format!(
        "{runs}: the early install skips it (`--ignore-scripts`) and `{}` after the full COPY runs it and the dependencies' build scripts (npm 7 or later), on every source change",
        after.join(" && ")
    ));
    reading.deferred.push(Deferred { flag_at: sub.range.end, flag: " --ignore-scripts".into(), after: after.join(" && ") });
}

/// Workspace members' package.json files, found in the listing.
fn workspaces(dir: &str, patterns: &[String], listing: &Listing, reading: &mut Reading) {
    match workspace_members(dir, patterns, listing) {
        Ok(members) => reading.files.extend(members.into_iter().map(|m| format!("{m}package.json"))),
        Err(reason) => return reading.refuse(reason),
    }
    reading.risk("workspaces: only their package.json files are copied first, and the install links their folders and may run their scripts");
}

fn pip(install: &Install, listing: &Listing, reading: &mut Reading) {
    let rec = &install.rec;
    for word in rec.positionals().iter().skip(1) {
        match word.literal.as_deref() {
            Some(name) if super::knowledge::is_name(name) => {}
            Some(path) => return reading.refuse(format!("`{path}` is a local project: installing it builds it from its sources")),
            None => return reading.refuse(format!("`{}` is not a static argument", word.raw)),
        }
    }
    if rec.has_any(&["-e".to_string(), "--editable".to_string()]) {
        return reading.refuse("`-e` installs a local project in editable mode: it needs its sources");
    }
    if rec.has_any(&["-f".to_string(), "--find-links".to_string()]) {
        reading.risk("`--find-links` may point at a folder of the context that is not copied first");
    }
    let mut queue: Vec<String> = install.named.clone();
    let mut seen = BTreeSet::new();
    while !queue.is_empty() {
        let file = queue.remove(0);
        if !seen.insert(file.clone()) || seen.len() > 32 {
            continue;
        }
        match listing.presence(&file) {
            Presence::Present => {}
            Presence::Absent => return reading.refuse(format!("`{file}` is not in the build context")),
            Presence::Unknown => return reading.refuse(format!("whether `{file}` is in the build context is not known")),
        }
        reading.files.insert(file.clone());
        let Some(text) = listing.content(&file) else {
            unknown(reading, &file, "a `-r` include, `-e .` or a local path in it would need more files");
            continue;
        };
        match requirement_lines(text) {
            Ok(includes) => {
                let base = parent_of(&file);
                for include in includes {
                    match normalize(&format!("{base}{include}")) {
                        Some(path) => queue.push(path),
                        None => return reading.refuse(format!("`{file}` includes `{include}`, outside the build context")),
                    }
                }
            }
            Err(reason) => return reading.refuse(format!("`{file}` {reason}")),
        }
    }
}

/// The files a requirements file includes (`-r`, `-c`), or why it needs more than itself.
fn requirement_lines(text: &str) -> Result<Vec<String>, String> {
    let mut includes = Vec::new();
    for line in text.lines() {
        let line = line.split(" #").next().unwrap_or(line).trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (option, value) = match line.split_once([' ', '=']) {
            Some((o, v)) if o.starts_with('-') => (o, v.trim()),
            _ => (line, ""),
        };
        match option {
            "-r" | "--requirement" | "-c" | "--constraint" => includes.push(value.to_string()),
            "-e" | "--editable" if value.contains("://") => {
                return Err(format!("installs `{value}` in editable mode (`-e`): pip checks it out into the working directory, where the full COPY lands"))
            }
            "-e" | "--editable" => return Err(format!("installs `{value}` in editable mode (`-e`): it needs the sources")),
            "-f" | "--find-links" if !value.contains("://") => return Err(format!("finds packages in the local folder `{value}`")),
            _ if option.starts_with("-r") && option.len() > 2 => includes.push(option[2..].to_string()),
            _ if option.starts_with('-') => {}
            _ => {
                let spec = line;
                if spec.starts_with('.') || spec.starts_with('/') || spec.contains("file:") || spec.contains(" @ ./") {
                    return Err(format!("installs the local path `{spec}`: it needs that folder"));
                }
            }
        }
    }
    Ok(includes)
}

/// `a/./b/../c` → `a/c`; `None` above the root.
pub(super) fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

fn pyproject(install: &Install, listing: &Listing, reading: &mut Reading) {
    let path = format!("{}pyproject.toml", install.dir);
    let Some(text) = listing.content(&path) else {
        return unknown(reading, &path, "a path dependency or a workspace in it would need more files");
    };
    let Ok(doc) = text.parse::<toml::Table>() else {
        return reading.risk(format!("`{path}` does not parse as TOML"));
    };
    let tool = doc.get("tool");
    let poetry = tool.and_then(|t| t.get("poetry"));
    let mut tables: Vec<&toml::Value> = Vec::new();
    if let Some(p) = poetry {
        tables.extend(p.get("dependencies"));
        tables.extend(p.get("dev-dependencies"));
        if let Some(groups) = p.get("group").and_then(toml::Value::as_table) {
            tables.extend(groups.values().filter_map(|g| g.get("dependencies")));
        }
    }
    let uv = tool.and_then(|t| t.get("uv"));
    tables.extend(uv.and_then(|u| u.get("sources")));
    for table in tables.iter().filter_map(|t| t.as_table()) {
        for (name, spec) in table {
            if spec.get("path").is_some() || spec.get("workspace").and_then(toml::Value::as_bool) == Some(true) {
                return reading.refuse(format!("dependency `{name}` comes from a local folder: the install reads it, and it is not copied first"));
            }
        }
    }
    if uv.and_then(|u| u.get("workspace")).is_some() {
        return reading.refuse("a uv workspace: its members' pyproject.toml files are needed");
    }
    let specs = doc.get("project").and_then(|p| p.get("dependencies")).and_then(toml::Value::as_array);
    if specs.into_iter().flatten().filter_map(toml::Value::as_str).any(|s| s.contains("file:")) {
        reading.refuse("a dependency is a local `file:` path: the install reads that folder");
    }
}

fn pipfile(install: &Install, listing: &Listing, reading: &mut Reading) {
    let path = format!("{}Pipfile", install.dir);
    let Some(text) = listing.content(&path) else {
        return unknown(reading, &path, "a local path or editable package in it would need more files");
    };
    if text.lines().any(|l| {
        let l = l.replace(' ', "");
        l.contains("path=") || l.contains("editable=true")
    }) {
        reading.refuse("the Pipfile installs a local path: the install reads that folder");
    }
}

fn go_mod(install: &Install, listing: &Listing, reading: &mut Reading) {
    let dir = &install.dir;
    if listing.presence(&format!("{dir}go.work")) == Presence::Present {
        return reading.refuse("a go.work workspace: the go.mod files of its modules are needed too");
    }
    if install.rec.role == Role::Build && listing.is_dir(&format!("{dir}vendor")) && listing.presence(&format!("{dir}vendor")) == Presence::Present {
        return reading.refuse("the modules are vendored (vendor/): the build reads them from there, so there is nothing to download first");
    }
    let path = format!("{dir}go.mod");
    let Some(text) = listing.content(&path) else {
        return unknown(reading, &path, "a `replace` with a local folder in it would need that folder");
    };
    let mut in_block = false;
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        let directive = if in_block {
            if line == ")" {
                in_block = false;
                continue;
            }
            line
        } else if let Some(rest) = line.strip_prefix("replace") {
            if rest.trim() == "(" {
                in_block = true;
                continue;
            }
            rest
        } else {
            continue;
        };
        if let Some((module, target)) = directive.split_once("=>") {
            let target = target.trim();
            if target.starts_with('.') || target.starts_with('/') {
                return reading.refuse(format!("go.mod replaces `{}` with the local folder `{target}`: it is not copied first", module.trim()));
            }
        }
    }
}

fn gemfile(install: &Install, listing: &Listing, reading: &mut Reading) {
    let dir = &install.dir;
    let first = reading.files.iter().find(|f| f.ends_with("Gemfile") || f.ends_with("gems.rb")).cloned();
    let path = install.named.first().cloned().or(first).unwrap_or_else(|| format!("{dir}Gemfile"));
    let Some(text) = listing.content(&path) else {
        return unknown(reading, &path, "`gemspec` or a `path:` gem in it would need more files");
    };
    for line in text.lines() {
        let code = line.split('#').next().unwrap_or("").trim();
        if code.contains("path:") || code.contains(":path") || code.starts_with("path ") || code.starts_with("path(") {
            return reading.refuse(format!("the Gemfile installs a gem from a local path (`{code}`): the install reads that folder"));
        }
        if code.starts_with("eval_gemfile") {
            return reading.refuse(format!("the Gemfile reads another file (`{code}`)"));
        }
        if code == "gemspec" || code.starts_with("gemspec ") || code.starts_with("gemspec(") {
            let specs = listing.matching(dir, "*.gemspec");
            if specs.is_empty() {
                return reading.refuse("the Gemfile's `gemspec` needs a *.gemspec file, and none is listed");
            }
            reading.files.extend(specs.iter().cloned());
            for spec in &specs {
                gemspec_reads(spec, listing, reading);
                if reading.refusal.is_some() {
                    return;
                }
            }
        }
    }
}

/// The files a .gemspec loads while Bundler evaluates it (`require_relative "lib/x/version"`,
/// `require "x/version"` from its lib/, `File.read("VERSION")`): copied first with it. A load
/// that cannot be followed is a refusal; what it does with `git ls-files` or `Dir[…]` only lists
/// files for packaging, which `bundle install` does not need.
fn gemspec_reads(spec: &str, listing: &Listing, reading: &mut Reading) {
    let dir = parent_of(spec);
    let Some(text) = listing.content(spec) else {
        return unknown(reading, spec, "the Gemfile's `gemspec` evaluates it, and what it loads (often lib/…/version.rb) is not copied first");
    };
    let mut loads = Vec::new();
    for line in text.lines() {
        let code = line.split(" #").next().unwrap_or("").trim();
        if code.starts_with('#') {
            continue;
        }
        for (call, prefix, suffix) in [("require_relative", "", ".rb"), ("require", "lib/", ".rb"), ("File.read", "", ""), ("File.readlines", "", ""), ("IO.read", "", "")] {
            let mut rest = code;
            while let Some(at) = rest.find(call) {
                let before_ok = rest[..at].chars().last().is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
                let after = &rest[at + call.len()..];
                rest = after;
                // `require_relative` also contains `require`; `File.readlines` contains `File.read`.
                if !before_ok || after.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let argument = after.trim_start_matches(['(', ' ']);
                let literal = argument.strip_prefix(['"', '\'']).and_then(|a| a.split(['"', '\'']).next());
                match literal {
                    // A gem's own library (`require "rubygems"`) is not in lib/ of the context.
                    Some(path) if call == "require" && !path.contains('/') => {}
                    Some(path) if !path.contains(['#', '$']) => {
                        let path = if path.ends_with(suffix) { path.to_string() } else { format!("{path}{suffix}") };
                        loads.push((format!("{dir}{prefix}{}", path.trim_start_matches("./")), call == "require"));
                    }
                    _ if call == "require" => {}
                    _ => return reading.refuse(format!("`{spec}` reads a file it names by code (`{code}`): which one cannot be told")),
                }
            }
        }
    }
    for (path, from_lib) in loads {
        let Some(path) = normalize(&path) else {
            return reading.refuse(format!("`{spec}` reads a file outside the build context"));
        };
        match listing.presence(&path) {
            Presence::Present => reading.files.insert(path),
            // `require "json/add/core"`: a gem's file, not the project's.
            _ if from_lib => {}
            _ => return reading.refuse(format!("`{spec}` reads `{path}`, which is not in the listing of the build context")),
        }
    }
    reading.risk(format!("the Gemfile's `gemspec` evaluates `{spec}`, Ruby code: the files it is seen to load are copied first with it"));
}

fn composer_json(install: &Install, listing: &Listing, reading: &mut Reading) {
    let path = format!("{}composer.json", install.dir);
    let Some(text) = listing.content(&path) else {
        return unknown(reading, &path, "a `path` repository or per-package scripts in it would change the install");
    };
    let Ok(json) = serde_json::from_str::<Json>(text) else {
        return reading.risk(format!("`{path}` does not parse as JSON"));
    };
    let repositories: Vec<&Json> = match &json["repositories"] {
        Json::Array(list) => list.iter().collect(),
        Json::Object(map) => map.values().collect(),
        _ => Vec::new(),
    };
    if let Some(repo) = repositories.iter().find(|r| r["type"] == "path") {
        return reading.refuse(format!("composer.json has a `path` repository (`{}`): the install reads that folder", repo["url"].as_str().unwrap_or("?")));
    }
    for event in ["pre-package-install", "post-package-install", "pre-package-update", "post-package-update"] {
        if !json["scripts"][event].is_null() {
            reading.risk(format!("composer.json runs `{event}` scripts: the early install skips them and the later one installs nothing, so they would not run"));
        }
    }
    if !json["require"]["symfony/flex"].is_null() || !json["require-dev"]["symfony/flex"].is_null() {
        reading.risk("symfony/flex applies recipes while installing: it may write project files that the full COPY then replaces");
    }
}

fn cargo_toml(install: &Install, listing: &Listing, reading: &mut Reading) {
    let dir = &install.dir;
    let path = format!("{dir}Cargo.toml");
    let Some(text) = listing.content(&path) else {
        return reading.refuse(format!("`{path}` is not known (only the listing is): the dependency-only build needs the package name and its targets"));
    };
    let Ok(doc) = text.parse::<toml::Table>() else {
        return reading.refuse(format!("`{path}` does not parse as TOML"));
    };
    if doc.contains_key("workspace") {
        return reading.refuse("a Cargo workspace: each member needs its own placeholder sources");
    }
    let package = doc.get("package");
    if package.and_then(|p| p.get("name")).and_then(toml::Value::as_str).is_none() {
        return reading.refuse("Cargo.toml has no package name");
    }
    if package.and_then(|p| p.get("build")).is_some() || listing.presence(&format!("{dir}build.rs")) != Presence::Absent {
        return reading.refuse("a build script (build.rs) runs in the dependency-only build and may read the sources");
    }
    if doc.get("lib").and_then(|l| l.get("path")).is_some() || ["bin", "example", "test", "bench"].iter().any(|t| doc.contains_key(*t)) {
        return reading.refuse("Cargo.toml declares its own targets: placeholder sources for them are not known");
    }
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(table) = doc.get(section).and_then(toml::Value::as_table) {
            if let Some((name, _)) = table.iter().find(|(_, spec)| spec.get("path").is_some()) {
                return reading.refuse(format!("dependency `{name}` is a local path: the build reads that folder"));
            }
        }
    }
    let src = format!("{dir}src/");
    if !listing.shows_inside(&src) {
        return reading.refuse(format!("the listing does not show inside `{src}`: whether src/main.rs or src/lib.rs exists decides the placeholder"));
    }
    if listing.presence(&format!("{src}main.rs")) != Presence::Present && listing.presence(&format!("{src}lib.rs")) != Presence::Present {
        return reading.refuse("neither src/main.rs nor src/lib.rs is in the build context");
    }
    reading.risk("the dependencies are compiled against placeholder sources: features or targets the real build selects differently are compiled again, and a build that relies on the placeholder being replaced must see `cargo clean -p` work");
}

fn pom_xml(install: &Install, listing: &Listing, reading: &mut Reading) {
    let path = install.named.first().cloned().unwrap_or_else(|| format!("{}pom.xml", install.dir));
    reading.risk("`dependency:go-offline` resolves what the dependency plugin sees, close to but not exactly what the build uses, and keeps that download in a layer of its own");
    let Some(text) = listing.content(&path) else {
        return unknown(reading, &path, "a multi-module build would need its modules' POMs");
    };
    if text.contains("<modules>") {
        return reading.refuse("a multi-module build: each module's pom.xml would be needed, and go-offline cannot resolve modules that are not built yet");
    }
    if let Some(at) = text.find("<relativePath>") {
        let rest = &text[at + "<relativePath>".len()..];
        let value = rest.split('<').next().unwrap_or("").trim();
        if !value.is_empty() {
            reading.refuse(format!("the parent POM is read from `{value}`"));
        }
    }
}

fn gradle(install: &Install, listing: &Listing, reading: &mut Reading) {
    let dir = &install.dir;
    reading.risk("`gradle dependencies` resolves the configurations it lists: it warms the cache for most, not all, of what the build downloads, in a layer of its own");
    if install.rec.view.basename() == Some("gradlew") && listing.presence(&format!("{dir}gradlew")) != Presence::Present {
        return reading.refuse("the build runs ./gradlew, which is not in the listing");
    }
    for settings in ["settings.gradle", "settings.gradle.kts"] {
        let path = format!("{dir}{settings}");
        if listing.presence(&path) != Presence::Present {
            continue;
        }
        match listing.content(&path) {
            Some(text) => {
                if text.lines().any(|l| {
                    let l = l.trim_start();
                    l.starts_with("include") && !l.starts_with("includeBuild")
                }) {
                    return reading.refuse("a multi-project build (`include` in settings.gradle): each project's build file would be needed");
                }
                if text.contains("includeBuild") {
                    return reading.refuse("an included build (`includeBuild` in settings.gradle) would be needed");
                }
            }
            None => unknown(reading, &path, "a multi-project build (`include`) would need each project's build file"),
        }
    }
    if reading.dirs.iter().any(|d| d.ends_with("buildSrc")) {
        reading.risk("buildSrc/ holds build logic: it is copied first and compiled in the dependency step");
    }
}

fn msbuild(listing: &Listing, reading: &mut Reading) {
    const PROJECTS: &[&str] = &["*.csproj", "*.fsproj", "*.vbproj"];
    let mut queue: Vec<String> = reading.files.iter().filter(|f| PROJECTS.iter().any(|p| glob(p, f.rsplit('/').next().unwrap_or(f)))).cloned().collect();
    let mut solutions: Vec<String> = reading.files.iter().filter(|f| f.ends_with(".sln") || f.ends_with(".slnx")).cloned().collect();
    let mut seen = BTreeSet::new();
    while let Some(solution) = solutions.pop() {
        let Some(text) = listing.content(&solution) else {
            unknown(reading, &solution, "the projects it lists would need their project files");
            continue;
        };
        for reference in solution_projects(text) {
            match reference_path(parent_of(&solution), &reference, reading) {
                Some(path) => queue.push(path),
                None => return,
            }
        }
    }
    while let Some(project) = queue.pop() {
        if !seen.insert(project.clone()) || seen.len() > 64 {
            continue;
        }
        match listing.presence(&project) {
            Presence::Present => {}
            Presence::Absent => return reading.refuse(format!("the project `{project}` is not in the build context")),
            Presence::Unknown => return reading.refuse(format!("whether the project `{project}` is in the build context is not known")),
        }
        reading.files.insert(project.clone());
        let Some(text) = listing.content(&project) else {
            unknown(reading, &project, "its project references and imports would need more files");
            continue;
        };
        if text.contains("<Import ") {
            reading.risk(format!("`{project}` imports other MSBuild files: they are not copied first"));
        }
        for reference in attribute_values(text, "<ProjectReference", "Include") {
            match reference_path(parent_of(&project), &reference, reading) {
                Some(path) => queue.push(path),
                None => return,
            }
        }
    }
    let folders: BTreeSet<&str> = reading.files.iter().map(|f| parent_of(f)).collect();
    if folders.len() > 12 {
        reading.refuse(format!("the projects span {} folders: copying each first would take as many COPY lines", folders.len()));
    }
}

/// A project path as MSBuild writes it (`..\Lib\Lib.csproj`), as a context path.
fn reference_path(base: &str, reference: &str, reading: &mut Reading) -> Option<String> {
    let joined = format!("{base}{}", reference.replace('\\', "/"));
    let path = normalize(&joined);
    if path.is_none() {
        reading.refuse(format!("the project reference `{reference}` is outside the build context"));
    }
    path
}

/// Values of `attribute="…"` in the elements that start with `element`.
fn attribute_values(text: &str, element: &str, attribute: &str) -> Vec<String> {
    let mut out = Vec::new();
    let needle = format!("{attribute}=\"");
    for piece in text.split(element).skip(1) {
        let tag = piece.split('>').next().unwrap_or("");
        if let Some(at) = tag.find(&needle) {
            let value = &tag[at + needle.len()..];
            out.push(value.split('"').next().unwrap_or("").to_string());
        }
    }
    out
}

/// The project files a .sln lists (`Project("{…}") = "Name", "path\Name.csproj", "{…}"`).
fn solution_projects(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("Project("))
        .filter_map(|l| l.split('"').nth(5).map(str::to_string))
        .filter(|p| [".csproj", ".fsproj", ".vbproj"].iter().any(|e| p.ends_with(e)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_files() {
        assert_eq!(requirement_lines("flask==2\n-r base.txt\n# c\n-c constraints.txt\n").unwrap(), vec!["base.txt", "constraints.txt"]);
        assert!(requirement_lines("-e .\n").is_err());
        assert!(requirement_lines("./libs/thing\n").is_err());
        assert!(requirement_lines("thing @ file:///x\n").is_err());
        assert!(requirement_lines("--index-url https://x\nrequests\n").is_ok());
    }

    #[test]
    fn msbuild_references() {
        let csproj = r#"<Project><ItemGroup><ProjectReference Include="..\Lib\Lib.csproj" /></ItemGroup></Project>"#;
        assert_eq!(attribute_values(csproj, "<ProjectReference", "Include"), vec![r"..\Lib\Lib.csproj"]);
        let sln = "Project(\"{FAE04EC0}\") = \"App\", \"App\\App.csproj\", \"{1234}\"\n";
        assert_eq!(solution_projects(sln), vec!["App\\App.csproj"]);
        assert_eq!(normalize("App/../Lib/Lib.csproj").as_deref(), Some("Lib/Lib.csproj"));
        assert_eq!(normalize("../x"), None);
    }
}
