//! What a build's output says: how many steps ran, how many came from the cache, and where a
//! failed build stopped. Three dialects: buildah/podman (`STEP 3/9: RUN …`, `--> Using cache`),
//! BuildKit's plain progress (`#7 [3/5] RUN …`, `#7 CACHED`, `#7 ERROR: …`), and Docker's classic
//! builder (`Step 3/9 : RUN …`, ` ---> Using cache`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// How many lines of a failed build's output the report keeps.
pub const LOG_TAIL_LINES: usize = 25;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LogSummary {
    /// Steps that do something (every instruction but `FROM` for buildah and the classic builder;
    /// BuildKit lists only the steps that touch the filesystem): counts compare within one engine.
    pub steps: usize,
    /// Of those, the ones taken from the cache.
    pub cached: usize,
    /// The `RUN` steps among them, and how many of those came from the cache: what a rebuild
    /// costs (a multi-stage build's runtime stage adds cheap metadata steps that re-run too).
    pub run_steps: usize,
    pub run_cached: usize,
    /// The instruction a failed build stopped at, as the engine printed it (`RUN make`).
    pub failed_step: Option<String>,
}

pub fn summarize(log: &str) -> LogSummary {
    if log.lines().any(is_buildkit_line) {
        buildkit(log)
    } else {
        steps_dialect(log)
    }
}

/// The last `LOG_TAIL_LINES` non-empty lines.
pub fn tail(log: &str) -> Vec<String> {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(LOG_TAIL_LINES);
    lines[start..].iter().map(|l| l.to_string()).collect()
}

fn is_buildkit_line(line: &str) -> bool {
    buildkit_id(line).is_some_and(|(_, rest)| {
        rest.starts_with('[') || rest == "CACHED" || rest.starts_with("DONE")
    })
}

/// `#12 rest` → (12, "rest").
fn buildkit_id(line: &str) -> Option<(u32, &str)> {
    let rest = line.strip_prefix('#')?;
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    let id = rest[..end].parse().ok()?;
    let rest = rest[end..].strip_prefix(' ')?;
    Some((id, rest.trim_end()))
}

fn buildkit(log: &str) -> LogSummary {
    // id → the instruction of a Dockerfile step (`[3/5] RUN make` or `[builder 3/5] RUN make`).
    let mut steps: BTreeMap<u32, String> = BTreeMap::new();
    let mut cached: BTreeSet<u32> = BTreeSet::new();
    let mut failed: Option<u32> = None;
    for line in log.lines() {
        let Some((id, rest)) = buildkit_id(line) else {
            continue;
        };
        if let Some(instruction) = buildkit_step(rest) {
            if !instruction.starts_with("FROM ") && !instruction.starts_with("FROM\t") {
                steps.entry(id).or_insert_with(|| instruction.to_string());
            }
        } else if rest == "CACHED" {
            cached.insert(id);
        } else if rest.starts_with("ERROR") && failed.is_none() {
            failed = Some(id);
        }
    }
    let failed_step = failed.and_then(|id| steps.get(&id).cloned()).or_else(|| {
        // `ERROR: failed to solve: process "/bin/sh -c make" did not complete successfully`
        log.lines()
            .rev()
            .find_map(|l| {
                l.split("process \"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
            })
            .map(|command| format!("RUN {}", command.trim_start_matches("/bin/sh -c ")))
    });
    let is_run = |id: &u32| steps.get(id).is_some_and(|i| i.starts_with("RUN"));
    LogSummary {
        cached: cached.iter().filter(|id| steps.contains_key(id)).count(),
        steps: steps.len(),
        run_steps: steps.keys().filter(|id| is_run(id)).count(),
        run_cached: cached.iter().filter(|id| is_run(id)).count(),
        failed_step,
    }
}

/// `[3/5] RUN make` or `[stage-1 3/5] COPY . .` → the instruction; `[internal] …` → `None`.
fn buildkit_step(rest: &str) -> Option<&str> {
    if !rest.starts_with('[') {
        return None;
    }
    let inner_end = rest.find(']')?;
    let label = &rest[1..inner_end];
    let counter = label.rsplit(' ').next()?;
    let (n, m) = counter.split_once('/')?;
    if n.parse::<u32>().is_err() || m.parse::<u32>().is_err() {
        return None;
    }
    Some(rest[inner_end + 1..].trim())
}

/// buildah/podman (`STEP 3/9: RUN make`) and Docker's classic builder (`Step 3/9 : RUN make`).
fn steps_dialect(log: &str) -> LogSummary {
    let mut summary = LogSummary::default();
    let mut last_step: Option<String> = None;
    let mut explicit_failure: Option<String> = None;
    let mut in_run = false;
    for line in log.lines() {
        let trimmed = line.trim();
        if let Some(instruction) = step_instruction(trimmed) {
            last_step = Some(instruction.to_string());
            let upper = instruction.to_ascii_uppercase();
            in_run = upper.starts_with("RUN");
            if !upper.starts_with("FROM ") {
                summary.steps += 1;
                summary.run_steps += usize::from(in_run);
            }
        } else if trimmed.starts_with("--> Using cache") || trimmed.starts_with("---> Using cache")
        {
            summary.cached += 1;
            summary.run_cached += usize::from(in_run);
        } else if let Some(step) = quoted_failed_step(trimmed) {
            explicit_failure.get_or_insert(step);
        } else if trimmed.starts_with("The command '")
            && trimmed.contains("returned a non-zero code")
        {
            explicit_failure.get_or_insert_with(|| last_step.clone().unwrap_or_default());
        }
    }
    let failed = log.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("Error:") || l.starts_with("error building") || l.starts_with("The command '")
    });
    if failed {
        summary.failed_step = explicit_failure.or(last_step).filter(|s| !s.is_empty());
    }
    summary
}

fn step_instruction(line: &str) -> Option<&str> {
    // Multi-stage builds prefix the stage: `[1/2] STEP 3/9: RUN make`.
    let line = match line.strip_prefix('[').and_then(|l| l.split_once("] ")) {
        Some((stage, rest)) if stage.split_once('/').is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok()) => rest,
        _ => line,
    };
    let rest = line
        .strip_prefix("STEP ")
        .or_else(|| line.strip_prefix("Step "))?;
    let (counter, instruction) = rest.split_once(':')?;
    let (n, m) = counter.trim().split_once('/')?;
    if n.parse::<u32>().is_err() || m.parse::<u32>().is_err() {
        return None;
    }
    Some(instruction.trim())
}

/// buildah: `error building at STEP "RUN make": …` (1.28) or `Error: building at STEP "RUN make": …`.
fn quoted_failed_step(line: &str) -> Option<String> {
    let rest = line.split("building at STEP \"").nth(1)?;
    let end = rest.find("\": ").or_else(|| rest.rfind('"'))?;
    Some(rest[..end].to_string())
}
