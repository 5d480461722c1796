//! Suppression comments, read once per pass: what the team told its linters to leave alone, which
//! dockopt leaves alone too.
//!
//! - `# dockopt ignore=check-or-transform[,…]` and `# hadolint ignore=DLxxxx[,…]` in the comment
//!   lines directly above an instruction (no blank line between): that instruction.
//! - `# dockopt stage ignore=…` / `# hadolint stage ignore=…` above a FROM: that stage.
//! - `# dockopt global ignore=…` / `# hadolint global ignore=…` anywhere: the whole file.
//! - BuildKit's `# check=skip=Rule[,…]` (or `skip=all`) parser directive: the whole file.
//!
//! The grammar is hadolint's (`Hadolint.Pragma`): spaces around `=` and `,`, a trailing `# comment`.
//! A hadolint code or BuildKit check stands for the checks registered as fixing what it reports
//! (`checks.rs`); a code that no check relates to suppresses nothing. hadolint reads only the line
//! right above an instruction; dockopt reads the whole comment block there, so that a pragma
//! written a line too high still holds. A name that is no check, transform, hadolint rule or
//! BuildKit check is a warning, never an error.

use std::ops::Range;

use crate::checks::{self, Check};
use crate::fix::{Edit, Finding, Fix};
use crate::syntax::{Dockerfile, ItemKind, Keyword};

/// Which tool's comment it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Dockopt,
    Hadolint,
    /// The `# check=skip=` parser directive.
    BuildKit,
}

/// Where a pragma holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The instruction of that index.
    Instruction(usize),
    /// The stage of that index.
    Stage(usize),
    File,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pragma {
    pub tool: Tool,
    pub scope: Scope,
    /// As written (`DL3015`, `run-cleanup/apt-lists`, `LegacyKeyValueFormat`, `all`).
    pub codes: Vec<String>,
    /// The comment line, without its terminator.
    pub range: Range<usize>,
}

impl Pragma {
    /// Whether this pragma names `check`, by what its tool's names can say.
    pub fn suppresses(&self, check: &Check) -> bool {
        self.codes.iter().any(|code| match self.tool {
            Tool::Dockopt => check.matches(code),
            Tool::Hadolint => check.hadolint.iter().any(|h| h.eq_ignore_ascii_case(code)),
            Tool::BuildKit => (code == "all" && !check.buildkit.is_empty()) || check.buildkit.contains(&code.as_str()),
        })
    }

    /// The same codes, said the same way: the two hold for the same checks.
    fn same_as(&self, other: &Pragma) -> bool {
        let normal = |p: &Pragma| {
            let mut codes: Vec<String> = p.codes.iter().map(|c| c.to_ascii_uppercase()).collect();
            codes.sort();
            codes.dedup();
            (p.tool, codes)
        };
        normal(self) == normal(other)
    }
}

/// Something wrong with a pragma: reported, never fatal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    pub range: Range<usize>,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Pragmas {
    pub list: Vec<Pragma>,
    /// Per instruction: where its comment block starts, when that block holds a pragma.
    block_start: Vec<Option<usize>>,
    pub warnings: Vec<Warning>,
}

impl Pragmas {
    pub fn parse(file: &Dockerfile) -> Pragmas {
        let mut out = Pragmas { block_start: vec![None; file.instructions.len()], ..Pragmas::default() };
        for directive in file.directives.iter().filter(|d| d.name == "check") {
            out.read_check_directive(&directive.value, directive.span.clone());
        }
        // Comment lines since the last instruction or blank line: the block above the next one.
        let mut block: Vec<Range<usize>> = Vec::new();
        for item in &file.items {
            match item.kind {
                ItemKind::Comment => {
                    let text = &file.source[item.span.clone()];
                    let line = text.trim_end_matches(['\n', '\r']);
                    block.push(item.span.start..item.span.start + line.len());
                }
                ItemKind::Instruction(index) => {
                    let start = block.first().map(|r| r.start);
                    for line in std::mem::take(&mut block) {
                        if out.read_comment(file, line, Some(index)) {
                            out.block_start[index] = start;
                        }
                    }
                }
                ItemKind::Blank | ItemKind::Directive(_) => {
                    for line in std::mem::take(&mut block) {
                        out.read_comment(file, line, None);
                    }
                }
            }
        }
        for line in block {
            out.read_comment(file, line, None);
        }
        out
    }

    /// Read one comment line; true when it is a pragma that holds for the instruction below it.
    fn read_comment(&mut self, file: &Dockerfile, line: Range<usize>, below: Option<usize>) -> bool {
        let text = &file.source[line.clone()];
        let Some(parsed) = parse_comment(text) else { return false };
        let (tool, kind, codes) = match parsed {
            Ok(parsed) => parsed,
            Err(message) => {
                self.warnings.push(Warning { range: line, message });
                return false;
            }
        };
        self.check_codes(tool, &codes, &line);
        let scope = match (kind, below) {
            (Kind::Global, _) => Scope::File,
            (Kind::Stage, Some(index)) if file.instructions[index].keyword == Keyword::From => {
                match file.stages.iter().find(|s| s.from == index) {
                    Some(stage) => Scope::Stage(stage.index),
                    None => return false,
                }
            }
            (Kind::Stage, _) => {
                self.warnings.push(Warning { range: line, message: format!("`{}`: a stage pragma goes right above a FROM; this one holds for nothing", text.trim()) });
                return false;
            }
            (Kind::Instruction, Some(index)) => Scope::Instruction(index),
            (Kind::Instruction, None) => {
                self.warnings.push(Warning {
                    range: line,
                    message: format!("`{}` holds for nothing: a pragma goes in the comment lines right above an instruction, with no blank line between", text.trim()),
                });
                return false;
            }
        };
        self.list.push(Pragma { tool, scope, codes, range: line });
        matches!(scope, Scope::Instruction(_) | Scope::Stage(_))
    }

    /// `skip=Rule,…` (or `skip=all`) of a `# check=` directive, as BuildKit's ParseLintOptions reads it.
    fn read_check_directive(&mut self, value: &str, span: Range<usize>) {
        for part in value.splitn(3, ';') {
            let Some((key, rules)) = part.split_once('=') else { continue };
            if key.trim() != "skip" {
                continue;
            }
            let rules = rules.trim();
            let codes: Vec<String> = if rules == "all" { vec!["all".into()] } else { rules.split(',').map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect() };
            self.check_codes(Tool::BuildKit, &codes, &span);
            self.list.push(Pragma { tool: Tool::BuildKit, scope: Scope::File, codes, range: span.clone() });
        }
    }

    /// A warning for each name its tool does not know.
    fn check_codes(&mut self, tool: Tool, codes: &[String], line: &Range<usize>) {
        for code in codes {
            let (known, candidates): (bool, Vec<&str>) = match tool {
                Tool::Dockopt => {
                    let transforms = checks::ALL.iter().map(|c| c.transform());
                    let known = code == "all" || checks::ALL.iter().any(|c| c.matches(code)) || checks::is_hadolint_code(code) || checks::BUILDKIT_CHECKS.contains(&code.as_str());
                    (known, checks::ALL.iter().map(|c| c.id).chain(transforms).collect())
                }
                Tool::Hadolint => (checks::is_hadolint_code(code), checks::HADOLINT_RULES.to_vec()),
                Tool::BuildKit => (code == "all" || checks::BUILDKIT_CHECKS.contains(&code.as_str()), checks::BUILDKIT_CHECKS.to_vec()),
            };
            if known {
                continue;
            }
            let what = match tool {
                Tool::Dockopt => "a dockopt check or transform",
                Tool::Hadolint => "a hadolint rule",
                Tool::BuildKit => "a BuildKit check",
            };
            let hint = checks::suggest(code, candidates).map(|close| format!(" (did you mean `{close}`?)")).unwrap_or_default();
            self.warnings.push(Warning { range: line.clone(), message: format!("`{code}` is not {what}{hint}; the pragma ignores nothing for it") });
        }
    }

    /// The pragma that suppresses `finding`, if any: one that names its check and holds where it
    /// is, or in an instruction its fix edits (a fix must not change what a pragma protects).
    pub fn suppressing(&self, file: &Dockerfile, finding: &Finding) -> Option<&Pragma> {
        if self.list.is_empty() {
            return None;
        }
        let mut instructions: Vec<usize> = at(file, finding.range.start).into_iter().collect();
        for edit in finding.fix.iter().flat_map(|fix| &fix.edits) {
            instructions.extend(file.instructions.iter().enumerate().filter(|(_, i)| touches(&i.span, &edit.range)).map(|(n, _)| n));
        }
        self.list.iter().find(|p| {
            p.suppresses(finding.check)
                && match p.scope {
                    Scope::File => true,
                    Scope::Instruction(index) => instructions.contains(&index),
                    Scope::Stage(stage) => file.stages.get(stage).is_some_and(|s| instructions.iter().any(|i| s.instructions.contains(i))),
                }
        })
    }

    /// Move an insertion of whole lines made right before a pragma's instruction (between the
    /// pragma and its instruction) to before the pragma's comment block: the inserted instructions
    /// come first, the pragma stays on its own.
    pub fn insert_above(&self, file: &Dockerfile, fix: &mut Fix) {
        if self.list.is_empty() {
            return;
        }
        let mut moved = false;
        for edit in &mut fix.edits {
            let whole_lines = edit.range.is_empty() && edit.replacement.ends_with('\n');
            if !whole_lines {
                continue;
            }
            // Instructions are in source order: a binary search, not a scan per edit.
            let below = file.instructions.binary_search_by_key(&edit.range.start, |i| i.span.start).ok();
            if let Some(start) = below.and_then(|i| self.block_start(i)) {
                edit.range = start..start;
                moved = true;
            }
        }
        if moved {
            fix.edits.sort_by_key(|e| (e.range.start, e.range.end));
        }
    }

    /// The pragma that `fix` would leave above another instruction than its own (or alter, or
    /// delete while its instruction stays), if any. Not displaced: a pragma deleted together with
    /// its instruction (the later of two merged RUNs under the same pragma), and one written again
    /// with its instruction where the fix moves it (multi-stage's runtime stage).
    pub fn displaced_by(&self, file: &Dockerfile, fix: &Fix) -> Option<&Pragma> {
        self.list.iter().find(|pragma| {
            let index = match pragma.scope {
                Scope::Instruction(index) => index,
                Scope::Stage(stage) => file.stages[stage].from,
                Scope::File => return false,
            };
            let inst = &file.instructions[index];
            let keyword = inst.keyword_span.start;
            let pragma_text = file.text(pragma.range.clone()).trim();
            let elsewhere = |e: &&Edit| e.range.end <= inst.span.start || inst.span.end <= e.range.start;
            // The instruction's keyword is replaced (`ADD` → `COPY`) or gone (deleted, joined).
            let rewritten = fix.edits.iter().any(|e| e.range.start <= keyword && keyword < e.range.end);
            let removed = fix.edits.iter().any(|e| {
                (e.range.start < keyword && keyword < e.range.end)
                    || (e.range.start == keyword && e.range.end > keyword && !e.replacement.starts_with(|c: char| c.is_ascii_alphabetic()))
            });
            if rewritten {
                let written = &file.source[inst.keyword_span.clone()];
                if fix.edits.iter().filter(elsewhere).any(|e| pragma_above_keyword(&e.replacement, pragma_text, written)) {
                    return false;
                }
                let head = file.text(inst.head_range()).trim();
                if removed || fix.edits.iter().filter(elsewhere).any(|e| e.replacement.contains(head)) {
                    // Gone, or written again elsewhere without it: the pragma may only go too.
                    let covered = fix.edits.iter().any(|e| e.range.start <= pragma.range.start && pragma.range.end <= e.range.end);
                    let kept = fix.edits.iter().any(|e| e.replacement.contains(pragma_text));
                    return !covered || kept || !removed;
                }
            }
            // Split in two (a line starting an instruction written inside it): the pragma must be
            // written above the new instruction too.
            let inside = |e: &&Edit| keyword < e.range.start && e.range.start < inst.span.end;
            let written = &file.source[inst.keyword_span.clone()];
            let split = fix.edits.iter().filter(inside).filter(|e| starts_instruction(&e.replacement, file.escape, inst.keyword));
            if split.clone().next().is_some() && !split.clone().any(|e| pragma_above_keyword(&e.replacement, pragma_text, written)) {
                return true;
            }
            let before = |e: &Edit| e.range.start < inst.span.start || (e.range.start == inst.span.start && e.range.is_empty());
            let lines_between = fix.edits.iter().any(|e| e.replacement.contains('\n') && pragma.range.start < e.range.start && before(e));
            let overlapping = fix.edits.iter().any(|e| e.range.start < pragma.range.end && pragma.range.start < e.range.end);
            overlapping || lines_between
        })
    }

    /// The edit that suppresses `check` at the instruction holding `offset` ("ignore this check
    /// here"): the check added to a `# dockopt ignore=` line already right above the instruction,
    /// else that line inserted right above it, with the instruction's indentation and the file's
    /// line ending. `None` when no instruction holds `offset`.
    pub fn ignore_edit(&self, file: &Dockerfile, check: &Check, offset: usize) -> Option<Edit> {
        let index = at(file, offset)?;
        let own = self.above(index).find(|p| p.tool == Tool::Dockopt);
        if let Some(pragma) = own {
            if pragma.suppresses(check) {
                return None;
            }
            // After the last code, before blanks and a trailing `# comment`.
            let text = file.text(pragma.range.clone());
            let list_start = text.find('=').map_or(text.len(), |i| i + 1);
            let list = text[list_start..].split('#').next().unwrap_or_default().trim_end();
            let end = pragma.range.start + list_start + list.len();
            return Some(Edit::insert(end, format!(",{}", check.id)));
        }
        let inst = &file.instructions[index];
        let indent: String = file.source[inst.span.start..inst.keyword_span.start].chars().take_while(|c| *c == ' ' || *c == '\t').collect();
        Some(Edit::insert(inst.span.start, format!("{indent}# dockopt ignore={}{}", check.id, file.newline())))
    }

    /// Where the comment block above instruction `index` starts when it holds a pragma for it:
    /// what is inserted before the instruction goes before that, never between a pragma and its
    /// instruction.
    pub fn block_start(&self, index: usize) -> Option<usize> {
        self.block_start.get(index).copied().flatten()
    }

    /// The pragmas written above instruction `index` (or its FROM's stage pragmas, for a FROM).
    pub fn above(&self, index: usize) -> impl Iterator<Item = &Pragma> {
        self.list.iter().filter(move |p| p.scope == Scope::Instruction(index))
    }

    /// Whether instructions `a` and `b` carry the same pragmas (both none, or the same codes of
    /// the same tools): one may take the other's place under them.
    pub fn same_above(&self, a: usize, b: usize) -> bool {
        let left: Vec<&Pragma> = self.above(a).collect();
        let right: Vec<&Pragma> = self.above(b).collect();
        left.len() == right.len() && left.iter().all(|p| right.iter().any(|q| p.same_as(q)))
    }
}

/// Whether `text` has the line `pragma` in the comment lines right above a line that starts with
/// the keyword `keyword` (any case).
fn pragma_above_keyword(text: &str, pragma: &str, keyword: &str) -> bool {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    lines.iter().enumerate().any(|(n, line)| {
        let is_keyword = line.split_whitespace().next().is_some_and(|w| w.eq_ignore_ascii_case(keyword));
        is_keyword && lines[..n].iter().rev().take_while(|l| l.starts_with('#')).any(|l| *l == pragma)
    })
}

/// Whether a line of `text` after its first starts a `keyword` instruction: it starts with the
/// keyword and does not continue a line ending with `escape`.
fn starts_instruction(text: &str, escape: char, keyword: Keyword) -> bool {
    let mut lines = text.split('\n');
    let Some(mut previous) = lines.next() else { return false };
    for line in lines {
        let word = line.split_whitespace().next().unwrap_or_default();
        let continued = previous.trim_end_matches('\r').trim_end().ends_with(escape);
        if !continued && Keyword::from_word(word) == Some(keyword) {
            return true;
        }
        previous = line;
    }
    false
}

/// The instruction whose text holds `offset`.
fn at(file: &Dockerfile, offset: usize) -> Option<usize> {
    // Instructions are in source order and do not overlap.
    let last_starting_before = file.instructions.partition_point(|i| i.span.start <= offset).checked_sub(1)?;
    (offset < file.instructions[last_starting_before].span.end).then_some(last_starting_before)
}

/// Whether an edit over `edit` changes the instruction spanning `span`: it overlaps it, or inserts
/// inside it.
fn touches(span: &Range<usize>, edit: &Range<usize>) -> bool {
    if edit.is_empty() {
        span.start < edit.start && edit.start < span.end
    } else {
        edit.start < span.end && span.start < edit.end
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Instruction,
    Stage,
    Global,
}

/// A comment line as a pragma: `None` when it is not one; `Err` when it means to be one (a tool's
/// name, then `ignore`) but does not parse.
fn parse_comment(text: &str) -> Option<Result<(Tool, Kind, Vec<String>), String>> {
    let is_space = |c: char| c == ' ' || c == '\t';
    let rest = text.trim_start_matches(is_space).strip_prefix('#')?.trim_start_matches(is_space);
    let (tool, rest) = if let Some(rest) = rest.strip_prefix("dockopt") {
        (Tool::Dockopt, rest)
    } else {
        (Tool::Hadolint, rest.strip_prefix("hadolint")?)
    };
    if !rest.starts_with(is_space) {
        return None;
    }
    let rest = rest.trim_start_matches(is_space);
    let (kind, rest) = match (keyword(rest, "global"), keyword(rest, "stage")) {
        (Some(r), _) => (Kind::Global, r),
        (_, Some(r)) => (Kind::Stage, r),
        _ => (Kind::Instruction, rest),
    };
    // Not a suppression (`# hadolint shell=bash`, prose): not a pragma of ours.
    let rest = rest.strip_prefix("ignore")?;
    let malformed = || Some(Err(format!("`{}` is not a pragma dockopt can read: write `# {} ignore=CODE[,CODE…]`", text.trim(), if tool == Tool::Dockopt { "dockopt" } else { "hadolint" })));
    let Some(list) = rest.trim_start_matches(is_space).strip_prefix('=') else { return malformed() };
    let list = list.split_once('#').map_or(list, |(codes, _comment)| codes);
    let codes: Vec<String> = list.split(',').map(|c| c.trim_matches(is_space).to_string()).collect();
    if codes.iter().any(|c| c.is_empty() || c.contains(is_space)) {
        return malformed();
    }
    Some(Ok((tool, kind, codes)))
}

/// `text` after the word `w` and the blanks that must follow it.
fn keyword<'t>(text: &'t str, w: &str) -> Option<&'t str> {
    let is_space = |c: char| c == ' ' || c == '\t';
    text.strip_prefix(w).filter(|r| r.starts_with(is_space)).map(|r| r.trim_start_matches(is_space))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    fn pragmas(text: &str) -> (Dockerfile, Pragmas) {
        let file = parse(text).unwrap();
        let pragmas = Pragmas::parse(&file);
        (file, pragmas)
    }

    #[test]
    fn the_grammar_is_hadolints() {
        let ok = |text: &str| parse_comment(text).unwrap().unwrap();
        assert_eq!(ok("# hadolint ignore=DL3008,DL3015"), (Tool::Hadolint, Kind::Instruction, vec!["DL3008".into(), "DL3015".into()]));
        assert_eq!(ok("  #hadolint   global ignore = DL3008 , SC2086  # why"), (Tool::Hadolint, Kind::Global, vec!["DL3008".into(), "SC2086".into()]));
        assert_eq!(ok("# dockopt ignore=run-cleanup/apt-lists,merge-runs"), (Tool::Dockopt, Kind::Instruction, vec!["run-cleanup/apt-lists".into(), "merge-runs".into()]));
        assert_eq!(ok("# dockopt stage ignore=multi-stage").1, Kind::Stage);
        for not in ["# hadolint shell=bash", "# hadolinted", "# dockopt rewrote this", "RUN x", "# ignore=DL3008"] {
            assert!(parse_comment(not).is_none(), "{not}");
        }
        for bad in ["# hadolint ignore DL3008", "# dockopt ignore=", "# dockopt ignore=a,,b", "# dockopt ignore=a b"] {
            assert!(parse_comment(bad).unwrap().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_pragma_holds_for_the_instruction_below_its_comment_block() {
        let (file, p) = pragmas("FROM a\n# install\n# hadolint ignore=DL3015\n# more\nRUN x\n# hadolint ignore=DL3009\n\nRUN y\n");
        assert_eq!(p.list.len(), 1);
        assert_eq!(p.list[0].scope, Scope::Instruction(1));
        assert_eq!(p.block_start(1), Some(file.source.find("# install").unwrap()));
        assert_eq!(p.block_start(2), None);
        // The one above a blank line holds for nothing, and says so.
        assert_eq!(p.warnings.len(), 1);
        assert!(p.warnings[0].message.contains("holds for nothing"), "{:?}", p.warnings);
    }

    #[test]
    fn codes_map_through_the_registry() {
        let (_, p) = pragmas("# check=skip=LegacyKeyValueFormat\n# hadolint global ignore=DL3059\nFROM a\n# dockopt ignore=DL3015,run-cleanup/apt-lists\nRUN x\n");
        let [skip, global, own] = p.list.as_slice() else { panic!("{:?}", p.list) };
        assert!(skip.suppresses(&checks::MODERNIZE_LEGACY_ENV) && !skip.suppresses(&checks::MODERNIZE_MAINTAINER));
        assert!(global.suppresses(&checks::MERGE_RUNS_CONSECUTIVE) && global.scope == Scope::File);
        assert!(own.suppresses(&checks::RUN_CLEANUP_NO_INSTALL_RECOMMENDS) && own.suppresses(&checks::RUN_CLEANUP_APT_LISTS));
        assert!(!own.suppresses(&checks::RUN_CLEANUP_ASSUME_YES));
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }

    #[test]
    fn unknown_codes_are_warnings_with_a_suggestion() {
        let (_, p) = pragmas("# check=skip=LegacyKeyValueFormt\nFROM a\n# hadolint ignore=DL3O15,DL3008\n# dockopt ignore=run-cleanup/apt-list\nRUN x\n");
        let messages: Vec<&str> = p.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].contains("`LegacyKeyValueFormt` is not a BuildKit check (did you mean `LegacyKeyValueFormat`?)"), "{messages:?}");
        assert!(messages[1].contains("`DL3O15` is not a hadolint rule (did you mean `DL3015`?)"), "{messages:?}");
        assert!(messages[2].contains("(did you mean `run-cleanup/apt-lists`?)"), "{messages:?}");
        // The known names still hold.
        assert_eq!(p.list.len(), 3);
    }

    #[test]
    fn fixes_that_would_part_a_pragma_from_its_instruction_are_told() {
        let source = "FROM a\n# hadolint ignore=DL3008\nRUN x\nRUN y\n";
        let (file, p) = pragmas(source);
        let at = |s: &str| source.find(s).unwrap();
        let line = |s: &str| at(s)..at(s) + s.len() + 1;
        let displaced = |edits: Vec<Edit>| p.displaced_by(&file, &Fix::safe("t", edits)).is_some();
        // Deleting the RUN, or joining it to another, leaves the pragma above something else.
        assert!(displaced(vec![Edit::delete(line("RUN x"))]));
        assert!(displaced(vec![Edit::replace(at("\nRUN x")..at("RUN x") + 3, " && \\\n   ")]));
        // Inserting a line between them, or rewriting the pragma, parts them too.
        assert!(displaced(vec![Edit::insert(at("RUN x"), "COPY a .\n")]));
        assert!(displaced(vec![Edit::replace(at("DL3008")..at("DL3008") + 6, "DL3009")]));
        // Editing the instruction itself, its keyword included, or what follows it, does not.
        assert!(!displaced(vec![Edit::insert(at("RUN x") + 5, " && z")]));
        assert!(!displaced(vec![Edit::replace(at("RUN x")..at("RUN x") + 3, "run")]));
        assert!(!displaced(vec![Edit::delete(line("RUN y"))]));
        // Moving the instruction (rewritten here, written again below) leaves the pragma behind.
        assert!(displaced(vec![Edit::replace(at("RUN x")..at("RUN x") + 5, "RUN w"), Edit::insert(at("RUN y") + 6, "RUN x\n")]));
        // Moved with its pragma (written again elsewhere, the pragma right above it): kept together.
        assert!(!displaced(vec![Edit::delete(at("# hadolint")..at("RUN y")), Edit::insert(source.len(), "# hadolint ignore=DL3008\nRUN x\n")]));
        assert!(displaced(vec![Edit::delete(at("# hadolint")..at("RUN y")), Edit::insert(source.len(), "# hadolint ignore=DL3008\nCOPY x\nRUN x\n")]));
        // Split in two: the pragma must be written above the second part too.
        let split = |text: &str| vec![Edit::replace(at(" x\nRUN y") + 2..at(" x\nRUN y") + 2, text)];
        assert!(displaced(split("\nCOPY a .\nRUN z\n")));
        assert!(!displaced(split("\nCOPY a .\n# hadolint ignore=DL3008\nRUN z\n")));
        assert!(!displaced(split(" \\\n    && env A=1 z\n")));
        // A pragma deleted with its instruction goes with it.
        assert!(!displaced(vec![Edit::delete(at("# hadolint")..at("RUN y"))]));
        // An insertion right before the instruction moves above the pragma.
        let mut fix = Fix::safe("t", vec![Edit::insert(at("RUN x"), "COPY a .\n")]);
        p.insert_above(&file, &mut fix);
        assert_eq!(fix.edits[0].range, at("# hadolint")..at("# hadolint"));
        assert!(p.displaced_by(&file, &fix).is_none());
    }

    #[test]
    fn ignore_here_writes_or_extends_the_pragma_above_the_instruction() {
        let source = "FROM a\r\n  RUN x \\\r\n    y\r\n# dockopt ignore=merge-runs # ok\r\nRUN z\r\n";
        let (file, p) = pragmas(source);
        let at = |s: &str| source.find(s).unwrap();
        let edit = p.ignore_edit(&file, &checks::RUN_CLEANUP_APT_LISTS, at("y")).unwrap();
        assert_eq!(edit, Edit::insert(at("  RUN x"), "  # dockopt ignore=run-cleanup/apt-lists\r\n"));
        let edit = p.ignore_edit(&file, &checks::RUN_CLEANUP_APT_LISTS, at("RUN z")).unwrap();
        assert_eq!(edit, Edit::insert(at(" # ok"), ",run-cleanup/apt-lists"));
        assert_eq!(p.ignore_edit(&file, &checks::MERGE_RUNS_CONSECUTIVE, at("RUN z")), None);
    }

    #[test]
    fn stage_pragmas_hold_for_their_stage() {
        let (file, p) = pragmas("# hadolint stage ignore=DL3059\nFROM a AS build\nRUN x\nFROM b\nRUN y\n");
        assert_eq!(p.list[0].scope, Scope::Stage(0));
        let finding = |at: &str| Finding::new(&checks::MERGE_RUNS_CONSECUTIVE, file.source.find(at).unwrap()..file.source.find(at).unwrap() + 3, "m");
        assert!(p.suppressing(&file, &finding("RUN x")).is_some());
        assert!(p.suppressing(&file, &finding("RUN y")).is_none());
    }
}
