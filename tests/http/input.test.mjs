// Bad input of every kind gets a JSON 4xx (never a 500, never HTML) and changes nothing.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { api, create, isError, rawRequest, sql, token, unique } from './helpers.mjs';

const user = unique('input');
let sender;
let reader;

before(() => {
  sender = token(user, ['notifications:send', 'notifications:read', 'notifications:write']);
  reader = token(user, ['notifications:read']);
});

const count = () => Number(sql(`SELECT count(*) FROM inbox.notifications WHERE user_id = '${user}'`));

const post = (raw, contentType = 'application/json', extra = {}) =>
  api('POST', '/api/notifications', {
    tok: sender, raw, headers: { 'content-type': contentType, ...extra },
  });

test('malformed JSON bodies are 400 invalid_input', async () => {
  const before = count();
  for (const raw of ['{', '{"userId": ', 'nul', '{"userId": "x",}', "{'userId': 'x'}", '[1, 2', '}']) {
    isError(assert, await post(raw), 400, 'invalid_input');
  }
  assert.equal(count(), before);
});

test('wrong JSON types and unknown fields are 400 naming the field', async () => {
  const cases = [
    [{ userId: user, title: 42 }, 'title'],
    [{ userId: user, data: [1] }, 'data'],
    [{ userId: user, data: 'x' }, 'data'],
    [{ userId: user, type: null }, 'type'],
    [{ userId: 7 }, 'userId'],
    [{ userId: user, colour: 'red' }, 'colour'],
    [{ title: 'no recipient' }, 'userId'],
    [{ userIds: 'x' }, 'userIds'],
    [{ userIds: [] }, 'userIds'],
    [{ userIds: [user, user] }, 'userIds'],
    [[{ userId: user }, { userId: user, title: false }], 'notifications[1].title'],
    [[], 'notifications'],
    ['a string', 'body'],
    [42, 'body'],
    [null, 'body'],
  ];
  const before = count();
  for (const [body, field] of cases) {
    const error = isError(assert, await create(sender, body), 400);
    assert.ok(error.message.startsWith(field), `${JSON.stringify(body)}: ${error.message}`);
  }
  assert.equal(count(), before);
});

test('values over their bounds are 400 check_violation', async () => {
  isError(assert, await create(sender, { userId: user, title: 'x'.repeat(1001) }), 400, 'check_violation');
  isError(assert, await create(sender, { userId: user, type: 'not a type!' }), 400, 'check_violation');
  isError(assert, await create(sender, { userId: 'u'.repeat(256) }), 400, 'check_violation');
});

test('NUL characters: escaped in JSON, raw in the body, in the path, in the query', async () => {
  const before = count();
  isError(assert, await post('{"userId": "' + user + '", "title": "a\\u0000b"}'), 400, 'invalid_text');
  // A raw NUL byte: libpq would cut the text there and see valid JSON; the server refuses it.
  isError(assert, await post(`{"userId": "${user}", "title": "ok"}\u0000garbage`), 400);
  isError(assert, await post(`{"userId": "${user}", "title": "a\u0000b"}`), 400);
  isError(assert, await api('GET', '/api/notifications/ntf_9wtr4mfdtxq5z%00', { tok: reader }), 400);
  isError(assert, await api('GET', '/api/notifications/unread-count?workspace_id=w%001', { tok: reader }), 400);
  isError(assert, await api('GET', '/api/notifications/unread-count?work%00space_id=w', { tok: reader }), 400);
  assert.equal(count(), before);
});

test('bytes that are not UTF-8 are 400', async () => {
  const body = Buffer.concat([Buffer.from(`{"userId": "${user}", "title": "`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
  isError(assert, await post(body), 400, 'invalid_text');
  isError(assert, await api('GET', '/api/notifications/unread-count?workspace_id=%FF', { tok: reader }), 400);
  isError(assert, await api('GET', '/api/notifications/%C3%28', { tok: reader }), 400);
});

test('a body that is not JSON is 415; an empty one is 400', async () => {
  const good = JSON.stringify({ userId: user, title: 'x' });
  isError(assert, await post(good, 'text/plain'), 415, 'unsupported_media_type');
  isError(assert, await post(good, 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
  isError(assert, await post(good, 'application/jsonp'), 415, 'unsupported_media_type');
  const noType = await rawRequest(
    `POST /api/notifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${sender}\r\n` +
      `Content-Length: ${good.length}\r\nConnection: close\r\n\r\n${good}`,
  );
  assert.equal(noType.status, 415, noType.text);
  assert.equal(JSON.parse(noType.text).error.code, 'unsupported_media_type');
  // JSON media types with parameters or a +json suffix are fine.
  assert.equal((await post(good, 'application/json; charset=utf-8')).status, 201);
  assert.equal((await post(good, 'application/merge-patch+json')).status, 201);
  isError(assert, await post(''), 400, 'bad_request');
  isError(assert, await api('POST', '/api/notifications', { tok: sender }), 400, 'bad_request');
});

test('a body over --max-body-bytes is 413; a chunked body is 411', async () => {
  const big = JSON.stringify({ userId: user, title: 'x', data: { blob: 'y'.repeat(1100000) } });
  isError(assert, await post(big), 413, 'payload_too_large');
  // A chunked body's size is only known while reading it: the server refuses chunked bodies
  // before reading any of it.
  const chunked = await rawRequest(
    `POST /api/notifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${sender}\r\n` +
      `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
      `${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`,
  );
  assert.equal(chunked.status, 411, chunked.text.slice(0, 200));
  assert.equal(JSON.parse(chunked.text).error.code, 'length_required');
  assert.equal(chunked.headers.connection, 'close');
});

test('query parameters: unknown, repeated, wrong values are 400', async () => {
  const n = (await create(sender, { userId: user, title: 'q' })).body;
  const bad = [
    `/api/notifications/${n.id}?verbose=1`,
    `/api/notifications/${n.id}?include_deleted=maybe`,
    `/api/notifications/${n.id}?markRead=1`,
    `/api/notifications/${n.id}?include_deleted=true&include_deleted=false`,
    '/api/notifications/unread-count?workspace=w1',
    '/api/notifications/unread-count?limit=10',
  ];
  for (const path of bad) isError(assert, await api('GET', path, { tok: sender }), 400);
  isError(assert, await api('PUT', `/api/notifications/${n.id}/read?force=true`, { tok: sender }), 400);
  isError(assert, await api('POST', '/api/notifications?dryRun=true', { tok: sender, body: { userId: user } }), 400);
  assert.equal((await api('GET', `/api/notifications/${n.id}`, { tok: sender })).body.read, false);
});

test('Idempotency-Key bounds', async () => {
  isError(assert, await create(sender, { userId: user }, { 'idempotency-key': 'k'.repeat(256) }), 400, 'invalid_parameter');
});
