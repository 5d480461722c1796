#![doc = include_str!("../docs/run-cleanup.md")]

use crate::catalog::Input;
use crate::fix::Finding;

pub(crate) const DOC: &str = include_str!("../docs/run-cleanup.md");

pub(crate) fn run(_input: &Input) -> Vec<Finding> {
    Vec::new()
}
