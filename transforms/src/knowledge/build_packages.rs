//! Which packages only a build needs, and the run-time library each -dev package leaves behind:
//! multi-stage's knowledge (`knowledge/multi-stage.toml`: `build-only`, `debian-runtime`,
//! `alpine-runtime`), read here for the transforms other than multi-stage that need it
//! (layer-waste purges build-only packages at the end of the RUN that used them), and the commands
//! that may compile (`builds`).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::reference::glob;

/// The keys of multi-stage.toml read here (the others are multi-stage's own).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct BuildPackages {
    build_only: Vec<String>,
    debian_runtime: BTreeMap<String, String>,
    alpine_runtime: BTreeMap<String, String>,
    builds: Vec<String>,
}

/// The package family whose names a map uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Debian,
    Alpine,
    /// dnf, yum, microdnf, zypper: no -devel → library map is known.
    Rpm,
}

/// What becomes of a build-only package once the build is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Runtime {
    /// Nothing of it is needed at run time (a compiler, a header-only package).
    Nothing,
    /// Its shared library, in this package, is needed at run time.
    Library(String),
    /// A -dev package whose library package is not known: it stays installed.
    Unknown,
}

pub(crate) fn build_packages() -> &'static BuildPackages {
    super::parsed!("multi-stage.toml", BuildPackages)
}

impl BuildPackages {
    /// Whether a package (its name without a version pin) is only needed to build: a compiler, a
    /// build tool, a VCS client, or headers (`-dev`, `-devel`).
    pub fn is_build_only(&self, package: &str) -> bool {
        is_headers(package) || self.build_only.iter().any(|g| glob(g, package))
    }

    /// What a build-only package leaves for the run time.
    pub fn runtime(&self, family: Family, package: &str) -> Runtime {
        let map = match family {
            Family::Debian => &self.debian_runtime,
            Family::Alpine => &self.alpine_runtime,
            Family::Rpm => return if is_headers(package) { Runtime::Unknown } else { Runtime::Nothing },
        };
        match map.get(package) {
            Some(library) if library.is_empty() => Runtime::Nothing,
            Some(library) => Runtime::Library(library.clone()),
            None if is_headers(package) => Runtime::Unknown,
            None => Runtime::Nothing,
        }
    }
}

impl BuildPackages {
    /// Whether a command (its program's basename, then its first argument) may build: compile, or
    /// run a package manager that compiles (`pip install`, `npm ci`, `make`).
    pub fn builds(&self, program: &str, first_argument: Option<&str>) -> bool {
        let program = program.strip_suffix(".sh").unwrap_or(program);
        self.builds.iter().any(|b| match b.split_once(' ') {
            Some((p, sub)) => is_program_like(program, p) && first_argument == Some(sub),
            None => is_program_like(program, b),
        })
    }
}

/// `pip3.11` is `pip3`, `python3.12` is `python3`.
fn is_program_like(name: &str, program: &str) -> bool {
    name == program || name.strip_prefix(program).is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

fn is_headers(package: &str) -> bool {
    package.ends_with("-dev") || package.ends_with("-devel") || package.ends_with("-headers")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_multi_stage_knowledge() {
        let k = build_packages();
        assert!(k.is_build_only("build-essential") && k.is_build_only("libpq-dev") && k.is_build_only("gcc-12"));
        assert!(!k.is_build_only("libpq5") && !k.is_build_only("python3"));
        assert_eq!(k.runtime(Family::Debian, "libpq-dev"), Runtime::Library("libpq5".into()));
        assert_eq!(k.runtime(Family::Debian, "python3-dev"), Runtime::Nothing);
        assert_eq!(k.runtime(Family::Debian, "gcc"), Runtime::Nothing);
        assert_eq!(k.runtime(Family::Debian, "libfoo-dev"), Runtime::Unknown);
        assert_eq!(k.runtime(Family::Alpine, "postgresql-dev"), Runtime::Library("libpq".into()));
        assert_eq!(k.runtime(Family::Rpm, "openssl-devel"), Runtime::Unknown);
        assert!(k.builds("pip3.11", Some("install")) && k.builds("make", None) && !k.builds("pip", Some("freeze")));
        assert!(k.builds("configure", None) && !k.builds("python", Some("app.py")));
    }
}
