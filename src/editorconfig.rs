//! `.editorconfig` (https://editorconfig.org) for the formatter: the `indent_style` and
//! `indent_size` that apply to a Dockerfile, read with the `ec4rs` crate (sections, globs,
//! `root = true` and precedence as the specification says). The engine never reads files: the
//! values travel in `Settings::editor`.

use std::path::Path;
use std::sync::Arc;

use ec4rs::property::{IndentSize, IndentStyle, TabWidth};
use transforms::{EditorSettings, Settings};

use crate::process::{Input, Job};

/// What the `.editorconfig` files above `path` say about its indentation. A file that cannot be
/// read or parsed counts as absent, as in editors.
pub fn for_path(path: &Path) -> EditorSettings {
    let Ok(properties) = ec4rs::properties_of(path) else {
        return EditorSettings::default();
    };
    let indent_with_tabs = match properties.get::<IndentStyle>() {
        Ok(IndentStyle::Tabs) => Some(true),
        Ok(IndentStyle::Spaces) => Some(false),
        Err(_) => None,
    };
    let indent_size = match properties.get::<IndentSize>() {
        Ok(IndentSize::Value(n)) if n > 0 => Some(n),
        Ok(IndentSize::UseTabWidth) => match properties.get::<TabWidth>() {
            Ok(TabWidth::Value(n)) if n > 0 => Some(n),
            _ => None,
        },
        _ => None,
    };
    EditorSettings { indent_with_tabs, indent_size }
}

/// Give each job that formats the `.editorconfig` of its file (`stdin_filename` for stdin).
pub fn apply(jobs: &mut [Job], stdin_filename: Option<&Path>) {
    for job in jobs.iter_mut().filter(|j| j.settings.enabled("format")) {
        let path = match &job.input {
            Input::File(path) => Some(path.as_path()),
            Input::Stdin(_) => stdin_filename,
        };
        let Some(path) = path else { continue };
        let editor = for_path(path);
        if editor != job.settings.editor {
            job.settings = Arc::new(Settings { editor, ..(*job.settings).clone() });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_precedence() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".editorconfig"),
            "root = true\n[*]\nindent_style = space\nindent_size = 2\n[{Dockerfile,*.Dockerfile}]\nindent_style = tab\ntab_width = 8\nindent_size = tab\n",
        )
        .unwrap();
        let docker = for_path(&dir.path().join("Dockerfile"));
        assert_eq!(docker, EditorSettings { indent_with_tabs: Some(true), indent_size: Some(8) });
        let other = for_path(&dir.path().join("Containerfile"));
        assert_eq!(other, EditorSettings { indent_with_tabs: Some(false), indent_size: Some(2) });
        let none = tempfile::tempdir().unwrap();
        std::fs::write(none.path().join(".editorconfig"), "root = true\n").unwrap();
        assert_eq!(for_path(&none.path().join("Dockerfile")), EditorSettings::default());
    }
}
