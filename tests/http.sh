#!/usr/bin/env bash
# The REST server, black-box: starts the real server/pg_inbox_server against a database of
# the test cluster, runs the node:test suites in tests/http/ one file after another (the
# restart suite stops PostgreSQL, so nothing may run beside it), then checks that SIGTERM lets
# a request in flight finish and exits 0. Ends with "N passed, N failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node_suites.bash"
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
: "${PGHOST:=127.0.0.1}" "${PGPORT:?PGPORT (make test sets it)}" "${PGUSER:=postgres}"
: "${PG_INBOX_TEST_CLUSTER:?PG_INBOX_TEST_CLUSTER (make test sets it)}"
export ROOT PGHOST PGPORT PGUSER PG_INBOX_TEST_CLUSTER
cd "$ROOT/tests"
[[ -d node_modules/@seriousme ]] || npm ci --silent >/dev/null 2>&1

db=pg_inbox_http
export HTTP_DATABASE_URL="postgresql://$PGUSER@$PGHOST:$PGPORT/$db"
fresh_database "$db" || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'CREATE EXTENSION pg_inbox' >/dev/null || exit 1
prepare_database "$db" || exit 1

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
# A long idle timeout, as tests/social.sh and tests/directus.sh have: the helpers' synchronous
# psql calls block node's event loop, and when they outlast the idle timeout (5 s by default,
# on a loaded machine or on Citus) undici sends the next request on the keep-alive connection
# the server closed meanwhile ("fetch failed", UND_ERR_SOCKET "other side closed").
start_server() { # [extra options]
  "$ROOT/server/pg_inbox_server" --database-url "$(server_url "$HTTP_DATABASE_URL")" --port "$port" \
    --pool-size 8 --idle-timeout-ms 60000 "$@" >>"$log" 2>&1 &
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
run_node_suites http/*.test.mjs

check() { # ok? description
  if [[ $1 == 0 ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "not ok - $2"
  fi
}
q() { psql -X -qtA -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
# The sessions of the database; on a Citus cluster a request waits on a worker, which
# citus_stat_activity shows (tests/citus.sh sets it).
activity=${PG_INBOX_TEST_ACTIVITY:-pg_stat_activity}
poll() { # SQL that must come to return 1 or more
  for _ in $(seq 300); do
    [[ $(q "$1") -ge 1 ]] && return 0
    sleep 0.1
  done
  return 1
}
# Holds the rows of a user locked in another session, so that a request on them waits inside
# PostgreSQL for as long as the test wants: no timing involved.
lock_rows() { # user
  rm -f "$work/locker"
  mkfifo "$work/locker"
  psql -X -q -d "$db" <"$work/locker" >/dev/null 2>&1 &
  locker_pid=$!
  exec 7>"$work/locker"
  echo "BEGIN; SELECT 1 FROM inbox.notifications WHERE user_id = '$1' FOR UPDATE;" >&7
  poll "SELECT count(*) FROM $activity WHERE datname = '$db' AND state = 'idle in transaction'"
}
unlock_rows() {
  echo "COMMIT;" >&7
  exec 7>&-
  wait "$locker_pid"
}
request_waits() { poll "SELECT count(*) FROM $activity WHERE datname = '$db' AND wait_event_type = 'Lock'"; }
stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid"
  server_pid=
}

user="locked-$$"
tok=$(q "SELECT inbox.create_token('$user', ARRAY['notifications:read', 'notifications:write'])")
id=$(q "SELECT inbox.create('$user', '{\"title\": \"in flight\"}')->>'id'")
mark_read() { # runs PUT .../read in the background; its status goes to $work/$1.status
  curl -s -o "$work/$1.json" -w '%{http_code}' -X PUT "$BASE_URL/api/notifications/$id/read" \
    -H "Authorization: Bearer $tok" >"$work/$1.status" &
  curl_pid=$!
}

# The pool's bound: with its one connection busy, a request answers 503 pool_exhausted once
# --pool-wait-ms has passed.
stop_server
start_server --pool-size 1 --pool-wait-ms 200 || exit 1
lock_rows "$user"
mark_read busy
request_waits
check $? "a request waits on the row lock, holding the pool's only connection"
body=$(curl -s -H "Authorization: Bearer $tok" "$BASE_URL/api/notifications/unread-count" -w ' %{http_code}')
[[ $body == *'"pool_exhausted"'*' 503' ]]
check $? "with every connection busy: 503 pool_exhausted ($body)"
unlock_rows
wait "$curl_pid"
[[ $(cat "$work/busy.status") == 200 ]]
check $? "the request that held the connection completed"

# statement_timeout: a statement that waits too long is cancelled by PostgreSQL: 503 timeout.
stop_server
start_server --statement-timeout-ms 300 || exit 1
lock_rows "$user"
body=$(curl -s -X PUT -H "Authorization: Bearer $tok" "$BASE_URL/api/notifications/$id/unread" -w ' %{http_code}')
[[ $body == *'"timeout"'*' 503' ]]
check $? "a statement over --statement-timeout-ms: 503 timeout ($body)"
unlock_rows
body=$(curl -s -X PUT -H "Authorization: Bearer $tok" "$BASE_URL/api/notifications/$id/unread" -w ' %{http_code}')
[[ $body == *' 200' ]]
check $? "the connection is usable after the timeout ($body)"

# SIGTERM while a request is in flight: the request finishes, the process exits 0.
stop_server
start_server || exit 1
lock_rows "$user"
mark_read inflight
request_waits
check $? "the request waits on the row lock"
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
unlock_rows
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
