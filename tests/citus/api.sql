-- The SQL API on a Citus cluster (tests/citus.sh): every function, on a distributed database,
-- with citus.multi_task_query_log_level = error, so that a call touching more than one shard
-- fails here. Each check prints "ok - ..." or "not ok - ..."; an unexpected error is a failure.
-- Calls made as a bare SELECT f(...) are delegated by Citus to the node of the user (their
-- notifications get ids of a worker's range); calls inside an expression run from here.
\set ON_ERROR_STOP 0
\set VERBOSITY terse
SET client_min_messages = error;

CREATE FUNCTION pg_temp.ok(name text, cond boolean) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN cond THEN 'ok - ' ELSE 'not ok - ' END || name
$$;
-- Runs sql and expects it to raise sqlstate.
CREATE FUNCTION pg_temp.raises(name text, sql text, sqlstate text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'not ok - ' || name || ': no error';
EXCEPTION WHEN OTHERS THEN
    RETURN CASE WHEN SQLSTATE = sqlstate THEN 'ok - ' || name
                ELSE 'not ok - ' || name || ': ' || SQLSTATE || ' ' || SQLERRM END;
END
$$;
-- Every counter equals the count of its rows (a cross-user check: every shard).
-- A row is unread as the API shows it: not read, and not covered by its user's read mark
-- (issue 19), and unseen likewise with its user's seen marks, the marks joined on the
-- distribution column (never looked up for each row).
CREATE FUNCTION pg_temp.counters_exact() RETURNS boolean LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off AS $$
BEGIN
    RETURN NOT EXISTS (
        (SELECT n.user_id, count(*) FILTER (WHERE n.deleted_at IS NULL) AS active,
                count(*) FILTER (WHERE n.deleted_at IS NULL AND NOT inbox._is_read(n.read_at, n.deleted_at, n.updated_at, m.read_before)) AS unread,
                count(*) FILTER (WHERE n.deleted_at IS NOT NULL) AS deleted,
                count(*) FILTER (WHERE inbox._is_unseen(n.deleted_at, n.seen_at, n.created_at, inbox._seen_before(s.seen, n.workspace_id))) AS unseen
           FROM inbox.notifications n LEFT JOIN inbox.marks m ON m.user_id = n.user_id AND m.workspace_key = ''
           LEFT JOIN (SELECT k.user_id, jsonb_object_agg(k.workspace_key, k.seen_before) AS seen FROM inbox.marks k
                       WHERE k.seen_before IS NOT NULL GROUP BY k.user_id) s ON s.user_id = n.user_id
          GROUP BY n.user_id
         EXCEPT SELECT user_id, active, unread, deleted, unseen FROM inbox.user_counters)
        UNION ALL
        (SELECT user_id, active, unread, deleted, unseen FROM inbox.user_counters
          WHERE active <> 0 OR unread <> 0 OR deleted <> 0 OR unseen <> 0
         EXCEPT SELECT n.user_id, count(*) FILTER (WHERE n.deleted_at IS NULL),
                count(*) FILTER (WHERE n.deleted_at IS NULL AND NOT inbox._is_read(n.read_at, n.deleted_at, n.updated_at, m.read_before)),
                count(*) FILTER (WHERE n.deleted_at IS NOT NULL),
                count(*) FILTER (WHERE inbox._is_unseen(n.deleted_at, n.seen_at, n.created_at, inbox._seen_before(s.seen, n.workspace_id)))
           FROM inbox.notifications n LEFT JOIN inbox.marks m ON m.user_id = n.user_id AND m.workspace_key = ''
           LEFT JOIN (SELECT k.user_id, jsonb_object_agg(k.workspace_key, k.seen_before) AS seen FROM inbox.marks k
                       WHERE k.seen_before IS NOT NULL GROUP BY k.user_id) s ON s.user_id = n.user_id
          GROUP BY n.user_id))
       AND NOT EXISTS (
        SELECT user_id, group_key, count(*) FILTER (WHERE deleted_at IS NULL)
          FROM inbox.notifications WHERE group_key IS NOT NULL GROUP BY user_id, group_key
        HAVING count(*) FILTER (WHERE deleted_at IS NULL) > 0
        EXCEPT SELECT user_id, group_key, notifications_count FROM inbox.notification_groups);
END
$$;

SET citus.multi_task_query_log_level = error;

-- Creating
SELECT inbox.create('alice', '{"title": "first", "groupKey": "post:1", "actorId": "bob", "workspaceId": "w1"}') AS r \gset
SELECT pg_temp.ok('inbox.create is delegated to the worker of the user (an id of a worker''s range)',
                  inbox.internal_id(:'r'::jsonb->>'id') >= 281474976710656);
SELECT :'r'::jsonb->>'id' AS first \gset
SELECT pg_temp.ok('inbox.create from an expression runs from the coordinator (a coordinator id)',
                  inbox.internal_id(inbox.create('alice', '{"title": "second"}')->>'id') < 281474976710656);
SELECT pg_temp.ok('inbox.create_many across users',
                  jsonb_array_length(inbox.create_many('[{"userId": "bob", "title": "m1"}, {"userId": "carol", "title": "m2", "groupKey": "g"}]')) = 2);
SELECT pg_temp.ok('inbox.fan_out to three users',
                  jsonb_array_length(inbox.fan_out(ARRAY['dave', 'erin', 'frank'], '{"title": "fan", "groupKey": "fan:1"}')) = 3);
SELECT pg_temp.ok('inbox.fan_out_count', inbox.fan_out_count(ARRAY['dave', 'erin'], '{"title": "fan2"}') = 2);
SELECT pg_temp.raises('an unknown field is 22023', $$SELECT inbox.create('alice', '{"titel": "x"}')$$, '22023');

-- Reading
SELECT pg_temp.ok('inbox.get', inbox.get('alice', :'first')->>'title' = 'first');
SELECT inbox.get('alice', :'first') AS r \gset
SELECT pg_temp.ok('inbox.get delegated', :'r'::jsonb->>'title' = 'first');
SELECT pg_temp.raises('another user''s id is not found', format($$SELECT inbox.get('bob', %L)$$, :'first'), 'P0002');
SELECT inbox.unread_count('alice') AS n \gset
SELECT pg_temp.ok('inbox.unread_count', :n = 2);
SELECT pg_temp.ok('inbox.unread_count in a workspace', inbox.unread_count('alice', 'w1') = 1);
SELECT inbox.list('alice', '{"limit": 1}') AS page \gset
SELECT pg_temp.ok('inbox.list, first page', jsonb_array_length(:'page'::jsonb->'data') = 1 AND (:'page'::jsonb->'pageInfo'->>'hasNextPage')::boolean);
SELECT pg_temp.ok('inbox.list, the page after a cursor',
                  inbox.list('alice', jsonb_build_object('limit', 1, 'after', :'page'::jsonb->'pageInfo'->>'endCursor'))->'data'->0->>'title' = 'first');
SELECT pg_temp.ok('inbox.list with a filter, orderBy and shorthands',
                  inbox.list('alice', '{"read": false, "workspace_id": "w1", "filter": {"OR": [{"type": "info"}, {"title": {"contains": "x"}}]}, "orderBy": [{"createdAt": "asc"}]}')->'pageInfo'->>'total' = '1');
SELECT pg_temp.ok('inbox.list_explain', inbox.list_explain('alice', '{"limit": 5}') IS NOT NULL);
SELECT inbox.groups('alice', '{"limit": 5}') AS g \gset
SELECT pg_temp.ok('inbox.groups', jsonb_array_length(:'g'::jsonb->'data') = 2);
SELECT pg_temp.ok('inbox.groups with a filter', inbox.groups('alice', '{"read": false, "filter": {"type": "info"}}')->'pageInfo'->>'total' = '2');
SELECT pg_temp.ok('inbox.list_all (every shard, by design)', (inbox.list_all('{"limit": 3}')->'pageInfo'->>'total')::int >= 9);

-- Changing
SELECT inbox.mark_read('alice', :'first') AS r \gset
SELECT pg_temp.ok('inbox.mark_read', (:'r'::jsonb->>'read')::boolean);
SELECT pg_temp.ok('inbox.mark_unread (array)', inbox.mark_unread('alice', ARRAY[:'first'])->0->>'read' = 'false');
SELECT pg_temp.ok('inbox.archive', inbox.archive('alice', :'first')->>'archived' = 'true');
SELECT pg_temp.ok('inbox.unarchive', inbox.unarchive('alice', ARRAY[:'first'])->0->>'archived' = 'false');
SELECT pg_temp.ok('inbox.update', inbox.update('alice', :'first', '{"title": "changed", "groupKey": "post:2"}')->>'title' = 'changed');
SELECT pg_temp.ok('inbox.update (array)', inbox.update('alice', ARRAY[:'first'], '{"data": {"k": 1}}')->0->'data'->>'k' = '1');
SELECT pg_temp.ok('inbox.soft_delete', inbox.soft_delete('alice', :'first')->>'deletedAt' IS NOT NULL);
SELECT pg_temp.raises('a restore of an active row is 55000', format($$SELECT inbox.restore('alice', %L)$$,
                      (SELECT inbox.create('alice', '{"title": "active"}')->>'id')), '55000');
SELECT pg_temp.ok('inbox.restore', inbox.restore('alice', :'first')->>'deletedAt' IS NULL);
SELECT inbox.mark_all_read('alice', 'w1') AS n \gset
SELECT pg_temp.ok('inbox.mark_all_read in a workspace', :n = 1);
SELECT pg_temp.ok('inbox.mark_all_read', inbox.mark_all_read('alice') >= 1);
SELECT pg_temp.ok('inbox.soft_delete (array)', jsonb_array_length(inbox.soft_delete('alice', ARRAY[:'first'])) = 1);
SELECT pg_temp.ok('inbox.purge', inbox.purge('alice', :'first')->>'id' = :'first');
SELECT pg_temp.ok('inbox.delete', inbox.delete('bob', ARRAY(SELECT e->>'id' FROM jsonb_array_elements(inbox.list('bob', '{}')->'data') AS e))->0->>'userId' = 'bob');

-- Aggregation
SELECT inbox.register_type('liked', 'Someone liked a post.', aggregate => true) AS t \gset
SELECT pg_temp.ok('inbox.register_type', (:'t'::jsonb->>'aggregate')::boolean);
SELECT pg_temp.ok('inbox.types', jsonb_array_length(inbox.types()) = 5);
SELECT inbox.create('carol', '{"type": "liked", "groupKey": "post:9", "actorId": "x1"}') AS a \gset
SELECT inbox.create('carol', '{"type": "liked", "groupKey": "post:9", "actorId": "x2"}') AS b \gset
SELECT pg_temp.ok('an aggregating create joins the unread notification of its group',
                  :'a'::jsonb->>'id' = :'b'::jsonb->>'id' AND (:'b'::jsonb->>'actorCount')::int = 2);
SELECT pg_temp.ok('inbox.groups sees the aggregated actors', inbox.groups('carol', '{"filter": {"groupKey": "post:9"}}')->'data'->0->'sampleActorIds' = '["x2", "x1"]');
SELECT pg_temp.ok('inbox.unregister_type', inbox.unregister_type('liked'));
SET pg_inbox.unregistered_types = reject;
SELECT pg_temp.raises('pg_inbox.unregistered_types = reject refuses an unknown type',
                      $$SELECT inbox.create('carol', '{"type": "poll"}')$$, '22023');
RESET pg_inbox.unregistered_types;

-- Relations: their tables are reference tables on a Citus cluster.
CREATE TABLE public.local_people (id text PRIMARY KEY);
SELECT pg_temp.raises('inbox.define_relation refuses a table that is not a reference table',
                      $$SELECT inbox.define_relation('local', 'actorId', 'public.local_people')$$, '55000');
CREATE TABLE public.people (id text PRIMARY KEY, name text);
SELECT create_reference_table('public.people');
INSERT INTO public.people VALUES ('x1', 'Xavier'), ('x2', 'Xena');
SELECT pg_temp.ok('inbox.define_relation', inbox.define_relation('actor', 'actorId', 'public.people', 'id', ARRAY['id', 'name']::name[])->>'name' = 'actor');
SELECT pg_temp.ok('a filter through a relation (a reference table)',
                  inbox.list('carol', '{"filter": {"actor": {"name": {"startsWith": "Xe"}}}}')->'pageInfo'->>'total' = '1');
SELECT pg_temp.ok('expand=actor,actors',
                  inbox.list('carol', '{"expand": "actor,actors", "filter": {"groupKey": "post:9"}}')->'data'->0->'expanded'->'actors'->1->>'name' = 'Xavier');
SELECT pg_temp.ok('inbox.drop_relation', inbox.drop_relation('actor'));

-- Tokens and the REST functions
SELECT inbox.create_token('alice', ARRAY['notifications:read', 'notifications:write']) AS tok \gset
SELECT inbox.create_token('ops', ARRAY['admin']) AS admin \gset
SELECT pg_temp.ok('inbox.authenticate', (inbox.authenticate(:'tok')).user_id = 'alice');
SELECT pg_temp.ok('inbox.rest_list', inbox.rest_list(:'tok', '{"limit": "2"}')->'pageInfo'->>'total' IS NOT NULL);
SELECT pg_temp.ok('inbox.rest_unread_count', inbox.rest_unread_count(:'tok', '{}') ? 'count');
SELECT pg_temp.ok('inbox.rest_groups', inbox.rest_groups(:'tok', '{}') ? 'data');
SELECT pg_temp.ok('inbox.rest_types', inbox.rest_types(:'tok', '{}') ? 'unregisteredTypes');
SELECT inbox.create('alice', '{"title": "for rest"}')->>'id' AS rid \gset
SELECT pg_temp.ok('inbox.rest_get with markRead', inbox.rest_get(:'tok', :'rid', '{"markRead": "true"}')->>'read' = 'true');
SELECT pg_temp.ok('inbox.rest_mark_unread', inbox.rest_mark_unread(:'tok', :'rid', '{}')->>'read' = 'false');
SELECT pg_temp.ok('inbox.rest_patch', inbox.rest_patch(:'tok', :'rid', '{"archived": true}', '{}')->>'archived' = 'true');
SELECT pg_temp.ok('inbox.rest_read_all', (inbox.rest_read_all(:'tok', '{}')->>'updated')::int >= 1);
SELECT pg_temp.ok('inbox.rest_soft_delete', inbox.rest_soft_delete(:'tok', :'rid', '{}') = '{"success": true}');
SELECT pg_temp.ok('inbox.rest_restore', inbox.rest_restore(:'tok', :'rid', '{}')->>'deletedAt' IS NULL);
SELECT pg_temp.ok('an admin finds a notification by its id alone (every shard, by design)',
                  inbox.rest_get(:'admin', :'rid', '{}')->>'userId' = 'alice');
SELECT pg_temp.ok('an admin names the user: one shard', inbox.rest_get(:'admin', :'rid', '{"user_id": "alice"}')->>'userId' = 'alice');
SELECT inbox.create_token('app', ARRAY['notifications:send']) AS app \gset
SELECT pg_temp.ok('inbox.rest_create with an Idempotency-Key',
                  inbox.rest_create(:'app', '{"userId": "gina", "title": "idem"}', 'key-1', '{}')
                  = inbox.rest_create(:'app', '{"userId": "gina", "title": "idem"}', 'key-1', '{}'));
SELECT pg_temp.ok('inbox.purge_idempotency_keys (every shard, by design)', inbox.purge_idempotency_keys('0 seconds') >= 1);
SELECT pg_temp.ok('inbox.revoke_token', inbox.revoke_token(:'tok'));
SELECT pg_temp.raises('a revoked token is 28000', format($$SELECT inbox.rest_list(%L, '{}')$$, :'tok'), '28000');
SELECT pg_temp.ok('inbox.revoke_tokens', inbox.revoke_tokens('ops') = 1);

-- Directus and GraphQL
SELECT inbox.create_token('alice', ARRAY['notifications:read', 'notifications:write']) AS tok \gset
SELECT pg_temp.ok('inbox.directus_read', json_array_length(inbox.directus_read(:'tok', '{"limit": 2}')->'data') = 2);
SELECT pg_temp.ok('inbox.directus_read_one', (inbox.directus_read_one(:'tok', inbox.internal_id(:'rid')::text, '{}')->'data'->>'subject') = 'for rest');
SELECT pg_temp.ok('inbox.directus_update_one', (inbox.directus_update_one(:'tok', inbox.internal_id(:'rid')::text, '{"status": "archived"}', '{}')->'data'->>'status') = 'archived');
SELECT pg_temp.ok('inbox.directus aggregate', inbox.directus_read(:'tok', '{"aggregate": {"count": "*"}}')::text LIKE '%count%');
SELECT pg_temp.ok('inbox.graphql', inbox.graphql('{ notifications(limit: 1) { id subject } }', NULL, NULL, :'tok')::text LIKE '{"data":{"notifications":[{%');

-- The change feed (issue 14): events appended on the shards by the triggers there, each user's
-- ids gapless; inbox.changes and inbox.feed_head delegated to the user's node (one shard); the
-- poller reads every node, each with its own xids.
SELECT pg_temp.ok('the feed of alice: gapless ids from 1, as many as her head',
                  (SELECT count(*) = inbox.feed_head('alice') AND min(id) = 1 AND max(id) = inbox.feed_head('alice')
                     FROM inbox.changes('alice', 0, 10000)));
SELECT inbox.feed_head('alice') AS head \gset
-- (Her read-all is a read mark: one notification.read_all event, appended on her shard.)
SELECT pg_temp.ok('every kind of change of alice is in her feed',
                  (SELECT array_agg(DISTINCT event ORDER BY event) FROM inbox.changes('alice', 0, 10000))
                  = ARRAY['notification.created', 'notification.deleted', 'notification.purged', 'notification.read_all',
                          'notification.restored', 'notification.updated']);
SELECT pg_temp.ok('a fan-out appends one event a recipient, on each recipient''s shard',
                  (SELECT count(*) FROM inbox.changes('frank', 0)) = 1);
SELECT pg_temp.ok('inbox.changes returns the notification as it is now',
                  (SELECT data->>'title' FROM inbox.changes('frank', 0)) = 'fan');
SELECT pg_temp.raises('resuming beyond the head is 22023', format($$SELECT * FROM inbox.changes('alice', %s)$$, :head + 1), '22023');
SELECT max(next_cursor) AS cursor FROM inbox.poll_events() \gset
SELECT inbox.create('alice', '{"title": "polled"}') IS NOT NULL AS created \gset
SELECT pg_temp.ok('inbox.fan_out_count to users on every node', inbox.fan_out_count(ARRAY['p1', 'p2', 'p3', 'p4', 'p5', 'p6'], '{"title": "p"}') = 6);
SELECT pg_temp.ok('inbox.poll_events (every node, by design) finds the events committed since its cursor',
                  (SELECT array_agg(user_id || ':' || id ORDER BY user_id, id) FROM inbox.poll_events(:'cursor') WHERE user_id IS NOT NULL)
                  = ARRAY['alice:' || (:head + 1), 'p1:1', 'p2:1', 'p3:1', 'p4:1', 'p5:1', 'p6:1']);
SELECT pg_temp.ok('the poller''s cursor is a node''s cursor for each node',
                  (SELECT count(*) FROM jsonb_object_keys((SELECT max(next_cursor) FROM inbox.poll_events(:'cursor'))::jsonb->'nodes')) >= 2);
SELECT pg_temp.ok('a poll from its next cursor finds nothing new',
                  (SELECT count(user_id) FROM inbox.poll_events((SELECT max(next_cursor) FROM inbox.poll_events(:'cursor')))) = 0);
SELECT pg_temp.raises('a bad poller cursor is 22023', $$SELECT * FROM inbox.poll_events('{"x": 1}')$$, '22023');
UPDATE inbox.events SET created_at = '2000-01-01' WHERE user_id = 'p1';
SELECT pg_temp.ok('inbox.prune_events (every shard, by design)', inbox.prune_events() = 1);
SELECT pg_temp.raises('after a prune, resuming before the oldest kept event is 22023', $$SELECT * FROM inbox.changes('p1', 0)$$, '22023');
-- Mastodon and Diaspora (issue 16): each call on the user's shard; the markers distributed with
-- the user's rows.
SELECT inbox.register_types('mastodon') AS n \gset
SELECT inbox.create_token('mia', ARRAY['notifications:read', 'notifications:write']) AS mtok \gset
SELECT inbox.create_many('[{"userId": "mia", "type": "mention", "actorId": "bob"}, {"userId": "mia", "type": "favourite", "actorId": "carol", "groupKey": "fav:1"}, {"userId": "mia", "type": "favourite", "actorId": "dave", "groupKey": "fav:1"}]') AS created \gset
SELECT body AS mbody, link AS mlink FROM inbox.mastodon_notifications(:'mtok', '{"limit": "2"}', 'http://h') \gset
SELECT pg_temp.ok('inbox.mastodon_notifications', jsonb_array_length(:'mbody'::jsonb) = 2 AND :'mlink' LIKE '<http://h/api/v1/notifications?limit=2&max_id=%');
SELECT pg_temp.ok('inbox.mastodon_notifications by max_id', (SELECT jsonb_array_length(body) FROM inbox.mastodon_notifications(:'mtok', jsonb_build_object('max_id', :'mbody'::jsonb->1->>'id'), NULL)) = 1);
SELECT pg_temp.ok('inbox.mastodon_notification', inbox.mastodon_notification(:'mtok', :'mbody'::jsonb->0->>'id')->>'type' = 'favourite');
SELECT pg_temp.ok('inbox.mastodon_unread_count', inbox.mastodon_unread_count(:'mtok', '{"types": ["favourite"]}')->>'count' = '2');
SELECT pg_temp.ok('inbox.mastodon_groups', (SELECT jsonb_array_length(body->'notification_groups') FROM inbox.mastodon_groups(:'mtok', '{}', NULL)) = 2);
SELECT pg_temp.ok('inbox.mastodon_groups by min_id (the groups just above it)',
                  (SELECT body->'notification_groups'->0->>'group_key' FROM inbox.mastodon_groups(:'mtok', jsonb_build_object('min_id', :'mbody'::jsonb->1->>'id', 'limit', '1'), NULL)) = 'fav:1');
SELECT pg_temp.ok('inbox.mastodon_stream_notifications (the streams'' payloads) is the v1 entity',
                  inbox.mastodon_stream_notifications(:'mtok', jsonb_build_array(:'mbody'::jsonb->0->>'id', 'x'))->0
                  = inbox.mastodon_notification(:'mtok', :'mbody'::jsonb->0->>'id'));
SELECT pg_temp.ok('inbox.mastodon_group_accounts', jsonb_array_length(inbox.mastodon_group_accounts(:'mtok', 'fav:1')) = 2);
SELECT pg_temp.ok('inbox.mastodon_set_markers marks read up to the marker',
                  inbox.mastodon_set_markers(:'mtok', jsonb_build_object('notifications', jsonb_build_object('last_read_id', :'mbody'::jsonb->1->>'id')))->'notifications'->>'version' = '0'
                  AND inbox.unread_count('mia') = 1);
SELECT pg_temp.ok('inbox.mastodon_markers', inbox.mastodon_markers(:'mtok', '{"timeline": ["notifications"]}') ? 'notifications');
SELECT pg_temp.ok('inbox.mastodon_group_dismiss', inbox.mastodon_group_dismiss(:'mtok', 'fav:1') = '{}' AND inbox.unread_count('mia') = 0);
SELECT pg_temp.ok('inbox.diaspora_notifications', (SELECT jsonb_array_length(body) FROM inbox.diaspora_notifications(:'mtok', '{}', NULL)) = 1);
SELECT pg_temp.ok('inbox.mastodon_clear', inbox.mastodon_clear(:'mtok') = '{}' AND inbox.unread_count('mia') = 0);

-- Counters, rebuild, truncate
-- The lifecycle (issue 19), each call on the user's shard: a read-all is a read mark that the
-- lists, their read filter and totals, the groups, the counts and the feed apply (the user's
-- marks read once per call and bound, never looked up for each row on the shard); a seen mark
-- per workspace; an expired notification leaves everything; settling writes the mark into the rows.
SELECT inbox.create('lena', '{"title": "l1", "groupKey": "g"}') IS NOT NULL AS c \gset
SELECT inbox.create('lena', '{"title": "l2", "groupKey": "g"}') IS NOT NULL AS c \gset
SELECT inbox.create('lena', '{"title": "l3", "workspaceId": "w1"}') IS NOT NULL AS c \gset
SELECT inbox.create('lena', '{"title": "gone", "expiresAt": "2000-01-01T00:00:00Z"}') IS NOT NULL AS c \gset
SELECT pg_temp.ok('lifecycle: a read-all of three (the expired one not counted)', inbox.mark_all_read('lena') = 3);
SELECT pg_temp.ok('lifecycle: the unread count after the read-all', inbox.unread_count('lena') = 0);
SELECT pg_temp.ok('lifecycle: the read filter and its total apply the read mark',
                  inbox.list('lena', '{"read": false}')->'pageInfo'->>'total' = '0'
                  AND jsonb_path_query_array(inbox.list('lena', '{"read": true}'), '$.data[*].read') = '[true, true, true]');
SELECT pg_temp.ok('lifecycle: readAt is the read-all for every row',
                  (SELECT count(DISTINCT r) = 1 FROM jsonb_array_elements_text(jsonb_path_query_array(inbox.list('lena', '{}'), '$.data[*].readAt')) AS r));
SELECT pg_temp.ok('lifecycle: inbox.list_all (every shard, by design) applies each user''s marks, joined on the distribution column',
                  jsonb_path_query_array(inbox.list_all('{"filter": {"userId": {"in": ["lena", "alice"]}}, "orderBy": [{"userId": "asc"}, {"createdAt": "asc"}]}'), '$.data[*] ? (@.userId == "lena")')
                  = jsonb_path_query_array(inbox.list('lena', '{"orderBy": [{"createdAt": "asc"}]}'), '$.data[*]')
                  AND (inbox.list_all('{"filter": {"userId": {"in": ["lena"]}}, "read": false}')->'pageInfo'->>'total') = '0');
SELECT pg_temp.ok('lifecycle: the groups come from the rows, none unread',
                  jsonb_path_query_array(inbox.groups('lena', '{}'), '$.data[*].unreadCount') = '[0, 0]');
SELECT inbox.mark_seen('lena', 'w1') IS NOT NULL AS c \gset
SELECT pg_temp.ok('lifecycle: a seen mark of one workspace', inbox.unseen_count('lena') = 2 AND inbox.unseen_count('lena', 'w1') = 0);
SELECT pg_temp.ok('lifecycle: seenAt through the engine',
                  jsonb_path_query_array(inbox.list('lena', '{"filter": {"seenAt": {"isNull": false}}}'), '$.data[*].title') = '["l3"]');
SELECT pg_temp.ok('lifecycle: the feed has the read-all and the seen mark, its rows read',
                  (SELECT array_agg(DISTINCT event ORDER BY event) FROM inbox.changes('lena', 0))
                    = ARRAY['notification.created', 'notification.read_all', 'notification.seen']
                  AND (SELECT bool_and((data->>'read')::boolean) FROM inbox.changes('lena', 0) WHERE event = 'notification.created' AND data->>'title' <> 'gone'));
SELECT pg_temp.ok('lifecycle: an expired notification is in no list', inbox.list('lena', '{}')->'pageInfo'->>'total' = '3');
SELECT pg_temp.ok('lifecycle: settling writes the mark into the rows, then clears it',
                  inbox.settle_read_marks('lena') = 4 AND inbox.settle_read_marks('lena') = -1);
SELECT pg_temp.ok('lifecycle: still read once settled, and the counters agree',
                  jsonb_path_query_array(inbox.list('lena', '{}'), '$.data[*].read') = '[true, true, true]' AND inbox.unread_count('lena') = 0);
SELECT pg_temp.ok('lifecycle: the unseen counts from the counters after a create',
                  inbox.create('lena', '{"title": "l4", "workspaceId": "w1"}') IS NOT NULL
                  AND inbox.unseen_count('lena') = 3 AND inbox.unseen_count('lena', 'w1') = 1);
SELECT inbox.mark_seen('lena') IS NOT NULL AS c \gset
SELECT pg_temp.ok('lifecycle: a seen mark of the whole inbox sets the unseen counters',
                  inbox.unseen_count('lena') = 0 AND inbox.unseen_count('lena', 'w1') = 0);
-- Retention (inbox.prune_step), across users by design: each step one statement over every
-- shard (the expired, deleted and read rules), the settle and overflow rules one user's shard.
SELECT count(inbox.create('pru' || i, jsonb_build_object('title', 'old', 'expiresAt', '2001-01-01T00:00:00Z'))) AS c
  FROM generate_series(1, 6) AS i \gset
SELECT count(inbox.create('pru' || i, jsonb_build_object('title', 'kept'))) AS c FROM generate_series(1, 6) AS i \gset
SELECT inbox.soft_delete('pru1', inbox.create('pru1', '{"title": "deleted"}')->>'id') IS NOT NULL AS c \gset
SELECT inbox.mark_all_read('pru2') = 1 AS c \gset
BEGIN;
SET LOCAL citus.multi_task_query_log_level = off;
UPDATE inbox.notifications SET deleted_at = now() - interval '60 days' WHERE user_id = 'pru1' AND title = 'deleted';
COMMIT;
INSERT INTO inbox.retention (deleted_after, expired_after, batch_size) VALUES ('30 days', '0', 4)
ON CONFLICT (one) DO UPDATE SET deleted_after = excluded.deleted_after, expired_after = excluded.expired_after,
                                batch_size = excluded.batch_size;
CREATE TEMPORARY TABLE prune_steps AS SELECT 0 AS step, NULL::text AS kind, 0::bigint AS removed, NULL::text AS next_cursor;
DO $$
DECLARE
    cursor_ text;
    r record;
    i int := 0;
BEGIN
    LOOP
        i := i + 1;
        SELECT * INTO r FROM inbox.prune_step(cursor_);
        INSERT INTO prune_steps VALUES (i, r.kind, r.removed, r.next_cursor);
        EXIT WHEN r.next_cursor IS NULL OR i > 50;
        cursor_ := r.next_cursor;
    END LOOP;
END
$$;
SELECT pg_temp.ok('retention: inbox.prune_step on the cluster settles the read marks and removes the expired (six and lena''s) and the long-deleted rows, in steps of at most 4',
                  (SELECT sum(removed) FILTER (WHERE kind = 'settled') > 0 AND sum(removed) FILTER (WHERE kind = 'expired') = 7
                          AND sum(removed) FILTER (WHERE kind = 'deleted') = 1 AND max(removed) <= 4
                          AND bool_or(kind = 'done') FROM prune_steps));
SELECT pg_temp.ok('retention: what is left is what the policy keeps, and the counters agree',
                  (SELECT string_agg(DISTINCT x->>'title', ',') FROM generate_series(1, 6) AS i,
                          jsonb_array_elements(inbox.list('pru' || i, '{}')->'data') AS x) = 'kept'
                  AND inbox.unread_count('pru1') = 1 AND inbox.unseen_count('pru3') = 1 AND pg_temp.counters_exact());
DELETE FROM inbox.retention;
SELECT pg_temp.ok('every counter equals the count of its rows', pg_temp.counters_exact());
SELECT inbox.rebuild_counters();
SELECT pg_temp.ok('inbox.rebuild_counters (every shard, by design) leaves them exact', pg_temp.counters_exact());
BEGIN;
SET LOCAL citus.multi_task_query_log_level = off;
TRUNCATE inbox.notifications CASCADE;
SELECT pg_temp.ok('TRUNCATE inbox.notifications empties the counters too',
                  (SELECT count(*) FROM inbox.user_counters) + (SELECT count(*) FROM inbox.notification_groups) = 0);
SELECT pg_temp.ok('TRUNCATE inbox.notifications empties the change feed too', (SELECT count(*) FROM inbox.events) = 0);
ROLLBACK;
-- Delivery exactly once across what a shard move does to the expander (issue 15): the moved
-- events come under another node's xids, which the new node's cursor reads again or never. A
-- move is simulated here by setting every node's cursor: back to an old one (every kept event
-- read again) and to "from now" (an event never read). The user's mark (inbox.delivery_progress,
-- distributed with the notifications) keeps each notification's webhook call to one, and the
-- event the cursor skipped is queued with the user's next one. (No server claims here.)
-- (The expansion before the webhook moves every cursor to now: what came before is not queued.)
SET pg_inbox.webhook_allow_private = on;
SELECT pg_temp.ok('delivery: unconfigured, the expander queues nothing', inbox.expand_deliveries() = 0);
SELECT pg_temp.ok('delivery: a webhook for every create', inbox.create_webhook('http://127.0.0.1:9/moved', '{notification.created}') ? 'id');
SELECT inbox.create('mover', '{"title": "first"}') AS mover_first \gset
-- (A statement that reads a distributed table runs on its node, where pg_temp is not: the
-- counts are read first.)
SELECT inbox.expand_deliveries() AS expanded \gset
SELECT count(*) AS queued FROM inbox.deliveries WHERE user_id = 'mover' \gset
SELECT pg_temp.ok('delivery: the expander on the user''s node queues its webhook call', :expanded >= 1 AND :queued = 1);
SELECT pg_temp.ok('delivery: every node''s cursor set back (the move''s events read again)',
                  (SELECT bool_and(success) FROM run_command_on_all_nodes(
                      $$UPDATE inbox.delivery_feed_position SET cursor = '{"x": "3", "p": "3:3:"}'$$)));
SELECT inbox.expand_deliveries() AS expanded \gset
SELECT count(*) AS queued FROM inbox.deliveries WHERE user_id = 'mover' \gset
SELECT pg_temp.ok('delivery: read again, queued once', :expanded >= 1 AND :queued = 1);
SELECT inbox.create('mover', '{"title": "skipped by the cursor"}') AS mover_skipped \gset
SELECT pg_temp.ok('delivery: every node''s cursor set to now (the move''s event never read)',
                  (SELECT bool_and(success) FROM run_command_on_all_nodes(
                      $$UPDATE inbox.delivery_feed_position SET cursor = inbox._feed_start()$$)));
SELECT pg_temp.ok('delivery: nothing to read', inbox.expand_deliveries() = 0);
SELECT inbox.create('mover', '{"title": "next"}') AS mover_next \gset
SELECT pg_temp.ok('delivery: the next event read', inbox.expand_deliveries() = 1);
SELECT count(*) AS queued, count(DISTINCT notification_ids[1]) AS notifications FROM inbox.deliveries WHERE user_id = 'mover' \gset
SELECT event_id AS mark FROM inbox.delivery_progress WHERE user_id = 'mover' \gset
SELECT pg_temp.ok('delivery: the skipped event is queued with the user''s next, each notification once (queued ' || :queued || ')',
                  :queued = 3 AND :notifications = 3 AND :mark = inbox.feed_head('mover'));
