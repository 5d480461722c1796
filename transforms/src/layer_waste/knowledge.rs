//! What `layer-waste` knows, read from `knowledge/layer-waste.toml` (its comments document every
//! key). Build-only packages and their run-time libraries are multi-stage's knowledge
//! (`crate::knowledge::build_packages`), as are the commands that may compile.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::reference::{glob, glob_matches, ImageRef};
use crate::shell::CommandView;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct Knowledge {
    pub shared_dirs: Vec<String>,
    pub user_tools: Vec<String>,
    pub group_tools: Vec<String>,
    pub removes: Vec<String>,
    pub creates_folders: Vec<String>,
    pub creates_files: Vec<String>,
    pub archives: Vec<String>,
    pub toolchain_images: Vec<String>,
    pub programs: BTreeMap<String, Vec<String>>,
    pub keeps: BTreeMap<String, Vec<String>>,
    pub in_place: Vec<InPlace>,
}

/// A package manager's command and what it writes into the folder it runs in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct InPlace {
    pub command: String,
    pub writes: Vec<String>,
    #[serde(default)]
    pub unless: Vec<String>,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub paths_build: bool,
}

pub(super) fn knowledge() -> &'static Knowledge {
    crate::knowledge::parsed!("layer-waste.toml", Knowledge)
}

impl Knowledge {
    /// Whether a base image may hold files in absolute folder `dir` or a folder above it matched by
    /// a `*` (`/usr/*` covers everything below `/usr`): what a `chown -R` must not reach.
    pub fn is_shared_dir(&self, dir: &str) -> bool {
        self.shared_dirs.iter().any(|g| glob(g, dir))
    }

    /// Whether absolute folder `dir` is itself one of those folders, each `*` standing for part of
    /// one path component (`/usr/*` is `/usr/src`, not `/usr/src/jq`): a folder every image has,
    /// which a RUN of the Dockerfile did not create.
    pub fn is_system_dir(&self, dir: &str) -> bool {
        let dir = if dir == "/" { dir } else { dir.trim_end_matches('/') };
        self.shared_dirs.iter().any(|pattern| {
            let (mut parts, mut names) = (pattern.split('/'), dir.split('/'));
            loop {
                match (parts.next(), names.next()) {
                    (None, None) => return true,
                    (Some(part), Some(name)) if glob(part, name) => {}
                    _ => return false,
                }
            }
        })
    }

    /// Whether a URL's or file's name is an archive `tar` or `unzip` unpacks.
    pub fn is_archive(&self, name: &str) -> bool {
        let name = name.split(['?', '#']).next().unwrap_or(name).to_ascii_lowercase();
        self.archives.iter().any(|ext| name.ends_with(ext.as_str()))
    }

    /// Whether a base image already carries compilers (its full, not slim or alpine, variant).
    pub fn has_toolchain(&self, image: &ImageRef) -> bool {
        let tag = image.effective_tag().unwrap_or_default().to_ascii_lowercase();
        !tag.contains("slim") && !tag.contains("alpine") && self.toolchain_images.iter().any(|g| glob_matches(g, image))
    }

    /// The programs a package puts on PATH.
    pub fn programs_of<'a>(&'a self, package: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.programs.iter().filter(move |(g, _)| glob(g, package)).flat_map(|(_, p)| p.iter().map(String::as_str))
    }

    /// Run-time packages a build-only package brings that stay installed.
    pub fn keeps_of<'a>(&'a self, package: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.keeps.iter().filter(move |(g, _)| glob(g, package)).flat_map(|(_, p)| p.iter().map(String::as_str))
    }

    /// What a package manager's command writes into the folder it runs in (`npm ci`: node_modules).
    pub fn in_place(&self, view: CommandView) -> Option<&InPlace> {
        let program = view.basename()?;
        let first = view.args().iter().find(|w| w.literal.as_deref().is_some_and(|t| !t.starts_with('-')))?.literal.as_deref();
        self.in_place.iter().find(|entry| entry.command.split_once(' ').is_some_and(|(p, sub)| is_program_like(program, p) && first == Some(sub)))
    }

}

/// `pip3.11` is `pip3`, `python3.12` is `python3`.
fn is_program_like(name: &str, program: &str) -> bool {
    name == program || name.strip_prefix(program).is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knowledge_parses() {
        let k = knowledge();
        assert!(k.is_shared_dir("/usr/local/bin") && k.is_shared_dir("/home/app") && !k.is_shared_dir("/app"));
        assert!(k.is_shared_dir("/var/www/html") && !k.is_shared_dir("/srv/app") && !k.is_shared_dir("/opt/app"));
        assert!(k.is_shared_dir("/home/node/app") && k.is_system_dir("/home/node") && !k.is_system_dir("/home/node/app"));
        assert!(k.is_system_dir("/usr/src") && !k.is_system_dir("/usr/src/jq") && k.is_system_dir("/lib64") && k.is_system_dir("/"));
        assert!(k.is_archive("https://x/y-1.2.tar.gz?raw=1") && k.is_archive("a.ZIP") && !k.is_archive("a.deb"));
        assert!(k.programs_of("build-essential").any(|p| p == "make"));
        assert!(k.programs_of("gcc-12").any(|p| p == "gcc"));
        assert!(k.keeps_of("python3-pip").any(|p| p == "python3"));
        let in_place = |script: &str| k.in_place(crate::shell::parse_script(script).commands()[0].effective()).map(|e| e.writes.clone());
        assert_eq!(in_place("npm ci --omit=dev"), Some(vec!["node_modules".to_string()]));
        assert_eq!(in_place("sudo pip3.11 install -r requirements.txt"), Some(vec![]));
        assert_eq!(in_place("npm run build"), None);
        let image = |t: &str| ImageRef::parse(t).unwrap();
        assert!(k.has_toolchain(&image("python:3.12")) && k.has_toolchain(&image("buildpack-deps:bookworm")));
        assert!(!k.has_toolchain(&image("python:3.12-slim")) && !k.has_toolchain(&image("debian:bookworm")) && !k.has_toolchain(&image("node:20-alpine")));
    }
}
