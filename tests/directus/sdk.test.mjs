// The official Directus SDK (@directus/sdk 18) against pg_inbox's Directus API: every
// notifications command, with filters, sort, fields, limit, offset, page, meta and aggregate.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  aggregate,
  createNotification,
  createNotifications,
  deleteNotification,
  deleteNotifications,
  readNotification,
  readNotifications,
  updateNotification,
  updateNotifications,
  updateNotificationsBatch,
  withSearch,
} from '@directus/sdk';

import {
  ADMIN_ID,
  FIELD_ORDER,
  adminToken,
  api,
  client,
  isNotification,
  sdkError,
  sql,
  token,
  person,
  userWith,
} from './helpers.mjs';

const admin = client(adminToken());

test('createNotification returns the object in Directus field order', async () => {
  const user = person('sdk-create');
  const n = await admin.request(
    createNotification({ recipient: user, subject: 'Hi there!', message: 'Hello', collection: 'articles', item: '7' }),
  );
  isNotification(n);
  assert.equal(n.status, 'inbox');
  assert.equal(n.recipient, user);
  assert.equal(n.sender, null);
  assert.equal(n.subject, 'Hi there!');
  assert.equal(n.message, 'Hello');
  assert.equal(n.collection, 'articles');
  assert.equal(n.item, '7');
  // The same row through pg_inbox's own API.
  const row = JSON.parse(sql(`SELECT inbox.get('${user}', inbox.public_id(${n.id}))`));
  assert.equal(row.title, 'Hi there!');
  assert.equal(row.body, 'Hello');
});

test('createNotifications creates each, in order, with the fields asked for', async () => {
  const user = person('sdk-many');
  const created = await admin.request(
    createNotifications(
      [
        { recipient: user, subject: 'one', sender: ADMIN_ID },
        { recipient: { id: user }, subject: 'two', status: 'archived' },
      ],
      { fields: ['id', 'subject', 'status', 'sender'] },
    ),
  );
  assert.equal(created.length, 2);
  assert.deepEqual(Object.keys(created[0]), ['id', 'subject', 'status', 'sender']);
  assert.deepEqual(
    created.map((n) => [n.subject, n.status, n.sender]),
    [
      ['one', 'inbox', ADMIN_ID],
      ['two', 'archived', null],
    ],
  );
  assert.ok(created[1].id > created[0].id);
});

test('readNotifications: a user reads their own notifications only', async () => {
  const { tok, ids } = userWith(3, 'sdk-own');
  const other = userWith(1, 'sdk-other');
  const mine = await client(tok).request(readNotifications());
  assert.deepEqual(
    mine.map((n) => n.id),
    ids,
  );
  mine.forEach((n) => isNotification(n));
  assert.ok(!mine.some((n) => n.id === other.ids[0]));
});

test('readNotifications with filter, sort, fields, limit, offset and page', async () => {
  const { tok, ids } = userWith(6, 'sdk-query');
  const c = client(tok);
  await c.request(updateNotifications([ids[1], ids[3]], { status: 'archived' }));

  const archived = await c.request(
    readNotifications({ filter: { status: { _eq: 'archived' } }, sort: ['-id'], fields: ['id', 'status'] }),
  );
  assert.deepEqual(archived, [
    { id: ids[3], status: 'archived' },
    { id: ids[1], status: 'archived' },
  ]);

  const page2 = await c.request(readNotifications({ fields: ['id'], sort: ['id'], limit: 2, page: 2 }));
  assert.deepEqual(
    page2.map((n) => n.id),
    ids.slice(2, 4),
  );
  const offset = await c.request(readNotifications({ fields: ['id'], limit: 3, offset: 4 }));
  assert.deepEqual(
    offset.map((n) => n.id),
    ids.slice(4),
  );

  const nested = await c.request(
    readNotifications({
      filter: {
        _and: [{ subject: { _icontains: 'SDK-QUERY' } }, { _or: [{ id: { _in: [ids[0], ids[5]] } }, { id: { _between: [ids[2], ids[2]] } }] }],
      },
      fields: ['id'],
    }),
  );
  assert.deepEqual(
    nested.map((n) => n.id),
    [ids[0], ids[2], ids[5]],
  );

  const mine = await c.request(readNotifications({ filter: { recipient: { _eq: '$CURRENT_USER' } }, fields: ['id'], limit: -1 }));
  assert.equal(mine.length, 6);

  const searched = await c.request(readNotifications({ search: 'body 5', fields: ['id', 'message'] }));
  assert.deepEqual(searched, [{ id: ids[4], message: 'body 5' }]);

  // meta is accepted (the SDK returns data only; tests/directus/http checks the numbers).
  const withMeta = await c.request(readNotifications({ meta: 'total_count', limit: 1, fields: ['id'] }));
  assert.deepEqual(withMeta, [{ id: ids[0] }]);
});

test('readNotifications with related fields: recipient.email from the registered relation', async () => {
  const rows = await admin.request(
    readNotifications({ fields: ['id', { recipient: ['id', 'email'] }], filter: { id: { _lte: 2 } } }),
  );
  assert.deepEqual(rows, [
    { id: 1, recipient: { id: ADMIN_ID, email: 'admin@example.com' } },
    { id: 2, recipient: { id: ADMIN_ID, email: 'admin@example.com' } },
  ]);
  const byEmail = await admin.request(
    readNotifications({ filter: { recipient: { email: { _eq: 'admin@example.com' } } }, aggregate: { count: '*' } }),
  );
  assert.equal(Number(byEmail[0].count) >= 30, true);
  const byCurrentUser = await admin.request(
    readNotifications({ filter: { recipient: { id: { _eq: '$CURRENT_USER' } } }, fields: ['id'], sort: ['id'], limit: 2 }),
  );
  assert.deepEqual(byCurrentUser, [{ id: 1 }, { id: 2 }]);
});

test('readNotification by id, with fields; another user\'s id is FORBIDDEN', async () => {
  const { tok, ids } = userWith(1, 'sdk-one');
  const c = client(tok);
  const n = await c.request(readNotification(ids[0]));
  isNotification(n);
  assert.equal(n.id, ids[0]);
  assert.deepEqual(await c.request(readNotification(ids[0], { fields: ['id', 'subject'] })), {
    id: ids[0],
    subject: 'sdk-one 1',
  });
  await sdkError(c.request(readNotification(1)), 403, 'FORBIDDEN');
  await sdkError(c.request(readNotification(999999)), 403, 'FORBIDDEN');
});

test('aggregate: count by status, and the other functions', async () => {
  const byStatus = await admin.request(
    aggregate('directus_notifications', {
      aggregate: { count: '*' },
      groupBy: ['status'],
      query: { filter: { id: { _lte: 30 } } },
    }),
  );
  assert.deepEqual(byStatus, [
    { status: 'archived', count: '6' },
    { status: 'inbox', count: '24' },
  ]);
  const stats = await admin.request(
    aggregate('directus_notifications', {
      aggregate: { countDistinct: ['recipient'], min: ['id'], max: ['id'], sum: ['id'], avg: ['id'] },
      query: { filter: { id: { _lte: 30 } } },
    }),
  );
  assert.deepEqual(stats, [
    { avg: { id: '15.5000000000000000' }, countDistinct: { recipient: '1' }, max: { id: 30 }, min: { id: 1 }, sum: { id: '465' } },
  ]);
});

test('updateNotification: a user changes the status of their own notification', async () => {
  const { tok, ids } = userWith(1, 'sdk-update');
  const c = client(tok);
  const n = await c.request(updateNotification(ids[0], { status: 'archived' }));
  isNotification(n);
  assert.equal(n.status, 'archived');
  const back = await c.request(updateNotification(ids[0], { status: 'inbox' }, { fields: ['id', 'status'] }));
  assert.deepEqual(back, { id: ids[0], status: 'inbox' });
  // Only the status: the rest is an admin's to change (Directus's app permissions).
  await sdkError(c.request(updateNotification(ids[0], { message: 'edited' })), 403, 'FORBIDDEN');
  // Another user's notification, and one that does not exist.
  await sdkError(c.request(updateNotification(1, { status: 'archived' })), 403, 'FORBIDDEN');
  await sdkError(c.request(updateNotification(999999, { status: 'archived' })), 403, 'FORBIDDEN');
});

test('updateNotifications and updateNotificationsBatch (admin), all or nothing', async () => {
  const { user, ids } = userWith(3, 'sdk-bulk');
  const updated = await admin.request(
    updateNotifications([ids[2], ids[0]], { message: 'Updated message!', status: 'archived' }, { fields: ['id', 'message', 'status'] }),
  );
  assert.deepEqual(updated, [
    { id: ids[2], message: 'Updated message!', status: 'archived' },
    { id: ids[0], message: 'Updated message!', status: 'archived' },
  ]);
  const batch = await admin.request(
    updateNotificationsBatch(
      [
        { id: ids[1], subject: 'batch B' },
        { id: ids[2], status: 'inbox', subject: 'batch C' },
      ],
      { fields: ['id', 'status', 'subject'] },
    ),
  );
  assert.deepEqual(batch, [
    { id: ids[1], status: 'inbox', subject: 'batch B' },
    { id: ids[2], status: 'inbox', subject: 'batch C' },
  ]);
  // One unknown key and nothing changes.
  await sdkError(admin.request(updateNotifications([ids[1], 999999], { subject: 'never' })), 403, 'FORBIDDEN');
  assert.equal(JSON.parse(sql(`SELECT inbox.get('${user}', inbox.public_id(${ids[1]}))`)).title, 'batch B');
});

test('deleteNotification and deleteNotifications soft-delete (admin only)', async () => {
  const { user, tok, ids } = userWith(4, 'sdk-delete');
  await sdkError(client(tok).request(deleteNotification(ids[0])), 403, 'FORBIDDEN');
  // 204 without a body: the SDK hands back the Response, as it does with Directus.
  assert.equal((await admin.request(deleteNotification(ids[0]))).status, 204);
  await sdkError(client(tok).request(readNotification(ids[0])), 403, 'FORBIDDEN');
  await admin.request(deleteNotifications([ids[1], ids[2]]));
  const left = await client(tok).request(readNotifications({ fields: ['id'] }));
  assert.deepEqual(left, [{ id: ids[3] }]);
  // Soft: the rows are still there, deleted, and can be restored through /api/.
  const row = JSON.parse(sql(`SELECT inbox.get('${user}', inbox.public_id(${ids[1]}), include_deleted => true)`));
  assert.notEqual(row.deletedAt, null);
  const restored = await api('POST', `/api/notifications/${row.id}/restore`, { tok: token(user, ['notifications:write']) });
  assert.equal(restored.status, 200, restored.text);
  assert.deepEqual(await client(tok).request(readNotifications({ fields: ['id'] })), [{ id: ids[1] }, { id: ids[3] }]);
});

test('permissions: creating needs notifications:send or admin; a bad token is INVALID_CREDENTIALS', async () => {
  const { tok } = userWith(0, 'sdk-perm');
  await sdkError(client(tok).request(createNotification({ recipient: 'x', subject: 'no' })), 403, 'FORBIDDEN');
  const sender = client(token(person('sdk-sender'), ['notifications:send']));
  const someone = person('sdk-recipient');
  const n = await sender.request(createNotification({ recipient: someone, subject: 'for anyone' }, { fields: ['recipient'] }));
  assert.deepEqual(n, { recipient: someone });
  await sdkError(client('not-a-valid-token').request(readNotifications()), 401, 'INVALID_CREDENTIALS');
});

test('withSearch sends the query as SEARCH /notifications', async () => {
  const { tok, ids } = userWith(3, 'sdk-search');
  const rows = await client(tok).request(
    withSearch(readNotifications({ filter: { id: { _gte: ids[1] } }, fields: ['id'], sort: ['-id'] })),
  );
  assert.deepEqual(rows, [{ id: ids[2] }, { id: ids[1] }]);
});


test('field order of every list item is Directus\'s', async () => {
  const rows = await admin.request(readNotifications({ limit: 3 }));
  assert.deepEqual(
    rows.map((n) => n.id),
    [1, 2, 3],
  );
  rows.forEach((n) => assert.deepEqual(Object.keys(n), FIELD_ORDER));
});
