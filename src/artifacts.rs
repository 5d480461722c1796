//! Extra files the transforms propose beside a Dockerfile (e.g. a `.dockerignore`), resolved against
//! the build context, deduplicated across Dockerfiles that share a context, and written with the
//! same care as Dockerfiles: never over a file that is not what the engine saw.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::process::FileReport;

/// One file to create or replace.
#[derive(Debug, Clone)]
pub struct Planned {
    pub target: PathBuf,
    /// The name in diffs and messages.
    pub display: String,
    /// The text the engine based its proposal on (`None`: the file does not exist).
    pub original: Option<String>,
    pub text: String,
    pub transform: &'static str,
    /// Index of the first report that proposed it; the others proposed the same text.
    pub report: usize,
}

#[derive(Debug, Default)]
pub struct Plan {
    /// Sorted by target path.
    pub items: Vec<Planned>,
    /// `display: message`, ready to print; each is an error of the run (exit 2).
    pub errors: Vec<String>,
}

impl Plan {
    pub fn for_report(&self, index: usize) -> impl Iterator<Item = &Planned> {
        self.items.iter().filter(move |p| p.report == index)
    }
}

/// Resolve and deduplicate the artifacts of all reports. Dockerfiles sharing a context that propose
/// different `.dockerignore` texts get the merge of their proposals (only what all of them may
/// lose); any other disagreement is an error and nothing is written for that file.
pub fn plan(reports: &[FileReport]) -> Plan {
    let mut by_target: BTreeMap<PathBuf, Vec<Planned>> = BTreeMap::new();
    let mut errors = Vec::new();
    for (index, report) in reports.iter().enumerate() {
        let (Ok(outcome), Some(dir)) = (&report.result, &report.context_dir) else {
            continue;
        };
        for artifact in &outcome.artifacts {
            if artifact.original.as_deref() == Some(artifact.text.as_str()) {
                continue;
            }
            let Some(rel) = safe_relative(&artifact.path) else {
                errors.push(format!(
                    "{}: {} proposed a file outside the build context (`{}`); not written",
                    report.display, artifact.transform, artifact.path
                ));
                continue;
            };
            let target = clean(&dir.join(rel));
            by_target.entry(target.clone()).or_default().push(Planned {
                display: target.display().to_string(),
                target,
                original: artifact.original.clone(),
                text: artifact.text.clone(),
                transform: artifact.transform,
                report: index,
            });
        }
    }
    let mut items = Vec::new();
    for (target, mut proposals) in by_target {
        let first = proposals.remove(0);
        if proposals.iter().all(|p| p.text == first.text && p.original == first.original) {
            items.push(first);
            continue;
        }
        let mergeable = first.transform == "dockerignore"
            && proposals.iter().all(|p| p.transform == first.transform && p.original == first.original);
        let texts: Vec<&str> = std::iter::once(first.text.as_str()).chain(proposals.iter().map(|p| p.text.as_str())).collect();
        match mergeable.then(|| transforms::dockerignore::merge_proposals(&texts)).flatten() {
            Some(text) if first.original.as_deref() != Some(text.as_str()) => items.push(Planned { text, ..first }),
            Some(_) => {}
            None => {
                let names: Vec<String> = std::iter::once(&first)
                    .chain(&proposals)
                    .map(|p| reports[p.report].display.clone())
                    .collect();
                errors.push(format!(
                    "{}: {} propose different contents for this file; not written (run dockopt on each separately)",
                    clean(&target).display(),
                    names.join(" and ")
                ));
            }
        }
    }
    Plan { items, errors }
}

/// A relative path with only normal components, or `None`.
fn safe_relative(path: &str) -> Option<PathBuf> {
    let path = Path::new(path);
    let ok = !path.as_os_str().is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    ok.then(|| path.to_path_buf())
}

fn clean(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect::<PathBuf>()
}

/// Write one planned file, unless the file on disk is no longer what the engine saw (a file that
/// already holds the planned text, written by another dockopt run, is left as it is).
pub fn write(planned: &Planned) -> Result<(), String> {
    let name = &planned.display;
    let held = match std::fs::symlink_metadata(&planned.target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        _ => Some(crate::io::Held::open(&planned.target).map_err(|e| format!("{name}: {e}"))?),
    };
    let current = held.as_ref().map(|h| h.text()).transpose().map_err(|e| format!("{name}: {e}"))?;
    if current.as_deref() == Some(planned.text.as_str()) {
        return Ok(());
    }
    if current != planned.original {
        return Err(format!("{name}: {}; not written", crate::io::CHANGED_ON_DISK));
    }
    match held {
        Some(held) => held.replace(&planned.text).map(drop).map_err(|e| format!("{name}: {e}; not written")),
        None => crate::io::create_new(&planned.target, &planned.text).map_err(|e| format!("{name}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use transforms::{Applicability, Artifact, Outcome};

    fn report(display: &str, dir: &Path, artifacts: Vec<(&str, Option<&str>, &str)>) -> FileReport {
        let artifacts = artifacts
            .into_iter()
            .map(|(path, original, text)| Artifact {
                transform: "dockerignore",
                path: path.to_string(),
                original: original.map(str::to_string),
                text: text.to_string(),
                applicability: Applicability::Safe,
            })
            .collect();
        FileReport {
            display: display.to_string(),
            path: Some(dir.join("Dockerfile")),
            source: Some(String::new()),
            result: Ok(Outcome {
                text: String::new(),
                findings: Vec::new(),
                suppressed: Vec::new(),
                warnings: Vec::new(),
                error: None,
                artifacts,
            }),
            unsafe_enabled: false,
            written: false,
            write_error: None,
            context_dir: Some(dir.to_path_buf()),
            fixed_with_unsafe: None,
        }
    }

    #[test]
    fn identical_proposals_are_merged_and_different_ones_conflict() {
        let dir = Path::new("ctx");
        let plan = plan(&[
            report(
                "ctx/a.Dockerfile",
                dir,
                vec![(".dockerignore", None, "node_modules\n")],
            ),
            report(
                "ctx/b.Dockerfile",
                dir,
                vec![(".dockerignore", None, "node_modules\n")],
            ),
        ]);
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        assert_eq!(plan.items.len(), 1);
        assert_eq!(
            (plan.items[0].display.as_str(), plan.items[0].report),
            ("ctx/.dockerignore", 0)
        );

        let plan = plan_of_conflict(dir);
        assert!(plan.items.is_empty());
        assert_eq!(
            plan.errors,
            ["ctx/.dockerignore: ctx/a.Dockerfile and ctx/b.Dockerfile propose different contents for this file; not written (run dockopt on each separately)"]
        );
    }

    #[test]
    fn dockerignore_proposals_of_a_shared_context_merge_to_what_all_may_lose() {
        let dir = Path::new("ctx");
        let plan = plan(&[
            report("ctx/a.Dockerfile", dir, vec![(".dockerignore", None, ".git\nnode_modules\n")]),
            report("ctx/b.Dockerfile", dir, vec![(".dockerignore", None, ".git\n")]),
        ]);
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        assert_eq!(plan.items.len(), 1);
        assert_eq!(plan.items[0].text, ".git\n");
    }

    fn plan_of_conflict(dir: &Path) -> Plan {
        plan(&[
            report(
                "ctx/a.Dockerfile",
                dir,
                vec![(".dockerignore", None, "a\n")],
            ),
            report(
                "ctx/b.Dockerfile",
                dir,
                vec![(".dockerignore", None, "b\n")],
            ),
        ])
    }

    #[test]
    fn unchanged_and_escaping_proposals() {
        let plan = plan(&[report(
            "Dockerfile",
            Path::new("."),
            vec![
                (".dockerignore", Some("x\n"), "x\n"),
                ("../.dockerignore", None, "y\n"),
            ],
        )]);
        assert!(plan.items.is_empty());
        assert_eq!(plan.errors, ["Dockerfile: dockerignore proposed a file outside the build context (`../.dockerignore`); not written"]);
    }

    #[test]
    fn write_creates_or_replaces_only_what_the_engine_saw() {
        let dir = tempfile::tempdir().unwrap();
        let planned = |original: Option<&str>, text: &str| Planned {
            target: dir.path().join(".dockerignore"),
            display: ".dockerignore".to_string(),
            original: original.map(str::to_string),
            text: text.to_string(),
            transform: "dockerignore",
            report: 0,
        };
        write(&planned(None, "a\n")).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".dockerignore")).unwrap(),
            "a\n"
        );
        assert_eq!(
            write(&planned(None, "b\n")).unwrap_err(),
            ".dockerignore: changed on disk while dockopt ran; not written"
        );
        // Another run already wrote what this one planned: nothing to do, no error.
        write(&planned(None, "a\n")).unwrap();
        write(&planned(Some("a\n"), "a\nb\n")).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".dockerignore")).unwrap(),
            "a\nb\n"
        );
        assert!(write(&planned(Some("a\n"), "c\n")).is_err());
    }

    #[test]
    fn only_paths_inside_the_context_are_accepted() {
        assert_eq!(
            safe_relative(".dockerignore"),
            Some(PathBuf::from(".dockerignore"))
        );
        assert_eq!(safe_relative("sub/x"), Some(PathBuf::from("sub/x")));
        for bad in ["", "/etc/passwd", "../x", "a/../../x"] {
            assert_eq!(safe_relative(bad), None, "{bad}");
        }
    }

    #[test]
    fn clean_drops_cur_dir() {
        assert_eq!(
            clean(Path::new("./.dockerignore")),
            PathBuf::from(".dockerignore")
        );
        assert_eq!(clean(Path::new("./a/./b")), PathBuf::from("a/b"));
    }
}
