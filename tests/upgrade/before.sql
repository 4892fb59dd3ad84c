-- tests/upgrade.sh, before ALTER EXTENSION pg_inbox UPDATE: data written through 0.1.0's SQL API,
-- and what the caller was handed (tokens, ids, cursors, responses) with the answers it got, kept
-- in the application's own schema `app` (left out of the catalog comparison) to be checked after
-- the update. Every function called here is 0.1.0's.

CREATE SCHEMA app;

-- What a caller was handed before the update, and the answer it got.
CREATE TABLE app.given (name text PRIMARY KEY, value text NOT NULL);

-- The SQLSTATE a statement raises ('00000' when it succeeds).
CREATE FUNCTION app.sqlstate(statement text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN '00000';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;

-- The ids of a page, in order.
CREATE FUNCTION app.ids(page jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(string_agg(e->>'id', ',' ORDER BY o), '')
      FROM jsonb_array_elements(page->'data') WITH ORDINALITY AS a(e, o)
$$;

-- A group page: its group keys, in order.
CREATE FUNCTION app.group_keys(page jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(string_agg(e->>'groupKey', ',' ORDER BY o), '')
      FROM jsonb_array_elements(page->'data') WITH ORDINALITY AS a(e, o)
$$;

-- Relations to the application's users.
CREATE TABLE app.people (id text PRIMARY KEY, email text NOT NULL);
INSERT INTO app.people VALUES ('ann', 'ann@example.com'), ('ben', 'ben@test.org'),
    ('cat', 'cat@example.com'), ('dan', 'dan@example.com'), ('eve', 'eve@test.org'),
    ('boss', 'boss@example.com');
SELECT inbox.define_relation('actor', 'actorId', 'app.people');
SELECT inbox.define_relation('recipient', 'userId', 'app.people', 'id', ARRAY['id', 'email']::name[]);

-- The types registry: two registered (one aggregating), one registered and removed again.
SELECT inbox.register_type('liked', 'Someone liked your post.', aggregate => true);
SELECT inbox.register_type('admin.report', 'A new report has been filed.');
SELECT inbox.register_type('short.lived', 'Registered, then removed.');
SELECT inbox.unregister_type('short.lived');

-- Tokens of every kind: read/write, bound to a workspace, sender, admin, expiring, revoked.
INSERT INTO app.given
SELECT 'token:ann', inbox.create_token('ann', ARRAY['notifications:read', 'notifications:write'])
UNION ALL SELECT 'token:ann-w1', inbox.create_token('ann', ARRAY['notifications:read'], 'w1')
UNION ALL SELECT 'token:sender', inbox.create_token('svc', ARRAY['notifications:send'])
UNION ALL SELECT 'token:boss', inbox.create_token('boss', ARRAY['admin'])
UNION ALL SELECT 'token:expiring', inbox.create_token('ben', ARRAY['notifications:read'], NULL, now() + interval '1 day')
UNION ALL SELECT 'token:revoked', inbox.create_token('ben', ARRAY['notifications:read']);
SELECT inbox.revoke_token(value) FROM app.given WHERE name = 'token:revoked';
-- Who each token was, as authenticate said before the update.
INSERT INTO app.given
SELECT 'caller:' || g.name, row(c.*)::text
  FROM app.given g, inbox.authenticate(g.value) AS c
 WHERE g.name LIKE 'token:%' AND g.name <> 'token:revoked';

-- ann's inbox: one statement each, so creation times differ, in every state.
INSERT INTO app.given
SELECT 'id:' || n, inbox.create('ann', jsonb_build_object(
           'title', 'note ' || n, 'body', 'body of ' || n, 'actorId', actor,
           'workspaceId', CASE WHEN n % 3 = 0 THEN 'w1' END,
           'type', CASE WHEN n % 4 = 0 THEN 'admin.report' ELSE 'info' END,
           'data', jsonb_build_object('n', n), 'collection', 'posts', 'item', n::text))->>'id'
  FROM (VALUES (1, 'ben'), (2, 'cat'), (3, 'dan'), (4, 'eve'), (5, 'ben'), (6, 'cat')) AS v(n, actor);
INSERT INTO app.given
SELECT 'id:' || n, inbox.create('ann', jsonb_build_object(
           'title', 'note ' || n, 'actorId', actor, 'workspaceId', CASE WHEN n % 3 = 0 THEN 'w1' END))->>'id'
  FROM (VALUES (7, 'dan'), (8, 'eve'), (9, 'ben'), (10, 'cat'), (11, 'dan'), (12, 'eve')) AS v(n, actor);
SELECT inbox.mark_read('ann', value) FROM app.given WHERE name IN ('id:2', 'id:3');           -- read
SELECT inbox.archive('ann', value) FROM app.given WHERE name IN ('id:4', 'id:5');             -- archived
SELECT inbox.mark_read('ann', value) FROM app.given WHERE name = 'id:5';                      -- archived and read
SELECT inbox.soft_delete('ann', value) FROM app.given WHERE name IN ('id:6', 'id:7', 'id:8'); -- soft-deleted
SELECT inbox.purge('ann', value) FROM app.given WHERE name = 'id:7';                          -- purged away
SELECT inbox.delete('ann', value) FROM app.given WHERE name = 'id:9';                         -- deleted outright
SELECT inbox.update('ann', value, '{"title": "note 10, edited", "data": {"edited": true}}')
  FROM app.given WHERE name = 'id:10';

-- Groups and aggregated actors: three likes of one post aggregate into one notification; two
-- builds share a groupKey without aggregating.
SELECT inbox.create('ann', jsonb_build_object('type', 'liked', 'title', 'Your post was liked',
                                              'groupKey', 'post:1', 'actorId', a))
  FROM unnest(ARRAY['dan', 'eve', 'ben']) AS a;
INSERT INTO app.given
SELECT 'id:liked', n->>'id' FROM inbox.create('ann', '{"type": "liked", "groupKey": "post:1", "actorId": "dan"}') AS n;
SELECT inbox.create('ann', '{"title": "build 7 failed", "groupKey": "build:7", "type": "error"}');
SELECT inbox.create('ann', '{"title": "build 7 fixed", "groupKey": "build:7", "type": "success"}');

-- A fan-out and a create_many.
SELECT inbox.fan_out(ARRAY['ann', 'ben', 'cat'], '{"title": "Maintenance tonight", "type": "warning"}');
SELECT inbox.fan_out_count(ARRAY['ben', 'cat', 'dan'], '{"title": "Maintenance done", "type": "success"}');
SELECT inbox.create_many('[{"userId": "ben", "title": "b1", "workspaceId": "w2"}, {"userId": "cat", "title": "c1"}]');
SELECT inbox.mark_all_read('ben', 'w2');

-- Idempotency keys: the first response of each is what a retry after the update must get.
INSERT INTO app.given
SELECT 'idem:one', inbox.rest_create(value, '{"userId": "cat", "title": "welcome"}', 'key-one', NULL)::text
  FROM app.given WHERE name = 'token:sender';
INSERT INTO app.given
SELECT 'idem:fan', inbox.rest_create(value, '{"userIds": ["ann", "dan"], "title": "hello both"}', 'key-fan', NULL)::text
  FROM app.given WHERE name = 'token:sender';

-- Cursors handed out before the update, and the page each led to then.
INSERT INTO app.given
SELECT 'cursor:list', inbox.list('ann', '{"limit": 3}')->'pageInfo'->>'endCursor';
INSERT INTO app.given
SELECT 'cursor:filtered', inbox.list('ann', '{"limit": 2, "filter": {"actor": {"email": {"endsWith": "@example.com"}}}}')->'pageInfo'->>'endCursor';
INSERT INTO app.given
SELECT 'cursor:deleted', inbox.list('ann', '{"limit": 1, "include_deleted": true, "orderBy": [{"createdAt": "asc"}]}')->'pageInfo'->>'endCursor';
INSERT INTO app.given
SELECT 'cursor:groups', inbox.groups('ann', '{"limit": 1}')->'pageInfo'->>'endCursor';
INSERT INTO app.given
SELECT 'cursor:rest', inbox.rest_list(value, '{"limit": "2"}')->'pageInfo'->>'endCursor'
  FROM app.given WHERE name = 'token:ann';
INSERT INTO app.given
SELECT 'page:list', app.ids(inbox.list('ann', jsonb_build_object('limit', 3, 'after', value)))
  FROM app.given WHERE name = 'cursor:list';
INSERT INTO app.given
SELECT 'page:filtered', app.ids(inbox.list('ann', jsonb_build_object('limit', 2, 'after', value,
           'filter', '{"actor": {"email": {"endsWith": "@example.com"}}}'::jsonb)))
  FROM app.given WHERE name = 'cursor:filtered';
INSERT INTO app.given
SELECT 'page:deleted', app.ids(inbox.list('ann', jsonb_build_object('limit', 20, 'after', value, 'include_deleted', true,
           'orderBy', '[{"createdAt": "asc"}]'::jsonb)))
  FROM app.given WHERE name = 'cursor:deleted';
INSERT INTO app.given
SELECT 'page:groups', app.group_keys(inbox.groups('ann', jsonb_build_object('limit', 10, 'after', value)))
  FROM app.given WHERE name = 'cursor:groups';
INSERT INTO app.given
SELECT 'page:rest', app.ids(inbox.rest_list(t.value, jsonb_build_object('limit', '2', 'after', c.value)))
  FROM app.given t, app.given c WHERE t.name = 'token:ann' AND c.name = 'cursor:rest';
