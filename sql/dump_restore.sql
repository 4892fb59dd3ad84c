SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;
\set VERBOSITY terse

-- pg_dump of a database that uses the extension keeps every notification, and the restored
-- copy has exact counters and a sequence that does not hand out a used id.
SELECT jsonb_array_length(inbox.fan_out(ARRAY(SELECT 'u' || i FROM generate_series(1, 50) AS i),
                                        '{"title": "dumped", "workspaceId": "w", "data": {"k": [1, 2]}}')) AS created;
SELECT jsonb_array_length(inbox.mark_read('u1', ARRAY(SELECT inbox.public_id(id) FROM inbox.notifications WHERE user_id = 'u1'))) AS read;
SELECT jsonb_array_length(inbox.soft_delete('u2', ARRAY(SELECT inbox.public_id(id) FROM inbox.notifications WHERE user_id = 'u2'))) AS deleted;
-- Application-registered types and aggregated actors travel with the dump too.
SELECT inbox.register_type('liked', 'Someone liked your post.', aggregate => true) IS NOT NULL AS registered;
SELECT inbox.create('u3', jsonb_build_object('type', 'liked', 'groupKey', 'p', 'actorId', a))->>'actorCount' AS actors
  FROM unnest(ARRAY['x', 'y']) AS a;
SELECT md5(string_agg(inbox.to_json(n)::text, ',' ORDER BY id)) AS fingerprint FROM inbox.notifications n \gset
SELECT current_database() AS db \gset

DROP DATABASE IF EXISTS pg_inbox_restored;
CREATE DATABASE pg_inbox_restored;
\setenv SRC :db
\! pg_dump --format=custom --file=pg_inbox_dump.bin "$SRC" && pg_restore --exit-on-error --dbname=pg_inbox_restored pg_inbox_dump.bin && echo restored
\! rm -f pg_inbox_dump.bin

\c pg_inbox_restored
\set VERBOSITY terse
SELECT count(*) AS rows,
       md5(string_agg(inbox.to_json(n)::text, ',' ORDER BY id)) = :'fingerprint' AS identical
  FROM inbox.notifications n;
SELECT inbox.unread_count('u1') AS u1_unread, inbox.unread_count('u2') AS u2_unread,
       inbox.unread_count('u3') AS u3_unread, inbox.unread_count('u3', 'w') AS u3_w_unread;
SELECT (SELECT deleted FROM inbox.user_counters WHERE user_id = 'u2') AS u2_deleted;
SELECT jsonb_path_query_array(inbox.types(), '$[*].name') AS types;
SELECT inbox.create('u3', '{"type": "liked", "groupKey": "p", "actorId": "z"}')->'actors' AS actors_after_restore;
SELECT (inbox.create('u1', '{"title": "after restore"}')->>'id') <> ALL (
           ARRAY(SELECT inbox.public_id(id) FROM inbox.notifications WHERE title = 'dumped')) AS new_id_is_new;
\c :db
DROP DATABASE pg_inbox_restored;
