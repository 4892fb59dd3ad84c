// The Directus 11.3.5 recordings (/work/shared/reference/directus-11.3.5, rest_*): each REST
// request sent again, as the recording's admin, and the answer compared with Directus's.
//
// tests/directus.sh seeded the rows the recordings read (ids 1..30, 777, 5000, 7770..7773,
// 9005, 9010, same subjects, messages, items and statuses), so most answers must be Directus's
// bytes, timestamps aside. Where our data cannot be Directus's (10,000 rows there), the shape
// must be: same keys in the same order, same JSON types. Where pg_inbox answers otherwise on
// purpose, the difference is listed in DEVIATIONS and asserted as it is.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { adminToken, api, isDirectusError, readRecordingRequest, recording, shape } from './helpers.mjs';

const admin = adminToken();
const JSON_TYPE = 'application/json; charset=utf-8';

// Timestamps differ (ours are now, Directus's were then); everything else is compared.
const untimed = (text) => text.replace(/"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/g, '"timestamp":"T"');
const sameShape = (a, b) => assert.equal(JSON.stringify(shape(a)), JSON.stringify(shape(b)));
// The same keys in the same order and the same types, where both values are not null (rows the
// other suites created have null senders and messages).
function sameKeys(a, b, at = 'body') {
  if (a === null || b === null) return;
  assert.equal(Array.isArray(a), Array.isArray(b), at);
  if (Array.isArray(a)) return a.length && b.length && sameKeys(a[0], b[0], `${at}[0]`);
  assert.equal(typeof a, typeof b, at);
  if (typeof a !== 'object') return;
  assert.deepEqual(Object.keys(a), Object.keys(b), at);
  for (const k of Object.keys(a)) sameKeys(a[k], b[k], `${at}.${k}`);
}

async function send(name, method, path, options = {}) {
  const res = await api(method, path, { tok: options.noToken ? undefined : options.tok ?? admin, ...options });
  const ref = recording(name);
  return { res, ref };
}

function exact(res, ref) {
  assert.equal(res.status, ref.status, res.text);
  assert.equal(res.headers.get('content-type'), JSON_TYPE);
  assert.equal(untimed(res.text), untimed(ref.text));
}

const reads = [
  ['rest_list_limit3', '/notifications?limit=3'],
  ['rest_list_limit20', '/notifications?limit=20'],
  ['rest_list_fields_offset', '/notifications?fields=id,subject,status&limit=2&offset=10&sort=id'],
  ['rest_list_search', '/notifications?search=%23777&fields=id,subject&limit=5'],
  ['rest_list_filter_current_user', '/notifications?fields=id,recipient&limit=2&filter[recipient][_eq]=$CURRENT_USER'],
  [
    'rest_list_filter_json',
    '/notifications?fields=id,status&limit=2&filter=' +
      encodeURIComponent('{"_and":[{"status":{"_eq":"archived"}},{"id":{"_gt":9000}}]}'),
  ],
  ['rest_list_deep_recipient', '/notifications?fields=id,recipient.id,recipient.email&limit=2'],
  ['rest_get_by_id', '/notifications/5000'],
  ['rest_get_by_id_fields', '/notifications/5000?fields=id,subject'],
];
for (const [name, path] of reads) {
  test(`${name}: GET ${path} answers Directus's bytes`, async () => {
    const { res, ref } = await send(name, 'GET', path);
    exact(res, ref);
  });
}

test('rest_list_default: the first rows are Directus\'s, each in Directus\'s shape', async () => {
  const { res, ref } = await send('rest_list_default', 'GET', '/notifications');
  assert.equal(res.status, ref.status);
  assert.ok(res.body.data.length <= 100);
  const ours = res.body.data.slice(0, 30).map((n) => untimed(JSON.stringify(n)));
  const theirs = ref.body.data.slice(0, 30).map((n) => untimed(JSON.stringify(n)));
  assert.deepEqual(ours, theirs);
  sameShape(res.body.data.slice(0, 1), ref.body.data.slice(0, 1));
});

test('rest_list_meta: data as Directus\'s, meta with the same keys and types', async () => {
  const { res, ref } = await send('rest_list_meta', 'GET', '/notifications?limit=2&meta=*');
  assert.equal(res.status, ref.status);
  assert.equal(untimed(JSON.stringify(res.body.data)), untimed(JSON.stringify(ref.body.data)));
  sameShape(res.body, ref.body);
});

for (const [name, path] of [
  ['rest_list_inbox_sorted_limit3', '/notifications?limit=3&filter[status][_eq]=inbox&sort=-timestamp'],
  ['rest_list_page', '/notifications?fields=id&limit=3&page=2&sort=-id'],
  ['rest_aggregate_count_by_status', '/notifications?aggregate[count]=*&groupBy[]=status'],
]) {
  test(`${name}: GET ${path} answers in Directus's shape`, async () => {
    const { res, ref } = await send(name, 'GET', path);
    assert.equal(res.status, ref.status, res.text);
    assert.equal(res.headers.get('content-type'), JSON_TYPE);
    assert.ok(res.body.data.length > 0);
    sameKeys(res.body, ref.body);
  });
}

test('rest_aggregate_count_by_status: the groups in Directus\'s order, counts as strings', async () => {
  const { res } = await send('rest_aggregate_count_by_status', 'GET', '/notifications?aggregate[count]=*&groupBy[]=status');
  assert.deepEqual(
    res.body.data.map((g) => g.status),
    ['archived', 'inbox'],
  );
  assert.ok(res.body.data.every((g) => /^\d+$/.test(g.count)));
});

// The write recordings, in their order: ids are ours, mapped onto Directus's for comparison.
test('rest_create_*, rest_update_*, rest_delete_*: the same sequence answers the same', async () => {
  const ids = new Map(); // ours -> Directus's
  const mapped = (text) => untimed(text).replace(/"id":(\d+)/g, (m, id) => `"id":${ids.get(Number(id)) ?? id}`);
  const write = async (name, method, path, { expectIds = [], compare = true } = {}) => {
    const body = readRecordingRequest(name);
    const { res, ref } = await send(name, method, path, body === undefined ? {} : { raw: body, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, ref.status, `${name}: ${res.text}`);
    const created = [res.body?.data].flat().filter(Boolean);
    expectIds.forEach((refId, i) => ids.set(created[i].id, refId));
    if (ref.status === 204) {
      assert.equal(res.text, '');
    } else if (compare) {
      assert.equal(res.headers.get('content-type'), JSON_TYPE);
      assert.equal(mapped(res.text), untimed(ref.text), name);
    }
    return res;
  };
  const ours = (refId) => [...ids].find(([, r]) => r === refId)[0];

  await write('rest_create_one', 'POST', '/notifications', { expectIds: [15325] });
  await write('rest_create_many', 'POST', '/notifications', { expectIds: [15326, 15327, 15328] });
  await write('rest_create_one_fields_id', 'POST', '/notifications?fields=id', { expectIds: [15329] });
  await write('rest_update_one', 'PATCH', `/notifications/${ours(15325)}`);
  const keys = JSON.stringify({ keys: [ours(15326), ours(15327)], data: { status: 'archived' } });
  const res = await api('PATCH', '/notifications', { tok: admin, raw: keys, headers: { 'content-type': 'application/json' } });
  assert.equal(mapped(res.text), untimed(recording('rest_update_many_keys').text));
  const query = { query: { filter: { id: { _in: [ours(15327), ours(15328)] } } }, data: { message: 'updated by query' } };
  const byQuery = await api('PATCH', '/notifications', { tok: admin, body: query });
  assert.equal(mapped(byQuery.text), untimed(recording('rest_update_many_query').text));
  const batch = [
    { id: ours(15326), subject: 'batch A' },
    { id: ours(15328), status: 'inbox', subject: 'batch C' },
  ];
  const batched = await api('PATCH', '/notifications', { tok: admin, body: batch });
  assert.equal(mapped(batched.text), untimed(recording('rest_update_batch').text));
  await write('rest_delete_one', 'DELETE', `/notifications/${ours(15325)}`);
  const array = await api('DELETE', '/notifications', { tok: admin, body: [ours(15326), ours(15327)] });
  assert.equal(array.status, recording('rest_delete_many_array').status);
  assert.equal(array.text, '');
  const keyed = await api('DELETE', '/notifications', { tok: admin, body: { keys: [ours(15328), ours(15329)] } });
  assert.equal(keyed.status, recording('rest_delete_many_keys').status);
  assert.equal(keyed.text, '');
});

// Errors: the same status and code in Directus's envelope.
const errors = [
  ['rest_err_missing_item_get', 'GET', '/notifications/99999999'],
  ['rest_err_get_non_numeric_id', 'GET', '/notifications/abc'],
  ['rest_err_invalid_filter_field', 'GET', '/notifications?filter[nonexistent][_eq]=1'],
  ['rest_err_invalid_filter_op', 'GET', '/notifications?filter[status][_bogus]=inbox'],
  ['rest_err_invalid_filter_json', 'GET', '/notifications?filter=' + encodeURIComponent('{"status":')],
  ['rest_err_invalid_sort_field', 'GET', '/notifications?sort=nonexistent&limit=1'],
  ['rest_err_invalid_limit', 'GET', '/notifications?limit=abc'],
  ['rest_err_invalid_field', 'GET', '/notifications?fields=nonexistent&limit=1'],
  ['rest_err_create_unknown_recipient', 'POST', '/notifications'],
  ['rest_err_create_invalid_json', 'POST', '/notifications'],
  ['rest_err_unauthenticated_list', 'GET', '/notifications?limit=1', { noToken: true }],
  ['rest_err_unauthenticated_get', 'GET', '/notifications/5000', { noToken: true }],
  ['rest_err_unauthenticated_create', 'POST', '/notifications', { noToken: true }],
  ['rest_err_bad_token', 'GET', '/notifications?limit=1', { tok: 'not-a-valid-token' }],
];
for (const [name, method, path, options = {}] of errors) {
  test(`${name}: ${method} ${path} is ${recording(name).status} ${recording(name).body.errors[0].extensions.code}`, async () => {
    const body = readRecordingRequest(name);
    const extra = body === undefined ? {} : { raw: body, headers: { 'content-type': 'application/json' } };
    const { res, ref } = await send(name, method, path, { ...options, ...extra });
    isDirectusError(res, ref.status, ref.body.errors[0].extensions.code);
  });
}

// Where pg_inbox answers otherwise on purpose.
const DEVIATIONS = [
  // Directus answers 204 to an admin changing or deleting an item that does not exist; the
  // issue asks for 403 FORBIDDEN for an item the caller cannot see, whether or not it exists.
  ['rest_err_missing_item_patch', 'PATCH', '/notifications/99999999', 403, 'FORBIDDEN'],
  ['rest_err_missing_item_delete', 'DELETE', '/notifications/99999999', 403, 'FORBIDDEN'],
  // Directus's 500 (its uuid column rejects the text); a recipient that is no user is the
  // client's error: 400 INVALID_FOREIGN_KEY, as Directus answers for an unknown uuid.
  ['rest_err_create_bad_recipient', 'POST', '/notifications', 400, 'INVALID_FOREIGN_KEY'],
];
for (const [name, method, path, status, code] of DEVIATIONS) {
  test(`${name}: ${method} ${path} is ${status} ${code} (Directus: ${recording(name).status})`, async () => {
    const body = readRecordingRequest(name);
    const extra = body === undefined ? {} : { raw: body, headers: { 'content-type': 'application/json' } };
    const { res } = await send(name, method, path, extra);
    isDirectusError(res, status, code);
  });
}

// A subject is optional in pg_inbox (the seeds' own create-many example has none), so Directus's
// FAILED_VALIDATION for a missing subject is a notification here.
test('rest_err_create_missing_subject: created without a subject (Directus: 400 FAILED_VALIDATION)', async () => {
  const { res } = await send('rest_err_create_missing_subject', 'POST', '/notifications', {
    raw: readRecordingRequest('rest_err_create_missing_subject'),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.data.subject, null);
});
