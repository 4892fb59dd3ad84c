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
    last_id   bigint;
    unread_now bigint;
BEGIN
    -- Creates are never summarised: each new notification is content a client shows and the
    -- outbox (55_delivery.sql) delivers; only changes of existing rows become one summary.
    threshold := CASE WHEN (events[1]).event = 'notification.created' THEN 2147483647
                      WHEN events IS NOT NULL THEN inbox._feed_threshold() END;
    IF pg_catalog.cardinality(events) = 1 AND pg_catalog.cardinality(deltas) <= 2 THEN
        -- One row changed (a create, a click): two plain statements. (A second delta of another
        -- user is a row that did not change: it adds up to zero.)
        INSERT INTO inbox.user_counters AS c (user_id, active, unread, deleted, last_event_id)
        SELECT (events[1]).user_id, coalesce(sum(d.active), 0), coalesce(sum(d.unread), 0), coalesce(sum(d.deleted), 0), 1
          FROM pg_catalog.unnest(deltas) AS d
         WHERE d.user_id = (events[1]).user_id
        ON CONFLICT (user_id) DO UPDATE
           SET active  = c.active  + excluded.active,
               unread  = c.unread  + excluded.unread,
               deleted = c.deleted + excluded.deleted,
               last_event_id = c.last_event_id + 1
        RETURNING c.last_event_id, c.unread INTO last_id, unread_now;
        INSERT INTO inbox.events (user_id, id, event, notification_id, workspace_id, unread)
        VALUES ((events[1]).user_id, last_id, (events[1]).event, (events[1]).notification_id, (events[1]).workspace_id,
                CASE WHEN (events[1]).unread <> 0 THEN unread_now END);
    ELSIF events IS NULL THEN
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
    -- (Creates are never summarised: see the function above.)
    threshold integer := CASE WHEN (events[1]).event = 'notification.created' THEN 2147483647
                              WHEN events IS NOT NULL THEN inbox._feed_threshold() END;
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

-- The data of an event as every consumer gets it (inbox.changes for the streams, the outbox's
-- webhooks): a summary's own object; {"id"} for a purged notification or one whose row is gone;
-- else the notification in the API shape as it is now. `n` is the row found for the event, or
-- a row of NULLs.
CREATE FUNCTION inbox._event_data(event text, notification_id bigint, data jsonb, n inbox.notifications)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN notification_id IS NULL THEN data
                WHEN n.id IS NULL OR event = 'notification.purged'
                THEN pg_catalog.jsonb_build_object('id', inbox.public_id(notification_id))
                ELSE inbox.to_json(n)
           END
$$;

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
           inbox._event_data(e.event, e.notification_id, e.data, ROW(n.*)::inbox.notifications)
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
    IF poll_events."limit" IS NULL OR poll_events."limit" NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION 'limit: expected 1 to 100000, got %', coalesce(poll_events."limit"::text, 'null')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
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

-- ---------------------------------------------------------------------------------------------
-- Issue 16 (65_mastodon, 66_diaspora, 80_citus): the Mastodon and Diaspora notification APIs,
-- the markers table, and inbox._citus_tables with it.
-- ---------------------------------------------------------------------------------------------
-- Registers the notification types of a social dialect: Mastodon's fourteen or Diaspora's nine.
CREATE FUNCTION inbox.register_types(dialect text)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    t record;
    n integer := 0;
BEGIN
    IF dialect IS DISTINCT FROM 'mastodon' AND dialect IS DISTINCT FROM 'diaspora' THEN
        RAISE EXCEPTION 'dialect: expected mastodon or diaspora, got %', coalesce(pg_catalog.quote_literal(dialect), 'null')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR t IN SELECT * FROM (VALUES
        ('mastodon', 'mention', 'Someone mentioned you in their status', false),
        ('mastodon', 'status', 'Someone you enabled notifications for has posted a status', false),
        ('mastodon', 'reblog', 'Someone boosted one of your statuses', false),
        ('mastodon', 'follow', 'Someone followed you', false),
        ('mastodon', 'follow_request', 'Someone requested to follow you', false),
        ('mastodon', 'favourite', 'Someone favourited one of your statuses', false),
        ('mastodon', 'poll', 'A poll you have voted in or created has ended', false),
        ('mastodon', 'update', 'A status you interacted with has been edited', false),
        ('mastodon', 'admin.sign_up', 'Someone signed up (optionally sent to admins)', false),
        ('mastodon', 'admin.report', 'A new report has been filed', false),
        ('mastodon', 'severed_relationships', 'Some of your follow relationships have been severed as a result of a moderation or block event', false),
        ('mastodon', 'moderation_warning', 'A moderator has taken action against your account or has sent you a warning', false),
        ('mastodon', 'quote', 'Someone has quoted one of your statuses', false),
        ('mastodon', 'quoted_update', 'A status you have quoted has been edited', false),
        ('diaspora', 'also_commented', 'Someone commented on a post the current user also commented on.', true),
        ('diaspora', 'commented_on_post', 'Someone commented on a post the current user created.', true),
        ('diaspora', 'liked', 'Someone liked a post the current user created.', true),
        ('diaspora', 'liked_comment', 'Someone liked a comment the current user created.', true),
        ('diaspora', 'mentioned', 'Someone mentioned the current user in a post.', false),
        ('diaspora', 'mentioned_in_comment', 'Someone mentioned the current user in a comment of a post.', false),
        ('diaspora', 'reshared', 'Someone reshared one of the current user''s posts.', true),
        ('diaspora', 'started_sharing', 'Someone started sharing with the current user.', false),
        ('diaspora', 'contacts_birthday', 'Someone in the contacts of the current user has their birthday.', false)
    ) AS v(dialect, name, description, aggregate)
    WHERE v.dialect = register_types.dialect LOOP
        PERFORM inbox.register_type(t.name, t.description, t.aggregate);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

COMMENT ON FUNCTION inbox.register_types(text) IS
    'Registers the notification types of a social API: ''mastodon'' (its 14 types, none aggregated: Mastodon groups by group_key instead) or ''diaspora'' (its 9; those with several event_creators aggregate). Returns how many.';

-- The rows of `relation` for the keys (a JSON array of strings), as {key: row}; {} when no
-- such relation is defined, so an entity without its relation falls back to what the row says.
CREATE FUNCTION inbox.related_rows(relation text, keys jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgi_related_rows'
LANGUAGE C STABLE;

COMMENT ON FUNCTION inbox.related_rows(text, jsonb) IS
    'The rows of a registered relation for a JSON array of keys, as {key: row} (each row as expand embeds it); keys without a row are left out.';

CREATE FUNCTION inbox._social_rows(relation text, keys jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF keys IS NULL OR keys = '[]' OR NOT EXISTS (SELECT FROM inbox.relations r WHERE r.name = relation) THEN
        RETURN '{}';
    END IF;
    RETURN inbox.related_rows(relation, keys);
END
$$;

-- A page of the engine over one user's rows in an id range, each row shaped by the dialect's
-- entity function (inbox.mastodon_json, inbox.diaspora_json). {data, pageInfo}, newest first.
CREATE FUNCTION inbox._social_list(user_id text, params jsonb, dialect text,
                                   max_id bigint DEFAULT NULL, since_id bigint DEFAULT NULL,
                                   min_id bigint DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgi_social_list'
LANGUAGE C STABLE;

-- A page of inbox.groups over one user's rows in an id range.
CREATE FUNCTION inbox._social_groups(user_id text, params jsonb, max_id bigint DEFAULT NULL,
                                     since_id bigint DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgi_social_groups'
LANGUAGE C STABLE;

-- The caller's active notification `id` as a row, for the routes of one notification of both
-- dialects; P0002 naming it as the route did (`shown`) when it is not there, is another user's,
-- is deleted, or (for a token bound to a workspace) is in another workspace.
CREATE FUNCTION inbox._social_row(caller inbox.caller, id bigint, shown text)
RETURNS inbox.notifications
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    found_row inbox.notifications;
BEGIN
    SELECT n.* INTO found_row FROM inbox.notifications n
     WHERE n.user_id = caller.user_id AND n.id = _social_row.id AND n.deleted_at IS NULL
       AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'notification % not found', coalesce(shown, 'null') USING ERRCODE = 'no_data_found';
    END IF;
    RETURN found_row;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Mastodon: parameters, authentication, entities
-- ---------------------------------------------------------------------------------------------

-- Mastodon's scopes and pg_inbox's: read and read:notifications are notifications:read, write
-- and write:notifications are notifications:write. A pg_inbox token is the bearer token.
CREATE FUNCTION inbox._mastodon_caller(token text, write boolean DEFAULT false)
RETURNS inbox.caller
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN inbox.authenticate(token, CASE WHEN write THEN 'notifications:write' ELSE 'notifications:read' END);
END
$$;

-- A Mastodon id parameter: the decimal internal id. Anything else, and ids out of range, are
-- 22023 naming the parameter.
CREATE FUNCTION inbox._mastodon_id_param(params jsonb, name text)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    value text := params->>name;
BEGIN
    IF value IS NULL OR value = '' THEN
        RETURN NULL;
    END IF;
    IF pg_catalog.jsonb_typeof(params->name) <> 'string' OR value !~ '^[0-9]{1,18}$' THEN
        RAISE EXCEPTION '%: expected a notification id, got %', name, pg_catalog.quote_literal(value)
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN value::bigint;
END
$$;

-- Mastodon's limit: the default when absent; a larger one is clamped to the maximum, as Mastodon
-- does (limit_param); 0 or a negative number is taken as 1 (Mastodon would ask the database
-- for no rows, or take the absolute value); what is not an integer is 22023.
CREATE FUNCTION inbox._mastodon_limit(params jsonb, default_limit integer, max_limit integer)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    value text := params->>'limit';
BEGIN
    IF value IS NULL OR value = '' THEN
        RETURN default_limit;
    END IF;
    IF pg_catalog.jsonb_typeof(params->'limit') <> 'string' OR value !~ '^-?[0-9]{1,9}$' THEN
        RAISE EXCEPTION 'limit: expected an integer, got %', pg_catalog.quote_literal(value)
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN greatest(1, least(pg_catalog.abs(value::integer), max_limit));
END
$$;

-- A list parameter (types[], exclude_types[], grouped_types[]): an array of strings, or one
-- string (types=mention). Unknown type names are 22023, so a typo never widens a list.
CREATE FUNCTION inbox._mastodon_types(params jsonb, name text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    value jsonb := params->name;
    unknown text;
BEGIN
    IF value IS NULL THEN
        RETURN NULL;
    END IF;
    IF pg_catalog.jsonb_typeof(value) = 'string' THEN
        value := pg_catalog.jsonb_build_array(value);
    END IF;
    SELECT t INTO unknown FROM pg_catalog.jsonb_array_elements_text(value) AS t
     WHERE t NOT IN (SELECT r.name FROM inbox.notification_types r)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '%[]: unknown notification type %', name, pg_catalog.quote_literal(unknown)
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Register Mastodon''s types with inbox.register_types(''mastodon'').';
    END IF;
    RETURN value;
END
$$;

-- The engine's params for a Mastodon list: page size, type lists, the account filter, the
-- token's workspace.
CREATE FUNCTION inbox._mastodon_engine_params(caller inbox.caller, params jsonb, lim integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    out jsonb := pg_catalog.jsonb_build_object('limit', lim, 'total', false);
BEGIN
    IF params ? 'types' THEN
        out := out || pg_catalog.jsonb_build_object('types', inbox._mastodon_types(params, 'types'));
    END IF;
    IF params ? 'exclude_types' THEN
        out := out || pg_catalog.jsonb_build_object('exclude_types', inbox._mastodon_types(params, 'exclude_types'));
    END IF;
    IF coalesce(params->>'account_id', '') <> '' THEN
        out := out || pg_catalog.jsonb_build_object('filter', pg_catalog.jsonb_build_object('actorId', params->>'account_id'));
    END IF;
    IF caller.workspace_id IS NOT NULL THEN
        out := out || pg_catalog.jsonb_build_object('workspace_id', caller.workspace_id);
    END IF;
    RETURN out;
END
$$;

-- The Notification entity from the row. `account` is the actor's id until _mastodon_entities
-- puts the account row in its place; `status` (the item) likewise, and goes when no status
-- row exists.
CREATE FUNCTION inbox.mastodon_json(n inbox.notifications)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'id',         n.id::text,
        'type',       n.type,
        'created_at', inbox.directus_time(n.created_at),
        'group_key',  coalesce(n.group_key, 'ungrouped-' || n.id::text),
        'account',    n.actor_id,
        'status',     n.item)
$$;

COMMENT ON FUNCTION inbox.mastodon_json(inbox.notifications) IS
    'A notification as Mastodon''s Notification entity, before its account and status rows are put in (id is the internal id as a string; group_key is ungrouped-{id} without one).';

-- An Account for an actor without a row in mastodon_account: its id as every name.
CREATE FUNCTION inbox._mastodon_account_stub(actor text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN actor IS NULL THEN NULL
                ELSE pg_catalog.jsonb_build_object('id', actor, 'username', actor, 'acct', actor,
                                                   'display_name', actor) END
$$;

-- The accounts of actor ids, in their order, from mastodon_account (a stub for an actor
-- without a row).
CREATE FUNCTION inbox._mastodon_accounts(ids jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    found jsonb := inbox._social_rows('mastodon_account', ids);
BEGIN
    RETURN coalesce((SELECT pg_catalog.jsonb_agg(coalesce(found->i.id, inbox._mastodon_account_stub(i.id)) ORDER BY i.o)
                       FROM pg_catalog.jsonb_array_elements_text(ids) WITH ORDINALITY AS i(id, o)), '[]');
END
$$;

-- Entities from mastodon_json with their account and status rows in place: two look-ups for
-- the whole page, one per relation.
CREATE FUNCTION inbox._mastodon_entities(entities jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    accounts jsonb := inbox._social_rows('mastodon_account',
        (SELECT pg_catalog.jsonb_agg(DISTINCT e->'account') FROM pg_catalog.jsonb_array_elements(entities) AS e
          WHERE pg_catalog.jsonb_typeof(e->'account') = 'string'));
    statuses jsonb := inbox._social_rows('mastodon_status',
        (SELECT pg_catalog.jsonb_agg(DISTINCT e->'status') FROM pg_catalog.jsonb_array_elements(entities) AS e
          WHERE pg_catalog.jsonb_typeof(e->'status') = 'string'));
BEGIN
    RETURN coalesce((
        SELECT pg_catalog.jsonb_agg(
                   (e.v - 'status')
                   || pg_catalog.jsonb_build_object('account',
                          coalesce(accounts->(e.v->>'account'), inbox._mastodon_account_stub(e.v->>'account')))
                   || CASE WHEN statuses ? (e.v->>'status')
                           THEN pg_catalog.jsonb_build_object('status', statuses->(e.v->>'status'))
                           ELSE '{}' END
                   ORDER BY e.o)
          FROM pg_catalog.jsonb_array_elements(entities) WITH ORDINALITY AS e(v, o)), '[]');
END
$$;

-- Mastodon's Link header: next (max_id: the page's last id) and prev (min_id: its first id),
-- each with the request's own paging-independent parameters, as Rails writes a query string:
-- keys sorted, a list as key%5B%5D=value in its order, values escaped as CGI.escape does.
CREATE FUNCTION inbox._mastodon_link(origin text, path text, params jsonb, keep text[],
                                     first_id text, last_id text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    parts text[] := '{}';
    key text;
    base text;
    next_parts text[];
    prev_parts text[];
BEGIN
    IF first_id IS NULL THEN
        RETURN NULL;
    END IF;
    FOREACH key IN ARRAY keep LOOP
        CONTINUE WHEN NOT params ? key;
        IF pg_catalog.jsonb_typeof(params->key) = 'array' THEN
            parts := parts || (SELECT pg_catalog.string_agg(inbox._cgi_escape(key || '[]') || '=' || inbox._cgi_escape(v), '&' ORDER BY o)
                                 FROM pg_catalog.jsonb_array_elements_text(params->key) WITH ORDINALITY AS a(v, o));
        ELSE
            parts := parts || (inbox._cgi_escape(key) || '=' || inbox._cgi_escape(params->>key));
        END IF;
    END LOOP;
    base := coalesce(origin, '') || path || '?';
    next_parts := ARRAY(SELECT p FROM pg_catalog.unnest(parts || ('max_id=' || last_id)) AS p ORDER BY p COLLATE "C");
    prev_parts := ARRAY(SELECT p FROM pg_catalog.unnest(parts || ('min_id=' || first_id)) AS p ORDER BY p COLLATE "C");
    RETURN '<' || base || pg_catalog.array_to_string(next_parts, '&') || '>; rel="next", <'
        || base || pg_catalog.array_to_string(prev_parts, '&') || '>; rel="prev"';
END
$$;

-- CGI.escape: letters, digits and *-._ stay, a space is +, every other byte is %XX (upper case).
CREATE FUNCTION inbox._cgi_escape(value text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT coalesce(pg_catalog.string_agg(
               CASE WHEN b.c BETWEEN 48 AND 57 OR b.c BETWEEN 65 AND 90 OR b.c BETWEEN 97 AND 122
                         OR b.c IN (42, 45, 46, 95) THEN pg_catalog.chr(b.c)
                    WHEN b.c = 32 THEN '+'
                    ELSE '%' || pg_catalog.upper(pg_catalog.lpad(pg_catalog.to_hex(b.c), 2, '0')) END,
               '' ORDER BY b.i), '')
      FROM (SELECT pg_catalog.get_byte(s.bytes, i.i) AS c, i.i
              FROM (SELECT pg_catalog.convert_to(value, 'UTF8') AS bytes) s,
                   pg_catalog.generate_series(0, pg_catalog.length(s.bytes) - 1) AS i(i)) b
$$;

-- The notification id of a route ({id}), or NULL for text that is no id: Mastodon answers 404
-- for it (Rails finds no record), exactly as for another user's id.
CREATE FUNCTION inbox._mastodon_path_id(id text)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN id ~ '^[0-9]{1,18}$' THEN id::bigint END
$$;

-- The caller's active notification by its Mastodon id, as a row (P0002 otherwise).
CREATE FUNCTION inbox._mastodon_row(caller inbox.caller, id text)
RETURNS inbox.notifications
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN inbox._social_row(caller, inbox._mastodon_path_id(id), id);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Mastodon v1: notifications
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox.mastodon_notifications(token text, query jsonb, origin text,
                                             OUT body jsonb, OUT link text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    params jsonb := coalesce(query, '{}');
    page jsonb;
BEGIN
    page := inbox._social_list(caller.user_id,
                               inbox._mastodon_engine_params(caller, params, inbox._mastodon_limit(params, 40, 80)),
                               'mastodon',
                               inbox._mastodon_id_param(params, 'max_id'),
                               inbox._mastodon_id_param(params, 'since_id'),
                               inbox._mastodon_id_param(params, 'min_id'));
    body := inbox._mastodon_entities(page->'data');
    link := inbox._mastodon_link(origin, '/api/v1/notifications', params,
                                 ARRAY['account_id', 'exclude_types', 'limit', 'types'],
                                 body->0->>'id', body->-1->>'id');
END
$$;

COMMENT ON FUNCTION inbox.mastodon_notifications(text, jsonb, text) IS
    'GET /api/v1/notifications: the caller''s notifications as Mastodon entities, newest first (max_id, since_id, min_id, limit 40/80, types[], exclude_types[], account_id), and the Link header.';

CREATE FUNCTION inbox.mastodon_notification(token text, id text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
BEGIN
    RETURN inbox._mastodon_entities(pg_catalog.jsonb_build_array(
        inbox.mastodon_json(inbox._mastodon_row(caller, id))))->0;
END
$$;

COMMENT ON FUNCTION inbox.mastodon_notification(text, text) IS
    'GET /api/v1/notifications/:id: one notification as a Mastodon entity (404 for an unknown id, another user''s, or one that is not an id).';

-- Dismiss is pg_inbox's soft delete: the notification leaves every Mastodon list and can be
-- restored through the native API.
CREATE FUNCTION inbox.mastodon_dismiss(token text, id text)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token, write => true);
    found_row inbox.notifications := inbox._mastodon_row(caller, id);
BEGIN
    PERFORM inbox.soft_delete(caller.user_id, inbox.public_id(found_row.id));
    RETURN '{}';
END
$$;

COMMENT ON FUNCTION inbox.mastodon_dismiss(text, text) IS
    'POST /api/v1/notifications/:id/dismiss: soft-deletes the notification; returns {}.';

CREATE FUNCTION inbox.mastodon_clear(token text)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token, write => true);
    ids text[];
BEGIN
    ids := ARRAY(SELECT inbox.public_id(n.id) FROM inbox.notifications n
                  WHERE n.user_id = caller.user_id AND n.deleted_at IS NULL
                    AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id)
                  ORDER BY n.id);
    IF pg_catalog.cardinality(ids) > 0 THEN
        PERFORM inbox.soft_delete(caller.user_id, ids);
    END IF;
    RETURN '{}';
END
$$;

COMMENT ON FUNCTION inbox.mastodon_clear(text) IS
    'POST /api/v1/notifications/clear: soft-deletes every notification of the caller; returns {}.';

-- The number of unread notifications, capped at limit (default 100, at most 1000) as Mastodon
-- caps it. Without type or account parameters it is the counter (O(1)); with them the engine
-- counts the unread rows that match.
CREATE FUNCTION inbox.mastodon_unread_count(token text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    params jsonb := coalesce(query, '{}');
    cap integer := inbox._mastodon_limit(params, 100, 1000);
    engine jsonb := inbox._mastodon_engine_params(caller, params, 1);
    n bigint;
BEGIN
    IF engine ?| ARRAY['types', 'exclude_types', 'filter'] THEN
        n := (inbox.list(caller.user_id, engine || '{"read": false, "total": true}')->'pageInfo'->>'total')::bigint;
    ELSE
        n := inbox.unread_count(caller.user_id, caller.workspace_id);
    END IF;
    RETURN pg_catalog.jsonb_build_object('count', least(n, cap));
END
$$;

COMMENT ON FUNCTION inbox.mastodon_unread_count(text, jsonb) IS
    'GET /api/v1/notifications/unread_count and /api/v2/notifications/unread_count: {"count": n}, the unread notifications (types[], exclude_types[], account_id narrow it), capped at limit (default 100, max 1000).';

-- ---------------------------------------------------------------------------------------------
-- Mastodon v2: grouped notifications
-- ---------------------------------------------------------------------------------------------

-- A group key as Mastodon shows it: pg_inbox's ungrouped-<public id> is ungrouped-<id>.
CREATE FUNCTION inbox._mastodon_group_key(key text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE WHEN key LIKE 'ungrouped-ntf\_%' THEN 'ungrouped-' || inbox.internal_id(pg_catalog.substr(key, 11))::text
                ELSE key END
$$;

-- The v2 answer for groups from inbox.groups: {accounts, statuses, notification_groups}. The
-- status of a group is its most recent notification's item; its accounts are the sample
-- actors (expand_accounts=partial_avatars still lists them in full).
CREATE FUNCTION inbox._mastodon_grouped(user_id text, groups jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    latest jsonb;
    account_ids jsonb;
    statuses jsonb;
    out_groups jsonb;
BEGIN
    -- The most recent notification of each group: its id and item.
    SELECT pg_catalog.jsonb_object_agg(n.id::text, pg_catalog.jsonb_build_object('item', n.item, 'created_at', n.created_at))
      INTO latest
      FROM inbox.notifications n
     WHERE n.user_id = _mastodon_grouped.user_id
       AND n.id = ANY (ARRAY(SELECT inbox.internal_id(g->>'mostRecentNotificationId')
                               FROM pg_catalog.jsonb_array_elements(groups) AS g));
    SELECT pg_catalog.jsonb_agg(DISTINCT a) INTO account_ids
      FROM pg_catalog.jsonb_array_elements(groups) AS g, pg_catalog.jsonb_array_elements(g->'sampleActorIds') AS a;
    statuses := inbox._social_rows('mastodon_status',
        (SELECT pg_catalog.jsonb_agg(DISTINCT l.value->'item') FROM pg_catalog.jsonb_each(coalesce(latest, '{}')) AS l
          WHERE pg_catalog.jsonb_typeof(l.value->'item') = 'string'));
    SELECT coalesce(pg_catalog.jsonb_agg(
               pg_catalog.jsonb_build_object(
                   'group_key', inbox._mastodon_group_key(g->>'groupKey'),
                   'notifications_count', g->'notificationsCount',
                   'type', g->'type',
                   'most_recent_notification_id', m.id,
                   'page_min_id', m.id,
                   'page_max_id', m.id,
                   'latest_page_notification_at', inbox.directus_time((g->>'latestAt')::timestamptz),
                   'sample_account_ids', g->'sampleActorIds')
               || CASE WHEN statuses ? (latest->m.id->>'item')
                       THEN pg_catalog.jsonb_build_object('status_id', latest->m.id->>'item')
                       ELSE '{}' END
               ORDER BY o), '[]')
      INTO out_groups
      FROM pg_catalog.jsonb_array_elements(groups) WITH ORDINALITY AS a(g, o),
           LATERAL (SELECT inbox.internal_id(g->>'mostRecentNotificationId')::text AS id) m;
    RETURN pg_catalog.jsonb_build_object(
        'accounts', inbox._mastodon_accounts(coalesce(account_ids, '[]')),
        'statuses', coalesce((SELECT pg_catalog.jsonb_agg(s.value ORDER BY s.key) FROM pg_catalog.jsonb_each(statuses) AS s), '[]'),
        'notification_groups', out_groups);
END
$$;

CREATE FUNCTION inbox.mastodon_groups(token text, query jsonb, origin text,
                                      OUT body jsonb, OUT link text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    params jsonb := coalesce(query, '{}');
    engine jsonb := inbox._mastodon_engine_params(caller, params, inbox._mastodon_limit(params, 40, 80)) - 'total';
    max_id bigint := inbox._mastodon_id_param(params, 'max_id');
    since_id bigint := coalesce(inbox._mastodon_id_param(params, 'since_id'), inbox._mastodon_id_param(params, 'min_id'));
    page jsonb;
    groups jsonb;
BEGIN
    PERFORM inbox._mastodon_types(params, 'grouped_types');
    IF params ? 'expand_accounts' AND params->>'expand_accounts' NOT IN ('full', 'partial_avatars') THEN
        RAISE EXCEPTION 'expand_accounts: expected full or partial_avatars, got %', pg_catalog.quote_literal(params->>'expand_accounts')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    page := inbox._social_groups(caller.user_id, engine || '{"total": false}', max_id, since_id);
    groups := page->'data';
    body := inbox._mastodon_grouped(caller.user_id, groups);
    -- The page's id range: paging continues below the oldest group's latest notification.
    link := inbox._mastodon_link(origin, '/api/v2/notifications', params,
                                 ARRAY['account_id', 'exclude_types', 'expand_accounts', 'grouped_types', 'limit', 'types'],
                                 body->'notification_groups'->0->>'page_max_id',
                                 body->'notification_groups'->-1->>'page_min_id');
END
$$;

COMMENT ON FUNCTION inbox.mastodon_groups(text, jsonb, text) IS
    'GET /api/v2/notifications: the caller''s notification groups (inbox.groups) as Mastodon''s GroupedNotificationsResults {accounts, statuses, notification_groups}, and the Link header.';

-- The rows of a group key: ungrouped-{id} is that notification; any other key the rows with it.
CREATE FUNCTION inbox._mastodon_group_filter(caller inbox.caller, group_key text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    found_row inbox.notifications;
BEGIN
    IF group_key LIKE 'ungrouped-%' THEN
        found_row := inbox._mastodon_row(caller, pg_catalog.substr(group_key, 11));
        RETURN pg_catalog.jsonb_build_object('ids', inbox.public_id(found_row.id));
    END IF;
    IF NOT EXISTS (SELECT FROM inbox.notifications n
                    WHERE n.user_id = caller.user_id AND n.group_key = _mastodon_group_filter.group_key
                      AND n.deleted_at IS NULL
                      AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id)) THEN
        RAISE EXCEPTION 'notification group % not found', group_key USING ERRCODE = 'no_data_found';
    END IF;
    RETURN pg_catalog.jsonb_build_object('filter', pg_catalog.jsonb_build_object('groupKey', group_key));
END
$$;

CREATE FUNCTION inbox.mastodon_group(token text, group_key text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    narrow jsonb := inbox._mastodon_group_filter(caller, group_key);
BEGIN
    RETURN inbox._mastodon_grouped(caller.user_id,
        inbox._social_groups(caller.user_id, narrow || pg_catalog.jsonb_build_object('limit', 1, 'total', false)
                                              || coalesce(pg_catalog.jsonb_build_object('workspace_id', caller.workspace_id), '{}'))->'data');
END
$$;

COMMENT ON FUNCTION inbox.mastodon_group(text, text) IS
    'GET /api/v2/notifications/:group_key: one group as {accounts, statuses, notification_groups: [group]}.';

CREATE FUNCTION inbox.mastodon_group_dismiss(token text, group_key text)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token, write => true);
    narrow jsonb := inbox._mastodon_group_filter(caller, group_key);
    ids text[];
BEGIN
    IF narrow ? 'ids' THEN
        ids := ARRAY[narrow->>'ids'];
    ELSE
        ids := ARRAY(SELECT inbox.public_id(n.id) FROM inbox.notifications n
                      WHERE n.user_id = caller.user_id AND n.group_key = mastodon_group_dismiss.group_key
                        AND n.deleted_at IS NULL
                        AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id)
                      ORDER BY n.id);
    END IF;
    PERFORM inbox.soft_delete(caller.user_id, ids);
    RETURN '{}';
END
$$;

COMMENT ON FUNCTION inbox.mastodon_group_dismiss(text, text) IS
    'POST /api/v2/notifications/:group_key/dismiss: soft-deletes every notification of the group; returns {}.';

CREATE FUNCTION inbox.mastodon_group_accounts(token text, group_key text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    narrow jsonb := inbox._mastodon_group_filter(caller, group_key);
    ids jsonb;
BEGIN
    -- Every actor of the group's notifications, most recent first.
    SELECT pg_catalog.jsonb_agg(a.actor ORDER BY a.latest DESC, a.actor) INTO ids
      FROM (SELECT x.actor, pg_catalog.max(n.id) AS latest
              FROM inbox.notifications n
                   CROSS JOIN LATERAL pg_catalog.unnest(inbox._actors(ROW(n.*)::inbox.notifications)) AS x(actor)
             WHERE n.user_id = caller.user_id AND n.deleted_at IS NULL
               AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id)
               AND (n.group_key = mastodon_group_accounts.group_key
                    OR (narrow ? 'ids' AND n.id = inbox.internal_id(narrow->>'ids')))
             GROUP BY x.actor) a;
    RETURN inbox._mastodon_accounts(coalesce(ids, '[]'));
END
$$;

COMMENT ON FUNCTION inbox.mastodon_group_accounts(text, text) IS
    'GET /api/v2/notifications/:group_key/accounts: the accounts of every actor of the group, most recent first.';

-- ---------------------------------------------------------------------------------------------
-- Mastodon markers
-- ---------------------------------------------------------------------------------------------

-- A user's read position per timeline, as Mastodon keeps it. Keyed by user_id first (on Citus,
-- distributed with the notifications).
CREATE TABLE inbox.mastodon_markers (
    user_id      text        NOT NULL,
    timeline     text        NOT NULL,
    last_read_id bigint      NOT NULL,
    version      integer     NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT mastodon_markers_pkey PRIMARY KEY (user_id, timeline),
    CONSTRAINT mastodon_markers_timeline CHECK (timeline IN ('home', 'notifications'))
);

COMMENT ON TABLE inbox.mastodon_markers IS
    'Mastodon''s markers: per user and timeline (home, notifications) the last read id, its version (the number of updates) and when it moved. Moving the notifications marker marks the notifications up to it read.';

SELECT pg_catalog.pg_extension_config_dump('inbox.mastodon_markers', '');

CREATE FUNCTION inbox._mastodon_marker_json(m inbox.mastodon_markers)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object('last_read_id', m.last_read_id::text, 'version', m.version,
                                         'updated_at', inbox.directus_time(m.updated_at))
$$;

CREATE FUNCTION inbox.mastodon_markers(token text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    wanted jsonb := coalesce(query->'timeline', '[]');
    out jsonb := '{}';
    m inbox.mastodon_markers;
BEGIN
    IF pg_catalog.jsonb_typeof(wanted) = 'string' THEN
        wanted := pg_catalog.jsonb_build_array(wanted);
    END IF;
    FOR m IN SELECT * FROM inbox.mastodon_markers k
              WHERE k.user_id = caller.user_id
                AND k.timeline IN (SELECT pg_catalog.jsonb_array_elements_text(wanted))
              ORDER BY k.timeline LOOP
        out := out || pg_catalog.jsonb_build_object(m.timeline, inbox._mastodon_marker_json(m));
    END LOOP;
    RETURN out;
END
$$;

COMMENT ON FUNCTION inbox.mastodon_markers(text, jsonb) IS
    'GET /api/v1/markers?timeline[]=notifications: the caller''s markers of the timelines asked for ({} without one).';

-- POST /api/v1/markers: {"notifications": {"last_read_id": "<id>"}} (and/or "home"). The
-- notifications marker moves to the id (it may move back, as Mastodon allows), its version
-- goes up by one, and every unread notification up to it is marked read through the SQL API
-- (the unread counter stays exact). Notifications above it keep their read state.
CREATE FUNCTION inbox.mastodon_set_markers(token text, body jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token, write => true);
    tl text;
    value jsonb;
    last_id bigint;
    ids text[];
    m inbox.mastodon_markers;
    out jsonb := '{}';
    stamp timestamptz := pg_catalog.now();
BEGIN
    IF body IS NULL OR pg_catalog.jsonb_typeof(body) <> 'object' OR body = '{}' THEN
        RAISE EXCEPTION 'body: expected {"notifications": {"last_read_id": "<id>"}}'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR tl, value IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(body) AS e ORDER BY e.key LOOP
        IF tl NOT IN ('home', 'notifications') THEN
            RAISE EXCEPTION '%: unknown timeline', tl
                  USING ERRCODE = 'invalid_parameter_value', HINT = 'Timelines: home, notifications.';
        END IF;
        IF pg_catalog.jsonb_typeof(value) <> 'object' THEN
            RAISE EXCEPTION '%: expected an object with last_read_id', tl USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF pg_catalog.jsonb_typeof(value->'last_read_id') = 'number' THEN
            value := pg_catalog.jsonb_build_object('last_read_id', value->>'last_read_id');
        END IF;
        last_id := inbox._mastodon_id_param(value, 'last_read_id');
        IF last_id IS NULL THEN
            RAISE EXCEPTION '%[last_read_id]: required', tl USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- As Rails' optimistic locking counts: version 0 when created, one more per change; a
        -- marker set to where it is changes nothing.
        -- (now() is read first: Citus takes only constants and immutable functions in DO UPDATE.)
        INSERT INTO inbox.mastodon_markers AS k (user_id, timeline, last_read_id, version, updated_at)
        VALUES (caller.user_id, tl, last_id, 0, stamp)
        ON CONFLICT (user_id, timeline) DO UPDATE
           SET last_read_id = excluded.last_read_id, version = k.version + 1, updated_at = excluded.updated_at
         WHERE k.last_read_id <> excluded.last_read_id
        RETURNING * INTO m;
        IF NOT FOUND THEN
            SELECT * INTO m FROM inbox.mastodon_markers k
             WHERE k.user_id = caller.user_id AND k.timeline = tl;
        END IF;
        IF tl = 'notifications' THEN
            ids := ARRAY(SELECT inbox.public_id(n.id) FROM inbox.notifications n
                          WHERE n.user_id = caller.user_id AND n.id <= last_id
                            AND n.read_at IS NULL AND n.deleted_at IS NULL
                            AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id)
                          ORDER BY n.id);
            IF pg_catalog.cardinality(ids) > 0 THEN
                PERFORM inbox.mark_read(caller.user_id, ids);
            END IF;
        END IF;
        out := out || pg_catalog.jsonb_build_object(tl, inbox._mastodon_marker_json(m));
    END LOOP;
    RETURN out;
END
$$;

COMMENT ON FUNCTION inbox.mastodon_set_markers(text, jsonb) IS
    'POST /api/v1/markers: moves the caller''s markers ({"notifications": {"last_read_id": id}}); the notifications marker marks every unread notification up to it read. Returns the markers set.';

CREATE FUNCTION inbox.diaspora_guid(id bigint)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT pg_catalog.lpad(pg_catalog.to_hex(id), 16, '0')
        || pg_catalog.substr(pg_catalog.md5('pg_inbox:' || id::text), 1, 16)
$$;

COMMENT ON FUNCTION inbox.diaspora_guid(bigint) IS
    'The Diaspora guid of a notification id: 32 lower-case hex characters, one spelling per id.';

-- The id a guid spells, or NULL for text that is not a guid of this spelling.
CREATE FUNCTION inbox._diaspora_id(guid text)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    id bigint;
BEGIN
    IF guid IS NULL OR guid !~ '^[0-7][0-9a-f]{31}$' THEN
        RETURN NULL;
    END IF;
    id := ('x' || pg_catalog.substr(guid, 1, 16))::bit(64)::bigint;
    IF inbox.diaspora_guid(id) <> guid THEN
        RETURN NULL;
    END IF;
    RETURN id;
END
$$;

-- The Notification object from the row. `target` is the item and `event_creators` the actor
-- ids until _diaspora_entities puts their rows in place.
CREATE FUNCTION inbox.diaspora_json(n inbox.notifications)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'guid',           inbox.diaspora_guid(n.id),
        'type',           n.type,
        'read',           n.read_at IS NOT NULL,
        'created_at',     inbox.directus_time(n.created_at),
        'target',         CASE WHEN n.type IN ('started_sharing', 'contacts_birthday') THEN NULL ELSE n.item END,
        'event_creators', pg_catalog.to_jsonb(inbox._actors(n)))
$$;

COMMENT ON FUNCTION inbox.diaspora_json(inbox.notifications) IS
    'A notification as Diaspora''s notification object, before its target and event_creators rows are put in.';

-- A person without a row in diaspora_person: its id as guid and diaspora_id.
CREATE FUNCTION inbox._diaspora_person_stub(actor text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object('guid', actor, 'diaspora_id', actor, 'name', actor, 'avatar', NULL)
$$;

CREATE FUNCTION inbox._diaspora_entities(entities jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    people jsonb := inbox._social_rows('diaspora_person',
        (SELECT pg_catalog.jsonb_agg(DISTINCT a) FROM pg_catalog.jsonb_array_elements(entities) AS e,
                pg_catalog.jsonb_array_elements(e->'event_creators') AS a));
    targets jsonb := inbox._social_rows('diaspora_target',
        (SELECT pg_catalog.jsonb_agg(DISTINCT e->'target') FROM pg_catalog.jsonb_array_elements(entities) AS e
          WHERE pg_catalog.jsonb_typeof(e->'target') = 'string'));
BEGIN
    RETURN coalesce((
        SELECT pg_catalog.jsonb_agg(
                   (e.v - 'target' - 'event_creators')
                   || CASE WHEN pg_catalog.jsonb_typeof(e.v->'target') = 'string'
                           THEN pg_catalog.jsonb_build_object('target',
                                    coalesce(targets->(e.v->>'target'),
                                             pg_catalog.jsonb_build_object('guid', e.v->>'target', 'author', NULL)))
                           ELSE '{}' END
                   || pg_catalog.jsonb_build_object('event_creators',
                          coalesce((SELECT pg_catalog.jsonb_agg(coalesce(people->a.id, inbox._diaspora_person_stub(a.id)) ORDER BY a.o)
                                      FROM pg_catalog.jsonb_array_elements_text(e.v->'event_creators') WITH ORDINALITY AS a(id, o)), '[]'))
                   ORDER BY e.o)
          FROM pg_catalog.jsonb_array_elements(entities) WITH ORDINALITY AS e(v, o)), '[]');
END
$$;

-- Diaspora's scope `notifications` is pg_inbox's notifications:read (lists) and, for the routes
-- that change the read state, notifications:write too.
CREATE FUNCTION inbox._diaspora_caller(token text, write boolean)
RETURNS inbox.caller
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'notifications:read');
BEGIN
    IF write THEN
        PERFORM inbox._rest_require(caller, 'notifications:write');
    END IF;
    RETURN caller;
END
$$;

-- The caller's active notification by guid (P0002 otherwise, also for text that is no guid).
CREATE FUNCTION inbox._diaspora_row(caller inbox.caller, guid text)
RETURNS inbox.notifications
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN inbox._social_row(caller, inbox._diaspora_id(guid), guid);
END
$$;

CREATE FUNCTION inbox._diaspora_one(caller inbox.caller, id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    found_row inbox.notifications;
BEGIN
    SELECT n.* INTO found_row FROM inbox.notifications n WHERE n.user_id = caller.user_id AND n.id = _diaspora_one.id;
    RETURN inbox._diaspora_entities(pg_catalog.jsonb_build_array(inbox.diaspora_json(found_row)))->0;
END
$$;

-- GET /diaspora/api/v1/notifications: only_after, only_unread, type (the engine's shorthands),
-- per_page (default 15, at most 100) and before (a guid: the page below that notification),
-- newest first, with a Link header whose rel="next" continues below the page's last one.
CREATE FUNCTION inbox.diaspora_notifications(token text, query jsonb, origin text,
                                             OUT body jsonb, OUT link text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._diaspora_caller(token, false);
    params jsonb := inbox._rest_params(query, ARRAY['only_after', 'only_unread', 'type', 'per_page', 'before']);
    per_page integer := 15;
    before bigint;
    engine jsonb;
    page jsonb;
BEGIN
    IF params ? 'per_page' THEN
        IF params->>'per_page' !~ '^[0-9]{1,4}$' OR (params->>'per_page')::integer NOT BETWEEN 1 AND 100 THEN
            RAISE EXCEPTION 'per_page: expected 1 to 100, got %', pg_catalog.quote_literal(params->>'per_page')
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
        per_page := (params->>'per_page')::integer;
    END IF;
    IF params ? 'before' THEN
        before := inbox._diaspora_id(params->>'before');
        IF before IS NULL THEN
            RAISE EXCEPTION 'before: expected a notification guid, got %', pg_catalog.quote_literal(params->>'before')
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    engine := (params - 'per_page' - 'before') || pg_catalog.jsonb_build_object('limit', per_page, 'total', false);
    IF caller.workspace_id IS NOT NULL THEN
        engine := engine || pg_catalog.jsonb_build_object('workspace_id', caller.workspace_id);
    END IF;
    page := inbox._social_list(caller.user_id, engine, 'diaspora', max_id => before);
    body := inbox._diaspora_entities(page->'data');
    IF (page->'pageInfo'->>'hasNextPage')::boolean THEN
        link := '<' || coalesce(origin, '') || '/diaspora/api/v1/notifications?'
             || pg_catalog.array_to_string(ARRAY(
                    SELECT p FROM pg_catalog.unnest(
                        ARRAY(SELECT inbox._cgi_escape(k.key) || '=' || inbox._cgi_escape(k.value)
                                FROM pg_catalog.jsonb_each_text(params - 'before') AS k)
                        || ('before=' || (body->-1->>'guid'))) AS p ORDER BY p COLLATE "C"), '&')
             || '>; rel="next"';
    END IF;
END
$$;

COMMENT ON FUNCTION inbox.diaspora_notifications(text, jsonb, text) IS
    'GET /diaspora/api/v1/notifications: the caller''s notifications as Diaspora objects, newest first (only_after, only_unread, type, per_page, before=<guid>), and the Link header to the next page.';

CREATE FUNCTION inbox.diaspora_notification(token text, guid text)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._diaspora_caller(token, true);
    found_row inbox.notifications := inbox._diaspora_row(caller, guid);
BEGIN
    IF found_row.read_at IS NULL THEN
        PERFORM inbox.mark_read(caller.user_id, inbox.public_id(found_row.id));
    END IF;
    RETURN inbox._diaspora_one(caller, found_row.id);
END
$$;

COMMENT ON FUNCTION inbox.diaspora_notification(text, text) IS
    'GET /diaspora/api/v1/notifications/:guid: the notification, which this marks read (as Diaspora does).';

CREATE FUNCTION inbox.diaspora_set_read(token text, guid text, body jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._diaspora_caller(token, true);
    found_row inbox.notifications;
BEGIN
    IF body IS NULL OR pg_catalog.jsonb_typeof(body) <> 'object' OR pg_catalog.jsonb_typeof(body->'read') IS DISTINCT FROM 'boolean'
       OR body - 'read' <> '{}' THEN
        RAISE EXCEPTION 'body: expected {"read": true} or {"read": false}' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    found_row := inbox._diaspora_row(caller, guid);
    IF (body->'read')::boolean THEN
        PERFORM inbox.mark_read(caller.user_id, inbox.public_id(found_row.id));
    ELSE
        PERFORM inbox.mark_unread(caller.user_id, inbox.public_id(found_row.id));
    END IF;
    RETURN inbox._diaspora_one(caller, found_row.id);
END
$$;

COMMENT ON FUNCTION inbox.diaspora_set_read(text, text, jsonb) IS
    'PATCH /diaspora/api/v1/notifications/:guid with {"read": bool}: marks it read or unread; returns it.';

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
           ('inbox.mastodon_markers'::regclass, false),
           ('inbox.notification_types'::regclass, true),
           ('inbox.writable_fields'::regclass, true),
           ('inbox.relations'::regclass, true),
           ('inbox.tokens'::regclass, true),
           ('inbox.cursor_secrets'::regclass, true)
$$;

-- Issue 19 (00_schema, 10_shape, 15_types, 20_api, 25_aggregation, 47_lifecycle, 50_rest,
-- 80_citus): the lifecycle. Seen and read marks (inbox.marks) in the shape, the engine and the
-- counters; seenAt and expiresAt; type lifetimes; settling marks and retention (inbox.prune).
-- ---------------------------------------------------------------------------------------------

ALTER TABLE inbox.notifications ADD COLUMN seen_at timestamptz, ADD COLUMN expires_at timestamptz;
-- Issue 19. Expired rows that are not purged yet, per user: every count subtracts them (one
-- probe that usually finds nothing), and inbox.prune finds them.
CREATE INDEX notifications_expires_idx ON inbox.notifications
    (user_id, expires_at) WHERE expires_at IS NOT NULL;
-- Issue 19. Unread rows by their last change: a read-all marks read the rows changed since its
-- transaction began (the rest its read mark covers) and counts what stays unread from here.
CREATE INDEX notifications_unread_changed_idx ON inbox.notifications
    (user_id, updated_at) WHERE deleted_at IS NULL AND read_at IS NULL;
-- Issue 19. Retention across users (inbox.prune_step): expired rows, and rows soft-deleted
-- long ago. Partial: a row that never expires, or is not deleted, costs them nothing.
CREATE INDEX notifications_expiry_idx ON inbox.notifications (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX notifications_deleted_idx ON inbox.notifications (deleted_at) WHERE deleted_at IS NOT NULL;

-- Issue 19: the marks of "everything up to now", per user ('' workspace_key) and per user and
-- workspace. read_before (whole inbox only): the last read-all; an active notification whose
-- last change is before it and whose own read_at is NULL is read, at the first of read_marks
-- (every read-all not settled yet, in order) after its last change. seen_before: a seen-all;
-- a notification created at or before it (the newer of the user's and its workspace's) is
-- seen. Set in O(1) by inbox.mark_all_read and inbox.mark_seen; inbox.settle_read_marks
-- writes read_before into the rows it covers, in batches, and then clears it.
CREATE TABLE inbox.marks (
    user_id       text        NOT NULL,
    workspace_key text        NOT NULL DEFAULT '',
    read_before   timestamptz,
    read_marks    timestamptz[],
    seen_before   timestamptz,
    CONSTRAINT marks_pkey PRIMARY KEY (user_id, workspace_key),
    CONSTRAINT marks_read_whole_inbox CHECK (read_before IS NULL OR workspace_key = ''),
    CONSTRAINT marks_read_last CHECK (read_before IS NOT DISTINCT FROM read_marks[pg_catalog.array_upper(read_marks, 1)])
);

COMMENT ON TABLE inbox.marks IS
    'Read and seen marks per user ('''' workspace_key) and per user and workspace: what inbox.mark_all_read and inbox.mark_seen set in constant time.';

-- Dumped: the counters are rebuilt from the rows by the insert trigger on restore, and these
-- marks are part of what the rows mean (pg_dump restores this table before inbox.notifications).
SELECT pg_catalog.pg_extension_config_dump('inbox.marks', '');

ALTER TABLE inbox.notification_types ADD COLUMN lifetime interval,
    ADD CONSTRAINT notification_types_lifetime_positive CHECK (lifetime > interval '0');

INSERT INTO inbox.writable_fields VALUES ('expiresAt', 'expires_at', 'string', true, false);

DROP FUNCTION inbox._counter_delta(inbox.notifications, bigint);
CREATE FUNCTION inbox._counter_delta(n inbox.notifications, sign bigint, read_before timestamptz DEFAULT NULL)
RETURNS inbox.counter_delta
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ROW(n.user_id, n.workspace_id, n.group_key,
               sign * (n.deleted_at IS NULL)::int,
               sign * (n.deleted_at IS NULL AND n.read_at IS NULL
                       AND NOT coalesce(n.updated_at < read_before, false))::int,
               sign * (n.deleted_at IS NOT NULL)::int)::inbox.counter_delta
$$;

CREATE OR REPLACE FUNCTION inbox._lock_read_marks(users text[], by_user boolean)
RETURNS TABLE (user_id text, read_before timestamptz)
LANGUAGE plpgsql
AS $$
DECLARE
    u text;
BEGIN
    IF NOT by_user THEN
        PERFORM FROM inbox.user_counters c WHERE c.user_id = ANY (users)
         ORDER BY c.user_id FOR NO KEY UPDATE;
        RETURN QUERY SELECT m.user_id, m.read_before FROM inbox.marks m
                      WHERE m.user_id = ANY (users) AND m.workspace_key = '' AND m.read_before IS NOT NULL;
        RETURN;
    END IF;
    FOR u IN SELECT DISTINCT x FROM pg_catalog.unnest(users) AS x ORDER BY 1 LOOP
        PERFORM FROM inbox.user_counters c WHERE c.user_id = u FOR NO KEY UPDATE;
        RETURN QUERY SELECT m.user_id, m.read_before FROM inbox.marks m
                      WHERE m.user_id = u AND m.workspace_key = '' AND m.read_before IS NOT NULL;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION inbox._counters_after_insert() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    marks_users text[];
    marks_at timestamptz[];
BEGIN
    SELECT pg_catalog.array_agg(m.user_id), pg_catalog.array_agg(m.read_before) INTO marks_users, marks_at
      FROM inbox._lock_read_marks(ARRAY(SELECT DISTINCT n.user_id FROM new_rows n), TG_TABLE_NAME <> 'notifications') AS m;
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1, m.at) FROM new_rows n
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at)) AS m(user_id, at)
            ON m.user_id = n.user_id), true);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION inbox._counters_after_update() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    marks_users text[];
    marks_at timestamptz[];
BEGIN
    SELECT pg_catalog.array_agg(m.user_id), pg_catalog.array_agg(m.read_before) INTO marks_users, marks_at
      FROM inbox._lock_read_marks(ARRAY(SELECT n.user_id FROM new_rows n UNION SELECT o.user_id FROM old_rows o),
                                  TG_TABLE_NAME <> 'notifications') AS m;
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1, m.at) FROM new_rows n
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at)) AS m(user_id, at)
            ON m.user_id = n.user_id
        UNION ALL
        SELECT inbox._counter_delta(ROW(o.*)::inbox.notifications, -1, m.at) FROM old_rows o
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at)) AS m(user_id, at)
            ON m.user_id = o.user_id),
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
DECLARE
    marks_users text[];
    marks_at timestamptz[];
BEGIN
    SELECT pg_catalog.array_agg(m.user_id), pg_catalog.array_agg(m.read_before) INTO marks_users, marks_at
      FROM inbox._lock_read_marks(ARRAY(SELECT DISTINCT o.user_id FROM old_rows o), TG_TABLE_NAME <> 'notifications') AS m;
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(o.*)::inbox.notifications, -1, m.at) FROM old_rows o
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at)) AS m(user_id, at)
            ON m.user_id = o.user_id), true);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION inbox.rebuild_counters()
RETURNS void
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
AS $$
BEGIN
    TRUNCATE inbox.user_counters, inbox.workspace_counters, inbox.notification_groups;
    PERFORM inbox._apply_counter_deltas(ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1, m.read_before) FROM inbox.notifications n
          LEFT JOIN inbox.marks m ON m.user_id = n.user_id AND m.workspace_key = ''));
END
$$;

CREATE FUNCTION inbox._shape(n inbox.notifications, read_marks timestamptz[], seen_before timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'id',          inbox.public_id(n.id),
        'userId',      n.user_id,
        'workspaceId', n.workspace_id,
        'type',        n.type,
        'title',       n.title,
        'body',        n.body,
        'data',        n.data,
        'read',        n.read_at IS NOT NULL
                       OR (n.deleted_at IS NULL AND coalesce(n.updated_at < read_marks[pg_catalog.array_upper(read_marks, 1)], false)),
        'readAt',      inbox.iso_time(coalesce(n.read_at,
                           CASE WHEN n.deleted_at IS NULL AND n.updated_at < read_marks[pg_catalog.array_upper(read_marks, 1)]
                                THEN inbox._mark_after(read_marks, n.updated_at) END)),
        'seenAt',      inbox.iso_time(coalesce(n.seen_at, CASE WHEN n.created_at <= seen_before THEN seen_before END)),
        'archived',    n.archived_at IS NOT NULL,
        'archivedAt',  inbox.iso_time(n.archived_at),
        'deletedAt',   inbox.iso_time(n.deleted_at),
        'expiresAt',   inbox.iso_time(n.expires_at),
        'actorId',     n.actor_id,
        'actors',      pg_catalog.to_jsonb(inbox._actors(n)),
        'actorCount',  GREATEST(n.actor_count, (n.actor_id IS NOT NULL)::int),
        'collection',  n.collection,
        'item',        n.item,
        'groupKey',    n.group_key,
        'createdAt',   inbox.iso_time(n.created_at),
        'updatedAt',   inbox.iso_time(n.updated_at))
$$;

CREATE FUNCTION inbox._read_mark(user_id text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
    RETURN (SELECT m.read_before FROM inbox.marks m WHERE m.user_id = _read_mark.user_id AND m.workspace_key = '');
END
$$;

CREATE FUNCTION inbox._read_marks(user_id text)
RETURNS timestamptz[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
    RETURN (SELECT m.read_marks FROM inbox.marks m WHERE m.user_id = _read_marks.user_id AND m.workspace_key = '');
END
$$;

CREATE FUNCTION inbox._mark_after(marks timestamptz[], t timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT min(x) FROM pg_catalog.unnest(marks) AS x WHERE x > t
$$;

CREATE FUNCTION inbox._seen_mark(user_id text, workspace_id text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
    RETURN (SELECT max(m.seen_before) FROM inbox.marks m
             WHERE m.user_id = _seen_mark.user_id AND m.workspace_key IN ('', coalesce(_seen_mark.workspace_id, '')));
END
$$;

CREATE OR REPLACE FUNCTION inbox.to_json(n inbox.notifications)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT inbox._shape(n, inbox._read_marks(n.user_id), inbox._seen_mark(n.user_id, n.workspace_id))
$$;

COMMENT ON FUNCTION inbox.to_json(inbox.notifications) IS
    'A notification row in the API shape (camelCase, public id, UTC ISO-8601 times), with the user''s read and seen marks applied.';

CREATE OR REPLACE FUNCTION inbox._type_json(t inbox.notification_types)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object('name', t.name, 'description', t.description,
                                         'aggregate', t.aggregate, 'builtin', t.builtin,
                                         'lifetimeSeconds', pg_catalog.date_part('epoch', t.lifetime)::bigint)
$$;

DROP FUNCTION inbox.register_type(text, text, boolean);

CREATE FUNCTION inbox.register_type(name text, description text DEFAULT '', aggregate boolean DEFAULT false,
                                    lifetime interval DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    registered inbox.notification_types;
BEGIN
    INSERT INTO inbox.notification_types AS t (name, description, aggregate, lifetime)
    VALUES (register_type.name, coalesce(register_type.description, ''), coalesce(register_type.aggregate, false),
            register_type.lifetime)
    ON CONFLICT ON CONSTRAINT notification_types_pkey DO UPDATE
       SET description = excluded.description, aggregate = excluded.aggregate, lifetime = excluded.lifetime
    RETURNING t.* INTO registered;
    RETURN inbox._type_json(registered);
END
$$;

COMMENT ON FUNCTION inbox.register_type(text, text, boolean, interval) IS
    'Declares a notification type (or changes its description, aggregate setting and lifetime: notifications of the type created without expiresAt expire that long after creation); returns it.';

CREATE OR REPLACE FUNCTION inbox._insert(user_ids text[], objects jsonb[])
RETURNS SETOF inbox.notifications
LANGUAGE plpgsql
AS $$
DECLARE
    -- Issue 19: an object without expiresAt takes its type's lifetime (read here, once: a
    -- subquery in the INSERT would keep Citus from routing it to one shard).
    lifetimes jsonb := (SELECT pg_catalog.jsonb_object_agg(t.name, t.lifetime) FROM inbox.notification_types t
                         WHERE t.lifetime IS NOT NULL);
    at        timestamptz := pg_catalog.now();
BEGIN
    -- PL/pgSQL rather than SQL: the INSERT is planned once per session and its plan cached,
    -- where a SQL function planned it again on every call (about 250 us of a 700 us create).
    -- One row is an INSERT ... VALUES: on a Citus cluster that goes to the user's shard alone,
    -- where INSERT ... SELECT is collected on the coordinator and committed in two phases.
    IF pg_catalog.cardinality(user_ids) = 1 THEN
        RETURN QUERY
        INSERT INTO inbox.notifications AS n
               (user_id, workspace_id, type, title, body, data, actor_id, collection, item, group_key,
                recent_actor_ids, actor_count, expires_at)
        VALUES (user_ids[1], objects[1]->>'workspaceId', coalesce(objects[1]->>'type', 'info'),
                objects[1]->>'title', objects[1]->>'body', coalesce(objects[1]->'data', '{}'),
                objects[1]->>'actorId', objects[1]->>'collection', objects[1]->>'item',
                objects[1]->>'groupKey',
                CASE WHEN objects[1]->>'actorId' IS NULL THEN '{}' ELSE ARRAY[objects[1]->>'actorId'] END,
                (objects[1]->>'actorId' IS NOT NULL)::int,
                inbox._expires_at(objects[1], lifetimes, at))
        RETURNING n.*;
        RETURN;
    END IF;
    RETURN QUERY
    INSERT INTO inbox.notifications AS n
           (user_id, workspace_id, type, title, body, data, actor_id, collection, item, group_key,
            recent_actor_ids, actor_count, expires_at)
    SELECT u.user_id, o->>'workspaceId', coalesce(o->>'type', 'info'), o->>'title', o->>'body',
           coalesce(o->'data', '{}'), o->>'actorId', o->>'collection', o->>'item', o->>'groupKey',
           CASE WHEN o->>'actorId' IS NULL THEN '{}' ELSE ARRAY[o->>'actorId'] END,
           (o->>'actorId' IS NOT NULL)::int,
           inbox._expires_at(o, lifetimes, at)
      FROM ROWS FROM (pg_catalog.unnest(user_ids), pg_catalog.unnest(objects)) WITH ORDINALITY AS u(user_id, o, ord)
     ORDER BY u.ord
    RETURNING n.*;
END
$$;

CREATE FUNCTION inbox._expires_at(o jsonb, lifetimes jsonb, at timestamptz)
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN o ? 'expiresAt' THEN (o->>'expiresAt')::timestamptz
                ELSE at + (lifetimes->>coalesce(o->>'type', 'info'))::interval END
$$;

CREATE FUNCTION inbox._check_expiry(objects jsonb[], path text, indexed boolean)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    FOR i IN 1 .. pg_catalog.cardinality(objects) LOOP
        CONTINUE WHEN objects[i]->>'expiresAt' IS NULL;
        BEGIN
            PERFORM (objects[i]->>'expiresAt')::timestamptz;
        EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
            RAISE EXCEPTION '%: expected an ISO-8601 timestamp', inbox._path(CASE WHEN indexed THEN path || '[' || (i - 1) || ']' ELSE path END, 'expiresAt')
                  USING ERRCODE = 'invalid_parameter_value';
        END;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION inbox.get(user_id text, id text, include_deleted boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    found_row inbox.notifications;
BEGIN
    SELECT * INTO found_row FROM inbox.notifications n
     WHERE n.user_id = get.user_id AND n.id = inbox.internal_id(get.id)
       AND (include_deleted OR n.deleted_at IS NULL)
       AND (n.expires_at IS NULL OR n.expires_at > pg_catalog.now());
    IF NOT FOUND THEN
        RAISE EXCEPTION 'notification % not found', id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN inbox.to_json(found_row);
END
$$;

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
    -- Issue 19: the user's read mark. A row it covers is read; a change other than unread
    -- writes that into the row, as its own change would otherwise uncover it.
    mark    timestamptz := inbox._read_mark(user_id);
    marks   timestamptz[] := inbox._read_marks(user_id);
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
               read_at     = CASE WHEN action = 'read' THEN at WHEN action = 'unread' THEN NULL
                                  ELSE coalesce(n.read_at, CASE WHEN n.deleted_at IS NULL AND n.updated_at < mark
                                                            THEN inbox._mark_after(marks, n.updated_at) END) END,
               archived_at = CASE WHEN action = 'archive' THEN at WHEN action = 'unarchive' THEN NULL ELSE n.archived_at END,
               deleted_at  = CASE WHEN action = 'soft_delete' THEN at ELSE n.deleted_at END,
               updated_at  = at
         WHERE n.user_id = _change.user_id AND n.id = wanted[1] AND n.deleted_at IS NULL
           AND CASE WHEN action = 'read'      THEN n.read_at IS NULL AND NOT coalesce(n.updated_at < mark, false)
                    WHEN action = 'unread'    THEN n.read_at IS NOT NULL OR coalesce(n.updated_at < mark, false)
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
           read_at     = CASE WHEN action = 'read' THEN at WHEN action = 'unread' THEN NULL
                              ELSE coalesce(n.read_at, CASE WHEN n.deleted_at IS NULL AND n.updated_at < mark
                                                            THEN inbox._mark_after(marks, n.updated_at) END) END,
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
       AND CASE WHEN action = 'read'        THEN n.read_at IS NULL AND NOT coalesce(n.updated_at < mark, false)
                WHEN action = 'unread'      THEN n.read_at IS NOT NULL OR coalesce(n.updated_at < mark, false)
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

CREATE OR REPLACE FUNCTION inbox.mark_all_read(user_id text, workspace_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    changed bigint;
    at      timestamptz := pg_catalog.now();
    mark    timestamptz := inbox._read_mark(user_id);
    before  bigint;
    left_   bigint;
    expired bigint;
BEGIN
    IF mark_all_read.workspace_id IS NOT NULL THEN
        UPDATE inbox.notifications n
           SET read_at = at, updated_at = at
         WHERE n.user_id = mark_all_read.user_id
           AND n.deleted_at IS NULL AND n.read_at IS NULL AND NOT coalesce(n.updated_at < mark, false)
           AND n.workspace_id = mark_all_read.workspace_id
           AND (n.expires_at IS NULL OR n.expires_at > at);
        GET DIAGNOSTICS changed = ROW_COUNT;
        RETURN changed;
    END IF;

    UPDATE inbox.notifications n
       SET read_at = at, updated_at = at
     WHERE n.user_id = mark_all_read.user_id
       AND n.deleted_at IS NULL AND n.read_at IS NULL AND n.updated_at >= at
       AND (n.expires_at IS NULL OR n.expires_at > at);
    GET DIAGNOSTICS changed = ROW_COUNT;

    SELECT c.unread INTO before FROM inbox.user_counters c
     WHERE c.user_id = mark_all_read.user_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN changed;  -- no notifications at all
    END IF;
    -- What the mark will read besides: unread now, less what stays unread, less the expired.
    SELECT count(*) INTO left_ FROM inbox.notifications n
     WHERE n.user_id = mark_all_read.user_id
       AND n.deleted_at IS NULL AND n.read_at IS NULL AND n.updated_at >= at;
    SELECT x.unread INTO expired FROM inbox._expired_counts(user_id, NULL) AS x;
    changed := changed + before - left_ - expired;

    INSERT INTO inbox.marks AS m (user_id, workspace_key, read_before, read_marks)
    VALUES (mark_all_read.user_id, '', at, ARRAY[at])
    ON CONFLICT ON CONSTRAINT marks_pkey DO UPDATE
       SET read_before = excluded.read_before,
           read_marks = coalesce(m.read_marks, '{}') OPERATOR(pg_catalog.||) excluded.read_before;

    UPDATE inbox.user_counters c SET unread = left_
     WHERE c.user_id = mark_all_read.user_id AND c.unread <> left_;
    UPDATE inbox.workspace_counters c SET unread = coalesce(l.unread, 0)
      FROM (SELECT w.workspace_id, l.unread
              FROM inbox.workspace_counters w
              LEFT JOIN (SELECT n.workspace_id, count(*) AS unread FROM inbox.notifications n
                          WHERE n.user_id = mark_all_read.user_id AND n.workspace_id IS NOT NULL
                            AND n.deleted_at IS NULL AND n.read_at IS NULL AND n.updated_at >= at
                          GROUP BY n.workspace_id) AS l ON l.workspace_id = w.workspace_id
             WHERE w.user_id = mark_all_read.user_id) AS l
     WHERE c.user_id = mark_all_read.user_id AND c.workspace_id = l.workspace_id
       AND c.unread <> coalesce(l.unread, 0);
    -- TODO(issue 19, h-feed): append one notification.read_all event here with
    -- inbox._append_event(user_id, 'notification.read_all', NULL, '{"workspaceId": null}')
    -- once 45_feed.sql provides it: this read-all changes no row, so no trigger records it.
    RETURN greatest(changed, 0);
END
$$;

COMMENT ON FUNCTION inbox.mark_all_read(text, text) IS
    'Marks every unread notification of user_id read, optionally within one workspace; returns how many changed. For the whole inbox in constant time (a read mark).';

CREATE FUNCTION inbox._expired_counts(user_id text, workspace_id text)
RETURNS TABLE (active bigint, unread bigint, deleted bigint)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    mark timestamptz := inbox._read_mark(user_id);
BEGIN
    RETURN QUERY
    SELECT count(*) FILTER (WHERE n.deleted_at IS NULL),
           count(*) FILTER (WHERE n.deleted_at IS NULL AND n.read_at IS NULL AND NOT coalesce(n.updated_at < mark, false)),
           count(*) FILTER (WHERE n.deleted_at IS NOT NULL)
      FROM inbox.notifications n
     WHERE n.user_id = _expired_counts.user_id AND n.expires_at <= pg_catalog.now()
       AND (_expired_counts.workspace_id IS NULL OR n.workspace_id = _expired_counts.workspace_id);
END
$$;

CREATE OR REPLACE FUNCTION inbox.unread_count(user_id text, workspace_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    n bigint;
BEGIN
    IF unread_count.workspace_id IS NULL THEN
        SELECT c.unread INTO n FROM inbox.user_counters c WHERE c.user_id = unread_count.user_id;
    ELSE
        SELECT c.unread INTO n FROM inbox.workspace_counters c
         WHERE c.user_id = unread_count.user_id AND c.workspace_id = unread_count.workspace_id;
    END IF;
    IF n IS NULL THEN
        RETURN 0;
    END IF;
    RETURN n - (SELECT x.unread FROM inbox._expired_counts(user_id, workspace_id) AS x);
END
$$;

COMMENT ON FUNCTION inbox.unread_count(text, text) IS
    'Unread, not deleted, not expired notifications of user_id (optionally in one workspace), from the counters: one index lookup, less the expired rows not purged yet.';

CREATE FUNCTION inbox.mark_seen(user_id text, workspace_id text DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql
AS $$
DECLARE
    at timestamptz := pg_catalog.now();
BEGIN
    IF user_id IS NULL THEN
        RAISE EXCEPTION 'user_id: must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    INSERT INTO inbox.marks AS m (user_id, workspace_key, seen_before)
    VALUES (mark_seen.user_id, coalesce(mark_seen.workspace_id, ''), at)
    ON CONFLICT ON CONSTRAINT marks_pkey DO UPDATE SET seen_before = excluded.seen_before;
    -- TODO(issue 19, h-feed): append one notification.seen event here with
    -- inbox._append_event(user_id, 'notification.seen', workspace_id, {"workspaceId", "seenAt"})
    -- once 45_feed.sql provides it.
    RETURN at;
END
$$;

COMMENT ON FUNCTION inbox.mark_seen(text, text) IS
    'Marks every notification of user_id (optionally in one workspace) created up to now seen, in constant time; returns the time of the mark.';

CREATE FUNCTION inbox.unseen_count(user_id text, workspace_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    n bigint;
    user_mark timestamptz;
    own_mark timestamptz;
BEGIN
    SELECT max(m.seen_before) FILTER (WHERE m.workspace_key = ''),
           max(m.seen_before) FILTER (WHERE m.workspace_key <> '')
      INTO user_mark, own_mark
      FROM inbox.marks m
     WHERE m.user_id = unseen_count.user_id
       AND (unseen_count.workspace_id IS NULL OR m.workspace_key IN ('', unseen_count.workspace_id));
    IF user_mark IS NULL AND own_mark IS NULL THEN
        IF unseen_count.workspace_id IS NULL THEN
            SELECT c.active INTO n FROM inbox.user_counters c WHERE c.user_id = unseen_count.user_id;
        ELSE
            SELECT c.active INTO n FROM inbox.workspace_counters c
             WHERE c.user_id = unseen_count.user_id AND c.workspace_id = unseen_count.workspace_id;
        END IF;
        RETURN coalesce(n, 0) - coalesce((SELECT x.active FROM inbox._expired_counts(user_id, workspace_id) AS x), 0);
    END IF;
    IF unseen_count.workspace_id IS NOT NULL THEN
        SELECT count(*) INTO n FROM inbox.notifications x
         WHERE x.user_id = unseen_count.user_id AND x.workspace_id = unseen_count.workspace_id
           AND x.deleted_at IS NULL AND x.seen_at IS NULL
           AND x.created_at > coalesce(greatest(user_mark, own_mark), '-infinity')
           AND (x.expires_at IS NULL OR x.expires_at > pg_catalog.now());
        RETURN n;
    END IF;
    SELECT count(*) INTO n FROM inbox.notifications x
     WHERE x.user_id = unseen_count.user_id AND x.deleted_at IS NULL AND x.seen_at IS NULL
       AND x.created_at > coalesce(user_mark, '-infinity')
       AND (x.expires_at IS NULL OR x.expires_at > pg_catalog.now())
       AND (own_mark IS NULL OR NOT coalesce(x.created_at <= inbox._seen_mark(x.user_id, x.workspace_id), false));
    RETURN n;
END
$$;

COMMENT ON FUNCTION inbox.unseen_count(text, text) IS
    'Active, not expired notifications of user_id (optionally in one workspace) not seen yet: created after the seen mark (inbox.mark_seen). O(1) before the first mark, then O(unseen).';

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
    mark   timestamptz;  -- the user's read mark (issue 19), read under the counter row's lock
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
    mark := inbox._read_mark(user_id);

    -- Unread as the API shows it: not covered by the user's read mark, and not expired (issue 19).
    SELECT * INTO target FROM inbox.notifications n
     WHERE n.user_id = _aggregate.user_id AND n.group_key = grp
       AND n.read_at IS NULL AND n.deleted_at IS NULL
       AND NOT coalesce(n.updated_at < mark, false)
       AND (n.expires_at IS NULL OR n.expires_at > pg_catalog.now())
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

CREATE OR REPLACE FUNCTION inbox._create(user_ids text[], objects jsonb[], path text, indexed boolean)
RETURNS SETOF inbox.notifications
LANGUAGE plpgsql
AS $$
DECLARE
    one_path text;
BEGIN
    -- Without `indexed` every object is the same input (a fan-out's template, 10,000 times):
    -- checking the first one is checking them all.
    PERFORM inbox._check_types(CASE WHEN indexed THEN objects ELSE objects[1:1] END, path, indexed);
    PERFORM inbox._check_expiry(CASE WHEN indexed THEN objects ELSE objects[1:1] END, path, indexed);
    IF NOT EXISTS (SELECT FROM (SELECT DISTINCT o
                                  FROM pg_catalog.unnest(CASE WHEN indexed THEN objects ELSE objects[1:1] END) AS o) AS d
                    WHERE inbox._wants_aggregate(d.o)) THEN
        -- Identity values follow the insert order.
        RETURN QUERY SELECT * FROM inbox._insert(user_ids, objects) AS n ORDER BY n.id;
        RETURN;
    END IF;
    FOR i IN 1 .. pg_catalog.cardinality(objects) LOOP
        one_path := CASE WHEN indexed THEN path || '[' || (i - 1) || ']' ELSE path END;
        IF inbox._wants_aggregate(objects[i]) THEN
            RETURN NEXT inbox._aggregate(user_ids[i], objects[i], one_path);
        ELSE
            RETURN QUERY SELECT * FROM inbox._insert(ARRAY[user_ids[i]], ARRAY[objects[i]]);
        END IF;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION inbox.rest_unread_count(token text, query jsonb)
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

CREATE OR REPLACE FUNCTION inbox._citus_tables()
RETURNS TABLE (relation regclass, reference boolean)
LANGUAGE sql STABLE
AS $$
    VALUES ('inbox.notifications'::regclass, false),
           ('inbox.user_counters'::regclass, false),
           ('inbox.workspace_counters'::regclass, false),
           ('inbox.notification_groups'::regclass, false),
           ('inbox.marks'::regclass, false),
           ('inbox.notification_actors'::regclass, false),
           ('inbox.idempotency_keys'::regclass, false),
           ('inbox.notification_types'::regclass, true),
           ('inbox.writable_fields'::regclass, true),
           ('inbox.relations'::regclass, true),
           ('inbox.tokens'::regclass, true),
           ('inbox.cursor_secrets'::regclass, true),
           ('inbox.retention'::regclass, true)
$$;

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
                 'inbox.mark_seen(text,text)', 'inbox.unseen_count(text,text)',
                 'inbox.list(text,jsonb)', 'inbox.groups(text,jsonb)']::regprocedure[]
$$;

-- The retention policy: at most one row; without one, the defaults below. NULL turns a rule
-- off. Set it with INSERT ... ON CONFLICT (one) DO UPDATE (README, "Retention").
CREATE TABLE inbox.retention (
    one           boolean  NOT NULL DEFAULT true,
    -- purge soft-deleted notifications this long after their deletion
    deleted_after interval DEFAULT interval '30 days',
    -- purge expired notifications this long after they expired (0: as soon as prune runs)
    expired_after interval DEFAULT interval '0',
    -- purge read notifications created longer ago than this
    read_after    interval,
    -- purge, per user and type, the active notifications beyond the newest this many (Mastodon)
    keep_per_type integer,
    -- rows a step touches at most
    batch_size    integer  NOT NULL DEFAULT 10000,
    CONSTRAINT retention_pkey PRIMARY KEY (one),
    CONSTRAINT retention_one_row CHECK (one),
    CONSTRAINT retention_keep_positive CHECK (keep_per_type > 0),
    CONSTRAINT retention_batch_positive CHECK (batch_size BETWEEN 1 AND 1000000)
);

COMMENT ON TABLE inbox.retention IS
    'The retention policy inbox.prune applies (at most one row, else the defaults; NULL turns a rule off): deleted_after, expired_after, read_after, keep_per_type, batch_size.';

SELECT pg_catalog.pg_extension_config_dump('inbox.retention', '');

-- Writes a user's read mark into the rows it covers, at most `batch` of them, and once none is
-- left, clears the mark (and brings the group summaries' unread counts, which a read-all does
-- not touch, back to the rows). Returns how many rows it wrote, or -1 when it cleared the mark.
-- The rows keep their updated_at: what the API shows does not change.
CREATE FUNCTION inbox.settle_read_marks(user_id text, batch integer DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    mark timestamptz := inbox._read_mark(user_id);
    marks timestamptz[] := inbox._read_marks(user_id);
    done bigint;
BEGIN
    IF mark IS NULL THEN
        RETURN 0;
    END IF;
    UPDATE inbox.notifications n SET read_at = inbox._mark_after(marks, n.updated_at)
     WHERE n.user_id = settle_read_marks.user_id
       AND n.id = ANY (ARRAY(SELECT x.id FROM inbox.notifications x
                              WHERE x.user_id = settle_read_marks.user_id AND x.deleted_at IS NULL
                                AND x.read_at IS NULL AND x.updated_at < mark
                              LIMIT batch))
       AND n.read_at IS NULL AND n.updated_at < mark;
    GET DIAGNOSTICS done = ROW_COUNT;
    IF done > 0 THEN
        RETURN done;
    END IF;
    -- Nothing left to write: under the counter row's lock (no counter change is in flight),
    -- the group summaries' unread counts from the rows, then the mark goes.
    PERFORM FROM inbox.user_counters c WHERE c.user_id = settle_read_marks.user_id FOR NO KEY UPDATE;
    IF EXISTS (SELECT FROM inbox.notifications x
                WHERE x.user_id = settle_read_marks.user_id AND x.deleted_at IS NULL
                  AND x.read_at IS NULL AND x.updated_at < mark) THEN
        RETURN 0;  -- committed meanwhile: the next step writes them
    END IF;
    UPDATE inbox.notification_groups g
       SET unread_count = (SELECT count(*) FROM inbox.notifications x
                            WHERE x.user_id = settle_read_marks.user_id AND x.group_key = g.group_key
                              AND x.deleted_at IS NULL AND x.read_at IS NULL)
     WHERE g.user_id = settle_read_marks.user_id;
    UPDATE inbox.marks m SET read_before = NULL, read_marks = NULL
     WHERE m.user_id = settle_read_marks.user_id AND m.workspace_key = '';
    RETURN -1;
END
$$;

COMMENT ON FUNCTION inbox.settle_read_marks(text, integer) IS
    'Writes user_id''s read mark into at most batch of the rows it covers; once none is left, clears the mark. Returns the rows written, or -1 when it cleared the mark.';

-- One bounded step of retention. `cursor` is where the previous step left off (NULL: start);
-- the answer's next_cursor is where the next one goes on (NULL: done). Phases, in order:
-- settle (read marks into rows), expired, deleted, read, overflow (per user and type beyond
-- keep_per_type). Each step is one statement's worth of work: call it in a loop, each call in
-- its own transaction (inbox.prune does).
CREATE FUNCTION inbox.prune_step(cursor text DEFAULT NULL, batch integer DEFAULT NULL)
RETURNS TABLE (kind text, removed bigint, next_cursor text)
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    policy inbox.retention;
    phase  text := coalesce(split_part(cursor, ':', 1), 'settle');
    after_ text := CASE WHEN position(':' IN coalesce(cursor, '')) > 0
                        THEN substr(cursor, position(':' IN cursor) + 1) END;
    n      bigint;
    u      text;
BEGIN
    SELECT * INTO policy FROM inbox.retention LIMIT 1;
    IF NOT FOUND THEN
        policy := ROW(true, interval '30 days', interval '0', NULL, NULL, 10000)::inbox.retention;
    END IF;
    batch := coalesce(batch, policy.batch_size, 10000);
    IF batch < 1 THEN
        RAISE EXCEPTION 'batch: expected a positive number of rows, got %', batch
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF phase NOT IN ('settle', 'expired', 'deleted', 'read', 'overflow', 'overflow_again') THEN
        RAISE EXCEPTION 'cursor: not a cursor of inbox.prune_step: %', cursor
              USING ERRCODE = 'invalid_parameter_value';
    END IF;

    IF phase = 'settle' THEN
        SELECT m.user_id INTO u FROM inbox.marks m
         WHERE m.workspace_key = '' AND m.read_before IS NOT NULL AND m.user_id > coalesce(after_, '')
         ORDER BY m.user_id LIMIT 1;
        IF FOUND THEN
            n := inbox.settle_read_marks(u, batch);
            -- Written a batch: the same user again; cleared or nothing: the next user.
            RETURN QUERY SELECT 'settled'::text, greatest(n, 0),
                                'settle:' || CASE WHEN n > 0 THEN coalesce(after_, '') ELSE u END;
            RETURN;
        END IF;
        phase := 'expired';
        after_ := NULL;
    END IF;

    IF phase = 'expired' AND policy.expired_after IS NOT NULL THEN
        DELETE FROM inbox.notifications x
         WHERE (x.user_id, x.id) IN (SELECT y.user_id, y.id FROM inbox.notifications y
                                      WHERE y.expires_at <= pg_catalog.now() - policy.expired_after
                                      ORDER BY y.expires_at LIMIT batch);
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            RETURN QUERY SELECT 'expired'::text, n, 'expired'::text;
            RETURN;
        END IF;
    END IF;
    IF phase IN ('settle', 'expired') THEN
        phase := 'deleted';
    END IF;

    IF phase = 'deleted' AND policy.deleted_after IS NOT NULL THEN
        DELETE FROM inbox.notifications x
         WHERE (x.user_id, x.id) IN (SELECT y.user_id, y.id FROM inbox.notifications y
                                      WHERE y.deleted_at < pg_catalog.now() - policy.deleted_after
                                      ORDER BY y.deleted_at LIMIT batch)
           -- Rechecked on the row deleted: a row restored while this step waited for its lock
           -- is no longer one the rule names (the IN list is not re-evaluated for it).
           AND x.deleted_at < pg_catalog.now() - policy.deleted_after;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            RETURN QUERY SELECT 'deleted'::text, n, 'deleted'::text;
            RETURN;
        END IF;
    END IF;
    IF phase = 'deleted' THEN
        phase := 'read';
    END IF;

    IF phase = 'read' AND policy.read_after IS NOT NULL THEN
        DELETE FROM inbox.notifications x
         WHERE (x.user_id, x.id) IN (SELECT y.user_id, y.id FROM inbox.notifications y
                                      WHERE y.deleted_at IS NULL AND y.read_at IS NOT NULL
                                        AND y.created_at < pg_catalog.now() - policy.read_after
                                      ORDER BY y.id LIMIT batch)  -- oldest first (notifications_id_idx)
           -- Rechecked on the row deleted, as above: one marked unread or deleted meanwhile stays.
           AND x.deleted_at IS NULL AND x.read_at IS NOT NULL
           AND x.created_at < pg_catalog.now() - policy.read_after;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            RETURN QUERY SELECT 'read'::text, n, 'read'::text;
            RETURN;
        END IF;
    END IF;
    IF phase = 'read' THEN
        phase := 'overflow';
        after_ := NULL;
    END IF;

    IF policy.keep_per_type IS NOT NULL THEN
        -- The next user (in user_id order, from the counters) with more active rows than a
        -- type may keep; their rows of each type beyond the newest keep_per_type.
        SELECT c.user_id INTO u FROM inbox.user_counters c
         WHERE c.active > policy.keep_per_type
           AND CASE WHEN phase = 'overflow_again' THEN c.user_id >= after_ ELSE c.user_id > coalesce(after_, '') END
         ORDER BY c.user_id LIMIT 1;
        IF FOUND THEN
            DELETE FROM inbox.notifications x
             WHERE x.user_id = u
               AND x.id = ANY (ARRAY(
                   SELECT y.id FROM (SELECT z.id, pg_catalog.row_number() OVER (PARTITION BY z.type
                                                ORDER BY z.created_at DESC, z.id DESC) AS r
                                       FROM inbox.notifications z
                                      WHERE z.user_id = u AND z.deleted_at IS NULL) AS y
                    WHERE y.r > policy.keep_per_type
                    LIMIT batch));
            GET DIAGNOSTICS n = ROW_COUNT;
            -- A full batch: this user again; else the next one.
            RETURN QUERY SELECT 'overflow'::text, n,
                                CASE WHEN n >= batch THEN 'overflow_again:' ELSE 'overflow:' END || u;
            RETURN;
        END IF;
    END IF;
    RETURN QUERY SELECT 'done'::text, 0::bigint, NULL::text;
END
$$;

COMMENT ON FUNCTION inbox.prune_step(text, integer) IS
    'One bounded step of retention (read marks settled, expired, soft-deleted, read, beyond keep_per_type per user and type): returns what it removed and the cursor of the next step (NULL: done). Call it in a loop, one transaction a call; inbox.prune does.';

-- The whole of retention, committing after each step (so no step holds its locks for long): a
-- procedure, for psql and pg_cron (CALL inbox.prune()). Reports what it removed, by kind.
CREATE PROCEDURE inbox.prune(batch integer DEFAULT NULL, INOUT report jsonb DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    cursor_ text;
    step record;
BEGIN
    report := '{"settled": 0, "expired": 0, "deleted": 0, "read": 0, "overflow": 0, "steps": 0}';
    LOOP
        SELECT * INTO step FROM inbox.prune_step(cursor_, batch);
        IF step.kind <> 'done' THEN
            report := report || pg_catalog.jsonb_build_object(step.kind, (report->>step.kind)::bigint + step.removed);
        END IF;
        report := report || pg_catalog.jsonb_build_object('steps', (report->>'steps')::bigint + 1);
        COMMIT;
        EXIT WHEN step.next_cursor IS NULL;
        cursor_ := step.next_cursor;
    END LOOP;
END
$$;

COMMENT ON PROCEDURE inbox.prune(integer, jsonb) IS
    'Applies the retention policy (inbox.retention) in bounded steps, committing after each; reports the rows removed by kind (settled: read-mark rows written, not removed).';

-- ---------------------------------------------------------------------------------------------
-- Issue 15: delivery (55_delivery, 80_citus): the outbox inbox.deliveries filled from inbox.events, its
-- log, preferences, webhook endpoints, the type registry's channels, critical and email_digest
-- columns, register_type with them, unsubscribe tokens, inbox._hmac_sha256; the per-user tables
-- in inbox._citus_tables(). The same text as 55_delivery.sql, after its header.
-- ---------------------------------------------------------------------------------------------
-- The type registry says on which channels a type goes by default, whether a user may turn it
-- off, and whether its e-mails are collected into one per window.
ALTER TABLE inbox.notification_types
    ADD COLUMN channels     text[]   NOT NULL DEFAULT '{in_app,email}',
    ADD COLUMN critical     boolean  NOT NULL DEFAULT false,
    ADD COLUMN email_digest interval,
    ADD CONSTRAINT notification_types_channels
        CHECK (channels OPERATOR(pg_catalog.<@) '{in_app,email}'::text[]),
    ADD CONSTRAINT notification_types_email_digest
        CHECK (email_digest IS NULL OR email_digest BETWEEN '1 second' AND '7 days');

-- The channels a person can turn on or off (webhooks are an administrator's, not a person's).
CREATE FUNCTION inbox._check_channel(channel text, path text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF channel IS NULL OR channel NOT IN ('in_app', 'email') THEN
        RAISE EXCEPTION '%: unknown channel %', path, coalesce(pg_catalog.quote_literal(channel), 'null')
              USING ERRCODE = 'invalid_parameter_value', HINT = 'Channels: in_app, email.';
    END IF;
END
$$;

-- register_type with the delivery settings, beside the lifecycle's lifetime (15_types.sql). A
-- call without the delivery arguments leaves a registered type's delivery settings as they are.
DROP FUNCTION inbox.register_type(text, text, boolean, interval);
CREATE FUNCTION inbox.register_type(name text, description text DEFAULT '', aggregate boolean DEFAULT false,
                                    lifetime interval DEFAULT NULL,
                                    channels text[] DEFAULT NULL, critical boolean DEFAULT NULL,
                                    email_digest interval DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    registered inbox.notification_types;
    channel text;
BEGIN
    FOREACH channel IN ARRAY coalesce(channels, '{}') LOOP
        PERFORM inbox._check_channel(channel, 'channels');
    END LOOP;
    IF email_digest IS NOT NULL AND email_digest NOT BETWEEN '1 second' AND '7 days' THEN
        RAISE EXCEPTION 'email_digest: expected 1 second to 7 days, got %', email_digest
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO inbox.notification_types AS t (name, description, aggregate, lifetime, channels, critical, email_digest)
    VALUES (register_type.name, coalesce(register_type.description, ''), coalesce(register_type.aggregate, false),
            register_type.lifetime, coalesce(register_type.channels, '{in_app,email}'),
            coalesce(register_type.critical, false), register_type.email_digest)
    ON CONFLICT ON CONSTRAINT notification_types_pkey DO UPDATE
       SET description = excluded.description, aggregate = excluded.aggregate, lifetime = excluded.lifetime,
           channels = coalesce(register_type.channels, t.channels),
           critical = coalesce(register_type.critical, t.critical),
           email_digest = coalesce(register_type.email_digest, t.email_digest)
    RETURNING t.* INTO registered;
    RETURN inbox._type_json(registered);
END
$$;

COMMENT ON FUNCTION inbox.register_type(text, text, boolean, interval, text[], boolean, interval) IS
    'Declares a notification type (or changes it); returns it. lifetime: notifications of the type created without expiresAt expire that long after creation; channels: the default channels (in_app, email); critical: a user cannot turn it off; email_digest: its e-mails are collected into one per window.';

-- ---------------------------------------------------------------------------------------------
-- Settings (GUCs the library defines; read with missing_ok so a session that has not loaded the
-- library sees the value ALTER DATABASE set, or the default)
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox._setting(name text, fallback text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN coalesce(NULLIF(pg_catalog.current_setting(name, true), ''), fallback);
END
$$;

-- The retry schedule of Standard Webhooks (also used for e-mail): the wait before attempt n+1.
CREATE FUNCTION inbox._delivery_backoff(attempts integer)
RETURNS interval
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    schedule interval[] := '{0, 5 seconds, 5 minutes, 30 minutes, 2 hours, 5 hours, 10 hours, 14 hours, 20 hours, 24 hours}';
    scale float8 := inbox._setting('pg_inbox.delivery_backoff_scale', '1')::float8;
    wait interval := schedule[least(greatest(attempts, 0), 9) + 1];
BEGIN
    -- Jitter: up to 10% more, so endpoints that failed together are not retried together.
    RETURN wait * scale * (1 + pg_catalog.random() * 0.1);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Preferences
-- ---------------------------------------------------------------------------------------------

CREATE TABLE inbox.preferences (
    user_id    text        NOT NULL,
    type       text        NOT NULL,  -- a registered type, or '*' for every type
    channel    text        NOT NULL,
    enabled    boolean     NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT preferences_pkey PRIMARY KEY (user_id, type, channel),
    CONSTRAINT preferences_channel CHECK (channel IN ('in_app', 'email')),
    CONSTRAINT preferences_type_format
        CHECK (type = '*' OR type OPERATOR(pg_catalog.~) '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$')
);

COMMENT ON TABLE inbox.preferences IS
    'Per user: a channel (in_app, email) turned on or off for a type or, with type *, for every type. A type''s own row wins over *, * over the type''s default channels; a critical type cannot be turned off.';

SELECT pg_catalog.pg_extension_config_dump('inbox.preferences', '');

-- Whether `channel` is on for the user and type: the type's row, else *, else the type's
-- default channels (an unregistered type: every channel). A critical type is always on.
CREATE FUNCTION inbox._channel_on(user_id text, type text, channel text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    t inbox.notification_types;
    chosen boolean;
BEGIN
    SELECT * INTO t FROM inbox.notification_types r WHERE r.name = _channel_on.type;
    IF t.critical THEN
        RETURN true;
    END IF;
    SELECT p.enabled INTO chosen FROM inbox.preferences p
     WHERE p.user_id = _channel_on.user_id AND p.channel = _channel_on.channel
       AND p.type IN (_channel_on.type, '*')
     ORDER BY p.type = '*' LIMIT 1;
    RETURN coalesce(chosen, t.name IS NULL OR _channel_on.channel = ANY (t.channels));
END
$$;

-- The same question for many recipients at once, set-based (a fan-out asks it for every
-- recipient): per position of (user_ids, types), whether `channel` is OFF for that user and type.
-- NULL when it is on for everyone: the cheap answer, found without looking at each recipient,
-- when no type involved leaves the channel out of its defaults and none of these users turned
-- it off for anything. (On Citus, several recipients' preferences are one read of their
-- shards, by design, as the create that asks inserts into them: one recipient's, one shard.)
CREATE FUNCTION inbox._channel_off(channel text, user_ids text[], types text[])
RETURNS boolean[]
LANGUAGE plpgsql STABLE
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    one text := CASE WHEN pg_catalog.cardinality(user_ids) = 1 THEN user_ids[1] END;
    -- The choices of these users for the channel, by user and type (a look-up, not a join:
    -- the planner cannot size the arrays, and a nested loop over two of them is quadratic).
    chosen jsonb;
BEGIN
    -- (One recipient: a statement on its shard alone, on Citus.)
    IF one IS NOT NULL THEN
        chosen := (SELECT pg_catalog.jsonb_object_agg(p.user_id || E'\n' || p.type, p.enabled) FROM inbox.preferences p
                    WHERE p.user_id = one AND p.channel = _channel_off.channel);
    ELSE
        chosen := (SELECT pg_catalog.jsonb_object_agg(p.user_id || E'\n' || p.type, p.enabled) FROM inbox.preferences p
                    WHERE p.user_id = ANY (user_ids) AND p.channel = _channel_off.channel);
    END IF;
    IF NOT coalesce(pg_catalog.jsonb_path_exists(chosen, '$.* ? (@ == false)'), false)
       AND NOT EXISTS (SELECT FROM inbox.notification_types t
                        WHERE t.name = ANY (types) AND NOT t.critical AND NOT _channel_off.channel = ANY (t.channels)) THEN
        RETURN NULL;
    END IF;
    -- The type's own row wins over *, * over the type's defaults (every channel for an
    -- unregistered type); a critical type is always on.
    RETURN ARRAY(
        SELECT NOT coalesce(t.critical, false)
               AND NOT coalesce((chosen->>(u.user_id || E'\n' || u.type))::boolean,
                                (chosen->>(u.user_id || E'\n*'))::boolean,
                                t.name IS NULL OR _channel_off.channel = ANY (t.channels))
          FROM ROWS FROM (pg_catalog.unnest(user_ids), pg_catalog.unnest(types)) WITH ORDINALITY AS u(user_id, type, ord)
          LEFT JOIN inbox.notification_types t ON t.name = u.type
         ORDER BY u.ord);
END
$$;

CREATE FUNCTION inbox.preferences(user_id text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN pg_catalog.jsonb_build_object(
        'data', coalesce((
            SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                       'type', t.name, 'critical', t.critical,
                       'emailDigest', EXTRACT(epoch FROM t.email_digest)::bigint,
                       'channels', pg_catalog.jsonb_build_object(
                           'in_app', inbox._channel_on(preferences.user_id, t.name, 'in_app'),
                           'email', inbox._channel_on(preferences.user_id, t.name, 'email')))
                   ORDER BY t.name)
              FROM inbox.notification_types t), '[]'),
        'all', (SELECT coalesce(pg_catalog.jsonb_object_agg(p.channel, p.enabled), '{}')
                  FROM inbox.preferences p WHERE p.user_id = preferences.user_id AND p.type = '*'));
END
$$;

COMMENT ON FUNCTION inbox.preferences(text) IS
    'The user''s preferences: per registered type, whether each channel is on (their own choice, else their choice for every type, else the type''s default), and their choices for every type ("all").';

-- Turns a channel on or off for one type ('*': every type); enabled NULL forgets the choice.
CREATE FUNCTION inbox.set_preference(user_id text, type text, channel text, enabled boolean)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    t inbox.notification_types;
BEGIN
    IF user_id IS NULL OR pg_catalog.length(user_id) NOT BETWEEN 1 AND 255 THEN
        RAISE EXCEPTION 'user_id: expected 1 to 255 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM inbox._check_channel(channel, 'channel');
    IF type IS DISTINCT FROM '*' THEN
        SELECT * INTO t FROM inbox.notification_types r WHERE r.name = set_preference.type;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'type: % is not a registered type', coalesce(pg_catalog.quote_literal(type), 'null')
                  USING ERRCODE = 'invalid_parameter_value',
                        HINT = 'Preferences name a registered type (inbox.types()), or * for every type.';
        END IF;
        IF t.critical AND enabled IS FALSE THEN
            RAISE EXCEPTION 'type: % is critical and cannot be turned off', type
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    IF enabled IS NULL THEN
        DELETE FROM inbox.preferences p
         WHERE p.user_id = set_preference.user_id AND p.type = set_preference.type AND p.channel = set_preference.channel;
    ELSE
        INSERT INTO inbox.preferences AS p (user_id, type, channel, enabled)
        VALUES (set_preference.user_id, set_preference.type, set_preference.channel, set_preference.enabled)
        ON CONFLICT ON CONSTRAINT preferences_pkey DO UPDATE
           SET enabled = excluded.enabled, updated_at = pg_catalog.now();
    END IF;
    RETURN inbox.preferences(user_id);
END
$$;

COMMENT ON FUNCTION inbox.set_preference(text, text, text, boolean) IS
    'Turns channel (in_app, email) on or off for the user and type (* for every type); NULL forgets the choice. Returns inbox.preferences(user_id).';

-- ---------------------------------------------------------------------------------------------
-- Webhook endpoints
-- ---------------------------------------------------------------------------------------------

CREATE TABLE inbox.webhooks (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    user_id         text,                -- NULL: every user's events
    url             text        NOT NULL,
    events          text[]      NOT NULL,
    types           text[],              -- NULL: every type
    workspace_id    text,                -- NULL: every workspace
    secret          text        NOT NULL, -- whsec_ + base64 of the signing key
    enabled         boolean     NOT NULL DEFAULT true,
    disabled_reason text,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT webhooks_pkey PRIMARY KEY (id),
    CONSTRAINT webhooks_url_length CHECK (pg_catalog.length(url) <= 2048),
    CONSTRAINT webhooks_secret_format CHECK (secret OPERATOR(pg_catalog.~) '^whsec_[A-Za-z0-9+/]{32,88}={0,2}$')
);

COMMENT ON TABLE inbox.webhooks IS
    'Webhook endpoints (Standard Webhooks 1.0): the events, types and workspace they want, for one user or every user. Configuration, not per-user data (on Citus a reference table).';

REVOKE ALL ON inbox.webhooks FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('inbox.webhooks', '');

-- The events a webhook can ask for: the change feed's (inbox.events).
CREATE FUNCTION inbox.webhook_events()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT '{notification.created,notification.updated,notification.deleted,notification.restored,notification.purged,notification.read_all,notification.bulk,notification.seen}'::text[]
$$;

CREATE FUNCTION inbox._webhook_json(w inbox.webhooks)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'id', 'wh_' || w.id, 'userId', w.user_id, 'url', w.url, 'events', pg_catalog.to_jsonb(w.events),
        'types', pg_catalog.to_jsonb(w.types), 'workspaceId', w.workspace_id, 'enabled', w.enabled,
        'disabledReason', w.disabled_reason, 'createdAt', inbox.iso_time(w.created_at))
$$;

-- 'wh_42' -> 42; raises P0002 for anything else, as for an unknown webhook.
CREATE FUNCTION inbox._webhook_id(id text)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF id OPERATOR(pg_catalog.~) '^wh_[1-9][0-9]{0,17}$' THEN
        RETURN pg_catalog.substr(id, 4)::bigint;
    END IF;
    RAISE EXCEPTION 'webhook % not found', id USING ERRCODE = 'no_data_found';
END
$$;

-- Raises unless `url` is an http(s) URL whose host is not on a loopback, private, link-local or
-- otherwise internal address, unless pg_inbox.webhook_allow_private is on. Names are checked by
-- their spelling here (localhost, *.localhost, *.internal, ...); the server checks the address
-- a name resolves to before it connects.
CREATE FUNCTION inbox._check_webhook_url(url text)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    parts text[] := pg_catalog.regexp_match(url,
        '^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?(/[^[:space:][:cntrl:]]*)?$');
    host text;
    address inet;
BEGIN
    IF url IS NULL OR pg_catalog.length(url) > 2048 OR parts IS NULL THEN
        RAISE EXCEPTION 'url: expected an http or https URL of at most 2048 characters, got %',
              coalesce(pg_catalog.quote_literal(pg_catalog.left(url, 100)), 'null')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF parts[2] IS NOT NULL AND pg_catalog.substr(parts[2], 2)::int NOT BETWEEN 1 AND 65535 THEN
        RAISE EXCEPTION 'url: port % is out of range', pg_catalog.substr(parts[2], 2)
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF inbox._setting('pg_inbox.webhook_allow_private', 'off') IN ('on', 'true', '1', 'yes') THEN
        RETURN;
    END IF;
    host := pg_catalog.lower(pg_catalog.btrim(parts[1], '[]'));
    BEGIN
        address := host::inet;
    EXCEPTION WHEN invalid_text_representation THEN
        address := NULL;
    END;
    IF host = 'localhost' OR host LIKE '%.localhost' OR host LIKE '%.local' OR host LIKE '%.internal'
       OR host NOT LIKE '%.%' AND address IS NULL
       OR address IS NOT NULL AND (
              address <<= ANY ('{0.0.0.0/8,10.0.0.0/8,100.64.0.0/10,127.0.0.0/8,169.254.0.0/16,172.16.0.0/12,192.0.0.0/24,192.168.0.0/16,198.18.0.0/15,224.0.0.0/3}'::inet[])
              OR address <<= ANY ('{::/128,::1/128,::ffff:0:0/96,fc00::/7,fe80::/10,ff00::/8}'::inet[])) THEN
        RAISE EXCEPTION 'url: % is a loopback, private or internal address', host
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Webhooks go to public addresses; SET pg_inbox.webhook_allow_private = on allows others (for tests).';
    END IF;
END
$$;

CREATE FUNCTION inbox.create_webhook(url text, events text[], types text[] DEFAULT NULL,
                                     workspace_id text DEFAULT NULL, user_id text DEFAULT NULL,
                                     secret text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    bad text;
    created inbox.webhooks;
    key bytea;
BEGIN
    PERFORM inbox._check_webhook_url(url);
    IF events IS NULL OR pg_catalog.cardinality(events) = 0 THEN
        RAISE EXCEPTION 'events: expected at least one event' USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Events: ' || pg_catalog.array_to_string(inbox.webhook_events(), ', ') || '.';
    END IF;
    SELECT e INTO bad FROM pg_catalog.unnest(events) AS e WHERE e IS NULL OR e <> ALL (inbox.webhook_events()) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'events: unknown event %', coalesce(pg_catalog.quote_literal(bad), 'null')
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Events: ' || pg_catalog.array_to_string(inbox.webhook_events(), ', ') || '.';
    END IF;
    IF types IS NOT NULL THEN
        SELECT t INTO bad FROM pg_catalog.unnest(types) AS t
         WHERE t IS NULL OR t OPERATOR(pg_catalog.!~) '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' LIMIT 1;
        IF FOUND OR pg_catalog.cardinality(types) = 0 THEN
            RAISE EXCEPTION 'types: expected type names, got %', coalesce(pg_catalog.quote_literal(bad), 'an empty list')
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    IF workspace_id = '' OR user_id = '' THEN
        RAISE EXCEPTION '%: must not be empty', CASE WHEN user_id = '' THEN 'userId' ELSE 'workspaceId' END
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF secret IS NULL THEN
        key := pg_catalog.decode(pg_catalog.replace(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text, '-', ''), 'hex');
        secret := 'whsec_' || pg_catalog.encode(key, 'base64');
    ELSIF secret OPERATOR(pg_catalog.!~) '^whsec_[A-Za-z0-9+/]{32,88}={0,2}$' THEN
        RAISE EXCEPTION 'secret: expected whsec_ and the base64 of 24 to 64 bytes'
              USING ERRCODE = 'invalid_parameter_value';
    ELSE
        BEGIN
            key := pg_catalog.decode(pg_catalog.substr(secret, 7), 'base64');
        EXCEPTION WHEN invalid_parameter_value THEN
            RAISE EXCEPTION 'secret: expected whsec_ and the base64 of 24 to 64 bytes'
                  USING ERRCODE = 'invalid_parameter_value';
        END;
        IF pg_catalog.octet_length(key) NOT BETWEEN 24 AND 64 THEN
            RAISE EXCEPTION 'secret: expected whsec_ and the base64 of 24 to 64 bytes, got % bytes', pg_catalog.octet_length(key)
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    INSERT INTO inbox.webhooks AS w (user_id, url, events, types, workspace_id, secret)
    VALUES (create_webhook.user_id, create_webhook.url, create_webhook.events, create_webhook.types,
            create_webhook.workspace_id, create_webhook.secret)
    RETURNING w.* INTO created;
    -- The secret is shown this once.
    RETURN inbox._webhook_json(created) || pg_catalog.jsonb_build_object('secret', created.secret);
END
$$;

COMMENT ON FUNCTION inbox.create_webhook(text, text[], text[], text, text, text) IS
    'Registers a webhook endpoint for events (inbox.webhook_events()), optionally only some types, one workspace, one user; returns it with its signing secret (whsec_..., shown once).';

CREATE FUNCTION inbox.webhooks()
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN coalesce((SELECT pg_catalog.jsonb_agg(inbox._webhook_json(ROW(w.*)::inbox.webhooks) ORDER BY w.id)
                       FROM inbox.webhooks w), '[]');
END
$$;

CREATE FUNCTION inbox.delete_webhook(id text)
RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM inbox.webhooks w WHERE w.id = inbox._webhook_id(delete_webhook.id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'webhook % not found', id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN true;
END
$$;

COMMENT ON FUNCTION inbox.delete_webhook(text) IS
    'Removes a webhook endpoint; its pending deliveries are cancelled when claimed.';

-- ---------------------------------------------------------------------------------------------
-- The outbox
-- ---------------------------------------------------------------------------------------------

CREATE TABLE inbox.deliveries (
    user_id          text        NOT NULL,
    id               uuid        NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
    channel          text        NOT NULL,
    webhook_id       bigint,                -- channel webhook
    address          text,                  -- channel email: the recipient's address
    event            text        NOT NULL,
    type             text,
    notification_ids bigint[]    NOT NULL DEFAULT '{}',  -- an e-mail digest lists several
    digest           boolean     NOT NULL DEFAULT false, -- still collecting until due_at
    payload          jsonb,                 -- a webhook's body, as it was when the event happened
    state            text        NOT NULL DEFAULT 'pending',
    attempts         integer     NOT NULL DEFAULT 0,
    -- pending: when it is due (the next try, or the end of a claim's lease)
    due_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    lease            uuid,                  -- the current claim
    last_status      integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    finished_at      timestamptz,
    CONSTRAINT deliveries_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT deliveries_channel CHECK (channel IN ('email', 'webhook')),
    CONSTRAINT deliveries_state CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled'))
);

COMMENT ON TABLE inbox.deliveries IS
    'The outbox: one row per e-mail or webhook call to make, filled from inbox.events in the transaction of the change. Workers claim due rows (inbox.claim_deliveries) and report each attempt (inbox.finish_deliveries); finished rows are pruned after pg_inbox.delivery_retention (inbox.prune_deliveries).';

-- What the workers claim: due rows, oldest first, across users.
CREATE INDEX deliveries_due_idx ON inbox.deliveries (due_at) WHERE state = 'pending';
-- What pruning removes.
CREATE INDEX deliveries_finished_idx ON inbox.deliveries (finished_at) WHERE state <> 'pending';
-- The log of one webhook.
CREATE INDEX deliveries_webhook_idx ON inbox.deliveries (webhook_id, created_at DESC) WHERE webhook_id IS NOT NULL;
-- The one open digest of a user and type, which new notifications join.
CREATE UNIQUE INDEX deliveries_open_digest_idx ON inbox.deliveries (user_id, type)
    WHERE digest AND state = 'pending' AND attempts = 0;

SELECT pg_catalog.pg_extension_config_dump('inbox.deliveries', '');

-- The delivery log: one row per attempt.
CREATE TABLE inbox.delivery_attempts (
    user_id     text        NOT NULL,
    delivery_id uuid        NOT NULL,
    attempt     integer     NOT NULL,
    at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    outcome     text        NOT NULL,  -- delivered, retry, failed, gone
    status      integer,               -- HTTP status, SMTP reply code; NULL when none came
    duration_ms integer,
    error       text,
    CONSTRAINT delivery_attempts_pkey PRIMARY KEY (user_id, delivery_id, attempt),
    FOREIGN KEY (user_id, delivery_id) REFERENCES inbox.deliveries (user_id, id) ON DELETE CASCADE,
    CONSTRAINT delivery_attempts_error_length CHECK (pg_catalog.length(error) <= 1000)
);

SELECT pg_catalog.pg_extension_config_dump('inbox.delivery_attempts', '');

-- The stable id of a delivery (Standard Webhooks' webhook-id; the same on every attempt).
CREATE FUNCTION inbox._delivery_public_id(id uuid)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT 'msg_' || pg_catalog.replace(id::text, '-', '')
$$;

CREATE FUNCTION inbox._delivery_uuid(id text)
RETURNS uuid
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF id OPERATOR(pg_catalog.~) '^msg_[0-9a-f]{32}$' THEN
        RETURN pg_catalog.substr(id, 5)::uuid;
    END IF;
    RAISE EXCEPTION 'delivery % not found', id USING ERRCODE = 'no_data_found';
END
$$;

-- The e-mail addresses of users (per position of user_ids; NULL for none), found through the
-- relation named recipient
-- (inbox.define_relation('recipient', 'userId', 'public.users', 'id')) and the column that
-- pg_inbox.email_column names; none when e-mail is not set up (with a warning when it is set up
-- wrongly: a set-up mistake never makes the change itself fail). The one dynamic statement of
-- the delivery triggers, and a small one: a look-up by key (an index scan when the key is text),
-- identifiers quoted after a catalog check.
CREATE FUNCTION inbox._email_addresses(user_ids text[])
RETURNS text[]
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    email_column text := inbox._setting('pg_inbox.email_column', '');
    r inbox.relations;
    target regclass;
    key_type regtype;
    addresses text[];
BEGIN
    IF email_column = '' THEN
        RETURN NULL;
    END IF;
    SELECT * INTO r FROM inbox.relations x WHERE x.name = 'recipient';
    IF NOT FOUND THEN
        RAISE WARNING 'pg_inbox.email_column is set but no relation is named recipient: no e-mail is queued'
              USING HINT = 'SELECT inbox.define_relation(''recipient'', ''userId'', ''public.users'', ''id''); or RESET pg_inbox.email_column.';
        RETURN NULL;
    END IF;
    target := pg_catalog.to_regclass(pg_catalog.format('%I.%I', r.target_schema, r.target_table));
    SELECT a.atttypid::regtype INTO key_type FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = target AND a.attname = r.target_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF target IS NULL OR key_type IS NULL OR r.source_column <> 'user_id' OR NOT EXISTS (
        SELECT FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = target AND a.attname = email_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE WARNING 'pg_inbox.email_column: column % of the recipient relation''s table %.% does not exist: no e-mail is queued',
              email_column, r.target_schema, r.target_table
              USING DETAIL = 'The recipient relation must go from userId to the table that holds the address.';
        RETURN NULL;
    END IF;
    -- Per recipient, the first address found (a nested loop over the key's index).
    EXECUTE pg_catalog.format(
        'SELECT pg_catalog.array_agg((SELECT a.%I::text FROM %s a WHERE %s LIMIT 1) ORDER BY u.k)
           FROM pg_catalog.unnest($1) WITH ORDINALITY AS u(id, k)', email_column, target,
        CASE WHEN key_type IN ('text'::regtype, 'character varying'::regtype)
             THEN pg_catalog.format('a.%I = u.id', r.target_column)
             ELSE pg_catalog.format('a.%I::text = u.id', r.target_column) END)
        INTO addresses USING user_ids;
    RETURN addresses;
END
$$;

-- Queues the e-mails of created notifications, per position of the arrays: the recipient, the
-- type, and either the stored notification's id (its e-mail is built from the row when it is
-- sent) or, for a recipient who has in_app off and so has no row, the create object itself
-- (contents). A recipient whose e-mail is off for the type, or who has no address, gets none;
-- a type with an e-mail digest window joins the recipient's open digest of it (a stored
-- notification only: a recipient without a row gets the e-mail on its own).
CREATE FUNCTION inbox._queue_email(user_ids text[], types text[], notification_ids bigint[], contents jsonb[])
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    off boolean[] := inbox._channel_off('email', user_ids, types);
BEGIN
    WITH wanted AS (
        SELECT u.user_id, u.type, u.notification_id, u.content, t.email_digest, u.address
          FROM ROWS FROM (pg_catalog.unnest(user_ids), pg_catalog.unnest(types),
                          pg_catalog.unnest(notification_ids), pg_catalog.unnest(contents),
                          pg_catalog.unnest(inbox._email_addresses(user_ids)))
               WITH ORDINALITY AS u(user_id, type, notification_id, content, address, ord)
          LEFT JOIN inbox.notification_types t ON t.name = u.type
         WHERE (off IS NULL OR NOT off[u.ord]) AND u.address <> ''),
    single AS (
        INSERT INTO inbox.deliveries (user_id, channel, address, event, type, notification_ids, payload)
        SELECT w.user_id, 'email', w.address, 'notification.created', w.type,
               CASE WHEN w.notification_id IS NULL THEN '{}'::bigint[] ELSE ARRAY[w.notification_id] END, w.content
          FROM wanted w WHERE w.email_digest IS NULL OR w.content IS NOT NULL)
    INSERT INTO inbox.deliveries AS d (user_id, channel, address, event, type, notification_ids, digest, due_at)
    SELECT w.user_id, 'email', pg_catalog.min(w.address), 'notification.created', w.type,
           pg_catalog.array_agg(w.notification_id ORDER BY w.notification_id), true,
           pg_catalog.now() + pg_catalog.min(w.email_digest)
      FROM wanted w WHERE w.email_digest IS NOT NULL AND w.content IS NULL
     GROUP BY w.user_id, w.type
    ON CONFLICT (user_id, type) WHERE digest AND state = 'pending' AND attempts = 0
    DO UPDATE SET notification_ids = d.notification_ids || excluded.notification_ids;
END
$$;

-- in_app off: a create stores nothing for that person (inbox._create calls this first). Per
-- position of (user_ids, objects), whether the recipient is skipped; NULL when no one is (the
-- common case, answered cheaply by inbox._channel_off). A skipped recipient whose e-mail is on
-- still gets the e-mail: queued here, in the transaction of the create, since no row and so
-- no notification.created event will queue it.
CREATE FUNCTION inbox._skip_in_app(user_ids text[], objects jsonb[], indexed boolean)
RETURNS boolean[]
LANGUAGE plpgsql
AS $$
DECLARE
    types text[] := CASE WHEN indexed
                         THEN ARRAY(SELECT coalesce(x.o->>'type', 'info')
                                      FROM pg_catalog.unnest(objects) WITH ORDINALITY AS x(o, k) ORDER BY x.k)
                         ELSE pg_catalog.array_fill(coalesce(objects[1]->>'type', 'info'),
                                                    ARRAY[pg_catalog.cardinality(user_ids)]) END;
    skip boolean[] := inbox._channel_off('in_app', user_ids, types);
BEGIN
    IF skip IS NULL OR NOT true = ANY (skip) THEN
        RETURN NULL;
    END IF;
    IF inbox._setting('pg_inbox.email_column', '') <> '' THEN
        PERFORM inbox._queue_email(
            ARRAY(SELECT x.u FROM ROWS FROM (pg_catalog.unnest(user_ids), pg_catalog.unnest(skip)) WITH ORDINALITY AS x(u, s, k)
                   WHERE x.s ORDER BY x.k),
            ARRAY(SELECT x.t FROM ROWS FROM (pg_catalog.unnest(types), pg_catalog.unnest(skip)) WITH ORDINALITY AS x(t, s, k)
                   WHERE x.s ORDER BY x.k),
            NULL,
            ARRAY(SELECT x.o FROM ROWS FROM (pg_catalog.unnest(objects), pg_catalog.unnest(skip)) WITH ORDINALITY AS x(o, s, k)
                   WHERE x.s ORDER BY x.k));
    END IF;
    RETURN skip;
END
$$;

-- Queues the deliveries of the events the statement inserted (transition table new_events):
-- an e-mail per created notification whose type and recipient want one (or a place in the
-- open digest of its type), and a webhook call per event and endpoint that asks for it. Static
-- SQL (plans cached for the session), and two cheap probes when nothing is configured. The
-- joins of the events with their notifications go through the primary key: a table whose
-- statistics say it is empty (a fan-out into a new or just-emptied inbox) otherwise gets a
-- nested loop that scans it whole for every event, quadratic in the fan-out (measured: 73 s
-- instead of 2 s for 10,000 recipients).
CREATE FUNCTION inbox._deliveries_after_events() RETURNS trigger
LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
DECLARE
    created record;
    at text;
BEGIN
    -- E-mail, sent when a notification is created (never on an update: Directus's rule).
    IF inbox._setting('pg_inbox.email_column', '') <> '' THEN
        SELECT pg_catalog.array_agg(e.user_id ORDER BY e.id) AS users, pg_catalog.array_agg(n.type ORDER BY e.id) AS types,
               pg_catalog.array_agg(n.id ORDER BY e.id) AS ids
          INTO created
          FROM new_events e
          JOIN inbox.notifications n ON n.user_id = e.user_id AND n.id = e.notification_id
         WHERE e.event = 'notification.created';
        IF created.users IS NOT NULL THEN
            PERFORM inbox._queue_email(created.users, created.types, created.ids, NULL);
        END IF;
    END IF;
    IF NOT EXISTS (SELECT FROM inbox.webhooks w WHERE w.enabled) THEN
        RETURN NULL;
    END IF;
    at := inbox.iso_time(pg_catalog.now());
    -- Webhooks: the body as the event happened (Standard Webhooks: type, timestamp, data).
    INSERT INTO inbox.deliveries (user_id, channel, webhook_id, event, type, notification_ids, payload)
    SELECT e.user_id, 'webhook', w.id, e.event, n.type,
           CASE WHEN e.notification_id IS NULL THEN '{}'::bigint[] ELSE ARRAY[e.notification_id] END,
           pg_catalog.jsonb_build_object(
               'type', e.event, 'timestamp', at,
               -- The event's data as the streams get it (45_feed.sql), always naming the user.
               'data', inbox._event_data(e.event, e.notification_id, coalesce(e.data, '{}'),
                                         ROW(n.*)::inbox.notifications)
                       || pg_catalog.jsonb_build_object('userId', e.user_id))
      FROM new_events e
      JOIN inbox.webhooks w ON w.enabled AND e.event = ANY (w.events)
                           AND (w.user_id IS NULL OR w.user_id = e.user_id)
                           AND (w.workspace_id IS NULL OR w.workspace_id = e.workspace_id)
      LEFT JOIN inbox.notifications n ON n.user_id = e.user_id AND n.id = e.notification_id
     -- (A summary is of no one type: an endpoint that asked for its event gets it.)
     WHERE w.types IS NULL OR e.notification_id IS NULL OR n.type = ANY (w.types);
    RETURN NULL;
END
$$;

-- Once per statement that appends to the feed; the transition table holds its events.
CREATE TRIGGER deliveries_after_insert AFTER INSERT ON inbox.events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION inbox._deliveries_after_events();

-- ---------------------------------------------------------------------------------------------
-- Workers: claim, finish, prune
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox._hmac_sha256(key bytea, data bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'pgi_hmac_sha256'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The unsubscribe token of a user and type: both in base64url, and an HMAC-SHA256 (truncated to
-- 128 bits) over them with the installation's key (inbox.cursor_secrets).
CREATE FUNCTION inbox._b64url(data bytea)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.rtrim(pg_catalog.translate(pg_catalog.encode(data, 'base64'), E'+/\n', '-_'), '=')
$$;

CREATE FUNCTION inbox._unb64url(data text)
RETURNS bytea
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    RETURN pg_catalog.decode(pg_catalog.translate(data, '-_', '+/')
                             || pg_catalog.repeat('=', (4 - pg_catalog.length(data) % 4) % 4), 'base64');
END
$$;

CREATE FUNCTION inbox._unsubscribe_mac(user_id text, type text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN inbox._b64url(pg_catalog.substr(inbox._hmac_sha256(
        (SELECT s.secret FROM inbox.cursor_secrets s ORDER BY s.created_at, s.secret LIMIT 1),
        pg_catalog.convert_to('unsubscribe' || pg_catalog.chr(10) || user_id || pg_catalog.chr(10) || type, 'UTF8')), 1, 16));
END
$$;

CREATE FUNCTION inbox._unsubscribe_token(user_id text, type text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN inbox._b64url(pg_catalog.convert_to(user_id, 'UTF8')) || '.'
        || inbox._b64url(pg_catalog.convert_to(type, 'UTF8')) || '.' || inbox._unsubscribe_mac(user_id, type);
END
$$;

-- The (user, type) of a token; raises P0002 for a token that is not one of ours.
CREATE FUNCTION inbox._unsubscribe_target(token text, OUT user_id text, OUT type text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    parts text[] := CASE WHEN pg_catalog.length(token) <= 600
                         THEN pg_catalog.regexp_match(token, '^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{22})$') END;
BEGIN
    IF parts IS NOT NULL THEN
        BEGIN
            user_id := pg_catalog.convert_from(inbox._unb64url(parts[1]), 'UTF8');
            type := pg_catalog.convert_from(inbox._unb64url(parts[2]), 'UTF8');
        EXCEPTION WHEN invalid_parameter_value OR character_not_in_repertoire OR untranslatable_character THEN
            user_id := NULL;
        END;
        IF user_id IS NOT NULL AND inbox._unsubscribe_mac(user_id, type) = parts[3] THEN
            RETURN;
        END IF;
    END IF;
    RAISE EXCEPTION 'unsubscribe link not found' USING ERRCODE = 'no_data_found',
          DETAIL = 'The link is not one this server sent, or its key was replaced.';
END
$$;

-- Claims up to `limit` due deliveries of `channels` for `lease_for` and returns what to send, in
-- one statement: the target (URL or address), the body, and the headers (webhook: webhook-id
-- and webhook-timestamp, with the endpoint's secret for the server to sign them; e-mail: the
-- subject, the Message-ID's local part, the unsubscribe token). A row whose lease runs out
-- before it is finished is due again, under the same id. Rows that can no longer be sent (their
-- endpoint gone or disabled, every notification of an e-mail deleted) are cancelled here. An
-- e-mail without a stored notification (its recipient had in_app off) is built from the create
-- object the row carries.
CREATE FUNCTION inbox.claim_deliveries("limit" integer DEFAULT 100, lease_for interval DEFAULT '1 minute',
                                       channels text[] DEFAULT '{email,webhook}')
RETURNS TABLE (user_id text, id text, lease uuid, channel text, attempt integer, target text,
               headers jsonb, body text, secret text)
LANGUAGE plpgsql
AS $$
DECLARE
    claim uuid := pg_catalog.gen_random_uuid();
    at timestamptz := pg_catalog.now();
    stamp text := pg_catalog.floor(EXTRACT(epoch FROM at))::bigint::text;
BEGIN
    IF "limit" IS NULL OR "limit" NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'limit: expected 1 to 10000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    WITH due AS (
        SELECT x.user_id, x.id FROM inbox.deliveries x
         WHERE x.state = 'pending' AND x.due_at <= at AND x.channel = ANY (channels)
         ORDER BY x.due_at LIMIT "limit"
           FOR UPDATE SKIP LOCKED),
    found AS (
        SELECT x.user_id, x.id, x.channel, x.type, x.payload, x.address, x.notification_ids,
               w.url, w.secret, m.count, m.first_id, m.subject, m.lines,
               CASE WHEN x.channel = 'webhook' THEN coalesce(w.enabled, false)
                    ELSE x.payload IS NOT NULL OR m.count > 0 END AS live
          FROM due JOIN inbox.deliveries x ON x.user_id = due.user_id AND x.id = due.id
          LEFT JOIN inbox.webhooks w ON x.channel = 'webhook' AND w.id = x.webhook_id
          LEFT JOIN LATERAL (
              SELECT pg_catalog.count(*)::int AS count, pg_catalog.min(n.id) AS first_id,
                     pg_catalog.min(n.title) FILTER (WHERE n.id = x.notification_ids[1]) AS subject,
                     pg_catalog.string_agg(
                         CASE WHEN pg_catalog.cardinality(x.notification_ids) > 1 THEN '* ' ELSE '' END
                         || coalesce(n.title, n.type)
                         || coalesce(E'\n\n' || n.body, '')
                         || coalesce(E'\n\n' || (n.data->>'url'), ''),
                         E'\n\n' ORDER BY n.created_at, n.id) AS lines
                FROM inbox.notifications n
               WHERE x.channel = 'email' AND n.user_id = x.user_id AND n.id = ANY (x.notification_ids)
                 AND n.deleted_at IS NULL) m ON true),
    cancelled AS (
        UPDATE inbox.deliveries x
           SET state = 'cancelled', finished_at = at, lease = NULL, attempts = x.attempts + 1, digest = false,
               last_error = CASE WHEN f.channel = 'webhook' THEN 'the webhook endpoint was removed or disabled'
                                 ELSE 'every notification of the e-mail was deleted' END
          FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND NOT f.live),
    claimed AS (
        UPDATE inbox.deliveries x
           SET lease = claim, attempts = x.attempts + 1, due_at = at + lease_for, digest = false
          FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND f.live
        RETURNING x.user_id, x.id, x.attempts)
    SELECT f.user_id, inbox._delivery_public_id(f.id), claim, f.channel, c.attempts,
           CASE WHEN f.channel = 'webhook' THEN f.url ELSE f.address END,
           CASE WHEN f.channel = 'webhook'
                THEN pg_catalog.jsonb_build_object('webhook-id', inbox._delivery_public_id(f.id), 'webhook-timestamp', stamp)
                ELSE pg_catalog.jsonb_build_object(
                         'subject', CASE WHEN pg_catalog.cardinality(f.notification_ids) > 1 THEN f.count || ' new notifications'
                                         WHEN f.count > 0 THEN coalesce(f.subject, f.type, 'New notification')
                                         ELSE coalesce(f.payload->>'title', f.type, 'New notification') END,
                         -- A retry is the same message; a digest, or an e-mail without a stored
                         -- notification, is its own.
                         'messageId', CASE WHEN pg_catalog.cardinality(f.notification_ids) = 1 AND f.count > 0
                                           THEN inbox.public_id(f.first_id) ELSE inbox._delivery_public_id(f.id) END,
                         'unsubscribe', inbox._unsubscribe_token(f.user_id, f.type),
                         'type', f.type) END,
           CASE WHEN f.channel = 'webhook' THEN f.payload::text
                WHEN f.count > 0 THEN f.lines || E'\n'
                ELSE coalesce(f.payload->>'title', f.type) || coalesce(E'\n\n' || (f.payload->>'body'), '')
                     || coalesce(E'\n\n' || (f.payload->'data'->>'url'), '') || E'\n' END,
           f.secret
      FROM claimed c JOIN found f ON f.user_id = c.user_id AND f.id = c.id;
END
$$;

COMMENT ON FUNCTION inbox.claim_deliveries(integer, interval, text[]) IS
    'For the server''s delivery workers: claims up to limit due deliveries (FOR UPDATE SKIP LOCKED) for lease, and returns what to send. Several workers and servers can share the outbox.';

-- Records attempts: a JSON array of {"userId", "id", "lease", "status", "error", "durationMs",
-- "retryAfter"} (status: the HTTP status or SMTP reply code, 0 or absent when none came). What an
-- answer means:
--   webhook: 2xx delivered; 410 the endpoint is disabled and the delivery failed; 408, 429, 5xx
--            and no answer (timeout, refused, reset) are retried; any other 4xx fails at once (the
--            receiver refused the request: sending it again would not change that);
--   e-mail:  2xx delivered; 5xx (a permanent SMTP failure) fails at once; 4xx and no answer are
--            retried.
-- A retry is due after the backoff schedule (or a 429/503's Retry-After), unless that was the
-- last attempt (pg_inbox.delivery_max_attempts): then the delivery failed. A report whose lease
-- is no longer the row's (the lease ran out and another worker claimed it) is ignored. Returns
-- how many reports were recorded.
CREATE FUNCTION inbox.finish_deliveries(results jsonb)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    max_attempts integer := inbox._setting('pg_inbox.delivery_max_attempts', '10')::integer;
    recorded integer;
    finished timestamptz := pg_catalog.clock_timestamp();
BEGIN
    IF pg_catalog.jsonb_typeof(results) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'results: expected a JSON array' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- One statement for the whole batch: the reports whose lease is still the row's, what each
    -- answer means, the attempt logged, the row rescheduled or finished, a gone endpoint disabled.
    WITH reports AS (
        SELECT r."userId" AS user_id, inbox._delivery_uuid(r.id) AS id, r.lease,
               NULLIF(r.status, 0) AS code, pg_catalog.left(r.error, 1000) AS error,
               r."durationMs" AS duration_ms, r."retryAfter" AS retry_after
          FROM pg_catalog.jsonb_to_recordset(results)
               AS r("userId" text, id text, lease uuid, status integer, error text, "durationMs" integer, "retryAfter" integer)),
    current AS (
        SELECT d.user_id, d.id, d.channel, d.attempts, d.webhook_id, r.code, r.error, r.duration_ms, r.retry_after
          FROM inbox.deliveries d JOIN reports r ON d.user_id = r.user_id AND d.id = r.id AND d.lease = r.lease
         WHERE d.state = 'pending'
           FOR UPDATE OF d),
    answered AS (
        SELECT c.*, CASE WHEN c.code BETWEEN 200 AND 299 THEN 'delivered'
                         WHEN c.channel = 'webhook' AND c.code = 410 THEN 'gone'
                         WHEN c.code IS NULL OR c.code >= 500 AND c.channel = 'webhook' OR c.code IN (408, 429)
                              OR c.code BETWEEN 400 AND 499 AND c.channel = 'email'
                         THEN CASE WHEN c.attempts >= max_attempts THEN 'failed' ELSE 'retry' END
                         ELSE 'failed' END AS outcome
          FROM current c),
    planned AS (
        SELECT a.*, CASE WHEN a.code IN (429, 503) AND a.retry_after > 0
                         THEN pg_catalog.make_interval(secs => least(a.retry_after, 86400))
                         ELSE inbox._delivery_backoff(a.attempts) END AS wait
          FROM answered a),
    logged AS (
        INSERT INTO inbox.delivery_attempts (user_id, delivery_id, attempt, outcome, status, duration_ms, error)
        SELECT p.user_id, p.id, p.attempts, p.outcome, p.code, p.duration_ms, p.error FROM planned p
        ON CONFLICT ON CONSTRAINT delivery_attempts_pkey DO NOTHING),
    disabled AS (
        UPDATE inbox.webhooks w SET enabled = false, disabled_reason = 'the endpoint answered 410 Gone'
         WHERE w.enabled AND w.id IN (SELECT p.webhook_id FROM planned p WHERE p.outcome = 'gone'))
    UPDATE inbox.deliveries d
       SET state = CASE WHEN p.outcome = 'retry' THEN 'pending' WHEN p.outcome = 'delivered' THEN 'delivered' ELSE 'failed' END,
           due_at = pg_catalog.now() + p.wait,
           finished_at = CASE WHEN p.outcome = 'retry' THEN NULL ELSE finished END,
           lease = NULL, last_status = p.code, last_error = p.error
      FROM planned p
     WHERE d.user_id = p.user_id AND d.id = p.id;
    GET DIAGNOSTICS recorded = ROW_COUNT;
    RETURN recorded;
END
$$;

COMMENT ON FUNCTION inbox.finish_deliveries(jsonb) IS
    'For the server''s delivery workers: records attempts and schedules retries (see the function''s header for what each answer means).';

-- Removes up to `batch` delivered, failed or cancelled rows older than
-- pg_inbox.delivery_retention (default 7 days), with their attempts; returns how many.
CREATE FUNCTION inbox.prune_deliveries(batch integer DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    removed bigint;
BEGIN
    DELETE FROM inbox.deliveries x
     USING (SELECT y.user_id, y.id FROM inbox.deliveries y
             WHERE y.state <> 'pending'
               AND y.finished_at < pg_catalog.now() - inbox._setting('pg_inbox.delivery_retention', '7 days')::interval
             ORDER BY y.finished_at LIMIT batch) old
     WHERE x.user_id = old.user_id AND x.id = old.id;
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END
$$;

COMMENT ON FUNCTION inbox.prune_deliveries(integer) IS
    'Removes at most batch finished deliveries (and their attempts) older than pg_inbox.delivery_retention; returns how many. The server''s workers call it every minute.';

-- ---------------------------------------------------------------------------------------------
-- The delivery log of a webhook, and replaying one
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox._delivery_json(d inbox.deliveries)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN pg_catalog.jsonb_build_object(
        'id', inbox._delivery_public_id(d.id), 'userId', d.user_id, 'channel', d.channel,
        'event', d.event, 'type', d.type, 'state', d.state, 'attempts', d.attempts,
        'nextAttemptAt', CASE WHEN d.state = 'pending' THEN inbox.iso_time(d.due_at) END,
        'lastStatus', d.last_status, 'lastError', d.last_error,
        'createdAt', inbox.iso_time(d.created_at), 'finishedAt', inbox.iso_time(d.finished_at),
        'log', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                           'attempt', a.attempt, 'at', inbox.iso_time(a.at), 'outcome', a.outcome,
                           'status', a.status, 'durationMs', a.duration_ms, 'error', a.error) ORDER BY a.attempt)
                           FROM inbox.delivery_attempts a
                          WHERE a.user_id = d.user_id AND a.delivery_id = d.id), '[]'));
END
$$;

CREATE FUNCTION inbox.webhook_deliveries(webhook text, "limit" integer DEFAULT 50)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    wanted bigint := inbox._webhook_id(webhook);
BEGIN
    IF NOT EXISTS (SELECT FROM inbox.webhooks w WHERE w.id = wanted) THEN
        RAISE EXCEPTION 'webhook % not found', webhook USING ERRCODE = 'no_data_found';
    END IF;
    IF "limit" IS NULL OR "limit" NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'limit: expected 1 to 1000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN coalesce((SELECT pg_catalog.jsonb_agg(inbox._delivery_json(ROW(x.*)::inbox.deliveries) ORDER BY x.created_at DESC, x.id)
                       FROM (SELECT * FROM inbox.deliveries d WHERE d.webhook_id = wanted
                              ORDER BY d.created_at DESC, d.id LIMIT "limit") x), '[]');
END
$$;

COMMENT ON FUNCTION inbox.webhook_deliveries(text, integer) IS
    'The newest deliveries of a webhook endpoint with their attempts (outcome, status, duration).';

CREATE FUNCTION inbox.retry_delivery(webhook text, id text)
RETURNS jsonb
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    d inbox.deliveries;
BEGIN
    UPDATE inbox.deliveries x
       SET state = 'pending', due_at = pg_catalog.now(), finished_at = NULL, lease = NULL
     WHERE x.webhook_id = inbox._webhook_id(webhook) AND x.id = inbox._delivery_uuid(retry_delivery.id)
       AND x.state <> 'pending'
    RETURNING x.* INTO d;
    IF NOT FOUND THEN
        IF EXISTS (SELECT FROM inbox.deliveries x WHERE x.webhook_id = inbox._webhook_id(webhook)
                     AND x.id = inbox._delivery_uuid(retry_delivery.id)) THEN
            RAISE EXCEPTION 'delivery % is still pending', id USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RAISE EXCEPTION 'delivery % not found', id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN inbox._delivery_json(d);
END
$$;

COMMENT ON FUNCTION inbox.retry_delivery(text, text) IS
    'Sends a finished delivery of a webhook once more (same id), now.';

-- ---------------------------------------------------------------------------------------------
-- Unsubscribe (RFC 8058 one-click): the link in each e-mail turns that type's e-mail off
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox.unsubscribe(token text)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    target record;
BEGIN
    SELECT * INTO target FROM inbox._unsubscribe_target(token);
    IF EXISTS (SELECT FROM inbox.notification_types t WHERE t.name = target.type AND t.critical) THEN
        RAISE EXCEPTION 'type: % is critical and cannot be turned off', target.type
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO inbox.preferences AS p (user_id, type, channel, enabled)
    VALUES (target.user_id, target.type, 'email', false)
    ON CONFLICT ON CONSTRAINT preferences_pkey DO UPDATE SET enabled = false, updated_at = pg_catalog.now();
    RETURN pg_catalog.jsonb_build_object('unsubscribed', true, 'type', target.type, 'channel', 'email');
END
$$;

COMMENT ON FUNCTION inbox.unsubscribe(text) IS
    'POST /api/unsubscribe/{token} (the List-Unsubscribe link of an e-mail): turns that type''s e-mail off for that person.';

-- The page a GET of the link shows: what the button does, and the button (a GET changes nothing:
-- mail scanners follow links).
CREATE FUNCTION inbox.unsubscribe_page(token text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    target record;
    html_type text;
BEGIN
    SELECT * INTO target FROM inbox._unsubscribe_target(token);
    html_type := pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
                     target.type, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;');
    RETURN '<!doctype html><html><head><meta charset="utf-8"><title>Unsubscribe</title></head><body>'
        || '<h1>Unsubscribe</h1><p>Stop e-mails about <strong>' || html_type || '</strong> notifications?</p>'
        || '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        || '<button type="submit">Unsubscribe</button></form></body></html>';
END
$$;

-- ---------------------------------------------------------------------------------------------
-- REST: preferences, webhooks, unsubscribe
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox.rest_preferences(token text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'notifications:read');
    params jsonb := inbox._rest_params(query, ARRAY['user_id']);
BEGIN
    RETURN inbox.preferences(inbox._rest_user(caller, params));
END
$$;

COMMENT ON FUNCTION inbox.rest_preferences(text, jsonb) IS
    'GET /api/preferences: the caller''s preferences (an admin names another user with user_id).';

-- body: one {"type", "channel", "enabled"} or an array of them; all or nothing.
CREATE FUNCTION inbox.rest_set_preferences(token text, body jsonb, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'notifications:write');
    params jsonb := inbox._rest_params(query, ARRAY['user_id']);
    target text := inbox._rest_user(caller, params);
    items jsonb := CASE WHEN pg_catalog.jsonb_typeof(body) = 'object' THEN pg_catalog.jsonb_build_array(body) ELSE body END;
    item jsonb;
    i integer := 0;
    key text;
BEGIN
    IF pg_catalog.jsonb_typeof(items) IS DISTINCT FROM 'array' OR pg_catalog.jsonb_array_length(items) = 0 THEN
        RAISE EXCEPTION 'body: expected a preference {"type", "channel", "enabled"} or an array of them'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR item IN SELECT e FROM pg_catalog.jsonb_array_elements(items) AS e LOOP
        IF pg_catalog.jsonb_typeof(item) IS DISTINCT FROM 'object' THEN
            RAISE EXCEPTION 'preferences[%]: expected an object', i USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT k INTO key FROM pg_catalog.jsonb_object_keys(item) AS k WHERE k NOT IN ('type', 'channel', 'enabled') LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'preferences[%].%: unknown field', i, key USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF pg_catalog.jsonb_typeof(item->'type') IS DISTINCT FROM 'string'
           OR pg_catalog.jsonb_typeof(item->'channel') IS DISTINCT FROM 'string'
           OR pg_catalog.jsonb_typeof(item->'enabled') NOT IN ('boolean', 'null') THEN
            RAISE EXCEPTION 'preferences[%]: expected "type" and "channel" strings and "enabled" true, false or null', i
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
        BEGIN
            PERFORM inbox.set_preference(target, item->>'type', item->>'channel', (item->>'enabled')::boolean);
        EXCEPTION WHEN invalid_parameter_value THEN
            DECLARE
                message text;
                hint text;
            BEGIN
                GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
                RAISE EXCEPTION 'preferences[%].%', i, message USING ERRCODE = 'invalid_parameter_value', HINT = hint;
            END;
        END;
        i := i + 1;
    END LOOP;
    RETURN inbox.preferences(target);
END
$$;

COMMENT ON FUNCTION inbox.rest_set_preferences(text, jsonb, jsonb) IS
    'PUT /api/preferences: sets the caller''s preferences, one {"type", "channel", "enabled"} or an array (all or nothing); returns them.';

CREATE FUNCTION inbox.rest_create_webhook(token text, body jsonb, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'admin');
    key text;
BEGIN
    PERFORM inbox._rest_params(query, '{}');
    IF pg_catalog.jsonb_typeof(body) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'body: expected a webhook object {"url", "events", ...}' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT k INTO key FROM pg_catalog.jsonb_object_keys(body) AS k
     WHERE k NOT IN ('url', 'events', 'types', 'workspaceId', 'userId', 'secret') LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '%: unknown field', key USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Fields: url, events, types, workspaceId, userId, secret.';
    END IF;
    IF pg_catalog.jsonb_typeof(body->'url') IS DISTINCT FROM 'string' THEN
        RAISE EXCEPTION 'url: required, a string' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.jsonb_typeof(body->'events') IS DISTINCT FROM 'array'
       OR EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(body->'events') e WHERE pg_catalog.jsonb_typeof(e) <> 'string') THEN
        RAISE EXCEPTION 'events: required, an array of event names' USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Events: ' || pg_catalog.array_to_string(inbox.webhook_events(), ', ') || '.';
    END IF;
    IF body ? 'types' AND (pg_catalog.jsonb_typeof(body->'types') IS DISTINCT FROM 'array'
       OR EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(body->'types') e WHERE pg_catalog.jsonb_typeof(e) <> 'string')) THEN
        RAISE EXCEPTION 'types: expected an array of type names' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT k INTO key FROM pg_catalog.unnest(ARRAY['workspaceId', 'userId', 'secret']) AS k
     WHERE body ? k AND pg_catalog.jsonb_typeof(body->k) NOT IN ('string', 'null') LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '%: expected a string', key USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN inbox.create_webhook(
        body->>'url', ARRAY(SELECT pg_catalog.jsonb_array_elements_text(body->'events')),
        CASE WHEN body ? 'types' THEN ARRAY(SELECT pg_catalog.jsonb_array_elements_text(body->'types')) END,
        body->>'workspaceId', body->>'userId', body->>'secret');
END
$$;

CREATE FUNCTION inbox.rest_webhooks(token text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'admin');
BEGIN
    PERFORM inbox._rest_params(query, '{}');
    RETURN pg_catalog.jsonb_build_object('data', inbox.webhooks());
END
$$;

CREATE FUNCTION inbox.rest_delete_webhook(token text, id text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'admin');
BEGIN
    PERFORM inbox._rest_params(query, '{}');
    PERFORM inbox.delete_webhook(id);
    RETURN '{"success": true}';
END
$$;

CREATE FUNCTION inbox.rest_webhook_deliveries(token text, id text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'admin');
    params jsonb := inbox._rest_params(query, ARRAY['limit']);
BEGIN
    IF params ? 'limit' AND params->>'limit' OPERATOR(pg_catalog.!~) '^[0-9]{1,4}$' THEN
        RAISE EXCEPTION 'limit: expected 1 to 1000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN pg_catalog.jsonb_build_object('data',
        inbox.webhook_deliveries(id, coalesce((params->>'limit')::integer, 50)));
END
$$;

CREATE FUNCTION inbox.rest_retry_delivery(token text, id text, delivery text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'admin');
BEGIN
    PERFORM inbox._rest_params(query, '{}');
    RETURN inbox.retry_delivery(id, delivery);
END
$$;

COMMENT ON FUNCTION inbox.rest_create_webhook(text, jsonb, jsonb) IS
    'POST /api/webhooks (admin): registers an endpoint; the answer carries its secret, once.';
COMMENT ON FUNCTION inbox.rest_webhooks(text, jsonb) IS 'GET /api/webhooks (admin): the endpoints, without secrets.';
COMMENT ON FUNCTION inbox.rest_delete_webhook(text, text, jsonb) IS 'DELETE /api/webhooks/{id} (admin).';
COMMENT ON FUNCTION inbox.rest_webhook_deliveries(text, text, jsonb) IS
    'GET /api/webhooks/{id}/deliveries (admin): the newest deliveries and their attempts.';
COMMENT ON FUNCTION inbox.rest_retry_delivery(text, text, text, jsonb) IS
    'POST /api/webhooks/{id}/deliveries/{delivery}/retry (admin): sends a finished delivery once more.';

REVOKE ALL ON FUNCTION inbox.claim_deliveries(integer, interval, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox.finish_deliveries(jsonb) FROM PUBLIC;

-- The per-user delivery tables are distributed with the notifications; webhooks are a reference table.
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
           ('inbox.mastodon_markers'::regclass, false),
           -- delivery (55_delivery.sql): the outbox, its log and the preferences per user
           ('inbox.preferences'::regclass, false),
           ('inbox.deliveries'::regclass, false),
           ('inbox.delivery_attempts'::regclass, false),
           ('inbox.webhooks'::regclass, true),
           ('inbox.notification_types'::regclass, true),
           ('inbox.writable_fields'::regclass, true),
           ('inbox.relations'::regclass, true),
           ('inbox.tokens'::regclass, true),
           ('inbox.cursor_secrets'::regclass, true)
$$;

-- ---------------------------------------------------------------------------------------------
-- Issues 14 and 19 together: the counter triggers both feed the change feed and read the read
-- marks; the Citus lists name the tables and functions of both; the constant-time read-all and
-- the seen mark append their events to the feed. (Each section above wrote its own form of
-- these; this is the form of the fresh install.)
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION inbox._counters_after_insert() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    marks_users text[];
    marks_at timestamptz[];
BEGIN
    SELECT pg_catalog.array_agg(m.user_id), pg_catalog.array_agg(m.read_before) INTO marks_users, marks_at
      FROM inbox._lock_read_marks(ARRAY(SELECT DISTINCT n.user_id FROM new_rows n), TG_TABLE_NAME <> 'notifications') AS m;
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1, m.at) FROM new_rows n
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at)) AS m(user_id, at)
            ON m.user_id = n.user_id), true,
        CASE WHEN inbox._feed_on() THEN ARRAY(
            SELECT ROW(n.user_id, n.id, n.workspace_id, 'notification.created',
                       (n.deleted_at IS NULL AND n.read_at IS NULL)::int, false)::inbox.feed_event
              FROM new_rows n) END);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION inbox._counters_after_update() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    marks_users text[];
    marks_at timestamptz[];
BEGIN
    SELECT pg_catalog.array_agg(m.user_id), pg_catalog.array_agg(m.read_before) INTO marks_users, marks_at
      FROM inbox._lock_read_marks(ARRAY(SELECT n.user_id FROM new_rows n UNION SELECT o.user_id FROM old_rows o),
                                  TG_TABLE_NAME <> 'notifications') AS m;
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1, m.at) FROM new_rows n
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at)) AS m(user_id, at)
            ON m.user_id = n.user_id
        UNION ALL
        SELECT inbox._counter_delta(ROW(o.*)::inbox.notifications, -1, m.at) FROM old_rows o
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at)) AS m(user_id, at)
            ON m.user_id = o.user_id),
        -- Group summaries are read again only when a grouped row changed what they show, or
        -- moved (a read, unread or archive does not). A FULL JOIN, which the planner can only
        -- hash or merge: it takes a transition table for one row, and as a LEFT JOIN it chose a
        -- nested loop, quadratic in the rows (a plain UPDATE of 20,000 rows took 48 s).
        EXISTS (SELECT FROM old_rows o
                  FULL JOIN new_rows n ON n.user_id = o.user_id AND n.id = o.id
                 WHERE (o.group_key IS NOT NULL OR n.group_key IS NOT NULL)
                   AND (n.id IS NULL OR o.id IS NULL
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
DECLARE
    marks_users text[];
    marks_at timestamptz[];
BEGIN
    SELECT pg_catalog.array_agg(m.user_id), pg_catalog.array_agg(m.read_before) INTO marks_users, marks_at
      FROM inbox._lock_read_marks(ARRAY(SELECT DISTINCT o.user_id FROM old_rows o), TG_TABLE_NAME <> 'notifications') AS m;
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(o.*)::inbox.notifications, -1, m.at) FROM old_rows o
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at)) AS m(user_id, at)
            ON m.user_id = o.user_id), true,
        CASE WHEN inbox._feed_on() THEN ARRAY(
            SELECT ROW(o.user_id, o.id, o.workspace_id, 'notification.purged',
                       -(o.deleted_at IS NULL AND o.read_at IS NULL)::int, false)::inbox.feed_event
              FROM old_rows o
             ORDER BY o.id) END);
    RETURN NULL;
END
$$;

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
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1, m.read_before) FROM inbox.notifications n
          LEFT JOIN inbox.marks m ON m.user_id = n.user_id AND m.workspace_key = ''));
    INSERT INTO inbox.user_counters AS c (user_id, last_event_id)
    SELECT h.user_id, h.last_event_id FROM pg_catalog.unnest(heads) AS h ORDER BY h.user_id
    ON CONFLICT (user_id) DO UPDATE SET last_event_id = excluded.last_event_id;
END
$$;

CREATE OR REPLACE FUNCTION inbox._citus_tables()
RETURNS TABLE (relation regclass, reference boolean)
LANGUAGE sql STABLE
AS $$
    VALUES ('inbox.notifications'::regclass, false),
           ('inbox.user_counters'::regclass, false),
           ('inbox.workspace_counters'::regclass, false),
           ('inbox.notification_groups'::regclass, false),
           ('inbox.marks'::regclass, false),
           ('inbox.notification_actors'::regclass, false),
           ('inbox.idempotency_keys'::regclass, false),
           ('inbox.events'::regclass, false),
           ('inbox.mastodon_markers'::regclass, false),
           -- delivery (55_delivery.sql): the outbox, its log and the preferences per user
           ('inbox.preferences'::regclass, false),
           ('inbox.deliveries'::regclass, false),
           ('inbox.delivery_attempts'::regclass, false),
           ('inbox.webhooks'::regclass, true),
           ('inbox.notification_types'::regclass, true),
           ('inbox.writable_fields'::regclass, true),
           ('inbox.relations'::regclass, true),
           ('inbox.tokens'::regclass, true),
           ('inbox.cursor_secrets'::regclass, true),
           ('inbox.retention'::regclass, true)
$$;

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
                 'inbox.mark_seen(text,text)', 'inbox.unseen_count(text,text)',
                 'inbox.list(text,jsonb)', 'inbox.groups(text,jsonb)',
                 'inbox.changes(text,bigint,integer,text)', 'inbox.feed_head(text)']::regprocedure[]
$$;

CREATE OR REPLACE FUNCTION inbox.mark_all_read(user_id text, workspace_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    changed bigint;
    at      timestamptz := pg_catalog.now();
    mark    timestamptz := inbox._read_mark(user_id);
    before  bigint;
    left_   bigint;
    expired bigint;
BEGIN
    IF mark_all_read.workspace_id IS NOT NULL THEN
        UPDATE inbox.notifications n
           SET read_at = at, updated_at = at
         WHERE n.user_id = mark_all_read.user_id
           AND n.deleted_at IS NULL AND n.read_at IS NULL AND NOT coalesce(n.updated_at < mark, false)
           AND n.workspace_id = mark_all_read.workspace_id
           AND (n.expires_at IS NULL OR n.expires_at > at);
        GET DIAGNOSTICS changed = ROW_COUNT;
        RETURN changed;
    END IF;

    UPDATE inbox.notifications n
       SET read_at = at, updated_at = at
     WHERE n.user_id = mark_all_read.user_id
       AND n.deleted_at IS NULL AND n.read_at IS NULL AND n.updated_at >= at
       AND (n.expires_at IS NULL OR n.expires_at > at);
    GET DIAGNOSTICS changed = ROW_COUNT;

    SELECT c.unread INTO before FROM inbox.user_counters c
     WHERE c.user_id = mark_all_read.user_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN changed;  -- no notifications at all
    END IF;
    -- What the mark will read besides: unread now, less what stays unread, less the expired.
    SELECT count(*) INTO left_ FROM inbox.notifications n
     WHERE n.user_id = mark_all_read.user_id
       AND n.deleted_at IS NULL AND n.read_at IS NULL AND n.updated_at >= at;
    SELECT x.unread INTO expired FROM inbox._expired_counts(user_id, NULL) AS x;
    changed := changed + before - left_ - expired;

    INSERT INTO inbox.marks AS m (user_id, workspace_key, read_before, read_marks)
    VALUES (mark_all_read.user_id, '', at, ARRAY[at])
    ON CONFLICT ON CONSTRAINT marks_pkey DO UPDATE
       SET read_before = excluded.read_before,
           read_marks = coalesce(m.read_marks, '{}') OPERATOR(pg_catalog.||) excluded.read_before;

    UPDATE inbox.user_counters c SET unread = left_
     WHERE c.user_id = mark_all_read.user_id AND c.unread <> left_;
    UPDATE inbox.workspace_counters c SET unread = coalesce(l.unread, 0)
      FROM (SELECT w.workspace_id, l.unread
              FROM inbox.workspace_counters w
              LEFT JOIN (SELECT n.workspace_id, count(*) AS unread FROM inbox.notifications n
                          WHERE n.user_id = mark_all_read.user_id AND n.workspace_id IS NOT NULL
                            AND n.deleted_at IS NULL AND n.read_at IS NULL AND n.updated_at >= at
                          GROUP BY n.workspace_id) AS l ON l.workspace_id = w.workspace_id
             WHERE w.user_id = mark_all_read.user_id) AS l
     WHERE c.user_id = mark_all_read.user_id AND c.workspace_id = l.workspace_id
       AND c.unread <> coalesce(l.unread, 0);
    -- This read-all changes no row, so no trigger records it: one notification.read_all event
    -- (45_feed.sql) carrying the new unread count, when it read anything.
    IF changed > 0 THEN
        PERFORM inbox._append_event(mark_all_read.user_id, 'notification.read_all', NULL,
                                    '{"workspaceId": null}');
    END IF;
    RETURN greatest(changed, 0);
END
$$;

CREATE OR REPLACE FUNCTION inbox.mark_seen(user_id text, workspace_id text DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql
AS $$
DECLARE
    at timestamptz := pg_catalog.now();
BEGIN
    IF user_id IS NULL THEN
        RAISE EXCEPTION 'user_id: must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    INSERT INTO inbox.marks AS m (user_id, workspace_key, seen_before)
    VALUES (mark_seen.user_id, coalesce(mark_seen.workspace_id, ''), at)
    ON CONFLICT ON CONSTRAINT marks_pkey DO UPDATE SET seen_before = excluded.seen_before;
    -- Marks no row: one notification.seen event (45_feed.sql) tells the user's other clients.
    PERFORM inbox._append_event(mark_seen.user_id, 'notification.seen', mark_seen.workspace_id,
                                pg_catalog.jsonb_build_object('workspaceId', mark_seen.workspace_id,
                                                              'seenAt', inbox.iso_time(at)),
                                false);
    RETURN at;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Issue 19 on Citus: no statement reads a user's marks for each of its rows (on Citus it runs on
-- the user's shard, where that is refused). The marks are read once per call (inbox._user_marks)
-- and passed to the shapes (inbox._to_json, inbox._diaspora_json, inbox._event_data) and, by the
-- query engine, bound into its statements; one read-state predicate (inbox._is_read) for every
-- shape and the social dialects.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION inbox._is_read(read_at timestamptz, deleted_at timestamptz, updated_at timestamptz,
                               read_before timestamptz)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT read_at IS NOT NULL OR (deleted_at IS NULL AND coalesce(updated_at < read_before, false))
$$;

CREATE OR REPLACE FUNCTION inbox._seen_at(seen_at timestamptz, created_at timestamptz, seen_before timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(seen_at, CASE WHEN created_at <= seen_before THEN seen_before END)
$$;

CREATE OR REPLACE FUNCTION inbox._shape(n inbox.notifications, read_marks timestamptz[], seen_before timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'id',          inbox.public_id(n.id),
        'userId',      n.user_id,
        'workspaceId', n.workspace_id,
        'type',        n.type,
        'title',       n.title,
        'body',        n.body,
        'data',        n.data,
        'read',        inbox._is_read(n.read_at, n.deleted_at, n.updated_at,
                                      read_marks[pg_catalog.array_upper(read_marks, 1)]),
        'readAt',      inbox.iso_time(coalesce(n.read_at,
                           CASE WHEN n.deleted_at IS NULL AND n.updated_at < read_marks[pg_catalog.array_upper(read_marks, 1)]
                                THEN inbox._mark_after(read_marks, n.updated_at) END)),
        'seenAt',      inbox.iso_time(inbox._seen_at(n.seen_at, n.created_at, seen_before)),
        'archived',    n.archived_at IS NOT NULL,
        'archivedAt',  inbox.iso_time(n.archived_at),
        'deletedAt',   inbox.iso_time(n.deleted_at),
        'expiresAt',   inbox.iso_time(n.expires_at),
        'actorId',     n.actor_id,
        'actors',      pg_catalog.to_jsonb(inbox._actors(n)),
        'actorCount',  GREATEST(n.actor_count, (n.actor_id IS NOT NULL)::int),
        'collection',  n.collection,
        'item',        n.item,
        'groupKey',    n.group_key,
        'createdAt',   inbox.iso_time(n.created_at),
        'updatedAt',   inbox.iso_time(n.updated_at))
$$;

CREATE OR REPLACE FUNCTION inbox._user_marks(user_id text, OUT read_marks timestamptz[], OUT seen jsonb)
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
    SELECT m.read_marks INTO read_marks FROM inbox.marks m
     WHERE m.user_id = _user_marks.user_id AND m.workspace_key = '';
    SELECT pg_catalog.jsonb_object_agg(m.workspace_key, m.seen_before) INTO seen FROM inbox.marks m
     WHERE m.user_id = _user_marks.user_id AND m.seen_before IS NOT NULL;
END
$$;

CREATE OR REPLACE FUNCTION inbox._seen_before(seen jsonb, workspace_id text)
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT GREATEST((seen->>'')::timestamptz, (seen->>coalesce(workspace_id, ''))::timestamptz)
$$;

CREATE OR REPLACE FUNCTION inbox._to_json(n inbox.notifications, read_marks timestamptz[], seen jsonb)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT inbox._shape(n, read_marks, inbox._seen_before(seen, n.workspace_id))
$$;

CREATE OR REPLACE FUNCTION inbox.to_json(n inbox.notifications)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT inbox._to_json(n, m.read_marks, m.seen) FROM inbox._user_marks(n.user_id) AS m
$$;

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
    -- Issue 19: the user's read mark. A row it covers is read; a change other than unread
    -- writes that into the row, as its own change would otherwise uncover it.
    mark    timestamptz := inbox._read_mark(user_id);
    marks   timestamptz[] := inbox._read_marks(user_id);
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
               read_at     = CASE WHEN action = 'read' THEN at WHEN action = 'unread' THEN NULL
                                  ELSE coalesce(n.read_at, CASE WHEN n.deleted_at IS NULL AND n.updated_at < mark
                                                            THEN inbox._mark_after(marks, n.updated_at) END) END,
               archived_at = CASE WHEN action = 'archive' THEN at WHEN action = 'unarchive' THEN NULL ELSE n.archived_at END,
               deleted_at  = CASE WHEN action = 'soft_delete' THEN at ELSE n.deleted_at END,
               updated_at  = at
         WHERE n.user_id = _change.user_id AND n.id = wanted[1] AND n.deleted_at IS NULL
           AND CASE WHEN action = 'read'      THEN NOT inbox._is_read(n.read_at, n.deleted_at, n.updated_at, mark)
                    WHEN action = 'unread'    THEN inbox._is_read(n.read_at, n.deleted_at, n.updated_at, mark)
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
           read_at     = CASE WHEN action = 'read' THEN at WHEN action = 'unread' THEN NULL
                              ELSE coalesce(n.read_at, CASE WHEN n.deleted_at IS NULL AND n.updated_at < mark
                                                            THEN inbox._mark_after(marks, n.updated_at) END) END,
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
       AND CASE WHEN action = 'read'        THEN NOT inbox._is_read(n.read_at, n.deleted_at, n.updated_at, mark)
                WHEN action = 'unread'      THEN inbox._is_read(n.read_at, n.deleted_at, n.updated_at, mark)
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

CREATE OR REPLACE FUNCTION inbox.mark_all_read(user_id text, workspace_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    changed bigint;
    at      timestamptz := pg_catalog.now();
    mark    timestamptz := inbox._read_mark(user_id);
    before  bigint;
    left_   bigint;
    expired bigint;
BEGIN
    IF mark_all_read.workspace_id IS NOT NULL THEN
        UPDATE inbox.notifications n
           SET read_at = at, updated_at = at
         WHERE n.user_id = mark_all_read.user_id
           AND n.deleted_at IS NULL AND n.read_at IS NULL AND NOT inbox._is_read(n.read_at, n.deleted_at, n.updated_at, mark)
           AND n.workspace_id = mark_all_read.workspace_id
           AND (n.expires_at IS NULL OR n.expires_at > at);
        GET DIAGNOSTICS changed = ROW_COUNT;
        RETURN changed;
    END IF;

    UPDATE inbox.notifications n
       SET read_at = at, updated_at = at
     WHERE n.user_id = mark_all_read.user_id
       AND n.deleted_at IS NULL AND n.read_at IS NULL AND n.updated_at >= at
       AND (n.expires_at IS NULL OR n.expires_at > at);
    GET DIAGNOSTICS changed = ROW_COUNT;

    SELECT c.unread INTO before FROM inbox.user_counters c
     WHERE c.user_id = mark_all_read.user_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN changed;  -- no notifications at all
    END IF;
    -- What the mark will read besides: unread now, less what stays unread, less the expired.
    SELECT count(*) INTO left_ FROM inbox.notifications n
     WHERE n.user_id = mark_all_read.user_id
       AND n.deleted_at IS NULL AND n.read_at IS NULL AND n.updated_at >= at;
    SELECT x.unread INTO expired FROM inbox._expired_counts(user_id, NULL) AS x;
    changed := changed + before - left_ - expired;

    INSERT INTO inbox.marks AS m (user_id, workspace_key, read_before, read_marks)
    VALUES (mark_all_read.user_id, '', at, ARRAY[at])
    ON CONFLICT ON CONSTRAINT marks_pkey DO UPDATE
       SET read_before = excluded.read_before,
           read_marks = coalesce(m.read_marks, '{}') OPERATOR(pg_catalog.||) excluded.read_before;

    UPDATE inbox.user_counters c SET unread = left_
     WHERE c.user_id = mark_all_read.user_id AND c.unread <> left_;
    UPDATE inbox.workspace_counters c SET unread = coalesce(l.unread, 0)
      FROM (SELECT w.workspace_id, l.unread
              FROM inbox.workspace_counters w
              LEFT JOIN (SELECT n.workspace_id, count(*) AS unread FROM inbox.notifications n
                          WHERE n.user_id = mark_all_read.user_id AND n.workspace_id IS NOT NULL
                            AND n.deleted_at IS NULL AND n.read_at IS NULL AND n.updated_at >= at
                          GROUP BY n.workspace_id) AS l ON l.workspace_id = w.workspace_id
             WHERE w.user_id = mark_all_read.user_id) AS l
     WHERE c.user_id = mark_all_read.user_id AND c.workspace_id = l.workspace_id
       AND c.unread <> coalesce(l.unread, 0);
    -- This read-all changes no row, so no trigger records it: one notification.read_all event
    -- (45_feed.sql) carrying the new unread count, when it read anything.
    IF changed > 0 THEN
        PERFORM inbox._append_event(mark_all_read.user_id, 'notification.read_all', NULL,
                                    '{"workspaceId": null}');
    END IF;
    RETURN greatest(changed, 0);
END
$$;

CREATE OR REPLACE FUNCTION inbox._expired_counts(user_id text, workspace_id text)
RETURNS TABLE (active bigint, unread bigint, deleted bigint)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    mark timestamptz := inbox._read_mark(user_id);
BEGIN
    RETURN QUERY
    SELECT count(*) FILTER (WHERE n.deleted_at IS NULL),
           count(*) FILTER (WHERE n.deleted_at IS NULL AND NOT inbox._is_read(n.read_at, n.deleted_at, n.updated_at, mark)),
           count(*) FILTER (WHERE n.deleted_at IS NOT NULL)
      FROM inbox.notifications n
     WHERE n.user_id = _expired_counts.user_id AND n.expires_at <= pg_catalog.now()
       AND (_expired_counts.workspace_id IS NULL OR n.workspace_id = _expired_counts.workspace_id);
END
$$;

CREATE OR REPLACE FUNCTION inbox.unseen_count(user_id text, workspace_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    n bigint;
    user_mark timestamptz;
    own_mark timestamptz;
    seen jsonb;
BEGIN
    SELECT max(m.seen_before) FILTER (WHERE m.workspace_key = ''),
           max(m.seen_before) FILTER (WHERE m.workspace_key <> '')
      INTO user_mark, own_mark
      FROM inbox.marks m
     WHERE m.user_id = unseen_count.user_id
       AND (unseen_count.workspace_id IS NULL OR m.workspace_key IN ('', unseen_count.workspace_id));
    IF user_mark IS NULL AND own_mark IS NULL THEN
        IF unseen_count.workspace_id IS NULL THEN
            SELECT c.active INTO n FROM inbox.user_counters c WHERE c.user_id = unseen_count.user_id;
        ELSE
            SELECT c.active INTO n FROM inbox.workspace_counters c
             WHERE c.user_id = unseen_count.user_id AND c.workspace_id = unseen_count.workspace_id;
        END IF;
        RETURN coalesce(n, 0) - coalesce((SELECT x.active FROM inbox._expired_counts(user_id, workspace_id) AS x), 0);
    END IF;
    IF unseen_count.workspace_id IS NOT NULL THEN
        SELECT count(*) INTO n FROM inbox.notifications x
         WHERE x.user_id = unseen_count.user_id AND x.workspace_id = unseen_count.workspace_id
           AND x.deleted_at IS NULL AND x.seen_at IS NULL
           AND x.created_at > coalesce(greatest(user_mark, own_mark), '-infinity')
           AND (x.expires_at IS NULL OR x.expires_at > pg_catalog.now());
        RETURN n;
    END IF;
    -- Workspaces' own marks: read once, passed to the count (never looked up for each row).
    IF own_mark IS NOT NULL THEN
        seen := (inbox._user_marks(unseen_count.user_id)).seen;
    END IF;
    SELECT count(*) INTO n FROM inbox.notifications x
     WHERE x.user_id = unseen_count.user_id AND x.deleted_at IS NULL AND x.seen_at IS NULL
       AND x.created_at > coalesce(user_mark, '-infinity')
       AND (x.expires_at IS NULL OR x.expires_at > pg_catalog.now())
       AND (seen IS NULL OR NOT coalesce(x.created_at <= inbox._seen_before(seen, x.workspace_id), false));
    RETURN n;
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
    mark   timestamptz;  -- the user's read mark (issue 19), read under the counter row's lock
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
    mark := inbox._read_mark(user_id);

    -- Unread as the API shows it: not covered by the user's read mark, and not expired (issue 19).
    SELECT * INTO target FROM inbox.notifications n
     WHERE n.user_id = _aggregate.user_id AND n.group_key = grp
       AND n.read_at IS NULL AND n.deleted_at IS NULL
       AND NOT inbox._is_read(n.read_at, n.deleted_at, n.updated_at, mark)
       AND (n.expires_at IS NULL OR n.expires_at > pg_catalog.now())
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

DROP FUNCTION inbox._seen_mark(text, text);

CREATE OR REPLACE FUNCTION inbox._event_data(event text, notification_id bigint, data jsonb, n inbox.notifications,
                                  read_marks timestamptz[], seen jsonb)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN notification_id IS NULL THEN data
                WHEN n.id IS NULL OR event = 'notification.purged'
                THEN pg_catalog.jsonb_build_object('id', inbox.public_id(notification_id))
                ELSE inbox._to_json(n, read_marks, seen)
           END
$$;

CREATE OR REPLACE FUNCTION inbox._event_data(event text, notification_id bigint, data jsonb, n inbox.notifications)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT inbox._event_data(event, notification_id, data, n, m.read_marks, m.seen)
      FROM inbox._user_marks(n.user_id) AS m
$$;

CREATE OR REPLACE FUNCTION inbox._changes(user_id text, after bigint, "limit" integer, scope text)
RETURNS TABLE (id bigint, event text, workspace_id text, unread bigint, data jsonb)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    head   bigint := inbox.feed_head(_changes.user_id);
    oldest bigint;
    -- The user's marks for the shape (issue 19), read once for every event.
    marks  record := inbox._user_marks(_changes.user_id);
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
           inbox._event_data(e.event, e.notification_id, e.data, ROW(n.*)::inbox.notifications,
                             marks.read_marks, marks.seen)
      FROM inbox.events e
      LEFT JOIN inbox.notifications n ON n.user_id = e.user_id AND n.id = e.notification_id
     WHERE e.user_id = _changes.user_id AND e.id > after
       AND (_changes.scope IS NULL OR e.workspace_id = _changes.scope
            OR (e.notification_id IS NULL AND e.workspace_id IS NULL))
     ORDER BY e.id
     LIMIT _changes."limit";
END
$$;

CREATE OR REPLACE FUNCTION inbox.mastodon_set_markers(token text, body jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token, write => true);
    tl text;
    value jsonb;
    last_id bigint;
    ids text[];
    m inbox.mastodon_markers;
    out jsonb := '{}';
    stamp timestamptz := pg_catalog.now();
    read_mark timestamptz;  -- the user's (issue 19), read once: never for each row
BEGIN
    IF body IS NULL OR pg_catalog.jsonb_typeof(body) <> 'object' OR body = '{}' THEN
        RAISE EXCEPTION 'body: expected {"notifications": {"last_read_id": "<id>"}}'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR tl, value IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(body) AS e ORDER BY e.key LOOP
        IF tl NOT IN ('home', 'notifications') THEN
            RAISE EXCEPTION '%: unknown timeline', tl
                  USING ERRCODE = 'invalid_parameter_value', HINT = 'Timelines: home, notifications.';
        END IF;
        IF pg_catalog.jsonb_typeof(value) <> 'object' THEN
            RAISE EXCEPTION '%: expected an object with last_read_id', tl USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF pg_catalog.jsonb_typeof(value->'last_read_id') = 'number' THEN
            value := pg_catalog.jsonb_build_object('last_read_id', value->>'last_read_id');
        END IF;
        last_id := inbox._mastodon_id_param(value, 'last_read_id');
        IF last_id IS NULL THEN
            RAISE EXCEPTION '%[last_read_id]: required', tl USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- As Rails' optimistic locking counts: version 0 when created, one more per change; a
        -- marker set to where it is changes nothing.
        -- (now() is read first: Citus takes only constants and immutable functions in DO UPDATE.)
        INSERT INTO inbox.mastodon_markers AS k (user_id, timeline, last_read_id, version, updated_at)
        VALUES (caller.user_id, tl, last_id, 0, stamp)
        ON CONFLICT (user_id, timeline) DO UPDATE
           SET last_read_id = excluded.last_read_id, version = k.version + 1, updated_at = excluded.updated_at
         WHERE k.last_read_id <> excluded.last_read_id
        RETURNING * INTO m;
        IF NOT FOUND THEN
            SELECT * INTO m FROM inbox.mastodon_markers k
             WHERE k.user_id = caller.user_id AND k.timeline = tl;
        END IF;
        IF tl = 'notifications' THEN
            read_mark := inbox._read_mark(caller.user_id);
            ids := ARRAY(SELECT inbox.public_id(n.id) FROM inbox.notifications n
                          WHERE n.user_id = caller.user_id AND n.id <= last_id
                            AND n.read_at IS NULL AND n.deleted_at IS NULL
                            AND NOT inbox._is_read(n.read_at, n.deleted_at, n.updated_at, read_mark)
                            AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id)
                          ORDER BY n.id);
            IF pg_catalog.cardinality(ids) > 0 THEN
                PERFORM inbox.mark_read(caller.user_id, ids);
            END IF;
        END IF;
        out := out || pg_catalog.jsonb_build_object(tl, inbox._mastodon_marker_json(m));
    END LOOP;
    RETURN out;
END
$$;

CREATE OR REPLACE FUNCTION inbox._diaspora_json(n inbox.notifications, read_marks timestamptz[], seen jsonb)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'guid',           inbox.diaspora_guid(n.id),
        'type',           n.type,
        -- Read as inbox._shape says it: read_at, or the user's last read mark (a read-all).
        'read',           inbox._is_read(n.read_at, n.deleted_at, n.updated_at,
                                         read_marks[pg_catalog.array_upper(read_marks, 1)]),
        'created_at',     inbox.directus_time(n.created_at),
        'target',         CASE WHEN n.type IN ('started_sharing', 'contacts_birthday') THEN NULL ELSE n.item END,
        'event_creators', pg_catalog.to_jsonb(inbox._actors(n)))
$$;

CREATE OR REPLACE FUNCTION inbox.diaspora_json(n inbox.notifications)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT inbox._diaspora_json(n, m.read_marks, m.seen) FROM inbox._user_marks(n.user_id) AS m
$$;

CREATE OR REPLACE FUNCTION inbox.diaspora_notification(token text, guid text)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._diaspora_caller(token, true);
    found_row inbox.notifications := inbox._diaspora_row(caller, guid);
BEGIN
    IF NOT inbox._is_read(found_row.read_at, found_row.deleted_at, found_row.updated_at,
                          inbox._read_mark(caller.user_id)) THEN
        PERFORM inbox.mark_read(caller.user_id, inbox.public_id(found_row.id));
    END IF;
    RETURN inbox._diaspora_one(caller, found_row.id);
END
$$;


-- ---------------------------------------------------------------------------------------------
-- Issue 19, dialects (60_directus): a Directus create may give pg_inbox's expires_at (the
-- GraphQL create input lists it); seen_at, like id and timestamp, is set by pg_inbox.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION inbox._directus_new(caller inbox.caller, item jsonb, path text)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    native jsonb := '{}';
    key text;
    value jsonb;
    at text;
BEGIN
    PERFORM inbox._directus_object(item, path, 'a notification object');
    FOR key, value IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(item) AS e ORDER BY e.key LOOP
        at := path OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) key;
        IF key IN ('recipient', 'sender') AND pg_catalog.jsonb_typeof(value) = 'object' THEN
            IF NOT value ? 'id' OR (SELECT pg_catalog.count(*) FROM pg_catalog.jsonb_object_keys(value)) <> 1 THEN
                RAISE EXCEPTION '%: expected a user id, or {"id": <user id>}', at
                      USING ERRCODE = 'invalid_parameter_value';
            END IF;
            value := value->'id';
            at := at OPERATOR(pg_catalog.||) '.id';
        END IF;
        CASE key
        WHEN 'recipient' THEN
            IF pg_catalog.jsonb_typeof(value) = 'null' THEN
                CONTINUE;  -- reported as missing below
            END IF;
            IF pg_catalog.jsonb_typeof(value) <> 'string' THEN
                RAISE EXCEPTION '%: expected a user id (a string), got %', at, pg_catalog.jsonb_typeof(value)
                      USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF value OPERATOR(pg_catalog.#>>) '{}' = '' THEN
                RAISE EXCEPTION '%: must not be empty', at USING ERRCODE = 'invalid_parameter_value';
            END IF;
            native := native OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('userId', value);
        WHEN 'sender' THEN
            value := inbox._directus_text(value, at);
            IF value <> 'null' THEN
                native := native OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('actorId', value);
            END IF;
        WHEN 'subject' THEN
            native := native OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('title', inbox._directus_text(value, at));
        WHEN 'message' THEN
            native := native OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('body', inbox._directus_text(value, at));
        WHEN 'collection' THEN
            native := native OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('collection', inbox._directus_text(value, at));
        WHEN 'item' THEN
            native := native OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('item', inbox._directus_text(value, at, true));
        WHEN 'status' THEN
            IF value NOT IN ('"inbox"', '"archived"') THEN
                RAISE EXCEPTION '%: expected "inbox" or "archived"', at USING ERRCODE = 'invalid_parameter_value';
            END IF;
        WHEN 'expires_at' THEN
            -- pg_inbox's own field (issue 19): null never expires, even with a type lifetime.
            IF pg_catalog.jsonb_typeof(value) NOT IN ('string', 'null') THEN
                RAISE EXCEPTION '%: expected an ISO-8601 timestamp or null, got %', at, pg_catalog.jsonb_typeof(value)
                      USING ERRCODE = 'invalid_parameter_value';
            END IF;
            BEGIN
                PERFORM (value OPERATOR(pg_catalog.#>>) '{}')::timestamptz;
            EXCEPTION WHEN data_exception THEN
                RAISE EXCEPTION '%: expected an ISO-8601 timestamp or null, got %', at, value
                      USING ERRCODE = 'invalid_parameter_value';
            END;
            native := native OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('expiresAt', value);
        WHEN 'id', 'timestamp', 'seen_at' THEN
            RAISE EXCEPTION '%: set by pg_inbox, cannot be given', at
                  USING ERRCODE = 'invalid_parameter_value';
        ELSE
            RAISE EXCEPTION '%: unknown field', at
                  USING ERRCODE = 'invalid_parameter_value',
                        HINT = 'Fields that can be created: recipient, sender, subject, message, collection, item, status, expires_at.';
        END CASE;
    END LOOP;
    IF NOT native ? 'userId' THEN
        RAISE EXCEPTION '%.recipient: required', path USING ERRCODE = 'not_null_violation';
    END IF;
    RETURN inbox._rest_in_workspace(caller, native, path OPERATOR(pg_catalog.||) '.');
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Issue 16, Mastodon streaming (65_mastodon.sql): the streams' payloads, one shape with the v1 list
-- ---------------------------------------------------------------------------------------------

-- The streams' notifications (GET /api/v1/streaming): the caller's active notifications among
-- `ids` (internal ids, a JSON array of strings or numbers, as the change feed names them), as
-- the Notification entities the v1 list answers (inbox.mastodon_json with its account and status
-- rows: one shape), in id order. A gone notification, another user's or another workspace's is
-- left out. One read of the user's rows by primary key, for a whole batch of events; the rows
-- are shaped where the function runs, as inbox.mastodon_notification shapes its row (on Citus a
-- shaping call inside the query on the shard is refused).
CREATE FUNCTION inbox.mastodon_stream_notifications(token text, ids jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    keys bigint[] := ARRAY(SELECT k::bigint FROM pg_catalog.jsonb_array_elements_text(coalesce(ids, '[]')) AS k
                            WHERE k ~ '^[0-9]{1,18}$');
    found_row inbox.notifications;
    entities jsonb := '[]';
BEGIN
    FOR found_row IN
        SELECT n.* FROM inbox.notifications n
         WHERE n.user_id = caller.user_id AND n.id = ANY (keys) AND n.deleted_at IS NULL
           AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id)
         ORDER BY n.id
    LOOP
        entities := entities || pg_catalog.jsonb_build_array(inbox.mastodon_json(found_row));
    END LOOP;
    RETURN inbox._mastodon_entities(entities);
END
$$;

COMMENT ON FUNCTION inbox.mastodon_stream_notifications(text, jsonb) IS
    'The Mastodon streams'' payloads: the caller''s active notifications among a JSON array of internal ids, as the Notification entities GET /api/v1/notifications answers, in id order.';

-- v2 by min_id: the groups just above min_id, closest to it (it paged as since_id).
-- The upper end of a v2 page by min_id, as Mastodon pages groups by min_id: the user's rows
-- above min_id (below max_id, if given) read oldest first by the engine, `lim` at a time (keyset
-- seeks on (user_id, id), never an offset), until `lim` distinct groups have begun; the page is
-- those groups over (min_id, the id returned], so it is the page just after min_id, closest to
-- it. NULL when no row is above min_id.
CREATE FUNCTION inbox._mastodon_groups_above(user_id text, engine jsonb, min_id bigint, max_id bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    lim integer := (engine->>'limit')::integer;
    after bigint := min_id;
    keys text[] := '{}';
    last_id bigint;
    chunk jsonb;
    r jsonb;
BEGIN
    LOOP
        chunk := inbox._social_list(user_id, engine, 'mastodon', max_id, NULL, after)->'data';
        -- The chunk comes newest first: read it oldest first.
        FOR r IN SELECT c.v FROM pg_catalog.jsonb_array_elements(chunk) WITH ORDINALITY AS c(v, o) ORDER BY c.o DESC LOOP
            IF NOT (r->>'group_key' = ANY (keys)) THEN
                IF pg_catalog.cardinality(keys) = lim THEN
                    RETURN last_id;  -- a group beyond the page begins here
                END IF;
                keys := keys || (r->>'group_key');
            END IF;
            last_id := (r->>'id')::bigint;
        END LOOP;
        EXIT WHEN pg_catalog.jsonb_array_length(chunk) < lim;
        after := last_id;
    END LOOP;
    RETURN last_id;
END
$$;

CREATE OR REPLACE FUNCTION inbox.mastodon_groups(token text, query jsonb, origin text,
                                      OUT body jsonb, OUT link text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    params jsonb := coalesce(query, '{}');
    engine jsonb := inbox._mastodon_engine_params(caller, params, inbox._mastodon_limit(params, 40, 80)) - 'total';
    max_id bigint := inbox._mastodon_id_param(params, 'max_id');
    since_id bigint := inbox._mastodon_id_param(params, 'since_id');
    min_id bigint := inbox._mastodon_id_param(params, 'min_id');
    page jsonb;
    groups jsonb;
BEGIN
    PERFORM inbox._mastodon_types(params, 'grouped_types');
    IF params ? 'expand_accounts' AND params->>'expand_accounts' NOT IN ('full', 'partial_avatars') THEN
        RAISE EXCEPTION 'expand_accounts: expected full or partial_avatars, got %', pg_catalog.quote_literal(params->>'expand_accounts')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF min_id IS NOT NULL THEN
        -- The groups just above min_id (with min_id, Mastodon pages by it and not since_id).
        since_id := min_id;
        max_id := coalesce(inbox._mastodon_groups_above(caller.user_id, engine, min_id, max_id), min_id) + 1;
    END IF;
    page := inbox._social_groups(caller.user_id, engine || '{"total": false}', max_id, since_id);
    groups := page->'data';
    body := inbox._mastodon_grouped(caller.user_id, groups);
    -- The page's id range: paging continues below the oldest group's latest notification.
    link := inbox._mastodon_link(origin, '/api/v2/notifications', params,
                                 ARRAY['account_id', 'exclude_types', 'expand_accounts', 'grouped_types', 'limit', 'types'],
                                 body->'notification_groups'->0->>'page_max_id',
                                 body->'notification_groups'->-1->>'page_min_id');
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Issue 16, grouped_types[] (65_mastodon.sql): the types that group; a row of any other type is a
-- group of its own (ungrouped-{id}), formed at read time by the groups compiler.
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION inbox._mastodon_groups_above(user_id text, engine jsonb, min_id bigint, max_id bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    lim integer := (engine->>'limit')::integer;
    after bigint := min_id;
    keys text[] := '{}';
    key text;
    last_id bigint;
    chunk jsonb;
    r jsonb;
BEGIN
    LOOP
        chunk := inbox._social_list(user_id, engine - 'grouped_types', 'mastodon', max_id, NULL, after)->'data';
        -- The chunk comes newest first: read it oldest first.
        FOR r IN SELECT c.v FROM pg_catalog.jsonb_array_elements(chunk) WITH ORDINALITY AS c(v, o) ORDER BY c.o DESC LOOP
            -- A type grouped_types[] leaves out: each of its rows is a group of its own.
            key := CASE WHEN NOT engine ? 'grouped_types' OR engine->'grouped_types' ? (r->>'type')
                        THEN r->>'group_key' ELSE 'ungrouped-' || (r->>'id') END;
            IF NOT (key = ANY (keys)) THEN
                IF pg_catalog.cardinality(keys) = lim THEN
                    RETURN last_id;  -- a group beyond the page begins here
                END IF;
                keys := keys || key;
            END IF;
            last_id := (r->>'id')::bigint;
        END LOOP;
        EXIT WHEN pg_catalog.jsonb_array_length(chunk) < lim;
        after := last_id;
    END LOOP;
    RETURN last_id;
END
$$;

CREATE OR REPLACE FUNCTION inbox.mastodon_groups(token text, query jsonb, origin text,
                                      OUT body jsonb, OUT link text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    params jsonb := coalesce(query, '{}');
    engine jsonb := inbox._mastodon_engine_params(caller, params, inbox._mastodon_limit(params, 40, 80)) - 'total';
    max_id bigint := inbox._mastodon_id_param(params, 'max_id');
    since_id bigint := inbox._mastodon_id_param(params, 'since_id');
    min_id bigint := inbox._mastodon_id_param(params, 'min_id');
    page jsonb;
    groups jsonb;
BEGIN
    -- grouped_types[]: the types that group; a row of any other type is ungrouped-{id}. Left
    -- out, every type groups by its groupKey (the summaries serve the page).
    IF params ? 'grouped_types' THEN
        engine := engine || pg_catalog.jsonb_build_object('grouped_types', inbox._mastodon_types(params, 'grouped_types'));
    END IF;
    IF params ? 'expand_accounts' AND params->>'expand_accounts' NOT IN ('full', 'partial_avatars') THEN
        RAISE EXCEPTION 'expand_accounts: expected full or partial_avatars, got %', pg_catalog.quote_literal(params->>'expand_accounts')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF min_id IS NOT NULL THEN
        -- The groups just above min_id (with min_id, Mastodon pages by it and not since_id).
        since_id := min_id;
        max_id := coalesce(inbox._mastodon_groups_above(caller.user_id, engine, min_id, max_id), min_id) + 1;
    END IF;
    page := inbox._social_groups(caller.user_id, engine || '{"total": false}', max_id, since_id);
    groups := page->'data';
    body := inbox._mastodon_grouped(caller.user_id, groups);
    -- The page's id range: paging continues below the oldest group's latest notification.
    link := inbox._mastodon_link(origin, '/api/v2/notifications', params,
                                 ARRAY['account_id', 'exclude_types', 'expand_accounts', 'grouped_types', 'limit', 'types'],
                                 body->'notification_groups'->0->>'page_max_id',
                                 body->'notification_groups'->-1->>'page_min_id');
END
$$;

-- Issue 19, h-unseen (00_schema, 20_api, 47_lifecycle): the unseen count from counters kept by
-- the same triggers as the unread count (a column of each counter table, moved by each row's
-- counter delta with the user's seen marks, which the triggers read with the read mark under
-- the counter row's lock, inbox._lock_marks) and reset by inbox.mark_seen; a user's marks and
-- expired counts in one statement (inbox._user_state); retention that runs on Citus.
-- (Added without a default and then filled, as last_event_id: a fast default would leave the
-- column a "missing value" that a fresh install does not have. The counts come at the end.)
ALTER TABLE inbox.user_counters ADD COLUMN unseen bigint;
UPDATE inbox.user_counters SET unseen = 0;
ALTER TABLE inbox.user_counters ALTER COLUMN unseen SET DEFAULT 0, ALTER COLUMN unseen SET NOT NULL;
ALTER TABLE inbox.workspace_counters ADD COLUMN unseen bigint;
UPDATE inbox.workspace_counters SET unseen = 0;
ALTER TABLE inbox.workspace_counters ALTER COLUMN unseen SET DEFAULT 0, ALTER COLUMN unseen SET NOT NULL;
COMMENT ON TABLE inbox.user_counters IS
    'Per-user counts of active, unread, soft-deleted and unseen notifications, kept exact by triggers. Rebuilt by inbox.rebuild_counters().';
ALTER TYPE inbox.counter_delta ADD ATTRIBUTE unseen bigint;
DROP FUNCTION inbox._counter_delta(inbox.notifications, bigint, timestamptz);
DROP FUNCTION inbox._lock_read_marks(text[], boolean);
DROP FUNCTION inbox._expired_counts(text, text);
-- The expiry index's predicate: one that a user's probe of expired rows does not imply
-- (00_schema.sql).
DROP INDEX inbox.notifications_expiry_idx;
CREATE INDEX notifications_expiry_idx ON inbox.notifications (expires_at) WHERE expires_at < 'infinity';

CREATE OR REPLACE FUNCTION inbox._is_unseen(deleted_at timestamptz, seen_at timestamptz, created_at timestamptz,
                                 seen_before timestamptz)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT deleted_at IS NULL AND seen_at IS NULL AND NOT coalesce(created_at <= seen_before, false)
$$;

CREATE OR REPLACE FUNCTION inbox._counter_delta(n inbox.notifications, sign bigint, read_before timestamptz DEFAULT NULL,
                                     seen jsonb DEFAULT NULL)
RETURNS inbox.counter_delta
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT ROW(n.user_id, n.workspace_id, n.group_key,
               sign * (n.deleted_at IS NULL)::int,
               sign * (n.deleted_at IS NULL AND n.read_at IS NULL
                       AND NOT coalesce(n.updated_at < read_before, false))::int,
               sign * (n.deleted_at IS NOT NULL)::int,
               sign * inbox._is_unseen(n.deleted_at, n.seen_at, n.created_at,
                                       inbox._seen_before(seen, n.workspace_id))::int)::inbox.counter_delta
$$;

CREATE OR REPLACE FUNCTION inbox._lock_marks(users text[], by_user boolean)
RETURNS TABLE (user_id text, read_before timestamptz, seen jsonb)
LANGUAGE plpgsql
AS $$
DECLARE
    u text;
BEGIN
    IF NOT by_user THEN
        INSERT INTO inbox.user_counters AS c (user_id)
        SELECT DISTINCT x FROM pg_catalog.unnest(users) AS x ORDER BY 1
        ON CONFLICT ON CONSTRAINT user_counters_pkey DO UPDATE SET active = c.active WHERE false;
        RETURN QUERY SELECT m.user_id, max(m.read_before) FILTER (WHERE m.workspace_key = ''),
                            pg_catalog.jsonb_object_agg(m.workspace_key, m.seen_before) FILTER (WHERE m.seen_before IS NOT NULL)
                       FROM inbox.marks m
                      WHERE m.user_id = ANY (users)
                      GROUP BY m.user_id;
        RETURN;
    END IF;
    FOR u IN SELECT DISTINCT x FROM pg_catalog.unnest(users) AS x ORDER BY 1 LOOP
        INSERT INTO inbox.user_counters AS c (user_id) VALUES (u)
        ON CONFLICT ON CONSTRAINT user_counters_pkey DO UPDATE SET active = c.active WHERE false;
        RETURN QUERY SELECT m.user_id, max(m.read_before) FILTER (WHERE m.workspace_key = ''),
                            pg_catalog.jsonb_object_agg(m.workspace_key, m.seen_before) FILTER (WHERE m.seen_before IS NOT NULL)
                       FROM inbox.marks m
                      WHERE m.user_id = u
                      GROUP BY m.user_id;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION inbox._apply_counter_deltas(deltas inbox.counter_delta[], refresh_groups boolean DEFAULT true,
                                            events inbox.feed_event[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    threshold integer;
    last_id   bigint;
    unread_now bigint;
BEGIN
    -- Creates are never summarised: each new notification is content a client shows and the
    -- outbox (55_delivery.sql) delivers; only changes of existing rows become one summary.
    threshold := CASE WHEN (events[1]).event = 'notification.created' THEN 2147483647
                      WHEN events IS NOT NULL THEN inbox._feed_threshold() END;
    IF pg_catalog.cardinality(events) = 1 AND pg_catalog.cardinality(deltas) <= 2 THEN
        -- One row changed (a create, a click): two plain statements. (A second delta of another
        -- user is a row that did not change: it adds up to zero.)
        INSERT INTO inbox.user_counters AS c (user_id, active, unread, deleted, last_event_id, unseen)
        SELECT (events[1]).user_id, coalesce(sum(d.active), 0), coalesce(sum(d.unread), 0), coalesce(sum(d.deleted), 0), 1,
               coalesce(sum(d.unseen), 0)
          FROM pg_catalog.unnest(deltas) AS d
         WHERE d.user_id = (events[1]).user_id
        ON CONFLICT (user_id) DO UPDATE
           SET active  = c.active  + excluded.active,
               unread  = c.unread  + excluded.unread,
               deleted = c.deleted + excluded.deleted,
               unseen  = c.unseen  + excluded.unseen,
               last_event_id = c.last_event_id + 1
        RETURNING c.last_event_id, c.unread INTO last_id, unread_now;
        INSERT INTO inbox.events (user_id, id, event, notification_id, workspace_id, unread)
        VALUES ((events[1]).user_id, last_id, (events[1]).event, (events[1]).notification_id, (events[1]).workspace_id,
                CASE WHEN (events[1]).unread <> 0 THEN unread_now END);
    ELSIF events IS NULL THEN
        INSERT INTO inbox.user_counters AS c (user_id, active, unread, deleted, unseen)
        SELECT d.user_id, sum(d.active), sum(d.unread), sum(d.deleted), sum(d.unseen)
          FROM pg_catalog.unnest(deltas) AS d
         GROUP BY d.user_id
        HAVING sum(d.active) <> 0 OR sum(d.unread) <> 0 OR sum(d.deleted) <> 0 OR sum(d.unseen) <> 0
         ORDER BY d.user_id
        ON CONFLICT (user_id) DO UPDATE
           SET active  = c.active  + excluded.active,
               unread  = c.unread  + excluded.unread,
               deleted = c.deleted + excluded.deleted,
               unseen  = c.unseen  + excluded.unseen;
    ELSE
        WITH d AS (SELECT x.user_id, sum(x.active) AS active, sum(x.unread) AS unread, sum(x.deleted) AS deleted,
                          sum(x.unseen) AS unseen
                     FROM pg_catalog.unnest(deltas) AS x
                    GROUP BY x.user_id),
             e AS (SELECT x.user_id, pg_catalog.count(*) AS n
                     FROM pg_catalog.unnest(events) AS x
                    GROUP BY x.user_id),
             moved AS (
            INSERT INTO inbox.user_counters AS c (user_id, active, unread, deleted, last_event_id, unseen)
            SELECT coalesce(d.user_id, e.user_id), coalesce(d.active, 0), coalesce(d.unread, 0),
                   coalesce(d.deleted, 0), inbox._feed_ids(e.n, threshold), coalesce(d.unseen, 0)
              FROM d FULL JOIN e ON e.user_id = d.user_id
             WHERE e.n IS NOT NULL OR d.active <> 0 OR d.unread <> 0 OR d.deleted <> 0 OR d.unseen <> 0
             ORDER BY 1
            ON CONFLICT (user_id) DO UPDATE
               SET active  = c.active  + excluded.active,
                   unread  = c.unread  + excluded.unread,
                   deleted = c.deleted + excluded.deleted,
                   unseen  = c.unseen  + excluded.unseen,
                   last_event_id = c.last_event_id + excluded.last_event_id
            RETURNING c.user_id, c.last_event_id, c.unread)
        INSERT INTO inbox.events (user_id, id, event, notification_id, workspace_id, unread, data)
        SELECT r.* FROM inbox._event_rows(events, ARRAY(SELECT ROW(m.user_id, m.last_event_id, m.unread, e.n)::inbox.feed_position
                                                          FROM moved AS m JOIN e ON e.user_id = m.user_id),
                                          threshold) AS r;
    END IF;

    INSERT INTO inbox.workspace_counters AS c (user_id, workspace_id, active, unread, deleted, unseen)
    SELECT d.user_id, d.workspace_id, sum(d.active), sum(d.unread), sum(d.deleted), sum(d.unseen)
      FROM pg_catalog.unnest(deltas) AS d
     WHERE d.workspace_id IS NOT NULL
     GROUP BY d.user_id, d.workspace_id
    HAVING sum(d.active) <> 0 OR sum(d.unread) <> 0 OR sum(d.deleted) <> 0 OR sum(d.unseen) <> 0
     ORDER BY d.user_id, d.workspace_id
    ON CONFLICT (user_id, workspace_id) DO UPDATE
       SET active  = c.active  + excluded.active,
           unread  = c.unread  + excluded.unread,
           deleted = c.deleted + excluded.deleted,
           unseen  = c.unseen  + excluded.unseen;

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

CREATE OR REPLACE FUNCTION inbox._apply_counter_deltas_by_user(deltas inbox.counter_delta[], refresh_groups boolean,
                                                    events inbox.feed_event[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    d record;
    -- (Creates are never summarised: see the function above.)
    threshold integer := CASE WHEN (events[1]).event = 'notification.created' THEN 2147483647
                              WHEN events IS NOT NULL THEN inbox._feed_threshold() END;
    positions inbox.feed_position[] := '{}';
    last_id   bigint;
    unread_now bigint;
BEGIN
    FOR d IN SELECT coalesce(a.user_id, e.user_id) AS user_id, coalesce(a.active, 0) AS active,
                    coalesce(a.unread, 0) AS unread, coalesce(a.deleted, 0) AS deleted,
                    coalesce(a.unseen, 0) AS unseen, e.n, inbox._feed_ids(e.n, threshold) AS ids
               FROM (SELECT x.user_id, sum(x.active) AS active, sum(x.unread) AS unread, sum(x.deleted) AS deleted,
                            sum(x.unseen) AS unseen
                       FROM pg_catalog.unnest(deltas) AS x
                      GROUP BY x.user_id) AS a
               FULL JOIN (SELECT x.user_id, pg_catalog.count(*) AS n
                            FROM pg_catalog.unnest(events) AS x
                           GROUP BY x.user_id) AS e ON e.user_id = a.user_id
              WHERE e.n IS NOT NULL OR a.active <> 0 OR a.unread <> 0 OR a.deleted <> 0 OR a.unseen <> 0
              ORDER BY 1 LOOP
        INSERT INTO inbox.user_counters AS c (user_id, active, unread, deleted, last_event_id, unseen)
        VALUES (d.user_id, d.active, d.unread, d.deleted, d.ids, d.unseen)
        ON CONFLICT (user_id) DO UPDATE
           SET active  = c.active  + excluded.active,
               unread  = c.unread  + excluded.unread,
               deleted = c.deleted + excluded.deleted,
               unseen  = c.unseen  + excluded.unseen,
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
                    sum(x.deleted) AS deleted, sum(x.unseen) AS unseen
               FROM pg_catalog.unnest(deltas) AS x
              WHERE x.workspace_id IS NOT NULL
              GROUP BY x.user_id, x.workspace_id
             HAVING sum(x.active) <> 0 OR sum(x.unread) <> 0 OR sum(x.deleted) <> 0 OR sum(x.unseen) <> 0
              ORDER BY x.user_id, x.workspace_id LOOP
        INSERT INTO inbox.workspace_counters AS c (user_id, workspace_id, active, unread, deleted, unseen)
        VALUES (d.user_id, d.workspace_id, d.active, d.unread, d.deleted, d.unseen)
        ON CONFLICT (user_id, workspace_id) DO UPDATE
           SET active  = c.active  + excluded.active,
               unread  = c.unread  + excluded.unread,
               deleted = c.deleted + excluded.deleted,
               unseen  = c.unseen  + excluded.unseen;
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

CREATE OR REPLACE FUNCTION inbox._counters_after_insert() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    marks_users text[];
    marks_at timestamptz[];
    marks_seen jsonb[];
BEGIN
    SELECT pg_catalog.array_agg(m.user_id), pg_catalog.array_agg(m.read_before), pg_catalog.array_agg(m.seen)
      INTO marks_users, marks_at, marks_seen
      FROM inbox._lock_marks(ARRAY(SELECT DISTINCT n.user_id FROM new_rows n), TG_TABLE_NAME <> 'notifications') AS m;
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1, m.at, m.seen) FROM new_rows n
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at), pg_catalog.unnest(marks_seen))
                    AS m(user_id, at, seen)
            ON m.user_id = n.user_id), true,
        CASE WHEN inbox._feed_on() THEN ARRAY(
            SELECT ROW(n.user_id, n.id, n.workspace_id, 'notification.created',
                       (n.deleted_at IS NULL AND n.read_at IS NULL)::int, false)::inbox.feed_event
              FROM new_rows n) END);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION inbox._counters_after_update() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    marks_users text[];
    marks_at timestamptz[];
    marks_seen jsonb[];
BEGIN
    SELECT pg_catalog.array_agg(m.user_id), pg_catalog.array_agg(m.read_before), pg_catalog.array_agg(m.seen)
      INTO marks_users, marks_at, marks_seen
      FROM inbox._lock_marks(ARRAY(SELECT n.user_id FROM new_rows n UNION SELECT o.user_id FROM old_rows o),
                                  TG_TABLE_NAME <> 'notifications') AS m;
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1, m.at, m.seen) FROM new_rows n
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at), pg_catalog.unnest(marks_seen))
                    AS m(user_id, at, seen)
            ON m.user_id = n.user_id
        UNION ALL
        SELECT inbox._counter_delta(ROW(o.*)::inbox.notifications, -1, m.at, m.seen) FROM old_rows o
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at), pg_catalog.unnest(marks_seen))
                    AS m(user_id, at, seen)
            ON m.user_id = o.user_id),
        -- Group summaries are read again only when a grouped row changed what they show, or
        -- moved (a read, unread or archive does not). A FULL JOIN, which the planner can only
        -- hash or merge: it takes a transition table for one row, and as a LEFT JOIN it chose a
        -- nested loop, quadratic in the rows (a plain UPDATE of 20,000 rows took 48 s).
        EXISTS (SELECT FROM old_rows o
                  FULL JOIN new_rows n ON n.user_id = o.user_id AND n.id = o.id
                 WHERE (o.group_key IS NOT NULL OR n.group_key IS NOT NULL)
                   AND (n.id IS NULL OR o.id IS NULL
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
DECLARE
    marks_users text[];
    marks_at timestamptz[];
    marks_seen jsonb[];
BEGIN
    SELECT pg_catalog.array_agg(m.user_id), pg_catalog.array_agg(m.read_before), pg_catalog.array_agg(m.seen)
      INTO marks_users, marks_at, marks_seen
      FROM inbox._lock_marks(ARRAY(SELECT DISTINCT o.user_id FROM old_rows o), TG_TABLE_NAME <> 'notifications') AS m;
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(o.*)::inbox.notifications, -1, m.at, m.seen) FROM old_rows o
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at), pg_catalog.unnest(marks_seen))
                    AS m(user_id, at, seen)
            ON m.user_id = o.user_id), true,
        CASE WHEN inbox._feed_on() THEN ARRAY(
            SELECT ROW(o.user_id, o.id, o.workspace_id, 'notification.purged',
                       -(o.deleted_at IS NULL AND o.read_at IS NULL)::int, false)::inbox.feed_event
              FROM old_rows o
             ORDER BY o.id) END);
    RETURN NULL;
END
$$;

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
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1, m.read_before, m.seen) FROM inbox.notifications n
          LEFT JOIN (SELECT k.user_id, max(k.read_before) FILTER (WHERE k.workspace_key = '') AS read_before,
                            pg_catalog.jsonb_object_agg(k.workspace_key, k.seen_before) FILTER (WHERE k.seen_before IS NOT NULL) AS seen
                       FROM inbox.marks k GROUP BY k.user_id) AS m ON m.user_id = n.user_id));
    INSERT INTO inbox.user_counters AS c (user_id, last_event_id)
    SELECT h.user_id, h.last_event_id FROM pg_catalog.unnest(heads) AS h ORDER BY h.user_id
    ON CONFLICT (user_id) DO UPDATE SET last_event_id = excluded.last_event_id;
END
$$;

COMMENT ON FUNCTION inbox.rebuild_counters() IS
    'Recomputes inbox.user_counters, inbox.workspace_counters and inbox.notification_groups from inbox.notifications.';

CREATE OR REPLACE FUNCTION inbox._user_state(user_id text, workspace_id text,
                                  OUT read_marks timestamptz[], OUT seen jsonb,
                                  OUT expired_active bigint, OUT expired_unread bigint,
                                  OUT expired_deleted bigint, OUT expired_unseen bigint)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    SELECT m.read_marks, m.seen, e.active, e.unread, e.deleted, e.unseen
      INTO read_marks, seen, expired_active, expired_unread, expired_deleted, expired_unseen
      FROM (SELECT max(k.read_marks) FILTER (WHERE k.workspace_key = '') AS read_marks,
                   pg_catalog.jsonb_object_agg(k.workspace_key, k.seen_before)
                       FILTER (WHERE k.seen_before IS NOT NULL) AS seen
              FROM inbox.marks k
             WHERE k.user_id = _user_state.user_id) AS m
     CROSS JOIN LATERAL (
           SELECT count(*) FILTER (WHERE n.deleted_at IS NULL) AS active,
                  count(*) FILTER (WHERE n.deleted_at IS NULL
                                     AND NOT inbox._is_read(n.read_at, n.deleted_at, n.updated_at,
                                                            m.read_marks[pg_catalog.array_upper(m.read_marks, 1)])) AS unread,
                  count(*) FILTER (WHERE n.deleted_at IS NOT NULL) AS deleted,
                  count(*) FILTER (WHERE inbox._is_unseen(n.deleted_at, n.seen_at, n.created_at,
                                                          inbox._seen_before(m.seen, n.workspace_id))) AS unseen
             FROM inbox.notifications n
            WHERE n.user_id = _user_state.user_id AND n.expires_at <= pg_catalog.now()
              AND (_user_state.workspace_id IS NULL OR n.workspace_id = _user_state.workspace_id)) AS e;
END
$$;

CREATE OR REPLACE FUNCTION inbox._expired_counts(user_id text, workspace_id text)
RETURNS TABLE (active bigint, unread bigint, deleted bigint, unseen bigint)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN QUERY
    SELECT s.expired_active, s.expired_unread, s.expired_deleted, s.expired_unseen
      FROM inbox._user_state(_expired_counts.user_id, _expired_counts.workspace_id) AS s;
END
$$;

CREATE OR REPLACE FUNCTION inbox.mark_seen(user_id text, workspace_id text DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql
AS $$
DECLARE
    at    timestamptz := pg_catalog.now();
    seen  jsonb;
    left_ bigint;
    was   bigint;
BEGIN
    IF user_id IS NULL THEN
        RAISE EXCEPTION 'user_id: must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM FROM inbox._lock_marks(ARRAY[mark_seen.user_id], true);
    INSERT INTO inbox.marks AS m (user_id, workspace_key, seen_before)
    VALUES (mark_seen.user_id, coalesce(mark_seen.workspace_id, ''), at)
    ON CONFLICT ON CONSTRAINT marks_pkey DO UPDATE SET seen_before = excluded.seen_before;
    seen := (inbox._user_marks(mark_seen.user_id)).seen;
    IF mark_seen.workspace_id IS NULL THEN
        SELECT count(*) INTO left_ FROM inbox.notifications n
         WHERE n.user_id = mark_seen.user_id AND n.deleted_at IS NULL AND n.created_at > at
           AND inbox._is_unseen(n.deleted_at, n.seen_at, n.created_at, inbox._seen_before(seen, n.workspace_id));
        UPDATE inbox.user_counters c SET unseen = left_
         WHERE c.user_id = mark_seen.user_id AND c.unseen <> left_;
        UPDATE inbox.workspace_counters c SET unseen = coalesce(l.unseen, 0)
          FROM (SELECT w.workspace_id, l.unseen
                  FROM inbox.workspace_counters w
                  LEFT JOIN (SELECT n.workspace_id, count(*) AS unseen FROM inbox.notifications n
                              WHERE n.user_id = mark_seen.user_id AND n.workspace_id IS NOT NULL
                                AND n.deleted_at IS NULL AND n.created_at > at
                                AND inbox._is_unseen(n.deleted_at, n.seen_at, n.created_at,
                                                     inbox._seen_before(seen, n.workspace_id))
                              GROUP BY n.workspace_id) AS l ON l.workspace_id = w.workspace_id
                 WHERE w.user_id = mark_seen.user_id) AS l
         WHERE c.user_id = mark_seen.user_id AND c.workspace_id = l.workspace_id
           AND c.unseen <> coalesce(l.unseen, 0);
    ELSE
        SELECT count(*) INTO left_ FROM inbox.notifications n
         WHERE n.user_id = mark_seen.user_id AND n.workspace_id = mark_seen.workspace_id
           AND n.deleted_at IS NULL AND n.created_at > at
           AND inbox._is_unseen(n.deleted_at, n.seen_at, n.created_at, inbox._seen_before(seen, n.workspace_id));
        -- The workspace's counter, and the user's by as much (rows of other workspaces keep
        -- their seen state).
        SELECT c.unseen INTO was FROM inbox.workspace_counters c
         WHERE c.user_id = mark_seen.user_id AND c.workspace_id = mark_seen.workspace_id;
        IF was IS NOT NULL AND was <> left_ THEN
            UPDATE inbox.workspace_counters c SET unseen = left_
             WHERE c.user_id = mark_seen.user_id AND c.workspace_id = mark_seen.workspace_id;
            UPDATE inbox.user_counters c SET unseen = c.unseen + (left_ - was)
             WHERE c.user_id = mark_seen.user_id;
        END IF;
    END IF;
    -- Marks no row: one notification.seen event (45_feed.sql) tells the user's other clients.
    PERFORM inbox._append_event(mark_seen.user_id, 'notification.seen', mark_seen.workspace_id,
                                pg_catalog.jsonb_build_object('workspaceId', mark_seen.workspace_id,
                                                              'seenAt', inbox.iso_time(at)),
                                false);
    RETURN at;
END
$$;

COMMENT ON FUNCTION inbox.mark_seen(text, text) IS
    'Marks every notification of user_id (optionally in one workspace) created up to now seen, in constant time; returns the time of the mark.';

CREATE OR REPLACE FUNCTION inbox.unseen_count(user_id text, workspace_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    n bigint;
BEGIN
    IF unseen_count.workspace_id IS NULL THEN
        SELECT c.unseen INTO n FROM inbox.user_counters c WHERE c.user_id = unseen_count.user_id;
    ELSE
        SELECT c.unseen INTO n FROM inbox.workspace_counters c
         WHERE c.user_id = unseen_count.user_id AND c.workspace_id = unseen_count.workspace_id;
    END IF;
    IF n IS NULL THEN
        RETURN 0;
    END IF;
    RETURN n - (SELECT x.unseen FROM inbox._expired_counts(user_id, workspace_id) AS x);
END
$$;

COMMENT ON FUNCTION inbox.unseen_count(text, text) IS
    'Active, not expired notifications of user_id (optionally in one workspace) not seen yet (inbox.mark_seen), from the counters: one index lookup, less the expired rows not purged yet.';

CREATE OR REPLACE FUNCTION inbox.prune_step(cursor text DEFAULT NULL, batch integer DEFAULT NULL)
RETURNS TABLE (kind text, removed bigint, next_cursor text)
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    policy inbox.retention;
    phase  text := coalesce(split_part(cursor, ':', 1), 'settle');
    after_ text := CASE WHEN position(':' IN coalesce(cursor, '')) > 0
                        THEN substr(cursor, position(':' IN cursor) + 1) END;
    n      bigint;
    u      text;
BEGIN
    SELECT * INTO policy FROM inbox.retention LIMIT 1;
    IF NOT FOUND THEN
        policy := ROW(true, interval '30 days', interval '0', NULL, NULL, 10000)::inbox.retention;
    END IF;
    batch := coalesce(batch, policy.batch_size, 10000);
    IF batch < 1 THEN
        RAISE EXCEPTION 'batch: expected a positive number of rows, got %', batch
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF phase NOT IN ('settle', 'expired', 'deleted', 'read', 'overflow', 'overflow_again') THEN
        RAISE EXCEPTION 'cursor: not a cursor of inbox.prune_step: %', cursor
              USING ERRCODE = 'invalid_parameter_value';
    END IF;

    IF phase = 'settle' THEN
        SELECT m.user_id INTO u FROM inbox.marks m
         WHERE m.workspace_key = '' AND m.read_before IS NOT NULL AND m.user_id > coalesce(after_, '')
         ORDER BY m.user_id LIMIT 1;
        IF FOUND THEN
            n := inbox.settle_read_marks(u, batch);
            -- Written a batch: the same user again; cleared or nothing: the next user.
            RETURN QUERY SELECT 'settled'::text, greatest(n, 0),
                                'settle:' || CASE WHEN n > 0 THEN coalesce(after_, '') ELSE u END;
            RETURN;
        END IF;
        phase := 'expired';
        after_ := NULL;
    END IF;

    IF phase = 'expired' AND policy.expired_after IS NOT NULL THEN
        DELETE FROM inbox.notifications x
         WHERE (x.user_id, x.id) IN (SELECT y.user_id, y.id FROM inbox.notifications y
                                      WHERE y.expires_at <= pg_catalog.now() - policy.expired_after
                                        AND y.expires_at < 'infinity'  -- notifications_expiry_idx
                                      ORDER BY y.expires_at LIMIT batch);
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            RETURN QUERY SELECT 'expired'::text, n, 'expired'::text;
            RETURN;
        END IF;
    END IF;
    IF phase IN ('settle', 'expired') THEN
        phase := 'deleted';
    END IF;

    IF phase = 'deleted' AND policy.deleted_after IS NOT NULL THEN
        DELETE FROM inbox.notifications x
         WHERE (x.user_id, x.id) IN (SELECT y.user_id, y.id FROM inbox.notifications y
                                      WHERE y.deleted_at < pg_catalog.now() - policy.deleted_after
                                      ORDER BY y.deleted_at LIMIT batch)
           -- Rechecked on the row deleted: a row restored while this step waited for its lock
           -- is no longer one the rule names (the IN list is not re-evaluated for it).
           AND x.deleted_at < pg_catalog.now() - policy.deleted_after;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            RETURN QUERY SELECT 'deleted'::text, n, 'deleted'::text;
            RETURN;
        END IF;
    END IF;
    IF phase = 'deleted' THEN
        phase := 'read';
    END IF;

    IF phase = 'read' AND policy.read_after IS NOT NULL THEN
        DELETE FROM inbox.notifications x
         WHERE (x.user_id, x.id) IN (SELECT y.user_id, y.id FROM inbox.notifications y
                                      WHERE y.deleted_at IS NULL AND y.read_at IS NOT NULL
                                        AND y.created_at < pg_catalog.now() - policy.read_after
                                      ORDER BY y.id LIMIT batch)  -- oldest first (notifications_id_idx)
           -- Rechecked on the row deleted, as above: one marked unread or deleted meanwhile stays.
           AND x.deleted_at IS NULL AND x.read_at IS NOT NULL
           AND x.created_at < pg_catalog.now() - policy.read_after;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            RETURN QUERY SELECT 'read'::text, n, 'read'::text;
            RETURN;
        END IF;
    END IF;
    IF phase = 'read' THEN
        phase := 'overflow';
        after_ := NULL;
    END IF;

    IF policy.keep_per_type IS NOT NULL THEN
        -- The next user (in user_id order, from the counters) with more active rows than a
        -- type may keep; their rows of each type beyond the newest keep_per_type.
        SELECT c.user_id INTO u FROM inbox.user_counters c
         WHERE c.active > policy.keep_per_type
           AND CASE WHEN phase = 'overflow_again' THEN c.user_id >= after_ ELSE c.user_id > coalesce(after_, '') END
         ORDER BY c.user_id LIMIT 1;
        IF FOUND THEN
            DELETE FROM inbox.notifications x
             WHERE x.user_id = u
               AND x.id = ANY (ARRAY(
                   SELECT y.id FROM (SELECT z.id, pg_catalog.row_number() OVER (PARTITION BY z.type
                                                ORDER BY z.created_at DESC, z.id DESC) AS r
                                       FROM inbox.notifications z
                                      WHERE z.user_id = u AND z.deleted_at IS NULL) AS y
                    WHERE y.r > policy.keep_per_type
                    LIMIT batch));
            GET DIAGNOSTICS n = ROW_COUNT;
            -- A full batch: this user again; else the next one.
            RETURN QUERY SELECT 'overflow'::text, n,
                                CASE WHEN n >= batch THEN 'overflow_again:' ELSE 'overflow:' END || u;
            RETURN;
        END IF;
    END IF;
    RETURN QUERY SELECT 'done'::text, 0::bigint, NULL::text;
END
$$;

COMMENT ON FUNCTION inbox.prune_step(text, integer) IS
    'One bounded step of retention (read marks settled, expired, soft-deleted, read, beyond keep_per_type per user and type): returns what it removed and the cursor of the next step (NULL: done). Call it in a loop, one transaction a call; inbox.prune does.';

CREATE OR REPLACE FUNCTION inbox._user_marks(user_id text, OUT read_marks timestamptz[], OUT seen jsonb)
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
    -- One statement (on Citus one round trip to the user's shard), as inbox._user_state.
    SELECT max(m.read_marks) FILTER (WHERE m.workspace_key = ''),
           pg_catalog.jsonb_object_agg(m.workspace_key, m.seen_before) FILTER (WHERE m.seen_before IS NOT NULL)
      INTO read_marks, seen
      FROM inbox.marks m
     WHERE m.user_id = _user_marks.user_id;
END
$$;

-- The unseen counters of the rows already there: what the triggers would have counted, with
-- each user's seen marks (the rows' own seen_at and expiry included, as for any row).
UPDATE inbox.user_counters c SET unseen = u.unseen
  FROM (SELECT n.user_id,
               count(*) FILTER (WHERE inbox._is_unseen(n.deleted_at, n.seen_at, n.created_at,
                                                       inbox._seen_before(m.seen, n.workspace_id))) AS unseen
          FROM inbox.notifications n
          LEFT JOIN (SELECT k.user_id, pg_catalog.jsonb_object_agg(k.workspace_key, k.seen_before) AS seen
                       FROM inbox.marks k WHERE k.seen_before IS NOT NULL GROUP BY k.user_id) AS m
            ON m.user_id = n.user_id
         GROUP BY n.user_id) AS u
 WHERE c.user_id = u.user_id AND c.unseen <> u.unseen;
UPDATE inbox.workspace_counters c SET unseen = u.unseen
  FROM (SELECT n.user_id, n.workspace_id,
               count(*) FILTER (WHERE inbox._is_unseen(n.deleted_at, n.seen_at, n.created_at,
                                                       inbox._seen_before(m.seen, n.workspace_id))) AS unseen
          FROM inbox.notifications n
          LEFT JOIN (SELECT k.user_id, pg_catalog.jsonb_object_agg(k.workspace_key, k.seen_before) AS seen
                       FROM inbox.marks k WHERE k.seen_before IS NOT NULL GROUP BY k.user_id) AS m
            ON m.user_id = n.user_id
         WHERE n.workspace_id IS NOT NULL
         GROUP BY n.user_id, n.workspace_id) AS u
 WHERE c.user_id = u.user_id AND c.workspace_id = u.workspace_id AND c.unseen <> u.unseen;
-- ---------------------------------------------------------------------------------------------
-- Issue 16, v2 pages as Mastodon pages them (65_mastodon.sql): a page is an id range read
-- newest first until `limit` groups have begun, each group over that range; and the objects a
-- Notification carries for admin.report, severed_relationships and moderation_warning.
-- ---------------------------------------------------------------------------------------------
DROP FUNCTION inbox._mastodon_groups_above(text, jsonb, bigint, bigint);
DROP FUNCTION inbox._mastodon_grouped(text, jsonb);

CREATE FUNCTION inbox._mastodon_target_relation(type text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN type = 'admin.report' THEN 'mastodon_report'
                WHEN type = 'severed_relationships' THEN 'mastodon_relationship_severance_event'
                WHEN type = 'moderation_warning' THEN 'mastodon_moderation_warning'
                ELSE 'mastodon_status' END
$$;

CREATE FUNCTION inbox._mastodon_target_keys(relation text)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN relation = 'mastodon_report' THEN ARRAY['report']
                WHEN relation = 'mastodon_relationship_severance_event' THEN ARRAY['relationship_severance_event', 'event']
                WHEN relation = 'mastodon_moderation_warning' THEN ARRAY['moderation_warning']
                ELSE ARRAY['status'] END
$$;

CREATE FUNCTION inbox._mastodon_targets(entities jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    found jsonb;  -- {relation: {item: row}}
BEGIN
    SELECT pg_catalog.jsonb_object_agg(t.relation, inbox._social_rows(t.relation, t.items)) INTO found
      FROM (SELECT inbox._mastodon_target_relation(e->>'type') AS relation, pg_catalog.jsonb_agg(DISTINCT e->'status') AS items
              FROM pg_catalog.jsonb_array_elements(entities) AS e
             WHERE pg_catalog.jsonb_typeof(e->'status') = 'string'
             GROUP BY 1) t;
    RETURN coalesce((
        SELECT pg_catalog.jsonb_agg(
                   (e.v - 'status')
                   || coalesce((SELECT pg_catalog.jsonb_object_agg(k, o.obj)
                                  FROM pg_catalog.unnest(inbox._mastodon_target_keys(o.relation)) AS k
                                 WHERE o.obj IS NOT NULL), '{}')
                   ORDER BY e.o)
          FROM pg_catalog.jsonb_array_elements(entities) WITH ORDINALITY AS e(v, o),
               LATERAL (SELECT r.relation, found->r.relation->(e.v->>'status') AS obj
                          FROM (SELECT inbox._mastodon_target_relation(e.v->>'type') AS relation) r) o), '[]');
END
$$;

CREATE OR REPLACE FUNCTION inbox._mastodon_entities(entities jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    accounts jsonb := inbox._social_rows('mastodon_account',
        (SELECT pg_catalog.jsonb_agg(DISTINCT e->'account') FROM pg_catalog.jsonb_array_elements(entities) AS e
          WHERE pg_catalog.jsonb_typeof(e->'account') = 'string'));
BEGIN
    RETURN coalesce((
        SELECT pg_catalog.jsonb_agg(
                   e.v || pg_catalog.jsonb_build_object('account',
                              coalesce(accounts->(e.v->>'account'), inbox._mastodon_account_stub(e.v->>'account')))
                   ORDER BY e.o)
          FROM pg_catalog.jsonb_array_elements(inbox._mastodon_targets(entities)) WITH ORDINALITY AS e(v, o)), '[]');
END
$$;

CREATE FUNCTION inbox._mastodon_grouped(groups jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    targets jsonb := inbox._mastodon_targets(
        coalesce((SELECT pg_catalog.jsonb_agg(g->'notification' ORDER BY o)
                    FROM pg_catalog.jsonb_array_elements(groups) WITH ORDINALITY AS a(g, o)), '[]'));
    out_groups jsonb;
    statuses jsonb;
    account_ids jsonb;
BEGIN
    SELECT coalesce(pg_catalog.jsonb_agg(
               (a.g - 'notification')
               || (t.v - ARRAY['id', 'type', 'created_at', 'group_key', 'account', 'status', 'relationship_severance_event'])
               || CASE WHEN t.v ? 'status' THEN pg_catalog.jsonb_build_object('status_id', a.g->'notification'->'status')
                       ELSE '{}' END
               ORDER BY a.o), '[]'),
           coalesce(pg_catalog.jsonb_agg(DISTINCT t.v->'status') FILTER (WHERE t.v ? 'status'), '[]')
      INTO out_groups, statuses
      FROM pg_catalog.jsonb_array_elements(groups) WITH ORDINALITY AS a(g, o)
           JOIN pg_catalog.jsonb_array_elements(targets) WITH ORDINALITY AS t(v, o) ON t.o = a.o;
    SELECT pg_catalog.jsonb_agg(DISTINCT s) INTO account_ids
      FROM pg_catalog.jsonb_array_elements(groups) AS g, pg_catalog.jsonb_array_elements(g->'sample_account_ids') AS s;
    RETURN pg_catalog.jsonb_build_object(
        'accounts', inbox._mastodon_accounts(coalesce(account_ids, '[]')),
        'statuses', statuses,
        'notification_groups', out_groups);
END
$$;

CREATE FUNCTION inbox._mastodon_group_page(user_id text, engine jsonb, max_id bigint, since_id bigint,
                                           min_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    lim integer := (engine->>'limit')::integer;
    up boolean := min_id IS NOT NULL;
    -- Rows per seek. Not more: at LIMIT 81 the planner can take the engine's id-ordered read
    -- of a user with many rows over the cross-user notifications_id_idx (seen on the bench's
    -- heavy user: 108 ms, against 2 ms on the primary key).
    chunk_size integer := greatest(lim, 40);
    scan jsonb := (engine - 'grouped_types') || pg_catalog.jsonb_build_object('limit', chunk_size);
    below bigint := max_id;
    after bigint := CASE WHEN up THEN min_id ELSE since_id END;
    keys text[] := '{}';
    reps jsonb := '[]';
    key text;
    chunk jsonb;
    r jsonb;
    complete boolean;
    lo bigint;
    hi bigint;
BEGIN
    <<scan>>
    LOOP
        chunk := inbox._social_list(user_id, scan, 'mastodon', below, CASE WHEN up THEN NULL ELSE after END,
                                    CASE WHEN up THEN after END)->'data';
        -- A chunk comes newest first: by min_id it is read oldest first.
        FOR r IN SELECT c.v FROM pg_catalog.jsonb_array_elements(chunk) WITH ORDINALITY AS c(v, o)
                  ORDER BY CASE WHEN up THEN -c.o ELSE c.o END LOOP
            -- A type grouped_types[] leaves out: each of its rows is a group of its own.
            key := CASE WHEN NOT engine ? 'grouped_types' OR engine->'grouped_types' ? (r->>'type')
                        THEN r->>'group_key' ELSE 'ungrouped-' || (r->>'id') END;
            IF NOT (key = ANY (keys)) THEN
                keys := keys || key;
                reps := reps || pg_catalog.jsonb_build_array(r || pg_catalog.jsonb_build_object('group_key', key));
                EXIT scan WHEN pg_catalog.cardinality(keys) = lim;
            END IF;
        END LOOP;
        EXIT WHEN pg_catalog.jsonb_array_length(chunk) < chunk_size;
        IF up THEN
            after := (chunk->0->>'id')::bigint;
        ELSE
            below := (chunk->-1->>'id')::bigint;
        END IF;
    END LOOP;
    IF up THEN
        reps := coalesce((SELECT pg_catalog.jsonb_agg(x.v ORDER BY x.o DESC)
                            FROM pg_catalog.jsonb_array_elements(reps) WITH ORDINALITY AS x(v, o)), '[]');
    END IF;
    complete := pg_catalog.cardinality(keys) = lim;
    lo := CASE WHEN complete OR up THEN (reps->-1->>'id')::bigint ELSE since_id + 1 END;
    hi := CASE WHEN complete OR NOT up THEN (reps->0->>'id')::bigint ELSE max_id - 1 END;
    RETURN pg_catalog.jsonb_build_object('reps', reps, 'lo', lo, 'hi', hi);
END
$$;

CREATE FUNCTION inbox._mastodon_page_groups(user_id text, engine jsonb, page jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    lo bigint := coalesce((page->>'lo')::bigint, 0);
    hi bigint := coalesce((page->>'hi')::bigint, 9223372036854775807);
    stamp timestamptz := pg_catalog.now();  -- read once (Citus refuses now() in the statement's COALESCE)
BEGIN
    RETURN coalesce((
        SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'group_key',                   u.rep_key,
                   'notifications_count',         s.notifications_count,
                   'type',                        r.v->'type',
                   'most_recent_notification_id', s.latest_id::text,
                   'page_min_id',                 s.first_id::text,
                   'page_max_id',                 s.latest_id::text,
                   'latest_page_notification_at', inbox.directus_time(s.latest_at),
                   'sample_account_ids',          coalesce(s.sample, s.own_actors),
                   'notification',                r.v) ORDER BY r.o)
          FROM pg_catalog.jsonb_array_elements(page->'reps') WITH ORDINALITY AS r(v, o)
               CROSS JOIN LATERAL (SELECT (r.v->>'id')::bigint AS rep_id, r.v->>'group_key' AS rep_key,
                                          r.v->>'group_key' = 'ungrouped-' || (r.v->>'id') AS alone) u
               CROSS JOIN LATERAL (
                   SELECT pg_catalog.count(*) AS notifications_count, pg_catalog.max(x.id) AS latest_id,
                          pg_catalog.min(x.id) FILTER (WHERE x.id >= lo) AS first_id,
                          (pg_catalog.array_agg(x.created_at) FILTER (WHERE x.rank = 1))[1] AS latest_at,
                          -- A row of its own: its actors; a group: up to 8 distinct, newest first.
                          pg_catalog.to_jsonb(pg_catalog.jsonb_agg(x.actors) FILTER (WHERE x.rank = 1)->0) AS own_actors,
                          CASE WHEN NOT u.alone
                               THEN pg_catalog.to_jsonb(inbox._sample_actors(coalesce(pg_catalog.jsonb_agg(x.actors ORDER BY x.id DESC) FILTER (WHERE x.rank <= 8), '[]'))) END AS sample
                     FROM (SELECT y.*, pg_catalog.row_number() OVER (ORDER BY y.id DESC) AS rank
                             FROM (SELECT n.id, n.created_at, inbox._actors(ROW(n.*)::inbox.notifications) AS actors
                                     FROM inbox.notifications n
                                    WHERE u.alone AND n.user_id = _mastodon_page_groups.user_id AND n.id = u.rep_id
                                   UNION ALL
                                   SELECT n.id, n.created_at, inbox._actors(ROW(n.*)::inbox.notifications)
                                     FROM inbox.notifications n
                                    WHERE NOT u.alone AND n.user_id = _mastodon_page_groups.user_id
                                      AND n.group_key = u.rep_key AND n.deleted_at IS NULL AND n.id <= hi
                                      AND (n.expires_at IS NULL OR n.expires_at > stamp)
                                      AND (NOT engine ? 'types' OR engine->'types' ? n.type)
                                      AND (NOT engine ? 'exclude_types' OR NOT engine->'exclude_types' ? n.type)
                                      AND (NOT engine ? 'grouped_types' OR engine->'grouped_types' ? n.type)
                                      AND (NOT engine ? 'filter' OR n.actor_id = engine->'filter'->>'actorId')
                                      AND (NOT engine ? 'workspace_id' OR n.workspace_id = engine->>'workspace_id')) y) x) s), '[]');
END
$$;

CREATE OR REPLACE FUNCTION inbox.mastodon_groups(token text, query jsonb, origin text,
                                      OUT body jsonb, OUT link text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    params jsonb := coalesce(query, '{}');
    engine jsonb := inbox._mastodon_engine_params(caller, params, inbox._mastodon_limit(params, 40, 80)) - 'total';
    max_id bigint := inbox._mastodon_id_param(params, 'max_id');
    since_id bigint := inbox._mastodon_id_param(params, 'since_id');
    min_id bigint := inbox._mastodon_id_param(params, 'min_id');
    page jsonb;
    newest text;
    oldest text;
BEGIN
    -- grouped_types[]: the types that group; a row of any other type is ungrouped-{id}. Left
    -- out, every type groups by its groupKey.
    IF params ? 'grouped_types' THEN
        engine := engine || pg_catalog.jsonb_build_object('grouped_types', inbox._mastodon_types(params, 'grouped_types'));
    END IF;
    IF params ? 'expand_accounts' AND params->>'expand_accounts' NOT IN ('full', 'partial_avatars') THEN
        RAISE EXCEPTION 'expand_accounts: expected full or partial_avatars, got %', pg_catalog.quote_literal(params->>'expand_accounts')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    page := inbox._mastodon_group_page(caller.user_id, engine || '{"total": false}', max_id, since_id, min_id);
    body := inbox._mastodon_grouped(inbox._mastodon_page_groups(caller.user_id, engine, page));
    -- The Link from the ends of the page's range: next continues below its oldest row, prev
    -- above its newest. On a full page these are Mastodon's (the oldest and the newest
    -- representative); on a page with fewer groups than `limit` the range reaches past the
    -- oldest representative, and Mastodon's next would show that range's older rows again.
    SELECT pg_catalog.max((g->>'page_max_id')::bigint)::text, pg_catalog.min((g->>'page_min_id')::bigint)::text
      INTO newest, oldest
      FROM pg_catalog.jsonb_array_elements(body->'notification_groups') AS g;
    link := inbox._mastodon_link(origin, '/api/v2/notifications', params,
                                 ARRAY['account_id', 'exclude_types', 'expand_accounts', 'grouped_types', 'limit', 'types'],
                                 newest, oldest);
END
$$;

COMMENT ON FUNCTION inbox.mastodon_groups(text, jsonb, text) IS
    'GET /api/v2/notifications: the caller''s notification groups as Mastodon pages them (an id range read newest first until limit groups have begun; each group over that range) as its GroupedNotificationsResults {accounts, statuses, notification_groups}, and the Link header.';

CREATE OR REPLACE FUNCTION inbox.mastodon_group(token text, group_key text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    narrow jsonb := inbox._mastodon_group_filter(caller, group_key);
    g jsonb;
    latest inbox.notifications;
BEGIN
    -- The group's summary (inbox.groups), its most recent notification the representative.
    g := inbox._social_groups(caller.user_id, narrow || pg_catalog.jsonb_build_object('limit', 1, 'total', false)
                                              || coalesce(pg_catalog.jsonb_build_object('workspace_id', caller.workspace_id), '{}'))->'data'->0;
    latest := inbox._social_row(caller, inbox.internal_id(g->>'mostRecentNotificationId'), group_key);
    RETURN inbox._mastodon_grouped(pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
        'group_key',                   inbox._mastodon_group_key(g->>'groupKey'),
        'notifications_count',         g->'notificationsCount',
        'type',                        g->'type',
        'most_recent_notification_id', latest.id::text,
        'page_min_id',                 latest.id::text,
        'page_max_id',                 latest.id::text,
        'latest_page_notification_at', inbox.directus_time((g->>'latestAt')::timestamptz),
        'sample_account_ids',          g->'sampleActorIds',
        'notification',                inbox.mastodon_json(latest))));
END
$$;

COMMENT ON FUNCTION inbox.mastodon_group(text, text) IS
    'GET /api/v2/notifications/:group_key: one group as {accounts, statuses, notification_groups: [group]}.';

-- ---------------------------------------------------------------------------------------------
-- Issue 16, the v2 page's cost bounded by what it shows (65_mastodon.sql): each group's 8 most
-- recent rows a LIMIT 8 read of notifications_group_id_idx, page_min_id from the page's scan,
-- notifications_count from the group summary where no filter applies.
-- ---------------------------------------------------------------------------------------------
CREATE INDEX notifications_group_id_idx ON inbox.notifications
    (user_id, group_key, id DESC) WHERE deleted_at IS NULL AND group_key IS NOT NULL;

CREATE OR REPLACE FUNCTION inbox._mastodon_group_page(user_id text, engine jsonb, max_id bigint, since_id bigint,
                                           min_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    lim integer := (engine->>'limit')::integer;
    up boolean := min_id IS NOT NULL;
    -- Rows per seek. Not more: at LIMIT 81 the planner can take the engine's id-ordered read
    -- of a user with many rows over the cross-user notifications_id_idx (seen on the bench's
    -- heavy user: 108 ms, against 2 ms on the primary key).
    chunk_size integer := greatest(lim, 40);
    scan jsonb := (engine - 'grouped_types') || pg_catalog.jsonb_build_object('limit', chunk_size);
    below bigint := max_id;
    after bigint := CASE WHEN up THEN min_id ELSE since_id END;
    keys text[] := '{}';
    reps jsonb := '[]';
    firsts jsonb := '{}';
    key text;
    chunk jsonb;
    r jsonb;
    complete boolean;
    lo bigint;
    hi bigint;
BEGIN
    <<scan>>
    LOOP
        chunk := inbox._social_list(user_id, scan, 'mastodon', below, CASE WHEN up THEN NULL ELSE after END,
                                    CASE WHEN up THEN after END)->'data';
        -- A chunk comes newest first: by min_id it is read oldest first.
        FOR r IN SELECT c.v FROM pg_catalog.jsonb_array_elements(chunk) WITH ORDINALITY AS c(v, o)
                  ORDER BY CASE WHEN up THEN -c.o ELSE c.o END LOOP
            -- A type grouped_types[] leaves out: each of its rows is a group of its own.
            key := CASE WHEN NOT engine ? 'grouped_types' OR engine->'grouped_types' ? (r->>'type')
                        THEN r->>'group_key' ELSE 'ungrouped-' || (r->>'id') END;
            -- Each group's oldest row in the range (its page_min_id): newest first, the last
            -- one met; by min_id the first.
            IF NOT up OR NOT (key = ANY (keys)) THEN
                firsts := firsts || pg_catalog.jsonb_build_object(key, r->>'id');
            END IF;
            IF NOT (key = ANY (keys)) THEN
                keys := keys || key;
                reps := reps || pg_catalog.jsonb_build_array(r || pg_catalog.jsonb_build_object('group_key', key));
                EXIT scan WHEN pg_catalog.cardinality(keys) = lim;
            END IF;
        END LOOP;
        EXIT WHEN pg_catalog.jsonb_array_length(chunk) < chunk_size;
        IF up THEN
            after := (chunk->0->>'id')::bigint;
        ELSE
            below := (chunk->-1->>'id')::bigint;
        END IF;
    END LOOP;
    IF up THEN
        reps := coalesce((SELECT pg_catalog.jsonb_agg(x.v ORDER BY x.o DESC)
                            FROM pg_catalog.jsonb_array_elements(reps) WITH ORDINALITY AS x(v, o)), '[]');
    END IF;
    complete := pg_catalog.cardinality(keys) = lim;
    lo := CASE WHEN complete OR up THEN (reps->-1->>'id')::bigint ELSE since_id + 1 END;
    hi := CASE WHEN complete OR NOT up THEN (reps->0->>'id')::bigint ELSE max_id - 1 END;
    RETURN pg_catalog.jsonb_build_object('reps', reps, 'lo', lo, 'hi', hi, 'first_ids', firsts);
END
$$;

CREATE OR REPLACE FUNCTION inbox._mastodon_page_groups(user_id text, engine jsonb, page jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    hi bigint := coalesce((page->>'hi')::bigint, 9223372036854775807);
    stamp timestamptz := pg_catalog.now();  -- read once (Citus refuses now() in the statement's COALESCE)
    -- Every row of the group is one the request matches: its summary counts them.
    unfiltered boolean := NOT engine ?| ARRAY['types', 'exclude_types', 'grouped_types', 'filter', 'workspace_id'];
    -- The user's expired rows not pruned yet, by group: one read of notifications_expires_idx
    -- for the page (a count of them group by group would read each group in a generic plan).
    expired jsonb := '{}';
BEGIN
    IF unfiltered THEN
        SELECT coalesce(pg_catalog.jsonb_object_agg(e.group_key, e.rows), '{}') INTO expired
          FROM (SELECT n.group_key, pg_catalog.count(*) AS rows FROM inbox.notifications n
                 WHERE n.user_id = _mastodon_page_groups.user_id AND n.expires_at <= stamp
                   AND n.deleted_at IS NULL AND n.group_key IS NOT NULL
                 GROUP BY n.group_key) e;
    END IF;
    RETURN coalesce((
        SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'group_key',                   u.rep_key,
                   'notifications_count',         c.notifications_count,
                   'type',                        r.v->'type',
                   'most_recent_notification_id', s.latest_id::text,
                   'page_min_id',                 page->'first_ids'->>u.rep_key,
                   'page_max_id',                 s.latest_id::text,
                   'latest_page_notification_at', inbox.directus_time(s.latest_at),
                   'sample_account_ids',          CASE WHEN u.alone THEN s.actors->0
                                                       ELSE pg_catalog.to_jsonb(inbox._sample_actors(s.actors)) END,
                   'notification',                r.v) ORDER BY r.o)
          FROM pg_catalog.jsonb_array_elements(page->'reps') WITH ORDINALITY AS r(v, o)
               CROSS JOIN LATERAL (SELECT (r.v->>'id')::bigint AS rep_id, r.v->>'group_key' AS rep_key,
                                          r.v->>'group_key' = 'ungrouped-' || (r.v->>'id') AS alone) u
               -- The group's (or the row's) most recent matching rows up to the top, newest first.
               CROSS JOIN LATERAL (
                   SELECT pg_catalog.count(*) AS found, pg_catalog.max(x.id) AS latest_id,
                          (pg_catalog.array_agg(x.created_at ORDER BY x.id DESC))[1] AS latest_at,
                          coalesce(pg_catalog.jsonb_agg(x.actors ORDER BY x.id DESC), '[]') AS actors
                     FROM (SELECT n.id, n.created_at, pg_catalog.to_jsonb(inbox._actors(ROW(n.*)::inbox.notifications)) AS actors
                             FROM inbox.notifications n
                            WHERE u.alone AND n.user_id = _mastodon_page_groups.user_id AND n.id = u.rep_id
                           UNION ALL
                           (SELECT n.id, n.created_at, pg_catalog.to_jsonb(inbox._actors(ROW(n.*)::inbox.notifications))
                              FROM inbox.notifications n
                             WHERE NOT u.alone AND n.user_id = _mastodon_page_groups.user_id
                               AND n.group_key = u.rep_key AND n.deleted_at IS NULL AND n.id <= hi
                               AND (n.expires_at IS NULL OR n.expires_at > stamp)
                               AND (NOT engine ? 'types' OR engine->'types' ? n.type)
                               AND (NOT engine ? 'exclude_types' OR NOT engine->'exclude_types' ? n.type)
                               AND (NOT engine ? 'grouped_types' OR engine->'grouped_types' ? n.type)
                               AND (NOT engine ? 'filter' OR n.actor_id = engine->'filter'->>'actorId')
                               AND (NOT engine ? 'workspace_id' OR n.workspace_id = engine->>'workspace_id')
                             ORDER BY n.id DESC
                             LIMIT 8)) x) s
               CROSS JOIN LATERAL (
                   SELECT CASE WHEN u.alone THEN s.found
                               -- The summary less what the request does not count; without one,
                               -- or with a filter, the matching rows up to the top are counted.
                               ELSE coalesce(
                                   CASE WHEN unfiltered THEN
                                       (SELECT g.notifications_count FROM inbox.notification_groups g
                                         WHERE g.user_id = _mastodon_page_groups.user_id AND g.group_key = u.rep_key)
                                       - (SELECT pg_catalog.count(*) FROM inbox.notifications n
                                           WHERE n.user_id = _mastodon_page_groups.user_id AND n.group_key = u.rep_key
                                             AND n.deleted_at IS NULL AND n.id > hi
                                             AND (n.expires_at IS NULL OR n.expires_at > stamp))
                                       - coalesce((expired->>u.rep_key)::bigint, 0)
                                   END,
                                   (SELECT pg_catalog.count(*) FROM inbox.notifications n
                                     WHERE n.user_id = _mastodon_page_groups.user_id
                                       AND n.group_key = u.rep_key AND n.deleted_at IS NULL AND n.id <= hi
                                       AND (n.expires_at IS NULL OR n.expires_at > stamp)
                                       AND (NOT engine ? 'types' OR engine->'types' ? n.type)
                                       AND (NOT engine ? 'exclude_types' OR NOT engine->'exclude_types' ? n.type)
                                       AND (NOT engine ? 'grouped_types' OR engine->'grouped_types' ? n.type)
                                       AND (NOT engine ? 'filter' OR n.actor_id = engine->'filter'->>'actorId')
                                       AND (NOT engine ? 'workspace_id' OR n.workspace_id = engine->>'workspace_id')))
                          END AS notifications_count) c), '[]');
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Issue 15, in_app off (20_api, 25_aggregation, 50_rest, 60_directus): a recipient who turned
-- in_app off for the type gets nothing stored; inbox._create returns a hole in their place and
-- the create APIs say who was skipped (inbox._created_json, inbox._rest_created, Directus's
-- meta.skipped). Regenerated from the merged install files (after the lifecycle: expiry checked in the creates).
-- ---------------------------------------------------------------------------------------------
-- What the create APIs answer for a row of inbox._create: the notification, or for a hole
-- (a recipient who turned in_app off: 55_delivery.sql) {"userId": ..., "skipped": "in_app"}.
CREATE OR REPLACE FUNCTION inbox._created_json(n inbox.notifications)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN n.id IS NULL THEN pg_catalog.jsonb_build_object('userId', n.user_id, 'skipped', 'in_app')
                ELSE inbox.to_json(n) END
$$;

-- The one way rows are created: type check, then one bulk insert, or one by one in input
-- order when some of them aggregate. Returns the rows in input order. `path` names the input
-- in errors; with `indexed`, objects are its elements (notifications[3].type), otherwise
-- every object is that one input (template.type). A recipient who turned in_app off for the
-- type gets nothing stored (inbox._skip_in_app, 55_delivery.sql): a hole, a row with only its
-- user_id (id NULL), stands in its place.
CREATE OR REPLACE FUNCTION inbox._create(user_ids text[], objects jsonb[], path text, indexed boolean)
RETURNS SETOF inbox.notifications
LANGUAGE plpgsql
AS $$
DECLARE
    one_path text;
    skip boolean[];
    made inbox.notifications[];
    hole inbox.notifications;
    kept integer := 0;
BEGIN
    -- Without `indexed` every object is the same input (a fan-out's template, 10,000 times):
    -- checking the first one is checking them all.
    PERFORM inbox._check_types(CASE WHEN indexed THEN objects ELSE objects[1:1] END, path, indexed);
    PERFORM inbox._check_expiry(CASE WHEN indexed THEN objects ELSE objects[1:1] END, path, indexed);
    skip := inbox._skip_in_app(user_ids, objects, indexed);
    IF NOT EXISTS (SELECT FROM (SELECT DISTINCT o
                                  FROM pg_catalog.unnest(CASE WHEN indexed THEN objects ELSE objects[1:1] END) AS o) AS d
                    WHERE inbox._wants_aggregate(d.o)) THEN
        -- Identity values follow the insert order.
        IF skip IS NULL THEN
            RETURN QUERY SELECT * FROM inbox._insert(user_ids, objects) AS n ORDER BY n.id;
            RETURN;
        END IF;
        made := ARRAY(SELECT ROW(n.*)::inbox.notifications
                        FROM inbox._insert(
                                 ARRAY(SELECT x.u FROM ROWS FROM (pg_catalog.unnest(user_ids), pg_catalog.unnest(skip))
                                                       WITH ORDINALITY AS x(u, s, k)
                                        WHERE NOT x.s ORDER BY x.k),
                                 ARRAY(SELECT x.o FROM ROWS FROM (pg_catalog.unnest(objects), pg_catalog.unnest(skip))
                                                       WITH ORDINALITY AS x(o, s, k)
                                        WHERE NOT x.s ORDER BY x.k)) AS n
                       ORDER BY n.id);
        FOR i IN 1 .. pg_catalog.cardinality(objects) LOOP
            IF skip[i] THEN
                hole.user_id := user_ids[i];
                RETURN NEXT hole;
            ELSE
                kept := kept + 1;
                RETURN NEXT made[kept];
            END IF;
        END LOOP;
        RETURN;
    END IF;
    FOR i IN 1 .. pg_catalog.cardinality(objects) LOOP
        one_path := CASE WHEN indexed THEN path || '[' || (i - 1) || ']' ELSE path END;
        IF skip[i] THEN
            hole.user_id := user_ids[i];
            RETURN NEXT hole;
        ELSIF inbox._wants_aggregate(objects[i]) THEN
            RETURN NEXT inbox._aggregate(user_ids[i], objects[i], one_path);
        ELSE
            RETURN QUERY SELECT * FROM inbox._insert(ARRAY[user_ids[i]], ARRAY[objects[i]]);
        END IF;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION inbox.create(user_id text, notification jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    created inbox.notifications;
BEGIN
    PERFORM inbox._check_fields(notification, 'create', '');
    IF notification ? 'userId' AND notification->>'userId' IS DISTINCT FROM user_id THEN
        RAISE EXCEPTION 'userId: does not match the user_id argument'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO created FROM inbox._create(ARRAY[user_id], ARRAY[notification], '', false);
    RETURN inbox._created_json(created);
END
$$;

CREATE OR REPLACE FUNCTION inbox.create_many(notifications jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    i int := 0;
    element jsonb;
BEGIN
    IF notifications IS NULL OR pg_catalog.jsonb_typeof(notifications) <> 'array' THEN
        RAISE EXCEPTION 'notifications: expected a JSON array of notification objects'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.jsonb_array_length(notifications) = 0 THEN
        RAISE EXCEPTION 'notifications: expected at least one notification'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR element IN SELECT e FROM pg_catalog.jsonb_array_elements(notifications) AS e LOOP
        PERFORM inbox._check_fields(element, 'create', 'notifications[' || i || ']');
        IF pg_catalog.jsonb_typeof(element->'userId') IS DISTINCT FROM 'string' THEN
            RAISE EXCEPTION 'notifications[%].userId: required', i
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
        i := i + 1;
    END LOOP;
    -- A function scan yields inbox._create's rows in input order.
    RETURN (SELECT pg_catalog.jsonb_agg(inbox._created_json(n))
              FROM inbox._create(
                   ARRAY(SELECT e->>'userId' FROM pg_catalog.jsonb_array_elements(notifications) AS e),
                   ARRAY(SELECT e FROM pg_catalog.jsonb_array_elements(notifications) AS e),
                   'notifications', true) AS n);
END
$$;

CREATE OR REPLACE FUNCTION inbox.fan_out(user_ids text[], template jsonb)
RETURNS jsonb
LANGUAGE sql
AS $$
    -- A function scan yields the rows in the order inbox._fan_out returned them.
    SELECT pg_catalog.jsonb_agg(inbox._created_json(n)) FROM inbox._fan_out(user_ids, template) AS n
$$;

-- The same fan-out for callers that do not read the rows back: building and sending one JSON
-- object per recipient costs about a third of a 10,000-recipient fan-out (bench/README.md).
CREATE OR REPLACE FUNCTION inbox.fan_out_count(user_ids text[], template jsonb)
RETURNS bigint
LANGUAGE sql
AS $$
    SELECT count(n.id) FROM inbox._fan_out(user_ids, template) AS n
$$;

-- The answer to an array or fan-out create: {"data": [the notifications]}, and when some
-- recipients had in_app off (nothing stored for them, 55_delivery.sql), "skipped": [their userIds].
CREATE OR REPLACE FUNCTION inbox._rest_created(created jsonb)
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
CREATE OR REPLACE FUNCTION inbox._rest_create(caller inbox.caller, body jsonb)
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
    skipped json;
    read_query jsonb;
    answer json;
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
         WHERE i.item->>'status' = 'archived' AND NOT c.row ? 'skipped'
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
    read_query := (SELECT pg_catalog.jsonb_object_agg(q.key, q.value)
                     FROM pg_catalog.jsonb_each(query) AS q
                    WHERE q.key OPERATOR(pg_catalog.<>) 'meta' AND NOT pg_catalog.starts_with(q.key, 'meta['));
    -- Recipients who turned in_app off get nothing stored (55_delivery.sql): the answer holds
    -- the items created ("data": null when the one item was not) and names the others in
    -- meta.skipped, a key Directus's own answer never has.
    skipped := (SELECT pg_catalog.json_agg(c.row->'userId' ORDER BY c.o)
                  FROM pg_catalog.jsonb_array_elements(created) WITH ORDINALITY AS c(row, o)
                 WHERE c.row ? 'skipped');
    IF skipped IS NOT NULL AND NOT many THEN
        RETURN pg_catalog.json_build_object('data', NULL, 'meta', pg_catalog.json_build_object('skipped', skipped));
    END IF;
    answer := inbox._directus_read(recipient, NULL, caller.user_id, read_query,
                                   ARRAY(SELECT inbox.internal_id(c.row->>'id')
                                           FROM pg_catalog.jsonb_array_elements(created) WITH ORDINALITY AS c(row, o)
                                          WHERE NOT c.row ? 'skipped'
                                          ORDER BY c.o),
                                   NOT many);
    IF skipped IS NULL THEN
        RETURN answer;
    END IF;
    RETURN pg_catalog.json_build_object('data', answer->'data', 'meta', pg_catalog.json_build_object('skipped', skipped));
END
$$;



-- ---------------------------------------------------------------------------------------------
-- Issue 15, h-deliv3 (45_feed, 50_rest, 55_delivery): the delivery trigger without SET
-- enable_seqscan (each event's notification a key probe, inbox._notification_at; the marks of
-- the webhook bodies read once per user, so the 4-argument inbox._event_data goes), the
-- in_app and e-mail preference checks answered by one probe when no recipient turned the
-- channel off (inbox._channel_maybe_off), and the status of a create that stored nothing
-- (inbox._rest_created_status: 200). The same text as those files.
-- ---------------------------------------------------------------------------------------------
DROP FUNCTION inbox._event_data(text, bigint, jsonb, inbox.notifications);

-- Whether `channel` may be off for any of these users and types (types NULL: any type): one of
-- them turned it off for something, or a type leaves it out of its defaults. false answers for
-- every recipient at once and is the common case (nothing configured): one probe of the
-- preferences' key per recipient and one look at the small type registry, whatever the
-- statistics say (an index probe or one pass over the preferences with the recipients hashed:
-- never a scan per recipient). (One recipient: a statement on its shard alone, on Citus.)
CREATE OR REPLACE FUNCTION inbox._channel_maybe_off(channel text, user_ids text[], types text[])
RETURNS boolean
LANGUAGE plpgsql STABLE
SET citus.multi_task_query_log_level = off
AS $$
BEGIN
    IF EXISTS (SELECT FROM inbox.notification_types t
                WHERE NOT t.critical AND NOT _channel_maybe_off.channel = ANY (t.channels)
                  AND (types IS NULL OR t.name = ANY (types))) THEN
        RETURN true;
    END IF;
    -- (A statement of its own, not an EXISTS subquery: Citus plans a subquery over several
    -- shards as an intermediate result, which it cannot read back without columns.)
    IF pg_catalog.cardinality(user_ids) = 1 THEN
        PERFORM 1 FROM inbox.preferences p
          WHERE p.user_id = user_ids[1] AND p.channel = _channel_maybe_off.channel AND NOT p.enabled
          LIMIT 1;
    ELSE
        PERFORM 1 FROM inbox.preferences p
          WHERE p.user_id = ANY (user_ids) AND p.channel = _channel_maybe_off.channel AND NOT p.enabled
          LIMIT 1;
    END IF;
    RETURN FOUND;
END
$$;

-- The same question for many recipients at once, set-based (a fan-out asks it for every
-- recipient): per position of (user_ids, types), whether `channel` is OFF for that user and type.
-- NULL when it is on for everyone (inbox._channel_maybe_off says so without looking at each
-- recipient). (On Citus, several recipients' preferences are one read of their shards, by
-- design, as the create that asks inserts into them: one recipient's, one shard.)
CREATE OR REPLACE FUNCTION inbox._channel_off(channel text, user_ids text[], types text[])
RETURNS boolean[]
LANGUAGE plpgsql STABLE
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    one text := CASE WHEN pg_catalog.cardinality(user_ids) = 1 THEN user_ids[1] END;
    -- The choices of these users for the channel, by user and type (a look-up, not a join:
    -- the planner cannot size the arrays, and a nested loop over two of them is quadratic).
    chosen jsonb;
BEGIN
    IF NOT inbox._channel_maybe_off(channel, user_ids, types) THEN
        RETURN NULL;
    END IF;
    IF one IS NOT NULL THEN
        chosen := (SELECT pg_catalog.jsonb_object_agg(p.user_id || E'\n' || p.type, p.enabled) FROM inbox.preferences p
                    WHERE p.user_id = one AND p.channel = _channel_off.channel);
    ELSE
        chosen := (SELECT pg_catalog.jsonb_object_agg(p.user_id || E'\n' || p.type, p.enabled) FROM inbox.preferences p
                    WHERE p.user_id = ANY (user_ids) AND p.channel = _channel_off.channel);
    END IF;
    -- The type's own row wins over *, * over the type's defaults (every channel for an
    -- unregistered type); a critical type is always on.
    RETURN ARRAY(
        SELECT NOT coalesce(t.critical, false)
               AND NOT coalesce((chosen->>(u.user_id || E'\n' || u.type))::boolean,
                                (chosen->>(u.user_id || E'\n*'))::boolean,
                                t.name IS NULL OR _channel_off.channel = ANY (t.channels))
          FROM ROWS FROM (pg_catalog.unnest(user_ids), pg_catalog.unnest(types)) WITH ORDINALITY AS u(user_id, type, ord)
          LEFT JOIN inbox.notification_types t ON t.name = u.type
         ORDER BY u.ord);
END
$$;

-- in_app off: a create stores nothing for that person (inbox._create calls this first). Per
-- position of (user_ids, objects), whether the recipient is skipped; NULL when no one is (the
-- common case, answered cheaply by inbox._channel_off). A skipped recipient whose e-mail is on
-- still gets the e-mail: queued here, in the transaction of the create, since no row and so
-- no notification.created event will queue it.
CREATE OR REPLACE FUNCTION inbox._skip_in_app(user_ids text[], objects jsonb[], indexed boolean)
RETURNS boolean[]
LANGUAGE plpgsql
AS $$
DECLARE
    types text[];
    skip boolean[];
BEGIN
    -- What every create pays: one probe, before the types of the input are even listed.
    IF NOT inbox._channel_maybe_off('in_app', user_ids, NULL) THEN
        RETURN NULL;
    END IF;
    types := CASE WHEN indexed
                  THEN ARRAY(SELECT coalesce(x.o->>'type', 'info')
                               FROM pg_catalog.unnest(objects) WITH ORDINALITY AS x(o, k) ORDER BY x.k)
                  ELSE pg_catalog.array_fill(coalesce(objects[1]->>'type', 'info'),
                                             ARRAY[pg_catalog.cardinality(user_ids)]) END;
    skip := inbox._channel_off('in_app', user_ids, types);
    IF skip IS NULL OR NOT true = ANY (skip) THEN
        RETURN NULL;
    END IF;
    IF inbox._setting('pg_inbox.email_column', '') <> '' THEN
        PERFORM inbox._queue_email(
            ARRAY(SELECT x.u FROM ROWS FROM (pg_catalog.unnest(user_ids), pg_catalog.unnest(skip)) WITH ORDINALITY AS x(u, s, k)
                   WHERE x.s ORDER BY x.k),
            ARRAY(SELECT x.t FROM ROWS FROM (pg_catalog.unnest(types), pg_catalog.unnest(skip)) WITH ORDINALITY AS x(t, s, k)
                   WHERE x.s ORDER BY x.k),
            NULL,
            ARRAY(SELECT x.o FROM ROWS FROM (pg_catalog.unnest(objects), pg_catalog.unnest(skip)) WITH ORDINALITY AS x(o, s, k)
                   WHERE x.s ORDER BY x.k));
    END IF;
    RETURN skip;
END
$$;

-- A notification by its key, or NULL: one probe of the primary key, for each event the delivery
-- trigger needs the row of (a join of the events with inbox.notifications in the trigger's own
-- statement, planned once for the session while the inbox was small, kept a nested loop that
-- scanned the table whole for every event of a later fan-out: quadratic, 73 s instead of 2 s
-- for 10,000 recipients, which SET enable_seqscan = off on the trigger only hid). `planned`:
-- the probe is planned at this call, with the table as it is now; otherwise its plan is cached
-- for the session, which is what a statement of one event wants (nothing to plan), and all it
-- risks is one read of a small table's pages, until the next ANALYZE replans it. A statement
-- of many events asks for `planned` probes: a plan cached while the inbox was nearly empty
-- could read the whole table for each of them.
CREATE OR REPLACE FUNCTION inbox._notification_at(user_id text, id bigint, planned boolean)
RETURNS inbox.notifications
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    found inbox.notifications;
BEGIN
    IF planned THEN
        EXECUTE 'SELECT n.* FROM inbox.notifications n WHERE n.user_id = $1 AND n.id = $2'
           INTO found USING user_id, id;
    ELSE
        SELECT n.* INTO found FROM inbox.notifications n
         WHERE n.user_id = _notification_at.user_id AND n.id = _notification_at.id;
    END IF;
    RETURN found;
END
$$;

-- Queues the deliveries of the events the statement inserted (transition table new_events):
-- an e-mail per created notification whose type and recipient want one (or a place in the
-- open digest of its type), and a webhook call per event and endpoint that asks for it. One
-- static statement (its plan cached for the session) after two cheap probes, which are all
-- when nothing is configured. No statement here joins inbox.notifications: each event that
-- needs its row gets it by a key probe (inbox._notification_at), once for both channels, and
-- the marks the webhook bodies are shaped with are read once per user (inbox._user_marks),
-- matched to the events by a FULL join, which PostgreSQL runs as a hash or merge join, never
-- as a loop over one side for each row of the other.
CREATE OR REPLACE FUNCTION inbox._deliveries_after_events() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    -- E-mail, sent when a notification is created (never on an update: Directus's rule).
    email boolean := inbox._setting('pg_inbox.email_column', '') <> '';
    hooks boolean := EXISTS (SELECT FROM inbox.webhooks w WHERE w.enabled);
    many boolean;
    at text;
    mailed integer;
BEGIN
    IF NOT email AND NOT hooks THEN
        RETURN NULL;
    END IF;
    at := inbox.iso_time(pg_catalog.now());
    many := EXISTS (SELECT FROM new_events e OFFSET 1);
    WITH found AS MATERIALIZED (
        -- The events that call for a delivery, each with its notification's row.
        SELECT x.*, CASE WHEN x.notification_id IS NOT NULL
                         THEN inbox._notification_at(x.user_id, x.notification_id, many) END AS n
          FROM (SELECT e.id, e.user_id, e.event, e.notification_id, e.workspace_id, coalesce(e.data, '{}') AS data,
                       email AND e.event = 'notification.created' AS mailed,
                       hooks AND EXISTS (SELECT FROM inbox.webhooks w
                                          WHERE w.enabled AND e.event = ANY (w.events)
                                            AND (w.user_id IS NULL OR w.user_id = e.user_id)
                                            AND (w.workspace_id IS NULL OR w.workspace_id = e.workspace_id)) AS hooked
                  FROM new_events e) AS x
         WHERE x.mailed OR x.hooked),
    mail AS (
        SELECT inbox._queue_email(pg_catalog.array_agg(f.user_id ORDER BY f.id), pg_catalog.array_agg((f.n).type ORDER BY f.id),
                                  pg_catalog.array_agg(f.notification_id ORDER BY f.id), NULL)
          FROM found f
         WHERE f.mailed AND (f.n).id IS NOT NULL
        HAVING pg_catalog.count(*) > 0),
    marks AS MATERIALIZED (
        SELECT u.user_id, m.read_marks, m.seen
          FROM (SELECT DISTINCT f.user_id FROM found f WHERE f.hooked) AS u
         CROSS JOIN LATERAL inbox._user_marks(u.user_id) AS m),
    shaped AS MATERIALIZED (
        -- The event's data as the streams get it (45_feed.sql), always naming the user. (Every
        -- event has its user's marks: FULL only rules out a nested loop.)
        SELECT f.user_id, f.event, f.notification_id, f.workspace_id, (f.n).type AS type,
               inbox._event_data(f.event, f.notification_id, f.data, f.n, m.read_marks, m.seen)
               || pg_catalog.jsonb_build_object('userId', f.user_id) AS data
          FROM (SELECT * FROM found WHERE hooked) AS f FULL JOIN marks m ON m.user_id = f.user_id),
    -- Webhooks: the body as the event happened (Standard Webhooks: type, timestamp, data).
    called AS (
        INSERT INTO inbox.deliveries (user_id, channel, webhook_id, event, type, notification_ids, payload)
        SELECT s.user_id, 'webhook', w.id, s.event, s.type,
               CASE WHEN s.notification_id IS NULL THEN '{}'::bigint[] ELSE ARRAY[s.notification_id] END,
               pg_catalog.jsonb_build_object('type', s.event, 'timestamp', at, 'data', s.data)
          FROM shaped s
          JOIN inbox.webhooks w ON w.enabled AND s.event = ANY (w.events)
                               AND (w.user_id IS NULL OR w.user_id = s.user_id)
                               AND (w.workspace_id IS NULL OR w.workspace_id = s.workspace_id)
         -- (A summary is of no one type: an endpoint that asked for its event gets it.)
         WHERE w.types IS NULL OR s.notification_id IS NULL OR s.type = ANY (w.types))
    SELECT pg_catalog.count(*) INTO mailed FROM mail;
    RETURN NULL;
END
$$;

-- The HTTP status of a create's answer (POST /api/notifications): 201, or 200 when it stored
-- nothing because every recipient had in_app off ({"userId", "skipped"} for one object,
-- {"data": [], "skipped": [...]} for an array or a fan-out).
CREATE OR REPLACE FUNCTION inbox._rest_created_status(answer jsonb)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN answer ? 'skipped' AND coalesce(answer->'data', '[]') = '[]' THEN 200 ELSE 201 END
$$;

-- ---------------------------------------------------------------------------------------------
-- Issue 15, h-dcreate (55_delivery): what a create pays for its queued e-mail and webhook. The
-- e-mail address look-up's statement kept planned for the session (inbox._email_lookup, C++),
-- the e-mails chosen by one SQL function planned into its callers (inbox._emails_wanted, in
-- place of inbox._queue_email), and the trigger's e-mails and webhook calls one INSERT. The
-- same text as that file.
-- ---------------------------------------------------------------------------------------------
-- The e-mail address of each user (per position; NULL for none): the first row of `target` whose
-- key column equals the user id (text or varchar keys through their index, others compared as
-- text). Its statement is built from quoted identifiers and its plan kept for the session, found
-- again by the statement's text (a changed setting or relation makes a new one). The caller
-- (inbox._email_addresses) checks the relation and both columns against the catalog first.
CREATE FUNCTION inbox._email_lookup(target regclass, key_column text, email_column text, user_ids text[])
RETURNS text[]
AS 'MODULE_PATHNAME', 'pgi_email_lookup'
LANGUAGE C STABLE STRICT;

-- The e-mail addresses of users (per position of user_ids; NULL for none), found through the
-- relation named recipient
-- (inbox.define_relation('recipient', 'userId', 'public.users', 'id')) and the column that
-- pg_inbox.email_column names; none when e-mail is not set up (with a warning when it is set up
-- wrongly: a set-up mistake never makes the change itself fail). The one dynamic statement of
-- the delivery triggers, and a small one: a look-up by key (an index scan when the key is text),
-- identifiers quoted after a catalog check, its plan kept (inbox._email_lookup).
CREATE OR REPLACE FUNCTION inbox._email_addresses(user_ids text[])
RETURNS text[]
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    email_column text := inbox._setting('pg_inbox.email_column', '');
    r inbox.relations;
    target regclass;
    key_type regtype;
BEGIN
    IF email_column = '' THEN
        RETURN NULL;
    END IF;
    SELECT * INTO r FROM inbox.relations x WHERE x.name = 'recipient';
    IF NOT FOUND THEN
        RAISE WARNING 'pg_inbox.email_column is set but no relation is named recipient: no e-mail is queued'
              USING HINT = 'SELECT inbox.define_relation(''recipient'', ''userId'', ''public.users'', ''id''); or RESET pg_inbox.email_column.';
        RETURN NULL;
    END IF;
    target := pg_catalog.to_regclass(pg_catalog.format('%I.%I', r.target_schema, r.target_table));
    SELECT a.atttypid::regtype INTO key_type FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = target AND a.attname = r.target_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF target IS NULL OR key_type IS NULL OR r.source_column <> 'user_id' OR NOT EXISTS (
        SELECT FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = target AND a.attname = email_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE WARNING 'pg_inbox.email_column: column % of the recipient relation''s table %.% does not exist: no e-mail is queued',
              email_column, r.target_schema, r.target_table
              USING DETAIL = 'The recipient relation must go from userId to the table that holds the address.';
        RETURN NULL;
    END IF;
    -- Per recipient, the first address found: a statement whose plan is kept for the session.
    RETURN inbox._email_lookup(target, r.target_column, email_column, user_ids);
END
$$;

-- The e-mails that created notifications call for, per position of the arrays: the recipient,
-- the type, and either the stored notification's id (its e-mail is built from the row when it
-- is sent) or, for a recipient who has in_app off and so has no row, the create object itself
-- (contents); with the recipient's address. A recipient whose e-mail is off for the type, or
-- who has no address, gets none. The callers queue them: the delivery trigger (a type with an
-- e-mail digest window joins the recipient's open digest of it) and inbox._skip_in_app (a
-- recipient without a row gets the e-mail on its own). One SELECT in SQL, so that it is planned
-- into the caller's statement; it reads no table itself (the functions it calls do), as Citus
-- wants of a SQL function with parameters.
CREATE FUNCTION inbox._emails_wanted(user_ids text[], types text[], notification_ids bigint[], contents jsonb[])
RETURNS TABLE (user_id text, type text, notification_id bigint, content jsonb, address text)
LANGUAGE sql STABLE
AS $$
    SELECT u.user_id, u.type, u.notification_id, u.content, u.address
      FROM ROWS FROM (pg_catalog.unnest(user_ids), pg_catalog.unnest(types),
                      pg_catalog.unnest(notification_ids), pg_catalog.unnest(contents),
                      pg_catalog.unnest(inbox._email_addresses(user_ids)),
                      -- (NULL when e-mail is on for everyone: no rows, so off is NULL)
                      pg_catalog.unnest(inbox._channel_off('email', user_ids, types)))
           AS u(user_id, type, notification_id, content, address, off)
     WHERE u.off IS NOT TRUE AND u.address <> ''
$$;

-- in_app off: a create stores nothing for that person (inbox._create calls this first). Per
-- position of (user_ids, objects), whether the recipient is skipped; NULL when no one is (the
-- common case, answered cheaply by inbox._channel_off). A skipped recipient whose e-mail is on
-- still gets the e-mail: queued here, in the transaction of the create, since no row and so
-- no notification.created event will queue it.
CREATE OR REPLACE FUNCTION inbox._skip_in_app(user_ids text[], objects jsonb[], indexed boolean)
RETURNS boolean[]
LANGUAGE plpgsql
AS $$
DECLARE
    types text[];
    skip boolean[];
BEGIN
    -- What every create pays: one probe, before the types of the input are even listed.
    IF NOT inbox._channel_maybe_off('in_app', user_ids, NULL) THEN
        RETURN NULL;
    END IF;
    types := CASE WHEN indexed
                  THEN ARRAY(SELECT coalesce(x.o->>'type', 'info')
                               FROM pg_catalog.unnest(objects) WITH ORDINALITY AS x(o, k) ORDER BY x.k)
                  ELSE pg_catalog.array_fill(coalesce(objects[1]->>'type', 'info'),
                                             ARRAY[pg_catalog.cardinality(user_ids)]) END;
    skip := inbox._channel_off('in_app', user_ids, types);
    IF skip IS NULL OR NOT true = ANY (skip) THEN
        RETURN NULL;
    END IF;
    IF inbox._setting('pg_inbox.email_column', '') <> '' THEN
        INSERT INTO inbox.deliveries (user_id, channel, address, event, type, payload)
        SELECT w.user_id, 'email', w.address, 'notification.created', w.type, w.content
          FROM inbox._emails_wanted(
                   ARRAY(SELECT x.u FROM ROWS FROM (pg_catalog.unnest(user_ids), pg_catalog.unnest(skip)) WITH ORDINALITY AS x(u, s, k)
                          WHERE x.s ORDER BY x.k),
                   ARRAY(SELECT x.t FROM ROWS FROM (pg_catalog.unnest(types), pg_catalog.unnest(skip)) WITH ORDINALITY AS x(t, s, k)
                          WHERE x.s ORDER BY x.k),
                   NULL,
                   ARRAY(SELECT x.o FROM ROWS FROM (pg_catalog.unnest(objects), pg_catalog.unnest(skip)) WITH ORDINALITY AS x(o, s, k)
                          WHERE x.s ORDER BY x.k)) AS w;
    END IF;
    RETURN skip;
END
$$;

-- Queues the deliveries of the events the statement inserted (transition table new_events):
-- an e-mail per created notification whose type and recipient want one (or a place in the
-- open digest of its type), and a webhook call per event and endpoint that asks for it. One
-- static statement (its plan cached for the session) after two cheap probes, which are all
-- when nothing is configured; the e-mails and the webhook calls are one INSERT (the digests,
-- which join an open row, another). No statement here joins inbox.notifications: each event
-- that needs its row gets it by a key probe (inbox._notification_at), once for both channels,
-- and the marks the webhook bodies are shaped with are read once per user (inbox._user_marks),
-- matched to the events by a FULL join, which PostgreSQL runs as a hash or merge join, never
-- as a loop over one side for each row of the other. A channel nobody wants costs nothing
-- more than its empty steps: no address look-up without an e-mail, no marks without a webhook.
CREATE OR REPLACE FUNCTION inbox._deliveries_after_events() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    -- E-mail, sent when a notification is created (never on an update: Directus's rule).
    email boolean := inbox._setting('pg_inbox.email_column', '') <> '';
    hooks boolean := EXISTS (SELECT FROM inbox.webhooks w WHERE w.enabled);
    many boolean;
    at text;
    queued bigint;  -- (the rows the statement inserted; unused)
BEGIN
    IF NOT email AND NOT hooks THEN
        RETURN NULL;
    END IF;
    at := inbox.iso_time(pg_catalog.now());
    many := EXISTS (SELECT FROM new_events e OFFSET 1);
    WITH found AS MATERIALIZED (
        -- The events that call for a delivery, each with its notification's row.
        SELECT x.*, CASE WHEN x.notification_id IS NOT NULL
                         THEN inbox._notification_at(x.user_id, x.notification_id, many) END AS n
          FROM (SELECT e.id, e.user_id, e.event, e.notification_id, e.workspace_id, coalesce(e.data, '{}') AS data,
                       email AND e.event = 'notification.created' AS mailed,
                       hooks AND EXISTS (SELECT FROM inbox.webhooks w
                                          WHERE w.enabled AND e.event = ANY (w.events)
                                            AND (w.user_id IS NULL OR w.user_id = e.user_id)
                                            AND (w.workspace_id IS NULL OR w.workspace_id = e.workspace_id)) AS hooked
                  FROM new_events e) AS x
         WHERE x.mailed OR x.hooked),
    -- E-mails: the created notifications that are stored (an in_app-off recipient's e-mail was
    -- queued by the create, inbox._skip_in_app).
    mails AS MATERIALIZED (
        SELECT w.*, t.email_digest
          FROM (SELECT pg_catalog.array_agg(f.user_id ORDER BY f.id) AS user_ids,
                       pg_catalog.array_agg((f.n).type ORDER BY f.id) AS types,
                       pg_catalog.array_agg(f.notification_id ORDER BY f.id) AS notification_ids
                  FROM found f
                 WHERE f.mailed AND (f.n).id IS NOT NULL) AS a
         CROSS JOIN LATERAL inbox._emails_wanted(a.user_ids, a.types, a.notification_ids, NULL) AS w
          LEFT JOIN inbox.notification_types t ON t.name = w.type
         WHERE a.user_ids IS NOT NULL),
    digested AS (
        INSERT INTO inbox.deliveries AS d (user_id, channel, address, event, type, notification_ids, digest, due_at)
        SELECT m.user_id, 'email', pg_catalog.min(m.address), 'notification.created', m.type,
               pg_catalog.array_agg(m.notification_id ORDER BY m.notification_id), true,
               pg_catalog.now() + pg_catalog.min(m.email_digest)
          FROM mails m WHERE m.email_digest IS NOT NULL
         GROUP BY m.user_id, m.type
        ON CONFLICT (user_id, type) WHERE digest AND state = 'pending' AND attempts = 0
        DO UPDATE SET notification_ids = d.notification_ids || excluded.notification_ids),
    marks AS MATERIALIZED (
        SELECT u.user_id, m.read_marks, m.seen
          FROM (SELECT DISTINCT f.user_id FROM found f WHERE f.hooked) AS u
         CROSS JOIN LATERAL inbox._user_marks(u.user_id) AS m),
    shaped AS MATERIALIZED (
        -- The event's data as the streams get it (45_feed.sql), always naming the user. (Every
        -- event has its user's marks: FULL only rules out a nested loop.)
        SELECT f.user_id, f.event, f.notification_id, f.workspace_id, (f.n).type AS type,
               inbox._event_data(f.event, f.notification_id, f.data, f.n, m.read_marks, m.seen)
               || pg_catalog.jsonb_build_object('userId', f.user_id) AS data
          FROM (SELECT * FROM found WHERE hooked) AS f FULL JOIN marks m ON m.user_id = f.user_id),
    inserted AS (
        INSERT INTO inbox.deliveries (user_id, channel, address, webhook_id, event, type, notification_ids, payload)
        SELECT m.user_id, 'email', m.address, NULL, 'notification.created', m.type, ARRAY[m.notification_id], NULL
          FROM mails m WHERE m.email_digest IS NULL
        UNION ALL
        -- Webhooks: the body as the event happened (Standard Webhooks: type, timestamp, data).
        SELECT s.user_id, 'webhook', NULL, w.id, s.event, s.type,
               CASE WHEN s.notification_id IS NULL THEN '{}'::bigint[] ELSE ARRAY[s.notification_id] END,
               pg_catalog.jsonb_build_object('type', s.event, 'timestamp', at, 'data', s.data)
          FROM shaped s
          JOIN inbox.webhooks w ON w.enabled AND s.event = ANY (w.events)
                               AND (w.user_id IS NULL OR w.user_id = s.user_id)
                               AND (w.workspace_id IS NULL OR w.workspace_id = s.workspace_id)
         -- (A summary is of no one type: an endpoint that asked for its event gets it.)
         WHERE w.types IS NULL OR s.notification_id IS NULL OR s.type = ANY (w.types)
        RETURNING 1)
    SELECT pg_catalog.count(*) INTO queued FROM inserted;
    RETURN NULL;
END
$$;

DROP FUNCTION inbox._queue_email(text[], text[], bigint[], jsonb[]);

-- ---------------------------------------------------------------------------------------------
-- Issue 15, delivery on Citus (h-dcitus2), 55_delivery.sql: the delivery trigger queues through one
-- function, inbox._queue_deliveries (all events on one node, one user's at a time on a Citus
-- shard); on a Citus cluster the claim and the report go to every node (inbox._claim_citus,
-- inbox._finish_citus), which runs them over the shards it holds, one statement per shard
-- (inbox._claim_local and _claim_shard, inbox._finish_local and _finish_shard), since Citus
-- takes no row lock in a statement over several shards; on one node they are the static
-- statements they were. The same text as that file.
-- ---------------------------------------------------------------------------------------------

-- Queues the deliveries of `events` (inbox.events rows, as one statement inserted them): an
-- e-mail per created notification whose type and recipient want one (or a place in the open
-- digest of its type), and a webhook call per event and endpoint that asks for it (`email`,
-- `hooks`: whether either is configured at all, as the trigger found). One static statement
-- (its plan cached for the session); the e-mails and the webhook calls are one INSERT (the
-- digests, which join an open row, another). A channel nobody wants costs nothing more than
-- its empty steps: no address look-up without an e-mail, no marks without a webhook. No
-- statement here joins inbox.notifications: each event that needs its row gets it by a key
-- probe (inbox._notification_at), once for both channels, and the marks the webhook bodies are
-- shaped with are read once per user (inbox._user_marks), matched to the events by a FULL join,
-- which PostgreSQL runs as a hash or merge join, never as a loop over one side for each row of
-- the other. On a Citus shard the events are one user's (the trigger below): every table the
-- statement reaches is then that user's shard or a reference table.
CREATE OR REPLACE FUNCTION inbox._queue_deliveries(events inbox.events[], email boolean, hooks boolean)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    at text := inbox.iso_time(pg_catalog.now());
    many boolean := pg_catalog.cardinality(events) > 1;
    queued bigint;  -- (the rows the statement inserted; unused)
BEGIN
    WITH found AS MATERIALIZED (
        -- The events that call for a delivery, each with its notification's row.
        SELECT x.*, CASE WHEN x.notification_id IS NOT NULL
                         THEN inbox._notification_at(x.user_id, x.notification_id, many) END AS n
          FROM (SELECT e.id, e.user_id, e.event, e.notification_id, e.workspace_id, coalesce(e.data, '{}') AS data,
                       email AND e.event = 'notification.created' AS mailed,
                       hooks AND EXISTS (SELECT FROM inbox.webhooks w
                                          WHERE w.enabled AND e.event = ANY (w.events)
                                            AND (w.user_id IS NULL OR w.user_id = e.user_id)
                                            AND (w.workspace_id IS NULL OR w.workspace_id = e.workspace_id)) AS hooked
                  -- ((SELECT events): the planner sizes the array alike in every call, so that
                  -- the plan is made once per session, not for each array it is given.)
                  FROM pg_catalog.unnest((SELECT events)) AS e) AS x
         WHERE x.mailed OR x.hooked),
    -- E-mails: the created notifications that are stored (an in_app-off recipient's e-mail was
    -- queued by the create, inbox._skip_in_app).
    mails AS MATERIALIZED (
        SELECT w.*, t.email_digest
          FROM (SELECT pg_catalog.array_agg(f.user_id ORDER BY f.id) AS user_ids,
                       pg_catalog.array_agg((f.n).type ORDER BY f.id) AS types,
                       pg_catalog.array_agg(f.notification_id ORDER BY f.id) AS notification_ids
                  FROM found f
                 WHERE f.mailed AND (f.n).id IS NOT NULL) AS a
         CROSS JOIN LATERAL inbox._emails_wanted(a.user_ids, a.types, a.notification_ids, NULL) AS w
          LEFT JOIN inbox.notification_types t ON t.name = w.type
         WHERE a.user_ids IS NOT NULL),
    digested AS (
        INSERT INTO inbox.deliveries AS d (user_id, channel, address, event, type, notification_ids, digest, due_at)
        SELECT m.user_id, 'email', pg_catalog.min(m.address), 'notification.created', m.type,
               pg_catalog.array_agg(m.notification_id ORDER BY m.notification_id), true,
               pg_catalog.now() + pg_catalog.min(m.email_digest)
          FROM mails m WHERE m.email_digest IS NOT NULL
         GROUP BY m.user_id, m.type
        ON CONFLICT (user_id, type) WHERE digest AND state = 'pending' AND attempts = 0
        DO UPDATE SET notification_ids = d.notification_ids || excluded.notification_ids),
    marks AS MATERIALIZED (
        SELECT u.user_id, m.read_marks, m.seen
          FROM (SELECT DISTINCT f.user_id FROM found f WHERE f.hooked) AS u
         CROSS JOIN LATERAL inbox._user_marks(u.user_id) AS m),
    shaped AS MATERIALIZED (
        -- The event's data as the streams get it (45_feed.sql), always naming the user. (Every
        -- event has its user's marks: FULL only rules out a nested loop.)
        SELECT f.user_id, f.event, f.notification_id, f.workspace_id, (f.n).type AS type,
               inbox._event_data(f.event, f.notification_id, f.data, f.n, m.read_marks, m.seen)
               || pg_catalog.jsonb_build_object('userId', f.user_id) AS data
          FROM (SELECT * FROM found WHERE hooked) AS f FULL JOIN marks m ON m.user_id = f.user_id),
    inserted AS (
        INSERT INTO inbox.deliveries (user_id, channel, address, webhook_id, event, type, notification_ids, payload)
        SELECT m.user_id, 'email', m.address, NULL, 'notification.created', m.type, ARRAY[m.notification_id], NULL
          FROM mails m WHERE m.email_digest IS NULL
        UNION ALL
        -- Webhooks: the body as the event happened (Standard Webhooks: type, timestamp, data).
        SELECT s.user_id, 'webhook', NULL, w.id, s.event, s.type,
               CASE WHEN s.notification_id IS NULL THEN '{}'::bigint[] ELSE ARRAY[s.notification_id] END,
               pg_catalog.jsonb_build_object('type', s.event, 'timestamp', at, 'data', s.data)
          FROM shaped s
          JOIN inbox.webhooks w ON w.enabled AND s.event = ANY (w.events)
                               AND (w.user_id IS NULL OR w.user_id = s.user_id)
                               AND (w.workspace_id IS NULL OR w.workspace_id = s.workspace_id)
         -- (A summary is of no one type: an endpoint that asked for its event gets it.)
         WHERE w.types IS NULL OR s.notification_id IS NULL OR s.type = ANY (w.types)
        RETURNING 1)
    SELECT pg_catalog.count(*) INTO queued FROM inserted;
END
$$;

-- Queues the deliveries of the events the statement inserted (transition table new_events),
-- after two cheap probes, which are all when nothing is configured. On one node: all of them
-- at once. On a Citus cluster the trigger fires on a shard of inbox.events, where a statement
-- may not read the transition table together with a table of Citus's (Citus cannot plan it:
-- "unrecognized RTE kind"), hence the array, nor reach another node: there the events go one
-- user at a time, so that each statement the queueing runs is about that user alone, on the
-- shard the trigger fired on.
CREATE OR REPLACE FUNCTION inbox._deliveries_after_events() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    -- E-mail, sent when a notification is created (never on an update: Directus's rule).
    email boolean := inbox._setting('pg_inbox.email_column', '') <> '';
    hooks boolean := EXISTS (SELECT FROM inbox.webhooks w WHERE w.enabled);
    batch record;
BEGIN
    IF NOT email AND NOT hooks THEN
        RETURN NULL;
    END IF;
    -- (ROW(e.*)::inbox.events: on a shard the rows have the shard's row type.)
    FOR batch IN SELECT pg_catalog.array_agg(ROW(e.*)::inbox.events) AS events
                   FROM new_events e
                  GROUP BY CASE WHEN TG_TABLE_NAME <> 'events' THEN e.user_id END LOOP
        PERFORM inbox._queue_deliveries(batch.events, email, hooks);
    END LOOP;
    RETURN NULL;
END
$$;

-- Claims up to `limit` due deliveries of `channels` for `lease_for` and returns what to send, in
-- one statement: the target (URL or address), the body, and the headers (webhook: webhook-id
-- and webhook-timestamp, with the endpoint's secret for the server to sign them; e-mail: the
-- subject, the Message-ID's local part, the unsubscribe token). A row whose lease runs out
-- before it is finished is due again, under the same id. Rows that can no longer be sent (their
-- endpoint gone or disabled, every notification of an e-mail deleted) are cancelled here. An
-- e-mail without a stored notification (its recipient had in_app off) is built from the create
-- object the row carries.
CREATE OR REPLACE FUNCTION inbox.claim_deliveries("limit" integer DEFAULT 100, lease_for interval DEFAULT '1 minute',
                                       channels text[] DEFAULT '{email,webhook}')
RETURNS TABLE (user_id text, id text, lease uuid, channel text, attempt integer, target text,
               headers jsonb, body text, secret text)
LANGUAGE plpgsql
AS $$
DECLARE
    claim uuid := pg_catalog.gen_random_uuid();
    at timestamptz := pg_catalog.now();
    stamp text := pg_catalog.floor(EXTRACT(epoch FROM at))::bigint::text;
BEGIN
    IF "limit" IS NULL OR "limit" NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'limit: expected 1 to 10000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF inbox._citus_managed('inbox.deliveries') THEN
        RETURN QUERY SELECT * FROM inbox._claim_citus("limit", lease_for, channels);
        RETURN;
    END IF;
    RETURN QUERY
    WITH due AS (
        SELECT x.user_id, x.id FROM inbox.deliveries x
         WHERE x.state = 'pending' AND x.due_at <= at AND x.channel = ANY (channels)
         ORDER BY x.due_at LIMIT "limit"
           FOR UPDATE SKIP LOCKED),
    found AS (
        SELECT x.user_id, x.id, x.channel, x.type, x.payload, x.address, x.notification_ids,
               w.url, w.secret, m.count, m.first_id, m.subject, m.lines,
               CASE WHEN x.channel = 'webhook' THEN coalesce(w.enabled, false)
                    ELSE x.payload IS NOT NULL OR m.count > 0 END AS live
          FROM due JOIN inbox.deliveries x ON x.user_id = due.user_id AND x.id = due.id
          LEFT JOIN inbox.webhooks w ON x.channel = 'webhook' AND w.id = x.webhook_id
          LEFT JOIN LATERAL (
              SELECT pg_catalog.count(*)::int AS count, pg_catalog.min(n.id) AS first_id,
                     pg_catalog.min(n.title) FILTER (WHERE n.id = x.notification_ids[1]) AS subject,
                     pg_catalog.string_agg(
                         CASE WHEN pg_catalog.cardinality(x.notification_ids) > 1 THEN '* ' ELSE '' END
                         || coalesce(n.title, n.type)
                         || coalesce(E'\n\n' || n.body, '')
                         || coalesce(E'\n\n' || (n.data->>'url'), ''),
                         E'\n\n' ORDER BY n.created_at, n.id) AS lines
                FROM inbox.notifications n
               WHERE x.channel = 'email' AND n.user_id = x.user_id AND n.id = ANY (x.notification_ids)
                 AND n.deleted_at IS NULL) m ON true),
    cancelled AS (
        UPDATE inbox.deliveries x
           SET state = 'cancelled', finished_at = at, lease = NULL, attempts = x.attempts + 1, digest = false,
               last_error = CASE WHEN f.channel = 'webhook' THEN 'the webhook endpoint was removed or disabled'
                                 ELSE 'every notification of the e-mail was deleted' END
          FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND NOT f.live),
    claimed AS (
        UPDATE inbox.deliveries x
           SET lease = claim, attempts = x.attempts + 1, due_at = at + lease_for, digest = false
          FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND f.live
        RETURNING x.user_id, x.id, x.attempts)
    SELECT f.user_id, inbox._delivery_public_id(f.id), claim, f.channel, c.attempts,
           CASE WHEN f.channel = 'webhook' THEN f.url ELSE f.address END,
           CASE WHEN f.channel = 'webhook'
                THEN pg_catalog.jsonb_build_object('webhook-id', inbox._delivery_public_id(f.id), 'webhook-timestamp', stamp)
                ELSE pg_catalog.jsonb_build_object(
                         'subject', CASE WHEN pg_catalog.cardinality(f.notification_ids) > 1 THEN f.count || ' new notifications'
                                         WHEN f.count > 0 THEN coalesce(f.subject, f.type, 'New notification')
                                         ELSE coalesce(f.payload->>'title', f.type, 'New notification') END,
                         -- A retry is the same message; a digest, or an e-mail without a stored
                         -- notification, is its own.
                         'messageId', CASE WHEN pg_catalog.cardinality(f.notification_ids) = 1 AND f.count > 0
                                           THEN inbox.public_id(f.first_id) ELSE inbox._delivery_public_id(f.id) END,
                         'unsubscribe', inbox._unsubscribe_token(f.user_id, f.type),
                         'type', f.type) END,
           CASE WHEN f.channel = 'webhook' THEN f.payload::text
                WHEN f.count > 0 THEN f.lines || E'\n'
                ELSE coalesce(f.payload->>'title', f.type) || coalesce(E'\n\n' || (f.payload->>'body'), '')
                     || coalesce(E'\n\n' || (f.payload->'data'->>'url'), '') || E'\n' END,
           f.secret
      FROM claimed c JOIN found f ON f.user_id = c.user_id AND f.id = c.id;
END
$$;

COMMENT ON FUNCTION inbox.claim_deliveries(integer, interval, text[]) IS
    'For the server''s delivery workers: claims up to limit due deliveries (FOR UPDATE SKIP LOCKED) for lease, and returns what to send. Several workers and servers can share the outbox.';

-- inbox.claim_deliveries on a Citus cluster, where a row lock may not be taken in a statement
-- over several shards: every node claims from the shards it holds, one statement per shard
-- (inbox._claim_local), all nodes at once (run_command_on_all_nodes), each its share of
-- `limit`; each node's claims commit there as they are made (a lease that no one uses runs
-- out, as a dead worker's does).
CREATE OR REPLACE FUNCTION inbox._claim_citus("limit" integer, lease_for interval, channels text[])
RETURNS TABLE (user_id text, id text, lease uuid, channel text, attempt integer, target text,
               headers jsonb, body text, secret text)
LANGUAGE plpgsql
-- (On Citus: the look for due rows below reads every shard.)
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    node record;
    nodes integer;
BEGIN
    -- An idle outbox costs one read over the shards (through Citus's pooled connections);
    -- only due rows make every node claim (a connection to each). (A statement of its own, not
    -- an EXISTS subquery: Citus plans a subquery over several shards as an intermediate result,
    -- which it cannot read back without columns.)
    PERFORM 1 FROM inbox.deliveries x
      WHERE x.state = 'pending' AND x.due_at <= pg_catalog.now() AND x.channel = ANY (channels)
      LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT pg_catalog.count(DISTINCT p.groupid)::int INTO nodes
      FROM pg_catalog.pg_dist_shard s JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
     WHERE s.logicalrelid = 'inbox.deliveries'::regclass;
    FOR node IN SELECT * FROM pg_catalog.run_command_on_all_nodes(pg_catalog.format(
                    'SELECT inbox._claim_local(%s, %L, %L)', (("limit" + nodes - 1) / nodes), lease_for, channels)) LOOP
        IF NOT node.success THEN
            RAISE WARNING 'inbox.claim_deliveries: node % could not claim: %', node.nodeid, node.result;
            CONTINUE;
        END IF;
        RETURN QUERY SELECT * FROM pg_catalog.jsonb_to_recordset(node.result::jsonb)
            AS r(user_id text, id text, lease uuid, channel text, attempt integer, target text,
                 headers jsonb, body text, secret text);
    END LOOP;
END
$$;

-- The claim's statement (inbox.claim_deliveries's, which keeps its own static copy: one node
-- plans it once per session, where this one is planned at every call) over one shard's tables
-- on a Citus node: the deliveries, the notifications of the same shard group, the node's copy
-- of the webhooks, named by the caller from the catalogs.
CREATE OR REPLACE FUNCTION inbox._claim_shard(deliveries regclass, notifications regclass, webhooks regclass,
                                   "limit" integer, lease_for interval, channels text[])
RETURNS TABLE (user_id text, id text, lease uuid, channel text, attempt integer, target text,
               headers jsonb, body text, secret text)
LANGUAGE plpgsql
AS $$
DECLARE
    at timestamptz := pg_catalog.now();
BEGIN
    RETURN QUERY EXECUTE pg_catalog.format($claim$
        WITH due AS (
            SELECT x.user_id, x.id FROM %1$s x
             WHERE x.state = 'pending' AND x.due_at <= $2 AND x.channel = ANY ($6)
             ORDER BY x.due_at LIMIT $4
               FOR UPDATE SKIP LOCKED),
        found AS (
            SELECT x.user_id, x.id, x.channel, x.type, x.payload, x.address, x.notification_ids,
                   w.url, w.secret, m.count, m.first_id, m.subject, m.lines,
                   CASE WHEN x.channel = 'webhook' THEN coalesce(w.enabled, false)
                        ELSE x.payload IS NOT NULL OR m.count > 0 END AS live
              FROM due JOIN %1$s x ON x.user_id = due.user_id AND x.id = due.id
              LEFT JOIN %3$s w ON x.channel = 'webhook' AND w.id = x.webhook_id
              LEFT JOIN LATERAL (
                  SELECT pg_catalog.count(*)::int AS count, pg_catalog.min(n.id) AS first_id,
                         pg_catalog.min(n.title) FILTER (WHERE n.id = x.notification_ids[1]) AS subject,
                         pg_catalog.string_agg(
                             CASE WHEN pg_catalog.cardinality(x.notification_ids) > 1 THEN '* ' ELSE '' END
                             || coalesce(n.title, n.type)
                             || coalesce(E'\n\n' || n.body, '')
                             || coalesce(E'\n\n' || (n.data->>'url'), ''),
                             E'\n\n' ORDER BY n.created_at, n.id) AS lines
                    FROM %2$s n
                   WHERE x.channel = 'email' AND n.user_id = x.user_id AND n.id = ANY (x.notification_ids)
                     AND n.deleted_at IS NULL) m ON true),
        cancelled AS (
            UPDATE %1$s x
               SET state = 'cancelled', finished_at = $2, lease = NULL, attempts = x.attempts + 1, digest = false,
                   last_error = CASE WHEN f.channel = 'webhook' THEN 'the webhook endpoint was removed or disabled'
                                     ELSE 'every notification of the e-mail was deleted' END
              FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND NOT f.live),
        claimed AS (
            UPDATE %1$s x
               SET lease = $1, attempts = x.attempts + 1, due_at = $2 + $5, digest = false
              FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND f.live
            RETURNING x.user_id, x.id, x.attempts)
        SELECT f.user_id, inbox._delivery_public_id(f.id), $1, f.channel, c.attempts,
               CASE WHEN f.channel = 'webhook' THEN f.url ELSE f.address END,
               CASE WHEN f.channel = 'webhook'
                    THEN pg_catalog.jsonb_build_object('webhook-id', inbox._delivery_public_id(f.id), 'webhook-timestamp', $3)
                    ELSE pg_catalog.jsonb_build_object(
                             'subject', CASE WHEN pg_catalog.cardinality(f.notification_ids) > 1 THEN f.count || ' new notifications'
                                             WHEN f.count > 0 THEN coalesce(f.subject, f.type, 'New notification')
                                             ELSE coalesce(f.payload->>'title', f.type, 'New notification') END,
                             -- A retry is the same message; a digest, or an e-mail without a stored
                             -- notification, is its own.
                             'messageId', CASE WHEN pg_catalog.cardinality(f.notification_ids) = 1 AND f.count > 0
                                               THEN inbox.public_id(f.first_id) ELSE inbox._delivery_public_id(f.id) END,
                             'unsubscribe', inbox._unsubscribe_token(f.user_id, f.type),
                             'type', f.type) END,
               CASE WHEN f.channel = 'webhook' THEN f.payload::text
                    WHEN f.count > 0 THEN f.lines || E'\n'
                    ELSE coalesce(f.payload->>'title', f.type) || coalesce(E'\n\n' || (f.payload->>'body'), '')
                         || coalesce(E'\n\n' || (f.payload->'data'->>'url'), '') || E'\n' END,
               f.secret
          FROM claimed c JOIN found f ON f.user_id = c.user_id AND f.id = c.id
$claim$, deliveries, notifications, webhooks)
    USING pg_catalog.gen_random_uuid(), at, pg_catalog.floor(EXTRACT(epoch FROM at))::bigint::text,
          "limit", lease_for, channels;
END
$$;

-- On a node of a Citus cluster: claims up to `limit` due deliveries from the shards this node
-- holds (in a random order, so that no shard waits behind the others), one statement per shard;
-- returns them as a JSON array of inbox.claim_deliveries's rows.
CREATE OR REPLACE FUNCTION inbox._claim_local("limit" integer, lease_for interval, channels text[])
RETURNS jsonb
LANGUAGE plpgsql
-- (Citus refuses changes to a shard by name unless told: these are the shards' own rows.)
SET citus.enable_manual_changes_to_shards = on
AS $$
DECLARE
    s record;
    hooks regclass;
    part jsonb;
    claimed jsonb := '[]';
    wanted integer := "limit";
BEGIN
    FOR s IN SELECT pg_catalog.shard_name('inbox.deliveries'::regclass, d.shardid)::regclass AS deliveries,
                    pg_catalog.shard_name('inbox.notifications'::regclass, n.shardid)::regclass AS notifications
               FROM pg_catalog.pg_dist_shard d
               JOIN pg_catalog.pg_dist_placement p ON p.shardid = d.shardid
               JOIN pg_catalog.pg_dist_shard n ON n.logicalrelid = 'inbox.notifications'::regclass
                                              AND n.shardminvalue = d.shardminvalue
              WHERE d.logicalrelid = 'inbox.deliveries'::regclass
                AND p.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g)
              ORDER BY pg_catalog.random() LOOP
        hooks := coalesce(hooks, (SELECT pg_catalog.shard_name('inbox.webhooks'::regclass, w.shardid)::regclass
                                    FROM pg_catalog.pg_dist_shard w WHERE w.logicalrelid = 'inbox.webhooks'::regclass));
        SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(c)), '[]') INTO part
          FROM inbox._claim_shard(s.deliveries, s.notifications, hooks, wanted, lease_for, channels) AS c;
        claimed := claimed || part;
        wanted := wanted - pg_catalog.jsonb_array_length(part);
        EXIT WHEN wanted <= 0;
    END LOOP;
    RETURN claimed;
END
$$;

-- Records attempts: a JSON array of {"userId", "id", "lease", "status", "error", "durationMs",
-- "retryAfter"} (status: the HTTP status or SMTP reply code, 0 or absent when none came). What an
-- answer means:
--   webhook: 2xx delivered; 410 the endpoint is disabled and the delivery failed; 408, 429, 5xx
--            and no answer (timeout, refused, reset) are retried; any other 4xx fails at once (the
--            receiver refused the request: sending it again would not change that);
--   e-mail:  2xx delivered; 5xx (a permanent SMTP failure) fails at once; 4xx and no answer are
--            retried.
-- A retry is due after the backoff schedule (or a 429/503's Retry-After), unless that was the
-- last attempt (pg_inbox.delivery_max_attempts): then the delivery failed. A report whose lease
-- is no longer the row's (the lease ran out and another worker claimed it) is ignored. Returns
-- how many reports were recorded. On a Citus cluster every node records the reports of the
-- shards it holds (inbox._finish_local), one statement per shard, as the claim does.
CREATE OR REPLACE FUNCTION inbox.finish_deliveries(results jsonb)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    max_attempts integer := inbox._setting('pg_inbox.delivery_max_attempts', '10')::integer;
    recorded integer;
    finished timestamptz := pg_catalog.clock_timestamp();
BEGIN
    IF pg_catalog.jsonb_typeof(results) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'results: expected a JSON array' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF inbox._citus_managed('inbox.deliveries') THEN
        RETURN inbox._finish_citus(results);
    END IF;
    -- One statement for the whole batch: the reports whose lease is still the row's, what each
    -- answer means, the attempt logged, the row rescheduled or finished, a gone endpoint disabled.
    WITH reports AS (
        SELECT r."userId" AS user_id, inbox._delivery_uuid(r.id) AS id, r.lease,
               NULLIF(r.status, 0) AS code, pg_catalog.left(r.error, 1000) AS error,
               r."durationMs" AS duration_ms, r."retryAfter" AS retry_after
          FROM pg_catalog.jsonb_to_recordset(results)
               AS r("userId" text, id text, lease uuid, status integer, error text, "durationMs" integer, "retryAfter" integer)),
    current AS (
        SELECT d.user_id, d.id, d.channel, d.attempts, d.webhook_id, r.code, r.error, r.duration_ms, r.retry_after
          FROM inbox.deliveries d JOIN reports r ON d.user_id = r.user_id AND d.id = r.id AND d.lease = r.lease
         WHERE d.state = 'pending'
           FOR UPDATE OF d),
    answered AS (
        SELECT c.*, CASE WHEN c.code BETWEEN 200 AND 299 THEN 'delivered'
                         WHEN c.channel = 'webhook' AND c.code = 410 THEN 'gone'
                         WHEN c.code IS NULL OR c.code >= 500 AND c.channel = 'webhook' OR c.code IN (408, 429)
                              OR c.code BETWEEN 400 AND 499 AND c.channel = 'email'
                         THEN CASE WHEN c.attempts >= max_attempts THEN 'failed' ELSE 'retry' END
                         ELSE 'failed' END AS outcome
          FROM current c),
    planned AS (
        SELECT a.*, CASE WHEN a.code IN (429, 503) AND a.retry_after > 0
                         THEN pg_catalog.make_interval(secs => least(a.retry_after, 86400))
                         ELSE inbox._delivery_backoff(a.attempts) END AS wait
          FROM answered a),
    logged AS (
        INSERT INTO inbox.delivery_attempts (user_id, delivery_id, attempt, outcome, status, duration_ms, error)
        SELECT p.user_id, p.id, p.attempts, p.outcome, p.code, p.duration_ms, p.error FROM planned p
        ON CONFLICT ON CONSTRAINT delivery_attempts_pkey DO NOTHING),
    disabled AS (
        UPDATE inbox.webhooks w SET enabled = false, disabled_reason = 'the endpoint answered 410 Gone'
         WHERE w.enabled AND w.id IN (SELECT p.webhook_id FROM planned p WHERE p.outcome = 'gone'))
    UPDATE inbox.deliveries d
       SET state = CASE WHEN p.outcome = 'retry' THEN 'pending' WHEN p.outcome = 'delivered' THEN 'delivered' ELSE 'failed' END,
           due_at = pg_catalog.now() + p.wait,
           finished_at = CASE WHEN p.outcome = 'retry' THEN NULL ELSE finished END,
           lease = NULL, last_status = p.code, last_error = p.error
      FROM planned p
     WHERE d.user_id = p.user_id AND d.id = p.id;
    GET DIAGNOSTICS recorded = ROW_COUNT;
    RETURN recorded;
END
$$;

-- inbox.finish_deliveries on a Citus cluster: every node records the reports of the shards it
-- holds (inbox._finish_local), one statement per shard, as the claim does; an endpoint that
-- answered 410 Gone is disabled here, on the reference table.
CREATE OR REPLACE FUNCTION inbox._finish_citus(results jsonb)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    recorded integer := 0;
    gone bigint[];
    node record;
BEGIN
    FOR node IN SELECT * FROM pg_catalog.run_command_on_all_nodes(
                    pg_catalog.format('SELECT inbox._finish_local(%L)', results)) LOOP
        IF NOT node.success THEN
            RAISE WARNING 'inbox.finish_deliveries: node % could not record: %', node.nodeid, node.result;
            CONTINUE;
        END IF;
        recorded := recorded + (node.result::jsonb->>'recorded')::int;
        gone := gone || ARRAY(SELECT x::bigint FROM pg_catalog.jsonb_array_elements_text(node.result::jsonb->'gone') AS x);
    END LOOP;
    -- An endpoint that answered 410 Gone is disabled.
    IF gone IS NOT NULL THEN
        UPDATE inbox.webhooks w SET enabled = false, disabled_reason = 'the endpoint answered 410 Gone'
         WHERE w.enabled AND w.id = ANY (gone);
    END IF;
    RETURN recorded;
END
$$;

-- The finish's statement (inbox.finish_deliveries's, static there) over one shard's deliveries
-- and attempts on a Citus node: the reports whose lease is still the row's, what each answer
-- means, the attempt logged, the row rescheduled or finished. Returns how many were recorded
-- and the endpoints that answered 410 (the webhooks, a reference table, are the caller's).
CREATE OR REPLACE FUNCTION inbox._finish_shard(deliveries regclass, attempts regclass, results jsonb,
                                    OUT recorded integer, OUT gone bigint[])
LANGUAGE plpgsql
AS $$
BEGIN
    EXECUTE pg_catalog.format($finish$
        WITH reports AS (
            SELECT r."userId" AS user_id, inbox._delivery_uuid(r.id) AS id, r.lease,
                   NULLIF(r.status, 0) AS code, pg_catalog.left(r.error, 1000) AS error,
                   r."durationMs" AS duration_ms, r."retryAfter" AS retry_after
              FROM pg_catalog.jsonb_to_recordset($1)
                   AS r("userId" text, id text, lease uuid, status integer, error text, "durationMs" integer, "retryAfter" integer)),
        current AS (
            SELECT d.user_id, d.id, d.channel, d.attempts, d.webhook_id, r.code, r.error, r.duration_ms, r.retry_after
              FROM %1$s d JOIN reports r ON d.user_id = r.user_id AND d.id = r.id AND d.lease = r.lease
             WHERE d.state = 'pending'
               FOR UPDATE OF d),
        answered AS (
            SELECT c.*, CASE WHEN c.code BETWEEN 200 AND 299 THEN 'delivered'
                             WHEN c.channel = 'webhook' AND c.code = 410 THEN 'gone'
                             WHEN c.code IS NULL OR c.code >= 500 AND c.channel = 'webhook' OR c.code IN (408, 429)
                                  OR c.code BETWEEN 400 AND 499 AND c.channel = 'email'
                             THEN CASE WHEN c.attempts >= $2 THEN 'failed' ELSE 'retry' END
                             ELSE 'failed' END AS outcome
              FROM current c),
        planned AS (
            SELECT a.*, CASE WHEN a.code IN (429, 503) AND a.retry_after > 0
                             THEN pg_catalog.make_interval(secs => least(a.retry_after, 86400))
                             ELSE inbox._delivery_backoff(a.attempts) END AS wait
              FROM answered a),
        logged AS (
            INSERT INTO %2$s (user_id, delivery_id, attempt, outcome, status, duration_ms, error)
            SELECT p.user_id, p.id, p.attempts, p.outcome, p.code, p.duration_ms, p.error FROM planned p
            ON CONFLICT (user_id, delivery_id, attempt) DO NOTHING),
        updated AS (
            UPDATE %1$s d
               SET state = CASE WHEN p.outcome = 'retry' THEN 'pending' WHEN p.outcome = 'delivered' THEN 'delivered' ELSE 'failed' END,
                   due_at = pg_catalog.now() + p.wait,
                   finished_at = CASE WHEN p.outcome = 'retry' THEN NULL ELSE $3 END,
                   lease = NULL, last_status = p.code, last_error = p.error
              FROM planned p
             WHERE d.user_id = p.user_id AND d.id = p.id
            RETURNING p.outcome, p.webhook_id)
        SELECT pg_catalog.count(*)::int,
               pg_catalog.array_agg(DISTINCT u.webhook_id) FILTER (WHERE u.outcome = 'gone')
          FROM updated u
$finish$, deliveries, attempts)
    INTO recorded, gone
    USING results, inbox._setting('pg_inbox.delivery_max_attempts', '10')::integer, pg_catalog.clock_timestamp();
END
$$;

-- On a node of a Citus cluster: records the reports whose users' shards this node holds, one
-- statement per shard; returns {"recorded": n, "gone": [webhook ids]}.
CREATE OR REPLACE FUNCTION inbox._finish_local(results jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET citus.enable_manual_changes_to_shards = on
AS $$
DECLARE
    s record;
    f record;
    recorded integer := 0;
    gone bigint[] := '{}';
BEGIN
    FOR s IN SELECT pg_catalog.shard_name('inbox.deliveries'::regclass, d.shardid)::regclass AS deliveries,
                    pg_catalog.shard_name('inbox.delivery_attempts'::regclass, a.shardid)::regclass AS attempts,
                    x.reports
               FROM (SELECT pg_catalog.get_shard_id_for_distribution_column('inbox.deliveries', r->>'userId') AS shardid,
                            pg_catalog.jsonb_agg(r) AS reports
                       FROM pg_catalog.jsonb_array_elements(results) AS r
                      GROUP BY 1) x
               JOIN pg_catalog.pg_dist_shard d ON d.shardid = x.shardid
               JOIN pg_catalog.pg_dist_placement p ON p.shardid = d.shardid
               JOIN pg_catalog.pg_dist_shard a ON a.logicalrelid = 'inbox.delivery_attempts'::regclass
                                              AND a.shardminvalue = d.shardminvalue
              WHERE p.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g) LOOP
        SELECT * INTO f FROM inbox._finish_shard(s.deliveries, s.attempts, s.reports);
        recorded := recorded + f.recorded;
        gone := gone || coalesce(f.gone, '{}');
    END LOOP;
    RETURN pg_catalog.jsonb_build_object('recorded', recorded, 'gone', pg_catalog.to_jsonb(gone));
END
$$;

REVOKE ALL ON FUNCTION inbox.claim_deliveries(integer, interval, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox.finish_deliveries(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._claim_citus(integer, interval, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._claim_shard(regclass, regclass, regclass, integer, interval, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._claim_local(integer, interval, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._finish_citus(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._finish_shard(regclass, regclass, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._finish_local(jsonb) FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Issue 16, h-mperf: the v2 page's representatives read set-based (_mastodon_scanned, no loop
-- over rows), _mastodon_grouped in one statement, the groups' filter conditions in one inlined
-- helper (_mastodon_counted). (The engine's id-ordered seek is C++: nothing to upgrade.)
-- ---------------------------------------------------------------------------------------------

-- The rows a v2 page's scan read (a JSON array of mastodon_json entities, in the order the
-- scan met them), each with its position and the group key the page gives it: a type
-- grouped_types[] leaves out (when the request names them) makes each of its rows a group of
-- its own.
CREATE FUNCTION inbox._mastodon_scanned(entities jsonb, grouped_types jsonb)
RETURNS TABLE (v jsonb, o bigint, key text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT r.v, r.o,
           CASE WHEN grouped_types IS NULL OR grouped_types ? (r.v->>'type') THEN r.v->>'group_key'
                ELSE 'ungrouped-' || (r.v->>'id') END
      FROM pg_catalog.jsonb_array_elements(entities) WITH ORDINALITY AS r(v, o)
$$;

-- Whether a v2 page counts a row of a group it shows: the request's filters (types[],
-- exclude_types[], account_id, the token's workspace) and grouped_types[] (a row of a type it
-- leaves out is no group's). The one statement of these conditions for the groups' LIMIT 8 read
-- and their count; a SQL expression the planner inlines into each (no call per row).
CREATE FUNCTION inbox._mastodon_counted(engine jsonb, type text, actor_id text, workspace_id text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT (NOT engine ? 'types' OR engine->'types' ? type)
       AND (NOT engine ? 'exclude_types' OR NOT engine->'exclude_types' ? type)
       AND (NOT engine ? 'grouped_types' OR engine->'grouped_types' ? type)
       AND (NOT engine ? 'filter' OR actor_id = engine->'filter'->>'actorId')
       AND (NOT engine ? 'workspace_id' OR workspace_id = engine->>'workspace_id')
$$;

-- The v2 answer {accounts, statuses, notification_groups} for groups in Mastodon's
-- NotificationGroup shape, each with its representative notification (mastodon_json) under
-- `notification`: the group takes that notification's object as the v1 entity does
-- (_mastodon_targets: one shape), a status as `status_id` (the status itself in `statuses`),
-- a report as `report`, a severance event as `event`, a warning as `moderation_warning`.
-- `accounts` are the sample accounts (expand_accounts=partial_avatars still lists them in full).
CREATE OR REPLACE FUNCTION inbox._mastodon_grouped(groups jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    -- One statement: the groups' objects by one look-up per relation (_mastodon_targets), the
    -- sample accounts de-duplicated, then looked up once (_mastodon_accounts).
    RETURN (
        WITH g AS (SELECT a.g, a.o FROM pg_catalog.jsonb_array_elements(groups) WITH ORDINALITY AS a(g, o)),
             t AS (SELECT t.v, t.o
                     FROM pg_catalog.jsonb_array_elements(inbox._mastodon_targets(
                              coalesce((SELECT pg_catalog.jsonb_agg(g.g->'notification' ORDER BY g.o) FROM g), '[]')))
                          WITH ORDINALITY AS t(v, o))
        SELECT pg_catalog.jsonb_build_object(
                   'accounts', inbox._mastodon_accounts(coalesce(
                       (SELECT pg_catalog.jsonb_agg(DISTINCT s.id)
                          FROM g, pg_catalog.jsonb_array_elements(g.g->'sample_account_ids') AS s(id)), '[]')),
                   'statuses', coalesce(pg_catalog.jsonb_agg(DISTINCT t.v->'status') FILTER (WHERE t.v ? 'status'), '[]'),
                   'notification_groups', coalesce(pg_catalog.jsonb_agg(
                       (g.g - 'notification')
                       || (t.v - ARRAY['id', 'type', 'created_at', 'group_key', 'account', 'status', 'relationship_severance_event'])
                       || CASE WHEN t.v ? 'status' THEN pg_catalog.jsonb_build_object('status_id', g.g->'notification'->'status')
                               ELSE '{}' END
                       ORDER BY g.o), '[]'))
          FROM g JOIN t ON t.o = g.o);
END
$$;

-- A v2 page as Mastodon pages groups (Notification.paginate_groups_by_max_id / _by_min_id): the
-- user's matching rows in the request's id range, read by the engine in id order, `limit` (at
-- least 40) at a time (keyset seeks on (user_id, id), never an offset), until `limit` groups have begun:
-- newest first below max_id (and above since_id), or with min_id oldest first above it (below
-- max_id). A group's representative is the first of its rows the scan meets (its newest in the
-- range; by min_id its oldest). Returns {reps: the representatives newest first, each with the
-- group key it was read with, lo, hi}: the page's id range as Mastodon's controller takes it
-- (from the oldest to the newest representative; a page with fewer groups than `limit` reaches
-- to since_id, or by min_id to max_id), and first_ids: each group's oldest row in that range
-- (every row of the range is one the scan read).
--
-- Set-based: each seek's rows are appended to what the scan read, one statement tells whether
-- `limit` groups have begun (and at which row the limit-th did: the range ends there), and one
-- statement forms the page from the rows read (no loop over rows).
CREATE OR REPLACE FUNCTION inbox._mastodon_group_page(user_id text, engine jsonb, max_id bigint, since_id bigint,
                                           min_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    lim integer := (engine->>'limit')::integer;
    up boolean := min_id IS NOT NULL;
    -- Rows per seek: a page of `limit` rows, as the engine reads the v1 list.
    chunk_size integer := greatest(lim, 40);
    scan jsonb := (engine - 'grouped_types') || pg_catalog.jsonb_build_object('limit', chunk_size);
    grouped_types jsonb := engine->'grouped_types';
    below bigint := max_id;
    after bigint := CASE WHEN up THEN min_id ELSE since_id END;
    seen jsonb := '[]';  -- the rows read, in the order the scan met them
    chunk jsonb;
    last_o bigint;       -- where the limit-th group began (NULL: fewer groups so far)
    page jsonb;
    lo bigint;
    hi bigint;
BEGIN
    LOOP
        chunk := inbox._social_list(user_id, scan, 'mastodon', below, CASE WHEN up THEN NULL ELSE after END,
                                    CASE WHEN up THEN after END)->'data';
        -- A chunk comes newest first: by min_id it is read oldest first.
        IF up THEN
            chunk := coalesce((SELECT pg_catalog.jsonb_agg(c.v ORDER BY c.o DESC)
                                 FROM pg_catalog.jsonb_array_elements(chunk) WITH ORDINALITY AS c(v, o)), '[]');
        END IF;
        seen := seen || chunk;
        SELECT (pg_catalog.array_agg(g.first_o ORDER BY g.first_o))[lim] INTO last_o
          FROM (SELECT pg_catalog.min(s.o) AS first_o FROM inbox._mastodon_scanned(seen, grouped_types) s
                 GROUP BY s.key) g;
        EXIT WHEN last_o IS NOT NULL OR pg_catalog.jsonb_array_length(chunk) < chunk_size;
        IF up THEN
            after := (chunk->-1->>'id')::bigint;
        ELSE
            below := (chunk->-1->>'id')::bigint;
        END IF;
    END LOOP;
    -- The groups begun up to the limit-th, each with its representative (the first row met)
    -- and its oldest row in the range (newest first: the last row met up to last_o; by min_id
    -- the representative itself).
    SELECT pg_catalog.jsonb_build_object(
               'reps', coalesce(pg_catalog.jsonb_agg(g.rep || pg_catalog.jsonb_build_object('group_key', g.key)
                                                     ORDER BY CASE WHEN up THEN -g.first_o ELSE g.first_o END), '[]'),
               'first_ids', coalesce(pg_catalog.jsonb_object_agg(g.key, CASE WHEN up THEN g.rep->>'id' ELSE g.oldest END), '{}'))
      INTO page
      FROM (SELECT s.key, pg_catalog.min(s.o) AS first_o, (pg_catalog.array_agg(s.v ORDER BY s.o))[1] AS rep,
                   pg_catalog.min((s.v->>'id')::bigint)::text AS oldest
              FROM inbox._mastodon_scanned(seen, grouped_types) s
             WHERE last_o IS NULL OR s.o <= last_o
             GROUP BY s.key) g;
    lo := CASE WHEN last_o IS NOT NULL OR up THEN (page->'reps'->-1->>'id')::bigint ELSE since_id + 1 END;
    hi := CASE WHEN last_o IS NOT NULL OR NOT up THEN (page->'reps'->0->>'id')::bigint ELSE max_id - 1 END;
    RETURN page || pg_catalog.jsonb_build_object('lo', lo, 'hi', hi);
END
$$;

-- The groups of a v2 page over the page's id range, as Mastodon computes them
-- (NotificationGroup.load_groups_data): notifications_count, the most recent notification (the
-- page_max_id), its time and the sample accounts (the actors of the 8 most recent rows,
-- distinct) over the group's rows up to the range's top; page_min_id its oldest row in the
-- range. The rows are those the request matches (types[], exclude_types[], account_id, the
-- token's workspace, grouped_types[]); a row of its own (ungrouped-{id}) is its own group. One
-- statement for the page, in the representatives' order.
--
-- What each group costs is bounded by what the page shows, not by the group's size: the 8 most
-- recent rows are a LIMIT 8 read of notifications_group_id_idx, page_min_id comes from the
-- page's scan (page->'first_ids': every row of the range passed through it), and without a
-- filter notifications_count is the group's summary (inbox.notification_groups counts its
-- active rows) less its active rows above the range's top (none on a first page) and its
-- expired ones not pruned yet (the page reads the user's on notifications_expires_idx once).
-- With a filter the summary does not apply: the matching rows up to the top are counted.
CREATE OR REPLACE FUNCTION inbox._mastodon_page_groups(user_id text, engine jsonb, page jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    hi bigint := coalesce((page->>'hi')::bigint, 9223372036854775807);
    stamp timestamptz := pg_catalog.now();  -- read once (Citus refuses now() in the statement's COALESCE)
    -- Every row of the group is one the request matches: its summary counts them.
    unfiltered boolean := NOT engine ?| ARRAY['types', 'exclude_types', 'grouped_types', 'filter', 'workspace_id'];
    -- The user's expired rows not pruned yet, by group: one read of notifications_expires_idx
    -- for the page (a count of them group by group would read each group in a generic plan).
    expired jsonb := '{}';
BEGIN
    IF unfiltered THEN
        SELECT coalesce(pg_catalog.jsonb_object_agg(e.group_key, e.rows), '{}') INTO expired
          FROM (SELECT n.group_key, pg_catalog.count(*) AS rows FROM inbox.notifications n
                 WHERE n.user_id = _mastodon_page_groups.user_id AND n.expires_at <= stamp
                   AND n.deleted_at IS NULL AND n.group_key IS NOT NULL
                 GROUP BY n.group_key) e;
    END IF;
    RETURN coalesce((
        SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'group_key',                   u.rep_key,
                   'notifications_count',         c.notifications_count,
                   'type',                        r.v->'type',
                   'most_recent_notification_id', s.latest_id::text,
                   'page_min_id',                 page->'first_ids'->>u.rep_key,
                   'page_max_id',                 s.latest_id::text,
                   'latest_page_notification_at', inbox.directus_time(s.latest_at),
                   'sample_account_ids',          CASE WHEN u.alone THEN s.actors->0
                                                       ELSE pg_catalog.to_jsonb(inbox._sample_actors(s.actors)) END,
                   'notification',                r.v) ORDER BY r.o)
          FROM pg_catalog.jsonb_array_elements(page->'reps') WITH ORDINALITY AS r(v, o)
               CROSS JOIN LATERAL (SELECT (r.v->>'id')::bigint AS rep_id, r.v->>'group_key' AS rep_key,
                                          r.v->>'group_key' = 'ungrouped-' || (r.v->>'id') AS alone) u
               -- The group's (or the row's) most recent matching rows up to the top, newest first.
               CROSS JOIN LATERAL (
                   SELECT pg_catalog.count(*) AS found, pg_catalog.max(x.id) AS latest_id,
                          (pg_catalog.array_agg(x.created_at ORDER BY x.id DESC))[1] AS latest_at,
                          coalesce(pg_catalog.jsonb_agg(x.actors ORDER BY x.id DESC), '[]') AS actors
                     FROM (SELECT n.id, n.created_at, pg_catalog.to_jsonb(inbox._actors(ROW(n.*)::inbox.notifications)) AS actors
                             FROM inbox.notifications n
                            WHERE u.alone AND n.user_id = _mastodon_page_groups.user_id AND n.id = u.rep_id
                           UNION ALL
                           (SELECT n.id, n.created_at, pg_catalog.to_jsonb(inbox._actors(ROW(n.*)::inbox.notifications))
                              FROM inbox.notifications n
                             WHERE NOT u.alone AND n.user_id = _mastodon_page_groups.user_id
                               AND n.group_key = u.rep_key AND n.deleted_at IS NULL AND n.id <= hi
                               AND (n.expires_at IS NULL OR n.expires_at > stamp)
                               AND inbox._mastodon_counted(engine, n.type, n.actor_id, n.workspace_id)
                             ORDER BY n.id DESC
                             LIMIT 8)) x) s
               CROSS JOIN LATERAL (
                   SELECT CASE WHEN u.alone THEN s.found
                               -- The summary less what the request does not count; without one,
                               -- or with a filter, the matching rows up to the top are counted.
                               ELSE coalesce(
                                   CASE WHEN unfiltered THEN
                                       (SELECT g.notifications_count FROM inbox.notification_groups g
                                         WHERE g.user_id = _mastodon_page_groups.user_id AND g.group_key = u.rep_key)
                                       - (SELECT pg_catalog.count(*) FROM inbox.notifications n
                                           WHERE n.user_id = _mastodon_page_groups.user_id AND n.group_key = u.rep_key
                                             AND n.deleted_at IS NULL AND n.id > hi
                                             AND (n.expires_at IS NULL OR n.expires_at > stamp))
                                       - coalesce((expired->>u.rep_key)::bigint, 0)
                                   END,
                                   (SELECT pg_catalog.count(*) FROM inbox.notifications n
                                     WHERE n.user_id = _mastodon_page_groups.user_id
                                       AND n.group_key = u.rep_key AND n.deleted_at IS NULL AND n.id <= hi
                                       AND (n.expires_at IS NULL OR n.expires_at > stamp)
                                       AND inbox._mastodon_counted(engine, n.type, n.actor_id, n.workspace_id)))
                          END AS notifications_count) c), '[]');
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Issue 16, the v2 page's scan linear in the rows it reads (65_mastodon.sql): each seek's rows
-- are folded into the groups begun so far instead of appended to every row read and grouped
-- again (a page behind a group of 8,000 rows: 53 ms; 634 ms before; 79 ms for the PL/pgSQL
-- loop of 92a2a28).
-- The same text as that file.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION inbox._mastodon_group_page(user_id text, engine jsonb, max_id bigint, since_id bigint,
                                           min_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    lim integer := (engine->>'limit')::integer;
    up boolean := min_id IS NOT NULL;
    -- Rows per seek: a page of `limit` rows, as the engine reads the v1 list.
    chunk_size integer := greatest(lim, 40);
    scan jsonb := (engine - 'grouped_types') || pg_catalog.jsonb_build_object('limit', chunk_size);
    grouped_types jsonb := engine->'grouped_types';
    below bigint := max_id;
    after bigint := CASE WHEN up THEN min_id ELSE since_id END;
    -- The groups begun so far: key -> [its first row's position in the scan, its oldest id
    -- read]; the rows themselves stay in the chunks read (a representative is found again by
    -- its position: every chunk but the last has chunk_size rows).
    groups jsonb := '{}';
    chunks jsonb[] := '{}';
    have integer := 0;   -- how many groups have begun
    read bigint := 0;    -- how many rows the scan has read
    chunk jsonb;
    last_o bigint;       -- where the limit-th group began (NULL: fewer groups so far)
    page jsonb;
    lo bigint;
    hi bigint;
BEGIN
    LOOP
        chunk := inbox._social_list(user_id, scan, 'mastodon', below, CASE WHEN up THEN NULL ELSE after END,
                                    CASE WHEN up THEN after END)->'data';
        -- A chunk comes newest first: by min_id it is read oldest first.
        IF up THEN
            chunk := coalesce((SELECT pg_catalog.jsonb_agg(c.v ORDER BY c.o DESC)
                                 FROM pg_catalog.jsonb_array_elements(chunk) WITH ORDINALITY AS c(v, o)), '[]');
        END IF;
        WITH r AS MATERIALIZED (
                 SELECT s.o + read AS o, s.key, (s.v->>'id')::bigint AS id
                   FROM inbox._mastodon_scanned(chunk, grouped_types) s),
             cut AS (
                 -- The limit-th group's first row, when it begins in this chunk.
                 SELECT (pg_catalog.array_agg(f.first_o ORDER BY f.first_o))[lim - have] AS last_o
                   FROM (SELECT pg_catalog.min(r.o) AS first_o FROM r WHERE NOT groups ? r.key GROUP BY r.key) f),
             c AS (
                 SELECT r.key, pg_catalog.min(r.o) AS first_o, pg_catalog.min(r.id) AS oldest
                   FROM r, cut WHERE cut.last_o IS NULL OR r.o <= cut.last_o
                  GROUP BY r.key)
        SELECT cut.last_o,
               groups || coalesce((SELECT pg_catalog.jsonb_object_agg(c.key,
                                       CASE WHEN groups ? c.key
                                            THEN pg_catalog.jsonb_build_array(groups->c.key->0,
                                                     LEAST((groups->c.key->>1)::bigint, c.oldest))
                                            ELSE pg_catalog.jsonb_build_array(c.first_o, c.oldest) END)
                                     FROM c), '{}')
          INTO last_o, groups
          FROM cut;
        chunks := chunks || chunk;
        have := (SELECT pg_catalog.count(*) FROM pg_catalog.jsonb_object_keys(groups));
        read := read + pg_catalog.jsonb_array_length(chunk);
        EXIT WHEN last_o IS NOT NULL OR pg_catalog.jsonb_array_length(chunk) < chunk_size;
        IF up THEN
            after := (chunk->-1->>'id')::bigint;
        ELSE
            below := (chunk->-1->>'id')::bigint;
        END IF;
    END LOOP;
    -- The groups begun up to the limit-th, each with its representative (the row at its first
    -- position) and its oldest row in the range (newest first: the last row met up to last_o; by
    -- min_id the representative).
    SELECT pg_catalog.jsonb_build_object(
               'reps', coalesce(pg_catalog.jsonb_agg(
                           (chunks[(g.o - 1) / chunk_size + 1]->((g.o - 1) % chunk_size)::integer)
                           || pg_catalog.jsonb_build_object('group_key', g.key)
                           ORDER BY CASE WHEN up THEN -g.o ELSE g.o END), '[]'),
               'first_ids', coalesce(pg_catalog.jsonb_object_agg(g.key, g.oldest::text), '{}'))
      INTO page
      FROM (SELECT e.key, (e.value->>0)::bigint AS o, (e.value->>1)::bigint AS oldest
              FROM pg_catalog.jsonb_each(groups) AS e) g;
    lo := CASE WHEN last_o IS NOT NULL OR up THEN (page->'reps'->-1->>'id')::bigint ELSE since_id + 1 END;
    hi := CASE WHEN last_o IS NOT NULL OR NOT up THEN (page->'reps'->0->>'id')::bigint ELSE max_id - 1 END;
    RETURN page || pg_catalog.jsonb_build_object('lo', lo, 'hi', hi);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- h-mv2 (issue 16): the v2 page's groups' own fields built once, by the statement that forms
-- them (_mastodon_page_groups returns them and their representatives apart, which
-- _mastodon_grouped shapes without taking a nested notification out of each group again), the
-- sample accounts formed there (inbox._sample_actors inlined), and a first page subtracting no
-- rows above its top. The same text as 65_mastodon.sql.
-- ---------------------------------------------------------------------------------------------
DROP FUNCTION inbox._mastodon_grouped(jsonb);
DROP FUNCTION inbox._mastodon_page_groups(text, jsonb, jsonb);

CREATE FUNCTION inbox._mastodon_grouped(groups jsonb, notifications jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    -- One statement: the groups' objects by one look-up per relation (_mastodon_targets), the
    -- sample accounts de-duplicated, then looked up once (_mastodon_accounts).
    RETURN (
        WITH g AS (SELECT a.g, a.o FROM pg_catalog.jsonb_array_elements(groups) WITH ORDINALITY AS a(g, o)),
             n AS (SELECT a.n, a.o FROM pg_catalog.jsonb_array_elements(notifications) WITH ORDINALITY AS a(n, o)),
             t AS (SELECT t.v, t.o
                     FROM pg_catalog.jsonb_array_elements(inbox._mastodon_targets(notifications)) WITH ORDINALITY AS t(v, o))
        SELECT pg_catalog.jsonb_build_object(
                   'accounts', inbox._mastodon_accounts(coalesce(
                       (SELECT pg_catalog.jsonb_agg(DISTINCT s.id)
                          FROM g, pg_catalog.jsonb_array_elements(g.g->'sample_account_ids') AS s(id)), '[]')),
                   'statuses', coalesce(pg_catalog.jsonb_agg(DISTINCT t.v->'status') FILTER (WHERE t.v ? 'status'), '[]'),
                   'notification_groups', coalesce(pg_catalog.jsonb_agg(
                       g.g
                       || (t.v - ARRAY['id', 'type', 'created_at', 'group_key', 'account', 'status', 'relationship_severance_event'])
                       || CASE WHEN t.v ? 'status' THEN pg_catalog.jsonb_build_object('status_id', n.n->'status')
                               ELSE '{}' END
                       ORDER BY g.o), '[]'))
          FROM g JOIN n ON n.o = g.o JOIN t ON t.o = g.o);
END
$$;

CREATE OR REPLACE FUNCTION inbox._mastodon_group_page(user_id text, engine jsonb, max_id bigint, since_id bigint,
                                           min_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    lim integer := (engine->>'limit')::integer;
    up boolean := min_id IS NOT NULL;
    -- Rows per seek: a page of `limit` rows, as the engine reads the v1 list.
    chunk_size integer := greatest(lim, 40);
    scan jsonb := (engine - 'grouped_types') || pg_catalog.jsonb_build_object('limit', chunk_size);
    grouped_types jsonb := engine->'grouped_types';
    below bigint := max_id;
    after bigint := CASE WHEN up THEN min_id ELSE since_id END;
    -- The groups begun so far: key -> [its first row's position in the scan, its oldest id
    -- read]; the rows themselves stay in the chunks read (a representative is found again by
    -- its position: every chunk but the last has chunk_size rows).
    groups jsonb := '{}';
    chunks jsonb[] := '{}';
    have integer := 0;   -- how many groups have begun
    read bigint := 0;    -- how many rows the scan has read
    chunk jsonb;
    last_o bigint;       -- where the limit-th group began (NULL: fewer groups so far)
    page jsonb;
    lo bigint;
    hi bigint;
BEGIN
    LOOP
        chunk := inbox._social_list(user_id, scan, 'mastodon', below, CASE WHEN up THEN NULL ELSE after END,
                                    CASE WHEN up THEN after END)->'data';
        -- A chunk comes newest first: by min_id it is read oldest first.
        IF up THEN
            chunk := coalesce((SELECT pg_catalog.jsonb_agg(c.v ORDER BY c.o DESC)
                                 FROM pg_catalog.jsonb_array_elements(chunk) WITH ORDINALITY AS c(v, o)), '[]');
        END IF;
        WITH r AS MATERIALIZED (
                 SELECT s.o + read AS o, s.key, (s.v->>'id')::bigint AS id
                   FROM inbox._mastodon_scanned(chunk, grouped_types) s),
             cut AS (
                 -- The limit-th group's first row, when it begins in this chunk.
                 SELECT (pg_catalog.array_agg(f.first_o ORDER BY f.first_o))[lim - have] AS last_o
                   FROM (SELECT pg_catalog.min(r.o) AS first_o FROM r WHERE NOT groups ? r.key GROUP BY r.key) f),
             c AS (
                 SELECT r.key, pg_catalog.min(r.o) AS first_o, pg_catalog.min(r.id) AS oldest
                   FROM r, cut WHERE cut.last_o IS NULL OR r.o <= cut.last_o
                  GROUP BY r.key)
        SELECT cut.last_o,
               groups || coalesce((SELECT pg_catalog.jsonb_object_agg(c.key,
                                       CASE WHEN groups ? c.key
                                            THEN pg_catalog.jsonb_build_array(groups->c.key->0,
                                                     LEAST((groups->c.key->>1)::bigint, c.oldest))
                                            ELSE pg_catalog.jsonb_build_array(c.first_o, c.oldest) END)
                                     FROM c), '{}')
          INTO last_o, groups
          FROM cut;
        chunks := chunks || chunk;
        have := (SELECT pg_catalog.count(*) FROM pg_catalog.jsonb_object_keys(groups));
        read := read + pg_catalog.jsonb_array_length(chunk);
        EXIT WHEN last_o IS NOT NULL OR pg_catalog.jsonb_array_length(chunk) < chunk_size;
        IF up THEN
            after := (chunk->-1->>'id')::bigint;
        ELSE
            below := (chunk->-1->>'id')::bigint;
        END IF;
    END LOOP;
    -- The groups begun up to the limit-th, each with its representative (the row at its first
    -- position) and its oldest row in the range (newest first: the last row met up to last_o; by
    -- min_id the representative).
    SELECT pg_catalog.jsonb_build_object(
               'reps', coalesce(pg_catalog.jsonb_agg(
                           (chunks[(g.o - 1) / chunk_size + 1]->((g.o - 1) % chunk_size)::integer)
                           || pg_catalog.jsonb_build_object('group_key', g.key)
                           ORDER BY CASE WHEN up THEN -g.o ELSE g.o END), '[]'),
               'first_ids', coalesce(pg_catalog.jsonb_object_agg(g.key, g.oldest::text), '{}'))
      INTO page
      FROM (SELECT e.key, (e.value->>0)::bigint AS o, (e.value->>1)::bigint AS oldest
              FROM pg_catalog.jsonb_each(groups) AS e) g;
    lo := CASE WHEN last_o IS NOT NULL OR up THEN (page->'reps'->-1->>'id')::bigint ELSE since_id + 1 END;
    hi := CASE WHEN last_o IS NOT NULL OR NOT up THEN (page->'reps'->0->>'id')::bigint ELSE max_id - 1 END;
    RETURN page || pg_catalog.jsonb_build_object('lo', lo, 'hi', hi, 'top', max_id IS NULL AND NOT up);
END
$$;

CREATE FUNCTION inbox._mastodon_page_groups(user_id text, engine jsonb, page jsonb,
                                            OUT groups jsonb, OUT notifications jsonb)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    hi bigint := coalesce((page->>'hi')::bigint, 9223372036854775807);
    -- A first page (newest first, no max_id) reaches the user's newest row: no row the request
    -- matches lies above its top, so without a filter nothing is subtracted for rows above it.
    top boolean := coalesce((page->>'top')::boolean, false);
    stamp timestamptz := pg_catalog.now();  -- read once (Citus refuses now() in the statement's COALESCE)
    -- Every row of the group is one the request matches: its summary counts them.
    unfiltered boolean := NOT engine ?| ARRAY['types', 'exclude_types', 'grouped_types', 'filter', 'workspace_id'];
    -- The user's expired rows not pruned yet, by group: one read of notifications_expires_idx
    -- for the page (a count of them group by group would read each group in a generic plan).
    expired jsonb := '{}';
    first_ids jsonb := page->'first_ids';
BEGIN
    IF unfiltered THEN
        SELECT coalesce(pg_catalog.jsonb_object_agg(e.group_key, e.rows), '{}') INTO expired
          FROM (SELECT n.group_key, pg_catalog.count(*) AS rows FROM inbox.notifications n
                 WHERE n.user_id = _mastodon_page_groups.user_id AND n.expires_at <= stamp
                   AND n.deleted_at IS NULL AND n.group_key IS NOT NULL
                 GROUP BY n.group_key) e;
    END IF;
    WITH g AS (
        SELECT r.o, r.v AS notification, u.rep_key, c.notifications_count, s.latest_id, s.latest_at, s.sample
          FROM pg_catalog.jsonb_array_elements(page->'reps') WITH ORDINALITY AS r(v, o)
               CROSS JOIN LATERAL (SELECT (r.v->>'id')::bigint AS rep_id, r.v->>'group_key' AS rep_key,
                                          r.v->>'group_key' = 'ungrouped-' || (r.v->>'id') AS alone) u
               -- The group's (or the row's) most recent matching rows up to the top, newest first.
               CROSS JOIN LATERAL (
                   WITH x AS (
                       SELECT n.id, n.created_at, inbox._actors(ROW(n.*)::inbox.notifications) AS actors
                         FROM inbox.notifications n
                        WHERE u.alone AND n.user_id = _mastodon_page_groups.user_id AND n.id = u.rep_id
                       UNION ALL
                       (SELECT n.id, n.created_at, inbox._actors(ROW(n.*)::inbox.notifications)
                          FROM inbox.notifications n
                         WHERE NOT u.alone AND n.user_id = _mastodon_page_groups.user_id
                           AND n.group_key = u.rep_key AND n.deleted_at IS NULL AND n.id <= hi
                           AND (n.expires_at IS NULL OR n.expires_at > stamp)
                           AND inbox._mastodon_counted(engine, n.type, n.actor_id, n.workspace_id)
                         ORDER BY n.id DESC
                         LIMIT 8))
                   SELECT pg_catalog.count(*) AS found, pg_catalog.max(x.id) AS latest_id,
                          (pg_catalog.array_agg(x.created_at ORDER BY x.id DESC))[1] AS latest_at,
                          -- Mastodon's sample: the distinct actors of these rows, newest row first,
                          -- each row's in its order (inbox._sample_actors, inlined: by the newest
                          -- row an actor is in, its first place in a row, then its id).
                          pg_catalog.to_jsonb(CASE WHEN u.alone THEN (SELECT x1.actors FROM x x1)
                              ELSE ARRAY(SELECT a.actor FROM x x1, pg_catalog.unnest(x1.actors) WITH ORDINALITY AS a(actor, k)
                                          GROUP BY a.actor
                                          ORDER BY pg_catalog.max(x1.id) DESC, pg_catalog.min(a.k), a.actor
                                          LIMIT 8) END) AS sample
                     FROM x) s
               CROSS JOIN LATERAL (
                   SELECT CASE WHEN u.alone THEN s.found
                               -- The summary less what the request does not count; without one,
                               -- or with a filter, the matching rows up to the top are counted.
                               ELSE coalesce(
                                   CASE WHEN unfiltered THEN
                                       (SELECT g.notifications_count FROM inbox.notification_groups g
                                         WHERE g.user_id = _mastodon_page_groups.user_id AND g.group_key = u.rep_key)
                                       - CASE WHEN top THEN 0 ELSE (SELECT pg_catalog.count(*) FROM inbox.notifications n
                                           WHERE n.user_id = _mastodon_page_groups.user_id AND n.group_key = u.rep_key
                                             AND n.deleted_at IS NULL AND n.id > hi
                                             AND (n.expires_at IS NULL OR n.expires_at > stamp)) END
                                       - coalesce((expired->>u.rep_key)::bigint, 0)
                                   END,
                                   (SELECT pg_catalog.count(*) FROM inbox.notifications n
                                     WHERE n.user_id = _mastodon_page_groups.user_id
                                       AND n.group_key = u.rep_key AND n.deleted_at IS NULL AND n.id <= hi
                                       AND (n.expires_at IS NULL OR n.expires_at > stamp)
                                       AND inbox._mastodon_counted(engine, n.type, n.actor_id, n.workspace_id)))
                          END AS notifications_count) c)
    SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'group_key',                   g.rep_key,
               'notifications_count',         g.notifications_count,
               'type',                        g.notification->'type',
               'most_recent_notification_id', g.latest_id::text,
               'page_min_id',                 first_ids->>g.rep_key,
               'page_max_id',                 g.latest_id::text,
               'latest_page_notification_at', inbox.directus_time(g.latest_at),
               'sample_account_ids',          g.sample) ORDER BY g.o), '[]'),
           coalesce(pg_catalog.jsonb_agg(g.notification ORDER BY g.o), '[]')
      INTO groups, notifications
      FROM g;
END
$$;

CREATE OR REPLACE FUNCTION inbox.mastodon_groups(token text, query jsonb, origin text,
                                      OUT body jsonb, OUT link text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    params jsonb := coalesce(query, '{}');
    engine jsonb := inbox._mastodon_engine_params(caller, params, inbox._mastodon_limit(params, 40, 80)) - 'total';
    max_id bigint := inbox._mastodon_id_param(params, 'max_id');
    since_id bigint := inbox._mastodon_id_param(params, 'since_id');
    min_id bigint := inbox._mastodon_id_param(params, 'min_id');
    page jsonb;
    groups jsonb;
    notifications jsonb;
    newest text;
    oldest text;
BEGIN
    -- grouped_types[]: the types that group; a row of any other type is ungrouped-{id}. Left
    -- out, every type groups by its groupKey.
    IF params ? 'grouped_types' THEN
        engine := engine || pg_catalog.jsonb_build_object('grouped_types', inbox._mastodon_types(params, 'grouped_types'));
    END IF;
    IF params ? 'expand_accounts' AND params->>'expand_accounts' NOT IN ('full', 'partial_avatars') THEN
        RAISE EXCEPTION 'expand_accounts: expected full or partial_avatars, got %', pg_catalog.quote_literal(params->>'expand_accounts')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    page := inbox._mastodon_group_page(caller.user_id, engine || '{"total": false}', max_id, since_id, min_id);
    SELECT p.groups, p.notifications INTO groups, notifications
      FROM inbox._mastodon_page_groups(caller.user_id, engine, page) p;
    body := inbox._mastodon_grouped(groups, notifications);
    -- The Link from the ends of the page's range: next continues below its oldest row, prev
    -- above its newest. On a full page these are Mastodon's (the oldest and the newest
    -- representative); on a page with fewer groups than `limit` the range reaches past the
    -- oldest representative, and Mastodon's next would show that range's older rows again.
    SELECT pg_catalog.max((g->>'page_max_id')::bigint)::text, pg_catalog.min((g->>'page_min_id')::bigint)::text
      INTO newest, oldest
      FROM pg_catalog.jsonb_array_elements(body->'notification_groups') AS g;
    link := inbox._mastodon_link(origin, '/api/v2/notifications', params,
                                 ARRAY['account_id', 'exclude_types', 'expand_accounts', 'grouped_types', 'limit', 'types'],
                                 newest, oldest);
END
$$;

CREATE OR REPLACE FUNCTION inbox.mastodon_group(token text, group_key text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    narrow jsonb := inbox._mastodon_group_filter(caller, group_key);
    g jsonb;
    latest inbox.notifications;
BEGIN
    -- The group's summary (inbox.groups), its most recent notification the representative.
    g := inbox._social_groups(caller.user_id, narrow || pg_catalog.jsonb_build_object('limit', 1, 'total', false)
                                              || coalesce(pg_catalog.jsonb_build_object('workspace_id', caller.workspace_id), '{}'))->'data'->0;
    latest := inbox._social_row(caller, inbox.internal_id(g->>'mostRecentNotificationId'), group_key);
    RETURN inbox._mastodon_grouped(pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
        'group_key',                   inbox._mastodon_group_key(g->>'groupKey'),
        'notifications_count',         g->'notificationsCount',
        'type',                        g->'type',
        'most_recent_notification_id', latest.id::text,
        'page_min_id',                 latest.id::text,
        'page_max_id',                 latest.id::text,
        'latest_page_notification_at', inbox.directus_time((g->>'latestAt')::timestamptz),
        'sample_account_ids',          g->'sampleActorIds')),
        pg_catalog.jsonb_build_array(inbox.mastodon_json(latest)));
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Issue 15, h-dfeed (45_feed, 55_delivery, 80_citus): the outbox filled from the change feed by
-- the expander (inbox.expand_deliveries, run by inbox.claim_deliveries) instead of a trigger on
-- inbox.events: the create writes its events and nothing more. The poll's core is one function
-- for the streams' poll and the expander (inbox._feed_page); the expander's cursor is a table of
-- its own, local to each node, started from now; pruning keeps the events the expander has not
-- passed. The same text as those files.
-- ---------------------------------------------------------------------------------------------

-- The trigger goes first: its lock on inbox.events waits for every create that queued through
-- it, so that the cursor taken below, after them, leaves their events behind it.
DROP TRIGGER deliveries_after_insert ON inbox.events;
DROP FUNCTION inbox._deliveries_after_events();

CREATE FUNCTION inbox._check_feed_limit("limit" integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF _check_feed_limit."limit" IS NULL OR _check_feed_limit."limit" NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION 'limit: expected 1 to 100000, got %', coalesce(_check_feed_limit."limit"::text, 'null')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;


CREATE FUNCTION inbox._feed_newest_xid()
RETURNS xid8
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    newest xid8;
BEGIN
    IF NOT inbox._citus_managed('inbox.events') THEN
        RETURN (SELECT max(e.xid) FROM inbox.events e);
    END IF;
    EXECUTE pg_catalog.format('SELECT max(e.xid) FROM %s AS e', inbox._feed_local_source()) INTO newest;
    RETURN newest;
END
$$;


CREATE FUNCTION inbox._feed_start()
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    s pg_catalog.pg_snapshot := pg_catalog.pg_current_snapshot();
BEGIN
    RETURN pg_catalog.jsonb_build_object('x', pg_catalog.pg_snapshot_xmin(s)::text, 'p', s::text)::text;
END
$$;


CREATE FUNCTION inbox._feed_page(cursor text, "limit" integer, with_recent text,
                                 OUT events inbox.events[], OUT next_cursor text)
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
    recent inbox.events[];
    last   inbox.events;
    room   integer;
    source text := inbox._feed_local_source();
BEGIN
    PERFORM inbox._check_feed_limit(_feed_page."limit");
    events := '{}';
    IF _feed_page.cursor IS NULL THEN
        next_cursor := inbox._feed_start();
        RETURN;
    END IF;
    BEGIN
        c  := _feed_page.cursor::jsonb;
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
       INTO events USING x, m, p, kx, ku, ki, _feed_page."limit";
    room := _feed_page."limit" - pg_catalog.cardinality(events);
    IF room = 0 THEN
        last := events[pg_catalog.cardinality(events)];
        next_cursor := pg_catalog.jsonb_build_object('x', x::text, 'p', p::text,
                                                     'k', pg_catalog.jsonb_build_array(last.xid::text, last.user_id, last.id))::text;
        RETURN;
    END IF;
    -- (b) the recent ones, one more than fits to know whether they all did.
    EXECUTE pg_catalog.format(
        'SELECT ARRAY(SELECT ROW(e.*)::inbox.events FROM %s AS e
                       WHERE e.xid >= $1 AND pg_catalog.pg_visible_in_snapshot(e.xid, $2)
                         AND NOT pg_catalog.pg_visible_in_snapshot(e.xid, $3)
                       ORDER BY e.xid, e.user_id COLLATE "C", e.id
                       LIMIT $4)', source)
       INTO recent USING m, s, p, room + 1;
    IF pg_catalog.cardinality(recent) <= room THEN
        next_cursor := pg_catalog.jsonb_build_object('x', m::text, 'p', s::text)::text;
        events := events || recent;
    ELSE
        next_cursor := pg_catalog.jsonb_build_object('x', m::text, 'p', p::text)::text;
        IF with_recent = 'some' THEN
            events := events || recent[1:room];
        END IF;
    END IF;
END
$$;


CREATE OR REPLACE FUNCTION inbox._poll_node(cursor text, "limit" integer)
RETURNS TABLE (next_cursor text, user_id text, id bigint, event text, workspace_id text, unread bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    page inbox.events[];
BEGIN
    SELECT f.events, f.next_cursor INTO page, next_cursor FROM inbox._feed_page(_poll_node.cursor, _poll_node."limit", 'some') AS f;
    IF pg_catalog.cardinality(page) = 0 THEN
        RETURN NEXT;
        RETURN;
    END IF;
    RETURN QUERY SELECT next_cursor, e.user_id, e.id, e.event, e.workspace_id, e.unread
                   FROM pg_catalog.unnest(page) AS e
                  ORDER BY e.user_id COLLATE "C", e.id;
END
$$;


CREATE OR REPLACE FUNCTION inbox.poll_events(cursor text DEFAULT NULL, "limit" integer DEFAULT 1000)
RETURNS TABLE (next_cursor text, user_id text, id bigint, event text, workspace_id text, unread bigint)
LANGUAGE plpgsql
-- On a Citus cluster it reads every node, by design.
SET citus.multi_task_query_log_level = off
AS $$
BEGIN
    PERFORM inbox._check_feed_limit(poll_events."limit");
    IF inbox._citus_managed('inbox.events') THEN
        RETURN QUERY SELECT * FROM inbox._citus_poll_events(poll_events.cursor, poll_events."limit");
    ELSE
        RETURN QUERY SELECT * FROM inbox._poll_node(poll_events.cursor, poll_events."limit");
    END IF;
END
$$;


CREATE OR REPLACE FUNCTION inbox.prune_events(batch integer DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    cutoff  timestamptz := pg_catalog.now() - inbox._feed_retention();
    removed bigint;
    kept_from xid8;
BEGIN
    IF batch IS NULL OR batch < 1 THEN
        RAISE EXCEPTION 'batch: expected at least 1, got %', coalesce(batch::text, 'null')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF inbox._citus_managed('inbox.events') THEN
        RETURN inbox._citus_prune_events(cutoff, batch);
    END IF;
    kept_from := inbox._delivery_feed_floor();
    DELETE FROM inbox.events e
     USING (SELECT o.user_id, o.id, o.created_at, o.xid FROM inbox.events o ORDER BY o.xid LIMIT batch) AS old
     WHERE e.user_id = old.user_id AND e.id = old.id AND old.created_at < cutoff
       AND (kept_from IS NULL OR old.xid < kept_from);
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END
$$;


COMMENT ON FUNCTION inbox.prune_events(integer) IS
    'Deletes at most `batch` change-feed events older than inbox.feed_retention (default 24 hours), keeping those the delivery expander has not passed; returns how many. Call it until it returns less than batch.';

CREATE OR REPLACE FUNCTION inbox._queue_deliveries(events inbox.events[], email boolean, hooks boolean)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    many boolean := pg_catalog.cardinality(events) > 1;
    queued bigint;  -- (the rows the statement inserted; unused)
BEGIN
    WITH found AS MATERIALIZED (
        -- The events that call for a delivery, each with its notification's row.
        SELECT x.*, CASE WHEN x.notification_id IS NOT NULL
                         THEN inbox._notification_at(x.user_id, x.notification_id, many) END AS n
          FROM (SELECT e.id, e.user_id, e.event, e.notification_id, e.workspace_id, coalesce(e.data, '{}') AS data,
                       e.created_at,
                       email AND e.event = 'notification.created' AS mailed,
                       hooks AND EXISTS (SELECT FROM inbox.webhooks w
                                          WHERE w.enabled AND e.event = ANY (w.events)
                                            AND (w.user_id IS NULL OR w.user_id = e.user_id)
                                            AND (w.workspace_id IS NULL OR w.workspace_id = e.workspace_id)) AS hooked
                  -- ((SELECT events): the planner sizes the array alike in every call, so that
                  -- the plan is made once per session, not for each array it is given.)
                  FROM pg_catalog.unnest((SELECT events)) AS e) AS x
         WHERE x.mailed OR x.hooked),
    -- E-mails: the created notifications that are stored (an in_app-off recipient's e-mail was
    -- queued by the create, inbox._skip_in_app).
    mails AS MATERIALIZED (
        SELECT w.*, t.email_digest
          FROM (SELECT pg_catalog.array_agg(f.user_id ORDER BY f.id) AS user_ids,
                       pg_catalog.array_agg((f.n).type ORDER BY f.id) AS types,
                       pg_catalog.array_agg(f.notification_id ORDER BY f.id) AS notification_ids
                  FROM found f
                 WHERE f.mailed AND (f.n).id IS NOT NULL) AS a
         CROSS JOIN LATERAL inbox._emails_wanted(a.user_ids, a.types, a.notification_ids, NULL) AS w
          LEFT JOIN inbox.notification_types t ON t.name = w.type
         WHERE a.user_ids IS NOT NULL),
    digested AS (
        INSERT INTO inbox.deliveries AS d (user_id, channel, address, event, type, notification_ids, digest, due_at)
        SELECT m.user_id, 'email', pg_catalog.min(m.address), 'notification.created', m.type,
               pg_catalog.array_agg(m.notification_id ORDER BY m.notification_id), true,
               pg_catalog.now() + pg_catalog.min(m.email_digest)
          FROM mails m WHERE m.email_digest IS NOT NULL
         GROUP BY m.user_id, m.type
        ON CONFLICT (user_id, type) WHERE digest AND state = 'pending' AND attempts = 0
        DO UPDATE SET notification_ids = d.notification_ids || excluded.notification_ids),
    marks AS MATERIALIZED (
        SELECT u.user_id, m.read_marks, m.seen
          FROM (SELECT DISTINCT f.user_id FROM found f WHERE f.hooked) AS u
         CROSS JOIN LATERAL inbox._user_marks(u.user_id) AS m),
    shaped AS MATERIALIZED (
        -- The event's data as the streams get it (45_feed.sql), always naming the user. (Every
        -- event has its user's marks: FULL only rules out a nested loop.)
        SELECT f.user_id, f.event, f.notification_id, f.workspace_id, (f.n).type AS type, f.created_at,
               inbox._event_data(f.event, f.notification_id, f.data, f.n, m.read_marks, m.seen)
               || pg_catalog.jsonb_build_object('userId', f.user_id) AS data
          FROM (SELECT * FROM found WHERE hooked) AS f FULL JOIN marks m ON m.user_id = f.user_id),
    inserted AS (
        INSERT INTO inbox.deliveries (user_id, channel, address, webhook_id, event, type, notification_ids, payload)
        SELECT m.user_id, 'email', m.address, NULL, 'notification.created', m.type, ARRAY[m.notification_id], NULL
          FROM mails m WHERE m.email_digest IS NULL
        UNION ALL
        -- Webhooks (Standard Webhooks: type, timestamp, data): the time of the event, the
        -- notification as the expander found it, milliseconds after it.
        SELECT s.user_id, 'webhook', NULL, w.id, s.event, s.type,
               CASE WHEN s.notification_id IS NULL THEN '{}'::bigint[] ELSE ARRAY[s.notification_id] END,
               pg_catalog.jsonb_build_object('type', s.event, 'timestamp', inbox.iso_time(s.created_at), 'data', s.data)
          FROM shaped s
          JOIN inbox.webhooks w ON w.enabled AND s.event = ANY (w.events)
                               AND (w.user_id IS NULL OR w.user_id = s.user_id)
                               AND (w.workspace_id IS NULL OR w.workspace_id = s.workspace_id)
         -- (A summary is of no one type: an endpoint that asked for its event gets it.)
         WHERE w.types IS NULL OR s.notification_id IS NULL OR s.type = ANY (w.types)
        RETURNING 1)
    SELECT pg_catalog.count(*) INTO queued FROM inserted;
END
$$;


CREATE TABLE inbox.delivery_feed_position (
    only_row  boolean     PRIMARY KEY DEFAULT true CHECK (only_row),
    cursor    text        NOT NULL,
    moved_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);

COMMENT ON TABLE inbox.delivery_feed_position IS
    'The delivery expander''s cursor in this node''s change feed (inbox.expand_deliveries): the events before it have their deliveries queued. Local to each node; not dumped.';

-- From now: what committed before has no deliveries of the expander's (before 0.2.0's expander,
-- none at all, or the trigger's).
INSERT INTO inbox.delivery_feed_position (cursor) SELECT inbox._feed_start();


CREATE FUNCTION inbox._delivery_configured(OUT email boolean, OUT hooks boolean)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    -- E-mail, sent when a notification is created (never on an update: Directus's rule).
    email := inbox._setting('pg_inbox.email_column', '') <> '';
    hooks := EXISTS (SELECT FROM inbox.webhooks w WHERE w.enabled);
END
$$;


CREATE FUNCTION inbox._delivery_feed_floor()
RETURNS xid8
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    wanted record := inbox._delivery_configured();
BEGIN
    IF NOT wanted.email AND NOT wanted.hooks THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT (pg_catalog.jsonb_extract_path_text(f.cursor::jsonb, 'x'))::xid8 FROM inbox.delivery_feed_position f);
END
$$;


CREATE FUNCTION inbox._expand_node("limit" integer)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    here text;
    page inbox.events[];
    next text;
    wanted record;
    one_user record;
BEGIN
    SELECT f.cursor INTO here FROM inbox.delivery_feed_position f;
    IF NOT FOUND THEN
        -- (Someone emptied the table: start again from now.)
        INSERT INTO inbox.delivery_feed_position (cursor) SELECT inbox._feed_start() ON CONFLICT DO NOTHING;
        RETURN 0;
    END IF;
    -- Idle: no event at or beyond the cursor's x (one probe of the feed's xid index). Events
    -- there may all be behind the cursor already (in its p): then the page below is empty and
    -- moving the cursor on puts x beyond them, so the next look is this one again.
    IF NOT coalesce(inbox._feed_newest_xid() >= pg_catalog.jsonb_extract_path_text(here::jsonb, 'x')::xid8, false) THEN
        RETURN 0;
    END IF;
    SELECT f.cursor INTO here FROM inbox.delivery_feed_position f FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN 0;  -- another expander is at it
    END IF;
    wanted := inbox._delivery_configured();
    IF NOT wanted.email AND NOT wanted.hooks THEN
        UPDATE inbox.delivery_feed_position
           SET cursor = inbox._feed_start(), moved_at = pg_catalog.now();
        RETURN 0;
    END IF;
    SELECT f.events, f.next_cursor INTO page, next FROM inbox._feed_page(here, "limit", 'whole') AS f;
    IF pg_catalog.cardinality(page) > 0 THEN
        IF inbox._citus_managed('inbox.events') THEN
            FOR one_user IN SELECT pg_catalog.array_agg(e ORDER BY e.id) AS events
                              FROM pg_catalog.unnest(page) AS e GROUP BY e.user_id LOOP
                PERFORM inbox._queue_deliveries(one_user.events, wanted.email, wanted.hooks);
            END LOOP;
        ELSE
            PERFORM inbox._queue_deliveries(page, wanted.email, wanted.hooks);
        END IF;
    END IF;
    UPDATE inbox.delivery_feed_position SET cursor = next, moved_at = pg_catalog.now();
    RETURN pg_catalog.cardinality(page);
END
$$;


CREATE FUNCTION inbox.expand_deliveries("limit" integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql
-- On a Citus cluster it runs on every node, by design.
SET citus.multi_task_query_log_level = off
AS $$
BEGIN
    PERFORM inbox._check_feed_limit(expand_deliveries."limit");
    IF inbox._citus_managed('inbox.events') THEN
        RETURN inbox._citus_expand_deliveries(expand_deliveries."limit");
    END IF;
    RETURN inbox._expand_node(expand_deliveries."limit");
END
$$;


COMMENT ON FUNCTION inbox.expand_deliveries(integer) IS
    'Queues the deliveries (e-mail, webhooks) of up to limit change-feed events committed since the last expansion, each exactly once; returns how many events it read (0 when another expansion is running). inbox.claim_deliveries calls it first; on a Citus cluster every node expands its own shards.';

CREATE OR REPLACE FUNCTION inbox.claim_deliveries("limit" integer DEFAULT 100, lease_for interval DEFAULT '1 minute',
                                       channels text[] DEFAULT '{email,webhook}')
RETURNS TABLE (user_id text, id text, lease uuid, channel text, attempt integer, target text,
               headers jsonb, body text, secret text)
LANGUAGE plpgsql
AS $$
DECLARE
    claim uuid := pg_catalog.gen_random_uuid();
    at timestamptz := pg_catalog.now();
    stamp text := pg_catalog.floor(EXTRACT(epoch FROM at))::bigint::text;
BEGIN
    IF "limit" IS NULL OR "limit" NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'limit: expected 1 to 10000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM inbox.expand_deliveries();
    IF inbox._citus_managed('inbox.deliveries') THEN
        RETURN QUERY SELECT * FROM inbox._claim_citus("limit", lease_for, channels);
        RETURN;
    END IF;
    RETURN QUERY
    WITH due AS (
        SELECT x.user_id, x.id FROM inbox.deliveries x
         WHERE x.state = 'pending' AND x.due_at <= at AND x.channel = ANY (channels)
         ORDER BY x.due_at LIMIT "limit"
           FOR UPDATE SKIP LOCKED),
    found AS (
        SELECT x.user_id, x.id, x.channel, x.type, x.payload, x.address, x.notification_ids,
               w.url, w.secret, m.count, m.first_id, m.subject, m.lines,
               CASE WHEN x.channel = 'webhook' THEN coalesce(w.enabled, false)
                    ELSE x.payload IS NOT NULL OR m.count > 0 END AS live
          FROM due JOIN inbox.deliveries x ON x.user_id = due.user_id AND x.id = due.id
          LEFT JOIN inbox.webhooks w ON x.channel = 'webhook' AND w.id = x.webhook_id
          LEFT JOIN LATERAL (
              SELECT pg_catalog.count(*)::int AS count, pg_catalog.min(n.id) AS first_id,
                     pg_catalog.min(n.title) FILTER (WHERE n.id = x.notification_ids[1]) AS subject,
                     pg_catalog.string_agg(
                         CASE WHEN pg_catalog.cardinality(x.notification_ids) > 1 THEN '* ' ELSE '' END
                         || coalesce(n.title, n.type)
                         || coalesce(E'\n\n' || n.body, '')
                         || coalesce(E'\n\n' || (n.data->>'url'), ''),
                         E'\n\n' ORDER BY n.created_at, n.id) AS lines
                FROM inbox.notifications n
               WHERE x.channel = 'email' AND n.user_id = x.user_id AND n.id = ANY (x.notification_ids)
                 AND n.deleted_at IS NULL) m ON true),
    cancelled AS (
        UPDATE inbox.deliveries x
           SET state = 'cancelled', finished_at = at, lease = NULL, attempts = x.attempts + 1, digest = false,
               last_error = CASE WHEN f.channel = 'webhook' THEN 'the webhook endpoint was removed or disabled'
                                 ELSE 'every notification of the e-mail was deleted' END
          FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND NOT f.live),
    claimed AS (
        UPDATE inbox.deliveries x
           SET lease = claim, attempts = x.attempts + 1, due_at = at + lease_for, digest = false
          FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND f.live
        RETURNING x.user_id, x.id, x.attempts)
    SELECT f.user_id, inbox._delivery_public_id(f.id), claim, f.channel, c.attempts,
           CASE WHEN f.channel = 'webhook' THEN f.url ELSE f.address END,
           CASE WHEN f.channel = 'webhook'
                THEN pg_catalog.jsonb_build_object('webhook-id', inbox._delivery_public_id(f.id), 'webhook-timestamp', stamp)
                ELSE pg_catalog.jsonb_build_object(
                         'subject', CASE WHEN pg_catalog.cardinality(f.notification_ids) > 1 THEN f.count || ' new notifications'
                                         WHEN f.count > 0 THEN coalesce(f.subject, f.type, 'New notification')
                                         ELSE coalesce(f.payload->>'title', f.type, 'New notification') END,
                         -- A retry is the same message; a digest, or an e-mail without a stored
                         -- notification, is its own.
                         'messageId', CASE WHEN pg_catalog.cardinality(f.notification_ids) = 1 AND f.count > 0
                                           THEN inbox.public_id(f.first_id) ELSE inbox._delivery_public_id(f.id) END,
                         'unsubscribe', inbox._unsubscribe_token(f.user_id, f.type),
                         'type', f.type) END,
           CASE WHEN f.channel = 'webhook' THEN f.payload::text
                WHEN f.count > 0 THEN f.lines || E'\n'
                ELSE coalesce(f.payload->>'title', f.type) || coalesce(E'\n\n' || (f.payload->>'body'), '')
                     || coalesce(E'\n\n' || (f.payload->'data'->>'url'), '') || E'\n' END,
           f.secret
      FROM claimed c JOIN found f ON f.user_id = c.user_id AND f.id = c.id;
END
$$;


CREATE FUNCTION inbox._citus_expand_deliveries("limit" integer)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    node record;
    expanded integer := 0;
BEGIN
    FOR node IN SELECT * FROM pg_catalog.run_command_on_all_nodes(
                    pg_catalog.format('SELECT inbox._expand_node(%s)', "limit")) LOOP
        IF NOT node.success THEN
            RAISE WARNING 'inbox.expand_deliveries: node % could not expand: %', node.nodeid, node.result;
            CONTINUE;
        END IF;
        expanded := expanded + node.result::integer;
    END LOOP;
    RETURN expanded;
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
    -- older than the cutoff that the expander of the shard's node has passed (its floor is read
    -- there: xids are that node's).
    SELECT coalesce(sum(r.result::bigint), 0) INTO removed
      FROM pg_catalog.run_command_on_shards('inbox.events',
               -- (run_command_on_shards puts the shard's name for each %1$s.)
               pg_catalog.format('WITH kept AS MATERIALIZED (SELECT inbox._delivery_feed_floor() AS from_xid),
                                       gone AS (DELETE FROM %%1$s e USING (SELECT o.user_id, o.id, o.created_at, o.xid FROM %%1$s o ORDER BY o.xid LIMIT %s) AS old, kept
                                               WHERE e.user_id = old.user_id AND e.id = old.id AND old.created_at < %L
                                                 AND (kept.from_xid IS NULL OR old.xid < kept.from_xid) RETURNING 1)
                                  SELECT count(*) FROM gone', batch, cutoff)) AS r;
    RETURN removed;
END
$$;


REVOKE ALL ON FUNCTION inbox.expand_deliveries(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._expand_node(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._citus_expand_deliveries(integer) FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Issue 15, h-dfeed2 (45_feed, 55_delivery, 80_citus): the expander keyed by each user's event
-- ids (inbox.delivery_progress, distributed with the notifications), exactly once across shard
-- moves; the feed page has one mode (the expander's 'whole' is gone); the cursor's parsing and
-- "passed" test are helpers of their own.
-- ---------------------------------------------------------------------------------------------

ALTER TABLE inbox.delivery_feed_position ADD COLUMN unconfigured_at timestamptz;
COMMENT ON TABLE inbox.delivery_feed_position IS
    'The delivery expander''s cursor in this node''s change feed (inbox.expand_deliveries): which users have events to expand (inbox.delivery_progress says which are). Local to each node; not dumped.';

CREATE TABLE inbox.delivery_progress (
    user_id  text   NOT NULL,
    event_id bigint NOT NULL,
    CONSTRAINT delivery_progress_pkey PRIMARY KEY (user_id)
);

COMMENT ON TABLE inbox.delivery_progress IS
    'Per user, the last change-feed event id whose deliveries the expander queued (inbox.expand_deliveries): the events after it are the ones to expand. Not dumped.';

DROP FUNCTION inbox._feed_page(text, integer, text);

CREATE OR REPLACE FUNCTION inbox._feed_cursor(cursor text, OUT x xid8, OUT p pg_catalog.pg_snapshot,
                                   OUT kx xid8, OUT ku text, OUT ki bigint)
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    c jsonb;
BEGIN
    BEGIN
        c  := _feed_cursor.cursor::jsonb;
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
END
$$;


CREATE OR REPLACE FUNCTION inbox._feed_passed(x xid8, p pg_catalog.pg_snapshot, kx xid8, ku text, ki bigint,
                                   xid xid8, user_id text, id bigint)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT xid < x OR pg_catalog.pg_visible_in_snapshot(xid, p)
           OR coalesce((xid, user_id COLLATE "C", id) <= (kx, ku COLLATE "C", ki), false)
$$;


CREATE OR REPLACE FUNCTION inbox._feed_page(cursor text, "limit" integer,
                                 OUT events inbox.events[], OUT next_cursor text)
LANGUAGE plpgsql
AS $$
DECLARE
    s      pg_catalog.pg_snapshot := pg_catalog.pg_current_snapshot();
    m      xid8 := pg_catalog.pg_snapshot_xmin(s);
    x      xid8;
    p      pg_catalog.pg_snapshot;
    kx     xid8;
    ku     text;
    ki     bigint;
    recent inbox.events[];
    last   inbox.events;
    room   integer;
    source text := inbox._feed_local_source();
BEGIN
    PERFORM inbox._check_feed_limit(_feed_page."limit");
    events := '{}';
    IF _feed_page.cursor IS NULL THEN
        next_cursor := inbox._feed_start();
        RETURN;
    END IF;
    SELECT f.x, f.p, f.kx, f.ku, f.ki INTO x, p, kx, ku, ki FROM inbox._feed_cursor(_feed_page.cursor) AS f;

    -- (a) the final range.
    EXECUTE pg_catalog.format(
        'SELECT ARRAY(SELECT ROW(e.*)::inbox.events FROM %s AS e
                       WHERE e.xid >= $1 AND e.xid < $2 AND ($4 IS NULL OR e.xid >= $4)
                         AND NOT pg_catalog.pg_visible_in_snapshot(e.xid, $3)
                         AND ($4 IS NULL OR (e.xid, e.user_id COLLATE "C", e.id) > ($4, $5 COLLATE "C", $6))
                       ORDER BY e.xid, e.user_id COLLATE "C", e.id
                       LIMIT $7)', source)
       INTO events USING x, m, p, kx, ku, ki, _feed_page."limit";
    room := _feed_page."limit" - pg_catalog.cardinality(events);
    IF room = 0 THEN
        last := events[pg_catalog.cardinality(events)];
        next_cursor := pg_catalog.jsonb_build_object('x', x::text, 'p', p::text,
                                                     'k', pg_catalog.jsonb_build_array(last.xid::text, last.user_id, last.id))::text;
        RETURN;
    END IF;
    -- (b) the recent ones, one more than fits to know whether they all did.
    EXECUTE pg_catalog.format(
        'SELECT ARRAY(SELECT ROW(e.*)::inbox.events FROM %s AS e
                       WHERE e.xid >= $1 AND pg_catalog.pg_visible_in_snapshot(e.xid, $2)
                         AND NOT pg_catalog.pg_visible_in_snapshot(e.xid, $3)
                       ORDER BY e.xid, e.user_id COLLATE "C", e.id
                       LIMIT $4)', source)
       INTO recent USING m, s, p, room + 1;
    IF pg_catalog.cardinality(recent) <= room THEN
        next_cursor := pg_catalog.jsonb_build_object('x', m::text, 'p', s::text)::text;
        events := events || recent;
    ELSE
        next_cursor := pg_catalog.jsonb_build_object('x', m::text, 'p', p::text)::text;
        events := events || recent[1:room];
    END IF;
END
$$;


CREATE OR REPLACE FUNCTION inbox._poll_node(cursor text, "limit" integer)
RETURNS TABLE (next_cursor text, user_id text, id bigint, event text, workspace_id text, unread bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    page inbox.events[];
BEGIN
    SELECT f.events, f.next_cursor INTO page, next_cursor FROM inbox._feed_page(_poll_node.cursor, _poll_node."limit") AS f;
    IF pg_catalog.cardinality(page) = 0 THEN
        RETURN NEXT;
        RETURN;
    END IF;
    RETURN QUERY SELECT next_cursor, e.user_id, e.id, e.event, e.workspace_id, e.unread
                   FROM pg_catalog.unnest(page) AS e
                  ORDER BY e.user_id COLLATE "C", e.id;
END
$$;


CREATE OR REPLACE FUNCTION inbox._expand_user(user_id text, upto bigint, x xid8, p pg_catalog.pg_snapshot, kx xid8,
                                   ku text, ki bigint, since timestamptz, email boolean, hooks boolean)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    after bigint;
    due inbox.events[];
BEGIN
    SELECT d.event_id INTO after FROM inbox.delivery_progress d WHERE d.user_id = _expand_user.user_id FOR UPDATE;
    IF NOT FOUND THEN
        SELECT coalesce(min(e.id) FILTER (WHERE NOT inbox._feed_passed(x, p, kx, ku, ki, e.xid, e.user_id, e.id)) - 1,
                        max(e.id), 0)
          INTO after
          FROM inbox.events e WHERE e.user_id = _expand_user.user_id;
        INSERT INTO inbox.delivery_progress AS d (user_id, event_id) VALUES (_expand_user.user_id, after)
        ON CONFLICT ON CONSTRAINT delivery_progress_pkey DO UPDATE SET event_id = d.event_id
        RETURNING d.event_id INTO after;
    END IF;
    IF upto <= after THEN
        RETURN;
    END IF;
    SELECT pg_catalog.array_agg(ROW(e.*)::inbox.events ORDER BY e.id) INTO due
      FROM inbox.events e
     WHERE e.user_id = _expand_user.user_id AND e.id > after AND e.id <= upto
       AND (since IS NULL OR e.created_at > since);
    IF pg_catalog.cardinality(due) > 0 THEN
        PERFORM inbox._queue_deliveries(due, email, hooks);
    END IF;
    UPDATE inbox.delivery_progress d SET event_id = upto WHERE d.user_id = _expand_user.user_id;
END
$$;


CREATE OR REPLACE FUNCTION inbox._expand_node("limit" integer)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    here text;
    since timestamptz;
    c record;
    page inbox.events[];
    next text;
    wanted record;
    due inbox.events[];
    one_user record;
BEGIN
    SELECT f.cursor INTO here FROM inbox.delivery_feed_position f;
    IF NOT FOUND THEN
        -- (Someone emptied the table: start again from now.)
        INSERT INTO inbox.delivery_feed_position (cursor) SELECT inbox._feed_start() ON CONFLICT DO NOTHING;
        RETURN 0;
    END IF;
    -- Idle: no event at or beyond the cursor's x (one probe of the feed's xid index). Events
    -- there may all be behind the cursor already (in its p): then the page below is empty and
    -- moving the cursor on puts x beyond them, so the next look is this one again.
    IF NOT coalesce(inbox._feed_newest_xid() >= pg_catalog.jsonb_extract_path_text(here::jsonb, 'x')::xid8, false) THEN
        RETURN 0;
    END IF;
    SELECT f.cursor, f.unconfigured_at INTO here, since FROM inbox.delivery_feed_position f FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN 0;  -- another expander is at it
    END IF;
    wanted := inbox._delivery_configured();
    IF NOT wanted.email AND NOT wanted.hooks THEN
        UPDATE inbox.delivery_feed_position
           SET cursor = inbox._feed_start(), moved_at = pg_catalog.now(), unconfigured_at = pg_catalog.now();
        RETURN 0;
    END IF;
    SELECT * INTO c FROM inbox._feed_cursor(here);
    SELECT f.events, f.next_cursor INTO page, next FROM inbox._feed_page(here, "limit") AS f;
    IF pg_catalog.cardinality(page) > 0 AND inbox._citus_managed('inbox.events') THEN
        FOR one_user IN SELECT e.user_id, max(e.id) AS upto FROM pg_catalog.unnest(page) AS e GROUP BY e.user_id LOOP
            PERFORM inbox._expand_user(one_user.user_id, one_user.upto, c.x, c.p, c.kx, c.ku, c.ki, since,
                                       wanted.email, wanted.hooks);
        END LOOP;
    ELSIF pg_catalog.cardinality(page) > 0 THEN
        -- Planned at each expansion (never with the plan of a smaller inbox: a join by key).
        EXECUTE 'WITH reach AS (
                     SELECT e.user_id, max(e.id) AS upto FROM pg_catalog.unnest($1) AS e GROUP BY e.user_id),
                 ranges AS MATERIALIZED (
                     SELECT r.user_id, r.upto,
                            coalesce(d.event_id,
                                     (SELECT coalesce(min(o.id) FILTER (WHERE NOT inbox._feed_passed($2, $3, $4, $5, $6, o.xid, o.user_id, o.id)) - 1,
                                                      max(o.id), 0)
                                        FROM inbox.events o WHERE o.user_id = r.user_id)) AS after
                       FROM reach r LEFT JOIN inbox.delivery_progress d ON d.user_id = r.user_id),
                 moved AS (
                     INSERT INTO inbox.delivery_progress AS d (user_id, event_id)
                     SELECT r.user_id, r.upto FROM ranges r
                     ON CONFLICT ON CONSTRAINT delivery_progress_pkey DO UPDATE SET event_id = excluded.event_id
                      WHERE d.event_id < excluded.event_id)
                 SELECT pg_catalog.array_agg(ROW(e.*)::inbox.events ORDER BY e.user_id, e.id)
                   FROM ranges r JOIN inbox.events e ON e.user_id = r.user_id AND e.id > r.after AND e.id <= r.upto
                  WHERE $7::timestamptz IS NULL OR e.created_at > $7'
           INTO due USING page, c.x, c.p, c.kx, c.ku, c.ki, since;
        IF pg_catalog.cardinality(due) > 0 THEN
            PERFORM inbox._queue_deliveries(due, wanted.email, wanted.hooks);
        END IF;
    END IF;
    UPDATE inbox.delivery_feed_position SET cursor = next, moved_at = pg_catalog.now();
    RETURN pg_catalog.cardinality(page);
END
$$;


CREATE OR REPLACE FUNCTION inbox._citus_tables()
RETURNS TABLE (relation regclass, reference boolean)
LANGUAGE sql STABLE
AS $$
    VALUES ('inbox.notifications'::regclass, false),
           ('inbox.user_counters'::regclass, false),
           ('inbox.workspace_counters'::regclass, false),
           ('inbox.notification_groups'::regclass, false),
           ('inbox.marks'::regclass, false),
           ('inbox.notification_actors'::regclass, false),
           ('inbox.idempotency_keys'::regclass, false),
           ('inbox.events'::regclass, false),
           ('inbox.mastodon_markers'::regclass, false),
           -- delivery (55_delivery.sql): the outbox, its log and the preferences per user
           ('inbox.preferences'::regclass, false),
           ('inbox.deliveries'::regclass, false),
           ('inbox.delivery_attempts'::regclass, false),
           ('inbox.delivery_progress'::regclass, false),
           ('inbox.webhooks'::regclass, true),
           ('inbox.notification_types'::regclass, true),
           ('inbox.writable_fields'::regclass, true),
           ('inbox.relations'::regclass, true),
           ('inbox.tokens'::regclass, true),
           ('inbox.cursor_secrets'::regclass, true),
           ('inbox.retention'::regclass, true)
$$;


COMMENT ON FUNCTION inbox.expand_deliveries(integer) IS
    'Queues the deliveries (e-mail, webhooks) of the change-feed events of the users of up to limit events committed since the last expansion, each event exactly once (by the user''s mark, inbox.delivery_progress); returns how many events it read (0 when another expansion is running). inbox.claim_deliveries calls it first; on a Citus cluster every node expands its own shards.';

REVOKE ALL ON FUNCTION inbox._expand_user(text, bigint, xid8, pg_catalog.pg_snapshot, xid8, text, bigint, timestamptz, boolean, boolean) FROM PUBLIC;

-- TRUNCATE inbox.notifications restarts every user's event ids: the marks go with them.
CREATE OR REPLACE FUNCTION inbox._counters_after_truncate() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_TABLE_NAME = 'notifications' THEN
        TRUNCATE inbox.user_counters, inbox.workspace_counters, inbox.notification_groups, inbox.events,
                 inbox.delivery_progress;
    END IF;
    RETURN NULL;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- inbox.to_json in PL/pgSQL (10_shape.sql): planned once a session instead of in every
-- transaction that calls it (0.39 ms of a Directus create). The same text as 10_shape.sql.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION inbox.to_json(n inbox.notifications)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    marks record := inbox._user_marks(n.user_id);
BEGIN
    RETURN inbox._to_json(n, marks.read_marks, marks.seen);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- h-dcost (issue 15): the create's own cost. inbox.directus_create takes the created rows
-- (inbox._create_rows, which inbox.create_many now wraps) and answers one item from the row
-- the insert returned (inbox.to_directus) instead of reading it back through the engine. The
-- same text as 20_api.sql and 60_directus.sql.
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox._create_rows(notifications jsonb)
RETURNS SETOF inbox.notifications
LANGUAGE plpgsql
AS $$
DECLARE
    i int := 0;
    element jsonb;
BEGIN
    IF notifications IS NULL OR pg_catalog.jsonb_typeof(notifications) <> 'array' THEN
        RAISE EXCEPTION 'notifications: expected a JSON array of notification objects'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.jsonb_array_length(notifications) = 0 THEN
        RAISE EXCEPTION 'notifications: expected at least one notification'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR element IN SELECT e FROM pg_catalog.jsonb_array_elements(notifications) AS e LOOP
        PERFORM inbox._check_fields(element, 'create', 'notifications[' || i || ']');
        IF pg_catalog.jsonb_typeof(element->'userId') IS DISTINCT FROM 'string' THEN
            RAISE EXCEPTION 'notifications[%].userId: required', i
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
        i := i + 1;
    END LOOP;
    RETURN QUERY SELECT * FROM inbox._create(
                   ARRAY(SELECT e->>'userId' FROM pg_catalog.jsonb_array_elements(notifications) AS e),
                   ARRAY(SELECT e FROM pg_catalog.jsonb_array_elements(notifications) AS e),
                   'notifications', true);
END
$$;

CREATE OR REPLACE FUNCTION inbox.create_many(notifications jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
BEGIN
    -- A function scan yields inbox._create_rows's rows in input order. (PL/pgSQL: a SQL
    -- function with a FROM clause would be planned again in every transaction.)
    RETURN (SELECT pg_catalog.jsonb_agg(inbox._created_json(n)) FROM inbox._create_rows(notifications) AS n);
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
    created inbox.notifications[];
    archived record;
    recipient text;
    skipped json;
    read_query jsonb;
    answer json;
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
    -- The rows themselves (inbox.create_many's, in input order; a hole, id NULL, for a
    -- recipient who turned in_app off): the answer is Directus's shape, not the API's.
    created := ARRAY(SELECT ROW(n.*)::inbox.notifications FROM inbox._create_rows(natives) AS n);
    -- Items created with status "archived" are archived at once (one item that is not needs no
    -- statement for it).
    IF many OR body->>'status' = 'archived' THEN
        FOR archived IN
            SELECT c.user_id, pg_catalog.array_agg(inbox.public_id(c.id) ORDER BY c.ordinality) AS ids
              FROM pg_catalog.unnest(created) WITH ORDINALITY AS c
              JOIN pg_catalog.jsonb_array_elements(items) WITH ORDINALITY AS i(item, o) ON i.o = c.ordinality
             WHERE i.item->>'status' = 'archived' AND c.id IS NOT NULL
             GROUP BY 1 ORDER BY 1
        LOOP
            PERFORM inbox.archive(archived.user_id, archived.ids);
        END LOOP;
    END IF;
    -- Recipients who turned in_app off get nothing stored (55_delivery.sql): the answer holds
    -- the items created ("data": null when the one item was not) and names the others in
    -- meta.skipped, a key Directus's own answer never has.
    skipped := CASE WHEN NOT many THEN CASE WHEN created[1].id IS NULL THEN pg_catalog.json_build_array(created[1].user_id) END
                    ELSE (SELECT pg_catalog.json_agg(c.user_id ORDER BY c.ordinality)
                            FROM pg_catalog.unnest(created) WITH ORDINALITY AS c
                           WHERE c.id IS NULL) END;
    IF skipped IS NOT NULL AND NOT many THEN
        RETURN pg_catalog.json_build_object('data', NULL, 'meta', pg_catalog.json_build_object('skipped', skipped));
    END IF;
    -- A create answers its items alone, as Directus's does, and its meta parameter (meta,
    -- meta[]) is ignored: a send-only caller may read none of them, so meta would count rows
    -- it may not see.
    read_query := CASE WHEN query IS NULL OR query = '{}' THEN NULL ELSE
                  (SELECT pg_catalog.jsonb_object_agg(q.key, q.value)
                     FROM pg_catalog.jsonb_each(query) AS q
                    WHERE q.key OPERATOR(pg_catalog.<>) 'meta' AND NOT pg_catalog.starts_with(q.key, 'meta[')) END;
    -- One item, no query, not archived after its insert: the row the insert returned is the
    -- row a read would find (when it has not expired already: reads hide expired rows), and
    -- its object is inbox.to_directus, as the read's without `fields`. Saves the read (the
    -- engine's statement; about a fifth of the create).
    IF NOT many AND read_query IS NULL AND created[1].id IS NOT NULL
       AND body->>'status' IS DISTINCT FROM 'archived'
       AND (created[1].expires_at IS NULL OR created[1].expires_at > pg_catalog.now()) THEN
        RETURN ('{"data":' OPERATOR(pg_catalog.||) inbox.to_directus(created[1])::text OPERATOR(pg_catalog.||) '}')::json;
    END IF;
    -- Otherwise the created items are read back among the one recipient's rows when there is
    -- one (on Citus: one shard).
    SELECT CASE WHEN pg_catalog.count(DISTINCT e->>'userId') = 1 THEN pg_catalog.min(e->>'userId') END
      INTO recipient FROM pg_catalog.jsonb_array_elements(natives) AS e;
    answer := inbox._directus_read(recipient, NULL, caller.user_id, read_query,
                                   ARRAY(SELECT c.id FROM pg_catalog.unnest(created) WITH ORDINALITY AS c
                                          WHERE c.id IS NOT NULL ORDER BY c.ordinality),
                                   NOT many);
    IF skipped IS NULL THEN
        RETURN answer;
    END IF;
    RETURN pg_catalog.json_build_object('data', answer->'data', 'meta', pg_catalog.json_build_object('skipped', skipped));
END
$$;

-- A create outside any workspace and group writes its user's counters and event alone: the
-- counter function returns before the workspace and group statements (00_schema.sql).
CREATE OR REPLACE FUNCTION inbox._apply_counter_deltas(deltas inbox.counter_delta[], refresh_groups boolean DEFAULT true,
                                            events inbox.feed_event[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    threshold integer;
    last_id   bigint;
    unread_now bigint;
BEGIN
    -- Creates are never summarised: each new notification is content a client shows and the
    -- outbox (55_delivery.sql) delivers; only changes of existing rows become one summary.
    threshold := CASE WHEN (events[1]).event = 'notification.created' THEN 2147483647
                      WHEN events IS NOT NULL THEN inbox._feed_threshold() END;
    IF pg_catalog.cardinality(events) = 1 AND pg_catalog.cardinality(deltas) <= 2 THEN
        -- One row changed (a create, a click): two plain statements. (A second delta of another
        -- user is a row that did not change: it adds up to zero.)
        INSERT INTO inbox.user_counters AS c (user_id, active, unread, deleted, last_event_id, unseen)
        SELECT (events[1]).user_id, coalesce(sum(d.active), 0), coalesce(sum(d.unread), 0), coalesce(sum(d.deleted), 0), 1,
               coalesce(sum(d.unseen), 0)
          FROM pg_catalog.unnest(deltas) AS d
         WHERE d.user_id = (events[1]).user_id
        ON CONFLICT (user_id) DO UPDATE
           SET active  = c.active  + excluded.active,
               unread  = c.unread  + excluded.unread,
               deleted = c.deleted + excluded.deleted,
               unseen  = c.unseen  + excluded.unseen,
               last_event_id = c.last_event_id + 1
        RETURNING c.last_event_id, c.unread INTO last_id, unread_now;
        INSERT INTO inbox.events (user_id, id, event, notification_id, workspace_id, unread)
        VALUES ((events[1]).user_id, last_id, (events[1]).event, (events[1]).notification_id, (events[1]).workspace_id,
                CASE WHEN (events[1]).unread <> 0 THEN unread_now END);
    ELSIF events IS NULL THEN
        INSERT INTO inbox.user_counters AS c (user_id, active, unread, deleted, unseen)
        SELECT d.user_id, sum(d.active), sum(d.unread), sum(d.deleted), sum(d.unseen)
          FROM pg_catalog.unnest(deltas) AS d
         GROUP BY d.user_id
        HAVING sum(d.active) <> 0 OR sum(d.unread) <> 0 OR sum(d.deleted) <> 0 OR sum(d.unseen) <> 0
         ORDER BY d.user_id
        ON CONFLICT (user_id) DO UPDATE
           SET active  = c.active  + excluded.active,
               unread  = c.unread  + excluded.unread,
               deleted = c.deleted + excluded.deleted,
               unseen  = c.unseen  + excluded.unseen;
    ELSE
        WITH d AS (SELECT x.user_id, sum(x.active) AS active, sum(x.unread) AS unread, sum(x.deleted) AS deleted,
                          sum(x.unseen) AS unseen
                     FROM pg_catalog.unnest(deltas) AS x
                    GROUP BY x.user_id),
             e AS (SELECT x.user_id, pg_catalog.count(*) AS n
                     FROM pg_catalog.unnest(events) AS x
                    GROUP BY x.user_id),
             moved AS (
            INSERT INTO inbox.user_counters AS c (user_id, active, unread, deleted, last_event_id, unseen)
            SELECT coalesce(d.user_id, e.user_id), coalesce(d.active, 0), coalesce(d.unread, 0),
                   coalesce(d.deleted, 0), inbox._feed_ids(e.n, threshold), coalesce(d.unseen, 0)
              FROM d FULL JOIN e ON e.user_id = d.user_id
             WHERE e.n IS NOT NULL OR d.active <> 0 OR d.unread <> 0 OR d.deleted <> 0 OR d.unseen <> 0
             ORDER BY 1
            ON CONFLICT (user_id) DO UPDATE
               SET active  = c.active  + excluded.active,
                   unread  = c.unread  + excluded.unread,
                   deleted = c.deleted + excluded.deleted,
                   unseen  = c.unseen  + excluded.unseen,
                   last_event_id = c.last_event_id + excluded.last_event_id
            RETURNING c.user_id, c.last_event_id, c.unread)
        INSERT INTO inbox.events (user_id, id, event, notification_id, workspace_id, unread, data)
        SELECT r.* FROM inbox._event_rows(events, ARRAY(SELECT ROW(m.user_id, m.last_event_id, m.unread, e.n)::inbox.feed_position
                                                          FROM moved AS m JOIN e ON e.user_id = m.user_id),
                                          threshold) AS r;
    END IF;

    -- One delta (a create) outside any workspace and group has nothing more to count: tested
    -- as plain values, since each statement below costs an executor start even when it finds
    -- nothing to write (about 30 us of a create).
    IF pg_catalog.cardinality(deltas) = 1 AND (deltas[1]).workspace_id IS NULL AND (deltas[1]).group_key IS NULL THEN
        RETURN;
    END IF;

    INSERT INTO inbox.workspace_counters AS c (user_id, workspace_id, active, unread, deleted, unseen)
    SELECT d.user_id, d.workspace_id, sum(d.active), sum(d.unread), sum(d.deleted), sum(d.unseen)
      FROM pg_catalog.unnest(deltas) AS d
     WHERE d.workspace_id IS NOT NULL
     GROUP BY d.user_id, d.workspace_id
    HAVING sum(d.active) <> 0 OR sum(d.unread) <> 0 OR sum(d.deleted) <> 0 OR sum(d.unseen) <> 0
     ORDER BY d.user_id, d.workspace_id
    ON CONFLICT (user_id, workspace_id) DO UPDATE
       SET active  = c.active  + excluded.active,
           unread  = c.unread  + excluded.unread,
           deleted = c.deleted + excluded.deleted,
           unseen  = c.unseen  + excluded.unseen;

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

-- ---------------------------------------------------------------------------------------------
-- Issue 16, h-v2c (65_mastodon.sql): the v2 page in C++ (fn/social.cpp, social/): the scan's
-- rows folded as they come, a group of one row formed from the scan's row, the groups of several
-- rows one statement planned once; _mastodon_group_page and _mastodon_scanned go, and
-- _mastodon_page_groups takes the request's range and returns {groups, notifications}.
-- ---------------------------------------------------------------------------------------------

DROP FUNCTION inbox._mastodon_group_page(text, jsonb, bigint, bigint, bigint);
DROP FUNCTION inbox._mastodon_scanned(jsonb, jsonb);
DROP FUNCTION inbox._mastodon_page_groups(text, jsonb, jsonb);

CREATE FUNCTION inbox._mastodon_page_groups(user_id text, engine jsonb, max_id bigint, since_id bigint,
                                            min_id bigint)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgi_mastodon_page_groups'
LANGUAGE C STABLE;

CREATE OR REPLACE FUNCTION inbox.mastodon_groups(token text, query jsonb, origin text,
                                      OUT body jsonb, OUT link text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    params jsonb := coalesce(query, '{}');
    engine jsonb := inbox._mastodon_engine_params(caller, params, inbox._mastodon_limit(params, 40, 80)) - 'total';
    max_id bigint := inbox._mastodon_id_param(params, 'max_id');
    since_id bigint := inbox._mastodon_id_param(params, 'since_id');
    min_id bigint := inbox._mastodon_id_param(params, 'min_id');
    page jsonb;
    newest text;
    oldest text;
BEGIN
    -- grouped_types[]: the types that group; a row of any other type is ungrouped-{id}. Left
    -- out, every type groups by its groupKey.
    IF params ? 'grouped_types' THEN
        engine := engine || pg_catalog.jsonb_build_object('grouped_types', inbox._mastodon_types(params, 'grouped_types'));
    END IF;
    IF params ? 'expand_accounts' AND params->>'expand_accounts' NOT IN ('full', 'partial_avatars') THEN
        RAISE EXCEPTION 'expand_accounts: expected full or partial_avatars, got %', pg_catalog.quote_literal(params->>'expand_accounts')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    page := inbox._mastodon_page_groups(caller.user_id, engine || '{"total": false}', max_id, since_id, min_id);
    body := inbox._mastodon_grouped(page->'groups', page->'notifications');
    -- The Link from the ends of the page's range: next continues below its oldest row, prev
    -- above its newest. On a full page these are Mastodon's (the oldest and the newest
    -- representative); on a page with fewer groups than `limit` the range reaches past the
    -- oldest representative, and Mastodon's next would show that range's older rows again.
    SELECT pg_catalog.max((g->>'page_max_id')::bigint)::text, pg_catalog.min((g->>'page_min_id')::bigint)::text
      INTO newest, oldest
      FROM pg_catalog.jsonb_array_elements(body->'notification_groups') AS g;
    link := inbox._mastodon_link(origin, '/api/v2/notifications', params,
                                 ARRAY['account_id', 'exclude_types', 'expand_accounts', 'grouped_types', 'limit', 'types'],
                                 newest, oldest);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- h-dwork (issue 15): the workers' cost per e-mail and the Citus claim in one round. The
-- expander reads a page's notifications in one statement, not a probe planned per event
-- (inbox._queue_deliveries), and on one node plans its queueing once a session
-- (inbox._queue_page); a claim of channels none of which is configured does not expand
-- (inbox._claim_expands); on Citus every node expands its own events in its claim
-- (inbox._claim_local), so a claim is one round to the nodes, busy or idle. The same text as
-- 55_delivery.sql.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION inbox._queue_deliveries(events inbox.events[], email boolean, hooks boolean)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    many boolean := pg_catalog.cardinality(events) > 1;
    -- (On a Citus node, whose pages are one user's, each event's row is a probe of its own:
    -- Citus routes a statement by its user, not a correlated read for the rows of an array.)
    read_first boolean := many AND NOT inbox._citus_managed('inbox.notifications');
    stored inbox.notifications[];  -- (read_first: each event's notification, in the events' order)
    queued bigint;  -- (the rows the statement inserted; unused)
BEGIN
    IF read_first THEN
        -- Only the rows a delivery may need (an e-mail's created notification; any, for webhooks).
        EXECUTE 'SELECT pg_catalog.array_agg(
                            CASE WHEN e.notification_id IS NOT NULL AND ($2 AND e.event = ''notification.created'' OR $3)
                                 THEN (SELECT n FROM inbox.notifications n
                                        WHERE n.user_id = e.user_id AND n.id = e.notification_id) END
                            ORDER BY e.ordinality)
                   FROM pg_catalog.unnest($1) WITH ORDINALITY AS e'
           INTO stored USING events, email, hooks;
    END IF;
    WITH found AS MATERIALIZED (
        -- The events that call for a delivery, each with its notification's row.
        SELECT x.*, CASE WHEN x.notification_id IS NULL THEN NULL
                         WHEN read_first THEN stored[x.ordinality]
                         ELSE inbox._notification_at(x.user_id, x.notification_id, many) END AS n
          FROM (SELECT e.id, e.user_id, e.event, e.notification_id, e.workspace_id, coalesce(e.data, '{}') AS data,
                       e.created_at, e.ordinality,
                       email AND e.event = 'notification.created' AS mailed,
                       hooks AND EXISTS (SELECT FROM inbox.webhooks w
                                          WHERE w.enabled AND e.event = ANY (w.events)
                                            AND (w.user_id IS NULL OR w.user_id = e.user_id)
                                            AND (w.workspace_id IS NULL OR w.workspace_id = e.workspace_id)) AS hooked
                  -- ((SELECT events): the planner sizes the array alike in every call.)
                  FROM pg_catalog.unnest((SELECT events)) WITH ORDINALITY AS e) AS x
         WHERE x.mailed OR x.hooked),
    -- E-mails: the created notifications that are stored (an in_app-off recipient's e-mail was
    -- queued by the create, inbox._skip_in_app).
    mails AS MATERIALIZED (
        SELECT w.*, t.email_digest
          FROM (SELECT pg_catalog.array_agg(f.user_id ORDER BY f.id) AS user_ids,
                       pg_catalog.array_agg((f.n).type ORDER BY f.id) AS types,
                       pg_catalog.array_agg(f.notification_id ORDER BY f.id) AS notification_ids
                  FROM found f
                 WHERE f.mailed AND (f.n).id IS NOT NULL) AS a
         CROSS JOIN LATERAL inbox._emails_wanted(a.user_ids, a.types, a.notification_ids, NULL) AS w
          LEFT JOIN inbox.notification_types t ON t.name = w.type
         WHERE a.user_ids IS NOT NULL),
    digested AS (
        INSERT INTO inbox.deliveries AS d (user_id, channel, address, event, type, notification_ids, digest, due_at)
        SELECT m.user_id, 'email', pg_catalog.min(m.address), 'notification.created', m.type,
               pg_catalog.array_agg(m.notification_id ORDER BY m.notification_id), true,
               pg_catalog.now() + pg_catalog.min(m.email_digest)
          FROM mails m WHERE m.email_digest IS NOT NULL
         GROUP BY m.user_id, m.type
        ON CONFLICT (user_id, type) WHERE digest AND state = 'pending' AND attempts = 0
        DO UPDATE SET notification_ids = d.notification_ids || excluded.notification_ids),
    marks AS MATERIALIZED (
        SELECT u.user_id, m.read_marks, m.seen
          FROM (SELECT DISTINCT f.user_id FROM found f WHERE f.hooked) AS u
         CROSS JOIN LATERAL inbox._user_marks(u.user_id) AS m),
    shaped AS MATERIALIZED (
        -- The event's data as the streams get it (45_feed.sql), always naming the user. (Every
        -- event has its user's marks: FULL only rules out a nested loop.)
        SELECT f.user_id, f.event, f.notification_id, f.workspace_id, (f.n).type AS type, f.created_at,
               inbox._event_data(f.event, f.notification_id, f.data, f.n, m.read_marks, m.seen)
               || pg_catalog.jsonb_build_object('userId', f.user_id) AS data
          FROM (SELECT * FROM found WHERE hooked) AS f FULL JOIN marks m ON m.user_id = f.user_id),
    inserted AS (
        INSERT INTO inbox.deliveries (user_id, channel, address, webhook_id, event, type, notification_ids, payload)
        SELECT m.user_id, 'email', m.address, NULL, 'notification.created', m.type, ARRAY[m.notification_id], NULL
          FROM mails m WHERE m.email_digest IS NULL
        UNION ALL
        -- Webhooks (Standard Webhooks: type, timestamp, data): the time of the event, the
        -- notification as the expander found it, milliseconds after it.
        SELECT s.user_id, 'webhook', NULL, w.id, s.event, s.type,
               CASE WHEN s.notification_id IS NULL THEN '{}'::bigint[] ELSE ARRAY[s.notification_id] END,
               pg_catalog.jsonb_build_object('type', s.event, 'timestamp', inbox.iso_time(s.created_at), 'data', s.data)
          FROM shaped s
          JOIN inbox.webhooks w ON w.enabled AND s.event = ANY (w.events)
                               AND (w.user_id IS NULL OR w.user_id = s.user_id)
                               AND (w.workspace_id IS NULL OR w.workspace_id = s.workspace_id)
         -- (A summary is of no one type: an endpoint that asked for its event gets it.)
         WHERE w.types IS NULL OR s.notification_id IS NULL OR s.type = ANY (w.types)
        RETURNING 1)
    SELECT pg_catalog.count(*) INTO queued FROM inserted;
END
$$;

CREATE FUNCTION inbox._queue_page(events inbox.events[], email boolean, hooks boolean)
RETURNS void
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    PERFORM inbox._queue_deliveries(events, email, hooks);
END
$$;

CREATE OR REPLACE FUNCTION inbox._expand_node("limit" integer)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    here text;
    since timestamptz;
    c record;
    page inbox.events[];
    next text;
    wanted record;
    due inbox.events[];
    one_user record;
BEGIN
    SELECT f.cursor INTO here FROM inbox.delivery_feed_position f;
    IF NOT FOUND THEN
        -- (Someone emptied the table: start again from now.)
        INSERT INTO inbox.delivery_feed_position (cursor) SELECT inbox._feed_start() ON CONFLICT DO NOTHING;
        RETURN 0;
    END IF;
    -- Idle: no event at or beyond the cursor's x (one probe of the feed's xid index). Events
    -- there may all be behind the cursor already (in its p): then the page below is empty and
    -- moving the cursor on puts x beyond them, so the next look is this one again.
    IF NOT coalesce(inbox._feed_newest_xid() >= pg_catalog.jsonb_extract_path_text(here::jsonb, 'x')::xid8, false) THEN
        RETURN 0;
    END IF;
    SELECT f.cursor, f.unconfigured_at INTO here, since FROM inbox.delivery_feed_position f FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN 0;  -- another expander is at it
    END IF;
    wanted := inbox._delivery_configured();
    IF NOT wanted.email AND NOT wanted.hooks THEN
        UPDATE inbox.delivery_feed_position
           SET cursor = inbox._feed_start(), moved_at = pg_catalog.now(), unconfigured_at = pg_catalog.now();
        RETURN 0;
    END IF;
    SELECT * INTO c FROM inbox._feed_cursor(here);
    SELECT f.events, f.next_cursor INTO page, next FROM inbox._feed_page(here, "limit") AS f;
    IF pg_catalog.cardinality(page) > 0 AND inbox._citus_managed('inbox.events') THEN
        FOR one_user IN SELECT e.user_id, max(e.id) AS upto FROM pg_catalog.unnest(page) AS e GROUP BY e.user_id LOOP
            PERFORM inbox._expand_user(one_user.user_id, one_user.upto, c.x, c.p, c.kx, c.ku, c.ki, since,
                                       wanted.email, wanted.hooks);
        END LOOP;
    ELSIF pg_catalog.cardinality(page) > 0 THEN
        -- Planned at each expansion (never with the plan of a smaller inbox: a join by key).
        EXECUTE 'WITH reach AS (
                     SELECT e.user_id, max(e.id) AS upto FROM pg_catalog.unnest($1) AS e GROUP BY e.user_id),
                 ranges AS MATERIALIZED (
                     SELECT r.user_id, r.upto,
                            coalesce(d.event_id,
                                     (SELECT coalesce(min(o.id) FILTER (WHERE NOT inbox._feed_passed($2, $3, $4, $5, $6, o.xid, o.user_id, o.id)) - 1,
                                                      max(o.id), 0)
                                        FROM inbox.events o WHERE o.user_id = r.user_id)) AS after
                       FROM reach r LEFT JOIN inbox.delivery_progress d ON d.user_id = r.user_id),
                 moved AS (
                     INSERT INTO inbox.delivery_progress AS d (user_id, event_id)
                     SELECT r.user_id, r.upto FROM ranges r
                     ON CONFLICT ON CONSTRAINT delivery_progress_pkey DO UPDATE SET event_id = excluded.event_id
                      WHERE d.event_id < excluded.event_id)
                 SELECT pg_catalog.array_agg(ROW(e.*)::inbox.events ORDER BY e.user_id, e.id)
                   FROM ranges r JOIN inbox.events e ON e.user_id = r.user_id AND e.id > r.after AND e.id <= r.upto
                  WHERE $7::timestamptz IS NULL OR e.created_at > $7'
           INTO due USING page, c.x, c.p, c.kx, c.ku, c.ki, since;
        IF pg_catalog.cardinality(due) > 0 THEN
            PERFORM inbox._queue_page(due, wanted.email, wanted.hooks);
        END IF;
    END IF;
    UPDATE inbox.delivery_feed_position SET cursor = next, moved_at = pg_catalog.now();
    RETURN pg_catalog.cardinality(page);
END
$$;

CREATE FUNCTION inbox._claim_expands(channels text[])
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    wanted record := inbox._delivery_configured();
BEGIN
    RETURN NOT (wanted.email OR wanted.hooks)
           OR wanted.email AND 'email' = ANY (channels)
           OR wanted.hooks AND 'webhook' = ANY (channels);
END
$$;

CREATE OR REPLACE FUNCTION inbox.claim_deliveries("limit" integer DEFAULT 100, lease_for interval DEFAULT '1 minute',
                                       channels text[] DEFAULT '{email,webhook}')
RETURNS TABLE (user_id text, id text, lease uuid, channel text, attempt integer, target text,
               headers jsonb, body text, secret text)
LANGUAGE plpgsql
AS $$
DECLARE
    claim uuid := pg_catalog.gen_random_uuid();
    at timestamptz := pg_catalog.now();
    stamp text := pg_catalog.floor(EXTRACT(epoch FROM at))::bigint::text;
BEGIN
    IF "limit" IS NULL OR "limit" NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'limit: expected 1 to 10000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF inbox._citus_managed('inbox.deliveries') THEN
        -- (Each node expands its own events in its claim: one round to the nodes.)
        RETURN QUERY SELECT * FROM inbox._claim_citus("limit", lease_for, channels);
        RETURN;
    END IF;
    IF inbox._claim_expands(channels) THEN
        PERFORM inbox.expand_deliveries();
    END IF;
    RETURN QUERY
    WITH due AS (
        SELECT x.user_id, x.id FROM inbox.deliveries x
         WHERE x.state = 'pending' AND x.due_at <= at AND x.channel = ANY (channels)
         ORDER BY x.due_at LIMIT "limit"
           FOR UPDATE SKIP LOCKED),
    found AS (
        SELECT x.user_id, x.id, x.channel, x.type, x.payload, x.address, x.notification_ids,
               w.url, w.secret, m.count, m.first_id, m.subject, m.lines,
               CASE WHEN x.channel = 'webhook' THEN coalesce(w.enabled, false)
                    ELSE x.payload IS NOT NULL OR m.count > 0 END AS live
          FROM due JOIN inbox.deliveries x ON x.user_id = due.user_id AND x.id = due.id
          LEFT JOIN inbox.webhooks w ON x.channel = 'webhook' AND w.id = x.webhook_id
          LEFT JOIN LATERAL (
              SELECT pg_catalog.count(*)::int AS count, pg_catalog.min(n.id) AS first_id,
                     pg_catalog.min(n.title) FILTER (WHERE n.id = x.notification_ids[1]) AS subject,
                     pg_catalog.string_agg(
                         CASE WHEN pg_catalog.cardinality(x.notification_ids) > 1 THEN '* ' ELSE '' END
                         || coalesce(n.title, n.type)
                         || coalesce(E'\n\n' || n.body, '')
                         || coalesce(E'\n\n' || (n.data->>'url'), ''),
                         E'\n\n' ORDER BY n.created_at, n.id) AS lines
                FROM inbox.notifications n
               WHERE x.channel = 'email' AND n.user_id = x.user_id AND n.id = ANY (x.notification_ids)
                 AND n.deleted_at IS NULL) m ON true),
    cancelled AS (
        UPDATE inbox.deliveries x
           SET state = 'cancelled', finished_at = at, lease = NULL, attempts = x.attempts + 1, digest = false,
               last_error = CASE WHEN f.channel = 'webhook' THEN 'the webhook endpoint was removed or disabled'
                                 ELSE 'every notification of the e-mail was deleted' END
          FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND NOT f.live),
    claimed AS (
        UPDATE inbox.deliveries x
           SET lease = claim, attempts = x.attempts + 1, due_at = at + lease_for, digest = false
          FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND f.live
        RETURNING x.user_id, x.id, x.attempts)
    SELECT f.user_id, inbox._delivery_public_id(f.id), claim, f.channel, c.attempts,
           CASE WHEN f.channel = 'webhook' THEN f.url ELSE f.address END,
           CASE WHEN f.channel = 'webhook'
                THEN pg_catalog.jsonb_build_object('webhook-id', inbox._delivery_public_id(f.id), 'webhook-timestamp', stamp)
                ELSE pg_catalog.jsonb_build_object(
                         'subject', CASE WHEN pg_catalog.cardinality(f.notification_ids) > 1 THEN f.count || ' new notifications'
                                         WHEN f.count > 0 THEN coalesce(f.subject, f.type, 'New notification')
                                         ELSE coalesce(f.payload->>'title', f.type, 'New notification') END,
                         -- A retry is the same message; a digest, or an e-mail without a stored
                         -- notification, is its own.
                         'messageId', CASE WHEN pg_catalog.cardinality(f.notification_ids) = 1 AND f.count > 0
                                           THEN inbox.public_id(f.first_id) ELSE inbox._delivery_public_id(f.id) END,
                         'unsubscribe', inbox._unsubscribe_token(f.user_id, f.type),
                         'type', f.type) END,
           CASE WHEN f.channel = 'webhook' THEN f.payload::text
                WHEN f.count > 0 THEN f.lines || E'\n'
                ELSE coalesce(f.payload->>'title', f.type) || coalesce(E'\n\n' || (f.payload->>'body'), '')
                     || coalesce(E'\n\n' || (f.payload->'data'->>'url'), '') || E'\n' END,
           f.secret
      FROM claimed c JOIN found f ON f.user_id = c.user_id AND f.id = c.id;
END
$$;

CREATE OR REPLACE FUNCTION inbox._claim_citus("limit" integer, lease_for interval, channels text[])
RETURNS TABLE (user_id text, id text, lease uuid, channel text, attempt integer, target text,
               headers jsonb, body text, secret text)
LANGUAGE plpgsql
-- (On Citus: it asks every node, by design.)
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    node record;
    nodes integer;
BEGIN
    SELECT pg_catalog.count(DISTINCT p.groupid)::int INTO nodes
      FROM pg_catalog.pg_dist_shard s JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
     WHERE s.logicalrelid = 'inbox.deliveries'::regclass;
    FOR node IN SELECT * FROM pg_catalog.run_command_on_all_nodes(pg_catalog.format(
                    'SELECT inbox._claim_local(%s, %L, %L)', (("limit" + nodes - 1) / nodes), lease_for, channels)) LOOP
        IF NOT node.success THEN
            RAISE WARNING 'inbox.claim_deliveries: node % could not claim: %', node.nodeid, node.result;
            CONTINUE;
        END IF;
        RETURN QUERY SELECT * FROM pg_catalog.jsonb_to_recordset(node.result::jsonb)
            AS r(user_id text, id text, lease uuid, channel text, attempt integer, target text,
                 headers jsonb, body text, secret text);
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION inbox._claim_local("limit" integer, lease_for interval, channels text[])
RETURNS jsonb
LANGUAGE plpgsql
-- (Citus refuses changes to a shard by name unless told: these are the shards' own rows.)
SET citus.enable_manual_changes_to_shards = on
AS $$
DECLARE
    shards record;
    look text;
    due integer[];
    hooks regclass;
    part jsonb;
    claimed jsonb := '[]';
    wanted integer := "limit";
    i integer;
BEGIN
    IF inbox._claim_expands(channels) THEN
        PERFORM inbox._expand_node(1000);
    END IF;
    SELECT pg_catalog.array_agg(pg_catalog.shard_name('inbox.deliveries'::regclass, d.shardid)::regclass ORDER BY d.shardid) AS deliveries,
           pg_catalog.array_agg(pg_catalog.shard_name('inbox.notifications'::regclass, n.shardid)::regclass ORDER BY d.shardid) AS notifications
      INTO shards
      FROM pg_catalog.pg_dist_shard d
      JOIN pg_catalog.pg_dist_placement p ON p.shardid = d.shardid
      JOIN pg_catalog.pg_dist_shard n ON n.logicalrelid = 'inbox.notifications'::regclass
                                     AND n.shardminvalue = d.shardminvalue
     WHERE d.logicalrelid = 'inbox.deliveries'::regclass
       AND p.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g);
    IF shards.deliveries IS NULL THEN
        RETURN claimed;
    END IF;
    -- Which of them have due rows (the due index of each, one statement).
    SELECT pg_catalog.string_agg(pg_catalog.format(
               'SELECT %s AS i WHERE EXISTS (SELECT FROM %s x WHERE x.state = ''pending'' AND x.due_at <= $1 AND x.channel = ANY ($2))',
               o.i, o.deliveries), ' UNION ALL ')
      INTO look
      FROM pg_catalog.unnest(shards.deliveries) WITH ORDINALITY AS o(deliveries, i);
    EXECUTE 'SELECT pg_catalog.array_agg(l.i ORDER BY pg_catalog.random()) FROM (' || look || ') AS l'
       INTO due USING pg_catalog.now(), channels;
    IF due IS NULL THEN
        RETURN claimed;
    END IF;
    hooks := (SELECT pg_catalog.shard_name('inbox.webhooks'::regclass, w.shardid)::regclass
                FROM pg_catalog.pg_dist_shard w WHERE w.logicalrelid = 'inbox.webhooks'::regclass);
    FOREACH i IN ARRAY due LOOP
        SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(c)), '[]') INTO part
          FROM inbox._claim_shard(shards.deliveries[i], shards.notifications[i], hooks, wanted, lease_for, channels) AS c;
        claimed := claimed || part;
        wanted := wanted - pg_catalog.jsonb_array_length(part);
        EXIT WHEN wanted <= 0;
    END LOOP;
    RETURN claimed;
END
$$;

COMMENT ON FUNCTION inbox.expand_deliveries(integer) IS
    'Queues the deliveries (e-mail, webhooks) of the change-feed events of the users of up to limit events committed since the last expansion, each event exactly once (by the user''s mark, inbox.delivery_progress); returns how many events it read (0 when another expansion is running). inbox.claim_deliveries calls it first; on a Citus cluster every node expands its own shards (and every node''s claim its own, in the claim''s one round).';

-- ---------------------------------------------------------------------------------------------
-- Issue 16, h-v2d (65_mastodon.sql): _mastodon_page_groups also returns the groups' sample
-- account ids, distinct, in jsonb's order (account_ids), and _mastodon_grouped takes them
-- instead of taking them out of the groups again.
-- ---------------------------------------------------------------------------------------------

DROP FUNCTION inbox._mastodon_grouped(jsonb, jsonb);

CREATE FUNCTION inbox._mastodon_grouped(groups jsonb, notifications jsonb, account_ids jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    -- The sample accounts de-duplicated (unless the caller has them), apart from the statement
    -- below: inside it, a coalesce over them let every call plan it anew for its values.
    IF account_ids IS NULL THEN
        SELECT coalesce(pg_catalog.jsonb_agg(DISTINCT s.id), '[]') INTO account_ids
          FROM pg_catalog.jsonb_array_elements(groups) AS g(g),
               pg_catalog.jsonb_array_elements(g.g->'sample_account_ids') AS s(id);
    END IF;
    -- One statement: the groups' objects by one look-up per relation (_mastodon_targets), the
    -- sample accounts looked up once (_mastodon_accounts).
    RETURN (
        WITH g AS (SELECT a.g, a.o FROM pg_catalog.jsonb_array_elements(groups) WITH ORDINALITY AS a(g, o)),
             n AS (SELECT a.n, a.o FROM pg_catalog.jsonb_array_elements(notifications) WITH ORDINALITY AS a(n, o)),
             t AS (SELECT t.v, t.o
                     FROM pg_catalog.jsonb_array_elements(inbox._mastodon_targets(notifications)) WITH ORDINALITY AS t(v, o))
        SELECT pg_catalog.jsonb_build_object(
                   'accounts', inbox._mastodon_accounts(account_ids),
                   'statuses', coalesce(pg_catalog.jsonb_agg(DISTINCT t.v->'status') FILTER (WHERE t.v ? 'status'), '[]'),
                   'notification_groups', coalesce(pg_catalog.jsonb_agg(
                       g.g
                       || (t.v - ARRAY['id', 'type', 'created_at', 'group_key', 'account', 'status', 'relationship_severance_event'])
                       || CASE WHEN t.v ? 'status' THEN pg_catalog.jsonb_build_object('status_id', n.n->'status')
                               ELSE '{}' END
                       ORDER BY g.o), '[]'))
          FROM g JOIN n ON n.o = g.o JOIN t ON t.o = g.o);
END
$$;

CREATE OR REPLACE FUNCTION inbox.mastodon_groups(token text, query jsonb, origin text,
                                      OUT body jsonb, OUT link text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    params jsonb := coalesce(query, '{}');
    engine jsonb := inbox._mastodon_engine_params(caller, params, inbox._mastodon_limit(params, 40, 80)) - 'total';
    max_id bigint := inbox._mastodon_id_param(params, 'max_id');
    since_id bigint := inbox._mastodon_id_param(params, 'since_id');
    min_id bigint := inbox._mastodon_id_param(params, 'min_id');
    page jsonb;
    newest text;
    oldest text;
BEGIN
    -- grouped_types[]: the types that group; a row of any other type is ungrouped-{id}. Left
    -- out, every type groups by its groupKey.
    IF params ? 'grouped_types' THEN
        engine := engine || pg_catalog.jsonb_build_object('grouped_types', inbox._mastodon_types(params, 'grouped_types'));
    END IF;
    IF params ? 'expand_accounts' AND params->>'expand_accounts' NOT IN ('full', 'partial_avatars') THEN
        RAISE EXCEPTION 'expand_accounts: expected full or partial_avatars, got %', pg_catalog.quote_literal(params->>'expand_accounts')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    page := inbox._mastodon_page_groups(caller.user_id, engine || '{"total": false}', max_id, since_id, min_id);
    body := inbox._mastodon_grouped(page->'groups', page->'notifications', page->'account_ids');
    -- The Link from the ends of the page's range: next continues below its oldest row, prev
    -- above its newest. On a full page these are Mastodon's (the oldest and the newest
    -- representative); on a page with fewer groups than `limit` the range reaches past the
    -- oldest representative, and Mastodon's next would show that range's older rows again.
    SELECT pg_catalog.max((g->>'page_max_id')::bigint)::text, pg_catalog.min((g->>'page_min_id')::bigint)::text
      INTO newest, oldest
      FROM pg_catalog.jsonb_array_elements(body->'notification_groups') AS g;
    link := inbox._mastodon_link(origin, '/api/v2/notifications', params,
                                 ARRAY['account_id', 'exclude_types', 'expand_accounts', 'grouped_types', 'limit', 'types'],
                                 newest, oldest);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Issue 16, h-v2e (65_mastodon.sql): _mastodon_page_groups reads the page's sample
-- accounts itself (one statement of mastodon_account's rows for the distinct ids, a stub for an
-- id without one) and returns them shaped (accounts), which _mastodon_grouped takes in place of
-- the ids.
-- ---------------------------------------------------------------------------------------------

DROP FUNCTION inbox._mastodon_grouped(jsonb, jsonb, jsonb);

CREATE FUNCTION inbox._mastodon_grouped(groups jsonb, notifications jsonb, accounts jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    -- The sample accounts de-duplicated and shaped (unless the caller has them), apart from the
    -- statement below: inside it, a coalesce over them let every call plan it anew.
    IF accounts IS NULL THEN
        accounts := inbox._mastodon_accounts((
            SELECT coalesce(pg_catalog.jsonb_agg(DISTINCT s.id), '[]')
              FROM pg_catalog.jsonb_array_elements(groups) AS g(g),
                   pg_catalog.jsonb_array_elements(g.g->'sample_account_ids') AS s(id)));
    END IF;
    -- One statement: the groups' objects by one look-up per relation (_mastodon_targets).
    RETURN (
        WITH g AS (SELECT a.g, a.o FROM pg_catalog.jsonb_array_elements(groups) WITH ORDINALITY AS a(g, o)),
             n AS (SELECT a.n, a.o FROM pg_catalog.jsonb_array_elements(notifications) WITH ORDINALITY AS a(n, o)),
             t AS (SELECT t.v, t.o
                     FROM pg_catalog.jsonb_array_elements(inbox._mastodon_targets(notifications)) WITH ORDINALITY AS t(v, o))
        SELECT pg_catalog.jsonb_build_object(
                   'accounts', accounts,
                   'statuses', coalesce(pg_catalog.jsonb_agg(DISTINCT t.v->'status') FILTER (WHERE t.v ? 'status'), '[]'),
                   'notification_groups', coalesce(pg_catalog.jsonb_agg(
                       g.g
                       || (t.v - ARRAY['id', 'type', 'created_at', 'group_key', 'account', 'status', 'relationship_severance_event'])
                       || CASE WHEN t.v ? 'status' THEN pg_catalog.jsonb_build_object('status_id', n.n->'status')
                               ELSE '{}' END
                       ORDER BY g.o), '[]'))
          FROM g JOIN n ON n.o = g.o JOIN t ON t.o = g.o);
END
$$;

CREATE OR REPLACE FUNCTION inbox.mastodon_groups(token text, query jsonb, origin text,
                                      OUT body jsonb, OUT link text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    params jsonb := coalesce(query, '{}');
    engine jsonb := inbox._mastodon_engine_params(caller, params, inbox._mastodon_limit(params, 40, 80)) - 'total';
    max_id bigint := inbox._mastodon_id_param(params, 'max_id');
    since_id bigint := inbox._mastodon_id_param(params, 'since_id');
    min_id bigint := inbox._mastodon_id_param(params, 'min_id');
    page jsonb;
    newest text;
    oldest text;
BEGIN
    -- grouped_types[]: the types that group; a row of any other type is ungrouped-{id}. Left
    -- out, every type groups by its groupKey.
    IF params ? 'grouped_types' THEN
        engine := engine || pg_catalog.jsonb_build_object('grouped_types', inbox._mastodon_types(params, 'grouped_types'));
    END IF;
    IF params ? 'expand_accounts' AND params->>'expand_accounts' NOT IN ('full', 'partial_avatars') THEN
        RAISE EXCEPTION 'expand_accounts: expected full or partial_avatars, got %', pg_catalog.quote_literal(params->>'expand_accounts')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    page := inbox._mastodon_page_groups(caller.user_id, engine || '{"total": false}', max_id, since_id, min_id);
    body := inbox._mastodon_grouped(page->'groups', page->'notifications', page->'accounts');
    -- The Link from the ends of the page's range: next continues below its oldest row, prev
    -- above its newest. On a full page these are Mastodon's (the oldest and the newest
    -- representative); on a page with fewer groups than `limit` the range reaches past the
    -- oldest representative, and Mastodon's next would show that range's older rows again.
    SELECT pg_catalog.max((g->>'page_max_id')::bigint)::text, pg_catalog.min((g->>'page_min_id')::bigint)::text
      INTO newest, oldest
      FROM pg_catalog.jsonb_array_elements(body->'notification_groups') AS g;
    link := inbox._mastodon_link(origin, '/api/v2/notifications', params,
                                 ARRAY['account_id', 'exclude_types', 'expand_accounts', 'grouped_types', 'limit', 'types'],
                                 newest, oldest);
END
$$;

-- h-dcost2 (issue 15): the create's own cost, second round. inbox._token_hash is STABLE, as its
-- body is (IMMUTABLE, it was never inlined and ran as a SQL function planned at every
-- authenticate); inbox._feed_on answers the usual settings without a subtransaction;
-- inbox._lock_marks reads one user's marks with the per-user statements (generic plans);
-- inbox._wants_aggregate looks up no type for an object without groupKey and actorId;
-- inbox.directus_create calls inbox._create without inbox._create_rows's checks and takes
-- plain expressions for one item; notifications_workspace_idx leaves out the rows without a
-- workspace.

CREATE OR REPLACE FUNCTION inbox._token_hash(token text)
RETURNS bytea
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
    SELECT pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8'))
$$;

CREATE OR REPLACE FUNCTION inbox._feed_on()
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    setting text := nullif(pg_catalog.current_setting('inbox.feed', true), '');
BEGIN
    IF setting IS NULL OR setting IN ('on', 'true') THEN
        RETURN true;
    ELSIF setting IN ('off', 'false') THEN
        RETURN false;
    END IF;
    BEGIN
        RETURN setting::boolean;
    EXCEPTION WHEN invalid_text_representation THEN
        RAISE EXCEPTION 'inbox.feed: expected on or off, got "%"', setting
              USING ERRCODE = 'invalid_parameter_value';
    END;
END
$$;

CREATE OR REPLACE FUNCTION inbox._lock_marks(users text[], by_user boolean)
RETURNS TABLE (user_id text, read_before timestamptz, seen jsonb)
LANGUAGE plpgsql
AS $$
DECLARE
    u text;
BEGIN
    IF NOT by_user AND pg_catalog.cardinality(users) > 1 THEN
        INSERT INTO inbox.user_counters AS c (user_id)
        SELECT DISTINCT x FROM pg_catalog.unnest(users) AS x ORDER BY 1
        ON CONFLICT ON CONSTRAINT user_counters_pkey DO UPDATE SET active = c.active WHERE false;
        RETURN QUERY SELECT m.user_id, max(m.read_before) FILTER (WHERE m.workspace_key = ''),
                            pg_catalog.jsonb_object_agg(m.workspace_key, m.seen_before) FILTER (WHERE m.seen_before IS NOT NULL)
                       FROM inbox.marks m
                      WHERE m.user_id = ANY (users)
                      GROUP BY m.user_id;
        RETURN;
    END IF;
    FOR u IN SELECT DISTINCT x FROM pg_catalog.unnest(users) AS x ORDER BY 1 LOOP
        INSERT INTO inbox.user_counters AS c (user_id) VALUES (u)
        ON CONFLICT ON CONSTRAINT user_counters_pkey DO UPDATE SET active = c.active WHERE false;
        RETURN QUERY SELECT m.user_id, max(m.read_before) FILTER (WHERE m.workspace_key = ''),
                            pg_catalog.jsonb_object_agg(m.workspace_key, m.seen_before) FILTER (WHERE m.seen_before IS NOT NULL)
                       FROM inbox.marks m
                      WHERE m.user_id = u
                      GROUP BY m.user_id;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION inbox._wants_aggregate(o jsonb)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    wanted boolean := (o->>'aggregate')::boolean;
BEGIN
    -- Without both a groupKey and an actorId the type's setting cannot make it aggregate: no
    -- look-up (a plain create, every time).
    IF wanted IS NULL AND o ? 'groupKey' AND o ? 'actorId' THEN
        SELECT t.aggregate INTO wanted
          FROM inbox.notification_types t WHERE t.name = coalesce(o->>'type', 'info');
    END IF;
    RETURN coalesce(wanted, false);
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
    created inbox.notifications[];
    archived record;
    recipient text;
    skipped json;
    read_query jsonb;
    answer json;
BEGIN
    IF pg_catalog.jsonb_typeof(body) IS DISTINCT FROM 'object' AND NOT many THEN
        RAISE EXCEPTION 'payload: expected a notification object or an array of them'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF many AND pg_catalog.jsonb_array_length(body) = 0 THEN
        RETURN '{"data":[]}';
    END IF;
    -- One item (what POST /notifications sends) takes plain expressions where several take a
    -- query: each query costs an executor start and end, and a plain expression does not.
    IF many THEN
        natives := (SELECT pg_catalog.jsonb_agg(inbox._directus_new(caller, i.item,
                               'payload[' OPERATOR(pg_catalog.||) (i.o - 1) OPERATOR(pg_catalog.||) ']') ORDER BY i.o)
                      FROM pg_catalog.jsonb_array_elements(items) WITH ORDINALITY AS i(item, o));
    ELSE
        natives := pg_catalog.jsonb_build_array(inbox._directus_new(caller, body, 'payload'));
    END IF;
    -- Directus's recipient and sender are foreign keys: so are they here, once a relation says
    -- which table holds the users.
    PERFORM inbox._directus_check_users('recipient', ARRAY(SELECT DISTINCT e->>'userId' FROM pg_catalog.jsonb_array_elements(natives) AS e));
    IF many OR natives->0 ? 'actorId' THEN
        PERFORM inbox._directus_check_users('sender', ARRAY(SELECT DISTINCT e->>'actorId' FROM pg_catalog.jsonb_array_elements(natives) AS e
                                                             WHERE e ? 'actorId'));
    END IF;
    -- The rows themselves (inbox.create_many's, in input order; a hole, id NULL, for a
    -- recipient who turned in_app off): the answer is Directus's shape, not the API's. Through
    -- inbox._create with inbox._create_rows's path, without the checks of its argument
    -- (inbox._check_fields, a statement per item): inbox._directus_new writes only known fields,
    -- each a string (or null where null is allowed), and always a userId.
    created := ARRAY(SELECT ROW(n.*)::inbox.notifications
                       FROM inbox._create(ARRAY(SELECT e->>'userId' FROM pg_catalog.jsonb_array_elements(natives) AS e),
                                          ARRAY(SELECT e FROM pg_catalog.jsonb_array_elements(natives) AS e),
                                          'notifications', true) AS n);
    -- Items created with status "archived" are archived at once (one item that is not needs no
    -- statement for it).
    IF many OR body->>'status' = 'archived' THEN
        FOR archived IN
            SELECT c.user_id, pg_catalog.array_agg(inbox.public_id(c.id) ORDER BY c.ordinality) AS ids
              FROM pg_catalog.unnest(created) WITH ORDINALITY AS c
              JOIN pg_catalog.jsonb_array_elements(items) WITH ORDINALITY AS i(item, o) ON i.o = c.ordinality
             WHERE i.item->>'status' = 'archived' AND c.id IS NOT NULL
             GROUP BY 1 ORDER BY 1
        LOOP
            PERFORM inbox.archive(archived.user_id, archived.ids);
        END LOOP;
    END IF;
    -- Recipients who turned in_app off get nothing stored (55_delivery.sql): the answer holds
    -- the items created ("data": null when the one item was not) and names the others in
    -- meta.skipped, a key Directus's own answer never has.
    IF NOT many THEN
        skipped := CASE WHEN created[1].id IS NULL THEN pg_catalog.json_build_array(created[1].user_id) END;
    ELSE
        skipped := (SELECT pg_catalog.json_agg(c.user_id ORDER BY c.ordinality)
                      FROM pg_catalog.unnest(created) WITH ORDINALITY AS c
                     WHERE c.id IS NULL);
    END IF;
    IF skipped IS NOT NULL AND NOT many THEN
        RETURN pg_catalog.json_build_object('data', NULL, 'meta', pg_catalog.json_build_object('skipped', skipped));
    END IF;
    -- A create answers its items alone, as Directus's does, and its meta parameter (meta,
    -- meta[]) is ignored: a send-only caller may read none of them, so meta would count rows
    -- it may not see.
    IF query IS NOT NULL AND query <> '{}' THEN
        read_query := (SELECT pg_catalog.jsonb_object_agg(q.key, q.value)
                         FROM pg_catalog.jsonb_each(query) AS q
                        WHERE q.key OPERATOR(pg_catalog.<>) 'meta' AND NOT pg_catalog.starts_with(q.key, 'meta['));
    END IF;
    -- One item, no query, not archived after its insert: the row the insert returned is the
    -- row a read would find (when it has not expired already: reads hide expired rows), and
    -- its object is inbox.to_directus, as the read's without `fields`. Saves the read (the
    -- engine's statement; about a fifth of the create).
    IF NOT many AND read_query IS NULL AND created[1].id IS NOT NULL
       AND body->>'status' IS DISTINCT FROM 'archived'
       AND (created[1].expires_at IS NULL OR created[1].expires_at > pg_catalog.now()) THEN
        RETURN ('{"data":' OPERATOR(pg_catalog.||) inbox.to_directus(created[1])::text OPERATOR(pg_catalog.||) '}')::json;
    END IF;
    -- Otherwise the created items are read back among the one recipient's rows when there is
    -- one (on Citus: one shard).
    SELECT CASE WHEN pg_catalog.count(DISTINCT e->>'userId') = 1 THEN pg_catalog.min(e->>'userId') END
      INTO recipient FROM pg_catalog.jsonb_array_elements(natives) AS e;
    answer := inbox._directus_read(recipient, NULL, caller.user_id, read_query,
                                   ARRAY(SELECT c.id FROM pg_catalog.unnest(created) WITH ORDINALITY AS c
                                          WHERE c.id IS NOT NULL ORDER BY c.ordinality),
                                   NOT many);
    IF skipped IS NULL THEN
        RETURN answer;
    END IF;
    RETURN pg_catalog.json_build_object('data', answer->'data', 'meta', pg_catalog.json_build_object('skipped', skipped));
END
$$;

DROP INDEX inbox.notifications_workspace_idx;
CREATE INDEX notifications_workspace_idx ON inbox.notifications
    (user_id, workspace_id, created_at DESC, id DESC) WHERE deleted_at IS NULL AND workspace_id IS NOT NULL;

-- lead (issue 15): the claim's statement returns the claimed rows with found's columns instead
-- of joining the two again (a nested loop over both, quadratic in the claim's size whenever the
-- statistics had the outbox nearly empty). The same in the per-shard copy.
CREATE OR REPLACE FUNCTION inbox.claim_deliveries("limit" integer DEFAULT 100, lease_for interval DEFAULT '1 minute',
                                       channels text[] DEFAULT '{email,webhook}')
RETURNS TABLE (user_id text, id text, lease uuid, channel text, attempt integer, target text,
               headers jsonb, body text, secret text)
LANGUAGE plpgsql
AS $$
DECLARE
    claim uuid := pg_catalog.gen_random_uuid();
    at timestamptz := pg_catalog.now();
    stamp text := pg_catalog.floor(EXTRACT(epoch FROM at))::bigint::text;
BEGIN
    IF "limit" IS NULL OR "limit" NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'limit: expected 1 to 10000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF inbox._citus_managed('inbox.deliveries') THEN
        -- (Each node expands its own events in its claim: one round to the nodes.)
        RETURN QUERY SELECT * FROM inbox._claim_citus("limit", lease_for, channels);
        RETURN;
    END IF;
    IF inbox._claim_expands(channels) THEN
        PERFORM inbox.expand_deliveries();
    END IF;
    RETURN QUERY
    WITH due AS (
        SELECT x.user_id, x.id FROM inbox.deliveries x
         WHERE x.state = 'pending' AND x.due_at <= at AND x.channel = ANY (channels)
         ORDER BY x.due_at LIMIT "limit"
           FOR UPDATE SKIP LOCKED),
    found AS (
        SELECT x.user_id, x.id, x.channel, x.type, x.payload, x.address, x.notification_ids,
               w.url, w.secret, m.count, m.first_id, m.subject, m.lines,
               CASE WHEN x.channel = 'webhook' THEN coalesce(w.enabled, false)
                    ELSE x.payload IS NOT NULL OR m.count > 0 END AS live
          FROM due JOIN inbox.deliveries x ON x.user_id = due.user_id AND x.id = due.id
          LEFT JOIN inbox.webhooks w ON x.channel = 'webhook' AND w.id = x.webhook_id
          LEFT JOIN LATERAL (
              SELECT pg_catalog.count(*)::int AS count, pg_catalog.min(n.id) AS first_id,
                     pg_catalog.min(n.title) FILTER (WHERE n.id = x.notification_ids[1]) AS subject,
                     pg_catalog.string_agg(
                         CASE WHEN pg_catalog.cardinality(x.notification_ids) > 1 THEN '* ' ELSE '' END
                         || coalesce(n.title, n.type)
                         || coalesce(E'\n\n' || n.body, '')
                         || coalesce(E'\n\n' || (n.data->>'url'), ''),
                         E'\n\n' ORDER BY n.created_at, n.id) AS lines
                FROM inbox.notifications n
               WHERE x.channel = 'email' AND n.user_id = x.user_id AND n.id = ANY (x.notification_ids)
                 AND n.deleted_at IS NULL) m ON true),
    cancelled AS (
        UPDATE inbox.deliveries x
           SET state = 'cancelled', finished_at = at, lease = NULL, attempts = x.attempts + 1, digest = false,
               last_error = CASE WHEN f.channel = 'webhook' THEN 'the webhook endpoint was removed or disabled'
                                 ELSE 'every notification of the e-mail was deleted' END
          FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND NOT f.live),
    claimed AS (
        UPDATE inbox.deliveries x
           SET lease = claim, attempts = x.attempts + 1, due_at = at + lease_for, digest = false
          FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND f.live
        -- (With found's columns: a join of the two afterwards was a nested loop over both,
        -- quadratic in the claim's size, whenever the statistics had the outbox nearly empty.)
        RETURNING f.*, x.attempts)
    SELECT f.user_id, inbox._delivery_public_id(f.id), claim, f.channel, f.attempts,
           CASE WHEN f.channel = 'webhook' THEN f.url ELSE f.address END,
           CASE WHEN f.channel = 'webhook'
                THEN pg_catalog.jsonb_build_object('webhook-id', inbox._delivery_public_id(f.id), 'webhook-timestamp', stamp)
                ELSE pg_catalog.jsonb_build_object(
                         'subject', CASE WHEN pg_catalog.cardinality(f.notification_ids) > 1 THEN f.count || ' new notifications'
                                         WHEN f.count > 0 THEN coalesce(f.subject, f.type, 'New notification')
                                         ELSE coalesce(f.payload->>'title', f.type, 'New notification') END,
                         -- A retry is the same message; a digest, or an e-mail without a stored
                         -- notification, is its own.
                         'messageId', CASE WHEN pg_catalog.cardinality(f.notification_ids) = 1 AND f.count > 0
                                           THEN inbox.public_id(f.first_id) ELSE inbox._delivery_public_id(f.id) END,
                         'unsubscribe', inbox._unsubscribe_token(f.user_id, f.type),
                         'type', f.type) END,
           CASE WHEN f.channel = 'webhook' THEN f.payload::text
                WHEN f.count > 0 THEN f.lines || E'\n'
                ELSE coalesce(f.payload->>'title', f.type) || coalesce(E'\n\n' || (f.payload->>'body'), '')
                     || coalesce(E'\n\n' || (f.payload->'data'->>'url'), '') || E'\n' END,
           f.secret
      FROM claimed f;
END
$$;

CREATE OR REPLACE FUNCTION inbox._claim_shard(deliveries regclass, notifications regclass, webhooks regclass,
                                   "limit" integer, lease_for interval, channels text[])
RETURNS TABLE (user_id text, id text, lease uuid, channel text, attempt integer, target text,
               headers jsonb, body text, secret text)
LANGUAGE plpgsql
AS $$
DECLARE
    at timestamptz := pg_catalog.now();
BEGIN
    RETURN QUERY EXECUTE pg_catalog.format($claim$
        WITH due AS (
            SELECT x.user_id, x.id FROM %1$s x
             WHERE x.state = 'pending' AND x.due_at <= $2 AND x.channel = ANY ($6)
             ORDER BY x.due_at LIMIT $4
               FOR UPDATE SKIP LOCKED),
        found AS (
            SELECT x.user_id, x.id, x.channel, x.type, x.payload, x.address, x.notification_ids,
                   w.url, w.secret, m.count, m.first_id, m.subject, m.lines,
                   CASE WHEN x.channel = 'webhook' THEN coalesce(w.enabled, false)
                        ELSE x.payload IS NOT NULL OR m.count > 0 END AS live
              FROM due JOIN %1$s x ON x.user_id = due.user_id AND x.id = due.id
              LEFT JOIN %3$s w ON x.channel = 'webhook' AND w.id = x.webhook_id
              LEFT JOIN LATERAL (
                  SELECT pg_catalog.count(*)::int AS count, pg_catalog.min(n.id) AS first_id,
                         pg_catalog.min(n.title) FILTER (WHERE n.id = x.notification_ids[1]) AS subject,
                         pg_catalog.string_agg(
                             CASE WHEN pg_catalog.cardinality(x.notification_ids) > 1 THEN '* ' ELSE '' END
                             || coalesce(n.title, n.type)
                             || coalesce(E'\n\n' || n.body, '')
                             || coalesce(E'\n\n' || (n.data->>'url'), ''),
                             E'\n\n' ORDER BY n.created_at, n.id) AS lines
                    FROM %2$s n
                   WHERE x.channel = 'email' AND n.user_id = x.user_id AND n.id = ANY (x.notification_ids)
                     AND n.deleted_at IS NULL) m ON true),
        cancelled AS (
            UPDATE %1$s x
               SET state = 'cancelled', finished_at = $2, lease = NULL, attempts = x.attempts + 1, digest = false,
                   last_error = CASE WHEN f.channel = 'webhook' THEN 'the webhook endpoint was removed or disabled'
                                     ELSE 'every notification of the e-mail was deleted' END
              FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND NOT f.live),
        claimed AS (
            UPDATE %1$s x
               SET lease = $1, attempts = x.attempts + 1, due_at = $2 + $5, digest = false
              FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND f.live
            -- (With found's columns, as inbox.claim_deliveries's statement, which says why.)
            RETURNING f.*, x.attempts)
        SELECT f.user_id, inbox._delivery_public_id(f.id), $1, f.channel, f.attempts,
               CASE WHEN f.channel = 'webhook' THEN f.url ELSE f.address END,
               CASE WHEN f.channel = 'webhook'
                    THEN pg_catalog.jsonb_build_object('webhook-id', inbox._delivery_public_id(f.id), 'webhook-timestamp', $3)
                    ELSE pg_catalog.jsonb_build_object(
                             'subject', CASE WHEN pg_catalog.cardinality(f.notification_ids) > 1 THEN f.count || ' new notifications'
                                             WHEN f.count > 0 THEN coalesce(f.subject, f.type, 'New notification')
                                             ELSE coalesce(f.payload->>'title', f.type, 'New notification') END,
                             -- A retry is the same message; a digest, or an e-mail without a stored
                             -- notification, is its own.
                             'messageId', CASE WHEN pg_catalog.cardinality(f.notification_ids) = 1 AND f.count > 0
                                               THEN inbox.public_id(f.first_id) ELSE inbox._delivery_public_id(f.id) END,
                             'unsubscribe', inbox._unsubscribe_token(f.user_id, f.type),
                             'type', f.type) END,
               CASE WHEN f.channel = 'webhook' THEN f.payload::text
                    WHEN f.count > 0 THEN f.lines || E'\n'
                    ELSE coalesce(f.payload->>'title', f.type) || coalesce(E'\n\n' || (f.payload->>'body'), '')
                         || coalesce(E'\n\n' || (f.payload->'data'->>'url'), '') || E'\n' END,
               f.secret
          FROM claimed f
$claim$, deliveries, notifications, webhooks)
    USING pg_catalog.gen_random_uuid(), at, pg_catalog.floor(EXTRACT(epoch FROM at))::bigint::text,
          "limit", lease_for, channels;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- lead (issue 15): the insert trigger takes one row (every single create) with plain values:
-- one statement reads the row and the count, where the statements over new_rows (its users, its
-- deltas, its events) cost an executor start each. inbox._lock_marks orders several users only;
-- inbox._created_event says once what a created row's feed event is. The same text as 00_schema.sql.
-- ---------------------------------------------------------------------------------------------

-- Issue 19. The read and seen marks of the users a statement changed rows of, read after
-- locking their counter rows (in user_id order, as the counter statements take them). A
-- read-all and a seen mark take the same lock before they set a mark, so the marks a trigger
-- counts with are the ones in force when its counts land: a row is never shown read and
-- counted unread, or shown seen and counted unseen. The lock is an upsert that changes nothing
-- (a counter row of zeros for a user who has none yet): a user's first notification waits for
-- a seen mark in flight as every later one does. On a Citus shard (by_user) one statement per
-- user, each routed to the user's shard. seen is the marks by workspace key, as
-- inbox._user_marks gives them. One user (every single create) also takes the statements per
-- user: their plans hold for every user, where the bulk read's `= ANY (users)` got a custom
-- plan, made again at every create (about 40 us).
CREATE OR REPLACE FUNCTION inbox._lock_marks(users text[], by_user boolean)
RETURNS TABLE (user_id text, read_before timestamptz, seen jsonb)
LANGUAGE plpgsql
AS $$
DECLARE
    u text;
BEGIN
    IF NOT by_user AND pg_catalog.cardinality(users) > 1 THEN
        INSERT INTO inbox.user_counters AS c (user_id)
        SELECT DISTINCT x FROM pg_catalog.unnest(users) AS x ORDER BY 1
        ON CONFLICT ON CONSTRAINT user_counters_pkey DO UPDATE SET active = c.active WHERE false;
        RETURN QUERY SELECT m.user_id, max(m.read_before) FILTER (WHERE m.workspace_key = ''),
                            pg_catalog.jsonb_object_agg(m.workspace_key, m.seen_before) FILTER (WHERE m.seen_before IS NOT NULL)
                       FROM inbox.marks m
                      WHERE m.user_id = ANY (users)
                      GROUP BY m.user_id;
        RETURN;
    END IF;
    -- (One user, the usual case, needs no statement to be put in order.)
    IF pg_catalog.cardinality(users) > 1 THEN
        users := ARRAY(SELECT DISTINCT x FROM pg_catalog.unnest(users) AS x ORDER BY 1);
    END IF;
    FOREACH u IN ARRAY users LOOP
        INSERT INTO inbox.user_counters AS c (user_id) VALUES (u)
        ON CONFLICT ON CONSTRAINT user_counters_pkey DO UPDATE SET active = c.active WHERE false;
        RETURN QUERY SELECT m.user_id, max(m.read_before) FILTER (WHERE m.workspace_key = ''),
                            pg_catalog.jsonb_object_agg(m.workspace_key, m.seen_before) FILTER (WHERE m.seen_before IS NOT NULL)
                       FROM inbox.marks m
                      WHERE m.user_id = u
                      GROUP BY m.user_id;
    END LOOP;
END
$$;

-- What a created row is for the change feed.
CREATE FUNCTION inbox._created_event(n inbox.notifications)
RETURNS inbox.feed_event
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ROW(n.user_id, n.id, n.workspace_id, 'notification.created',
               (n.deleted_at IS NULL AND n.read_at IS NULL)::int, false)::inbox.feed_event
$$;

-- On a shard the transition tables have the shard's row type, hence ROW(n.*)::inbox.notifications
-- for a whole row.
--
-- The same triggers feed the change feed (45_feed.sql): each passes its rows' events, built
-- from the transition tables (no JSON: inbox.changes reads the payload when it is delivered),
-- or NULL when the session has switched the feed off (inbox._feed_on()).
-- Each reads the read and seen marks of its users first (issue 19: inbox._lock_marks).
--
-- One row (every single create) is read once, with the count, and takes the same steps as
-- plain values: the statements over new_rows (the users, the deltas, the events) cost an
-- executor start each (with them, one row's trigger took 202 to 232 us, without 185 to 191,
-- under track_functions).
CREATE OR REPLACE FUNCTION inbox._counters_after_insert() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    marks_users text[];
    marks_at timestamptz[];
    marks_seen jsonb[];
    probe record;
    mark record;
BEGIN
    SELECT ROW(n.*)::inbox.notifications AS one, pg_catalog.count(*) OVER () AS rows_in INTO probe FROM new_rows n LIMIT 1;
    IF probe.rows_in = 1 THEN
        SELECT m.read_before, m.seen INTO mark
          FROM inbox._lock_marks(ARRAY[(probe.one).user_id], TG_TABLE_NAME <> 'notifications') AS m;
        PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications',
                                            ARRAY[inbox._counter_delta(probe.one, 1, mark.read_before, mark.seen)], true,
                                            CASE WHEN inbox._feed_on() THEN ARRAY[inbox._created_event(probe.one)] END);
        RETURN NULL;
    END IF;
    SELECT pg_catalog.array_agg(m.user_id), pg_catalog.array_agg(m.read_before), pg_catalog.array_agg(m.seen)
      INTO marks_users, marks_at, marks_seen
      FROM inbox._lock_marks(ARRAY(SELECT DISTINCT n.user_id FROM new_rows n), TG_TABLE_NAME <> 'notifications') AS m;
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1, m.at, m.seen) FROM new_rows n
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at), pg_catalog.unnest(marks_seen))
                    AS m(user_id, at, seen)
            ON m.user_id = n.user_id), true,
        CASE WHEN inbox._feed_on() THEN ARRAY(
            SELECT inbox._created_event(ROW(n.*)::inbox.notifications) FROM new_rows n) END);
    RETURN NULL;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- lead (issue 15): inbox._channel_maybe_off saves and restores no setting: only several
-- recipients' preferences (inbox._preferences_off_any) read several shards on Citus. The same
-- text as 55_delivery.sql.
-- ---------------------------------------------------------------------------------------------

-- Whether one of these recipients (several: each on their shard, on Citus) turned `channel` off
-- for something. Its own function for the setting: one recipient's probe (every single create)
-- reads one shard and pays for no setting saved and restored.
CREATE FUNCTION inbox._preferences_off_any(channel text, user_ids text[])
RETURNS boolean
LANGUAGE plpgsql STABLE
SET citus.multi_task_query_log_level = off
AS $$
BEGIN
    -- (A statement of its own, not an EXISTS subquery: Citus plans a subquery over several
    -- shards as an intermediate result, which it cannot read back without columns.)
    PERFORM 1 FROM inbox.preferences p
      WHERE p.user_id = ANY (user_ids) AND p.channel = _preferences_off_any.channel AND NOT p.enabled
      LIMIT 1;
    RETURN FOUND;
END
$$;

-- Whether `channel` may be off for any of these users and types (types NULL: any type): one of
-- them turned it off for something, or a type leaves it out of its defaults. false answers for
-- every recipient at once and is the common case (nothing configured): one probe of the
-- preferences' key per recipient and one look at the small type registry, whatever the
-- statistics say (an index probe or one pass over the preferences with the recipients hashed:
-- never a scan per recipient). (One recipient: a statement on its shard alone, on Citus.)
CREATE OR REPLACE FUNCTION inbox._channel_maybe_off(channel text, user_ids text[], types text[])
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF EXISTS (SELECT FROM inbox.notification_types t
                WHERE NOT t.critical AND NOT _channel_maybe_off.channel = ANY (t.channels)
                  AND (types IS NULL OR t.name = ANY (types))) THEN
        RETURN true;
    END IF;
    IF pg_catalog.cardinality(user_ids) = 1 THEN
        PERFORM 1 FROM inbox.preferences p
          WHERE p.user_id = user_ids[1] AND p.channel = _channel_maybe_off.channel AND NOT p.enabled
          LIMIT 1;
        RETURN FOUND;
    END IF;
    RETURN inbox._preferences_off_any(_channel_maybe_off.channel, user_ids);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- lead (issue 15): one Directus item takes its recipients and objects as plain arrays
-- (inbox.directus_create), and one object is asked whether it aggregates with a plain
-- expression (inbox._create): queries that cost an executor start each. The same text as
-- 25_aggregation.sql and 60_directus.sql.
-- ---------------------------------------------------------------------------------------------

-- The one way rows are created: type check, then one bulk insert, or one by one in input
-- order when some of them aggregate. Returns the rows in input order. `path` names the input
-- in errors; with `indexed`, objects are its elements (notifications[3].type), otherwise
-- every object is that one input (template.type). A recipient who turned in_app off for the
-- type gets nothing stored (inbox._skip_in_app, 55_delivery.sql): a hole, a row with only its
-- user_id (id NULL), stands in its place.
CREATE OR REPLACE FUNCTION inbox._create(user_ids text[], objects jsonb[], path text, indexed boolean)
RETURNS SETOF inbox.notifications
LANGUAGE plpgsql
AS $$
DECLARE
    one_path text;
    skip boolean[];
    made inbox.notifications[];
    hole inbox.notifications;
    kept integer := 0;
    plain boolean;
BEGIN
    -- Without `indexed` every object is the same input (a fan-out's template, 10,000 times):
    -- checking the first one is checking them all.
    PERFORM inbox._check_types(CASE WHEN indexed THEN objects ELSE objects[1:1] END, path, indexed);
    PERFORM inbox._check_expiry(CASE WHEN indexed THEN objects ELSE objects[1:1] END, path, indexed);
    skip := inbox._skip_in_app(user_ids, objects, indexed);
    -- (One object, every single create, is asked with a plain expression: a query costs an
    -- executor start and end.)
    IF pg_catalog.cardinality(objects) = 1 THEN
        plain := NOT inbox._wants_aggregate(objects[1]);
    ELSE
        plain := NOT EXISTS (SELECT FROM (SELECT DISTINCT o
                                            FROM pg_catalog.unnest(CASE WHEN indexed THEN objects ELSE objects[1:1] END) AS o) AS d
                              WHERE inbox._wants_aggregate(d.o));
    END IF;
    IF plain THEN
        -- Identity values follow the insert order.
        IF skip IS NULL THEN
            RETURN QUERY SELECT * FROM inbox._insert(user_ids, objects) AS n ORDER BY n.id;
            RETURN;
        END IF;
        made := ARRAY(SELECT ROW(n.*)::inbox.notifications
                        FROM inbox._insert(
                                 ARRAY(SELECT x.u FROM ROWS FROM (pg_catalog.unnest(user_ids), pg_catalog.unnest(skip))
                                                       WITH ORDINALITY AS x(u, s, k)
                                        WHERE NOT x.s ORDER BY x.k),
                                 ARRAY(SELECT x.o FROM ROWS FROM (pg_catalog.unnest(objects), pg_catalog.unnest(skip))
                                                       WITH ORDINALITY AS x(o, s, k)
                                        WHERE NOT x.s ORDER BY x.k)) AS n
                       ORDER BY n.id);
        FOR i IN 1 .. pg_catalog.cardinality(objects) LOOP
            IF skip[i] THEN
                hole.user_id := user_ids[i];
                RETURN NEXT hole;
            ELSE
                kept := kept + 1;
                RETURN NEXT made[kept];
            END IF;
        END LOOP;
        RETURN;
    END IF;
    FOR i IN 1 .. pg_catalog.cardinality(objects) LOOP
        one_path := CASE WHEN indexed THEN path || '[' || (i - 1) || ']' ELSE path END;
        IF skip[i] THEN
            hole.user_id := user_ids[i];
            RETURN NEXT hole;
        ELSIF inbox._wants_aggregate(objects[i]) THEN
            RETURN NEXT inbox._aggregate(user_ids[i], objects[i], one_path);
        ELSE
            RETURN QUERY SELECT * FROM inbox._insert(ARRAY[user_ids[i]], ARRAY[objects[i]]);
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
    user_ids text[];
    objects jsonb[];
    created inbox.notifications[];
    archived record;
    recipient text;
    skipped json;
    read_query jsonb;
    answer json;
BEGIN
    IF pg_catalog.jsonb_typeof(body) IS DISTINCT FROM 'object' AND NOT many THEN
        RAISE EXCEPTION 'payload: expected a notification object or an array of them'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF many AND pg_catalog.jsonb_array_length(body) = 0 THEN
        RETURN '{"data":[]}';
    END IF;
    -- One item (what POST /notifications sends) takes plain expressions where several take a
    -- query: each query costs an executor start and end, and a plain expression does not.
    -- Directus's recipient and sender are foreign keys: so are they here, once a relation says
    -- which table holds the users.
    IF many THEN
        natives := (SELECT pg_catalog.jsonb_agg(inbox._directus_new(caller, i.item,
                               'payload[' OPERATOR(pg_catalog.||) (i.o - 1) OPERATOR(pg_catalog.||) ']') ORDER BY i.o)
                      FROM pg_catalog.jsonb_array_elements(items) WITH ORDINALITY AS i(item, o));
        user_ids := ARRAY(SELECT e->>'userId' FROM pg_catalog.jsonb_array_elements(natives) AS e);
        objects := ARRAY(SELECT e FROM pg_catalog.jsonb_array_elements(natives) AS e);
        PERFORM inbox._directus_check_users('recipient', ARRAY(SELECT DISTINCT u FROM pg_catalog.unnest(user_ids) AS u));
    ELSE
        natives := pg_catalog.jsonb_build_array(inbox._directus_new(caller, body, 'payload'));
        user_ids := ARRAY[natives->0->>'userId'];
        objects := ARRAY[natives->0];
        PERFORM inbox._directus_check_users('recipient', user_ids);
    END IF;
    IF many OR natives->0 ? 'actorId' THEN
        PERFORM inbox._directus_check_users('sender', ARRAY(SELECT DISTINCT e->>'actorId' FROM pg_catalog.jsonb_array_elements(natives) AS e
                                                             WHERE e ? 'actorId'));
    END IF;
    -- The rows themselves (inbox.create_many's, in input order; a hole, id NULL, for a
    -- recipient who turned in_app off): the answer is Directus's shape, not the API's. Through
    -- inbox._create with inbox._create_rows's path, without the checks of its argument
    -- (inbox._check_fields, a statement per item): inbox._directus_new writes only known fields,
    -- each a string (or null where null is allowed), and always a userId.
    created := ARRAY(SELECT ROW(n.*)::inbox.notifications FROM inbox._create(user_ids, objects, 'notifications', true) AS n);
    -- Items created with status "archived" are archived at once (one item that is not needs no
    -- statement for it).
    IF many OR body->>'status' = 'archived' THEN
        FOR archived IN
            SELECT c.user_id, pg_catalog.array_agg(inbox.public_id(c.id) ORDER BY c.ordinality) AS ids
              FROM pg_catalog.unnest(created) WITH ORDINALITY AS c
              JOIN pg_catalog.jsonb_array_elements(items) WITH ORDINALITY AS i(item, o) ON i.o = c.ordinality
             WHERE i.item->>'status' = 'archived' AND c.id IS NOT NULL
             GROUP BY 1 ORDER BY 1
        LOOP
            PERFORM inbox.archive(archived.user_id, archived.ids);
        END LOOP;
    END IF;
    -- Recipients who turned in_app off get nothing stored (55_delivery.sql): the answer holds
    -- the items created ("data": null when the one item was not) and names the others in
    -- meta.skipped, a key Directus's own answer never has.
    IF NOT many THEN
        skipped := CASE WHEN created[1].id IS NULL THEN pg_catalog.json_build_array(created[1].user_id) END;
    ELSE
        skipped := (SELECT pg_catalog.json_agg(c.user_id ORDER BY c.ordinality)
                      FROM pg_catalog.unnest(created) WITH ORDINALITY AS c
                     WHERE c.id IS NULL);
    END IF;
    IF skipped IS NOT NULL AND NOT many THEN
        RETURN pg_catalog.json_build_object('data', NULL, 'meta', pg_catalog.json_build_object('skipped', skipped));
    END IF;
    -- A create answers its items alone, as Directus's does, and its meta parameter (meta,
    -- meta[]) is ignored: a send-only caller may read none of them, so meta would count rows
    -- it may not see.
    IF query IS NOT NULL AND query <> '{}' THEN
        read_query := (SELECT pg_catalog.jsonb_object_agg(q.key, q.value)
                         FROM pg_catalog.jsonb_each(query) AS q
                        WHERE q.key OPERATOR(pg_catalog.<>) 'meta' AND NOT pg_catalog.starts_with(q.key, 'meta['));
    END IF;
    -- One item, no query, not archived after its insert: the row the insert returned is the
    -- row a read would find (when it has not expired already: reads hide expired rows), and
    -- its object is inbox.to_directus, as the read's without `fields`. Saves the read (the
    -- engine's statement; about a fifth of the create).
    IF NOT many AND read_query IS NULL AND created[1].id IS NOT NULL
       AND body->>'status' IS DISTINCT FROM 'archived'
       AND (created[1].expires_at IS NULL OR created[1].expires_at > pg_catalog.now()) THEN
        RETURN ('{"data":' OPERATOR(pg_catalog.||) inbox.to_directus(created[1])::text OPERATOR(pg_catalog.||) '}')::json;
    END IF;
    -- Otherwise the created items are read back among the one recipient's rows when there is
    -- one (on Citus: one shard).
    SELECT CASE WHEN pg_catalog.count(DISTINCT e->>'userId') = 1 THEN pg_catalog.min(e->>'userId') END
      INTO recipient FROM pg_catalog.jsonb_array_elements(natives) AS e;
    answer := inbox._directus_read(recipient, NULL, caller.user_id, read_query,
                                   ARRAY(SELECT c.id FROM pg_catalog.unnest(created) WITH ORDINALITY AS c
                                          WHERE c.id IS NOT NULL ORDER BY c.ordinality),
                                   NOT many);
    IF skipped IS NULL THEN
        RETURN answer;
    END IF;
    RETURN pg_catalog.json_build_object('data', answer->'data', 'meta', pg_catalog.json_build_object('skipped', skipped));
END
$$;

-- ---------------------------------------------------------------------------------------------
-- h-relcache (issue 15, 30_engine.sql): each backend caches the relations it loaded, and a
-- statement trigger on inbox.relations tells every backend when they change (a relcache
-- invalidation of the table).

CREATE FUNCTION inbox._relations_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pgi_relations_changed'
LANGUAGE C;

COMMENT ON FUNCTION inbox._relations_changed() IS
    'Trigger of inbox.relations: tells every backend to drop its cached relations (a relcache invalidation of the table).';

CREATE TRIGGER relations_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON inbox.relations
    FOR EACH STATEMENT EXECUTE FUNCTION inbox._relations_changed();
ALTER TABLE inbox.relations ENABLE ALWAYS TRIGGER relations_changed;

-- ---------------------------------------------------------------------------------------------
-- lead (issue 15): the claim reads each channel's due rows in order from an index keyed by
-- channel first: a webhook worker's claim read every e-mail waiting, and every claim read the
-- heap for each due entry of rows that had left the queue (a bitmap scan, which marks none of
-- them dead) until a vacuum. The same text as 55_delivery.sql.
-- ---------------------------------------------------------------------------------------------

DROP INDEX inbox.deliveries_due_idx;
-- What the workers claim: a channel's due rows, oldest first, across users. By channel first:
-- each worker claims one channel, and a webhook worker must not read every e-mail waiting.
CREATE INDEX deliveries_due_idx ON inbox.deliveries (channel, due_at) WHERE state = 'pending';

-- Claims up to `limit` due deliveries of `channels` for `lease_for` and returns what to send, in
-- one statement: the target (URL or address), the body, and the headers (webhook: webhook-id
-- and webhook-timestamp, with the endpoint's secret for the server to sign them; e-mail: the
-- subject, the Message-ID's local part, the unsubscribe token). A row whose lease runs out
-- before it is finished is due again, under the same id. Rows that can no longer be sent (their
-- endpoint gone or disabled, every notification of an e-mail deleted) are cancelled here. An
-- e-mail without a stored notification (its recipient had in_app off) is built from the create
-- object the row carries. It first expands the change feed (inbox.expand_deliveries), so that
-- what committed up to now is claimable, with no statement of the workers' own: an idle claim
-- costs one more look at the feed's xid index; but not for a claim of channels none of which is
-- configured (inbox._claim_expands).
CREATE OR REPLACE FUNCTION inbox.claim_deliveries("limit" integer DEFAULT 100, lease_for interval DEFAULT '1 minute',
                                       channels text[] DEFAULT '{email,webhook}')
RETURNS TABLE (user_id text, id text, lease uuid, channel text, attempt integer, target text,
               headers jsonb, body text, secret text)
LANGUAGE plpgsql
AS $$
DECLARE
    claim uuid := pg_catalog.gen_random_uuid();
    at timestamptz := pg_catalog.now();
    stamp text := pg_catalog.floor(EXTRACT(epoch FROM at))::bigint::text;
BEGIN
    IF "limit" IS NULL OR "limit" NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'limit: expected 1 to 10000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF inbox._citus_managed('inbox.deliveries') THEN
        -- (Each node expands its own events in its claim: one round to the nodes.)
        RETURN QUERY SELECT * FROM inbox._claim_citus("limit", lease_for, channels);
        RETURN;
    END IF;
    IF inbox._claim_expands(channels) THEN
        PERFORM inbox.expand_deliveries();
    END IF;
    RETURN QUERY
    -- Each channel's due rows in the index's order (channel, due_at), the oldest of them all
    -- taken: an ordered scan that stops at `limit` and passes the entries of rows that left the
    -- queue (they are marked dead as it goes), where a scan of every channel's due entries at
    -- once read the heap for each of them at every claim until a vacuum.
    WITH due AS (
        SELECT d.user_id, d.id
          FROM (SELECT DISTINCT u FROM pg_catalog.unnest(channels) AS u) AS c(channel)
          CROSS JOIN LATERAL (
              SELECT x.user_id, x.id, x.due_at FROM inbox.deliveries x
               WHERE x.state = 'pending' AND x.channel = c.channel AND x.due_at <= at
               ORDER BY x.due_at LIMIT "limit"
                 FOR UPDATE SKIP LOCKED) AS d
         ORDER BY d.due_at LIMIT "limit"),
    found AS (
        SELECT x.user_id, x.id, x.channel, x.type, x.payload, x.address, x.notification_ids,
               w.url, w.secret, m.count, m.first_id, m.subject, m.lines,
               CASE WHEN x.channel = 'webhook' THEN coalesce(w.enabled, false)
                    ELSE x.payload IS NOT NULL OR m.count > 0 END AS live
          FROM due JOIN inbox.deliveries x ON x.user_id = due.user_id AND x.id = due.id
          LEFT JOIN inbox.webhooks w ON x.channel = 'webhook' AND w.id = x.webhook_id
          LEFT JOIN LATERAL (
              SELECT pg_catalog.count(*)::int AS count, pg_catalog.min(n.id) AS first_id,
                     pg_catalog.min(n.title) FILTER (WHERE n.id = x.notification_ids[1]) AS subject,
                     pg_catalog.string_agg(
                         CASE WHEN pg_catalog.cardinality(x.notification_ids) > 1 THEN '* ' ELSE '' END
                         || coalesce(n.title, n.type)
                         || coalesce(E'\n\n' || n.body, '')
                         || coalesce(E'\n\n' || (n.data->>'url'), ''),
                         E'\n\n' ORDER BY n.created_at, n.id) AS lines
                FROM inbox.notifications n
               WHERE x.channel = 'email' AND n.user_id = x.user_id AND n.id = ANY (x.notification_ids)
                 AND n.deleted_at IS NULL) m ON true),
    cancelled AS (
        UPDATE inbox.deliveries x
           SET state = 'cancelled', finished_at = at, lease = NULL, attempts = x.attempts + 1, digest = false,
               last_error = CASE WHEN f.channel = 'webhook' THEN 'the webhook endpoint was removed or disabled'
                                 ELSE 'every notification of the e-mail was deleted' END
          FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND NOT f.live),
    claimed AS (
        UPDATE inbox.deliveries x
           SET lease = claim, attempts = x.attempts + 1, due_at = at + lease_for, digest = false
          FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND f.live
        -- (With found's columns: a join of the two afterwards was a nested loop over both,
        -- quadratic in the claim's size, whenever the statistics had the outbox nearly empty.)
        RETURNING f.*, x.attempts)
    SELECT f.user_id, inbox._delivery_public_id(f.id), claim, f.channel, f.attempts,
           CASE WHEN f.channel = 'webhook' THEN f.url ELSE f.address END,
           CASE WHEN f.channel = 'webhook'
                THEN pg_catalog.jsonb_build_object('webhook-id', inbox._delivery_public_id(f.id), 'webhook-timestamp', stamp)
                ELSE pg_catalog.jsonb_build_object(
                         'subject', CASE WHEN pg_catalog.cardinality(f.notification_ids) > 1 THEN f.count || ' new notifications'
                                         WHEN f.count > 0 THEN coalesce(f.subject, f.type, 'New notification')
                                         ELSE coalesce(f.payload->>'title', f.type, 'New notification') END,
                         -- A retry is the same message; a digest, or an e-mail without a stored
                         -- notification, is its own.
                         'messageId', CASE WHEN pg_catalog.cardinality(f.notification_ids) = 1 AND f.count > 0
                                           THEN inbox.public_id(f.first_id) ELSE inbox._delivery_public_id(f.id) END,
                         'unsubscribe', inbox._unsubscribe_token(f.user_id, f.type),
                         'type', f.type) END,
           CASE WHEN f.channel = 'webhook' THEN f.payload::text
                WHEN f.count > 0 THEN f.lines || E'\n'
                ELSE coalesce(f.payload->>'title', f.type) || coalesce(E'\n\n' || (f.payload->>'body'), '')
                     || coalesce(E'\n\n' || (f.payload->'data'->>'url'), '') || E'\n' END,
           f.secret
      FROM claimed f;
END
$$;

-- The claim's statement (inbox.claim_deliveries's, which keeps its own static copy: one node
-- plans it once per session, where this one is planned at every call) over one shard's tables
-- on a Citus node: the deliveries, the notifications of the same shard group, the node's copy
-- of the webhooks, named by the caller from the catalogs.
CREATE OR REPLACE FUNCTION inbox._claim_shard(deliveries regclass, notifications regclass, webhooks regclass,
                                   "limit" integer, lease_for interval, channels text[])
RETURNS TABLE (user_id text, id text, lease uuid, channel text, attempt integer, target text,
               headers jsonb, body text, secret text)
LANGUAGE plpgsql
AS $$
DECLARE
    at timestamptz := pg_catalog.now();
BEGIN
    RETURN QUERY EXECUTE pg_catalog.format($claim$
        WITH due AS (
            SELECT d.user_id, d.id
              FROM (SELECT DISTINCT u FROM pg_catalog.unnest($6) AS u) AS c(channel)
              CROSS JOIN LATERAL (
                  SELECT x.user_id, x.id, x.due_at FROM %1$s x
                   WHERE x.state = 'pending' AND x.channel = c.channel AND x.due_at <= $2
                   ORDER BY x.due_at LIMIT $4
                     FOR UPDATE SKIP LOCKED) AS d
             ORDER BY d.due_at LIMIT $4),
        found AS (
            SELECT x.user_id, x.id, x.channel, x.type, x.payload, x.address, x.notification_ids,
                   w.url, w.secret, m.count, m.first_id, m.subject, m.lines,
                   CASE WHEN x.channel = 'webhook' THEN coalesce(w.enabled, false)
                        ELSE x.payload IS NOT NULL OR m.count > 0 END AS live
              FROM due JOIN %1$s x ON x.user_id = due.user_id AND x.id = due.id
              LEFT JOIN %3$s w ON x.channel = 'webhook' AND w.id = x.webhook_id
              LEFT JOIN LATERAL (
                  SELECT pg_catalog.count(*)::int AS count, pg_catalog.min(n.id) AS first_id,
                         pg_catalog.min(n.title) FILTER (WHERE n.id = x.notification_ids[1]) AS subject,
                         pg_catalog.string_agg(
                             CASE WHEN pg_catalog.cardinality(x.notification_ids) > 1 THEN '* ' ELSE '' END
                             || coalesce(n.title, n.type)
                             || coalesce(E'\n\n' || n.body, '')
                             || coalesce(E'\n\n' || (n.data->>'url'), ''),
                             E'\n\n' ORDER BY n.created_at, n.id) AS lines
                    FROM %2$s n
                   WHERE x.channel = 'email' AND n.user_id = x.user_id AND n.id = ANY (x.notification_ids)
                     AND n.deleted_at IS NULL) m ON true),
        cancelled AS (
            UPDATE %1$s x
               SET state = 'cancelled', finished_at = $2, lease = NULL, attempts = x.attempts + 1, digest = false,
                   last_error = CASE WHEN f.channel = 'webhook' THEN 'the webhook endpoint was removed or disabled'
                                     ELSE 'every notification of the e-mail was deleted' END
              FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND NOT f.live),
        claimed AS (
            UPDATE %1$s x
               SET lease = $1, attempts = x.attempts + 1, due_at = $2 + $5, digest = false
              FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND f.live
            -- (With found's columns, as inbox.claim_deliveries's statement, which says why.)
            RETURNING f.*, x.attempts)
        SELECT f.user_id, inbox._delivery_public_id(f.id), $1, f.channel, f.attempts,
               CASE WHEN f.channel = 'webhook' THEN f.url ELSE f.address END,
               CASE WHEN f.channel = 'webhook'
                    THEN pg_catalog.jsonb_build_object('webhook-id', inbox._delivery_public_id(f.id), 'webhook-timestamp', $3)
                    ELSE pg_catalog.jsonb_build_object(
                             'subject', CASE WHEN pg_catalog.cardinality(f.notification_ids) > 1 THEN f.count || ' new notifications'
                                             WHEN f.count > 0 THEN coalesce(f.subject, f.type, 'New notification')
                                             ELSE coalesce(f.payload->>'title', f.type, 'New notification') END,
                             -- A retry is the same message; a digest, or an e-mail without a stored
                             -- notification, is its own.
                             'messageId', CASE WHEN pg_catalog.cardinality(f.notification_ids) = 1 AND f.count > 0
                                               THEN inbox.public_id(f.first_id) ELSE inbox._delivery_public_id(f.id) END,
                             'unsubscribe', inbox._unsubscribe_token(f.user_id, f.type),
                             'type', f.type) END,
               CASE WHEN f.channel = 'webhook' THEN f.payload::text
                    WHEN f.count > 0 THEN f.lines || E'\n'
                    ELSE coalesce(f.payload->>'title', f.type) || coalesce(E'\n\n' || (f.payload->>'body'), '')
                         || coalesce(E'\n\n' || (f.payload->'data'->>'url'), '') || E'\n' END,
               f.secret
          FROM claimed f
$claim$, deliveries, notifications, webhooks)
    USING pg_catalog.gen_random_uuid(), at, pg_catalog.floor(EXTRACT(epoch FROM at))::bigint::text,
          "limit", lease_for, channels;
END
$$;
