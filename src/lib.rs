//! dockopt's command line: arguments, config and file discovery, reading and atomic writing, output.
//! The engine is the `transforms` crate; this crate only feeds it files and prints what it says.

pub mod artifacts;
pub mod bases;
pub mod cli;
pub mod config;
pub mod discover;
pub mod editorconfig;
pub mod error;
pub mod format;
pub mod io;
pub mod lsp;
pub mod markdown;
pub mod process;
pub mod progress;
pub mod render;
pub mod sarif;
pub mod verify;

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Parser;
use rayon::prelude::*;
use transforms::{Context, Settings};

use crate::artifacts::Plan;
use crate::cli::{Cli, Command, Common, FailOn, Format};
use crate::config::{Discovery, Loaded};
use crate::error::FileError;
use crate::process::{FileReport, Input, Job};
use crate::render::{plural, Style, Summary};

/// Exit codes (the public contract).
pub const EXIT_OK: i32 = 0;
pub const EXIT_CHANGES: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

/// Run the CLI with `args` (the program name first) and return the exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    match cli.command {
        Command::Transforms { checks } => {
            out(&if checks {
                render::checks_table()
            } else {
                render::transforms_table()
            });
            EXIT_OK
        }
        Command::Explain { name } => explain(&name),
        Command::Diff(args) => run_files(
            Mode::Diff,
            &args.common,
            Options {
                outputs: args.outputs,
                ..Options::new(args.format)
            },
        ),
        Command::Check(args) => run_files(
            Mode::Check,
            &args.common,
            Options {
                outputs: args.outputs,
                fail_on: args.fail_on,
                show_suppressed: args.show_suppressed,
                ..Options::new(args.format)
            },
        ),
        Command::Fix(args) => run_files(
            Mode::Fix,
            &args.common,
            Options {
                verbose: args.verbose,
                ..Options::new(Format::Text)
            },
        ),
        Command::Format(args) => format::run(&args),
        Command::Lsp { .. } => lsp::run(),
        Command::Verify(args) => verify::run(&args),
        Command::Bases(args) => bases::run(&args),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Diff,
    Fix,
    Check,
}

/// How a run reports: the output format, what makes `check` exit 1, how much `fix -` says.
#[derive(Debug, Clone)]
struct Options {
    format: Format,
    /// `--output FORMAT=PATH`: the same run in other formats.
    outputs: Vec<cli::Output>,
    fail_on: FailOn,
    verbose: bool,
    /// `check --show-suppressed`: also list the findings pragmas suppress.
    show_suppressed: bool,
}

impl Options {
    fn new(format: Format) -> Self {
        Options {
            format,
            outputs: Vec::new(),
            fail_on: FailOn::Any,
            verbose: false,
            show_suppressed: false,
        }
    }
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Diff => "diff",
            Mode::Fix => "fix",
            Mode::Check => "check",
        }
    }
}

fn explain(name: &str) -> i32 {
    match transforms::catalog::explain(name) {
        Some(doc) => {
            out(&doc);
            EXIT_OK
        }
        None => {
            let error = transforms::check_selector(name, transforms::Selector::Select)
                .err()
                .unwrap_or_else(|| format!("nothing to explain for `{name}`"));
            eprintln!("{error}");
            EXIT_ERROR
        }
    }
}

/// Write to stdout; a closed pipe (`dockopt diff | head`) is not an error worth a panic.
pub(crate) fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

fn run_files(mode: Mode, flags: &Common, options: Options) -> i32 {
    if let Err(e) = config::validate_flags(flags) {
        eprintln!("{e}");
        return EXIT_ERROR;
    }
    let stdin = flags.paths.iter().any(|p| p.as_os_str() == "-");
    if stdin && flags.paths.len() > 1 {
        eprintln!("`-` (stdin) cannot be combined with other paths");
        return EXIT_ERROR;
    }
    if let Some(dir) = &flags.context {
        if !dir.is_dir() {
            eprintln!("--context {}: not a directory", dir.display());
            return EXIT_ERROR;
        }
    }
    let mut discovery = Discovery::default();
    let jobs = if stdin {
        stdin_job(flags, &mut discovery).map(|jobs| (jobs, Vec::new()))
    } else {
        file_jobs(flags, &mut discovery)
    };
    let (mut jobs, path_errors) = match jobs {
        Ok(jobs) => jobs,
        Err(errors) => {
            for e in errors {
                eprint!("{}", ensure_newline(e));
            }
            return EXIT_ERROR;
        }
    };
    editorconfig::apply(&mut jobs, flags.stdin_filename.as_deref());

    // `check` says which config it read (a `dockopt.toml`, or hadolint's when there is none).
    if mode == Mode::Check {
        for loaded in discovery.used() {
            if let Some(line) = loaded.describe() {
                eprintln!("{line}");
            }
        }
    }
    let write = mode == Mode::Fix && !stdin;
    if write {
        remove_stale_temps(&jobs);
    }
    let progress = progress::Progress::new(jobs.len());
    let reports: Vec<FileReport> = if jobs.len() == 1 {
        vec![process::process(&jobs[0], write)]
    } else {
        jobs.par_iter()
            .map(|job| {
                let report = process::process(job, write);
                progress.tick();
                report
            })
            .collect()
    };
    progress.finish();
    let mut plan = artifacts::plan(&reports);
    // A PATH that could not be used is an error of the run, not a Dockerfile that was checked.
    plan.errors.splice(0..0, path_errors);
    let unsafe_flag = flags.unsafe_fixes && !flags.no_unsafe;

    match mode {
        Mode::Fix if stdin => fix_stdin(&reports[0], options.verbose),
        Mode::Fix => fix_report(&reports, plan),
        Mode::Check | Mode::Diff => {
            let shown = options.show_suppressed;
            if let Err(e) = write_outputs(mode, &options.outputs, &reports, &plan, shown) {
                eprintln!("{e}");
                return EXIT_ERROR;
            }
            match options.format {
                Format::Text => text_report(mode, &reports, &plan, options.fail_on, unsafe_flag, shown),
                format => match document(mode, format, &reports, &plan, shown) {
                    Ok(text) => document_report(mode, &reports, &plan, text, options.fail_on),
                    Err(e) => {
                        eprintln!("{e}");
                        EXIT_ERROR
                    }
                },
            }
        }
    }
}

pub(crate) fn ensure_newline(mut s: String) -> String {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// Settings per config file: computed once per config.
#[derive(Default)]
struct SettingsCache(HashMap<Option<PathBuf>, Arc<Settings>>);

impl SettingsCache {
    fn get(&mut self, flags: &Common, loaded: &Loaded) -> Arc<Settings> {
        self.0
            .entry(loaded.path.clone())
            .or_insert_with(|| Arc::new(config::settings(flags, &loaded.config)))
            .clone()
    }
}

pub(crate) fn stdin_job(flags: &Common, discovery: &mut Discovery) -> Result<Vec<Job>, Vec<String>> {
    let loaded = match &flags.config {
        Some(file) => discovery.explicit(file),
        None => {
            let dir = flags
                .stdin_filename
                .as_deref()
                .and_then(Path::parent)
                .unwrap_or(Path::new("."));
            discovery.for_dir(dir)
        }
    }
    .map_err(|e| vec![e])?;
    let settings = Arc::new(config::settings(flags, &loaded.config));
    // The build context: --context, else the folder of --stdin-filename (as for the file on disk,
    // so that format-on-save gives what `dockopt fix FILE` and the language server give).
    // stdin → stdout carries one file: no extra files are proposed.
    let folder = flags
        .stdin_filename
        .as_deref()
        .map(parent_dir)
        .filter(|dir| dir.is_dir());
    let context = match flags.context.as_ref().or(folder.as_ref()) {
        Some(dir) => discover::context(dir, false),
        None => Context::default(),
    };
    let display = match &flags.stdin_filename {
        Some(name) => name.display().to_string(),
        None => "<stdin>".to_string(),
    };
    Ok(vec![Job {
        display,
        input: Input::Stdin(io::read_stdin()),
        settings,
        context: Arc::new(context),
        context_dir: None,
    }])
}

fn file_jobs(flags: &Common, discovery: &mut Discovery) -> Result<(Vec<Job>, Vec<String>), Vec<String>> {
    jobs_for_paths(flags, discovery, true)
}

/// The jobs of the Dockerfiles under the PATHs, and the PATHs that could not be used (errors of
/// the run). A PATH with no Dockerfile under it gets a warning. With `list_contexts`, each job gets
/// its build context listed (the formatter needs none).
pub(crate) fn jobs_for_paths(
    flags: &Common,
    discovery: &mut Discovery,
    list_contexts: bool,
) -> Result<(Vec<Job>, Vec<String>), Vec<String>> {
    let found = discover::find_dockerfiles(&flags.paths);
    let mut path_errors = Vec::new();
    let explicit = match &flags.config {
        Some(file) => Some(discovery.explicit(file).map_err(|e| vec![e])?),
        None => None,
    };
    let mut settings = SettingsCache::default();
    let mut config_errors: Vec<String> = Vec::new();
    let no_context = Arc::new(Context::default());
    let mut jobs: Vec<Job> = Vec::new();
    let cli_excludes = if flags.exclude.is_empty() {
        None
    } else {
        Some(config::Excludes::new(Path::new("."), &flags.exclude, "--exclude").map_err(|e| vec![e])?)
    };
    let mut config_excludes: HashMap<PathBuf, Option<config::Excludes>> = HashMap::new();
    // Files named on the command line, in any spelling.
    let named_files: Vec<PathBuf> = flags
        .paths
        .iter()
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    for item in found {
        let (path, input) = match item {
            discover::Found::File(path) => (path.clone(), Input::File(path)),
            discover::Found::Error(path, message) => {
                path_errors.push(format!("{}: {message}", path.display()));
                continue;
            }
            discover::Found::Empty(path) => {
                eprintln!("warning: {}: no Dockerfile under it", path.display());
                continue;
            }
        };
        let dir = parent_dir(&path);
        let loaded = match &explicit {
            Some(loaded) => loaded.clone(),
            None => match discovery.for_dir(&dir) {
                Ok(loaded) => loaded,
                Err(e) => {
                    if !config_errors.contains(&e) {
                        config_errors.push(e);
                    }
                    continue;
                }
            },
        };
        // `exclude` applies to what the walk found, not to a file named on the command line.
        let named = !named_files.is_empty()
            && std::fs::canonicalize(&path).is_ok_and(|p| named_files.contains(&p));
        if !named {
            if cli_excludes.as_ref().is_some_and(|x| x.excludes(&path)) {
                continue;
            }
            let key = loaded.path.clone().unwrap_or_default();
            let excludes = match config_excludes.get(&key) {
                Some(x) => x,
                None => match config::config_excludes(&loaded) {
                    Ok(x) => config_excludes.entry(key).or_insert(x),
                    Err(e) => {
                        if !config_errors.contains(&e) {
                            config_errors.push(e);
                        }
                        continue;
                    }
                },
            };
            if excludes.as_ref().is_some_and(|x| x.excludes(&path)) {
                continue;
            }
        }
        let context_dir = match (&input, &flags.context) {
            (Input::File(_), Some(dir)) => Some(dir.clone()),
            (Input::File(_), None) => Some(dir),
            _ => None,
        };
        jobs.push(Job {
            display: path.display().to_string(),
            input,
            settings: settings.get(flags, &loaded),
            context: no_context.clone(),
            context_dir,
        });
    }
    if !config_errors.is_empty() {
        return Err(config_errors);
    }

    if !list_contexts {
        return Ok((jobs, path_errors));
    }
    // Each build context is listed once, the distinct ones in parallel.
    let mut dirs: Vec<PathBuf> = jobs.iter().filter_map(|j| j.context_dir.clone()).collect();
    dirs.sort();
    dirs.dedup();
    let list = |dir: &PathBuf| (dir.clone(), Arc::new(discover::context(dir, true)));
    let contexts: HashMap<PathBuf, Arc<Context>> = if dirs.len() == 1 {
        dirs.iter().map(list).collect()
    } else {
        dirs.par_iter().map(list).collect()
    };
    for job in &mut jobs {
        if let Some(context) = job.context_dir.as_ref().and_then(|d| contexts.get(d)) {
            job.context = context.clone();
        }
    }
    Ok((jobs, path_errors))
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Remove the temporary files an interrupted dockopt run left where this run writes.
pub(crate) fn remove_stale_temps(jobs: &[Job]) {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for job in jobs {
        if let Input::File(path) = &job.input {
            dirs.push(parent_dir(path));
            // A symlinked Dockerfile is written where its target lives.
            if path.is_symlink() {
                if let Ok(target) = std::fs::canonicalize(path) {
                    dirs.push(parent_dir(&target));
                }
            }
        }
        dirs.extend(job.context_dir.clone());
    }
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        for path in io::remove_stale_temps(&dir) {
            eprintln!(
                "note: removed {}, a temporary file left by an interrupted dockopt run",
                discover::clean(&path).display()
            );
        }
    }
}

/// The error of a report, rendered for stderr.
pub(crate) fn error_text(report: &FileReport) -> Option<String> {
    if let Some(reason) = &report.write_error {
        return Some(format!("{}: {reason}; not written\n", report.display));
    }
    match &report.result {
        Err(error) => Some(error.render(&report.display, report.source.as_deref())),
        Ok(outcome) => outcome
            .error
            .as_ref()
            .map(|e| format!("{}:{e}\n", report.display)),
    }
}

fn exit_code(mode: Mode, summary: &Summary, fail_on: FailOn) -> i32 {
    let would_change = summary.changed > 0 || summary.artifacts > 0;
    let fails = match fail_on {
        FailOn::Any => summary.findings > 0 || would_change,
        FailOn::Fixable => would_change,
    };
    if summary.errors > 0 {
        EXIT_ERROR
    } else if mode == Mode::Check && fails {
        EXIT_CHANGES
    } else {
        EXIT_OK
    }
}

fn print_plan_errors(plan: &Plan) {
    for e in &plan.errors {
        eprintln!("{e}");
    }
}

fn text_report(
    mode: Mode,
    reports: &[FileReport],
    plan: &Plan,
    fail_on: FailOn,
    unsafe_flag: bool,
    show_suppressed: bool,
) -> i32 {
    let style = Style::for_stdout();
    let mut stdout = String::new();
    for (index, report) in reports.iter().enumerate() {
        let error = error_text(report);
        let warnings = warnings_text(report);
        if error.is_some() || !warnings.is_empty() {
            // Flush what came before so messages keep the file order on a terminal.
            out(&std::mem::take(&mut stdout));
            eprint!("{warnings}{}", error.unwrap_or_default());
        }
        stdout.push_str(&report_text(mode, report, index, plan, style, show_suppressed));
    }
    out(&stdout);
    print_plan_errors(plan);

    let summary = Summary::of(reports, plan);
    match mode {
        Mode::Check => {
            if reports.len() > 1 {
                let counts = render::by_transform(reports);
                eprint!("{}", render::transform_breakdown(&counts, "fixable"));
            }
            eprintln!("{}", check_summary(&summary, plan, unsafe_flag, show_suppressed));
        }
        _ => {
            let not_shown = summary.findings - summary.fixable;
            if not_shown > 0 {
                let mut note = format!(
                    "note: {} not in the diff",
                    plural(not_shown, "finding is", "findings are")
                );
                if summary.unsafe_fixable > 0 {
                    let fixes = plural(
                        summary.unsafe_fixable,
                        "fix is available",
                        "fixes are available",
                    );
                    note.push_str(&format!(" ({fixes} with --unsafe)"));
                }
                eprintln!("{note}; see `dockopt check`");
            }
        }
    }
    exit_code(mode, &summary, fail_on)
}

/// The `dockopt fix` command line that removes the fixable findings: `--unsafe` when they needed it.
fn fix_command(unsafe_flag: bool) -> &'static str {
    if unsafe_flag {
        "`dockopt fix --unsafe`"
    } else {
        "`dockopt fix`"
    }
}

/// What `--format text` prints on stdout for one report: its findings (`check`, and the
/// suppressed ones with `--show-suppressed`) or its diffs.
fn report_text(mode: Mode, report: &FileReport, index: usize, plan: &Plan, style: Style, show_suppressed: bool) -> String {
    let mut text = String::new();
    let (Ok(outcome), Some(source)) = (&report.result, &report.source) else {
        return text;
    };
    match mode {
        Mode::Check => {
            text = findings_text(report, style, |_| true);
            if show_suppressed {
                let locator = render::Locator::new(source);
                for suppressed in &outcome.suppressed {
                    render::suppressed_text(&mut text, &report.display, &locator, suppressed, style);
                }
            }
        }
        _ => {
            text.push_str(&render::unified_diff(
                &report.display,
                source,
                &outcome.text,
                style,
            ));
            for planned in plan.for_report(index) {
                text.push_str(&render::artifact_diff(
                    &planned.display,
                    planned.original.as_deref(),
                    &planned.text,
                    style,
                ));
            }
        }
    }
    text
}

/// The stdout document of `format` for the whole run (no colour, no stderr): what
/// `--output FORMAT=PATH` writes.
fn document(mode: Mode, format: Format, reports: &[FileReport], plan: &Plan, show_suppressed: bool) -> Result<String, String> {
    match format {
        Format::Text => Ok(reports
            .iter()
            .enumerate()
            .map(|(index, report)| report_text(mode, report, index, plan, Style::default(), show_suppressed))
            .collect()),
        Format::Json => json_document(mode, reports, plan),
        Format::Github => Ok(github_document(reports, plan)),
        Format::Sarif => serde_json::to_string_pretty(&sarif::log(reports, plan, show_suppressed))
            .map(|json| json + "\n")
            .map_err(|e| format!("cannot render SARIF: {e}")),
        Format::Markdown => Ok(markdown::body(reports, plan)),
    }
}

/// `--output FORMAT=PATH`: the same run written again in other formats, so that one run feeds a
/// log, code scanning and a job summary.
fn write_outputs(mode: Mode, outputs: &[cli::Output], reports: &[FileReport], plan: &Plan, show_suppressed: bool) -> Result<(), String> {
    for output in outputs {
        let text = document(mode, output.format, reports, plan, show_suppressed)?;
        std::fs::write(&output.path, text)
            .map_err(|e| format!("--output {}: {}", output.path.display(), discover::io_message(&e)))?;
    }
    Ok(())
}

fn check_summary(s: &Summary, plan: &Plan, unsafe_flag: bool, show_suppressed: bool) -> String {
    let mut line = format!(
        "checked {}: ",
        plural(s.files, "Dockerfile", "Dockerfiles")
    );
    if s.findings == 0 {
        line.push_str("no findings");
    } else {
        line.push_str(&plural(s.findings, "finding", "findings"));
        let mut fixable = Vec::new();
        if s.fixable > 0 {
            fixable.push(format!("{} with {}", s.fixable, fix_command(unsafe_flag)));
        }
        if s.unsafe_fixable > 0 {
            fixable.push(format!(
                "{} more with `dockopt fix --unsafe`",
                s.unsafe_fixable
            ));
        }
        if !fixable.is_empty() {
            line.push_str(&format!(" (fixable: {})", fixable.join(", ")));
        }
    }
    let mut would = Vec::new();
    if s.changed > 0 {
        would.push(format!(
            "change {}",
            plural(s.changed, "Dockerfile", "Dockerfiles")
        ));
    }
    if s.artifacts > 0 {
        would.push(format!("write {}", extra_files(s.artifacts, plan)));
    }
    if !would.is_empty() {
        line.push_str(&format!(
            "; {} would {}",
            fix_command(unsafe_flag),
            would.join(" and ")
        ));
    }
    if s.suppressed > 0 {
        let hint = if show_suppressed { "" } else { " (--show-suppressed lists them)" };
        line.push_str(&format!("; {} suppressed by pragmas{hint}", s.suppressed));
    }
    if s.errors > 0 {
        line.push_str(&format!("; {}", plural(s.errors, "error", "errors")));
    }
    line
}

/// The `path:line:col: warning: …` lines of a report's pragmas that dockopt could not use.
fn warnings_text(report: &FileReport) -> String {
    match (&report.result, &report.source) {
        (Ok(outcome), Some(source)) if !outcome.warnings.is_empty() => {
            let locator = render::Locator::new(source);
            outcome.warnings.iter().map(|w| render::warning_text(&report.display, &locator, w)).collect()
        }
        _ => String::new(),
    }
}

/// `1 .dockerignore`, `3 .dockerignore files`, or `2 extra files (.dockerignore, x)`.
fn extra_files(count: usize, plan: &Plan) -> String {
    let mut names: Vec<String> = plan
        .items
        .iter()
        .filter_map(|p| p.target.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.dedup();
    match names.as_slice() {
        [name] => plural(count, name, &format!("{name} files")),
        _ => format!(
            "{} ({})",
            plural(count, "extra file", "extra files"),
            names.join(", ")
        ),
    }
}

fn json_document(mode: Mode, reports: &[FileReport], plan: &Plan) -> Result<String, String> {
    let doc = render::JsonReport {
        schema_version: 1,
        command: mode.name(),
        files: reports
            .iter()
            .enumerate()
            .map(|(index, report)| render::json_file(report, plan.for_report(index).collect()))
            .collect(),
        errors: plan.errors.clone(),
        summary: Summary::of(reports, plan),
    };
    serde_json::to_string_pretty(&doc)
        .map(|json| json + "\n")
        .map_err(|e| format!("cannot render JSON: {e}"))
}

/// Print a whole-run document (SARIF, markdown) on stdout, the errors on stderr.
fn document_report(
    mode: Mode,
    reports: &[FileReport],
    plan: &Plan,
    document: String,
    fail_on: FailOn,
) -> i32 {
    for report in reports {
        eprint!("{}", warnings_text(report));
        if let Some(error) = error_text(report) {
            eprint!("{error}");
        }
    }
    print_plan_errors(plan);
    out(&document);
    exit_code(mode, &Summary::of(reports, plan), fail_on)
}

fn github_document(reports: &[FileReport], plan: &Plan) -> String {
    let mut text: String = reports.iter().map(render::github_annotations).collect();
    for e in &plan.errors {
        text.push_str(&format!(
            "::error title=dockopt::{}\n",
            render::escape_data(e)
        ));
    }
    text
}

/// `fix PATH…`: the Dockerfiles were written by the workers; write the extra files, then report
/// what remains and a one-line summary.
fn fix_report(reports: &[FileReport], mut plan: Plan) -> i32 {
    let mut written_extra = Plan::default();
    let mut items = std::mem::take(&mut plan.items);
    // Extra files only for Dockerfiles that were fixed without error.
    items.retain(|p| !reports[p.report].is_error());
    for planned in &items {
        match artifacts::write(planned) {
            Ok(()) => written_extra.items.push(planned.clone()),
            Err(e) => plan.errors.push(e),
        }
    }
    let mut remaining = String::new();
    for report in reports {
        remaining.push_str(&warnings_text(report));
        if let Some(error) = error_text(report) {
            eprint!("{remaining}{error}");
            remaining.clear();
        }
        remaining.push_str(&remaining_findings(report));
    }
    eprint!("{remaining}");
    print_plan_errors(&plan);
    let summary = Summary::of(reports, &plan);
    if reports.len() > 1 {
        eprint!(
            "{}",
            render::transform_breakdown(&render::by_transform(reports), "fixed")
        );
        // Errors scroll away in a long run: name the files again at the end.
        let failed: Vec<&str> = reports
            .iter()
            .filter(|r| r.is_error())
            .map(|r| r.display.as_str())
            .collect();
        if !failed.is_empty() {
            eprintln!("not changed (errors): {}", failed.join(", "));
        }
    }
    eprintln!("{}", fix_summary(reports, &summary, &written_extra));
    exit_code(Mode::Fix, &summary, FailOn::Any)
}

/// The findings `fix` left in place, one line each (stderr): neither applied nor made moot.
pub(crate) fn remaining_findings(report: &FileReport) -> String {
    match &report.result {
        Ok(outcome) if outcome.error.is_none() => findings_text(report, Style::default(), |f| {
            !f.applied && f.resolved_by.is_empty()
        }),
        _ => String::new(),
    }
}

/// The `path:line:col: transform: message` lines of a report's findings that `keep` keeps.
fn findings_text(
    report: &FileReport,
    style: Style,
    keep: impl Fn(&transforms::ReportedFinding) -> bool,
) -> String {
    let mut text = String::new();
    if let (Ok(outcome), Some(source)) = (&report.result, &report.source) {
        let locator = render::Locator::new(source);
        for finding in outcome.findings.iter().filter(|f| keep(f)) {
            render::finding_text(
                &mut text,
                &report.display,
                &locator,
                finding,
                report.unsafe_enabled,
                false,
                style,
            );
        }
    }
    text
}

fn fix_summary(reports: &[FileReport], s: &Summary, written_extra: &Plan) -> String {
    let dockerfiles = reports
        .iter()
        .filter(|r| r.written || (r.path.is_none() && r.changed()))
        .count();
    let extra = written_extra.items.len();
    // Fixes that were ready but could not be written, and why.
    let unwritten: Vec<&FileReport> = reports.iter().filter(|r| r.write_error.is_some()).collect();
    let unwritten_fixes: usize = unwritten
        .iter()
        .map(|r| Summary::of(std::slice::from_ref(*r), &Plan::default()).fixable)
        .sum();
    let mut done = Vec::new();
    if dockerfiles > 0 {
        done.push(format!(
            "fixed {}",
            plural(dockerfiles, "Dockerfile", "Dockerfiles")
        ));
    }
    if extra > 0 {
        done.push(format!("wrote {}", extra_files(extra, written_extra)));
    }
    let mut parts = Vec::new();
    if !done.is_empty() {
        parts.push(format!(
            "{} ({})",
            done.join(" and "),
            plural(s.fixable - unwritten_fixes, "fix", "fixes")
        ));
    }
    if let Some(first) = unwritten.first() {
        let reason = first.write_error.as_deref().unwrap_or_default();
        let same = unwritten.iter().all(|r| r.write_error.as_deref() == Some(reason));
        let why = if same { format!(": {reason}") } else { " (see the errors above)".to_string() };
        parts.push(format!("{} not written{why}", plural(unwritten_fixes, "fix", "fixes")));
    }
    let mut line = if parts.is_empty() {
        "nothing to fix".to_string()
    } else {
        parts.join("; ")
    };
    let remain = s.findings - s.fixable;
    if remain > 0 {
        let verb = if remain == 1 { "remains" } else { "remain" };
        line.push_str(&format!(
            ", {} {verb}",
            plural(remain, "finding", "findings")
        ));
        if s.unsafe_fixable > 0 {
            line.push_str(&format!(" ({} with --unsafe)", s.unsafe_fixable));
        }
    }
    if s.suppressed > 0 {
        line.push_str(&format!(", {} suppressed by pragmas", s.suppressed));
    }
    if s.errors > 0 {
        line.push_str(&format!("; {}", plural(s.errors, "error", "errors")));
    }
    line
}

/// `fix -`: the fixed text (or exactly the input when nothing changes) on stdout; on error nothing
/// on stdout, the message on stderr.
fn fix_stdin(report: &FileReport, verbose: bool) -> i32 {
    // An empty buffer (format-on-save of a new file) has nothing to fix: it comes back as it is.
    if let (Err(FileError::Syntax(_)), Some(source)) = (&report.result, &report.source) {
        if source.trim().is_empty() {
            out(source);
            return EXIT_OK;
        }
    }
    if let Some(error) = error_text(report) {
        eprint!("{error}");
        return EXIT_ERROR;
    }
    let (Ok(outcome), Some(_)) = (&report.result, &report.source) else {
        return EXIT_ERROR;
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(outcome.text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        eprintln!("cannot write to stdout: {e}");
        return EXIT_ERROR;
    }
    // An editor reads stderr as a failure: it says something only when asked.
    if verbose {
        eprint!("{}{}", warnings_text(report), remaining_findings(report));
        let reports = std::slice::from_ref(report);
        let summary = Summary::of(reports, &Plan::default());
        eprintln!("{}", fix_summary(reports, &summary, &Plan::default()));
    }
    EXIT_OK
}
