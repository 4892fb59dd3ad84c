// Randomized test of inbox.graphql() itself: malformed and hostile documents, and random
// variables, go through PostgreSQL; every one must come back as a GraphQL response (an
// "errors" list, or data) and never as an SQL error or a crashed backend. Runs as an admin,
// so that documents which do execute reach the Directus API; they act on a scratch database.
//
//   node fuzz_sql.mjs [COUNT] [SEED]      (PGHOST, PGPORT, PGUSER from the environment)
import { graphqlMany, setUp } from './pg.mjs';
import { mutator } from './mutate.mjs';

const [countArg = '1500', seedArg = '20261122'] = process.argv.slice(2);
const count = Number(countArg);
const { admin } = setUp('pg_inbox_graphql_fuzz');
const malformed = mutator(seedArg);

const docs = [];
for (let i = 0; i < count; ++i) docs.push(malformed());
docs.push(
  '{ a '.repeat(200) + '}'.repeat(200),
  'query { notifications(filter: ' + '{_and: ['.repeat(300) + ']}'.repeat(300) + ') { id } }',
  '{ ' + '__typename '.repeat(30000) + '}',
  'query { ' + Array.from({ length: 150 }, (_, i) => `a${i}: notifications(limit: -1) { id subject }`).join(' ') + ' }',
);

let passed = 0;
let failed = 0;
const started = Date.now();
// In batches: one psql session each, so a backend that died would show as a failed batch.
for (let at = 0; at < docs.length; at += 250) {
  const batch = docs.slice(at, at + 250);
  let responses;
  try {
    responses = graphqlMany(batch, { token: admin });
  } catch (e) {
    ++failed;
    console.log(`not ok - batch at ${at}: ${e.message.slice(0, 500)}`);
    continue;
  }
  responses.forEach(({ body }, i) => {
    const ok = body && typeof body === 'object' &&
      (Array.isArray(body.errors) ? body.errors.every((e) => typeof e.message === 'string') : 'data' in body);
    if (ok) ++passed;
    else {
      ++failed;
      if (failed <= 20) console.log(`not ok - ${JSON.stringify(batch[i]).slice(0, 300)} gave ${JSON.stringify(body).slice(0, 300)}`);
    }
  });
}
console.log(`# ${docs.length} documents through inbox.graphql() in ${Date.now() - started} ms`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
