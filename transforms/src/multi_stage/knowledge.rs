//! What `multi-stage` knows, read from `knowledge/multi-stage.toml` (its comments document every key).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::reference::{glob, ImageRef};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct Knowledge {
    pub build_only: Vec<String>,
    pub node_build_tools: Vec<String>,
    pub node_prune: BTreeMap<String, NodePrune>,
    /// Read through `crate::knowledge::build_packages`.
    #[allow(dead_code)]
    builds: Vec<String>,
    pub suites: Vec<String>,
    pub distroless_static: BTreeMap<String, String>,
    pub java_variants: Vec<String>,
    pub known_users: Vec<String>,
    pub image_users: BTreeMap<String, Vec<String>>,
    pub ecosystem: Vec<Ecosystem>,
    pub jdk_to_jre: BTreeMap<String, String>,
    pub debian_runtime: BTreeMap<String, String>,
    pub alpine_runtime: BTreeMap<String, String>,
    pub crate_runtime: BTreeMap<String, Vec<String>>,
    pub image_runtime: BTreeMap<String, Vec<String>>,
    pub golang_suites: BTreeMap<String, String>,
    pub rust_suites: BTreeMap<String, String>,
    pub toolchain_homes: Vec<String>,
    pub toolchain_installers: BTreeMap<String, Vec<String>>,
    pub runtime_data: RuntimeData,
    pub java_runtime: Vec<JavaRuntime>,
    pub php_dev_environments: Vec<DevEnvironment>,
    pub ruby: Ruby,
    pub python_tool: Vec<PythonTool>,
    pub python_of_release: BTreeMap<String, String>,
}

/// A Python project tool (see `[[python-tool]]` in the TOML).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct PythonTool {
    pub name: String,
    pub installs: Vec<String>,
    #[serde(default)]
    pub pip: bool,
    #[serde(default)]
    pub follows_virtual_env: bool,
    pub project_env: Option<String>,
    #[serde(default)]
    pub always_in_project: bool,
    pub in_project_env: Option<String>,
    pub in_project_config: Option<String>,
    pub create_env: Option<String>,
    pub create_config: Option<String>,
    pub system_flag: Option<String>,
    #[serde(default)]
    pub project_options: Vec<String>,
    pub runner: String,
    pub packages: Vec<String>,
    pub manages_python: Option<String>,
    pub downloads_python: Option<PythonRequest>,
}

/// Where a project tool reads the Python version a project asks for (see `downloads-python`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PythonRequest {
    pub options: Vec<String>,
    pub env: String,
    pub file: String,
}

/// Ruby apps (see `[ruby]` in the TOML).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct Ruby {
    pub interpreters: Vec<String>,
    pub interpreted: BTreeMap<String, String>,
    pub native_gems: Vec<String>,
    pub programs: Vec<String>,
    pub kept_tools: Vec<String>,
    pub glibc_platforms: Vec<String>,
    pub musl_platforms: Vec<String>,
    pub image_gem_home: String,
    pub apt_gem_dirs: Vec<String>,
}

impl Ruby {
    pub fn is_interpreter(&self, package: &str) -> bool {
        self.interpreters.iter().any(|g| glob(g, package))
    }

    pub fn is_native(&self, gem: &str) -> bool {
        self.native_gems.iter().any(|g| g == gem)
    }

    /// Whether a gem precompiled for `platform` runs on the image's libc.
    pub fn runs_precompiled(&self, platform: &str, musl: bool) -> bool {
        let platforms = if musl { &self.musl_platforms } else { &self.glibc_platforms };
        platforms.iter().any(|g| glob(g, platform))
    }
}

/// What looks like data a program reads beside itself (see `runtime-data` in the TOML).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuntimeData {
    pub dirs: Vec<String>,
    pub extensions: Vec<String>,
    pub ignore: Vec<String>,
}

/// A PHP package that loads dev dependencies at run time unless `variable` is one of `production`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DevEnvironment {
    pub package: String,
    pub variable: String,
    pub production: Vec<String>,
}

/// The JRE image of the JDK images `image` globs (see `[[java-runtime]]` in the TOML).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JavaRuntime {
    pub image: String,
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub jre: Option<String>,
    #[serde(default)]
    pub majors: Vec<String>,
    #[serde(default)]
    pub none: Option<String>,
}

/// How a Node package manager prunes node_modules (see `node-prune` in the TOML).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NodePrune {
    pub command: String,
    pub npm6: Option<String>,
    pub carry: Vec<String>,
    /// For a workspace: the command that installs the production set again into emptied
    /// node_modules folders, when `command` does not prune a workspace.
    pub workspace: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Ecosystem {
    pub name: String,
    pub describe: String,
    pub images: Vec<String>,
    /// Images `images` matches that carry no toolchain (a vendor's JRE tags).
    #[serde(default, rename = "not-images")]
    pub not_images: Vec<String>,
    pub packages: Vec<String>,
}

impl Ecosystem {
    pub fn has_image(&self, familiar: &str) -> bool {
        self.images.iter().any(|g| glob(g, familiar)) && !self.not_images.iter().any(|g| glob(g, familiar))
    }
}

pub(super) fn knowledge() -> &'static Knowledge {
    crate::knowledge::parsed!("multi-stage.toml", Knowledge)
}

impl Knowledge {
    pub fn ecosystem(&self, name: &str) -> Option<&Ecosystem> {
        self.ecosystem.iter().find(|e| e.name == name)
    }

    /// The ecosystem whose toolchain the image carries.
    pub fn image_toolchain(&self, image: &ImageRef) -> Option<&Ecosystem> {
        let familiar = image.familiar();
        self.ecosystem.iter().find(|e| e.has_image(&familiar))
    }

    /// The ecosystem whose toolchain the package installs.
    pub fn package_toolchain(&self, package: &str) -> Option<&Ecosystem> {
        self.ecosystem.iter().find(|e| e.packages.iter().any(|g| glob(g, package)))
    }

    pub fn is_build_only(&self, package: &str) -> bool {
        self.build_only.iter().any(|g| glob(g, package))
    }

    /// A package of the Node toolchain that only installs and builds (`npm`): a runtime that
    /// copies node_modules runs `nodejs` alone.
    pub fn is_node_build_tool(&self, package: &str) -> bool {
        self.node_build_tools.iter().any(|g| glob(g, package))
    }

    /// The Debian suite a language image's untagged-suite version is built on.
    pub fn default_suite(&self, table: &BTreeMap<String, String>, version: &str) -> Option<String> {
        table
            .iter()
            .find(|(prefix, _)| version == prefix.as_str() || version.starts_with(&format!("{prefix}.")))
            .map(|(_, suite)| suite.clone())
    }

    /// Packages the image gave the build implicitly that a bare Debian runtime lacks.
    pub fn image_runtime(&self, image: &ImageRef) -> Vec<String> {
        let familiar = image.familiar();
        self.image_runtime.iter().filter(|(g, _)| glob(g, &familiar)).flat_map(|(_, p)| p.clone()).collect()
    }

    /// Whether `path` is inside a folder a build toolchain lives in (not copied to the runtime).
    pub fn is_toolchain_home(&self, path: &str) -> bool {
        self.toolchain_homes.iter().any(|home| path == home || path.starts_with(&format!("{home}/")))
    }

    /// Whether a downloaded installer (by its URL) installs the ecosystem's own toolchain.
    pub fn toolchain_installer(&self, ecosystem: &str, url: &str) -> bool {
        self.toolchain_installers.get(ecosystem).is_some_and(|globs| globs.iter().any(|g| glob(g, url)))
    }

    /// Users that exist in `image` without being created.
    pub fn user_exists(&self, image: &str, user: &str) -> bool {
        let name = user.split(':').next().unwrap_or(user);
        if name.chars().all(|c| c.is_ascii_digit()) && !name.is_empty() {
            return true;
        }
        if self.known_users.iter().any(|u| u == name) {
            return true;
        }
        let repository = image.split(['@', ':']).next().unwrap_or(image);
        self.image_users.iter().any(|(g, users)| glob(g, repository) && users.iter().any(|u| u == name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knowledge_parses() {
        let k = knowledge();
        assert!(k.ecosystem("go").is_some());
        assert_eq!(k.debian_runtime.get("libpq-dev").map(String::as_str), Some("libpq5"));
        assert!(k.is_build_only("build-essential"));
        assert!(k.is_build_only("golang-1.21-go"));
        assert_eq!(k.default_suite(&k.golang_suites, "1.22.3").as_deref(), Some("bookworm"));
        assert_eq!(k.default_suite(&k.golang_suites, "1.2"), None);
        assert!(k.ruby.is_interpreter("ruby3.1") && k.ruby.is_interpreter("ruby-full") && !k.ruby.is_interpreter("ruby-dev"));
        assert!(k.ruby.is_native("nokogiri") && !k.ruby.is_native("rack"));
        assert!(k.ruby.runs_precompiled("x86_64-linux", false) && k.ruby.runs_precompiled("aarch64-linux-gnu", false));
        assert!(!k.ruby.runs_precompiled("x86_64-linux", true) && k.ruby.runs_precompiled("x86_64-linux-musl", true));
        assert!(!k.ruby.runs_precompiled("x86_64-linux-musl", false) && !k.ruby.runs_precompiled("arm64-darwin", false));
    }

    #[test]
    fn jdk_images_of_every_vendor_and_not_their_jres() {
        let java = |text: &str| knowledge().image_toolchain(&ImageRef::parse(text).unwrap()).map(|e| e.name.as_str());
        for jdk in ["eclipse-temurin:17", "eclipse-temurin:21-jdk-jammy", "amazoncorretto:17", "oracle/openjdk:17", "sapmachine:21", "azul/zulu-openjdk:17"] {
            assert_eq!(java(jdk), Some("java"), "{jdk}");
        }
        for jre in ["eclipse-temurin:17-jre", "sapmachine:21-jre", "azul/zulu-openjdk:17-jre", "bellsoft/liberica-openjdk-debian:17-jre"] {
            assert_eq!(java(jre), None, "{jre}");
        }
    }
}
