//! The ignore templates (knowledge/ignore-templates.toml) and the command specs they use.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::matcher::Pattern;
use crate::shell::{CommandView, NO_OPTIONS};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplates {
    #[serde(default)]
    sets: BTreeMap<String, Vec<String>>,
    group: Vec<RawGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    reason: String,
    #[serde(default)]
    protect_mentioned: bool,
    #[serde(default)]
    incidental: bool,
    entry: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    pattern: String,
    #[serde(default)]
    beside: Vec<String>,
    #[serde(default)]
    regenerated_by: Vec<String>,
    #[serde(default)]
    read_by: Vec<String>,
    #[serde(default)]
    read_by_except: Vec<String>,
    #[serde(default)]
    keep: Vec<String>,
    #[serde(default)]
    private_key_only: bool,
}

#[derive(Debug)]
pub(crate) struct Group {
    pub reason: String,
    pub protect_mentioned: bool,
    /// Proposed only along with another group: not worth a .dockerignore on its own.
    pub incidental: bool,
    pub entries: Vec<Entry>,
}

#[derive(Debug)]
pub(crate) struct Entry {
    /// As written in the template (what the generated file says).
    pub text: String,
    pub pattern: Pattern,
    pub beside: Vec<String>,
    pub regenerated_by: Vec<CommandSpec>,
    pub read_by: Vec<CommandSpec>,
    pub read_by_except: Vec<CommandSpec>,
    pub keep: Vec<Pattern>,
    /// Only files whose contents hold a private key are excluded (a certificate is public).
    pub private_key_only: bool,
}

/// One command shape, such as `npm install !-g` (see the template file's header).
#[derive(Debug, Clone)]
pub(crate) struct CommandSpec {
    pub program: String,
    /// Each with its glob when it has wildcards.
    positionals: Vec<(String, Option<Pattern>)>,
    flags: Vec<String>,
    absent_flags: Vec<String>,
    bare: bool,
}

impl CommandSpec {
    pub fn parse(text: &str) -> Result<CommandSpec, String> {
        let mut words = text.split_whitespace();
        let program = words.next().ok_or_else(|| "an empty command spec".to_string())?.to_string();
        let mut spec = CommandSpec { program, positionals: Vec::new(), flags: Vec::new(), absent_flags: Vec::new(), bare: false };
        for word in words {
            if word == "<none>" {
                spec.bare = true;
            } else if let Some(flag) = word.strip_prefix('!') {
                if !flag.starts_with('-') {
                    return Err(format!("`{text}`: only flags can be required absent (`!-g`)"));
                }
                spec.absent_flags.push(flag.to_string());
            } else if word.starts_with('-') {
                spec.flags.push(word.to_string());
            } else {
                let glob = match word.contains(['*', '?', '[']) {
                    true => Some(Pattern::new(word).map_err(|e| format!("`{text}`: {e}"))?),
                    false => None,
                };
                spec.positionals.push((word.to_string(), glob));
            }
        }
        Ok(spec)
    }

    /// The spec as a user would recognise it: `npm ci`, `npm run build` (wildcards dropped).
    pub fn display(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.positionals.iter().map(|(p, _)| p.trim_end_matches('*')))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A command this spec matches, quoted by the words the spec looks at: `npm run build:prod`.
    pub fn describe(&self, command: CommandView) -> String {
        let positionals: Vec<&str> = command.positionals(NO_OPTIONS).filter_map(|w| w.literal.as_deref()).collect();
        let mut words = vec![self.program.clone()];
        for (wanted, glob) in &self.positionals {
            if let Some(found) = positionals.iter().find(|p| **p == wanted || glob.as_ref().is_some_and(|g| g.matches(p))) {
                words.push(found.to_string());
            }
        }
        words.join(" ")
    }

    pub fn matches(&self, command: CommandView) -> bool {
        if command.basename() != Some(self.program.as_str()) {
            return false;
        }
        let positionals: Vec<Option<&str>> = command.positionals(NO_OPTIONS).map(|w| w.literal.as_deref()).collect();
        if self.bare && !positionals.is_empty() {
            return false;
        }
        let has_positional = |(wanted, glob): &(String, Option<Pattern>)| {
            positionals.iter().flatten().any(|p| match glob {
                Some(glob) => glob.matches(p),
                None => p == wanted,
            })
        };
        let has_flag = |flag: &str| match flag.strip_prefix("--") {
            Some(long) => command.has_flag(None, Some(long)),
            None => flag.strip_prefix('-').and_then(|s| s.chars().next()).is_some_and(|c| command.has_flag(Some(c), None)),
        };
        self.positionals.iter().all(has_positional)
            && self.flags.iter().all(|f| has_flag(f))
            && !self.absent_flags.iter().any(|f| has_flag(f))
    }
}

/// The templates, parsed once.
pub(crate) fn groups() -> &'static [Group] {
    crate::knowledge::parsed!("ignore-templates.toml", RawTemplates => Vec<Group>, build)
}

fn build(raw: RawTemplates) -> Result<Vec<Group>, String> {
    let specs = |list: &[String]| -> Result<Vec<CommandSpec>, String> {
        let mut out = Vec::new();
        for item in list {
            match item.strip_prefix('@') {
                Some(set) => {
                    let members = raw.sets.get(set).ok_or_else(|| format!("unknown command set `@{set}`"))?;
                    for member in members {
                        out.push(CommandSpec::parse(member)?);
                    }
                }
                None => out.push(CommandSpec::parse(item)?),
            }
        }
        Ok(out)
    };
    let mut groups = Vec::new();
    for group in &raw.group {
        let mut entries = Vec::new();
        for entry in &group.entry {
            let pattern = Pattern::new(&entry.pattern).map_err(|e| e.to_string())?;
            let keep = entry.keep.iter().map(|k| Pattern::new(k).map_err(|e| e.to_string())).collect::<Result<_, _>>()?;
            entries.push(Entry {
                text: entry.pattern.clone(),
                pattern,
                beside: entry.beside.clone(),
                regenerated_by: specs(&entry.regenerated_by)?,
                read_by: specs(&entry.read_by)?,
                read_by_except: specs(&entry.read_by_except)?,
                keep,
                private_key_only: entry.private_key_only,
            });
        }
        groups.push(Group { reason: group.reason.clone(), protect_mentioned: group.protect_mentioned, incidental: group.incidental, entries });
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::parse_script;

    #[test]
    fn the_templates_parse() {
        let parsed = groups();
        assert!(parsed.len() >= 6);
        assert!(parsed.iter().all(|g| !g.entries.is_empty() && !g.reason.is_empty()));
    }

    fn first_command_matches(spec: &str, script: &str) -> bool {
        let script = parse_script(script);
        let spec = CommandSpec::parse(spec).unwrap();
        script.commands().iter().any(|c| spec.matches(c.effective()))
    }

    #[test]
    fn specs_match_commands() {
        assert!(first_command_matches("npm ci", "npm ci --omit=dev"));
        assert!(first_command_matches("npm install !-g !--global", "sudo npm install --production"));
        assert!(!first_command_matches("npm install !-g !--global", "npm install -g pm2"));
        assert!(!first_command_matches("npm install !-g !--global", "npm install --global pm2"));
        assert!(first_command_matches("yarn <none>", "yarn --frozen-lockfile"));
        assert!(!first_command_matches("yarn <none>", "yarn build"));
        assert!(first_command_matches("npm run build*", "npm run build:prod"));
        assert!(!first_command_matches("python pip install", "python3 -m pip install -r r.txt"), "python3 is not python");
        assert!(first_command_matches("python pip install", "python -m pip install -r r.txt"));
        assert!(first_command_matches("python3 pip install", "python3 -m pip install -r r.txt"));
        assert!(first_command_matches("gradlew", "./gradlew bootJar --no-daemon"));
        assert!(first_command_matches("git", "git describe --tags"));
        assert!(first_command_matches("git config --global", "git config --global user.name x"));
        assert!(!first_command_matches("git config --global", "git config user.name x"));
        assert!(!first_command_matches("mvn package", "mvn dependency:go-offline"));
        assert_eq!(CommandSpec::parse("npm install !-g").unwrap().display(), "npm install");
        assert_eq!(CommandSpec::parse("npm run build*").unwrap().display(), "npm run build");
        let script = parse_script("npm run --silent build:prod");
        let spec = CommandSpec::parse("npm run build*").unwrap();
        assert_eq!(spec.describe(script.commands()[0].effective()), "npm run build:prod");
        assert!(CommandSpec::parse("npm !install").is_err());
    }
}
