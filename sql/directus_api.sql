-- The Directus route functions of 60_directus.sql: authentication, Directus's permissions,
-- create / update / delete with their body forms, all-or-nothing changes, soft delete, and
-- their errors (SQLSTATEs the server maps to Directus's codes).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;

-- Runs a statement; its result, or its SQLSTATE and message.
CREATE FUNCTION pg_temp.try(statement text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    EXECUTE statement INTO result;
    RETURN COALESCE(result, '(null)');
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

CREATE TABLE pg_temp.tokens AS
SELECT inbox.create_token('boss', ARRAY['admin']) AS admin,
       inbox.create_token('u1', ARRAY['notifications:read', 'notifications:write']) AS u1,
       inbox.create_token('u2', ARRAY['notifications:read']) AS u2_reader,
       inbox.create_token('svc', ARRAY['notifications:send']) AS sender,
       inbox.create_token('u1', ARRAY['notifications:read', 'notifications:write', 'notifications:send'], 'w1') AS u1_w1;
-- The statement with $admin, $u1, ... replaced by those tokens (quoted).
CREATE FUNCTION pg_temp.as_(statement text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    t pg_temp.tokens;
BEGIN
    SELECT * INTO t FROM pg_temp.tokens;
    RETURN pg_temp.try(replace(replace(replace(replace(replace(statement,
        '$admin', quote_literal(t.admin)), '$u1_w1', quote_literal(t.u1_w1)), '$u1', quote_literal(t.u1)),
        '$u2_reader', quote_literal(t.u2_reader)), '$sender', quote_literal(t.sender)));
END
$$;

-- Creating: notifications:send or admin, for anyone; one object or an array.
SELECT pg_temp.as_($$SELECT inbox.directus_create($sender, '{"recipient": "u1", "subject": "Hi there!", "sender": "svc"}', '{"fields": "id,status,recipient,sender,subject,message,collection,item"}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '[{"collection": "directus_files", "recipient": "u1", "message": "files"},
  {"collection": "articles", "recipient": {"id": "u2"}, "message": "articles", "item": 7, "status": "archived"}]', '{"fields": ["id", "status", "recipient", "item"]}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '[]', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '{"recipient": "u2", "subject": null, "sender": null}', '{"fields": "id,subject,sender"}')$$);
-- The timestamp is the creation time, in milliseconds and Z.
SELECT inbox.directus_time('2026-11-22 01:58:23.073912+00'::timestamptz) AS directus_time,
       (SELECT (inbox.to_directus(n)->>'timestamp') ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$' FROM inbox.notifications n WHERE n.id = 1) AS format;
-- A workspace-bound token creates in its workspace.
SELECT pg_temp.as_($$SELECT inbox.directus_create($u1_w1, '{"recipient": "u1", "subject": "in w1"}', '{"fields": "id"}')$$);
SELECT workspace_id FROM inbox.notifications WHERE id = 5;
-- Who may not create, and payloads that are not notifications.
SELECT pg_temp.as_($$SELECT inbox.directus_create($u1, '{"recipient": "u1"}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create(NULL, '{"recipient": "u1"}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create('nope', '{"recipient": "u1"}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '{"subject": "no recipient"}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '[{"recipient": "u1"}, {"recipient": null}]', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '{"recipient": ""}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '{"recipient": {"id": "u1", "email": "x"}}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '{"recipient": "u1", "subject": 5}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '{"recipient": "u1", "status": "read"}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '{"recipient": "u1", "id": 99}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '{"recipient": "u1", "timestamp": "2020-01-01T00:00:00Z"}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '{"recipient": "u1", "colour": "red"}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '"text"', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '[1]', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, ('{"recipient": "u1", "subject": "' || repeat('x', 1001) || '"}')::jsonb, NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '{"recipient": 7}', NULL)$$);
SELECT count(*) AS rows_after_failed_creates FROM inbox.notifications;

-- Reading: a user their own, an admin everyone's, a workspace-bound token its workspace.
SELECT pg_temp.as_($$SELECT inbox.directus_read($u1, '{"fields": "id,recipient", "meta": "*"}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_read($admin, '{"fields": "id,recipient", "meta": "total_count"}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_read($u1_w1, '{"fields": "id"}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_read($sender, '{}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_read($u1, '{"filter[recipient][_eq]": "u2"}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_read_one($u1, '1', '{"fields": "id,subject"}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_read_one($admin, '3', '{"fields": "id,recipient,status"}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_read_one($u1, '3', '{}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_read_one($u1, '99', '{}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_read_one($u1, 'abc', '{}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_read_one($u1, '-1', '{}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_read_one($u1_w1, '1', '{}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_read_one($u1, '1', '{"aggregate": {"count": "*"}}')$$);
-- SEARCH: the query in the body, over the query string.
SELECT pg_temp.as_($$SELECT inbox.directus_search($admin, '{"query": {"fields": ["id"], "sort": ["-id"], "limit": 2}}', '{"fields": "subject"}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_search($admin, '{"fields": ["id"]}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_search($admin, '{"query": {}, "data": {}}', NULL)$$);

-- Updating one: a user changes the status of their own notifications, nothing else.
SELECT pg_temp.as_($$SELECT inbox.directus_update_one($u1, '1', '{"status": "archived"}', '{"fields": "id,status"}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_one($u1, '1', '{"status": "archived"}', '{"fields": "id,status"}')$$);
SELECT (inbox.get('u1', inbox.public_id(1))->>'archivedAt') IS NOT NULL AS archived_through_api;
SELECT pg_temp.as_($$SELECT inbox.directus_update_one($u1, '1', '{"status": "inbox"}', '{"fields": "id,status"}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_one($u1, '1', '{}', '{"fields": "id,status"}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_one($u1, '1', '{"message": "edited"}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_one($u1, '3', '{"status": "archived"}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_one($u2_reader, '3', '{"status": "archived"}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_one($u1_w1, '1', '{"status": "archived"}', NULL)$$);
-- An admin changes subject, message, collection and item of anyone's; never the rest.
SELECT pg_temp.as_($$SELECT inbox.directus_update_one($admin, '3', '{"subject": "New", "message": null, "collection": "c", "item": 9, "status": "inbox"}', '{"fields": "id,status,subject,message,collection,item"}')$$);
SELECT inbox.get('u2', inbox.public_id(3)) - '{id,createdAt,updatedAt,readAt,archivedAt,deletedAt}'::text[] AS through_api;
SELECT pg_temp.as_($$SELECT inbox.directus_update_one($admin, '3', '{"recipient": "u1"}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_one($admin, '3', '{"sender": "u1"}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_one($admin, '3', '{"status": "read"}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_one($admin, '3', '{"subject": ["x"]}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_one($admin, '3', '{"colour": "red"}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_one($admin, '3', '[]', NULL)$$);

-- Updating many: keys, a query, or a batch; all or nothing.
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($u1, '{"keys": [2, 1], "data": {"status": "archived"}}', '{"fields": "id,status"}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($u1, '{"query": {"filter": {"status": {"_eq": "archived"}}}, "data": {"status": "inbox"}}', '{"fields": "id,status"}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($admin, '{"query": {"filter": {"recipient": {"_eq": "u1"}}, "sort": "-id", "limit": 1}, "data": {"subject": "latest"}}', '{"fields": "id,subject"}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($admin, '[{"id": 1, "subject": "batch A"}, {"id": "3", "status": "archived"}]', '{"fields": "id,status,subject"}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($u1, '{"keys": [1, 3], "data": {"status": "archived"}}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($admin, '[{"id": 1, "status": "archived"}, {"id": 99, "status": "archived"}]', NULL)$$);
SELECT id, inbox.directus_status(archived_at) AS status FROM inbox.notifications WHERE id IN (1, 3) ORDER BY id;
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($admin, '{"keys": [], "data": {"status": "archived"}}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($admin, '{"keys": [1]}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($admin, '{"keys": [1], "query": {}, "data": {}}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($admin, '{"keys": 1, "data": {}}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($admin, '{"keys": [{"id": 1}], "data": {}}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($admin, '{"ids": [1], "data": {}}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($admin, '{"data": {}}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($admin, '{"query": {"filter": {"nope": {"_eq": 1}}}, "data": {}}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($admin, '{"query": {"aggregate": {"count": "*"}}, "data": {}}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($admin, '[{"subject": "no id"}]', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_update_many($admin, '5', NULL)$$);

-- Deleting: an admin's, soft (restorable through the SQL API), all or nothing.
SELECT pg_temp.as_($$SELECT inbox.directus_delete_one($u1, '1')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_delete_one($admin, '1')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_read_one($u1, '1', '{}')$$);
SELECT inbox.get('u1', inbox.public_id(1), include_deleted => true)->>'deletedAt' IS NOT NULL AS soft_deleted;
SELECT inbox.restore('u1', inbox.public_id(1))->>'deletedAt' IS NULL AS restored;
SELECT pg_temp.as_($$SELECT inbox.directus_delete_one($admin, '99')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_delete_many($admin, '[1, 99]')$$);
SELECT count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted FROM inbox.notifications;
SELECT pg_temp.as_($$SELECT inbox.directus_delete_many($admin, '[1, "2"]')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_delete_many($admin, '{"keys": [3]}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_delete_many($admin, '{"query": {"filter": {"collection": {"_eq": "directus_files"}}}}')$$);
SELECT id, deleted_at IS NOT NULL AS deleted FROM inbox.notifications ORDER BY id;
SELECT pg_temp.as_($$SELECT inbox.directus_delete_many($admin, '{"keys": [3], "data": {}}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_delete_many($admin, '{}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_delete_many($admin, '"all"')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_delete_many($admin, '[true]')$$);

-- With a relation registered, recipient and sender are foreign keys onto its table (23503;
-- Directus answers INVALID_FOREIGN_KEY, and 500 for a value its uuid column cannot hold).
CREATE TABLE public.directus_users (id uuid PRIMARY KEY, email text);
INSERT INTO public.directus_users VALUES ('f3506e6d-ac09-44d9-a8d2-fcac84551465', 'admin@example.com');
SELECT inbox.define_relation('recipient', 'userId', 'public.directus_users') IS NOT NULL AS defined;
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '{"recipient": "f3506e6d-ac09-44d9-a8d2-fcac84551465", "sender": "anyone"}', '{"fields": "recipient.email,sender"}')$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '{"recipient": "00000000-0000-0000-0000-000000000000", "subject": "x"}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '[{"recipient": "f3506e6d-ac09-44d9-a8d2-fcac84551465"}, {"recipient": "not-a-uuid"}]', NULL)$$);
SELECT inbox.define_relation('sender', 'actorId', 'public.directus_users') IS NOT NULL AS defined;
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '{"recipient": "f3506e6d-ac09-44d9-a8d2-fcac84551465", "sender": "anyone"}', NULL)$$);
SELECT pg_temp.as_($$SELECT inbox.directus_create($admin, '{"recipient": "f3506e6d-ac09-44d9-a8d2-fcac84551465", "sender": "f3506e6d-ac09-44d9-a8d2-fcac84551465"}', '{"fields": "sender.email"}')$$);
SELECT count(*) AS notifications FROM inbox.notifications;
