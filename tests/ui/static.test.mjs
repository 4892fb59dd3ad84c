// The server serves the browser UI: a fixed list of files from --ui-dir, with their content type,
// an ETag and no-cache, and nothing else (no path reaches another file).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { BASE, startServer, stopServer } from './harness.mjs';

const ROOT = process.env.ROOT;
before(() => startServer());
after(() => stopServer());

test('the demo page is served at /demo as HTML; / stays unrouted', async () => {
  const res = await fetch(`${BASE}/demo`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(await res.text(), fs.readFileSync(`${ROOT}/ui/demo.html`, 'utf8'));
  const root = await fetch(`${BASE}/`);
  assert.equal(root.status, 404);
});

test('the client module and the demo script are served as JavaScript, byte for byte', async () => {
  for (const file of ['pg-inbox.js', 'demo.js']) {
    const res = await fetch(`${BASE}/ui/${file}`);
    assert.equal(res.status, 200, file);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8', file);
    assert.equal(await res.text(), fs.readFileSync(`${ROOT}/ui/${file}`, 'utf8'), file);
  }
});

test('ETag: a matching If-None-Match is 304 without a body; another tag is 200', async () => {
  const first = await fetch(`${BASE}/ui/pg-inbox.js`);
  const etag = first.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{16}"$/);
  const again = await fetch(`${BASE}/ui/pg-inbox.js`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.headers.get('etag'), etag);
  assert.equal(await again.text(), '');
  const other = await fetch(`${BASE}/ui/pg-inbox.js`, { headers: { 'if-none-match': '"0000000000000000"' } });
  assert.equal(other.status, 200);
  const html = await fetch(`${BASE}/demo`);
  assert.notEqual(html.headers.get('etag'), etag, 'each file has its own tag');
});

test('HEAD answers the headers of GET without the body', async () => {
  const res = await fetch(`${BASE}/ui/pg-inbox.js`, { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(Number(res.headers.get('content-length')), fs.statSync(`${ROOT}/ui/pg-inbox.js`).size);
});

test('only the listed files: other names, folders and traversals are 404 in the API envelope', async () => {
  for (const target of [
    '/ui/', '/ui/demo.html', '/ui/pg-inbox.js.map', '/ui/../README.md', '/ui/%2e%2e/README.md',
    '/ui/..%2fREADME.md', '/ui/%2e%2e%2fserver%2fsrc%2fmain.cpp', '/index.html', '/demo.html', '/demo/', '/ui/demo',
    '/ui/pg-inbox.js/', '/ui//pg-inbox.js', '/..%2f..%2fetc%2fpasswd',
  ]) {
    const res = await fetch(`${BASE}${target}`);
    assert.equal(res.status, 404, target);
    assert.equal((await res.json()).error.code, 'not_found', target);
  }
});

test('a method other than GET/HEAD on a UI file is 405 with Allow', async () => {
  const res = await fetch(`${BASE}/ui/pg-inbox.js`, { method: 'POST', body: '{}' });
  assert.equal(res.status, 405);
  assert.match(res.headers.get('allow'), /GET/);
});

test('without the files (--ui-dir naming an empty folder) the routes answer 404 ui_not_installed', async () => {
  await stopServer();
  const empty = fs.mkdtempSync('/tmp/pg_inbox_ui_empty-');
  try {
    await startServer(['--ui-dir', empty]);
    const res = await fetch(`${BASE}/ui/pg-inbox.js`);
    assert.equal(res.status, 404);
    const body = await res.json();
    assert.equal(body.error.code, 'ui_not_installed');
    assert.match(body.error.message, /--ui-dir/);
    // The API is unaffected.
    assert.equal((await fetch(`${BASE}/healthz`)).status, 200);
  } finally {
    await stopServer();
    fs.rmSync(empty, { recursive: true });
    await startServer();
  }
});

test('--ui-dir names the folder: a copy elsewhere is served', async () => {
  await stopServer();
  const copy = fs.mkdtempSync('/tmp/pg_inbox_ui_copy-');
  try {
    for (const f of ['demo.html', 'demo.js', 'pg-inbox.js']) fs.copyFileSync(`${ROOT}/ui/${f}`, `${copy}/${f}`);
    fs.appendFileSync(`${copy}/demo.js`, '\n// the copy\n');
    await startServer(['--ui-dir', copy]);
    assert.match(await (await fetch(`${BASE}/ui/demo.js`)).text(), /\/\/ the copy\n$/);
  } finally {
    await stopServer();
    fs.rmSync(copy, { recursive: true });
    await startServer();
  }
});
