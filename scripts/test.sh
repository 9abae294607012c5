#!/usr/bin/env bash
# The whole test suite from a fresh machine: install with test tools, lint, run every test and scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e ".[test,ledger]"
python3 -m ruff check engine tests benchmarks
# A real PostgreSQL server for the ledger tests (tests/test_ledger_*.py); CI must have it, a developer may not.
if HUIQI_TEST_PG_URL="$(bash scripts/ci/postgres.sh | tail -n 1)"; then
    export HUIQI_TEST_PG_URL
elif [ -n "${CI:-}" ]; then
    echo "scripts/ci/postgres.sh failed: CI needs PostgreSQL for the ledger tests" >&2
    exit 1
else
    echo "!!! PostgreSQL could not be started: the ledger's PostgreSQL tests will be SKIPPED !!!" >&2
fi
python3 -m pytest "$@"
