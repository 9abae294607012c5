#!/usr/bin/env bash
# Screenshot an HTML report with Debian's headless Chromium (a manual check, not run in CI).
#   apt-get update && apt-get install -y chromium fonts-noto-cjk
#   bash scripts/screenshot_report.sh [report.html] [out.png]
# Defaults: examples/diff/report.html → docs/diff-report.png
set -euo pipefail
cd "$(dirname "$0")/.."
report="${1:-examples/diff/report.html}"
out="${2:-docs/diff-report.png}"
browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
    echo "chromium not found: apt-get install -y chromium fonts-noto-cjk" >&2
    exit 1
fi
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
    --screenshot="$(realpath -m "$out")" --window-size=1280,1600 "file://$(realpath "$report")" 2>/dev/null
echo "wrote $out"
