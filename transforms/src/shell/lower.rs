//! From the tree-sitter-bash tree to the plain model in `mod.rs`.
//!
//! tree-sitter-bash shapes that this file straightens out:
//! - `a && b && c` is a left-nested `list`; `a | b && c` is `list(pipeline(a, b), c)`.
//! - Redirections after a command wrap it in `redirected_statement { body, redirect* }`; when the
//!   body is a list (`a && cat <<EOF`), the redirections belong to its last element.
//! - A heredoc swallows the rest of its line: in `cat <<EOF > f && b | c`, the `> f`, `&& b`
//!   and `| c` are children of `heredoc_redirect` (fields `redirect`, `operator`, `right`, or a
//!   `pipeline` child starting with `|`).
//! - `cmd 2>/dev/null arg` makes `arg` a second `destination` of the redirect: it is an argument.
//! - `export`/`local`/…, `unset`, `[ … ]`/`[[ … ]]` and bare `A=1` are their own node kinds
//!   (`declaration_command`, `unset_command`, `test_command`, `variable_assignment(s)`), not `command`.
//! - `until` loops are `while_statement`; an `elif` clause has no `condition` field, only
//!   its position before `then`.
//!
//! And-or lists are flattened with an explicit stack (not recursion), since a long `&&` chain
//! nests as deep as it is long. Other nesting mirrors the source and stops at [`MAX_DEPTH`].

use std::cell::RefCell;
use std::ops::Range;

use tree_sitter::{Node, Parser, Point, Range as IncludedRange, Tree};

use super::word::static_value;
use super::wrappers;
use super::{
    ChainItem, Command, CommandKind, Heredoc, ItemKind, Op, Parsed, Redirect, ShellWord,
    StateChange, StateKind, Step,
};

/// Nesting (compound commands, substitutions) beyond which the model is left incomplete and
/// `has_errors` set, so hostile input cannot overflow the stack.
const MAX_DEPTH: u32 = 64;

thread_local! {
    /// Creating a parser costs more than parsing a typical RUN body, and format-on-save parses many.
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

pub(super) fn parse_tree(source: &str) -> Option<Tree> {
    with_parser(|parser| parser.parse(source, None))
}

/// Parses only `range` of `source` (tree-sitter's included ranges), which starts at `start` (row
/// and column): the nodes carry offsets into the whole source, as if the rest were not there.
fn parse_piece(source: &str, range: Range<usize>, start: Point) -> Option<Tree> {
    let piece = &source.as_bytes()[range.clone()];
    let rows = piece.iter().filter(|&&b| b == b'\n').count();
    let end = match piece.iter().rposition(|&b| b == b'\n') {
        Some(at) => Point { row: start.row + rows, column: piece.len() - at - 1 },
        None => Point { row: start.row, column: start.column + piece.len() },
    };
    let included = IncludedRange { start_byte: range.start, end_byte: range.end, start_point: start, end_point: end };
    with_parser(|parser| {
        parser.set_included_ranges(&[included]).ok()?;
        let tree = parser.parse(source, None);
        // The parser is shared: later parses read whole texts again.
        parser.set_included_ranges(&[]).ok()?;
        tree
    })
}

fn with_parser<T>(parse_with: impl Fn(&mut Parser) -> Option<T>) -> Option<T> {
    PARSER.with(|slot| match slot.try_borrow_mut() {
        Ok(mut slot) => {
            if slot.is_none() {
                *slot = Some(new_parser()?);
            }
            parse_with(slot.as_mut()?)
        }
        // Only reachable if parsing ever re-entered itself; a fresh parser is still correct.
        Err(_) => parse_with(&mut new_parser()?),
    })
}

fn new_parser() -> Option<Parser> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_bash::LANGUAGE.into())
        .ok()?;
    Some(parser)
}

/// Scripts longer than this are parsed a piece at a time: tree-sitter's tree takes about a
/// kilobyte per line, and a 100,000-line heredoc would otherwise hold it whole while it is lowered.
const PIECE: usize = 64 * 1024;

pub(super) fn lower(source: &str) -> Parsed {
    lower_in_pieces(source, PIECE).unwrap_or_else(|| lower_whole(source))
}

fn lower_whole(source: &str) -> Parsed {
    let Some(tree) = parse_tree(source) else {
        return Parsed {
            source: source.to_owned(),
            commands: Vec::new(),
            steps: Vec::new(),
            state_changes: Vec::new(),
            heredocs: Vec::new(),
            comments: Vec::new(),
            has_errors: true,
            has_pipeline: false,
        };
    };
    let root = tree.root_node();
    let mut lowerer = Lowerer::new(source);
    lowerer.visit_block(
        root,
        Ctx {
            top: true,
            ..Ctx::default()
        },
    );
    let too_deep = lowerer.too_deep;
    let mut script = lowerer.finish();
    script.comments = comments(root);
    script.has_errors = root.has_error() || too_deep;
    script
}

/// The same model as [`lower_whole`], from pieces of about `size` bytes cut at top-level line
/// breaks ([`cut_points`]), each parsed, lowered and dropped in turn. `None` when the script is
/// not cut, or when a piece does not parse cleanly or leaves a heredoc open (the cut was not a
/// statement boundary after all): the caller parses the whole text.
fn lower_in_pieces(source: &str, size: usize) -> Option<Parsed> {
    let cuts = cut_points(source, size);
    if cuts.is_empty() {
        return None;
    }
    let mut lowerer = Lowerer::new(source);
    let mut found_comments = Vec::new();
    let mut start = 0;
    // Every cut follows a line break: a piece starts on a new row, at column 0.
    let mut row = 0;
    for end in cuts.into_iter().chain([source.len()]) {
        let tree = parse_piece(source, start..end, Point { row, column: 0 })?;
        row += source.as_bytes()[start..end].iter().filter(|&&b| b == b'\n').count();
        let root = tree.root_node();
        if root.has_error() {
            return None;
        }
        let heredocs = lowerer.heredocs.len();
        lowerer.visit_block(
            root,
            Ctx {
                top: true,
                ..Ctx::default()
            },
        );
        if lowerer.heredocs[heredocs..].iter().any(|h| h.end.is_empty()) {
            return None;
        }
        found_comments.extend(comments(root));
        start = end;
    }
    let too_deep = lowerer.too_deep;
    let mut script = lowerer.finish();
    script.comments = found_comments;
    script.has_errors = too_deep;
    Some(script)
}

/// Offsets just after line breaks where `source` can be cut into pieces of at least `size` bytes
/// that are whole statements: outside quotes, heredoc bodies, brackets and compound commands, and
/// not after `&&`, `||`, `|` or `\`. A cautious guess: what it cannot follow (an unmatched `)`,
/// `fi`, `}`, an unterminated quote or heredoc) ends the cutting there.
fn cut_points(source: &str, size: usize) -> Vec<usize> {
    let bytes = source.as_bytes();
    let mut cuts = Vec::new();
    if bytes.len() <= size {
        return cuts;
    }
    let is_operator = |b: u8| matches!(b, b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>');
    let mut last_cut = 0;
    // `(`…`)` and `{`…`}` brackets; compound commands (`if`…`fi`, `case`…`esac`, loops … `done`).
    let mut parens = 0usize;
    let mut blocks = 0usize;
    // Delimiters (and `<<-`) of heredocs whose bodies start on the next line.
    let mut pending: Vec<(String, bool)> = Vec::new();
    // A word here would be a command name (where `if`, `done`… are keywords).
    let mut command_start = true;
    // The line so far ends with an operator that continues on the next line.
    let mut continues = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                i += 1;
                for (delimiter, strip_tabs) in pending.drain(..) {
                    loop {
                        if i >= bytes.len() {
                            return cuts;
                        }
                        let end = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
                        let line = source[i..end].strip_suffix('\r').unwrap_or(&source[i..end]);
                        let line = if strip_tabs { line.trim_start_matches('\t') } else { line };
                        i = end + 1;
                        if line == delimiter {
                            break;
                        }
                    }
                }
                if parens == 0 && blocks == 0 && !continues && i - last_cut >= size && i < bytes.len() {
                    cuts.push(i);
                    last_cut = i;
                }
                command_start = true;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n') || is_operator(bytes[i - 1]) => {
                i = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'<' if bytes[i..].starts_with(b"<<") && !bytes[i..].starts_with(b"<<<") => {
                let mut j = i + 2;
                let strip_tabs = bytes.get(j) == Some(&b'-');
                j += usize::from(strip_tabs);
                while matches!(bytes.get(j), Some(b' ' | b'\t')) {
                    j += 1;
                }
                let end = j + bytes[j..].iter().position(|&c| c.is_ascii_whitespace() || is_operator(c)).unwrap_or(bytes.len() - j);
                let delimiter: String = source[j..end].chars().filter(|c| !matches!(c, '\'' | '"' | '\\')).collect();
                if delimiter.is_empty() {
                    return cuts;
                }
                pending.push((delimiter, strip_tabs));
                i = end;
                command_start = false;
                continues = false;
            }
            b'(' | b'{' => {
                *(if b == b'(' { &mut parens } else { &mut blocks }) += 1;
                i += 1;
                command_start = true;
            }
            b')' => {
                // `a)` in a `case` closes nothing.
                if parens > 0 {
                    parens -= 1;
                } else if blocks == 0 {
                    return cuts;
                }
                i += 1;
                command_start = true;
            }
            b'}' => {
                let Some(fewer) = blocks.checked_sub(1) else { return cuts };
                blocks = fewer;
                i += 1;
            }
            b'&' | b'|' => {
                let doubled = bytes.get(i + 1) == Some(&b);
                // `a &` ends a command; `a &&`, `a ||` and `a |` go on.
                continues = b == b'|' || doubled;
                i += 1 + usize::from(doubled);
                command_start = true;
            }
            b';' | b'<' | b'>' => {
                continues = false;
                command_start = b == b';';
                i += 1;
            }
            _ => {
                // A word, its quotes and escapes included.
                let start = i;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        quote @ (b'\'' | b'"' | b'`') => {
                            let mut j = i + 1;
                            while j < bytes.len() && bytes[j] != quote {
                                j += if quote != b'\'' && bytes[j] == b'\\' { 2 } else { 1 };
                            }
                            if j >= bytes.len() {
                                return cuts;
                            }
                            i = j + 1;
                        }
                        c if c.is_ascii_whitespace() || is_operator(c) || c == b'{' || c == b'}' => break,
                        _ => i += 1,
                    }
                }
                continues = false;
                if command_start {
                    match &source[start..i.min(bytes.len())] {
                        "if" | "case" | "for" | "while" | "until" | "select" => blocks += 1,
                        "fi" | "esac" | "done" => {
                            let Some(fewer) = blocks.checked_sub(1) else { return cuts };
                            blocks = fewer;
                        }
                        "then" | "do" | "else" | "elif" | "!" => continue,
                        _ => {}
                    }
                }
                command_start = false;
            }
        }
    }
    cuts
}

/// Where the commands being lowered sit.
#[derive(Debug, Clone, Copy, Default)]
struct Ctx {
    /// Statements here are top-level steps.
    top: bool,
    subshell: bool,
    condition: bool,
    substitution: bool,
    function: bool,
    in_loop: bool,
    depth: u32,
}

impl Ctx {
    fn nested(self) -> Ctx {
        Ctx {
            top: false,
            depth: self.depth + 1,
            ..self
        }
    }

    /// Whether a state change here persists for the rest of the script.
    fn leaks_state(self) -> bool {
        !(self.subshell || self.substitution || self.function)
    }
}

/// Where one pipeline element sits in its and-or list.
#[derive(Debug, Clone, Copy)]
struct Position {
    in_pipeline: bool,
    negated: bool,
    /// (step, item) when at top level.
    top: Option<(usize, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    And,
    Or,
    Pipe,
}

/// A pipeline element after flattening: a command or compound statement plus the
/// redirections tree-sitter hung on an enclosing node.
struct Elem<'t> {
    node: Node<'t>,
    link: Option<Link>,
    /// Where the `!` before it starts, if negated.
    negation: Option<usize>,
    start: usize,
    /// End of the element's own text: its redirections included, heredoc bodies not.
    end: usize,
    redirects: Vec<Node<'t>>,
}

/// A simple command's pieces, gathered before it is recorded.
struct Parts<'t> {
    kind: CommandKind,
    words: Vec<ShellWord>,
    assignments: Vec<ShellWord>,
    redirects: Vec<Redirect>,
    heredocs: Vec<Node<'t>>,
}

impl Parts<'_> {
    fn new(kind: CommandKind) -> Self {
        Parts {
            kind,
            words: Vec::new(),
            assignments: Vec::new(),
            redirects: Vec::new(),
            heredocs: Vec::new(),
        }
    }
}

enum Work<'t> {
    Statement(Node<'t>),
    Link(Link),
    Redirect(Node<'t>),
    /// A `!` starting at this byte.
    Negate(usize),
}

struct Lowerer<'s> {
    src: &'s str,
    commands: Vec<Command>,
    steps: Vec<Step>,
    /// Function definitions and loop variables; command-made changes are derived in `finish`.
    constructs: Vec<StateChange>,
    heredocs: Vec<Heredoc>,
    has_pipeline: bool,
    too_deep: bool,
}

impl<'s> Lowerer<'s> {
    fn new(src: &'s str) -> Self {
        Lowerer {
            src,
            commands: Vec::new(),
            steps: Vec::new(),
            constructs: Vec::new(),
            heredocs: Vec::new(),
            has_pipeline: false,
            too_deep: false,
        }
    }

    fn deep(&mut self, ctx: Ctx) -> bool {
        self.too_deep |= ctx.depth > MAX_DEPTH;
        ctx.depth > MAX_DEPTH
    }

    /// A node holding a sequence of statements: program, `{ }`, `( )`, `do … done`, `$( )`, …
    fn visit_block(&mut self, node: Node, ctx: Ctx) {
        if self.deep(ctx) {
            return;
        }
        let children = children(node);
        for (index, &child) in children.iter().enumerate() {
            if is_statement(child.kind()) {
                self.visit_statement(child, ctx, is_backgrounded(&children, index));
            } else if child.kind() == "ERROR" {
                self.visit_block(
                    child,
                    Ctx {
                        depth: ctx.depth + 1,
                        ..ctx
                    },
                );
            } else if is_code(child) {
                self.scan(child, ctx);
            }
        }
    }

    /// One and-or list: flattened into items of pipeline elements, each lowered.
    fn visit_statement(&mut self, node: Node, ctx: Ctx, background: bool) {
        if self.deep(ctx) {
            return;
        }
        let (elems, orphans) = linearize(node);
        let mut items: Vec<(Option<Op>, Vec<Elem>)> = Vec::new();
        for elem in elems {
            match (elem.link, items.last_mut()) {
                (Some(Link::Pipe), Some((_, pipeline))) => pipeline.push(elem),
                (Some(Link::And), _) => items.push((Some(Op::And), vec![elem])),
                (Some(Link::Or), _) => items.push((Some(Op::Or), vec![elem])),
                _ => items.push((None, vec![elem])),
            }
        }
        let step = ctx.top.then_some(self.steps.len());
        // `a && b || c`: a failure of `a` or `b` is handled by `c`.
        let last_or = items.iter().rposition(|(op, _)| *op == Some(Op::Or));
        let mut chain = Vec::with_capacity(items.len());
        for (index, (op_before, elems)) in items.into_iter().enumerate() {
            let (Some(first), Some(last)) = (elems.first(), elems.last()) else {
                continue;
            };
            let range = first.negation.unwrap_or(first.start)..last.end;
            let negated = first.negation.is_some();
            let in_pipeline = elems.len() > 1;
            let kind = if in_pipeline {
                ItemKind::Pipeline
            } else if is_simple(first.node.kind()) {
                ItemKind::Simple
            } else {
                ItemKind::Compound
            };
            self.has_pipeline |= in_pipeline;
            let guarded = last_or.is_some_and(|last_or| index < last_or);
            let item_ctx = Ctx {
                condition: ctx.condition || guarded,
                ..ctx
            };
            let position = Position {
                in_pipeline,
                negated,
                top: step.map(|step| (step, index)),
            };
            let first_command = self.commands.len();
            for elem in elems {
                self.lower_elem(elem, item_ctx, position);
            }
            let command_indices = (first_command..self.commands.len()).collect();
            chain.push(ChainItem {
                range,
                op_before,
                command_indices,
                kind,
                negated,
            });
        }
        for orphan in orphans {
            self.scan(orphan, ctx);
        }
        if ctx.top && !chain.is_empty() {
            self.steps.push(Step {
                range: node.start_byte()..node.end_byte(),
                items: chain,
                background,
            });
        }
    }

    fn lower_elem(&mut self, elem: Elem, ctx: Ctx, position: Position) {
        let parts = match elem.node.kind() {
            "command" => self.simple_parts(elem.node),
            "declaration_command" | "unset_command" => self.keyword_parts(elem.node),
            "test_command" => self.test_parts(elem.node),
            "variable_assignment" | "variable_assignments" => self.assignment_parts(elem.node),
            _ => {
                self.lower_compound(elem.node, ctx);
                let mut heredocs = Vec::new();
                for &redirect in &elem.redirects {
                    self.lower_redirect(redirect, &mut Vec::new(), &mut heredocs);
                    self.scan_redirect(redirect, ctx);
                }
                for heredoc in heredocs {
                    self.record_heredoc(heredoc, None, ctx);
                }
                return;
            }
        };
        self.push_command(&elem, parts, ctx, position);
    }

    /// `[VAR=x…] name args…` with redirections anywhere among the words.
    fn simple_parts<'t>(&self, node: Node<'t>) -> Parts<'t> {
        let mut parts = Parts::new(CommandKind::Simple);
        for (field, child) in children_with_fields(node) {
            match (field, child.kind()) {
                (Some("name" | "argument"), _) => parts.words.push(self.word(child)),
                (_, "variable_assignment") if parts.words.is_empty() => {
                    parts.assignments.push(self.word(child))
                }
                (_, kind) if is_redirect(kind) => {
                    let redirects =
                        self.lower_redirect(child, &mut parts.words, &mut parts.heredocs);
                    parts.redirects.extend(redirects);
                }
                _ => {}
            }
        }
        parts
    }

    /// `export A=1`, `local x`, `unset A`: the keyword, then each operand as a word.
    fn keyword_parts<'t>(&self, node: Node<'t>) -> Parts<'t> {
        let kind = if node.kind() == "unset_command" {
            CommandKind::Unset
        } else {
            CommandKind::Declaration
        };
        let mut parts = Parts::new(kind);
        parts.words = children(node)
            .into_iter()
            .filter(|child| child.kind() != "comment")
            .map(|child| self.word(child))
            .collect();
        parts
    }

    /// `[ -f x ]` / `[[ a == b ]]`: the leaves of the expression in order, brackets included.
    fn test_parts<'t>(&self, node: Node<'t>) -> Parts<'t> {
        let mut parts = Parts::new(CommandKind::Test);
        let mut stack: Vec<Node> = children(node).into_iter().rev().collect();
        while let Some(node) = stack.pop() {
            match node.kind() {
                "comment" => {}
                "unary_expression"
                | "binary_expression"
                | "parenthesized_expression"
                | "ternary_expression"
                | "postfix_expression"
                | "redirected_statement"
                | "ERROR"
                    if node.is_named() =>
                {
                    stack.extend(children(node).into_iter().rev())
                }
                _ => parts.words.push(self.word(node)),
            }
        }
        parts
    }

    /// `A=1` or `A=1 B=2` with no command.
    fn assignment_parts<'t>(&self, node: Node<'t>) -> Parts<'t> {
        let mut parts = Parts::new(CommandKind::Assignment);
        parts.assignments = if node.kind() == "variable_assignment" {
            vec![self.word(node)]
        } else {
            children(node)
                .into_iter()
                .filter(|child| child.kind() == "variable_assignment")
                .map(|child| self.word(child))
                .collect()
        };
        parts
    }

    /// Adds the element's outer redirections to `parts`, records the command, its heredocs
    /// and the commands in its substitutions.
    fn push_command<'t>(
        &mut self,
        elem: &Elem<'t>,
        mut parts: Parts<'t>,
        ctx: Ctx,
        position: Position,
    ) {
        for &redirect in &elem.redirects {
            let redirects = self.lower_redirect(redirect, &mut parts.words, &mut parts.heredocs);
            parts.redirects.extend(redirects);
        }
        self.commands.push(Command {
            range: elem.start..elem.end,
            effective_start: wrappers::effective_start(&parts.words),
            words: parts.words,
            assignments: parts.assignments,
            redirects: parts.redirects,
            kind: parts.kind,
            in_subshell: ctx.subshell,
            in_pipeline: position.in_pipeline,
            in_condition: ctx.condition,
            in_substitution: ctx.substitution,
            in_function: ctx.function,
            in_loop: ctx.in_loop,
            negated: position.negated,
            step: position.top.map(|(step, _)| step),
            item: position.top.map(|(_, item)| item),
        });
        let index = self.commands.len() - 1;
        for heredoc in parts.heredocs {
            self.record_heredoc(heredoc, Some(index), ctx);
        }
        // Substitutions anywhere in the command's own text and its redirections.
        for child in children(elem.node) {
            if child.kind() == "heredoc_redirect" {
                self.scan_redirect(child, ctx);
            } else if is_code(child) {
                self.scan(child, ctx);
            }
        }
        for &redirect in &elem.redirects {
            self.scan_redirect(redirect, ctx);
        }
    }

    /// Lowers one redirection. Words that tree-sitter mistook for extra redirect destinations
    /// (`cmd 2>/dev/null arg`) are appended to `words`; heredocs are queued in `heredocs`.
    fn lower_redirect<'t>(
        &self,
        node: Node<'t>,
        words: &mut Vec<ShellWord>,
        heredocs: &mut Vec<Node<'t>>,
    ) -> Vec<Redirect> {
        let mut fd = None;
        let mut operator = String::new();
        let mut target: Option<ShellWord> = None;
        let mut end = node.end_byte();
        let mut nested = Vec::new();
        for (field, child) in children_with_fields(node) {
            match (field, child.kind()) {
                (Some("descriptor"), _) => fd = Some(self.text(child).to_owned()),
                (Some("destination"), _) if target.is_some() => words.push(self.word(child)),
                (Some("destination"), _) => {
                    end = child.end_byte();
                    target = Some(self.word(child));
                }
                (Some("redirect"), _) => nested.extend(self.lower_redirect(child, words, heredocs)),
                // The rest of a heredoc's line is lowered as chain elements, the body separately.
                (Some("operator" | "right"), _)
                | (_, "pipeline" | "heredoc_body" | "heredoc_end") => break,
                (_, "heredoc_start") => {
                    end = child.end_byte();
                    target = Some(self.word(child));
                }
                // `cat <<EOF file`: tree-sitter wraps the argument in an ERROR.
                (_, "ERROR") if node.kind() == "heredoc_redirect" => words.extend(
                    children(child)
                        .into_iter()
                        .filter(|n| n.is_named())
                        .map(|n| self.word(n)),
                ),
                _ if !child.is_named() && operator.is_empty() => {
                    operator = self.text(child).to_owned()
                }
                _ if child.is_named() && target.is_none() && child.kind() != "comment" => {
                    end = child.end_byte();
                    target = Some(self.word(child));
                }
                _ => {}
            }
        }
        if node.kind() == "heredoc_redirect" {
            heredocs.push(node);
        }
        let mut redirects = vec![Redirect {
            range: node.start_byte()..end,
            fd,
            operator,
            target,
        }];
        redirects.extend(nested);
        redirects
    }

    fn record_heredoc(&mut self, node: Node, command: Option<usize>, ctx: Ctx) {
        let mut start = None;
        let mut body = None;
        let mut end = None;
        let mut operator = "";
        for child in children(node) {
            match child.kind() {
                "heredoc_start" => start = Some(child),
                "heredoc_body" => body = Some(child),
                "heredoc_end" => end = Some(child),
                "<<" | "<<-" if !child.is_named() => operator = child.kind(),
                _ => {}
            }
        }
        let Some(start) = start else { return };
        let raw = self.text(start);
        let delimiter = static_value(raw).unwrap_or_else(|| raw.replace(['\'', '"', '\\'], ""));
        let end = end.map_or(node.end_byte()..node.end_byte(), |end| {
            end.start_byte()..end.end_byte()
        });
        let body_range = body.map_or(end.start..end.start, |body| {
            body.start_byte()..body.end_byte()
        });
        self.heredocs.push(Heredoc {
            marker: node.start_byte()..start.end_byte(),
            body: body_range,
            end,
            delimiter,
            quoted: raw.contains(['\'', '"', '\\']),
            strip_tabs: operator == "<<-",
            command,
        });
        if let Some(body) = body {
            self.scan(body, ctx);
        }
    }

    /// Substitutions in a redirection; for a heredoc, only in its own parts and body
    /// (the commands after it on its line are chain elements, lowered on their own).
    fn scan_redirect(&mut self, node: Node, ctx: Ctx) {
        if node.kind() != "heredoc_redirect" {
            return self.scan(node, ctx);
        }
        for (field, child) in children_with_fields(node) {
            let tail = matches!(field, Some("operator" | "right")) || child.kind() == "pipeline";
            if !tail && child.kind() != "heredoc_body" {
                self.scan(child, ctx);
            }
        }
    }

    /// Compound commands: the statements inside, with the context they add.
    fn lower_compound(&mut self, node: Node, ctx: Ctx) {
        let inner = ctx.nested();
        match node.kind() {
            "subshell" => self.visit_block(
                node,
                Ctx {
                    subshell: true,
                    ..inner
                },
            ),
            "compound_statement" | "do_group" | "else_clause" | "ERROR" => {
                self.visit_block(node, inner)
            }
            "if_statement" => self.visit_if(node, inner),
            "while_statement" => {
                let looping = Ctx {
                    in_loop: true,
                    ..inner
                };
                for (field, child) in children_with_fields(node) {
                    match field {
                        Some("condition") if is_statement(child.kind()) => self.visit_statement(
                            child,
                            Ctx {
                                condition: true,
                                ..looping
                            },
                            false,
                        ),
                        Some("body") => self.visit_block(child, looping),
                        _ if is_code(child) => self.scan(child, inner),
                        _ => {}
                    }
                }
            }
            "for_statement" | "c_style_for_statement" => {
                if ctx.leaks_state() {
                    self.constructs.push(StateChange {
                        kind: StateKind::LoopVariable,
                        range: node.start_byte()..node.end_byte(),
                        command: None,
                    });
                }
                for (field, child) in children_with_fields(node) {
                    match field {
                        Some("body") => self.visit_block(
                            child,
                            Ctx {
                                in_loop: true,
                                ..inner
                            },
                        ),
                        _ if is_code(child) => self.scan(child, inner),
                        _ => {}
                    }
                }
            }
            "case_statement" => {
                for child in children(node) {
                    if child.kind() == "case_item" {
                        self.visit_case_item(child, inner);
                    } else if is_code(child) {
                        self.scan(child, inner);
                    }
                }
            }
            "function_definition" => {
                if ctx.leaks_state() {
                    self.constructs.push(StateChange {
                        kind: StateKind::FunctionDef,
                        range: node.start_byte()..node.end_byte(),
                        command: None,
                    });
                }
                let body_ctx = Ctx {
                    function: true,
                    ..inner
                };
                for (field, child) in children_with_fields(node) {
                    match (field, child.kind()) {
                        (Some("body"), "compound_statement") => self.visit_block(child, body_ctx),
                        (Some("body"), kind) if is_statement(kind) => {
                            self.visit_statement(child, body_ctx, false)
                        }
                        (Some("redirect"), _) => self.scan(child, inner),
                        _ => {}
                    }
                }
            }
            _ => self.scan(node, inner),
        }
    }

    /// `if`/`elif`: statements between the keyword and `then` are the condition.
    fn visit_if(&mut self, node: Node, ctx: Ctx) {
        if self.deep(ctx) {
            return;
        }
        let mut in_condition = false;
        let children = children(node);
        for (index, &child) in children.iter().enumerate() {
            match child.kind() {
                "if" | "elif" if !child.is_named() => in_condition = true,
                "then" if !child.is_named() => in_condition = false,
                "elif_clause" => self.visit_if(child, ctx.nested()),
                "else_clause" | "ERROR" => self.visit_block(child, ctx.nested()),
                kind if is_statement(kind) => {
                    let ctx = Ctx {
                        condition: ctx.condition || in_condition,
                        ..ctx
                    };
                    self.visit_statement(child, ctx, is_backgrounded(&children, index));
                }
                _ if is_code(child) => self.scan(child, ctx),
                _ => {}
            }
        }
    }

    fn visit_case_item(&mut self, node: Node, ctx: Ctx) {
        let children = children_with_fields(node);
        for (index, &(field, child)) in children.iter().enumerate() {
            if field == Some("value") || !is_statement(child.kind()) {
                if is_code(child) {
                    self.scan(child, ctx);
                }
            } else {
                let background = children
                    .get(index + 1)
                    .is_some_and(|(_, next)| next.kind() == "&");
                self.visit_statement(child, ctx, background);
            }
        }
    }

    /// Finds `$(…)`, backticks and process substitutions inside words and expressions.
    fn scan(&mut self, node: Node, ctx: Ctx) {
        // A cursor rooted at `node` walks its subtree without allocating and never leaves it.
        let mut cursor = node.walk();
        loop {
            let current = cursor.node();
            let is_substitution = matches!(
                current.kind(),
                "command_substitution" | "process_substitution"
            );
            if is_substitution {
                let inner = Ctx {
                    substitution: true,
                    ..ctx.nested()
                };
                self.visit_block(current, inner);
            } else if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    return;
                }
            }
        }
    }

    fn text(&self, node: Node) -> &'s str {
        self.src
            .get(node.start_byte()..node.end_byte())
            .unwrap_or("")
    }

    fn word(&self, node: Node) -> ShellWord {
        let raw = self.text(node);
        ShellWord {
            range: node.start_byte()..node.end_byte(),
            raw: raw.to_owned(),
            literal: static_value(raw),
        }
    }

    /// Puts commands in source order, then derives state changes from them.
    fn finish(self) -> Parsed {
        let mut indexed: Vec<(usize, Command)> = self.commands.into_iter().enumerate().collect();
        indexed.sort_by_key(|(index, command)| (command.range.start, *index));
        let mut new_index = vec![0; indexed.len()];
        for (new, (old, _)) in indexed.iter().enumerate() {
            new_index[*old] = new;
        }
        let remap = |old: usize| new_index.get(old).copied().unwrap_or(old);
        let commands: Vec<Command> = indexed.into_iter().map(|(_, command)| command).collect();

        let mut steps = self.steps;
        for item in steps.iter_mut().flat_map(|step| step.items.iter_mut()) {
            for index in &mut item.command_indices {
                *index = remap(*index);
            }
            item.command_indices.sort_unstable();
        }
        let mut heredocs = self.heredocs;
        for heredoc in &mut heredocs {
            heredoc.command = heredoc.command.map(remap);
        }
        heredocs.sort_by_key(|heredoc| heredoc.marker.start);

        let mut state_changes = self.constructs;
        for (index, command) in commands.iter().enumerate() {
            if command.in_subshell || command.in_substitution || command.in_function {
                continue;
            }
            if let Some(kind) = state_kind(command) {
                state_changes.push(StateChange {
                    kind,
                    range: command.range.clone(),
                    command: Some(index),
                });
            }
        }
        state_changes.sort_by_key(|change| change.range.start);

        Parsed {
            source: self.src.to_owned(),
            commands,
            steps,
            state_changes,
            heredocs,
            comments: Vec::new(),
            has_errors: false,
            has_pipeline: self.has_pipeline,
        }
    }
}

/// Flattens an and-or list into pipeline elements in source order, each with the operator
/// joining it to the previous one. Also returns nodes that fit nowhere (to scan for substitutions).
fn linearize(node: Node) -> (Vec<Elem>, Vec<Node>) {
    let mut elems: Vec<Elem> = Vec::new();
    let mut orphans = Vec::new();
    let mut stack = vec![Work::Statement(node)];
    let mut link = None;
    let mut negation = None;
    while let Some(work) = stack.pop() {
        match work {
            Work::Link(next) => link = Some(next),
            Work::Negate(start) => negation = Some(start),
            Work::Redirect(redirect) => match elems.last_mut() {
                Some(elem) => {
                    elem.end = elem.end.max(redirect_own_end(redirect));
                    elem.redirects.push(redirect);
                    if redirect.kind() == "heredoc_redirect" {
                        push_heredoc_line_rest(redirect, &mut stack);
                    }
                }
                None => orphans.push(redirect),
            },
            Work::Statement(node) => match node.kind() {
                "list" | "pipeline" => {
                    for child in children(node).into_iter().rev() {
                        match child.kind() {
                            "&&" if !child.is_named() => stack.push(Work::Link(Link::And)),
                            "||" if !child.is_named() => stack.push(Work::Link(Link::Or)),
                            "|" | "|&" if !child.is_named() => stack.push(Work::Link(Link::Pipe)),
                            _ if is_code(child) => stack.push(Work::Statement(child)),
                            _ => {}
                        }
                    }
                }
                "redirected_statement" => {
                    for (field, child) in children_with_fields(node).into_iter().rev() {
                        if field == Some("body") {
                            stack.push(Work::Statement(child));
                        } else if is_redirect(child.kind()) {
                            stack.push(Work::Redirect(child));
                        } else if is_code(child) {
                            orphans.push(child);
                        }
                    }
                }
                "negated_command" => {
                    for child in children(node).into_iter().rev() {
                        if is_code(child) {
                            stack.push(Work::Statement(child));
                        }
                    }
                    stack.push(Work::Negate(node.start_byte()));
                }
                _ => elems.push(Elem {
                    node,
                    link: link.take(),
                    negation: negation.take(),
                    start: node.start_byte(),
                    end: node.end_byte(),
                    redirects: Vec::new(),
                }),
            },
        }
    }
    (elems, orphans)
}

/// Queues what follows a heredoc marker on its line: `| next`, `&& next`, `|| next`.
fn push_heredoc_line_rest<'t>(redirect: Node<'t>, stack: &mut Vec<Work<'t>>) {
    let mut rest = Vec::new();
    for (field, child) in children_with_fields(redirect) {
        match (field, child.kind()) {
            (_, "pipeline") | (Some("right"), _) => rest.push(Work::Statement(child)),
            (Some("operator"), "&&") => rest.push(Work::Link(Link::And)),
            (Some("operator"), "||") => rest.push(Work::Link(Link::Or)),
            (Some("operator"), "|" | "|&") => rest.push(Work::Link(Link::Pipe)),
            _ => {}
        }
    }
    stack.extend(rest.into_iter().rev());
}

/// End of a redirection's text on its command's line (for a heredoc: up to the marker and any
/// redirections after it, not the rest of the line nor the body).
fn redirect_own_end(redirect: Node) -> usize {
    if redirect.kind() != "heredoc_redirect" {
        return redirect.end_byte();
    }
    let mut end = redirect.start_byte();
    for (field, child) in children_with_fields(redirect) {
        if matches!(field, Some("operator" | "right"))
            || matches!(child.kind(), "pipeline" | "heredoc_body" | "heredoc_end")
        {
            break;
        }
        end = child.end_byte();
    }
    end
}

fn state_kind(command: &Command) -> Option<StateKind> {
    match command.kind {
        CommandKind::Assignment => return Some(StateKind::BareAssignment),
        CommandKind::Unset => return Some(StateKind::Unset),
        CommandKind::Test => return None,
        CommandKind::Declaration | CommandKind::Simple => {}
    }
    // `command cd x` and `builtin cd x` still run the builtin in this shell; `sudo cd` does not.
    let view = match command.name() {
        Some("command" | "builtin") => command.effective(),
        _ => command.view(),
    };
    let kind = match view.name()? {
        "cd" => StateKind::Cd,
        "pushd" | "popd" => StateKind::PushdPopd,
        "export" => StateKind::Export,
        "declare" | "typeset" | "local" | "readonly" => StateKind::Declare,
        "unset" => StateKind::Unset,
        "set" => StateKind::Set,
        "shopt" => StateKind::Shopt,
        "umask" => StateKind::Umask,
        "ulimit" => StateKind::Ulimit,
        "alias" | "unalias" => StateKind::Alias,
        "trap" => StateKind::Trap,
        "source" | "." => StateKind::Source,
        "exec" => StateKind::Exec,
        "exit" | "logout" => StateKind::Exit,
        "eval" => StateKind::Eval,
        "printf" if !view.has_flag(Some('v'), None) => return None,
        name @ ("read" | "mapfile" | "readarray" | "let" | "shift" | "getopts" | "hash"
        | "enable" | "printf") => StateKind::Other(name.to_owned()),
        _ => return None,
    };
    Some(kind)
}

/// All comments, found with a cursor (no recursion); heredoc bodies are text, not comments.
fn comments(root: Node) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.kind() == "comment" {
            found.push(node.start_byte()..node.end_byte());
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

fn children<'t>(node: Node<'t>) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    node.children(&mut cursor).collect()
}

fn children_with_fields<'t>(node: Node<'t>) -> Vec<(Option<&'t str>, Node<'t>)> {
    let mut result = Vec::with_capacity(node.child_count() as usize);
    let mut cursor = node.walk();
    if cursor.goto_first_child() {
        loop {
            result.push((cursor.field_name(), cursor.node()));
            if !cursor.goto_next_sibling() {
                break;
            }
        }
    }
    result
}

/// A named node other than a comment: something that may hold commands.
fn is_code(node: Node) -> bool {
    node.is_named() && node.kind() != "comment"
}

fn is_backgrounded(siblings: &[Node], index: usize) -> bool {
    siblings
        .get(index + 1)
        .is_some_and(|next| !next.is_named() && next.kind() == "&")
}

pub(super) fn is_statement(kind: &str) -> bool {
    matches!(
        kind,
        "command"
            | "list"
            | "pipeline"
            | "redirected_statement"
            | "negated_command"
            | "subshell"
            | "compound_statement"
            | "if_statement"
            | "while_statement"
            | "for_statement"
            | "c_style_for_statement"
            | "case_statement"
            | "function_definition"
            | "test_command"
            | "declaration_command"
            | "unset_command"
            | "variable_assignment"
            | "variable_assignments"
    )
}

fn is_simple(kind: &str) -> bool {
    matches!(
        kind,
        "command"
            | "declaration_command"
            | "unset_command"
            | "test_command"
            | "variable_assignment"
            | "variable_assignments"
    )
}

fn is_redirect(kind: &str) -> bool {
    matches!(
        kind,
        "file_redirect" | "heredoc_redirect" | "herestring_redirect"
    )
}

#[cfg(test)]
mod pieces {
    use super::*;

    /// Lowered in pieces cut at every place `cut_points` allows (or not cut at all), the model is
    /// the one of a single parse.
    fn same_in_pieces(script: &str) -> bool {
        let whole = format!("{:?}", lower_whole(script));
        match lower_in_pieces(script, 1) {
            Some(pieces) => {
                assert_eq!(format!("{pieces:?}"), whole, "{script}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn statements_cut_at_line_breaks_give_the_model_of_one_parse() {
        let script = "apt-get update\napt-get install -y curl && \\\n  rm -rf /var/lib/apt/lists/*\n# it's a comment\nfor f in a b; do\n  echo \"$f\n  done\"\ndone\nif true\nthen echo 'fi\n'\nfi\ncase \"$x\" in\n  a) echo a;;\n  (b) echo b;;\nesac\ncat <<-'EOF' > /etc/x\n\tfi\n\tdone )\n\tEOF\nf() {\n  echo {a,b} ${x:-y}\n}\nsleep 1 &\n(cd /tmp && make) | tee log ||\n  true\nx=$(echo a\n  b)\necho done\necho $((1 + 2))\n";
        assert!(same_in_pieces(script));
        assert!(cut_points(script, 1).len() >= 10, "{:?}", cut_points(script, 1));
    }

    #[test]
    fn never_cuts_inside_an_open_construct() {
        // Each line break here is inside something: a quote, a heredoc body, a compound command,
        // a bracket, or after an operator that continues the line.
        for script in [
            "echo 'a\nb'\n",
            "echo \"a\nb\"\n",
            "cat <<EOF\nline\nEOF\n",
            "cat << \"EOF\"\nline\nEOF\n",
            "cat <<\\EOF\nline\nEOF\n",
            "if true\nthen x\nfi\n",
            "while read l\ndo\n  x\ndone\n",
            "(\n  x\n)\n",
            "{\n  x\n}\n",
            "a &&\nb\n",
            "a ||\nb\n",
            "a |\nb\n",
            "a \\\nb\n",
            "x=$(\n  a\n)\n",
        ] {
            let body = script.trim_end_matches('\n');
            assert_eq!(cut_points(script, 1), Vec::<usize>::new(), "{script:?}");
            // Followed by a plain line, the only cut is before it.
            let longer = format!("{body}\nnext\n");
            assert_eq!(cut_points(&longer, 1), vec![body.len() + 1], "{longer:?}");
            assert!(same_in_pieces(&longer));
        }
    }

    #[test]
    fn gives_up_on_what_it_cannot_follow() {
        for script in ["echo a\nfi\necho b\necho c\n", "echo 'open\necho b\n", "echo $((1<<2))\necho b\necho c\n"] {
            let cuts = cut_points(script, 1);
            assert!(cuts.len() <= 1, "{script:?}: {cuts:?}");
            same_in_pieces(script);
        }
    }

    #[test]
    fn every_corpus_run_gives_the_model_of_one_parse() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
        let mut cut = 0;
        for entry in std::fs::read_dir(&corpus).expect("the corpus at ../shared/corpus") {
            let Ok(text) = std::fs::read_to_string(entry.unwrap().path().join("Dockerfile")) else { continue };
            let Ok(file) = crate::syntax::parse(&text) else { continue };
            for inst in file.instructions.iter().filter(|i| i.keyword == crate::syntax::Keyword::Run) {
                let bodies = inst.heredocs.iter().map(|h| file.text(h.body.clone()));
                for script in bodies.chain([inst.args_text()]) {
                    cut += usize::from(same_in_pieces(script));
                }
            }
        }
        // Most RUNs are one logical line; the heredocs and multi-line ones are cut.
        assert!(cut > 50, "only {cut} scripts were cut");
    }
}
