//! What formatting must keep: per instruction, what BuildKit reads (keyword, flags, JSON arrays
//! and heredoc bodies exactly; other arguments with whitespace outside quotes collapsed, and in
//! shell scripts none next to `;`, `&`, `|`), plus the parser directives.
//! `tests/oracle/same_meaning.py` is the same check on BuildKit's own parse.

use crate::syntax::{split_words, Dockerfile, Instruction, Keyword};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Meaning {
    directives: Vec<(String, String)>,
    escape: char,
    instructions: Vec<Shape>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    keyword: String,
    sub: Option<String>,
    flags: Vec<String>,
    exec: Option<Vec<String>>,
    heredocs: Vec<(String, String)>,
    args: String,
}

impl Meaning {
    pub fn same_structure(&self, other: &Meaning) -> bool {
        self.directives == other.directives && self.escape == other.escape && self.instructions.len() == other.instructions.len()
    }

    /// Indices of the instructions that differ (same structure assumed).
    pub fn differing(&self, other: &Meaning) -> Vec<usize> {
        (0..self.instructions.len()).filter(|&i| self.instructions[i] != other.instructions[i]).collect()
    }
}

/// With `packages_sorted`, shell arguments are compared as sets of words (sorting reorders them).
pub(super) fn of(file: &Dockerfile, packages_sorted: bool) -> Meaning {
    Meaning {
        directives: file.directives.iter().map(|d| (d.name.clone(), d.value.clone())).collect(),
        escape: file.escape,
        instructions: file.instructions.iter().map(|i| shape(file, i, packages_sorted)).collect(),
    }
}

fn shape(file: &Dockerfile, inst: &Instruction, packages_sorted: bool) -> Shape {
    let dispatch = inst.sub.as_ref().map_or(inst.keyword, |(k, _)| *k);
    let args = inst.args_text();
    let escape = file.escape;
    let normalized = if inst.exec.is_some() && dispatch != Keyword::Healthcheck {
        String::new()
    } else {
        match dispatch {
            Keyword::Run | Keyword::Cmd | Keyword::Entrypoint => shell(args, packages_sorted),
            Keyword::Healthcheck => {
                let (kind, rest) = args.split_once([' ', '\t']).unwrap_or((args, ""));
                format!("{} {}", kind.to_ascii_uppercase(), shell(rest, packages_sorted))
            }
            Keyword::From => {
                let mut words: Vec<String> = split_words(args, escape).into_iter().map(|w| w.raw).collect();
                if words.len() == 3 && words[1].eq_ignore_ascii_case("as") {
                    words[1] = "AS".to_string();
                }
                words.join(" ")
            }
            _ => squeeze(args, escape, false),
        }
    };
    Shape {
        keyword: file.source[inst.keyword_span.clone()].to_ascii_uppercase(),
        sub: inst.sub.as_ref().map(|(_, r)| inst.logical.text[r.clone()].to_ascii_uppercase()),
        flags: inst.flags.iter().map(|f| f.text.clone()).collect(),
        exec: inst.exec.clone(),
        heredocs: inst.heredocs.iter().map(|h| (h.name.clone(), file.source[h.body.clone()].to_string())).collect(),
        args: normalized,
    }
}

fn shell(text: &str, packages_sorted: bool) -> String {
    let squeezed = squeeze(text, '\\', true);
    if !packages_sorted {
        return squeezed;
    }
    // Operators stand apart, so `b&&c` and `c&&b` give the same words.
    let mut spaced = String::with_capacity(squeezed.len() + 16);
    let mut quote: Option<char> = None;
    let mut chars = squeezed.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '\\' => {
                spaced.push(c);
                if let Some(n) = chars.next() {
                    spaced.push(n);
                }
                continue;
            }
            None if matches!(c, ';' | '&' | '|') => {
                spaced.push(' ');
                spaced.push(c);
                spaced.push(' ');
                continue;
            }
            None => {}
        }
        spaced.push(c);
    }
    let mut words: Vec<String> = split_words(&spaced, '\\').into_iter().map(|w| w.raw).collect();
    words.sort();
    words.join(" ")
}

/// Whitespace outside quotes collapsed to one space and trimmed; in a shell script, none next to
/// an unquoted, unescaped `;`, `&` or `|` (the shell reads `a;b` and `a ; b` alike).
pub(super) fn squeeze(text: &str, escape: char, shell: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut space = false;
    let mut after_operator = false;
    let is_operator = |c: char| shell && matches!(c, ';' | '&' | '|');
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            } else if c == escape && q == '"' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            continue;
        }
        if c == ' ' || c == '\t' {
            space = true;
            continue;
        }
        if space && !out.is_empty() && !after_operator && !is_operator(c) {
            out.push(' ');
        }
        space = false;
        out.push(c);
        after_operator = is_operator(c);
        if c == '\'' || c == '"' {
            quote = Some(c);
        } else if c == escape {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeeze_keeps_quoted_and_escaped_whitespace() {
        assert_eq!(squeeze("  a   'b  c'  \"d  e\"  f\\  g ", '\\', false), "a 'b  c' \"d  e\" f\\  g");
        assert_eq!(squeeze("a &&   b ;c|  d", '\\', true), "a&&b;c|d");
        assert_eq!(squeeze("find . -exec rm {} \\; -print", '\\', true), "find . -exec rm {} \\; -print");
        assert_ne!(squeeze("a b", '\\', true), squeeze("ab", '\\', true));
    }
}
