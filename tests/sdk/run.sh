#!/usr/bin/env bash
# Runs the SDK conformance tests (official `openai` and `anthropic` Python
# SDKs) against the built binaries.
#
#   cargo build -p modelgate -p modelgate-testkit --bins && bash tests/sdk/run.sh [PYTEST ARGS]
#
# Creates target/sdk-venv on first use and reinstalls tests/sdk/requirements.txt
# only when that file changes. MODELGATE_BIN and FAKE_UPSTREAM_BIN default to
# the debug builds; this script builds nothing.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root"

venv="target/sdk-venv"
requirements="tests/sdk/requirements.txt"
stamp="$venv/.requirements.sha256"

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi

want="$(sha256sum "$requirements" | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"
if [[ "$want" != "$have" ]]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    printf '%s\n' "$want" > "$stamp"
fi

export MODELGATE_BIN="${MODELGATE_BIN:-$repo_root/target/debug/modelgate}"
export FAKE_UPSTREAM_BIN="${FAKE_UPSTREAM_BIN:-$repo_root/target/debug/fake-upstream}"
# The gateway under test is the one the fixtures start, never another.
unset MODELGATE_URL MODELGATE_CONFIG

exec "$venv/bin/python" -m pytest tests/sdk -q -p no:cacheprovider "$@"
