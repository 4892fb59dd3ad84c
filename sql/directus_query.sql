-- The Directus query translator through inbox._directus_read: every filter operator in its JSON
-- and query-string forms, search, sort, paging, fields with related rows, aggregates, meta, and
-- every error with its SQLSTATE (42501 becomes Directus's 403, 22023 its 400).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;

-- u1's notifications 1-5, u2's 6, and u1's soft-deleted 7, created a minute apart.
SELECT inbox.create_many('[
  {"userId": "u1", "title": "Build finished", "body": "main is green", "collection": "builds", "item": "42", "actorId": "ci"},
  {"userId": "u1", "title": "Build failed", "body": "Main is red", "collection": "builds", "item": "43", "actorId": "ci"},
  {"userId": "u1", "title": "Mention", "actorId": "u2"},
  {"userId": "u1", "title": "", "body": "x_y%z", "collection": "articles", "item": "7"},
  {"userId": "u1", "body": "", "collection": "articles", "item": "8", "actorId": "u3"},
  {"userId": "u2", "title": "Other user", "actorId": "u1"},
  {"userId": "u1", "title": "Gone"}]') IS NOT NULL AS created;
SELECT inbox.archive('u1', ARRAY[inbox.public_id(2), inbox.public_id(4)]) IS NOT NULL AS archived;
SELECT inbox.soft_delete('u1', inbox.public_id(7)) IS NOT NULL AS deleted;
UPDATE inbox.notifications SET created_at = '2026-01-01 00:00:00.123456+00'::timestamptz + id * interval '1 minute';

-- The ids a query reads as u1 (or as an admin: every user's).
CREATE FUNCTION pg_temp.ids(query jsonb, admin boolean DEFAULT false) RETURNS text
LANGUAGE sql AS $$
    SELECT COALESCE(string_agg(e->>'id', ',' ORDER BY o), '-')
      FROM json_array_elements(inbox._directus_read(CASE WHEN admin THEN NULL ELSE 'u1' END, NULL, 'u1', query)->'data')
           WITH ORDINALITY AS a(e, o)
$$;
-- The body a query answers as u1, or its error as SQLSTATE and message.
CREATE FUNCTION pg_temp.read(query jsonb, admin boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN inbox._directus_read(CASE WHEN admin THEN NULL ELSE 'u1' END, NULL, 'u1', query)::text;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- The whole object, in Directus's field order and bytes.
SELECT pg_temp.read('{"filter": {"id": {"_eq": 1}}}');
SELECT pg_temp.read('{"filter": {"id": {"_eq": 5}}}');
-- A projection renders the same values as inbox.to_directus, field by field.
SELECT bool_and(w.e::jsonb = p.e::jsonb) AS projection_matches_to_directus, count(*)
  FROM json_array_elements(inbox._directus_read(NULL, NULL, 'u1', '{}')->'data') WITH ORDINALITY AS w(e, o)
  JOIN json_array_elements(inbox._directus_read(NULL, NULL, 'u1',
       '{"fields": "item,collection,message,subject,sender,recipient,status,timestamp,id"}')->'data') WITH ORDINALITY AS p(e, o)
    USING (o);

-- Default: the caller's active rows, id ascending, at most 100; an admin reads everyone's.
SELECT pg_temp.ids('{}'), pg_temp.ids('{}', true);

-- fields: requested order, *, related rows (no relation registered: {"id": value} only).
SELECT pg_temp.read('{"fields": "subject,id,status", "limit": 2}');
SELECT pg_temp.read('{"fields": ["id", "sender.id", "recipient.*"], "limit": 3}');
SELECT pg_temp.read('{"fields": "id,*", "limit": 1}') = pg_temp.read('{"limit": 1}') AS star_is_whole;

-- Comparison operators on every kind of field, JSON and query-string values alike.
SELECT pg_temp.ids('{"filter": {"id": {"_eq": 3}}}'), pg_temp.ids('{"filter[id][_eq]": "3"}');
SELECT pg_temp.ids('{"filter": {"id": {"_neq": 3}}}'), pg_temp.ids('{"filter[id][_lt]": "3"}'),
       pg_temp.ids('{"filter[id][_lte]": "3"}'), pg_temp.ids('{"filter[id][_gt]": "3"}'),
       pg_temp.ids('{"filter[id][_gte]": "3"}');
SELECT pg_temp.ids('{"filter": {"timestamp": {"_gt": "2026-01-01T00:03:00Z"}}}'),
       pg_temp.ids('{"filter": {"timestamp": {"_lte": "2026-01-01T00:02:00.123456Z"}}}'),
       pg_temp.ids('{"filter": {"timestamp": {"_lt": "$NOW"}}}');
SELECT pg_temp.ids('{"filter": {"status": {"_eq": "archived"}}}'), pg_temp.ids('{"filter[status][_neq]": "archived"}'),
       pg_temp.ids('{"filter": {"status": {"_in": ["inbox"]}}}'), pg_temp.ids('{"filter[status][_nin]": "inbox,archived"}');
SELECT pg_temp.ids('{"filter": {"recipient": {"_eq": "$CURRENT_USER"}}}', true),
       pg_temp.ids('{"filter": {"recipient": {"id": {"_neq": "$CURRENT_USER"}}}}', true);
-- _neq and the other negations skip null values, as SQL (and so Directus) does.
SELECT pg_temp.ids('{"filter": {"sender": {"_neq": "ci"}}}'), pg_temp.ids('{"filter": {"sender": {"_nin": ["ci"]}}}'),
       pg_temp.ids('{"filter": {"message": {"_ncontains": "green"}}}');
-- _in / _nin: arrays or comma-separated strings; an empty list matches nothing / everything.
SELECT pg_temp.ids('{"filter": {"id": {"_in": [1, 5, 6]}}}'), pg_temp.ids('{"filter[id][_in]": "2,4"}'),
       pg_temp.ids('{"filter": {"id": {"_in": []}}}'), pg_temp.ids('{"filter": {"id": {"_nin": []}}}'),
       pg_temp.ids('{"filter": {"item": {"_in": [42, "7"]}}}');
-- _null / _nnull (true or "true"; false inverts); status is never null.
SELECT pg_temp.ids('{"filter": {"message": {"_null": true}}}'), pg_temp.ids('{"filter[message][_nnull]": "true"}'),
       pg_temp.ids('{"filter": {"message": {"_null": false}}}'), pg_temp.ids('{"filter": {"status": {"_null": true}}}'),
       pg_temp.ids('{"filter": {"subject": {"_eq": null}}}');
-- String operators: case-sensitive, case-insensitive, negated; LIKE wildcards are literal.
SELECT pg_temp.ids('{"filter": {"message": {"_contains": "Main"}}}'), pg_temp.ids('{"filter": {"message": {"_icontains": "main"}}}'),
       pg_temp.ids('{"filter": {"message": {"_nicontains": "MAIN"}}}'), pg_temp.ids('{"filter": {"message": {"_contains": "_y%"}}}');
SELECT pg_temp.ids('{"filter": {"subject": {"_starts_with": "Build"}}}'), pg_temp.ids('{"filter": {"subject": {"_nstarts_with": "Build"}}}'),
       pg_temp.ids('{"filter": {"subject": {"_istarts_with": "build f"}}}'), pg_temp.ids('{"filter": {"subject": {"_nistarts_with": "BUILD"}}}');
SELECT pg_temp.ids('{"filter": {"subject": {"_ends_with": "ed"}}}'), pg_temp.ids('{"filter": {"subject": {"_nends_with": "ed"}}}'),
       pg_temp.ids('{"filter": {"subject": {"_iends_with": "ED"}}}'), pg_temp.ids('{"filter": {"subject": {"_niends_with": "ED"}}}');
-- _between / _nbetween: [low, high] or "low,high", bounds included.
SELECT pg_temp.ids('{"filter": {"id": {"_between": [2, 4]}}}'), pg_temp.ids('{"filter[id][_nbetween]": "2,4"}'),
       pg_temp.ids('{"filter": {"timestamp": {"_between": ["2026-01-01T00:02:00Z", "2026-01-01T00:04:00Z"]}}}');
-- _empty: null or ""; _nempty: neither.
SELECT pg_temp.ids('{"filter": {"subject": {"_empty": true}}}'), pg_temp.ids('{"filter": {"subject": {"_nempty": true}}}'),
       pg_temp.ids('{"filter": {"message": {"_empty": "false"}}}');
-- Several operators on one field, _and / _or, nested, in JSON and in brackets.
SELECT pg_temp.ids('{"filter": {"id": {"_gt": 1, "_lt": 5}, "status": {"_eq": "inbox"}}}');
SELECT pg_temp.ids('{"filter": {"_or": [{"id": {"_eq": 1}}, {"_and": [{"status": {"_eq": "archived"}}, {"collection": {"_eq": "articles"}}]}]}}');
SELECT pg_temp.ids('{"filter[_or][0][id][_eq]": "1", "filter[_or][1][subject][_eq]": "Mention"}');
-- List indexes in any order, with gaps (query strings arrive sorted: [10] before [2]).
SELECT pg_temp.ids('{"filter[_or][10][id][_eq]": "5", "filter[_or][2][id][_eq]": "1", "fields[]": ["id"]}');
SELECT pg_temp.ids('{"filter": "{\"_and\":[{\"status\":{\"_eq\":\"archived\"}},{\"id\":{\"_gt\":2}}]}"}');
SELECT pg_temp.ids('{"filter": {"_and": []}}'), pg_temp.ids('{"filter": {"_or": []}}'), pg_temp.ids('{"filter": {}}');

-- search: case-insensitive over subject, message, collection, item; a number also finds its id.
SELECT pg_temp.ids('{"search": "BUILD"}'), pg_temp.ids('{"search": "articles"}'), pg_temp.ids('{"search": "3"}'),
       pg_temp.ids('{"search": "nothing like it"}');

-- sort: keys in order, - for descending, id breaks ties; status sorts by its text.
SELECT pg_temp.ids('{"sort": "-id"}'), pg_temp.ids('{"sort": ["-timestamp"]}'), pg_temp.ids('{"sort": "collection,-id"}'),
       pg_temp.ids('{"sort": "status"}'), pg_temp.ids('{"sort": "-status,-id"}'), pg_temp.ids('{"sort[]": ["-sender", "id"]}');
-- Paging: limit (-1: all), offset, page.
SELECT pg_temp.ids('{"limit": 2}'), pg_temp.ids('{"limit": "2", "offset": "3"}'), pg_temp.ids('{"limit": 2, "page": 2}'),
       pg_temp.ids('{"limit": 2, "page": "3"}'), pg_temp.ids('{"limit": -1}'), pg_temp.ids('{"limit": 0}');

-- meta: total_count ignores the filter, filter_count does not.
SELECT pg_temp.read('{"fields": "id", "filter": {"status": {"_eq": "archived"}}, "meta": "*"}');
SELECT pg_temp.read('{"fields": "id", "search": "build", "limit": 1, "meta": "filter_count"}');
SELECT pg_temp.read('{"fields": "id", "limit": 0, "meta": ["total_count"]}', true);
SELECT pg_temp.read('{"fields": "id", "limit": 0, "meta": "[\"filter_count\",\"total_count\"]"}');

-- Aggregates: counts as strings (as Directus answers them), min/max as values, by groups.
SELECT pg_temp.read('{"aggregate": {"count": "*"}}');
SELECT pg_temp.read('{"aggregate[count]": "*", "groupBy[]": "status"}');
SELECT pg_temp.read('{"aggregate": "{\"count\":[\"sender\",\"message\"],\"countDistinct\":\"sender\"}"}');
SELECT pg_temp.read('{"aggregate": {"sum": "id", "avg": ["id"], "min": "id,timestamp", "max": "subject"}}');
SELECT pg_temp.read('{"aggregate": {"countAll": true, "max": "id"}, "groupBy": "collection,status", "sort": "-collection"}');
SELECT pg_temp.read('{"aggregate": {"count": "*"}, "groupBy": ["recipient"], "limit": 1, "page": 2}', true);
SELECT pg_temp.read('{"groupBy": "status", "filter": {"id": {"_gt": 3}}}');

-- Relations: recipient and sender lead to the table registered over their column.
CREATE SCHEMA app;
CREATE TABLE app.users (id text PRIMARY KEY, email text, active boolean, score int);
INSERT INTO app.users VALUES ('u1', 'one@example.com', true, 10), ('u2', 'two@example.com', false, 20),
                             ('ci', 'ci@example.com', true, NULL);
SELECT inbox.define_relation('recipient', 'userId', 'app.users', 'id', ARRAY['id', 'email', 'active']::name[]) IS NOT NULL AS defined;
SELECT inbox.define_relation('actor', 'actorId', 'app.users') IS NOT NULL AS defined;
SELECT pg_temp.read('{"fields": "id,recipient.email,recipient.id,sender.email", "limit": 3}');
SELECT pg_temp.read('{"fields": "id,recipient.*", "limit": 1}');
SELECT pg_temp.read('{"fields": "id,sender.*", "filter": {"id": {"_in": [3, 5]}}}');
SELECT pg_temp.ids('{"filter": {"recipient": {"email": {"_ends_with": "@example.com"}, "active": {"_eq": "true"}}}}', true),
       pg_temp.ids('{"filter": {"sender": {"score": {"_gte": 15}}}}', true),
       pg_temp.ids('{"filter": {"recipient": {"id": {"_eq": "$CURRENT_USER"}}}}', true);
SELECT pg_temp.read('{"fields": "recipient.score"}');
SELECT pg_temp.read('{"filter": {"recipient": {"score": {"_eq": 1}}}}');
SELECT inbox.define_relation('sender', 'actorId', 'app.users', 'id', ARRAY['email']::name[]) IS NOT NULL AS defined;
SELECT pg_temp.read('{"fields": "id,sender.*", "filter": {"id": {"_eq": 1}}}');

-- Errors: fields that are not there are 42501 (Directus's 403), everything else 22023.
SELECT pg_temp.read('{"filter": {"nonexistent": {"_eq": 1}}}');
SELECT pg_temp.read('{"filter[status][_bogus]": "inbox"}');
SELECT pg_temp.read('{"filter": {"id": {"_contains": "1"}}}');
SELECT pg_temp.read('{"filter": {"status": {"_gt": "inbox"}}}');
SELECT pg_temp.read('{"filter": {"status": {"_eq": "read"}}}');
SELECT pg_temp.read('{"filter": {"id": {"_eq": "abc"}}}');
SELECT pg_temp.read('{"filter": {"timestamp": {"_gt": "yesterday"}}}');
SELECT pg_temp.read('{"filter": {"id": {"_between": [1]}}}');
SELECT pg_temp.read('{"filter": {"id": {"_in": [1, null]}}}');
SELECT pg_temp.read('{"filter": {"message": {"_null": "maybe"}}}');
SELECT pg_temp.read('{"filter": {"id": 1}}');
SELECT pg_temp.read('{"filter": {"id": {}}}');
SELECT pg_temp.read('{"filter": {"_and": {"id": {"_eq": 1}}}}');
SELECT pg_temp.read('{"filter": {"subject": {"email": {"_eq": 1}}}}');
SELECT pg_temp.read('{"filter": "{\"status\":"}');
SELECT pg_temp.read('{"filter": [1]}');
SELECT pg_temp.read(('{"filter": ' || repeat('{"_and": [', 17) || '{}' || repeat(']}', 17) || '}')::jsonb);
SELECT pg_temp.read(('{"filter": {"_or": [' || (SELECT string_agg('{"id": {"_eq": ' || i || '}}', ',') FROM generate_series(1, 201) i) || ']}}')::jsonb);
SELECT pg_temp.read('{"sort": "nonexistent"}');
SELECT pg_temp.read('{"sort": "recipient.email"}');
SELECT pg_temp.read('{"sort": 5}');
SELECT pg_temp.read('{"limit": "abc"}');
SELECT pg_temp.read('{"limit": -2}');
SELECT pg_temp.read('{"offset": -1}');
SELECT pg_temp.read('{"page": 0}');
SELECT pg_temp.read('{"fields": "nonexistent"}');
SELECT pg_temp.read('{"fields": "subject.id"}');
SELECT pg_temp.read('{"fields": "recipient.role.name"}');
SELECT pg_temp.read('{"aggregate": {"median": "id"}}');
SELECT pg_temp.read('{"aggregate": {"sum": "subject"}}');
SELECT pg_temp.read('{"aggregate": {"max": "*"}}');
SELECT pg_temp.read('{"aggregate": "count"}');
SELECT pg_temp.read('{"groupBy": "nonexistent"}');
SELECT pg_temp.read('{"aggregate": {"count": "*"}, "groupBy": "status", "sort": "id"}');
SELECT pg_temp.read('{"meta": "everything"}');
SELECT pg_temp.read('{"deep": {}}');
SELECT pg_temp.read('{"filters": {}}');
SELECT pg_temp.read('{"filter": {}, "filter[id][_eq]": "1"}');
SELECT pg_temp.read('{"filter[_and][0][id][_eq]": "1", "filter[_and][x][id][_eq]": "2"}');
SELECT pg_temp.read('{"filter[id][_eq]": "1", "filter[id][_eq][0]": "2"}');
SELECT pg_temp.read('[]');
