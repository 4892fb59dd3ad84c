-- Create one notification and wake a listener with NOTIFY at commit (the design issue 14 did
-- not choose): the same create as create_one.ours.sql, plus pg_notify naming the user.
\set u random(1, :users)
SELECT inbox.create('user' || :u::text, '{"type": "mention", "title": "Sofia Rossi mentioned you in comment #4821", "body": "Could you take a look at the retention policy question before the freeze on Thursday? The logs are attached to the run.", "data": {"url": "/projects/7/comments/4821", "actor": {"id": "user7", "name": "Sofia Rossi"}}, "actorId": "user7", "collection": "comments", "item": "4821"}'), pg_notify('inbox_feed', 'user' || :u::text);
