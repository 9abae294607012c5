#!/usr/bin/env bash
# The whole test suite from a fresh machine: install with test tools, lint, run every test and scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ci/java.sh
python3 -m pip install -q -e ".[test,spark]"
python3 -m ruff check engine tests benchmarks
python3 -m pytest "$@"
