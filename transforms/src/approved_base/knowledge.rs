//! The built-in slim map and what slim variants lack, read from `knowledge/slim-bases.toml`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::reference::ImageRef;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Knowledge {
    pub suites: Vec<String>,
    pub windows_markers: Vec<String>,
    pub family: Vec<Family>,
    pub libc: LibcKnowledge,
    pub tool: BTreeMap<String, Tool>,
    pub build: Vec<BuildStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Family {
    /// A Docker Hub official image (`python` = `docker.io/library/python`).
    pub repository: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub tags: Vec<TagRule>,
    /// Keys of `tool`.
    pub lacks: Vec<String>,
    /// What the slim variant leaves out, in words (shown instead of the `lacks` list).
    #[serde(default)]
    pub drops: Option<String>,
    /// `{major}` must be one of these.
    #[serde(default)]
    pub majors: Vec<u32>,
    /// The swap is only offered for stages that run none of `build_tools`.
    #[serde(default)]
    pub runtime_only: bool,
    #[serde(default)]
    pub build_tools: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TagRule {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct LibcKnowledge {
    pub musl_markers: Vec<String>,
    pub glibc_repositories: Vec<String>,
    pub glibc_tag_markers: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Tool {
    #[serde(default)]
    pub commands: Vec<String>,
    pub packages: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BuildStep {
    pub program: String,
    /// The first positional; `""` = none; empty list = any.
    #[serde(default)]
    pub subcommands: Vec<String>,
    #[serde(default)]
    pub needs: Vec<String>,
    #[serde(default)]
    pub why: Option<String>,
    #[serde(default)]
    pub packages: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub prefixes: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub maybe: Option<String>,
}

pub(crate) fn knowledge() -> &'static Knowledge {
    crate::knowledge::parsed!("slim-bases.toml", Knowledge)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Libc {
    Glibc,
    Musl,
    Unknown,
}

impl Libc {
    pub fn describe(self) -> &'static str {
        match self {
            Libc::Glibc => "glibc-based",
            Libc::Musl => "musl-based (Alpine)",
            Libc::Unknown => "of unknown libc",
        }
    }
}

/// A slim swap the built-in map proposes.
#[derive(Debug, Clone)]
pub(crate) struct SlimSwap {
    pub family: &'static Family,
    /// The new reference text (without digest), keeping the written registry/path spelling.
    pub to: String,
    /// True when only the tag changes (the edit can be limited to it).
    pub same_repository: bool,
    pub new_tag: String,
}

impl Knowledge {
    pub fn family(&self, image: &ImageRef) -> Option<&Family> {
        let name = image.official_name()?;
        self.family.iter().find(|f| f.repository == name)
    }

    pub fn is_windows(&self, text: &str) -> bool {
        let text = text.to_ascii_lowercase();
        self.windows_markers.iter().any(|m| text.contains(m.as_str()))
    }

    pub fn libc(&self, image: &ImageRef) -> Libc {
        let path = image.repository();
        let tag = image.tag().unwrap_or("").to_ascii_lowercase();
        let musl = |s: &str| self.libc.musl_markers.iter().any(|m| s.contains(m.as_str()));
        if path.split('/').any(musl) || musl(&tag) {
            return Libc::Musl;
        }
        let last = path.rsplit('/').next().unwrap_or(&path);
        let known_repository = self.libc.glibc_repositories.iter().any(|r| r == last || path.ends_with(&format!("/{r}")) || path == *r);
        let tag_says_glibc = tag
            .split(['-', '.', '_'])
            .any(|part| self.libc.glibc_tag_markers.iter().chain(&self.suites).any(|m| m == part));
        if known_repository || tag_says_glibc {
            Libc::Glibc
        } else {
            Libc::Unknown
        }
    }

    /// The built-in slim counterpart of `image`, if the map knows one.
    pub fn slim_swap(&'static self, image: &ImageRef) -> Option<SlimSwap> {
        let family = self.family(image)?;
        let tag = image.tag()?;
        for rule in &family.tags {
            let Some(bound) = self.match_tag(family, &rule.from, tag) else { continue };
            let to = self.fill(&rule.to, &bound)?;
            if let Some((repository, new_tag)) = to.split_once(':') {
                if let Some(major) = bound.major() {
                    if !family.majors.is_empty() && !family.majors.contains(&major) {
                        return None;
                    }
                }
                // Keep the written registry prefix (`docker.io/library/`) in front of the new name.
                let written = image.written_name();
                let prefix = written.strip_suffix(&image.text[image.path.clone()]).unwrap_or("");
                let path = &image.text[image.path.clone()];
                let path_prefix = path.strip_suffix(family.repository.as_str()).unwrap_or("");
                return Some(SlimSwap {
                    family,
                    to: format!("{prefix}{path_prefix}{repository}:{new_tag}"),
                    same_repository: false,
                    new_tag: new_tag.to_string(),
                });
            }
            return Some(SlimSwap { family, to: format!("{}:{to}", image.written_name()), same_repository: true, new_tag: to });
        }
        None
    }

    fn match_tag(&self, family: &Family, pattern: &str, tag: &str) -> Option<Bound> {
        let mut bound = Bound::default();
        self.match_from(family, pattern, tag, &mut bound).then_some(bound)
    }

    fn match_from(&self, family: &Family, pattern: &str, tag: &str, bound: &mut Bound) -> bool {
        if pattern.is_empty() {
            return tag.is_empty();
        }
        for (placeholder, is_version) in [("{version}", true), ("{suite}", false)] {
            let Some(rest) = pattern.strip_prefix(placeholder) else { continue };
            // Try every split; tags are short.
            for end in (1..=tag.len()).rev() {
                if !tag.is_char_boundary(end) {
                    continue;
                }
                let candidate = &tag[..end];
                let fits = if is_version {
                    is_version_text(candidate) || family.aliases.iter().any(|a| a == candidate)
                } else {
                    self.suites.iter().any(|s| s == candidate) || (family.repository == "debian" && family.aliases.iter().any(|a| a == candidate))
                };
                if fits && self.match_from(family, rest, &tag[end..], bound) {
                    if is_version {
                        bound.version = Some(candidate.to_string());
                    } else {
                        bound.suite = Some(candidate.to_string());
                    }
                    return true;
                }
            }
            return false;
        }
        let literal_len = pattern.find('{').unwrap_or(pattern.len()).max(1).min(pattern.len());
        let literal = &pattern[..literal_len];
        tag.strip_prefix(literal).is_some_and(|rest| self.match_from(family, &pattern[literal_len..], rest, bound))
    }

    fn fill(&self, pattern: &str, bound: &Bound) -> Option<String> {
        let mut out = pattern.to_string();
        if out.contains("{version}") {
            out = out.replace("{version}", bound.version.as_deref()?);
        }
        if out.contains("{suite}") {
            out = out.replace("{suite}", bound.suite.as_deref()?);
        }
        if out.contains("{major}") {
            out = out.replace("{major}", &bound.major()?.to_string());
        }
        Some(out)
    }

    /// The tool that `command` (a basename) runs, if a slim variant may lack it.
    pub fn tool_of_command(&self, command: &str) -> Option<&str> {
        self.tool.iter().find(|(_, t)| t.commands.iter().any(|c| c == command)).map(|(name, _)| name.as_str())
    }

    /// Tools that installing the Debian package `package` provides.
    pub fn tools_of_package<'a>(&'a self, package: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.tool.iter().filter(move |(_, t)| t.packages.iter().any(|p| p == package)).map(|(name, _)| name.as_str())
    }
}

#[derive(Debug, Default)]
struct Bound {
    version: Option<String>,
    suite: Option<String>,
}

impl Bound {
    fn major(&self) -> Option<u32> {
        let version = self.version.as_deref()?;
        let digits: String = version.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    }
}

/// `3`, `3.12`, `3.12.4`, `3.13.0rc1`: digits and dots, optionally a pre-release suffix.
fn is_version_text(text: &str) -> bool {
    let numeric_end = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (numeric, suffix) = text.split_at(numeric_end);
    let numeric_ok = !numeric.is_empty()
        && numeric.split('.').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()));
    let suffix_ok = suffix.is_empty()
        || ["a", "b", "rc"].iter().any(|pre| suffix.strip_prefix(pre).is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())));
    numeric_ok && suffix_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swap(text: &str) -> Option<String> {
        knowledge().slim_swap(&ImageRef::parse(text).unwrap()).map(|s| s.to)
    }

    #[test]
    fn the_knowledge_file_parses_and_names_only_known_tools() {
        let k = knowledge();
        for family in &k.family {
            for tool in &family.lacks {
                assert!(k.tool.contains_key(tool), "{}: unknown tool {tool}", family.repository);
            }
        }
        for step in &k.build {
            for tool in step.needs.iter().chain(step.packages.values().flatten()).chain(step.prefixes.values().flatten()) {
                assert!(k.tool.contains_key(tool), "{}: unknown tool {tool}", step.program);
            }
        }
    }

    #[test]
    fn maps_full_tags_to_slim_ones() {
        assert_eq!(swap("python:3.12").as_deref(), Some("python:3.12-slim"));
        assert_eq!(swap("python:3.12.4-bookworm").as_deref(), Some("python:3.12.4-slim-bookworm"));
        assert_eq!(swap("python:3.13.0rc1").as_deref(), Some("python:3.13.0rc1-slim"));
        assert_eq!(swap("docker.io/library/python:3.12").as_deref(), Some("docker.io/library/python:3.12-slim"));
        assert_eq!(swap("node:20").as_deref(), Some("node:20-slim"));
        assert_eq!(swap("node:lts").as_deref(), Some("node:lts-slim"));
        assert_eq!(swap("node:20-bookworm").as_deref(), Some("node:20-bookworm-slim"));
        assert_eq!(swap("debian:bookworm").as_deref(), Some("debian:bookworm-slim"));
        assert_eq!(swap("debian:12").as_deref(), Some("debian:12-slim"));
        assert_eq!(swap("ruby:3.3").as_deref(), Some("ruby:3.3-slim"));
        assert_eq!(swap("openjdk:17").as_deref(), Some("eclipse-temurin:17-jre"));
        assert_eq!(swap("openjdk:11.0.3-jdk-slim").as_deref(), Some("eclipse-temurin:11-jre"));
        assert_eq!(swap("docker.io/library/openjdk:17-jdk").as_deref(), Some("docker.io/library/eclipse-temurin:17-jre"));
        assert_eq!(swap("docker.io/openjdk:17-jdk").as_deref(), Some("docker.io/eclipse-temurin:17-jre"));
    }

    #[test]
    fn leaves_slim_alpine_latest_and_unknown_tags_alone() {
        for kept in ["python:3.12-slim", "python:3.12-alpine", "python", "python:latest", "node:20-slim", "php:8.3-apache",
            "debian:bookworm-slim", "openjdk:16", "openjdk:8-jdk-alpine", "ghcr.io/acme/python:3.12", "python:3.12-windowsservercore"]
        {
            assert_eq!(swap(kept), None, "{kept}");
        }
    }

    #[test]
    fn libc_is_read_from_the_reference() {
        let k = knowledge();
        let libc = |t: &str| k.libc(&ImageRef::parse(t).unwrap());
        assert_eq!(libc("python:3.12-alpine"), Libc::Musl);
        assert_eq!(libc("alpine:3.20"), Libc::Musl);
        assert_eq!(libc("python:3.12"), Libc::Glibc);
        assert_eq!(libc("registry.example.com/core/ubuntu:22.04"), Libc::Glibc);
        assert_eq!(libc("gcr.io/distroless/static"), Libc::Unknown);
        assert_eq!(libc("acme/app:1-bookworm"), Libc::Glibc);
    }

    #[test]
    fn versions() {
        assert!(is_version_text("3"));
        assert!(is_version_text("3.12.4"));
        assert!(is_version_text("3.13.0rc1"));
        assert!(!is_version_text("3.12-slim"));
        assert!(!is_version_text("latest"));
        assert!(!is_version_text("3..1"));
    }
}
