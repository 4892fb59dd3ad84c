// Slow, idle, oversized and too many clients: each costs the server a socket and a bounded
// buffer, never a worker, so the operations routes keep answering (issue 13, defects 5 and 6).
// The server runs with --head-timeout-ms 1000 --body-timeout-ms 1000 --idle-timeout-ms 1500
// --pool-size 2 (tests/hostile.sh); the capped one with --max-connections 4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { DATABASE_URL, sql, token, unique } from '../http/helpers.mjs';
import { CAPPED, connect, exchange, get, one, probe, rssMiB, sleep } from './raw.mjs';

const T = { timeout: 30000 };

// Opens `n` connections and keeps each writing `step` every `every` ms until stop().
async function holdMany(n, { base, first = '', step = '', every = 250 } = {}) {
  const sockets = await Promise.all(Array.from({ length: n }, () => connect(base)));
  const seen = sockets.map(() => Buffer.alloc(0));
  const closed = sockets.map(() => false);
  sockets.forEach((s, i) => {
    s.on('data', (d) => (seen[i] = Buffer.concat([seen[i], d])));
    s.on('error', () => {});
    s.on('close', () => (closed[i] = true));
    if (first) s.write(first);
  });
  const timer = step ? setInterval(() => sockets.forEach((s, i) => closed[i] || s.write(step)), every) : null;
  return {
    seen,
    closed,
    stop: () => {
      if (timer) clearInterval(timer);
      sockets.forEach((s) => s.destroy());
    },
  };
}

test('defect 5: 200 slowloris connections leave /healthz answering at once', T, async () => {
  const slow = await holdMany(200, { first: 'GET /healthz HTTP/1.1\r\nHost: x\r\n', step: 'X', every: 250 });
  const times = [];
  try {
    for (let i = 0; i < 7; i++) {
      times.push(await probe(3000));
      await sleep(200);
    }
  } finally {
    slow.stop();
  }
  assert.ok(times.every((t) => t < 1000), `probe times: ${times.join(', ')} ms`);
  // Each slow head met its deadline: 408 in JSON, then a close.
  const timedOut = slow.seen.filter((b) => b.toString('latin1').startsWith('HTTP/1.1 408')).length;
  assert.ok(timedOut >= 150, `${timedOut} of 200 slow heads were answered 408`);
});

test('defect 5: 100 idle connections leave /healthz answering at once, and are closed after the idle timeout', T, async () => {
  const idle = await holdMany(100);
  try {
    const t = await probe(3000);
    assert.ok(t < 500, `/healthz took ${t} ms`);
    await sleep(2500);
    assert.ok(idle.closed.every(Boolean), `${idle.closed.filter((c) => !c).length} idle connections still open`);
    assert.ok(idle.seen.every((b) => b.length === 0), 'an idle connection was sent bytes');
  } finally {
    idle.stop();
  }
});

test('defect 5: a declared 10 GB body is 413 at once, before a byte of it; trickled, the same', T, async () => {
  const start = Date.now();
  const r = await one('POST /api/notifications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n');
  assert.equal(r.res?.status, 413);
  assert.ok(Date.now() - start < 1000 && r.closed);
  const trickled = await one(['PUT /api/notifications/read-all HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n', 100, 'a', 100, 'b']);
  assert.equal(trickled.res?.status, 413);
});

test('a head or a body that does not arrive within its deadline is 408, and the connection closes', T, async () => {
  const head = await one(['GET /healthz HTTP/1.1\r\n', 300, 'Host: x\r\n', 300, 'X-Slow: 1\r\n'], { wait: 3000 });
  assert.equal(head.res?.status, 408, head.raw.toString('latin1'));
  assert.ok(head.closed && head.closedAfter < 2500, `closed after ${head.closedAfter} ms`);
  const body = await one(['POST /api/notifications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a"', 200, ':'], { wait: 3000 });
  assert.equal(body.res?.status, 408, body.raw.toString('latin1'));
  assert.ok(body.closed);
});

test('defect 6: ten parallel 15 MiB header floods are 431 each, and the server stays under 64 MiB', T, async () => {
  const before = rssMiB();
  const line = 'X-Flood: ' + 'a'.repeat(50) + '\r\n';
  const flood = Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\n' + line.repeat(Math.ceil((15 << 20) / line.length)));
  const results = await Promise.all(Array.from({ length: 10 }, () => exchange(flood, { wait: 5000 })));
  for (const r of results) {
    assert.equal(r.responses[0]?.status, 431, r.raw.toString('latin1').slice(0, 200));
    assert.ok(r.closed);
  }
  const after = rssMiB();
  assert.ok(after < 64, `RSS ${after.toFixed(1)} MiB after the floods (before: ${before.toFixed(1)})`);
  assert.ok(after - before < 16, `RSS grew ${(after - before).toFixed(1)} MiB`);
  assert.ok((await probe()) < 1000);
});

test('limits: request line 414, query string 414, header bytes 431, header count 431, body 413', T, async () => {
  const cases = [
    [get('/api/notifications/' + 'a'.repeat(9000)), 414],
    [get('/api/notifications?filter=' + 'a'.repeat(5000)), 414],
    [get('/healthz', `X-Big: ${'b'.repeat(70000)}\r\n`), 431],
    [get('/healthz', Array.from({ length: 65 }, (_, i) => `X-H${i}: v\r\n`).join('')), 431],
    ['POST /api/notifications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048577\r\n\r\n', 413],
    // A request line with no end, longer than the whole head may be.
    ['GET /' + 'c'.repeat(70000), 414],
  ];
  for (const [request, status] of cases) {
    const r = await one(request);
    assert.equal(r.res?.status, status, `${request.slice(0, 60)}: ${r.res?.body}`);
    assert.ok(r.closed, `${request.slice(0, 60)}: closed`);
  }
  // Exactly at the limits: served.
  const at = await one(get('/healthz', Array.from({ length: 60 }, (_, i) => `X-H${i}: v\r\n`).join('') + 'Connection: close\r\n'));
  assert.equal(at.res.status, 200);
});

test('with every worker waiting on the database, /healthz and /metrics still answer at once', T, async () => {
  const user = unique('busy');
  const tok = token(user, ['notifications:read', 'notifications:write']);
  const id = sql(`SELECT inbox.create('${user}', '{"title": "locked"}')->>'id'`);
  const locker = spawn('psql', [DATABASE_URL, '-XqtA'], { stdio: ['pipe', 'pipe', 'ignore'] });
  locker.stdin.write(`BEGIN; SELECT 1 FROM inbox.notifications WHERE user_id = '${user}' FOR UPDATE;\n`);
  await new Promise((r) => locker.stdout.once('data', r));
  const blocked = Array.from({ length: 6 }, () =>
    exchange(`PUT /api/notifications/${id}/read HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tok}\r\nConnection: close\r\n\r\n`, { wait: 8000 }));
  try {
    await sleep(300);
    const t = await probe(3000);
    assert.ok(t < 500, `/healthz took ${t} ms`);
    const m = await one(get('/metrics', 'Connection: close\r\n'));
    assert.equal(m.res.status, 200);
  } finally {
    locker.stdin.end('COMMIT;\n');
  }
  const statuses = (await Promise.all(blocked)).map((r) => r.responses[0]?.status);
  assert.ok(statuses.every((s) => s === 200 || s === 503), statuses.join(','));
});

test('--max-connections: beyond it the operations routes answer, the others are 503 at once; beyond the reserve, refused', T, async () => {
  const held = await holdMany(4, { base: CAPPED });
  try {
    await sleep(100);
    const health = await one(get('/healthz', 'Connection: close\r\n', CAPPED), { base: CAPPED });
    assert.equal(health.res?.status, 200);
    const ready = await one(get('/readyz', 'Connection: close\r\n', CAPPED), { base: CAPPED });
    assert.equal(ready.res?.status, 200);
    const start = Date.now();
    const api = await one(get('/api/notifications', '', CAPPED), { base: CAPPED });
    assert.equal(api.res?.status, 503, api.res?.body);
    assert.equal(JSON.parse(api.res.body).error.code, 'too_many_connections');
    assert.ok(api.res.headers['retry-after']);
    assert.ok(api.closed && Date.now() - start < 1000);
    const directus = await one(get('/notifications', '', CAPPED), { base: CAPPED });
    assert.equal(directus.res?.status, 503);
    assert.equal(JSON.parse(directus.res.body).errors[0].extensions.code, 'SERVICE_UNAVAILABLE');
    // The reserve (64 connections) taken too: a new connection is closed without a word.
    const reserve = await holdMany(64, { base: CAPPED });
    try {
      await sleep(100);
      const refused = await exchange(get('/healthz', '', CAPPED), { wait: 1000, base: CAPPED });
      assert.ok(refused.closed && refused.responses.length === 0, refused.raw.toString('latin1'));
    } finally {
      reserve.stop();
    }
  } finally {
    held.stop();
  }
  await sleep(300);
  const back = await one(get('/api/notifications', 'Connection: close\r\n', CAPPED), { base: CAPPED });
  assert.equal(back.res?.status, 401, 'served again once connections closed');
});
