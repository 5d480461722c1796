//! The text the rewrite inserts: the manifest COPY lines and the dependency-only commands.

use super::knowledge::{Content, Recognised};
use crate::knowledge::has_flag;
use crate::model::listing::{Listing, Presence};
use super::reads::Install;
use crate::shell::Script;

/// The keyword in the case the author wrote `written` in.
pub(super) fn same_case(written: &str, keyword: &str) -> String {
    if written.chars().any(|c| c.is_ascii_uppercase()) {
        keyword.to_ascii_uppercase()
    } else {
        keyword.to_ascii_lowercase()
    }
}

/// A context path that can be written in a COPY without quoting.
pub(super) fn plain_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('-')
        && path.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | '@' | '+'))
}

/// The manifest COPY lines: one per context folder, then one per folder copied whole.
/// `dest` is the full COPY's destination ending with `/`; each line ends with `newline`.
pub(super) fn copy_lines(keyword: &str, flags: &[String], files: &[String], dirs: &[String], dest: &str, newline: &str) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for file in files {
        let folder = crate::model::listing::parent_of(file);
        match groups.iter_mut().find(|(f, _)| *f == folder) {
            Some((_, list)) => list.push(file),
            None => groups.push((folder, vec![file])),
        }
    }
    groups.sort_by_key(|(folder, _)| (folder.matches('/').count(), folder.to_string()));
    let flags: String = flags.iter().map(|f| format!("{f} ")).collect();
    let mut out = String::new();
    for (folder, list) in groups {
        out.push_str(&format!("{keyword} {flags}{} {dest}{folder}{newline}", list.join(" ")));
    }
    for dir in dirs {
        out.push_str(&format!("{keyword} {flags}{dir} {dest}{dir}/{newline}"));
    }
    out
}

/// The dependency-only command for a build command (`go mod download`, `poetry install --no-root`).
/// `project`: the project to name instead of the command's own (a path from the full COPY's destination).
pub(super) fn warm_up_command(script: &Script, rec: &Recognised, install: Option<&Install>, listing: Option<&Listing>, project: Option<&str>) -> Result<String, String> {
    let rule = rec.rule;
    if rec.eco.content == Content::CargoToml {
        return cargo_warm_up(script, rec, install, listing);
    }
    if !rule.add_flags.is_empty() {
        return Ok(with_flags(script, rec));
    }
    let template = rule.warm_up.as_deref().ok_or_else(|| format!("no dependency-only command is known for `{}`", rec.view.name().unwrap_or_default()))?;
    let program = rec.view.words().first().map(|w| w.raw.as_str()).unwrap_or_default();
    let project = match project {
        Some(path) if plain_path(path) => path.to_string(),
        Some(path) => return Err(format!("`{path}` would need quoting")),
        None => rec.positionals().get(1).map(|p| p.raw.clone()).unwrap_or_default(),
    };
    let text = template
        .replace("{program}", program)
        .replace("{options}", &kept_options(rec, &rule.keep_options).join(" "))
        .replace("{project}", &project);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok(format!("{}{text}", prefix(script, rec, &rule.keep_env)))
}

/// What comes before the program: wrappers (`sudo -u app`) are kept whole; `VAR=x` prefixes only
/// when listed in `keep_env` (or all of them with `keep_env = ["*"]`).
fn prefix(script: &Script, rec: &Recognised, keep_env: &[String]) -> String {
    let command = rec.command;
    let wrapped = command.words.len() != rec.view.words().len();
    let program_start = rec.view.words().first().map_or(command.range.start, |w| w.range.start);
    if wrapped {
        return script.text(&(command.range.start..program_start)).to_string();
    }
    command
        .assignments
        .iter()
        .filter(|a| {
            let name = a.raw.split('=').next().unwrap_or_default();
            keep_env.iter().any(|k| k == "*" || k == name)
        })
        .map(|a| format!("{} ", a.raw))
        .collect()
}

/// The options of `keep` present in the command, with their values, as written. `-D` and `-P`
/// also match with an attached value (`-DskipTests`, `-Pprod`), as Maven and Gradle write them.
fn kept_options(rec: &Recognised, keep: &[String]) -> Vec<String> {
    let args = rec.view.args();
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let raw = &args[i].raw;
        i += 1;
        let name = raw.split('=').next().unwrap_or(raw);
        let property = |k: &str| matches!(k, "-D" | "-P") && raw.len() > 2 && raw.starts_with(k);
        if !keep.iter().any(|k| name == k || property(k)) {
            continue;
        }
        out.push(raw.clone());
        let takes_value = !raw.contains('=') && rec.rule.value_options.iter().any(|v| v == raw);
        if let Some(value) = args.get(i).filter(|_| takes_value) {
            out.push(value.raw.clone());
            i += 1;
        }
    }
    out
}

/// The command as written, with `add-flags` after its subcommand and `drop-options` removed.
fn with_flags(script: &Script, rec: &Recognised) -> String {
    let rule = rec.rule;
    let command = rec.command;
    let base = command.range.start;
    let text = script.text(&command.range);
    let positionals = rec.positionals();
    let anchor = positionals.first().map_or_else(|| rec.view.words().first().map_or(base, |w| w.range.end), |p| p.range.end);
    let mut cuts: Vec<(usize, usize, String)> = Vec::new();
    let missing: Vec<&String> = rule.add_flags.iter().filter(|f| !has_flag(rec.view, f)).collect();
    if !missing.is_empty() {
        let added: String = missing.iter().map(|f| format!(" {f}")).collect();
        cuts.push((anchor - base, anchor - base, added));
    }
    for word in rec.view.args() {
        let name = word.raw.split('=').next().unwrap_or(&word.raw);
        if rule.drop_options.iter().any(|d| d == name) {
            // The word and the blank before it.
            let start = script.source()[..word.range.start].trim_end_matches([' ', '\t']).len();
            cuts.push((start - base, word.range.end - base, String::new()));
        }
    }
    cuts.sort_by_key(|c| c.0);
    let mut out = String::new();
    let mut at = 0;
    for (start, end, insert) in cuts {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(&insert);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// Cargo's dependency-only build: placeholder sources, the build with the original's profile,
/// target and feature options, then the package's own artifacts removed.
fn cargo_warm_up(script: &Script, rec: &Recognised, install: Option<&Install>, listing: Option<&Listing>) -> Result<String, String> {
    let install = install.ok_or("the Cargo package is not known")?;
    let listing = listing.ok_or("the build context is not known")?;
    if !install.named.is_empty() {
        return Err("the build names its manifest (`--manifest-path`): placeholder sources for it are not known".into());
    }
    // What the manifests say comes first (a workspace, a build script, …).
    if let Some(reason) = super::reads::reads(install, listing).refusal {
        return Err(reason);
    }
    let dir = &install.dir;
    let manifest = listing
        .content(&format!("{dir}Cargo.toml"))
        .and_then(|text| text.parse::<toml::Table>().ok())
        .ok_or("Cargo.toml is not known: the dependency-only build needs the package name")?;
    let name = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(toml::Value::as_str)
        .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .ok_or("Cargo.toml has no plain package name")?;
    let has = |file: &str| listing.presence(&format!("{dir}src/{file}")) == Presence::Present;
    let mut placeholders = vec!["mkdir -p src".to_string()];
    if has("main.rs") {
        placeholders.push("echo 'fn main() {}' > src/main.rs".to_string());
    }
    if has("lib.rs") {
        placeholders.push("touch src/lib.rs".to_string());
    }
    if placeholders.len() == 1 {
        return Err("neither src/main.rs nor src/lib.rs is in the build context".into());
    }
    const KEEP: &[&str] = &["--release", "--profile", "--target", "--features", "-F", "--all-features", "--no-default-features", "--locked", "--frozen", "--offline", "-j", "--jobs", "--target-dir", "-Z", "--config"];
    const PROFILE: &[&str] = &["--release", "--profile", "--target", "--target-dir"];
    let subcommand = rec.positionals().first().and_then(|p| p.literal.clone()).unwrap_or_default();
    let mut options = kept_options(rec, &KEEP.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let mut clean = kept_options(rec, &PROFILE.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    // `cargo install` builds the release profile unless told `--debug`.
    if subcommand == "install" && !has_flag(rec.view, "--debug") && !has_flag(rec.view, "--profile") {
        options.insert(0, "--release".into());
        clean.insert(0, "--release".into());
    }
    let build = match subcommand.as_str() {
        "check" => "check",
        "test" => "test --no-run",
        "bench" => "bench --no-run",
        "doc" => "doc",
        _ => "build",
    };
    let program = rec.view.words().first().map(|w| w.raw.as_str()).unwrap_or("cargo");
    let options: String = options.iter().map(|o| format!(" {o}")).collect();
    let clean: String = clean.iter().map(|o| format!(" {o}")).collect();
    let env = prefix(script, rec, &["*".to_string()]);
    Ok(format!(
        "{} && {env}{program} {build}{options} && {program} clean{clean} -p {name} && rm -rf src",
        placeholders.join(" && ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_lines_group_by_folder() {
        let files = vec!["package.json".to_string(), "package-lock.json".to_string(), "client/package.json".to_string()];
        let text = copy_lines("COPY", &["--chown=node:node".into()], &files, &[".yarn".into()], "./", "\n");
        assert_eq!(
            text,
            "COPY --chown=node:node package.json package-lock.json ./\nCOPY --chown=node:node client/package.json ./client/\nCOPY --chown=node:node .yarn ./.yarn/\n"
        );
    }

    #[test]
    fn keyword_case() {
        assert_eq!(same_case("copy", "RUN"), "run");
        assert_eq!(same_case("Copy", "RUN"), "RUN");
        assert!(plain_path("client/package.json"));
        assert!(!plain_path("my file.txt"));
    }
}
