//! The container engines `verify` drives: Docker (BuildKit), Podman and Buildah, through their
//! command lines. Everything engine-specific is here: detection, build, inspect, filesystem export.

use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::ValueEnum;
use serde::Serialize;

use super::tarfs::{self, Listing};
use super::waste;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    Docker,
    Podman,
    Buildah,
}

impl EngineKind {
    pub const ALL: [EngineKind; 3] = [EngineKind::Docker, EngineKind::Podman, EngineKind::Buildah];

    pub fn program(self) -> &'static str {
        match self {
            EngineKind::Docker => "docker",
            EngineKind::Podman => "podman",
            EngineKind::Buildah => "buildah",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Engine {
    pub kind: EngineKind,
    /// The version line the engine printed.
    pub version: String,
}

/// A finished build.
#[derive(Debug, Clone)]
pub struct BuildRun {
    pub ok: bool,
    pub seconds: f64,
    /// stdout and stderr, interleaved as the engine wrote them.
    pub log: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageFacts {
    pub size: u64,
    pub layers: usize,
}

/// Find an engine that can build: `preferred` only, or the first of Docker, Podman, Buildah. The
/// error names each engine tried and why it was passed over.
pub fn detect(preferred: Option<EngineKind>) -> Result<Engine, String> {
    let candidates: Vec<EngineKind> = match preferred {
        Some(kind) => vec![kind],
        None => EngineKind::ALL.to_vec(),
    };
    let mut reasons = Vec::new();
    for kind in candidates {
        match probe(kind) {
            Ok(engine) => return Ok(engine),
            Err(reason) => reasons.push(format!("  {}: {reason}", kind.program())),
        }
    }
    let wanted = match preferred {
        Some(kind) => format!("the container engine `{}` cannot be used", kind.program()),
        None => "no container engine found (tried docker, podman, buildah)".to_string(),
    };
    Err(format!(
        "{wanted}:\n{}\n`dockopt verify` builds images: install Docker (with its daemon running), Podman or Buildah, \
         or choose one with --engine",
        reasons.join("\n")
    ))
}

fn probe(kind: EngineKind) -> Result<Engine, String> {
    if find_program(kind.program()).is_none() {
        return Err("not found on PATH".to_string());
    }
    let args: &[&str] = match kind {
        // The client alone cannot build: ask the daemon.
        EngineKind::Docker => &["version", "--format", "{{.Server.Version}}"],
        EngineKind::Podman | EngineKind::Buildah => &["version"],
    };
    let output = Command::new(kind.program())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run it: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("it failed");
        let reason = match kind {
            EngineKind::Docker => format!("the daemon is not reachable ({})", first.trim()),
            _ => first.trim().to_string(),
        };
        return Err(reason);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let version = match kind {
        EngineKind::Docker => format!("Docker {}", stdout.trim()),
        _ => stdout
            .lines()
            .find(|l| l.trim_start().starts_with("Version:"))
            .map(|l| {
                format!(
                    "{} {}",
                    kind.program(),
                    l.trim_start()["Version:".len()..].trim()
                )
            })
            .unwrap_or_else(|| kind.program().to_string()),
    };
    Ok(Engine { kind, version })
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

impl Engine {
    fn command(&self) -> Command {
        let mut command = Command::new(self.kind.program());
        command.stdin(Stdio::null());
        if self.kind == EngineKind::Docker {
            command.env("DOCKER_BUILDKIT", "1");
        }
        command
    }

    /// Build `dockerfile` in `context` as `tag`. The output goes to `log_file` (kept for the user)
    /// and is returned. `extra` are passed to the engine's build command as they are.
    pub fn build(
        &self,
        dockerfile: &Path,
        context: &Path,
        tag: &str,
        no_cache: bool,
        extra: &[String],
        log_file: &Path,
    ) -> io::Result<BuildRun> {
        let run = self.build_with(dockerfile, context, tag, no_cache, extra, log_file, true)?;
        // A Docker client without buildx refuses BuildKit: its classic builder still builds.
        if self.kind == EngineKind::Docker
            && !run.ok
            && run.log.contains("buildx component is missing")
        {
            return self.build_with(dockerfile, context, tag, no_cache, extra, log_file, false);
        }
        Ok(run)
    }

    #[allow(clippy::too_many_arguments)]
    fn build_with(
        &self,
        dockerfile: &Path,
        context: &Path,
        tag: &str,
        no_cache: bool,
        extra: &[String],
        log_file: &Path,
        buildkit: bool,
    ) -> io::Result<BuildRun> {
        let mut command = self.command();
        match self.kind {
            EngineKind::Docker if buildkit => {
                command.args(["build", "--progress=plain"]);
            }
            EngineKind::Docker => {
                command.env("DOCKER_BUILDKIT", "0").arg("build");
            }
            EngineKind::Podman => {
                command.args(["build", "--layers"]);
            }
            // Without --layers buildah makes one layer and caches nothing.
            EngineKind::Buildah => {
                command.args(["bud", "--layers"]);
            }
        }
        if no_cache {
            command.arg("--no-cache");
        }
        // A failed step's container is not left behind.
        command.arg("--force-rm");
        command.arg("-f").arg(dockerfile).arg("-t").arg(tag);
        command.args(extra);
        command.arg(context);
        let out = File::create(log_file)?;
        command.stdout(out.try_clone()?).stderr(out);
        let started = Instant::now();
        let status = command.status()?;
        let seconds = started.elapsed().as_secs_f64();
        let log = String::from_utf8_lossy(&std::fs::read(log_file)?).into_owned();
        Ok(BuildRun {
            ok: status.success(),
            seconds,
            log,
        })
    }

    /// Size (bytes, as the engine counts them) and layer count of an image.
    pub fn inspect(&self, tag: &str) -> Result<ImageFacts, String> {
        match self.kind {
            EngineKind::Docker | EngineKind::Podman => {
                let out = self.run_ok(&[
                    "image",
                    "inspect",
                    "-f",
                    "{{.Size}} {{len .RootFS.Layers}}",
                    tag,
                ])?;
                let mut words = out.split_whitespace();
                let size = words.next().and_then(|w| w.parse().ok());
                let layers = words.next().and_then(|w| w.parse().ok());
                match (size, layers) {
                    (Some(size), Some(layers)) => Ok(ImageFacts { size, layers }),
                    _ => Err(format!("unexpected `image inspect` output: {}", out.trim())),
                }
            }
            EngineKind::Buildah => {
                let layers = self
                    .run_ok(&[
                        "inspect",
                        "--type",
                        "image",
                        "-f",
                        "{{len .OCIv1.RootFS.DiffIDs}}",
                        tag,
                    ])?
                    .trim()
                    .parse()
                    .map_err(|_| "unexpected `buildah inspect` output".to_string())?;
                // buildah prints only a rounded size (`682 MB`).
                let size_text = self.run_ok(&["images", "--format", "{{.Size}}", tag])?;
                let size =
                    parse_human_size(size_text.lines().next().unwrap_or("")).ok_or_else(|| {
                        format!("unexpected `buildah images` size: {}", size_text.trim())
                    })?;
                Ok(ImageFacts { size, layers })
            }
        }
    }

    /// The image's filesystem as a listing (with its package databases), read as the engine streams it.
    pub fn list_files(&self, tag: &str, scratch: &Path) -> Result<Listing, String> {
        let (command, container) = self.export_command(tag)?;
        let result = self.read_stdout(command, &scratch.join("export.err"), tarfs::read, "exporting the filesystem", "the exported filesystem");
        let _ = self.run_ok(&["rm", &container]);
        result
    }

    /// Run `command` and read its stdout as it streams with `read`; its stderr goes to
    /// `errors_path` (removed afterwards) and into the error when it fails. `doing` and `what` name
    /// the step and what is read, for messages.
    fn read_stdout<T>(
        &self,
        mut command: Command,
        errors_path: &Path,
        read: impl FnOnce(BufReader<std::process::ChildStdout>) -> io::Result<T>,
        doing: &str,
        what: &str,
    ) -> Result<T, String> {
        let result = (|| {
            let errors = File::create(errors_path)
                .map_err(|e| format!("{}: {e}", errors_path.display()))?;
            let mut child = command
                .stdout(Stdio::piped())
                .stderr(errors)
                .spawn()
                .map_err(|e| format!("cannot run {}: {e}", self.kind.program()))?;
            let value = match child.stdout.take() {
                Some(stdout) => read(BufReader::with_capacity(1 << 20, stdout)),
                None => Err(io::Error::other("no output")),
            };
            let status = child.wait().map_err(|e| e.to_string())?;
            if !status.success() {
                let stderr = std::fs::read_to_string(errors_path).unwrap_or_default();
                return Err(format!("{doing} failed: {}", stderr.trim()));
            }
            value.map_err(|e| format!("cannot read {what}: {e}"))
        })();
        let _ = std::fs::remove_file(errors_path);
        result
    }

    /// A command that writes the image's filesystem as a tar stream on stdout, and the container
    /// made for it (to remove afterwards).
    fn export_command(&self, tag: &str) -> Result<(Command, String), String> {
        match self.kind {
            EngineKind::Docker | EngineKind::Podman => {
                // The entrypoint never runs: `create` only needs a command when the image has none.
                let container = self
                    .run_ok(&["create", "--entrypoint", "/dockopt-verify-never-runs", tag])?
                    .trim()
                    .to_string();
                let mut command = self.command();
                command.args(["export", &container]);
                Ok((command, container))
            }
            EngineKind::Buildah => {
                let container = self
                    .run_ok(&["from", "--pull=never", tag])?
                    .trim()
                    .to_string();
                let script = "set -e; m=$(buildah mount \"$1\"); tar -C \"$m\" -cf - .; buildah umount \"$1\" >/dev/null";
                // Mounting needs buildah's user namespace when not root.
                let mut command = if is_root() {
                    Command::new("sh")
                } else {
                    let mut command = self.command();
                    command.args(["unshare", "sh"]);
                    command
                };
                command.args(["-c", script, "sh", &container]);
                Ok((command, container))
            }
        }
    }

    /// The image's layers with what wrote each, read from the archive the engine saves (streamed:
    /// nothing is written to disk, except by Buildah, which writes it to `scratch` first).
    pub fn layers(&self, tag: &str, scratch: &Path) -> Result<Vec<waste::Layer>, String> {
        let archive = scratch.join("image.tar");
        let errors_path = scratch.join("save.err");
        let mut command = self.command();
        match self.kind {
            EngineKind::Docker => {
                command.args(["save", tag]);
            }
            EngineKind::Podman => {
                command.args(["save", "--format", "docker-archive", tag]);
            }
            EngineKind::Buildah => {
                let target = format!("docker-archive:{}", archive.display());
                self.run_ok(&["push", "--quiet", tag, &target])?;
                let file = File::open(&archive).map_err(|e| format!("{}: {e}", archive.display()));
                let result = file.and_then(|f| waste::read_archive(BufReader::with_capacity(1 << 20, f)).map_err(|e| format!("cannot read the saved image: {e}")));
                let _ = std::fs::remove_file(&archive);
                return result;
            }
        }
        self.read_stdout(command, &errors_path, waste::read_archive, "saving the image", "the saved image")
    }

    /// `rpm -qa` inside the image (an rpm database is not a format read here).
    pub fn rpm_packages(&self, tag: &str) -> Result<String, String> {
        match self.kind {
            EngineKind::Docker | EngineKind::Podman => self.run_ok(&[
                "run",
                "--rm",
                "--network",
                "none",
                "--entrypoint",
                "rpm",
                tag,
                "-qa",
                "--qf",
                "%{NAME}\\n",
            ]),
            EngineKind::Buildah => {
                let container = self
                    .run_ok(&["from", "--pull=never", tag])?
                    .trim()
                    .to_string();
                let result =
                    self.run_ok(&["run", &container, "--", "rpm", "-qa", "--qf", "%{NAME}\\n"]);
                let _ = self.run_ok(&["rm", &container]);
                result
            }
        }
    }

    /// The image's ENTRYPOINT then CMD (empty: nothing to run).
    pub fn image_command(&self, tag: &str) -> Result<Vec<String>, String> {
        let config = match self.kind {
            EngineKind::Docker | EngineKind::Podman => {
                self.run_ok(&["image", "inspect", "-f", "{{json .Config}}", tag])?
            }
            EngineKind::Buildah => {
                self.run_ok(&["inspect", "--type", "image", "-f", "{{json .OCIv1.Config}}", tag])?
            }
        };
        command_of_config(&config)
    }

    /// Run the image's own command with no network, stopped after `timeout` when it is still
    /// running. Its output goes to `log_file`. `name` names the container (unique per run).
    pub fn run_image(
        &self,
        tag: &str,
        name: &str,
        timeout: Duration,
        log_file: &Path,
    ) -> Result<(RunEnd, f64, String), String> {
        if self.kind == EngineKind::Buildah {
            return Err("buildah cannot run an image's own command: use --engine podman or docker".to_string());
        }
        let out = File::create(log_file).map_err(|e| format!("{}: {e}", log_file.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut child = self
            .command()
            .args(["run", "--rm", "--name", name, "--network", "none", tag])
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.kind.program()))?;
        let started = Instant::now();
        let end = loop {
            match child.try_wait().map_err(|e| e.to_string())? {
                Some(status) => break RunEnd::Exited(exit_code(status)),
                None if started.elapsed() >= timeout => {
                    // SIGKILL: `rm -f` would wait out the stop timeout first.
                    if self.run_ok(&["kill", name]).is_err() {
                        let _ = child.kill();
                    }
                    let _ = child.wait();
                    let _ = self.run_ok(&["rm", "-f", name]);
                    break RunEnd::StillRunning;
                }
                None => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        let log = String::from_utf8_lossy(&std::fs::read(log_file).unwrap_or_default()).into_owned();
        Ok((end, seconds, log))
    }

    pub fn remove_image(&self, tag: &str) {
        let args: &[&str] = match self.kind {
            EngineKind::Buildah => &["rmi", tag],
            _ => &["image", "rm", tag],
        };
        let _ = self.run_ok(args);
    }

    /// Run an engine command; its stdout, or its stderr as the error.
    fn run_ok(&self, args: &[&str]) -> Result<String, String> {
        let output = self
            .command()
            .args(args)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.kind.program()))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!(
                "`{} {}` failed: {}",
                self.kind.program(),
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    }
}

/// How a run ended, as the engine saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    Exited(i32),
    StillRunning,
}

/// A signal's death reads as the shell writes it (128 + the signal).
fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(-1)
}

/// ENTRYPOINT then CMD from an image config as JSON (`{"Entrypoint": [..], "Cmd": [..]}`; either
/// may be null or missing).
pub fn command_of_config(json: &str) -> Result<Vec<String>, String> {
    let config: serde_json::Value = serde_json::from_str(json.trim())
        .map_err(|e| format!("unexpected image config: {e}"))?;
    let words = |key: &str| -> Vec<String> {
        config
            .get(key)
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|w| w.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let mut command = words("Entrypoint");
    command.extend(words("Cmd"));
    Ok(command)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// `682 MB`, `1.2 GB`, `512 kB`, `900 B` (decimal units, as the containers tools print them).
pub fn parse_human_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let number: f64 = text[..split].parse().ok()?;
    let factor = match text[split..].trim().to_ascii_lowercase().as_str() {
        "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((number * factor).round() as u64)
}
