-- The same page by hand: GROUP BY over the user's active rows (a row without a groupKey is a
-- group of its own), newest activity first, then the sample of actors for the 20 groups shown,
-- in the same JSON shape (inbox._group_json).
SELECT pg_catalog.jsonb_build_object('data', coalesce(pg_catalog.jsonb_agg(
         inbox._group_json(g.group_key, g.notifications_count, g.unread_count, g.type, g.latest_at, g.latest_id,
           CASE WHEN g.group_key IS NULL
                THEN (SELECT inbox._actors(m) FROM inbox.notifications m WHERE m.user_id = 'heavy' AND m.id = g.latest_id)
                ELSE (SELECT inbox._sample_actors(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(inbox._actors(m))
                                                                       ORDER BY m.created_at DESC, m.id DESC))
                        FROM inbox.notifications m
                       WHERE m.user_id = 'heavy' AND m.deleted_at IS NULL AND m.group_key = g.group_key) END)
         ORDER BY g.latest_at DESC, g.latest_id DESC), '[]'))
  FROM (SELECT n.group_key, count(*) AS notifications_count,
               count(*) FILTER (WHERE n.read_at IS NULL) AS unread_count,
               (pg_catalog.array_agg(n.type ORDER BY n.created_at DESC, n.id DESC))[1] AS type,
               max(n.created_at) AS latest_at,
               (pg_catalog.array_agg(n.id ORDER BY n.created_at DESC, n.id DESC))[1] AS latest_id
          FROM inbox.notifications n
         WHERE n.user_id = 'heavy' AND n.deleted_at IS NULL
         GROUP BY n.group_key, CASE WHEN n.group_key IS NULL THEN n.id END
         ORDER BY latest_at DESC, latest_id DESC
         LIMIT 20) g;
