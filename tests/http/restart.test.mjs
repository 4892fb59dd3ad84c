// PostgreSQL going away under the running server: 503 meanwhile (the process stays up and
// healthy), then recovery by itself, and a restart that no request notices.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { api, create, isError, token, unique } from './helpers.mjs';

const cluster = process.env.PG_INBOX_TEST_CLUSTER;
const port = process.env.PGPORT;
const script = `${process.env.ROOT}/scripts/cluster.sh`;
// Asynchronous on purpose: a stop can take longer than the server's 5-second keep-alive, and a
// blocked event loop would not see the server close the client's idle socket, then reuse it.
const pg = (...args) => promisify(execFile)(script, args);

const user = unique('restart');
let tok;
let sender;
before(() => {
  tok = token(user, ['notifications:read', 'notifications:write']);
  sender = token(unique('app'), ['notifications:send']);
});
// Whatever happens, leave the cluster running for the suites after this one.
after(() => pg('start', cluster, port));  // returns the promise: node:test awaits it

// Polls until the request answers `status` (no assertion on how long that takes).
async function until(status, request) {
  for (let i = 0; i < 600; i++) {
    const res = await request();
    if (res.status === status) return res;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never answered ${status}`);
}

test('PostgreSQL stopped: 503 with Retry-After, /healthz still 200; then it recovers alone', async () => {
  const n = (await create(sender, { userId: user, title: 'survives' })).body;
  assert.equal((await api('GET', `/api/notifications/${n.id}`, { tok })).status, 200);

  await pg('stop', cluster);
  const down = await api('GET', `/api/notifications/${n.id}`, { tok });
  isError(assert, down, 503, 'database_unavailable');
  assert.equal(down.headers.get('retry-after'), '1');
  isError(assert, await api('PUT', `/api/notifications/${n.id}/read`, { tok }), 503, 'database_unavailable');
  isError(assert, await create(sender, { userId: user, title: 'while down' }), 503, 'database_unavailable');
  isError(assert, await api('GET', '/readyz'), 503);
  assert.equal((await api('GET', '/healthz')).status, 200);

  await pg('start', cluster, port);
  await until(200, () => api('GET', '/readyz'));
  const back = await until(200, () => api('GET', `/api/notifications/${n.id}`, { tok }));
  assert.equal(back.body.title, 'survives');
  assert.equal(back.body.read, false, 'the write refused while down did not happen');
  assert.equal((await api('PUT', `/api/notifications/${n.id}/read`, { tok })).status, 200);
});

test('a restart between requests goes unnoticed: idle connections are replaced before use', async () => {
  const n = (await create(sender, { userId: user, title: 'restart' })).body;
  // Use several pooled connections so that more than one is stale after the restart.
  await Promise.all(Array.from({ length: 8 }, () => api('GET', `/api/notifications/${n.id}`, { tok })));
  await pg('restart', cluster);
  const writes = await Promise.all(
    Array.from({ length: 8 }, (_, i) => api('PUT', `/api/notifications/${n.id}/${i % 2 ? 'read' : 'unread'}`, { tok })),
  );
  for (const w of writes) assert.equal(w.status, 200, w.text);
  const created = await create(sender, { userId: user, title: 'after restart' });
  assert.equal(created.status, 201, created.text);
});
