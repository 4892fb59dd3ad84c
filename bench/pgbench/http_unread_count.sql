-- What GET /api/notifications/unread-count runs, called directly.
\set n random(1, :tokens)
SELECT inbox.rest_unread_count(t.token, '{}') FROM bench.tokens t WHERE t.n = :n;
