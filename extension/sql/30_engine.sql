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

-- Each backend caches the relations it loaded (extension/src/pg/relations_cache.hpp) until
-- PostgreSQL tells it they may be stale: any statement that changes this table sends a relcache
-- invalidation of it (other backends take it at commit, this one at its next command; a change
-- rolled back sends none). ENABLE ALWAYS: a replica's apply worker and a restore with
-- session_replication_role = replica change the rows too.
CREATE FUNCTION inbox._relations_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pgi_relations_changed'
LANGUAGE C;

COMMENT ON FUNCTION inbox._relations_changed() IS
    'Trigger of inbox.relations: tells every backend to drop its cached relations (a relcache invalidation of the table).';

CREATE TRIGGER relations_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON inbox.relations
    FOR EACH STATEMENT EXECUTE FUNCTION inbox._relations_changed();
ALTER TABLE inbox.relations ENABLE ALWAYS TRIGGER relations_changed;

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

-- It reads every user's rows: on a Citus cluster, every shard (see 80_citus.sql).
CREATE FUNCTION inbox.list_all(params jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgi_list_all'
LANGUAGE C STABLE PARALLEL SAFE
SET citus.multi_task_query_log_level = off;

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
