//! Every finding of `check --unsafe` points into the file on disk, in every output format that
//! carries positions (text, json, github, sarif), for every corpus Dockerfile: also findings first
//! raised in a later pass of the fix loop and artifacts (a .dockerignore proposal). The corpus
//! entries are laid out as build contexts (the listing's files, empty) so that the context-reading
//! transforms run as they would on the repository. The language server shares the JSON positions.

use std::collections::HashMap;
use std::path::Path;

mod common;

/// Lines of `text` as an editor counts them (a last line without a newline counts).
fn line_count(text: &str) -> usize {
    text.lines().count().max(1)
}

/// The corpus as build contexts under `root`, with each Dockerfile's line count.
fn lay_out(root: &Path) -> HashMap<String, usize> {
    common::lay_out_corpus(root).into_iter().map(|(path, text)| (path, line_count(&text))).collect()
}

/// A SARIF URI's path as written on disk (`C%2B%2B` is `C++`).
fn percent_decoded(uri: &str) -> String {
    let bytes = uri.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%').then(|| uri.get(i + 1..i + 3)).flatten();
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn check(root: &Path, files: &[String], format: &str) -> String {
    let mut args = vec!["check", "--unsafe", "--format", format];
    args.extend(files.iter().map(String::as_str));
    let output = common::run_dockopt(root, &args, None);
    assert!(output.status.code().is_some_and(|c| c <= 2), "{format}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// Every (path, line) a format reports, checked against the files on disk.
fn assert_inside(format: &str, lines: &HashMap<String, usize>, positions: &[(String, usize)]) {
    assert!(positions.len() > 1000, "{format}: only {} positions read", positions.len());
    let outside: Vec<String> = positions
        .iter()
        .filter(|(path, line)| {
            let count = lines.get(path.trim_start_matches("./")).unwrap_or_else(|| panic!("{format}: unknown path {path}"));
            *line < 1 || line > count
        })
        .map(|(path, line)| format!("{path}:{line} (the file has {} lines)", lines[path.trim_start_matches("./")]))
        .collect();
    assert!(outside.is_empty(), "{format}: positions outside the file:\n{}", outside.join("\n"));
}

#[test]
fn every_finding_points_into_the_file_on_disk() {
    let root = tempfile::tempdir().unwrap();
    let lines = lay_out(root.path());
    let mut files: Vec<String> = lines.keys().cloned().collect();
    files.sort();

    let json: serde_json::Value = serde_json::from_str(&check(root.path(), &files, "json")).unwrap();
    let mut positions = Vec::new();
    for file in json["files"].as_array().unwrap() {
        for finding in file["findings"].as_array().into_iter().flatten() {
            let path = finding["path"].as_str().unwrap().to_string();
            for end in ["start", "end"] {
                positions.push((path.clone(), finding[end]["line"].as_u64().unwrap() as usize));
            }
        }
    }
    assert_inside("json", &lines, &positions);

    let sarif: serde_json::Value = serde_json::from_str(&check(root.path(), &files, "sarif")).unwrap();
    let mut positions = Vec::new();
    for result in sarif["runs"][0]["results"].as_array().unwrap() {
        for location in result["locations"].as_array().into_iter().flatten() {
            let physical = &location["physicalLocation"];
            let path = percent_decoded(physical["artifactLocation"]["uri"].as_str().unwrap());
            for key in ["startLine", "endLine"] {
                if let Some(line) = physical["region"][key].as_u64() {
                    positions.push((path.clone(), line as usize));
                }
            }
        }
    }
    assert_inside("sarif", &lines, &positions);

    // `::warning file=PATH,line=N,endLine=M,…::message`
    let mut positions = Vec::new();
    for line in check(root.path(), &files, "github").lines().filter(|l| l.starts_with("::")) {
        let params = line.trim_start_matches(':').split("::").next().unwrap();
        let params = params.split_once(' ').map_or("", |(_, p)| p);
        let fields: HashMap<&str, &str> = params.split(',').filter_map(|kv| kv.split_once('=')).collect();
        let Some(path) = fields.get("file") else { continue };
        for key in ["line", "endLine"] {
            if let Some(n) = fields.get(key) {
                positions.push((path.to_string(), n.parse().unwrap()));
            }
        }
    }
    assert_inside("github", &lines, &positions);

    // `PATH:LINE:COL: check: message`
    let mut positions = Vec::new();
    for line in check(root.path(), &files, "text").lines() {
        let Some((path, rest)) = line.split_once("/Dockerfile:") else { continue };
        let Some(number) = rest.split(':').next().and_then(|n| n.parse().ok()) else { continue };
        positions.push((format!("{path}/Dockerfile"), number));
    }
    assert_inside("text", &lines, &positions);
}
