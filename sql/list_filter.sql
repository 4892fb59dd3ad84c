-- inbox.list filters: every operator on every kind of field, AND/OR/NOT, the data (jsonb)
-- operators, and every filter error with its path.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
-- Helpers live in this test's own schema (and only it is on the search_path: the engine
-- qualifies every name it uses).
DROP SCHEMA IF EXISTS test_list_filter CASCADE;
CREATE SCHEMA test_list_filter;
SET search_path = test_list_filter;
RESET client_min_messages;

INSERT INTO inbox.notifications
    (user_id, title, body, type, workspace_id, actor_id, collection, item, group_key, data,
     read_at, archived_at, deleted_at, created_at, updated_at)
VALUES
    ('u1', 'alpha',   'Build OK',     'info',         'w1', 'ci',    'builds', '1', 'g1',
     '{"n": 1, "s": "abc", "tags": ["x"], "nested": {"k": true}}',
     '2024-01-10 10:00+00', NULL, NULL, '2024-01-01 00:00+00', '2024-01-01 00:00+00'),
    ('u1', 'Beta',    'build failed', 'warning',      'w1', 'ci',    'builds', '2', NULL,
     '{"n": 2, "s": "abd", "flag": false}',
     NULL, NULL, NULL, '2024-01-02 00:00+00', '2024-01-03 00:00+00'),
    ('u1', 'gamma_1', NULL,           'mention',      'w2', 'bob',   NULL,     NULL, 'g1',
     '{"n": 10.5, "s": null, "nested": {"k": false}}',
     NULL, '2024-01-05 00:00+00', NULL, '2024-01-03 00:00+00', '2024-01-03 00:00+00'),
    ('u1', 'delta%',  NULL,           'info',         NULL, NULL,    NULL,     NULL, NULL,
     '{}',
     '2024-01-04 12:00:00.123456+00', NULL, NULL, '2024-01-04 00:00+00', '2024-01-04 00:00+00'),
    ('u1', NULL,      'no title',     'admin.report', 'w2', 'alice', 'docs',   '9', 'g2',
     '{"n": "7", "tags": ["x", "y"]}',
     NULL, NULL, NULL, '2024-01-05 00:00+00', '2024-01-05 00:00+00'),
    ('u1', 'epsilon', 'gone',         'info',         'w1', 'alice', NULL,     NULL, NULL,
     '{"n": 3}',
     NULL, NULL, '2024-01-07 00:00+00', '2024-01-06 00:00+00', '2024-01-06 00:00+00'),
    ('u2', 'other',   'someone else', 'info',         'w1', 'ci',    NULL,     NULL, NULL,
     '{"n": 1}',
     NULL, NULL, NULL, '2024-01-01 00:00+00', '2024-01-01 00:00+00');

-- Titles of u1's matching rows, oldest first; params beyond the filter can be added.
CREATE FUNCTION f(filter jsonb, extra jsonb DEFAULT '{}') RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(coalesce(e->>'title', '(null)'), ',' ORDER BY o), '(none)')
      FROM jsonb_array_elements(inbox.list('u1', jsonb_build_object(
               'filter', filter, 'orderBy', '[{"createdAt": "asc"}]'::jsonb) || extra)->'data')
           WITH ORDINALITY AS a(e, o)
$$;

-- strings: every operator
SELECT f('{"title": "alpha"}') AS bare_value_is_eq;
SELECT f('{"title": {"eq": "alpha"}}') AS eq;
SELECT f('{"title": {"neq": "alpha"}}') AS neq_includes_null;
SELECT f('{"title": {"in": ["alpha", "Beta", "zeta"]}}') AS in_;
SELECT f('{"title": {"notIn": ["alpha", "Beta"]}}') AS not_in_includes_null;
SELECT f('{"title": {"lt": "b"}}') AS lt;
SELECT f('{"title": {"lte": "alpha"}}') AS lte;
SELECT f('{"title": {"gt": "delta"}}') AS gt;
SELECT f('{"title": {"gte": "delta%"}}') AS gte;
SELECT f('{"title": {"contains": "a_"}}') AS contains_underscore_is_literal;
SELECT f('{"title": {"contains": "%"}}') AS contains_percent_is_literal;
SELECT f('{"title": {"startsWith": "al"}}') AS starts_with;
SELECT f('{"title": {"endsWith": "ta"}}') AS ends_with;
SELECT f('{"title": {"startsWith": "BE", "mode": "insensitive"}}') AS starts_with_insensitive;
SELECT f('{"title": {"startsWith": "BE"}}') AS starts_with_sensitive;
SELECT f('{"body": {"contains": "BUILD", "mode": "insensitive"}}') AS contains_insensitive;
SELECT f('{"title": {"eq": "BETA", "mode": "insensitive"}}') AS eq_insensitive;
SELECT f('{"title": {"in": ["ALPHA", "beta"], "mode": "insensitive"}}') AS in_insensitive;
SELECT f('{"title": {"notIn": ["ALPHA"], "mode": "insensitive"}}') AS not_in_insensitive;
SELECT f('{"title": {"neq": "ALPHA", "mode": "insensitive"}}') AS neq_insensitive;
SELECT f('{"title": {"isNull": true}}') AS is_null;
SELECT f('{"title": null}') AS bare_null_is_null;
SELECT f('{"title": {"isNull": false}}') AS is_not_null;
SELECT f('{"title": {"eq": null}}') AS eq_null_is_null;
SELECT f('{"title": {"neq": null}}') AS neq_null_is_not_null;
SELECT f('{"title": {"gte": "b", "lt": "e"}}') AS two_operators_and;
SELECT f('{"type": {"in": ["info", "mention"]}, "workspaceId": "w1"}') AS two_fields_and;
SELECT f('{"userId": "u2"}') AS other_user_narrows_to_nothing;
SELECT f('{"actorId": "alice"}', '{"include_deleted": true}') AS actor;
SELECT f('{"collection": "builds", "item": {"in": ["2"]}}') AS collection_item;
SELECT f('{"groupKey": {"isNull": false}}') AS group_key;
SELECT f('{"body": {"endsWith": "OK"}}') AS body;

-- timestamps: ISO-8601 with or without a time or an offset (UTC when none)
SELECT f('{"createdAt": {"gte": "2024-01-03", "lt": "2024-01-05T00:00:00Z"}}') AS created_range;
SELECT f('{"createdAt": {"eq": "2024-01-02T01:00:00+01:00"}}') AS created_eq_offset;
SELECT f('{"createdAt": {"gt": "2024-01-02T00:00"}}') AS created_gt_minutes;
SELECT f('{"createdAt": {"in": ["2024-01-01", "2024-01-05T00:00:00.000000Z"]}}') AS created_in;
SELECT f('{"createdAt": {"notIn": ["2024-01-01"]}}') AS created_not_in;
SELECT f('{"createdAt": {"neq": "2024-01-01"}}') AS created_neq;
SELECT f('{"createdAt": {"lte": "2024-01-02"}}') AS created_lte;
SELECT f('{"updatedAt": {"gt": "2024-01-02"}, "createdAt": {"lt": "2024-01-03"}}') AS updated;
SELECT f('{"readAt": {"eq": "2024-01-04T12:00:00.123456Z"}}') AS read_at_microseconds;
SELECT f('{"readAt": {"eq": "2024-01-04T12:00:00.123457Z"}}') AS read_at_microsecond_off;
SELECT f('{"readAt": {"isNull": false}}') AS read_at_not_null;
SELECT f('{"archivedAt": {"lt": "2024-02-01"}}') AS archived_at;
SELECT f('{"deletedAt": {"isNull": false}}', '{"include_deleted": "only"}') AS deleted_at;
SELECT f('{"readAt": {"gte": "2024-01-01T00:00:00-05:00"}}') AS read_at_offset;

-- flags derived from timestamps
SELECT f('{"read": true}') AS read_true;
SELECT f('{"read": {"eq": false}}') AS read_false;
SELECT f('{"read": {"neq": true}}') AS read_neq_true;
SELECT f('{"archived": true}') AS archived;
SELECT f('{"archived": {"eq": false}, "read": false}') AS inbox_unread;

-- ids
SELECT f(jsonb_build_object('id', inbox.public_id(1))) AS id_eq;
SELECT f(jsonb_build_object('id', jsonb_build_object('in', jsonb_build_array(inbox.public_id(2), inbox.public_id(3))))) AS id_in;
SELECT f(jsonb_build_object('id', jsonb_build_object('notIn', jsonb_build_array(inbox.public_id(1))))) AS id_not_in;
SELECT f(jsonb_build_object('id', jsonb_build_object('neq', inbox.public_id(1)))) AS id_neq;

-- AND, OR, NOT
SELECT f('{"OR": [{"title": "alpha"}, {"type": "mention"}]}') AS or_;
SELECT f('{"AND": [{"workspaceId": "w1"}, {"read": false}]}') AS and_;
SELECT f('{"AND": {"workspaceId": "w2"}}') AS and_object;
SELECT f('{"NOT": {"workspaceId": "w1"}}') AS not_includes_null_workspace;
SELECT f('{"NOT": [{"workspaceId": "w1"}, {"title": null}]}') AS not_array_is_none_of;
SELECT f('{"NOT": {"title": {"contains": "a"}}}') AS not_contains_includes_null;
SELECT f('{"NOT": {"NOT": {"title": {"contains": "a"}}}}') AS double_not;
SELECT f('{"OR": [{"AND": [{"type": "info"}, {"read": true}]}, {"NOT": {"OR": [{"type": "info"}, {"type": "warning"}]}}]}') AS nested;
SELECT f('{}') AS empty_filter_is_everything;

-- data (jsonb)
SELECT f('{"data": {"contains": {"n": 1}}}') AS data_contains;
SELECT f('{"data": {"contains": {"tags": ["y"]}}}') AS data_contains_array_member;
SELECT f('{"data": {"hasKey": "tags"}}') AS data_has_key;
SELECT f('{"data": {"hasAnyKey": ["flag", "nested"]}}') AS data_has_any_key;
SELECT f('{"data": {"hasAllKeys": ["n", "s"]}}') AS data_has_all_keys;
SELECT f('{"data": {"eq": {}}}') AS data_eq_whole;
SELECT f('{"data": {"path": ["n"], "eq": 2}}') AS path_eq_number;
SELECT f('{"data": {"path": "n", "eq": "7"}}') AS path_eq_string_matches_strings_only;
SELECT f('{"data": {"path": "n", "gt": 2}}') AS path_gt_numbers_only;
SELECT f('{"data": {"path": "n", "lte": 2.5}}') AS path_lte;
SELECT f('{"data": {"path": "n", "gte": "5"}}') AS path_gte_strings_only;
SELECT f('{"data": {"path": "s", "lt": "abd"}}') AS path_lt_string;
SELECT f('{"data": {"path": "n", "in": [1, 3, "7"]}}', '{"include_deleted": true}') AS path_in;
SELECT f('{"data": {"path": "n", "notIn": [1, 2]}}') AS path_not_in_includes_missing;
SELECT f('{"data": {"path": "n", "neq": 1}}') AS path_neq_includes_missing;
SELECT f('{"data": {"path": "s", "isNull": true}}') AS path_is_null_or_missing;
SELECT f('{"data": {"path": "s", "isNull": false}}') AS path_is_not_null;
SELECT f('{"data": {"path": "s", "contains": "b"}}') AS path_contains_string;
SELECT f('{"data": {"path": "s", "startsWith": "AB", "mode": "insensitive"}}') AS path_starts_with_insensitive;
SELECT f('{"data": {"path": "s", "endsWith": "d"}}') AS path_ends_with;
SELECT f('{"data": {"path": "s", "eq": "ABC", "mode": "insensitive"}}') AS path_eq_insensitive;
SELECT f('{"data": {"path": "nested.k", "eq": true}}') AS path_dotted;
SELECT f('{"data": {"path": ["tags", 1], "eq": "y"}}') AS path_array_index;
SELECT f('{"data": {"path": "tags", "contains": ["x"]}}') AS path_contains_json;
SELECT f('{"data": {"path": "nested", "hasKey": "k"}}') AS path_has_key;
SELECT f('{"data": {"path": "flag", "eq": false}}') AS path_eq_false;
SELECT f('{"data": {"path": "s", "eq": null}}') AS path_eq_null;

-- shorthands combine with the filter
SELECT f('{"title": {"isNull": false}}', '{"workspace_id": "w1", "read": "false", "type": "warning"}') AS shorthands;

-- the filter may arrive as a string holding JSON (a URL query string)
SELECT titles FROM (SELECT string_agg(e->>'title', ',') AS titles
  FROM jsonb_array_elements(inbox.list('u1', '{"filter": "{\"title\": {\"startsWith\": \"al\"}}"}')->'data') AS e) s;

-- errors name the path
SELECT f('{"titel": "x"}');
SELECT f('{"AND": [{"title": "x"}, {"nope": {"eq": 1}}]}');
SELECT f('{"title": {"equals": "x"}}');
SELECT f('{"read": {"contains": "x"}}');
SELECT f('{"createdAt": {"gte": "yesterday"}}');
SELECT f('{"AND": [{"title": "x"}, {"createdAt": {"gte": "2024-13-01"}}]}');
SELECT f('{"AND": [{"title": "x"}, {"createdAt": {"gte": "2024-02-30"}}]}');
SELECT f('{"createdAt": {"gte": "99999-01-01"}}');
SELECT f('{"createdAt": {"gte": 20240101}}');
SELECT f('{"title": {"eq": 5}}');
SELECT f('{"read": "yes"}');
SELECT f('{"read": {"eq": null}}');
SELECT f('{"read": null}');
SELECT f('{"title": {"in": []}}');
SELECT f('{"title": {"in": "alpha"}}');
SELECT f('{"title": {"in": ["a", null]}}');
SELECT f('{"title": {"notIn": [1]}}');
SELECT f('{"title": {}}');
SELECT f('{"title": {"isNull": "yes"}}');
SELECT f('{"title": {"lt": "b", "mode": "insensitive"}}');
SELECT f('{"title": {"eq": "b", "mode": "loud"}}');
SELECT f('{"createdAt": {"eq": "2024-01-01", "mode": "insensitive"}}');
SELECT f('{"title": {"path": "a", "eq": "b"}}');
SELECT f('{"id": "ntf_nope"}');
SELECT f('{"id": {"in": ["ntf_9wtr4mfdtxq5z", "12"]}}');
SELECT f('{"id": {"lt": "ntf_9wtr4mfdtxq5z"}}');
SELECT f('{"data": {"path": "n", "gt": true}}');
SELECT f('{"data": {"path": [], "eq": 1}}');
SELECT f('{"data": {"path": [{"a": 1}], "eq": 1}}');
SELECT f('{"data": {"path": "a..b", "eq": 1}}');
SELECT f('{"data": {"contains": 5}}');
SELECT f('{"data": {"hasAnyKey": []}}');
SELECT f('{"data": {"hasKey": 1}}');
SELECT f('{"data": {"in": [1], "mode": "insensitive"}}');
SELECT f('{"OR": []}');
SELECT f('{"OR": {"title": "a"}}');
SELECT f('{"NOT": 1}');
SELECT f('[{"title": "a"}]');
SELECT f('{"AND": [1]}');
SELECT f(jsonb_build_object('title', repeat('x', 8193)));
SELECT f(jsonb_build_object('title', jsonb_build_object('in', (SELECT jsonb_agg(i::text) FROM generate_series(1, 1001) i))));
SELECT f(jsonb_build_object('title', jsonb_build_object('in', (SELECT jsonb_agg(i::text) FROM generate_series(1, 1000) i)))) AS in_list_of_1000;
SELECT inbox.list('u1', '{"filter": "{not json"}');
SELECT inbox.list('u1', '{"filter": 5}');

-- nesting: 16 levels are fine, 17 are not
SELECT f((SELECT '{"title": "alpha"}'::jsonb || '{}' FROM generate_series(1, 1))) AS depth_1;
CREATE FUNCTION nested(depth int) RETURNS jsonb LANGUAGE sql AS $$
    SELECT CASE WHEN depth <= 1 THEN '{"title": "alpha"}'::jsonb
                ELSE jsonb_build_object('NOT', jsonb_build_object('NOT', nested(depth - 2))) END
$$;
SELECT f(nested(15)) AS depth_15;
SELECT f(jsonb_build_object('AND', jsonb_build_array(nested(15)))) AS depth_16;
SELECT f(jsonb_build_object('AND', jsonb_build_array(jsonb_build_object('AND', jsonb_build_array(nested(15))))));

-- clauses: 200 are fine, 201 are not
SELECT f(jsonb_build_object('OR', (SELECT jsonb_agg(jsonb_build_object('title', 't' || i)) FROM generate_series(1, 199) i)
                                  || '[{"title": "alpha"}]'::jsonb)) AS clauses_200;
SELECT f(jsonb_build_object('OR', (SELECT jsonb_agg(jsonb_build_object('title', 't' || i)) FROM generate_series(1, 201) i)));

-- the SQLSTATE of each kind of error
CREATE FUNCTION state(filter jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inbox.list('u1', jsonb_build_object('filter', filter));
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;
SELECT state('{"titel": "x"}') AS unknown_field,
       state('{"title": {"equals": "x"}}') AS unknown_operator,
       state('{"title": {"eq": 5}}') AS wrong_type,
       state('{"createdAt": {"gte": "2024-02-30"}}') AS bad_timestamp,
       state('{"title": {"in": []}}') AS empty_in;
SELECT state(jsonb_build_object('AND', jsonb_build_array(jsonb_build_object('AND', jsonb_build_array(nested(15)))))) AS too_deep,
       state(jsonb_build_object('OR', (SELECT jsonb_agg(jsonb_build_object('title', 't' || i)) FROM generate_series(1, 201) i))) AS too_many_clauses,
       state(jsonb_build_object('title', jsonb_build_object('in', (SELECT jsonb_agg(i::text) FROM generate_series(1, 1001) i)))) AS list_too_long;
