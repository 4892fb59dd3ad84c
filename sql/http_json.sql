-- inbox.http_json: a REST response's text as the HTTP server sends it. jsonb's own text form,
-- except that every notification lists its keys in the order of the API shape (the README's and
-- seed 002's: id, userId, workspaceId, type, title, body, data, read, readAt, ...) instead of
-- jsonb's (id, body, data, item, read, type, ...).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
DROP SCHEMA IF EXISTS app_http_json CASCADE;
CREATE SCHEMA app_http_json;
RESET client_min_messages;

-- Fixed times, so whole texts can be shown.
INSERT INTO inbox.notifications (user_id, workspace_id, type, title, body, data, actor_id,
                                 collection, item, group_key, read_at, created_at, updated_at)
VALUES ('u1', 'w1', 'info', 'Build finished', 'main is green', '{"build": 42}', 'ci-bot',
        'builds', '42', NULL, NULL, '2026-11-22 02:16:28.536607+00', '2026-11-22 02:16:28.536607+00'),
       ('u1', NULL, 'mention', 'Tricky "text"', E'tab\there, back\\slash, \u00e9, \u0001',
        '{"n": [1, 2.50, 1e3, -0.0, 12345678901234567890], "s": "\u2603 \"q\"", "e": {}, "a": [],
          "nested": {"z": null, "b": true, "a": false}}',
        NULL, NULL, NULL, 'g1', '2026-11-22 03:00:00+00', '2026-11-22 02:20:00+00', '2026-11-22 03:00:00+00');

-- Every ASCII character in text, for the escapes.
INSERT INTO inbox.notifications (user_id, title, body, created_at, updated_at)
SELECT 'u3', string_agg(chr(i), '' ORDER BY i), 'x' || chr(127) || chr(233) || '\u00e9', '2026-11-22 04:00:00+00', '2026-11-22 04:00:00+00'
  FROM generate_series(1, 127) AS i;

-- One notification: the documented order, jsonb's spacing, numbers and escapes.
SELECT inbox.http_json(inbox.to_json(n)) FROM inbox.notifications n ORDER BY n.id;

-- Exactly jsonb's text of each member, after jsonb's text of its key, in the registry's order.
SELECT n.id, inbox.http_json(inbox.to_json(n)) =
       '{' || (SELECT string_agg(format('%s: %s', to_json(r.name), inbox.to_json(n) -> r.name), ', '
                                 ORDER BY r.ordinal)
                 FROM inbox.field_registry() r) || '}' AS registry_order_jsonb_text
  FROM inbox.notifications n ORDER BY n.id;

-- A page: each notification of "data" in order, pageInfo as jsonb writes it (its signed cursors
-- differ from one installation to the next: not shown).
CREATE FUNCTION pg_temp.no_cursors(t text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(t, '"(start|end)Cursor": "[^"]*"', '"\1Cursor": "..."', 'g')
$$;
SELECT pg_temp.no_cursors(inbox.http_json(inbox.list('u1', '{"limit": 1}')));
SELECT inbox.http_json(p)::jsonb = p AS same_value FROM inbox.list('u1') AS p;

-- With expand, "expanded" comes last, and the related rows keep jsonb's order.
CREATE TABLE app_http_json.users (id text PRIMARY KEY, name text, a integer);
INSERT INTO app_http_json.users VALUES ('ci-bot', 'CI', 1);
SELECT inbox.define_relation('actor', 'actorId', 'app_http_json.users') IS NOT NULL AS defined;
SELECT pg_temp.no_cursors(inbox.http_json(
           inbox.list('u1', '{"ids": "ntf_9wtr4mfdtxq5z", "expand": "actor", "total": false}')));

-- The REST functions: one notification, {"data": [...]} of created ones, and answers that hold
-- no notification, written exactly as jsonb writes them.
SELECT inbox.create_token('u1', ARRAY['notifications:read', 'notifications:write', 'notifications:send']) AS token \gset
SELECT json_object_keys(inbox.http_json(inbox.rest_get(:'token', inbox.public_id(1), '{}'))::json) AS key LIMIT 5;
SELECT (SELECT array_agg(k) FROM json_object_keys(e) AS k) = (SELECT array_agg(name ORDER BY ordinal) FROM inbox.field_registry()) AS registry_order
  FROM json_array_elements(inbox.http_json(inbox.rest_create(:'token', '[{"userId": "u1", "title": "a"}, {"userId": "u1", "title": "b"}]', NULL, '{}'))::json->'data') AS e;
SELECT r = r0::text AS as_jsonb, left(r, 20) AS starts
  FROM (VALUES (inbox.rest_unread_count(:'token', '{}')),
               (inbox.rest_groups(:'token', '{"limit": 1, "total": false}')),
               (inbox.rest_types(:'token', '{}')),
               (inbox.rest_soft_delete(:'token', inbox.public_id(2), '{}'))) AS v(r0),
       LATERAL (SELECT inbox.http_json(r0)) AS h(r);

-- Only a notification is reordered: an object with one key more or less than the API shape, a
-- notification anywhere but the response itself or its top-level "data" array (under another
-- key, in a nested array, as "data" itself, in a bare array) keeps jsonb's order.
CREATE TEMP TABLE one AS SELECT inbox.to_json(n) AS j FROM inbox.notifications n WHERE n.id = 1;
SELECT inbox.http_json(v) = v::text AS as_jsonb, left(inbox.http_json(v), 40) AS starts
  FROM one, LATERAL (VALUES (j || '{"extra": 1}'), (j - 'title'), (j || '{"expanded": 1, "extra": 1}'),
                            (jsonb_build_object('items', jsonb_build_array(j))),
                            (jsonb_build_object('data', jsonb_build_array(jsonb_build_array(j)))),
                            (jsonb_build_object('data', j)),
                            (jsonb_build_array(j))) AS x(v);
-- So does one inside the data of a notification that is reordered.
SELECT inbox.http_json(v) AS text
  FROM one, LATERAL (VALUES (jsonb_set(j, '{data}', jsonb_build_object('inner', j - 'data')))) AS x(v);

-- Anything else: jsonb's text form, unchanged.
SELECT inbox.http_json(v) = v::text AS as_jsonb, inbox.http_json(v)
  FROM (VALUES ('{}'::jsonb), ('[]'), ('"x"'), ('1.500'), ('null'), ('true'), ('{"data": []}'),
               ('{"data": [1, "two", null, {"b": 1, "a": [{}]}], "pageInfo": {"total": null}}'),
               ('[{"b": 1, "a": 2}, "\u00e9\n"]')) AS t(v);
SELECT inbox.http_json(NULL) IS NULL AS strict;
