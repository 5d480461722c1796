//! The build context as its listing shows it.

use crate::Context;
use crate::model::matcher::Matcher;
use crate::model::reference::glob;

/// Whether a path of the build context is there to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Present,
    Absent,
    /// The listing does not go that deep, or the .dockerignore is not known.
    Unknown,
}

/// The build context as the transform knows it: its listing, its .dockerignore and the manifests
/// the CLI read.
pub struct Listing<'a> {
    files: &'a [String],
    context: &'a Context,
    ignore: Option<Matcher>,
    /// There is a .dockerignore whose text is not known.
    ignore_unknown: bool,
}

impl<'a> Listing<'a> {
    pub fn new(context: &'a Context) -> Option<Listing<'a>> {
        let files = context.files.as_deref()?;
        let ignore = context.dockerignore.as_deref().and_then(|text| Matcher::from_dockerignore(text).ok());
        let ignore_unknown = ignore.is_none() && files.iter().any(|f| f == ".dockerignore");
        Some(Listing { files, context, ignore, ignore_unknown })
    }

    /// Whether the listing shows what is inside `dir` (`""` = the root; else `a/b/`).
    pub fn shows_inside(&self, dir: &str) -> bool {
        dir.is_empty() || self.files.iter().any(|f| f.len() > dir.len() && f.starts_with(dir))
    }

    fn excluded(&self, path: &str) -> Option<bool> {
        match &self.ignore {
            Some(m) => Some(m.excludes(path)),
            None if self.ignore_unknown => None,
            None => Some(false),
        }
    }

    /// Whether the file or folder `path` (`a/b`, no trailing `/`) is in the context Docker sends.
    pub fn presence(&self, path: &str) -> Presence {
        let parent = parent_of(path);
        let listed = self.files.iter().any(|f| f == path || f.strip_suffix('/') == Some(path));
        if !listed {
            return if self.shows_inside(parent) { Presence::Absent } else { Presence::Unknown };
        }
        // With a .dockerignore whose text is not known, a listed file counts as present: the
        // reading says the rewrite is Unsafe for that reason.
        match self.excluded(path) {
            Some(true) => Presence::Absent,
            Some(false) | None => Presence::Present,
        }
    }

    /// Whether the .dockerignore is known (or there is none).
    pub fn ignore_known(&self) -> bool {
        !self.ignore_unknown
    }

    pub fn is_dir(&self, path: &str) -> bool {
        self.files.iter().any(|f| f.strip_suffix('/') == Some(path))
    }

    /// Files directly in `dir` (`""` or `a/b/`) whose name matches `pattern` (`*.csproj` or a name),
    /// present in the context.
    pub fn matching(&self, dir: &str, pattern: &str) -> Vec<String> {
        let mut found: Vec<String> = self
            .files
            .iter()
            .filter_map(|f| f.strip_prefix(dir))
            .filter(|rest| !rest.is_empty() && !rest.contains('/'))
            .filter(|name| glob(pattern, name))
            .map(|name| format!("{dir}{name}"))
            .filter(|path| self.presence(path) == Presence::Present)
            .collect();
        found.sort();
        found
    }

    /// Folders directly in `dir` whose name matches `pattern`, present in the context (`a/b/`).
    pub fn matching_dirs(&self, dir: &str, pattern: &str) -> Vec<String> {
        let mut found: Vec<String> = self
            .files
            .iter()
            .filter_map(|f| f.strip_prefix(dir))
            .filter_map(|rest| rest.strip_suffix('/'))
            .filter(|name| !name.is_empty() && !name.contains('/') && glob(pattern, name))
            .map(|name| format!("{dir}{name}/"))
            .filter(|path| self.presence(path.trim_end_matches('/')) == Presence::Present)
            .collect();
        found.sort();
        found
    }

    /// Files named `name` in `dir` (`""` or `a/b/`) or any folder below it, present in the context.
    pub fn below(&self, dir: &str, name: &str) -> Vec<String> {
        self.files
            .iter()
            .filter(|f| f.starts_with(dir) && (f.as_str() == name || f.ends_with(&format!("/{name}"))))
            .filter(|f| self.presence(f) == Presence::Present)
            .cloned()
            .collect()
    }

    /// The text of a manifest the CLI read, if it did.
    pub fn content(&self, path: &str) -> Option<&'a str> {
        self.context.contents.get(path).map(String::as_str)
    }
}

/// `a/b/` for `a/b/c`, `""` for `c`.
pub fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_presence() {
        let context = Context {
            files: Some(vec!["package.json".into(), "src/".into(), "client/".into(), "client/package.json".into(), "node_modules/".into()]),
            dockerignore: Some("node_modules\n".into()),
            ..Context::default()
        };
        let listing = Listing::new(&context).unwrap();
        assert_eq!(listing.presence("package.json"), Presence::Present);
        assert_eq!(listing.presence("yarn.lock"), Presence::Absent);
        assert_eq!(listing.presence("src/main.rs"), Presence::Unknown);
        assert_eq!(listing.presence("client/package.json"), Presence::Present);
        assert_eq!(listing.presence("node_modules"), Presence::Absent);
        assert_eq!(listing.matching("", "*.json"), vec!["package.json".to_string()]);
    }
}
