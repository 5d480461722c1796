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

/// The names of the variables `text` refers to (`$NAME`, `${NAME…}`, defaults included), in order.
pub fn variable_names(text: &str) -> Vec<String> {
    let names = std::cell::RefCell::new(Vec::new());
    expand(text, None, &|name| {
        names.borrow_mut().push(name.to_string());
        Var::Unset
    });
    names.into_inner()
}

/// What a variable holds, for `expand`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    Value(String),
    /// Set to something not known here (a build argument without a default, a base image's ENV).
    Unknown,
    /// Declared without a value: `${NAME:-word}` takes the word, `$NAME` is not known.
    Unset,
}

/// A text with its variables expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    /// Parts that depend on variables whose value is not known are left as written.
    pub text: String,
    /// The first variable whose value was needed and is not known.
    pub unknown: Option<String>,
}

/// Results longer than this are not followed (`ENV A=$A$A` repeated would double each time).
const MAX_EXPANDED: usize = 4096;

/// Expand `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}` and `${NAME+word}`
/// the way BuildKit's shell lexer does; other forms (`${NAME%x}`, `${NAME:?}`) are not known.
/// With `escape`, `text` is a word as written: quotes are removed (single quotes keep `$`
/// literal) and escapes resolved too. Without it `text` is taken as it is (an exec-form string).
pub fn expand(text: &str, escape: Option<char>, var: &dyn Fn(&str) -> Var) -> Expanded {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Expanded { text: String::new(), unknown: None };
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if escape == Some(c) && quote != Some('\'') && i + 1 < chars.len() {
            let next = chars[i + 1];
            if quote == Some('"') && !matches!(next, '"' | '$' | '`') && Some(next) != escape {
                out.text.push(c);
            }
            out.text.push(next);
            i += 2;
            continue;
        }
        match c {
            '\'' | '"' if escape.is_some() && (quote.is_none() || quote == Some(c)) => {
                quote = if quote.is_some() { None } else { Some(c) };
                i += 1;
            }
            '$' if quote != Some('\'') => {
                let (written, value) = variable(&chars[i..], escape, var);
                if written == 0 {
                    out.text.push('$');
                    i += 1;
                    continue;
                }
                match value {
                    Ok(value) => out.text.push_str(&value),
                    Err(name) => {
                        out.unknown.get_or_insert(name);
                        out.text.extend(&chars[i..i + written]);
                    }
                }
                i += written;
            }
            _ => {
                out.text.push(c);
                i += 1;
            }
        }
        if out.text.len() > MAX_EXPANDED {
            return Expanded { text: text.to_string(), unknown: Some(out.unknown.unwrap_or_default()) };
        }
    }
    out
}

/// The reference at the start of `chars` (`$NAME`, `${…}`): how many characters it takes (0 when it
/// is a lone `$`) and its value, or the name of the variable it needs.
fn variable(chars: &[char], escape: Option<char>, var: &dyn Fn(&str) -> Var) -> (usize, Result<String, String>) {
    let is_name = |c: &char| c.is_ascii_alphanumeric() || *c == '_';
    if chars.get(1) != Some(&'{') {
        let len = chars[1..].iter().take_while(|c| is_name(c)).count();
        if len == 0 || chars[1].is_ascii_digit() {
            return (0, Ok(String::new()));
        }
        let name: String = chars[1..=len].iter().collect();
        let value = match var(&name) {
            Var::Value(v) => Ok(v),
            Var::Unknown | Var::Unset => Err(name),
        };
        return (len + 1, value);
    }
    let mut depth = 0;
    let Some(end) = chars.iter().position(|&c| {
        depth += (c == '{') as i32 - (c == '}') as i32;
        c == '}' && depth == 0
    }) else {
        return (0, Ok(String::new()));
    };
    let inner = &chars[2..end];
    let name: String = inner.iter().take_while(|c| is_name(c)).collect();
    let rest: String = inner[name.len()..].iter().collect();
    let value = var(&name);
    let word = |w: &str| {
        let expanded = expand(w, escape, var);
        expanded.unknown.map_or(Ok(expanded.text), Err)
    };
    let result = match (rest.as_str(), value) {
        _ if name.is_empty() => Err(name),
        (_, Var::Unknown) => Err(name),
        ("", Var::Value(v)) => Ok(v),
        ("", Var::Unset) => Err(name),
        (r, Var::Value(v)) if r.starts_with(":-") => if v.is_empty() { word(&r[2..]) } else { Ok(v) },
        (r, Var::Value(v)) if r.starts_with(":+") => if v.is_empty() { Ok(String::new()) } else { word(&r[2..]) },
        (r, Var::Value(v)) if r.starts_with('-') => Ok(v),
        (r, Var::Value(_)) if r.starts_with('+') => word(&r[1..]),
        (r, Var::Unset) if r.starts_with(":-") || r.starts_with('-') => word(r.trim_start_matches(':')[1..].as_ref()),
        (r, Var::Unset) if r.starts_with(":+") || r.starts_with('+') => Ok(String::new()),
        // Pattern removal and the like: the result cannot be known without running it.
        _ => Err(name),
    };
    (end + 1, result)
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
