-- The planner serves inbox.list from the indexes: the default order, the read / type /
-- workspace_id / trash shorthands and keyset seeks are index scans on the user's rows with no
-- sort, and a deep keyset page reads as few buffers as the first.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
-- Helpers live in this test's own schema (and only it is on the search_path: the engine
-- qualifies every name it uses).
DROP SCHEMA IF EXISTS test_list_explain CASCADE;
CREATE SCHEMA test_list_explain;
SET search_path = test_list_explain;
RESET client_min_messages;

INSERT INTO inbox.notifications (user_id, workspace_id, type, title, read_at, deleted_at, created_at)
SELECT 'u' || (i % 20), 'w' || (i % 5), (ARRAY['info', 'warning', 'mention', 'admin.report'])[1 + i % 4],
       't' || i, CASE WHEN i % 3 = 0 THEN '2024-06-01'::timestamptz END,
       CASE WHEN i % 10 = 0 THEN '2024-06-01'::timestamptz END,
       '2024-01-01'::timestamptz + i * interval '1 minute'
  FROM generate_series(1, 40000) AS i;
INSERT INTO inbox.notifications (user_id, title, created_at)
SELECT 'heavy', 't' || i, '2024-01-01'::timestamptz + i * interval '1 second'
  FROM generate_series(1, 30000) AS i;
ANALYZE inbox.notifications;

-- What a plan does, in words that do not change with costs or row counts. (The scan of the
-- notifications: the user's marks are read before the page, by a statement of their own, and
-- bound into it.)
CREATE FUNCTION plan(user_id text, params jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    p text := inbox.list_explain(user_id, params);
BEGIN
    RETURN format('%s%s%s%s',
        coalesce(substring(p from '(Index Scan(?: Backward)? using notifications_\w+)'), 'no index scan'),
        CASE WHEN p ~ 'Index Cond: .*user_id = ' THEN ', on the user''s rows' ELSE '' END,
        CASE WHEN p ~ 'Index Cond: .*ROW\(created_at, id\) [<>] ROW\(' THEN ', seeking to the cursor' ELSE '' END,
        CASE WHEN p ~ 'Sort|Seq Scan' THEN ', SORT OR SEQ SCAN' ELSE '' END);
END
$$;
-- A cursor for the row at this position of u's default order (found with a filter; the filter
-- does not bind the cursor, the order does).
CREATE FUNCTION cursor_at(u text, created timestamptz) RETURNS text LANGUAGE sql AS $$
    SELECT inbox.list(u, jsonb_build_object('limit', 1, 'filter',
               jsonb_build_object('createdAt', jsonb_build_object('lte', inbox.iso_time(created)))))->'pageInfo'->>'endCursor'
$$;

SELECT plan('u7', '{"limit": 20}') AS default_order;
SELECT plan('u7', '{"limit": 20, "read": false}') AS unread;
SELECT plan('u7', '{"limit": 20, "type": "info"}') AS by_type;
SELECT plan('u7', '{"limit": 20, "workspace_id": "w2"}') AS by_workspace;
SELECT plan('u7', '{"limit": 20, "include_deleted": "only"}') AS trash;
SELECT plan('u7', '{"limit": 20, "filter": {"read": false}}') AS read_filter;
SELECT plan('u7', '{"limit": 20, "filter": {"type": "info"}}') AS type_filter;
SELECT plan('u7', '{"limit": 20, "filter": {"workspaceId": "w2"}}') AS workspace_filter;
SELECT plan('u7', '{"limit": 20, "orderBy": [{"createdAt": "asc"}]}') AS oldest_first;
SELECT plan('u7', jsonb_build_object('limit', 20, 'after', cursor_at('u7', '2024-01-20'))) AS after_cursor;
SELECT plan('u7', jsonb_build_object('limit', 20, 'before', cursor_at('u7', '2024-01-20'))) AS before_cursor;
SELECT plan('u7', jsonb_build_object('limit', 20, 'read', false, 'after', cursor_at('u7', '2024-01-20'))) AS unread_after_cursor;

-- A page 15,000 rows deep into a 30,000-row inbox touches about as many buffers as the first.
CREATE FUNCTION buffers(params jsonb) RETURNS int LANGUAGE sql AS $$
    SELECT (regexp_match(inbox.list_explain('heavy', params, run => true), 'Buffers: shared hit=(\d+)'))[1]::int
$$;
SELECT first_page < 10 AS first_page_is_cheap, deep_page <= first_page + 3 AS deep_page_costs_the_same
  FROM (SELECT buffers('{"limit": 20}') AS first_page,
               buffers(jsonb_build_object('limit', 20, 'after', cursor_at('heavy', '2024-01-01 04:10:00+00'))) AS deep_page) b;
SELECT jsonb_array_length(inbox.list('heavy', jsonb_build_object('limit', 20, 'after', cursor_at('heavy', '2024-01-01 04:10:00+00')))->'data') AS deep_page_rows;
