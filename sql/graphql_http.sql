SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;

-- inbox.graphql_http(): /graphql/system in one call, the request as the server received it
-- (the POST body, or the GET query parameters), the response with its HTTP status. And the
-- jsonb bridge at the entry points: a JSON number beyond a double's range is 22003, naming it.

SELECT pg_catalog.count(*) AS created FROM pg_catalog.jsonb_array_elements(inbox.create_many(
    '[{"userId": "u1", "title": "first"}, {"userId": "u1", "title": "second"},
      {"userId": "u2", "title": "someone else''s"}]'));
SELECT inbox.create_token('u1', ARRAY['notifications:read']) AS u1 \gset
SELECT inbox.create_token('app', ARRAY['notifications:send']) AS sender \gset
SELECT pg_catalog.min(id) AS first_id FROM inbox.notifications WHERE user_id = 'u1' \gset

-- The status is the one the response's shape gives it (what the server used to work out from
-- the response): 200 with data, 405 for METHOD_NOT_ALLOWED, else 400.
CREATE TEMPORARY TABLE requests (n int, method text, token text, request jsonb);
INSERT INTO requests VALUES
    (1, 'POST', :'u1', '{"query": "{ notifications(sort: [\"id\"]) { subject } }"}'),
    (2, 'POST', :'u1', pg_catalog.jsonb_build_object(
        'query', 'query One($id: ID!) { notifications_by_id(id: $id) { subject } }',
        'variables', pg_catalog.jsonb_build_object('id', :'first_id'), 'operationName', 'One')),
    (3, 'POST', :'u1', '{"query": "{ nonexistent }"}'),
    (4, 'POST', :'u1', '{"query": "{ notifications { "}'),
    (5, 'POST', :'u1', '{}'),
    (6, 'POST', :'u1', '[1, 2]'),
    (7, 'POST', :'u1', '{"query": "{ __typename }", "variables": [1]}'),
    (8, 'POST', :'u1', '{"query": "{ __typename }", "variables": null, "operationName": null}'),
    (9, 'POST', :'u1', '{"query": "query A { __typename } query B { __typename }", "operationName": "C"}'),
    (10, 'POST', NULL, '{"query": "{ notifications { id } }"}'),
    (11, 'POST', :'sender', '{"query": "{ notifications { id } n: __typename }"}'),
    (12, 'POST', :'u1', '{"query": "subscription { notifications { id } }"}'),
    (13, 'GET', :'u1', '{"query": "mutation { delete_notifications_item(id: \"1\") { id } }"}'),
    (14, 'GET', :'u1', pg_catalog.jsonb_build_object(
        'query', 'query ($id: ID!) { notifications_by_id(id: $id) { subject } }',
        'variables', '{"id": "' || :'first_id' || '"}')),
    (15, 'GET', :'u1', '{"query": "{ __typename }", "variables": "null"}'),
    (16, NULL, :'u1', '{"query": "{ notifications_by_id(id: \"x\") { id } }"}');
SELECT r.n, r.method, h.status,
       h.status = CASE WHEN pg_catalog.jsonb_typeof(h.body::jsonb) = 'object' AND h.body::jsonb ? 'data' THEN 200
                       WHEN h.body::jsonb #>> '{errors,0,extensions,code}' = 'METHOD_NOT_ALLOWED' THEN 405
                       ELSE 400 END AS status_fits,
       h.body
  FROM requests r, inbox.graphql_http(r.token, r.request, r.method) AS h
 ORDER BY r.n;

-- The same answer as inbox.graphql for the same request.
SELECT h.body = inbox.graphql('{ notifications(sort: ["id"]) { id subject } }', NULL, NULL, :'u1')::text AS same
  FROM inbox.graphql_http(:'u1', '{"query": "{ notifications(sort: [\"id\"]) { id subject } }"}') AS h;

-- What stays an SQL error: a token that does not authenticate (HTTP 401), GET variables that
-- are not JSON (22P02, HTTP 400).
SELECT * FROM inbox.graphql_http('pgi_nope', '{"query": "{ __typename }"}');
SELECT * FROM inbox.graphql_http(:'u1', '{"query": "{ __typename }", "variables": "{not json"}', 'GET');
-- A request that is SQL NULL has no query.
SELECT * FROM inbox.graphql_http(:'u1', NULL);

-- A NUL character in a GraphQL string cannot reach PostgreSQL as text: the field fails as the
-- REST route's jsonb argument used to refuse it.
SELECT inbox.graphql($$query { notifications(filter: {subject: {_eq: "a\u0000b"}}) { id } }$$, NULL, NULL, :'u1');

-- A JSON number beyond a double's range: 22003, naming where it is (it used to be XX000).
SELECT inbox.graphql('query ($n: Int) { notifications(limit: $n) { id } }', '{"n": 1e400}', NULL, :'u1');
SELECT inbox.graphql('query ($f: [String]) { notifications(sort: $f) { id } }', '{"f": ["id", -1e400]}', NULL, :'u1');
SELECT * FROM inbox.graphql_http(:'u1', '{"query": "{ __typename }", "variables": "{\"n\": 1e400}"}', 'GET');
SELECT inbox.list('u1', '{"limit": 1e400}');
SELECT inbox.list('u1', '{"filter": {"AND": [{"data": {"contains": {"n": 1e400}}}]}}');
SELECT inbox.groups('u1', '{"limit": -1e400}');
SELECT inbox.directus_read(:'u1', '{"limit": 1e400}');
-- Numbers within range read as nlohmann::json::parse read their text before: a big integer
-- (a double), a fraction (not an integer), a tiny number (zero).
SELECT inbox.graphql('query ($n: Int) { notifications(limit: $n) { id } }', '{"n": 18446744073709551616}', NULL, :'u1');
SELECT pg_catalog.jsonb_array_length(inbox.list('u1', '{"limit": 2.0}')->'data') AS two;
SELECT pg_catalog.jsonb_array_length(inbox.list('u1', '{"limit": 1e-400}')->'data') AS underflow;
