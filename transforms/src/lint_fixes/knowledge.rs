//! What `lint-fixes` knows about shell commands, read from `knowledge/lint-fixes.toml` (its header
//! documents every key).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::shell::CommandView;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct Knowledge {
    pub pipefail: Pipefail,
    pub quoting: Quoting,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct Pipefail {
    pub fails_before_pipe: Vec<String>,
    pub filters: Filters,
    pub closes_early: Vec<ClosesEarly>,
}

/// Programs that exit non-zero when they select nothing.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct Filters {
    pub programs: Vec<String>,
    pub flags: Vec<String>,
    pub counted_by: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct ClosesEarly {
    pub program: String,
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub argument_contains: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct Quoting {
    pub one_word: BTreeMap<String, OneWord>,
}

/// An argument of a program that is one word by nature.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct OneWord {
    pub argument: Position,
    #[serde(default)]
    pub unless_flags: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum Position {
    First,
}

pub(super) fn knowledge() -> &'static Knowledge {
    crate::knowledge::parsed!("lint-fixes.toml", Knowledge)
}

impl Pipefail {
    /// Whether `view`, written after a `|`, stops reading before its writer is done.
    pub fn closes_early(&self, view: CommandView) -> bool {
        let Some(name) = view.basename() else { return false };
        self.closes_early.iter().filter(|c| c.program == name).any(|c| {
            let flagged = c.flags.is_empty() || has_any_flag(view, &c.flags);
            let argument = c.argument_contains.is_empty() || view.args().iter().any(|a| c.argument_contains.iter().any(|t| a.raw.contains(t.as_str())));
            flagged && argument
        })
    }

    /// Whether `view`, written before a `|`, exits non-zero in normal use. `selecting_nothing_is_normal`:
    /// whether the pipeline sits in a condition or feeds a counter (`wc`, `xargs -r`).
    pub fn fails_before_pipe(&self, view: CommandView, selecting_nothing_is_normal: bool) -> bool {
        let Some(name) = view.basename() else { return false };
        if self.filters.programs.iter().any(|p| p == name) {
            return selecting_nothing_is_normal || has_any_flag(view, &self.filters.flags);
        }
        self.fails_before_pipe.iter().any(|p| p == name)
    }

    /// Whether `view` counts its input or runs nothing on none (`wc`, `xargs -r`).
    pub fn counts(&self, view: CommandView) -> bool {
        self.filters.counted_by.iter().any(|spec| {
            let mut words = spec.split_whitespace();
            let program = words.next().unwrap_or_default();
            view.is(program) && words.all(|flag| has_any_flag(view, &[flag.to_string()]))
        })
    }
}

/// Whether `view` carries one of `flags` (`-e`, `--regexp`, also inside `-ie`).
pub(super) fn has_any_flag(view: CommandView, flags: &[String]) -> bool {
    flags.iter().any(|f| match f.strip_prefix("--") {
        Some(long) => view.has_flag(None, Some(long)),
        None => view.has_flag(f.strip_prefix('-').and_then(|s| s.chars().next()), None),
    })
}
