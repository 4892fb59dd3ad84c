// A real browser: headless Chromium (Debian's `chromium`, driven by puppeteer-core) subscribes
// with EventSource, receives a notification created through the REST API, shows the unread
// count, and survives a server restart: it reconnects by itself with Last-Event-ID and receives
// what was created while the server was down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import puppeteer from 'puppeteer-core';
import { startServer, token, create, sleep } from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

test('EventSource in Chromium: a REST create, the unread count, a server restart', async () => {
  assert.ok(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM} (scripts/deps.sh installs chromium)`);
  const user = `browser_${Date.now()}`;
  const tok = token(user);
  const admin = token(`browser_admin_${Date.now()}`, ['admin']);
  let server = await startServer();
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage();
    // Same origin as the stream: the page is any page of the server.
    await page.goto(`${server.url}/healthz`);
    await page.evaluate((t) => {
      window.titles = [];
      window.unread = null;
      const es = new EventSource(`/api/notifications/stream?access_token=${t}`);
      es.addEventListener('notification.created', (e) => window.titles.push(JSON.parse(e.data).title));
      es.addEventListener('unread_count', (e) => {
        window.unread = JSON.parse(e.data).count;
        document.body.textContent = `unread: ${window.unread}`;
      });
    }, tok);
    await sleep(300);
    const created = await fetch(`${server.url}/api/notifications`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ userId: user, type: 'test', title: 'from REST' }),
    });
    assert.equal(created.status, 201);
    await page.waitForFunction(() => window.titles.length === 1 && window.unread === 1, { timeout: 5000 });
    assert.equal(await page.evaluate(() => document.body.textContent), 'unread: 1');

    await server.stop();
    create(user, { title: 'while down' });
    await sleep(500);
    server = await startServer([], server.port);
    await page.waitForFunction(() => window.titles.length === 2 && window.unread === 2, { timeout: 10000 });
    assert.deepEqual(await page.evaluate(() => window.titles), ['from REST', 'while down']);
    assert.equal(await page.evaluate(() => document.body.textContent), 'unread: 2');
  } finally {
    await browser.close();
    await server.stop();
  }
});
