//! The recipes `make` runs for its goals, read from a Makefile's text: enough to tell which
//! commands a `make install` in a RUN runs out of the RUN's sight (no variables, includes or
//! pattern rules: a goal whose rule is not written out plainly has no recipes here).

/// The recipe lines (1-based line number, command text without the tab and `@`/`-`/`+` marks) of
/// `goals` and the targets they depend on; no goals: the first target (make's default goal).
pub(super) fn recipes<'t>(text: &'t str, goals: &[&str]) -> Vec<(usize, &'t str)> {
    let mut rules: Vec<(Vec<&str>, Vec<&str>, Vec<(usize, &str)>)> = Vec::new();
    for (at, line) in text.lines().enumerate() {
        if let Some(recipe) = line.strip_prefix('\t') {
            if let Some(rule) = rules.last_mut() {
                rule.2.push((at + 1, recipe.trim_start().trim_start_matches(['@', '-', '+'])));
            }
            continue;
        }
        let code = line.split('#').next().unwrap_or("");
        let Some((targets, rest)) = code.split_once(':') else { continue };
        // `x := y`, `x ::= y` are assignments; `a:=b` too.
        if rest.starts_with('=') || rest.starts_with(":=") || targets.contains('=') {
            continue;
        }
        let deps = rest.split(';').next().unwrap_or("");
        rules.push((targets.split_whitespace().collect(), deps.split_whitespace().collect(), Vec::new()));
    }
    let default = rules.iter().flat_map(|r| r.0.iter()).find(|t| !t.starts_with('.')).copied();
    let mut wanted: Vec<&str> = if goals.is_empty() { default.into_iter().collect() } else { goals.to_vec() };
    let mut lines = Vec::new();
    let mut seen = 0;
    while seen < wanted.len() {
        let goal = wanted[seen];
        seen += 1;
        for (_, deps, recipe) in rules.iter().filter(|r| r.0.contains(&goal)) {
            lines.extend(recipe.iter().copied());
            for dep in deps {
                if !wanted.contains(dep) {
                    wanted.push(dep);
                }
            }
        }
    }
    lines.sort_unstable();
    lines.dedup();
    lines
}

#[cfg(test)]
mod tests {
    use super::recipes;

    #[test]
    fn goals_and_their_prerequisites_only() {
        let text = ".PHONY: all install\nPIP := pip\nall: build\n\nbuild:\n\tpython -m build\ninstall: build # deps\n\t@pip install .\n\t-pip install -r extra.txt\nlint:\n\truff check .\n";
        assert_eq!(recipes(text, &["install"]), [(6, "python -m build"), (8, "pip install ."), (9, "pip install -r extra.txt")]);
        assert_eq!(recipes(text, &[]), [(6, "python -m build")]);
        assert_eq!(recipes(text, &["lint"]), [(11, "ruff check .")]);
        assert!(recipes(text, &["missing"]).is_empty());
    }
}
