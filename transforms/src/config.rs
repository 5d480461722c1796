//! Settings read from `dockopt.toml`. Unknown keys are an error (serde's deny_unknown_fields names the key).

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Apply Unsafe fixes too (same as `--unsafe`).
    #[serde(default, rename = "unsafe")]
    pub unsafe_fixes: Option<bool>,
    /// Only these transforms (same as `--select`).
    #[serde(default)]
    pub select: Option<Vec<String>>,
    /// Never these transforms (same as `--ignore`).
    #[serde(default)]
    pub ignore: Option<Vec<String>>,
    /// Paths the CLI skips when it walks directories: gitignore-style patterns relative to the
    /// config file's folder (same as `--exclude`). A file named on the command line is still read.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Limit `run-cleanup`, `merge-runs`, `manifest-first` and the slim swaps of `approved-base`
    /// to the stages that reach the shipped image.
    #[serde(default, rename = "only-final-stage")]
    pub only_final_stage: bool,
    #[serde(default, rename = "run-cleanup")]
    pub run_cleanup: RunCleanupConfig,
    /// The base-image policy (`approved-base`).
    #[serde(default)]
    pub base: BaseConfig,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BaseConfig {
    /// Globs on the image reference; empty = every image allowed.
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub pin: PinPolicy,
    /// The organisation's own replacements: applied as Safe fixes.
    #[serde(default)]
    pub replace: Vec<ReplaceRule>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PinPolicy {
    /// Untagged and `:latest` references are findings.
    #[default]
    Tag,
    /// Every reference needs `@sha256:...`.
    Digest,
    None,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReplaceRule {
    /// Glob on the reference as written.
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunCleanupConfig {
    #[serde(default)]
    pub cache: CacheMode,
}

/// How package caches are kept out of layers.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CacheMode {
    /// Delete them in the RUN that made them.
    #[default]
    Clean,
    /// Keep them in BuildKit cache mounts (`RUN --mount=type=cache,...`).
    Mount,
}

impl Config {
    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}
