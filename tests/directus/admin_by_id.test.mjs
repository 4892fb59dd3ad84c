// Issue 12 item 9 on the Directus routes: an admin token reads, changes and deletes any user's
// notification by its id alone (GET, PATCH, DELETE /notifications/:id and the SDK's readNotification,
// updateNotification, deleteNotification), as Directus's administrator does; a plain user gets
// 403 FORBIDDEN for another user's id, as Directus answers for an item it may not see.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { readNotification, updateNotification, deleteNotification } from '@directus/sdk';

import { adminToken, api, client, isDirectusError, isNotification, sdkError, sql, userWith } from './helpers.mjs';

const admin = adminToken();

test('GET, PATCH and DELETE /notifications/:id find another user\'s notification for an admin', async () => {
  const { user, ids } = userWith(1, 'by-id');
  const [id] = ids;
  let res = await api('GET', `/notifications/${id}`, { tok: admin });
  assert.equal(res.status, 200, res.text);
  isNotification(res.body.data);
  assert.deepEqual([res.body.data.id, res.body.data.recipient], [id, user]);
  res = await api('PATCH', `/notifications/${id}`, { tok: admin, body: { status: 'archived' } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual([res.body.data.recipient, res.body.data.status], [user, 'archived']);
  res = await api('DELETE', `/notifications/${id}`, { tok: admin });
  assert.equal(res.status, 204, res.text);
  assert.equal(sql(`SELECT deleted_at IS NOT NULL FROM inbox.notifications WHERE id = ${id}`), 't');
});

test('the SDK\'s by-id calls as an admin, and a plain user\'s 403 for another user\'s id', async () => {
  const owner = userWith(1, 'sdk-by-id');
  const other = userWith(0, 'sdk-other');
  const [id] = owner.ids;
  const read = await client(admin).request(readNotification(id));
  assert.deepEqual([read.id, read.recipient], [id, owner.user]);
  const updated = await client(admin).request(updateNotification(id, { subject: 'edited by an admin' }));
  assert.deepEqual([updated.recipient, updated.subject], [owner.user, 'edited by an admin']);
  await sdkError(client(other.tok).request(readNotification(id)), 403, 'FORBIDDEN');
  isDirectusError(await api('PATCH', `/notifications/${id}`, { tok: other.tok, body: { status: 'archived' } }), 403, 'FORBIDDEN');
  await client(admin).request(deleteNotification(id));
  assert.equal(sql(`SELECT deleted_at IS NOT NULL FROM inbox.notifications WHERE id = ${id}`), 't');
});
