-- Issue 12 item 9: an admin token names a notification by its id alone. Without user_id the
-- native routes of one notification find its owner by one look-up of notifications_id_idx;
-- the Directus routes did so already. Never "not found" for a row that exists.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;
\set VERBOSITY terse

-- A call's answer in one line: the notification's state, another answer as it is, or the
-- SQLSTATE, message and hint the server maps to an HTTP status.
CREATE FUNCTION pg_temp.try(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    j jsonb;
    hint text;
BEGIN
    EXECUTE 'SELECT (' || call || ')::jsonb' INTO j;
    IF j ? 'userId' THEN
        RETURN format('%s user=%s read=%s archived=%s deleted=%s', j->>'id', j->>'userId',
                      j->>'read', j->>'archived', j->>'deletedAt' IS NOT NULL);
    ELSIF j->'data' ? 'recipient' THEN
        RETURN format('directus id=%s recipient=%s status=%s', j->'data'->>'id',
                      j->'data'->>'recipient', j->'data'->>'status');
    END IF;
    RETURN coalesce(j::text, 'null');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ' ' || SQLERRM || CASE WHEN hint <> '' THEN ' (hint: ' || hint || ')' ELSE '' END;
END
$$;

SELECT inbox.create_token('root', ARRAY['admin']) AS admin \gset
SELECT inbox.create_token('root', ARRAY['admin'], 'w1') AS admin_w1 \gset
SELECT inbox.create_token('alice', ARRAY['notifications:read', 'notifications:write']) AS alice \gset
SELECT inbox.create('bob', '{"title": "bob 1"}')->>'id' AS b1 \gset
SELECT inbox.create('bob', '{"title": "bob 2", "workspaceId": "w1"}')->>'id' AS b2 \gset
SELECT inbox.create('root', '{"title": "the admin''s own"}')->>'id' AS r1 \gset

-- ---------------------------------------------------------------------------------------------
-- Every native route of one notification, as an admin without user_id: bob's row is found.
-- ---------------------------------------------------------------------------------------------
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, NULL)$$, :'admin', :'b1')) AS get;
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{"markRead": "true"}')$$, :'admin', :'b1')) AS get_mark_read;
SELECT pg_temp.try(format($$inbox.rest_mark_unread(%L, %L, NULL)$$, :'admin', :'b1')) AS unread;
SELECT pg_temp.try(format($$inbox.rest_mark_read(%L, %L, '{}')$$, :'admin', :'b1')) AS read;
SELECT pg_temp.try(format($$inbox.rest_patch(%L, %L, '{"read": false, "archived": true}', NULL)$$, :'admin', :'b1')) AS patch;
SELECT pg_temp.try(format($$inbox.rest_soft_delete(%L, %L, NULL)$$, :'admin', :'b1')) AS soft_delete;
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, NULL)$$, :'admin', :'b1')) AS get_deleted;  -- as for its owner
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{"include_deleted": "true"}')$$, :'admin', :'b1')) AS get_include_deleted;
SELECT pg_temp.try(format($$inbox.rest_restore(%L, %L, NULL)$$, :'admin', :'b1')) AS restore;
SELECT pg_temp.try(format($$inbox.rest_purge(%L, %L, NULL)$$, :'admin', :'b1')) AS purge_active;  -- 55000, as for its owner
SELECT pg_temp.try(format($$inbox.rest_soft_delete(%L, %L, NULL)$$, :'admin', :'b1')) AS soft_delete;
SELECT pg_temp.try(format($$inbox.rest_purge(%L, %L, NULL)$$, :'admin', :'b1')) AS purge;
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{"include_deleted": "true"}')$$, :'admin', :'b1')) AS purged_is_gone;
SELECT inbox.unread_count('bob') AS bob_unread, (SELECT unread FROM inbox.user_counters WHERE user_id = 'bob') AS counter;

-- The admin's own rows, as before; user_id still narrows to one user (and another user's row
-- is then not found, as for anyone naming the wrong user).
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, NULL)$$, :'admin', :'r1')) AS own;
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{"user_id": "bob"}')$$, :'admin', :'b2')) AS with_user_id;
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{"user_id": "carol"}')$$, :'admin', :'b2')) AS wrong_user_id;
-- No such id: not found. Not an id: 22023.
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, NULL)$$, :'admin', inbox.public_id(999999))) AS unknown;
SELECT pg_temp.try(format($$inbox.rest_mark_read(%L, %L, NULL)$$, :'admin', 'ntf_garbage')) AS malformed;
-- A workspace-bound admin token finds rows of its workspace only.
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, NULL)$$, :'admin_w1', :'b2')) AS w1_in_workspace;
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, NULL)$$, :'admin_w1', :'r1')) AS w1_outside;
-- Any other token: another user's notification is not found, whether or not it exists.
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, NULL)$$, :'alice', :'b2')) AS not_an_admin;
SELECT pg_temp.try(format($$inbox.rest_patch(%L, %L, '{"read": true}', NULL)$$, :'alice', :'b2')) AS not_an_admin_patch;

-- An id held by two users (only rows inserted with OVERRIDING SYSTEM VALUE can be): the admin
-- is asked to name the user, and naming one works.
INSERT INTO inbox.notifications (user_id, id, title) OVERRIDING SYSTEM VALUE
VALUES ('carol', inbox.internal_id(:'b2'), 'same id');
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, NULL)$$, :'admin', :'b2')) AS ambiguous;
SELECT pg_temp.try(format($$inbox.rest_soft_delete(%L, %L, NULL)$$, :'admin', :'b2')) AS ambiguous_change;
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{"user_id": "carol"}')$$, :'admin', :'b2')) AS named;
DELETE FROM inbox.notifications WHERE user_id = 'carol';

-- The look-up is one probe of notifications_id_idx.
SELECT inbox.fan_out_count(ARRAY(SELECT 'u' || i FROM generate_series(1, 2000) AS i), '{"title": "many"}');
ANALYZE inbox.notifications;
EXPLAIN (COSTS OFF)
SELECT n.user_id FROM inbox.notifications n WHERE n.id = inbox.internal_id(:'b2') LIMIT 2;

-- ---------------------------------------------------------------------------------------------
-- The Directus routes by id (GET, PATCH, DELETE /notifications/:id) found any user's row for an
-- admin already; a plain user gets P0002 (403 FORBIDDEN, as Directus answers).
-- ---------------------------------------------------------------------------------------------
SELECT inbox.internal_id(:'b2') AS b2_key \gset
SELECT pg_temp.try(format($$inbox.directus_read_one(%L, %L, NULL)$$, :'admin', :'b2_key')) AS directus_get;
SELECT pg_temp.try(format($$inbox.directus_update_one(%L, %L, '{"status": "archived"}', NULL)$$, :'admin', :'b2_key')) AS directus_patch;
SELECT pg_temp.try(format($$inbox.directus_read_one(%L, %L, NULL)$$, :'alice', :'b2_key')) AS directus_not_an_admin;
SELECT pg_temp.try(format($$(SELECT '"deleted"' FROM inbox.directus_delete_one(%L, %L))$$, :'admin', :'b2_key')) AS directus_delete;
SELECT pg_temp.try(format($$inbox.rest_get(%L, %L, '{"include_deleted": "true"}')$$, :'admin', :'b2')) AS deleted_through_directus;
