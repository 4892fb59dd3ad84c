-- What POST /api/notifications runs, called directly with the body the wrk script sends.
\set n random(1, :tokens)
SELECT inbox.rest_create(t.token, ('{"userId": ' || pg_catalog.to_json(t.user_id) || ', ' || b.fields || '}')::jsonb,
                         NULL, '{}')
  FROM bench.tokens t, bench.http_body b WHERE t.n = :n;
