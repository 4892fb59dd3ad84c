#!/usr/bin/env bash
# The browser UI in a real browser: headless Chromium (Debian's chromium, scripts/deps.sh) driven
# by puppeteer-core (tests/package.json) runs the node:test files in tests/ui/ against the real
# server and the demo page it serves: the static files, the JavaScript client, <pg-inbox> (badge,
# panel, reading, undo, scrolling, errors, keyboard, axe-core) and its live updates over the
# stream. Each file starts (and restarts) the server itself on one port. Screenshots and axe's
# report are kept in tests/ui/artifacts/ (git-ignored). Ends with "N passed, N failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node_suites.bash"
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
: "${PGHOST:=127.0.0.1}" "${PGPORT:?PGPORT (make test sets it)}" "${PGUSER:=postgres}"
export ROOT PGHOST PGPORT PGUSER
cd "$ROOT/tests"

export CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
if [[ -z $CHROMIUM ]]; then
  echo "not ok - chromium is not installed (scripts/deps.sh installs it)"
  echo "0 passed, 1 failed"
  exit 1
fi
[[ -d node_modules/puppeteer-core && -d node_modules/axe-core ]] || npm ci --silent >/dev/null 2>&1

db=pg_inbox_ui
fresh_database "$db" || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'CREATE EXTENSION pg_inbox' >/dev/null || exit 1
prepare_database "$db" || exit 1

export UI_ARTIFACTS=$ROOT/tests/ui/artifacts
rm -rf "$UI_ARTIFACTS"
mkdir -p "$UI_ARTIFACTS"
export UI_DATABASE_URL=$(server_url "postgresql://$PGUSER@$PGHOST:$PGPORT/$db")
export SERVER_BIN=$ROOT/server/pg_inbox_server SERVER_LOG=$UI_ARTIFACTS/server.log
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
export BASE_URL="http://127.0.0.1:$port"

passed=0
failed=0
run_node_suites ui/static.test.mjs ui/client.test.mjs ui/stream_client.test.mjs ui/inbox.test.mjs ui/live.test.mjs
echo "screenshots: $UI_ARTIFACTS"
echo "$passed passed, $failed failed"
((failed == 0))
