// Framing: what reaches the server as HTTP/1.1 is exactly one request at a time, and anything
// that is not well-framed is answered 400 (or the precise status) and the connection closed,
// so that no byte after it is ever read as another request (issue 13, defects 2, 3, 4, 7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql, token, unique } from '../http/helpers.mjs';
import { exchange, get, one, post } from './raw.mjs';

const T = { timeout: 10000 };
const count = (title) => Number(sql(`SELECT count(*) FROM inbox.notifications WHERE title = '${title}'`));
const sender = token(unique('framing-sender'), ['notifications:send', 'notifications:read']);

// An error from the HTTP layer: the status, a JSON body, Connection: close, and the server
// closes its side at once.
function refusedAndClosed(r, status, what) {
  assert.equal(r.responses.length, 1, `${what}: exactly one response (${r.raw.toString('latin1').slice(0, 300)})`);
  assert.ok([].concat(status).includes(r.res.status), `${what}: ${r.res.line} ${r.res.body}`);
  assert.match(r.res.headers['content-type'] ?? '', /^application\/json/, what);
  assert.ok(JSON.parse(r.res.body), what);
  assert.equal(r.res.headers.connection, 'close', what);
  assert.ok(r.closed, `${what}: the server closed the connection`);
  assert.ok(r.closedAfter < 3000, `${what}: closed after ${r.closedAfter} ms`);
}

test('defect 2: a chunked body is 411 and the connection closes; a request smuggled behind it never runs', T, async () => {
  const title = unique('smuggled');
  const smuggled = post('/api/notifications', JSON.stringify({ userId: 'victim', title }), `Authorization: Bearer ${sender}\r\n`);
  const r = await one(
    `POST /api/notifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${sender}\r\nContent-Type: application/json\r\n` +
      `Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
  );
  refusedAndClosed(r, 411, 'chunked');
  assert.equal(r.res.headers['keep-alive'], undefined);
  assert.equal(count(title), 0, 'the smuggled create ran');
});

test('defect 2: Transfer-Encoding and Content-Length together, or a coding other than chunked last, is 400 and closes', T, async () => {
  for (const te of ['chunked\r\nContent-Length: 5', 'gzip', 'chunked, gzip']) {
    const r = await one(`POST /api/notifications HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${te}\r\n\r\n0\r\n\r\n`);
    refusedAndClosed(r, 400, `Transfer-Encoding: ${te}`);
  }
  const cl_first = await one('POST /api/notifications HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  refusedAndClosed(cl_first, 400, 'Content-Length then Transfer-Encoding');
});

test('defect 3: the body of a GET is read as its body, never as a second request', T, async () => {
  const inner = get('/healthz');
  const r = await exchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: ${inner.length}\r\n\r\n${inner}`, { wait: 700 });
  assert.equal(r.responses.length, 1, r.raw.toString('latin1'));
  assert.equal(r.responses[0].status, 200);
  const title = unique('in-a-get-body');
  const create = post('/api/notifications', JSON.stringify({ userId: 'victim', title }), `Authorization: Bearer ${sender}\r\n`);
  const r2 = await exchange(`DELETE /nope HTTP/1.1\r\nHost: x\r\nContent-Length: ${create.length}\r\n\r\n${create}`, { wait: 700 });
  assert.equal(r2.responses.length, 1);
  assert.equal(r2.responses[0].status, 404);
  assert.equal(count(title), 0);
});

test('defect 4: two Content-Length headers, or one that is not a plain number, is 400 and closes', T, async () => {
  const cases = [
    'Content-Length: 2\r\nContent-Length: 40',
    'Content-Length: 2\r\nContent-Length: 2',
    'Content-Length: 2, 2',
    'Content-Length: +2',
    'Content-Length: -1',
    'Content-Length: 0x2',
    'Content-Length: 2a',
    'Content-Length: 99999999999999999999999',
  ];
  for (const h of cases) {
    const r = await one(`POST /api/notifications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${h}\r\n\r\n{}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`);
    // (A length past any body limit may be refused as 413 instead: one answer and a close.)
    refusedAndClosed(r, h.includes('9999') ? [400, 413] : 400, h);
  }
});

test('garbled request lines, versions other than 1.0 and 1.1 and bad header lines are 400 and close', T, async () => {
  const cases = [
    ['this is not http\r\n\r\n', 400],
    ['GET /healthz\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n', 400],
    ['GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n', 400],
    ['GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n', 400],
    ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\nHost: x\n\n', 400],
    ['GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n', 400],
    ['GET /healthz HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n', 400],
    ['GET /heal\x00thz HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['GET /heal\rthz HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['G\x01T /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['GET healthz HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ];
  for (const [request, status] of cases) {
    const r = await one(request + get('/healthz'));
    refusedAndClosed(r, status, JSON.stringify(request));
  }
});

test('Host: missing on HTTP/1.1 or given twice is 400; HTTP/1.0 needs none', T, async () => {
  refusedAndClosed(await one('GET /healthz HTTP/1.1\r\n\r\n'), 400, 'no Host');
  refusedAndClosed(await one('GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'), 400, 'two Hosts');
  const old = await one('GET /healthz HTTP/1.0\r\n\r\n');
  assert.equal(old.res.status, 200);
  assert.ok(old.closed, 'HTTP/1.0 without keep-alive closes');
});

test('the absolute form of the target is served like its path', T, async () => {
  const r = await one('GET http://example.com/healthz HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
  assert.equal(r.res.status, 200);
});

test('keep-alive: pipelined requests are answered in order, and Connection: close is honoured', T, async () => {
  const r = await exchange(get('/healthz') + get('/nope') + get('/healthz', 'Connection: close\r\n') + get('/healthz'), { wait: 2000 });
  assert.deepEqual(r.responses.map((x) => x.status), [200, 404, 200]);
  assert.ok(r.closed);
});

test('HEAD: the headers of GET, no body', T, async () => {
  const r = await exchange(`HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n${get('/healthz', 'Connection: close\r\n')}`, { heads: 1 });
  assert.equal(r.responses.length, 2, r.raw.toString('latin1'));
  assert.equal(r.responses[0].status, 200);
  assert.equal(r.responses[0].headers['content-length'], '15');
  assert.equal(r.responses[1].body, '{"status":"ok"}');
});

test('Expect: 100-continue gets 100 Continue before the body is sent', T, async () => {
  const tok = token(unique('expect'), ['notifications:read']);
  const r = await exchange(
    [`POST /api/notifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tok}\r\nContent-Type: application/json\r\n` +
      'Content-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n', 300, '{}'],
    { wait: 2000 },
  );
  assert.equal(r.responses[0].status, 100, r.raw.toString('latin1'));
  assert.equal(r.responses[1].status, 403); // read-only token: not allowed to send
});

test('defect 7: SEARCH is served only where a route has it; elsewhere 405 and nothing runs', T, async () => {
  const tok = token(unique('search'), ['notifications:send', 'notifications:read', 'notifications:write', 'admin']);
  const title = unique('searched');
  const body = JSON.stringify({ userId: 'victim', title });
  for (const path of ['/api/notifications', '/api/notifications/read-all', '/healthz']) {
    const r = await one(
      `SEARCH ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tok}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    assert.equal(r.res.status, 405, `SEARCH ${path}: ${r.res.body}`);
  }
  const mutation = JSON.stringify({ query: `mutation { create_notifications_item(data: {recipient: "victim", subject: "${title}"}) { id } }` });
  const g = await one(
    `SEARCH /graphql/system HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tok}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${mutation.length}\r\nConnection: close\r\n\r\n${mutation}`,
  );
  assert.equal(g.res.status, 405, g.res.body);
  assert.match(g.res.headers.allow, /POST/);
  assert.equal(count(title), 0, 'a SEARCH created a notification');
  const q = JSON.stringify({ query: { limit: 1 } });
  const ok = await one(
    `SEARCH /notifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tok}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${q.length}\r\nConnection: close\r\n\r\n${q}`,
  );
  assert.equal(ok.res.status, 200, ok.res.body);
});

test('an unknown method is answered in JSON (404 or 405), and the connection stays usable', T, async () => {
  const r = await exchange(`BREW /api/notifications HTTP/1.1\r\nHost: x\r\n\r\n${get('/healthz', 'Connection: close\r\n')}`);
  assert.deepEqual(r.responses.map((x) => x.status), [405, 200]);
});
