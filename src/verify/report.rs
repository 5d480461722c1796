//! What `verify` found, per Dockerfile, and its three renderings: text (terminal), markdown (a
//! pull-request description) and JSON.

use serde::Serialize;

use super::buildlog::LogSummary;
use super::edit::SourceEdit;
use super::engine::EngineKind;
use super::files::{FileDiff, Side};
use super::packages::PackageDiff;
use super::run::RunCheck;
use super::waste::ImageWaste;
use crate::render::plural;

/// How many package names the text output lists before "… and N more".
const TEXT_PACKAGES: usize = 30;

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub schema_version: u32,
    pub engine: EngineKind,
    pub engine_version: String,
    pub files: Vec<FileVerdict>,
    /// The work folder (contexts as built, build logs), when kept (`--keep`).
    pub work_folder: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Both build.
    Verified,
    /// The original builds, the rewrite does not.
    Unsafe,
    /// `fix` changes nothing: nothing to build.
    Unchanged,
    /// The original does not build here: nothing to compare with.
    OriginalFails,
    /// The file could not be read, parsed or prepared, or the engine failed.
    Error,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileVerdict {
    pub path: String,
    pub verdict: Verdict,
    /// One sentence on the verdict.
    pub message: String,
    /// The transforms whose fixes the rewrite holds, in order of first appearance.
    pub transforms: Vec<String>,
    pub before: Option<Build>,
    pub after: Option<Build>,
    pub packages: Option<PackageDiff>,
    pub files: Option<FileDiff>,
    pub cache: Option<CacheCheck>,
    /// dive's efficiency score and the wasted bytes of each image, attributed to the layers.
    pub waste: Option<WasteComparison>,
    /// Each image's own ENTRYPOINT/CMD run without network (`--run-timeout`).
    pub run: Option<RunCheck>,
    /// Problems that left a part of the report out (e.g. the filesystem could not be exported).
    pub notes: Vec<String>,
    /// The images and the Dockerfiles as built, when kept (`--keep`).
    pub kept: Option<Kept>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WasteComparison {
    pub before: ImageWaste,
    pub after: ImageWaste,
}

/// How many wasting layers text and markdown show per image.
const TOP_WASTES: usize = 3;

/// `74.5%`.
fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

/// The efficiency line: `74.5% (47.0 MB wasted) → 99.8% (12 kB wasted)`.
fn efficiency_line(waste: &WasteComparison) -> String {
    format!(
        "{} ({} wasted) → {} ({} wasted)",
        percent(waste.before.efficiency),
        bytes(waste.before.wasted_bytes),
        percent(waste.after.efficiency),
        bytes(waste.after.wasted_bytes)
    )
}

/// The layers that waste the most, most first: `47.0 MB in line 6 `COPY . /app` (hidden by line 7)`.
fn top_wastes(waste: &ImageWaste) -> Vec<String> {
    let mut layers: Vec<&super::waste::LayerWaste> = waste.layers.iter().filter(|l| l.wasted_bytes > 0).collect();
    layers.sort_by(|a, b| b.wasted_bytes.cmp(&a.wasted_bytes).then(a.index.cmp(&b.index)));
    let name = |index: usize| {
        let layer = &waste.layers[index];
        match layer.line {
            Some(line) => format!("line {line} `{}`", layer.instruction),
            None if layer.instruction.is_empty() => format!("layer {index} (the base image)"),
            None => format!("layer {index} `{}`", layer.instruction),
        }
    };
    layers
        .iter()
        .take(TOP_WASTES)
        .map(|l| {
            let by = l.hidden_by.first().map(|h| format!(", hidden by {}", name(h.layer))).unwrap_or_default();
            format!("{} in {}{by}", bytes(l.wasted_bytes), name(l.index))
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct Kept {
    pub before_image: String,
    pub after_image: String,
    pub before_dockerfile: String,
    pub after_dockerfile: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Build {
    pub ok: bool,
    pub seconds: f64,
    /// Bytes, as the engine counts them.
    pub size: Option<u64>,
    pub layers: Option<usize>,
    #[serde(flatten)]
    pub log: LogSummary,
    /// The end of the output of a failed build.
    pub log_tail: Vec<String>,
    /// The whole output, when kept (`--keep`).
    pub log_file: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CacheCheck {
    pub edit: SourceEdit,
    pub before: Option<Rebuild>,
    pub after: Option<Rebuild>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rebuild {
    pub ok: bool,
    pub seconds: f64,
    pub steps: usize,
    pub cached: usize,
    /// `RUN` steps, and those of them taken from the cache.
    pub run_steps: usize,
    pub run_cached: usize,
}

impl Rebuild {
    /// Steps that ran again.
    pub fn rerun(&self) -> usize {
        self.steps.saturating_sub(self.cached)
    }

    /// `RUN` steps that ran again: the cost of the rebuild.
    pub fn rerun_runs(&self) -> usize {
        self.run_steps.saturating_sub(self.run_cached)
    }
}

impl VerifyReport {
    pub fn count(&self, verdict: Verdict) -> usize {
        self.files.iter().filter(|f| f.verdict == verdict).count()
    }

    /// Sizes before and after over the files that were verified with sizes on both sides.
    pub fn total_sizes(&self) -> Option<(u64, u64)> {
        let pairs: Vec<(u64, u64)> = self
            .files
            .iter()
            .filter(|f| f.verdict == Verdict::Verified)
            .filter_map(|f| Some((f.before.as_ref()?.size?, f.after.as_ref()?.size?)))
            .collect();
        if pairs.is_empty() {
            return None;
        }
        Some(
            pairs
                .iter()
                .fold((0, 0), |(b, a), (pb, pa)| (b + pb, a + pa)),
        )
    }

    /// One line: how many files got which verdict, and the total size change.
    pub fn summary_line(&self) -> String {
        let mut parts = Vec::new();
        for (verdict, label) in [
            (Verdict::Verified, "verified"),
            (Verdict::Unsafe, "unsafe"),
            (Verdict::Unchanged, "unchanged"),
            (Verdict::OriginalFails, "original does not build"),
            (Verdict::Error, "error"),
        ] {
            let n = self.count(verdict);
            if n > 0 {
                parts.push(format!("{n} {label}"));
            }
        }
        let mut line = format!(
            "verify: {} ({})",
            plural(self.files.len(), "Dockerfile", "Dockerfiles"),
            if parts.is_empty() {
                "none".to_string()
            } else {
                parts.join(", ")
            }
        );
        if let Some((before, after)) = self.total_sizes() {
            line.push_str(&format!(
                "; images {} → {} ({})",
                bytes(before),
                bytes(after),
                change(before, after)
            ));
        }
        line
    }
}

/// Decimal units, as the container tools print them: `682.5 MB`.
pub fn bytes(n: u64) -> String {
    let n = n as f64;
    if n < 1e3 {
        format!("{n} B")
    } else if n < 1e6 {
        format!("{:.1} kB", n / 1e3)
    } else if n < 1e9 {
        format!("{:.1} MB", n / 1e6)
    } else {
        format!("{:.2} GB", n / 1e9)
    }
}

/// `−72.1%` / `+3.0%` / `±0%`.
pub fn change(before: u64, after: u64) -> String {
    if before == 0 || before == after {
        return "±0%".to_string();
    }
    let percent = (after as f64 - before as f64) / before as f64 * 100.0;
    if percent < 0.0 {
        format!("−{:.1}%", -percent)
    } else {
        format!("+{percent:.1}%")
    }
}

/// A step as it reads in a sentence: whitespace runs collapsed, cut after 80 characters.
pub fn short_step(step: &str) -> String {
    let collapsed = step.split_whitespace().collect::<Vec<_>>().join(" ");
    match collapsed.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &collapsed[..cut]),
        None => collapsed,
    }
}

fn seconds(s: f64) -> String {
    format!("{s:.1} s")
}

fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn build_line(build: &Build) -> String {
    if build.ok {
        format!("ok in {}", seconds(build.seconds))
    } else {
        match &build.log.failed_step {
            Some(step) => format!(
                "FAILED at `{}` after {}",
                short_step(step),
                seconds(build.seconds)
            ),
            None => format!("FAILED after {}", seconds(build.seconds)),
        }
    }
}

fn image_text(build: &Build) -> String {
    match (build.size, build.layers) {
        (Some(size), Some(layers)) => {
            format!("{}, {}", bytes(size), plural(layers, "layer", "layers"))
        }
        _ => "?".to_string(),
    }
}

fn names_list(names: &[String], limit: usize) -> String {
    if names.len() <= limit {
        names.join(", ")
    } else {
        format!(
            "{}, … and {} more",
            names[..limit].join(", "),
            names.len() - limit
        )
    }
}

fn verdict_label(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Verified => "verified",
        Verdict::Unsafe => "UNSAFE",
        Verdict::Unchanged => "unchanged",
        Verdict::OriginalFails => "original does not build",
        Verdict::Error => "error",
    }
}

fn cache_sentence(cache: &CacheCheck) -> String {
    let side = |rebuild: &Option<Rebuild>| match rebuild {
        Some(r) if r.ok => format!(
            "{} of {} steps cached, {} RUN re-run (rebuilt in {})",
            r.cached,
            r.steps,
            r.rerun_runs(),
            seconds(r.seconds)
        ),
        Some(_) => "the rebuild failed".to_string(),
        None => "not rebuilt".to_string(),
    };
    format!(
        "after editing {}: original {} · rewrite {}",
        cache.edit.describe(),
        side(&cache.before),
        side(&cache.after)
    )
}

pub fn text(report: &VerifyReport) -> String {
    let mut out = String::new();
    for file in &report.files {
        out.push_str(&format!(
            "{}: {} — {}\n",
            file.path,
            verdict_label(file.verdict),
            file.message
        ));
        if !file.transforms.is_empty() {
            out.push_str(&format!("  transforms  {}\n", file.transforms.join(", ")));
        }
        match (&file.before, &file.after) {
            (Some(before), Some(after)) => {
                out.push_str(&format!(
                    "  build       original {} · rewrite {}\n",
                    build_line(before),
                    build_line(after)
                ));
                if before.ok && after.ok {
                    let sizes = match (before.size, after.size) {
                        (Some(b), Some(a)) => format!(" ({})", change(b, a)),
                        _ => String::new(),
                    };
                    out.push_str(&format!(
                        "  image       {} → {}{sizes}\n",
                        image_text(before),
                        image_text(after)
                    ));
                }
            }
            (Some(before), None) => {
                out.push_str(&format!("  build       original {}\n", build_line(before)));
            }
            _ => {}
        }
        if let Some(packages) = &file.packages {
            out.push_str(&packages_text(packages));
        }
        if let Some(files) = &file.files {
            out.push_str(&files_text(files));
        }
        if let Some(cache) = &file.cache {
            out.push_str(&format!("  cache       {}\n", cache_sentence(cache)));
        }
        if let Some(run) = &file.run {
            out.push_str(&format!("  run         {}\n", run_line(run)));
            for (label, image) in run.logs_to_show() {
                out.push_str(&format!("  run log of the {label} (end):\n"));
                for line in image.log_tail() {
                    out.push_str(&format!("    | {line}\n"));
                }
            }
        }
        if let Some(waste) = &file.waste {
            out.push_str(&format!("  efficiency  {}\n", efficiency_line(waste)));
            for (label, side) in [("original", &waste.before), ("rewrite", &waste.after)] {
                for line in top_wastes(side) {
                    out.push_str(&format!("    {label:<9} {line}\n"));
                }
            }
        }
        for build in [&file.before, &file.after].into_iter().flatten() {
            if !build.ok && !build.log_tail.is_empty() {
                out.push_str("  log (end):\n");
                for line in &build.log_tail {
                    out.push_str(&format!("    | {line}\n"));
                }
            }
        }
        for note in &file.notes {
            out.push_str(&format!("  note        {note}\n"));
        }
        if let Some(kept) = &file.kept {
            out.push_str(&format!(
                "  kept        {} · {}\n",
                kept.before_image, kept.after_image
            ));
        }
    }
    out
}

/// `` `python app.py` (no network, up to 5 s): original exited 0 in 0.4 s · rewrite … ``
fn run_line(run: &RunCheck) -> String {
    if run.verdict == super::run::RunVerdict::NothingToRun {
        return run.sentence();
    }
    format!(
        "{} (no network, up to {} s): {}",
        code(&run.command_text()),
        run.timeout_seconds,
        run.sentence()
    )
}

/// A collapsed block of log lines for markdown.
fn details(summary: &str, lines: &[String]) -> String {
    let fence = if lines.iter().any(|l| l.contains("```")) {
        "~~~~"
    } else {
        "```"
    };
    format!(
        "\n<details><summary>{summary}</summary>\n\n{fence}text\n{}\n{fence}\n\n</details>\n",
        lines.join("\n")
    )
}

fn packages_text(packages: &PackageDiff) -> String {
    let Some(manager) = packages.manager else {
        return "  packages    no package database in either image\n".to_string();
    };
    let mut out = format!(
        "  packages    {}: {} → {} ({} removed, {} added)\n",
        manager.name(),
        packages.before,
        packages.after,
        packages.removed.len(),
        packages.added.len()
    );
    if !packages.removed.is_empty() {
        out.push_str(&format!(
            "              removed: {}\n",
            names_list(&packages.removed, TEXT_PACKAGES)
        ));
    }
    if !packages.added.is_empty() {
        out.push_str(&format!(
            "              added: {}\n",
            names_list(&packages.added, TEXT_PACKAGES)
        ));
    }
    out
}

fn side_heading(side: &Side) -> String {
    let files = if side.files == 1 { "file" } else { "files" };
    format!("{} {files}, {}", count(side.files), bytes(side.bytes))
}

fn files_text(files: &FileDiff) -> String {
    let mut out = String::new();
    for (label, side, first) in [
        ("only in the original", &files.only_before, true),
        ("only in the rewrite", &files.only_after, false),
    ] {
        let lead = if first {
            "  files       "
        } else {
            "              "
        };
        out.push_str(&format!("{lead}{label}: {}\n", side_heading(side)));
        for dir in &side.top {
            out.push_str(&format!(
                "                {:<32} {:>8} {:>10}\n",
                dir.dir,
                count(dir.files),
                bytes(dir.bytes)
            ));
        }
    }
    if files.changed > 0 {
        out.push_str(&format!(
            "              changed in both: {}\n",
            plural(files.changed, "file", "files")
        ));
    }
    out
}

/// `both build; …` → `Both build; ….`
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// Cells of a markdown table must not hold `|` or newlines.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// A code span that holds any text (backticks inside get a longer fence).
fn code(text: &str) -> String {
    let mut run = 0;
    let mut max_run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            max_run = max_run.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(max_run + 1);
    if max_run > 0 {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

pub fn markdown(report: &VerifyReport) -> String {
    let mut out = String::from("## dockopt verify\n\n");
    out.push_str(&format!(
        "Each Dockerfile was built as it is and as `dockopt fix` rewrites it, with {}.\n\n",
        report.engine_version
    ));
    out.push_str("| Dockerfile | Result | Image size | Layers | Packages | Steps cached after a source edit |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for file in &report.files {
        let result = match file.verdict {
            Verdict::Verified => "✅ both build".to_string(),
            Verdict::Unsafe => "❌ the rewrite fails".to_string(),
            Verdict::Unchanged => "➖ nothing to change".to_string(),
            Verdict::OriginalFails => "⚠️ the original fails".to_string(),
            Verdict::Error => "⚠️ error".to_string(),
        };
        let both = file
            .before
            .as_ref()
            .zip(file.after.as_ref())
            .filter(|(b, a)| b.ok && a.ok);
        let (size, layers) = match both {
            Some((b, a)) => (
                match (b.size, a.size) {
                    (Some(bs), Some(as_)) => {
                        format!("{} → {} ({})", bytes(bs), bytes(as_), change(bs, as_))
                    }
                    _ => String::new(),
                },
                match (b.layers, a.layers) {
                    (Some(bl), Some(al)) => format!("{bl} → {al}"),
                    _ => String::new(),
                },
            ),
            None => (String::new(), String::new()),
        };
        let packages = match &file.packages {
            Some(p) if p.manager.is_some() => format!("{} → {}", p.before, p.after),
            _ => String::new(),
        };
        let cache = match &file.cache {
            Some(CacheCheck {
                before: Some(b),
                after: Some(a),
                ..
            }) if b.ok && a.ok => {
                format!("{}/{} → {}/{}", b.cached, b.steps, a.cached, a.steps)
            }
            _ => String::new(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            cell(&code(&file.path)),
            cell(&result),
            cell(&size),
            cell(&layers),
            cell(&packages),
            cell(&cache)
        ));
    }
    out.push('\n');
    for file in &report.files {
        if file.verdict == Verdict::Unchanged {
            continue;
        }
        out.push_str(&format!(
            "### {}\n\n{}\n\n",
            code(&file.path),
            sentence(&file.message)
        ));
        if !file.transforms.is_empty() {
            let names: Vec<String> = file.transforms.iter().map(|t| code(t)).collect();
            out.push_str(&format!("Transforms: {}\n\n", names.join(", ")));
        }
        if let Some(packages) = &file.packages {
            if packages.manager.is_some() {
                for (label, names) in [("removed", &packages.removed), ("added", &packages.added)] {
                    if names.is_empty() {
                        continue;
                    }
                    out.push_str(&format!(
                        "- **{} {label}:** {}\n",
                        plural(names.len(), "package", "packages"),
                        names.join(", ")
                    ));
                }
            }
        }
        if let Some(files) = &file.files {
            for (label, side) in [
                ("only in the original", &files.only_before),
                ("only in the rewrite", &files.only_after),
            ] {
                if side.files == 0 {
                    continue;
                }
                let dirs: Vec<String> = side
                    .top
                    .iter()
                    .map(|d| format!("{} ({}, {})", code(&d.dir), count(d.files), bytes(d.bytes)))
                    .collect();
                out.push_str(&format!(
                    "- **Files {label}:** {} — {}\n",
                    side_heading(side),
                    dirs.join(", ")
                ));
            }
        }
        if let Some(waste) = &file.waste {
            out.push_str(&format!("- **Efficiency** (dive's score): {}\n", efficiency_line(waste)));
            for (label, side) in [("original", &waste.before), ("rewrite", &waste.after)] {
                for line in top_wastes(side) {
                    out.push_str(&format!("  - {label}: {line}\n"));
                }
            }
        }
        if let Some(cache) = &file.cache {
            out.push_str(&format!(
                "- **Cache:** {}\n",
                cache_sentence(cache).replace(&cache.edit.path, &code(&cache.edit.path))
            ));
        }
        if let Some(run) = &file.run {
            out.push_str(&format!("- **Run:** {}\n", run_line(run)));
        }
        for note in &file.notes {
            out.push_str(&format!("- Note: {note}\n"));
        }
        for (label, build) in [("original", &file.before), ("rewrite", &file.after)] {
            let Some(build) = build else { continue };
            if build.ok || build.log_tail.is_empty() {
                continue;
            }
            let step = build
                .log
                .failed_step
                .as_deref()
                .map(|s| format!(" at {}", code(&short_step(s))))
                .unwrap_or_default();
            out.push_str(&details(
                &format!("Build log of the {label} (failed{step})"),
                &build.log_tail,
            ));
        }
        if let Some(run) = &file.run {
            for (label, image) in run.logs_to_show() {
                out.push_str(&details(
                    &format!("Output of the {label}'s run ({})", image.describe(run.timeout_seconds)),
                    &image.log_tail(),
                ));
            }
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "{}\n",
        report.summary_line().trim_start_matches("verify: ")
    ));
    out
}
