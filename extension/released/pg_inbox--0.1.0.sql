-- pg_inbox install script. Built by `make` from extension/sql/*.sql in name order; each part
-- holds one concern. Every name is schema-qualified so a hostile search_path changes nothing.

\echo Use "CREATE EXTENSION pg_inbox" to load this file. \quit

-- ---------------------------------------------------------------------------------------------
-- 00_schema: the notifications table, its indexes and the unread counters.
--
-- Every table is keyed by user_id first, and no constraint, index or trigger looks at two
-- users' rows together, so each can be distributed by user_id (Citus) as it stands.
-- ---------------------------------------------------------------------------------------------

CREATE TABLE inbox.notifications (
    user_id      text        NOT NULL,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    workspace_id text,
    type         text        NOT NULL DEFAULT 'info',
    title        text,
    body         text,
    data         jsonb       NOT NULL DEFAULT '{}',
    actor_id     text,
    collection   text,
    item         text,
    group_key    text,
    -- Filled only when creates aggregate into this row (inbox.notification_actors holds all):
    -- the most recent distinct actors, newest first, and how many there are in all.
    recent_actor_ids text[]  NOT NULL DEFAULT '{}',
    actor_count      integer NOT NULL DEFAULT 0,
    read_at      timestamptz,
    archived_at  timestamptz,
    deleted_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT notifications_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT notifications_user_id_length      CHECK (pg_catalog.length(user_id) BETWEEN 1 AND 255),
    CONSTRAINT notifications_workspace_id_length CHECK (pg_catalog.length(workspace_id) BETWEEN 1 AND 255),
    CONSTRAINT notifications_actor_id_length     CHECK (pg_catalog.length(actor_id) BETWEEN 1 AND 255),
    CONSTRAINT notifications_collection_length   CHECK (pg_catalog.length(collection) BETWEEN 1 AND 255),
    CONSTRAINT notifications_item_length         CHECK (pg_catalog.length(item) BETWEEN 1 AND 255),
    CONSTRAINT notifications_group_key_length    CHECK (pg_catalog.length(group_key) BETWEEN 1 AND 255),
    CONSTRAINT notifications_type_format         CHECK (type OPERATOR(pg_catalog.~) '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$'),
    CONSTRAINT notifications_title_length        CHECK (pg_catalog.length(title) <= 1000),
    CONSTRAINT notifications_body_length         CHECK (pg_catalog.length(body) <= 20000),
    CONSTRAINT notifications_data_object         CHECK (pg_catalog.jsonb_typeof(data) = 'object'),
    CONSTRAINT notifications_data_size           CHECK (pg_catalog.octet_length(data::text) <= 32768),
    CONSTRAINT notifications_recent_actors_bound CHECK (pg_catalog.cardinality(recent_actor_ids) <= 10)
);

COMMENT ON TABLE inbox.notifications IS
    'In-app notifications, one row per recipient. read_at, archived_at and deleted_at are NULL while the notification is unread, in the inbox and not deleted.';

-- The listings: newest first, the active rows of one user, and the same within a workspace,
-- by type, unread only, and the trash view. Keyset seeks on (created_at, id) use them too.
CREATE INDEX notifications_active_idx ON inbox.notifications
    (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX notifications_unread_idx ON inbox.notifications
    (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL AND read_at IS NULL;
CREATE INDEX notifications_workspace_idx ON inbox.notifications
    (user_id, workspace_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX notifications_type_idx ON inbox.notifications
    (user_id, type, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX notifications_trash_idx ON inbox.notifications
    (user_id, created_at DESC, id DESC) WHERE deleted_at IS NOT NULL;

-- ---------------------------------------------------------------------------------------------
-- Counters. Reading a count is one primary-key lookup whatever the inbox size. They are
-- maintained by statement-level triggers, so a bulk statement touches each counter row once,
-- in user_id order (concurrent bulk statements cannot deadlock on them).
--   active  rows not soft-deleted;   unread  of those, not read;   deleted  soft-deleted rows
-- ---------------------------------------------------------------------------------------------

CREATE TABLE inbox.user_counters (
    user_id text   NOT NULL PRIMARY KEY,
    active  bigint NOT NULL DEFAULT 0,
    unread  bigint NOT NULL DEFAULT 0,
    deleted bigint NOT NULL DEFAULT 0
);

CREATE TABLE inbox.workspace_counters (
    user_id      text   NOT NULL,
    workspace_id text   NOT NULL,
    active       bigint NOT NULL DEFAULT 0,
    unread       bigint NOT NULL DEFAULT 0,
    deleted      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, workspace_id)
);

COMMENT ON TABLE inbox.user_counters IS
    'Per-user counts of active, unread and soft-deleted notifications, kept exact by triggers. Rebuilt by inbox.rebuild_counters().';
COMMENT ON TABLE inbox.workspace_counters IS
    'The same counts per user and workspace, for notifications that have a workspace.';

-- Grouped notifications (Mastodon's grouped notifications): one row per user and groupKey
-- with at least one active notification, so a page of groups is an index scan and never a
-- GROUP BY over a whole inbox. Notifications without a groupKey are groups of their own and
-- are read from notifications_ungrouped_idx at listing time. Counts move by deltas; the
-- latest notification, its type and the sample of actors are re-read for each group a
-- statement touches, each by a LIMIT-bounded scan of notifications_group_idx.
CREATE TABLE inbox.notification_groups (
    user_id             text        NOT NULL,
    group_key           text        NOT NULL,
    notifications_count bigint      NOT NULL DEFAULT 0,
    unread_count        bigint      NOT NULL DEFAULT 0,
    latest_at           timestamptz,
    latest_id           bigint,
    type                text,
    sample_actor_ids    text[]      NOT NULL DEFAULT '{}',
    PRIMARY KEY (user_id, group_key)
);

CREATE INDEX notification_groups_latest_idx ON inbox.notification_groups
    (user_id, latest_at DESC, group_key DESC);
CREATE INDEX notifications_group_idx ON inbox.notifications
    (user_id, group_key, created_at DESC, id DESC) WHERE deleted_at IS NULL AND group_key IS NOT NULL;
CREATE INDEX notifications_ungrouped_idx ON inbox.notifications
    (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL AND group_key IS NULL;

COMMENT ON TABLE inbox.notification_groups IS
    'Per user and groupKey: active and unread counts, latest notification, type and sample actors. Kept by the counter triggers.';

CREATE TYPE inbox.counter_delta AS (
    user_id      text,
    workspace_id text,
    group_key    text,
    active       bigint,
    unread       bigint,
    deleted      bigint
);

-- Adds a set of signed row contributions to the counter tables and the group summaries.
-- Without refresh_groups, the statement changed none of what a summary shows besides its counts
-- (latest notification, type, sample actors), so they are not read again: that re-read is most
-- of the cost of marking one grouped notification read.
CREATE FUNCTION inbox._apply_counter_deltas(deltas inbox.counter_delta[], refresh_groups boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
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

-- What one row contributes to the counters, with sign +1 (it appears) or -1 (it goes).
CREATE FUNCTION inbox._counter_delta(n inbox.notifications, sign bigint)
RETURNS inbox.counter_delta
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ROW(n.user_id, n.workspace_id, n.group_key,
               sign * (n.deleted_at IS NULL)::int,
               sign * (n.deleted_at IS NULL AND n.read_at IS NULL)::int,
               sign * (n.deleted_at IS NOT NULL)::int)::inbox.counter_delta
$$;

CREATE FUNCTION inbox._counters_after_insert() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM inbox._apply_counter_deltas(ARRAY(
        SELECT inbox._counter_delta(n, 1) FROM new_rows n));
    RETURN NULL;
END
$$;

CREATE FUNCTION inbox._counters_after_update() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM inbox._apply_counter_deltas(ARRAY(
        SELECT inbox._counter_delta(n, 1) FROM new_rows n
        UNION ALL
        SELECT inbox._counter_delta(o, -1) FROM old_rows o),
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

CREATE FUNCTION inbox._counters_after_delete() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM inbox._apply_counter_deltas(ARRAY(
        SELECT inbox._counter_delta(o, -1) FROM old_rows o));
    RETURN NULL;
END
$$;

CREATE FUNCTION inbox._counters_after_truncate() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    TRUNCATE inbox.user_counters, inbox.workspace_counters, inbox.notification_groups;
    RETURN NULL;
END
$$;

CREATE TRIGGER counters_after_insert AFTER INSERT ON inbox.notifications
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inbox._counters_after_insert();
-- (Transition tables rule out an UPDATE OF column list; rows whose counted columns did not
-- change add up to zero and touch no counter.)
CREATE TRIGGER counters_after_update AFTER UPDATE ON inbox.notifications
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inbox._counters_after_update();
CREATE TRIGGER counters_after_delete AFTER DELETE ON inbox.notifications
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inbox._counters_after_delete();
CREATE TRIGGER counters_after_truncate AFTER TRUNCATE ON inbox.notifications
    FOR EACH STATEMENT EXECUTE FUNCTION inbox._counters_after_truncate();

-- Recomputes every counter from the rows (after a restore, or to prove them exact).
CREATE FUNCTION inbox.rebuild_counters()
RETURNS void
LANGUAGE sql
AS $$
    TRUNCATE inbox.user_counters, inbox.workspace_counters, inbox.notification_groups;
    SELECT inbox._apply_counter_deltas(ARRAY(
        SELECT inbox._counter_delta(n, 1) FROM inbox.notifications n));
$$;

COMMENT ON FUNCTION inbox.rebuild_counters() IS
    'Recomputes inbox.user_counters, inbox.workspace_counters and inbox.notification_groups from inbox.notifications.';

-- pg_dump keeps the notifications. The counters are not dumped: restoring the rows fires the
-- insert trigger, which rebuilds them.
SELECT pg_catalog.pg_extension_config_dump('inbox.notifications', '');
SELECT pg_catalog.pg_extension_config_dump('inbox.notifications_id_seq', '');
-- ---------------------------------------------------------------------------------------------
-- 10_shape: public ids, the one JSON shape of a notification, and input checking.
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox.public_id(internal_id bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'pgi_public_id'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION inbox.public_id(bigint) IS
    'The public id (ntf_...) of the notification with this internal id.';

CREATE FUNCTION inbox.internal_id(public_id text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'pgi_internal_id'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION inbox.internal_id(text) IS
    'The internal id behind a public id; raises 22023 for text that is not a public id.';

-- Timestamps leave the API as ISO-8601 in UTC with microseconds, whatever the session's
-- TimeZone, so a value read back can be used as an exact filter bound. STABLE, as to_char is:
-- an IMMUTABLE wrapper would stop the planner from inlining it (and inbox.to_json) into the
-- query, which costs about three times as much per row.
CREATE FUNCTION inbox.iso_time(t timestamptz)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
    SELECT pg_catalog.to_char(pg_catalog.timezone('UTC', t), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- The actors a notification shows: the aggregated ones (newest first), or its one actor.
CREATE FUNCTION inbox._actors(n inbox.notifications)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN n.actor_count > 0 THEN n.recent_actor_ids
                WHEN n.actor_id IS NOT NULL THEN ARRAY[n.actor_id]
                ELSE '{}'::text[] END
$$;

-- The API shape of a notification: the one place that decides field names.
CREATE FUNCTION inbox.to_json(n inbox.notifications)
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
        'read',        n.read_at IS NOT NULL,
        'readAt',      inbox.iso_time(n.read_at),
        'archived',    n.archived_at IS NOT NULL,
        'archivedAt',  inbox.iso_time(n.archived_at),
        'deletedAt',   inbox.iso_time(n.deleted_at),
        'actorId',     n.actor_id,
        'actors',      pg_catalog.to_jsonb(inbox._actors(n)),
        'actorCount',  GREATEST(n.actor_count, (n.actor_id IS NOT NULL)::int),
        'collection',  n.collection,
        'item',        n.item,
        'groupKey',    n.group_key,
        'createdAt',   inbox.iso_time(n.created_at),
        'updatedAt',   inbox.iso_time(n.updated_at))
$$;

COMMENT ON FUNCTION inbox.to_json(inbox.notifications) IS
    'A notification row in the API shape (camelCase, public id, UTC ISO-8601 times).';

-- The writable fields of a notification, by API name: column and JSON type.
CREATE TABLE inbox.writable_fields (
    field     text PRIMARY KEY,
    column_   name,          -- NULL for an option that is not stored (aggregate)
    json_type text NOT NULL,
    on_create boolean NOT NULL,
    on_update boolean NOT NULL
);

INSERT INTO inbox.writable_fields VALUES
    ('userId',      'user_id',      'string', true,  false),
    ('workspaceId', 'workspace_id', 'string', true,  false),
    ('type',        'type',         'string', true,  true),
    ('title',       'title',        'string', true,  true),
    ('body',        'body',         'string', true,  true),
    ('data',        'data',         'object', true,  true),
    ('actorId',     'actor_id',     'string', true,  false),
    ('collection',  'collection',   'string', true,  true),
    ('item',        'item',         'string', true,  true),
    ('groupKey',    'group_key',    'string', true,  true),
    ('aggregate',   NULL,           'boolean', true, false);

-- The path of a field in an error message: 'type', 'template.type', 'notifications[3].type'.
CREATE FUNCTION inbox._path(parent text, field text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN coalesce(parent, '') = '' THEN field ELSE parent || '.' || field END
$$;

-- Checks a create or update object: a JSON object, only known fields for that operation, each
-- of the right JSON type (null is allowed for the optional text fields). `path` prefixes the
-- error messages, e.g. 'notifications[3]'.
CREATE FUNCTION inbox._check_fields(obj jsonb, operation text, path text)
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
        ON f.field = e.key AND CASE operation WHEN 'create' THEN f.on_create ELSE f.on_update END
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
                                WHERE CASE operation WHEN 'create' THEN f.on_create ELSE f.on_update END)
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

-- Public ids of a bulk call, decoded: not empty, no id twice.
CREATE FUNCTION inbox._resolve_ids(ids text[])
RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    resolved bigint[];
    duplicate text;
BEGIN
    IF ids IS NULL OR pg_catalog.cardinality(ids) = 0 THEN
        RAISE EXCEPTION 'ids: expected at least one notification id'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.cardinality(ids) = 1 THEN
        RETURN ARRAY[inbox.internal_id(ids[1])];  -- one id: nothing to check for duplicates
    END IF;
    SELECT i INTO duplicate FROM pg_catalog.unnest(ids) AS i GROUP BY i HAVING count(*) > 1 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ids: "%" is listed more than once', duplicate
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT pg_catalog.array_agg(inbox.internal_id(i) ORDER BY o) INTO resolved
      FROM pg_catalog.unnest(ids) WITH ORDINALITY AS u(i, o);
    RETURN resolved;
END
$$;
-- ---------------------------------------------------------------------------------------------
-- 15_types: the registry of notification types an application declares (Diaspora's liked,
-- mentioned, ...; Mastodon's mention, reblog, admin.report, ...). A global reference table,
-- not per-user data: on Citus it is a reference table, copied to every node.
-- ---------------------------------------------------------------------------------------------

CREATE TABLE inbox.notification_types (
    name        text        PRIMARY KEY,
    description text        NOT NULL DEFAULT '',
    -- Creates of this type aggregate actors into an unread notification with the same
    -- groupKey (see inbox.create), unless the create says "aggregate": false.
    aggregate   boolean     NOT NULL DEFAULT false,
    builtin     boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT notification_types_name_format
        CHECK (name OPERATOR(pg_catalog.~) '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$'),
    CONSTRAINT notification_types_description_length
        CHECK (pg_catalog.length(description) <= 1000)
);

COMMENT ON TABLE inbox.notification_types IS
    'Declared notification types. The setting pg_inbox.unregistered_types (accept | reject) decides whether other types can be created.';

INSERT INTO inbox.notification_types (name, description, builtin) VALUES
    ('info',    'General information.', true),
    ('warning', 'Something needs attention.', true),
    ('error',   'Something failed.', true),
    ('success', 'Something finished well.', true);

-- The built-in rows come with CREATE EXTENSION; a dump keeps the ones applications add.
SELECT pg_catalog.pg_extension_config_dump('inbox.notification_types', 'WHERE NOT builtin');

CREATE FUNCTION inbox._type_json(t inbox.notification_types)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object('name', t.name, 'description', t.description,
                                         'aggregate', t.aggregate, 'builtin', t.builtin)
$$;

CREATE FUNCTION inbox.register_type(name text, description text DEFAULT '', aggregate boolean DEFAULT false)
RETURNS jsonb
LANGUAGE sql
AS $$
    INSERT INTO inbox.notification_types AS t (name, description, aggregate)
    VALUES (register_type.name, coalesce(register_type.description, ''), coalesce(register_type.aggregate, false))
    ON CONFLICT ON CONSTRAINT notification_types_pkey DO UPDATE
       SET description = excluded.description, aggregate = excluded.aggregate
    RETURNING inbox._type_json(t)
$$;

COMMENT ON FUNCTION inbox.register_type(text, text, boolean) IS
    'Declares a notification type (or changes its description and aggregate setting); returns it.';

CREATE FUNCTION inbox.unregister_type(name text)
RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM inbox.notification_types t WHERE t.name = unregister_type.name AND NOT t.builtin;
    IF NOT FOUND THEN
        IF EXISTS (SELECT FROM inbox.notification_types t WHERE t.name = unregister_type.name) THEN
            RAISE EXCEPTION 'type "%" is built in and cannot be unregistered', name
                  USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RAISE EXCEPTION 'type "%" is not registered', name USING ERRCODE = 'undefined_object';
    END IF;
    RETURN true;
END
$$;

COMMENT ON FUNCTION inbox.unregister_type(text) IS
    'Removes a declared type. Existing notifications of that type stay as they are.';

CREATE FUNCTION inbox.types()
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT coalesce(pg_catalog.jsonb_agg(inbox._type_json(t) ORDER BY t.name), '[]')
      FROM inbox.notification_types t
$$;

COMMENT ON FUNCTION inbox.types() IS 'The declared notification types, by name.';

-- The setting pg_inbox.unregistered_types: 'accept' or 'reject'. Read with missing_ok, so a
-- session that has not loaded the library yet sees a value set with ALTER DATABASE/ROLE (a
-- placeholder there) and the default otherwise.
CREATE FUNCTION inbox._unregistered_types()
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
    RETURN CASE mode WHEN 'reject' THEN 'reject' ELSE 'accept' END;
END
$$;

-- Raises unless the type of every create or update object is registered, when
-- pg_inbox.unregistered_types = reject. `path` and `indexed` name the input as in inbox._create.
CREATE FUNCTION inbox._check_types(objects jsonb[], path text, indexed boolean)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    missing text;
    position bigint;
BEGIN
    IF inbox._unregistered_types() <> 'reject' THEN
        RETURN;
    END IF;
    SELECT coalesce(o->>'type', 'info'), i INTO missing, position
      FROM pg_catalog.unnest(objects) WITH ORDINALITY AS u(o, i)
     WHERE NOT EXISTS (SELECT FROM inbox.notification_types r WHERE r.name = coalesce(o->>'type', 'info'))
     ORDER BY i LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '%: "%" is not a registered type',
              inbox._path(CASE WHEN indexed THEN path || '[' || (position - 1) || ']' ELSE path END, 'type'), missing
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Register it with inbox.register_type(), or SET pg_inbox.unregistered_types = accept.';
    END IF;
END
$$;
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
    RETURN inbox.to_json(created);
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
    RETURN (SELECT pg_catalog.jsonb_agg(inbox.to_json(n))
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
    SELECT pg_catalog.jsonb_agg(inbox.to_json(n)) FROM inbox._fan_out(user_ids, template) AS n
$$;

COMMENT ON FUNCTION inbox.fan_out(text[], jsonb) IS
    'Creates one notification per recipient from one template, in one statement; returns them in recipient order.';

-- The same fan-out for callers that do not read the rows back: building and sending one JSON
-- object per recipient costs about a third of a 10,000-recipient fan-out (bench/README.md).
CREATE FUNCTION inbox.fan_out_count(user_ids text[], template jsonb)
RETURNS bigint
LANGUAGE sql
AS $$
    SELECT count(*) FROM inbox._fan_out(user_ids, template)
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
               read_at     = CASE action WHEN 'read' THEN pg_catalog.now() WHEN 'unread' THEN NULL ELSE n.read_at END,
               archived_at = CASE action WHEN 'archive' THEN pg_catalog.now() WHEN 'unarchive' THEN NULL ELSE n.archived_at END,
               deleted_at  = CASE action WHEN 'soft_delete' THEN pg_catalog.now() ELSE n.deleted_at END,
               updated_at  = pg_catalog.now()
         WHERE n.user_id = _change.user_id AND n.id = wanted[1] AND n.deleted_at IS NULL
           AND CASE action
               WHEN 'read'      THEN n.read_at IS NULL
               WHEN 'unread'    THEN n.read_at IS NOT NULL
               WHEN 'archive'   THEN n.archived_at IS NULL
               WHEN 'unarchive' THEN n.archived_at IS NOT NULL
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
      FROM (SELECT n FROM inbox.notifications n
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
                        HINT = CASE action
                               WHEN 'restore' THEN 'Only soft-deleted notifications can be restored.'
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
           read_at     = CASE action WHEN 'read' THEN pg_catalog.now() WHEN 'unread' THEN NULL ELSE n.read_at END,
           archived_at = CASE action WHEN 'archive' THEN pg_catalog.now() WHEN 'unarchive' THEN NULL ELSE n.archived_at END,
           deleted_at  = CASE action WHEN 'soft_delete' THEN pg_catalog.now() WHEN 'restore' THEN NULL ELSE n.deleted_at END,
           type        = CASE WHEN changes ? 'type'       THEN changes->>'type'       ELSE n.type END,
           title       = CASE WHEN changes ? 'title'      THEN changes->>'title'      ELSE n.title END,
           body        = CASE WHEN changes ? 'body'       THEN changes->>'body'       ELSE n.body END,
           data        = CASE WHEN changes ? 'data'       THEN changes->'data'        ELSE n.data END,
           collection  = CASE WHEN changes ? 'collection' THEN changes->>'collection' ELSE n.collection END,
           item        = CASE WHEN changes ? 'item'       THEN changes->>'item'       ELSE n.item END,
           group_key   = CASE WHEN changes ? 'groupKey'   THEN changes->>'groupKey'   ELSE n.group_key END,
           updated_at  = pg_catalog.now()
     WHERE n.user_id = _change.user_id AND n.id = ANY (wanted)
       AND CASE action
           WHEN 'read'        THEN n.read_at IS NULL
           WHEN 'unread'      THEN n.read_at IS NOT NULL
           WHEN 'archive'     THEN n.archived_at IS NULL
           WHEN 'unarchive'   THEN n.archived_at IS NOT NULL
           WHEN 'soft_delete' THEN true
           WHEN 'restore'     THEN true
           WHEN 'update'      THEN true
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

CREATE FUNCTION inbox.mark_all_read(user_id text, workspace_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql
AS $$
    WITH changed AS (
        UPDATE inbox.notifications n
           SET read_at = pg_catalog.now(), updated_at = pg_catalog.now()
         WHERE n.user_id = mark_all_read.user_id
           AND n.deleted_at IS NULL AND n.read_at IS NULL
           AND (mark_all_read.workspace_id IS NULL OR n.workspace_id = mark_all_read.workspace_id)
        RETURNING 1)
    SELECT count(*) FROM changed
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
-- ---------------------------------------------------------------------------------------------
-- 25_aggregation: several actors behind one notification, the way Diaspora's event_creators
-- work. A create that aggregates, for a recipient who already has an unread, not deleted
-- notification with the same groupKey, adds its actor to that notification instead of
-- inserting a row: no duplicate actor, updatedAt bumped, still unread, and returns it.
-- ---------------------------------------------------------------------------------------------

-- Every actor of a notification that has aggregated, with when each last acted.
CREATE TABLE inbox.notification_actors (
    user_id         text        NOT NULL,
    notification_id bigint      NOT NULL,
    actor_id        text        NOT NULL,
    acted_at        timestamptz NOT NULL,
    PRIMARY KEY (user_id, notification_id, actor_id),
    FOREIGN KEY (user_id, notification_id) REFERENCES inbox.notifications (user_id, id) ON DELETE CASCADE,
    CONSTRAINT notification_actors_actor_id_length CHECK (pg_catalog.length(actor_id) BETWEEN 1 AND 255)
);

SELECT pg_catalog.pg_extension_config_dump('inbox.notification_actors', '');

-- The unread notification of a group, found without scanning the user's inbox.
CREATE INDEX notifications_open_group_idx ON inbox.notifications (user_id, group_key, created_at DESC)
    WHERE read_at IS NULL AND deleted_at IS NULL AND group_key IS NOT NULL;

-- Whether a create object aggregates: its own "aggregate" flag, else its type's setting.
-- PL/pgSQL, not SQL: called from inside a query, the SQL form was planned again on every call
-- (~80 us of each create).
CREATE FUNCTION inbox._wants_aggregate(o jsonb)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    wanted boolean := (o->>'aggregate')::boolean;
BEGIN
    IF wanted IS NULL THEN
        SELECT t.aggregate AND o ? 'groupKey' AND o ? 'actorId' INTO wanted
          FROM inbox.notification_types t WHERE t.name = coalesce(o->>'type', 'info');
    END IF;
    RETURN coalesce(wanted, false);
END
$$;

CREATE FUNCTION inbox._aggregate(user_id text, o jsonb, path text)
RETURNS inbox.notifications
LANGUAGE plpgsql
AS $$
DECLARE
    target inbox.notifications;
    grp    text := o->>'groupKey';
    actor  text := o->>'actorId';
BEGIN
    IF grp IS NULL OR actor IS NULL THEN
        RAISE EXCEPTION '%: needs a groupKey and an actorId to aggregate on', inbox._path(path, 'aggregate')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Concurrent creates for one group take turns, so none inserts a second row and no actor
    -- is lost. The lock is per user and group; it is released at commit.
    PERFORM pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('pg_inbox.group:' || user_id || pg_catalog.chr(31) || grp, 0));

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

    UPDATE inbox.notifications n
       SET actor_id = actor,
           recent_actor_ids = ARRAY(SELECT a.actor_id FROM inbox.notification_actors a
                                     WHERE a.user_id = n.user_id AND a.notification_id = n.id
                                     ORDER BY a.acted_at DESC, a.actor_id
                                     LIMIT 10),
           actor_count = (SELECT count(*) FROM inbox.notification_actors a
                           WHERE a.user_id = n.user_id AND a.notification_id = n.id),
           updated_at = pg_catalog.now()
     WHERE n.user_id = target.user_id AND n.id = target.id
    RETURNING n.* INTO target;
    RETURN target;
END
$$;

-- The one way rows are created: type check, then one bulk insert, or one by one in input
-- order when some of them aggregate. Returns the rows in input order. `path` names the input
-- in errors; with `indexed`, objects are its elements (notifications[3].type), otherwise
-- every object is that one input (template.type).
CREATE FUNCTION inbox._create(user_ids text[], objects jsonb[], path text, indexed boolean)
RETURNS SETOF inbox.notifications
LANGUAGE plpgsql
AS $$
DECLARE
    one_path text;
BEGIN
    -- Without `indexed` every object is the same input (a fan-out's template, 10,000 times):
    -- checking the first one is checking them all.
    PERFORM inbox._check_types(CASE WHEN indexed THEN objects ELSE objects[1:1] END, path, indexed);
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
-- ---------------------------------------------------------------------------------------------
-- 30_engine: the query engine. inbox.list (one user's notifications) and inbox.list_all (across
-- users) parse their params in C++, compile them to SQL with bound parameters, and page with
-- keyset cursors signed by this installation's secret. Relations let filters reach into the
-- application's own tables.
-- ---------------------------------------------------------------------------------------------

-- The key that signs keyset cursors (HMAC-SHA256). The oldest row is used: after pg_dump and
-- restore, the restored key (older) wins over the one the new CREATE EXTENSION made, so cursors
-- handed out before the restore keep working. To rotate: delete the rows, insert a new one.
CREATE TABLE inbox.cursor_secrets (
    secret     bytea       NOT NULL DEFAULT pg_catalog.decode(pg_catalog.replace(
                               pg_catalog.gen_random_uuid()::pg_catalog.text OPERATOR(pg_catalog.||)
                               pg_catalog.gen_random_uuid()::pg_catalog.text, '-', ''), 'hex'),
    created_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    CONSTRAINT cursor_secrets_pkey PRIMARY KEY (secret),
    CONSTRAINT cursor_secrets_length CHECK (pg_catalog.octet_length(secret) >= 32)
);

COMMENT ON TABLE inbox.cursor_secrets IS
    'The key that signs keyset cursors (the oldest row). Replacing it invalidates every cursor handed out.';

INSERT INTO inbox.cursor_secrets DEFAULT VALUES;
REVOKE ALL ON inbox.cursor_secrets FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('inbox.cursor_secrets', '');

-- Relations from a notification field to an application table, for filters such as
-- {"actor": {"email": {"endsWith": "@example.com"}}} and for expand=actor,actors (the related
-- rows embedded in list pages). Configuration shared by every user, not per-user data (on a
-- Citus cluster: a reference table). Target names are kept as names, not oids, so a dump
-- restores them and a dropped table is reported by name.
CREATE TABLE inbox.relations (
    name          text NOT NULL,
    field         text NOT NULL,
    source_column name NOT NULL,
    target_schema name NOT NULL,
    target_table  name NOT NULL,
    target_column name NOT NULL,
    columns       name[],
    CONSTRAINT relations_pkey PRIMARY KEY (name),
    CONSTRAINT relations_name_format CHECK (name OPERATOR(pg_catalog.~) '^[A-Za-z_][A-Za-z0-9_]{0,62}$')
);

COMMENT ON TABLE inbox.relations IS
    'Relations filters can traverse and expand can embed: notification field -> target_schema.target_table(target_column). columns lists the target columns filters may use and expand shows (NULL: all). Managed with inbox.define_relation and inbox.drop_relation.';

SELECT pg_catalog.pg_extension_config_dump('inbox.relations', '');

CREATE FUNCTION inbox.fields()
RETURNS TABLE (name text, column_name text, kind text, sortable boolean, nullable boolean)
AS 'MODULE_PATHNAME', 'pgi_fields'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;

COMMENT ON FUNCTION inbox.fields() IS
    'The fields inbox.list filters and sorts on: API name, column, kind (string, timestamp, flag, id, json), sortable, nullable.';

CREATE FUNCTION inbox.list(user_id text, params jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgi_list'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION inbox.list(text, jsonb) IS
    'A page of user_id''s notifications: params limit, after, before, ids, filter, orderBy, workspace_id, read, include_deleted, user_id, type, total, expand (related rows under "expanded": relation names and actors). Returns {data, pageInfo}.';

CREATE FUNCTION inbox.list_all(params jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgi_list_all'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION inbox.list_all(jsonb) IS
    'Admin: inbox.list across every user (user_id or a userId filter narrows to users). Returns {data, pageInfo}.';

REVOKE ALL ON FUNCTION inbox.list_all(jsonb) FROM PUBLIC;

CREATE FUNCTION inbox.list_explain(user_id text, params jsonb DEFAULT '{}', run boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'pgi_list_explain'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION inbox.list_explain(text, jsonb, boolean) IS
    'EXPLAIN (COSTS OFF) of the page query inbox.list runs for these params (user_id NULL: as inbox.list_all); with run, execute it and show buffers (EXPLAIN ANALYZE without timings).';

CREATE FUNCTION inbox.define_relation(name text, field text, target regclass,
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

COMMENT ON FUNCTION inbox.define_relation(text, text, regclass, name, name[]) IS
    'Defines (or redefines) a relation filters can traverse and expand can embed: notification field -> target(target_column); columns limits the target columns filters may use and expand shows (NULL: all). The name actors is reserved for expand=actors.';

CREATE FUNCTION inbox.drop_relation(name text, if_exists boolean DEFAULT false)
RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM inbox.relations r WHERE r.name = drop_relation.name;
    IF NOT FOUND AND NOT if_exists THEN
        RAISE EXCEPTION 'relation % is not defined', name USING ERRCODE = 'no_data_found';
    END IF;
    RETURN FOUND;
END
$$;

COMMENT ON FUNCTION inbox.drop_relation(text, boolean) IS
    'Drops a relation defined with inbox.define_relation; returns whether one was dropped.';

REVOKE ALL ON FUNCTION inbox.define_relation(text, text, regclass, name, name[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox.drop_relation(text, boolean) FROM PUBLIC;
-- ---------------------------------------------------------------------------------------------
-- 35_groups: grouped notifications, the way Mastodon groups them. inbox.groups pages through a
-- user's groups (newest activity first) with the list's filters and keyset cursors; see
-- extension/src/groups_compiler.hpp for how a page is answered from the summaries that
-- 00_schema.sql keeps.
-- ---------------------------------------------------------------------------------------------

-- Up to 8 distinct actors from a JSON array of actor arrays, newest notification first.
CREATE FUNCTION inbox._sample_actors(actor_lists jsonb)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ARRAY(
        SELECT a.actor FROM pg_catalog.jsonb_array_elements(actor_lists) WITH ORDINALITY AS l(actors, i),
                            pg_catalog.jsonb_array_elements_text(l.actors) WITH ORDINALITY AS a(actor, k)
         GROUP BY a.actor
         ORDER BY min(l.i), min(a.k), a.actor
         LIMIT 8)
$$;

-- A group in the API shape. A NULL group_key is a notification without one: Mastodon's
-- "ungrouped-{id}" rule, with the public id.
CREATE FUNCTION inbox._group_json(group_key text, notifications_count bigint, unread_count bigint,
                                  type text, latest_at timestamptz, latest_id bigint,
                                  sample_actor_ids text[])
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'groupKey',                 coalesce(group_key, 'ungrouped-' || inbox.public_id(latest_id)),
        'notificationsCount',       notifications_count,
        'unreadCount',              unread_count,
        'type',                     type,
        'latestAt',                 inbox.iso_time(latest_at),
        'mostRecentNotificationId', inbox.public_id(latest_id),
        'sampleActorIds',           pg_catalog.to_jsonb(sample_actor_ids))
$$;

CREATE FUNCTION inbox.groups(user_id text, params jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgi_groups'
LANGUAGE C STABLE;

COMMENT ON FUNCTION inbox.groups(text, jsonb) IS
    'A page of user_id''s notification groups (by groupKey; a notification without one is its own group), newest activity first: params as inbox.list except orderBy and expand. Returns {data, pageInfo}.';
-- ---------------------------------------------------------------------------------------------
-- 40_tokens: bearer tokens for the HTTP APIs, and the one function that authenticates them.
--
-- A token is shown once, when it is created; the table keeps only its SHA-256, so a leaked
-- table (or dump) does not leak working tokens. A token is looked up by that hash alone: on a
-- Citus cluster inbox.tokens is a reference table (small, read on every request, written
-- rarely), so every node authenticates locally and then works on the caller's shard.
-- ---------------------------------------------------------------------------------------------

-- The scopes a token can carry. admin includes every other.
CREATE FUNCTION inbox.token_scopes()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ARRAY['notifications:read', 'notifications:write', 'notifications:send', 'admin']::text[]
$$;

COMMENT ON FUNCTION inbox.token_scopes() IS
    'The scopes a bearer token can carry: notifications:read, notifications:write, notifications:send and admin (which includes the others).';

CREATE TABLE inbox.tokens (
    token_hash   bytea       NOT NULL,
    user_id      text        NOT NULL,
    scopes       text[]      NOT NULL,
    workspace_id text,
    expires_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT tokens_pkey PRIMARY KEY (token_hash),
    CONSTRAINT tokens_hash_length CHECK (pg_catalog.length(token_hash) = 32),
    CONSTRAINT tokens_user_id_length CHECK (pg_catalog.length(user_id) BETWEEN 1 AND 255),
    CONSTRAINT tokens_workspace_id_length CHECK (pg_catalog.length(workspace_id) BETWEEN 1 AND 255),
    CONSTRAINT tokens_scopes_known CHECK (
        pg_catalog.cardinality(scopes) >= 1
        AND scopes OPERATOR(pg_catalog.<@) inbox.token_scopes())
);

-- Listing or revoking one user's tokens.
CREATE INDEX tokens_user_idx ON inbox.tokens (user_id);

COMMENT ON TABLE inbox.tokens IS
    'Bearer tokens of the HTTP APIs: the SHA-256 of each token (never the token), its user, scopes, optional workspace and expiry.';

SELECT pg_catalog.pg_extension_config_dump('inbox.tokens', '');

-- The one spelling of a token's hash, shared by create, revoke and authenticate.
CREATE FUNCTION inbox._token_hash(token text)
RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8'))
$$;

CREATE FUNCTION inbox.create_token(user_id text, scopes text[], workspace_id text DEFAULT NULL,
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
    INSERT INTO inbox.tokens (token_hash, user_id, scopes, workspace_id, expires_at)
    VALUES (inbox._token_hash(token), create_token.user_id,
            ARRAY(SELECT DISTINCT s FROM pg_catalog.unnest(scopes) AS s ORDER BY s),
            create_token.workspace_id, create_token.expires_at);
    RETURN token;
END
$$;

COMMENT ON FUNCTION inbox.create_token(text, text[], text, timestamptz) IS
    'Creates a bearer token for user_id with the given scopes (notifications:read, notifications:write, notifications:send, admin), optionally bound to one workspace and expiring; returns it once (only its SHA-256 is kept).';

CREATE FUNCTION inbox.revoke_token(token text)
RETURNS boolean
LANGUAGE sql STRICT
AS $$
    WITH gone AS (
        DELETE FROM inbox.tokens t WHERE t.token_hash = inbox._token_hash(revoke_token.token)
        RETURNING 1)
    SELECT EXISTS (SELECT FROM gone)
$$;

COMMENT ON FUNCTION inbox.revoke_token(text) IS
    'Revokes a bearer token at once; returns whether it existed.';

CREATE FUNCTION inbox.revoke_tokens(user_id text)
RETURNS bigint
LANGUAGE sql STRICT
AS $$
    WITH gone AS (
        DELETE FROM inbox.tokens t WHERE t.user_id = revoke_tokens.user_id RETURNING 1)
    SELECT count(*) FROM gone
$$;

COMMENT ON FUNCTION inbox.revoke_tokens(text) IS
    'Revokes every bearer token of user_id; returns how many there were.';

-- Who is calling: what authenticate() returns to the API functions.
CREATE TYPE inbox.caller AS (
    user_id      text,
    scopes       text[],
    workspace_id text,
    admin        boolean
);

COMMENT ON TYPE inbox.caller IS
    'The authenticated caller of an HTTP API: the token''s user, its scopes, the workspace it is bound to (or null) and whether it is an admin.';

CREATE FUNCTION inbox.authenticate(token text, scope text DEFAULT NULL)
RETURNS inbox.caller
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    found_token inbox.tokens;
BEGIN
    IF token IS NOT NULL THEN
        SELECT * INTO found_token FROM inbox.tokens t WHERE t.token_hash = inbox._token_hash(token);
    END IF;
    -- One message for a missing, unknown, revoked or expired token: a caller probing tokens
    -- learns nothing from the difference.
    IF found_token.token_hash IS NULL OR found_token.expires_at <= pg_catalog.now() THEN
        RAISE EXCEPTION 'invalid or expired token' USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    IF scope IS NOT NULL AND NOT ('admin' = ANY (found_token.scopes) OR scope = ANY (found_token.scopes)) THEN
        RAISE EXCEPTION 'this token lacks the % scope', scope
              USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN ROW(found_token.user_id, found_token.scopes, found_token.workspace_id,
               'admin' = ANY (found_token.scopes))::inbox.caller;
END
$$;

COMMENT ON FUNCTION inbox.authenticate(text, text) IS
    'The caller behind a bearer token; raises 28000 for a missing, unknown, revoked or expired token and 42501 when it lacks scope (admin has every scope).';
-- ---------------------------------------------------------------------------------------------
-- 50_rest: one SQL function per REST route of the HTTP server. Each authenticates the bearer
-- token, checks the route's query parameters and calls the SQL API, so that a request is one
-- database round trip, and returns the JSON the client receives. They decide nothing the SQL
-- API already decides.
--
-- `query` is the request's query string as a JSON object of strings (the server builds it);
-- a parameter the route does not take is an error, never ignored. The rows acted on are the
-- caller's own; an admin token names another user with the `user_id` parameter. A token bound
-- to a workspace sees, changes and creates only notifications of that workspace.
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
    target text := inbox._rest_user(caller, params);
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
BEGIN
    RETURN pg_catalog.jsonb_build_object('count',
        inbox.unread_count(inbox._rest_user(caller, params), inbox._rest_workspace(caller, params)));
END
$$;

COMMENT ON FUNCTION inbox.rest_unread_count(text, jsonb) IS
    'GET /api/notifications/unread-count: {"count": n}, optionally within workspace_id.';

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
    target text := inbox._rest_user(caller, params);
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
    target text := inbox._rest_user(caller, params);
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

-- ---------------------------------------------------------------------------------------------
-- Creating, with Idempotency-Key
-- ---------------------------------------------------------------------------------------------

-- The first response to each (caller, Idempotency-Key), with a hash of the request body it
-- answered. Keyed by the caller's user_id first, like every table.
CREATE TABLE inbox.idempotency_keys (
    user_id      text        NOT NULL,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key)
);

COMMENT ON TABLE inbox.idempotency_keys IS
    'The first response of each create made with an Idempotency-Key, per caller; a retry gets it again. Old keys go with inbox.purge_idempotency_keys().';

CREATE FUNCTION inbox.purge_idempotency_keys(older_than interval DEFAULT '1 day')
RETURNS bigint
LANGUAGE sql STRICT
AS $$
    WITH gone AS (
        DELETE FROM inbox.idempotency_keys k
         WHERE k.created_at < pg_catalog.now() - older_than
        RETURNING 1)
    SELECT count(*) FROM gone
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

-- The create itself: one object, an array of objects, or a fan-out template with userIds.
CREATE FUNCTION inbox._rest_create(caller inbox.caller, body jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    recipients text[];
BEGIN
    IF pg_catalog.jsonb_typeof(body) = 'array' THEN
        RETURN pg_catalog.jsonb_build_object('data', inbox.create_many(
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
        RETURN pg_catalog.jsonb_build_object('data', inbox.fan_out(recipients,
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
    INSERT INTO inbox.idempotency_keys (user_id, key, request_hash)
    VALUES (caller.user_id, idempotency_key, body_hash)
    ON CONFLICT (user_id, key) DO NOTHING;
    IF NOT FOUND THEN
        SELECT * INTO earlier FROM inbox.idempotency_keys k
         WHERE k.user_id = caller.user_id AND k.key = idempotency_key;
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
    'POST /api/notifications: one object (the notification), an array ({"data": [...]}) or a fan-out with userIds ({"data": [...]}). With an Idempotency-Key a retry returns the first response; the same key with another body raises 23505.';
-- ---------------------------------------------------------------------------------------------
-- 60_directus: the Directus-compatible notifications API, over the same rows as the rest.
--
-- A Directus notification is a view of a pg_inbox row: id is the internal bigint, timestamp
-- created_at, status "archived" when archived_at is set (else "inbox"), recipient user_id,
-- sender actor_id, subject title, message body, collection and item themselves.
--
-- Each public function is one whole HTTP request (the server's directus_routes.cpp calls one per
-- route): it authenticates the bearer token (inbox.authenticate), checks what the caller may
-- do, acts through the SQL API of 20_api.sql and returns the response body as Directus writes
-- it. Queries (filter, sort, fields, aggregate, ...) are translated in C++ into the query engine
-- (directus_query.hpp); reads run there too (inbox._directus_read).
--
-- Permissions are those Directus gives: a plain user reads their own notifications and changes
-- their status; a token with notifications:send creates them for anyone; an admin token does
-- everything, across users. A token bound to a workspace sees only that workspace. A key the
-- caller may not see is "not found" (P0002), which the server answers 403 FORBIDDEN, as
-- Directus does, whether or not the notification exists.
--
-- Deleting is pg_inbox's soft delete: the notification leaves every view (Directus's and the
-- /api/ default views) and can still be restored or purged through the SQL API or /api/.
-- ---------------------------------------------------------------------------------------------

-- An admin names a notification by its internal id alone, across users.
CREATE INDEX notifications_id_idx ON inbox.notifications (id);

-- Directus's timestamps: UTC, milliseconds, Z ("2026-11-22T01:58:23.073Z").
CREATE FUNCTION inbox.directus_time(t timestamptz)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
    SELECT pg_catalog.to_char(pg_catalog.timezone('UTC', t), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

COMMENT ON FUNCTION inbox.directus_time(timestamptz) IS
    'A timestamp as the Directus API writes it: UTC ISO-8601 with milliseconds and Z.';

CREATE FUNCTION inbox.directus_status(archived_at timestamptz)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN archived_at IS NULL THEN 'inbox' ELSE 'archived' END
$$;

COMMENT ON FUNCTION inbox.directus_status(timestamptz) IS
    'The Directus status of a notification: archived when archived_at is set, else inbox.';

-- The Directus object, compact and in Directus's field order (json keeps both; jsonb would not).
-- directus_fields.cpp renders the same fields one by one for `fields=` projections.
CREATE FUNCTION inbox.to_directus(n inbox.notifications)
RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT ('{"id":' OPERATOR(pg_catalog.||) n.id::text
        OPERATOR(pg_catalog.||) ',"timestamp":' OPERATOR(pg_catalog.||) pg_catalog.to_json(inbox.directus_time(n.created_at))::text
        OPERATOR(pg_catalog.||) ',"status":' OPERATOR(pg_catalog.||) pg_catalog.to_json(inbox.directus_status(n.archived_at))::text
        OPERATOR(pg_catalog.||) ',"recipient":' OPERATOR(pg_catalog.||) pg_catalog.to_json(n.user_id)::text
        OPERATOR(pg_catalog.||) ',"sender":' OPERATOR(pg_catalog.||) COALESCE(pg_catalog.to_json(n.actor_id)::text, 'null')
        OPERATOR(pg_catalog.||) ',"subject":' OPERATOR(pg_catalog.||) COALESCE(pg_catalog.to_json(n.title)::text, 'null')
        OPERATOR(pg_catalog.||) ',"message":' OPERATOR(pg_catalog.||) COALESCE(pg_catalog.to_json(n.body)::text, 'null')
        OPERATOR(pg_catalog.||) ',"collection":' OPERATOR(pg_catalog.||) COALESCE(pg_catalog.to_json(n.collection)::text, 'null')
        OPERATOR(pg_catalog.||) ',"item":' OPERATOR(pg_catalog.||) COALESCE(pg_catalog.to_json(n.item)::text, 'null')
        OPERATOR(pg_catalog.||) '}')::json
$$;

COMMENT ON FUNCTION inbox.to_directus(inbox.notifications) IS
    'A notification row as a Directus notification object (id, timestamp, status, recipient, sender, subject, message, collection, item).';

-- ---------------------------------------------------------------------------------------------
-- Reads, in C++: the Directus query translated into the engine, run in one statement per part.
-- user_id NULL reads every user's rows (admins); keys narrows to those ids and, without a sort,
-- keeps their order; single answers {"data": object} or raises P0002.
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox._directus_read(user_id text, workspace_id text, current_user_id text,
                                     query jsonb, keys bigint[] DEFAULT NULL,
                                     single boolean DEFAULT false)
RETURNS json
AS 'MODULE_PATHNAME', 'pgi_directus_read'
LANGUAGE C STABLE;

CREATE FUNCTION inbox._directus_keys(user_id text, workspace_id text, current_user_id text,
                                     query jsonb)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'pgi_directus_keys'
LANGUAGE C STABLE;

CREATE FUNCTION inbox._directus_check_users(field text, users text[])
RETURNS void
AS 'MODULE_PATHNAME', 'pgi_directus_check_users'
LANGUAGE C STABLE;

-- Both read across users when user_id is null: only the SQL functions below call them.
REVOKE ALL ON FUNCTION inbox._directus_read(text, text, text, jsonb, bigint[], boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._directus_keys(text, text, text, jsonb) FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Callers and keys
-- ---------------------------------------------------------------------------------------------

-- The caller behind a token. No token at all is Directus's public role, which may not touch
-- notifications: 403, where a bad token is 401.
CREATE FUNCTION inbox._directus_caller(token text, scope text)
RETURNS inbox.caller
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF token IS NULL THEN
        RAISE EXCEPTION 'no access token: the public role may not use notifications'
              USING ERRCODE = 'insufficient_privilege',
                    HINT = 'Send Authorization: Bearer <token>, or ?access_token=<token>.';
    END IF;
    RETURN inbox.authenticate(token, scope);
END
$$;

-- Whose rows a caller reads: an admin everyone's (null), anyone else their own.
CREATE FUNCTION inbox._directus_scope(caller inbox.caller)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN caller.admin THEN NULL ELSE caller.user_id END
$$;

-- A Directus primary key as it arrives (a path segment, a JSON number or string). Anything that
-- is not an id is "not found", as Directus answers 403 for a key it cannot read.
CREATE FUNCTION inbox._directus_key(key text)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF key IS NULL OR key OPERATOR(pg_catalog.!~) '^[0-9]{1,18}$' THEN
        RAISE EXCEPTION 'notification % not found', COALESCE(key, 'null')
              USING ERRCODE = 'no_data_found';
    END IF;
    RETURN key::bigint;
END
$$;

-- The keys of a request body: a JSON array of ids.
CREATE FUNCTION inbox._directus_key_list(keys jsonb, path text)
RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    out bigint[] := '{}';
    k jsonb;
    i int := 0;
BEGIN
    IF pg_catalog.jsonb_typeof(keys) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION '%: expected an array of notification keys, got %', path,
              COALESCE(pg_catalog.jsonb_typeof(keys), 'nothing')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR k IN SELECT e FROM pg_catalog.jsonb_array_elements(keys) AS e LOOP
        IF pg_catalog.jsonb_typeof(k) NOT IN ('number', 'string') THEN
            RAISE EXCEPTION '%[%]: expected a notification key, got %', path, i, pg_catalog.jsonb_typeof(k)
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
        out := out OPERATOR(pg_catalog.||) inbox._directus_key(k OPERATOR(pg_catalog.#>>) '{}');
        i := i + 1;
    END LOOP;
    RETURN out;
END
$$;

-- The rows behind keys that the caller may change, grouped by user in user order (the order
-- bulk changes lock in), as public ids for the SQL API. The first key that is missing, deleted,
-- another user's (unless admin) or outside the token's workspace raises "not found".
CREATE FUNCTION inbox._directus_owned(caller inbox.caller, keys bigint[])
RETURNS TABLE (user_id text, ids text[])
LANGUAGE plpgsql STABLE
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

-- ---------------------------------------------------------------------------------------------
-- Payloads: Directus items -> the SQL API's objects. Errors name the item as `payload...`.
-- ---------------------------------------------------------------------------------------------

-- A text field of a payload: a string, or null. (item also takes a number: Directus keys of
-- other collections are often integers.)
CREATE FUNCTION inbox._directus_text(value jsonb, path text, numbers boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF pg_catalog.jsonb_typeof(value) IN ('string', 'null')
       OR (numbers AND pg_catalog.jsonb_typeof(value) = 'number') THEN
        RETURN pg_catalog.to_jsonb(value OPERATOR(pg_catalog.#>>) '{}');
    END IF;
    RAISE EXCEPTION '%: expected a string or null, got %', path, pg_catalog.jsonb_typeof(value)
          USING ERRCODE = 'invalid_parameter_value';
END
$$;

-- The object a payload part must be; `what` says which, for the message.
CREATE FUNCTION inbox._directus_object(value jsonb, path text, what text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF pg_catalog.jsonb_typeof(value) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION '%: expected %, got %', path, what, COALESCE(pg_catalog.jsonb_typeof(value), 'nothing')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

-- One item to create -> an object for inbox.create_many. recipient (required) and sender are
-- user ids, or the related object {"id": ...} as Directus also accepts them.
CREATE FUNCTION inbox._directus_new(caller inbox.caller, item jsonb, path text)
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
        WHEN 'id', 'timestamp' THEN
            RAISE EXCEPTION '%: set by pg_inbox, cannot be given', at
                  USING ERRCODE = 'invalid_parameter_value';
        ELSE
            RAISE EXCEPTION '%: unknown field', at
                  USING ERRCODE = 'invalid_parameter_value',
                        HINT = 'Fields that can be created: recipient, sender, subject, message, collection, item, status.';
        END CASE;
    END LOOP;
    IF NOT native ? 'userId' THEN
        RAISE EXCEPTION '%.recipient: required', path USING ERRCODE = 'not_null_violation';
    END IF;
    RETURN inbox._rest_in_workspace(caller, native, path OPERATOR(pg_catalog.||) '.');
END
$$;

-- Applies one Directus change to the rows behind keys, all or nothing. status archives or
-- moves back to the inbox; subject, message, collection and item (admins only, as Directus lets
-- a user change only the status of their notifications) go through inbox.update.
CREATE FUNCTION inbox._directus_change(caller inbox.caller, keys bigint[], data jsonb, path text)
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
                CASE key WHEN 'subject' THEN 'title' WHEN 'message' THEN 'body' ELSE key END,
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

-- The keys a PATCH or DELETE body names: an array of keys, {"keys": [...]}, or {"query": {...}}
-- (the notifications that query reads, limit included). `extra` is the one other member the
-- body may have (data for PATCH).
CREATE FUNCTION inbox._directus_targets(caller inbox.caller, body jsonb, extra text)
RETURNS bigint[]
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    unknown text;
BEGIN
    IF pg_catalog.jsonb_typeof(body) = 'array' AND extra IS NULL THEN
        RETURN inbox._directus_key_list(body, 'payload');
    END IF;
    IF pg_catalog.jsonb_typeof(body) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'payload: expected %', CASE WHEN extra IS NULL
              THEN 'an array of keys, {"keys": [...]} or {"query": {...}}'
              ELSE '{"keys": [...], "data": {...}}, {"query": {...}, "data": {...}} or an array of items with their id' END
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT k INTO unknown FROM pg_catalog.jsonb_object_keys(body) AS k
     WHERE k NOT IN ('keys', 'query') AND k IS DISTINCT FROM extra ORDER BY k LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'payload.%: unknown member', unknown USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF body ? 'keys' AND body ? 'query' THEN
        RAISE EXCEPTION 'payload: give keys or query, not both' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF body ? 'keys' THEN
        RETURN inbox._directus_key_list(body->'keys', 'payload.keys');
    END IF;
    IF NOT body ? 'query' THEN
        RAISE EXCEPTION 'payload: expected keys or query' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.jsonb_typeof(body->'query') <> 'object' THEN
        RAISE EXCEPTION 'payload.query: expected an object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN inbox._directus_keys(inbox._directus_scope(caller), caller.workspace_id, caller.user_id,
                                body->'query');
END
$$;

-- ---------------------------------------------------------------------------------------------
-- The routes
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox.directus_read(token text, query jsonb)
RETURNS json
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._directus_caller(token, 'notifications:read');
BEGIN
    RETURN inbox._directus_read(inbox._directus_scope(caller), caller.workspace_id,
                                caller.user_id, query);
END
$$;

COMMENT ON FUNCTION inbox.directus_read(text, jsonb) IS
    'GET /notifications: the caller''s notifications (an admin''s: everyone''s) for a Directus query (filter, search, sort, limit, offset, page, fields, aggregate, groupBy, meta); returns {"data": [...]} (and "meta").';

CREATE FUNCTION inbox.directus_search(token text, body jsonb, query jsonb)
RETURNS json
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF pg_catalog.jsonb_typeof(body) IS DISTINCT FROM 'object'
       OR pg_catalog.jsonb_typeof(body->'query') IS DISTINCT FROM 'object'
       OR (SELECT pg_catalog.count(*) FROM pg_catalog.jsonb_object_keys(body)) <> 1 THEN
        RAISE EXCEPTION 'payload: expected {"query": {...}}' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN inbox.directus_read(token, COALESCE(query, '{}') OPERATOR(pg_catalog.||) (body->'query'));
END
$$;

COMMENT ON FUNCTION inbox.directus_search(text, jsonb, jsonb) IS
    'SEARCH /notifications: directus_read with the query in the body ({"query": {...}}), over any query-string parameters.';

CREATE FUNCTION inbox.directus_read_one(token text, id text, query jsonb)
RETURNS json
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._directus_caller(token, 'notifications:read');
BEGIN
    RETURN inbox._directus_read(inbox._directus_scope(caller), caller.workspace_id,
                                caller.user_id, query, ARRAY[inbox._directus_key(id)], true);
END
$$;

COMMENT ON FUNCTION inbox.directus_read_one(text, text, jsonb) IS
    'GET /notifications/:id: one notification ({"data": {...}}, fields apply); P0002 when the caller may not see it.';

CREATE FUNCTION inbox.directus_create(token text, body jsonb, query jsonb)
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
    RETURN inbox._directus_read(NULL, NULL, caller.user_id, query,
                                ARRAY(SELECT inbox.internal_id(c.row->>'id')
                                        FROM pg_catalog.jsonb_array_elements(created) WITH ORDINALITY AS c(row, o)
                                       ORDER BY c.o),
                                NOT many);
END
$$;

COMMENT ON FUNCTION inbox.directus_create(text, jsonb, jsonb) IS
    'POST /notifications: creates one notification (an object) or several (an array), for any recipient (needs notifications:send or admin); returns them as Directus does.';

CREATE FUNCTION inbox.directus_update_one(token text, id text, body jsonb, query jsonb)
RETURNS json
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._directus_caller(token, 'notifications:write');
    key bigint := inbox._directus_key(id);
BEGIN
    PERFORM inbox._directus_change(caller, ARRAY[key], body, 'payload');
    RETURN inbox._directus_read(inbox._directus_scope(caller), caller.workspace_id,
                                caller.user_id, query, ARRAY[key], true);
END
$$;

COMMENT ON FUNCTION inbox.directus_update_one(text, text, jsonb, jsonb) IS
    'PATCH /notifications/:id: changes status (anyone, their own) or subject, message, collection, item (admin); returns the notification.';

CREATE FUNCTION inbox.directus_update_many(token text, body jsonb, query jsonb)
RETURNS json
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._directus_caller(token, 'notifications:write');
    keys bigint[] := '{}';
    item jsonb;
    o bigint;
    key bigint;
BEGIN
    IF pg_catalog.jsonb_typeof(body) = 'array' THEN
        -- A batch: each item carries its id and its own change.
        FOR item, o IN SELECT e.item, e.o FROM pg_catalog.jsonb_array_elements(body) WITH ORDINALITY AS e(item, o) LOOP
            IF pg_catalog.jsonb_typeof(item) <> 'object' OR NOT item ? 'id' THEN
                RAISE EXCEPTION 'payload[%]: expected a notification object with its id', o - 1
                      USING ERRCODE = 'invalid_parameter_value';
            END IF;
            key := inbox._directus_key(item->>'id');
            PERFORM inbox._directus_change(caller, ARRAY[key], item - 'id',
                                           'payload[' OPERATOR(pg_catalog.||) (o - 1) OPERATOR(pg_catalog.||) ']');
            keys := keys OPERATOR(pg_catalog.||) key;
        END LOOP;
    ELSE
        keys := inbox._directus_targets(caller, body, 'data');
        IF NOT body ? 'data' THEN
            RAISE EXCEPTION 'payload.data: required' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        PERFORM inbox._directus_change(caller, keys, body->'data', 'payload.data');
    END IF;
    RETURN inbox._directus_read(inbox._directus_scope(caller), caller.workspace_id,
                                caller.user_id, query, keys);
END
$$;

COMMENT ON FUNCTION inbox.directus_update_many(text, jsonb, jsonb) IS
    'PATCH /notifications: {"keys": [...], "data": {...}}, {"query": {...}, "data": {...}} or a batch [{"id": ..., ...}], all or nothing; returns the notifications.';

CREATE FUNCTION inbox._directus_delete(caller inbox.caller, keys bigint[])
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    owner record;
BEGIN
    FOR owner IN SELECT o.user_id, o.ids FROM inbox._directus_owned(caller, keys) AS o LOOP
        PERFORM inbox.soft_delete(owner.user_id, owner.ids);
    END LOOP;
END
$$;

CREATE FUNCTION inbox.directus_delete_one(token text, id text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._directus_caller(token, 'admin');
BEGIN
    PERFORM inbox._directus_delete(caller, ARRAY[inbox._directus_key(id)]);
END
$$;

COMMENT ON FUNCTION inbox.directus_delete_one(text, text) IS
    'DELETE /notifications/:id (admin): soft-deletes the notification; it can be restored or purged through the SQL API or /api/.';

CREATE FUNCTION inbox.directus_delete_many(token text, body jsonb)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._directus_caller(token, 'admin');
BEGIN
    PERFORM inbox._directus_delete(caller, inbox._directus_targets(caller, body, NULL));
END
$$;

COMMENT ON FUNCTION inbox.directus_delete_many(text, jsonb) IS
    'DELETE /notifications (admin): soft-deletes the notifications of an array of keys, {"keys": [...]} or {"query": {...}}, all or nothing.';
-- ---------------------------------------------------------------------------------------------
-- 70_graphql: GraphQL inside PostgreSQL, Directus's `/graphql/system` for notifications.
--
-- The request is parsed, validated and executed by the extension's C++ (graphql_*.cpp): the
-- October 2021 specification for what the schema needs, introspection included. The schema is
-- the notifications part of Directus 11's system schema (Query.notifications,
-- notifications_by_id, notifications_aggregated; create/update/delete mutations). Every
-- notification field is answered by the Directus API of 60_directus.sql with the caller's
-- token, so GraphQL has exactly the permissions, filters and shapes of the Directus REST
-- routes.
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox.graphql(query text, variables jsonb DEFAULT NULL,
                              operation_name text DEFAULT NULL, token text DEFAULT NULL,
                              method text DEFAULT 'POST')
RETURNS json
AS 'MODULE_PATHNAME', 'pgi_graphql'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION inbox.graphql(text, jsonb, text, text, text) IS
    'POST (or GET) /graphql/system: runs a GraphQL request ({query, variables, operationName}) for the caller behind token (a bearer token; NULL: the public role, which sees the schema but no notifications) and returns the GraphQL response. A response without "data" is a request error (HTTP 400; 405 when its code is METHOD_NOT_ALLOWED: a mutation sent with method GET); a token that does not authenticate raises 28000 (HTTP 401).';
