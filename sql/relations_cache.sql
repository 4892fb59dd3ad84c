-- The relations each backend caches (extension/src/pg/relations_cache.hpp): in one session,
-- every change to a relation or to what it names is seen by the next statement, a change rolled
-- back is not, and a relation whose table or column went away still raises naming it, every
-- time (an error caches nothing). specs/relations_cache_concurrency.spec: the same across
-- sessions.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
DROP SCHEMA IF EXISTS test_relations_cache CASCADE;
DROP SCHEMA IF EXISTS test_relations_cache_moved CASCADE;
CREATE SCHEMA test_relations_cache;
SET search_path = test_relations_cache;
RESET client_min_messages;

CREATE TABLE people (id text PRIMARY KEY, name text);
INSERT INTO people VALUES ('alice', 'Alice'), ('bob', 'Bob');
CREATE TABLE staff (login text PRIMARY KEY, name text, level int);
INSERT INTO staff VALUES ('carol', 'Carol', 1);
INSERT INTO inbox.notifications (user_id, title, actor_id) VALUES
    ('u1', '1 by alice', 'alice'), ('u1', '2 by carol', 'carol');

-- The Directus create's recipient check: ok, or its SQLSTATE and message.
CREATE FUNCTION check_user(u text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inbox._directus_check_users('recipient', ARRAY[u]);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;
-- The actors u1's page embeds (expand=actor), or the error.
CREATE FUNCTION actors() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT string_agg(coalesce(e->'expanded'->'actor'->>'name', '-'), ',' ORDER BY e->>'title')
              FROM jsonb_array_elements(inbox.list('u1', '{"expand": "actor"}')->'data') AS e);
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;
-- A filter through the actor relation, or the error.
CREATE FUNCTION filtered(filter jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT coalesce(string_agg(e->>'title', ',' ORDER BY e->>'title'), '(none)')
              FROM jsonb_array_elements(inbox.list('u1', jsonb_build_object('filter', filter))->'data') AS e);
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;

-- No relation: nothing to check.
SELECT check_user('nobody');
SELECT inbox.define_relation('recipient', 'userId', 'test_relations_cache.people', 'id') IS NOT NULL AS defined;
SELECT inbox.define_relation('actor', 'actorId', 'test_relations_cache.people', 'id') IS NOT NULL AS defined;
SELECT check_user('alice'), check_user('carol'), actors();

-- Redefined: the next statement sees it.
SELECT inbox.define_relation('recipient', 'userId', 'test_relations_cache.staff', 'login') IS NOT NULL AS defined;
SELECT inbox.define_relation('actor', 'actorId', 'test_relations_cache.staff', 'login') IS NOT NULL AS defined;
SELECT check_user('alice'), check_user('carol'), actors();

-- Once loaded, the relations are read from the cache: the first use after a change reads
-- inbox.relations, the next ones do not.
CREATE FUNCTION relation_scans() RETURNS bigint LANGUAGE sql AS $$
    SELECT pg_stat_get_xact_numscans('inbox.relations'::regclass)
           + pg_stat_get_xact_numscans('inbox.relations_pkey'::regclass)
$$;
BEGIN;
SELECT inbox.define_relation('actor', 'actorId', 'test_relations_cache.staff', 'login') IS NOT NULL AS defined;
SELECT relation_scans() AS before \gset
SELECT check_user('alice'), check_user('carol'), actors();
SELECT relation_scans() - :before > 0 AS loaded;
SELECT relation_scans() AS before \gset
SELECT check_user('alice'), check_user('carol'), actors();
SELECT relation_scans() - :before AS cached_scans;
COMMIT;

-- A REPEATABLE READ transaction reads them with its snapshot each time, as without the cache.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT relation_scans() AS before \gset
SELECT check_user('alice'), check_user('carol');
SELECT relation_scans() - :before > 0 AS read_again;
COMMIT;

-- In a transaction: seen by its next statement; rolled back, gone.
BEGIN;
SELECT inbox.define_relation('recipient', 'userId', 'test_relations_cache.people', 'id') IS NOT NULL AS defined;
SELECT check_user('alice'), check_user('carol');
ROLLBACK;
SELECT check_user('alice'), check_user('carol');
-- The same to a savepoint.
BEGIN;
SAVEPOINT s;
SELECT inbox.drop_relation('recipient');
SELECT check_user('alice'), check_user('carol');
ROLLBACK TO SAVEPOINT s;
SELECT check_user('alice'), check_user('carol');
COMMIT;
-- Seen inside the very statement that defines it, by the calls after it (plpgsql runs each of
-- its statements as a command of its own).
DO $$
BEGIN
    PERFORM inbox.define_relation('recipient', 'userId', 'test_relations_cache.people', 'id');
    RAISE NOTICE 'alice: %, carol: %', check_user('alice'), check_user('carol');
    PERFORM inbox.define_relation('recipient', 'userId', 'test_relations_cache.staff', 'login');
    RAISE NOTICE 'alice: %, carol: %', check_user('alice'), check_user('carol');
END
$$;

-- The target's column renamed, and back.
ALTER TABLE staff RENAME COLUMN login TO handle;
SELECT check_user('carol'), actors();
SELECT check_user('carol');
ALTER TABLE staff RENAME COLUMN handle TO login;
SELECT check_user('carol'), actors();
-- The target renamed, and back.
ALTER TABLE staff RENAME TO staff_moved;
SELECT check_user('carol'), actors();
ALTER TABLE staff_moved RENAME TO staff;
SELECT check_user('carol'), actors();
-- Its schema renamed, and back.
ALTER SCHEMA test_relations_cache RENAME TO test_relations_cache_moved;
SELECT test_relations_cache_moved.check_user('carol');
ALTER SCHEMA test_relations_cache_moved RENAME TO test_relations_cache;
SELECT check_user('carol');
-- A column's type changed: filters type their values by the column as it is now.
SELECT filtered('{"actor": {"level": "x"}}');
ALTER TABLE staff ALTER COLUMN level TYPE text;
SELECT filtered('{"actor": {"level": "x"}}');
SELECT filtered('{"actor": {"level": "1"}}');
-- A column added is embedded at once (a relation without a column list shows all).
ALTER TABLE staff ADD COLUMN team text DEFAULT 'core';
SELECT e->'expanded'->'actor' AS actor
  FROM jsonb_array_elements(inbox.list('u1', '{"expand": "actor"}')->'data') AS e
 WHERE e->>'title' = '2 by carol';

-- A type named as the search_path shows it: qualified once its schema leaves the path.
CREATE TYPE mood AS ENUM ('happy', 'sad');
ALTER TABLE staff ADD COLUMN mood mood DEFAULT 'happy';
SELECT filtered('{"actor": {"mood": "angry"}}');
SET search_path = public;
SELECT test_relations_cache.filtered('{"actor": {"mood": "angry"}}');
SET search_path = test_relations_cache;
ALTER TYPE mood RENAME TO feeling;
SELECT filtered('{"actor": {"mood": "angry"}}');

-- The target dropped: 42P01 naming it, at each call (nothing was cached); created again, used.
DROP TABLE staff;
SELECT check_user('carol'), actors();
SELECT check_user('carol'), actors();
CREATE TABLE staff (login text PRIMARY KEY, name text);
INSERT INTO staff VALUES ('dave', 'Dave');
SELECT check_user('carol'), check_user('dave');

-- Dropped relations, and a TRUNCATE of them all.
SELECT inbox.drop_relation('recipient');
SELECT check_user('carol'), actors();
SELECT inbox.define_relation('recipient', 'userId', 'test_relations_cache.staff', 'login') IS NOT NULL AS defined;
SELECT check_user('carol');
TRUNCATE inbox.relations;
SELECT check_user('carol'), actors();

-- The trigger function is a trigger's only.
SELECT inbox._relations_changed();

SET client_min_messages = warning;
DROP SCHEMA test_relations_cache CASCADE;
DROP EXTENSION pg_inbox CASCADE;
