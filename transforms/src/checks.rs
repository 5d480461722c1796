//! The registry of checks: every kind of finding dockopt reports has one stable id,
//! `transform/check`, registered here once with a one-line summary and the hadolint rules and
//! BuildKit build checks it relates to. A transform names its checks by these constants (or, for
//! the checks its knowledge TOML drives, by id in that file, resolved when the file loads), so a
//! misspelt id does not compile or fails the knowledge's tests.
//!
//! The related codes are what `--select`/`--ignore` and the suppression comments map: `DL3009`
//! (in `--ignore`, `# hadolint ignore=`, `.hadolint.yaml`) stands for the checks that fix what
//! hadolint's DL3009 reports; `LegacyKeyValueFormat` (in `# check=skip=`) for those that fix what
//! BuildKit's check of that name reports.
//!
//! Adding a check is one line in `checks!` below (docs/architecture.md).

use std::fmt;

/// One kind of finding.
#[derive(Debug, PartialEq, Eq)]
pub struct Check {
    /// `transform/check`, kebab-case, stable: what users type in `--select`, `--ignore`, config,
    /// `# dockopt ignore=`, and what JSON, SARIF and the language server carry.
    pub id: &'static str,
    /// What the check wants, in one line.
    pub summary: &'static str,
    /// hadolint rules whose findings this check's fix resolves.
    pub hadolint: &'static [&'static str],
    /// BuildKit build checks (`docker build --check`) whose findings this check's fix resolves.
    pub buildkit: &'static [&'static str],
}

impl Check {
    /// The transform the check belongs to: the id's part before `/`.
    pub fn transform(&self) -> &'static str {
        self.id.split_once('/').map_or(self.id, |(transform, _)| transform)
    }

    /// Whether `selector` (a transform name, a check id, `all`, a hadolint code or a BuildKit
    /// check name) names this check.
    pub fn matches(&self, selector: &str) -> bool {
        selector == "all"
            || selector == self.id
            || selector == self.transform()
            || self.hadolint.iter().any(|code| code.eq_ignore_ascii_case(selector))
            || self.buildkit.contains(&selector)
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.id)
    }
}

/// Serialized as its id.
impl serde::Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id)
    }
}

/// `check = "run-cleanup/apt-lists"` in a knowledge file: the registered check of that id.
pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static Check, D::Error> {
    let id = <String as serde::Deserialize>::deserialize(d)?;
    find(&id).ok_or_else(|| serde::de::Error::custom(format!("`{id}` is not a registered check (transforms/src/checks.rs)")))
}

macro_rules! checks {
    ($($name:ident: $id:literal, hadolint [$($h:literal),*], buildkit [$($b:literal),*], $summary:literal;)*) => {
        $(pub static $name: Check = Check { id: $id, summary: $summary, hadolint: &[$($h),*], buildkit: &[$($b),*] };)*
        /// Every check, in catalog order.
        pub static ALL: &[&Check] = &[$(&$name),*];
    };
}

checks! {
    RUN_CLEANUP_APT_LISTS: "run-cleanup/apt-lists", hadolint ["DL3009"], buildkit [], "A RUN that downloads apt's package lists removes them in the same layer";
    RUN_CLEANUP_INSTALL_WITHOUT_UPDATE: "run-cleanup/install-without-update", hadolint [], buildkit [], "An install runs `apt-get update` in its own RUN instead of using lists another layer left or deleted";
    RUN_CLEANUP_LISTS_FETCHED_TWICE: "run-cleanup/lists-fetched-twice", hadolint [], buildkit [], "A RUN does not delete the package lists only to download the same ones again";
    RUN_CLEANUP_ASSUME_YES: "run-cleanup/assume-yes", hadolint ["DL3014"], buildkit [], "apt-get commands that would ask for confirmation carry `-y`";
    RUN_CLEANUP_NO_INSTALL_RECOMMENDS: "run-cleanup/no-install-recommends", hadolint ["DL3015"], buildkit [], "`apt-get install` carries `--no-install-recommends`";
    RUN_CLEANUP_USE_APT_GET: "run-cleanup/use-apt-get", hadolint ["DL3027"], buildkit [], "Scripts run `apt-get`, whose command line is stable, not `apt`";
    RUN_CLEANUP_APK_NO_CACHE: "run-cleanup/apk-no-cache", hadolint ["DL3019"], buildkit [], "`apk add` carries `--no-cache`";
    RUN_CLEANUP_APK_INDEX: "run-cleanup/apk-index", hadolint ["DL3019"], buildkit [], "`apk update` leaves no package index in the layer";
    RUN_CLEANUP_YUM_CLEAN: "run-cleanup/yum-clean", hadolint ["DL3032"], buildkit [], "yum's metadata and package cache are cleaned in the RUN that filled them";
    RUN_CLEANUP_DNF_CLEAN: "run-cleanup/dnf-clean", hadolint ["DL3040"], buildkit [], "dnf's and microdnf's caches are cleaned in the RUN that filled them";
    RUN_CLEANUP_TDNF_CLEAN: "run-cleanup/tdnf-clean", hadolint [], buildkit [], "tdnf's caches are cleaned in the RUN that filled them";
    RUN_CLEANUP_ZYPPER_CLEAN: "run-cleanup/zypper-clean", hadolint ["DL3036"], buildkit [], "zypper's caches are cleaned in the RUN that filled them";
    RUN_CLEANUP_PIP_NO_CACHE_DIR: "run-cleanup/pip-no-cache-dir", hadolint ["DL3042"], buildkit [], "`pip install` carries `--no-cache-dir`";
    RUN_CLEANUP_UV_NO_CACHE: "run-cleanup/uv-no-cache", hadolint [], buildkit [], "uv's installs carry `--no-cache`";
    RUN_CLEANUP_NPM_CACHE_CLEAN: "run-cleanup/npm-cache-clean", hadolint [], buildkit [], "npm's cache is cleaned in the RUN that filled it";
    RUN_CLEANUP_YARN_CACHE_CLEAN: "run-cleanup/yarn-cache-clean", hadolint ["DL3060"], buildkit [], "Yarn's cache is cleaned in the RUN that filled it";
    RUN_CLEANUP_CONDA_CLEAN: "run-cleanup/conda-clean", hadolint [], buildkit [], "conda's package archives are cleaned in the RUN that downloaded them";
    RUN_CLEANUP_PNPM_STORE_PRUNE: "run-cleanup/pnpm-store-prune", hadolint [], buildkit [], "pnpm's store is pruned in the RUN that left unused packages in it";
    RUN_CLEANUP_PIPENV_CACHE: "run-cleanup/pipenv-cache", hadolint [], buildkit [], "pipenv's cache is removed in the RUN that filled it";
    RUN_CLEANUP_BUNDLER_GEM_CACHE: "run-cleanup/bundler-gem-cache", hadolint [], buildkit [], "Bundler's downloaded .gem files are removed in the RUN that installed them";
    RUN_CLEANUP_GEM_NO_DOCUMENT: "run-cleanup/gem-no-document", hadolint [], buildkit [], "`gem install` carries `--no-document`";
    RUN_CLEANUP_COMPOSER_NO_CACHE: "run-cleanup/composer-no-cache", hadolint [], buildkit [], "Composer's installs carry `--no-cache`";
    RUN_CLEANUP_CACHE_MOUNT: "run-cleanup/cache-mount", hadolint [], buildkit [], "With `cache = \"mount\"`, package caches go to BuildKit cache mounts";
    MERGE_RUNS_CONSECUTIVE: "merge-runs/consecutive", hadolint ["DL3059"], buildkit [], "Consecutive RUNs of a stage are one RUN";
    MERGE_RUNS_STANDALONE_CLEANUP: "merge-runs/standalone-cleanup", hadolint [], buildkit [], "A cleanup RUN of its own moves into the RUN that filled the cache";
    MANIFEST_FIRST_COPY_BEFORE_INSTALL: "manifest-first/copy-before-install", hadolint [], buildkit [], "Dependency manifests are copied and installed before the whole build context";
    MULTI_STAGE_SINGLE_STAGE: "multi-stage/single-stage", hadolint [], buildkit [], "A single-stage image that compiles inside itself is split into a build and a runtime stage";
    MULTI_STAGE_NEEDLESS_COMPILER: "multi-stage/needless-compiler", hadolint [], buildkit [], "An interpreted app whose dependencies compile nothing installs no compiler or headers";
    MULTI_STAGE_TOOLCHAIN_IN_FINAL: "multi-stage/toolchain-in-final", hadolint [], buildkit [], "The shipped stage of a multi-stage build installs no compiler toolchain";
    LAYER_WASTE_CHOWN_AFTER_COPY: "layer-waste/chown-after-copy", hadolint [], buildkit [], "Files a COPY brings get their owner from `COPY --chown`, not from a `chown -R` that stores them again";
    LAYER_WASTE_CHMOD_AFTER_COPY: "layer-waste/chmod-after-copy", hadolint [], buildkit [], "Files a COPY brings get their mode from `COPY --chmod`, not from a `chmod -R` that stores them again";
    LAYER_WASTE_ARCHIVE_LEFT: "layer-waste/archive-left", hadolint [], buildkit [], "A RUN that downloads and unpacks an archive does not leave the archive in its layer";
    LAYER_WASTE_ADD_URL_ARCHIVE: "layer-waste/add-url-archive", hadolint [], buildkit [], "An archive is downloaded, unpacked and deleted by one RUN, not fetched by ADD into a layer of its own";
    LAYER_WASTE_BUILD_DEPS: "layer-waste/build-deps", hadolint [], buildkit [], "Packages installed only to build are purged at the end of the RUN that used them";
    LAYER_WASTE_LATE_DELETE: "layer-waste/late-delete", hadolint [], buildkit [], "What a RUN deletes is deleted in the layer that created it, not in a later one";
    APPROVED_BASE_NOT_ALLOWED: "approved-base/not-allowed", hadolint ["DL3026"], buildkit [], "Base images are in the approved list (`[base] allow`)";
    APPROVED_BASE_REPLACE: "approved-base/replace", hadolint [], buildkit [], "Base images named by a `[[base.replace]]` rule become the organisation's replacement";
    APPROVED_BASE_SLIM: "approved-base/slim", hadolint [], buildkit [], "Heavy base images become their slim variant when the stage needs nothing they lack";
    APPROVED_BASE_UNPINNED: "approved-base/unpinned", hadolint ["DL3006", "DL3007"], buildkit [], "Base images are pinned as `[base] pin` says (a tag other than `latest`, or a digest)";
    APPROVED_BASE_UNVERIFIABLE: "approved-base/unverifiable", hadolint [], buildkit [], "Base images can be checked against the approved list (no undefined or invalid ARG)";
    DOCKERIGNORE_MISSING: "dockerignore/missing", hadolint [], buildkit [], "The build context has a .dockerignore that leaves out what the build never reads";
    DOCKERIGNORE_INCOMPLETE: "dockerignore/incomplete", hadolint [], buildkit [], "The .dockerignore leaves out what the build never reads";
    MODERNIZE_MAINTAINER: "modernize/maintainer", hadolint ["DL4000"], buildkit ["MaintainerDeprecated"], "MAINTAINER becomes `LABEL maintainer=`";
    MODERNIZE_LEGACY_ENV: "modernize/legacy-env", hadolint [], buildkit ["LegacyKeyValueFormat"], "`ENV key value` becomes `ENV key=value`";
    MODERNIZE_ADD_TO_COPY: "modernize/add-to-copy", hadolint ["DL3020"], buildkit [], "ADD of local files becomes COPY";
    FORMAT_INSTRUCTION: "format/instruction", hadolint [], buildkit [], "Instructions are formatted: keyword case, spacing, continuation indentation and operators";
    FORMAT_LINES: "format/lines", hadolint [], buildkit [], "Comment and blank lines are formatted, and the file ends with a line break";
    LINT_FIXES_PIPEFAIL: "lint-fixes/pipefail", hadolint ["DL4006"], buildkit [], "A RUN with a pipe runs under a SHELL with `-o pipefail`";
    LINT_FIXES_CD_TO_WORKDIR: "lint-fixes/cd-to-workdir", hadolint ["DL3003"], buildkit [], "A RUN does not start with `cd`: a WORKDIR says where it works";
    LINT_FIXES_RELATIVE_DESTINATION: "lint-fixes/relative-destination", hadolint ["DL3045"], buildkit [], "COPY writes to an absolute path, or below a WORKDIR the file sets";
    LINT_FIXES_RELATIVE_WORKDIR: "lint-fixes/relative-workdir", hadolint ["DL3000"], buildkit ["WorkdirRelativePath"], "WORKDIR paths are absolute";
    LINT_FIXES_QUOTE_EXPANSION: "lint-fixes/quote-expansion", hadolint ["SC2086"], buildkit [], "An expansion that stands for one path or pattern is double-quoted";
    LINT_FIXES_WGET_PROGRESS: "lint-fixes/wget-progress", hadolint ["DL3047"], buildkit [], "wget runs with a progress option made for a build log";
    LINT_FIXES_EXEC_FORM: "lint-fixes/exec-form", hadolint ["DL3025"], buildkit ["JSONArgsRecommended"], "CMD, ENTRYPOINT and HEALTHCHECK run a literal command in exec form";
    LINT_FIXES_REPEATED_INSTRUCTION: "lint-fixes/repeated-instruction", hadolint ["DL4003", "DL4004", "DL3012"], buildkit ["MultipleInstructionsDisallowed"], "A stage has at most one CMD, one ENTRYPOINT and one HEALTHCHECK";
    LINT_FIXES_REDUNDANT_TARGET_PLATFORM: "lint-fixes/redundant-target-platform", hadolint [], buildkit ["RedundantTargetPlatform"], "FROM does not pass `--platform=$TARGETPLATFORM`, its default";
    LINT_FIXES_CONSTANT_PLATFORM: "lint-fixes/constant-platform", hadolint [], buildkit ["FromPlatformFlagConstDisallowed"], "FROM's `--platform` is not a constant unless the stage is named after the platform";
    LINT_FIXES_EXPOSE_HOST_PORT: "lint-fixes/expose-host-port", hadolint [], buildkit ["ExposeInvalidFormat"], "EXPOSE names container ports, without a host address or port";
    LINT_FIXES_EXPOSE_PROTOCOL_CASE: "lint-fixes/expose-protocol-case", hadolint [], buildkit ["ExposeProtoCasing"], "EXPOSE writes its protocols in lower case";
    LINT_FIXES_DUPLICATE_STAGE_NAME: "lint-fixes/duplicate-stage-name", hadolint ["DL3024"], buildkit ["DuplicateStageName"], "Stage names are unique";
    LINT_FIXES_RESERVED_STAGE_NAME: "lint-fixes/reserved-stage-name", hadolint [], buildkit ["ReservedStageName"], "No stage is named `scratch` or `context`";
    LINT_FIXES_SECRET_IN_ARG_OR_ENV: "lint-fixes/secret-in-arg-or-env", hadolint [], buildkit ["SecretsUsedInArgOrEnv"], "No ARG or ENV is named like a secret";
}

/// The check of that id.
pub fn find(id: &str) -> Option<&'static Check> {
    ALL.iter().copied().find(|c| c.id == id)
}

/// The checks of one transform.
pub fn of_transform(name: &str) -> impl Iterator<Item = &'static Check> + '_ {
    ALL.iter().copied().filter(move |c| c.transform() == name)
}

/// hadolint's rules (hadolint 2.x; `DL3031` and `DL3039` were retired). A pragma or config may name
/// any of these, or a ShellCheck code (`SC1234`), whether or not a dockopt check relates to it.
pub const HADOLINT_RULES: &[&str] = &[
    "DL1001", "DL3000", "DL3001", "DL3002", "DL3003", "DL3004", "DL3006", "DL3007", "DL3008", "DL3009", "DL3010",
    "DL3011", "DL3012", "DL3013", "DL3014", "DL3015", "DL3016", "DL3018", "DL3019", "DL3020", "DL3021", "DL3022",
    "DL3023", "DL3024", "DL3025", "DL3026", "DL3027", "DL3028", "DL3029", "DL3030", "DL3032", "DL3033", "DL3034",
    "DL3035", "DL3036", "DL3037", "DL3038", "DL3040", "DL3041", "DL3042", "DL3043", "DL3044", "DL3045", "DL3046",
    "DL3047", "DL3048", "DL3049", "DL3050", "DL3051", "DL3052", "DL3053", "DL3054", "DL3055", "DL3056", "DL3057",
    "DL3058", "DL3059", "DL3060", "DL3061", "DL3062", "DL3063", "DL3064", "DL3065", "DL3066", "DL3067", "DL4000",
    "DL4001", "DL4003", "DL4004", "DL4005", "DL4006",
];

/// BuildKit's build checks (moby/buildkit frontend/dockerfile/linter/ruleset.go), the names
/// `# check=skip=` takes.
pub const BUILDKIT_CHECKS: &[&str] = &[
    "StageNameCasing", "FromAsCasing", "NoEmptyContinuation", "ConsistentInstructionCasing", "DuplicateStageName",
    "ReservedStageName", "JSONArgsRecommended", "MaintainerDeprecated", "UndefinedArgInFrom", "WorkdirRelativePath",
    "UndefinedVar", "MultipleInstructionsDisallowed", "LegacyKeyValueFormat", "InvalidBaseImagePlatform",
    "RedundantTargetPlatform", "SecretsUsedInArgOrEnv", "InvalidDefaultArgInFrom", "FromPlatformFlagConstDisallowed",
    "CopyIgnoredFile", "InvalidDefinitionDescription", "ExposeProtoCasing", "ExposeInvalidFormat",
];

/// A hadolint rule or a ShellCheck code (`SC` and four digits), in any case.
pub fn is_hadolint_code(code: &str) -> bool {
    let upper = code.to_ascii_uppercase();
    HADOLINT_RULES.contains(&upper.as_str())
        || (upper.len() == 6 && upper.starts_with("SC") && upper[2..].bytes().all(|b| b.is_ascii_digit()))
}

/// The known name closest to `unknown` when it is close enough to be a typo: for "did you mean".
pub fn suggest<'a>(unknown: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let unknown = unknown.to_ascii_lowercase();
    known
        .into_iter()
        .map(|k| (strsim::damerau_levenshtein(&unknown, &k.to_ascii_lowercase()), k))
        .filter(|(distance, k)| *distance <= (k.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_codes_are_known() {
        let mut seen = std::collections::HashSet::new();
        for check in ALL {
            assert!(seen.insert(check.id), "{} is registered twice", check.id);
            let (transform, name) = check.id.split_once('/').unwrap_or_else(|| panic!("{}: not `transform/check`", check.id));
            for part in [transform, name] {
                let kebab = !part.is_empty()
                    && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !part.starts_with('-')
                    && !part.ends_with('-');
                assert!(kebab, "{}: not kebab-case", check.id);
            }
            assert!(!check.summary.is_empty() && !check.summary.ends_with('.'), "{}: a one-line summary without a final period", check.id);
            for code in check.hadolint {
                assert!(is_hadolint_code(code) && code.to_ascii_uppercase() == *code, "{}: {code} is not a hadolint rule or ShellCheck code", check.id);
            }
            for rule in check.buildkit {
                assert!(BUILDKIT_CHECKS.contains(rule), "{}: {rule} is not a BuildKit check", check.id);
            }
        }
    }

    #[test]
    fn selectors_name_checks_by_id_transform_and_related_codes() {
        let lists = &RUN_CLEANUP_APT_LISTS;
        assert!(["all", "run-cleanup", "run-cleanup/apt-lists", "DL3009", "dl3009"].iter().all(|s| lists.matches(s)));
        assert!(!["run-clean", "DL3008", "merge-runs"].iter().any(|s| lists.matches(s)));
        assert!(MODERNIZE_LEGACY_ENV.matches("LegacyKeyValueFormat"));
        assert_eq!(lists.transform(), "run-cleanup");
    }

    #[test]
    fn hadolint_codes_and_suggestions() {
        assert!(is_hadolint_code("DL3008") && is_hadolint_code("sc2086") && !is_hadolint_code("DL3031") && !is_hadolint_code("SC20"));
        let ids = ALL.iter().map(|c| c.id);
        assert_eq!(suggest("run-cleanup/apt-list", ids.clone()), Some("run-cleanup/apt-lists"));
        assert_eq!(suggest("merge-run", ["merge-runs", "modernize"]), Some("merge-runs"));
        assert_eq!(suggest("something-else", ids), None);
    }
}
