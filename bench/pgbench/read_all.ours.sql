-- Read-all for a user with exactly :readall_rows unread (one fixture user per client). Rolled
-- back so that every transaction starts from the same state.
\set u :client_id + 1
BEGIN;
SELECT inbox.mark_all_read('readall' || :u::text);
ROLLBACK;
