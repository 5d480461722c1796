//! The transform catalog: every transform registered once, by its stable kebab-case name.

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
}

static CATALOG: &[TransformInfo] = &[
    TransformInfo {
        name: "run-cleanup",
        summary: "Each RUN cleans up its package manager's caches and indexes in the same layer",
        safety: "Safe or Unsafe",
        doc: crate::run_cleanup::DOC,
        run: crate::run_cleanup::run,
        artifacts: None,
    },
    TransformInfo {
        name: "merge-runs",
        summary: "Merge consecutive RUNs of a stage into one, and move standalone cleanup into the RUN that made the mess",
        safety: "Safe or Unsafe",
        doc: crate::merge_runs::DOC,
        run: crate::merge_runs::run,
        artifacts: None,
    },
    TransformInfo {
        name: "manifest-first",
        summary: "Copy the dependency manifests and install the dependencies before copying the whole build context",
        safety: "Safe or Unsafe",
        doc: crate::manifest_first::DOC,
        run: crate::manifest_first::run,
        artifacts: None,
    },
    TransformInfo {
        name: "multi-stage",
        summary: "Split a single-stage image that compiles inside itself into a build stage and a small runtime stage",
        safety: "Unsafe",
        doc: crate::multi_stage::DOC,
        run: crate::multi_stage::run,
        artifacts: None,
    },
    TransformInfo {
        name: "approved-base",
        summary: "Base images follow the allow-list and pinning policy; heavy bases become approved slim ones",
        safety: "Safe or Unsafe",
        doc: crate::approved_base::DOC,
        run: crate::approved_base::run,
        artifacts: None,
    },
    TransformInfo {
        name: "dockerignore",
        summary: "Generate a .dockerignore that fits the build context, never excluding what the build needs",
        safety: "Safe or Unsafe",
        doc: crate::dockerignore::DOC,
        run: crate::dockerignore::run,
        artifacts: Some(crate::dockerignore::artifacts),
    },
    TransformInfo {
        name: "modernize",
        summary: "Replace deprecated instruction forms: MAINTAINER, legacy `ENV key value`, ADD of local files",
        safety: "Safe",
        doc: crate::modernize::DOC,
        run: crate::modernize::run,
        artifacts: None,
    },
];

pub fn catalog() -> &'static [TransformInfo] {
    CATALOG
}

pub fn find_transform(name: &str) -> Option<&'static TransformInfo> {
    CATALOG.iter().find(|t| t.name == name)
}

// Defined here rather than beside `Settings`: checking names needs the catalog, which sits above
// the settings in the layers (docs/architecture.md).
impl Settings {
    /// Every name in select/ignore must be a transform: a typo must not silently select nothing.
    pub fn validate(&self) -> Result<(), String> {
        let names = self.select.iter().flatten().chain(self.ignore.iter());
        for name in names {
            if name != "all" && find_transform(name).is_none() {
                let known: Vec<&str> = catalog().iter().map(|t| t.name).collect();
                return Err(format!("unknown transform `{name}` (known: {})", known.join(", ")));
            }
        }
        Ok(())
    }
}
