use crate::{optimize, Context, Settings};

fn fix(source: &str, files: &[&str], contents: &[(&str, &str)], unsafe_fixes: bool) -> (String, Vec<String>) {
    let context = Context {
        files: Some(files.iter().map(|f| f.to_string()).collect()),
        contents: contents.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..Context::default()
    };
    let settings = Settings { unsafe_fixes, select: Some(vec!["manifest-first".into()]), ..Settings::default() };
    let outcome = optimize(source, &context, &settings).expect("parses");
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let again = optimize(&outcome.text, &context, &settings).expect("output parses");
    assert_eq!(again.text, outcome.text, "idempotent");
    let notes = outcome.findings.iter().map(|f| format!("{} | {}", f.finding.message, f.finding.why.clone().unwrap_or_default())).collect();
    (outcome.text, notes)
}

#[test]
fn npm_ci_moves_after_the_manifests() {
    let (text, _) = fix(
        "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n",
        &["package.json", "package-lock.json", "server.js"],
        &[("package.json", r#"{"name": "x", "scripts": {"start": "node server.js"}}"#)],
        false,
    );
    assert_eq!(text, "FROM node:22\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nCMD [\"node\", \"server.js\"]\n");
}

const PKG: &str = r#"{"name": "x", "dependencies": {"express": "4"}}"#;

fn node_context() -> (Vec<&'static str>, Vec<(&'static str, &'static str)>) {
    (vec!["package.json", "package-lock.json", "server.js"], vec![("package.json", PKG)])
}

#[test]
fn without_a_listing_there_is_a_finding_and_no_fix() {
    let settings = Settings { unsafe_fixes: true, select: Some(vec!["manifest-first".into()]), ..Settings::default() };
    let source = "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    let outcome = optimize(source, &Context::default(), &settings).unwrap();
    assert_eq!(outcome.text, source);
    let finding = &outcome.findings[0].finding;
    assert!(finding.fix.is_none());
    assert!(finding.why.as_deref().unwrap().contains("build context is not known"), "{finding:?}");
}

#[test]
fn unknown_contents_make_the_fix_unsafe() {
    let source = "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    let files = ["package.json", "package-lock.json"];
    let (text, notes) = fix(source, &files, &[], false);
    assert_eq!(text, source, "not applied without --unsafe");
    assert!(notes[0].contains("is not known (only the listing is)"), "{notes:?}");
    let (text, _) = fix(source, &files, &[], true);
    assert!(text.contains("COPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n"), "{text}");
}

#[test]
fn only_final_stage_skips_earlier_stages() {
    let (files, contents) = node_context();
    let source = "FROM node:22 AS a\nWORKDIR /a\nCOPY . .\nRUN npm ci\nFROM node:22\nWORKDIR /b\nCOPY . .\nRUN npm ci\n";
    let context = Context {
        files: Some(files.iter().map(|f| f.to_string()).collect()),
        contents: contents.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..Context::default()
    };
    let mut settings = Settings { select: Some(vec!["manifest-first".into()]), ..Settings::default() };
    settings.config.only_final_stage = true;
    let outcome = optimize(source, &context, &settings).unwrap();
    assert_eq!(outcome.findings.len(), 1);
    assert!(outcome.text.starts_with("FROM node:22 AS a\nWORKDIR /a\nCOPY . .\nRUN npm ci\n"), "{}", outcome.text);
    assert!(outcome.text.ends_with("COPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n"), "{}", outcome.text);
}

#[test]
fn variables_in_workdir_and_destination_are_followed() {
    let (files, contents) = node_context();
    let source = "FROM node:22\nENV APP=/srv/app\nWORKDIR $APP\nCOPY . $APP\nRUN npm ci\n";
    let (text, _) = fix(source, &files, &contents, false);
    assert_eq!(text, "FROM node:22\nENV APP=/srv/app\nWORKDIR $APP\nCOPY package.json package-lock.json $APP/\nRUN npm ci\nCOPY . $APP\n");
}

#[test]
fn an_env_the_copy_uses_keeps_it_in_place() {
    let (files, contents) = node_context();
    let source = "FROM node:22\nWORKDIR /app\nARG DEST=.\nCOPY . $DEST\nENV DEST=/other\nRUN npm ci\n";
    let (text, notes) = fix(source, &files, &contents, true);
    assert_eq!(text, source);
    assert!(notes[0].contains("sets `DEST`, which the full COPY uses"), "{notes:?}");
}

#[test]
fn no_workdir_allows_a_move_but_no_manifest_copy() {
    let source = "FROM python:3.12\nCOPY . .\nRUN pip install flask\nCMD [\"python\", \"app.py\"]\n";
    let (text, _) = fix(source, &["app.py"], &[], false);
    assert_eq!(text, "FROM python:3.12\nRUN pip install flask\nCOPY . .\nCMD [\"python\", \"app.py\"]\n");
    let source = "FROM python:3.12\nCOPY . .\nRUN pip install -r requirements.txt\n";
    let (text, notes) = fix(source, &["requirements.txt"], &[("requirements.txt", "flask\n")], true);
    assert_eq!(text, source);
    assert!(notes[0].contains("DL3045"), "{notes:?}");
}

#[test]
fn heredoc_and_non_posix_installs_are_reported() {
    let (files, contents) = node_context();
    let source = "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN <<EOF\nnpm ci\nEOF\n";
    let (text, notes) = fix(source, &files, &contents, true);
    assert_eq!(text, source);
    assert!(notes[0].contains("heredoc"), "{notes:?}");
}

#[test]
fn already_manifest_first_in_a_parent_stage() {
    let source = "FROM golang:1.22 AS deps\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nFROM deps AS build\nCOPY . .\nRUN go build -o /app .\n";
    let (text, notes) = fix(source, &["go.mod", "go.sum", "main.go"], &[("go.mod", "module x\n")], true);
    assert_eq!(text, source);
    assert!(notes.is_empty(), "{notes:?}");
}

#[test]
fn context_free_runs_between_are_passed() {
    let (files, contents) = node_context();
    let source = "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*\nRUN npm install -g pnpm@9\nRUN npm ci\n";
    let (text, _) = fix(source, &files, &contents, false);
    assert_eq!(
        text,
        "FROM node:22\nWORKDIR /app\nRUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*\nRUN npm install -g pnpm@9\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n"
    );
}

#[test]
fn a_second_full_copy_ends_the_search() {
    let (files, contents) = node_context();
    let source = "FROM node:22\nWORKDIR /app\nCOPY . .\nCOPY . .\nRUN npm ci\n";
    let (text, notes) = fix(source, &files, &contents, true);
    // Only the second full COPY is followed by the install; the first stays (it is redundant, not ours).
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(text.ends_with("COPY . .\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n"), "{text}");
}

#[test]
fn dockerignored_manifests_are_not_copied() {
    let context = Context {
        files: Some(vec!["package.json".into(), "package-lock.json".into()]),
        contents: [("package.json".to_string(), PKG.to_string())].into_iter().collect(),
        dockerignore: Some("package-lock.json\n".into()),
        ..Context::default()
    };
    let settings = Settings { select: Some(vec!["manifest-first".into()]), ..Settings::default() };
    let outcome = optimize("FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm install\n", &context, &settings).unwrap();
    assert_eq!(outcome.text, "FROM node:22\nWORKDIR /app\nCOPY package.json ./\nRUN npm install\nCOPY . .\n");
}

#[test]
fn go_install_of_a_tool_is_context_free() {
    let source = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go install github.com/air-verse/air@latest\nRUN go build -o /app .\n";
    let (text, _) = fix(source, &["go.mod", "main.go"], &[("go.mod", "module x\n")], false);
    assert_eq!(
        text,
        "FROM golang:1.22\nWORKDIR /src\nRUN go install github.com/air-verse/air@latest\nCOPY go.mod ./\nRUN go mod download\nCOPY . .\nRUN go build -o /app .\n"
    );
}
