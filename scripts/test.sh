#!/usr/bin/env bash
# The whole test suite from a fresh machine: install with test tools and every extra, start the real parts the
# tests need (PostgreSQL, headless Chromium, Java for Spark; Debian's packages), lint, run every test and scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e ".[test,ledger,web,spark]"
bash scripts/ci/chromium.sh  # headless Chromium + chromedriver + a CJK font for tests/test_web_browser.py
bash scripts/ci/java.sh      # Java for the Spark tests (tests/test_batch_spark.py)
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
