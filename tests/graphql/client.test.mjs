// A real GraphQL client (graphql-request) against the server's POST /graphql/system, which
// forwards each request to inbox.graphql(). Skipped while the server does not serve the route.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientError, GraphQLClient } from 'graphql-request';
import { psql } from './pg.mjs';
import { seedExamples } from './corpus.mjs';

const base = process.env.GRAPHQL_BASE_URL;
const database = process.env.GRAPHQL_HTTP_DATABASE;
const endpoint = `${base}/graphql/system`;

async function routeServed() {
  if (!base || !database) return false;
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  return response.status !== 404 && response.status !== 405;
}

const served = await routeServed();
const skip = served ? false : 'the server does not serve POST /graphql/system yet';

let admin;
if (served) {
  psql(`SELECT inbox.create_many('[{"userId": "u1", "title": "over HTTP", "collection": "articles"}]')`, database);
  admin = psql(`SELECT inbox.create_token('root', ARRAY['admin'])`, database);
}
const client = () => new GraphQLClient(endpoint, { headers: { authorization: `Bearer ${admin}` } });

test('seed queries through graphql-request', { skip }, async () => {
  const data = await client().request(seedExamples.list);
  assert.ok(data.notifications.some((n) => n.subject === 'over HTTP' && n.recipient === 'u1'));
  const one = await client().request(`query ($id: ID!) { notifications_by_id(id: $id) { id subject } }`, { id: 1 });
  assert.deepEqual(one.notifications_by_id, { id: '1', subject: 'over HTTP' });
});

test('a mutation and its answer through graphql-request', { skip }, async () => {
  const data = await client().request(
    `mutation ($data: create_directus_notifications_input!) { create_notifications_item(data: $data) { id recipient subject } }`,
    { data: { recipient: 'u2', subject: 'created over HTTP' } });
  assert.equal(data.create_notifications_item.recipient, 'u2');
  assert.equal(psql(`SELECT title FROM inbox.notifications WHERE id = ${Number(data.create_notifications_item.id)}`, database),
    'created over HTTP');
});

test('errors reach the client: 400 for an invalid document, partial data kept', { skip }, async () => {
  await assert.rejects(client().request('{ notifications { nonexistent } }'), (e) => {
    assert.ok(e instanceof ClientError);
    assert.equal(e.response.status, 400);
    assert.equal(e.response.errors[0].extensions.code, 'GRAPHQL_VALIDATION');
    return true;
  });
  const { data, errors } = await client().rawRequest(
    `{ ok: notifications_by_id(id: 1) { id } bad: notifications_by_id(id: 1, version: "x") { id } }`)
    .catch((e) => e.response);
  assert.deepEqual(data, { ok: { id: '1' }, bad: null });
  assert.deepEqual(errors[0].path, ['bad']);
});

test('a bad token is 401', { skip }, async () => {
  const bad = new GraphQLClient(endpoint, { headers: { authorization: 'Bearer not-a-valid-token' } });
  await assert.rejects(bad.request('{ __typename }'), (e) => e.response?.status === 401);
});
