-- The heavy user's first ungrouped page of Mastodon notifications (40, with their accounts), as
-- GET /api/v1/notifications?limit=40 answers it.
SELECT m.body FROM inbox.mastodon_notifications(:htoken, '{"limit": "40"}', NULL) m;
