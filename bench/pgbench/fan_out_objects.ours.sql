-- One notification to every regular user through the API, returning them (a JSON array of one
-- object per recipient).
SELECT inbox.fan_out(ARRAY(SELECT user_id FROM bench.users ORDER BY user_id),
       '{"type": "warning", "title": "Scheduled maintenance tonight", "body": "The service will be read-only from 22:00 to 22:30 UTC while the database cluster is upgraded.", "data": {"url": "/status/maintenance/2026-01-15", "window": {"start": "22:00", "end": "22:30"}}, "collection": "announcements", "item": "318"}');
