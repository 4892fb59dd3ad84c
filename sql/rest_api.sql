SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;
\set VERBOSITY terse

-- Runs one rest_* call and shows what the server would pass on, or the SQLSTATE and message
-- it maps to an HTTP status. Notifications are cut to the fields under test (times vary).
CREATE FUNCTION pg_temp.brief(n jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT pg_catalog.jsonb_build_object('id', n->'id', 'userId', n->'userId',
        'workspaceId', n->'workspaceId', 'type', n->'type', 'title', n->'title', 'read', n->'read',
        'deleted', n->'deletedAt' <> 'null')
$$;
CREATE FUNCTION pg_temp.try(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result jsonb;
BEGIN
    EXECUTE 'SELECT ' || call INTO result;
    IF result ? 'id' THEN
        RETURN pg_temp.brief(result)::text;
    ELSIF pg_catalog.jsonb_typeof(result->'data') = 'array' THEN
        RETURN pg_catalog.jsonb_build_object('data', (SELECT pg_catalog.jsonb_agg(pg_temp.brief(e) ORDER BY o)
            FROM pg_catalog.jsonb_array_elements(result->'data') WITH ORDINALITY AS a(e, o)))::text;
    END IF;
    RETURN result::text;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;

-- A notification's state in one line.
CREATE FUNCTION pg_temp.state(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    j jsonb;
BEGIN
    EXECUTE 'SELECT ' || call INTO j;
    RETURN format('%s user=%s ws=%s read=%s archived=%s deleted=%s title=%s', j->>'id', j->>'userId',
                  j->>'workspaceId', j->>'read', j->>'archived', j->>'deletedAt' IS NOT NULL, j->>'title');
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;

SELECT inbox.create_token('alice', ARRAY['notifications:read', 'notifications:write']) AS alice \gset
SELECT inbox.create_token('alice', ARRAY['notifications:read']) AS alice_ro \gset
SELECT inbox.create_token('alice', ARRAY['notifications:read', 'notifications:write'], 'w1') AS alice_w1 \gset
SELECT inbox.create_token('bob', ARRAY['notifications:read', 'notifications:write']) AS bob \gset
SELECT inbox.create_token('app', ARRAY['notifications:send']) AS sender \gset
SELECT inbox.create_token('app', ARRAY['notifications:send'], 'w1') AS sender_w1 \gset
SELECT inbox.create_token('root', ARRAY['admin']) AS admin \gset

-- ---------------------------------------------------------------------------------------------
-- rest_create: one object, an array, a fan-out
-- ---------------------------------------------------------------------------------------------
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userId": "alice", "title": "one", "workspaceId": "w1"}', NULL, '{}')$$, :'sender'));
SELECT pg_temp.state(format($$inbox.rest_create(%L, '{"userId": "alice", "title": "two", "workspaceId": "w2"}', NULL, NULL)$$, :'sender'));
SELECT pg_temp.state(format($$inbox.rest_create(%L, '{"userId": "alice", "title": "three"}', NULL, NULL)$$, :'sender'));
SELECT pg_temp.state(format($$inbox.rest_create(%L, '{"userId": "bob", "title": "bob''s"}', NULL, NULL)$$, :'sender'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '[{"userId": "carol", "title": "a"}, {"userId": "dave", "title": "b"}]', NULL, NULL)$$, :'sender'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userIds": ["erin", "frank"], "title": "fan", "type": "warning"}', NULL, NULL)$$, :'admin'));

-- Errors: scope, shape, fields (the SQL API's own messages come through).
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userId": "alice", "title": "x"}', NULL, NULL)$$, :'alice'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"title": "no recipient"}', NULL, NULL)$$, :'sender'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '"a string"', NULL, NULL)$$, :'sender'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, NULL, NULL, NULL)$$, :'sender'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '[]', NULL, NULL)$$, :'sender'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '[{"title": "x"}]', NULL, NULL)$$, :'sender'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userId": "alice", "title": 42}', NULL, NULL)$$, :'sender'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userId": "alice", "colour": "red"}', NULL, NULL)$$, :'sender'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userId": null}', NULL, NULL)$$, :'sender'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userId": "alice", "title": "%s"}', NULL, NULL)$$, :'sender', repeat('x', 1001)));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userIds": "alice"}', NULL, NULL)$$, :'sender'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userIds": ["a", 1]}', NULL, NULL)$$, :'sender'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userIds": []}', NULL, NULL)$$, :'sender'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userIds": ["a", "a"]}', NULL, NULL)$$, :'sender'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userId": "alice"}', NULL, '{"dryRun": "true"}')$$, :'sender'));
SELECT pg_temp.try($$inbox.rest_create(NULL, '{"userId": "alice"}', NULL, NULL)$$);

-- A workspace-bound sender creates only in its workspace.
SELECT pg_temp.state(format($$inbox.rest_create(%L, '{"userId": "alice", "title": "bound"}', NULL, NULL)$$, :'sender_w1'));
SELECT pg_temp.state(format($$inbox.rest_create(%L, '{"userId": "alice", "title": "bound", "workspaceId": "w1"}', NULL, NULL)$$, :'sender_w1'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userId": "alice", "workspaceId": "w2"}', NULL, NULL)$$, :'sender_w1'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userId": "alice", "workspaceId": null}', NULL, NULL)$$, :'sender_w1'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '[{"userId": "a"}, {"userId": "b", "workspaceId": "w9"}]', NULL, NULL)$$, :'sender_w1'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userIds": ["a"], "workspaceId": "w9"}', NULL, NULL)$$, :'sender_w1'));
SELECT count(*) AS notifications FROM inbox.notifications;

-- ---------------------------------------------------------------------------------------------
-- Idempotency-Key
-- ---------------------------------------------------------------------------------------------
SELECT inbox.rest_create(:'sender', '{"userId": "alice", "title": "once"}', 'key-1', NULL) AS first_response \gset
SELECT inbox.rest_create(:'sender', '{"title": "once",   "userId": "alice"}', 'key-1', NULL) = :'first_response'::jsonb AS same_response;
SELECT count(*) AS created FROM inbox.notifications WHERE title = 'once';
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userId": "alice", "title": "twice"}', 'key-1', NULL)$$, :'sender'));
-- The key belongs to the caller (the token's user): another caller's same key is a new request.
SELECT pg_temp.state(format($$inbox.rest_create(%L, '{"userId": "alice", "title": "once"}', 'key-1', NULL)$$, :'admin'));
SELECT count(*) AS created FROM inbox.notifications WHERE title = 'once';
-- A failed create keeps no key: the retry runs again.
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userId": "alice", "title": 7}', 'key-2', NULL)$$, :'sender'));
SELECT pg_temp.state(format($$inbox.rest_create(%L, '{"userId": "alice", "title": "fixed"}', 'key-2', NULL)$$, :'sender'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userId": "alice"}', '', NULL)$$, :'sender'));
SELECT pg_temp.try(format($$inbox.rest_create(%L, '{"userId": "alice"}', %L, NULL)$$, :'sender', repeat('k', 256)));
SELECT user_id, key, response->>'title' AS title FROM inbox.idempotency_keys ORDER BY user_id, key;
SELECT inbox.purge_idempotency_keys('1 hour') AS purged_recent;
SELECT inbox.purge_idempotency_keys('-1 hour') AS purged_all;

-- ---------------------------------------------------------------------------------------------
-- rest_get
-- ---------------------------------------------------------------------------------------------
SELECT inbox.public_id(1) AS n1, inbox.public_id(2) AS n2, inbox.public_id(3) AS n3,
       inbox.public_id(4) AS b1 \gset
SELECT pg_temp.state(format($$inbox.rest_get(%L, %L, '{}')$$, :'alice', :'n1'));
SELECT pg_temp.state(format($$inbox.rest_get(%L, %L, NULL)$$, :'alice_ro', :'n1'));
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{}')$$, :'alice', :'b1'));         -- bob's: 404
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{}')$$, :'alice', 'ntf_0000000000000'));
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{}')$$, :'alice', 'garbage'));
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{}')$$, :'sender', :'n1'));        -- no read scope
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{"limit": "3"}')$$, :'alice', :'n1'));
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{"include_deleted": "yes"}')$$, :'alice', :'n1'));
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{"include_deleted": 1}')$$, :'alice', :'n1'));
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '[]')$$, :'alice', :'n1'));
-- user_id: only an admin acts for another user.
SELECT pg_temp.state(format($$inbox.rest_get(%L, %L, '{"user_id": "bob"}')$$, :'admin', :'b1'));
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{}')$$, :'admin', :'b1'));         -- found by id alone
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{"user_id": "bob"}')$$, :'alice', :'b1'));
SELECT pg_temp.state(format($$inbox.rest_get(%L, %L, '{"user_id": "alice"}')$$, :'alice', :'n1'));
-- A workspace-bound token sees its workspace only.
SELECT pg_temp.state(format($$inbox.rest_get(%L, %L, '{}')$$, :'alice_w1', :'n1'));
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{}')$$, :'alice_w1', :'n2'));      -- w2: 404
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{}')$$, :'alice_w1', :'n3'));      -- none: 404
-- markRead=true marks it read in the same call; it needs the write scope.
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{"markRead": "true"}')$$, :'alice_ro', :'n1'));
SELECT pg_temp.state(format($$inbox.rest_get(%L, %L, '{"markRead": "false"}')$$, :'alice', :'n1'));
SELECT pg_temp.state(format($$inbox.rest_get(%L, %L, '{"markRead": "true"}')$$, :'alice', :'n1'));
SELECT pg_temp.state(format($$inbox.rest_get(%L, %L, '{"markRead": "true"}')$$, :'alice', :'n1'));

-- ---------------------------------------------------------------------------------------------
-- State changes
-- ---------------------------------------------------------------------------------------------
SELECT pg_temp.state(format($$inbox.rest_mark_unread(%L, %L, '{}')$$, :'alice', :'n1'));
SELECT pg_temp.state(format($$inbox.rest_mark_read(%L, %L, '{}')$$, :'alice', :'n1'));
SELECT pg_temp.try(format($$inbox.rest_mark_read(%L, %L, '{}')$$, :'alice_ro', :'n1'));  -- 42501
SELECT pg_temp.try(format($$inbox.rest_mark_read(%L, %L, '{}')$$, :'alice', :'b1'));     -- 404
SELECT pg_temp.try(format($$inbox.rest_mark_read(%L, %L, '{}')$$, :'alice_w1', :'n2'));  -- 404
SELECT pg_temp.try(format($$inbox.rest_mark_read(%L, %L, '{"x": "1"}')$$, :'alice', :'n1'));
SELECT pg_temp.state(format($$inbox.rest_mark_read(%L, %L, '{"user_id": "bob"}')$$, :'admin', :'b1'));

-- rest_patch: read and archived, nothing else.
SELECT pg_temp.state(format($$inbox.rest_patch(%L, %L, '{"read": false, "archived": true}', '{}')$$, :'alice', :'n1'));
SELECT pg_temp.state(format($$inbox.rest_patch(%L, %L, '{"archived": false}', NULL)$$, :'alice', :'n1'));
SELECT pg_temp.try(format($$inbox.rest_patch(%L, %L, '{}', NULL)$$, :'alice', :'n1'));
SELECT pg_temp.try(format($$inbox.rest_patch(%L, %L, '[true]', NULL)$$, :'alice', :'n1'));
SELECT pg_temp.try(format($$inbox.rest_patch(%L, %L, NULL, NULL)$$, :'alice', :'n1'));
SELECT pg_temp.try(format($$inbox.rest_patch(%L, %L, '{"read": "yes"}', NULL)$$, :'alice', :'n1'));
SELECT pg_temp.try(format($$inbox.rest_patch(%L, %L, '{"title": "new"}', NULL)$$, :'alice', :'n1'));
SELECT pg_temp.try(format($$inbox.rest_patch(%L, %L, '{"read": true}', NULL)$$, :'alice', :'b1'));
SELECT pg_temp.try(format($$inbox.rest_patch(%L, %L, '{"read": true}', NULL)$$, :'alice_ro', :'n1'));

-- Soft delete, restore, purge.
SELECT pg_temp.try(format($$inbox.rest_restore(%L, %L, '{}')$$, :'alice', :'n3'));      -- 55000: active
SELECT pg_temp.try(format($$inbox.rest_purge(%L, %L, '{}')$$, :'alice', :'n3'));        -- 55000: active
SELECT pg_temp.try(format($$inbox.rest_soft_delete(%L, %L, '{}')$$, :'alice', :'n3'));
SELECT pg_temp.try(format($$inbox.rest_soft_delete(%L, %L, '{}')$$, :'alice', :'n3'));  -- already: 404
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{}')$$, :'alice', :'n3'));          -- 404
SELECT pg_temp.state(format($$inbox.rest_get(%L, %L, '{"include_deleted": "true"}')$$, :'alice', :'n3'));
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{"include_deleted": "true", "markRead": "true"}')$$, :'alice', :'n3'));
SELECT pg_temp.state(format($$inbox.rest_restore(%L, %L, '{}')$$, :'alice', :'n3'));
SELECT pg_temp.try(format($$inbox.rest_soft_delete(%L, %L, '{}')$$, :'alice', :'n3'));
SELECT pg_temp.try(format($$inbox.rest_purge(%L, %L, '{}')$$, :'bob', :'n3'));          -- bob: 404
SELECT pg_temp.try(format($$inbox.rest_purge(%L, %L, '{}')$$, :'alice', :'n3'));
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{"include_deleted": "true"}')$$, :'alice', :'n3'));
SELECT pg_temp.try(format($$inbox.rest_soft_delete(%L, %L, '{}')$$, :'alice_w1', :'n2'));  -- w2: 404

-- ---------------------------------------------------------------------------------------------
-- Counts and read-all
-- ---------------------------------------------------------------------------------------------
SELECT pg_temp.try(format($$inbox.rest_unread_count(%L, '{}')$$, :'alice'));
SELECT pg_temp.try(format($$inbox.rest_unread_count(%L, '{"workspace_id": "w2"}')$$, :'alice'));
SELECT pg_temp.try(format($$inbox.rest_unread_count(%L, '{}')$$, :'alice_w1'));
SELECT pg_temp.try(format($$inbox.rest_unread_count(%L, '{"workspace_id": "w1"}')$$, :'alice_w1'));
SELECT pg_temp.try(format($$inbox.rest_unread_count(%L, '{"workspace_id": "w2"}')$$, :'alice_w1'));
SELECT pg_temp.try(format($$inbox.rest_unread_count(%L, '{"workspace_id": ""}')$$, :'alice'));
SELECT pg_temp.try(format($$inbox.rest_unread_count(%L, '{"user_id": "bob"}')$$, :'admin'));
SELECT pg_temp.try(format($$inbox.rest_unread_count(%L, '{"user_id": "bob"}')$$, :'alice'));
SELECT pg_temp.try(format($$inbox.rest_unread_count(%L, '{"unread": "true"}')$$, :'alice'));
SELECT pg_temp.try(format($$inbox.rest_unread_count(%L, '{}')$$, :'sender'));

SELECT pg_temp.try(format($$inbox.rest_read_all(%L, '{}')$$, :'alice_ro'));
SELECT pg_temp.try(format($$inbox.rest_read_all(%L, '{}')$$, :'alice_w1'));
SELECT pg_temp.try(format($$inbox.rest_read_all(%L, '{}')$$, :'alice'));
SELECT pg_temp.try(format($$inbox.rest_read_all(%L, '{}')$$, :'alice'));
SELECT pg_temp.try(format($$inbox.rest_unread_count(%L, '{}')$$, :'alice'));
SELECT pg_temp.try(format($$inbox.rest_unread_count(%L, '{}')$$, :'bob'));

-- Every rest function is documented.
SELECT p.proname FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'inbox'::regnamespace AND p.proname LIKE 'rest\_%'
   AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NULL;
