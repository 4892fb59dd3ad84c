-- pg_inbox 0.1.0 -> 0.2.0 (ALTER EXTENSION pg_inbox UPDATE TO '0.2.0').

\echo Use "ALTER EXTENSION pg_inbox UPDATE TO '0.2.0'" to load this file. \quit

-- The notification field registry as a table (10_shape.sql).
CREATE FUNCTION inbox.field_registry()
RETURNS TABLE (ordinal integer, name text, column_name text, sql_type text, not_null boolean,
               json_type text, nullable boolean, kind text, sortable boolean,
               on_create boolean, on_update boolean, min_length integer, max_length integer,
               pattern text, directus_name text, directus_position integer, searchable boolean)
AS 'MODULE_PATHNAME', 'pgi_field_registry'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 20;

COMMENT ON FUNCTION inbox.field_registry() IS
    'The notification fields as pg_inbox''s C++ code knows them, in the order of the API shape: column, type, JSON type, filter kind (null: not filterable), sortable, writable on create/update and bounds, Directus name, place and search.';

-- A REST response's text with each notification's keys in the documented order (10_shape.sql).
CREATE FUNCTION inbox.http_json(value jsonb)
RETURNS text
AS 'MODULE_PATHNAME', 'pgi_http_json'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION inbox.http_json(jsonb) IS
    'A REST response as HTTP clients receive it: jsonb''s text with every notification''s keys in the documented order (id, userId, workspaceId, type, title, ...).';
