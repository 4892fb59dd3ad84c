-- One notification to every regular user through the API, without reading the rows back (as the
-- hand-written INSERT does not): fan_out_objects.ours.sql is the same with the objects returned.
SELECT inbox.fan_out_count(ARRAY(SELECT user_id FROM bench.users ORDER BY user_id),
       '{"type": "warning", "title": "Scheduled maintenance tonight", "body": "The service will be read-only from 22:00 to 22:30 UTC while the database cluster is upgraded.", "data": {"url": "/status/maintenance/2026-01-15", "window": {"start": "22:00", "end": "22:30"}}, "collection": "announcements", "item": "318"}');
