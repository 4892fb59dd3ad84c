#!/usr/bin/env bash
# `make bench-peer`: pg_inbox next to Directus, the real thing, on the same notifications in the
# same PostgreSQL cluster, under the same wrk loads, in one run.
#
#   1. installs Directus from the npm registry into bench/peer/ (git-ignored; ~500 MB). 11.3.5 is
#      the last 11.x release whose package accepts Node 20 (later ones require Node >= 22).
#   2. starts the benchmark cluster (bench/run.sh's, not wiped) and loads the data set of
#      `make bench` into a database of its own, then copies the same notifications into
#      Directus's directus_notifications in Directus's own database;
#   3. boots Directus (e-mail through SMTP to a closed local port, and no user has e-mail
#      notifications on, so nothing is ever sent) and pg_inbox's server;
#   4. runs wrk on GET /notifications?limit=20, GET /notifications/:id and POST /notifications
#      against both, at each concurrency, and records both servers' peak RSS;
#   5. writes bench/results/peer.jsonl and peer-meta.json and rewrites the results table.
#
# Settings as in bench/run.sh (BENCH_USERS, BENCH_WRK_T, BENCH_HTTP_CONNS, ...), plus
# BENCH_DIRECTUS_VERSION and BENCH_DIRECTUS_PORT.
source "$(dirname "$0")/lib.sh"

: "${BENCH_USERS:=10000}" "${BENCH_PER_USER:=100}" "${BENCH_HEAVY:=100000}"
: "${BENCH_READALL_ROWS:=10000}" "${BENCH_CHUNK:=100000}" "${BENCH_TOKENS:=1000}"
: "${BENCH_WRK_T:=5}" "${BENCH_HTTP_CONNS:=1 16 64}" "${BENCH_SQL_CLIENTS:=1 8}"
: "${BENCH_CLUSTER:=bench}" "${BENCH_PORT:=55480}" "${BENCH_SERVER_PORT:=18182}"
: "${BENCH_DIRECTUS_VERSION:=11.3.5}" "${BENCH_DIRECTUS_PORT:=18190}"
: "${BENCH_RESULTS:=$BENCH/results}"
BENCH_READALL_USERS=1
export BENCH_USERS BENCH_WRK_T

PEER=$BENCH/peer
WORK=${BENCH_WORK:-$BENCH/data/peer}
RECORDS=$WORK/records.jsonl
rm -rf "$WORK" && mkdir -p "$WORK" "$BENCH_RESULTS"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)

source "$BENCH/steps.sh"
source "$BENCH/http.sh"
DIRECTUS_PID=
cleanup() {
  server_stop
  if [[ -n $DIRECTUS_PID ]]; then
    kill "$DIRECTUS_PID" 2>/dev/null || true
    wait "$DIRECTUS_PID" 2>/dev/null || true
  fi
  "$ROOT/scripts/cluster.sh" stop "$BENCH_CLUSTER"
}
trap cleanup EXIT

# --- 1. Directus from the npm registry -------------------------------------------------------
PG_INBOX_BENCH=1 "$ROOT/scripts/deps.sh"
mkdir -p "$PEER" "$PEER/uploads" "$PEER/extensions"
installed=$(node -e "try { console.log(require('$PEER/node_modules/directus/package.json').version) } catch (e) {}")
if [[ $installed != "$BENCH_DIRECTUS_VERSION" ]]; then
  say "installing directus@$BENCH_DIRECTUS_VERSION from the npm registry into bench/peer (large)"
  printf '{"name": "pg-inbox-bench-peer", "private": true}\n' >"$PEER/package.json"
  (cd "$PEER" && npm install --no-audit --no-fund --loglevel=error --save-exact "directus@$BENCH_DIRECTUS_VERSION")
fi
build_and_install

# --- 2. the data set, twice ------------------------------------------------------------------
"$ROOT/scripts/cluster.sh" start "$BENCH_CLUSTER" "$BENCH_PORT"
export PGHOST=127.0.0.1 PGPORT=$BENCH_PORT PGUSER=postgres BENCH_DB=pg_inbox_peer
DIRECTUS_DB=directus_peer
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $BENCH_DB" -c "CREATE DATABASE $BENCH_DB" \
  -c "DROP DATABASE IF EXISTS $DIRECTUS_DB" -c "CREATE DATABASE $DIRECTUS_DB" >/dev/null
bsql -c "CREATE EXTENSION pg_inbox"
bsql -f "$BENCH/sql/setup.sql" >/dev/null
step_load

DIRECTUS_ENV=(DB_CLIENT=pg DB_HOST="$PGHOST" DB_PORT="$PGPORT" DB_DATABASE="$DIRECTUS_DB" DB_USER="$PGUSER"
  SECRET=pg-inbox-bench-secret-0123456789abcdef ADMIN_EMAIL=admin@example.com
  ADMIN_PASSWORD=bench-admin-password HOST=127.0.0.1 PORT="$BENCH_DIRECTUS_PORT"
  PUBLIC_URL="http://127.0.0.1:$BENCH_DIRECTUS_PORT"
  EMAIL_TRANSPORT=smtp EMAIL_SMTP_HOST=127.0.0.1 EMAIL_SMTP_PORT=9 EMAIL_FROM=bench@example.com
  STORAGE_LOCAL_ROOT="$PEER/uploads" EXTENSIONS_PATH="$PEER/extensions"
  TELEMETRY=false LOG_LEVEL=warn NODE_ENV=production)
ADMIN_TOKEN=bench-admin-token
say "bootstrapping Directus $BENCH_DIRECTUS_VERSION in database $DIRECTUS_DB"
(cd "$PEER" && env "${DIRECTUS_ENV[@]}" node node_modules/directus/cli.js bootstrap) >"$WORK/directus-bootstrap.log" 2>&1
dsql() { psql -X -q -v ON_ERROR_STOP=1 -d "$DIRECTUS_DB" "$@"; }
dsql -v users="$BENCH_USERS" -v tokens="$BENCH_TOKENS" -v admin_email=admin@example.com \
  -v admin_token="$ADMIN_TOKEN" -f "$BENCH/sql/directus.sql"
say "copying the notifications into directus_notifications"
t0=$(ns_now)
bsql -c "\\copy (SELECT n.id, n.created_at, CASE WHEN n.archived_at IS NULL THEN 'inbox' ELSE 'archived' END,
                        pg_catalog.md5(n.user_id)::uuid, pg_catalog.md5(n.actor_id)::uuid, n.title, n.body,
                        n.collection, n.item
                   FROM inbox.notifications n
                  WHERE n.deleted_at IS NULL AND (n.user_id LIKE 'user%' OR n.user_id = 'heavy')
                  ORDER BY n.id) TO STDOUT" |
  dsql -c "\\copy directus_notifications (id, timestamp, status, recipient, sender, subject, message, collection, item) FROM STDIN"
# Directus ships no index on recipient: without one every user's list scans the table, and the
# comparison would measure a missing index instead of the server. Give it the index it needs.
dsql -c "SELECT pg_catalog.setval('directus_notifications_id_seq', (SELECT max(id) FROM directus_notifications))" \
  -c "CREATE INDEX directus_notifications_recipient_id ON directus_notifications (recipient, id)" \
  -c "VACUUM (ANALYZE)" >/dev/null
record kind=copy step=directus_copy rows="$(dsql -At -c 'SELECT count(*) FROM directus_notifications')" \
  seconds="$(secs_since "$t0")"

# --- 3. the two servers ----------------------------------------------------------------------
say "starting Directus on port $BENCH_DIRECTUS_PORT"
(cd "$PEER" && exec env "${DIRECTUS_ENV[@]}" node node_modules/directus/cli.js start) >"$WORK/directus.log" 2>&1 &
DIRECTUS_PID=$!
for ((i = 0; i < 300; i++)); do
  curl -fs "http://127.0.0.1:$BENCH_DIRECTUS_PORT/server/ping" >/dev/null 2>&1 && break
  kill -0 "$DIRECTUS_PID" 2>/dev/null || break
  sleep 0.2
done
directus_up=no
curl -fs "http://127.0.0.1:$BENCH_DIRECTUS_PORT/server/ping" >/dev/null 2>&1 && directus_up=yes

http_ready && http_fixtures || true
server_up=no
if [[ -x $SERVER_BIN ]] && server_start; then server_up=yes; fi

# The peer's fixtures: the same token users, their notification ids, Directus uuids.
export BENCH_WRK_DIR=$BENCH/wrk BENCH_WRK_DATA=$WORK/peer-data.lua
bval "SELECT 'return {' || pg_catalog.chr(10)
       || 'users = {' || pg_catalog.string_agg(pg_catalog.format('{%s, %s, %s, %s}',
              pg_catalog.to_json('dtok_' || t.user_id), pg_catalog.to_json(pg_catalog.md5(t.user_id)::uuid),
              pg_catalog.to_json(t.token), pg_catalog.to_json(t.user_id)), ', ' ORDER BY t.n) || '},' || pg_catalog.chr(10)
       || 'items = {' || (SELECT pg_catalog.string_agg(pg_catalog.format('{%s, %s, %s, %s}',
              pg_catalog.to_json('dtok_' || n.user_id), n.id, pg_catalog.to_json(t2.token), pg_catalog.to_json(inbox.public_id(n.id))), ', ')
            FROM (SELECT DISTINCT ON (x.user_id) x.user_id, x.id FROM inbox.notifications x JOIN bench.tokens y USING (user_id)
                   WHERE x.deleted_at IS NULL ORDER BY x.user_id, x.id DESC) n
            JOIN bench.tokens t2 USING (user_id)) || '},' || pg_catalog.chr(10)
       || 'admin_token = ' || pg_catalog.to_json('$ADMIN_TOKEN'::text) || pg_catalog.chr(10) || '}'
     FROM bench.tokens t" >"$BENCH_WRK_DATA" 2>/dev/null || : >"$BENCH_WRK_DATA"

# pg_inbox's Directus-compatible routes are there when an authenticated GET /notifications is
# routed (anything but 404).
ours_routes=no
if [[ $server_up == yes ]]; then
  token=$(bval "SELECT token FROM bench.tokens WHERE n = 1" 2>/dev/null || true)
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$BENCH_SERVER_PORT/notifications?limit=20")
  [[ $code == 200 ]] && ours_routes=yes
fi

# --- 4. the same wrk loads on both -----------------------------------------------------------
directus="http://127.0.0.1:$BENCH_DIRECTUS_PORT"
ours="http://127.0.0.1:$BENCH_SERVER_PORT"
for spec in "peer_list list" "peer_get get" "peer_create create"; do
  read -r step what <<<"$spec"
  [[ $ours_routes == yes ]] && warm_up "peer_$what.lua" "$ours/notifications" ours
  [[ $directus_up == yes ]] && warm_up "peer_$what.lua" "$directus/notifications" directus
  for c in $BENCH_HTTP_CONNS; do
    if [[ $ours_routes == yes ]]; then
      BENCH_PEER_SIDE=ours wrkrun "$step" ours "$c" "peer_$what.lua" "$ours/notifications"
    elif [[ $c == "${BENCH_HTTP_CONNS%% *}" ]]; then
      skip "$step" "pg_inbox's Directus-compatible routes are not served yet (GET /notifications answered ${code:-no server})"
    fi
    if [[ $directus_up == yes ]]; then
      BENCH_PEER_SIDE=directus wrkrun "$step" baseline "$c" "peer_$what.lua" "$directus/notifications"
    elif [[ $c == "${BENCH_HTTP_CONNS%% *}" ]]; then
      skip "$step" "Directus did not start: $(tail -1 "$WORK/directus.log")"
    fi
  done
done
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
[[ $directus_up == yes ]] && record kind=rss step=directus_rss side=baseline vmhwm_kib="$(hwm "$DIRECTUS_PID")"
[[ $server_up == yes ]] && record kind=rss step=server_rss side=ours vmhwm_kib="$(hwm "$SERVER_PID")"

# --- 5. results --------------------------------------------------------------------------------
cp "$RECORDS" "$BENCH_RESULTS/peer.jsonl"
cat >"$BENCH_RESULTS/peer-meta.json" <<JSON
{"started": "$started", "finished": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
 "commit": "$(git -C "$ROOT" rev-parse --short HEAD)", "directus": "$BENCH_DIRECTUS_VERSION",
 "node": "$(node -v)", "users": $BENCH_USERS, "tokens": $BENCH_TOKENS,
 "wrk_seconds": $BENCH_WRK_T, "http_connections": "$BENCH_HTTP_CONNS",
 "directus_index": "directus_notifications (recipient, id), added by the benchmark"}
JSON
python3 "$BENCH/report.py" --work "$BENCH/data/full" --out "$BENCH_RESULTS"
