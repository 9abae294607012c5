#!/usr/bin/env bash
# The whole test suite from a fresh machine: install with test tools, lint, run every test and scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e ".[test]"
python3 -m ruff check engine tests benchmarks
python3 -m pytest "$@"
