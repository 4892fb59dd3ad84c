-- The same by hand: one UPDATE returning the row in the same JSON shape.
\set n random(:lo, :hi)
UPDATE inbox.notifications AS n SET read_at = now(), updated_at = now()
  FROM bench.unread_targets t
 WHERE t.ord = :n AND n.user_id = t.user_id AND n.id = t.id
   AND n.read_at IS NULL AND n.deleted_at IS NULL
RETURNING inbox.to_json(n);
