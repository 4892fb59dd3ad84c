// Delivery (issue 15), with real parts: the server's delivery workers against a real SMTP server
// (tests/delivery/smtp_sink.py, aiosmtpd) and a real HTTP receiver here that verifies every
// webhook with the standardwebhooks package. The suite starts and kills the server itself
// (tests/delivery.sh sets the database and the ports).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { api, BASE, DATABASE_URL, isError, sql, token, unique } from '../http/helpers.mjs';

const ROOT = process.env.ROOT;
const PORT = new URL(BASE).port;
const SMTP_PORT = Number(process.env.SMTP_PORT);
const MAIL_DIR = process.env.MAIL_DIR;
const RECEIVER_PORT = Number(process.env.RECEIVER_PORT);
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what, check, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// --- the server ------------------------------------------------------------------------------
let server = null;
let serverLog = '';
async function startServer(extra = []) {
  server = spawn(`${ROOT}/server/pg_inbox_server`, [
    '--database-url', DATABASE_URL, '--port', PORT, '--pool-size', '4',
    '--delivery-workers', '2', '--delivery-poll-ms', '50', '--delivery-lease-ms', '2000',
    '--delivery-timeout-ms', '3000', '--smtp-url', `smtp://127.0.0.1:${SMTP_PORT}`,
    '--mail-from', 'pg_inbox <noreply@example.com>', '--webhook-allow-private', 'on',
    // A long idle timeout, as tests/social.sh has: the helpers' synchronous psql calls block
    // node's event loop, and a keep-alive connection the server closed meanwhile would fail the
    // next request.
    '--idle-timeout-ms', '60000', ...extra,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  await waitFor('the server to be ready', async () => {
    try { return (await fetch(`${BASE}/readyz`)).status === 200; } catch { return false; }
  });
}
async function stopServer(signal = 'SIGTERM') {
  if (!server) return;
  const s = server;
  server = null;
  const exited = new Promise((r) => s.on('exit', r));
  s.kill(signal);
  await exited;
}

// --- the SMTP server -------------------------------------------------------------------------
let smtp = null;
async function startSmtp() {
  smtp = spawn(PYTHON, [join(ROOT, 'tests/delivery/smtp_sink.py'), String(SMTP_PORT), MAIL_DIR],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    smtp.stdout.on('data', (d) => { if (String(d).includes('ready')) resolve(); });
    smtp.on('exit', (code) => reject(new Error(`smtp_sink.py exited ${code}`)));
  });
}
async function stopSmtp() {
  if (!smtp) return;
  const s = smtp;
  smtp = null;
  const exited = new Promise((r) => s.on('exit', r));
  s.kill('SIGINT');
  await exited;
}
// The messages the SMTP server received for `address`: {envelope, raw, headers, text}.
function mails(address) {
  return readdirSync(MAIL_DIR).filter((f) => f.endsWith('.eml')).sort().map((f) => {
    const raw = readFileSync(join(MAIL_DIR, f), 'latin1');
    const envelope = JSON.parse(readFileSync(join(MAIL_DIR, f.replace(/\.eml$/, '.json')), 'utf8'));
    const [head, body] = raw.split(/\r?\n\r?\n/, 2).length === 2
      ? [raw.slice(0, raw.search(/\r?\n\r?\n/)), raw.slice(raw.search(/\r?\n\r?\n/)).trim()]
      : [raw, ''];
    const headers = {};
    for (const line of head.replace(/\r?\n[ \t]/g, ' ').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const text = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    return { envelope, raw, headers, text };
  }).filter((m) => m.envelope.to.includes(address));
}
function subjectOf(mail) {
  return mail.headers.subject.replace(/=\?UTF-8\?B\?([^?]*)\?=\s*/g,
    (_, b) => Buffer.from(b, 'base64').toString('utf8'));
}

// --- the webhook receiver --------------------------------------------------------------------
// Each path /hook/<name> answers from its script: a list of answers ('ok', a status number,
// 'hang': never), then 'ok' for ever. Every request is kept.
const scripts = new Map();
const received = new Map();
const hanging = [];
let receiver = null;
function startReceiver(port = RECEIVER_PORT) {
  receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const name = req.url.split('/')[2];
      if (!received.has(name)) received.set(name, []);
      received.get(name).push({ headers: req.headers, body });
      const next = (scripts.get(name) ?? []).shift() ?? 'ok';
      if (next === 'hang') { hanging.push(res); return; }
      const status = next === 'ok' ? 200 : next;
      res.writeHead(status, status === 429 ? { 'Retry-After': '1' } : {});
      res.end(status === 200 ? '{"ok":true}' : 'no');
    });
  });
  return new Promise((r) => receiver.listen(port, '127.0.0.1', r));
}
function stopReceiver() {
  for (const res of hanging.splice(0)) res.destroy();
  const r = receiver;
  receiver = null;
  return new Promise((resolve) => { r.closeAllConnections?.(); r.close(resolve); });
}
const hookUrl = (name) => `http://127.0.0.1:${RECEIVER_PORT}/hook/${name}`;

const admin = token('delivery-admin', ['admin']);
async function webhook(name, body = {}) {
  const res = await api('POST', '/api/webhooks', { tok: admin, body: { url: hookUrl(name), events: ['notification.created'], ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}
// A recipient with an address in public.users.
function recipient(name, email = 'NAME@example.org') {
  const user = unique(name);
  sql(`INSERT INTO public.users (id, email) VALUES ('${user}', ${email === null ? 'NULL' : `'${email.replace('NAME', user)}'`})`);
  return user;
}
const sender = token('delivery-sender', ['notifications:send']);
async function notify(user, fields = {}) {
  const res = await api('POST', '/api/notifications', { tok: sender, body: { userId: user, title: 'Hello', ...fields } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}
// A create queues nothing itself: the server's workers expand the committed events into the
// outbox (inbox.expand_deliveries, at each claim). Before reading the outbox, wait until the
// expander has passed every committed event.
const expanded = () => waitFor('the expander to pass every committed event', () =>
  sql(`SELECT cardinality((inbox._feed_page(p.cursor, 1)).events) = 0 FROM inbox.delivery_feed_position p`) === 't');
const deliveryState = (id) => sql(`SELECT state || ':' || attempts FROM inbox.deliveries WHERE id = inbox._delivery_uuid('${id}')`);

before(async () => {
  await startSmtp();
  await startReceiver();
  await startServer();
});
after(async () => {
  await stopServer();
  await stopSmtp();
  if (receiver) await stopReceiver();
  if (process.env.SERVER_LOG_TO) process.stdout.write(serverLog.split('\n').slice(-30).join('\n'));
});

// --- e-mail ----------------------------------------------------------------------------------

test('a create sends one e-mail: recipient, subject, text, link, Message-ID, one-click unsubscribe', async () => {
  const user = recipient('mail');
  const address = `${user}@example.org`;
  const n = await notify(user, { title: 'Build finished ✓', body: 'main is green', data: { url: 'https://ci.example.org/42' } });
  const [mail] = await waitFor('the e-mail', () => mails(address).length && mails(address));
  assert.deepEqual(mail.envelope.to, [address]);
  assert.equal(mail.envelope.from, 'noreply@example.com');
  assert.equal(mail.headers.to, `<${address}>`);
  assert.equal(mail.headers.from, 'pg_inbox <noreply@example.com>');
  assert.equal(subjectOf(mail), 'Build finished ✓');
  assert.equal(mail.headers['message-id'], `<${n.id}@example.com>`);
  assert.match(mail.headers['list-unsubscribe'], new RegExp(`^<${BASE}/api/unsubscribe/[A-Za-z0-9_.-]+>$`));
  assert.equal(mail.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
  assert.match(mail.text, /Build finished ✓\n\nmain is green\n\nhttps:\/\/ci\.example\.org\/42/);

  // Not on update: mark it read and change it, then create another: the next e-mail is that one.
  assert.equal((await api('PUT', `/api/notifications/${n.id}/read`, { tok: admin, headers: {} })).status, 200);
  sql(`SELECT inbox.update('${user}', '${n.id}', '{"title": "changed"}')`);
  const second = await notify(user, { title: 'Second' });
  const all = await waitFor('the second e-mail', () => mails(address).length >= 2 && mails(address));
  assert.equal(all.length, 2);
  assert.equal(all[1].headers['message-id'], `<${second.id}@example.com>`);
  assert.equal(sql(`SELECT count(*) FROM inbox.deliveries WHERE user_id = '${user}' AND channel = 'email'`), '2');
});

test('no e-mail when the person turned the type off, nor without an address; critical types cannot be turned off', async () => {
  const user = recipient('pref');
  const tok = token(user, ['notifications:read', 'notifications:write']);
  const res = await api('PUT', '/api/preferences', { tok, body: { type: 'info', channel: 'email', enabled: false } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.data.find((t) => t.type === 'info').channels, { in_app: true, email: false });
  await notify(user, { type: 'info' });
  await expanded();
  assert.equal(sql(`SELECT count(*) FROM inbox.deliveries WHERE user_id = '${user}'`), '0');
  // Another type still goes.
  await notify(user, { type: 'warning' });
  await expanded();
  assert.equal(sql(`SELECT count(*) FROM inbox.deliveries WHERE user_id = '${user}' AND type = 'warning'`), '1');
  // Every type off (*), one type back on.
  const all = await api('PUT', '/api/preferences', { tok, body: [{ type: '*', channel: 'email', enabled: false }, { type: 'error', channel: 'email', enabled: true }] });
  assert.equal(all.status, 200, all.text);
  assert.deepEqual(all.body.all, { email: false });
  await notify(user, { type: 'success' });
  await notify(user, { type: 'error' });
  await expanded();
  assert.equal(sql(`SELECT string_agg(type, ',' ORDER BY type) FROM inbox.deliveries WHERE user_id = '${user}'`), 'error,warning');
  // Critical.
  sql(`SELECT inbox.register_type('security', 'Sign-in from a new device', channels => '{in_app,email}', critical => true)`);
  isError(assert, await api('PUT', '/api/preferences', { tok, body: { type: 'security', channel: 'email', enabled: false } }), 400, 'invalid_parameter');
  await notify(user, { type: 'security' });
  await expanded();
  assert.equal(sql(`SELECT count(*) FROM inbox.deliveries WHERE user_id = '${user}' AND type = 'security'`), '1');
  // No address: nothing queued.
  const nobody = recipient('noaddr', null);
  await notify(nobody);
  await expanded();
  assert.equal(sql(`SELECT count(*) FROM inbox.deliveries WHERE user_id = '${nobody}'`), '0');
  // GET shows the same.
  const got = await api('GET', '/api/preferences', { tok });
  assert.equal(got.status, 200);
  assert.deepEqual(got.body.data.find((t) => t.type === 'success').channels, { in_app: true, email: false });
  assert.equal(got.body.data.find((t) => t.type === 'security').critical, true);
});

test('in_app off: nothing stored, the answers name who was skipped, and the e-mail still goes', async () => {
  const user = recipient('noinapp');
  const other = recipient('inapp');
  const address = `${user}@example.org`;
  const tok = token(user, ['notifications:read', 'notifications:write']);
  const res = await api('PUT', '/api/preferences', { tok, body: { type: '*', channel: 'in_app', enabled: false } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.data.find((t) => t.type === 'info').channels, { in_app: false, email: true });
  // One object: the answer says the recipient was skipped; nothing stored, no event.
  const one = await api('POST', '/api/notifications', { tok: sender, body: { userId: user, title: 'Only by mail', body: 'no inbox', data: { url: 'https://x.example.org/1' } } });
  // 200, not 201: nothing was created.
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.body, { userId: user, skipped: 'in_app' });
  assert.equal(sql(`SELECT count(*) FROM inbox.notifications WHERE user_id = '${user}'`), '0');
  assert.equal(sql(`SELECT count(*) FROM inbox.events WHERE user_id = '${user}'`), '0');
  // ... but the e-mail goes, built from the create, with its own Message-ID.
  const [mail] = await waitFor('the e-mail of a skipped recipient', () => mails(address).length && mails(address));
  assert.equal(subjectOf(mail), 'Only by mail');
  assert.match(mail.text, /Only by mail\n\nno inbox\n\nhttps:\/\/x\.example\.org\/1/);
  assert.match(mail.headers['message-id'], /^<msg_[0-9a-f]{32}@example\.com>$/);
  assert.match(mail.headers['list-unsubscribe'], new RegExp(`^<${BASE}/api/unsubscribe/[A-Za-z0-9_.-]+>$`));
  // A fan-out and an array: the notifications created, and the skipped recipients.
  const fan = await api('POST', '/api/notifications', { tok: sender, body: { userIds: [other, user], title: 'Fan' } });
  assert.equal(fan.status, 201, fan.text);
  assert.deepEqual(fan.body.skipped, [user]);
  assert.deepEqual(fan.body.data.map((n) => n.userId), [other]);
  const many = await api('POST', '/api/notifications', { tok: sender, body: [{ userId: user, title: 'A' }, { userId: other, title: 'B' }] });
  assert.equal(many.status, 201, many.text);
  assert.deepEqual(many.body.skipped, [user]);
  assert.deepEqual(many.body.data.map((n) => n.title), ['B']);
  // Nobody skipped: no "skipped" key at all.
  const plain = await api('POST', '/api/notifications', { tok: sender, body: { userIds: [other], title: 'Plain' } });
  assert.equal(plain.status, 201, plain.text);
  assert.equal('skipped' in plain.body, false);
  // The Directus dialect: the items created, the others in meta.skipped.
  const dOne = await api('POST', '/notifications', { tok: sender, body: { recipient: user, subject: 'Directus one' } });
  assert.equal(dOne.status, 200, dOne.text);
  assert.deepEqual(dOne.body, { data: null, meta: { skipped: [user] } });
  const dMany = await api('POST', '/notifications', { tok: sender, body: [{ recipient: other, subject: 'D1' }, { recipient: user, subject: 'D2' }] });
  assert.equal(dMany.status, 200, dMany.text);
  assert.deepEqual(dMany.body.meta, { skipped: [user] });
  assert.deepEqual(dMany.body.data.map((n) => n.subject), ['D1']);
  assert.equal(sql(`SELECT count(*) FROM inbox.notifications WHERE user_id = '${user}'`), '0');
  // Every e-mail of the skipped recipient is queued once (the create queued them, no event did).
  assert.equal(sql(`SELECT count(*) FROM inbox.deliveries WHERE user_id = '${user}' AND channel = 'email'`), '5');
  // A fan-out and an array whose every recipient was skipped: 200 too, the same body as ever.
  const none = await api('POST', '/api/notifications', { tok: sender, body: { userIds: [user], title: 'Nobody' } });
  assert.equal(none.status, 200, none.text);
  assert.deepEqual(none.body, { data: [], skipped: [user] });
  const noneMany = await api('POST', '/api/notifications', { tok: sender, body: [{ userId: user, title: 'Nobody' }] });
  assert.equal(noneMany.status, 200, noneMany.text);
  assert.deepEqual(noneMany.body, { data: [], skipped: [user] });
  // A critical type is stored whatever the preference.
  sql(`SELECT inbox.register_type('security', 'Sign-in from a new device', channels => '{in_app,email}', critical => true)`);
  const critical = await notify(user, { type: 'security', title: 'New sign-in' });
  assert.match(critical.id, /^ntf_/);
});

test('the unsubscribe link: GET shows a page and changes nothing, POST (one-click) turns that type off', async () => {
  const user = recipient('unsub');
  const address = `${user}@example.org`;
  await notify(user, { type: 'warning', title: 'Disk almost full' });
  const [mail] = await waitFor('the e-mail', () => mails(address).length && mails(address));
  const link = mail.headers['list-unsubscribe'].slice(1, -1);
  const page = await fetch(link);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.match(await page.text(), /<form method="post">/);
  assert.equal(sql(`SELECT count(*) FROM inbox.preferences WHERE user_id = '${user}'`), '0');
  // RFC 8058: the mail client POSTs List-Unsubscribe=One-Click, form-encoded.
  const post = await fetch(link, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
  assert.equal(post.status, 200, await post.clone().text());
  assert.deepEqual(await post.json(), { unsubscribed: true, type: 'warning', channel: 'email' });
  assert.equal(sql(`SELECT type || ':' || channel || ':' || enabled FROM inbox.preferences WHERE user_id = '${user}'`), 'warning:email:false');
  await notify(user, { type: 'warning' });
  await expanded();
  assert.equal(sql(`SELECT count(*) FROM inbox.deliveries WHERE user_id = '${user}'`), '1');
  // A forged or altered link is 404, and changes nothing.
  const forged = link.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
  assert.equal((await fetch(forged, { method: 'POST' })).status, 404);
  assert.equal((await fetch(`${BASE}/api/unsubscribe/nonsense`)).status, 404);
});

test('a digest type: its notifications within the window go out as one e-mail listing them', async () => {
  sql(`SELECT inbox.register_type('comment', 'New comment', email_digest => '2 seconds')`);
  const user = recipient('digest');
  const address = `${user}@example.org`;
  for (const title of ['First comment', 'Second comment', 'Third comment']) await notify(user, { type: 'comment', title });
  const [mail] = await waitFor('the digest', () => mails(address).length && mails(address));
  await sleep(500);
  assert.equal(mails(address).length, 1);
  assert.equal(subjectOf(mail), '3 new notifications');
  assert.match(mail.text, /First comment[\s\S]*Second comment[\s\S]*Third comment/);
  assert.match(mail.headers['message-id'], /^<msg_[0-9a-f]{32}@example\.com>$/);
});

test('the SMTP server down for a while: the e-mail is retried, then delivered', async () => {
  await stopSmtp();
  const user = recipient('smtpdown');
  const address = `${user}@example.org`;
  await notify(user, { title: 'While SMTP was down' });
  await waitFor('a failed attempt', () => Number(sql(`SELECT count(*) FROM inbox.delivery_attempts WHERE user_id = '${user}' AND outcome = 'retry'`)) >= 1);
  await startSmtp();
  const [mail] = await waitFor('the e-mail', () => mails(address).length && mails(address));
  assert.equal(subjectOf(mail), 'While SMTP was down');
  assert.equal(sql(`SELECT state FROM inbox.deliveries WHERE user_id = '${user}'`), 'delivered');
});

// --- webhooks --------------------------------------------------------------------------------

test('a webhook is POSTed per Standard Webhooks and verifies with its secret', async () => {
  const user = recipient('hook', null);
  const hook = await webhook('plain', { userId: user });
  assert.match(hook.secret, /^whsec_/);
  assert.match(hook.id, /^wh_[0-9]+$/);
  const n = await notify(user, { title: 'Signed' });
  const [req] = await waitFor('the webhook', () => received.get('plain')?.length && received.get('plain'));
  const payload = new Webhook(hook.secret).verify(req.body, req.headers);
  assert.equal(payload.type, 'notification.created');
  assert.equal(payload.data.id, n.id);
  assert.equal(payload.data.title, 'Signed');
  assert.match(req.headers['webhook-id'], /^msg_[0-9a-f]{32}$/);
  assert.equal(req.headers['content-type'], 'application/json');
  // A tampered body fails verification.
  assert.throws(() => new Webhook(hook.secret).verify(req.body.replace('Signed', 'Forged'), req.headers));
  // The secret is shown once: the list does not have it.
  const list = await api('GET', '/api/webhooks', { tok: admin });
  assert.equal(list.status, 200);
  const listed = list.body.data.find((w) => w.id === hook.id);
  assert.equal(listed.secret, undefined);
  assert.equal(listed.url, hookUrl('plain'));
});

test('500 then 200: retried, delivered once, the same webhook-id; the log shows each attempt', async () => {
  const user = recipient('retry', null);
  scripts.set('retry', [500, 503]);
  const hook = await webhook('retry', { userId: user });
  await notify(user);
  const reqs = await waitFor('three requests', () => received.get('retry')?.length >= 3 && received.get('retry'));
  await sleep(300);
  assert.equal(received.get('retry').length, 3);
  assert.equal(new Set(reqs.map((r) => r.headers['webhook-id'])).size, 1);
  for (const r of reqs) new Webhook(hook.secret).verify(r.body, r.headers);
  const log = await waitFor('the log', async () => {
    const res = await api('GET', `/api/webhooks/${hook.id}/deliveries`, { tok: admin });
    return res.body.data?.[0]?.state === 'delivered' && res.body;
  });
  const [d] = log.data;
  assert.equal(d.id, reqs[0].headers['webhook-id']);
  assert.equal(d.attempts, 3);
  assert.deepEqual(d.log.map((a) => [a.attempt, a.outcome, a.status]), [[1, 'retry', 500], [2, 'retry', 503], [3, 'delivered', 200]]);
  assert.ok(d.log.every((a) => Number.isInteger(a.durationMs)));
});

test('410 disables the endpoint; 400 fails at once; a failed delivery can be replayed', async () => {
  const user = recipient('gone', null);
  scripts.set('gone', [410]);
  const hook = await webhook('gone', { userId: user });
  await notify(user);
  await waitFor('the endpoint disabled', async () => {
    const res = await api('GET', '/api/webhooks', { tok: admin });
    return res.body.data.find((w) => w.id === hook.id).enabled === false;
  });
  await notify(user);
  await sleep(300);
  assert.equal(received.get('gone').length, 1);

  const other = recipient('refused', null);
  scripts.set('refused', [400]);
  const h2 = await webhook('refused', { userId: other });
  await notify(other);
  const failed = await waitFor('the failure', async () => {
    const res = await api('GET', `/api/webhooks/${h2.id}/deliveries`, { tok: admin });
    return res.body.data?.[0]?.state === 'failed' && res.body.data[0];
  });
  assert.equal(failed.attempts, 1);
  assert.equal(failed.lastStatus, 400);
  const replay = await api('POST', `/api/webhooks/${h2.id}/deliveries/${failed.id}/retry`, { tok: admin });
  assert.equal(replay.status, 200, replay.text);
  await waitFor('the replay', () => deliveryState(failed.id) === 'delivered:2');
  const ids = received.get('refused').map((r) => r.headers['webhook-id']);
  assert.deepEqual(ids, [failed.id, failed.id]);
  isError(assert, await api('POST', `/api/webhooks/${h2.id}/deliveries/msg_00000000000000000000000000000000/retry`, { tok: admin }), 404, 'not_found');
});

test('after the last attempt the delivery is marked failed (429 honours Retry-After)', async () => {
  const user = recipient('exhaust', null);
  scripts.set('exhaust', [500, 429, 500, 500, 500, 500]);
  const hook = await webhook('exhaust', { userId: user });
  await notify(user);
  const d = await waitFor('the failure', async () => {
    const res = await api('GET', `/api/webhooks/${hook.id}/deliveries`, { tok: admin });
    return res.body.data?.[0]?.state === 'failed' && res.body.data[0];
  }, 30000);
  assert.equal(d.attempts, 5);  // pg_inbox.delivery_max_attempts of the test database
  assert.deepEqual(d.log.map((a) => a.outcome), ['retry', 'retry', 'retry', 'retry', 'failed']);
  const gap = Date.parse(d.log[2].at) - Date.parse(d.log[1].at);
  assert.ok(gap >= 900, `the attempt after a 429 with Retry-After: 1 came ${gap} ms later`);
});

test('the receiver down: retried, then delivered when it is back', async () => {
  const user = recipient('down', null);
  const hook = await webhook('down', { userId: user });
  await stopReceiver();
  await notify(user, { title: 'While down' });
  await waitFor('a failed attempt', () => Number(sql(`SELECT count(*) FROM inbox.delivery_attempts a JOIN inbox.deliveries d ON d.user_id = a.user_id AND d.id = a.delivery_id WHERE d.webhook_id = ${hook.id.slice(3)} AND a.outcome = 'retry'`)) >= 1);
  await startReceiver();
  const [req] = await waitFor('the webhook', () => received.get('down')?.length && received.get('down'));
  assert.equal(new Webhook(hook.secret).verify(req.body, req.headers).data.title, 'While down');
});

test('the server killed with -9 mid-delivery: after the restart the delivery comes back under the same id', async () => {
  const user = recipient('killed', null);
  scripts.set('killed', ['hang']);
  const hook = await webhook('killed', { userId: user });
  await notify(user, { title: 'In flight' });
  const [first] = await waitFor('the first request', () => received.get('killed')?.length && received.get('killed'));
  await stopServer('SIGKILL');
  for (const res of hanging.splice(0)) res.destroy();
  await startServer();
  const reqs = await waitFor('the second request', () => received.get('killed')?.length >= 2 && received.get('killed'));
  assert.equal(reqs[1].headers['webhook-id'], first.headers['webhook-id']);
  new Webhook(hook.secret).verify(reqs[1].body, reqs[1].headers);
  await waitFor('delivered', () => deliveryState(first.headers['webhook-id']) === 'delivered:2');
});

// --- bad input -------------------------------------------------------------------------------

test('bad webhooks and preferences are clear 4xx errors, and nothing is stored', async () => {
  const before = sql('SELECT count(*) FROM inbox.webhooks');
  const bad = [
    [{ url: 'ftp://example.org/x', events: ['notification.created'] }, 'url'],
    [{ url: 'http://exa mple.org/', events: ['notification.created'] }, 'url'],
    [{ url: `https://example.org/${'x'.repeat(2100)}`, events: ['notification.created'] }, 'url'],
    [{ url: 'https://example.org/hook', events: ['notification.exploded'] }, 'events'],
    [{ url: 'https://example.org/hook', events: [] }, 'events'],
    [{ url: 'https://example.org/hook' }, 'events'],
    [{ url: 'https://example.org/hook', events: ['notification.created'], secret: `whsec_${'A'.repeat(200)}` }, 'secret'],
    [{ url: 'https://example.org/hook', events: ['notification.created'], secret: 'nope' }, 'secret'],
    [{ url: 'https://example.org/hook', events: ['notification.created'], colour: 'red' }, 'colour'],
  ];
  for (const [body, field] of bad) {
    const res = await api('POST', '/api/webhooks', { tok: admin, body });
    isError(assert, res, 400, 'invalid_parameter');
    assert.ok(res.body.error.message.startsWith(field), res.body.error.message);
  }
  // Private and loopback targets are refused unless the setting allows them (the test database does).
  assert.throws(() => sql(`SET pg_inbox.webhook_allow_private = off; SELECT inbox.create_webhook('http://10.1.2.3/x', '{notification.created}')`), /private or internal address/);
  assert.throws(() => sql(`SET pg_inbox.webhook_allow_private = off; SELECT inbox.create_webhook('http://localhost:8080/x', '{notification.created}')`), /private or internal address/);
  assert.equal(sql('SELECT count(*) FROM inbox.webhooks'), before);
  // Only an admin registers webhooks.
  isError(assert, await api('POST', '/api/webhooks', { tok: sender, body: { url: 'https://example.org/h', events: ['notification.created'] } }), 403, 'forbidden');
  isError(assert, await api('GET', '/api/webhooks', { tok: sender }), 403, 'forbidden');
  isError(assert, await api('DELETE', '/api/webhooks/wh_999999', { tok: admin }), 404, 'not_found');

  const user = unique('badpref');
  const tok = token(user, ['notifications:read', 'notifications:write']);
  for (const body of [
    { type: 'info', channel: 'sms', enabled: false },
    { type: 'no-such-type', channel: 'email', enabled: false },
    { type: 'info', channel: 'email', enabled: 'no' },
    [{ type: 'info', channel: 'email', enabled: false }, { type: 'info', channel: 'pigeon', enabled: false }],
    [],
  ]) {
    const res = await api('PUT', '/api/preferences', { tok, body });
    isError(assert, res, 400, 'invalid_parameter');
  }
  assert.equal(sql(`SELECT count(*) FROM inbox.preferences WHERE user_id = '${user}'`), '0');
  const reader = token(user, ['notifications:read']);
  isError(assert, await api('PUT', '/api/preferences', { tok: reader, body: { type: 'info', channel: 'email', enabled: false } }), 403, 'forbidden');
});

test('DELETE /api/webhooks/{id}: gone from the list, its pending deliveries are cancelled', async () => {
  const hook = await webhook('deleted', { userId: unique('nobody') });
  const res = await api('DELETE', `/api/webhooks/${hook.id}`, { tok: admin });
  assert.equal(res.status, 200, res.text);
  const list = await api('GET', '/api/webhooks', { tok: admin });
  assert.equal(list.body.data.find((w) => w.id === hook.id), undefined);
});
