#!/usr/bin/env bash
# The Directus-compatible API, black-box: the real server/pg_inbox_server against a fresh
# database of the test cluster, seeded like the Directus 11.3.5 recordings in
# /work/shared/reference (an admin f3506e6d-..., 30 "Seed notification #i" rows, every 5th
# archived, a directus_users table registered as the recipient relation), then the node:test
# suites in tests/directus/ one after another: the official @directus/sdk, raw HTTP for every
# route and error code, every example request of the two Directus seeds, and the recordings.
# Ends with "N passed, N failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node_suites.bash"
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
: "${PGHOST:=127.0.0.1}" "${PGPORT:?PGPORT (make test sets it)}" "${PGUSER:=postgres}"
export ROOT PGHOST PGPORT PGUSER
cd "$ROOT/tests"
[[ -d node_modules/@directus/sdk ]] || npm ci --silent >/dev/null 2>&1

db=pg_inbox_directus
export DIRECTUS_DATABASE_URL="postgresql://$PGUSER@$PGHOST:$PGPORT/$db"
fresh_database "$db" || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL' || { echo "0 passed, 1 failed"; exit 1; }
CREATE EXTENSION pg_inbox;
-- The application's users, as Directus keeps them, registered as the recipient (and sender).
CREATE TABLE public.directus_users (id uuid PRIMARY KEY, email text NOT NULL, first_name text);
INSERT INTO public.directus_users VALUES
    ('f3506e6d-ac09-44d9-a8d2-fcac84551465', 'admin@example.com', 'Admin'),
    ('410b5772-e63f-4ae6-9ea2-39c3a31bd6ca', 'user@example.com', 'User');
SELECT inbox.define_relation('recipient', 'userId', 'public.directus_users', 'id', ARRAY['id', 'email']::name[]);
SELECT inbox.define_relation('sender', 'actorId', 'public.directus_users', 'id', ARRAY['id', 'email']::name[]);
-- The recordings' data set, in part: ids 1..30 and those the recordings name (777, 5000,
-- 7770..7773, 9005, 9010), all the admin's, "Seed notification #i", every 5th archived.
INSERT INTO inbox.notifications (user_id, id, actor_id, title, body, collection, item, archived_at)
OVERRIDING SYSTEM VALUE
SELECT 'f3506e6d-ac09-44d9-a8d2-fcac84551465', i, 'f3506e6d-ac09-44d9-a8d2-fcac84551465',
       'Seed notification #' || i,
       'Hello **admin**, this is seeded notification number ' || i || E'.\n\nSee item ' || (i - 1) % 100 || ' in *articles*.',
       'articles', ((i - 1) % 100)::text, CASE WHEN i % 5 = 0 THEN pg_catalog.now() END
  FROM pg_catalog.unnest(ARRAY(SELECT pg_catalog.generate_series(1, 30)) || ARRAY[777, 5000, 7770, 7771, 7772, 7773, 9005, 9010]) AS i;
-- The seeds' examples name notifications 34, 42, 64, 251 and 810 (and the admin's 15).
INSERT INTO inbox.notifications (user_id, id, title, body) OVERRIDING SYSTEM VALUE
SELECT '410b5772-e63f-4ae6-9ea2-39c3a31bd6ca', i, 'Seed example ' || i, 'For the documentation examples'
  FROM pg_catalog.unnest(ARRAY[34, 42, 64, 251, 810]) AS i;
-- New notifications get ids past all of these.
SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence('inbox.notifications', 'id'), 10000);
SQL
prepare_database "$db" || { echo "0 passed, 1 failed"; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
export DIRECTUS_URL="http://127.0.0.1:$port"
# tests/http/helpers.mjs (sql, tokens, fetch and raw-socket clients) reads these names.
export BASE_URL=$DIRECTUS_URL HTTP_DATABASE_URL=$DIRECTUS_DATABASE_URL
# PG_INBOX_SERVER runs another build of the server (one that accepts SEARCH, say).
# A long idle timeout, as tests/social.sh has: the helpers' synchronous psql calls block node's
# event loop, and when they outlast the idle timeout (5 s by default: a dozen psql calls on a
# loaded machine, sooner on Citus, where each is a new session that the coordinator delegates),
# undici sends the next request on the keep-alive connection the server closed meanwhile
# ("fetch failed", UND_ERR_SOCKET "other side closed"), which the helpers retry only for a GET.
"${PG_INBOX_SERVER:-$ROOT/server/pg_inbox_server}" --database-url "$(server_url "$DIRECTUS_DATABASE_URL")" --port "$port" \
  --pool-size 4 --idle-timeout-ms 60000 >"$work/server.log" 2>&1 &
server_pid=$!
ready=
for _ in $(seq 100); do
  curl -fs "$DIRECTUS_URL/readyz" >/dev/null 2>&1 && ready=1 && break
  sleep 0.1
done
if [[ -z $ready ]]; then
  echo "the server did not become ready:"
  tail -20 "$work/server.log"
  echo "0 passed, 1 failed"
  exit 1
fi

passed=0
failed=0
run_node_suites directus/*.test.mjs

echo "$passed passed, $failed failed"
((failed == 0))
