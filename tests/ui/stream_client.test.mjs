// The client's stream reader (InboxClient.subscribe) in the browser, against a scripted
// text/event-stream server: the SSE format (CRLF, multi-line data, comments, retry), resume with
// Last-Event-ID after the server closes, backoff after a 503, the idle watchdog, and the final
// states (401: error, 404: unavailable, close()). What the real stream route sends is tested in
// live.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { BASE, launch, startServer, stopServer } from './harness.mjs';

let browser;
let page;
let mock;
let mockUrl;
// Each connection to the mock's stream is handed to the next function of `script`.
let script = [];
let connections = [];

before(async () => {
  await startServer();
  mock = http.createServer((req, res) => {
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': 'authorization, last-event-id, accept',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      return res.end();
    }
    connections.push({ url: req.url, lastEventId: req.headers['last-event-id'] ?? null, auth: req.headers.authorization });
    const next = script.shift();
    if (!next) {
      res.writeHead(503, { ...cors, 'content-type': 'application/json' });
      return res.end('{"error":{"code":"unavailable","message":"no script"}}');
    }
    next(req, res, cors);
  });
  await new Promise((r) => mock.listen(0, '127.0.0.1', r));
  mockUrl = `http://127.0.0.1:${mock.address().port}`;
  browser = await launch();
  page = await browser.newPage();
  await page.goto(`${BASE}/demo`);
});
after(async () => {
  await browser?.close();
  mock?.closeAllConnections?.();
  mock?.close();
  await stopServer();
});

const stream = (res, cors) => res.writeHead(200, { ...cors, 'content-type': 'text/event-stream', 'cache-control': 'no-store' });

// Subscribes in the page; returns nothing: read the page's window.seen.
function subscribe(options = {}) {
  return page.evaluate(
    async (server, options) => {
      const { InboxClient } = await import('/ui/pg-inbox.js');
      window.seen = { events: [], statuses: [] };
      const client = new InboxClient({ server, token: 'pgi_test', workspace: options.workspace });
      window.subscription = client.subscribe((e) => window.seen.events.push(e), {
        idleMs: options.idleMs,
        onStatus: (s, d) => window.seen.statuses.push(d.error ? `${s}:${d.error.name}:${d.error.code}` : s),
      });
    },
    mockUrl,
    options,
  );
}
const seen = () => page.evaluate(() => window.seen);
async function until(predicate, timeout = 5000) {
  const end = Date.now() + timeout;
  for (;;) {
    const s = await seen();
    if (predicate(s)) return s;
    if (Date.now() > end) throw new Error(`timed out; seen ${JSON.stringify(s)}; connections ${JSON.stringify(connections)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const close = () => page.evaluate(() => window.subscription.close());

test('events are parsed (CRLF, multi-line data, comments) and a closed stream resumes with Last-Event-ID', async () => {
  connections = [];
  script = [
    (req, res, cors) => {
      stream(res, cors);
      res.write('retry: 50\n\n: ping\n\n');
      res.write('id: 1\r\nevent: notification.created\r\ndata: {"id": "ntf_a",\r\ndata:  "title": "x"}\r\n\r\n');
      res.write('id: 2\nevent: unread_count\ndata:{"count": 7}\n\n');
      res.end(); // the server goes away after event 2
    },
    (req, res, cors) => {
      stream(res, cors);
      res.write('id: 3\nevent: reset\ndata: {}\n\n');
    },
  ];
  await subscribe({ workspace: 'w1' });
  const s = await until((s) => s.events.length === 3);
  await close();
  assert.deepEqual(
    s.events.map((e) => [e.id, e.type]),
    [['1', 'notification.created'], ['2', 'unread_count'], ['3', 'reset']],
  );
  assert.deepEqual(s.events[0].data, { id: 'ntf_a', title: 'x' });
  assert.deepEqual(s.events[1].data, { count: 7 });
  assert.equal(connections.length, 2);
  assert.equal(connections[0].lastEventId, null);
  assert.equal(connections[1].lastEventId, '2', 'the reconnect resumes after the last event');
  assert.equal(connections[0].auth, 'Bearer pgi_test', 'the token goes in the header, not the URL');
  assert.equal(connections[0].url, '/api/notifications/stream?workspace_id=w1');
  const statuses = (await until((s) => s.statuses.at(-1) === 'closed')).statuses;
  assert.deepEqual(statuses, ['connecting', 'live', 'reconnecting', 'live', 'closed']);
});

test('a 503 is retried with backoff, then the stream goes live', async () => {
  connections = [];
  script = [
    (req, res, cors) => {
      res.writeHead(503, { ...cors, 'content-type': 'application/json', 'retry-after': '1' });
      res.end('{"error":{"code":"unavailable","message":"down"}}');
    },
    (req, res, cors) => {
      stream(res, cors);
      res.write('retry: 50\nid: 9\nevent: unread_count\ndata: {"count": 1}\n\n');
    },
  ];
  await subscribe();
  const s = await until((s) => s.events.length === 1, 10000);
  await close();
  assert.equal(connections.length, 2);
  assert.ok(s.statuses.includes('reconnecting'));
  assert.ok(s.statuses.includes('live'));
});

test('a silent stream (no ping within idleMs) is taken as dead and reopened', async () => {
  connections = [];
  script = [
    (req, res, cors) => {
      stream(res, cors);
      res.write('retry: 50\nid: 4\nevent: unread_count\ndata: {"count": 1}\n\n'); // then silence
    },
    (req, res, cors) => {
      stream(res, cors);
      res.write('id: 5\nevent: unread_count\ndata: {"count": 2}\n\n');
    },
  ];
  await subscribe({ idleMs: 400 });
  const s = await until((s) => s.events.length === 2);
  await close();
  assert.equal(connections[1].lastEventId, '4');
  assert.deepEqual(s.events.map((e) => e.data.count), [1, 2]);
});

test('401 stops with an InboxAuthError; 404 stops as unavailable; neither reconnects', async () => {
  for (const [status, code, expected] of [
    [401, 'unauthorized', 'error:InboxAuthError:unauthorized'],
    [404, 'not_found', 'unavailable:InboxError:not_found'],
  ]) {
    connections = [];
    script = [
      (req, res, cors) => {
        res.writeHead(status, { ...cors, 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code, message: 'no' } }));
      },
    ];
    await subscribe();
    const s = await until((s) => s.statuses.includes(expected));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(connections.length, 1, `${status}: no reconnect`);
    assert.equal(s.statuses.at(-1), expected);
  }
});
