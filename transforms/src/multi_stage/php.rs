//! PHP: a single-stage image that runs `composer install` ships Composer, its download cache and,
//! without `--no-dev`, the dev dependencies. A Composer stage before it installs the production
//! dependencies and builds the optimized autoloader; the original stage stays the runtime (its PHP,
//! its extensions from `docker-php-ext-install`, its sources) and copies `vendor/` from it in place
//! of the install.

use serde_json::Value as Json;

use super::knowledge::knowledge;
use super::plan::{basename, is_script, programs};
use super::scan::Scan;
use crate::checks;
use crate::fix::{Edit, Finding, Fix};
use crate::model::matcher::Matcher;
use crate::model::reference::ImageRef;
use crate::model::{Dir, Input};
use crate::syntax::{assignments, split_words, ItemKind, Keyword};

/// Composer events that an install or an autoloader dump runs.
const INSTALL_EVENTS: &[&str] = &[
    "pre-install-cmd", "post-install-cmd", "pre-autoload-dump", "post-autoload-dump", "pre-package-install",
    "post-package-install", "pre-operations-exec", "post-dependencies-solving", "pre-dependencies-solving",
];

/// Composer's variables that only tune how it runs (the Composer stage needs none of them).
const HARMLESS_VARIABLES: &[&str] = &[
    "COMPOSER_ALLOW_SUPERUSER", "COMPOSER_NO_INTERACTION", "COMPOSER_MEMORY_LIMIT", "COMPOSER_CACHE_DIR",
    "COMPOSER_HOME", "COMPOSER_PROCESS_TIMEOUT", "COMPOSER_NO_DEV", "COMPOSER_VERSION",
];

const STAGE: &str = "vendor";
const APP: &str = "/app";

struct PhpPlan {
    /// The Composer image the new stage starts from.
    image: String,
    /// The context folder of composer.json (`""`: the root, else ending with `/`).
    dir: String,
    /// Where the original installs (the runtime's `vendor/` goes there).
    cwd: String,
    /// Context files copied before the install (composer.json, composer.lock, auth.json).
    manifests: Vec<String>,
    /// `--classmap-authoritative`, `--apcu` for the autoloader dump, as the original asked.
    dump_flags: Vec<&'static str>,
    chown: Option<String>,
    /// The RUN replaced by the COPY of `vendor/`, then the instructions deleted.
    replaced: usize,
    deleted: Vec<usize>,
    notes: Vec<String>,
}

/// The finding for a stage that runs `composer install`; `None` when it runs none.
pub(super) fn finding(input: &Input, scan: &Scan) -> Option<Finding> {
    let installs: Vec<_> = scan.commands.iter().filter(|b| is_composer(b.view().basename()) && matches!(b.view().subcommand(), Some("install" | "i"))).collect();
    if installs.is_empty() {
        return None;
    }
    let dev = installs.iter().any(|b| !b.view().has_flag(None, Some("no-dev")) && scan.var(b, "COMPOSER_NO_DEV").as_deref() != Some("1"));
    let ships = if dev { "Composer and the dev dependencies (`composer install` without `--no-dev`)" } else { "Composer and what it downloads" };
    let finding = Finding::new(&checks::MULTI_STAGE_SINGLE_STAGE, scan.from.head_range(), format!("single-stage build ships {ships}"));
    Some(match plan(input, scan) {
        Err(reason) => finding.with_why(format!("no fix: {reason}")),
        Ok(plan) => {
            let why = why(scan, &plan, dev);
            finding.with_why(why).with_fix(Fix::unsafe_(format!("install the production dependencies in a `{}` stage and copy vendor/ from it", plan.image), edits(input, scan, &plan)))
        }
    })
}

fn is_composer(name: Option<&str>) -> bool {
    matches!(name, Some("composer" | "composer.phar"))
}

fn plan(input: &Input, scan: &Scan) -> Result<PhpPlan, String> {
    let file = input.file;
    if scan.stage.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(STAGE)) {
        return Err(format!("the stage is already named `{STAGE}`, the name of the Composer stage"));
    }
    let mut runs: Vec<usize> = Vec::new();
    let mut cwd: Option<String> = None;
    let mut no_scripts = true;
    let mut dump_flags = Vec::new();
    for built in &scan.commands {
        let view = built.view();
        let words: Vec<&str> = view.words().iter().map(|w| w.literal.as_deref().unwrap_or("$")).collect();
        let in_composer_run = scan.commands.iter().any(|b| b.instruction == built.instruction && is_composer(b.view().basename()));
        if !in_composer_run {
            continue;
        }
        if !runs.contains(&built.instruction) {
            runs.push(built.instruction);
        }
        match view.basename() {
            name if is_composer(name) => {}
            Some("cd") => continue,
            // Clearing Composer's cache goes with Composer.
            Some("rm") if words[1..].iter().filter(|w| !w.starts_with('-')).all(|w| w.contains("composer")) => continue,
            _ => return Err(format!("the RUN that runs Composer also runs `{}`: dockopt moves only Composer's own commands to the Composer stage", words.join(" "))),
        }
        match view.subcommand() {
            Some("install" | "i" | "dump-autoload" | "dumpautoload") => {}
            Some("clear-cache" | "clearcache" | "cc") => continue,
            other => return Err(format!("`composer {}` runs in the image: only `install` and `dump-autoload` move to the Composer stage", other.unwrap_or_default())),
        }
        if view.option_value(Some('d'), Some("working-dir")).is_some() {
            return Err("composer runs with --working-dir: where vendor/ lands is not followed".into());
        }
        let here = built.cwd.clone().ok_or("composer runs in a folder that is not known (no WORKDIR)")?;
        if cwd.as_ref().is_some_and(|c| *c != here) {
            return Err("composer runs in more than one folder".into());
        }
        cwd = Some(here);
        no_scripts &= view.has_flag(None, Some("no-scripts"));
        if view.has_flag(Some('a'), Some("classmap-authoritative")) && !dump_flags.contains(&"--classmap-authoritative") {
            dump_flags.push("--classmap-authoritative");
        }
        if view.has_flag(None, Some("apcu-autoloader")) && !dump_flags.contains(&"--apcu") {
            dump_flags.push("--apcu");
        }
    }
    let cwd = cwd.ok_or("composer runs in a folder that is not known")?;
    let programs = programs(input, scan);
    for line in &programs {
        let Some(program) = line.first().and_then(|w| w.literal.as_deref()) else { continue };
        if is_composer(Some(basename(program))) || line.iter().any(|w| w.literal.as_deref().is_some_and(|l| basename(l).starts_with("composer"))) {
            return Err("the CMD runs Composer, which the runtime would no longer have".into());
        }
        if is_script(program) {
            let keyword = if scan.entrypoint.is_some() { "ENTRYPOINT" } else { "CMD" };
            return Err(format!("{keyword} runs the shell script `{program}`: whether it needs Composer or the dev dependencies cannot be told"));
        }
    }
    // Variables Composer reads that the new stage would not have.
    for index in scan.stage.instructions.clone().chain(0..file.stages.first().map_or(0, |s| s.from)) {
        let inst = &file.instructions[index];
        if matches!(inst.keyword, Keyword::Env | Keyword::Arg) {
            if let Some((name, _)) = assignments(inst, file.escape).into_iter().find(|(n, _)| n.starts_with("COMPOSER") && !HARMLESS_VARIABLES.contains(&n.as_str())) {
                return Err(format!("{name} is set for Composer: the Composer stage would not have it"));
            }
        }
    }
    let manifest = scan.context_path(&format!("{}/composer.json", cwd.trim_end_matches('/'))).ok_or("composer.json is not copied from the build context")?;
    let dir = manifest.strip_suffix("composer.json").unwrap_or_default().to_string();
    let text = input.context.contents.get(&manifest).ok_or("composer.json's contents are not known: its scripts and repositories cannot be checked")?;
    let json: Json = serde_json::from_str(text).map_err(|_| "composer.json does not parse".to_string())?;
    let files = input.context.files.as_ref().ok_or("the build context is not known: whether composer.lock exists cannot be told")?;
    let lock = format!("{dir}composer.lock");
    if !files.contains(&lock) {
        return Err("the build context has no composer.lock: the versions installed would be resolved anew".into());
    }
    let ignore = input.context.dockerignore.as_deref().and_then(|t| Matcher::from_dockerignore(t).ok());
    let vendor = format!("{dir}vendor");
    if files.iter().any(|f| f.starts_with(&format!("{vendor}/"))) && !ignore.as_ref().is_some_and(|m| m.excludes(&vendor)) {
        return Err(format!("the build context sends `{vendor}/` (no .dockerignore excludes it): the COPY of the sources would mix it into the installed one"));
    }
    if !json["config"]["vendor-dir"].is_null() {
        return Err("composer.json sets `config.vendor-dir`".into());
    }
    let repositories: Vec<&Json> = match &json["repositories"] {
        Json::Array(list) => list.iter().collect(),
        Json::Object(map) => map.values().collect(),
        _ => Vec::new(),
    };
    if let Some(repo) = repositories.iter().find(|r| r["type"] == "path") {
        return Err(format!("composer.json has a `path` repository (`{}`): the install reads that folder", repo["url"].as_str().unwrap_or("?")));
    }
    if !no_scripts {
        if let Some((event, script)) = INSTALL_EVENTS.iter().find_map(|e| Some((*e, &json["scripts"][*e])).filter(|(_, s)| !s.is_null())) {
            let shown = match script {
                Json::Array(list) => list.iter().filter_map(Json::as_str).collect::<Vec<_>>().join("`, `"),
                other => other.as_str().unwrap_or_default().to_string(),
            };
            return Err(format!(
                "composer.json's `{event}` script (`{shown}`) runs with the install: it may run the application's code, which needs the runtime's PHP and extensions, not the Composer image's"
            ));
        }
    }
    let dev = scan.commands.iter().any(|b| is_composer(b.view().basename()) && matches!(b.view().subcommand(), Some("install" | "i")) && !b.view().has_flag(None, Some("no-dev")));
    if dev {
        for env in &knowledge().php_dev_environments {
            let set = scan.final_var(&env.variable);
            if !json["require"][&env.package].is_null() && !set.as_ref().is_some_and(|v| env.production.contains(v)) {
                return Err(format!(
                    "composer.json requires {}, which loads dev dependencies at run time unless {}={} (the image sets {}): `--no-dev` would leave them out; set `ENV {}={}` first",
                    env.package,
                    env.variable,
                    env.production.join("|"),
                    set.map_or("none, so .env decides".to_string(), |v| format!("`{v}`")),
                    env.variable,
                    env.production[0]
                ));
            }
        }
    }
    if json["require-dev"].as_object().is_some_and(|d| !d.is_empty()) {
        if let Some(tool) = programs.iter().flatten().filter_map(|w| w.literal.as_deref()).find(|w| w.contains("vendor/bin/") || matches!(basename(w), "phpunit" | "pest" | "phpstan" | "psalm")) {
            return Err(format!("the CMD runs `{tool}`, which may be a dev dependency: `--no-dev` would leave it out"));
        }
    }
    // Copies of Composer's binary: the runtime needs none.
    let mut deleted: Vec<usize> = runs[1..].to_vec();
    let mut image = None;
    for index in scan.stage.instructions.clone() {
        let inst = &file.instructions[index];
        let Some(from) = inst.flag("from").and_then(|f| f.value.as_deref()) else { continue };
        if inst.keyword == Keyword::Copy && ImageRef::parse(from).is_some_and(|r| r.familiar_name() == "composer" || r.familiar_name() == "composer/composer") {
            deleted.push(index);
            image = ImageRef::parse(from).filter(|r| r.familiar_name() == "composer" && !matches!(r.tag(), None | Some("latest"))).map(|r| r.text.clone());
        }
    }
    let mut notes = Vec::new();
    if deleted.len() == runs.len() - 1 {
        notes.push("Composer itself stays in the image: it is not installed by a COPY from the composer image, which would be dropped".into());
    }
    let first = runs[0];
    let chown = scan
        .stage
        .instructions
        .clone()
        .filter(|i| *i < first && file.instructions[*i].keyword == Keyword::User)
        .last()
        .map(|i| split_words(file.instructions[i].args_text(), file.escape).first().map(|w| w.raw.clone()).unwrap_or_default())
        .filter(|u| !matches!(u.split(':').next(), Some("root" | "0")));
    let mut manifests = vec![manifest.clone(), lock];
    if files.contains(&format!("{dir}auth.json")) {
        manifests.push(format!("{dir}auth.json"));
    }
    if Dir::resolve(None, &cwd).is_none() {
        return Err(format!("composer runs in `{cwd}`, not an absolute folder"));
    }
    deleted.sort();
    Ok(PhpPlan { image: image.unwrap_or_else(|| "composer:2".into()), dir, cwd, manifests, dump_flags, chown, replaced: first, deleted, notes })
}

fn why(scan: &Scan, plan: &PhpPlan, dev: bool) -> String {
    let base = scan.image.as_ref().map_or("the original image".to_string(), |i| format!("`{}`", i.text));
    let mut why = format!(
        "a `{STAGE}` stage on {} installs composer.lock's production dependencies (`--no-dev`) and dumps the optimized autoloader with the sources; the image stays on {base}, with its PHP extensions and sources, and copies {}/vendor from it in place of the install",
        plan.image,
        plan.cwd.trim_end_matches('/')
    );
    if dev {
        why.push_str("; the dev dependencies are no longer installed");
    }
    why.push_str(". Platform requirements are not checked in the Composer stage (its PHP is not the image's): Composer's platform check still runs when the application starts, on the same PHP and extensions as before.");
    for note in &plan.notes {
        why.push_str(&format!(" {note}."));
    }
    why.push_str(" Composer's scripts do not run in the Composer stage. Unsafe: code that uses a dev dependency at run time, or files the install wrote outside vendor/, are not in the image; build it and run it to check.");
    why
}

fn edits(input: &Input, scan: &Scan, plan: &PhpPlan) -> Vec<Edit> {
    let file = input.file;
    let nl = file.newline();
    let source = &file.source;
    let mut stage = String::new();
    stage.push_str(&format!("FROM {} AS {STAGE}{nl}", plan.image));
    stage.push_str(&format!("WORKDIR {APP}{nl}"));
    stage.push_str(&format!("COPY {} ./{nl}", plan.manifests.join(" ")));
    stage.push_str(&format!("RUN composer install --no-dev --no-interaction --no-scripts --no-autoloader --prefer-dist --ignore-platform-reqs{nl}"));
    let sources = if plan.dir.is_empty() { ".".to_string() } else { plan.dir.clone() };
    stage.push_str(&format!("COPY {sources} .{nl}"));
    let flags: String = plan.dump_flags.iter().map(|f| format!(" {f}")).collect();
    stage.push_str(&format!("RUN composer dump-autoload --no-dev --optimize{flags} --no-interaction --no-scripts{nl}{nl}"));
    let mut edits = vec![Edit::insert(file.with_comments_above(scan.stage.from).start, stage)];
    let replaced = &file.instructions[plan.replaced];
    let chown = plan.chown.as_ref().map(|u| format!(" --chown={u}")).unwrap_or_default();
    let end = if source[replaced.span.clone()].ends_with('\n') { nl } else { "" };
    let vendor = format!("{}/vendor", plan.cwd.trim_end_matches('/'));
    edits.push(Edit::replace(replaced.span.clone(), format!("COPY --from={STAGE}{chown} {APP}/vendor {vendor}{end}")));
    for index in &plan.deleted {
        let mut range = file.with_comments_above(*index);
        // An instruction alone between blank lines takes one of them along.
        let blank = |item: Option<&crate::syntax::Item>| item.is_some_and(|i| i.kind == ItemKind::Blank);
        let after = file.items.iter().find(|i| i.span.start == range.end);
        if blank(file.items.iter().find(|i| i.span.end == range.start)) && blank(after) {
            range.end = after.map_or(range.end, |i| i.span.end);
        }
        edits.push(Edit::delete(range));
    }
    edits
}
