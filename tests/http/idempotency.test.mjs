// Idempotency-Key on POST /api/notifications: a retry gets the first response and creates
// nothing; the same key with another body is 409; concurrent retries create exactly once.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api, isError, sql, token, unique } from './helpers.mjs';

const user = unique('idem');
let sender;
before(() => {
  sender = token(unique('app'), ['notifications:send']);
});

const count = (title) =>
  Number(sql(`SELECT count(*) FROM inbox.notifications WHERE user_id = '${user}' AND title = '${title}'`));

const post = (key, raw, tok = sender) =>
  api('POST', '/api/notifications', {
    tok, raw, headers: { 'content-type': 'application/json', 'idempotency-key': key },
  });

test('a retry with the same key and body returns the first response and creates nothing', async () => {
  const key = randomUUID();
  const first = await post(key, JSON.stringify({ userId: user, title: 'retry-me' }));
  assert.equal(first.status, 201, first.text);
  const again = await post(key, JSON.stringify({ userId: user, title: 'retry-me' }));
  assert.equal(again.status, 201);
  assert.equal(again.text, first.text);
  // The same JSON with other spacing and key order is the same request.
  const reordered = await post(key, `{ "title" : "retry-me",\n "userId": "${user}" }`);
  assert.equal(reordered.status, 201);
  assert.equal(reordered.text, first.text);
  assert.equal(count('retry-me'), 1);
});

test('the same key with another body is 409 and creates nothing', async () => {
  const key = randomUUID();
  assert.equal((await post(key, JSON.stringify({ userId: user, title: 'one-body' }))).status, 201);
  const other = await post(key, JSON.stringify({ userId: user, title: 'other-body' }));
  isError(assert, other, 409, 'conflict');
  assert.equal(count('other-body'), 0);
});

test('keys belong to the caller: another caller may use the same key', async () => {
  const key = randomUUID();
  const body = JSON.stringify({ userId: user, title: 'per-caller' });
  assert.equal((await post(key, body)).status, 201);
  const otherSender = token(unique('app'), ['notifications:send']);
  const res = await post(key, body, otherSender);
  assert.equal(res.status, 201);
  assert.equal(count('per-caller'), 2);
});

test('a create that failed keeps no key: the corrected retry creates', async () => {
  const key = randomUUID();
  isError(assert, await post(key, JSON.stringify({ userId: user, title: 1 })), 400);
  const fixed = await post(key, JSON.stringify({ userId: user, title: 'fixed-later' }));
  assert.equal(fixed.status, 201, fixed.text);
  assert.equal(count('fixed-later'), 1);
});

test('concurrent retries with one key create exactly once and all get the same answer', async () => {
  for (let round = 0; round < 5; round++) {
    const key = randomUUID();
    const title = `race-${round}`;
    const body = JSON.stringify({ userIds: [user, unique('other')], title });
    const answers = await Promise.all(Array.from({ length: 12 }, () => post(key, body)));
    for (const a of answers) {
      assert.equal(a.status, 201, a.text);
      assert.equal(a.text, answers[0].text);
    }
    assert.equal(count(title), 1);
  }
});

test('without a key, each POST creates', async () => {
  const body = JSON.stringify({ userId: user, title: 'unkeyed' });
  for (let i = 0; i < 3; i++) {
    const res = await api('POST', '/api/notifications', { tok: sender, raw: body, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 201);
  }
  assert.equal(count('unkeyed'), 3);
});
