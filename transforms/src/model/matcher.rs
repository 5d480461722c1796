//! Docker's `.dockerignore` matching, following moby/patternmatcher (what the docker CLI and
//! BuildKit use) and its `ignorefile` reader:
//!
//! - a line starting with `#` in column 1 is a comment; lines are trimmed; empty lines are skipped;
//! - `!` starts an exception; patterns are cleaned like Go's `filepath.Clean` and a leading `/` is
//!   dropped (the context root is both the working and the root directory);
//! - `*` and `?` never cross a `/`, `[...]` is a class, `\` escapes, `**` spans any number of
//!   directories (zero included);
//! - a path is excluded when the last pattern matching it, or matching one of its parent
//!   directories, is not an exception (`MatchesOrParentMatches`).
//!
//! The reference compiles a pattern into one of four match kinds (exact, prefix, suffix, regexp);
//! the kinds are kept because they differ on corner cases (`**file` is a plain suffix match, so it
//! matches `dir/xfile`). Known differences, all on patterns no one writes: a `\` escape is always
//! literal (the reference hands `\d` to its regexp engine), and `*`/`?` inside a class are literal.

use std::fmt;

/// A pattern Docker would reject: the whole `.dockerignore` then fails the build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPattern {
    pub pattern: String,
    pub message: &'static str,
}

impl fmt::Display for BadPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad pattern `{}`: {}", self.pattern, self.message)
    }
}

impl std::error::Error for BadPattern {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Exact,
    /// `dir/**`: the path starts with `dir/`.
    Prefix,
    /// `**/name` or `**name`: the path ends with the rest.
    Suffix,
    Regexp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `*`: any run of characters but `/`.
    Star,
    /// `?`: one character but `/`.
    Question,
    /// `[...]`: one character (any, `/` included, as in the reference's regexp).
    Class { negated: bool, ranges: Vec<(char, char)> },
    /// `**/` (or `**` before more pattern): `(.*/)?`.
    Directories,
    /// A trailing `**` after a wildcard: `.*`.
    Anything,
    /// An unescaped `^` in a regexp pattern: an anchor that only holds at the start.
    Caret,
}

/// One cleaned pattern of a `.dockerignore`.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    exception: bool,
    kind: Kind,
    /// Every kind written as tokens (used for regexp matching and for `may_match_within`).
    tokens: Vec<Token>,
    /// The literal characters a regexp pattern ends with: a quick way to reject most paths.
    tail: String,
}

impl Pattern {
    /// A pattern as one line of a `.dockerignore` would give it (`!` for an exception).
    pub fn new(line: &str) -> Result<Pattern, BadPattern> {
        let line = line.trim();
        let bad = |message| BadPattern { pattern: line.to_string(), message };
        let (exception, body) = match line.strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, line),
        };
        if body.is_empty() {
            return Err(bad(if exception { "an exception needs a pattern after `!`" } else { "empty pattern" }));
        }
        let mut text = clean(body);
        if text.len() > 1 && text.starts_with('/') {
            text.remove(0);
        }
        validate(&text).map_err(bad)?;
        let (kind, regexp_tokens) = compile(&text);
        let tokens = match kind {
            Kind::Exact => text.chars().map(Token::Char).collect(),
            Kind::Prefix => {
                let mut t: Vec<Token> = text[..text.len() - 2].chars().map(Token::Char).collect();
                t.push(Token::Anything);
                t
            }
            Kind::Suffix => {
                let suffix = &text[2..];
                match suffix.strip_prefix('/') {
                    Some(rest) => std::iter::once(Token::Directories).chain(rest.chars().map(Token::Char)).collect(),
                    None => std::iter::once(Token::Anything).chain(suffix.chars().map(Token::Char)).collect(),
                }
            }
            Kind::Regexp => regexp_tokens,
        };
        let tail = literal_tail(&tokens);
        Ok(Pattern { text, exception, kind, tokens, tail })
    }

    /// The cleaned pattern, without `!`.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_exception(&self) -> bool {
        self.exception
    }

    /// Whether the pattern matches `path` itself (not through a parent directory).
    pub fn matches(&self, path: &str) -> bool {
        match self.kind {
            Kind::Exact => path == self.text,
            Kind::Prefix => path.starts_with(&self.text[..self.text.len() - 2]),
            Kind::Suffix => {
                let suffix = &self.text[2..];
                path.ends_with(suffix) || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            Kind::Regexp => path.ends_with(self.tail.as_str()) && run(&self.tokens, path, false),
        }
    }

    /// Whether the pattern matches `path` or one of its parent directories: what excludes it.
    pub fn matches_or_parent(&self, path: &str) -> bool {
        let path = clean_path(path);
        self.matches(&path) || parents(&path).any(|p| self.matches(p))
    }

    /// Whether the pattern could exclude something inside directory `dir` (or `dir` itself), for
    /// contents no listing shows: it matches `dir` or a parent, or could match a path under it.
    pub fn may_match_within(&self, dir: &str) -> bool {
        let dir = clean_path(dir);
        if dir == "." {
            return true;
        }
        let inside = format!("{dir}/");
        match self.kind {
            // `**/x` and `**x` can match below any directory.
            Kind::Suffix => true,
            Kind::Exact => self.text == dir || self.text.starts_with(&inside) || dir.starts_with(&format!("{}/", self.text)),
            Kind::Prefix => {
                let prefix = &self.text[..self.text.len() - 2];
                inside.starts_with(prefix) || prefix.starts_with(&inside)
            }
            Kind::Regexp => self.matches_or_parent(&dir) || run(&self.tokens, &inside, true),
        }
    }
}

/// The patterns of one `.dockerignore`, in order.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    patterns: Vec<Pattern>,
}

impl Matcher {
    /// Patterns as `New` takes them (one per item; blank items skipped).
    pub fn new<I, S>(patterns: I) -> Result<Matcher, BadPattern>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let patterns = patterns
            .into_iter()
            .filter(|p| !p.as_ref().trim().is_empty())
            .map(|p| Pattern::new(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Matcher { patterns })
    }

    /// A `.dockerignore` file's text, read as Docker reads it.
    pub fn from_dockerignore(text: &str) -> Result<Matcher, BadPattern> {
        Matcher::new(read_lines(text))
    }

    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether Docker leaves `path` (relative to the context root, `/`-separated, a trailing `/`
    /// allowed) out of the build context.
    pub fn excludes(&self, path: &str) -> bool {
        let path = clean_path(path);
        if path == "." {
            return false;
        }
        let mut excluded = false;
        for pattern in &self.patterns {
            // An inclusion cannot change an excluded path, nor an exception an included one.
            if pattern.exception != excluded {
                continue;
            }
            if pattern.matches(&path) || parents(&path).any(|p| pattern.matches(p)) {
                excluded = !pattern.exception;
            }
        }
        excluded
    }

    /// Whether an exception (`!pattern`) matches `path` or a parent: the author wants it in the context.
    pub fn reincludes(&self, path: &str) -> bool {
        self.patterns.iter().any(|p| p.exception && p.matches_or_parent(path))
    }
}

/// The pattern lines of a `.dockerignore`, as moby's `ignorefile.ReadAll` gives them.
pub fn read_lines(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for line in text.split('\n') {
        if line.starts_with('#') {
            continue;
        }
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (exception, body) = match line.strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, line),
        };
        let mut body = if body.is_empty() { String::new() } else { clean(body) };
        if body.len() > 1 && body.starts_with('/') {
            body.remove(0);
        }
        out.push(if exception { format!("!{body}") } else { body });
    }
    out
}

/// Go's `path.Clean`: no `.`, no `..` after a name, no double or trailing slashes.
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            name => parts.push(name),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// A listing path as the matcher sees it: cleaned, relative.
fn clean_path(path: &str) -> String {
    let cleaned = clean(path);
    match cleaned.strip_prefix('/') {
        Some("") => ".".to_string(),
        Some(rest) => rest.to_string(),
        None => cleaned,
    }
}

/// The parent directories of a relative path, outermost first: `a`, `a/b` for `a/b/c`.
fn parents(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// The reference's `compile`: the match kind, and the regexp as tokens.
fn compile(pattern: &str) -> (Kind, Vec<Token>) {
    let chars: Vec<char> = pattern.chars().collect();
    let mut kind = Kind::Exact;
    let mut tokens = Vec::new();
    let mut pos = 0;
    let mut first = true;
    while pos < chars.len() {
        let ch = chars[pos];
        pos += 1;
        match ch {
            '*' if chars.get(pos) == Some(&'*') => {
                pos += 1;
                // `**/` is read as `**`.
                if chars.get(pos) == Some(&'/') {
                    pos += 1;
                }
                if pos == chars.len() {
                    if kind == Kind::Exact {
                        kind = Kind::Prefix;
                    } else {
                        tokens.push(Token::Anything);
                        kind = Kind::Regexp;
                    }
                } else {
                    tokens.push(Token::Directories);
                    kind = Kind::Regexp;
                }
                if first {
                    kind = Kind::Suffix;
                }
            }
            '*' => {
                tokens.push(Token::Star);
                kind = Kind::Regexp;
            }
            '?' => {
                tokens.push(Token::Question);
                kind = Kind::Regexp;
            }
            '\\' => match chars.get(pos) {
                Some(&next) => {
                    tokens.push(Token::Char(next));
                    pos += 1;
                    kind = Kind::Regexp;
                }
                None => tokens.push(Token::Char('\\')),
            },
            '[' => {
                let (token, next) = class(&chars, pos);
                tokens.push(token);
                pos = next;
                kind = Kind::Regexp;
            }
            '^' => tokens.push(Token::Caret),
            other => tokens.push(Token::Char(other)),
        }
        first = false;
    }
    (kind, tokens)
}

/// A class starting after its `[` at `pos` (already validated): the token and the position after `]`.
fn class(chars: &[char], mut pos: usize) -> (Token, usize) {
    let mut negated = false;
    if chars.get(pos) == Some(&'^') {
        negated = true;
        pos += 1;
    }
    let mut ranges = Vec::new();
    let escaped = |pos: &mut usize| -> char {
        if chars.get(*pos) == Some(&'\\') {
            *pos += 1;
        }
        let c = chars.get(*pos).copied().unwrap_or('\\');
        *pos += 1;
        c
    };
    while pos < chars.len() {
        if chars[pos] == ']' && !ranges.is_empty() {
            pos += 1;
            break;
        }
        let lo = escaped(&mut pos);
        let hi = if chars.get(pos) == Some(&'-') {
            pos += 1;
            escaped(&mut pos)
        } else {
            lo
        };
        ranges.push((lo, hi));
    }
    (Token::Class { negated, ranges }, pos)
}

/// The literal characters `tokens` end with.
fn literal_tail(tokens: &[Token]) -> String {
    let tail: Vec<char> = tokens
        .iter()
        .rev()
        .map_while(|t| match t {
            Token::Char(c) => Some(*c),
            _ => None,
        })
        .collect();
    tail.into_iter().rev().collect()
}

/// Go's `filepath.Match` syntax check (what `New` rejects).
fn validate(pattern: &str) -> Result<(), &'static str> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut pos = 0;
    // getEsc: one class character, `\` escaping the next; `-` and `]` must be escaped, and a
    // character class must be closed after it.
    let class_char = |pos: &mut usize| -> Result<char, &'static str> {
        match chars.get(*pos) {
            None => return Err("unterminated character class"),
            Some('-') | Some(']') => return Err("`-` or `]` must be escaped in a character class"),
            Some('\\') => *pos += 1,
            Some(_) => {}
        }
        let c = *chars.get(*pos).ok_or("unterminated character class")?;
        *pos += 1;
        if *pos >= chars.len() {
            return Err("unterminated character class");
        }
        Ok(c)
    };
    while pos < chars.len() {
        match chars[pos] {
            '\\' => {
                if pos + 1 >= chars.len() {
                    return Err("a trailing `\\` escapes nothing");
                }
                pos += 2;
            }
            '[' => {
                pos += 1;
                if chars.get(pos) == Some(&'^') {
                    pos += 1;
                }
                let mut ranges = 0;
                loop {
                    if chars.get(pos) == Some(&']') && ranges > 0 {
                        pos += 1;
                        break;
                    }
                    let lo = class_char(&mut pos)?;
                    if chars.get(pos) == Some(&'-') {
                        pos += 1;
                        let hi = class_char(&mut pos)?;
                        if hi < lo {
                            return Err("a character range must go up");
                        }
                    }
                    ranges += 1;
                }
            }
            _ => pos += 1,
        }
    }
    Ok(())
}

/// Whether `tokens` match all of `text` (or, with `prefix`, can consume all of `text` and go on).
/// A set of reachable positions per token: linear in tokens × text, no backtracking.
fn run(tokens: &[Token], text: &str, prefix: bool) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let mut reach = vec![false; n + 1];
    let mut next = vec![false; n + 1];
    reach[0] = true;
    for token in tokens {
        if prefix && reach[n] {
            return true;
        }
        next.iter_mut().for_each(|slot| *slot = false);
        for pos in 0..=n {
            if !reach[pos] {
                continue;
            }
            match token {
                Token::Char(c) => {
                    if chars.get(pos) == Some(c) {
                        next[pos + 1] = true;
                    }
                }
                Token::Question => {
                    if chars.get(pos).is_some_and(|&c| c != '/') {
                        next[pos + 1] = true;
                    }
                }
                Token::Class { negated, ranges } => {
                    if let Some(&c) = chars.get(pos) {
                        let inside = ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
                        if inside != *negated {
                            next[pos + 1] = true;
                        }
                    }
                }
                Token::Star => {
                    let mut p = pos;
                    next[p] = true;
                    while p < n && chars[p] != '/' {
                        p += 1;
                        next[p] = true;
                    }
                }
                Token::Directories => {
                    next[pos] = true;
                    for p in pos + 1..=n {
                        if chars[p - 1] == '/' {
                            next[p] = true;
                        }
                    }
                }
                Token::Anything => {
                    for slot in next.iter_mut().skip(pos) {
                        *slot = true;
                    }
                }
                Token::Caret => {
                    if pos == 0 {
                        next[0] = true;
                    }
                }
            }
        }
        std::mem::swap(&mut reach, &mut next);
        if !reach.iter().any(|&r| r) {
            return false;
        }
    }
    reach[n]
}

/// Escape a path so that it is read back as exactly itself (`None` when no pattern can say it:
/// names with line breaks or with blanks at either end, which Docker trims).
pub fn literal(path: &str) -> Option<String> {
    if path.contains(['\n', '\r']) || path.trim() != path || path.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(path.len() + 2);
    for (i, c) in path.chars().enumerate() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') || (i == 0 && matches!(c, '#' | '!')) {
            out.push('\\');
        }
        out.push(c);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(patterns: &[&str], path: &str) -> bool {
        Matcher::new(patterns).unwrap().excludes(path)
    }

    fn exact(pattern: &str, path: &str) -> bool {
        Pattern::new(pattern).unwrap().matches(path)
    }

    // The examples of Docker's .dockerignore documentation.
    #[test]
    fn docs_temp_examples() {
        let m = Matcher::from_dockerignore("# comment\n*/temp*\n*/*/temp*\ntemp?\n").unwrap();
        assert_eq!(m.patterns().len(), 3);
        assert!(m.excludes("somedir/temporary.txt"));
        assert!(m.excludes("somedir/temp"));
        assert!(m.excludes("somedir/temp/inside.txt"));
        assert!(m.excludes("somedir/subdir/temporary.txt"));
        assert!(m.excludes("tempa"));
        assert!(m.excludes("tempb"));
        assert!(!m.excludes("temporary.txt"), "`*/temp*` needs one directory level");
        assert!(!m.excludes("temp"), "`temp?` needs one more character");
        assert!(!m.excludes("tempab"));
        assert!(!m.excludes("a/b/c/temp.txt"), "three levels deep: no pattern has that depth");
        assert!(!m.excludes("# comment"), "a comment line is not a pattern");
    }

    #[test]
    fn docs_double_star() {
        let m = Matcher::new(["**/*.go"]).unwrap();
        assert!(m.excludes("main.go"));
        assert!(m.excludes("cmd/app/main.go"));
        assert!(!m.excludes("main.gox"));
        assert!(!m.excludes("go.mod"));
    }

    #[test]
    fn docs_exceptions() {
        assert!(excluded(&["*.md", "!README.md"], "CHANGELOG.md"));
        assert!(!excluded(&["*.md", "!README.md"], "README.md"));
        // The last matching line decides.
        let m = Matcher::new(["*.md", "!README*.md", "README-secret.md"]).unwrap();
        assert!(m.excludes("CHANGES.md"));
        assert!(!m.excludes("README-public.md"));
        assert!(m.excludes("README-secret.md"));
        let m = Matcher::new(["*.md", "README-secret.md", "!README*.md"]).unwrap();
        assert!(!m.excludes("README-secret.md"));
        assert!(m.excludes("CHANGES.md"));
    }

    #[test]
    fn docs_leading_slash_and_clean() {
        for p in ["/foo/bar", "foo/bar", "foo/bar/", "./foo/bar", "foo//bar", "foo/baz/../bar", "  foo/bar  "] {
            let m = Matcher::from_dockerignore(p).unwrap();
            assert!(m.excludes("foo/bar"), "{p}");
            assert!(m.excludes("foo/bar/x"), "{p}");
            assert!(!m.excludes("foo"), "{p}");
            assert!(!m.excludes("bar"), "{p}");
            assert!(!m.excludes("x/foo/bar"), "{p}");
        }
    }

    #[test]
    fn docs_include_only_what_is_listed() {
        let m = Matcher::new(["*", "!src", "!package.json"]).unwrap();
        assert!(m.excludes(".git"));
        assert!(m.excludes("node_modules/x"));
        assert!(!m.excludes("src/index.js"));
        assert!(!m.excludes("package.json"));
    }

    #[test]
    fn ignorefile_reader() {
        let lines = read_lines("test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ");
        assert_eq!(lines, ["test1", "test2", "a/file/here", "lastfile", "!inverted/abs/path", "!", "!"]);
        assert!(Matcher::new(["!"]).is_err());
        assert_eq!(read_lines("\u{feff}a\r\n #b\r\n"), ["a", "#b"], "BOM dropped, CR trimmed, `#` only in column 1");
    }

    #[test]
    fn exceptions_reach_into_excluded_folders() {
        // The reference's tests: an exception re-includes a file inside an excluded folder.
        for folder in ["docs", "docs/", "docs/*"] {
            assert!(!excluded(&[folder, "!docs/README.md"], "docs/README.md"), "{folder}");
            assert!(excluded(&[folder, "!docs/README.md"], "docs/other.md"), "{folder}");
        }
        assert!(excluded(&["*.go", "!fileutils.go"], "x.go"));
        assert!(!excluded(&["*.go", "!fileutils.go"], "fileutils.go"));
        assert!(excluded(&["!fileutils.go", "*.go"], "fileutils.go"));
        assert!(!excluded(&["*.go"], "."));
        assert!(!excluded(&[], "any/path"));
    }

    /// moby/patternmatcher's `TestMatches` table: (pattern, path, matches exactly, matches with parents).
    #[test]
    fn reference_match_table() {
        let table: &[(&str, &str, bool, bool)] = &[
            ("**", "file", true, true),
            ("**", "file/", true, true),
            ("**/", "file", true, true),
            ("**/", "file/", true, true),
            ("**", "/", true, true),
            ("**/", "/", true, true),
            ("**", "dir/file", true, true),
            ("**/", "dir/file", true, true),
            ("**", "dir/file/", true, true),
            ("**/", "dir/file/", true, true),
            ("**/**", "dir/file", true, true),
            ("**/**", "dir/file/", true, true),
            ("dir/**", "dir/file", true, true),
            ("dir/**", "dir/file/", true, true),
            ("dir/**", "dir/dir2/file", true, true),
            ("dir/**", "dir/dir2/file/", true, true),
            ("**/dir", "dir", true, true),
            ("**/dir", "dir/file", false, true),
            ("**/dir2/*", "dir/dir2/file", true, true),
            ("**/dir2/*", "dir/dir2/file/", false, true),
            ("**/dir2/**", "dir/dir2/dir3/file", true, true),
            ("**/dir2/**", "dir/dir2/dir3/file/", true, true),
            ("**file", "file", true, true),
            ("**file", "dir/file", true, true),
            ("**/file", "dir/file", true, true),
            ("**file", "dir/dir/file", true, true),
            ("**/file", "dir/dir/file", true, true),
            ("**/file*", "dir/dir/file", true, true),
            ("**/file*", "dir/dir/file.txt", true, true),
            ("**/file*txt", "dir/dir/file.txt", true, true),
            ("**/file*.txt", "dir/dir/file.txt", true, true),
            ("**/file*.txt*", "dir/dir/file.txt", true, true),
            ("**/**/*.txt", "dir/dir/file.txt", true, true),
            ("**/**/*.txt2", "dir/dir/file.txt", false, false),
            ("**/*.txt", "file.txt", true, true),
            ("**/**/*.txt", "file.txt", true, true),
            ("a**/*.txt", "a/file.txt", true, true),
            ("a**/*.txt", "a/dir/file.txt", true, true),
            ("a**/*.txt", "a/dir/dir/file.txt", true, true),
            ("a/*.txt", "a/dir/file.txt", false, false),
            ("a/*.txt", "a/file.txt", true, true),
            ("a/*.txt**", "a/file.txt", true, true),
            ("a[b-d]e", "ae", false, false),
            ("a[b-d]e", "ace", true, true),
            ("a[b-d]e", "aae", false, false),
            ("a[^b-d]e", "aze", true, true),
            (".*", ".foo", true, true),
            (".*", "foo", false, false),
            ("abc.def", "abcdef", false, false),
            ("abc.def", "abc.def", true, true),
            ("abc.def", "abcZdef", false, false),
            ("abc?def", "abcZdef", true, true),
            ("abc?def", "abcdef", false, false),
            ("**/foo/bar", "foo/bar", true, true),
            ("**/foo/bar", "dir/foo/bar", true, true),
            ("**/foo/bar", "dir/dir2/foo/bar", true, true),
            ("abc/**", "abc", false, false),
            ("abc/**", "abc/def", true, true),
            ("abc/**", "abc/def/ghi", true, true),
            ("**/.foo", ".foo", true, true),
            ("**/.foo", "bar.foo", false, false),
            ("a(b)c/def", "a(b)c/def", true, true),
            ("a(b)c/def", "a(b)c/xyz", false, false),
            ("a.|)$(}+{bc", "a.|)$(}+{bc", true, true),
            ("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true, true),
            ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true, true),
            ("a\\\\", "a\\", true, true),
            ("a\\*b", "a*b", true, true),
        ];
        for &(pattern, path, exactly, with_parents) in table {
            let p = Pattern::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
            assert_eq!(p.matches(path), exactly, "exact: pattern={pattern:?} path={path:?}");
            let m = Matcher::new([pattern]).unwrap();
            // The reference feeds paths with a trailing `/` uncleaned to the exact match; the
            // matcher cleans them, which only changes results for patterns ending in a wildcard.
            if !path.ends_with('/') {
                assert_eq!(m.excludes(path), with_parents, "parents: pattern={pattern:?} path={path:?}");
            }
        }
        let multi: &[(&[&str], &str, bool)] = &[
            (&["**", "!util/docker/web"], "util/docker/web/foo", false),
            (&["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", true),
            (&["**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false),
            (&["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false),
        ];
        for &(patterns, path, expected) in multi {
            assert_eq!(excluded(patterns, path), expected, "{patterns:?} {path}");
        }
    }

    /// Go's filepath.Match tests as the reference runs them (through the deprecated `Matches`,
    /// which checks parents too).
    #[test]
    fn go_filepath_match_table() {
        let table: &[(&str, &str, Option<bool>)] = &[
            ("abc", "abc", Some(true)),
            ("*", "abc", Some(true)),
            ("*c", "abc", Some(true)),
            ("a*", "a", Some(true)),
            ("a*", "abc", Some(true)),
            ("a*", "ab/c", Some(true)),
            ("a*/b", "abc/b", Some(true)),
            ("a*/b", "a/c/b", Some(false)),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", Some(true)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Some(true)),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Some(false)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Some(false)),
            ("a*b?c*x", "abxbbxdbxebxczzx", Some(true)),
            ("a*b?c*x", "abxbbxdbxebxczzy", Some(false)),
            ("ab[c]", "abc", Some(true)),
            ("ab[b-d]", "abc", Some(true)),
            ("ab[e-g]", "abc", Some(false)),
            ("ab[^c]", "abc", Some(false)),
            ("ab[^b-d]", "abc", Some(false)),
            ("ab[^e-g]", "abc", Some(true)),
            ("a\\*b", "a*b", Some(true)),
            ("a\\*b", "ab", Some(false)),
            ("a?b", "a☺b", Some(true)),
            ("a[^a]b", "a☺b", Some(true)),
            ("a???b", "a☺b", Some(false)),
            ("a[^a][^a][^a]b", "a☺b", Some(false)),
            ("[a-ζ]*", "α", Some(true)),
            ("*[a-ζ]", "A", Some(false)),
            ("a?b", "a/b", Some(false)),
            ("a*b", "a/b", Some(false)),
            ("[\\]a]", "]", Some(true)),
            ("[\\-]", "-", Some(true)),
            ("[x\\-]", "x", Some(true)),
            ("[x\\-]", "-", Some(true)),
            ("[x\\-]", "z", Some(false)),
            ("[\\-x]", "x", Some(true)),
            ("[\\-x]", "-", Some(true)),
            ("[\\-x]", "a", Some(false)),
            ("[]a]", "]", None),
            ("[-]", "-", None),
            ("[x-]", "x", None),
            ("[x-]", "-", None),
            ("[x-]", "z", None),
            ("[-x]", "x", None),
            ("[-x]", "-", None),
            ("[-x]", "a", None),
            ("\\", "a", None),
            ("[a-b-c]", "a", None),
            ("[", "a", None),
            ("[^", "a", None),
            ("[^bc", "a", None),
            ("a[", "a", None),
            ("a[", "ab", None),
            ("*x", "xxx", Some(true)),
        ];
        for &(pattern, path, expected) in table {
            match (Matcher::new([pattern]), expected) {
                (Ok(m), Some(matches)) => assert_eq!(m.excludes(path), matches, "pattern={pattern:?} path={path:?}"),
                (Err(_), None) => {}
                (result, _) => panic!("pattern={pattern:?}: {result:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn suffix_kind_is_a_plain_suffix() {
        // The reference's quirk: `**file` (no slash) is a suffix match.
        assert!(exact("**file", "dir/xfile"));
        assert!(!exact("**/file", "dir/xfile"));
        assert!(exact("**/node_modules", "node_modules"));
        assert!(exact("**/node_modules", "a/b/node_modules"));
        assert!(!exact("**/node_modules", "a/b/node_modules/x"));
        assert!(excluded(&["**/node_modules"], "a/b/node_modules/x"));
    }

    #[test]
    fn may_match_within_a_directory() {
        let p = |s| Pattern::new(s).unwrap();
        assert!(p("**/*.log").may_match_within("config"));
        assert!(p("config/*.yaml").may_match_within("config"));
        assert!(p("config").may_match_within("config"));
        assert!(p("conf*").may_match_within("config/sub"), "excludes a parent");
        assert!(p("*/temp*").may_match_within("config"));
        assert!(!p("node_modules").may_match_within("config"));
        assert!(!p(".git").may_match_within("src"));
        assert!(!p("src/node_modules").may_match_within("config"));
        assert!(!p("*.log").may_match_within("config"), "`*` stops at the first /");
        assert!(p("*").may_match_within("config"));
        assert!(p("c?nfig/x").may_match_within("config"));
        assert!(!p("[a-b]onfig/x").may_match_within("config"));
    }

    #[test]
    fn quick_paths_agree_with_the_token_matcher() {
        let patterns = ["config", "config/app", "conf", "a**", "config/**", "con/**", "**/x", "**x", "**", "c*g", "config/*.log", "x/y/z"];
        let dirs = ["config", "config/app", "config/app/deep", "conf", "c", "x", "x/y", "other"];
        for pattern in patterns {
            let p = Pattern::new(pattern).unwrap();
            for dir in dirs {
                let slow = p.matches_or_parent(dir) || run(&p.tokens, &format!("{dir}/"), true);
                assert_eq!(p.may_match_within(dir), slow, "pattern={pattern} dir={dir}");
            }
        }
    }

    #[test]
    fn literals_read_back_as_themselves() {
        for name in ["a[1].txt", "#notes", "!important", "we*rd?", "back\\slash", "plain/path.txt"] {
            let lit = literal(name).unwrap();
            let m = Matcher::from_dockerignore(&lit).unwrap();
            assert!(m.excludes(name), "{name} as {lit}");
            assert_eq!(m.patterns().len(), 1);
        }
        assert!(literal(" padded").is_none());
        assert!(literal("line\nbreak").is_none());
        assert_eq!(literal("node_modules").unwrap(), "node_modules");
    }

    #[test]
    fn clean_like_go() {
        for (input, output) in [
            ("", "."),
            ("a/b/../c", "a/c"),
            ("../a", "../a"),
            ("/../a", "/a"),
            ("a/../..", ".."),
            ("./", "."),
            ("/", "/"),
            ("a//b/./c/", "a/b/c"),
        ] {
            assert_eq!(clean(input), output, "{input:?}");
        }
    }
}
