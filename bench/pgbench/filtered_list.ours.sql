-- A realistic nested filter on a random user through the API: unread, since November, and either
-- a mention or warning or flagged high priority in its data; "total": false, as the hand-written
-- query counts nothing either.
\set u random(1, :users)
SELECT inbox.list('user' || :u::text, '{"limit": 20, "total": false, "filter": {"AND": [{"read": {"eq": false}}, {"createdAt": {"gte": "2025-11-01T00:00:00Z"}}, {"OR": [{"type": {"in": ["mention", "warning"]}}, {"data": {"contains": {"priority": "high"}}}]}]}}');
