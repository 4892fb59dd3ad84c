// The JavaScript client (ui/pg-inbox.js's InboxClient) in a real browser, against the server:
// every call, keyset paging, and typed errors carrying the API's code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, create, launch, startServer, stopServer, token, unique, sql } from './harness.mjs';

let browser;
let page;
before(async () => {
  await startServer();
  browser = await launch();
  page = await browser.newPage();
  await page.goto(`${BASE}/demo`);
});
after(async () => {
  await browser?.close();
  await stopServer();
});

// Runs `fn(client, module, arg)` in the page with a client of `tok`.
function inPage(tok, fn, arg) {
  return page.evaluate(
    async (tok, source, arg) => {
      const m = await import('/ui/pg-inbox.js');
      const client = new m.InboxClient({ token: tok });
      // eslint-disable-next-line no-new-func
      return new Function('client', 'm', 'arg', `return (${source})(client, m, arg)`)(client, m, arg);
    },
    tok,
    fn.toString(),
    arg,
  );
}

test('list pages by keyset cursor: every notification once, newest first', async () => {
  const user = unique('client-list');
  const tok = token(user);
  const made = await create(tok, user, Array.from({ length: 23 }, (_, i) => `n${i}`));
  const pages = await inPage(tok, async (client) => {
    const out = [];
    let after;
    for (;;) {
      const page = await client.list({ limit: 10, after });
      out.push(page.data.map((n) => n.id));
      if (!page.pageInfo.hasNextPage) return out;
      after = page.pageInfo.endCursor;
    }
  });
  assert.deepEqual(pages.map((p) => p.length), [10, 10, 3]);
  assert.deepEqual(pages.flat(), made.map((n) => n.id).reverse());
});

test('unreadCount, markRead, markUnread, markAllRead', async () => {
  const user = unique('client-read');
  const tok = token(user);
  const [a] = await create(tok, user, ['a', 'b', 'c']);
  const r = await inPage(
    tok,
    async (client, m, id) => {
      const out = [await client.unreadCount()];
      out.push((await client.markRead(id)).read, await client.unreadCount());
      out.push((await client.markUnread(id)).read, await client.unreadCount());
      out.push((await client.markAllRead()).updated, await client.unreadCount());
      return out;
    },
    a.id,
  );
  assert.deepEqual(r, [3, true, 2, false, 3, 3, 0]);
});

test('archive, remove (soft delete) and restore', async () => {
  const user = unique('client-delete');
  const tok = token(user);
  const [a, b] = await create(tok, user, ['a', 'b']);
  const r = await inPage(
    tok,
    async (client, m, [a, b]) => {
      const ids = async () => (await client.list({ filter: { archived: false } })).data.map((n) => n.id);
      const out = {};
      out.archived = (await client.archive(a)).archived;
      out.afterArchive = await ids();
      out.unarchived = (await client.unarchive(a)).archived;
      out.removed = (await client.remove(b)).success;
      out.afterRemove = await ids();
      out.restored = (await client.restore(b)).deletedAt;
      out.afterRestore = await ids();
      return out;
    },
    [a.id, b.id],
  );
  assert.equal(r.archived, true);
  assert.deepEqual(r.afterArchive, [b.id]);
  assert.equal(r.unarchived, false);
  assert.equal(r.removed, true);
  assert.deepEqual(r.afterRemove, [a.id]);
  assert.equal(r.restored, null);
  assert.deepEqual(r.afterRestore, [b.id, a.id]);
});

test('a token function is called for each request', async () => {
  const user = unique('client-fn');
  const tok = token(user);
  await create(tok, user, ['x']);
  const r = await page.evaluate(async (tok) => {
    const { InboxClient } = await import('/ui/pg-inbox.js');
    let calls = 0;
    const client = new InboxClient({ token: async () => (calls++, tok) });
    await client.unreadCount();
    await client.list();
    return calls;
  }, tok);
  assert.equal(r, 2);
});

test('send creates one notification or several', async () => {
  const user = unique('client-send');
  const tok = token(user);
  const r = await inPage(
    tok,
    async (client, m, user) => {
      const one = await client.send({ userId: user, title: 'one' });
      const many = await client.send([{ userId: user, title: 'two' }, { userId: user, title: 'three' }]);
      return [one.title, many.map((n) => n.title), await client.unreadCount()];
    },
    user,
  );
  assert.deepEqual(r, ['one', ['two', 'three'], 3]);
});

test('errors are typed and carry the API code, status and message', async () => {
  const user = unique('client-errors');
  const tok = token(user);
  const r = await inPage(tok, async (client, m) => {
    const catchIt = async (p) => {
      try {
        await p;
        return null;
      } catch (e) {
        return {
          name: e.name, code: e.code, status: e.status, message: e.message,
          inbox: e instanceof m.InboxError, auth: e instanceof m.InboxAuthError,
          network: e instanceof m.InboxNetworkError,
        };
      }
    };
    return {
      notFound: await catchIt(client.markRead('ntf_aaaaaaaaaaaaa')),
      malformed: await catchIt(client.markRead('nope')),
      badLimit: await catchIt(client.list({ limit: 1000 })),
      badToken: await catchIt(new m.InboxClient({ token: 'pgi_not_a_token' }).unreadCount()),
      noToken: await catchIt(new m.InboxClient({ token: '' }).unreadCount()),
      unreachable: await catchIt(new m.InboxClient({ server: 'http://127.0.0.1:1', token: 't' }).unreadCount()),
    };
  });
  assert.deepEqual(
    { ...r.notFound, message: undefined },
    { name: 'InboxError', code: 'not_found', status: 404, message: undefined, inbox: true, auth: false, network: false },
  );
  assert.equal(r.malformed.status, 400);
  assert.equal(r.malformed.code, 'invalid_parameter');
  assert.equal(r.badLimit.status, 400);
  assert.match(r.badLimit.message, /limit/);
  assert.equal(r.badToken.name, 'InboxAuthError');
  assert.equal(r.badToken.code, 'unauthorized');
  assert.equal(r.badToken.status, 401);
  assert.equal(r.noToken.auth, true);
  assert.equal(r.noToken.code, 'no_token');
  assert.equal(r.unreachable.name, 'InboxNetworkError');
  assert.equal(r.unreachable.code, 'network_error');
  assert.equal(r.unreachable.status, 0);
});

test('an expired token is InboxAuthError unauthorized', async () => {
  const user = unique('client-expired');
  const tok = token(user, '1 second');
  sql(`SELECT pg_sleep(1.2)`);
  const r = await inPage(tok, async (client, m) => {
    try {
      await client.list();
      return null;
    } catch (e) {
      return [e.name, e.code, e.status];
    }
  });
  assert.deepEqual(r, ['InboxAuthError', 'unauthorized', 401]);
});

test('badgeText caps at 99+; relativeTime reads as a person says it', async () => {
  const r = await page.evaluate(async () => {
    const { badgeText, relativeTime } = await import('/ui/pg-inbox.js');
    const now = new Date('2026-11-30T12:00:00Z');
    const at = (s) => new Date(now.getTime() - s * 1000);
    return {
      badges: [0, 1, 99, 100, 12345].map(badgeText),
      times: [5, 90, 3 * 3600, 86400 + 60, 3 * 86400].map((s) => relativeTime(at(s), now, 'en')),
      old: relativeTime(new Date('2026-01-02T12:00:00Z'), now, 'en'),
    };
  });
  assert.deepEqual(r.badges, ['0', '1', '99', '99+', '99+']);
  assert.deepEqual(r.times, ['now', '2 minutes ago', '3 hours ago', 'yesterday', '3 days ago']);
  assert.equal(r.old, 'Jan 2, 2026');
});
