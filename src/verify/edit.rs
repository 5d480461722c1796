//! The one-line source change of the cache check: a file the final `COPY` copies, with a comment
//! line appended in the syntax of its type, or a new file when no such file can take a comment.

use serde::Serialize;
use transforms::matcher::{Matcher, Pattern};

/// The name of the file added when no copied file can take a comment.
pub const NEW_FILE: &str = "dockopt-verify-edit.txt";
const COMMENT: &str = "dockopt verify: a one-line change to measure the build cache";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceEdit {
    /// Relative to the build context, `/`-separated.
    pub path: String,
    /// The line appended to the file, or the whole text of the new file (without its newline).
    pub line: String,
    /// Whether the file is new (no copied file could take a comment).
    pub new_file: bool,
}

impl SourceEdit {
    /// `app.py (a comment line appended)` / `dockopt-verify-edit.txt (a new file)`.
    pub fn describe(&self) -> String {
        if self.new_file {
            format!("{} (a new file)", self.path)
        } else {
            format!("{} (a comment line appended)", self.path)
        }
    }

    /// The file's new text, given its current text (`None`: the file does not exist).
    pub fn apply(&self, current: Option<&str>) -> String {
        match current {
            Some(text) if !self.new_file => {
                let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
                let mut out = text.to_string();
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push_str(newline);
                }
                out.push_str(&self.line);
                out.push_str(newline);
                out
            }
            _ => format!("{}\n", self.line),
        }
    }
}

/// Choose the edit. `sources`: what the final image's last COPY of the context takes
/// (`transforms::final_copy_sources`); `files`: the context listing (directories end with `/`); `read`: a file's text
/// (for the few checks that need it); `ignores`: the `.dockerignore`s of both builds (a file either
/// build leaves out of the context would not change anything); `marker`: what makes this run's line
/// unique, so that an engine that cached the same edit in an earlier run still sees a change.
pub fn choose(
    sources: &[String],
    files: &[String],
    ignores: &[Matcher],
    read: impl Fn(&str) -> Option<String>,
    marker: &str,
) -> SourceEdit {
    let text = format!("{COMMENT} ({marker})");
    let copied = |path: &str| sources.iter().any(|source| covers(source, path));
    let mut best: Option<(u8, usize, &String, String)> = None;
    for file in files {
        if file.ends_with('/') || !copied(file) || ignores.iter().any(|m| m.excludes(file)) {
            continue;
        }
        let Some((rank, line)) = comment_line(file, &text, &read) else {
            continue;
        };
        let depth = file.matches('/').count();
        let better = match &best {
            None => true,
            Some((r, d, f, _)) => (rank, depth, file) < (*r, *d, *f),
        };
        if better {
            best = Some((rank, depth, file, line));
        }
    }
    match best {
        Some((_, _, file, line)) => SourceEdit {
            path: file.clone(),
            line,
            new_file: false,
        },
        None => SourceEdit {
            path: new_file_path(sources, files),
            line: text,
            new_file: true,
        },
    }
}

/// Whether copying `source` copies the context file `path`.
fn covers(source: &str, path: &str) -> bool {
    if source.is_empty() || path == source || path.starts_with(&format!("{source}/")) {
        return true;
    }
    if source.contains(['*', '?', '[']) {
        return Pattern::new(source).is_ok_and(|p| p.matches_or_parent(path));
    }
    false
}

/// Where a new file goes: inside the first copied directory, else at the context root.
fn new_file_path(sources: &[String], files: &[String]) -> String {
    for source in sources {
        if source.is_empty() {
            return NEW_FILE.to_string();
        }
        if files.iter().any(|f| f == &format!("{source}/")) {
            return format!("{source}/{NEW_FILE}");
        }
    }
    NEW_FILE.to_string()
}

const MANIFESTS: &[&str] = &[
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "go.mod",
    "go.sum",
    "Cargo.toml",
    "Cargo.lock",
    "Gemfile",
    "Gemfile.lock",
    "composer.json",
    "composer.lock",
    "pyproject.toml",
    "Pipfile",
    "Pipfile.lock",
    "poetry.lock",
    "setup.py",
    "setup.cfg",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "settings.gradle",
    "settings.gradle.kts",
    "mix.exs",
    "mix.lock",
    ".dockerignore",
];

/// `(rank, line)`: rank 0 for code, 1 for other files that take comments; `None` for files that
/// take none, dependency manifests (editing them is not a source edit) and Dockerfiles.
fn comment_line(
    path: &str,
    text: &str,
    read: &impl Fn(&str) -> Option<String>,
) -> Option<(u8, String)> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name.starts_with('.')
        || MANIFESTS.contains(&name)
        || name.starts_with("requirements")
        || crate::discover::is_dockerfile_name(name)
    {
        return None;
    }
    if matches!(
        name,
        "Makefile" | "makefile" | "GNUmakefile" | "CMakeLists.txt"
    ) {
        return Some((1, format!("# {text}")));
    }
    let extension = name.rsplit_once('.')?.1.to_ascii_lowercase();
    let (rank, open, close) = match extension.as_str() {
        "py" | "rb" | "sh" | "bash" | "pl" | "pm" | "r" | "ex" | "exs" | "cr" | "jl" | "nim"
        | "tcl" => (0, "#", ""),
        "js" | "mjs" | "cjs" | "ts" | "mts" | "cts" | "jsx" | "tsx" | "go" | "rs" | "c" | "h"
        | "cc" | "cpp" | "cxx" | "hpp" | "hh" | "java" | "kt" | "kts" | "scala" | "cs"
        | "swift" | "dart" | "groovy" | "zig" | "v" | "scss" => (0, "//", ""),
        "php" => {
            // After a closing `?>` a comment would be output, not code.
            let source = read(path)?;
            let closed = source
                .rfind("?>")
                .is_some_and(|close| source.rfind("<?").is_none_or(|open| close > open));
            if closed {
                return None;
            }
            (0, "//", "")
        }
        "lua" | "hs" | "elm" | "sql" => (0, "--", ""),
        "erl" | "hrl" => (0, "%", ""),
        "clj" | "cljs" | "lisp" | "el" | "scm" => (0, ";;", ""),
        "css" | "less" => (0, "/*", " */"),
        "html" | "htm" | "vue" | "svelte" | "xml" | "md" => (1, "<!--", " -->"),
        "yaml" | "yml" | "toml" | "cfg" | "ini" | "conf" | "properties" => (1, "#", ""),
        _ => return None,
    };
    Some((rank, format!("{open} {text}{close}")))
}
