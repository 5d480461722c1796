//! What the integration tests share: the corpus (../shared/corpus) as they read it, one folder per
//! Dockerfile with `context.txt` listing its build context; and damaged copies of inputs.

// Each test crate uses a part of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// Every corpus Dockerfile with its text. Fails (rather than passing vacuously) when the corpus is missing.
pub fn corpus() -> Vec<(PathBuf, String)> {
    let dir = corpus_dir();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus must be at {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("Dockerfile"))
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    assert!(entries.len() >= 691, "expected the whole corpus, found {} files", entries.len());
    entries
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, text)
        })
        .collect()
}

/// The build-context listing of corpus entry `entry` (a folder): relative paths, directories
/// ending with `/`.
pub fn listing(entry: &Path) -> Vec<String> {
    std::fs::read_to_string(entry.join("context.txt"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// `count` damaged copies of `text`, the same on every run (a failure names an input that can be
/// rebuilt): even ones cut at a point, odd ones with `swaps` characters replaced by ones the lexer
/// and the shell parser treat specially.
pub fn damaged(text: &str, count: usize, swaps: usize, seed: u64) -> Vec<String> {
    const SPECIALS: [char; 15] = ['\\', '`', '"', '\'', '$', '<', '\n', '#', '{', '&', '\r', '[', ';', '=', '/'];
    let mut state = seed.max(1);
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound.max(1) as u64) as usize
    };
    let chars: Vec<char> = text.chars().collect();
    (0..count)
        .map(|variant| {
            if variant % 2 == 0 {
                chars[..next(chars.len() + 1)].iter().collect()
            } else {
                let mut copy = chars.clone();
                for _ in 0..swaps {
                    if !copy.is_empty() {
                        let at = next(copy.len());
                        copy[at] = SPECIALS[next(SPECIALS.len())];
                    }
                }
                copy.into_iter().collect()
            }
        })
        .collect()
}

/// Run the dockopt binary in `cwd` with `args`, `stdin` on its standard input (none: /dev/null),
/// without NO_COLOR from the caller's environment.
pub fn run_dockopt(cwd: &Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    run_dockopt_env(cwd, args, stdin, &[])
}

/// `run_dockopt` with environment variables set. hadolint's config is also looked for in `$HOME`
/// and `$XDG_CONFIG_HOME`: unless `env` says otherwise, the run's home is `cwd` (not the
/// developer's, whose `~/.hadolint.yaml` would change what the tests see).
pub fn run_dockopt_env(cwd: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &Path)]) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_dockopt"))
        .args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .env("HOME", cwd)
        .env_remove("XDG_CONFIG_HOME")
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        // dockopt may exit before reading (usage errors): a broken pipe is fine.
        let _ = child.stdin.take().unwrap().write_all(text.as_bytes());
    }
    child.wait_with_output().unwrap()
}

/// The corpus as build contexts under `root`: `<entry>/Dockerfile` and the files its listing
/// names (empty), so that the context-reading transforms run as they would on the repository.
/// Returns each Dockerfile's path relative to `root` with its text.
pub fn lay_out_corpus(root: &Path) -> Vec<(String, String)> {
    let mut laid = Vec::new();
    for (path, text) in corpus() {
        let entry = path.parent().unwrap();
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        let dir = root.join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        for listed in listing(entry) {
            if listed.starts_with('/') || listed.split('/').any(|part| part == "..") {
                continue;
            }
            let target = dir.join(&listed);
            if listed.ends_with('/') {
                let _ = std::fs::create_dir_all(&target);
            } else if let Some(parent) = target.parent() {
                // A listing may name a path both as a file and as a folder: the first one wins.
                if std::fs::create_dir_all(parent).is_ok() && !target.exists() {
                    let _ = std::fs::write(&target, "");
                }
            }
        }
        std::fs::write(dir.join("Dockerfile"), &text).unwrap();
        laid.push((format!("{name}/Dockerfile"), text));
    }
    laid
}
