-- The same number counted by hand: the active, not expired rows created after the seen mark
-- (none yet: every active row), as a developer keeping seen state would count them.
SELECT count(*) FROM inbox.notifications
 WHERE user_id = 'heavy' AND deleted_at IS NULL AND seen_at IS NULL
   AND created_at > coalesce((SELECT seen_before FROM inbox.marks WHERE user_id = 'heavy' AND workspace_key = ''), '-infinity')
   AND (expires_at IS NULL OR expires_at > now());
