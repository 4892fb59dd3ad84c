// What every client meets before the API: routing (404, 405, OPTIONS), the limits (414, 431),
// the error format, and the operational endpoints (healthz, readyz, metrics, openapi.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { api, BASE, isError, rawRequest, sql, token, unique } from './helpers.mjs';

// Every route the server answers, as the router's table spells it.
const ROUTES = [
  'GET /api/notifications',
  'POST /api/notifications',
  'GET /api/notifications/unread-count',
  'PUT /api/notifications/read-all',
  'PUT /api/notifications/seen',
  'GET /api/notifications/groups',
  'GET /api/notification-types',
  'GET /api/notifications/{id}',
  'PATCH /api/notifications/{id}',
  'DELETE /api/notifications/{id}',
  'PUT /api/notifications/{id}/read',
  'PUT /api/notifications/{id}/unread',
  'POST /api/notifications/{id}/restore',
  'DELETE /api/notifications/{id}/purge',
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /openapi.json',
  'POST /graphql/system',
  'GET /graphql/system',
  // delivery (issue 15)
  'GET /api/preferences',
  'PUT /api/preferences',
  'GET /api/webhooks',
  'POST /api/webhooks',
  'DELETE /api/webhooks/{id}',
  'GET /api/webhooks/{id}/deliveries',
  'POST /api/webhooks/{id}/deliveries/{delivery}/retry',
  'GET /api/unsubscribe/{token}',
  'POST /api/unsubscribe/{token}',
  'GET /api/notifications/stream',
  'GET /websocket',
];

test('unknown routes are 404 JSON, whatever the method', async () => {
  for (const [method, path] of [['GET', '/'], ['GET', '/nope'], ['POST', '/api/notification'],
    ['GET', '/api/notifications/ntf_9wtr4mfdtxq5z/read/extra'], ['DELETE', '/api'],
    ['GET', '/api/notifications//read']]) {
    isError(assert, await api(method, path), 404, 'not_found');
  }
});

test('a known path with the wrong method is 405 with Allow', async () => {
  const cases = [
    ['DELETE', '/api/notifications', 'GET, POST, HEAD'],
    ['POST', '/api/notifications/ntf_9wtr4mfdtxq5z', 'GET, PATCH, DELETE, HEAD'],
    ['GET', '/api/notifications/read-all', 'PUT'],
    ['POST', '/api/notifications/unread-count', 'GET, HEAD'],
    ['GET', '/api/notifications/ntf_9wtr4mfdtxq5z/read', 'PUT'],
    ['PUT', '/healthz', 'GET, HEAD'],
  ];
  for (const [method, path, allow] of cases) {
    const res = await api(method, path);
    isError(assert, res, 405, 'method_not_allowed');
    assert.equal(res.headers.get('allow'), allow, `${method} ${path}`);
  }
});

test('OPTIONS lists the methods of a path', async () => {
  const res = await api('OPTIONS', '/api/notifications/ntf_9wtr4mfdtxq5z');
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('allow'), 'GET, PATCH, DELETE, HEAD, OPTIONS');
  isError(assert, await api('OPTIONS', '/nope'), 404, 'not_found');
});

test('SEARCH is a method of its own: only the routes that have it answer it', async () => {
  const tok = token(unique('search'), ['notifications:send', 'notifications:read']);
  const body = JSON.stringify({ userId: unique('nobody'), title: 'sent with SEARCH' });
  const res = await rawRequest(
    `SEARCH /api/notifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tok}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  );
  isError(assert, res, 405, 'method_not_allowed');
  assert.equal(res.headers.allow, 'GET, POST, HEAD');
  assert.equal(JSON.parse(res.text).error.message, 'SEARCH is not allowed on /api/notifications; allowed: GET, POST, HEAD');
  assert.equal(sql(`SELECT count(*) FROM inbox.notifications WHERE title = 'sent with SEARCH'`), '0');
  const nowhere = await rawRequest('SEARCH /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  assert.equal(JSON.parse(nowhere.text).error.message, 'no route SEARCH /nope');
});

test('a method the HTTP library does not know is still answered in JSON', async () => {
  const res = await rawRequest('BREW /api/notifications HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.ok(res.status >= 400 && res.status < 500, String(res.status));
  assert.match(res.headers['content-type'], /^application\/json/);
  assert.ok(JSON.parse(res.text).error.code);
});

test('a garbled request line is 400 JSON', async () => {
  const res = await rawRequest('this is not http\r\n\r\n');
  assert.equal(res.status, 400);
  assert.equal(JSON.parse(res.text).error.code, 'bad_request');
});

test('a query string over --max-query-bytes is 414; a request line over the library limit too', async () => {
  const tok = token(unique('limits'), ['notifications:read']);
  isError(assert, await api('GET', `/api/notifications/unread-count?workspace_id=${'w'.repeat(5000)}`, { tok }), 414, 'uri_too_long');
  isError(assert, await api('GET', `/api/notifications?filter=${'x'.repeat(9000)}`, { tok }), 414, 'uri_too_long');
});

test('more request headers than --max-headers is 431', async () => {
  const tok = token(unique('limits'), ['notifications:read']);
  const headers = {};
  for (let i = 0; i < 80; i++) headers[`x-filler-${i}`] = 'x';
  isError(assert, await api('GET', '/api/notifications/unread-count', { tok, headers }), 431, 'too_many_headers');
  const few = {};
  for (let i = 0; i < 20; i++) few[`x-filler-${i}`] = 'x';
  assert.equal((await api('GET', '/api/notifications/unread-count', { tok, headers: few })).status, 200);
});

test('GET /healthz and /readyz', async () => {
  const health = await api('GET', '/healthz');
  assert.equal(health.status, 200);
  assert.deepEqual(health.body, { status: 'ok' });
  const ready = await api('GET', '/readyz');
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.body, { status: 'ready' });
});

test('GET /metrics: Prometheus text with requests by route and status, latency, pool gauges', async () => {
  const user = unique('metrics');
  const tok = token(user, ['notifications:read']);
  await api('GET', '/api/notifications/unread-count', { tok });
  await api('GET', '/api/notifications/ntf_0000000000000', { tok });
  await api('GET', '/notifications/1', { tok });
  await rawRequest(
    `SEARCH /notifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tok}\r\nContent-Type: application/json\r\n` +
      'Content-Length: 13\r\nConnection: close\r\n\r\n{"query": {}}',
  );
  await api('GET', '/notifications/1/read', { tok });
  const res = await fetch(`${BASE}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const value = (series) => {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  assert.ok(value('pg_inbox_http_requests_total{route="GET /api/notifications/unread-count",status="200"}') >= 1);
  assert.ok(value('pg_inbox_http_requests_total{route="GET /api/notifications/{id}",status="404"}') >= 1);
  // The Directus routes are labelled by their shape too (403: Directus's answer for an unseen key).
  assert.ok(value('pg_inbox_http_requests_total{route="GET /notifications/{id}",status="403"}') >= 1);
  // Every label is a row of the route table, SEARCH included; a path no row has is "unmatched".
  assert.ok(value('pg_inbox_http_requests_total{route="SEARCH /notifications",status="200"}') >= 1);
  assert.ok(value('pg_inbox_http_requests_total{route="unmatched",status="404"}') >= 1);
  const labels = new Set([...text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]));
  for (const label of labels) {
    assert.ok(label === 'unmatched' || /^(GET|POST|PUT|PATCH|DELETE|SEARCH) \/[a-z/{}.-]*$/.test(label), label);
  }
  assert.ok(value('pg_inbox_http_request_duration_seconds_count{route="GET /api/notifications/unread-count"}') >= 1);
  assert.ok(value('pg_inbox_http_request_duration_seconds_bucket{route="GET /api/notifications/unread-count",le="+Inf"}') >= 1);
  assert.ok(value('pg_inbox_pool_size') >= 1);
  assert.ok(value('pg_inbox_pool_open') >= 1);
  assert.ok(value('pg_inbox_pool_in_use') >= 0);
  // Every sample line is "name{labels} number" or "name number".
  for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
    assert.match(line, /^[a-z_]+(\{.*\})? [0-9.e+-]+$/, line);
  }
});

test('GET /openapi.json is a valid OpenAPI 3.1 document describing every route', async () => {
  const res = await api('GET', '/openapi.json');
  assert.equal(res.status, 200);
  const doc = res.body;
  assert.equal(doc.openapi, '3.1.0');
  const validator = new Validator();
  const result = await validator.validate(doc);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1));
  for (const route of ROUTES) {
    const [method, path] = route.split(' ');
    assert.ok(doc.paths[path]?.[method.toLowerCase()], `${route} is not in openapi.json`);
  }
  let operations = 0;
  for (const item of Object.values(doc.paths)) {
    operations += Object.keys(item).filter((k) => ['get', 'put', 'post', 'delete', 'patch'].includes(k)).length;
  }
  assert.equal(operations, ROUTES.length, 'openapi.json describes a route the server does not have');
});

test('every route in openapi.json is answered by the server (not 404)', async () => {
  const doc = (await api('GET', '/openapi.json')).body;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item).filter((k) => k !== 'parameters')) {
      const res = await api(method.toUpperCase(), path.replace('{id}', 'ntf_9wtr4mfdtxq5z'));
      const noRoute = res.status === 404 && res.body?.error?.message?.startsWith('no route');
      assert.ok(!noRoute, `${method} ${path}: ${res.text}`);
      assert.notEqual(res.status, 405, `${method} ${path}`);
    }
  }
});
