//! What the caller gives the engine: the world around the Dockerfile (`Context`) and how to run
//! (`Settings`). Filled in by the CLI.

use crate::checks::{self, Check};
use crate::config::Config;

/// What the transforms may know of the world around the Dockerfile. Filled in by the CLI.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Paths of the files in the build context, relative to its root, `/`-separated;
    /// directories end with `/`. `None` when unknown (e.g. stdin without `--context`).
    pub files: Option<Vec<String>>,
    /// The context's `.dockerignore` text, when it has one.
    pub dockerignore: Option<String>,
    /// Whether extra files (e.g. a `.dockerignore`) may be proposed: false for stdin.
    pub artifacts_allowed: bool,
    /// The text of the context's small files that transforms read (see `wants_content`), by
    /// relative path. The engine never touches the file system: the CLI loads these.
    pub contents: std::collections::BTreeMap<String, String>,
}

/// Largest file the CLI loads into `Context::contents`.
pub const MAX_CONTENT_BYTES: u64 = 256 * 1024;

/// Whether the transforms read the context file at `path` (relative, `/`-separated): dependency
/// manifests, a few directories deep, outside dependency and VCS folders.
pub fn wants_content(path: &str) -> bool {
    const NAMES: &[&str] = &[
        "package.json", "Gemfile", "go.mod", "Cargo.toml", "pyproject.toml", "Pipfile", "composer.json",
        "setup.py", "setup.cfg", "pom.xml", "build.gradle", "build.gradle.kts", "settings.gradle",
        "settings.gradle.kts", "gradle.properties", "pnpm-workspace.yaml", "lerna.json", "nx.json", "gems.rb", ".yarnrc.yml", "Gemfile.lock", "gems.locked",
        // The Python a uv project asks for.
        ".python-version",
        // Their recipes may install packages out of the RUN's sight (`make install` → pip).
        "Makefile", "makefile", "GNUmakefile",
    ];
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() > 4 || parts.iter().any(|p| matches!(*p, "node_modules" | ".git" | "vendor" | "target" | ".venv" | "venv")) {
        return false;
    }
    let name = parts.last().copied().unwrap_or_default();
    let requirements = name.ends_with(".txt") && (name.contains("requirements") || name.contains("constraints"));
    // Key and certificate files: dockerignore leaves out only those that hold a private key.
    let key_file = [".pem", ".key"].iter().any(|e| name.ends_with(e)) || matches!(name, "id_rsa" | "id_ecdsa" | "id_ed25519");
    // Django's settings say where collectstatic writes (STATIC_ROOT); manage.py names them.
    let django = matches!(name, "manage.py" | "settings.py") || (parts.len() > 1 && parts[parts.len() - 2] == "settings" && name.ends_with(".py"));
    NAMES.contains(&name)
        || key_file
        || django
        || requirements
        || (parts.len() > 1 && parts[parts.len() - 2] == "requirements" && name.ends_with(".txt"))
        || name.ends_with(".gemspec")
        || [".csproj", ".fsproj", ".vbproj", ".sln", ".slnx"].iter().any(|ext| name.ends_with(ext))
}

/// Whether the file at `path` is a small source or configuration file whose text says which
/// context files the app opens (dockerignore keeps a file whose name it finds there). The CLI
/// loads these only when `wants_sources` says the listing calls for it.
pub fn is_source(path: &str) -> bool {
    const EXTENSIONS: &[&str] = &[
        "py", "js", "mjs", "cjs", "ts", "go", "rb", "php", "java", "kt", "cs", "rs", "ex", "exs", "sh", "lua", "pl", "scala",
        "yaml", "yml", "json", "toml", "ini", "conf", "cfg", "properties", "xml",
    ];
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() > 6 || parts.iter().any(|p| matches!(*p, "node_modules" | ".git" | "vendor" | "target" | ".venv" | "venv" | "dist" | "build")) {
        return false;
    }
    let name = parts.last().copied().unwrap_or_default();
    name.rsplit_once('.').is_some_and(|(stem, ext)| !stem.is_empty() && EXTENSIONS.contains(&ext))
}

/// Whether the sources are worth loading for this listing: it holds a file a .dockerignore
/// template may leave out only when the app does not open it (keys, certificates, bytecode).
pub fn wants_sources(files: &[String]) -> bool {
    files.iter().any(|f| {
        let name = f.rsplit('/').next().unwrap_or(f);
        [".pem", ".key", ".p12", ".pfx", ".pyc", ".crt"].iter().any(|e| name.ends_with(e)) || name.starts_with("id_") || name.starts_with(".env")
    })
}

/// Largest source file the CLI loads into `Context::contents` (see `wants_source`).
pub const MAX_SOURCE_BYTES: u64 = 128 * 1024;

/// At most this many source files are loaded per build context, the first ones in the listing's
/// order: a program's sources beyond that are not read (and what it opens cannot be told).
pub const MAX_SOURCE_FILES: usize = 400;

/// Whether the context file at `path` is a source file of a compiled program (Go, Rust, C/C++)
/// whose string literals say which files the program opens at run time (what `multi-stage`
/// carries into the runtime stage). Tests and vendored code are left out.
pub fn wants_source(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() > 10
        || parts[..parts.len() - 1].iter().any(|p| matches!(*p, "node_modules" | ".git" | "vendor" | "target" | "testdata" | "third_party"))
    {
        return false;
    }
    let name = parts.last().copied().unwrap_or_default();
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    matches!(ext, "go" | "rs" | "c" | "h" | "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx") && !name.ends_with("_test.go")
}

/// How to run: which transforms, and whether Unsafe fixes are applied.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub unsafe_fixes: bool,
    /// `None` = every transform in the catalog.
    pub select: Option<Vec<String>>,
    pub ignore: Vec<String>,
    pub config: Config,
    /// What the file's `.editorconfig` says (read by the CLI; the engine touches no files).
    pub editor: EditorSettings,
}

impl Settings {
    /// Whether `check` is reported (and fixed) under these settings: selected by `all`, its
    /// transform, its id or a related hadolint or BuildKit code (or no `select` at all), and not
    /// ignored by any of those.
    pub fn check_enabled(&self, check: &Check) -> bool {
        let selected = match &self.select {
            Some(list) => list.iter().any(|s| check.matches(s)),
            // Opt-in transforms (`format`) run only when selected or turned on by the config.
            None => self.config.opt_in(check.transform()).unwrap_or(true),
        };
        selected && !self.ignore.iter().any(|s| check.matches(s))
    }

    /// Whether the transform `name` runs under these settings: some check of it is enabled.
    pub fn enabled(&self, name: &str) -> bool {
        checks::of_transform(name).any(|c| self.check_enabled(c))
    }
}

/// The `.editorconfig` properties `format` honours, for the Dockerfile being formatted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditorSettings {
    /// `indent_style`: `Some(true)` for tab, `Some(false)` for space.
    pub indent_with_tabs: Option<bool>,
    /// `indent_size` (in columns).
    pub indent_size: Option<usize>,
}
