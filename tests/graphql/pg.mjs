// Runs inbox.graphql() through psql: the route POST /graphql/system forwards a request to
// exactly this call, so until the server serves it the tests talk to the SQL function.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';

// Each test file works in its own database (setUp names it).
export let database = 'pg_inbox_graphql';

export function psql(sql, db = database) {
  const run = spawnSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', db], {
    input: sql,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (run.status !== 0) {
    const error = new Error(run.stderr.trim() || `psql exited with ${run.status}`);
    error.stderr = run.stderr;
    throw error;
  }
  return run.stdout.replace(/\n$/, '');
}

// A dollar-quoted SQL literal whose tag does not occur in the text.
export function literal(text) {
  if (text === null || text === undefined) return 'NULL';
  let tag;
  do tag = `q${randomBytes(6).toString('hex')}`; while (text.includes(tag));
  return `$${tag}$${text}$${tag}$`;
}

function call(query, { variables, operationName, token } = {}) {
  return `SELECT inbox.graphql(${literal(query)}, ` +
    `${variables === undefined ? 'NULL' : literal(JSON.stringify(variables)) + '::jsonb'}, ` +
    `${literal(operationName ?? null)}, ${literal(token ?? null)});\n`;
}

// The GraphQL response (parsed) and its exact text.
export function graphql(query, options = {}) {
  const text = psql(call(query, options));
  return { body: JSON.parse(text), text };
}

// Many requests in one psql session (a response is one line: compact JSON has no newline).
export function graphqlMany(queries, options = {}) {
  if (queries.length === 0) return [];
  const lines = psql(queries.map((q) => call(q, options)).join('')).split('\n');
  assert.equal(lines.length, queries.length);
  return lines.map((text) => ({ body: JSON.parse(text), text }));
}

// A fresh database `name` with the extension, 810 notifications (ids 1..810; odd ids u1's,
// even ids u2's) and a token for each kind of caller.
export function setUp(name) {
  database = name;
  psql(`SET client_min_messages = warning; DROP DATABASE IF EXISTS ${database} WITH (FORCE)`, 'postgres');
  psql(`CREATE DATABASE ${database}`, 'postgres');
  psql(`CREATE EXTENSION pg_inbox;
        SELECT inbox.create_many((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
            'userId', CASE WHEN i % 2 = 1 THEN 'u1' ELSE 'u2' END,
            'title', 'Notification #' || i, 'body', 'Body ' || i,
            'actorId', 'sender', 'collection', 'articles', 'item', i::text) ORDER BY i)
          FROM pg_catalog.generate_series(1, 810) AS i));`);
  const token = (user, scopes) =>
    psql(`SELECT inbox.create_token('${user}', ARRAY[${scopes.map((s) => `'${s}'`).join(', ')}])`);
  return {
    admin: token('root', ['admin']),
    user: token('u1', ['notifications:read', 'notifications:write']),
    sender: token('app', ['notifications:send']),
  };
}
