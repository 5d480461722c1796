//! Running the engine on one input: read, optimize (a panic is contained to its file), write.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;

use transforms::{Context, Outcome, Settings};

use crate::error::FileError;

/// Where a job's text comes from.
#[derive(Debug, Clone)]
pub enum Input {
    File(PathBuf),
    /// Already read from stdin (or failed to be).
    Stdin(Result<String, String>),
}

#[derive(Debug, Clone)]
pub struct Job {
    /// The name in messages and diff headers.
    pub display: String,
    pub input: Input,
    pub settings: Arc<Settings>,
    pub context: Arc<Context>,
    /// The build context directory: where proposed extra files (`Outcome::artifacts`) go.
    /// `None` for stdin (no extra files are written).
    pub context_dir: Option<PathBuf>,
}

/// What happened to one input.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub display: String,
    /// The file to write back to (`None` for stdin).
    pub path: Option<PathBuf>,
    /// The original text, when it could be read.
    pub source: Option<String>,
    pub result: Result<Outcome, FileError>,
    pub unsafe_enabled: bool,
    /// Whether the result was written to `path`.
    pub written: bool,
    /// Why a result `fix` had ready was not written to `path` (`read-only file`, …).
    pub write_error: Option<String>,
    /// The build context directory (see `Job::context_dir`).
    pub context_dir: Option<PathBuf>,
    /// Without `--unsafe`: the transform of each finding `fix --unsafe` removes, from a second run
    /// of the engine with Unsafe fixes on. What `check` counts as "more with `--unsafe`" is then
    /// what that command does, fixes that only Unsafe fixes make possible (a later pass) included.
    pub fixed_with_unsafe: Option<Vec<&'static str>>,
}

impl FileReport {
    /// Whether `fix` would change (or changed) the file.
    pub fn changed(&self) -> bool {
        match (&self.result, &self.source) {
            (Ok(outcome), Some(source)) => outcome.error.is_none() && outcome.changed(source),
            _ => false,
        }
    }

    /// The error's message (without the file name) and its 1-based line and column when known.
    pub fn error_message(&self) -> Option<(String, Option<(usize, usize)>)> {
        match &self.result {
            Err(error) => Some((error.message(), error.position())),
            Ok(outcome) => outcome.error.as_ref().map(|e| (e.message.clone(), Some((e.line, e.column)))),
        }
    }

    /// Whether this file failed: unreadable, unparseable, the fix loop failed, or its result could
    /// not be written.
    pub fn is_error(&self) -> bool {
        if self.write_error.is_some() {
            return true;
        }
        match &self.result {
            Ok(outcome) => outcome.error.is_some(),
            Err(_) => true,
        }
    }
}

/// Read the input, run the engine and, with `write`, write a changed file back (see `crate::io`:
/// the file is held locked against other dockopt runs from the read to the write).
pub fn process(job: &Job, write: bool) -> FileReport {
    let mut report = FileReport {
        display: job.display.clone(),
        path: None,
        source: None,
        result: Err(FileError::Io(String::new())),
        unsafe_enabled: job.settings.unsafe_fixes,
        written: false,
        write_error: None,
        context_dir: job.context_dir.clone(),
        fixed_with_unsafe: None,
    };
    let mut held = None;
    let source = match &job.input {
        Input::File(path) => {
            report.path = Some(path.clone());
            if write {
                crate::io::Held::open(path).and_then(|file| {
                    let text = file.text();
                    held = Some(file);
                    text
                })
            } else {
                crate::io::read_file(path)
            }
        }
        Input::Stdin(text) => text.clone(),
    };
    let source = match source {
        Ok(source) => source,
        Err(message) => {
            report.result = Err(FileError::Io(message));
            return report;
        }
    };
    report.result = optimize_contained(&source, &job.context, &job.settings);
    if !job.settings.unsafe_fixes && report.result.is_ok() {
        let settings = Settings { unsafe_fixes: true, ..(*job.settings).clone() };
        let fixed = match optimize_contained(&source, &job.context, &settings) {
            Ok(outcome) if outcome.error.is_none() => crate::render::removed_by_fix(&outcome, true).map(|f| f.finding.transform).collect(),
            // `fix --unsafe` would leave the file as it is.
            _ => Vec::new(),
        };
        report.fixed_with_unsafe = Some(fixed);
    }
    if let (Ok(outcome), Some(file)) = (&report.result, &held) {
        if outcome.error.is_none() && outcome.changed(&source) {
            match file.replace(&outcome.text) {
                // `AlreadyThere`: another dockopt run wrote this very result meanwhile.
                Ok(crate::io::Written::Yes | crate::io::Written::AlreadyThere) => {
                    report.written = true
                }
                Err(reason) => report.write_error = Some(reason),
            }
        }
    }
    report.source = Some(source);
    report
}

/// `transforms::optimize`, with a panic turned into an error for this file only.
pub fn optimize_contained(
    source: &str,
    context: &Context,
    settings: &Settings,
) -> Result<Outcome, FileError> {
    match catch_unwind(AssertUnwindSafe(|| {
        transforms::optimize(source, context, settings)
    })) {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(syntax)) => Err(FileError::Syntax(syntax)),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a transform panicked".to_string());
            Err(FileError::Internal(message))
        }
    }
}
