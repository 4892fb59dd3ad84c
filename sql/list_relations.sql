-- Relations: inbox.define_relation / drop_relation, filters that traverse them with values typed
-- by the target columns, and the errors when the catalog no longer matches.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
DROP SCHEMA IF EXISTS app CASCADE;
-- Helpers live in this test's own schema (and only it is on the search_path: the engine
-- qualifies every name it uses).
DROP SCHEMA IF EXISTS test_list_relations CASCADE;
CREATE SCHEMA test_list_relations;
SET search_path = test_list_relations;
RESET client_min_messages;

CREATE SCHEMA app;
CREATE TABLE app.users (
    id      text PRIMARY KEY,
    email   text,
    nick    varchar(20),
    age     int,
    level   numeric,
    active  boolean,
    uid     uuid,
    joined  timestamptz,
    born    date,
    profile jsonb,
    secret  text
);
INSERT INTO app.users VALUES
    ('alice', 'alice@example.com', 'Al',  30, 1.5, true,  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2020-01-01', '1990-05-01', '{"lang": "en", "score": 9}', 's1'),
    ('bob',   'bob@test.org',      'Bob', 40, 7,   false, NULL,                                   NULL,         '1980-01-01', '{"lang": "fr"}',             's2'),
    ('u1',    'u1@example.com',    NULL,  25, 0,   true,  NULL,                                   '2021-06-01', NULL,         NULL,                         's3');
CREATE TABLE app."Teams" (slug text, "Display Name" text);
INSERT INTO app."Teams" VALUES ('w1', 'Core'), ('w2', 'Web');
CREATE TABLE app.devices (uid uuid PRIMARY KEY, kind text);
INSERT INTO app.devices VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'phone');

INSERT INTO inbox.notifications (user_id, title, actor_id, workspace_id, item, created_at) VALUES
    ('u1', 'by alice',   'alice', 'w1', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-01-01'),
    ('u1', 'by bob',     'bob',   'w2', NULL,                                   '2024-01-02'),
    ('u1', 'by nobody',  NULL,    NULL, 'not-a-uuid',                           '2024-01-03'),
    ('u1', 'by ghost',   'ghost', 'w3', NULL,                                   '2024-01-04'),
    ('u2', 'for u2',     'alice', 'w1', NULL,                                   '2024-01-05');

CREATE FUNCTION f(filter jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(e->>'title', ',' ORDER BY o), '(none)')
      FROM jsonb_array_elements(inbox.list('u1', jsonb_build_object(
               'filter', filter, 'orderBy', '[{"createdAt": "asc"}]'::jsonb))->'data')
           WITH ORDINALITY AS a(e, o)
$$;
-- The SQLSTATE and message of a failing list call.
CREATE FUNCTION state(filter jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inbox.list('u1', jsonb_build_object('filter', filter));
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;

-- defining
SELECT inbox.define_relation('actor', 'actorId', 'app.users');
SELECT inbox.define_relation('recipient', 'userId', 'app.users', 'id', ARRAY['email', 'active']::name[]);
SELECT inbox.define_relation('team', 'workspaceId', 'app."Teams"', 'slug');
SELECT inbox.define_relation('device', 'item', 'app.devices', 'uid');
SELECT name, field, source_column, target_schema, target_table, target_column, columns FROM inbox.relations ORDER BY name;

-- traversal, values typed by the target column
SELECT f('{"actor": {"email": {"endsWith": "@example.com"}}}') AS text_ends_with;
SELECT f('{"actor": {"email": {"contains": "BOB", "mode": "insensitive"}}}') AS text_insensitive;
SELECT f('{"actor": {"nick": "Al"}}') AS varchar_eq;
SELECT f('{"actor": {"nick": {"in": ["Bob", "Zed"]}}}') AS varchar_in;
SELECT f('{"actor": {"age": {"gt": 35}}}') AS int_gt;
SELECT f('{"actor": {"age": {"in": [30, "40"]}}}') AS int_in;
SELECT f('{"actor": {"level": {"gte": 1.5}}}') AS numeric_gte;
SELECT f('{"actor": {"active": true}}') AS boolean_eq;
SELECT f('{"actor": {"uid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}}') AS uuid_eq;
SELECT f('{"actor": {"uid": {"isNull": true}}}') AS uuid_is_null;
SELECT f('{"actor": {"joined": {"lt": "2021-01-01T00:00:00Z"}}}') AS timestamptz_lt;
SELECT f('{"actor": {"born": "1980-01-01"}}') AS date_eq;
SELECT f('{"actor": {"profile": {"path": "lang", "eq": "fr"}}}') AS jsonb_path;
SELECT f('{"actor": {"profile": {"contains": {"score": 9}}}}') AS jsonb_contains;
SELECT f('{"actor": {"OR": [{"age": 30}, {"nick": "Bob"}], "NOT": {"email": {"startsWith": "bob"}}}}') AS nested_logic;
SELECT f('{"actor": {}}') AS has_an_actor_row;
SELECT f('{"NOT": {"actor": {}}}') AS no_actor_row;
SELECT f('{"NOT": {"actor": {"active": true}}}') AS not_traversal;
SELECT f('{"OR": [{"actor": {"age": 40}}, {"team": {"Display Name": "Core"}}]}') AS or_of_relations;
SELECT f('{"recipient": {"email": {"startsWith": "u1@"}}, "team": {"slug": "w1"}}') AS two_relations;
SELECT f('{"device": {"kind": "phone"}}') AS uuid_key_joined_as_text;
SELECT titles FROM (SELECT string_agg(e->>'title', ',') AS titles
  FROM jsonb_array_elements(inbox.list_all('{"filter": {"actor": {"email": {"endsWith": "@example.com"}}}}')->'data') AS e) s;

-- errors at the filter path
SELECT state('{"actor": {"uid": "nope"}}');
SELECT state('{"actor": {"age": "x"}}');
SELECT state('{"actor": {"age": 99999999999}}');
SELECT state('{"actor": {"born": "1990-02-30"}}');
SELECT state('{"actor": {"joined": "soon"}}');
SELECT state('{"actor": {"emial": "x"}}');
SELECT state('{"actor": {"uid": {"gt": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}}}');
SELECT state('{"actor": {"active": {"contains": "t"}}}');
SELECT state('{"recipient": {"secret": "s3"}}');
SELECT state('{"recipient": {"age": 25}}');
SELECT state('{"actor": {"team": {"slug": "w1"}}}');
SELECT state('{"actor": 5}');
SELECT state('{"actr": {"email": "x"}}');

-- the catalog changes under a relation
ALTER TABLE app.users DROP COLUMN email;
SELECT state('{"actor": {"age": 30}}') AS all_columns_still_fine;
SELECT state('{"recipient": {"active": true}}') AS listed_column_dropped;
SELECT state('{"actor": {"email": "x"}}') AS dropped_column_is_unknown;
ALTER TABLE app."Teams" RENAME TO teams_old;
SELECT state('{"team": {"slug": "w1"}}') AS renamed_table;
ALTER TABLE app.teams_old RENAME TO "Teams";
SELECT state('{"team": {"slug": "w1"}}') AS renamed_back;
ALTER TABLE app."Teams" DROP COLUMN slug;
SELECT state('{"team": {"Display Name": "Core"}}') AS key_column_dropped;
DROP TABLE app.devices;
SELECT state('{"device": {"kind": "phone"}}') AS dropped_table;
SELECT f('{"title": "by bob"}') AS unrelated_filters_unaffected;
SELECT inbox.define_relation('device', 'item', 'app.users', 'uid', ARRAY['age']::name[]) AS redefined;
SELECT f('{"device": {"age": 30}}') AS redefined_relation;

-- define_relation errors
SELECT inbox.define_relation('bad name', 'actorId', 'app.users');
SELECT inbox.define_relation('title', 'actorId', 'app.users');
SELECT inbox.define_relation('NOT', 'actorId', 'app.users');
SELECT inbox.define_relation('creator', 'createdAt', 'app.users');
SELECT inbox.define_relation('creator', 'nope', 'app.users');
CREATE SEQUENCE app.seq;
SELECT inbox.define_relation('creator', 'actorId', 'app.seq');
SELECT inbox.define_relation('creator', 'actorId', 'app.nope');
SELECT inbox.define_relation('creator', 'actorId', 'app.users', 'handle');
SELECT inbox.define_relation('creator', 'actorId', 'app.users', 'id', ARRAY['age', 'email']::name[]);
SELECT inbox.define_relation('creator', 'actorId', 'app.users', 'id', ARRAY[]::name[]);

-- dropping, listing, privileges, pg_dump
SELECT inbox.drop_relation('team');
SELECT inbox.drop_relation('team');
SELECT inbox.drop_relation('team', if_exists => true);
SELECT state('{"team": {"slug": "w1"}}') AS dropped_relation_is_unknown;
SELECT name FROM inbox.relations ORDER BY name;
SELECT has_function_privilege('public', 'inbox.define_relation(text, text, regclass, name, name[])', 'EXECUTE') AS public_may_define,
       has_function_privilege('public', 'inbox.drop_relation(text, boolean)', 'EXECUTE') AS public_may_drop;
SELECT c::regclass AS dumped_with_the_data
  FROM pg_extension e, unnest(e.extconfig) AS c
 WHERE e.extname = 'pg_inbox' AND c::regclass::text IN ('inbox.relations', 'inbox.cursor_secrets')
 ORDER BY c::regclass::text;
