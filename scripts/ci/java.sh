#!/usr/bin/env bash
# Java for the Spark batch tests (pyspark 4 needs Java 17+): Debian's headless JRE. Idempotent.
set -euo pipefail
if command -v java >/dev/null 2>&1 && java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
for attempt in 1 2 3 4 5; do  # another process may hold the apt lock for a while
    if apt-get update -qq && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless; then
        exit 0
    fi
    sleep $((attempt * 10))
done
echo "could not install openjdk-17-jre-headless" >&2
exit 1
