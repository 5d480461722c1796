//! `FROM --platform=…` as BuildKit's build checks see it: `$TARGETPLATFORM` is the default
//! (RedundantTargetPlatform), a constant pins the stage to one platform whatever the build's target
//! (FromPlatformFlagConstDisallowed).

use crate::checks;
use crate::fix::{Edit, Finding, Fix};
use crate::model::Input;
use crate::syntax::{assignments, Dockerfile, Flag, Instruction, Keyword};

const OSES: &[&str] = &["linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos", "aix", "plan9", "wasip1", "js"];

pub(super) fn check(input: &Input) -> Vec<Finding> {
    let file = input.file;
    let mut findings = Vec::new();
    for stage in &file.stages {
        let inst = &file.instructions[stage.from];
        let Some(flag) = inst.flag("platform") else { continue };
        let Some(value) = flag.value.as_deref() else { continue };
        let range = inst.logical.source_range(flag.logical.clone());
        if value == "$TARGETPLATFORM" || value == "${TARGETPLATFORM}" {
            let finding = Finding::new(&checks::LINT_FIXES_REDUNDANT_TARGET_PLATFORM, range.clone(), format!("`--platform={value}` is what FROM does without it"))
                .with_why("a stage is built for the target platform unless told otherwise (BuildKit's RedundantTargetPlatform)");
            findings.push(match flag_deletion(file, inst, flag) {
                Some(edit) if !meta_arg_has_value(file, "TARGETPLATFORM") => finding.with_fix(Fix::safe("Remove the `--platform` flag", vec![edit])),
                Some(_) => finding.with_why("an `ARG TARGETPLATFORM=…` before the first FROM gives it a fixed value: the flag is not the default"),
                None => finding,
            });
        } else if let Some(platform) = constant_platform(value) {
            let name = stage.name.as_deref().unwrap_or_default();
            if platform.iter().any(|part| name.contains(part.as_str())) {
                continue;
            }
            findings.push(
                Finding::new(&checks::LINT_FIXES_CONSTANT_PLATFORM, range, format!("`--platform={value}` builds this stage for one platform whatever the build's target"))
                    .with_why("use `$BUILDPLATFORM` for a stage that runs build tools, `$TARGETPLATFORM` (the default) for one that is shipped, or name the stage after its platform (BuildKit's FromPlatformFlagConstDisallowed)"),
            );
        }
    }
    findings
}

/// The flag and the blanks after it, when they lie on one line.
fn flag_deletion(file: &Dockerfile, inst: &Instruction, flag: &Flag) -> Option<Edit> {
    if !inst.logical.is_contiguous(flag.logical.clone()) {
        return None;
    }
    let range = inst.logical.source_range(flag.logical.clone());
    let blanks = file.source[range.end..].bytes().take_while(|b| *b == b' ' || *b == b'\t').count();
    Some(Edit::delete(range.start..range.end + blanks))
}

/// Whether an ARG before the first FROM gives `name` a value.
fn meta_arg_has_value(file: &Dockerfile, name: &str) -> bool {
    let first_from = file.stages.first().map_or(file.instructions.len(), |s| s.from);
    file.instructions[..first_from]
        .iter()
        .filter(|i| i.keyword == Keyword::Arg)
        .flat_map(|i| assignments(i, file.escape))
        .any(|(n, value)| n == name && value.is_some())
}

/// The OS and architecture of a constant platform (`linux/amd64`, `arm64`), as BuildKit normalises
/// them; `None` when the value has a variable or is not a platform.
fn constant_platform(value: &str) -> Option<Vec<String>> {
    if value.contains('$') || value.is_empty() {
        return None;
    }
    let parts: Vec<String> = value.split('/').map(|p| p.to_ascii_lowercase()).collect();
    let (os, arch) = match parts.as_slice() {
        [one] if OSES.contains(&one.as_str()) => (one.clone(), None),
        [one] => ("linux".to_string(), Some(one.clone())),
        [os, arch, ..] if OSES.contains(&os.as_str()) => (os.clone(), Some(arch.clone())),
        _ => return None,
    };
    let arch = arch.map(|a| match a.as_str() {
        "x86_64" | "x86-64" => "amd64".to_string(),
        "aarch64" => "arm64".to_string(),
        "armhf" | "armel" => "arm".to_string(),
        "i386" | "i686" => "386".to_string(),
        _ => a,
    });
    Some([Some(os), arch].into_iter().flatten().collect())
}
