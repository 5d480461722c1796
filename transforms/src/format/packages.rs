//! `sort-packages`: the package list of an install command, sorted. Which commands install
//! packages is data: `knowledge/package-lists.toml`.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;

use crate::knowledge::parsed;
use crate::shell::parse_script;

/// Lists longer than this go one package per line.
const ONE_LINE_MAX: usize = 3;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Manager {
    programs: Vec<String>,
    install: Vec<String>,
    #[serde(default)]
    value_options: Vec<String>,
}

fn managers() -> &'static BTreeMap<String, Manager> {
    parsed!("package-lists.toml", BTreeMap<String, Manager>)
}

/// A package list to write sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PackageList {
    /// From the first package to the end of the last, in the logical line.
    pub range: Range<usize>,
    /// Where the install command starts, in the logical line.
    pub command_start: usize,
    /// The packages as written, in sorted order.
    pub sorted: Vec<String>,
    pub one_per_line: bool,
    /// The order or the layout changes.
    pub changed: bool,
}

/// The package lists of `script` (starting at `offset` of the logical line) that can be sorted:
/// two or more static words, nothing but blanks between them, no comment line among their lines.
/// `joins` are the logical offsets where content lines start; `clean[k]`: no comment line between
/// content lines `k` and `k + 1`.
pub(super) fn lists(script: &str, offset: usize, joins: &[usize], clean: &[bool]) -> Vec<PackageList> {
    let parsed = parse_script(script);
    if parsed.has_errors() {
        return Vec::new();
    }
    let mut found = Vec::new();
    for command in parsed.commands() {
        let view = command.effective();
        let Some(manager) = managers().values().find(|m| view.basename().is_some_and(|b| m.programs.iter().any(|p| p == b))) else {
            continue;
        };
        let args = view.args();
        // The subcommand: the first word that is not an option (nor an option's value).
        let mut i = 0;
        while i < args.len() {
            let Some(text) = args[i].literal.as_deref() else { break };
            if !text.starts_with('-') {
                break;
            }
            i += if manager.value_options.iter().any(|o| o == text) { 2 } else { 1 };
        }
        if !args.get(i).is_some_and(|w| w.literal.as_deref().is_some_and(|s| manager.install.iter().any(|x| x == s))) {
            continue;
        }
        // Options may come first; the packages are the rest, all static and not options.
        let mut j = i + 1;
        while j < args.len() {
            let Some(text) = args[j].literal.as_deref() else { break };
            if !text.starts_with('-') {
                break;
            }
            j += if manager.value_options.iter().any(|o| o == text) { 2 } else { 1 };
        }
        let packages = &args[j.min(args.len())..];
        if packages.len() < 2 || packages.iter().any(|w| w.literal.as_ref().is_none_or(|l| l.starts_with('-') || l.is_empty())) {
            continue;
        }
        let first = packages[0].range.start;
        let last = packages[packages.len() - 1].range.end;
        // Only blanks between the words (no redirection, nothing the shell reads between them).
        if packages.windows(2).any(|w| !script[w[0].range.end..w[1].range.start].bytes().all(|b| b == b' ' || b == b'\t')) {
            continue;
        }
        let range = first + offset..last + offset;
        let inside: Vec<usize> = (0..joins.len()).filter(|&k| range.start < joins[k] && joins[k] < range.end).collect();
        // No comment line among the list's lines, and no word cut across lines.
        let cut = |at: usize| {
            let local = at - offset;
            !packages.iter().any(|w| w.range.start < local && local < w.range.end)
        };
        if inside.iter().any(|&k| !clean.get(k).copied().unwrap_or(false) || !cut(joins[k])) {
            continue;
        }
        let written: Vec<String> = packages.iter().map(|w| w.raw.clone()).collect();
        let mut sorted = written.clone();
        let key = |raw: &String| {
            let word = packages.iter().find(|w| &w.raw == raw).and_then(|w| w.literal.clone()).unwrap_or_default();
            (word.to_ascii_lowercase(), raw.clone())
        };
        sorted.sort_by_key(key);
        let one_per_line = packages.len() > ONE_LINE_MAX || !inside.is_empty();
        let changed = sorted != written || (one_per_line && inside.len() + 1 != packages.len());
        found.push(PackageList { range, command_start: command.range.start + offset, sorted, one_per_line, changed });
    }
    found.sort_by_key(|l| l.range.start);
    found.dedup_by(|a, b| a.range.start < b.range.end);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_lists_are_found_with_their_options_left_out() {
        let s = "apt-get update && apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confnew curl ca-certificates git";
        let l = lists(s, 0, &[], &[]);
        assert_eq!(l.len(), 1);
        assert_eq!(&s[l[0].range.clone()], "curl ca-certificates git");
        assert_eq!(l[0].sorted, vec!["ca-certificates", "curl", "git"]);
        assert!(!l[0].one_per_line && l[0].changed);
        let l = lists("apk add --no-cache --virtual .build-deps gcc musl-dev make", 0, &[], &[]);
        assert_eq!(l[0].sorted, vec!["gcc", "make", "musl-dev"]);
    }

    #[test]
    fn lists_with_variables_or_redirections_are_left() {
        assert!(lists("apt-get install -y $PKGS curl", 0, &[], &[]).is_empty());
        assert!(lists("apt-get install -y b a > /dev/null", 0, &[], &[]).len() == 1);
        assert!(lists("apt-get install -y b 2>/dev/null a", 0, &[], &[]).is_empty());
        assert!(lists("pip install b a", 0, &[], &[]).is_empty());
        assert!(lists("apt-get install -y curl", 0, &[], &[]).is_empty());
    }
}
