-- The same rows by hand: one INSERT ... SELECT over the recipients.
INSERT INTO inbox.notifications (user_id, type, title, body, data, collection, item)
SELECT user_id, 'warning', 'Scheduled maintenance tonight',
       'The service will be read-only from 22:00 to 22:30 UTC while the database cluster is upgraded.',
       '{"url": "/status/maintenance/2026-01-15", "window": {"start": "22:00", "end": "22:30"}}',
       'announcements', '318'
  FROM bench.users ORDER BY user_id;
