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
}

impl Config {
    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}
