//! ARG and ENV names that say they hold a secret (BuildKit's SecretsUsedInArgOrEnv): their values
//! stay in the image's configuration or build history for anyone who pulls it. Reported: moving a
//! secret to `RUN --mount=type=secret` changes how the build is invoked.

use crate::checks;
use crate::fix::Finding;
use crate::model::Input;
use crate::syntax::{assignments, Keyword};

/// Words that mark a secret, and words that mark it is not one (BuildKit's lists).
const SECRET: &[&str] = &["apikey", "auth", "credential", "credentials", "key", "password", "pword", "passwd", "secret", "token"];
const NOT_SECRET: &[&str] = &["public", "file", "version"];

pub(super) fn check(input: &Input) -> Vec<Finding> {
    let file = input.file;
    let mut findings = Vec::new();
    for (index, inst) in file.instructions.iter().enumerate() {
        if !matches!(inst.keyword, Keyword::Arg | Keyword::Env) || inst.sub.is_some() || input.model().stage_of(index).is_none() {
            continue;
        }
        for (name, _) in assignments(inst, file.escape) {
            if !names_a_secret(&name) {
                continue;
            }
            let keyword = inst.keyword.as_str();
            let range = inst.keyword_span.start..inst.args_source_range().end;
            findings.push(
                Finding::new(&checks::LINT_FIXES_SECRET_IN_ARG_OR_ENV, range, format!("`{keyword} {name}` looks like a secret: its value stays in the image"))
                    .with_why("ARG and ENV values are kept in the image's configuration or build history; pass secrets with `RUN --mount=type=secret` (BuildKit's SecretsUsedInArgOrEnv)"),
            );
        }
    }
    findings
}

/// BuildKit's test: one `_`-separated part of the name is a secret word and none is an allowed one.
fn names_a_secret(name: &str) -> bool {
    let parts: Vec<String> = name.split('_').map(str::to_ascii_lowercase).collect();
    parts.iter().any(|p| SECRET.contains(&p.as_str())) && !parts.iter().any(|p| NOT_SECRET.contains(&p.as_str()))
}

#[cfg(test)]
mod tests {
    use super::names_a_secret;

    #[test]
    fn secret_names() {
        assert!(names_a_secret("GITHUB_TOKEN") && names_a_secret("api_key") && names_a_secret("AUTH") && names_a_secret("DATABASE_PASSWORD"));
        assert!(!names_a_secret("PUBLIC_KEY") && !names_a_secret("TOKEN_FILE") && !names_a_secret("KEYBOARD") && !names_a_secret("MONKEY"));
    }
}
