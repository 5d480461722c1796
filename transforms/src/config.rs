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
    /// The stage that is built and shipped (same as `--target`, `docker build --target`): the
    /// stages after it are not built. A Dockerfile without a stage of that name ships its last.
    #[serde(default)]
    pub target: Option<String>,
    /// Limit `run-cleanup`, `merge-runs`, `manifest-first` and the slim swaps of `approved-base`
    /// to the stages that reach the shipped image.
    #[serde(default, rename = "only-final-stage")]
    pub only_final_stage: bool,
    #[serde(default, rename = "run-cleanup")]
    pub run_cleanup: RunCleanupConfig,
    #[serde(default, rename = "merge-runs")]
    pub merge_runs: MergeRunsConfig,
    /// The base-image policy (`approved-base`).
    #[serde(default)]
    pub base: BaseConfig,
    /// `format = true`, or a `[format]` table: the style of `dockopt format` and whether `fix`
    /// and `check` format too.
    #[serde(default)]
    pub format: FormatConfig,
}


/// The `format` transform's style. Written `format = true` (the default style, and `fix`/`check`
/// format) or as a `[format]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct FormatConfig {
    /// `fix`, `check` and `diff` run `format` (it is not in the default set).
    pub enabled: bool,
    /// Continuation indentation; `None`: `.editorconfig`, then the file's own tabs, then 4 spaces.
    pub indent: Option<Indent>,
    pub operator: OperatorPlacement,
    /// Blank lines kept in a row.
    pub max_blank_lines: usize,
    pub final_newline: FinalNewline,
    /// Sort the package lists of apt-get/apk/dnf/yum/zypper installs.
    pub sort_packages: bool,
}

impl Default for FormatConfig {
    fn default() -> Self {
        FormatConfig {
            enabled: false,
            indent: None,
            operator: OperatorPlacement::First,
            max_blank_lines: 1,
            final_newline: FinalNewline::Always,
            sort_packages: false,
        }
    }
}

/// One level of continuation indentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indent {
    Spaces(usize),
    Tab,
}

/// Where `&&`, `||`, `|` and `;` go when a command list is continued on the next line.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OperatorPlacement {
    /// At the start of the continued line: `a \` / `    && b`.
    #[default]
    First,
    /// At the end of the line: `a && \` / `    b`.
    Last,
    /// As written.
    Keep,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FinalNewline {
    /// The file ends with a line break.
    #[default]
    Always,
    /// A file without a final line break keeps none.
    Keep,
}

/// The `[format]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FormatTable {
    #[serde(default)]
    enabled: bool,
    #[serde(default)]
    indent: Option<IndentValue>,
    #[serde(default)]
    operator: OperatorPlacement,
    #[serde(default = "one")]
    max_blank_lines: usize,
    #[serde(default)]
    final_newline: FinalNewline,
    #[serde(default)]
    sort_packages: bool,
}

fn one() -> usize {
    1
}

/// `indent = 4` or `indent = "tab"`.
#[derive(Deserialize)]
#[serde(untagged)]
enum IndentValue {
    Width(usize),
    Name(String),
}

impl<'de> Deserialize<'de> for FormatConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = FormatConfig;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`format = true`/`false` or a `[format]` table")
            }
            fn visit_bool<E: serde::de::Error>(self, enabled: bool) -> Result<FormatConfig, E> {
                Ok(FormatConfig { enabled, ..FormatConfig::default() })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<FormatConfig, A::Error> {
                use serde::de::Error;
                let table = FormatTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                let indent = match table.indent {
                    None => None,
                    Some(IndentValue::Width(n)) if (1..=16).contains(&n) => Some(Indent::Spaces(n)),
                    Some(IndentValue::Name(name)) if name == "tab" => Some(Indent::Tab),
                    Some(IndentValue::Width(n)) => return Err(A::Error::custom(format!("indent = {n}: use 1 to 16 spaces or \"tab\""))),
                    Some(IndentValue::Name(name)) => return Err(A::Error::custom(format!("indent = {name:?}: use a number of spaces or \"tab\""))),
                };
                Ok(FormatConfig {
                    enabled: table.enabled,
                    indent,
                    operator: table.operator,
                    max_blank_lines: table.max_blank_lines,
                    final_newline: table.final_newline,
                    sort_packages: table.sort_packages,
                })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
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

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MergeRunsConfig {
    /// Also merge the RUNs of stages whose layers do not ship (build stages).
    #[serde(default)]
    pub build_stages: bool,
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
    /// For a transform outside the default set (`format`): whether the config turns it on.
    /// `None` for the others (they run unless `select` leaves them out).
    pub fn opt_in(&self, transform: &str) -> Option<bool> {
        (transform == "format").then_some(self.format.enabled)
    }

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

    #[test]
    fn format_is_a_switch_or_a_table() {
        assert!(Config::from_toml("format = true").unwrap().format.enabled);
        let c = Config::from_toml("[format]\nindent = \"tab\"\noperator = \"keep\"\nmax-blank-lines = 2\nsort-packages = true\n").unwrap();
        assert_eq!(c.format.indent, Some(Indent::Tab));
        assert_eq!(c.format.operator, OperatorPlacement::Keep);
        assert_eq!(c.format.max_blank_lines, 2);
        assert!(c.format.sort_packages && !c.format.enabled);
        assert_eq!(Config::from_toml("[format]\nindent = 2").unwrap().format.indent, Some(Indent::Spaces(2)));
        assert_eq!(Config::from_toml("").unwrap().format, FormatConfig::default());
        let e = Config::from_toml("[format]\nindnet = 2").unwrap_err();
        assert!(e.contains("indnet"), "{e}");
        assert!(Config::from_toml("[format]\nindent = 0").unwrap_err().contains("1 to 16"));
        assert!(Config::from_toml("[format]\noperator = \"middle\"").is_err());
    }
}
