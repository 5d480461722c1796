//! The package managers dockopt knows, read from `knowledge/package-managers.toml` (its header
//! documents every key), and how a shell command is recognised as one of theirs. `run-cleanup`
//! reads their flags and cleanups, `merge-runs` their caches.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::checks::Check;
use crate::fix::Applicability;
use crate::shell::{Command, CommandView, ShellWord};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Manager {
    /// The table's key: how messages name the manager.
    #[serde(skip)]
    pub name: String,
    pub programs: Vec<String>,
    #[serde(default)]
    pub versioned: bool,
    #[serde(default)]
    pub python_module: Option<String>,
    #[serde(default)]
    pub value_options: Vec<String>,
    #[serde(default)]
    pub skip_if: Vec<String>,
    #[serde(default)]
    pub cache_dirs: Vec<String>,
    #[serde(default)]
    pub cache_dir_env: Vec<String>,
    #[serde(default)]
    pub cache_filled_by: Vec<String>,
    #[serde(default)]
    pub cache_cleaned_by: Vec<String>,
    #[serde(default)]
    pub flags: Vec<FlagRule>,
    #[serde(default)]
    pub cleanup: Option<Cleanup>,
    #[serde(default)]
    pub index: Option<Index>,
    #[serde(default)]
    pub rename: Option<Rename>,
    #[serde(default)]
    pub mount: Vec<Mount>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Safety {
    Safe,
    Unsafe,
}

impl Safety {
    pub fn applicability(self) -> Applicability {
        match self {
            Safety::Safe => Applicability::Safe,
            Safety::Unsafe => Applicability::Unsafe,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct FlagRule {
    /// The check its findings report (`checks.rs`).
    #[serde(deserialize_with = "crate::checks::deserialize")]
    pub check: &'static Check,
    pub subcommands: Vec<String>,
    pub add: String,
    pub present: Vec<String>,
    /// Environment settings that do the same: `NAME` (any value) or `NAME=VALUE` (that value).
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub configured_by: Vec<String>,
    #[serde(default)]
    pub refuse_if_stage_mentions: Vec<String>,
    /// Package → packages it only recommends that are usually needed (curl → ca-certificates):
    /// installed explicitly when the flag is added.
    #[serde(default)]
    pub keep_recommended: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub refuse_why: Option<String>,
    /// Text in the image's instructions that shows the flag works (`composer:2`): the fix is
    /// Safe there whatever `safety` says.
    #[serde(default)]
    pub safe_if_stage_mentions: Vec<String>,
    #[serde(default)]
    pub cache: bool,
    #[serde(default = "yes")]
    pub shrinks: bool,
    pub safety: Safety,
    pub why: String,
    #[serde(default)]
    pub unsafe_why: Option<String>,
    /// Project scripts that may run the command out of the RUN's sight (`make install`).
    #[serde(default)]
    pub behind: Option<Behind>,
}

/// Where a command can hide: a program of the RUN (`make`) runs recipes of a context file
/// (`Makefile`); `prefix` is the environment setting that does the flag's work for all of them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Behind {
    pub programs: Vec<String>,
    pub files: Vec<String>,
    pub prefix: String,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Cleanup {
    /// The check its findings report (`checks.rs`).
    #[serde(deserialize_with = "crate::checks::deserialize")]
    pub check: &'static Check,
    pub after: Vec<String>,
    pub leaves: String,
    pub commands: Vec<CleanupCommand>,
    #[serde(default)]
    pub drop_when_flagged: Vec<String>,
    #[serde(default)]
    pub refuse_if_context_has: Vec<String>,
    #[serde(default)]
    pub refuse_why: Option<String>,
    #[serde(default)]
    pub unsafe_if_context_unknown: bool,
    #[serde(default)]
    pub unsafe_if_stage_mentions: Vec<String>,
    #[serde(default)]
    pub only_if_stage_mentions: Vec<String>,
    #[serde(default)]
    pub refuse_if_stage_mentions: Vec<String>,
    pub safety: Safety,
    pub why: String,
    #[serde(default)]
    pub unsafe_why: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct CleanupCommand {
    pub run: String,
    #[serde(default)]
    pub done_by: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Index {
    /// The check its findings report (`checks.rs`).
    #[serde(deserialize_with = "crate::checks::deserialize")]
    pub check: &'static Check,
    pub update: Vec<String>,
    #[serde(default)]
    pub update_flags: Vec<String>,
    pub readers: Vec<String>,
    pub dir: String,
    pub cleanup: CleanupCommand,
    pub why: String,
    #[serde(default)]
    pub mount_setup: Option<String>,
    /// Text whose mention in a command means it may change where `update` downloads from.
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Rename {
    /// The check its findings report (`checks.rs`).
    #[serde(deserialize_with = "crate::checks::deserialize")]
    pub check: &'static Check,
    pub from: String,
    pub to: String,
    pub subcommands: Vec<String>,
    #[serde(default)]
    pub rewrite: BTreeMap<String, String>,
    pub why: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Mount {
    pub target: String,
    #[serde(default)]
    pub sharing: Option<String>,
}

impl Mount {
    /// The RUN flag.
    pub fn flag(&self) -> String {
        match &self.sharing {
            Some(sharing) => format!(
                "--mount=type=cache,target={},sharing={sharing}",
                self.target
            ),
            None => format!("--mount=type=cache,target={}", self.target),
        }
    }
}

/// Every known package manager, parsed on first use.
pub(crate) fn managers() -> &'static [Manager] {
    super::parsed!("package-managers.toml", BTreeMap<String, Manager> => Vec<Manager>, |tables| Ok(named(tables)))
}

fn named(tables: BTreeMap<String, Manager>) -> Vec<Manager> {
    tables
        .into_iter()
        .map(|(name, mut manager)| {
            manager.name = name;
            manager
        })
        .collect()
}

/// A command run by a package manager, seen from its program word on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Invocation<'a> {
    pub manager: &'static Manager,
    /// Index into `Script::commands`.
    pub command: usize,
    /// The program word first (`pip` for `python -m pip install x`), then its arguments.
    pub view: CommandView<'a>,
}

impl Manager {
    /// `command` as a run of this manager, if it is one.
    pub fn invocation<'a>(
        &'static self,
        index: usize,
        command: &'a Command,
    ) -> Option<Invocation<'a>> {
        let view = super::program_view(command, &self.programs, self.versioned, self.python_module.as_deref())?;
        Some(Invocation {
            manager: self,
            command: index,
            view,
        })
    }

    /// Where its caches live: `cache-dirs` and the index's folder.
    pub fn cache_paths(&self) -> impl Iterator<Item = &str> {
        self.cache_dirs.iter().chain(self.index.as_ref().map(|i| &i.dir)).map(String::as_str)
    }

    /// Whether a cache lives under the user's home (`*/…`): where it is depends on HOME.
    pub fn cache_in_home(&self) -> bool {
        self.cache_dirs.iter().any(|d| d.starts_with("*/"))
    }

    pub fn is_program(&self, basename: &str) -> bool {
        super::is_program(&self.programs, self.versioned, basename)
    }
}

/// Whether `path` (as written in a script) is cache folder `dir` or lies inside it; `*/a/b` stands
/// for `a/b` in any folder (a home directory: `~/a/b`, `$HOME/a/b`, `/root/a/b`).
pub(crate) fn in_cache_dir(dir: &str, path: &str) -> bool {
    let within = |at: usize, len: usize| path[at + len..].is_empty() || path[at + len..].starts_with('/');
    match dir.strip_prefix('*') {
        Some(tail) => path.match_indices(tail).any(|(at, _)| within(at, tail.len())),
        None => path.strip_prefix(dir).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
    }
}

impl<'a> Invocation<'a> {
    /// The program word as written.
    pub fn program(&self) -> &'a ShellWord {
        &self.view.words()[0]
    }

    pub fn program_name(&self) -> &'a str {
        self.view.basename().unwrap_or("")
    }

    pub fn positionals(&self) -> Vec<&'a ShellWord> {
        self.view.positionals(&self.manager.value_options).collect()
    }

    /// The last word of `subcommand` (`"cache clean"` is two words) when this command runs it;
    /// for `""`, the program word when it runs with no subcommand at all.
    pub fn runs(&self, subcommand: &str) -> Option<&'a ShellWord> {
        // Asked for every subcommand of the knowledge, of every command: nothing is collected.
        let mut positionals = self.view.positionals(&self.manager.value_options);
        if subcommand.is_empty() {
            let asks_only = self
                .view
                .args()
                .iter()
                .any(|a| ["-v", "--version", "-h", "--help"].iter().any(|f| a.is(f)));
            return (positionals.next().is_none() && !asks_only).then(|| self.program());
        }
        let mut last = None;
        for wanted in subcommand.split_whitespace() {
            let word = positionals.next().filter(|p| p.is(wanted))?;
            last = Some(word);
        }
        last
    }

    /// The first of `subcommands` this command runs, with the subcommand's last word.
    pub fn runs_any<'s>(&self, subcommands: &'s [String]) -> Option<(&'s str, &'a ShellWord)> {
        subcommands
            .iter()
            .find_map(|s| self.runs(s).map(|w| (s.as_str(), w)))
    }

    /// Whether one of `spellings` (see `present` in the knowledge file) is among the arguments.
    pub fn has_any(&self, spellings: &[String]) -> bool {
        spellings.iter().any(|spelling| super::has_flag(self.view, spelling))
    }

    /// Whether it has a flag that makes it download and install nothing (`skip-if`).
    pub fn changes_nothing(&self) -> bool {
        self.has_any(&self.manager.skip_if)
    }

    /// How messages show the command: `apt-get install`, `pip install`.
    pub fn describe(&self, subcommand: &str) -> String {
        if subcommand.is_empty() {
            self.program_name().to_string()
        } else {
            format!("{} {subcommand}", self.program_name())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::parse_script;

    fn manager(name: &str) -> &'static Manager {
        managers().iter().find(|m| m.name == name).unwrap()
    }

    #[test]
    fn the_knowledge_file_parses_and_is_consistent() {
        let all = managers();
        assert!(all.len() >= 10);
        for m in all {
            assert!(!m.programs.is_empty(), "{}", m.name);
            for flag in &m.flags {
                assert!(
                    !flag.present.is_empty() && !flag.subcommands.is_empty(),
                    "{}",
                    m.name
                );
                assert!(
                    flag.safety == Safety::Safe || flag.unsafe_why.is_some(),
                    "{}: an unsafe flag says why",
                    m.name
                );
            }
            if let Some(cleanup) = &m.cleanup {
                assert!(!cleanup.commands.is_empty(), "{}", m.name);
                assert!(
                    cleanup.refuse_if_context_has.is_empty() || cleanup.refuse_why.is_some(),
                    "{}",
                    m.name
                );
            }
            for flag in &m.flags {
                assert!(
                    flag.refuse_if_stage_mentions.is_empty() || flag.refuse_why.is_some(),
                    "{}",
                    m.name
                );
            }
        }
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(toml::from_str::<BTreeMap<String, Manager>>("[x]\nprograms = [\"x\"]\nflagz = []\n").is_err());
    }

    #[test]
    fn recognises_programs_through_wrappers_versions_and_python_m() {
        let script = parse_script("sudo -E apt-get -o X=1 install -qy curl && pip3.11 install x && python3 -m pip install y");
        let apt = manager("apt-get");
        let inv = apt.invocation(0, &script.commands()[0]).unwrap();
        assert_eq!(inv.runs("install").map(|w| w.raw.as_str()), Some("install"));
        assert!(inv.has_any(&["-y".to_string()]));
        assert!(!inv.has_any(&["--no-install-recommends".to_string()]));
        let pip = manager("pip");
        assert!(pip.invocation(1, &script.commands()[1]).is_some());
        let inv = pip.invocation(2, &script.commands()[2]).unwrap();
        assert_eq!(inv.program().raw, "pip");
        assert!(inv.runs("install").is_some());
        assert!(apt.invocation(1, &script.commands()[1]).is_none());
    }

    #[test]
    fn bare_and_two_word_subcommands() {
        let script = parse_script(
            "yarn && yarn --frozen-lockfile && yarn build && yarn --version && uv pip install x",
        );
        let yarn = manager("yarn");
        let bare: Vec<bool> = (0..4)
            .map(|i| {
                yarn.invocation(i, &script.commands()[i])
                    .unwrap()
                    .runs("")
                    .is_some()
            })
            .collect();
        assert_eq!(bare, [true, true, false, false]);
        let uv = manager("uv").invocation(4, &script.commands()[4]).unwrap();
        assert_eq!(
            uv.runs("pip install").map(|w| w.raw.as_str()),
            Some("install")
        );
        assert!(uv.runs("pip sync").is_none());
    }
}
