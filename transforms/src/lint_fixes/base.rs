//! What the image an instruction runs in is made of: its base image's family
//! (`knowledge/base-images.toml`) and the OS packages earlier RUNs installed.

use crate::knowledge::base_images::{self, installed_packages, Os, Wget};
use crate::model::reference::ImageRef;
use crate::model::Input;
use crate::syntax::Keyword;

/// The base image the stage of instruction `index` starts from, past the stages it is built on
/// (meta ARGs resolved).
pub(super) fn image(input: &Input, index: usize) -> Option<ImageRef> {
    let model = input.model();
    let root = model.lineage(model.stage_of(index)?).last()?;
    let text = model.from_text(&input.file.stages[root].image);
    ImageRef::parse(text.trim_matches('"'))
}

/// The OS facts of that image, when the knowledge names it.
pub(super) fn os(input: &Input, index: usize) -> Option<&'static Os> {
    base_images::os(&image(input, index)?)
}

/// Whether a RUN that ran before instruction `index` in its image installed OS package `package`.
pub(super) fn installed(input: &Input, index: usize, package: &str) -> bool {
    input.model().earlier(index).into_iter().any(|i| {
        input.file.instructions[i].keyword == Keyword::Run
            && input.shell(i).is_some_and(|run| run.script.commands().iter().any(|c| installed_packages(c).iter().any(|p| p == package)))
    })
}

/// The wget a RUN at `index` finds: GNU's once the `wget` package is installed, else the base
/// image's; busybox's (whose `-q` GNU's takes too) when the image is not known.
pub(super) fn wget(input: &Input, index: usize) -> Wget {
    if installed(input, index, "wget") {
        return Wget::Gnu;
    }
    os(input, index).map_or(Wget::Busybox, |os| os.wget)
}
