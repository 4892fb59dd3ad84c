// GET /api/notifications/stream: headers, every event type, unread_count, resume, reset, the
// bad inputs, workspaces, admins, token revocation.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, SseClient, streamUrl, token, create, psql, sleep } from './helpers.mjs';

const server = await startServer(['--stream-ping-ms', '300', '--stream-token-check-ms', '300']);
after(async () => { await server.stop(); if (process.env.STREAM_DEBUG) console.log(server.log()); });

async function open(tok, params = {}, headers = {}) {
  const c = new SseClient(streamUrl(server.url, tok, params), { headers });
  await c.open();
  return c;
}
const api = (tok, method, path) =>
  fetch(`${server.url}/api/notifications${path}`, { method, headers: { Authorization: `Bearer ${tok}` } });

test('the stream answers text/event-stream, no-store, no buffering, retry 2000, pings', async () => {
  const c = await open(token('sse_head'));
  assert.equal(c.status, 200);
  assert.equal(c.responseHeaders['content-type'], 'text/event-stream');
  assert.equal(c.responseHeaders['cache-control'], 'no-store');
  assert.equal(c.responseHeaders['x-accel-buffering'], 'no');
  assert.ok(await c.until((_, s) => s.comments >= 1, 3000), 'a : ping comment');
  assert.ok(c.raw.startsWith('retry: 2000\n\n'));
  c.close();
});

test('every event type, in order, with consecutive ids and unread_count', async () => {
  const tok = token('sse_all');
  const c = await open(tok);
  await sleep(100);
  // One change at a time: an event's data is the row as it is when sent, so each is awaited
  // before the next change.
  const n = create('sse_all', { title: 'one' });
  const step = async (k, call) => {
    if (call) assert.equal((await call()).status, 200);
    assert.ok(await c.until(() => c.feed().length >= k), `event ${k}`);
  };
  await step(1);
  await step(2, () => api(tok, 'PUT', `/${n.id}/read`));
  await step(3, () => api(tok, 'DELETE', `/${n.id}`));
  await step(4, () => api(tok, 'POST', `/${n.id}/restore`));
  await step(5, () => api(tok, 'DELETE', `/${n.id}`));
  await step(6, () => api(tok, 'DELETE', `/${n.id}/purge`));
  for (let i = 0; i < 4; i++) create('sse_all', { title: `many ${i}` });
  assert.equal((await api(tok, 'PUT', '/read-all')).status, 200);  // 4 rows > threshold 3
  psql("UPDATE inbox.notifications SET archived_at = now() WHERE user_id = 'sse_all'");
  const names = ['notification.created', 'notification.updated', 'notification.deleted',
    'notification.restored', 'notification.deleted', 'notification.purged', 'notification.created', 'notification.created',
    'notification.created', 'notification.created', 'notification.read_all', 'notification.bulk'];
  assert.ok(await c.until(() => c.feed().length >= names.length), `got ${JSON.stringify(c.events.map((e) => e.event))}`);
  const feed = c.feed();
  assert.deepEqual(feed.map((e) => e.event), names);
  const ids = feed.map((e) => Number(e.id));
  assert.deepEqual(ids, ids.map((_, i) => ids[0] + i), 'consecutive ids');
  assert.deepEqual(Object.keys(feed[0].data).slice(0, 5), ['id', 'userId', 'workspaceId', 'type', 'title']);
  assert.equal(feed[0].data.id, n.id);
  assert.equal(feed[1].data.read, true);
  assert.notEqual(feed[2].data.deletedAt, null);
  assert.equal(feed[3].data.deletedAt, null);
  assert.deepEqual(feed[5].data, { id: n.id });
  const counts = c.named('unread_count').map((e) => e.data.count);
  assert.ok(counts.length >= 3, 'unread_count after the moves');
  assert.equal(counts.at(-1), 0, 'read-all leaves 0 unread');
  assert.equal(counts[0], 1);
  c.close();
});

test('a resume with Last-Event-ID (header or query) gets every missed event once, in order', async () => {
  const tok = token('sse_resume');
  const c = await open(tok);
  await sleep(100);
  create('sse_resume', { title: 'a' });
  assert.ok(await c.until(() => c.feed().length === 1));
  c.close();
  const last = c.lastId;
  for (const t of ['b', 'c', 'd']) create('sse_resume', { title: t });
  const byHeader = await open(tok, {}, { 'Last-Event-ID': last });
  const byQuery = await open(tok, { last_event_id: last });
  for (const r of [byHeader, byQuery]) {
    assert.ok(await r.until(() => r.feed().length >= 3));
    assert.deepEqual(r.feed().map((e) => e.data.title), ['b', 'c', 'd']);
  }
  create('sse_resume', { title: 'e' });
  for (const r of [byHeader, byQuery]) {
    assert.ok(await r.until(() => r.feed().length >= 4));
    await sleep(200);
    assert.deepEqual(r.feed().map((e) => e.data.title), ['b', 'c', 'd', 'e'], 'then live, no duplicate');
    r.close();
  }
});

test('an id the feed cannot resume from is a reset, then the stream goes on live', async () => {
  const tok = token('sse_reset');
  create('sse_reset');
  const c = await open(tok, {}, { 'Last-Event-ID': '999999' });
  assert.ok(await c.until(() => c.named('reset').length === 1));
  const reset = c.named('reset')[0];
  assert.equal(reset.id, psql("SELECT inbox.feed_head('sse_reset')"));
  assert.match(reset.data.reason, /cannot resume the feed after event 999999/);
  create('sse_reset', { title: 'after reset' });
  assert.ok(await c.until(() => c.feed().length === 1));
  assert.equal(c.feed()[0].data.title, 'after reset');
  c.close();
});

test('bad input: a clear HTTP error, never a stream', async () => {
  const tok = token('sse_bad');
  const cases = [
    [await open(tok, {}, { 'Last-Event-ID': 'abc' }), 400, 'bad_request'],
    [await open(tok, { last_event_id: '-1' }), 400, 'bad_request'],
    [await open('not-a-token'), 401, 'unauthorized'],
    [await open(token('sse_bad', ['notifications:write'])), 403, 'forbidden'],
    [await open(token('sse_bad', ['notifications:read'], 'w1'), { workspace_id: 'w2' }), 403, 'forbidden'],
    [await open(tok, { user_id: 'someone_else' }), 403, 'forbidden'],
    [await open(tok, { nonsense: '1' }), 400, 'invalid_parameter'],
  ];
  for (const [c, status, code] of cases) {
    assert.equal(c.status, status, c.url);
    assert.equal(JSON.parse(c.body).error.code, code, c.url);
  }
  const none = await fetch(`${server.url}/api/notifications/stream`);
  assert.equal(none.status, 401);
  // The server still serves streams.
  const ok = await open(tok);
  assert.equal(ok.status, 200);
  ok.close();
});

test("a user's stream carries only that user's events; a workspace stream only its workspace's", async () => {
  const mine = await open(token('sse_iso_a'));
  const ws = await open(token('sse_iso_a', ['notifications:read'], 'w1'));
  await sleep(100);
  create('sse_iso_b', { title: 'not yours' });
  create('sse_iso_a', { title: 'other workspace', workspaceId: 'w2' });
  create('sse_iso_a', { title: 'in w1', workspaceId: 'w1' });
  assert.ok(await mine.until(() => mine.feed().length >= 2));
  assert.ok(await ws.until(() => ws.feed().length >= 1));
  await sleep(300);
  assert.deepEqual(mine.feed().map((e) => e.data.title), ['other workspace', 'in w1']);
  assert.deepEqual(ws.feed().map((e) => e.data.title), ['in w1']);
  mine.close();
  ws.close();
});

test('an admin token names the user with user_id', async () => {
  const c = await open(token('sse_admin', ['admin']), { user_id: 'sse_admin_target' });
  assert.equal(c.status, 200);
  await sleep(100);
  create('sse_admin_target', { title: 'for the target' });
  assert.ok(await c.until(() => c.feed().length === 1));
  assert.equal(c.feed()[0].data.userId, 'sse_admin_target');
  c.close();
});

test('a revoked token ends its streams', async () => {
  const tok = token('sse_revoke');
  const c = await open(tok);
  assert.equal(c.status, 200);
  psql(`SELECT inbox.revoke_token('${tok}')`);
  assert.ok(await c.until((_, s) => s.ended, 5000), 'the stream ended');
});
