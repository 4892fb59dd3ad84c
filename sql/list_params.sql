-- inbox.list params: shorthands, include_deleted modes, ids, totals (from the counters or
-- counted), params given as URL strings, inbox.list_all, and every params error.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
-- Helpers live in this test's own schema (and only it is on the search_path: the engine
-- qualifies every name it uses).
DROP SCHEMA IF EXISTS test_list_params CASCADE;
CREATE SCHEMA test_list_params;
SET search_path = test_list_params;
RESET client_min_messages;

INSERT INTO inbox.notifications (user_id, title, workspace_id, type, read_at, deleted_at, created_at)
VALUES
    ('u1', 'a', 'w1', 'info',    NULL,     NULL,     '2024-01-01'),
    ('u1', 'b', 'w1', 'warning', now(),    NULL,     '2024-01-02'),
    ('u1', 'c', 'w2', 'info',    NULL,     NULL,     '2024-01-03'),
    ('u1', 'd', NULL, 'info',    now(),    NULL,     '2024-01-04'),
    ('u1', 'e', 'w1', 'info',    NULL,     now(),    '2024-01-05'),
    ('u1', 'f', 'w2', 'warning', now(),    now(),    '2024-01-06'),
    ('u2', 'g', 'w1', 'info',    NULL,     NULL,     '2024-01-07'),
    ('u2', 'h', NULL, 'warning', NULL,     now(),    '2024-01-08');

CREATE FUNCTION titles(page jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(e->>'title', ',' ORDER BY o), '-')
      FROM jsonb_array_elements(page->'data') WITH ORDINALITY AS a(e, o)
$$;
CREATE FUNCTION show(params jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT titles(p) || ' total=' || (p->'pageInfo'->>'total') FROM inbox.list('u1', params) AS p
$$;

-- the result: data in the API shape, pageInfo with exactly its five fields
SELECT jsonb_object_keys(inbox.list('u1')) AS result_keys;
SELECT jsonb_object_keys(inbox.list('u1')->'pageInfo') AS page_info_keys;
SELECT (SELECT inbox.list('u1', '{"limit": 1}')->'data'->0) =
       (SELECT inbox.to_json(n) FROM inbox.notifications n WHERE title = 'd') AS rows_are_to_json;
SELECT show(NULL) AS null_params, show('{}') AS empty_params;

-- shorthands, typed or as URL strings
SELECT show('{"workspace_id": "w1"}') AS w1, show('{"workspace_id": "w3"}') AS w3;
SELECT show('{"read": true}') AS read, show('{"read": "false"}') AS unread;
SELECT show('{"type": "info"}') AS info, show('{"type": "warning", "read": "true"}') AS read_warnings;
SELECT show('{"include_deleted": false}') AS active, show('{"include_deleted": "false"}') AS active_s;
SELECT show('{"include_deleted": true}') AS all_rows, show('{"include_deleted": "true"}') AS all_rows_s;
SELECT show('{"include_deleted": "only"}') AS trash, show('{"include_deleted": "only", "workspace_id": "w2"}') AS trash_w2;
SELECT show('{"include_deleted": true, "read": false}') AS all_unread;
SELECT show('{"include_deleted": "only", "read": true}') AS trash_read;
SELECT show('{"user_id": "u1"}') AS own_user_id, show('{"user_id": "u2"}') AS other_user_id;
SELECT show('{"workspace_id": null, "read": null, "filter": null, "orderBy": null, "after": null}') AS nulls_are_absent;

-- totals: the counters answer the shorthand-only requests in O(1), count(*) the rest. Skewing
-- the counters shows which one answered.
UPDATE inbox.user_counters SET active = active + 1000, unread = unread + 100, deleted = deleted + 10000 WHERE user_id = 'u1';
UPDATE inbox.workspace_counters SET active = active + 1000, unread = unread + 100, deleted = deleted + 10000 WHERE user_id = 'u1' AND workspace_id = 'w1';
SELECT p AS params, inbox.list('u1', p::jsonb)->'pageInfo'->>'total' AS total
  FROM unnest(ARRAY[
    '{}', '{"read": false}', '{"read": true}', '{"include_deleted": true}', '{"include_deleted": "only"}',
    '{"workspace_id": "w1"}', '{"workspace_id": "w1", "read": false}', '{"workspace_id": "w1", "include_deleted": "only"}',
    '{"workspace_id": "w9"}', '{"after": null, "limit": 1}',
    '{"include_deleted": true, "read": false}', '{"type": "info"}', '{"filter": {"title": {"isNull": false}}}',
    '{"ids": "ntf_9wtr4mfdtxq5z"}', '{"user_id": "u2"}']) AS p;
SELECT inbox.list('nobody')->'pageInfo' AS user_without_rows;
SELECT inbox.rebuild_counters();
-- with exact counters both ways agree, for every shorthand combination
SELECT count(*) AS combinations, count(*) FILTER (WHERE counted <> listed) AS disagreeing
  FROM (SELECT (inbox.list('u1', p)->'pageInfo'->>'total')::bigint AS listed,
               (SELECT count(*) FROM inbox.notifications n
                 WHERE n.user_id = 'u1'
                   AND (p->>'workspace_id' IS NULL OR n.workspace_id = p->>'workspace_id')
                   AND (p->>'read' IS NULL OR (n.read_at IS NOT NULL) = (p->>'read')::boolean)
                   AND CASE p->>'include_deleted' WHEN 'only' THEN n.deleted_at IS NOT NULL
                                                  WHEN 'true' THEN true ELSE n.deleted_at IS NULL END) AS counted
          FROM (SELECT jsonb_strip_nulls(jsonb_build_object('workspace_id', w, 'read', r, 'include_deleted', d)) AS p
                  FROM unnest(ARRAY[NULL, 'w1', 'w2', 'w9']) AS w,
                       unnest(ARRAY[NULL, 'true', 'false']) AS r,
                       unnest(ARRAY[NULL, 'false', 'true', 'only']) AS d) c) t;

-- ids narrow within the caller's rows, never widen
SELECT show(jsonb_build_object('ids', jsonb_build_array(inbox.public_id(1), inbox.public_id(3)))) AS ids_array;
SELECT show(jsonb_build_object('ids', inbox.public_id(1) || ',' || inbox.public_id(4))) AS ids_comma_string;
SELECT show(jsonb_build_object('ids', inbox.public_id(7))) AS another_users_id;
SELECT show(jsonb_build_object('ids', inbox.public_id(5))) AS deleted_id_hidden;
SELECT show(jsonb_build_object('ids', inbox.public_id(5), 'include_deleted', true)) AS deleted_id_shown;
SELECT show(jsonb_build_object('ids', jsonb_build_array(inbox.public_id(1), inbox.public_id(1)))) AS repeated_id;
SELECT show(jsonb_build_object('ids', jsonb_build_array(inbox.public_id(1), inbox.public_id(3), inbox.public_id(4)), 'read', false)) AS ids_and_read;
SELECT show(jsonb_build_object('ids', jsonb_build_array(inbox.public_id(1), inbox.public_id(3)), 'filter', '{"workspaceId": "w2"}'::jsonb)) AS ids_and_filter;
SELECT inbox.list('u1', '{"ids": ["ntf_9wtr4mfdtxq5z", "ntf_xxx"]}');
SELECT inbox.list('u1', '{"ids": "ntf_9wtr4mfdtxq5z,,ntf_4j05m11ps85cf"}');
SELECT inbox.list('u1', '{"ids": ""}');
SELECT inbox.list('u1', '{"ids": []}');
SELECT inbox.list('u1', '{"ids": [1]}');
SELECT inbox.list('u1', '{"ids": 1}');
SELECT inbox.list('u1', jsonb_build_object('ids', (SELECT jsonb_agg(inbox.public_id(i)) FROM generate_series(1, 1001) i)));

-- the admin listing across users
SELECT titles(inbox.list_all()) AS everyone, inbox.list_all()->'pageInfo'->>'total' AS total;
SELECT titles(inbox.list_all('{"user_id": "u2", "include_deleted": true}')) AS one_user;
SELECT titles(inbox.list_all('{"filter": {"userId": {"in": ["u2"]}}, "type": "info"}')) AS user_filter;
SELECT titles(inbox.list_all('{"workspace_id": "w1", "orderBy": [{"userId": "desc"}, {"createdAt": "asc"}]}')) AS ordered_by_user;
SELECT titles(inbox.list_all(jsonb_build_object('limit', 2, 'after', inbox.list_all('{"limit": 2}')->'pageInfo'->>'endCursor'))) AS page_two;
SELECT has_function_privilege('public', 'inbox.list_all(jsonb)', 'EXECUTE') AS public_may_list_all;

-- total => false skips the count (pageInfo.total is null); the page is the same
SELECT titles(p), p->'pageInfo'->'total' AS total, p->'pageInfo'->>'hasNextPage' AS next
  FROM inbox.list('u1', '{"limit": 2, "total": false, "filter": {"type": "info"}}') AS p;
SELECT titles(p), p->'pageInfo'->'total' AS total
  FROM inbox.list('u1', '{"limit": 2, "total": "true", "filter": {"type": "info"}}') AS p;
SELECT inbox.list('u1', '{"total": "yes"}');

-- params errors
SELECT inbox.list(NULL);
SELECT inbox.list('u1', '[]');
SELECT inbox.list('u1', '{"limt": 5}');
SELECT inbox.list('u1', '{"workspaceId": "w1"}');
SELECT inbox.list('u1', '{"workspace_id": ""}');
SELECT inbox.list('u1', '{"workspace_id": 5}');
SELECT inbox.list('u1', jsonb_build_object('workspace_id', repeat('w', 256)));
SELECT inbox.list('u1', '{"read": "yes"}');
SELECT inbox.list('u1', '{"read": 1}');
SELECT inbox.list('u1', '{"include_deleted": "maybe"}');
SELECT inbox.list('u1', '{"include_deleted": "ONLY"}');
SELECT inbox.list('u1', '{"type": ["info"]}');
SELECT inbox.list('u1', '{"user_id": ""}');
-- grouped_types[] splits groups; a list has none
SELECT inbox.list('u1', '{"grouped_types": ["info"]}');
SELECT jsonb_path_query_array(inbox.groups('u1', '{"grouped_types": "info"}'), '$.data[*].groupKey') AS keys;

-- the registry the filter language reads
SELECT name, column_name, kind, sortable, nullable FROM inbox.fields() ORDER BY name;
