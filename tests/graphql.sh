#!/usr/bin/env bash
# GraphQL (inbox.graphql, Directus's /graphql/system) checked with graphql-js: introspection
# builds a client schema, graphql-js and pg_inbox agree on which documents are valid, every
# seed example runs, responses have the shape their selection asks for. Each tests/graphql/
# *.test.mjs file works in its own database of the test cluster; the HTTP client suite uses
# the real server when it serves POST /graphql/system. Ends with "N passed, N failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node_suites.bash"
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
: "${PGHOST:=127.0.0.1}" "${PGPORT:?PGPORT (make test sets it)}" "${PGUSER:=postgres}"
export ROOT PGHOST PGPORT PGUSER
cd "$ROOT/tests"
[[ -d node_modules/graphql-request ]] || npm ci --silent >/dev/null 2>&1

work=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

# The real server, for the client suite, when it is built.
if [[ -x $ROOT/server/pg_inbox_server ]]; then
  db=pg_inbox_graphql_http
  PGOPTIONS=--client-min-messages=warning psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
    -c "CREATE DATABASE $db" >/dev/null &&
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'CREATE EXTENSION pg_inbox' >/dev/null
  port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  "$ROOT/server/pg_inbox_server" --database-url "postgresql://$PGUSER@$PGHOST:$PGPORT/$db" \
    --port "$port" >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
      export GRAPHQL_BASE_URL="http://127.0.0.1:$port" GRAPHQL_HTTP_DATABASE=$db
      break
    fi
    sleep 0.1
  done
fi

passed=0
failed=0
run_node_suites graphql/*.test.mjs
echo "$passed passed, $failed failed"
((failed == 0))
