// GET /api/notifications: the engine's list through the server, with its query parameters as
// the seed spells them, keyset paging both ways, and the caller's scope.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { api, create, isError, token, unique } from './helpers.mjs';

const alice = unique('lister');
const bob = unique('other');
const t = {};
const ids = [];

before(async () => {
  t.alice = token(alice, ['notifications:read', 'notifications:write']);
  t.aliceW1 = token(alice, ['notifications:read'], 'w1');
  t.bob = token(bob, ['notifications:read']);
  t.sender = token(unique('app'), ['notifications:send']);
  t.admin = token(unique('root'), ['admin']);
  // Created one by one, oldest first: the default order is newest first.
  for (let i = 0; i < 25; i++) {
    const res = await create(t.sender, {
      userId: alice, title: `n${String(i).padStart(2, '0')}`,
      workspaceId: i % 5 === 0 ? 'w1' : 'w2', type: i % 2 ? 'info' : 'warning', data: { i },
    });
    assert.equal(res.status, 201, res.text);
    ids.push(res.body.id);
  }
  await create(t.sender, { userId: bob, title: 'bob only' });
});

const list = (query, tok = t.alice) => api('GET', `/api/notifications${query}`, { tok });
const titles = (res) => res.body.data.map((n) => n.title);
const q = (params) => '?' + new URLSearchParams(params).toString();

test('the default page: newest first, with pageInfo', async () => {
  const res = await list('');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.data.length, 25);
  assert.equal(res.body.data[0].title, 'n24');
  assert.ok(res.body.data.every((n) => n.userId === alice));
  const info = res.body.pageInfo;
  assert.equal(info.total, 25);
  assert.equal(info.hasNextPage, false);
  assert.equal(info.hasPreviousPage, false);
  assert.equal(typeof info.startCursor, 'string');
  assert.equal(typeof info.endCursor, 'string');
});

test('forward to the end and back to the start with after/before: every row once', async () => {
  const seen = [];
  let res = await list(q({ limit: 7 }));
  seen.push(...titles(res));
  while (res.body.pageInfo.hasNextPage) {
    res = await list(q({ limit: 7, after: res.body.pageInfo.endCursor }));
    assert.equal(res.status, 200, res.text);
    seen.push(...titles(res));
  }
  assert.equal(seen.length, 25);
  assert.equal(new Set(seen).size, 25);
  const back = [];
  back.unshift(...titles(res));
  while (res.body.pageInfo.hasPreviousPage) {
    res = await list(q({ limit: 7, before: res.body.pageInfo.startCursor }));
    assert.equal(res.status, 200, res.text);
    back.unshift(...titles(res));
  }
  assert.deepEqual(back, seen);
});

test('shorthands: read, type, workspace_id, ids, include_deleted', async () => {
  await api('PUT', `/api/notifications/${ids[0]}/read`, { tok: t.alice });
  await api('DELETE', `/api/notifications/${ids[1]}`, { tok: t.alice });
  assert.equal((await list(q({ read: 'true' }))).body.pageInfo.total, 1);
  assert.equal((await list(q({ read: 'false' }))).body.pageInfo.total, 23);
  assert.equal((await list(q({ type: 'warning' }))).body.pageInfo.total, 13);
  assert.deepEqual(titles(await list(q({ workspace_id: 'w1' }))), ['n20', 'n15', 'n10', 'n05', 'n00']);
  assert.deepEqual(titles(await list(q({ ids: `${ids[3]},${ids[4]}` }))).sort(), ['n03', 'n04']);
  assert.deepEqual(titles(await list(q({ include_deleted: 'only' }))), ['n01']);
  assert.equal((await list(q({ include_deleted: 'true' }))).body.pageInfo.total, 25);
  // ids narrow within the caller's rows, never widen: bob's id finds nothing.
  const bobs = (await list('', t.bob)).body.data[0].id;
  assert.equal((await list(q({ ids: bobs }))).body.data.length, 0);
});

test('filter and orderBy, JSON-encoded', async () => {
  const res = await list(q({
    filter: JSON.stringify({ OR: [{ title: { in: ['n02', 'n07'] } }, { title: { startsWith: 'n1' } }], NOT: { title: { eq: 'n13' } } }),
    orderBy: JSON.stringify([{ title: 'asc' }]),
    limit: '4',
  }));
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(titles(res), ['n02', 'n07', 'n10', 'n11']);
  assert.equal(res.body.pageInfo.total, 11);
  assert.equal(res.body.pageInfo.hasNextPage, true);
});

test('bad parameters are 400 naming the parameter', async () => {
  const cases = [
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ after: 'not-a-cursor' }, 'after'],
    [{ before: 'AAAA' }, 'before'],
    [{ filter: '{not json' }, 'filter'],
    [{ filter: JSON.stringify({ title: { eq: 1 } }) }, 'filter.title.eq'],
    [{ filter: JSON.stringify({ colour: { eq: 'red' } }) }, 'filter.colour'],
    [{ orderBy: JSON.stringify([{ title: 'sideways' }]) }, 'orderBy'],
    [{ include_deleted: 'maybe' }, 'include_deleted'],
    [{ read: 'yes' }, 'read'],
    [{ ids: 'garbage' }, 'ids'],
    [{ colour: 'red' }, 'colour'],
  ];
  for (const [params, name] of cases) {
    const error = isError(assert, await list(q(params)), 400);
    assert.ok(error.message.startsWith(name), `${JSON.stringify(params)}: ${error.message}`);
  }
  // A cursor from one order used with another order is refused, never a wrong page.
  const first = await list(q({ limit: 3 }));
  const mixed = await list(q({ limit: 3, after: first.body.pageInfo.endCursor, orderBy: JSON.stringify([{ title: 'asc' }]) }));
  isError(assert, mixed, 400);
  // A tampered cursor is refused.
  const cursor = first.body.pageInfo.endCursor;
  const tampered = cursor.slice(0, -2) + (cursor.endsWith('AA') ? 'BB' : 'AA');
  isError(assert, await list(q({ after: tampered })), 400);
  isError(assert, await list('?limit=1&limit=2'), 400, 'bad_request');
});

test('scope: workspace-bound token, other users, admin', async () => {
  const bound = await list('', t.aliceW1);
  assert.equal(bound.status, 200, bound.text);
  assert.ok(bound.body.data.length > 0);
  assert.ok(bound.body.data.every((n) => n.workspaceId === 'w1'));
  isError(assert, await list(q({ workspace_id: 'w2' }), t.aliceW1), 403, 'forbidden');

  const bobs = await list('', t.bob);
  assert.deepEqual(titles(bobs), ['bob only']);
  isError(assert, await list(q({ user_id: alice }), t.bob), 403, 'forbidden');

  const asAdmin = await list(q({ user_id: bob }), t.admin);
  assert.equal(asAdmin.status, 200, asAdmin.text);
  assert.deepEqual(titles(asAdmin), ['bob only']);
  const everyone = await list(q({ filter: JSON.stringify({ userId: { in: [alice, bob] } }), limit: 100 }), t.admin);
  assert.equal(everyone.status, 200, everyone.text);
  assert.deepEqual(new Set(everyone.body.data.map((n) => n.userId)), new Set([alice, bob]));

  isError(assert, await list('', t.sender), 403, 'forbidden');
  isError(assert, await api('GET', '/api/notifications'), 401, 'unauthorized');
});
