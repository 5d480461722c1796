//! The runtime base image of a build image.

use super::knowledge::knowledge;
use super::scan::Manager;
use crate::model::reference::{glob, ImageRef};

/// A runtime image and how packages are installed on it (`None`: they cannot be).
pub(super) struct Runtime {
    pub image: String,
    pub manager: Option<Manager>,
}

fn name_with_tag(image: &ImageRef, tag: &str) -> String {
    format!("{}:{tag}", image.written_name())
}

/// The image without its compilers: the slim variant of a distribution or language image.
pub(super) fn slim_of(image: &ImageRef) -> Result<Runtime, String> {
    let tag = image.tag().unwrap_or("latest");
    let apt = |image: String| Ok(Runtime { image, manager: Some(Manager::Apt) });
    if tag.contains("alpine") || image.official_name().as_deref() == Some("alpine") {
        if tag == "latest" {
            return Err(format!("`{}` names no Alpine version to run on", image.text));
        }
        return Ok(Runtime { image: image.text.clone(), manager: Some(Manager::Apk) });
    }
    let suites = &knowledge().suites;
    match image.official_name().as_deref() {
        Some("debian") => {
            if tag.contains("slim") {
                apt(image.text.clone())
            } else if tag == "latest" {
                apt(name_with_tag(image, "stable-slim"))
            } else {
                apt(name_with_tag(image, &format!("{tag}-slim")))
            }
        }
        Some("ubuntu") => apt(image.text.clone()),
        Some("buildpack-deps") => {
            let suite = tag.split('-').next().unwrap_or(tag);
            if suites.iter().any(|s| s == suite) {
                apt(format!("debian:{suite}-slim"))
            } else {
                Err(format!("`{}` names no Debian release to run on", image.text))
            }
        }
        // python:3.12-slim-bookworm, but node:20-bookworm-slim.
        Some(lang @ ("python" | "ruby" | "perl" | "node")) => {
            if tag.contains("slim") {
                return apt(image.text.clone());
            }
            if tag == "latest" {
                return Err(format!("`{}` names no version to run on", image.text));
            }
            let mut parts = tag.splitn(2, '-');
            let version = parts.next().unwrap_or(tag);
            match parts.next() {
                None => apt(format!("{lang}:{version}-slim")),
                Some(suite) if suites.iter().any(|s| s == suite) && lang == "node" => apt(format!("node:{version}-{suite}-slim")),
                Some(suite) if suites.iter().any(|s| s == suite) => apt(format!("{lang}:{version}-slim-{suite}")),
                Some(_) => Err(format!("no slim variant of `{}` is known", image.text)),
            }
        }
        _ => Err(format!("no runtime image is known for `{}`", image.text)),
    }
}

/// `golang:<v>[-<suite>]` and `rust:<v>[-slim][-<suite>]`: the Debian release they are built on,
/// or the Alpine version.
pub(super) fn language_runtime(image: &ImageRef, table: &std::collections::BTreeMap<String, String>) -> Result<Runtime, String> {
    let tag = image.tag().unwrap_or("latest");
    let parts: Vec<&str> = tag.split('-').filter(|p| *p != "slim").collect();
    if let Some(alpine) = parts.iter().find(|p| p.starts_with("alpine")) {
        let version = &alpine["alpine".len()..];
        if version.is_empty() {
            return Err(format!("`{}` names no Alpine version: which alpine image matches its musl cannot be told", image.text));
        }
        return Ok(Runtime { image: format!("alpine:{version}"), manager: Some(Manager::Apk) });
    }
    let k = knowledge();
    if let Some(suite) = parts.iter().find(|p| k.suites.iter().any(|s| s == *p)) {
        return Ok(Runtime { image: format!("debian:{suite}-slim"), manager: Some(Manager::Apt) });
    }
    let version = parts.first().copied().unwrap_or("latest");
    match k.default_suite(table, version) {
        Some(suite) => Ok(Runtime { image: format!("debian:{suite}-slim"), manager: Some(Manager::Apt) }),
        None => Err(format!(
            "`{}` does not say which Debian release it is built on (write it in the tag, e.g. `-bookworm`): a runtime on an older glibc would not run the binary",
            image.text
        )),
    }
}

/// The distroless image for static binaries that matches the build's Debian release.
pub(super) fn distroless_static(debian_runtime: &str) -> Option<String> {
    let suite = debian_runtime.strip_prefix("debian:")?.strip_suffix("-slim")?;
    knowledge().distroless_static.get(suite).cloned()
}

/// The JRE image of a JDK image: same vendor, same Java major (`[[java-runtime]]` in the knowledge).
pub(super) fn jre_of(image: &ImageRef) -> Result<String, String> {
    let k = knowledge();
    let refuse = |why: &str| format!("no JRE image is known for `{}`: {why}", image.text);
    let familiar = image.familiar();
    let rule = k.java_runtime.iter().find(|r| glob(&r.image, &familiar)).ok_or_else(|| refuse("its vendor is not in the knowledge"))?;
    let template = match (&rule.jre, &rule.none) {
        (Some(jre), _) => jre,
        (None, why) => return Err(refuse(why.as_deref().unwrap_or("its vendor publishes none"))),
    };
    let tag = image.tag().unwrap_or("latest");
    let after = match rule.after.as_deref().unwrap_or_default() {
        "" => tag,
        marker => tag.find(marker).map(|at| &tag[at + marker.len()..]).unwrap_or_default(),
    };
    let (version, rest) = after.split_once('-').unwrap_or((after, ""));
    let major: String = version.chars().take_while(|c| c.is_ascii_digit()).collect();
    if major.is_empty() {
        return Err(refuse("its tag names no Java version"));
    }
    if !rule.majors.contains(&major) {
        return Err(refuse(&format!("its vendor publishes no Java {major} JRE image")));
    }
    let rest = rest.strip_prefix("jdk").map(|r| r.trim_start_matches('-')).unwrap_or(rest);
    let variant = if rest.is_empty() { String::new() } else { format!("-{rest}") };
    let known = rest.is_empty() || k.java_variants.iter().any(|v| rest == v || rest.starts_with(&format!("{v}-")));
    if template.contains("{variant}") && !known {
        return Err(refuse(&format!("its variant `{rest}` has no known JRE tag")));
    }
    Ok(template.replace("{version}", version).replace("{major}", &major).replace("{variant}", &variant))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slim(text: &str) -> String {
        slim_of(&ImageRef::parse(text).unwrap()).map(|r| r.image).unwrap_or_else(|e| e)
    }

    fn jre(text: &str) -> String {
        jre_of(&ImageRef::parse(text).unwrap()).unwrap_or_else(|e| e)
    }

    #[test]
    fn slim_variants() {
        assert_eq!(slim("debian:bookworm"), "debian:bookworm-slim");
        assert_eq!(slim("debian:bookworm-slim"), "debian:bookworm-slim");
        assert_eq!(slim("python:3.12"), "python:3.12-slim");
        assert_eq!(slim("python:3.12-bookworm"), "python:3.12-slim-bookworm");
        assert_eq!(slim("node:20-bookworm"), "node:20-bookworm-slim");
        assert_eq!(slim("ubuntu:22.04"), "ubuntu:22.04");
        assert_eq!(slim("alpine:3.19"), "alpine:3.19");
    }

    #[test]
    fn jre_images() {
        assert_eq!(jre("eclipse-temurin:17-jdk"), "eclipse-temurin:17-jre");
        assert_eq!(jre("eclipse-temurin:17"), "eclipse-temurin:17-jre");
        assert_eq!(jre("eclipse-temurin:21.0.4_7-jammy"), "eclipse-temurin:21.0.4_7-jre-jammy");
        assert!(jre("eclipse-temurin:latest").ends_with("its tag names no Java version"));
        assert_eq!(jre("eclipse-temurin:21-jdk-alpine"), "eclipse-temurin:21-jre-alpine");
        assert_eq!(jre("maven:3.9-eclipse-temurin-17"), "eclipse-temurin:17-jre");
        assert_eq!(jre("maven:3.9.6-eclipse-temurin-21-alpine"), "eclipse-temurin:21-jre-alpine");
        assert_eq!(jre("gradle:8.5-jdk17"), "eclipse-temurin:17-jre");
        assert_eq!(jre("openjdk:17-jdk-slim"), "eclipse-temurin:17-jre");
        assert!(jre("maven:3").starts_with("no JRE"));
        assert_eq!(jre("gradle:8.5-jdk21-alpine"), "eclipse-temurin:21-jre-alpine");
        assert!(jre("gradle:8.5-jdk17-corretto").contains("Corretto"), "{}", jre("gradle:8.5-jdk17-corretto"));
        assert!(jre("gradle:8.5-jdk-lts-and-current").ends_with("names no Java version"));
        assert_eq!(jre("sapmachine:21"), "sapmachine:21-jre");
        assert_eq!(jre("sapmachine:21-jdk-ubuntu-jammy"), "sapmachine:21-jre-ubuntu-jammy");
        assert_eq!(jre("maven:3.9-sapmachine-21"), "sapmachine:21-jre");
        assert_eq!(jre("ibm-semeru-runtimes:open-17-jdk-jammy"), "ibm-semeru-runtimes:open-17-jre-jammy");
        assert_eq!(jre("azul/zulu-openjdk:17"), "azul/zulu-openjdk:17-jre");
        assert_eq!(jre("bellsoft/liberica-openjdk-debian:21"), "bellsoft/liberica-openjre-debian:21");
        assert!(jre("amazoncorretto:17").contains("Corretto"));
        assert!(jre("eclipse-temurin:17-jdk-windowsservercore-ltsc2022").contains("variant `windowsservercore-ltsc2022`"));
        assert!(jre("eclipse-temurin:16-jdk").contains("no Java 16 JRE"));
    }

    #[test]
    fn language_runtimes() {
        let k = knowledge();
        let go = |t: &str| language_runtime(&ImageRef::parse(t).unwrap(), &k.golang_suites).map(|r| r.image).unwrap_or_else(|e| e);
        assert_eq!(go("golang:1.22"), "debian:bookworm-slim");
        assert_eq!(go("golang:1.22-bullseye"), "debian:bullseye-slim");
        assert_eq!(go("golang:1.22-alpine3.19"), "alpine:3.19");
        assert!(go("golang:1.22-alpine").contains("no Alpine version"));
        assert!(go("golang:latest").contains("Debian release"));
    }
}
