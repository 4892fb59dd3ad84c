-- The first page (20 rows) of a random user's default list through the API.
\set u random(1, :users)
SELECT inbox.list('user' || :u::text, '{"limit": 20}');
