// graphql-js against inbox.graphql(): the standard introspection query builds a client schema
// (buildClientSchema), the schema keeps Directus's definitions where pg_inbox does not
// deliberately differ, and graphql-js and pg_inbox agree on which documents are valid, with
// the same messages at the same places.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  parse,
  printType,
  validate,
  validateSchema,
} from 'graphql';
import { graphql, graphqlMany, setUp } from './pg.mjs';
import { grammarExamples, seedExamples } from './corpus.mjs';
import { validationCases, validOddities } from './invalid_documents.mjs';

setUp('pg_inbox_graphql_js');

function introspect(options) {
  const { body } = graphql(getIntrospectionQuery(options));
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return buildClientSchema(body.data);
}

const schema = introspect();

test('the standard introspection query builds a valid client schema', () => {
  assert.deepEqual(validateSchema(schema), []);
  assert.equal(schema.getQueryType().name, 'Query');
  assert.equal(schema.getMutationType().name, 'Mutation');
  assert.equal(schema.getSubscriptionType() ?? null, null);
  const notification = schema.getType('directus_notifications');
  // Directus's fields, then pg_inbox's seen_at and expires_at (issue 19, documented in the
  // README: only where a query selects them).
  assert.deepEqual(Object.keys(notification.getFields()), [
    'id', 'timestamp', 'timestamp_func', 'status', 'recipient', 'sender', 'subject', 'message',
    'collection', 'item', 'seen_at', 'seen_at_func', 'expires_at', 'expires_at_func',
  ]);
  assert.equal(String(schema.getQueryType().getFields().notifications.type), '[directus_notifications!]!');
});

test('every option of getIntrospectionQuery is answered', () => {
  const full = introspect({
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
    oneOf: true,
  });
  assert.deepEqual(validateSchema(full), []);
  assert.equal(full.getType('Date').description, 'ISO8601 Date values');
  assert.deepEqual(full.getDirectives().map((d) => d.name), ['include', 'skip', 'deprecated', 'specifiedBy']);
  assert.equal(full.getType('directus_notifications_filter').isOneOf, false);
});

test("the schema keeps Directus 11.3.5's definitions, except where documented", () => {
  const reference = buildSchema(
    readFileSync('/work/shared/reference/directus-11.3.5/graphql_system_schema.graphql', 'utf8'),
  );
  // Types identical to Directus's.
  for (const name of [
    'datetime_functions', 'delete_many', 'delete_one', 'directus_notifications_aggregated',
    'directus_notifications_aggregated_count', 'directus_notifications_aggregated_fields',
    'date_filter_operators', 'datetime_function_filter_operators', 'number_filter_operators',
    'string_filter_operators', 'Date', 'GraphQLStringOrFloat', 'JSON',
  ]) {
    assert.equal(printType(schema.getType(name)), printType(reference.getType(name)), name);
  }
  // Root fields identical to Directus's.
  for (const root of ['Query', 'Mutation']) {
    const ours = schema.getType(root).getFields();
    const theirs = reference.getType(root).getFields();
    for (const [name, field] of Object.entries(ours)) {
      assert.ok(theirs[name], `${root}.${name} exists in Directus`);
      assert.equal(String(field.type), String(theirs[name].type), `${root}.${name} type`);
      assert.deepEqual(
        field.args.map((a) => `${a.name}: ${a.type}`),
        theirs[name].args.map((a) => `${a.name}: ${a.type}`),
        `${root}.${name} arguments`,
      );
    }
    const expected = root === 'Query'
      ? ['notifications', 'notifications_by_id', 'notifications_aggregated']
      : ['create_notifications_items', 'create_notifications_item', 'update_notifications_items',
        'update_notifications_batch', 'update_notifications_item', 'delete_notifications_items',
        'delete_notifications_item'];
    assert.deepEqual(Object.keys(ours), expected);
  }
  // The documented differences: recipient and sender are user ids, subject is optional.
  const notification = schema.getType('directus_notifications').getFields();
  assert.equal(String(notification.recipient.type), 'String');
  assert.equal(String(notification.subject.type), 'String');
  assert.equal(String(schema.getType('create_directus_notifications_input').getFields().subject.type), 'String');
  assert.equal(String(schema.getType('directus_notifications_filter').getFields().recipient.type), 'string_filter_operators');
  // Issue 19: pg_inbox's seen_at and expires_at after Directus's fields, as its dates are; a
  // create may give expires_at, never seen_at.
  for (const name of ['seen_at', 'expires_at']) {
    assert.equal(String(notification[name].type), 'Date', name);
    assert.equal(String(notification[`${name}_func`].type), 'datetime_functions', `${name}_func`);
    assert.equal(String(schema.getType('directus_notifications_filter').getFields()[name].type), 'date_filter_operators');
  }
  const create = schema.getType('create_directus_notifications_input').getFields();
  assert.equal(String(create.expires_at.type), 'Date');
  assert.equal(create.seen_at, undefined);
  assert.equal(schema.getType('update_directus_notifications_input').getFields().expires_at, undefined);
});

// A document's verdict and errors, as graphql-js gives them against the client schema.
function jsErrors(source) {
  try {
    return validate(schema, parse(source)).map((e) => ({ message: e.message, locations: e.locations }));
  } catch (e) {
    return [{ message: e.message, locations: e.locations }];
  }
}

// The same from pg_inbox: a syntax or validation error is GRAPHQL_VALIDATION with the errors
// inside. No token: valid documents run without touching any notification.
function ourErrors({ body }) {
  const wrapper = body.errors?.[0];
  if (wrapper?.extensions?.code !== 'GRAPHQL_VALIDATION') return [];
  return wrapper.extensions.errors;
}

const corpus = [...validationCases, ...validOddities, ...Object.values(seedExamples), ...grammarExamples];

test('graphql-js and pg_inbox agree on every document: verdict, messages, locations', () => {
  let invalid = 0;
  const responses = graphqlMany(corpus);
  corpus.forEach((source, i) => {
    const expected = jsErrors(source);
    if (expected.length > 0) ++invalid;
    assert.deepEqual(ourErrors(responses[i]), expected, source);
  });
  // The corpus holds both kinds.
  assert.ok(invalid > 80, `${invalid} invalid documents`);
  assert.ok(corpus.length - invalid > 15, `${corpus.length - invalid} valid documents`);
});

test('every seed example is valid for graphql-js', () => {
  for (const [name, source] of Object.entries(seedExamples))
    assert.deepEqual(jsErrors(source), [], name);
});
