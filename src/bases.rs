//! `dockopt bases`: the base-image inventory of a repository (or of many), under the policy.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::config::Discovery;
use crate::discover::{find_dockerfiles, Found};
use crate::error::FileError;

#[derive(Debug, Clone, Args)]
pub struct BasesArgs {
    /// Files or directories (walked for Dockerfiles, respecting .gitignore). Default: `.`
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Use this dockopt.toml for every file instead of the nearest one
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[arg(long, value_enum, default_value_t = BasesFormat::Text)]
    pub format: BasesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BasesFormat {
    Text,
    Json,
}

/// Exit 0 with the report; 2 when a file or a config could not be read (listed on stderr).
pub fn run(args: &BasesArgs) -> i32 {
    let mut discovery = Discovery::default();
    let mut uses = Vec::new();
    let mut errors = Vec::new();
    for found in find_dockerfiles(&args.paths) {
        let path = match found {
            Found::File(path) => path,
            Found::Error(path, message) => {
                errors.push(format!("{}: {message}", path.display()));
                continue;
            }
            Found::Empty(path) => {
                eprintln!("warning: {}: no Dockerfile under it", path.display());
                continue;
            }
        };
        let display = path.display().to_string();
        let loaded = match &args.config {
            Some(file) => discovery.explicit(file),
            None => discovery.for_dir(path.parent().unwrap_or(std::path::Path::new("."))),
        };
        let loaded = match loaded {
            Ok(loaded) => loaded,
            Err(message) => {
                errors.push(message);
                continue;
            }
        };
        let text = match crate::io::read_file(&path) {
            Ok(text) => text,
            Err(message) => {
                errors.push(FileError::Io(message).render(&display, None));
                continue;
            }
        };
        // What `check` rejects (what BuildKit's frontend rejects) is an error here too.
        match transforms::parse_strict(&text) {
            Ok(file) => uses.push((display, transforms::inventory(&file, &loaded.config))),
            Err(e) => errors.push(FileError::Syntax(e).render(&display, Some(&text))),
        }
    }
    let inventory = transforms::Inventory::build(uses);
    match args.format {
        BasesFormat::Text => print!("{}", inventory.render_text()),
        BasesFormat::Json => println!("{}", inventory.render_json()),
    }
    errors.sort();
    errors.dedup();
    for e in &errors {
        eprintln!("{e}");
    }
    if errors.is_empty() {
        0
    } else {
        2
    }
}
