// pg-inbox.js: the browser client of pg_inbox's native REST API and live stream, and
// <pg-inbox>, a drop-in notification bell. One ES module, no build step, no dependency.
//
//   <script type="module" src="https://your-server/ui/pg-inbox.js"></script>
//   <pg-inbox server="https://your-server" token="pgi_..."></pg-inbox>
//
// The client (InboxClient) calls the routes of README "The REST server" with
// `Authorization: Bearer`, and follows `GET /api/notifications/stream` (server-sent events, read
// with fetch so that the token stays in a header and errors keep their status and code): it
// reconnects by itself and resumes from the last event id (Last-Event-ID), so no event is lost
// or seen twice across a disconnect or a server restart. Errors are InboxError objects that carry
// the API's `code` ("unauthorized", "not_found", ...).

/**
 * A notification in the API shape (README "SQL API").
 * @typedef {object} Notification
 * @property {string} id public id, `ntf_...`
 * @property {string} userId
 * @property {string|null} workspaceId
 * @property {string} type
 * @property {string|null} title
 * @property {string|null} body
 * @property {Record<string, unknown>} data
 * @property {boolean} read
 * @property {string|null} readAt
 * @property {boolean} archived
 * @property {string|null} archivedAt
 * @property {string|null} deletedAt
 * @property {string|null} actorId
 * @property {string[]} actors
 * @property {number} actorCount
 * @property {string|null} collection
 * @property {string|null} item
 * @property {string|null} groupKey
 * @property {string} createdAt ISO-8601
 * @property {string} updatedAt ISO-8601
 */

/**
 * @typedef {object} PageInfo
 * @property {number|null} total
 * @property {boolean} hasNextPage
 * @property {boolean} hasPreviousPage
 * @property {string|null} startCursor
 * @property {string|null} endCursor
 */

/**
 * @typedef {object} Page
 * @property {Notification[]} data
 * @property {PageInfo} pageInfo
 */

/**
 * A token, or a function returning one (called before each request, so it may refresh it).
 * @typedef {string | (() => string | Promise<string>)} TokenSource
 */

/**
 * @typedef {object} ClientOptions
 * @property {string} [server] base URL of the pg_inbox server; '' (default) is this page's origin
 * @property {TokenSource} token
 * @property {string|null} [workspace] workspace id: lists, counts and the stream keep to it
 * @property {typeof fetch} [fetch] the fetch to use (default: the global one)
 */

/**
 * One event of the live stream.
 * @typedef {object} StreamEvent
 * @property {string} type `notification.created`, `notification.updated`, `notification.deleted`,
 *   `notification.restored`, `notification.purged`, `notification.read_all`,
 *   `notification.bulk`, `unread_count`, `reset`, ...
 * @property {string|null} id the event id (null for events without one)
 * @property {any} data the parsed JSON data (a Notification for notification.*, `{count}` for
 *   unread_count)
 */

/**
 * @typedef {'connecting' | 'live' | 'reconnecting' | 'unavailable' | 'error' | 'closed'} StreamStatus
 *   unavailable: the server has no stream route (404/405); error: a fatal error (401, 403, 400):
 *   the subscription stopped; both are final.
 */

/**
 * @typedef {object} Subscription
 * @property {() => void} close stops the stream and every reconnect
 * @property {() => string|null} lastEventId the id of the last event received
 */

/** An error from the API, or from reaching it: `code` is the API's error code. */
export class InboxError extends Error {
  /**
   * @param {number} status HTTP status (0: the server could not be reached)
   * @param {string} code the API's code (`unauthorized`, `not_found`, ...) or `network_error`
   * @param {string} message
   * @param {{detail?: string, hint?: string}} [more]
   */
  constructor(status, code, message, more = {}) {
    super(message);
    this.name = 'InboxError';
    /** @type {number} */ this.status = status;
    /** @type {string} */ this.code = code;
    /** @type {string|undefined} */ this.detail = more.detail;
    /** @type {string|undefined} */ this.hint = more.hint;
  }
}

/** 401 or 403: the token is missing, unknown, expired or revoked, or lacks a scope. */
export class InboxAuthError extends InboxError {
  constructor(status, code, message, more) {
    super(status, code, message, more);
    this.name = 'InboxAuthError';
  }
}

/** The server could not be reached, or did not answer with the API's JSON. */
export class InboxNetworkError extends InboxError {
  constructor(message) {
    super(0, 'network_error', message);
    this.name = 'InboxNetworkError';
  }
}

/** @param {Response} res @returns {Promise<InboxError>} */
async function errorOf(res) {
  let error = {};
  try {
    error = (await res.json()).error ?? {};
  } catch {
    // Not the API's JSON (a proxy's page): the status alone.
  }
  const code = error.code ?? `http_${res.status}`;
  const message = error.message ?? `HTTP ${res.status}`;
  const Kind = res.status === 401 || res.status === 403 ? InboxAuthError : InboxError;
  return new Kind(res.status, code, message, { detail: error.detail, hint: error.hint });
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Reads a text/event-stream body and calls `onEvent` per event, `onActivity` per chunk (pings
 * included). Resolves when the body ends.
 * @param {ReadableStream<Uint8Array>} body
 * @param {(e: {event: string, id: string|null, data: string, retry: number|null}) => void} onEvent
 * @param {() => void} onActivity
 */
async function readEventStream(body, onEvent, onActivity) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = '';
  let data = [];
  let id = null;
  let retry = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onActivity();
    buffer += value;
    // Lines end in CRLF, LF or CR (a CR at the end of the buffer may be half of a CRLF: wait).
    let match;
    while ((match = /\r\n|\n|\r(?!$)/.exec(buffer))) {
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      if (line === '') {
        if (data.length) onEvent({ event: event || 'message', id, data: data.join('\n'), retry });
        event = '';
        data = [];
        retry = null;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let text = colon < 0 ? '' : line.slice(colon + 1);
      if (text.startsWith(' ')) text = text.slice(1);
      if (field === 'event') event = text;
      else if (field === 'data') data.push(text);
      else if (field === 'id' && !text.includes('\0')) id = text;
      else if (field === 'retry' && /^\d+$/.test(text)) retry = Number(text);
    }
  }
}

/** The client of one user's inbox (the user the token belongs to). */
export class InboxClient {
  /** @param {ClientOptions} options */
  constructor({ server = '', token, workspace = null, fetch: fetchImpl } = /** @type {any} */ ({})) {
    /** @type {string} */ this.server = server.replace(/\/+$/, '');
    /** @type {TokenSource} */ this.token = token;
    /** @type {string|null} */ this.workspace = workspace || null;
    this._fetch = fetchImpl ?? globalThis.fetch.bind(globalThis);
  }

  /** @returns {Promise<string>} */
  async _token() {
    const t = typeof this.token === 'function' ? await this.token() : this.token;
    if (!t) throw new InboxAuthError(401, 'no_token', 'no token: set the token of the user');
    return t;
  }

  /**
   * @param {string} method @param {string} path
   * @param {{query?: Record<string, unknown>, body?: unknown, workspace?: boolean}} [options]
   */
  async _request(method, path, { query = {}, body, workspace = false } = {}) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null) continue;
      params.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
    }
    if (workspace && this.workspace) params.set('workspace_id', this.workspace);
    const qs = params.toString();
    const headers = { authorization: `Bearer ${await this._token()}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await this._fetch(`${this.server}${path}${qs ? `?${qs}` : ''}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (e) {
      throw new InboxNetworkError(`cannot reach ${this.server || 'the server'}: ${e.message}`);
    }
    if (!res.ok) throw await errorOf(res);
    try {
      return await res.json();
    } catch {
      throw new InboxNetworkError(`${method} ${path}: the answer is not JSON`);
    }
  }

  /**
   * One page of notifications, newest first. Pass the previous page's `pageInfo.endCursor` as
   * `after` for the next one (keyset: no duplicate, no gap, also while notifications arrive).
   * @param {{limit?: number, after?: string, before?: string, filter?: object, read?: boolean,
   *   type?: string, total?: boolean}} [options]
   * @returns {Promise<Page>}
   */
  list({ limit = 20, after, before, filter, read, type, total = false } = {}) {
    return this._request('GET', '/api/notifications', {
      query: { limit, after, before, filter, read, type, total },
      workspace: true,
    });
  }

  /** @returns {Promise<number>} the unread count (of the workspace, when one is set) */
  async unreadCount() {
    const answer = await this._request('GET', '/api/notifications/unread-count', { workspace: true });
    return answer.count;
  }

  /** @param {string} id @returns {Promise<Notification>} */
  get(id) {
    return this._request('GET', `/api/notifications/${encodeURIComponent(id)}`);
  }

  /** @param {string} id @returns {Promise<Notification>} */
  markRead(id) {
    return this._request('PUT', `/api/notifications/${encodeURIComponent(id)}/read`);
  }

  /** @param {string} id @returns {Promise<Notification>} */
  markUnread(id) {
    return this._request('PUT', `/api/notifications/${encodeURIComponent(id)}/unread`);
  }

  /** @returns {Promise<{ok: boolean, updated: number}>} */
  markAllRead() {
    return this._request('PUT', '/api/notifications/read-all', { workspace: true });
  }

  /** @param {string} id @returns {Promise<Notification>} */
  archive(id) {
    return this._request('PATCH', `/api/notifications/${encodeURIComponent(id)}`, {
      body: { archived: true },
    });
  }

  /** @param {string} id @returns {Promise<Notification>} */
  unarchive(id) {
    return this._request('PATCH', `/api/notifications/${encodeURIComponent(id)}`, {
      body: { archived: false },
    });
  }

  /** Soft delete: the notification leaves every list and can be restored.
   * @param {string} id @returns {Promise<{success: boolean}>} */
  remove(id) {
    return this._request('DELETE', `/api/notifications/${encodeURIComponent(id)}`);
  }

  /** Undoes remove(). @param {string} id @returns {Promise<Notification>} */
  restore(id) {
    return this._request('POST', `/api/notifications/${encodeURIComponent(id)}/restore`);
  }

  /**
   * Creates a notification, or several in one request (needs the `notifications:send` scope).
   * @template {(Partial<Notification> & {userId: string}) | (Partial<Notification> & {userId: string})[]} T
   * @param {T} notification one object, or an array of them
   * @returns {Promise<T extends any[] ? Notification[] : Notification>}
   */
  async send(notification) {
    const answer = await this._request('POST', '/api/notifications', { body: notification });
    return Array.isArray(notification) ? answer.data : answer;
  }

  /**
   * Follows the live stream. Reconnects after a network error, a server restart or a 5xx (after
   * the server's `retry`, then backing off to 30 s), sending Last-Event-ID so that the server
   * sends every event missed, once; a stream silent for longer than `idleMs` (the server pings
   * every 15 s) is taken as dead. 401/403/400 stop it with status 'error', a server without the
   * route (404) with 'unavailable'.
   * @param {(event: StreamEvent) => void} onEvent
   * @param {{onStatus?: (status: StreamStatus, detail: {error?: InboxError, resumed?: boolean})
   *   => void, lastEventId?: string|null, idleMs?: number}} [options]
   * @returns {Subscription}
   */
  subscribe(onEvent, { onStatus = () => {}, lastEventId = null, idleMs = 45000 } = {}) {
    const stop = new AbortController();
    let last = lastEventId;
    let retryMs = 2000;
    const run = async () => {
      for (let attempt = 0; !stop.signal.aborted; ) {
        if (attempt === 0) onStatus('connecting', {});
        const connection = new AbortController();
        const abort = () => connection.abort();
        stop.signal.addEventListener('abort', abort, { once: true });
        let watchdog;
        const activity = () => {
          clearTimeout(watchdog);
          watchdog = setTimeout(abort, idleMs);
        };
        try {
          const params = new URLSearchParams();
          if (this.workspace) params.set('workspace_id', this.workspace);
          const headers = {
            accept: 'text/event-stream',
            authorization: `Bearer ${await this._token()}`,
          };
          if (last !== null) headers['last-event-id'] = last;
          const qs = params.toString();
          activity();
          const res = await this._fetch(
            `${this.server}/api/notifications/stream${qs ? `?${qs}` : ''}`,
            { headers, cache: 'no-store', signal: connection.signal },
          );
          if (!res.ok) {
            const error = await errorOf(res);
            if (res.status === 404 || res.status === 405) {
              onStatus('unavailable', { error });
              return;
            }
            if (res.status < 500 && res.status !== 408 && res.status !== 429) {
              onStatus('error', { error });
              return;
            }
            throw error;
          }
          if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
            onStatus('unavailable', {
              error: new InboxNetworkError('the stream route did not answer text/event-stream'),
            });
            return;
          }
          attempt = 0;
          onStatus('live', { resumed: last !== null });
          await readEventStream(
            res.body,
            (e) => {
              if (e.retry !== null) retryMs = e.retry;
              if (e.id !== null) last = e.id;
              let data = null;
              try {
                data = e.data ? JSON.parse(e.data) : null;
              } catch {
                data = e.data;
              }
              onEvent({ type: e.event, id: e.id, data });
            },
            activity,
          );
        } catch (e) {
          // A network error, an abort (watchdog or close) or a 5xx: try again below.
        } finally {
          clearTimeout(watchdog);
          stop.signal.removeEventListener('abort', abort);
        }
        if (stop.signal.aborted) break;
        const backoff = Math.min(30000, retryMs * 2 ** Math.min(attempt, 4));
        attempt += 1;
        onStatus('reconnecting', {});
        await sleep(backoff * (0.75 + Math.random() * 0.5), stop.signal);
      }
      onStatus('closed', {});
    };
    run();
    return { close: () => stop.abort(), lastEventId: () => last };
  }
}

// --- <pg-inbox> ------------------------------------------------------------------------------

const STYLE = `
:host {
  --_accent: var(--pg-inbox-accent, #0b57d0);
  --_bg: var(--pg-inbox-bg, #ffffff);
  --_fg: var(--pg-inbox-fg, #1f1f1f);
  --_muted: var(--pg-inbox-muted, #5e5e5e);
  --_border: var(--pg-inbox-border, #d3d3d3);
  --_unread-bg: var(--pg-inbox-unread-bg, #eef3fc);
  --_badge-bg: var(--pg-inbox-badge-bg, #b3261e);
  --_badge-fg: var(--pg-inbox-badge-fg, #ffffff);
  --_radius: var(--pg-inbox-radius, 10px);
  display: inline-block;
  position: relative;
  font: var(--pg-inbox-font, 14px/1.4 system-ui, sans-serif);
  color: var(--_fg);
}
button { font: inherit; color: inherit; cursor: pointer; }
:focus-visible { outline: 2px solid var(--_accent); outline-offset: 2px; }
.bell {
  position: relative; display: inline-flex; align-items: center; justify-content: center;
  width: var(--pg-inbox-bell-size, 40px); height: var(--pg-inbox-bell-size, 40px);
  border: 1px solid var(--_border); border-radius: 50%; background: var(--_bg); padding: 0;
}
.bell svg { width: 55%; height: 55%; fill: currentColor; }
.badge {
  position: absolute; top: -4px; right: -6px; min-width: 20px; height: 20px; padding: 0 5px;
  box-sizing: border-box; border-radius: 10px; background: var(--_badge-bg); color: var(--_badge-fg);
  font-size: 12px; font-weight: 700; line-height: 20px; text-align: center;
}
.badge[hidden] { display: none; }
.panel {
  position: absolute; z-index: var(--pg-inbox-z-index, 1000); top: calc(100% + 8px);
  right: var(--pg-inbox-panel-right, 0); width: var(--pg-inbox-width, 380px); max-width: 95vw;
  background: var(--_bg); color: var(--_fg); border: 1px solid var(--_border);
  border-radius: var(--_radius); box-shadow: 0 8px 28px rgba(0, 0, 0, .18); overflow: hidden;
}
.panel[hidden] { display: none; }
.header {
  display: flex; align-items: center; justify-content: space-between; gap: 8px;
  padding: 10px 14px; border-bottom: 1px solid var(--_border);
}
.header h2 { margin: 0; font-size: 16px; }
.link { background: none; border: 0; color: var(--_accent); padding: 4px 6px; border-radius: 6px; }
.link:disabled { color: var(--_muted); cursor: default; }
.list { max-height: var(--pg-inbox-max-height, 420px); overflow-y: auto; overscroll-behavior: contain; }
.item {
  display: flex; gap: 10px; padding: 10px 14px; border-bottom: 1px solid var(--_border);
  cursor: pointer; background: var(--_bg);
}
.item.unread { background: var(--_unread-bg); }
.item:focus-visible { outline-offset: -2px; }
.dot { flex: none; width: 8px; height: 8px; margin-top: 6px; border-radius: 50%; }
.unread .dot { background: var(--_accent); }
.content { flex: 1; min-width: 0; }
.title { margin: 0; font-size: 14px; font-weight: 600; overflow-wrap: anywhere; }
.read .title { font-weight: 500; }
.body { margin: 2px 0 0; color: var(--_fg); overflow-wrap: anywhere; }
.time { display: block; margin-top: 4px; color: var(--_muted); font-size: 12px; }
.actions { display: flex; align-items: flex-start; gap: 2px; }
.action {
  border: 0; background: none; color: var(--_muted); width: 28px; height: 28px; padding: 0;
  border-radius: 6px; font-size: 15px; line-height: 28px;
}
.action:hover { background: rgba(0, 0, 0, .06); color: var(--_fg); }
.undo { display: flex; align-items: center; justify-content: space-between; width: 100%; color: var(--_fg); }
.empty, .notice { margin: 0; padding: 28px 14px; text-align: center; color: var(--_muted); }
.error { margin: 0; padding: 14px; color: #8c1d18; background: #fceeee; border-bottom: 1px solid var(--_border); }
.error strong { display: block; }
.footer { padding: 6px 14px; font-size: 12px; color: var(--_muted); }
.footer:empty { display: none; }
.sr-only {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
[hidden] { display: none !important; }
`;

const BELL_SVG =
  '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1z"/></svg>';

/** "99+" above 99. @param {number} n */
export function badgeText(n) {
  return n > 99 ? '99+' : String(n);
}

/**
 * "now", "5 minutes ago", "yesterday", or a date for older times.
 * @param {string|Date} when @param {Date} [now] @param {string} [locale]
 */
export function relativeTime(when, now = new Date(), locale = undefined) {
  const then = when instanceof Date ? when : new Date(when);
  const seconds = Math.round((then.getTime() - now.getTime()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const abs = Math.abs(seconds);
  // Rounded half away from zero, the same in the past and the future (Math.round is not).
  const units = (size) => Math.sign(seconds) * Math.round(abs / size);
  if (abs < 45) return rtf.format(0, 'second');
  if (abs < 3600) return rtf.format(units(60), 'minute');
  if (abs < 86400) return rtf.format(units(3600), 'hour');
  if (abs < 7 * 86400) return rtf.format(units(86400), 'day');
  return then.toLocaleDateString(locale, { year: 'numeric', month: 'short', day: 'numeric' });
}

const UNDO_MS = 8000;

/**
 * `<pg-inbox>`: a bell with the unread count and a panel of the newest notifications, live.
 *
 * Attributes: `server` (base URL; default this page's origin), `token` (a bearer token with
 * notifications:read and notifications:write), `workspace` (optional), `page-size` (1-100,
 * default 20). The `token` property also takes a function returning a token (or a promise of
 * one), called before each request.
 *
 * Events: `pg-inbox-open` (detail: {notification}) when a notification is opened (click or
 * Enter; it is marked read), `pg-inbox-error` (detail: {error}) when the inbox cannot be shown.
 *
 * Styling: the CSS custom properties --pg-inbox-accent, -bg, -fg, -muted, -border, -unread-bg,
 * -badge-bg, -badge-fg, -radius, -font, -width, -max-height, -bell-size, -z-index, -panel-right,
 * and the parts bell, badge, panel, header, mark-all, list, item, item-unread, title, body, time,
 * actions, action, undo, empty, error, footer.
 */
export class PgInboxElement extends HTMLElement {
  static observedAttributes = ['server', 'token', 'workspace', 'page-size'];

  constructor() {
    super();
    /** @type {TokenSource|null} */ this._tokenSource = null;
    /** @type {Map<string, Notification>} */ this._items = new Map();
    /** @type {string[]} */ this._order = [];
    /** @type {Map<string, HTMLElement>} */ this._nodes = new Map();
    /** @type {Map<string, {timer: number, notification: Notification}>} */ this._undo = new Map();
    this._unread = null;
    this._endCursor = null;
    this._hasNext = false;
    this._loading = false;
    this._generation = 0;
    /** @type {InboxError|null} */ this._error = null;
    this._streamStatus = 'closed';
    this._subscription = null;
    this._timers = [];
    this._focusId = null;

    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = `
      <style>${STYLE}</style>
      <button part="bell" class="bell" type="button" aria-haspopup="dialog" aria-expanded="false"
              aria-controls="panel" aria-label="Notifications">${BELL_SVG}
        <span part="badge" class="badge" aria-hidden="true" hidden></span>
      </button>
      <div part="panel" class="panel" id="panel" role="dialog" aria-labelledby="heading" tabindex="-1" hidden>
        <div part="header" class="header">
          <h2 id="heading">Notifications</h2>
          <button part="mark-all" class="link mark-all" type="button">Mark all as read</button>
        </div>
        <div part="error" class="error" role="alert" hidden></div>
        <div part="list" class="list" role="feed" aria-labelledby="heading" aria-busy="false"></div>
        <p part="empty" class="empty" hidden>You're all caught up: no notifications.</p>
        <div part="footer" class="footer" role="status"></div>
      </div>
      <div class="sr-only live" aria-live="polite"></div>`;
    this._bell = root.querySelector('.bell');
    this._badge = root.querySelector('.badge');
    this._panel = root.querySelector('.panel');
    this._list = root.querySelector('.list');
    this._empty = root.querySelector('.empty');
    this._errorBox = root.querySelector('.error');
    this._footer = root.querySelector('.footer');
    this._live = root.querySelector('.live');
    this._markAll = root.querySelector('.mark-all');

    this._bell.addEventListener('click', () => this.toggle());
    this._markAll.addEventListener('click', () => this.markAllRead());
    this._list.addEventListener('click', (e) => this._onListClick(e));
    this._list.addEventListener('keydown', (e) => this._onListKey(e));
    this._list.addEventListener('focusin', (e) => {
      const id = this._itemOf(e.target);
      if (id && id !== this._focusId) {
        this._focusId = id;
        this._updateTabOrder();
      }
    });
    this._list.addEventListener('scroll', () => this._maybeLoadMore(), { passive: true });
    this._panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        this.close();
      }
    });
    this._onDocumentClick = (e) => {
      if (!this._panel.hidden && !e.composedPath().includes(this)) this.close(false);
    };
  }

  /** @returns {TokenSource|null} */
  get token() {
    return this._tokenSource ?? this.getAttribute('token');
  }
  /** @param {TokenSource|null} value a token, or a function returning one */
  set token(value) {
    this._tokenSource = value;
    this._restart();
  }

  /** The client this element uses (a new one when an attribute changes). */
  get client() {
    return this._client;
  }

  /** The unread count shown on the badge (null before it is known). */
  get unreadCount() {
    return this._unread;
  }

  connectedCallback() {
    document.addEventListener('click', this._onDocumentClick, true);
    this._timers.push(setInterval(() => this._refreshTimes(), 30000));
    this._restart();
  }

  disconnectedCallback() {
    document.removeEventListener('click', this._onDocumentClick, true);
    this._stop();
    for (const t of this._timers) clearInterval(t);
    this._timers = [];
    for (const id of [...this._undo.keys()]) this._clearUndo(id);
  }

  attributeChangedCallback(name, before, after) {
    if (before !== after && this.isConnected) this._restart();
  }

  // --- the panel -----------------------------------------------------------------------------

  /** Opens the panel and moves the focus to the newest notification. */
  open() {
    if (!this._panel.hidden) return;
    this._panel.hidden = false;
    this._bell.setAttribute('aria-expanded', 'true');
    const first = this._nodes.get(this._focusId) ?? this._nodes.get(this._order[0]);
    (first ?? this._panel).focus();
    this._maybeLoadMore();
  }

  /** Closes the panel; the focus goes back to the bell. @param {boolean} [focusBell] */
  close(focusBell = true) {
    if (this._panel.hidden) return;
    this._panel.hidden = true;
    this._bell.setAttribute('aria-expanded', 'false');
    if (focusBell) this._bell.focus();
  }

  toggle() {
    if (this._panel.hidden) this.open();
    else this.close();
  }

  // --- loading -------------------------------------------------------------------------------

  _pageSize() {
    const n = Number(this.getAttribute('page-size') ?? 20);
    return Number.isInteger(n) && n >= 1 && n <= 100 ? n : 20;
  }

  _stop() {
    clearInterval(this._poll);
    this._subscription?.close();
    this._subscription = null;
    this._generation += 1;
  }

  // Attributes set one after another (an upgrade sets each) restart once.
  _restart() {
    if (this._restartQueued) return;
    this._restartQueued = true;
    queueMicrotask(() => {
      this._restartQueued = false;
      this._start();
    });
  }

  _start() {
    if (!this.isConnected) return;
    this._stop();
    this._client = new InboxClient({
      server: this.getAttribute('server') ?? '',
      token: () => {
        const t = this.token;
        return typeof t === 'function' ? t() : t;
      },
      workspace: this.getAttribute('workspace'),
    });
    this._setError(null);
    if (!this.token) {
      this._setError(new InboxAuthError(401, 'no_token', 'no token: set the token attribute'));
      this._render();
      return;
    }
    // The stream first, then the first page: whatever changes after the stream started is in
    // the stream, so nothing falls between the page and the live events.
    this._firstLoad = true;
    this._subscription = this._client.subscribe((e) => this._onEvent(e), {
      onStatus: (status, detail) => this._onStreamStatus(status, detail),
    });
  }

  /** Reloads the first page and the count (after a reset, a bulk change, a reconnect). */
  refresh() {
    return this._loadPage(true);
  }

  /** Loads the next page (keyset: after the last loaded notification). */
  loadMore() {
    if (this._loading || !this._hasNext) return Promise.resolve();
    return this._loadPage(false);
  }

  // The first page (with the count; it replaces what is shown) or the next one. A reload started
  // since makes this one's answer moot: the newer generation wins.
  async _loadPage(first) {
    const generation = first ? ++this._generation : this._generation;
    this._loading = true;
    this._list.setAttribute('aria-busy', 'true');
    if (!first) this._footer.textContent = 'Loading more…';
    try {
      const [page, count] = await Promise.all([
        this._client.list({
          limit: this._pageSize(),
          after: first ? undefined : this._endCursor,
          filter: { archived: false },
        }),
        first ? this._client.unreadCount() : null,
      ]);
      if (generation !== this._generation) return;
      if (first) {
        this._items = new Map();
        this._order = [];
      }
      for (const n of page.data) {
        if (!this._items.has(n.id) && !this._undo.has(n.id)) this._put(n, this._order.length);
      }
      this._endCursor = page.pageInfo.endCursor ?? (first ? null : this._endCursor);
      this._hasNext = page.pageInfo.hasNextPage;
      if (first) {
        // A row deleted here and still offering its undo keeps its place.
        for (const [id, p] of this._undo) if (!this._items.has(id)) this._insertSorted(p.notification);
        this._setUnread(count);
        this._setError(null);
      }
    } catch (e) {
      if (generation === this._generation) this._fail(e);
    } finally {
      if (generation === this._generation) {
        this._loading = false;
        this._list.setAttribute('aria-busy', 'false');
        this._footer.textContent = '';
        this._render();
        // A short page may leave the list without a scroll bar: keep going until it has one.
        this._maybeLoadMore();
      }
    }
  }

  _maybeLoadMore() {
    if (this._panel.hidden || this._loading || !this._hasNext || this._error) return;
    const l = this._list;
    if (l.scrollTop + l.clientHeight >= l.scrollHeight - 60) this.loadMore();
  }

  // --- live events ---------------------------------------------------------------------------

  _onStreamStatus(status, { error, resumed } = {}) {
    this._streamStatus = status;
    this.setAttribute('data-stream', status);
    if (!this._loading) this._footer.textContent = status === 'reconnecting' ? 'Connection lost: reconnecting…' : '';
    if (status === 'live') {
      // Resumed streams send what was missed; a fresh one starts at the head, so reload (and
      // after an error the stream's return is the moment to try again).
      if (!resumed || this._firstLoad || this._error) this.refresh();
      this._firstLoad = false;
    } else if (status === 'error' && error instanceof InboxAuthError) {
      this._fail(error);
    } else if (status === 'unavailable' || status === 'error') {
      // A server without the stream, or that refuses it for another reason than the token:
      // the inbox works, and the count is polled.
      if (this._firstLoad) this.refresh();
      this._firstLoad = false;
      clearInterval(this._poll);
      this._poll = setInterval(() => {
        this._client.unreadCount().then((c) => this._setUnread(c), (err) => this._fail(err));
      }, 30000);
    }
  }

  /** @param {StreamEvent} e */
  _onEvent(e) {
    const n = e.data;
    switch (e.type) {
      case 'notification.created':
        if (this._visible(n) && !this._items.has(n.id)) {
          this._insertSorted(n);
          this._announce(`New notification: ${n.title ?? n.type}`);
        }
        break;
      case 'notification.updated':
      case 'notification.restored':
        if (this._undo.has(n.id) && e.type === 'notification.restored') this._clearUndo(n.id);
        if (!this._visible(n)) this._drop(n.id);
        else if (this._items.has(n.id)) this._items.set(n.id, n);
        else if (!this._undo.has(n.id)) this._insertSorted(n);
        break;
      case 'notification.deleted':
      case 'notification.purged':
        if (e.type === 'notification.purged') this._clearUndo(n.id);
        if (!this._undo.has(n.id)) this._drop(n.id);
        break;
      case 'unread_count':
        this._setUnread(n.count);
        break;
      case 'notification.read_all':
      case 'notification.bulk':
      case 'reset':
        this.refresh();
        return;
      default:
        return;
    }
    this._render();
  }

  /** Whether a notification belongs in the panel (the inbox: neither archived nor deleted). */
  _visible(n) {
    return n && !n.deletedAt && !n.archived;
  }

  /** Puts `n` at its place by creation time, if that place is within what is loaded. */
  _insertSorted(n) {
    // Among equal times the later arrival is the newer (the API's order breaks ties by id).
    let at = this._order.findIndex((id) => this._items.get(id).createdAt <= n.createdAt);
    if (at < 0) {
      if (this._hasNext) return;  // older than every loaded one: a later page brings it
      at = this._order.length;
    }
    this._put(n, at);
  }

  _put(n, at) {
    this._items.set(n.id, n);
    this._order.splice(at, 0, n.id);
  }

  _drop(id) {
    if (!this._items.delete(id)) return;
    this._order = this._order.filter((x) => x !== id);
  }

  // --- actions -------------------------------------------------------------------------------

  // Sends a change the panel already shows: then the server's answer (`then`), an announcement,
  // and the count when no stream keeps it; on failure `undo`, the error, and a reload.
  async _commit(request, { announce, then, undo } = {}) {
    try {
      const answer = await request;
      then?.(answer);
      if (announce) this._announce(announce);
      if (this._streamStatus !== 'live') this._setUnread(await this._client.unreadCount());
      this._render();
    } catch (e) {
      undo?.();
      this._fail(e);
      this.refresh();
    }
  }

  /** Marks every notification read (of the workspace, when one is set). */
  async markAllRead() {
    const before = this._unread;
    for (const n of this._items.values()) if (!n.read) this._items.set(n.id, { ...n, read: true });
    this._setUnread(0);
    this._render();
    await this._commit(this._client.markAllRead(), {
      announce: 'All notifications marked as read',
      undo: () => this._setUnread(before),
    });
  }

  /** Opens a notification: marks it read and tells the page (`pg-inbox-open`). */
  async openNotification(id) {
    const n = this._items.get(id);
    if (!n) return;
    this.dispatchEvent(new CustomEvent('pg-inbox-open', { detail: { notification: n }, bubbles: true, composed: true }));
    if (!n.read) await this._markRead(id);
  }

  // The server's copy of a notification, if the panel still shows it.
  _replace(id) {
    return (n) => {
      if (this._items.has(id)) this._items.set(id, n);
    };
  }

  async _markRead(id) {
    const n = this._items.get(id);
    if (!n || n.read) return;
    this._items.set(id, { ...n, read: true });
    if (this._unread) this._setUnread(this._unread - 1);
    this._render();
    await this._commit(this._client.markRead(id), { then: this._replace(id) });
  }

  async _archive(id) {
    const n = this._items.get(id);
    if (!n) return;
    this._moveFocusFrom(id);
    this._drop(id);
    if (!n.read && this._unread) this._setUnread(this._unread - 1);
    this._render();
    await this._commit(this._client.archive(id), { announce: 'Notification archived' });
  }

  async _delete(id) {
    const n = this._items.get(id);
    if (!n) return;
    // The row stays in place as "Deleted. Undo" for a few seconds.
    const timer = setTimeout(() => {
      this._clearUndo(id);
      this._drop(id);
      this._render();
    }, UNDO_MS);
    this._undo.set(id, { timer, notification: n });
    if (!n.read && this._unread) this._setUnread(this._unread - 1);
    this._render();
    this._nodes.get(id)?.querySelector('[data-action="undo"]')?.focus();
    await this._commit(this._client.remove(id), {
      announce: 'Notification deleted. Undo is available for a few seconds.',
      undo: () => this._clearUndo(id),
    });
  }

  async _restore(id) {
    if (!this._undo.has(id)) return;
    this._clearUndo(id);
    this._render();
    this._nodes.get(id)?.focus();
    await this._commit(this._client.restore(id), {
      announce: 'Notification restored',
      then: this._replace(id),
    });
  }

  _clearUndo(id) {
    const pending = this._undo.get(id);
    if (!pending) return;
    clearTimeout(pending.timer);
    this._undo.delete(id);
  }

  // --- events from the list ------------------------------------------------------------------

  _itemOf(target) {
    const node = target.closest?.('.item');
    return node ? node.dataset.id : null;
  }

  _onListClick(e) {
    const id = this._itemOf(e.target);
    if (!id) return;
    const button = e.target.closest('button');
    const action = button?.dataset.action;
    if (action === 'read') this._markRead(id);
    else if (action === 'archive') this._archive(id);
    else if (action === 'delete') this._delete(id);
    else if (action === 'undo') this._restore(id);
    else if (!this._undo.has(id)) this.openNotification(id);
  }

  _onListKey(e) {
    const id = this._itemOf(e.target);
    if (!id) return;
    const onItem = e.target.classList.contains('item');
    const index = this._order.indexOf(id);
    let next = null;
    if (e.key === 'ArrowDown' || e.key === 'PageDown') next = index + 1;
    else if (e.key === 'ArrowUp' || e.key === 'PageUp') next = index - 1;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = this._order.length - 1;
    else if (onItem && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      if (!this._undo.has(id)) this.openNotification(id);
      return;
    } else if (onItem && (e.key === 'Delete' || e.key === 'Backspace')) {
      e.preventDefault();
      this._delete(id);
      return;
    } else return;
    e.preventDefault();
    next = Math.max(0, Math.min(this._order.length - 1, next));
    this._focusItem(this._order[next]);
    if (next >= this._order.length - 2) this.loadMore();
  }

  _focusItem(id) {
    const node = this._nodes.get(id);
    if (!node) return;
    this._focusId = id;
    this._updateTabOrder();
    node.focus();
  }

  // Roving tabindex: one item (and its buttons) is in the tab order; the arrows move it.
  _updateTabOrder() {
    for (const [id, node] of this._nodes) {
      const tab = id === this._focusId ? 0 : -1;
      node.tabIndex = tab;
      for (const b of node.querySelectorAll('button')) b.tabIndex = tab;
    }
  }

  _moveFocusFrom(id) {
    const node = this._nodes.get(id);
    if (!node || !node.contains(this.shadowRoot.activeElement)) return;
    const i = this._order.indexOf(id);
    const other = this._order[i + 1] ?? this._order[i - 1];
    if (other) this._focusItem(other);
    else this._markAll.focus();
  }

  // --- rendering -----------------------------------------------------------------------------

  _setUnread(n) {
    this._unread = Math.max(0, n);
    this._renderBadge();
  }

  _setError(error) {
    this._error = error;
    this._renderBadge();
    if (!error) {
      this._errorBox.hidden = true;
      this._errorBox.textContent = '';
      return;
    }
    const auth = error instanceof InboxAuthError;
    const title = !auth
      ? 'Notifications could not be loaded.'
      : error.code === 'no_token'
        ? 'Sign in to see your notifications.'
        : 'Your session has expired. Sign in again to see your notifications.';
    this._errorBox.replaceChildren();
    const strong = document.createElement('strong');
    strong.textContent = title;
    const detail = document.createElement('span');
    detail.textContent = `${error.message} (${error.code})`;
    this._errorBox.append(strong, detail);
    if (!auth) {
      const retry = document.createElement('button');
      retry.type = 'button';
      retry.className = 'link';
      retry.textContent = 'Try again';
      retry.addEventListener('click', () => this._restart());
      this._errorBox.append(' ', retry);
    }
    this._errorBox.hidden = false;
  }

  _fail(error) {
    if (!(error instanceof InboxError)) error = new InboxNetworkError(String(error?.message ?? error));
    // A 404 on an action: the notification is gone (another tab purged it); the refresh fixes it.
    if (error.status === 404 || error.status === 409) return;
    this._setError(error);
    if (error instanceof InboxAuthError) {
      this._stop();
      this.setAttribute('data-state', 'error');
    }
    this._render();
    this.dispatchEvent(new CustomEvent('pg-inbox-error', { detail: { error }, bubbles: true, composed: true }));
  }

  _renderBadge() {
    const auth = this._error instanceof InboxAuthError;
    const n = this._unread ?? 0;
    if (auth) {
      this._badge.textContent = '!';
      this._badge.hidden = false;
      this._bell.setAttribute('aria-label', 'Notifications unavailable: sign in again');
    } else {
      this._badge.textContent = badgeText(n);
      this._badge.hidden = n === 0;
      this._bell.setAttribute(
        'aria-label',
        n === 0 ? 'Notifications, none unread' : `Notifications, ${badgeText(n)} unread`,
      );
    }
    this.setAttribute('data-unread', String(n));
  }

  _render() {
    const auth = this._error instanceof InboxAuthError;
    const keep = new Set(this._order);
    for (const [id, node] of this._nodes) {
      if (!keep.has(id) || auth) {
        node.remove();
        this._nodes.delete(id);
      }
    }
    const ids = auth ? [] : this._order;
    let previous = null;
    ids.forEach((id, i) => {
      let node = this._nodes.get(id);
      if (!node) {
        node = document.createElement('article');
        node.className = 'item';
        node.dataset.id = id;
        node.tabIndex = -1;
        this._nodes.set(id, node);
      }
      this._fill(node, this._items.get(id), i);
      const expected = previous ? previous.nextSibling : this._list.firstChild;
      if (expected !== node) this._list.insertBefore(node, expected);
      previous = node;
    });
    // One item is in the tab order (roving tabindex).
    if (!this._nodes.has(this._focusId)) this._focusId = ids[0] ?? null;
    this._updateTabOrder();
    this._empty.hidden = auth || this._loading || ids.length > 0 || Boolean(this._error);
    this._markAll.disabled = auth || !this._unread;
    this.setAttribute('data-items', String(ids.length));
    this.setAttribute('data-state', auth ? 'error' : this._error ? 'degraded' : 'ready');
  }

  /** @param {HTMLElement} node @param {Notification} n @param {number} index */
  _fill(node, n, index) {
    const undo = this._undo.has(n.id);
    const signature = `${undo}|${n.read}|${n.updatedAt}|${n.title}|${n.body}`;
    node.setAttribute('aria-posinset', String(index + 1));
    node.setAttribute('aria-setsize', this._hasNext ? '-1' : String(this._order.length));
    if (node.dataset.signature === signature) return;
    node.dataset.signature = signature;
    node.classList.toggle('unread', !n.read && !undo);
    node.classList.toggle('read', n.read || undo);
    node.setAttribute('part', !n.read && !undo ? 'item item-unread' : 'item');
    const labelId = `t-${n.id}`;
    node.setAttribute('aria-labelledby', labelId);
    if (undo) {
      node.innerHTML = `<div part="undo" class="undo"><span class="title-text">Notification deleted.</span>
        <button type="button" class="link" data-action="undo">Undo</button></div>`;
      node.querySelector('.title-text').id = labelId;
      return;
    }
    node.innerHTML = `<span class="dot" aria-hidden="true"></span>
      <div class="content">
        <h3 part="title" class="title"></h3>
        <p part="body" class="body"></p>
        <time part="time" class="time"></time>
      </div>
      <div part="actions" class="actions"></div>`;
    const title = node.querySelector('.title');
    title.id = labelId;
    title.textContent = n.title ?? n.type;
    if (!n.read) {
      const sr = document.createElement('span');
      sr.className = 'sr-only';
      sr.textContent = ' (unread)';
      title.append(sr);
    }
    const body = node.querySelector('.body');
    body.textContent = n.body ?? '';
    body.hidden = !n.body;
    const time = node.querySelector('.time');
    time.dateTime = n.createdAt;
    time.title = new Date(n.createdAt).toLocaleString();
    time.textContent = relativeTime(n.createdAt);
    const actions = node.querySelector('.actions');
    const label = n.title ?? n.type;
    const add = (action, symbol, text) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'action';
      b.setAttribute('part', 'action');
      b.dataset.action = action;
      b.setAttribute('aria-label', `${text}: ${label}`);
      b.title = text;
      b.textContent = symbol;
      actions.append(b);
    };
    if (!n.read) add('read', '✓', 'Mark as read');
    add('archive', '⤓', 'Archive');
    add('delete', '✕', 'Delete');
  }

  _refreshTimes() {
    for (const [id, node] of this._nodes) {
      const n = this._items.get(id);
      const time = node.querySelector('.time');
      if (n && time) time.textContent = relativeTime(n.createdAt);
    }
  }

  _announce(text) {
    this._live.textContent = text;
  }
}

if (typeof customElements !== 'undefined' && !customElements.get('pg-inbox')) {
  customElements.define('pg-inbox', PgInboxElement);
}
