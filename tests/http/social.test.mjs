// The social routes and shorthands of issue 7 over real HTTP: the type registry, the list
// shorthands of Mastodon (types[], exclude_types[]) and Diaspora (only_unread, only_after),
// grouped notifications paged both ways, concurrent actor aggregation, and reading that keeps
// the unread counter exact.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { api, create, isError, sql, token, unique } from './helpers.mjs';

const alice = unique('social');
const t = {};
const ids = {};

before(async () => {
  t.alice = token(alice, ['notifications:read', 'notifications:write']);
  t.aliceW1 = token(alice, ['notifications:read'], 'w1');
  t.bob = token(unique('stranger'), ['notifications:read']);
  t.sender = token(unique('app'), ['notifications:send']);
  t.admin = token(unique('root'), ['admin']);
  // Oldest first: a mention, three favourites of post 1, a follow, a reblog in workspace w1,
  // another mention. Groups: fav:1 (3), follow (1), rb:1 (1), and each mention on its own.
  const rows = [
    ['m1', { type: 'mention', actorId: 'carol' }],
    ['f1', { type: 'favourite', groupKey: 'fav:1', actorId: 'bob' }],
    ['f2', { type: 'favourite', groupKey: 'fav:1', actorId: 'dave' }],
    ['fo', { type: 'follow', groupKey: 'follow', actorId: 'erin' }],
    ['f3', { type: 'favourite', groupKey: 'fav:1', actorId: 'frank' }],
    ['rb', { type: 'reblog', groupKey: 'rb:1', actorId: 'gina', workspaceId: 'w1' }],
    ['m2', { type: 'mention', actorId: 'hank' }],
  ];
  for (const [title, n] of rows) {
    const res = await create(t.sender, { userId: alice, title, ...n });
    assert.equal(res.status, 201, res.text);
    ids[title] = res.body.id;
  }
});

const get = (path, tok = t.alice) => api('GET', path, { tok });
const titles = (res) => res.body.data.map((n) => n.title).join(',');

test('GET /api/notification-types: the registry, and what happens to other types', async () => {
  const name = unique('liked').replace(/-/g, '_');
  sql(`SELECT inbox.register_type('${name}', 'Someone liked your post.', true)`);
  const res = await get('/api/notification-types');
  assert.equal(res.status, 200, res.text);
  const byName = Object.fromEntries(res.body.data.map((x) => [x.name, x]));
  for (const builtin of ['info', 'warning', 'error', 'success']) assert.equal(byName[builtin]?.builtin, true);
  assert.deepEqual(byName[name], { name, description: 'Someone liked your post.', aggregate: true, builtin: false, lifetimeSeconds: null });
  assert.equal(res.body.unregisteredTypes, 'accept');
  isError(assert, await get('/api/notification-types?limit=1'), 400);
  isError(assert, await get('/api/notification-types', null), 401);
  isError(assert, await get('/api/notification-types', t.sender), 403);
});

test('Mastodon types[] and exclude_types[], repeated or comma-separated', async () => {
  let res = await get('/api/notifications?types[]=favourite&types[]=follow');
  assert.equal(res.status, 200, res.text);
  assert.equal(titles(res), 'f3,fo,f2,f1');
  assert.equal(res.body.pageInfo.total, 4);
  res = await get('/api/notifications?types=favourite,follow');
  assert.equal(titles(res), 'f3,fo,f2,f1');
  res = await get('/api/notifications?exclude_types[]=favourite&exclude_types[]=mention');
  assert.equal(titles(res), 'rb,fo');
  res = await get('/api/notifications?types%5B%5D=mention');  // the brackets percent-encoded
  assert.equal(titles(res), 'm2,m1');
  isError(assert, await get('/api/notifications?types=mention&types[]=follow'), 400);
  isError(assert, await get('/api/notifications?types[]='), 400);
});

test('Diaspora only_unread and only_after', async () => {
  const read = await api('PUT', `/api/notifications/${ids.f2}/read`, { tok: t.alice });
  assert.equal(read.status, 200, read.text);
  let res = await get('/api/notifications?only_unread=true&types[]=favourite');
  assert.equal(titles(res), 'f3,f1');
  // only_after compares updatedAt: marking f2 read changed it after every creation.
  const after = sql(`SELECT to_char(max(created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
                       FROM inbox.notifications WHERE user_id = '${alice}'`);
  res = await get(`/api/notifications?only_after=${encodeURIComponent(after)}`);
  assert.equal(titles(res), 'f2');
  isError(assert, await get('/api/notifications?only_unread=yes'), 400);
  isError(assert, await get('/api/notifications?only_unread=true&read=true'), 400);
  isError(assert, await get('/api/notifications?only_after=yesterday'), 400);
  await api('PUT', `/api/notifications/${ids.f2}/unread`, { tok: t.alice });
});

test('GET /api/notifications/groups: Mastodon groups, newest activity first', async () => {
  const res = await get('/api/notifications/groups');
  assert.equal(res.status, 200, res.text);
  const groups = res.body.data;
  assert.deepEqual(groups.map((g) => g.groupKey),
    [`ungrouped-${ids.m2}`, 'rb:1', 'fav:1', 'follow', `ungrouped-${ids.m1}`]);
  const fav = groups[2];
  assert.equal(fav.notificationsCount, 3);
  assert.equal(fav.unreadCount, 3);
  assert.equal(fav.type, 'favourite');
  assert.equal(fav.mostRecentNotificationId, ids.f3);
  assert.deepEqual(fav.sampleActorIds, ['frank', 'dave', 'bob']);
  assert.equal(res.body.pageInfo.total, 5);
  // The same filters as the list: the groups of the matching notifications only.
  const only = await get('/api/notifications/groups?types[]=favourite&types[]=mention');
  assert.deepEqual(only.body.data.map((g) => g.groupKey),
    [`ungrouped-${ids.m2}`, 'fav:1', `ungrouped-${ids.m1}`]);
  const w1 = await get('/api/notifications/groups', t.aliceW1);
  assert.deepEqual(w1.body.data.map((g) => g.groupKey), ['rb:1']);
  const admin = await get(`/api/notifications/groups?user_id=${alice}`, t.admin);
  assert.deepEqual(admin.body.data, groups);
  assert.deepEqual((await get('/api/notifications/groups', t.bob)).body.data, []);
  isError(assert, await get('/api/notifications/groups?orderBy=%5B%7B%22createdAt%22%3A%22asc%22%7D%5D'), 400);
  isError(assert, await get('/api/notifications/groups?nope=1'), 400);
  isError(assert, await get(`/api/notifications/groups?user_id=${alice}`, t.bob), 403);
  isError(assert, await get('/api/notifications/groups', null), 401);
});

test('groups page forward to the end and back to the start: every group once', async () => {
  const all = (await get('/api/notifications/groups')).body.data.map((g) => g.groupKey);
  const seen = [];
  let res = await get('/api/notifications/groups?limit=2');
  seen.push(...res.body.data.map((g) => g.groupKey));
  assert.equal(res.body.pageInfo.hasPreviousPage, false);
  while (res.body.pageInfo.hasNextPage) {
    res = await get(`/api/notifications/groups?limit=2&after=${encodeURIComponent(res.body.pageInfo.endCursor)}`);
    assert.equal(res.status, 200, res.text);
    seen.push(...res.body.data.map((g) => g.groupKey));
  }
  assert.deepEqual(seen, all);
  const back = res.body.data.map((g) => g.groupKey);
  while (res.body.pageInfo.hasPreviousPage) {
    res = await get(`/api/notifications/groups?limit=2&before=${encodeURIComponent(res.body.pageInfo.startCursor)}`);
    assert.equal(res.status, 200, res.text);
    back.unshift(...res.body.data.map((g) => g.groupKey));
  }
  assert.deepEqual(back, all);
  // A list cursor is not a group cursor.
  const listCursor = (await get('/api/notifications?limit=1')).body.pageInfo.endCursor;
  isError(assert, await get(`/api/notifications/groups?after=${encodeURIComponent(listCursor)}`), 400);
});

test('N parallel aggregating creates for one group: one row, N distinct actors', async () => {
  const user = unique('popular');
  const reader = token(user, ['notifications:read']);
  const n = 24;
  const responses = await Promise.all(Array.from({ length: n }, (_, i) =>
    create(t.sender, { userId: user, type: 'favourite', groupKey: 'fav:post9', actorId: `fan${i}`, aggregate: true })));
  for (const res of responses) assert.equal(res.status, 201, res.text);
  const rowIds = new Set(responses.map((r) => r.body.id));
  assert.equal(rowIds.size, 1, `one notification, got ${[...rowIds]}`);
  const list = await get('/api/notifications', reader);
  assert.equal(list.body.data.length, 1);
  const row = list.body.data[0];
  assert.equal(row.actorCount, n);
  assert.equal(row.read, false);
  assert.equal(row.actors.length, 10);  // bounded, most recent first
  assert.equal(new Set(row.actors).size, 10);
  assert.equal(sql(`SELECT count(DISTINCT actor_id) FROM inbox.notification_actors WHERE user_id = '${user}'`), String(n));
  assert.equal((await get('/api/notifications/unread-count', reader)).body.count, 1);
  const groups = await get('/api/notifications/groups', reader);
  assert.equal(groups.body.data.length, 1);
  assert.equal(groups.body.data[0].notificationsCount, 1);
});

test('reading with markRead=true and PATCH read:false keep the unread counter exact', async () => {
  const user = unique('reader');
  const tok = token(user, ['notifications:read', 'notifications:write']);
  const made = [];
  for (let i = 0; i < 3; i++) made.push((await create(t.sender, { userId: user, title: `r${i}` })).body.id);
  const count = async () => (await get('/api/notifications/unread-count', tok)).body.count;
  const listed = async () => (await get('/api/notifications?read=false', tok)).body.pageInfo.total;
  assert.equal(await count(), 3);
  const opened = await get(`/api/notifications/${made[0]}?markRead=true`, tok);
  assert.equal(opened.body.read, true);
  assert.equal(await count(), 2);
  await get(`/api/notifications/${made[0]}?markRead=true`, tok);  // again: no double count
  assert.equal(await count(), 2);
  const patched = await api('PATCH', `/api/notifications/${made[0]}`, { tok, body: { read: false } });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.body.read, false);
  assert.equal(await count(), 3);
  await api('PATCH', `/api/notifications/${made[0]}`, { tok, body: { read: false } });
  assert.equal(await count(), 3);
  await api('PATCH', `/api/notifications/${made[1]}`, { tok, body: { read: true } });
  assert.equal(await count(), 2);
  assert.equal(await listed(), 2);
  assert.equal(sql(`SELECT count(*) FROM inbox.notifications WHERE user_id = '${user}' AND read_at IS NULL`), '2');
});
