// The transport of /graphql/system (the GraphQL itself is tests/graphql.sh's): POST and GET,
// the token from the header or ?access_token=, statuses as GraphQL over HTTP gives them, and
// transport errors in GraphQL's error shape.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { api, BASE, create, sql, token, unique } from './helpers.mjs';

const user = unique('gql');
let tok;
let id;
before(async () => {
  tok = token(user, ['notifications:read', 'notifications:write']);
  const sender = token(unique('app'), ['notifications:send']);
  const n = await create(sender, { userId: user, title: 'over graphql' });
  assert.equal(n.status, 201, n.text);
  const list = await post({ query: '{ notifications { id subject } }' }, { authorization: `Bearer ${tok}` });
  id = list.body.data.notifications.find((x) => x.subject === 'over graphql').id;
});

function post(body, headers = {}) {
  return api('POST', '/graphql/system', {
    raw: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
}

const transportError = (res, status, code) => {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.equal(res.body.errors[0].extensions.code, code, res.text);
  assert.equal(typeof res.body.errors[0].message, 'string');
  assert.equal(res.body.data, undefined);
};

test('POST with a bearer token: 200 with data', async () => {
  const res = await post(
    { query: 'query One($id: ID!) { notifications_by_id(id: $id) { id subject recipient } }', variables: { id }, operationName: 'One' },
    { authorization: `Bearer ${tok}` },
  );
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.data.notifications_by_id, { id, subject: 'over graphql', recipient: user });
});

test('the token may come as ?access_token=; without one the public role sees no notifications', async () => {
  const withParam = await api('POST', `/graphql/system?access_token=${tok}`, {
    raw: JSON.stringify({ query: '{ notifications { subject } }' }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(withParam.status, 200, withParam.text);
  assert.ok(withParam.body.data.notifications.some((n) => n.subject === 'over graphql'));
  const anonymous = await post({ query: '{ notifications { subject } }' });
  assert.equal(anonymous.status, 200, anonymous.text);
  assert.equal(anonymous.body.data, null);
  assert.equal(anonymous.body.errors[0].extensions.code, 'FORBIDDEN');
  const schemaOnly = await post({ query: '{ __typename }' });
  assert.deepEqual(schemaOnly.body, { data: { __typename: 'Query' } });
});

test('GET with query parameters', async () => {
  const params = new URLSearchParams({
    query: 'query One($id: ID!) { notifications_by_id(id: $id) { subject } }',
    variables: JSON.stringify({ id }),
    access_token: tok,
  });
  const res = await fetch(`${BASE}/graphql/system?${params}`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { data: { notifications_by_id: { subject: 'over graphql' } } });
  // A mutation over GET is refused with 405 and changes nothing.
  const mutation = await api('GET', `/graphql/system?${new URLSearchParams({
    query: 'mutation { create_notifications_item(data: { recipient: "x", subject: "via GET" }) { id } }',
    access_token: tok,
  })}`);
  assert.equal(mutation.status, 405, mutation.text);
  assert.equal(mutation.headers.get('allow'), 'POST');
  assert.equal(mutation.body.errors[0].extensions.code, 'METHOD_NOT_ALLOWED');
  assert.equal(sql(`SELECT count(*) FROM inbox.notifications WHERE title = 'via GET'`), '0');
  const bad = await api('GET', `/graphql/system?${new URLSearchParams({ query: '{ __typename }', variables: '{not json' })}`);
  transportError(bad, 400, 'INVALID_PAYLOAD');
});

test('a request error (no data) is 400; field errors keep 200 with partial data', async () => {
  const invalid = await post({ query: '{ nonexistent }' }, { authorization: `Bearer ${tok}` });
  assert.equal(invalid.status, 400, invalid.text);
  assert.equal(invalid.body.data, undefined);
  assert.ok(invalid.body.errors.length >= 1);
  const syntax = await post({ query: '{ notifications { ' }, { authorization: `Bearer ${tok}` });
  assert.equal(syntax.status, 400, syntax.text);
  const noQuery = await post({}, { authorization: `Bearer ${tok}` });
  assert.equal(noQuery.status, 400, noQuery.text);
});

test('transport errors in GraphQL\'s shape: 401, 415, 400 body, 413', async () => {
  transportError(await post({ query: '{ __typename }' }, { authorization: 'Bearer pgi_nope' }), 401, 'INVALID_CREDENTIALS');
  // A token that cannot be one (RFC 6750), from the header or ?access_token=, is refused alike.
  transportError(await post({ query: '{ __typename }' }, { authorization: 'Bearer a$b' }), 401, 'INVALID_CREDENTIALS');
  const badParam = await api('GET', `/graphql/system?${new URLSearchParams({ query: '{ __typename }', access_token: 'a\u0000b' })}`);
  transportError(badParam, 401, 'INVALID_CREDENTIALS');
  transportError(await post(JSON.stringify({ query: '{ __typename }' }), { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  transportError(await post('{"query": '), 400, 'INVALID_PAYLOAD');
  const big = await post({ query: `{ __typename } # ${'x'.repeat(1100000)}` });
  assert.equal(big.status, 413);
  assert.match(big.headers.get('content-type'), /^application\/json/);
});

test('a method /graphql/system does not take: 405 with Allow, in GraphQL\'s shape; OPTIONS lists them', async () => {
  const put = await api('PUT', '/graphql/system', { tok, body: { query: '{ __typename }' } });
  transportError(put, 405, 'METHOD_NOT_ALLOWED');
  assert.equal(put.headers.get('allow'), 'POST, GET, HEAD');
  const options = await api('OPTIONS', '/graphql/system');
  assert.equal(options.status, 204);
  assert.equal(options.headers.get('allow'), 'POST, GET, HEAD, OPTIONS');
});
