#!/usr/bin/env bash
# Headless Chromium + chromedriver (Debian's packages) and a CJK font for the web browser test. Idempotent.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && fc-list :lang=zh 2>/dev/null | grep -q .; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Another job may hold the apt lock: retry for a while instead of failing.
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if apt-get update -q && apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-noto-cjk; then
        exit 0
    fi
    echo "apt-get failed (attempt $attempt), retrying in 15 s" >&2
    sleep 15
done
exit 1
