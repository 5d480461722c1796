//! Node workspaces: which folders of the build context a root package.json (`"workspaces"`) or a
//! pnpm-workspace.yaml makes workspace packages. Read by manifest-first (their package.json files
//! are copied before the install) and multi-stage (their node_modules and outputs are copied to the
//! runtime).

use super::listing::{Listing, Presence};

/// The `packages:` list of a pnpm-workspace.yaml (a small subset of YAML: `- 'glob'` items).
pub fn pnpm_workspace_packages(yaml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in yaml.lines() {
        let trimmed = line.trim();
        if !line.starts_with([' ', '\t', '-']) && !trimmed.is_empty() {
            inside = trimmed.starts_with("packages:");
            continue;
        }
        if inside {
            if let Some(item) = trimmed.strip_prefix('-') {
                out.push(item.trim().trim_matches(['\'', '"']).to_string());
            }
        }
    }
    out
}

/// The workspace packages of the project in `dir` (`""` or `a/b/`): the folders (`dir` +
/// `packages/api/`) the `patterns` match that hold a package.json, or why the listing cannot tell.
/// Negated patterns are skipped: they only take folders away.
pub fn workspace_members(dir: &str, patterns: &[String], listing: &Listing) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    for pattern in patterns {
        if pattern.starts_with('!') {
            continue;
        }
        let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
        // `packages/**`: every folder below `packages/` (outside node_modules) with a package.json.
        if let Some(parent) = pattern.strip_suffix("**").filter(|p| p.is_empty() || p.ends_with('/')).filter(|p| !p.contains(['*', '?']) && !p.contains("..")) {
            let parent = format!("{dir}{parent}");
            if !listing.shows_inside(&parent) {
                return Err(format!("the workspaces' package.json files (`{pattern}`) are not in the listing of the build context"));
            }
            for member in listing.below(&parent, "package.json") {
                let member = member.trim_end_matches("package.json").to_string();
                if member.len() > parent.len() && !member.split('/').any(|part| part == "node_modules") && !found.contains(&member) {
                    found.push(member);
                }
            }
            continue;
        }
        if pattern.contains("**") || pattern.contains("..") {
            return Err(format!("the workspace pattern `{pattern}` cannot be followed in the listing"));
        }
        let (parent, last) = match pattern.rsplit_once('/') {
            Some((p, l)) => (format!("{dir}{p}/"), l),
            None => (dir.to_string(), pattern),
        };
        if parent.contains(['*', '?']) || !listing.shows_inside(&parent) {
            return Err(format!("the workspaces' package.json files (`{pattern}`) are not in the listing of the build context"));
        }
        // A workspace is a folder: `packages/*` does not make `packages/tsconfig.json` one.
        for member in listing.matching_dirs(&parent, last) {
            match listing.presence(&format!("{member}package.json")) {
                Presence::Present if !found.contains(&member) => found.push(member),
                Presence::Present | Presence::Absent => {}
                Presence::Unknown => return Err(format!("`{member}package.json` is not in the listing of the build context")),
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Context;

    #[test]
    fn pnpm_workspace_yaml() {
        assert_eq!(pnpm_workspace_packages("packages:\n  - 'packages/*'\n  - \"apps/*\"\nother: 1\n"), vec!["packages/*", "apps/*"]);
    }

    #[test]
    fn double_star_takes_every_folder_below() {
        let files = ["package.json", "packages/", "packages/server/", "packages/server/package.json", "packages/server/node_modules/", "packages/server/node_modules/ms/", "packages/server/node_modules/ms/package.json", "packages/web/", "packages/web/package.json"];
        let context = Context { files: Some(files.iter().map(|f| f.to_string()).collect()), ..Context::default() };
        let listing = Listing::new(&context).unwrap();
        assert_eq!(workspace_members("", &["packages/**".into()], &listing), Ok(vec!["packages/server/".to_string(), "packages/web/".to_string()]));
    }

    #[test]
    fn members_are_folders_with_a_package_json() {
        let files = ["package.json", "packages/", "packages/api/", "packages/api/package.json", "packages/docs/", "packages/docs/README.md", "packages/tsconfig.json"];
        let context = Context { files: Some(files.iter().map(|f| f.to_string()).collect()), ..Context::default() };
        let listing = Listing::new(&context).unwrap();
        assert_eq!(workspace_members("", &["packages/*".into()], &listing), Ok(vec!["packages/api/".to_string()]));
        assert!(workspace_members("", &["packages/*/**/x".into()], &listing).is_err());
    }
}
