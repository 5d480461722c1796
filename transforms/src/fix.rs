//! The fix model: a transform never touches text, it returns byte-range edits.

use std::ops::Range;

use crate::checks::Check;

/// Replace `range` of the text the fix was computed on by `replacement`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Edit {
    pub range: Range<usize>,
    pub replacement: String,
}

impl Edit {
    pub fn replace(range: Range<usize>, replacement: impl Into<String>) -> Self {
        Edit { range, replacement: replacement.into() }
    }
    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Edit { range: at..at, replacement: text.into() }
    }
    pub fn delete(range: Range<usize>) -> Self {
        Edit { range, replacement: String::new() }
    }
}

/// Ordered like ruff's: a Safe fix is applicable wherever an Unsafe one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Could change what the built image does: applied only with `--unsafe`.
    Unsafe,
    /// Cannot change what the built image does: applied by default.
    Safe,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fix {
    pub title: String,
    /// Disjoint and sorted by start (asserted by `Fix::new`).
    pub edits: Vec<Edit>,
    pub applicability: Applicability,
}

impl Fix {
    pub fn new(title: impl Into<String>, mut edits: Vec<Edit>, applicability: Applicability) -> Self {
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        debug_assert!(
            edits.windows(2).all(|w| w[0].range.end <= w[1].range.start),
            "edits of one fix must not overlap"
        );
        Fix { title: title.into(), edits, applicability }
    }
    pub fn safe(title: impl Into<String>, edits: Vec<Edit>) -> Self {
        Fix::new(title, edits, Applicability::Safe)
    }
    pub fn unsafe_(title: impl Into<String>, edits: Vec<Edit>) -> Self {
        Fix::new(title, edits, Applicability::Unsafe)
    }
    /// The smallest range covering every edit.
    pub fn range(&self) -> Range<usize> {
        let start = self.edits.iter().map(|e| e.range.start).min().unwrap_or(0);
        let end = self.edits.iter().map(|e| e.range.end).max().unwrap_or(0);
        start..end
    }
}

/// What a transform reports: a problem at `range`, optionally with a fix.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The check's transform (`check.transform()`).
    pub transform: &'static str,
    /// The kind of finding (`run-cleanup/apt-lists`), registered in `checks.rs`.
    pub check: &'static Check,
    pub message: String,
    /// Why it matters or why no fix is offered; shown under the message.
    pub why: Option<String>,
    pub range: Range<usize>,
    pub fix: Option<Fix>,
}

impl Finding {
    pub fn new(check: &'static Check, range: Range<usize>, message: impl Into<String>) -> Self {
        Finding { transform: check.transform(), check, message: message.into(), why: None, range, fix: None }
    }
    pub fn with_why(mut self, why: impl Into<String>) -> Self {
        self.why = Some(why.into());
        self
    }
    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }
}

/// Apply disjoint, sorted edits to `text`.
pub fn apply_edits(text: &str, edits: &[&Edit]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for e in edits {
        assert!(e.range.start >= last && e.range.end <= text.len(), "edits must be disjoint and sorted");
        out.push_str(&text[last..e.range.start]);
        out.push_str(&e.replacement);
        last = e.range.end;
    }
    out.push_str(&text[last..]);
    out
}

/// A file other than the Dockerfile that a transform proposes, e.g. a `.dockerignore`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Artifact {
    pub transform: &'static str,
    /// Relative to the build context's root, `/`-separated.
    pub path: String,
    /// The file's current text (`None`: the file does not exist yet).
    pub original: Option<String>,
    /// The proposed text.
    pub text: String,
    pub applicability: Applicability,
}
