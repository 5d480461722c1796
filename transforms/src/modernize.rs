#![doc = include_str!("../docs/modernize.md")]

use crate::checks;
use crate::fix::{Edit, Finding, Fix};
use crate::model::Input;
use crate::syntax::{split_words, Dockerfile, Instruction, Keyword, LineKind};

pub(crate) const DOC: &str = include_str!("../docs/modernize.md");

/// Names BuildKit may unpack when ADDed (it sniffs the content; these are the names that say so).
const ARCHIVE_SUFFIXES: &[&str] =
    &[".tar", ".tgz", ".tbz", ".tbz2", ".txz", ".tzst", ".gz", ".bz2", ".xz", ".zst", ".lz4", ".lzma", ".z"];

pub(crate) fn run(input: &Input) -> Vec<Finding> {
    let file = input.file;
    let mut findings = Vec::new();
    for (index, inst) in file.instructions.iter().enumerate() {
        let finding = match inst.keyword {
            Keyword::Maintainer => maintainer(file, inst),
            Keyword::Env => legacy_env(file, inst),
            Keyword::Add => add_to_copy(file, inst, input.model().workdir_set(index)),
            _ => None,
        };
        findings.extend(finding);
    }
    findings
}

fn has_comment_lines(inst: &Instruction) -> bool {
    inst.lines.iter().any(|l| l.kind == LineKind::Comment)
}

/// A double-quoted string whose BuildKit-processed value is `value` exactly: escape the escape
/// token, `"` and `$` (MAINTAINER is never expanded; the label must not be either).
fn double_quoted(value: &str, escape: char) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '$' || c == escape {
            out.push(escape);
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn maintainer(file: &Dockerfile, inst: &Instruction) -> Option<Finding> {
    let finding = Finding::new(&checks::MODERNIZE_MAINTAINER, inst.keyword_span.clone(), "MAINTAINER is deprecated: use `LABEL maintainer=...`")
        .with_why("registries and `docker inspect` show the label; MAINTAINER is deprecated since Docker 1.13");
    let value = inst.args_text();
    if value.is_empty() || !inst.flags.is_empty() || has_comment_lines(inst) {
        return Some(finding);
    }
    let written = &file.source[inst.keyword_span.clone()];
    let replacement = format!("{} maintainer={}", Keyword::Label.spelled_like(written), double_quoted(value, file.escape));
    let range = inst.keyword_span.start..inst.args_source_range().end;
    Some(finding.with_fix(Fix::safe("Replace MAINTAINER with a maintainer label", vec![Edit::replace(range, replacement)])))
}

fn legacy_env(file: &Dockerfile, inst: &Instruction) -> Option<Finding> {
    let args = inst.args_text();
    let words = split_words(args, file.escape);
    let first = words.first()?;
    if first.raw.contains('=') {
        return None;
    }
    // BuildKit's legacy form: the key, one run of blanks, then the whole rest is the value.
    let key_end = args.find([' ', '\t', '\x0b', '\x0c', '\r'])?;
    let key = &args[..key_end];
    let value = args[key_end..].trim_start_matches([' ', '\t', '\x0b', '\x0c', '\r']);
    let finding = Finding::new(&checks::MODERNIZE_LEGACY_ENV, inst.keyword_span.start..inst.args_source_range().end, format!("legacy `ENV {key} value` form: use `ENV {key}=...`"))
        .with_why("the space-separated form is deprecated (BuildKit's LegacyKeyValueFormat check)");
    if has_comment_lines(inst) {
        return Some(finding);
    }
    let quoted = if is_one_quoted_word(value, file.escape) {
        value.to_string()
    } else if !value.contains(['"', '\'', file.escape]) {
        format!("\"{value}\"")
    } else {
        return Some(finding.with_why("the value mixes quotes or escapes: rewrite it by hand to be sure it keeps its meaning"));
    };
    let range = inst.logical.source_range(inst.args.clone());
    let fix = Fix::safe(format!("Write `{key}={quoted}`"), vec![Edit::replace(range, format!("{key}={quoted}"))]);
    Some(finding.with_fix(fix))
}

/// `"..."` or `'...'` as one whole shell word: keeping it verbatim after `key=` keeps its value.
fn is_one_quoted_word(value: &str, escape: char) -> bool {
    let words = split_words(value, escape);
    if words.len() != 1 || words[0].raw != value {
        return false;
    }
    let Some(q) = value.chars().next().filter(|c| *c == '"' || *c == '\'') else { return false };
    // The closing quote must be the last character and the only unescaped one.
    value.len() >= 2 && value.ends_with(q) && {
        let inner = &value[1..value.len() - 1];
        if q == '\'' {
            !inner.contains('\'')
        } else {
            let mut escaped = false;
            inner.chars().all(|c| {
                let ok = escaped || c != '"';
                escaped = !escaped && c == escape;
                ok
            })
        }
    }
}

fn add_to_copy(file: &Dockerfile, inst: &Instruction, workdir_set: bool) -> Option<Finding> {
    if inst.flags.iter().any(|f| matches!(f.name.as_str(), "checksum" | "keep-git-dir" | "unpack")) || !inst.heredocs.is_empty() {
        return None;
    }
    let mut paths: Vec<String> = match &inst.exec {
        Some(list) => list.clone(),
        None => split_words(inst.args_text(), file.escape).iter().map(|w| w.unquoted(file.escape)).collect(),
    };
    let destination = paths.pop().unwrap_or_default();
    let sources = paths;
    if sources.is_empty() || sources.iter().any(|s| is_remote(s)) {
        return None;
    }
    let finding = Finding::new(&checks::MODERNIZE_ADD_TO_COPY, inst.keyword_span.clone(), "ADD of local files: use COPY")
        .with_why("ADD also unpacks archives and downloads URLs; COPY says exactly what happens (hadolint DL3020)");
    if let Some(reason) = sources.iter().find_map(|s| why_not_plain(s)) {
        return Some(finding.with_why(reason));
    }
    if !workdir_set && !destination.starts_with(['/', '$']) {
        return Some(finding.with_why(format!(
            "the destination `{destination}` is relative and no WORKDIR precedes it in this stage: it depends on the base image's working directory, and hadolint flags such a COPY (DL3045); set a WORKDIR or an absolute destination, then use COPY"
        )));
    }
    let written = &file.source[inst.keyword_span.clone()];
    let edit = Edit::replace(inst.keyword_span.clone(), Keyword::Copy.spelled_like(written));
    Some(finding.with_fix(Fix::safe("Replace ADD with COPY", vec![edit])))
}

fn is_remote(source: &str) -> bool {
    let s = source.to_ascii_lowercase();
    s.contains("://") || s.starts_with("git@") || s.ends_with(".git") || s.contains(".git#")
}

/// Why ADD of `source` may do more than copy, if it may.
fn why_not_plain(source: &str) -> Option<String> {
    if source.contains('$') {
        return Some(format!("`{source}` depends on a variable: it could name an archive ADD would unpack"));
    }
    let name = source.trim_end_matches('/').rsplit('/').next().unwrap_or(source).to_ascii_lowercase();
    if ARCHIVE_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return Some(format!("`{source}` looks like an archive: ADD unpacks it, COPY would not"));
    }
    if name.contains(['*', '?', '[']) {
        // A wildcard is safe only when its name ends in a literal, non-archive extension.
        let literal_ext = name.rsplit_once('.').map(|(_, ext)| ext).filter(|ext| !ext.is_empty() && !ext.contains(['*', '?', '[']));
        if literal_ext.is_none() {
            return Some(format!("`{source}` is a wildcard that could match an archive ADD would unpack"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_quoting_escapes_what_buildkit_would_process() {
        assert_eq!(double_quoted(r#"A "B" $C \D"#, '\\'), r#""A \"B\" \$C \\D""#);
        assert_eq!(double_quoted("a`b", '`'), "\"a``b\"");
    }

    #[test]
    fn one_quoted_word() {
        assert!(is_one_quoted_word("\"a b\"", '\\'));
        assert!(is_one_quoted_word("'a b'", '\\'));
        assert!(!is_one_quoted_word("\"a\" b", '\\'));
        assert!(!is_one_quoted_word("\"a\"b\"", '\\'));
        assert!(is_one_quoted_word(r#""a\"b""#, '\\'));
    }

    #[test]
    fn archives_and_wildcards_keep_add() {
        assert!(why_not_plain("rootfs.tar.gz").is_some());
        assert!(why_not_plain("*").is_some());
        assert!(why_not_plain("$SRC").is_some());
        assert!(why_not_plain("*.sh").is_none());
        assert!(why_not_plain("app/").is_none());
        assert!(why_not_plain("config.json").is_none());
    }
}
