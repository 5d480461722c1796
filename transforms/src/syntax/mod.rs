//! Lossless Dockerfile syntax, following BuildKit's parser (moby/buildkit frontend/dockerfile/parser).
//!
//! `parse` splits the source into items (blank lines, comments, parser directives, instructions)
//! whose byte spans cover the file exactly, so printing the items gives the input back byte for byte.
//! Each instruction also carries its *logical* line: what BuildKit sees once continuations and the
//! comment lines inside them are removed, with a map from logical offsets back to source offsets.

mod lexer;
mod line_index;
mod words;

use std::ops::Range;

pub use line_index::LineIndex;
pub(crate) use lexer::{match_directive, trim_continuation, trim_left_space};
pub use words::{assignments, expand, split_words, unquote, variable_names, Expanded, Var, Word};

/// A parsed Dockerfile. All spans are byte ranges over `source`.
#[derive(Debug, Clone)]
pub struct Dockerfile {
    pub source: String,
    /// Length of the UTF-8 byte-order mark at the start of `source` (0 or 3).
    pub bom_len: usize,
    /// `\` or `` ` `` (from `# escape=`).
    pub escape: char,
    pub directives: Vec<Directive>,
    /// Contiguous, in order, covering `source[bom_len..]`.
    pub items: Vec<Item>,
    pub instructions: Vec<Instruction>,
    pub stages: Vec<Stage>,
    /// What BuildKit's frontend rejects although its parser accepts it (unknown instruction,
    /// no FROM, ...), in source order. `parse_strict` turns the first into an error.
    pub problems: Vec<SyntaxError>,
}

impl Dockerfile {
    /// The source rebuilt from the items: identical to `source` (the lossless invariant).
    pub fn print(&self) -> String {
        let mut out = String::with_capacity(self.source.len());
        out.push_str(&self.source[..self.bom_len]);
        for item in &self.items {
            out.push_str(&self.source[item.span.clone()]);
        }
        out
    }

    /// The line terminator this file uses (`\r\n` when its first line ends so).
    pub fn newline(&self) -> &'static str {
        match self.source.find('\n') {
            Some(i) if i > 0 && self.source.as_bytes()[i - 1] == b'\r' => "\r\n",
            _ => "\n",
        }
    }

    /// Instruction `index` with the comment lines right above it (no blank line between): what
    /// moves, or goes, with it.
    pub fn with_comments_above(&self, index: usize) -> Range<usize> {
        let inst = &self.instructions[index];
        let at = self.items.partition_point(|item| item.span.start < inst.span.start);
        let comments = self.items[..at].iter().rev().take_while(|item| item.kind == ItemKind::Comment).count();
        self.items.get(at - comments).map_or(inst.span.start, |item| item.span.start)..inst.span.end
    }

    pub fn text(&self, range: Range<usize>) -> &str {
        &self.source[range]
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Lower-case: `syntax`, `escape` or `check`.
    pub name: String,
    pub value: String,
    /// The directive's line, without its terminator.
    pub span: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Blank,
    Comment,
    /// Index into `Dockerfile::directives`.
    Directive(usize),
    /// Index into `Dockerfile::instructions`.
    Instruction(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub kind: ItemKind,
    /// Including the line terminator(s).
    pub span: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyword {
    Add,
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
    /// Not an instruction: BuildKit's parser skips it, its frontend rejects it.
    Unknown,
}

impl Keyword {
    pub fn from_word(word: &str) -> Option<Keyword> {
        use Keyword::*;
        Some(match word.to_ascii_lowercase().as_str() {
            "add" => Add,
            "arg" => Arg,
            "cmd" => Cmd,
            "copy" => Copy,
            "entrypoint" => Entrypoint,
            "env" => Env,
            "expose" => Expose,
            "from" => From,
            "healthcheck" => Healthcheck,
            "label" => Label,
            "maintainer" => Maintainer,
            "onbuild" => Onbuild,
            "run" => Run,
            "shell" => Shell,
            "stopsignal" => Stopsignal,
            "user" => User,
            "volume" => Volume,
            "workdir" => Workdir,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        use Keyword::*;
        match self {
            Add => "ADD",
            Arg => "ARG",
            Cmd => "CMD",
            Copy => "COPY",
            Entrypoint => "ENTRYPOINT",
            Env => "ENV",
            Expose => "EXPOSE",
            From => "FROM",
            Healthcheck => "HEALTHCHECK",
            Label => "LABEL",
            Maintainer => "MAINTAINER",
            Onbuild => "ONBUILD",
            Run => "RUN",
            Shell => "SHELL",
            Stopsignal => "STOPSIGNAL",
            User => "USER",
            Volume => "VOLUME",
            Workdir => "WORKDIR",
            Unknown => "UNKNOWN",
        }
    }

    /// The keyword in the case of `written`, another keyword as the author wrote it: lower case
    /// when that has no upper-case letter (`run` → `shell`), upper case otherwise.
    pub fn spelled_like(self, written: &str) -> String {
        if written.chars().all(|c| !c.is_ascii_uppercase()) {
            self.as_str().to_ascii_lowercase()
        } else {
            self.as_str().to_string()
        }
    }

    /// Instructions whose shell-form arguments may open heredocs (BuildKit's heredocDirectives).
    pub fn allows_heredocs(self) -> bool {
        matches!(self, Keyword::Add | Keyword::Copy | Keyword::Run)
    }
}

/// How a physical line of an instruction counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Contributes to the logical line.
    Content,
    /// A comment line inside a continuation: BuildKit drops it.
    Comment,
    /// An empty line inside a continuation: BuildKit skips it (with a warning).
    Blank,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhysicalLine {
    pub kind: LineKind,
    /// Without the terminator.
    pub span: Range<usize>,
}

/// The joined line BuildKit parses, with the map back to the source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Logical {
    pub text: String,
    /// (logical start, source start, length), in order, covering `text`.
    pieces: Vec<(usize, usize, usize)>,
}

impl Logical {
    pub(crate) fn push(&mut self, source_start: usize, piece: &str) {
        if !piece.is_empty() {
            self.pieces.push((self.text.len(), source_start, piece.len()));
            self.text.push_str(piece);
        }
    }

    /// Source offset of logical offset `pos`; the end of the text maps to the end of the last piece.
    pub fn to_source(&self, pos: usize) -> usize {
        for &(l, s, len) in &self.pieces {
            if pos >= l && pos < l + len {
                return s + (pos - l);
            }
        }
        self.pieces.last().map_or(0, |&(_, s, len)| s + len)
    }

    /// Source range of a logical range; `end` maps to the end of the piece holding the last byte.
    pub fn source_range(&self, range: Range<usize>) -> Range<usize> {
        let start = self.to_source(range.start);
        let end = if range.end > range.start { self.to_source(range.end - 1) + 1 } else { start };
        start..end
    }

    /// True when `range` lies within one physical line of the source (no continuation inside).
    pub fn is_contiguous(&self, range: Range<usize>) -> bool {
        self.pieces.iter().any(|&(l, _, len)| range.start >= l && range.end <= l + len)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// Without the leading `--`.
    pub name: String,
    pub value: Option<String>,
    /// The flag as BuildKit reports it: `--name=value` (quotes removed).
    pub text: String,
    /// Logical range of the flag word(s).
    pub logical: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub name: String,
    /// `<<-`: leading tabs are stripped from the body and terminator.
    pub chomp: bool,
    /// Unquoted name: variables in the body are expanded.
    pub expand: bool,
    pub fd: Option<u32>,
    /// The body lines, with their terminators (source range).
    pub body: Range<usize>,
    /// The terminator line, with its line terminator if any.
    pub terminator: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub keyword: Keyword,
    /// The keyword as written (any case).
    pub keyword_span: Range<usize>,
    /// From the first byte of the keyword's line to the end of the last line, terminator and
    /// heredoc bodies included.
    pub span: Range<usize>,
    /// 1-based, as BuildKit counts them (heredoc bodies included).
    pub start_line: usize,
    pub end_line: usize,
    /// The instruction's own physical lines (heredoc bodies excluded).
    pub lines: Vec<PhysicalLine>,
    pub logical: Logical,
    /// For ONBUILD: the inner instruction's keyword and its logical range.
    pub sub: Option<(Keyword, Range<usize>)>,
    pub flags: Vec<Flag>,
    /// Logical range of the arguments after the flags, trimmed.
    pub args: Range<usize>,
    /// The JSON (exec) form, when the arguments are a JSON array of strings.
    pub exec: Option<Vec<String>>,
    pub heredocs: Vec<Heredoc>,
}

impl Instruction {
    /// The arguments after the flags as BuildKit sees them (continuations removed).
    pub fn args_text(&self) -> &str {
        &self.logical.text[self.args.clone()]
    }

    /// Source range of the arguments (may span continuation and comment lines).
    pub fn args_source_range(&self) -> Range<usize> {
        self.logical.source_range(self.args.clone())
    }

    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.name == name)
    }

    /// The instruction's source without heredoc bodies: from its first byte to the end of its last line.
    pub fn head_range(&self) -> Range<usize> {
        let end = self.lines.last().map_or(self.span.end, |l| l.span.end);
        self.span.start..end
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// Position among the stages, from 0.
    pub index: usize,
    /// The `AS name`, lower-cased as BuildKit compares them.
    pub name: Option<String>,
    /// The image reference as written (may contain `$ARG`).
    pub image: String,
    pub platform: Option<String>,
    /// Index of the FROM instruction.
    pub from: usize,
    /// Instruction indices of the stage, FROM included.
    pub instructions: Range<usize>,
}

/// A parse error at a byte offset of the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub offset: usize,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// Parse as BuildKit's parser does: only what it rejects is an error; what its frontend would
/// reject is kept in `Dockerfile::problems`.
pub fn parse(source: &str) -> Result<Dockerfile, SyntaxError> {
    lexer::parse(source)
}

/// Parse and reject everything a BuildKit build would reject at parse time: the gate before
/// dockopt rewrites a file.
pub fn parse_strict(source: &str) -> Result<Dockerfile, SyntaxError> {
    let file = lexer::parse(source)?;
    match file.problems.first() {
        Some(problem) => Err(problem.clone()),
        None => Ok(file),
    }
}
