//! Command-line arguments (clap derive). The contract is in ARCHITECTURE.md ("CLI contract (v1)").

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The exit status, said once for `--help` and `check --help` (the README says the same).
pub const EXIT_STATUS: &str = "Exit status: 0 ok · 1 `check` reported a finding (with `--fail-on fixable`: only when \
`fix` with the same flags would change a file) · 2 error (bad input, bad config, I/O; nothing is written).";

#[derive(Debug, Parser)]
#[command(
    name = "dockopt",
    version,
    about = "Rewrites Dockerfiles into smaller, faster-to-rebuild ones and shows the diff",
    after_help = EXIT_STATUS
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a unified diff of what `fix` would change (exit 0)
    Diff(ReportArgs),
    /// Apply the fixes in place; `-` reads stdin and writes the result to stdout
    Fix(FixArgs),
    /// Report findings and write nothing (exit 1 on any finding, 0 if clean; see --fail-on)
    #[command(
        after_help = EXIT_STATUS,
        mut_arg("unsafe_fixes", |a| a.help("Also count fixes that could change what the built image does as fixable (what `fix --unsafe` applies)")),
        mut_arg("no_unsafe", |a| a.help("Count only Safe fixes as fixable, even when the config says `unsafe = true`"))
    )]
    Check(CheckArgs),
    /// Format Dockerfiles in place without changing what they mean; `-` reads stdin and writes stdout
    Format(crate::format::FormatArgs),
    /// List the transforms (with --checks: every check, its transform and related hadolint and BuildKit codes)
    Transforms {
        /// List the checks (`transform/check` ids) instead of the transforms
        #[arg(long)]
        checks: bool,
    },
    /// Print the documentation of a transform or a check
    Explain {
        /// A transform (`dockopt transforms`), a check id (`dockopt transforms --checks`), or a
        /// hadolint or BuildKit code (the checks that fix it)
        name: String,
    },
    /// The base images in use, how many Dockerfiles use each, and what the policy makes of them
    Bases(crate::bases::BasesArgs),
    /// Build each Dockerfile before and after `fix` and compare the images (size, packages, files, cache)
    Verify(crate::verify::VerifyArgs),
    /// Run a Language Server on stdin/stdout (diagnostics, quick fixes, formatting = safe fixes + format)
    Lsp {
        /// Accepted for editors that pass it; stdio is the only transport
        #[arg(long, hide = true)]
        stdio: bool,
    },
}

/// Flags shared by `diff`, `fix` and `check`.
#[derive(Debug, Clone, Default, Args)]
pub struct Common {
    /// Files or directories (walked for Dockerfiles, respecting .gitignore); `-` reads stdin.
    /// Default: `.`
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Also apply fixes that could change what the built image does
    #[arg(long = "unsafe", conflicts_with = "no_unsafe")]
    pub unsafe_fixes: bool,

    /// Only Safe fixes, even when the config says `unsafe = true`
    #[arg(long = "no-unsafe")]
    pub no_unsafe: bool,

    /// Run only these transforms or checks (comma-separated: transform names, check ids such as
    /// `run-cleanup/apt-lists`, hadolint codes such as `DL3009`; `all` = everything)
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub select: Option<Vec<String>>,

    /// Never run these transforms or checks (comma-separated; names as for --select)
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub ignore: Option<Vec<String>>,

    /// Skip these paths when walking directories (gitignore-style patterns, relative to the
    /// current directory; repeatable, comma-separated). Added to the config's `exclude`.
    #[arg(long, value_name = "PATTERNS", value_delimiter = ',')]
    pub exclude: Vec<String>,

    /// The stage that is built and shipped, as `docker build --target` (overrides the config's
    /// `target`; a Dockerfile without that stage ships its last)
    #[arg(long, value_name = "STAGE")]
    pub target: Option<String>,

    /// Use this config file instead of the nearest `dockopt.toml`
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// For stdin (`-`): the path used to find the config and to name the file in messages
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,

    /// The build context directory (default: each Dockerfile's directory; none for stdin)
    #[arg(long, value_name = "DIR")]
    pub context: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct FixArgs {
    #[command(flatten)]
    pub common: Common,

    /// With `-` (stdin): also print the findings left and a summary on stderr (by default
    /// stderr carries only errors, for editors)
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: Common,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also write the run in FORMAT to PATH (repeatable): one run for the log, code scanning and
    /// a job summary
    #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_output)]
    pub outputs: Vec<Output>,

    /// Also list the findings that pragmas (`# dockopt ignore=`, `# hadolint ignore=`,
    /// `# check=skip=`) suppress, with the pragma that suppresses each
    #[arg(long)]
    pub show_suppressed: bool,

    /// When to exit 1: on any finding (`any`, as linters do), or only when `fix` with the same
    /// flags would change something (`fixable`: a Dockerfile or an extra file)
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
}

/// What makes `check` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any finding that no config or flag turns off
    Any,
    /// Only findings `fix` (with the same flags) would act on: a file would change
    Fixable,
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub common: Common,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also write the run in FORMAT to PATH (repeatable)
    #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_output)]
    pub outputs: Vec<Output>,
}

/// `--output FORMAT=PATH`: the run written again in another format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub format: Format,
    pub path: PathBuf,
}

fn parse_output(text: &str) -> Result<Output, String> {
    let (format, path) = text
        .split_once('=')
        .ok_or_else(|| "expected FORMAT=PATH, e.g. sarif=dockopt.sarif".to_string())?;
    let format = Format::from_str(format, false)?;
    if path.is_empty() {
        return Err("expected FORMAT=PATH: the path is empty".to_string());
    }
    Ok(Output {
        format,
        path: PathBuf::from(path),
    })
}

/// Output formats of `check` and `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Findings (`check`) or a unified diff (`diff`)
    Text,
    /// One JSON document (docs/json-schema.md)
    Json,
    /// GitHub Actions workflow annotations
    Github,
    /// SARIF 2.1.0, for code-scanning uploads
    Sarif,
    /// A pull-request body: the changes per file, with the diff
    Markdown,
}
