-- The page at depth :offset written by hand with LIMIT/OFFSET, in the same JSON shape.
SELECT pg_catalog.jsonb_build_object('data', coalesce(pg_catalog.jsonb_agg(inbox.to_json(p) ORDER BY p.created_at DESC, p.id DESC), '[]'))
  FROM (SELECT * FROM inbox.notifications n
         WHERE n.user_id = 'heavy' AND n.deleted_at IS NULL
         ORDER BY n.created_at DESC, n.id DESC LIMIT 20 OFFSET :offset) p;
