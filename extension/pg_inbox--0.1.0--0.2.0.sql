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
-- Issue 13 defect 10 (50_rest): an Idempotency-Key replay crossed the workspace-bound tokens of
-- one user (the w2 token received the w1 notification). Each key records the workspace of the
-- token that used it; a token of another workspace is refused (23505, 409).
-- ---------------------------------------------------------------------------------------------

ALTER TABLE inbox.idempotency_keys ADD COLUMN workspace_id text;

COMMENT ON COLUMN inbox.idempotency_keys.workspace_id IS
    'The workspace of the token that used the key (null: none); a token of another workspace may not replay it.';

CREATE OR REPLACE FUNCTION inbox.rest_create(token text, body jsonb, idempotency_key text, query jsonb)
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

-- ---------------------------------------------------------------------------------------------
-- Issue 13 defect 12 (60_directus): a create with meta=total_count by a send-only token counted
-- every user's notifications. A create answers its items alone, as Directus's does.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION inbox.directus_create(token text, body jsonb, query jsonb)
RETURNS json
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._directus_caller(token, 'notifications:send');
    many boolean := pg_catalog.jsonb_typeof(body) = 'array';
    items jsonb := CASE WHEN many THEN body ELSE pg_catalog.jsonb_build_array(body) END;
    natives jsonb;
    created jsonb;
    archived record;
BEGIN
    IF pg_catalog.jsonb_typeof(body) IS DISTINCT FROM 'object' AND NOT many THEN
        RAISE EXCEPTION 'payload: expected a notification object or an array of them'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF many AND pg_catalog.jsonb_array_length(body) = 0 THEN
        RETURN '{"data":[]}';
    END IF;
    natives := (SELECT pg_catalog.jsonb_agg(inbox._directus_new(caller, i.item,
                           CASE WHEN many THEN 'payload[' OPERATOR(pg_catalog.||) (i.o - 1) OPERATOR(pg_catalog.||) ']'
                                ELSE 'payload' END) ORDER BY i.o)
                  FROM pg_catalog.jsonb_array_elements(items) WITH ORDINALITY AS i(item, o));
    -- Directus's recipient and sender are foreign keys: so are they here, once a relation says
    -- which table holds the users.
    PERFORM inbox._directus_check_users('recipient', ARRAY(SELECT DISTINCT e->>'userId' FROM pg_catalog.jsonb_array_elements(natives) AS e));
    PERFORM inbox._directus_check_users('sender', ARRAY(SELECT DISTINCT e->>'actorId' FROM pg_catalog.jsonb_array_elements(natives) AS e
                                                         WHERE e ? 'actorId'));
    created := inbox.create_many(natives);
    -- Items created with status "archived" are archived at once.
    FOR archived IN
        SELECT c.row->>'userId' AS user_id, pg_catalog.array_agg(c.row->>'id' ORDER BY c.o) AS ids
          FROM pg_catalog.jsonb_array_elements(created) WITH ORDINALITY AS c(row, o)
          JOIN pg_catalog.jsonb_array_elements(items) WITH ORDINALITY AS i(item, o) ON i.o = c.o
         WHERE i.item->>'status' = 'archived'
         GROUP BY 1 ORDER BY 1
    LOOP
        PERFORM inbox.archive(archived.user_id, archived.ids);
    END LOOP;
    -- The created items are read across users (a send-only caller may read none of them), so
    -- meta would count every user's notifications: a create answers its items alone, as
    -- Directus's does, and its meta parameter (meta, meta[]) is ignored.
    RETURN inbox._directus_read(NULL, NULL, caller.user_id,
                                (SELECT pg_catalog.jsonb_object_agg(q.key, q.value)
                                   FROM pg_catalog.jsonb_each(query) AS q
                                  WHERE q.key OPERATOR(pg_catalog.<>) 'meta'
                                    AND NOT pg_catalog.starts_with(q.key, 'meta[')),
                                ARRAY(SELECT inbox.internal_id(c.row->>'id')
                                        FROM pg_catalog.jsonb_array_elements(created) WITH ORDINALITY AS c(row, o)
                                       ORDER BY c.o),
                                NOT many);
END
$$;

COMMENT ON FUNCTION inbox.directus_create(text, jsonb, jsonb) IS
    'POST /notifications: creates one notification (an object) or several (an array), for any recipient (needs notifications:send or admin); returns them as Directus does.';

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

-- ---------------------------------------------------------------------------------------------
-- Issue 17: scale-out on Citus. The SQL Citus cannot run is rewritten (00_schema, 10_shape,
-- 15_types, 20_api, 25_aggregation, 40_tokens, 60_directus: see the header of 80_citus.sql), the
-- functions that read every user's rows say so (citus.multi_task_query_log_level), and
-- inbox.distribute(), inbox.undistribute() and inbox.after_add_node() are new (80_citus).
-- ---------------------------------------------------------------------------------------------

-- The same work on a shard of a Citus cluster, where the triggers fire with that shard's rows.
-- A statement there may only touch shards on this node, and Citus routes a statement to one
-- shard only when its user_id is a constant: a join with the deltas would go to every shard. So
-- each user, workspace and group is one statement keyed by the loop's user_id, rows touched in
-- the order of the function above. (One node keeps that function: this form, a statement per
-- user, costs about half as much again on a grouped fan-out of 10,000.)
CREATE FUNCTION inbox._apply_counter_deltas_by_user(deltas inbox.counter_delta[], refresh_groups boolean)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    d record;
BEGIN
    FOR d IN SELECT x.user_id, sum(x.active) AS active, sum(x.unread) AS unread, sum(x.deleted) AS deleted
               FROM pg_catalog.unnest(deltas) AS x
              GROUP BY x.user_id
             HAVING sum(x.active) <> 0 OR sum(x.unread) <> 0 OR sum(x.deleted) <> 0
              ORDER BY x.user_id LOOP
        INSERT INTO inbox.user_counters AS c (user_id, active, unread, deleted)
        VALUES (d.user_id, d.active, d.unread, d.deleted)
        ON CONFLICT (user_id) DO UPDATE
           SET active  = c.active  + excluded.active,
               unread  = c.unread  + excluded.unread,
               deleted = c.deleted + excluded.deleted;
    END LOOP;

    FOR d IN SELECT x.user_id, x.workspace_id, sum(x.active) AS active, sum(x.unread) AS unread,
                    sum(x.deleted) AS deleted
               FROM pg_catalog.unnest(deltas) AS x
              WHERE x.workspace_id IS NOT NULL
              GROUP BY x.user_id, x.workspace_id
             HAVING sum(x.active) <> 0 OR sum(x.unread) <> 0 OR sum(x.deleted) <> 0
              ORDER BY x.user_id, x.workspace_id LOOP
        INSERT INTO inbox.workspace_counters AS c (user_id, workspace_id, active, unread, deleted)
        VALUES (d.user_id, d.workspace_id, d.active, d.unread, d.deleted)
        ON CONFLICT (user_id, workspace_id) DO UPDATE
           SET active  = c.active  + excluded.active,
               unread  = c.unread  + excluded.unread,
               deleted = c.deleted + excluded.deleted;
    END LOOP;

    FOR d IN SELECT x.user_id, x.group_key, sum(x.active) AS active, sum(x.unread) AS unread
               FROM pg_catalog.unnest(deltas) AS x
              WHERE x.group_key IS NOT NULL
              GROUP BY x.user_id, x.group_key
              ORDER BY x.user_id, x.group_key LOOP
        INSERT INTO inbox.notification_groups AS g (user_id, group_key, notifications_count, unread_count)
        VALUES (d.user_id, d.group_key, d.active, d.unread)
        ON CONFLICT (user_id, group_key) DO UPDATE
           SET notifications_count = g.notifications_count + excluded.notifications_count,
               unread_count        = g.unread_count + excluded.unread_count;
        IF refresh_groups THEN
            UPDATE inbox.notification_groups AS g
               SET (latest_at, latest_id, type) =
                       (SELECT n.created_at, n.id, n.type FROM inbox.notifications n
                         WHERE n.user_id = d.user_id AND n.group_key = d.group_key AND n.deleted_at IS NULL
                         ORDER BY n.created_at DESC, n.id DESC LIMIT 1),
                   sample_actor_ids = ARRAY(
                       SELECT a.actor_id FROM (
                           SELECT n.created_at, n.id, r.actor_id, r.ord
                             FROM (SELECT * FROM inbox.notifications n
                                    WHERE n.user_id = d.user_id AND n.group_key = d.group_key AND n.deleted_at IS NULL
                                    ORDER BY n.created_at DESC, n.id DESC LIMIT 20) AS n,
                                  pg_catalog.unnest(n.recent_actor_ids) WITH ORDINALITY AS r(actor_id, ord)) AS a
                        GROUP BY a.actor_id
                        ORDER BY max(a.created_at) DESC, max(a.id) DESC, min(a.ord), a.actor_id
                        LIMIT 8)
             WHERE g.user_id = d.user_id AND g.group_key = d.group_key;
        END IF;
        DELETE FROM inbox.notification_groups AS g
         WHERE g.user_id = d.user_id AND g.group_key = d.group_key AND g.notifications_count = 0;
    END LOOP;
END
$$;

-- Applies a trigger's deltas: on inbox.notifications itself in bulk, on a Citus shard
-- (inbox.notifications_102008, ...) user by user.
CREATE FUNCTION inbox._apply_trigger_deltas(on_table boolean, deltas inbox.counter_delta[], refresh_groups boolean)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF on_table THEN
        PERFORM inbox._apply_counter_deltas(deltas, refresh_groups);
    ELSE
        PERFORM inbox._apply_counter_deltas_by_user(deltas, refresh_groups);
    END IF;
END
$$;

-- On a shard the transition tables have the shard's row type, hence ROW(n.*)::inbox.notifications
-- for a whole row.
CREATE OR REPLACE FUNCTION inbox._counters_after_insert() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1) FROM new_rows n), true);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION inbox._counters_after_update() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1) FROM new_rows n
        UNION ALL
        SELECT inbox._counter_delta(ROW(o.*)::inbox.notifications, -1) FROM old_rows o),
        -- Group summaries are read again only when a grouped row changed what they show, or
        -- moved (a read, unread or archive does not).
        EXISTS (SELECT FROM old_rows o
                  LEFT JOIN new_rows n ON n.user_id = o.user_id AND n.id = o.id
                 WHERE (o.group_key IS NOT NULL OR n.group_key IS NOT NULL)
                   AND (n.id IS NULL
                        OR (o.group_key, o.type, o.created_at, o.deleted_at IS NULL, o.recent_actor_ids)
                           IS DISTINCT FROM
                           (n.group_key, n.type, n.created_at, n.deleted_at IS NULL, n.recent_actor_ids))));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION inbox._counters_after_delete() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(o.*)::inbox.notifications, -1) FROM old_rows o), true);
    RETURN NULL;
END
$$;

-- On Citus a TRUNCATE of inbox.notifications fires this on the coordinator's table (which then
-- truncates the counter tables, cluster-wide, once) and again on every shard, where it must not:
-- one truncate of every counter shard per notifications shard deadlocks.
CREATE OR REPLACE FUNCTION inbox._counters_after_truncate() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_TABLE_NAME = 'notifications' THEN
        TRUNCATE inbox.user_counters, inbox.workspace_counters, inbox.notification_groups;
    END IF;
    RETURN NULL;
END
$$;

-- Recomputes every counter from the rows (after a restore, or to prove them exact).
-- It reads every user's rows: on a Citus cluster, every shard (see 80_citus.sql).
CREATE OR REPLACE FUNCTION inbox.rebuild_counters()
RETURNS void
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
AS $$
BEGIN
    TRUNCATE inbox.user_counters, inbox.workspace_counters, inbox.notification_groups;
    PERFORM inbox._apply_counter_deltas(ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1) FROM inbox.notifications n));
END
$$;

-- Checks a create or update object: a JSON object, only known fields for that operation, each
-- of the right JSON type (null is allowed for the optional text fields). `path` prefixes the
-- error messages, e.g. 'notifications[3]'.
CREATE OR REPLACE FUNCTION inbox._check_fields(obj jsonb, operation text, path text)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    bad record;
BEGIN
    IF obj IS NULL OR pg_catalog.jsonb_typeof(obj) <> 'object' THEN
        RAISE EXCEPTION '%: expected a JSON object', coalesce(nullif(path, ''), 'notification')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- One query for the whole object (it runs on every create): the first offending key in
    -- the object's own key order, if any.
    SELECT e.key, pg_catalog.jsonb_typeof(e.value) AS got, f.field, f.json_type INTO bad
      FROM pg_catalog.jsonb_each(obj) WITH ORDINALITY AS e(key, value, ord)
      LEFT JOIN inbox.writable_fields f
        ON f.field = e.key AND CASE WHEN operation = 'create' THEN f.on_create ELSE f.on_update END
     WHERE f.field IS NULL
        OR CASE WHEN pg_catalog.jsonb_typeof(e.value) = 'null' THEN f.field IN ('userId', 'type', 'data')
                ELSE pg_catalog.jsonb_typeof(e.value) <> f.json_type END
     ORDER BY e.ord
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF bad.field IS NULL THEN
        RAISE EXCEPTION '%: unknown field', inbox._path(path, bad.key)
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Fields that can be ' || operation || 'd: '
                           || (SELECT pg_catalog.string_agg(f.field, ', ' ORDER BY f.field)
                                 FROM inbox.writable_fields f
                                WHERE CASE WHEN operation = 'create' THEN f.on_create ELSE f.on_update END)
                           || '.';
    END IF;
    IF bad.got = 'null' THEN
        RAISE EXCEPTION '%: must not be null', inbox._path(path, bad.key)
              USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RAISE EXCEPTION '%: expected a JSON %, got %', inbox._path(path, bad.key), bad.json_type, bad.got
          USING ERRCODE = 'invalid_parameter_value';
END
$$;

CREATE OR REPLACE FUNCTION inbox.register_type(name text, description text DEFAULT '', aggregate boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    registered inbox.notification_types;
BEGIN
    INSERT INTO inbox.notification_types AS t (name, description, aggregate)
    VALUES (register_type.name, coalesce(register_type.description, ''), coalesce(register_type.aggregate, false))
    ON CONFLICT ON CONSTRAINT notification_types_pkey DO UPDATE
       SET description = excluded.description, aggregate = excluded.aggregate
    RETURNING t.* INTO registered;
    RETURN inbox._type_json(registered);
END
$$;

CREATE OR REPLACE FUNCTION inbox.types()
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT coalesce(pg_catalog.jsonb_agg(inbox._type_json(ROW(t.*)::inbox.notification_types) ORDER BY t.name), '[]')
      FROM inbox.notification_types t
$$;

-- The setting pg_inbox.unregistered_types: 'accept' or 'reject'. Read with missing_ok, so a
-- session that has not loaded the library yet sees a value set with ALTER DATABASE/ROLE (a
-- placeholder there) and the default otherwise.
CREATE OR REPLACE FUNCTION inbox._unregistered_types()
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    mode text := coalesce(pg_catalog.current_setting('pg_inbox.unregistered_types', true), '');
BEGIN
    IF mode NOT IN ('', 'accept', 'reject') THEN
        RAISE EXCEPTION 'pg_inbox.unregistered_types must be accept or reject, not "%"', mode
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN CASE WHEN mode = 'reject' THEN 'reject' ELSE 'accept' END;
END
$$;

-- Inserts the notifications described by (user_id, object) pairs, in order, and returns them.
-- Callers go through inbox._create (25_aggregation.sql), which checks types and aggregates.
CREATE OR REPLACE FUNCTION inbox._insert(user_ids text[], objects jsonb[])
RETURNS SETOF inbox.notifications
LANGUAGE plpgsql
AS $$
BEGIN
    -- PL/pgSQL rather than SQL: the INSERT is planned once per session and its plan cached,
    -- where a SQL function planned it again on every call (about 250 us of a 700 us create).
    -- One row is an INSERT ... VALUES: on a Citus cluster that goes to the user's shard alone,
    -- where INSERT ... SELECT is collected on the coordinator and committed in two phases.
    IF pg_catalog.cardinality(user_ids) = 1 THEN
        RETURN QUERY
        INSERT INTO inbox.notifications AS n
               (user_id, workspace_id, type, title, body, data, actor_id, collection, item, group_key,
                recent_actor_ids, actor_count)
        VALUES (user_ids[1], objects[1]->>'workspaceId', coalesce(objects[1]->>'type', 'info'),
                objects[1]->>'title', objects[1]->>'body', coalesce(objects[1]->'data', '{}'),
                objects[1]->>'actorId', objects[1]->>'collection', objects[1]->>'item',
                objects[1]->>'groupKey',
                CASE WHEN objects[1]->>'actorId' IS NULL THEN '{}' ELSE ARRAY[objects[1]->>'actorId'] END,
                (objects[1]->>'actorId' IS NOT NULL)::int)
        RETURNING n.*;
        RETURN;
    END IF;
    RETURN QUERY
    INSERT INTO inbox.notifications AS n
           (user_id, workspace_id, type, title, body, data, actor_id, collection, item, group_key,
            recent_actor_ids, actor_count)
    SELECT u.user_id, o->>'workspaceId', coalesce(o->>'type', 'info'), o->>'title', o->>'body',
           coalesce(o->'data', '{}'), o->>'actorId', o->>'collection', o->>'item', o->>'groupKey',
           CASE WHEN o->>'actorId' IS NULL THEN '{}' ELSE ARRAY[o->>'actorId'] END,
           (o->>'actorId' IS NOT NULL)::int
      FROM ROWS FROM (pg_catalog.unnest(user_ids), pg_catalog.unnest(objects)) WITH ORDINALITY AS u(user_id, o, ord)
     ORDER BY u.ord
    RETURNING n.*;
END
$$;

-- The state changes. `action` is one of read, unread, archive, unarchive, soft_delete,
-- restore, update (with `changes`), purge and delete. All or nothing: an unknown id, another
-- user's id, or a row in the wrong state raises and changes no row. Changing a row to the
-- state it is in keeps it as it is (its first read_at, its updated_at).
CREATE OR REPLACE FUNCTION inbox._change(user_id text, ids text[], action text, changes jsonb DEFAULT NULL)
RETURNS SETOF inbox.notifications
LANGUAGE plpgsql
AS $$
DECLARE
    wanted  bigint[] := inbox._resolve_ids(ids);
    targets inbox.notifications[];
    bad     bigint;
    -- restore and purge work on soft-deleted rows, delete on any row, the rest on active ones.
    sees_deleted boolean := action IN ('restore', 'purge', 'delete');
    -- The statements below are written for Citus too: now() taken once, outside CASE (Citus
    -- refuses non-immutable functions in CASE), and CASE WHEN action = ... rather than
    -- CASE action WHEN ... (which Citus folds wrongly, citus#2862).
    at      timestamptz := pg_catalog.now();
BEGIN
    IF action = 'update' THEN
        PERFORM inbox._check_fields(changes, 'update', 'changes');
        IF changes = '{}' THEN
            RAISE EXCEPTION 'changes: expected at least one field to update'
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF changes ? 'type' THEN
            PERFORM inbox._check_types(ARRAY[changes], 'changes', false);
        END IF;
    END IF;

    -- One active row and a plain state change, the common case (a click on one notification):
    -- one UPDATE ... RETURNING instead of lock, check, update and re-read. Raising after the
    -- UPDATE still changes nothing (the statement rolls back), and with one row there is no
    -- lock order to keep. It is its own narrow statement on purpose: sharing the general
    -- UPDATE below (every column, any id list) through a helper function measured about
    -- 0.5 ms slower per call.
    IF pg_catalog.cardinality(wanted) = 1 AND action IN ('read', 'unread', 'archive', 'unarchive', 'soft_delete') THEN
        RETURN QUERY
        UPDATE inbox.notifications n SET
               read_at     = CASE WHEN action = 'read' THEN at WHEN action = 'unread' THEN NULL ELSE n.read_at END,
               archived_at = CASE WHEN action = 'archive' THEN at WHEN action = 'unarchive' THEN NULL ELSE n.archived_at END,
               deleted_at  = CASE WHEN action = 'soft_delete' THEN at ELSE n.deleted_at END,
               updated_at  = at
         WHERE n.user_id = _change.user_id AND n.id = wanted[1] AND n.deleted_at IS NULL
           AND CASE WHEN action = 'read'      THEN n.read_at IS NULL
                    WHEN action = 'unread'    THEN n.read_at IS NOT NULL
                    WHEN action = 'archive'   THEN n.archived_at IS NULL
                    WHEN action = 'unarchive' THEN n.archived_at IS NOT NULL
                    ELSE true
               END
        RETURNING n.*;
        IF FOUND THEN
            RETURN;
        END IF;
        -- Nothing changed: the row is in that state already (returned as it is), or not there.
        RETURN QUERY SELECT n.* FROM inbox.notifications n
                      WHERE n.user_id = _change.user_id AND n.id = wanted[1] AND n.deleted_at IS NULL;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'notification % not found', inbox.public_id(wanted[1]) USING ERRCODE = 'no_data_found';
        END IF;
        RETURN;
    END IF;

    SELECT pg_catalog.array_agg(t.n) INTO targets
      FROM (SELECT ROW(n.*)::inbox.notifications AS n FROM inbox.notifications n
             WHERE n.user_id = _change.user_id AND n.id = ANY (wanted)
               AND (sees_deleted OR n.deleted_at IS NULL)
             ORDER BY n.id
               FOR UPDATE) AS t;

    SELECT w INTO bad FROM pg_catalog.unnest(wanted) AS w
     WHERE w <> ALL (ARRAY(SELECT (t).id FROM pg_catalog.unnest(targets) AS t)) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'notification % not found', inbox.public_id(bad) USING ERRCODE = 'no_data_found';
    END IF;

    IF action IN ('restore', 'purge') THEN
        SELECT (t).id INTO bad FROM pg_catalog.unnest(targets) AS t WHERE (t).deleted_at IS NULL LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'notification % is not deleted', inbox.public_id(bad)
                  USING ERRCODE = 'object_not_in_prerequisite_state',
                        HINT = CASE WHEN action = 'restore' THEN 'Only soft-deleted notifications can be restored.'
                               ELSE 'Soft delete it first with inbox.soft_delete(), or delete it at once with inbox.delete().'
                               END;
        END IF;
    END IF;

    IF action IN ('purge', 'delete') THEN
        DELETE FROM inbox.notifications n WHERE n.user_id = _change.user_id AND n.id = ANY (wanted);
        RETURN QUERY SELECT (t).* FROM pg_catalog.unnest(targets) AS t
                      ORDER BY pg_catalog.array_position(wanted, (t).id);
        RETURN;
    END IF;

    UPDATE inbox.notifications n SET
           read_at     = CASE WHEN action = 'read' THEN at WHEN action = 'unread' THEN NULL ELSE n.read_at END,
           archived_at = CASE WHEN action = 'archive' THEN at WHEN action = 'unarchive' THEN NULL ELSE n.archived_at END,
           deleted_at  = CASE WHEN action = 'soft_delete' THEN at WHEN action = 'restore' THEN NULL ELSE n.deleted_at END,
           type        = CASE WHEN changes ? 'type'       THEN changes->>'type'       ELSE n.type END,
           title       = CASE WHEN changes ? 'title'      THEN changes->>'title'      ELSE n.title END,
           body        = CASE WHEN changes ? 'body'       THEN changes->>'body'       ELSE n.body END,
           data        = CASE WHEN changes ? 'data'       THEN changes->'data'        ELSE n.data END,
           collection  = CASE WHEN changes ? 'collection' THEN changes->>'collection' ELSE n.collection END,
           item        = CASE WHEN changes ? 'item'       THEN changes->>'item'       ELSE n.item END,
           group_key   = CASE WHEN changes ? 'groupKey'   THEN changes->>'groupKey'   ELSE n.group_key END,
           updated_at  = at
     WHERE n.user_id = _change.user_id AND n.id = ANY (wanted)
       AND CASE WHEN action = 'read'        THEN n.read_at IS NULL
                WHEN action = 'unread'      THEN n.read_at IS NOT NULL
                WHEN action = 'archive'     THEN n.archived_at IS NULL
                WHEN action = 'unarchive'   THEN n.archived_at IS NOT NULL
                WHEN action = 'soft_delete' THEN true
                WHEN action = 'restore'     THEN true
                WHEN action = 'update'      THEN true
           END;

    RETURN QUERY SELECT n.* FROM inbox.notifications n
                  WHERE n.user_id = _change.user_id AND n.id = ANY (wanted)
                  ORDER BY pg_catalog.array_position(wanted, n.id);
END
$$;

-- PL/pgSQL, as every function with parameters that touches a table: Citus cannot plan a SQL
-- function's statements with its parameters (80_citus.sql).
CREATE OR REPLACE FUNCTION inbox.mark_all_read(user_id text, workspace_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    changed bigint;
BEGIN
    UPDATE inbox.notifications n
       SET read_at = pg_catalog.now(), updated_at = pg_catalog.now()
     WHERE n.user_id = mark_all_read.user_id
       AND n.deleted_at IS NULL AND n.read_at IS NULL
       AND (mark_all_read.workspace_id IS NULL OR n.workspace_id = mark_all_read.workspace_id);
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;

CREATE OR REPLACE FUNCTION inbox._aggregate(user_id text, o jsonb, path text)
RETURNS inbox.notifications
LANGUAGE plpgsql
AS $$
DECLARE
    target inbox.notifications;
    grp    text := o->>'groupKey';
    actor  text := o->>'actorId';
    recent text[];
    actors integer;
BEGIN
    IF grp IS NULL OR actor IS NULL THEN
        RAISE EXCEPTION '%: needs a groupKey and an actorId to aggregate on', inbox._path(path, 'aggregate')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Concurrent creates for one user take turns, so none inserts a second row into a group and
    -- no actor is lost: they lock the user's counter row until commit. A row lock, unlike an
    -- advisory lock, holds on a Citus cluster whichever node the creates come through (the row
    -- is on the user's shard), and it costs no concurrency: every create for the user updates
    -- that row anyway, holding the same lock until commit.
    INSERT INTO inbox.user_counters AS c (user_id) VALUES (_aggregate.user_id)
    ON CONFLICT ON CONSTRAINT user_counters_pkey DO NOTHING;
    PERFORM FROM inbox.user_counters c WHERE c.user_id = _aggregate.user_id FOR NO KEY UPDATE;

    SELECT * INTO target FROM inbox.notifications n
     WHERE n.user_id = _aggregate.user_id AND n.group_key = grp
       AND n.read_at IS NULL AND n.deleted_at IS NULL
     ORDER BY n.created_at DESC, n.id DESC
     LIMIT 1
       FOR UPDATE;

    IF NOT FOUND THEN
        SELECT * INTO target FROM inbox._insert(ARRAY[user_id], ARRAY[o]);
        INSERT INTO inbox.notification_actors (user_id, notification_id, actor_id, acted_at)
        VALUES (target.user_id, target.id, actor, pg_catalog.clock_timestamp());
        RETURN target;
    END IF;

    -- A row created without aggregating has its one actor only on the row: record it first.
    INSERT INTO inbox.notification_actors (user_id, notification_id, actor_id, acted_at)
    SELECT target.user_id, target.id, a, target.created_at
      FROM pg_catalog.unnest(target.recent_actor_ids) AS a
    ON CONFLICT DO NOTHING;
    -- clock_timestamp, not now(): several aggregations in one transaction stay in order.
    INSERT INTO inbox.notification_actors AS a (user_id, notification_id, actor_id, acted_at)
    VALUES (target.user_id, target.id, actor, pg_catalog.clock_timestamp())
    ON CONFLICT ON CONSTRAINT notification_actors_pkey DO UPDATE SET acted_at = excluded.acted_at;

    -- Read first, then one UPDATE of plain values: subqueries in the UPDATE, correlated on the
    -- row's user_id, would make Citus send it to every shard.
    recent := ARRAY(SELECT a.actor_id FROM inbox.notification_actors a
                     WHERE a.user_id = target.user_id AND a.notification_id = target.id
                     ORDER BY a.acted_at DESC, a.actor_id
                     LIMIT 10);
    SELECT count(*) INTO actors FROM inbox.notification_actors a
     WHERE a.user_id = target.user_id AND a.notification_id = target.id;
    UPDATE inbox.notifications n
       SET actor_id = actor, recent_actor_ids = recent, actor_count = actors,
           updated_at = pg_catalog.now()
     WHERE n.user_id = target.user_id AND n.id = target.id
    RETURNING n.* INTO target;
    RETURN target;
END
$$;

-- It reads every user's rows: on a Citus cluster, every shard (see 80_citus.sql).
ALTER FUNCTION inbox.list_all(jsonb) SET citus.multi_task_query_log_level = off;

CREATE OR REPLACE FUNCTION inbox.define_relation(name text, field text, target regclass,
                                      target_column name DEFAULT 'id', columns name[] DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    source   text;
    kind     text;
    relkind  "char";
    schema_  name;
    table_   name;
    missing  name;
BEGIN
    IF name IS NULL OR name OPERATOR(pg_catalog.!~) '^[A-Za-z_][A-Za-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'name: expected an identifier (letters, digits, _; at most 63)'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF name IN ('AND', 'OR', 'NOT') OR EXISTS (SELECT 1 FROM inbox.fields() f WHERE f.name = define_relation.name) THEN
        RAISE EXCEPTION 'name: % is already a field or keyword of the filter language', name
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT f.column_name, f.kind INTO source, kind FROM inbox.fields() f WHERE f.name = field;
    IF NOT FOUND OR kind <> 'string' THEN
        RAISE EXCEPTION 'field: expected a text field of a notification, got %', coalesce(field, 'null')
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Text fields: ' || (SELECT pg_catalog.string_agg(f.name, ', ' ORDER BY f.name)
                                                 FROM inbox.fields() f WHERE f.kind = 'string') || '.';
    END IF;
    IF target IS NULL THEN
        RAISE EXCEPTION 'target: expected a table' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT c.relkind, n.nspname, c.relname INTO relkind, schema_, table_
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = target;
    IF relkind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
        RAISE EXCEPTION 'target: % is not a table or view', target
              USING ERRCODE = 'wrong_object_type';
    END IF;
    IF target_column IS NULL OR NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = target AND a.attname = target_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'target_column: column % of % does not exist', coalesce(target_column, 'null'), target
              USING ERRCODE = 'undefined_column';
    END IF;
    IF columns IS NOT NULL THEN
        IF pg_catalog.cardinality(columns) = 0 THEN
            RAISE EXCEPTION 'columns: expected at least one column, or NULL for all'
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT c INTO missing FROM pg_catalog.unnest(columns) AS c
         WHERE c IS NULL OR NOT EXISTS (
             SELECT 1 FROM pg_catalog.pg_attribute a
              WHERE a.attrelid = target AND a.attname = c AND a.attnum > 0 AND NOT a.attisdropped)
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'columns: column % of % does not exist', coalesce(missing, 'null'), target
                  USING ERRCODE = 'undefined_column';
        END IF;
    END IF;

    -- Checked last, so the lines of the errors above stay as they were.
    IF name = 'actors' THEN
        RAISE EXCEPTION 'name: actors is reserved: expand=actors embeds every actor through the relation over actorId'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- On a Citus cluster a user's notifications are read on the worker that holds them, which
    -- has the target only if it is a reference table (80_citus.sql).
    PERFORM inbox._citus_check_target(target, 'target');

    INSERT INTO inbox.relations AS r (name, field, source_column, target_schema, target_table, target_column, columns)
    VALUES (name, field, source, schema_, table_, target_column, columns)
    ON CONFLICT ON CONSTRAINT relations_pkey DO UPDATE
       SET field = excluded.field, source_column = excluded.source_column,
           target_schema = excluded.target_schema, target_table = excluded.target_table,
           target_column = excluded.target_column, columns = excluded.columns;

    RETURN pg_catalog.jsonb_build_object(
        'name', name, 'field', field,
        'target', pg_catalog.quote_ident(schema_) || '.' || pg_catalog.quote_ident(table_),
        'targetColumn', target_column, 'columns', pg_catalog.to_jsonb(columns));
END
$$;

CREATE OR REPLACE FUNCTION inbox.create_token(user_id text, scopes text[], workspace_id text DEFAULT NULL,
                                   expires_at timestamptz DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    -- gen_random_uuid() draws from pg_strong_random: two of them give 244 random bits.
    token text := 'pgi_' || pg_catalog.encode(
        pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
        || pg_catalog.uuid_send(pg_catalog.gen_random_uuid()), 'hex');
    unknown text;
    known_scopes constant text := 'Scopes: ' || pg_catalog.array_to_string(inbox.token_scopes(), ', ') || '.';
BEGIN
    IF create_token.user_id IS NULL THEN
        RAISE EXCEPTION 'user_id: must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF scopes IS NULL OR pg_catalog.cardinality(scopes) = 0 THEN
        RAISE EXCEPTION 'scopes: expected at least one scope'
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = known_scopes;
    END IF;
    SELECT s INTO unknown FROM pg_catalog.unnest(scopes) AS s
     WHERE s IS NULL OR s <> ALL (inbox.token_scopes())
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'scopes: unknown scope %', coalesce(pg_catalog.quote_literal(unknown), 'null')
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = known_scopes;
    END IF;
    IF expires_at <= pg_catalog.now() THEN
        RAISE EXCEPTION 'expires_at: must be in the future' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Computed before the INSERT: Citus refuses a subquery inside INSERT ... VALUES.
    scopes := ARRAY(SELECT DISTINCT s FROM pg_catalog.unnest(scopes) AS s ORDER BY s);
    INSERT INTO inbox.tokens (token_hash, user_id, scopes, workspace_id, expires_at)
    VALUES (inbox._token_hash(token), create_token.user_id, create_token.scopes,
            create_token.workspace_id, create_token.expires_at);
    RETURN token;
END
$$;

-- PL/pgSQL, as every function with parameters that touches a table (see mark_all_read).
CREATE OR REPLACE FUNCTION inbox.revoke_token(token text)
RETURNS boolean
LANGUAGE plpgsql STRICT
AS $$
BEGIN
    DELETE FROM inbox.tokens t WHERE t.token_hash = inbox._token_hash(revoke_token.token);
    RETURN FOUND;
END
$$;

CREATE OR REPLACE FUNCTION inbox.revoke_tokens(user_id text)
RETURNS bigint
LANGUAGE plpgsql STRICT
AS $$
DECLARE
    gone bigint;
BEGIN
    DELETE FROM inbox.tokens t WHERE t.user_id = revoke_tokens.user_id;
    GET DIAGNOSTICS gone = ROW_COUNT;
    RETURN gone;
END
$$;

ALTER FUNCTION inbox._rest_owner(inbox.caller, jsonb, text) SET citus.multi_task_query_log_level = off;

-- Every user's keys: on a Citus cluster, every shard (see 80_citus.sql).
CREATE OR REPLACE FUNCTION inbox.purge_idempotency_keys(older_than interval DEFAULT '1 day')
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

-- With user_id NULL (an admin) they read every user's rows: on a Citus cluster every shard
-- (80_citus.sql); with a user_id, the engine's statements are that user's alone.
ALTER FUNCTION inbox._directus_read(text, text, text, jsonb, bigint[], boolean) SET citus.multi_task_query_log_level = off;
ALTER FUNCTION inbox._directus_keys(text, text, text, jsonb) SET citus.multi_task_query_log_level = off;

-- The rows behind keys that the caller may change, grouped by user in user order (the order
-- bulk changes lock in), as public ids for the SQL API. The first key that is missing, deleted,
-- another user's (unless admin) or outside the token's workspace raises "not found".
-- An admin's keys may be any user's: on a Citus cluster the look-up by id visits every shard;
-- anyone else's is filtered by their user_id, one shard.
CREATE OR REPLACE FUNCTION inbox._directus_owned(caller inbox.caller, keys bigint[])
RETURNS TABLE (user_id text, ids text[])
LANGUAGE plpgsql STABLE
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    owners bigint[];
    users text[];
    missing bigint;
BEGIN
    -- By id (notifications_id_idx), then kept only if the caller may see it.
    SELECT pg_catalog.array_agg(n.id ORDER BY n.user_id, n.id),
           pg_catalog.array_agg(n.user_id ORDER BY n.user_id, n.id)
      INTO owners, users
      FROM inbox.notifications n
     WHERE n.id = ANY (keys) AND n.deleted_at IS NULL
       AND (caller.admin OR n.user_id = caller.user_id)
       AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id);
    SELECT k INTO missing FROM pg_catalog.unnest(keys) AS k
     WHERE k <> ALL (COALESCE(owners, '{}')) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'notification % not found', missing USING ERRCODE = 'no_data_found';
    END IF;
    RETURN QUERY SELECT o.owner, pg_catalog.array_agg(inbox.public_id(o.id) ORDER BY o.id)
                   FROM ROWS FROM (pg_catalog.unnest(users), pg_catalog.unnest(owners)) AS o(owner, id)
                  GROUP BY o.owner ORDER BY o.owner;
END
$$;

-- Applies one Directus change to the rows behind keys, all or nothing. status archives or
-- moves back to the inbox; subject, message, collection and item (admins only, as Directus lets
-- a user change only the status of their notifications) go through inbox.update.
CREATE OR REPLACE FUNCTION inbox._directus_change(caller inbox.caller, keys bigint[], data jsonb, path text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    changes jsonb := '{}';
    status text;
    key text;
    value jsonb;
    at text;
    owner record;
BEGIN
    PERFORM inbox._directus_object(data, path, 'an object of fields to change');
    FOR key, value IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(data) AS e ORDER BY e.key LOOP
        at := path OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) key;
        IF key = 'status' THEN
            IF value NOT IN ('"inbox"', '"archived"') THEN
                RAISE EXCEPTION '%: expected "inbox" or "archived"', at USING ERRCODE = 'invalid_parameter_value';
            END IF;
            status := value OPERATOR(pg_catalog.#>>) '{}';
        ELSIF key IN ('subject', 'message', 'collection', 'item') THEN
            IF NOT caller.admin THEN
                RAISE EXCEPTION '%: only an admin token can change %', at, key
                      USING ERRCODE = 'insufficient_privilege',
                            HINT = 'Users may change the status of their notifications.';
            END IF;
            changes := changes OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
                CASE WHEN key = 'subject' THEN 'title' WHEN key = 'message' THEN 'body' ELSE key END,
                inbox._directus_text(value, at, key = 'item'));
        ELSIF key IN ('id', 'timestamp', 'recipient', 'sender') THEN
            RAISE EXCEPTION '%: cannot be changed', at
                  USING ERRCODE = 'invalid_parameter_value',
                        HINT = 'A notification keeps its id, timestamp, recipient and sender; status, subject, message, collection and item can change.';
        ELSE
            RAISE EXCEPTION '%: unknown field', at
                  USING ERRCODE = 'invalid_parameter_value',
                        HINT = 'Fields that can be changed: status, subject, message, collection, item.';
        END IF;
    END LOOP;
    FOR owner IN SELECT o.user_id, o.ids FROM inbox._directus_owned(caller, keys) AS o LOOP
        IF changes <> '{}' THEN
            PERFORM inbox.update(owner.user_id, owner.ids, changes);
        END IF;
        IF status = 'archived' THEN
            PERFORM inbox.archive(owner.user_id, owner.ids);
        ELSIF status = 'inbox' THEN
            PERFORM inbox.unarchive(owner.user_id, owner.ids);
        END IF;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION inbox.directus_create(token text, body jsonb, query jsonb)
RETURNS json
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._directus_caller(token, 'notifications:send');
    many boolean := pg_catalog.jsonb_typeof(body) = 'array';
    items jsonb := CASE WHEN many THEN body ELSE pg_catalog.jsonb_build_array(body) END;
    natives jsonb;
    created jsonb;
    archived record;
    recipient text;
BEGIN
    IF pg_catalog.jsonb_typeof(body) IS DISTINCT FROM 'object' AND NOT many THEN
        RAISE EXCEPTION 'payload: expected a notification object or an array of them'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF many AND pg_catalog.jsonb_array_length(body) = 0 THEN
        RETURN '{"data":[]}';
    END IF;
    natives := (SELECT pg_catalog.jsonb_agg(inbox._directus_new(caller, i.item,
                           CASE WHEN many THEN 'payload[' OPERATOR(pg_catalog.||) (i.o - 1) OPERATOR(pg_catalog.||) ']'
                                ELSE 'payload' END) ORDER BY i.o)
                  FROM pg_catalog.jsonb_array_elements(items) WITH ORDINALITY AS i(item, o));
    -- Directus's recipient and sender are foreign keys: so are they here, once a relation says
    -- which table holds the users.
    PERFORM inbox._directus_check_users('recipient', ARRAY(SELECT DISTINCT e->>'userId' FROM pg_catalog.jsonb_array_elements(natives) AS e));
    PERFORM inbox._directus_check_users('sender', ARRAY(SELECT DISTINCT e->>'actorId' FROM pg_catalog.jsonb_array_elements(natives) AS e
                                                         WHERE e ? 'actorId'));
    created := inbox.create_many(natives);
    -- Items created with status "archived" are archived at once.
    FOR archived IN
        SELECT c.row->>'userId' AS user_id, pg_catalog.array_agg(c.row->>'id' ORDER BY c.o) AS ids
          FROM pg_catalog.jsonb_array_elements(created) WITH ORDINALITY AS c(row, o)
          JOIN pg_catalog.jsonb_array_elements(items) WITH ORDINALITY AS i(item, o) ON i.o = c.o
         WHERE i.item->>'status' = 'archived'
         GROUP BY 1 ORDER BY 1
    LOOP
        PERFORM inbox.archive(archived.user_id, archived.ids);
    END LOOP;
    -- Read back among the one recipient's rows when there is one (on Citus: one shard).
    SELECT CASE WHEN pg_catalog.count(DISTINCT e->>'userId') = 1 THEN pg_catalog.min(e->>'userId') END
      INTO recipient FROM pg_catalog.jsonb_array_elements(natives) AS e;
    RETURN inbox._directus_read(recipient, NULL, caller.user_id, query,
                                ARRAY(SELECT inbox.internal_id(c.row->>'id')
                                        FROM pg_catalog.jsonb_array_elements(created) WITH ORDINALITY AS c(row, o)
                                       ORDER BY c.o),
                                NOT many);
END
$$;

-- The tables Citus manages, in the order they are distributed: per-user ones by user_id,
-- colocated with inbox.notifications (first), and the global ones as reference tables.
CREATE FUNCTION inbox._citus_tables()
RETURNS TABLE (relation regclass, reference boolean)
LANGUAGE sql STABLE
AS $$
    VALUES ('inbox.notifications'::regclass, false),
           ('inbox.user_counters'::regclass, false),
           ('inbox.workspace_counters'::regclass, false),
           ('inbox.notification_groups'::regclass, false),
           ('inbox.notification_actors'::regclass, false),
           ('inbox.idempotency_keys'::regclass, false),
           ('inbox.notification_types'::regclass, true),
           ('inbox.writable_fields'::regclass, true),
           ('inbox.relations'::regclass, true),
           ('inbox.tokens'::regclass, true),
           ('inbox.cursor_secrets'::regclass, true)
$$;

-- The functions Citus delegates to the node that holds the user named by their first argument.
CREATE FUNCTION inbox._citus_functions()
RETURNS regprocedure[]
LANGUAGE sql STABLE
AS $$
    SELECT ARRAY['inbox.create(text,jsonb)', 'inbox.get(text,text,boolean)',
                 'inbox.update(text,text,jsonb)', 'inbox.update(text,text[],jsonb)',
                 'inbox.mark_read(text,text)', 'inbox.mark_read(text,text[])',
                 'inbox.mark_unread(text,text)', 'inbox.mark_unread(text,text[])',
                 'inbox.archive(text,text)', 'inbox.archive(text,text[])',
                 'inbox.unarchive(text,text)', 'inbox.unarchive(text,text[])',
                 'inbox.soft_delete(text,text)', 'inbox.soft_delete(text,text[])',
                 'inbox.restore(text,text)', 'inbox.restore(text,text[])',
                 'inbox.purge(text,text)', 'inbox.purge(text,text[])',
                 'inbox.delete(text,text)', 'inbox.delete(text,text[])',
                 'inbox.mark_all_read(text,text)', 'inbox.unread_count(text,text)',
                 'inbox.list(text,jsonb)', 'inbox.groups(text,jsonb)']::regprocedure[]
$$;

-- Raises unless this is the coordinator of a Citus cluster, in a database with Citus.
CREATE FUNCTION inbox._citus_coordinator(action text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname = 'citus') THEN
        RAISE EXCEPTION '%: Citus is not installed in this database', action
              USING ERRCODE = 'object_not_in_prerequisite_state',
                    HINT = 'pg_inbox works without Citus. To scale out: CREATE EXTENSION citus, add the workers with citus_add_node(), then SELECT inbox.distribute().';
    END IF;
    IF NOT pg_catalog.citus_is_coordinator() THEN
        RAISE EXCEPTION '%: run it on the coordinator', action
              USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
END
$$;

-- Whether Citus manages the table (pg_dist_partition: Citus's citus_tables view does not show
-- tables an extension owns).
CREATE FUNCTION inbox._citus_managed(relation regclass)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;  -- no Citus in this database
    END IF;
    RETURN EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = relation);
END
$$;

-- Raises unless `target`, the table of a relation, is a reference table (a copy on every node):
-- on a Citus cluster a user's notifications are read on the worker that holds them, and a
-- filter or expand through the relation reads the target there. `path` names it in the error.
-- With only_distributed (inbox.define_relation), nothing is checked until pg_inbox is distributed.
CREATE FUNCTION inbox._citus_check_target(target regclass, path text, only_distributed boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF only_distributed AND NOT inbox._citus_managed('inbox.notifications') THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p
                    WHERE p.logicalrelid = target AND p.partmethod = 'n' AND p.repmodel = 't') THEN
        RAISE EXCEPTION '%: % must be a reference table on a Citus cluster', path, target
              USING ERRCODE = 'object_not_in_prerequisite_state',
                    HINT = pg_catalog.format('SELECT create_reference_table(%L);', target::text);
    END IF;
END
$$;

-- On a worker: its range of notification ids (see inbox.after_add_node()). Citus refuses to
-- alter a sequence it has distributed unless DDL propagation is off for the statement.
CREATE FUNCTION inbox._citus_id_range()
RETURNS void
LANGUAGE plpgsql
SET citus.enable_ddl_propagation = off
AS $$
BEGIN
    PERFORM pg_catalog.worker_adjust_identity_column_seq_ranges('inbox.notifications'::regclass);
END
$$;

CREATE FUNCTION inbox.after_add_node()
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    failed text;
BEGIN
    PERFORM inbox._citus_coordinator('inbox.after_add_node()');
    -- Notification ids: every node allocates from its own range, group << 48 onwards (Citus's
    -- rule for bigint identity columns, which it skips for tables an extension owns). Without
    -- it, a create through a worker, or a delegated create, collides with ids of other nodes.
    SELECT r.nodename || ':' || r.nodeport || ': ' || r.result INTO failed
      FROM pg_catalog.run_command_on_workers(
               'SELECT inbox._citus_id_range()') AS r
     WHERE NOT r.success
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'inbox.after_add_node(): could not set the id range of %', failed
              USING ERRCODE = 'object_not_in_prerequisite_state',
                    HINT = 'pg_inbox must be installed on every node, at the same version (Citus creates it on nodes it activates).';
    END IF;
    RETURN pg_catalog.jsonb_build_object('nodes', (SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_node n
                                                     WHERE n.isactive AND n.noderole = 'primary'));
END
$$;

COMMENT ON FUNCTION inbox.after_add_node() IS
    'After citus_add_node() (and inbox.distribute()): gives every worker its own range of notification ids. Run it once more after adding each node; idempotent.';

CREATE FUNCTION inbox.distribute(shard_count integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
-- The counter triggers only touch shards colocated with the row's own (the by-user form of
-- 00_schema.sql), which is what Citus's "unsafe" triggers must do.
SET citus.enable_unsafe_triggers = on
SET citus.multi_task_query_log_level = off
-- Citus's notices about copying local rows: they are copied, and the local copies then go.
SET client_min_messages = warning
AS $$
DECLARE
    t record;
    f regprocedure;
    tables int := 0;
BEGIN
    PERFORM inbox._citus_coordinator('inbox.distribute()');
    FOR t IN SELECT r.name, pg_catalog.to_regclass(pg_catalog.format('%I.%I', r.target_schema, r.target_table)) AS target
               FROM inbox.relations r ORDER BY r.name LOOP
        CONTINUE WHEN t.target IS NULL;  -- a dropped table: reported when the relation is used
        PERFORM inbox._citus_check_target(t.target, 'relation ' || t.name, false);
    END LOOP;
    IF shard_count IS NOT NULL AND shard_count NOT BETWEEN 1 AND 64000 THEN
        RAISE EXCEPTION 'shard_count: expected 1 to 64000, got %', shard_count
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR t IN SELECT c.relation, c.reference FROM inbox._citus_tables() AS c LOOP
        CONTINUE WHEN inbox._citus_managed(t.relation);
        IF t.reference THEN
            PERFORM pg_catalog.create_reference_table(t.relation);
        ELSIF t.relation = 'inbox.notifications'::regclass THEN
            PERFORM pg_catalog.create_distributed_table(t.relation, 'user_id', colocate_with => 'none',
                                                        shard_count => shard_count);
        ELSE
            PERFORM pg_catalog.create_distributed_table(t.relation, 'user_id',
                                                        colocate_with => 'inbox.notifications');
        END IF;
        tables := tables + 1;
    END LOOP;
    -- The rows are in the shards now; the coordinator's own copies go (a TRUNCATE of the local
    -- tables only).
    FOR t IN SELECT c.relation FROM inbox._citus_tables() AS c LOOP
        PERFORM pg_catalog.truncate_local_data_after_distributing_table(t.relation);
    END LOOP;
    FOREACH f IN ARRAY inbox._citus_functions() LOOP
        PERFORM pg_catalog.create_distributed_function(f, '$1', colocate_with => 'inbox.notifications');
    END LOOP;
    PERFORM inbox.after_add_node();
    RETURN pg_catalog.jsonb_build_object(
        'distributed', tables,
        'shards', (SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_shard s
                    WHERE s.logicalrelid = 'inbox.notifications'::regclass),
        'functions', pg_catalog.cardinality(inbox._citus_functions()));
END
$$;

COMMENT ON FUNCTION inbox.distribute(integer) IS
    'On the coordinator of a Citus cluster: distributes the per-user tables by user_id (shard_count shards, default citus.shard_count), makes the global ones reference tables, delegates the per-user functions, and gives each node its id range. Idempotent.';

CREATE FUNCTION inbox.undistribute()
RETURNS jsonb
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    t record;
    f regprocedure;
    copy text;
    saved bigint := 0;
    n bigint;
BEGIN
    PERFORM inbox._citus_coordinator('inbox.undistribute()');
    -- Citus's undistribute_table() cannot be used: it recreates the table and drops the old one
    -- with CASCADE, which would take every function of this extension that uses the row type
    -- with it (it refuses, as the extension owns the table). Instead the rows are copied out,
    -- Citus forgets the tables (its own steps for a dropped table: metadata on the workers,
    -- shards, metadata here), and the rows go back into the tables, which stay where they are.
    FOREACH f IN ARRAY inbox._citus_functions() LOOP
        PERFORM pg_catalog.citus_unmark_object_distributed('pg_catalog.pg_proc'::regclass, f::oid, 0, false);
    END LOOP;
    FOR t IN SELECT c.relation FROM inbox._citus_tables() AS c WHERE inbox._citus_managed(c.relation) LOOP
        -- The counters are not copied: inserting the notifications back rebuilds them.
        CONTINUE WHEN t.relation IN ('inbox.user_counters'::regclass, 'inbox.workspace_counters'::regclass,
                                     'inbox.notification_groups'::regclass);
        EXECUTE pg_catalog.format('CREATE TEMPORARY TABLE %I ON COMMIT DROP AS SELECT * FROM %s',
                                  'pg_inbox_saved_' || (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = t.relation),
                                  t.relation);
    END LOOP;
    FOR t IN SELECT c.relation, r.relname FROM inbox._citus_tables() WITH ORDINALITY AS c(relation, reference, o)
               JOIN pg_catalog.pg_class r ON r.oid = c.relation
              WHERE inbox._citus_managed(c.relation)
              ORDER BY c.o DESC LOOP
        PERFORM pg_catalog.master_remove_distributed_table_metadata_from_workers(t.relation, 'inbox', t.relname);
        PERFORM pg_catalog.citus_drop_all_shards(t.relation, 'inbox', t.relname);
        PERFORM pg_catalog.master_remove_partition_metadata(t.relation, 'inbox', t.relname);
    END LOOP;
    -- And the TRUNCATE trigger Citus put on each (citus_truncate_trigger, internal).
    FOR t IN SELECT g.tgname, g.tgrelid::regclass AS relation FROM pg_catalog.pg_trigger g
              WHERE g.tgfoid = 'pg_catalog.citus_truncate_trigger()'::regprocedure
                AND g.tgrelid IN (SELECT c.relation FROM inbox._citus_tables() AS c) LOOP
        EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', t.tgname, t.relation);
    END LOOP;
    TRUNCATE inbox.user_counters, inbox.workspace_counters, inbox.notification_groups;
    FOR t IN SELECT c.relation, r.relname FROM inbox._citus_tables() WITH ORDINALITY AS c(relation, reference, o)
               JOIN pg_catalog.pg_class r ON r.oid = c.relation
              WHERE pg_catalog.to_regclass('pg_temp.pg_inbox_saved_' || r.relname) IS NOT NULL
              ORDER BY c.o LOOP
        copy := 'pg_inbox_saved_' || t.relname;
        EXECUTE pg_catalog.format('DELETE FROM %s', t.relation);
        EXECUTE pg_catalog.format('INSERT INTO %s OVERRIDING SYSTEM VALUE SELECT * FROM pg_temp.%I', t.relation, copy);
        GET DIAGNOSTICS n = ROW_COUNT;
        saved := saved + n;
        EXECUTE pg_catalog.format('DROP TABLE pg_temp.%I', copy);
    END LOOP;
    RETURN pg_catalog.jsonb_build_object('rows', saved);
END
$$;

COMMENT ON FUNCTION inbox.undistribute() IS
    'On the coordinator: brings every pg_inbox table back onto the coordinator as a plain table (rows, tokens, types and keys kept; counters rebuilt) and drops the shards. Run it before DROP EXTENSION pg_inbox on a Citus cluster.';

REVOKE ALL ON FUNCTION inbox.distribute(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox.undistribute() FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox.after_add_node() FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- inbox.directus_create as 60_directus.sql has it with both of this release's changes: the read
-- back among the one recipient's rows (issue 17) and no meta on a create (issue 13 defect 12).
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION inbox.directus_create(token text, body jsonb, query jsonb)
RETURNS json
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._directus_caller(token, 'notifications:send');
    many boolean := pg_catalog.jsonb_typeof(body) = 'array';
    items jsonb := CASE WHEN many THEN body ELSE pg_catalog.jsonb_build_array(body) END;
    natives jsonb;
    created jsonb;
    archived record;
    recipient text;
BEGIN
    IF pg_catalog.jsonb_typeof(body) IS DISTINCT FROM 'object' AND NOT many THEN
        RAISE EXCEPTION 'payload: expected a notification object or an array of them'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF many AND pg_catalog.jsonb_array_length(body) = 0 THEN
        RETURN '{"data":[]}';
    END IF;
    natives := (SELECT pg_catalog.jsonb_agg(inbox._directus_new(caller, i.item,
                           CASE WHEN many THEN 'payload[' OPERATOR(pg_catalog.||) (i.o - 1) OPERATOR(pg_catalog.||) ']'
                                ELSE 'payload' END) ORDER BY i.o)
                  FROM pg_catalog.jsonb_array_elements(items) WITH ORDINALITY AS i(item, o));
    -- Directus's recipient and sender are foreign keys: so are they here, once a relation says
    -- which table holds the users.
    PERFORM inbox._directus_check_users('recipient', ARRAY(SELECT DISTINCT e->>'userId' FROM pg_catalog.jsonb_array_elements(natives) AS e));
    PERFORM inbox._directus_check_users('sender', ARRAY(SELECT DISTINCT e->>'actorId' FROM pg_catalog.jsonb_array_elements(natives) AS e
                                                         WHERE e ? 'actorId'));
    created := inbox.create_many(natives);
    -- Items created with status "archived" are archived at once.
    FOR archived IN
        SELECT c.row->>'userId' AS user_id, pg_catalog.array_agg(c.row->>'id' ORDER BY c.o) AS ids
          FROM pg_catalog.jsonb_array_elements(created) WITH ORDINALITY AS c(row, o)
          JOIN pg_catalog.jsonb_array_elements(items) WITH ORDINALITY AS i(item, o) ON i.o = c.o
         WHERE i.item->>'status' = 'archived'
         GROUP BY 1 ORDER BY 1
    LOOP
        PERFORM inbox.archive(archived.user_id, archived.ids);
    END LOOP;
    -- The created items are read back among the one recipient's rows when there is one (on
    -- Citus: one shard). A send-only caller may read none of them, so meta would count rows it
    -- may not see: a create answers its items alone, as Directus's does, and its meta parameter
    -- (meta, meta[]) is ignored.
    SELECT CASE WHEN pg_catalog.count(DISTINCT e->>'userId') = 1 THEN pg_catalog.min(e->>'userId') END
      INTO recipient FROM pg_catalog.jsonb_array_elements(natives) AS e;
    RETURN inbox._directus_read(recipient, NULL, caller.user_id,
                                (SELECT pg_catalog.jsonb_object_agg(q.key, q.value)
                                   FROM pg_catalog.jsonb_each(query) AS q
                                  WHERE q.key OPERATOR(pg_catalog.<>) 'meta'
                                    AND NOT pg_catalog.starts_with(q.key, 'meta[')),
                                ARRAY(SELECT inbox.internal_id(c.row->>'id')
                                        FROM pg_catalog.jsonb_array_elements(created) WITH ORDINALITY AS c(row, o)
                                       ORDER BY c.o),
                                NOT many);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Issue 14: the change feed (00_schema, 45_feed, 80_citus). The counter triggers append the
-- events of every change to inbox.events, taking each user's gapless ids in the counter upsert
-- (inbox.user_counters.last_event_id); inbox.changes, inbox.feed_head, inbox.poll_events,
-- inbox.prune_events and inbox._append_event are new. A database updated from 0.1.0 starts
-- every user at event 0: its feed begins with the update.
-- ---------------------------------------------------------------------------------------------

-- (Added without a default and then filled: a fast default would leave the column a "missing
-- value" that a fresh install does not have.)
ALTER TABLE inbox.user_counters ADD COLUMN last_event_id bigint;
UPDATE inbox.user_counters SET last_event_id = 0;
ALTER TABLE inbox.user_counters ALTER COLUMN last_event_id SET DEFAULT 0,
                                ALTER COLUMN last_event_id SET NOT NULL;

-- One change of one notification for the change feed (45_feed.sql), as a counter trigger sees
-- it: the event's name, what it moved the user's unread count by, and whether the change was
-- only a mark-read (a statement of many of those becomes one notification.read_all summary).
CREATE TYPE inbox.feed_event AS (
    user_id         text,
    notification_id bigint,
    workspace_id    text,
    event           text,
    unread          bigint,
    read_only       boolean
);

-- A user's counter row after a statement: where its new event ids end, its unread count, and
-- how many events of the user the statement had (before a summary replaced them).
CREATE TYPE inbox.feed_position AS (
    user_id       text,
    last_event_id bigint,
    unread        bigint,
    events        bigint
);

-- The counter functions take the statement's events (a new parameter: dropped and created).
DROP FUNCTION inbox._apply_counter_deltas(inbox.counter_delta[], boolean);
DROP FUNCTION inbox._apply_counter_deltas_by_user(inbox.counter_delta[], boolean);
DROP FUNCTION inbox._apply_trigger_deltas(boolean, inbox.counter_delta[], boolean);

-- Adds a set of signed row contributions to the counter tables and the group summaries.
-- Without refresh_groups, the statement changed none of what a summary shows besides its counts
-- (latest notification, type, sample actors), so they are not read again: that re-read is most
-- of the cost of marking one grouped notification read.
--
-- Each counter table is touched by one statement over all the deltas: the form for the table
-- itself. On a Citus cluster the triggers fire on each shard instead and use the next function.
--
-- `events` (NULL when the feed is off) are the statement's changes for the change feed: the
-- user's counter row takes their ids in the same upsert (last_event_id, under the row lock the
-- counters take anyway, so the feed adds no lock), and inbox._event_rows turns them into rows
-- of inbox.events, a user with more than inbox._feed_threshold() of them getting one summary.
CREATE FUNCTION inbox._apply_counter_deltas(deltas inbox.counter_delta[], refresh_groups boolean DEFAULT true,
                                            events inbox.feed_event[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    threshold integer;
BEGIN
    IF events IS NULL THEN
        INSERT INTO inbox.user_counters AS c (user_id, active, unread, deleted)
        SELECT d.user_id, sum(d.active), sum(d.unread), sum(d.deleted)
          FROM pg_catalog.unnest(deltas) AS d
         GROUP BY d.user_id
        HAVING sum(d.active) <> 0 OR sum(d.unread) <> 0 OR sum(d.deleted) <> 0
         ORDER BY d.user_id
        ON CONFLICT (user_id) DO UPDATE
           SET active  = c.active  + excluded.active,
               unread  = c.unread  + excluded.unread,
               deleted = c.deleted + excluded.deleted;
    ELSE
        threshold := inbox._feed_threshold();
        WITH d AS (SELECT x.user_id, sum(x.active) AS active, sum(x.unread) AS unread, sum(x.deleted) AS deleted
                     FROM pg_catalog.unnest(deltas) AS x
                    GROUP BY x.user_id),
             e AS (SELECT x.user_id, pg_catalog.count(*) AS n
                     FROM pg_catalog.unnest(events) AS x
                    GROUP BY x.user_id),
             moved AS (
            INSERT INTO inbox.user_counters AS c (user_id, active, unread, deleted, last_event_id)
            SELECT coalesce(d.user_id, e.user_id), coalesce(d.active, 0), coalesce(d.unread, 0),
                   coalesce(d.deleted, 0), inbox._feed_ids(e.n, threshold)
              FROM d FULL JOIN e ON e.user_id = d.user_id
             WHERE e.n IS NOT NULL OR d.active <> 0 OR d.unread <> 0 OR d.deleted <> 0
             ORDER BY 1
            ON CONFLICT (user_id) DO UPDATE
               SET active  = c.active  + excluded.active,
                   unread  = c.unread  + excluded.unread,
                   deleted = c.deleted + excluded.deleted,
                   last_event_id = c.last_event_id + excluded.last_event_id
            RETURNING c.user_id, c.last_event_id, c.unread)
        INSERT INTO inbox.events (user_id, id, event, notification_id, workspace_id, unread, data)
        SELECT r.* FROM inbox._event_rows(events, ARRAY(SELECT ROW(m.user_id, m.last_event_id, m.unread, e.n)::inbox.feed_position
                                                          FROM moved AS m JOIN e ON e.user_id = m.user_id),
                                          threshold) AS r;
    END IF;

    INSERT INTO inbox.workspace_counters AS c (user_id, workspace_id, active, unread, deleted)
    SELECT d.user_id, d.workspace_id, sum(d.active), sum(d.unread), sum(d.deleted)
      FROM pg_catalog.unnest(deltas) AS d
     WHERE d.workspace_id IS NOT NULL
     GROUP BY d.user_id, d.workspace_id
    HAVING sum(d.active) <> 0 OR sum(d.unread) <> 0 OR sum(d.deleted) <> 0
     ORDER BY d.user_id, d.workspace_id
    ON CONFLICT (user_id, workspace_id) DO UPDATE
       SET active  = c.active  + excluded.active,
           unread  = c.unread  + excluded.unread,
           deleted = c.deleted + excluded.deleted;

    IF NOT EXISTS (SELECT FROM pg_catalog.unnest(deltas) AS d WHERE d.group_key IS NOT NULL) THEN
        RETURN;
    END IF;

    INSERT INTO inbox.notification_groups AS g (user_id, group_key, notifications_count, unread_count)
    SELECT d.user_id, d.group_key, sum(d.active), sum(d.unread)
      FROM pg_catalog.unnest(deltas) AS d
     WHERE d.group_key IS NOT NULL
     GROUP BY d.user_id, d.group_key
     ORDER BY d.user_id, d.group_key
    ON CONFLICT (user_id, group_key) DO UPDATE
       SET notifications_count = g.notifications_count + excluded.notifications_count,
           unread_count        = g.unread_count + excluded.unread_count;

    -- Every group the statement touched, even with a zero delta (an edit of its latest row).
    IF refresh_groups THEN
        UPDATE inbox.notification_groups AS g
           SET (latest_at, latest_id, type) =
                   (SELECT n.created_at, n.id, n.type FROM inbox.notifications n
                     WHERE n.user_id = g.user_id AND n.group_key = g.group_key AND n.deleted_at IS NULL
                     ORDER BY n.created_at DESC, n.id DESC LIMIT 1),
               sample_actor_ids = ARRAY(
                   SELECT a.actor_id FROM (
                       SELECT n.created_at, n.id, r.actor_id, r.ord
                         FROM (SELECT * FROM inbox.notifications n
                                WHERE n.user_id = g.user_id AND n.group_key = g.group_key AND n.deleted_at IS NULL
                                ORDER BY n.created_at DESC, n.id DESC LIMIT 20) AS n,
                              pg_catalog.unnest(n.recent_actor_ids) WITH ORDINALITY AS r(actor_id, ord)) AS a
                    GROUP BY a.actor_id
                    ORDER BY max(a.created_at) DESC, max(a.id) DESC, min(a.ord), a.actor_id
                    LIMIT 8)
          FROM (SELECT DISTINCT d.user_id, d.group_key FROM pg_catalog.unnest(deltas) AS d
                 WHERE d.group_key IS NOT NULL) AS t
         WHERE g.user_id = t.user_id AND g.group_key = t.group_key;
    END IF;

    DELETE FROM inbox.notification_groups AS g
     USING (SELECT DISTINCT d.user_id, d.group_key FROM pg_catalog.unnest(deltas) AS d
             WHERE d.group_key IS NOT NULL) AS t
     WHERE g.user_id = t.user_id AND g.group_key = t.group_key AND g.notifications_count = 0;
END
$$;

-- The same work on a shard of a Citus cluster, where the triggers fire with that shard's rows.
-- A statement there may only touch shards on this node, and Citus routes a statement to one
-- shard only when its user_id is a constant: a join with the deltas would go to every shard. So
-- each user, workspace and group is one statement keyed by the loop's user_id, rows touched in
-- the order of the function above. (One node keeps that function: this form, a statement per
-- user, costs about half as much again on a grouped fan-out of 10,000.)
--
-- The feed's events likewise: each user's ids come from that user's counter upsert, and each
-- event row is one INSERT ... VALUES routed to the user's shard of inbox.events (a user has at
-- most inbox._feed_threshold() of them a statement; beyond, one summary).
CREATE FUNCTION inbox._apply_counter_deltas_by_user(deltas inbox.counter_delta[], refresh_groups boolean,
                                                    events inbox.feed_event[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    d record;
    threshold integer := CASE WHEN events IS NOT NULL THEN inbox._feed_threshold() END;
    positions inbox.feed_position[] := '{}';
    last_id   bigint;
    unread_now bigint;
BEGIN
    FOR d IN SELECT coalesce(a.user_id, e.user_id) AS user_id, coalesce(a.active, 0) AS active,
                    coalesce(a.unread, 0) AS unread, coalesce(a.deleted, 0) AS deleted,
                    e.n, inbox._feed_ids(e.n, threshold) AS ids
               FROM (SELECT x.user_id, sum(x.active) AS active, sum(x.unread) AS unread, sum(x.deleted) AS deleted
                       FROM pg_catalog.unnest(deltas) AS x
                      GROUP BY x.user_id) AS a
               FULL JOIN (SELECT x.user_id, pg_catalog.count(*) AS n
                            FROM pg_catalog.unnest(events) AS x
                           GROUP BY x.user_id) AS e ON e.user_id = a.user_id
              WHERE e.n IS NOT NULL OR a.active <> 0 OR a.unread <> 0 OR a.deleted <> 0
              ORDER BY 1 LOOP
        INSERT INTO inbox.user_counters AS c (user_id, active, unread, deleted, last_event_id)
        VALUES (d.user_id, d.active, d.unread, d.deleted, d.ids)
        ON CONFLICT (user_id) DO UPDATE
           SET active  = c.active  + excluded.active,
               unread  = c.unread  + excluded.unread,
               deleted = c.deleted + excluded.deleted,
               last_event_id = c.last_event_id + excluded.last_event_id
        RETURNING c.last_event_id, c.unread INTO last_id, unread_now;
        IF d.ids > 0 THEN
            positions := positions || ROW(d.user_id, last_id, unread_now, d.n)::inbox.feed_position;
        END IF;
    END LOOP;
    FOR d IN SELECT * FROM inbox._event_rows(events, positions, threshold) LOOP
        INSERT INTO inbox.events (user_id, id, event, notification_id, workspace_id, unread, data)
        VALUES (d.user_id, d.id, d.event, d.notification_id, d.workspace_id, d.unread, d.data);
    END LOOP;

    FOR d IN SELECT x.user_id, x.workspace_id, sum(x.active) AS active, sum(x.unread) AS unread,
                    sum(x.deleted) AS deleted
               FROM pg_catalog.unnest(deltas) AS x
              WHERE x.workspace_id IS NOT NULL
              GROUP BY x.user_id, x.workspace_id
             HAVING sum(x.active) <> 0 OR sum(x.unread) <> 0 OR sum(x.deleted) <> 0
              ORDER BY x.user_id, x.workspace_id LOOP
        INSERT INTO inbox.workspace_counters AS c (user_id, workspace_id, active, unread, deleted)
        VALUES (d.user_id, d.workspace_id, d.active, d.unread, d.deleted)
        ON CONFLICT (user_id, workspace_id) DO UPDATE
           SET active  = c.active  + excluded.active,
               unread  = c.unread  + excluded.unread,
               deleted = c.deleted + excluded.deleted;
    END LOOP;

    FOR d IN SELECT x.user_id, x.group_key, sum(x.active) AS active, sum(x.unread) AS unread
               FROM pg_catalog.unnest(deltas) AS x
              WHERE x.group_key IS NOT NULL
              GROUP BY x.user_id, x.group_key
              ORDER BY x.user_id, x.group_key LOOP
        INSERT INTO inbox.notification_groups AS g (user_id, group_key, notifications_count, unread_count)
        VALUES (d.user_id, d.group_key, d.active, d.unread)
        ON CONFLICT (user_id, group_key) DO UPDATE
           SET notifications_count = g.notifications_count + excluded.notifications_count,
               unread_count        = g.unread_count + excluded.unread_count;
        IF refresh_groups THEN
            UPDATE inbox.notification_groups AS g
               SET (latest_at, latest_id, type) =
                       (SELECT n.created_at, n.id, n.type FROM inbox.notifications n
                         WHERE n.user_id = d.user_id AND n.group_key = d.group_key AND n.deleted_at IS NULL
                         ORDER BY n.created_at DESC, n.id DESC LIMIT 1),
                   sample_actor_ids = ARRAY(
                       SELECT a.actor_id FROM (
                           SELECT n.created_at, n.id, r.actor_id, r.ord
                             FROM (SELECT * FROM inbox.notifications n
                                    WHERE n.user_id = d.user_id AND n.group_key = d.group_key AND n.deleted_at IS NULL
                                    ORDER BY n.created_at DESC, n.id DESC LIMIT 20) AS n,
                                  pg_catalog.unnest(n.recent_actor_ids) WITH ORDINALITY AS r(actor_id, ord)) AS a
                        GROUP BY a.actor_id
                        ORDER BY max(a.created_at) DESC, max(a.id) DESC, min(a.ord), a.actor_id
                        LIMIT 8)
             WHERE g.user_id = d.user_id AND g.group_key = d.group_key;
        END IF;
        DELETE FROM inbox.notification_groups AS g
         WHERE g.user_id = d.user_id AND g.group_key = d.group_key AND g.notifications_count = 0;
    END LOOP;
END
$$;

-- Applies a trigger's deltas: on inbox.notifications itself in bulk, on a Citus shard
-- (inbox.notifications_102008, ...) user by user.
CREATE FUNCTION inbox._apply_trigger_deltas(on_table boolean, deltas inbox.counter_delta[], refresh_groups boolean,
                                            events inbox.feed_event[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF on_table THEN
        PERFORM inbox._apply_counter_deltas(deltas, refresh_groups, events);
    ELSE
        PERFORM inbox._apply_counter_deltas_by_user(deltas, refresh_groups, events);
    END IF;
END
$$;

-- On a shard the transition tables have the shard's row type, hence ROW(n.*)::inbox.notifications
-- for a whole row.
--
-- The same triggers feed the change feed (45_feed.sql): each passes its rows' events, built
-- from the transition tables (no JSON: inbox.changes reads the payload when it is delivered),
-- or NULL when the session has switched the feed off (inbox._feed_on()).
CREATE OR REPLACE FUNCTION inbox._counters_after_insert() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1) FROM new_rows n), true,
        CASE WHEN inbox._feed_on() THEN ARRAY(
            SELECT ROW(n.user_id, n.id, n.workspace_id, 'notification.created',
                       (n.deleted_at IS NULL AND n.read_at IS NULL)::int, false)::inbox.feed_event
              FROM new_rows n) END);
    RETURN NULL;
END
$$;

-- A row's event: notification.deleted when it was soft-deleted, notification.restored when it
-- came back, notification.updated for any other change (read, unread, archive, unarchive, a
-- field, an actor aggregating into it). A row whose user_id changed left one user's inbox
-- (notification.purged) and entered another's (notification.created); a row that did not change
-- at all has no event.
CREATE OR REPLACE FUNCTION inbox._counters_after_update() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1) FROM new_rows n
        UNION ALL
        SELECT inbox._counter_delta(ROW(o.*)::inbox.notifications, -1) FROM old_rows o),
        -- Group summaries are read again only when a grouped row changed what they show, or
        -- moved (a read, unread or archive does not).
        EXISTS (SELECT FROM old_rows o
                  LEFT JOIN new_rows n ON n.user_id = o.user_id AND n.id = o.id
                 WHERE (o.group_key IS NOT NULL OR n.group_key IS NOT NULL)
                   AND (n.id IS NULL
                        OR (o.group_key, o.type, o.created_at, o.deleted_at IS NULL, o.recent_actor_ids)
                           IS DISTINCT FROM
                           (n.group_key, n.type, n.created_at, n.deleted_at IS NULL, n.recent_actor_ids))),
        CASE WHEN inbox._feed_on() THEN ARRAY(
            SELECT ROW(coalesce(n.user_id, o.user_id), coalesce(n.id, o.id), coalesce(n.workspace_id, o.workspace_id),
                       CASE WHEN n.id IS NULL THEN 'notification.purged'
                            WHEN o.id IS NULL THEN 'notification.created'
                            WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN 'notification.deleted'
                            WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'notification.restored'
                            ELSE 'notification.updated'
                       END,
                       coalesce((n.deleted_at IS NULL AND n.read_at IS NULL)::int, 0)
                       - coalesce((o.deleted_at IS NULL AND o.read_at IS NULL)::int, 0),
                       coalesce(o.read_at IS NULL AND n.read_at IS NOT NULL
                                AND (o.workspace_id, o.type, o.title, o.body, o.data, o.actor_id, o.collection, o.item,
                                     o.group_key, o.recent_actor_ids, o.actor_count, o.archived_at, o.deleted_at,
                                     o.created_at)
                                    IS NOT DISTINCT FROM
                                    (n.workspace_id, n.type, n.title, n.body, n.data, n.actor_id, n.collection, n.item,
                                     n.group_key, n.recent_actor_ids, n.actor_count, n.archived_at, n.deleted_at,
                                     n.created_at), false))::inbox.feed_event
              FROM old_rows o
              FULL JOIN new_rows n ON n.user_id = o.user_id AND n.id = o.id
             WHERE ROW(o.*) IS DISTINCT FROM ROW(n.*)
             ORDER BY coalesce(n.id, o.id)) END);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION inbox._counters_after_delete() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(o.*)::inbox.notifications, -1) FROM old_rows o), true,
        CASE WHEN inbox._feed_on() THEN ARRAY(
            SELECT ROW(o.user_id, o.id, o.workspace_id, 'notification.purged',
                       -(o.deleted_at IS NULL AND o.read_at IS NULL)::int, false)::inbox.feed_event
              FROM old_rows o
             ORDER BY o.id) END);
    RETURN NULL;
END
$$;

-- On Citus a TRUNCATE of inbox.notifications fires this on the coordinator's table (which then
-- truncates the counter tables, cluster-wide, once) and again on every shard, where it must not:
-- one truncate of every counter shard per notifications shard deadlocks.
--
-- The change feed goes with the counters (45_feed.sql, "TRUNCATE"): inbox.events is emptied and
-- every user's event ids start again at 1.
CREATE OR REPLACE FUNCTION inbox._counters_after_truncate() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_TABLE_NAME = 'notifications' THEN
        TRUNCATE inbox.user_counters, inbox.workspace_counters, inbox.notification_groups, inbox.events;
    END IF;
    RETURN NULL;
END
$$;

-- Recomputes every counter from the rows (after a restore, or to prove them exact).
-- It reads every user's rows: on a Citus cluster, every shard (see 80_citus.sql).
CREATE OR REPLACE FUNCTION inbox.rebuild_counters()
RETURNS void
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    -- The feed's positions are no count of rows: they are kept, not rebuilt.
    heads inbox.feed_position[] := ARRAY(SELECT ROW(c.user_id, c.last_event_id, 0, 0)::inbox.feed_position
                                           FROM inbox.user_counters c WHERE c.last_event_id > 0);
BEGIN
    TRUNCATE inbox.user_counters, inbox.workspace_counters, inbox.notification_groups;
    PERFORM inbox._apply_counter_deltas(ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1) FROM inbox.notifications n));
    INSERT INTO inbox.user_counters AS c (user_id, last_event_id)
    SELECT h.user_id, h.last_event_id FROM pg_catalog.unnest(heads) AS h ORDER BY h.user_id
    ON CONFLICT (user_id) DO UPDATE SET last_event_id = excluded.last_event_id;
END
$$;

CREATE TABLE inbox.events (
    user_id         text        NOT NULL,
    id              bigint      NOT NULL,
    event           text        NOT NULL,
    -- The notification's internal id; NULL for summaries.
    notification_id bigint,
    workspace_id    text,
    -- The user's unread count after this change when the change moved it, else NULL.
    unread          bigint,
    -- A summary's object; NULL for the events of one notification (inbox.changes reads it).
    data            jsonb,
    -- The writing transaction: inbox.poll_events reads by it (on a Citus cluster, the id of
    -- the worker's transaction: xids are per node).
    xid             xid8        NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT events_pkey PRIMARY KEY (user_id, id)
);

-- The poller's reads (inbox.poll_events) and the pruning (inbox.prune_events): xids only grow,
-- so each insert lands on the index's rightmost page.
CREATE INDEX events_xid_idx ON inbox.events (xid);

COMMENT ON TABLE inbox.events IS
    'The change feed: per user, gapless event ids in commit order (inbox.changes, inbox.poll_events). Appended by the counter triggers; pruned by inbox.prune_events().';

-- Whether this session's changes go into the feed (the setting inbox.feed, default on).
CREATE FUNCTION inbox._feed_on()
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN coalesce(nullif(pg_catalog.current_setting('inbox.feed', true), '')::boolean, true);
EXCEPTION WHEN invalid_text_representation THEN
    RAISE EXCEPTION 'inbox.feed: expected on or off, got "%"', pg_catalog.current_setting('inbox.feed', true)
          USING ERRCODE = 'invalid_parameter_value';
END
$$;

-- How many events of one user one statement may append before they become one summary.
CREATE FUNCTION inbox._feed_threshold()
RETURNS integer
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    setting text := nullif(pg_catalog.current_setting('inbox.feed_summary_threshold', true), '');
    threshold integer;
BEGIN
    IF setting IS NULL THEN
        RETURN 50;
    END IF;
    BEGIN
        threshold := setting::integer;
    EXCEPTION WHEN OTHERS THEN
        threshold := NULL;
    END;
    IF threshold IS NULL OR threshold < 1 THEN
        RAISE EXCEPTION 'inbox.feed_summary_threshold: expected an integer of at least 1, got "%"', setting
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN threshold;
END
$$;

-- The retention window (the setting inbox.feed_retention, default 24 hours).
CREATE FUNCTION inbox._feed_retention()
RETURNS interval
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    setting text := nullif(pg_catalog.current_setting('inbox.feed_retention', true), '');
    retention interval;
BEGIN
    IF setting IS NULL THEN
        RETURN interval '24 hours';
    END IF;
    BEGIN
        retention := setting::interval;
    EXCEPTION WHEN OTHERS THEN
        retention := NULL;
    END;
    IF retention IS NULL OR retention < interval '0' THEN
        RAISE EXCEPTION 'inbox.feed_retention: expected a positive interval, got "%"', setting
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN retention;
END
$$;

-- How many ids a user's `n` events of one statement take: one summary beyond the threshold.
CREATE FUNCTION inbox._feed_ids(n bigint, threshold integer)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN n IS NULL THEN 0 WHEN n > threshold THEN 1 ELSE n END
$$;

-- The rows of inbox.events for a statement's events, given each user's counter row after the
-- upsert that took their ids (`positions`: last_event_id is the last of them, unread the count
-- after the statement, events how many the user had). A user's events are numbered in the order
-- the trigger listed them, each with the unread count after it when it moved it; beyond the
-- threshold, one summary.
--
-- A fan-out is one event for each of many users: that case is one hash join, no grouping and no
-- sort (grouping and ranking 10,000 users' events cost more than appending them). PL/pgSQL, so
-- that the three statements are planned once a session.
CREATE FUNCTION inbox._event_rows(events inbox.feed_event[], positions inbox.feed_position[], threshold integer)
RETURNS TABLE (user_id text, id bigint, event text, notification_id bigint, workspace_id text,
               unread bigint, data jsonb)
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    RETURN QUERY
    SELECT x.user_id, p.last_event_id, x.event, x.notification_id, x.workspace_id,
           CASE WHEN x.unread <> 0 THEN p.unread END, NULL::jsonb
      FROM pg_catalog.unnest(events) AS x JOIN pg_catalog.unnest(positions) AS p ON p.user_id = x.user_id
     WHERE p.events = 1;
    IF NOT EXISTS (SELECT FROM pg_catalog.unnest(positions) AS p WHERE p.events > 1) THEN
        RETURN;
    END IF;
    -- Several events of a user, up to the threshold: numbered in order.
    RETURN QUERY
    SELECT x.user_id, p.last_event_id - p.events + pg_catalog.row_number() OVER w, x.event, x.notification_id,
           x.workspace_id, CASE WHEN x.unread <> 0 THEN (p.unread - sum(x.unread) OVER all_of_user + sum(x.unread) OVER w)::bigint END,
           NULL::jsonb
      FROM pg_catalog.unnest(events) WITH ORDINALITY AS x(user_id, notification_id, workspace_id, event, unread, read_only, ord)
      JOIN pg_catalog.unnest(positions) AS p ON p.user_id = x.user_id
     WHERE p.events > 1 AND p.events <= threshold
    WINDOW w AS (PARTITION BY x.user_id ORDER BY x.ord),
           all_of_user AS (PARTITION BY x.user_id);
    -- Beyond it: one summary.
    RETURN QUERY
    SELECT s.user_id, p.last_event_id,
           CASE WHEN s.read_only THEN 'notification.read_all' ELSE 'notification.bulk' END, NULL::bigint, s.scope,
           CASE WHEN s.moved <> 0 THEN p.unread END,
           CASE WHEN s.read_only THEN pg_catalog.jsonb_build_object('workspaceId', s.scope)
                ELSE pg_catalog.jsonb_build_object('workspaceId', s.scope, 'count', p.events) END
      FROM (SELECT x.user_id, sum(x.unread) AS moved, bool_and(x.read_only) AS read_only,
                   CASE WHEN pg_catalog.count(x.workspace_id) = pg_catalog.count(*)
                         AND min(x.workspace_id) = max(x.workspace_id) THEN min(x.workspace_id) END AS scope
              FROM pg_catalog.unnest(events) AS x
             GROUP BY x.user_id) AS s
      JOIN pg_catalog.unnest(positions) AS p ON p.user_id = s.user_id
     WHERE p.events > threshold;
END
$$;

-- Appends one event for a user outside the counter triggers, taking the next id of the user
-- the same way (the counter row's lock, held to commit): for a change that touches no row of
-- inbox.notifications one by one, such as a constant-time read-all (issue 19), which appends
-- notification.read_all with data {"workspaceId": w-or-null}. Call it AFTER changing the
-- counters: with unread_moved, the event carries the user's unread count as it then is.
-- Returns the event's id. Honours inbox.feed (returns NULL when off).
CREATE FUNCTION inbox._append_event(user_id text, event text, workspace_id text DEFAULT NULL,
                                    data jsonb DEFAULT NULL, unread_moved boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    new_id bigint;
    unread_now bigint;
BEGIN
    IF NOT inbox._feed_on() THEN
        RETURN NULL;
    END IF;
    INSERT INTO inbox.user_counters AS c (user_id, last_event_id) VALUES (_append_event.user_id, 1)
    ON CONFLICT ON CONSTRAINT user_counters_pkey DO UPDATE SET last_event_id = c.last_event_id + 1
    RETURNING c.last_event_id, c.unread INTO new_id, unread_now;
    INSERT INTO inbox.events (user_id, id, event, workspace_id, unread, data)
    VALUES (_append_event.user_id, new_id, _append_event.event, _append_event.workspace_id,
            CASE WHEN unread_moved THEN unread_now END, _append_event.data);
    RETURN new_id;
END
$$;

CREATE FUNCTION inbox.feed_head(user_id text)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    head bigint;
BEGIN
    SELECT c.last_event_id INTO head FROM inbox.user_counters c WHERE c.user_id = feed_head.user_id;
    RETURN coalesce(head, 0);
END
$$;

COMMENT ON FUNCTION inbox.feed_head(text) IS
    'The id of the user''s last event in the change feed (0 when none): where a new stream starts.';

-- The user's events after `after`, in id order. The data of an event of one notification is
-- read now (the row as it is now, in the API shape), so the triggers build no JSON; a row that
-- is gone, and a purge, give {"id": "<public id>"}. Resumable points are the user's oldest kept
-- event id - 1 up to the head (with no event kept, the head alone); any other `after` is an error
-- (22023) that a stream turns into `reset`. With workspace_id, the events of that workspace and
-- the summaries whose scope is that workspace or none.
--
-- PL/pgSQL cannot name a parameter as a column of its result (workspace_id): inbox.changes is
-- the SQL declaration over inbox._changes, whose parameter is `scope`.
CREATE FUNCTION inbox._changes(user_id text, after bigint, "limit" integer, scope text)
RETURNS TABLE (id bigint, event text, workspace_id text, unread bigint, data jsonb)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    head   bigint := inbox.feed_head(_changes.user_id);
    oldest bigint;
BEGIN
    IF _changes."limit" IS NULL OR _changes."limit" NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'limit: expected 1 to 10000, got %', coalesce(_changes."limit"::text, 'null')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF after IS NULL THEN
        RETURN;  -- the head only: inbox.feed_head() says where it is
    END IF;
    IF after > head OR after < 0 THEN
        RAISE EXCEPTION 'cannot resume the feed after event %', after
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = pg_catalog.format('The last event of this user is %s.', head);
    END IF;
    SELECT min(e.id) INTO oldest FROM inbox.events e WHERE e.user_id = _changes.user_id;
    IF after < coalesce(oldest - 1, head) THEN
        RAISE EXCEPTION 'cannot resume the feed after event %', after
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = CASE WHEN oldest IS NULL
                                  THEN pg_catalog.format('It is older than the retention window: no event is kept, the last was %s.', head)
                                  ELSE pg_catalog.format('It is older than the retention window: the oldest kept event is %s.', oldest)
                             END;
    END IF;
    RETURN QUERY
    SELECT e.id, e.event, e.workspace_id, e.unread,
           CASE WHEN e.notification_id IS NULL THEN e.data
                WHEN n.id IS NULL OR e.event = 'notification.purged'
                THEN pg_catalog.jsonb_build_object('id', inbox.public_id(e.notification_id))
                ELSE inbox.to_json(ROW(n.*)::inbox.notifications)
           END
      FROM inbox.events e
      LEFT JOIN inbox.notifications n ON n.user_id = e.user_id AND n.id = e.notification_id
     WHERE e.user_id = _changes.user_id AND e.id > after
       AND (_changes.scope IS NULL OR e.workspace_id = _changes.scope
            OR (e.notification_id IS NULL AND e.workspace_id IS NULL))
     ORDER BY e.id
     LIMIT _changes."limit";
END
$$;

CREATE FUNCTION inbox.changes(user_id text, after bigint DEFAULT NULL, "limit" integer DEFAULT 100,
                              workspace_id text DEFAULT NULL)
RETURNS TABLE (id bigint, event text, workspace_id text, unread bigint, data jsonb)
LANGUAGE sql STABLE
AS $$
    SELECT * FROM inbox._changes(user_id, after, "limit", workspace_id)
$$;

COMMENT ON FUNCTION inbox.changes(text, bigint, integer, text) IS
    'The user''s change-feed events after event `after`, in order (at most `limit`), with each notification as it is now. An `after` outside the kept window raises 22023 (a stream sends reset).';

-- On one node, inbox.events; on a Citus cluster the events of the node it runs on (its shards
-- of inbox.events, by the names Citus's catalog gives them), which inbox.poll_events reads node
-- by node: xids are per node (80_citus.sql).
CREATE FUNCTION inbox._feed_local_source()
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    shards text;
BEGIN
    IF NOT inbox._citus_managed('inbox.events') THEN
        RETURN 'inbox.events';
    END IF;
    EXECUTE 'SELECT pg_catalog.string_agg(pg_catalog.format(''SELECT * FROM %s'', pg_catalog.shard_name(s.logicalrelid, s.shardid)),
                                          '' UNION ALL '' ORDER BY s.shardid)
               FROM pg_catalog.pg_dist_shard s
               JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid
              WHERE s.logicalrelid = ''inbox.events''::regclass
                AND pl.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g)'
       INTO shards;
    -- A node without a shard of it reads an empty set of the same columns.
    RETURN '(' || coalesce(shards, 'SELECT * FROM inbox.events WHERE false') || ')';
END
$$;

-- The server's one poller: what committed since `cursor`, across all users, so that it knows
-- which users have new events (it then reads them with inbox.changes). Its cost does not depend
-- on how many streams are connected.
--
-- Xids are assigned in one order and commit in another, so "the events after the last xid seen"
-- would skip one whose transaction took its xid early and committed late. The cursor holds
--   x  every event with a lower xid has been returned or never will exist (x was the xmin of a
--      snapshot: every transaction below it had ended, committed or not);
--   p  a snapshot whose visible events have all been returned;
--   k  while a page of the final range [x, xmin) is being read, the last (xid, user, id) of it.
-- A poll takes its snapshot s (xmin m), then returns
--   (a) the events with x <= xid < m not visible in p (final: no more can appear there), by
--       (xid, user_id, id) after k, at most `limit`. A full page keeps x and p and moves k.
--   (b) otherwise, then, the events with xid >= m that s sees and p did not: the recent ones,
--       committed while an older transaction still runs. If they fit in the rest of the limit,
--       p becomes s; if not, those that fit are returned, p stays and they come again later
--       (as (a) once final). x becomes m.
-- So no event is ever skipped, and an event comes twice only after a full page. A long-running
-- writing transaction holds m back; (b) then reads every event since it started, each poll
-- (bounded by the retention window; README, "Change feed").
--
-- Rows come ordered by user and id. A user's lower id can come in a later poll than a higher
-- one (other users' pages in between): consumers drop what they have passed, and read a user's
-- events with inbox.changes(user, after => last id passed), which returns every id in order.
-- `cursor` NULL starts from now. A poll with no events returns one row, user_id NULL, for its
-- cursor. The cursor is opaque text (JSON today).
--
-- inbox._poll_node is that poll over the events of one node; inbox.poll_events calls it on this
-- node, or on a Citus cluster on every node with a cursor a node (80_citus.sql).
CREATE FUNCTION inbox._poll_node(cursor text, "limit" integer)
RETURNS TABLE (next_cursor text, user_id text, id bigint, event text, workspace_id text, unread bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    s      pg_catalog.pg_snapshot := pg_catalog.pg_current_snapshot();
    m      xid8 := pg_catalog.pg_snapshot_xmin(s);
    c      jsonb;
    x      xid8;
    p      pg_catalog.pg_snapshot;
    kx     xid8;
    ku     text;
    ki     bigint;
    page   inbox.events[];
    recent inbox.events[];
    last   inbox.events;
    room   integer;
    out_cursor jsonb;
    source text := inbox._feed_local_source();
BEGIN
    IF _poll_node."limit" IS NULL OR _poll_node."limit" NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION 'limit: expected 1 to 100000, got %', coalesce(_poll_node."limit"::text, 'null')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF _poll_node.cursor IS NULL THEN
        next_cursor := pg_catalog.jsonb_build_object('x', m::text, 'p', s::text)::text;
        RETURN NEXT;
        RETURN;
    END IF;
    BEGIN
        c  := _poll_node.cursor::jsonb;
        x  := (c->>'x')::xid8;
        p  := (c->>'p')::pg_catalog.pg_snapshot;
        kx := (c->'k'->>0)::xid8;
        ku := c->'k'->>1;
        ki := (c->'k'->>2)::bigint;
    EXCEPTION WHEN OTHERS THEN
        x := NULL;
    END;
    IF x IS NULL OR p IS NULL OR (c ? 'k' AND (kx IS NULL OR ku IS NULL OR ki IS NULL)) THEN
        RAISE EXCEPTION 'invalid feed cursor'
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Pass the next_cursor of the previous poll, or NULL to start from now.';
    END IF;

    -- (a) the final range.
    EXECUTE pg_catalog.format(
        'SELECT ARRAY(SELECT ROW(e.*)::inbox.events FROM %s AS e
                       WHERE e.xid >= $1 AND e.xid < $2 AND ($4 IS NULL OR e.xid >= $4)
                         AND NOT pg_catalog.pg_visible_in_snapshot(e.xid, $3)
                         AND ($4 IS NULL OR (e.xid, e.user_id COLLATE "C", e.id) > ($4, $5 COLLATE "C", $6))
                       ORDER BY e.xid, e.user_id COLLATE "C", e.id
                       LIMIT $7)', source)
       INTO page USING x, m, p, kx, ku, ki, _poll_node."limit";
    room := _poll_node."limit" - pg_catalog.cardinality(page);
    IF room = 0 THEN
        last := page[pg_catalog.cardinality(page)];
        out_cursor := pg_catalog.jsonb_build_object('x', x::text, 'p', p::text,
                                                    'k', pg_catalog.jsonb_build_array(last.xid::text, last.user_id, last.id));
    ELSE
        -- (b) the recent ones, one more than fits to know whether they all did.
        EXECUTE pg_catalog.format(
            'SELECT ARRAY(SELECT ROW(e.*)::inbox.events FROM %s AS e
                           WHERE e.xid >= $1 AND pg_catalog.pg_visible_in_snapshot(e.xid, $2)
                             AND NOT pg_catalog.pg_visible_in_snapshot(e.xid, $3)
                           ORDER BY e.xid, e.user_id COLLATE "C", e.id
                           LIMIT $4)', source)
           INTO recent USING m, s, p, room + 1;
        IF pg_catalog.cardinality(recent) <= room THEN
            out_cursor := pg_catalog.jsonb_build_object('x', m::text, 'p', s::text);
        ELSE
            recent := recent[1:room];
            out_cursor := pg_catalog.jsonb_build_object('x', m::text, 'p', p::text);
        END IF;
        page := page || recent;
    END IF;

    next_cursor := out_cursor::text;
    IF pg_catalog.cardinality(page) = 0 THEN
        RETURN NEXT;
        RETURN;
    END IF;
    RETURN QUERY SELECT next_cursor, e.user_id, e.id, e.event, e.workspace_id, e.unread
                   FROM pg_catalog.unnest(page) AS e
                  ORDER BY e.user_id COLLATE "C", e.id;
END
$$;

CREATE FUNCTION inbox.poll_events(cursor text DEFAULT NULL, "limit" integer DEFAULT 1000)
RETURNS TABLE (next_cursor text, user_id text, id bigint, event text, workspace_id text, unread bigint)
LANGUAGE plpgsql
-- On a Citus cluster it reads every node, by design.
SET citus.multi_task_query_log_level = off
AS $$
BEGIN
    IF inbox._citus_managed('inbox.events') THEN
        RETURN QUERY SELECT * FROM inbox._citus_poll_events(poll_events.cursor, poll_events."limit");
    ELSE
        RETURN QUERY SELECT * FROM inbox._poll_node(poll_events.cursor, poll_events."limit");
    END IF;
END
$$;

COMMENT ON FUNCTION inbox.poll_events(text, integer) IS
    'The server''s poller: change-feed events committed since `cursor` across all users (NULL: from now), never skipping one that commits late; a row may come again. Returns next_cursor on every row (one row with NULL user_id when none).';

-- Removes events older than the retention window (inbox.feed_retention), at most `batch` of
-- them, oldest transactions first; returns how many. Run it until it returns less than `batch`
-- (a cron job, pg_cron, or the server). Events a little past the window can stay until an older
-- one ahead of them goes (the order is by xid, which follows created_at but for a transaction
-- that wrote long after it began): the window is a minimum. On a Citus cluster: at most `batch`
-- a shard, every shard (80_citus.sql).
CREATE FUNCTION inbox.prune_events(batch integer DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    cutoff  timestamptz := pg_catalog.now() - inbox._feed_retention();
    removed bigint;
BEGIN
    IF batch IS NULL OR batch < 1 THEN
        RAISE EXCEPTION 'batch: expected at least 1, got %', coalesce(batch::text, 'null')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF inbox._citus_managed('inbox.events') THEN
        RETURN inbox._citus_prune_events(cutoff, batch);
    END IF;
    DELETE FROM inbox.events e
     USING (SELECT o.user_id, o.id, o.created_at FROM inbox.events o ORDER BY o.xid LIMIT batch) AS old
     WHERE e.user_id = old.user_id AND e.id = old.id AND old.created_at < cutoff;
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END
$$;

COMMENT ON FUNCTION inbox.prune_events(integer) IS
    'Deletes at most `batch` change-feed events older than inbox.feed_retention (default 24 hours); returns how many. Call it until it returns less than batch.';

-- 80_citus: inbox.events is distributed with the notifications; inbox.changes and
-- inbox.feed_head are delegated; the poller and the pruning visit every node.

-- The tables Citus manages, in the order they are distributed: per-user ones by user_id,
-- colocated with inbox.notifications (first), and the global ones as reference tables.
CREATE OR REPLACE FUNCTION inbox._citus_tables()
RETURNS TABLE (relation regclass, reference boolean)
LANGUAGE sql STABLE
AS $$
    VALUES ('inbox.notifications'::regclass, false),
           ('inbox.user_counters'::regclass, false),
           ('inbox.workspace_counters'::regclass, false),
           ('inbox.notification_groups'::regclass, false),
           ('inbox.notification_actors'::regclass, false),
           ('inbox.idempotency_keys'::regclass, false),
           ('inbox.events'::regclass, false),
           ('inbox.notification_types'::regclass, true),
           ('inbox.writable_fields'::regclass, true),
           ('inbox.relations'::regclass, true),
           ('inbox.tokens'::regclass, true),
           ('inbox.cursor_secrets'::regclass, true)
$$;

-- The functions Citus delegates to the node that holds the user named by their first argument.
CREATE OR REPLACE FUNCTION inbox._citus_functions()
RETURNS regprocedure[]
LANGUAGE sql STABLE
AS $$
    SELECT ARRAY['inbox.create(text,jsonb)', 'inbox.get(text,text,boolean)',
                 'inbox.update(text,text,jsonb)', 'inbox.update(text,text[],jsonb)',
                 'inbox.mark_read(text,text)', 'inbox.mark_read(text,text[])',
                 'inbox.mark_unread(text,text)', 'inbox.mark_unread(text,text[])',
                 'inbox.archive(text,text)', 'inbox.archive(text,text[])',
                 'inbox.unarchive(text,text)', 'inbox.unarchive(text,text[])',
                 'inbox.soft_delete(text,text)', 'inbox.soft_delete(text,text[])',
                 'inbox.restore(text,text)', 'inbox.restore(text,text[])',
                 'inbox.purge(text,text)', 'inbox.purge(text,text[])',
                 'inbox.delete(text,text)', 'inbox.delete(text,text[])',
                 'inbox.mark_all_read(text,text)', 'inbox.unread_count(text,text)',
                 'inbox.list(text,jsonb)', 'inbox.groups(text,jsonb)',
                 'inbox.changes(text,bigint,integer,text)', 'inbox.feed_head(text)']::regprocedure[]
$$;

CREATE OR REPLACE FUNCTION inbox.undistribute()
RETURNS jsonb
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
-- The notifications going back are no change: the feed's events are copied as they are, and
-- each user's last event id is kept (see below).
SET inbox.feed = off
AS $$
DECLARE
    t record;
    f regprocedure;
    copy text;
    saved bigint := 0;
    n bigint;
BEGIN
    PERFORM inbox._citus_coordinator('inbox.undistribute()');
    -- Citus's undistribute_table() cannot be used: it recreates the table and drops the old one
    -- with CASCADE, which would take every function of this extension that uses the row type
    -- with it (it refuses, as the extension owns the table). Instead the rows are copied out,
    -- Citus forgets the tables (its own steps for a dropped table: metadata on the workers,
    -- shards, metadata here), and the rows go back into the tables, which stay where they are.
    FOREACH f IN ARRAY inbox._citus_functions() LOOP
        PERFORM pg_catalog.citus_unmark_object_distributed('pg_catalog.pg_proc'::regclass, f::oid, 0, false);
    END LOOP;
    FOR t IN SELECT c.relation FROM inbox._citus_tables() AS c WHERE inbox._citus_managed(c.relation) LOOP
        -- The counters are not copied: inserting the notifications back rebuilds them.
        CONTINUE WHEN t.relation IN ('inbox.user_counters'::regclass, 'inbox.workspace_counters'::regclass,
                                     'inbox.notification_groups'::regclass);
        EXECUTE pg_catalog.format('CREATE TEMPORARY TABLE %I ON COMMIT DROP AS SELECT * FROM %s',
                                  'pg_inbox_saved_' || (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = t.relation),
                                  t.relation);
    END LOOP;
    -- The change feed's positions are no count of rows: kept, where the counters are rebuilt.
    CREATE TEMPORARY TABLE pg_inbox_saved_feed_heads ON COMMIT DROP AS
    SELECT c.user_id, c.last_event_id FROM inbox.user_counters c WHERE c.last_event_id > 0;
    FOR t IN SELECT c.relation, r.relname FROM inbox._citus_tables() WITH ORDINALITY AS c(relation, reference, o)
               JOIN pg_catalog.pg_class r ON r.oid = c.relation
              WHERE inbox._citus_managed(c.relation)
              ORDER BY c.o DESC LOOP
        PERFORM pg_catalog.master_remove_distributed_table_metadata_from_workers(t.relation, 'inbox', t.relname);
        PERFORM pg_catalog.citus_drop_all_shards(t.relation, 'inbox', t.relname);
        PERFORM pg_catalog.master_remove_partition_metadata(t.relation, 'inbox', t.relname);
    END LOOP;
    -- And the TRUNCATE trigger Citus put on each (citus_truncate_trigger, internal).
    FOR t IN SELECT g.tgname, g.tgrelid::regclass AS relation FROM pg_catalog.pg_trigger g
              WHERE g.tgfoid = 'pg_catalog.citus_truncate_trigger()'::regprocedure
                AND g.tgrelid IN (SELECT c.relation FROM inbox._citus_tables() AS c) LOOP
        EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', t.tgname, t.relation);
    END LOOP;
    TRUNCATE inbox.user_counters, inbox.workspace_counters, inbox.notification_groups;
    FOR t IN SELECT c.relation, r.relname FROM inbox._citus_tables() WITH ORDINALITY AS c(relation, reference, o)
               JOIN pg_catalog.pg_class r ON r.oid = c.relation
              WHERE pg_catalog.to_regclass('pg_temp.pg_inbox_saved_' || r.relname) IS NOT NULL
              ORDER BY c.o LOOP
        copy := 'pg_inbox_saved_' || t.relname;
        EXECUTE pg_catalog.format('DELETE FROM %s', t.relation);
        EXECUTE pg_catalog.format('INSERT INTO %s OVERRIDING SYSTEM VALUE SELECT * FROM pg_temp.%I', t.relation, copy);
        GET DIAGNOSTICS n = ROW_COUNT;
        saved := saved + n;
        EXECUTE pg_catalog.format('DROP TABLE pg_temp.%I', copy);
    END LOOP;
    INSERT INTO inbox.user_counters AS c (user_id, last_event_id)
    SELECT h.user_id, h.last_event_id FROM pg_temp.pg_inbox_saved_feed_heads h ORDER BY h.user_id
    ON CONFLICT (user_id) DO UPDATE SET last_event_id = excluded.last_event_id;
    DROP TABLE pg_temp.pg_inbox_saved_feed_heads;
    RETURN pg_catalog.jsonb_build_object('rows', saved);
END
$$;

COMMENT ON FUNCTION inbox.undistribute() IS
    'On the coordinator: brings every pg_inbox table back onto the coordinator as a plain table (rows, tokens, types, keys and the change feed kept; counters rebuilt) and drops the shards. Run it before DROP EXTENSION pg_inbox on a Citus cluster; restart change-feed pollers after it.';

-- The change feed's poller on a Citus cluster (45_feed.sql). An event's xid is the id of the
-- transaction of the node that holds its shard: xids are per node, and the snapshot that says
-- which of them have committed is that node's. So the poll runs on every node (one
-- run_command_on_all_nodes a poll: a connection a node, in parallel), each over its own shards
-- with its own part of the cursor ({"nodes": {"<nodeid>": <that node's cursor>}}), exactly as on
-- one node: nothing is skipped on any node. A node the cursor does not know (a node added since)
-- starts from now: it held no shard of the feed before, or a shard moved to it (below).
-- What it does not cover: a shard moved by the rebalancer carries its events' xids from the node
-- they were written on; on the new node they count as that node's xids. An event written just
-- before such a move can be missed by the poller (the stream learns of its user's next event and
-- reads every id from inbox.changes, which is per user and exact), and moved events can come
-- again. `limit` is a node's: a poll returns at most `limit` events of each node.
CREATE OR REPLACE FUNCTION inbox._citus_poll_node(cursor text, "limit" integer)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    me   integer;
    mine text;
    result jsonb;
BEGIN
    SELECT n.nodeid INTO me FROM pg_catalog.pg_dist_node n
     WHERE n.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g) AND n.noderole = 'primary';
    mine := (cursor::jsonb)->'nodes'->>(me::text);
    SELECT pg_catalog.jsonb_build_object(
               'node', me,
               'cursor', pg_catalog.max(p.next_cursor),
               'rows', coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(p.user_id, p.id, p.event, p.workspace_id, p.unread))
                                  FILTER (WHERE p.user_id IS NOT NULL), '[]'))
      INTO result
      FROM inbox._poll_node(mine, "limit") AS p;
    RETURN result::text;
END
$$;

CREATE OR REPLACE FUNCTION inbox._citus_poll_events(cursor text, "limit" integer)
RETURNS TABLE (next_cursor text, user_id text, id bigint, event text, workspace_id text, unread bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    c       jsonb;
    answer  record;
    part    jsonb;
    nodes   jsonb := '{}';
    found   jsonb := '[]';
BEGIN
    IF cursor IS NOT NULL THEN
        BEGIN
            c := cursor::jsonb;
        EXCEPTION WHEN OTHERS THEN
            c := NULL;
        END;
        IF pg_catalog.jsonb_typeof(c->'nodes') IS DISTINCT FROM 'object' THEN
            RAISE EXCEPTION 'invalid feed cursor'
                  USING ERRCODE = 'invalid_parameter_value',
                        HINT = 'Pass the next_cursor of the previous poll, or NULL to start from now.';
        END IF;
    END IF;
    FOR answer IN SELECT r.nodeid, r.success, r.result
                    FROM pg_catalog.run_command_on_all_nodes(
                             pg_catalog.format('SELECT inbox._citus_poll_node(%L, %s)', cursor, "limit")) AS r LOOP
        IF NOT answer.success THEN
            RAISE EXCEPTION 'the change feed of node % could not be polled', answer.nodeid
                  USING ERRCODE = CASE WHEN answer.result LIKE '%invalid feed cursor%' THEN 'invalid_parameter_value'
                                       ELSE 'connection_failure' END,
                        DETAIL = answer.result;
        END IF;
        part := answer.result::jsonb;
        nodes := nodes || pg_catalog.jsonb_build_object(part->>'node', part->'cursor');
        found := found || (part->'rows');
    END LOOP;
    next_cursor := pg_catalog.jsonb_build_object('nodes', nodes)::text;
    IF pg_catalog.jsonb_array_length(found) = 0 THEN
        RETURN NEXT;
        RETURN;
    END IF;
    RETURN QUERY SELECT next_cursor, e->>0, (e->>1)::bigint, e->>2, e->>3, (e->>4)::bigint
                   FROM pg_catalog.jsonb_array_elements(found) AS e
                  ORDER BY (e->>0) COLLATE "C", (e->>1)::bigint;
END
$$;

CREATE OR REPLACE FUNCTION inbox._citus_prune_events(cutoff timestamptz, batch integer)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    removed bigint;
BEGIN
    -- Each shard as one node does it (45_feed.sql): its oldest `batch` events by xid, those
    -- older than the cutoff.
    SELECT coalesce(sum(r.result::bigint), 0) INTO removed
      FROM pg_catalog.run_command_on_shards('inbox.events',
               -- (run_command_on_shards puts the shard's name for each %1$s.)
               pg_catalog.format('WITH gone AS (DELETE FROM %%1$s e USING (SELECT o.user_id, o.id, o.created_at FROM %%1$s o ORDER BY o.xid LIMIT %s) AS old
                                               WHERE e.user_id = old.user_id AND e.id = old.id AND old.created_at < %L RETURNING 1)
                                  SELECT count(*) FROM gone', batch, cutoff)) AS r;
    RETURN removed;
END
$$;
