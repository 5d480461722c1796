//! The proposal: which template patterns fit this context and this Dockerfile, and the text.

use std::collections::BTreeSet;

use crate::model::matcher::{literal, Matcher, Pattern};
use super::templates::{Entry, Group};
use super::usage::Usage;

/// Notes on what was left out on purpose are capped at this many lines.
const MAX_NOTES: usize = 8;

/// One path of the context listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    /// Relative, `/`-separated, no trailing `/`.
    pub path: String,
    pub dir: bool,
    /// Not in the context yet: the `.dockerignore` being proposed.
    pub planned: bool,
}

impl Listed {
    /// As users see it: directories end with `/`.
    pub fn display(&self) -> String {
        if self.dir {
            format!("{}/", self.path)
        } else {
            self.path.clone()
        }
    }

    fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    fn parent(&self) -> &str {
        self.path.rsplit_once('/').map_or("", |(parent, _)| parent)
    }
}

/// The context listing, sorted, with the directories that only show through their contents.
pub(crate) struct Listing {
    entries: Vec<Listed>,
}

impl Listing {
    pub fn new(files: &[String], planned: Option<&str>) -> Listing {
        let mut entries: Vec<Listed> = Vec::new();
        let mut dirs: BTreeSet<String> = BTreeSet::new();
        for file in files {
            let dir = file.ends_with('/');
            let path = file.trim_end_matches('/').trim_start_matches("./").to_string();
            if path.is_empty() || path == "." {
                continue;
            }
            let mut parent = path.as_str();
            while let Some((p, _)) = parent.rsplit_once('/') {
                dirs.insert(p.to_string());
                parent = p;
            }
            entries.push(Listed { path, dir, planned: false });
        }
        for entry in &mut entries {
            entry.dir |= dirs.contains(&entry.path);
        }
        let known: BTreeSet<String> = entries.iter().map(|e| e.path.clone()).collect();
        entries.extend(dirs.into_iter().filter(|d| !known.contains(d)).map(|path| Listed { path, dir: true, planned: false }));
        if let Some(planned) = planned {
            if !known.contains(planned) {
                entries.push(Listed { path: planned.to_string(), dir: false, planned: true });
            }
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        entries.dedup_by(|a, b| a.path == b.path);
        Listing { entries }
    }

    fn get(&self, path: &str) -> Option<&Listed> {
        self.entries.binary_search_by(|e| e.path.as_str().cmp(path)).ok().map(|i| &self.entries[i])
    }

    /// `dir` itself and everything under it.
    fn within<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = &'a Listed> + 'a {
        let prefix = format!("{dir}/");
        let start = self.entries.partition_point(|e| e.path.as_str() < dir);
        self.entries[start..].iter().take_while(move |e| e.path == dir || e.path.starts_with(&prefix))
    }

    /// What `pattern` matches directly, outermost only (Docker drops what is inside with them).
    fn matches<'a>(&'a self, pattern: &Pattern) -> Vec<&'a Listed> {
        let mut out: Vec<&Listed> = Vec::new();
        for entry in &self.entries {
            if let Some(last) = out.last() {
                if entry.path.starts_with(&last.path) && entry.path.as_bytes().get(last.path.len()) == Some(&b'/') {
                    continue;
                }
            }
            if pattern.matches(&entry.path) {
                out.push(entry);
            }
        }
        out
    }

    /// Whether a sibling of `entry` (relative to its directory, `../` going up) matches `glob`.
    fn has_beside(&self, entry: &Listed, glob: &str) -> bool {
        let mut dir = entry.parent().to_string();
        let mut rest = glob;
        while let Some(up) = rest.strip_prefix("../") {
            rest = up;
            dir = dir.rsplit_once('/').map_or(String::new(), |(p, _)| p.to_string());
        }
        let Ok(name) = Pattern::new(rest) else { return false };
        let in_dir = |e: &&Listed| e.parent() == dir && !e.path.is_empty();
        if dir.is_empty() {
            self.entries.iter().filter(in_dir).any(|e| name.matches(e.name()))
        } else {
            self.within(&dir).filter(in_dir).any(|e| name.matches(e.name()))
        }
    }
}

/// A path the proposal must not exclude, with why.
#[derive(Debug, Clone)]
pub(crate) struct Protected {
    pub path: String,
    /// A directory (or unknown): nothing inside it may be excluded either.
    pub dir: bool,
    pub why: String,
}

impl Protected {
    fn conflicts(&self, pattern: &Pattern) -> bool {
        if self.dir {
            pattern.may_match_within(&self.path)
        } else {
            pattern.matches_or_parent(&self.path)
        }
    }
}

/// What the COPY/ADD sources (and RUN bind mounts) of the Dockerfile take from the context.
pub(crate) fn protected_sources(usage: &Usage, listing: &Listing) -> Vec<Protected> {
    let mut out = Vec::new();
    for source in &usage.sources {
        let why = format!("`{}` copies it", source.by.quote);
        if source.glob {
            match Pattern::new(&source.path) {
                Ok(glob) => {
                    for entry in listing.matches(&glob) {
                        out.push(Protected { path: entry.path.clone(), dir: entry.dir, why: why.clone() });
                    }
                }
                // Docker would reject it; keep everything it could name.
                Err(_) => out.push(Protected { path: source.path.clone(), dir: true, why }),
            }
        } else {
            // A file the listing shows is a file; anything else may be a directory.
            let dir = listing.get(&source.path).is_none_or(|e| e.dir);
            out.push(Protected { path: source.path.clone(), dir, why });
        }
    }
    out
}

/// One block of the proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    pub reason: String,
    /// Commands that make the block safe to leave out (`npm ci`), shown with the reason.
    pub commands: Vec<String>,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Proposal {
    pub blocks: Vec<Block>,
    /// What the proposal leaves out of the context (outermost paths), in order; planned files excluded.
    pub excluded: Vec<Listed>,
    /// Paths a template matched but that stay, with why (each once, in order).
    pub notes: Vec<(String, String)>,
}

impl Proposal {
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The text of the blocks, comment lines included, with `newline` line ends.
    pub fn render_blocks(&self, newline: &str) -> String {
        let mut out = String::new();
        for (i, block) in self.blocks.iter().enumerate() {
            if i > 0 {
                out.push_str(newline);
            }
            out.push_str("# ");
            out.push_str(&block.reason);
            if !block.commands.is_empty() {
                let commands: Vec<String> = block.commands.iter().map(|c| format!("`{c}`")).collect();
                out.push_str(&format!(" ({})", commands.join(", ")));
            }
            out.push_str(newline);
            for line in &block.lines {
                out.push_str(line);
                out.push_str(newline);
            }
        }
        if !self.notes.is_empty() {
            out.push_str(newline);
            out.push_str("# Left in the context on purpose:");
            out.push_str(newline);
            for (path, why) in self.notes.iter().take(MAX_NOTES) {
                out.push_str(&format!("#   {path}: {why}{newline}"));
            }
            if self.notes.len() > MAX_NOTES {
                out.push_str(&format!("#   … and {} more{newline}", self.notes.len() - MAX_NOTES));
            }
        }
        out
    }
}

pub(crate) struct Inputs<'a> {
    pub groups: &'a [Group],
    /// The text of the context's small files (`Context::contents`): key files and sources.
    pub contents: &'a std::collections::BTreeMap<String, String>,
    pub listing: &'a Listing,
    pub usage: &'a Usage,
    pub protected: &'a [Protected],
    /// The context's current .dockerignore (empty when it has none).
    pub existing: &'a Matcher,
}

pub(crate) fn propose(inputs: &Inputs) -> Proposal {
    let mut proposal = Proposal::default();
    // What the proposal excludes so far, to skip entries whose paths are already covered.
    let mut chosen: Vec<Pattern> = Vec::new();
    let covered = |chosen: &[Pattern], path: &str| inputs.existing.excludes(path) || chosen.iter().any(|p| p.matches_or_parent(path));
    let mut substantial = false;
    for group in inputs.groups {
        let mut block = Block { reason: group.reason.clone(), commands: Vec::new(), lines: Vec::new() };
        for entry in &group.entries {
            let locations = inputs.listing.matches(&entry.pattern);
            let fresh: Vec<&Listed> = locations.iter().copied().filter(|l| !covered(&chosen, &l.path)).collect();
            if fresh.is_empty() {
                continue;
            }
            let qualifies = |l: &Listed| entry.beside.is_empty() || entry.beside.iter().any(|g| inputs.listing.has_beside(l, g));
            let fresh: Vec<&Listed> = fresh.into_iter().filter(|l| qualifies(l)).collect();
            if fresh.is_empty() {
                continue;
            }
            let shown = |ls: &[&Listed]| ls.iter().filter(|l| !l.planned).map(|l| l.display()).collect::<Vec<_>>().join(", ");
            if let Some(command) = inputs.usage.reader(&entry.read_by, &entry.read_by_except) {
                proposal.notes.push((shown(&fresh), format!("a RUN reads it (`{command}`)")));
                continue;
            }
            let command = match inputs.usage.regenerated(&entry.regenerated_by) {
                Ok(command) => command,
                Err(stage) => {
                    let mut commands: Vec<String> = entry.regenerated_by.iter().map(|s| format!("`{}`", s.display())).collect();
                    commands.dedup();
                    if commands.len() > 2 {
                        commands.truncate(2);
                        commands.push("…".to_string());
                    }
                    let commands = commands.join(", ");
                    let why = match stage.and_then(|stage| inputs.usage.whole.iter().find(|u| u.stage == stage)) {
                        Some(whole) => format!("`{}` copies it and no RUN of that stage recreates it ({commands})", whole.quote),
                        None => format!("no RUN recreates it ({commands})"),
                    };
                    proposal.notes.push((shown(&fresh), why));
                    continue;
                }
            };
            let protected = entry_protection(inputs, group, entry, &locations);
            let everywhere = locations.iter().all(|l| qualifies(l)) && !protected.iter().any(|p| p.conflicts(&entry.pattern));
            let mut lines: Vec<(String, Pattern, Vec<&Listed>)> = Vec::new();
            if everywhere {
                lines.push((entry.text.clone(), entry.pattern.clone(), fresh));
            } else {
                for location in fresh {
                    let Some(text) = literal(&location.path) else { continue };
                    let Ok(pattern) = Pattern::new(&text) else { continue };
                    match protected.iter().find(|p| p.conflicts(&pattern)) {
                        Some(p) => {
                            if !p.why.is_empty() {
                                proposal.notes.push((location.display(), p.why.clone()));
                            }
                        }
                        None => lines.push((text, pattern, vec![location])),
                    }
                }
            }
            for (text, pattern, covers) in lines {
                if block.lines.contains(&text) || proposal.blocks.iter().any(|b| b.lines.contains(&text)) {
                    continue;
                }
                if let Some(command) = &command {
                    if !block.commands.contains(command) {
                        block.commands.push(command.clone());
                    }
                }
                block.lines.push(text);
                chosen.push(pattern);
                proposal.excluded.extend(covers.into_iter().filter(|l| !l.planned).cloned());
            }
        }
        if !block.lines.is_empty() {
            substantial |= !group.incidental;
            proposal.blocks.push(block);
        }
    }
    if !substantial {
        return Proposal::default();
    }
    let mut seen = BTreeSet::new();
    proposal.notes.retain(|note| !note.0.is_empty() && seen.insert(note.clone()));
    proposal
}

/// The paths this entry must not exclude: the Dockerfile's sources, plus, inside what the entry
/// matches, the names the Dockerfile mentions (for groups that honour mentions), the template's
/// `keep` globs, and what the existing .dockerignore re-includes with `!`.
fn entry_protection(inputs: &Inputs, group: &Group, entry: &Entry, locations: &[&Listed]) -> Vec<Protected> {
    let mut protected = inputs.protected.to_vec();
    for location in locations {
        for listed in inputs.listing.within(&location.path) {
            let source = if listed.dir { None } else { named_by_source(inputs.contents, listed) };
            let why = if group.protect_mentioned && inputs.usage.mentions(listed.name()) {
                Some("the Dockerfile names it".to_string())
            } else if let Some(source) = source {
                Some(format!("`{source}` names it"))
            } else if entry.private_key_only && !listed.dir {
                match inputs.contents.get(&listed.path) {
                    Some(text) if holds_private_key(text) => None,
                    Some(_) => Some("it holds no private key (a certificate or a public key is not a secret)".to_string()),
                    None => Some("its contents are not known: only a file that holds a private key is left out".to_string()),
                }
            } else if entry.keep.iter().any(|k| k.matches(&listed.path)) || inputs.existing.reincludes(&listed.path) {
                Some(String::new())
            } else {
                None
            };
            if let Some(why) = why {
                protected.push(Protected { path: listed.path.clone(), dir: listed.dir, why });
            }
        }
    }
    protected
}

/// Whether a file's text holds a PEM private key (PKCS#1, PKCS#8, EC, OpenSSH, encrypted).
fn holds_private_key(text: &str) -> bool {
    text.lines().any(|l| l.starts_with("-----BEGIN ") && l.trim_end().ends_with("PRIVATE KEY-----"))
}

/// A source file of the context that names `listed` (its file name, as a string the code opens:
/// `open("ca-bundle.pem")`, `send_file("legacy.pyc")`), other than the file itself.
fn named_by_source<'a>(contents: &'a std::collections::BTreeMap<String, String>, listed: &Listed) -> Option<&'a str> {
    let name = listed.name();
    // A name too short or too plain (`key`) would be found in any text.
    if name.len() < 5 || !name.contains('.') {
        return None;
    }
    contents
        .iter()
        .filter(|(path, _)| crate::settings::is_source(path) && **path != listed.path)
        .find(|(_, text)| {
            text.match_indices(name).any(|(at, _)| {
                let before = text[..at].chars().last();
                let after = text[at + name.len()..].chars().next();
                let edge = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')));
                edge(before) && edge(after)
            })
        })
        .map(|(path, _)| path.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_keys_by_contents() {
        assert!(holds_private_key("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"));
        assert!(holds_private_key("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n"));
        assert!(holds_private_key("subject=CN=x\n-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        assert!(!holds_private_key("-----BEGIN CERTIFICATE-----\nMIID\n-----END CERTIFICATE-----\n"));
        assert!(!holds_private_key("-----BEGIN PUBLIC KEY-----\nMFkw\n"));
    }

    #[test]
    fn names_in_sources() {
        let contents: std::collections::BTreeMap<String, String> =
            [("app/tls.py".to_string(), "ctx.load_verify_locations('certs/ca-bundle.pem')\n".to_string())].into();
        let listed = |path: &str| Listed { path: path.to_string(), dir: false, planned: false };
        assert_eq!(named_by_source(&contents, &listed("certs/ca-bundle.pem")), Some("app/tls.py"));
        assert_eq!(named_by_source(&contents, &listed("certs/bundle.pem")), None);
        assert_eq!(named_by_source(&contents, &listed("old-ca-bundle.pem")), None);
    }

    fn listing(files: &[&str]) -> Listing {
        Listing::new(&files.iter().map(|s| s.to_string()).collect::<Vec<_>>(), None)
    }

    #[test]
    fn listing_infers_directories_and_sorts() {
        let l = listing(&["src/app/main.py", "README.md", "node_modules/"]);
        let paths: Vec<String> = l.entries.iter().map(|e| e.display()).collect();
        assert_eq!(paths, ["README.md", "node_modules/", "src/", "src/app/", "src/app/main.py"]);
        assert_eq!(l.within("src").count(), 3);
        assert_eq!(l.within("sr").count(), 0);
    }

    #[test]
    fn outermost_matches_only() {
        let l = listing(&["node_modules/a/node_modules/b", "web/node_modules/x"]);
        let found: Vec<String> = l.matches(&Pattern::new("**/node_modules").unwrap()).iter().map(|e| e.path.clone()).collect();
        assert_eq!(found, ["node_modules", "web/node_modules"]);
    }

    #[test]
    fn beside_looks_in_the_same_directory_or_up() {
        let l = listing(&["Gemfile", "vendor/bundle/ruby", "src/Api/Api.csproj", "src/Api/bin/x.dll", "tools/bin/run.sh"]);
        let bundle = l.get("vendor/bundle").unwrap();
        assert!(l.has_beside(bundle, "../Gemfile"));
        assert!(!l.has_beside(bundle, "Gemfile"));
        assert!(l.has_beside(l.get("src/Api/bin").unwrap(), "*.csproj"));
        assert!(!l.has_beside(l.get("tools/bin").unwrap(), "*.csproj"));
    }
}
