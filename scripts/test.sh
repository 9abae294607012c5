#!/usr/bin/env bash
# The whole test suite from a fresh machine: install with test tools, lint, run every test and scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e ".[test,web,spark]"
bash scripts/ci/chromium.sh  # headless Chromium + chromedriver + a CJK font for tests/test_web_browser.py
bash scripts/ci/java.sh      # Java for the Spark tests
python3 -m ruff check engine tests benchmarks
python3 -m pytest "$@"
