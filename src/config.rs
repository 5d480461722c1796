//! Config discovery: the nearest `dockopt.toml` walking up from a Dockerfile's directory, or `--config FILE`.
//! With no `dockopt.toml` anywhere above, hadolint's config (`.hadolint.yaml`), found as hadolint
//! finds it, gives what dockopt shares with it. CLI flags override the config's keys.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use transforms::{check_selector, Config, LineIndex, Selector, Settings};

use crate::cli::Common;
use crate::error::render_at;

pub const CONFIG_FILE: &str = "dockopt.toml";
/// hadolint's config in a project folder (its own discovery looks in the current directory).
pub const HADOLINT_FILES: [&str; 2] = [".hadolint.yaml", ".hadolint.yml"];

/// A loaded config and where it came from (`None`: no config file, defaults).
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub path: Option<PathBuf>,
    pub config: Config,
    /// Read from a hadolint config (`.hadolint.yaml`) rather than a `dockopt.toml`.
    pub hadolint: bool,
}

impl Loaded {
    /// How `check` names it on stderr: `config: dockopt.toml`, `config: .hadolint.yaml (hadolint's: …)`.
    pub fn describe(&self) -> Option<String> {
        let path = display_path(self.path.as_deref()?);
        Some(if self.hadolint {
            format!("config: {path} (hadolint's; no dockopt.toml found: its `ignored` and `trustedRegistries` apply)")
        } else {
            format!("config: {path}")
        })
    }
}

/// Whether `path` names a hadolint config (YAML) rather than a `dockopt.toml`.
fn is_yaml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}

/// What dockopt reads of hadolint's config; every other key is hadolint's business and is skipped.
#[derive(serde::Deserialize, Default)]
struct HadolintConfig {
    #[serde(default)]
    ignored: Vec<String>,
    #[serde(default, rename = "trustedRegistries")]
    trusted_registries: Vec<String>,
}

/// Read a hadolint config: `ignored` → `ignore` (through the registry, as `--ignore DL3009`
/// would), `trustedRegistries` → `[base] allow` (`registry/*`; hadolint counts Docker Hub images
/// as `docker.io` and `hub.docker.com`).
pub fn load_hadolint(path: &Path) -> Result<Loaded, String> {
    let display = display_path(path);
    let text = std::fs::read_to_string(path).map_err(|e| format!("{display}: cannot read config: {e}"))?;
    let parsed: Option<HadolintConfig> = match serde_yaml_ng::from_str(&text) {
        Ok(parsed) => parsed,
        Err(e) => {
            let message = e.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_string();
            return Err(match e.location() {
                Some(at) => render_at(&display, &text, at.line(), at.column(), &message),
                None => format!("{display}: {message}"),
            });
        }
    };
    // An empty file is an empty config, as for hadolint.
    let parsed = parsed.unwrap_or_default();
    let ignore: Vec<String> = parsed
        .ignored
        .into_iter()
        .filter(|code| check_selector(code, Selector::Ignore).is_ok())
        .collect();
    let mut allow = Vec::new();
    for registry in &parsed.trusted_registries {
        let glob = match registry.trim() {
            "*" => "*".to_string(),
            "docker.io" | "hub.docker.com" | "index.docker.io" => "docker.io/*".to_string(),
            other => format!("{}/*", other.trim_end_matches('/')),
        };
        transforms::config::check_image_glob(&glob)
            .map_err(|e| format!("{display}: trustedRegistries: `{registry}` is not a registry ({e})"))?;
        if !allow.contains(&glob) {
            allow.push(glob);
        }
    }
    let mut config = Config::default();
    if !ignore.is_empty() {
        config.ignore = Some(ignore);
    }
    config.base.allow = allow;
    Ok(Loaded { path: Some(path.to_path_buf()), config, hadolint: true })
}

/// Read and check one config file. The error is rendered (`path:line:col: message` + caret when the
/// position is known) and ready to print.
pub fn load(path: &Path) -> Result<Loaded, String> {
    let display = display_path(path);
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{display}: cannot read config: {e}"))?;
    let config = match Config::from_toml(&text) {
        Ok(config) => config,
        Err(message) => return Err(render_toml_error(&display, &text, message)),
    };
    check_values(&display, &text)?;
    Ok(Loaded {
        path: Some(path.to_path_buf()),
        config,
        hadolint: false,
    })
}

/// `Config::from_toml` gives a string; re-read with toml to get the span of the error when there is one.
fn render_toml_error(display: &str, text: &str, fallback: String) -> String {
    if let Err(e) = toml::from_str::<Config>(text) {
        let message = e.message().trim().to_string();
        if let Some(span) = e.span() {
            let (line, col) = LineIndex::new(text).line_col(text, span.start);
            return render_at(display, text, line, col, &message);
        }
        return format!("{display}: {message}");
    }
    format!("{display}: {}", fallback.trim())
}

/// The values of the config that are checked beyond their type, with where they are in the file.
#[derive(serde::Deserialize)]
struct Checked {
    #[serde(default)]
    select: Vec<toml::Spanned<String>>,
    #[serde(default)]
    ignore: Vec<toml::Spanned<String>>,
    #[serde(default)]
    exclude: Vec<toml::Spanned<String>>,
}

/// Every name in `select`/`ignore` must name transforms or checks, every `exclude` pattern must be a glob
/// (checked when the config is read, not once a walk needs it); the error points at the value,
/// like any other config error.
fn check_values(display: &str, text: &str) -> Result<(), String> {
    let Ok(values) = toml::from_str::<Checked>(text) else {
        return Ok(());
    };
    let select = values.select.iter().map(|name| (name, Selector::Select));
    let ignore = values.ignore.iter().map(|name| (name, Selector::Ignore));
    let names = select
        .chain(ignore)
        .map(|(name, role)| (name, check_selector(name.get_ref(), role)));
    let patterns = values.exclude.iter().map(|p| (p, check_exclude(p.get_ref())));
    for (value, result) in names.chain(patterns) {
        if let Err(message) = result {
            let (line, col) = LineIndex::new(text).line_col(text, value.span().start);
            return Err(render_at(display, text, line, col, &message));
        }
    }
    Ok(())
}

/// A gitignore-style pattern, checked by the matcher `Excludes` builds.
fn check_exclude(pattern: &str) -> Result<(), String> {
    ignore::gitignore::GitignoreBuilder::new("/")
        .add_line(None, pattern)
        .map(drop)
        .map_err(|e| format!("exclude `{pattern}`: {e}"))
}

/// Finds and loads configs, each file once, each directory looked at once.
#[derive(Default)]
pub struct Discovery {
    /// Directory → nearest `dockopt.toml` at or above it.
    nearest: HashMap<PathBuf, Option<PathBuf>>,
    /// Directory → nearest `.hadolint.yaml`/`.yml` at or above it.
    nearest_hadolint: HashMap<PathBuf, Option<PathBuf>>,
    /// hadolint's own places (current directory, `$XDG_CONFIG_HOME`, home), looked at once.
    hadolint_global: Option<Option<PathBuf>>,
    loaded: HashMap<PathBuf, Result<Arc<Loaded>, String>>,
    defaults: Arc<Loaded>,
}

impl Discovery {
    /// The config for files in `dir` (relative paths are taken from the current directory): the
    /// nearest `dockopt.toml` above it; with none, hadolint's config.
    pub fn for_dir(&mut self, dir: &Path) -> Result<Arc<Loaded>, String> {
        let dir = absolute(dir);
        match self.find(&dir).or_else(|| self.find_hadolint(&dir)) {
            Some(file) => self.load_cached(&file),
            None => Ok(self.defaults.clone()),
        }
    }

    /// The config given by `--config FILE`: a `dockopt.toml`, or a hadolint config (`.yaml`/`.yml`).
    pub fn explicit(&mut self, file: &Path) -> Result<Arc<Loaded>, String> {
        self.load_cached(file)
    }

    /// Every config file loaded so far, in the order of their paths.
    pub fn used(&self) -> Vec<Arc<Loaded>> {
        let mut used: Vec<Arc<Loaded>> = self.loaded.values().filter_map(|l| l.as_ref().ok().cloned()).collect();
        used.sort_by(|a, b| a.path.cmp(&b.path));
        used
    }

    fn load_cached(&mut self, file: &Path) -> Result<Arc<Loaded>, String> {
        self.loaded
            .entry(file.to_path_buf())
            .or_insert_with(|| if is_yaml(file) { load_hadolint(file) } else { load(file) }.map(Arc::new))
            .clone()
    }

    fn find(&mut self, dir: &Path) -> Option<PathBuf> {
        nearest(&mut self.nearest, dir, &[CONFIG_FILE])
    }

    /// hadolint's config for files in `dir`: the nearest `.hadolint.yaml`/`.yml` above it, then
    /// where hadolint itself looks: the current directory, `$XDG_CONFIG_HOME/hadolint.yaml` (or
    /// `~/.config`), `~/.hadolint/{hadolint,config}.yaml`, `~/.hadolint.yaml` (`.yml` too).
    fn find_hadolint(&mut self, dir: &Path) -> Option<PathBuf> {
        nearest(&mut self.nearest_hadolint, dir, &HADOLINT_FILES).or_else(|| {
            self.hadolint_global.get_or_insert_with(hadolint_global).clone()
        })
    }
}

/// The nearest of `names` in `dir` or a folder above it, remembered per folder in `cache`.
fn nearest(cache: &mut HashMap<PathBuf, Option<PathBuf>>, dir: &Path, names: &[&str]) -> Option<PathBuf> {
    let mut visited = Vec::new();
    let mut found = None;
    'up: for ancestor in dir.ancestors() {
        if let Some(known) = cache.get(ancestor) {
            found = known.clone();
            break;
        }
        visited.push(ancestor.to_path_buf());
        for name in names {
            let candidate = ancestor.join(name);
            if candidate.is_file() {
                found = Some(candidate);
                break 'up;
            }
        }
    }
    for v in visited {
        cache.insert(v, found.clone());
    }
    found
}

/// hadolint's own search (Hadolint.Config.Configfile.findConfig), first found wins.
fn hadolint_global() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|x| !x.is_empty())
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".config")));
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        candidates.extend(HADOLINT_FILES.iter().map(|f| cwd.join(f)));
    }
    if let Some(xdg) = xdg {
        candidates.extend(["hadolint.yaml", "hadolint.yml"].iter().map(|f| xdg.join(f)));
    }
    if let Some(home) = home {
        let dir = home.join(".hadolint");
        candidates.extend(["hadolint.yaml", "hadolint.yml", "config.yaml", "config.yml"].iter().map(|f| dir.join(f)));
        candidates.extend(HADOLINT_FILES.iter().map(|f| home.join(f)));
    }
    candidates.into_iter().find(|c| c.is_file())
}

/// A path for messages: relative to the current directory when it is under it.
fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    match cwd.as_deref().and_then(|cwd| path.strip_prefix(cwd).ok()) {
        Some(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => path.display().to_string(),
    }
}

fn absolute(dir: &Path) -> PathBuf {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// The settings for one run: CLI flags override the config's keys.
pub fn settings(flags: &Common, config: &Config) -> Settings {
    Settings {
        unsafe_fixes: !flags.no_unsafe && (flags.unsafe_fixes || config.unsafe_fixes.unwrap_or(false)),
        select: flags.select.clone().or_else(|| config.select.clone()),
        ignore: flags
            .ignore
            .clone()
            .or_else(|| config.ignore.clone())
            .unwrap_or_default(),
        config: Config {
            target: flags.target.clone().or_else(|| config.target.clone()),
            ..config.clone()
        },
        editor: Default::default(),
    }
}

/// Check the names given on the command line (before touching any file).
pub fn validate_flags(flags: &Common) -> Result<(), String> {
    let select = Settings {
        select: flags.select.clone(),
        ..Settings::default()
    };
    select.validate().map_err(|e| format!("--select: {e}"))?;
    let ignore = Settings {
        ignore: flags.ignore.clone().unwrap_or_default(),
        ..Settings::default()
    };
    ignore.validate().map_err(|e| format!("--ignore: {e}"))
}

/// Gitignore-style `exclude` patterns rooted at a folder (the config file's, or the current one for
/// `--exclude`).
#[derive(Debug)]
pub struct Excludes {
    matcher: ignore::gitignore::Gitignore,
}

impl Excludes {
    pub fn new(root: &Path, patterns: &[String], origin: &str) -> Result<Excludes, String> {
        let mut builder = ignore::gitignore::GitignoreBuilder::new(absolute(root));
        for pattern in patterns {
            builder.add_line(None, pattern).map_err(|e| format!("{origin}: exclude `{pattern}`: {e}"))?;
        }
        let matcher = builder.build().map_err(|e| format!("{origin}: exclude: {e}"))?;
        Ok(Excludes { matcher })
    }

    /// Whether `path` (relative to the current directory, or absolute) or a folder above it matches.
    pub fn excludes(&self, path: &Path) -> bool {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        path.starts_with(self.matcher.path()) && self.matcher.matched_path_or_any_parents(&path, false).is_ignore()
    }
}

/// The `exclude` of a loaded config, rooted at its folder.
pub fn config_excludes(loaded: &Loaded) -> Result<Option<Excludes>, String> {
    match &loaded.path {
        Some(path) if !loaded.config.exclude.is_empty() => {
            let root = path.parent().unwrap_or(Path::new("."));
            Excludes::new(root, &loaded.config.exclude, &display_path(path)).map(Some)
        }
        _ => Ok(None),
    }
}
