//! SARIF 2.1.0 output (`--format sarif`), for code-scanning uploads such as GitHub's.
//!
//! One run; its rules are every check (`transform/check`: the check's summary as its short
//! description, its transform's documentation as full description and help, the transform and the
//! related hadolint and BuildKit codes as properties); one result per finding with its region, and
//! the fix as SARIF `fixes` when its edits are known. Errors of the run are tool execution notifications. Columns count Unicode code
//! points (`columnKind: unicodeCodePoints`), like the text and JSON outputs.

use std::path::Path;

use serde_json::{json, Value};
use transforms::Applicability;

use crate::artifacts::Plan;
use crate::process::FileReport;
use crate::render::{applicability_name, fix_status, FixStatus, Locator, Position};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Relative paths in the log are relative to this base (the directory dockopt ran in).
const SRCROOT: &str = "%SRCROOT%";

/// The SARIF log of one `check`/`diff` run. With `show_suppressed`, the findings pragmas suppress
/// are results too, with an `inSource` suppression naming the pragma.
pub fn log(reports: &[FileReport], plan: &Plan, show_suppressed: bool) -> Value {
    let checks = transforms::checks::ALL;
    let rules: Vec<Value> = checks.iter().map(|c| rule(c)).collect();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    let mut warnings = Vec::new();
    for report in reports {
        let location = artifact_location(&report.display);
        if let (Ok(outcome), Some(source)) = (&report.result, &report.source) {
            let locator = Locator::new(source);
            for finding in &outcome.findings {
                let f = &finding.finding;
                let rule_index = checks.iter().position(|c| c.id == f.check.id);
                let mut text = f.message.clone();
                if let Some(why) = &f.why {
                    text.push('\n');
                    text.push_str(why.trim_end());
                }
                let mut result = json!({
                    "ruleId": f.check.id,
                    "ruleIndex": rule_index,
                    "level": "warning",
                    "message": { "text": text },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": location,
                            "region": region(locator.position(f.range.start), locator.position(f.range.end)),
                        }
                    }],
                });
                if rule_index.is_none() {
                    if let Some(fields) = result.as_object_mut() {
                        fields.shift_remove("ruleIndex");
                    }
                }
                if let Some(fix) = &f.fix {
                    let status = match fix_status(finding, report.unsafe_enabled) {
                        FixStatus::Applied => "applied",
                        FixStatus::Resolved => "resolved by other fixes",
                        FixStatus::NeedsUnsafe => "needs --unsafe",
                        FixStatus::NotApplied | FixStatus::NoFix => "not applied",
                    };
                    result["properties"] = json!({
                        "applicability": applicability_name(fix.applicability),
                        "fix": status,
                    });
                    if !fix.edits.is_empty() {
                        let replacements: Vec<Value> = fix
                            .edits
                            .iter()
                            .map(|edit| {
                                json!({
                                    "deletedRegion": region(locator.position(edit.range.start), locator.position(edit.range.end)),
                                    "insertedContent": { "text": edit.replacement },
                                })
                            })
                            .collect();
                        let description = match fix.applicability {
                            Applicability::Safe => fix.title.clone(),
                            Applicability::Unsafe => {
                                format!("{} (unsafe: may change what the image does)", fix.title)
                            }
                        };
                        result["fixes"] = json!([{
                            "description": { "text": description },
                            "artifactChanges": [{
                                "artifactLocation": location,
                                "replacements": replacements,
                            }],
                        }]);
                    }
                }
                results.push(result);
            }
            for suppressed in outcome.suppressed.iter().filter(|_| show_suppressed) {
                let f = &suppressed.finding;
                let mut result = json!({
                    "ruleId": f.check.id,
                    "ruleIndex": checks.iter().position(|c| c.id == f.check.id),
                    "level": "warning",
                    "message": { "text": f.message },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": location,
                            "region": region(locator.position(f.range.start), locator.position(f.range.end)),
                        }
                    }],
                    "suppressions": [{ "kind": "inSource", "justification": suppressed.by }],
                });
                if result["ruleIndex"].is_null() {
                    if let Some(fields) = result.as_object_mut() {
                        fields.shift_remove("ruleIndex");
                    }
                }
                results.push(result);
            }
            // Pragmas dockopt could not use: warnings of the run, not results.
            for warning in &outcome.warnings {
                let start = locator.position(warning.range.start);
                warnings.push(json!({
                    "level": "warning",
                    "message": { "text": warning.message },
                    "locations": [{ "physicalLocation": {
                        "artifactLocation": location,
                        "region": { "startLine": start.line, "startColumn": start.column },
                    } }],
                }));
            }
        }
        if let Some((message, position)) = report.error_message() {
            let mut notification = json!({
                "level": "error",
                "message": { "text": message },
            });
            let mut physical = json!({ "artifactLocation": location });
            if let Some((line, column)) = position {
                physical["region"] = json!({ "startLine": line, "startColumn": column });
            }
            notification["locations"] = json!([{ "physicalLocation": physical }]);
            notifications.push(notification);
        }
    }
    for error in &plan.errors {
        notifications.push(json!({ "level": "error", "message": { "text": error } }));
    }

    let mut driver = json!({
        "name": "dockopt",
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    if let Some(uri) = information_uri() {
        driver["informationUri"] = json!(uri);
    }
    let mut run = json!({
        "tool": { "driver": driver },
        "columnKind": "unicodeCodePoints",
        "results": results,
        "invocations": [{
            "executionSuccessful": notifications.is_empty(),
            "toolExecutionNotifications": notifications.into_iter().chain(warnings).collect::<Vec<Value>>(),
        }],
    });
    if let Some(root) = srcroot() {
        run["originalUriBaseIds"] = json!({ SRCROOT: { "uri": root } });
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    })
}

/// A check as a SARIF rule; its transform (the parent) is a property.
fn rule(check: &transforms::Check) -> Value {
    let transform = check.transform();
    let info = transforms::find_transform(transform);
    let doc = info.map_or(check.summary, |t| t.doc.trim());
    let mut properties = json!({ "transform": transform, "tags": ["dockerfile", transform] });
    if let Some(info) = info {
        properties["safety"] = json!(info.safety);
    }
    if !check.hadolint.is_empty() {
        properties["hadolint"] = json!(check.hadolint);
    }
    if !check.buildkit.is_empty() {
        properties["buildkit"] = json!(check.buildkit);
    }
    json!({
        "id": check.id,
        "shortDescription": { "text": format!("{}.", check.summary) },
        "fullDescription": { "text": doc, "markdown": doc },
        "help": { "text": doc, "markdown": doc },
        "defaultConfiguration": { "level": "warning" },
        "properties": properties,
    })
}

/// Where to learn about dockopt: the package's homepage or repository, when Cargo.toml has one.
fn information_uri() -> Option<&'static str> {
    [env!("CARGO_PKG_HOMEPAGE"), env!("CARGO_PKG_REPOSITORY")]
        .into_iter()
        .find(|uri| !uri.is_empty())
}

/// Region end columns are exclusive, as ours are.
fn region(start: Position, end: Position) -> Value {
    json!({
        "startLine": start.line,
        "startColumn": start.column,
        "endLine": end.line,
        "endColumn": end.column,
    })
}

/// A relative path is relative to `%SRCROOT%` (the current directory); an absolute one is a
/// `file:` URI.
fn artifact_location(display: &str) -> Value {
    let slashed = display.replace('\\', "/");
    if Path::new(display).is_absolute() {
        json!({ "uri": file_uri(&slashed) })
    } else {
        json!({ "uri": percent_encode(&slashed), "uriBaseId": SRCROOT })
    }
}

/// The current directory as a `file:` URI ending with `/`.
fn srcroot() -> Option<String> {
    let cwd = std::env::current_dir().ok()?;
    let mut uri = file_uri(&cwd.display().to_string().replace('\\', "/"));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    Some(uri)
}

fn file_uri(absolute: &str) -> String {
    if absolute.starts_with('/') {
        format!("file://{}", percent_encode(absolute))
    } else {
        // A Windows path (`C:/x`).
        format!("file:///{}", percent_encode(absolute))
    }
}

/// Percent-encode everything but unreserved characters, `/` and a drive letter's `:`.
pub fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, byte) in path.bytes().enumerate() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/')
            || (byte == b':' && i == 1 && path.as_bytes()[0].is_ascii_alphabetic());
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uris() {
        assert_eq!(percent_encode("a b/<stdin>"), "a%20b/%3Cstdin%3E");
        assert_eq!(percent_encode("C:/x y"), "C:/x%20y");
        assert_eq!(file_uri("/tmp/a b"), "file:///tmp/a%20b");
        assert_eq!(file_uri("C:/w"), "file:///C:/w");
        assert_eq!(
            artifact_location("app/Dockerfile"),
            json!({ "uri": "app/Dockerfile", "uriBaseId": "%SRCROOT%" })
        );
    }
}
