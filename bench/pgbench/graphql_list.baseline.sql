-- What GET /notifications?limit=20 (the Directus REST route) runs, called directly: the same
-- rows for the same token.
\set n random(1, :tokens)
SELECT inbox.directus_read(t.token, '{"limit": "20"}') FROM bench.tokens t WHERE t.n = :n;
