//! One instruction, reprinted: its head (the instruction's own lines; heredoc bodies are never
//! touched) rebuilt from the logical line BuildKit reads, changing only whitespace that separates
//! tokens, the case of keywords, and where line continuations and control operators sit.
//!
//! The logical line is cut into tokens and *gaps*. A gap is whitespace outside every token (or a
//! point between two tokens where whitespace may be added): on one line it becomes one space
//! (keyword, flags, word lists), the JSON spacing, or stays as written (inside a shell script);
//! where the file continued the line, it becomes ` \` + the line break + the indentation of the
//! continued line's level. A continuation that falls inside a token (a quoted string, a word glued
//! across lines) is kept byte for byte.

use std::ops::Range;

use super::packages::{self, PackageList};
use super::Options;
use crate::config::OperatorPlacement;
use crate::shell::{layout, Layout};
use crate::syntax::{split_words, trim_continuation, trim_left_space, Dockerfile, Instruction, Keyword, LineKind};

/// What formatting changed in an instruction, for the finding's message.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Reasons {
    pub keyword_case: bool,
    pub spacing: bool,
    pub indentation: bool,
    pub operators: bool,
    pub trailing_whitespace: bool,
    pub blank_lines: bool,
    pub packages: bool,
}

impl Reasons {
    pub fn describe(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let named = [
            (self.keyword_case, "keyword case"),
            (self.spacing, "spacing"),
            (self.indentation, "continuation indentation"),
            (self.operators, "operator placement"),
            (self.trailing_whitespace, "trailing whitespace"),
            (self.blank_lines, "blank lines inside the instruction"),
            (self.packages, "package order"),
        ];
        for (on, name) in named {
            if on {
                out.push(name);
            }
        }
        out
    }
}

/// The new text of an instruction's head.
pub(super) struct Formatted {
    /// Source range replaced: from the instruction's first byte to the end of its last own line
    /// (that line's terminator excluded).
    pub range: Range<usize>,
    pub text: String,
    pub reasons: Reasons,
}

/// One physical line of the head that contributes to the logical line.
struct ContentLine {
    /// Index into `Instruction::lines`.
    phys: usize,
    /// Where the line's piece of the logical line starts, in the logical line.
    logical_start: usize,
    /// Where that piece starts in the source.
    source_start: usize,
    continued: bool,
}

/// How the arguments after the flags are read.
enum Args {
    /// Whitespace inside them is meaningful (or unknown): kept as written.
    Verbatim,
    /// Words separated by whitespace (BuildKit's word splitting, quotes and escapes respected).
    Words(Vec<Range<usize>>),
    /// A JSON array of strings: the tokens `[`, `]`, `,` and strings, in logical coordinates.
    Json(Vec<Range<usize>>),
    /// A shell script starting at `offset` of the logical line.
    Shell(Layout, usize),
}

/// What a gap becomes when the file does not break the line there.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// Exactly this text (one space, or the JSON spacing).
    Text(&'static str),
    /// As written (inside shell scripts: alignment is the author's).
    Keep,
}

struct Gap {
    range: Range<usize>,
    rule: Rule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Text(String),
    /// A control operator (`&&`, `||`, `|`, `;`).
    Op(String),
    /// Whitespace between tokens on one line.
    Space(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cont {
    /// The instruction's last line.
    Last,
    /// Continued between tokens: written ` \`.
    Free,
    /// Continued inside a token: the escape right after the text, the next line as written.
    Kept,
}

#[derive(Debug, Clone)]
struct OutLine {
    /// `None`: the line's leading whitespace is part of a token and is kept in `segs`.
    level: Option<usize>,
    segs: Vec<Seg>,
    cont: Cont,
    terminator: String,
    /// A comment line inside the continuation (BuildKit drops it): its text, trimmed.
    comment: Option<String>,
}

impl OutLine {
    fn content(level: Option<usize>) -> OutLine {
        OutLine { level, segs: Vec::new(), cont: Cont::Last, terminator: String::new(), comment: None }
    }

    fn tokens(&self) -> usize {
        self.segs.iter().filter(|s| !matches!(s, Seg::Space(_))).count()
    }

    fn trim_end(&mut self) {
        while matches!(self.segs.last(), Some(Seg::Space(_))) {
            self.segs.pop();
        }
    }
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The instruction reprinted, or `None` when it is left exactly as written: a shell the shell
/// view cannot read, a keyword split across lines, or nothing to change.
pub(super) fn format(file: &Dockerfile, index: usize, posix: bool, options: &Options) -> Option<Formatted> {
    let inst = &file.instructions[index];
    let source = file.source.as_str();
    let escape = file.escape;
    let logical = inst.logical.text.as_str();

    // The content lines and their pieces, rebuilt as the lexer built the logical line.
    let mut lines: Vec<ContentLine> = Vec::new();
    let mut rebuilt = String::with_capacity(logical.len());
    for (phys, line) in inst.lines.iter().enumerate() {
        if line.kind != LineKind::Content {
            continue;
        }
        let raw = &source[line.span.clone()];
        let (start, text) = if phys == 0 {
            let token = trim_left_space(raw);
            (line.span.start + raw.len() - token.len(), token)
        } else {
            (line.span.start, raw)
        };
        let (piece, continued) = trim_continuation(text, escape);
        lines.push(ContentLine { phys, logical_start: rebuilt.len(), source_start: start, continued });
        rebuilt.push_str(piece);
    }
    if rebuilt != logical || lines.first().is_none_or(|l| l.phys != 0) {
        return None;
    }
    let first_len = lines.get(1).map_or(logical.len(), |l| l.logical_start);

    // Tokens that change case.
    let keyword_len = logical.bytes().take_while(|&b| !matches!(b, b' ' | b'\t' | 0x0b | 0x0c | b'\r')).count();
    if keyword_len > first_len {
        return None;
    }
    let mut upper: Vec<Range<usize>> = std::iter::once(0..keyword_len).collect();
    let dispatch = match &inst.sub {
        Some((sub, range)) => {
            upper.push(range.clone());
            *sub
        }
        None => inst.keyword,
    };
    // Words of the head (keyword, ONBUILD's trigger, flags): whitespace between them is free.
    let mut head_words: Vec<Range<usize>> = std::iter::once(0..keyword_len).collect();
    head_words.extend(inst.sub.iter().map(|(_, r)| r.clone()));
    head_words.extend(inst.flags.iter().map(|f| f.logical.clone()));

    let args = inst.args.clone();
    let args_text = &logical[args.clone()];
    // HEALTHCHECK's `CMD`/`NONE` is a word of its own before the command.
    let mut command_start = args.start;
    if dispatch == Keyword::Healthcheck && !args_text.is_empty() {
        let type_len = args_text.bytes().take_while(|b| !b.is_ascii_whitespace()).count();
        let word = args.start..args.start + type_len;
        if matches!(logical[word.clone()].to_ascii_uppercase().as_str(), "CMD" | "NONE") {
            upper.push(word.clone());
        }
        head_words.push(word.clone());
        command_start = word.end + (logical[word.end..args.end].len() - trim_left_space(&logical[word.end..args.end]).len());
    }
    let command_text = &logical[command_start..args.end];

    let mode = if !inst.heredocs.is_empty() {
        // The heredoc markers are words of COPY/ADD; a RUN's script needs its bodies to be read.
        match dispatch {
            Keyword::Copy | Keyword::Add => Args::Words(words(command_text, escape, command_start)),
            _ => Args::Verbatim,
        }
    } else if inst.exec.is_some() {
        match json_tokens(command_text) {
            Some(tokens) => Args::Json(tokens.into_iter().map(|r| r.start + command_start..r.end + command_start).collect()),
            None => Args::Verbatim,
        }
    } else {
        match dispatch {
            Keyword::Run | Keyword::Cmd | Keyword::Entrypoint => {
                if !posix {
                    return None;
                }
                Args::Shell(layout(command_text)?, command_start)
            }
            Keyword::Healthcheck if command_start > args.start => {
                if !posix {
                    return None;
                }
                Args::Shell(layout(command_text)?, command_start)
            }
            Keyword::Healthcheck => Args::Words(Vec::new()),
            Keyword::From | Keyword::Copy | Keyword::Add | Keyword::Volume | Keyword::Expose | Keyword::Arg => {
                Args::Words(words(command_text, escape, command_start))
            }
            // The `key=value` forms; the legacy `ENV key value` keeps its value as written.
            Keyword::Env | Keyword::Label => {
                let w = words(command_text, escape, command_start);
                if w.first().is_some_and(|r| logical[r.clone()].contains('=')) {
                    Args::Words(w)
                } else {
                    Args::Verbatim
                }
            }
            _ => Args::Verbatim,
        }
    };
    if dispatch == Keyword::From {
        if let Args::Words(w) = &mode {
            if w.len() == 3 && logical[w[1].clone()].eq_ignore_ascii_case("as") {
                upper.push(w[1].clone());
            }
        }
    }
    // Every token must sit on one line to change its case.
    upper.retain(|r| lines.iter().all(|l| l.logical_start <= r.start || l.logical_start >= r.end));

    let view = View { logical, args: args.clone(), command_start, head_words: &head_words, mode: &mode, escape };
    let joins: Vec<usize> = lines.iter().skip(1).map(|l| l.logical_start).collect();
    let gaps = view.gaps(&joins);
    let operators: Vec<Range<usize>> = match &mode {
        Args::Shell(l, offset) => l.operators().iter().map(|r| r.start + offset..r.end + offset).collect(),
        _ => Vec::new(),
    };
    let lists: Vec<PackageList> = match (&mode, options.sort_packages) {
        (Args::Shell(_, offset), true) => packages::lists(command_text, *offset, &joins, &lines_between_is_clean(inst, &lines)),
        _ => Vec::new(),
    };

    let mut builder = Builder {
        file,
        inst,
        logical,
        lines: &lines,
        options,
        upper: &upper,
        operators: &operators,
        levels: levels(&view, &lines, &gaps),
        out: vec![OutLine::content(Some(0))],
        reasons: Reasons::default(),
    };
    builder.walk(&gaps, &lists);
    let mut out = std::mem::take(&mut builder.out);
    let mut reasons = builder.reasons;
    if options.operator != OperatorPlacement::Keep {
        reasons.operators |= place_operators(&mut out, options.operator);
    }
    let head_end = inst.lines.last().map_or(inst.span.end, |l| l.span.end);
    let range = inst.span.start..head_end;
    let text = render(&out, escape, options);
    reasons.trailing_whitespace |= inst.lines.iter().any(|l| {
        let t = &source[l.span.clone()];
        t.ends_with([' ', '\t']) && !(l.kind == LineKind::Content && ends_protected(t, escape))
    });
    reasons.blank_lines |= inst.lines.iter().any(|l| l.kind == LineKind::Blank);
    reasons.indentation |= source[inst.span.start..].starts_with([' ', '\t']);
    if text == source[range.clone()] {
        return None;
    }
    Some(Formatted { range, text, reasons })
}

/// Whether the trailing blanks of a content line are kept because removing them would leave the
/// escape character last (a new continuation).
fn ends_protected(line: &str, escape: char) -> bool {
    line.trim_end_matches([' ', '\t']).ends_with(escape) && !trim_continuation(line, escape).1
}

/// For each pair of consecutive content lines: true when only blank lines (no comment line) lie
/// between them.
fn lines_between_is_clean(inst: &Instruction, lines: &[ContentLine]) -> Vec<bool> {
    lines
        .windows(2)
        .map(|w| inst.lines[w[0].phys + 1..w[1].phys].iter().all(|l| l.kind != LineKind::Comment))
        .collect()
}

/// BuildKit's words of `text`, as ranges of the logical line.
fn words(text: &str, escape: char, offset: usize) -> Vec<Range<usize>> {
    split_words(text, escape).into_iter().map(|w| w.range.start + offset..w.range.end + offset).collect()
}

/// The tokens of a JSON array of strings that is the whole text (nothing after `]`).
fn json_tokens(text: &str) -> Option<Vec<Range<usize>>> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut depth = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' => i += 1,
            b'[' | b']' | b',' => {
                if depth == 0 && !tokens.is_empty() {
                    return None;
                }
                match bytes[i] {
                    b'[' => depth += 1,
                    b']' => depth -= 1,
                    _ => {}
                }
                tokens.push(i..i + 1);
                i += 1;
            }
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    match bytes.get(i)? {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                i += 1;
                tokens.push(start..i);
            }
            _ => return None,
        }
    }
    (depth == 0 && tokens.first().is_some_and(|r| bytes[r.start] == b'[')).then_some(tokens)
}

/// Whether `at` lies in one of `ranges` (sorted, disjoint).
fn inside(ranges: &[Range<usize>], at: usize) -> bool {
    let i = ranges.partition_point(|r| r.end <= at);
    ranges.get(i).is_some_and(|r| r.start <= at)
}

/// How the logical line of one instruction divides into tokens and gaps.
struct View<'a> {
    logical: &'a str,
    args: Range<usize>,
    command_start: usize,
    head_words: &'a [Range<usize>],
    mode: &'a Args,
    escape: char,
}

impl View<'_> {
    /// Whether the byte at `at` is whitespace that only separates tokens.
    fn is_free(&self, at: usize) -> bool {
        let bytes = self.logical.as_bytes();
        if !bytes.get(at).is_some_and(|&b| is_blank(b)) {
            return false;
        }
        if at < self.command_start || at >= self.args.end {
            return !self.head_words.iter().any(|w| w.start <= at && at < w.end) && !self.escaped(at);
        }
        match self.mode {
            Args::Verbatim => false,
            Args::Words(words) => !inside(words, at),
            Args::Json(tokens) => !inside(tokens, at),
            Args::Shell(layout, offset) => layout.is_free_space(&self.logical[*offset..self.args.end], at - offset),
        }
    }

    /// Whether the byte at `at` follows an odd run of escape characters.
    fn escaped(&self, at: usize) -> bool {
        let before = &self.logical[..at];
        let run = before.chars().rev().take_while(|&c| c == self.escape).count();
        run % 2 == 1
    }

    /// Whether whitespace may be added at `at` (a point where the file continued the line
    /// without whitespace on either side).
    fn is_boundary(&self, at: usize) -> bool {
        if self.is_free(at) || (at > 0 && self.is_free(at - 1)) {
            return true;
        }
        if at <= self.command_start || at >= self.args.end {
            return self.head_words.iter().any(|w| w.end == at) && !self.head_words.iter().any(|w| w.start < at && at < w.end);
        }
        match self.mode {
            Args::Json(tokens) => !tokens.iter().any(|t| t.start < at && at < t.end),
            Args::Shell(layout, offset) => layout.is_boundary(&self.logical[*offset..self.args.end], at - offset),
            _ => false,
        }
    }

    /// The gaps of the line, in order: runs of free whitespace, the points where JSON wants a
    /// space, and the continuation points between tokens.
    fn gaps(&self, joins: &[usize]) -> Vec<Gap> {
        let bytes = self.logical.as_bytes();
        let mut gaps: Vec<Gap> = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if !self.is_free(i) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && self.is_free(i) {
                i += 1;
            }
            gaps.push(Gap { range: start..i, rule: self.rule(start, i) });
        }
        if let Args::Json(tokens) = self.mode {
            for pair in tokens.windows(2) {
                let (a, b) = (pair[0].end, pair[1].start);
                if a == b && bytes[a - 1] == b',' {
                    gaps.push(Gap { range: a..a, rule: Rule::Text(" ") });
                }
            }
        }
        for &join in joins {
            let covered = gaps.iter().any(|g| g.range.start <= join && join <= g.range.end);
            if !covered && self.is_boundary(join) {
                gaps.push(Gap { range: join..join, rule: Rule::Keep });
            }
        }
        gaps.sort_by_key(|g| (g.range.start, g.range.end));
        gaps
    }

    fn rule(&self, start: usize, end: usize) -> Rule {
        if end >= self.logical.len() {
            // Trailing whitespace, unless removing it would leave an escape character last.
            return if self.logical[..start].ends_with(self.escape) { Rule::Keep } else { Rule::Text("") };
        }
        if start < self.command_start {
            return Rule::Text(" ");
        }
        match self.mode {
            Args::Json(_) => {
                let before = self.logical.as_bytes()[start - 1];
                let after = self.logical.as_bytes()[end];
                if before == b'[' || after == b']' || after == b',' {
                    Rule::Text("")
                } else {
                    Rule::Text(" ")
                }
            }
            Args::Shell(..) => Rule::Keep,
            _ => Rule::Text(" "),
        }
    }
}

/// The indentation level of each content line: 0 for the first; 1 for a line that starts a
/// command (or a flag, a word of a word list), one more than the line that opened the compound
/// command (`if`, a loop, `{`) it is in; one more than the line its command started on for a
/// line that continues a command's arguments (a package list under its `apt-get install`); the
/// level of that line for the word that closes a compound command (`fi`, `done`, `}`). A leading
/// control operator does not count, so where operators are placed never changes a level.
fn levels(view: &View, lines: &[ContentLine], gaps: &[Gap]) -> Vec<usize> {
    let mut levels = vec![0; lines.len()];
    let line_at = |at: usize| lines.iter().rposition(|l| l.logical_start <= at).unwrap_or(0);
    for j in 1..lines.len() {
        let start = lines[j].logical_start;
        let end = lines.get(j + 1).map_or(view.args.end, |l| l.logical_start);
        // The line's first token: after the free whitespace of the gap it starts in.
        let skip = |at: usize| gaps.iter().find(|g| g.range.start <= at && at <= g.range.end).map_or(at, |g| g.range.end.max(at));
        let mut first = skip(start);
        levels[j] = match view.mode {
            Args::Shell(layout, offset) if first >= *offset && first < view.args.end => {
                if let Some(op) = layout.operators().iter().find(|o| o.start + offset == first) {
                    first = skip(op.end + offset);
                }
                let local = first - offset;
                if first >= end {
                    1
                } else if layout.starts_statement(local) {
                    // Nested in a compound command opened on an earlier line: one deeper.
                    match layout.block_around(local).map(|b| line_at(b + offset)) {
                        Some(k) if k < j => levels[k] + 1,
                        _ => 1,
                    }
                } else {
                    match layout.statement_around(local) {
                        Some(statement) => {
                            let k = line_at(statement.start + offset);
                            let closes = statement.end == local + closing_len(&view.logical[first..]);
                            match (k < j, closes) {
                                (true, true) => levels[k].max(1),
                                (true, false) => levels[k] + 1,
                                _ => 1,
                            }
                        }
                        None => 1,
                    }
                }
            }
            _ => 1,
        };
    }
    levels
}

/// The length of the word that closes a compound command at the start of `text`, if one does.
fn closing_len(text: &str) -> usize {
    for word in ["fi", "done", "esac", "}", ")"] {
        if let Some(rest) = text.strip_prefix(word) {
            if rest.is_empty() || rest.starts_with([' ', '\t', ';', '&', '|', ')', '}', '>', '<']) {
                return word.len();
            }
        }
    }
    usize::MAX / 2
}

struct Builder<'a> {
    file: &'a Dockerfile,
    inst: &'a Instruction,
    logical: &'a str,
    lines: &'a [ContentLine],
    options: &'a Options,
    upper: &'a [Range<usize>],
    operators: &'a [Range<usize>],
    levels: Vec<usize>,
    out: Vec<OutLine>,
    reasons: Reasons,
}

impl<'a> Builder<'a> {
    fn source(&self) -> &'a str {
        &self.file.source
    }

    /// The content line holding logical offset `at`.
    fn line_at(&self, at: usize) -> usize {
        self.lines.iter().rposition(|l| l.logical_start <= at).unwrap_or(0)
    }

    fn terminator(&self, phys: usize) -> String {
        let end = self.inst.lines[phys].span.end;
        let rest = &self.source()[end..];
        let len = rest.find('\n').map_or(0, |n| n + 1);
        rest[..len].to_string()
    }

    fn current(&mut self) -> &mut OutLine {
        self.out.last_mut().expect("the builder starts with a line")
    }

    fn walk(&mut self, gaps: &[Gap], lists: &[PackageList]) {
        let len = self.logical.len();
        let mut pos = 0;
        let mut gap_index = 0;
        let mut list_index = 0;
        // The content line the output is on.
        let mut line = 0;
        loop {
            while gaps.get(gap_index).is_some_and(|g| g.range.start < pos) {
                gap_index += 1;
            }
            let next_gap = gaps.get(gap_index);
            let next_list = lists.get(list_index);
            if pos >= len && next_gap.is_none() {
                break;
            }
            if let Some(list) = next_list.filter(|l| l.range.start == pos) {
                line = self.emit_list(list, line);
                pos = list.range.end;
                list_index += 1;
                continue;
            }
            match next_gap {
                Some(gap) if gap.range.start == pos => {
                    // A one-per-line package list starts and ends with a line break.
                    let command_level = |l: &PackageList| self.levels[self.line_at(l.command_start)];
                    let forced = lists.iter().filter(|l| l.one_per_line).find_map(|l| {
                        if gap.range.end == l.range.start {
                            Some(command_level(l) + 1)
                        } else if gap.range.start == l.range.end {
                            Some(command_level(l).max(1))
                        } else {
                            None
                        }
                    });
                    line = self.emit_gap(gap, line, forced);
                    pos = gap.range.end;
                    gap_index += 1;
                }
                _ => {
                    let mut end = next_gap.map_or(len, |g| g.range.start);
                    if let Some(list) = next_list {
                        end = end.min(list.range.start);
                    }
                    line = self.emit_tokens(pos..end, line);
                    pos = end;
                }
            }
        }
        let last = self.lines.len() - 1;
        if self.lines[last].continued {
            self.current().cont = Cont::Free;
        }
        // Comment lines after the last content line.
        self.close_line(self.lines[last].phys, self.inst.lines.len(), last);
    }

    /// Ends the current output line after content line `phys`, then writes the comment lines of
    /// the head up to (not including) physical line `until`.
    fn close_line(&mut self, phys: usize, until: usize, level_line: usize) {
        let terminator = self.terminator(phys);
        self.current().terminator = terminator;
        for p in phys + 1..until {
            let line = &self.inst.lines[p];
            if line.kind != LineKind::Comment {
                continue;
            }
            let raw = &self.source()[line.span.clone()];
            let text = raw.trim_matches([' ', '\t']).to_string();
            let level = self.levels.get(level_line).copied().unwrap_or(1).max(1);
            let lead = raw.len() - raw.trim_start_matches([' ', '\t']).len();
            self.reasons.indentation |= raw[..lead] != self.options.indent(level);
            self.reasons.trailing_whitespace |= raw.ends_with([' ', '\t']);
            let terminator = self.terminator(p);
            self.out.push(OutLine { level: Some(level), segs: Vec::new(), cont: Cont::Last, terminator, comment: Some(text) });
        }
    }

    /// Starts a new output line for content line `next`.
    fn open_line(&mut self, level: Option<usize>) {
        self.out.push(OutLine::content(level));
    }

    fn emit_gap(&mut self, gap: &Gap, line: usize, forced: Option<usize>) -> usize {
        let written = &self.logical[gap.range.clone()];
        // The continuation points inside the gap (the ends count: a line that starts or ends with it).
        let inside: Vec<usize> = (line + 1..self.lines.len())
            .take_while(|&j| self.lines[j].logical_start <= gap.range.end)
            .filter(|&j| gap.range.start <= self.lines[j].logical_start)
            .collect();
        if let Some(&last) = inside.last() {
            let level = forced.unwrap_or(self.levels[last]);
            self.break_line(line, &inside, level, gap);
            return last;
        }
        if let Some(level) = forced {
            self.current().cont = Cont::Free;
            self.current().terminator = self.file.newline().to_string();
            self.open_line(Some(level));
            self.reasons.packages = true;
            return line;
        }
        let text = match &gap.rule {
            Rule::Text(t) => t.to_string(),
            Rule::Keep => written.to_string(),
        };
        if text != written {
            if gap.range.end >= self.logical.len() {
                self.reasons.trailing_whitespace = true;
            } else {
                self.reasons.spacing = true;
            }
        }
        if !text.is_empty() {
            self.current().segs.push(Seg::Space(text));
        }
        line
    }

    /// A free line break after content line `from`, to the last of `to` (the others hold only
    /// whitespace: written as lines with nothing but the escape character).
    fn break_line(&mut self, from: usize, to: &[usize], level: usize, gap: &Gap) {
        let source = self.source();
        let last = *to.last().expect("a break has a line after it");
        // Whether the file already wrote this break the way it will be written.
        let piece = &source[self.lines[from].source_start..self.piece_end(from)];
        let spacing_ok = piece.ends_with(' ') && !piece.ends_with("  ") && !piece.ends_with("\t ");
        if !spacing_ok || gap.range.is_empty() {
            self.reasons.spacing = true;
        }
        let mut previous = from;
        for &j in to {
            let level = if j == last { level } else { self.levels[j] };
            let written = &source[self.lines[j].source_start..];
            let indent_len = written.bytes().take_while(|&b| is_blank(b)).count();
            if written[..indent_len] != self.options.indent(level) {
                self.reasons.indentation = true;
            }
            self.current().cont = Cont::Free;
            self.close_line(self.lines[previous].phys, self.lines[j].phys, j);
            self.open_line(Some(level));
            previous = j;
        }
    }

    /// End of the source piece of content line `j`.
    fn piece_end(&self, j: usize) -> usize {
        let end = self.lines.get(j + 1).map_or(self.logical.len(), |l| l.logical_start);
        self.lines[j].source_start + (end - self.lines[j].logical_start)
    }

    /// Tokens in `range`, cut at operators and at continuation points inside tokens.
    fn emit_tokens(&mut self, range: Range<usize>, mut line: usize) -> usize {
        let mut pos = range.start;
        loop {
            // A continuation inside a token: the line ends with the escape, the next is kept as written.
            let inside = range.start < pos && pos < range.end;
            let at_pos = (line + 1..self.lines.len()).take_while(|&j| self.lines[j].logical_start <= pos);
            if let Some(next) = at_pos.filter(|&j| inside && self.lines[j].logical_start == pos).last() {
                self.current().cont = Cont::Kept;
                self.close_line(self.lines[line].phys, self.lines[next].phys, next);
                self.reasons.blank_lines |= next > line + 1;
                self.open_line(None);
                line = next;
            }
            if pos >= range.end {
                return line;
            }
            let join = (line + 1..self.lines.len()).map(|j| self.lines[j].logical_start).find(|&at| at > pos).filter(|&at| at < range.end);
            let mut end = join.unwrap_or(range.end);
            let first_op = self.operators.partition_point(|o| o.end <= pos);
            match self.operators.get(first_op).filter(|o| o.start < end) {
                Some(o) if o.start <= pos => {
                    end = o.end.min(end);
                    let text = self.logical[pos..end].to_string();
                    self.current().segs.push(Seg::Op(text));
                }
                Some(o) => {
                    end = o.start;
                    self.push_text(pos..end);
                }
                None => self.push_text(pos..end),
            }
            pos = end;
        }
    }

    fn push_text(&mut self, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        let mut text = String::new();
        let mut at = range.start;
        for upper in self.upper.iter().filter(|u| u.start < range.end && u.end > range.start) {
            let start = upper.start.max(range.start);
            let end = upper.end.min(range.end);
            text.push_str(&self.logical[at..start]);
            let word = self.logical[start..end].to_ascii_uppercase();
            if word != self.logical[start..end] {
                self.reasons.keyword_case = true;
            }
            text.push_str(&word);
            at = end;
        }
        text.push_str(&self.logical[at..range.end]);
        match self.current().segs.last_mut() {
            Some(Seg::Text(t)) => t.push_str(&text),
            _ => self.current().segs.push(Seg::Text(text)),
        }
    }

    /// A sorted package list; returns the content line the output is on after it.
    fn emit_list(&mut self, list: &PackageList, line: usize) -> usize {
        let level = self.current().level.unwrap_or(1);
        let next_line = self.line_at(list.range.end - 1);
        for (n, word) in list.sorted.iter().enumerate() {
            if n > 0 {
                if list.one_per_line {
                    self.current().cont = Cont::Free;
                    self.current().terminator = self.file.newline().to_string();
                    self.open_line(Some(level));
                } else {
                    self.current().segs.push(Seg::Space(" ".to_string()));
                }
            }
            self.current().segs.push(Seg::Text(word.clone()));
        }
        if list.changed {
            self.reasons.packages = true;
        }
        next_line.max(line)
    }
}

/// Moves `&&`, `||`, `|` and `;` across free line breaks; whether anything moved.
fn place_operators(out: &mut [OutLine], placement: OperatorPlacement) -> bool {
    let mut moved = false;
    // Lines with tokens; the lines between two of them must all be free breaks.
    let content: Vec<usize> = (0..out.len()).filter(|&i| out[i].comment.is_none() && out[i].tokens() > 0).collect();
    for pair in content.windows(2) {
        let (k, m) = (pair[0], pair[1]);
        let between_free = (k..m).all(|i| out[i].comment.is_some() || out[i].cont == Cont::Free);
        if !between_free || (k + 1..=m).any(|i| out[i].comment.is_none() && out[i].level.is_none()) {
            continue;
        }
        let ends_with_op = matches!(last_token(&out[k]), Some(Seg::Op(_)));
        let starts_with_op = matches!(out[m].segs.first(), Some(Seg::Op(_)));
        match placement {
            OperatorPlacement::First if ends_with_op && !starts_with_op && out[k].tokens() > 1 && out[m].tokens() > 0 => {
                out[k].trim_end();
                let op = out[k].segs.pop().expect("an operator");
                out[k].trim_end();
                out[m].segs.insert(0, Seg::Space(" ".to_string()));
                out[m].segs.insert(0, op);
                moved = true;
            }
            OperatorPlacement::Last if starts_with_op && !ends_with_op && out[m].tokens() > 1 && out[k].tokens() > 0 => {
                let op = out[m].segs.remove(0);
                while matches!(out[m].segs.first(), Some(Seg::Space(_))) {
                    out[m].segs.remove(0);
                }
                out[k].trim_end();
                out[k].segs.push(Seg::Space(" ".to_string()));
                out[k].segs.push(op);
                moved = true;
            }
            _ => {}
        }
    }
    moved
}

fn last_token(line: &OutLine) -> Option<&Seg> {
    line.segs.iter().rev().find(|s| !matches!(s, Seg::Space(_)))
}

fn render(out: &[OutLine], escape: char, options: &Options) -> String {
    let mut text = String::new();
    for (i, line) in out.iter().enumerate() {
        if let Some(comment) = &line.comment {
            text.push_str(&options.indent(line.level.unwrap_or(1)));
            text.push_str(comment);
        } else {
            if let Some(level) = line.level {
                text.push_str(&options.indent(level));
            }
            let mut segs: &[Seg] = &line.segs;
            if line.cont == Cont::Free {
                while let Some((Seg::Space(_), rest)) = segs.split_last() {
                    segs = rest;
                }
                if segs.is_empty() {
                    // A line with nothing but the escape (a paragraph break inside a script).
                    text.push(escape);
                    if i + 1 < out.len() {
                        text.push_str(&line.terminator);
                    }
                    continue;
                }
            }
            for seg in segs {
                match seg {
                    Seg::Text(t) | Seg::Op(t) | Seg::Space(t) => text.push_str(t),
                }
            }
            match line.cont {
                Cont::Free => {
                    text.push(' ');
                    text.push(escape);
                }
                Cont::Kept => text.push(escape),
                Cont::Last => {}
            }
        }
        // The last line's terminator stays outside the replaced range.
        if i + 1 < out.len() {
            text.push_str(&line.terminator);
        }
    }
    text
}
