use super::*;
use crate::config::Config;
use crate::{optimize, Context, Settings};

fn settings(unsafe_fixes: bool, config: &str) -> Settings {
    Settings {
        unsafe_fixes,
        select: Some(vec![NAME.to_string()]),
        config: Config::from_toml(config).unwrap(),
        ..Settings::default()
    }
}

/// The fixed text, checked to be a fixed point.
fn fix_with(source: &str, unsafe_fixes: bool, config: &str, context: &Context) -> String {
    let settings = settings(unsafe_fixes, config);
    let outcome = optimize(source, context, &settings).unwrap();
    assert_eq!(outcome.error, None, "{source}");
    let again = optimize(&outcome.text, context, &settings).unwrap();
    assert_eq!(
        again.text, outcome.text,
        "not idempotent:\n{}",
        outcome.text
    );
    outcome.text
}

fn fix(source: &str) -> String {
    fix_with(source, true, "", &Context::default())
}

fn fix_safe(source: &str) -> String {
    fix_with(source, false, "", &Context::default())
}

fn whys(source: &str) -> Vec<String> {
    let outcome = optimize(source, &Context::default(), &settings(true, "")).unwrap();
    outcome
        .findings
        .iter()
        .filter_map(|f| f.finding.why.clone())
        .collect()
}

#[test]
fn apt_install_gets_its_flags_and_the_lists_removed() {
    assert_eq!(
        fix("FROM debian\nRUN apt-get update && apt-get install curl\n"),
        "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \\\n    && rm -rf /var/lib/apt/lists/*\n"
    );
    // What curl only recommends but needs for HTTPS is not installed twice.
    assert_eq!(
        fix("FROM debian\nRUN apt-get update && apt-get install -y ca-certificates curl=7.88.1-10\n"),
        "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl=7.88.1-10 \\\n    && rm -rf /var/lib/apt/lists/*\n"
    );
    // Safe only: no --no-install-recommends.
    assert_eq!(
        fix_safe("FROM debian\nRUN apt-get update && apt-get install curl\n"),
        "FROM debian\nRUN apt-get update && apt-get install -y curl \\\n    && rm -rf /var/lib/apt/lists/*\n"
    );
}

#[test]
fn cleanups_follow_the_runs_continuation_style() {
    let trailing = "FROM debian\nRUN apt-get update && \\\n\tapt-get install -y --no-install-recommends curl\n";
    assert_eq!(
        fix(trailing),
        "FROM debian\nRUN apt-get update && \\\n\tapt-get install -y --no-install-recommends curl && \\\n\trm -rf /var/lib/apt/lists/*\n"
    );
    let leading = "FROM debian\r\nRUN apt-get update \\\r\n  && apt-get install -y --no-install-recommends curl\r\n";
    assert_eq!(
        fix(leading),
        "FROM debian\r\nRUN apt-get update \\\r\n  && apt-get install -y --no-install-recommends curl \\\r\n  && rm -rf /var/lib/apt/lists/*\r\n"
    );
}

#[test]
fn an_update_alone_moves_into_the_install() {
    let source = "FROM debian\n\nRUN apt-get update\n\nCOPY . /app\nRUN apt-get install -y --no-install-recommends curl\n";
    assert_eq!(
        fix_safe(source),
        "FROM debian\n\nCOPY . /app\nRUN apt-get update && apt-get install -y --no-install-recommends curl \\\n    && rm -rf /var/lib/apt/lists/*\n"
    );
}

#[test]
fn removing_the_lists_adds_the_update_to_every_later_install() {
    let source = "FROM debian AS base\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nFROM base\nRUN apt-get install -y --no-install-recommends git\n";
    let fixed = fix_safe(source);
    assert!(fixed.contains("FROM base\nRUN apt-get update && apt-get install -y --no-install-recommends git \\\n    && rm -rf /var/lib/apt/lists/*\n"), "{fixed}");
    assert!(
        fixed.contains("curl \\\n    && rm -rf /var/lib/apt/lists/*\nFROM base"),
        "{fixed}"
    );
}

#[test]
fn an_install_from_the_base_images_lists_is_unsafe() {
    let source = "FROM debian\nRUN apt-get install -y --no-install-recommends curl\n";
    assert_eq!(fix_safe(source), source);
    assert!(fix(source).starts_with("FROM debian\nRUN apt-get update && apt-get install"));
}

#[test]
fn an_install_the_update_cannot_reach_blocks_the_removal() {
    let source = "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nRUN if true; then apt-get install -y --no-install-recommends git; fi\n";
    assert_eq!(fix(source), source);
    assert!(
        whys(source)
            .iter()
            .any(|w| w.contains("line 3 installs from these lists")),
        "{:?}",
        whys(source)
    );
}

#[test]
fn an_unseen_reader_makes_the_removal_unsafe() {
    let source = "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nRUN ./install-more.sh\n";
    assert_eq!(fix_safe(source), source);
    assert!(fix(source).contains("&& rm -rf /var/lib/apt/lists/*"));
}

#[test]
fn no_cleanup_where_it_would_not_run_last() {
    for body in [
        "apt-get update && apt-get install -y --no-install-recommends curl & wait",
        "apt-get update && apt-get install -y --no-install-recommends curl && exec true",
    ] {
        let source = format!("FROM debian\nRUN {body}\n");
        assert_eq!(fix(&source), source);
        assert!(whys(&source).iter().any(|w| w.contains("No fix")), "{body}");
    }
    // After `;` and `||` the cleanup still runs last, once the last list succeeded.
    assert!(fix("FROM debian\nRUN set -e; apt-get update; apt-get install -y --no-install-recommends curl || true\n")
        .ends_with("curl || true \\\n    && rm -rf /var/lib/apt/lists/*\n"));
}

#[test]
fn a_cache_mount_needs_no_cleanup() {
    let source = "FROM debian\nRUN --mount=type=cache,target=/var/lib/apt/lists --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y --no-install-recommends curl\nRUN --mount=type=cache,target=/root/.cache pip install flask\nRUN --mount=type=cache,target=/root/.npm npm ci\n";
    assert_eq!(fix(source), source);
}

#[test]
fn apt_lists_removed_by_dist_clean_or_updated_by_install_update() {
    let source = "FROM debian\nRUN set -eux; apt-get install --update -y --no-install-recommends curl; apt-get dist-clean\n";
    assert_eq!(fix(source), source);
}

#[test]
fn simulated_installs_need_nothing() {
    let source = "FROM debian\nRUN apt-get update && apt-get install -s curl && rm -rf /var/lib/apt/lists/*\nRUN apk add --no-network .x so:libc.so\n";
    assert_eq!(fix(source), source);
}

#[test]
fn pip_honours_pip_no_cache_dir() {
    for source in [
        "FROM python\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask\n",
        "FROM python\nENV PIP_NO_CACHE_DIR off\nRUN pip install flask\n",
        "FROM python AS base\nARG PIP_NO_CACHE_DIR=true\nFROM base\nRUN pip install flask\n",
        "FROM python\nRUN PIP_NO_CACHE_DIR=1 pip install flask\n",
        "FROM python\nRUN export PIP_NO_CACHE_DIR=1 && pip install flask\n",
    ] {
        assert_eq!(fix(source), source);
    }
    assert_eq!(
        fix("FROM python\nRUN python3 -m pip install -r r.txt && pip3.12 install x\n"),
        "FROM python\nRUN python3 -m pip install --no-cache-dir -r r.txt && pip3.12 install --no-cache-dir x\n"
    );
}

#[test]
fn apk_no_cache_replaces_update_and_its_cleanup() {
    assert_eq!(
        fix("FROM alpine\nRUN apk update \\\n    && apk add curl \\\n    && rm -rf /var/cache/apk/*\n"),
        "FROM alpine\nRUN apk add --no-cache curl\n"
    );
    assert_eq!(
        fix("FROM alpine\nRUN apk update\nRUN apk add curl\n"),
        "FROM alpine\nRUN apk add --no-cache curl\n"
    );
    // `apk upgrade` needs the index: the update stays and is cleaned up after.
    assert_eq!(
        fix("FROM alpine\nRUN apk update && apk upgrade && apk add curl\n"),
        "FROM alpine\nRUN apk update && apk upgrade && apk add --no-cache curl \\\n    && rm -rf /var/cache/apk/*\n"
    );
}

#[test]
fn a_deletion_never_drops_a_comment_line() {
    let source = "FROM alpine\nRUN apk update && \\\n# the packages\n    apk add --no-cache curl\n";
    assert_eq!(
        fix(source),
        "FROM alpine\nRUN apk update && \\\n# the packages\n    apk add --no-cache curl && \\\n    rm -rf /var/cache/apk/*\n"
    );
}

#[test]
fn rpm_managers_clean_all_through_sudo() {
    assert_eq!(
        fix("FROM fedora\nRUN sudo dnf install -y gcc\n"),
        "FROM fedora\nRUN sudo dnf install -y gcc \\\n    && sudo dnf clean all \\\n    && sudo rm -rf /var/cache/dnf\n"
    );
    assert_eq!(
        fix("FROM centos\nRUN yum install -y gcc && yum clean all\n"),
        "FROM centos\nRUN yum install -y gcc && yum clean all \\\n    && rm -rf /var/cache/yum\n"
    );
    let zypper = "FROM opensuse/leap\nRUN zypper -n in gcc && zypper cc -a\n";
    assert_eq!(fix(zypper), zypper);
}

#[test]
fn yarn_cleanup_depends_on_what_the_context_says() {
    let source = "FROM node\nRUN yarn install --frozen-lockfile\n";
    let cleaned = "FROM node\nRUN yarn install --frozen-lockfile \\\n    && yarn cache clean\n";
    let v1 = Context {
        files: Some(vec!["package.json".into(), "yarn.lock".into()]),
        ..Context::default()
    };
    let berry = Context {
        files: Some(vec![
            "package.json".into(),
            ".yarn/".into(),
            ".yarn/releases/yarn-4.cjs".into(),
        ]),
        ..Context::default()
    };
    assert_eq!(fix_with(source, false, "", &v1), cleaned);
    assert_eq!(fix_with(source, true, "", &berry), source);
    // Unknown context: Unsafe.
    assert_eq!(fix_with(source, false, "", &Context::default()), source);
    assert_eq!(fix_with(source, true, "", &Context::default()), cleaned);
}

#[test]
fn composer_1_gets_no_no_cache() {
    let source = "FROM php\nCOPY --from=composer:1.10 /usr/bin/composer /usr/bin/composer\nRUN composer install\n";
    assert_eq!(fix(source), source);
    assert_eq!(
        fix("FROM php\nRUN composer install --no-dev\n"),
        "FROM php\nRUN composer install --no-cache --no-dev\n"
    );
}

#[test]
fn apt_becomes_apt_get_pinned_or_not() {
    assert_eq!(
        fix("FROM debian\nRUN apt update && apt install -y --no-install-recommends curl=7.88 && rm -rf /var/lib/apt/lists/*\n"),
        "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends curl=7.88 && rm -rf /var/lib/apt/lists/*\n"
    );
    // Unpinned too: hadolint's DL3008 then reveals what was already true of the `apt` line.
    assert_eq!(
        fix("FROM debian\nRUN apt update && apt install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n"),
        "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n"
    );
    assert_eq!(
        fix("FROM debian\nRUN apt-get update && apt full-upgrade -y && rm -rf /var/lib/apt/lists/*\n"),
        "FROM debian\nRUN apt-get update && apt-get dist-upgrade -y && rm -rf /var/lib/apt/lists/*\n"
    );
}

#[test]
fn non_final_stages_are_cleaned_with_a_note_unless_configured_otherwise() {
    let source = "FROM node AS build\nRUN npm ci\nFROM build AS test\nRUN npm ci\nFROM nginx\nCOPY --from=build /app /app\n";
    // `build` lends files to the shipped image (COPY --from), `test` nothing at all.
    let notes: Vec<(bool, bool)> = whys(source)
        .iter()
        .map(|w| {
            (
                w.contains("stage `build` only lends files to the shipped image"),
                w.contains("stage `test` is not part of the shipped image"),
            )
        })
        .collect();
    assert_eq!(notes, [(true, false), (false, true)]);
    assert_eq!(
        fix_with(source, true, "only-final-stage = true", &Context::default()),
        source
    );
    // A stage the final stage is built on ships.
    let shipped = "FROM node AS base\nRUN npm ci\nFROM base\nCMD [\"node\"]\n";
    assert!(whys(shipped).iter().all(|w| !w.contains("shipped")));
    assert_ne!(
        fix_with(
            shipped,
            true,
            "only-final-stage = true",
            &Context::default()
        ),
        shipped
    );
}

#[test]
fn mount_mode_uses_cache_mounts() {
    let config = "[run-cleanup]\ncache = \"mount\"\n";
    let fixed = fix_with(
        "FROM python\nRUN pip install flask && npm ci\n",
        true,
        config,
        &Context::default(),
    );
    assert!(fixed.starts_with("FROM python\nRUN --mount=type=cache,target=/root/.npm --mount=type=cache,target=/root/.cache/pip pip install flask && npm ci\n")
        || fixed.starts_with("FROM python\nRUN --mount=type=cache,target=/root/.cache/pip --mount=type=cache,target=/root/.npm pip install flask && npm ci\n"), "{fixed}");
    let apt = fix_with(
        "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n",
        true,
        config,
        &Context::default(),
    );
    assert_eq!(
        apt,
        "FROM debian\nRUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt/lists,sharing=locked rm -f /etc/apt/apt.conf.d/docker-clean && echo 'Binary::apt::APT::Keep-Downloaded-Packages \"true\";' > /etc/apt/apt.conf.d/keep-cache && apt-get update && apt-get install -y --no-install-recommends curl\n"
    );
    // Not as root: a mount under /root would be wrong, so the RUN is cleaned up as usual.
    let user = "FROM python\nUSER app\nRUN pip install flask\n";
    assert_eq!(
        fix_with(user, true, config, &Context::default()),
        "FROM python\nUSER app\nRUN pip install --no-cache-dir flask\n"
    );
}

#[test]
fn shells_it_cannot_read_are_left_alone() {
    for source in [
        "FROM debian\nRUN [\"apt-get\", \"install\", \"curl\"]\n",
        "FROM debian\nRUN <<EOF\n#!/usr/bin/python3\nprint('apt-get install curl')\nEOF\n",
        "FROM debian\nRUN python3 <<EOF\nprint('pip install flask')\nEOF\n",
        "FROM debian\nRUN <<-EOF\n\tpip install flask\n\tEOF\n",
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN pip install flask\n",
        "FROM debian\nSHELL [\"pwsh\", \"-c\"]\nRUN pip install flask\n",
        // `FROM <stage>` runs under the SHELL that stage ended with.
        "FROM debian AS ps\nSHELL [\"pwsh\", \"-c\"]\nFROM ps\nRUN pip install flask\n",
        "FROM debian\nRUN apt-get install curl && (\n",
    ] {
        assert_eq!(fix(source), source, "{source}");
    }
}

#[test]
fn heredoc_scripts_are_edited_in_place() {
    assert_eq!(
        fix("FROM alpine\nRUN <<EOF\napk update\napk add curl\nEOF\n"),
        "FROM alpine\nRUN <<EOF\napk add --no-cache curl\nEOF\n"
    );
    assert_eq!(
        fix("FROM python\nRUN <<EOF\r\npip install flask\r\nEOF\r\n"),
        "FROM python\nRUN <<EOF\r\npip install --no-cache-dir flask\r\nEOF\r\n"
    );
}

#[test]
fn lists_are_not_downloaded_twice_in_one_run() {
    assert_eq!(
        fix("FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends a \\\n    && rm -rf /var/lib/apt/lists/* \\\n    && apt-get update && apt-get install -y --no-install-recommends b \\\n    && rm -rf /var/lib/apt/lists/*\n"),
        "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends a \\\n    && apt-get install -y --no-install-recommends b \\\n    && rm -rf /var/lib/apt/lists/*\n"
    );
    // A new source between the two downloads needs the second one.
    let sources = "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends a \\\n    && rm -rf /var/lib/apt/lists/* \\\n    && echo 'deb http://x y z' > /etc/apt/sources.list.d/x.list \\\n    && apt-get update && apt-get install -y --no-install-recommends b \\\n    && rm -rf /var/lib/apt/lists/*\n";
    assert_eq!(fix(sources), sources);
}

#[test]
fn gem_and_conda() {
    assert_eq!(
        fix("FROM ruby\nRUN gem install bundler\n"),
        "FROM ruby\nRUN gem install --no-document bundler\n"
    );
    let configured =
        "FROM ruby\nRUN echo 'gem: --no-document' > ~/.gemrc\nRUN gem install bundler\n";
    assert_eq!(fix(configured), configured);
    assert_eq!(
        fix("FROM mambaorg/micromamba\nRUN micromamba install -y -n base python\n"),
        "FROM mambaorg/micromamba\nRUN micromamba install -y -n base python \\\n    && micromamba clean --all --yes\n"
    );
}

#[test]
fn mount_targets_and_removed_paths() {
    assert!(covers("/root/.cache", "*/.cache/pip"));
    assert!(covers("/home/app/.cache/pip/", "*/.cache/pip"));
    assert!(!covers("/root/.cache/uv", "*/.cache/pip"));
    assert!(covers("/var/lib/apt", "/var/lib/apt/lists"));
    assert!(!covers("/var/lib/apt/lists/partial", "/var/lib/apt/lists"));
    assert!(same_path("/var/lib/apt/lists/*", "/var/lib/apt/lists/*"));
    assert!(same_path(
        "/var/lib/apt/lists/*",
        "\"/var/lib/apt/lists\"/*"
    ));
    assert!(same_path("/var/lib/apt/lists/*", "/var/lib/apt"));
    assert!(same_path("~/.npm", "/root/.npm"));
    assert!(!same_path("/var/lib/apt/lists/*", "/var/lib/dpkg"));
    assert!(!same_path("/var/lib/apt/lists/*", "/"));
}
