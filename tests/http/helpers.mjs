// Shared by the HTTP suites: where the server is, how to mint tokens (in SQL, as an operator
// would), and a raw-socket client for requests that fetch() refuses to send.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { randomUUID } from 'node:crypto';

export const BASE = process.env.BASE_URL;
export const DATABASE_URL = process.env.HTTP_DATABASE_URL;
if (!BASE || !DATABASE_URL) throw new Error('run through tests/http.sh (BASE_URL, HTTP_DATABASE_URL)');

export function sql(query) {
  return execFileSync('psql', [DATABASE_URL, '-XqtA', '-v', 'ON_ERROR_STOP=1', '-c', query], {
    encoding: 'utf8',
  }).trim();
}

const quote = (s) => (s === null || s === undefined ? 'NULL' : `'${String(s).replace(/'/g, "''")}'`);

// A token for `user` with `scopes`, optionally bound to a workspace or expiring.
export function token(user, scopes, workspace = null, expires = null) {
  const array = `ARRAY[${scopes.map(quote).join(', ')}]::text[]`;
  return sql(`SELECT inbox.create_token(${quote(user)}, ${array}, ${quote(workspace)}, ${expires ?? 'NULL'})`);
}

// A user name no other test uses.
export const unique = (name) => `${name}-${randomUUID().slice(0, 8)}`;

// fetch with a bearer token and JSON in and out; returns { status, headers, body, text }.
export async function api(method, path, { tok, body, headers = {}, raw } = {}) {
  const h = { ...headers };
  if (tok) h.authorization = `Bearer ${tok}`;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['content-type'] ??= 'application/json';
  }
  const res = await fetch(BASE + path, { method, headers: h, body: payload });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, body: json, text };
}

// Sends `request` bytes as they are and returns the first response's status, headers and
// body (read up to its Content-Length). The socket is not half-closed: the server would take
// that as the client leaving and answer nothing.
export function rawRequest(request) {
  const url = new URL(BASE);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let data = Buffer.alloc(0);
    let done = false;
    const finish = () => {
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const lines = text.slice(0, end).split('\r\n');
      const headers = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      const body = text.slice(end + 4);
      const length = Number(headers['content-length'] ?? 0);
      if (body.length < length) return false;
      done = true;
      socket.destroy();
      resolve({ status: Number(lines[0].split(' ')[1]), headers, text: body.slice(0, length) });
      return true;
    };
    socket.on('connect', () => socket.write(request));
    socket.on('data', (d) => {
      data = Buffer.concat([data, d]);
      finish();
    });
    socket.on('error', (e) => done || reject(e));
    socket.on('close', () => done || finish() || reject(new Error(`no response: ${data}`)));
  });
}

// Asserts an error response in the API's one error format.
export function isError(assert, res, status, code) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get?.('content-type') ?? res.headers['content-type'], /^application\/json/);
  const body = res.body ?? JSON.parse(res.text);
  assert.equal(typeof body.error?.message, 'string', res.text);
  assert.ok(body.error.message.length > 0);
  if (code) assert.equal(body.error.code, code, res.text);
  return body.error;
}

export const create = (tok, notification, headers) =>
  api('POST', '/api/notifications', { tok, body: notification, headers });
