//! Several Dockerfiles sharing one build context share one `.dockerignore`: their proposals are
//! merged so that the file excludes only what every one of them may lose.

/// The lines every proposal has (each proposal only excludes what its own Dockerfile does not
/// need, so a pattern common to all is safe for all), in the first proposal's order, with comment
/// lines kept only where a pattern of theirs survives. `None` when nothing common remains, or when
/// the proposals disagree on a `!` exception (dropping one could exclude what a Dockerfile needs).
pub fn merge_proposals(proposals: &[&str]) -> Option<String> {
    let (first, rest) = proposals.split_first()?;
    let in_all = |line: &str| rest.iter().all(|p| p.lines().any(|l| l == line));
    let exception_not_shared = proposals.iter().any(|p| p.lines().any(|l| l.trim_start().starts_with('!') && !proposals.iter().all(|q| q.lines().any(|m| m == l))));
    if exception_not_shared {
        return None;
    }
    let kept: Vec<&str> = first.lines().filter(|l| in_all(l)).collect();
    // Drop comment lines whose group (up to the next blank line) lost all its patterns.
    let mut out: Vec<&str> = Vec::new();
    for (i, line) in kept.iter().enumerate() {
        let is_comment = line.trim_start().starts_with('#');
        if is_comment {
            let group_has_pattern = kept[i + 1..]
                .iter()
                .take_while(|l| !l.trim().is_empty())
                .any(|l| !l.trim_start().starts_with('#'));
            if !group_has_pattern {
                continue;
            }
        }
        if line.trim().is_empty() && out.last().is_none_or(|l| l.trim().is_empty()) {
            continue;
        }
        out.push(line);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    if !out.iter().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')) {
        return None;
    }
    let newline = if first.contains("\r\n") { "\r\n" } else { "\n" };
    Some(out.join(newline) + newline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_what_every_proposal_excludes() {
        let a = "# version control\n.git\n\n# dependencies\nnode_modules\n\n# logs\n*.log\n";
        let b = "# version control\n.git\n\n# logs\n*.log\n";
        assert_eq!(merge_proposals(&[a, b]).as_deref(), Some("# version control\n.git\n\n# logs\n*.log\n"));
    }

    #[test]
    fn nothing_in_common_or_unshared_exception() {
        assert_eq!(merge_proposals(&["# a\nx\n", "# a\ny\n"]), None);
        assert_eq!(merge_proposals(&["*.md\n!README.md\n", "*.md\n"]), None);
    }
}
