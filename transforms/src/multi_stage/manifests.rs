//! What the manifests in the build context say: Cargo.toml binaries, package.json scripts and
//! workspaces, the kind of a .NET project.

use std::collections::BTreeMap;

/// The binaries a Cargo.toml builds, and the crates it depends on.
pub(super) struct Cargo {
    pub bins: Vec<String>,
    pub dependencies: Vec<String>,
}

pub(super) fn cargo(text: &str) -> Result<Cargo, String> {
    let value: toml::Value = toml::from_str(text).map_err(|_| "Cargo.toml does not parse".to_string())?;
    let package = value.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str());
    if package.is_none() && value.get("workspace").is_some() {
        return Err("Cargo.toml is a workspace: which member's binary runs cannot be told".into());
    }
    let mut bins: Vec<String> = value
        .get("bin")
        .and_then(|b| b.as_array())
        .map(|list| list.iter().filter_map(|b| b.get("name")?.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if bins.is_empty() {
        bins.extend(package.map(str::to_string));
    }
    let mut dependencies = Vec::new();
    for table in ["dependencies", "build-dependencies"] {
        if let Some(deps) = value.get(table).and_then(|d| d.as_table()) {
            for (name, spec) in deps {
                // `foo = { package = "bar" }` depends on the crate bar.
                let crate_name = spec.get("package").and_then(|p| p.as_str()).unwrap_or(name);
                dependencies.push(crate_name.to_string());
            }
        }
    }
    if bins.is_empty() {
        return Err("Cargo.toml names no package and no [[bin]]".into());
    }
    Ok(Cargo { bins, dependencies })
}

/// What `multi-stage` reads of a package.json.
#[derive(Default)]
pub(super) struct PackageJson {
    pub name: Option<String>,
    pub scripts: BTreeMap<String, String>,
    /// The `workspaces` globs.
    pub workspaces: Vec<String>,
    /// `packageManager` (`yarn@4.1.0`), read by Corepack and Yarn.
    pub package_manager: Option<String>,
    /// The packages it needs at run time (`dependencies`, `optionalDependencies`).
    pub dependencies: Vec<String>,
    /// The files `require`/`import` of the package load: `main` and the paths of `exports`.
    pub entries: Vec<String>,
}

pub(super) fn package_json(text: &str) -> Result<PackageJson, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| "package.json does not parse".to_string())?;
    let scripts = value
        .get("scripts")
        .and_then(|s| s.as_object())
        .map(|scripts| scripts.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default();
    // `"workspaces": ["packages/*"]` or `{"packages": [...]}` (yarn classic).
    let workspaces = value
        .get("workspaces")
        .map(|w| w.get("packages").unwrap_or(w))
        .and_then(|w| w.as_array())
        .map(|globs| globs.iter().filter_map(|g| g.as_str()).map(str::to_string).collect())
        .unwrap_or_default();
    let text_of = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let dependencies = ["dependencies", "optionalDependencies"]
        .iter()
        .filter_map(|table| value.get(*table)?.as_object())
        .flat_map(|deps| deps.keys().cloned())
        .collect();
    let mut entries: Vec<String> = text_of("main").into_iter().collect();
    if let Some(exports) = value.get("exports") {
        export_paths(exports, &mut entries);
    }
    Ok(PackageJson { name: text_of("name"), scripts, workspaces, package_manager: text_of("packageManager"), dependencies, entries })
}

/// The file paths of an `exports` map: every string in it (conditions and subpaths nest).
fn export_paths(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(path) => out.push(path.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|item| export_paths(item, out)),
        serde_json::Value::Object(map) => map.values().for_each(|item| export_paths(item, out)),
        _ => {}
    }
}

/// The gems a Gemfile.lock installs: from a gem server (`GEM`), and from git or a local folder
/// (`GIT`, `PATH`: their code is not a published gem).
pub(super) struct GemLock {
    pub gems: Vec<String>,
    /// Per entry of `gems`, its platform (`x86_64-linux` for `nokogiri (1.16.0-x86_64-linux)`);
    /// `None` for the `ruby` platform, whose native extension compiles when installed.
    pub platforms: Vec<Option<String>>,
    /// Gems from git or a local folder (GIT and PATH sections).
    pub unpublished: Vec<String>,
    /// The GIT sections' gems.
    pub from_git: Vec<String>,
    /// The PATH sections' gems with their folder (`remote:`, relative to the Gemfile's).
    pub from_path: Vec<(String, String)>,
}

impl GemLock {
    /// The platforms `gem` is precompiled for when every entry of it names one (bundler then
    /// never compiles it); `None` when an entry is the `ruby` platform or the gem is not locked.
    pub fn precompiled(&self, gem: &str) -> Option<Vec<&str>> {
        let platforms: Vec<Option<&str>> = self.gems.iter().zip(&self.platforms).filter(|(g, _)| *g == gem).map(|(_, p)| p.as_deref()).collect();
        platforms.iter().all(Option::is_some).then(|| platforms.into_iter().flatten().collect::<Vec<_>>()).filter(|p| !p.is_empty())
    }
}

pub(super) fn gem_lock(text: &str) -> GemLock {
    let mut lock = GemLock { gems: Vec::new(), platforms: Vec::new(), unpublished: Vec::new(), from_git: Vec::new(), from_path: Vec::new() };
    let mut section = "";
    let mut remote = "";
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if !line.starts_with(' ') {
            section = line.trim();
            continue;
        }
        if let Some(value) = line.strip_prefix("  remote: ") {
            remote = value.trim();
        }
        // `    name (version)`: a spec; six spaces: its dependencies, listed as specs themselves.
        let Some(spec) = line.strip_prefix("    ").filter(|s| !s.starts_with(' ')) else { continue };
        let name = spec.split(' ').next().unwrap_or(spec).to_string();
        // Gem versions have no `-`: what follows the first one is the platform.
        let version = spec.split_once(" (").map_or("", |(_, v)| v.trim_end_matches(')'));
        match section {
            "GEM" => {
                lock.gems.push(name);
                lock.platforms.push(version.split_once('-').map(|(_, p)| p.to_string()));
            }
            "GIT" => {
                lock.from_git.push(name.clone());
                lock.unpublished.push(name);
            }
            "PATH" => {
                lock.from_path.push((name.clone(), remote.to_string()));
                lock.unpublished.push(name);
            }
            _ => {}
        }
    }
    lock
}

/// Whether a .NET project file is a web project (ASP.NET Core): it then needs the aspnet runtime.
pub(super) fn is_web_project(text: &str) -> bool {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    compact.contains("Sdk=\"Microsoft.NET.Sdk.Web\"")
        || compact.contains("Sdk='Microsoft.NET.Sdk.Web'")
        || compact.contains("<FrameworkReferenceInclude=\"Microsoft.AspNetCore.App\"")
        || compact.contains("Sdk=\"Microsoft.NET.Sdk.Razor\"")
        || compact.contains("Sdk=\"Microsoft.NET.Sdk.BlazorWebAssembly\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_bins() {
        let c = cargo("[package]\nname = \"my-app\"\n[dependencies]\nreqwest = \"0.12\"\n").unwrap();
        assert_eq!(c.bins, ["my-app"]);
        assert_eq!(c.dependencies, ["reqwest"]);
        let c = cargo("[package]\nname = \"x\"\n[[bin]]\nname = \"server\"\npath = \"src/main.rs\"\n").unwrap();
        assert_eq!(c.bins, ["server"]);
        assert!(cargo("[workspace]\nmembers = [\"a\"]\n").is_err());
    }

    #[test]
    fn gem_locks() {
        let text = "GIT\n  remote: https://x/y.git\n  specs:\n    y (0.1)\n\nGEM\n  remote: https://rubygems.org/\n  specs:\n    nokogiri (1.16.0-x86_64-linux)\n      racc (~> 1.4)\n    racc (1.7.3)\n\nPLATFORMS\n  x86_64-linux\n\nDEPENDENCIES\n  nokogiri\n";
        let lock = gem_lock(text);
        assert_eq!(lock.gems, ["nokogiri", "racc"]);
        assert_eq!(lock.unpublished, ["y"]);
        assert_eq!(lock.from_git, ["y"]);
        let local = gem_lock("PATH\n  remote: engines/billing\n  specs:\n    billing (0.1.0)\n\nGEM\n  specs:\n    rack (3.0.0)\n");
        assert_eq!(local.from_path, [("billing".to_string(), "engines/billing".to_string())]);
        assert_eq!(lock.precompiled("nokogiri"), Some(vec!["x86_64-linux"]));
        assert_eq!(lock.precompiled("racc"), None);
        assert_eq!(lock.precompiled("rack"), None);
        let both = gem_lock("GEM\n  specs:\n    pg (1.5.4)\n    pg (1.5.4-x86_64-linux)\n");
        assert_eq!(both.precompiled("pg"), None);
    }

    #[test]
    fn package_json_entries() {
        let p = package_json(r#"{"name":"@ws/lib","main":"./dist/index.js","exports":{".":{"import":"./dist/index.mjs","types":"./dist/index.d.ts"},"./util":"./dist/util.js"},"dependencies":{"ms":"2"},"optionalDependencies":{"fsevents":"2"},"devDependencies":{"tsx":"4"},"workspaces":{"packages":["packages/*"]}}"#).unwrap();
        assert_eq!(p.name.as_deref(), Some("@ws/lib"));
        assert_eq!(p.dependencies, ["ms", "fsevents"], "tables in order, each sorted or in file order");
        let mut entries = p.entries.clone();
        entries.sort();
        assert_eq!(entries, ["./dist/index.d.ts", "./dist/index.js", "./dist/index.mjs", "./dist/util.js"]);
        assert_eq!(p.workspaces, ["packages/*"]);
    }

    #[test]
    fn web_projects() {
        assert!(is_web_project("<Project Sdk=\"Microsoft.NET.Sdk.Web\">"));
        assert!(!is_web_project("<Project Sdk=\"Microsoft.NET.Sdk\">"));
    }
}
