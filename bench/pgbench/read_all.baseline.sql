-- The same by hand: one UPDATE of the user's unread rows, rolled back likewise.
\set u :client_id + 1
BEGIN;
UPDATE inbox.notifications SET read_at = now(), updated_at = now()
 WHERE user_id = 'readall' || :u::text AND read_at IS NULL AND deleted_at IS NULL;
ROLLBACK;
