// Delivery on a Citus cluster (issue 15): the server's delivery workers against the coordinator
// of a distributed database (tests/citus.sh sets it up: a recipient relation to a reference
// table, e-mail on, a webhook) claim and report per shard. One create through the coordinator
// must reach a real SMTP server (tests/delivery/smtp_sink.py) as one e-mail and a receiver here
// as one webhook whose signature the standardwebhooks package verifies; the outbox then says
// delivered for both. The server's sessions refuse any statement that touches several shards.
// Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed".
//
// env: ROOT, DATABASE_URL (the coordinator's database), PYTHON
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const ROOT = process.env.ROOT;
const DATABASE_URL = process.env.DATABASE_URL;
const require = createRequire(join(ROOT, 'tests', 'package.json'));
const { Webhook } = require('standardwebhooks');

let passed = 0;
let failed = 0;
function check(ok, name, detail) {
  if (ok) {
    passed += 1;
    console.log(`ok - ${name}`);
  } else {
    failed += 1;
    console.log(`not ok - ${name}`);
    if (detail) console.log(String(detail).split('\n').slice(0, 30).map((l) => `    ${l}`).join('\n'));
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(check, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value || Date.now() > end) return value;
    await sleep(100);
  }
}
// One value from the coordinator (statements over every user's rows say so for themselves).
const sql = (query) => execFileSync('psql', ['-X', '-qAt', '-v', 'ON_ERROR_STOP=1', '-d', DATABASE_URL,
  '-c', 'SET client_min_messages = warning', '-c', query], { encoding: 'utf8' }).trim();
const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

const work = mkdtempSync(join(tmpdir(), 'pg-inbox-citus-delivery-'));
const mailDir = join(work, 'mail');
const children = [];
let serverLog = '';
try {
  const [smtpPort, receiverPort, serverPort] = [await freePort(), await freePort(), await freePort()];
  // The SMTP server and the receiver.
  const smtp = spawn(process.env.PYTHON ?? '/usr/bin/python3',
    [join(ROOT, 'tests/delivery/smtp_sink.py'), String(smtpPort), mailDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(smtp);
  await new Promise((resolve, reject) => {
    smtp.stdout.on('data', (d) => { if (String(d).includes('ready')) resolve(); });
    smtp.on('exit', (code) => reject(new Error(`smtp_sink.py exited ${code}`)));
  });
  const received = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { body += c; });
    req.on('end', () => { received.push({ headers: req.headers, body }); res.end('{"ok":true}'); });
  });
  await new Promise((r) => receiver.listen(receiverPort, '127.0.0.1', r));

  const hook = JSON.parse(sql(`SELECT inbox.create_webhook('http://127.0.0.1:${receiverPort}/hook', '{notification.created}')`));
  // The server's sessions refuse a statement that touches several shards: the claim and the
  // report must each run shard by shard.
  // (libpq decodes %20, not +, in a URI.)
  const url = `${DATABASE_URL}${DATABASE_URL.includes('?') ? '&' : '?'}options=-c%20citus.multi_task_query_log_level%3Derror`;
  const server = spawn(join(ROOT, 'server/pg_inbox_server'), [
    '--database-url', url, '--port', String(serverPort), '--pool-size', '2',
    '--delivery-workers', '2', '--delivery-poll-ms', '50', '--delivery-lease-ms', '5000',
    '--smtp-url', `smtp://127.0.0.1:${smtpPort}`, '--mail-from', 'pg_inbox <noreply@example.com>',
    '--webhook-allow-private', 'on'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(server);
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  const ready = await waitFor(async () => {
    try { return (await fetch(`http://127.0.0.1:${serverPort}/readyz`)).status === 200; } catch { return false; }
  }, 15000);
  check(ready, 'the server with delivery workers starts against the coordinator', serverLog);

  const created = JSON.parse(sql(`SELECT inbox.create('citus-mail-user', '{"title": "Delivered on Citus", "body": "Through a shard.", "data": {"url": "https://example.org/c/1"}}')`));
  const mails = () => {
    try {
      return readdirSync(mailDir).filter((f) => f.endsWith('.json')).map((f) => ({
        envelope: JSON.parse(readFileSync(join(mailDir, f), 'utf8')),
        raw: readFileSync(join(mailDir, f.replace(/\.json$/, '.eml')), 'latin1'),
      }));
    } catch { return []; }
  };
  const mail = await waitFor(() => mails().length > 0 && mails(), 20000);
  check(mail && mail.length === 1 && mail[0].envelope.to.includes('citus-mail-user@example.org')
        && /Message-ID: <ntf_/i.test(mail[0].raw) && /List-Unsubscribe-Post: List-Unsubscribe=One-Click/i.test(mail[0].raw),
        'the create queued on its shard is e-mailed to the recipient through the SMTP server',
        mail ? JSON.stringify(mail.map((m) => m.envelope)) + '\n' + (mail[0]?.raw ?? '').slice(0, 800) : `no e-mail\n${serverLog}`);
  const call = await waitFor(() => received.length > 0 && received, 20000);
  let verified = null;
  try {
    verified = call && new Webhook(hook.secret).verify(call[0].body, call[0].headers);
  } catch (e) {
    verified = null;
    serverLog += `\nverify: ${e.message}`;
  }
  check(verified && verified.type === 'notification.created' && verified.data.id === created.id
        && verified.data.title === 'Delivered on Citus',
        'and POSTed to the webhook, its signature verified (standardwebhooks)',
        call ? JSON.stringify(call[0]) : `no webhook call\n${serverLog}`);
  // Once each: nothing more arrives, and the outbox says delivered (one attempt each).
  await sleep(1500);
  check(mails().length === 1 && received.length === 1, `once each (e-mails: ${mails().length}, webhook calls: ${received.length})`);
  const states = sql(`SELECT string_agg(channel || ':' || state || ':' || attempts, ',' ORDER BY channel)
                        FROM inbox.deliveries WHERE user_id = 'citus-mail-user'`);
  const logged = sql(`SELECT count(*) FROM inbox.delivery_attempts WHERE user_id = 'citus-mail-user' AND outcome = 'delivered'`);
  check(states === 'email:delivered:1,webhook:delivered:1' && logged === '2',
        `the outbox records both as delivered, one attempt each (${states}; attempts logged: ${logged})`);
  check(!/failed|could not|multi-task/.test(serverLog), 'the workers claimed and reported without an error', serverLog);
  receiver.closeAllConnections?.();
  receiver.close();
} catch (e) {
  check(false, 'the delivery suite ran to the end', `${e.stack}\n${serverLog}`);
} finally {
  for (const c of children) c.kill('SIGINT');
  await sleep(200);
  rmSync(work, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
