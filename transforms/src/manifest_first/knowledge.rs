//! The ecosystems `manifest-first` knows, read from `knowledge/ecosystems.toml` (its header
//! documents every key), and how a shell command is recognised as one of their commands.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::knowledge::{has_flag, program_view};
use crate::shell::{Command, CommandView, ShellWord};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct Ecosystem {
    /// The table's key (`node`, `go`, …).
    #[serde(skip)]
    pub key: String,
    pub manifests: Vec<String>,
    #[serde(default)]
    pub lockfiles: Vec<String>,
    #[serde(default)]
    pub config: Vec<String>,
    #[serde(default)]
    pub dirs: Vec<String>,
    #[serde(default)]
    pub outputs: Vec<String>,
    pub content: Content,
    #[allow(dead_code)] // documentation, read by people
    pub safety: String,
    pub commands: Vec<CommandRule>,
}

/// Which code reads the manifests' contents (manifest_first/checks.rs).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(super) enum Content {
    PackageJson,
    Pyproject,
    Pipfile,
    GoMod,
    Gemfile,
    ComposerJson,
    CargoToml,
    PomXml,
    Gradle,
    Msbuild,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum Role {
    /// Installs the dependencies from the manifests only.
    Install,
    /// Reads the sources too: a dependency-only command goes before the full COPY.
    Build,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum Positionals {
    #[default]
    None,
    Packages,
    Requirements,
    Project,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct CommandRule {
    pub programs: Vec<String>,
    #[serde(default)]
    pub versioned: bool,
    #[serde(default)]
    pub python_module: Option<String>,
    pub subcommands: Vec<String>,
    #[serde(default)]
    pub value_options: Vec<String>,
    pub role: Role,
    #[serde(default)]
    pub warm_up: Option<String>,
    #[serde(default)]
    pub keep_options: Vec<String>,
    #[serde(default)]
    pub add_flags: Vec<String>,
    #[serde(default)]
    pub drop_options: Vec<String>,
    #[serde(default)]
    pub keep_env: Vec<String>,
    #[serde(default)]
    pub already: Vec<String>,
    #[serde(default)]
    pub global: Vec<String>,
    #[serde(default)]
    pub global_if_positional_has: Option<String>,
    #[serde(default)]
    pub skip_with: Vec<String>,
    #[serde(default)]
    pub with_any: Vec<String>,
    #[serde(default)]
    pub dir_options: Vec<String>,
    #[serde(default)]
    pub manifest_options: Vec<String>,
    #[serde(default)]
    pub requirement_options: Vec<String>,
    #[serde(default)]
    pub positionals: Positionals,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub refuse: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct ContextFree {
    pub programs: Vec<String>,
    #[serde(default)]
    pub versioned: bool,
    #[serde(default)]
    pub python_module: Option<String>,
    #[serde(default)]
    pub subcommands: Option<Vec<String>>,
    #[serde(default)]
    pub value_options: Vec<String>,
    #[serde(default)]
    pub with_any: Vec<String>,
    #[serde(default)]
    pub without: Vec<String>,
    #[serde(default)]
    pub names_only: bool,
    #[serde(default)]
    pub positional_has: Option<String>,
    #[serde(default)]
    pub operands_under: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct File {
    #[serde(rename = "context-free")]
    context_free: Vec<ContextFree>,
    #[serde(flatten)]
    ecosystems: BTreeMap<String, Ecosystem>,
}

pub(super) struct Knowledge {
    pub ecosystems: Vec<Ecosystem>,
    pub context_free: Vec<ContextFree>,
}

pub(super) fn knowledge() -> &'static Knowledge {
    crate::knowledge::parsed!("ecosystems.toml", File => Knowledge, |file: File| {
        let ecosystems = file
            .ecosystems
            .into_iter()
            .map(|(key, mut eco)| {
                eco.key = key;
                eco
            })
            .collect();
        Ok(Knowledge { ecosystems, context_free: file.context_free })
    })
}

/// A command of an ecosystem found in a RUN.
#[derive(Debug, Clone, Copy)]
pub(super) struct Recognised<'a> {
    pub eco: &'static Ecosystem,
    pub rule: &'static CommandRule,
    /// Index into the script's commands.
    pub index: usize,
    pub command: &'a Command,
    /// The words from the program on (`pip install …` for `python -m pip install …`).
    pub view: CommandView<'a>,
    /// `Build` with an `already` flag set is an install.
    pub role: Role,
}

impl<'a> Recognised<'a> {
    /// The first positional argument (for `go mod download`, `mod`).
    pub fn positionals(&self) -> Vec<&'a ShellWord> {
        self.view.positionals(&self.rule.value_options).collect()
    }

    /// Every value of `options` (`-r a.txt -r b.txt`), static ones only; `None` when one is not static.
    pub fn option_values(&self, options: &[String]) -> Option<Vec<&'a str>> {
        let args = self.view.args();
        let mut values = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let word = &args[i];
            i += 1;
            let Some(text) = word.literal.as_deref() else {
                if options.iter().any(|o| o.starts_with("--") && word.raw.starts_with(&format!("{o}="))) {
                    return None;
                }
                continue;
            };
            if text == "--" {
                break;
            }
            for option in options {
                if text == option {
                    match args.get(i).and_then(|n| n.literal.as_deref()) {
                        Some(value) => values.push(value),
                        None => return None,
                    }
                    i += 1;
                } else if let Some(value) = text.strip_prefix(option.as_str()) {
                    if option.starts_with("--") {
                        if let Some(value) = value.strip_prefix('=') {
                            values.push(value);
                        }
                    } else if !value.is_empty() && option.len() == 2 {
                        // `-rrequirements.txt`
                        values.push(value);
                    }
                }
            }
        }
        Some(values)
    }

    /// Whether one of `flags` is present (`-g`, also inside `-gq`; `--global`, also `--global=x`).
    pub fn has_any(&self, flags: &[String]) -> bool {
        flags.iter().any(|f| has_flag(self.view, f))
    }
}

/// The positional words that name the rule's subcommand: one word, or two for `mod download`.
fn subcommand_matches(positionals: &[&ShellWord], subcommands: &[String]) -> bool {
    subcommands.iter().any(|sub| {
        if sub.is_empty() {
            return positionals.is_empty();
        }
        let words: Vec<&str> = sub.split(' ').collect();
        words.len() <= positionals.len() && words.iter().zip(positionals).all(|(w, p)| p.is(w))
    })
}

/// Maven and Gradle take goals and tasks anywhere: any positional counts.
fn takes_tasks(rule: &CommandRule) -> bool {
    rule.programs.iter().any(|p| matches!(p.as_str(), "mvn" | "gradle"))
}

/// The ecosystem command `command` is, if any. A global install (`npm install -g x`) is not one.
pub(super) fn recognise<'a>(index: usize, command: &'a Command) -> Option<Recognised<'a>> {
    for eco in &knowledge().ecosystems {
        for rule in &eco.commands {
            let Some(view) = program_view(command, &rule.programs, rule.versioned, rule.python_module.as_deref()) else {
                continue;
            };
            let positionals: Vec<&ShellWord> = view.positionals(&rule.value_options).collect();
            let matched = if takes_tasks(rule) {
                match rule.role {
                    // A dependency-only Maven run: every goal is one of those.
                    Role::Install => !positionals.is_empty() && positionals.iter().all(|p| rule.subcommands.iter().any(|s| p.is(s))),
                    Role::Build => positionals.iter().any(|p| rule.subcommands.iter().any(|s| p.is(s))),
                }
            } else {
                subcommand_matches(&positionals, &rule.subcommands)
            };
            if !matched {
                continue;
            }
            let recognised = Recognised { eco, rule, index, command, view, role: rule.role };
            let global_positional = rule
                .global_if_positional_has
                .as_deref()
                .is_some_and(|mark| positionals.iter().skip(1).any(|p| p.raw.contains(mark)));
            if recognised.has_any(&rule.global) || recognised.has_any(&rule.skip_with) || global_positional {
                return None;
            }
            if !rule.with_any.is_empty() && !recognised.has_any(&rule.with_any) {
                continue;
            }
            let already = rule.already.iter().any(|set| set.split(' ').all(|f| has_flag(view, f)));
            let role = if already { Role::Install } else { rule.role };
            return Some(Recognised { role, ..recognised });
        }
    }
    None
}

/// Whether `command` reads nothing from the working directory (see `[[context-free]]`).
pub(super) fn is_context_free(command: &Command) -> bool {
    // Redirections may only touch system folders, never the working directory.
    const SYSTEM: &[&str] = &["/dev/", "/etc/", "/tmp/", "/var/", "/usr/", "/root/"];
    let outside = |t: &ShellWord| t.raw.starts_with('&') || is_fd(t) || (SYSTEM.iter().any(|p| t.raw.starts_with(p)) && !t.raw.contains(".."));
    let inline = |operator: &str| operator.starts_with("<<");
    if command.redirects.iter().any(|r| !inline(&r.operator) && r.target.as_ref().is_some_and(|t| !outside(t))) {
        return false;
    }
    knowledge().context_free.iter().any(|rule| {
        let Some(view) = program_view(command, &rule.programs, rule.versioned, rule.python_module.as_deref()) else {
            return false;
        };
        let positionals: Vec<&ShellWord> = view.positionals(&rule.value_options).collect();
        if let Some(subs) = &rule.subcommands {
            let first = positionals.first().and_then(|p| p.literal.as_deref());
            let flag_sub = subs.iter().any(|s| s.starts_with('-') && view.has_word(s));
            if !flag_sub && !first.is_some_and(|f| subs.iter().any(|s| s == f)) {
                return false;
            }
        }
        if !rule.with_any.is_empty() && !rule.with_any.iter().any(|f| has_flag(view, f)) {
            return false;
        }
        if rule.without.iter().any(|f| has_flag(view, f) || view.args().iter().any(|a| a.literal.as_deref().is_some_and(|t| t.starts_with(&format!("{f}="))))) {
            return false;
        }
        let operands = || positionals.iter().skip(usize::from(rule.subcommands.is_some()));
        if !rule.operands_under.is_empty() {
            let under = |p: &&ShellWord| {
                let raw = p.raw.as_str();
                !raw.contains("..") && rule.operands_under.iter().any(|dir| raw == dir || raw.starts_with(&format!("{dir}/")))
            };
            if operands().next().is_none() || !operands().all(under) {
                return false;
            }
        }
        if let Some(mark) = &rule.positional_has {
            if operands().next().is_none() || !operands().all(|p| p.raw.contains(mark.as_str())) {
                return false;
            }
        }
        !rule.names_only || operands().all(|p| p.literal.as_deref().is_some_and(is_name))
    })
}

fn is_fd(word: &ShellWord) -> bool {
    word.literal.as_deref().is_some_and(|t| t.chars().all(|c| c.is_ascii_digit()))
}

/// A package name or `name==1.2`, `name@1.2`: not a path, an archive or a URL.
pub(super) fn is_name(word: &str) -> bool {
    const FILES: &[&str] = &[".deb", ".rpm", ".apk", ".whl", ".tar.gz", ".tgz", ".zip", ".gem", ".txt"];
    !word.is_empty()
        && !word.starts_with('.')
        && !word.starts_with('/')
        && !word.starts_with('~')
        && !word.contains("file:")
        && !(word.contains('/') && !word.contains("://") && !word.starts_with('@'))
        && !FILES.iter().any(|f| word.ends_with(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::parse_script;

    fn first(text: &str) -> Option<(String, Role)> {
        let script = parse_script(text);
        let command = script.commands().first()?;
        recognise(0, command).map(|r| (r.eco.key.clone(), r.role))
    }

    #[test]
    fn the_knowledge_loads() {
        let k = knowledge();
        assert!(k.ecosystems.iter().any(|e| e.key == "node"));
        assert!(!k.context_free.is_empty());
    }

    #[test]
    fn recognises_installs_and_builds() {
        assert_eq!(first("npm ci"), Some(("node".into(), Role::Install)));
        assert_eq!(first("yarn"), Some(("node".into(), Role::Install)));
        assert_eq!(first("yarn --frozen-lockfile"), Some(("node".into(), Role::Install)));
        assert_eq!(first("npm install -g npm@11"), None);
        assert_eq!(first("python3 -m pip install -r requirements.txt"), Some(("python".into(), Role::Install)));
        assert_eq!(first("pip3.11 install -r requirements.txt"), Some(("python".into(), Role::Install)));
        assert_eq!(first("poetry install --no-interaction"), Some(("python".into(), Role::Build)));
        assert_eq!(first("poetry install --no-root"), Some(("python".into(), Role::Install)));
        assert_eq!(first("go mod download"), Some(("go".into(), Role::Install)));
        assert_eq!(first("go mod tidy"), None);
        assert_eq!(first("CGO_ENABLED=0 go build -o /app ."), Some(("go".into(), Role::Build)));
        assert_eq!(first("composer install --no-dev"), Some(("php".into(), Role::Build)));
        assert_eq!(first("composer install --no-scripts --no-autoloader"), Some(("php".into(), Role::Install)));
        assert_eq!(first("mvn -B clean package"), Some(("maven".into(), Role::Build)));
        assert_eq!(first("./mvnw dependency:go-offline"), Some(("maven".into(), Role::Install)));
        assert_eq!(first("./gradlew build -x test"), Some(("gradle".into(), Role::Build)));
        assert_eq!(first("dotnet publish -c Release -o out"), Some(("dotnet".into(), Role::Build)));
        assert_eq!(first("dotnet publish --no-restore -o out"), None);
        assert_eq!(first("bundle install --jobs 4"), Some(("ruby".into(), Role::Install)));
    }

    #[test]
    fn context_free_commands() {
        let free = |text: &str| parse_script(text).commands().iter().all(is_context_free);
        assert!(free("apt-get install -y git"));
        assert!(free("npm install -g npm@11"));
        assert!(free("pip install --upgrade pip"));
        assert!(free("yarn global add @vue/cli"));
        assert!(!free("pip install -r requirements.txt"));
        assert!(!free("pip install ."));
        assert!(!free("apt-get install -y ./local.deb"));
        assert!(!free("npm run build"));
        assert!(!free("echo x > file"));
        assert!(free("echo x > /dev/null"));
        assert!(free("echo 'deb http://x y main' > /etc/apt/sources.list.d/x.list"));
        assert!(!free("echo x > /etc/../app/config"));
        assert!(!free("corepack prepare --activate"));
        assert!(free("corepack prepare pnpm@9 --activate"));
        assert!(!free("yarn config set nodeLinker node-modules"));
    }
}
