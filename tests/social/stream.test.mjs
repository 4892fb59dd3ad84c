// Mastodon's streaming API on the realtime hub: masto.js's streaming client (a WebSocket with the
// token as its Sec-WebSocket-Protocol), raw frames for what a client library would not send, and
// the SSE routes through fetch's streaming body. The payload of every `notification` event must
// be the Notification GET /api/v1/notifications/:id answers for the same id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createStreamingAPIClient } from 'masto';
import { BASE, api, sql, token, unique } from '../http/helpers.mjs';

const WS_URL = BASE.replace('http', 'ws') + '/api/v1/streaming';
const admin = token(unique('root'), ['admin']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const reader = (user) => token(user, ['notifications:read']);

// A notification for `user` created through pg_inbox's REST API; its Mastodon id.
async function createFor(user, fields = {}) {
  const res = await api('POST', '/api/notifications', {
    tok: admin,
    body: { userId: user, type: 'mention', actorId: 'bob', item: '103186126728896492', ...fields },
  });
  assert.equal(res.status, 201, res.text);
  return sql(`SELECT inbox.internal_id('${res.body.id}')`);
}

// What the REST API answers for the notification (the one shape).
async function restEntity(tok, id) {
  const res = await api('GET', `/api/v1/notifications/${id}`, { tok });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

// A raw socket collecting its frames (parsed), or the refused upgrade's response.
function socket(url, protocols) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    const frames = [];
    ws.on('message', (d, binary) => frames.push(binary ? d : JSON.parse(d.toString())));
    ws.on('open', () => {
      const until = async (pred, ms = 5000) => {
        const end = Date.now() + ms;
        while (!pred(frames) && Date.now() < end) await sleep(20);
        return pred(frames);
      };
      resolve({ ws, frames, until, send: (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)) });
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ refused: { status: res.statusCode, headers: res.headers, body } }));
    });
    ws.on('error', reject);
  });
}

// An SSE stream read through fetch: the raw text so far, and the events parsed from it.
async function sse(path, headers = {}) {
  const controller = new AbortController();
  const res = await fetch(BASE + path, { headers, signal: controller.signal });
  const stream = { res, text: '', events: [], ended: false, close: () => controller.abort() };
  if (res.headers.get('content-type') !== 'text/event-stream') {
    stream.body = await res.text();
    return stream;
  }
  (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) {
        stream.text += decoder.decode(chunk, { stream: true });
        stream.events = stream.text.split('\n\n').filter((b) => b.includes('event: ')).map((b) => {
          const event = /^event: (.*)$/m.exec(b)?.[1];
          const data = /^data: (.*)$/m.exec(b)?.[1];
          return { event, data };
        });
      }
    } catch {}
    stream.ended = true;
  })();
  stream.until = async (pred, ms = 5000) => {
    const end = Date.now() + ms;
    while (!pred(stream) && Date.now() < end) await sleep(20);
    return pred(stream);
  };
  return stream;
}

test('masto.js streaming: user:notification receives a REST-created notification, the v1 entity', async () => {
  const user = unique('ms-masto');
  const tok = reader(user);
  const streaming = createStreamingAPIClient({
    streamingApiUrl: BASE.replace('http', 'ws'), accessToken: tok, implementation: WebSocket, retry: false,
  });
  const subscription = streaming.user.notification.subscribe();
  const events = subscription[Symbol.asyncIterator]();
  const first = events.next();
  // masto.js connects after a back-off and its subscribe has no answer: create one every
  // 500 ms (and one for another user each time) until the first arrives.
  const ids = [];
  let received = null;
  first.then((r) => { received = r; });
  for (let i = 0; i < 30 && !received; i++) {
    await createFor(unique('ms-someone-else'));
    ids.push(await createFor(user, { type: 'favourite', groupKey: 'favourite:103186126728896492' }));
    await sleep(500);
  }
  assert.ok(received, 'a notification event within 15 s');
  const { value } = await first;
  assert.equal(value.event, 'notification');
  assert.deepEqual(value.stream, ['user:notification']);
  assert.ok(ids.includes(value.payload.id), `${value.payload.id} is one of ${ids}`);
  assert.equal(value.payload.type, 'favourite');
  assert.equal(value.payload.groupKey, 'favourite:103186126728896492');
  assert.equal(value.payload.account.displayName, 'Bob Testing');
  assert.equal(value.payload.status.id, '103186126728896492');
  assert.equal(value.payload.status.account.id, 'carol');
  assert.match(value.payload.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  subscription.unsubscribe();
  streaming.close();
});

test('WebSocket: ?stream=, the token as Sec-WebSocket-Protocol (echoed), frames with the payload as text', async () => {
  const user = unique('ms-ws');
  const tok = reader(user);
  const s = await socket(`${WS_URL}?stream=user:notification`, [tok]);
  assert.equal(s.ws.protocol, tok);
  await sleep(300);
  const id = await createFor(user);
  assert.ok(await s.until((f) => f.length >= 1), 'a frame');
  const frame = s.frames[0];
  assert.deepEqual(Object.keys(frame), ['stream', 'event', 'payload']);
  assert.deepEqual(frame.stream, ['user:notification']);
  assert.equal(frame.event, 'notification');
  assert.equal(typeof frame.payload, 'string');
  assert.deepEqual(JSON.parse(frame.payload), await restEntity(tok, id));
  s.ws.close();
});

test('WebSocket: subscribe and unsubscribe messages; user and user:notification each get a frame', async () => {
  const user = unique('ms-sub');
  const tok = reader(user);
  const s = await socket(`${WS_URL}?access_token=${tok}`);
  s.send({ type: 'subscribe', stream: 'user' });
  s.send({ type: 'subscribe', stream: ['user:notification'] });
  s.send({ type: 'subscribe', stream: 'user' });  // a repeat is ignored
  s.send('not json');                              // ignored, as Mastodon ignores it
  s.send({ type: 'dance' });                       // an unknown type too
  await sleep(300);
  const id = await createFor(user);
  assert.ok(await s.until((f) => f.length >= 2));
  await sleep(200);
  assert.deepEqual(s.frames.map((f) => f.stream[0]), ['user', 'user:notification']);
  assert.ok(s.frames.every((f) => JSON.parse(f.payload).id === id));
  s.send({ type: 'unsubscribe', stream: 'user' });
  s.send({ type: 'unsubscribe', stream: 'user:notification' });
  await sleep(300);
  await createFor(user);
  await sleep(500);
  assert.equal(s.frames.length, 2, 'nothing after unsubscribing');
  s.send({ type: 'unsubscribe', stream: 'public' });
  assert.ok(await s.until((f) => f.length === 3));
  assert.deepEqual(s.frames[2], { error: 'Error unsubscribing from channel' });
  s.ws.close();
});

test('WebSocket: an unknown stream and a token without the scope are Mastodon\'s error frames', async () => {
  const user = unique('ms-err');
  const s = await socket(`${WS_URL}?stream=public`, [reader(user)]);
  assert.ok(await s.until((f) => f.length === 1));
  assert.deepEqual(s.frames[0], { error: 'Unknown stream type', status: 400 });
  s.ws.close();
  const writer = await socket(`${WS_URL}?stream=user:notification`, [token(user, ['notifications:write'])]);
  assert.ok(await writer.until((f) => f.length === 1));
  assert.deepEqual(writer.frames[0], { error: 'Access token does not have the required scopes', status: 401 });
  await createFor(user);
  await sleep(500);
  assert.equal(writer.frames.length, 1, 'no notification for a token without the scope');
  writer.ws.close();
});

test('WebSocket: a bad or missing token refuses the upgrade (401, X-Error-Message)', async () => {
  const bad = await socket(`${WS_URL}?stream=user:notification&access_token=pgi_nonsense`);
  assert.equal(bad.refused?.status, 401);
  assert.equal(bad.refused.headers['x-error-message'], 'Invalid access token');
  const none = await socket(`${WS_URL}?stream=user:notification`);
  assert.equal(none.refused?.status, 401);
  assert.equal(none.refused.headers['x-error-message'], 'Missing access token');
  const revoked = reader(unique('ms-revoked'));
  sql(`SELECT inbox.revoke_token('${revoked}')`);
  const gone = await socket(WS_URL, [revoked]);
  assert.equal(gone.refused?.status, 401);
});

test('SSE: /api/v1/streaming/user/notification sends event: notification with the REST entity, and :thump', async () => {
  const user = unique('ms-sse');
  const tok = reader(user);
  const s = await sse('/api/v1/streaming/user/notification', { authorization: `Bearer ${tok}` });
  assert.equal(s.res.status, 200);
  assert.equal(s.res.headers.get('content-type'), 'text/event-stream');
  assert.equal(s.res.headers.get('cache-control'), 'no-store');
  await sleep(300);
  const id = await createFor(user);
  assert.ok(await s.until((x) => x.events.length >= 1), s.text);
  assert.ok(s.text.startsWith(':)\n'), s.text);
  assert.equal(s.events[0].event, 'notification');
  assert.deepEqual(JSON.parse(s.events[0].data), await restEntity(tok, id));
  assert.ok(await s.until((x) => x.text.includes(':thump\n')), 'a heartbeat');
  s.close();
});

test('SSE: /api/v1/streaming/user with ?access_token= sends the notification event too', async () => {
  const user = unique('ms-sse-user');
  const tok = reader(user);
  const s = await sse(`/api/v1/streaming/user?access_token=${tok}`);
  assert.equal(s.res.status, 200);
  await sleep(300);
  const id = await createFor(user);
  assert.ok(await s.until((x) => x.events.length >= 1), s.text);
  assert.equal(JSON.parse(s.events[0].data).id, id);
  s.close();
});

test('SSE: errors as Mastodon\'s streaming server writes them', async () => {
  const user = unique('ms-sse-err');
  const cases = [
    ['/api/v1/streaming/user/notification', {}, 401, 'Missing access token'],
    ['/api/v1/streaming/user/notification?access_token=pgi_nonsense', {}, 401, 'Invalid access token'],
    ['/api/v1/streaming/user/notification', { authorization: `Bearer ${token(user, ['notifications:write'])}` },
      401, 'Access token does not have the required scopes'],
    ['/api/v1/streaming/public', { authorization: `Bearer ${reader(user)}` }, 400, 'Unknown channel requested'],
    ['/api/v1/streaming/public/local', {}, 400, 'Unknown channel requested'],
  ];
  for (const [path, headers, status, error] of cases) {
    const s = await sse(path, headers);
    assert.equal(s.res.status, status, path);
    assert.deepEqual(JSON.parse(s.body), { error }, path);
  }
  const health = await fetch(`${BASE}/api/v1/streaming/health`);
  assert.equal(health.status, 200);
  assert.match(health.headers.get('content-type'), /^text\/plain/);
  assert.equal(await health.text(), 'OK');
});

test('a revoked token ends the stream (the poller\'s token check)', async () => {
  const user = unique('ms-revoke');
  const tok = reader(user);
  const s = await sse('/api/v1/streaming/user/notification', { authorization: `Bearer ${tok}` });
  assert.equal(s.res.status, 200);
  sql(`SELECT inbox.revoke_token('${tok}')`);
  assert.ok(await s.until((x) => x.ended, 5000), 'the stream ended');
});

test('bounds: beyond --max-streams a Mastodon stream is 503 with Retry-After; SIGTERM ends the open ones', async () => {
  const { spawn } = await import('node:child_process');
  const net = await import('node:net');
  const port = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
  const server = spawn(`${process.env.ROOT}/server/pg_inbox_server`,
    ['--database-url', process.env.HTTP_DATABASE_URL, '--port', String(port), '--max-streams', '1'],
    { stdio: 'ignore' });
  const exited = new Promise((r) => server.on('exit', r));
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 100; i++) {
      try { if ((await fetch(`${base}/readyz`)).ok) break; } catch {}
      await sleep(100);
    }
    const user = unique('ms-bounds');
    const tok = reader(user);
    const controller = new AbortController();
    const first = await fetch(`${base}/api/v1/streaming/user/notification?access_token=${tok}`, { signal: controller.signal });
    assert.equal(first.status, 200);
    let text = '';
    let ended = false;
    const done = (async () => {
      const decoder = new TextDecoder();
      try { for await (const c of first.body) text += decoder.decode(c, { stream: true }); } catch {}
      ended = true;
    })();
    const refused = await fetch(`${base}/api/v1/streaming/user/notification?access_token=${tok}`);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '5');
    const ws = await socket(`${base.replace('http', 'ws')}/api/v1/streaming?stream=user:notification`, [tok]);
    assert.equal(ws.refused?.status, 503);
    server.kill('SIGTERM');
    await Promise.race([done, sleep(5000)]);
    assert.ok(ended, 'SIGTERM ended the stream');
    assert.ok(text.startsWith(':)\n'), text);
    controller.abort();
  } finally {
    server.kill('SIGKILL');
    await exited;
  }
});
