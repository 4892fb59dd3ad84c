-- What GET /api/v2/notifications?limit=40 runs, called directly: the route's SQL function with a
-- random token of the same set the wrk script uses.
\set n random(1, :tokens)
SELECT m.body, m.link FROM bench.tokens t, inbox.mastodon_groups(t.token, '{"limit": "40"}', 'http://127.0.0.1') m WHERE t.n = :n;
