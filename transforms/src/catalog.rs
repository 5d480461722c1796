//! The transform catalog: every transform registered once, by its stable kebab-case name.

use crate::checks;
use crate::fix::{Artifact, Finding};
use crate::model::Input;
use crate::settings::Settings;

pub struct TransformInfo {
    /// Stable, kebab-case: what users type in `--select`, `--ignore` and config.
    pub name: &'static str,
    pub summary: &'static str,
    /// "Safe", "Unsafe" or "Safe or Unsafe": the strongest applicability its fixes can have.
    pub safety: &'static str,
    /// The module's documentation (What it does / Why is this bad? / Example / Fix safety).
    pub doc: &'static str,
    pub run: fn(&Input) -> Vec<Finding>,
    /// Extra files the transform proposes, computed once the Dockerfile is final.
    pub artifacts: Option<fn(&Input) -> Vec<Artifact>>,
    /// Runs only on text the other transforms left alone (a formatter sees their final output),
    /// and is not run again on its own output: it must be idempotent (the corpus tests check it).
    pub runs_last: bool,
}

static CATALOG: &[TransformInfo] = &[
    TransformInfo {
        name: "run-cleanup",
        summary: "Each RUN cleans up its package manager's caches and indexes in the same layer",
        safety: "Safe or Unsafe",
        doc: crate::run_cleanup::DOC,
        run: crate::run_cleanup::run,
        artifacts: None,
        runs_last: false,
    },
    TransformInfo {
        name: "merge-runs",
        summary: "Merge consecutive RUNs of a stage into one, and move standalone cleanup into the RUN that made the mess",
        safety: "Safe or Unsafe",
        doc: crate::merge_runs::DOC,
        run: crate::merge_runs::run,
        artifacts: None,
        runs_last: false,
    },
    TransformInfo {
        name: "manifest-first",
        summary: "Copy the dependency manifests and install the dependencies before copying the whole build context",
        safety: "Safe or Unsafe",
        doc: crate::manifest_first::DOC,
        run: crate::manifest_first::run,
        artifacts: None,
        runs_last: false,
    },
    TransformInfo {
        name: "multi-stage",
        summary: "Split a single-stage image that compiles inside itself into a build stage and a small runtime stage",
        safety: "Unsafe",
        doc: crate::multi_stage::DOC,
        run: crate::multi_stage::run,
        artifacts: None,
        runs_last: false,
    },
    TransformInfo {
        name: "layer-waste",
        summary: "Keep bytes out of the shipped layers: COPY --chown instead of chown -R, archives deleted once unpacked, build packages purged in the RUN that used them, deletes in the layer that created the files",
        safety: "Safe or Unsafe",
        doc: crate::layer_waste::DOC,
        run: crate::layer_waste::run,
        artifacts: None,
        runs_last: false,
    },
    TransformInfo {
        name: "approved-base",
        summary: "Base images follow the allow-list and pinning policy; heavy bases become approved slim ones",
        safety: "Safe or Unsafe",
        doc: crate::approved_base::DOC,
        run: crate::approved_base::run,
        artifacts: None,
        runs_last: false,
    },
    TransformInfo {
        name: "dockerignore",
        summary: "Generate a .dockerignore that fits the build context, never excluding what the build needs",
        safety: "Safe or Unsafe",
        doc: crate::dockerignore::DOC,
        run: crate::dockerignore::run,
        artifacts: Some(crate::dockerignore::artifacts),
        runs_last: false,
    },
    TransformInfo {
        name: "modernize",
        summary: "Replace deprecated instruction forms: MAINTAINER, legacy `ENV key value`, ADD of local files",
        safety: "Safe",
        doc: crate::modernize::DOC,
        run: crate::modernize::run,
        artifacts: None,
        runs_last: false,
    },
    TransformInfo {
        name: "lint-fixes",
        summary: "Fix what hadolint and BuildKit's build checks report: pipefail, exec form, `cd`, wget progress, relative paths, repeated CMDs",
        safety: "Safe or Unsafe",
        doc: crate::lint_fixes::DOC,
        run: crate::lint_fixes::run,
        artifacts: None,
        runs_last: false,
    },
    TransformInfo {
        name: "format",
        summary: "Format the Dockerfile without changing what BuildKit reads (not in the default set: `dockopt format`, `--select format`, `format = true`)",
        safety: "Safe",
        doc: crate::format::DOC,
        run: crate::format::run,
        artifacts: None,
        runs_last: true,
    },
];

pub fn catalog() -> &'static [TransformInfo] {
    CATALOG
}

pub fn find_transform(name: &str) -> Option<&'static TransformInfo> {
    CATALOG.iter().find(|t| t.name == name)
}

/// Where a name of checks is used: `--select` must select something; `--ignore` also takes a
/// hadolint or BuildKit code that no dockopt check relates to (a `.hadolint.yaml` list has many).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    Select,
    Ignore,
}

/// Check one name of `--select`/`--ignore`/config: `all`, a transform, a check id (`run-cleanup/apt-lists`),
/// a hadolint code (`DL3009`) or a BuildKit check (`LegacyKeyValueFormat`). A typo must not
/// silently select or ignore nothing: the error suggests the closest name.
pub fn check_selector(name: &str, role: Selector) -> Result<(), String> {
    if name == "all" || find_transform(name).is_some() || checks::ALL.iter().any(|c| c.matches(name)) {
        return Ok(());
    }
    let hadolint = checks::is_hadolint_code(name);
    let buildkit = checks::BUILDKIT_CHECKS.contains(&name);
    if hadolint || buildkit {
        if role == Selector::Ignore {
            return Ok(());
        }
        let whose = if hadolint { "hadolint's" } else { "BuildKit's" };
        return Err(format!("no dockopt check fixes what {whose} `{name}` reports (`dockopt transforms --checks` lists the checks and their codes)"));
    }
    let known = catalog().iter().map(|t| t.name).chain(checks::ALL.iter().map(|c| c.id)).chain(checks::BUILDKIT_CHECKS.iter().copied());
    let hint = match checks::suggest(name, known) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!(
            "a transform ({}), a check id (`dockopt transforms --checks`) or a hadolint code",
            catalog().iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
        ),
    };
    Err(format!("unknown check or transform `{name}` ({hint})"))
}

/// The documentation `dockopt explain NAME` prints for a transform, a check id or a hadolint or
/// BuildKit code; `None` when NAME is none of those.
pub fn explain(name: &str) -> Option<String> {
    if let Some(info) = find_transform(name) {
        let doc = info.doc.trim();
        return Some(if doc.starts_with("# ") { format!("{doc}\n") } else { format!("# {}\n\n{doc}\n", info.name) });
    }
    let related: Vec<&checks::Check> = checks::ALL.iter().copied().filter(|c| c.matches(name)).collect();
    if related.is_empty() {
        return None;
    }
    let mut out = String::new();
    if let [check] = related.as_slice() {
        if check.id == name {
            out.push_str(&format!("# {}\n\n{}.\n\n", check.id, check.summary));
            let codes = [("hadolint", check.hadolint), ("BuildKit", check.buildkit)];
            for (tool, list) in codes.iter().filter(|(_, list)| !list.is_empty()) {
                out.push_str(&format!("Fixes what {tool}'s {} reports.\n", list.join(", ")));
            }
            let transform = check.transform();
            out.push_str(&format!("Part of `{transform}`: `dockopt explain {transform}` documents it.\n"));
            return Some(out);
        }
    }
    out.push_str(&format!("# {name}\n\nThe dockopt checks that fix what `{name}` reports:\n\n"));
    for check in related {
        out.push_str(&format!("- `{}`: {}\n", check.id, check.summary));
    }
    Some(out)
}

// Defined here rather than beside `Settings`: checking names needs the catalog, which sits above
// the settings in the layers (docs/architecture.md).
impl Settings {
    /// Every name in select/ignore must name something (see `check_selector`).
    pub fn validate(&self) -> Result<(), String> {
        for name in self.select.iter().flatten() {
            check_selector(name, Selector::Select)?;
        }
        for name in &self.ignore {
            check_selector(name, Selector::Ignore)?;
        }
        Ok(())
    }
}
