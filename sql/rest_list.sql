SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;
\set VERBOSITY terse

-- A page as titles plus pageInfo (cursors are signed per installation: only whether present),
-- or the SQLSTATE and message the server maps to an HTTP status.
CREATE FUNCTION pg_temp.page(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    p jsonb;
BEGIN
    EXECUTE 'SELECT ' || call INTO p;
    RETURN format('%s total=%s next=%s prev=%s cursors=%s',
        (SELECT pg_catalog.string_agg(e->>'userId' || ':' || (e->>'title'), ' ' ORDER BY o)
           FROM pg_catalog.jsonb_array_elements(p->'data') WITH ORDINALITY AS a(e, o)),
        p->'pageInfo'->>'total', p->'pageInfo'->>'hasNextPage', p->'pageInfo'->>'hasPreviousPage',
        p->'pageInfo'->>'startCursor' IS NOT NULL AND p->'pageInfo'->>'endCursor' IS NOT NULL);
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;

SELECT inbox.create_token('alice', ARRAY['notifications:read']) AS alice \gset
SELECT inbox.create_token('alice', ARRAY['notifications:read'], 'w1') AS alice_w1 \gset
SELECT inbox.create_token('app', ARRAY['notifications:send']) AS sender \gset
SELECT inbox.create_token('root', ARRAY['admin']) AS admin \gset

-- Oldest first, so the default order (newest first) reverses them.
SELECT inbox.create('alice', '{"title": "a1", "workspaceId": "w1"}') IS NOT NULL AS created;
SELECT inbox.create('alice', '{"title": "a2", "workspaceId": "w2"}') IS NOT NULL AS created;
SELECT inbox.create('alice', '{"title": "a3", "workspaceId": "w1", "type": "warning"}') IS NOT NULL AS created;
SELECT inbox.create('alice', '{"title": "a4"}') IS NOT NULL AS created;
SELECT inbox.create('bob', '{"title": "b1", "workspaceId": "w1"}') IS NOT NULL AS created;
SELECT inbox.mark_read('alice', inbox.public_id(1)) IS NOT NULL AS read;

-- The caller's rows, through inbox.list.
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{}')$$, :'alice'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, NULL)$$, :'alice'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"limit": "2"}')$$, :'alice'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"read": "false"}')$$, :'alice'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"type": "warning"}')$$, :'alice'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"workspace_id": "w1"}')$$, :'alice'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"user_id": "alice"}')$$, :'alice'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, %L)$$, :'alice',
    pg_catalog.jsonb_build_object('filter', '{"title": {"in": ["a1", "a4"]}}', 'orderBy', '[{"title": "asc"}]')));

-- The next page, from the first page's endCursor.
SELECT inbox.rest_list(:'alice', '{"limit": "2"}')->'pageInfo'->>'endCursor' AS cursor \gset
SELECT pg_temp.page(format($$inbox.rest_list(%L, %L)$$, :'alice',
    pg_catalog.jsonb_build_object('limit', '2', 'after', :'cursor')));

-- A workspace-bound token lists its workspace only, and may not ask for another.
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{}')$$, :'alice_w1'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"workspace_id": "w1"}')$$, :'alice_w1'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"workspace_id": "w2"}')$$, :'alice_w1'));

-- Other users: admins only; an admin without user_id lists every user.
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"user_id": "bob"}')$$, :'alice'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"user_id": "bob"}')$$, :'admin'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"orderBy": "[{\"title\": \"asc\"}]"}')$$, :'admin'));

-- Authentication and scope.
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{}')$$, :'sender'));
SELECT pg_temp.page($$inbox.rest_list('pgi_nope', '{}')$$);

-- Bad parameters: the engine's own 22023 messages come through.
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"limit": "0"}')$$, :'alice'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"limit": "ten"}')$$, :'alice'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"colour": "red"}')$$, :'alice'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"after": "garbage"}')$$, :'alice'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"filter": "{not json"}')$$, :'alice'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"filter": "{\"title\": {\"eq\": 1}}"}')$$, :'alice'));
SELECT pg_temp.page(format($$inbox.rest_list(%L, '{"workspace_id": ""}')$$, :'alice'));
