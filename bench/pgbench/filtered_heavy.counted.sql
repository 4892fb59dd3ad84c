-- The filtered page written by hand plus the count(*) of every matching row: what inbox.list
-- computes for its pageInfo.total when the counters cannot answer (filtered_heavy.total.sql).
SELECT pg_catalog.jsonb_build_object(
         'data', (SELECT coalesce(pg_catalog.jsonb_agg(inbox.to_json(p) ORDER BY p.created_at DESC, p.id DESC), '[]')
                    FROM (SELECT * FROM inbox.notifications n
                           WHERE n.user_id = 'heavy' AND n.deleted_at IS NULL AND n.read_at IS NULL
                             AND n.created_at >= '2025-11-01T00:00:00Z'
                             AND (n.type IN ('mention', 'warning') OR n.data @> '{"priority": "high"}')
                           ORDER BY n.created_at DESC, n.id DESC LIMIT 20) p),
         'total', (SELECT count(*) FROM inbox.notifications n
                    WHERE n.user_id = 'heavy' AND n.deleted_at IS NULL AND n.read_at IS NULL
                      AND n.created_at >= '2025-11-01T00:00:00Z'
                      AND (n.type IN ('mention', 'warning') OR n.data @> '{"priority": "high"}')));
