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

-- Issue 19. When a notification created at `at` expires: its expiresAt (null: never), else its
-- type's lifetime after `at` (lifetimes: type name -> interval), else never.
CREATE FUNCTION inbox._expires_at(o jsonb, lifetimes jsonb, at timestamptz)
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN o ? 'expiresAt' THEN (o->>'expiresAt')::timestamptz
                ELSE at + (lifetimes->>coalesce(o->>'type', 'info'))::interval END
$$;

-- Issue 19. Every expiresAt of a create input is an ISO-8601 time (22023 naming the field).
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

-- The rows inbox.create_many creates, in input order (holes for skipped recipients), after
-- checking its argument. (inbox.directus_create takes inbox._create's rows with this path: it
-- answers in Directus's shape, so the API objects inbox.create_many builds would be made for
-- nothing, and its objects need no check.)
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

CREATE FUNCTION inbox.create_many(notifications jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
BEGIN
    -- A function scan yields inbox._create_rows's rows in input order. (PL/pgSQL: a SQL
    -- function with a FROM clause would be planned again in every transaction.)
    RETURN (SELECT pg_catalog.jsonb_agg(inbox._created_json(n)) FROM inbox._create_rows(notifications) AS n);
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
       AND (include_deleted OR n.deleted_at IS NULL)
       AND (n.expires_at IS NULL OR n.expires_at > pg_catalog.now());
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
--
-- Issue 19. For the whole inbox, constant time: a read mark (inbox.marks.read_before = the
-- transaction's start) reads every row last changed before it, without touching those rows.
-- The rows changed since the transaction began (its own, and any committed meanwhile) are
-- marked read one by one (notifications_unread_changed_idx: a handful). Then, under the lock of
-- the user's counter row (which every counter change takes before it reads the mark, see
-- inbox._lock_marks), the mark is set and the unread counters become what is left: rows
-- committed since that UPDATE's snapshot. Within one workspace it updates the rows, as before.
CREATE FUNCTION inbox.mark_all_read(user_id text, workspace_id text DEFAULT NULL)
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

COMMENT ON FUNCTION inbox.mark_all_read(text, text) IS
    'Marks every unread notification of user_id read, optionally within one workspace; returns how many changed. For the whole inbox in constant time (a read mark).';

-- Issue 19. What a page, a count or a shape needs of a user besides the rows, in one statement
-- (on Citus one router statement over inbox.marks and inbox.notifications, on the user's shard):
-- the user's marks as inbox._user_marks gives them, and the expired notifications that are not
-- purged yet (in workspace_id, or NULL for every workspace) as the counters count them (active,
-- unread as the read mark says, soft-deleted, unseen as the seen marks say). Every count
-- subtracts them, so a notification leaves the counts at its expiry time exactly.
--
-- The expired rows are one probe of notifications_expires_idx (user_id, expires_at), which
-- usually finds nothing; the cross-user notifications_expiry_idx cannot serve it (its predicate
-- is not implied here), whatever the statistics say.
CREATE FUNCTION inbox._user_state(user_id text, workspace_id text,
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

-- The expired counts alone (inbox._user_state), for the counts.
CREATE FUNCTION inbox._expired_counts(user_id text, workspace_id text)
RETURNS TABLE (active bigint, unread bigint, deleted bigint, unseen bigint)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN QUERY
    SELECT s.expired_active, s.expired_unread, s.expired_deleted, s.expired_unseen
      FROM inbox._user_state(_expired_counts.user_id, _expired_counts.workspace_id) AS s;
END
$$;

-- PL/pgSQL rather than SQL: its lookups are planned once per session and cached, where the SQL
-- form was inlined and planned again on every call (2-4x slower in the benchmark).
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
    IF n IS NULL THEN
        RETURN 0;
    END IF;
    RETURN n - (SELECT x.unread FROM inbox._expired_counts(user_id, workspace_id) AS x);
END
$$;

COMMENT ON FUNCTION inbox.unread_count(text, text) IS
    'Unread, not deleted, not expired notifications of user_id (optionally in one workspace), from the counters: one index lookup, less the expired rows not purged yet.';

-- Issue 19. Marks every notification of user_id (optionally of one workspace) created up to
-- now seen: one row of inbox.marks, whatever the count. Returns the mark.
--
-- The unseen counters are then set to what stays unseen, under the lock of the user's counter
-- row (which every counter change takes before it reads the marks, inbox._lock_marks): the
-- rows created after the mark, which a newest-first index finds at once (those committed since
-- this transaction began: a handful). For the whole inbox, the user's counter and each of the
-- user's workspace counters; for one workspace, its counter, and the user's moves by as much.
CREATE FUNCTION inbox.mark_seen(user_id text, workspace_id text DEFAULT NULL)
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

-- Issue 19. The active, not expired notifications of user_id (optionally in one workspace) not
-- seen yet, from the counters like the unread count: one index lookup, less the expired rows
-- not purged yet.
CREATE FUNCTION inbox.unseen_count(user_id text, workspace_id text DEFAULT NULL)
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
