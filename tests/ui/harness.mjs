// Shared by the browser suite (tests/ui.sh): the server under test (started, killed and started
// again by the tests themselves, on one port), tokens minted in SQL, headless Chromium through
// puppeteer-core, screenshots kept under tests/ui/artifacts/, and readers of <pg-inbox>'s state.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import puppeteer from 'puppeteer-core';

export const BASE = process.env.BASE_URL;
const DATABASE_URL = process.env.UI_DATABASE_URL;
const SERVER = process.env.SERVER_BIN;
const LOG = process.env.SERVER_LOG;
export const ARTIFACTS = process.env.UI_ARTIFACTS;
if (!BASE || !DATABASE_URL || !SERVER || !ARTIFACTS) throw new Error('run through tests/ui.sh');

export function sql(query) {
  return execFileSync('psql', [DATABASE_URL, '-XqtA', '-v', 'ON_ERROR_STOP=1', '-c', query], {
    encoding: 'utf8',
  }).trim();
}
const quote = (s) => `'${String(s).replace(/'/g, "''")}'`;
export const unique = (name) => `${name}-${randomUUID().slice(0, 8)}`;

// A token of `user` with read, write and send (as the demo's), optionally expiring (SQL interval).
export function token(user, expiresIn = null) {
  const scopes = "ARRAY['notifications:read', 'notifications:write', 'notifications:send']";
  const expires = expiresIn ? `now() + interval ${quote(expiresIn)}` : 'NULL';
  return sql(`SELECT inbox.create_token(${quote(user)}, ${scopes}, NULL, ${expires})`);
}

// Creates notifications over REST (as an application would), each a title or an object;
// returns their objects.
export async function create(tok, user, items) {
  const body = items.map((n) =>
    typeof n === 'string' ? { userId: user, title: n, body: `body of ${n}` } : { userId: user, ...n },
  );
  const res = await fetch(`${BASE}/api/notifications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
  return (await res.json()).data;
}

// Polls `query` (SQL) until it returns `expected`, for up to 2 s; returns what it returned last.
export async function eventually(query, expected) {
  let got;
  for (let i = 0; i < 40; i++) {
    got = sql(query);
    if (got === expected) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return got;
}

// --- the server ---------------------------------------------------------------------------------

let server = null;
export async function startServer(extra = []) {
  const port = new URL(BASE).port;
  const out = fs.openSync(LOG, 'a');
  server = spawn(SERVER, ['--database-url', DATABASE_URL, '--port', port, ...extra], {
    stdio: ['ignore', out, out],
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${BASE}/readyz`)).ok) return server;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the server did not become ready (log: ${LOG})`);
}
export async function stopServer(signal = 'SIGTERM') {
  if (!server) return;
  const proc = server;
  server = null;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill(signal);
  await exited;
}

// Whether the server has the live stream (issue 14's GET /api/notifications/stream).
export async function hasStream(tok) {
  const ctl = new AbortController();
  try {
    const res = await fetch(`${BASE}/api/notifications/stream`, {
      headers: { authorization: `Bearer ${tok}`, accept: 'text/event-stream' },
      signal: ctl.signal,
    });
    return res.ok && (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
  } catch {
    return false;
  } finally {
    ctl.abort();
  }
}

// --- the browser --------------------------------------------------------------------------------

export async function launch() {
  return puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // Root in a container has no user namespace for Chromium's sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

// A tab on the demo page as `user`; page errors fail the test that reads them.
export async function openDemo(browser, tok, user, { path: at = '/demo' } = {}) {
  const page = await browser.newPage();
  await page.setViewport({ width: 900, height: 640 });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  await page.goto(`${BASE}${at}#token=${encodeURIComponent(tok)}&user=${encodeURIComponent(user)}`);
  await page.waitForFunction(() => document.querySelector('pg-inbox')?.dataset.state, { timeout: 10000 });
  return page;
}

export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

// What the element shows.
export function inboxState(page) {
  return page.evaluate(() => {
    const el = document.querySelector('pg-inbox');
    const r = el.shadowRoot;
    const badge = r.querySelector('.badge');
    const error = r.querySelector('.error');
    return {
      badge: badge.hidden ? '' : badge.textContent,
      bellLabel: r.querySelector('.bell').getAttribute('aria-label'),
      ids: [...r.querySelectorAll('.item')].map((n) => n.dataset.id),
      unreadIds: [...r.querySelectorAll('.item.unread')].map((n) => n.dataset.id),
      titles: [...r.querySelectorAll('.item .title')].map((n) => n.firstChild?.textContent),
      stream: el.dataset.stream,
      state: el.dataset.state,
      open: !r.querySelector('.panel').hidden,
      empty: !r.querySelector('.empty').hidden,
      error: error.hidden ? null : error.textContent,
    };
  });
}

// Waits until `predicate(state)` (a function of inboxState's result, run in the page) holds.
export async function waitForInbox(page, predicate, { timeout = 5000, arg } = {}) {
  const body = `
    const el = document.querySelector('pg-inbox');
    const r = el.shadowRoot;
    const badge = r.querySelector('.badge');
    const s = {
      badge: badge.hidden ? '' : badge.textContent,
      ids: [...r.querySelectorAll('.item')].map((n) => n.dataset.id),
      unreadIds: [...r.querySelectorAll('.item.unread')].map((n) => n.dataset.id),
      stream: el.dataset.stream, state: el.dataset.state,
      empty: !r.querySelector('.empty').hidden,
      error: r.querySelector('.error').hidden ? null : r.querySelector('.error').textContent,
    };
    return (${predicate.toString()})(s, arg);`;
  try {
    await page.waitForFunction(new Function('arg', body), { timeout, polling: 50 }, arg);
  } catch (e) {
    throw new Error(`${e.message}; the inbox shows ${JSON.stringify(await inboxState(page))}`);
  }
}

// Clicks inside the element's shadow root, in the front tab (a hidden tab draws no frames, and a
// click waits for one).
export async function clickIn(page, selector) {
  await page.bringToFront();
  const handle = await page.evaluateHandle(
    (sel) => document.querySelector('pg-inbox').shadowRoot.querySelector(sel),
    selector,
  );
  const el = handle.asElement();
  if (!el) throw new Error(`no ${selector} in <pg-inbox>`);
  await el.click();
}
