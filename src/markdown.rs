//! `--format markdown`: a pull-request body. Per file, one line per finding (what changes, whether
//! the fix is safe, the expected effect), then the diff in a collapsed `<details>`.

use std::fmt::Write as _;

use transforms::Applicability;

use crate::artifacts::Plan;
use crate::process::FileReport;
use crate::render::{self, fix_status, plural, FixStatus, Locator, Style, Summary};

/// What applying a transform's fixes is expected to bring, for readers of the pull request.
/// Unknown names fall back to the catalog summary.
fn expected_effect(transform: &str) -> String {
    let effect = match transform {
        "run-cleanup" => "smaller image: caches and package indexes no longer stay in the layer",
        "merge-runs" => "fewer layers, and the cleanup really shrinks the image",
        "manifest-first" => {
            "faster rebuilds: dependencies stay cached when only the source changes"
        }
        "multi-stage" => "smaller image: build tools stay out of the shipped stage",
        "approved-base" => "a base image the policy approves (often smaller)",
        "dockerignore" => "smaller build context: faster builds, fewer cache misses",
        "modernize" => "no deprecation warning; the image is the same",
        _ => {
            return transforms::find_transform(transform)
                .map(|t| t.summary.to_string())
                .unwrap_or_default()
        }
    };
    effect.to_string()
}

/// The pull-request body of a `check`/`diff` run, ending with one newline.
pub fn body(reports: &[FileReport], plan: &Plan) -> String {
    let summary = Summary::of(reports, plan);
    let mut out = String::from("## dockopt\n\n");
    out.push_str(&headline(&summary));
    out.push_str("\n\n");

    for (index, report) in reports.iter().enumerate() {
        let artifacts: Vec<_> = plan.for_report(index).collect();
        let (Ok(outcome), Some(source)) = (&report.result, &report.source) else {
            continue;
        };
        if outcome.findings.is_empty() && artifacts.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {}\n", code(&report.display));
        let locator = Locator::new(source);
        for finding in &outcome.findings {
            let f = &finding.finding;
            let line = locator.position(f.range.start).line;
            let (label, tail) = match (fix_status(finding, report.unsafe_enabled), &f.fix) {
                (FixStatus::Applied, Some(fix)) if fix.applicability == Applicability::Unsafe => (
                    "**unsafe**: review it".to_string(),
                    expected_effect(f.transform),
                ),
                (FixStatus::Applied, _) => ("safe".to_string(), expected_effect(f.transform)),
                (FixStatus::Resolved, _) => (
                    render::resolved_by(&finding.resolved_by),
                    expected_effect(f.transform),
                ),
                (FixStatus::NeedsUnsafe, _) => (
                    "unsafe: needs `--unsafe`".to_string(),
                    why_or_effect(f.why.as_deref(), f.transform),
                ),
                (FixStatus::NotApplied, _) => (
                    "not applied: another fix touches the same text; run dockopt again".to_string(),
                    why_or_effect(f.why.as_deref(), f.transform),
                ),
                (FixStatus::NoFix, _) => (
                    "no automatic fix".to_string(),
                    why_or_effect(f.why.as_deref(), f.transform),
                ),
            };
            let _ = writeln!(
                out,
                "- **{}** (line {line}, {label}): {} — {}",
                f.transform,
                inline(&f.message),
                inline(&tail)
            );
        }
        for planned in &artifacts {
            let verb = if planned.original.is_some() {
                "updates"
            } else {
                "creates"
            };
            let _ = writeln!(
                out,
                "- **{}**: {verb} {} — {}",
                planned.transform,
                code(&planned.display),
                inline(&expected_effect(planned.transform))
            );
        }
        let mut diff =
            render::unified_diff(&report.display, source, &outcome.text, Style::default());
        for planned in &artifacts {
            diff.push_str(&render::artifact_diff(
                &planned.display,
                planned.original.as_deref(),
                &planned.text,
                Style::default(),
            ));
        }
        if !diff.is_empty() {
            let fence = fence_for(&diff);
            let _ = write!(
                out,
                "\n<details>\n<summary>Diff of {}</summary>\n\n{fence}diff\n{diff}{fence}\n\n</details>\n",
                html(&report.display)
            );
        }
        out.push('\n');
    }

    let errors: Vec<String> = reports
        .iter()
        .filter_map(|r| {
            let (message, position) = r.error_message()?;
            let place = match position {
                Some((line, column)) => format!("{}:{line}:{column}", r.display),
                None => r.display.clone(),
            };
            Some(format!("- {}: {}", code(&place), inline(&message)))
        })
        .chain(plan.errors.iter().map(|e| format!("- {}", inline(e))))
        .collect();
    if !errors.is_empty() {
        out.push_str("### Errors\n\n");
        for e in errors {
            out.push_str(&e);
            out.push('\n');
        }
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn why_or_effect(why: Option<&str>, transform: &str) -> String {
    match why {
        Some(why) => why.trim().replace('\n', " "),
        None => expected_effect(transform),
    }
}

fn headline(s: &Summary) -> String {
    if s.findings == 0 && s.artifacts == 0 {
        let mut line = format!(
            "Nothing to change in {}.",
            plural(s.files, "Dockerfile", "Dockerfiles")
        );
        if s.errors > 0 {
            line.push_str(&format!(
                " {}: see below.",
                plural(s.errors, "error", "errors")
            ));
        }
        return line;
    }
    let files = if s.changed == s.files {
        plural(s.files, "Dockerfile", "Dockerfiles")
    } else {
        format!(
            "{} of {}",
            s.changed,
            plural(s.files, "Dockerfile", "Dockerfiles")
        )
    };
    let mut parts = vec![match s.fixable {
        0 => format!("No change in {}", plural(s.files, "Dockerfile", "Dockerfiles")),
        n => format!("{} in {files}", plural(n, "change", "changes")),
    }];
    if s.artifacts > 0 {
        parts.push(plural(s.artifacts, "extra file", "extra files"));
    }
    let left = s.findings - s.fixable;
    if left > 0 {
        let mut text = format!("{} not changed", plural(left, "finding", "findings"));
        if s.unsafe_fixable > 0 {
            text.push_str(&format!(" ({} with `--unsafe`)", s.unsafe_fixable));
        }
        parts.push(text);
    }
    if s.errors > 0 {
        parts.push(plural(s.errors, "error", "errors"));
    }
    format!("{}.", parts.join("; "))
}

/// An inline code span that holds `text` whatever backticks it contains.
fn code(text: &str) -> String {
    let longest = longest_backtick_run(text);
    let ticks = "`".repeat(longest + 1);
    if longest > 0 {
        format!("{ticks} {text} {ticks}")
    } else {
        format!("{ticks}{text}{ticks}")
    }
}

/// A code fence longer than any run of backticks in `text`.
fn fence_for(text: &str) -> String {
    "`".repeat((longest_backtick_run(text) + 1).max(3))
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Text for a markdown line: code spans (`` `…` ``) kept as written, the rest escaped so that
/// `<name@host>`, `*` or `_` are shown as typed.
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let spans_closed = text.matches('`').count().is_multiple_of(2);
    for (i, piece) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        // Odd pieces are inside a code span, when the spans are closed.
        let inside = i % 2 == 1 && spans_closed;
        if inside {
            out.push_str(piece);
        } else {
            out.push_str(&escape(piece));
        }
    }
    out.replace('\n', " ")
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '*' | '_' | '[' | ']' | '\\' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn html(text: &str) -> String {
    format!(
        "<code>{}</code>",
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_keeps_code_spans_and_escapes_the_rest() {
        assert_eq!(
            inline("use `LABEL a=<b>` for Jane <j@x.org> *now*"),
            "use `LABEL a=<b>` for Jane &lt;j@x.org&gt; \\*now\\*"
        );
        assert_eq!(inline("odd ` tick <x>"), "odd ` tick &lt;x&gt;");
    }

    #[test]
    fn code_and_fences_outgrow_backticks() {
        assert_eq!(code("a/Dockerfile"), "`a/Dockerfile`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(fence_for("RUN x"), "```");
        assert_eq!(fence_for("RUN echo ````"), "`````");
    }
}
