// <pg-inbox> live, over the SSE stream of issue 14 (GET /api/notifications/stream): a REST-created
// notification appears without a reload, two tabs agree, and a server restart in the middle is
// survived (the element reconnects, resumes from its last event id and catches up). A server
// without the stream route makes these tests TODO, never passed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  clickIn, create, hasStream, inboxState, launch, openDemo, screenshot, sql, startServer, stopServer,
  token, unique, waitForInbox,
} from './harness.mjs';

let browser;
let live = false;
before(async () => {
  await startServer();
  live = await hasStream(token(unique('probe')));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await stopServer();
});

// A live test: TODO (not passed) when the server has no stream.
function liveTest(name, fn) {
  test(name, async (t) => {
    if (!live) {
      t.todo('the server has no GET /api/notifications/stream (issue 14) yet');
      return;
    }
    await fn(t);
  });
}

liveTest('a notification created through the REST API appears within a second, without a reload', async () => {
  const user = unique('live');
  const tok = token(user);
  const page = await openDemo(browser, tok, user);
  await waitForInbox(page, (s) => s.stream === 'live' && s.state === 'ready');
  await clickIn(page, '.bell');
  const started = Date.now();
  const [n] = await create(tok, user, ['Arrived live']);
  await waitForInbox(page, (s, id) => s.ids[0] === id && s.badge === '1', { arg: n.id, timeout: 1000 });
  const ms = Date.now() - started;
  assert.ok(ms <= 1000, `${ms} ms`);
  await screenshot(page, 'live-arrival');
  // The page was not reloaded: the same document.
  assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation').length), 1);
  await page.close();
});

liveTest('two tabs agree: a read, a delete, a mark-all in one shows in the other', async () => {
  const user = unique('tabs');
  const tok = token(user);
  const made = await create(tok, user, ['t1', 't2', 't3']);
  const a = await openDemo(browser, tok, user);
  const b = await openDemo(browser, tok, user);
  for (const p of [a, b]) await waitForInbox(p, (s) => s.stream === 'live' && s.badge === '3');
  await clickIn(a, '.bell');
  await clickIn(a, `.item[data-id="${made[2].id}"] .content`);
  await waitForInbox(b, (s, id) => s.badge === '2' && !s.unreadIds.includes(id), { arg: made[2].id });
  await clickIn(a, `.item[data-id="${made[1].id}"] [data-action="delete"]`);
  await waitForInbox(b, (s, id) => !s.ids.includes(id) && s.badge === '1', { arg: made[1].id });
  const [fresh] = await create(tok, user, ['t4']);
  for (const p of [a, b]) await waitForInbox(p, (s, id) => s.ids[0] === id && s.badge === '2', { arg: fresh.id });
  await clickIn(b, '.bell');
  await clickIn(b, '.mark-all');
  await waitForInbox(a, (s) => s.badge === '' && s.unreadIds.length === 0);
  const [sa, sb] = [await inboxState(a), await inboxState(b)];
  assert.deepEqual(sa.ids.filter((id) => id !== made[1].id), sb.ids);
  await screenshot(b, 'two-tabs');
  await a.close();
  await b.close();
});

liveTest('a server restart in the middle is survived: the element reconnects and catches up', async () => {
  const user = unique('restart');
  const tok = token(user);
  await create(tok, user, ['before the restart']);
  const page = await openDemo(browser, tok, user);
  await waitForInbox(page, (s) => s.stream === 'live' && s.badge === '1');
  // One event so that the element has a last event id to resume from.
  const [second] = await create(tok, user, ['still before']);
  await waitForInbox(page, (s, id) => s.ids[0] === id, { arg: second.id });
  await stopServer('SIGKILL');
  await waitForInbox(page, (s) => s.stream === 'reconnecting', { timeout: 5000 });
  // Written while no server runs: the element must catch up on them after the restart.
  const missed = JSON.parse(sql(`SELECT json_agg(inbox.create('${user}', json_build_object('title', 'while down ' || i)::jsonb)->>'id' ORDER BY i) FROM generate_series(1, 3) i`));
  sql(`SELECT inbox.mark_read('${user}', '${second.id}')`);
  await startServer();
  await waitForInbox(page, (s, missed) => missed.every((id) => s.ids.includes(id)) && s.badge === '4', {
    arg: missed,
    timeout: 15000,
  });
  const s = await inboxState(page);
  assert.equal(new Set(s.ids).size, s.ids.length, 'nothing twice');
  assert.deepEqual(s.ids.slice(0, 3), [...missed].reverse());
  assert.ok(!s.unreadIds.includes(second.id), 'the read made while down is shown');
  // And live again.
  const [after] = await create(tok, user, ['after the restart']);
  await waitForInbox(page, (s, id) => s.ids[0] === id && s.badge === '5', { arg: after.id });
  await screenshot(page, 'after-restart');
  await page.close();
});
