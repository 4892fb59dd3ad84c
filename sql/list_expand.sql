-- expand: related rows embedded in each notification of a list page (issue 7, item 4), the
-- way Diaspora shows event_creators (name, avatar) and Mastodon an account object. Relations
-- over text, bigint, integer and uuid keys, aggregated actors, missing rows, the errors, and the plan:
-- one statement whose lookups are index scans on the targets.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
DROP SCHEMA IF EXISTS app_expand CASCADE;
-- Helpers live in this test's own schema (and only it is on the search_path: the engine
-- qualifies every name it uses).
DROP SCHEMA IF EXISTS test_list_expand CASCADE;
CREATE SCHEMA test_list_expand;
SET search_path = test_list_expand;
RESET client_min_messages;

CREATE SCHEMA app_expand;
-- The application's users: text keys; secret must never be shown.
CREATE TABLE app_expand.users (id text PRIMARY KEY, name text, avatar text, secret text);
INSERT INTO app_expand.users VALUES
    ('alice', 'Alice Testing', 'https://example.com/a.jpg', 's1'),
    ('bob',   'Bob Testing',   'https://example.com/b.jpg', 's2'),
    ('carol', 'Carol Testing', NULL,                        's3');
INSERT INTO app_expand.users SELECT 'filler' || i, 'Filler ' || i, NULL, 's' FROM generate_series(1, 2000) AS i;
-- Posts: bigint keys, referred to by a notification's item.
CREATE TABLE app_expand.posts (id bigint PRIMARY KEY, title text);
INSERT INTO app_expand.posts VALUES (42, 'Hello'), (-5, 'Negative'), (9223372036854775807, 'Largest');
INSERT INTO app_expand.posts SELECT i, 'p' || i FROM generate_series(1000, 3000) AS i;
-- Workspaces: uuid keys; the relation allows every column.
CREATE TABLE app_expand.workspaces (id uuid PRIMARY KEY, title text, seats int);
INSERT INTO app_expand.workspaces VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'Core', 5);
INSERT INTO app_expand.workspaces SELECT gen_random_uuid(), 'w', 1 FROM generate_series(1, 2000);
-- Teams: integer keys, referred to by a notification's collection.
CREATE TABLE app_expand.teams (id int PRIMARY KEY, name text);
INSERT INTO app_expand.teams SELECT i, 'team ' || i FROM generate_series(1, 2000) AS i;
ANALYZE app_expand.users, app_expand.posts, app_expand.workspaces, app_expand.teams;

SELECT inbox.define_relation('actor', 'actorId', 'app_expand.users', 'id', ARRAY['id', 'name', 'avatar']::name[]) IS NOT NULL AS defined;
SELECT inbox.define_relation('recipient', 'userId', 'app_expand.users', 'id', ARRAY['name']::name[]) IS NOT NULL AS defined;
SELECT inbox.define_relation('post', 'item', 'app_expand.posts', 'id') IS NOT NULL AS defined;
SELECT inbox.define_relation('workspace', 'workspaceId', 'app_expand.workspaces', 'id') IS NOT NULL AS defined;
SELECT inbox.define_relation('team', 'collection', 'app_expand.teams', 'id', ARRAY['name']::name[]) IS NOT NULL AS defined;

-- alice's inbox: a like by bob, carol and ghost (no such user), aggregated the Diaspora way;
-- a mention by bob on post 42 in the Core workspace; a system notice without actor.
SELECT inbox.register_type('liked', 'Someone liked your post.', aggregate => true) IS NOT NULL AS registered;
SELECT inbox.create('alice', '{"type": "liked", "title": "liked", "groupKey": "post:42", "actorId": "bob", "item": "42"}') IS NOT NULL AS created;
SELECT inbox.create('alice', '{"type": "liked", "title": "liked", "groupKey": "post:42", "actorId": "ghost", "item": "42"}') IS NOT NULL AS created;
SELECT inbox.create('alice', '{"type": "liked", "title": "liked", "groupKey": "post:42", "actorId": "carol", "item": "42"}') IS NOT NULL AS created;
SELECT inbox.create('alice', '{"type": "mention", "title": "mention", "actorId": "bob", "item": "-5", "collection": "7", "workspaceId": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}') IS NOT NULL AS created;
SELECT inbox.create('alice', '{"type": "info", "title": "notice", "item": "9223372036854775807"}') IS NOT NULL AS created;
-- Source text that is not the key's canonical spelling finds nothing, and never fails a cast.
SELECT inbox.create('alice', '{"type": "info", "title": "leading zero", "item": "042", "workspaceId": "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"}') IS NOT NULL AS created;
SELECT inbox.create('alice', '{"type": "info", "title": "overflow", "item": "9223372036854775808", "workspaceId": "not-a-uuid", "collection": "2147483648"}') IS NOT NULL AS created;
SELECT inbox.create('alice', '{"type": "info", "title": "not a number", "item": "forty-two"}') IS NOT NULL AS created;
-- dave is no user: his recipient is null.
SELECT inbox.create('dave', '{"type": "info", "title": "for dave", "actorId": "alice"}') IS NOT NULL AS created;

-- Title and expanded part of each row of a page, oldest first.
CREATE FUNCTION expanded(user_id text, params jsonb) RETURNS TABLE (title text, expanded jsonb)
LANGUAGE sql AS $$
    SELECT e->>'title', e->'expanded'
      FROM jsonb_array_elements(inbox.list(user_id, params || '{"orderBy": [{"createdAt": "asc"}]}')->'data')
           WITH ORDINALITY AS a(e, o)
     ORDER BY o
$$;
-- The SQLSTATE, message and hint of a failing list call.
CREATE FUNCTION state(params jsonb, user_id text DEFAULT 'alice') RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    hint text;
BEGIN
    PERFORM inbox.list(user_id, params);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ' ' || SQLERRM || CASE WHEN hint <> '' THEN ' (hint: ' || hint || ')' ELSE '' END;
END
$$;

-- The rows, with actor and actors (bob, carol; ghost has no row, so it is left out), the
-- recipient's allowed column only, the bigint post, the uuid workspace (every column) and
-- the integer team.
SELECT * FROM expanded('alice', '{"expand": "actor,actors,recipient,post,workspace,team"}');
-- A JSON array is the same as the comma-separated string.
SELECT (SELECT array_agg(expanded) FROM expanded('alice', '{"expand": ["actors", "post"]}'))
     = (SELECT array_agg(expanded) FROM expanded('alice', '{"expand": "actors,post"}')) AS same;
-- Only the keys asked for, in any order.
SELECT title, expanded FROM expanded('alice', '{"expand": "recipient"}') LIMIT 2;
-- The objects are exactly inbox.to_json's plus "expanded".
SELECT bool_and((e - 'expanded') = inbox.to_json(n)) AS same_object, count(*) AS rows
  FROM jsonb_array_elements(inbox.list('alice', '{"expand": "actor,actors,recipient,post,workspace"}')->'data') AS e
  JOIN inbox.notifications n ON n.user_id = 'alice' AND inbox.public_id(n.id) = e->>'id';
-- Without expand there is no "expanded" key.
SELECT bool_or(e ? 'expanded') AS has_expanded
  FROM jsonb_array_elements(inbox.list('alice', '{}')->'data') AS e;
-- A recipient who is no user; the admin listing across users; a second page (cursor).
SELECT * FROM expanded('dave', '{"expand": "recipient,actor"}');
SELECT e->>'userId' AS user_id, e->>'title' AS title, e->'expanded' AS expanded
  FROM jsonb_array_elements(inbox.list_all('{"expand": "recipient", "filter": {"title": {"in": ["for dave", "mention"]}}, "orderBy": [{"title": "asc"}]}')->'data') AS e;
SELECT * FROM expanded('alice', jsonb_build_object('expand', 'actor', 'limit', 2,
    'after', inbox.list('alice', '{"limit": 3, "orderBy": [{"createdAt": "asc"}]}')->'pageInfo'->>'endCursor'));

-- One statement per page, every lookup an index scan on its target's key (text, bigint and
-- uuid alike: a text source is cast to the key's type when it is the key's canonical text),
-- evaluated per row of the page only.
SELECT regexp_replace(line, 'CASE WHEN .*', 'CASE WHEN <the key''s canonical text> THEN <cast> END)') AS plan
  FROM regexp_split_to_table(inbox.list_explain('alice', '{"expand": "actor,actors,recipient,post,workspace,team", "limit": 20}'), E'\n') AS line;
-- Filters through a relation compare keys the same way (EXISTS on the target's index).
SELECT * FROM expanded('alice', '{"filter": {"post": {"title": {"in": ["Hello", "Largest"]}}}, "expand": "post"}');
SELECT regexp_replace(line, 'CASE WHEN .*', 'CASE WHEN <the key''s canonical text> THEN <cast> END)') AS plan
  FROM regexp_split_to_table(inbox.list_explain('alice', '{"filter": {"post": {"title": "Hello"}}}'), E'\n') AS line;
-- Directus's fields=sender.name goes through the same lookup (the only relation over actor_id).
SELECT inbox.create_token('alice', ARRAY['notifications:read']) AS token \gset
SELECT inbox.directus_read(:'token', '{"fields": "subject,sender.name,recipient.name", "sort": "subject", "limit": 3}');

-- Errors: 22023 naming expand[i] with a hint, 54000 past the bound.
SELECT state('{"expand": "actor,friends"}');
SELECT state('{"expand": ["actor", "post", "actor"]}');
SELECT state('{"expand": "actor,,post"}');
SELECT state('{"expand": ""}');
SELECT state('{"expand": []}');
SELECT state('{"expand": [1]}');
SELECT state('{"expand": 3}');
SELECT state('{"expand": "Actor"}');
SELECT state('{"expand": "actor, post"}');
SELECT state(jsonb_build_object('expand', (SELECT string_agg('actor', ',') FROM generate_series(1, 17))));
SELECT state('{"expand": "actor", "expandd": true}');
-- actors goes through the relation over actorId named actor, or else the only one.
SELECT inbox.define_relation('sender', 'actorId', 'app_expand.users', 'id', ARRAY['name']::name[]) IS NOT NULL AS defined;
SELECT title, expanded FROM expanded('alice', '{"expand": "actors"}') LIMIT 1;
SELECT inbox.drop_relation('actor');
SELECT title, expanded FROM expanded('alice', '{"expand": "actors,sender"}') LIMIT 1;
SELECT inbox.define_relation('author', 'actorId', 'app_expand.users', 'id', ARRAY['id']::name[]) IS NOT NULL AS defined;
SELECT state('{"expand": "actors"}');
SELECT inbox.drop_relation('author'), inbox.drop_relation('sender');
SELECT state('{"expand": "actors"}');
SELECT inbox.define_relation('actors', 'actorId', 'app_expand.users');
-- A dropped target is reported by name; grouped notifications do not embed rows.
DROP TABLE app_expand.posts;
SELECT state('{"expand": "post"}');
SELECT state('{"expand": "recipient"}');
SELECT inbox.groups('alice', '{"expand": "recipient"}');

DROP SCHEMA app_expand CASCADE;
