// Issue 12 item 9 over real HTTP: an admin token names a notification by its id alone. Every
// /api/ route of one notification finds another user's row without ?user_id= (one look-up of
// notifications_id_idx); ?user_id= still narrows to one user; no route answers 404 for a row
// that exists, except where it would for the owner too (a soft-deleted row without
// include_deleted=true).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { api, create, isError, sql, token, unique } from './helpers.mjs';

const bob = unique('bob');
const carol = unique('carol');
const t = {};

before(() => {
  t.admin = token(unique('root'), ['admin']);
  t.adminW1 = token(unique('root'), ['admin'], 'w1');
  t.sender = token(unique('app'), ['notifications:send']);
  t.carol = token(carol, ['notifications:read', 'notifications:write']);
});

const newFor = async (user, fields = {}) => {
  const res = await create(t.sender, { userId: user, title: 'for the admin', ...fields });
  assert.equal(res.status, 201, res.text);
  return res.body;
};
const ok = (res) => {
  assert.equal(res.status, 200, res.text);
  return res.body;
};

test('every route of one notification finds another user\'s row for an admin without user_id', async () => {
  const n = await newFor(bob);
  const path = `/api/notifications/${n.id}`;
  const tok = t.admin;
  assert.deepEqual(ok(await api('GET', path, { tok })), n);
  assert.equal(ok(await api('PUT', `${path}/read`, { tok })).read, true);
  assert.equal(ok(await api('PUT', `${path}/unread`, { tok })).read, false);
  const patched = ok(await api('PATCH', path, { tok, body: { read: true, archived: true } }));
  assert.deepEqual([patched.userId, patched.read, patched.archived], [bob, true, true]);
  assert.equal(ok(await api('GET', `${path}?markRead=true`, { tok })).read, true);
  assert.deepEqual(ok(await api('DELETE', path, { tok })), { success: true });
  const trashed = ok(await api('GET', `${path}?include_deleted=true`, { tok }));
  assert.equal(trashed.userId, bob);
  assert.notEqual(trashed.deletedAt, null);
  const restored = ok(await api('POST', `${path}/restore`, { tok }));
  assert.equal(restored.deletedAt, null);
  assert.equal(ok(await api('DELETE', path, { tok })).success, true);
  assert.deepEqual(ok(await api('DELETE', `${path}/purge`, { tok })), { success: true });
  // Purged: now it does not exist.
  isError(assert, await api('GET', `${path}?include_deleted=true`, { tok }), 404, 'not_found');
  // The changes were bob's, and his counter followed them.
  assert.equal(sql(`SELECT count(*) FROM inbox.notifications WHERE user_id = '${bob}'`), '0');
  assert.equal(sql(`SELECT inbox.unread_count('${bob}')`), '0');
});

test('the states an owner gets are the admin\'s too: 409 for a wrong state, 404 for the trash by default', async () => {
  const n = await newFor(bob);
  const path = `/api/notifications/${n.id}`;
  isError(assert, await api('POST', `${path}/restore`, { tok: t.admin }), 409, 'wrong_state');
  isError(assert, await api('DELETE', `${path}/purge`, { tok: t.admin }), 409, 'wrong_state');
  ok(await api('DELETE', path, { tok: t.admin }));
  // A soft-deleted row is hidden from GET without include_deleted=true, for its owner as well.
  isError(assert, await api('GET', path, { tok: t.admin }), 404, 'not_found');
  isError(assert, await api('PUT', `${path}/read`, { tok: t.admin }), 404, 'not_found');
});

test('user_id still names the user; an unknown id is 404, a malformed one 400', async () => {
  const n = await newFor(bob);
  const withUser = ok(await api('GET', `/api/notifications/${n.id}?user_id=${bob}`, { tok: t.admin }));
  assert.equal(withUser.id, n.id);
  isError(assert, await api('GET', `/api/notifications/${n.id}?user_id=${carol}`, { tok: t.admin }), 404, 'not_found');
  const unknown = sql('SELECT inbox.public_id(9000000000000000)');
  isError(assert, await api('GET', `/api/notifications/${unknown}`, { tok: t.admin }), 404, 'not_found');
  isError(assert, await api('PATCH', `/api/notifications/ntf_nope`, { tok: t.admin, body: { read: true } }), 400, 'invalid_parameter');
});

test('a workspace-bound admin token finds rows of its workspace only; other tokens see only their own', async () => {
  const inW1 = await newFor(bob, { workspaceId: 'w1' });
  const inW2 = await newFor(bob, { workspaceId: 'w2' });
  assert.equal(ok(await api('GET', `/api/notifications/${inW1.id}`, { tok: t.adminW1 })).id, inW1.id);
  isError(assert, await api('GET', `/api/notifications/${inW2.id}`, { tok: t.adminW1 }), 404, 'not_found');
  isError(assert, await api('GET', `/api/notifications/${inW1.id}`, { tok: t.carol }), 404, 'not_found');
  isError(assert, await api('PUT', `/api/notifications/${inW1.id}/read`, { tok: t.carol }), 404, 'not_found');
});

test('an id two users hold is 400 naming user_id, and naming the user works', async () => {
  const n = await newFor(bob);
  sql(`INSERT INTO inbox.notifications (user_id, id, title) OVERRIDING SYSTEM VALUE
       VALUES ('${carol}', inbox.internal_id('${n.id}'), 'same id')`);
  try {
    const error = isError(assert, await api('GET', `/api/notifications/${n.id}`, { tok: t.admin }), 400, 'invalid_parameter');
    assert.match(error.message, /^user_id: /);
    assert.match(error.hint, /user_id/);
    isError(assert, await api('PUT', `/api/notifications/${n.id}/read`, { tok: t.admin }), 400, 'invalid_parameter');
    assert.equal(ok(await api('GET', `/api/notifications/${n.id}?user_id=${carol}`, { tok: t.admin })).title, 'same id');
  } finally {
    sql(`DELETE FROM inbox.notifications WHERE user_id = '${carol}' AND id = inbox.internal_id('${n.id}')`);
  }
});
