-- Mark one unread notification read through the API (a random one of :lo..:hi).
\set n random(:lo, :hi)
SELECT inbox.mark_read(t.user_id, t.public_id) FROM bench.unread_targets t WHERE t.ord = :n;
