-- The notification field registry of the C++ code (inbox.field_registry(), from
-- src/core/notification_fields.hpp) against what SQL spells out: the columns of
-- inbox.notifications, the keys and JSON types of inbox.to_json, inbox.writable_fields and the
-- bounds of the CHECK constraints. Every query below lists disagreements: each must be empty.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;

-- The registry, in the order of the API shape.
SELECT ordinal, name, column_name, kind, sortable, on_create, on_update, directus_name, searchable
  FROM inbox.field_registry() ORDER BY ordinal;

-- Every column is shown by some field, with the registry's type and NOT NULL; each column has
-- one type in the registry.
WITH registry AS (
    SELECT DISTINCT column_name, sql_type, not_null FROM inbox.field_registry()
), catalog AS (
    SELECT a.attname::text AS column_name, format_type(a.atttypid, a.atttypmod) AS sql_type,
           a.attnotnull AS not_null
      FROM pg_attribute a
     WHERE a.attrelid = 'inbox.notifications'::regclass AND a.attnum > 0 AND NOT a.attisdropped
)
SELECT r.column_name AS registry, r.sql_type, r.not_null, c.column_name AS catalog, c.sql_type, c.not_null
  FROM registry r FULL JOIN catalog c ON c.column_name = r.column_name
 WHERE r.column_name IS NULL OR c.column_name IS NULL
    OR r.sql_type <> c.sql_type OR r.not_null <> c.not_null;

-- The writable fields: the same names, columns, JSON types and operations. Options that are
-- not stored (no column) are inbox.writable_fields' own.
SELECT w.field, w.column_, w.json_type, w.on_create, w.on_update,
       r.name, r.column_name, r.json_type, r.on_create, r.on_update
  FROM (SELECT * FROM inbox.writable_fields WHERE column_ IS NOT NULL) w
  FULL JOIN (SELECT * FROM inbox.field_registry() WHERE on_create OR on_update) r ON r.name = w.field
 WHERE w.field IS NULL OR r.name IS NULL OR w.column_::text <> r.column_name
    OR w.json_type <> r.json_type OR w.on_create <> r.on_create OR w.on_update <> r.on_update;
SELECT field FROM inbox.writable_fields WHERE column_ IS NULL;

-- inbox.to_json has exactly the registry's keys, each of the registry's JSON type: on a
-- notification with every field set, and on one with none set (null only where it may be).
SELECT inbox.create('u1', '{"workspaceId": "w1", "title": "t", "body": "b", "data": {"k": 1},
                            "actorId": "a", "collection": "c", "item": "i", "groupKey": "g",
                            "expiresAt": "2999-01-01T00:00:00Z"}')->>'id' AS full_id \gset
SELECT inbox.mark_read('u1', :'full_id') IS NOT NULL AS read,
       inbox.archive('u1', :'full_id') IS NOT NULL AS archived,
       inbox.mark_seen('u1') IS NOT NULL AS seen,
       inbox.soft_delete('u1', :'full_id') IS NOT NULL AS deleted;
SELECT inbox.create('u2', '{}')->>'id' AS bare_id \gset
CREATE TEMP TABLE shapes AS
SELECT 'full' AS row_, inbox.to_json(n) AS j FROM inbox.notifications n WHERE n.id = inbox.internal_id(:'full_id')
UNION ALL
SELECT 'bare', inbox.to_json(n) FROM inbox.notifications n WHERE n.id = inbox.internal_id(:'bare_id');

SELECT s.row_, k.key AS missing_from_registry
  FROM shapes s, jsonb_object_keys(s.j) AS k(key)
 WHERE NOT EXISTS (SELECT FROM inbox.field_registry() r WHERE r.name = k.key);
SELECT s.row_, r.name, r.json_type, r.nullable, jsonb_typeof(s.j->r.name) AS got
  FROM shapes s, inbox.field_registry() r
 WHERE jsonb_typeof(s.j->r.name) IS DISTINCT FROM
       CASE r.json_type WHEN 'integer' THEN 'number' ELSE r.json_type END
   AND NOT (s.row_ = 'bare' AND r.nullable AND jsonb_typeof(s.j->r.name) = 'null');

-- A field that may be null in the API shape is a nullable column shown as it is.
SELECT name FROM inbox.field_registry() WHERE nullable AND not_null;

-- The bounds a create is documented with are the CHECK constraints' bounds.
WITH expected AS (
    SELECT r.name, 'notifications_' || r.column_name || '_length' AS conname,
           CASE WHEN r.min_length > 0
                THEN format('CHECK (((length(%1$s) >= %2$s) AND (length(%1$s) <= %3$s)))',
                            r.column_name, r.min_length, r.max_length)
                ELSE format('CHECK ((length(%s) <= %s))', r.column_name, r.max_length) END AS def
      FROM inbox.field_registry() r WHERE r.max_length IS NOT NULL
    UNION ALL
    SELECT r.name, 'notifications_' || r.column_name || '_format',
           format('CHECK ((%s ~ %L::text))', r.column_name, r.pattern)
      FROM inbox.field_registry() r WHERE r.pattern IS NOT NULL
), catalog AS (
    SELECT c.conname::text AS conname, pg_get_constraintdef(c.oid) AS def
      FROM pg_constraint c
     WHERE c.conrelid = 'inbox.notifications'::regclass AND c.contype = 'c'
       AND (c.conname LIKE '%\_length' OR c.conname LIKE '%\_format')
)
SELECT e.name, e.conname, e.def AS registry, c.conname, c.def AS catalog
  FROM expected e FULL JOIN catalog c ON c.conname = e.conname
 WHERE e.conname IS NULL OR c.conname IS NULL OR e.def <> c.def;

-- The engine's field list (inbox.fields()) is the registry's filterable fields.
SELECT f.name, f.column_name, f.kind, f.sortable, f.nullable,
       r.name, r.column_name, r.kind, r.sortable, r.nullable
  FROM inbox.fields() f FULL JOIN (SELECT * FROM inbox.field_registry() WHERE kind IS NOT NULL) r
    ON r.name = f.name
 WHERE f.name IS NULL OR r.name IS NULL OR f.column_name <> r.column_name OR f.kind <> r.kind
    OR f.sortable <> r.sortable OR f.nullable <> (NOT r.not_null AND r.kind <> 'flag');

-- Directus shows nine fields, in places 1 to 9; pg_inbox's seen_at and expires_at follow, in
-- places 10 and 11 (only where a request names them: directus/fields.hpp).
SELECT array_agg(directus_name ORDER BY directus_position) AS directus,
       array_agg(directus_position ORDER BY directus_position) = array[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] AS places
  FROM inbox.field_registry() WHERE directus_name IS NOT NULL;
