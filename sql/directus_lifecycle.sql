-- Issue 19 in the Directus dialects: pg_inbox's seen_at and expires_at beside Directus's nine
-- fields, only where a request names them (REST fields, filter, sort; GraphQL selections and
-- the create input); every answer that does not name them is Directus's own; an expired
-- notification is gone from every Directus read.
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

SELECT inbox.create_token('u1', ARRAY['notifications:read', 'notifications:write']) AS u1 \gset
SELECT inbox.create_token('svc', ARRAY['notifications:send']) AS sender \gset

-- u1: old and sale (expires in 2099) before the seen mark, gone (expired), new after the mark.
SELECT inbox.create('u1', '{"title": "old", "workspaceId": "w"}')->>'title' AS created;
SELECT inbox.create('u1', '{"title": "sale", "expiresAt": "2099-01-01T00:00:00Z"}')->>'title' AS created;
SELECT inbox.create('u1', '{"title": "gone", "expiresAt": "2000-01-01T00:00:00Z"}')->>'title' AS created;
SELECT inbox.mark_seen('u1') IS NOT NULL AS seen_mark;
SELECT inbox.create('u1', '{"title": "new", "workspaceId": "w"}')->>'title' AS created;

-- Without fields, and with *: Directus's nine keys, nothing else.
SELECT (SELECT array_agg(k) FROM json_object_keys(inbox.directus_read(:'u1', '{}')->'data'->0) AS k) AS keys;
SELECT (SELECT array_agg(k) FROM json_object_keys(inbox.directus_read(:'u1', '{"fields": "*"}')->'data'->0) AS k) AS keys;
SELECT (SELECT array_agg(k) FROM json_object_keys(inbox.directus_read(:'u1', '{"fields": "*,seen_at"}')->'data'->0) AS k) AS keys;

-- Named: seen_at is the native shape's seenAt (the seen mark for old and sale, none for new),
-- as Directus writes a time; expires_at as given; the expired row is not there.
SELECT x->>'subject' AS subject,
       CASE WHEN x->>'seen_at' IS NULL THEN 'unseen'
            WHEN x->>'seen_at' = inbox.directus_time((n->>'seenAt')::timestamptz) THEN 'seenAt'
            ELSE 'WRONG: ' || (x->>'seen_at') END AS seen_at,
       n->>'seenAt' IS NOT NULL AS native_seen,
       x->>'expires_at' AS expires_at
  FROM json_array_elements(inbox.directus_read(:'u1', '{"fields": "id,subject,seen_at,expires_at", "sort": "id"}')->'data') AS x,
       LATERAL (SELECT inbox.get('u1', inbox.public_id((x->>'id')::bigint))::jsonb AS n) AS g;

-- Filters and sorts on them, and the counts: the expired row is in none.
SELECT inbox.directus_read(:'u1', '{"fields": "subject", "filter": {"seen_at": {"_null": true}}}')::text AS unseen;
SELECT inbox.directus_read(:'u1', '{"fields": "subject", "filter": {"seen_at": {"_nnull": true}}, "sort": "id"}')::text AS seen;
SELECT inbox.directus_read(:'u1', '{"fields": "subject", "filter": {"expires_at": {"_nnull": true}}}')::text AS expiring;
SELECT inbox.directus_read(:'u1', '{"fields": "subject", "sort": ["-expires_at", "id"]}')::text AS by_expiry;
SELECT inbox.directus_read(:'u1', '{"aggregate": {"count": "*"}}')::text AS counted;
SELECT inbox.directus_read(:'u1', '{"aggregate": {"count": "*"}, "groupBy": ["expires_at"], "sort": "expires_at"}')::text AS grouped;
-- seen_at is the seen marks applied to a column, not a column: not grouped or aggregated.
SELECT pg_temp.try(format($$SELECT inbox.directus_read(%L, '{"aggregate": {"count": "*"}, "groupBy": ["seen_at"]}')::text$$, :'u1'));
SELECT pg_temp.try(format($$SELECT inbox.directus_read(%L, '{"aggregate": {"max": "seen_at"}}')::text$$, :'u1'));

-- Create: expires_at as a time or null (never); seen_at, like id and timestamp, is pg_inbox's.
SELECT pg_temp.try(format($$SELECT inbox.directus_create(%L, '{"recipient": "u1", "subject": "flash", "expires_at": "2099-06-01T00:00:00Z"}', '{"fields": "subject,expires_at"}')::text$$, :'sender'));
SELECT pg_temp.try(format($$SELECT inbox.directus_create(%L, '{"recipient": "u1", "subject": "forever", "expires_at": null}', '{"fields": "subject,expires_at"}')::text$$, :'sender'));
SELECT pg_temp.try(format($$SELECT inbox.directus_create(%L, '{"recipient": "u1", "subject": "x", "expires_at": 5}', '{}')::text$$, :'sender'));
SELECT pg_temp.try(format($$SELECT inbox.directus_create(%L, '{"recipient": "u1", "subject": "x", "expires_at": "soon"}', '{}')::text$$, :'sender'));
SELECT pg_temp.try(format($$SELECT inbox.directus_create(%L, '{"recipient": "u1", "subject": "x", "seen_at": "2026-01-01T00:00:00Z"}', '{}')::text$$, :'sender'));
SELECT pg_temp.try(format($$SELECT inbox.directus_update_one(%L, (SELECT id::text FROM inbox.notifications WHERE title = 'old'), '{"expires_at": null}', '{}')::text$$, :'u1'));

-- GraphQL: the type has them after Directus's fields, the filter input too, the create input
-- only expires_at; a selection without them answers as Directus would.
SELECT array_agg(f->>'name' ORDER BY o) AS type_fields
  FROM json_array_elements(inbox.graphql('{ __type(name: "directus_notifications") { fields { name } } }')->'data'->'__type'->'fields') WITH ORDINALITY AS t(f, o);
SELECT array_agg(f->>'name' ORDER BY o) AS create_input
  FROM json_array_elements(inbox.graphql('{ __type(name: "create_directus_notifications_input") { inputFields { name } } }')->'data'->'__type'->'inputFields') WITH ORDINALITY AS t(f, o);
SELECT array_agg(f->>'name' ORDER BY o) AS update_input
  FROM json_array_elements(inbox.graphql('{ __type(name: "update_directus_notifications_input") { inputFields { name } } }')->'data'->'__type'->'inputFields') WITH ORDINALITY AS t(f, o);
SELECT array_agg(f->>'name' ORDER BY o) FILTER (WHERE f->>'name' LIKE '%_at%') AS filter_input
  FROM json_array_elements(inbox.graphql('{ __type(name: "directus_notifications_filter") { inputFields { name } } }')->'data'->'__type'->'inputFields') WITH ORDINALITY AS t(f, o);
SELECT inbox.graphql('{ notifications(sort: ["id"], filter: {subject: {_in: ["old", "sale", "new"]}}) { subject expires_at } }', NULL, NULL, :'u1')::text AS selected;
SELECT inbox.graphql('{ notifications(filter: {seen_at: {_null: true}}, sort: ["id"]) { subject } }', NULL, NULL, :'u1')::text AS unseen;
SELECT inbox.graphql('{ notifications(filter: {subject: {_eq: "old"}}) { id timestamp status recipient sender subject message collection item } }', NULL, NULL, :'u1')::jsonb->'data'->'notifications'->0
       = (inbox.directus_read(:'u1', '{"filter": {"subject": {"_eq": "old"}}}')->'data'->0)::jsonb
         || jsonb_build_object('id', inbox.directus_read(:'u1', '{"filter": {"subject": {"_eq": "old"}}}')->'data'->0->>'id') AS same_as_rest;
SELECT inbox.graphql('{ notifications(filter: {expires_at: {_nnull: true}}, sort: ["expires_at"]) { subject expires_at_func { year month } } }', NULL, NULL, :'u1')::text AS with_functions;
SELECT x->>'subject' AS subject, x->>'seen_at' = inbox.directus_time((SELECT seen_before FROM inbox.marks WHERE user_id = 'u1' AND workspace_key = '')) AS seen_at_is_the_mark,
       x->>'expires_at' AS expires_at, x->'seen_at_func'->>'year' = extract(year FROM now())::text AS seen_at_func
  FROM (SELECT inbox.graphql(format('{ notifications_by_id(id: %s) { subject seen_at expires_at seen_at_func { year } } }', (SELECT id FROM inbox.notifications WHERE title = 'sale')), NULL, NULL, :'u1')::jsonb->'data'->'notifications_by_id' AS x) AS r;
SELECT inbox.graphql('mutation { create_notifications_item(data: {recipient: "u1", subject: "graphql", expires_at: "2099-03-01T00:00:00Z"}) { subject expires_at } }', NULL, NULL, :'sender')::text AS created;
SELECT inbox.graphql('mutation { create_notifications_item(data: {recipient: "u1", subject: "graphql", seen_at: "2099-03-01T00:00:00Z"}) { subject } }', NULL, NULL, :'sender')::jsonb->'errors'->0->>'message' AS refused;
