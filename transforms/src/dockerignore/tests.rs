use crate::{optimize, Applicability, Artifact, Context, Outcome, Settings};

use crate::model::matcher::Matcher;

fn settings() -> Settings {
    Settings { unsafe_fixes: true, select: Some(vec!["dockerignore".to_string()]), ..Settings::default() }
}

fn context(files: &[&str], dockerignore: Option<&str>) -> Context {
    Context {
        files: Some(files.iter().map(|s| s.to_string()).collect()),
        dockerignore: dockerignore.map(str::to_string),
        artifacts_allowed: true,
        ..Context::default()
    }
}

fn outcome(dockerfile: &str, files: &[&str], dockerignore: Option<&str>) -> Outcome {
    optimize(dockerfile, &context(files, dockerignore), &settings()).unwrap()
}

fn artifact(dockerfile: &str, files: &[&str], dockerignore: Option<&str>) -> Option<Artifact> {
    let outcome = outcome(dockerfile, files, dockerignore);
    assert!(outcome.artifacts.len() <= 1);
    assert_eq!(outcome.text, dockerfile, "the Dockerfile itself never changes");
    outcome.artifacts.into_iter().next()
}

/// The pattern lines of a proposal (comments dropped).
fn patterns(artifact: &Artifact) -> Vec<String> {
    artifact.text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).map(str::to_string).collect()
}

const NODE: &str = "FROM node:20-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nCMD [\"node\", \"src/index.js\"]\n";
const NODE_FILES: &[&str] = &[
    ".env",
    ".git/",
    "Dockerfile",
    "node_modules/",
    "node_modules/express/",
    "node_modules/express/index.js",
    "package-lock.json",
    "package.json",
    "src/",
    "src/index.js",
];

#[test]
fn node_app_gets_a_short_relevant_file() {
    let a = artifact(NODE, NODE_FILES, None).unwrap();
    assert_eq!(a.path, ".dockerignore");
    assert_eq!(a.original, None);
    assert_eq!(a.applicability, Applicability::Unsafe, "COPY . . stops copying these paths");
    assert_eq!(patterns(&a), [".git", "**/.env", "**/node_modules", "Dockerfile*", ".dockerignore"]);
    assert!(a.text.contains("# Dependencies the build installs itself"), "{}", a.text);
    assert!(a.text.contains("(`npm ci`)"), "{}", a.text);
}

#[test]
fn the_finding_says_what_would_be_copied_and_where() {
    let o = outcome(NODE, NODE_FILES, None);
    assert_eq!(o.findings.len(), 1);
    let f = &o.findings[0].finding;
    assert_eq!(
        f.message,
        "build context has no .dockerignore: .git/ (and 3 more: .env, node_modules/, Dockerfile) would be sent to the builder \
         and copied into the image by `COPY . .`"
    );
    assert_eq!(&NODE[f.range.clone()], "COPY . .");
    // The remedy is the extra file: a fix without edits that says how safe it is.
    let fix = f.fix.as_ref().expect("the finding carries its applicability");
    assert!(fix.edits.is_empty());
    assert_eq!(fix.applicability, crate::fix::Applicability::Unsafe);
    assert!(o.findings[0].applied, "the file is proposed under --unsafe");
    assert!(f.why.as_deref().unwrap().contains("Unsafe"));
}

#[test]
fn nothing_without_a_context_or_without_artifacts() {
    let o = optimize(NODE, &Context::default(), &settings()).unwrap();
    assert!(o.findings.is_empty() && o.artifacts.is_empty());
    let mut ctx = context(NODE_FILES, None);
    ctx.artifacts_allowed = false;
    let o = optimize(NODE, &ctx, &settings()).unwrap();
    assert_eq!(o.findings.len(), 1, "the finding still reports");
    assert!(o.artifacts.is_empty(), "stdin: no file is proposed");
}

#[test]
fn an_unsafe_proposal_needs_unsafe() {
    let o = optimize(NODE, &context(NODE_FILES, None), &Settings { unsafe_fixes: false, ..settings() }).unwrap();
    assert_eq!(o.findings.len(), 1);
    assert!(o.artifacts.is_empty());
    assert!(!o.findings[0].applied);
}

#[test]
fn nothing_worth_ignoring_means_no_finding() {
    let files = &["Dockerfile", "package.json", "src/index.js"];
    let o = outcome(NODE, files, None);
    assert!(o.findings.is_empty(), "the Dockerfile alone is not worth a .dockerignore: {:?}", o.findings);
    assert!(o.artifacts.is_empty());
}

#[test]
fn git_stays_when_a_run_calls_git() {
    let dockerfile = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -ldflags \"-X main.version=$(git describe --tags)\" -o /app .\n";
    let a = artifact(dockerfile, &[".git/", ".env", "go.mod", "main.go"], None).unwrap();
    assert_eq!(patterns(&a), ["**/.env", ".dockerignore"]);
    assert!(a.text.contains("#   .git/: a RUN reads it (`git describe --tags`)"), "{}", a.text);
}

#[test]
fn git_clone_does_not_read_the_context_repository() {
    let dockerfile = "FROM alpine\nRUN apk add git && git clone https://example.com/x.git /x\nCOPY . /app\n";
    let a = artifact(dockerfile, &[".git/", "app.sh"], None).unwrap();
    assert_eq!(patterns(&a), [".git", ".dockerignore"]);
}

#[test]
fn git_in_a_powershell_run_is_found_by_name() {
    let dockerfile = "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL [\"powershell\", \"-Command\"]\nCOPY . C:/app\nRUN git rev-parse HEAD\n";
    assert!(artifact(dockerfile, &[".git/", "app.ps1"], None).is_none());
}

#[test]
fn a_copied_env_file_is_never_excluded() {
    let dockerfile = "FROM python:3.12-slim\nCOPY .env /app/.env\nCOPY . /app\n";
    let a = artifact(dockerfile, &[".env", ".env.local", ".git/", "app.py"], None).unwrap();
    assert_eq!(patterns(&a), [".git", "**/.env.*", ".dockerignore"]);
    let m = Matcher::new(patterns(&a)).unwrap();
    assert!(!m.excludes(".env") && m.excludes(".env.local"));
}

#[test]
fn a_named_env_file_is_kept() {
    let dockerfile = "FROM node:20\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"--env-file=.env\", \"server.js\"]\n";
    let a = artifact(dockerfile, &[".env", ".git/", "package.json", "server.js"], None).unwrap();
    assert_eq!(patterns(&a), [".git", ".dockerignore"]);
    assert!(a.text.contains("#   .env: the Dockerfile names it"));
}

#[test]
fn env_examples_are_kept() {
    let dockerfile = "FROM python:3.12\nCOPY . /app\n";
    let a = artifact(dockerfile, &[".env.example", ".env.production", "app.py", ".git/"], None).unwrap();
    assert_eq!(patterns(&a), [".git", ".env.production", ".dockerignore"]);
}

#[test]
fn nothing_under_a_copied_directory_is_excluded() {
    let dockerfile = "FROM nginx\nCOPY config/ /etc/app/\nCOPY . /srv\n";
    let files = &["config/", "config/app.log", "config/.DS_Store", "debug.log", ".DS_Store", "index.html"];
    let a = artifact(dockerfile, files, None).unwrap();
    assert_eq!(patterns(&a), ["debug.log", ".DS_Store", ".dockerignore"]);
    let m = Matcher::new(patterns(&a)).unwrap();
    assert!(!m.excludes("config/app.log") && !m.excludes("config/.DS_Store"));
    assert!(a.text.contains("config/app.log: `COPY config/ /etc/app/` copies it"), "{}", a.text);
}

#[test]
fn a_copied_directory_the_listing_does_not_show_inside_is_protected_too() {
    // `**/*.log` could match inside `logs/` even though the listing does not go there.
    let dockerfile = "FROM alpine\nCOPY logs /logs\nCOPY . /app\n";
    let a = artifact(dockerfile, &["logs/", "x.log", ".git/"], None).unwrap();
    assert_eq!(patterns(&a), [".git", "x.log", ".dockerignore"]);
}

#[test]
fn explicit_copies_only_make_a_safe_file() {
    let dockerfile = "FROM node:20\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY src/ ./src/\n";
    let o = outcome(dockerfile, NODE_FILES, None);
    let f = &o.findings[0].finding;
    assert!(f.message.ends_with("would be sent to the builder (no instruction copies the whole context, so only the transfer is saved)"), "{}", f.message);
    assert_eq!(&dockerfile[f.range.clone()], "FROM node:20", "anchored at the first FROM");
    let a = o.artifacts.first().unwrap();
    assert_eq!(a.applicability, Applicability::Safe);
    // Without --unsafe a Safe file is still proposed.
    let o = optimize(dockerfile, &context(NODE_FILES, None), &Settings { unsafe_fixes: false, ..settings() }).unwrap();
    assert_eq!(o.artifacts.len(), 1);
}

#[test]
fn dependencies_stay_when_the_build_does_not_install_them() {
    let dockerfile = "FROM node:20\nWORKDIR /app\nCOPY . .\nCMD [\"node\", \"server.js\"]\n";
    let a = artifact(dockerfile, &[".git/", "node_modules/", "package.json", "server.js"], None).unwrap();
    assert_eq!(patterns(&a), [".git", ".dockerignore"]);
    assert!(a.text.contains("node_modules/: `COPY . .` copies it and no RUN of that stage recreates it"), "{}", a.text);
}

#[test]
fn dependencies_installed_in_a_stage_copied_from_count() {
    let dockerfile = "FROM node:20 AS deps\nCOPY package*.json ./\nRUN npm ci\n\nFROM node:20 AS build\nCOPY --from=deps /node_modules ./node_modules\nCOPY . .\nRUN npm run build\n\nFROM nginx\nCOPY --from=build /dist /usr/share/nginx/html\n";
    let a = artifact(dockerfile, &["node_modules/", "dist/", "package.json", "src/"], None).unwrap();
    assert_eq!(patterns(&a), ["**/node_modules", "dist", ".dockerignore"]);
    let o = outcome(dockerfile, &["node_modules/", "dist/", "package.json", "src/"], None);
    // The shipped image copies from `build`: its files may reach the image.
    let message = &o.findings[0].finding.message;
    assert!(message.contains("copied by `COPY . .` in stage `build`, from which the shipped image copies files"), "{message}");
    // A stage nothing ships from is said to be only the build's.
    let tests_only = "FROM node:20 AS test\nCOPY . .\nRUN npm test\n\nFROM nginx\nCOPY dist /usr/share/nginx/html\n";
    let o = outcome(tests_only, &[".git/", "dist/", "package.json", "src/"], None);
    let message = &o.findings[0].finding.message;
    assert!(message.contains("copied by `COPY . .` in stage `test` (not the shipped image"), "{message}");
}

#[test]
fn build_output_only_when_the_dockerfile_builds_it() {
    let files = &["dist/", "dist/index.html", "package.json", ".git/"];
    let serves = "FROM nginx\nCOPY . /usr/share/nginx/html\n";
    assert_eq!(patterns(&artifact(serves, files, None).unwrap()), [".git", ".dockerignore"]);
    let builds = "FROM node:20\nCOPY . .\nRUN npm ci && npm run build\n";
    assert_eq!(patterns(&artifact(builds, files, None).unwrap()), [".git", "dist", ".dockerignore"]);
}

#[test]
fn dotnet_bin_and_obj_beside_a_project_only() {
    let dockerfile = "FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /src\nCOPY . .\nRUN dotnet publish -c Release -o /out\n";
    let files = &["Api/Api.csproj", "Api/bin/Debug/Api.dll", "Api/obj/project.assets.json", "tools/bin/run.sh", "Api/Program.cs"];
    let a = artifact(dockerfile, files, None).unwrap();
    // `tools/bin` has no project beside it: only the project's own `bin` goes.
    assert_eq!(patterns(&a), ["Api/bin", "**/obj", ".dockerignore"]);
}

#[test]
fn rust_target_and_python_caches() {
    let rust = "FROM rust:1.80\nWORKDIR /src\nCOPY . .\nRUN cargo build --release\n";
    let a = artifact(rust, &["Cargo.toml", "Cargo.lock", "src/main.rs", "target/", "target/debug/app"], None).unwrap();
    assert_eq!(patterns(&a), ["target", ".dockerignore"]);
    let python = "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\n";
    let files = &["app/__pycache__/x.pyc", "app/main.py", ".venv/pyvenv.cfg", "requirements.txt"];
    let a = artifact(python, files, None).unwrap();
    assert_eq!(patterns(&a), [".venv", "**/__pycache__", ".dockerignore"]);
}

#[test]
fn a_variable_source_protects_whatever_it_could_name() {
    let dockerfile = "FROM alpine\nARG SRC=.\nCOPY $SRC /app\n";
    assert!(artifact(dockerfile, &[".git/", ".env", "app.sh"], None).is_none());
}

#[test]
fn a_bind_mount_of_the_context_counts_as_copying_it() {
    let dockerfile = "FROM golang:1.22\nRUN --mount=type=bind,target=/src go build -o /app /src\n";
    let o = outcome(dockerfile, &[".git/", ".env", "go.mod"], None);
    assert_eq!(o.artifacts[0].applicability, Applicability::Unsafe);
    assert!(o.findings[0].finding.message.contains("mounted into `RUN --mount=type=bind,target=/src go build"), "{}", o.findings[0].finding.message);
    let dockerfile = "FROM golang:1.22\nRUN --mount=type=bind,source=.env,target=/src/.env true\n";
    assert!(artifact(dockerfile, &[".git/", ".env", "go.mod"], None).is_none_or(|a| !patterns(&a).iter().any(|p| p.contains(".env"))));
}

#[test]
fn an_existing_dockerignore_gets_an_appended_block() {
    let existing = "# mine\nnode_modules\n!node_modules/keep.js\n*.md\n";
    let files = &[".dockerignore", ".env", ".git/", "README.md", "node_modules/", "node_modules/keep.js", "package.json"];
    let a = artifact(NODE, files, Some(existing)).unwrap();
    assert_eq!(a.original.as_deref(), Some(existing));
    assert!(a.text.starts_with(existing), "never rewritten, only appended to");
    assert_eq!(a.applicability, Applicability::Unsafe);
    assert_eq!(patterns(&a)[3..], [".git", "**/.env", ".dockerignore"]);
    let o = outcome(NODE, files, Some(existing));
    assert!(o.findings[0].finding.message.starts_with(".dockerignore does not exclude .git/ (and 2 more: .env, .dockerignore), which are sent"), "{}", o.findings[0].finding.message);
}

#[test]
fn the_proposal_is_stable_once_written() {
    for (dockerfile, files) in [(NODE, NODE_FILES), ("FROM nginx\nCOPY config/ /etc/app/\nCOPY . /srv\n", &["config/app.log", "debug.log", ".DS_Store"][..])] {
        let first = artifact(dockerfile, files, None).unwrap();
        let mut with_file: Vec<&str> = files.to_vec();
        with_file.push(".dockerignore");
        assert!(artifact(dockerfile, &with_file, Some(&first.text)).is_none(), "{}", first.text);
        assert!(outcome(dockerfile, &with_file, Some(&first.text)).findings.is_empty());
    }
}

#[test]
fn an_unread_or_broken_dockerignore_is_left_alone() {
    let mut files = NODE_FILES.to_vec();
    files.push(".dockerignore");
    assert!(outcome(NODE, &files, None).findings.is_empty(), "listed but its text unknown");
    assert!(outcome(NODE, &files, Some("[\n")).findings.is_empty(), "Docker rejects it already");
}

#[test]
fn crlf_files_stay_crlf() {
    let existing = "node_modules\r\n";
    let a = artifact(NODE, &[".dockerignore", ".git/", "package.json"], Some(existing)).unwrap();
    assert!(a.text.lines().count() > 2);
    assert!(!a.text.replace("\r\n", "").contains('\n'), "{:?}", a.text);
}

