//! Python projects installed by a project tool (Poetry, Pipenv, uv): which virtualenv each install
//! fills, so that the runtime stage copies that folder and neither the tool nor its own virtualenv.
//! The tools are described in `[[python-tool]]` of `knowledge/multi-stage.toml`.

use super::carry::command_text;
use super::knowledge::{knowledge, PythonTool};
use super::scan::{Built, Scan};
use crate::model::reference::ImageRef;
use crate::model::{Dir, Input};
use crate::shell::{CommandView, ShellWord, NO_OPTIONS};

/// Where a project tool's install puts the packages.
pub(super) enum Target {
    /// A virtualenv at this absolute path.
    Venv(String),
    /// The active environment: the one VIRTUAL_ENV names, else the Python the tool runs on (on a
    /// python image, what a virtualenv added before it receives).
    Active,
}

/// The tool of a command that installs a project's packages (`poetry install`, `uv sync`,
/// `uv pip install`, `pipenv install`), with whether it is the tool's pip interface.
pub(super) fn project_install(view: CommandView) -> Option<(&'static PythonTool, bool)> {
    let tool = tool_of(view)?;
    let mut subcommands = view.positionals(NO_OPTIONS).filter_map(|w| w.literal.as_deref());
    let first = subcommands.next()?;
    if tool.installs.iter().any(|s| s == first) {
        return Some((tool, false));
    }
    (tool.pip && first == "pip" && subcommands.next() == Some("install")).then_some((tool, true))
}

/// The program that runs a project tool's program in its virtualenv (`poetry run gunicorn`).
pub(super) fn runner(line: &[ShellWord]) -> Option<&'static PythonTool> {
    let view = CommandView::of(line);
    let tool = tool_of(view)?;
    (view.subcommand() == Some(tool.runner.as_str())).then_some(tool)
}

fn tool_of(view: CommandView) -> Option<&'static PythonTool> {
    let name = view.basename()?;
    knowledge().python_tool.iter().find(|t| t.name == name)
}

/// Whether a `pip install` installs only project tools (`pip install poetry==1.8.3`): the build
/// stage needs them, the runtime does not.
pub(super) fn installs_only_tools(view: CommandView) -> bool {
    let options = ["-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host"];
    let mut packages = view.positionals(&options).filter_map(|w| w.literal.as_deref()).skip_while(|w| *w != "install").skip(1).peekable();
    if packages.peek().is_none() || view.has_flag(Some('r'), Some("requirement")) || view.has_flag(Some('e'), Some("editable")) {
        return false;
    }
    let tools = &knowledge().python_tool;
    packages.all(|p| {
        let name = p.split(['=', '<', '>', '~', '!', '[', ';', ' ']).next().unwrap_or(p).to_ascii_lowercase();
        tools.iter().any(|t| t.packages.contains(&name))
    })
}

/// Where the install of `built` by `tool` goes. `Err` says why that cannot be told.
pub(super) fn target(scan: &Scan, built: &Built, tool: &PythonTool, pip: bool) -> Result<Target, String> {
    let view = built.view();
    let command = command_text(view);
    let project = built.cwd.clone().ok_or_else(|| format!("`{command}` runs in an unknown folder (no WORKDIR): where its virtualenv goes cannot be told"))?;
    if tool.project_options.iter().any(|o| view.has_flag(None, o.strip_prefix("--")) || view.words().iter().any(|w| w.is(o))) {
        return Err(format!("`{command}` names another project folder: where its virtualenv goes cannot be told"));
    }
    let var = |name: &str| scan.var(built, name).filter(|v| !v.contains('$'));
    let in_project = || format!("{}/.venv", project.trim_end_matches('/'));
    if pip {
        if view.has_flag(None, Some("system")) {
            return Err(format!(
                "`{command}` installs into the system's site-packages: with --system uv skips every virtualenv, so one added before it would stay empty and the runtime stage could not copy the packages as one folder"
            ));
        }
        // `--python /opt/venv/bin/python`: the environment of that interpreter.
        match python_option(view, tool) {
            Some(python) if python.contains('/') => {
                let venv = Dir::resolve(Some(&project), python).and_then(|p| Some(p.rsplit_once("/bin/")?.0.to_string()));
                return venv.filter(|v| !v.is_empty()).map(Target::Venv).ok_or_else(|| format!("`{command}` installs for `{python}`, not a virtualenv's bin/python"));
            }
            Some(python) => return Err(format!("`{command}` installs for whichever Python {python} uv finds first: where cannot be told")),
            None => {}
        }
        return Ok(Target::Venv(var("VIRTUAL_ENV").unwrap_or_else(in_project)));
    }
    if tool.follows_virtual_env {
        if let Some(venv) = var("VIRTUAL_ENV") {
            return Ok(Target::Venv(venv));
        }
    }
    if let Some(env) = tool.project_env.as_deref() {
        if let Some(folder) = var(env) {
            return Dir::resolve(Some(&project), &folder).map(Target::Venv).ok_or_else(|| format!("{env} `{folder}` is not a path"));
        }
    }
    let setting = |env: Option<&str>, key: Option<&str>| -> Option<bool> {
        let from_env = env.and_then(var).and_then(|v| boolean(&v));
        from_env.or_else(|| key.and_then(|k| configured(scan, tool, k)))
    };
    if tool.always_in_project || setting(tool.in_project_env.as_deref(), tool.in_project_config.as_deref()) == Some(true) {
        return Ok(Target::Venv(in_project()));
    }
    let system = tool.system_flag.as_deref().is_some_and(|f| view.has_flag(None, f.strip_prefix("--")));
    if system || setting(tool.create_env.as_deref(), tool.create_config.as_deref()) == Some(false) {
        return Ok(Target::Active);
    }
    let how = tool.in_project_env.as_deref().map(|e| format!(" (set {e}=true)")).unwrap_or_default();
    Err(format!("`{command}` makes its virtualenv in {}'s own folder, under a name with a hash: where cannot be told{how}", tool.name))
}

/// The value a `<tool> config [--local] <key> <value>` of the stage gives `key`.
fn configured(scan: &Scan, tool: &PythonTool, key: &str) -> Option<bool> {
    scan.commands.iter().rev().find_map(|b| {
        let view = b.view();
        if view.basename() != Some(tool.name.as_str()) || view.subcommand() != Some("config") {
            return None;
        }
        let words: Vec<&str> = view.positionals(NO_OPTIONS).skip(1).filter_map(|w| w.literal.as_deref()).collect();
        match words.as_slice() {
            [k, value] if *k == key => boolean(value),
            _ => None,
        }
    })
}

fn boolean(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

/// Refuses an install whose virtualenv may be built on a Python the tool installs into its own
/// home, which the runtime stage does not copy: `uv python install`, or a project asking (option,
/// ENV, `.python-version`, `requires-python`) for a Python the image does not have, which uv downloads.
pub(super) fn check_python(input: &Input, scan: &Scan, built: &Built, tool: &PythonTool, image: &ImageRef) -> Result<(), String> {
    if let Some(sub) = tool.manages_python.as_deref() {
        let installs_python = scan.commands.iter().any(|b| {
            let view = b.view();
            view.basename() == Some(tool.name.as_str()) && view.positionals(NO_OPTIONS).filter_map(|w| w.literal.as_deref()).take(2).eq([sub, "install"])
        });
        if installs_python {
            return Err(format!("`{0} {sub} install` puts a Python under {0}'s own home, which the runtime stage does not copy: the virtualenv would lose its interpreter", tool.name));
        }
    }
    let Some(request) = tool.downloads_python.as_ref() else { return Ok(()) };
    let view = built.view();
    let project = built.cwd.as_deref().unwrap_or("/");
    let read = |name: &str| {
        let path = Dir::resolve(Some(project), name)?;
        input.context.contents.get(&scan.context_path(&path)?).map(String::as_str)
    };
    // An interpreter named by path is the image's own (a virtualenv's), not a version to download.
    let option = python_option(view, tool).filter(|p| !p.contains('/'));
    let asked: Vec<(String, String)> = [
        option.map(|v| (v.to_string(), format!("`{v}`"))),
        scan.var(built, &request.env).map(|v| (v, request.env.clone())),
        read(&request.file).and_then(|t| t.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#'))).map(|v| (v.to_string(), request.file.clone())),
        read("pyproject.toml").and_then(requires_python).map(|v| (v, "requires-python".to_string())),
    ]
    .into_iter()
    .flatten()
    .collect();
    let Some((spec, source)) = asked.first() else { return Ok(()) };
    let why = format!("`{}` would download Python {spec} ({source}) into its own home, which the runtime stage does not copy", tool.name);
    let Some(have) = image_python(image) else {
        return Err(format!("the Python version of `{}` is not known: if it is not {spec} ({source}), {why}", image.text));
    };
    match satisfies(spec, have) {
        Some(true) => Ok(()),
        Some(false) => Err(format!("the image's Python is {}.{}: {why}", have.0, have.1)),
        None => Err(format!("whether the image's Python {}.{} is {spec} ({source}) cannot be told from its tag: if not, {why}", have.0, have.1)),
    }
}

/// The Python the tool's options name (`uv sync --python 3.12`, `uv pip install -p /opt/venv/bin/python`).
fn python_option<'a>(view: CommandView<'a>, tool: &PythonTool) -> Option<&'a str> {
    tool.downloads_python.as_ref()?.options.iter().find_map(|o| match o.strip_prefix("--") {
        Some(long) => view.option_value(None, Some(long)),
        None => view.option_value(o.chars().nth(1), None),
    })
}

/// `requires-python = ">=3.11"` of a pyproject.toml's `[project]`.
fn requires_python(pyproject: &str) -> Option<String> {
    let line = pyproject.lines().map(str::trim).find(|l| l.starts_with("requires-python"))?;
    let value = line.split_once('=')?.1.trim();
    Some(value.trim_matches(['"', '\'']).to_string())
}

/// The Python minor of an image: an official python image's tag, or a distribution release's own.
fn image_python(image: &ImageRef) -> Option<(u32, u32)> {
    let tag = image.tag().unwrap_or("latest");
    let version = if image.official_name().as_deref() == Some("python") {
        tag
    } else {
        let release = tag.split('-').next().unwrap_or(tag);
        knowledge().python_of_release.get(&format!("{}:{release}", image.familiar_name()))?
    };
    let parts = version_parts(version);
    Some((*parts.first()?.as_ref()?, *parts.get(1)?.as_ref()?))
}

/// `3.12.1` → [3, 12, 1]; a `*` or a word that is not a number → None at its place.
fn version_parts(version: &str) -> Vec<Option<u32>> {
    let version = version.split('-').next().unwrap_or(version);
    version.split('.').map(|p| p.parse().ok()).collect()
}

/// Whether Python `have` (major, minor; any patch) meets a version request or specifier set
/// (`3.12`, `>=3.10,<4`, `~=3.11`, `cpython@3.12`); None when only the patch release could tell.
fn satisfies(spec: &str, have: (u32, u32)) -> Option<bool> {
    let mut all = Some(true);
    for clause in spec.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let clause = clause.trim_start_matches("cpython").trim_start_matches(['@', '-']);
        let at = clause.find(|c: char| c.is_ascii_digit()).unwrap_or(clause.len());
        let (op, version) = (clause[..at].trim(), &clause[at..]);
        let parts = version_parts(version);
        let major = (*parts.first()?)?;
        let Some(Some(minor)) = parts.get(1).copied() else {
            // `3`, `>=3`: the major alone.
            let result = match op {
                "" | "==" => have.0 == major,
                ">=" | "~=" => have.0 >= major,
                "<" => have.0 < major,
                _ => return None,
            };
            all = all.map(|a| a && result);
            continue;
        };
        let patch = parts.get(2).copied().flatten().filter(|p| *p > 0);
        let wanted = (major, minor);
        let result = match op {
            "" | "==" | "===" if patch.is_none() => Some(have == wanted),
            // A patch release: only the image's own patch could tell.
            "" | "==" | "===" | "~=" if patch.is_some() => (have != wanted).then_some(false),
            ">=" => (have != wanted || patch.is_none()).then_some(have >= wanted),
            ">" => (have != wanted).then_some(have > wanted),
            "<" => (have != wanted || patch.is_none()).then_some(have < wanted),
            "<=" => (have != wanted).then_some(have < wanted),
            "!=" => (have != wanted).then_some(true),
            "~=" => Some(have >= wanted && have.0 == major),
            _ => None,
        };
        all = match (all, result) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        };
    }
    all
}

#[cfg(test)]
mod tests {
    use super::satisfies;

    #[test]
    fn python_requests() {
        assert_eq!(satisfies("3.12", (3, 12)), Some(true));
        assert_eq!(satisfies("3.13", (3, 12)), Some(false));
        assert_eq!(satisfies(">=3.11", (3, 12)), Some(true));
        assert_eq!(satisfies(">=3.10,<4", (3, 11)), Some(true));
        assert_eq!(satisfies(">=3.13", (3, 12)), Some(false));
        assert_eq!(satisfies(">=3.12.4", (3, 12)), None);
        assert_eq!(satisfies("3.12.4", (3, 11)), Some(false));
        assert_eq!(satisfies("~=3.11", (3, 12)), Some(true));
        assert_eq!(satisfies("cpython@3.12", (3, 12)), Some(true));
        assert_eq!(satisfies("==3.12.*", (3, 12)), Some(true));
        assert_eq!(satisfies("pypy@3.10", (3, 10)), None);
    }
}
