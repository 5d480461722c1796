//! A progress bar on stderr for long runs over many files: only when stderr is a terminal (never
//! in pipes or CI), and only once the run is long (many files, or a few hundred milliseconds).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Runs over more files than this show the bar at once.
const MANY_FILES: usize = 50;
/// Shorter runs show it once they have taken this long.
const SHOW_AFTER: Duration = Duration::from_millis(300);

pub struct Progress {
    /// `None` when no bar may be drawn.
    bar: Option<ProgressBar>,
    started: Instant,
    shown: AtomicBool,
}

impl Progress {
    pub fn new(total: usize) -> Progress {
        let bar = (total > 1 && may_draw()).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
            if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} files {elapsed}")
            {
                bar.set_style(style);
            }
            bar
        });
        let progress = Progress {
            bar,
            started: Instant::now(),
            shown: AtomicBool::new(false),
        };
        if total > MANY_FILES {
            progress.show();
        }
        progress
    }

    /// One more file done (called from worker threads).
    pub fn tick(&self) {
        let Some(bar) = &self.bar else { return };
        bar.inc(1);
        if self.started.elapsed() >= SHOW_AFTER {
            self.show();
        }
    }

    /// Remove the bar before the results are printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn show(&self) {
        if let Some(bar) = &self.bar {
            if !self.shown.swap(true, Ordering::Relaxed) {
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
        }
    }
}

/// A human watches stderr: a terminal, not CI, not a dumb terminal.
fn may_draw() -> bool {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    std::io::stderr().is_terminal() && !ci && !dumb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_bar_for_one_file_or_without_a_terminal() {
        assert!(Progress::new(1).bar.is_none());
        if !std::io::stderr().is_terminal() {
            let progress = Progress::new(500);
            assert!(progress.bar.is_none());
            progress.tick();
            progress.finish();
        }
    }
}
