-- The same rows by hand, returned as the same JSON array (inbox.to_json, recipient order).
WITH ins AS (
    INSERT INTO inbox.notifications AS n (user_id, type, title, body, data, collection, item)
    SELECT user_id, 'warning', 'Scheduled maintenance tonight',
           'The service will be read-only from 22:00 to 22:30 UTC while the database cluster is upgraded.',
           '{"url": "/status/maintenance/2026-01-15", "window": {"start": "22:00", "end": "22:30"}}',
           'announcements', '318'
      FROM bench.users ORDER BY user_id
    RETURNING n.*)
SELECT pg_catalog.jsonb_agg(inbox.to_json(ins::inbox.notifications) ORDER BY ins.id) FROM ins;
