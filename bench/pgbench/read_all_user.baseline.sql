-- The same read-all by hand: one UPDATE of every unread row of the user, rolled back likewise.
BEGIN;
UPDATE inbox.notifications SET read_at = now(), updated_at = now()
 WHERE user_id = :who AND read_at IS NULL AND deleted_at IS NULL;
ROLLBACK;
