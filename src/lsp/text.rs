//! Text positions for the Language Server Protocol: byte offsets ↔ (line, UTF-16 character), and
//! the smallest line-based edits that turn one text into another.

use lsp_types::{Position, Range, TextEdit};
use similar::{DiffOp, TextDiff};

/// Line starts of a text, to convert byte offsets to LSP positions and back. Lines end at `\n`
/// (a `\r` before it belongs to the terminator).
pub struct LineMap<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineMap<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineMap { text, starts }
    }

    /// The position of a byte offset; an offset inside a character counts from that character's
    /// start, one past the end is the end.
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let character = self.text[start..offset].encode_utf16().count();
        Position::new(to_u32(line), to_u32(character))
    }

    pub fn range(&self, range: std::ops::Range<usize>) -> Range {
        Range::new(self.position(range.start), self.position(range.end))
    }

    /// The byte offset of a position. A character past the end of its line means the end of the
    /// line (as the protocol says); a line past the last one means the end of the text.
    pub fn offset(&self, position: Position) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else {
            return self.text.len();
        };
        let end = self
            .starts
            .get(position.line as usize + 1)
            .copied()
            .unwrap_or(self.text.len());
        let line = self.text[start..end].trim_end_matches(['\n', '\r']);
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            if units >= position.character {
                return start + i;
            }
            units += c.len_utf16() as u32;
        }
        start + line.len()
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Line-based edits from `old` to `new`, in order, each replacing whole lines: an editor keeps the
/// cursor and folds of the untouched lines.
pub fn minimal_edits(old: &str, new: &str) -> Vec<TextEdit> {
    if old == new {
        return Vec::new();
    }
    let old_starts = line_starts(old);
    let new_starts = line_starts(new);
    let map = LineMap::new(old);
    let diff = TextDiff::from_lines(old, new);
    let mut edits: Vec<TextEdit> = Vec::new();
    for op in diff.ops() {
        if let DiffOp::Equal { .. } = op {
            continue;
        }
        let (old_lines, new_lines) = (op.old_range(), op.new_range());
        let old_range = old_starts[old_lines.start]..old_starts[old_lines.end];
        let new_text = &new[new_starts[new_lines.start]..new_starts[new_lines.end]];
        edits.push(TextEdit::new(map.range(old_range), new_text.to_string()));
    }
    edits
}

/// Byte offset of the start of each line, plus the text's length (so `starts[n]` ends line n-1).
fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(text.split_inclusive('\n').scan(0, |end, line| {
        *end += line.len();
        Some(*end)
    }));
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Apply LSP edits (non-overlapping, in order) to `text`.
    fn apply(text: &str, edits: &[TextEdit]) -> String {
        let map = LineMap::new(text);
        let mut out = String::new();
        let mut last = 0;
        for edit in edits {
            let (start, end) = (map.offset(edit.range.start), map.offset(edit.range.end));
            assert!(start >= last && end >= start);
            out.push_str(&text[last..start]);
            out.push_str(&edit.new_text);
            last = end;
        }
        out.push_str(&text[last..]);
        out
    }

    #[test]
    fn positions_count_utf16_units() {
        let text = "ENV A 🐳é\r\nRUN x\n";
        let map = LineMap::new(text);
        let whale = text.find('🐳').unwrap();
        assert_eq!(map.position(whale), Position::new(0, 6));
        assert_eq!(map.position(whale + 4), Position::new(0, 8));
        assert_eq!(
            map.position(whale + 2),
            Position::new(0, 6),
            "inside a character"
        );
        assert_eq!(map.position(whale + 6), Position::new(0, 9));
        assert_eq!(map.position(text.find("RUN").unwrap()), Position::new(1, 0));
        assert_eq!(map.position(text.len()), Position::new(2, 0));
        assert_eq!(map.position(999), Position::new(2, 0));
        for offset in [
            0,
            whale,
            whale + 4,
            whale + 6,
            text.find("RUN").unwrap(),
            text.len(),
        ] {
            assert_eq!(map.offset(map.position(offset)), offset, "{offset}");
        }
        assert_eq!(
            map.offset(Position::new(0, 99)),
            whale + 6,
            "past the line end"
        );
        assert_eq!(map.offset(Position::new(7, 0)), text.len());
    }

    #[test]
    fn minimal_edits_touch_only_changed_lines() {
        let old = "FROM a\nMAINTAINER x\nRUN b\nENV A 1";
        let new = "FROM a\nLABEL maintainer=\"x\"\nRUN b\nENV A=\"1\"";
        let edits = minimal_edits(old, new);
        assert_eq!(edits.len(), 2, "{edits:?}");
        assert_eq!(
            edits[0].range,
            Range::new(Position::new(1, 0), Position::new(2, 0))
        );
        assert_eq!(apply(old, &edits), new);
        assert!(minimal_edits(old, old).is_empty());
        for (a, b) in [
            ("", "FROM a\n"),
            ("FROM a\n", ""),
            ("a\r\nb\r\n", "a\r\nc\r\nb\r\n"),
        ] {
            assert_eq!(apply(a, &minimal_edits(a, b)), b);
        }
    }
}
