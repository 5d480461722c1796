//! Settings read from `dockopt.toml`. Unknown keys are an error (serde's deny_unknown_fields names the key).

use serde::{Deserialize, Deserializer};


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
    #[serde(default, deserialize_with = "image_globs")]
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
    #[serde(deserialize_with = "image_glob")]
    pub from: String,
    #[serde(deserialize_with = "image_reference")]
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

/// A character an image reference can have (`model::reference` parses them).
pub fn is_reference_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@' | '+' | '=')
}

/// Whether `pattern` can be a `[base]` glob: not empty, and only characters an image reference
/// has, besides the wildcards `*` and `?` (no `[…]` classes, blanks or variables: such a glob would
/// never match, silently).
pub fn check_image_glob(pattern: &str) -> Result<(), String> {
    if pattern.is_empty() {
        return Err("an empty glob matches no image".to_string());
    }
    match pattern.chars().find(|&c| !is_reference_char(c) && c != '*' && c != '?') {
        Some(c) => Err(format!(
            "glob `{pattern}`: `{c}` cannot appear in an image reference (a base glob's only wildcards are `*` and `?`)"
        )),
        None => Ok(()),
    }
}

// Checked while the deserializer holds the value, so a TOML error points at the very string (also
// inside an array), `path:line:col`.

/// A string that `check` accepts.
struct Checked(String);

struct CheckedVisitor(fn(&str) -> Result<(), String>);

impl serde::de::Visitor<'_> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Checked, E> {
        (self.0)(text).map_err(E::custom)?;
        Ok(Checked(text.to_string()))
    }
}

/// One `[base]` glob (see `check_image_glob`).
struct ImageGlob(String);

impl<'de> Deserialize<'de> for ImageGlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(CheckedVisitor(check_image_glob)).map(|c| ImageGlob(c.0))
    }
}

fn image_glob<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    ImageGlob::deserialize(d).map(|g| g.0)
}

fn image_globs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Vec::<ImageGlob>::deserialize(d).map(|globs| globs.into_iter().map(|g| g.0).collect())
}

fn image_reference<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let check = |text: &str| {
        if text.is_empty() || !text.chars().all(is_reference_char) {
            return Err(format!(
                "`{text}` is not an image reference (a replacement names one image: `name[:tag][@digest]`)"
            ));
        }
        Ok(())
    };
    d.deserialize_str(CheckedVisitor(check)).map(|c| c.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_globs_and_replacements_are_checked_where_they_are_written() {
        for bad in [
            "[base]\nallow = [\"python:*\", \"[\"]\n",
            "[[base.replace]]\nfrom = \"[\"\nto = \"python:3.12-slim\"\n",
            "[[base.replace]]\nfrom = \"\"\nto = \"python:3.12-slim\"\n",
            "[[base.replace]]\nfrom = \"python:*\"\nto = \"python:*-slim\"\n",
            "[[base.replace]]\nfrom = \"python:*\"\nto = \"py thon\"\n",
        ] {
            let error = toml::from_str::<Config>(bad).unwrap_err();
            let span = error.span().expect("a span");
            // The span is the offending string, not the table around it.
            assert!(bad[span].starts_with('"'), "{bad}: {error}");
        }
        let ok = "[base]\nallow = [\"registry.example.com:5000/core/*\", \"python:3.1?-slim\"]\n[[base.replace]]\nfrom = \"python:*\"\nto = \"python:3.12-slim@sha256:abc\"\n";
        assert!(Config::from_toml(ok).is_ok());
    }
}
