-- A realistic nested filter on the heavy user through the API: unread, since November, and either
-- a mention or warning or flagged high priority in its data. "total": false, as the hand-written
-- query counts nothing either (filtered_heavy.total.sql is the same page with the exact total).
SELECT inbox.list('heavy', '{"limit": 20, "total": false, "filter": {"AND": [{"read": {"eq": false}}, {"createdAt": {"gte": "2025-11-01T00:00:00Z"}}, {"OR": [{"type": {"in": ["mention", "warning"]}}, {"data": {"contains": {"priority": "high"}}}]}]}}');
