SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;

-- inbox.graphql(): every query and mutation of the Directus notifications seed
-- (001_d0f710f2531dada4.txt), run as written, then the requests Directus 11.3.5 was recorded
-- answering (/work/shared/reference/directus-11.3.5/gql_*), then permissions.

-- 810 notifications (ids 1..810): odd ids for u1, even ids for u2; every fifth archived.
SELECT pg_catalog.count(*) AS created FROM pg_catalog.jsonb_array_elements(inbox.create_many((
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'userId', CASE WHEN i % 2 = 1 THEN 'u1' ELSE 'u2' END,
               'title', 'Seed notification #' || i,
               'body', 'Message ' || i,
               'actorId', 'sender-' || (i % 3),
               'collection', 'articles',
               'item', (i % 100)::text) ORDER BY i)
      FROM pg_catalog.generate_series(1, 810) AS i)));
SELECT pg_catalog.count(*) AS archived
  FROM (SELECT inbox.archive(user_id, inbox.public_id(id))
          FROM inbox.notifications WHERE id % 5 = 0 ORDER BY id) AS a;

SELECT inbox.create_token('root', ARRAY['admin']) AS admin \gset
SELECT inbox.create_token('u1', ARRAY['notifications:read', 'notifications:write']) AS u1 \gset
SELECT inbox.create_token('sender-app', ARRAY['notifications:send']) AS sender \gset

-- List Notifications (an admin sees everyone's; Directus's default limit is 100).
SELECT pg_catalog.json_array_length(inbox.graphql($$query {
	notifications {
		id
		recipient
		subject
	}
}$$, NULL, NULL, :'admin')->'data'->'notifications') AS listed;
SELECT inbox.graphql($$query {
	notifications {
		id
		recipient
		subject
	}
}$$, NULL, NULL, :'admin')::jsonb->'data'->'notifications'->0 AS first;

-- Retrieve a notification: 42 exists.
SELECT inbox.graphql($$query {
	notifications_by_id(id: 42) {
		id
		sender
		recipient
		message
		subject
	}
}$$, NULL, NULL, :'admin');

-- Create a Notification.
SELECT inbox.graphql($$mutation {
	create_notifications_item(data: { recipient: "410b5772-e63f-4ae6-9ea2-39c3a31bd6ca", subject: "Hi there!" }) {
		id
		recipient
	}
}$$, NULL, NULL, :'admin');

-- Create Multiple Notifications (no subject: the seed's own example leaves it out).
SELECT inbox.graphql($$mutation {
	create_notifications_items(
		data: [
			{
				collection: "directus_files"
				recipient: "410b5772-e63f-4ae6-9ea2-39c3a31bd6ca"
				message: "Hi there! You should check out these files"
			}
			{
				collection: "articles"
				recipient: "410b5772-e63f-4ae6-9ea2-39c3a31bd6ca"
				message: "Hi there! You should check out these articles"
			}
		]
	) {
		id
		recipient
	}
}$$, NULL, NULL, :'admin');
SELECT id, user_id, title, body, collection FROM inbox.notifications WHERE id > 810 ORDER BY id;

-- Update a Notification.
SELECT inbox.graphql($$mutation {
	update_notifications_item(id: 32, data: { message: "This is my updated notification" }) {
		id
		message
	}
}$$, NULL, NULL, :'admin');

-- Update Multiple Notifications.
SELECT inbox.graphql($$mutation {
	update_notifications_items(ids: [15, 64], data: { message: "Updated message!" }) {
		id
		recipient
	}
}$$, NULL, NULL, :'admin');
SELECT id, body FROM inbox.notifications WHERE id IN (15, 32, 64) ORDER BY id;

-- Delete a Notification (Directus's delete is pg_inbox's soft delete).
SELECT inbox.graphql($$mutation {
	delete_notifications_item(id: 32) {
		id
	}
}$$, NULL, NULL, :'admin');

-- Delete Multiple Notifications.
SELECT inbox.graphql($$mutation {
	delete_notifications_items(ids: [15, 251, 810]) {
		ids
	}
}$$, NULL, NULL, :'admin');
SELECT id, deleted_at IS NOT NULL AS deleted FROM inbox.notifications
 WHERE id IN (15, 32, 251, 810, 811) ORDER BY id;

-- The deleted ones are gone from every read.
SELECT inbox.graphql($$query { notifications_by_id(id: 32) { id } }$$, NULL, NULL, :'admin');

-- ---------------------------------------------------------------------------------------------
-- The recorded Directus requests.
-- ---------------------------------------------------------------------------------------------

-- gql_list_filter (timestamps left out of the output: they are the time of this run)
SELECT inbox.graphql($$query { notifications(filter: {status: {_eq: "inbox"}}, sort: ["-timestamp"], limit: 3) { id status subject message collection item recipient sender } }$$,
                     NULL, NULL, :'admin');
SELECT pg_catalog.count(*) AS iso_timestamps
  FROM pg_catalog.json_array_elements(inbox.graphql($$query { notifications(limit: 5) { timestamp } }$$,
                                                   NULL, NULL, :'admin')->'data'->'notifications') AS e
 WHERE e->>'timestamp' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$';

-- gql_list_filter_vars
SELECT inbox.graphql($$query ($status: String, $limit: Int) { notifications(filter: {_and: [{status: {_eq: $status}}, {id: {_lte: 100}}]}, sort: ["id"], limit: $limit, offset: 1) { id status subject } }$$,
                     '{"status": "archived", "limit": 3}', NULL, :'admin');

-- gql_by_id
SELECT inbox.graphql($$query { notifications_by_id(id: 500) { id status subject message collection item recipient sender } }$$,
                     NULL, NULL, :'admin');

-- gql_aggregated: countAll is counted (Directus 11.3.5 answers null there)
SELECT inbox.graphql($$query { notifications_aggregated(groupBy: ["status"]) { group countAll count { id } } }$$,
                     NULL, NULL, :'admin');

-- gql_create_one, with the sender: Directus saves the row then fails; this answers it
SELECT inbox.graphql($$mutation { create_notifications_item(data: {recipient: "u3", sender: "u1", subject: "GQL sample create one", message: "via **graphql**", collection: "articles", item: "7"}) { id status subject message collection item recipient sender } }$$,
                     NULL, NULL, :'admin');

-- gql_create_many with variables (Directus 11.3.5 answers FORBIDDEN to its own admin)
SELECT inbox.graphql($$mutation ($data: [create_directus_notifications_input!]) { create_notifications_items(data: $data) { id subject status } }$$,
                     '{"data": [{"recipient": "u3", "subject": "GQL many A"}, {"recipient": "u3", "subject": "GQL many B", "status": "archived"}, {"recipient": "u3", "subject": "GQL many C"}]}',
                     NULL, :'admin');

-- gql_update_one, gql_update_many, gql_update_batch
SELECT inbox.graphql($$mutation { update_notifications_item(id: 814, data: {status: "archived"}) { id status subject } }$$,
                     NULL, NULL, :'admin');
SELECT inbox.graphql($$mutation { update_notifications_items(ids: [815, 816], data: {status: "archived", message: "bulk"}) { id status message } }$$,
                     NULL, NULL, :'admin');
SELECT inbox.graphql($$mutation { update_notifications_batch(data: [{id: 815, subject: "batch A"}, {id: 817, status: "archived"}]) { id status subject } }$$,
                     NULL, NULL, :'admin');

-- gql_delete_one, gql_delete_many
SELECT inbox.graphql($$mutation { delete_notifications_item(id: 814) { id } }$$, NULL, NULL, :'admin');
SELECT inbox.graphql($$mutation { delete_notifications_items(ids: [815, 816, 817]) { ids } }$$,
                     NULL, NULL, :'admin');

-- gql_err_by_id_missing: null, no error
SELECT inbox.graphql($$query { notifications_by_id(id: 99999999) { id subject } }$$, NULL, NULL, :'admin');

-- gql_err_update_missing and a missing delete: FORBIDDEN, as Directus answers a key it cannot
-- touch (this API does not pretend a missing notification was deleted)
SELECT inbox.graphql($$mutation { update_notifications_item(id: 99999999, data: {status: "archived"}) { id } }$$,
                     NULL, NULL, :'admin');
SELECT inbox.graphql($$mutation { delete_notifications_item(id: 99999999) { id } }$$, NULL, NULL, :'admin');

-- gql_err_invalid_filter_field, gql_err_invalid_filter_op, gql_err_unknown_field, gql_err_syntax:
-- byte for byte as recorded
SELECT inbox.graphql($$query { notifications(filter: {nonexistent: {_eq: "x"}}, limit: 1) { id } }$$, NULL, NULL, :'admin');
SELECT inbox.graphql($$query { notifications(filter: {status: {_bogus: "x"}}, limit: 1) { id } }$$, NULL, NULL, :'admin');
SELECT inbox.graphql($$query { notifications(limit: 1) { id nonexistent } }$$, NULL, NULL, :'admin');
SELECT inbox.graphql($$query { notifications(limit: 1) { id $$, NULL, NULL, :'admin');

-- gql_err_unauthenticated: no token is Directus's public role, which may not read notifications
SELECT inbox.graphql($$query { notifications(limit: 1) { id } }$$);

-- gql_err_bad_token: 28000, which the server answers 401 INVALID_CREDENTIALS
SELECT inbox.graphql($$query { notifications(limit: 1) { id } }$$, NULL, NULL, 'not-a-valid-token');

-- ---------------------------------------------------------------------------------------------
-- Permissions as Directus gives a plain user: read own, change own status.
-- ---------------------------------------------------------------------------------------------

SELECT inbox.graphql($$query { notifications(limit: 3, sort: ["id"]) { id recipient } }$$, NULL, NULL, :'u1');
SELECT inbox.graphql($$query { notifications_aggregated { countAll } }$$, NULL, NULL, :'u1');
-- another user's notification does not exist for u1
SELECT inbox.graphql($$query { notifications_by_id(id: 2) { id } }$$, NULL, NULL, :'u1');
SELECT inbox.graphql($$mutation { update_notifications_item(id: 2, data: {status: "archived"}) { id } }$$, NULL, NULL, :'u1');
-- own status: yes; own subject: no; create and delete: no
SELECT inbox.graphql($$mutation { update_notifications_item(id: 1, data: {status: "archived"}) { id status } }$$, NULL, NULL, :'u1');
SELECT inbox.graphql($$mutation { update_notifications_item(id: 1, data: {subject: "mine now"}) { id subject } }$$, NULL, NULL, :'u1');
SELECT inbox.graphql($$mutation { create_notifications_item(data: {recipient: "u1", subject: "x"}) { id } }$$, NULL, NULL, :'u1');
SELECT inbox.graphql($$mutation { delete_notifications_item(id: 1) { id } }$$, NULL, NULL, :'u1');
-- a notifications:send token creates for anyone and gets back what it created, but may not list
SELECT inbox.graphql($$mutation { create_notifications_item(data: {recipient: "u9", subject: "from the app"}) { id recipient subject } }$$,
                     NULL, NULL, :'sender');
SELECT inbox.graphql($$query { notifications { id } }$$, NULL, NULL, :'sender');

-- Mutations run in order; one that fails is rolled back alone and the others keep their data.
SELECT inbox.graphql($$mutation {
  ok: update_notifications_item(id: 3, data: {status: "archived"}) { id status }
  bad: update_notifications_item(id: 4, data: {status: "archived"}) { id status }
  bad_value: update_notifications_item(id: 7, data: {status: "deleted"}) { id status }
  again: update_notifications_item(id: 3, data: {status: "inbox"}) { id status }
}$$, NULL, NULL, :'u1');
SELECT id, archived_at IS NOT NULL AS archived FROM inbox.notifications WHERE id IN (3, 4, 7) ORDER BY id;

-- Values the Directus API refuses become field errors naming the value.
SELECT inbox.graphql($$mutation { create_notifications_item(data: {subject: "nobody"}) { id } }$$, NULL, NULL, :'admin');
SELECT inbox.graphql($$mutation { create_notifications_item(data: {recipient: "u1", id: 5}) { id } }$$, NULL, NULL, :'admin');
SELECT inbox.graphql($$mutation { create_notifications_item(data: {recipient: "u1", subject: "$$ || pg_catalog.repeat('x', 1001) || $$"}) { id } }$$, NULL, NULL, :'admin');
SELECT inbox.graphql($$query { notifications(filter: {id: {_eq: true}}) { id } }$$, NULL, NULL, :'admin');
-- Directus's timestamp_func filters are in the schema, not in the translator: a clear error.
SELECT inbox.graphql($$query { notifications(filter: {_or: [{id: {_eq: 1}}, {timestamp_func: {year: {_eq: 2026}}}]}) { id } }$$, NULL, NULL, :'admin');
-- Bounds on execution: at most 50 root fields (each notification field is a statement), at
-- most 200000 field values in a response.
SELECT inbox.graphql('query { ' ||
       (SELECT pg_catalog.string_agg(pg_catalog.format('a%s: notifications(limit: 1) { id }', i), ' ')
          FROM pg_catalog.generate_series(1, 51) AS i) || ' }', NULL, NULL, :'admin');
SELECT inbox.graphql('query { ' ||
       (SELECT pg_catalog.string_agg(pg_catalog.format('s%s: __schema { %s }', i,
                  (SELECT pg_catalog.string_agg(pg_catalog.format('t%s: types { name fields { name description type { name kind } } }', j), ' ')
                     FROM pg_catalog.generate_series(1, 20) AS j)), ' ')
          FROM pg_catalog.generate_series(1, 40) AS i) || ' }')::jsonb->'errors' AS too_large;
