// Shared by the Directus suites: the server, the data set tests/directus.sh seeded, tokens, and
// checks of Directus's wire format. The generic clients come from the HTTP suites' helpers.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { createDirectus, rest, staticToken } from '@directus/sdk';

import { api, rawRequest, sql, token, unique } from '../http/helpers.mjs';

export { api, rawRequest, sql, token, unique };

export const URL_ = process.env.DIRECTUS_URL;

// The recordings' admin, who owns notifications 1..30 (every 5th archived).
export const ADMIN_ID = 'f3506e6d-ac09-44d9-a8d2-fcac84551465';
// The user of the seeds' examples, who owns notifications 34, 42, 64, 251 and 810.
export const SEED_USER = '410b5772-e63f-4ae6-9ea2-39c3a31bd6ca';

export const FIELD_ORDER = ['id', 'timestamp', 'status', 'recipient', 'sender', 'subject', 'message', 'collection', 'item'];
export const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export const adminToken = () => token(ADMIN_ID, ['admin']);

// The SDK's fetch, retrying a GET once when the connection it reused was closed under it, as
// browsers do. The helpers' synchronous psql calls block node's event loop; on a loaded machine
// that can outlast the server's idle keep-alive timeout, and undici then writes the next request
// on a socket whose close it has not yet seen. A server that is down still fails the retry.
async function fetchRetryingReusedGet(url, init = {}) {
  try {
    return await fetch(url, init);
  } catch (e) {
    const method = (init.method ?? 'GET').toUpperCase();
    const closed = ['UND_ERR_SOCKET', 'ECONNRESET'].includes(e?.cause?.code);
    if (method !== 'GET' || !closed) throw e;
    return fetch(url, init);
  }
}

// An SDK client with a static token, as the issue asks.
export const client = (tok) =>
  createDirectus(URL_, { globals: { fetch: fetchRetryingReusedGet } }).with(rest()).with(staticToken(tok));

// A new Directus user (a row of directus_users, the recipient relation's table): its uuid.
export function person(email = 'someone') {
  const id = randomUUID();
  sql(`INSERT INTO public.directus_users (id, email) VALUES ('${id}', '${email}-${id.slice(0, 8)}@example.com')`);
  return id;
}

// A user of their own with read/write and `count` notifications (ids returned in order).
export function userWith(count, prefix = 'user') {
  const user = person(prefix);
  const tok = token(user, ['notifications:read', 'notifications:write']);
  const ids = [];
  for (let i = 1; i <= count; i++) {
    const created = JSON.parse(sql(`SELECT inbox.create('${user}', '{"title": "${prefix} ${i}", "body": "body ${i}"}')`));
    ids.push(Number(sql(`SELECT inbox.internal_id('${created.id}')`)));
  }
  return { user, tok, ids };
}

// A Directus notification object: its keys in Directus's order, its values of the right types.
export function isNotification(o, fields = FIELD_ORDER) {
  assert.deepEqual(Object.keys(o), fields);
  if ('id' in o) assert.equal(typeof o.id, 'number');
  if ('timestamp' in o) assert.match(o.timestamp, TIMESTAMP);
  if ('status' in o) assert.ok(['inbox', 'archived'].includes(o.status), o.status);
}

// A response in Directus's error envelope with this status and code.
export function isDirectusError(res, status, code) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.equal(res.headers.get?.('content-type') ?? res.headers['content-type'], 'application/json; charset=utf-8');
  const body = res.body ?? JSON.parse(res.text);
  assert.deepEqual(Object.keys(body), ['errors']);
  assert.equal(body.errors.length, 1);
  const [error] = body.errors;
  assert.deepEqual(Object.keys(error), ['message', 'extensions']);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  assert.equal(error.extensions.code, code, res.text);
  return error;
}

// What the SDK throws for an error response: {errors, response}.
export async function sdkError(promise, status, code) {
  const e = await promise.then(
    (v) => assert.fail(`expected a ${status} ${code}, got ${JSON.stringify(v)}`),
    (err) => err,
  );
  assert.equal(e.response?.status, status, JSON.stringify(e.errors ?? e));
  assert.equal(e.errors?.[0]?.extensions?.code, code, JSON.stringify(e.errors));
  return e;
}

// The Directus 11.3.5 recordings.
export const REFERENCE = '/work/shared/reference/directus-11.3.5';
export function recording(name) {
  const text = readFileSync(`${REFERENCE}/${name}.json`, 'utf8');
  const headers = readFileSync(`${REFERENCE}/${name}.headers.txt`, 'utf8');
  return { text, body: text ? JSON.parse(text) : undefined, status: Number(headers.split(' ')[1]) };
}

// The request body a recording sent, as its bytes; undefined when it sent none.
export function readRecordingRequest(name) {
  try {
    return readFileSync(`${REFERENCE}/${name}.request.json`, 'utf8');
  } catch {
    return undefined;
  }
}

// The shape of a JSON value: the same keys in the same order and the same types, whatever the
// values (ids, times and user ids differ between Directus's data and ours).
export function shape(v) {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return v === null ? 'null' : typeof v;
}
