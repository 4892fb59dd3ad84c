-- ---------------------------------------------------------------------------------------------
-- 50_rest: one SQL function per REST route of the HTTP server. Each authenticates the bearer
-- token, checks the route's query parameters and calls the SQL API, so that a request is one
-- database round trip, and returns the JSON the client receives. They decide nothing the SQL
-- API already decides.
--
-- `query` is the request's query string as a JSON object of strings (the server builds it);
-- a parameter the route does not take is an error, never ignored. The rows acted on are the
-- caller's own; an admin token names another user with the `user_id` parameter, and on the
-- routes of one notification finds it by its id alone without one. A token bound to a workspace
-- sees, changes and creates only notifications of that workspace.
-- ---------------------------------------------------------------------------------------------

-- The query parameters of a call, checked against the ones its route takes.
CREATE FUNCTION inbox._rest_params(given jsonb, allowed text[])
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    name  text;
    value jsonb;
BEGIN
    IF given IS NULL THEN
        RETURN '{}';
    END IF;
    IF pg_catalog.jsonb_typeof(given) <> 'object' THEN
        RAISE EXCEPTION 'query: expected a JSON object of query parameters'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR name, value IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(given) AS e ORDER BY e.key LOOP
        IF name <> ALL (allowed) THEN
            RAISE EXCEPTION '%: unknown query parameter', name
                  USING ERRCODE = 'invalid_parameter_value',
                        HINT = CASE WHEN pg_catalog.cardinality(allowed) = 0
                                    THEN 'This route takes no query parameters.'
                                    ELSE 'This route takes: ' || pg_catalog.array_to_string(allowed, ', ') || '.'
                               END;
        END IF;
        IF pg_catalog.jsonb_typeof(value) <> 'string' THEN
            RAISE EXCEPTION '%: expected a string', name USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    RETURN given;
END
$$;

-- A true/false query parameter; null when it is absent.
CREATE FUNCTION inbox._rest_flag(params jsonb, name text)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF NOT params ? name THEN
        RETURN NULL;
    END IF;
    CASE params->>name
    WHEN 'true' THEN RETURN true;
    WHEN 'false' THEN RETURN false;
    ELSE
        RAISE EXCEPTION '%: expected true or false, got %', name, pg_catalog.quote_literal(params->>name)
              USING ERRCODE = 'invalid_parameter_value';
    END CASE;
END
$$;

-- Raises 42501 unless the caller's token has `scope` (admin has every scope).
CREATE FUNCTION inbox._rest_require(caller inbox.caller, scope text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF NOT (caller.admin OR scope = ANY (caller.scopes)) THEN
        RAISE EXCEPTION 'this token lacks the % scope', scope USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

-- Whose notifications a call works on: the caller's, or for an admin the `user_id` parameter.
CREATE FUNCTION inbox._rest_user(caller inbox.caller, params jsonb)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF params ? 'user_id' AND params->>'user_id' IS DISTINCT FROM caller.user_id THEN
        IF NOT caller.admin THEN
            RAISE EXCEPTION 'user_id: only an admin token can act for another user'
                  USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN params->>'user_id';
    END IF;
    RETURN caller.user_id;
END
$$;

-- Whose notification `id` is, on the routes of one notification: the user _rest_user names, or
-- for an admin token without the `user_id` parameter, the owner found by the id alone. An admin
-- may act on any user's rows, as its list without user_id (inbox.list_all) and the Directus
-- routes do, so "not found" for a row that exists would be wrong. The look-up is one probe of
-- notifications_id_idx, the index the Directus routes need anyway; it is the one statement of a
-- native route that reads across users (on a Citus cluster it visits every shard, where a call
-- with user_id stays on one). An id held by several users (possible only for rows inserted with
-- OVERRIDING SYSTEM VALUE) is ambiguous, and the caller is asked to name the user.
CREATE FUNCTION inbox._rest_owner(caller inbox.caller, params jsonb, id text)
RETURNS text
LANGUAGE plpgsql STABLE
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    owners text[];
BEGIN
    IF NOT caller.admin OR params ? 'user_id' THEN
        RETURN inbox._rest_user(caller, params);
    END IF;
    owners := ARRAY(SELECT n.user_id FROM inbox.notifications n
                     WHERE n.id = inbox.internal_id(_rest_owner.id) LIMIT 2);
    IF pg_catalog.cardinality(owners) > 1 THEN
        RAISE EXCEPTION 'user_id: required, notification % belongs to more than one user', id
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Name its owner with the user_id query parameter.';
    END IF;
    -- No such id: the caller's own look-up answers "not found", as for anyone.
    RETURN coalesce(owners[1], caller.user_id);
END
$$;

-- The workspace a call is limited to: the token's, or the `workspace_id` parameter (null for
-- none). A workspace-bound token asking for another workspace is refused.
CREATE FUNCTION inbox._rest_workspace(caller inbox.caller, params jsonb)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF params->>'workspace_id' = '' THEN
        RAISE EXCEPTION 'workspace_id: must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF caller.workspace_id IS NOT NULL AND params ? 'workspace_id'
       AND params->>'workspace_id' <> caller.workspace_id THEN
        RAISE EXCEPTION 'workspace_id: this token is bound to workspace %', caller.workspace_id
              USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN coalesce(caller.workspace_id, params->>'workspace_id');
END
$$;

-- For a workspace-bound token, a notification of another workspace does not exist: the same
-- 'not found' as an unknown id. (workspaceId cannot change after creation, so checking first
-- and acting next is safe.)
CREATE FUNCTION inbox._rest_check_visible(caller inbox.caller, user_id text, id text, notification jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF caller.workspace_id IS NULL THEN
        RETURN;
    END IF;
    IF coalesce(notification, inbox.get(user_id, id, include_deleted => true))->>'workspaceId'
       IS DISTINCT FROM caller.workspace_id THEN
        RAISE EXCEPTION 'notification % not found', id USING ERRCODE = 'no_data_found';
    END IF;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Reading
-- ---------------------------------------------------------------------------------------------

-- The engine params of a listing route (rest_list, rest_groups): the query string as it came,
-- narrowed to the token's workspace. The engine checks every parameter.
CREATE FUNCTION inbox._rest_engine_params(caller inbox.caller, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    params jsonb := coalesce(query, '{}');
    workspace text := inbox._rest_workspace(caller, params);
BEGIN
    IF workspace IS NOT NULL THEN
        params := params || pg_catalog.jsonb_build_object('workspace_id', workspace);
    END IF;
    RETURN params;
END
$$;

CREATE FUNCTION inbox.rest_list(token text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'notifications:read');
    params jsonb := inbox._rest_engine_params(caller, query);
BEGIN
    IF caller.admin AND NOT params ? 'user_id' THEN
        RETURN inbox.list_all(params);
    END IF;
    -- The engine checks every other parameter (and user_id, a filter shorthand, stays in).
    RETURN inbox.list(inbox._rest_user(caller, params), params);
END
$$;

COMMENT ON FUNCTION inbox.rest_list(text, jsonb) IS
    'GET /api/notifications: the caller''s notifications through inbox.list (an admin without user_id: every user''s, through inbox.list_all).';

CREATE FUNCTION inbox.rest_get(token text, id text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'notifications:read');
    params jsonb := inbox._rest_params(query, ARRAY['include_deleted', 'markRead', 'user_id']);
    target text := inbox._rest_owner(caller, params, id);
    include_deleted boolean := coalesce(inbox._rest_flag(params, 'include_deleted'), false);
    mark boolean := coalesce(inbox._rest_flag(params, 'markRead'), false);
    found_row jsonb;
BEGIN
    IF mark THEN
        PERFORM inbox._rest_require(caller, 'notifications:write');
    END IF;
    found_row := inbox.get(target, id, include_deleted);
    PERFORM inbox._rest_check_visible(caller, target, id, found_row);
    IF NOT mark OR (found_row->'read')::boolean THEN
        RETURN found_row;
    END IF;
    IF found_row->>'deletedAt' IS NOT NULL THEN
        RAISE EXCEPTION 'notification % is deleted', id
              USING ERRCODE = 'object_not_in_prerequisite_state',
                    HINT = 'Restore it before marking it read.';
    END IF;
    RETURN inbox.mark_read(target, id);
END
$$;

COMMENT ON FUNCTION inbox.rest_get(text, text, jsonb) IS
    'GET /api/notifications/{id}: one notification (include_deleted=true finds a soft-deleted one; markRead=true marks it read in the same call).';

CREATE FUNCTION inbox.rest_unread_count(token text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'notifications:read');
    params jsonb := inbox._rest_params(query, ARRAY['workspace_id', 'user_id']);
    user_ text := inbox._rest_user(caller, params);
    workspace text := inbox._rest_workspace(caller, params);
BEGIN
    RETURN pg_catalog.jsonb_build_object('count', inbox.unread_count(user_, workspace),
                                         'unseen', inbox.unseen_count(user_, workspace));
END
$$;

COMMENT ON FUNCTION inbox.rest_unread_count(text, jsonb) IS
    'GET /api/notifications/unread-count: {"count": n, "unseen": m}, optionally within workspace_id.';

CREATE FUNCTION inbox.rest_groups(token text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'notifications:read');
    params jsonb := inbox._rest_engine_params(caller, query);
BEGIN
    RETURN inbox.groups(inbox._rest_user(caller, params), params);
END
$$;

COMMENT ON FUNCTION inbox.rest_groups(text, jsonb) IS
    'GET /api/notifications/groups: the caller''s notification groups through inbox.groups (an admin names another user with user_id).';

CREATE FUNCTION inbox.rest_types(token text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'notifications:read');
BEGIN
    PERFORM inbox._rest_params(query, ARRAY[]::text[]);
    RETURN pg_catalog.jsonb_build_object(
        'data', inbox.types(),
        'unregisteredTypes', inbox._unregistered_types());
END
$$;

COMMENT ON FUNCTION inbox.rest_types(text, jsonb) IS
    'GET /api/notification-types: the registered types, and whether creates of other types are accepted or rejected (pg_inbox.unregistered_types).';

-- ---------------------------------------------------------------------------------------------
-- Changing
-- ---------------------------------------------------------------------------------------------

-- The state changes on one notification by id: read, unread, soft_delete, restore, purge.
CREATE FUNCTION inbox._rest_change(token text, id text, query jsonb, action text)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'notifications:write');
    params jsonb := inbox._rest_params(query, ARRAY['user_id']);
    target text := inbox._rest_owner(caller, params, id);
BEGIN
    PERFORM inbox._rest_check_visible(caller, target, id);
    CASE action
    WHEN 'read' THEN RETURN inbox.mark_read(target, id);
    WHEN 'unread' THEN RETURN inbox.mark_unread(target, id);
    WHEN 'soft_delete' THEN PERFORM inbox.soft_delete(target, id);
    WHEN 'restore' THEN RETURN inbox.restore(target, id);
    WHEN 'purge' THEN PERFORM inbox.purge(target, id);
    END CASE;
    RETURN '{"success": true}';
END
$$;

CREATE FUNCTION inbox.rest_mark_read(token text, id text, query jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._rest_change(token, id, query, 'read') $$;
CREATE FUNCTION inbox.rest_mark_unread(token text, id text, query jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._rest_change(token, id, query, 'unread') $$;
CREATE FUNCTION inbox.rest_soft_delete(token text, id text, query jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._rest_change(token, id, query, 'soft_delete') $$;
CREATE FUNCTION inbox.rest_restore(token text, id text, query jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._rest_change(token, id, query, 'restore') $$;
CREATE FUNCTION inbox.rest_purge(token text, id text, query jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._rest_change(token, id, query, 'purge') $$;

COMMENT ON FUNCTION inbox.rest_mark_read(text, text, jsonb) IS
    'PUT /api/notifications/{id}/read: marks it read; returns it.';
COMMENT ON FUNCTION inbox.rest_mark_unread(text, text, jsonb) IS
    'PUT /api/notifications/{id}/unread: marks it unread; returns it.';
COMMENT ON FUNCTION inbox.rest_soft_delete(text, text, jsonb) IS
    'DELETE /api/notifications/{id}: soft-deletes it; returns {"success": true}.';
COMMENT ON FUNCTION inbox.rest_restore(text, text, jsonb) IS
    'POST /api/notifications/{id}/restore: restores a soft-deleted notification (55000 for an active one); returns it.';
COMMENT ON FUNCTION inbox.rest_purge(text, text, jsonb) IS
    'DELETE /api/notifications/{id}/purge: permanently deletes a soft-deleted notification (55000 for an active one); returns {"success": true}.';

CREATE FUNCTION inbox.rest_patch(token text, id text, body jsonb, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'notifications:write');
    params jsonb := inbox._rest_params(query, ARRAY['user_id']);
    target text := inbox._rest_owner(caller, params, id);
    key text;
    result jsonb;
BEGIN
    IF body IS NULL OR pg_catalog.jsonb_typeof(body) <> 'object' THEN
        RAISE EXCEPTION 'body: expected a JSON object with read and/or archived'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF body = '{}' THEN
        RAISE EXCEPTION 'body: expected at least one of read, archived'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR key IN SELECT k FROM pg_catalog.jsonb_object_keys(body) AS k ORDER BY k LOOP
        IF key NOT IN ('read', 'archived') THEN
            RAISE EXCEPTION 'body.%: unknown field', key
                  USING ERRCODE = 'invalid_parameter_value',
                        HINT = 'Fields that can be patched: archived, read.';
        END IF;
        IF pg_catalog.jsonb_typeof(body->key) <> 'boolean' THEN
            RAISE EXCEPTION 'body.%: expected a JSON boolean, got %', key, pg_catalog.jsonb_typeof(body->key)
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    PERFORM inbox._rest_check_visible(caller, target, id);
    IF body ? 'read' THEN
        result := CASE WHEN (body->'read')::boolean THEN inbox.mark_read(target, id)
                       ELSE inbox.mark_unread(target, id) END;
    END IF;
    IF body ? 'archived' THEN
        result := CASE WHEN (body->'archived')::boolean THEN inbox.archive(target, id)
                       ELSE inbox.unarchive(target, id) END;
    END IF;
    RETURN result;
END
$$;

COMMENT ON FUNCTION inbox.rest_patch(text, text, jsonb, jsonb) IS
    'PATCH /api/notifications/{id} with {"read": bool, "archived": bool}: changes those states; returns the notification.';

CREATE FUNCTION inbox.rest_read_all(token text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'notifications:write');
    params jsonb := inbox._rest_params(query, ARRAY['workspace_id', 'user_id']);
BEGIN
    RETURN pg_catalog.jsonb_build_object('ok', true, 'updated',
        inbox.mark_all_read(inbox._rest_user(caller, params), inbox._rest_workspace(caller, params)));
END
$$;

COMMENT ON FUNCTION inbox.rest_read_all(text, jsonb) IS
    'PUT /api/notifications/read-all: marks every unread notification read (optionally within workspace_id); returns {"ok": true, "updated": n}.';

-- Issue 19.
CREATE FUNCTION inbox.rest_seen(token text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'notifications:write');
    params jsonb := inbox._rest_params(query, ARRAY['workspace_id', 'user_id']);
BEGIN
    RETURN pg_catalog.jsonb_build_object('ok', true, 'seenAt', inbox.iso_time(
        inbox.mark_seen(inbox._rest_user(caller, params), inbox._rest_workspace(caller, params))));
END
$$;

COMMENT ON FUNCTION inbox.rest_seen(text, jsonb) IS
    'PUT /api/notifications/seen: marks every notification created up to now seen (optionally within workspace_id); returns {"ok": true, "seenAt": time}.';

-- ---------------------------------------------------------------------------------------------
-- Creating, with Idempotency-Key
-- ---------------------------------------------------------------------------------------------

-- The first response to each (caller, Idempotency-Key), with a hash of the request body it
-- answered and the workspace of the token that sent it. Keyed by the caller's user_id first,
-- like every table.
CREATE TABLE inbox.idempotency_keys (
    user_id      text        NOT NULL,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    workspace_id text,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key)
);

COMMENT ON TABLE inbox.idempotency_keys IS
    'The first response of each create made with an Idempotency-Key, per caller; a retry gets it again. Old keys go with inbox.purge_idempotency_keys().';
COMMENT ON COLUMN inbox.idempotency_keys.workspace_id IS
    'The workspace of the token that used the key (null: none); a token of another workspace may not replay it.';

-- Every user's keys: on a Citus cluster, every shard (see 80_citus.sql).
CREATE FUNCTION inbox.purge_idempotency_keys(older_than interval DEFAULT '1 day')
RETURNS bigint
LANGUAGE plpgsql STRICT
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    gone bigint;
BEGIN
    DELETE FROM inbox.idempotency_keys k
     WHERE k.created_at < pg_catalog.now() - older_than;
    GET DIAGNOSTICS gone = ROW_COUNT;
    RETURN gone;
END
$$;

COMMENT ON FUNCTION inbox.purge_idempotency_keys(interval) IS
    'Forgets Idempotency-Keys older than the interval (default one day); returns how many. Run it from a scheduler.';

-- A create object or template for a workspace-bound token: its workspaceId is the token's.
CREATE FUNCTION inbox._rest_in_workspace(caller inbox.caller, obj jsonb, path text)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF caller.workspace_id IS NULL OR pg_catalog.jsonb_typeof(obj) IS DISTINCT FROM 'object' THEN
        RETURN obj;
    END IF;
    IF obj ? 'workspaceId' AND obj->'workspaceId' IS DISTINCT FROM pg_catalog.to_jsonb(caller.workspace_id) THEN
        RAISE EXCEPTION '%workspaceId: this token is bound to workspace %', path, caller.workspace_id
              USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN obj || pg_catalog.jsonb_build_object('workspaceId', caller.workspace_id);
END
$$;

-- The answer to an array or fan-out create: {"data": [the notifications]}, and when some
-- recipients had in_app off (nothing stored for them, 55_delivery.sql), "skipped": [their userIds].
CREATE FUNCTION inbox._rest_created(created jsonb)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF NOT pg_catalog.jsonb_path_exists(created, '$[*] ? (exists (@.skipped))') THEN
        RETURN pg_catalog.jsonb_build_object('data', created);
    END IF;
    RETURN (SELECT pg_catalog.jsonb_build_object(
                       'data', coalesce(pg_catalog.jsonb_agg(e ORDER BY o) FILTER (WHERE NOT e ? 'skipped'), '[]'),
                       'skipped', pg_catalog.jsonb_agg(e->'userId' ORDER BY o) FILTER (WHERE e ? 'skipped'))
              FROM pg_catalog.jsonb_array_elements(created) WITH ORDINALITY AS a(e, o));
END
$$;

-- The create itself: one object, an array of objects, or a fan-out template with userIds.
CREATE FUNCTION inbox._rest_create(caller inbox.caller, body jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    recipients text[];
BEGIN
    IF pg_catalog.jsonb_typeof(body) = 'array' THEN
        RETURN inbox._rest_created(inbox.create_many(
            coalesce((SELECT pg_catalog.jsonb_agg(
                                 inbox._rest_in_workspace(caller, e, 'notifications[' || (o - 1) || '].') ORDER BY o)
                        FROM pg_catalog.jsonb_array_elements(body) WITH ORDINALITY AS a(e, o)), '[]')));
    END IF;
    IF pg_catalog.jsonb_typeof(body) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'body: expected a notification object, an array of them, or an object with userIds'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF body ? 'userIds' THEN
        IF pg_catalog.jsonb_typeof(body->'userIds') <> 'array'
           OR EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(body->'userIds') AS u
                       WHERE pg_catalog.jsonb_typeof(u) <> 'string') THEN
            RAISE EXCEPTION 'userIds: expected a JSON array of strings'
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
        recipients := ARRAY(SELECT u FROM pg_catalog.jsonb_array_elements_text(body->'userIds') WITH ORDINALITY AS a(u, o)
                             ORDER BY o);
        RETURN inbox._rest_created(inbox.fan_out(recipients,
            inbox._rest_in_workspace(caller, body - 'userIds', '')));
    END IF;
    IF NOT body ? 'userId' THEN
        RAISE EXCEPTION 'userId: required'
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Give the recipient as userId, or several as userIds.';
    END IF;
    RETURN inbox.create(body->>'userId', inbox._rest_in_workspace(caller, body, ''));
END
$$;

CREATE FUNCTION inbox.rest_create(token text, body jsonb, idempotency_key text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'notifications:send');
    params jsonb := inbox._rest_params(query, '{}');
    body_hash bytea;
    earlier inbox.idempotency_keys;
    created jsonb;
BEGIN
    IF idempotency_key IS NULL THEN
        RETURN inbox._rest_create(caller, body);
    END IF;
    IF pg_catalog.length(idempotency_key) NOT BETWEEN 1 AND 255 THEN
        RAISE EXCEPTION 'Idempotency-Key: expected 1 to 255 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- jsonb's text is canonical: the same body with other spacing or key order is the same request.
    body_hash := pg_catalog.sha256(pg_catalog.convert_to(coalesce(body::text, ''), 'UTF8'));
    -- The key row and the notifications commit together, or neither does. A concurrent retry
    -- with the same key waits here for the first to finish, then finds its row.
    INSERT INTO inbox.idempotency_keys (user_id, key, request_hash, workspace_id)
    VALUES (caller.user_id, idempotency_key, body_hash, caller.workspace_id)
    ON CONFLICT (user_id, key) DO NOTHING;
    IF NOT FOUND THEN
        SELECT * INTO earlier FROM inbox.idempotency_keys k
         WHERE k.user_id = caller.user_id AND k.key = idempotency_key;
        -- A token bound to one workspace never sees what another workspace's token created.
        IF earlier.workspace_id IS DISTINCT FROM caller.workspace_id THEN
            RAISE EXCEPTION 'Idempotency-Key: already used by a token of another workspace'
                  USING ERRCODE = 'unique_violation',
                        HINT = 'Use a new key for a new request.';
        END IF;
        IF earlier.request_hash <> body_hash THEN
            RAISE EXCEPTION 'Idempotency-Key: already used with a different request body'
                  USING ERRCODE = 'unique_violation',
                        HINT = 'Use a new key for a new request.';
        END IF;
        RETURN earlier.response;
    END IF;
    created := inbox._rest_create(caller, body);
    UPDATE inbox.idempotency_keys k SET response = created
     WHERE k.user_id = caller.user_id AND k.key = idempotency_key;
    RETURN created;
END
$$;

COMMENT ON FUNCTION inbox.rest_create(text, jsonb, text, jsonb) IS
    'POST /api/notifications: one object (the notification), an array ({"data": [...]}) or a fan-out with userIds ({"data": [...]}). With an Idempotency-Key a retry returns the first response; the same key with another body, or from a token of another workspace, raises 23505.';
