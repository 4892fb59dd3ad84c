-- The filtered page of filtered_heavy.ours.sql with the engine's default "total": true: the exact
-- pageInfo.total, a count(*) over every matching row (the counters cannot answer a filter).
SELECT inbox.list('heavy', '{"limit": 20, "filter": {"AND": [{"read": {"eq": false}}, {"createdAt": {"gte": "2025-11-01T00:00:00Z"}}, {"OR": [{"type": {"in": ["mention", "warning"]}}, {"data": {"contains": {"priority": "high"}}}]}]}}');
