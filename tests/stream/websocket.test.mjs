// GET /websocket: Directus's realtime protocol for directus_notifications, through the official
// client (@directus/sdk realtime(), with the `ws` package as Node 20's WebSocket) and raw frames
// for what a client library would not send.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createDirectus, staticToken, realtime, rest, createNotification, updateNotification,
  deleteNotification } from '@directus/sdk';
import { startServer, token, create, psql, sleep } from './helpers.mjs';

const server = await startServer(['--ws-auth-timeout-ms', '500', '--ws-heartbeat-ms', '400',
  '--ws-max-message-bytes', '1024']);
after(() => server.stop());
const wsUrl = server.url.replace('http', 'ws') + '/websocket';
const admin = token('ws_admin', ['admin']);
const adminRest = createDirectus(server.url).with(staticToken(admin)).with(rest());

// A raw socket that collects the frames it receives (parsed).
async function raw(url = wsUrl, keepPings = false) {
  const ws = new WebSocket(url);
  const frames = [];
  let closed = null;
  // The heartbeat's pings are answered by the tests that want them, and left out of `frames`.
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString());
    if (f.type === 'ping' && !keepPings) return ws.send(JSON.stringify({ type: 'pong' }));
    frames.push(f);
  });
  ws.on('close', (code) => { closed = code; });
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  const until = async (pred, ms = 3000) => {
    const end = Date.now() + ms;
    while (!pred(frames) && Date.now() < end) await sleep(20);
    return pred(frames);
  };
  return { ws, frames, until, closed: () => closed, send: (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)) };
}
async function authed(tok) {
  const s = await raw();
  s.send({ type: 'auth', access_token: tok, uid: 'a' });
  assert.ok(await s.until((f) => f.length >= 1));
  assert.deepEqual(s.frames.shift(), { type: 'auth', status: 'ok', uid: 'a' });
  return s;
}

test('@directus/sdk realtime(): init, then create, update and delete as the REST API shapes them', async () => {
  const name = `ws_sdk_${Date.now()}`;
  const user = token(name);
  create(name, { title: 'before' });
  const client = createDirectus(server.url, { globals: { WebSocket } }).with(staticToken(user)).with(realtime());
  await client.connect();
  const { subscription, unsubscribe } = await client.subscribe('directus_notifications',
    { query: { fields: ['id', 'subject', 'status'] } });
  const got = [];
  const reader = (async () => { for await (const m of subscription) { got.push(m); if (got.length === 4) break; } })();
  await sleep(200);
  // One change at a time: the data is read when the event is delivered.
  const wait = async (k) => { for (let i = 0; i < 100 && got.length < k; i++) await sleep(50); };
  const n = await adminRest.request(createNotification({ recipient: name, subject: 'live' }));
  await wait(2);
  await adminRest.request(updateNotification(n.id, { status: 'archived' }));
  await wait(3);
  await adminRest.request(deleteNotification(n.id));
  await Promise.race([reader, sleep(5000)]);
  unsubscribe();
  client.disconnect();
  assert.deepEqual(got.map((m) => m.event), ['init', 'create', 'update', 'delete']);
  assert.deepEqual(got[0].data.map((r) => r.subject), ['before']);
  assert.deepEqual(got[1].data, [{ id: n.id, subject: 'live', status: 'inbox' }]);
  assert.deepEqual(got[2].data, [{ id: n.id, subject: 'live', status: 'archived' }]);
  assert.deepEqual(got[3].data, [String(n.id)]);
});

// The feed's poller can publish a change some time after its commit (here up to a second): a
// change already in the init data must not follow it as an event.
test('a change committed just before the subscription is in the init data and not sent again', async () => {
  const slow = await startServer(['--feed-poll-ms', '1000']);
  try {
    const name = `ws_since_${Date.now()}`;
    const s = await raw(slow.url.replace('http', 'ws') + '/websocket');
    s.send({ type: 'auth', access_token: token(name), uid: 'a' });
    assert.ok(await s.until((f) => f.length >= 1));
    s.frames.shift();
    const before = create(name, { title: 'just before' });
    s.send({ type: 'subscribe', collection: 'directus_notifications', uid: 'all', query: { fields: ['id', 'subject'] } });
    assert.ok(await s.until((f) => f.length >= 1));
    const init = s.frames.shift();
    assert.equal(init.event, 'init');
    assert.deepEqual(init.data.map((r) => r.subject), ['just before']);
    await sleep(2500);  // two of the poller's intervals: the change has been published
    assert.deepEqual(s.frames, [], 'no frame for the change the init data holds');
    const later = create(name, { title: 'after' });
    assert.ok(await s.until((f) => f.length >= 1));
    assert.equal(s.frames[0].event, 'create');
    assert.deepEqual(s.frames[0].data.map((r) => r.subject), ['after']);
    assert.notEqual(String(s.frames[0].data[0].id), String(before.id));
    assert.ok(later.id);
    s.ws.close();
  } finally {
    await slow.stop();
  }
});

test('a filter, an event, an item; a user never sees another user\'s notifications', async () => {
  const name = `ws_f_${Date.now()}`;
  const s = await authed(token(name));
  s.send({ type: 'subscribe', collection: 'directus_notifications', uid: 'inbox',
    query: { fields: ['id', 'status'], filter: { status: { _eq: 'inbox' } } } });
  s.send({ type: 'subscribe', collection: 'directus_notifications', uid: 5, event: 'create', query: { fields: ['id'] } });
  assert.ok(await s.until((f) => f.length >= 2));
  assert.deepEqual(s.frames.find((f) => f.uid === 'inbox'), { type: 'subscription', event: 'init', data: [], uid: 'inbox' });
  assert.deepEqual(s.frames.find((f) => f.uid === '5'), { type: 'subscription', event: 'init', uid: '5' });
  s.frames.length = 0;
  create('ws_other', { title: 'not yours' });
  const mine = create(name, { title: 'yours' });
  const key = Number(psql(`SELECT inbox.internal_id('${mine.id}')`));
  psql(`UPDATE inbox.notifications SET archived_at = now() WHERE user_id = '${name}'`);
  assert.ok(await s.until((f) => f.length >= 2));
  await sleep(300);
  assert.deepEqual(s.frames, [
    { type: 'subscription', event: 'create', data: [{ id: key, status: 'inbox' }], uid: 'inbox' },
    { type: 'subscription', event: 'create', data: [{ id: key }], uid: '5' },
  ], 'the archive no longer matches the filter: no update frame');
  s.frames.length = 0;
  s.send({ type: 'unsubscribe', uid: 'inbox' });
  assert.ok(await s.until((f) => f.length >= 1));
  assert.deepEqual(s.frames[0], { type: 'subscription', event: 'unsubscribe', uid: 'inbox' });
  s.ws.close();
});

test('ping/pong, and the heartbeat closes a socket that stays silent', async () => {
  const s = await authed(token('ws_ping'));
  s.send({ type: 'ping', uid: 'p1' });
  s.send({ type: 'ping', uid: 2 });
  assert.ok(await s.until((f) => f.filter((x) => x.type === 'pong').length >= 2));
  assert.deepEqual(s.frames.filter((x) => x.type === 'pong'), [{ type: 'pong', uid: 'p1' }, { type: 'pong', uid: 2 }]);
  const pinged = await raw(wsUrl, true);
  pinged.send({ type: 'auth', access_token: token('ws_ping') });
  assert.ok(await pinged.until((f) => f.some((x) => x.type === 'ping')), 'the server pings');
  pinged.ws.close();
  const silent = await raw(wsUrl, true);
  silent.send({ type: 'auth', access_token: token('ws_ping') });
  assert.ok(await silent.until(() => silent.closed() !== null, 3000), 'closed after an unanswered ping');
  s.ws.close();
});

test('bad input: error frames, the socket stays open, other sockets unaffected', async () => {
  const other = await authed(token('ws_bad_other'));
  const s = await authed(token('ws_bad'));
  const err = (type, code) => ({ type, status: 'error', error: { code } });
  const strip = (f) => ({ type: f.type, status: f.status, error: { code: f.error?.code } });
  const cases = [
    ['this is {not json', err('server', 'INVALID_PAYLOAD')],
    [[{ type: 'ping' }], err('server', 'INVALID_PAYLOAD')],
    [{ uid: 'no-type' }, err('server', 'INVALID_PAYLOAD')],
    [{ type: 'foo', uid: 'u1' }, err('foo', 'INVALID_PAYLOAD')],
    [{ type: 'subscribe', collection: 'directus_users', uid: 'x' }, err('subscribe', 'INVALID_COLLECTION')],
    [{ type: 'subscribe', uid: 'nocoll' }, err('subscribe', 'INVALID_PAYLOAD')],
    [{ type: 'subscribe', collection: 'directus_notifications', event: 'upsert' }, err('subscribe', 'INVALID_PAYLOAD')],
    [{ type: 'subscribe', collection: 'directus_notifications', query: { filter: { status: { _bogus: 1 } } } }, err('subscribe', 'INVALID_QUERY')],
    [{ type: 'ping', padding: 'x'.repeat(2000) }, err('server', 'INVALID_PAYLOAD')],
  ];
  for (const [message, expected] of cases) {
    s.frames.length = 0;
    s.send(message);
    assert.ok(await s.until((f) => f.length >= 1), JSON.stringify(message).slice(0, 80));
    assert.deepEqual(strip(s.frames[0]), expected, JSON.stringify(message).slice(0, 80));
  }
  s.frames.length = 0;
  s.send({ type: 'ping', uid: 'still-open' });
  assert.ok(await s.until((f) => f.length >= 1));
  assert.deepEqual(s.frames[0], { type: 'pong', uid: 'still-open' });
  other.send({ type: 'ping', uid: 'other' });
  assert.ok(await other.until((f) => f.some((x) => x.uid === 'other')));
  s.ws.close();
  other.ws.close();
});

test('auth: a bad token, a first message that is not auth, no auth in time, ?access_token=', async () => {
  const bad = await raw();
  bad.send({ type: 'auth', access_token: 'nope', uid: 'x' });
  assert.ok(await bad.until(() => bad.closed() !== null));
  assert.deepEqual(bad.frames, [{ type: 'auth', status: 'error', error: { code: 'AUTH_FAILED', message: 'Authentication handshake failed.' } }]);
  const early = await raw();
  early.send({ type: 'subscribe', collection: 'directus_notifications' });
  assert.ok(await early.until(() => early.closed() !== null));
  assert.equal(early.frames[0].error.code, 'AUTH_FAILED');
  const slow = await raw();
  assert.ok(await slow.until(() => slow.closed() !== null, 3000), 'closed after --ws-auth-timeout-ms');
  assert.equal(slow.frames[0].error.code, 'AUTH_FAILED');
  const q = await raw(`${wsUrl}?access_token=${token('ws_q')}`);
  q.send({ type: 'ping', uid: 'q' });
  assert.ok(await q.until((f) => f.length >= 1));
  assert.deepEqual(q.frames[0], { type: 'pong', uid: 'q' });
  q.ws.close();
  const refused = await new Promise((resolve) => {
    const w = new WebSocket(`${wsUrl}?access_token=nope`);
    w.on('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy(); });
    w.on('open', () => { resolve(101); w.close(); });
    w.on('error', () => {});
  });
  assert.equal(refused, 401, 'an invalid ?access_token= is refused before the upgrade');
});
