#!/usr/bin/env bash
# Regenerate the worked example: the proposal folder from rules/, then the report in three forms.
# Run from anywhere; paths in the report are relative to the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
python examples/diff/make_proposal.py
python -m engine.cli diff rules examples/diff/rate80 \
    --population examples/diff/population.csv --events examples/diff/events.csv --as-of 2020-12-31 \
    -o examples/diff/report.html -o examples/diff/report.xlsx -o examples/diff/report.txt > /dev/null \
    || [ $? -eq 5 ]  # exit 5: the population has a deliberately bad row, reported in the outputs
echo "wrote examples/diff/report.{html,xlsx,txt}"
