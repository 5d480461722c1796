use super::*;
use crate::{Context, Settings};

fn settings(unsafe_fixes: bool) -> Settings {
    Settings { unsafe_fixes, select: Some(vec![NAME.to_string()]), ..Settings::default() }
}

/// The text after the fix loop with only this transform.
fn fixed_with(source: &str, unsafe_fixes: bool) -> String {
    let outcome = crate::optimize(source, &Context::default(), &settings(unsafe_fixes)).expect("parses");
    assert_eq!(outcome.error, None);
    let again = crate::optimize(&outcome.text, &Context::default(), &settings(unsafe_fixes)).expect("output parses");
    assert_eq!(again.text, outcome.text, "not idempotent");
    outcome.text
}

fn fixed(source: &str) -> String {
    fixed_with(source, true)
}

fn findings(source: &str) -> Vec<Finding> {
    let file = crate::parse_strict(source).expect("parses");
    let context = Context::default();
    let settings = settings(true);
    let input = Input::new(&file, &context, &settings);
    run(&input)
}

fn whys(source: &str) -> Vec<String> {
    findings(source).into_iter().filter(|f| f.fix.is_none()).filter_map(|f| f.why).collect()
}

#[test]
fn merges_two_runs() {
    assert_eq!(fixed("FROM x\nRUN a\nRUN b\n"), "FROM x\nRUN a \\\n    && b\n");
}

#[test]
fn follows_the_trailing_and_style_and_indentation() {
    let source = "FROM x\nRUN a && \\\n\tb\nRUN c\n";
    assert_eq!(fixed(source), "FROM x\nRUN a && \\\n\tb && \\\n\tc\n");
}

#[test]
fn uses_the_files_escape_token() {
    let source = "# escape=`\nFROM x\nSHELL [\"/bin/sh\", \"-c\"]\nRUN a\nRUN b\n";
    assert_eq!(fixed(source), "# escape=`\nFROM x\nSHELL [\"/bin/sh\", \"-c\"]\nRUN a `\n    && b\n");
}

#[test]
fn keeps_comments_and_drops_blank_lines_between() {
    let source = "FROM x\nRUN a\n\n# why b\n\nRUN b\n";
    assert_eq!(fixed(source), "FROM x\nRUN a \\\n# why b\n    && b\n");
}

#[test]
fn keeps_crlf() {
    let source = "FROM x\r\nRUN a   \r\n\r\nRUN b\r\n";
    assert_eq!(fixed(source), "FROM x\r\nRUN a \\\r\n    && b\r\n");
}

#[test]
fn wraps_state_in_a_subshell_only_when_something_follows() {
    assert_eq!(fixed("FROM x\nRUN cd /a && make\nRUN b\n"), "FROM x\nRUN (cd /a && make) \\\n    && b\n");
    assert_eq!(fixed("FROM x\nRUN a\nRUN cd /a && make\n"), "FROM x\nRUN a \\\n    && cd /a && make\n");
    // `((` would be arithmetic.
    assert_eq!(fixed("FROM x\nRUN (a) && cd /b\nRUN c\n"), "FROM x\nRUN ( (a) && cd /b) \\\n    && c\n");
}

#[test]
fn groups_later_scripts_that_are_not_one_and_list() {
    assert_eq!(fixed("FROM x\nRUN a; b\nRUN c; d\n"), "FROM x\nRUN a; b \\\n    && { c; d; }\n");
    assert_eq!(fixed("FROM x\nRUN a\nRUN b || c\n"), "FROM x\nRUN a \\\n    && { b || c; }\n");
    assert_eq!(fixed("FROM x\nRUN a;\nRUN b\n"), "FROM x\nRUN { a; } \\\n    && b\n");
    // A constant assignment after `&&` would make ShellCheck flag its unquoted use (SC2086).
    assert_eq!(fixed("FROM x\nRUN a\nRUN v=1 && b $v\n"), "FROM x\nRUN a \\\n    && { v=1 && b $v; }\n");
}

#[test]
fn refuses_what_cannot_be_chained() {
    let refused = |source: &str, needle: &str| {
        assert_eq!(fixed(source), source, "{source}");
        let whys = whys(source);
        assert!(whys.iter().any(|w| w.contains(needle)), "{source}: {whys:?}");
    };
    refused("FROM x\nRUN a # note\nRUN b\n", "shell comment");
    refused("FROM x\nRUN a &\nRUN b\n", "background");
    refused("FROM x\nRUN [\"a\"]\nRUN b\n", "exec form");
    refused("FROM x\nRUN a\nRUN <<EOF\nb\nEOF\n", "heredoc");
    refused("FROM x\nRUN set -e; a; b\nRUN c\n", "set -e");
    refused("FROM x\nRUN (set -e; a; b)\nRUN c\n", "set -e");
    refused("FROM x\nSHELL [\"/bin/sh\", \"-ec\"]\nRUN for f in *; do a $f; done\nRUN c\n", "set -e");
    refused("FROM x\nRUN export V=1 && a\nRUN echo \"$V\"\n", "SC2031");
    refused("FROM x\nRUN a\n# hadolint ignore=DL3008\nRUN b\n", "hadolint ignore");
}

#[test]
fn set_e_in_a_plain_and_list_is_fine() {
    assert_eq!(fixed("FROM x\nRUN set -eux && a && b\nRUN c\n"), "FROM x\nRUN (set -eux && a && b) \\\n    && c\n");
    let shell = "FROM x\nSHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\nRUN a; b\nRUN c\n";
    assert_eq!(fixed(shell), "FROM x\nSHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\nRUN a; b \\\n    && c\n");
}

#[test]
fn leaves_different_flags_and_non_posix_shells_alone_silently() {
    for source in [
        "FROM x\nRUN --network=none a\nRUN b\n",
        "FROM x\nSHELL [\"powershell\", \"-Command\"]\nRUN a\nRUN b\n",
        "FROM x\nSHELL [\"fish\", \"-c\"]\nRUN a\nRUN b\n",
    ] {
        assert_eq!(fixed(source), source);
        assert!(findings(source).is_empty(), "{source}");
    }
}

#[test]
fn windows_runs_follow_textual_rules() {
    let cmd = "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN a\nRUN b\n";
    assert_eq!(fixed(cmd), "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN a `\n    && b\n");
    // cmd expands %PATH% before running the line: setx in the first RUN would not be seen.
    let expands = "FROM mcr.microsoft.com/windows/servercore\nRUN setx /M PATH C:\\x\nRUN echo %PATH%\n";
    assert_eq!(fixed(expands), expands);
    let stop = "FROM x\nSHELL [\"pwsh\", \"-Command\", \"$ErrorActionPreference = 'Stop';\"]\nRUN Remove-Item a\nRUN Remove-Item b\n";
    assert!(fixed(stop).ends_with("RUN Remove-Item a ; \\\n    Remove-Item b\n"), "{}", fixed(stop));
    // A native program's failure would no longer stop the build.
    let native = "FROM x\nSHELL [\"pwsh\", \"-Command\", \"$ErrorActionPreference = 'Stop';\"]\nRUN choco install git\nRUN Remove-Item b\n";
    assert_eq!(fixed(native), native);
    // A stage built FROM another runs under the SHELL that one ended with.
    let inherited = "FROM mcr.microsoft.com/windows/servercore AS base\nSHELL [\"powershell\", \"-Command\", \"$ErrorActionPreference = 'Stop';\"]\nFROM base\nRUN Remove-Item a\nRUN Remove-Item b\n";
    assert!(fixed(inherited).ends_with("RUN Remove-Item a ; \\\n    Remove-Item b\n"), "{}", fixed(inherited));
    let crlf = "FROM mcr.microsoft.com/windows/servercore\r\nRUN a\r\nRUN b\r\n";
    assert_eq!(fixed(crlf), "FROM mcr.microsoft.com/windows/servercore\r\nRUN a \\\r\n    && b\r\n");
}

#[test]
fn does_not_cross_instructions_or_stages() {
    let source = "FROM x\nRUN a\nENV A=1\nRUN b\nFROM y\nRUN c\n";
    assert_eq!(fixed(source), source);
}

#[test]
fn build_stages_are_left_apart_unless_configured() {
    // `base` is in the shipped image (the final stage is built on it); `build` only lends files.
    let source = "FROM x AS build\nRUN a\nRUN b\nFROM x AS base\nRUN c\nRUN d\nFROM base\nCOPY --from=build /a /a\nRUN e\nRUN f\n";
    let file = crate::parse_strict(source).unwrap();
    let context = Context::default();
    let by_default = findings(source);
    assert_eq!(by_default.len(), 2);
    assert!(by_default.iter().all(|f| f.range.start > source.find("FROM x AS base").unwrap()));
    assert!(by_default.iter().all(|f| !f.why.as_deref().unwrap().contains("do not ship")));

    let mut settings = settings(true);
    settings.config.merge_runs.build_stages = true;
    let all = run(&Input::new(&file, &context, &settings));
    assert_eq!(all.len(), 3);
    assert!(all[0].why.as_deref().unwrap().contains("do not ship"));
    assert!(!all[1].why.as_deref().unwrap().contains("do not ship"));

    settings.config.only_final_stage = true;
    let only_final = run(&Input::new(&file, &context, &settings));
    assert_eq!(only_final.len(), 1);
    assert!(only_final[0].range.start > source.find("FROM base").unwrap());
}

#[test]
fn a_daemon_makes_the_junction_unsafe_and_the_rest_stays_safe() {
    let source = "FROM x\nRUN a\nRUN service db start && b\nRUN c\nRUN d\n";
    assert_eq!(fixed_with(source, false), "FROM x\nRUN a \\\n    && service db start && b\nRUN c \\\n    && d\n");
    assert_eq!(fixed_with(source, true), "FROM x\nRUN a \\\n    && service db start && b \\\n    && c \\\n    && d\n");
    let tmpfs = "FROM x\nRUN --mount=type=tmpfs,target=/tmp a\nRUN --mount=type=tmpfs,target=/tmp b\n";
    assert_eq!(fixed_with(tmpfs, false), tmpfs);
    assert_ne!(fixed_with(tmpfs, true), tmpfs);
}

#[test]
fn moves_a_standalone_cleanup_with_its_comment() {
    let source = "FROM x\nRUN apt-get update && apt-get install -y a\nENV A=1\n# tidy up\nRUN rm -rf /var/lib/apt/lists/*\nCMD [\"a\"]\n";
    assert_eq!(
        fixed(source),
        "FROM x\nRUN apt-get update && apt-get install -y a \\\n# tidy up\n    && rm -rf /var/lib/apt/lists/*\nENV A=1\nCMD [\"a\"]\n"
    );
}

#[test]
fn a_cleanup_the_creator_already_runs_is_deleted() {
    let source = "FROM x\nRUN apk add a && rm -rf /var/cache/apk/*\nLABEL a=b\n\nRUN rm -rf /var/cache/apk/*\n\nCMD [\"a\"]\n";
    assert_eq!(fixed(source), "FROM x\nRUN apk add a && rm -rf /var/cache/apk/*\nLABEL a=b\n\nCMD [\"a\"]\n");
}

#[test]
fn a_cleanup_stays_when_something_between_could_use_the_files() {
    for between in ["COPY a /a", "USER app", "RUN ./setup.sh", "RUN apt-get install -y b", "RUN cp -r /var/lib/apt/lists /keep"] {
        let source = format!("FROM x\nRUN apt-get update && apt-get install -y a\n{between}\nRUN apt-get clean\n");
        let out = fixed(&source);
        assert!(out.contains("\nRUN apt-get clean") || out.contains("&& apt-get clean"), "{between}: {out}");
        assert!(!out.starts_with("FROM x\nRUN apt-get update && apt-get install -y a \\\n    && apt-get clean"), "{between}: {out}");
    }
    // No RUN in the stage made the files: nothing to say.
    assert!(findings("FROM x\nENV A=1\nRUN rm -rf /var/lib/apt/lists/*\n").is_empty());
}

#[test]
fn recognises_cleanups() {
    let family = |script: &str| cleanup::is_cleanup(script);
    assert!(family("rm -rf /var/lib/apt/lists/*"));
    assert!(family("apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives"));
    assert!(family("yum clean all"));
    assert!(family("pip cache purge"));
    assert!(family("rm -rf ~/.cache/pip"));
    assert!(!family("rm -rf /var/lib/apt/lists/* /tmp/*"));
    assert!(!family("apt-get clean && pip cache purge"));
    assert!(!family("rm -rf /var/lib/apt/lists/../../../etc"));
    assert!(!family("apt-get update"));
}

#[test]
fn never_panics_on_odd_runs() {
    for source in [
        "FROM x\nRUN\nRUN a\n",
        "FROM x\nRUN a \\\n# only a comment\n",
        "FROM x\nRUN a \\\n\nRUN b\n",
        "FROM x\nRUN \\\n# c\n  a\nRUN b\n",
        "FROM x\nRUN a)\nRUN b\n",
        "FROM x\nRUN ;\nRUN b\n",
        "FROM x\nRUN a\nRUN rm -rf /var/lib/apt/lists/*",
        "FROM x\nONBUILD RUN a\nONBUILD RUN b\n",
    ] {
        let _ = fixed(source);
    }
}

#[test]
fn stops_before_the_script_gets_too_long_for_one_argument() {
    let long = "x".repeat(40 * 1024);
    let source = format!("FROM x\nRUN echo {long}\nRUN echo {long}\nRUN echo b\n");
    let out = fixed(&source);
    assert_eq!(out.matches("\nRUN ").count(), 2, "two RUNs left");
    assert!(whys(&source).iter().any(|w| w.contains("KiB")));
}

#[test]
fn shellopts_counts_as_errexit() {
    let source = "FROM x\nENV SHELLOPTS=errexit\nRUN for f in *; do a $f; done\nRUN b\n";
    assert_eq!(fixed(source), source);
}
