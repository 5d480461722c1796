//! Paths inside the image: directories followed symbolically through WORKDIR and `cd`. The base
//! image's working directory is not known, nor is a path that starts with a variable: those are kept
//! as opaque roots, which is enough to compare two directories of the same stage.

use std::fmt;

/// Deeper paths are not followed (a file of 10,000 relative WORKDIRs stays linear).
const MAX_DEPTH: usize = 256;

/// A directory (or file) inside the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dir {
    root: Root,
    parts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Root {
    Absolute,
    /// The working directory the stage's base image sets.
    Image,
    /// A path that starts with a variable (`$APP_HOME/src`).
    Variable(String),
}

impl Dir {
    /// The working directory of a base image: where a stage starts.
    pub fn image() -> Dir {
        Dir { root: Root::Image, parts: Vec::new() }
    }

    /// An absolute path (`/app/bin`); `None` for anything else.
    pub fn absolute(path: &str) -> Option<Dir> {
        Dir::image().join(path).filter(Dir::is_absolute)
    }

    pub fn is_absolute(&self) -> bool {
        self.root == Root::Absolute
    }

    /// `path` (unquoted) resolved against this directory; `None` when it cannot be followed
    /// (`~`, `..` above an unknown root, a variable inside the path).
    pub fn join(&self, path: &str) -> Option<Dir> {
        if path.is_empty() || path.starts_with('~') {
            return None;
        }
        let mut dir = if path.starts_with('/') {
            Dir { root: Root::Absolute, parts: Vec::new() }
        } else if path.starts_with('$') {
            let (var, _) = path.split_once('/').unwrap_or((path, ""));
            Dir { root: Root::Variable(var.to_string()), parts: Vec::new() }
        } else {
            self.clone()
        };
        let rest = match &dir.root {
            Root::Variable(var) if path.starts_with('$') => &path[var.len()..],
            _ => path,
        };
        for part in rest.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if dir.parts.pop().is_none() && dir.root != Root::Absolute {
                        return None;
                    }
                }
                _ if part.contains('$') || dir.parts.len() >= MAX_DEPTH => return None,
                _ => dir.parts.push(part.to_string()),
            }
        }
        Some(dir)
    }

    /// `path` resolved against absolute folder `dir` (`None`: the base image's WORKDIR, not known)
    /// as an absolute path; `None` when it cannot be followed.
    pub fn resolve(dir: Option<&str>, path: &str) -> Option<String> {
        let base = match dir {
            Some(dir) => Dir::absolute(dir)?,
            None => Dir::image(),
        };
        base.join(path)?.path()
    }

    /// The part of absolute path `path` inside absolute folder `dir` (`""` for `dir` itself).
    pub fn inside(path: &str, dir: &str) -> Option<String> {
        Some(Dir::absolute(path)?.below(&Dir::absolute(dir)?)?.join("/"))
    }

    /// The absolute path as text (`/` for the root); `None` below an unknown root.
    pub fn path(&self) -> Option<String> {
        self.is_absolute().then(|| self.to_string())
    }

    /// The path of `self` below `base` (`["client"]`), or `None` when it is not inside it.
    pub fn below(&self, base: &Dir) -> Option<Vec<String>> {
        (self.root == base.root && self.parts.starts_with(&base.parts)).then(|| self.parts[base.parts.len()..].to_vec())
    }

    /// Whether neither directory is inside the other (and both are known absolute paths).
    pub fn disjoint(&self, other: &Dir) -> bool {
        self.is_absolute()
            && other.is_absolute()
            && !self.parts.starts_with(&other.parts)
            && !other.parts.starts_with(&self.parts)
    }
}

impl fmt::Display for Dir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.root {
            Root::Absolute if self.parts.is_empty() => return f.write_str("/"),
            Root::Absolute => {}
            Root::Image => f.write_str(".")?,
            Root::Variable(var) => f.write_str(var)?,
        }
        self.parts.iter().try_for_each(|part| write!(f, "/{part}"))
    }
}
