-- What PUT /api/notifications/{id}/read runs, called directly (targets :lo..:hi, the half of
-- the HTTP targets wrk does not use).
\set n random(:lo, :hi)
SELECT inbox.rest_mark_read(t.token, t.public_id, '{}') FROM bench.http_targets t WHERE t.ord = :n;
