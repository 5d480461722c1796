//! The compiled-in knowledge (`transforms/knowledge/*.toml`), each file parsed once on first use,
//! and the package managers that more than one transform reads.

pub(crate) mod package_managers;

use std::sync::OnceLock;

use serde::de::DeserializeOwned;

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
