//! Per ecosystem: what the build produces, where it goes, on which runtime image, with which
//! packages. `Err` is a refusal with its reason.

use std::collections::BTreeMap;

use super::carry::{carry, command_text};
use super::django::collected_static;
use super::java::java;
use super::knowledge::{knowledge, Ecosystem};
use super::manifests;
use super::node::node;
use super::runtime::{distroless_static, language_runtime, slim_of, Runtime};
use super::python_tools::{self, Target};
use super::scan::{Built, Manager, Scan};
use crate::model::reference::{glob_matches, ImageRef};
use crate::config::PinPolicy;
use crate::model::{Dir, Input};
use crate::shell::{parse_script, ShellWord, NO_OPTIONS};

pub(super) struct Plan {
    pub runtime: String,
    pub manager: Option<Manager>,
    pub packages: Vec<String>,
    /// Instructions (without line ends) after WORKDIR and before the artifacts (the virtualenv's PATH).
    pub setup: Vec<String>,
    /// `COPY --from=build <from> <to>`.
    pub copies: Vec<(String, String)>,
    /// Absolute paths in CMD/ENTRYPOINT/HEALTHCHECK to rewrite: (old, new).
    pub rewrites: Vec<(String, String)>,
    /// Instructions (without line ends) inserted into the build stage before instruction N.
    pub build_inserts: Vec<(usize, Vec<String>)>,
    /// Instructions (without line ends) that end the build stage (Spring Boot's layer extraction).
    pub build_appends: Vec<String>,
    /// Text of the moved CMD/ENTRYPOINT replaced: (old, new) (`-jar app.jar` → the launcher class).
    pub replacements: Vec<(String, String)>,
    /// Said in the finding.
    pub dropped: Vec<String>,
    pub notes: Vec<String>,
}

/// The ecosystem the stage builds with and, when the split can be made, the plan.
pub(super) struct Verdict {
    pub ecosystem: &'static Ecosystem,
    pub plan: Result<Plan, String>,
}

/// `None`: the stage builds nothing dockopt recognises with a toolchain it has.
pub(super) fn decide(input: &Input, scan: &Scan) -> Option<Verdict> {
    let k = knowledge();
    let known_image = scan.image.as_ref().and_then(|i| k.image_toolchain(i));
    // The organisation's replacement of a toolchain image (`[[base.replace]]` from `golang:*`)
    // carries that toolchain too: a Safe replacement must not hide what the image still ships.
    let replaced = match (known_image, scan.image.as_ref()) {
        (None, Some(image)) => replacement_of_toolchain(input, image),
        _ => None,
    };
    let image_eco = known_image.or(replaced.map(|(e, _)| e)).map(|e| e.name.as_str());
    let package_ecos: Vec<&str> = scan.packages().filter_map(|(_, p)| k.package_toolchain(bare_name(p))).map(|e| e.name.as_str()).collect();
    let has = |eco: &str| image_eco == Some(eco) || package_ecos.contains(&eco);
    let mut triggered: Vec<&str> = Vec::new();
    for built in &scan.commands {
        let Some(eco) = classify(built) else { continue };
        // A Python build ships a compiler, or the project tool (Poetry, Pipenv, uv) that installed it.
        let toolchain = if eco == "python" { package_ecos.contains(&"c") || python_tools::project_install(built.view()).is_some() } else { has(eco) };
        if toolchain && !triggered.contains(&eco) {
            triggered.push(eco);
        }
    }
    if triggered.len() > 1 {
        triggered.retain(|e| *e != "c");
    }
    let eco_name = *triggered.first()?;
    // A Python build is described by its compiler when it has one, else by its project tool.
    let described = match eco_name {
        "python" if package_ecos.contains(&"c") => "c",
        name => name,
    };
    let ecosystem = k.ecosystem(described)?;
    let plan = if triggered.len() > 1 {
        Err(format!("the stage builds with several toolchains ({}): which artifacts the image runs cannot be told", triggered.join(", ")))
    } else if let Some((_, from)) = replaced.filter(|(e, _)| e.name == eco_name && !package_ecos.contains(&eco_name)) {
        let image = scan.image.as_ref().map_or(String::new(), |i| i.text.clone());
        Err(format!(
            "`{image}` is the policy's replacement for `{from}` ([[base.replace]]): which runtime image matches what it builds cannot be told; split the build by hand"
        ))
    } else {
        plan(input, scan, eco_name)
    };
    Some(Verdict { ecosystem, plan })
}

/// The ecosystem whose toolchain `image` carries because the policy names it as the replacement
/// of that toolchain's images, with the rule's `from`.
fn replacement_of_toolchain<'a>(input: &'a Input, image: &ImageRef) -> Option<(&'static Ecosystem, &'a str)> {
    let k = knowledge();
    input.settings.config.base.replace.iter().find_map(|rule| {
        let to = ImageRef::parse(&rule.to)?;
        if !to.same_image(image) {
            return None;
        }
        // `golang:*` (the rule's glob) is itself one of the names `golang:*` (the knowledge's) matches.
        let ecosystem = k.ecosystem.iter().find(|e| e.has_image(&rule.from))?;
        Some((ecosystem, rule.from.as_str()))
    })
}

/// The ecosystem of a build command.
pub(super) fn classify(built: &Built) -> Option<&'static str> {
    let view = built.view();
    let name = view.basename()?;
    let sub = view.subcommand();
    let positionals: Vec<&str> = view.positionals(NO_OPTIONS).filter_map(|w| w.literal.as_deref()).collect();
    match name {
        "go" if matches!(sub, Some("build" | "install")) => Some("go"),
        "cargo" if matches!(sub, Some("build" | "install")) => Some("rust"),
        "mvn" | "mvnw" => positionals.iter().any(|p| matches!(*p, "package" | "install" | "verify")).then_some("java"),
        "gradle" | "gradlew" => positionals
            .iter()
            .any(|p| matches!(*p, "build" | "bootJar" | "jar" | "assemble" | "shadowJar" | "installDist" | "bootWar"))
            .then_some("java"),
        "dotnet" if sub == Some("publish") => Some("dotnet"),
        "npm" | "yarn" | "pnpm" => runs_node_build(name, &view.positionals(NODE_VALUE_OPTIONS).filter_map(|w| w.literal.as_deref()).collect::<Vec<_>>()).then_some("node"),
        "make" | "gmake" | "cmake" | "ninja" | "configure" => Some("c"),
        _ if is_pip(view.words()).is_some() || python_tools::project_install(view).is_some() => Some("python"),
        _ => None,
    }
}

/// The options of npm, yarn and pnpm that take a value (the workspace or folder a command runs in).
const NODE_VALUE_OPTIONS: &[&str] = &["-w", "--workspace", "--prefix", "--cwd", "-C", "--dir", "-F", "--filter", "--include", "--exclude", "--from", "-j", "--jobs"];

/// Whether a package manager's positionals run the `build` script: of the project, or of its
/// workspace packages (`yarn workspace api build`, `yarn workspaces foreach -A run build`,
/// `pnpm --filter api build`, `npm run build -w api`).
fn runs_node_build(program: &str, positionals: &[&str]) -> bool {
    let script = match (program, positionals) {
        ("npm", [run, rest @ ..]) if matches!(*run, "run" | "run-script") => return rest.first() == Some(&"build"),
        ("npm", _) => return false,
        ("yarn", ["workspace", _, rest @ ..]) | ("yarn", ["workspaces", "foreach", rest @ ..]) => rest,
        ("yarn", ["workspaces", rest @ ..]) => rest,
        (_, rest) => rest,
    };
    script.first() == Some(&"build") || script.starts_with(&["run", "build"])
}

/// For `pip install …`, `python -m pip install …`: the program word.
pub(super) fn is_pip(words: &[ShellWord]) -> Option<&ShellWord> {
    let program = words.first()?;
    let name = basename(program.literal.as_deref()?);
    let is_python = name.starts_with("python");
    let rest: Vec<Option<&str>> = words[1..].iter().map(|w| w.literal.as_deref()).collect();
    let install_at = if name.starts_with("pip") && !name.contains("pipenv") {
        0
    } else if is_python && rest.first() == Some(&Some("-m")) && matches!(rest.get(1), Some(Some("pip"))) {
        2
    } else {
        return None;
    };
    rest.iter().skip(install_at).find(|w| !w.is_some_and(|w| w.starts_with('-'))).filter(|w| **w == Some("install")).map(|_| program)
}

pub(super) fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A package name without its version pin (`curl=7.88*`, `libpq>=15`).
pub(super) fn bare_name(package: &str) -> &str {
    package.split(['=', '<', '>', '~']).next().unwrap_or(package)
}

pub(super) fn plan(input: &Input, scan: &Scan, eco: &str) -> Result<Plan, String> {
    let Some(image) = scan.image.as_ref() else {
        return Err("the base image is not a plain reference (it uses a variable): the runtime image cannot be derived from it".into());
    };
    if scan.installs.iter().any(|i| i.dynamic) {
        return Err("a package list is not static (it uses a variable): which packages the runtime needs cannot be told".into());
    }
    if scan.installs.iter().any(|i| i.manager == Manager::Dnf) {
        return Err("packages are installed with dnf/yum: dockopt writes runtime stages for apt and apk images only".into());
    }
    let programs = programs(input, scan);
    if programs.is_empty() {
        return Err("the image has no CMD or ENTRYPOINT: what it runs, and so what the runtime stage needs, cannot be told".into());
    }
    if eco != "python" {
        if let Some(script) = programs.iter().filter_map(|words| words.first()?.literal.as_deref()).find(|p| is_script(p)) {
            let keyword = if scan.entrypoint.is_some() { "ENTRYPOINT" } else { "CMD" };
            return Err(format!(
                "{keyword} runs the shell script `{script}`: what it needs at run time besides the built artifact cannot be told"
            ));
        }
    }
    let mut plan = match eco {
        "go" => go(scan, image, &programs)?,
        "rust" => rust(input, scan, image, &programs)?,
        "java" => java(input, scan, image, &programs)?,
        "dotnet" => dotnet(input, scan, image, &programs)?,
        "node" => node(input, scan, image, &programs)?,
        "python" => python(input, scan, image, &programs)?,
        "ruby" => super::ruby::split(input, scan, image)?,
        _ => c(scan, image, &programs)?,
    };
    carry(input, scan, &programs, eco, &mut plan)?;
    if eco == "python" {
        collected_static(input, scan, &mut plan)?;
    }
    check_user(scan, &plan)?;
    check_runtime_reference(input, &plan)?;
    let allow = &input.settings.config.base.allow;
    if !allow.is_empty() && !ImageRef::parse(&plan.runtime).is_some_and(|r| allow.iter().any(|g| glob_matches(g, &r))) {
        return Err(format!("the runtime image `{}` is not in the [base] allow list of dockopt.toml", plan.runtime));
    }
    plan.packages.dedup();
    Ok(plan)
}

/// The command lines the image runs: ENTRYPOINT (with an exec-form CMD as its arguments) or CMD.
/// `sh -c '…'` is read through; `tini`, `dumb-init` are skipped.
pub(super) fn programs(input: &Input, scan: &Scan) -> Vec<Vec<ShellWord>> {
    let file = input.file;
    let mut lines = match (scan.entrypoint, scan.cmd) {
        (Some(e), cmd) => {
            let mut lines = input.image_commands(e);
            if let (Some(c), Some(last)) = (cmd, lines.last_mut()) {
                if file.instructions[e].exec.is_some() {
                    if let Some(args) = &file.instructions[c].exec {
                        last.extend(args.iter().map(|a| ShellWord::fixed(a)));
                    }
                }
            }
            lines
        }
        (None, Some(c)) => input.image_commands(c),
        (None, None) => Vec::new(),
    };
    for line in &mut lines {
        while line.first().and_then(|w| w.literal.as_deref()).is_some_and(|w| matches!(basename(w), "tini" | "dumb-init" | "--" | "exec" | "-g")) {
            line.remove(0);
        }
    }
    let mut out = Vec::new();
    for line in lines {
        let shell = line.first().and_then(|w| w.literal.as_deref()).is_some_and(|w| matches!(basename(w), "sh" | "bash"));
        if shell && line.get(1).is_some_and(|w| w.is("-c")) {
            if let Some(script) = line.get(2).and_then(|w| w.literal.as_deref()) {
                let parsed = parse_script(script);
                out.extend(parsed.commands().iter().map(|c| c.effective().words().to_vec()).filter(|w| !w.is_empty()));
                continue;
            }
        }
        if !line.is_empty() {
            out.push(line);
        }
    }
    out
}

pub(super) fn is_script(program: &str) -> bool {
    let name = basename(program);
    name.ends_with(".sh") || name.starts_with("docker-entrypoint") || name.starts_with("entrypoint")
}

/// Whether a command word names the file at `path` (by path, or by name through PATH).
fn names(word: &ShellWord, workdir: Option<&str>, path: &str) -> bool {
    let Some(text) = word.literal.as_deref() else { return false };
    if text.contains('/') {
        Dir::resolve(workdir, text).as_deref() == Some(path)
    } else {
        text == basename(path)
    }
}

fn runs_any(programs: &[Vec<ShellWord>], workdir: Option<&str>, paths: &[String]) -> bool {
    programs.iter().any(|line| line.first().is_some_and(|w| paths.iter().any(|p| names(w, workdir, p))))
}

/// The value of a Go-style flag (`-o x`, `-o=x`, `--o x`).
fn go_flag<'a>(words: &'a [ShellWord], flag: &str) -> Option<Option<&'a str>> {
    for (i, word) in words.iter().enumerate() {
        let text = word.literal.as_deref();
        for dashes in ["-", "--"] {
            let name = format!("{dashes}{flag}");
            if text == Some(name.as_str()) {
                return Some(words.get(i + 1).and_then(|w| w.literal.as_deref()));
            }
            if let Some(value) = text.and_then(|t| t.strip_prefix(&format!("{name}="))) {
                return Some(Some(value));
            }
        }
        if word.literal.is_none() && word.raw.starts_with("-o") {
            return Some(None);
        }
    }
    None
}

/// Binaries go to /usr/local/bin under their own name.
fn binaries(paths: &[String], plan: &mut Plan) -> Result<(), String> {
    let mut seen: Vec<&str> = Vec::new();
    for path in paths {
        let name = basename(path);
        if seen.contains(&name) {
            return Err(format!("two binaries are named `{name}`"));
        }
        seen.push(name);
        let dest = format!("/usr/local/bin/{name}");
        plan.copies.push((path.clone(), dest.clone()));
        if *path != dest {
            plan.rewrites.push((path.clone(), dest));
        }
    }
    Ok(())
}

pub(super) fn empty_plan(runtime: Runtime) -> Plan {
    Plan {
        runtime: runtime.image,
        manager: runtime.manager,
        packages: Vec::new(),
        setup: Vec::new(),
        copies: Vec::new(),
        rewrites: Vec::new(),
        build_inserts: Vec::new(),
        build_appends: Vec::new(),
        replacements: Vec::new(),
        dropped: Vec::new(),
        notes: Vec::new(),
    }
}

pub(super) fn builds<'s>(scan: &'s Scan, eco: &'s str) -> impl Iterator<Item = &'s Built<'s>> + 's {
    scan.commands.iter().filter(move |b| classify(b) == Some(eco))
}

pub(super) fn relative_error(value: &str, what: &str) -> String {
    format!("{what} `{value}` is relative and the working directory is not known (no WORKDIR)")
}

fn go(scan: &Scan, image: &ImageRef, programs: &[Vec<ShellWord>]) -> Result<Plan, String> {
    let k = knowledge();
    let mut artifacts = Vec::new();
    let mut cgo_disabled = true;
    for built in builds(scan, "go") {
        let view = built.view();
        if view.subcommand() == Some("install") {
            return Err("go install: the binary's name and folder depend on the module (build with `go build -o`)".into());
        }
        let output = match go_flag(view.args(), "o") {
            None => return Err("go build has no -o: the binary's name depends on the module".into()),
            Some(None) => return Err("go build -o is not a static path".into()),
            Some(Some(value)) => value,
        };
        if output.ends_with('/') {
            return Err(format!("go build -o {output} names a folder: the binary's name depends on the package"));
        }
        artifacts.push(Dir::resolve(built.cwd.as_deref(), output).ok_or_else(|| relative_error(output, "go build -o"))?);
        cgo_disabled &= scan.var(built, "CGO_ENABLED").as_deref() == Some("0");
    }
    let workdir = scan.final_workdir.as_deref();
    if !runs_any(programs, workdir, &artifacts) {
        return Err(format!("the CMD does not run the built binary ({})", artifacts.join(", ")));
    }
    let toolchain_image = k.image_toolchain(image).is_some_and(|e| e.name == "go");
    let runtime = if toolchain_image {
        match language_runtime(image, &k.golang_suites) {
            Ok(runtime) => runtime,
            // A static binary runs on any release.
            Err(_) if cgo_disabled => Runtime { image: "debian:bookworm-slim".into(), manager: Some(Manager::Apt) },
            Err(e) => return Err(e),
        }
    } else {
        slim_of(image)?
    };
    let mut plan = empty_plan(runtime);
    binaries(&artifacts, &mut plan)?;
    packages(scan, image, "go", &mut plan)?;
    // Distroless publishes no version tags: its `nonroot` tag (whose default user is 65532) is the
    // one a reference can name, so only an image that already runs as that user moves there.
    let nonroot = scan.user.as_ref().is_some_and(|(_, u)| matches!(u.split(':').next(), Some("65532" | "nonroot")));
    if cgo_disabled && exec_only(scan) && nonroot && plan.packages.iter().all(|p| matches!(bare_name(p), "ca-certificates" | "tzdata")) {
        if let Some(distroless) = distroless_static(&plan.runtime).or_else(|| distroless_static("debian:bookworm-slim")) {
            plan.runtime = format!("{distroless}:nonroot");
            plan.manager = None;
            plan.packages.clear();
            plan.notes.push("CGO_ENABLED=0 makes a static binary: the runtime is distroless (no shell, no package manager; CA certificates and time zones included)".into());
        }
    }
    copy_ca_bundle(&mut plan);
    Ok(plan)
}

/// Whether everything the runtime stage runs is exec form (no shell needed).
fn exec_only(scan: &Scan) -> bool {
    scan.exec_only
}

fn rust(input: &Input, scan: &Scan, image: &ImageRef, programs: &[Vec<ShellWord>]) -> Result<Plan, String> {
    let k = knowledge();
    let toolchain_image = k.image_toolchain(image).is_some_and(|e| e.name == "rust");
    let mut artifacts = Vec::new();
    let mut dependencies = Vec::new();
    for built in builds(scan, "rust") {
        let view = built.view();
        let cwd = built.cwd.as_deref();
        let install = view.subcommand() == Some("install");
        if view.has_flag(None, Some("workspace")) || view.has_flag(None, Some("bins")) || view.has_flag(None, Some("all")) {
            return Err("cargo builds several binaries (--workspace/--bins): which one runs cannot be told".into());
        }
        let project = if install {
            let path = view.option_value(None, Some("path")).ok_or("cargo install without --path installs from a registry: the binary's name cannot be told")?;
            Dir::resolve(cwd, path).ok_or_else(|| relative_error(path, "cargo install --path"))?
        } else {
            match view.option_value(None, Some("manifest-path")) {
                Some(manifest) => {
                    let manifest = Dir::resolve(cwd, manifest).ok_or_else(|| relative_error(manifest, "cargo --manifest-path"))?;
                    manifest.rsplit_once('/').map(|(d, _)| if d.is_empty() { "/".to_string() } else { d.to_string() }).unwrap_or_default()
                }
                None => cwd.map(str::to_string).ok_or("cargo build runs in a folder that is not known (no WORKDIR)")?,
            }
        };
        let manifest_path = Dir::resolve(Some(&project), "Cargo.toml").unwrap_or_default();
        let contents = scan.context_path(&manifest_path).and_then(|p| input.context.contents.get(&p));
        let cargo = contents.map(|text| manifests::cargo(text)).transpose()?;
        if let Some(cargo) = &cargo {
            dependencies.extend(cargo.dependencies.clone());
        }
        let names: Vec<String> = match view.option_value(None, Some("bin")) {
            Some(bin) => vec![bin.to_string()],
            None => match &cargo {
                Some(cargo) => cargo.bins.clone(),
                None => return Err("Cargo.toml's contents are not known (not found in the build context): the binary's name cannot be told".into()),
            },
        };
        let dir = if install {
            let root = view
                .option_value(None, Some("root"))
                .map(str::to_string)
                .or_else(|| scan.var(built, "CARGO_INSTALL_ROOT").filter(|v| !v.contains('$')))
                .or_else(|| scan.var(built, "CARGO_HOME").filter(|v| !v.contains('$')))
                .or_else(|| toolchain_image.then(|| "/usr/local/cargo".to_string()))
                .or_else(|| scan.user.is_none().then(|| "/root/.cargo".to_string()))
                .ok_or("cargo install: where it installs (CARGO_HOME) cannot be told")?;
            format!("{}/bin", Dir::resolve(cwd, &root).ok_or_else(|| relative_error(&root, "cargo install --root"))?)
        } else {
            let target = view
                .option_value(None, Some("target-dir"))
                .map(str::to_string)
                .or_else(|| scan.var(built, "CARGO_TARGET_DIR").filter(|v| !v.contains('$')))
                .unwrap_or_else(|| format!("{project}/target"));
            let target = Dir::resolve(cwd, &target).ok_or_else(|| relative_error(&target, "cargo --target-dir"))?;
            let profile = if view.has_flag(Some('r'), Some("release")) {
                "release".to_string()
            } else {
                match view.option_value(None, Some("profile")) {
                    Some("dev") | None => "debug".to_string(),
                    Some(profile) => profile.to_string(),
                }
            };
            match view.option_value(None, Some("target")) {
                Some(triple) => format!("{target}/{triple}/{profile}"),
                None => format!("{target}/{profile}"),
            }
        };
        artifacts.extend(names.iter().map(|n| format!("{dir}/{n}")));
    }
    let workdir = scan.final_workdir.as_deref();
    let run: Vec<String> = artifacts.iter().filter(|a| runs_any(programs, workdir, std::slice::from_ref(*a))).cloned().collect();
    if run.is_empty() {
        return Err(format!("the CMD does not run the built binary ({})", artifacts.join(", ")));
    }
    let runtime = if toolchain_image { language_runtime(image, &k.rust_suites)? } else { slim_of(image)? };
    let mut plan = empty_plan(runtime);
    binaries(&run, &mut plan)?;
    if toolchain_image {
        let mut extra: Vec<String> = dependencies.iter().filter_map(|d| k.crate_runtime.get(d)).flatten().cloned().collect();
        extra.sort();
        if !extra.is_empty() && plan.manager == Some(Manager::Apk) {
            return Err("the crates link system libraries whose Alpine packages are not known".into());
        }
        plan.packages.extend(extra);
    }
    packages(scan, image, "rust", &mut plan)?;
    copy_ca_bundle(&mut plan);
    Ok(plan)
}

/// A Go or Rust binary whose runtime would install nothing but `ca-certificates` reads the CA bundle
/// file (Go's crypto/x509, rustls' native roots): copying that one file from the build stage, which
/// has it, spares the runtime an `apt-get update` and the package.
fn copy_ca_bundle(plan: &mut Plan) {
    const BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
    if plan.manager == Some(Manager::Apt) && plan.packages.len() == 1 && bare_name(&plan.packages[0]) == "ca-certificates" {
        plan.packages.clear();
        plan.copies.push((BUNDLE.into(), BUNDLE.into()));
        plan.notes.push(format!("The CA certificates are the build stage's bundle ({BUNDLE}), copied rather than installed"));
    }
}

fn dotnet(input: &Input, scan: &Scan, image: &ImageRef, programs: &[Vec<ShellWord>]) -> Result<Plan, String> {
    let mut outputs = Vec::new();
    let mut web = None;
    for built in builds(scan, "dotnet") {
        let view = built.view();
        let output = view.option_value(Some('o'), Some("output")).ok_or("dotnet publish has no -o: where it writes depends on the project")?;
        outputs.push(Dir::resolve(built.cwd.as_deref(), output).ok_or_else(|| relative_error(output, "dotnet publish -o"))?);
        let named = view
            .positionals(&["-o", "--output", "-c", "--configuration", "-r", "--runtime", "-f", "--framework", "-p", "--property", "-v", "--verbosity"])
            .filter_map(|w| w.literal.as_deref())
            .find(|p| p.ends_with("proj"))
            .and_then(|p| Dir::resolve(built.cwd.as_deref(), p))
            .and_then(|p| scan.context_path(&p));
        let projects: Vec<&String> = match &named {
            Some(path) => input.context.contents.get(path).into_iter().collect(),
            None => input.context.contents.iter().filter(|(p, _)| p.ends_with("proj")).map(|(_, t)| t).collect(),
        };
        let [project] = projects.as_slice() else {
            return Err("which .NET project is published cannot be told (its project file is not known)".into());
        };
        web = Some(web.unwrap_or(false) || manifests::is_web_project(project));
    }
    let workdir = scan.final_workdir.as_deref();
    let runs = programs.iter().any(|line| {
        let Some(first) = line.first() else { return false };
        let target = if first.literal.as_deref().is_some_and(|p| basename(p) == "dotnet") { line.get(1) } else { Some(first) };
        target.and_then(|w| w.literal.as_deref()).and_then(|t| Dir::resolve(workdir, t)).is_some_and(|t| outputs.iter().any(|o| Dir::inside(&t, o).is_some_and(|r| !r.is_empty())))
    });
    if !runs {
        return Err(format!("the CMD does not run the published application ({})", outputs.join(", ")));
    }
    let sdk = image.written_name();
    let Some(base) = sdk.strip_suffix("/sdk") else {
        return Err(format!("no runtime image is known for `{}`", image.text));
    };
    let flavour = if web == Some(true) { "aspnet" } else { "runtime" };
    let tag = image.tag().unwrap_or("latest");
    let manager = if tag.contains("alpine") { Manager::Apk } else { Manager::Apt };
    let mut plan = empty_plan(Runtime { image: format!("{base}/{flavour}:{tag}"), manager: Some(manager) });
    for output in outputs {
        plan.copies.push((output.clone(), output));
    }
    packages(scan, image, "dotnet", &mut plan)?;
    Ok(plan)
}

/// Where the virtualenv goes that `multi-stage` adds to a build that pip-installs system-wide.
const INJECTED_VENV: &str = "/opt/venv";

fn python(input: &Input, scan: &Scan, image: &ImageRef, programs: &[Vec<ShellWord>]) -> Result<Plan, String> {
    let mut venvs: Vec<String> = Vec::new();
    for built in &scan.commands {
        let view = built.view();
        let words: Vec<Option<&str>> = view.words().iter().map(|w| w.literal.as_deref()).collect();
        let name = words.first().copied().flatten().map(basename).unwrap_or_default();
        let dir_at = if name.starts_with("python") && words.get(1) == Some(&Some("-m")) && matches!(words.get(2), Some(Some("venv" | "virtualenv"))) {
            3
        } else if name == "virtualenv" {
            1
        } else if name == "uv" && words.get(1) == Some(&Some("venv")) {
            // `uv venv [DIR]`: DIR, by default .venv.
            let dir = words.iter().skip(2).flatten().find(|w| !w.starts_with('-')).copied().unwrap_or(".venv");
            venvs.push(Dir::resolve(built.cwd.as_deref(), dir).ok_or_else(|| relative_error(dir, "the virtualenv"))?);
            continue;
        } else {
            continue;
        };
        let dir = words.iter().skip(dir_at).flatten().find(|w| !w.starts_with('-')).ok_or("the virtualenv's folder is not static")?;
        venvs.push(Dir::resolve(built.cwd.as_deref(), dir).ok_or_else(|| relative_error(dir, "the virtualenv"))?);
    }
    // Project tools (Poetry, Pipenv, uv): the virtualenv each install fills, or the active
    // environment.
    let mut tool_venvs: Vec<String> = Vec::new();
    let mut into_active: Vec<&Built> = Vec::new();
    for built in &scan.commands {
        let Some((tool, pip)) = python_tools::project_install(built.view()) else { continue };
        python_tools::check_python(input, scan, built, tool, image)?;
        match python_tools::target(scan, built, tool, pip)? {
            Target::Venv(venv) => {
                if pip && !venvs.contains(&venv) && scan.var(built, "VIRTUAL_ENV").is_none() {
                    return Err(format!("`{} pip install` finds no virtualenv made at {venv} (`uv venv`) nor a VIRTUAL_ENV: where it installs cannot be told", tool.name));
                }
                tool_venvs.push(venv);
            }
            Target::Active => into_active.push(built),
        }
    }
    let is_project_pip = |b: &&Built| python_tools::project_install(b.view()).is_none() && !python_tools::installs_only_tools(b.view());
    // On an official python image, pip run by name (`pip`, `python -m pip`) installs into
    // /usr/local: a virtualenv made just before the first install and put first on PATH gets
    // the same packages, the same scripts on PATH and the same `python` for every later RUN,
    // and is one folder the runtime can copy. A project tool told to use the active environment
    // (`virtualenvs.create false`, `pipenv install --system`) installs into VIRTUAL_ENV, set too.
    let python_image = image.official_name().as_deref() == Some("python");
    let mut injected: Option<usize> = None;
    if venvs.is_empty() && tool_venvs.is_empty() && python_image {
        let pips: Vec<&Built> = builds(scan, "python").filter(is_project_pip).collect();
        let by_name = pips.iter().all(|b| {
            let view = b.view();
            let program = is_pip(view.words()).and_then(|w| w.literal.as_deref()).unwrap_or("/");
            !program.contains('/')
                && !["user", "prefix", "target", "root"].iter().any(|flag| view.has_flag(None, Some(flag)))
                && !view.has_flag(Some('t'), None)
        });
        if by_name && !(pips.is_empty() && into_active.is_empty()) && scan.final_var("VIRTUAL_ENV").is_none() {
            injected = pips.iter().chain(&into_active).map(|b| b.instruction).min();
        }
    }
    if let (Some(built), None) = (into_active.first(), injected) {
        let command = command_text(built.view());
        let why = if python_image { "no VIRTUAL_ENV names the virtualenv it should fill" } else { "a distribution's own Python, beside its packages" };
        return Err(format!("`{command}` installs into the active environment, here the system's site-packages ({why}), which a runtime stage cannot copy as one folder"));
    }
    if injected.is_some() {
        venvs.push(INJECTED_VENV.to_string());
    }
    // The folder a pip install fills, by its program's path or the PATH and VIRTUAL_ENV it runs with.
    let pip_venv = |built: &Built| -> Option<String> {
        let program = is_pip(built.view().words()).and_then(|w| w.literal.as_deref()).unwrap_or_default();
        if program.contains('/') {
            let path = Dir::resolve(built.cwd.as_deref(), program)?;
            return venvs.iter().find(|v| Dir::inside(&path, v).is_some()).cloned();
        }
        let path = scan.var(built, "PATH").unwrap_or_default();
        let first = path.split(':').next().unwrap_or_default();
        venvs.iter().find(|v| first == format!("{v}/bin")).cloned().or_else(|| scan.var(built, "VIRTUAL_ENV").filter(|v| venvs.contains(v)))
    };
    for built in builds(scan, "python").filter(|_| injected.is_none()).filter(is_project_pip) {
        let in_venv = pip_venv(built).is_some();
        if !in_venv || built.view().has_flag(None, Some("user")) {
            let command = command_text(built.view());
            let where_to = if built.view().has_flag(None, Some("user")) {
                "the packages go to the user's ~/.local, beside whatever else that home holds"
            } else {
                "the packages are spread over the system's site-packages"
            };
            return Err(format!("`{command}` installs outside a virtualenv: {where_to}, which a runtime stage cannot copy as one folder"));
        }
    }
    // A virtualenv that only the tool was installed into (`/opt/poetry/bin/pip install poetry`)
    // stays in the build stage.
    let tool_only = |venv: &String| {
        let pips: Vec<&Built> = builds(scan, "python").filter(|b| python_tools::project_install(b.view()).is_none() && pip_venv(b).as_ref() == Some(venv)).collect();
        !pips.is_empty() && pips.iter().all(|b| python_tools::installs_only_tools(b.view())) && !tool_venvs.contains(venv)
    };
    let tool_homes: Vec<String> = venvs.iter().filter(|v| tool_only(v)).cloned().collect();
    venvs.retain(|v| !tool_homes.contains(v));
    for venv in tool_venvs {
        if !venvs.contains(&venv) {
            venvs.push(venv);
        }
    }
    if let Some(tool) = programs.iter().find_map(|line| python_tools::runner(line)) {
        return Err(format!(
            "the image runs `{0} {1}`: the runtime stage would need {0} itself; run the program from the virtualenv (its bin/ first on PATH)",
            tool.name, tool.runner
        ));
    }
    let app = scan.final_workdir.clone().ok_or("no WORKDIR: which folder holds the application cannot be told")?;
    if !scan.copies_into(&app) {
        return Err(format!("the sources are not copied into the WORKDIR {app}"));
    }
    let path = scan.final_var("PATH").unwrap_or_default();
    let venv_on_path = injected.is_some() || venvs.iter().any(|v| path.split(':').next() == Some(&format!("{v}/bin")));
    let runs = programs.iter().any(|line| {
        let Some(program) = line.first().and_then(|w| w.literal.as_deref()) else { return false };
        if program.contains('/') {
            return Dir::resolve(Some(&app), program).is_some_and(|p| Dir::inside(&p, &app).is_some() || venvs.iter().any(|v| Dir::inside(&p, v).is_some()));
        }
        basename(program).starts_with("python") || venv_on_path
    });
    if !runs {
        return Err("the CMD does not run Python, the virtualenv or a file of the application folder".into());
    }
    let runtime = slim_of(image)?;
    let mut plan = empty_plan(runtime);
    if let Some(first) = injected {
        let active = if into_active.is_empty() { String::new() } else { format!("VIRTUAL_ENV={INJECTED_VENV} ") };
        let env = format!("ENV {active}PATH=\"{INJECTED_VENV}/bin:$PATH\"");
        plan.build_inserts.push((first, vec![format!("RUN python -m venv {INJECTED_VENV}"), env.clone()]));
        plan.setup.push(env);
        let who = match into_active.first().and_then(|b| b.view().basename()) {
            Some(tool) => format!("{tool} installs"),
            None => "pip installs".to_string(),
        };
        plan.notes.push(format!("{who} into a virtualenv ({INJECTED_VENV}, first on PATH) made in the build stage right before the first install, so that the runtime can copy it whole"));
    }
    for venv in &venvs {
        if Dir::inside(venv, &app).is_none() {
            plan.copies.push((venv.clone(), venv.clone()));
        }
    }
    if !tool_homes.is_empty() {
        plan.notes.push(format!("{} holds only the project tool: it stays in the build stage", tool_homes.join(", ")));
    }
    plan.copies.push((app.clone(), app));
    packages(scan, image, "python", &mut plan)?;
    if !python_image && !plan.packages.iter().any(|p| bare_name(p).starts_with("python3")) {
        plan.packages.insert(0, "python3".into());
    }
    Ok(plan)
}

fn c(scan: &Scan, image: &ImageRef, programs: &[Vec<ShellWord>]) -> Result<Plan, String> {
    let mut prefix: Option<String> = None;
    let mut installs = false;
    for built in builds(scan, "c") {
        let view = built.view();
        let args: Vec<&str> = view.args().iter().filter_map(|w| w.literal.as_deref()).collect();
        match view.basename().unwrap_or_default() {
            "configure" => {
                if let Some(p) = view.option_value(None, Some("prefix")) {
                    prefix = Some(p.to_string());
                }
            }
            "cmake" => {
                if let Some(p) = args.iter().find_map(|a| a.strip_prefix("-DCMAKE_INSTALL_PREFIX=")) {
                    prefix = Some(p.to_string());
                }
                if view.has_flag(None, Some("install")) {
                    installs = true;
                    if let Some(p) = view.option_value(None, Some("prefix")) {
                        prefix = Some(p.to_string());
                    }
                }
            }
            _ => {
                if view.positionals(&["-C", "-f", "-j"]).any(|w| w.is("install")) {
                    installs = true;
                    if args.iter().any(|a| a.starts_with("DESTDIR=")) {
                        return Err("make install DESTDIR=…: the files land in a staging folder that the CMD does not name".into());
                    }
                    if let Some(p) = args.iter().find_map(|a| a.strip_prefix("PREFIX=").or_else(|| a.strip_prefix("prefix="))) {
                        prefix = Some(p.to_string());
                    }
                }
            }
        }
    }
    let workdir = scan.final_workdir.as_deref();
    let prefix = prefix.unwrap_or_else(|| "/usr/local".into());
    let program = programs.first().and_then(|line| line.first()).ok_or("make install: cannot tell which files it installs")?;
    let Some(text) = program.literal.as_deref() else {
        return Err(format!("the CMD's program `{}` is not static", program.raw));
    };
    let artifact = if text.contains('/') {
        Dir::resolve(workdir, text).ok_or_else(|| relative_error(text, "the CMD's program"))?
    } else if installs {
        format!("{prefix}/bin/{text}")
    } else {
        return Err(format!("the CMD runs `{text}`, but no `make install` puts it on the PATH: where the built program is cannot be told"));
    };
    let k = knowledge();
    let runtime = if k.image_toolchain(image).is_some_and(|e| e.name == "c") {
        language_runtime(image, &BTreeMap::new())?
    } else {
        slim_of(image)?
    };
    let mut plan = empty_plan(runtime);
    binaries(&[artifact], &mut plan)?;
    if installs && !text.contains('/') {
        plan.notes.push(format!(
            "`make install` is assumed to install `{text}` as {prefix}/bin/{text} (the default PREFIX); only that file is copied, so libraries or data it installs elsewhere are not"
        ));
    }
    packages(scan, image, "c", &mut plan)?;
    Ok(plan)
}

/// The runtime packages: what the stage installs, minus the build tools, with -dev packages
/// replaced by their libraries; plus what the toolchain image gave implicitly.
pub(super) fn packages(scan: &Scan, image: &ImageRef, eco: &str, plan: &mut Plan) -> Result<(), String> {
    let k = knowledge();
    let mut kept: Vec<String> = std::mem::take(&mut plan.packages);
    let runtime_is_alpine = plan.manager == Some(Manager::Apk);
    for (manager, package) in scan.packages() {
        let name = bare_name(package);
        if eco == "java" {
            if let Some(jre) = k.jdk_to_jre.get(name) {
                kept.push(jre.clone());
                plan.dropped.push(package.to_string());
                continue;
            }
        }
        let map = if manager == Manager::Apk { &k.alpine_runtime } else { &k.debian_runtime };
        if let Some(library) = map.get(name) {
            plan.dropped.push(package.to_string());
            if !library.is_empty() {
                kept.push(library.clone());
            }
            continue;
        }
        // Node.js stays for a Node app, and for a Ruby app (ExecJS runs it; its build is the Ruby stage's).
        let toolchain = k.package_toolchain(name).is_some_and(|e| !(matches!(eco, "node" | "ruby") && e.name == "node"));
        if k.is_build_only(name) || toolchain {
            plan.dropped.push(package.to_string());
            continue;
        }
        if name.ends_with("-dev") || name.ends_with("-devel") || name.ends_with("-headers") {
            return Err(format!("{name} has no known runtime package: the runtime stage would lack its library"));
        }
        if (manager == Manager::Apk) != runtime_is_alpine {
            return Err(format!("`{package}` is installed for another distribution than the runtime image `{}`", plan.runtime));
        }
        kept.push(package.to_string());
    }
    if k.image_toolchain(image).is_some() && image.official_name().as_deref() != Some("node") {
        kept.extend(k.image_runtime(image));
    }
    // A HEALTHCHECK or CMD with curl/wget ran on the toolchain image, which has them.
    for tool in scan.tools_run.iter() {
        if !kept.iter().any(|p| bare_name(p) == tool) && k.image_toolchain(image).is_some() {
            kept.push(tool.clone());
        }
    }
    let mut unique = Vec::new();
    for package in kept {
        if !unique.contains(&package) {
            unique.push(package);
        }
    }
    plan.packages = unique;
    if plan.manager.is_none() && !plan.packages.is_empty() {
        return Err(format!("the runtime image `{}` cannot install packages", plan.runtime));
    }
    Ok(())
}

/// The image's user must exist in the runtime image.
fn check_user(scan: &Scan, plan: &Plan) -> Result<(), String> {
    let Some((_, user)) = &scan.user else { return Ok(()) };
    if user.contains('$') {
        return Err(format!("USER {user} uses a variable: whether the runtime image has that user cannot be told"));
    }
    let name = user.split(':').next().unwrap_or(user);
    if knowledge().user_exists(&plan.runtime, user) {
        return Ok(());
    }
    if scan.created_users.iter().any(|u| u == name) {
        return Err(format!("USER {name} is created in the build stage: the runtime image would not have it"));
    }
    Err(format!("USER {name} may not exist in the runtime image `{}`", plan.runtime))
}

/// The runtime image is named so that dockopt's own checks accept it: a version, never `latest`
/// (nor a tag alone under `[base] pin = "digest"`, as a digest cannot be looked up offline).
fn check_runtime_reference(input: &Input, plan: &Plan) -> Result<(), String> {
    let image = ImageRef::parse(&plan.runtime).ok_or_else(|| format!("the runtime image `{}` is not a valid reference", plan.runtime))?;
    if image.digest().is_none() && matches!(image.tag(), None | Some("latest")) {
        return Err(format!("the runtime image would be `{}`, which names no version: name one in the build image's tag", plan.runtime));
    }
    if input.settings.config.base.pin == PinPolicy::Digest && image.digest().is_none() {
        return Err(format!(
            "[base] pin = \"digest\": the runtime image `{}` would need a digest, which dockopt cannot look up offline",
            plan.runtime
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::runs_node_build;

    #[test]
    fn node_builds_of_a_workspace() {
        assert!(runs_node_build("npm", &["run", "build"]));
        assert!(!runs_node_build("npm", &["run", "test"]));
        assert!(runs_node_build("yarn", &["build"]));
        assert!(runs_node_build("yarn", &["workspace", "@acme/api", "build"]));
        assert!(runs_node_build("yarn", &["workspace", "@acme/api", "run", "build"]));
        assert!(runs_node_build("yarn", &["workspaces", "run", "build"]));
        assert!(runs_node_build("yarn", &["workspaces", "foreach", "run", "build"]));
        assert!(!runs_node_build("yarn", &["workspace", "@acme/api", "lint"]));
        assert!(runs_node_build("pnpm", &["run", "build"]));
        assert!(!runs_node_build("pnpm", &["install"]));
    }
}
