//! Where a formatter may change the whitespace of a script without changing what the shell reads.
//!
//! Whitespace outside every token (quotes, words, expansions, comments, redirections) only
//! separates tokens, so its amount is free; at a boundary between two tokens of a command list
//! (`a&&b`, `$(x)`), whitespace may be added. Everything else is part of a token.

use std::ops::Range;

use tree_sitter::{Node, Tree};

use super::lower::is_statement;

/// The layout facts of one script. Build it with [`layout`].
pub struct Layout {
    tree: Tree,
    len: usize,
    operators: Vec<Range<usize>>,
    /// The tokens: maximal nodes that are not containers (words, strings with everything inside
    /// them, expansions, comments, redirections, operators), sorted and disjoint.
    tokens: Vec<Range<usize>>,
}

/// Parses `source`; `None` when tree-sitter had to recover from an error (the formatter then
/// leaves the script as written).
pub fn layout(source: &str) -> Option<Layout> {
    let tree = super::lower::parse_tree(source)?;
    let root = tree.root_node();
    if root.has_error() {
        return None;
    }
    let operators = control_operators(root);
    let tokens = tokens(root);
    Some(Layout { tree, len: source.len(), operators, tokens })
}

impl Layout {
    /// The control operators `&&`, `||`, `|` and `;` between commands (not those of `case`
    /// patterns, C-style `for` headers or `[[ … ]]` tests), in source order.
    pub fn operators(&self) -> &[Range<usize>] {
        &self.operators
    }

    /// Whether the byte at `at` is whitespace that only separates tokens.
    pub fn is_free_space(&self, source: &str, at: usize) -> bool {
        let Some(c) = source.as_bytes().get(at) else { return false };
        matches!(c, b' ' | b'\t') && self.token_at(at).is_none()
    }

    /// Whether whitespace may be added at `at` (between bytes `at - 1` and `at`): they do not
    /// belong to the same token.
    pub fn is_boundary(&self, _source: &str, at: usize) -> bool {
        if at == 0 || at >= self.len {
            return true;
        }
        self.token_at(at).is_none_or(|t| t.start == at)
    }

    /// The token holding the byte at `at`.
    fn token_at(&self, at: usize) -> Option<&Range<usize>> {
        let i = self.tokens.partition_point(|t| t.end <= at);
        self.tokens.get(i).filter(|t| t.start <= at)
    }

    /// Whether a statement (a command, pipeline, list, compound command…) starts at `at`.
    pub fn starts_statement(&self, at: usize) -> bool {
        let mut node = self.smallest(at, at + 1);
        while let Some(n) = node {
            if n.start_byte() != at {
                return false;
            }
            if is_statement(n.kind()) {
                return true;
            }
            node = n.parent();
        }
        false
    }

    /// The innermost statement around the byte at `at` that starts before it.
    pub fn statement_around(&self, at: usize) -> Option<Range<usize>> {
        let mut node = self.smallest(at, at + 1);
        while let Some(n) = node {
            if is_statement(n.kind()) && n.start_byte() < at {
                return Some(n.start_byte()..n.end_byte());
            }
            node = n.parent();
        }
        None
    }

    /// Where the innermost compound command (`if`, a loop, `case`, `{ }`, `( )`, `$( )`, a
    /// function) around the byte at `at` starts, when it starts before it.
    pub fn block_around(&self, at: usize) -> Option<usize> {
        let mut node = self.smallest(at, at + 1);
        while let Some(n) = node {
            let block = matches!(
                n.kind(),
                "if_statement" | "while_statement" | "for_statement" | "c_style_for_statement" | "case_statement"
                    | "compound_statement" | "subshell" | "function_definition" | "command_substitution"
            );
            if block && n.start_byte() < at {
                return Some(n.start_byte());
            }
            node = n.parent();
        }
        None
    }

    fn smallest(&self, start: usize, end: usize) -> Option<Node<'_>> {
        self.tree.root_node().descendant_for_byte_range(start, end)
    }
}

/// Nodes whose children are separated by whitespace that carries no meaning.
fn is_container(kind: &str) -> bool {
    matches!(
        kind,
        "program"
            | "list"
            | "pipeline"
            | "command"
            | "redirected_statement"
            | "negated_command"
            | "subshell"
            | "compound_statement"
            | "if_statement"
            | "elif_clause"
            | "else_clause"
            | "while_statement"
            | "for_statement"
            | "do_group"
            | "function_definition"
            | "declaration_command"
            | "unset_command"
            | "variable_assignments"
            | "command_substitution"
    )
}

/// The maximal non-container nodes, found with a cursor (no recursion). A quoted string is one
/// token with everything inside it (a `$(…)` inside `"…"` included: left as written).
fn tokens(root: Node) -> Vec<Range<usize>> {
    let mut found: Vec<Range<usize>> = Vec::new();
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        let descend = is_container(node.kind()) && cursor.goto_first_child();
        if !descend {
            if !is_container(node.kind()) && node.end_byte() > node.start_byte() {
                found.push(node.start_byte()..node.end_byte());
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    found.sort_by_key(|r| r.start);
                    return found;
                }
            }
        }
    }
}

fn control_operators(root: Node) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if !node.is_named() && matches!(node.kind(), "&&" | "||" | "|" | ";") {
            let parent = node.parent().map(|p| p.kind()).unwrap_or_default();
            if is_container(parent) && parent != "command" {
                found.push(node.start_byte()..node.end_byte());
            }
        }
        if node.kind() != "heredoc_body" && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return found;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_is_outside_tokens() {
        let s = r#"echo "a  b" c\ d &&e"#;
        let l = layout(s).unwrap();
        assert!(l.is_free_space(s, 4));
        assert!(!l.is_free_space(s, 8), "inside quotes");
        assert!(!l.is_free_space(s, 14), "an escaped space");
        let and = s.find("&&").unwrap();
        assert!(l.is_boundary(s, and + 2), "between && and e");
        assert!(!l.is_boundary(s, and + 1), "inside &&");
        assert!(!l.is_boundary(s, 2), "inside a word");
        assert_eq!(l.operators().iter().map(|r| &s[r.clone()]).collect::<Vec<_>>(), vec!["&&"]);
        let q = "x=\"$( a \\\n | b )\" && c";
        let lq = layout(q).unwrap();
        assert!(!lq.is_free_space(q, 5), "inside a substitution inside quotes");
        assert!(l.starts_statement(0) && l.starts_statement(and + 2) && !l.starts_statement(5));
        assert_eq!(l.statement_around(12).map(|r| r.start), Some(0));
    }

    #[test]
    fn operators_of_lists_pipelines_and_sequences_only() {
        let s = "a; b | c || d && e; case x in a|b) f;; esac; [[ a && b ]]; for ((i=0; i<2; i++)); do g; done";
        let l = layout(s).unwrap();
        let ops: Vec<&str> = l.operators().iter().map(|r| &s[r.clone()]).collect();
        assert_eq!(ops, vec![";", "|", "||", "&&", ";", ";", ";", ";"], "the `;` after `))` belongs to the C-style for");
        assert!(layout("echo \"unterminated").is_none());
    }
}
