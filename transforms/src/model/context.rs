//! What COPY, ADD and RUN bind mounts take, and from where: the build context, another stage or an
//! image. Context paths are resolved as BuildKit resolves them: relative to the context's root,
//! where `..` cannot climb out (`COPY .. .`, `COPY src/.. .` and `COPY ./. .` all take the root).

use super::matcher::clean;
use super::paths::Dir;
use super::stages::Model;
use crate::syntax::{expand, split_words, unquote, Dockerfile, Instruction, Keyword, Var};

/// One thing an instruction takes: the sources of a COPY/ADD, or one `RUN --mount`.
#[derive(Debug, Clone)]
pub struct Read {
    pub instruction: usize,
    pub from: From,
    /// For the build context: the paths, cleaned and relative to its root (`""` is the root).
    /// For a stage or an image: the paths as written.
    pub sources: Vec<Source>,
    /// `--exclude` patterns (COPY/ADD).
    pub excludes: Vec<String>,
    /// `--parents`: the sources keep their folders under the destination.
    pub parents: bool,
    /// The destination (or the mount's target) as written, variables expanded where known.
    pub dest: String,
    /// Where `dest` lands in the image, when that can be followed.
    pub dest_dir: Option<Dir>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    Context,
    Stage(usize),
    /// `--from=<image>`, or a reference that names no stage.
    Image,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: String,
    /// A wildcard, or variables not known here (read as wildcards: `$DIR` as `**`, `app-$V` as
    /// `*`): it matches context paths rather than naming one.
    pub glob: bool,
    /// It had variables that could not be expanded.
    pub variable: bool,
    /// Written with variables: the path with each of them read as a wildcard, whatever the
    /// Dockerfile sets them to (what a `.dockerignore` must leave alone to stay safe when they change).
    pub written: Option<String>,
}

impl Source {
    /// Whether it takes everything: the root, or `*`/`**` at the root.
    pub fn is_root(&self) -> bool {
        self.path.is_empty() || (!self.variable && matches!(self.path.as_str(), "*" | "**"))
    }
}

impl Read {
    /// Whether it takes the whole build context (`--exclude` patterns aside).
    pub fn whole(&self) -> bool {
        self.from == From::Context && self.sources.iter().any(Source::is_root)
    }
}

pub(super) fn reads(file: &Dockerfile, model: &Model) -> Vec<Read> {
    let mut out = Vec::new();
    for stage in &file.stages {
        for index in stage.instructions.clone() {
            let inst = &file.instructions[index];
            match inst.keyword {
                Keyword::Copy | Keyword::Add => out.extend(copy(file, model, stage.index, index, inst)),
                Keyword::Run => out.extend(mounts(file, model, stage.index, index, inst)),
                _ => {}
            }
        }
    }
    out
}

fn copy(file: &Dockerfile, model: &Model, stage: usize, index: usize, inst: &Instruction) -> Option<Read> {
    // JSON form: the strings as they are; shell form: words as written (quotes and escapes).
    let (words, escape): (Vec<String>, Option<char>) = match &inst.exec {
        Some(list) => (list.clone(), None),
        None => (split_words(inst.args_text(), file.escape).into_iter().map(|w| w.raw).collect(), Some(file.escape)),
    };
    let (dest, sources) = words.split_last().filter(|(_, s)| !s.is_empty())?;
    let from = match inst.flag("from").and_then(|f| f.value.as_deref()) {
        Some(reference) => origin(file, model, stage, index, reference),
        None => From::Context,
    };
    let add = inst.keyword == Keyword::Add;
    let sources = sources
        .iter()
        // Heredoc bodies, URLs and git repositories are not read from the context.
        .filter(|s| !s.starts_with("<<") && !(add && (s.contains("://") || s.starts_with("git@"))))
        .map(|s| source(file, model, index, s, escape, from))
        .collect();
    let excludes = inst.flags.iter().filter(|f| f.name == "exclude").filter_map(|f| f.value.clone()).collect();
    let dest = model.expand(dest, index, escape);
    let dest_dir = if dest.unknown.is_none() { model.workdir(index).and_then(|d| d.join(&dest.text)) } else { None };
    Some(Read {
        instruction: index,
        from,
        sources,
        excludes,
        parents: inst.flag("parents").is_some_and(|f| f.value.as_deref() != Some("false")),
        dest: dest.text,
        dest_dir,
    })
}

/// A `COPY`/`ADD` source (or a bind mount's) as the path it names.
fn source(file: &Dockerfile, model: &Model, index: usize, raw: &str, escape: Option<char>, from: From) -> Source {
    let expanded = model.expand(raw, index, escape);
    let variable = expanded.unknown.is_some();
    if from != From::Context {
        return Source { glob: variable || expanded.text.contains(['*', '?', '[']), path: expanded.text, variable, written: None };
    }
    let path = |text: &str, wildcards: bool| {
        // A Windows Dockerfile (``# escape=` ``) writes its context paths with backslashes.
        let text = if file.escape == '`' { text.replace('\\', "/") } else { text.to_string() };
        let text = if wildcards { variables_as_wildcards(&text) } else { text };
        // BuildKit joins the source to the context's root: `..` stops there.
        clean(&format!("/{text}")).trim_start_matches('/').to_string()
    };
    let written = raw.contains('$').then(|| {
        let unquoted = match escape {
            Some(escape) => unquote(raw, escape),
            None => raw.to_string(),
        };
        path(&unquoted, true)
    });
    let path = path(&expanded.text, variable);
    Source { glob: path.contains(['*', '?', '[']), path, variable, written }
}

/// The stage or image a `--from` names.
fn origin(file: &Dockerfile, model: &Model, stage: usize, index: usize, reference: &str) -> From {
    let expanded = model.expand(reference, index, None);
    match model.stage_named(file, &expanded.text, stage) {
        Some(s) => From::Stage(s),
        None => From::Image,
    }
}

/// The `--mount`s of a RUN that take something: bind mounts (of the context, or `from=` a stage
/// or image) and `from=` seeds of other mount types.
fn mounts(file: &Dockerfile, model: &Model, stage: usize, index: usize, inst: &Instruction) -> Vec<Read> {
    let mut out = Vec::new();
    for value in inst.flags.iter().filter(|f| f.name == "mount").filter_map(|f| f.value.as_deref()) {
        let mut kind = "bind".to_string();
        let (mut source, mut from, mut target) = (None, None, String::new());
        for field in value.split(',') {
            let (key, val) = field.split_once('=').unwrap_or((field, ""));
            let val = val.trim_matches(|c| c == '"' || c == '\'');
            match key.trim().to_ascii_lowercase().as_str() {
                "type" => kind = val.to_ascii_lowercase(),
                "source" | "src" => source = Some(val.to_string()),
                "from" => from = Some(val.to_string()),
                "target" | "dst" | "destination" => target = val.to_string(),
                _ => {}
            }
        }
        let origin = match &from {
            Some(reference) => origin(file, model, stage, index, reference),
            None if kind == "bind" => From::Context,
            None => continue,
        };
        let source = source.unwrap_or_else(|| ".".to_string());
        let dest_dir = model.workdir(index).and_then(|d| d.join(&target));
        out.push(Read {
            instruction: index,
            from: origin,
            sources: vec![self::source(file, model, index, &source, None, origin)],
            excludes: Vec::new(),
            parents: false,
            dest: target,
            dest_dir,
        });
    }
    out
}

/// A path with variables as a wildcard: a component that is only variables (`$DIR`) may hold
/// several components and becomes `**`; one that mixes text and variables (`app-$V.jar`) becomes
/// `*`. Whatever the variables hold, the wildcard matches at least as much.
fn variables_as_wildcards(text: &str) -> String {
    const MARK: char = '\u{0}';
    let marked = expand(text, None, &|_| Var::Value(MARK.to_string())).text;
    let component = |c: &str| match c.replace(MARK, "") {
        _ if !c.contains([MARK, '$']) => c.to_string(),
        // Left as written (`${V%.*}`): read as any folders too.
        rest if rest.is_empty() || rest.contains('$') => "**".to_string(),
        _ => "*".to_string(),
    };
    marked.split('/').map(component).collect::<Vec<_>>().join("/")
}
