-- Unread count of the heavy user through the API: one primary-key lookup in the counters.
SELECT inbox.unread_count('heavy');
