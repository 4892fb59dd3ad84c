-- Issue 19: the heavy user's unseen count through the API (the counters before any seen mark;
-- after one, the rows created after it along the newest-first index).
SELECT inbox.unseen_count('heavy');
