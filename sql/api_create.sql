SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;
\set VERBOSITY terse

-- Timestamps vary between runs: the helper hides them and checks they are ISO-8601 UTC.
CREATE FUNCTION pg_temp.shape(j jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT j - 'createdAt' - 'updatedAt' - 'readAt' - 'archivedAt' - 'deletedAt'
           || jsonb_build_object('times_ok',
                  (j->>'createdAt') ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$'
              AND (j->>'updatedAt') = (j->>'createdAt'))
$$;

-- create: defaults, every field, the API shape.
SELECT pg_temp.shape(inbox.create('alice', '{"title": "Welcome"}'));
SELECT pg_temp.shape(inbox.create('alice', '{
    "userId": "alice", "workspaceId": "acme", "type": "warning", "title": "Disk almost full",
    "body": "92% used", "data": {"disk": "/dev/sda1", "pct": 92}, "actorId": "monitor",
    "collection": "servers", "item": "web-1", "groupKey": "disk:web-1"}'));
-- Times are UTC whatever the session's time zone.
SET TimeZone = 'America/New_York';
SELECT (inbox.create('alice', '{"title": "tz"}')->>'createdAt') LIKE '%Z' AS utc;
RESET TimeZone;

-- Bad input: each is a clear error naming the field, and creates nothing.
SELECT inbox.create('alice', '{"titel": "typo"}');
SELECT inbox.create('alice', '{"title": 42}');
SELECT inbox.create('alice', '{"data": [1, 2]}');
SELECT inbox.create('alice', '{"data": null}');
SELECT inbox.create('alice', '{"type": null}');
SELECT inbox.create('alice', '"just a string"');
SELECT inbox.create('alice', NULL);
SELECT inbox.create('alice', '{"userId": "bob", "title": "not yours"}');
SELECT inbox.create('alice', '{"type": "has space"}');
SELECT inbox.create('alice', jsonb_build_object('title', repeat('x', 1001)));
SELECT inbox.create('alice', jsonb_build_object('body', repeat('x', 20001)));
SELECT inbox.create('alice', jsonb_build_object('data', jsonb_build_object('big', repeat('x', 40000))));
SELECT inbox.create('', '{"title": "nobody"}');
SELECT inbox.create(repeat('u', 256), '{"title": "long user"}');
SELECT inbox.create('alice', '{"workspaceId": ""}');
-- NUL characters never reach the table: jsonb and text reject them on input.
SELECT inbox.create('alice', '{"title": "a\u0000b"}');
SELECT count(*) AS alice_rows FROM inbox.notifications WHERE user_id = 'alice';

-- create_many: one statement, input order, each row its own user.
SELECT jsonb_array_length(r) AS created,
       jsonb_path_query_array(r, '$[*].userId') AS users,
       jsonb_path_query_array(r, '$[*].title') AS titles
  FROM inbox.create_many('[{"userId": "bob", "title": "b1"},
                           {"userId": "carol", "title": "c1", "type": "success"},
                           {"userId": "bob", "title": "b2"}]') AS r;
SELECT inbox.create_many('[]');
SELECT inbox.create_many('{"userId": "bob"}');
SELECT inbox.create_many('[{"userId": "bob", "title": "ok"}, {"title": "no user"}]');
SELECT inbox.create_many('[{"userId": "bob"}, {"userId": "bob", "body": false}]');
SELECT inbox.create_many('[{"userId": "bob"}, 7]');
SELECT count(*) AS bob_rows FROM inbox.notifications WHERE user_id = 'bob';

-- fan_out: one template to many recipients; 10,000 in one call.
SELECT jsonb_path_query_array(r, '$[*].userId') AS users,
       jsonb_path_query_array(r, '$[*].title') AS titles
  FROM inbox.fan_out(ARRAY['dave', 'erin'], '{"title": "Maintenance", "type": "warning"}') AS r;
SELECT jsonb_array_length(inbox.fan_out(
           ARRAY(SELECT 'fan-' || i FROM generate_series(1, 10000) AS i),
           '{"title": "Release 2.0 is out", "data": {"version": "2.0"}}')) AS fanned_out;
SELECT count(*) AS rows, count(DISTINCT user_id) AS users
  FROM inbox.notifications WHERE user_id LIKE 'fan-%';
SELECT inbox.fan_out(ARRAY[]::text[], '{"title": "nobody"}');
SELECT inbox.fan_out(NULL, '{"title": "nobody"}');
SELECT inbox.fan_out(ARRAY['x', 'y', 'x'], '{"title": "twice"}');
SELECT inbox.fan_out(ARRAY['x', NULL], '{"title": "null"}');
SELECT inbox.fan_out(ARRAY['x'], '{"userId": "x", "title": "who?"}');
SELECT inbox.fan_out(ARRAY['x'], '{"title": "x", "colour": "red"}');
SELECT count(*) AS x_rows FROM inbox.notifications WHERE user_id IN ('x', 'y');
