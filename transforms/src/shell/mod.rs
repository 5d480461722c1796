//! Shell view of RUN bodies (tree-sitter-bash). Being written.
