// Requests as clients send them ({query, variables, operationName} with a bearer token), run
// by inbox.graphql() and checked against the schema graphql-js builds from introspection:
// every seed example as written, responses shaped exactly as the selection asks (keys in
// selection order, aliases, fragments, __typename), and errors with paths and partial data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isLeafType,
  isListType,
  isNonNullType,
  parse,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { graphql, psql, setUp } from './pg.mjs';
import { seedExamples } from './corpus.mjs';

const tokens = setUp('pg_inbox_graphql_requests');
const schema = buildClientSchema(graphql(getIntrospectionQuery()).body.data);

// Checks that `data` has exactly the shape `source` selects (no fragments with conditions
// other than the parent's in this schema): keys in selection order, leaves where the schema
// has leaves, lists where it has lists, and no null where it says non-null.
function assertShape(source, data) {
  const document = parse(source);
  assert.deepEqual(validate(schema, document), []);
  const fragments = Object.fromEntries(
    document.definitions.filter((d) => d.kind === 'FragmentDefinition').map((d) => [d.name.value, d]));
  const operation = document.definitions.find((d) => d.kind === 'OperationDefinition');
  const root = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();

  const keysOf = (selectionSet, out = []) => {
    for (const s of selectionSet.selections) {
      if (s.kind === 'Field') {
        const key = s.alias?.value ?? s.name.value;
        if (!out.some((o) => o.key === key)) out.push({ key, nodes: [] });
        out.find((o) => o.key === key).nodes.push(s);
      } else {
        keysOf(s.kind === 'FragmentSpread' ? fragments[s.name.value].selectionSet : s.selectionSet, out);
      }
    }
    return out;
  };
  const check = (value, type, nodes, path) => {
    if (value === null) {
      assert.ok(!isNonNullType(type), `${path}: null for ${type}`);
      return;
    }
    const nullable = isNonNullType(type) ? type.ofType : type;
    if (isListType(nullable)) {
      assert.ok(Array.isArray(value), `${path}: expected a list`);
      value.forEach((v, i) => check(v, nullable.ofType, nodes, `${path}[${i}]`));
      return;
    }
    if (isLeafType(nullable)) {
      if (nullable.name !== 'JSON') assert.notEqual(typeof value, 'object', `${path}: expected a leaf`);
      return;
    }
    const merged = { kind: 'SelectionSet', selections: nodes.flatMap((n) => n.selectionSet.selections) };
    checkObject(value, nullable, merged, path);
  };
  const checkObject = (value, type, selectionSet, path) => {
    const expected = keysOf(selectionSet);
    assert.deepEqual(Object.keys(value), expected.map((e) => e.key), `${path}: keys`);
    for (const { key, nodes } of expected) {
      const name = nodes[0].name.value;
      if (name === '__typename') {
        assert.equal(value[key], type.name);
        continue;
      }
      check(value[key], type.getFields()[name].type, nodes, `${path}.${key}`);
    }
  };
  checkObject(data, root, operation.selectionSet, 'data');
}

test('every seed example runs as written, answered in the shape it selects', () => {
  for (const [name, source] of Object.entries(seedExamples)) {
    const { body } = graphql(source, { token: tokens.admin });
    assert.equal(body.errors, undefined, `${name}: ${JSON.stringify(body.errors)}`);
    assertShape(source, body.data);
  }
  // What the mutations did, in the rows.
  assert.equal(psql(`SELECT body FROM inbox.notifications WHERE id = 32`), 'This is my updated notification');
  assert.equal(psql(`SELECT string_agg(body, ',' ORDER BY id) FROM inbox.notifications WHERE id IN (15, 64)`),
    'Updated message!,Updated message!');
  assert.equal(psql(`SELECT count(*) FROM inbox.notifications WHERE id IN (15, 32, 251, 810) AND deleted_at IS NOT NULL`), '4');
});

test('aliases, fragments, directives and __typename shape the answer', () => {
  const source = `query Inbox($status: String = "inbox", $limit: Int! = 2, $withSubject: Boolean!) {
    newest: notifications(filter: {status: {_eq: $status}}, sort: ["-id"], limit: $limit) {
      __typename
      ...Core
      subject @include(if: $withSubject)
      ... on directus_notifications { when: timestamp_func { year month } }
    }
    total: notifications_aggregated { countAll }
    oldest: notifications_by_id(id: 1) { id status sender }
  }
  fragment Core on directus_notifications { id recipient }`;
  const { body } = graphql(source, { variables: { withSubject: true }, operationName: 'Inbox', token: tokens.user });
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  assertShape(source, body.data);
  assert.deepEqual(body.data.newest.map((n) => n.recipient), ['u1', 'u1']);
  assert.ok(body.data.newest.every((n) => n.subject.startsWith('Notification #')));
  assert.equal(body.data.total[0].countAll, 403);  // u1's odd ids, less the two deleted
  assert.deepEqual(body.data.oldest, { id: '1', status: 'inbox', sender: 'sender' });
});

test('a field that fails is null with an error at its path; the others keep their data', () => {
  const { body } = graphql(`{
    mine: notifications_by_id(id: 3) { id }
    versioned: notifications_by_id(id: 3, version: "draft") { id }
  }`, { token: tokens.user });
  assert.deepEqual(body.data, { mine: { id: '3' }, versioned: null });
  assert.equal(body.errors.length, 1);
  assert.deepEqual(body.errors[0].path, ['versioned']);
  assert.deepEqual(body.errors[0].locations, [{ line: 3, column: 5 }]);
  assert.equal(body.errors[0].extensions.code, 'INVALID_QUERY');
});

test('an error in a non-null field nulls its parent, up to data itself', () => {
  const { body } = graphql(`{
    mine: notifications_by_id(id: 3) { id }
    list: notifications(filter: {id: {_eq: "not a number"}}) { id }
  }`, { token: tokens.user });
  assert.equal(body.data, null);
  assert.deepEqual(body.errors.map((e) => [e.path, e.extensions.code]), [[['list'], 'INVALID_QUERY']]);
});

test('a request that cannot run has errors and no data', () => {
  for (const [source, options, message] of [
    ['{ nope }', {}, 'GraphQL validation error.'],
    ['query ($id: ID!) { notifications_by_id(id: $id) { id } }', { variables: {} },
      'Variable "$id" of required type "ID!" was not provided.'],
    ['query A { __typename } query B { __typename }', {},
      'Must provide operation name if query contains multiple operations.'],
  ]) {
    const { body } = graphql(source, { ...options, token: tokens.user });
    assert.equal('data' in body, false, source);
    assert.equal(body.errors[0].message, message);
  }
});

test('the type of every value matches what introspection says', () => {
  const source = `{ notifications(limit: 5, sort: ["id"]) { id timestamp timestamp_func { year month week day weekday hour minute second } status recipient sender subject message collection item }
    notifications_aggregated(groupBy: ["status", "recipient"], sort: ["status"]) { group countAll count { id subject } countDistinct { sender } min { id } max { id } avg { id } sum { id } avgDistinct { id } sumDistinct { id } } }`;
  const { body } = graphql(source, { token: tokens.admin });
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  assertShape(source, body.data);
  const n = body.data.notifications[0];
  assert.equal(typeof n.id, 'string');
  assert.match(n.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(n.timestamp_func.year, Number(n.timestamp.slice(0, 4)));
  const groups = body.data.notifications_aggregated;
  assert.deepEqual(groups.map((g) => Object.keys(g.group)), groups.map(() => ['status', 'recipient']));
  assert.ok(groups.every((g) => Number.isInteger(g.countAll) && g.countAll === g.count.id));
  const info = new TypeInfo(schema);
  let leaves = 0;
  visit(parse(source), visitWithTypeInfo(info, { Field() { if (isLeafType(getNamedType(info.getType()))) ++leaves; } }));
  assert.ok(leaves > 20);
});
