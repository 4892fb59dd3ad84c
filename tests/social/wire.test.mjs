// The Mastodon and Diaspora APIs on the wire: the Link header byte for byte as Mastodon builds
// it, the entity fields and their JSON types, errors as Mastodon and Diaspora write them, and
// every example of seeds 003 (Diaspora) and 004 (Mastodon).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, api, sql, token, unique } from '../http/helpers.mjs';

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function create(user, objects) {
  const rows = objects.map((o) => ({ userId: user, ...o }));
  return JSON.parse(sql(`SELECT inbox.create_many('${JSON.stringify(rows).replace(/'/g, "''")}')`))
    .map((n) => sql(`SELECT inbox.internal_id('${n.id}')`));
}
const rw = (user) => token(user, ['notifications:read', 'notifications:write']);

test('Link: next with max_id of the last, prev with min_id of the first, the other params sorted as Rails writes them', async () => {
  const user = unique('w-link');
  const ids = create(user, [1, 2, 3, 4].map(() => ({ type: 'mention', actorId: 'carol' })));
  const tok = rw(user);
  const res = await api('GET', '/api/v1/notifications?types[]=mention&limit=2&exclude_types[]=follow&exclude_types[]=poll&account_id=carol', { tok });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  const q = 'account_id=carol&exclude_types%5B%5D=follow&exclude_types%5B%5D=poll&limit=2';
  assert.equal(res.headers.get('link'),
               `<${BASE}/api/v1/notifications?${q}&max_id=${ids[2]}&types%5B%5D=mention>; rel="next", ` +
               `<${BASE}/api/v1/notifications?${q}&min_id=${ids[3]}&types%5B%5D=mention>; rel="prev"`);
  const plain = await api('GET', '/api/v1/notifications', { tok });
  assert.equal(plain.headers.get('link'),
               `<${BASE}/api/v1/notifications?max_id=${ids[0]}>; rel="next", <${BASE}/api/v1/notifications?min_id=${ids[3]}>; rel="prev"`);
  const end = await api('GET', `/api/v1/notifications?max_id=${ids[0]}`, { tok });
  assert.deepEqual(end.body, []);
  assert.equal(end.headers.get('link'), null, 'an empty page has no Link');
});

test('the Notification entity: string ids, type, created_at, group_key, account, status only when there is one', async () => {
  const user = unique('w-entity');
  const [withStatus, without] = create(user, [
    { type: 'favourite', actorId: 'bob', item: '103186126728896492', groupKey: 'fav:1' },
    { type: 'follow', actorId: 'alice' },
  ]);
  const res = await api('GET', '/api/v1/notifications', { tok: rw(user) });
  const [follow, fav] = res.body;
  assert.deepEqual(Object.keys(follow).sort(), ['account', 'created_at', 'group_key', 'id', 'type']);
  assert.equal(follow.id, without);
  assert.equal(typeof follow.id, 'string');
  assert.match(follow.created_at, ISO_MS);
  assert.equal(follow.group_key, `ungrouped-${without}`);
  assert.equal(follow.account.acct, 'alice');
  assert.equal(fav.id, withStatus);
  assert.equal(fav.group_key, 'fav:1');
  assert.equal(fav.status.id, '103186126728896492');
  assert.equal(fav.status.account.id, 'carol');
  // An actor without a row in mastodon_account: an Account named by its id.
  const [ghost] = create(user, [{ type: 'mention', actorId: 'ghost' }]);
  const one = await api('GET', `/api/v1/notifications/${ghost}`, { tok: rw(user) });
  assert.deepEqual(one.body.account, { id: 'ghost', username: 'ghost', acct: 'ghost', display_name: 'ghost' });
});

test('seed 004: the Mention and Favourite examples as written (fields, types, nesting)', async () => {
  const user = unique('w-seed4');
  const [mention, fav] = create(user, [
    { type: 'mention', actorId: 'bob', item: '103186126728896492' },
    { type: 'favourite', actorId: 'alice', item: '103186126728896492' },
  ]);
  const tok = rw(user);
  const m = (await api('GET', `/api/v1/notifications/${mention}`, { tok })).body;
  // { "id": "34975861", "type": "mention", "created_at": "2019-11-23T07:49:02.064Z",
  //   "account": { "id": "971724", "username": "zsc", "acct": "zsc", ... },
  //   "status": { "id": "103186126728896492", "created_at": "2019-11-23T07:49:01.940Z",
  //               "in_reply_to_id": "103186038209478945", "in_reply_to_account_id": "14715", ... } }
  assert.equal(m.id, mention);
  assert.equal(m.type, 'mention');
  assert.match(m.created_at, ISO_MS);
  for (const k of ['id', 'username', 'acct']) assert.equal(typeof m.account[k], 'string');
  assert.equal(m.status.id, '103186126728896492');
  assert.equal(m.status.created_at, '2019-11-23T07:49:01.940Z');
  assert.equal(m.status.in_reply_to_id, '103186038209478945');
  assert.equal(typeof m.status.in_reply_to_account_id, 'string');
  // { "id": "34975535", "type": "favourite", ..., "status": { ..., "account": { "id", "username", "acct" } } }
  const f = (await api('GET', `/api/v1/notifications/${fav}`, { tok })).body;
  assert.equal(f.type, 'favourite');
  assert.equal(f.account.acct, 'alice');
  for (const k of ['id', 'username', 'acct']) assert.equal(typeof f.status.account[k], 'string');
});

test('seed 003: the list, get (marks read) and PATCH examples, field for field', async () => {
  const user = unique('w-seed3');
  const [sharing] = create(user, [{ type: 'started_sharing', actorId: 'bob' }]);
  for (const who of ['trent', 'alice'])
    create(user, [{ type: 'also_commented', actorId: who, groupKey: 'post:e0a3', item: 'e0a33450b8e70133e40d406c8f31e210' }]);
  const tok = rw(user);
  const people = {
    bob: { guid: 'cb7e4aa0b82f0133e40d406c8f31e210', diaspora_id: 'bob@example.com', name: 'Bob Testing', avatar: 'http://example.com/uploads/images/thumb_medium_a51bf501fe86c198c0b1.jpg' },
    carol: { guid: '19103170b8cc0133e40d406c8f31e210', diaspora_id: 'carol@example.com', name: 'Carol Testing', avatar: 'http://example.com/uploads/images/thumb_medium_2e1bc500b8cc0133e40d.jpg' },
    alice: { guid: 'f50ffc00b188013355e3705681972339', diaspora_id: 'alice@example.com', name: 'Alice Testing', avatar: 'http://example.com/uploads/images/thumb_medium_83abe5319ef830c2bd84.jpg' },
    trent: { guid: '83de2fc0b8cc0133e40d406c8f31e210', diaspora_id: 'trent@example.com', name: 'Trent Testing', avatar: 'http://example.com/uploads/images/thumb_medium_8894c7a0b8cc0133e40d.jpg' },
  };
  const list = await api('GET', '/diaspora/api/v1/notifications', { tok });
  assert.equal(list.status, 200);
  const [commented, shared] = list.body;
  assert.deepEqual(Object.keys(shared).sort(), ['created_at', 'event_creators', 'guid', 'read', 'type']);
  assert.match(shared.guid, /^[0-9a-f]{32}$/);
  assert.equal(shared.type, 'started_sharing');
  assert.equal(shared.read, false);
  assert.match(shared.created_at, ISO_MS);
  assert.deepEqual(shared.event_creators, [people.bob]);
  assert.deepEqual(Object.keys(commented).sort(), ['created_at', 'event_creators', 'guid', 'read', 'target', 'type']);
  assert.equal(commented.type, 'also_commented');
  assert.deepEqual(commented.target, { guid: 'e0a33450b8e70133e40d406c8f31e210', author: people.carol });
  assert.deepEqual(commented.event_creators, [people.alice, people.trent]);
  // GET one marks it read; PATCH {"read": false} marks it unread again.
  const one = await api('GET', `/diaspora/api/v1/notifications/${commented.guid}`, { tok });
  assert.deepEqual(one.body, { ...commented, read: true });
  const patched = await api('PATCH', `/diaspora/api/v1/notifications/${commented.guid}`, { tok, body: { read: false } });
  assert.deepEqual(patched.body, { ...commented, read: false });
  assert.equal(sql(`SELECT inbox.unread_count('${user}')`), '2');
  // only_unread, type, paging by guid with a Link to the next page.
  assert.equal((await api('GET', '/diaspora/api/v1/notifications?type=started_sharing', { tok })).body.length, 1);
  const first = await api('GET', '/diaspora/api/v1/notifications?per_page=1&only_unread=true', { tok });
  assert.equal(first.headers.get('link'),
               `<${BASE}/diaspora/api/v1/notifications?before=${commented.guid}&only_unread=true&per_page=1>; rel="next"`);
  const second = await api('GET', `/diaspora/api/v1/notifications?per_page=1&only_unread=true&before=${commented.guid}`, { tok });
  assert.deepEqual(second.body.map((n) => n.guid), [shared.guid]);
  assert.equal(second.headers.get('link'), null);
  assert.equal(sharing.length > 0, true);
});

test('bad input: unknown types, limits, malformed and foreign ids, tokens and scopes, as Mastodon answers', async () => {
  const user = unique('w-bad');
  const [id] = create(user, [{ type: 'mention', actorId: 'bob' }]);
  const tok = rw(user);
  const unknown = await api('GET', '/api/v1/notifications?types[]=mention&types[]=bogus', { tok });
  assert.equal(unknown.status, 422);
  assert.deepEqual(Object.keys(unknown.body), ['error']);
  assert.match(unknown.body.error, /types\[\]: unknown notification type 'bogus'/);
  // limit: over the maximum is clamped to it, as Mastodon does; 0 is taken as 1; not a number is 422.
  create(user, Array.from({ length: 85 }, () => ({ type: 'follow', actorId: 'bob' })));
  assert.equal((await api('GET', '/api/v1/notifications?limit=81', { tok })).body.length, 80);
  assert.equal((await api('GET', '/api/v1/notifications?limit=0', { tok })).body.length, 1);
  assert.equal((await api('GET', '/api/v1/notifications?limit=abc', { tok })).status, 422);
  assert.equal((await api('GET', '/api/v1/notifications?max_id=ntf_x', { tok })).status, 422);
  assert.deepEqual((await api('GET', '/api/v1/notifications/unread_count?limit=5000', { tok })).body, { count: 86 });
  for (const bad of ['abc', '-1', '99999999999999999999', 'ntf_9wtr4mfdtxq5z']) {
    const res = await api('GET', `/api/v1/notifications/${bad}`, { tok });
    assert.equal(res.status, 404, bad);
    assert.equal(res.text, '{"error":"Record not found"}');
  }
  const other = await api('GET', `/api/v1/notifications/${id}`, { tok: rw(unique('w-other')) });
  assert.equal(other.status, 404);
  assert.equal(other.text, '{"error":"Record not found"}');
  const noToken = await api('GET', '/api/v1/notifications');
  assert.equal(noToken.status, 401);
  assert.equal(noToken.text, '{"error":"The access token is invalid"}');
  const badToken = await api('GET', '/api/v1/notifications', { tok: 'pgi_nope' });
  assert.equal(badToken.status, 401);
  const readOnly = token(user, ['notifications:read']);
  const dismiss = await api('POST', `/api/v1/notifications/${id}/dismiss`, { tok: readOnly });
  assert.equal(dismiss.status, 403);
  assert.equal(dismiss.text, '{"error":"This action is outside the authorized scopes"}');
  const sendOnly = token(user, ['notifications:send']);
  assert.equal((await api('GET', '/api/v1/notifications', { tok: sendOnly })).status, 403);
  assert.equal((await api('GET', '/api/v2/notifications/nope:1', { tok })).status, 404);
  assert.equal((await api('GET', '/api/v2/notifications?expand_accounts=some', { tok })).status, 422);
  assert.equal((await api('POST', '/api/v1/markers', { tok, body: { notifications: { last_read_id: 'x' } } })).status, 422);
  const diaspora = await api('GET', '/diaspora/api/v1/notifications/0123', { tok });
  assert.equal(diaspora.status, 404);
  assert.deepEqual(Object.keys(diaspora.body), ['code', 'message']);
  assert.equal((await api('PATCH', '/diaspora/api/v1/notifications/0123', { tok, body: { read: 'yes' } })).status, 400);
  assert.equal((await api('GET', '/diaspora/api/v1/notifications?bogus=1', { tok })).status, 400);
});

test('report, relationship_severance_event and moderation_warning on the wire: Mastodon\'s keys and JSON types', async () => {
  const user = unique('w-objects');
  create(user, [
    { type: 'admin.report', actorId: 'bob', item: '48914' },
    { type: 'severed_relationships', actorId: user, item: '6' },
    { type: 'moderation_warning', actorId: user, item: '7' },
  ]);
  const tok = rw(user);
  const [warning, severed, report] = (await api('GET', '/api/v1/notifications', { tok })).body;
  assert.deepEqual(Object.keys(report).sort(), ['account', 'created_at', 'group_key', 'id', 'report', 'type']);
  assert.deepEqual(Object.keys(report.report).sort(),
                   ['action_taken', 'action_taken_at', 'category', 'comment', 'created_at', 'forwarded', 'id',
                    'rule_ids', 'status_ids', 'target_account']);
  assert.equal(report.report.id, '48914');
  assert.equal(report.report.action_taken, false);
  assert.equal(report.report.action_taken_at, null);
  assert.match(report.report.created_at, ISO_MS);
  assert.deepEqual(report.report.rule_ids, ['3']);
  assert.equal(report.report.target_account.acct, 'trent');
  assert.deepEqual(Object.keys(severed).sort(),
                   ['account', 'created_at', 'event', 'group_key', 'id', 'relationship_severance_event', 'type']);
  assert.deepEqual(severed.relationship_severance_event, {
    id: '6', type: 'domain_block', purged: false, target_name: 'spammy.example', followers_count: 4,
    following_count: 2, created_at: '2024-03-20T10:00:00.000Z',
  });
  assert.deepEqual(severed.event, severed.relationship_severance_event);
  assert.deepEqual(Object.keys(warning.moderation_warning).sort(),
                   ['action', 'appeal', 'created_at', 'id', 'status_ids', 'target_account', 'text']);
  assert.equal(warning.moderation_warning.id, '7');
  assert.equal(warning.moderation_warning.appeal, null);
  const groups = (await api('GET', '/api/v2/notifications', { tok })).body.notification_groups;
  assert.deepEqual(groups.map((g) => Object.keys(g).filter((k) => ['report', 'event', 'moderation_warning', 'status_id', 'relationship_severance_event'].includes(k))),
                   [['moderation_warning'], ['event'], ['report']]);
  assert.deepEqual(groups[2].report, report.report);
  for (const g of groups) {
    assert.equal(typeof g.page_min_id, 'string');
    assert.equal(g.page_min_id, g.page_max_id);
    assert.match(g.latest_page_notification_at, ISO_MS);
  }
});
