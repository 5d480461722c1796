//! `dockopt verify`: prove a rewrite with real builds. Each Dockerfile is built as it is and as
//! `fix` rewrites it (same flags, same config), in temporary copies of its build context, with the
//! first container engine found (Docker with BuildKit, Podman, Buildah). The report compares the two
//! images: build result, size and layers, OS packages, files, and how much of the build cache a
//! one-line source edit keeps.
//!
//! Exit status: 0 every rewrite builds (or nothing changes), 1 a rewrite fails where the original
//! built (unsafe), 2 an error (no engine, a file that cannot be read, an original that does not build).

pub mod buildlog;
pub mod edit;
pub mod engine;
pub mod files;
pub mod packages;
pub mod report;
pub mod run;
pub mod tarfs;
pub mod waste;

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use transforms::matcher::Matcher;

use crate::artifacts::Plan;
use crate::cli::Common;
use crate::process::FileReport;
use engine::{Engine, EngineKind};
use report::{Build, CacheCheck, FileVerdict, Kept, Rebuild, Verdict, VerifyReport};

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub common: Common,

    /// The container engine (default: the first that works of docker, podman, buildah)
    #[arg(long, value_enum)]
    pub engine: Option<EngineKind>,

    /// Output format
    #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
    pub format: VerifyFormat,

    /// Build without the engine's cache (cold builds; the cache check still uses the cache)
    #[arg(long)]
    pub no_cache: bool,

    /// Skip the cache check (the two rebuilds after a one-line source edit)
    #[arg(long)]
    pub skip_cache_check: bool,

    /// Pass ARG to every build command of the engine (repeatable), e.g. `--engine-arg=--network=host`
    #[arg(long = "engine-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub engine_args: Vec<String>,

    /// Keep the images and the work folder (contexts, build logs) and print where they are
    #[arg(long)]
    pub keep: bool,

    /// Run each image's own ENTRYPOINT/CMD without network for up to this many seconds (still
    /// running then counts as working); the rewrite is unsafe when the original exits 0 or stays
    /// up and the rewrite exits non-zero. 0: do not run them
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub run_timeout: u64,

    /// Fail (exit 1) when a rewrite's image has a lower efficiency than this (dive's score, 0 to
    /// 1: the smallest copy of each path over every copy of it across the layers)
    #[arg(long, value_name = "RATIO", value_parser = parse_ratio)]
    pub min_efficiency: Option<f64>,
}

fn parse_ratio(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
        _ => Err(format!("`{text}` is not a number from 0 to 1 (0.95 = 95%)")),
    }
}

/// Output formats of `verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    /// A summary per Dockerfile, for a terminal
    Text,
    /// One JSON document
    Json,
    /// A pull-request description
    Markdown,
}

/// Run `dockopt verify`; returns the exit code.
pub fn run(args: &VerifyArgs) -> i32 {
    if let Err(e) = crate::config::validate_flags(&args.common) {
        eprintln!("{e}");
        return crate::EXIT_ERROR;
    }
    if args.common.paths.iter().any(|p| p.as_os_str() == "-") {
        eprintln!("`verify` builds files in their build context: stdin (`-`) cannot be verified");
        return crate::EXIT_ERROR;
    }
    if let Some(dir) = &args.common.context {
        if !dir.is_dir() {
            eprintln!("--context {}: not a directory", dir.display());
            return crate::EXIT_ERROR;
        }
    }
    let (jobs, path_errors) = match crate::file_jobs(&args.common, &mut crate::config::Discovery::default()) {
        Ok(jobs) => jobs,
        Err(errors) => {
            for e in errors {
                eprintln!("{}", e.trim_end());
            }
            return crate::EXIT_ERROR;
        }
    };
    let reports: Vec<FileReport> = jobs
        .iter()
        .map(|job| crate::process::process(job, false))
        .collect();
    let mut plan = crate::artifacts::plan(&reports);
    plan.errors.splice(0..0, path_errors);
    for e in &plan.errors {
        eprintln!("{e}");
    }

    let engine = match engine::detect(args.engine) {
        Ok(engine) => engine,
        Err(message) => {
            eprintln!("{message}");
            return crate::EXIT_ERROR;
        }
    };
    let work = match tempfile::Builder::new().prefix("dockopt-verify-").tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("cannot create a work folder: {e}");
            return crate::EXIT_ERROR;
        }
    };
    let session = Session {
        engine: &engine,
        args,
        work: work.path().to_path_buf(),
        tag_prefix: format!("localhost/dockopt-verify:{}", std::process::id()),
        marker: run_marker(),
    };
    let total = reports.len();
    let files: Vec<FileVerdict> = reports
        .iter()
        .enumerate()
        .map(|(index, report)| {
            progress(&format!("[{}/{total}] {}", index + 1, report.display));
            session.verify(index, report, &plan)
        })
        .collect();
    let work_folder = if args.keep {
        let kept = work.keep();
        eprintln!("verify: kept the work folder {}", kept.display());
        Some(kept.display().to_string())
    } else {
        None
    };
    let report = VerifyReport {
        schema_version: 1,
        engine: engine.kind,
        engine_version: engine.version.clone(),
        files,
        work_folder,
    };
    let rendered = match args.format {
        VerifyFormat::Text => report::text(&report),
        VerifyFormat::Markdown => report::markdown(&report),
        VerifyFormat::Json => match serde_json::to_string_pretty(&report) {
            Ok(json) => json + "\n",
            Err(e) => {
                eprintln!("cannot render JSON: {e}");
                return crate::EXIT_ERROR;
            }
        },
    };
    crate::out(&rendered);
    if args.format != VerifyFormat::Text {
        eprintln!("{}", report.summary_line());
    } else {
        crate::out(&format!("{}\n", report.summary_line()));
    }
    let below = below_efficiency(&report, args.min_efficiency);
    for (path, efficiency) in &below {
        eprintln!(
            "verify: {path}: the rewrite's efficiency {:.1}% is below --min-efficiency {:.1}%",
            efficiency * 100.0,
            args.min_efficiency.unwrap_or_default() * 100.0
        );
    }
    let code = exit_code(&report, &plan);
    if code == crate::EXIT_OK && !below.is_empty() {
        1
    } else {
        code
    }
}

/// The verified files whose rewrite's image is less efficient than `min`, with its efficiency.
pub fn below_efficiency(report: &VerifyReport, min: Option<f64>) -> Vec<(String, f64)> {
    let Some(min) = min else { return Vec::new() };
    report
        .files
        .iter()
        .filter_map(|f| Some((f.path.clone(), f.waste.as_ref()?.after.efficiency)))
        .filter(|(_, efficiency)| *efficiency < min)
        .collect()
}

pub fn exit_code(report: &VerifyReport, plan: &Plan) -> i32 {
    if !plan.errors.is_empty()
        || report.count(Verdict::Error) > 0
        || report.count(Verdict::OriginalFails) > 0
    {
        crate::EXIT_ERROR
    } else if report.count(Verdict::Unsafe) > 0 {
        1
    } else {
        crate::EXIT_OK
    }
}

fn progress(message: &str) {
    eprintln!("verify: {message}");
}

struct Session<'a> {
    engine: &'a Engine,
    args: &'a VerifyArgs,
    work: PathBuf,
    tag_prefix: String,
    /// Makes this run's source edit unique (see `edit::choose`).
    marker: String,
}

/// The two build contexts of one Dockerfile.
struct Pair {
    before_context: PathBuf,
    after_context: PathBuf,
    before_dockerfile: PathBuf,
    after_dockerfile: PathBuf,
    logs: PathBuf,
}

fn verdict(path: &str, verdict: Verdict, message: impl Into<String>) -> FileVerdict {
    FileVerdict {
        path: path.to_string(),
        verdict,
        message: message.into(),
        transforms: Vec::new(),
        before: None,
        after: None,
        packages: None,
        files: None,
        cache: None,
        waste: None,
        run: None,
        notes: Vec::new(),
        kept: None,
    }
}

impl Session<'_> {
    fn verify(&self, index: usize, report: &FileReport, plan: &Plan) -> FileVerdict {
        let display = report.display.as_str();
        let outcome = match (&report.result, &report.source) {
            (Ok(outcome), Some(source)) if outcome.error.is_none() => (outcome, source),
            _ => {
                let message = report
                    .error_message()
                    .map(|(message, position)| match position {
                        Some((line, col)) => format!("{line}:{col}: {message}"),
                        None => message,
                    })
                    .unwrap_or_else(|| "cannot be read".to_string());
                return verdict(display, Verdict::Error, message);
            }
        };
        let (outcome, source) = outcome;
        let artifacts: Vec<_> = plan.for_report(index).collect();
        let mut result = verdict(
            display,
            Verdict::Unchanged,
            "`dockopt fix` changes nothing: nothing to build",
        );
        for finding in outcome.findings.iter().filter(|f| f.applied) {
            let name = finding.finding.transform.to_string();
            if !result.transforms.contains(&name) {
                result.transforms.push(name);
            }
        }
        for planned in &artifacts {
            if !result.transforms.iter().any(|t| t == planned.transform) {
                result.transforms.push(planned.transform.to_string());
            }
        }
        if !outcome.changed(source) && artifacts.is_empty() {
            return result;
        }
        let (Some(path), Some(context_dir)) = (&report.path, &report.context_dir) else {
            result.verdict = Verdict::Error;
            result.message = "no build context".to_string();
            return result;
        };
        let pair = match self.prepare(index, path, context_dir, source, &outcome.text, &artifacts) {
            Ok(pair) => pair,
            Err(e) => {
                result.verdict = Verdict::Error;
                result.message = format!("cannot prepare the build contexts: {e}");
                return result;
            }
        };
        let before_tag = format!("{}-{index}-before", self.tag_prefix);
        let after_tag = format!("{}-{index}-after", self.tag_prefix);

        progress("  building the original");
        let before = match self.build(
            &pair.before_dockerfile,
            &pair.before_context,
            &before_tag,
            &pair.logs.join("before.log"),
        ) {
            Ok(build) => build,
            Err(e) => {
                result.verdict = Verdict::Error;
                result.message = format!("cannot run {}: {e}", self.engine.kind.program());
                return result;
            }
        };
        if !before.ok {
            result.verdict = Verdict::OriginalFails;
            result.message = match &before.log.failed_step {
                Some(step) => format!(
                    "the original does not build here (it fails at `{}`): nothing to compare with",
                    report::short_step(step)
                ),
                None => "the original does not build here: nothing to compare with".to_string(),
            };
            result.before = Some(before);
            self.finish(&mut result, &pair, &before_tag, &after_tag);
            return result;
        }
        progress("  building the rewrite");
        let after = match self.build(
            &pair.after_dockerfile,
            &pair.after_context,
            &after_tag,
            &pair.logs.join("after.log"),
        ) {
            Ok(build) => build,
            Err(e) => {
                result.verdict = Verdict::Error;
                result.message = format!("cannot run {}: {e}", self.engine.kind.program());
                result.before = Some(before);
                return result;
            }
        };
        if !after.ok {
            result.verdict = Verdict::Unsafe;
            result.message = match &after.log.failed_step {
                Some(step) => format!(
                    "the original builds but the rewrite fails at `{}`: the rewrite is unsafe",
                    report::short_step(step)
                ),
                None => {
                    "the original builds but the rewrite fails: the rewrite is unsafe".to_string()
                }
            };
            result.before = Some(before);
            result.after = Some(after);
            self.finish(&mut result, &pair, &before_tag, &after_tag);
            return result;
        }
        result.verdict = Verdict::Verified;
        result.before = Some(before);
        result.after = Some(after);
        self.compare(&mut result, &before_tag, &after_tag, &pair);
        if self.args.run_timeout > 0 {
            let check = self.run_check(index, &before_tag, &after_tag, &pair);
            let broken = check.verdict == run::RunVerdict::Broken;
            if broken {
                result.verdict = Verdict::Unsafe;
                result.message = check.broken_message();
            }
            result.run = Some(check);
            if broken {
                self.finish(&mut result, &pair, &before_tag, &after_tag);
                return result;
            }
        }
        if !self.args.skip_cache_check {
            result.cache = self.cache_check(
                &mut result.notes,
                source,
                context_dir,
                &pair,
                &before_tag,
                &after_tag,
            );
        }
        result.message = verified_message(&result);
        self.finish(&mut result, &pair, &before_tag, &after_tag);
        result
    }

    /// Copy the context twice (hard links where possible) and write each side's Dockerfile and the
    /// rewrite's extra files.
    fn prepare(
        &self,
        index: usize,
        dockerfile: &Path,
        context_dir: &Path,
        original: &str,
        rewritten: &str,
        artifacts: &[&crate::artifacts::Planned],
    ) -> io::Result<Pair> {
        let base = self.work.join(index.to_string());
        let before_context = base.join("before");
        let after_context = base.join("after");
        let logs = base.join("logs");
        fs::create_dir_all(&logs)?;
        for copy in [&before_context, &after_context] {
            link_tree(context_dir, copy, &self.work)?;
        }
        let inside = relative_to(dockerfile, context_dir);
        let (before_dockerfile, after_dockerfile) = match &inside {
            Some(rel) => (before_context.join(rel), after_context.join(rel)),
            None => (
                base.join("Dockerfile.before"),
                base.join("Dockerfile.after"),
            ),
        };
        replace_file(&before_dockerfile, original)?;
        replace_file(&after_dockerfile, rewritten)?;
        for planned in artifacts {
            if let Some(rel) = relative_to(&planned.target, context_dir) {
                replace_file(&after_context.join(rel), &planned.text)?;
            }
        }
        Ok(Pair {
            before_context,
            after_context,
            before_dockerfile,
            after_dockerfile,
            logs,
        })
    }

    fn build(
        &self,
        dockerfile: &Path,
        context: &Path,
        tag: &str,
        log_file: &Path,
    ) -> io::Result<Build> {
        let run = self.engine.build(
            dockerfile,
            context,
            tag,
            self.args.no_cache,
            &self.args.engine_args,
            log_file,
        )?;
        let log = buildlog::summarize(&run.log);
        let mut build = Build {
            ok: run.ok,
            seconds: run.seconds,
            size: None,
            layers: None,
            log,
            log_tail: if run.ok {
                Vec::new()
            } else {
                buildlog::tail(&run.log)
            },
            log_file: self.args.keep.then(|| log_file.display().to_string()),
        };
        if run.ok {
            if let Ok(facts) = self.engine.inspect(tag) {
                build.size = Some(facts.size);
                build.layers = Some(facts.layers);
            }
        }
        Ok(build)
    }

    /// Sizes were read at build time; here the files and the packages.
    fn compare(&self, result: &mut FileVerdict, before_tag: &str, after_tag: &str, pair: &Pair) {
        for (label, build) in [("original", &result.before), ("rewrite", &result.after)] {
            if build.as_ref().is_some_and(|b| b.size.is_none()) {
                result
                    .notes
                    .push(format!("the size of the {label}'s image could not be read"));
            }
        }
        progress("  comparing the images");
        let before = self.engine.list_files(before_tag, &pair.logs);
        let after = self.engine.list_files(after_tag, &pair.logs);
        let (before, after) = match (before, after) {
            (Ok(before), Ok(after)) => (before, after),
            (Err(e), _) | (_, Err(e)) => {
                result
                    .notes
                    .push(format!("files and packages not compared: {e}"));
                return;
            }
        };
        result.files = Some(files::diff(&before.entries, &after.entries));
        let mut installed_before = packages::from_listing(&before);
        let mut installed_after = packages::from_listing(&after);
        for (listing, installed, tag) in [
            (&before, &mut installed_before, before_tag),
            (&after, &mut installed_after, after_tag),
        ] {
            if installed.manager.is_none() && listing.has_rpm_db {
                match self.engine.rpm_packages(tag) {
                    Ok(text) => {
                        installed.manager = Some(packages::Manager::Rpm);
                        installed.names.extend(packages::rpm_names(&text));
                    }
                    Err(e) => result.notes.push(format!("rpm packages not listed: {e}")),
                }
            }
        }
        result.packages = Some(packages::diff(&installed_before, &installed_after));
        progress("  measuring wasted bytes");
        let measure = |tag: &str, dockerfile: &Path| -> Result<waste::ImageWaste, String> {
            let layers = self.engine.layers(tag, &pair.logs)?;
            let mut measured = waste::analyze(&layers);
            let text = fs::read_to_string(dockerfile).map_err(|e| format!("{}: {e}", dockerfile.display()))?;
            waste::attribute(&mut measured, &shipped_instructions(&text));
            Ok(measured)
        };
        match (measure(before_tag, &pair.before_dockerfile), measure(after_tag, &pair.after_dockerfile)) {
            (Ok(before), Ok(after)) => result.waste = Some(report::WasteComparison { before, after }),
            (Err(e), _) | (_, Err(e)) => result.notes.push(format!("wasted bytes not measured: {e}")),
        }
    }

    /// Run both images' own command (see `run`).
    fn run_check(&self, index: usize, before_tag: &str, after_tag: &str, pair: &Pair) -> run::RunCheck {
        progress("  running the images' own command");
        let timeout = std::time::Duration::from_secs(self.args.run_timeout);
        let run_one = |tag: &str, side: &str| -> run::ImageRun {
            let command = match self.engine.image_command(tag) {
                Ok(command) => command,
                Err(e) => return run::ImageRun::not_run(e),
            };
            if command.is_empty() {
                return run::ImageRun {
                    outcome: run::Outcome::NothingToRun,
                    command,
                    seconds: 0.0,
                    log: String::new(),
                };
            }
            let name = format!("dockopt-verify-{}-{index}-{side}", std::process::id());
            let log_file = pair.logs.join(format!("{side}-run.log"));
            match self.engine.run_image(tag, &name, timeout, &log_file) {
                Ok((end, seconds, log)) => run::ImageRun {
                    outcome: match end {
                        engine::RunEnd::Exited(code) => run::Outcome::Exited { code },
                        engine::RunEnd::StillRunning => run::Outcome::StillRunning,
                    },
                    command,
                    seconds,
                    log,
                },
                Err(e) => run::ImageRun { command, ..run::ImageRun::not_run(e) },
            }
        };
        let before = run_one(before_tag, "before");
        // Nothing to compare with: the rewrite is not run.
        let after = match before.outcome {
            run::Outcome::NothingToRun => run::ImageRun::not_run("the original has nothing to run"),
            _ => run_one(after_tag, "after"),
        };
        run::RunCheck::new(self.args.run_timeout, before, after)
    }

    fn cache_check(
        &self,
        notes: &mut Vec<String>,
        original: &str,
        context_dir: &Path,
        pair: &Pair,
        before_tag: &str,
        after_tag: &str,
    ) -> Option<CacheCheck> {
        let sources = transforms::final_copy_sources(original).ok()?;
        let listing = crate::discover::context_files(context_dir);
        let ignores: Vec<Matcher> = [&pair.before_context, &pair.after_context]
            .iter()
            .filter_map(|dir| fs::read_to_string(dir.join(".dockerignore")).ok())
            .filter_map(|text| Matcher::from_dockerignore(&text).ok())
            .collect();
        let chosen = edit::choose(
            &sources,
            &listing,
            &ignores,
            |rel| fs::read_to_string(context_dir.join(rel)).ok(),
            &self.marker,
        );
        progress(&format!("  cache check: editing {}", chosen.describe()));
        let mut check = CacheCheck {
            edit: chosen.clone(),
            before: None,
            after: None,
        };
        for (context, dockerfile, tag, side, slot) in [
            (
                &pair.before_context,
                &pair.before_dockerfile,
                before_tag,
                "before",
                &mut check.before,
            ),
            (
                &pair.after_context,
                &pair.after_dockerfile,
                after_tag,
                "after",
                &mut check.after,
            ),
        ] {
            // First an unchanged rebuild: Buildah (and Podman) may take a step from an older
            // look-alike chain of cached images (after `--no-cache`, or earlier builds of the same
            // file) that has no image for the next step. Rebuilding once settles the chain, so the
            // edit below measures the cache a developer who just built would have. Normally every
            // step of it is cached and it takes a second.
            let settle = self.engine.build(
                dockerfile,
                context,
                tag,
                false,
                &self.args.engine_args,
                &pair.logs.join(format!("{side}-settle.log")),
            );
            if !settle.as_ref().is_ok_and(|run| run.ok) {
                let label = if side == "before" {
                    "original"
                } else {
                    "rewrite"
                };
                notes.push(format!(
                    "cache check: the unchanged rebuild of the {label} failed"
                ));
                continue;
            }
            let target = context.join(&chosen.path);
            let current = fs::read_to_string(&target).ok();
            if let Err(e) = replace_file(&target, &chosen.apply(current.as_deref())) {
                notes.push(format!(
                    "cache check skipped: cannot edit {}: {e}",
                    chosen.path
                ));
                return None;
            }
            let run = self.engine.build(
                dockerfile,
                context,
                tag,
                false,
                &self.args.engine_args,
                &pair.logs.join(format!("{side}-edit.log")),
            );
            match run {
                Ok(run) => {
                    let summary = buildlog::summarize(&run.log);
                    *slot = Some(Rebuild {
                        ok: run.ok,
                        seconds: run.seconds,
                        steps: summary.steps,
                        cached: summary.cached,
                        run_steps: summary.run_steps,
                        run_cached: summary.run_cached,
                    });
                }
                Err(e) => notes.push(format!("cache check: cannot run the engine: {e}")),
            }
        }
        Some(check)
    }

    fn finish(&self, result: &mut FileVerdict, pair: &Pair, before_tag: &str, after_tag: &str) {
        if self.args.keep {
            result.kept = Some(Kept {
                before_image: before_tag.to_string(),
                after_image: after_tag.to_string(),
                before_dockerfile: pair.before_dockerfile.display().to_string(),
                after_dockerfile: pair.after_dockerfile.display().to_string(),
            });
        } else {
            self.engine.remove_image(before_tag);
            self.engine.remove_image(after_tag);
        }
    }
}

/// The keyword and line of each instruction of the shipped stage (the last), for matching the
/// image's layers to them; empty when the Dockerfile does not parse.
fn shipped_instructions(text: &str) -> Vec<(String, usize)> {
    let Ok(file) = transforms::parse_strict(text) else { return Vec::new() };
    let Some(stage) = file.stages.last() else { return Vec::new() };
    file.instructions[stage.instructions.clone()]
        .iter()
        .map(|i| (i.keyword.as_str().to_string(), i.start_line))
        .collect()
}

/// `run 1732900000-4242`: the time and the process, unique enough for one machine's build cache.
fn run_marker() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("run {seconds}-{}", std::process::id())
}

fn verified_message(result: &FileVerdict) -> String {
    let mut message = "both build".to_string();
    if let (Some(before), Some(after)) = (&result.before, &result.after) {
        if let (Some(b), Some(a)) = (before.size, after.size) {
            message.push_str(&format!(
                "; the image goes from {} to {} ({})",
                report::bytes(b),
                report::bytes(a),
                report::change(b, a)
            ));
        }
    }
    if let Some(packages) = &result.packages {
        if !packages.removed.is_empty() {
            message.push_str(&format!(
                ", {} fewer",
                crate::render::plural(packages.removed.len(), "package", "packages")
            ));
        }
    }
    message
}

/// `path` relative to `dir` when it is inside it (comparing canonical paths).
fn relative_to(path: &Path, dir: &Path) -> Option<PathBuf> {
    let canonical = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let dir = canonical(dir);
    // The file may not exist yet (an extra file): canonicalize its folder.
    let path = match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => {
            canonical(parent).join(name)
        }
        _ => canonical(path),
    };
    path.strip_prefix(&dir).ok().map(Path::to_path_buf)
}

/// Mirror `from` into `to`: directories made, files hard-linked (copied across file systems),
/// symlinks recreated. `skip` (the work folder) is never entered, should it be inside `from`.
fn link_tree(from: &Path, to: &Path, skip: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    let skip = fs::canonicalize(skip).unwrap_or_else(|_| skip.to_path_buf());
    let mut stack = vec![(from.to_path_buf(), to.to_path_buf())];
    while let Some((source, target)) = stack.pop() {
        for entry in fs::read_dir(&source)? {
            let entry = entry?;
            let from_path = entry.path();
            let to_path = target.join(entry.file_name());
            let kind = entry.file_type()?;
            if kind.is_dir() {
                if fs::canonicalize(&from_path).is_ok_and(|p| p == skip) {
                    continue;
                }
                fs::create_dir(&to_path)?;
                // The owner keeps write access: the copy gets files written into it.
                let mode = fs::metadata(&from_path)?.permissions().mode() | 0o700;
                fs::set_permissions(&to_path, fs::Permissions::from_mode(mode))?;
                stack.push((from_path, to_path));
            } else if kind.is_symlink() {
                std::os::unix::fs::symlink(fs::read_link(&from_path)?, &to_path)?;
            } else if kind.is_file() && fs::hard_link(&from_path, &to_path).is_err() {
                fs::copy(&from_path, &to_path)?;
            }
            // Sockets, fifos and devices are not sent to a build.
        }
    }
    Ok(())
}

/// Write `text` at `path` as a new file: a hard-linked original stays untouched. Keeps the old
/// file's permissions.
fn replace_file(path: &Path, text: &str) -> io::Result<()> {
    let permissions = fs::metadata(path).ok().map(|m| m.permissions());
    if path.symlink_metadata().is_ok() {
        fs::remove_file(path)?;
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, text)?;
    if let Some(permissions) = permissions {
        fs::set_permissions(path, permissions)?;
    }
    Ok(())
}
