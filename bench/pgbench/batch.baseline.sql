-- The same JSON array inserted by hand in one INSERT ... SELECT, returned in the same shape.
\set base random(0, :users - 1)
INSERT INTO inbox.notifications AS n (user_id, type, title, body, data, actor_id, collection, item)
SELECT e->>'userId', e->>'type', e->>'title', e->>'body', e->'data', e->>'actorId', e->>'collection', e->>'item'
  FROM jsonb_array_elements(bench.batch(:base, :batch, :users)) AS e
RETURNING inbox.to_json(n);
