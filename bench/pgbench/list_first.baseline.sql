-- The same page written by hand: newest first, active rows, in the same JSON shape.
\set u random(1, :users)
SELECT pg_catalog.jsonb_build_object('data', coalesce(pg_catalog.jsonb_agg(inbox.to_json(p) ORDER BY p.created_at DESC, p.id DESC), '[]'))
  FROM (SELECT * FROM inbox.notifications n
         WHERE n.user_id = 'user' || :u::text AND n.deleted_at IS NULL
         ORDER BY n.created_at DESC, n.id DESC LIMIT 20) p;
