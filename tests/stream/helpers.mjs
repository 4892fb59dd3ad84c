// Shared by the stream suites (tests/stream.sh): a server of their own per test file (some kill
// it), the database through psql, and a small server-sent events client (Node has no
// EventSource): it parses id/event/data, remembers the last id, and can resume with it.
import { spawn, execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';

export const ROOT = process.env.ROOT;
export const DB = process.env.STREAM_DB;
export const DATABASE_URL = process.env.STREAM_DATABASE_URL;

export function psql(sql) {
  // (Bounded: a statement that stalls fails the test that ran it instead of hanging the suite.)
  return execFileSync('psql', ['-X', '-qtA', '-v', 'ON_ERROR_STOP=1', '-d', DB, '-c', sql], {
    encoding: 'utf8',
    timeout: 120000,
  }).trim();
}

export function token(user, scopes = ['notifications:read', 'notifications:write'], workspace = null) {
  const ws = workspace === null ? 'NULL' : `'${workspace}'`;
  return psql(`SELECT inbox.create_token('${user}', ARRAY[${scopes.map((s) => `'${s}'`).join(',')}], ${ws})`);
}

export function create(user, fields = {}) {
  const body = JSON.stringify({ type: 'test', title: 'hello', ...fields }).replaceAll("'", "''");
  return JSON.parse(psql(`SELECT inbox.create('${user}', '${body}')`));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Starts server/pg_inbox_server with `args`; resolves once /readyz answers.
export async function startServer(args = [], port = null) {
  port = port ?? (await freePort());
  const proc = spawn(`${ROOT}/server/pg_inbox_server`,
    ['--database-url', DATABASE_URL, '--port', String(port), '--pool-size', '4', ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) break;
    } catch {}
    await sleep(100);
  }
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  return {
    url, port, proc, exited,
    log: () => log,
    async stop(signal = 'SIGTERM') { proc.kill(signal); return exited; },
  };
}

// A server-sent events client. `events` holds {id, event, data} in arrival order (data parsed).
export class SseClient {
  constructor(url, { headers = {} } = {}) {
    this.url = url;
    this.headers = headers;
    this.events = [];
    this.lastId = null;
    this.comments = 0;
    this.waiters = [];
    this.ended = false;
  }
  // Resolves with the response (status, headers); events flow in afterwards.
  open() {
    return new Promise((resolve, reject) => {
      const headers = { ...this.headers };
      this.req = http.get(this.url, { headers }, (res) => {
        this.res = res;
        this.status = res.statusCode;
        this.responseHeaders = res.headers;
        if (res.statusCode !== 200) {
          let body = '';
          res.on('data', (d) => { body += d; });
          res.on('end', () => { this.body = body; this.ended = true; resolve(this); });
          return;
        }
        res.setEncoding('utf8');
        let buf = '';
        this.raw = '';
        res.on('data', (d) => {
          this.raw += d;
          buf += d;
          let cut;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            this.parse(buf.slice(0, cut));
            buf = buf.slice(cut + 2);
          }
        });
        const end = () => { this.ended = true; this.wake(); };
        res.on('end', end);
        res.on('error', end);
        res.on('close', end);
        resolve(this);
      });
      this.req.on('error', (e) => { this.ended = true; this.error = e; this.wake(); resolve(this); });
    });
  }
  parse(block) {
    const e = {};
    let comment = true;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      comment = false;
      const i = line.indexOf(':');
      const name = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (name === 'data') e.data = e.data === undefined ? value : `${e.data}\n${value}`;
      else e[name] = value;
    }
    if (comment) { this.comments++; return this.wake(); }
    if (e.retry !== undefined && e.event === undefined && e.data === undefined) { this.retry = Number(e.retry); return; }
    if (e.id !== undefined) this.lastId = e.id;
    if (e.data !== undefined) e.data = JSON.parse(e.data);
    this.events.push(e);
    this.wake();
  }
  wake() { for (const w of this.waiters.splice(0)) w(); }
  // Waits until `pred(events)` holds (or the stream ended, or `ms` passed); returns it.
  async until(pred, ms = 5000) {
    const deadline = Date.now() + ms;
    while (!pred(this.events, this)) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => { this.waiters.push(r); setTimeout(r, 50); });
    }
    return true;
  }
  named(name) { return this.events.filter((e) => e.event === name); }
  feed() { return this.events.filter((e) => e.id !== undefined && e.event !== 'reset'); }
  close() { this.req?.destroy(); this.ended = true; }
}

export function streamUrl(base, tok, params = {}) {
  const q = new URLSearchParams({ access_token: tok, ...params });
  return `${base}/api/notifications/stream?${q}`;
}
