//! `dockopt format [PATH...]`: the `format` transform alone, like rustfmt or `ruff format`.
//! In place by default (atomic writes); `--check` exits 1 when a file would change; `--diff`
//! prints what would change; `-` reads stdin and writes the formatted text to stdout (for
//! editors: on error nothing is written to stdout and the exit code is 2).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::cli::Common;
use crate::process::{self, FileReport};
use crate::render::{self, plural, Style};
use crate::{EXIT_CHANGES, EXIT_ERROR, EXIT_OK};

#[derive(Debug, Clone, Args)]
pub struct FormatArgs {
    /// Files or directories (walked for Dockerfiles, respecting .gitignore); `-` reads stdin and
    /// writes the result to stdout. Default: `.`
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Write nothing; exit 1 when a file would be reformatted (for CI)
    #[arg(long)]
    pub check: bool,

    /// Write nothing; print a unified diff of what would change (exit 0, or 1 with --check)
    #[arg(long)]
    pub diff: bool,

    /// Use this config file instead of the nearest `dockopt.toml`
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// For stdin (`-`): the path used to find `dockopt.toml` and `.editorconfig`, and to name the
    /// file in messages
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,

    /// Skip these paths when walking directories (gitignore-style patterns; comma-separated)
    #[arg(long, value_name = "PATTERNS", value_delimiter = ',')]
    pub exclude: Vec<String>,
}

pub fn run(args: &FormatArgs) -> i32 {
    // The format transform alone, whatever the config selects or ignores.
    let flags = Common {
        paths: args.paths.clone(),
        no_unsafe: true,
        select: Some(vec!["format".to_string()]),
        ignore: Some(Vec::new()),
        exclude: args.exclude.clone(),
        config: args.config.clone(),
        stdin_filename: args.stdin_filename.clone(),
        ..Common::default()
    };
    let stdin = flags.paths.iter().any(|p| p.as_os_str() == "-");
    if stdin && flags.paths.len() > 1 {
        eprintln!("`-` (stdin) cannot be combined with other paths");
        return EXIT_ERROR;
    }
    let mut discovery = crate::config::Discovery::default();
    let jobs = if stdin {
        crate::stdin_job(&flags, &mut discovery).map(|jobs| (jobs, Vec::new()))
    } else {
        crate::jobs_for_paths(&flags, &mut discovery, false)
    };
    let (mut jobs, path_errors) = match jobs {
        Ok(jobs) => jobs,
        Err(errors) => {
            for e in errors {
                eprint!("{}", crate::ensure_newline(e));
            }
            return EXIT_ERROR;
        }
    };
    // A PATH that could not be used is an error of the run.
    for e in &path_errors {
        eprint!("{}", crate::ensure_newline(e.clone()));
    }
    crate::editorconfig::apply(&mut jobs, flags.stdin_filename.as_deref());
    let write = !stdin && !args.check && !args.diff;
    if write {
        crate::remove_stale_temps(&jobs);
    }
    let reports: Vec<FileReport> = if jobs.len() == 1 {
        vec![process::process(&jobs[0], write)]
    } else {
        use rayon::prelude::*;
        jobs.par_iter().map(|job| process::process(job, write)).collect()
    };
    if stdin && !args.check && !args.diff {
        return to_stdout(&reports[0]);
    }
    let code = report(args, &reports, write);
    if path_errors.is_empty() {
        code
    } else {
        EXIT_ERROR
    }
}

/// `format -`: the formatted text (exactly the input when nothing changes) on stdout.
fn to_stdout(report: &FileReport) -> i32 {
    if let Some(error) = crate::error_text(report) {
        eprint!("{error}");
        return EXIT_ERROR;
    }
    let Ok(outcome) = &report.result else { return EXIT_ERROR };
    eprint!("{}", crate::remaining_findings(report));
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(outcome.text.as_bytes()).and_then(|_| stdout.flush()) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("cannot write to stdout: {e}");
            EXIT_ERROR
        }
    }
}

fn report(args: &FormatArgs, reports: &[FileReport], wrote: bool) -> i32 {
    let style = Style::for_stdout();
    let mut stdout = String::new();
    let (mut changed, mut errors) = (0, 0);
    for report in reports {
        if let Some(error) = crate::error_text(report) {
            crate::out(&std::mem::take(&mut stdout));
            eprint!("{error}");
            errors += 1;
            continue;
        }
        eprint!("{}", crate::remaining_findings(report));
        let (Ok(outcome), Some(source)) = (&report.result, &report.source) else { continue };
        if outcome.text == *source {
            continue;
        }
        changed += 1;
        if args.diff {
            stdout.push_str(&render::unified_diff(&report.display, source, &outcome.text, style));
        } else if args.check {
            eprintln!("would reformat: {}", report.display);
        }
    }
    crate::out(&stdout);
    let unchanged = reports.len() - changed - errors;
    let mut summary = if wrote {
        format!("{} reformatted", plural(changed, "file", "files"))
    } else {
        format!("{} would be reformatted", plural(changed, "file", "files"))
    };
    summary.push_str(&format!(", {} already formatted", plural(unchanged, "file", "files")));
    if errors > 0 {
        summary.push_str(&format!("; {}", plural(errors, "error", "errors")));
    }
    eprintln!("{summary}");
    if errors > 0 {
        EXIT_ERROR
    } else if args.check && changed > 0 {
        EXIT_CHANGES
    } else {
        EXIT_OK
    }
}
