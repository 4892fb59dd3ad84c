#!/usr/bin/env bash
# The REST server, black-box: starts the real server/pg_inbox_server against a database of
# the test cluster, runs the node:test suites in tests/http/ one file after another (the
# restart suite stops PostgreSQL, so nothing may run beside it), then checks that SIGTERM lets
# a request in flight finish and exits 0. Ends with "N passed, N failed".
set -uo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
: "${PGHOST:=127.0.0.1}" "${PGPORT:?PGPORT (make test sets it)}" "${PGUSER:=postgres}"
: "${PG_INBOX_TEST_CLUSTER:?PG_INBOX_TEST_CLUSTER (make test sets it)}"
export ROOT PGHOST PGPORT PGUSER PG_INBOX_TEST_CLUSTER
cd "$ROOT/tests"
[[ -d node_modules/@seriousme ]] || npm ci --silent >/dev/null 2>&1

db=pg_inbox_http
export HTTP_DATABASE_URL="postgresql://$PGUSER@$PGHOST:$PGPORT/$db"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
  -c "CREATE DATABASE $db" >/dev/null || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'CREATE EXTENSION pg_inbox' >/dev/null || exit 1

work=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null
  "$ROOT/scripts/cluster.sh" start "$PG_INBOX_TEST_CLUSTER" "$PGPORT" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
export BASE_URL="http://127.0.0.1:$port"
log=$work/server.log
start_server() {
  "$ROOT/server/pg_inbox_server" --database-url "$HTTP_DATABASE_URL" --port "$port" \
    --threads 32 --pool-size 8 >>"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    curl -fs "$BASE_URL/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server did not become ready:"
  tail -20 "$log"
  return 1
}
start_server || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
for suite in http/*.test.mjs; do
  out=$(node --test --test-reporter=tap "$suite" 2>&1)
  p=$(grep -oP '^# pass \K[0-9]+' <<<"$out" | tail -1)
  f=$(grep -oP '^# fail \K[0-9]+' <<<"$out" | tail -1)
  if [[ -z $p || -z $f ]]; then
    echo "$out"
    echo "$suite: no test summary"
    failed=$((failed + 1))
    continue
  fi
  ((f > 0)) && echo "$out" | grep -vE '^\s*(# Subtest|ok )' | head -150
  echo "$suite: $p passed, $f failed"
  passed=$((passed + p))
  failed=$((failed + f))
done

# SIGTERM while a request is in flight: the request finishes, the process exits 0.
check() { # ok? description
  if [[ $1 == 0 ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "not ok - $2"
  fi
}
q() { psql -X -qtA -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
user="sigterm-$$"
tok=$(q "SELECT inbox.create_token('$user', ARRAY['notifications:read', 'notifications:write'])")
id=$(q "SELECT inbox.create('$user', '{\"title\": \"in flight\"}')->>'id'")
# Hold the row's lock in another session so that the request waits inside PostgreSQL.
mkfifo "$work/locker"
psql -X -q -d "$db" <"$work/locker" >/dev/null 2>&1 &
locker_pid=$!
exec 7>"$work/locker"
echo "BEGIN; SELECT 1 FROM inbox.notifications WHERE user_id = '$user' FOR UPDATE;" >&7
for _ in $(seq 300); do
  [[ $(q "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND state = 'idle in transaction'") -ge 1 ]] && break
  sleep 0.1
done
curl -s -o "$work/inflight.json" -w '%{http_code}' -X PUT "$BASE_URL/api/notifications/$id/read" \
  -H "Authorization: Bearer $tok" >"$work/inflight.status" &
curl_pid=$!
waiting=1
for _ in $(seq 300); do
  [[ $(q "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND wait_event_type = 'Lock'") -ge 1 ]] && {
    waiting=0
    break
  }
  sleep 0.1
done
check $waiting "the request waits on the row lock"
kill -TERM "$server_pid"
# The listening socket closes at once; the request in flight is still waiting.
refused=1
for _ in $(seq 100); do
  curl -s -o /dev/null "$BASE_URL/healthz" || {
    refused=0
    break
  }
  sleep 0.1
done
check $refused "after SIGTERM new connections are refused"
kill -0 "$curl_pid" 2>/dev/null
check $? "the request in flight is still running after SIGTERM"
echo "COMMIT;" >&7
exec 7>&-
wait "$locker_pid"
wait "$curl_pid"
[[ $(cat "$work/inflight.status") == 200 ]] && grep -q '"read": true' "$work/inflight.json"
check $? "the request in flight completed with 200 after SIGTERM ($(cat "$work/inflight.status"))"
wait "$server_pid"
status=$?
server_pid=
check $status "the server exited 0 after SIGTERM (exit $status)"
grep -q 'received SIGTERM' "$log" && grep -q 'stopped' "$log"
check $? "the server logged the shutdown"
# One log line per request: method, path, status, duration.
grep -qE 'PUT /api/notifications/ntf_[0-9a-z]{13}/read 200 [0-9.]+ms' "$log"
check $? "requests are logged as 'METHOD path status duration'"

echo "$passed passed, $failed failed"
((failed == 0))
