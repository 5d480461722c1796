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
    /// The build context directory (see `Job::context_dir`).
    pub context_dir: Option<PathBuf>,
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
            Ok(outcome) => outcome.error.as_ref().map(|e| (e.clone(), None)),
        }
    }

    /// Whether this file failed: unreadable, unparseable, or the fix loop failed.
    pub fn is_error(&self) -> bool {
        match &self.result {
            Ok(outcome) => outcome.error.is_some(),
            Err(_) => true,
        }
    }
}

/// Read the input, run the engine and, with `write`, write a changed file back (atomically).
pub fn process(job: &Job, write: bool) -> FileReport {
    let mut report = FileReport {
        display: job.display.clone(),
        path: None,
        source: None,
        result: Err(FileError::Io(String::new())),
        unsafe_enabled: job.settings.unsafe_fixes,
        written: false,
        context_dir: job.context_dir.clone(),
    };
    let source = match &job.input {
        Input::File(path) => {
            report.path = Some(path.clone());
            crate::io::read_file(path)
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
    if write {
        if let (Ok(outcome), Some(path)) = (&report.result, &report.path) {
            if outcome.error.is_none() && outcome.changed(&source) {
                match crate::io::write_atomic(path, &outcome.text) {
                    Ok(()) => report.written = true,
                    Err(message) => report.result = Err(FileError::Io(message)),
                }
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
