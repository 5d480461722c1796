//! Errors a user can act on: `path:line:col: message`, then the source line with a caret.

use transforms::{LineIndex, SyntaxError};

/// What went wrong with one input file. Nothing is written for a file with an error.
#[derive(Debug, Clone)]
pub enum FileError {
    /// The Dockerfile does not parse.
    Syntax(SyntaxError),
    /// Reading or writing failed, or the file is not UTF-8.
    Io(String),
    /// The fix loop failed (a fix produced an unparseable file, or fixes did not settle).
    Engine(String),
    /// A transform panicked: a bug in dockopt.
    Internal(String),
}

impl FileError {
    /// 1-based line and column, when the error has a position.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            FileError::Syntax(e) => Some((e.line, e.column)),
            _ => None,
        }
    }

    pub fn message(&self) -> String {
        match self {
            FileError::Syntax(e) => e.message.clone(),
            FileError::Io(m) | FileError::Engine(m) => m.clone(),
            FileError::Internal(m) => format!("internal error, please report it: {m}"),
        }
    }

    /// The full rendering: position and source excerpt when known.
    pub fn render(&self, display: &str, source: Option<&str>) -> String {
        match (self.position(), source) {
            (Some((line, col)), Some(text)) => render_at(display, text, line, col, &self.message()),
            (Some((line, col)), None) => format!("{display}:{line}:{col}: {}\n", self.message()),
            (None, _) => format!("{display}: {}\n", self.message()),
        }
    }
}

/// `display:line:col: message` then the line of `text` with a caret under `col` (both 1-based).
pub fn render_at(display: &str, text: &str, line: usize, col: usize, message: &str) -> String {
    let mut out = format!("{display}:{line}:{col}: {message}\n");
    let index = LineIndex::new(text);
    if line == 0 || line > index.line_count() {
        return out;
    }
    let range = index.line_range(text, line);
    let source_line = &text[range];
    let number = line.to_string();
    let pad = " ".repeat(number.len());
    // Keep tabs so the caret lines up with the text above it.
    let lead: String = source_line
        .chars()
        .chain(std::iter::repeat(' '))
        .take(col.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    out.push_str(&format!(
        "{pad} |\n{number} | {source_line}\n{pad} | {lead}^\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_points_at_the_column_and_keeps_tabs() {
        let text = "FROM a\n\tRUN x y\n";
        let out = render_at("Dockerfile", text, 2, 6, "bad");
        assert_eq!(
            out,
            "Dockerfile:2:6: bad\n  |\n2 | \tRUN x y\n  | \t    ^\n"
        );
    }

    #[test]
    fn out_of_range_line_has_no_excerpt() {
        assert_eq!(render_at("D", "FROM a\n", 9, 1, "m"), "D:9:1: m\n");
    }
}
