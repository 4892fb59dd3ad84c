// Every /api/ route over real HTTP: success paths, scopes, cross-user isolation, admin and
// workspace-bound tokens, and each status the routes answer.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { api, create, isError, sql, token, unique } from './helpers.mjs';

const alice = unique('alice');
const bob = unique('bob');
const t = {};

before(() => {
  t.alice = token(alice, ['notifications:read', 'notifications:write']);
  t.aliceRead = token(alice, ['notifications:read']);
  t.aliceW1 = token(alice, ['notifications:read', 'notifications:write'], 'w1');
  t.bob = token(bob, ['notifications:read', 'notifications:write']);
  t.sender = token(unique('app'), ['notifications:send']);
  t.senderW1 = token(unique('app'), ['notifications:send'], 'w1');
  t.admin = token(unique('root'), ['admin']);
});

const newFor = async (user, fields = {}) => {
  const res = await create(t.sender, { userId: user, title: 'hello', ...fields });
  assert.equal(res.status, 201, res.text);
  return res.body;
};

test('POST /api/notifications creates one object and answers 201 with it', async () => {
  const res = await create(t.sender, {
    userId: alice, title: 'Build finished', body: 'main is green', type: 'success',
    data: { build: 42 }, workspaceId: 'w1', actorId: 'ci', groupKey: 'builds',
    collection: 'builds', item: '42',
  });
  assert.equal(res.status, 201, res.text);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const n = res.body;
  assert.match(n.id, /^ntf_[0-9a-z]{13}$/);
  assert.equal(n.userId, alice);
  assert.equal(n.title, 'Build finished');
  assert.equal(n.body, 'main is green');
  assert.equal(n.type, 'success');
  assert.deepEqual(n.data, { build: 42 });
  assert.equal(n.workspaceId, 'w1');
  assert.equal(n.actorId, 'ci');
  assert.equal(n.groupKey, 'builds');
  assert.equal(n.collection, 'builds');
  assert.equal(n.item, '42');
  assert.equal(n.read, false);
  assert.equal(n.readAt, null);
  assert.match(n.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
});

test('POST an array creates each and answers 201 with {data: [...]} in order', async () => {
  const res = await create(t.sender, [
    { userId: alice, title: 'first' },
    { userId: bob, title: 'second' },
  ]);
  assert.equal(res.status, 201, res.text);
  assert.deepEqual(res.body.data.map((n) => [n.userId, n.title]), [[alice, 'first'], [bob, 'second']]);
});

test('POST {userIds, ...template} fans out, one notification per recipient', async () => {
  const users = [unique('fan'), unique('fan'), unique('fan')];
  const res = await create(t.sender, { userIds: users, title: 'Maintenance tonight', type: 'warning' });
  assert.equal(res.status, 201, res.text);
  assert.deepEqual(res.body.data.map((n) => n.userId), users);
  assert.ok(res.body.data.every((n) => n.title === 'Maintenance tonight' && n.type === 'warning'));
  assert.equal(new Set(res.body.data.map((n) => n.id)).size, 3);
});

test('POST needs the send scope: read/write tokens get 403', async () => {
  isError(assert, await create(t.alice, { userId: alice, title: 'x' }), 403, 'forbidden');
});

test('GET /api/notifications/{id} returns the caller\'s notification', async () => {
  const n = await newFor(alice);
  const res = await api('GET', `/api/notifications/${n.id}`, { tok: t.aliceRead });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, n);
});

test('HEAD on a GET route answers the status and headers without a body', async () => {
  const n = await newFor(alice);
  const res = await api('HEAD', `/api/notifications/${n.id}`, { tok: t.alice });
  assert.equal(res.status, 200);
  assert.equal(res.text, '');
});

test('GET ?markRead=true marks it read in the same call (and needs the write scope)', async () => {
  const n = await newFor(alice);
  isError(assert, await api('GET', `/api/notifications/${n.id}?markRead=true`, { tok: t.aliceRead }), 403, 'forbidden');
  const res = await api('GET', `/api/notifications/${n.id}?markRead=true`, { tok: t.alice });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.read, true);
  assert.ok(res.body.readAt);
  const again = await api('GET', `/api/notifications/${n.id}`, { tok: t.alice });
  assert.equal(again.body.readAt, res.body.readAt);
});

test('unknown, malformed and other users\' ids', async () => {
  const bobs = await newFor(bob);
  // Another user's id answers exactly as an unknown id does.
  const other = isError(assert, await api('GET', `/api/notifications/${bobs.id}`, { tok: t.alice }), 404, 'not_found');
  const unknown = isError(assert, await api('GET', '/api/notifications/ntf_0000000000000', { tok: t.alice }), 404, 'not_found');
  assert.equal(other.message.replace(bobs.id, 'X'), unknown.message.replace('ntf_0000000000000', 'X'));
  isError(assert, await api('GET', '/api/notifications/not-an-id', { tok: t.alice }), 400, 'invalid_parameter');
  isError(assert, await api('GET', '/api/notifications/ntf_%00', { tok: t.alice }), 400);
});

test('PUT /{id}/read and /{id}/unread', async () => {
  const n = await newFor(alice);
  let res = await api('PUT', `/api/notifications/${n.id}/read`, { tok: t.alice });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.read, true);
  const readAt = res.body.readAt;
  res = await api('PUT', `/api/notifications/${n.id}/read`, { tok: t.alice });
  assert.equal(res.body.readAt, readAt, 'marking a read notification read keeps its first readAt');
  res = await api('PUT', `/api/notifications/${n.id}/unread`, { tok: t.alice });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.read, false);
  assert.equal(res.body.readAt, null);
  isError(assert, await api('PUT', `/api/notifications/${n.id}/read`, { tok: t.aliceRead }), 403, 'forbidden');
});

test('PATCH /{id} with {read, archived}', async () => {
  const n = await newFor(alice);
  let res = await api('PATCH', `/api/notifications/${n.id}`, { tok: t.alice, body: { read: true, archived: true } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.read, true);
  assert.equal(res.body.archived, true);
  res = await api('PATCH', `/api/notifications/${n.id}`, { tok: t.alice, body: { archived: false } });
  assert.equal(res.body.archived, false);
  assert.equal(res.body.read, true);
  isError(assert, await api('PATCH', `/api/notifications/${n.id}`, { tok: t.alice, body: {} }), 400, 'invalid_parameter');
  isError(assert, await api('PATCH', `/api/notifications/${n.id}`, { tok: t.alice, body: { read: 'yes' } }), 400, 'invalid_parameter');
  isError(assert, await api('PATCH', `/api/notifications/${n.id}`, { tok: t.alice, body: { title: 'edited' } }), 400, 'invalid_parameter');
  isError(assert, await api('PATCH', `/api/notifications/${n.id}`, { tok: t.alice, body: [true] }), 400, 'invalid_parameter');
});

test('DELETE soft-deletes; restore brings it back; purge removes it for good', async () => {
  const n = await newFor(alice);
  // Restore and purge of an active notification are conflicts.
  isError(assert, await api('POST', `/api/notifications/${n.id}/restore`, { tok: t.alice }), 409, 'wrong_state');
  isError(assert, await api('DELETE', `/api/notifications/${n.id}/purge`, { tok: t.alice }), 409, 'wrong_state');

  let res = await api('DELETE', `/api/notifications/${n.id}`, { tok: t.alice });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { success: true });
  isError(assert, await api('GET', `/api/notifications/${n.id}`, { tok: t.alice }), 404, 'not_found');
  res = await api('GET', `/api/notifications/${n.id}?include_deleted=true`, { tok: t.alice });
  assert.equal(res.status, 200, res.text);
  assert.ok(res.body.deletedAt);

  res = await api('POST', `/api/notifications/${n.id}/restore`, { tok: t.alice });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.id, n.id);
  assert.equal(res.body.deletedAt, null);

  await api('DELETE', `/api/notifications/${n.id}`, { tok: t.alice });
  res = await api('DELETE', `/api/notifications/${n.id}/purge`, { tok: t.alice });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { success: true });
  isError(assert, await api('GET', `/api/notifications/${n.id}?include_deleted=true`, { tok: t.alice }), 404);
  isError(assert, await api('DELETE', `/api/notifications/${n.id}/purge`, { tok: t.alice }), 404);
  isError(assert, await api('DELETE', `/api/notifications/${n.id}`, { tok: t.alice }), 404);
});

test('unread-count and read-all, overall and per workspace', async () => {
  const user = unique('counter');
  const tok = token(user, ['notifications:read', 'notifications:write']);
  await newFor(user, { workspaceId: 'w1' });
  await newFor(user, { workspaceId: 'w1' });
  await newFor(user, { workspaceId: 'w2' });
  await newFor(user);
  let res = await api('GET', '/api/notifications/unread-count', { tok });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { count: 4, unseen: 4 });
  res = await api('GET', '/api/notifications/unread-count?workspace_id=w1', { tok });
  assert.deepEqual(res.body, { count: 2, unseen: 2 });

  res = await api('PUT', '/api/notifications/read-all?workspace_id=w1', { tok });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { ok: true, updated: 2 });
  assert.deepEqual((await api('GET', '/api/notifications/unread-count', { tok })).body, { count: 2, unseen: 4 });
  res = await api('PUT', '/api/notifications/read-all', { tok });
  assert.deepEqual(res.body, { ok: true, updated: 2 });
  res = await api('PUT', '/api/notifications/read-all', { tok });
  assert.deepEqual(res.body, { ok: true, updated: 0 });
  assert.deepEqual((await api('GET', '/api/notifications/unread-count', { tok })).body, { count: 0, unseen: 4 });
  isError(assert, await api('GET', '/api/notifications/unread-count?workspace_id=', { tok }), 400, 'invalid_parameter');
});

test('seen (issue 19): PUT seen, the unseen count, seenAt; read-all as a mark; expiresAt', async () => {
  const user = unique('seen');
  const tok = token(user, ['notifications:read', 'notifications:write']);
  const first = await newFor(user, { workspaceId: 'w1' });
  assert.equal(first.seenAt, null);
  assert.equal(first.expiresAt, null);
  await newFor(user);
  let res = await api('PUT', '/api/notifications/seen?workspace_id=w1', { tok });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.ok, true);
  assert.match(res.body.seenAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.deepEqual((await api('GET', '/api/notifications/unread-count', { tok })).body, { count: 2, unseen: 1 });
  res = await api('PUT', '/api/notifications/seen', { tok });
  assert.deepEqual((await api('GET', '/api/notifications/unread-count', { tok })).body, { count: 2, unseen: 0 });
  const seen = await api('GET', `/api/notifications/${first.id}`, { tok });
  assert.equal(seen.body.seenAt, res.body.seenAt);
  assert.equal(seen.body.read, false);
  // Only the owner's write scope marks seen.
  isError(assert, await api('PUT', '/api/notifications/seen', { tok: t.aliceRead }), 403, 'forbidden');
  // read-all, then one marked unread again: exact everywhere.
  res = await api('PUT', '/api/notifications/read-all', { tok });
  assert.deepEqual(res.body, { ok: true, updated: 2 });
  assert.equal((await api('GET', `/api/notifications/${first.id}`, { tok })).body.read, true);
  res = await api('PUT', `/api/notifications/${first.id}/unread`, { tok });
  assert.equal(res.body.read, false);
  assert.deepEqual((await api('GET', '/api/notifications/unread-count', { tok })).body, { count: 1, unseen: 0 });
  res = await api('GET', '/api/notifications?read=false', { tok });
  assert.deepEqual(res.body.data.map((n) => n.id), [first.id]);
  // expiresAt: an expired notification is in no list and no count.
  const gone = await newFor(user, { expiresAt: '2020-01-01T00:00:00Z' });
  assert.equal(gone.expiresAt, '2020-01-01T00:00:00.000000Z');
  assert.deepEqual((await api('GET', '/api/notifications/unread-count', { tok })).body, { count: 1, unseen: 0 });
  isError(assert, await api('GET', `/api/notifications/${gone.id}`, { tok }), 404, 'not_found');
  res = await create(t.sender, { userId: user, expiresAt: 'tomorrow-ish' });
  isError(assert, res, 400, 'invalid_parameter');
});

test('a caller never sees or changes another user\'s notification: 404 everywhere, row untouched', async () => {
  const n = await newFor(alice, { title: 'private' });
  const routes = [
    ['GET', `/api/notifications/${n.id}`],
    ['GET', `/api/notifications/${n.id}?include_deleted=true`],
    ['PUT', `/api/notifications/${n.id}/read`],
    ['PUT', `/api/notifications/${n.id}/unread`],
    ['DELETE', `/api/notifications/${n.id}`],
    ['POST', `/api/notifications/${n.id}/restore`],
    ['DELETE', `/api/notifications/${n.id}/purge`],
  ];
  for (const [method, path] of routes) {
    isError(assert, await api(method, path, { tok: t.bob }), 404, 'not_found');
  }
  isError(assert, await api('PATCH', `/api/notifications/${n.id}`, { tok: t.bob, body: { read: true } }), 404, 'not_found');
  const after = await api('GET', `/api/notifications/${n.id}`, { tok: t.alice });
  assert.deepEqual(after.body, n);
  // read-all and unread-count of bob do not count or touch alice's rows.
  await api('PUT', '/api/notifications/read-all', { tok: t.bob });
  assert.equal((await api('GET', `/api/notifications/${n.id}`, { tok: t.alice })).body.read, false);
  // Naming another user is for admins only.
  isError(assert, await api('GET', `/api/notifications/${n.id}?user_id=${alice}`, { tok: t.bob }), 403, 'forbidden');
});

test('an admin token acts for any user through user_id', async () => {
  const n = await newFor(bob);
  // Without user_id an admin finds it by its id alone (issue 12 item 9; admin_by_id.test.mjs).
  let res = await api('GET', `/api/notifications/${n.id}`, { tok: t.admin });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.userId, bob);
  res = await api('GET', `/api/notifications/${n.id}?user_id=${bob}`, { tok: t.admin });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.userId, bob);
  res = await api('PUT', `/api/notifications/${n.id}/read?user_id=${bob}`, { tok: t.admin });
  assert.equal(res.body.read, true);
  res = await api('GET', `/api/notifications/unread-count?user_id=${bob}`, { tok: t.admin });
  assert.equal(res.status, 200, res.text);
  assert.equal(typeof res.body.count, 'number');
  res = await create(t.admin, { userId: bob, title: 'from admin' });
  assert.equal(res.status, 201, res.text);
});

test('a workspace-bound token sees, changes and creates only in its workspace', async () => {
  const inW1 = await newFor(alice, { workspaceId: 'w1' });
  const inW2 = await newFor(alice, { workspaceId: 'w2' });
  const inNone = await newFor(alice);
  assert.equal((await api('GET', `/api/notifications/${inW1.id}`, { tok: t.aliceW1 })).status, 200);
  isError(assert, await api('GET', `/api/notifications/${inW2.id}`, { tok: t.aliceW1 }), 404, 'not_found');
  isError(assert, await api('GET', `/api/notifications/${inNone.id}`, { tok: t.aliceW1 }), 404, 'not_found');
  isError(assert, await api('PUT', `/api/notifications/${inW2.id}/read`, { tok: t.aliceW1 }), 404, 'not_found');
  isError(assert, await api('DELETE', `/api/notifications/${inW2.id}`, { tok: t.aliceW1 }), 404, 'not_found');
  assert.equal((await api('GET', `/api/notifications/${inW2.id}`, { tok: t.alice })).body.deletedAt, null);
  isError(assert, await api('GET', '/api/notifications/unread-count?workspace_id=w2', { tok: t.aliceW1 }), 403, 'forbidden');

  let res = await create(t.senderW1, { userId: alice, title: 'bound' });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.workspaceId, 'w1');
  isError(assert, await create(t.senderW1, { userId: alice, workspaceId: 'w2' }), 403, 'forbidden');
  isError(assert, await create(t.senderW1, [{ userId: alice }, { userId: bob, workspaceId: 'w9' }]), 403, 'forbidden');
});

test('authentication: missing, malformed, unknown, revoked and expired tokens are 401', async () => {
  const n = await newFor(alice);
  const path = `/api/notifications/${n.id}`;
  const noHeader = await api('GET', path);
  isError(assert, noHeader, 401, 'unauthorized');
  assert.match(noHeader.headers.get('www-authenticate'), /^Bearer/);
  isError(assert, await api('GET', path, { headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' } }), 401, 'unauthorized');
  isError(assert, await api('GET', path, { headers: { authorization: 'Bearer' } }), 401, 'unauthorized');
  isError(assert, await api('GET', path, { tok: 'pgi_' + '0'.repeat(64) }), 401, 'unauthorized');
  isError(assert, await api('GET', path, { tok: 'not a token!' }), 401, 'unauthorized');

  const revoked = token(alice, ['notifications:read']);
  assert.equal((await api('GET', path, { tok: revoked })).status, 200);
  assert.equal(sql(`SELECT inbox.revoke_token('${revoked}')`), 't');
  isError(assert, await api('GET', path, { tok: revoked }), 401, 'unauthorized');

  const expiring = token(alice, ['notifications:read'], null, "now() + interval '1 hour'");
  assert.equal((await api('GET', path, { tok: expiring })).status, 200);
  sql(`UPDATE inbox.tokens SET expires_at = now() - interval '1 second'
        WHERE token_hash = sha256(convert_to('${expiring}', 'UTF8'))`);
  isError(assert, await api('GET', path, { tok: expiring }), 401, 'unauthorized');
  // The scheme name is case-insensitive.
  assert.equal((await api('GET', path, { headers: { authorization: `bearer ${t.alice}` } })).status, 200);
});

test('scopes: each route refuses a token without its scope with 403', async () => {
  const n = await newFor(alice);
  const sendOnly = token(alice, ['notifications:send']);
  const readOnly = t.aliceRead;
  const checks = [
    [sendOnly, 'GET', `/api/notifications/${n.id}`],
    [sendOnly, 'GET', '/api/notifications/unread-count'],
    [sendOnly, 'GET', '/api/notifications'],
    [readOnly, 'PUT', `/api/notifications/${n.id}/read`],
    [readOnly, 'PUT', `/api/notifications/${n.id}/unread`],
    [readOnly, 'DELETE', `/api/notifications/${n.id}`],
    [readOnly, 'POST', `/api/notifications/${n.id}/restore`],
    [readOnly, 'DELETE', `/api/notifications/${n.id}/purge`],
    [readOnly, 'PUT', '/api/notifications/read-all'],
  ];
  for (const [tok, method, path] of checks) {
    isError(assert, await api(method, path, { tok }), 403, 'forbidden');
  }
  isError(assert, await api('PATCH', `/api/notifications/${n.id}`, { tok: readOnly, body: { read: true } }), 403, 'forbidden');
  isError(assert, await create(readOnly, { userId: alice }), 403, 'forbidden');
  assert.equal((await api('GET', `/api/notifications/${n.id}`, { tok: t.alice })).body.read, false);
});
