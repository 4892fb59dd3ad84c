// A notification reaches HTTP clients with its keys in the documented order (issue 12 item 6):
// the registry's (inbox.field_registry()), not jsonb's; what is inside it keeps jsonb's order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, sql, token, unique } from './helpers.mjs';

const order = sql("SELECT string_agg(name, ',' ORDER BY ordinal) FROM inbox.field_registry()").split(',');

test('the registry keeps the order the README and seed 002 document', () => {
  assert.deepEqual(order, ['id', 'userId', 'workspaceId', 'type', 'title', 'body', 'data', 'read',
    'readAt', 'seenAt', 'archived', 'archivedAt', 'deletedAt', 'expiresAt', 'actorId', 'actors', 'actorCount',
    'collection', 'item', 'groupKey', 'createdAt', 'updatedAt']);
});

test('notifications come in the documented key order on every route that returns them', async () => {
  const user = unique('order');
  const tok = token(user, ['notifications:read', 'notifications:write', 'notifications:send']);
  const created = await api('POST', '/api/notifications', {
    tok, body: { userId: user, title: 't', data: { b: 1, a: 2 } },
  });
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(Object.keys(created.body), order);
  assert.ok(created.text.startsWith('{"id": "ntf_'), created.text);
  assert.deepEqual(Object.keys(created.body.data), ['a', 'b']);  // jsonb's order inside
  const id = created.body.id;
  const many = await api('POST', '/api/notifications', { tok, body: [{ userId: user, title: 'u' }] });
  assert.deepEqual(Object.keys(many.body.data[0]), order);
  const page = await api('GET', '/api/notifications?limit=5', { tok });
  assert.ok(page.text.startsWith('{"data": [{"id": "ntf_'), page.text);
  for (const n of page.body.data) assert.deepEqual(Object.keys(n), order);
  for (const [method, path] of [['GET', `/api/notifications/${id}`], ['PUT', `/api/notifications/${id}/read`]]) {
    const res = await api(method, path, { tok });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body), order, `${method} ${path}`);
  }
});
