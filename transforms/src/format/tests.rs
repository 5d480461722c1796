use crate::{optimize, Config, Context, Settings};

fn format_with(source: &str, config: &str) -> String {
    let settings = Settings {
        select: Some(vec!["format".to_string()]),
        config: Config::from_toml(config).unwrap(),
        ..Settings::default()
    };
    let outcome = optimize(source, &Context::default(), &settings).unwrap();
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert!(outcome.findings.iter().all(|f| f.finding.fix.is_some()), "left as written: {:?}", outcome.findings);
    let again = optimize(&outcome.text, &Context::default(), &settings).unwrap();
    assert_eq!(again.text, outcome.text, "not idempotent");
    outcome.text
}

fn format(source: &str) -> String {
    format_with(source, "")
}

#[test]
fn the_documented_example() {
    let source = "from debian:bookworm-slim as Build\nrun apt-get update && \\\n  apt-get install -y curl git && \\\n        rm -rf /var/lib/apt/lists/*   \ncmd [ \"curl\" ,\"--version\" ]\n";
    assert_eq!(
        format(source),
        "FROM debian:bookworm-slim AS Build\nRUN apt-get update \\\n    && apt-get install -y curl git \\\n    && rm -rf /var/lib/apt/lists/*\nCMD [\"curl\", \"--version\"]\n"
    );
}

#[test]
fn quotes_and_glued_words_across_lines_are_kept() {
    let source = "FROM a\nRUN echo \"a   \\\n  b\" && echo c\\\nd && \\\n   true\n";
    assert_eq!(format(source), "FROM a\nRUN echo \"a   \\\n  b\" && echo c\\\nd \\\n    && true\n");
}

#[test]
fn operators_last_and_keep() {
    let source = "FROM a\nRUN a \\\n  && b \\\n  || c\n";
    assert_eq!(format_with(source, "[format]\noperator = \"last\""), "FROM a\nRUN a && \\\n    b || \\\n    c\n");
    assert_eq!(format_with(source, "[format]\noperator = \"keep\"\nindent = 2"), "FROM a\nRUN a \\\n  && b \\\n  || c\n");
}

#[test]
fn blank_lines_comments_and_final_newline() {
    let source = "\n\n# a comment  \nFROM a\n\n\n\n  # indented\nRUN x \\\n\n    # inside\n  && y\n\n";
    assert_eq!(format(source), "# a comment\nFROM a\n\n# indented\nRUN x \\\n    # inside\n    && y\n");
    assert_eq!(format("FROM a"), "FROM a\n");
    assert_eq!(format_with("FROM a", "[format]\nfinal-newline = \"keep\""), "FROM a");
}

#[test]
fn nested_levels_and_tabs() {
    let source = "FROM a\nRUN set -eux; \\\n\tapt-get install -y \\\n\t\tcurl \\\n\t\tgit \\\n\t; \\\n\trm -rf /x\n";
    assert_eq!(format(source), "FROM a\nRUN set -eux \\\n\t; apt-get install -y \\\n\t\tcurl \\\n\t\tgit \\\n\t; \\\n\trm -rf /x\n");
}

#[test]
fn sort_packages() {
    let source = "FROM a\nRUN apt-get update && apt-get install -y zlib1g-dev git curl build-essential && rm -rf /x\n";
    assert_eq!(
        format_with(source, "[format]\nsort-packages = true"),
        "FROM a\nRUN apt-get update && apt-get install -y \\\n    build-essential \\\n    curl \\\n    git \\\n    zlib1g-dev \\\n    && rm -rf /x\n"
    );
}

#[test]
fn sort_packages_nests_under_a_continued_command() {
    let source = "FROM a\nRUN apt-get update \\\n && apt-get install -y --no-install-recommends zlib1g-dev git curl build-essential \\\n && rm -rf /x\n";
    assert_eq!(
        format_with(source, "[format]\nsort-packages = true"),
        "FROM a\nRUN apt-get update \\\n    && apt-get install -y --no-install-recommends \\\n        build-essential \\\n        curl \\\n        git \\\n        zlib1g-dev \\\n    && rm -rf /x\n"
    );
    let short = "FROM a\nRUN apk add --no-cache git bash\n";
    assert_eq!(format_with(short, "[format]\nsort-packages = true"), "FROM a\nRUN apk add --no-cache bash git\n");
}

#[test]
fn windows_files_keep_their_shell_and_escape() {
    let source = "# escape=`\nfrom mcr.microsoft.com/windows/servercore:ltsc2022\nrun powershell -Command `\n      Write-Host hi ;`\n  Write-Host there\ncopy  a  b\nENV A=1 `\n B=2\n";
    assert_eq!(
        format(source),
        "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nrun powershell -Command `\n      Write-Host hi ;`\n  Write-Host there\nCOPY a b\nENV A=1 `\n    B=2\n"
    );
}

#[test]
fn crlf_and_heredocs() {
    let source = "FROM a\r\nrun <<EOF  \r\n  echo   hi  \r\nEOF\r\ncopy  <<-X /x\r\n\tbody\r\n\tX\r\n";
    assert_eq!(format(source), "FROM a\r\nRUN <<EOF\r\n  echo   hi  \r\nEOF\r\nCOPY <<-X /x\r\n\tbody\r\n\tX\r\n");
}
