-- ---------------------------------------------------------------------------------------------
-- 20_api: the SQL API applications call. user_id comes first in every function that touches
-- one user's rows (the distribution argument on a Citus cluster). Every change returns the
-- rows in the API shape; another user's id is "not found", exactly as an unknown one.
-- ---------------------------------------------------------------------------------------------

-- Inserts the notifications described by (user_id, object) pairs, in order, and returns them.
-- Callers go through inbox._create (25_aggregation.sql), which checks types and aggregates.
CREATE FUNCTION inbox._insert(user_ids text[], objects jsonb[])
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

-- What the create APIs answer for a row of inbox._create: the notification, or for a hole
-- (a recipient who turned in_app off: 55_delivery.sql) {"userId": ..., "skipped": "in_app"}.
CREATE FUNCTION inbox._created_json(n inbox.notifications)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN n.id IS NULL THEN pg_catalog.jsonb_build_object('userId', n.user_id, 'skipped', 'in_app')
                ELSE inbox.to_json(n) END
$$;

CREATE FUNCTION inbox.create(user_id text, notification jsonb)
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

COMMENT ON FUNCTION inbox.create(text, jsonb) IS
    'Creates one notification for user_id from an API object (type, title, body, data, workspaceId, actorId, collection, item, groupKey); returns it.';

CREATE FUNCTION inbox.create_many(notifications jsonb)
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

COMMENT ON FUNCTION inbox.create_many(jsonb) IS
    'Creates the notifications of a JSON array (each with its userId) in one statement; returns them in order.';

-- The rows of a fan-out, in recipient order, after checking its arguments: at least one
-- recipient, none null or listed twice, and a create object without a userId of its own.
CREATE FUNCTION inbox._fan_out(user_ids text[], template jsonb)
RETURNS SETOF inbox.notifications
LANGUAGE plpgsql
AS $$
DECLARE
    duplicate text;
BEGIN
    IF user_ids IS NULL OR pg_catalog.cardinality(user_ids) = 0 THEN
        RAISE EXCEPTION 'userIds: expected at least one recipient'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.array_position(user_ids, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'userIds[%]: must not be null', pg_catalog.array_position(user_ids, NULL) - 1
              USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT u INTO duplicate FROM pg_catalog.unnest(user_ids) AS u GROUP BY u HAVING count(*) > 1 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'userIds: "%" is listed more than once', duplicate
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM inbox._check_fields(template, 'create', 'template');
    IF template ? 'userId' THEN
        RAISE EXCEPTION 'template.userId: a fan-out takes its recipients from userIds'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY SELECT * FROM inbox._create(user_ids,
                                             pg_catalog.array_fill(template, ARRAY[pg_catalog.cardinality(user_ids)]),
                                             'template', false);
END
$$;

CREATE FUNCTION inbox.fan_out(user_ids text[], template jsonb)
RETURNS jsonb
LANGUAGE sql
AS $$
    -- A function scan yields the rows in the order inbox._fan_out returned them.
    SELECT pg_catalog.jsonb_agg(inbox._created_json(n)) FROM inbox._fan_out(user_ids, template) AS n
$$;

COMMENT ON FUNCTION inbox.fan_out(text[], jsonb) IS
    'Creates one notification per recipient from one template, in one statement; returns them in recipient order.';

-- The same fan-out for callers that do not read the rows back: building and sending one JSON
-- object per recipient costs about a third of a 10,000-recipient fan-out (bench/README.md).
CREATE FUNCTION inbox.fan_out_count(user_ids text[], template jsonb)
RETURNS bigint
LANGUAGE sql
AS $$
    SELECT count(n.id) FROM inbox._fan_out(user_ids, template) AS n
$$;

COMMENT ON FUNCTION inbox.fan_out_count(text[], jsonb) IS
    'Creates one notification per recipient from one template, as inbox.fan_out does; returns how many recipients were served (one row each, created or aggregated into).';

CREATE FUNCTION inbox.get(user_id text, id text, include_deleted boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    found_row inbox.notifications;
BEGIN
    SELECT * INTO found_row FROM inbox.notifications n
     WHERE n.user_id = get.user_id AND n.id = inbox.internal_id(get.id)
       AND (include_deleted OR n.deleted_at IS NULL);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'notification % not found', id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN inbox.to_json(found_row);
END
$$;

COMMENT ON FUNCTION inbox.get(text, text, boolean) IS
    'One notification of user_id by public id; soft-deleted ones only with include_deleted.';

-- The state changes. `action` is one of read, unread, archive, unarchive, soft_delete,
-- restore, update (with `changes`), purge and delete. All or nothing: an unknown id, another
-- user's id, or a row in the wrong state raises and changes no row. Changing a row to the
-- state it is in keeps it as it is (its first read_at, its updated_at).
CREATE FUNCTION inbox._change(user_id text, ids text[], action text, changes jsonb DEFAULT NULL)
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

CREATE FUNCTION inbox._change_one(user_id text, id text, action text, changes jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql
AS $$
    SELECT inbox.to_json(c) FROM inbox._change(user_id, ARRAY[id], action, changes) AS c
$$;

CREATE FUNCTION inbox._change_many(user_id text, ids text[], action text, changes jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql
AS $$
    -- A function scan yields _change's rows in the order it returned them: the ids' order.
    SELECT coalesce(pg_catalog.jsonb_agg(inbox.to_json(c)), '[]')
      FROM inbox._change(user_id, ids, action, changes) AS c
$$;

-- The public state-change functions: each takes one id (and returns the object) or an array
-- of ids (and returns an array, in the order given).
CREATE FUNCTION inbox.update(user_id text, id text, changes jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_one(user_id, id, 'update', changes) $$;
CREATE FUNCTION inbox.update(user_id text, ids text[], changes jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_many(user_id, ids, 'update', changes) $$;
CREATE FUNCTION inbox.mark_read(user_id text, id text) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_one(user_id, id, 'read') $$;
CREATE FUNCTION inbox.mark_read(user_id text, ids text[]) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_many(user_id, ids, 'read') $$;
CREATE FUNCTION inbox.mark_unread(user_id text, id text) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_one(user_id, id, 'unread') $$;
CREATE FUNCTION inbox.mark_unread(user_id text, ids text[]) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_many(user_id, ids, 'unread') $$;
CREATE FUNCTION inbox.archive(user_id text, id text) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_one(user_id, id, 'archive') $$;
CREATE FUNCTION inbox.archive(user_id text, ids text[]) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_many(user_id, ids, 'archive') $$;
CREATE FUNCTION inbox.unarchive(user_id text, id text) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_one(user_id, id, 'unarchive') $$;
CREATE FUNCTION inbox.unarchive(user_id text, ids text[]) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_many(user_id, ids, 'unarchive') $$;
CREATE FUNCTION inbox.soft_delete(user_id text, id text) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_one(user_id, id, 'soft_delete') $$;
CREATE FUNCTION inbox.soft_delete(user_id text, ids text[]) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_many(user_id, ids, 'soft_delete') $$;
CREATE FUNCTION inbox.restore(user_id text, id text) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_one(user_id, id, 'restore') $$;
CREATE FUNCTION inbox.restore(user_id text, ids text[]) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_many(user_id, ids, 'restore') $$;
CREATE FUNCTION inbox.purge(user_id text, id text) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_one(user_id, id, 'purge') $$;
CREATE FUNCTION inbox.purge(user_id text, ids text[]) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_many(user_id, ids, 'purge') $$;
CREATE FUNCTION inbox.delete(user_id text, id text) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_one(user_id, id, 'delete') $$;
CREATE FUNCTION inbox.delete(user_id text, ids text[]) RETURNS jsonb
LANGUAGE sql AS $$ SELECT inbox._change_many(user_id, ids, 'delete') $$;

COMMENT ON FUNCTION inbox.update(text, text, jsonb) IS
    'Changes type, title, body, data, collection, item or groupKey of one notification; returns it.';
COMMENT ON FUNCTION inbox.update(text, text[], jsonb) IS
    'The same change on several notifications, all or none; returns them in the order given.';
COMMENT ON FUNCTION inbox.mark_read(text, text) IS 'Marks a notification read (keeps the first read_at).';
COMMENT ON FUNCTION inbox.mark_read(text, text[]) IS 'Marks notifications read, all or none.';
COMMENT ON FUNCTION inbox.mark_unread(text, text) IS 'Marks a notification unread.';
COMMENT ON FUNCTION inbox.mark_unread(text, text[]) IS 'Marks notifications unread, all or none.';
COMMENT ON FUNCTION inbox.archive(text, text) IS 'Archives a notification (keeps the first archived_at).';
COMMENT ON FUNCTION inbox.archive(text, text[]) IS 'Archives notifications, all or none.';
COMMENT ON FUNCTION inbox.unarchive(text, text) IS 'Moves an archived notification back to the inbox.';
COMMENT ON FUNCTION inbox.unarchive(text, text[]) IS 'Moves archived notifications back to the inbox, all or none.';
COMMENT ON FUNCTION inbox.soft_delete(text, text) IS 'Soft-deletes a notification: it leaves every default view and can be restored or purged.';
COMMENT ON FUNCTION inbox.soft_delete(text, text[]) IS 'Soft-deletes notifications, all or none.';
COMMENT ON FUNCTION inbox.restore(text, text) IS 'Restores a soft-deleted notification; raises 55000 for one that is not deleted.';
COMMENT ON FUNCTION inbox.restore(text, text[]) IS 'Restores soft-deleted notifications, all or none.';
COMMENT ON FUNCTION inbox.purge(text, text) IS 'Permanently deletes a soft-deleted notification; raises 55000 for an active one.';
COMMENT ON FUNCTION inbox.purge(text, text[]) IS 'Permanently deletes soft-deleted notifications, all or none.';
COMMENT ON FUNCTION inbox.delete(text, text) IS 'Permanently deletes a notification, deleted or not; returns what it was.';
COMMENT ON FUNCTION inbox.delete(text, text[]) IS 'Permanently deletes notifications, all or none.';

-- PL/pgSQL, as every function with parameters that touches a table: Citus cannot plan a SQL
-- function's statements with its parameters (80_citus.sql).
CREATE FUNCTION inbox.mark_all_read(user_id text, workspace_id text DEFAULT NULL)
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

COMMENT ON FUNCTION inbox.mark_all_read(text, text) IS
    'Marks every unread notification of user_id read, optionally within one workspace; returns how many changed.';

-- PL/pgSQL rather than SQL: its two lookups are planned once per session and cached, where
-- the SQL form was inlined and planned again on every call (2-4x slower in the benchmark).
CREATE FUNCTION inbox.unread_count(user_id text, workspace_id text DEFAULT NULL)
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
    RETURN coalesce(n, 0);
END
$$;

COMMENT ON FUNCTION inbox.unread_count(text, text) IS
    'Unread, not deleted notifications of user_id (optionally in one workspace), from the counters: one index lookup.';
