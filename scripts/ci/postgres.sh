#!/usr/bin/env bash
# A PostgreSQL server for the ledger tests: Debian's postgresql package, a cluster of its own ("huiqi") on a
# local port, trust authentication on loopback and the socket only. Idempotent: installs, creates and starts
# only what is missing. Prints the URL to use as HUIQI_TEST_PG_URL (sourcing the script exports it).
set -euo pipefail
PORT="${HUIQI_PG_PORT:-54329}"
CLUSTER=huiqi

if ! command -v pg_lsclusters >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    for attempt in 1 2 3 4 5 6; do  # another job may hold the apt lock: wait and retry
        if apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; then
            break
        fi
        [ "$attempt" = 6 ] && { echo "postgres.sh: apt-get install postgresql failed" >&2; exit 1; }
        sleep 20
    done
fi
VERSION="$(ls /usr/lib/postgresql | sort -V | tail -1)"

if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$VERSION $CLUSTER"; then
    pg_createcluster -q "$VERSION" "$CLUSTER" -p "$PORT" -- --auth-local=trust --auth-host=trust >/dev/null
    # loopback only: the tests never reach another address
    echo "listen_addresses = '127.0.0.1'" >> "/etc/postgresql/$VERSION/$CLUSTER/postgresql.conf"
fi
if ! pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $4}' | grep -q online; then
    pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi
PORT="$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $3}')"
for _ in $(seq 1 30); do  # until it accepts connections
    pg_isready -q -h 127.0.0.1 -p "$PORT" && break
    sleep 1
done
export HUIQI_TEST_PG_URL="postgresql://postgres@127.0.0.1:$PORT/postgres"
echo "$HUIQI_TEST_PG_URL"
