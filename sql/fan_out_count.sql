SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;
\set VERBOSITY terse

-- fan_out_count: the rows of inbox.fan_out, without the objects back; the same checks.
SELECT inbox.fan_out_count(ARRAY(SELECT 'fan-' || i FROM generate_series(1, 10000) AS i),
                           '{"title": "Release 2.0 is out", "type": "success", "workspaceId": "w1", "data": {"version": "2.0"}}') AS served;
SELECT count(*) AS rows, count(DISTINCT user_id) AS users, count(DISTINCT (type, title, workspace_id, data)) AS shapes
  FROM inbox.notifications WHERE user_id LIKE 'fan-%';
-- The counters moved with the rows.
SELECT sum(unread) AS unread, sum(active) AS active FROM inbox.user_counters WHERE user_id LIKE 'fan-%';
SELECT sum(unread) AS unread FROM inbox.workspace_counters WHERE user_id LIKE 'fan-%' AND workspace_id = 'w1';
-- The rows are the ones inbox.fan_out creates: same fields, recipient order follows ids.
SELECT inbox.fan_out(ARRAY['amy', 'ben'], '{"title": "t", "actorId": "a1", "collection": "posts", "item": "7"}')
       IS NOT NULL AS fanned;
SELECT inbox.fan_out_count(ARRAY['amy', 'ben'], '{"title": "t", "actorId": "a1", "collection": "posts", "item": "7"}') AS served;
SELECT user_id, count(DISTINCT (title, actor_id, recent_actor_ids, actor_count, collection, item)) AS shapes,
       count(*) AS rows
  FROM inbox.notifications WHERE user_id IN ('amy', 'ben') GROUP BY user_id ORDER BY user_id;
SELECT bool_and(a.id < b.id) AS recipient_order
  FROM inbox.notifications a JOIN inbox.notifications b ON b.user_id = 'ben' AND a.user_id = 'amy'
 WHERE a.id = (SELECT max(id) FROM inbox.notifications WHERE user_id = 'amy')
   AND b.id = (SELECT max(id) FROM inbox.notifications WHERE user_id = 'ben');
-- An aggregating template serves every recipient once: into the open group, or a new row.
SELECT inbox.fan_out_count(ARRAY['amy', 'cat'], '{"groupKey": "g", "actorId": "z", "aggregate": true}') AS served;
SELECT inbox.fan_out_count(ARRAY['amy', 'cat'], '{"groupKey": "g", "actorId": "w", "aggregate": true}') AS served;
SELECT user_id, actor_count, recent_actor_ids FROM inbox.notifications
 WHERE group_key = 'g' ORDER BY user_id;
-- The same errors as inbox.fan_out, and nothing created.
SELECT inbox.fan_out_count(ARRAY[]::text[], '{"title": "nobody"}');
SELECT inbox.fan_out_count(NULL, '{"title": "nobody"}');
SELECT inbox.fan_out_count(ARRAY['x', 'y', 'x'], '{"title": "twice"}');
SELECT inbox.fan_out_count(ARRAY['x', NULL], '{"title": "null"}');
SELECT inbox.fan_out_count(ARRAY['x'], '{"userId": "x", "title": "who?"}');
SELECT inbox.fan_out_count(ARRAY['x'], '{"title": "x", "colour": "red"}');
SELECT inbox.fan_out_count(ARRAY['x'], '{"title": 7}');
SELECT inbox.fan_out_count(ARRAY['x'], '{"type": null}');
SET pg_inbox.unregistered_types = reject;
SELECT inbox.fan_out_count(ARRAY['x', 'y'], '{"type": "nope"}');
RESET pg_inbox.unregistered_types;
SELECT count(*) AS x_rows FROM inbox.notifications WHERE user_id IN ('x', 'y');
