use super::*;
use crate::{Context, Settings};

fn fix(source: &str) -> (String, Vec<Finding>) {
    fix_in(source, &Context::default())
}

fn fix_in(source: &str, context: &Context) -> (String, Vec<Finding>) {
    let file = crate::syntax::parse_strict(source).unwrap();
    let settings = Settings { unsafe_fixes: true, ..Settings::default() };
    let input = Input::new(&file, context, &settings);
    let findings = run(&input);
    let edits: Vec<&Edit> = findings.iter().filter_map(|f| f.fix.as_ref()).flat_map(|f| f.edits.iter()).collect();
    (crate::fix::apply_edits(source, &edits), findings)
}

#[test]
fn splits_a_go_build() {
    let source = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/app .\nEXPOSE 80\nCMD [\"/out/app\"]\n";
    let (text, findings) = fix(source);
    assert_eq!(findings.len(), 1);
    assert!(text.starts_with("FROM golang:1.22 AS build\n"), "{text}");
    assert!(text.contains("FROM debian:bookworm-slim\n"), "{text}");
    assert!(text.contains("COPY --from=build /out/app /usr/local/bin/app\n"), "{text}");
    assert!(text.ends_with("EXPOSE 80\nCMD [\"/usr/local/bin/app\"]\n"), "{text}");
    // Once split, nothing more to do.
    assert!(fix(&text).1.is_empty());
}

#[test]
fn no_toolchain_no_finding() {
    let (_, findings) = fix("FROM debian:bookworm-slim\nRUN make\nCMD [\"x\"]\n");
    assert!(findings.is_empty());
}

#[test]
fn missing_final_newline_stays_well_formed() {
    let source = "FROM golang:1.22\nWORKDIR /src\nRUN go build -o app .\nCMD [\"./app\"]";
    let (text, _) = fix(source);
    assert!(text.contains("FROM golang:1.22 AS build\nWORKDIR /src\nRUN go build -o app .\n\nFROM"), "{text:?}");
    assert!(text.ends_with("CMD [\"/usr/local/bin/app\"]"), "{text:?}");
    crate::syntax::parse_strict(&text).unwrap();
}

#[test]
fn replace_word_only_whole_words() {
    assert_eq!(replace_word("CMD [\"/a/b\", \"/a/bc\"]", "/a/b", "/x"), "CMD [\"/x\", \"/a/bc\"]");
}

#[test]
fn trailing_blank_lines_stay_at_the_end() {
    let source = "FROM golang:1.22\nWORKDIR /src\nRUN go build -o app .\n\n# run it\nCMD [\"./app\"]\n\n";
    let (text, _) = fix(source);
    assert!(text.ends_with("# run it\nCMD [\"/usr/local/bin/app\"]\n\n"), "{text:?}");
    assert!(text.contains("RUN go build -o app .\n\nFROM debian:bookworm-slim\n"), "{text:?}");
    assert_eq!(fix(&text).0, text);
}

#[test]
fn sources_say_what_the_program_opens() {
    let source = "FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build -o /app/server .\nCMD [\"/app/server\"]\n";
    let listing = ["config.yaml", "go.mod", "main.go", "templates/", "templates/a.html"];
    let mut context = Context { files: Some(listing.iter().map(|f| f.to_string()).collect()), ..Context::default() };
    // The source is listed but not read: the data beside it may be opened.
    let (text, findings) = fix_in(source, &context);
    assert_eq!(text, source);
    let why = findings[0].why.as_deref().unwrap_or_default();
    assert!(why.contains("1 of the 1 Go source files could not be read") && why.contains("config.yaml, templates/"), "{why}");
    // Read: what it names is copied, the rest is said.
    context.contents.insert("main.go".into(), "package main\nimport \"os\"\nfunc main() { os.ReadFile(\"config.yaml\") }\n".into());
    let (text, findings) = fix_in(source, &context);
    assert!(text.contains("COPY --from=build /app/config.yaml /app/config.yaml\n"), "{text}");
    let why = findings[0].why.as_deref().unwrap_or_default();
    assert!(why.contains("Not copied, as no source names them: templates/"), "{why}");
}

/// With every transform on, the stage multi-stage turns into the build stage keeps its image:
/// approved-base's slim swap waits for the split and then leaves the stage alone (it no longer
/// ships; a slim build stage lacks what native addons need).
#[test]
fn the_build_stage_is_not_slim_swapped_in_the_same_pass() {
    let source = "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\nCMD [\"node\", \"dist/server.js\"]\n";
    for named in [false, true] {
        let source = if named { source.replacen("FROM node:20", "FROM node:20 AS builder", 1) } else { source.to_string() };
        let settings = Settings { unsafe_fixes: true, ..Settings::default() };
        let listing = ["Dockerfile", "package.json", "package-lock.json", "src/", "src/server.ts"];
        let mut context = Context { files: Some(listing.iter().map(|f| f.to_string()).collect()), ..Context::default() };
        let manifest = r#"{"name": "web", "scripts": {"build": "tsc"}, "dependencies": {"express": "^4"}, "devDependencies": {"typescript": "^5"}}"#;
        context.contents.insert("package.json".into(), manifest.into());
        let outcome = crate::engine::optimize(&source, &context, &settings).unwrap();
        let first = outcome.text.lines().next().unwrap();
        assert!(first.starts_with("FROM node:20 AS "), "{}", outcome.text);
        assert!(outcome.text.contains("\nFROM node:20-slim\n"), "{}", outcome.text);
    }
}
