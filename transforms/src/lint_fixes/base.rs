//! What the image an instruction runs in is made of: its base image's family
//! (`knowledge/base-images.toml`) and the OS packages earlier RUNs installed.

pub(super) use crate::knowledge::base_images::{image, installed};
use crate::knowledge::base_images::{self, Os, Wget};
use crate::model::Input;

/// The OS facts of the image instruction `index` runs in, when the knowledge names it.
pub(super) fn os(input: &Input, index: usize) -> Option<&'static Os> {
    base_images::os(&image(input, index)?)
}

/// The wget a RUN at `index` finds: GNU's once the `wget` package is installed, else the base
/// image's; busybox's (whose `-q` GNU's takes too) when the image is not known.
pub(super) fn wget(input: &Input, index: usize) -> Wget {
    if installed(input, index, "wget") {
        return Wget::Gnu;
    }
    os(input, index).map_or(Wget::Busybox, |os| os.wget)
}
