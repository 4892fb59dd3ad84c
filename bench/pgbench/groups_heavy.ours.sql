-- The heavy user's first page of 20 notification groups through the API (answered from the
-- group summaries that the counter triggers keep).
SELECT inbox.groups('heavy', '{"limit": 20}');
