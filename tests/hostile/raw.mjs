// Raw sockets for the hostile suite: bytes out exactly as written, everything the server sends
// back, and whether (and when) it closed the connection. Loopback only, every wait bounded.
import net from 'node:net';
import { readFileSync } from 'node:fs';

export const BASE = process.env.BASE_URL;
export const CAPPED = process.env.CAPPED_URL; // a second server with --max-connections 4
export const SERVER_PID = Number(process.env.SERVER_PID);
export const LOG_FILE = process.env.SERVER_LOG;
if (!BASE || !CAPPED || !SERVER_PID || !LOG_FILE) throw new Error('run through tests/hostile.sh');

const endpoint = (base) => {
  const url = new URL(base);
  return { port: Number(url.port), host: url.hostname };
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Opens a connection; resolves once connected.
export function connect(base = BASE) {
  return new Promise((resolve, reject) => {
    const { port, host } = endpoint(base);
    const socket = net.connect(port, host);
    socket.setNoDelay(true);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

// Splits what the server sent into responses: { status, headers (lower-case names), body }.
// A response to HEAD has no body whatever its Content-Length (pass heads: the count of HEAD
// requests, answered first).
export function parseResponses(buffer, { heads = 0 } = {}) {
  const text = buffer.toString('latin1');
  const out = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = text.slice(at, end).split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    let length = Number(headers['content-length'] ?? 0);
    if (status < 200 || status === 204 || status === 304 || out.length < heads) length = 0;
    out.push({ status, headers, body: text.slice(end + 4, end + 4 + length), line: lines[0] });
    at = end + 4 + length;
  }
  return out;
}

// Writes `chunks` (strings or Buffers; a number is a pause in ms) and collects what comes back
// until the server closes or `wait` ms pass after the last write. Returns { responses, closed,
// closedAfter (ms from the first byte written), raw, error }.
export async function exchange(chunks, { wait = 1500, base = BASE, heads = 0 } = {}) {
  const socket = await connect(base);
  let data = Buffer.alloc(0);
  let closed = false;
  let closedAt = null;
  let error = null;
  const start = Date.now();
  const ended = new Promise((resolve) => {
    socket.on('data', (d) => (data = Buffer.concat([data, d])));
    socket.on('error', (e) => (error = e));
    socket.on('close', () => {
      closed = true;
      closedAt = Date.now() - start;
      resolve();
    });
  });
  for (const c of [].concat(chunks)) {
    if (closed) break;
    if (typeof c === 'number') await sleep(c);
    else socket.write(c);
  }
  await Promise.race([ended, sleep(wait)]);
  socket.destroy();
  return { responses: parseResponses(data, { heads }), closed, closedAfter: closedAt, raw: data, error };
}

// One request, its one response (the first), and whether the server closed.
export async function one(request, options) {
  const r = await exchange(request, options);
  return { ...r, res: r.responses[0] };
}

// A GET of `path` with extra header lines, as raw bytes.
export const get = (path, headers = '', base = BASE) =>
  `GET ${path} HTTP/1.1\r\nHost: ${endpoint(base).host}\r\n${headers}\r\n`;

export const post = (path, body, headers = '') =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
  `Content-Length: ${Buffer.byteLength(body)}\r\n${headers}\r\n${body}`;

// The server's resident memory in MiB.
export function rssMiB() {
  const status = readFileSync(`/proc/${SERVER_PID}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

export const serverLog = () => readFileSync(LOG_FILE);

// GET /healthz on a fresh connection: the time it took in ms, or Infinity past `limit` ms.
export async function probe(limit = 3000, base = BASE) {
  const start = Date.now();
  const r = await exchange(get('/healthz', 'Connection: close\r\n', base), { wait: limit });
  return r.responses[0]?.status === 200 ? Date.now() - start : Infinity;
}
