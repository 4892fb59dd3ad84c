#!/usr/bin/env bash
# The realtime streams, black-box: the node:test suites in tests/stream/ (server-sent events,
# the Directus WebSocket through @directus/sdk and raw frames, EventSource in headless Chromium,
# the faults: kill -9 of the server, PostgreSQL stopped under open streams, a slow reader,
# --max-streams). Each file starts its own
# servers (server/pg_inbox_server) against one database of the test cluster; the fault suite
# stops PostgreSQL, so the files run one after another. Ends with "N passed, N failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node_suites.bash"
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
: "${PGHOST:=127.0.0.1}" "${PGPORT:?PGPORT (make test sets it)}" "${PGUSER:=postgres}"
: "${PG_INBOX_TEST_CLUSTER:?PG_INBOX_TEST_CLUSTER (make test sets it)}"
export ROOT PGHOST PGPORT PGUSER PG_INBOX_TEST_CLUSTER
cd "$ROOT/tests"
[[ -d node_modules/ws ]] || npm ci --silent >/dev/null 2>&1

db=pg_inbox_stream
export STREAM_DB=$db
export STREAM_DATABASE_URL="postgresql://$PGUSER@$PGHOST:$PGPORT/$db"
fresh_database "$db" || { echo "0 passed, 1 failed"; exit 1; }
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'CREATE EXTENSION pg_inbox' \
  -c "ALTER DATABASE $db SET inbox.feed_summary_threshold = 3" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
prepare_database "$db" || { echo "0 passed, 1 failed"; exit 1; }
trap '"$ROOT/scripts/cluster.sh" start "$PG_INBOX_TEST_CLUSTER" "$PGPORT" >/dev/null 2>&1' EXIT

passed=0
failed=0
run_node_suites stream/*.test.mjs
echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
