#!/usr/bin/env bash
# The server under attack (issue 13), black-box over raw sockets on the loopback: malformed
# framing and smuggling, slow, idle and oversized clients, too many connections, odd numbers and
# encodings in every dialect, header tricks, idempotency scoping, the log. Each defect the
# hostile run found has a test here. Starts the real server/pg_inbox_server twice: with short
# deadlines (so that the timeouts are tested in seconds) and, for the connection cap, with
# --max-connections 4. Every test is bounded in time and in connections. Ends with
# "N passed, N failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node_suites.bash"
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
: "${PGHOST:=127.0.0.1}" "${PGPORT:?PGPORT (make test sets it)}" "${PGUSER:=postgres}"
export ROOT PGHOST PGPORT PGUSER
cd "$ROOT/tests"
[[ -d node_modules/@seriousme ]] || npm ci --silent >/dev/null 2>&1

db=pg_inbox_hostile
export HTTP_DATABASE_URL="postgresql://$PGUSER@$PGHOST:$PGPORT/$db"
fresh_database "$db" || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'CREATE EXTENSION pg_inbox' >/dev/null || exit 1

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
start_server() { # port log [options]: starts it and waits until it is ready
  local port=$1 log=$2
  shift 2
  "$ROOT/server/pg_inbox_server" --database-url "$HTTP_DATABASE_URL" --port "$port" "$@" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server did not become ready:"
  tail -20 "$log"
  return 1
}

port=$(free_port)
export BASE_URL="http://127.0.0.1:$port" SERVER_LOG=$work/server.log
start_server "$port" "$SERVER_LOG" --pool-size 2 --pool-wait-ms 500 \
  --head-timeout-ms 1000 --body-timeout-ms 1000 --idle-timeout-ms 1500 ||
  { echo "0 passed, 1 failed"; exit 1; }
export SERVER_PID=${pids[0]}
capped=$(free_port)
export CAPPED_URL="http://127.0.0.1:$capped"
start_server "$capped" "$work/capped.log" --max-connections 4 --idle-timeout-ms 5000 ||
  { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
run_node_suites hostile/*.test.mjs

# The servers survived all of it.
for pid in "${pids[@]}"; do
  if kill -0 "$pid" 2>/dev/null; then passed=$((passed + 1)); else
    failed=$((failed + 1))
    echo "not ok - server $pid died"
  fi
done

echo "$passed passed, $failed failed"
((failed == 0))
