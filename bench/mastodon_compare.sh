#!/usr/bin/env bash
# Compares the Mastodon v1 and v2 answers of the installed extension with those of an earlier
# commit's functions, on many pages: the functions this branch changed are loaded from
# `git show BASE:extension/sql/65_mastodon.sql` into a schema of their own (mv2_old, calling
# each other there and everything else in inbox), then both answer the same requests.
#
#   bench/mastodon_compare.sh DATABASE-URL [BASE]     (BASE defaults to ab45127, main before h-v2c)
#
# The database needs pg_inbox with data; the script adds its own fixture users (mv2_cmp_*: one
# with a group of 500 rows spanning many seeks among ungrouped rows, one with two groups and
# aggregated actors, one with nothing) and drops them and mv2_old at the end. The heavy user of
# `make bench`'s data set is compared too when it is there. Prints "ok - ..." / "not ok - ..."
# per request and "N passed, N failed".
set -uo pipefail
url=${1:?database url}
base=${2:-ab45127}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
sql() { psql -X -qtA -v ON_ERROR_STOP=1 -d "$url" "$@"; }

source "$ROOT/bench/mastodon_old.sh"
load_old_mastodon "$url" "$base" mv2_old || exit 1
# One answer as text, an error as its SQLSTATE and message (both sides must fail alike).
sql >/dev/null <<'SQL'
CREATE FUNCTION mv2_old.answer(schema text, f text, token text, params jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    out text;
BEGIN
    IF f = 'mastodon_group' THEN  -- GET /api/v2/notifications/:group_key (params: the key)
        EXECUTE format('SELECT %I.%I($1, $2)::text', schema, f) INTO out USING token, params->>0;
    ELSE
        EXECUTE format('SELECT row(a.body, a.link)::text FROM %I.%I($1, $2, ''https://x'') a', schema, f)
           INTO out USING token, params;
    END IF;
    RETURN out;
EXCEPTION WHEN OTHERS THEN
    RETURN 'ERROR ' || SQLSTATE || ' ' || SQLERRM;
END
$$;
SQL

# Fixture users.
sql >/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT inbox.register_types('mastodon');
DELETE FROM inbox.notifications WHERE user_id LIKE 'mv2_cmp_%';
-- A group of 500 favourites interleaved with 300 ungrouped mentions and 40 small groups.
INSERT INTO inbox.notifications (user_id, type, title, actor_id, item, group_key, created_at)
SELECT 'mv2_cmp_big',
       CASE WHEN i % 8 < 5 THEN 'favourite' WHEN i % 8 < 7 THEN 'mention' ELSE 'reblog' END, 't' || i,
       'acct' || (i % 13),
       CASE WHEN i % 8 < 5 THEN 'status1' ELSE 'status' || i END,
       CASE WHEN i % 8 < 5 THEN 'fav:status1' WHEN i % 8 = 7 THEN 'reblog:' || (i % 40) END,
       '2025-01-01'::timestamptz + i * interval '1 minute'
  FROM generate_series(1, 1000) AS i;
-- Two groups with aggregated actors (recent_actor_ids), a deleted row and an expired one.
INSERT INTO inbox.notifications (user_id, type, title, actor_id, item, group_key, recent_actor_ids, actor_count,
                                 created_at, deleted_at, expires_at)
SELECT 'mv2_cmp_two', CASE WHEN i % 2 = 0 THEN 'favourite' ELSE 'follow' END, 't' || i, 'acct' || (i % 5),
       'status' || (i % 2), CASE WHEN i % 2 = 0 THEN 'fav:s0' ELSE 'follow:me' END,
       ARRAY['acct' || (i % 5), 'acct' || ((i + 1) % 5), 'acct' || ((i + 3) % 7)], CASE WHEN i % 3 = 0 THEN 3 ELSE 0 END,
       '2025-02-01'::timestamptz + i * interval '1 minute',
       CASE WHEN i = 17 THEN now() END, CASE WHEN i = 23 THEN now() - interval '1 day' END
  FROM generate_series(1, 60) AS i;
-- Statuses and reports for some items (when the database defines no such relation), so that the
-- answers carry objects, status_id and the statuses list.
DROP TABLE IF EXISTS public.mv2_cmp_objects;
CREATE TABLE public.mv2_cmp_objects (id text PRIMARY KEY, content text NOT NULL);
INSERT INTO public.mv2_cmp_objects SELECT 'status' || i, 'content ' || i FROM generate_series(0, 1000, 3) AS i;
INSERT INTO public.mv2_cmp_objects VALUES ('status1', 'the favourited one');
SELECT inbox.define_relation(r, 'item', 'public.mv2_cmp_objects', 'id')
  FROM unnest(ARRAY['mastodon_status', 'mastodon_report']) AS r
 WHERE NOT EXISTS (SELECT FROM inbox.relations x WHERE x.name = r);
UPDATE inbox.notifications SET type = 'admin.report' WHERE user_id = 'mv2_cmp_big' AND id % 50 = 0 AND group_key IS NULL;
SQL
users=$(sql -c "SELECT string_agg(u, ' ') FROM (SELECT DISTINCT user_id AS u FROM inbox.notifications
                WHERE user_id IN ('mv2_cmp_big', 'mv2_cmp_two', 'heavy', 'user1', 'user2') ORDER BY 1) s")
users="$users mv2_cmp_empty"
passed=0
failed=0
check() { # name ok?
  if [[ $2 == t ]]; then
    passed=$((passed + 1))
    echo "ok - $1"
  else
    failed=$((failed + 1))
    echo "not ok - $1"
  fi
}
for u in $users; do
  token=$(sql -c "SELECT inbox.create_token('$u', ARRAY['notifications:read'])")
  ids=$(sql -c "SELECT string_agg(id::text, ' ') FROM (SELECT id FROM inbox.notifications WHERE user_id = '$u'
                ORDER BY id DESC OFFSET 3 LIMIT 400) s WHERE id % 97 < 4")
  set -- $ids
  mid=${1:-1}
  deep=${4:-1}
  low=1
  (($# > 0)) && low=${!#}
  params=('{}' '{"limit": "40"}' '{"limit": "3"}' '{"limit": "7"}' '{"limit": "80"}'
    "{\"max_id\": \"$mid\"}" "{\"max_id\": \"$deep\", \"limit\": \"5\"}" "{\"since_id\": \"$low\"}"
    "{\"min_id\": \"$low\"}" "{\"min_id\": \"$low\", \"limit\": \"4\"}" "{\"max_id\": \"$mid\", \"since_id\": \"$low\"}"
    "{\"max_id\": \"$mid\", \"min_id\": \"$low\"}" '{"grouped_types": ["favourite"]}'
    '{"grouped_types": ["favourite", "follow"], "limit": "10"}' '{"types": ["favourite", "mention"]}'
    '{"exclude_types": ["mention"]}' '{"account_id": "acct3"}' '{"account_id": "user7", "limit": "5"}'
    "{\"types\": [\"favourite\"], \"max_id\": \"$mid\"}" '{"expand_accounts": "partial_avatars"}')
  for p in "${params[@]}"; do
    for f in mastodon_groups mastodon_notifications; do
      [[ $f == mastodon_notifications && $p == *grouped_types* ]] && continue
      [[ $f == mastodon_notifications && $p == *expand_accounts* ]] && continue
      read -r same what <<<"$(sql -F ' ' -c "SELECT a IS NOT DISTINCT FROM mv2_old.answer('mv2_old', '$f', '$token', '$p'),
                                                    CASE WHEN a LIKE 'ERROR%' THEN '(both: ' || a || ')' ELSE '(' || length(a) || ' bytes)' END
                                               FROM mv2_old.answer('inbox', '$f', '$token', '$p') a")"
      check "$f $u $p $what" "$same"
    done
  done
  # One group by its key (GET /api/v2/notifications/:group_key): the first page's keys.
  keys=$(sql -c "SELECT string_agg(pg_catalog.to_jsonb(ARRAY[g->>'group_key'])::text, ' ')
                   FROM inbox.mastodon_groups('$token', '{\"limit\": \"6\"}', NULL) m,
                        jsonb_array_elements(m.body->'notification_groups') g")
  for k in $keys; do
    read -r same what <<<"$(sql -F ' ' -c "SELECT a IS NOT DISTINCT FROM mv2_old.answer('mv2_old', 'mastodon_group', '$token', '$k'),
                                                '(' || length(a) || ' bytes)'
                                           FROM mv2_old.answer('inbox', 'mastodon_group', '$token', '$k') a")"
    check "mastodon_group $u $k $what" "$same"
  done
done
sql -c "SET client_min_messages = warning" -c "DROP SCHEMA mv2_old CASCADE" \
  -c "DELETE FROM inbox.notifications WHERE user_id LIKE 'mv2_cmp_%'" \
  -c "SELECT inbox.drop_relation(r.name) FROM inbox.relations r WHERE r.target_schema = 'public' AND r.target_table = 'mv2_cmp_objects'" \
  -c "DROP TABLE public.mv2_cmp_objects" >/dev/null
echo "$passed passed, $failed failed"
((failed == 0))
