// Odd input in every dialect: numbers beyond a double, header tricks, encodings, the log,
// idempotency scoping, meta on a create, tokens per dialect (issue 13, defects 1, 8 to 12).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, sql, token, unique } from '../http/helpers.mjs';
import { exchange, get, one, post, serverLog } from './raw.mjs';

const T = { timeout: 10000 };
const user = unique('hostile');
const admin = token(unique('hostile-admin'), ['admin']);
const sender = token(unique('hostile-sender'), ['notifications:send']);
const reader = token(user, ['notifications:read', 'notifications:write']);
const count = (where) => Number(sql(`SELECT count(*) FROM inbox.notifications WHERE ${where}`));

// A client error, never a server error, in the dialect's envelope.
function clientError(res, what) {
  assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status} ${res.text}`);
}

test('defect 1: 1e400 in a Directus body is 400 INVALID_PAYLOAD', T, async () => {
  const res = await api('POST', '/notifications', { tok: admin, raw: `{"recipient": "${user}", "subject": 1e400}`, headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 400, res.text);
  assert.equal(res.body.errors[0].extensions.code, 'INVALID_PAYLOAD');
  const many = await api('PATCH', '/notifications', { tok: admin, raw: '{"keys": [1e400], "data": {"status": "archived"}}', headers: { 'content-type': 'application/json' } });
  clientError(many, 'PATCH keys 1e400');
});

test('defect 1: 1e400 in a native body, a native filter, a Directus filter: never a server error', T, async () => {
  const created = await api('POST', '/api/notifications', { tok: sender, raw: `{"userId": "${user}", "title": "big", "data": {"n": 1e400}}`, headers: { 'content-type': 'application/json' } });
  assert.ok(created.status === 201 || created.status === 400, `${created.status} ${created.text}`);
  const filter = encodeURIComponent('{"title": {"eq": 1e400}}');
  clientError(await api('GET', `/api/notifications?filter=${filter}`, { tok: reader }), 'native filter');
  const limit = await api('GET', '/api/notifications?limit=1e400', { tok: reader });
  clientError(limit, 'native limit');
  const dfilter = encodeURIComponent('{"id": {"_eq": 1e400}}');
  clientError(await api('GET', `/notifications?filter=${dfilter}`, { tok: admin }), 'Directus filter');
  clientError(await api('GET', '/notifications?limit=1e400', { tok: admin }), 'Directus limit');
});

test('defect 1: 1e400 in a GraphQL variable or argument is a GraphQL error, never a server error', T, async () => {
  const vars = await api('POST', '/graphql/system', {
    tok: admin,
    raw: '{"query": "query ($n: Int) { notifications(limit: $n) { id } }", "variables": {"n": 1e400}}',
    headers: { 'content-type': 'application/json' },
  });
  assert.ok(vars.status === 400 || (vars.status === 200 && vars.body.errors), `${vars.status} ${vars.text}`);
  const literal = await api('POST', '/graphql/system', { tok: admin, body: { query: '{ notifications(limit: 1e400) { id } }' } });
  clientError(literal, 'GraphQL literal');
  const fl = await api('POST', '/graphql/system', {
    tok: admin,
    raw: '{"query": "query ($f: notifications_filter) { notifications(filter: $f) { id } }", "variables": {"f": {"id": {"_eq": 1e400}}}}',
    headers: { 'content-type': 'application/json' },
  });
  assert.ok(fl.status < 500 && (fl.status === 400 || fl.body.errors), `${fl.status} ${fl.text}`);
});

test('defect 8: a request cannot write a line into the log; CR, LF and NUL are escaped', T, async () => {
  const marker = unique('FORGED');
  await api('GET', `/nope%0a${marker}%20GET%20/admin%20200%0d%00`);
  await one(get(`/x%1b[31m${marker}`, 'Connection: close\r\n'));
  const log = serverLog();
  for (const line of log.toString('latin1').split('\n')) {
    assert.ok(!line.startsWith(marker), `forged line: ${line}`);
    if (line.includes(marker)) assert.match(line, /\\n|\\x1b/);
  }
  assert.ok(!log.includes(0x00) && !log.includes(0x0d) && !log.includes(0x1b), 'a control character reached the log');
});

test('defect 9: header values are verbatim: a percent-encoded token is not a token', T, async () => {
  const tok = token(unique('verbatim'), ['notifications:read']);
  const encoded = '%' + tok.charCodeAt(0).toString(16) + tok.slice(1);
  for (const path of ['/api/notifications', '/notifications', '/graphql/system?query=%7B__typename%7D']) {
    const r = await one(get(path, `Authorization: Bearer ${encoded}\r\nConnection: close\r\n`));
    assert.equal(r.res.status, 401, `${path}: ${r.res.body}`);
  }
  const good = await one(get('/api/notifications/unread-count', `Authorization: Bearer ${tok}\r\nConnection: close\r\n`));
  assert.equal(good.res.status, 200);
});

test('defect 9: an Idempotency-Key is taken as sent: K%00zzz is not K', T, async () => {
  const body = JSON.stringify({ userId: user, title: unique('idem-verbatim') });
  const a = await one(post('/api/notifications', body, `Authorization: Bearer ${sender}\r\nIdempotency-Key: K-${user}\r\nConnection: close\r\n`));
  const b = await one(post('/api/notifications', body, `Authorization: Bearer ${sender}\r\nIdempotency-Key: K-${user}%00zzz\r\nConnection: close\r\n`));
  assert.equal(a.res.status, 201);
  assert.equal(b.res.status, 201);
  assert.notEqual(JSON.parse(a.res.body).id, JSON.parse(b.res.body).id);
});

test('defect 9: a control character in any header value is 400 and closes', T, async () => {
  for (const value of ['a\x00b', 'a\x01b', 'a\x7fb', 'a\rb', 'a\x1b[2Jb']) {
    for (const name of ['Authorization', 'Idempotency-Key', 'X-Anything']) {
      const r = await one(`GET /healthz HTTP/1.1\r\nHost: x\r\n${name}: ${value}\r\n\r\n`);
      assert.equal(r.res?.status, 400, `${name}: ${JSON.stringify(value)} ${r.raw.toString('latin1').slice(0, 100)}`);
      assert.ok(r.closed);
    }
  }
});

test('header tricks: a second Authorization, Content-Type or Idempotency-Key is 400', T, async () => {
  const tok = token(unique('twice'), ['notifications:read']);
  for (const h of [
    `Authorization: Bearer ${tok}\r\nAuthorization: Bearer ${admin}\r\n`,
    `Authorization: Bearer ${tok}\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\n`,
    `Authorization: Bearer ${sender}\r\nIdempotency-Key: a\r\nIdempotency-Key: b\r\n`,
  ]) {
    const r = await one(get('/api/notifications', h));
    assert.equal(r.res?.status, 400, h);
  }
});

test('defect 10: an Idempotency-Key cannot be replayed by the token of another workspace', T, async () => {
  const owner = unique('ws-owner');
  const w1 = token(owner, ['notifications:send', 'notifications:read'], 'w1');
  const w2 = token(owner, ['notifications:send', 'notifications:read'], 'w2');
  const body = JSON.stringify({ userId: owner, title: 'secret of w1' });
  const first = await one(post('/api/notifications', body, `Authorization: Bearer ${w1}\r\nIdempotency-Key: shared\r\nConnection: close\r\n`));
  assert.equal(first.res.status, 201, first.res.body);
  const replay = await one(post('/api/notifications', body, `Authorization: Bearer ${w2}\r\nIdempotency-Key: shared\r\nConnection: close\r\n`));
  assert.equal(replay.res.status, 409, replay.res.body);
  assert.ok(!replay.res.body.includes(JSON.parse(first.res.body).id), 'the w1 notification leaked to w2');
  const again = await one(post('/api/notifications', body, `Authorization: Bearer ${w1}\r\nIdempotency-Key: shared\r\nConnection: close\r\n`));
  assert.equal(JSON.parse(again.res.body).id, JSON.parse(first.res.body).id, 'the w1 token still replays its key');
});

test('defect 11: an empty Idempotency-Key is 400 and creates nothing; 1 to 255 characters are keys', T, async () => {
  const title = unique('empty-key');
  const body = JSON.stringify({ userId: user, title });
  for (let i = 0; i < 2; i++) {
    const r = await one(post('/api/notifications', body, `Authorization: Bearer ${sender}\r\nIdempotency-Key:\r\nConnection: close\r\n`));
    assert.equal(r.res.status, 400, r.res.body);
    const spaces = await one(post('/api/notifications', body, `Authorization: Bearer ${sender}\r\nIdempotency-Key:   \r\nConnection: close\r\n`));
    assert.equal(spaces.res.status, 400, spaces.res.body);
  }
  assert.equal(count(`title = '${title}'`), 0);
  const long = await one(post('/api/notifications', body, `Authorization: Bearer ${sender}\r\nIdempotency-Key: ${'k'.repeat(255)}\r\nConnection: close\r\n`));
  assert.equal(long.res.status, 201);
});

test('defect 12: a Directus create by a send-only token answers no count of other users\' notifications', T, async () => {
  for (const meta of ['meta=total_count', 'meta=*', 'meta[]=filter_count']) {
    const res = await api('POST', `/notifications?${meta}`, { tok: sender, body: { recipient: user, subject: 'counted?' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.meta, undefined, `${meta}: ${res.text}`);
    assert.equal(res.body.data.recipient, user);
  }
});

test('encodings: bytes that are not UTF-8 in the path or query are 400 in every dialect', T, async () => {
  for (const path of ['/api/notifications/%C3%28', '/api/notifications?workspace_id=%FF', '/notifications?filter=%C0%AF',
    '/graphql/system?query=%FF']) {
    const res = await api('GET', path, { tok: admin });
    assert.equal(res.status, 400, `${path}: ${res.text}`);
  }
  // A UTF-16 surrogate encoded as UTF-8 in a Directus key: not a key (403 or 400), never a 500.
  clientError(await api('GET', '/notifications/%ED%A0%80', { tok: admin }), 'surrogate key');
  const overlong = Buffer.concat([Buffer.from(`{"userId": "${user}", "title": "`), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]);
  clientError(await api('POST', '/api/notifications', { tok: sender, raw: overlong, headers: { 'content-type': 'application/json' } }), 'overlong UTF-8 body');
  clientError(await api('POST', '/notifications', { tok: admin, raw: overlong, headers: { 'content-type': 'application/json' } }), 'overlong UTF-8 Directus body');
});

test('odd JSON numbers are client errors or values, never server errors', T, async () => {
  for (const n of ['-0', '1e-400', '123456789012345678901234567890', '-1e308', '1E+2', '0.0000001']) {
    clientError(await api('GET', `/notifications/${n}`, { tok: admin }), `Directus id ${n}`);
    const f = encodeURIComponent(`{"id": {"_eq": ${n}}}`);
    const res = await api('GET', `/notifications?filter=${f}`, { tok: admin });
    assert.ok(res.status === 200 || (res.status >= 400 && res.status < 500), `filter ${n}: ${res.status} ${res.text}`);
    const g = await api('POST', '/graphql/system', { tok: admin, raw: `{"query": "query ($id: ID!) { notifications_by_id(id: $id) { id } }", "variables": {"id": ${n}}}`, headers: { 'content-type': 'application/json' } });
    assert.ok(g.status < 500, `GraphQL id ${n}: ${g.status} ${g.text}`);
  }
});

test('auth per dialect: no token, a malformed one, another scheme', T, async () => {
  const none = await api('GET', '/api/notifications');
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate'), /^Bearer/);
  assert.equal((await api('GET', '/api/notifications', { headers: { authorization: 'Basic eHl6' } })).status, 401);
  assert.equal((await api('GET', '/api/notifications', { headers: { authorization: 'Bearer' } })).status, 401);
  assert.equal((await api('GET', '/api/notifications', { headers: { authorization: 'Bearer a b' } })).status, 401);
  const d = await api('GET', '/notifications');
  assert.equal(d.status, 403);
  assert.equal(d.body.errors[0].extensions.code, 'FORBIDDEN');
  const bad = await api('GET', '/notifications', { headers: { authorization: 'Bearer pgi_nope' } });
  assert.equal(bad.status, 401);
  assert.equal(bad.body.errors[0].extensions.code, 'INVALID_CREDENTIALS');
  const g = await api('POST', '/graphql/system', { body: { query: '{ __typename }' }, headers: { authorization: 'Bearer a%62' } });
  assert.equal(g.status, 401);
  assert.equal(g.body.errors[0].extensions.code, 'INVALID_CREDENTIALS');
  const lower = await api('GET', '/api/notifications/unread-count', { headers: { authorization: `bearer ${reader}` } });
  assert.equal(lower.status, 200, 'the scheme is case-insensitive');
});

test('the HTTP layer writes its errors in the dialect of the path', T, async () => {
  const big = 'x'.repeat(70000);
  const native = await one(get('/api/notifications', `X-Big: ${big}\r\n`));
  assert.equal(native.res.status, 431);
  assert.equal(JSON.parse(native.res.body).error.code, 'too_many_headers');
  const directus = await one(get('/notifications', `X-Big: ${big}\r\n`));
  assert.equal(directus.res.status, 431);
  assert.ok(JSON.parse(directus.res.body).errors[0].extensions.code);
  const graphql = await one('POST /graphql/system HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9999999\r\n\r\n');
  assert.equal(graphql.res.status, 413);
  assert.equal(JSON.parse(graphql.res.body).errors[0].extensions.code, 'CONTENT_TOO_LARGE');
  const chunked = await one('POST /notifications HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  assert.equal(chunked.res.status, 411);
  assert.ok(JSON.parse(chunked.res.body).errors);
  const garbled = await one('GET /api/notifications HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n');
  assert.equal(garbled.res.status, 400);
  assert.equal(JSON.parse(garbled.res.body).error.code, 'bad_request');
});

test('the log names each request in one line, even one refused before its path was read', T, async () => {
  await exchange('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 tls hello?\r\n\r\n');
  const lines = serverLog().toString('latin1').split('\n').filter((l) => l.includes(' - - 400 '));
  assert.ok(lines.length >= 1, 'no log line for a request whose line could not be read');
});
