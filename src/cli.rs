//! Command-line arguments (clap derive). The contract is in ARCHITECTURE.md ("CLI contract (v1)").

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "dockopt",
    version,
    about = "Rewrites Dockerfiles into smaller, faster-to-rebuild ones and shows the diff",
    after_help = "Exit status: 0 ok, 1 `check` found something to change, 2 error (bad input, bad config, I/O)."
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
    Fix(Common),
    /// Report findings and write nothing (exit 1 if anything would change, 0 if clean)
    Check(ReportArgs),
    /// List the transforms
    Transforms,
    /// Print a transform's documentation
    Explain {
        /// A transform name, as listed by `dockopt transforms`
        name: String,
    },
    /// The base images in use, how many Dockerfiles use each, and what the policy makes of them
    Bases(crate::bases::BasesArgs),
    /// Build each Dockerfile before and after `fix` and compare the images (size, packages, files, cache)
    Verify(crate::verify::VerifyArgs),
    /// Run a Language Server on stdin/stdout (diagnostics, quick fixes, formatting = safe fixes)
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
    #[arg(long = "unsafe", overrides_with = "no_unsafe")]
    pub unsafe_fixes: bool,

    /// Only Safe fixes, even when the config says `unsafe = true`
    #[arg(long = "no-unsafe", overrides_with = "unsafe_fixes")]
    pub no_unsafe: bool,

    /// Run only these transforms (comma-separated; `all` = every transform)
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub select: Option<Vec<String>>,

    /// Never run these transforms (comma-separated)
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub ignore: Option<Vec<String>>,

    /// Skip these paths when walking directories (gitignore-style patterns, relative to the
    /// current directory; repeatable, comma-separated). Added to the config's `exclude`.
    #[arg(long, value_name = "PATTERNS", value_delimiter = ',')]
    pub exclude: Vec<String>,

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
pub struct ReportArgs {
    #[command(flatten)]
    pub common: Common,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
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
