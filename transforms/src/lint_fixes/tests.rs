use crate::{optimize, Context, Settings};

fn settings(unsafe_fixes: bool) -> Settings {
    Settings { unsafe_fixes, select: Some(vec!["lint-fixes".to_string()]), ..Settings::default() }
}

/// The fixed text, checked to be a fixed point.
fn fix_with(source: &str, unsafe_fixes: bool) -> String {
    let settings = settings(unsafe_fixes);
    let outcome = optimize(source, &Context::default(), &settings).unwrap();
    assert_eq!(outcome.error, None, "{source}");
    let again = optimize(&outcome.text, &Context::default(), &settings).unwrap();
    assert_eq!(again.text, outcome.text, "not idempotent:\n{}", outcome.text);
    outcome.text
}

fn fix(source: &str) -> String {
    fix_with(source, true)
}

/// (check id, has a fix, why) of every finding.
fn findings(source: &str) -> Vec<(&'static str, bool, String)> {
    let outcome = optimize(source, &Context::default(), &settings(true)).unwrap();
    outcome.findings.iter().map(|r| (r.finding.check.id, r.finding.fix.is_some(), r.finding.why.clone().unwrap_or_default())).collect()
}

#[test]
fn wget_gets_the_progress_option_its_image_takes() {
    assert_eq!(fix("FROM debian:12\nRUN wget https://x/y\n"), "FROM debian:12\nRUN wget --progress=dot:giga https://x/y\n");
    assert_eq!(fix("FROM alpine:3.19\nRUN wget https://x/y\n"), "FROM alpine:3.19\nRUN wget -q https://x/y\n");
    assert_eq!(
        fix("FROM alpine:3.19\nRUN apk add --no-cache wget\nRUN sudo wget https://x/y\n"),
        "FROM alpine:3.19\nRUN apk add --no-cache wget\nRUN sudo wget --progress=dot:giga https://x/y\n"
    );
    assert_eq!(fix("FROM corp/base\nRUN wget \\\n  https://x/y\n"), "FROM corp/base\nRUN wget -q \\\n  https://x/y\n");
    for quiet in ["wget -qO- https://x", "wget -nv https://x", "wget --progress=bar:force https://x", "wget -o log https://x"] {
        let source = format!("FROM debian:12\nRUN {quiet}\n");
        assert_eq!(fix(&source), source);
    }
}

#[test]
fn literal_commands_take_the_exec_form() {
    assert_eq!(fix("FROM debian:12\nCMD python app.py --port 80\n"), "FROM debian:12\nCMD [\"python\", \"app.py\", \"--port\", \"80\"]\n");
    assert_eq!(fix("FROM debian:12\nCMD exec ./server \"a b\"\n"), "FROM debian:12\nCMD [\"./server\", \"a b\"]\n");
    assert_eq!(fix_with("FROM debian:12\nCMD exec ./server\n", false), "FROM debian:12\nCMD [\"./server\"]\n", "exec already made it PID 1");
    assert_eq!(fix_with("FROM debian:12\nCMD ./server\n", false), "FROM debian:12\nCMD ./server\n", "Unsafe");
    assert_eq!(
        fix_with("FROM debian:12\nHEALTHCHECK --interval=5s CMD curl -f http://localhost/\n", false),
        "FROM debian:12\nHEALTHCHECK --interval=5s CMD [\"curl\", \"-f\", \"http://localhost/\"]\n"
    );
    assert_eq!(fix("FROM debian:12\nENTRYPOINT /app/run --flag\n"), "FROM debian:12\nENTRYPOINT [\"/app/run\", \"--flag\"]\n");
}

#[test]
fn commands_that_need_the_shell_name_it_and_exec_their_last_program() {
    let cases = [
        ("CMD exec gunicorn --bind :$PORT app:app", r#"CMD ["/bin/sh", "-c", "exec gunicorn --bind :$PORT app:app"]"#, true),
        ("CMD service nginx start && tail -f /var/log/nginx.log", r#"CMD ["/bin/sh", "-c", "service nginx start && exec tail -f /var/log/nginx.log"]"#, false),
        ("CMD ./run > /tmp/log", r#"CMD ["/bin/sh", "-c", "exec ./run > /tmp/log"]"#, false),
        ("CMD ls *.txt", r#"CMD ["/bin/sh", "-c", "exec ls *.txt"]"#, false),
        ("HEALTHCHECK CMD curl -f http://localhost/ || exit 1", r#"HEALTHCHECK CMD ["/bin/sh", "-c", "curl -f http://localhost/ || exit 1"]"#, true),
        ("ENTRYPOINT /docker-entrypoint.sh\nCMD [\"--serve\"]", r#"ENTRYPOINT ["/bin/sh", "-c", "exec /docker-entrypoint.sh"]"#, false),
    ];
    for (before, after, safe) in cases {
        let before = before.replace("\\n", "\n").replace("\\\"", "\"");
        let source = format!("FROM debian:12\n{before}\n");
        let fixed = fix_with(&source, !safe);
        assert!(fixed.contains(after), "{before}:\n{fixed}");
    }
    // The SHELL in force is the one written out.
    assert_eq!(
        fix("FROM debian:12\nSHELL [\"/bin/bash\", \"-c\"]\nCMD run $X\n"),
        "FROM debian:12\nSHELL [\"/bin/bash\", \"-c\"]\nCMD [\"/bin/bash\", \"-c\", \"exec run $X\"]\n"
    );
}

#[test]
fn commands_no_program_can_stand_for_are_left() {
    for command in [
        "CMD A=1 ./run",
        "CMD cd /app",
        "CMD echo a | wc",
        "CMD [\"echo\", \"oops]",
        "CMD ./worker & ./server",
        "CMD echo \"a\\\\nb\"",
        "CMD echo -e hi",
    ] {
        let source = format!("FROM debian:12\n{command}\n");
        assert_eq!(fix(&source), source);
        let found = findings(&source);
        assert!(found.iter().any(|(id, fix, why)| *id == "lint-fixes/exec-form" && !fix && !why.is_empty()), "{command}: {found:?}");
    }
    let source = "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL [\"powershell\", \"-Command\"]\nCMD ./run.ps1\n";
    assert_eq!(fix(source), source);
}

#[test]
fn only_the_last_cmd_of_a_stage_stays() {
    assert_eq!(fix("FROM debian:12\nCMD [\"a\"]\nRUN true\nCMD [\"b\"]\nFROM debian:12\nCMD [\"c\"]\n"), "FROM debian:12\nRUN true\nCMD [\"b\"]\nFROM debian:12\nCMD [\"c\"]\n");
    let commented = "FROM debian:12\n# the default\nCMD [\"a\"]\nCMD [\"b\"]\n";
    assert_eq!(fix(commented), commented);
}

#[test]
fn platform_and_expose() {
    assert_eq!(fix("FROM --platform=$TARGETPLATFORM debian:12 AS a\n"), "FROM debian:12 AS a\n");
    let fixed_arg = "ARG TARGETPLATFORM=linux/arm64\nFROM --platform=${TARGETPLATFORM} debian:12\n";
    assert_eq!(fix(fixed_arg), fixed_arg);
    assert_eq!(fix("FROM debian:12\nEXPOSE 8080:80/TCP 53/UDP 9000\n"), "FROM debian:12\nEXPOSE 80/tcp 53/udp 9000\n");
    let found = findings("FROM --platform=linux/amd64 debian:12 AS build\nFROM --platform=linux/amd64 debian:12 AS build-amd64\n");
    assert_eq!(found.iter().filter(|f| f.0 == "lint-fixes/constant-platform").count(), 1, "{found:?}");
}

#[test]
fn stage_names_and_secrets_are_reported() {
    let found = findings("FROM debian:12 AS scratch\nARG GITHUB_TOKEN\nENV PUBLIC_KEY=x\nFROM debian:12 AS Scratch\n");
    let ids: Vec<&str> = found.iter().map(|f| f.0).collect();
    assert_eq!(ids, ["lint-fixes/reserved-stage-name", "lint-fixes/secret-in-arg-or-env", "lint-fixes/reserved-stage-name", "lint-fixes/duplicate-stage-name"]);
}

const BASH_PIPEFAIL: &str = "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n";

#[test]
fn pipefail_comes_from_a_shell_the_image_has() {
    let debian = "FROM debian:12\nRUN apt-get update\n# fetch the tool\nRUN curl -fsSL https://x | tar xz\nRUN wget -qO- https://y | sh\n";
    assert_eq!(fix(debian), format!("FROM debian:12\nRUN apt-get update\n{BASH_PIPEFAIL}# fetch the tool\nRUN curl -fsSL https://x | tar xz\nRUN wget -qO- https://y | sh\n"));
    assert_eq!(fix_with(debian, false), debian, "pipefail can fail a build that passed: Unsafe");
    assert_eq!(
        fix("FROM alpine:3.19\nRUN curl -fsSL https://x | tar xz\n"),
        "FROM alpine:3.19\nSHELL [\"/bin/ash\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl -fsSL https://x | tar xz\n"
    );
    // Unknown image: bash known only once a RUN installs it.
    let unknown = "FROM corp/base:1\nRUN curl -fsSL https://x | tar xz\n";
    assert_eq!(fix(unknown), unknown);
    assert!(findings(unknown).iter().any(|(id, fix, why)| *id == "lint-fixes/pipefail" && !fix && why.contains("not known to have bash")));
    assert_eq!(
        fix("FROM corp/base:1\nRUN apk add --no-cache bash curl\nRUN curl -fsSL https://x | tar xz\n"),
        format!("FROM corp/base:1\nRUN apk add --no-cache bash curl\n{BASH_PIPEFAIL}RUN curl -fsSL https://x | tar xz\n")
    );
    // A SHELL already set keeps its options.
    assert_eq!(
        fix("FROM debian:12\nSHELL [\"/bin/bash\", \"-eux\", \"-c\"]\nRUN a | b\n"),
        "FROM debian:12\nSHELL [\"/bin/bash\", \"-eux\", \"-c\"]\nSHELL [\"/bin/bash\", \"-eux\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n"
    );
}

#[test]
fn pipefail_is_not_switched_on_where_it_would_break_the_build() {
    for script in ["yes | apt-get install foo", "curl -s https://x | head -n 1 > v", "dpkg -l | grep -q foo || true"] {
        let source = format!("FROM debian:12\nRUN {script}\n");
        assert_eq!(fix(&source), source, "{script}");
    }
    // A later RUN of the stage runs under it too; and bash reads `echo '\n'` differently from dash.
    let later = "FROM debian:12\nRUN a | b\nRUN echo 'x\\ny' > /etc/motd\n";
    assert_eq!(fix(later), later);
    let alpine = "FROM alpine:3.19\nRUN a | b\nRUN echo 'x\\ny' > /etc/motd\n";
    assert!(fix(alpine).contains("SHELL [\"/bin/ash\""), "same shell under alpine");
    // A later SHELL ends what the new one governs.
    let reset = "FROM debian:12\nRUN a | b\nSHELL [\"/bin/sh\", \"-c\"]\nRUN yes | c\n";
    assert!(fix(reset).starts_with(&format!("FROM debian:12\n{BASH_PIPEFAIL}RUN a | b\n")));
}

#[test]
fn each_stage_says_pipefail_for_hadolint() {
    let source = "FROM debian:12 AS base\nRUN a | b\nFROM base\nRUN c | d\n";
    assert_eq!(fix(source), format!("FROM debian:12 AS base\n{BASH_PIPEFAIL}RUN a | b\nFROM base\n{BASH_PIPEFAIL}RUN c | d\n"));
    // The second SHELL repeats the one the stage inherits: Safe.
    let inherited = format!("FROM debian:12 AS base\n{BASH_PIPEFAIL}RUN a | b\nFROM base\nRUN c | d\n");
    assert_eq!(fix_with(&inherited, false), format!("FROM debian:12 AS base\n{BASH_PIPEFAIL}RUN a | b\nFROM base\n{BASH_PIPEFAIL}RUN c | d\n"));
}

#[test]
fn a_leading_cd_becomes_a_workdir() {
    // Nothing after depends on the old directory: the next WORKDIR is absolute.
    assert_eq!(
        fix_with("FROM debian:12\nRUN cd /tmp && make\nWORKDIR /app\nCOPY . .\n", false),
        "FROM debian:12\nWORKDIR /tmp\nRUN make\nWORKDIR /app\nCOPY . .\n"
    );
    // The old directory is put back when later instructions run in it.
    assert_eq!(
        fix_with("FROM debian:12\nWORKDIR /app\nRUN set -eux && cd vendor \\\n    && make\nRUN make install\n", false),
        "FROM debian:12\nWORKDIR /app\nWORKDIR /app/vendor\nRUN set -eux && make\nWORKDIR /app\nRUN make install\n"
    );
    // Put back to the base image's documented WORKDIR: Unsafe.
    let documented = "FROM golang:1.22\nRUN cd /src && go build\nCMD [\"app\"]\n";
    assert_eq!(fix_with(documented, false), documented);
    assert_eq!(fix(documented), "FROM golang:1.22\nWORKDIR /src\nRUN go build\nWORKDIR /go\nCMD [\"app\"]\n");
}

#[test]
fn a_cd_elsewhere_is_reported() {
    for (script, reason) in [
        ("make && cd /x && make install", "not the RUN's first command"),
        ("cd /x && make && cd /y && make", "more than once"),
        ("cd ~/src && make", "not a literal path"),
        ("cd /x; make", "not the RUN's first command"),
    ] {
        let source = format!("FROM debian:12\nRUN {script}\n");
        assert_eq!(fix(&source), source, "{script}");
        let found = findings(&source);
        assert!(found.iter().any(|(id, fix, why)| *id == "lint-fixes/cd-to-workdir" && !fix && why.contains(reason)), "{script}: {found:?}");
    }
    let unknown = "FROM corp/base\nRUN cd /x && make\nRUN make install\n";
    assert_eq!(fix(unknown), unknown, "the old directory cannot be put back");
}

#[test]
fn relative_paths_become_absolute_when_something_decides_them() {
    assert_eq!(fix_with("FROM debian:12\nWORKDIR /srv\nWORKDIR app\n", false), "FROM debian:12\nWORKDIR /srv\nWORKDIR /srv/app\n");
    assert_eq!(fix("FROM node:20-slim\nWORKDIR app\n"), "FROM node:20-slim\nWORKDIR /app\n");
    assert_eq!(fix_with("FROM node:20-slim\nWORKDIR app\n", false), "FROM node:20-slim\nWORKDIR app\n", "from the knowledge: Unsafe");
    assert_eq!(fix("FROM corp/base\nWORKDIR app\n"), "FROM corp/base\nWORKDIR app\n");
    assert_eq!(fix("FROM golang:1.22\nCOPY go.mod go.sum ./\nCOPY . src\n"), "FROM golang:1.22\nCOPY go.mod go.sum /go/\nCOPY . /go/src\n");
    assert_eq!(fix("FROM corp/base\nCOPY . app/\n"), "FROM corp/base\nCOPY . app/\n");
    assert_eq!(fix("FROM debian:12\nWORKDIR /app\nCOPY . .\n"), "FROM debian:12\nWORKDIR /app\nCOPY . .\n");
}

#[test]
fn expansions_that_are_one_path_are_quoted() {
    assert_eq!(
        fix_with("FROM debian:12\nENV APP_HOME=/opt/app\nRUN chmod +x $APP_HOME/bin/run.sh && cd $APP_HOME\n", false),
        "FROM debian:12\nENV APP_HOME=/opt/app\nRUN chmod +x \"$APP_HOME\"/bin/run.sh && cd \"$APP_HOME\"\n"
    );
    let unknown = "FROM debian:12\nRUN chmod +x $APP_HOME/bin/run.sh\n";
    assert_eq!(fix_with(unknown, false), unknown);
    assert_eq!(fix(unknown), "FROM debian:12\nRUN chmod +x \"$APP_HOME\"/bin/run.sh\n");
    let list = "FROM debian:12\nENV PKGS=\"a b\"\nRUN apt-mark manual $PKGS && mkdir $PKGS\n";
    assert_eq!(fix(list), list);
}

/// The example of transforms/docs/lint-fixes.md is what the transform does.
#[test]
fn the_documented_example_holds() {
    let doc = include_str!("../../docs/lint-fixes.md");
    let blocks: Vec<&str> = doc.split("```dockerfile\n").skip(1).map(|b| b.split("```").next().unwrap()).collect();
    let [before, after] = blocks[..] else { panic!("two dockerfile blocks") };
    assert_eq!(fix(before), after);
}

/// A command written over several lines keeps its lines in the exec form, and BuildKit reads the
/// array the rewrite means.
#[test]
fn the_exec_form_keeps_the_lines_of_the_command() {
    let exec_of = |text: &str| crate::syntax::parse(text).unwrap().instructions.last().unwrap().exec.clone().unwrap();
    let literal = fix("FROM debian:12\nCMD gunicorn \\\n    --bind 0.0.0.0:8000 \\\n\t\"app:create()\"\n");
    assert_eq!(literal, "FROM debian:12\nCMD [\"gunicorn\", \\\n    \"--bind\", \"0.0.0.0:8000\", \\\n\t\"app:create()\"]\n");
    assert_eq!(exec_of(&literal), ["gunicorn", "--bind", "0.0.0.0:8000", "app:create()"]);
    let shell = fix("FROM debian:12\nCMD service php-fpm start && \\\n\tnginx -g \"daemon off;\" \\\n    -c /etc/x\\\\y.conf\n");
    assert_eq!(shell, "FROM debian:12\nCMD [\"/bin/sh\", \"-c\", \"service php-fpm start && \\\n\\texec nginx -g \\\"daemon off;\\\" \\\n    -c /etc/x\\\\\\\\y.conf\"]\n");
    assert_eq!(exec_of(&shell), ["/bin/sh", "-c", "service php-fpm start && \texec nginx -g \"daemon off;\"     -c /etc/x\\\\y.conf"]);
}
