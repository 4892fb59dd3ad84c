-- inbox.list paging: every orderBy direction with NULLs, forward and backward to both ends with
-- exact pageInfo, cursors across inserts and deletes, and cursor misuse.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
-- Helpers live in this test's own schema (and only it is on the search_path: the engine
-- qualifies every name it uses).
DROP SCHEMA IF EXISTS test_list_paging CASCADE;
CREATE SCHEMA test_list_paging;
SET search_path = test_list_paging;
RESET client_min_messages;

INSERT INTO inbox.notifications (user_id, title, group_key, workspace_id, read_at, type, created_at)
VALUES
    ('u1', 'r1', 'b',  'w1', NULL,                  'info',    '2024-01-01 00:00+00'),
    ('u1', 'r2', NULL, 'w2', '2024-02-05 00:00+00', 'info',    '2024-01-02 00:00+00'),
    ('u1', 'r3', 'a',  NULL, NULL,                  'warning', '2024-01-02 00:00+00'),
    ('u1', 'r4', 'b',  'w1', '2024-02-06 00:00+00', 'info',    '2024-01-03 00:00+00'),
    ('u1', 'r5', NULL, NULL, NULL,                  'mention', '2024-01-03 00:00+00'),
    ('u1', 'r6', 'c',  'w2', '2024-02-07 00:00+00', 'info',    '2024-01-04 00:00+00'),
    ('u1', 'r7', 'a',  'w1', NULL,                  'info',    '2024-01-04 00:00+00'),
    ('u1', 'r8', NULL, 'w3', '2024-02-08 00:00+00', 'warning', '2024-01-05 00:00+00'),
    ('u1', 'r9', 'b',  NULL, NULL,                  'info',    '2024-01-05 00:00+00'),
    ('u2', 'x1', 'a',  'w1', NULL,                  'info',    '2024-01-03 00:00+00');
INSERT INTO inbox.notifications (user_id, title, deleted_at, created_at)
VALUES ('u1', 'gone', '2024-03-01 00:00+00', '2024-01-03 00:00+00');

CREATE FUNCTION titles(page jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(e->>'title', ',' ORDER BY o), '-')
      FROM jsonb_array_elements(page->'data') WITH ORDINALITY AS a(e, o)
$$;
CREATE FUNCTION info(page jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT format('next=%s prev=%s total=%s cursors=%s',
                  page->'pageInfo'->>'hasNextPage', page->'pageInfo'->>'hasPreviousPage',
                  page->'pageInfo'->>'total',
                  CASE WHEN page->'pageInfo'->'startCursor' = 'null' AND page->'pageInfo'->'endCursor' = 'null' THEN 'null'
                       WHEN jsonb_typeof(page->'pageInfo'->'startCursor') = 'string'
                        AND jsonb_typeof(page->'pageInfo'->'endCursor') = 'string' THEN 'set'
                       ELSE 'mixed' END)
$$;

-- Pages forward from the first page to past the end, then backward from there to before the
-- start; each line is one page.
CREATE FUNCTION walk(params jsonb) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    page jsonb := inbox.list('u1', params);
    edge jsonb;
    n int := 0;
BEGIN
    LOOP
        n := n + 1;
        RETURN NEXT format('fwd  %-12s %s', titles(page), info(page));
        edge := page;
        EXIT WHEN NOT (page->'pageInfo'->>'hasNextPage')::boolean OR n > 20;
        page := inbox.list('u1', params || jsonb_build_object('after', page->'pageInfo'->>'endCursor'));
    END LOOP;
    page := inbox.list('u1', params || jsonb_build_object('after', edge->'pageInfo'->>'endCursor'));
    RETURN NEXT format('past %-12s %s', titles(page), info(page));
    page := edge;
    n := 0;
    LOOP
        EXIT WHEN NOT (page->'pageInfo'->>'hasPreviousPage')::boolean OR n > 20;
        n := n + 1;
        page := inbox.list('u1', params || jsonb_build_object('before', page->'pageInfo'->>'startCursor'));
        RETURN NEXT format('back %-12s %s', titles(page), info(page));
    END LOOP;
    page := inbox.list('u1', params || jsonb_build_object('before', page->'pageInfo'->>'startCursor'));
    RETURN NEXT format('pre  %-12s %s', titles(page), info(page));
END
$$;

-- The engine's whole order, against the same order written in SQL.
CREATE FUNCTION same_order(params jsonb, order_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    engine text := titles(inbox.list('u1', params || '{"limit": 100}'));
    reference text;
BEGIN
    EXECUTE format('SELECT string_agg(title, '','' ORDER BY %s) FROM inbox.notifications n
                     WHERE user_id = ''u1'' AND deleted_at IS NULL', order_sql) INTO reference;
    RETURN CASE WHEN engine = reference THEN engine ELSE format('MISMATCH engine %s, SQL %s', engine, reference) END;
END
$$;

-- default: newest first, id descending breaks the ties
SELECT same_order('{}', 'created_at DESC, id DESC');
SELECT walk('{"limit": 2}');
SELECT walk('{"limit": 4}');
SELECT walk('{"limit": 100}');

SELECT same_order('{"orderBy": [{"createdAt": "asc"}]}', 'created_at, id');
SELECT walk('{"limit": 3, "orderBy": [{"createdAt": "asc"}]}');

-- a nullable key in each of the four placements
SELECT same_order('{"orderBy": [{"groupKey": "asc"}]}', 'group_key ASC NULLS LAST, id ASC');
SELECT walk('{"limit": 2, "orderBy": [{"groupKey": "asc"}]}');
SELECT same_order('{"orderBy": [{"groupKey": "desc"}]}', 'group_key DESC NULLS FIRST, id DESC');
SELECT walk('{"limit": 2, "orderBy": [{"groupKey": "desc"}]}');
SELECT same_order('{"orderBy": [{"groupKey": "asc_nulls_first"}]}', 'group_key ASC NULLS FIRST, id ASC');
SELECT walk('{"limit": 2, "orderBy": [{"groupKey": "asc_nulls_first"}]}');
SELECT same_order('{"orderBy": [{"groupKey": "desc_nulls_last"}]}', 'group_key DESC NULLS LAST, id DESC');
SELECT walk('{"limit": 2, "orderBy": [{"groupKey": "desc_nulls_last"}]}');
SELECT same_order('{"orderBy": {"groupKey": "asc_nulls_last"}}', 'group_key ASC NULLS LAST, id ASC') AS single_object;
SELECT same_order('{"orderBy": [{"groupKey": "desc_nulls_first"}]}', 'group_key DESC NULLS FIRST, id DESC');

-- mixed directions, two nullable keys, a flag, text keys
SELECT same_order('{"orderBy": [{"workspaceId": "asc"}, {"createdAt": "desc"}]}', 'workspace_id ASC NULLS LAST, created_at DESC, id DESC');
SELECT walk('{"limit": 2, "orderBy": [{"workspaceId": "asc"}, {"createdAt": "desc"}]}');
SELECT same_order('{"orderBy": [{"readAt": "desc_nulls_last"}, {"groupKey": "asc_nulls_first"}]}', 'read_at DESC NULLS LAST, group_key ASC NULLS FIRST, id ASC');
SELECT walk('{"limit": 2, "orderBy": [{"readAt": "desc_nulls_last"}, {"groupKey": "asc_nulls_first"}]}');
SELECT same_order('{"orderBy": [{"groupKey": "asc_nulls_first"}, {"workspaceId": "desc_nulls_last"}]}', 'group_key ASC NULLS FIRST, workspace_id DESC NULLS LAST, id DESC');
SELECT walk('{"limit": 3, "orderBy": [{"groupKey": "asc_nulls_first"}, {"workspaceId": "desc_nulls_last"}]}');
SELECT same_order('{"orderBy": [{"read": "asc"}, {"createdAt": "desc"}]}', 'read_at IS NOT NULL, created_at DESC, id DESC');
SELECT walk('{"limit": 2, "orderBy": [{"read": "asc"}, {"createdAt": "desc"}]}');
SELECT same_order('{"orderBy": [{"type": "asc"}, {"title": "desc"}]}', 'type, title DESC, id DESC');
SELECT walk('{"limit": 2, "orderBy": [{"type": "asc"}, {"title": "desc"}]}');
SELECT same_order('{"orderBy": [{"id": "asc"}]}', 'id');
SELECT walk('{"limit": 4, "orderBy": [{"id": "asc"}]}');
SELECT same_order('{"orderBy": [{"groupKey": "asc"}, {"id": "desc"}, {"title": "asc"}]}', 'group_key ASC NULLS LAST, id DESC') AS keys_after_id_are_moot;

-- filters and shorthands page the same way, with the total of the filtered rows
SELECT walk('{"limit": 2, "read": false, "orderBy": [{"groupKey": "asc_nulls_first"}]}');
SELECT walk('{"limit": 1, "filter": {"workspaceId": {"in": ["w1", "w2"]}}, "orderBy": [{"workspaceId": "desc"}]}');
SELECT walk('{"limit": 2, "include_deleted": true, "type": "info"}');

-- a cursor is a position: it still works after its row is deleted
CREATE TABLE saved AS SELECT inbox.list('u1', '{"limit": 3}') AS page;
SELECT titles(page) FROM saved;
DELETE FROM inbox.notifications WHERE title = 'r7';
SELECT titles(p), info(p) FROM saved, inbox.list('u1', jsonb_build_object('limit', 3, 'after', page->'pageInfo'->>'endCursor')) AS p;
SELECT titles(p), info(p) FROM saved, inbox.list('u1', jsonb_build_object('limit', 3, 'before', page->'pageInfo'->>'endCursor')) AS p;

-- rows inserted between pages: the next page continues where the last ended; paging back
-- reports the newer rows
INSERT INTO inbox.notifications (user_id, title, created_at)
VALUES ('u1', 'new1', '2024-06-01 00:00+00'), ('u1', 'new2', '2024-01-03 12:00+00');
SELECT titles(p), info(p) FROM saved, inbox.list('u1', jsonb_build_object('limit', 3, 'after', page->'pageInfo'->>'endCursor')) AS p;
SELECT titles(p), info(p) FROM saved, inbox.list('u1', jsonb_build_object('limit', 3, 'before', page->'pageInfo'->>'startCursor')) AS p;

-- a cursor is bound to its orderBy; the same order spelled differently is the same order
SELECT titles(p) AS explicit_default FROM saved, inbox.list('u1', jsonb_build_object('limit', 2, 'orderBy', '[{"createdAt": "desc"}]'::jsonb, 'after', page->'pageInfo'->>'endCursor')) AS p;
SELECT titles(p) AS not_null_key_nulls_ignored FROM saved, inbox.list('u1', jsonb_build_object('limit', 2, 'orderBy', '[{"createdAt": "desc_nulls_last"}]'::jsonb, 'after', page->'pageInfo'->>'endCursor')) AS p;
SELECT inbox.list('u1', jsonb_build_object('orderBy', '[{"createdAt": "asc"}]'::jsonb, 'after', page->'pageInfo'->>'endCursor')) FROM saved;
SELECT inbox.list('u1', jsonb_build_object('orderBy', '[{"groupKey": "desc"}]'::jsonb, 'before', page->'pageInfo'->>'endCursor')) FROM saved;

-- tampered, truncated, garbage
SELECT inbox.list('u1', jsonb_build_object('after',
           overlay(c placing CASE WHEN substr(c, 12, 1) = 'A' THEN 'B' ELSE 'A' END from 12 for 1)))
  FROM (SELECT page->'pageInfo'->>'endCursor' AS c FROM saved) s;
SELECT inbox.list('u1', jsonb_build_object('after', left(c, length(c) - 1)))
  FROM (SELECT page->'pageInfo'->>'endCursor' AS c FROM saved) s;
SELECT inbox.list('u1', jsonb_build_object('after', c || 'A'))
  FROM (SELECT page->'pageInfo'->>'endCursor' AS c FROM saved) s;
SELECT inbox.list('u1', '{"after": "garbage!"}');
SELECT inbox.list('u1', '{"after": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}');
SELECT inbox.list('u1', '{"before": ""}');
SELECT inbox.list('u1', '{"after": 12}');
SELECT inbox.list('u1', jsonb_build_object('after', c, 'before', c))
  FROM (SELECT page->'pageInfo'->>'endCursor' AS c FROM saved) s;
-- a cursor made by another installation (another secret) is refused
BEGIN;
DELETE FROM inbox.cursor_secrets;
INSERT INTO inbox.cursor_secrets DEFAULT VALUES;
SELECT inbox.list('u1', jsonb_build_object('after', page->'pageInfo'->>'endCursor')) FROM saved;
ROLLBACK;
BEGIN;
DELETE FROM inbox.cursor_secrets;
SELECT inbox.list('u1', jsonb_build_object('after', page->'pageInfo'->>'endCursor')) FROM saved;
ROLLBACK;

-- orderBy errors
SELECT inbox.list('u1', '{"orderBy": [{"createdAt": "up"}]}');
SELECT inbox.list('u1', '{"orderBy": [{"createdAt": "desc", "title": "asc"}]}');
SELECT inbox.list('u1', '{"orderBy": [{"colour": "asc"}]}');
SELECT inbox.list('u1', '{"orderBy": [{"data": "asc"}]}');
SELECT inbox.list('u1', '{"orderBy": [{"title": "asc"}, {"title": "desc"}]}');
SELECT inbox.list('u1', '{"orderBy": "createdAt"}');
SELECT inbox.list('u1', '{"orderBy": 5}');
SELECT titles(inbox.list('u1', '{"limit": 3, "orderBy": "[{\"title\": \"asc\"}]"}')) AS order_as_string;

-- limit
SELECT titles(inbox.list('u1', '{"limit": "2"}')) AS limit_string;
SELECT jsonb_array_length(inbox.list('u1', '{"limit": 100}')->'data') AS limit_100;
SELECT inbox.list('u1', '{"limit": 0}');
SELECT inbox.list('u1', '{"limit": 101}');
SELECT inbox.list('u1', '{"limit": -1}');
SELECT inbox.list('u1', '{"limit": 2.5}');
SELECT inbox.list('u1', '{"limit": "ten"}');
SELECT inbox.list('u1', '{"limit": 18446744073709551615}');
