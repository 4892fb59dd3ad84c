-- The same number counted by hand from the rows (an index-only scan of the unread index).
SELECT count(*) FROM inbox.notifications
 WHERE user_id = 'heavy' AND read_at IS NULL AND deleted_at IS NULL;
