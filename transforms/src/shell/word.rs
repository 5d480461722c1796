//! The static value of a shell word: quotes removed, escapes resolved, or `None` when the
//! shell would expand something (parameters, substitutions, globs, braces, tilde).

/// What the shell would pass as the argument, when that is known without running anything.
///
/// Works on the word's source text rather than tree-sitter's node structure, because
/// tree-sitter-bash splits words unevenly (`{a,b}` becomes three `word` nodes, `--x="y"` a
/// `concatenation`) and one lexer over the text treats all of them alike.
pub(crate) fn static_value(raw: &str) -> Option<String> {
    let mut value = String::with_capacity(raw.len());
    let mut chars = raw.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, '\n')) => {}
                Some((_, '\r')) if chars.peek().map(|&(_, n)| n) == Some('\n') => {
                    chars.next();
                }
                Some((_, escaped)) => value.push(escaped),
                None => value.push('\\'),
            },
            '\'' => loop {
                match chars.next() {
                    Some((_, '\'')) => break,
                    Some((_, quoted)) => value.push(quoted),
                    None => return None,
                }
            },
            '"' => double_quoted(&mut chars, &mut value)?,
            '$' => match chars.peek().map(|&(_, n)| n) {
                Some('\'') => {
                    chars.next();
                    ansi_c_quoted(&mut chars, &mut value)?;
                }
                // `$"…"` is a translatable string: without a message catalog it is the text itself.
                Some('"') => {
                    chars.next();
                    double_quoted(&mut chars, &mut value)?;
                }
                None => value.push('$'),
                Some(_) => return None,
            },
            '`' | '*' | '?' => return None,
            // A lone `[` (the test command) is not a glob; `[ab]` is.
            '[' if raw[at..].contains(']') => return None,
            '~' if at == 0 => return None,
            '{' if is_brace_expansion(&raw[at..]) => return None,
            other => value.push(other),
        }
    }
    Some(value)
}

type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

/// Consumes up to and including the closing `"`; `None` on any expansion or a missing quote.
fn double_quoted(chars: &mut Chars, value: &mut String) -> Option<()> {
    loop {
        match chars.next()?.1 {
            '"' => return Some(()),
            '$' | '`' => return None,
            '\\' => match chars.next()?.1 {
                '\n' => {}
                escaped @ ('$' | '`' | '"' | '\\') => value.push(escaped),
                other => {
                    value.push('\\');
                    value.push(other);
                }
            },
            other => value.push(other),
        }
    }
}

/// `$'…'`: the common C escapes; rarer ones (`\x41`, `\u…`, octal) give up with `None`.
fn ansi_c_quoted(chars: &mut Chars, value: &mut String) -> Option<()> {
    loop {
        match chars.next()?.1 {
            '\'' => return Some(()),
            '\\' => value.push(match chars.next()?.1 {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                'a' => '\u{7}',
                'b' => '\u{8}',
                'e' | 'E' => '\u{1b}',
                'f' => '\u{c}',
                'v' => '\u{b}',
                escaped @ ('\\' | '\'' | '"' | '?') => escaped,
                _ => return None,
            }),
            other => value.push(other),
        }
    }
}

/// `{a,b}` and `{1..3}` expand in bash; `{}` (find, xargs) and `{x}` stay as written.
fn is_brace_expansion(from_brace: &str) -> bool {
    let Some(close) = from_brace.find('}') else {
        return false;
    };
    let inside = &from_brace[1..close];
    inside.contains(',') || inside.contains("..")
}

/// A valid shell variable name, the part before `=` in an assignment.
pub(crate) fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `NAME=value` or `NAME+=value` as a word (`env`/`sudo` take these before the command).
pub(crate) fn is_assignment_word(text: &str) -> bool {
    text.split_once('=')
        .is_some_and(|(name, _)| is_name(name.strip_suffix('+').unwrap_or(name)))
}
