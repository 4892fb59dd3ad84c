-- The engine's id-ordered seek (Mastodon's and Diaspora's pages, the v2 scan) reads the user's
-- rows on the primary key from the first execution in a session. A user holding most of the
-- table's oldest rows is the case where a plan made with the user's value (PostgreSQL's first
-- five executions of a prepared statement) takes the cross-user notifications_id_idx, filtered
-- by user; the engine prepares these statements for a generic plan instead.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
DROP SCHEMA IF EXISTS test_list_id_seek CASCADE;
RESET client_min_messages;

INSERT INTO inbox.notifications (user_id, title, created_at)
SELECT 'heavy', 't' || i, '2024-01-01'::timestamptz + i * interval '1 second'
  FROM generate_series(1, 20000) AS i;
INSERT INTO inbox.notifications (user_id, title, created_at)
SELECT 'u' || (i % 50), 't' || i, '2024-02-01'::timestamptz + i * interval '1 second'
  FROM generate_series(1, 5000) AS i;
ANALYZE inbox.notifications;

-- Which indexes the page read: the scans it adds to this backend's counts not yet reported.
CREATE SCHEMA test_list_id_seek;
CREATE FUNCTION test_list_id_seek.first_page_scans(u text, max_id bigint DEFAULT NULL)
RETURNS TABLE (rows integer, id_idx bigint, pkey bigint) LANGUAGE plpgsql AS $$
BEGIN
    id_idx := -pg_stat_get_xact_numscans('inbox.notifications_id_idx'::regclass);
    pkey := -pg_stat_get_xact_numscans('inbox.notifications_pkey'::regclass);
    rows := jsonb_array_length(inbox._social_list(u, '{"limit": 40, "total": false}', 'mastodon', max_id)->'data');
    id_idx := id_idx + pg_stat_get_xact_numscans('inbox.notifications_id_idx'::regclass);
    pkey := pkey + pg_stat_get_xact_numscans('inbox.notifications_pkey'::regclass);
    RETURN NEXT;
END
$$;

\c
-- The first execution in this session: the primary key.
SELECT * FROM test_list_id_seek.first_page_scans('heavy');
\c
SELECT * FROM test_list_id_seek.first_page_scans('heavy', 15000);
\c
-- What a plan made with the heavy user's value does (as the first five were): the data above
-- is the case that needs the generic plan.
SET plan_cache_mode = force_custom_plan;
SELECT * FROM test_list_id_seek.first_page_scans('heavy');
RESET plan_cache_mode;
-- A user with few rows: the primary key too.
SELECT * FROM test_list_id_seek.first_page_scans('u7');

SET client_min_messages = warning;
DROP SCHEMA test_list_id_seek CASCADE;
