//! Paths relative to a working directory the Dockerfile never set: a COPY to a relative
//! destination before any WORKDIR (hadolint DL3045), a relative WORKDIR (hadolint DL3000, BuildKit's
//! WorkdirRelativePath). Where they land depends on the base image's WORKDIR; the fix writes the
//! absolute path when the file itself decides it (an earlier absolute WORKDIR), or, Unsafe, when
//! `knowledge/base-images.toml` documents the base image's WORKDIR.

use crate::checks;
use crate::fix::{Edit, Finding, Fix};
use crate::knowledge::base_images;
use crate::model::{Dir, Input};
use crate::syntax::{split_words, Keyword};

use super::base;

pub(super) fn check(input: &Input) -> Vec<Finding> {
    let file = input.file;
    let mut findings = Vec::new();
    for (index, inst) in file.instructions.iter().enumerate() {
        if inst.sub.is_some() || input.model().stage_of(index).is_none() {
            continue;
        }
        match inst.keyword {
            Keyword::Copy => findings.extend(copy_destination(input, index)),
            Keyword::Workdir => findings.extend(relative_workdir(input, index)),
            _ => {}
        }
    }
    findings
}

/// The absolute directory a relative path at instruction `index` resolves against, and whether
/// only the knowledge decides it (`true`: the base image's documented WORKDIR).
fn anchor(input: &Input, index: usize) -> Option<(Dir, bool)> {
    let model = input.model();
    let dir = model.workdir(index)?;
    if dir.is_absolute() {
        return Some((dir.clone(), false));
    }
    let image = base::image(input, index)?;
    let documented = Dir::absolute(base_images::workdir(&image)?)?;
    // The path so far is relative to the image's WORKDIR: follow it from the documented one.
    let below = dir.below(&Dir::image())?;
    let dir = if below.is_empty() { documented } else { documented.join(&below.join("/"))? };
    Some((dir, true))
}

/// hadolint's DL3045: a COPY whose destination is relative while no WORKDIR was set in its stage
/// (or a stage it is built on).
fn copy_destination(input: &Input, index: usize) -> Option<Finding> {
    let file = input.file;
    let inst = &file.instructions[index];
    if input.model().workdir_set(index) && input.model().workdir(index).is_some_and(Dir::is_absolute) {
        return None;
    }
    let (dest_raw, dest_range) = match &inst.exec {
        Some(list) => (list.last()?.clone(), None),
        None => {
            let word = split_words(inst.args_text(), file.escape).pop()?;
            let logical = inst.args.start + word.range.start..inst.args.start + word.range.end;
            let contiguous = inst.logical.is_contiguous(logical.clone());
            (word.raw, contiguous.then(|| inst.logical.source_range(logical)))
        }
    };
    let dest = dest_raw.trim_matches(|c| c == '"' || c == '\'');
    if dest.starts_with('/') || dest.starts_with('$') || dest.get(1..).is_some_and(|d| d.starts_with(":\\") || d.starts_with(":/")) {
        return None;
    }
    let range = dest_range.clone().unwrap_or(inst.keyword_span.start..inst.args_source_range().end);
    let finding = Finding::new(&checks::LINT_FIXES_RELATIVE_DESTINATION, range, format!("COPY to relative `{dest}` with no WORKDIR set: where it lands depends on the base image's working directory"))
        .with_why("set a WORKDIR or write the destination as an absolute path (hadolint DL3045)");
    let Some(dest_range) = dest_range.filter(|_| dest == dest_raw && !dest.contains(['$', '\\', '*', '?'])) else {
        return Some(finding);
    };
    let Some((dir, from_knowledge)) = anchor(input, index) else {
        return Some(finding.with_why("the base image's WORKDIR is not known (transforms/knowledge/base-images.toml): set a WORKDIR or write the destination as an absolute path"));
    };
    let absolute = absolute_destination(&dir, dest)?;
    let title = format!("Write `{absolute}`");
    let edit = Edit::replace(dest_range, absolute.clone());
    Some(if from_knowledge {
        finding
            .with_why(format!("set a WORKDIR or write the destination as an absolute path (hadolint DL3045). Unsafe: `{absolute}` relies on the base image's documented WORKDIR (transforms/knowledge/base-images.toml); a tag that sets another would put the files elsewhere"))
            .with_fix(Fix::unsafe_(title, vec![edit]))
    } else {
        finding.with_fix(Fix::safe(title, vec![edit]))
    })
}

/// `dest` resolved against `dir`, a directory destination keeping its trailing `/`.
fn absolute_destination(dir: &Dir, dest: &str) -> Option<String> {
    let joined = dir.join(dest)?.path()?;
    let is_dir = dest.ends_with('/') || dest == "." || dest.ends_with("/.");
    Some(if is_dir && joined != "/" { format!("{joined}/") } else { joined })
}

/// hadolint's DL3000 (any relative WORKDIR) and BuildKit's WorkdirRelativePath (the first WORKDIR of
/// a stage's lineage, when relative).
fn relative_workdir(input: &Input, index: usize) -> Option<Finding> {
    let file = input.file;
    let inst = &file.instructions[index];
    let raw = inst.args_text().trim();
    let path = raw.trim_matches(|c| c == '"' || c == '\'');
    if path.is_empty() || path.starts_with('/') || path.starts_with('$') || path.get(1..).is_some_and(|p| p.starts_with(":\\") || p.starts_with(":/")) {
        return None;
    }
    let range = inst.args_source_range();
    let finding = Finding::new(&checks::LINT_FIXES_RELATIVE_WORKDIR, range.clone(), format!("relative `WORKDIR {path}`: it depends on the working directory before it"))
        .with_why("an absolute WORKDIR does not change when the base image does (hadolint DL3000, BuildKit's WorkdirRelativePath)");
    if path != raw || path.contains(['$', '\\', '~']) || !inst.logical.is_contiguous(inst.args.clone()) {
        return Some(finding);
    }
    let Some((dir, from_knowledge)) = anchor(input, index) else {
        return Some(finding.with_why("no absolute WORKDIR before it, and the base image's WORKDIR is not known (transforms/knowledge/base-images.toml): write the absolute path by hand"));
    };
    let absolute = dir.join(path)?.path()?;
    let title = format!("Write `WORKDIR {absolute}`");
    let edit = Edit::replace(range, absolute.clone());
    Some(if from_knowledge {
        finding
            .with_why(format!("an absolute WORKDIR does not change when the base image does (hadolint DL3000, BuildKit's WorkdirRelativePath). Unsafe: `{absolute}` relies on the base image's documented WORKDIR (transforms/knowledge/base-images.toml)"))
            .with_fix(Fix::unsafe_(title, vec![edit]))
    } else {
        finding.with_fix(Fix::safe(title, vec![edit]))
    })
}
