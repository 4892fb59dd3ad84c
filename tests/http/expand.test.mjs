// GET /api/notifications?expand=actor,actors,recipient: the related rows embedded in each
// notification, as Diaspora shows its event_creators (name, avatar) and Mastodon its account.
// The application's users live in a table of this suite's own; relations are registered for the
// suite and dropped after it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, create, isError, sql, token, unique } from './helpers.mjs';

const schema = unique('expand_app').replace('-', '_');
const alice = unique('alice');
const dave = unique('dave'); // a recipient with no row in the users table
const t = {};

const users = {
  [alice]: { id: alice, name: 'Alice Testing', avatar: 'https://example.com/a.jpg' },
  bob: { id: 'bob', name: 'Bob Testing', avatar: 'https://example.com/b.jpg' },
  carol: { id: 'carol', name: 'Carol Testing', avatar: null },
};
const actorRow = (id) => users[id];
const recipientRow = (id) => ({ id, name: users[id].name });

before(async () => {
  const literal = (s) => (s === null ? 'NULL' : `'${s.replace(/'/g, "''")}'`);
  const rows = Object.values(users)
    .map((u) => `(${literal(u.id)}, ${literal(u.name)}, ${literal(u.avatar)}, 'secret@example.com')`)
    .join(', ');
  sql(`CREATE SCHEMA ${schema};
       CREATE TABLE ${schema}.users (id text PRIMARY KEY, name text, avatar text, email text);
       INSERT INTO ${schema}.users VALUES ${rows};
       -- On a Citus cluster (tests/citus.sh) the tables relations name are reference tables.
       DO $do$ BEGIN
         IF EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
           PERFORM create_reference_table('${schema}.users');
         END IF;
       END $do$;
       SELECT inbox.define_relation('actor', 'actorId', '${schema}.users', 'id', ARRAY['id', 'name', 'avatar']::name[]);
       SELECT inbox.define_relation('recipient', 'userId', '${schema}.users', 'id', ARRAY['id', 'name']::name[]);`);
  t.alice = token(alice, ['notifications:read']);
  t.dave = token(dave, ['notifications:read']);
  t.sender = token(unique('app'), ['notifications:send']);
  t.admin = token(unique('root'), ['admin']);
  // Oldest first: a notice without actor, then one like by bob, ghost (no user) and carol,
  // aggregated into one notification whose actors are carol, ghost, bob.
  const made = [
    { userId: alice, title: 'notice' },
    { userId: alice, type: 'liked', title: 'liked', groupKey: 'post:1', actorId: 'bob', aggregate: true },
    { userId: alice, type: 'liked', title: 'liked', groupKey: 'post:1', actorId: 'ghost', aggregate: true },
    { userId: alice, type: 'liked', title: 'liked', groupKey: 'post:1', actorId: 'carol', aggregate: true },
    { userId: dave, title: 'for dave', actorId: 'bob' },
  ];
  for (const n of made) {
    const res = await create(t.sender, n);
    assert.ok(res.status === 201 || res.status === 200, res.text);
  }
});

after(() => {
  sql(`SET client_min_messages = warning;
       SELECT inbox.drop_relation('actor', true), inbox.drop_relation('recipient', true);
       DROP SCHEMA ${schema} CASCADE;`);
});

const list = (query, tok = t.alice) => api('GET', `/api/notifications${query}`, { tok });

test('expand=actor,actors,recipient embeds the related rows', async () => {
  const res = await list('?expand=actor,actors,recipient');
  assert.equal(res.status, 200, res.text);
  const [liked, notice] = res.body.data;
  assert.equal(liked.title, 'liked');
  assert.deepEqual(liked.actors, ['carol', 'ghost', 'bob']);
  assert.deepEqual(liked.expanded, {
    actor: actorRow('carol'),
    // ghost has no row: left out, the others in the actors' order
    actors: [actorRow('carol'), actorRow('bob')],
    recipient: recipientRow(alice),
  });
  assert.equal(notice.title, 'notice');
  assert.deepEqual(notice.expanded, { actor: null, actors: [], recipient: recipientRow(alice) });
  // Only the relation's allowed columns, never the others.
  assert.ok(!res.text.includes('secret@example.com'));
});

test('every other field is exactly the list without expand', async () => {
  const plain = await list('');
  const expanded = await list('?expand=actors');
  assert.equal(plain.status, 200, plain.text);
  assert.equal(expanded.status, 200, expanded.text);
  assert.ok(plain.body.data.every((n) => !('expanded' in n)));
  const stripped = expanded.body.data.map(({ expanded: e, ...rest }) => {
    assert.deepEqual(Object.keys(e), ['actors']);
    return rest;
  });
  assert.deepEqual(stripped, plain.body.data);
  assert.deepEqual(expanded.body.pageInfo.total, plain.body.pageInfo.total);
});

test('expand[]=a&expand[]=b is the comma-separated list', async () => {
  const listed = await list('?expand[]=actor&expand[]=recipient');
  const commas = await list('?expand=actor,recipient');
  assert.equal(listed.status, 200, listed.text);
  assert.deepEqual(listed.body.data.map((n) => n.expanded), commas.body.data.map((n) => n.expanded));
  assert.deepEqual(listed.body.data[0].expanded, { actor: actorRow('carol'), recipient: recipientRow(alice) });
});

test('expand with keyset paging and other params', async () => {
  const first = await list('?limit=1&expand=actor');
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.data[0].expanded.actor.name, 'Carol Testing');
  const next = await list(`?limit=1&expand=actor&after=${encodeURIComponent(first.body.pageInfo.endCursor)}`);
  assert.equal(next.status, 200, next.text);
  assert.equal(next.body.data[0].title, 'notice');
  assert.deepEqual(next.body.data[0].expanded, { actor: null });
  const filtered = await list(`?expand=recipient&filter=${encodeURIComponent('{"actor": {"name": {"startsWith": "Carol"}}}')}`);
  assert.equal(filtered.status, 200, filtered.text);
  assert.deepEqual(filtered.body.data.map((n) => n.expanded), [{ recipient: recipientRow(alice) }]);
});

test('a recipient who is no user, and an admin listing across users', async () => {
  const res = await list('?expand=recipient,actor', t.dave);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.data.map((n) => n.expanded), [{ recipient: null, actor: actorRow('bob') }]);
  const all = await list(`?expand=recipient&filter=${encodeURIComponent(JSON.stringify({ userId: { in: [alice, dave] } }))}`, t.admin);
  assert.equal(all.status, 200, all.text);
  assert.equal(all.body.data.length, 3);
  for (const n of all.body.data)
    assert.deepEqual(n.expanded.recipient, n.userId === alice ? recipientRow(alice) : null);
});

test('unknown, duplicate and empty names are 400 naming expand[i]', async () => {
  let error = isError(assert, await list('?expand=actor,friends'), 400);
  assert.match(error.message, /^expand\[1\]: unknown expansion "friends"/);
  error = isError(assert, await list('?expand=actors,actors'), 400);
  assert.match(error.message, /^expand\[1\]: actors is listed twice/);
  error = isError(assert, await list('?expand='), 400);
  assert.match(error.message, /^expand: expected at least one name/);
  // Grouped notifications do not embed rows.
  error = isError(assert, await list('/groups?expand=actor'), 400);
  assert.match(error.message, /^expand: not supported by inbox.groups/);
});
