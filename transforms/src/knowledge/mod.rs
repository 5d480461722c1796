//! The compiled-in knowledge (`transforms/knowledge/*.toml`), each file parsed once on first use,
//! and the package managers that more than one transform reads.

pub(crate) mod base_images;
pub(crate) mod build_packages;
pub(crate) mod package_managers;

use std::sync::OnceLock;

use serde::de::DeserializeOwned;

use crate::shell::{Command, CommandView};

/// `parsed!("file.toml", T)` or `parsed!("file.toml", Raw => T, build)`: the file's value, parsed
/// (and built) on first use and shared after that.
macro_rules! parsed {
    ($file:literal, $ty:ty) => {
        $crate::knowledge::parsed!($file, $ty => $ty, Ok)
    };
    ($file:literal, $raw:ty => $ty:ty, $build:expr) => {{
        static CELL: ::std::sync::OnceLock<$ty> = ::std::sync::OnceLock::new();
        const TEXT: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge/", $file));
        $crate::knowledge::load::<$raw, $ty>(&CELL, $file, TEXT, $build)
    }};
}
pub(crate) use parsed;

/// The files are compiled in and every accessor is exercised by unit tests, so a file that does not
/// parse is a defect of the build, never of an input: it panics with the file's name and the error.
pub(crate) fn load<R: DeserializeOwned, T>(
    cell: &'static OnceLock<T>,
    file: &str,
    text: &str,
    build: impl FnOnce(R) -> Result<T, String>,
) -> &'static T {
    cell.get_or_init(|| {
        let raw: R = toml::from_str(text).unwrap_or_else(|e| panic!("knowledge/{file}: {e}"));
        build(raw).unwrap_or_else(|e| panic!("knowledge/{file}: {e}"))
    })
}

/// Whether basename `name` is one of `programs`, or (`versioned`) one followed by a version
/// (`pip3.12` for `pip`).
pub(crate) fn is_program(programs: &[String], versioned: bool, name: &str) -> bool {
    programs.iter().any(|p| name == p || (versioned && name.strip_prefix(p.as_str()).is_some_and(is_version)))
}

/// The view of `command` from the program named by `programs` on: after wrappers (`sudo`, `env`),
/// and after `python -m` for a Python module.
pub(crate) fn program_view<'a>(command: &'a Command, programs: &[String], versioned: bool, python_module: Option<&str>) -> Option<CommandView<'a>> {
    let view = command.effective();
    let name = view.basename()?;
    if is_program(programs, versioned, name) {
        return Some(view);
    }
    let module = python_module?;
    let is_python = name == "python" || name.strip_prefix("python").is_some_and(is_version);
    let args = view.args();
    (is_python && args.first().is_some_and(|a| a.is("-m")) && args.get(1).is_some_and(|a| a.is(module))).then(|| view.after(2))
}

/// `3`, `3.12`: what follows `pip` in `pip3.12`.
fn is_version(suffix: &str) -> bool {
    !suffix.is_empty() && suffix.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Whether the command's words carry `flag`: `-g` (also inside `-gq`), `--global` (also
/// `--global=x`), or any other exact word (`-ntp`, `APT::Install-Recommends=false`).
pub(crate) fn has_flag(view: CommandView, flag: &str) -> bool {
    if let Some(long) = flag.strip_prefix("--") {
        view.has_flag(None, Some(long))
    } else if let Some(short) = flag.strip_prefix('-').filter(|s| s.chars().count() == 1) {
        view.has_flag(short.chars().next(), None)
    } else {
        view.has_word(flag)
    }
}
