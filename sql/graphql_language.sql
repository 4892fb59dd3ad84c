SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;

-- GraphQL itself through inbox.graphql(): the grammar, the bounds on a document, validation,
-- operation selection, variables, directives, fragments, aliases, introspection and errors.

SELECT inbox.create_token('root', ARRAY['admin']) AS admin \gset
SELECT pg_catalog.count(*) FROM pg_catalog.jsonb_array_elements(inbox.create_many(
    '[{"userId": "u1", "title": "Build finished", "body": "main is green", "collection": "builds", "item": "42"},
      {"userId": "u1", "title": "Caf\u00e9 \ud83d\ude00 opened", "body": "line one\nline two"},
      {"userId": "u2", "title": "Deploy failed", "body": null}]'));

-- --- the grammar --------------------------------------------------------------------------

-- shorthand, named operations, aliases, __typename at every level
SELECT inbox.graphql('{ __typename }');
SELECT inbox.graphql($$query Q { t: __typename n: notifications(sort: ["id"], limit: 1) { __typename id } }$$, NULL, NULL, :'admin');
-- commas, comments, a byte order mark and CRLF line ends are insignificant
SELECT inbox.graphql(E'\ufeff# leading comment\r\nquery {,, notifications_by_id(id: "1"), { id, subject, } } # trailing',
                     NULL, NULL, :'admin');
-- block strings and unicode escapes, as search values
SELECT inbox.graphql($$query { notifications(search: """
        café
    """) { id subject } }$$, NULL, NULL, :'admin');
SELECT inbox.graphql($$query { notifications(search: "\u00e9 \ud83d\ude00") { id } a: notifications(search: "\u{1F600}") { id } }$$, NULL, NULL, :'admin');
-- a description before an operation (graphql-js accepts it too)
SELECT inbox.graphql($$"A described query" query { __typename }$$);

-- syntax errors: graphql-js's words and locations
SELECT inbox.graphql('');
SELECT inbox.graphql('{');
SELECT inbox.graphql('query { notifications(limit: 01) { id } }');
SELECT inbox.graphql('query { notifications(search: "open) { id } }');
SELECT inbox.graphql($$query { notifications(search: "\x") { id } }$$);
SELECT inbox.graphql($$query { notifications(search: "\u{110000}") { id } }$$);
SELECT inbox.graphql($$query { notifications(search: 'single') { id } }$$);
SELECT inbox.graphql(E'query {\n  notifications(limit: 1.) { id }\n}');
SELECT inbox.graphql('query ($v: Int = $w) { __typename }');
SELECT inbox.graphql('type Query { a: Int }');
SELECT inbox.graphql('fragment on on directus_notifications { id }');

-- the bounds: size, tokens, nesting depth
SELECT inbox.graphql('{ __typename ' || pg_catalog.repeat(' ', 1048576) || '}')::jsonb
       #> '{errors,0,extensions,errors,0,message}' AS too_large;
SELECT inbox.graphql('{ ' || pg_catalog.repeat('__typename ', 20001) || '}')::jsonb
       #> '{errors,0,extensions,errors,0,message}' AS too_many_tokens;
SELECT inbox.graphql('{ notifications(filter: ' || pg_catalog.repeat('{_and: [', 40) || pg_catalog.repeat(']}', 40) || ') { id } }')::jsonb
       #> '{errors,0,extensions,errors,0,message}' AS too_deep;
-- a document whose fragments expand to too many fields: refused before anything runs
SELECT inbox.graphql('query { ' ||
       (SELECT pg_catalog.string_agg(pg_catalog.format('x%s: notifications { ...A }', i), ' ') FROM pg_catalog.generate_series(1, 200) AS i) ||
       ' } fragment A on directus_notifications { ' ||
       (SELECT pg_catalog.string_agg(pg_catalog.format('y%s: timestamp_func { year }', i), ' ') FROM pg_catalog.generate_series(1, 200) AS i) ||
       ' }')::jsonb #> '{errors,0,extensions,errors,0,message}' AS too_many_fields;

-- --- validation: several errors at once, in document order ---------------------------------

SELECT inbox.graphql($$query Q($unused: Int, $limit: String) {
  notifications(limit: $limit, sort: 5, filter: {status: {_eq: "inbox", _eq: "x"}}) { id subjet ...Missing }
  notifications_by_id { id }
  a: notifications { id }
  a: notifications { subject }
}$$);
SELECT inbox.graphql($${ notifications { ...F } } fragment F on directus_notifications { ...G } fragment G on directus_notifications { ...F }$$);
SELECT inbox.graphql($$subscription { notifications { id } }$$);

-- --- operations and variables --------------------------------------------------------------

SELECT inbox.graphql('query A { __typename } query B { __typename }');
SELECT inbox.graphql('query A { __typename } query B { t: __typename }', NULL, 'B');
SELECT inbox.graphql('query A { __typename }', NULL, 'C');
SELECT inbox.graphql(NULL);
-- GET must not change anything: a mutation sent with it is refused (405), a query runs
SELECT inbox.graphql('mutation { delete_notifications_item(id: 1) { id } }', NULL, NULL, :'admin', 'GET');
SELECT inbox.graphql('query { notifications_by_id(id: 1) { id } }', NULL, NULL, :'admin', 'GET');
SELECT inbox.graphql('{ __typename }', '[1, 2]');
SELECT inbox.graphql('{ __typename }', 'null');
-- variables are coerced before anything runs; each error names the variable and the place
SELECT inbox.graphql('query ($id: ID!) { notifications_by_id(id: $id) { id } }', '{}', NULL, :'admin');
SELECT inbox.graphql('query ($id: ID!) { notifications_by_id(id: $id) { id } }', '{"id": null}', NULL, :'admin');
SELECT inbox.graphql('query ($id: ID!) { notifications_by_id(id: $id) { id } }', '{"id": true}', NULL, :'admin');
SELECT inbox.graphql('query ($l: Int) { notifications(limit: $l) { id } }', '{"l": 3000000000}', NULL, :'admin');
SELECT inbox.graphql('query ($f: directus_notifications_filter) { notifications(filter: $f) { id } }',
                     '{"f": {"status": {"_eq": 5}, "nope": 1, "_and": [{"subject": "x"}]}}', NULL, :'admin');
-- a variable given as one value where a list is expected is a list of one
SELECT inbox.graphql('mutation ($ids: [ID]!) { delete_notifications_items(ids: $ids) { ids } }', '{"ids": 3}', NULL, :'admin');
-- defaults: the variable's, then the argument's
SELECT inbox.graphql('query ($id: ID = "2") { notifications_by_id(id: $id) { id subject } }', NULL, NULL, :'admin');

-- --- directives, fragments ------------------------------------------------------------------

SELECT inbox.graphql($$query ($full: Boolean!) {
  notifications(sort: ["id"], limit: 2) {
    id
    subject @include(if: $full)
    message @skip(if: $full)
    ... on directus_notifications @include(if: $full) { collection }
    ...More @skip(if: false)
  }
}
fragment More on directus_notifications { item status }$$, '{"full": true}', NULL, :'admin');
SELECT inbox.graphql($$query ($full: Boolean!) { notifications(sort: ["id"], limit: 1) { id subject @include(if: $full) message @skip(if: $full) } }$$,
                     '{"full": false}', NULL, :'admin');
-- the same field selected twice merges into one answer
SELECT inbox.graphql($${ notifications_by_id(id: 1) { id } notifications_by_id(id: 1) { subject } }$$, NULL, NULL, :'admin');

-- --- introspection ---------------------------------------------------------------------------

SELECT inbox.graphql($${ __schema { queryType { name } mutationType { name } subscriptionType { name } directives { name locations args { name defaultValue type { kind name ofType { kind name } } } } } }$$);
SELECT inbox.graphql($${ __type(name: "Query") { kind name fields { name args { name defaultValue type { kind name ofType { kind name ofType { kind name } } } } type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }$$);
SELECT inbox.graphql($${ __type(name: "update_directus_notifications_input") { kind name inputFields { name type { name } defaultValue } fields { name } enumValues { name } isOneOf } }$$);
SELECT inbox.graphql($${ __type(name: "__TypeKind") { kind enumValues { name description } } }$$);
SELECT inbox.graphql($${ __type(name: "Date") { kind name description specifiedByURL fields { name } } }$$);
SELECT inbox.graphql($${ __type(name: "nope") { name } }$$);
SELECT pg_catalog.string_agg(t->>'name', ' ' ORDER BY t->>'name') AS types
  FROM pg_catalog.json_array_elements(inbox.graphql('{ __schema { types { name } } }')->'data'->'__schema'->'types') AS t;
