// Randomized parser test: mutates valid documents into malformed ones and checks that the
// C++ parser (built standalone with sanitizers, argv[2]) never crashes or hangs, and agrees
// with graphql-js on every document: both accept it, or both reject it with the same message
// at the same line and column.
//
//   node fuzz_parser.mjs PARSE_CHECK_BINARY [COUNT] [SEED]
import { spawnSync } from 'node:child_process';
import { parse } from 'graphql';
import { bases, mutator } from './mutate.mjs';

const [binary, countArg = '4000', seedArg = '20261122'] = process.argv.slice(2);
const count = Number(countArg);

const typeSystemKeywords = ['schema', 'scalar', 'type', 'interface', 'union', 'enum', 'input', 'directive', 'extend'];
const malformed = mutator(seedArg);

// Hostile shapes: deep nesting and many tokens end in a clean error, never a crash.
const hostile = [
  '{ a '.repeat(200) + '}'.repeat(200),
  'query { notifications(filter: ' + '{_and: ['.repeat(300) + ']}'.repeat(300) + ') { id } }',
  'query ($v: ' + '['.repeat(500) + 'Int' + ']'.repeat(500) + ') { __typename }',
  '{ ' + 'a '.repeat(30000) + '}',
  '"'.repeat(100001),
  '{ a(x: "' + '\\u{'.repeat(1000) + '") }',
];

const docs = [];
for (let i = 0; i < count; ++i) docs.push(malformed());
docs.push(...bases);

let passed = 0;
let failed = 0;
const started = Date.now();
const run = spawnSync(binary, [], { input: [...docs, ...hostile].join('\u0000'), maxBuffer: 1 << 28 });
if (run.status !== 0 || run.signal) {
  console.log(`not ok - parser binary exited with ${run.status ?? run.signal}`);
  console.log(run.stderr.toString().slice(0, 4000));
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const lines = run.stdout.toString().split('\n');

for (let i = 0; i < docs.length; ++i) {
  let expected;
  try {
    parse(docs[i]);
    expected = 'ok';
  } catch (e) {
    // Type system definitions parse in graphql-js and fail its validation; this service
    // refuses them at parse time. Both call the document invalid.
    expected = e.locations ? `error ${e.locations[0].line}:${e.locations[0].column} ${e.message.replace(/\n/g, ' ')}` : `error ${e.message}`;
  }
  const got = lines[i];
  if (expected === got || refusedTypeSystem(expected, got, docs[i])) {
    ++passed;
  } else {
    ++failed;
    if (failed <= 20) {
      console.log(`not ok - document ${i}: ${JSON.stringify(docs[i])}`);
      console.log(`  graphql-js: ${expected}`);
      console.log(`  pg_inbox:   ${got}`);
    }
  }
}
// Every hostile document is refused with a syntax error.
for (let i = 0; i < hostile.length; ++i) {
  const got = lines[docs.length + i] ?? '';
  if (got.startsWith('error ') && got.includes('Syntax Error')) ++passed;
  else {
    ++failed;
    console.log(`not ok - hostile document ${i} gave: ${got.slice(0, 200)}`);
  }
}

// graphql-js parses type system definitions (its validation refuses them later); this
// service refuses them when parsing, at their keyword. Both call such a document invalid.
function refusedTypeSystem(expected, got, doc) {
  const m = /^error \d+:\d+ Syntax Error: Unexpected Name "(\w+)"\.$/.exec(got);
  if (!m || !typeSystemKeywords.includes(m[1])) return false;
  if (expected !== 'ok') return true;
  return parse(doc).definitions.some(
    (d) => d.kind !== 'OperationDefinition' && d.kind !== 'FragmentDefinition');
}

console.log(`# ${docs.length + hostile.length} documents in ${Date.now() - started} ms`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
