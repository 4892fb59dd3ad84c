// Every Directus route over raw HTTP: statuses, bodies, headers, the bracket filter form, the
// query string's aggregate/groupBy/meta, SEARCH, access_token, and each error code.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ADMIN_ID,
  FIELD_ORDER,
  adminToken,
  api,
  isDirectusError,
  isNotification,
  rawRequest,
  sql,
  token,
  person,
  userWith,
} from './helpers.mjs';

const admin = adminToken();
const JSON_TYPE = 'application/json; charset=utf-8';
const get = (path, tok = admin) => api('GET', path, { tok });
const q = (params) => new URLSearchParams(params).toString();

test('GET /notifications: {"data": [...]}, Directus field order, JSON with charset', async () => {
  const res = await get('/notifications?limit=3');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), JSON_TYPE);
  assert.deepEqual(Object.keys(res.body), ['data']);
  assert.deepEqual(
    res.body.data.map((n) => n.id),
    [1, 2, 3],
  );
  res.body.data.forEach((n) => isNotification(n));
  // Compact JSON, keys in order: the bytes Directus writes.
  assert.ok(res.text.startsWith('{"data":[{"id":1,"timestamp":"'), res.text);
});

test('the default limit is 100 and limit=-1 reads everything', async () => {
  const { user, tok } = userWith(0, 'http-limit');
  sql(`SELECT inbox.create_many(jsonb_agg(jsonb_build_object('userId', '${user}', 'title', 'n' || i))) FROM generate_series(1, 120) i`);
  assert.equal((await get('/notifications?fields=id', tok)).body.data.length, 100);
  assert.equal((await get('/notifications?fields=id&limit=-1', tok)).body.data.length, 120);
});

test('the bracket filter form and JSON filters, with _and/_or', async () => {
  const inbox = await get('/notifications?limit=3&filter[status][_eq]=inbox&sort=-timestamp&fields=id,status');
  assert.equal(inbox.status, 200, inbox.text);
  assert.ok(inbox.body.data.every((n) => n.status === 'inbox'));
  const json = await get(
    `/notifications?${q({ fields: 'id,status', limit: '2', filter: '{"_and":[{"status":{"_eq":"archived"}},{"id":{"_gt":12}}]}' })}`,
  );
  assert.deepEqual(json.body, {
    data: [
      { id: 15, status: 'archived' },
      { id: 20, status: 'archived' },
    ],
  });
  const brackets = await get('/notifications?fields=id&filter[_or][0][id][_eq]=3&filter[_or][1][id][_in]=7,9&sort=-id');
  assert.deepEqual(brackets.body, { data: [{ id: 9 }, { id: 7 }, { id: 3 }] });
  const current = await get('/notifications?fields=id,recipient&limit=2&filter[recipient][_eq]=$CURRENT_USER');
  assert.deepEqual(current.body.data, [
    { id: 1, recipient: ADMIN_ID },
    { id: 2, recipient: ADMIN_ID },
  ]);
});

test('aggregate[count]=* with groupBy[]=status, and aggregate as JSON', async () => {
  const res = await get('/notifications?aggregate[count]=*&groupBy[]=status&filter[id][_lte]=30');
  assert.equal(res.text, '{"data":[{"status":"archived","count":"6"},{"status":"inbox","count":"24"}]}');
  const json = await get(`/notifications?${q({ aggregate: '{"max":["id"]}', groupBy: 'status', 'filter[id][_lte]': '30' })}`);
  assert.equal(json.text, '{"data":[{"status":"archived","max":{"id":30}},{"status":"inbox","max":{"id":29}}]}');
});

test('meta=* adds total_count and filter_count', async () => {
  const { tok } = userWith(5, 'http-meta');
  const res = await get('/notifications?limit=2&meta=*&fields=id&filter[subject][_ends_with]=4', tok);
  assert.deepEqual(Object.keys(res.body), ['data', 'meta']);
  assert.deepEqual(res.body.meta, { total_count: 5, filter_count: 1 });
  const one = await get('/notifications?limit=0&meta=total_count', tok);
  assert.equal(one.text, '{"data":[],"meta":{"total_count":5}}');
});

test('search, sort, offset and page in the query string', async () => {
  const search = await get('/notifications?search=%2317&fields=id,subject&limit=5');
  assert.deepEqual(search.body.data, [{ id: 17, subject: 'Seed notification #17' }]);
  const page = await get('/notifications?fields=id&limit=3&page=2&sort=-id&filter[id][_lte]=30');
  assert.deepEqual(page.body.data, [{ id: 27 }, { id: 26 }, { id: 25 }]);
  const offset = await get('/notifications?fields=id,subject,status&limit=2&offset=10&sort=id');
  assert.equal(
    offset.text,
    '{"data":[{"id":11,"subject":"Seed notification #11","status":"inbox"},{"id":12,"subject":"Seed notification #12","status":"inbox"}]}',
  );
});

test('access_token in the query string authenticates like the bearer header', async () => {
  const res = await api('GET', `/notifications/5?fields=id,status&access_token=${admin}`);
  assert.equal(res.text, '{"data":{"id":5,"status":"archived"}}');
});

test('GET /notifications/:id and fields; missing, foreign or malformed ids are 403', async () => {
  const one = await get('/notifications/5');
  assert.equal(one.status, 200);
  assert.deepEqual(Object.keys(one.body), ['data']);
  isNotification(one.body.data, FIELD_ORDER);
  assert.equal(one.body.data.status, 'archived');
  assert.equal((await get('/notifications/5?fields=id,subject')).text, '{"data":{"id":5,"subject":"Seed notification #5"}}');
  const { tok } = userWith(0, 'http-foreign');
  isDirectusError(await get('/notifications/5', tok), 403, 'FORBIDDEN');
  isDirectusError(await get('/notifications/99999999'), 403, 'FORBIDDEN');
  isDirectusError(await get('/notifications/abc'), 403, 'FORBIDDEN');
});

test('POST /notifications: one object or an array, 200, fields applied', async () => {
  const user = person('http-post');
  const one = await api('POST', '/notifications', { tok: admin, body: { recipient: user, subject: 'one', item: 5 } });
  assert.equal(one.status, 200, one.text);
  isNotification(one.body.data);
  assert.equal(one.body.data.item, '5');
  const onlyId = await api('POST', '/notifications?fields=id', { tok: admin, body: { recipient: user, subject: 'two' } });
  assert.deepEqual(Object.keys(onlyId.body.data), ['id']);
  const many = await api('POST', '/notifications?fields=subject,recipient', {
    tok: admin,
    body: [
      { recipient: user, subject: 'a' },
      { recipient: user, subject: 'b' },
    ],
  });
  assert.equal(many.text, `{"data":[{"subject":"a","recipient":"${user}"},{"subject":"b","recipient":"${user}"}]}`);
  const none = await api('POST', '/notifications', { tok: admin, body: [] });
  assert.equal(none.text, '{"data":[]}');
});

test('PATCH /notifications/:id and PATCH /notifications (keys, query, batch)', async () => {
  const { tok, ids } = userWith(4, 'http-patch');
  const one = await api('PATCH', `/notifications/${ids[0]}`, { tok, body: { status: 'archived' } });
  assert.equal(one.status, 200, one.text);
  assert.equal(one.body.data.status, 'archived');
  const keys = await api('PATCH', '/notifications?fields=id,status', { tok, body: { keys: [ids[2], ids[1]], data: { status: 'archived' } } });
  assert.equal(keys.text, `{"data":[{"id":${ids[2]},"status":"archived"},{"id":${ids[1]},"status":"archived"}]}`);
  const query = await api('PATCH', '/notifications?fields=id,status', {
    tok,
    body: { query: { filter: { status: { _eq: 'archived' } }, limit: 2 }, data: { status: 'inbox' } },
  });
  assert.deepEqual(query.body.data, [
    { id: ids[0], status: 'inbox' },
    { id: ids[1], status: 'inbox' },
  ]);
  const batch = await api('PATCH', '/notifications?fields=id,subject', {
    tok: admin,
    body: [
      { id: ids[3], subject: 'batch D' },
      { id: ids[0], subject: 'batch A', status: 'archived' },
    ],
  });
  assert.equal(batch.text, `{"data":[{"id":${ids[3]},"subject":"batch D"},{"id":${ids[0]},"subject":"batch A"}]}`);
});

test('DELETE /notifications/:id and DELETE /notifications: 204, empty body, soft delete', async () => {
  const { user, ids } = userWith(5, 'http-delete');
  const one = await api('DELETE', `/notifications/${ids[0]}`, { tok: admin });
  assert.equal(one.status, 204);
  assert.equal(one.text, '');
  assert.equal((await api('DELETE', '/notifications', { tok: admin, body: [ids[1]] })).status, 204);
  assert.equal((await api('DELETE', '/notifications', { tok: admin, body: { keys: [ids[2]] } })).status, 204);
  const byQuery = await api('DELETE', '/notifications', {
    tok: admin,
    body: { query: { filter: { _and: [{ recipient: { _eq: user } }, { id: { _eq: ids[3] } }] } } },
  });
  assert.equal(byQuery.status, 204, byQuery.text);
  const left = await get(`/notifications?fields=id&filter[recipient][_eq]=${user}`);
  assert.deepEqual(left.body.data, [{ id: ids[4] }]);
  const deleted = sql(`SELECT count(*) FROM inbox.notifications WHERE user_id = '${user}' AND deleted_at IS NOT NULL`);
  assert.equal(deleted, '4');
  isDirectusError(await api('DELETE', `/notifications/${ids[0]}`, { tok: admin }), 403, 'FORBIDDEN');
});

test('one row, two APIs: created through /api/ and seen through /notifications, and back', async () => {
  const user = person('http-both');
  const tok = token(user, ['notifications:read', 'notifications:write', 'notifications:send']);
  const native = await api('POST', '/api/notifications', {
    tok,
    body: { userId: user, title: 'from /api/', body: 'b', actorId: 'bot', collection: 'c', item: 'i' },
  });
  assert.equal(native.status, 201, native.text);
  const id = Number(sql(`SELECT inbox.internal_id('${native.body.id}')`));
  const seen = await get(`/notifications/${id}`, tok);
  assert.deepEqual(
    { ...seen.body.data, timestamp: undefined },
    { id, timestamp: undefined, status: 'inbox', recipient: user, sender: 'bot', subject: 'from /api/', message: 'b', collection: 'c', item: 'i' },
  );
  await api('PATCH', `/notifications/${id}`, { tok, body: { status: 'archived' } });
  const back = await api('GET', `/api/notifications/${native.body.id}`, { tok });
  assert.equal(back.body.archived, true);
});

test('SEARCH /notifications takes the query in the body', async () => {
  const body = JSON.stringify({ query: { fields: ['id'], filter: { id: { _in: [3, 4] } }, sort: ['-id'] } });
  const res = await rawRequest(
    `SEARCH /notifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  assert.equal(res.status, 200, res.text);
  assert.equal(res.text, '{"data":[{"id":4},{"id":3}]}');
});


// Each error code, with its status.
test('INVALID_CREDENTIALS 401 for a token that is not one', async () => {
  const e = isDirectusError(await get('/notifications?limit=1', 'not-a-valid-token'), 401, 'INVALID_CREDENTIALS');
  assert.match(e.message, /invalid or expired token/);
  isDirectusError(await api('GET', '/notifications?access_token=nope'), 401, 'INVALID_CREDENTIALS');
});

test('INVALID_CREDENTIALS 401 for a token that cannot be one (RFC 6750), from the header or access_token', async () => {
  // The server's one token reader refuses, before the database, any token that is not an RFC 6750
  // b64token of at most 512 characters, wherever it comes from (this dialect skipped the check
  // before, and answered a NUL in ?access_token= with 400 INVALID_QUERY).
  for (const tok of ['a$b', 'pgi_"quoted"', 'x'.repeat(513)]) {
    const e = isDirectusError(await get('/notifications?limit=1', tok), 401, 'INVALID_CREDENTIALS');
    assert.equal(e.message, 'invalid or expired token');
  }
  for (const value of ['a%00b', 'a%20b', 'pgi_%C3%A9', 'x'.repeat(513)]) {
    const e = isDirectusError(await api('GET', `/notifications?limit=1&access_token=${value}`), 401, 'INVALID_CREDENTIALS');
    assert.equal(e.message, 'invalid or expired token');
  }
  // A header of another scheme is no token: access_token, if any, is the caller.
  const basic = await api('GET', `/notifications/5?fields=id&access_token=${admin}`, { headers: { authorization: 'Basic eHl6' } });
  assert.equal(basic.text, '{"data":{"id":5}}');
});

test('a trailing slash is ignored, as Directus\'s router ignores it', async () => {
  assert.equal((await get('/notifications/?fields=id&limit=1&sort=id')).text, '{"data":[{"id":1}]}');
  assert.equal((await get('/notifications/5/?fields=id')).text, '{"data":{"id":5}}');
  isDirectusError(await get('/notifications//'), 404, 'ROUTE_NOT_FOUND');
});

test('FORBIDDEN 403: no token, a missing scope, a field that is not there', async () => {
  isDirectusError(await api('GET', '/notifications?limit=1'), 403, 'FORBIDDEN');
  isDirectusError(await api('POST', '/notifications', { body: { subject: 'x' } }), 403, 'FORBIDDEN');
  const reader = token(person('http-reader'), ['notifications:read']);
  isDirectusError(await api('PATCH', '/notifications/1', { tok: reader, body: { status: 'archived' } }), 403, 'FORBIDDEN');
  isDirectusError(await api('DELETE', '/notifications/1', { tok: reader }), 403, 'FORBIDDEN');
  for (const path of ['/notifications?filter[nonexistent][_eq]=1', '/notifications?sort=nonexistent&limit=1', '/notifications?fields=nonexistent&limit=1']) {
    const e = isDirectusError(await get(path), 403, 'FORBIDDEN');
    assert.match(e.message, /no field "nonexistent"/);
  }
});

test('INVALID_QUERY 400 for a bad operator, a bad limit, filter JSON that is not JSON', async () => {
  for (const path of ['/notifications?filter[status][_bogus]=inbox', '/notifications?limit=abc', '/notifications?filter={"status":', '/notifications?meta=everything', '/notifications?deep={}']) {
    isDirectusError(await get(path), 400, 'INVALID_QUERY');
  }
});

test('INVALID_PAYLOAD 400 for a body that is not JSON or not a notification', async () => {
  const bad = await api('POST', '/notifications', { tok: admin, raw: '{"subject":', headers: { 'content-type': 'application/json' } });
  const e = isDirectusError(bad, 400, 'INVALID_PAYLOAD');
  assert.match(e.message, /invalid JSON/);
  isDirectusError(await api('POST', '/notifications', { tok: admin, body: { recipient: 'u', subject: 1 } }), 400, 'INVALID_PAYLOAD');
  isDirectusError(await api('POST', '/notifications', { tok: admin, body: { recipient: 'u', colour: 'red' } }), 400, 'INVALID_PAYLOAD');
  isDirectusError(await api('PATCH', '/notifications/1', { tok: admin, body: { status: 'read' } }), 400, 'INVALID_PAYLOAD');
  isDirectusError(await api('PATCH', '/notifications', { tok: admin, body: { keys: [1] } }), 400, 'INVALID_PAYLOAD');
  isDirectusError(await api('DELETE', '/notifications', { tok: admin, body: 'nothing' }), 400, 'INVALID_PAYLOAD');
  isDirectusError(await api('DELETE', '/notifications', { tok: admin }), 400, 'INVALID_PAYLOAD');
});

test('FAILED_VALIDATION 400 for a notification without a recipient or over a bound', async () => {
  const e = isDirectusError(await api('POST', '/notifications', { tok: admin, body: { subject: 'x' } }), 400, 'FAILED_VALIDATION');
  assert.match(e.message, /recipient: required/);
  isDirectusError(
    await api('POST', '/notifications', { tok: admin, body: { recipient: ADMIN_ID, subject: 'x'.repeat(1001) } }),
    400,
    'FAILED_VALIDATION',
  );
});

test('INVALID_FOREIGN_KEY 400 for a recipient or sender that is not a user (400, not Directus\'s 500)', async () => {
  for (const recipient of ['00000000-0000-0000-0000-000000000000', 'not-a-uuid']) {
    const e = isDirectusError(await api('POST', '/notifications', { tok: admin, body: { recipient, subject: 'x' } }), 400, 'INVALID_FOREIGN_KEY');
    assert.match(e.message, /payload.recipient: no user/);
  }
  const e = isDirectusError(
    await api('POST', '/notifications', { tok: admin, body: { recipient: ADMIN_ID, sender: 'nobody', subject: 'x' } }),
    400,
    'INVALID_FOREIGN_KEY',
  );
  assert.match(e.message, /payload.sender: no user "nobody"/);
});

test('ROUTE_NOT_FOUND 404 for other paths and methods under /notifications', async () => {
  isDirectusError(await get('/notifications/1/read'), 404, 'ROUTE_NOT_FOUND');
  isDirectusError(await api('PUT', '/notifications/1', { tok: admin, body: {} }), 404, 'ROUTE_NOT_FOUND');
  // Directus has no 405 and no OPTIONS here; the message names the path.
  const e = isDirectusError(await api('OPTIONS', '/notifications', { tok: admin }), 404, 'ROUTE_NOT_FOUND');
  assert.equal(e.message, "Route /notifications doesn't exist.");
  isDirectusError(await api('POST', '/notifications/1', { tok: admin, body: {} }), 404, 'ROUTE_NOT_FOUND');
});

test('UNSUPPORTED_MEDIA_TYPE 415 for a body that says it is not JSON', async () => {
  const res = await api('POST', '/notifications', { tok: admin, raw: '{}', headers: { 'content-type': 'text/plain' } });
  isDirectusError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
});
