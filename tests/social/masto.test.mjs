// The real Mastodon client, masto.js, against pg_inbox's Mastodon API: paging through Link to
// the end and back, types, one notification, dismiss, clear, unread counts, markers, and the
// v2 grouped notifications with their accounts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRestAPIClient } from 'masto';
import { BASE, sql, token, unique } from '../http/helpers.mjs';

// `count` notifications for `user`: the given types in turn, from bob and carol in turn.
function seed(user, count, types = ['mention', 'favourite', 'follow'], extra = {}) {
  const rows = [];
  for (let i = 0; i < count; i++) {
    rows.push({ userId: user, type: types[i % types.length], actorId: i % 2 ? 'carol' : 'bob',
                item: '103186126728896492', ...extra });
  }
  const created = JSON.parse(sql(`SELECT inbox.create_many('${JSON.stringify(rows)}')`));
  return created.map((n) => sql(`SELECT inbox.internal_id('${n.id}')`));
}

const client = (user, scopes = ['notifications:read', 'notifications:write']) =>
  createRestAPIClient({ url: BASE, accessToken: token(user, scopes) });

test('list pages through the Link header to the end, newest first, every notification once', async () => {
  const user = unique('m-page');
  const ids = seed(user, 7);
  const masto = client(user);
  const seen = [];
  const sizes = [];
  for await (const page of masto.v1.notifications.list({ limit: 3 })) {
    sizes.push(page.length);
    seen.push(...page.map((n) => n.id));
  }
  assert.deepEqual(seen, [...ids].reverse());
  // As Mastodon: every page that is not empty links to the next, so the last one is empty.
  assert.deepEqual(sizes.filter((n) => n > 0), [3, 3, 1]);
  const first = await masto.v1.notifications.fetch({ limit: 2 });
  assert.deepEqual(first.map((n) => n.id), [ids[6], ids[5]]);
});

test('types, excludeTypes, accountId and minId narrow the list', async () => {
  const user = unique('m-types');
  const ids = seed(user, 6);
  const masto = client(user);
  const mentions = await masto.v1.notifications.fetch({ types: ['mention'] });
  assert.deepEqual(mentions.map((n) => n.id), [ids[3], ids[0]]);
  const noFollows = await masto.v1.notifications.fetch({ excludeTypes: ['follow', 'favourite'] });
  assert.deepEqual(noFollows.map((n) => n.type), ['mention', 'mention']);
  const carol = await masto.v1.notifications.fetch({ accountId: 'carol' });
  assert.deepEqual(carol.map((n) => n.account.id), ['carol', 'carol', 'carol']);
  const above = await masto.v1.notifications.fetch({ minId: ids[1], limit: 2 });
  assert.deepEqual(above.map((n) => n.id), [ids[3], ids[2]]);
  const since = await masto.v1.notifications.fetch({ sinceId: ids[1], limit: 2 });
  assert.deepEqual(since.map((n) => n.id), [ids[5], ids[4]]);
});

test('one notification, with its account and status as the views shape them', async () => {
  const user = unique('m-one');
  const [id] = seed(user, 1, ['favourite']);
  const n = await client(user).v1.notifications.$select(id).fetch();
  assert.equal(n.id, id);
  assert.equal(n.type, 'favourite');
  assert.equal(n.account.id, 'bob');
  assert.equal(n.account.displayName, 'Bob Testing');
  assert.equal(n.status.id, '103186126728896492');
  assert.equal(n.status.account.id, 'carol');
  assert.equal(n.groupKey, `ungrouped-${id}`);
});

test('dismiss removes one notification, clear every one; another user sees a 404', async () => {
  const user = unique('m-dismiss');
  const ids = seed(user, 3);
  const masto = client(user);
  await masto.v1.notifications.$select(ids[1]).dismiss();
  assert.deepEqual((await masto.v1.notifications.fetch()).map((n) => n.id), [ids[2], ids[0]]);
  await assert.rejects(client(unique('other')).v1.notifications.$select(ids[0]).fetch(),
                       (e) => e.statusCode === 404 && e.message === 'Record not found');
  await masto.v1.notifications.clear();
  assert.deepEqual(await masto.v1.notifications.fetch(), []);
});

test('unread counts, capped by limit, and the marker that marks notifications read', async () => {
  const user = unique('m-unread');
  const ids = seed(user, 5);
  const masto = client(user);
  assert.deepEqual(await masto.v1.notifications.unreadCount.fetch(), { count: 5 });
  assert.deepEqual(await masto.v1.notifications.unreadCount.fetch({ limit: 2 }), { count: 2 });
  assert.deepEqual(await masto.v1.notifications.unreadCount.fetch({ types: ['mention'] }), { count: 2 });
  assert.deepEqual(await masto.v2.notifications.unreadCount.fetch(), { count: 5 });
  assert.deepEqual(await masto.v1.markers.fetch({ timeline: ['notifications'] }), {});
  const set = await masto.v1.markers.create({ notifications: { lastReadId: ids[2] } });
  assert.equal(set.notifications.lastReadId, ids[2]);
  assert.equal(set.notifications.version, 0);
  assert.deepEqual(await masto.v1.notifications.unreadCount.fetch(), { count: 2 });
  assert.equal(sql(`SELECT inbox.unread_count('${user}')`), '2');
  const again = await masto.v1.markers.create({ notifications: { lastReadId: ids[4] } });
  assert.equal(again.notifications.version, 1);
  const fetched = await masto.v1.markers.fetch({ timeline: ['notifications'] });
  assert.equal(fetched.notifications.lastReadId, ids[4]);
  assert.equal(fetched.notifications.version, 1);
  assert.match(fetched.notifications.updatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(await masto.v1.notifications.unreadCount.fetch(), { count: 0 });
});

test('v2 grouped notifications: groups, their accounts and statuses, one group, dismiss', async () => {
  const user = unique('m-groups');
  const favs = seed(user, 3, ['favourite'], { groupKey: 'fav:103186126728896492' });
  const [mention] = seed(user, 1, ['mention']);
  const masto = client(user);
  const page = await masto.v2.notifications.fetch({ limit: 10 });
  assert.deepEqual(page.notificationGroups.map((g) => g.groupKey),
                   [`ungrouped-${mention}`, 'fav:103186126728896492']);
  const fav = page.notificationGroups[1];
  assert.equal(fav.notificationsCount, 3);
  assert.equal(fav.mostRecentNotificationId, favs[2]);
  assert.deepEqual(fav.sampleAccountIds, ['bob', 'carol']);
  assert.equal(fav.statusId, '103186126728896492');
  assert.deepEqual(page.accounts.map((a) => a.id).sort(), ['bob', 'carol']);
  assert.deepEqual(page.statuses.map((s) => s.id), ['103186126728896492']);
  const one = await masto.v2.notifications.$select('fav:103186126728896492').fetch();
  assert.equal(one.notificationGroups[0].notificationsCount, 3);
  const accounts = await masto.v2.notifications.$select('fav:103186126728896492').accounts.fetch();
  assert.deepEqual(accounts.map((a) => a.id), ['bob', 'carol']);
  await masto.v2.notifications.$select('fav:103186126728896492').dismiss();
  const after = await masto.v2.notifications.fetch();
  assert.deepEqual(after.notificationGroups.map((g) => g.groupKey), [`ungrouped-${mention}`]);
  const keys = [];
  for await (const p of masto.v2.notifications.list({ limit: 1 })) keys.push(...p.notificationGroups.map((g) => g.groupKey));
  assert.deepEqual(keys, [`ungrouped-${mention}`]);
});

test('v2 grouped_types[]: only the types named group; a row of another type is ungrouped-{id}', async () => {
  const user = unique('m-grouped-types');
  const favs = seed(user, 3, ['favourite'], { groupKey: 'fav:103186126728896492' });
  const [mention] = seed(user, 1, ['mention']);
  const masto = client(user);
  const keys = (page) => page.notificationGroups.map((g) => g.groupKey);
  const grouped = await masto.v2.notifications.fetch({ groupedTypes: ['favourite', 'mention'] });
  assert.deepEqual(keys(grouped), [`ungrouped-${mention}`, 'fav:103186126728896492']);
  assert.equal(grouped.notificationGroups[1].notificationsCount, 3);
  const apart = await masto.v2.notifications.fetch({ groupedTypes: ['mention'] });
  assert.deepEqual(keys(apart), [mention, favs[2], favs[1], favs[0]].map((id) => `ungrouped-${id}`));
  assert.deepEqual(apart.notificationGroups.map((g) => g.notificationsCount), [1, 1, 1, 1]);
  assert.equal(apart.notificationGroups[1].type, 'favourite');
  assert.equal(apart.notificationGroups[1].mostRecentNotificationId, favs[2]);
  // Paging by min_id forms the groups the same way: above favs[0], two groups begin first.
  const above = await masto.v2.notifications.fetch({ minId: favs[0], limit: 2, groupedTypes: ['mention'] });
  assert.deepEqual(keys(above), [favs[2], favs[1]].map((id) => `ungrouped-${id}`));
  // And by max_id.
  const below = await masto.v2.notifications.fetch({ maxId: favs[2], groupedTypes: ['mention'] });
  assert.deepEqual(keys(below), [favs[1], favs[0]].map((id) => `ungrouped-${id}`));
  await assert.rejects(masto.v2.notifications.fetch({ groupedTypes: ['nonsense'] }),
                       (e) => e.statusCode === 422);
});

test('v2: a group whose rows span several seeks is one group, read once, with its whole range', async () => {
  const user = unique('m-groups-long');
  // Oldest to newest: two mentions, then 95 favourites of one group: a page of 2 groups reads
  // the favourites in seeks of 40 rows before the second group begins.
  const [, m1] = seed(user, 2, ['mention']);
  const favs = seed(user, 95, ['favourite'], { groupKey: 'fav:103186126728896492' });
  const masto = client(user);
  const page = await masto.v2.notifications.fetch({ limit: 2 });
  assert.deepEqual(page.notificationGroups.map((g) => g.groupKey), ['fav:103186126728896492', `ungrouped-${m1}`]);
  const fav = page.notificationGroups[0];
  assert.equal(fav.notificationsCount, 95);
  assert.equal(fav.mostRecentNotificationId, favs[94]);
  assert.equal(fav.pageMaxId, favs[94]);
  assert.equal(fav.pageMinId, favs[0]);
  // Oldest first from below the favourites: the group begins at its oldest row.
  const up = await masto.v2.notifications.fetch({ minId: m1, limit: 1 });
  assert.deepEqual(up.notificationGroups.map((g) => g.groupKey), ['fav:103186126728896492']);
  assert.equal(up.notificationGroups[0].pageMinId, favs[0]);
});

test('v2 min_id: the groups just above min_id, closest to it, newest first; since_id: the newest', async () => {
  const user = unique('m-groups-min');
  // Oldest to newest: m0, fav, fav, m1, m2, fav, m3 (the favourites one group).
  const [m0] = seed(user, 1, ['mention']);
  const favs = seed(user, 2, ['favourite'], { groupKey: 'fav:103186126728896492' });
  const [m1, m2] = seed(user, 2, ['mention']);
  favs.push(...seed(user, 1, ['favourite'], { groupKey: 'fav:103186126728896492' }));
  const [m3] = seed(user, 1, ['mention']);
  const masto = client(user);
  const keys = (page) => page.notificationGroups.map((g) => g.groupKey);
  // Above m0, two groups begin first: the favourites (its two rows there) and m1.
  const above = await masto.v2.notifications.fetch({ minId: m0, limit: 2 });
  assert.deepEqual(keys(above), [`ungrouped-${m1}`, 'fav:103186126728896492']);
  assert.equal(above.notificationGroups[1].notificationsCount, 2, 'the rows of the page only');
  assert.equal(above.notificationGroups[1].mostRecentNotificationId, favs[1]);
  // since_id pages from the newest end instead.
  const since = await masto.v2.notifications.fetch({ sinceId: m0, limit: 2 });
  assert.deepEqual(keys(since), [`ungrouped-${m3}`, 'fav:103186126728896492']);
  // Above m1: m2 and the favourites' newest row, before m3 would begin a third group.
  const up = await masto.v2.notifications.fetch({ minId: m1, limit: 2 });
  assert.deepEqual(keys(up), ['fav:103186126728896492', `ungrouped-${m2}`]);
  // As Mastodon counts a group (NotificationGroup.load_groups_data): its rows up to the top of
  // the page's range, older pages' included; page_min_id/page_max_id are its rows in the range.
  assert.equal(up.notificationGroups[0].notificationsCount, 3);
  assert.equal(up.notificationGroups[0].pageMinId, favs[2]);
  assert.equal(up.notificationGroups[0].pageMaxId, favs[2]);
  assert.deepEqual(await masto.v2.notifications.fetch({ minId: favs[2], limit: 2 }).then(keys), [`ungrouped-${m3}`]);
  assert.deepEqual(await masto.v2.notifications.fetch({ minId: m3 }).then(keys), []);
});

test('v2 notifications_count: the rows the request matches up to the page top, a dismissed or expired one not', async () => {
  const user = unique('m-groups-count');
  const key = 'fav:103186126728896492';
  // Oldest to newest: five favourites from bob, carol, bob, carol, bob; then a mention.
  const favs = seed(user, 5, ['favourite'], { groupKey: key });
  seed(user, 1, ['mention']);
  sql(`UPDATE inbox.notifications SET deleted_at = now() WHERE user_id = '${user}' AND id = ${favs[1]}`);
  sql(`UPDATE inbox.notifications SET expires_at = now() - interval '1 minute' WHERE user_id = '${user}' AND id = ${favs[2]}`);
  const masto = client(user);
  const group = async (params) =>
    (await masto.v2.notifications.fetch(params)).notificationGroups.find((g) => g.groupKey === key);
  // Without a filter the group's summary is read (less its expired row); with one, rows are
  // counted: the same rows either way.
  const all = await group({});
  assert.equal(all.notificationsCount, 3);
  assert.equal(all.mostRecentNotificationId, favs[4]);
  assert.equal(all.pageMinId, favs[0]);
  assert.deepEqual(all.sampleAccountIds, ['bob', 'carol']);
  assert.equal((await group({ types: ['favourite'] })).notificationsCount, 3);
  assert.equal((await group({ excludeTypes: ['mention'] })).notificationsCount, 3);
  assert.equal((await group({ accountId: 'bob' })).notificationsCount, 2);
  // Below the newest favourite: the rows up to the page's top (favs[3]) only.
  const below = await group({ maxId: favs[4] });
  assert.equal(below.notificationsCount, 2);
  assert.equal(below.mostRecentNotificationId, favs[3]);
  assert.deepEqual(below.sampleAccountIds, ['carol', 'bob']);
});

// The rows of each group key, oldest first: `plan` is a list of group keys (null: a row of its
// own), one notification each, in creation order; favourite rows group, mention rows do not.
function seedGroups(user, plan) {
  const ids = [];
  for (const key of plan) {
    const [id] = seed(user, 1, [key ? 'favourite' : 'mention'], key ? { groupKey: key } : {});
    ids.push({ id, key });
  }
  return ids;
}

// Pages through Link to the end and checks that every notification lies, exactly once, in the
// range [page_min_id, page_max_id] of its group on some page (compared as numbers).
async function visitAll(masto, rows, params) {
  const seen = new Map(rows.map((r) => [r.id, 0]));
  const groupOf = (r, grouped) => (r.key && grouped ? r.key : `ungrouped-${r.id}`);
  const grouped = (type) => !params.groupedTypes || params.groupedTypes.includes(type);
  let pages = 0;
  for await (const page of masto.v2.notifications.list(params)) {
    if (page.notificationGroups.length > 0) pages++;
    for (const g of page.notificationGroups) {
      assert.ok(BigInt(g.pageMinId) <= BigInt(g.pageMaxId), `${g.groupKey}: page_min_id <= page_max_id`);
      assert.equal(g.pageMaxId, g.mostRecentNotificationId);
      for (const r of rows) {
        if (groupOf(r, grouped(r.key ? 'favourite' : 'mention')) !== g.groupKey) continue;
        if (BigInt(r.id) >= BigInt(g.pageMinId) && BigInt(r.id) <= BigInt(g.pageMaxId)) seen.set(r.id, seen.get(r.id) + 1);
      }
    }
  }
  assert.deepEqual([...seen.entries()].filter(([, n]) => n !== 1), [], 'every notification once in some group\'s range');
  return pages;
}

test('v2 paging through Link to the end: every notification exactly once in some group\'s page range', async () => {
  const user = unique('m-v2-visit');
  const rows = seedGroups(user, ['a', null, 'b', 'a', null, 'a', 'c', 'b', null, 'a', 'c', null, 'a', 'b', 'b']);
  const masto = client(user);
  for (const limit of [1, 2, 3, 5, 40]) {
    const pages = await visitAll(masto, rows, { limit });
    assert.ok(limit < 40 ? pages > 1 : pages === 1, `limit ${limit}: ${pages} pages`);
    await visitAll(masto, rows, { limit, groupedTypes: ['mention'] });
  }
});

test('v2: a group spanning a page boundary has page_min_id/page_max_id and notifications_count as Mastodon', async () => {
  const user = unique('m-v2-boundary');
  // Oldest to newest: f1 m1 f2 m2 f3 (the f rows one group).
  const [f1, m1, f2, m2, f3] = seedGroups(user, ['fav:s', null, 'fav:s', null, 'fav:s']).map((r) => r.id);
  const masto = client(user);
  const pages = [];
  for await (const page of masto.v2.notifications.list({ limit: 2 })) pages.push(page.notificationGroups);
  const shape = (g) => [g.groupKey, g.pageMinId, g.pageMaxId, g.mostRecentNotificationId, g.notificationsCount];
  // Page 1 is the range [m2, f3]: the favourites there are f3 alone, counted with their older rows.
  assert.deepEqual(pages[0].map(shape), [['fav:s', f3, f3, f3, 3], [`ungrouped-${m2}`, m2, m2, m2, 1]]);
  // Page 2 starts below m2 (Link next: max_id of the oldest group's first row): [m1, f2].
  assert.deepEqual(pages[1].map(shape), [['fav:s', f2, f2, f2, 2], [`ungrouped-${m1}`, m1, m1, m1, 1]]);
  // The last page has fewer groups than the limit: it reaches to the start.
  assert.deepEqual(pages[2].map(shape), [['fav:s', f1, f1, f1, 1]]);
  assert.deepEqual(pages.slice(3).flat(), []);
  // A page with fewer groups than its limit reaches to the start: the group's range is [f1, f3].
  const all = await masto.v2.notifications.fetch({ limit: 4 });
  assert.deepEqual(all.notificationGroups.map(shape)[0], ['fav:s', f1, f3, f3, 3]);
  // By min_id, as Mastodon: the range from the first row above min_id to where the limit-th
  // group begins (oldest first): above f1, m1 then f2 begin two groups.
  const up = await masto.v2.notifications.fetch({ minId: f1, limit: 2 });
  assert.deepEqual(up.notificationGroups.map(shape), [['fav:s', f2, f2, f2, 2], [`ungrouped-${m1}`, m1, m1, m1, 1]]);
});

test('report, relationship_severance_event and moderation_warning: v1, v2 and the stream payload, from their relations', async () => {
  const user = unique('m-objects');
  const rows = [
    { userId: user, type: 'admin.report', actorId: 'bob', item: '48914' },
    { userId: user, type: 'severed_relationships', actorId: user, item: '6' },
    { userId: user, type: 'moderation_warning', actorId: user, item: '7' },
  ];
  const ids = JSON.parse(sql(`SELECT inbox.create_many('${JSON.stringify(rows)}')`))
    .map((n) => sql(`SELECT inbox.internal_id('${n.id}')`));
  const masto = client(user);
  const [warning, severed, report] = await masto.v1.notifications.fetch();
  assert.equal(report.type, 'admin.report');
  assert.equal(report.report.id, '48914');
  assert.equal(report.report.category, 'violation');
  assert.deepEqual(report.report.ruleIds, ['3']);
  assert.equal(report.report.targetAccount.id, 'trent');
  assert.equal(report.status, undefined, 'no status: the item is the report');
  assert.equal(severed.relationshipSeveranceEvent.targetName, 'spammy.example');
  assert.deepEqual(severed.event, severed.relationshipSeveranceEvent, 'also as event, as Mastodon\'s server writes it');
  assert.equal(severed.event.followersCount, 4);
  assert.equal(severed.event.purged, false);
  assert.equal(warning.moderationWarning.action, 'mark_statuses_as_sensitive');
  assert.deepEqual(warning.moderationWarning.statusIds, ['103186126728896492']);
  assert.equal(warning.moderationWarning.targetAccount.id, 'alice');
  assert.equal(warning.moderationWarning.appeal, null);
  const one = await masto.v1.notifications.$select(ids[0]).fetch();
  assert.deepEqual(one.report, report.report);
  // v2: the same objects on the groups (the severance event as `event`).
  const page = await masto.v2.notifications.fetch();
  const byType = Object.fromEntries(page.notificationGroups.map((g) => [g.type, g]));
  assert.deepEqual(byType['admin.report'].report, report.report);
  assert.deepEqual(byType.severed_relationships.event, severed.event);
  assert.equal(byType.severed_relationships.relationshipSeveranceEvent, undefined);
  assert.deepEqual(byType.moderation_warning.moderationWarning, warning.moderationWarning);
  assert.equal(byType['admin.report'].statusId, undefined);
  assert.deepEqual(page.statuses, []);
  // The streams' payload is the v1 entity, the one shape.
  const tok = token(user, ['notifications:read']);
  const streamed = JSON.parse(sql(`SELECT inbox.mastodon_stream_notifications('${tok}', '${JSON.stringify(ids)}')`));
  const rest = await Promise.all(ids.map((id) => fetch(`${BASE}/api/v1/notifications/${id}`, { headers: { authorization: `Bearer ${tok}` } }).then((r) => r.json())));
  assert.deepEqual(streamed, rest);
  assert.equal(streamed[1].relationship_severance_event.target_name, 'spammy.example');
  // Without a row in its relation the object is left out, as a status is.
  const [bare] = JSON.parse(sql(`SELECT inbox.create_many('${JSON.stringify([{ userId: user, type: 'admin.report', actorId: 'bob', item: 'nope' }])}')`))
    .map((n) => sql(`SELECT inbox.internal_id('${n.id}')`));
  const gone = await masto.v1.notifications.$select(bare).fetch();
  assert.equal(gone.report, undefined);
});
