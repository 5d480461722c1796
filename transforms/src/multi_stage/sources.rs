//! What a compiled program may open at run time, as its sources say: the string literals of Go,
//! Rust and C/C++ files with the call each is an argument of, the files Go's `//go:embed` puts
//! into the binary, and whether the program looks for files beside its own executable. A small
//! lexer (comments, strings, raw strings, runes and lifetimes, brackets), not a parser: enough to
//! tell a literal in code from one in a comment and to name the call around it.

/// A language whose sources are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    Go,
    Rust,
    C,
}

impl Lang {
    /// The language of the sources an ecosystem's build compiles.
    pub fn of_ecosystem(ecosystem: &str) -> Option<Lang> {
        match ecosystem {
            "go" => Some(Lang::Go),
            "rust" => Some(Lang::Rust),
            "c" => Some(Lang::C),
            _ => None,
        }
    }

    /// The language of a context file, by its extension.
    pub fn of_path(path: &str) -> Option<Lang> {
        let ext = path.rsplit_once('.').map(|(_, e)| e)?;
        match ext {
            "go" => Some(Lang::Go),
            "rs" => Some(Lang::Rust),
            "c" | "h" | "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" => Some(Lang::C),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Lang::Go => "Go",
            Lang::Rust => "Rust",
            Lang::C => "C/C++",
        }
    }

    /// Whether the file is built into the program that runs (not a test, an example, a build
    /// script or vendored code).
    pub fn is_program_source(self, path: &str) -> bool {
        if Lang::of_path(path) != Some(self) || !crate::settings::wants_source(path) {
            return false;
        }
        let parts: Vec<&str> = path.split('/').collect();
        let name = parts.last().copied().unwrap_or_default();
        let skipped_dir = |dirs: &[&str]| parts[..parts.len() - 1].iter().any(|p| dirs.contains(p));
        if skipped_dir(&["vendor", "node_modules", "target", "third_party", ".git", "testdata"]) {
            return false;
        }
        match self {
            Lang::Go => !name.ends_with("_test.go"),
            Lang::Rust => name != "build.rs" && !skipped_dir(&["tests", "benches", "examples"]),
            Lang::C => !skipped_dir(&["test", "tests"]),
        }
    }
}

/// A string literal and the call (or macro, or attribute) it is an argument of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Literal {
    pub text: String,
    /// The name before the innermost open `(` (`ReadFile`, `include_str!`), `#[` inside an
    /// attribute, `import`/`include` for imports; empty otherwise.
    pub callee: String,
}

#[derive(Debug, Default)]
pub(super) struct Scanned {
    pub literals: Vec<Literal>,
    /// `//go:embed` patterns, relative to the file's folder.
    pub embeds: Vec<String>,
    /// It finds files relative to its own executable (`os.Executable`, `current_exe`, `/proc/self/exe`).
    pub exe_relative: bool,
}

/// Files libraries read from the working directory without a literal naming them:
/// (text in the source, the path it reads).
const IMPLICIT_READS: &[(Lang, &str, &str)] = &[
    (Lang::Go, "godotenv.Load()", ".env"),
    (Lang::Go, "godotenv.Overload()", ".env"),
    (Lang::Rust, "dotenv()", ".env"),
    (Lang::Rust, "Template::fairing()", "templates"),
    (Lang::Rust, "rocket::", "Rocket.toml"),
];

/// Macros and calls whose path argument is read at compile time (relative to the source file or
/// the crate): nothing of it is needed at run time.
fn compile_time(lang: Lang, callee: &str) -> bool {
    match lang {
        Lang::Rust => {
            callee == "#["
                || (callee.ends_with('!')
                    && (callee.starts_with("include") || matches!(callee, "migrate!" | "embed_migrations!" | "env!" | "option_env!" | "concat!")))
        }
        Lang::Go => callee == "import",
        Lang::C => callee == "include",
    }
}

pub(super) fn scan(text: &str, lang: Lang) -> Scanned {
    let mut out = Scanned {
        exe_relative: text.contains("os.Executable(") || text.contains("current_exe(") || text.contains("/proc/self/exe"),
        ..Scanned::default()
    };
    for (l, needle, path) in IMPLICIT_READS {
        if *l == lang && text.contains(needle) {
            out.literals.push(Literal { text: path.to_string(), callee: String::new() });
        }
    }
    let b = text.as_bytes();
    let mut i = 0;
    // Names of the open brackets, innermost last.
    let mut open: Vec<String> = Vec::new();
    // The identifier right before the current position (only blanks since), for a following `(`.
    let mut last_ident: Option<String> = None;
    let mut line_start = true;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line_start = true;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let at_line_start = std::mem::replace(&mut line_start, false);
        // C preprocessor: `#include "x.h"` names a header, not a file read at run time.
        if lang == Lang::C && c == b'#' && at_line_start {
            let rest = text[i + 1..].trim_start();
            if rest.starts_with("include") || rest.starts_with("import") {
                i = line_end(b, i);
                continue;
            }
            i += 1;
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            let end = line_end(b, i);
            if lang == Lang::Go {
                if let Some(patterns) = text[i..end].strip_prefix("//go:embed") {
                    out.embeds.extend(embed_patterns(patterns));
                }
            }
            i = end;
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i = block_comment_end(b, i, lang == Lang::Rust);
            continue;
        }
        if c == b'"' {
            let (end, literal) = quoted(text, i);
            push(&mut out, lang, &open, last_ident.take(), literal);
            i = end;
            continue;
        }
        if c == b'`' && lang == Lang::Go {
            let end = text[i + 1..].find('`').map_or(b.len(), |at| i + 1 + at + 1);
            let literal = text[i + 1..end.saturating_sub(1).max(i + 1)].to_string();
            push(&mut out, lang, &open, last_ident.take(), literal);
            i = end;
            continue;
        }
        if c == b'\'' {
            i = after_quote(text, i, lang);
            last_ident = None;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let ident = &text[start..i];
            // Rust raw strings: r"…", r#"…"#, br"…".
            if lang == Lang::Rust && matches!(ident, "r" | "br" | "cr") && matches!(b.get(i), Some(b'"' | b'#')) {
                if let Some((end, literal)) = raw_string(text, i) {
                    push(&mut out, lang, &open, last_ident.take(), literal);
                    i = end;
                    continue;
                }
            }
            if lang == Lang::Rust && matches!(ident, "b" | "c") && b.get(i) == Some(&b'"') {
                continue;
            }
            let mut name = ident.to_string();
            if lang == Lang::Rust && b.get(i) == Some(&b'!') && b.get(i + 1) != Some(&b'=') {
                name.push('!');
                i += 1;
            }
            // `import "fmt"`: the literal that follows is an import path.
            last_ident = Some(name);
            continue;
        }
        match c {
            b'(' => open.push(last_ident.take().unwrap_or_default()),
            b'[' => {
                let attribute = lang == Lang::Rust && (text[..i].ends_with('#') || text[..i].ends_with("#!"));
                open.push(if attribute { "#[".to_string() } else { String::new() });
                last_ident = None;
            }
            b')' | b']' => {
                open.pop();
                last_ident = None;
            }
            b'.' | b':' => {} // `os.ReadFile`, `fs::read`: the name that counts is the last one.
            _ => last_ident = None,
        }
        i += 1;
    }
    out
}

fn push(out: &mut Scanned, lang: Lang, open: &[String], before: Option<String>, text: String) {
    let callee = match before.as_deref() {
        Some("import") => "import".to_string(),
        _ => open.last().cloned().unwrap_or_default(),
    };
    if compile_time(lang, &callee) || open.iter().any(|o| o == "#[" || (lang == Lang::Rust && compile_time(lang, o))) {
        return;
    }
    out.literals.push(Literal { text, callee });
}

fn line_end(b: &[u8], from: usize) -> usize {
    b[from..].iter().position(|c| *c == b'\n').map_or(b.len(), |at| from + at)
}

fn block_comment_end(b: &[u8], from: usize, nested: bool) -> usize {
    let mut depth = 0usize;
    let mut i = from;
    while i + 1 < b.len() {
        if b[i] == b'/' && b[i + 1] == b'*' {
            depth += 1;
            i += 2;
            if !nested && depth > 1 {
                depth = 1;
            }
        } else if b[i] == b'*' && b[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// A `"…"` string starting at `from`: where it ends, and its value (simple escapes resolved).
fn quoted(text: &str, from: usize) -> (usize, String) {
    let mut value = String::new();
    let mut chars = text[from + 1..].char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return (from + 1 + at + 1, value),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, other)) => value.push(other),
                None => break,
            },
            // C and Go strings end at the line's end when unterminated: stop there.
            '\n' => return (from + 1 + at, value),
            _ => value.push(c),
        }
    }
    (text.len(), value)
}

/// `r#"…"#` from the `r`'s end (`from` at `"` or `#`).
fn raw_string(text: &str, from: usize) -> Option<(usize, String)> {
    let hashes = text[from..].bytes().take_while(|c| *c == b'#').count();
    let open = from + hashes;
    if text.as_bytes().get(open) != Some(&b'"') {
        return None;
    }
    let close = format!("\"{}", "#".repeat(hashes));
    let body_start = open + 1;
    let end = text[body_start..].find(&close).map_or(text.len(), |at| body_start + at);
    Some(((end + close.len()).min(text.len()), text[body_start..end].to_string()))
}

/// Past a `'`: a character literal (`'x'`, `'\n'`), or (Rust) a lifetime or label (`'a`).
fn after_quote(text: &str, from: usize, lang: Lang) -> usize {
    let rest = &text[from + 1..];
    let mut chars = rest.char_indices();
    match chars.next() {
        Some((_, '\\')) => {
            // An escape: up to the closing quote, a few characters on.
            rest.char_indices().skip(2).take(12).find(|(_, c)| *c == '\'').map_or(from + 1, |(at, _)| from + 1 + at + 1)
        }
        Some((_, c)) => match chars.next() {
            Some((at, '\'')) => from + 1 + at + 1,
            _ if lang == Lang::Rust => from + 1,
            _ => from + 1 + c.len_utf8(),
        },
        None => text.len(),
    }
}

/// The patterns of a `//go:embed` line (blank-separated, quoted or not).
fn embed_patterns(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if let Some(quoted_rest) = rest.strip_prefix('"').or_else(|| rest.strip_prefix('`')) {
            let quote = rest.as_bytes()[0] as char;
            let end = quoted_rest.find(quote).unwrap_or(quoted_rest.len());
            out.push(quoted_rest[..end].to_string());
            rest = quoted_rest.get(end + 1..).unwrap_or("").trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
    }
    out.into_iter().map(|p| p.trim_start_matches("all:").to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(source: &str, lang: Lang) -> Vec<(String, String)> {
        scan(source, lang).literals.into_iter().map(|l| (l.text, l.callee)).collect()
    }

    #[test]
    fn go_literals_with_their_calls() {
        let source = r#"package main

import (
	"html/template"
	"os"
)

// os.ReadFile("commented.yaml") is not code.
/* neither "is.this" */
func main() {
	data, _ := os.ReadFile("config.yaml")
	t := template.Must(template.ParseGlob(`templates/*.html`))
	r := '"'
	_ = fmt.Sprintf("%s", 'x')
	http.Handle("/static/", http.FileServer(http.Dir("./static")))
}
"#;
        let found = texts(source, Lang::Go);
        assert_eq!(
            found,
            [
                ("config.yaml".to_string(), "ReadFile".to_string()),
                ("templates/*.html".to_string(), "ParseGlob".to_string()),
                ("%s".to_string(), "Sprintf".to_string()),
                ("/static/".to_string(), "Handle".to_string()),
                ("./static".to_string(), "Dir".to_string()),
            ]
        );
    }

    #[test]
    fn go_embed_and_executable() {
        let scanned = scan("//go:embed templates static/*.css \"a b.txt\"\nvar fs embed.FS\nfunc f() { os.Executable() }\n", Lang::Go);
        assert_eq!(scanned.embeds, ["templates", "static/*.css", "a b.txt"]);
        assert!(scanned.exe_relative);
        assert!(scanned.literals.is_empty());
    }

    #[test]
    fn rust_raw_strings_lifetimes_and_compile_time_macros() {
        let source = r##"
#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;
const SCHEMA: &str = include_str!("../schema.sql");
fn load<'a>(x: &'a str) -> String {
    let c = '\'';
    let t = Tera::new("templates/**/*").unwrap();
    std::fs::read_to_string(r#"config/app.toml"#).unwrap()
}
sqlx::migrate!("./migrations");
"##;
        let found = texts(source, Lang::Rust);
        assert_eq!(found, [("templates/**/*".to_string(), "new".to_string()), ("config/app.toml".to_string(), "read_to_string".to_string())]);
    }

    #[test]
    fn c_includes_are_not_reads() {
        let source = "#include \"app.h\"\n#define CONF \"/etc/app.conf\"\nint main() { FILE *f = fopen(\"data/words.txt\", \"r\"); char q = '\"'; }\n";
        let found = texts(source, Lang::C);
        assert_eq!(
            found,
            [
                ("/etc/app.conf".to_string(), String::new()),
                ("data/words.txt".to_string(), "fopen".to_string()),
                ("r".to_string(), "fopen".to_string()),
            ]
        );
    }

    #[test]
    fn implicit_reads() {
        let scanned = scan("fn main() { dotenvy::dotenv().ok(); }", Lang::Rust);
        assert_eq!(scanned.literals[0].text, ".env");
    }

    #[test]
    fn program_sources() {
        assert!(Lang::Go.is_program_source("cmd/server/main.go"));
        assert!(!Lang::Go.is_program_source("main_test.go"));
        assert!(!Lang::Go.is_program_source("vendor/x/y.go"));
        assert!(!Lang::Rust.is_program_source("build.rs"));
        assert!(!Lang::Rust.is_program_source("tests/it.rs"));
        assert!(Lang::C.is_program_source("src/main.c"));
    }

    #[test]
    fn unterminated_and_odd_input_does_not_panic() {
        for text in ["\"abc", "r#\"x", "'", "/* x", "`x", "é'\u{1F600}'", "#", "#include", "x!(", ")))]]]"] {
            for lang in [Lang::Go, Lang::Rust, Lang::C] {
                let _ = scan(text, lang);
            }
        }
    }
}
