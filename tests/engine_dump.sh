#!/usr/bin/env bash
# The engine's configuration survives pg_dump and restore: a keyset cursor handed out before the
# dump still pages the restored database (the restored secret, the older one, signs), and a
# relation defined before the dump still filters. Needs PGHOST, PGPORT, PGUSER (set by
# `make test`). Ends with "N passed, N failed".
set -uo pipefail
src=pg_inbox_engine_dump_src
dst=pg_inbox_engine_dump_dst
passed=0
failed=0

psql_() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
check() { # name expected actual
  if [[ $2 == "$3" ]]; then
    passed=$((passed + 1))
    echo "ok - $1"
  else
    failed=$((failed + 1))
    echo "not ok - $1: expected [$2], got [$3]"
  fi
}
cleanup() {
  psql_ -d postgres -c "DROP DATABASE IF EXISTS $src" -c "DROP DATABASE IF EXISTS $dst" >/dev/null 2>&1
}
cleanup
psql_ -d postgres -c "CREATE DATABASE $src" -c "CREATE DATABASE $dst" >/dev/null

psql_ -d "$src" >/dev/null <<'SQL'
CREATE EXTENSION pg_inbox;
CREATE TABLE people (id text PRIMARY KEY, email text);
INSERT INTO people VALUES ('ann', 'ann@example.com'), ('ben', 'ben@test.org');
INSERT INTO inbox.notifications (user_id, title, actor_id, created_at)
SELECT 'u1', 'n' || i, CASE WHEN i % 2 = 0 THEN 'ann' ELSE 'ben' END,
       '2024-01-01'::timestamptz + i * interval '1 hour'
  FROM generate_series(1, 10) AS i;
SELECT inbox.define_relation('actor', 'actorId', 'people');
SQL
cursor=$(psql_ -d "$src" -c "SELECT inbox.list('u1', '{\"limit\": 3}')->'pageInfo'->>'endCursor'")
page_sql="SELECT string_agg(e->>'title', ',') FROM jsonb_array_elements(inbox.list('u1', jsonb_build_object('limit', 3, 'after', '$cursor'))->'data') AS e"
relation_sql="SELECT string_agg(e->>'title', ',') FROM jsonb_array_elements(inbox.list('u1', '{\"limit\": 3, \"filter\": {\"actor\": {\"email\": {\"endsWith\": \"@example.com\"}}}}')->'data') AS e"
before=$(psql_ -d "$src" -c "$page_sql")
check "the cursor pages the source database" "n7,n6,n5" "$before"

if ! pg_dump -d "$src" | psql_ -d "$dst" >/dev/null 2>/tmp/engine_dump.$$; then
  cat /tmp/engine_dump.$$
  check "restore succeeds" "" "restore failed"
fi
rm -f /tmp/engine_dump.$$

check "the cursor handed out before the dump pages the restored database" "$before" \
  "$(psql_ -d "$dst" -c "$page_sql" 2>&1)"
check "the relation filters the restored database" "n10,n8,n6" "$(psql_ -d "$dst" -c "$relation_sql" 2>&1)"
check "new cursors of the restored database are signed with the restored secret" \
  "$cursor" "$(psql_ -d "$dst" -c "SELECT inbox.list('u1', '{\"limit\": 3}')->'pageInfo'->>'endCursor'" 2>&1)"
check "the restored database keeps the restored secret and the one its CREATE EXTENSION made" \
  "2" "$(psql_ -d "$dst" -c "SELECT count(*) FROM inbox.cursor_secrets" 2>&1)"

cleanup
echo "$passed passed, $failed failed"
((failed == 0))
