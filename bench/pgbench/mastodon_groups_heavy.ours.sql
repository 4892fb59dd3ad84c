-- The heavy user's first page of Mastodon's grouped notifications (40 groups, their accounts and
-- statuses), as GET /api/v2/notifications?limit=40 answers it.
SELECT m.body FROM inbox.mastodon_groups(:htoken, '{"limit": "40"}', NULL) m;
