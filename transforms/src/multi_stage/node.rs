//! Node.js: a build (`npm run build`, `yarn build`, `pnpm build`) whose dependencies were installed
//! by npm, yarn (classic or berry) or pnpm. The build stage ends by pruning the dev dependencies
//! with the manager that installed them; the runtime stage copies the pruned `node_modules`,
//! package.json and the build output, so it needs `node` alone (no npm, no compiler).

use super::knowledge::knowledge;
use super::manifests::{self, PackageJson};
use super::plan::{basename, bare_name, builds, empty_plan, packages, Plan};
use super::scan::{Built, Scan};
use super::runtime::slim_of;
use crate::model::reference::ImageRef;
use crate::model::listing::Listing;
use crate::model::workspaces::{pnpm_workspace_packages, workspace_members};
use crate::model::{Dir, Input};
use crate::shell::{parse_script, ShellWord};

/// The package manager that installed `node_modules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Manager {
    Npm,
    YarnClassic,
    YarnBerry,
    Pnpm,
}

impl Manager {
    /// Its table in `node-prune` of the knowledge.
    fn key(self) -> &'static str {
        match self {
            Manager::Npm => "npm",
            Manager::YarnClassic => "yarn",
            Manager::YarnBerry => "yarn-berry",
            Manager::Pnpm => "pnpm",
        }
    }

    fn program(self) -> &'static str {
        match self {
            Manager::Npm => "npm",
            Manager::YarnClassic | Manager::YarnBerry => "yarn",
            Manager::Pnpm => "pnpm",
        }
    }
}

/// The project's own scripts an install runs: they may write anywhere in the project (yarn and
/// pnpm also run them again when they prune).
const INSTALL_HOOKS: &[&str] = &["preinstall", "install", "postinstall", "prepare"];

pub(super) fn node(input: &Input, scan: &Scan, image: &ImageRef, programs: &[Vec<ShellWord>]) -> Result<Plan, String> {
    let built = builds(scan, "node").next().ok_or("no build command")?;
    let build_program = built.view().basename().unwrap_or_default().to_string();
    let build_dir = built.cwd.clone().ok_or_else(|| format!("`{build_program}` builds in a folder that is not known (no WORKDIR)"))?;
    // The project is where the dependencies are installed: the build's folder, or the workspace
    // root above it when the build runs in one of its packages (`WORKDIR /app/packages/server`).
    let installs_in = |dir: &str| scan.commands.iter().any(|b| b.cwd.as_deref() == Some(dir) && install_manager(b).is_some());
    let project = ancestors(&build_dir).find(|dir| installs_in(dir)).unwrap_or(&build_dir).to_string();
    let manifest = scan
        .context_path(&Dir::resolve(Some(&project), "package.json").unwrap_or_default())
        .ok_or("package.json is not copied from the build context")?;
    let text = input.context.contents.get(&manifest).ok_or("package.json's contents are not known: whether `build` is one of its scripts cannot be told")?;
    let package = manifests::package_json(text)?;
    let folder = manifest.rsplit_once('/').map(|(d, _)| format!("{d}/")).unwrap_or_default();
    let files = input.context.files.as_ref().ok_or("the build context is not known: which package manager installed node_modules cannot be told")?;
    let has = |name: &str| files.iter().any(|f| *f == format!("{folder}{name}"));
    let members = workspace(input, scan, &project, &folder, &package)?;
    if project != build_dir && !members.iter().any(|m| m.dir == build_dir) {
        return Err(format!(
            "`{build_program}` builds in {build_dir}, but the dependencies are installed in {project}, of which it is no workspace package: what node_modules holds cannot be told"
        ));
    }
    let final_workdir = scan.final_workdir.as_deref();
    // The CMD runs in the project, or in one of its workspace packages.
    let run_package = match final_workdir {
        Some(dir) if dir == project => &package,
        dir => match members.iter().find(|m| Some(m.dir.as_str()) == dir) {
            Some(member) => &member.package,
            None => return Err(format!("the `{build_program}` build does not run in the final WORKDIR")),
        },
    };
    if !package.scripts.contains_key("build") && !members.iter().any(|m| m.package.scripts.contains_key("build")) {
        let of = if members.is_empty() { "package.json has" } else { "neither package.json nor its workspace packages have" };
        return Err(format!("{of} no `build` script"));
    }
    let (manager, install) = installer(scan, &project)?;
    let installed_at = install.instruction;
    let manager = match manager {
        Manager::YarnClassic | Manager::YarnBerry => yarn_kind(&package, has(".yarnrc.yml"), input.context.contents.get(&format!("{folder}.yarnrc.yml")).map(String::as_str))?,
        other => other,
    };
    let prune = prune_command(manager, image, install, &members);
    let manifests = std::iter::once(("package.json".to_string(), &package)).chain(members.iter().map(|m| (format!("{}/package.json", m.relative), &m.package)));
    for (path, manifest) in manifests {
        if let Some(hook) = INSTALL_HOOKS.iter().find(|h| manifest.scripts.contains_key(**h)) {
            // npm's prune runs no script; yarn's and pnpm's are installs that run them again.
            let again = if manager == Manager::Npm { String::new() } else { format!(", and `{prune}` runs it again without the dev dependencies") };
            return Err(format!("{path} has a `{hook}` script: what it makes besides node_modules and the build output would not be in the runtime stage{again}"));
        }
    }
    // A USER followed by RUNs stays in the build stage: the prune runs as that user.
    if let Some((index, user)) = &scan.user {
        if scan.run_after_user && installed_at < *index {
            return Err(format!(
                "USER {user} comes after the dependency install: the prune at the end of the build stage would run as {user}, who may not own node_modules"
            ));
        }
    }

    let not_output = "the CMD does not run the build output (dist/ or build/): which files the runtime needs cannot be told";
    let (entry, runs_manager, started) = entry(programs, run_package, &members).ok_or(not_output)?;
    let entry_path = Dir::resolve(started.map_or(final_workdir, |m| Some(m.dir.as_str())), &entry).ok_or(not_output)?;
    // The package whose build output the CMD runs: the project, or the workspace package it is in.
    let owner = members.iter().filter(|m| Dir::inside(&entry_path, &m.dir).is_some()).max_by_key(|m| m.dir.len());
    if owner.is_none() && !members.is_empty() {
        return Err(format!(
            "the CMD runs the workspace root's own output ({entry}): the root reaches its workspace packages through node_modules without naming them in `dependencies`, so which of them it loads cannot be told"
        ));
    }
    let owner_dir = owner.map_or(project.as_str(), |m| m.dir.as_str());
    let output = Dir::inside(&entry_path, owner_dir)
        .map(|r| r.split('/').next().unwrap_or_default().to_string())
        .filter(|first| OUTPUT_DIRS.contains(&first.as_str()))
        .ok_or(not_output)?;
    let node_image = image.official_name().as_deref() == Some("node");
    match runs_manager {
        Some(Manager::Npm) | None => {}
        // The node images install the same yarn 1 into their slim variants.
        Some(Manager::YarnClassic) if node_image && manager == Manager::YarnClassic => {}
        Some(program) => {
            return Err(format!(
                "the CMD runs `{} start`, which the runtime stage would not have: run the start script's `node {entry}` instead",
                program.program()
            ))
        }
    }

    let runtime = slim_of(image)?;
    let mut plan = empty_plan(runtime);
    let mut copies = vec!["node_modules".to_string(), "package.json".to_string()];
    if owner.is_none() {
        copies.push(output.clone());
    }
    // Each workspace package the CMD loads, with its own node_modules (what the manager did not
    // hoist) and its build output; root node_modules links to these folders.
    let loaded = match owner {
        Some(owner) => loaded_members(&members, owner, &output)?,
        None => Vec::new(),
    };
    for (member, outputs) in &loaded {
        for path in ["package.json", "node_modules"].into_iter().chain(outputs.iter().map(String::as_str)) {
            copies.push(format!("{}/{path}", member.relative));
        }
    }
    if final_workdir != Some(project.as_str()) {
        plan.build_appends.push(format!("WORKDIR {project}"));
    }
    // A package whose dependencies are all hoisted has no node_modules of its own: COPY needs one.
    let own_folders: Vec<String> = loaded.iter().map(|(m, _)| format!("{}/node_modules", m.relative)).collect();
    let made = if own_folders.is_empty() { String::new() } else { format!(" && mkdir -p {}", own_folders.join(" ")) };
    plan.build_appends.push(format!("RUN {prune}{made}"));
    for path in copies {
        let path = format!("{project}/{path}");
        plan.copies.push((path.clone(), path));
    }
    packages(scan, image, "node", &mut plan)?;
    // The runtime runs node on the copied node_modules: the manager stays only when the CMD runs it.
    let k = knowledge();
    let dropped: Vec<String> = plan.packages.iter().filter(|p| k.is_node_build_tool(bare_name(p)) && !(runs_manager.is_some() && bare_name(p) == "npm")).cloned().collect();
    plan.packages.retain(|p| !dropped.contains(p));
    plan.dropped.extend(dropped);
    plan.notes.push(format!(
        "The build stage ends with `{prune}`, and the runtime copies node_modules as it is: native addons compiled in the build run on {} because it is {}",
        plan.runtime,
        same_abi(image, &plan.runtime)
    ));
    if !loaded.is_empty() {
        let names: Vec<&str> = loaded.iter().map(|(m, _)| m.relative.as_str()).collect();
        plan.notes.push(format!(
            "Of the workspace packages, the runtime has the one the CMD runs and those it names in `dependencies`, transitively ({}): one it loads without naming it would be missing",
            names.join(", ")
        ));
    }
    Ok(plan)
}

/// `dir` and the folders above it, nearest first (`/a/b`, `/a`, `/`).
fn ancestors(dir: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(dir), |d| match d.rsplit_once('/') {
        Some(("", _)) if *d != "/" => Some("/"),
        Some((parent, _)) if !parent.is_empty() => Some(parent),
        _ => None,
    })
}

/// The folders a Node build writes its output to (what the runtime copies of a package).
const OUTPUT_DIRS: &[&str] = &["dist", "build"];

/// A workspace package.
struct Member {
    /// Its folder in the image (`/repo/packages/api`).
    dir: String,
    /// Its folder relative to the project (`packages/api`).
    relative: String,
    package: PackageJson,
}

/// The workspace packages of the project (none when it declares no workspaces): the folders its
/// `workspaces` globs (or pnpm-workspace.yaml) match that hold a package.json the stage copies into
/// the project's folder.
fn workspace(input: &Input, scan: &Scan, project: &str, folder: &str, package: &PackageJson) -> Result<Vec<Member>, String> {
    let mut patterns = package.workspaces.clone();
    let pnpm_file = format!("{folder}pnpm-workspace.yaml");
    if input.context.files.as_ref().is_some_and(|files| files.contains(&pnpm_file)) {
        let yaml = input.context.contents.get(&pnpm_file).ok_or("pnpm-workspace.yaml's contents are not known: which folders are workspace packages cannot be told")?;
        patterns.extend(pnpm_workspace_packages(yaml));
    }
    if patterns.is_empty() {
        return Ok(Vec::new());
    }
    let listing = Listing::new(&input.context).ok_or("the build context is not known: which folders are workspace packages cannot be told")?;
    let mut members = Vec::new();
    for context_dir in workspace_members(folder, &patterns, &listing)? {
        let relative = context_dir[folder.len()..].trim_end_matches('/').to_string();
        let dir = format!("{project}/{relative}");
        // A package folder the stage does not copy (`COPY server server` leaves `client` out) is
        // no workspace package in the image.
        let Some(manifest) = scan.context_path(&format!("{dir}/package.json")) else { continue };
        let text = input.context.contents.get(&manifest).ok_or_else(|| format!("{manifest}'s contents are not known: what the workspace package needs cannot be told"))?;
        let package = manifests::package_json(text).map_err(|e| format!("{relative}/{e}"))?;
        members.push(Member { dir, relative, package });
    }
    Ok(members)
}

/// The workspace packages the CMD loads, each with its output folders: the one it runs (`owner`,
/// whose `output` holds the CMD's file) and those reached through `dependencies` from it (the
/// folders their `main`/`exports` name).
fn loaded_members<'m>(members: &'m [Member], owner: &'m Member, output: &str) -> Result<Vec<(&'m Member, Vec<String>)>, String> {
    let mut loaded: Vec<(&Member, Vec<String>)> = vec![(owner, vec![output.to_string()])];
    let mut pending: Vec<&str> = owner.package.dependencies.iter().map(String::as_str).collect();
    while let Some(name) = pending.pop() {
        let Some(member) = members.iter().find(|m| m.package.name.as_deref() == Some(name)) else { continue };
        if loaded.iter().any(|(m, _)| std::ptr::eq(*m, member)) {
            continue;
        }
        let unknown = |why: String| format!("the workspace package `{name}` ({}) {why}: which of its files the runtime needs cannot be told", member.relative);
        if member.package.entries.is_empty() {
            return Err(unknown("names no `main` or `exports`, so node loads index.js from its sources".into()));
        }
        let mut outputs: Vec<String> = Vec::new();
        for entry in &member.package.entries {
            let path = entry.trim_start_matches("./");
            if path == "package.json" {
                continue;
            }
            let first = path.split('/').next().unwrap_or_default();
            if !OUTPUT_DIRS.contains(&first) || !path.contains('/') {
                return Err(unknown(format!("is loaded from `{entry}`, which is not in its build output (dist/ or build/)")));
            }
            if !outputs.iter().any(|o| o == first) {
                outputs.push(first.to_string());
            }
        }
        pending.extend(member.package.dependencies.iter().map(String::as_str));
        loaded.push((member, outputs));
    }
    Ok(loaded)
}

/// The manager of the dependency install in `project` (one manager only), and its first install.
fn installer<'s>(scan: &'s Scan, project: &str) -> Result<(Manager, &'s Built<'s>), String> {
    let mut found: Option<(Manager, &Built)> = None;
    for built in scan.commands.iter().filter(|b| b.cwd.as_deref() == Some(project)) {
        let Some(manager) = install_manager(built) else { continue };
        match found {
            Some((first, _)) if first.program() != manager.program() => {
                return Err(format!("node_modules is installed by both {} and {}: which one prunes it cannot be told", first.program(), manager.program()));
            }
            Some(_) => {}
            None => found = Some((manager, built)),
        }
    }
    found.ok_or_else(|| format!("no `npm ci`, `npm install`, `yarn install` or `pnpm install` runs in {project}: what node_modules holds cannot be told"))
}

fn install_manager(built: &Built) -> Option<Manager> {
    let view = built.view();
    let sub = view.positionals(&["--cwd", "--prefix", "-C", "--dir"]).next().and_then(|w| w.literal.as_deref());
    match view.basename()? {
        "npm" if matches!(sub, Some("ci" | "clean-install" | "install" | "i")) && !view.has_flag(Some('g'), Some("global")) => Some(Manager::Npm),
        "yarn" if matches!(sub, None | Some("install")) => Some(Manager::YarnClassic),
        "pnpm" if matches!(sub, Some("install" | "i")) && !view.has_flag(Some('g'), Some("global")) => Some(Manager::Pnpm),
        _ => None,
    }
}

/// Yarn 1 or Yarn 2+ (berry), from package.json's `packageManager` and `.yarnrc.yml`; berry must
/// link a node_modules folder (not Plug'n'Play) and have `workspaces focus` (built in from 3 on, a
/// plugin in 2).
fn yarn_kind(package: &PackageJson, has_rc: bool, rc: Option<&str>) -> Result<Manager, String> {
    let declared = package.package_manager.as_deref().and_then(|p| p.strip_prefix("yarn@")).map(major);
    let from_path = rc.and_then(|rc| setting(rc, "yarnPath")).and_then(|path| path.rsplit('/').next()?.strip_prefix("yarn-").map(major));
    let version = declared.or(from_path).flatten();
    if version.is_some_and(|v| v < 2) || (version.is_none() && !has_rc) {
        return Ok(Manager::YarnClassic);
    }
    let Some(rc) = rc else {
        return Err("Yarn 2+ (.yarnrc.yml) whose settings are not known: whether it links node_modules and can prune them cannot be told".into());
    };
    if !matches!(setting(rc, "nodeLinker").as_deref(), Some("node-modules" | "pnpm")) {
        return Err("Yarn Plug'n'Play (no `nodeLinker: node-modules` in .yarnrc.yml): there is no node_modules folder to prune and copy".into());
    }
    match version {
        Some(2) if !rc.contains("plugin-workspace-tools") => {
            Err("Yarn 2 prunes with `yarn workspaces focus --production`, which needs the workspace-tools plugin (`yarn plugin import workspace-tools`): .yarnrc.yml does not list it".into())
        }
        None => Err("the Yarn version is not known (no `packageManager` in package.json, no `yarnPath` in .yarnrc.yml): Yarn 2 prunes only with the workspace-tools plugin".into()),
        _ => Ok(Manager::YarnBerry),
    }
}

/// The leading number of a version (`3.6.4+sha224.x` → 3).
fn major(version: &str) -> Option<u32> {
    version.split(['.', '+', '-']).next()?.parse().ok()
}

/// A top-level `key: value` of a .yarnrc.yml.
fn setting(rc: &str, key: &str) -> Option<String> {
    rc.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.trim_start().strip_prefix(':')?;
        Some(value.split(" #").next().unwrap_or(value).trim().trim_matches(['"', '\'']).to_string())
    })
}

/// The prune of `manager`'s knowledge, with the flags of the install it repeats; in a workspace
/// whose manager does not prune one, the reinstall into emptied node_modules folders.
fn prune_command(manager: Manager, image: &ImageRef, install: &Built, members: &[Member]) -> String {
    let prune = knowledge().node_prune.get(manager.key()).expect("knowledge/multi-stage.toml has a node-prune table per manager");
    // npm 6 (Node before 15) has no `--omit`.
    let npm6 = image.official_name().as_deref() == Some("node")
        && image.tag().and_then(|t| t.split(['.', '-']).next()?.parse::<u32>().ok()).is_some_and(|major| major < 15);
    let mut command = match &prune.workspace {
        Some(reinstall) if !members.is_empty() => {
            let folders: Vec<String> = members.iter().map(|m| format!("{}/node_modules", m.relative)).collect();
            format!("rm -rf node_modules {} && {reinstall}", folders.join(" "))
        }
        _ => prune.npm6.as_ref().filter(|_| npm6).unwrap_or(&prune.command).clone(),
    };
    for flag in prune.carry.iter().filter(|flag| install.view().has_word(flag)) {
        command.push(' ');
        command.push_str(flag);
    }
    command
}

/// The file node runs (`node dist/server.js`, or the `node` command of the package script a manager
/// runs: `npm start`, `npm run start:prod`), the manager the CMD runs, if any, and the workspace
/// package whose script it runs (`npm start -w api`, `yarn workspace api start`): the file is
/// relative to that package's folder.
fn entry<'m>(programs: &[Vec<ShellWord>], package: &PackageJson, members: &'m [Member]) -> Option<(String, Option<Manager>, Option<&'m Member>)> {
    programs.iter().find_map(|line| {
        let program = basename(line.first()?.literal.as_deref()?);
        let args: Vec<&str> = line[1..].iter().filter_map(|w| w.literal.as_deref()).collect();
        let first_file = |args: &[&str]| args.iter().find(|a| !a.starts_with('-')).map(|a| a.to_string());
        let manager = match program {
            "node" | "nodejs" => return Some((first_file(&args)?, None, None)),
            "npm" => Manager::Npm,
            "yarn" => Manager::YarnClassic,
            "pnpm" => Manager::Pnpm,
            _ => return None,
        };
        let (target, rest) = workspace_target(manager, &args);
        // `npm start`, `npm run start:prod`, `yarn start:prod`: the package script it runs.
        let script = match (manager, rest.as_slice()) {
            (_, ["start", ..]) => "start",
            (_, ["run" | "run-script", name, ..]) => name,
            (Manager::YarnClassic | Manager::Pnpm, [name, ..]) => name,
            _ => return None,
        };
        let member = match target {
            Some(target) => Some(members.iter().find(|m| m.package.name.as_deref() == Some(target) || m.relative == target.trim_start_matches("./").trim_end_matches('/'))?),
            None => None,
        };
        let start = parse_script(member.map_or(package, |m| &m.package).scripts.get(script)?);
        let node = start.commands().iter().find(|c| c.effective().is("node"))?;
        let words: Vec<&str> = node.effective().args().iter().filter_map(|w| w.literal.as_deref()).collect();
        Some((first_file(&words)?, Some(manager), member))
    })
}

/// The workspace package a manager's command runs in (`npm -w api`, `npm --workspace=api`, `yarn
/// workspace api`), and the rest of its positionals.
fn workspace_target<'a>(manager: Manager, args: &[&'a str]) -> (Option<&'a str>, Vec<&'a str>) {
    let mut target = None;
    let mut rest = Vec::new();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        match *word {
            "-w" | "--workspace" if manager == Manager::Npm => target = words.next().copied(),
            _ if manager == Manager::Npm && word.starts_with("--workspace=") => target = word.strip_prefix("--workspace="),
            _ if word.starts_with('-') => {}
            _ => rest.push(*word),
        }
    }
    if manager == Manager::YarnClassic && rest.first() == Some(&"workspace") && rest.len() > 1 {
        target = Some(rest[1]);
        rest.drain(..2);
    }
    (target, rest)
}

/// Why a native addon built on `image` runs on `runtime`: the same distribution release and Node.
fn same_abi(image: &ImageRef, runtime: &str) -> String {
    if image.text == runtime {
        return "the build's own image".into();
    }
    match image.official_name().as_deref() {
        Some("node") => {
            let major = image.tag().and_then(|t| t.split(['.', '-']).next()).unwrap_or_default();
            format!("the slim variant of {} (the same Node {major} on the same Debian release)", image.text)
        }
        _ => format!("the slim variant of {} (the same release, so the same nodejs package and C library)", image.text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_of_a_start() {
        assert_eq!(workspace_target(Manager::Npm, &["run", "start", "--workspace=server"]), (Some("server"), vec!["run", "start"]));
        assert_eq!(workspace_target(Manager::Npm, &["start", "-w", "packages/api"]), (Some("packages/api"), vec!["start"]));
        assert_eq!(workspace_target(Manager::YarnClassic, &["workspace", "@shop/server", "start"]), (Some("@shop/server"), vec!["start"]));
        assert_eq!(workspace_target(Manager::YarnClassic, &["start"]), (None, vec!["start"]));
    }

    #[test]
    fn folders_above() {
        assert_eq!(ancestors("/app/packages/server").collect::<Vec<_>>(), ["/app/packages/server", "/app/packages", "/app", "/"]);
        assert_eq!(ancestors("/").collect::<Vec<_>>(), ["/"]);
    }

    #[test]
    fn yarnrc_settings_and_versions() {
        let rc = "# comment\nnodeLinker: \"node-modules\" # linker\nyarnPath: .yarn/releases/yarn-3.6.4.cjs\n";
        assert_eq!(setting(rc, "nodeLinker").as_deref(), Some("node-modules"));
        assert_eq!(setting(rc, "yarnPath").as_deref(), Some(".yarn/releases/yarn-3.6.4.cjs"));
        assert_eq!(setting(rc, "npmRegistryServer"), None);
        assert_eq!(major("4.1.1+sha224.abc"), Some(4));
        assert_eq!(major("berry"), None);
    }

    #[test]
    fn yarn_1_or_berry() {
        let package = |manager: Option<&str>| PackageJson { package_manager: manager.map(str::to_string), ..PackageJson::default() };
        let linked = "nodeLinker: node-modules\n";
        assert_eq!(yarn_kind(&package(None), false, None), Ok(Manager::YarnClassic));
        assert_eq!(yarn_kind(&package(Some("yarn@1.22.22")), true, Some(linked)), Ok(Manager::YarnClassic));
        assert_eq!(yarn_kind(&package(Some("yarn@3.6.4")), true, Some(linked)), Ok(Manager::YarnBerry));
        // The version from yarnPath when package.json names none.
        assert_eq!(yarn_kind(&package(None), true, Some("nodeLinker: node-modules\nyarnPath: .yarn/releases/yarn-4.0.2.cjs\n")), Ok(Manager::YarnBerry));
        assert!(yarn_kind(&package(Some("yarn@2.4.3")), true, Some(linked)).is_err());
        assert_eq!(
            yarn_kind(&package(Some("yarn@2.4.3")), true, Some("nodeLinker: node-modules\nplugins:\n  - path: .yarn/plugins/@yarnpkg/plugin-workspace-tools.cjs\n")),
            Ok(Manager::YarnBerry)
        );
        assert!(yarn_kind(&package(Some("yarn@4.1.1")), true, None).is_err());
    }
}
