-- What GET /api/notifications?limit=20 runs, called directly: the route's SQL function with a
-- random token of the same set the wrk script uses.
\set n random(1, :tokens)
SELECT inbox.rest_list(t.token, '{"limit": "20"}') FROM bench.tokens t WHERE t.n = :n;
