// <pg-inbox> on the demo page in headless Chromium: the badge, the panel, opening, mark all
// read, archive, delete and undo, infinite scroll, the error state of an expired token, the
// keyboard, and axe-core. Each test is a user of its own; screenshots go to tests/ui/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import {
  clickIn, create, eventually, inboxState, launch, openDemo, screenshot, sql, startServer, stopServer, token,
  unique, waitForInbox,
} from './harness.mjs';

const require = createRequire(import.meta.url);
let browser;
before(async () => {
  await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await stopServer();
});

const unreadOf = (user) => `SELECT inbox.unread_count('${user}')`;

test('the badge shows the unread count, and the panel the newest first', async () => {
  const user = unique('badge');
  const tok = token(user);
  await create(tok, user, ['Build finished', 'Deploy started', 'Review requested']);
  const page = await openDemo(browser, tok, user);
  await waitForInbox(page, (s) => s.badge === '3' && s.ids.length === 3);
  const s = await inboxState(page);
  assert.equal(s.bellLabel, 'Notifications, 3 unread');
  await clickIn(page, '.bell');
  const open = await inboxState(page);
  assert.equal(open.open, true);
  assert.deepEqual(open.titles, ['Review requested', 'Deploy started', 'Build finished']);
  await screenshot(page, 'badge-and-panel');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the badge is capped: 120 unread show 99+', async () => {
  const user = unique('cap');
  const tok = token(user);
  await create(tok, user, Array.from({ length: 120 }, (_, i) => `n${i}`));
  const page = await openDemo(browser, tok, user);
  await waitForInbox(page, (s) => s.badge === '99+');
  assert.equal((await inboxState(page)).bellLabel, 'Notifications, 99+ unread');
  await screenshot(page, 'badge-99-plus');
  await page.close();
});

test('opening a notification marks it read and the badge drops', async () => {
  const user = unique('open');
  const tok = token(user);
  const [first, second] = await create(tok, user, ['first', 'second']);
  const page = await openDemo(browser, tok, user);
  await waitForInbox(page, (s) => s.badge === '2');
  const opened = page.evaluate(
    () => new Promise((resolve) => document.addEventListener('pg-inbox-open', (e) => resolve(e.detail.notification.id), { once: true })),
  );
  await clickIn(page, '.bell');
  await clickIn(page, `.item[data-id="${second.id}"] .content`);
  assert.equal(await opened, second.id, 'pg-inbox-open names the notification');
  await waitForInbox(page, (s, id) => s.badge === '1' && !s.unreadIds.includes(id), { arg: second.id });
  // The server agrees.
  assert.equal(await eventually(unreadOf(user), '1'), '1');
  assert.equal(sql(`SELECT inbox.get('${user}', '${second.id}')->>'read'`), 'true');
  assert.equal(sql(`SELECT inbox.get('${user}', '${first.id}')->>'read'`), 'false');
  await screenshot(page, 'opened');
  await page.close();
});

test('mark all read empties the badge', async () => {
  const user = unique('all');
  const tok = token(user);
  await create(tok, user, ['a', 'b', 'c', 'd']);
  const page = await openDemo(browser, tok, user);
  await waitForInbox(page, (s) => s.badge === '4');
  await clickIn(page, '.bell');
  await clickIn(page, '.mark-all');
  await waitForInbox(page, (s) => s.badge === '' && s.unreadIds.length === 0 && s.ids.length === 4);
  assert.equal(await eventually(unreadOf(user), '0'), '0');
  assert.equal((await inboxState(page)).bellLabel, 'Notifications, none unread');
  await screenshot(page, 'all-read');
  await page.close();
});

test('delete then undo restores the notification in its place', async () => {
  const user = unique('undo');
  const tok = token(user);
  const made = await create(tok, user, ['one', 'two', 'three']);
  const page = await openDemo(browser, tok, user);
  await waitForInbox(page, (s) => s.ids.length === 3);
  await clickIn(page, '.bell');
  const target = made[1].id;
  await clickIn(page, `.item[data-id="${target}"] [data-action="delete"]`);
  await page.waitForFunction(
    (id) => document.querySelector('pg-inbox').shadowRoot.querySelector(`.item[data-id="${id}"] [data-action="undo"]`),
    {},
    target,
  );
  const deleted = `SELECT count(*) FROM inbox.notifications WHERE user_id = '${user}' AND deleted_at IS NOT NULL`;
  assert.equal(await eventually(deleted, '1'), '1');
  await waitForInbox(page, (s) => s.badge === '2');
  await screenshot(page, 'deleted-with-undo');
  await clickIn(page, `.item[data-id="${target}"] [data-action="undo"]`);
  await waitForInbox(page, (s, ids) => JSON.stringify(s.ids) === JSON.stringify(ids) && s.badge === '3', {
    arg: made.map((n) => n.id).reverse(),
  });
  assert.equal(await eventually(deleted, '0'), '0');
  assert.equal(sql(`SELECT inbox.get('${user}', '${target}')->>'deletedAt'`), '');
  await page.close();
});

test('archive takes a notification out of the panel and the unread count', async () => {
  const user = unique('archive');
  const tok = token(user);
  const [a, b] = await create(tok, user, ['keep', 'archive me']);
  const page = await openDemo(browser, tok, user);
  await waitForInbox(page, (s) => s.ids.length === 2);
  await clickIn(page, '.bell');
  await clickIn(page, `.item[data-id="${b.id}"] [data-action="archive"]`);
  await waitForInbox(page, (s, id) => s.ids.length === 1 && s.ids[0] === id && s.badge === '1', { arg: a.id });
  assert.equal(await eventually(`SELECT inbox.get('${user}', '${b.id}')->>'archived'`, 'true'), 'true');
  await page.close();
});

test('scrolling loads the next pages: every notification once, in order, no gap', async () => {
  const user = unique('scroll');
  const tok = token(user);
  const made = await create(tok, user, Array.from({ length: 57 }, (_, i) => `scroll ${i}`));
  const expected = made.map((n) => n.id).reverse();
  const page = await openDemo(browser, tok, user);
  await waitForInbox(page, (s) => s.ids.length === 20);
  await clickIn(page, '.bell');
  for (let round = 0; round < 10; round++) {
    const n = (await inboxState(page)).ids.length;
    if (n === 57) break;
    await page.evaluate(() => {
      const list = document.querySelector('pg-inbox').shadowRoot.querySelector('.list');
      list.scrollTop = list.scrollHeight;
    });
    await waitForInbox(page, (s, n) => s.ids.length > n, { arg: n });
  }
  const s = await inboxState(page);
  assert.equal(new Set(s.ids).size, s.ids.length, 'no duplicate');
  assert.deepEqual(s.ids, expected, 'every notification, newest first, no gap');
  await screenshot(page, 'scrolled-to-the-end');
  await page.close();
});

test('an empty inbox says so', async () => {
  const user = unique('empty');
  const tok = token(user);
  const page = await openDemo(browser, tok, user);
  await waitForInbox(page, (s) => s.state === 'ready');
  await clickIn(page, '.bell');
  await waitForInbox(page, (s) => s.empty && s.badge === '');
  await screenshot(page, 'empty');
  await page.close();
});

test('an expired token shows a clear error state', async () => {
  const user = unique('expired');
  const tok = token(user, '3 seconds');
  await create(tok, user, ['before it expires']);
  const page = await openDemo(browser, tok, user);
  await waitForInbox(page, (s) => s.badge === '1');
  const errored = page.evaluate(
    () => new Promise((resolve) => document.addEventListener('pg-inbox-error', (e) => resolve(e.detail.error.code), { once: true })),
  );
  sql(`SELECT pg_sleep(greatest(0, extract(epoch FROM expires_at - now()) + 0.2)) FROM inbox.tokens WHERE user_id = '${user}'`);
  await clickIn(page, '.bell');
  await clickIn(page, '.mark-all');
  await waitForInbox(page, (s) => s.state === 'error');
  assert.equal(await errored, 'unauthorized');
  const s = await inboxState(page);
  assert.match(s.error, /Your session has expired\. Sign in again/);
  assert.match(s.error, /unauthorized/);
  assert.equal(s.badge, '!');
  assert.equal(s.bellLabel, 'Notifications unavailable: sign in again');
  assert.deepEqual(s.ids, [], 'nothing stale is shown');
  await screenshot(page, 'expired-token');
  await page.close();

  // A page opened with the expired token shows the same state at once.
  const again = await openDemo(browser, tok, user);
  await waitForInbox(again, (s) => s.state === 'error' && s.badge === '!');
  await again.close();
});

test('without a token the bell asks to sign in', async () => {
  const page = await browser.newPage();
  await page.goto(`${process.env.BASE_URL}/demo`); // the demo page without a token in its URL
  await page.waitForFunction(() => document.querySelector('pg-inbox').dataset.state === 'error');
  assert.equal(await page.evaluate(() => document.getElementById('no-token').hidden), false);
  const s = await inboxState(page);
  assert.match(s.error, /Sign in to see your notifications/);
  assert.match(s.error, /no_token/);
  await page.close();
});

test('keyboard: Enter opens, arrows move between notifications, Escape closes to the bell', async () => {
  const user = unique('keys');
  const tok = token(user);
  const made = await create(tok, user, ['k1', 'k2', 'k3']);
  const ids = made.map((n) => n.id).reverse();
  const page = await openDemo(browser, tok, user);
  await waitForInbox(page, (s) => s.ids.length === 3);
  const focused = () =>
    page.evaluate(() => {
      const a = document.querySelector('pg-inbox').shadowRoot.activeElement;
      return a ? a.dataset.id ?? a.className : null;
    });
  await page.focus('pg-inbox');
  await page.keyboard.press('Tab'); // into the shadow root: the bell
  await page.evaluate(() => document.querySelector('pg-inbox').shadowRoot.querySelector('.bell').focus());
  await page.keyboard.press('Enter');
  assert.equal((await inboxState(page)).open, true);
  assert.equal(await focused(), ids[0], 'the newest notification has the focus');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focused(), ids[1]);
  await page.keyboard.press('End');
  assert.equal(await focused(), ids[2]);
  await page.keyboard.press('Home');
  assert.equal(await focused(), ids[0]);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter'); // opens (marks read) the focused one
  await waitForInbox(page, (s, id) => !s.unreadIds.includes(id) && s.badge === '2', { arg: ids[1] });
  await page.keyboard.press('Escape');
  const s = await inboxState(page);
  assert.equal(s.open, false);
  assert.equal(await focused(), 'bell');
  const roles = await page.evaluate(() => {
    const r = document.querySelector('pg-inbox').shadowRoot;
    return {
      expanded: r.querySelector('.bell').getAttribute('aria-expanded'),
      dialog: r.querySelector('.panel').getAttribute('role'),
      feed: r.querySelector('.list').getAttribute('role'),
      articles: r.querySelectorAll('article.item').length,
      tabbable: [...r.querySelectorAll('.item')].filter((n) => n.tabIndex === 0).length,
    };
  });
  assert.deepEqual(roles, { expanded: 'false', dialog: 'dialog', feed: 'feed', articles: 3, tabbable: 1 });
  await page.close();
});

test('axe-core: no serious or critical accessibility violation, panel closed and open', async () => {
  const user = unique('axe');
  const tok = token(user);
  await create(tok, user, ['Accessible', 'Second']);
  const page = await openDemo(browser, tok, user);
  await waitForInbox(page, (s) => s.ids.length === 2);
  await page.addScriptTag({ content: fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') });
  const run = () =>
    page.evaluate(async () => {
      const result = await window.axe.run(document, { resultTypes: ['violations'] });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
    });
  const closed = await run();
  await clickIn(page, '.bell');
  const open = await run();
  const serious = [...closed, ...open].filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious, [], JSON.stringify(serious));
  fs.writeFileSync(`${process.env.UI_ARTIFACTS}/axe.json`, JSON.stringify({ closed, open }, null, 2));
  await page.close();
});

test('the README screenshot: the bell and its panel on the demo page', async () => {
  const user = 'demo-user-screenshot';
  sql(`DELETE FROM inbox.notifications WHERE user_id = '${user}'`);
  const tok = token(user);
  await create(tok, user, [
    { title: 'Weekly report is ready', body: '12 new sign-ups, 3 churned', type: 'info' },
    { title: 'Deploy of main finished', body: 'v0.2.0 is live on production', type: 'success' },
  ]);
  const [mention] = await create(tok, user, [
    { title: 'Carol mentioned you', body: '"Can you review the Q4 plan?"', type: 'mention' },
  ]);
  const page = await openDemo(browser, tok, user);
  await waitForInbox(page, (s) => s.ids.length === 3);
  await clickIn(page, '.bell');
  await clickIn(page, `.item[data-id="${mention.id}"] .content`);
  await waitForInbox(page, (s) => s.badge === '2');
  await page.evaluate(() => document.activeElement?.blur());
  const file = await screenshot(page, 'readme');
  if (process.env.PG_INBOX_UI_SCREENSHOT) fs.copyFileSync(file, process.env.PG_INBOX_UI_SCREENSHOT);
  await page.close();
});
