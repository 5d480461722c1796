use super::*;

pub(super) fn parse(_source: &str) -> Result<Dockerfile, SyntaxError> {
    unimplemented!("being written")
}
