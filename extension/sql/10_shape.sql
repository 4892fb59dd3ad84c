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

-- Whether a notification is read (issue 19): its own read_at, or, active and last changed
-- before the user's last read mark (read_before), read by that read-all. The one predicate of
-- every shape (the API's, Diaspora's) and of the social dialects' read-state checks; the query
-- engine writes the same in its own terms (query/marks.hpp), so the partial indexes apply.
CREATE FUNCTION inbox._is_read(read_at timestamptz, deleted_at timestamptz, updated_at timestamptz,
                               read_before timestamptz)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT read_at IS NOT NULL OR (deleted_at IS NULL AND coalesce(updated_at < read_before, false))
$$;

-- The API shape of a notification: the one place that decides field names. read_marks and
-- seen_before are the marks in force for the row (issue 19; inbox.marks): the last read mark
-- reads an active row last changed before it (at the first mark after that change), a seen
-- mark sees a row created at or before it. SQL without subqueries, so the planner inlines it
-- into a page query, which passes the marks (inbox._to_json).
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

-- The user's last read mark, and every read mark not settled yet (issue 19). PL/pgSQL, as every
-- function with parameters that touches a table (80_citus.sql).
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

-- When a row last changed at t was read by the read marks: the first mark after t.
CREATE FUNCTION inbox._mark_after(marks timestamptz[], t timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT min(x) FROM pg_catalog.unnest(marks) AS x WHERE x > t
$$;

-- Issue 19. A user's marks as the shapes take them: every read mark not settled yet (in order)
-- and the seen marks by workspace key ('' the whole inbox). Read once per call and passed to
-- the statements over many rows (inbox._to_json), never looked up for each row: on Citus such a
-- statement runs on the user's shard, where it may not read another distributed table.
CREATE FUNCTION inbox._user_marks(user_id text, OUT read_marks timestamptz[], OUT seen jsonb)
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

-- (inbox._seen_before, the seen mark in force for a row: 00_schema.sql, with the counters.)

-- When a row was seen: its own seen_at, else the seen mark in force if it was created by then.
CREATE FUNCTION inbox._seen_at(seen_at timestamptz, created_at timestamptz, seen_before timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(seen_at, CASE WHEN created_at <= seen_before THEN seen_before END)
$$;

-- The API shape with the user's marks passed (inbox._user_marks): what every statement over
-- many rows uses, the query engine's pages included.
CREATE FUNCTION inbox._to_json(n inbox.notifications, read_marks timestamptz[], seen jsonb)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT inbox._shape(n, read_marks, inbox._seen_before(seen, n.workspace_id))
$$;

-- One row in the API shape, its user's marks looked up (a row in hand, not a statement's rows).
-- PL/pgSQL, so that what it runs is planned once a session: as a SQL function it could not be
-- inlined (a FROM clause), and PostgreSQL planned its body again in every transaction that
-- called it, 0.39 ms of a 2.2 ms Directus create (track_functions, 3,000 creates).
CREATE FUNCTION inbox.to_json(n inbox.notifications)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    marks record := inbox._user_marks(n.user_id);
BEGIN
    RETURN inbox._to_json(n, marks.read_marks, marks.seen);
END
$$;

COMMENT ON FUNCTION inbox.to_json(inbox.notifications) IS
    'A notification row in the API shape (camelCase, public id, UTC ISO-8601 times), with the user''s read and seen marks applied.';

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
    ('expiresAt',   'expires_at',   'string', true,  false),
    ('aggregate',   NULL,           'boolean', true, false);

-- The notification field registry of the C++ code (src/core/notification_fields.hpp), one row
-- per key of inbox.to_json in its order. The native, Directus and GraphQL field lists, the
-- OpenAPI document and the key order over HTTP are generated from it; sql/field_registry.sql
-- holds it against the table's columns, inbox.to_json, inbox.writable_fields and the CHECK
-- constraints above.
CREATE FUNCTION inbox.field_registry()
RETURNS TABLE (ordinal integer, name text, column_name text, sql_type text, not_null boolean,
               json_type text, nullable boolean, kind text, sortable boolean,
               on_create boolean, on_update boolean, min_length integer, max_length integer,
               pattern text, directus_name text, directus_position integer, searchable boolean)
AS 'MODULE_PATHNAME', 'pgi_field_registry'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 20;

COMMENT ON FUNCTION inbox.field_registry() IS
    'The notification fields as pg_inbox''s C++ code knows them, in the order of the API shape: column, type, JSON type, filter kind (null: not filterable), sortable, writable on create/update and bounds, Directus name, place and search.';

-- The text of a REST response as the HTTP server sends it: jsonb's text form, except that each
-- notification in it (the response, or an element of its top-level "data" array, with exactly
-- the keys of inbox.to_json) lists its keys in the order of the API shape rather than jsonb's.
CREATE FUNCTION inbox.http_json(value jsonb)
RETURNS text
AS 'MODULE_PATHNAME', 'pgi_http_json'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION inbox.http_json(jsonb) IS
    'A REST response as HTTP clients receive it: jsonb''s text with every notification''s keys in the documented order (id, userId, workspaceId, type, title, ...).';

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
