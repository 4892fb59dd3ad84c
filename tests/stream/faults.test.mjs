// The faults of issue 14: kill -9 of the server while clients stream and creates go on, PostgreSQL
// stopped and started under open streams, a client that does not read, --max-streams.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync, spawn } from 'node:child_process';
import { startServer, SseClient, streamUrl, token, create, psql, sleep } from './helpers.mjs';

const run = Date.now();
const head = (user) => Number(psql(`SELECT inbox.feed_head('${user}')`));

// Every wait here has a bound, so a fault that stalls fails with what it waited for instead of
// hanging the suite (each test too: TEST_MS). A test that fails leaves no server or writer behind.
const TEST_MS = 10 * 60 * 1000;
const SYNC_MS = 120 * 1000;  // one psql or cluster.sh, run synchronously
const spawned = new Set();
async function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
async function serve(args = [], port = null) {
  const server = await within(startServer(args, port), 30000, 'the server to start');
  spawned.add(server.proc);
  server.exited.then(() => spawned.delete(server.proc));
  return server;
}
const stopped = (server, signal = 'SIGTERM') => within(server.stop(signal), 15000, `the server to exit on ${signal}`);
const opened = (client) => within(client.open(), 10000, `the stream to answer: ${client.url}`);
const fetched = (url) => fetch(url, { signal: AbortSignal.timeout(10000) });
afterEach(() => {
  for (const proc of spawned) proc.kill('SIGKILL');
  spawned.clear();
});

// Every client, resumed with its last id as often as needed, ends with ids 1..head exactly once.
async function resumeAll(base, users, tokens, clients) {
  const all = [];
  for (let i = 0; i < users.length; i++) {
    let c = clients[i];
    const seen = c.feed().map((e) => Number(e.id));
    for (let attempt = 0; attempt < 20 && (seen.at(-1) ?? 0) !== head(users[i]); attempt++) {
      const params = seen.length ? { last_event_id: String(seen.at(-1)) } : { last_event_id: '0' };
      c.close();
      c = new SseClient(streamUrl(base, tokens[i], params));
      await opened(c);
      const target = head(users[i]);
      await c.until(() => c.feed().length && Number(c.feed().at(-1).id) >= target, 3000);
      seen.push(...c.feed().map((e) => Number(e.id)));
    }
    c.close();
    all.push(seen);
  }
  return all;
}

function creator(users, everyMs) {
  // A separate process, so that creates go on while this one waits.
  const sql = users.map((u) => `PERFORM inbox.create('${u}', jsonb_build_object('type', 't', 'title', 'x'));`).join(' ');
  const script = `while :; do psql -X -q -d ${process.env.STREAM_DB} -c "DO \\$\\$BEGIN ${sql} END\\$\\$" >/dev/null 2>&1; sleep ${everyMs / 1000}; done`;
  const proc = spawn('bash', ['-c', script], { stdio: 'ignore' });
  spawned.add(proc);
  return proc;
}

test('kill -9 of the server while clients stream and creates go on: every event once, in order', { timeout: TEST_MS }, async () => {
  const users = [1, 2, 3].map((i) => `kill_${run}_${i}`);
  const tokens = users.map((u) => token(u));
  let server = await serve();
  const port = server.port;
  const clients = [];
  for (const t of tokens) {
    const c = new SseClient(streamUrl(server.url, t, { last_event_id: '0' }));
    await opened(c);
    clients.push(c);
  }
  const writer = creator(users, 30);
  await sleep(800);
  server.proc.kill('SIGKILL');
  await within(server.exited, 15000, 'the server to die on SIGKILL');
  await sleep(500);
  server = await serve([], port);
  await sleep(500);
  writer.kill();
  await sleep(200);
  const seen = await resumeAll(server.url, users, tokens, clients);
  for (let i = 0; i < users.length; i++) {
    const h = head(users[i]);
    assert.ok(h > 5, 'events were created');
    assert.deepEqual(seen[i], Array.from({ length: h }, (_, k) => k + 1), `${users[i]}: 1..${h} once, in order`);
  }
  await stopped(server);
});

test('PostgreSQL stopped and started under open streams: nothing lost on resume', { timeout: TEST_MS }, async () => {
  const users = [1, 2].map((i) => `pg_${run}_${i}`);
  const tokens = users.map((u) => token(u));
  const server = await serve();
  const clients = [];
  for (const t of tokens) {
    const c = new SseClient(streamUrl(server.url, t, { last_event_id: '0' }));
    await opened(c);
    clients.push(c);
  }
  for (const u of users) create(u);
  await Promise.all(clients.map((c) => c.until(() => c.feed().length >= 1)));
  const cluster = [`${process.env.ROOT}/scripts/cluster.sh`];
  execFileSync(cluster[0], ['stop', process.env.PG_INBOX_TEST_CLUSTER], { stdio: 'ignore', timeout: SYNC_MS });
  await sleep(1500);
  execFileSync(cluster[0], ['start', process.env.PG_INBOX_TEST_CLUSTER, process.env.PGPORT], { stdio: 'ignore', timeout: SYNC_MS });
  for (const u of users) { create(u); create(u); }
  await sleep(1500);
  const seen = await resumeAll(server.url, users, tokens, clients);
  for (let i = 0; i < users.length; i++)
    assert.deepEqual(seen[i], [1, 2, 3], `${users[i]}: every event once`);
  const r = await fetched(`${server.url}/readyz`);
  assert.equal(r.status, 200, 'the server serves again');
  await stopped(server);
});

test('a client that does not read is dropped at --stream-buffer-bytes; the others are not', { timeout: TEST_MS }, async () => {
  const user = `slow_${run}`;
  const tok = token(user);
  const server = await serve(['--stream-buffer-bytes', '262144']);
  const reader = new SseClient(streamUrl(server.url, tok));
  await opened(reader);
  // A raw socket that sends its request and never reads.
  const slow = net.connect(server.port, '127.0.0.1');
  await within(new Promise((r) => slow.on('connect', r)), 10000, 'the raw socket to connect');
  slow.write(`GET /api/notifications/stream?access_token=${tok} HTTP/1.1\r\nHost: x\r\n\r\n`);
  slow.pause();
  await sleep(300);
  // 60 transactions of 50 events of 4 kB: each batch fits the buffer of a client that reads
  // (a burst larger than the buffer would drop that client too; it resumes with its last id),
  // the whole (12 MB) does not fit the slow client's buffer and the kernel's.
  const blob = 'x'.repeat(4000);
  const one = `DO $$BEGIN FOR i IN 1..50 LOOP PERFORM inbox.create('${user}', jsonb_build_object('type', 't', 'title', 'n' || i, 'data', jsonb_build_object('blob', '${blob}'))); END LOOP; END$$`;
  // (A pause between them: one poll's batch stays one transaction's, 200 kB.)
  for (let i = 0; i < 60; i++) {
    execFileSync('psql', ['-X', '-q', '-d', process.env.STREAM_DB, '-c', one], { timeout: SYNC_MS });
    await sleep(60);
  }
  assert.ok(await reader.until(() => reader.feed().length >= 3000, 30000), `the reader got ${reader.feed().length}`);
  const metrics = await (await fetched(`${server.url}/metrics`)).text();
  const dropped = Number(/pg_inbox_streams_slow_disconnects_total (\d+)/.exec(metrics)[1]);
  assert.equal(dropped, 1, 'the slow client was dropped');
  reader.close();
  slow.destroy();
  await stopped(server);
});

test('--max-streams: beyond it 503 with Retry-After, for SSE and WebSocket', { timeout: TEST_MS }, async () => {
  const tok = token(`max_${run}`);
  const server = await serve(['--max-streams', '2']);
  const a = new SseClient(streamUrl(server.url, tok));
  const b = new SseClient(streamUrl(server.url, tok));
  await opened(a);
  await opened(b);
  const c = new SseClient(streamUrl(server.url, tok));
  await opened(c);
  assert.equal(c.status, 503);
  assert.equal(c.responseHeaders['retry-after'], '5');
  assert.equal(JSON.parse(c.body).error.code, 'too_many_streams');
  const { default: WebSocket } = await import('ws');
  const ws = await within(new Promise((resolve) => {
    const w = new WebSocket(`${server.url.replace('http', 'ws')}/websocket`);
    w.on('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy(); });
    w.on('open', () => { resolve(101); w.close(); });
    w.on('error', () => {});
  }), 10000, 'the WebSocket upgrade to answer');
  assert.equal(ws, 503);
  a.close();
  await sleep(200);
  const d = new SseClient(streamUrl(server.url, tok));
  await opened(d);
  assert.equal(d.status, 200, 'a slot frees when a stream ends');
  b.close();
  d.close();
  assert.equal((await fetched(`${server.url}/healthz`)).status, 200);
  await stopped(server);
});

test('SIGTERM ends the streams cleanly and the server exits 0', { timeout: TEST_MS }, async () => {
  const tok = token(`term_${run}`);
  const server = await serve();
  const c = new SseClient(streamUrl(server.url, tok));
  await opened(c);
  const exit = await stopped(server, 'SIGTERM');
  assert.equal(exit.code, 0);
  assert.ok(await c.until((_, s) => s.ended, 3000), 'the stream ended');
});
