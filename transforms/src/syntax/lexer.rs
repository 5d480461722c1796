//! The line scanner and instruction parser. It follows BuildKit's `parser.Parse` step by step
//! (directives, comment and blank lines inside continuations, the continuation regex, flag
//! extraction, JSON form, heredocs) and adds the checks BuildKit's `instructions.Parse` makes
//! (unknown instruction, no FROM), keeping byte spans over the original text throughout.

use std::ops::Range;

use super::*;

/// One physical line: `start..end` includes the terminator; `content_end` excludes every
/// trailing `\r` and `\n` (BuildKit's trimNewline).
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    content_end: usize,
    end: usize,
}

fn split_lines(source: &str, from: usize) -> Vec<Line> {
    let bytes = source.as_bytes();
    let mut lines = Vec::new();
    let mut start = from;
    while start < bytes.len() {
        let end = match memchr(b'\n', &bytes[start..]) {
            Some(i) => start + i + 1,
            None => bytes.len(),
        };
        let mut content_end = end;
        while content_end > start && matches!(bytes[content_end - 1], b'\n' | b'\r') {
            content_end -= 1;
        }
        lines.push(Line { start, content_end, end });
        start = end;
    }
    lines
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// Go's `unicode.IsSpace`, which is Unicode White_Space like Rust's.
pub(crate) fn trim_left_space(s: &str) -> &str {
    s.trim_start_matches(char::is_whitespace)
}

/// BuildKit's `[\t\v\f\r ]`.
fn is_token_space(b: u8) -> bool {
    matches!(b, b'\t' | 0x0b | 0x0c | b'\r' | b' ')
}

/// BuildKit's continuation regex `([^E])E[ \t]*$|^E[ \t]*$` for escape token E: returns the
/// line without the token (and its trailing blanks) and whether the line continues.
/// Two escape tokens in a row at the end are an escaped escape, not a continuation.
pub(crate) fn trim_continuation(line: &str, escape: char) -> (&str, bool) {
    let trimmed = line.trim_end_matches([' ', '\t']);
    let Some(before) = trimmed.strip_suffix(escape) else { return (line, false) };
    if before.ends_with(escape) {
        return (line, false);
    }
    (before, true)
}

/// `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` with RE2's `\s` = `[\t\n\f\r ]`.
pub(crate) fn match_directive(line: &str) -> Option<(&str, &str)> {
    let is_s = |c: char| matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ');
    let rest = line.strip_prefix('#')?.trim_start_matches(is_s);
    let name_len = rest.bytes().take_while(|b| b.is_ascii_alphanumeric()).count();
    if name_len == 0 || !rest.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    let (name, rest) = rest.split_at(name_len);
    let rest = rest.trim_start_matches(is_s).strip_prefix('=')?;
    let value = rest.trim_start_matches(is_s).trim_end_matches(is_s);
    if value.is_empty() {
        return None;
    }
    Some((name, value))
}

struct Directives {
    escape: char,
    done: bool,
    seen: Vec<String>,
}

impl Directives {
    /// BuildKit's possibleParserDirective: directives are recognised until the first line that is
    /// not one. Returns the (name, value) of a directive found on this line.
    fn check(&mut self, line: &str) -> Result<Option<(String, String)>, String> {
        if self.done {
            return Ok(None);
        }
        let Some((name, value)) = match_directive(line) else {
            self.done = true;
            return Ok(None);
        };
        let name = name.to_ascii_lowercase();
        if !matches!(name.as_str(), "syntax" | "escape" | "check") {
            self.done = true;
            return Ok(None);
        }
        if self.seen.contains(&name) {
            return Err(format!("only one {name} parser directive can be used"));
        }
        self.seen.push(name.clone());
        if name == "escape" {
            match value {
                "\\" => self.escape = '\\',
                "`" => self.escape = '`',
                _ => return Err(format!("invalid escape token '{value}' does not match ` or \\")),
            }
        }
        Ok(Some((name, value.to_string())))
    }
}

struct Parser<'s> {
    source: &'s str,
    lines: Vec<Line>,
    index: LineIndex,
}

impl Parser<'_> {
    fn error(&self, offset: usize, message: impl Into<String>) -> SyntaxError {
        let (line, column) = self.index.line_col(self.source, offset);
        SyntaxError { message: message.into(), offset, line, column }
    }

    fn content(&self, i: usize) -> &str {
        let l = self.lines[i];
        &self.source[l.start..l.content_end]
    }
}

pub(super) fn parse(source: &str) -> Result<Dockerfile, SyntaxError> {
    let bom_len = if source.starts_with('\u{feff}') { 3 } else { 0 };
    let p = Parser { source, lines: split_lines(source, bom_len), index: LineIndex::new(source) };
    let mut d = Directives { escape: '\\', done: false, seen: Vec::new() };
    let mut directives = Vec::new();
    let mut items = Vec::new();
    let mut instructions: Vec<Instruction> = Vec::new();

    let mut i = 0;
    while i < p.lines.len() {
        let line = p.lines[i];
        let raw = p.content(i);
        let token = trim_left_space(raw);
        let token_start = line.start + (raw.len() - token.len());
        if let Some((name, value)) = d.check(token).map_err(|m| p.error(token_start, m))? {
            directives.push(Directive { name, value, span: token_start..line.content_end });
            items.push(Item { kind: ItemKind::Directive(directives.len() - 1), span: line.start..line.end });
            i += 1;
            continue;
        }
        let is_comment = token.starts_with('#');
        let first = if is_comment { "" } else { token };
        let (first, mut continues) = trim_continuation(first, d.escape);
        if !continues && first.is_empty() {
            let kind = if is_comment { ItemKind::Comment } else { ItemKind::Blank };
            items.push(Item { kind, span: line.start..line.end });
            i += 1;
            continue;
        }

        let start = i;
        let mut logical = Logical::default();
        logical.push(token_start, first);
        let mut phys = vec![PhysicalLine { kind: LineKind::Content, span: line.start..line.content_end }];
        while continues && i + 1 < p.lines.len() {
            i += 1;
            let l = p.lines[i];
            let raw = p.content(i);
            d.check(raw).map_err(|m| p.error(l.start, m))?;
            let span = l.start..l.content_end;
            let trimmed = trim_left_space(raw);
            if trimmed.starts_with('#') {
                phys.push(PhysicalLine { kind: LineKind::Comment, span });
                continue;
            }
            if trimmed.is_empty() {
                phys.push(PhysicalLine { kind: LineKind::Blank, span });
                continue;
            }
            let (piece, more) = trim_continuation(raw, d.escape);
            continues = more;
            logical.push(l.start, piece);
            phys.push(PhysicalLine { kind: LineKind::Content, span });
        }

        let mut inst = build_instruction(&p, logical, phys, d.escape)?;
        let heredoc_keyword = match &inst.sub {
            Some((k, _)) => *k,
            None => inst.keyword,
        };
        if heredoc_keyword.allows_heredocs() && inst.exec.is_none() {
            for Opening { name, chomp, expand, fd } in heredocs_in_line(&inst.logical.text).map_err(|m| p.error(inst.keyword_span.start, m))? {
                let body_start = p.lines.get(i + 1).map_or(source.len(), |l| l.start);
                let mut terminated = None;
                while i + 1 < p.lines.len() {
                    i += 1;
                    let candidate = p.content(i);
                    let candidate = if chomp { candidate.trim_start_matches('\t') } else { candidate };
                    if candidate == name {
                        terminated = Some(i);
                        break;
                    }
                }
                let Some(term) = terminated else {
                    return Err(p.error(inst.keyword_span.start, format!("unterminated heredoc `{name}`: no line `{name}` closes it")));
                };
                let t = p.lines[term];
                inst.heredocs.push(Heredoc { name, chomp, expand, fd, body: body_start..t.start, terminator: t.start..t.end });
            }
        }
        inst.span = p.lines[start].start..p.lines[i].end;
        inst.start_line = p.index.line_col(source, p.lines[start].start).0;
        inst.end_line = p.index.line_col(source, p.lines[i].start).0;
        items.push(Item { kind: ItemKind::Instruction(instructions.len()), span: inst.span.clone() });
        instructions.push(inst);
        i += 1;
    }

    if instructions.is_empty() {
        return Err(p.error(source.len(), "file with no instructions"));
    }
    let (stages, problems) = build_stages(&p, &instructions);
    Ok(Dockerfile { source: source.to_string(), bom_len, escape: d.escape, directives, items, instructions, stages, problems })
}

/// splitCommand + extractBuilderFlags + the per-instruction line parsers, on the logical line.
fn build_instruction(p: &Parser, logical: Logical, lines: Vec<PhysicalLine>, escape: char) -> Result<Instruction, SyntaxError> {
    let text = logical.text.as_str();
    let lead = text.len() - trim_left_space(text).len();
    let kw_len = text[lead..].bytes().take_while(|&b| !is_token_space(b)).count();
    let kw_range = lead..lead + kw_len;
    let kw_word = &text[kw_range.clone()];
    let keyword_span = logical.source_range(kw_range.clone());
    let keyword = Keyword::from_word(kw_word).unwrap_or(Keyword::Unknown);

    let mut inst = Instruction {
        keyword,
        keyword_span,
        span: 0..0,
        start_line: 0,
        end_line: 0,
        lines,
        logical: Logical::default(),
        sub: None,
        flags: Vec::new(),
        args: 0..0,
        exec: None,
        heredocs: Vec::new(),
    };
    let after_kw = kw_range.end;
    let (flags, args) = parse_flags_and_args(text, after_kw);
    inst.flags = flags;
    inst.args = args;

    if keyword == Keyword::Onbuild {
        // parseSubCommand: the arguments are an instruction of their own.
        let rest = &text[inst.args.clone()];
        if !rest.is_empty() {
            let sub_len = rest.bytes().take_while(|&b| !is_token_space(b)).count();
            let sub_range = inst.args.start..inst.args.start + sub_len;
            let sub_word = &text[sub_range.clone()];
            let sub = Keyword::from_word(sub_word).unwrap_or(Keyword::Unknown);
            let (flags, args) = parse_flags_and_args(text, sub_range.end);
            inst.sub = Some((sub, sub_range));
            inst.flags = flags;
            inst.args = args;
        }
    }

    let dispatch = inst.sub.as_ref().map_or(keyword, |(k, _)| *k);
    let args_text = &text[inst.args.clone()];
    let args_at = logical.to_source(inst.args.start);
    match dispatch {
        Keyword::Run | Keyword::Cmd | Keyword::Entrypoint | Keyword::Shell | Keyword::Add | Keyword::Copy | Keyword::Volume => {
            inst.exec = parse_json_array(args_text).map_err(|m| p.error(args_at, m))?;
        }
        Keyword::Healthcheck => {
            let ty_len = args_text.bytes().take_while(|b| !b.is_ascii_whitespace()).count();
            let rest = trim_left_space(&args_text[ty_len..]);
            if !rest.is_empty() {
                inst.exec = parse_json_array(rest).map_err(|m| p.error(args_at, m))?;
            }
        }
        Keyword::Env | Keyword::Label => check_name_values(dispatch, args_text, escape).map_err(|m| p.error(args_at, m))?,
        _ => {}
    }
    inst.logical = logical;
    Ok(inst)
}

/// BuildKit's extractBuilderFlags over `text[from..]`: leading `--flag[=value]` words (quotes
/// and backslash escapes resolved), then the arguments, trimmed. A bare `--` ends the flags.
fn parse_flags_and_args(text: &str, from: usize) -> (Vec<Flag>, Range<usize>) {
    let bytes = text.as_bytes();
    let mut flags: Vec<Flag> = Vec::new();
    let mut pos = from;
    let trimmed_end = text.trim_end_matches(char::is_whitespace).len().max(from);
    let args_from = |start: usize| -> Range<usize> {
        let s = start + (text[start..].len() - trim_left_space(&text[start..]).len());
        s.min(trimmed_end)..trimmed_end
    };
    loop {
        while pos < bytes.len() && (bytes[pos] as char).is_ascii_whitespace() {
            pos += 1;
        }
        if pos >= bytes.len() {
            return (flags, trimmed_end..trimmed_end);
        }
        if !(bytes[pos] == b'-' && bytes.get(pos + 1) == Some(&b'-')) {
            return (flags, args_from(pos));
        }
        let word_start = pos;
        let mut word = String::new();
        let mut quote: Option<u8> = None;
        let mut saw_quote = false;
        while pos < bytes.len() {
            let c = bytes[pos];
            match quote {
                None if (c as char).is_ascii_whitespace() => break,
                None if c == b'\'' || c == b'"' => {
                    quote = Some(c);
                    saw_quote = true;
                    pos += 1;
                }
                Some(q) if c == q => {
                    quote = None;
                    pos += 1;
                }
                _ if c == b'\\' => {
                    pos += 1;
                    if pos < bytes.len() {
                        let ch_len = utf8_len(bytes[pos]);
                        word.push_str(&text[pos..pos + ch_len]);
                        pos += ch_len;
                    }
                }
                _ => {
                    let ch_len = utf8_len(c);
                    word.push_str(&text[pos..pos + ch_len]);
                    pos += ch_len;
                }
            }
        }
        if word == "--" {
            return (flags, args_from(pos));
        }
        if word.is_empty() && !saw_quote {
            continue;
        }
        let body = word.strip_prefix("--").unwrap_or(&word);
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (body.to_string(), None),
        };
        flags.push(Flag { name, value, text: word.clone(), logical: word_start..pos });
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xf0..=0xff => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

/// parseJSON: a JSON array of strings is the exec form; an array with anything else is an
/// error; anything that is not a JSON array falls back to the shell form. Like Go's
/// `json.Decoder`, only the first JSON value is read: trailing text is ignored.
fn parse_json_array(args: &str) -> Result<Option<Vec<String>>, String> {
    let rest = trim_left_space(args);
    if !rest.starts_with('[') {
        return Ok(None);
    }
    let first = serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>().next();
    match first {
        Some(Ok(serde_json::Value::Array(values))) => values
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(s),
                _ => Err("when using JSON array syntax, arrays must be comprised of strings only".to_string()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        _ => Ok(None),
    }
}

/// parseNameVal's errors: the legacy form needs a value; the `k=v` form needs `=` in every word.
fn check_name_values(keyword: Keyword, args: &str, escape: char) -> Result<(), String> {
    let words = split_words(args, escape);
    let Some(first) = words.first() else { return Ok(()) };
    if !first.raw.contains('=') {
        let has_value = args.trim_end_matches(is_space_re).find(is_space_re).is_some();
        if !has_value {
            return Err(format!("{} must have two arguments", keyword.as_str()));
        }
        return Ok(());
    }
    for w in &words {
        if !w.raw.contains('=') {
            return Err(format!("Syntax error - can't find = in {:?}. Must be of the form: name=value", w.raw));
        }
    }
    Ok(())
}

fn is_space_re(c: char) -> bool {
    matches!(c, '\t' | '\x0b' | '\x0c' | '\r' | ' ')
}

/// A heredoc opened on an instruction's line, before its body is read.
struct Opening {
    name: String,
    chomp: bool,
    expand: bool,
    fd: Option<u32>,
}

/// heredocsFromLine: every word of the line that reads `[fd]<<[-]NAME` opens a heredoc.
fn heredocs_in_line(line: &str) -> Result<Vec<Opening>, String> {
    let mut docs = Vec::new();
    for word in split_words(line, '\\') {
        let w = word.raw.as_str();
        let digits = w.bytes().take_while(u8::is_ascii_digit).count();
        let Some(rest) = w[digits..].strip_prefix("<<") else { continue };
        let (chomp, rest) = match rest.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        if rest.is_empty() || rest.contains('<') {
            continue;
        }
        if quotes_unbalanced(rest) {
            return Err(format!("unterminated quote in heredoc name `{rest}`"));
        }
        // The name must be a single shell word.
        let inner = split_words(rest, '\\');
        if inner.len() != 1 {
            continue;
        }
        let name = unquote(rest, '\\');
        let quotes = |s: &str| s.matches(['\'', '"']).count();
        let expand = quotes(&name) == quotes(rest);
        let fd = if digits > 0 { w[..digits].parse().ok() } else { None };
        docs.push(Opening { name, chomp, expand, fd });
    }
    Ok(docs)
}

fn quotes_unbalanced(s: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '\\' => {
                chars.next();
            }
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '\\' => {
                chars.next();
            }
            None => {}
        }
    }
    quote.is_some()
}

/// Stages from FROM instructions, and the problems BuildKit's frontend (`instructions.Parse`)
/// reports where its parser does not: unknown instructions, instructions before the first FROM,
/// malformed FROM, invalid stage names, forbidden ONBUILD triggers.
fn build_stages(p: &Parser, instructions: &[Instruction]) -> (Vec<Stage>, Vec<SyntaxError>) {
    let mut stages: Vec<Stage> = Vec::new();
    let mut problems = Vec::new();
    for (idx, inst) in instructions.iter().enumerate() {
        // As the user wrote it: `{"name":` upper-cased would point at text that is not there.
        let written = |r: &Range<usize>| inst.logical.text[r.clone()].to_string();
        if inst.keyword == Keyword::Unknown {
            let kw = &p.source[inst.keyword_span.clone()];
            problems.push(p.error(inst.keyword_span.start, format!("unknown instruction: {kw}")));
            continue;
        }
        if let Some((sub, range)) = &inst.sub {
            let at = inst.logical.to_source(range.start);
            match sub {
                Keyword::Unknown => problems.push(p.error(at, format!("unknown instruction: {}", written(range)))),
                Keyword::Onbuild | Keyword::From | Keyword::Maintainer => {
                    problems.push(p.error(at, format!("{} isn't allowed as an ONBUILD trigger", sub.as_str())))
                }
                _ => {}
            }
        }
        if let Some(problem) = argument_problem(inst) {
            let at = inst.logical.to_source(inst.args.start.min(inst.logical.text.len()));
            problems.push(p.error(at, problem));
        }
        if inst.keyword != Keyword::From {
            if stages.is_empty() && inst.keyword != Keyword::Arg {
                problems.push(p.error(
                    inst.keyword_span.start,
                    format!("{} before the first FROM: no build stage in current context", inst.keyword.as_str()),
                ));
            }
            continue;
        }
        let args = inst.args_text();
        let words: Vec<&str> = args.split(is_space_re).filter(|w| !w.is_empty()).collect();
        let at = inst.logical.to_source(inst.args.start.min(inst.logical.text.len()));
        let (image, name) = match words.as_slice() {
            [image] => (*image, None),
            [image, as_kw, name] if as_kw.eq_ignore_ascii_case("as") => (*image, Some(name.to_ascii_lowercase())),
            _ => {
                problems.push(p.error(at, "FROM requires either one or three arguments: FROM image [AS name]"));
                continue;
            }
        };
        if let Some(n) = &name {
            let valid = n.starts_with(|c: char| c.is_ascii_lowercase())
                && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
            if !valid {
                problems.push(p.error(at, format!("invalid name for build stage: {n:?}, name can't start with a number or contain symbols")));
            }
        }
        if let Some(prev) = stages.last_mut() {
            prev.instructions.end = idx;
        }
        stages.push(Stage {
            index: stages.len(),
            name,
            image: image.to_string(),
            platform: inst.flag("platform").and_then(|f| f.value.clone()),
            from: idx,
            instructions: idx..instructions.len(),
        });
    }
    if stages.is_empty() && problems.is_empty() {
        let at = instructions.last().map_or(0, |i| i.span.end);
        problems.push(p.error(at, "no FROM instruction: a Dockerfile needs at least one build stage"));
    }
    (stages, problems)
}

/// The argument counts BuildKit's frontend (`instructions.Parse`) requires, which its parser does
/// not check: `COPY a`, `WORKDIR`, `SHELL /bin/bash -c` parse, then fail the build.
fn argument_problem(inst: &Instruction) -> Option<String> {
    use Keyword::*;
    let args = inst.args_text();
    // Counted only where a count matters: a RUN's arguments can be a long script.
    let count = || match &inst.exec {
        Some(words) => words.len(),
        None => args.split(is_space_re).filter(|w| !w.is_empty()).count(),
    };
    let name = inst.keyword.as_str();
    match inst.keyword {
        Workdir | User | Maintainer | Stopsignal if args.is_empty() => {
            Some(format!("{name} requires exactly one argument"))
        }
        Env | Label | Arg | Expose | Healthcheck | Onbuild | Volume if args.is_empty() => {
            Some(format!("{name} requires at least one argument"))
        }
        Volume if count() == 0 => Some(format!("{name} requires at least one argument")),
        Shell if inst.exec.is_none() && !args.is_empty() => {
            Some("SHELL requires the arguments to be in JSON form".to_string())
        }
        Shell if count() == 0 => Some("SHELL requires at least one argument".to_string()),
        Copy | Add if count() < 2 => Some(format!(
            "{name} requires at least two arguments, but only one was provided. Destination could not be determined"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(src: &str) -> Dockerfile {
        let f = parse(src).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.print(), src);
        f
    }

    #[test]
    fn continuation_regex_follows_buildkit() {
        assert_eq!(trim_continuation("a \\", '\\'), ("a ", true));
        assert_eq!(trim_continuation("a \\  \t", '\\'), ("a ", true));
        assert_eq!(trim_continuation("\\", '\\'), ("", true));
        assert_eq!(trim_continuation("a \\\\", '\\'), ("a \\\\", false));
        assert_eq!(trim_continuation("a `", '`'), ("a ", true));
        assert_eq!(trim_continuation("a \\", '`'), ("a \\", false));
    }

    #[test]
    fn directives_only_at_the_top() {
        let f = parse_ok("# syntax=docker/dockerfile:1\n# escape=`\nFROM a\nRUN echo `\n  hi\n# escape=\\\n");
        assert_eq!(f.escape, '`');
        assert_eq!(f.directives.len(), 2);
        assert_eq!(f.instructions[1].logical.text, "RUN echo   hi");
        let f = parse_ok("# hello\n# escape=`\nFROM a\n");
        assert_eq!(f.escape, '\\');
        assert!(f.directives.is_empty());
    }

    #[test]
    fn comments_and_blank_lines_inside_continuations() {
        let f = parse_ok("FROM a\nRUN apt-get update \\\n# comment\n\n    && apt-get install -y x\n");
        let run = &f.instructions[1];
        assert_eq!(run.logical.text, "RUN apt-get update     && apt-get install -y x");
        assert_eq!((run.start_line, run.end_line), (2, 5));
        let kinds: Vec<LineKind> = run.lines.iter().map(|l| l.kind).collect();
        assert_eq!(kinds, vec![LineKind::Content, LineKind::Comment, LineKind::Blank, LineKind::Content]);
        let src = run.args_source_range();
        assert_eq!(&f.source[src.start..src.start + 7], "apt-get");
        assert!(f.source[src].ends_with("install -y x"));
    }

    #[test]
    fn flags_and_exec_form() {
        let f = parse_ok("FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nRUN --mount=type=cache,target=/root/.cache --network=host go build\nCMD [\"a\", \"b\\\"c\"]\nCMD [\"a\", 'b']\n");
        assert_eq!(f.stages[0].platform.as_deref(), Some("$BUILDPLATFORM"));
        assert_eq!(f.stages[0].name.as_deref(), Some("build"));
        let run = &f.instructions[1];
        assert_eq!(run.flags.len(), 2);
        assert_eq!(run.flags[0].name, "mount");
        assert_eq!(run.args_text(), "go build");
        assert_eq!(f.instructions[2].exec.as_deref(), Some(&["a".to_string(), "b\"c".to_string()][..]));
        assert_eq!(f.instructions[3].exec, None);
    }

    #[test]
    fn heredocs() {
        let src = "FROM a\nRUN <<EOF bash\nset -e\necho hi\nEOF\nCOPY <<-\"A\" /a <<B /b\n\tone\n\tA\ntwo\nB\nRUN echo done\n";
        let f = parse_ok(src);
        let run = &f.instructions[1];
        assert_eq!(run.heredocs.len(), 1);
        assert_eq!(&f.source[run.heredocs[0].body.clone()], "set -e\necho hi\n");
        assert!(run.heredocs[0].expand);
        assert_eq!((run.start_line, run.end_line), (2, 5));
        let copy = &f.instructions[2];
        assert_eq!(copy.heredocs.len(), 2);
        assert!(copy.heredocs[0].chomp && !copy.heredocs[0].expand);
        assert_eq!(&f.source[copy.heredocs[1].body.clone()], "two\n");
        assert_eq!(f.instructions[3].start_line, 11);
    }

    #[test]
    fn bom_crlf_and_trailing_escape_at_eof() {
        let src = "\u{feff}FROM a\r\nRUN echo \\\r\n  hi \\";
        let f = parse_ok(src);
        assert_eq!(f.bom_len, 3);
        assert_eq!(f.instructions[1].logical.text, "RUN echo   hi ");
        assert_eq!(f.newline(), "\r\n");
    }

    #[test]
    fn errors_have_positions() {
        let parse = super::super::parse_strict;
        let e = parse("FROM a\nFOO bar\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("unknown instruction: FOO"));
        let e = parse("FROM a\n{\"name\": \"app\"}\n").unwrap_err();
        assert_eq!(e.message, "unknown instruction: {\"name\":", "the user's text, not upper-cased");
        let e = parse("FROM a\nONBUILD frobnicate x\n").unwrap_err();
        assert_eq!(e.message, "unknown instruction: frobnicate");
        let e = parse("FROM a\nRUN <<EOF\nhi\n").unwrap_err();
        assert!(e.message.contains("unterminated heredoc"), "{e}");
        assert_eq!(e.line, 2);
        assert!(parse("RUN x\n").unwrap_err().message.contains("no build stage"));
        assert!(parse("# only a comment\n").unwrap_err().message.contains("no instructions"));
        assert!(parse("FROM a\nCMD [\"a\", 1]\n").unwrap_err().message.contains("strings only"));
        assert!(parse("FROM a\nENV A\n").unwrap_err().message.contains("two arguments"));
        assert!(parse("").is_err());
    }

    #[test]
    fn argument_counts_follow_buildkits_frontend() {
        let parse = super::super::parse_strict;
        let message = |src: &str| parse(src).map(|_| ()).unwrap_err().message;
        assert_eq!(message("FROM a\nCOPY a\n"), "COPY requires at least two arguments, but only one was provided. Destination could not be determined");
        assert!(message("FROM a\nADD [\"a\"]\n").starts_with("ADD requires at least two"));
        assert!(message("FROM a\nCOPY --chown=1 <<EOF\nx\nEOF\n").starts_with("COPY requires at least two"));
        assert_eq!(message("FROM a\nWORKDIR\n"), "WORKDIR requires exactly one argument");
        assert_eq!(message("FROM a\nUSER \n"), "USER requires exactly one argument");
        assert_eq!(message("FROM a\nONBUILD\n"), "ONBUILD requires at least one argument");
        assert_eq!(message("FROM a\nEXPOSE\n"), "EXPOSE requires at least one argument");
        assert_eq!(message("FROM a\nVOLUME []\n"), "VOLUME requires at least one argument");
        assert_eq!(message("FROM a\nSHELL /bin/bash -c\n"), "SHELL requires the arguments to be in JSON form");
        assert_eq!(message("FROM a\nSHELL []\n"), "SHELL requires at least one argument");
        let e = parse("FROM a\nRUN x\nSTOPSIGNAL\n").unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (3, "STOPSIGNAL requires exactly one argument"));
        // What BuildKit accepts stays accepted.
        for ok in [
            "FROM a\nCOPY <<EOF /x\nhi\nEOF\n",
            "FROM a\nCOPY [\"a\", \"b\"]\n",
            "FROM a\nUSER app group\n",
            "FROM a\nSHELL [\"/bin/bash\", \"-c\"]\n",
            "FROM a\nHEALTHCHECK NONE\n",
            "FROM a\nONBUILD COPY . /app\n",
            "FROM a\nVOLUME /data /logs\n",
        ] {
            assert!(parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn onbuild_and_lowercase() {
        let f = parse_ok("from a as b\nonbuild run --mount=type=cache,target=/x echo hi\n");
        let ob = &f.instructions[1];
        assert_eq!(ob.keyword, Keyword::Onbuild);
        assert_eq!(ob.sub.as_ref().map(|s| s.0), Some(Keyword::Run));
        assert_eq!(ob.flags[0].name, "mount");
        assert_eq!(ob.args_text(), "echo hi");
    }
}
