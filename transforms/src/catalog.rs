//! The transform catalog: every transform registered once, by its stable kebab-case name.

use crate::fix::Finding;
use crate::syntax::Dockerfile;
use crate::{Context, Settings};

/// What a transform sees: the parsed file and the world around it.
pub struct Input<'a> {
    pub file: &'a Dockerfile,
    pub context: &'a Context,
    pub settings: &'a Settings,
}

impl Input<'_> {
    pub fn source(&self) -> &str {
        &self.file.source
    }
}

pub struct TransformInfo {
    /// Stable, kebab-case: what users type in `--select`, `--ignore` and config.
    pub name: &'static str,
    pub summary: &'static str,
    /// "Safe", "Unsafe" or "Safe or Unsafe": the strongest applicability its fixes can have.
    pub safety: &'static str,
    /// The module's documentation (What it does / Why is this bad? / Example / Fix safety).
    pub doc: &'static str,
    pub run: fn(&Input) -> Vec<Finding>,
}

static CATALOG: &[TransformInfo] = &[TransformInfo {
    name: "modernize",
    summary: "Replace deprecated instruction forms: MAINTAINER, legacy `ENV key value`, ADD of local files",
    safety: "Safe",
    doc: crate::modernize::DOC,
    run: crate::modernize::run,
}];

pub fn catalog() -> &'static [TransformInfo] {
    CATALOG
}

pub fn find_transform(name: &str) -> Option<&'static TransformInfo> {
    CATALOG.iter().find(|t| t.name == name)
}
