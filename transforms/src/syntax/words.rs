//! Splitting arguments into words the way BuildKit's `parseWords` does: whitespace separates
//! words except inside quotes; the escape token protects the next character.

use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Range in the text that was split.
    pub range: Range<usize>,
    /// The word as written, quotes and escapes included.
    pub raw: String,
}

impl Word {
    /// The word with quotes removed and escapes resolved (no variable expansion).
    pub fn unquoted(&self, escape: char) -> String {
        unquote(&self.raw, escape)
    }
}

pub fn split_words(text: &str, escape: char) -> Vec<Word> {
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                } else if c == escape && q != '\'' {
                    chars.next();
                }
            }
            None => {
                if c.is_whitespace() {
                    if let Some(s) = start.take() {
                        words.push(Word { range: s..i, raw: text[s..i].to_string() });
                    }
                    continue;
                }
                if start.is_none() {
                    start = Some(i);
                }
                if c == '\'' || c == '"' {
                    quote = Some(c);
                } else if c == escape {
                    chars.next();
                }
            }
        }
    }
    if let Some(s) = start {
        words.push(Word { range: s..text.len(), raw: text[s..].to_string() });
    }
    words
}

/// Remove shell quoting from one word: `'…'` literal, `"…"` with escapes, bare escapes.
pub fn unquote(raw: &str, escape: char) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut quote: Option<char> = None;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some('\'') if c == '\'' => quote = None,
            Some('\'') => out.push(c),
            Some(q) if c == q => quote = None,
            Some(_) if c == escape => {
                if let Some(n) = chars.next() {
                    if !matches!(n, '"' | '$' | '`') && n != escape {
                        out.push(c);
                    }
                    out.push(n);
                }
            }
            Some(_) => out.push(c),
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == escape => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            None => out.push(c),
        }
    }
    out
}

/// `NAME=value` pairs of an ENV or ARG (the legacy `ENV NAME value` form too).
pub fn assignments(inst: &super::Instruction, escape: char) -> Vec<(String, Option<String>)> {
    let words = split_words(inst.args_text(), escape);
    if inst.keyword == super::Keyword::Env && words.first().is_some_and(|w| !w.raw.contains('=')) {
        let name = words[0].raw.clone();
        let value = inst.args_text()[words[0].range.end..].trim().to_string();
        return vec![(name, Some(unquote(&value, escape)))];
    }
    words
        .iter()
        .map(|w| match w.raw.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(unquote(value, escape))),
            None => (w.raw.clone(), None),
        })
        .collect()
}

/// `$NAME` and `${NAME}` replaced by known values; unknown ones are left as written.
pub fn expand(text: &str, env: &std::collections::BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, used) = match after.strip_prefix('{') {
            Some(inner) => match inner.find('}') {
                Some(end) if inner[..end].chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => (&inner[..end], end + 2),
                _ => ("", 0),
            },
            None => {
                let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        match env.get(name).filter(|_| !name.is_empty()) {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[at..at + 1 + used]),
        }
        rest = &after[used..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_whitespace_outside_quotes() {
        let w: Vec<String> = split_words(r#"a "b c" d\ e 'f g'"#, '\\').into_iter().map(|w| w.raw).collect();
        assert_eq!(w, vec!["a", "\"b c\"", "d\\ e", "'f g'"]);
    }

    #[test]
    fn unquotes() {
        assert_eq!(unquote(r#""a \"b\"""#, '\\'), "a \"b\"");
        assert_eq!(unquote("'a\\b'", '\\'), "a\\b");
        assert_eq!(unquote("a\\ b", '\\'), "a b");
    }
}
