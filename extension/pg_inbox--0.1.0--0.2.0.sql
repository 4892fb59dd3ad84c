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
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT m.read_before FROM inbox.marks m WHERE m.user_id = _read_mark.user_id AND m.workspace_key = ''
$$;

CREATE FUNCTION inbox._read_marks(user_id text)
RETURNS timestamptz[]
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT m.read_marks FROM inbox.marks m WHERE m.user_id = _read_marks.user_id AND m.workspace_key = ''
$$;

CREATE FUNCTION inbox._mark_after(marks timestamptz[], t timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT min(x) FROM pg_catalog.unnest(marks) AS x WHERE x > t
$$;

CREATE FUNCTION inbox._seen_mark(user_id text, workspace_id text)
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT max(m.seen_before) FROM inbox.marks m
     WHERE m.user_id = _seen_mark.user_id AND m.workspace_key IN ('', coalesce(_seen_mark.workspace_id, ''))
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
                                      ORDER BY y.deleted_at LIMIT batch);
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
                                      ORDER BY y.id LIMIT batch);  -- oldest first (notifications_id_idx)
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
