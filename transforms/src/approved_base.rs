#![doc = include_str!("../docs/approved-base.md")]

use crate::catalog::Input;
use crate::fix::Finding;

pub(crate) const DOC: &str = include_str!("../docs/approved-base.md");

pub(crate) fn run(_input: &Input) -> Vec<Finding> {
    Vec::new()
}
