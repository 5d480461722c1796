//! Running each image's own command (its ENTRYPOINT and CMD) for a few seconds without network: a
//! rewrite that builds can still break the program (a file it reads at start-up left in the build
//! stage, a script that generated it skipped). What a run shows and how the two runs are judged.

use serde::Serialize;

use super::buildlog;

/// How one image's command ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// It ended by itself with this exit code.
    Exited { code: i32 },
    /// Still running at the timeout (a server): stopped then, and it counts as working.
    StillRunning,
    /// The image has neither ENTRYPOINT nor CMD.
    NothingToRun,
    /// The engine could not start it (or cannot run images at all).
    NotRun { reason: String },
}

impl Outcome {
    /// Exited 0 or stayed up.
    pub fn works(&self) -> bool {
        matches!(self, Outcome::Exited { code: 0 } | Outcome::StillRunning)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageRun {
    #[serde(flatten)]
    pub outcome: Outcome,
    /// ENTRYPOINT then CMD, as the image holds them.
    pub command: Vec<String>,
    pub seconds: f64,
    /// Everything it printed (stdout and stderr, interleaved).
    pub log: String,
}

impl ImageRun {
    pub fn not_run(reason: impl Into<String>) -> ImageRun {
        ImageRun {
            outcome: Outcome::NotRun {
                reason: reason.into(),
            },
            command: Vec::new(),
            seconds: 0.0,
            log: String::new(),
        }
    }

    /// The last lines it printed, for text and markdown.
    pub fn log_tail(&self) -> Vec<String> {
        buildlog::tail(&self.log)
    }

    /// `exited 0 in 0.4 s`, `still running after 5 s (stopped)`.
    pub fn describe(&self, timeout_seconds: u64) -> String {
        match &self.outcome {
            Outcome::Exited { code } => format!("exited {code} in {:.1} s", self.seconds),
            Outcome::StillRunning => format!("still running after {timeout_seconds} s (stopped)"),
            Outcome::NothingToRun => "nothing to run (no ENTRYPOINT or CMD)".to_string(),
            Outcome::NotRun { reason } => format!("not run: {reason}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunVerdict {
    /// Both exit 0 or stay up.
    Works,
    /// The original works, the rewrite exits non-zero or lost its command: the rewrite is broken.
    Broken,
    /// The original itself exits non-zero here (no network, the timeout): not the rewrite's fault.
    OriginalFails,
    /// The original has no ENTRYPOINT or CMD.
    NothingToRun,
    /// The engine could not run one of them.
    NotRun,
}

/// Judge the rewrite's run against the original's.
pub fn judge(before: &Outcome, after: &Outcome) -> RunVerdict {
    match (before, after) {
        (Outcome::NothingToRun, _) => RunVerdict::NothingToRun,
        (Outcome::NotRun { .. }, _) | (_, Outcome::NotRun { .. }) => RunVerdict::NotRun,
        (before, _) if !before.works() => RunVerdict::OriginalFails,
        (_, after) if after.works() => RunVerdict::Works,
        _ => RunVerdict::Broken,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RunCheck {
    pub timeout_seconds: u64,
    pub verdict: RunVerdict,
    pub before: ImageRun,
    pub after: ImageRun,
}

impl RunCheck {
    pub fn new(timeout_seconds: u64, before: ImageRun, after: ImageRun) -> RunCheck {
        RunCheck {
            timeout_seconds,
            verdict: judge(&before.outcome, &after.outcome),
            before,
            after,
        }
    }

    /// The original's command as it reads in a sentence (the rewrite's, when the original has none).
    pub fn command_text(&self) -> String {
        let command = if self.before.command.is_empty() {
            &self.after.command
        } else {
            &self.before.command
        };
        super::report::short_step(&command.join(" "))
    }

    /// One line: `original exited 0 in 0.4 s · rewrite exited 1 in 0.3 s`.
    pub fn sentence(&self) -> String {
        if self.verdict == RunVerdict::NothingToRun {
            return "nothing to run: the original has no ENTRYPOINT or CMD".to_string();
        }
        format!(
            "original {} · rewrite {}",
            self.before.describe(self.timeout_seconds),
            self.after.describe(self.timeout_seconds)
        )
    }

    /// The verdict's message when the rewrite is broken.
    pub fn broken_message(&self) -> String {
        let original = match self.before.outcome {
            Outcome::StillRunning => "stays up",
            _ => "exits 0",
        };
        let rewrite = match &self.after.outcome {
            Outcome::Exited { code } => format!("exits {code}"),
            _ => "has no ENTRYPOINT or CMD".to_string(),
        };
        format!(
            "both build, but the rewrite's `{}` {rewrite} where the original's {original} \
             (run without network for up to {} s): the rewrite is unsafe",
            self.command_text(),
            self.timeout_seconds
        )
    }

    /// The runs whose logs text and markdown show: both when the rewrite is broken, the original's
    /// when it fails by itself.
    pub fn logs_to_show(&self) -> Vec<(&'static str, &ImageRun)> {
        match self.verdict {
            RunVerdict::Broken => vec![("original", &self.before), ("rewrite", &self.after)],
            RunVerdict::OriginalFails => vec![("original", &self.before)],
            _ => Vec::new(),
        }
    }
}
