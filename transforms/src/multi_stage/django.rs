//! Django's `collectstatic` writes the static files into the settings' STATIC_ROOT: when that
//! folder is outside what the runtime stage copies, it is carried like any file a RUN makes, and
//! when the settings cannot say where it is, the split is refused with that reason.

use super::carry::add_copy;
use super::plan::Plan;
use super::scan::{Built, Scan};
use crate::model::{Dir, Input};
use crate::shell::NO_OPTIONS;

/// Copies STATIC_ROOT of every `collectstatic` of the stage into the runtime stage.
pub(super) fn collected_static(input: &Input, scan: &Scan, plan: &mut Plan) -> Result<(), String> {
    for built in scan.commands.iter().filter(|b| b.view().positionals(NO_OPTIONS).any(|w| w.is("collectstatic"))) {
        let (root, settings) = static_root(input, scan, built)?;
        if !plan.copies.iter().any(|(from, _)| Dir::inside(&root, from).is_some()) {
            plan.notes.push(format!("collectstatic writes STATIC_ROOT {root} ({settings}): copied from the build stage"));
            add_copy(plan, root);
        }
    }
    Ok(())
}

/// The absolute STATIC_ROOT `built` (a `collectstatic`) writes, with the settings file that says so.
fn static_root(input: &Input, scan: &Scan, built: &Built) -> Result<(String, String), String> {
    let view = built.view();
    let cwd = built.cwd.as_deref().ok_or("collectstatic runs in an unknown folder (no WORKDIR): where it writes cannot be told")?;
    // manage.py puts its own folder first on sys.path; django-admin relies on the working directory.
    let manage = view.words().iter().filter_map(|w| w.literal.as_deref()).find(|w| w.rsplit('/').next() == Some("manage.py"));
    let manage = manage.and_then(|m| Dir::resolve(Some(cwd), m));
    let base = manage.as_deref().and_then(|m| m.rsplit_once('/')).map_or(cwd.to_string(), |(d, _)| if d.is_empty() { "/".into() } else { d.to_string() });
    let read = |abs: &str| scan.context_path(abs).and_then(|p| input.context.contents.get(&p).map(|t| (p, t.as_str())));
    let module = view
        .option_value(None, Some("settings"))
        .map(str::to_string)
        .or_else(|| scan.var(built, "DJANGO_SETTINGS_MODULE"))
        .or_else(|| manage.as_deref().and_then(read).and_then(|(_, text)| default_settings(text)))
        .ok_or("collectstatic: no --settings, DJANGO_SETTINGS_MODULE or manage.py default names the settings module, so STATIC_ROOT cannot be read")?;
    let unreadable = || format!("collectstatic: the settings module `{module}` is not in the build context's readable files, so STATIC_ROOT (where it writes) cannot be read");
    let file = module_file(&base, &module, &read).ok_or_else(unreadable)?;
    let mut visited = Vec::new();
    let Assigned { settings, expr, defs } = find_static_root(&file, &read, &mut visited).ok_or_else(|| {
        format!("collectstatic: {} does not set STATIC_ROOT at its top level (or sets it conditionally): where it writes cannot be told", visited.join(", "))
    })?;
    let root = evaluate(&expr, &defs, &file, cwd, 0).ok_or_else(|| {
        format!("collectstatic: STATIC_ROOT = {expr} ({settings}) is not a path dockopt can work out: where it writes cannot be told")
    })?;
    Ok((root, settings))
}

/// `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")` of manage.py.
fn default_settings(manage: &str) -> Option<String> {
    let at = manage.find("DJANGO_SETTINGS_MODULE")?;
    let rest = manage[at + "DJANGO_SETTINGS_MODULE".len()..].trim_start_matches(['"', '\'']).trim_start();
    let rest = rest.strip_prefix(',')?.trim_start();
    string_literal_prefix(rest).map(str::to_string)
}

/// The absolute path of module `a.b` under `base` that the context holds: `a/b.py` or `a/b/__init__.py`.
fn module_file<'t>(base: &str, module: &str, read: &impl Fn(&str) -> Option<(String, &'t str)>) -> Option<String> {
    let path = format!("{}/{}", base.trim_end_matches('/'), module.replace('.', "/"));
    [format!("{path}.py"), format!("{path}/__init__.py")].into_iter().find(|p| read(p).is_some())
}

/// The settings file that assigns STATIC_ROOT.
struct Assigned {
    /// Its context path.
    settings: String,
    /// The expression assigned.
    expr: String,
    /// Its top-level assignments, in order: (name, expression).
    defs: Vec<(String, String)>,
}

/// The STATIC_ROOT assignment of settings file `file` (image path) or of the modules it
/// star-imports. `visited` lists the files read.
fn find_static_root<'t>(file: &str, read: &impl Fn(&str) -> Option<(String, &'t str)>, visited: &mut Vec<String>) -> Option<Assigned> {
    let (context, text) = read(file)?;
    if visited.contains(&context) || visited.len() > 8 {
        return None;
    }
    visited.push(context.clone());
    let mut defs: Vec<(String, String)> = Vec::new();
    let mut indented = false;
    let mut imports: Vec<String> = Vec::new();
    for line in text.lines() {
        let code = line.split(" #").next().unwrap_or(line).trim_end();
        if let Some((name, value)) = assignment(code) {
            if line.starts_with([' ', '\t']) {
                indented |= name == "STATIC_ROOT";
            } else {
                defs.push((name.to_string(), value.to_string()));
            }
        } else if let Some(module) = code.strip_prefix("from ").and_then(|r| r.strip_suffix(" import *")) {
            imports.push(module.trim().to_string());
        }
    }
    let dir = file.rsplit_once('/').map_or("/", |(d, _)| d);
    if indented {
        return None;
    }
    if let Some((_, expr)) = defs.iter().rev().find(|(n, _)| n == "STATIC_ROOT") {
        return Some(Assigned { settings: context, expr: expr.clone(), defs });
    }
    // `from .base import *`: a sibling module sets it.
    for module in imports.iter().rev() {
        let Some(relative) = module.strip_prefix('.') else { continue };
        if relative.starts_with('.') {
            continue;
        }
        if let Some(next) = module_file(dir, relative, read) {
            if let Some(found) = find_static_root(&next, read, visited) {
                return Some(found);
            }
        }
    }
    None
}

/// `NAME = value` at the start of a line (not `==`, not an annotation), with the value.
fn assignment(code: &str) -> Option<(&str, &str)> {
    let trimmed = code.trim_start();
    let (name, value) = trimmed.split_once('=')?;
    let name = name.trim_end();
    let value = value.trim();
    let identifier = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !name.starts_with(|c: char| c.is_ascii_digit());
    (identifier && !value.starts_with('=') && !value.is_empty()).then_some((name, value))
}

/// The absolute path a STATIC_ROOT-like expression names: a string (relative: to the working
/// directory), `Path(__file__).resolve().parent…`, `os.path.dirname(…__file__…)`, a name assigned
/// above, and `/`, `os.path.join`, `Path(…)` and `str(…)` of those.
fn evaluate(expr: &str, defs: &[(String, String)], file: &str, cwd: &str, depth: u8) -> Option<String> {
    let expr = expr.trim();
    if depth > 6 {
        return None;
    }
    if let Some(text) = string_literal(expr) {
        return Dir::resolve(Some(cwd), text);
    }
    let parts = split_top(expr, '/');
    if parts.len() > 1 {
        let mut path = evaluate(parts[0], defs, file, cwd, depth + 1)?;
        for part in &parts[1..] {
            path = Dir::resolve(Some(&path), string_literal(part.trim())?)?;
        }
        return Some(path);
    }
    if expr.contains("__file__") {
        return parent_of_file(expr, file);
    }
    for call in ["str", "os.path.join", "path.join", "Path", "pathlib.Path", "os.path.abspath", "os.path.realpath"] {
        let Some(inner) = expr.strip_prefix(call).and_then(|r| r.strip_prefix('(')).and_then(|r| r.strip_suffix(')')) else { continue };
        let args = split_top(inner, ',');
        let mut path = evaluate(args.first()?, defs, file, cwd, depth + 1)?;
        for arg in args.iter().skip(1).map(|a| a.trim()).filter(|a| !a.is_empty()) {
            path = Dir::resolve(Some(&path), string_literal(arg)?)?;
        }
        return Some(path);
    }
    let named = expr.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let (_, value) = defs.iter().rev().find(|(n, _)| named && n == expr)?;
    evaluate(value, defs, file, cwd, depth + 1)
}

/// `Path(__file__).resolve().parent.parent`, `.parents[1]`, `os.path.dirname(os.path.abspath(__file__))`:
/// the folder that many levels above `file`.
fn parent_of_file(expr: &str, file: &str) -> Option<String> {
    let compact: String = expr.chars().filter(|c| !c.is_whitespace()).collect();
    let known = compact.starts_with("Path(__file__)") || compact.starts_with("pathlib.Path(__file__)") || compact.starts_with("os.path.dirname(");
    if !known {
        return None;
    }
    let mut levels = compact.matches(".parent").count() - compact.matches(".parents[").count() + compact.matches("os.path.dirname(").count();
    for index in compact.split(".parents[").skip(1) {
        levels += index.split(']').next()?.parse::<usize>().ok()? + 1;
    }
    if levels == 0 {
        return None;
    }
    let mut path = file.to_string();
    for _ in 0..levels {
        path = path.rsplit_once('/').map(|(d, _)| if d.is_empty() { "/".to_string() } else { d.to_string() })?;
    }
    Some(path)
}

/// `expr` cut at `separator` outside brackets and strings.
fn split_top(expr: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None, 0);
    for (i, c) in expr.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth -= 1,
            (None, _) if c == separator && depth == 0 => {
                parts.push(&expr[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&expr[start..]);
    parts
}

/// The text of a whole Python string literal (`"x"`, `'x'`, `r"x"`), without escapes.
fn string_literal(expr: &str) -> Option<&str> {
    let text = string_literal_prefix(expr)?;
    let quoted = expr.trim_start_matches(['r', 'R']);
    (quoted.len() == text.len() + 2).then_some(text)
}

/// The text of the string literal `expr` starts with.
fn string_literal_prefix(expr: &str) -> Option<&str> {
    let quoted = expr.strip_prefix(['r', 'R']).unwrap_or(expr);
    let quote = quoted.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let body = &quoted[1..];
    let end = body.find(quote)?;
    let text = &body[..end];
    (!text.contains('\\')).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(settings: &str) -> Option<String> {
        let defs: Vec<(String, String)> = settings.lines().filter_map(assignment).map(|(n, v)| (n.to_string(), v.to_string())).collect();
        let (_, expr) = defs.iter().rev().find(|(n, _)| n == "STATIC_ROOT")?;
        evaluate(expr, &defs, "/app/config/settings.py", "/app", 0)
    }

    #[test]
    fn static_roots() {
        assert_eq!(root("STATIC_ROOT = \"/var/www/static\"").as_deref(), Some("/var/www/static"));
        assert_eq!(root("STATIC_ROOT = 'collected'").as_deref(), Some("/app/collected"));
        assert_eq!(root("BASE_DIR = Path(__file__).resolve().parent.parent\nSTATIC_ROOT = BASE_DIR / \"staticfiles\"").as_deref(), Some("/app/staticfiles"));
        assert_eq!(root("BASE_DIR = Path(__file__).resolve().parents[2]\nSTATIC_ROOT = str(BASE_DIR / 'public' / 'static')").as_deref(), Some("/public/static"));
        let os_path = "BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))\nSTATIC_ROOT = os.path.join(BASE_DIR, 'static')";
        assert_eq!(root(os_path).as_deref(), Some("/app/static"));
        assert_eq!(root("STATIC_ROOT = os.environ.get(\"STATIC_ROOT\", \"/static\")"), None);
        assert_eq!(root("STATIC_ROOT = env(\"STATIC_ROOT\")"), None);
    }

    #[test]
    fn manage_py_default() {
        let manage = "    os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"shop.settings.production\")\n";
        assert_eq!(default_settings(manage).as_deref(), Some("shop.settings.production"));
    }
}
