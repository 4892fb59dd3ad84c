// Every example request of the two Directus documentation seeds
// (/work/shared/seeds/000_75d1036f6b298073.txt, 001_d0f710f2531dada4.txt), sent as written by
// an admin, with the answer each must get. tests/directus.sh made the notifications they name
// (15 is the admin's; 34, 42, 64, 251 and 810 belong to user 410b5772-...).
//
// Runs last of the suites (name order): it deletes notifications the others read.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FIELD_ORDER, SEED_USER, adminToken, api, isNotification, rawRequest, sql } from './helpers.mjs';

const admin = adminToken();
const send = (method, path, body) =>
  api(method, path, body === undefined ? { tok: admin } : { tok: admin, raw: body, headers: { 'content-type': 'application/json' } });

test('The Notification Object: the documented fields, in the documented order', async () => {
  const res = await send('GET', '/notifications/42');
  isNotification(res.body.data, FIELD_ORDER);
});

test('List Notifications: GET /notifications', async () => {
  const res = await send('GET', '/notifications');
  assert.equal(res.status, 200);
  assert.ok(Array.isArray(res.body.data));
  assert.ok(res.body.data.length > 0 && res.body.data.length <= 100);
  res.body.data.forEach((n) => isNotification(n));
});

test('List Notifications: SEARCH /notifications', async () => {
  const body = '{"query":{"limit":2}}';
  const res = await rawRequest(
    `SEARCH /notifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  assert.equal(res.status, 200, res.text);
  assert.equal(JSON.parse(res.text).data.length, 2);
});

test('Retrieve a notification: GET /notifications/42', async () => {
  const res = await send('GET', '/notifications/42');
  assert.equal(res.status, 200);
  assert.equal(res.body.data.id, 42);
  assert.equal(res.body.data.recipient, SEED_USER);
});

test('Create a Notification: POST /notifications', async () => {
  const res = await send(
    'POST',
    '/notifications',
    `{
	"recipient": "410b5772-e63f-4ae6-9ea2-39c3a31bd6ca",
	"subject": "Hi there!"
}`,
  );
  assert.equal(res.status, 200, res.text);
  isNotification(res.body.data);
  assert.equal(res.body.data.recipient, SEED_USER);
  assert.equal(res.body.data.subject, 'Hi there!');
  assert.equal(res.body.data.status, 'inbox');
});

test('Create Multiple Notifications: POST /notifications with an array', async () => {
  const res = await send(
    'POST',
    '/notifications',
    `[
	{
		"collection": "directus_files",
		"recipient": "410b5772-e63f-4ae6-9ea2-39c3a31bd6ca",
		"message": "Hi there! You should check out these files"
	},
	{
		"collection": "articles",
		"recipient": "410b5772-e63f-4ae6-9ea2-39c3a31bd6ca",
		"message": "Hi there! You should check out these articles"
	}
]`,
  );
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(
    res.body.data.map((n) => [n.collection, n.recipient, n.message, n.subject]),
    [
      ['directus_files', SEED_USER, 'Hi there! You should check out these files', null],
      ['articles', SEED_USER, 'Hi there! You should check out these articles', null],
    ],
  );
});

test('Update a Notification: PATCH /notifications/34', async () => {
  const res = await send('PATCH', '/notifications/34', `{
	"message": "This is my updated notification"
}`);
  assert.equal(res.status, 200, res.text);
  isNotification(res.body.data);
  assert.equal(res.body.data.id, 34);
  assert.equal(res.body.data.message, 'This is my updated notification');
  assert.equal(JSON.parse(sql(`SELECT inbox.get('${SEED_USER}', inbox.public_id(34))`)).body, 'This is my updated notification');
});

test('Update Multiple Notifications: PATCH /notifications with keys and data', async () => {
  const res = await send('PATCH', '/notifications', `{
	"keys": [15, 64],
	"data": {
		"message": "Updated message!"
	}
}`);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(
    res.body.data.map((n) => [n.id, n.message]),
    [
      [15, 'Updated message!'],
      [64, 'Updated message!'],
    ],
  );
});

test('Delete a Notification: DELETE /notifications/34', async () => {
  const res = await send('DELETE', '/notifications/34');
  assert.equal(res.status, 204);
  assert.equal(res.text, '');
  assert.equal((await send('GET', '/notifications/34')).status, 403);
});

test('Delete Multiple Notifications: DELETE /notifications with an array of keys', async () => {
  const res = await send('DELETE', '/notifications', '[15, 251, 810]');
  assert.equal(res.status, 204, res.text);
  assert.equal(res.text, '');
  const left = await send('GET', '/notifications?fields=id&filter[id][_in]=15,251,810,42');
  assert.deepEqual(left.body.data, [{ id: 42 }]);
  assert.equal(sql('SELECT count(*) FROM inbox.notifications WHERE id IN (15, 251, 810) AND deleted_at IS NOT NULL'), '3');
});
