//! The shell inside a RUN instruction, seen through tree-sitter-bash.
//!
//! [`parse_script`] parses a RUN body once (the arguments with Dockerfile line continuations
//! removed, or a heredoc body) and lowers the tree into plain Rust values that transforms query:
//! every simple [`Command`] with its words, the top-level `&&`/`||` chains ([`Step`]s), the
//! constructs that leave state behind for later commands ([`StateChange`]), heredocs and comments.
//! All ranges are byte ranges into the parsed text. tree-sitter types never leave this module.
//!
//! Parsing never fails: on a syntax error the model holds what tree-sitter recovered and
//! [`Script::has_errors`] is true, so a transform can decide to leave the RUN alone.

mod command;
mod layout;
mod lower;
mod word;
mod wrappers;

#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

pub use command::{CommandView, NO_OPTIONS};
pub use layout::{layout, Layout};

/// A parsed RUN body. Build it with [`parse_script`]. Cheap to clone: clones share one parse.
#[derive(Debug, Clone)]
pub struct Script(Arc<Parsed>);

#[derive(Debug)]
struct Parsed {
    source: String,
    commands: Vec<Command>,
    steps: Vec<Step>,
    state_changes: Vec<StateChange>,
    heredocs: Vec<Heredoc>,
    comments: Vec<Range<usize>>,
    has_errors: bool,
    has_pipeline: bool,
}

/// Parses `source` as a POSIX/bash script. Never panics; see [`Script::has_errors`]. While a
/// [`ParseMemo`] is alive on this thread, a text parsed before is not parsed again.
pub fn parse_script(source: &str) -> Script {
    let known = MEMO.with(|memo| memo.borrow().as_ref().and_then(|m| m.get(source).cloned()));
    if let Some(script) = known {
        return script;
    }
    let script = Script(Arc::new(lower::lower(source)));
    MEMO.with(|memo| {
        if let Some(m) = memo.borrow_mut().as_mut() {
            m.insert(source.into(), script.clone());
        }
    });
    script
}

thread_local! {
    static MEMO: RefCell<Option<HashMap<Box<str>, Script>>> = const { RefCell::new(None) };
}

/// While it lives, [`parse_script`] on this thread remembers each text it parsed: the fix loop
/// re-parses a Dockerfile after every pass, and most RUNs (and the heredocs and `sh -c` scripts
/// several transforms read) come back unchanged. Dropping it forgets them. Nested memos share
/// the outermost one.
pub struct ParseMemo {
    outermost: bool,
}

/// Scripts of at least this many bytes stay remembered only while the Dockerfile still holds
/// their text (see [`ParseMemo::forget_absent`]).
const LARGE_SCRIPT: usize = 64 * 1024;

impl ParseMemo {
    /// Forgets the large scripts that `source` no longer contains: once a fix has edited a long
    /// heredoc, the model of its old text (hundreds of bytes per line) would otherwise stay beside
    /// the new one for the rest of the fix loop.
    pub fn forget_absent(&self, source: &str) {
        MEMO.with(|memo| {
            if let Some(m) = memo.borrow_mut().as_mut() {
                m.retain(|text, _| text.len() < LARGE_SCRIPT || source.contains(&**text));
            }
        });
    }

    pub fn new() -> ParseMemo {
        let outermost = MEMO.with(|memo| {
            let mut memo = memo.borrow_mut();
            let outermost = memo.is_none();
            memo.get_or_insert_with(HashMap::new);
            outermost
        });
        ParseMemo { outermost }
    }
}

impl Default for ParseMemo {
    fn default() -> Self {
        ParseMemo::new()
    }
}

impl Drop for ParseMemo {
    fn drop(&mut self) {
        if self.outermost {
            MEMO.with(|memo| memo.borrow_mut().take());
        }
    }
}

impl Script {
    /// The text every range in this model points into.
    pub fn source(&self) -> &str {
        &self.0.source
    }

    /// The text of `range`, or `""` if it does not fit the source (ranges from this model always do).
    pub fn text(&self, range: &Range<usize>) -> &str {
        self.0.source.get(range.clone()).unwrap_or("")
    }

    /// True when tree-sitter had to recover from a syntax error (the model may then be partial),
    /// or when nesting was too deep to analyse completely.
    pub fn has_errors(&self) -> bool {
        self.0.has_errors
    }

    /// Every command in source order, nested ones included (inside `if`, loops, subshells,
    /// `$(…)`, functions). Bare assignments (`A=1`), `export`/`unset` and `[ … ]` tests are
    /// commands too; see [`Command::kind`].
    pub fn commands(&self) -> &[Command] {
        &self.0.commands
    }

    /// Commands whose effective program (after `sudo`, `env`, … wrappers) is `basename`,
    /// with their indices into [`Script::commands`].
    pub fn commands_named<'a>(
        &'a self,
        basename: &'a str,
    ) -> impl Iterator<Item = (usize, &'a Command)> + 'a {
        self.0.commands
            .iter()
            .enumerate()
            .filter(move |(_, command)| command.effective().basename() == Some(basename))
    }

    /// The top-level sequence: one [`Step`] per and-or list separated by `;`, `&` or a newline.
    pub fn top_level(&self) -> &[Step] {
        &self.0.steps
    }

    /// True when the whole script is one `a && b && c` list run in the foreground
    /// (items may be pipelines or compound commands). An empty script is not a chain.
    pub fn is_and_chain(&self) -> bool {
        match self.0.steps.as_slice() {
            [step] => {
                !step.background
                    && !step.items.is_empty()
                    && step
                        .items
                        .iter()
                        .skip(1)
                        .all(|item| item.op_before == Some(Op::And))
            }
            _ => false,
        }
    }

    /// Constructs that leave state for the rest of the shell (working directory, variables,
    /// options, functions, `exec`/`exit`), in source order. Those inside subshells, `$(…)` and
    /// function bodies are left out (they cannot leak); those in pipelines are kept, since
    /// zsh and ksh run the last pipeline element in the current shell.
    pub fn state_changes(&self) -> &[StateChange] {
        &self.0.state_changes
    }

    /// Heredocs (`<<EOF … EOF`) in source order.
    pub fn heredocs(&self) -> &[Heredoc] {
        &self.0.heredocs
    }

    pub fn has_heredoc(&self) -> bool {
        !self.0.heredocs.is_empty()
    }

    /// True when any two commands are joined by `|` or `|&`, at any depth.
    pub fn has_pipeline(&self) -> bool {
        self.0.has_pipeline
    }

    /// Ranges of `# …` comments (heredoc bodies excluded).
    pub fn comments(&self) -> &[Range<usize>] {
        &self.0.comments
    }
}

/// One top-level and-or list: `a && b || c`, ended by `;`, `&`, a newline or the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// From the first item to the end of the last, heredoc bodies included; the terminator is not.
    pub range: Range<usize>,
    pub items: Vec<ChainItem>,
    /// Ended by `&`: runs in the background.
    pub background: bool,
}

/// One element of an and-or list: a simple command, a pipeline or a compound command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainItem {
    /// The item's own text, redirections included, heredoc bodies excluded (they start on a
    /// later line). `range.end` is where `&& next` can be inserted, even before a heredoc body.
    pub range: Range<usize>,
    /// The operator joining this item to the previous one; `None` for the first.
    pub op_before: Option<Op>,
    /// Indices into [`Script::commands`] of every command inside this item, nested ones included.
    pub command_indices: Vec<usize>,
    pub kind: ItemKind,
    /// Preceded by `!`.
    pub negated: bool,
}

/// The operator between two items of an and-or list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `&&`
    And,
    /// `||`
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// One command (including `A=1`, `export …`, `[ … ]`).
    Simple,
    /// Two or more elements joined by `|` or `|&`.
    Pipeline,
    /// `if`, `for`, `while`, `until`, `case`, `( … )`, `{ …; }`, a function definition.
    Compound,
}

/// A simple command: words, leading assignments, redirections, and where it sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The command with its redirections (`cat <<EOF > /x`), without heredoc bodies.
    pub range: Range<usize>,
    /// The name first, then the arguments; no redirections, no leading `VAR=x` prefixes.
    /// Empty for a bare assignment.
    pub words: Vec<ShellWord>,
    /// Leading `VAR=value` prefixes (for a bare assignment, all of them).
    pub assignments: Vec<ShellWord>,
    pub redirects: Vec<Redirect>,
    pub kind: CommandKind,
    /// Inside `( … )`, at any depth.
    pub in_subshell: bool,
    /// An element of a pipeline with two or more elements.
    pub in_pipeline: bool,
    /// Its exit status is tested rather than fatal: the condition of `if`/`elif`/`while`/`until`,
    /// or followed somewhere in its and-or list by `||` (`a && b || c` guards `a` and `b`).
    pub in_condition: bool,
    /// Inside `$(…)`, backticks, `<(…)` or `>(…)`.
    pub in_substitution: bool,
    /// Inside a function body.
    pub in_function: bool,
    /// Inside a `for`/`while`/`until` loop, its condition included.
    pub in_loop: bool,
    /// Its pipeline is preceded by `!`.
    pub negated: bool,
    /// Index into [`Script::top_level`] when this command is an item (or a pipeline element)
    /// of a top-level chain; `None` when nested in a compound command or substitution.
    pub step: Option<usize>,
    /// Index into that step's `items` when `step` is `Some`.
    pub item: Option<usize>,
    /// Where the command after wrappers starts in `words` (see [`Command::effective`]): found
    /// once here, since transforms ask for it over and over.
    effective_start: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    /// `name args…`, possibly with `VAR=x` prefixes.
    Simple,
    /// Only assignments: `A=1 B=2`.
    Assignment,
    /// `export`, `declare`, `local`, `readonly`, `typeset` (words start with the keyword).
    Declaration,
    /// `unset …` (words start with `unset`).
    Unset,
    /// `[ … ]` or `[[ … ]]`: words are the brackets, operators and operands in order.
    Test,
}

/// A word as written (`raw`) and, when static, as the command receives it (`literal`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellWord {
    pub range: Range<usize>,
    pub raw: String,
    /// The value without quotes and escapes; `None` when the shell would expand it
    /// (`$x`, `$(…)`, backticks, globs, `{a,b}`, a leading `~`).
    pub literal: Option<String>,
}

impl ShellWord {
    /// A word that is only its value (an exec-form argument): nothing for a shell to expand.
    pub fn fixed(value: &str) -> ShellWord {
        ShellWord { range: 0..0, raw: value.to_string(), literal: Some(value.to_string()) }
    }

    /// True when the word's static value is exactly `value`.
    pub fn is(&self, value: &str) -> bool {
        self.literal.as_deref() == Some(value)
    }
}

/// A redirection such as `> /dev/null`, `2>&1`, `<<<"text"` or the `<<EOF` marker of a heredoc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The redirection as written on the command's line (for a heredoc, just `<<EOF`).
    pub range: Range<usize>,
    /// The file descriptor written before the operator (`2` in `2>&1`).
    pub fd: Option<String>,
    /// `>`, `>>`, `<`, `>&`, `&>`, `<<`, `<<-`, `<<<`, …
    pub operator: String,
    /// The file, descriptor, here-string or heredoc delimiter.
    pub target: Option<ShellWord>,
}

/// A heredoc: the `<<EOF` marker on the command line, then the body lines and the delimiter line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The `<<EOF` / `<<-'EOF'` marker.
    pub marker: Range<usize>,
    /// The body lines, ending with the newline before the delimiter line.
    pub body: Range<usize>,
    /// The delimiter line that closes the heredoc (empty if missing).
    pub end: Range<usize>,
    /// The delimiter, quotes removed.
    pub delimiter: String,
    /// The delimiter was quoted, so the body is not expanded.
    pub quoted: bool,
    /// `<<-`: leading tabs are stripped.
    pub strip_tabs: bool,
    /// Index into [`Script::commands`] of the command it feeds, when it feeds a simple command.
    pub command: Option<usize>,
}

/// A construct that leaves state for the rest of the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub kind: StateKind,
    /// The command, function definition or loop that changes state.
    pub range: Range<usize>,
    /// Index into [`Script::commands`] when the change is made by a command.
    pub command: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateKind {
    /// `cd`
    Cd,
    /// `pushd`, `popd`
    PushdPopd,
    /// `export`
    Export,
    /// `declare`, `typeset`, `local`, `readonly`
    Declare,
    /// `unset`
    Unset,
    /// `A=1` with no command
    BareAssignment,
    /// `for x in …` leaves `x` set after the loop
    LoopVariable,
    /// `set` (options such as `-e`, `-o pipefail`, or positional parameters)
    Set,
    Shopt,
    Umask,
    Ulimit,
    /// `alias`, `unalias`
    Alias,
    Trap,
    /// `source`, `.`
    Source,
    /// `exec`: replaces the shell, or redirects it for good when given no command
    Exec,
    /// `exit`: nothing after it runs
    Exit,
    /// `eval`: anything could happen
    Eval,
    /// `name() { … }`
    FunctionDef,
    /// Another builtin that sets variables or shell state: `read`, `let`, `shift`, `hash`, …
    Other(String),
}

/// Whether a Dockerfile `SHELL` (exec form, e.g. `["/bin/bash", "-o", "pipefail", "-c"]`) runs a
/// POSIX-like shell whose RUN bodies this module understands: sh, bash, dash, ash, zsh, ksh
/// (any path, `busybox sh`, `env bash`). PowerShell, cmd and unknown programs give false,
/// as does an empty list.
pub fn is_posix_shell(shell: &[String]) -> bool {
    let mut rest = shell;
    while let Some((program, tail)) = rest.split_first() {
        let name = program
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(program)
            .to_ascii_lowercase();
        match name.strip_suffix(".exe").unwrap_or(&name) {
            "sh" | "bash" | "dash" | "ash" | "zsh" | "ksh" | "ksh93" | "mksh" | "pdksh"
            | "yash" | "posh" => return true,
            // `busybox sh -c …` and `env [-i] [VAR=x] bash -c …` name the shell in a later word.
            "busybox" => rest = tail,
            "env" => {
                let skipped = tail
                    .iter()
                    .take_while(|arg| arg.starts_with('-') || word::is_assignment_word(arg))
                    .count();
                rest = &tail[skipped..];
            }
            _ => return false,
        }
    }
    false
}
