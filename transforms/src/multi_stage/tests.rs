use super::*;
use crate::{Context, Settings};

fn fix(source: &str) -> (String, Vec<Finding>) {
    let file = crate::syntax::parse_strict(source).unwrap();
    let context = Context::default();
    let settings = Settings { unsafe_fixes: true, ..Settings::default() };
    let input = Input::new(&file, &context, &settings);
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
    assert!(text.ends_with("CMD [\"/usr/local/bin/app\"]\n"), "{text:?}");
    crate::syntax::parse_strict(&text).unwrap();
}

#[test]
fn replace_word_only_whole_words() {
    assert_eq!(replace_word("CMD [\"/a/b\", \"/a/bc\"]", "/a/b", "/x"), "CMD [\"/x\", \"/a/bc\"]");
}
