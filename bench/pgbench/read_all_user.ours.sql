-- Issue 19: read-all of one fixture user (-D who=...: 100,000 unread, or 10), through the API.
-- Rolled back so that every transaction starts from the same state.
BEGIN;
SELECT inbox.mark_all_read(:who);
ROLLBACK;
