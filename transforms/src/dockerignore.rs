#![doc = include_str!("../docs/dockerignore.md")]

use crate::catalog::Input;
use crate::fix::Finding;

pub(crate) const DOC: &str = include_str!("../docs/dockerignore.md");

pub(crate) fn run(_input: &Input) -> Vec<Finding> {
    Vec::new()
}

pub(crate) fn artifacts(_input: &Input) -> Vec<crate::engine::Artifact> {
    Vec::new()
}
