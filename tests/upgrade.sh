#!/usr/bin/env bash
# Upgrades from 0.1.0 (issue 12): installs 0.1.0 exactly as it was released (the frozen script
# extension/released/pg_inbox--0.1.0.sql), writes data through its SQL API (tests/upgrade/
# before.sql: every state, tokens, cursors, relations, types, groups, aggregated actors,
# idempotency keys), runs ALTER EXTENSION pg_inbox UPDATE, and checks that
#   (a) the catalog is the one a fresh install of the default version makes: pg_dump
#       --schema-only of both, normalised by tests/upgrade/normalise_dump.py (which says what it
#       normalises and why) and compared, the difference shown when there is one;
#   (b) the data is untouched, the counters equal the counts of the rows and stay exact, tokens
#       authenticate as before, cursors handed out before the update page as before, and a
#       create retried with its Idempotency-Key gets the first response without a duplicate.
# Also: every C symbol the 0.1.0 script declares is still exported by the library the server
# loads, since an updated database calls them until an upgrade script replaces the declaration.
# Needs PGHOST, PGPORT, PGUSER (set by `make test`). Ends with "N passed, N failed".
set -uo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
here=$ROOT/tests/upgrade
released=$ROOT/extension/released/pg_inbox--0.1.0.sql
# 0.1.0 is commit 2e61ae9 of main; its install script is the concatenation of extension/sql/*.sql
# there, in name order (the Makefile's rule), and this is that file's SHA-256.
release_commit=2e61ae9
release_sha256=a9fd9f68402faab139ae5cf650eef606c993459eb6bb9428aa3681d63a25dba4
old=pg_inbox_upgrade_from_0_1_0
fresh=pg_inbox_upgrade_fresh
work=
passed=0
failed=0

psql_() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
q() { psql_ -d "$old" -c "$1" 2>&1; }
check() { # name expected actual
  if [[ $2 == "$3" ]]; then
    passed=$((passed + 1))
    echo "ok - $1"
  else
    failed=$((failed + 1))
    echo "not ok - $1: expected [$2], got [$3]"
  fi
}
check_files() { # name expected-file actual-file: equal, or the diff is shown
  if diff -u --label before --label after "$2" "$3" >"$work/diff"; then
    passed=$((passed + 1))
    echo "ok - $1"
  else
    failed=$((failed + 1))
    echo "not ok - $1:"
    head -60 "$work/diff" | sed 's/^/    /'
  fi
}
cleanup() {
  psql_ -d postgres -c "DROP DATABASE IF EXISTS $old WITH (FORCE)" \
    -c "DROP DATABASE IF EXISTS $fresh WITH (FORCE)" >/dev/null 2>&1
  [[ -z $work ]] || rm -rf "$work"
}
trap cleanup EXIT
cleanup
work=$(mktemp -d)
psql_ -d postgres -c "CREATE DATABASE $old" -c "CREATE DATABASE $fresh" >/dev/null || exit 1

# --- 0.1.0 as released ----------------------------------------------------------------------
check "the frozen 0.1.0 install script is the released one (SHA-256)" "$release_sha256" \
  "$(sha256sum "$released" | cut -d' ' -f1)"
if git -C "$ROOT" cat-file -e "$release_commit^{commit}" 2>/dev/null; then
  for f in $(git -C "$ROOT" ls-tree --name-only "$release_commit" extension/sql/ | LC_ALL=C sort); do
    git -C "$ROOT" show "$release_commit:$f"
  done >"$work/rebuilt-0.1.0.sql"
  cmp -s "$work/rebuilt-0.1.0.sql" "$released"
  check "the frozen 0.1.0 install script is extension/sql/*.sql at $release_commit, byte for byte" 0 $?
else
  passed=$((passed + 1))
  echo "ok - the frozen 0.1.0 install script is extension/sql/*.sql at $release_commit # skip: no git history here"
fi

default_version=$(psql_ -d "$fresh" -c "SELECT default_version FROM pg_available_extensions WHERE name = 'pg_inbox'")
check "0.1.0 updates to the default version ($default_version) by installed scripts" "t" \
  "$(psql_ -d "$fresh" -c "SELECT path IS NOT NULL FROM pg_extension_update_paths('pg_inbox')
                           WHERE source = '0.1.0' AND target = '$default_version'")"

# Every C function 0.1.0 declares names its symbol; the library must define it, and the
# PG_FUNCTION_INFO_V1 record PostgreSQL looks up beside it.
mapfile -t symbols < <(grep -oP "AS 'MODULE_PATHNAME', '\K[A-Za-z0-9_]+(?=')" "$released")
check "every LANGUAGE C function of 0.1.0 names its symbol (AS 'MODULE_PATHNAME', 'symbol')" \
  "$(grep -c '^LANGUAGE C\b' "$released")" "${#symbols[@]}"
library="$(psql_ -d postgres -c "SELECT setting FROM pg_config() WHERE name = 'PKGLIBDIR'")/pg_inbox.so"
exported=$(nm -D --defined-only "$library" 2>&1 | awk '$2 == "T" { print $3 }')
for s in "${symbols[@]}"; do
  missing=
  grep -qx "$s" <<<"$exported" || missing+=" $s"
  grep -qx "pg_finfo_$s" <<<"$exported" || missing+=" pg_finfo_$s"
  check "pg_inbox.so exports $s (and pg_finfo_$s), declared by 0.1.0" "" "${missing# }"
done

check "CREATE EXTENSION pg_inbox VERSION '0.1.0' installs 0.1.0" "0.1.0" \
  "$(psql_ -d "$old" -c "CREATE EXTENSION pg_inbox VERSION '0.1.0'" \
     -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_inbox'" 2>&1)"
if ! psql_ -d "$old" -f "$here/before.sql" >"$work/before.log" 2>&1; then
  cat "$work/before.log"
  check "the data is written through the 0.1.0 API" "" "failed"
fi

# The rows of every table that holds data, in 0.1.0's columns (an upgrade may add columns; it
# must not change what was there).
declare -A tables=(
  [notifications]="user_id, id, workspace_id, type, title, body, data, actor_id, collection, item, group_key,
                   recent_actor_ids, actor_count, read_at, archived_at, deleted_at, created_at, updated_at"
  [notification_actors]="user_id, notification_id, actor_id, acted_at"
  [notification_types]="name, description, aggregate, builtin, created_at"
  [user_counters]="user_id, active, unread, deleted"
  [workspace_counters]="user_id, workspace_id, active, unread, deleted"
  [notification_groups]="user_id, group_key, notifications_count, unread_count, latest_at, latest_id, type,
                         sample_actor_ids"
  [relations]="name, field, source_column, target_schema, target_table, target_column, columns"
  [tokens]="token_hash, user_id, scopes, workspace_id, expires_at, created_at"
  [idempotency_keys]="user_id, key, request_hash, response, created_at"
  [cursor_secrets]="secret, created_at"
)
snapshot() { # folder
  mkdir -p "$1"
  for t in "${!tables[@]}"; do
    psql_ -d "$old" -c "COPY (SELECT ${tables[$t]} FROM inbox.$t ORDER BY ${tables[$t]}) TO STDOUT" >"$1/$t" 2>&1
  done
}
snapshot "$work/before"
max_id=$(q "SELECT max(id) FROM inbox.notifications")

# Answers of the API on that data, asked before and after the update. Notifications are cut to
# 0.1.0's fields, so that 0.2.0 may add fields to the shape.
declare -A answers=(
  [every notification through inbox.get]="
    SELECT string_agg((SELECT jsonb_object_agg(f.key, f.value) FROM jsonb_each(inbox.get(n.user_id, inbox.public_id(n.id), true)) AS f
                        WHERE f.key IN ('id', 'userId', 'workspaceId', 'type', 'title', 'body', 'data', 'read', 'readAt',
                                        'archived', 'archivedAt', 'deletedAt', 'actorId', 'actors', 'actorCount',
                                        'collection', 'item', 'groupKey', 'createdAt', 'updatedAt'))::text,
                      E'\n' ORDER BY n.id)
      FROM inbox.notifications n"
  [every notification through the Directus API]="
    SELECT inbox.directus_read(value, '{\"limit\": -1, \"sort\": [\"id\"]}') FROM app.given WHERE name = 'token:boss'"
  [the unread counts]="
    SELECT format('ann=%s ann/w1=%s ben=%s cat=%s', inbox.unread_count('ann'), inbox.unread_count('ann', 'w1'),
                  inbox.unread_count('ben'), inbox.unread_count('cat'))"
  [a filter through a relation]="
    SELECT string_agg(e->>'title', ',' ORDER BY o) FROM jsonb_array_elements(inbox.list('ann',
             '{\"limit\": 3, \"filter\": {\"actor\": {\"email\": {\"endsWith\": \"@example.com\"}}}, \"type\": \"info\"}')->'data')
             WITH ORDINALITY AS a(e, o)"
  [the types registry]="
    SELECT string_agg((t->>'name') || ':' || (t->>'aggregate') || ':' || (t->>'builtin'), ' ' ORDER BY t->>'name')
      FROM jsonb_array_elements(inbox.types()) AS t"
  [the groups of a user]="
    SELECT string_agg(concat_ws(':', g->>'groupKey', g->>'notificationsCount', g->>'unreadCount', g->>'sampleActorIds'), ' ' ORDER BY o)
      FROM jsonb_array_elements(inbox.groups('ann', '{\"limit\": 100}')->'data') WITH ORDINALITY AS a(g, o)"
)
mkdir -p "$work/answers.before" "$work/answers.after"
ask() { # folder
  for a in "${!answers[@]}"; do
    q "${answers[$a]}" >"$1/$a"
  done
}
ask "$work/answers.before"

# --- the update -----------------------------------------------------------------------------
check "ALTER EXTENSION pg_inbox UPDATE reaches $default_version" "$default_version" \
  "$(q "ALTER EXTENSION pg_inbox UPDATE; SELECT extversion FROM pg_extension WHERE extname = 'pg_inbox'")"
# Issue 14: the change feed starts with the update, every existing user at event 0.
check "after the update every user's change feed is at event 0, with no event" "0 0 0" \
  "$(q "SELECT concat_ws(' ', (SELECT count(*) FROM inbox.user_counters WHERE last_event_id <> 0),
                             (SELECT count(*) FROM inbox.events), inbox.feed_head('ann'))")"
check "a fresh CREATE EXTENSION pg_inbox installs $default_version" "$default_version" \
  "$(psql_ -d "$fresh" -c "CREATE EXTENSION pg_inbox" \
     -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_inbox'" 2>&1)"

# (a) The catalog. The application's schema (app) is not the extension's and is left out.
catalog() { # database
  pg_dump --schema-only --binary-upgrade --exclude-schema=app -d "$1" 2>&1 | python3 "$here/normalise_dump.py"
  echo
  echo "-- Configuration tables (pg_extension_config_dump), by name, with their conditions:"
  psql_ -d "$1" -c "SELECT format('--   %s %L', c::regclass, w)
                      FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(c, w)
                     WHERE e.extname = 'pg_inbox' ORDER BY 1"
}
catalog "$old" >"$work/catalog.updated.sql"
catalog "$fresh" >"$work/catalog.fresh.sql"
if diff -u --label "0.1.0 + ALTER EXTENSION UPDATE" --label "fresh $default_version" \
  "$work/catalog.updated.sql" "$work/catalog.fresh.sql" >"$work/catalog.diff"; then
  passed=$((passed + 1))
  echo "ok - the updated catalog is the fresh install's ($(grep -c '^-- Name: ' "$work/catalog.fresh.sql") objects in the dump)"
else
  failed=$((failed + 1))
  echo "not ok - the updated catalog differs from a fresh install of $default_version."
  echo "    '-' lines are the database updated from 0.1.0, '+' lines a fresh install. Each object"
  echo "    changed in extension/sql/*.sql needs the same change in extension/pg_inbox--0.1.0--$default_version.sql"
  echo "    (and the reverse); a new column goes last in both. The whole dumps, normalised as"
  echo "    tests/upgrade/normalise_dump.py says, can be made with pg_dump -s --binary-upgrade."
  head -400 "$work/catalog.diff" | sed 's/^/    /'
  (($(wc -l <"$work/catalog.diff") > 400)) && echo "    ... ($(wc -l <"$work/catalog.diff") lines in all)"
fi

# (b) The data, exactly as it was.
snapshot "$work/after"
for t in $(printf '%s\n' "${!tables[@]}" | sort); do
  check_files "inbox.$t is unchanged by the update ($(wc -l <"$work/before/$t") rows)" \
    "$work/before/$t" "$work/after/$t"
done

# Counters: equal to the counts of the rows, and still kept exact by the updated triggers.
counters_match() { # prints how many counter rows differ from the counts of the rows (0)
  # (unseen: issue 19's counter, initialised by the update; a row is unseen unless its user's
  # seen marks cover it.)
  q "WITH seen AS (
          SELECT n.*, inbox._is_unseen(n.deleted_at, n.seen_at, n.created_at, inbox._seen_before(m.seen, n.workspace_id)) AS unseen
            FROM inbox.notifications n
            LEFT JOIN (SELECT k.user_id, jsonb_object_agg(k.workspace_key, k.seen_before) AS seen FROM inbox.marks k
                        WHERE k.seen_before IS NOT NULL GROUP BY k.user_id) m ON m.user_id = n.user_id),
        counted_users AS (
          SELECT user_id, count(*) FILTER (WHERE deleted_at IS NULL) AS active,
                 count(*) FILTER (WHERE deleted_at IS NULL AND read_at IS NULL) AS unread,
                 count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted,
                 count(*) FILTER (WHERE unseen) AS unseen
            FROM seen GROUP BY 1),
        kept_users AS (
          SELECT user_id, active, unread, deleted, unseen FROM inbox.user_counters
           WHERE (active, unread, deleted, unseen) <> (0, 0, 0, 0)),
        counted_workspaces AS (
          SELECT user_id, workspace_id, count(*) FILTER (WHERE deleted_at IS NULL) AS active,
                 count(*) FILTER (WHERE deleted_at IS NULL AND read_at IS NULL) AS unread,
                 count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted,
                 count(*) FILTER (WHERE unseen) AS unseen
            FROM seen WHERE workspace_id IS NOT NULL GROUP BY 1, 2),
        kept_workspaces AS (
          SELECT user_id, workspace_id, active, unread, deleted, unseen FROM inbox.workspace_counters
           WHERE (active, unread, deleted, unseen) <> (0, 0, 0, 0)),
        counted_groups AS (
          SELECT user_id, group_key, count(*) AS notifications, count(*) FILTER (WHERE read_at IS NULL) AS unread
            FROM inbox.notifications WHERE deleted_at IS NULL AND group_key IS NOT NULL GROUP BY 1, 2),
        kept_groups AS (
          SELECT user_id, group_key, notifications_count, unread_count FROM inbox.notification_groups)
     SELECT (SELECT count(*) FROM (TABLE counted_users EXCEPT TABLE kept_users) AS d)
          + (SELECT count(*) FROM (TABLE kept_users EXCEPT TABLE counted_users) AS d)
          + (SELECT count(*) FROM (TABLE counted_workspaces EXCEPT TABLE kept_workspaces) AS d)
          + (SELECT count(*) FROM (TABLE kept_workspaces EXCEPT TABLE counted_workspaces) AS d)
          + (SELECT count(*) FROM (TABLE counted_groups EXCEPT TABLE kept_groups) AS d)
          + (SELECT count(*) FROM (TABLE kept_groups EXCEPT TABLE counted_groups) AS d)"
}
check "after the update every counter equals the count of its rows (users, workspaces, groups)" 0 "$(counters_match)"
ask "$work/answers.after"
mapfile -t asked < <(printf '%s\n' "${!answers[@]}" | sort)
for a in "${asked[@]}"; do
  if grep -q '^ERROR:' "$work/answers.before/$a"; then
    check "$a: answered before the update" "" "$(cat "$work/answers.before/$a")"
  else
    check_files "$a: the same answer after the update ($(wc -c <"$work/answers.before/$a") bytes)" \
      "$work/answers.before/$a" "$work/answers.after/$a"
  fi
done

# Tokens: the same callers; the revoked one stays revoked.
check "every token authenticates as the same caller as before" "5 tokens, differing: none" \
  "$(q "SELECT count(*) || ' tokens, differing: '
               || coalesce(string_agg(g.name, ' ') FILTER (WHERE row(a.*)::text IS DISTINCT FROM c.value), 'none')
          FROM app.given g JOIN app.given c ON c.name = 'caller:' || g.name
               CROSS JOIN LATERAL inbox.authenticate(g.value) AS a")"
check "a token revoked before the update is still refused (28000)" "28000" \
  "$(q "SELECT app.sqlstate(format('SELECT inbox.authenticate(%L)', value)) FROM app.given WHERE name = 'token:revoked'")"
check "a workspace-bound token still sees only its workspace" "1" \
  "$(q "SELECT inbox.rest_unread_count(value, NULL)->>'count' FROM app.given WHERE name = 'token:ann-w1'")"
check "a read-only token still cannot write (42501)" "42501" \
  "$(q "SELECT app.sqlstate(format('SELECT inbox.rest_read_all(%L, NULL)', value)) FROM app.given WHERE name = 'token:ann-w1'")"

# Cursors handed out before the update lead to the same pages.
for c in list filtered deleted groups rest; do
  case $c in
    list) page="app.ids(inbox.list('ann', jsonb_build_object('limit', 3, 'after', c.value)))" ;;
    filtered) page="app.ids(inbox.list('ann', jsonb_build_object('limit', 2, 'after', c.value,
                     'filter', '{\"actor\": {\"email\": {\"endsWith\": \"@example.com\"}}}'::jsonb)))" ;;
    deleted) page="app.ids(inbox.list('ann', jsonb_build_object('limit', 20, 'after', c.value, 'include_deleted', true,
                     'orderBy', '[{\"createdAt\": \"asc\"}]'::jsonb)))" ;;
    groups) page="app.group_keys(inbox.groups('ann', jsonb_build_object('limit', 10, 'after', c.value)))" ;;
    rest) page="app.ids(inbox.rest_list((SELECT value FROM app.given WHERE name = 'token:ann'),
                     jsonb_build_object('limit', '2', 'after', c.value)))" ;;
  esac
  check "a $c cursor handed out before the update gives the same page" \
    "$(q "SELECT value FROM app.given WHERE name = 'page:$c'")" \
    "$(q "SELECT $page FROM app.given c WHERE c.name = 'cursor:$c'")"
done

# Idempotency keys: a retry gets the first response and creates nothing; another body is refused.
before_rows=$(q "SELECT count(*) FROM inbox.notifications")
for k in one fan; do
  case $k in
    one) body='{"userId": "cat", "title": "welcome"}' ;;
    fan) body='{"userIds": ["ann", "dan"], "title": "hello both"}' ;;
  esac
  check "a create retried with Idempotency-Key key-$k after the update gets the first response" \
    "$(q "SELECT value FROM app.given WHERE name = 'idem:$k'")" \
    "$(q "SELECT inbox.rest_create(value, '$body', 'key-$k', NULL) FROM app.given WHERE name = 'token:sender'")"
done
check "the retries created no notification" "$before_rows" "$(q "SELECT count(*) FROM inbox.notifications")"
check "Idempotency-Key key-one with another body is refused (23505)" "23505" \
  "$(q "SELECT app.sqlstate(format('SELECT inbox.rest_create(%L, %L, %L, NULL)', value,
                                   '{\"userId\": \"cat\", \"title\": \"other\"}', 'key-one'))
          FROM app.given WHERE name = 'token:sender'")"

# The rows still work through the API: states, relations, types, aggregation, ids.
check "the purged and the deleted notifications stay gone (P0002)" "P0002 P0002" \
  "$(q "SELECT string_agg(app.sqlstate(format('SELECT inbox.get(%L, %L, true)', 'ann', value)), ' ' ORDER BY name)
          FROM app.given WHERE name IN ('id:7', 'id:9')")"
q "SELECT inbox.create('ann', '{\"type\": \"liked\", \"groupKey\": \"post:1\", \"actorId\": \"cat\"}')" >/dev/null
check "a like after the update aggregates into the notification made before it" "1 4 cat,dan,ben,eve" \
  "$(q "SELECT concat_ws(' ', count(*), max(actor_count), array_to_string(max(recent_actor_ids), ','))
          FROM inbox.notifications WHERE user_id = 'ann' AND group_key = 'post:1'")"
check "restore, read, soft delete and purge act on notifications made before the update" "4" \
  "$(q "SELECT (inbox.restore('ann', (SELECT value FROM app.given WHERE name = 'id:6'))->>'deletedAt' IS NULL)::int
             + (inbox.mark_read('ann', (SELECT value FROM app.given WHERE name = 'id:1'))->>'read')::boolean::int
             + (inbox.soft_delete('ann', (SELECT value FROM app.given WHERE name = 'id:11'))->>'deletedAt' IS NOT NULL)::int
             + (inbox.purge('ann', (SELECT value FROM app.given WHERE name = 'id:8'))->>'id' IS NOT NULL)::int")"
check "an admin token finds a notification made before the update by its id alone" "ann" \
  "$(q "SELECT inbox.rest_get(t.value, n.value, NULL)->>'userId'
          FROM app.given t, app.given n WHERE t.name = 'token:boss' AND n.name = 'id:1'")"
check "a new notification gets an id after every id made before the update" "t" \
  "$(q "SELECT inbox.internal_id(inbox.create('ann', '{\"title\": \"after\"}')->>'id') > $max_id")"
q "SELECT inbox.fan_out_count(ARRAY['ann', 'ben', 'eve'], '{\"title\": \"after the update\"}');
   SELECT inbox.mark_all_read('ben');
   -- (issue 19: a read-all is a read mark; written into the rows, every summary is exact again)
   SELECT inbox.settle_read_marks('ben'); SELECT inbox.settle_read_marks('ben')" >/dev/null
check "after writes through the updated API every counter still equals the count of its rows" 0 "$(counters_match)"
counters="COPY (SELECT 'user', user_id, NULL, active, unread, deleted FROM inbox.user_counters
                  WHERE (active, unread, deleted) <> (0, 0, 0)
               UNION ALL SELECT 'workspace', user_id, workspace_id, active, unread, deleted FROM inbox.workspace_counters
                  WHERE (active, unread, deleted) <> (0, 0, 0)
               UNION ALL SELECT 'group', user_id, group_key, notifications_count, unread_count, NULL FROM inbox.notification_groups
               ORDER BY 1, 2, 3) TO STDOUT"
q "$counters" >"$work/counters.kept"
q "SELECT inbox.rebuild_counters()" >/dev/null
q "$counters" >"$work/counters.rebuilt"
check_files "inbox.rebuild_counters() finds nothing to correct" "$work/counters.kept" "$work/counters.rebuilt"
check "the writes after the update are in the change feed, each user's ids gapless from 1" "t t" \
  "$(q "SELECT concat_ws(' ', bool_and(e.n = c.last_event_id AND e.lo = 1 AND e.hi = c.last_event_id),
                             (SELECT count(*) > 0 FROM inbox.changes('ann', 0)))
          FROM (SELECT user_id, count(*) AS n, min(id) AS lo, max(id) AS hi FROM inbox.events GROUP BY user_id) AS e
          JOIN inbox.user_counters c USING (user_id)")"

echo "$passed passed, $failed failed"
((failed == 0))
