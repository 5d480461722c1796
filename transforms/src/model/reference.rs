//! Image references split the way the Docker CLI splits them (distribution/reference), and the
//! globs of the `[base]` policy matched against them.
//!
//! `[registry/]path[:tag][@digest]`: the first `/`-separated component is a registry when it
//! contains `.` or `:`, is `localhost`, or has an upper-case letter; otherwise the image is on
//! Docker Hub (`docker.io`), where a one-component path lives under `library/`. So `python`,
//! `library/python`, `docker.io/python` and `docker.io/library/python` name the same repository.

use std::ops::Range;

use crate::config::is_reference_char;

/// A parsed image reference. Ranges point into `text`, the reference as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub text: String,
    /// The registry as written, when the reference names one.
    pub registry: Option<Range<usize>>,
    /// The repository path as written (`python`, `library/python`, `core/ubuntu`).
    pub path: Range<usize>,
    /// Without the `:`.
    pub tag: Option<Range<usize>>,
    /// `sha256:…`, without the `@`.
    pub digest: Option<Range<usize>>,
}

impl ImageRef {
    /// `None` when `text` cannot be a reference (empty, blanks, variables, empty components).
    pub fn parse(text: &str) -> Option<ImageRef> {
        if text.is_empty() || !text.chars().all(is_reference_char) {
            return None;
        }
        let (name_tag, digest) = match text.split_once('@') {
            Some((name_tag, digest)) => {
                if digest.is_empty() || !digest.contains(':') || digest.contains('@') {
                    return None;
                }
                (name_tag, Some(name_tag.len() + 1..text.len()))
            }
            None => (text, None),
        };
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name_end, tag) = match name_tag[last_slash..].find(':') {
            Some(i) => {
                let colon = last_slash + i;
                if colon + 1 == name_tag.len() {
                    return None;
                }
                (colon, Some(colon + 1..name_tag.len()))
            }
            None => (name_tag.len(), None),
        };
        let name = &name_tag[..name_end];
        let registry = match name.split_once('/') {
            Some((first, _)) if is_registry(first) => Some(0..first.len()),
            _ => None,
        };
        let path_start = registry.as_ref().map_or(0, |r| r.end + 1);
        let path = &name[path_start..];
        if path.is_empty() || path.split('/').any(str::is_empty) || path.contains(':') {
            return None;
        }
        Some(ImageRef { text: text.to_string(), registry, path: path_start..name_end, tag, digest })
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.clone().map(|r| &self.text[r])
    }

    pub fn digest(&self) -> Option<&str> {
        self.digest.clone().map(|r| &self.text[r])
    }

    /// The registry, normalised: `docker.io` for Docker Hub (also when written `index.docker.io`).
    pub fn domain(&self) -> String {
        match &self.registry {
            None => "docker.io".to_string(),
            Some(r) => {
                let domain = self.text[r.clone()].to_ascii_lowercase();
                if domain == "index.docker.io" || domain == "registry-1.docker.io" {
                    "docker.io".to_string()
                } else {
                    domain
                }
            }
        }
    }

    pub fn is_docker_hub(&self) -> bool {
        self.domain() == "docker.io"
    }

    /// The repository path, normalised: `library/python` for Docker Hub's `python`.
    pub fn repository(&self) -> String {
        let path = &self.text[self.path.clone()];
        if self.is_docker_hub() && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        }
    }

    /// For Docker Hub's official images, the name without `library/` (`python`).
    pub fn official_name(&self) -> Option<String> {
        let repository = self.repository();
        let name = repository.strip_prefix("library/")?;
        (self.is_docker_hub() && !name.contains('/')).then(|| name.to_string())
    }

    /// The name as written: registry and path, without tag or digest.
    pub fn written_name(&self) -> &str {
        &self.text[..self.path.end]
    }

    /// `docker.io/library/python`.
    pub fn qualified_name(&self) -> String {
        format!("{}/{}", self.domain(), self.repository())
    }

    /// The short form `docker` prints: `python`, `grafana/grafana`, `ghcr.io/org/app`.
    pub fn familiar_name(&self) -> String {
        if self.is_docker_hub() {
            let repository = self.repository();
            repository.strip_prefix("library/").filter(|n| !n.contains('/')).map_or(repository.clone(), str::to_string)
        } else {
            self.qualified_name()
        }
    }

    /// `:tag@digest` as written (either part may be absent).
    pub fn suffix(&self) -> &str {
        &self.text[self.path.end..]
    }

    /// The familiar name with the tag and digest: the form the inventory groups by.
    pub fn familiar(&self) -> String {
        format!("{}{}", self.familiar_name(), self.suffix())
    }

    /// Untagged (and undigested) references mean `:latest`.
    pub fn effective_tag(&self) -> Option<&str> {
        match (self.tag(), &self.digest) {
            (Some(tag), _) => Some(tag),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        }
    }

    /// Whether both name the same image: same repository, tag (untagged = `latest`) and digest.
    pub fn same_image(&self, other: &ImageRef) -> bool {
        self.qualified_name() == other.qualified_name()
            && self.effective_tag() == other.effective_tag()
            && self.digest() == other.digest()
    }
}

/// Docker's rule for the first path component (distribution/reference `splitDockerDomain`).
fn is_registry(component: &str) -> bool {
    component.contains(['.', ':']) || component == "localhost" || component.chars().any(|c| c.is_ascii_uppercase())
}

/// Whether the policy glob `pattern` matches `image`.
///
/// `*` matches any run of characters (`/` included), `?` one character; everything else is literal.
/// The glob is tried against the reference as written, its familiar form (`python:3.12`) and its
/// fully qualified form (`docker.io/library/python:3.12`), so `python:*-slim` and
/// `docker.io/library/python:*-slim` mean the same. What the glob constrains depends on its shape:
/// - with `@`: the whole reference, tag and digest included;
/// - with a tag (a `:` after the last `/`): the name and the tag (untagged means `latest`); a digest
///   on the reference is ignored;
/// - otherwise only the name: `python` and `registry.example.com/core/*` accept every tag.
pub fn glob_matches(pattern: &str, image: &ImageRef) -> bool {
    let names = [image.written_name().to_string(), image.familiar_name(), image.qualified_name()];
    let has_digest = pattern.contains('@');
    let before_digest = pattern.split('@').next().unwrap_or(pattern);
    let has_tag = before_digest.rsplit('/').next().is_some_and(|last| last.contains(':'));
    let suffix = if has_digest {
        image.suffix().to_string()
    } else if has_tag {
        match image.effective_tag() {
            Some(tag) => format!(":{tag}"),
            None => return false,
        }
    } else {
        String::new()
    };
    names.iter().any(|name| glob(pattern, &format!("{name}{suffix}")))
}

/// `*` and `?` wildcard matching (iterative, linear backtracking on the last `*`).
/// Called per package × knowledge glob, so ASCII text (nearly all of it) is matched on bytes without
/// allocating; `?` matches one character, hence the char vectors otherwise.
pub fn glob(pattern: &str, text: &str) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        return glob_units(pattern.as_bytes(), text.as_bytes());
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob_units(&p, &t)
}

fn glob_units<U: Copy + PartialEq + From<u8>>(p: &[U], t: &[U]) -> bool {
    let (any, one) = (U::from(b'*'), U::from(b'?'));
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == one || (p[pi] != any && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == any {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> ImageRef {
        ImageRef::parse(text).unwrap_or_else(|| panic!("{text} should parse"))
    }

    #[test]
    fn splits_registry_path_tag_and_digest() {
        let image = r("registry.example.com:5000/core/ubuntu:22.04@sha256:abc");
        assert_eq!(image.registry.clone().map(|x| &image.text[x]), Some("registry.example.com:5000"));
        assert_eq!(&image.text[image.path.clone()], "core/ubuntu");
        assert_eq!(image.tag(), Some("22.04"));
        assert_eq!(image.digest(), Some("sha256:abc"));
        assert_eq!(image.domain(), "registry.example.com:5000");
    }

    #[test]
    fn the_first_component_is_a_registry_only_with_a_dot_a_colon_localhost_or_upper_case() {
        assert_eq!(r("localhost/app").domain(), "localhost");
        assert_eq!(r("localhost:5000/app:1").domain(), "localhost:5000");
        assert_eq!(r("ghcr.io/org/app").domain(), "ghcr.io");
        assert_eq!(r("Registry/app").domain(), "registry");
        let hub = r("grafana/grafana:10");
        assert_eq!(hub.domain(), "docker.io");
        assert_eq!(hub.repository(), "grafana/grafana");
        assert_eq!(hub.familiar_name(), "grafana/grafana");
    }

    #[test]
    fn docker_hub_names_normalise() {
        for written in ["python:3.12", "library/python:3.12", "docker.io/python:3.12", "docker.io/library/python:3.12", "index.docker.io/library/python:3.12"] {
            let image = r(written);
            assert_eq!(image.qualified_name(), "docker.io/library/python", "{written}");
            assert_eq!(image.familiar(), "python:3.12", "{written}");
            assert_eq!(image.official_name().as_deref(), Some("python"), "{written}");
        }
        assert_eq!(r("ghcr.io/library/python").official_name(), None);
    }

    #[test]
    fn a_port_is_not_a_tag() {
        let image = r("localhost:5000/app");
        assert_eq!(image.tag(), None);
        assert_eq!(image.effective_tag(), Some("latest"));
        assert_eq!(r("python@sha256:abc").effective_tag(), None);
    }

    #[test]
    fn rejects_what_cannot_be_a_reference() {
        for bad in ["", "python:", "$BASE", "a b", "python@", "/python", "python//x", "python@sha256"] {
            assert!(ImageRef::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn glob_wildcards() {
        assert!(glob("python:*-slim", "python:3.12-slim"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
        assert!(glob("python:3.1?", "python:3.12"));
        assert!(!glob("python:3.1?", "python:3.123"));
        assert!(glob("**", "x/y"));
        assert!(glob("caf?", "café"));
        assert!(!glob("caf??", "café"));
    }

    #[test]
    fn globs_match_every_spelling_of_a_docker_hub_image() {
        for written in ["python:3.12-slim", "docker.io/library/python:3.12-slim", "library/python:3.12-slim"] {
            assert!(glob_matches("python:*-slim", &r(written)), "{written}");
            assert!(glob_matches("docker.io/library/python:*-slim", &r(written)), "{written}");
        }
        assert!(!glob_matches("python:*-slim", &r("python:3.12")));
        assert!(!glob_matches("python:*-slim", &r("ghcr.io/acme/python:3.12-slim")));
    }

    #[test]
    fn a_glob_without_a_tag_accepts_every_tag() {
        assert!(glob_matches("python", &r("python:3.12")));
        assert!(glob_matches("registry.example.com/core/*", &r("registry.example.com/core/ubuntu:22.04")));
        assert!(!glob_matches("registry.example.com/core/*", &r("registry.example.com/other/ubuntu:22.04")));
        assert!(glob_matches("*", &r("ghcr.io/a/b:1@sha256:x")));
    }

    #[test]
    fn untagged_means_latest_and_digests_are_ignored_unless_the_glob_has_one() {
        assert!(glob_matches("ubuntu:*", &r("ubuntu")));
        assert!(glob_matches("ubuntu:latest", &r("ubuntu")));
        assert!(glob_matches("python:*-slim", &r("python:3.12-slim@sha256:abc")));
        assert!(glob_matches("python:*@sha256:*", &r("python:3.12@sha256:abc")));
        assert!(!glob_matches("python:*@sha256:*", &r("python:3.12")));
        assert!(!glob_matches("python:*", &r("python@sha256:abc")));
    }

    #[test]
    fn same_image_compares_normalised_forms() {
        assert!(r("python").same_image(&r("docker.io/library/python:latest")));
        assert!(!r("python:3.12").same_image(&r("python:3.12-slim")));
    }
}
