-- pg_inbox: the upgrade from 0.1.0 to 0.2.0 (ALTER EXTENSION pg_inbox UPDATE).
--
-- Every change to an SQL object since 0.1.0 goes both here and into extension/sql/*.sql (the
-- install script of 0.2.0), in the order its part of extension/sql has it. tests/upgrade.sh
-- installs 0.1.0, updates it and compares the catalog with a fresh install: an object changed in
-- one place and not in the other fails that test. Every name is schema-qualified, as in the
-- install script.

\echo Use "ALTER EXTENSION pg_inbox UPDATE" to load this file. \quit

-- ---------------------------------------------------------------------------------------------
-- Issue 12 items 4 and 6 (10_shape): the field registry as a table, and the REST responses' text
-- with each notification's keys in the documented order.
-- ---------------------------------------------------------------------------------------------

-- The notification field registry as a table.
CREATE FUNCTION inbox.field_registry()
RETURNS TABLE (ordinal integer, name text, column_name text, sql_type text, not_null boolean,
               json_type text, nullable boolean, kind text, sortable boolean,
               on_create boolean, on_update boolean, min_length integer, max_length integer,
               pattern text, directus_name text, directus_position integer, searchable boolean)
AS 'MODULE_PATHNAME', 'pgi_field_registry'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 20;

COMMENT ON FUNCTION inbox.field_registry() IS
    'The notification fields as pg_inbox''s C++ code knows them, in the order of the API shape: column, type, JSON type, filter kind (null: not filterable), sortable, writable on create/update and bounds, Directus name, place and search.';

-- A REST response's text with each notification's keys in the documented order.
CREATE FUNCTION inbox.http_json(value jsonb)
RETURNS text
AS 'MODULE_PATHNAME', 'pgi_http_json'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION inbox.http_json(jsonb) IS
    'A REST response as HTTP clients receive it: jsonb''s text with every notification''s keys in the documented order (id, userId, workspaceId, type, title, ...).';

-- ---------------------------------------------------------------------------------------------
-- Issue 12 item 9 (50_rest): an admin token names a notification by its id alone on the routes
-- of one notification (GET, PATCH, DELETE, read, unread, restore, purge), where 0.1.0 looked for
-- it among the admin's own rows and answered 404 for a row that exists.
-- ---------------------------------------------------------------------------------------------

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

CREATE OR REPLACE FUNCTION inbox.rest_get(token text, id text, query jsonb)
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

CREATE OR REPLACE FUNCTION inbox._rest_change(token text, id text, query jsonb, action text)
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

CREATE OR REPLACE FUNCTION inbox.rest_patch(token text, id text, body jsonb, query jsonb)
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

-- ---------------------------------------------------------------------------------------------
-- Issue 12 item 5 (70_graphql): GraphQL in one pass. The server's /graphql/system calls
-- inbox.graphql_http, which returns the response with its HTTP status; inbox.graphql keeps its
-- declaration for SQL callers.
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox.graphql_http(token text, request jsonb, method text DEFAULT 'POST',
                                   OUT body text, OUT status integer)
RETURNS record
AS 'MODULE_PATHNAME', 'pgi_graphql_http'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION inbox.graphql_http(text, jsonb, text) IS
    'POST or GET /graphql/system in one call: request is the POST body ({query, variables, operationName}) or the GET query parameters (variables as JSON text); returns the GraphQL response and its HTTP status (200 with data; 400 for a request error; 405 for a mutation over GET). Raises 28000 for a token that does not authenticate (HTTP 401) and 22P02 for GET variables that are not JSON.';
