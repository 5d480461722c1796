//! What a base image gives a Dockerfile without the Dockerfile saying so (`/bin/sh`, bash, wget,
//! the WORKDIR), read from `knowledge/base-images.toml` (its header documents every key), and which
//! OS packages a RUN's command installs.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::package_managers::managers;
use crate::model::reference::{glob_matches, ImageRef};
use crate::model::Input;
use crate::shell::Command;
use crate::syntax::Keyword;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Knowledge {
    os: Vec<Os>,
    workdir: Vec<Workdir>,
    packaged_npm: Vec<PackagedNpm>,
    installs: BTreeMap<String, Vec<String>>,
}

/// The OS facts of a family of base images.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Os {
    images: Vec<String>,
    pub sh: Sh,
    pub bash: bool,
    pub wget: Wget,
}

/// What `/bin/sh` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Sh {
    /// Debian's dash: no `pipefail`.
    Dash,
    Bash,
    /// busybox ash: has `pipefail`.
    Ash,
}

/// Which wget a RUN finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Wget {
    Gnu,
    Busybox,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Workdir {
    images: Vec<String>,
    /// `None`: the images' working directory is not known.
    workdir: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackagedNpm {
    images: Vec<String>,
    major: u32,
}

fn knowledge() -> &'static Knowledge {
    super::parsed!("base-images.toml", Knowledge => Knowledge, |k: Knowledge| {
        match k.installs.keys().find(|name| !managers().iter().any(|m| &m.name == *name)) {
            Some(name) => Err(format!("[installs] `{name}` is not a table of package-managers.toml")),
            None => Ok(k),
        }
    })
}

/// The OS facts of `image`, when an entry names it.
pub(crate) fn os(image: &ImageRef) -> Option<&'static Os> {
    knowledge().os.iter().find(|os| os.images.iter().any(|g| glob_matches(g, image)))
}

/// The working directory `image` sets (`/` when it sets none), when known.
pub(crate) fn workdir(image: &ImageRef) -> Option<&'static str> {
    let entry = knowledge().workdir.iter().find(|w| w.images.iter().any(|g| glob_matches(g, image)))?;
    entry.workdir.as_deref()
}

/// The base image the stage of instruction `index` starts from, past the stages it is built on
/// (meta ARGs resolved).
pub(crate) fn image(input: &Input, index: usize) -> Option<ImageRef> {
    let model = input.model();
    let root = model.lineage(model.stage_of(index)?).last()?;
    let text = model.from_text(&input.file.stages[root].image);
    ImageRef::parse(text.trim_matches('"'))
}

/// Whether a RUN that ran before instruction `index` in its image installed OS package `package`.
pub(crate) fn installed(input: &Input, index: usize, package: &str) -> bool {
    input.model().earlier(index).into_iter().any(|i| {
        input.file.instructions[i].keyword == Keyword::Run
            && input.shell(i).is_some_and(|run| run.script.commands().iter().any(|c| installed_packages(c).iter().any(|p| p == package)))
    })
}

/// The major version of the npm that `image`'s package repositories install, when known.
pub(crate) fn packaged_npm_major(image: &ImageRef) -> Option<u32> {
    knowledge().packaged_npm.iter().find(|n| n.images.iter().any(|g| glob_matches(g, image))).map(|n| n.major)
}

/// The OS packages `command` installs (`apk add bash` → `bash`), names without version pins.
pub(crate) fn installed_packages(command: &Command) -> Vec<String> {
    let mut out = Vec::new();
    for (name, subcommands) in &knowledge().installs {
        let Some(manager) = managers().iter().find(|m| &m.name == name) else { continue };
        let Some(invocation) = manager.invocation(0, command) else { continue };
        let Some((subcommand, _)) = invocation.runs_any(subcommands) else { continue };
        let words = subcommand.split_whitespace().count();
        for package in invocation.positionals().into_iter().skip(words) {
            if let Some(text) = package.literal.as_deref() {
                let name = text.split(['=', '~', '<', '>']).next().unwrap_or(text);
                out.push(name.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::parse_script;

    fn image(text: &str) -> ImageRef {
        ImageRef::parse(text).unwrap()
    }

    #[test]
    fn families_of_common_images() {
        let sh = |text: &str| os(&image(text)).map(|os| os.sh);
        assert_eq!(sh("alpine:3.19"), Some(Sh::Ash));
        assert_eq!(sh("python:3.12-alpine"), Some(Sh::Ash));
        assert_eq!(sh("debian:bookworm-slim"), Some(Sh::Dash));
        assert_eq!(sh("python:3.12-slim"), Some(Sh::Dash));
        assert_eq!(sh("mirror.gcr.io/library/ubuntu:24.04"), Some(Sh::Dash), "a mirror of Docker Hub's");
        assert_eq!(sh("arm64v8/debian:12"), Some(Sh::Dash));
        assert_eq!(sh("fedora:40"), Some(Sh::Bash));
        assert_eq!(sh("mcr.microsoft.com/dotnet/sdk:8.0-cbl-mariner2.0"), Some(Sh::Bash));
        assert_eq!(sh("mcr.microsoft.com/dotnet/sdk:8.0"), Some(Sh::Dash));
        assert_eq!(sh("myorg/base:1"), None);
        assert!(os(&image("debian:12")).unwrap().bash);
        assert!(!os(&image("alpine")).unwrap().bash);
        assert_eq!(os(&image("alpine")).unwrap().wget, Wget::Busybox);
    }

    #[test]
    fn documented_workdirs() {
        let wd = |text: &str| workdir(&image(text));
        assert_eq!(wd("golang:1.22"), Some("/go"));
        assert_eq!(wd("golang:1.22-windowsservercore-ltsc2022"), None);
        assert_eq!(wd("php:8.3-apache"), Some("/var/www/html"));
        assert_eq!(wd("php:8.3-cli"), Some("/"));
        assert_eq!(wd("node:20-alpine"), Some("/"));
        assert_eq!(wd("myorg/base:1"), None);
    }

    #[test]
    fn npm_of_the_distributions() {
        let npm = |text: &str| packaged_npm_major(&image(text));
        assert_eq!(npm("debian:bookworm"), Some(9));
        assert_eq!(npm("debian:12.5-slim"), Some(9));
        assert_eq!(npm("debian:bullseye-slim"), Some(7));
        assert_eq!(npm("ubuntu:22.04"), Some(8));
        assert_eq!(npm("ubuntu:focal"), Some(6));
        assert_eq!(npm("debian:10"), Some(5));
        assert_eq!(npm("debian:120"), None);
        assert_eq!(npm("debian"), None, "latest moves from release to release");
        assert_eq!(npm("node:20"), None, "not a distribution's package");
    }

    #[test]
    fn packages_installed_by_a_command() {
        let installed = |script: &str| {
            let script = parse_script(script);
            script.commands().iter().flat_map(installed_packages).collect::<Vec<_>>()
        };
        assert_eq!(installed("apk add --no-cache bash curl"), ["bash", "curl"]);
        assert_eq!(installed("apt-get install -y --no-install-recommends bash=5.2-1 wget"), ["bash", "wget"]);
        assert_eq!(installed("sudo dnf -y install bash"), ["bash"]);
        assert!(installed("apk del bash").is_empty());
        assert!(installed("apt-get update").is_empty());
    }
}
