//! The layers of `transforms/src` import only downward, and no transform imports another
//! (docs/architecture.md). Every `crate::…` path of every source file is resolved to the top-level
//! module it names (through the re-exports of lib.rs) and checked against the layer table below.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// From the bottom up. A module may import its own layer and the ones below, except that the
/// transforms (layer 3) never import each other.
const LAYERS: &[&[&str]] = &[
    &["syntax", "fix", "checks", "config", "settings"],
    &["shell"],
    &["model", "knowledge"],
    &["approved_base", "dockerignore", "format", "layer_waste", "lint_fixes", "manifest_first", "merge_runs", "modernize", "multi_stage", "run_cleanup"],
    &["catalog", "engine"],
];
const TRANSFORMS: usize = 3;

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text without `//` comments (doc comments name paths that are not imports) and without its
/// test module: unit tests may run the whole engine.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// The first segment of every `crate::` path: `crate::a::b` gives `a`, `crate::{a::x, b}` gives `a`, `b`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => items.push(std::mem::take(&mut item)),
                    _ => item.push(c),
                }
            }
            items.push(item);
            out.extend(items.iter().map(|i| first_segment(i.trim())).filter(|s| !s.is_empty()));
        } else {
            out.push(first_segment(rest));
        }
    }
    out
}

fn first_segment(path: &str) -> String {
    path.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

/// `name → module` for what lib.rs re-exports (`pub use settings::{Context, Settings}`).
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in code(lib).lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else { continue };
        let rest = rest.trim_end_matches(';');
        let (module, names) = rest.split_once("::").unwrap_or((rest, ""));
        let names = names.trim_start_matches('{').trim_end_matches('}');
        for name in names.split(',') {
            let name = name.trim().split(" as ").last().unwrap_or("").split("::").last().unwrap_or("").trim();
            if !name.is_empty() {
                map.insert(name.to_string(), module.to_string());
            }
        }
    }
    map
}

#[test]
fn layers_import_only_downward_and_transforms_never_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let exported = reexports(&lib);
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let module = relative.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if module == "lib" || file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let Some(own) = layer(&module) else {
            problems.push(format!("{}: module `{module}` is in no layer (add it to LAYERS and docs/architecture.md)", relative.display()));
            continue;
        };
        for name in crate_paths(&code(&std::fs::read_to_string(file).unwrap())) {
            let target = if layer(&name).is_some() { name.clone() } else { exported.get(&name).cloned().unwrap_or(name.clone()) };
            if target == module {
                continue;
            }
            let Some(theirs) = layer(&target) else {
                problems.push(format!("{}: `crate::{name}` resolves to no known module", relative.display()));
                continue;
            };
            if theirs > own || (own == TRANSFORMS && theirs == TRANSFORMS) {
                problems.push(format!("{}: `{module}` (layer {own}) imports `{target}` (layer {theirs})", relative.display()));
            }
            graph.entry(module.clone()).or_default().insert(target);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Same-layer imports are allowed below the transforms: they must not form a circle either.
    fn visit(node: &str, graph: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            return Some(path[at..].to_vec());
        }
        if !done.insert(node.to_string()) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        let cycle = visit(node, &graph, &mut Vec::new(), &mut done);
        assert!(cycle.is_none(), "import circle: {:?}", cycle);
    }
}

#[test]
fn the_checker_sees_grouped_and_inline_paths() {
    let text = "use crate::{fix::Finding, model::{Input, RunShell}};\nfn f() { crate::shell::parse_script(\"\"); } // crate::engine\n";
    assert_eq!(crate_paths(&code(text)), vec!["fix", "model", "shell"]);
    assert_eq!(reexports("pub use settings::{wants_content, Context};\n")["Context"], "settings");
}
